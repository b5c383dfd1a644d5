/* Server-sent events.  Each client is an http_stream with a bounded
 * buffer (ticketd.sse_max_buffer): a browser that stops reading is dropped
 * by http.c once that much is waiting for it, so one stuck tab costs a
 * fixed amount of memory and never slows the others.  Delivery is
 * immediate: the loop reads NOTIFY, calls sse_broadcast(), and runs MHD
 * at once, which resumes the suspended connections and writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "sse.h"

/* PostgreSQL caps a NOTIFY payload at 8000 bytes; framing adds little */
#define SSE_FRAME_MAX 16384

const struct config_key sse_config_keys[] = {
	{ "ticketd.sse_ping_seconds", CFG_INT, "15", 1, 300,
	  "seconds between keep-alive comments on event streams" },
	{ "ticketd.sse_max_buffer", CFG_INT, "65536", 1024, 16L << 20,
	  "bytes an event stream client may fall behind before it is dropped" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

struct sse_client {
	struct sse *sse;
	struct http_stream *st;
	struct sse_client *prev, *next;
	char token_sha[65];
	long user_id; /* sse_send_user() */
};

struct sse {
	struct sse_client *clients;
	size_t nclients;
	int64_t ping_ms, next_ping;
	size_t max_buffer;
};

struct sse *sse_new(const struct config *cfg)
{
	struct sse *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	sse_configure(s, cfg);
	return s;
}

void sse_configure(struct sse *s, const struct config *cfg)
{
	s->ping_ms = config_int(cfg, "ticketd.sse_ping_seconds") * 1000;
	s->max_buffer = (size_t)config_int(cfg, "ticketd.sse_max_buffer");
	s->next_ping = clock_mono_ms() + s->ping_ms;
}

static void sse_unlink(struct sse_client *cl)
{
	struct sse *s = cl->sse;

	if (cl->prev != NULL)
		cl->prev->next = cl->next;
	else
		s->clients = cl->next;
	if (cl->next != NULL)
		cl->next->prev = cl->prev;
	s->nclients--;
}

/* http.c tells us the stream has ended (client gone, dropped, stopped) */
static void sse_on_close(void *arg)
{
	struct sse_client *cl = arg;

	sse_unlink(cl);
	free(cl);
}

void sse_free(struct sse *s)
{
	if (s == NULL)
		return;
	/* http_free() has ended every stream already; this is belt and braces */
	while (s->clients != NULL) {
		struct sse_client *cl = s->clients;

		sse_unlink(cl);
		free(cl);
	}
	free(s);
}

size_t sse_clients(const struct sse *s)
{
	return s->nclients;
}

void sse_events(struct api_call *c)
{
	static const char hello[] = "retry: 3000\n\n";
	struct sse *s = c->sse;
	struct sse_client *cl = calloc(1, sizeof(*cl));

	if (cl == NULL) {
		api_error(c, 500, "out of memory");
		return;
	}
	cl->sse = s;
	snprintf(cl->token_sha, sizeof(cl->token_sha), "%s", c->session->token_sha);
	cl->user_id = c->session->user_id;
	http_add_header(c->req, "Cache-Control", "no-cache");
	http_add_header(c->req, "X-Accel-Buffering", "no");
	cl->st = http_reply_stream(c->req, "text/event-stream; charset=utf-8", s->max_buffer,
				   sse_on_close, cl);
	if (cl->st == NULL) {
		free(cl);
		return;
	}
	cl->next = s->clients;
	if (cl->next != NULL)
		cl->next->prev = cl;
	s->clients = cl;
	s->nclients++;
	/* a first line at once, so the browser's EventSource opens now */
	http_stream_send(cl->st, hello, sizeof(hello) - 1);
}

size_t sse_frame(const char *event, const char *payload, char *out, size_t outlen)
{
	size_t n = 0;
	int w = snprintf(out, outlen, "event: %s\n", event);

	if (w < 0 || (size_t)w >= outlen)
		return 0;
	n = (size_t)w;
	for (;;) {
		size_t line = strcspn(payload, "\r\n");

		w = snprintf(out + n, outlen - n, "data: %.*s\n", (int)line, payload);
		if (w < 0 || (size_t)w >= outlen - n)
			return 0;
		n += (size_t)w;
		payload += line;
		if (*payload == '\0')
			break;
		payload += (payload[0] == '\r' && payload[1] == '\n') ? 2 : 1;
	}
	if (n + 1 >= outlen)
		return 0;
	out[n++] = '\n';
	out[n] = '\0';
	return n;
}

static void sse_send_all(struct sse *s, const char *data, size_t len)
{
	for (struct sse_client *cl = s->clients; cl != NULL; cl = cl->next)
		http_stream_send(cl->st, data, len);
}

void sse_broadcast_event(struct sse *s, const char *event, const char *payload)
{
	char frame[SSE_FRAME_MAX];
	size_t n = sse_frame(event, payload, frame, sizeof(frame));

	if (n == 0) {
		log_warn("%s payload of %zu bytes does not fit an event; skipped", event,
			 strlen(payload));
		return;
	}
	sse_send_all(s, frame, n);
}

void sse_send_user(struct sse *s, long user_id, const char *event, const char *payload)
{
	char frame[SSE_FRAME_MAX];
	size_t n = sse_frame(event, payload, frame, sizeof(frame));

	for (struct sse_client *cl = s->clients; n > 0 && cl != NULL; cl = cl->next)
		if (cl->user_id == user_id)
			http_stream_send(cl->st, frame, n);
}

void sse_broadcast(struct sse *s, const char *payload)
{
	sse_broadcast_event(s, "ticket", payload);
}

void sse_tick(struct sse *s)
{
	static const char ping[] = ": ping\n\n";
	int64_t now = clock_mono_ms();

	if (now < s->next_ping)
		return;
	s->next_ping = now + s->ping_ms;
	sse_send_all(s, ping, sizeof(ping) - 1);
}

void sse_end_session(struct sse *s, const char *token_sha)
{
	for (struct sse_client *cl = s->clients; cl != NULL; cl = cl->next)
		if (strcmp(cl->token_sha, token_sha) == 0)
			http_stream_close(cl->st);
}
