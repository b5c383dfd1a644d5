/* mime_header: the header-level pieces of the MIME parser (mime.c):
 * splitting a header block into fields, unfolding, RFC 2047 encoded
 * words, Content-Type / Content-Disposition parameters with RFC 2231,
 * RFC 5322 dates and message-id lists.
 *
 * Everything is bounded and linear in its input; nothing recurses on
 * input structure.  Results are UTF-8 from the caller's pool.  Internal
 * to lib/: only mime*.c, forward.c and the tests include this. */
#ifndef MDG_MIME_HEADER_H
#define MDG_MIME_HEADER_H
#include <stddef.h>
#include <stdint.h>

struct pool;

/* why a header block ended */
enum mime_header_end {
	MIME_HEADER_RUNNING,
	MIME_HEADER_BLANK,     /* the empty line: the normal case */
	MIME_HEADER_NOT_FIELD, /* a line that is no field: the body starts on it */
	MIME_HEADER_EOF        /* the data ended inside the header */
};

struct mime_header_iter {
	const char *s;
	size_t len;
	size_t pos;               /* start of the next line; the body start once ended */
	enum mime_header_end end;
};

struct mime_header_field {
	const char *name;
	size_t name_len;
	const char *value;        /* raw and folded, without the last line end */
	size_t value_len;
};

/* a growable string in a pool; len excludes the NUL that is always kept */
struct mime_header_sb {
	struct pool *p;
	char *s;
	size_t len, cap;
	int oom;
};

void mime_header_start(struct mime_header_iter *it, const char *s, size_t len);
/* 1 with *f filled, or 0 at the end of the header block (see it->end) */
int mime_header_next(struct mime_header_iter *it, struct mime_header_field *f);
/* 1 if the field is named name (case-insensitive) */
int mime_header_is(const struct mime_header_field *f, const char *name);

/* Folding removed and blanks trimmed, at most max bytes (then *cut = 1);
 * raw 8-bit bytes converted to UTF-8 (valid UTF-8 kept, else CP932), so
 * structure parsers never see a Shift_JIS 0x5C trail byte. */
char *mime_header_value(struct pool *p, const char *v, size_t n, size_t max, int *cut,
			size_t *undecodable);

/* RFC 2047: encoded words (adjacent words of one charset joined before
 * converting, so a character split across words survives) and raw text
 * (guessed charset) to UTF-8; control characters become spaces. */
char *mime_header_decode(struct pool *p, const char *v, size_t n, size_t *undecodable);

/* "type/subtype" or the disposition type: the value before ';',
 * lowercased and trimmed; NULL if empty */
char *mime_header_token(struct pool *p, const char *v, size_t n);

/* A parameter of a structured value, decoded: RFC 2231 (key*, key*0*,
 * key*1 ...) first, else key=, with RFC 2047 words decoded.  NULL if
 * absent.  *quoted (may be NULL) tells whether the plain value was
 * quoted. */
char *mime_header_param(struct pool *p, const char *v, size_t n, const char *key, int *quoted,
			size_t *undecodable);

/* the plain key=value, unquoted, nothing decoded (boundary, charset) */
char *mime_header_param_raw(struct pool *p, const char *v, size_t n, const char *key, int *quoted);

/* RFC 5322 date with obsolete forms, zone names (JST...), to UTC
 * microseconds; 0 or -1 if unparseable */
int mime_header_date(const char *v, size_t n, int64_t *us);
/* the same, read at zone_min minutes east of UTC when it names no zone
 * (forward.c: dates in forwarded blocks are local time) */
int mime_header_date_zone(const char *v, size_t n, int zone_min, int64_t *us);

/* the ids in <...> (or the bare value), without brackets, separated by a
 * space; at most max ids; NULL if none */
char *mime_header_msgids(struct pool *p, const char *v, size_t n, size_t max);

/* Transfer decoders shared by headers and bodies: at most max bytes into
 * dst (then *cut = 1).  Lenient as mail clients are: base64 skips what
 * is not in its alphabet; quoted-printable keeps a "=" that starts no
 * escape, and in header mode (RFC 2047 Q) reads '_' as a space. */
size_t mime_header_base64(const char *s, size_t n, unsigned char *dst, size_t max, int *cut);
size_t mime_header_qp(const char *s, size_t n, unsigned char *dst, size_t max, int header,
		      int *cut);

void mime_header_sb_init(struct mime_header_sb *b, struct pool *p);
int mime_header_sb_put(struct mime_header_sb *b, const void *s, size_t n);
int mime_header_sb_putc(struct mime_header_sb *b, char c);
/* the string; "" if nothing was put or memory ran out */
char *mime_header_sb_str(struct mime_header_sb *b);

#endif
