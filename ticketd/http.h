/* http: the libmicrohttpd adapter; no other file includes microhttpd.h.
 *
 * The rest of ticketd sees a request (method, path, headers, cookies,
 * query, a bounded body, a per-request pool) and answers it with exactly
 * one http_reply*() call.  A handler that returns without replying gets a
 * 500.  Every response carries the security headers (nosniff,
 * Referrer-Policy, and the pages' CSP unless the handler set its own).
 *
 * Long-lived replies (server-sent events) are streams: the owner pushes
 * bytes with http_stream_send(); each stream buffers at most a fixed
 * number of bytes, and a client that does not read them is dropped rather
 * than buffered for ever. */
#ifndef MDG_HTTP_H
#define MDG_HTTP_H
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct config;
struct pool;
struct http;
struct http_conn;
struct http_stream;

extern const struct config_key http_config_keys[];

struct http_req {
	unsigned long id; /* for log lines: "req=<id>: ..." */
	const char *method;
	const char *path; /* percent-decoded by the server, no query */
	const char *body; /* NUL-terminated; body_len bytes */
	size_t body_len;
	const char *remote_addr;
	struct pool *pool; /* freed when the response has been sent */
	int status; /* set by the reply, for the caller's log line */
	struct http_conn *conn; /* private to http.c */
};

typedef void (*http_handler)(void *arg, struct http_req *req);

/* Binds ticketd.listen; NULL (logged) on failure.  handler is called
 * once per complete request. */
struct http *http_new(const struct config *cfg, http_handler handler, void *arg);
/* resumes and closes every stream, then stops the server */
void http_free(struct http *h);
/* Requests that may carry a larger body than ticketd.max_request_bytes
 * (file uploads): fn sees the request before its body (method, path,
 * headers) and returns its limit, or 0 for the common one. */
typedef size_t (*http_body_limit)(const struct http_req *req);
void http_set_body_limit(struct http *h, http_body_limit fn);
/* apply a reloaded config: limits only (the address needs a restart) */
void http_configure(struct http *h, const struct config *cfg);
/* the one fd to poll for readability, and the longest the loop may
 * sleep before http_run() (-1: no limit) */
int http_fd(const struct http *h);
int http_timeout_ms(struct http *h);
/* serve whatever is ready; never blocks */
void http_run(struct http *h);
/* the port actually bound (useful when listen asks for port 0) */
int http_port(const struct http *h);

const char *http_header(const struct http_req *req, const char *name);
const char *http_query(const struct http_req *req, const char *name);
const char *http_cookie(const struct http_req *req, const char *name);

/* reply {"error": msg} with status, and log the line "req=N: ..." */
void http_reply_error(struct http_req *req, int status, const char *msg);
/* add a response header (before the reply); a value with CR or LF is
 * refused with -1 */
int http_add_header(struct http_req *req, const char *name, const char *value);
/* copy body into the response */
void http_reply(struct http_req *req, int status, const char *type, const void *body,
		size_t len);
/* hand body over; freefn(arg) is called when it has been sent */
void http_reply_owned(struct http_req *req, int status, const char *type, const void *body,
		      size_t len, void (*freefn)(void *), void *arg);
/* send an open regular file; the fd is closed by the server */
void http_reply_fd(struct http_req *req, int status, const char *type, int fd, uint64_t size);
/* Start an endless response of type.  on_close(arg) is called once when
 * the stream ends for any reason (client gone, dropped, server stop);
 * the stream pointer is invalid after it. */
struct http_stream *http_reply_stream(struct http_req *req, const char *type, size_t max_buffered,
				      void (*on_close)(void *arg), void *arg);
/* Queue bytes; 0, or -1 when the stream is closing (for instance because
 * the client fell more than max_buffered bytes behind: it is dropped). */
int http_stream_send(struct http_stream *s, const void *data, size_t len);
/* end the stream after what is queued */
void http_stream_close(struct http_stream *s);

#endif
