/* mime_html: HTML to readable text.  See mime_html.h.
 *
 * Every search moves forward only: an unterminated tag, comment or
 * script ends the text there (as a browser shows nothing after it),
 * so "<<<<" or "<script>" without its end stay linear. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "mime_header.h"
#include "mime_html.h"
#include "pool.h"
#include "utf8.h"

#define MIME_HTML_TAG_MAX 16

struct mime_html_out {
	struct mime_header_sb sb;
	size_t max;
	int line_start; /* nothing on the current line yet */
	int nl;         /* newlines in a row at the end */
	int space;      /* a collapsed blank is pending */
	int pre;        /* inside <pre> */
	int full;
};

static const char *const mime_html_blocks[] = {
	"p", "div", "tr", "li", "ul", "ol", "table", "blockquote", "pre", "hr", "h1", "h2", "h3",
	"h4", "h5", "h6", "dl", "dt", "dd", "section", "article", "header", "footer", "nav",
	"aside", "form", "fieldset", "address", "center", "tbody", "thead", "tfoot", "caption",
	"main", "figure", "figcaption", "body", "html",
};

static const char *const mime_html_skip[] = { "script", "style", "title", "noscript", "template" };

static const struct {
	const char *name;
	const char *utf8;
} mime_html_entities[] = {
	{ "amp", "&" },      { "lt", "<" },        { "gt", ">" },        { "quot", "\"" },
	{ "apos", "'" },     { "nbsp", " " },      { "copy", "©" },      { "reg", "®" },
	{ "yen", "¥" },      { "hellip", "…" },    { "mdash", "—" },     { "ndash", "–" },
	{ "laquo", "«" },    { "raquo", "»" },     { "ldquo", "“" },     { "rdquo", "”" },
	{ "lsquo", "‘" },    { "rsquo", "’" },     { "times", "×" },     { "divide", "÷" },
	{ "middot", "·" },   { "trade", "™" },     { "bull", "•" },      { "euro", "€" },
	{ "pound", "£" },    { "cent", "¢" },      { "sect", "§" },      { "deg", "°" },
	{ "plusmn", "±" },   { "para", "¶" },      { "larr", "←" },      { "rarr", "→" },
	{ "uarr", "↑" },     { "darr", "↓" },      { "ensp", " " },      { "emsp", " " },
	{ "thinsp", " " },   { "zwnj", "" },       { "zwj", "" },        { "shy", "" },
};

static int mime_html_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

static void mime_html_put(struct mime_html_out *o, const char *s, size_t n)
{
	if (o->full || n == 0)
		return;
	if (o->max != 0 && o->sb.len + n + 1 > o->max) {
		o->full = 1;
		return;
	}
	if (o->space && !o->line_start)
		mime_header_sb_putc(&o->sb, ' ');
	o->space = 0;
	mime_header_sb_put(&o->sb, s, n);
	o->line_start = 0;
	o->nl = 0;
}

static void mime_html_newline(struct mime_html_out *o, int hard)
{
	if (o->full)
		return;
	o->space = 0;
	while (o->sb.len > 0 && o->sb.s[o->sb.len - 1] == ' ')
		o->sb.s[--o->sb.len] = '\0';
	/* what is really at the end now that blanks are gone */
	o->nl = 0;
	while ((size_t)o->nl < o->sb.len && o->nl < 2 && o->sb.s[o->sb.len - 1 - (size_t)o->nl] == '\n')
		o->nl++;
	if (o->nl > 0)
		o->line_start = 1;
	if ((!hard && o->line_start) || o->nl >= 2 || o->sb.len == 0) {
		o->line_start = 1;
		return;
	}
	mime_header_sb_putc(&o->sb, '\n');
	o->nl++;
	o->line_start = 1;
}

/* &#123; &#x7B; */
static size_t mime_html_numeric(struct mime_html_out *o, const char *s, size_t n)
{
	size_t i = 2;
	uint32_t c = 0;
	int hex = i < n && (s[i] == 'x' || s[i] == 'X'), digits = 0;
	char u[4];

	i += (size_t)hex;
	for (; i < n && digits < 8; i++, digits++) {
		unsigned char d = (unsigned char)s[i];
		int v = d >= '0' && d <= '9' ? d - '0'
			: hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
			: hex && d >= 'A' && d <= 'F' ? d - 'A' + 10
						      : -1;
		if (v < 0)
			break;
		c = c * (hex ? 16 : 10) + (uint32_t)v;
	}
	if (digits == 0)
		return 0;
	if (c == 0xA0)
		c = ' ';
	mime_html_put(o, u, utf8_encode(u, c));
	return i < n && s[i] == ';' ? i + 1 : i;
}

