/* intake: inbound_item rows become tickets.
 *
 * One batch goes in three steps:
 *
 *  1. claim: in its own short transaction, take up to ticketd.intake_batch
 *     waiting items (FOR UPDATE SKIP LOCKED, so several ticketd processes
 *     share the work) under one lease: a row of intake_lease listing them,
 *     whose session advisory lock this connection holds until the batch is
 *     over (sql/008_intake_perf.sql).  A lease whose lock nobody holds was
 *     left by a ticketd that died or lost its connection mid-batch; each
 *     claim first counts one attempt for its items still waiting.  So a
 *     mail that crashes the parser is not retried forever: past
 *     ticketd.intake_max_attempts it is taken without parsing, as an
 *     "unparsed" ticket with the raw source downloadable.  (One lease row
 *     instead of an UPDATE of every item before the work: that UPDATE
 *     rewrote each row, raw bytes and all, and new index entries; it was
 *     a tenth of intake's time in PostgreSQL.)
 *  2. work: one transaction locks the claimed rows that are still 'new',
 *     reads their raw bytes, parses each (lib/mime.h), and writes ticket,
 *     message, timeline event and attachments, marks the item done (its
 *     attempt counted), deletes the lease and queues NOTIFY ticket_change;
 *     one statement per mail plus one per attachment, all sent in one
 *     libpq pipeline and their results read after, so a batch costs a few
 *     round trips, not one per statement.
 *  3. commit, then release the lease's lock.  A crash anywhere before the
 *     commit rolls everything back and the rows are still 'new'; after it
 *     they are 'done'.  message has a UNIQUE inbound_item_id, so no path
 *     can make two tickets of one item.
 *
 * If the work transaction fails (a database error on one mail), the batch
 * is rolled back and its items are redone one per transaction, so one bad
 * row delays only itself; its error is kept in last_error with a backoff
 * and its attempt counted, and past the attempt limit it is taken as
 * unparsed, and failing that, marked dead for a supervisor to requeue. */
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "intake.h"
#include "intake_fax.h"
#include "log.h"
#include "mailout.h"
#include "mime.h"
#include "pool.h"
#include "route.h"
#include "utf8.h"

#define INTAKE_SMALL_RAW (256 * 1024) /* read in batch below this size */
#define INTAKE_MAX_BATCH 1000
/* the advisory lock of lease x (sql/008_intake_perf.sql) */
#define INTAKE_LEASE_KEY(x) "4710, (" x " % 2147483647)::int"

