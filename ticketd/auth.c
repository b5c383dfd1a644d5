/* Log-in, sessions, CSRF; the design is in auth.h.
 *
 * Times go to SQL as parameters taken from lib/clock.h (never now()), so
 * a pinned clock pins sessions and locks too.  Password checks cost an
 * Argon2id run (about 30 ms) on the one thread; an unknown log-in name is
 * checked against a dummy hash so that it costs the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "auth.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "pwhash.h"
#include "sse.h"
#include "utf8.h"

#define AUTH_COOKIE "mdg_session"
#define AUTH_TOKEN_BYTES 32
#define AUTH_MAX_LOGIN 128
#define AUTH_MAX_PASSWORD 1024
/* last_seen_at is written at most this often per session */
#define AUTH_TOUCH_SECONDS 10
#define AUTH_REFUSED "wrong login or password"

const struct config_key auth_config_keys[] = {
	{ "ticketd.cookie_secure", CFG_BOOL, "no", 0, 0,
	  "mark the session cookie Secure (yes when browsers come over HTTPS)" },
	{ "ticketd.public_origin", CFG_STR, "", 0, 0,
	  "scheme://host[:port] browsers use; empty: http(s)://<Host header>" },
	{ "ticketd.login_max_failures", CFG_INT, "5", 1, 1000,
	  "wrong passwords in a row that lock the account" },
	{ "ticketd.login_lock_minutes", CFG_INT, "15", 1, 100000, "how long a lock lasts" },
	{ "ticketd.session_idle_minutes", CFG_INT, "30", 1, 1440,
	  "a session without requests for this long ends" },
	{ "ticketd.session_max_hours", CFG_INT, "12", 1, 720, "a session ends this long after log-in" },
	{ "ticketd.password_min_length", CFG_INT, "10", 8, 128,
	  "a new password set in the web UI needs at least this many characters" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static const struct db_stmt auth_stmts[] = {
	{ "auth_session",
	  "SELECT s.user_id, u.login, u.display_name, u.role, s.csrf_token,"
	  " encode(s.token_sha256, 'hex'), s.last_seen_at < $2::timestamptz,"
	  " s.expires_at <= $3::timestamptz, u.disabled, s.last_seen_at < $4::timestamptz"
	  " FROM web_session s JOIN app_user u ON u.id = s.user_id"
	  " WHERE s.token_sha256 = sha256(decode($1, 'hex'))" },
	{ "auth_touch", "UPDATE web_session SET last_seen_at = $2 WHERE token_sha256 = decode($1, 'hex')" },
	{ "auth_end",
	  "WITH gone AS (DELETE FROM web_session WHERE token_sha256 = decode($1, 'hex')"
	  " RETURNING user_id)"
	  " INSERT INTO auth_event (at, event, login, user_id, remote_addr, detail)"
	  " SELECT $2, $3, u.login, g.user_id, $4, $5 FROM gone g JOIN app_user u ON u.id = g.user_id" },
	{ "auth_sweep",
	  "WITH gone AS (DELETE FROM web_session WHERE last_seen_at < $1 OR expires_at <= $2"
	  " RETURNING user_id, remote_addr, token_sha256, expires_at <= $2 AS old),"
	  " ev AS (INSERT INTO auth_event (at, event, login, user_id, remote_addr, detail)"
	  " SELECT $2, 'session_expired', u.login, g.user_id, g.remote_addr,"
	  " CASE WHEN g.old THEN 'lifetime' ELSE 'idle' END"
	  " FROM gone g JOIN app_user u ON u.id = g.user_id)"
	  " SELECT encode(token_sha256, 'hex') FROM gone" },
	{ "auth_user",
	  "SELECT id, pw_hash, role, display_name, disabled,"
	  " coalesce(locked_until > $2::timestamptz, false)"
	  " FROM app_user WHERE login = $1" },
	{ "auth_failed",
	  "UPDATE app_user SET"
	  " failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,"
	  " locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3::timestamptz"
	  " ELSE locked_until END"
	  " WHERE id = $1 RETURNING failed_logins = 0" },
	{ "auth_ok", "UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE id = $1" },
	{ "auth_new_session",
	  "INSERT INTO web_session (token_sha256, user_id, csrf_token, created_at, last_seen_at,"
	  " expires_at, remote_addr) VALUES (sha256(decode($1, 'hex')), $2, $3, $4, $4, $5, $6)" },
	{ "auth_event",
	  "INSERT INTO auth_event (at, event, login, user_id, remote_addr, detail)"
	  " VALUES ($1, $2, $3, $4, $5, $6)" },
	{ "auth_set_password", "UPDATE app_user SET pw_hash = $2, pw_changed_at = $3 WHERE id = $1" },
	{ "auth_end_others",
	  "DELETE FROM web_session WHERE user_id = $1 AND token_sha256 <> decode($2, 'hex')"
	  " RETURNING encode(token_sha256, 'hex')" },
	{ NULL, NULL },
};

struct auth {
	struct db *db;
	int cookie_secure;
	char *public_origin;
	long max_failures, lock_minutes, idle_minutes, max_hours, pw_min;
	char dummy_hash[128];
};

struct auth_user {
	const char *id, *hash, *role, *display_name;
	int disabled, locked;
};

struct auth *auth_new(struct db *db, const struct config *cfg)
{
	struct auth *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	if (pwhash_make("not a password", a->dummy_hash, sizeof(a->dummy_hash)) < 0) {
		log_error("could not make the dummy password hash");
		free(a);
		return NULL;
	}
	a->db = db;
	auth_configure(a, cfg);
	db_prepare_all(db, auth_stmts);
	return a;
}

void auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	free(a->public_origin);
	free(a);
}

void auth_configure(struct auth *a, const struct config *cfg)
{
	char *o = strdup(config_str(cfg, "ticketd.public_origin"));

	if (o != NULL) {
		free(a->public_origin);
		a->public_origin = o;
	}
	a->cookie_secure = config_bool(cfg, "ticketd.cookie_secure");
	a->max_failures = config_int(cfg, "ticketd.login_max_failures");
	a->lock_minutes = config_int(cfg, "ticketd.login_lock_minutes");
	a->idle_minutes = config_int(cfg, "ticketd.session_idle_minutes");
	a->max_hours = config_int(cfg, "ticketd.session_max_hours");
	a->pw_min = config_int(cfg, "ticketd.password_min_length");
}

static void auth_iso(char *buf, size_t len, int64_t offset_seconds)
{
	clock_format_iso(clock_now_us() + offset_seconds * 1000000, buf, len);
}

/* 64 lowercase hex digits, as we hand them out */
static int auth_token_ok(const char *t)
{
	size_t i;

	if (t == NULL)
		return 0;
	for (i = 0; i < 2 * AUTH_TOKEN_BYTES; i++)
		if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
			return 0;
	return t[i] == '\0';
}

static enum api_role auth_role_bit(const char *role)
{
	static const struct {
		const char *name;
		enum api_role bit;
	} roles[] = { { "operator", API_OPERATOR },
		      { "supervisor", API_SUPERVISOR },
		      { "viewer", API_VIEWER },
		      { "admin", API_ADMIN } };

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(role, roles[i].name) == 0)
			return roles[i].bit;
	return 0;
}