/* an entity at s[0] == '&': bytes consumed, or 0 if none (a literal '&') */
static size_t mime_html_entity(struct mime_html_out *o, const char *s, size_t n)
{
	size_t k = 1;

	if (n > 2 && s[1] == '#')
		return mime_html_numeric(o, s, n);
	while (k < n && k < 10 && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')))
		k++;
	if (k < 3)
		return 0; /* no entity name is shorter than two letters */
	for (size_t i = 0; i < sizeof(mime_html_entities) / sizeof(mime_html_entities[0]); i++) {
		size_t l = strlen(mime_html_entities[i].name);

		if (l == k - 1 && strncmp(s + 1, mime_html_entities[i].name, l) == 0) {
			const char *u = mime_html_entities[i].utf8;

			mime_html_put(o, u, strlen(u));
			return k < n && s[k] == ';' ? k + 1 : k;
		}
	}
	return 0;
}

static int mime_html_in(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return 1;
	return 0;
}

/* the end of "</name ...>" from s, or NULL */
static const char *mime_html_close(const char *s, const char *e, const char *name)
{
	size_t l = strlen(name);

	while ((s = memchr(s, '<', (size_t)(e - s))) != NULL) {
		if ((size_t)(e - s) > l + 2 && s[1] == '/' && strncasecmp(s + 2, name, l) == 0) {
			const char *gt = memchr(s, '>', (size_t)(e - s));

			return gt != NULL ? gt + 1 : e;
		}
		s++;
	}
	return NULL;
}

/* a tag at s (s[0] == '<'); returns where to go on, or NULL to stop */
static const char *mime_html_tag(struct mime_html_out *o, const char *s, const char *e)
{
	char name[MIME_HTML_TAG_MAX + 1];
	const char *p = s + 1, *gt;
	int closing = p < e && *p == '/';
	size_t k = 0;

	if (e - s >= 4 && memcmp(s, "<!--", 4) == 0) {
		const char *end = memmem(s + 4, (size_t)(e - s - 4), "-->", 3);

		return end != NULL ? end + 3 : NULL;
	}
	p += closing;
	while (p < e && k < MIME_HTML_TAG_MAX &&
	       ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
		name[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p), p++;
	name[k] = '\0';
	if (k == 0 && p < e && *p != '!' && *p != '?') {
		mime_html_put(o, "<", 1); /* "a < b": text */
		return s + 1;
	}
	if ((gt = memchr(p, '>', (size_t)(e - p))) == NULL)
		return NULL;
	if (!closing && mime_html_in(name, mime_html_skip, sizeof(mime_html_skip) / sizeof(char *)))
		return mime_html_close(gt + 1, e, name);
	if (strcmp(name, "br") == 0)
		mime_html_newline(o, 1);
	else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
		o->space = 1;
	else if (mime_html_in(name, mime_html_blocks, sizeof(mime_html_blocks) / sizeof(char *)))
		mime_html_newline(o, 0);
	if (strcmp(name, "pre") == 0)
		o->pre = !closing;
	return gt + 1;
}

static const char *mime_html_text(struct mime_html_out *o, const char *s, const char *e)
{
	const char *t = s;

	while (t < e && *t != '<' && *t != '&' && (o->pre || !mime_html_ws((unsigned char)*t)))
		t++;
	if (t > s) {
		if (!o->pre) {
			mime_html_put(o, s, (size_t)(t - s));
			return t;
		}
		/* <pre>: line by line, blanks kept */
		for (const char *l = s; l < t;) {
			const char *nl = memchr(l, '\n', (size_t)(t - l));
			const char *le = nl != NULL ? nl : t;

			if (le > l && le[-1] == '\r')
				le--;
			mime_html_put(o, l, (size_t)(le - l));
			if (nl == NULL)
				break;
			mime_html_newline(o, 1);
			l = nl + 1;
		}
		return t;
	}
	if (*s == '&') {
		size_t used = mime_html_entity(o, s, (size_t)(e - s));

		if (used == 0)
			mime_html_put(o, "&", 1);
		return s + (used > 0 ? used : 1);
	}
	/* a blank outside <pre> */
	o->space = 1;
	return s + 1;
}

char *mime_html_to_text(struct pool *p, const char *html, size_t n, size_t max)
{
	struct mime_html_out o = { .max = max, .line_start = 1 };
	const char *s = html, *e = html + n;

	mime_header_sb_init(&o.sb, p);
	while (s != NULL && s < e && !o.full)
		s = *s == '<' ? mime_html_tag(&o, s, e) : mime_html_text(&o, s, e);
	while (o.sb.len > 0 && (o.sb.s[o.sb.len - 1] == '\n' || o.sb.s[o.sb.len - 1] == ' '))
		o.sb.s[--o.sb.len] = '\0';
	return mime_header_sb_str(&o.sb);
}
