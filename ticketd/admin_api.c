/* The administrators' endpoints; the contract is in admin_api.h.
 *
 * A create and an update take the same path: a base document (the
 * defaults, or the row as locked in the transaction) gets the body's keys
 * laid over it, the merged document is checked field by field into
 * statement parameters, and one statement writes every column and returns
 * the row, so the reply is what was stored.  The NOTIFY goes out in the
 * same transaction: a rolled-back change wakes nobody. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_api.h"
#include "api.h"
#include "clock.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "route.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define ADMIN_RULE_COLS                                                                    \
	"id, position, name, enabled, match_recipient, match_sender, match_subject,"      \
	" subject_regex, match_did, match_origin, set_queue, set_category, set_priority," \
	" array_to_json(set_tags)::text, continue_matching, " US("updated_at") ", updated_by"
/* the writable columns, in admin_fields order; $16 updated_at, $17 updated_by */
#define ADMIN_RULE_SET                                                                     \
	"name = $1, enabled = $2, match_recipient = $3, match_sender = $4,"                \
	" match_subject = $5, subject_regex = $6, match_did = $7, match_origin = $8,"     \
	" set_queue = $9, set_category = $10, set_priority = $11::int,"                  \
	" set_tags = ARRAY(SELECT json_array_elements_text($12::json)),"                   \
	" continue_matching = $13, updated_at = $14, updated_by = $15"
#define ADMIN_NFIELDS 13
#define ADMIN_MAX_TAGS 20
#define ADMIN_MAX_ORDER ROUTE_MAX_RULES

static const struct db_stmt admin_stmts[] = {
	{ "admin_rules", "SELECT " ADMIN_RULE_COLS " FROM route_rule ORDER BY position, id" },
	{ "admin_rule_lock", "SELECT " ADMIN_RULE_COLS " FROM route_rule WHERE id = $1 FOR UPDATE" },
	{ "admin_rule_insert",
	  "INSERT INTO route_rule (position, name, enabled, match_recipient, match_sender,"
	  " match_subject, subject_regex, match_did, match_origin, set_queue, set_category,"
	  " set_priority, set_tags, continue_matching, updated_at, updated_by)"
	  " VALUES ((SELECT coalesce(max(position), 0) + 1 FROM route_rule), $1, $2, $3, $4, $5,"
	  " $6, $7, $8, $9, $10, $11::int, ARRAY(SELECT json_array_elements_text($12::json)),"
	  " $13, $14, $15) RETURNING " ADMIN_RULE_COLS },
	{ "admin_rule_update",
	  "UPDATE route_rule SET " ADMIN_RULE_SET " WHERE id = $16 RETURNING " ADMIN_RULE_COLS },
	{ "admin_rule_delete", "DELETE FROM route_rule WHERE id = $1" },
	{ "admin_rule_ids", "SELECT id FROM route_rule ORDER BY id FOR UPDATE" },
	{ "admin_rule_order",
	  "UPDATE route_rule r SET position = u.pos, updated_at = $2, updated_by = $3"
	  " FROM unnest($1::int[]) WITH ORDINALITY u(id, pos)"
	  " WHERE r.id = u.id AND r.position IS DISTINCT FROM u.pos::int" },
	{ "admin_notify", "SELECT pg_notify('route_change', $1)" },
	{ NULL, NULL },
};

enum admin_kind { AK_NAME, AK_BOOL, AK_MATCH, AK_DID, AK_QUEUE, AK_TEXT, AK_PRIORITY, AK_TAGS };

/* the writable fields, in statement parameter order ($1..$13) */
static const struct admin_field {
	const char *key;
	enum admin_kind kind;
	size_t max; /* bytes, for strings */
} admin_fields[ADMIN_NFIELDS] = {
	{ "name", AK_NAME, 400 },
	{ "enabled", AK_BOOL, 0 },
	{ "match_recipient", AK_MATCH, 1000 },
	{ "match_sender", AK_MATCH, 1000 },
	{ "match_subject", AK_MATCH, 1000 },
	{ "subject_regex", AK_BOOL, 0 },
	{ "match_did", AK_DID, 64 },
	{ "match_origin", AK_MATCH, 1000 },
	{ "set_queue", AK_QUEUE, 100 },
	{ "set_category", AK_TEXT, 200 },
	{ "set_priority", AK_PRIORITY, 0 },
	{ "set_tags", AK_TAGS, 100 },
	{ "continue_matching", AK_BOOL, 0 },
};

