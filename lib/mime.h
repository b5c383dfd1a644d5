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
struct mime_mail;

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
	/* message/rfc822 or message/global: the attached mail parsed (same
	 * limits; its depth counts toward max_depth, its parts toward
	 * max_parts of the whole tree; its own state and notes say what a
	 * limit cut); NULL for other types or past the depth limit (added) */
	const struct mime_mail *nested;
};

/* automatic mail (RFC 3834 and what mailers do), strongest sign first:
 * DSN, then AUTO_REPLY, then LIST, then BULK */
enum mime_auto {
	MIME_AUTO_NONE,
	MIME_AUTO_REPLY, /* Auto-Submitted not "no"; X-Autoreply/X-Autorespond not "no";
			  * Precedence: auto_reply; a vacation subject */
	MIME_AUTO_BULK,  /* Precedence: bulk or junk */
	MIME_AUTO_LIST,  /* Precedence: list, List-Id, List-Unsubscribe */
	MIME_AUTO_DSN,   /* multipart/report; report-type=delivery-status, or a classic bounce */
};

/* where a forwarded mail came from (lib/forward.c fills it).  When kind
 * is NULL nothing was found: the strings are "" and date_us 0.  When set,
 * no string is NULL ("" if unknown). */
struct mime_forward {
	const char *kind;         /* "rfc822", "resent", "inline" or NULL */
	const char *from_name;    /* the original sender's display name */
	const char *from_addr;    /* the original sender's addr-spec */
	const char *to;           /* the original recipients, as shown */
	const char *subject;      /* the original subject */
	int64_t date_us;          /* the original date in UTC microseconds; 0 if unknown */
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

	/* ---- added for routing, automatic mail, DSN and forwards ---- */
	const char *delivered_to;  /* addr-spec of the first Delivered-To, as written; NULL if none */
	const char *x_original_to; /* addr-spec of the first X-Original-To, as written; NULL if none */
	const char **rcpt;         /* every addr-spec of To, Cc, Delivered-To, X-Original-To (every
				    * field of each, groups opened), ASCII-lowercased, duplicates
				    * dropped, in that order; only those with an '@'; at most 1000;
				    * never NULL, no NULL element */
	size_t nrcpt;
	enum mime_auto auto_kind;
	int suppress_autoreply;    /* X-Auto-Response-Suppress names All, OOF or AutoReply: the
				    * sender asks for no automatic reply (auto_kind unchanged) */
	const char *auto_submitted; /* these four as written: unfolded, trimmed, UTF-8, RFC 2047
				     * words left as they are; NULL if absent */
	const char *precedence;
	const char *list_id;
	const char *x_auto_response_suppress;
	/* a delivery status notification (auto_kind MIME_AUTO_DSN); NULL if not found */
	const char *dsn_original_message_id; /* Message-ID of the returned mail, without <> */
	const char *dsn_action;    /* first per-recipient Action: "failed", "delayed", "delivered",
				    * "relayed" or "expanded" */
	const char *dsn_status;    /* its Status, "5.1.1" */
	const char *dsn_recipient; /* its Final-Recipient addr-spec (type "rfc822;" removed) */
	const char *dsn_diagnostic; /* its Diagnostic-Code text (type "smtp;" removed), at most 500 bytes */
	/* a redirected mail (RFC 5322 3.6.6), the first (newest) Resent block */
	const char *resent_from;   /* addr-spec of Resent-From: who redirected it; "" if the field
				    * holds none, NULL if no Resent-From */
	const char *resent_to;     /* decoded like to; NULL if no Resent-To */
	int64_t resent_date_us;    /* Resent-Date in UTC microseconds; 0 if none or unparseable */
	struct mime_forward forward; /* the original of a forwarded mail */
};

/* Parses raw into out, and every attached message/rfc822 into its
 * attachment's nested mail.  0, or -1 when the pool refused memory (the
 * result is then consistent but incomplete). */
int mime_parse(struct pool *p, const char *raw, size_t len, const struct mime_limits *lim,
	       struct mime_mail *out);

#endif
