/* Operators work the tickets; the rules are in workflow.h.
 *
 * Every state-changing handler is a "decide" function run by wf_run():
 * wf_run begins a transaction and locks the ticket row (FOR UPDATE, so two
 * operators claiming one ticket at the same moment are served one after
 * the other and the second sees the first as the holder), decide looks at
 * the row and the request and says what changes and which events record
 * it (or answers 400/409 itself), and wf_run writes the row, the events
 * and the NOTIFY, commits, and answers with the workflow document. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "sse.h"
#include "workflow.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define WF_MAX_EVENTS 3

static const struct db_stmt wf_stmts[] = {
	{ "wf_lock",
	  "SELECT t.status, t.assignee, u.login, u.display_name, t.resolution"
	  " FROM ticket t LEFT JOIN app_user u ON u.id = t.assignee WHERE t.id = $1"
	  " FOR UPDATE OF t" },
	{ "wf_user", "SELECT login, role, disabled FROM app_user WHERE id = $1" },
	{ "wf_resolution_ok", "SELECT 1 FROM resolution_type WHERE code = $1 AND enabled" },
	/* assigned_at moves only when the holder does; resolved_at is set when
	 * the ticket becomes done and kept while it stays done.  A case record
	 * saved before the ticket was resolved follows its resolved_at (it
	 * copies the ticket's times only when it is saved) */
	{ "wf_update",
	  "WITH t AS (UPDATE ticket SET assignee = $2::int,"
	  " assigned_at = CASE WHEN $2::int IS NULL THEN NULL"
	  "  WHEN assignee IS NOT DISTINCT FROM $2::int THEN assigned_at ELSE $5::timestamptz END,"
	  " status = $3, resolution = $4,"
	  " resolved_at = CASE WHEN $3 NOT IN ('resolved', 'closed') THEN NULL"
	  "  WHEN status IN ('resolved', 'closed') THEN resolved_at ELSE $5::timestamptz END,"
	  " updated_at = $5::timestamptz WHERE id = $1 RETURNING id, resolved_at)"
	  " UPDATE case_record c SET resolved_at = t.resolved_at FROM t"
	  " WHERE c.ticket_id = t.id AND c.resolved_at IS DISTINCT FROM t.resolved_at" },
	{ "wf_note",
	  "WITH n AS (INSERT INTO ticket_note (ticket_id, at, author_id, author, body)"
	  "  VALUES ($1, $2, $3, $4, $5) RETURNING id),"
	  " u AS (UPDATE ticket SET updated_at = $2 WHERE id = $1)"
	  " SELECT id FROM n" },
	{ "wf_event",
	  "INSERT INTO ticket_event (ticket_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)" },
	{ "wf_notify",
	  "SELECT pg_notify('ticket_change',"
	  " json_build_object('id', $1::bigint, 'op', $2::text)::text)" },
	{ "wf_doc",
	  "SELECT t.id, t.status, t.assignee, u.login, u.display_name, " US("t.assigned_at") ","
	  " t.resolution, " US("t.resolved_at") ", " US("t.due_at") ", " US("t.updated_at")
	  " FROM ticket t LEFT JOIN app_user u ON u.id = t.assignee WHERE t.id = $1" },
	{ "wf_notes",
	  "SELECT n.id, " US("n.at") ", n.author, u.display_name, n.body"
	  " FROM ticket_note n LEFT JOIN app_user u ON u.id = n.author_id"
	  " WHERE n.ticket_id = $1 ORDER BY n.id" },
	{ "wf_users",
	  "SELECT id, login, display_name, role FROM app_user"
	  " WHERE NOT disabled AND role IN ('operator', 'supervisor') ORDER BY login" },
	{ "wf_resolutions",
	  "SELECT code, label_ja, label_en FROM resolution_type WHERE enabled"
	  " ORDER BY position, code" },
	/* presence travels through the database so that every ticketd's
	 * event streams see it, not only the one the typist is on */
	{ "wf_presence", "SELECT pg_notify('presence', $1)" },
	{ NULL, NULL },
};

/* the ticket as locked */
struct wf_cur {
	const char *status;
	long long assignee; /* 0: nobody */
	const char *login, *name; /* the holder's */
	const char *resolution; /* "" for none */
};

