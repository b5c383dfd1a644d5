/* The category tree and the classification of tickets; the rules are in
 * category.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "category.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "pool.h"

static const struct db_stmt cat_stmts[] = {
	{ "cat_list",
	  "SELECT id, parent_id, name, path, position, enabled, usable FROM category_path"
	  " ORDER BY sort" },
	{ "cat_insert",
	  "INSERT INTO category (parent_id, name, position, enabled)"
	  " VALUES ($1::int, $2, $3::int, $4::bool) RETURNING id" },
	{ "cat_update",
	  "UPDATE category SET position = coalesce($2::int, position),"
	  " enabled = coalesce($3::bool, enabled) WHERE id = $1" },
	{ "cat_usable", "SELECT 1 FROM category_path WHERE path = $1 AND usable" },
	{ "cat_lock",
	  "SELECT coalesce(category, ''), array_to_json(tags)::text FROM ticket"
	  " WHERE id = $1 FOR UPDATE" },
	/* $3: the tags as a JSON array of strings */
	{ "cat_classify",
	  "UPDATE ticket SET category = nullif($2, ''),"
	  " tags = ARRAY(SELECT json_array_elements_text($3::json)), updated_at = $4"
	  " WHERE id = $1" },
	{ "cat_event",
	  "INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)"
	  " VALUES ($1, $2, $3, 'classified', $4)" },
	{ "cat_notify",
	  "SELECT pg_notify('ticket_change',"
	  " json_build_object('id', $1::bigint, 'op', 'classified')::text)" },
	/* renaming (category.h): renames wait for each other and for creates */
	{ "cat_lock_tree", "LOCK TABLE category IN SHARE ROW EXCLUSIVE MODE" },
	{ "cat_path", "SELECT path FROM category_path WHERE id = $1::int" },
	{ "cat_rename", "UPDATE category SET name = $2 WHERE id = $1::int" },
	/* $1 the old path, $2 the new one: that path and every path below it */
	{ "cat_rw_tickets",
	  "UPDATE ticket SET category = $2 || substr(category, length($1) + 1)"
	  " WHERE category = $1 OR starts_with(category, $1 || ' > ')" },
	{ "cat_rw_cases",
	  "UPDATE case_record SET category = $2 || substr(category, length($1) + 1)"
	  " WHERE category = $1 OR starts_with(category, $1 || ' > ')" },
	{ "cat_rw_rules",
	  "UPDATE route_rule SET set_category = $2 || substr(set_category, length($1) + 1),"
	  " updated_at = $3::timestamptz, updated_by = $4"
	  " WHERE set_category = $1 OR starts_with(set_category, $1 || ' > ')" },
	{ "cat_rename_audit",
	  "INSERT INTO category_rename (category_id, old_path, new_path, renamed_by, renamed_at)"
	  " VALUES ($1::int, $2, $3, $4, $5::timestamptz)" },
	/* id 0: no one ticket; the queues refetch (live.js needs an integer id) */
	{ "cat_rename_notify",
	  "SELECT pg_notify('ticket_change', json_build_object('id', 0, 'op', 'category_renamed',"
	  " 'category_id', $1::int)::text)" },
	{ "cat_rules_notify",
	  "SELECT pg_notify('route_change', json_build_object('op', 'category_renamed',"
	  " 'id', $1::int)::text)" },
	{ NULL, NULL },
};

void category_prepare(struct db *db)
{
	db_prepare_all(db, cat_stmts);
}

/* characters of a UTF-8 string (jansson has checked it) */
static size_t cat_chars(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) != 0x80;
	return k;
}

void category_list(struct api_call *c)
{
	struct db_res *r = db_query(c->db, "cat_list", 0, NULL, NULL, NULL, 0);
	json_t *list;

	if (r == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(
			list, json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:b}", "id",
					api_col_int(r, i, 0), "parent_id", api_col_int(r, i, 1),
					"name", api_col_str(r, i, 2), "path", api_col_str(r, i, 3),
					"position", api_col_int(r, i, 4), "enabled",
					db_res_val(r, i, 5)[0] == 't', "usable",
					db_res_val(r, i, 6)[0] == 't'));
	db_res_free(r);
	api_json(c, 200, json_pack("{s:o}", "categories", list));
}

/* an optional integer or boolean member as text for SQL ("" NULL); -1 when
 * it has the wrong type */
