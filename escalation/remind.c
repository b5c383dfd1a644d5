/* remind: the reminder sweep; the design is in remind.h.
 *
 * Every instant comes from clock_now_us() (MADOGUCHI_PINNED_NOW pins it).
 * Calendars are read afresh on every run, so a closure an admin adds today
 * holds for the next reminder. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bizcal.h"
#include "bizcal_db.h"
#include "buf.h"
#include "clock.h"
#include "db.h"
#include "log.h"
#include "mailout.h"
#include "pool.h"
#include "remind.h"

#define REMIND_CALS 64             /* distinct calendars cached in one run */
#define REMIND_RAW_MAX (1u << 20)  /* a reminder is a page of text */
#define REMIND_SINCE (400 * 86400) /* closures older than this cannot move a reminder */
#define JST (9 * 3600)

struct remind_cal {
	int id;
	struct bizcal *cal;
};

struct remind {
	struct db *db;
	struct remind_conf conf; /* conf.body is this module's own copy */
	int ward; /* the ward's calendar id, read each run */
	struct remind_cal cals[REMIND_CALS];
	int ncals;
};

/* the due rows' columns */
enum { RC_ID, RC_TOKEN, RC_TICKET, RC_REMINDERS, RC_CREATED, RC_DNAME, RC_DSECTION, RC_MAIL,
       RC_HEAD, RC_CAL, RC_SUBJECT, RC_FROM_NAME, RC_FROM_ADDR, RC_MSGID, RC_ENV_FROM,
       RC_MAIL_STATE };

static const struct db_stmt remind_stmts[] = {
	{ "remind_ward", "SELECT id FROM calendar WHERE kind = 'ward' ORDER BY id LIMIT 1" },
	{ "remind_plan_claim",
	  "SELECT e.id, floor(extract(epoch FROM e.created_at))::bigint, coalesce(d.calendar_id, 0)"
	  " FROM escalation e JOIN department d ON d.id = e.department_id"
	  " WHERE e.state = 'open' AND NOT e.reminder_planned ORDER BY e.id LIMIT $1"
	  " FOR UPDATE OF e SKIP LOCKED" },
	/* the batch in one statement: ids and instants as arrays (NULL: never) */
	{ "remind_plan_set",
	  "UPDATE escalation e SET reminder_planned = true, next_reminder_at = u.at"
	  " FROM unnest($1::bigint[], $2::timestamptz[]) AS u (id, at)"
	  " WHERE e.id = u.id AND e.state = 'open'" },
	{ "remind_due_claim",
	  "SELECT e.id, e.token, e.ticket_id, e.reminders, floor(extract(epoch FROM e.created_at))"
	  "::bigint, d.name, d.section, array_to_string(d.mail, E'\\n'), coalesce(d.head_mail, ''),"
	  " coalesce(d.calendar_id, 0), m.subject, m.from_name, m.from_addr,"
	  " coalesce(m.message_id_hdr, ''), coalesce(o.env_from, m.from_addr),"
	  " coalesce(o.state, 'sent')"
	  " FROM escalation e JOIN department d ON d.id = e.department_id"
	  " JOIN message m ON m.id = e.message_id"
	  " LEFT JOIN outbound_mail o ON o.message_id = e.message_id"
	  " WHERE e.state = 'open' AND e.next_reminder_at <= $1::timestamptz"
	  " ORDER BY e.next_reminder_at, e.id LIMIT $2 FOR UPDATE OF e SKIP LOCKED" },
	{ "remind_postpone",
	  "UPDATE escalation SET next_reminder_at = $2::timestamptz WHERE id = $1 AND state = 'open'" },
	/* the escalation first: nothing else is written unless it moved on */
	{ "remind_store",
	  "WITH e AS (UPDATE escalation SET reminders = reminders + 1, last_reminder_at = $8,"
	  "   next_reminder_at = $15::timestamptz, head_copied_at = CASE WHEN $16::boolean"
	  "   THEN coalesce(head_copied_at, $8) ELSE head_copied_at END"
	  "  WHERE id = $1 AND state = 'open' AND reminders = $17::int RETURNING id),"
	  " m AS (INSERT INTO message (ticket_id, direction, subject, from_name, from_addr, to_list,"
	  "   cc_list, date_header, message_id_hdr, in_reply_to, references_hdr, body_text,"
	  "   parse_state, created_at, delivery_state)"
	  "  SELECT $2::bigint, 'out', $3::text, $4::text, $5::text, $6::text, $7::text,"
	  "   $8::timestamptz, $9::text, $10::text, $10::text, $11::text, 'ok', $8::timestamptz,"
	  "   'queued' FROM e RETURNING id),"
	  " o AS (INSERT INTO outbound_mail (message_id, ticket_id, kind, env_from, rcpt, raw,"
	  "   not_before, created_by, created_at)"
	  "  SELECT m.id, $2::bigint, 'reminder', $12::text, string_to_array($13::text, E'\\n'),"
	  "   $14::bytea, $8::timestamptz, 'escalationd', $8::timestamptz FROM m RETURNING id),"
	  " v AS (INSERT INTO ticket_event (ticket_id, at, kind, detail)"
	  "  SELECT $2::bigint, $8::timestamptz, 'reminder_queued', $18::text FROM e),"
	  " t AS (UPDATE ticket SET updated_at = $8::timestamptz"
	  "  WHERE id = $2::bigint AND EXISTS (SELECT 1 FROM e))"
	  " SELECT (SELECT id FROM o), pg_notify('ticket_change', json_build_object('id',"
	  "  $2::bigint, 'op', 'update')::text) FROM e" },
	{ "remind_notify", "SELECT pg_notify('outbound', 'reminders')" },
	{ "remind_next_due",
	  "SELECT CASE WHEN EXISTS (SELECT 1 FROM escalation WHERE state = 'open'"
	  "  AND NOT reminder_planned) THEN 0 ELSE greatest(0, floor(extract(epoch FROM"
	  "  min(next_reminder_at) - $1::timestamptz) * 1000))::bigint END"
	  " FROM escalation WHERE state = 'open'" },
	{ NULL, NULL },
};

