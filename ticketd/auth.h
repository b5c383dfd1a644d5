/* auth: log-in, sessions and CSRF tokens for the web API.
 *
 * A session is a random 32-byte token in the cookie mdg_session; the
 * database keeps only its SHA-256 (computed by PostgreSQL's sha256()), so
 * a copy of web_session does not let anyone in.  Each session also has a
 * random CSRF token that the page sends back in X-CSRF-Token.  Sessions
 * end after ticketd.session_idle_minutes without a request, after
 * ticketd.session_max_hours in any case, and on log-out; each end is an
 * auth_event row.
 *
 * Wrong passwords count up in app_user.failed_logins; at
 * ticketd.login_max_failures the account is locked for
 * ticketd.login_lock_minutes.  A locked account answers 401 with the same
 * message as a wrong password (not 423): a distinct answer would tell a
 * stranger which log-in names exist.  The lock shows in auth_event
 * ('locked', and 'login_failed' with detail 'locked'). */
#ifndef MDG_AUTH_H
#define MDG_AUTH_H
#include "config.h"

struct api_call;
struct api_session;
struct config;
struct db;
struct auth;

extern const struct config_key auth_config_keys[];

/* registers its statements with db */
struct auth *auth_new(struct db *db, const struct config *cfg);
void auth_free(struct auth *a);
void auth_configure(struct auth *a, const struct config *cfg);

/* The session of the request's cookie: 1 and *s filled, 0 when there is
 * none or it has just expired (*why says which), -1 on a database error. */
int auth_session(struct auth *a, struct api_call *c, struct api_session *s, const char **why);
/* 1 when token is the session's CSRF token (constant-time compare) */
int auth_csrf_ok(const struct api_session *s, const char *token);
/* end idle and old sessions; gone(arg, token_sha) for each */
void auth_sweep(struct auth *a, void (*gone)(void *arg, const char *token_sha), void *arg);

/* handlers: POST /api/login, POST /api/logout, GET /api/me */
void auth_login(struct api_call *c);
void auth_logout(struct api_call *c);
void auth_me(struct api_call *c);
/* POST /api/me/password {current, new}: 204; 403 when current is wrong
 * (counted like a failed log-in), 422 when new is too weak; the user's
 * other sessions end (a stolen session does not outlive the change) */
void auth_password(struct api_call *c);

#endif
