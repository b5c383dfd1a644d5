/* buf: a growable byte buffer with a hard maximum (curl's dynbuf habit).
 *
 * Every append checks the maximum; past it the append fails with -1 and
 * the buffer keeps what it had.  The contents are always NUL-terminated
 * (the NUL is not counted in len), so text can be used as a C string. */
#ifndef MDG_BUF_H
#define MDG_BUF_H
#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* detach the data; the caller frees it; the buffer is empty after */
char *buf_steal(struct buf *b, size_t *len);

#endif