static const char *const admin_readonly[] = { "id", "position", "updated_at", "updated_by" };

void admin_api_prepare(struct db *db)
{
	db_prepare_all(db, admin_stmts);
}

/* ---- documents ---- */

static json_t *admin_col_bool(const struct db_res *r, int row, int col)
{
	return json_boolean(strcmp(db_res_val(r, row, col), "t") == 0);
}

static json_t *admin_rule_doc(const struct db_res *r, int i)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o, s:o}",
			 "id", api_col_int(r, i, 0), "position", api_col_int(r, i, 1), "name",
			 api_col_str(r, i, 2), "enabled", admin_col_bool(r, i, 3),
			 "match_recipient", api_col_str(r, i, 4), "match_sender",
			 api_col_str(r, i, 5), "match_subject", api_col_str(r, i, 6),
			 "subject_regex", admin_col_bool(r, i, 7), "match_did",
			 api_col_str(r, i, 8), "match_origin", api_col_str(r, i, 9), "set_queue",
			 api_col_str(r, i, 10), "set_category", api_col_str(r, i, 11),
			 "set_priority", api_col_int(r, i, 12), "set_tags", api_col_json(r, i, 13),
			 "continue_matching", admin_col_bool(r, i, 14), "updated_at",
			 api_col_time(r, i, 15), "updated_by", api_col_str(r, i, 16));
}

static json_t *admin_rule_defaults(void)
{
	return json_pack("{s:s, s:b, s:n, s:n, s:n, s:b, s:n, s:n, s:n, s:n, s:n, s:[], s:b}",
			 "name", "", "enabled", 1, "match_recipient", "match_sender",
			 "match_subject", "subject_regex", 0, "match_did", "match_origin",
			 "set_queue", "set_category", "set_priority", "set_tags",
			 "continue_matching", 0);
}

/* ---- checks ---- */

static void admin_bad(struct api_call *c, const char *field, const char *why)
{
	const char *msg = pool_printf(c->req->pool, "%.64s: %s", field, why ? why : "is not valid");

	api_error(c, 400, msg ? msg : "bad field");
}

static const struct admin_field *admin_field(const char *key)
{
	for (size_t i = 0; i < ADMIN_NFIELDS; i++)
		if (strcmp(admin_fields[i].key, key) == 0)
			return &admin_fields[i];
	return NULL;
}

static int admin_is_readonly(const char *key)
{
	for (size_t i = 0; i < sizeof(admin_readonly) / sizeof(admin_readonly[0]); i++)
		if (strcmp(admin_readonly[i], key) == 0)
			return 1;
	return 0;
}

/* the body's keys over base; 0, or -1 after a 400 */
static int admin_merge(struct api_call *c, json_t *base, json_t *body)
{
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v) {
		if (admin_is_readonly(key))
			continue;
		if (admin_field(key) == NULL) {
			admin_bad(c, key, "unknown field");
			return -1;
		}
		json_object_set(base, key, v);
	}
	return 0;
}

/* a string with no NUL and no control character, at most max bytes, not
 * only blanks: NULL with *why set otherwise */
static const char *admin_text(const json_t *v, size_t max, const char **why)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v), blank = 0;

	*why = "must be a string";
	if (s == NULL)
		return NULL;
	*why = "is too long";
	if (n > max)
		return NULL;
	*why = "must not contain control characters";
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return NULL;
		blank += s[i] == ' ';
	}
	*why = "must not be empty";
	return blank == n ? NULL : s;
}

