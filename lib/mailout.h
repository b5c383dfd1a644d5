/* mailout: one outgoing mail as RFC 5322 / MIME bytes, written the way
 * Japanese mail clients (and old carrier phones) read it right.
 *
 * The encoder only builds bytes; sending them is the sender's job.  The
 * result is 7-bit, CRLF everywhere, no line over 998 octets, no NUL:
 *
 * - Headers: ASCII words stay as written; words that need it (non-ASCII,
 *   control characters, "=?", longer than 60) become RFC 2047 B-encoded
 *   words of at most 75 characters, each holding whole characters (in
 *   ISO-2022-JP each word starts and ends in ASCII mode).  Lines fold at
 *   78 characters; only an address or message id longer than that can
 *   make a longer line.  CR and LF in a header value become spaces.
 * - Display names: atoms as they are, other ASCII as a quoted string,
 *   anything else encoded.  A name is kept in one encoded word when it
 *   fits (Python 3.11, Debian 12's, reads a space into a name split
 *   across words: cpython gh-128110).
 * - Body: the text's line ends (LF, CRLF or a lone CR) become CRLF and a
 *   last one is added if missing.  UTF-8 text goes base64 (Japanese in
 *   quoted-printable is three times its size; base64 is 4/3) unless it
 *   is plain ASCII with short lines, which goes 7bit (readable, and spam
 *   filters score base64 around plain ASCII).
 * - iso2022jp: headers and body in ISO-2022-JP (RFC 1468, strict JIS X
 *   0208, see charset_utf8_to_jis) where every character can be written
 *   so; otherwise that header (that display name, that filename) or the
 *   body is written in UTF-8 instead.  Never a '?'.  A JIS body line over
 *   998 octets makes the body base64 (still ISO-2022-JP).
 * - Attachments: multipart/mixed, base64 at 76 columns, the file name as
 *   RFC 2231 filename*= (continued over lines when long) and as an RFC
 *   2047 name= for clients that know only that.
 *
 * All memory comes from the caller's pool and out; nothing is logged. */
#ifndef MDG_MAILOUT_H
#define MDG_MAILOUT_H
#include <stddef.h>
#include <stdint.h>

struct pool;
struct buf;

struct mailout_attachment {
	const char *filename;     /* UTF-8; NULL = none given */
	const char *content_type; /* "type/subtype"; NULL = application/octet-stream */
	const unsigned char *data;
	size_t size;
};

struct mailout {
	const char *from_name;    /* UTF-8 display name; NULL or "" = none */
	const char *from_addr;    /* required */
	const char *to, *cc;      /* "Name <a@b>, c@d", UTF-8 names, quoted names allowed; NULL = none */
	const char *reply_to;     /* same form; NULL = none */
	const char *subject;      /* UTF-8; NULL = empty */
	const char *body;         /* UTF-8 text; NULL = empty */
	const char *in_reply_to;  /* the parent's id without <>; NULL if none */
	const char *references;   /* the parent's References, ids without <>, space separated;
				   * in_reply_to is appended unless already last; NULL if none */
	int iso2022jp;            /* ISO-2022-JP where possible, for old carrier phones */
	const char *message_id_domain; /* right side of the Message-ID */
	const char *message_id;   /* NULL: make "<128 random bits>@domain"; else reuse this id
				   * (rebuilding a stored mail, tests) */
	int64_t date_us;          /* clock_now_us() at writing; 0 = now */
	const struct mailout_attachment *att;
	size_t natt;
};

/* The whole message, CRLF line ends, appended to out; the Message-ID
 * (without <>) into msgid.  0, or -1 with *err set to why (a constant
 * string naming the field, never its content) and out as it was.
 * Input errors: no From address, an entry of an address list without a
 * plain address (quoted local parts and non-ASCII addresses are not
 * written), invalid UTF-8, a bad domain, content type or file name (a
 * control character); also out's maximum reached, or the pool empty.
 * A malformed In-Reply-To or References id (spaces, <>, non-ASCII, over
 * 250 octets) is left out, not an error: it comes from a stranger's
 * mail.  References keeps the first id and the last 19. */
int mailout_build(struct pool *p, const struct mailout *m, struct buf *out, char *msgid,
		  size_t msgidlen, const char **err);

/* Subject tags.  format holds exactly one %d (the ticket id) and may hold
 * %% for a '%', e.g. "[受付番号:%d]"; anything else after '%' is invalid.
 * tag_subject returns "<tag> <subject>", or subject itself when it
 * already carries the tag of this id anywhere; NULL for an invalid
 * format, a negative id or an empty pool. */
const char *mailout_tag_subject(struct pool *p, const char *format, long long ticket_id,
				const char *subject);
/* the first tag made by format anywhere in a decoded subject (literal
 * bytes, no pattern language: "[#T-%d#]" matches only itself); 1 found
 * with *id set, 0 not found or invalid format */
int mailout_find_tag(const char *format, const char *subject, long long *id);

#endif
