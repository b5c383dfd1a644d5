/* The case history (応対履歴) endpoints; the contract is in casebook.h.
 *
 * A save is read-merge-check-write inside one transaction, with the
 * ticket row locked so two operators saving at once cannot lose each
 * other's fields: the current document (or the defaults from the ticket)
 * gets the body's keys laid over it, every field is checked, the free
 * text is scanned for contact details, and one upsert writes the row and
 * returns it, so the reply is what was stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "casebook.h"
#include "db.h"
#include "http.h"
#include "piidetect.h"
#include "pool.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define CASEBOOK_LIMIT_DEFAULT 100
#define CASEBOOK_LIMIT_MAX 500
/* findings reported per field, and the memory of one scan */
#define CASEBOOK_FINDINGS 32
#define CASEBOOK_SCAN_POOL (8u << 20)

/* the ticket's own times: its first mail's arrival, its first reply */
#define CASEBOOK_FACTS                                                                     \
	" LEFT JOIN LATERAL (SELECT min(i.arrived_at) AS arrived FROM message m"           \
	"  JOIN inbound_item i ON i.id = m.inbound_item_id"                                \
	"  WHERE m.ticket_id = t.id AND m.direction = 'in') fi ON true"                    \
	" LEFT JOIN LATERAL (SELECT min(m.created_at) AS first_out FROM message m"         \
	"  WHERE m.ticket_id = t.id AND m.direction = 'out') fo ON true"
/* the document's columns from case_record cr (see casebook_doc) */
#define CASEBOOK_COLS                                                                      \
	"cr.ticket_id, true, cr.channel, " US("cr.received_at") ", "                       \
	US("cr.first_response_at") ", " US("cr.resolved_at") ", cr.category,"              \
	" cr.inquiry_summary, cr.answer_summary, cr.resolution, cr.escalated_to,"         \
	" cr.recorded_by, " US("cr.recorded_at") ", cr.updated_by, " US("cr.updated_at")

