/* cti: one call event applied in one transaction (see cti.h).
 *
 * The order is fixed: the event row first (its unique key is the
 * idempotency: a second copy inserts nothing and changes nothing), then the
 * call row is created or its blanks filled ("touch": whatever event comes
 * first creates the call, so an answer before its newCall works), then the
 * kind's own change, then for a first answer of an inbound call its ticket.
 * Times are the event's own when the PBX gave one, else ours.
 *
 * Every kind but answer and acw_end is one statement (cti_fast: the same
 * steps as data-modifying CTEs): tests/bench/cti measured 2-3 times the
 * events per second of the seven statements of a transaction block, the
 * backend's CPU per event being what bounds a single-threaded ticketd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cti.h"
#include "db.h"
#include "log.h"

#define CTI_MAX_FIELD 256
#define CTI_MAX_RAW 16384

static const char *const cti_kind_names[CTI_NKINDS] = {
	[CTI_NEW] = "newCall",	     [CTI_ANSWER] = "answer",	[CTI_HANGUP] = "hangup",
	[CTI_IVR] = "ivr",	     [CTI_QUEUE] = "queue",	[CTI_HOLD] = "hold",
	[CTI_UNHOLD] = "unhold",     [CTI_TRANSFER] = "transfer", [CTI_TRANSFER_BACK] = "transfer_back",
	[CTI_RECORDING] = "recording", [CTI_ACW_END] = "acw_end", [CTI_ABANDON] = "abandon",
};

/* the AMI queue member of the call's extension (NOTIFY cti_acw) */
#define CTI_IFACE                                                                                  \
	"(SELECT e.interface FROM call_extension e WHERE e.pbx = c.pbx AND e.extension = c.extension)"
/* the call's columns every change returns: state, ticket, user, direction */
#define CTI_RET " RETURNING c.id, c.state, coalesce(c.ticket_id, 0), c.user_id, c.direction"

