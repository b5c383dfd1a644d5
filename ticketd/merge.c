/* Merging tickets and splitting an item off; the rules are in merge.h.
 *
 * Each request is one transaction in the manner of workflow.c: the
 * tickets' rows locked first (FOR UPDATE, in id order), the checks made
 * on the locked rows, then one statement that moves the rows, the events
 * with the actor, one NOTIFY ticket_change per ticket, commit.  The moves
 * are single statements of data-modifying CTEs, so a merge costs a few
 * round trips however much the ticket holds.  Each move writes the ids it
 * moved into merge_log in the same statement; the undo reads that row under
 * the same ticket locks and moves back only those rows (merge.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "merge.h"
#include "pool.h"

static const struct db_stmt merge_stmts[] = {
	/* the sort is below the row locks, so the rows are locked in id order */
	{ "merge_lock",
	  "SELECT t.id, t.status, t.assignee, u.login, u.display_name, t.merged_into,"
	  " EXISTS (SELECT 1 FROM case_record c WHERE c.ticket_id = t.id)"
	  " FROM ticket t LEFT JOIN app_user u ON u.id = t.assignee"
	  " WHERE t.id = ANY ($1::bigint[]) ORDER BY t.id FOR UPDATE OF t" },
	/* $1 source, $2 target, $3 user id, $4 login, $5 remote address, $6 now;
	 * what moves is recorded in merge_log (sql/015) for the undo */
	{ "merge_move",
	  "WITH m AS (UPDATE message SET ticket_id = $2 WHERE ticket_id = $1 RETURNING id),"
	  " n AS (UPDATE ticket_note SET ticket_id = $2 WHERE ticket_id = $1 RETURNING id),"
	  " o AS (UPDATE outbound_mail SET ticket_id = $2 WHERE ticket_id = $1 RETURNING id),"
	  " s AS (UPDATE search_doc SET ticket_id = $2 WHERE ticket_id = $1"
	  "  RETURNING kind, source_id),"
	  " i AS (UPDATE inbound_item SET ticket_id = $2 WHERE ticket_id = $1 RETURNING id),"
	  " k AS (UPDATE case_record SET ticket_id = $2 WHERE ticket_id = $1 RETURNING 1),"
	  " src AS (SELECT status, assignee, assigned_at, resolved_at, last_inbound_at,"
	  "  has_new_reply FROM ticket WHERE id = $1),"
	  " tgt0 AS (SELECT has_new_reply FROM ticket WHERE id = $2),"
	  " tgt AS (UPDATE ticket SET updated_at = $6::timestamptz,"
	  "  last_inbound_at = greatest(last_inbound_at, (SELECT last_inbound_at FROM src)),"
	  "  has_new_reply = has_new_reply OR (SELECT has_new_reply FROM src) WHERE id = $2),"
	  /* tickets merged into the source before now name the target */
	  " prev AS (UPDATE ticket SET merged_into = $2 WHERE merged_into = $1 RETURNING id),"
	  " gone AS (UPDATE ticket SET status = 'closed', merged_into = $2, has_new_reply = false,"
	  "  resolved_at = coalesce(resolved_at, $6::timestamptz), updated_at = $6::timestamptz"
	  "  WHERE id = $1),"
	  " c AS (SELECT * FROM contact_merge_links($1, $2, $3, $4, $5, $6::timestamptz)),"
	  " lg AS (INSERT INTO merge_log (kind, source_id, target_id, message_ids, note_ids,"
	  "  outbound_ids, search_kinds, search_ids, item_ids, contact_roles, contact_ids,"
	  "  case_record, repointed_ids, prev_status, prev_assignee, prev_assigned_at,"
	  "  prev_resolved_at, prev_has_new_reply, target_had_new_reply, done_by, done_at)"
	  "  SELECT 'merge', $1, $2, ARRAY(SELECT id FROM m ORDER BY id),"
	  "  ARRAY(SELECT id FROM n ORDER BY id), ARRAY(SELECT id FROM o ORDER BY id),"
	  "  ARRAY(SELECT kind FROM s ORDER BY kind, source_id),"
	  "  ARRAY(SELECT source_id FROM s ORDER BY kind, source_id),"
	  "  ARRAY(SELECT id FROM i ORDER BY id), ARRAY(SELECT role FROM c ORDER BY role),"
	  "  ARRAY(SELECT contact_id FROM c ORDER BY role), EXISTS (SELECT 1 FROM k),"
	  "  ARRAY(SELECT id FROM prev ORDER BY id), src.status, src.assignee, src.assigned_at,"
	  "  src.resolved_at, src.has_new_reply, tgt0.has_new_reply, $4, $6::timestamptz"
	  "  FROM src, tgt0 RETURNING id)"
	  " SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM n), (SELECT count(*) FROM o),"
	  " (SELECT count(*) FROM s), (SELECT count(*) FROM c),"
	  " (SELECT count(*) FROM k) > 0, (SELECT id FROM lg)" },
	/* the message to split off: its direction, its ticket, whether it is
	 * the first of that ticket */
	{ "merge_split_msg",
	  "SELECT m.direction, m.ticket_id,"
	  " m.id = (SELECT min(f.id) FROM message f WHERE f.ticket_id = m.ticket_id)"
	  " FROM message m WHERE m.id = $1" },
	/* $1 ticket, $2 message, $3 now, $4 login; the new ticket's id; the
	 * move is recorded in merge_log (sql/015) for the undo */
	{ "merge_split",
	  "WITH nt AS (INSERT INTO ticket (channel, status, queue, category, subject, correspondent,"
	  "   created_at, updated_at, last_inbound_at)"
	  "  SELECT t.channel, 'open', t.queue, t.category, m.subject, nullif(lower(m.from_addr), ''),"
	  "   $3, $3, coalesce(i.arrived_at, m.created_at)"
	  "  FROM ticket t, message m LEFT JOIN inbound_item i ON i.id = m.inbound_item_id"
	  "  WHERE t.id = $1 AND m.id = $2 RETURNING id),"
	  " mm AS (UPDATE message SET ticket_id = (SELECT id FROM nt) WHERE id = $2"
	  "  RETURNING inbound_item_id),"
	  " s AS (UPDATE search_doc SET ticket_id = (SELECT id FROM nt)"
	  "  WHERE kind = 'message' AND source_id = $2 RETURNING source_id),"
	  " i AS (UPDATE inbound_item SET ticket_id = (SELECT id FROM nt)"
	  "  WHERE id = (SELECT inbound_item_id FROM mm) RETURNING id),"
	  " lg AS (INSERT INTO merge_log (kind, source_id, target_id, message_ids, search_kinds,"
	  "  search_ids, item_ids, prev_status, done_by, done_at)"
	  "  SELECT 'split', $1, nt.id, ARRAY[$2::bigint], ARRAY(SELECT 'message' FROM s),"
	  "  ARRAY(SELECT source_id FROM s), ARRAY(SELECT id FROM i),"
	  "  (SELECT status FROM ticket WHERE id = $1), $4, $3::timestamptz FROM nt),"
	  " t AS (UPDATE ticket SET updated_at = $3, last_inbound_at ="
	  "  (SELECT max(coalesce(i2.arrived_at, m2.created_at)) FROM message m2"
	  "   LEFT JOIN inbound_item i2 ON i2.id = m2.inbound_item_id"
	  "   WHERE m2.ticket_id = $1 AND m2.direction = 'in' AND m2.id <> $2) WHERE id = $1)"
	  " SELECT id FROM nt" },
	/* the last merge of a ticket (kind 'merge', $1 the source) or the
	 * split that made it (kind 'split', $1 the new ticket) */
	{ "merge_log_last",
	  "SELECT id, source_id, target_id, undone_by, message_ids[1]"
	  " FROM merge_log WHERE kind = $2 AND ($2 = 'merge' AND source_id = $1"
	  "  OR $2 = 'split' AND target_id = $1) ORDER BY id DESC LIMIT 1" },
	/* $1 log id, $2 user id, $3 login, $4 remote address, $5 now: the
	 * recorded rows still on the target go back; the source as it was */
	{ "merge_unmerge",
	  "WITH l AS (SELECT * FROM merge_log WHERE id = $1),"
	  " m AS (UPDATE message x SET ticket_id = l.source_id FROM l"
	  "  WHERE x.ticket_id = l.target_id AND x.id = ANY (l.message_ids) RETURNING x.id),"
	  " n AS (UPDATE ticket_note x SET ticket_id = l.source_id FROM l"
	  "  WHERE x.ticket_id = l.target_id AND x.id = ANY (l.note_ids) RETURNING x.id),"
	  " o AS (UPDATE outbound_mail x SET ticket_id = l.source_id FROM l"
	  "  WHERE x.ticket_id = l.target_id AND x.id = ANY (l.outbound_ids) RETURNING x.id),"
	  /* with the recorded rows, those the indexer wrote after the merge
	   * for a moved message or note */
	  " s AS (UPDATE search_doc x SET ticket_id = l.source_id FROM l"
	  "  WHERE x.ticket_id = l.target_id AND ((x.kind, x.source_id) IN"
	  "   (SELECT * FROM unnest(l.search_kinds, l.search_ids))"
	  "   OR x.kind = 'message' AND x.source_id = ANY (l.message_ids)"
	  "   OR x.kind = 'note' AND x.source_id = ANY (l.note_ids)) RETURNING 1),"
	  " i AS (UPDATE inbound_item x SET ticket_id = l.source_id FROM l"
	  "  WHERE x.ticket_id = l.target_id AND x.id = ANY (l.item_ids) RETURNING 1),"
	  " k AS (UPDATE case_record x SET ticket_id = l.source_id FROM l"
	  "  WHERE l.case_record AND x.ticket_id = l.target_id RETURNING 1),"
	  " rp AS (UPDATE ticket x SET merged_into = l.source_id FROM l"
	  "  WHERE x.id = ANY (l.repointed_ids) AND x.merged_into = l.target_id),"
	  " src AS (UPDATE ticket x SET status = l.prev_status, assignee = l.prev_assignee,"
	  "  assigned_at = l.prev_assigned_at, resolved_at = l.prev_resolved_at,"
	  "  has_new_reply = l.prev_has_new_reply, merged_into = NULL,"
	  "  updated_at = $5::timestamptz FROM l WHERE x.id = l.source_id RETURNING x.status),"
	  /* the target keeps what came after the merge: its latest incoming
	   * message left, and the new-reply flag only if it had it or new
	   * mail came since */
	  " tgt AS (UPDATE ticket x SET updated_at = $5::timestamptz, last_inbound_at = coalesce("
	  "  (SELECT max(coalesce(i2.arrived_at, m2.created_at)) FROM message m2"
	  "   LEFT JOIN inbound_item i2 ON i2.id = m2.inbound_item_id WHERE m2.ticket_id = l.target_id"
	  "   AND m2.direction = 'in' AND NOT (m2.id = ANY (l.message_ids))), x.last_inbound_at),"
	  "  has_new_reply = x.has_new_reply AND (l.target_had_new_reply OR EXISTS (SELECT 1"
	  "   FROM message m3 WHERE m3.ticket_id = l.target_id AND m3.direction = 'in'"
	  "   AND NOT (m3.id = ANY (l.message_ids)) AND m3.created_at > l.done_at))"
	  "  FROM l WHERE x.id = l.target_id),"
	  " lg AS (UPDATE merge_log x SET undone_by = $3, undone_at = $5::timestamptz FROM l"
	  "  WHERE x.id = l.id)"
	  " SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM n), (SELECT count(*) FROM o),"
	  " (SELECT count(*) FROM s), contact_unmerge(l.target_id, l.source_id, l.contact_roles,"
	  "  l.contact_ids, $2, $3, $4, $5::timestamptz),"
	  " (SELECT count(*) FROM k) > 0, (SELECT status FROM src) FROM l" },
	/* the messages of a split ticket other than the one split off (the
	 * first 100 are enough to say which) */
	{ "merge_unsplit_news",
	  "SELECT id, direction FROM message WHERE ticket_id = $1 AND id <> $2 ORDER BY id LIMIT 100" },
	/* $1 log id, $2 login, $3 now: the message goes back to the original,
	 * the split ticket is closed as merged back into it */
	{ "merge_unsplit",
	  "WITH l AS (SELECT * FROM merge_log WHERE id = $1),"
	  " m AS (UPDATE message x SET ticket_id = l.source_id FROM l"
	  "  WHERE x.ticket_id = l.target_id AND x.id = ANY (l.message_ids) RETURNING x.id),"
	  " s AS (UPDATE search_doc x SET ticket_id = l.source_id FROM l"
	  "  WHERE x.ticket_id = l.target_id AND x.kind = 'message'"
	  "  AND x.source_id = ANY (l.message_ids)),"
	  " i AS (UPDATE inbound_item x SET ticket_id = l.source_id FROM l"
	  "  WHERE x.ticket_id = l.target_id AND x.id = ANY (l.item_ids)),"
	  " gone AS (UPDATE ticket x SET status = 'closed', merged_into = l.source_id,"
	  "  has_new_reply = false, resolved_at = coalesce(x.resolved_at, $3::timestamptz),"
	  "  updated_at = $3::timestamptz FROM l WHERE x.id = l.target_id),"
	  " back AS (UPDATE ticket x SET updated_at = $3::timestamptz,"
	  "  last_inbound_at = greatest(x.last_inbound_at, (SELECT max(coalesce(i2.arrived_at,"
	  "   m2.created_at)) FROM message m2 LEFT JOIN inbound_item i2 ON i2.id = m2.inbound_item_id"
	  "   WHERE m2.id = ANY (l.message_ids))) FROM l WHERE x.id = l.source_id),"
	  " lg AS (UPDATE merge_log x SET undone_by = $2, undone_at = $3::timestamptz FROM l"
	  "  WHERE x.id = l.id)"
	  " SELECT count(*) FROM m" },
	{ "merge_event",
	  "INSERT INTO ticket_event (ticket_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)" },
	{ "merge_notify",
	  "SELECT pg_notify('ticket_change',"
	  " json_build_object('id', $1::bigint, 'op', $2::text)::text)" },
	{ NULL, NULL },
};

