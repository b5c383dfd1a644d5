/* outfax: ingest-fax's queue of replies to send by fax (sql/023_fax_out.sql).
 *
 * ticketd stores each reply's pages (single-page TIFFs) and an outbound_fax
 * row; this module claims due rows, writes each one's pages to a spool
 * TIFF, hands it to the dialler, and records what the dialler reports.  It
 * never dials itself: the SIP user agent (sipua.c/call.c) plugs in as a
 * struct outfax_dialler, so nothing here blocks and a libre loop drives it.
 *
 *   loop (timer, NOTIFY outbound_fax, or a call ended)
 *     -> outfax_run(o)          claims up to max_calls - in flight, spools
 *                               the pages, calls dialler.start() per row
 *   dialler.start(arg, job)     returns at once: 0 = the call is under way,
 *                               -1 = it could not even start (res filled);
 *                               keeps *job (a copy) until it reports
 *   ... the call runs in the loop ...
 *   outfax_done(o, job, res)    the dialler reports the end of the call,
 *                               from the loop, exactly once per started job
 *
 * Wake-ups (the bus rules of ARCHITECTURE.md): ingest-fax LISTENs on
 * "outbound_fax" (ticketd notifies on each new or approved fax) and calls
 * outfax_run on the notification, on a timer (every 30 s: retries fall due
 * without a notification, and a lost NOTIFY loses nothing), after each
 * outfax_done (a channel came free) and after a reconnect.
 *
 * Retries: busy, no answer, no fax machine, failed training, a call cut
 * short and "could not start" are tried again after the configured delays
 * (fax.out_retry_minutes, "1,5,15": the first retry after 1 min, the
 * next after 5, then 15 for every later one) until out_max_attempts; an
 * unreachable number (SIP 404/484/410/403/603) fails at once.  The final
 * state and the reason go on the ticket's timeline.
 *
 * Exactly-once bookkeeping: a claim leases the row (out_lease_seconds); a
 * daemon that dies mid-call leaves it 'dialling' and, once the lease ran
 * out, any instance's next claim counts that attempt as 'lost' and dials
 * again (or fails it when it was the last).  A result is recorded only for
 * the attempt its claim made (outfax_done returns 0 for a stale one). */
#ifndef MDG_OUTFAX_H
#define MDG_OUTFAX_H

#include <stdint.h>
#include <stddef.h>

#include "config.h"
#include "db.h"

#define OUTFAX_MAX_RETRY_STEPS 8

/* How a call ended, from the dialler's point of view. */
enum outfax_outcome {
	OUTFAX_OK,            /* every page confirmed (T.30 MCF on the last) */
	OUTFAX_BUSY,          /* SIP 486/600 */
	OUTFAX_NO_ANSWER,     /* SIP 408/480/487 or our ring timeout */
	OUTFAX_NO_FAX,        /* answered, but no fax machine (no training within T1) */
	OUTFAX_TRAINING,      /* T.30 failed before the first page */
	OUTFAX_INCOMPLETE,    /* cut after some pages (pages_sent < pages) */
	OUTFAX_UNREACHABLE,   /* SIP 404/410/484/403/603: retrying cannot help */
	OUTFAX_FAILED         /* anything else (our error, 5xx) */
};

struct outfax_result {
	enum outfax_outcome outcome;
	int t30_code;              /* spandsp's T30_ERR_*, -1 when T.30 never ran */
	char t30_text[128];
	int sip_status;            /* final SIP status, 0 when none */
	char error[200];           /* a sentence for the operator, "" when ok */
	int pages_sent;
	int64_t fax_call_id;       /* the fax_call row the UA wrote, 0 when none */
};

/* One claimed attempt. */
struct outfax_job {
	int64_t id;                /* outbound_fax.id */
	int64_t ticket_id;
	int attempt;               /* 1 for the first dial */
	int pages;
	char number[24];           /* digits */
	char tiff_path[512];       /* the spool file: all pages, multi-page TIFF */
};

struct outfax_dialler {
	int (*start)(void *arg, const struct outfax_job *job, struct outfax_result *res);
	void *arg;
};

struct outfax_settings {
	int retry_s[OUTFAX_MAX_RETRY_STEPS];   /* seconds before retry 1, 2, ... */
	int nretry;
	int max_attempts;
	int lease_s;
	int max_calls;             /* calls at once */
	char spool_dir[256];
	char instance[64];         /* claimed_by: host and pid */
};

/* ingest-fax's key table adds this one (NULL-terminated like the others). */
extern const struct config_key outfax_keys[];
/* Settings from a loaded config; -1 with err on a bad retry list. */
int outfax_settings_load(const struct config *cfg, struct outfax_settings *s, char *err,
			 size_t errlen);
/* "1,5,15" (minutes) into retry_s; 0 or -1. */
int outfax_parse_retry(const char *list, struct outfax_settings *s);

struct outfax;
/* The statements go into db (db_prepare_all); the dialler is called from
 * outfax_run only. */
struct outfax *outfax_new(struct db *db, const struct outfax_settings *s,
			  const struct outfax_dialler *d);
void outfax_free(struct outfax *o);
/* Claim and start what is due; number of calls started, or -1 when the
 * database failed (the loop retries on its timer). */
int outfax_run(struct outfax *o);
/* The end of a started job: 1 recorded, 0 stale (lease lost), -1 db. */
int outfax_done(struct outfax *o, const struct outfax_job *job, const struct outfax_result *r);
int outfax_in_flight(const struct outfax *o);

/* The steps, public for the tests and for a synchronous caller:
 * claim due rows (at most max), record one result, and the retry rule. */
int outfax_claim(struct outfax *o, int64_t now_us, struct outfax_job *jobs, int max);
int outfax_record(struct outfax *o, const struct outfax_job *job, const struct outfax_result *r,
		  int64_t now_us);
/* 1 and *at_us when the attempt should be retried, 0 when it is final. */
int outfax_retry_at(const struct outfax_settings *s, int attempt, enum outfax_outcome oc,
		    int64_t now_us, int64_t *at_us);
const char *outfax_outcome_name(enum outfax_outcome oc);

/* outfax_spool.c: write the job's pages from outbound_fax_page into
 * job->tiff_path (a multi-page TIFF).  0 or -1 with err. */
int outfax_spool(struct db *db, struct outfax_job *job, const char *spool_dir, char *err,
		 size_t errlen);
extern const struct db_stmt outfax_spool_stmts[];

#endif
