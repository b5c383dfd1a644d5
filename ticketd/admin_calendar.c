/* admin_calendar: business calendars and SLA policies for the admin
 * pages (admin_calendar.h).
 *
 * Every value is checked here first, with a message naming the field; the
 * write then goes through one of sql/024's functions, which write the rows
 * and their audit row together.  After the write, still inside the
 * transaction, each calendar the change touches is read back through
 * lib/bizcal_db as ticketd/sla.c will read it: a change bizcal would refuse
 * (more intervals a day than it holds, say) is rolled back, so the SLA
 * clock never meets a calendar it cannot load.  bizcal_db's statements are
 * registered by sla.c on the same connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_calendar.h"
#include "api.h"
#include "bizcal.h"
#include "bizcal_db.h"
#include "buf.h"
#include "clock.h"
#include "db.h"
#include "holidays.h"
#include "http.h"
#include "log.h"
#include "pool.h"

#define AC_INTERVALS_MAX 8     /* a day's intervals: bizcal's BIZCAL_DAY_MAX */
#define AC_OPENINGS_MAX 400    /* extra openings of one calendar */
#define AC_ANNUAL_MAX 16       /* annual closures in all: bizcal's BIZCAL_ANNUAL_MAX */
#define AC_REASON_MAX 200      /* characters */
#define AC_QUEUE_MAX 100
#define AC_TARGET_MAX (366 * 86400)
#define AC_PARSE_POOL (16 * 1024 * 1024)

#define AC_TOKYO(x) "to_char((" x ") AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI')"
#define AC_CAL_DOC                                                                        \
	"json_build_object('id', c.id, 'name', c.name, 'kind', c.kind, 'hours',             \
	 calendar_hours_json(c.id), 'openings', calendar_openings_json(c.id), 'departments',     \
	 calendar_departments_json(c.id))"
#define AC_ANNUAL_DOC                                                                     \
	"json_build_object('id', a.id, 'calendar_id', a.calendar_id, 'from',                 \
	 to_char(a.from_month, 'FM00') || '-' || to_char(a.from_day, 'FM00'), 'to',          \
	 to_char(a.to_month, 'FM00') || '-' || to_char(a.to_day, 'FM00'), 'reason', a.reason)"
#define AC_CLOSURE_DOC                                                                    \
	"json_build_object('id', x.id, 'calendar_id', x.calendar_id, 'starts_at', " AC_TOKYO( \
		"x.starts_at") ", 'ends_at', " AC_TOKYO("x.ends_at") ", 'from_day',          \
	 to_char(x.starts_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD'), 'to_day',             \
	 to_char((x.ends_at - interval '1 microsecond') AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD'), \
	 'whole_days', (x.starts_at AT TIME ZONE 'Asia/Tokyo')::time = '00:00'                \
	  AND (x.ends_at AT TIME ZONE 'Asia/Tokyo')::time = '00:00', 'reason', x.reason)"
#define AC_POLICY_DOC                                                                     \
	"json_build_object('id', s.id, 'queue', s.queue, 'channel', s.channel, 'clock',       \
	 s.clock, 'mode', s.mode, 'target_seconds', s.target_seconds, 'warning_seconds',      \
	 s.warning_seconds, 'pause_when_waiting_citizen', s.pause_when_waiting_citizen,       \
	 'calendar_id', s.calendar_id)"

static const struct db_stmt ac_stmts[] = {
	{ "ac_list",
	  "SELECT json_build_object("
	  " 'calendars', (SELECT coalesce(json_agg(" AC_CAL_DOC " ORDER BY c.id), '[]')"
	  "  FROM calendar c),"
	  " 'annual_closures', (SELECT coalesce(json_agg(" AC_ANNUAL_DOC " ORDER BY a.id), '[]')"
	  "  FROM calendar_annual_closure a),"
	  " 'closures', (SELECT coalesce(json_agg(" AC_CLOSURE_DOC " ORDER BY x.starts_at, x.id),"
	  "  '[]') FROM calendar_closure x))::text" },
	{ "ac_calendar", "SELECT " AC_CAL_DOC "::text FROM calendar c WHERE c.id = $1::int" },
	{ "ac_calendar_ids", "SELECT id FROM calendar WHERE $1::int IS NULL OR id = $1::int" },
	{ "ac_annual", "SELECT " AC_ANNUAL_DOC "::text FROM calendar_annual_closure a"
		       " WHERE a.id = $1::int" },
	{ "ac_annual_count", "SELECT count(*) FROM calendar_annual_closure" },
	{ "ac_closure", "SELECT " AC_CLOSURE_DOC "::text FROM calendar_closure x WHERE x.id = $1::int" },
	{ "ac_policy", "SELECT " AC_POLICY_DOC "::text FROM sla_policy s WHERE s.id = $1::int" },
	{ "ac_policies", "SELECT coalesce(json_agg(" AC_POLICY_DOC " ORDER BY s.id), '[]')::text"
			 " FROM sla_policy s" },
	{ "ac_policy_taken",
	  "SELECT 1 FROM sla_policy WHERE coalesce(queue, '') = coalesce($1, '')"
	  " AND coalesce(channel, '') = coalesce($2, '') AND clock = $3"
	  " AND id IS DISTINCT FROM $4::int" },
	{ "ac_holidays",
	  "SELECT coalesce(json_agg(json_build_object('day', to_char(day, 'YYYY-MM-DD'), 'name', name,"
	  " 'source', source) ORDER BY day), '[]')::text FROM holiday"
	  " WHERE day BETWEEN make_date($1::int, 1, 1) AND make_date($1::int, 12, 31)" },
	{ "ac_calendar_taken", "SELECT 1 FROM calendar WHERE name = $1 AND id IS DISTINCT FROM $2::int" },
	{ "ac_w_calendar", "SELECT calendar_admin_calendar($1, $2, $3::int, $4)" },
	{ "ac_w_departments", "SELECT calendar_admin_departments($1, $2, $3::int, $4::int[])" },
	{ "ac_w_hours", "SELECT calendar_admin_hours($1, $2, $3::int, $4::jsonb)" },
	{ "ac_w_openings", "SELECT calendar_admin_openings($1, $2, $3::int, $4::jsonb)" },
	{ "ac_w_annual", "SELECT calendar_admin_annual($1, $2, $3::int, $4::jsonb)" },
	{ "ac_w_closure", "SELECT calendar_admin_closure($1, $2, $3::int, $4::jsonb)" },
	{ "ac_w_policy", "SELECT calendar_admin_policy($1, $2, $3::int, $4::jsonb)" },
	{ "ac_w_holiday", "SELECT calendar_admin_holiday($1, $2, $3::date, $4)" },
	{ "ac_w_import",
	  "INSERT INTO calendar_audit (at, actor, entity, entity_id, action, after)"
	  " VALUES ($1, $2, 'holiday_import', $3, 'import', $4::jsonb)" },
	{ "ac_audit",
	  "SELECT coalesce(json_agg(json_build_object('id', id, 'at', at, 'actor', actor, 'entity',"
	  " entity, 'entity_id', entity_id, 'action', action, 'before', before, 'after', after)"
	  " ORDER BY at DESC, id DESC), '[]')::text"
	  " FROM (SELECT * FROM calendar_audit ORDER BY at DESC, id DESC LIMIT 200) l" },
	{ NULL, NULL },
};

