/* The fax path of intake; the contract is in intake_fax.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "intake_fax.h"
#include "log.h"
#include "pool.h"
#include "route.h"
#include "utf8.h"

#define INTAKE_FAX_NPARAMS 12

static const struct db_stmt intake_fax_stmts[] = {
	{ "intake_fax_facts",
	  "SELECT inbound_item_id, did, subaddress, pages, complete, result_text, origin"
	  " FROM fax_item WHERE inbound_item_id = ANY($1::bigint[])" },
	/* one fax, one new ticket: $1 item, $2 subject, $3 flags, $4 now,
	 * $5-$10 routing, $11 parse notes, $12 the event's detail */
	{ "intake_fax",
	  "WITH t AS (INSERT INTO ticket (channel, subject, flags, created_at, updated_at,"
	  "   last_inbound_at, queue, category, priority, tags, routed_rule_id, routed_rule_name)"
	  "  SELECT 'fax', $2, $3::text[], $4, $4, i.arrived_at, coalesce($5, 'general'), $6,"
	  "   coalesce($7::int, 0), coalesce($8::text[], '{}'), $9::int, $10"
	  "  FROM inbound_item i WHERE i.id = $1 RETURNING id),"
	  " m AS (INSERT INTO message (ticket_id, inbound_item_id, direction, subject, from_name,"
	  "   body_text, parse_state, parse_notes, created_at)"
	  "  SELECT t.id, $1, 'in', $2, 'FAX', '', 'ok', $11, $4 FROM t RETURNING id, ticket_id),"
	  " e AS (INSERT INTO ticket_event (ticket_id, at, kind, detail)"
	  "  SELECT id, $4, 'created', $12 FROM t),"
	  " u AS (UPDATE inbound_item SET state = 'done', ticket_id = (SELECT id FROM t),"
	  "   attempts = attempts + 1, done_at = $4 WHERE id = $1)"
	  " SELECT (SELECT id FROM m), (SELECT id FROM t),"
	  "  pg_notify('ticket_change', json_build_object('id', (SELECT id FROM t), 'op',"
	  "  'created')::text)" },
	/* after the ticket, in the same transaction: the caller as contact */
	{ "intake_fax_contact",
	  "SELECT fax_contact_link($1, (SELECT ticket_id FROM message WHERE inbound_item_id = $1),"
	  " $2::timestamptz)" },
	{ NULL, NULL },
};

void intake_fax_prepare(struct db *db)
{
	db_prepare_all(db, intake_fax_stmts);
}

struct db_res *intake_fax_fetch(struct db *db, const char *ids)
{
	const char *vals[1] = { ids };

	return db_query(db, "intake_fax_facts", 1, vals, NULL, NULL, 0);
}

const char *intake_fax_number(struct pool *pool, const char *d)
{
	size_t n = strlen(d);

	if (n != strspn(d, "0123456789"))
		return d;
	if (n == 10 && (strncmp(d, "03", 2) == 0 || strncmp(d, "06", 2) == 0))
		return pool_printf(pool, "%.2s-%.4s-%.4s", d, d + 2, d + 6);
	if (n == 10 && (strncmp(d, "0120", 4) == 0 || strncmp(d, "0800", 4) == 0))
		return pool_printf(pool, "%.4s-%.3s-%.3s", d, d + 4, d + 7);
	if (n == 11 && d[0] == '0' && strchr("5789", d[1]) != NULL && d[2] == '0')
		return pool_printf(pool, "%.3s-%.4s-%.4s", d, d + 3, d + 7);
	return d;
}

static int intake_fax_row(const struct db_res *facts, long long id)
{
	for (int r = 0; r < db_res_rows(facts); r++)
		if (db_res_ll(facts, r, 0) == id)
			return r;
	return -1;
}

/* text for PostgreSQL: valid UTF-8, never NULL */
static const char *intake_fax_text(struct pool *pool, const char *s)
{
	int rep = 0;
	const char *r = utf8_clean(pool, s, strlen(s), &rep);
	return r ? r : "";
}

/* The SUB when given and a rule matches it, else the DID. */
static void intake_fax_route(struct route *route, struct pool *pool, const char *did,
			     const char *sub, const char *subject, struct route_result *rr)
{
	struct route_input ri = { NULL, 0, "", subject, did, NULL };

	if (route == NULL)
		return;
	if (sub[0] != '\0') {
		ri.did = sub;
		route_match(route, pool, &ri, rr);
		if (rr->rule_id != 0)
			return;
		ri.did = did;
	}
	route_match(route, pool, &ri, rr);
}

int intake_fax_send(struct db *db, struct route *route, struct pool *pool, long long id,
		    const struct db_res *facts)
{
	struct route_result rr = { 0, NULL, NULL, NULL, 0, "{}" };
	const char *vals[INTAKE_FAX_NPARAMS], *did, *sub, *note;
	char sid[32], now[64];
	int row = intake_fax_row(facts, id), complete;
	long pages;

	if (row < 0)
		return -1; /* the lock said fax: the row cannot be gone */
	did = db_res_val(facts, row, 1);
	sub = db_res_val(facts, row, 2);
	pages = (long)db_res_ll(facts, row, 3);
	complete = strcmp(db_res_val(facts, row, 4), "t") == 0;
	note = db_res_val(facts, row, 5);
	snprintf(sid, sizeof(sid), "%lld", id);
	clock_format_iso(clock_now_us(), now, sizeof(now));
	vals[0] = sid;
	vals[1] = pool_printf(pool, "FAX%s%s (%ld\xe6\x9e\x9a)", did[0] ? " " : "",
			      intake_fax_number(pool, did), pages); /* 枚 */
	vals[2] = complete ? "{}" : "{fax_incomplete}";
	vals[3] = now;
	intake_fax_route(route, pool, did, sub, vals[1], &rr);
	vals[4] = rr.queue ? intake_fax_text(pool, rr.queue) : NULL;
	vals[5] = rr.category ? intake_fax_text(pool, rr.category) : NULL;
	vals[6] = rr.priority ? pool_printf(pool, "%d", rr.priority) : NULL;
	vals[7] = rr.tags ? intake_fax_text(pool, rr.tags) : NULL;
	vals[8] = rr.rule_id ? pool_printf(pool, "%d", rr.rule_id) : NULL;
	vals[9] = rr.rule_name ? intake_fax_text(pool, rr.rule_name) : NULL;
	vals[10] = note[0] ? intake_fax_text(pool, note) : NULL;
	vals[11] = pool_printf(pool, "fax %s%s", db_res_val(facts, row, 6),
			       complete ? "" : " incomplete");
	if (db_send(db, "intake_fax", INTAKE_FAX_NPARAMS, vals, NULL, NULL) < 0)
		return -1;
	vals[1] = now;
	return db_send(db, "intake_fax_contact", 2, vals, NULL, NULL);
}

int intake_fax_collect(struct db *db, long long id)
{
	struct db_res *res = db_pipeline_result(db);
	int ok = res != NULL && db_res_rows(res) == 1 && !db_res_null(res, 0, 1);

	if (ok)
		log_info("item=%lld: ticket=%s created from a fax (message=%s)", id,
			 db_res_val(res, 0, 1), db_res_val(res, 0, 0));
	db_res_free(res);
	res = db_pipeline_result(db);
	ok = ok && res != NULL && db_res_rows(res) == 1;
	db_res_free(res);
	return ok ? 0 : -1;
}
