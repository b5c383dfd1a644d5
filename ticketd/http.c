/* The libmicrohttpd adapter.
 *
 * Polling: MHD runs with MHD_USE_EPOLL and no thread of its own.  It keeps
 * every listening and client socket in one epoll set, and the loop polls
 * that single descriptor (MHD_DAEMON_INFO_EPOLL_FD) next to the database
 * socket, then calls MHD_run().  We chose this over MHD_get_fdset2() and
 * select(): one descriptor however many clients (event streams stay
 * open), no FD_SETSIZE ceiling, and nothing to rebuild each turn.
 *
 * A request goes through MHD's access callback several times: once with
 * the headers (we make its struct http_conn and pool; a Content-Length
 * over the limit is answered 413 at once, but on a route that takes files
 * the body is read and dropped first), once per piece of body (kept
 * in a bounded buffer), and once at the end, when the handler runs.  The
 * conn and its pool are freed in the completion callback, after the
 * response has gone out, so replies may point into the pool.
 *
 * Streams are callback responses.  When the reader finds nothing queued it
 * suspends the connection (the documented way to avoid busy-waiting);
 * http_stream_send() resumes it, and the loop runs MHD right after. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "pool.h"

#define HTTP_PAGES_CSP                                                                     \
	"default-src 'self'; frame-src 'self'; img-src 'self' data:; object-src 'none'; " \
	"base-uri 'none'; frame-ancestors 'none'"
/* beyond the body: headers, JSON built for the reply, small strings */
#define HTTP_POOL_EXTRA (4u << 20)

const struct config_key http_config_keys[] = {
	{ "ticketd.listen", CFG_STR, "127.0.0.1:8080", 0, 0,
	  "address:port to serve HTTP on ([::1]:8080 for IPv6; port 0 picks one)" },
	{ "ticketd.max_request_bytes", CFG_INT, "65536", 1024, 64L << 20,
	  "largest request body accepted; larger ones get 413" },
	{ "ticketd.max_connections", CFG_INT, "512", 4, 60000,
	  "open HTTP connections at most (event streams included)" },
	{ "ticketd.connection_timeout", CFG_INT, "60", 5, 3600,
	  "seconds an idle HTTP connection is kept" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

struct http_header {
	struct http_header *next;
	const char *name, *value;
};

/* The body sits in a bounded buf rather than the pool: its size is not
 * known in advance with chunked uploads, and the pool cannot grow an
 * allocation.  Both are freed together in http_completed(). */
struct http_conn {
	struct http *h;
	struct MHD_Connection *mc;
	struct http_req req;
	struct buf body;
	struct http_header *headers;
	size_t max_body; /* ticketd.max_request_bytes, or the route's own (http_set_body_limit) */
	int too_large;
	int replied;
};

struct http_stream {
	struct http *h;
	struct MHD_Connection *mc;
	struct http_stream *prev, *next;
	unsigned long req_id;
	struct buf out;
	size_t off; /* bytes of out already handed to MHD */
	size_t max;
	int suspended, closing, dropped;
	void (*on_close)(void *arg);
	void *arg;
};

struct http {
	struct MHD_Daemon *d;
	http_handler handler;
	void *arg;
	size_t max_body;
	http_body_limit body_limit;
	unsigned long next_id;
	struct http_stream *streams;
	int port;
};

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* MHD's own messages: at start-up they explain a failure (a port in
 * use); afterwards they are mostly clients that went away, so debug */
static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http *h = cls;
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	if (h->d == NULL)
		log_warn("http: %s", line);
	else
		log_debug("http: %s", line);
}

/* "127.0.0.1:8080" or "[::1]:8080" */
static int http_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl;
	char *end;
	long port;

	if (colon == NULL)
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end != '\0' || port < 0 || port > 65535)
		return -1;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

static void http_conn_free(struct http_conn *c)
{
	buf_free(&c->body);
	pool_destroy(c->req.pool);
	free(c);
}

static const char *http_remote(struct http_conn *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char addr[INET6_ADDRSTRLEN] = "";
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof(addr));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
			  sizeof(addr));
	return pool_strdup(c->req.pool, addr);
}