static const struct db_stmt cti_stmts[] = {
	{ "cti_event",
	  "INSERT INTO call_event (pbx, call_id, idem_key, kind, source, raw, received_at)"
	  " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT DO NOTHING RETURNING id" },
	/* $1 pbx $2 call id $3 direction $4 from $5 to $6 dnis $7 ivr $8 queue
	 * $9 recording $10 offered at (NULL for a hangup) $11 first state
	 * $12 now $13 the event is newCall (its time wins) */
	{ "cti_touch",
	  "INSERT INTO call AS c (pbx, call_id, direction, from_number, to_number, dnis, ivr_choice,"
	  " queue, recording_ref, offered_at, state, created_at, updated_at)"
	  " VALUES ($1, $2, coalesce($3, 'in'), coalesce($4, ''), coalesce($5, ''), coalesce($6, ''),"
	  " coalesce($7, ''), coalesce($8, ''), coalesce($9, ''), $10, $11, $12, $12)"
	  " ON CONFLICT (pbx, call_id) DO UPDATE SET"
	  " direction = coalesce($3, c.direction),"
	  " from_number = CASE WHEN c.from_number = '' THEN EXCLUDED.from_number ELSE c.from_number END,"
	  " to_number = CASE WHEN c.to_number = '' THEN EXCLUDED.to_number ELSE c.to_number END,"
	  " dnis = CASE WHEN c.dnis = '' THEN EXCLUDED.dnis ELSE c.dnis END,"
	  " ivr_choice = coalesce(nullif(EXCLUDED.ivr_choice, ''), c.ivr_choice),"
	  " queue = coalesce(nullif(EXCLUDED.queue, ''), c.queue),"
	  " recording_ref = coalesce(nullif(EXCLUDED.recording_ref, ''), c.recording_ref),"
	  " offered_at = CASE WHEN $13 THEN least(c.offered_at, EXCLUDED.offered_at)"
	  "  ELSE coalesce(c.offered_at, EXCLUDED.offered_at) END,"
	  " state = CASE WHEN c.state = 'orphan' AND EXCLUDED.offered_at IS NOT NULL THEN"
	  "  CASE WHEN c.answered_at IS NULL THEN 'abandoned' ELSE 'done' END ELSE c.state END,"
	  " updated_at = EXCLUDED.updated_at" CTI_RET },
	/* $1 call $2 at $3 extension $4 user (login or name) $5 pbx */
	{ "cti_answer",
	  "UPDATE call c SET answered_at = coalesce(c.answered_at, $2),"
	  " state = CASE WHEN c.state IN ('ringing', 'orphan') THEN 'talking'"
	  "  WHEN c.state = 'abandoned' THEN CASE WHEN c.ended_at IS NULL THEN 'talking' ELSE 'acw' END"
	  "  ELSE c.state END,"
	  " extension = coalesce(nullif($3, ''), c.extension),"
	  " user_id = coalesce((SELECT e.user_id FROM call_extension e WHERE e.pbx = $5"
	  "   AND e.extension = $3),"
	  "  (SELECT u.id FROM app_user u WHERE NOT u.disabled AND (u.login = $4 OR u.login = $3)"
	  "   ORDER BY u.id LIMIT 1),"
	  "  (SELECT u.id FROM app_user u WHERE NOT u.disabled AND $4 <> '' AND u.display_name = $4"
	  "   ORDER BY u.id LIMIT 1), c.user_id),"
	  " updated_at = $2 WHERE c.id = $1" CTI_RET },
	{ "cti_acw_end",
	  "WITH c AS (UPDATE call c SET state = 'done', acw_end_at = $2, updated_at = $2"
	  "  WHERE c.id = $1 AND c.state = 'acw' RETURNING c.*)"
	  " SELECT pg_notify('cti_acw', json_build_object('call', c.id, 'pbx', c.pbx, 'user_id',"
	  "  c.user_id, 'extension', c.extension, 'interface', " CTI_IFACE ", 'paused', false)::text)"
	  " FROM c WHERE NOT EXISTS (SELECT 1 FROM call o WHERE o.user_id = c.user_id AND o.id <> c.id"
	  "  AND o.state IN ('talking', 'hold', 'acw'))" },
	/* the ticket of a first answer: queue, category and words from the IVR
	 * choice (call_ivr); the subject carries no number. $1 call $2 at */
	{ "cti_ticket",
	  "WITH c AS (SELECT * FROM call WHERE id = $1 AND ticket_id IS NULL AND direction = 'in'),"
	  " iv AS (SELECT i.* FROM call_ivr i, c WHERE i.pbx = c.pbx AND i.choice = c.ivr_choice)"
	  " INSERT INTO ticket (channel, status, queue, category, subject, created_at, updated_at,"
	  "  received_at, last_inbound_at, assignee, assigned_at)"
	  " SELECT 'call', 'open', coalesce((SELECT queue FROM iv), 'general'),"
	  "  (SELECT category FROM iv), '電話: ' || coalesce((SELECT label FROM iv),"
	  "  'IVR ' || nullif(c.ivr_choice, ''), '着信'), $2, $2, coalesce(c.offered_at, $2),"
	  "  coalesce(c.offered_at, $2), c.user_id, CASE WHEN c.user_id IS NOT NULL THEN $2::timestamptz END"
	  " FROM c RETURNING id" },
	/* $1 call $2 ticket $3 at */
	{ "cti_ticket_link",
	  "WITH u AS (UPDATE call SET ticket_id = $2 WHERE id = $1 RETURNING pbx, from_number),"
	  " e AS (INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)"
	  "  SELECT $2, $3, 'cti:' || u.pbx, 'created', 'call' FROM u)"
	  " SELECT pg_notify('ticket_change', json_build_object('id', $2::bigint, 'op', 'created')::text)"
	  " FROM u" },
	{ "cti_contact", "SELECT cti_contact_link($1, c.from_number, c.pbx, $2) FROM call c WHERE c.id = $3" },
	/* the screen pop and the AMI pause, for every ticketd: $1 call */
	{ "cti_pop",
	  "SELECT pg_notify('cti_call', json_build_object('op', 'answer', 'call', c.id, 'ticket',"
	  "  c.ticket_id, 'user_id', c.user_id, 'pbx', c.pbx, 'extension', c.extension,"
	  "  'state', c.state)::text),"
	  " pg_notify('cti_acw', json_build_object('call', c.id, 'pbx', c.pbx, 'user_id', c.user_id,"
	  "  'extension', c.extension, 'interface', " CTI_IFACE ", 'paused', true)::text)"
	  " FROM call c WHERE c.id = $1 AND c.user_id IS NOT NULL AND c.ticket_id IS NOT NULL" },
	/* the call on its ticket's timeline: $1 call $2 at $3 kind $4 detail */
	{ "cti_timeline",
	  "INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)"
	  " SELECT c.ticket_id, $2, 'cti:' || c.pbx, $3, $4 FROM call c"
	  " WHERE c.id = $1 AND c.ticket_id IS NOT NULL" },
	/* the phone state changed (hold, hang-up, end of ACW): the operator's page */
	{ "cti_state",
	  "SELECT pg_notify('cti_call', json_build_object('op', 'state', 'call', c.id, 'ticket',"
	  "  c.ticket_id, 'user_id', c.user_id, 'state', c.state)::text)"
	  " FROM call c WHERE c.id = $1 AND c.user_id IS NOT NULL" },
	/* Every kind but answer and acw_end in one statement (one implicit
	 * transaction, one round trip): the event row, then the call created
	 * or changed as the kind says - the same rules as cti_touch plus the
	 * kind's own statement -, its timeline line and the state event.  No
	 * event row (a repeat): no call change, no row returned.
	 * $1 pbx $2 call id $3 key $4 kind $5 source $6 raw $7 at $8 direction
	 * $9 from $10 to $11 dnis $12 ivr $13 queue $14 recording $15 cause
	 * $16 target $17 timeline kind $18 its detail $19 state event.
	 * After-call work needs an operator and a ticket whose case record
	 * ends it: a hang-up without either is done at once. */
	{ "cti_fast",
	  "WITH e AS (INSERT INTO call_event (pbx, call_id, idem_key, kind, source, raw, received_at)"
	  "  VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT DO NOTHING RETURNING id),"
	  " u AS (INSERT INTO call AS c (pbx, call_id, direction, from_number, to_number, dnis, ivr_choice,"
	  "  queue, recording_ref, offered_at, ended_at, cause, state, hold_started_at, transfers,"
	  "  transferred_to, created_at, updated_at)"
	  "  SELECT $1, $2, coalesce($8, 'in'), coalesce($9, ''), coalesce($10, ''), coalesce($11, ''),"
	  "  coalesce($12, ''), coalesce($13, ''), coalesce($14, ''),"
	  "  CASE WHEN $4 <> 'hangup' THEN $7::timestamptz END, CASE WHEN $4 = 'hangup' THEN $7::timestamptz END,"
	  "  CASE WHEN $4 = 'hangup' THEN coalesce($15, '') ELSE '' END,"
	  "  CASE $4 WHEN 'hangup' THEN 'orphan' WHEN 'abandon' THEN 'abandoned' ELSE 'ringing' END,"
	  "  CASE WHEN $4 = 'hold' THEN $7::timestamptz END, CASE WHEN $4 = 'transfer' THEN 1 ELSE 0 END,"
	  "  CASE WHEN $4 = 'transfer' THEN coalesce($16, '') ELSE '' END, $7, $7"
	  "  WHERE EXISTS (SELECT 1 FROM e)"
	  "  ON CONFLICT (pbx, call_id) DO UPDATE SET"
	  "  direction = coalesce($8, c.direction),"
	  "  from_number = CASE WHEN c.from_number = '' THEN EXCLUDED.from_number ELSE c.from_number END,"
	  "  to_number = CASE WHEN c.to_number = '' THEN EXCLUDED.to_number ELSE c.to_number END,"
	  "  dnis = CASE WHEN c.dnis = '' THEN EXCLUDED.dnis ELSE c.dnis END,"
	  "  ivr_choice = coalesce(nullif(EXCLUDED.ivr_choice, ''), c.ivr_choice),"
	  "  queue = coalesce(nullif(EXCLUDED.queue, ''), c.queue),"
	  "  recording_ref = coalesce(nullif(EXCLUDED.recording_ref, ''), c.recording_ref),"
	  "  offered_at = CASE WHEN $4 = 'newCall' THEN least(c.offered_at, EXCLUDED.offered_at)"
	  "   ELSE coalesce(c.offered_at, EXCLUDED.offered_at) END,"
	  "  ended_at = CASE WHEN $4 = 'hangup' THEN coalesce(c.ended_at, $7) ELSE c.ended_at END,"
	  "  cause = CASE WHEN $4 = 'hangup' THEN coalesce(nullif($15, ''), c.cause) ELSE c.cause END,"
	  "  hold_seconds = c.hold_seconds + CASE WHEN $4 IN ('unhold', 'hangup') AND c.hold_started_at"
	  "   IS NOT NULL THEN greatest(0, extract(epoch FROM $7::timestamptz - c.hold_started_at)) ELSE 0 END,"
	  "  hold_started_at = CASE WHEN $4 IN ('unhold', 'hangup') THEN NULL"
	  "   WHEN $4 = 'hold' THEN coalesce(c.hold_started_at, $7) ELSE c.hold_started_at END,"
	  "  transfers = c.transfers + CASE WHEN $4 = 'transfer' OR ($4 = 'hangup' AND c.state = 'ringing'"
	  "   AND $15 = 'forwarded') THEN 1 ELSE 0 END,"
	  "  transferred_to = CASE WHEN $4 = 'transfer' THEN coalesce($16, '') ELSE c.transferred_to END,"
	  "  acw_end_at = CASE WHEN $4 = 'hangup' AND c.state IN ('talking', 'hold')"
	  "   AND (c.user_id IS NULL OR c.ticket_id IS NULL) THEN $7 ELSE c.acw_end_at END,"
	  "  state = CASE"
	  "   WHEN $4 = 'hangup' THEN CASE WHEN c.state IN ('talking', 'hold') THEN"
	  "    CASE WHEN c.user_id IS NULL OR c.ticket_id IS NULL THEN 'done' ELSE 'acw' END"
	  "    WHEN c.state = 'ringing' THEN CASE WHEN $15 = 'forwarded' THEN 'done'"
	  "    WHEN c.direction = 'in' THEN 'abandoned' ELSE 'missed' END ELSE c.state END"
	  "   WHEN $4 = 'hold' AND c.state = 'talking' THEN 'hold'"
	  "   WHEN $4 = 'unhold' AND c.state = 'hold' THEN 'talking'"
	  "   WHEN $4 = 'abandon' AND c.state = 'ringing' THEN 'abandoned'"
	  "   WHEN c.state = 'orphan' AND EXCLUDED.offered_at IS NOT NULL THEN"
	  "    CASE WHEN c.answered_at IS NULL THEN 'abandoned' ELSE 'done' END"
	  "   ELSE c.state END,"
	  "  updated_at = $7"
	  "  RETURNING c.id, c.state, coalesce(c.ticket_id, 0) AS tid, c.user_id),"
	  " tl AS (INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)"
	  "  SELECT u.tid, $7, 'cti:' || $1, $17, $18 FROM u WHERE u.tid <> 0 AND $17::text IS NOT NULL)"
	  " SELECT u.id, u.state, u.tid, CASE WHEN $19::boolean AND u.user_id IS NOT NULL THEN"
	  "  pg_notify('cti_call', json_build_object('op', 'state', 'call', u.id, 'ticket',"
	  "  nullif(u.tid, 0), 'user_id', u.user_id, 'state', u.state)::text) END,"
	  /* Only a hang-up (after-call work, the queue member's pause) waits
	   * for the disk at commit; the other kinds of this statement feed the
	   * figures, and would be lost only if PostgreSQL itself crashed in the
	   * next fraction of a second (a crash of ticketd loses nothing).  One
	   * flush per event held webhook intake at 840 events/s. */
	  " set_config('synchronous_commit', CASE WHEN $4 = 'hangup' THEN 'on' ELSE 'off' END, true)"
	  " FROM u" },
	/* the PBX's extensions and whether their operator may take a call:
	 * not while talking, on hold or in after-call work */
	{ "cti_agents",
	  "SELECT coalesce(json_agg(json_build_object('extension', e.extension, 'state',"
	  "  coalesce(b.state, 'idle'), 'available', b.state IS NULL) ORDER BY e.extension), '[]')"
	  " FROM call_extension e LEFT JOIN LATERAL (SELECT c.state FROM call c WHERE c.user_id = e.user_id"
	  "  AND c.state IN ('talking', 'hold', 'acw') ORDER BY c.id DESC LIMIT 1) b ON true"
	  " WHERE e.pbx = $1" },
	{ "cti_secret", "SELECT secret FROM call_pbx WHERE name = $1 AND enabled" },
	{ NULL, NULL },
};