/* what a request changes: the new values (initially the current ones),
 * the events that record it, and the op of the NOTIFY */
struct wf_change {
	const char *op;
	const char *status;
	long long assignee;
	const char *resolution; /* NULL for none */
	const char *note; /* a note to add instead of a row change */
	int nev;
	struct {
		const char *kind, *detail;
	} ev[WF_MAX_EVENTS];
};

/* 1: write the change; 0: nothing changes; -1: answered already */
typedef int (*wf_decide)(struct api_call *c, json_t *body, const struct wf_cur *cur,
			 struct wf_change *ch);

void workflow_prepare(struct db *db)
{
	db_prepare_all(db, wf_stmts);
}

static const char *wf_id(struct api_call *c)
{
	return pool_printf(c->req->pool, "%lld", c->id[0]);
}

static void wf_bad(struct api_call *c, const char *field, const char *why)
{
	const char *msg = pool_printf(c->req->pool, "%s: %s", field, why);

	api_error(c, 400, msg ? msg : "bad request");
}

static void wf_event(struct wf_change *ch, const char *kind, const char *detail)
{
	if (ch->nev == WF_MAX_EVENTS)
		return; /* a broken invariant; the row change still goes in */
	ch->ev[ch->nev].kind = kind;
	ch->ev[ch->nev].detail = detail;
	ch->nev++;
}

static int wf_is_supervisor(const struct api_call *c)
{
	return c->session->role_bit == API_SUPERVISOR;
}

/* ---- documents ---- */

static json_t *wf_person(const struct db_res *r, int row, int id, int login, int name)
{
	if (db_res_null(r, row, id))
		return json_null();
	return json_pack("{s:o, s:o, s:o}", "id", api_col_int(r, row, id), "login",
			 api_col_str(r, row, login), "display_name", api_col_str(r, row, name));
}

static json_t *wf_notes_doc(struct api_call *c, const char *const *v)
{
	struct db_res *r = db_query(c->db, "wf_notes", 1, v, NULL, NULL, 0);
	json_t *list;

	if (r == NULL)
		return NULL;
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o, s:o}", "id",
						      api_col_int(r, i, 0), "at",
						      api_col_time(r, i, 1), "author",
						      api_col_str(r, i, 2), "author_name",
						      api_col_str(r, i, 3), "text",
						      api_col_str(r, i, 4)));
	db_res_free(r);
	return list;
}

/* the workflow document of the ticket in the path; NULL with *found 0
 * when there is none, -1 when the database failed */
static json_t *wf_doc(struct api_call *c, int *found)
{
	const char *v[1] = { wf_id(c) };
	struct db_res *r = db_query(c->db, "wf_doc", 1, v, NULL, NULL, 0);
	json_t *doc, *notes;

	*found = r == NULL ? -1 : db_res_rows(r) == 1;
	if (*found != 1) {
		db_res_free(r);
		return NULL;
	}
	doc = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", api_col_int(r, 0, 0),
			"status", api_col_str(r, 0, 1), "assignee", wf_person(r, 0, 2, 3, 4),
			"assigned_at", api_col_time(r, 0, 5), "resolution", api_col_str(r, 0, 6),
			"resolved_at", api_col_time(r, 0, 7), "due_at", api_col_time(r, 0, 8),
			"updated_at", api_col_time(r, 0, 9));
	db_res_free(r);
	notes = wf_notes_doc(c, v);
	if (doc == NULL || notes == NULL) {
		json_decref(doc);
		json_decref(notes);
		*found = -1;
		return NULL;
	}
	json_object_set_new(doc, "notes", notes);
	return doc;
}

static void wf_reply(struct api_call *c, int status)
{
	int found;
	json_t *doc = wf_doc(c, &found);

	if (doc != NULL)
		api_json(c, status, doc);
	else if (found == 0)
		api_error(c, 404, "no such ticket");
	else
		api_error(c, 503, "database unavailable");
}

void workflow_get(struct api_call *c)
{
	wf_reply(c, 200);
}

/* ---- the transaction ---- */

