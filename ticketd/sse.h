/* sse: live queue updates over server-sent events (GET /api/events).
 *
 * Every NOTIFY ticket_change becomes "event: ticket\ndata: <payload>\n\n"
 * on every open stream; a comment line ": ping" goes out every
 * ticketd.sse_ping_seconds so that proxies keep the connection and dead
 * clients are noticed.  A stream ends with its session (log-out, expiry). */
#ifndef MDG_SSE_H
#define MDG_SSE_H
#include <stddef.h>

#include "config.h"

struct api_call;
struct config;
struct sse;

extern const struct config_key sse_config_keys[];

struct sse *sse_new(const struct config *cfg);
void sse_free(struct sse *s);
void sse_configure(struct sse *s, const struct config *cfg);
/* handler: GET /api/events */
void sse_events(struct api_call *c);
void sse_broadcast(struct sse *s, const char *payload);
/* an event of another name (workflow.c: "presence") to every stream */
void sse_broadcast_event(struct sse *s, const char *event, const char *payload);
/* an event to the streams of one user only (the screen pop of a call) */
void sse_send_user(struct sse *s, long user_id, const char *event, const char *payload);
/* heartbeat when due */
void sse_tick(struct sse *s);
/* close the streams opened under this session */
void sse_end_session(struct sse *s, const char *token_sha);
/* "event: ticket" framing of payload into out (at most outlen bytes,
 * NUL-terminated): each line of payload gets its own "data:" line.
 * Returns the length, or 0 when it does not fit. */
size_t sse_frame(const char *event, const char *payload, char *out, size_t outlen);
size_t sse_clients(const struct sse *s);

#endif