static const struct db_stmt casebook_stmts[] = {
	/* the record, or what a first save would start from */
	{ "casebook_get",
	  "SELECT t.id, cr.ticket_id IS NOT NULL, coalesce(cr.channel, t.channel),"
	  " " US("coalesce(cr.received_at, fi.arrived, t.created_at)") ","
	  " " US("CASE WHEN cr.ticket_id IS NULL THEN fo.first_out ELSE cr.first_response_at END") ","
	  " " US("CASE WHEN cr.ticket_id IS NULL THEN t.resolved_at ELSE cr.resolved_at END") ","
	  " CASE WHEN cr.ticket_id IS NULL THEN t.category ELSE cr.category END,"
	  " coalesce(cr.inquiry_summary, ''), coalesce(cr.answer_summary, ''),"
	  " CASE WHEN cr.ticket_id IS NULL THEN t.resolution ELSE cr.resolution END,"
	  " cr.escalated_to, cr.recorded_by, " US("cr.recorded_at") ", cr.updated_by,"
	  " " US("cr.updated_at")
	  " FROM ticket t LEFT JOIN case_record cr ON cr.ticket_id = t.id" CASEBOOK_FACTS
	  " WHERE t.id = $1" },
	{ "casebook_lock", "SELECT id FROM ticket WHERE id = $1 FOR NO KEY UPDATE" },
	/* checked before the upsert, so a bad code is a 400, not a database error */
	{ "casebook_resolution", "SELECT 1 FROM resolution_type WHERE code = $1" },
	/* $2 category, $3 inquiry, $4 answer, $5 resolution, $6 escalated_to,
	 * $7 login, $8 now */
	{ "casebook_save",
	  "INSERT INTO case_record AS cr (ticket_id, channel, received_at, first_response_at,"
	  " resolved_at, category, inquiry_summary, answer_summary, resolution, escalated_to,"
	  " recorded_by, recorded_at, updated_by, updated_at)"
	  " SELECT t.id, t.channel, coalesce(fi.arrived, t.created_at), fo.first_out,"
	  " t.resolved_at, $2, $3, $4, $5, $6, $7, $8, $7, $8 FROM ticket t" CASEBOOK_FACTS
	  " WHERE t.id = $1"
	  " ON CONFLICT (ticket_id) DO UPDATE SET first_response_at = EXCLUDED.first_response_at,"
	  " resolved_at = EXCLUDED.resolved_at, category = EXCLUDED.category,"
	  " inquiry_summary = EXCLUDED.inquiry_summary, answer_summary = EXCLUDED.answer_summary,"
	  " resolution = EXCLUDED.resolution, escalated_to = EXCLUDED.escalated_to,"
	  " updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at"
	  " RETURNING " CASEBOOK_COLS },
	{ "casebook_event",
	  "INSERT INTO ticket_event (ticket_id, at, actor, kind) VALUES ($1, $2, $3, $4)" },
	{ "casebook_notify",
	  "SELECT pg_notify('ticket_change', json_build_object('id', $1::bigint, 'op', 'case')::text)" },
	/* $1 from, $2 to (dates, Asia/Tokyo), $3 category, $4 resolution,
	 * $5 channel, $6 before (ticket id), $7 limit */
	{ "casebook_list",
	  "SELECT " CASEBOOK_COLS " FROM case_record cr"
	  " WHERE ($1::date IS NULL OR cr.received_at >= $1::date::timestamp AT TIME ZONE 'Asia/Tokyo')"
	  " AND ($2::date IS NULL OR cr.received_at < ($2::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')"
	  " AND ($3::text IS NULL OR cr.category = $3) AND ($4::text IS NULL OR cr.resolution = $4)"
	  " AND ($5::text IS NULL OR cr.channel = $5)"
	  " AND ($6::bigint IS NULL OR (cr.received_at, cr.ticket_id) <"
	  "  (SELECT b.received_at, b.ticket_id FROM case_record b WHERE b.ticket_id = $6))"
	  " ORDER BY cr.received_at DESC, cr.ticket_id DESC LIMIT $7" },
	{ NULL, NULL },
};

/* the fields a PUT may set, and those it may carry but never sets */
enum casebook_kind { CK_SUMMARY, CK_LINE, CK_CODE };
static const struct casebook_field {
	const char *key;
	enum casebook_kind kind;
} casebook_fields[] = {
	{ "category", CK_LINE },
	{ "inquiry_summary", CK_SUMMARY },
	{ "answer_summary", CK_SUMMARY },
	{ "resolution", CK_CODE },
	{ "escalated_to", CK_LINE },
};
#define CASEBOOK_NFIELDS (sizeof(casebook_fields) / sizeof(casebook_fields[0]))
static const char *const casebook_readonly[] = {
	"ticket_id", "recorded", "channel", "received_at", "first_response_at", "resolved_at",
	"recorded_by", "recorded_at", "updated_by", "updated_at",
};

void casebook_prepare(struct db *db)
{
	db_prepare_all(db, casebook_stmts);
}

/* ---- documents ---- */

static json_t *casebook_doc(const struct db_res *r, int i)
{
	json_t *d = json_pack("{s:o, s:b, s:o, s:o, s:o, s:o, s:o}", "ticket_id",
			      api_col_int(r, i, 0), "recorded", strcmp(db_res_val(r, i, 1), "t") == 0,
			      "channel", api_col_str(r, i, 2), "received_at", api_col_time(r, i, 3),
			      "first_response_at", api_col_time(r, i, 4), "resolved_at",
			      api_col_time(r, i, 5), "category", api_col_str(r, i, 6));

	if (d == NULL)
		return NULL;
	json_object_set_new(d, "inquiry_summary", api_col_str(r, i, 7));
	json_object_set_new(d, "answer_summary", api_col_str(r, i, 8));
	json_object_set_new(d, "resolution", api_col_str(r, i, 9));
	json_object_set_new(d, "escalated_to", api_col_str(r, i, 10));
	json_object_set_new(d, "recorded_by", api_col_str(r, i, 11));
	json_object_set_new(d, "recorded_at", api_col_time(r, i, 12));
	json_object_set_new(d, "updated_by", api_col_str(r, i, 13));
	json_object_set_new(d, "updated_at", api_col_time(r, i, 14));
	return d;
}