/* 1 and *cur filled, 0 when there is no such ticket, -1 on a database error */
static int wf_lock(struct api_call *c, struct wf_cur *cur)
{
	const char *v[1] = { wf_id(c) };
	struct db_res *r = db_query(c->db, "wf_lock", 1, v, NULL, NULL, 0);
	struct pool *p = c->req->pool;
	int ok;

	if (r == NULL)
		return -1;
	if (db_res_rows(r) != 1) {
		db_res_free(r);
		return 0;
	}
	cur->status = pool_strdup(p, db_res_val(r, 0, 0));
	cur->assignee = db_res_null(r, 0, 1) ? 0 : db_res_ll(r, 0, 1);
	cur->login = pool_strdup(p, db_res_val(r, 0, 2));
	cur->name = pool_strdup(p, db_res_val(r, 0, 3));
	cur->resolution = pool_strdup(p, db_res_val(r, 0, 4));
	ok = cur->status && cur->login && cur->name && cur->resolution;
	db_res_free(r);
	return ok ? 1 : -1;
}

static int wf_exec(struct api_call *c, const char *stmt, int n, const char *const *v)
{
	struct db_res *r = db_query(c->db, stmt, n, v, NULL, NULL, 0);

	db_res_free(r);
	return r ? 0 : -1;
}

/* the note (its event gets the note's id), or the row */
static int wf_write_change(struct api_call *c, struct wf_change *ch, const char *id,
			   const char *now)
{
	const char *v[5] = { id, now, NULL, NULL, NULL };
	struct db_res *r;

	if (ch->note != NULL) {
		v[2] = pool_printf(c->req->pool, "%ld", c->session->user_id);
		v[3] = c->session->login;
		v[4] = ch->note;
		r = db_query(c->db, "wf_note", 5, v, NULL, NULL, 0);
		if (r == NULL || db_res_rows(r) != 1) {
			db_res_free(r);
			return -1;
		}
		wf_event(ch, "note", pool_strdup(c->req->pool, db_res_val(r, 0, 0)));
		db_res_free(r);
		return 0;
	}
	v[1] = ch->assignee ? pool_printf(c->req->pool, "%lld", ch->assignee) : NULL;
	v[2] = ch->status;
	v[3] = ch->resolution;
	v[4] = now;
	return wf_exec(c, "wf_update", 5, v);
}

static int wf_write(struct api_call *c, struct wf_change *ch)
{
	const char *id = wf_id(c), *now = api_now_iso(c, 0);
	const char *nv[2] = { id, ch->op };

	if (wf_write_change(c, ch, id, now) < 0)
		return -1;
	for (int i = 0; i < ch->nev; i++) {
		const char *v[5] = { id, now, c->session->login, ch->ev[i].kind, ch->ev[i].detail };

		if (wf_exec(c, "wf_event", 5, v) < 0)
			return -1;
	}
	return wf_exec(c, "wf_notify", 2, nv);
}

/* the audit line: the first event says what the request did ("claimed",
 * "taken_over: op1", "status: open -> resolved (answered)", "note: 12") */
static void wf_log(struct api_call *c, const struct wf_change *ch)
{
	const char *detail = ch->nev > 0 ? ch->ev[0].detail : NULL;

	log_info("ticket=%lld: %s by %s%s%s", c->id[0], ch->nev > 0 ? ch->ev[0].kind : ch->op,
		 c->session->login, detail ? ": " : "", detail ? detail : "");
}

static void wf_run(struct api_call *c, json_t *body, wf_decide decide, int status)
{
	struct wf_change ch;
	struct wf_cur cur;
	int r;

	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	r = wf_lock(c, &cur);
	if (r <= 0) {
		db_rollback(c->db);
		api_error(c, r == 0 ? 404 : 503, r == 0 ? "no such ticket" : "database unavailable");
		return;
	}
	memset(&ch, 0, sizeof(ch));
	ch.status = cur.status;
	ch.assignee = cur.assignee;
	ch.resolution = cur.resolution[0] ? cur.resolution : NULL;
	r = decide(c, body, &cur, &ch);
	if (r <= 0) {
		db_rollback(c->db);
		if (r == 0)
			wf_reply(c, 200);
		return;
	}
	if (wf_write(c, &ch) < 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		api_error(c, 503, "database unavailable");
		return;
	}
	wf_log(c, &ch);
	wf_reply(c, status);
}

