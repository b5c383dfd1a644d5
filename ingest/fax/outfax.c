/* outfax: the queue of replies by fax; see outfax.h for the design.  The
 * state changes themselves are the SQL functions of sql/023 (one statement
 * each, so a claim or a result is all or nothing); this file decides the
 * retry times and drives the dialler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "outfax.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"

const struct config_key outfax_keys[] = {
	{ "fax.out_retry_minutes", CFG_STR, "1,5,15", 0, 0,
	  "replies by fax: minutes before each retry after busy, no answer or failed "
	  "training, comma-separated; the last value repeats for later retries" },
	{ "fax.out_max_attempts", CFG_INT, "4", 1, 20,
	  "replies by fax: dialling attempts before the fax is given up as failed" },
	{ "fax.out_lease_seconds", CFG_INT, "1800", 60, 86400,
	  "replies by fax: how long a claimed fax is held by the instance dialling it; after "
	  "that another instance counts the attempt as lost and dials again" },
	{ "fax.out_max_calls", CFG_INT, "1", 1, 32,
	  "replies by fax: outgoing calls at once (each takes a channel of the line)" },
	{ "fax.out_spool", CFG_PATH, "var/spool/fax-out", 0, 0,
	  "replies by fax: folder for the page files being sent (removed after each call)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

#define ST_CLAIM "outfax_claim"
#define ST_FINISH "outfax_finish"

static const struct db_stmt outfax_stmts[] = {
	{ ST_CLAIM, "SELECT id, ticket_id, number, attempts, pages"
		    " FROM outbound_fax_claim($1, $2::timestamptz, $3::int, $4::int, $5::int)" },
	{ ST_FINISH, "SELECT outbound_fax_finish($1::bigint, $2::int, $3::timestamptz, $4, $5::int,"
		     " $6, $7::int, $8, $9::int, $10::bigint, $11::timestamptz)" },
	{ NULL, NULL },
};

struct outfax {
	struct db *db;
	struct outfax_settings s;
	struct outfax_dialler d;
	int in_flight;
};

static const char *const outcome_names[] = {
	[OUTFAX_OK] = "ok", [OUTFAX_BUSY] = "busy", [OUTFAX_NO_ANSWER] = "no_answer",
	[OUTFAX_NO_FAX] = "no_fax", [OUTFAX_TRAINING] = "training",
	[OUTFAX_INCOMPLETE] = "incomplete", [OUTFAX_UNREACHABLE] = "unreachable",
	[OUTFAX_FAILED] = "failed",
};

const char *outfax_outcome_name(enum outfax_outcome oc)
{
	if ((unsigned)oc >= sizeof outcome_names / sizeof outcome_names[0])
		return "failed";
	return outcome_names[oc];
}

int outfax_parse_retry(const char *list, struct outfax_settings *s)
{
	const char *p = list;

	s->nretry = 0;
	while (*p != '\0') {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno != 0 || v < 0 || v > 24 * 60 || s->nretry == OUTFAX_MAX_RETRY_STEPS)
			return -1;
		s->retry_s[s->nretry++] = (int)v * 60;
		while (*end == ' ')
			end++;
		if (*end == ',')
			end++;
		else if (*end != '\0')
			return -1;
		while (*end == ' ')
			end++;
		p = end;
	}
	return s->nretry > 0 ? 0 : -1;
}

int outfax_settings_load(const struct config *cfg, struct outfax_settings *s, char *err,
			 size_t errlen)
{
	char host[48] = "";

	memset(s, 0, sizeof *s);
	if (outfax_parse_retry(config_str(cfg, "fax.out_retry_minutes"), s) < 0) {
		snprintf(err, errlen, "fax.out_retry_minutes: expected minutes separated by "
			 "commas (at most %d, each at most 1440)", OUTFAX_MAX_RETRY_STEPS);
		return -1;
	}
	s->max_attempts = (int)config_int(cfg, "fax.out_max_attempts");
	s->lease_s = (int)config_int(cfg, "fax.out_lease_seconds");
	s->max_calls = (int)config_int(cfg, "fax.out_max_calls");
	snprintf(s->spool_dir, sizeof s->spool_dir, "%s", config_path(cfg, "fax.out_spool"));
	gethostname(host, sizeof host - 1);
	snprintf(s->instance, sizeof s->instance, "%s:%ld", host, (long)getpid());
	return 0;
}

struct outfax *outfax_new(struct db *db, const struct outfax_settings *s,
			  const struct outfax_dialler *d)
{
	struct outfax *o = calloc(1, sizeof *o);

	if (o == NULL)
		return NULL;
	o->db = db;
	o->s = *s;
	if (d != NULL)
		o->d = *d;
	db_prepare_all(db, outfax_stmts);
	db_prepare_all(db, outfax_spool_stmts);
	return o;
}

void outfax_free(struct outfax *o)
{
	free(o);
}

int outfax_in_flight(const struct outfax *o)
{
	return o->in_flight;
}

int outfax_retry_at(const struct outfax_settings *s, int attempt, enum outfax_outcome oc,
		    int64_t now_us, int64_t *at_us)
{
	int step;

	switch (oc) {
	case OUTFAX_OK:
	case OUTFAX_UNREACHABLE:
		return 0;
	default:
		break;
	}
	if (attempt >= s->max_attempts || s->nretry < 1)
		return 0;
	step = attempt - 1;   /* after attempt 1 comes retry step 0 */
	if (step >= s->nretry)
		step = s->nretry - 1;
	if (step < 0)
		step = 0;
	*at_us = now_us + (int64_t)s->retry_s[step] * 1000000;
	return 1;
}

