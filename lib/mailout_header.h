/* mailout_header: the header half of mailout.c: folding at 78
 * characters, RFC 2047 encoded words, display names and address lists,
 * RFC 2231 file names.  See mailout.h for the rules the result keeps.
 * Internal to lib/: only mailout.c and the tests include this.
 *
 * A header is written piece by piece: each piece is unbreakable text
 * with the whitespace before it, and a fold (CRLF) may go only before
 * that whitespace, so unfolding gives back exactly what was meant. */
#ifndef MDG_MAILOUT_HEADER_H
#define MDG_MAILOUT_HEADER_H
#include <stddef.h>

#define MAILOUT_HEADER_WIDTH 78   /* RFC 5322 2.1.1: lines SHOULD stay within 78 */
#define MAILOUT_HEADER_WORD_MAX 75 /* RFC 2047 2: an encoded word is at most 75 */

struct pool;
struct buf;

struct mailout_header {
	struct pool *p;
	struct buf *out;
	size_t col;        /* octets on the current line */
	int pieces;        /* pieces written after the name */
	int jis;           /* try ISO-2022-JP for encoded words */
	int err;           /* an append or allocation failed */
	const char *why;   /* the first error, for the caller's message */
};

/* "Name:"; jis asks for ISO-2022-JP encoded words where possible */
void mailout_header_begin(struct mailout_header *h, struct pool *p, struct buf *out,
			  const char *name, int jis);
/* one unbreakable piece after the whitespace sep (NULL or "" = no fold
 * possible before it); folds first when the line would pass 78 */
void mailout_header_put(struct mailout_header *h, const char *sep, size_t seplen, const char *s,
			size_t n);
/* the closing CRLF; 0, or -1 if anything failed (h->why says what) */
int mailout_header_end(struct mailout_header *h);

/* unstructured text (Subject): ASCII words raw, the rest encoded */
int mailout_header_text(struct mailout_header *h, const char *text);
/* one mailbox, "name <addr>" or the bare addr; comma appends ',' */
int mailout_header_mailbox(struct mailout_header *h, const char *name, size_t namelen,
			   const char *addr, size_t addrlen, int comma);
/* an address list as mailout.h describes it; the count of mailboxes
 * written, or -1 (an entry without a plain address, bad UTF-8) */
int mailout_header_list(struct mailout_header *h, const char *list);
/* Content-Type's name="..." (RFC 2047 words inside the quotes when needed) */
int mailout_header_name_param(struct mailout_header *h, const char *name);
/* Content-Disposition's filename="..." or RFC 2231 filename*=, continued */
int mailout_header_filename(struct mailout_header *h, const char *name);

/* 1 if a..a+n is a plain addr-spec: printable ASCII without specials,
 * one '@' with something on each side, at most 254 octets */
int mailout_header_addr_ok(const char *a, size_t n);

/* base64 of s[0..n) into d (room for (n + 2) / 3 * 4 bytes); no line breaks.
 * Returns the bytes written.  The body writer in mailout.c uses it too. */
size_t mailout_header_b64(char *d, const unsigned char *s, size_t n);

#endif
