/* The contact store endpoints; the contract is in contacts.h.
 *
 * ticketd holds no privilege on contact or ticket_contact: it calls
 * contact_read, contact_save and contact_search (sql/006), SECURITY
 * DEFINER functions that write the contact_access row in the same
 * statement.  The checks here (role, grant, reason) come first so that a
 * refusal is a clear 4xx; the functions check the user and the reason
 * again, so a mistake here cannot read a contact unaudited. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "contacts.h"
#include "db.h"
#include "http.h"
#include "pool.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define CONTACTS_Q_MAX 400        /* bytes: 100 characters of Japanese */
#define CONTACTS_SEARCH_LIMIT "20"
#define CONTACTS_LOG_DEFAULT 100
#define CONTACTS_LOG_MAX 500
#define CONTACTS_COLS                                                                      \
	"id, name, name_kana, postal_code, address, phone, fax, email, note,"             \
	" " US("created_at") ", created_by, " US("updated_at") ", updated_by"

static const struct db_stmt contacts_stmts[] = {
	{ "contacts_ticket", "SELECT 1 FROM ticket WHERE id = $1" },
	{ "contacts_grant",
	  "SELECT 1 FROM contact_grant WHERE user_id = $1"
	  " AND (expires_at IS NULL OR expires_at > $2::timestamptz)" },
	/* $1 ticket, $2 user id, $3 login, $4 reason, $5 remote, $6 now */
	{ "contacts_read",
	  "SELECT " CONTACTS_COLS " FROM contact_read($1, $2, $3, $4, $5, $6::timestamptz)" },
	{ "contacts_suggest",
	  "SELECT from_name, from_addr FROM message WHERE ticket_id = $1 AND direction = 'in'"
	  " ORDER BY id LIMIT 1" },
	{ "contacts_save",
	  "SELECT contact_id, action FROM contact_save($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
	  " $11, $12, $13, $14, $15::timestamptz)" },
	{ "contacts_event",
	  "INSERT INTO ticket_event (ticket_id, at, actor, kind) VALUES ($1, $2, $3, 'contact_saved')" },
	{ "contacts_notify",
	  "SELECT pg_notify('ticket_change', json_build_object('id', $1::bigint, 'op', 'contact')::text)" },
	{ "contacts_search",
	  "SELECT id, name, name_kana, postal_code, address, phone, fax, email,"
	  " " US("updated_at") ", array_to_json(tickets)::text"
	  " FROM contact_search($1, " CONTACTS_SEARCH_LIMIT ", $2, $3, $4, $5, $6::timestamptz)" },
	{ "contacts_log",
	  "SELECT id, " US("at") ", user_id, login, role, action, contact_id, ticket_id,"
	  " array_to_json(contact_ids)::text, reason, remote_addr FROM contact_access"
	  " WHERE ($1::bigint IS NULL OR id < $1) AND ($2::bigint IS NULL OR contact_id = $2"
	  "  OR $2 = ANY (contact_ids)) AND ($3::bigint IS NULL OR ticket_id = $3)"
	  " ORDER BY id DESC LIMIT $4" },
	{ NULL, NULL },
};

/* the stored fields, in contact_save's parameter order ($3..$10), and
 * their limits in bytes */
static const struct {
	const char *key;
	size_t max;
} contacts_fields[] = {
	{ "name", 200 }, { "name_kana", 200 }, { "postal_code", 40 }, { "address", 600 },
	{ "phone", 60 },  { "fax", 60 },        { "email", 320 },      { "note", 2000 },
};
#define CONTACTS_NFIELDS (sizeof(contacts_fields) / sizeof(contacts_fields[0]))

void contacts_prepare(struct db *db)
{
	db_prepare_all(db, contacts_stmts);
}

/* ---- shared ---- */

static json_t *contacts_doc(const struct db_res *r, int i)
{
	json_t *d = json_object();

	for (size_t k = 0; k < CONTACTS_NFIELDS; k++)
		json_object_set_new(d, contacts_fields[k].key, api_col_str(r, i, (int)k + 1));
	json_object_set_new(d, "id", api_col_int(r, i, 0));
	json_object_set_new(d, "created_at", api_col_time(r, i, 9));
	json_object_set_new(d, "created_by", api_col_str(r, i, 10));
	json_object_set_new(d, "updated_at", api_col_time(r, i, 11));
	json_object_set_new(d, "updated_by", api_col_str(r, i, 12));
	return d;
}

