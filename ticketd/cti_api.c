/* cti_api: what the browser and the supervisors see of calls.
 *
 *   GET  /api/cti/me                  the caller's extension(s) and phone state
 *                                     (idle, talking, hold, acw: no new call)
 *   GET  /api/cti/calls/ID            a call for the screen pop: IVR choice and
 *                                     its label, number dialled (DNIS), state,
 *                                     times, ticket; and the caller's earlier
 *                                     tickets (contact store, audited) - never
 *                                     the caller's number
 *   POST /api/cti/calls/ID/ticket     {"ticket_id"}: the call joins an open
 *                                     ticket the operator picked; the ticket the
 *                                     answer made is closed into it while it
 *                                     holds nothing else
 *   GET  /api/cti/stats?from&to       offered, answered, within 15 s, abandoned,
 *                                     放棄呼率, average talk, handling (talk + ACW),
 *                                     hold, transfers, callbacks; by day, hour
 *                                     and weekday
 *   GET/PUT /api/admin/cti/extensions, DELETE /api/admin/cti/extensions/ID
 *   GET/POST /api/tickets/ID/callbacks, POST /api/callbacks/ID  (折り返し)
 *
 * The JSON of each answer is built by PostgreSQL (json_build_object): one
 * statement, one round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cti.h"
#include "cti_api.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "pool.h"

/* one call as the screen pop shows it */
#define CTI_CALL_JSON                                                                              \
	"json_build_object('id', c.id, 'pbx', c.pbx, 'call_id', c.call_id, 'direction',"           \
	" c.direction, 'dnis', c.dnis, 'ivr_choice', c.ivr_choice, 'ivr_label', i.label,"          \
	" 'queue', c.queue, 'extension', c.extension, 'user_id', c.user_id, 'state', c.state,"     \
	" 'offered_at', c.offered_at, 'answered_at', c.answered_at, 'ended_at', c.ended_at,"       \
	" 'acw_end_at', c.acw_end_at, 'transfers', c.transfers, 'recording_ref', c.recording_ref," \
	" 'ticket_id', c.ticket_id)"
#define CTI_CALL_FROM " FROM call c LEFT JOIN call_ivr i ON i.pbx = c.pbx AND i.choice = c.ivr_choice"

/* the figures of a set of calls x */
#define CTI_FIGURES                                                                                \
	"'offered', count(*), 'answered', count(answered_at),"                                     \
	" 'answered_15s', count(*) FILTER (WHERE answered_at - offered_at <= interval '15 s'),"    \
	" 'abandoned', count(*) FILTER (WHERE state = 'abandoned'),"                               \
	" 'abandon_rate', round(count(*) FILTER (WHERE state = 'abandoned')::numeric"              \
	"  / nullif(count(*), 0), 4),"                                                             \
	" 'answered_15s_rate', round(count(*) FILTER (WHERE answered_at - offered_at"              \
	"  <= interval '15 s')::numeric / nullif(count(*), 0), 4),"                                \
	" 'avg_wait_seconds', round(avg(extract(epoch FROM answered_at - offered_at))::numeric, 1)," \
	" 'avg_talk_seconds', round(avg(extract(epoch FROM ended_at - answered_at))::numeric, 1),"  \
	" 'avg_acw_seconds', round(avg(extract(epoch FROM acw_end_at - ended_at))"                 \
	"  FILTER (WHERE answered_at IS NOT NULL)::numeric, 1),"                                   \
	" 'avg_handling_seconds', round(avg(extract(epoch FROM acw_end_at - answered_at))"         \
	"  FILTER (WHERE answered_at IS NOT NULL AND ended_at IS NOT NULL)::numeric, 1),"          \
	" 'avg_hold_seconds', round(avg(hold_seconds) FILTER (WHERE answered_at IS NOT NULL)"      \
	"  ::numeric, 1),"                                                                         \
	" 'transfers', coalesce(sum(transfers), 0)"