static struct http_conn *http_conn_new(struct http *h, struct MHD_Connection *mc,
				       const char *url, const char *method)
{
	struct http_conn *c = calloc(1, sizeof(*c));
	size_t route_max;

	if (c == NULL)
		return NULL;
	c->h = h;
	c->mc = mc;
	c->req.conn = c;
	c->req.id = ++h->next_id;
	buf_init(&c->body, h->max_body);
	c->max_body = h->max_body;
	c->req.pool = pool_create(h->max_body + HTTP_POOL_EXTRA);
	if (c->req.pool == NULL) {
		free(c);
		return NULL;
	}
	c->req.method = pool_strdup(c->req.pool, method);
	c->req.path = pool_strdup(c->req.pool, url);
	c->req.remote_addr = http_remote(c);
	if (c->req.method == NULL || c->req.path == NULL || c->req.remote_addr == NULL) {
		http_conn_free(c);
		return NULL;
	}
	/* a route that takes files may take more (http_set_body_limit) */
	route_max = h->body_limit != NULL ? h->body_limit(&c->req) : 0;
	if (route_max > c->max_body) {
		c->max_body = route_max;
		buf_init(&c->body, c->max_body);
	}
	return c;
}

const char *http_header(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn->mc, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn->mc, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_cookie(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn->mc, MHD_COOKIE_KIND, name);
}

int http_add_header(struct http_req *req, const char *name, const char *value)
{
	struct http_header *hd;

	if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n: ") != NULL)
		return -1;
	hd = pool_alloc(req->pool, sizeof(*hd));
	if (hd == NULL)
		return -1;
	hd->name = pool_strdup(req->pool, name);
	hd->value = pool_strdup(req->pool, value);
	if (hd->name == NULL || hd->value == NULL)
		return -1;
	hd->next = req->conn->headers;
	req->conn->headers = hd;
	return 0;
}

static int http_has_header(const struct http_conn *c, const char *name)
{
	for (const struct http_header *hd = c->headers; hd != NULL; hd = hd->next)
		if (strcasecmp(hd->name, name) == 0)
			return 1;
	return 0;
}

/* add our headers and the security defaults, queue, and release */
static void http_queue(struct http_conn *c, int status, const char *type, struct MHD_Response *r)
{
	int ok = r != NULL;

	if (ok && type != NULL)
		ok = MHD_add_response_header(r, "Content-Type", type) == MHD_YES;
	for (const struct http_header *hd = c->headers; ok && hd != NULL; hd = hd->next)
		ok = MHD_add_response_header(r, hd->name, hd->value) == MHD_YES;
	if (ok) {
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
		MHD_add_response_header(r, "Referrer-Policy", "same-origin");
		if (!http_has_header(c, "Content-Security-Policy"))
			MHD_add_response_header(r, "Content-Security-Policy", HTTP_PAGES_CSP);
		if (!http_has_header(c, "Cache-Control"))
			MHD_add_response_header(r, "Cache-Control", "no-store");
		ok = MHD_queue_response(c->mc, (unsigned int)status, r) == MHD_YES;
	}
	if (r != NULL)
		MHD_destroy_response(r);
	if (!ok)
		log_error("req=%lu: could not queue the response", c->req.id);
	c->replied = 1;
	c->req.status = status;
}

void http_reply(struct http_req *req, int status, const char *type, const void *body, size_t len)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	http_queue(req->conn, status, type, r);
}

void http_reply_owned(struct http_req *req, int status, const char *type, const void *body,
		      size_t len, void (*freefn)(void *), void *arg)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)body, freefn,
								  arg);
	if (r == NULL && freefn != NULL)
		freefn(arg);
	http_queue(req->conn, status, type, r);
}

void http_reply_fd(struct http_req *req, int status, const char *type, int fd, uint64_t size)
{
	struct MHD_Response *r = MHD_create_response_from_fd64(size, fd);

	if (r == NULL)
		close(fd);
	http_queue(req->conn, status, type, r);
}

/* a JSON string literal of s; our messages are short and ours, but
 * escape anyway so a path or name in one cannot break the document */
