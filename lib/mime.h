/* mime: parse one RFC 5322 / MIME message into what an operator reads.
 *
 * The libetpan MIME parser sits behind this file (and charset.c behind
 * ICU); nothing else includes their headers.  Every string in the result
 * is UTF-8 and NUL-terminated, allocated from the caller's pool; the raw
 * bytes are never modified and may be freed only after the pool.
 *
 * Never fails on bad input: a message that cannot be parsed at all comes
 * back with state MIME_UNPARSED and whatever headers could be read; a
 * message past a limit comes back MIME_PARTIAL with notes saying which.
 * An undecodable byte becomes U+FFFD and sets undecodable; never '?'. */
#ifndef MDG_MIME_H
#define MDG_MIME_H
#include <stddef.h>
#include <stdint.h>

struct pool;

struct mime_limits {
	size_t max_depth;        /* multipart nesting */
	size_t max_parts;        /* leaf parts */
	size_t max_headers;      /* header fields per part */
	size_t max_text_bytes;   /* decoded body text kept */
	size_t max_attachment_bytes; /* per attachment, decoded */
	size_t max_header_bytes; /* per header field value kept (added; 0 = default 64 KiB) */
};

/* sensible defaults: depth 20, 500 parts, 2000 headers, 4 MiB text, 64 MiB,
 * 64 KiB per header field; a field left 0 by the caller gets its default */
void mime_limits_default(struct mime_limits *lim);

enum mime_state { MIME_OK, MIME_PARTIAL, MIME_UNPARSED };

struct mime_attachment {
	const char *filename;     /* decoded (RFC 2231 / 2047); "" if none */
	const char *content_type; /* lowercase "type/subtype" */
	const char *content_id;   /* without <>; NULL if none */
	const unsigned char *data;
	size_t size;
	int is_inline;            /* Content-Disposition: inline, or cid-referenced */
};

struct mime_mail {
	enum mime_state state;
	int undecodable;          /* some byte became U+FFFD */
	const char *notes;        /* why partial or unparsed; NULL when OK */
	const char *subject;      /* decoded; "" if none */
	const char *from_name;    /* decoded display name; "" if none */
	const char *from_addr;    /* addr-spec; "" if none */
	const char *to;           /* decoded, "Name <a@b>, c@d" */
	const char *cc;
	const char *date_raw;     /* the Date header as written; NULL if none */
	int64_t date_us;          /* parsed Date in UTC microseconds; 0 if none or unparseable */
	const char *message_id;   /* without <>; NULL if none */
	const char *in_reply_to;  /* first id, without <>; NULL if none */
	const char *references;   /* ids separated by spaces, without <>; NULL if none */
	const char *body_text;    /* text/plain, else text derived from the HTML; "" if none */
	const char *body_html;    /* the text/html part decoded to UTF-8; NULL if none */
	struct mime_attachment *att;
	size_t natt;
	const char *reply_to;     /* decoded like to; "" if none (added) */
};

int mime_parse(struct pool *p, const char *raw, size_t len, const struct mime_limits *lim,
	       struct mime_mail *out);

#endif
