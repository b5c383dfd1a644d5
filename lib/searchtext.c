/* searchtext: see searchtext.h.  Distinct grams are kept in an open
 * addressing set of (offset, length) into the text itself, so the work is
 * one pass and one output buffer whatever the text. */
#include <stdint.h>
#include <string.h>

#include "pool.h"
#include "searchtext.h"

struct searchtext_set {
	uint32_t *off;   /* offset + 1 into the text; 0 = empty slot */
	uint8_t *len;
	size_t cap, n;
};

/* bytes in the UTF-8 sequence that starts with c (the text is valid) */
static size_t searchtext_seqlen(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xF0)
		return 4;
	if (c >= 0xE0)
		return 3;
	return 2;
}

static uint32_t searchtext_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* 1 if added, 0 if already there */
static int searchtext_add(struct searchtext_set *set, const char *text, size_t off, size_t len)
{
	size_t i = searchtext_hash(text + off, len) & (set->cap - 1);

	while (set->off[i] != 0) {
		if (set->len[i] == len && memcmp(text + set->off[i] - 1, text + off, len) == 0)
			return 0;
		i = (i + 1) & (set->cap - 1);
	}
	set->off[i] = (uint32_t)off + 1;
	set->len[i] = (uint8_t)len;
	set->n++;
	return 1;
}

static int searchtext_emit(struct searchtext_set *set, const char *text, size_t off, size_t len,
			   char *out, size_t *used)
{
	if (!searchtext_add(set, text, off, len))
		return 0;
	if (*used > 0)
		out[(*used)++] = '\n';
	memcpy(out + *used, text + off, len);
	*used += len;
	return 1;
}

int searchtext_grams(struct pool *p, const char *folded, enum searchtext_mode mode, char **out,
		     size_t *count)
{
	size_t n = strlen(folded), used = 0, i = 0, chars = 0;
	struct searchtext_set set = { 0 };
	char *o;

	/* at most one character and one pair per position: grams of at
	 * most 3n bytes and 2n separators; a set at most half full */
	for (set.cap = 16; set.cap < 4 * n + 16; set.cap <<= 1)
		;
	if (n >= UINT32_MAX || (set.off = pool_zalloc(p, set.cap * sizeof(*set.off))) == NULL ||
	    (set.len = pool_zalloc(p, set.cap * sizeof(*set.len))) == NULL ||
	    (o = pool_alloc(p, 5 * n + 2)) == NULL)
		return -1;
	for (size_t k = 0; k < n; k += searchtext_seqlen((unsigned char)folded[k]))
		chars += folded[k] != ' ';
	while (i < n) {
		size_t a = searchtext_seqlen((unsigned char)folded[i]), b;

		if (folded[i] == ' ') {
			i++;
			continue;
		}
		if (mode == SEARCHTEXT_DOCUMENT || chars == 1)
			searchtext_emit(&set, folded, i, a, o, &used);
		if (i + a < n && folded[i + a] != ' ') {
			b = searchtext_seqlen((unsigned char)folded[i + a]);
			searchtext_emit(&set, folded, i, a + b, o, &used);
		}
		i += a;
	}
	o[used] = '\0';
	*out = o;
	*count = set.n;
	return 0;
}