void admin_calendar_prepare(struct db *db)
{
	db_prepare_all(db, ac_stmts);
	db_prepare_all(db, holidays_stmts);
}

/* ---- answering ---- */

/* a statement whose one row is one JSON text: 200 with it, 404, or 503 */
static void ac_answer_doc(struct api_call *c, const char *stmt, int n, const char *const *v,
			  int status, const char *key)
{
	struct db_res *r = db_query(c->db, stmt, n, v, NULL, NULL, 0);
	json_t *doc;

	if (r == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (db_res_rows(r) == 0 || db_res_null(r, 0, 0)) {
		db_res_free(r);
		api_error(c, 404, "not found");
		return;
	}
	doc = json_loads(db_res_val(r, 0, 0), JSON_DECODE_ANY, NULL);
	db_res_free(r);
	if (doc == NULL) {
		api_error(c, 500, "bad document");
		return;
	}
	api_json(c, status, key ? json_pack("{s:o}", key, doc) : doc);
}

static const char *ac_id(struct api_call *c, int k)
{
	return pool_printf(c->req->pool, "%lld", c->id[k]);
}

void admin_calendar_list(struct api_call *c)
{
	ac_answer_doc(c, "ac_list", 0, NULL, 200, NULL);
}

void admin_calendar_policies(struct api_call *c)
{
	ac_answer_doc(c, "ac_policies", 0, NULL, 200, "policies");
}

void admin_calendar_audit(struct api_call *c)
{
	ac_answer_doc(c, "ac_audit", 0, NULL, 200, "audit");
}

/* ---- values ---- */

/* "HH:MM", 00:00 to 24:00, into seconds after midnight */
static int ac_time(const json_t *x, int *secs)
{
	const char *s = json_string_value(x);
	int h, m;

	if (s == NULL || strlen(s) != 5 || s[2] != ':')
		return -1;
	for (int i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return -1;
	*secs = h * 3600 + m * 60;
	return 0;
}

/* "YYYY-MM-DD" (len 10) at s, a real date from 2000 to 2199 */
static int ac_ymd(const char *s, int *y, int *m, int *d)
{
	for (int i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return -1;
	*y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	*m = (s[5] - '0') * 10 + (s[6] - '0');
	*d = (s[8] - '0') * 10 + (s[9] - '0');
	return *y >= 2000 && *y < 2200 && bizcal_valid_date(*y, *m, *d) ? 0 : -1;
}

static int ac_date(const json_t *x, int32_t *day)
{
	const char *s = json_string_value(x);
	int y, m, d;

	if (s == NULL || strlen(s) != 10 || ac_ymd(s, &y, &m, &d) < 0)
		return -1;
	*day = bizcal_day(y, m, d);
	return 0;
}

/* "YYYY-MM-DD" (*whole = 1, the day's start) or "YYYY-MM-DD HH:MM" (or
 * with a T) in Tokyo time */
static int ac_when(const char *s, int64_t *t, int *whole)
{
	int y, m, d, secs;
	size_t n = s ? strlen(s) : 0;
	json_t *hm;

	if ((n != 10 && n != 16) || ac_ymd(s, &y, &m, &d) < 0)
		return -1;
	*whole = n == 10;
	*t = bizcal_day_start(bizcal_day(y, m, d));
	if (n == 10)
		return 0;
	if (s[10] != ' ' && s[10] != 'T')
		return -1;
	hm = json_string(s + 11);
	if (ac_time(hm, &secs) < 0 || secs >= 86400) {
		json_decref(hm);
		return -1;
	}
	json_decref(hm);
	*t += secs;
	return 0;
}

/* Tokyo wall time of t as "YYYY-MM-DD HH:MM:SS" (the pool), or NULL for never */
static const char *ac_local(struct pool *p, int64_t t)
{
	int y, m, d;
	int64_t s;

	if (t == BIZCAL_NEVER)
		return NULL;
	bizcal_date(bizcal_day_of(t), &y, &m, &d);
	s = t - bizcal_day_start(bizcal_day_of(t));
	return pool_printf(p, "%04d-%02d-%02d %02d:%02d:%02d", y, m, d, (int)(s / 3600),
			   (int)(s / 60 % 60), (int)(s % 60));
}

/* t as the instant PostgreSQL reads back exactly */
static const char *ac_instant(struct pool *p, int64_t t)
{
	const char *l = ac_local(p, t);

	return l ? pool_printf(p, "%s+09", l) : NULL;
}

/* a text: empty_ok or not, at most max characters, no control characters */
static const char *ac_text(const json_t *x, size_t max, int empty_ok)
{
	const char *s = json_string_value(x);
	size_t chars = 0;

	if (s == NULL)
		return "must be a string";
	if (!empty_ok && s[0] == '\0')
		return "must not be empty";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return "must not contain control characters";
		chars += (*p & 0xc0) != 0x80;
	}
	return chars > max ? "is too long" : NULL;
}

/* only these keys (and "id", ignored: a row as read may be sent back) */
static const char *ac_keys(struct pool *p, json_t *body, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach(body, k, v) {
		int known = strcmp(k, "id") == 0;

		for (const char *const *q = keys; *q != NULL && !known; q++)
			known = strcmp(k, *q) == 0;
		if (!known)
			return pool_printf(p, "%.40s: unknown field", k);
	}
	return NULL;
}

/* ---- writing ---- */

/* 0 when every calendar the change touches (cal: one id; NULL: all) still
 * loads into bizcal, else -1 */
static int ac_loads(struct api_call *c, const char *cal)
{
	struct db_res *r = db_query(c->db, "ac_calendar_ids", 1, &cal, NULL, NULL, 0);
	int ok = r != NULL ? 0 : -1;

	for (int i = 0; r != NULL && ok == 0 && i < db_res_rows(r); i++) {
		struct bizcal *bc = NULL;

		ok = bizcal_db_load(c->db, (int)db_res_ll(r, i, 0), 0, &bc);
		bizcal_free(bc);
	}
	db_res_free(r);
	return ok;
}

/* One of sql/024's functions with v[2], v[3] (v[0], v[1] are set here:
 * the admin and now), then the calendar check, in one transaction.  Its
 * result (a pool string, "" for NULL), or NULL after answering. */
static const char *ac_write(struct api_call *c, const char *stmt, const char **v, const char *cal,
			    int check)
{
	struct db_res *r;
	const char *out;

	v[0] = c->session->login;
	v[1] = api_now_iso(c, 0);
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return NULL;
	}
	r = db_query(c->db, stmt, 4, v, NULL, NULL, 0);
	out = r && db_res_rows(r) == 1 ? pool_strdup(c->req->pool, db_res_val(r, 0, 0)) : NULL;
	db_res_free(r);
	if (out != NULL && check && ac_loads(c, cal) < 0) {
		db_rollback(c->db);
		api_error(c, 400, "the calendar would not load with this change (bizcal holds at most 8"
				  " intervals a day and 16 annual closures); nothing was changed");
		return NULL;
	}
	if (out == NULL || db_commit(c->db) < 0) {
		db_rollback(c->db);
		api_error(c, 503, "database unavailable");
		return NULL;
	}
	/* "hours=1: changed by ad1", "policy=new: changed by ad1" */
	log_info("%s=%s: changed by %s", stmt + 5, v[2] ? v[2] : "new", c->session->login);
	return out;
}

/* ---- weekly hours and extra openings ---- */

struct ac_iv {
	int32_t group; /* the weekday or the day */
	int opens, closes;
	size_t idx;
};

static int ac_iv_cmp(const void *a, const void *b)
{
	const struct ac_iv *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->opens < y->opens ? -1 : x->opens > y->opens;
}

/* one item of hours (weekday) or openings (day, reason) into *iv and norm */
static const char *ac_interval(struct pool *p, const char *key, size_t i, json_t *x, int dated,
			       struct ac_iv *iv, json_t *norm)
{
	const char *k, *why;
	json_t *v, *o, *c, *g = json_object_get(x, dated ? "day" : "weekday");

	if (!json_is_object(x))
		return pool_printf(p, "%s[%zu]: must be an object", key, i);
	json_object_foreach(x, k, v)
		if (strcmp(k, dated ? "day" : "weekday") != 0 && strcmp(k, "opens") != 0 &&
		    strcmp(k, "closes") != 0 && (!dated || strcmp(k, "reason") != 0))
			return pool_printf(p, "%s[%zu].%.40s: unknown field", key, i, k);
	if (dated && ac_date(g, &iv->group) < 0)
		return pool_printf(p, "%s[%zu].day: not a real date YYYY-MM-DD", key, i);
	if (!dated && (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > 6))
		return pool_printf(p, "%s[%zu].weekday: 0 (Sunday) to 6 (Saturday)", key, i);
	if (!dated)
		iv->group = (int32_t)json_integer_value(g);
	o = json_object_get(x, "opens");
	c = json_object_get(x, "closes");
	if (ac_time(o, &iv->opens) < 0 || iv->opens == 86400)
		return pool_printf(p, "%s[%zu].opens: not a time HH:MM (00:00-23:59)", key, i);
	if (ac_time(c, &iv->closes) < 0)
		return pool_printf(p, "%s[%zu].closes: not a time HH:MM (00:00-24:00)", key, i);
	if (iv->closes <= iv->opens)
		return pool_printf(p, "%s[%zu].closes: must be later than opens", key, i);
	v = json_object_get(x, "reason");
	if (dated && v != NULL && (why = ac_text(v, AC_REASON_MAX, 1)) != NULL)
		return pool_printf(p, "%s[%zu].reason: %s", key, i, why);
	iv->idx = i;
	json_array_append_new(norm, json_pack("{s:O, s:O, s:O, s:s}", dated ? "day" : "weekday", g,
					      "opens", o, "closes", c, "reason",
					      v ? json_string_value(v) : ""));
	return NULL;
}

/* the whole list checked: no overlap, at most 8 a day; norm built */
static const char *ac_intervals(struct pool *p, const char *key, json_t *arr, int dated,
				json_t *norm)
{
	size_t n = json_array_size(arr), i, per = 1;
	struct ac_iv *iv;
	const char *why;
	json_t *x;

	if (!json_is_array(arr))
		return pool_printf(p, "%s: must be a list", key);
	if (n > (dated ? AC_OPENINGS_MAX : 7 * AC_INTERVALS_MAX))
		return pool_printf(p, "%s: too many intervals", key);
	if (n == 0)
		return NULL;
	if ((iv = pool_alloc(p, n * sizeof(*iv))) == NULL)
		return "out of memory";
	json_array_foreach(arr, i, x)
		if ((why = ac_interval(p, key, i, x, dated, &iv[i], norm)) != NULL)
			return why;
	qsort(iv, n, sizeof(*iv), ac_iv_cmp);
	for (i = 1; i < n; i++) {
		per = iv[i].group == iv[i - 1].group ? per + 1 : 1;
		if (iv[i].group == iv[i - 1].group && iv[i].opens < iv[i - 1].closes)
			return pool_printf(p, "%s[%zu]: overlaps %s[%zu] on the same day", key,
					   iv[i].idx, key, iv[i - 1].idx);
		if (per > AC_INTERVALS_MAX)
			return pool_printf(p, "%s[%zu]: more than 8 intervals on one day", key,
					   iv[i].idx);
	}
	return NULL;
}

static const char *ac_dump(struct pool *p, const json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
	const char *r = s ? pool_strdup(p, s) : NULL;

	free(s);
	return r;
}

static void ac_replace(struct api_call *c, const char *key, int dated, const char *stmt)
{
	json_t *body = api_body_object(c), *norm = json_array();
	const char *v[4] = { NULL, NULL, ac_id(c, 0), NULL }, *why = NULL, *res;

	if (body == NULL) {
		json_decref(norm);
		return;
	}
	if (json_object_get(body, key) == NULL || json_object_size(body) != 1)
		why = pool_printf(c->req->pool, "%s: the list is required, and nothing else", key);
	else
		why = ac_intervals(c->req->pool, key, json_object_get(body, key), dated, norm);
	if (why == NULL)
		v[3] = ac_dump(c->req->pool, norm);
	json_decref(norm);
	json_decref(body);
	if (why != NULL) {
		api_error(c, 400, why);
		return;
	}
	if ((res = ac_write(c, stmt, v, v[2], 1)) == NULL)
		return;
	if (strcmp(res, "t") != 0)
		api_error(c, 404, "no such calendar");
	else
		ac_answer_doc(c, "ac_calendar", 1, v + 2, 200, NULL);
}

void admin_calendar_hours(struct api_call *c)
{
	ac_replace(c, "hours", 0, "ac_w_hours");
}

void admin_calendar_openings(struct api_call *c)
{
	ac_replace(c, "openings", 1, "ac_w_openings");
}

/* ---- the calendars themselves: a department's added, renamed, removed ---- */

/* body {"name"}: the name in the pool, or NULL after answering 400/409/503 */
static const char *ac_calendar_name(struct api_call *c, const char *id)
{
	static const char *const keys[] = { "name", NULL };
	json_t *body = api_body_object(c);
	const char *why = NULL, *name = NULL, *v[2];
	struct db_res *r;

	if (body == NULL)
		return NULL;
	if ((why = ac_keys(c->req->pool, body, keys)) == NULL &&
	    (why = ac_text(json_object_get(body, "name"), 60, 0)) != NULL)
		why = pool_printf(c->req->pool, "name: %s", why);
	if (why == NULL)
		name = pool_strdup(c->req->pool, json_string_value(json_object_get(body, "name")));
	json_decref(body);
	if (why != NULL) {
		api_error(c, 400, why);
		return NULL;
	}
	v[0] = name;
	v[1] = id;
	if ((r = db_query(c->db, "ac_calendar_taken", 2, v, NULL, NULL, 0)) == NULL ||
	    db_res_rows(r) > 0) {
		api_error(c, r ? 409 : 503, r ? "name: a calendar of that name exists"
					      : "database unavailable");
		name = NULL;
	}
	db_res_free(r);
	return name;
}

void admin_calendar_create(struct api_call *c)
{
	const char *v[4] = { NULL, NULL, NULL, ac_calendar_name(c, NULL) }, *res;

	if (v[3] != NULL && (res = ac_write(c, "ac_w_calendar", v, NULL, 0)) != NULL)
		ac_answer_doc(c, "ac_calendar", 1, &res, 201, NULL);
}

void admin_calendar_rename(struct api_call *c)
{
	const char *v[4] = { NULL, NULL, ac_id(c, 0), NULL }, *res;

	if ((v[3] = ac_calendar_name(c, v[2])) == NULL ||
	    (res = ac_write(c, "ac_w_calendar", v, NULL, 0)) == NULL)
		return;
	if (strcmp(res, "none") == 0)
		api_error(c, 404, "no such calendar");
	else
		ac_answer_doc(c, "ac_calendar", 1, &res, 200, NULL);
}

void admin_calendar_delete(struct api_call *c)
{
	const char *v[4] = { NULL, NULL, ac_id(c, 0), NULL }, *res;

	if ((res = ac_write(c, "ac_w_calendar", v, NULL, 0)) == NULL)
		return;
	if (strcmp(res, "deleted") == 0)
		http_reply(c->req, 204, NULL, "", 0);
	else if (strcmp(res, "not_department") == 0)
		api_error(c, 409, "only a department's calendar can be removed");
	else if (strcmp(res, "in_use") == 0)
		api_error(c, 409, "an SLA policy counts on this calendar");
	else
		api_error(c, 404, "no such calendar");
}

/* {"department_ids":[...]}: the departments whose hours this calendar is */
void admin_calendar_departments(struct api_call *c)
{
	json_t *body = api_body_object(c), *ids, *x;
	const char *v[4] = { NULL, NULL, ac_id(c, 0), NULL }, *res;
	struct buf b;
	size_t i;

	if (body == NULL)
		return;
	ids = json_object_get(body, "department_ids");
	buf_init(&b, 16 * 1024);
	buf_append_str(&b, "{");
	json_array_foreach(ids, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) <= 0 ||
		    json_integer_value(x) > 2147483647 || i >= 1000)
			break;
		buf_printf(&b, "%s%lld", i ? "," : "", (long long)json_integer_value(x));
	}
	if (buf_append_str(&b, "}") == 0 && json_is_array(ids) && i == json_array_size(ids) &&
	    json_object_size(body) == 1)
		v[3] = pool_strdup(c->req->pool, b.data);
	buf_free(&b);
	json_decref(body);
	if (v[3] == NULL) {
		api_error(c, 400, "department_ids: a list of departments' ids, and nothing else");
		return;
	}
	if ((res = ac_write(c, "ac_w_departments", v, NULL, 0)) == NULL)
		return;
	if (strcmp(res, "t") != 0)
		api_error(c, 404, "no such calendar, or no such department");
	else
		ac_answer_doc(c, "ac_calendar", 1, v + 2, 200, NULL);
}