/* delete the session and record why (event session_expired or logout) */
static int auth_end(struct auth *a, struct api_call *c, const char *sha, const char *event,
		    const char *detail)
{
	char now[40];
	const char *v[5] = { sha, now, event, c->req->remote_addr, detail };

	auth_iso(now, sizeof(now), 0);
	return db_cmd(a->db, "auth_end", 5, v, NULL, NULL) < 0 ? -1 : 0;
}

static void auth_fill(struct api_call *c, const struct db_res *r, struct api_session *s)
{
	struct pool *p = c->req->pool;

	s->user_id = (long)db_res_ll(r, 0, 0);
	s->login = pool_strdup(p, db_res_val(r, 0, 1));
	s->display_name = pool_strdup(p, db_res_val(r, 0, 2));
	s->role = pool_strdup(p, db_res_val(r, 0, 3));
	s->csrf = pool_strdup(p, db_res_val(r, 0, 4));
	s->token_sha = pool_strdup(p, db_res_val(r, 0, 5));
	s->role_bit = auth_role_bit(s->role);
}

int auth_session(struct auth *a, struct api_call *c, struct api_session *s, const char **why)
{
	const char *tok = http_cookie(c->req, AUTH_COOKIE);
	char idle[40], now[40], touch[40];
	const char *v[4] = { tok, idle, now, touch };
	const char *end = NULL;
	struct db_res *r;

	*why = "not logged in";
	if (!auth_token_ok(tok))
		return 0;
	auth_iso(idle, sizeof(idle), -a->idle_minutes * 60);
	auth_iso(now, sizeof(now), 0);
	auth_iso(touch, sizeof(touch), -AUTH_TOUCH_SECONDS);
	if ((r = db_query(a->db, "auth_session", 4, v, NULL, NULL, 0)) == NULL)
		return -1;
	if (db_res_rows(r) == 0) {
		db_res_free(r);
		return 0;
	}
	auth_fill(c, r, s);
	if (strcmp(db_res_val(r, 0, 6), "t") == 0)
		end = "idle";
	else if (strcmp(db_res_val(r, 0, 7), "t") == 0)
		end = "lifetime";
	else if (strcmp(db_res_val(r, 0, 8), "t") == 0)
		end = "user disabled";
	if (end == NULL && strcmp(db_res_val(r, 0, 9), "t") == 0) {
		const char *tv[2] = { s->token_sha, now };

		if (db_cmd(a->db, "auth_touch", 2, tv, NULL, NULL) < 0) {
			db_res_free(r);
			return -1;
		}
	}
	db_res_free(r);
	if (end == NULL)
		return s->login && s->csrf && s->token_sha && s->role_bit ? 1 : -1;
	*why = "session expired";
	sse_end_session(c->sse, s->token_sha);
	return auth_end(a, c, s->token_sha, "session_expired", end) < 0 ? -1 : 0;
}

