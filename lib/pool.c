/* A chain of blocks; big requests get a block of their own.  The first
 * block is kept across pool_clear() so a daemon reusing one pool per
 * request does not go back to malloc for small work. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

#define POOL_BLOCK 16384
#define POOL_ALIGN 16

struct pool_block {
	struct pool_block *next;
	size_t size;
	size_t used;
	/* data follows, aligned */
};

struct pool {
	struct pool_block *head;
	struct pool_block *first; /* kept across pool_clear() */
	size_t limit;
	size_t total;
};

static size_t pool_hdr(void)
{
	return (sizeof(struct pool_block) + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
}

static struct pool_block *pool_block_new(size_t size)
{
	struct pool_block *b = malloc(pool_hdr() + size);

	if (b == NULL)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct pool *pool_create(size_t limit)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->limit = limit;
	p->head = p->first = pool_block_new(POOL_BLOCK);
	if (p->head == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

static void pool_free_chain(struct pool_block *b)
{
	while (b != NULL) {
		struct pool_block *n = b->next;
		free(b);
		b = n;
	}
}

void pool_destroy(struct pool *p)
{
	if (p == NULL)
		return;
	pool_free_chain(p->head);
	free(p);
}

void pool_clear(struct pool *p)
{
	struct pool_block *b = p->head;

	while (b != NULL) {
		struct pool_block *n = b->next;
		if (b != p->first)
			free(b);
		b = n;
	}
	p->head = p->first;
	p->first->next = NULL;
	p->first->used = 0;
	p->total = 0;
}

void *pool_alloc(struct pool *p, size_t n)
{
	struct pool_block *b = p->head;
	size_t need = (n + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);

	if (need < n)
		return NULL;
	if (p->limit != 0 && (need > p->limit || p->total > p->limit - need))
		return NULL;
	if (b->size - b->used < need) {
		size_t size = need > POOL_BLOCK / 4 ? need : POOL_BLOCK;
		struct pool_block *nb = pool_block_new(size);

		if (nb == NULL)
			return NULL;
		if (size == need && b->used < b->size) {
			/* big one-off: keep the current block at the head */
			nb->next = b->next;
			b->next = nb;
			nb->used = need;
			p->total += need;
			return (char *)nb + pool_hdr();
		}
		nb->next = b;
		p->head = b = nb;
	}
	b->used += need;
	p->total += need;
	return (char *)b + pool_hdr() + b->used - need;
}

void *pool_zalloc(struct pool *p, size_t n)
{
	void *r = pool_alloc(p, n);

	if (r != NULL)
		memset(r, 0, n);
	return r;
}

void *pool_memdup(struct pool *p, const void *s, size_t n)
{
	char *r = pool_alloc(p, n + 1);

	if (r == NULL)
		return NULL;
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

char *pool_strndup(struct pool *p, const char *s, size_t n)
{
	return pool_memdup(p, s, n);
}

char *pool_strdup(struct pool *p, const char *s)
{
	return pool_memdup(p, s, strlen(s));
}

char *pool_printf(struct pool *p, const char *fmt, ...)
{
	va_list ap;
	char *r;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (r = pool_alloc(p, (size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(r, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return r;
}

size_t pool_used(const struct pool *p)
{
	return p->total;
}