/* ---- annual and one-off closures ---- */

/* calendar_id: null (every calendar) or an existing one; *cal its id
 * text or NULL.  NULL, or why */
static const char *ac_calendar_field(struct api_call *c, const json_t *x, const char **cal)
{
	struct db_res *r;
	int rows;

	*cal = NULL;
	if (x == NULL || json_is_null(x))
		return NULL;
	if (!json_is_integer(x) || json_integer_value(x) <= 0 || json_integer_value(x) > 2147483647)
		return "calendar_id: null (every calendar) or a calendar's id";
	*cal = pool_printf(c->req->pool, "%lld", (long long)json_integer_value(x));
	if ((r = db_query(c->db, "ac_calendar_ids", 1, cal, NULL, NULL, 0)) == NULL)
		return "";
	rows = db_res_rows(r);
	db_res_free(r);
	return rows == 1 ? NULL : "calendar_id: no such calendar";
}

/* "MM-DD", a real month and day (2/29 allowed) */
static int ac_month_day(const json_t *x, int *m, int *d)
{
	const char *s = json_string_value(x);

	if (s == NULL || strlen(s) != 5 || s[2] != '-' || s[0] < '0' || s[0] > '9' || s[1] < '0' ||
	    s[1] > '9' || s[3] < '0' || s[3] > '9' || s[4] < '0' || s[4] > '9')
		return -1;
	*m = (s[0] - '0') * 10 + (s[1] - '0');
	*d = (s[3] - '0') * 10 + (s[4] - '0');
	return bizcal_valid_date(2000, *m, *d) ? 0 : -1;
}