/* digits of a telephone number written with + - ( ) and spaces */
static const char *admin_did(struct pool *p, const char *s, const char **why)
{
	size_t n = strlen(s), k = 0;
	char *d = pool_alloc(p, n + 1);

	*why = "must be a telephone number (digits, + - ( ) and spaces)";
	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d[k++] = s[i];
		else if (strchr("+-() ", s[i]) == NULL)
			return NULL;
	}
	d[k] = '\0';
	return k > 0 ? d : NULL;
}

static const char *admin_priority(struct pool *p, const json_t *v, const char **why)
{
	json_int_t n = json_integer_value(v);

	*why = "must be an integer from -9 to 9, or null";
	if (!json_is_integer(v) || n < ROUTE_PRIORITY_MIN || n > ROUTE_PRIORITY_MAX)
		return NULL;
	return pool_printf(p, "%d", (int)n);
}

static const char *admin_tags(struct pool *p, const json_t *v, size_t max, const char **why)
{
	const char *out;
	size_t i;
	json_t *t;
	char *s;

	*why = "must be a list of at most 20 tags";
	if (json_is_null(v))
		return "[]";
	if (!json_is_array(v) || json_array_size(v) > ADMIN_MAX_TAGS)
		return NULL;
	json_array_foreach(v, i, t) {
		if (admin_text(t, max, why) == NULL)
			return NULL;
	}
	*why = "could not be stored";
	if ((s = json_dumps(v, JSON_COMPACT)) == NULL)
		return NULL;
	out = pool_strdup(p, s);
	free(s);
	return out;
}

/* an optional string: NULL (unset) for null or "", else checked */
static int admin_opt_text(const json_t *v, size_t max, const char **out, const char **why)
{
	*out = NULL;
	if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
		return 0;
	*out = admin_text(v, max, why);
	return *out ? 0 : -1;
}

/* one field of the merged document as a statement parameter */
static int admin_param(struct pool *p, const struct admin_field *f, const json_t *v,
		       const char **out, const char **why)
{
	*out = NULL;
	switch (f->kind) {
	case AK_NAME:
		*out = admin_text(v, f->max, why);
		break;
	case AK_BOOL:
		*why = "must be true or false";
		*out = json_is_boolean(v) ? (json_is_true(v) ? "true" : "false") : NULL;
		break;
	case AK_MATCH:
	case AK_TEXT:
		return admin_opt_text(v, f->max, out, why);
	case AK_DID:
		if (admin_opt_text(v, f->max, out, why) < 0)
			return -1;
		if (*out != NULL)
			*out = admin_did(p, *out, why);
		return json_is_string(v) && json_string_length(v) > 0 && *out == NULL ? -1 : 0;
	case AK_QUEUE:
		if (json_is_null(v))
			return 0;
		*out = admin_text(v, f->max, why);
		break;
	case AK_PRIORITY:
		if (json_is_null(v))
			return 0;
		*out = admin_priority(p, v, why);
		break;
	case AK_TAGS:
		*out = admin_tags(p, v, f->max, why);
		break;
	}
	return *out ? 0 : -1;
}

/* the merged document as parameters $1..$15; 0, or -1 after a 400 */
static int admin_params(struct api_call *c, const json_t *doc, const char **vals)
{
	const char *why = NULL;
	char err[160];

	for (size_t i = 0; i < ADMIN_NFIELDS; i++) {
		const struct admin_field *f = &admin_fields[i];
		json_t *v = json_object_get(doc, f->key);

		if (admin_param(c->req->pool, f, v ? v : json_null(), &vals[i], &why) < 0) {
			admin_bad(c, f->key, why);
			return -1;
		}
	}
	/* vals[4] match_subject, vals[5] subject_regex */
	if (vals[4] != NULL && strcmp(vals[5], "true") == 0 &&
	    route_regex_check(vals[4], err, sizeof(err)) < 0) {
		admin_bad(c, "match_subject",
			  pool_printf(c->req->pool, "not a valid regular expression (%s)", err));
		return -1;
	}
	vals[ADMIN_NFIELDS] = api_now_iso(c, 0);
	vals[ADMIN_NFIELDS + 1] = c->session->login;
	return 0;
}

