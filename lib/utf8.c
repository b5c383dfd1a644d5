#include <stdint.h>
#include <string.h>

#include "pool.h"
#include "utf8.h"

/* length of the valid sequence at s (1-4), or 0 if invalid; rejects
 * overlong forms, surrogates and code points past U+10FFFF (RFC 3629) */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return left >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (left < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (left < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

size_t utf8_decode(const char *s, size_t left, uint32_t *c)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = left > 0 ? utf8_seq(p, left) : 0;

	if (n == 1)
		*c = p[0];
	else if (n == 2)
		*c = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	else if (n == 3)
		*c = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	else if (n == 4)
		*c = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
		     (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
	return n;
}

int utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x80 && p[i] != 0) {
			i++;
			continue;
		}
		n = utf8_seq(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

const char *utf8_clean(struct pool *pl, const char *s, size_t len, int *replaced)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o;
	size_t i = 0, n;

	if (replaced != NULL)
		*replaced = 0;
	if (utf8_valid(s, len))
		return s;
	/* each bad byte becomes 3 bytes at most */
	if (len > (SIZE_MAX - 1) / 3 || (out = pool_alloc(pl, len * 3 + 1)) == NULL)
		return NULL;
	o = out;
	while (i < len) {
		n = utf8_seq(p + i, len - i);
		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(o, p + i, n);
		o += n;
		i += n;
	}
	*o = '\0';
	if (replaced != NULL)
		*replaced = 1;
	return out;
}

size_t utf8_encode(char *d, uint32_t c)
{
	if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		c = 0xFFFD;
	if (c < 0x80) {
		d[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		d[0] = (char)(0xC0 | (c >> 6));
		d[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		d[0] = (char)(0xE0 | (c >> 12));
		d[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		d[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	d[0] = (char)(0xF0 | (c >> 18));
	d[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	d[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	d[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}