static const char *const ac_annual_keys[] = { "calendar_id", "from", "to", "reason", NULL };

static const char *ac_annual_fields(struct api_call *c, json_t *body, const char **cal,
				    const char **row)
{
	struct pool *p = c->req->pool;
	const char *why;
	int fm, fd, tm, td;
	json_t *doc;

	if ((why = ac_keys(p, body, ac_annual_keys)) != NULL ||
	    (why = ac_calendar_field(c, json_object_get(body, "calendar_id"), cal)) != NULL)
		return why;
	if (ac_month_day(json_object_get(body, "from"), &fm, &fd) < 0)
		return "from: not a real month and day MM-DD";
	if (ac_month_day(json_object_get(body, "to"), &tm, &td) < 0)
		return "to: not a real month and day MM-DD";
	if ((why = ac_text(json_object_get(body, "reason"), AC_REASON_MAX, 0)) != NULL)
		return pool_printf(p, "reason: %s", why);
	doc = json_pack("{s:O?, s:i, s:i, s:i, s:i, s:O}", "calendar_id",
			json_object_get(body, "calendar_id"), "from_month", fm, "from_day", fd,
			"to_month", tm, "to_day", td, "reason", json_object_get(body, "reason"));
	*row = ac_dump(p, doc);
	json_decref(doc);
	return NULL;
}

