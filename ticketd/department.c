/* department: the department directory (department.h, sql/018). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "buf.h"
#include "db.h"
#include "department.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "reply_draft.h"
#include "utf8.h"

#define DEPT_MAX_MAIL 10
#define DEPT_MAX_LINES 2000
#define DEPT_NAME_MAX 100
#define DEPT_PHONE_MAX 40

#define DEPT_COLS                                                                            \
	"d.id, d.name, d.section, array_to_json(d.mail)::text, d.head_mail, d.phone, d.enabled," \
	" d.position"

static const struct db_stmt dept_stmts[] = {
	{ "dept_list", "SELECT " DEPT_COLS " FROM department d ORDER BY d.position, d.name,"
		       " d.section, d.id" },
	{ "dept_get", "SELECT " DEPT_COLS " FROM department d WHERE d.id = $1" },
	/* $3 the addresses as a JSON array */
	{ "dept_insert",
	  "INSERT INTO department AS d (name, section, mail, head_mail, phone, enabled, position,"
	  " updated_by, updated_at) VALUES ($1, $2, ARRAY(SELECT json_array_elements_text($3::json)),"
	  " $4, $5, $6, $7, $8, $9) ON CONFLICT (name, section) DO NOTHING RETURNING " DEPT_COLS },
	/* NULL: keep; head_mail "" clears it */
	{ "dept_update",
	  "UPDATE department d SET name = coalesce($2, name), section = coalesce($3, section),"
	  " mail = CASE WHEN $4::json IS NULL THEN mail"
	  "  ELSE ARRAY(SELECT json_array_elements_text($4::json)) END,"
	  " head_mail = CASE WHEN $5::text IS NULL THEN head_mail ELSE nullif($5, '') END,"
	  " phone = coalesce($6, phone), enabled = coalesce($7::boolean, enabled),"
	  " position = coalesce($8::int, position), updated_by = $9, updated_at = $10"
	  " WHERE id = $1 RETURNING " DEPT_COLS },
	{ "dept_taken",
	  "SELECT 1 FROM department WHERE name = $1 AND section = $2 AND id <> $3" },
	/* the import: one line, added or updated; xmax = 0 says added */
	{ "dept_upsert",
	  "INSERT INTO department AS d (name, section, mail, head_mail, phone, updated_by,"
	  " updated_at, position) VALUES ($1, $2, ARRAY(SELECT json_array_elements_text($3::json)),"
	  " nullif($4, ''), $5, $6, $7, (SELECT coalesce(max(position), 0) + 1 FROM department))"
	  " ON CONFLICT (name, section) DO UPDATE SET mail = EXCLUDED.mail,"
	  " head_mail = EXCLUDED.head_mail, phone = EXCLUDED.phone,"
	  " updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at"
	  " RETURNING (xmax = 0)" },
	{ NULL, NULL },
};

void department_prepare(struct db *db)
{
	db_prepare_all(db, dept_stmts);
}

static json_t *dept_doc(const struct db_res *r, int i)
{
	json_t *d = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o}", "id", api_col_int(r, i, 0),
			      "name", api_col_str(r, i, 1), "section", api_col_str(r, i, 2),
			      "mail", api_col_json(r, i, 3), "head_mail", api_col_str(r, i, 4),
			      "phone", api_col_str(r, i, 5), "enabled",
			      strcmp(db_res_val(r, i, 6), "t") == 0, "position",
			      api_col_int(r, i, 7));
	const char *sec = db_res_val(r, i, 2);

	json_object_set_new(d, "path", sec[0] != '\0' ? json_sprintf("%s > %s", db_res_val(r, i, 1),
								     sec)
						      : json_string(db_res_val(r, i, 1)));
	return d;
}

void department_list(struct api_call *c)
{
	api_answer_rows(c, "dept_list", 0, NULL, "departments", dept_doc);
}

/* ---- checking the fields ---- */

/* a name or section: NULL when fine, else why */
static const char *dept_text_bad(const char *s, size_t max, int empty_ok)
{
	if (s == NULL)
		return "must be a string";
	if (!empty_ok && s[0] == '\0')
		return "must not be empty";
	if (strlen(s) > max)
		return "is too long";
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "must not contain control characters";
	return NULL;
}