/* a one-line text of at most max bytes, not only blanks; NULL if not */
static const char *contacts_line(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0, blank = 0;

	if (n == 0 || n > max)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return NULL;
		blank += s[i] == ' ';
	}
	return blank == n ? NULL : s;
}

/* the ?reason= of the request, or NULL after a 400 */
static const char *contacts_reason(struct api_call *c)
{
	const char *r = contacts_line(http_query(c->req, "reason"), CONTACTS_REASON_MAX);

	if (r == NULL)
		api_error(c, 400, "reason: say why the contact details are needed");
	return r;
}

/* 1 if the caller may read contacts (a viewer needs a live grant), 0
 * after a 403, -1 after a 503 */
static int contacts_may_read(struct api_call *c)
{
	char uid[24];
	const char *v[2] = { uid, api_now_iso(c, 0) };
	struct db_res *r;
	int ok;

	if (c->session->role_bit != API_VIEWER)
		return 1;
	snprintf(uid, sizeof(uid), "%ld", c->session->user_id);
	if ((r = db_query(c->db, "contacts_grant", 2, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return -1;
	}
	ok = db_res_rows(r) == 1;
	db_res_free(r);
	if (!ok)
		api_error(c, 403, "contact details need a grant for this role");
	return ok;
}

/* 1 if ticket id exists, 0 after a 404, -1 after a 503 */
static int contacts_ticket(struct api_call *c, const char *id)
{
	const char *v[1] = { id };
	struct db_res *r = db_query(c->db, "contacts_ticket", 1, v, NULL, NULL, 0);
	int n = r ? db_res_rows(r) : -1;

	db_res_free(r);
	if (n < 0)
		api_error(c, 503, "database unavailable");
	else if (n == 0)
		api_error(c, 404, "no such ticket");
	return n < 0 ? -1 : n;
}

/* a failed call of a contact_* function: the database's refusal as a 4xx */
static void contacts_failed(struct api_call *c)
{
	const char *st = db_sqlstate(c->db);

	if (strcmp(st, "42501") == 0)
		api_error(c, 403, "contact details need a grant for this role");
	else if (strcmp(st, "22023") == 0)
		api_error(c, 400, "reason or query missing");
	else if (strcmp(st, "P0002") == 0 || strcmp(st, "23503") == 0)
		api_error(c, 404, "no such contact or ticket");
	else
		api_error(c, 503, "database unavailable");
}

/* ---- GET /api/tickets/ID/contact ---- */

static json_t *contacts_suggestion(struct api_call *c, const char *id)
{
	const char *v[1] = { id };
	struct db_res *r;
	json_t *s = json_null();

	if ((c->session->role_bit & (API_OPERATOR | API_SUPERVISOR | API_ADMIN)) == 0)
		return s;
	if ((r = db_query(c->db, "contacts_suggest", 1, v, NULL, NULL, 0)) == NULL)
		return NULL;
	if (db_res_rows(r) == 1)
		s = json_pack("{s:o, s:o}", "name", api_col_str(r, 0, 0), "email",
			      api_col_str(r, 0, 1));
	db_res_free(r);
	return s;
}

void contacts_get(struct api_call *c)
{
	char id[24], uid[24];
	const char *reason = contacts_reason(c);
	const char *v[6] = { id, uid, c->session->login, reason, c->req->remote_addr,
			     api_now_iso(c, 0) };
	struct db_res *r;
	json_t *contact, *sugg;

	snprintf(id, sizeof(id), "%lld", c->id[0]);
	snprintf(uid, sizeof(uid), "%ld", c->session->user_id);
	if (reason == NULL || contacts_may_read(c) != 1 || contacts_ticket(c, id) != 1)
		return;
	if ((r = db_query(c->db, "contacts_read", 6, v, NULL, NULL, 0)) == NULL) {
		contacts_failed(c);
		return;
	}
	contact = db_res_rows(r) == 1 ? contacts_doc(r, 0) : json_null();
	db_res_free(r);
	sugg = json_is_null(contact) ? contacts_suggestion(c, id) : json_null();
	if (sugg == NULL) {
		json_decref(contact);
		api_error(c, 503, "database unavailable");
		return;
	}
	api_json(c, 200, json_pack("{s:I, s:o, s:o}", "ticket_id", (json_int_t)c->id[0], "contact",
				   contact, "suggestion", sugg));
}

/* ---- PUT /api/tickets/ID/contact ---- */

/* the body as contact_save's parameters $2..$10 and $13 (vals[1..9],
 * vals[12]); the echo document in *doc; 0, or -1 after a 400 */
static int contacts_params(struct api_call *c, json_t *body, const char **vals, json_t **doc)
{
	const char *key, *why = NULL;
	size_t filled = 0;
	json_t *v, *cid = json_object_get(body, "contact_id");

	json_object_foreach(body, key, v) {
		size_t k = 0;

		while (k < CONTACTS_NFIELDS && strcmp(contacts_fields[k].key, key) != 0)
			k++;
		if (k == CONTACTS_NFIELDS && strcmp(key, "contact_id") != 0 && strcmp(key, "reason") != 0 &&
		    strcmp(key, "id") != 0 && strncmp(key, "created_", 8) != 0 &&
		    strncmp(key, "updated_", 8) != 0)
			why = pool_printf(c->req->pool, "%.64s: unknown field", key);
	}
	vals[1] = NULL;
	if (cid != NULL && !json_is_null(cid)) {
		if (!json_is_integer(cid) || json_integer_value(cid) < 1)
			why = "contact_id: must be a contact id or null";
		else
			vals[1] = pool_printf(c->req->pool, "%lld", (long long)json_integer_value(cid));
	}
	*doc = json_object();
	for (size_t k = 0; k < CONTACTS_NFIELDS && why == NULL; k++) {
		const json_t *f = json_object_get(body, contacts_fields[k].key);
		int none = f == NULL || json_is_null(f);
		const char *s = none ? "" : json_string_value(f);
		size_t n = none ? 0 : json_string_length(f);

		if (s == NULL || n > contacts_fields[k].max || strlen(s) != n)
			why = pool_printf(c->req->pool, "%s: must be a string of at most %zu bytes",
					  contacts_fields[k].key, contacts_fields[k].max);
		vals[2 + k] = s;
		filled += n > 0;
		json_object_set_new(*doc, contacts_fields[k].key, json_string(s ? s : ""));
	}
	if (why == NULL && filled == 0)
		why = "the contact is empty";
	v = json_object_get(body, "reason");
	vals[12] = json_is_string(v) ? contacts_line(json_string_value(v), CONTACTS_REASON_MAX) : NULL;
	if (why == NULL && v != NULL && !json_is_null(v) && vals[12] == NULL)
		why = "reason: must be one line of text";
	if (why != NULL)
		api_error(c, 400, why);
	return why ? -1 : 0;
}

/* contact_save, the timeline event and the NOTIFY in one transaction;
 * the contact id or NULL (the reply sent); *action "create" or "update" */
static const char *contacts_write(struct api_call *c, const char **vals, const char **action)
{
	const char *ev[3] = { vals[0], vals[14], c->session->login };
	struct db_res *r, *n = NULL;
	const char *id = NULL;

	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return NULL;
	}
	r = db_query(c->db, "contacts_save", 15, vals, NULL, NULL, 0);
	if (r == NULL) {
		contacts_failed(c);
		db_rollback(c->db);
		return NULL;
	}
	if (db_res_rows(r) == 1 && db_cmd(c->db, "contacts_event", 3, ev, NULL, NULL) == 1 &&
	    (n = db_query(c->db, "contacts_notify", 1, vals, NULL, NULL, 0)) != NULL &&
	    db_commit(c->db) == 0) {
		id = pool_strdup(c->req->pool, db_res_val(r, 0, 0));
		*action = pool_strdup(c->req->pool, db_res_val(r, 0, 1));
	} else {
		db_rollback(c->db);
		api_error(c, 503, "database unavailable");
	}
	db_res_free(n);
	db_res_free(r);
	return id;
}

void contacts_put(struct api_call *c)
{
	json_t *body = api_body_object(c), *doc = NULL;
	char id[24], uid[24];
	const char *vals[15], *cid, *action = NULL;

	if (body == NULL)
		return;
	snprintf(id, sizeof(id), "%lld", c->id[0]);
	snprintf(uid, sizeof(uid), "%ld", c->session->user_id);
	vals[0] = id;
	vals[10] = uid;
	vals[11] = c->session->login;
	vals[13] = c->req->remote_addr;
	vals[14] = api_now_iso(c, 0);
	if (contacts_params(c, body, vals, &doc) == 0 && contacts_ticket(c, id) == 1 &&
	    (cid = contacts_write(c, vals, &action)) != NULL) {
		json_object_set_new(doc, "id", json_integer(strtoll(cid, NULL, 10)));
		api_json(c, 200, json_pack("{s:O, s:s?}", "contact", doc, "action", action));
	}
	json_decref(doc);
	json_decref(body);
}

/* ---- GET /api/contacts/search ---- */

/* characters (code points) of UTF-8 text */
static size_t contacts_chars(const char *s)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

void contacts_search(struct api_call *c)
{
	char uid[24];
	const char *q0 = contacts_line(http_query(c->req, "q"), CONTACTS_Q_MAX);
	const char *q = contacts_chars(q0) >= 2 ? q0 : NULL;
	const char *reason = q ? contacts_reason(c) : NULL;
	const char *v[6] = { q, uid, c->session->login, reason, c->req->remote_addr,
			     api_now_iso(c, 0) };
	struct db_res *r;
	json_t *list;

	if (q == NULL)
		api_error(c, 400, "q: 2 to 100 characters on one line");
	snprintf(uid, sizeof(uid), "%ld", c->session->user_id);
	if (q == NULL || reason == NULL || contacts_may_read(c) != 1)
		return;
	if ((r = db_query(c->db, "contacts_search", 6, v, NULL, NULL, 0)) == NULL) {
		contacts_failed(c);
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++) {
		json_t *d = json_object();

		for (size_t k = 0; k < CONTACTS_NFIELDS - 1; k++) /* all but note */
			json_object_set_new(d, contacts_fields[k].key, api_col_str(r, i, (int)k + 1));
		json_object_set_new(d, "id", api_col_int(r, i, 0));
		json_object_set_new(d, "updated_at", api_col_time(r, i, 8));
		json_object_set_new(d, "tickets", api_col_json(r, i, 9));
		json_array_append_new(list, d);
	}
	db_res_free(r);
	api_json(c, 200, json_pack("{s:o}", "contacts", list));
}

/* ---- GET /api/admin/contact-access ---- */

/* an optional positive integer query parameter; -1 when malformed */
static int contacts_num(struct api_call *c, const char *name, const char **out)
{
	const char *s = http_query(c->req, name);
	size_t n = s ? strlen(s) : 0;

	*out = NULL;
	if (n == 0)
		return 0;
	if (n > 18 || strspn(s, "0123456789") != n || s[0] == '0')
		return -1;
	*out = s;
	return 0;
}

static json_t *contacts_entry(const struct db_res *r, int i)
{
	json_t *e = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "id", api_col_int(r, i, 0), "at",
			      api_col_time(r, i, 1), "user_id", api_col_int(r, i, 2), "login",
			      api_col_str(r, i, 3), "role", api_col_str(r, i, 4), "action",
			      api_col_str(r, i, 5));

	if (e == NULL)
		return NULL;
	json_object_set_new(e, "contact_id", api_col_int(r, i, 6));
	json_object_set_new(e, "ticket_id", api_col_int(r, i, 7));
	json_object_set_new(e, "contact_ids", api_col_json(r, i, 8));
	json_object_set_new(e, "reason", api_col_str(r, i, 9));
	json_object_set_new(e, "remote_addr", api_col_str(r, i, 10));
	return e;
}

void contacts_access_log(struct api_call *c)
{
	const char *v[4], *lim;
	struct db_res *r;
	json_t *list;

	if (contacts_num(c, "before", &v[0]) < 0 || contacts_num(c, "contact", &v[1]) < 0 ||
	    contacts_num(c, "ticket", &v[2]) < 0 || contacts_num(c, "limit", &lim) < 0 ||
	    (lim != NULL && strtoll(lim, NULL, 10) > CONTACTS_LOG_MAX)) {
		api_error(c, 400, "bad before, contact, ticket or limit");
		return;
	}
	v[3] = lim ? lim : pool_printf(c->req->pool, "%d", CONTACTS_LOG_DEFAULT);
	if ((r = db_query(c->db, "contacts_log", 4, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, contacts_entry(r, i));
	db_res_free(r);
	api_json(c, 200, json_pack("{s:o}", "entries", list));
}