static const char *const ac_closure_keys[] = { "calendar_id", "from", "to", "reason", NULL };

static const char *ac_closure_fields(struct api_call *c, json_t *body, const char **cal,
				     const char **row)
{
	struct pool *p = c->req->pool;
	const char *why;
	int64_t from, to;
	int wf, wt;
	json_t *doc;

	if ((why = ac_keys(p, body, ac_closure_keys)) != NULL ||
	    (why = ac_calendar_field(c, json_object_get(body, "calendar_id"), cal)) != NULL)
		return why;
	if (ac_when(json_string_value(json_object_get(body, "from")), &from, &wf) < 0)
		return "from: not a real date YYYY-MM-DD (or YYYY-MM-DD HH:MM)";
	if (ac_when(json_string_value(json_object_get(body, "to")), &to, &wt) < 0)
		return "to: not a real date YYYY-MM-DD (or YYYY-MM-DD HH:MM)";
	if (wt)
		to += 86400; /* a date: the whole day, inclusive */
	if (to <= from)
		return "to: must be later than from";
	if ((why = ac_text(json_object_get(body, "reason"), AC_REASON_MAX, 0)) != NULL)
		return pool_printf(p, "reason: %s", why);
	doc = json_pack("{s:O?, s:s, s:s, s:O}", "calendar_id", json_object_get(body, "calendar_id"),
			"starts_at", ac_instant(p, from), "ends_at", ac_instant(p, to), "reason",
			json_object_get(body, "reason"));
	*row = ac_dump(p, doc);
	json_decref(doc);
	return NULL;
}

typedef const char *(*ac_fields_fn)(struct api_call *c, json_t *body, const char **cal,
				    const char **row);

/* create (id 0), update or delete (fields NULL) one row through stmt; the
 * answer is doc_stmt's document */