int auth_csrf_ok(const struct api_session *s, const char *token)
{
	size_t n = strlen(s->csrf);
	unsigned char diff = 0;

	if (token == NULL || strlen(token) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(token[i] ^ s->csrf[i]);
	return diff == 0;
}

void auth_sweep(struct auth *a, void (*gone)(void *arg, const char *token_sha), void *arg)
{
	char idle[40], now[40];
	const char *v[2] = { idle, now };
	struct db_res *r;

	if (!db_connected(a->db))
		return;
	auth_iso(idle, sizeof(idle), -a->idle_minutes * 60);
	auth_iso(now, sizeof(now), 0);
	r = db_query(a->db, "auth_sweep", 2, v, NULL, NULL, 0);
	if (r == NULL)
		return;
	for (int i = 0; i < db_res_rows(r); i++)
		gone(arg, db_res_val(r, i, 0));
	if (db_res_rows(r) > 0)
		log_info("%d idle or old sessions ended", db_res_rows(r));
	db_res_free(r);
}

static int auth_event(struct auth *a, struct api_call *c, const char *event, const char *login,
		      const char *user_id, const char *detail)
{
	char now[40];
	const char *v[6] = { now, event, login, user_id, c->req->remote_addr, detail };

	auth_iso(now, sizeof(now), 0);
	return db_cmd(a->db, "auth_event", 6, v, NULL, NULL) < 0 ? -1 : 0;
}

/* ---- POST /api/login ---- */

/* a browser's Origin, when it sends one, must be ours */
static int auth_origin_ok(struct auth *a, struct api_call *c)
{
	const char *origin = http_header(c->req, "Origin");
	const char *host = http_header(c->req, "Host");
	const char *mine;

	if (origin == NULL)
		return 1;
	if (a->public_origin[0] != '\0')
		mine = a->public_origin;
	else if (host != NULL)
		mine = pool_printf(c->req->pool, "%s://%s", a->cookie_secure ? "https" : "http",
				   host);
	else
		return 0;
	return mine != NULL && strcasecmp(origin, mine) == 0;
}

/* 1 found, 0 no such login, -1 database error */
static int auth_lookup(struct auth *a, struct api_call *c, const char *login, struct auth_user *u)
{
	char now[40];
	const char *v[2] = { login, now };
	struct pool *p = c->req->pool;
	struct db_res *r;
	int found;

	auth_iso(now, sizeof(now), 0);
	if ((r = db_query(a->db, "auth_user", 2, v, NULL, NULL, 0)) == NULL)
		return -1;
	found = db_res_rows(r) == 1;
	if (found) {
		u->id = pool_strdup(p, db_res_val(r, 0, 0));
		u->hash = pool_strdup(p, db_res_val(r, 0, 1));
		u->role = pool_strdup(p, db_res_val(r, 0, 2));
		u->display_name = pool_strdup(p, db_res_val(r, 0, 3));
		u->disabled = strcmp(db_res_val(r, 0, 4), "t") == 0;
		u->locked = strcmp(db_res_val(r, 0, 5), "t") == 0;
		if (!u->id || !u->hash || !u->role || !u->display_name)
			found = -1;
	}
	db_res_free(r);
	return found;
}

/* count a wrong password; lock at the limit.  0 or -1 */
static int auth_count_failure(struct auth *a, struct api_call *c, const char *login,
			      const struct auth_user *u)
{
	char max[24], until[40];
	const char *v[3] = { u->id, max, until };
	struct db_res *r;
	int locked;

	snprintf(max, sizeof(max), "%ld", a->max_failures);
	auth_iso(until, sizeof(until), a->lock_minutes * 60);
	if ((r = db_query(a->db, "auth_failed", 3, v, NULL, NULL, 0)) == NULL)
		return -1;
	locked = db_res_rows(r) == 1 && strcmp(db_res_val(r, 0, 0), "t") == 0;
	db_res_free(r);
	if (auth_event(a, c, "login_failed", login, u->id, "wrong password") < 0)
		return -1;
	if (locked) {
		log_info("req=%lu: user %s locked until %s after %ld failed log-ins", c->req->id,
			 login, until, a->max_failures);
		return auth_event(a, c, "locked", login, u->id, until);
	}
	return 0;
}

/* Record a refused log-in.  0 or -1 (database) */
static int auth_refuse(struct auth *a, struct api_call *c, const char *login,
		       const struct auth_user *u, int found)
{
	if (!found)
		return auth_event(a, c, "login_failed", login, NULL, "unknown login");
	if (u->locked)
		return auth_event(a, c, "login_failed", login, u->id, "locked");
	if (u->disabled)
		return auth_event(a, c, "login_failed", login, u->id, "disabled");
	return auth_count_failure(a, c, login, u);
}

static const char *auth_cookie(struct auth *a, struct api_call *c, const char *token)
{
	return pool_printf(c->req->pool, AUTH_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s",
			   token, a->cookie_secure ? "; Secure" : "");
}

/* the new session's row, the reset counter and the event; 0 or -1 */
static int auth_start(struct auth *a, struct api_call *c, const char *login,
		      const struct auth_user *u, const char *token, const char *csrf)
{
	char now[40], expires[40];
	const char *v[6] = { token, u->id, csrf, now, expires, c->req->remote_addr };
	const char *idv[1] = { u->id };

	auth_iso(now, sizeof(now), 0);
	auth_iso(expires, sizeof(expires), a->max_hours * 3600);
	if (db_cmd(a->db, "auth_ok", 1, idv, NULL, NULL) < 0 ||
	    db_cmd(a->db, "auth_new_session", 6, v, NULL, NULL) != 1)
		return -1;
	return auth_event(a, c, "login", login, u->id, NULL);
}

static json_t *auth_user_doc(const char *login, const char *display_name, const char *role,
			     const char *csrf)
{
	return json_pack("{s:{s:s, s:s, s:s}, s:s}", "user", "login", login, "display_name",
			 display_name, "role", role, "csrf", csrf);
}

/* check the password and answer; the caller holds a transaction */
static int auth_decide(struct auth *a, struct api_call *c, const char *login, const char *pw)
{
	char token[2 * AUTH_TOKEN_BYTES + 1], csrf[2 * AUTH_TOKEN_BYTES + 1];
	struct auth_user u = { 0 };
	int found, ok;

	if ((found = auth_lookup(a, c, login, &u)) < 0)
		return -1;
	ok = pwhash_check(pw, found ? u.hash : a->dummy_hash) == 1;
	if (!found || !ok || u.locked || u.disabled) {
		if (auth_refuse(a, c, login, &u, found) < 0 || db_commit(a->db) < 0)
			return -1;
		api_error(c, 401, AUTH_REFUSED);
		return 0;
	}
	if (pwhash_random_hex(token, AUTH_TOKEN_BYTES) < 0 ||
	    pwhash_random_hex(csrf, AUTH_TOKEN_BYTES) < 0 ||
	    auth_start(a, c, login, &u, token, csrf) < 0 || db_commit(a->db) < 0)
		return -1;
	log_info("req=%lu: user %s logged in from %s", c->req->id, login, c->req->remote_addr);
	http_add_header(c->req, "Set-Cookie", auth_cookie(a, c, token));
	api_json(c, 200, auth_user_doc(login, u.display_name, u.role, csrf));
	return 0;
}

void auth_login(struct api_call *c)
{
	struct auth *a = c->auth;
	const char *login, *pw;
	json_t *doc;

	if (!auth_origin_ok(a, c)) {
		api_error(c, 403, "log-in from another origin refused");
		return;
	}
	if ((doc = api_body_object(c)) == NULL)
		return;
	login = json_string_value(json_object_get(doc, "login"));
	pw = json_string_value(json_object_get(doc, "password"));
	if (login == NULL || pw == NULL || login[0] == '\0' || strlen(login) > AUTH_MAX_LOGIN ||
	    strlen(pw) > AUTH_MAX_PASSWORD) {
		json_decref(doc);
		api_error(c, 400, "login and password are required");
		return;
	}
	login = pool_strdup(c->req->pool, login);
	pw = pool_strdup(c->req->pool, pw);
	json_decref(doc);
	if (login == NULL || pw == NULL || db_begin(a->db) < 0 || auth_decide(a, c, login, pw) < 0) {
		db_rollback(a->db);
		api_error(c, 503, "database unavailable");
	}
}

/* ---- POST /api/logout, GET /api/me ---- */

void auth_logout(struct api_call *c)
{
	const struct api_session *s = c->session;

	if (auth_end(c->auth, c, s->token_sha, "logout", NULL) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	sse_end_session(c->sse, s->token_sha);
	http_add_header(c->req, "Set-Cookie",
			AUTH_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	http_reply(c->req, 204, NULL, "", 0);
}

void auth_me(struct api_call *c)
{
	const struct api_session *s = c->session;

	api_json(c, 200, auth_user_doc(s->login, s->display_name, s->role, s->csrf));
}

/* ---- POST /api/me/password ---- */

/* characters, not bytes: a Japanese pass phrase counts what the user typed */
static size_t auth_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* why the new password is refused, or NULL */
static const char *auth_weak(const struct auth *a, const struct api_session *s, const char *cur,
			     const char *pw)
{
	if (!utf8_valid(pw, strlen(pw)))
		return "the new password is not valid UTF-8";
	if (auth_chars(pw) < (size_t)a->pw_min)
		return "the new password is too short";
	if (strcmp(pw, cur) == 0)
		return "the new password is the same as the current one";
	if (strcasecmp(pw, s->login) == 0)
		return "the new password is the login name";
	return NULL;
}

/* the new hash, the event, and every other session of the user ended;
 * the caller holds a transaction.  0 or -1 */
static int auth_store_password(struct auth *a, struct api_call *c, const char *hash)
{
	const struct api_session *s = c->session;
	char now[40], id[24], detail[64];
	const char *v[3] = { id, hash, now };
	const char *ov[2] = { id, s->token_sha };
	struct db_res *r;
	int n;

	snprintf(id, sizeof(id), "%ld", s->user_id);
	auth_iso(now, sizeof(now), 0);
	if (db_cmd(a->db, "auth_set_password", 3, v, NULL, NULL) != 1 ||
	    (r = db_query(a->db, "auth_end_others", 2, ov, NULL, NULL, 0)) == NULL)
		return -1;
	n = db_res_rows(r);
	for (int i = 0; i < n; i++)
		sse_end_session(c->sse, db_res_val(r, i, 0));
	db_res_free(r);
	snprintf(detail, sizeof(detail), "%d other session%s ended", n, n == 1 ? "" : "s");
	return auth_event(a, c, "password_changed", s->login, id, detail);
}

/* check the current password (a wrong one counts toward the lock, as at
 * log-in: an unattended session must not be a way to guess), then store */
static int auth_change(struct auth *a, struct api_call *c, const char *cur, const char *pw)
{
	const struct api_session *s = c->session;
	struct auth_user u = { 0 };
	char hash[256];
	const char *weak;
	int found;

	if ((found = auth_lookup(a, c, s->login, &u)) < 0)
		return -1;
	if (found == 0 || pwhash_check(cur, u.hash) != 1) {
		if (found && auth_count_failure(a, c, s->login, &u) < 0)
			return -1;
		if (db_commit(a->db) < 0)
			return -1;
		api_error(c, 403, "the current password is wrong");
		return 0;
	}
	if ((weak = auth_weak(a, s, cur, pw)) != NULL) {
		db_rollback(a->db);
		api_error(c, 422, weak);
		return 0;
	}
	if (pwhash_make(pw, hash, sizeof(hash)) < 0 || auth_store_password(a, c, hash) < 0 ||
	    db_commit(a->db) < 0)
		return -1;
	log_info("req=%lu: user %s changed the password", c->req->id, s->login);
	http_reply(c->req, 204, NULL, "", 0);
	return 0;
}

void auth_password(struct api_call *c)
{
	const char *cur, *pw;
	json_t *doc;

	if ((doc = api_body_object(c)) == NULL)
		return;
	cur = json_string_value(json_object_get(doc, "current"));
	pw = json_string_value(json_object_get(doc, "new"));
	if (cur == NULL || pw == NULL || strlen(cur) > AUTH_MAX_PASSWORD ||
	    strlen(pw) > AUTH_MAX_PASSWORD) {
		json_decref(doc);
		api_error(c, 400, "current and new are required");
		return;
	}
	cur = pool_strdup(c->req->pool, cur);
	pw = pool_strdup(c->req->pool, pw);
	json_decref(doc);
	if (cur == NULL || pw == NULL || db_begin(c->auth->db) < 0 ||
	    auth_change(c->auth, c, cur, pw) < 0) {
		db_rollback(c->auth->db);
		api_error(c, 503, "database unavailable");
	}
}
