/* pool: one memory pool per unit of work (a message, a page, a request).
 *
 * Allocations are never freed one by one; pool_destroy() or pool_clear()
 * drops them all (PostgreSQL memory contexts, nginx ngx_palloc).  A pool
 * may carry a byte limit: past it pool_alloc returns NULL, so a hostile
 * input cannot take the daemon's memory. */
#ifndef MDG_POOL_H
#define MDG_POOL_H
#include <stddef.h>

struct pool;

/* limit 0 = no limit */
struct pool *pool_create(size_t limit);
void pool_destroy(struct pool *p);
/* free everything but keep the first block for reuse */
void pool_clear(struct pool *p);
void *pool_alloc(struct pool *p, size_t n);
void *pool_zalloc(struct pool *p, size_t n);
char *pool_strdup(struct pool *p, const char *s);
char *pool_strndup(struct pool *p, const char *s, size_t n);
void *pool_memdup(struct pool *p, const void *s, size_t n);
char *pool_printf(struct pool *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t pool_used(const struct pool *p);

#endif