static const struct db_stmt cti_api_stmts[] = {
	{ "cti_me",
	  "SELECT json_build_object('extensions', coalesce((SELECT json_agg(json_build_object("
	  "  'pbx', e.pbx, 'extension', e.extension) ORDER BY e.pbx, e.extension)"
	  "  FROM call_extension e WHERE e.user_id = $1), '[]'),"
	  " 'state', coalesce((SELECT c.state FROM call c WHERE c.user_id = $1"
	  "  AND c.state IN ('talking', 'hold', 'acw') ORDER BY c.id DESC LIMIT 1), 'idle'),"
	  " 'call', (SELECT " CTI_CALL_JSON CTI_CALL_FROM " WHERE c.user_id = $1"
	  "  AND c.state IN ('talking', 'hold', 'acw') ORDER BY c.id DESC LIMIT 1))" },
	{ "cti_call", "SELECT " CTI_CALL_JSON CTI_CALL_FROM " WHERE c.id = $1" },
	/* $1 call $2 user $3 login $4 remote $5 now */
	{ "cti_history",
	  "SELECT coalesce(json_agg(json_build_object('id', h.ticket_id, 'subject', h.subject,"
	  " 'status', h.status, 'channel', h.channel, 'created_at', h.created_at)), '[]')"
	  " FROM cti_caller_tickets($1, $2, $3, $4, $5) h" },
	{ "cti_lock_call", "SELECT ticket_id FROM call WHERE id = $1 FOR UPDATE" },
	{ "cti_pick_target",
	  "SELECT 1 FROM ticket WHERE id = $1 AND merged_into IS NULL"
	  " AND status IN ('new', 'open', 'waiting_citizen', 'escalated') FOR NO KEY UPDATE" },
	/* $1 call $2 picked ticket $3 the answer's ticket (or NULL) $4 now $5 login */
	{ "cti_pick",
	  "WITH u AS (UPDATE call SET ticket_id = $2, updated_at = $4 WHERE id = $1 RETURNING pbx),"
	  " old AS (UPDATE ticket t SET status = 'closed', merged_into = $2, updated_at = $4"
	  "  WHERE t.id = $3 AND t.id <> $2 AND NOT EXISTS (SELECT 1 FROM message m WHERE m.ticket_id = t.id)"
	  "  AND NOT EXISTS (SELECT 1 FROM case_record r WHERE r.ticket_id = t.id) RETURNING t.id),"
	  " e1 AS (INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)"
	  "  SELECT $2, $4, $5, 'call_joined', $1::text FROM u),"
	  " e2 AS (INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)"
	  "  SELECT id, $4, $5, 'merged', $2::text FROM old)"
	  " SELECT (SELECT count(*) FROM old), pg_notify('ticket_change', json_build_object('id', $2::bigint,"
	  "  'op', 'call')::text), (SELECT pg_notify('ticket_change', json_build_object('id', id,"
	  "  'op', 'merged')::text) FROM old) FROM u" },
	{ "cti_pick_contact", "SELECT cti_contact_link($1, c.from_number, c.pbx, $2) FROM call c WHERE c.id = $3" },
	/* $1 from $2 to (dates, Asia/Tokyo) */
	{ "cti_stats",
	  "WITH x AS (SELECT c.*, (c.offered_at AT TIME ZONE 'Asia/Tokyo') AS local FROM call c"
	  "  WHERE c.direction = 'in' AND c.offered_at >= ($1::date::timestamp AT TIME ZONE 'Asia/Tokyo')"
	  "  AND c.offered_at < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')),"
	  " g AS (SELECT grouping(local::date) AS gd, grouping(extract(hour FROM local)) AS gh,"
	  "  grouping(extract(isodow FROM local)) AS gw, local::date AS day,"
	  "  extract(hour FROM local)::int AS hour, extract(isodow FROM local)::int AS dow,"
	  "  json_build_object(" CTI_FIGURES ") AS f FROM x"
	  "  GROUP BY GROUPING SETS ((), (local::date), (extract(hour FROM local)), (extract(isodow FROM local))))"
	  " SELECT json_build_object('from', $1::date, 'to', $2::date,"
	  " 'total', coalesce((SELECT f FROM g WHERE gd = 1 AND gh = 1 AND gw = 1),"
	  "   (SELECT json_build_object(" CTI_FIGURES ") FROM x)),"
	  " 'callbacks', (SELECT count(*) FROM call_callback b"
	  "  WHERE b.created_at >= ($1::date::timestamp AT TIME ZONE 'Asia/Tokyo')"
	  "  AND b.created_at < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')),"
	  " 'by_day', coalesce((SELECT json_agg(json_build_object('day', day) :: jsonb || f::jsonb"
	  "   ORDER BY day) FROM g WHERE gd = 0), '[]'),"
	  " 'by_hour', coalesce((SELECT json_agg(json_build_object('hour', hour) :: jsonb || f::jsonb"
	  "   ORDER BY hour) FROM g WHERE gh = 0), '[]'),"
	  " 'by_weekday', coalesce((SELECT json_agg(json_build_object('isodow', dow) :: jsonb || f::jsonb"
	  "   ORDER BY dow) FROM g WHERE gw = 0), '[]'))" },
	{ "cti_today", "SELECT (now() AT TIME ZONE 'Asia/Tokyo')::date::text" },
	{ "cti_ext_list",
	  "SELECT json_build_object('extensions', coalesce(json_agg(json_build_object('id', e.id, 'pbx', e.pbx, 'extension',"
	  " e.extension, 'user_id', e.user_id, 'login', u.login, 'display_name', u.display_name,"
	  " 'interface', e.interface, 'updated_by', e.updated_by, 'updated_at', e.updated_at)"
	  " ORDER BY e.pbx, e.extension), '[]')) FROM call_extension e JOIN app_user u ON u.id = e.user_id" },
	/* $1 pbx $2 extension $3 user $4 interface $5 login $6 now */
	{ "cti_ext_put",
	  "INSERT INTO call_extension AS e (pbx, extension, user_id, interface, updated_by, updated_at)"
	  " VALUES ($1, $2, $3, coalesce($4, ''), $5, $6) ON CONFLICT (pbx, extension) DO UPDATE"
	  " SET user_id = EXCLUDED.user_id, interface = EXCLUDED.interface,"
	  " updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at RETURNING e.id" },
	{ "cti_ext_delete", "DELETE FROM call_extension WHERE id = $1" },
	{ "cti_cb_list",
	  "SELECT json_build_object('callbacks', coalesce(json_agg(json_build_object('id', b.id, 'ticket_id', b.ticket_id, 'call',"
	  " b.call_row, 'due_at', b.due_at, 'note', b.note, 'outcome', b.outcome, 'done_at', b.done_at,"
	  " 'done_by', b.done_by, 'created_by', b.created_by, 'created_at', b.created_at)"
	  " ORDER BY b.id), '[]')) FROM call_callback b WHERE b.ticket_id = $1" },
	/* $1 ticket $2 due $3 note $4 login $5 now */
	{ "cti_cb_add",
	  "WITH b AS (INSERT INTO call_callback (ticket_id, call_row, due_at, note, created_by, created_at)"
	  "  SELECT t.id, (SELECT max(c.id) FROM call c WHERE c.ticket_id = t.id), $2, coalesce($3, ''),"
	  "  $4, $5 FROM ticket t WHERE t.id = $1 RETURNING id, ticket_id),"
	  " e AS (INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)"
	  "  SELECT ticket_id, $5, $4, 'callback_planned', $2 FROM b)"
	  " SELECT id FROM b" },
	/* $1 callback $2 outcome $3 login $4 now */
	{ "cti_cb_done",
	  "WITH b AS (UPDATE call_callback SET outcome = $2, done_at = $4, done_by = $3"
	  "  WHERE id = $1 AND done_at IS NULL RETURNING id, ticket_id),"
	  " e AS (INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)"
	  "  SELECT ticket_id, $4, $3, 'callback_done', $2 FROM b)"
	  " SELECT id FROM b" },
	{ NULL, NULL },
};

