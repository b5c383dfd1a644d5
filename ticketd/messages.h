/* messages: the bytes of correspondence — the raw mail, its HTML body and
 * its attachments — served so that nothing in them can run in our origin:
 * downloads are attachments with nosniff, scriptable types are sent as
 * application/octet-stream, and the HTML body only ever goes out
 * sanitised (lib/htmlsan: no script, no handlers, no remote images unless
 * ?remote=1, cid: images inlined) and still under a CSP with "sandbox" and
 * no script source, for an <iframe sandbox>. */
#ifndef MDG_MESSAGES_H
#define MDG_MESSAGES_H

struct api_call;
struct db;
struct pool;

void messages_prepare(struct db *db);
/* GET /api/messages/ID/raw, /html[?remote=1], /attachments/IDX,
 * /cid/<content-id> (an inline image: png, gif, jpeg or webp, else 404) */
void messages_raw(struct api_call *c);
void messages_html(struct api_call *c);
void messages_attachment(struct api_call *c);
void messages_cid(struct api_call *c);

/* Content-Disposition for a download named name (UTF-8, untrusted):
 * attachment; filename="<ASCII fallback>"; filename*=UTF-8''<%-encoded>
 * (RFC 6266, RFC 5987).  NULL if the pool is exhausted. */
char *messages_disposition(struct pool *p, const char *name);
/* the Content-Type to send for a stored one: the bare media type when it
 * is on the list of inert types, else application/octet-stream */
const char *messages_safe_type(struct pool *p, const char *stored);

#endif