/* ---- the rules ---- */

/* 409 with the holder */
static void wf_held(struct api_call *c, const struct wf_cur *cur, const char *what)
{
	json_t *doc = json_pack("{s:s, s:{s:I, s:s, s:s}}", "error",
				"the ticket is held by someone else", "holder", "id",
				(json_int_t)cur->assignee, "login", cur->login, "display_name",
				cur->name);

	log_info("ticket=%lld: %s by %s refused: held by %s", c->id[0], what, c->session->login,
		 cur->login);
	api_json(c, 409, doc);
}

/* 0 when the actor may change what the holder has: nobody holds the
 * ticket, the actor does, or a supervisor takes it over on purpose; -1
 * after the 409 otherwise */
static int wf_holder_ok(struct api_call *c, const struct wf_cur *cur, int take_over,
			const char *what)
{
	if (cur->assignee == 0 || cur->assignee == c->session->user_id)
		return 0;
	if (take_over && wf_is_supervisor(c))
		return 0;
	wf_held(c, cur, what);
	return -1;
}

/* an optional boolean of the body; -1 after a 400 */
static int wf_flag(struct api_call *c, json_t *body, const char *key, int *out)
{
	json_t *v = body ? json_object_get(body, key) : NULL;

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		wf_bad(c, key, "must be true or false");
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* the ticket gets holder who; a new ticket is open from now on */
static void wf_hold(struct api_call *c, const struct wf_cur *cur, struct wf_change *ch,
		    long long who)
{
	ch->assignee = who;
	if (strcmp(cur->status, "new") == 0) {
		ch->status = "open";
		wf_event(ch, "status", pool_strdup(c->req->pool, "new -> open"));
	}
}

static int wf_decide_claim(struct api_call *c, json_t *body, const struct wf_cur *cur,
			   struct wf_change *ch)
{
	int take_over;

	if (wf_flag(c, body, "take_over", &take_over) < 0)
		return -1;
	if (cur->assignee == c->session->user_id)
		return 0;
	if (wf_holder_ok(c, cur, take_over, "claim") < 0)
		return -1;
	ch->op = "claimed";
	if (cur->assignee != 0)
		wf_event(ch, "taken_over", cur->login);
	else
		wf_event(ch, "claimed", NULL);
	wf_hold(c, cur, ch, c->session->user_id);
	return 1;
}

static int wf_decide_release(struct api_call *c, json_t *body, const struct wf_cur *cur,
			     struct wf_change *ch)
{
	int take_over;

	if (wf_flag(c, body, "take_over", &take_over) < 0)
		return -1;
	if (cur->assignee == 0)
		return 0;
	if (wf_holder_ok(c, cur, take_over, "release") < 0)
		return -1;
	ch->op = "released";
	ch->assignee = 0;
	wf_event(ch, "released", cur->assignee == c->session->user_id ? NULL : cur->login);
	return 1;
}

/* the login of user id if the actor may assign tickets to that user;
 * NULL after a 400 (or 503) */
static const char *wf_assignable(struct api_call *c, long long id)
{
	const char *v[1] = { pool_printf(c->req->pool, "%lld", id) };
	struct db_res *r = db_query(c->db, "wf_user", 1, v, NULL, NULL, 0);
	const char *why = NULL, *login = NULL, *role;

	if (r == NULL) {
		api_error(c, 503, "database unavailable");
		return NULL;
	}
	role = db_res_rows(r) == 1 ? db_res_val(r, 0, 1) : "";
	if (db_res_rows(r) != 1)
		why = "no such user";
	else if (strcmp(db_res_val(r, 0, 2), "t") == 0)
		why = "the user is disabled";
	else if (strcmp(role, "operator") != 0 &&
		 !(wf_is_supervisor(c) && strcmp(role, "supervisor") == 0))
		why = wf_is_supervisor(c) ? "tickets go to operators and supervisors only"
					  : "operators assign tickets to operators only";
	else
		login = pool_strdup(c->req->pool, db_res_val(r, 0, 0));
	db_res_free(r);
	if (why != NULL)
		wf_bad(c, "user_id", why);
	else if (login == NULL)
		api_error(c, 500, "out of memory");
	return login;
}

static int wf_decide_assign(struct api_call *c, json_t *body, const struct wf_cur *cur,
			    struct wf_change *ch)
{
	json_t *v = json_object_get(body, "user_id");
	json_int_t who = json_integer_value(v);
	const char *login;
	int take_over;

	if (!json_is_integer(v) || who < 1 || who > INT32_MAX) {
		wf_bad(c, "user_id", "must be the id of a user");
		return -1;
	}
	if (wf_flag(c, body, "take_over", &take_over) < 0 ||
	    (login = wf_assignable(c, (long long)who)) == NULL)
		return -1;
	if (cur->assignee == (long long)who)
		return 0;
	if (wf_holder_ok(c, cur, take_over, "assign") < 0)
		return -1;
	ch->op = "assigned";
	wf_event(ch, "assigned",
		 cur->assignee ? pool_printf(c->req->pool, "%s -> %s", cur->login, login) : login);
	wf_hold(c, cur, ch, (long long)who);
	return 1;
}

static int wf_status_known(const char *s)
{
	static const char *const settable[] = { "open", "waiting_citizen", "escalated", "resolved",
						"closed" };

	for (size_t i = 0; i < sizeof(settable) / sizeof(settable[0]); i++)
		if (strcmp(s, settable[i]) == 0)
			return 1;
	return 0;
}

/* the resolution the new status gets: *out NULL for none; -1 after a 400 */
static int wf_resolution(struct api_call *c, json_t *body, const char *status,
			 const struct wf_cur *cur, const char **out)
{
	json_t *v = json_object_get(body, "resolution");
	int done = strcmp(status, "resolved") == 0 || strcmp(status, "closed") == 0;
	const char *code = json_string_value(v), *val[1];
	struct db_res *r;
	int ok;

	*out = NULL;
	if (v != NULL && !json_is_null(v) && code == NULL) {
		wf_bad(c, "resolution", "must be a resolution code");
		return -1;
	}
	if (!done) {
		if (code == NULL)
			return 0;
		wf_bad(c, "resolution", "goes only with resolved or closed");
		return -1;
	}
	if (code == NULL) {
		/* closing keeps the resolution of a resolved ticket */
		if (strcmp(status, "closed") == 0 && cur->resolution[0] != '\0') {
			*out = cur->resolution;
			return 0;
		}
		wf_bad(c, "resolution", "is required to resolve a ticket");
		return -1;
	}
	val[0] = code;
	if ((r = db_query(c->db, "wf_resolution_ok", 1, val, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return -1;
	}
	ok = db_res_rows(r) == 1;
	db_res_free(r);
	if (!ok) {
		wf_bad(c, "resolution", "is not a known resolution type");
		return -1;
	}
	*out = pool_strdup(c->req->pool, code);
	return 0;
}

static int wf_decide_status(struct api_call *c, json_t *body, const struct wf_cur *cur,
			    struct wf_change *ch)
{
	const char *st = json_string_value(json_object_get(body, "status")), *res;

	if (st == NULL || !wf_status_known(st)) {
		wf_bad(c, "status", "must be open, waiting_citizen, escalated, resolved or closed");
		return -1;
	}
	if (wf_resolution(c, body, st, cur, &res) < 0)
		return -1;
	/* a supervisor may change the status of a ticket someone holds */
	if (wf_holder_ok(c, cur, 1, "status change") < 0)
		return -1;
	if (strcmp(st, cur->status) == 0 && strcmp(res ? res : "", cur->resolution) == 0)
		return 0;
	ch->op = "status";
	ch->status = pool_strdup(c->req->pool, st);
	ch->resolution = res;
	wf_event(ch, "status",
		 res ? pool_printf(c->req->pool, "%s -> %s (%s)", cur->status, st, res)
		     : pool_printf(c->req->pool, "%s -> %s", cur->status, st));
	return 1;
}

/* text typed by a person: no control characters but tab and line ends,
 * not only blanks */
static const char *wf_note_text(const json_t *v, const char **why)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v), blank = 0;

	*why = "must be a string";
	if (s == NULL)
		return NULL;
	*why = "is too long";
	if (n > WORKFLOW_NOTE_MAX)
		return NULL;
	*why = "must not contain control characters";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7f)
			return NULL;
		blank += ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
	}
	*why = "must not be empty";
	return blank == n ? NULL : s;
}