static int job_from_row(struct db_res *res, int row, struct outfax_job *j)
{
	const char *num = db_res_val(res, row, 2);

	memset(j, 0, sizeof *j);
	j->id = db_res_ll(res, row, 0);
	j->ticket_id = db_res_ll(res, row, 1);
	j->attempt = (int)db_res_ll(res, row, 3);
	j->pages = (int)db_res_ll(res, row, 4);
	if (strlen(num) >= sizeof j->number)
		return -1;
	snprintf(j->number, sizeof j->number, "%s", num);
	return 0;
}

int outfax_claim(struct outfax *o, int64_t now_us, struct outfax_job *jobs, int max)
{
	char now[40], lease[16], maxa[16], lim[16];
	const char *v[5] = { o->s.instance, now, lease, maxa, lim };
	struct db_res *res;
	int i, n = 0;

	clock_format_iso(now_us, now, sizeof now);
	snprintf(lease, sizeof lease, "%d", o->s.lease_s);
	snprintf(maxa, sizeof maxa, "%d", o->s.max_attempts);
	snprintf(lim, sizeof lim, "%d", max);
	res = db_query(o->db, ST_CLAIM, 5, v, NULL, NULL, 0);
	if (res == NULL)
		return -1;
	for (i = 0; i < db_res_rows(res) && n < max; i++) {
		if (job_from_row(res, i, &jobs[n]) < 0) {
			log_error("outfax=%s: number longer than %zu digits", db_res_val(res, i, 0),
				  sizeof jobs[n].number - 1);
			continue;
		}
		n++;
	}
	db_res_free(res);
	return n;
}

int outfax_record(struct outfax *o, const struct outfax_job *job, const struct outfax_result *r,
		  int64_t now_us)
{
	char id[24], att[16], now[40], t30[16], sip[16], pages[16], call[24], retry[40];
	const char *v[11] = { id, att, now, outfax_outcome_name(r->outcome), t30, r->t30_text, sip,
			      r->error, pages, call, NULL };
	int64_t at;
	struct db_res *res;
	int rc;

	snprintf(id, sizeof id, "%lld", (long long)job->id);
	snprintf(att, sizeof att, "%d", job->attempt);
	clock_format_iso(now_us, now, sizeof now);
	snprintf(t30, sizeof t30, "%d", r->t30_code);
	snprintf(sip, sizeof sip, "%d", r->sip_status);
	snprintf(pages, sizeof pages, "%d", r->pages_sent);
	snprintf(call, sizeof call, "%lld", (long long)r->fax_call_id);
	if (r->t30_code < 0)
		v[4] = NULL;
	if (r->sip_status <= 0)
		v[6] = NULL;
	if (r->fax_call_id <= 0)
		v[9] = NULL;
	if (outfax_retry_at(&o->s, job->attempt, r->outcome, now_us, &at))
		v[10] = clock_format_iso(at, retry, sizeof retry);
	res = db_query(o->db, ST_FINISH, 11, v, NULL, NULL, 0);
	if (res == NULL)
		return -1;
	rc = (int)db_res_ll(res, 0, 0);
	db_res_free(res);
	return rc;
}

static void log_result(const struct outfax_job *job, const struct outfax_result *r, int rc)
{
	if (rc == 0)
		log_warn("outfax=%lld: result of attempt %d came after its lease ran out; ignored",
			 (long long)job->id, job->attempt);
	else if (r->outcome == OUTFAX_OK)
		log_info("outfax=%lld: sent, %d pages, attempt %d", (long long)job->id, r->pages_sent,
			 job->attempt);
	else
		log_info("outfax=%lld: attempt %d: %s (SIP %d, T.30 %d) %s", (long long)job->id,
			 job->attempt, outfax_outcome_name(r->outcome), r->sip_status, r->t30_code,
			 r->error);
}

int outfax_done(struct outfax *o, const struct outfax_job *job, const struct outfax_result *r)
{
	int rc = outfax_record(o, job, r, clock_now_us());

	if (o->in_flight > 0)
		o->in_flight--;
	if (job->tiff_path[0] != '\0')
		unlink(job->tiff_path);
	if (rc >= 0)
		log_result(job, r, rc);
	return rc;
}

/* One claimed job: spool its pages, start the call.  A job that cannot
 * start is finished at once with the reason, which schedules its retry. */
static void start_one(struct outfax *o, struct outfax_job *job)
{
	struct outfax_result r;

	memset(&r, 0, sizeof r);
	r.t30_code = -1;
	r.outcome = OUTFAX_FAILED;
	o->in_flight++;
	if (outfax_spool(o->db, job, o->s.spool_dir, r.error, sizeof r.error) < 0) {
		outfax_done(o, job, &r);
		return;
	}
	log_info("outfax=%lld: dialling, attempt %d, %d pages", (long long)job->id, job->attempt,
		 job->pages);
	if (o->d.start == NULL) {
		snprintf(r.error, sizeof r.error, "no dialler configured");
		outfax_done(o, job, &r);
	} else if (o->d.start(o->d.arg, job, &r) < 0) {
		outfax_done(o, job, &r);
	}
}

int outfax_run(struct outfax *o)
{
	struct outfax_job jobs[32];
	int n, i, room = o->s.max_calls - o->in_flight;

	if (room <= 0)
		return 0;
	if (room > 32)
		room = 32;
	n = outfax_claim(o, clock_now_us(), jobs, room);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++)
		start_one(o, &jobs[i]);
	return n;
}