void cti_prepare(struct db *db)
{
	db_prepare_all(db, cti_stmts);
}

int cti_kind_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int k = 0; k < CTI_NKINDS; k++)
		if (strcmp(name, cti_kind_names[k]) == 0)
			return k;
	return -1;
}

const char *cti_kind_name(enum cti_kind k)
{
	return (unsigned)k < CTI_NKINDS ? cti_kind_names[k] : "?";
}

int cti_const_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	/* every byte of the given one is looked at whatever the lengths */
	for (size_t i = 0; i < lb; i++)
		d |= (unsigned char)(b[i] ^ (la ? a[i % la] : 0));
	return d == 0;
}

int cti_secret_ok(struct db *db, const char *pbx, const char *given)
{
	const char *v[1] = { pbx };
	struct db_res *r = db_query(db, "cti_secret", 1, v, NULL, NULL, 0);
	int ok;

	if (r == NULL)
		return -1;
	ok = db_res_rows(r) == 1 && given != NULL && cti_const_eq(db_res_val(r, 0, 0), given);
	db_res_free(r);
	return ok;
}

static int cti_field_ok(const char *s)
{
	return s == NULL || strlen(s) <= CTI_MAX_FIELD;
}

const char *cti_event_check(const struct cti_event *ev)
{
	const char *const f[] = { ev->event_id, ev->at, ev->from, ev->to, ev->dnis, ev->ivr,
				  ev->queue, ev->ext, ev->user, ev->cause, ev->target,
				  ev->target_kind, ev->recording };

	if (ev->call_id == NULL || ev->call_id[0] == '\0' || strlen(ev->call_id) > 250)
		return "callId is missing or longer than 250 characters";
	if (ev->direction != NULL && strcmp(ev->direction, "in") != 0 &&
	    strcmp(ev->direction, "out") != 0)
		return "direction is neither in nor out";
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (!cti_field_ok(f[i]))
			return "a field is longer than 256 bytes";
	if (ev->raw != NULL && strlen(ev->raw) > CTI_MAX_RAW)
		return "the event is larger than 16 kB";
	return NULL;
}

