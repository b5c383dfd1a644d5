/* libFuzzer target for htmlsan_clean: no crash, no leak, linear time, and
 * the output always in our canonical form (allowed element and attribute
 * names only, every value double-quoted without '<' or '>', every element
 * closed in order).  The first byte picks the options. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "htmlsan.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fz_tags[] = {
	"a", "b", "big", "blockquote", "br", "caption", "center", "code", "col", "colgroup", "dd",
	"del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
	"ins", "li", "ol", "p", "pre", "s", "small", "span", "strike", "strong", "sub", "sup",
	"table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul",
};
static const char *const fz_attrs[] = {
	"align", "alt", "bgcolor", "border", "cellpadding", "cellspacing", "color", "colspan",
	"face", "height", "href", "rowspan", "size", "src", "style", "title", "valign", "width",
	"rel", "target",
};

static int fz_in(const char *const *l, size_t n, const char *s, size_t len)
{
	for (size_t k = 0; k < n; k++)
		if (strlen(l[k]) == len && memcmp(l[k], s, len) == 0)
			return 1;
	return 0;
}

static int fz_cid(void *arg, const char *id, size_t len, struct buf *out)
{
	(void)arg;
	if (len > 0 && id[0] == 'x')
		return 0;
	if (buf_append_str(out, "/api/messages/1/cid/") < 0 || htmlsan_url_encode(out, id, len) < 0)
		return -1;
	return 1;
}

/* a start tag at s; its end or NULL */
static const char *fz_start(const char *s, const char **name, size_t *nlen)
{
	const char *q = s + 1;

	*name = q;
	while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9'))
		q++;
	*nlen = (size_t)(q - *name);
	if (!fz_in(fz_tags, sizeof(fz_tags) / sizeof(fz_tags[0]), *name, *nlen))
		return NULL;
	while (*q == ' ') {
		const char *an = ++q, *v;

		while (*q >= 'a' && *q <= 'z')
			q++;
		if (!fz_in(fz_attrs, sizeof(fz_attrs) / sizeof(fz_attrs[0]), an, (size_t)(q - an)) ||
		    q[0] != '=' || q[1] != '"')
			return NULL;
		v = q + 2;
		if ((q = strchr(v, '"')) == NULL || memchr(v, '<', (size_t)(q - v)) ||
		    memchr(v, '>', (size_t)(q - v)))
			return NULL;
		q++;
	}
	return *q == '>' ? q + 1 : NULL;
}

static void fz_check(const char *s)
{
	static const char *stack[1100];
	static size_t len[1100];
	size_t depth = 0;

	while (*s) {
		const char *name;
		size_t nlen;

		if (*s == '>')
			abort();
		if (*s != '<') {
			s++;
			continue;
		}
		if (s[1] == '/') {
			if (depth == 0 || strncmp(s + 2, stack[depth - 1], len[depth - 1]) != 0 ||
			    s[2 + len[depth - 1]] != '>')
				abort();
			s += 3 + len[--depth];
			continue;
		}
		if ((s = fz_start(s, &name, &nlen)) == NULL)
			abort();
		if (!(nlen == 2 && (!memcmp(name, "br", 2) || !memcmp(name, "hr", 2))) &&
		    !(nlen == 3 && (!memcmp(name, "img", 3) || !memcmp(name, "col", 3)))) {
			if (depth == 1100)
				abort();
			stack[depth] = name, len[depth++] = nlen;
		}
	}
	if (depth != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct htmlsan_opts o = { .cid = fz_cid };
	struct pool *p;
	struct buf out;

	if (size == 0)
		return 0;
	o.remote_images = data[0] & 1;
	o.max_depth = data[0] & 2 ? 5 : 0;
	o.max_elements = data[0] & 4 ? 7 : 0;
	p = pool_create(0);
	buf_init(&out, data[0] & 8 ? 200 : 1 << 20);
	if (htmlsan_clean(p, (const char *)data + 1, size - 1, &o, &out, NULL) == 0)
		fz_check(out.data ? out.data : "");
	buf_free(&out);
	pool_destroy(p);
	return 0;
}
