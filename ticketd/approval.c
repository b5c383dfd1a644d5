/* Approval before sending and the dead-mail list; the design is in
 * approval.h, the states in sql/009_approval.sql.
 *
 * Every decision runs in one transaction that starts by locking the
 * outbound_mail row (FOR UPDATE): two approvers pressing at once are
 * serialised there, and the second one finds the reply no longer waiting
 * (409).  The author check comes before the state check, so an author
 * always hears 403 for their own reply, whatever became of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "approval.h"
#include "clock.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "piidetect.h"
#include "pool.h"
#include "reply.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define APPROVAL_LIST_MAX 200      /* replies waiting, listed at most */
#define APPROVAL_DEAD_MAX 500      /* dead mails listed at most */
#define APPROVAL_COMMENT_MAX 2000  /* bytes of a comment */
#define APPROVAL_QUEUE_MAX 100     /* bytes of a queue name (sql/009) */
#define APPROVAL_FINDINGS 16
#define APPROVAL_SCAN_POOL (4u << 20)
/* the reply's preview, one shape for the list and for one mail: the
 * message as stored, the envelope, the Bcc of the draft, the attachments
 * the draft chose (their refs are what an approver ticks) */
#define APPROVAL_COLS                                                                      \
	"SELECT o.id, o.ticket_id, o.message_id, o.state, o.created_by, " US("o.created_at")  \
	", o.approval, o.template, o.review, o.reviewed_by, " US("o.reviewed_at")             \
	", o.review_comment, m.subject, m.to_list, m.cc_list, m.body_text,"                   \
	" array_to_json(o.rcpt)::text, coalesce((o.draft->'bcc')::text, '[]'), t.subject,"    \
	" t.queue, coalesce((SELECT json_agg(json_build_object('message_id', a.message_id,"   \
	" 'idx', a.idx, 'filename', a.filename, 'content_type', a.content_type, 'size',"      \
	" a.size) ORDER BY x.n) FROM jsonb_array_elements(o.draft->'attachments')"            \
	" WITH ORDINALITY x(e, n) JOIN attachment a ON a.message_id = (x.e->>'message_id')"   \
	"::bigint AND a.idx = (x.e->>'idx')::int), (SELECT json_agg(json_build_object("       \
	"'message_id', a.message_id, 'idx', a.idx, 'filename', a.filename, 'content_type',"   \
	" a.content_type, 'size', a.size) ORDER BY a.idx) FROM attachment a"                  \
	" WHERE a.message_id = m.id), '[]')::text, o.draft::text"                             \
	" FROM outbound_mail o JOIN message m ON m.id = o.message_id"                         \
	" JOIN ticket t ON t.id = o.ticket_id"
enum { AC_ID, AC_TICKET, AC_MSG, AC_STATE, AC_BY, AC_AT, AC_APPROVAL, AC_TEMPLATE, AC_REVIEW,
       AC_REVIEWED_BY, AC_REVIEWED_AT, AC_COMMENT, AC_SUBJECT, AC_TO, AC_CC, AC_BODY, AC_RCPT,
       AC_BCC, AC_TSUBJECT, AC_QUEUE, AC_ATTS, AC_DRAFT };