/* kinds that may come more than once in a call are told apart by their
 * own id, else by their time; the others happen once */
static const char *cti_idem_key(const struct cti_event *ev, char *out, size_t len)
{
	const char *k = cti_kind_name(ev->kind);
	int repeats = ev->kind == CTI_HOLD || ev->kind == CTI_UNHOLD || ev->kind == CTI_TRANSFER ||
		      ev->kind == CTI_TRANSFER_BACK || ev->kind == CTI_RECORDING;

	if (ev->event_id != NULL && ev->event_id[0] != '\0')
		snprintf(out, len, "%s:%s", k, ev->event_id);
	else if (repeats && ev->at != NULL)
		snprintf(out, len, "%s@%s", k, ev->at);
	else
		snprintf(out, len, "%s", k);
	return out;
}

/* the result columns of CTI_RET into res */
static int cti_take(struct db_res *r, struct cti_result *res)
{
	int ok = r != NULL && db_res_rows(r) == 1;

	if (ok) {
		res->call = db_res_ll(r, 0, 0);
		snprintf(res->state, sizeof(res->state), "%s", db_res_val(r, 0, 1));
		res->ticket = db_res_ll(r, 0, 2);
	}
	db_res_free(r);
	return ok ? 0 : -1;
}

/* create or fill in the call row */
static int cti_touch(struct db *db, const struct cti_event *ev, const char *at,
		     struct cti_result *res)
{
	const char *dnis = ev->dnis != NULL ? ev->dnis : (ev->direction == NULL ||
							  strcmp(ev->direction, "in") == 0) ? ev->to : NULL;
	const char *v[13] = { ev->pbx, ev->call_id, ev->direction, ev->from, ev->to, dnis, ev->ivr,
			      ev->queue, ev->recording, ev->kind == CTI_HANGUP ? NULL : at,
			      ev->kind == CTI_HANGUP ? "orphan" : "ringing", at,
			      ev->kind == CTI_NEW ? "true" : "false" };

