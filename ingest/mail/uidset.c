#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uidset.h"

void uidset_init(struct uidset *s)
{
	s->v = NULL;
	s->n = s->cap = 0;
}

void uidset_free(struct uidset *s)
{
	free(s->v);
	uidset_init(s);
}

void uidset_clear(struct uidset *s)
{
	s->n = 0;
}

int uidset_add(struct uidset *s, uint32_t uid)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint32_t *v;

		if (cap > SIZE_MAX / sizeof(*v))
			return -1;
		v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = uid;
	return 0;
}

static int uidset_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void uidset_sort(struct uidset *s)
{
	size_t w = 0;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), uidset_cmp);
	for (size_t r = 1; r < s->n; r++)
		if (s->v[r] != s->v[w])
			s->v[++w] = s->v[r];
	s->n = w + 1;
}

uint32_t uidset_max(const struct uidset *s)
{
	uint32_t m = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] > m)
			m = s->v[i];
	return m;
}

int uidset_run(const uint32_t *v, size_t n, size_t *i, uint32_t *lo, uint32_t *hi)
{
	size_t k = *i;

	if (k >= n)
		return 0;
	*lo = *hi = v[k++];
	while (k < n && v[k] == *hi + 1 && *hi != UINT32_MAX)
		*hi = v[k++];
	*i = k;
	return 1;
}

void uidset_format(const uint32_t *v, size_t n, char *out, size_t len)
{
	size_t i = 0, used = 0;
	uint32_t lo, hi;
	char part[32];

	if (len == 0)
		return;
	out[0] = '\0';
	while (uidset_run(v, n, &i, &lo, &hi)) {
		int k = lo == hi ? snprintf(part, sizeof(part), "%s%u", used ? "," : "", lo)
				 : snprintf(part, sizeof(part), "%s%u:%u", used ? "," : "", lo, hi);

		/* keep room for ",..." and the NUL */
		if (used + (size_t)k + 5 > len) {
			snprintf(out + used, len - used, "%s...", used ? "," : "");
			return;
		}
		memcpy(out + used, part, (size_t)k + 1);
		used += (size_t)k;
	}
}