static int wf_decide_note(struct api_call *c, json_t *body, const struct wf_cur *cur,
			  struct wf_change *ch)
{
	const char *why, *text = wf_note_text(json_object_get(body, "text"), &why);

	(void)cur;
	if (text == NULL) {
		wf_bad(c, "text", why);
		return -1;
	}
	ch->op = "note";
	ch->note = pool_strdup(c->req->pool, text);
	return ch->note ? 1 : -1;
}

/* ---- handlers ---- */

/* the body as an object; an empty body is an empty object (claim and
 * release need none); NULL after a 400/415 */
static json_t *wf_body(struct api_call *c, int optional)
{
	if (optional && c->req->body_len == 0)
		return json_object();
	return api_body_object(c);
}

static void wf_handle(struct api_call *c, int optional, wf_decide decide, int status)
{
	json_t *body = wf_body(c, optional);

	if (body == NULL)
		return;
	wf_run(c, body, decide, status);
	json_decref(body);
}

void workflow_claim(struct api_call *c)
{
	wf_handle(c, 1, wf_decide_claim, 200);
}

void workflow_release(struct api_call *c)
{
	wf_handle(c, 1, wf_decide_release, 200);
}

void workflow_assign(struct api_call *c)
{
	wf_handle(c, 0, wf_decide_assign, 200);
}