/* the addresses as a JSON array text in the pool; NULL with *why */
static const char *dept_mail_json(struct pool *p, const json_t *a, const char **why)
{
	json_t *out;
	char *s;
	const char *r;
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > DEPT_MAX_MAIL) {
		*why = "mail: one to ten addresses";
		return NULL;
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v) || !reply_addr_ok(json_string_value(v))) {
			*why = pool_printf(p, "mail: \"%.100s\" is not a plain address",
					   json_is_string(v) ? json_string_value(v) : "?");
			return NULL;
		}
	}
	out = json_deep_copy(a);
	s = out ? json_dumps(out, JSON_COMPACT) : NULL;
	json_decref(out);
	r = s ? pool_strdup(p, s) : NULL;
	free(s);
	if (r == NULL)
		*why = "out of memory";
	return r;
}

/* the 9 parameters $1..$9 of dept_update from body (NULL = keep);
 * NULL, or why the body is refused */
static const char *dept_fields(struct api_call *c, json_t *body, const char **v, int create)
{
	struct pool *p = c->req->pool;
	const char *why = NULL, *key;
	json_t *x;

	json_object_foreach(body, key, x) {
		if (strcmp(key, "name") == 0)
			why = (v[1] = json_string_value(x), dept_text_bad(v[1], DEPT_NAME_MAX, 0));
		else if (strcmp(key, "section") == 0)
			why = (v[2] = json_string_value(x), dept_text_bad(v[2], DEPT_NAME_MAX, 1));
		else if (strcmp(key, "mail") == 0)
			v[3] = dept_mail_json(p, x, &why);
		else if (strcmp(key, "head_mail") == 0)
			why = json_is_null(x) ? (v[4] = "", NULL)
			      : !json_is_string(x) || (json_string_length(x) > 0 &&
						      !reply_addr_ok(json_string_value(x)))
				      ? "head_mail: a plain address or null"
				      : (v[4] = json_string_value(x), NULL);
		else if (strcmp(key, "phone") == 0)
			why = (v[5] = json_string_value(x), dept_text_bad(v[5], DEPT_PHONE_MAX, 1));
		else if (strcmp(key, "enabled") == 0)
			why = json_is_boolean(x) ? (v[6] = json_is_true(x) ? "true" : "false", NULL)
						 : "enabled: true or false";
		else if (strcmp(key, "position") == 0)
			why = json_is_integer(x) && json_integer_value(x) >= 0 &&
					      json_integer_value(x) <= 1000000
				      ? (v[7] = pool_printf(p, "%lld", (long long)json_integer_value(x)),
					 NULL)
				      : "position: an integer from 0";
		else
			why = pool_printf(p, "%.64s: unknown field", key);
		if (why != NULL && strchr(why, ':') == NULL)
			why = pool_printf(p, "%s: %s", key, why);
		if (why != NULL)
			return why;
	}
	if (create && v[1] == NULL)
		return "name: is required";
	if (create && v[3] == NULL)
		return "mail: is required";
	return NULL;
}

static void dept_answer(struct api_call *c, struct db_res *r, int status)
{
	if (r == NULL)
		api_error(c, 503, "database unavailable");
	else if (db_res_rows(r) == 0)
		api_error(c, status == 201 ? 409 : 404,
			  status == 201 ? "a department of that name and section exists"
					: "no such department");
	else
		api_json(c, status, dept_doc(r, 0));
	db_res_free(r);
}

void department_create(struct api_call *c)
{
	json_t *body = api_body_object(c);
	const char *v[10] = { NULL }, *why;

	if (body == NULL)
		return;
	if ((why = dept_fields(c, body, v, 1)) != NULL) {
		api_error(c, 400, why);
	} else {
		const char *iv[9] = { v[1], v[2] ? v[2] : "", v[3], v[4] && v[4][0] ? v[4] : NULL,
				      v[5] ? v[5] : "", v[6] ? v[6] : "true", v[7] ? v[7] : "0",
				      c->session->login, api_now_iso(c, 0) };

		dept_answer(c, db_query(c->db, "dept_insert", 9, iv, NULL, NULL, 0), 201);
	}
	json_decref(body);
}