static void http_json_str(struct buf *b, const char *s)
{
	buf_append_str(b, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			buf_printf(b, "\\u%04x", ch);
		else
			buf_append(b, s, 1);
	}
	buf_append_str(b, "\"");
}

void http_reply_error(struct http_req *req, int status, const char *msg)
{
	struct buf b;

	if (status >= 500)
		log_error("req=%lu: %d %s %s: %s", req->id, status, req->method, req->path, msg);
	else
		log_info("req=%lu: %d %s %s: %s", req->id, status, req->method, req->path, msg);
	buf_init(&b, 4096);
	buf_append_str(&b, "{\"error\":");
	http_json_str(&b, msg);
	buf_append_str(&b, "}");
	http_reply(req, status, "application/json; charset=utf-8", b.data ? b.data : "{}",
		   b.data ? b.len : 2);
	buf_free(&b);
}

/* Content-Length over the limit: 0 within it; 1 refused before the body
 * is read; 2 on a route that takes files (http_set_body_limit), up to
 * twice its limit: the body is read and dropped, then 413, so that a
 * browser gets the answer instead of a connection reset in mid-upload */
static int http_declared_too_large(struct http_conn *c)
{
	const char *cl = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, "Content-Length");
	unsigned long long n;
	char *end;

	if (cl == NULL)
		return 0;
	errno = 0;
	n = strtoull(cl, &end, 10);
	if (errno != 0 || end == cl)
		return 1;
	if (n <= c->max_body)
		return 0;
	return c->max_body > c->h->max_body && n / 2 <= c->max_body ? 2 : 1;
}

static void http_dispatch(struct http_conn *c)
{
	if (c->too_large) {
		http_reply_error(&c->req, 413, "request body too large");
		return;
	}
	c->req.body = c->body.data ? c->body.data : "";
	c->req.body_len = c->body.len;
	c->h->handler(c->h->arg, &c->req);
	if (!c->replied)
		http_reply_error(&c->req, 500, "no response");
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *mc, const char *url,
				   const char *method, const char *version,
				   const char *upload_data, size_t *upload_data_size,
				   void **con_cls)
{
	struct http *h = cls;
	struct http_conn *c = *con_cls;

	if (c == NULL) {
		c = http_conn_new(h, mc, url, method);
		if (c == NULL)
			return MHD_NO;
		*con_cls = c;
		switch (http_declared_too_large(c)) {
		case 1:
			http_reply_error(&c->req, 413, "request body too large");
			break;
		case 2:
			c->too_large = 1; /* http_dispatch answers 413 */
			break;
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!c->too_large && buf_append(&c->body, upload_data, *upload_data_size) < 0)
			c->too_large = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!c->replied)
		http_dispatch(c);
	return MHD_YES;
}

static void http_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct http_conn *c = *con_cls;

	if (c == NULL)
		return;
	log_debug("req=%lu: %s %s %d%s", c->req.id, c->req.method, c->req.path, c->req.status,
		  toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (not completed)");
	http_conn_free(c);
	*con_cls = NULL;
}

static struct MHD_Daemon *http_start(struct http *h, const struct config *cfg,
				     const struct sockaddr_storage *ss)
{
	unsigned int flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* the logger first, or MHD reports the options before it on stderr */
	return MHD_start_daemon(
		flags, 0, NULL, NULL, http_access, h, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, h,
		MHD_OPTION_SOCK_ADDR, ss, MHD_OPTION_NOTIFY_COMPLETED, http_completed, h,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)config_int(cfg, "ticketd.max_connections"),
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)config_int(cfg, "ticketd.connection_timeout"),
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
}

struct http *http_new(const struct config *cfg, http_handler handler, void *arg)
{
	const char *listen = config_str(cfg, "ticketd.listen");
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di;
	struct http *h;
	socklen_t sl;