	return cti_take(db_query(db, "cti_touch", 13, v, NULL, NULL, 0), res);
}

/* the first answer of an inbound call: its ticket, the caller's number
 * into the contact store, the timeline */
static int cti_new_ticket(struct db *db, const char *call, const char *at, struct cti_result *res)
{
	const char *v[2] = { call, at };
	struct db_res *r = db_query(db, "cti_ticket", 2, v, NULL, NULL, 0);
	char tid[24];
	int rows;

	if (r == NULL)
		return -1;
	rows = db_res_rows(r);
	if (rows == 1) {
		res->ticket = db_res_ll(r, 0, 0);
		snprintf(tid, sizeof(tid), "%lld", res->ticket);
	}
	db_res_free(r);
	if (rows != 1)
		return 0; /* outbound, or a ticket already */
	{
		const char *l[3] = { call, tid, at };
		const char *ct[3] = { tid, at, call };
		struct db_res *a = db_query(db, "cti_ticket_link", 3, l, NULL, NULL, 0);
		struct db_res *b = a ? db_query(db, "cti_contact", 3, ct, NULL, NULL, 0) : NULL;
		int ok = a != NULL && b != NULL;

		db_res_free(a);
		db_res_free(b);
		return ok ? 0 : -1;
	}
}

static int cti_answer(struct db *db, const struct cti_event *ev, const char *call, const char *at,
		      struct cti_result *res)
{
	const char *v[5] = { call, at, ev->ext ? ev->ext : "", ev->user ? ev->user : "", ev->pbx };
	struct db_res *p;

