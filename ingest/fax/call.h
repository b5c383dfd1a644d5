/* call: one fax call over a sipua_call.  It runs the media clock (a 20 ms
 * frame from the monotonic clock, caught up when the loop was late, so
 * T.30 timers never stall), plays RTP out through a small jitter buffer
 * (silence for a packet missing when its turn comes), or moves T.38 IFPs
 * through UDPTL, and feeds one faxdsp session.  It ends on BYE, phase E,
 * or a timeout, and then hands the call's record to its owner.
 *
 * The same module serves ingest-fax (answering, receiving into the spool)
 * and the test tool faxpeer (calling and sending, or answering). */
#ifndef MDG_FAX_CALL_H
#define MDG_FAX_CALL_H
#include <stdint.h>

#include "faxdsp.h"
#include "sipua.h"

struct call;

struct call_opts {
	const char *rx_tiff;       /* receive into this file, or NULL */
	const char *tx_tiff;       /* send this file, or NULL */
	const char *ident;         /* our TSI/CSI */
	int ecm;
	int calling;               /* we placed the call */
	int no_train_ms;           /* end when no DCS came within this time (0: never) */
	int max_call_ms;           /* end the call after this long (0: never) */
	int grace_ms;              /* after phase E, before our BYE (0: 1500 ms) */
	int hangup_after_page;     /* tests: hang up once this page is sent (0: never) */
	int impair;                /* tests: pass our audio through a line model */
	double awgn_dbm0;
	int delay_ms;
	/* the call is over; rec stays valid until call_free() */
	void (*done)(void *arg, struct call *c);
	void *arg;
};

/* What is known of a call when it ends: the sidecar JSON and the
 * fax_call row are made of it. */
struct call_record {
	char id[17];               /* log id: hex of the Call-ID's hash */
	char call_id[SIPUA_ID_MAX];
	char did[SIPUA_NUM_MAX];
	char caller[SIPUA_NUM_MAX];
	enum sipua_media transport;  /* the last media used */
	int64_t started_us, answered_us, ended_us;  /* answered_us 0: never */
	int phase_e;               /* T.30 reached its end */
	int calling;               /* we placed the call (a reply by fax): fax_call direction 'out' */
	struct faxdsp_result fax;
	char end_reason[160];
};

struct call *call_new(const struct call_opts *o, const char *call_id);
void call_free(struct call *c);
/* the SIP side, once known (answered: at once; dialled: after sipua_dial) */
void call_attach(struct call *c, struct sipua_call *sc);
/* incoming calls: what the INVITE said */
void call_set_info(struct call *c, const struct sipua_info *info);
const struct call_record *call_record(const struct call *c);
/* "ok", "incomplete", "failed" or "no_fax" (sql/021's fax_call.result) */
const char *call_result(const struct call_record *r);
const char *call_transport(enum sipua_media m);
/* the hex id of a Call-ID (16 characters) */
void call_hash_id(const char *call_id, char out[17]);
/* end the call now (shutdown); done() is called */
void call_hangup(struct call *c, const char *reason);

/* the sipua handlers for calls whose carg is a struct call */
extern const struct sipua_call_handlers call_handlers;

#endif