/* 1 when another department has the (name, section) an update makes */
static int dept_clash(struct api_call *c, const char **v)
{
	struct db_res *r = db_query(c->db, "dept_get", 1, v, NULL, NULL, 0);
	const char *q[3];
	int n = -1;

	if (r != NULL && db_res_rows(r) == 1) {
		q[0] = v[1] ? v[1] : pool_strdup(c->req->pool, db_res_val(r, 0, 1));
		q[1] = v[2] ? v[2] : pool_strdup(c->req->pool, db_res_val(r, 0, 2));
		q[2] = v[0];
		db_res_free(r);
		r = db_query(c->db, "dept_taken", 3, q, NULL, NULL, 0);
		n = r ? db_res_rows(r) > 0 : -1;
	} else if (r != NULL) {
		n = 0; /* no such department: the update says 404 */
	}
	db_res_free(r);
	return n;
}

void department_update(struct api_call *c)
{
	json_t *body = api_body_object(c);
	const char *v[10] = { NULL }, *why;
	int clash;

	if (body == NULL)
		return;
	v[0] = pool_printf(c->req->pool, "%lld", c->id[0]);
	if ((why = dept_fields(c, body, v, 0)) != NULL) {
		api_error(c, 400, why);
	} else if ((clash = dept_clash(c, v)) != 0) {
		if (clash < 0)
			api_error(c, 503, "database unavailable");
		else
			api_error(c, 409, "a department of that name and section exists");
	} else {
		v[8] = c->session->login;
		v[9] = api_now_iso(c, 0);
		dept_answer(c, db_query(c->db, "dept_update", 10, v, NULL, NULL, 0), 200);
	}
	json_decref(body);
}

/* ---- the CSV import ---- */

enum { DC_NAME, DC_SECTION, DC_MAIL, DC_HEAD, DC_PHONE, DC_N };

static const char *const dept_headers[DC_N][2] = {
	{ "課", "name" }, { "係", "section" }, { "メール", "mail" },
	{ "課長メール", "head_mail" }, { "電話", "phone" },
};

struct dept_csv {
	const char *s, *end; /* what is left of the body */
	int line;
	char *field[16];
	int nfield;
};

/* One field at s (RFC 4180: "quoted" with "" for a quote); NULL on an
 * unclosed quote.  Advances past it and its comma. */
static char *dept_csv_field(struct pool *p, struct dept_csv *x, int *eol)
{
	struct buf b;
	char *out;

	buf_init(&b, 65536);
	if (x->s < x->end && *x->s == '"') {
		for (x->s++;; x->s++) {
			if (x->s >= x->end) {
				buf_free(&b);
				return NULL;
			}
			if (*x->s == '"' && (x->s + 1 >= x->end || x->s[1] != '"'))
				break;
			if (*x->s == '"')
				x->s++;
			buf_append(&b, x->s, 1);
		}
		x->s++;
	}
	while (x->s < x->end && *x->s != ',' && *x->s != '\n' && *x->s != '\r')
		buf_append(&b, x->s++, 1);
	*eol = x->s >= x->end || *x->s != ',';
	if (x->s < x->end && *x->s == '\r')
		x->s++;
	if (x->s < x->end)
		x->s++; /* the comma or the LF */
	out = pool_alloc(p, b.len + 1);
	if (out != NULL) {
		memcpy(out, b.data ? b.data : "", b.len);
		out[b.len] = '\0';
	}
	buf_free(&b);
	return out;
}

/* the next record into x->field; 1, 0 at the end, -1 malformed */
static int dept_csv_record(struct pool *p, struct dept_csv *x)
{
	int eol = 0;

	if (x->s >= x->end)
		return 0;
	x->line++;
	x->nfield = 0;
	while (!eol) {
		char *f = dept_csv_field(p, x, &eol);

		if (f == NULL || x->nfield == 16)
			return -1;
		x->field[x->nfield++] = f;
	}
	return 1;
}

/* which column holds what; -1 when a needed one is missing */
static int dept_csv_columns(const struct dept_csv *x, int *col)
{
	for (int k = 0; k < DC_N; k++) {
		col[k] = -1;
		for (int i = 0; i < x->nfield; i++) {
			const char *h = x->field[i];

			if (i == 0 && strncmp(h, "\xef\xbb\xbf", 3) == 0)
				h += 3; /* a BOM, as Excel writes UTF-8 CSV */
			if (strcmp(h, dept_headers[k][0]) == 0 || strcmp(h, dept_headers[k][1]) == 0)
				col[k] = i;
		}
	}
	return col[DC_NAME] < 0 || col[DC_MAIL] < 0 ? -1 : 0;
}

