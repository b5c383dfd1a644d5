/* upload: files an operator uploads in the reply composer (sql/014).
 *
 *   POST   /api/tickets/ID/uploads       the body is the file itself (not
 *                                        multipart): Content-Type its type,
 *                                        X-Filename its name, percent-encoded
 *                                        UTF-8 → 201 {upload_id, filename,
 *                                        content_type, size, sha256}
 *   DELETE /api/tickets/ID/uploads/UID   while no reply used it → 204
 *
 * A reply names an upload as {"upload_id": N} among its attachments
 * (reply_draft.h); reply.c loads it (upload_load), refuses one of another
 * ticket or one already sent, and on send makes it an attachment of the
 * outgoing message (upload_attach), which marks it used.
 *
 * Refused: an empty file (400); a name with a control character (bidi
 * overrides included: "txt.exe" shown as "exe.txt") or none left once
 * reduced to its last path segment (400); a body over
 * ticketd.upload_max_bytes (413, by http.c); the uploader's unsent
 * uploads on the ticket past ticketd.reply_max_attachment_bytes or 20
 * files (413: they are all listed in their composer, to remove); a zip with the encryption bit in any header (422): the
 * password-by-separate-mail habit (PPAP) the Cabinet Office abolished in
 * 2020, which also hides the content from the virus scan.
 *
 * Unused uploads older than ticketd.upload_keep_seconds are deleted by
 * upload_sweep (ticketd's tick): they are correspondence nobody sent. */
#ifndef MDG_UPLOAD_H
#define MDG_UPLOAD_H
#include <stddef.h>

#include <jansson.h>

#include "config.h"

struct api_call;
struct db;
struct http_req;
struct pool;

extern const struct config_key upload_config_keys[];

void upload_prepare(struct db *db);
void upload_configure(const struct config *cfg);

void upload_create(struct api_call *c);
void upload_delete(struct api_call *c);

/* http.c's body limit (http_set_body_limit): ticketd.upload_max_bytes for
 * POST /api/tickets/ID/uploads with a session cookie and a CSRF token
 * (the gates still run: the header check only keeps anonymous requests at
 * the common limit), else 0 */
size_t upload_body_limit(const struct http_req *req);

/* ticketd.upload_max_bytes, for the composer to check a file before
 * sending it (reply_render) */
long upload_max_bytes(void);

/* delete unused uploads past their time; runs at most every minute (or
 * every upload_keep_seconds when shorter) */
void upload_sweep(struct db *db);

/* the caller's unsent uploads on ticket, oldest first, as POST answered
 * them: the composer lists them again after a page load (render); NULL on
 * a database error */
json_t *upload_pending(struct api_call *c, long long ticket);

struct upload_file {
	long long id, ticket;
	const char *filename, *content_type;
	const unsigned char *data; /* NULL once used */
	size_t size;
	int used; /* a reply took it */
};

/* 1 found (f filled, bytes copied into p), 0 no such upload, -1 database
 * error (logged by db) */
int upload_load(struct db *db, struct pool *p, long long id, struct upload_file *f);
/* Inside the caller's transaction: the upload's bytes into blob, an
 * attachment row (msg, idx) of it, the upload marked used by msg.  0, or
 * -1 when a statement failed or the upload was used meanwhile. */
int upload_attach(struct db *db, long long id, long long msg, int idx);

/* ---- the checks, public for the unit test ---- */

/* 1 if the bytes are a zip (local header at the start, or an end of
 * central directory record) with the encryption bit (general purpose
 * flag bit 0) in any local or central header, else 0 */
int upload_zip_encrypted(const unsigned char *d, size_t n);
/* The X-Filename header percent-decoded, valid UTF-8, reduced to what
 * follows its last '/' or '\', at most 255 bytes; NULL with *err when
 * refused. */
const char *upload_filename(struct pool *p, const char *header, const char **err);
/* Content-Type reduced to "type/subtype", lowercase; anything else is
 * application/octet-stream */
const char *upload_content_type(struct pool *p, const char *header);

#endif