/* the document of ticket id; NULL with *found 0 (no ticket) or -1 */
static json_t *casebook_load(struct api_call *c, const char *id, int *found)
{
	const char *v[1] = { id };
	struct db_res *r = db_query(c->db, "casebook_get", 1, v, NULL, NULL, 0);
	json_t *doc = NULL;

	*found = r == NULL ? -1 : db_res_rows(r) == 1;
	if (*found == 1 && (doc = casebook_doc(r, 0)) == NULL)
		*found = -1;
	db_res_free(r);
	return doc;
}

void casebook_get(struct api_call *c)
{
	char id[24];
	int found;
	json_t *doc;

	snprintf(id, sizeof(id), "%lld", c->id[0]);
	doc = casebook_load(c, id, &found);
	if (doc != NULL)
		api_json(c, 200, doc);
	else if (found == 0)
		api_error(c, 404, "no such ticket");
	else
		api_error(c, 503, "database unavailable");
}

/* ---- checks ---- */

static void casebook_bad(struct api_call *c, const char *field, const char *why)
{
	const char *msg = pool_printf(c->req->pool, "%.64s: %s", field, why);

	api_error(c, 400, msg ? msg : "bad field");
}

static const struct casebook_field *casebook_field(const char *key)
{
	for (size_t i = 0; i < CASEBOOK_NFIELDS; i++)
		if (strcmp(casebook_fields[i].key, key) == 0)
			return &casebook_fields[i];
	return NULL;
}

static int casebook_is_readonly(const char *key)
{
	for (size_t i = 0; i < sizeof(casebook_readonly) / sizeof(casebook_readonly[0]); i++)
		if (strcmp(casebook_readonly[i], key) == 0)
			return 1;
	return 0;
}

/* the body's keys over base; 0, or -1 after a 400 */
static int casebook_merge(struct api_call *c, json_t *base, json_t *body)
{
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v) {
		if (casebook_is_readonly(key))
			continue;
		if (casebook_field(key) == NULL) {
			casebook_bad(c, key, "unknown field");
			return -1;
		}
		json_object_set(base, key, v);
	}
	return 0;
}

/* why v is not a valid value of f, or NULL; *out the parameter (NULL
 * for SQL NULL) */
static const char *casebook_check(const struct casebook_field *f, const json_t *v,
				  const char **out)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	*out = NULL;
	if (s == NULL && f->kind == CK_SUMMARY)
		return "must be a string";
	if (json_is_null(v))
		return NULL;
	if (s == NULL)
		return "must be a string or null";
	if (n == 0 && f->kind != CK_SUMMARY)
		return NULL; /* "" unsets an optional field */
	if (n > (f->kind == CK_SUMMARY ? CASEBOOK_SUMMARY_MAX : CASEBOOK_FIELD_MAX))
		return "is too long";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (f->kind == CK_CODE && !((ch >= 'a' && ch <= 'z') || ch == '_' ||
					    (i > 0 && ch >= '0' && ch <= '9')))
			return "is not a resolution code";
		if ((ch < 0x20 || ch == 0x7f) &&
		    !(f->kind == CK_SUMMARY && (ch == '\n' || ch == '\r' || ch == '\t')))
			return "must not contain control characters";
	}
	*out = s;
	return NULL;
}

/* ---- the contact-detail scan ---- */

static json_t *casebook_finding(const char *field, const char *s,
				const struct piidetect_finding *f)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:s%}", "field", field, "kind",
			 piidetect_kind_name(f->kind), "start", (json_int_t)f->u16_start, "end",
			 (json_int_t)f->u16_end, "text", s + f->start, f->end - f->start);
}