/* ---- transactions ---- */

static int admin_notify(struct api_call *c, const char *op, long long id)
{
	const char *v[1] = { pool_printf(c->req->pool, "{\"op\":\"%s\",\"id\":%lld}", op, id) };
	struct db_res *r = db_query(c->db, "admin_notify", 1, v, NULL, NULL, 0);

	db_res_free(r);
	return r ? 0 : -1;
}

/* notify, commit, reply; or roll back and 503 */
static void admin_finish(struct api_call *c, const char *op, long long id, int status,
			 json_t *doc)
{
	if (admin_notify(c, op, id) < 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		json_decref(doc);
		api_error(c, 503, "database unavailable");
		return;
	}
	/* who changed the routing, for the audit trail */
	if (id != 0)
		log_info("rule=%lld: %s by %s", id, op, c->session->login);
	else
		log_info("routing rules reordered by %s", c->session->login);
	if (status == 204)
		http_reply(c->req, 204, NULL, "", 0);
	else
		api_json(c, status, doc);
}

static void admin_unavailable(struct api_call *c)
{
	db_rollback(c->db);
	api_error(c, 503, "database unavailable");
}

/* write base + body with stmt (insert or update); in a transaction */
static void admin_write(struct api_call *c, json_t *base, json_t *body, const char *stmt,
			const char *op)
{
	const char *vals[ADMIN_NFIELDS + 3];
	char id[24];
	struct db_res *r;
	json_t *doc;

	snprintf(id, sizeof(id), "%lld", c->id[0]);
	vals[ADMIN_NFIELDS + 2] = id;
	if (admin_merge(c, base, body) < 0 || admin_params(c, base, vals) < 0) {
		db_rollback(c->db);
		return;
	}
	r = db_query(c->db, stmt, strcmp(op, "create") == 0 ? ADMIN_NFIELDS + 2 : ADMIN_NFIELDS + 3,
		     vals, NULL, NULL, 0);
	if (r == NULL || db_res_rows(r) != 1) {
		db_res_free(r);
		admin_unavailable(c);
		return;
	}
	doc = admin_rule_doc(r, 0);
	admin_finish(c, op, db_res_ll(r, 0, 0), strcmp(op, "create") == 0 ? 201 : 200, doc);
	db_res_free(r);
}

/* ---- handlers ---- */

static json_t *admin_rules_doc(struct api_call *c)
{
	struct db_res *r = db_query(c->db, "admin_rules", 0, NULL, NULL, NULL, 0);
	json_t *list;

	if (r == NULL)
		return NULL;
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, admin_rule_doc(r, i));
	db_res_free(r);
	return json_pack("{s:o}", "rules", list);
}

void admin_api_rules_list(struct api_call *c)
{
	json_t *doc = admin_rules_doc(c);

	if (doc == NULL)
		api_error(c, 503, "database unavailable");
	else
		api_json(c, 200, doc);
}

void admin_api_rules_create(struct api_call *c)
{
	json_t *body = api_body_object(c), *base;

	if (body == NULL)
		return;
	base = admin_rule_defaults();
	if (db_begin(c->db) < 0)
		api_error(c, 503, "database unavailable");
	else
		admin_write(c, base, body, "admin_rule_insert", "create");
	json_decref(base);
	json_decref(body);
}

void admin_api_rules_update(struct api_call *c)
{
	json_t *body = api_body_object(c), *base = NULL;
	char id[24];
	const char *v[1] = { id };
	struct db_res *r;

	if (body == NULL)
		return;
	snprintf(id, sizeof(id), "%lld", c->id[0]);
	if (db_begin(c->db) < 0 || (r = db_query(c->db, "admin_rule_lock", 1, v, NULL, NULL, 0)) == NULL)
		admin_unavailable(c);
	else if (db_res_rows(r) != 1) {
		db_res_free(r);
		db_rollback(c->db);
		api_error(c, 404, "no such rule");
	} else {
		base = admin_rule_doc(r, 0);
		db_res_free(r);
		admin_write(c, base, body, "admin_rule_update", "update");
	}
	json_decref(base);
	json_decref(body);
}