/* "a@b; c@d" as a JSON array text; NULL when one is not an address */
static const char *dept_csv_mail(struct pool *p, const char *s, const char **why)
{
	json_t *a = json_array();
	char *copy = pool_strdup(p, s), *save = NULL, *tok;
	const char *r;

	for (tok = copy ? strtok_r(copy, "; \t", &save) : NULL; tok != NULL;
	     tok = strtok_r(NULL, "; \t", &save))
		json_array_append_new(a, json_string(tok));
	r = dept_mail_json(p, a, why);
	json_decref(a);
	return r;
}

static const char *dept_csv_value(const struct dept_csv *x, const int *col, int k)
{
	return col[k] >= 0 && col[k] < x->nfield ? x->field[col[k]] : "";
}

/* one data line stored; NULL, or why it is refused */
static const char *dept_csv_line(struct api_call *c, const struct dept_csv *x, const int *col,
				 int *added)
{
	struct pool *p = c->req->pool;
	const char *v[7], *why = NULL;
	struct db_res *r;

	for (int k = 0; k < DC_N; k++)
		v[k] = dept_csv_value(x, col, k);
	if ((why = dept_text_bad(v[0], DEPT_NAME_MAX, 0)) != NULL)
		return pool_printf(p, "課 (name) %s", why);
	if ((why = dept_text_bad(v[1], DEPT_NAME_MAX, 1)) != NULL)
		return pool_printf(p, "係 (section) %s", why);
	if ((v[2] = dept_csv_mail(p, v[2], &why)) == NULL)
		return why;
	if (v[3][0] != '\0' && !reply_addr_ok(v[3]))
		return "課長メール (head_mail) is not a plain address";
	if ((why = dept_text_bad(v[4], DEPT_PHONE_MAX, 1)) != NULL)
		return pool_printf(p, "電話 (phone) %s", why);
	v[5] = c->session->login;
	v[6] = api_now_iso(c, 0);
	if ((r = db_query(c->db, "dept_upsert", 7, v, NULL, NULL, 0)) == NULL)
		return "";
	*added = strcmp(db_res_val(r, 0, 0), "t") == 0;
	db_res_free(r);
	return NULL;
}

/* every line, inside the caller's transaction; NULL or why (with the
 * line in *line; "" = the database failed) */
static const char *dept_csv_all(struct api_call *c, struct dept_csv *x, int *col, int *counts,
				int *line)
{
	int r = dept_csv_record(c->req->pool, x), added = 0;
	const char *why;

	if (r <= 0 || dept_csv_columns(x, col) < 0) {
		*line = 1;
		return "the first line must name the columns: 課 (name) and メール (mail) at least";
	}
	while ((r = dept_csv_record(c->req->pool, x)) != 0) {
		*line = x->line;
		if (r < 0)
			return "an unclosed quote";
		if (x->nfield == 1 && x->field[0][0] == '\0')
			continue; /* a blank line */
		if (x->line > DEPT_MAX_LINES)
			return "too many lines";
		if ((why = dept_csv_line(c, x, col, &added)) != NULL)
			return why;
		counts[added]++;
	}
	return NULL;
}

void department_import(struct api_call *c)
{
	struct dept_csv x = { c->req->body, c->req->body + c->req->body_len, 0, { NULL }, 0 };
	int col[DC_N], counts[2] = { 0, 0 }, line = 0;
	const char *type = http_header(c->req, "Content-Type"), *why;

	if (type == NULL || strncmp(type, "text/csv", 8) != 0) {
		api_error(c, 415, "send the CSV as text/csv (UTF-8)");
		return;
	}
	if (!utf8_valid(c->req->body, c->req->body_len)) {
		api_error(c, 400, "the CSV is not UTF-8 (save it from Excel as \"CSV UTF-8\")");
		return;
	}
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	why = dept_csv_all(c, &x, col, counts, &line);
	if (why != NULL || db_commit(c->db) < 0) {
		db_rollback(c->db);
		if (why == NULL || why[0] == '\0')
			api_error(c, 503, "database unavailable");
		else
			api_json(c, 400, json_pack("{s:s, s:i}", "error", why, "line", line));
		return;
	}
	log_info("departments imported by %s: %d added, %d updated", c->session->login, counts[1],
		 counts[0]);
	api_json(c, 200, json_pack("{s:i, s:i}", "added", counts[1], "updated", counts[0]));
}
