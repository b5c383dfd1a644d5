/* api: the request router of ticketd.
 *
 * Every request comes here from http.c.  Paths under /api/ are looked up
 * in one route table (method, pattern, roles allowed, handler); the gates
 * run in a fixed order before any handler: unknown path 404, wrong method
 * 405, no valid session 401, missing or wrong X-CSRF-Token on a
 * state-changing request 403, role not allowed 403.  Everything else is a
 * static file from ticketd.web_root.
 *
 * Handlers answer with api_json() or api_error(); JSON is built with
 * jansson directly. */
#ifndef MDG_API_H
#define MDG_API_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct auth;
struct config;
struct db;
struct db_res;
struct http_req;
struct sse;
struct webroot;

enum api_role {
	API_OPERATOR = 1,
	API_SUPERVISOR = 2,
	API_VIEWER = 4,
	API_ADMIN = 8,
};

/* the logged-in user; strings live in the request pool */
struct api_session {
	long user_id;
	const char *login, *display_name, *role, *csrf;
	const char *token_sha; /* hex SHA-256 of the cookie, names the session */
	enum api_role role_bit;
};

struct api_call {
	struct http_req *req;
	struct db *db;
	struct auth *auth;
	struct sse *sse;
	const struct api_session *session; /* NULL on public routes */
	long long id[2]; /* the numbers in the path, in order */
};

struct api;

/* registers the statements of every API module with db */
struct api *api_new(struct db *db, const struct config *cfg);
void api_free(struct api *a);
void api_configure(struct api *a, const struct config *cfg);
/* the http_handler */
void api_handle(void *arg, struct http_req *req);
/* once a second: expire sessions, event stream heartbeats */
void api_tick(struct api *a);
/* http.c's body limit of a request (http_set_body_limit): uploads may
 * be larger than ticketd.max_request_bytes */
size_t api_body_limit(const struct http_req *req);
/* a NOTIFY ticket_change payload, for the event streams */
void api_ticket_change(struct api *a, const char *payload);
/* NOTIFY presence (workflow.c): typing hints from any ticketd */
void api_presence(struct api *a, const char *payload);
/* NOTIFY cti_call (cti.c): the "call" event to the answering user's streams */
void api_cti_call(struct api *a, const char *payload);

/* replies */
void api_json(struct api_call *c, int status, json_t *doc); /* takes doc */
void api_error(struct api_call *c, int status, const char *msg);
/* run stmt and answer 200 {key: [row(r, i) for every row]}, or 503 */
void api_answer_rows(struct api_call *c, const char *stmt, int n, const char *const *vals,
		     const char *key, json_t *(*row)(const struct db_res *r, int i));
/* the request body as a JSON object, or NULL after replying 400/415 */
json_t *api_body_object(struct api_call *c);

/* column helpers for building documents from result rows */
json_t *api_col_str(const struct db_res *r, int row, int col); /* NULL -> null */
json_t *api_col_int(const struct db_res *r, int row, int col);
/* a column holding microseconds since the epoch -> "...Z" or null */
json_t *api_col_time(const struct db_res *r, int row, int col);
/* a column holding a JSON text (array_to_json) -> the value, or [] */
json_t *api_col_json(const struct db_res *r, int row, int col);
/* "now" and "now minus seconds" as ISO strings in the request pool */
const char *api_now_iso(struct api_call *c, int64_t minus_seconds);

#endif