	if (http_parse_listen(listen, &ss, &sl) < 0) {
		log_error("ticketd.listen: \"%s\" is not address:port", listen);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->handler = handler;
	h->arg = arg;
	http_configure(h, cfg);
	h->d = http_start(h, cfg, &ss);
	if (h->d == NULL) {
		log_error("could not listen on %s: %s", listen, strerror(errno));
		free(h);
		return NULL;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : 0;
	if (strcmp(strrchr(listen, ':'), ":0") == 0)
		log_info("listening on %s (port %d)", listen, h->port);
	else
		log_info("listening on %s", listen);
	return h;
}

void http_set_body_limit(struct http *h, http_body_limit fn)
{
	h->body_limit = fn;
}

void http_configure(struct http *h, const struct config *cfg)
{
	h->max_body = (size_t)config_int(cfg, "ticketd.max_request_bytes");
}

int http_fd(const struct http *h)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);

	return di ? di->epoll_fd : -1;
}

int http_timeout_ms(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(h->d, &t) != MHD_YES)
		return -1;
	return t > 60000 ? 60000 : (int)t;
}

void http_run(struct http *h)
{
	MHD_run(h->d);
}

int http_port(const struct http *h)
{
	return h->port;
}

void http_free(struct http *h)
{
	if (h == NULL)
		return;
	for (struct http_stream *s = h->streams; s != NULL; s = s->next)
		http_stream_close(s);
	/* let MHD take the resumed connections back before it stops */
	MHD_run(h->d);
	MHD_stop_daemon(h->d);
	free(h);
}

/* ---- streams ---- */

static void http_stream_wake(struct http_stream *s)
{
	if (s->suspended) {
		s->suspended = 0;
		MHD_resume_connection(s->mc);
	}
}

static ssize_t http_stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_stream *s = cls;
	size_t avail = s->out.len - s->off;

	if (avail > 0) {
		size_t n = avail < max ? avail : max;

		memcpy(out, s->out.data + s->off, n);
		s->off += n;
		if (s->off == s->out.len) {
			buf_reset(&s->out);
			s->off = 0;
		}
		return (ssize_t)n;
	}
	if (s->closing)
		return s->dropped ? MHD_CONTENT_READER_END_WITH_ERROR
				  : MHD_CONTENT_READER_END_OF_STREAM;
	MHD_suspend_connection(s->mc);
	s->suspended = 1;
	return 0;
}

static void http_stream_gone(void *cls)
{
	struct http_stream *s = cls;

	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		s->h->streams = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	log_debug("req=%lu: event stream closed", s->req_id);
	if (s->on_close != NULL)
		s->on_close(s->arg);
	buf_free(&s->out);
	free(s);
}

struct http_stream *http_reply_stream(struct http_req *req, const char *type, size_t max_buffered,
				      void (*on_close)(void *arg), void *arg)
{
	struct http_conn *c = req->conn;
	struct http_stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *r;

	if (s == NULL) {
		http_reply_error(req, 500, "out of memory");
		return NULL;
	}
	s->h = c->h;
	s->mc = c->mc;
	s->req_id = req->id;
	s->max = max_buffered;
	s->on_close = on_close;
	s->arg = arg;
	buf_init(&s->out, max_buffered + 1);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, http_stream_read, s,
					      http_stream_gone);
	if (r == NULL) {
		free(s);
		http_reply_error(req, 500, "out of memory");
		return NULL;
	}
	s->next = c->h->streams;
	if (s->next != NULL)
		s->next->prev = s;
	c->h->streams = s;
	http_queue(c, 200, type, r);
	return s;
}

int http_stream_send(struct http_stream *s, const void *data, size_t len)
{
	if (s->closing)
		return -1;
	if (s->off > 0) {
		memmove(s->out.data, s->out.data + s->off, s->out.len - s->off);
		s->out.len -= s->off;
		s->out.data[s->out.len] = '\0';
		s->off = 0;
	}
	if (s->out.len + len > s->max || buf_append(&s->out, data, len) < 0) {
		log_warn("req=%lu: event stream client is %zu bytes behind; dropping it",
			 s->req_id, s->out.len);
		buf_free(&s->out);
		s->off = 0;
		s->closing = 1;
		s->dropped = 1;
		http_stream_wake(s);
		return -1;
	}
	http_stream_wake(s);
	return 0;
}

void http_stream_close(struct http_stream *s)
{
	s->closing = 1;
	http_stream_wake(s);
}