void workflow_status(struct api_call *c)
{
	wf_handle(c, 0, wf_decide_status, 200);
}

void workflow_note(struct api_call *c)
{
	wf_handle(c, 0, wf_decide_note, 201);
}

/* NOTIFY presence; every ticketd (this one too) hands it to its streams
 * in api_presence().  With the database away the typist's own ticketd
 * still tells its streams: presence is a hint, never stored. */
static void wf_presence_send(struct api_call *c, const char *payload)
{
	const char *params[1] = { payload };
	struct db_res *r = db_query(c->db, "wf_presence", 1, params, NULL, NULL, 0);

	if (r == NULL)
		sse_broadcast_event(c->sse, "presence", payload);
	db_res_free(r);
}

void workflow_presence(struct api_call *c)
{
	json_t *body = api_body_object(c), *typing, *ev;
	char *s;

	if (body == NULL)
		return;
	typing = json_object_get(body, "typing");
	if (!json_is_boolean(typing)) {
		json_decref(body);
		wf_bad(c, "typing", "must be true or false");
		return;
	}
	ev = json_pack("{s:I, s:s, s:s, s:b}", "id", (json_int_t)c->id[0], "login",
		       c->session->login, "display_name", c->session->display_name, "typing",
		       json_is_true(typing));
	json_decref(body);
	s = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (s == NULL) {
		api_error(c, 500, "out of memory");
		return;
	}
	wf_presence_send(c, s);
	free(s);
	http_reply(c->req, 204, NULL, "", 0);
}

static json_t *wf_user_row(const struct db_res *r, int i)
{
	return json_pack("{s:o, s:o, s:o, s:o}", "id", api_col_int(r, i, 0), "login",
			 api_col_str(r, i, 1), "display_name", api_col_str(r, i, 2), "role",
			 api_col_str(r, i, 3));
}

void workflow_users(struct api_call *c)
{
	api_answer_rows(c, "wf_users", 0, NULL, "users", wf_user_row);
}

static json_t *wf_resolution_row(const struct db_res *r, int i)
{
	return json_pack("{s:o, s:o, s:o}", "code", api_col_str(r, i, 0), "label_ja",
			 api_col_str(r, i, 1), "label_en", api_col_str(r, i, 2));
}

void workflow_resolutions(struct api_call *c)
{
	api_answer_rows(c, "wf_resolutions", 0, NULL, "resolutions", wf_resolution_row);
}