/* the findings of every free-text field, appended to list; -1 when a
 * scan could not run (no memory: never store unscanned text) */
static int casebook_scan(const char *const *vals, json_t *list)
{
	struct piidetect_finding f[CASEBOOK_FINDINGS];

	for (size_t i = 0; i < CASEBOOK_NFIELDS; i++) {
		struct pool *p;
		int n;

		if (vals[i] == NULL || casebook_fields[i].kind == CK_CODE)
			continue;
		if ((p = pool_create(CASEBOOK_SCAN_POOL)) == NULL)
			return -1;
		n = piidetect_scan(p, vals[i], strlen(vals[i]), f, CASEBOOK_FINDINGS);
		pool_destroy(p);
		if (n < 0)
			return -1;
		for (int k = 0; k < n && k < CASEBOOK_FINDINGS; k++)
			json_array_append_new(list, casebook_finding(casebook_fields[i].key, vals[i],
								     &f[k]));
	}
	return 0;
}

/* ---- the save ---- */

/* 1 if code is NULL or one of resolution_type; else a reply was sent */
static int casebook_resolution_ok(struct api_call *c, const char *code)
{
	const char *v[1] = { code };
	struct db_res *r;
	int n;

	if (code == NULL)
		return 1;
	if ((r = db_query(c->db, "casebook_resolution", 1, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return -1;
	}
	n = db_res_rows(r);
	db_res_free(r);
	if (n != 1)
		casebook_bad(c, "resolution", "is not a known resolution code");
	return n == 1 ? 1 : 0;
}

/* parameters $2..$6 from the merged document; 0, or -1 after a reply */
static int casebook_params(struct api_call *c, const json_t *doc, const char **vals)
{
	json_t *findings;
	int r;

	for (size_t i = 0; i < CASEBOOK_NFIELDS; i++) {
		const json_t *v = json_object_get(doc, casebook_fields[i].key);
		const char *why = casebook_check(&casebook_fields[i], v ? v : json_null(), &vals[i]);

		if (why != NULL) {
			casebook_bad(c, casebook_fields[i].key, why);
			return -1;
		}
	}
	if (casebook_resolution_ok(c, vals[3]) != 1)
		return -1;
	findings = json_array();
	if ((r = casebook_scan(vals, findings)) < 0)
		api_error(c, 503, "could not check the text");
	else if (json_array_size(findings) > 0) {
		api_json(c, 422, json_pack("{s:s, s:O}", "error", "personal data in the case record",
					   "findings", findings));
		r = -1;
	}
	json_decref(findings);
	return r;
}

/* write, record the event, notify; in the open transaction.  The reply
 * document, or NULL (*status says why) */
static json_t *casebook_write(struct api_call *c, const char *id, const char *const *p,
			      int first, int *status)
{
	const char *now = api_now_iso(c, 0);
	const char *v[8] = { id, p[0], p[1], p[2], p[3], p[4], c->session->login, now };
	const char *ev[4] = { id, now, c->session->login, first ? "case_recorded" : "case_updated" };
	struct db_res *r = db_query(c->db, "casebook_save", 8, v, NULL, NULL, 0);
	json_t *doc = NULL;

	*status = 503;
	if (r == NULL && strcmp(db_sqlstate(c->db), "23503") == 0)
		*status = 400; /* the resolution type went away since the check */
	if (r != NULL && db_res_rows(r) == 1 && db_cmd(c->db, "casebook_event", 4, ev, NULL, NULL) == 1) {
		struct db_res *n = db_query(c->db, "casebook_notify", 1, v, NULL, NULL, 0);

		if (n != NULL)
			doc = casebook_doc(r, 0);
		db_res_free(n);
	}
	db_res_free(r);
	return doc;
}

static void casebook_save(struct api_call *c, const char *id, json_t *body)
{
	const char *v[1] = { id }, *p[CASEBOOK_NFIELDS];
	struct db_res *lock = db_query(c->db, "casebook_lock", 1, v, NULL, NULL, 0);
	int found = lock == NULL ? -1 : db_res_rows(lock) == 1, status, first;
	json_t *base = found == 1 ? casebook_load(c, id, &found) : NULL, *doc = NULL;

	db_res_free(lock);
	if (base == NULL) {
		db_rollback(c->db);
		api_error(c, found == 0 ? 404 : 503, found == 0 ? "no such ticket" : "database unavailable");
		return;
	}
	first = !json_is_true(json_object_get(base, "recorded"));
	if (casebook_merge(c, base, body) == 0 && casebook_params(c, base, p) == 0) {
		doc = casebook_write(c, id, p, first, &status);
		if (doc == NULL || db_commit(c->db) < 0) {
			db_rollback(c->db);
			if (status == 400)
				casebook_bad(c, "resolution", "is not a known resolution code");
			else
				api_error(c, 503, "database unavailable");
			json_decref(doc);
			doc = NULL;
		}
	} else
		db_rollback(c->db);
	if (doc != NULL)
		api_json(c, 200, doc);
	json_decref(base);
}

void casebook_put(struct api_call *c)
{
	json_t *body = api_body_object(c);
	char id[24];

	if (body == NULL)
		return;
	snprintf(id, sizeof(id), "%lld", c->id[0]);
	if (db_begin(c->db) < 0)
		api_error(c, 503, "database unavailable");
	else
		casebook_save(c, id, body);
	json_decref(body);
}

/* ---- the list ---- */

/* 1 if s is a calendar date YYYY-MM-DD (years 1900..2999) */
static int casebook_date_ok(const char *s, size_t n)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-' || strspn(s, "0123456789") != 4 ||
	    strspn(s + 5, "0123456789") != 2 || strspn(s + 8, "0123456789") != 2)
		return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	return !(m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)));
}