static const struct db_stmt approval_stmts[] = {
	{ "approval_list",
	  APPROVAL_COLS " WHERE o.state = 'awaiting_approval'"
	  " AND ($1::text IS NULL OR o.created_by <> $1) ORDER BY o.created_at, o.id LIMIT 200" },
	{ "approval_get", APPROVAL_COLS " WHERE o.id = $1" },
	{ "approval_lock",
	  "SELECT o.ticket_id, o.message_id, o.state, o.created_by, o.draft::text,"
	  " (SELECT length(m.subject) FROM message m WHERE m.id = o.message_id),"
	  " (SELECT length(m.body_text) FROM message m WHERE m.id = o.message_id)"
	  " FROM outbound_mail o WHERE o.id = $1 AND o.kind = 'reply' FOR UPDATE" },
	{ "approval_decide",
	  "UPDATE outbound_mail SET state = $2, not_before = coalesce($3::timestamptz, not_before),"
	  " review = $4, reviewed_by = $5, reviewed_at = $6, review_comment = $7"
	  " WHERE id = $1 AND state = 'awaiting_approval'" },
	{ "approval_msg_state",
	  "UPDATE message SET delivery_state = $2, delivery_note = NULL WHERE id = $1" },
	/* approved: now the citizen is being answered */
	{ "approval_ticket_approved",
	  "UPDATE ticket SET status = CASE WHEN status IN ('new', 'open') THEN 'waiting_citizen'"
	  " ELSE status END, updated_at = $2, has_new_reply = false WHERE id = $1" },
	{ "approval_ticket_touch", "UPDATE ticket SET updated_at = $2 WHERE id = $1" },
	{ "approval_event",
	  "INSERT INTO ticket_event (ticket_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)" },
	{ "approval_notify",
	  "SELECT pg_notify('ticket_change', json_build_object('id', $1::bigint, 'op', $2::text)::text),"
	  " CASE WHEN $4 THEN pg_notify('outbound', $3) END" },
	{ "approval_dead",
	  "SELECT o.id, o.ticket_id, o.message_id, array_to_json(o.rcpt)::text, o.last_error,"
	  " o.attempts, " US("o.created_at") ", o.created_by, o.kind, m.subject"
	  " FROM outbound_mail o LEFT JOIN message m ON m.id = o.message_id"
	  " WHERE o.state = 'dead' ORDER BY o.id LIMIT 500" },
	{ "approval_msg_len", "SELECT length(subject), length(body_text) FROM message WHERE id = $1" },
	{ "approval_state", "SELECT state FROM outbound_mail WHERE id = $1" },
	{ "approval_requeue", "SELECT outbound_requeue($1::bigint, $2, $3::timestamptz)" },
	{ "approval_queue_get",
	  "SELECT approval_required, updated_by, " US("updated_at") " FROM queue_setting"
	  " WHERE queue = $1" },
	{ "approval_queue_put",
	  "INSERT INTO queue_setting AS s (queue, approval_required, updated_by, updated_at)"
	  " VALUES ($1, $2, $3, $4) ON CONFLICT (queue) DO UPDATE SET"
	  " approval_required = EXCLUDED.approval_required, updated_by = EXCLUDED.updated_by,"
	  " updated_at = EXCLUDED.updated_at"
	  " RETURNING s.approval_required, s.updated_by, " US("s.updated_at") },
	{ NULL, NULL },
};

void approval_prepare(struct db *db)
{
	db_prepare_all(db, approval_stmts);
}

/* ---- documents ---- */

/* who may decide on a reply: a supervisor or an operator, not its author */
static int approval_may_decide(const struct api_call *c, const char *author)
{
	return (c->session->role_bit & (API_OPERATOR | API_SUPERVISOR)) != 0 &&
	       strcmp(author, c->session->login) != 0;
}

static json_t *approval_doc(const struct api_call *c, const struct db_res *r, int i)
{
	json_t *d = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			      " s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			      "id", api_col_int(r, i, AC_ID), "ticket_id",
			      api_col_int(r, i, AC_TICKET), "message_id", api_col_int(r, i, AC_MSG),
			      "state", api_col_str(r, i, AC_STATE), "created_by",
			      api_col_str(r, i, AC_BY), "created_at", api_col_time(r, i, AC_AT),
			      "approval", api_col_str(r, i, AC_APPROVAL), "template",
			      api_col_str(r, i, AC_TEMPLATE), "review", api_col_str(r, i, AC_REVIEW),
			      "reviewed_by", api_col_str(r, i, AC_REVIEWED_BY), "reviewed_at",
			      api_col_time(r, i, AC_REVIEWED_AT), "comment",
			      api_col_str(r, i, AC_COMMENT), "subject", api_col_str(r, i, AC_SUBJECT),
			      "to", api_col_str(r, i, AC_TO), "cc", api_col_str(r, i, AC_CC), "body",
			      api_col_str(r, i, AC_BODY), "rcpt", api_col_json(r, i, AC_RCPT), "bcc",
			      api_col_json(r, i, AC_BCC), "ticket_subject",
			      api_col_str(r, i, AC_TSUBJECT), "queue", api_col_str(r, i, AC_QUEUE),
			      "attachments", api_col_json(r, i, AC_ATTS));

	if (d != NULL)
		json_object_set_new(d, "can_decide",
				    json_boolean(strcmp(db_res_val(r, i, AC_STATE),
							"awaiting_approval") == 0 &&
						 approval_may_decide(c, db_res_val(r, i, AC_BY))));
	return d;
}

void approval_list(struct api_call *c)
{
	/* operators never see their own: they cannot decide on them */
	const char *v[1] = { c->session->role_bit == API_SUPERVISOR ? NULL : c->session->login };
	struct db_res *r = db_query(c->db, "approval_list", 1, v, NULL, NULL, 0);
	json_t *list;

	if (r == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, approval_doc(c, r, i));
	db_res_free(r);
	api_json(c, 200, json_pack("{s:o, s:i}", "approvals", list, "limit", APPROVAL_LIST_MAX));
}

