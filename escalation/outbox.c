/* outbox: claim, send, record; the design is in outbox.h.
 *
 * Every instant written to the database is clock_now_us() (pinnable by
 * MADOGUCHI_PINNED_NOW), never the server's now().
 *
 * The envelope comes from ticketd, but is checked here before it goes into
 * an SMTP command line: an address with a space, a bracket or a line break
 * would change the command.  rcpt is read as one text (array_to_string
 * with a line feed, which no valid address holds) next to its cardinality:
 * a NULL element or a line feed inside an address makes the counts differ,
 * and such a row is dead with the reason, never sent half. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "retry.h"
#include "settings.h"
#include "smtp.h"

/* the outcome statement's parameters */
enum { OV_ID, OV_STATE, OV_NOT_BEFORE, OV_LAST_ERROR, OV_REPLY, OV_SENT_AT, OV_DSTATE, OV_DNOTE,
       OV_EVENT, OV_DETAIL, OV_NOW, OV_N };

struct outbox_outcome {
	int release; /* put back unsent: OV_ID, OV_NOW and attempts only */
	int attempts;
	char *v[OV_N];
};

struct outbox_row {
	long long id;
	char *from;
	char *rcpt_text; /* split in place into rcpt[] */
	const char **rcpt;
	size_t nrcpt;
	long cardinality;
	int attempts; /* counting this one */
	long age_s;   /* since queued or requeued */
};

struct outbox_conn {
	struct smtp *smtp;
	int failed; /* could not connect in this batch: the rest fail alike */
	struct smtp_result open_res;
	int64_t start_ms;
};

struct outbox {
	struct db *db;
	struct settings set;
	struct outbox_outcome *pending;
	size_t npending, cap;
};

static const struct db_stmt outbox_stmts[] = {
	{ "outbox_claim",
	  "WITH c AS (SELECT id FROM outbound_mail WHERE state = 'queued' AND not_before <= $1"
	  "  ORDER BY not_before, id LIMIT $2 FOR UPDATE SKIP LOCKED)"
	  " UPDATE outbound_mail o SET attempts = o.attempts + 1, not_before = $3"
	  " FROM c WHERE o.id = c.id"
	  " RETURNING o.id, o.env_from, array_to_string(o.rcpt, E'\\n'),"
	  "  coalesce(cardinality(o.rcpt), 0), o.attempts,"
	  "  floor(extract(epoch FROM $1::timestamptz - coalesce(o.requeued_at, o.created_at)))"
	  "  ::bigint" },
	{ "outbox_raw", "SELECT raw FROM outbound_mail WHERE id = $1" },
	{ "outbox_done",
	  "WITH o AS (UPDATE outbound_mail SET state = $2,"
	  "   not_before = coalesce($3::timestamptz, not_before),"
	  "   last_error = coalesce($4, last_error), smtp_reply = $5, sent_at = $6::timestamptz"
	  "  WHERE id = $1 AND state = 'queued' RETURNING message_id, ticket_id),"
	  " m AS (UPDATE message SET delivery_state = $7, delivery_note = $8"
	  "  WHERE id = (SELECT message_id FROM o)),"
	  " e AS (INSERT INTO ticket_event (ticket_id, at, kind, detail)"
	  "  SELECT ticket_id, $11, $9, $10 FROM o WHERE $9::text IS NOT NULL),"
	  " t AS (UPDATE ticket SET updated_at = $11 WHERE id = (SELECT ticket_id FROM o))"
	  " SELECT pg_notify('ticket_change', json_build_object('id', ticket_id, 'op', 'update')"
	  "  ::text) FROM o" },
	{ "outbox_release",
	  "UPDATE outbound_mail SET not_before = $2, attempts = attempts - 1"
	  " WHERE id = $1 AND state = 'queued' AND attempts = $3" },
	{ "outbox_next_due",
	  "SELECT floor(extract(epoch FROM min(not_before) - $1::timestamptz) * 1000)::bigint"
	  " FROM outbound_mail WHERE state = 'queued'" },
	{ NULL, NULL },
};