	if (cti_take(db_query(db, "cti_answer", 5, v, NULL, NULL, 0), res) < 0)
		return -1;
	if (res->ticket == 0 && cti_new_ticket(db, call, at, res) < 0)
		return -1;
	p = db_query(db, "cti_pop", 1, v, NULL, NULL, 0);
	db_res_free(p);
	return p == NULL ? -1 : 0;
}

/* the slow path's kinds (cti_fast does the others) */
static int cti_change(struct db *db, const struct cti_event *ev, const char *call, const char *at,
		      struct cti_result *res)
{
	const char *v[2] = { call, at };
	struct db_res *r;

	if (ev->kind == CTI_ANSWER)
		return cti_answer(db, ev, call, at, res);
	if (ev->kind != CTI_ACW_END)
		return 0;
	r = db_query(db, "cti_acw_end", 2, v, NULL, NULL, 0);
	db_res_free(r);
	snprintf(res->state, sizeof(res->state), "%s", "done");
	return r == NULL ? -1 : 0;
}

/* what the ticket's timeline shows of the call (no number): its kind,
 * or NULL when the call event leaves no line; *detail the line's detail */
static const char *cti_timeline_kind(const struct cti_event *ev, const char **detail)
{
	static const char *const kinds[CTI_NKINDS] = {
		[CTI_ANSWER] = "call_answered", [CTI_HANGUP] = "call_ended",
		[CTI_TRANSFER] = "call_transferred", [CTI_TRANSFER_BACK] = "call_transfer_back",
		[CTI_HOLD] = "call_hold", [CTI_UNHOLD] = "call_unhold",
	};

	*detail = ev->kind == CTI_TRANSFER ? (ev->target_kind ? ev->target_kind : "")
		  : ev->kind == CTI_HANGUP ? ev->cause : ev->kind == CTI_ANSWER ? ev->ext : NULL;
	return kinds[ev->kind];
}

static int cti_timeline(struct db *db, const struct cti_event *ev, const char *call,
			const char *at)
{
	const char *detail, *kind = cti_timeline_kind(ev, &detail);
	const char *v[4] = { call, at, kind, detail };

	if (kind == NULL)
		return 0;
	return db_cmd(db, "cti_timeline", 4, v, NULL, NULL) < 0 ? -1 : 0;
}