void cti_api_prepare(struct db *db)
{
	db_prepare_all(db, cti_api_stmts);
	cti_prepare(db);
}

/* run stmt and answer its one JSON column, or 404/503 */
static void cti_api_json_row(struct api_call *c, const char *stmt, int n, const char *const *v)
{
	struct db_res *r = db_query(c->db, stmt, n, v, NULL, NULL, 0);
	json_t *doc;

	if (r == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (db_res_rows(r) != 1 || db_res_null(r, 0, 0)) {
		db_res_free(r);
		api_error(c, 404, "not found");
		return;
	}
	doc = json_loadb(db_res_val(r, 0, 0), (size_t)db_res_len(r, 0, 0), 0, NULL);
	db_res_free(r);
	api_json(c, 200, doc);
}

static const char *cti_api_uid(struct api_call *c)
{
	return pool_printf(c->req->pool, "%ld", c->session->user_id);
}

static const char *cti_api_id(struct api_call *c, int i)
{
	return pool_printf(c->req->pool, "%lld", c->id[i]);
}

void cti_api_me(struct api_call *c)
{
	const char *v[1] = { cti_api_uid(c) };

	cti_api_json_row(c, "cti_me", 1, v);
}

void cti_api_call(struct api_call *c)
{
	const char *v[5] = { cti_api_id(c, 0), cti_api_uid(c), c->session->login,
			     c->req->remote_addr ? c->req->remote_addr : "", api_now_iso(c, 0) };
	struct db_res *r = db_query(c->db, "cti_call", 1, v, NULL, NULL, 0), *h;
	json_t *doc = NULL;

	if (r != NULL && db_res_rows(r) == 1)
		doc = json_loadb(db_res_val(r, 0, 0), (size_t)db_res_len(r, 0, 0), 0, NULL);
	db_res_free(r);
	if (doc == NULL) {
		api_error(c, r == NULL ? 503 : 404, r == NULL ? "database unavailable" : "no such call");
		return;
	}
	/* the caller's earlier tickets: sql/027's audited function; a role
	 * it refuses gets the call without them */
	h = db_query(c->db, "cti_history", 5, v, NULL, NULL, 0);
	if (h != NULL && db_res_rows(h) == 1)
		json_object_set_new(doc, "caller_tickets", api_col_json(h, 0, 0));
	else
		json_object_set_new(doc, "caller_tickets", json_null());
	db_res_free(h);
	api_json(c, 200, doc);
}

/* in the open transaction: 0 done, else the status to answer */
static int cti_api_pick_tx(struct api_call *c, const char *call, const char *target)
{
	const char *v1[1] = { call }, *vt[1] = { target };
	struct db_res *lk = db_query(c->db, "cti_lock_call", 1, v1, NULL, NULL, 0), *tg, *p, *ct;
	const char *old, *now = api_now_iso(c, 0);
	int st;

	if (lk == NULL || db_res_rows(lk) != 1) {
		st = lk == NULL ? 503 : 404;
		db_res_free(lk);
		return st;
	}
	old = db_res_null(lk, 0, 0) ? NULL : pool_strdup(c->req->pool, db_res_val(lk, 0, 0));
	db_res_free(lk);
	tg = db_query(c->db, "cti_pick_target", 1, vt, NULL, NULL, 0);
	st = tg == NULL ? 503 : db_res_rows(tg) == 1 ? 0 : 409;
	db_res_free(tg);
	if (st != 0)
		return st;
	{
		const char *v[5] = { call, target, old, now, c->session->login };
		const char *vc[3] = { target, now, call };

		p = db_query(c->db, "cti_pick", 5, v, NULL, NULL, 0);
		ct = p ? db_query(c->db, "cti_pick_contact", 3, vc, NULL, NULL, 0) : NULL;
		st = p != NULL && ct != NULL ? 0 : 503;
		db_res_free(p);
		db_res_free(ct);
	}
	return st;
}

void cti_api_pick(struct api_call *c)
{
	json_t *body = api_body_object(c);
	json_int_t tid;
	const char *call = cti_api_id(c, 0);
	int st;

	if (body == NULL)
		return;
	tid = json_integer_value(json_object_get(body, "ticket_id"));
	json_decref(body);
	if (tid <= 0) {
		api_error(c, 400, "ticket_id is missing");
		return;
	}
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	st = cti_api_pick_tx(c, call, pool_printf(c->req->pool, "%lld", (long long)tid));
	if (st != 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		api_error(c, st == 0 ? 503 : st, st == 404 ? "no such call" : st == 409
			  ? "that ticket is not open" : "database unavailable");
		return;
	}
	log_info("call=%s: joined ticket %lld by %s", call, (long long)tid, c->session->login);
	api_json(c, 200, json_pack("{s:I,s:I}", "call", (json_int_t)c->id[0], "ticket_id", tid));
}

static int cti_api_date(const char *s)
{
	return s != NULL && strlen(s) == 10 && s[4] == '-' && s[7] == '-' &&
	       strspn(s, "0123456789") == 4 && strspn(s + 5, "0123456789") == 2 &&
	       strspn(s + 8, "0123456789") == 2;
}

void cti_api_stats(struct api_call *c)
{
	const char *v[2] = { http_query(c->req, "from"), http_query(c->req, "to") };
	struct db_res *r = NULL;

	if (v[0] == NULL || v[1] == NULL) {
		r = db_query(c->db, "cti_today", 0, NULL, NULL, NULL, 0);
		if (r == NULL || db_res_rows(r) != 1) {
			db_res_free(r);
			api_error(c, 503, "database unavailable");
			return;
		}
		if (v[0] == NULL)
			v[0] = pool_strdup(c->req->pool, db_res_val(r, 0, 0));
		if (v[1] == NULL)
			v[1] = pool_strdup(c->req->pool, db_res_val(r, 0, 0));
		db_res_free(r);
	}
	if (!cti_api_date(v[0]) || !cti_api_date(v[1])) {
		api_error(c, 400, "from and to are dates YYYY-MM-DD");
		return;
	}
	cti_api_json_row(c, "cti_stats", 2, v);
}

void cti_api_ext_list(struct api_call *c)
{
	cti_api_json_row(c, "cti_ext_list", 0, NULL);
}

void cti_api_ext_put(struct api_call *c)
{
	json_t *b = api_body_object(c);
	const char *v[6];
	json_int_t uid;
	struct db_res *r;

	if (b == NULL)
		return;
	v[0] = json_string_value(json_object_get(b, "pbx"));
	v[1] = json_string_value(json_object_get(b, "extension"));
	uid = json_integer_value(json_object_get(b, "user_id"));
	v[3] = json_string_value(json_object_get(b, "interface"));
	if (v[0] == NULL || v[1] == NULL || uid <= 0 || strlen(v[0]) > 64 || strlen(v[1]) > 32 ||
	    (v[3] != NULL && strlen(v[3]) > 128)) {
		json_decref(b);
		api_error(c, 400, "pbx, extension (at most 32) and user_id are required");
		return;
	}
	v[2] = pool_printf(c->req->pool, "%lld", (long long)uid);
	v[4] = c->session->login;
	v[5] = api_now_iso(c, 0);
	r = db_query(c->db, "cti_ext_put", 6, v, NULL, NULL, 0);
	json_decref(b);
	if (r == NULL) {
		int bad = strncmp(db_sqlstate(c->db), "23", 2) == 0;

		api_error(c, bad ? 400 : 503, bad ? "unknown PBX or user, or a bad extension"
						  : "database unavailable");
		return;
	}
	api_json(c, 200, json_pack("{s:o}", "id", api_col_int(r, 0, 0)));
	db_res_free(r);
}

void cti_api_ext_delete(struct api_call *c)
{
	const char *v[1] = { cti_api_id(c, 0) };
	long n = db_cmd(c->db, "cti_ext_delete", 1, v, NULL, NULL);

	if (n < 0)
		api_error(c, 503, "database unavailable");
	else if (n == 0)
		api_error(c, 404, "no such extension");
	else
		http_reply(c->req, 204, "application/json", "", 0);
}

void cti_api_cb_list(struct api_call *c)
{
	const char *v[1] = { cti_api_id(c, 0) };

	cti_api_json_row(c, "cti_cb_list", 1, v);
}

/* run a statement returning the id of what it made, or 404/400/503 */
static void cti_api_made(struct api_call *c, const char *stmt, int n, const char *const *v,
			 int status)
{
	struct db_res *r = db_query(c->db, stmt, n, v, NULL, NULL, 0);

	if (r == NULL) {
		int bad = strncmp(db_sqlstate(c->db), "22", 2) == 0 ||
			  strncmp(db_sqlstate(c->db), "23", 2) == 0;

		api_error(c, bad ? 400 : 503, bad ? "a value is malformed" : "database unavailable");
		return;
	}
	if (db_res_rows(r) != 1)
		api_error(c, 404, "not found (or done already)");
	else
		api_json(c, status, json_pack("{s:o}", "id", api_col_int(r, 0, 0)));
	db_res_free(r);
}

void cti_api_cb_add(struct api_call *c)
{
	json_t *b = api_body_object(c);
	const char *v[5];

	if (b == NULL)
		return;
	v[0] = cti_api_id(c, 0);
	v[1] = json_string_value(json_object_get(b, "due_at"));
	v[2] = json_string_value(json_object_get(b, "note"));
	if (v[1] == NULL || strlen(v[1]) > 40 || (v[2] != NULL && strlen(v[2]) > 2000)) {
		json_decref(b);
		api_error(c, 400, "due_at (ISO 8601) is required; note at most 2000 bytes");
		return;
	}
	v[1] = pool_strdup(c->req->pool, v[1]);
	v[2] = v[2] ? pool_strdup(c->req->pool, v[2]) : NULL;
	json_decref(b);
	v[3] = c->session->login;
	v[4] = api_now_iso(c, 0);
	cti_api_made(c, "cti_cb_add", 5, v, 201);
}

void cti_api_cb_done(struct api_call *c)
{
	json_t *b = api_body_object(c);
	const char *v[4], *o;

	if (b == NULL)
		return;
	o = json_string_value(json_object_get(b, "outcome"));
	if (o == NULL || (strcmp(o, "reached") != 0 && strcmp(o, "no_answer") != 0 &&
			  strcmp(o, "wrong_number") != 0 && strcmp(o, "cancelled") != 0)) {
		json_decref(b);
		api_error(c, 400, "outcome is reached, no_answer, wrong_number or cancelled");
		return;
	}
	v[0] = cti_api_id(c, 0);
	v[1] = pool_strdup(c->req->pool, o);
	v[2] = c->session->login;
	v[3] = api_now_iso(c, 0);
	json_decref(b);
	cti_api_made(c, "cti_cb_done", 4, v, 200);
}