static void ac_row(struct api_call *c, int id, const char *stmt, ac_fields_fn fields,
		   const char *doc_stmt)
{
	const char *v[4] = { NULL, NULL, id ? ac_id(c, 0) : NULL, NULL }, *cal = NULL, *why = NULL;
	const char *res;
	json_t *body = NULL;

	if (fields != NULL && (body = api_body_object(c)) == NULL)
		return;
	if (fields != NULL)
		why = fields(c, body, &cal, &v[3]);
	json_decref(body);
	if (why != NULL) {
		api_error(c, why[0] ? 400 : 503, why[0] ? why : "database unavailable");
		return;
	}
	/* a delete cannot make a calendar unloadable; a row for every calendar checks them all */
	if ((res = ac_write(c, stmt, v, cal, fields != NULL)) == NULL)
		return;
	if (res[0] == '\0')
		api_error(c, 404, "not found");
	else if (fields == NULL)
		http_reply(c->req, 204, NULL, "", 0);
	else
		ac_answer_doc(c, doc_stmt, 1, &res, id ? 200 : 201, NULL);
}

/* the annual closures are few (bizcal holds 16) */
static int ac_annual_full(struct api_call *c)
{
	struct db_res *r = db_query(c->db, "ac_annual_count", 0, NULL, NULL, NULL, 0);
	long long n = r ? db_res_ll(r, 0, 0) : -1;

	db_res_free(r);
	if (n < 0)
		api_error(c, 503, "database unavailable");
	else if (n >= AC_ANNUAL_MAX)
		api_error(c, 409, "there are 16 annual closures already (the most a calendar holds)");
	return n < 0 || n >= AC_ANNUAL_MAX;
}

void admin_calendar_annual_create(struct api_call *c)
{
	if (!ac_annual_full(c))
		ac_row(c, 0, "ac_w_annual", ac_annual_fields, "ac_annual");
}

void admin_calendar_annual_update(struct api_call *c)
{
	ac_row(c, 1, "ac_w_annual", ac_annual_fields, "ac_annual");
}

void admin_calendar_annual_delete(struct api_call *c)
{
	ac_row(c, 1, "ac_w_annual", NULL, NULL);
}

void admin_calendar_closure_create(struct api_call *c)
{
	ac_row(c, 0, "ac_w_closure", ac_closure_fields, "ac_closure");
}

void admin_calendar_closure_update(struct api_call *c)
{
	ac_row(c, 1, "ac_w_closure", ac_closure_fields, "ac_closure");
}

void admin_calendar_closure_delete(struct api_call *c)
{
	ac_row(c, 1, "ac_w_closure", NULL, NULL);
}

/* ---- holidays ---- */

void admin_calendar_holidays(struct api_call *c)
{
	const char *q = http_query(c->req, "year"), *v[1];
	char *end;
	int y, m, d;
	long year;

	bizcal_date(bizcal_day_of(clock_now_us() / 1000000), &y, &m, &d);
	year = q ? strtol(q, &end, 10) : y;
	if (q != NULL && (end == q || *end != '\0' || year < 1948 || year > 2200)) {
		api_error(c, 400, "year: a year from 1948 to 2200");
		return;
	}
	v[0] = pool_printf(c->req->pool, "%ld", year);
	ac_answer_doc(c, "ac_holidays", 1, v, 200, "holidays");
}

void admin_calendar_holiday_add(struct api_call *c)
{
	static const char *const keys[] = { "day", "name", NULL };
	json_t *body = api_body_object(c);
	const char *v[4] = { NULL }, *why, *res;
	int32_t day;

	if (body == NULL)
		return;
	if ((why = ac_keys(c->req->pool, body, keys)) == NULL &&
	    ac_date(json_object_get(body, "day"), &day) < 0)
		why = "day: not a real date YYYY-MM-DD";
	if (why == NULL && (why = ac_text(json_object_get(body, "name"), 60, 0)) != NULL)
		why = pool_printf(c->req->pool, "name: %s", why);
	v[2] = why ? NULL : pool_strdup(c->req->pool, json_string_value(json_object_get(body, "day")));
	v[3] = why ? NULL : pool_strdup(c->req->pool, json_string_value(json_object_get(body, "name")));
	json_decref(body);
	if (why != NULL) {
		api_error(c, 400, why);
		return;
	}
	if ((res = ac_write(c, "ac_w_holiday", v, NULL, 0)) == NULL)
		return;
	if (strcmp(res, "exists") == 0)
		api_error(c, 409, "day: that date is a holiday already");
	else
		api_json(c, 201, json_pack("{s:s, s:s, s:s}", "day", v[2], "name", v[3], "source",
					   "local"));
}

void admin_calendar_holiday_remove(struct api_call *c)
{
	const char *prefix = "/api/admin/holidays/", *v[4] = { NULL }, *res;
	json_t *day = json_string(c->req->path + strlen(prefix));
	int32_t dn;
	int bad = day == NULL || ac_date(day, &dn) < 0;

	json_decref(day);
	if (bad) {
		api_error(c, 400, "day: not a real date YYYY-MM-DD");
		return;
	}
	v[2] = c->req->path + strlen(prefix);
	if ((res = ac_write(c, "ac_w_holiday", v, NULL, 0)) == NULL)
		return;
	if (strcmp(res, "removed") == 0)
		http_reply(c->req, 204, NULL, "", 0);
	else if (strcmp(res, "not_local") == 0)
		api_error(c, 409, "a national holiday: the Cabinet Office list keeps it (an extra"
				  " opening opens the day)");
	else
		api_error(c, 404, "no holiday on that date");
}

static json_t *ac_bad_lines(const struct holidays_list *l)
{
	json_t *a = json_array();
	size_t shown = l->bad < HOLIDAYS_BAD_SHOWN ? l->bad : HOLIDAYS_BAD_SHOWN;

	for (size_t i = 0; i < shown; i++)
		json_array_append_new(a, json_pack("{s:I, s:s}", "line", (json_int_t)l->shown[i].line,
						   "why", l->shown[i].why));
	return a;
}