/* every kind but answer and acw_end: one statement, no transaction block */
static int cti_fast(struct db *db, const struct cti_event *ev, const char *at, const char *key,
		    struct cti_result *res)
{
	const char *dnis = ev->dnis != NULL ? ev->dnis : (ev->direction == NULL ||
							  strcmp(ev->direction, "in") == 0) ? ev->to : NULL;
	const char *detail, *tl = cti_timeline_kind(ev, &detail);
	int notify = ev->kind == CTI_HANGUP || ev->kind == CTI_HOLD || ev->kind == CTI_UNHOLD;
	const char *v[19] = { ev->pbx, ev->call_id, key, cti_kind_name(ev->kind), ev->source,
			      ev->raw ? ev->raw : "{}", at, ev->direction, ev->from, ev->to, dnis,
			      ev->ivr, ev->queue, ev->recording, ev->cause, ev->target, tl, detail,
			      notify ? "true" : "false" };
	struct db_res *r = db_query(db, "cti_fast", 19, v, NULL, NULL, 0);

	if (r == NULL)
		return -1;
	if (db_res_rows(r) == 0) {
		res->duplicate = 1;
		db_res_free(r);
		return 0;
	}
	return cti_take(r, res);
}

static int cti_run(struct db *db, const struct cti_event *ev, const char *at,
		   struct cti_result *res)
{
	char key[320], call[24];
	const char *v[7] = { ev->pbx, ev->call_id, cti_idem_key(ev, key, sizeof(key)),
			     cti_kind_name(ev->kind), ev->source, ev->raw ? ev->raw : "{}", at };
	struct db_res *r = db_query(db, "cti_event", 7, v, NULL, NULL, 0);
	int fresh = r != NULL && db_res_rows(r) == 1;

	if (r == NULL)
		return -1;
	db_res_free(r);
	if (!fresh) {
		res->duplicate = 1;
		return 0;
	}
	if (cti_touch(db, ev, at, res) < 0)
		return -1;
	snprintf(call, sizeof(call), "%lld", res->call);
	if (cti_change(db, ev, call, at, res) < 0 || cti_timeline(db, ev, call, at) < 0)
		return -1;
	if (ev->kind == CTI_ACW_END) {
		const char *sv[1] = { call };
		struct db_res *n = db_query(db, "cti_state", 1, sv, NULL, NULL, 0);

		db_res_free(n);
		if (n == NULL)
			return -1;
	}
	return 0;
}

static int cti_is_fast(const struct cti_event *ev)
{
	return ev->kind != CTI_ANSWER && ev->kind != CTI_ACW_END;
}

/* ev in the current transaction, or as its own statement on the fast path */
static int cti_exec(struct db *db, const struct cti_event *ev, struct cti_result *res)
{
	char now[40], key[320];
	const char *at = ev->at ? ev->at : clock_format_iso(clock_now_us(), now, sizeof(now));
	int rc;

	memset(res, 0, sizeof(*res));
	if (cti_is_fast(ev))
		rc = cti_fast(db, ev, at, cti_idem_key(ev, key, sizeof(key)), res);
	else
		rc = cti_run(db, ev, at, res);
	if (rc == 0 && !res->duplicate && strcmp(res->state, "orphan") == 0)
		log_warn("cti=%s/%s: %s for a call never offered: kept as an orphan", ev->pbx,
			 ev->call_id, cti_kind_name(ev->kind));
	return rc;
}

int cti_apply(struct db *db, const struct cti_event *ev, struct cti_result *res)
{
	if (cti_is_fast(ev))
		return cti_exec(db, ev, res);
	if (db_begin(db) < 0)
		return -1;
	if (cti_exec(db, ev, res) < 0 || db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

int cti_apply_batch(struct db *db, const struct cti_event *evs, int n)
{
	struct cti_result res;

	if (n == 1)
		return cti_apply(db, &evs[0], &res);
	if (db_begin(db) < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (cti_exec(db, &evs[i], &res) < 0) {
			db_rollback(db);
			return -1;
		}
	}
	if (db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}
