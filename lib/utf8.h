/* utf8: validity checks for text on its way into PostgreSQL, which
 * refuses invalid UTF-8 and NUL bytes in text columns. */
#ifndef MDG_UTF8_H
#define MDG_UTF8_H
#include <stddef.h>
#include <stdint.h>

struct pool;

/* 1 if s[0..len) is valid UTF-8 without NUL bytes */
int utf8_valid(const char *s, size_t len);
/* s itself when valid, else a copy in p with each invalid sequence and NUL
 * replaced by U+FFFD; *replaced (if not NULL) is set when that happened.
 * NULL only when the pool is exhausted. */
const char *utf8_clean(struct pool *p, const char *s, size_t len, int *replaced);

/* code point c as UTF-8 into d (room for 4 bytes); NUL, surrogates and
 * values past U+10FFFF become U+FFFD.  Returns the bytes written. */
size_t utf8_encode(char *d, uint32_t c);

/* the code point of the valid sequence at s[0..left) into *c; its length
 * (1-4), or 0 when the bytes there are not valid UTF-8 (or NUL) */
size_t utf8_decode(const char *s, size_t left, uint32_t *c);

#endif