/* the parsed list stored with its audit row: the counts, or NULL (503) */
static json_t *ac_import_store(struct api_call *c, const struct holidays_list *l)
{
	struct holidays_counts n;
	json_t *doc = NULL;
	const char *v[4];

	if (db_begin(c->db) < 0 || holidays_store(c->db, l, &n) < 0)
		goto fail;
	doc = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I}", "rows", (json_int_t)l->n, "first",
			n.first, "last", n.last, "added", (json_int_t)n.added, "changed",
			(json_int_t)n.changed, "unchanged", (json_int_t)n.unchanged, "removed",
			(json_int_t)n.removed);
	v[0] = api_now_iso(c, 0);
	v[1] = c->session->login;
	v[2] = pool_printf(c->req->pool, "%s..%s", n.first, n.last);
	v[3] = ac_dump(c->req->pool, doc);
	if (db_cmd(c->db, "ac_w_import", 4, v, NULL, NULL) != 1 || db_commit(c->db) < 0)
		goto fail;
	log_info("holidays: %zu rows (%s .. %s) uploaded by %s: %ld added, %ld changed, %ld removed",
		 l->n, n.first, n.last, c->session->login, n.added, n.changed, n.removed);
	return doc;
fail:
	db_rollback(c->db);
	json_decref(doc);
	return NULL;
}

void admin_calendar_holiday_import(struct api_call *c)
{
	const char *type = http_header(c->req, "Content-Type");
	struct pool *p = pool_create(AC_PARSE_POOL);
	struct holidays_list l;
	json_t *doc;

	memset(&l, 0, sizeof(l));
	if (type == NULL || strncmp(type, "text/csv", 8) != 0) {
		api_error(c, 415, "send the Cabinet Office CSV as text/csv");
	} else if (p == NULL || holidays_parse(p, c->req->body, c->req->body_len, &l) < 0) {
		api_error(c, 503, "out of memory");
	} else if (l.bad > 0) {
		api_json(c, 400, json_pack("{s:s, s:o}", "error",
					   pool_printf(c->req->pool, "%zu error%s in the list;"
								     " nothing was loaded",
						       l.bad, l.bad == 1 ? "" : "s"),
					   "bad", ac_bad_lines(&l)));
	} else if ((doc = ac_import_store(c, &l)) == NULL) {
		api_error(c, 503, "database unavailable");
	} else {
		api_json(c, 200, doc);
	}
	holidays_list_free(&l);
	pool_destroy(p);
}

/* ---- SLA policies and the preview ---- */

static const char *const ac_modes[] = { "wall_clock_hours", "business_hours",
					"next_business_day_end", NULL };
static const char *const ac_channels[] = { "mail", "fax", "call", "form", NULL };
static const char *const ac_clocks[] = { "response", "processing", "department", NULL };
static const char *const ac_policy_keys[] = { "queue", "channel", "clock", "mode",
					      "target_seconds", "warning_seconds",
					      "pause_when_waiting_citizen", "calendar_id", NULL };

struct ac_policy {
	const char *queue, *channel, *clock, *cal; /* NULL: any queue, any channel, no calendar */
	int mode;
	json_int_t target, warning;
	int pause;
};

/* index of s in list, or -1 */
static int ac_pick(const json_t *x, const char *const *list)
{
	const char *s = json_string_value(x);

	for (int i = 0; s != NULL && list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return i;
	return -1;
}

static const char *ac_seconds(const json_t *x, json_int_t *out, const char *what)
{
	if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > AC_TARGET_MAX)
		return what;
	*out = json_integer_value(x);
	return NULL;
}

/* queue, channel, clock: NULL or why */
static const char *ac_policy_key(struct pool *p, json_t *body, struct ac_policy *o)
{
	json_t *q = json_object_get(body, "queue"), *ch = json_object_get(body, "channel"),
	       *cl = json_object_get(body, "clock");
	const char *why;
	int k;

	if (q != NULL && !json_is_null(q) && (why = ac_text(q, AC_QUEUE_MAX, 1)) != NULL)
		return pool_printf(p, "queue: %s", why);
	o->queue = q && json_string_length(q) > 0 ? json_string_value(q) : NULL;
	if (ch != NULL && !json_is_null(ch) && (k = ac_pick(ch, ac_channels)) < 0)
		return "channel: null (any) or one of mail, fax, call, form";
	o->channel = ch && !json_is_null(ch) ? json_string_value(ch) : NULL;
	if (cl != NULL && ac_pick(cl, ac_clocks) < 0)
		return "clock: response, processing or department";
	o->clock = cl ? json_string_value(cl) : "response";
	return NULL;
}

static const char *ac_policy_fields(struct api_call *c, json_t *body, struct ac_policy *o)
{
	struct pool *p = c->req->pool;
	json_t *pw = json_object_get(body, "pause_when_waiting_citizen");
	const char *why;

	memset(o, 0, sizeof(*o));
	if ((why = ac_keys(p, body, ac_policy_keys)) != NULL ||
	    (why = ac_policy_key(p, body, o)) != NULL)
		return why;
	if ((o->mode = ac_pick(json_object_get(body, "mode"), ac_modes)) < 0)
		return "mode: wall_clock_hours, business_hours or next_business_day_end";
	if (o->mode != BIZCAL_NEXT_DAY_END &&
	    ((why = ac_seconds(json_object_get(body, "target_seconds"), &o->target,
			       "target_seconds: whole seconds up to a year")) != NULL))
		return why;
	if (o->mode != BIZCAL_NEXT_DAY_END && o->target == 0)
		return "target_seconds: must be more than 0 for this mode";
	if (json_object_get(body, "warning_seconds") != NULL &&
	    (why = ac_seconds(json_object_get(body, "warning_seconds"), &o->warning,
			      "warning_seconds: whole seconds up to a year")) != NULL)
		return why;
	if (o->target > 0 && o->warning >= o->target)
		return "warning_seconds: must be less than the target";
	if (pw != NULL && !json_is_boolean(pw))
		return "pause_when_waiting_citizen: true or false";
	o->pause = pw == NULL || json_is_true(pw);
	if ((why = ac_calendar_field(c, json_object_get(body, "calendar_id"), &o->cal)) != NULL)
		return why;
	if (o->cal == NULL && o->mode != BIZCAL_WALL_CLOCK)
		return "calendar_id: this mode counts on a calendar; choose one";
	return NULL;
}