void approval_get(struct api_call *c)
{
	char os[24];
	const char *v[1] = { os };
	struct db_res *r;
	json_t *doc;

	snprintf(os, sizeof(os), "%lld", c->id[0]);
	if ((r = db_query(c->db, "approval_get", 1, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (db_res_rows(r) != 1) {
		db_res_free(r);
		api_error(c, 404, "no such outgoing reply");
		return;
	}
	doc = approval_doc(c, r, 0);
	if (doc != NULL)
		json_object_set_new(doc, "draft", db_res_null(r, 0, AC_DRAFT)
							  ? json_null()
							  : api_col_json(r, 0, AC_DRAFT));
	db_res_free(r);
	api_json(c, 200, doc);
}

/* ---- a comment for the timeline ---- */

static json_t *approval_finding(const char *s, const struct piidetect_finding *f)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:s%}", "field", "comment", "kind",
			 piidetect_kind_name(f->kind), "start", (json_int_t)f->u16_start, "end",
			 (json_int_t)f->u16_end, "text", s + f->start, f->end - f->start);
}

/* 0 when s may go on the timeline; else answered 422 (personal data) or 500 */
static int approval_scan(struct api_call *c, const char *s)
{
	struct piidetect_finding f[APPROVAL_FINDINGS];
	struct pool *p = pool_create(APPROVAL_SCAN_POOL);
	json_t *list;
	int n;

	n = p ? piidetect_scan(p, s, strlen(s), f, APPROVAL_FINDINGS) : -1;
	pool_destroy(p);
	if (n < 0) {
		api_error(c, 500, "the comment could not be checked");
		return -1;
	}
	if (n == 0)
		return 0;
	list = json_array();
	for (int k = 0; k < n && k < APPROVAL_FINDINGS; k++)
		json_array_append_new(list, approval_finding(s, &f[k]));
	api_json(c, 422, json_pack("{s:s, s:o}", "error",
				   "personal data in the comment: the timeline keeps none",
				   "findings", list));
	return -1;
}

/* body's "comment" (trimmed; NULL when absent or blank), checked; -1
 * after answering */
static int approval_comment(struct api_call *c, const json_t *body, int required,
			    const char **out)
{
	const json_t *v = json_object_get(body, "comment");
	const char *s = json_string_value(v);
	size_t n;

	*out = NULL;
	if (v != NULL && !json_is_null(v) &&
	    (s == NULL || json_string_length(v) > APPROVAL_COMMENT_MAX ||
	     strlen(s) != json_string_length(v))) {
		api_error(c, 400, "comment: must be a string of at most 2000 bytes");
		return -1;
	}
	for (; s != NULL && (*s == ' ' || *s == '\n' || *s == '\t'); s++)
		;
	n = s ? strlen(s) : 0;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t'))
		n--;
	if (n == 0) {
		if (required)
			api_error(c, 400, "comment: say what is to be changed");
		return required ? -1 : 0;
	}
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f) {
			api_error(c, 400, "comment: no control characters");
			return -1;
		}
	*out = pool_strndup(c->req->pool, s, n);
	return *out == NULL || approval_scan(c, *out) < 0 ? -1 : 0;
}

/* ---- deciding ---- */

struct approval_row {
	long long ticket, message;
	char state[24];
	const char *author;
	const char *draft; /* NULL when the reply was not held */
	long long subject_len, body_len;
};