/* a query parameter: NULL when absent or empty; -1 when it is not shaped
 * as kind says ('d' date YYYY-MM-DD, 'n' positive integer, 't' text) */
static int casebook_query(struct api_call *c, const char *name, char kind, const char **out)
{
	const char *s = http_query(c->req, name);
	size_t n = s ? strlen(s) : 0;

	*out = NULL;
	if (n == 0)
		return 0;
	if (kind == 'd' && !casebook_date_ok(s, n))
		return -1;
	if (kind == 'n' && (n > 18 || strspn(s, "0123456789") != n || s[0] == '0'))
		return -1;
	if (kind == 't' && n > CASEBOOK_FIELD_MAX)
		return -1;
	*out = s;
	return 0;
}

void casebook_list(struct api_call *c)
{
	const char *v[7], *lim;
	long long limit = CASEBOOK_LIMIT_DEFAULT;
	struct db_res *r;
	json_t *list;

	if (casebook_query(c, "from", 'd', &v[0]) < 0 || casebook_query(c, "to", 'd', &v[1]) < 0 ||
	    casebook_query(c, "category", 't', &v[2]) < 0 ||
	    casebook_query(c, "resolution", 't', &v[3]) < 0 ||
	    casebook_query(c, "channel", 't', &v[4]) < 0 ||
	    casebook_query(c, "before", 'n', &v[5]) < 0 || casebook_query(c, "limit", 'n', &lim) < 0 ||
	    (lim != NULL && (limit = strtoll(lim, NULL, 10)) > CASEBOOK_LIMIT_MAX)) {
		api_error(c, 400, "bad from, to, category, resolution, channel, before or limit");
		return;
	}
	v[6] = pool_printf(c->req->pool, "%lld", limit);
	if ((r = db_query(c->db, "casebook_list", 7, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, casebook_doc(r, i));
	db_res_free(r);
	api_json(c, 200, json_pack("{s:o}", "cases", list));
}