const struct config_key intake_config_keys[] = {
	{ "ticketd.intake_batch", CFG_INT, "100", 1, INTAKE_MAX_BATCH,
	  "inbound items turned into tickets per transaction" },
	{ "ticketd.intake_max_attempts", CFG_INT, "5", 1, 100,
	  "tries before an item is taken unparsed (or, failing that, marked dead)" },
	{ "ticketd.subject_tag", CFG_STR, "[受付番号:%d]", 0, 0,
	  "the ticket tag in the subject of outgoing mail, with %d for the ticket number; a reply"
	  " whose subject carries it joins that ticket when it comes from the ticket's correspondent" },
	{ "ticketd.sender_limit_per_hour", CFG_INT, "20", 1, 100000,
	  "mails one sender may open as new tickets in an hour; past it (a mail loop, or a flood)"
	  " further mails join the sender's latest ticket instead" },
	{ "mime.max_depth", CFG_INT, "20", 1, 1000, "deepest multipart nesting parsed" },
	{ "mime.max_parts", CFG_INT, "500", 1, 100000, "most MIME parts parsed in one mail" },
	{ "mime.max_headers", CFG_INT, "2000", 10, 1000000, "most header fields read per part" },
	{ "mime.max_text_bytes", CFG_INT, "4194304", 1024, 1073741824,
	  "decoded body text kept per mail; the rest stays in the raw message" },
	{ "mime.max_attachment_bytes", CFG_INT, "67108864", 1024, 1073741824,
	  "largest attachment extracted; larger ones stay in the raw message" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static const struct db_stmt intake_stmts[] = {
	/* a lease nobody holds the lock of was left by a ticketd that died or
	 * lost its connection mid-batch: count that try now */
	{ "intake_recover",
	  "WITH stale AS (DELETE FROM intake_lease WHERE id IN (SELECT id FROM intake_lease"
	  "  WHERE pg_try_advisory_xact_lock(" INTAKE_LEASE_KEY("id") ") FOR UPDATE SKIP LOCKED)"
	  "  RETURNING items)"
	  " UPDATE inbound_item SET attempts = attempts + 1"
	  " WHERE id IN (SELECT unnest(items) FROM stale) AND state = 'new'" },
	/* attempts + 1: this try counts (it is written when the try ends) */
	{ "intake_claim",
	  "WITH c AS (SELECT id, attempts, raw_size, flags FROM inbound_item"
	  "  WHERE state = 'new' AND not_before <= $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED),"
	  " l AS (INSERT INTO intake_lease (items, taken_at) SELECT array_agg(id), $1 FROM c"
	  "  HAVING count(*) > 0 RETURNING id, pg_advisory_lock(" INTAKE_LEASE_KEY("id") "))"
	  " SELECT c.id, c.attempts + 1, c.raw_size, array_to_string(c.flags, ','), l.id"
	  " FROM c, l ORDER BY c.id" },
	/* in the batch's transaction: a crash after it has nothing to count */
	{ "intake_lease_done", "DELETE FROM intake_lease WHERE id = $1" },
	/* deleting is for a batch redone item by item; the lock goes last,
	 * and a lease deleted but not yet committed is skipped as locked */
	{ "intake_lease_end",
	  "WITH d AS (DELETE FROM intake_lease WHERE id = $1 AND $2::boolean)"
	  " SELECT pg_advisory_unlock(" INTAKE_LEASE_KEY("$1::bigint") ")" },
	/* a fax item (sql/021 fax_item) takes the fax path (intake_fax.h) */
	{ "intake_lock",
	  "SELECT id, EXISTS (SELECT 1 FROM fax_item f WHERE f.inbound_item_id = inbound_item.id)"
	  " FROM inbound_item WHERE id = ANY($1::bigint[]) AND state = 'new'"
	  " ORDER BY id FOR UPDATE SKIP LOCKED" },
	/* binary results: id as int8, raw as bytes */
	{ "intake_raw", "SELECT id, raw FROM inbound_item WHERE id = ANY($1::bigint[])" },
	/* One mail, one statement.  Which ticket it joins, in order: the
	 * outgoing mail a delivery report is about; a message named in
	 * In-Reply-To/References ($17); the ticket of the subject tag ($18) when
	 * the sender is its correspondent; the sender's latest ticket when the
	 * sender sent more than $23 mails in the last hour (a loop).  Else a new
	 * ticket, routed ($24-$29) - unless the mail is automatic ($19), which
	 * never makes a ticket: the item is kept, done, with the reason.  A
	 * citizen's reply reopens a resolved ticket; automatic mail reopens
	 * nothing.  Always returns one row: message id, ticket id (NULL when no
	 * ticket), what happened. */
	{ "intake_mail",
	  "WITH dsn AS (SELECT m.id, m.ticket_id FROM message m WHERE $19::text = 'dsn'"
	  "   AND m.message_id_hdr = $20 AND m.direction = 'out' ORDER BY m.id DESC LIMIT 1),"
	  /* max() of ticket_id + 0, not ORDER BY id DESC LIMIT 1 nor
	   * max(ticket_id): else the plan may walk message's primary key or
	   * message_ticket backwards until a row matches - the whole table when
	   * none does.  The generic plan, which PostgreSQL settles on after
	   * five mails and keeps, did so for max(ticket_id) when it was made
	   * before message had statistics (5 ms a reply at 10 000 messages). */
	  " thr AS (SELECT max(m.ticket_id + 0) AS id FROM message m"
	  "   WHERE cardinality($17::text[]) > 0 AND m.message_id_hdr = ANY($17::text[])),"
	  /* a merged ticket's tag leads to the ticket it went into (merge.h) */
	  " tag AS (SELECT coalesce(t.merged_into, t.id) AS id FROM ticket t"
	  "   WHERE t.id = $18::bigint AND t.correspondent = lower($6)),"
	  /* a department's answer to an escalation (escalate.h, sql/018): the
	   * token in the subject from one of the department's domains, or a
	   * reply to the escalation mail itself; never automatic mail */
	  " esc AS MATERIALIZED (SELECT e.id, e.ticket_id, e.token FROM escalation e"
	  "   JOIN department dp ON dp.id = e.department_id WHERE $19::text IS NULL AND"
	  "   ((e.token = $35 AND EXISTS (SELECT 1 FROM unnest(dp.mail || dp.head_mail) a"
	  "     WHERE lower(split_part(a, '@', 2)) = lower(split_part($6, '@', 2))))"
	  /* the escalation mail, or a reminder (whose In-Reply-To is that mail) */
	  "    OR e.message_id IN (SELECT coalesce(em.id, m.id) FROM message m LEFT JOIN message em"
	  "     ON em.message_id_hdr = m.in_reply_to AND em.direction = 'out'"
	  "     AND em.ticket_id = m.ticket_id WHERE cardinality($17::text[]) > 0"
	  "     AND m.message_id_hdr = ANY($17::text[]) AND m.direction = 'out'))"
	  "   ORDER BY e.id DESC LIMIT 1),"
	  " found AS MATERIALIZED (SELECT coalesce((SELECT ticket_id FROM dsn),"
	  "   (SELECT ticket_id FROM esc), (SELECT id FROM thr), (SELECT id FROM tag)) AS id),"
	  /* the sender's count matters only when no ticket was found */
	  " recent AS (SELECT count(*) AS n, max(m.ticket_id) AS last FROM message m"
	  "   WHERE (SELECT id FROM found) IS NULL AND m.direction = 'in' AND $6 <> ''"
	  "   AND lower(m.from_addr) = lower($6) AND m.created_at > $4::timestamptz - interval '1 hour'),"
	  " pick AS (SELECT coalesce(f.id, CASE WHEN r.n >= $23 THEN r.last END) AS id,"
	  "   CASE WHEN f.id IS NULL AND r.n >= $23 AND r.last IS NOT NULL THEN 'loop'"
	  "   ELSE $19::text END AS auto_kind FROM found f, recent r),"
	  " t_new AS (INSERT INTO ticket (channel, subject, flags, created_at, updated_at,"
	  "   last_inbound_at, correspondent, queue, category, priority, tags, routed_rule_id,"
	  "   routed_rule_name)"
	  "  SELECT i.channel, $2, $3::text[], $4, $4, i.arrived_at, lower($6),"
	  "   coalesce($24, 'general'), $25, coalesce($26::int, 0), coalesce($27::text[], '{}'),"
	  "   $28::int, $29 FROM inbound_item i, pick"
	  "  WHERE i.id = $1 AND pick.id IS NULL AND pick.auto_kind IS NULL RETURNING id),"
	  " t_upd AS (UPDATE ticket t SET updated_at = $4,"
	  "   last_inbound_at = (SELECT arrived_at FROM inbound_item WHERE id = $1),"
	  "   status = CASE WHEN pick.auto_kind IS NULL"
	  "    AND t.status IN ('resolved', 'closed', 'waiting_citizen') THEN 'open'"
	  "    WHEN t.status = 'escalated' AND EXISTS (SELECT 1 FROM esc) AND NOT EXISTS (SELECT 1"
	  "     FROM escalation x WHERE x.ticket_id = t.id AND x.state = 'open'"
	  "     AND x.id <> (SELECT id FROM esc)) THEN 'open' ELSE t.status END,"
	  "   has_new_reply = t.has_new_reply OR pick.auto_kind IS NULL OR pick.auto_kind = 'dsn'"
	  "  FROM pick WHERE t.id = pick.id RETURNING t.id, pick.auto_kind),"
	  " tt AS (SELECT id, 'created' AS op FROM t_new UNION ALL"
	  "  SELECT id, coalesce(auto_kind, 'reply') FROM t_upd),"
	  " m AS (INSERT INTO message (ticket_id, inbound_item_id, direction, subject, from_name,"
	  "   from_addr, to_list, cc_list, date_header, message_id_hdr, in_reply_to,"
	  "   references_hdr, body_text, body_html, parse_state, parse_notes, created_at,"
	  "   auto_kind, orig_from, orig_to, orig_subject, orig_date, forward_kind, dsn_for,"
	  "   escalation_id)"
	  "  SELECT tt.id, $1, 'in', $2, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $4,"
	  "   (SELECT auto_kind FROM pick), $30, $31, $32, $33, $34, (SELECT id FROM dsn),"
	  "   (SELECT id FROM esc) FROM tt RETURNING id, ticket_id),"
	  /* the answer closes the escalation in this same statement, so the
	   * reminders (escalationd) never see it open once the answer is in */
	  " ea AS (UPDATE escalation SET state = CASE WHEN $36::boolean THEN 'department_contacts'"
	  "   ELSE 'answered' END, closed_at = $4, closed_by = 'department',"
	  "   answer_message_id = (SELECT id FROM m), next_reminder_at = NULL"
	  "  WHERE id = (SELECT id FROM esc) AND state = 'open' RETURNING state),"
	  " d AS (UPDATE message SET delivery_state = 'failed', delivery_note = $22"
	  "   WHERE id = (SELECT id FROM dsn) AND $21::boolean),"
	  " e AS (INSERT INTO ticket_event (ticket_id, at, kind, detail)"
	  "  SELECT tt.id, $4, CASE tt.op WHEN 'created' THEN 'created' WHEN 'reply' THEN"
	  "   CASE WHEN EXISTS (SELECT 1 FROM esc) THEN 'department_in' ELSE 'reply_in' END"
	  "   WHEN 'dsn' THEN 'delivery_report' ELSE 'auto_in' END,"
	  "   CASE WHEN tt.op = 'reply' AND EXISTS (SELECT 1 FROM esc) THEN (SELECT token FROM esc)"
	  "    || ' ' || coalesce((SELECT state FROM ea), 'closed already')"
	  "   ELSE CASE tt.op WHEN 'dsn' THEN $22 WHEN 'created' THEN $15 ELSE tt.op END END FROM tt),"
	  " u AS (UPDATE inbound_item SET state = 'done', ticket_id = (SELECT id FROM tt),"
	  "   attempts = attempts + 1, done_at = $4, last_error = CASE WHEN (SELECT id FROM tt) IS NULL THEN"
	  "   'automatic mail (' || (SELECT auto_kind FROM pick) || ') with no ticket to join:"
	  " kept, no ticket made' END WHERE id = $1)"
	  " SELECT (SELECT id FROM m), (SELECT ticket_id FROM m), coalesce((SELECT op FROM tt),"
	  "  'none'), (SELECT pg_notify('ticket_change', json_build_object('id', tt.id, 'op',"
	  "  tt.op)::text) FROM tt)" },
	/* the message is found by its item, so an automatic mail that made no
	 * message stores no attachment */
	{ "intake_attachment",
	  "WITH msg AS (SELECT id FROM message WHERE inbound_item_id = $8),"
	  " b AS (INSERT INTO blob (sha256, size, data) SELECT $2, $3, $4 FROM msg"
	  "  ON CONFLICT (sha256) DO NOTHING)"
	  " INSERT INTO attachment (message_id, idx, filename, content_type, size, sha256,"
	  "  content_id) SELECT msg.id, $1, $5, $6, $3, $2, $7 FROM msg" },
	/* the try is counted and the item leaves the lease in one statement */
	{ "intake_failed",
	  "WITH l AS (UPDATE intake_lease SET items = array_remove(items, $1::bigint) WHERE id = $4)"
	  " UPDATE inbound_item SET attempts = attempts + 1, last_error = $2,"
	  " not_before = $3::timestamptz + make_interval(secs => least(3600, 10 * 2 ^ (attempts + 1)))"
	  " WHERE id = $1" },
	{ "intake_dead",
	  "UPDATE inbound_item SET state = 'dead', last_error = $2, attempts = attempts + 1"
	  " WHERE id = $1 AND state = 'new'" },
	{ NULL, NULL },
};

struct intake_item {
	long long id;
	int attempts;
	long long raw_size;
	int oversize;
	const char *raw; /* in the batch result or own result */
	size_t raw_len;
	struct db_res *own; /* raw fetched alone (big items) */
	/* filled when sent, for the log line after the results */
	size_t natt;
	const char *state;
	int fax;    /* has a fax_item row (intake_lock) */
	int as_fax; /* sent by the fax path (not given up on) */
};

struct intake {
	struct db *db;
	struct route *route; /* NULL until the loop hands it over */
	int batch;
	int max_attempts;
	char tag_format[128];
	char sender_limit[16];
	struct mime_limits lim;
	struct pool *pool; /* one per mail, cleared between mails */
};

struct intake *intake_new(struct db *db, const struct config *cfg)
{
	struct intake *in = calloc(1, sizeof(*in));

	if (in == NULL || (in->pool = pool_create(0)) == NULL) {
		free(in);
		return NULL;
	}
	in->db = db;
	db_prepare_all(db, intake_stmts);
	intake_fax_prepare(db);
	intake_configure(in, cfg);
	return in;
}

void intake_set_route(struct intake *in, struct route *r)
{
	in->route = r;
}

void intake_free(struct intake *in)
{
	if (in == NULL)
		return;
	pool_destroy(in->pool);
	free(in);
}

void intake_configure(struct intake *in, const struct config *cfg)
{
	in->batch = (int)config_int(cfg, "ticketd.intake_batch");
	in->max_attempts = (int)config_int(cfg, "ticketd.intake_max_attempts");
	snprintf(in->tag_format, sizeof(in->tag_format), "%s", config_str(cfg, "ticketd.subject_tag"));
	snprintf(in->sender_limit, sizeof(in->sender_limit), "%ld",
		 config_int(cfg, "ticketd.sender_limit_per_hour"));
	mime_limits_default(&in->lim);
	in->lim.max_depth = (size_t)config_int(cfg, "mime.max_depth");
	in->lim.max_parts = (size_t)config_int(cfg, "mime.max_parts");
	in->lim.max_headers = (size_t)config_int(cfg, "mime.max_headers");
	in->lim.max_text_bytes = (size_t)config_int(cfg, "mime.max_text_bytes");
	in->lim.max_attachment_bytes = (size_t)config_int(cfg, "mime.max_attachment_bytes");
}

/* "{1,2,3}": the id list for ANY($1::bigint[]) */
static int intake_idlist(struct buf *b, struct intake_item *items, int n, int big)
{
	int first = 1;

	buf_reset(b);
	if (buf_append_str(b, "{") < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		/* fax items need no raw bytes: their facts are in fax_item */
		if ((items[i].raw_size >= INTAKE_SMALL_RAW || items[i].fax) && !big)
			continue;
		if (buf_printf(b, "%s%lld", first ? "" : ",", items[i].id) < 0)
			return -1;
		first = 0;
	}
	return buf_append_str(b, "}");
}

/* the claim's rows: (id, attempts with this try, raw_size, flags, lease) */
static int intake_take_claim(struct db_res *res, struct intake_item *items, long long *lease)
{
	int n = db_res_rows(res);

	*lease = n > 0 ? db_res_ll(res, 0, 4) : 0;
	for (int i = 0; i < n; i++) {
		memset(&items[i], 0, sizeof(items[i]));
		items[i].id = db_res_ll(res, i, 0);
		items[i].attempts = (int)db_res_ll(res, i, 1);
		items[i].raw_size = db_res_ll(res, i, 2);
		items[i].oversize = strstr(db_res_val(res, i, 3), "oversize") != NULL;
	}
	return n;
}

/* count the tries of dead ticketds, then lease a batch: one round trip,
 * one transaction */
static int intake_claim(struct intake *in, struct intake_item *items, long long *lease)
{
	char now[64], limit[16];
	const char *vals[2] = { now, limit };
	struct db_res *res = NULL;
	int ok, n = -1;

	clock_format_iso(clock_now_us(), now, sizeof(now));
	snprintf(limit, sizeof(limit), "%d", in->batch);
	if (db_pipeline_begin(in->db) < 0)
		return -1;
	ok = db_send(in->db, "intake_recover", 0, NULL, NULL, NULL) == 0 &&
	     db_send(in->db, "intake_claim", 2, vals, NULL, NULL) == 0;
	ok = db_pipeline_end(in->db) == 0 && ok;
	if (ok) {
		res = db_pipeline_result(in->db);
		ok = res != NULL;
		db_res_free(res);
		res = ok ? db_pipeline_result(in->db) : NULL;
	}
	if (db_pipeline_finish(in->db) == 0 && res != NULL)
		n = intake_take_claim(res, items, lease);
	db_res_free(res);
	return n;
}

/* the lock goes in any case; the lease itself only if del (the batch
 * transaction that deletes it failed) */
static void intake_lease_end(struct intake *in, long long lease, int del)
{
	char id[32];
	const char *vals[2] = { id, del ? "true" : "false" };

	snprintf(id, sizeof(id), "%lld", lease);
	db_res_free(db_query(in->db, "intake_lease_end", 2, vals, NULL, NULL, 0));
}

static struct intake_item *intake_find(struct intake_item *items, int n, long long id)
{
	for (int i = 0; i < n; i++)
		if (items[i].id == id)
			return &items[i];
	return NULL;
}

static long long intake_be64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return (long long)be64toh(v);
}

/* attach raw bytes to each item from a binary (id, raw) result */
static void intake_take_raw(struct db_res *res, struct intake_item *items, int n)
{
	for (int r = 0; r < db_res_rows(res); r++) {
		struct intake_item *it;

		if (db_res_len(res, r, 0) != 8)
			continue;
		it = intake_find(items, n, intake_be64(db_res_val(res, r, 0)));
		if (it != NULL) {
			it->raw = db_res_val(res, r, 1);
			it->raw_len = (size_t)db_res_len(res, r, 1);
		}
	}
}

/* lock the claimed items that are still waiting; drop the others */
static int intake_lock(struct intake *in, struct intake_item *items, int n, struct buf *ids)
{
	const char *vals[1];
	struct intake_item keep[INTAKE_MAX_BATCH];
	struct db_res *res;
	int m = 0;

	if (intake_idlist(ids, items, n, 1) < 0)
		return -1;
	vals[0] = ids->data;
	res = db_query(in->db, "intake_lock", 1, vals, NULL, NULL, 0);
	if (res == NULL)
		return -1;
	for (int r = 0; r < db_res_rows(res); r++) {
		struct intake_item *it = intake_find(items, n, db_res_ll(res, r, 0));
		if (it != NULL) {
			keep[m] = *it;
			keep[m++].fax = strcmp(db_res_val(res, r, 1), "t") == 0;
		}
	}
	db_res_free(res);
	memcpy(items, keep, (size_t)m * sizeof(items[0]));
	return m;
}

/* read raw bytes: the small ones in one query, each big one alone, so a
 * batch of large mails never sits in memory at once */
static int intake_fetch(struct intake *in, struct intake_item *items, int n, struct buf *ids,
			struct db_res **small)
{
	const int binary[1] = { 0 };
	const char *vals[1];
	char one[32];

	*small = NULL;
	if (intake_idlist(ids, items, n, 0) < 0)
		return -1;
	if (strcmp(ids->data, "{}") != 0) {
		vals[0] = ids->data;
		*small = db_query(in->db, "intake_raw", 1, vals, NULL, binary, 1);
		if (*small == NULL)
			return -1;
		intake_take_raw(*small, items, n);
	}
	for (int i = 0; i < n; i++) {
		if (items[i].raw_size < INTAKE_SMALL_RAW || items[i].fax)
			continue;
		snprintf(one, sizeof(one), "{%lld}", items[i].id);
		vals[0] = one;
		items[i].own = db_query(in->db, "intake_raw", 1, vals, NULL, binary, 1);
		if (items[i].own == NULL)
			return -1;
		intake_take_raw(items[i].own, &items[i], 1);
	}
	return 0;
}

/* The header block of an oversized mail, for its subject and sender. */
static void intake_parse_oversize(struct intake *in, struct intake_item *it, struct mime_mail *m)
{
	size_t lim = it->raw_len < INTAKE_SMALL_RAW ? it->raw_len : INTAKE_SMALL_RAW;
	const char *end = memmem(it->raw, lim, "\r\n\r\n", 4);
	size_t hlen;
	char *hdr;

	if (end == NULL)
		end = memmem(it->raw, lim, "\n\n", 2);
	hlen = end ? (size_t)(end - it->raw) : lim;
	hdr = pool_alloc(in->pool, hlen + 5);
	if (hdr != NULL) {
		memcpy(hdr, it->raw, hlen);
		memcpy(hdr + hlen, "\r\n\r\n", 5);
		mime_parse(in->pool, hdr, hlen + 4, &in->lim, m);
	}
	m->body_text = "";
	m->body_html = NULL;
	m->natt = 0;
	m->notes = pool_printf(in->pool,
			       "message of %zu bytes is over ingest_mail.max_message_bytes; only its"
			       " header was read, the whole message is kept as received",
			       it->raw_len);
}

static void intake_parse(struct intake *in, struct intake_item *it, int giveup,
			 struct mime_mail *m, const char **state)
{
	memset(m, 0, sizeof(*m));
	if (giveup || it->raw == NULL) {
		m->state = MIME_UNPARSED;
		m->notes = pool_printf(in->pool, "not parsed: %d attempts failed", it->attempts);
		*state = "unparsed";
	} else if (it->oversize) {
		intake_parse_oversize(in, it, m);
		*state = "oversize";
	} else {
		mime_parse(in->pool, it->raw, it->raw_len, &in->lim, m);
		*state = m->state == MIME_OK ? "ok" : m->state == MIME_PARTIAL ? "partial" : "unparsed";
	}
}

/* text for PostgreSQL: never NULL, always valid UTF-8 */
static const char *intake_text(struct intake *in, const char *s, int *undecodable)
{
	int rep = 0;
	const char *r;

	if (s == NULL)
		return "";
	r = utf8_clean(in->pool, s, strlen(s), &rep);
	if (rep)
		*undecodable = 1;
	return r ? r : "";
}

/* attachments find their message by the item id, so they can be
 * pipelined behind it */
static int intake_attachments(struct intake *in, const struct mime_mail *m, const char *item,
			      int *undecodable)
{
	for (size_t i = 0; i < m->natt; i++) {
		const struct mime_attachment *a = &m->att[i];
		unsigned char sha[SHA256_DIGEST_LENGTH];
		char idx[32], size[32];
		const char *vals[8];
		int lens[8] = { 0 }, binary[8] = { 0 };

		SHA256(a->data, a->size, sha);
		snprintf(idx, sizeof(idx), "%zu", i);
		snprintf(size, sizeof(size), "%zu", a->size);
		vals[0] = idx;
		vals[1] = (const char *)sha;
		lens[1] = sizeof(sha);
		binary[1] = 1;
		vals[2] = size;
		vals[3] = a->size ? (const char *)a->data : "";
		lens[3] = (int)a->size;
		binary[3] = 1;
		vals[4] = intake_text(in, a->filename, undecodable);
		vals[5] = intake_text(in, a->content_type ? a->content_type : "application/octet-stream",
				      undecodable);
		vals[6] = a->content_id ? intake_text(in, a->content_id, undecodable) : NULL;
		vals[7] = item;
		if (db_send(in->db, "intake_attachment", 8, vals, lens, binary) < 0)
			return -1;
	}
	return 0;
}

static const char *intake_flags(struct intake *in, const char *state, int undecodable)
{
	return pool_printf(in->pool, "{%s%s%s}",
			   strcmp(state, "ok") == 0 ? "" : state,
			   undecodable && strcmp(state, "ok") != 0 ? "," : "",
			   undecodable ? "undecodable" : "");
}

#define INTAKE_NPARAMS 36

/* append s as one quoted element of a PostgreSQL array literal */
static int intake_array_elem(struct buf *b, const char *s, size_t len)
{
	if (buf_append_str(b, b->len > 1 ? ",\"" : "\"") < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((s[i] == '"' || s[i] == '\\') && buf_append(b, "\\", 1) < 0)
			return -1;
		if (buf_append(b, &s[i], 1) < 0)
			return -1;
	}
	return buf_append_str(b, "\"");
}

/* the message ids a reply names (In-Reply-To, then the last References),
 * as a text[] literal for the threading look-up */
static const char *intake_thread_ids(struct intake *in, const struct mime_mail *m, int *und)
{
	const char *refs = m->references ? intake_text(in, m->references, und) : "";
	const char *p = refs + strlen(refs);
	struct buf b;
	const char *r;
	int n = 0;

	buf_init(&b, 8192);
	buf_append_str(&b, "{");
	if (m->in_reply_to != NULL) {
		const char *irt = intake_text(in, m->in_reply_to, und);
		intake_array_elem(&b, irt, strlen(irt));
	}
	/* newest last in References: walk back over at most 20 ids */
	while (p > refs && n < 20) {
		const char *e = p;
		while (p > refs && p[-1] != ' ')
			p--;
		if (e > p && intake_array_elem(&b, p, (size_t)(e - p)) == 0)
			n++;
		while (p > refs && p[-1] == ' ')
			p--;
	}
	if (buf_append_str(&b, "}") < 0)
		buf_reset(&b);
	r = pool_strdup(in->pool, b.len ? b.data : "{}");
	buf_free(&b);
	return r;
}

static const char *intake_auto_name(enum mime_auto k)
{
	switch (k) {
	case MIME_AUTO_REPLY:
		return "auto_reply";
	case MIME_AUTO_BULK:
		return "bulk";
	case MIME_AUTO_LIST:
		return "list";
	case MIME_AUTO_DSN:
		return "dsn";
	case MIME_AUTO_NONE:
		break;
	}
	return NULL;
}

/* the escalation token "E-2026-00123" of a subject "... [#E-2026-00123#] ...",
 * or NULL (escalate.h) */
static const char *intake_escalation_token(struct intake *in, const char *subject)
{
	for (const char *p = strstr(subject, "[#E-"); p != NULL; p = strstr(p + 1, "[#E-")) {
		const char *q = p + 4;
		size_t y = strspn(q, "0123456789"), n;

		if (y != 4 || q[4] != '-')
			continue;
		n = strspn(q + 5, "0123456789");
		if (n >= 5 && n <= 9 && strncmp(q + 5 + n, "#]", 2) == 0)
			return pool_printf(in->pool, "%.*s", (int)(5 + n + 2), p + 2);
	}
	return NULL;
}

/* the parts of the statement that classify the mail: thread keys and tag
 * ($17-$18), automatic kind and delivery report ($19-$23), escalation
 * token and 【直接連絡】 ($35-$36) */
static void intake_params_thread(struct intake *in, const struct mime_mail *m, const char **v,
				 int *und)
{
	long long tag;

	v[16] = intake_thread_ids(in, m, und);
	v[17] = m->subject != NULL && mailout_find_tag(in->tag_format, m->subject, &tag) == 1
			? pool_printf(in->pool, "%lld", tag)
			: NULL;
	v[18] = intake_auto_name(m->auto_kind);
	v[19] = m->dsn_original_message_id ? intake_text(in, m->dsn_original_message_id, und)
					   : NULL;
	v[20] = m->dsn_action != NULL && strcmp(m->dsn_action, "failed") == 0 ? "true" : "false";
	v[21] = m->auto_kind == MIME_AUTO_DSN
			? intake_text(in,
				      pool_printf(in->pool, "%s %s %s: %s",
						  m->dsn_action ? m->dsn_action : "unknown",
						  m->dsn_status ? m->dsn_status : "",
						  m->dsn_recipient ? m->dsn_recipient : "",
						  m->dsn_diagnostic ? m->dsn_diagnostic : ""),
				      und)
			: NULL;
	v[22] = in->sender_limit;
	v[34] = m->subject != NULL ? intake_escalation_token(in, m->subject) : NULL;
	v[35] = m->subject != NULL && (strstr(m->subject, "【直接連絡】") != NULL ||
				       strstr(m->subject, "[直接連絡]") != NULL)
			? "true"
			: "false";
}

/* the origin of a forwarded item: a Resent-* redirect or the forward
 * block's sender */
static const char *intake_origin(const struct mime_mail *m)
{
	if (m->forward.kind != NULL && m->forward.from_addr[0] != '\0')
		return m->forward.from_addr;
	return m->resent_from;
}

/* routing ($24-$29) and the origin of a forwarded item ($30-$34) */
static void intake_params_route(struct intake *in, const struct mime_mail *m, const char **v,
				int *und)
{
	/* a mail intake gave up on was never parsed: its fields are NULL */
	struct route_input ri = { m->rcpt, m->rcpt ? m->nrcpt : 0, m->from_addr ? m->from_addr : "",
				  m->subject ? m->subject : "", NULL, intake_origin(m) };
	struct route_result rr = { 0, NULL, NULL, NULL, 0, "{}" };
	char date[64];

	if (in->route != NULL && m->state != MIME_UNPARSED)
		route_match(in->route, in->pool, &ri, &rr);
	v[23] = rr.queue ? intake_text(in, rr.queue, und) : NULL;
	v[24] = rr.category ? intake_text(in, rr.category, und) : NULL;
	v[25] = rr.priority ? pool_printf(in->pool, "%d", rr.priority) : NULL;
	v[26] = rr.tags ? intake_text(in, rr.tags, und) : NULL;
	v[27] = rr.rule_id ? pool_printf(in->pool, "%d", rr.rule_id) : NULL;
	v[28] = rr.rule_name ? intake_text(in, rr.rule_name, und) : NULL;
	if (m->forward.kind != NULL) {
		v[29] = intake_text(in, m->forward.from_addr[0] ? pool_printf(in->pool, "%s <%s>",
			m->forward.from_name, m->forward.from_addr) : m->forward.from_name, und);
		v[30] = intake_text(in, m->forward.to, und);
		v[31] = intake_text(in, m->forward.subject, und);
		v[32] = m->forward.date_us
				? pool_strdup(in->pool, clock_format_iso(m->forward.date_us, date,
									 sizeof(date)))
				: NULL;
		v[33] = m->forward.kind;
	} else if (m->resent_from != NULL) {
		v[29] = intake_text(in, m->resent_from, und);
		v[30] = m->resent_to ? intake_text(in, m->resent_to, und) : NULL;
		v[31] = NULL;
		v[32] = m->resent_date_us ? pool_strdup(in->pool, clock_format_iso(m->resent_date_us,
							date, sizeof(date)))
					  : NULL;
		v[33] = "resent";
	} else
		v[29] = v[30] = v[31] = v[32] = v[33] = NULL;
}

/* one mail: send its statement, then its attachments, into the pipeline */
static int intake_send(struct intake *in, struct intake_item *it, int giveup)
{
	struct mime_mail m;
	const char *state, *vals[INTAKE_NPARAMS];
	char id[32], now[64], date[64];
	int und;

	pool_clear(in->pool);
	intake_parse(in, it, giveup, &m, &state);
	und = m.undecodable;
	snprintf(id, sizeof(id), "%lld", it->id);
	vals[0] = id;
	vals[1] = intake_text(in, m.subject, &und);
	vals[3] = clock_format_iso(clock_now_us(), now, sizeof(now));
	vals[4] = intake_text(in, m.from_name, &und);
	vals[5] = intake_text(in, m.from_addr, &und);
	vals[6] = intake_text(in, m.to, &und);
	vals[7] = intake_text(in, m.cc, &und);
	vals[8] = m.date_us ? clock_format_iso(m.date_us, date, sizeof(date)) : NULL;
	vals[9] = m.message_id ? intake_text(in, m.message_id, &und) : NULL;
	vals[10] = m.in_reply_to ? intake_text(in, m.in_reply_to, &und) : NULL;
	vals[11] = m.references ? intake_text(in, m.references, &und) : NULL;
	vals[12] = intake_text(in, m.body_text, &und);
	vals[13] = m.body_html ? intake_text(in, m.body_html, &und) : NULL;
	vals[14] = state;
	vals[15] = m.notes ? intake_text(in, m.notes, &und) : NULL;
	intake_params_thread(in, &m, vals, &und);
	intake_params_route(in, &m, vals, &und);
	vals[2] = intake_flags(in, state, und);
	it->natt = m.natt;
	it->state = state; /* a string constant */
	if (db_send(in->db, "intake_mail", INTAKE_NPARAMS, vals, NULL, NULL) < 0)
		return -1;
	return intake_attachments(in, &m, id, &und);
}

/* read one mail's results in the order intake_send sent them */
static int intake_collect(struct intake *in, struct intake_item *it)
{
	struct db_res *res = db_pipeline_result(in->db);
	int ok = res != NULL && db_res_rows(res) == 1, made = 0;

	if (ok && db_res_null(res, 0, 1))
		log_info("item=%lld: automatic mail with no ticket to join; kept, no ticket made",
			 it->id);
	else if (ok) {
		const char *op = db_res_val(res, 0, 2);

		made = 1;
		log_info("item=%lld: ticket=%s %s from %zu bytes, %zu attachment%s%s%s", it->id,
			 db_res_val(res, 0, 1),
			 strcmp(op, "created") == 0 ? "created" :
			 strcmp(op, "reply") == 0 ? "got a reply" : "got an automatic mail",
			 it->raw_len, it->natt, it->natt == 1 ? "" : "s",
			 strcmp(it->state, "ok") ? ", " : "", strcmp(it->state, "ok") ? it->state : "");
	}
	db_res_free(res);
	for (size_t i = 0; ok && i < it->natt; i++) {
		res = db_pipeline_result(in->db);
		ok = res != NULL && db_res_affected(res) == (made ? 1 : 0);
		db_res_free(res);
	}
	return ok ? 0 : -1;
}

static void intake_release(struct intake_item *items, int n, struct db_res *small)
{
	for (int i = 0; i < n; i++) {
		db_res_free(items[i].own);
		items[i].own = NULL;
		items[i].raw = NULL;
		items[i].raw_len = 0;
	}
	db_res_free(small);
}

/* the lease's deletion, sent after the mails, read after their results */
static int intake_send_lease(struct intake *in, long long lease)
{
	char id[32];
	const char *vals[1] = { id };

	snprintf(id, sizeof(id), "%lld", lease);
	return lease ? db_send(in->db, "intake_lease_done", 1, vals, NULL, NULL) : 0;
}

static int intake_collect_lease(struct intake *in, long long lease)
{
	struct db_res *res;

	if (!lease)
		return 0;
	res = db_pipeline_result(in->db);
	db_res_free(res);
	return res != NULL ? 0 : -1;
}

/* the fax_item facts of the batch's fax items, or NULL when it has none
 * (*err set on a database error) */
static struct db_res *intake_fax_facts(struct intake *in, struct intake_item *items, int n,
				       int *err)
{
	struct buf b;
	struct db_res *r = NULL;
	int any = 0;

	*err = 0;
	buf_init(&b, 32 * INTAKE_MAX_BATCH);
	buf_append_str(&b, "{");
	for (int i = 0; i < n; i++)
		if (items[i].fax && buf_printf(&b, "%s%lld", any++ ? "," : "", items[i].id) < 0)
			*err = 1;
	if (!*err && any && buf_append_str(&b, "}") == 0)
		*err = (r = intake_fax_fetch(in->db, b.data)) == NULL;
	buf_free(&b);
	return r;
}

/* one item into the pipeline, by the fax path or the mail path */
static int intake_send_any(struct intake *in, struct intake_item *it, int giveup,
			   const struct db_res *facts)
{
	it->as_fax = it->fax && !giveup && facts != NULL;
	if (!it->as_fax)
		return intake_send(in, it, giveup);
	pool_clear(in->pool);
	return intake_fax_send(in->db, in->route, in->pool, it->id, facts);
}

/* one transaction over items[0..n), ending lease (0: none); 0 or -1
 * (rolled back) */
static int intake_batch(struct intake *in, struct intake_item *items, int n, int giveup,
			long long lease)
{
	struct db_res *small = NULL, *facts = NULL;
	struct buf ids;
	int m, sent, all, r = -1, ferr;

	buf_init(&ids, 32 * INTAKE_MAX_BATCH);
	if (db_begin(in->db) < 0)
		goto out;
	m = intake_lock(in, items, n, &ids);
	if (m < 0 || intake_fetch(in, items, m, &ids, &small) < 0)
		goto out;
	facts = intake_fax_facts(in, items, m, &ferr);
	if (ferr)
		goto out;
	if (db_pipeline_begin(in->db) < 0)
		goto out;
	for (sent = 0; sent < m; sent++)
		if (intake_send_any(in, &items[sent], giveup || items[sent].attempts > in->max_attempts,
				    facts) < 0)
			break;
	all = sent == m && intake_send_lease(in, lease) == 0;
	r = db_pipeline_end(in->db);
	for (int i = 0; r == 0 && i < sent; i++)
		r = items[i].as_fax ? intake_fax_collect(in->db, items[i].id)
				    : intake_collect(in, &items[i]);
	if (r == 0 && all)
		r = intake_collect_lease(in, lease);
	if (db_pipeline_finish(in->db) < 0 || !all)
		r = -1;
	if (r < 0)
		goto out;
	r = db_commit(in->db);
out:
	if (r < 0)
		db_rollback(in->db);
	intake_release(items, n, small);
	db_res_free(facts);
	buf_free(&ids);
	return r;
}

static void intake_failed(struct intake *in, struct intake_item *it, long long lease)
{
	char id[32], now[64], err[128], lid[32];
	const char *vals[4] = { id, err, now, lid };

	snprintf(id, sizeof(id), "%lld", it->id);
	snprintf(lid, sizeof(lid), "%lld", lease);
	snprintf(err, sizeof(err), "database error %s while storing the ticket",
		 db_sqlstate(in->db)[0] ? db_sqlstate(in->db) : "(no SQLSTATE)");
	clock_format_iso(clock_now_us(), now, sizeof(now));
	if (it->attempts < in->max_attempts) {
		log_warn("item=%lld: %s; will retry (attempt %d of %d)", it->id, err, it->attempts,
			 in->max_attempts);
		db_cmd(in->db, "intake_failed", 4, vals, NULL, NULL);
		return;
	}
	/* last try: a ticket with no derived data, the raw kept */
	if (intake_batch(in, it, 1, 1, 0) == 0) {
		log_warn("item=%lld: %s; taken unparsed after %d attempts", it->id, err,
			 it->attempts);
		return;
	}
	log_error("item=%lld: %s; marked dead after %d attempts (madoguchi-admin requeue)",
		  it->id, err, it->attempts);
	db_cmd(in->db, "intake_dead", 2, vals, NULL, NULL);
}

int intake_run(struct intake *in)
{
	static struct intake_item items[INTAKE_MAX_BATCH], claimed[INTAKE_MAX_BATCH];
	long long lease;
	int n;

	if (db_ensure(in->db) < 0)
		return -1;
	n = intake_claim(in, items, &lease);
	if (n <= 0)
		return n;
	memcpy(claimed, items, (size_t)n * sizeof(items[0]));
	if (intake_batch(in, items, n, 0, lease) == 0) {
		intake_lease_end(in, lease, 0);
		return n;
	}
	/* without a connection the lease is left to the next claim, which
	 * counts this try */
	if (!db_connected(in->db))
		return -1;
	/* one bad mail must delay only itself */
	for (int i = 0; i < n; i++) {
		struct intake_item one = claimed[i];

		if (intake_batch(in, &one, 1, 0, 0) == 0)
			continue;
		if (!db_connected(in->db))
			return -1;
		intake_failed(in, &one, lease);
	}
	intake_lease_end(in, lease, 1);
	return n;
}