/* the row locked; 0, or -1 after answering 404/403/409/503 */
static int approval_lock(struct api_call *c, struct approval_row *o)
{
	char os[24];
	const char *v[1] = { os };
	struct db_res *r;
	struct pool *p = c->req->pool;

	snprintf(os, sizeof(os), "%lld", c->id[0]);
	if ((r = db_query(c->db, "approval_lock", 1, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return -1;
	}
	if (db_res_rows(r) != 1) {
		db_res_free(r);
		api_error(c, 404, "no such outgoing reply");
		return -1;
	}
	o->ticket = db_res_ll(r, 0, 0);
	o->message = db_res_ll(r, 0, 1);
	snprintf(o->state, sizeof(o->state), "%s", db_res_val(r, 0, 2));
	o->author = pool_strdup(p, db_res_val(r, 0, 3));
	o->draft = db_res_null(r, 0, 4) ? NULL : pool_strdup(p, db_res_val(r, 0, 4));
	o->subject_len = db_res_ll(r, 0, 5);
	o->body_len = db_res_ll(r, 0, 6);
	db_res_free(r);
	if (o->author == NULL || !approval_may_decide(c, o->author)) {
		api_error(c, 403, "a second person must decide: the author may not approve or "
				  "return their own reply");
		return -1;
	}
	if (strcmp(o->state, "awaiting_approval") != 0) {
		api_error(c, 409, pool_printf(p, "the reply is %s, not waiting for approval",
					      o->state));
		return -1;
	}
	return 0;
}

struct approval_step {
	const char *state;  /* queued or returned */
	const char *review; /* approved, edited, returned */
	const char *event;  /* reply_approved, reply_edited_approved, reply_returned */
	const char *detail;
	const char *comment;
	char now[40], send_at[40];
};

static int approval_event(struct api_call *c, const struct approval_row *o,
			  const struct approval_step *s)
{
	char ts[24];
	const char *v[5] = { ts, s->now, c->session->login, s->event, s->detail };

	snprintf(ts, sizeof(ts), "%lld", o->ticket);
	return db_cmd(c->db, "approval_event", 5, v, NULL, NULL) == 1 ? 0 : -1;
}

static int approval_notify(struct api_call *c, const struct approval_row *o,
			   const struct approval_step *s)
{
	char ts[24], os[24];
	const char *v[4] = { ts, s->event, os, strcmp(s->state, "queued") == 0 ? "true" : "false" };
	struct db_res *r;

	snprintf(ts, sizeof(ts), "%lld", o->ticket);
	snprintf(os, sizeof(os), "%lld", c->id[0]);
	if ((r = db_query(c->db, "approval_notify", 4, v, NULL, NULL, 0)) == NULL)
		return -1;
	db_res_free(r);
	return 0;
}

/* the writes of one decision, inside the caller's transaction */
static int approval_write(struct api_call *c, const struct approval_row *o,
			  const struct approval_step *s)
{
	char os[24], ms[24], ts[24];
	int queued = strcmp(s->state, "queued") == 0;
	const char *vo[7] = { os, s->state, queued ? s->send_at : NULL, s->review,
			      c->session->login, s->now, s->comment };
	const char *vm[2] = { ms, s->state }, *vt[2] = { ts, s->now };

	snprintf(os, sizeof(os), "%lld", c->id[0]);
	snprintf(ms, sizeof(ms), "%lld", o->message);
	snprintf(ts, sizeof(ts), "%lld", o->ticket);
	if (db_cmd(c->db, "approval_decide", 7, vo, NULL, NULL) != 1 ||
	    db_cmd(c->db, "approval_msg_state", 2, vm, NULL, NULL) != 1 ||
	    db_cmd(c->db, queued ? "approval_ticket_approved" : "approval_ticket_touch", 2, vt,
		   NULL, NULL) != 1 ||
	    approval_event(c, o, s) < 0 || approval_notify(c, o, s) < 0)
		return -1;
	return 0;
}

static void approval_step_init(struct api_call *c, struct approval_step *s, const char *review,
			       const char *comment)
{
	int64_t now = clock_now_us();

	memset(s, 0, sizeof(*s));
	s->review = review;
	s->comment = comment;
	s->state = strcmp(review, "returned") == 0 ? "returned" : "queued";
	s->event = strcmp(review, "approved") == 0   ? "reply_approved"
		   : strcmp(review, "edited") == 0 ? "reply_edited_approved"
						   : "reply_returned";
	clock_format_iso(now, s->now, sizeof(s->now));
	clock_format_iso(now + (int64_t)reply_send_delay_s() * 1000000, s->send_at,
			 sizeof(s->send_at));
	s->detail = comment ? pool_printf(c->req->pool, "outbound %lld: %s", c->id[0], comment)
			    : pool_printf(c->req->pool, "outbound %lld", c->id[0]);
}

/* commit the step (the transaction is open, the row locked) and answer */
static void approval_finish(struct api_call *c, const struct approval_row *o,
			    const struct approval_step *s)
{
	if (s->detail == NULL || approval_write(c, o, s) < 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		api_error(c, 503, "database unavailable");
		return;
	}
	log_info("ticket=%lld: outbound=%lld %s by %s (written by %s)", o->ticket, c->id[0],
		 s->review, c->session->login, o->author);
	api_json(c, 200, json_pack("{s:I, s:I, s:s, s:s, s:s?}", "outbound_id",
				   (json_int_t)c->id[0], "message_id", (json_int_t)o->message,
				   "state", s->state, "review", s->review, "send_at",
				   strcmp(s->state, "queued") == 0 ? s->send_at : NULL));
}

/* approve or return: the body's comment, the lock, the writes */
static void approval_decide(struct api_call *c, const char *review, int need_comment)
{
	struct approval_row o;
	struct approval_step s;
	const char *comment;
	json_t *body = api_body_object(c);
	int bad;

	if (body == NULL)
		return;
	bad = approval_comment(c, body, need_comment, &comment) < 0;
	json_decref(body);
	if (bad)
		return;
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (approval_lock(c, &o) < 0) {
		db_rollback(c->db);
		return;
	}
	approval_step_init(c, &s, review, comment);
	approval_finish(c, &o, &s);
}

void approval_approve(struct api_call *c)
{
	approval_decide(c, "approved", 0);
}

void approval_return(struct api_call *c)
{
	approval_decide(c, "returned", 1);
}

/* ---- edit and approve ---- */

/* the stored draft with the approver's subject, body and ticks; NULL
 * after answering */
static json_t *approval_edited_draft(struct api_call *c, const struct approval_row *o,
				     const json_t *body)
{
	static const char *const keys[] = { "subject", "body", "confirmed_recipients",
					     "confirmed_attachments" };
	json_t *d = o->draft ? json_loads(o->draft, 0, NULL) : NULL;

	if (d == NULL || !json_is_object(d)) {
		json_decref(d);
		api_error(c, 409, "the reply has no stored draft to edit");
		return NULL;
	}
	if (!json_is_string(json_object_get(body, "subject")) ||
	    !json_is_string(json_object_get(body, "body"))) {
		json_decref(d);
		api_error(c, 400, "subject and body: the edited text is required");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(body, keys[i]);

		json_object_set(d, keys[i], v ? v : json_null());
	}
	return d;
}

/* "subject 40 → 42 characters, body 300 → 280 characters": what the edit
 * changed, never the text (the timeline carries no personal data) */
static const char *approval_diff(struct api_call *c, const struct approval_row *o,
				 const char *comment)
{
	char ms[24];
	const char *v[1] = { ms }, *d = NULL;
	struct db_res *r;

	snprintf(ms, sizeof(ms), "%lld", o->message);
	if ((r = db_query(c->db, "approval_msg_len", 1, v, NULL, NULL, 0)) == NULL)
		return NULL;
	if (db_res_rows(r) == 1)
		d = pool_printf(c->req->pool, "outbound %lld: subject %lld → %lld characters, "
					      "body %lld → %lld characters%s%s",
				c->id[0], o->subject_len, db_res_ll(r, 0, 0), o->body_len,
				db_res_ll(r, 0, 1), comment ? "; " : "", comment ? comment : "");
	db_res_free(r);
	return d;
}

void approval_edit(struct api_call *c)
{
	struct approval_row o;
	struct approval_step s;
	const char *comment;
	json_t *body = api_body_object(c), *draft = NULL;

	if (body == NULL)
		return;
	if (approval_comment(c, body, 0, &comment) < 0) {
		json_decref(body);
		return;
	}
	if (db_begin(c->db) < 0) {
		json_decref(body);
		api_error(c, 503, "database unavailable");
		return;
	}
	if (approval_lock(c, &o) < 0 || (draft = approval_edited_draft(c, &o, body)) == NULL ||
	    reply_rebuild(c, o.ticket, o.message, c->id[0], draft) < 0) {
		db_rollback(c->db);
		json_decref(body);
		json_decref(draft);
		return;
	}
	json_decref(body);
	json_decref(draft);
	approval_step_init(c, &s, "edited", comment);
	s.detail = approval_diff(c, &o, comment);
	approval_finish(c, &o, &s);
}

/* ---- dead mail ---- */

void approval_dead_list(struct api_call *c)
{
	const char *state = http_query(c->req, "state");
	struct db_res *r;
	json_t *list;

	if (state == NULL || strcmp(state, "dead") != 0) {
		api_error(c, 400, "state: only dead is listed here");
		return;
	}
	if ((r = db_query(c->db, "approval_dead", 0, NULL, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(
			list, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
					api_col_int(r, i, 0), "ticket_id", api_col_int(r, i, 1),
					"message_id", api_col_int(r, i, 2), "rcpt",
					api_col_json(r, i, 3), "last_error", api_col_str(r, i, 4),
					"attempts", api_col_int(r, i, 5), "created_at",
					api_col_time(r, i, 6), "created_by", api_col_str(r, i, 7),
					"kind", api_col_str(r, i, 8), "subject", api_col_str(r, i, 9)));
	db_res_free(r);
	api_json(c, 200, json_pack("{s:o, s:i}", "outbound", list, "limit", APPROVAL_DEAD_MAX));
}

/* 404 or 409 for a mail outbound_requeue() left alone */
static void approval_not_requeued(struct api_call *c, const char *os)
{
	const char *v[1] = { os };
	struct db_res *r = db_query(c->db, "approval_state", 1, v, NULL, NULL, 0);

	if (r == NULL)
		api_error(c, 503, "database unavailable");
	else if (db_res_rows(r) == 0)
		api_error(c, 404, "no such outgoing mail");
	else
		api_error(c, 409, pool_printf(c->req->pool, "the mail is %s, not dead",
					      db_res_val(r, 0, 0)));
	db_res_free(r);
}

void approval_requeue(struct api_call *c)
{
	char os[24], now[40];
	const char *v[3] = { os, c->session->login, now };
	struct db_res *r;
	long long ticket = -1;

	snprintf(os, sizeof(os), "%lld", c->id[0]);
	clock_format_iso(clock_now_us(), now, sizeof(now));
	if ((r = db_query(c->db, "approval_requeue", 3, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (db_res_rows(r) == 1 && !db_res_null(r, 0, 0))
		ticket = db_res_ll(r, 0, 0);
	db_res_free(r);
	if (ticket < 0) {
		approval_not_requeued(c, os);
		return;
	}
	log_info("ticket=%lld: outbound=%lld requeued by %s", ticket, c->id[0], c->session->login);
	api_json(c, 200, json_pack("{s:I, s:I, s:s}", "outbound_id", (json_int_t)c->id[0],
				   "ticket_id", (json_int_t)ticket, "state", "queued"));
}

/* ---- queue settings ---- */

/* NAME of /api/admin/queues/NAME/settings, or NULL after answering 404/400 */
static const char *approval_queue_name(struct api_call *c)
{
	const char *s = c->req->path + strlen("/api/admin/queues/");
	size_t n = strlen(s), k = strlen("/settings");
	char *name;

	if (n <= k || strcmp(s + n - k, "/settings") != 0) {
		api_error(c, 404, "no such API path");
		return NULL;
	}
	n -= k;
	name = pool_strndup(c->req->pool, s, n);
	for (size_t i = 0; name != NULL && i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '/')
			name = NULL;
	if (name == NULL || n > APPROVAL_QUEUE_MAX) {
		api_error(c, 400, "queue: a name of at most 100 bytes, without '/'");
		return NULL;
	}
	return name;
}

static void approval_queue_answer(struct api_call *c, const char *name, const struct db_res *r)
{
	int found = db_res_rows(r) == 1;

	api_json(c, 200, json_pack("{s:s, s:b, s:o, s:o}", "queue", name, "approval_required",
				   found && strcmp(db_res_val(r, 0, 0), "t") == 0, "updated_by",
				   found ? api_col_str(r, 0, 1) : json_null(), "updated_at",
				   found ? api_col_time(r, 0, 2) : json_null()));
}

void approval_queue_get(struct api_call *c)
{
	const char *name = approval_queue_name(c);
	const char *v[1] = { name };
	struct db_res *r;

	if (name == NULL)
		return;
	if ((r = db_query(c->db, "approval_queue_get", 1, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	approval_queue_answer(c, name, r);
	db_res_free(r);
}

void approval_queue_put(struct api_call *c)
{
	const char *name = approval_queue_name(c);
	const char *v[4] = { name, NULL, c->session->login, api_now_iso(c, 0) };
	json_t *body, *ap;
	struct db_res *r;

	if (name == NULL || (body = api_body_object(c)) == NULL)
		return;
	ap = json_object_get(body, "approval_required");
	v[1] = json_is_true(ap) ? "true" : "false";
	if (!json_is_boolean(ap) || json_object_size(body) != 1) {
		json_decref(body);
		api_error(c, 400, "the body is {\"approval_required\": true or false}");
		return;
	}
	json_decref(body);
	if ((r = db_query(c->db, "approval_queue_put", 4, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	log_info("queue=%s: approval %s, set by %s", name, v[1][0] == 't' ? "required" : "not required",
		 c->session->login);
	approval_queue_answer(c, name, r);
	db_res_free(r);
}