static char *outbox_iso(int64_t us)
{
	char b[40];

	return strdup(clock_format_iso(us, b, sizeof(b)));
}

static char *outbox_ll(long long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", v);
	return strdup(b);
}

static void outbox_outcome_free(struct outbox_outcome *oc)
{
	for (int i = 0; i < OV_N; i++)
		free(oc->v[i]);
	memset(oc, 0, sizeof(*oc));
}

struct outbox *outbox_new(struct db *db, const struct settings *s)
{
	struct outbox *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->db = db;
	o->set = *s;
	db_prepare_all(db, outbox_stmts);
	return o;
}

void outbox_free(struct outbox *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->npending; i++)
		outbox_outcome_free(&o->pending[i]);
	if (o->npending > 0)
		log_warn("stopping with %zu outcomes not recorded; those mails are sent again when "
			 "their lease runs out", o->npending);
	free(o->pending);
	settings_free(&o->set);
	free(o);
}

void outbox_configure(struct outbox *o, struct settings *s)
{
	settings_free(&o->set);
	o->set = *s;
}

int outbox_pending(const struct outbox *o)
{
	return o->npending > 0;
}

/* run one outcome's statement; 0, or -1 when the database failed */
static int outbox_exec(struct outbox *o, const struct outbox_outcome *oc)
{
	char att[16];
	const char *rv[3] = { oc->v[OV_ID], oc->v[OV_NOW], att };
	struct db_res *r;
	int rows;

	if (oc->release) {
		snprintf(att, sizeof(att), "%d", oc->attempts);
		return db_cmd(o->db, "outbox_release", 3, rv, NULL, NULL) < 0 ? -1 : 0;
	}
	r = db_query(o->db, "outbox_done", OV_N, (const char *const *)oc->v, NULL, NULL, 0);
	if (r == NULL)
		return -1;
	rows = db_res_rows(r);
	db_res_free(r);
	if (rows == 0)
		log_warn("out=%s: the row was no longer queued; its outcome (%s) is not recorded",
			 oc->v[OV_ID], oc->v[OV_STATE]);
	return 0;
}

/* record now, or keep for later (the outbox owns oc's strings either way) */
static void outbox_commit(struct outbox *o, struct outbox_outcome *oc)
{
	if (o->npending == 0 && outbox_exec(o, oc) == 0) {
		outbox_outcome_free(oc);
		return;
	}
	if (o->npending == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 16;
		struct outbox_outcome *p = realloc(o->pending, cap * sizeof(*p));

		if (p == NULL)
			log_fatal("out of memory keeping an outcome for the database");
		o->pending = p;
		o->cap = cap;
	}
	if (o->npending == 0 && !oc->release)
		log_warn("out=%s: the database is away; the outcome (%s) waits in memory",
			 oc->v[OV_ID], oc->v[OV_STATE]);
	o->pending[o->npending++] = *oc;
	memset(oc, 0, sizeof(*oc));
}

/* commit what waits, in order; 0 when nothing is left */
static int outbox_flush(struct outbox *o)
{
	size_t done = 0;

	while (done < o->npending && outbox_exec(o, &o->pending[done]) == 0) {
		outbox_outcome_free(&o->pending[done]);
		done++;
	}
	if (done > 0) {
		memmove(o->pending, o->pending + done, (o->npending - done) * sizeof(*o->pending));
		o->npending -= done;
		log_info("recorded %zu outcomes kept while the database was away", done);
	}
	return o->npending > 0 ? -1 : 0;
}

static void outbox_rows_free(struct outbox_row *rows, int n)
{
	for (int i = 0; i < n; i++) {
		free(rows[i].from);
		free(rows[i].rcpt_text);
		free(rows[i].rcpt);
	}
	free(rows);
}

/* rcpt_text split at line feeds into rcpt[] */
static int outbox_split(struct outbox_row *r)
{
	size_t n = 1;

	for (const char *p = r->rcpt_text; *p != '\0'; p++)
		n += *p == '\n';
	r->rcpt = calloc(n, sizeof(*r->rcpt));
	if (r->rcpt == NULL)
		return -1;
	r->nrcpt = 0;
	for (char *p = r->rcpt_text, *nl;; p = nl + 1) {
		r->rcpt[r->nrcpt++] = p;
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
	}
	if (r->rcpt_text[0] == '\0')
		r->nrcpt = 0;
	return 0;
}