static int cat_opt(struct api_call *c, json_t *body, const char *key, int boolean,
		   const char **out)
{
	json_t *v = json_object_get(body, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (boolean && json_is_boolean(v))
		*out = json_is_true(v) ? "true" : "false";
	else if (!boolean && json_is_integer(v) && json_integer_value(v) >= 0 &&
		 json_integer_value(v) <= 1000000)
		*out = pool_printf(c->req->pool, "%lld", (long long)json_integer_value(v));
	return *out ? 0 : -1;
}

static const char *cat_name_bad(const char *name)
{
	size_t n;

	if (name == NULL)
		return "name: must be a string";
	n = strlen(name);
	if (n == 0 || cat_chars(name, n) > CATEGORY_NAME_CHARS)
		return "name: 1 to 60 characters";
	if (strstr(name, " > ") != NULL || name[0] == ' ' || name[n - 1] == ' ')
		return "name: no \" > \" and no spaces at the ends";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return "name: no control characters";
	return NULL;
}

static void cat_insert(struct api_call *c, const char *const v[4])
{
	struct db_res *r = db_query(c->db, "cat_insert", 4, v, NULL, NULL, 0);
	const char *state = db_sqlstate(c->db);

	if (r == NULL && strcmp(state, "23505") == 0)
		api_error(c, 409, "a category of that name is there already");
	else if (r == NULL && strcmp(state, "23503") == 0)
		api_error(c, 422, "parent_id: no such category");
	else if (r == NULL || db_res_rows(r) != 1)
		api_error(c, 503, "database unavailable");
	else {
		log_info("category=%s: created by %s: %s", db_res_val(r, 0, 0), c->session->login,
			 v[1]);
		api_json(c, 201, json_pack("{s:o}", "id", api_col_int(r, 0, 0)));
	}
	db_res_free(r);
}

void category_create(struct api_call *c)
{
	json_t *body = api_body_object(c);
	const char *v[4] = { NULL, NULL, NULL, NULL }, *why;

	if (body == NULL)
		return;
	v[1] = json_string_value(json_object_get(body, "name"));
	why = cat_name_bad(v[1]);
	if (why == NULL && (cat_opt(c, body, "parent_id", 0, &v[0]) < 0 ||
			    cat_opt(c, body, "position", 0, &v[2]) < 0 ||
			    cat_opt(c, body, "enabled", 1, &v[3]) < 0))
		why = "parent_id, position: integers; enabled: a boolean";
	if (why != NULL)
		api_error(c, 400, why);
	else {
		v[2] = v[2] ? v[2] : "0";
		v[3] = v[3] ? v[3] : "true";
		cat_insert(c, v);
	}
	json_decref(body);
}

/* ---- renaming, and the position and switch ---- */

struct cat_rename {
	const char *id, *name, *now, *old_path, *new_path;
	long tickets, cases, rules;
};

/* the path of category id, or NULL (*missing set when there is none) */
static const char *cat_path_of(struct api_call *c, const char *id, int *missing)
{
	const char *v[1] = { id };
	struct db_res *r = db_query(c->db, "cat_path", 1, v, NULL, NULL, 0);
	const char *path = r && db_res_rows(r) == 1 ? pool_strdup(c->req->pool, db_res_val(r, 0, 0))
						     : NULL;

	*missing = r != NULL && db_res_rows(r) == 0;
	db_res_free(r);
	return path;
}

/* the paths rewritten from old to new; -1 on a database error */
static int cat_rewrite(struct api_call *c, struct cat_rename *rn)
{
	const char *v[4] = { rn->old_path, rn->new_path, rn->now, c->session->login };
	const char *av[5] = { rn->id, rn->old_path, rn->new_path, c->session->login, rn->now };
	const char *nv[1] = { rn->id };
	struct db_res *r;

	rn->tickets = db_cmd(c->db, "cat_rw_tickets", 2, v, NULL, NULL);
	rn->cases = rn->tickets < 0 ? -1 : db_cmd(c->db, "cat_rw_cases", 2, v, NULL, NULL);
	rn->rules = rn->cases < 0 ? -1 : db_cmd(c->db, "cat_rw_rules", 4, v, NULL, NULL);
	if (rn->rules < 0 || db_cmd(c->db, "cat_rename_audit", 5, av, NULL, NULL) != 1)
		return -1;
	r = db_query(c->db, "cat_rename_notify", 1, nv, NULL, NULL, 0);
	db_res_free(r);
	if (r != NULL && rn->rules > 0) {
		r = db_query(c->db, "cat_rules_notify", 1, nv, NULL, NULL, 0);
		db_res_free(r);
	}
	return r ? 0 : -1;
}

/* in the transaction: 0 renamed (or the same name), else the HTTP status */
static int cat_rename_run(struct api_call *c, struct cat_rename *rn)
{
	const char *v[2] = { rn->id, rn->name };
	int missing;
	long n;

	if (db_cmd(c->db, "cat_lock_tree", 0, NULL, NULL, NULL) < 0)
		return 503;
	if ((rn->old_path = cat_path_of(c, rn->id, &missing)) == NULL)
		return missing ? 404 : 503;
	n = db_cmd(c->db, "cat_rename", 2, v, NULL, NULL);
	if (n < 0)
		return strcmp(db_sqlstate(c->db), "23505") == 0 ? 409 : 503;
	if ((rn->new_path = cat_path_of(c, rn->id, &missing)) == NULL)
		return 503;
	if (strcmp(rn->old_path, rn->new_path) == 0)
		return 0;
	return cat_rewrite(c, rn) < 0 ? 503 : 0;
}

/* PUT with "name": the rename, then position and enabled, one transaction */
static void cat_rename(struct api_call *c, struct cat_rename *rn, const char *const uv[3])
{
	int st = db_begin(c->db) < 0 ? 503 : cat_rename_run(c, rn);

	if (st == 0 && (uv[1] || uv[2]) && db_cmd(c->db, "cat_update", 3, uv, NULL, NULL) != 1)
		st = 503;
	if (st != 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		api_error(c, st == 0 ? 503 : st,
			  st == 409   ? "a category of that name is there already"
			  : st == 404 ? "no such category"
				      : "database unavailable");
		return;
	}
	if (strcmp(rn->old_path, rn->new_path) != 0)
		log_info("category=%s: renamed by %s: %s -> %s (tickets %ld, cases %ld, rules %ld)",
			 rn->id, c->session->login, rn->old_path, rn->new_path, rn->tickets,
			 rn->cases, rn->rules);
	api_json(c, 200, json_pack("{s:I, s:s, s:s, s:I, s:I, s:I}", "id", (json_int_t)c->id[0],
				   "old_path", rn->old_path, "path", rn->new_path, "tickets",
				   (json_int_t)rn->tickets, "cases", (json_int_t)rn->cases, "rules",
				   (json_int_t)rn->rules));
}

static void cat_update_only(struct api_call *c, const char *const v[3])
{
	long n = db_cmd(c->db, "cat_update", 3, v, NULL, NULL);

	if (n < 0)
		api_error(c, 503, "database unavailable");
	else if (n == 0)
		api_error(c, 404, "no such category");
	else {
		log_info("category=%lld: updated by %s", c->id[0], c->session->login);
		api_json(c, 200, json_pack("{s:I}", "id", (json_int_t)c->id[0]));
	}
}

void category_update(struct api_call *c)
{
	json_t *body = api_body_object(c), *nv;
	const char *v[3] = { NULL, NULL, NULL }, *why = NULL;
	struct cat_rename rn = { 0 };

	if (body == NULL)
		return;
	v[0] = rn.id = pool_printf(c->req->pool, "%lld", c->id[0]);
	nv = json_object_get(body, "name");
	if (nv != NULL && (why = cat_name_bad(json_string_value(nv))) == NULL)
		rn.name = pool_strdup(c->req->pool, json_string_value(nv));
	if (why == NULL && (cat_opt(c, body, "position", 0, &v[1]) < 0 ||
			    cat_opt(c, body, "enabled", 1, &v[2]) < 0 ||
			    (rn.name == NULL && v[1] == NULL && v[2] == NULL)))
		why = "name (a string), position (an integer) or enabled (a boolean) expected";
	json_decref(body);
	rn.now = api_now_iso(c, 0);
	if (why != NULL)
		api_error(c, 400, why);
	else if (rn.name != NULL)
		cat_rename(c, &rn, v);
	else
		cat_update_only(c, v);
}

/* ---- classifying a ticket ---- */

/* s without ASCII blanks and U+3000 (the ideographic space) at either end */
static const char *cat_trim(struct pool *p, const char *s, size_t n)
{
	for (;;) {
		if (n > 0 && (*s == ' ' || *s == '\t'))
			s++, n--;
		else if (n >= 3 && memcmp(s, "\xe3\x80\x80", 3) == 0)
			s += 3, n -= 3;
		else
			break;
	}
	for (;;) {
		if (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		else if (n >= 3 && memcmp(s + n - 3, "\xe3\x80\x80", 3) == 0)
			n -= 3;
		else
			break;
	}
	return pool_strndup(p, s, n);
}

static int cat_tag_ok(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || cat_chars(t, n) > CATEGORY_TAG_CHARS)
		return 0;
	/* the comma and the full-width comma: the web form splits on them */
	if (strchr(t, ',') != NULL || strstr(t, "\xef\xbc\x8c") != NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
			return 0;
	return 1;
}

/* the tags of the body, trimmed and without duplicates, or NULL after 400 */
static json_t *cat_tags(struct api_call *c, json_t *body)
{
	json_t *in = json_object_get(body, "tags"), *out, *v;
	size_t i;

	if (in == NULL || json_is_null(in))
		return json_array();
	if (!json_is_array(in) || json_array_size(in) > CATEGORY_TAGS_MAX) {
		api_error(c, 400, "tags: an array of at most 10 strings");
		return NULL;
	}
	out = json_array();
	json_array_foreach(in, i, v) {
		const char *t = json_is_string(v) ? cat_trim(c->req->pool, json_string_value(v),
							     json_string_length(v)) : NULL;
		int dup = 0;
		size_t j;
		json_t *w;

		if (t == NULL || !cat_tag_ok(t)) {
			json_decref(out);
			api_error(c, 400, "tags: each 1 to 30 characters, no commas or control characters");
			return NULL;
		}
		json_array_foreach(out, j, w) dup |= strcmp(json_string_value(w), t) == 0;
		if (!dup)
			json_array_append_new(out, json_string(t));
	}
	return out;
}

/* 1 usable, 0 not, -1 database error */
static int cat_usable(struct api_call *c, const char *path)
{
	const char *v[1] = { path };
	struct db_res *r = db_query(c->db, "cat_usable", 1, v, NULL, NULL, 0);
	int ok = r ? db_res_rows(r) == 1 : -1;

	db_res_free(r);
	return ok;
}

/* in the transaction: 1 written, 0 nothing changed, -404 no ticket, -1 db */
static int cat_write(struct api_call *c, const char *cat, const char *tags)
{
	const char *id = pool_printf(c->req->pool, "%lld", c->id[0]), *now = api_now_iso(c, 0);
	const char *lv[1] = { id };
	struct db_res *r = db_query(c->db, "cat_lock", 1, lv, NULL, NULL, 0);
	const char *uv[4] = { id, cat, tags, now }, *ev[4], *nv[1] = { id };
	json_t *old, *new;
	int same;

	if (r == NULL || db_res_rows(r) != 1) {
		db_res_free(r);
		return r ? -404 : -1;
	}
	old = json_loads(db_res_val(r, 0, 1), 0, NULL);
	new = json_loads(tags, 0, NULL);
	same = strcmp(db_res_val(r, 0, 0), cat) == 0 && old && new && json_equal(old, new);
	json_decref(old);
	json_decref(new);
	db_res_free(r);
	if (same)
		return 0;
	ev[0] = id, ev[1] = now, ev[2] = c->session->login;
	ev[3] = pool_printf(c->req->pool, "%s %s", cat[0] ? cat : "-", tags);
	if (db_cmd(c->db, "cat_classify", 4, uv, NULL, NULL) != 1 ||
	    db_cmd(c->db, "cat_event", 4, ev, NULL, NULL) != 1)
		return -1;
	r = db_query(c->db, "cat_notify", 1, nv, NULL, NULL, 0);
	db_res_free(r);
	return r ? 1 : -1;
}

static void cat_run(struct api_call *c, const char *cat, const char *tags)
{
	int r = db_begin(c->db) < 0 ? -1 : cat[0] ? cat_usable(c, cat) : 1;

	if (r == 0) {
		db_rollback(c->db);
		api_error(c, 422, "category: not an enabled category path");
		return;
	}
	if (r > 0)
		r = cat_write(c, cat, tags);
	if (r < 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		api_error(c, r == -404 ? 404 : 503, r == -404 ? "no such ticket" : "database unavailable");
		return;
	}
	if (r > 0)
		log_info("ticket=%lld: classified by %s: %s %s", c->id[0], c->session->login,
			 cat[0] ? cat : "-", tags);
	api_json(c, 200, json_pack("{s:I, s:s?, s:o}", "id", (json_int_t)c->id[0], "category",
				   cat[0] ? cat : NULL, "tags", json_loads(tags, 0, NULL)));
}

void category_classify(struct api_call *c)
{
	json_t *body = api_body_object(c), *cv, *tags;
	const char *cat = "";
	char *tags_json;

	if (body == NULL)
		return;
	cv = json_object_get(body, "category");
	if (cv != NULL && !json_is_null(cv) && !json_is_string(cv)) {
		json_decref(body);
		api_error(c, 400, "category: a path string, \"\" or null");
		return;
	}
	if (json_is_string(cv) && json_string_length(cv) > 400) {
		json_decref(body);
		api_error(c, 422, "category: not an enabled category path");
		return;
	}
	if (json_is_string(cv))
		cat = pool_strdup(c->req->pool, json_string_value(cv));
	tags = cat_tags(c, body);
	json_decref(body);
	if (tags == NULL)
		return;
	tags_json = json_dumps(tags, JSON_COMPACT);
	json_decref(tags);
	if (tags_json == NULL || cat == NULL) {
		free(tags_json);
		api_error(c, 500, "out of memory");
		return;
	}
	cat_run(c, cat, tags_json);
	free(tags_json);
}