static const char *ac_policy_row(struct pool *p, const struct ac_policy *o)
{
	json_t *doc = json_pack("{s:s?, s:s?, s:s, s:s, s:I, s:I, s:b, s:s?}", "queue", o->queue,
				"channel", o->channel, "clock", o->clock, "mode", ac_modes[o->mode],
				"target_seconds", o->target, "warning_seconds", o->warning,
				"pause_when_waiting_citizen", o->pause, "calendar_id", o->cal);
	const char *r = ac_dump(p, doc);

	json_decref(doc);
	return r;
}

/* 1 when another policy has the queue, channel and clock; -1 error */
static int ac_policy_taken(struct api_call *c, const struct ac_policy *o, const char *id)
{
	const char *v[4] = { o->queue, o->channel, o->clock, id };
	struct db_res *r = db_query(c->db, "ac_policy_taken", 4, v, NULL, NULL, 0);
	int n = r ? db_res_rows(r) > 0 : -1;

	db_res_free(r);
	return n;
}

static void ac_policy_write(struct api_call *c, int id)
{
	const char *v[4] = { NULL, NULL, id ? ac_id(c, 0) : NULL, NULL }, *why, *res;
	json_t *body = api_body_object(c);
	struct ac_policy o;
	int taken = 0;

	if (body == NULL)
		return;
	why = ac_policy_fields(c, body, &o);
	if (why == NULL && (taken = ac_policy_taken(c, &o, v[2])) == 0)
		v[3] = ac_policy_row(c->req->pool, &o);
	json_decref(body);
	if (why != NULL || taken != 0) {
		if (why != NULL && why[0] != '\0')
			api_error(c, 400, why);
		else if (taken > 0)
			api_error(c, 409, "a policy for that queue, channel and clock exists");
		else
			api_error(c, 503, "database unavailable");
		return;
	}
	if ((res = ac_write(c, "ac_w_policy", v, o.cal, 0)) == NULL)
		return;
	if (res[0] == '\0')
		api_error(c, 404, "no such policy");
	else
		ac_answer_doc(c, "ac_policy", 1, &res, id ? 200 : 201, NULL);
}

void admin_calendar_policy_create(struct api_call *c)
{
	ac_policy_write(c, 0);
}

void admin_calendar_policy_update(struct api_call *c)
{
	ac_policy_write(c, 1);
}

void admin_calendar_policy_delete(struct api_call *c)
{
	ac_row(c, 1, "ac_w_policy", NULL, NULL);
}

/* the policy of a preview: a stored one ("id") or the fields of the form
 * ("policy"); *cal its calendar (0 none).  NULL, or why ("" the database) */
static const char *ac_preview_policy(struct api_call *c, json_t *body, struct bizcal_policy *pol,
				     int *cal)
{
	json_t *id = json_object_get(body, "id"), *fields = json_object_get(body, "policy");
	struct bizcal_db_policy dp;
	struct ac_policy o;
	const char *why;
	int found;

	if (id != NULL) {
		if (!json_is_integer(id) || json_integer_value(id) <= 0 ||
		    json_integer_value(id) > 2147483647)
			return "id: a policy's id";
		if ((found = bizcal_db_policy_id(c->db, (int)json_integer_value(id), &dp)) <= 0)
			return found < 0 ? "" : "id: no such policy";
		*pol = dp.policy;
		*cal = dp.calendar_id;
		return NULL;
	}
	if (!json_is_object(fields))
		return "policy: the policy's fields (or id: a stored policy's id)";
	if ((why = ac_policy_fields(c, fields, &o)) != NULL)
		return why[0] ? pool_printf(c->req->pool, "policy.%s", why) : why;
	pol->mode = (enum bizcal_mode)o.mode;
	pol->target = o.target;
	pol->warning = o.warning;
	*cal = o.cal ? (int)strtol(o.cal, NULL, 10) : 0;
	return NULL;
}

/* the due and warning instants, as "madoguchi-admin sla-due" computes them */
static json_t *ac_preview_due(struct api_call *c, const struct bizcal_policy *pol, int cal,
			      int64_t t)
{
	struct bizcal_range pauses[64];
	struct bizcal *bc = NULL;
	struct bizcal_due due;
	struct pool *p = c->req->pool;
	char a[40], b[40];
	int n;

	if ((cal > 0 && bizcal_db_load(c->db, cal, t, &bc) < 0) ||
	    (n = bizcal_db_crisis(c->db, t, pauses, 64)) < 0 ||
	    bizcal_due(pol, bc, t, pauses, (size_t)n, &due) < 0) {
		bizcal_free(bc);
		return NULL;
	}
	bizcal_free(bc);
	return json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:i}", "received", ac_local(p, t), "due",
			 ac_local(p, due.due), "warning", ac_local(p, due.warning), "due_at",
			 due.due == BIZCAL_NEVER ? NULL : clock_format_iso(due.due * 1000000, a, sizeof(a)),
			 "warn_at",
			 due.warning == BIZCAL_NEVER ? NULL
						     : clock_format_iso(due.warning * 1000000, b, sizeof(b)),
			 "crisis_pauses", n);
}

void admin_calendar_preview(struct api_call *c)
{
	json_t *body = api_body_object(c), *doc = NULL;
	struct bizcal_policy pol;
	const char *why = NULL;
	int64_t t;
	int cal = 0, whole;

	if (body == NULL)
		return;
	if (ac_when(json_string_value(json_object_get(body, "received")), &t, &whole) < 0 || whole)
		why = "received: not a real date and time YYYY-MM-DD HH:MM";
	if (why == NULL)
		why = ac_preview_policy(c, body, &pol, &cal);
	if (why == NULL && (doc = ac_preview_due(c, &pol, cal, t)) == NULL)
		why = "";
	json_decref(body);
	if (why == NULL)
		api_json(c, 200, doc);
	else
		api_error(c, why[0] ? 400 : 503, why[0] ? why : "database unavailable");
}