static int outbox_row(const struct db_res *res, int i, struct outbox_row *r)
{
	r->id = db_res_ll(res, i, 0);
	r->from = strdup(db_res_val(res, i, 1));
	r->rcpt_text = strdup(db_res_null(res, i, 2) ? "" : db_res_val(res, i, 2));
	r->cardinality = (long)db_res_ll(res, i, 3);
	r->attempts = (int)db_res_ll(res, i, 4);
	r->age_s = (long)db_res_ll(res, i, 5);
	if (r->from == NULL || r->rcpt_text == NULL)
		return -1;
	return outbox_split(r);
}

static int outbox_row_cmp(const void *a, const void *b)
{
	const struct outbox_row *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* claim due rows into *rows; their number, or -1 */
static int outbox_claim(struct outbox *o, struct outbox_row **rows)
{
	int64_t now = clock_now_us();
	char t_now[40], t_lease[40], lim[16];
	const char *v[3] = { clock_format_iso(now, t_now, sizeof(t_now)), lim,
			     clock_format_iso(now + o->set.lease_s * 1000000, t_lease,
					      sizeof(t_lease)) };
	struct db_res *res;
	int n;

	snprintf(lim, sizeof(lim), "%d", o->set.batch);
	if ((res = db_query(o->db, "outbox_claim", 3, v, NULL, NULL, 0)) == NULL)
		return -1;
	n = db_res_rows(res);
	*rows = n > 0 ? calloc((size_t)n, sizeof(**rows)) : NULL;
	if (n > 0 && *rows == NULL)
		log_fatal("out of memory claiming %d mails", n);
	for (int i = 0; i < n; i++)
		if (outbox_row(res, i, &(*rows)[i]) < 0)
			log_fatal("out of memory claiming %d mails", n);
	db_res_free(res);
	if (n > 1)
		qsort(*rows, (size_t)n, sizeof(**rows), outbox_row_cmp);
	return n;
}

/* NULL when the envelope may go into SMTP commands, else why not */
static const char *outbox_envelope(const struct outbox_row *r)
{
	if (r->from[0] != '\0' && !smtp_address_ok(r->from))
		return "the envelope sender is not a valid address";
	if (r->cardinality == 0)
		return "the mail has no recipient";
	if ((long)r->nrcpt != r->cardinality)
		return "a recipient is empty (NULL) or holds a line break";
	for (size_t i = 0; i < r->nrcpt; i++)
		if (r->rcpt[i][0] == '\0' || !smtp_address_ok(r->rcpt[i]))
			return "a recipient is not a valid address";
	return NULL;
}

static void outbox_put_back(struct outbox *o, const struct outbox_row *r)
{
	struct outbox_outcome oc = { 0 };

	oc.release = 1;
	oc.attempts = r->attempts;
	oc.v[OV_ID] = outbox_ll(r->id);
	oc.v[OV_NOW] = outbox_iso(clock_now_us());
	if (oc.v[OV_ID] == NULL || oc.v[OV_NOW] == NULL)
		log_fatal("out of memory");
	outbox_commit(o, &oc);
}

static void outbox_set(struct outbox_outcome *oc, int i, const char *s)
{
	if (s != NULL && (oc->v[i] = strdup(s)) == NULL)
		log_fatal("out of memory");
}

static void outbox_sent(struct outbox_outcome *oc, const struct outbox_row *r,
			const struct smtp_result *res, const char *note)
{
	char detail[SMTP_TEXT_MAX + RETRY_NOTE_MAX + 72]; /* reply; note */

	outbox_set(oc, OV_STATE, "sent");
	outbox_set(oc, OV_REPLY, res->text);
	outbox_set(oc, OV_SENT_AT, oc->v[OV_NOW]);
	outbox_set(oc, OV_DSTATE, "sent");
	outbox_set(oc, OV_DNOTE, note[0] ? note : NULL);
	outbox_set(oc, OV_EVENT, "mail_sent");
	snprintf(detail, sizeof(detail), "%s%s%s", res->text, note[0] ? "; " : "", note);
	outbox_set(oc, OV_DETAIL, detail);
	if (note[0])
		log_warn("out=%lld: sent: %s; %s", r->id, res->text, note);
	else
		log_info("out=%lld: sent to %zu recipient%s: %s", r->id, r->nrcpt,
			 r->nrcpt == 1 ? "" : "s", res->text);
}

static void outbox_again(struct outbox *o, struct outbox_outcome *oc, const struct outbox_row *r,
			 int64_t now, const char *note)
{
	long delay = retry_delay_s(&o->set.retry, r->attempts, (unsigned)random());
	char *nb = outbox_iso(now + (int64_t)delay * 1000000);

	if (nb == NULL)
		log_fatal("out of memory");
	outbox_set(oc, OV_STATE, "queued");
	oc->v[OV_NOT_BEFORE] = nb;
	outbox_set(oc, OV_LAST_ERROR, note);
	outbox_set(oc, OV_DSTATE, "queued");
	outbox_set(oc, OV_DNOTE, note);
	/* the timeline hears of the first failure only, not of every retry */
	outbox_set(oc, OV_EVENT, r->attempts == 1 ? "mail_retry" : NULL);
	outbox_set(oc, OV_DETAIL, note);
	log_warn("out=%lld: attempt %d failed, next in %ld s: %s", r->id, r->attempts, delay, note);
}

static void outbox_dead(struct outbox_outcome *oc, const struct outbox_row *r, const char *note)
{
	outbox_set(oc, OV_STATE, "dead");
	outbox_set(oc, OV_LAST_ERROR, note);
	outbox_set(oc, OV_DSTATE, "failed");
	outbox_set(oc, OV_DNOTE, note);
	outbox_set(oc, OV_EVENT, "mail_dead");
	outbox_set(oc, OV_DETAIL, note);
	log_error("out=%lld: dead after %d attempt%s: %s", r->id, r->attempts,
		  r->attempts == 1 ? "" : "s", note);
}

static void outbox_record(struct outbox *o, const struct outbox_row *r,
			  const struct smtp_result *res, const struct retry_outcome *out)
{
	int64_t now = clock_now_us();
	struct outbox_outcome oc = { 0 };
	char note[RETRY_NOTE_MAX + 64];
	enum retry_verdict v = out->verdict;

	snprintf(note, sizeof(note), "%s", out->note);
	if (v == RETRY_AGAIN && retry_give_up(&o->set.retry, r->attempts, r->age_s)) {
		v = RETRY_DEAD;
		snprintf(note, sizeof(note), "gave up after %d attempts in %ld h; last error: %s",
			 r->attempts, r->age_s / 3600, out->note);
	}
	oc.v[OV_ID] = outbox_ll(r->id);
	oc.v[OV_NOW] = outbox_iso(now);
	if (oc.v[OV_ID] == NULL || oc.v[OV_NOW] == NULL)
		log_fatal("out of memory");
	if (v == RETRY_SENT)
		outbox_sent(&oc, r, res, note);
	else if (v == RETRY_AGAIN)
		outbox_again(o, &oc, r, now, note);
	else
		outbox_dead(&oc, r, note);
	outbox_commit(o, &oc);
}

/* the batch's connection, opened on first use; 0 when there is one */
static int outbox_connect(struct outbox *o, struct outbox_conn *c)
{
	struct smtp_opts opts;

	if (c->smtp != NULL)
		return 0;
	if (c->failed)
		return -1;
	settings_smtp_opts(&o->set, &opts);
	memset(&c->open_res, 0, sizeof(c->open_res));
	c->smtp = smtp_open(&opts, &c->open_res);
	if (c->smtp != NULL)
		return 0;
	c->failed = 1;
	if (c->open_res.stage == SMTP_STAGE_TLS && c->open_res.peer_sha256[0] != '\0')
		log_error("smtp: %s; nothing was sent over it (to trust exactly this certificate, "
			  "set escalation.smtp_pin_sha256 = %s)", c->open_res.text,
			  c->open_res.peer_sha256);
	else
		log_error("smtp: %s", c->open_res.text);
	return -1;
}

/* the result of sending one row's mail over the batch's connection */
static void outbox_transmit(struct outbox *o, struct outbox_conn *c, const struct outbox_row *r,
			    const char *raw, size_t len, struct smtp_result *res)
{
	struct smtp_rcpt_reply *keep = res->rcpt;

	if (outbox_connect(o, c) < 0) {
		*res = c->open_res;
		res->rcpt = keep;
		res->nrcpt = r->nrcpt;
		return;
	}
	if (smtp_send(c->smtp, r->from, r->rcpt, r->nrcpt, raw, len, res) < 0) {
		smtp_close(c->smtp, 0);
		c->smtp = NULL; /* the next mail of the batch connects afresh */
	}
}

static void outbox_one(struct outbox *o, struct outbox_conn *c, const struct outbox_row *r)
{
	const char *bad = outbox_envelope(r);
	const char *id[1];
	char idtext[32];
	struct smtp_result res = { 0 };
	struct retry_outcome out;
	struct db_res *raw = NULL;

	if (bad != NULL) {
		out.verdict = RETRY_DEAD;
		snprintf(out.note, sizeof(out.note), "not sent: %s", bad);
		outbox_record(o, r, &res, &out);
		return;
	}
	snprintf(idtext, sizeof(idtext), "%lld", r->id);
	id[0] = idtext;
	raw = db_query(o->db, "outbox_raw", 1, id, NULL, NULL, 1);
	if (raw == NULL || db_res_rows(raw) != 1) {
		db_res_free(raw);
		outbox_put_back(o, r);
		return;
	}
	res.rcpt = calloc(r->nrcpt, sizeof(*res.rcpt));
	if (res.rcpt == NULL)
		log_fatal("out of memory");
	res.nrcpt = r->nrcpt;
	outbox_transmit(o, c, r, db_res_val(raw, 0, 0), (size_t)db_res_len(raw, 0, 0), &res);
	db_res_free(raw);
	retry_classify(&res, r->rcpt, &out);
	outbox_record(o, r, &res, &out);
	free(res.rcpt);
}

/* would a mail started now outlast the batch's lease? (pessimistic: every
 * command waits its whole timeout) */
static int outbox_lease_short(const struct outbox *o, const struct outbox_conn *c,
			      const struct outbox_row *r)
{
	int64_t spent_s = (clock_mono_ms() - c->start_ms) / 1000;

	return spent_s + (int64_t)(5 + r->nrcpt) * o->set.timeout_s > o->set.lease_s;
}

int outbox_run(struct outbox *o)
{
	struct outbox_conn c = { 0 };
	struct outbox_row *rows = NULL;
	int n;

	if (outbox_flush(o) < 0)
		return -1;
	if ((n = outbox_claim(o, &rows)) <= 0)
		return n;
	c.start_ms = clock_mono_ms();
	for (int i = 0; i < n; i++) {
		/* the first mail always goes: the lease was checked against
		 * the timeout when the settings were loaded */
		if (o->npending > 0 || (i > 0 && outbox_lease_short(o, &c, &rows[i])))
			outbox_put_back(o, &rows[i]);
		else
			outbox_one(o, &c, &rows[i]);
	}
	smtp_close(c.smtp, 1);
	outbox_rows_free(rows, n);
	return o->npending > 0 ? -1 : n;
}

int64_t outbox_next_due_ms(struct outbox *o)
{
	char now[40];
	const char *v[1] = { clock_format_iso(clock_now_us(), now, sizeof(now)) };
	struct db_res *r = db_query(o->db, "outbox_next_due", 1, v, NULL, NULL, 0);
	int64_t ms = -1;

	if (r == NULL)
		return -1;
	if (db_res_rows(r) == 1 && !db_res_null(r, 0, 0))
		ms = db_res_ll(r, 0, 0) < 0 ? 0 : db_res_ll(r, 0, 0);
	db_res_free(r);
	return ms;
}