/* ---- the schedule ---- */

int remind_parse_tod(const char *s)
{
	char *end;
	long h, m;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	h = strtol(s, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9' || end - s > 2)
		return -1;
	if (strlen(end + 1) != 2 || end[2] < '0' || end[2] > '9')
		return -1;
	m = strtol(end + 1, &end, 10);
	if (*end != '\0' || h > 23 || m > 59)
		return -1;
	return (int)(h * 3600 + m * 60);
}

static int64_t remind_open(const struct bizcal *cal, int64_t t)
{
	return t == BIZCAL_NEVER ? t : bizcal_next_open(cal, t);
}

/* reminder_at on the days-th business day after t's date */
static int64_t remind_days_after(const struct bizcal *cal, int64_t t, int days, int tod)
{
	for (int i = 0; i < days && t != BIZCAL_NEVER; i++)
		t = bizcal_next_business_day_at(cal, t, tod);
	return t;
}

int64_t remind_first(const struct bizcal *cal, int64_t sent, const struct remind_conf *c)
{
	if (c->max <= 0)
		return BIZCAL_NEVER;
	return remind_open(cal, remind_days_after(cal, sent, c->first_days, c->at_tod));
}

int64_t remind_next(const struct bizcal *cal, int64_t now, const struct remind_conf *c)
{
	return remind_open(cal, remind_days_after(cal, now, c->every_days, c->at_tod));
}

int64_t remind_at_or_after(const struct bizcal *cal, int64_t t, const struct remind_conf *c)
{
	int32_t day = bizcal_day_of(t);
	int64_t today = bizcal_day_start(day) + c->at_tod;

	if (bizcal_is_business_day(cal, day) && today >= t)
		return remind_open(cal, today);
	return remind_open(cal, bizcal_next_business_day_at(cal, t, c->at_tod));
}

/* business days after sent's date up to now's, counted on cal */
static int remind_business_days(const struct bizcal *cal, int64_t sent, int64_t now)
{
	int n = 0;

	for (int32_t d = bizcal_day_of(sent) + 1, end = bizcal_day_of(now);
	     d <= end && d - bizcal_day_of(sent) <= BIZCAL_HORIZON_DAYS; d++)
		n += bizcal_is_business_day(cal, d);
	return n;
}

/* ---- calendars ---- */

struct remind *remind_new(struct db *db, const struct remind_conf *c)
{
	struct remind *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->db = db;
	r->conf = *c;
	if ((r->conf.body = strdup(c->body ? c->body : "")) == NULL) {
		free(r);
		return NULL;
	}
	db_prepare_all(db, remind_stmts);
	db_prepare_all(db, bizcal_db_stmts);
	return r;
}

static void remind_cals_free(struct remind *r)
{
	for (int i = 0; i < r->ncals; i++)
		bizcal_free(r->cals[i].cal);
	r->ncals = 0;
}

void remind_free(struct remind *r)
{
	if (r == NULL)
		return;
	remind_cals_free(r);
	free(r->conf.body);
	free(r);
}

void remind_configure(struct remind *r, const struct remind_conf *c)
{
	char *body = strdup(c->body ? c->body : "");

	if (body == NULL) {
		log_error("out of memory: the reminders keep their old settings");
		return;
	}
	free(r->conf.body);
	r->conf = *c;
	r->conf.body = body;
}

/* the ward's calendar id, or -1 (logged) */
static int remind_load_ward(struct remind *r)
{
	struct db_res *res = db_query(r->db, "remind_ward", 0, NULL, NULL, NULL, 0);
	int n = res ? db_res_rows(res) : -1;

	r->ward = n == 1 ? (int)db_res_ll(res, 0, 0) : 0;
	db_res_free(res);
	if (n == 0)
		log_error("reminders: there is no calendar of kind 'ward' for departments without one");
	return n == 1 ? 0 : -1;
}

/* calendar id (0: the ward's) of this run, or NULL (logged) */
static const struct bizcal *remind_cal(struct remind *r, int id)
{
	struct bizcal *cal;

	if (id == 0)
		id = r->ward;
	for (int i = 0; i < r->ncals; i++)
		if (r->cals[i].id == id)
			return r->cals[i].cal;
	if (r->ncals == REMIND_CALS)
		remind_cals_free(r);
	if (bizcal_db_load(r->db, id, clock_now_us() / 1000000 - REMIND_SINCE, &cal) < 0) {
		log_error("calendar=%d: cannot be read; its departments get no reminders meanwhile", id);
		return NULL;
	}
	r->cals[r->ncals].id = id;
	r->cals[r->ncals++].cal = cal;
	return cal;
}

static const char *remind_iso(int64_t s, char *b, size_t len)
{
	return s == BIZCAL_NEVER ? NULL : clock_format_iso(s * 1000000, b, len);
}

/* ---- planning ---- */

/* plan a batch of new escalations: how many rows, or -1 */
static int remind_plan(struct remind *r)
{
	char lim[16], at[40];
	const char *v[2] = { lim, NULL };
	struct db_res *res;
	struct buf ids, ats;
	int n;

	snprintf(lim, sizeof(lim), "%d", r->conf.batch);
	if ((res = db_query(r->db, "remind_plan_claim", 1, v, NULL, NULL, 0)) == NULL)
		return -1;
	buf_init(&ids, 1u << 20); /* a batch of at most 10 000 ids and instants */
	buf_init(&ats, 1u << 20);
	n = db_res_rows(res);
	for (int i = 0; i < n; i++) {
		const struct bizcal *cal = remind_cal(r, (int)db_res_ll(res, i, 2));
		const char *t;

		if (cal == NULL) {
			n = -1;
			break;
		}
		t = remind_iso(remind_first(cal, db_res_ll(res, i, 1), &r->conf), at, sizeof(at));
		if (buf_printf(&ids, "%s%s", i ? "," : "{", db_res_val(res, i, 0)) < 0 ||
		    buf_printf(&ats, "%s%s", i ? "," : "{", t ? t : "NULL") < 0)
			log_fatal("out of memory");
	}
	db_res_free(res);
	if (n > 0 && (buf_append_str(&ids, "}") < 0 || buf_append_str(&ats, "}") < 0))
		log_fatal("out of memory");
	v[0] = ids.data;
	v[1] = ats.data;
	if (n > 0 && db_cmd(r->db, "remind_plan_set", 2, v, NULL, NULL) < 0)
		n = -1;
	buf_free(&ids);
	buf_free(&ats);
	return n;
}

/* ---- the mail ---- */

struct remind_job {
	const struct db_res *res;
	int i;
	const struct bizcal *cal;
	int64_t now;     /* seconds */
	int n;           /* this reminder's number */
	int head;        /* Cc the head of section */
	const char *dept, *subject, *body, *to, *rcpt, *detail;
	struct buf raw;
	char msgid[256];
};

static const char *remind_val(const struct remind_job *j, int col)
{
	return db_res_val(j->res, j->i, col);
}

/* "2026年11月20日 15:00" (Tokyo) */
static const char *remind_jst(struct pool *p, int64_t t)
{
	int y, mo, d;
	int64_t local = t + JST;
	int64_t secs = local % 86400;

	bizcal_date(bizcal_day_of(t), &y, &mo, &d);
	return pool_printf(p, "%d年%d月%d日 %02d:%02d", y, mo, d, (int)(secs / 3600),
			   (int)(secs % 3600 / 60));
}

/* the escalation's subject without its token, which goes in front again */
static const char *remind_subject(struct pool *p, const struct remind_job *j)
{
	const char *token = remind_val(j, RC_TOKEN), *s = remind_val(j, RC_SUBJECT);
	const char *tag = pool_printf(p, "[#%s#]", token);

	if (tag != NULL && strncmp(s, tag, strlen(tag)) == 0)
		s += strlen(tag);
	while (*s == ' ')
		s++;
	return pool_printf(p, "[#%s#] 【催促】%s", token, s);
}

/* ---- the text: {{variables}} of templates/reminder/reminder.txt ---- */

static const char *const remind_var_names[] = {
	"department", "centre.name", "escalation.token", "escalation.sent", "ticket.id",
	"reminder.number", "reminder.days", "reminder.business_days", NULL
};
#define REMIND_NVARS 8

/* the index of the variable named by [s, s+n), or -1 */
static int remind_var(const char *s, size_t n)
{
	while (n > 0 && *s == ' ') {
		s++;
		n--;
	}
	while (n > 0 && s[n - 1] == ' ')
		n--;
	for (int i = 0; remind_var_names[i] != NULL; i++)
		if (strlen(remind_var_names[i]) == n && memcmp(remind_var_names[i], s, n) == 0)
			return i;
	return -1;
}

const char *remind_template_check(const char *text, char *buf, size_t len)
{
	for (const char *p = strstr(text, "{{"), *e; p != NULL; p = strstr(e + 2, "{{")) {
		if ((e = strstr(p + 2, "}}")) == NULL)
			return "a {{ without its }}";
		if (remind_var(p + 2, (size_t)(e - p - 2)) < 0) {
			snprintf(buf, len, "unknown variable {{%.*s}}", (int)(e - p - 2 > 60 ? 60 : e - p - 2),
				 p + 2);
			return buf;
		}
	}
	return NULL;
}

/* text with its variables replaced by vals (checked at load: all known) */
static const char *remind_fill(struct pool *p, const char *text, const char *const *vals)
{
	struct buf b;
	const char *out, *s = text;
	int bad = 0;

	buf_init(&b, REMIND_RAW_MAX);
	for (const char *v, *e; (v = strstr(s, "{{")) != NULL && (e = strstr(v + 2, "}}")) != NULL;
	     s = e + 2) {
		int i = remind_var(v + 2, (size_t)(e - v - 2));

		bad |= buf_append(&b, s, (size_t)(v - s)) < 0;
		bad |= buf_append_str(&b, i >= 0 ? vals[i] : "") < 0;
	}
	bad |= buf_append_str(&b, s) < 0;
	out = !bad && b.data != NULL ? pool_strdup(p, b.data) : NULL;
	buf_free(&b);
	return out;
}

/* the body: what was asked, how long ago, how to answer; no contact detail */
static const char *remind_body(struct pool *p, const struct remind_job *j, const char *text)
{
	int64_t sent = db_res_ll(j->res, j->i, RC_CREATED);
	const char *vals[REMIND_NVARS] = {
		j->dept, remind_val(j, RC_FROM_NAME), remind_val(j, RC_TOKEN), remind_jst(p, sent),
		remind_val(j, RC_TICKET), pool_printf(p, "%d", j->n),
		pool_printf(p, "%ld", (long)(bizcal_day_of(j->now) - bizcal_day_of(sent))),
		pool_printf(p, "%d", remind_business_days(j->cal, sent, j->now))
	};

	for (int i = 0; i < REMIND_NVARS; i++)
		if (vals[i] == NULL)
			return NULL;
	return remind_fill(p, text, vals);
}

/* To (", ") and the envelope recipients ("\n") */
static int remind_rcpt(struct pool *p, struct remind_job *j)
{
	const char *mail = remind_val(j, RC_MAIL), *head = remind_val(j, RC_HEAD);
	struct buf to;

	buf_init(&to, 8192);
	for (const char *s = mail, *nl; *s != '\0'; s = nl + 1) {
		nl = strchr(s, '\n');
		buf_printf(&to, "%s%.*s", to.len ? ", " : "", (int)(nl ? nl - s : (long)strlen(s)), s);
		if (nl == NULL)
			break;
	}
	j->to = pool_strdup(p, to.data ? to.data : "");
	buf_free(&to);
	j->rcpt = j->head ? pool_printf(p, "%s\n%s", mail, head) : mail;
	return j->to != NULL && j->rcpt != NULL ? 0 : -1;
}

/* the domain of the escalation's Message-ID, so the reminder's is alike */
static const char *remind_msgid_domain(const struct remind_job *j)
{
	const char *at = strrchr(remind_val(j, RC_MSGID), '@');

	return at != NULL && at[1] != '\0' ? at + 1 : "localhost";
}

/* 0, or -1 with *err */
static int remind_build(struct pool *p, struct remind_job *j, const char *text, const char **err)
{
	struct mailout m;
	const char *msgid = remind_val(j, RC_MSGID);

	memset(&m, 0, sizeof(m));
	if (remind_rcpt(p, j) < 0 || (j->subject = remind_subject(p, j)) == NULL ||
	    (j->body = remind_body(p, j, text)) == NULL) {
		*err = "out of memory";
		return -1;
	}
	m.from_name = remind_val(j, RC_FROM_NAME);
	m.from_addr = remind_val(j, RC_FROM_ADDR);
	m.to = j->to;
	m.cc = j->head ? remind_val(j, RC_HEAD) : NULL;
	m.subject = j->subject;
	m.body = j->body;
	m.in_reply_to = msgid[0] ? msgid : NULL;
	m.message_id_domain = remind_msgid_domain(j);
	m.date_us = j->now * 1000000;
	return mailout_build(p, &m, &j->raw, j->msgid, sizeof(j->msgid), err);
}

/* ---- storing ----
 *
 * A batch's statements go in one pipeline (db.h), inside its transaction:
 * one round trip for the batch, not one per reminder.  What each sent
 * statement was is kept to read its result. */

struct remind_sent {
	long long id;   /* the escalation */
	char token[32];
	int n;          /* the reminder's number; 0: a postponement */
	int head;
};

/* send the store statement of a built job; 0, or -1 */
static int remind_send_store(struct remind *r, struct remind_job *j, int64_t next)
{
	char now[40], nx[40];
	const char *msgid = remind_val(j, RC_MSGID);
	const char *v[18] = {
		remind_val(j, RC_ID), remind_val(j, RC_TICKET), j->subject,
		remind_val(j, RC_FROM_NAME), remind_val(j, RC_FROM_ADDR), j->to,
		j->head ? remind_val(j, RC_HEAD) : "", clock_format_iso(j->now * 1000000, now, sizeof(now)),
		j->msgid, msgid[0] ? msgid : NULL, j->body, remind_val(j, RC_ENV_FROM), j->rcpt,
		j->raw.data, remind_iso(next, nx, sizeof(nx)), j->head ? "t" : "f",
		remind_val(j, RC_REMINDERS), j->detail
	};
	int lens[18] = { 0 }, bin[18] = { 0 };

	lens[13] = (int)j->raw.len;
	bin[13] = 1;
	return db_send(r->db, "remind_store", 18, v, lens, bin);
}

static int remind_send_postpone(struct remind *r, const char *id, int64_t at)
{
	char b[40];
	const char *v[2] = { id, remind_iso(at, b, sizeof(b)) };

	return db_send(r->db, "remind_postpone", 2, v, NULL, NULL);
}

/* one due escalation's statement sent, *s saying which; 0, or -1 */
static int remind_one(struct remind *r, struct pool *p, struct remind_job *j,
		      struct remind_sent *s)
{
	const char *id = remind_val(j, RC_ID), *err = NULL;
	int64_t next;
	int rc;

	if (!bizcal_is_open(j->cal, j->now))
		return remind_send_postpone(r, id, remind_at_or_after(j->cal, j->now, &r->conf));
	/* a reminder of a mail the department never got makes no sense (and
	 * would go where that one could not): wait until it is sent */
	if (strcmp(remind_val(j, RC_MAIL_STATE), "sent") != 0) {
		log_warn("escalation=%s: its mail is %s, not sent: no reminder before it is; looked at "
			 "again at the next reminder time", id, remind_val(j, RC_MAIL_STATE));
		return remind_send_postpone(r, id, remind_next(j->cal, j->now, &r->conf));
	}
	j->n = (int)db_res_ll(j->res, j->i, RC_REMINDERS) + 1;
	if (j->n > r->conf.max) {
		log_info("escalation=%s: %d reminders sent, escalation.reminder_max is %d: no more",
			 id, j->n - 1, r->conf.max);
		return remind_send_postpone(r, id, BIZCAL_NEVER);
	}
	j->head = r->conf.head_after > 0 && j->n >= r->conf.head_after &&
		  remind_val(j, RC_HEAD)[0] != '\0';
	next = j->n >= r->conf.max ? BIZCAL_NEVER : remind_next(j->cal, j->now, &r->conf);
	/* shown on the timeline after 所管課へ催促 */
	j->detail = pool_printf(p, "%s %d回目%s", remind_val(j, RC_TOKEN), j->n,
				j->head ? "（責任者にCc）" : "");
	buf_init(&j->raw, REMIND_RAW_MAX);
	if (remind_build(p, j, r->conf.body, &err) < 0) {
		buf_free(&j->raw);
		log_error("escalation=%s: the reminder cannot be built (%s); tried again at the next "
			  "reminder time", id, err);
		return remind_send_postpone(r, id, remind_next(j->cal, j->now, &r->conf));
	}
	rc = remind_send_store(r, j, next);
	buf_free(&j->raw);
	s->n = j->n;
	s->head = j->head;
	if (rc == 0 && next == BIZCAL_NEVER)
		log_info("escalation=%s: reminder %d is the last (escalation.reminder_max)", id, j->n);
	return rc;
}

/* every row's calendar, read before the pipeline starts; 0, or -1 */
static int remind_due_cals(struct remind *r, const struct db_res *res)
{
	for (int i = 0; i < db_res_rows(res); i++)
		if (remind_cal(r, (int)db_res_ll(res, i, RC_CAL)) == NULL)
			return -1;
	return 0;
}

/* send a statement for each due row; how many were sent, or -1 */
static int remind_due_send(struct remind *r, struct pool *p, const struct db_res *res,
			   struct remind_sent *sent)
{
	int64_t now = clock_now_us() / 1000000;
	int n = db_res_rows(res);

	for (int i = 0; i < n; i++) {
		struct remind_job j;

		memset(&j, 0, sizeof(j));
		j.res = res;
		j.i = i;
		j.now = now;
		j.cal = remind_cal(r, (int)db_res_ll(res, i, RC_CAL));
		j.dept = remind_val(&j, RC_DSECTION)[0]
				 ? pool_printf(p, "%s %s", remind_val(&j, RC_DNAME),
					       remind_val(&j, RC_DSECTION))
				 : remind_val(&j, RC_DNAME);
		sent[i].id = db_res_ll(res, i, RC_ID);
		snprintf(sent[i].token, sizeof(sent[i].token), "%s", remind_val(&j, RC_TOKEN));
		if (remind_one(r, p, &j, &sent[i]) < 0)
			return -1;
		pool_clear(p);
	}
	return n;
}

/* the results of n sent statements, then the notify's; how many stored, or -1 */
static int remind_due_results(struct remind *r, const struct remind_sent *sent, int n)
{
	int stored = 0, bad = 0;

	for (int i = 0; i <= n; i++) {
		struct db_res *res = db_pipeline_result(r->db);

		bad |= res == NULL;
		if (res != NULL && i < n && sent[i].n > 0 && db_res_rows(res) == 1) {
			stored++;
			log_info("escalation=%lld: %s reminder %d queued (out=%s)%s", sent[i].id,
				 sent[i].token, sent[i].n, db_res_val(res, 0, 0),
				 sent[i].head ? ", the head of section in Cc" : "");
		}
		db_res_free(res);
	}
	return db_pipeline_finish(r->db) < 0 || bad ? -1 : stored;
}

/* the due reminders of one batch, in the caller's transaction: how many
 * stored (*claimed: rows looked at), or -1 */
static int remind_due(struct remind *r, struct pool *p, int *claimed)
{
	char now[40], lim[16];
	const char *v[2] = { clock_format_iso(clock_now_us(), now, sizeof(now)), lim };
	struct remind_sent *sent;
	struct db_res *res;
	int n, stored;

	snprintf(lim, sizeof(lim), "%d", r->conf.batch);
	if ((res = db_query(r->db, "remind_due_claim", 2, v, NULL, NULL, 0)) == NULL)
		return -1;
	if ((*claimed = db_res_rows(res)) == 0 || remind_due_cals(r, res) < 0) {
		db_res_free(res);
		return *claimed == 0 ? 0 : -1;
	}
	if ((sent = calloc((size_t)*claimed, sizeof(*sent))) == NULL)
		log_fatal("out of memory");
	if (db_pipeline_begin(r->db) < 0) {
		free(sent);
		db_res_free(res);
		return -1;
	}
	n = remind_due_send(r, p, res, sent);
	/* the outbox of every escalationd wakes when this commits */
	if (n < 0 || db_send(r->db, "remind_notify", 0, NULL, NULL, NULL) < 0 ||
	    db_pipeline_end(r->db) < 0) {
		if (n >= 0)
			db_pipeline_end(r->db);
		db_pipeline_finish(r->db);
		stored = -1;
	} else {
		stored = remind_due_results(r, sent, n);
	}
	free(sent);
	db_res_free(res);
	return stored;
}

/* the end of a transaction: commit when rc is a result, else roll back; rc or -1 */
static int remind_tx(struct remind *r, int rc)
{
	if (rc >= 0 && db_commit(r->db) == 0)
		return rc;
	db_rollback(r->db);
	return -1;
}

int remind_run(struct remind *r, int *more)
{
	struct pool *p;
	int planned, stored, claimed = 0;

	*more = 0;
	remind_cals_free(r);
	if (db_begin(r->db) < 0 || remind_load_ward(r) < 0)
		return remind_tx(r, -1);
	if ((planned = remind_tx(r, remind_plan(r))) < 0)
		return -1;
	if ((p = pool_create(0)) == NULL)
		log_fatal("out of memory");
	stored = remind_tx(r, db_begin(r->db) < 0 ? -1 : remind_due(r, p, &claimed));
	pool_destroy(p);
	*more = stored >= 0 && (planned == r->conf.batch || claimed == r->conf.batch);
	return stored;
}

int64_t remind_next_due_ms(struct remind *r)
{
	char now[40];
	const char *v[1] = { clock_format_iso(clock_now_us(), now, sizeof(now)) };
	struct db_res *res = db_query(r->db, "remind_next_due", 1, v, NULL, NULL, 0);
	int64_t ms = res && db_res_rows(res) == 1 && !db_res_null(res, 0, 0)
			     ? (int64_t)db_res_ll(res, 0, 0)
			     : -1;

	db_res_free(res);
	return ms;
}