/* a ticket as locked */
struct merge_tk {
	long long id;
	const char *status;
	long long assignee; /* 0: nobody */
	const char *login, *name;
	long long merged_into; /* 0: not merged */
	int has_case;
};

void merge_prepare(struct db *db)
{
	db_prepare_all(db, merge_stmts);
}

static const char *merge_str(struct api_call *c, long long v)
{
	return pool_printf(c->req->pool, "%lld", v);
}

static void merge_bad(struct api_call *c, const char *field, const char *why)
{
	const char *msg = pool_printf(c->req->pool, "%s: %s", field, why);

	api_error(c, 400, msg ? msg : "bad request");
}

static void merge_refuse(struct api_call *c, long long id, const char *msg)
{
	json_t *doc = json_pack("{s:s, s:I}", "error", msg, "ticket", (json_int_t)id);

	api_json(c, 409, doc);
}

/* a positive id of the body; -1 after a 400 */
static int merge_id_field(struct api_call *c, json_t *body, const char *key, long long *out)
{
	json_t *v = json_object_get(body, key);

	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		merge_bad(c, key, "must be the number of a ticket or message");
		return -1;
	}
	*out = (long long)json_integer_value(v);
	return 0;
}

/* an optional take_over flag; -1 after a 400 */
static int merge_take_over(struct api_call *c, json_t *body, int *out)
{
	json_t *v = json_object_get(body, "take_over");

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		merge_bad(c, "take_over", "must be true or false");
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* locks the n tickets of ids (n <= 2) into tk in the order of ids; the
 * number found, or -1 on a database error */
static int merge_lock(struct api_call *c, const long long *ids, int n, struct merge_tk *tk)
{
	const char *v[1] = { n == 1 ? pool_printf(c->req->pool, "{%lld}", ids[0])
				    : pool_printf(c->req->pool, "{%lld,%lld}", ids[0], ids[1]) };
	struct db_res *r = db_query(c->db, "merge_lock", 1, v, NULL, NULL, 0);
	struct pool *p = c->req->pool;
	int found = 0;

	if (r == NULL)
		return -1;
	for (int row = 0; row < db_res_rows(r); row++) {
		long long id = db_res_ll(r, row, 0);
		struct merge_tk *t = &tk[id == ids[0] ? 0 : 1];

		t->id = id;
		t->status = pool_strdup(p, db_res_val(r, row, 1));
		t->assignee = db_res_null(r, row, 2) ? 0 : db_res_ll(r, row, 2);
		t->login = pool_strdup(p, db_res_val(r, row, 3));
		t->name = pool_strdup(p, db_res_val(r, row, 4));
		t->merged_into = db_res_null(r, row, 5) ? 0 : db_res_ll(r, row, 5);
		t->has_case = strcmp(db_res_val(r, row, 6), "t") == 0;
		found++;
	}
	db_res_free(r);
	return found;
}

/* 0 when the actor may change the ticket: nobody holds it, the actor does,
 * or a supervisor takes it over on purpose; -1 after the 409 (with the
 * holder, as workflow.c answers it) otherwise */
static int merge_holder_ok(struct api_call *c, const struct merge_tk *t, int take_over,
			   const char *what)
{
	json_t *doc;

	if (t->assignee == 0 || t->assignee == c->session->user_id)
		return 0;
	if (take_over && c->session->role_bit == API_SUPERVISOR)
		return 0;
	doc = json_pack("{s:s, s:I, s:{s:I, s:s, s:s}}", "error",
			"the ticket is held by someone else", "ticket", (json_int_t)t->id, "holder",
			"id", (json_int_t)t->assignee, "login", t->login ? t->login : "",
			"display_name", t->name ? t->name : "");
	log_info("ticket=%lld: %s by %s refused: held by %s", t->id, what, c->session->login,
		 t->login);
	api_json(c, 409, doc);
	return -1;
}

static int merge_exec(struct api_call *c, const char *stmt, int n, const char *const *v)
{
	struct db_res *r = db_query(c->db, stmt, n, v, NULL, NULL, 0);

	db_res_free(r);
	return r ? 0 : -1;
}

/* the event on the ticket's timeline and its NOTIFY */
static int merge_record(struct api_call *c, long long id, const char *now, const char *kind,
			const char *detail, const char *op)
{
	const char *tid = merge_str(c, id);
	const char *ev[5] = { tid, now, c->session->login, kind, detail };
	const char *nv[2] = { tid, op };

	if (merge_exec(c, "merge_event", 5, ev) < 0)
		return -1;
	return merge_exec(c, "merge_notify", 2, nv);
}

/* ---- merge ---- */

/* 0 when source s may go into target t; -1 after the answer */
static int merge_check(struct api_call *c, const struct merge_tk *tk, int take_over)
{
	const struct merge_tk *s = &tk[0], *t = &tk[1];

	if (s->merged_into != 0) {
		merge_refuse(c, s->id, "the ticket is merged already");
		return -1;
	}
	if (t->merged_into != 0) {
		merge_refuse(c, t->id, "the target ticket is merged into another ticket");
		return -1;
	}
	if (merge_holder_ok(c, s, take_over, "merge") < 0 ||
	    merge_holder_ok(c, t, take_over, "merge") < 0)
		return -1;
	if (s->has_case && t->has_case) {
		merge_refuse(c, t->id,
			     "both tickets have a case record: keep one (clear the other) first");
		return -1;
	}
	return 0;
}

/* the moves; the answer's "moved" object, NULL on a database error */
static json_t *merge_move(struct api_call *c, long long from, long long into, const char *now)
{
	const char *v[6] = { merge_str(c, from), merge_str(c, into),
			     pool_printf(c->req->pool, "%ld", c->session->user_id),
			     c->session->login, c->req->remote_addr, now };
	struct db_res *r = db_query(c->db, "merge_move", 6, v, NULL, NULL, 0);
	json_t *moved;

	if (r == NULL || db_res_rows(r) != 1) {
		db_res_free(r);
		return NULL;
	}
	moved = json_pack("{s:o, s:o, s:o, s:o, s:o, s:b}", "messages", api_col_int(r, 0, 0),
			  "notes", api_col_int(r, 0, 1), "outbound", api_col_int(r, 0, 2),
			  "search_docs", api_col_int(r, 0, 3), "contacts", api_col_int(r, 0, 4),
			  "case_record", strcmp(db_res_val(r, 0, 5), "t") == 0);
	db_res_free(r);
	return moved;
}

/* the locked, checked transaction; the answer's "moved", NULL after an
 * answer (*answered) or on a database error */
static json_t *merge_txn(struct api_call *c, long long into, int take_over, int *answered)
{
	long long ids[2] = { c->id[0], into };
	struct merge_tk tk[2];
	const char *now = api_now_iso(c, 0), *detail;
	json_t *moved;
	int n;

	memset(tk, 0, sizeof(tk));
	*answered = 0;
	if ((n = merge_lock(c, ids, 2, tk)) < 0)
		return NULL;
	*answered = 1;
	if (n != 2) {
		api_error(c, 404, tk[0].id == 0 ? "no such ticket" : "into: no such ticket");
		return NULL;
	}
	if (merge_check(c, tk, take_over) < 0)
		return NULL;
	*answered = 0;
	detail = pool_printf(c->req->pool, "%lld -> %lld", c->id[0], into);
	moved = merge_move(c, c->id[0], into, now);
	if (moved == NULL ||
	    merge_record(c, c->id[0], now, "merged_into", detail, "merged") < 0 ||
	    merge_record(c, into, now, "merged_into", detail, "merged") < 0) {
		json_decref(moved);
		return NULL;
	}
	return moved;
}

void merge_merge(struct api_call *c)
{
	json_t *body = api_body_object(c), *moved;
	long long into;
	int take_over, answered;

	if (body == NULL)
		return;
	if (merge_id_field(c, body, "into", &into) < 0 || merge_take_over(c, body, &take_over) < 0) {
		json_decref(body);
		return;
	}
	json_decref(body);
	if (into == c->id[0]) {
		merge_bad(c, "into", "a ticket cannot be merged into itself");
		return;
	}
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	moved = merge_txn(c, into, take_over, &answered);
	if (moved == NULL || db_commit(c->db) < 0) {
		db_rollback(c->db);
		json_decref(moved);
		if (!answered)
			api_error(c, 503, "database unavailable");
		return;
	}
	log_info("ticket=%lld: merged into %lld by %s", c->id[0], into, c->session->login);
	api_json(c, 200, json_pack("{s:I, s:I, s:o}", "id", (json_int_t)c->id[0], "merged_into",
				   (json_int_t)into, "moved", moved));
}

/* ---- split ---- */

/* 0 when message mid may be split off ticket tid; -1 after a 400 (or 503) */
static int merge_split_ok(struct api_call *c, long long mid)
{
	const char *v[1] = { merge_str(c, mid) };
	struct db_res *r = db_query(c->db, "merge_split_msg", 1, v, NULL, NULL, 0);
	const char *why = NULL;

	if (r == NULL) {
		api_error(c, 503, "database unavailable");
		return -1;
	}
	if (db_res_rows(r) != 1 || db_res_ll(r, 0, 1) != c->id[0])
		why = "is not a message of this ticket";
	else if (strcmp(db_res_val(r, 0, 0), "in") != 0)
		why = "only an incoming message can be split off";
	else if (strcmp(db_res_val(r, 0, 2), "t") == 0)
		why = "the first message stays with its ticket";
	db_res_free(r);
	if (why != NULL) {
		merge_bad(c, "message_id", why);
		return -1;
	}
	return 0;
}

/* the new ticket's id; 0 after an answer (*answered), -1 on a database error */
static long long merge_split_txn(struct api_call *c, long long mid, int take_over)
{
	struct merge_tk tk[1];
	const char *now = api_now_iso(c, 0);
	const char *v[4] = { merge_str(c, c->id[0]), merge_str(c, mid), now, c->session->login };
	struct db_res *r;
	long long nid;
	int n;

	memset(tk, 0, sizeof(tk));
	if ((n = merge_lock(c, &c->id[0], 1, tk)) < 0)
		return -1;
	if (n != 1) {
		api_error(c, 404, "no such ticket");
		return 0;
	}
	if (tk[0].merged_into != 0) {
		merge_refuse(c, tk[0].id, "the ticket is merged into another ticket");
		return 0;
	}
	if (merge_holder_ok(c, &tk[0], take_over, "split") < 0 || merge_split_ok(c, mid) < 0)
		return 0;
	r = db_query(c->db, "merge_split", 4, v, NULL, NULL, 0);
	nid = r != NULL && db_res_rows(r) == 1 ? db_res_ll(r, 0, 0) : -1;
	db_res_free(r);
	if (nid < 0 ||
	    merge_record(c, c->id[0], now, "split_to", merge_str(c, nid), "split") < 0 ||
	    merge_record(c, nid, now, "split_from", v[0], "created") < 0)
		return -1;
	return nid;
}

void merge_split(struct api_call *c)
{
	json_t *body = api_body_object(c);
	long long mid, nid;
	int take_over;

	if (body == NULL)
		return;
	if (merge_id_field(c, body, "message_id", &mid) < 0 ||
	    merge_take_over(c, body, &take_over) < 0) {
		json_decref(body);
		return;
	}
	json_decref(body);
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	nid = merge_split_txn(c, mid, take_over);
	if (nid <= 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		if (nid != 0)
			api_error(c, 503, "database unavailable");
		return;
	}
	log_info("ticket=%lld: message %lld split off to ticket %lld by %s", c->id[0], mid, nid,
		 c->session->login);
	api_json(c, 201, json_pack("{s:I, s:I, s:I}", "id", (json_int_t)nid, "split_from",
				   (json_int_t)c->id[0], "message_id", (json_int_t)mid));
}

/* ---- undo (sql/015_merge_undo.sql) ---- */

/* the last merge_log row of a kind for a ticket */
struct merge_log {
	long long id; /* 0: none */
	long long source, target;
	long long message;     /* a split: the message split off */
	const char *undone_by; /* NULL: not undone */
};

static int merge_log_last(struct api_call *c, long long id, const char *kind, struct merge_log *lg)
{
	const char *v[2] = { merge_str(c, id), kind };
	struct db_res *r = db_query(c->db, "merge_log_last", 2, v, NULL, NULL, 0);

	memset(lg, 0, sizeof(*lg));
	if (r == NULL)
		return -1;
	if (db_res_rows(r) == 1) {
		lg->id = db_res_ll(r, 0, 0);
		lg->source = db_res_ll(r, 0, 1);
		lg->target = db_res_ll(r, 0, 2);
		if (!db_res_null(r, 0, 3))
			lg->undone_by = pool_strdup(c->req->pool, db_res_val(r, 0, 3));
		lg->message = db_res_null(r, 0, 4) ? 0 : db_res_ll(r, 0, 4);
	}
	db_res_free(r);
	return 0;
}

/* Reads the log row of ticket c->id[0], locks the ticket and the other
 * ticket of that row in id order (as merge and split do) and reads the row
 * again: the lock serialises every move of the ticket, so the row read
 * under it is the one to undo.  The number of tickets locked (0 after a
 * 404 or 409, *answered), -1 on a database error. */
static int merge_undo_lock(struct api_call *c, const char *kind, struct merge_log *lg,
			   struct merge_tk *tk, int *answered)
{
	long long ids[2] = { c->id[0], 0 };
	long long first;
	int n;

	*answered = 0;
	if (merge_log_last(c, c->id[0], kind, lg) < 0)
		return -1;
	first = lg->id;
	ids[1] = lg->id == 0 ? 0 : strcmp(kind, "merge") == 0 ? lg->target : lg->source;
	if ((n = merge_lock(c, ids, ids[1] ? 2 : 1, tk)) < 0 ||
	    merge_log_last(c, c->id[0], kind, lg) < 0)
		return -1;
	*answered = 1;
	if (tk[0].id == 0) {
		api_error(c, 404, "no such ticket");
		return 0;
	}
	if (lg->id != first) {
		merge_refuse(c, c->id[0], "the ticket changed meanwhile: try again");
		return 0;
	}
	*answered = 0;
	return n;
}

/* 409 "already undone" with who did it; -1 */
static int merge_undone(struct api_call *c, const char *what, const char *by)
{
	json_t *doc = json_pack("{s:s, s:I, s:s}", "error", what, "ticket", (json_int_t)c->id[0],
				"undone_by", by);

	api_json(c, 409, doc);
	return -1;
}

/* 409: the other ticket of the move was merged into another since; -1 */
static int merge_moved_on(struct api_call *c, const struct merge_tk *t, const char *which)
{
	const char *msg = pool_printf(c->req->pool,
				      "the %s ticket %lld has since been merged into %lld:"
				      " undo that merge first",
				      which, t->id, t->merged_into);
	json_t *doc = json_pack("{s:s, s:I, s:I}", "error", msg ? msg : "merged since", "ticket",
				(json_int_t)t->id, "merged_into", (json_int_t)t->merged_into);

	api_json(c, 409, doc);
	return -1;
}

/* 0 when the merge of tk[0] into tk[1] (lg) may be undone; -1 after the 409 */
static int merge_unmerge_check(struct api_call *c, const struct merge_tk *tk,
			       const struct merge_log *lg, int take_over)
{
	const struct merge_tk *s = &tk[0], *t = &tk[1];

	if (lg->id == 0) {
		merge_refuse(c, s->id,
			     s->merged_into ? "no merge of this ticket is recorded: it cannot be undone"
					    : "the ticket is not merged");
		return -1;
	}
	if (lg->undone_by != NULL)
		return merge_undone(c, "the merge was undone already", lg->undone_by);
	if (t->merged_into != 0)
		return merge_moved_on(c, t, "target");
	if (s->merged_into != t->id) {
		merge_refuse(c, s->id, "the ticket is not merged");
		return -1;
	}
	return merge_holder_ok(c, t, take_over, "unmerge");
}

/* the moves back; the answer's "moved" and *status (the source's status
 * again), NULL on a database error */
static json_t *merge_unmerge_move(struct api_call *c, const struct merge_log *lg, const char *now,
				  const char **status)
{
	const char *v[5] = { merge_str(c, lg->id),
			     pool_printf(c->req->pool, "%ld", c->session->user_id),
			     c->session->login, c->req->remote_addr, now };
	struct db_res *r = db_query(c->db, "merge_unmerge", 5, v, NULL, NULL, 0);
	json_t *moved;

	if (r == NULL || db_res_rows(r) != 1 || db_res_null(r, 0, 6)) {
		db_res_free(r);
		return NULL;
	}
	moved = json_pack("{s:o, s:o, s:o, s:o, s:o, s:b}", "messages", api_col_int(r, 0, 0),
			  "notes", api_col_int(r, 0, 1), "outbound", api_col_int(r, 0, 2),
			  "search_docs", api_col_int(r, 0, 3), "contacts", api_col_int(r, 0, 4),
			  "case_record", strcmp(db_res_val(r, 0, 5), "t") == 0);
	*status = pool_strdup(c->req->pool, db_res_val(r, 0, 6));
	db_res_free(r);
	return moved;
}

/* the answer's document, NULL after an answer (*answered) or on a
 * database error */
static json_t *merge_unmerge_txn(struct api_call *c, int take_over, int *answered)
{
	struct merge_log lg;
	struct merge_tk tk[2];
	const char *now = api_now_iso(c, 0), *detail, *status = NULL;
	json_t *moved;

	memset(tk, 0, sizeof(tk));
	if (merge_undo_lock(c, "merge", &lg, tk, answered) <= 0)
		return NULL;
	if (merge_unmerge_check(c, tk, &lg, take_over) < 0) {
		*answered = 1;
		return NULL;
	}
	detail = pool_printf(c->req->pool, "%lld -> %lld", lg.source, lg.target);
	moved = merge_unmerge_move(c, &lg, now, &status);
	if (moved == NULL ||
	    merge_record(c, lg.source, now, "unmerged", detail, "unmerged") < 0 ||
	    merge_record(c, lg.target, now, "unmerged", detail, "unmerged") < 0) {
		json_decref(moved);
		return NULL;
	}
	return json_pack("{s:I, s:I, s:s, s:o}", "id", (json_int_t)lg.source, "unmerged_from",
			 (json_int_t)lg.target, "status", status, "moved", moved);
}

/* an optional body {"take_over"?: bool}; -1 after a 400 or 415 */
static int merge_undo_body(struct api_call *c, int *take_over)
{
	json_t *body;
	int rc;

	*take_over = 0;
	if (c->req->body_len == 0)
		return 0;
	if ((body = api_body_object(c)) == NULL)
		return -1;
	rc = merge_take_over(c, body, take_over);
	json_decref(body);
	return rc;
}

/* runs txn in a transaction and answers its document with 200 */
static void merge_undo_run(struct api_call *c, const char *what,
			   json_t *(*txn)(struct api_call *, int, int *))
{
	json_t *doc;
	int take_over, answered = 0;

	if (merge_undo_body(c, &take_over) < 0)
		return;
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	doc = txn(c, take_over, &answered);
	if (doc == NULL || db_commit(c->db) < 0) {
		db_rollback(c->db);
		json_decref(doc);
		if (!answered)
			api_error(c, 503, "database unavailable");
		return;
	}
	log_info("ticket=%lld: %s by %s", c->id[0], what, c->session->login);
	api_json(c, 200, doc);
}

void merge_unmerge(struct api_call *c)
{
	merge_undo_run(c, "merge undone", merge_unmerge_txn);
}

/* ---- undo a split ---- */

/* 0 when split ticket nid holds only the message split off; 1 after the
 * 409 naming the others; -1 on a database error */
static int merge_unsplit_news(struct api_call *c, long long nid, long long mid)
{
	const char *v[2] = { merge_str(c, nid), merge_str(c, mid) };
	struct db_res *r = db_query(c->db, "merge_unsplit_news", 2, v, NULL, NULL, 0);
	json_t *ins, *outs;
	const char *in_txt = "", *out_txt = "", *msg;

	if (r == NULL)
		return -1;
	if (db_res_rows(r) == 0) {
		db_res_free(r);
		return 0;
	}
	ins = json_array();
	outs = json_array();
	for (int i = 0; i < db_res_rows(r); i++) {
		int in = strcmp(db_res_val(r, i, 1), "in") == 0;
		const char **txt = in ? &in_txt : &out_txt;

		json_array_append_new(in ? ins : outs, json_integer(db_res_ll(r, i, 0)));
		*txt = pool_printf(c->req->pool, "%s%s%s", *txt, **txt ? ", " : "", db_res_val(r, i, 0));
	}
	db_res_free(r);
	msg = pool_printf(c->req->pool, "the split ticket has mail since the split:%s%s%s%s%s",
			  *in_txt ? " new messages " : "", in_txt, *in_txt && *out_txt ? ";" : "",
			  *out_txt ? " replies " : "", out_txt);
	api_json(c, 409, json_pack("{s:s, s:I, s:o, s:o}", "error", msg ? msg : "mail since",
				   "ticket", (json_int_t)nid, "messages", ins, "replies", outs));
	return 1;
}

/* 0 when split ticket tk[0] (made from tk[1], lg) may go back; -1 after
 * the 409 */
static int merge_unsplit_check(struct api_call *c, const struct merge_tk *tk,
			       const struct merge_log *lg, int take_over)
{
	if (lg->id == 0) {
		merge_refuse(c, tk[0].id, "the ticket was not made by a split");
		return -1;
	}
	if (lg->undone_by != NULL)
		return merge_undone(c, "the split was undone already", lg->undone_by);
	if (tk[0].merged_into != 0) {
		merge_refuse(c, tk[0].id, "the ticket is merged into another ticket");
		return -1;
	}
	if (tk[1].merged_into != 0)
		return merge_moved_on(c, &tk[1], "original");
	if (merge_holder_ok(c, &tk[0], take_over, "unsplit") < 0 ||
	    merge_holder_ok(c, &tk[1], take_over, "unsplit") < 0)
		return -1;
	return 0;
}

static json_t *merge_unsplit_txn(struct api_call *c, int take_over, int *answered)
{
	struct merge_log lg;
	struct merge_tk tk[2];
	const char *now = api_now_iso(c, 0), *detail;
	const char *v[3] = { NULL, c->session->login, now };
	int rc;

	memset(tk, 0, sizeof(tk));
	if (merge_undo_lock(c, "split", &lg, tk, answered) <= 0)
		return NULL;
	*answered = 1;
	if (merge_unsplit_check(c, tk, &lg, take_over) < 0)
		return NULL;
	if ((rc = merge_unsplit_news(c, lg.target, lg.message)) != 0) {
		*answered = rc > 0;
		return NULL;
	}
	*answered = 0;
	v[0] = merge_str(c, lg.id);
	detail = pool_printf(c->req->pool, "%lld -> %lld", lg.target, lg.source);
	if (merge_exec(c, "merge_unsplit", 3, v) < 0 ||
	    merge_record(c, lg.target, now, "unsplit", detail, "unsplit") < 0 ||
	    merge_record(c, lg.source, now, "unsplit", detail, "unsplit") < 0)
		return NULL;
	return json_pack("{s:I, s:I, s:I}", "id", (json_int_t)lg.target, "merged_into",
			 (json_int_t)lg.source, "message_id", (json_int_t)lg.message);
}

void merge_unsplit(struct api_call *c)
{
	merge_undo_run(c, "split undone", merge_unsplit_txn);
}