void admin_api_rules_delete(struct api_call *c)
{
	char id[24];
	const char *v[1] = { id };
	long n;

	snprintf(id, sizeof(id), "%lld", c->id[0]);
	if (db_begin(c->db) < 0 || (n = db_cmd(c->db, "admin_rule_delete", 1, v, NULL, NULL)) < 0) {
		admin_unavailable(c);
		return;
	}
	if (n == 0) {
		db_rollback(c->db);
		api_error(c, 404, "no such rule");
		return;
	}
	admin_finish(c, "delete", c->id[0], 204, NULL);
}

/* the ids of the body as "{3,1,2}", each a positive integer once; NULL
 * after a 400 */
static const char *admin_order_ids(struct api_call *c, const json_t *ids, size_t *n)
{
	struct pool *p = c->req->pool;
	size_t i, len = 0, cap = 3; /* { } NUL */
	long long *seen;
	json_t *v;
	char *out;

	*n = json_array_size(ids);
	if (!json_is_array(ids) || *n > ADMIN_MAX_ORDER ||
	    (seen = pool_alloc(p, (*n + 1) * sizeof(*seen))) == NULL ||
	    (out = pool_alloc(p, cap + *n * 12)) == NULL) {
		admin_bad(c, "ids", "must be a list of rule ids");
		return NULL;
	}
	out[len++] = '{';
	json_array_foreach(ids, i, v) {
		json_int_t id = json_integer_value(v);

		for (size_t j = 0; j < i; j++)
			if (seen[j] == id)
				id = 0;
		if (!json_is_integer(v) || id < 1 || id > 2147483647) {
			admin_bad(c, "ids", "must be rule ids, each once");
			return NULL;
		}
		seen[i] = id;
		len += (size_t)snprintf(out + len, 13, "%s%lld", i ? "," : "", (long long)id);
	}
	out[len++] = '}';
	out[len] = '\0';
	return out;
}

/* 1 when the locked rows are exactly the n ids of list */
static int admin_same_set(const struct db_res *r, const json_t *list, size_t n)
{
	size_t i;
	json_t *v;

	if ((size_t)db_res_rows(r) != n)
		return 0;
	json_array_foreach(list, i, v) {
		int found = 0;

		for (int k = 0; k < db_res_rows(r) && !found; k++)
			found = db_res_ll(r, k, 0) == json_integer_value(v);
		if (!found)
			return 0;
	}
	return 1;
}

static void admin_reorder(struct api_call *c, const json_t *list, const char *ids, size_t n)
{
	const char *v[3] = { ids, api_now_iso(c, 0), c->session->login };
	struct db_res *r;
	json_t *doc;

	if ((r = db_query(c->db, "admin_rule_ids", 0, NULL, NULL, NULL, 0)) == NULL) {
		admin_unavailable(c);
		return;
	}
	if (!admin_same_set(r, list, n)) {
		db_res_free(r);
		db_rollback(c->db);
		api_error(c, 409, "ids: not the rules there are now; reload them");
		return;
	}
	db_res_free(r);
	if (db_cmd(c->db, "admin_rule_order", 3, v, NULL, NULL) < 0 ||
	    (doc = admin_rules_doc(c)) == NULL) {
		admin_unavailable(c);
		return;
	}
	admin_finish(c, "order", 0, 200, doc);
}

void admin_api_rules_order(struct api_call *c)
{
	json_t *body = api_body_object(c), *list;
	const char *ids;
	size_t n;

	if (body == NULL)
		return;
	list = json_object_get(body, "ids");
	if (json_object_size(body) != 1 || list == NULL)
		admin_bad(c, "ids", "the body must be {\"ids\":[...]}");
	else if ((ids = admin_order_ids(c, list, &n)) != NULL) {
		if (db_begin(c->db) < 0)
			api_error(c, 503, "database unavailable");
		else
			admin_reorder(c, list, ids, n);
	}
	json_decref(body);
}
