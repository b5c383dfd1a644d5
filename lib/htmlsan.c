/* htmlsan: see htmlsan.h for the contract.
 *
 * Design.  The tokenizer follows the HTML5 tokenizer where it decides
 * what is a tag and where a tag ends: a '<' starts markup only before a
 * letter, '/', '!' or '?'; attribute names end at blanks, '/', '>' or '=';
 * values are double-quoted, single-quoted or run to a blank or '>'; "<!--"
 * runs to "-->" or "--!>"; other "<!", "<?" and "</" + non-letter run to
 * the next '>'; the contents of script, style, iframe, textarea, title,
 * xmp, noembed, noframes and noscript run to their own end tag.  At the
 * end of the input an unfinished tag or comment is dropped, as a browser
 * drops it.
 *
 * Then each token is judged:
 *   text            references in it normalised, '<' '>' '&' escaped;
 *   allowed element written with the allowed attributes whose decoded
 *                   value passes its check, the value re-escaped;
 *   raw-text element dropped with its contents (see above);
 *   svg, math, object, template, select, video, audio, canvas, applet,
 *   frameset        dropped with their contents ("skip" mode counts their
 *                   nesting; in svg and math an HTML element such as <p>
 *                   ends it, as in a browser's foreign content);
 *   any other tag   dropped, its contents kept (html, body, form, button,
 *                   o:p, section ...).
 * Open elements are a stack; an end tag closes up to its element if it is
 * open (an O(1) test: a count per element), else it is ignored; a few
 * implicit ends (p, li, td, tr ...) keep tables and lists as a browser
 * builds them; the end of input closes everything.  The output budget
 * keeps 16 bytes per open element for its end tag, so the closing tags
 * always fit. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "htmlsan.h"
#include "pool.h"
#include "utf8.h"

#define HS_NAME_MAX 16            /* longer element/attribute names are unknown */
#define HS_ATTRS_MAX 24           /* allowed attributes kept per tag */
#define HS_DEPTH_LIMIT 1000       /* ceiling of opts.max_depth */
#define HS_CLOSE_RESERVE 16       /* output kept free per open element */
#define HS_TEXT_ATTR_MAX 1024     /* alt and title: bytes kept */
#define HS_HREF_MAX 8192          /* longer links are dropped */
#define HS_SRC_MAX (4u << 20)     /* longer image sources (data:) are dropped */
#define HS_STYLE_MAX 4096         /* longer style attributes are dropped */
#define HS_REF_NAME_MAX 32        /* longest character reference name looked at */

enum {
	HS_ALLOW = 1,    /* written */
	HS_VOID = 2,     /* no end tag */
	HS_RAW = 4,      /* raw text up to its own end tag, dropped */
	HS_SKIP = 8,     /* dropped with its contents */
	HS_BREAKOUT = 16, /* ends svg/math foreign content */
	HS_FOREIGN = 32, /* svg, math: "/>" closes them */
};

/* sorted by name (bsearch) */
static const struct hs_elem {
	const char *name;
	unsigned flags;
} hs_elems[] = {
	{ "a", HS_ALLOW },
	{ "applet", HS_SKIP },
	{ "audio", HS_SKIP },
	{ "b", HS_ALLOW | HS_BREAKOUT },
	{ "base", HS_VOID },
	{ "basefont", HS_VOID },
	{ "bgsound", HS_VOID },
	{ "big", HS_ALLOW | HS_BREAKOUT },
	{ "blockquote", HS_ALLOW | HS_BREAKOUT },
	{ "body", HS_BREAKOUT },
	{ "br", HS_ALLOW | HS_VOID | HS_BREAKOUT },
	{ "canvas", HS_SKIP },
	{ "caption", HS_ALLOW },
	{ "center", HS_ALLOW | HS_BREAKOUT },
	{ "code", HS_ALLOW | HS_BREAKOUT },
	{ "col", HS_ALLOW | HS_VOID },
	{ "colgroup", HS_ALLOW },
	{ "dd", HS_ALLOW | HS_BREAKOUT },
	{ "del", HS_ALLOW },
	{ "div", HS_ALLOW | HS_BREAKOUT },
	{ "dl", HS_ALLOW | HS_BREAKOUT },
	{ "dt", HS_ALLOW | HS_BREAKOUT },
	{ "em", HS_ALLOW | HS_BREAKOUT },
	{ "embed", HS_VOID | HS_BREAKOUT },
	{ "font", HS_ALLOW | HS_BREAKOUT },
	{ "frame", HS_VOID },
	{ "frameset", HS_SKIP },
	{ "h1", HS_ALLOW | HS_BREAKOUT },
	{ "h2", HS_ALLOW | HS_BREAKOUT },
	{ "h3", HS_ALLOW | HS_BREAKOUT },
	{ "h4", HS_ALLOW | HS_BREAKOUT },
	{ "h5", HS_ALLOW | HS_BREAKOUT },
	{ "h6", HS_ALLOW | HS_BREAKOUT },
	{ "head", HS_BREAKOUT },
	{ "hr", HS_ALLOW | HS_VOID | HS_BREAKOUT },
	{ "i", HS_ALLOW | HS_BREAKOUT },
	{ "iframe", HS_RAW },
	{ "img", HS_ALLOW | HS_VOID | HS_BREAKOUT },
	{ "input", HS_VOID },
	{ "ins", HS_ALLOW },
	{ "keygen", HS_VOID },
	{ "li", HS_ALLOW | HS_BREAKOUT },
	{ "link", HS_VOID },
	{ "listing", HS_BREAKOUT },
	{ "math", HS_SKIP | HS_FOREIGN },
	{ "menu", HS_BREAKOUT },
	{ "meta", HS_VOID | HS_BREAKOUT },
	{ "nobr", HS_BREAKOUT },
	{ "noembed", HS_RAW },
	{ "noframes", HS_RAW },
	{ "noscript", HS_RAW },
	{ "object", HS_SKIP },
	{ "ol", HS_ALLOW | HS_BREAKOUT },
	{ "p", HS_ALLOW | HS_BREAKOUT },
	{ "param", HS_VOID },
	{ "plaintext", HS_RAW },
	{ "pre", HS_ALLOW | HS_BREAKOUT },
	{ "ruby", HS_BREAKOUT },
	{ "s", HS_ALLOW | HS_BREAKOUT },
	{ "script", HS_RAW },
	{ "select", HS_SKIP },
	{ "small", HS_ALLOW | HS_BREAKOUT },
	{ "source", HS_VOID },
	{ "span", HS_ALLOW | HS_BREAKOUT },
	{ "strike", HS_ALLOW | HS_BREAKOUT },
	{ "strong", HS_ALLOW | HS_BREAKOUT },
	{ "style", HS_RAW },
	{ "sub", HS_ALLOW | HS_BREAKOUT },
	{ "sup", HS_ALLOW | HS_BREAKOUT },
	{ "svg", HS_SKIP | HS_FOREIGN },
	{ "table", HS_ALLOW | HS_BREAKOUT },
	{ "tbody", HS_ALLOW },
	{ "td", HS_ALLOW },
	{ "template", HS_SKIP },
	{ "textarea", HS_RAW },
	{ "tfoot", HS_ALLOW },
	{ "th", HS_ALLOW },
	{ "thead", HS_ALLOW },
	{ "title", HS_RAW },
	{ "tr", HS_ALLOW },
	{ "track", HS_VOID },
	{ "tt", HS_ALLOW | HS_BREAKOUT },
	{ "u", HS_ALLOW | HS_BREAKOUT },
	{ "ul", HS_ALLOW | HS_BREAKOUT },
	{ "var", HS_BREAKOUT },
	{ "video", HS_SKIP },
	{ "wbr", HS_VOID },
	{ "xmp", HS_RAW },
};
#define HS_NELEMS (sizeof(hs_elems) / sizeof(hs_elems[0]))

/* how an attribute value is checked */
enum hs_check {
	HS_C_KEYWORD, /* align, valign: one word */
	HS_C_TEXT,    /* alt, title: any text, length-capped */
	HS_C_COLOR,   /* #hex or a colour name */
	HS_C_NUM,     /* digits */
	HS_C_LEN,     /* digits with % or px */
	HS_C_FONTSIZE, /* <font size>: [+-]1..7 */
	HS_C_FACE,    /* <font face>: font names */
	HS_C_HREF,    /* <a href>: http, https, mailto */
	HS_C_SRC,     /* <img src>: cid:, data:image, http(s) */
	HS_C_STYLE,   /* CSS declarations */
};

/* sorted by name; the index is the attribute's bit in hs_tag.seen */
static const struct hs_attr_def {
	const char *name;
	enum hs_check check;
} hs_attr_defs[] = {
	{ "align", HS_C_KEYWORD },   { "alt", HS_C_TEXT },       { "bgcolor", HS_C_COLOR },
	{ "border", HS_C_NUM },      { "cellpadding", HS_C_NUM }, { "cellspacing", HS_C_NUM },
	{ "color", HS_C_COLOR },     { "colspan", HS_C_NUM },    { "face", HS_C_FACE },
	{ "height", HS_C_LEN },      { "href", HS_C_HREF },      { "rowspan", HS_C_NUM },
	{ "size", HS_C_FONTSIZE },   { "src", HS_C_SRC },        { "style", HS_C_STYLE },
	{ "title", HS_C_TEXT },      { "valign", HS_C_KEYWORD }, { "width", HS_C_LEN },
};
#define HS_NATTRS (sizeof(hs_attr_defs) / sizeof(hs_attr_defs[0]))

/* named character references decoded in attribute values (text passes
 * well-formed ones through as they are); sorted by strcmp */
static const struct hs_ref {
	const char *name, *utf8;
} hs_refs[] = {
	{ "AMP", "&" },      { "GT", ">" },       { "LT", "<" },       { "NewLine", "\n" },
	{ "QUOT", "\"" },    { "Tab", "\t" },     { "amp", "&" },      { "apos", "'" },
	{ "ast", "*" },      { "bsol", "\\" },    { "bull", "\xe2\x80\xa2" },
	{ "cent", "\xc2\xa2" }, { "colon", ":" }, { "comma", "," },    { "copy", "\xc2\xa9" },
	{ "darr", "\xe2\x86\x93" }, { "deg", "\xc2\xb0" }, { "divide", "\xc3\xb7" },
	{ "dollar", "$" },   { "emsp", "\xe2\x80\x83" }, { "ensp", "\xe2\x80\x82" },
	{ "equals", "=" },   { "euro", "\xe2\x82\xac" }, { "excl", "!" }, { "grave", "`" },
	{ "gt", ">" },       { "hellip", "\xe2\x80\xa6" }, { "laquo", "\xc2\xab" },
	{ "larr", "\xe2\x86\x90" }, { "lbrack", "[" }, { "lcub", "{" },
	{ "ldquo", "\xe2\x80\x9c" }, { "lowbar", "_" }, { "lpar", "(" },
	{ "lsquo", "\xe2\x80\x98" }, { "lt", "<" }, { "mdash", "\xe2\x80\x94" },
	{ "middot", "\xc2\xb7" }, { "nbsp", "\xc2\xa0" }, { "ndash", "\xe2\x80\x93" },
	{ "num", "#" },      { "para", "\xc2\xb6" }, { "percnt", "%" }, { "period", "." },
	{ "plus", "+" },     { "plusmn", "\xc2\xb1" }, { "pound", "\xc2\xa3" }, { "quest", "?" },
	{ "quot", "\"" },    { "raquo", "\xc2\xbb" }, { "rarr", "\xe2\x86\x92" }, { "rbrack", "]" },
	{ "rcub", "}" },     { "rdquo", "\xe2\x80\x9d" }, { "reg", "\xc2\xae" }, { "rpar", ")" },
	{ "rsquo", "\xe2\x80\x99" }, { "sect", "\xc2\xa7" }, { "semi", ";" },
	{ "shy", "\xc2\xad" }, { "sol", "/" },    { "thinsp", "\xe2\x80\x89" },
	{ "times", "\xc3\x97" }, { "trade", "\xe2\x84\xa2" }, { "uarr", "\xe2\x86\x91" },
	{ "verbar", "|" },   { "vert", "|" },     { "yen", "\xc2\xa5" }, { "zwj", "\xe2\x80\x8d" },
	{ "zwnj", "\xe2\x80\x8c" },
};

/* the references without ';' that browsers still decode (a few of them) */
static const char *const hs_legacy_refs[] = { "amp", "lt", "gt", "quot", "nbsp", "copy", "reg",
					       "AMP", "LT", "GT", "QUOT" };

/* numeric references 0x80..0x9F mean windows-1252 (HTML5) */
static const uint16_t hs_cp1252[32] = {
	0x20ac, 0xfffd, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
	0x2039, 0x0152, 0xfffd, 0x017d, 0xfffd, 0xfffd, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
	0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffd, 0x017e, 0x0178,
};

struct hs_attr {
	int def; /* index in hs_attr_defs */
	const char *v;
	size_t vlen;
};

struct hs_tag {
	int end, self_closing;
	int elem; /* index in hs_elems, -1 for an unknown name */
	struct hs_attr a[HS_ATTRS_MAX];
	size_t na;
	uint32_t seen; /* bit per hs_attr_defs entry: the first occurrence wins */
};

struct hs {
	const char *s;
	size_t n, i;
	const struct htmlsan_opts *o;
	struct htmlsan_stats *st;
	struct buf *out;
	struct buf tmp; /* an attribute value, decoded */
	struct buf aux; /* a rewritten style; a cid */
	unsigned char stack[HS_DEPTH_LIMIT];
	size_t depth, max_depth, max_elements;
	size_t open[HS_NELEMS]; /* how many of each element are on the stack */
	int skip;               /* element whose contents are dropped, -1 none */
	size_t skip_depth;
	int over; /* an append failed (the buffer's maximum) */
	int full; /* the output limit was reached: stop */
};

/* ---- small helpers ---- */

static int hs_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int hs_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hs_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int hs_alnum(unsigned char c)
{
	return hs_alpha(c) || hs_digit(c);
}

static unsigned char hs_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* s[0..n) equals lower[0..n) but for ASCII case */
static int hs_ieq(const char *s, const char *lower, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (hs_lower((unsigned char)s[k]) != (unsigned char)lower[k])
			return 0;
	return 1;
}

/* s[0..n) lowercased into d (room for HS_NAME_MAX + 1); 0 if too long */
static int hs_lower_name(char *d, const char *s, size_t n)
{
	if (n == 0 || n > HS_NAME_MAX)
		return 0;
	for (size_t k = 0; k < n; k++)
		d[k] = (char)hs_lower((unsigned char)s[k]);
	d[n] = '\0';
	return 1;
}

static int hs_cmp_elem(const void *key, const void *e)
{
	return strcmp(key, ((const struct hs_elem *)e)->name);
}

static int hs_elem_index(const char *name)
{
	const struct hs_elem *e = bsearch(name, hs_elems, HS_NELEMS, sizeof(hs_elems[0]), hs_cmp_elem);

	return e ? (int)(e - hs_elems) : -1;
}

static int hs_cmp_attr(const void *key, const void *e)
{
	return strcmp(key, ((const struct hs_attr_def *)e)->name);
}

static int hs_cmp_ref(const void *key, const void *e)
{
	return strcmp(key, ((const struct hs_ref *)e)->name);
}

/* ---- output ---- */

/* bytes still free for anything but the end tags of open elements */
static size_t hs_room(const struct hs *h)
{
	size_t used = h->out->len + h->depth * HS_CLOSE_RESERVE;

	return used >= h->out->max ? 0 : h->out->max - used;
}

static void hs_put(struct hs *h, const char *p, size_t n)
{
	if (!h->over && buf_append(h->out, p, n) < 0)
		h->over = 1;
}

static void hs_puts(struct hs *h, const char *s)
{
	hs_put(h, s, strlen(s));
}

/* keep what was written since mark if it fits with `push` more elements
 * open; else take it back and stop */
static void hs_rollback(struct hs *h, size_t mark)
{
	h->over = 0;
	h->out->len = mark;
	if (h->out->data != NULL)
		h->out->data[mark] = '\0';
}

static int hs_commit(struct hs *h, size_t mark, size_t push)
{
	if (!h->over && h->out->len + (h->depth + push) * HS_CLOSE_RESERVE <= h->out->max)
		return 1;
	hs_rollback(h, mark);
	h->full = 1;
	return 0;
}

/* text bytes, cut at a character boundary when the room runs out */
static void hs_put_text(struct hs *h, const char *p, size_t n)
{
	size_t room = hs_room(h);

	if (h->full)
		return;
	if (n > room) {
		n = room;
		while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
			n--;
		h->full = 1;
	}
	hs_put(h, p, n);
	if (h->over)
		h->full = 1;
}

/* s[0..n) escaped for a double-quoted attribute value */
static void hs_put_attr_value(struct hs *h, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t k = 0; k < n; k++) {
		const char *rep;

		switch (s[k]) {
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		default: continue;
		}
		hs_put(h, s + run, k - run);
		hs_puts(h, rep);
		run = k + 1;
	}
	hs_put(h, s + run, n - run);
}

/* ---- character references ---- */

/* the code point of a numeric reference as HTML5 maps it */
static uint32_t hs_numeric_cp(uint32_t v, int overflow)
{
	if (overflow || v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0xfffd;
	if (v >= 0x80 && v <= 0x9f)
		return hs_cp1252[v - 0x80];
	return v;
}

/* "&#..." at s[0..n): bytes used (0 if not a reference), UTF-8 into u8 */
static size_t hs_ref_numeric(const char *s, size_t n, char *u8, size_t *u8len)
{
	size_t k = 2, start;
	int hex = 0, overflow = 0;
	uint32_t v = 0;

	if (k < n && (s[k] == 'x' || s[k] == 'X'))
		hex = 1, k++;
	start = k;
	for (; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		uint32_t d;

		if (hs_digit(c))
			d = c - '0';
		else if (hex && hs_lower(c) >= 'a' && hs_lower(c) <= 'f')
			d = (uint32_t)(hs_lower(c) - 'a' + 10);
		else
			break;
		if (v > 0x10ffff)
			overflow = 1;
		else
			v = v * (hex ? 16 : 10) + d;
	}
	if (k == start)
		return 0;
	if (k < n && s[k] == ';')
		k++;
	*u8len = utf8_encode(u8, hs_numeric_cp(v, overflow));
	return k;
}

/* A reference at s[0] == '&'.  Returns the bytes it spans, 0 when it is
 * no reference (a literal '&').  *u8 gets its decoded UTF-8, or NULL with
 * *verbatim = 1 for a well-formed "&name;" we do not know. */
static size_t hs_ref(const char *s, size_t n, char *buf, const char **u8, size_t *u8len,
		     int *verbatim)
{
	char name[HS_REF_NAME_MAX + 1];
	size_t k = 1;
	const struct hs_ref *r;

	*verbatim = 0;
	if (n > 1 && s[1] == '#') {
		*u8 = buf;
		return hs_ref_numeric(s, n, buf, u8len);
	}
	while (k < n && k <= HS_REF_NAME_MAX && hs_alnum((unsigned char)s[k]))
		k++;
	if (k == 1 || k > HS_REF_NAME_MAX || (k < n && hs_alnum((unsigned char)s[k])))
		return 0;
	memcpy(name, s + 1, k - 1);
	name[k - 1] = '\0';
	if (k < n && s[k] == ';') {
		r = bsearch(name, hs_refs, sizeof(hs_refs) / sizeof(hs_refs[0]), sizeof(hs_refs[0]),
			    hs_cmp_ref);
		*u8 = r ? r->utf8 : NULL;
		*u8len = r ? strlen(r->utf8) : 0;
		*verbatim = r == NULL;
		return k + 1;
	}
	for (size_t j = 0; j < sizeof(hs_legacy_refs) / sizeof(hs_legacy_refs[0]); j++)
		if (strcmp(name, hs_legacy_refs[j]) == 0) {
			r = bsearch(name, hs_refs, sizeof(hs_refs) / sizeof(hs_refs[0]),
				    sizeof(hs_refs[0]), hs_cmp_ref);
			*u8 = r->utf8;
			*u8len = strlen(r->utf8);
			return k;
		}
	return 0;
}

/* ---- text ---- */

/* one reference in text at s[0] == '&'; bytes used */
static size_t hs_text_ref(struct hs *h, const char *s, size_t n)
{
	char buf[8];
	const char *u8;
	size_t len, used;
	int verbatim;

	used = hs_ref(s, n, buf, &u8, &len, &verbatim);
	if (used == 0) {
		hs_put_text(h, "&amp;", 5);
		return 1;
	}
	if (verbatim || (s[1] != '#' && s[used - 1] == ';'))
		hs_put_text(h, s, used); /* "&name;" in text: the browser decodes it or shows it */
	else if (len == 1 && (*u8 == '&' || *u8 == '<' || *u8 == '>'))
		hs_put_text(h, *u8 == '&' ? "&amp;" : *u8 == '<' ? "&lt;" : "&gt;", *u8 == '&' ? 5 : 4);
	else
		hs_put_text(h, u8, len);
	return used;
}

static void hs_text(struct hs *h, const char *s, size_t n)
{
	size_t run = 0, k = 0;

	if (h->skip >= 0)
		return;
	while (k < n && !h->full) {
		if (s[k] != '&' && s[k] != '>') {
			k++;
			continue;
		}
		hs_put_text(h, s + run, k - run);
		if (s[k] == '>') {
			hs_put_text(h, "&gt;", 4);
			k++;
		} else
			k += hs_text_ref(h, s + k, n - k);
		run = k;
	}
	if (!h->full)
		hs_put_text(h, s + run, n - run);
}

/* text that is shown as it is (after <plaintext>) */
static void hs_text_literal(struct hs *h, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t k = 0; k < n && !h->full; k++) {
		if (s[k] != '&' && s[k] != '<' && s[k] != '>')
			continue;
		hs_put_text(h, s + run, k - run);
		hs_put_text(h, s[k] == '&' ? "&amp;" : s[k] == '<' ? "&lt;" : "&gt;", s[k] == '&' ? 5 : 4);
		run = k + 1;
	}
	if (!h->full)
		hs_put_text(h, s + run, n - run);
}

/* ---- attribute values ---- */

/* v[0..n) with references decoded into h->tmp (NUL-terminated) */
static int hs_decode(struct hs *h, const char *v, size_t n)
{
	size_t run = 0, k = 0;
	int bad = 0;

	buf_reset(&h->tmp);
	while (k < n) {
		char buf[8];
		const char *u8;
		size_t len, used;
		int verbatim;

		if (v[k] != '&') {
			k++;
			continue;
		}
		bad |= buf_append(&h->tmp, v + run, k - run);
		used = hs_ref(v + k, n - k, buf, &u8, &len, &verbatim);
		if (used == 0 || verbatim) { /* unknown: the '&' is a letter */
			bad |= buf_append(&h->tmp, "&", 1);
			k++;
		} else {
			bad |= buf_append(&h->tmp, u8, len);
			k += used;
		}
		run = k;
	}
	bad |= buf_append(&h->tmp, v + run, n - run);
	return bad ? -1 : 0;
}

/* blanks off both ends of s[0..n) */
static void hs_trim(const char **s, size_t *n)
{
	while (*n > 0 && hs_ws((unsigned char)**s))
		(*s)++, (*n)--;
	while (*n > 0 && hs_ws((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* digits{1,6} then, if len, (.digits{1,3})? and % or px */
static int hs_check_number(char *s, size_t n, int len)
{
	size_t k = 0;

	while (k < n && hs_digit((unsigned char)s[k]))
		k++;
	if (k == 0 || k > 6)
		return -1;
	if (!len)
		return k == n ? 0 : -1;
	if (k < n && s[k] == '.') {
		size_t f = ++k;

		while (k < n && hs_digit((unsigned char)s[k]))
			k++;
		if (k == f || k - f > 3)
			return -1;
	}
	if (k == n || (n - k == 1 && s[k] == '%'))
		return 0;
	if (n - k == 2 && hs_lower((unsigned char)s[k]) == 'p' && hs_lower((unsigned char)s[k + 1]) == 'x') {
		s[k] = 'p', s[k + 1] = 'x';
		return 0;
	}
	return -1;
}

/* every byte of s[0..n) passes ok, and n is within 1..max */
static int hs_all(const char *s, size_t n, size_t max, int (*ok)(unsigned char))
{
	if (n == 0 || n > max)
		return -1;
	for (size_t k = 0; k < n; k++)
		if (!ok((unsigned char)s[k]))
			return -1;
	return 0;
}

static int hs_face_char(unsigned char c)
{
	return hs_alnum(c) || c >= 0x80 || c == ' ' || c == ',' || c == '-' || c == '_' || c == '.';
}

/* a colour: '#'? and letters or digits */
static int hs_check_color(const char *s, size_t n)
{
	if (n > 0 && s[0] == '#')
		s++, n--;
	return hs_all(s, n, 20, hs_alnum);
}

static int hs_check_fontsize(const char *s, size_t n)
{
	if (n > 0 && (s[0] == '+' || s[0] == '-'))
		s++, n--;
	return n == 1 && s[0] >= '1' && s[0] <= '7' ? 0 : -1;
}

/* keep at most max bytes of s, cut at a character boundary */
static size_t hs_cap_utf8(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* ---- URLs ---- */

/* The URL in b as a browser reads it: C0 controls and spaces off both
 * ends, tab, CR and LF taken out everywhere ("java\tscript:").  -1 if
 * another control character is left. */
static int hs_url_norm(struct buf *b)
{
	unsigned char *d = (unsigned char *)b->data;
	size_t start = 0, end = b->len, w = 0;

	while (start < end && d[start] <= 0x20)
		start++;
	while (end > start && d[end - 1] <= 0x20)
		end--;
	for (size_t r = start; r < end; r++) {
		if (d[r] == '\t' || d[r] == '\n' || d[r] == '\r')
			continue;
		if (d[r] < 0x20 || d[r] == 0x7f)
			return -1;
		d[w++] = d[r];
	}
	d[w] = '\0';
	b->len = w;
	return 0;
}

/* s starts with "<scheme>:" in any case */
static int hs_scheme(const char *s, size_t n, const char *scheme)
{
	size_t len = strlen(scheme);

	if (n <= len || s[len] != ':')
		return 0;
	for (size_t k = 0; k < len; k++)
		if (hs_lower((unsigned char)s[k]) != (unsigned char)scheme[k])
			return 0;
	return 1;
}

/* http://... or https://... */
static int hs_web_url(const char *s, size_t n)
{
	size_t k = hs_scheme(s, n, "http") ? 5 : hs_scheme(s, n, "https") ? 6 : 0;

	return k != 0 && n > k + 2 && s[k] == '/' && s[k + 1] == '/';
}

static int hs_check_href(struct buf *b)
{
	if (hs_url_norm(b) < 0)
		return -1;
	return hs_web_url(b->data, b->len) || hs_scheme(b->data, b->len, "mailto") ? 0 : -1;
}

static int hs_b64_char(unsigned char c)
{
	return hs_alnum(c) || c == '+' || c == '/' || c == '=';
}

/* data:image/(png|gif|jpeg|webp);base64,<base64>, rewritten in place
 * with the type lowercased and blanks taken out of the data */
static int hs_check_data_image(struct buf *b)
{
	static const char *const types[] = { "png", "gif", "jpeg", "webp" };
	char *d = b->data;
	const char *comma = memchr(d, ',', b->len);
	size_t hl, w;

	if (comma == NULL)
		return -1;
	hl = (size_t)(comma - d);
	for (size_t k = 0; k < hl; k++)
		d[k] = (char)hs_lower((unsigned char)d[k]);
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		char want[40];
		int wl = snprintf(want, sizeof(want), "data:image/%s;base64", types[t]);

		if ((size_t)wl != hl || memcmp(d, want, hl) != 0)
			continue;
		w = hl + 1;
		for (size_t r = hl + 1; r < b->len; r++) {
			if (d[r] == ' ')
				continue;
			if (!hs_b64_char((unsigned char)d[r]))
				return -1;
			d[w++] = d[r];
		}
		d[w] = '\0';
		b->len = w;
		return w > hl + 1 ? 0 : -1;
	}
	return -1;
}

/* ---- CSS in style attributes ---- */

enum hs_css_kind {
	HS_CSS_GEN,  /* numbers with units, words, #hex, rgb()/hsl() colours */
	HS_CSS_FONT, /* the same and font names (quoted, or not ASCII) */
	HS_CSS_SIZE, /* width, height: a number in px or %, or auto */
};

/* sorted by name */
static const struct hs_css_prop {
	const char *name;
	enum hs_css_kind kind;
} hs_css_props[] = {
	{ "background-color", HS_CSS_GEN }, { "border", HS_CSS_GEN },
	{ "border-bottom", HS_CSS_GEN }, { "border-bottom-color", HS_CSS_GEN },
	{ "border-bottom-style", HS_CSS_GEN }, { "border-bottom-width", HS_CSS_GEN },
	{ "border-collapse", HS_CSS_GEN }, { "border-color", HS_CSS_GEN },
	{ "border-left", HS_CSS_GEN }, { "border-left-color", HS_CSS_GEN },
	{ "border-left-style", HS_CSS_GEN }, { "border-left-width", HS_CSS_GEN },
	{ "border-radius", HS_CSS_GEN }, { "border-right", HS_CSS_GEN },
	{ "border-right-color", HS_CSS_GEN }, { "border-right-style", HS_CSS_GEN },
	{ "border-right-width", HS_CSS_GEN }, { "border-spacing", HS_CSS_GEN },
	{ "border-style", HS_CSS_GEN }, { "border-top", HS_CSS_GEN },
	{ "border-top-color", HS_CSS_GEN }, { "border-top-style", HS_CSS_GEN },
	{ "border-top-width", HS_CSS_GEN }, { "border-width", HS_CSS_GEN },
	{ "color", HS_CSS_GEN }, { "font", HS_CSS_FONT }, { "font-family", HS_CSS_FONT },
	{ "font-size", HS_CSS_GEN }, { "font-style", HS_CSS_GEN }, { "font-variant", HS_CSS_GEN },
	{ "font-weight", HS_CSS_GEN }, { "height", HS_CSS_SIZE }, { "line-height", HS_CSS_GEN },
	{ "margin", HS_CSS_GEN }, { "margin-bottom", HS_CSS_GEN }, { "margin-left", HS_CSS_GEN },
	{ "margin-right", HS_CSS_GEN }, { "margin-top", HS_CSS_GEN }, { "padding", HS_CSS_GEN },
	{ "padding-bottom", HS_CSS_GEN }, { "padding-left", HS_CSS_GEN },
	{ "padding-right", HS_CSS_GEN }, { "padding-top", HS_CSS_GEN },
	{ "text-align", HS_CSS_GEN }, { "text-decoration", HS_CSS_GEN },
	{ "text-indent", HS_CSS_GEN }, { "vertical-align", HS_CSS_GEN }, { "width", HS_CSS_SIZE },
};

static int hs_cmp_css(const void *key, const void *e)
{
	return strcmp(key, ((const struct hs_css_prop *)e)->name);
}

/* a number and its unit at s: bytes, 0 if none; *unit its unit (lowercase) */
static size_t hs_css_number(const char *s, size_t n, char unit[8])
{
	size_t k = 0, digits = 0, u;
	static const char *const units[] = { "", "px", "pt", "em", "rem", "ex", "ch", "pc",
					     "cm", "mm", "in", "%", "vw", "vh" };

	if (k < n && (s[k] == '+' || s[k] == '-'))
		k++;
	for (; k < n && hs_digit((unsigned char)s[k]); k++)
		digits++;
	if (k < n && s[k] == '.')
		for (k++; k < n && hs_digit((unsigned char)s[k]); k++)
			digits++;
	if (digits == 0 || digits > 12)
		return 0;
	for (u = 0; k + u < n && u < 4 && (hs_alpha((unsigned char)s[k + u]) || s[k + u] == '%'); u++)
		unit[u] = (char)hs_lower((unsigned char)s[k + u]);
	unit[u] = '\0';
	if (k + u < n && (hs_alnum((unsigned char)s[k + u]) || s[k + u] == '%'))
		return 0;
	for (size_t j = 0; j < sizeof(units) / sizeof(units[0]); j++)
		if (strcmp(unit, units[j]) == 0)
			return k + u;
	return 0;
}

/* a word, or rgb()/rgba()/hsl()/hsla() with plain numbers: bytes, 0 if not */
static size_t hs_css_word(const char *s, size_t n)
{
	static const char *const fns[] = { "rgb", "rgba", "hsl", "hsla" };
	size_t k = 0;
	char w[8];

	while (k < n && k <= 32 && (hs_alnum((unsigned char)s[k]) || s[k] == '-'))
		k++;
	if (k > 32)
		return 0;
	if (k == n || s[k] != '(')
		return k;
	if (k >= sizeof(w))
		return 0;
	for (size_t j = 0; j < k; j++)
		w[j] = (char)hs_lower((unsigned char)s[j]);
	w[k] = '\0';
	for (size_t j = 0; j < sizeof(fns) / sizeof(fns[0]); j++)
		if (strcmp(w, fns[j]) == 0) {
			size_t a = k + 1;

			while (a < n && a < k + 64 && (hs_digit((unsigned char)s[a]) ||
						       strchr(" .,%/+-", s[a]) != NULL))
				a++;
			return a < n && s[a] == ')' ? a + 1 : 0;
		}
	return 0; /* url(), expression(), var(), attr(), image-set() ... */
}

/* a quoted font name: bytes, 0 if it holds anything but plain letters */
static size_t hs_css_string(const char *s, size_t n)
{
	size_t k = 1;

	while (k < n && k < 128 && s[k] != s[0]) {
		unsigned char c = (unsigned char)s[k];

		if (c < 0x20 || c == 0x7f || (c < 0x80 && !hs_face_char(c)))
			return 0;
		k++;
	}
	return k < n && s[k] == s[0] ? k + 1 : 0;
}

/* one token of a value at s[0..n), written to d; bytes used, 0 = refused */
static size_t hs_css_token(const char *s, size_t n, enum hs_css_kind kind, struct buf *d)
{
	unsigned char c = (unsigned char)s[0];
	char unit[8];
	size_t k = 0;

	if (c == '#') {
		for (k = 1; k < n && k <= 9 && hs_alnum((unsigned char)s[k]); k++)
			if (!strchr("0123456789abcdefABCDEF", s[k]))
				return 0;
		k = (k >= 4 && k <= 9) ? k : 0;
	} else if (hs_digit(c) || c == '.' || ((c == '+' || c == '-') && n > 1 &&
					       (hs_digit((unsigned char)s[1]) || s[1] == '.')))
		k = hs_css_number(s, n, unit);
	else if (hs_alpha(c) || c == '-')
		k = hs_css_word(s, n);
	else if (kind == HS_CSS_FONT && (c == '"' || c == '\'') && (k = hs_css_string(s, n)) != 0) {
		/* written in single quotes: nothing else can be inside */
		if (buf_append(d, "'", 1) < 0 || buf_append(d, s + 1, k - 2) < 0 ||
		    buf_append(d, "'", 1) < 0)
			return 0;
		return k;
	} else if (kind == HS_CSS_FONT && c >= 0x80)
		while (k < n && (unsigned char)s[k] >= 0x80)
			k++;
	if (k == 0 || buf_append(d, s, k) < 0)
		return 0;
	return k;
}

/* width and height: one number in px or % (or none: 0), or auto */
static int hs_css_size(const char *s, size_t n)
{
	char unit[8];

	if (n == 4 && hs_ieq(s, "auto", 4))
		return 0;
	return hs_css_number(s, n, unit) == n && n > 0 && s[0] != '-' &&
			       (unit[0] == '\0' || strcmp(unit, "px") == 0 || strcmp(unit, "%") == 0)
		       ? 0
		       : -1;
}

/* a value checked token by token and written to d with single blanks */
static int hs_css_value(const char *s, size_t n, enum hs_css_kind kind, struct buf *d)
{
	size_t k = 0, tokens = 0;
	int space = 0;

	if (kind == HS_CSS_SIZE)
		return hs_css_size(s, n) < 0 ? -1 : buf_append(d, s, n);
	while (k < n) {
		size_t used;

		if (hs_ws((unsigned char)s[k])) {
			space = 1;
			k++;
			continue;
		}
		if (space && buf_append(d, " ", 1) < 0)
			return -1;
		space = 0;
		if (s[k] == ',' || s[k] == '/') {
			if (buf_append(d, s + k, 1) < 0)
				return -1;
			k++;
			continue;
		}
		if ((used = hs_css_token(s + k, n - k, kind, d)) == 0)
			return -1;
		k += used;
		tokens++;
	}
	return tokens > 0 ? 0 : -1;
}

/* "prop: value" of one declaration appended to h->aux, or nothing */
static void hs_css_decl(struct hs *h, const char *s, size_t n)
{
	const char *start = s, *colon = memchr(s, ':', n), *v;
	const struct hs_css_prop *p;
	char name[32];
	size_t pl, vl, mark = h->aux.len;

	if (colon == NULL)
		return;
	pl = (size_t)(colon - s);
	hs_trim(&s, &pl);
	if (pl == 0 || pl >= sizeof(name))
		return;
	for (size_t k = 0; k < pl; k++) {
		name[k] = (char)hs_lower((unsigned char)s[k]);
		if (!(name[k] >= 'a' && name[k] <= 'z') && name[k] != '-')
			return;
	}
	name[pl] = '\0';
	p = bsearch(name, hs_css_props, sizeof(hs_css_props) / sizeof(hs_css_props[0]),
		    sizeof(hs_css_props[0]), hs_cmp_css);
	if (p == NULL)
		return;
	v = colon + 1;
	vl = n - (size_t)(v - start);
	hs_trim(&v, &vl);
	if (vl >= 10 && hs_ieq(v + vl - 10, "!important", 10)) {
		vl -= 10;
		hs_trim(&v, &vl);
	}
	if ((mark > 0 && buf_append(&h->aux, "; ", 2) < 0) || buf_append_str(&h->aux, name) < 0 ||
	    buf_append(&h->aux, ": ", 2) < 0 || hs_css_value(v, vl, p->kind, &h->aux) < 0) {
		h->aux.len = mark;
		h->aux.data[mark] = '\0';
	}
}

/* the style attribute in h->tmp rewritten into h->aux; -1 if nothing is left */
static int hs_check_style(struct hs *h)
{
	const char *s = h->tmp.data;
	size_t n = h->tmp.len, k = 0;

	buf_reset(&h->aux);
	if (buf_append(&h->aux, "", 0) < 0)
		return -1;
	while (k < n) {
		const char *semi = memchr(s + k, ';', n - k);
		size_t e = semi ? (size_t)(semi - s) : n;

		hs_css_decl(h, s + k, e - k);
		k = e + 1;
	}
	return h->aux.len > 0 ? 0 : -1;
}

/* ---- attributes out ---- */

/* the checked value of attribute a of element elem: 0 with v and vl set, or -1 */
static int hs_attr_value(struct hs *h, int elem, const struct hs_attr *a, const char **v,
			 size_t *vl)
{
	enum hs_check c = hs_attr_defs[a->def].check;
	size_t max = c == HS_C_HREF ? HS_HREF_MAX : c == HS_C_STYLE ? HS_STYLE_MAX : 65536;

	if (a->vlen > max || (c == HS_C_HREF && strcmp(hs_elems[elem].name, "a") != 0) ||
	    hs_decode(h, a->v, a->vlen) < 0)
		return -1;
	*v = h->tmp.data;
	*vl = h->tmp.len;
	if (c != HS_C_TEXT && c != HS_C_HREF && c != HS_C_STYLE)
		hs_trim(v, vl);
	switch (c) {
	case HS_C_TEXT: *vl = hs_cap_utf8(*v, *vl, HS_TEXT_ATTR_MAX); return 0;
	case HS_C_KEYWORD:
		for (size_t k = 0; k < *vl; k++)
			h->tmp.data[(size_t)(*v - h->tmp.data) + k] = (char)hs_lower((unsigned char)(*v)[k]);
		return hs_all(*v, *vl, 16, hs_alpha);
	case HS_C_COLOR: return hs_check_color(*v, *vl);
	case HS_C_NUM: return hs_check_number((char *)*v, *vl, 0);
	case HS_C_LEN: return hs_check_number((char *)*v, *vl, 1);
	case HS_C_FONTSIZE: return hs_check_fontsize(*v, *vl);
	case HS_C_FACE: return hs_all(*v, *vl, 200, hs_face_char);
	case HS_C_HREF:
		if (hs_check_href(&h->tmp) < 0)
			return -1;
		*v = h->tmp.data, *vl = h->tmp.len;
		return 0;
	case HS_C_STYLE:
		if (hs_check_style(h) < 0)
			return -1;
		*v = h->aux.data, *vl = h->aux.len;
		return 0;
	case HS_C_SRC: break;
	}
	return -1;
}

/* the attributes of t but `skip`; 1 if an href was written */
static int hs_attrs_out(struct hs *h, const struct hs_tag *t, int skip)
{
	int href = 0;

	for (size_t k = 0; k < t->na; k++) {
		const struct hs_attr *a = &t->a[k];
		const char *v;
		size_t vl;

		if (a->def == skip)
			continue;
		if (hs_attr_value(h, t->elem, a, &v, &vl) < 0) {
			h->st->dropped_attrs++;
			continue;
		}
		hs_puts(h, " ");
		hs_puts(h, hs_attr_defs[a->def].name);
		hs_puts(h, "=\"");
		hs_put_attr_value(h, v, vl);
		hs_puts(h, "\"");
		href |= hs_attr_defs[a->def].check == HS_C_HREF;
	}
	return href;
}

/* ---- images ---- */

static const struct hs_attr *hs_find_attr(const struct hs_tag *t, const char *name)
{
	for (size_t k = 0; k < t->na; k++)
		if (strcmp(hs_attr_defs[t->a[k].def].name, name) == 0)
			return &t->a[k];
	return NULL;
}

/* bytes a cid callback may write: none that needs escaping in an attribute */
static int hs_url_safe(const char *s, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)s[k];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '&')
			return 0;
	}
	return 1;
}

static int hs_hex(unsigned char c)
{
	return hs_digit(c) ? c - '0' : (hs_lower(c) >= 'a' && hs_lower(c) <= 'f') ? hs_lower(c) - 'a' + 10 : -1;
}

/* "cid:..." in h->tmp: the URL the caller gives, written to out; 1 or 0 */
static int hs_img_cid(struct hs *h)
{
	const char *s = h->tmp.data + 4;
	size_t n = h->tmp.len - 4, start;
	int bad = 0;

	buf_reset(&h->aux);
	for (size_t k = 0; k < n; k++) { /* RFC 2392: the id is %-encoded */
		if (s[k] == '%' && k + 2 < n && hs_hex((unsigned char)s[k + 1]) >= 0 && hs_hex((unsigned char)s[k + 2]) >= 0) {
			char c = (char)(hs_hex((unsigned char)s[k + 1]) * 16 + hs_hex((unsigned char)s[k + 2]));

			bad |= buf_append(&h->aux, &c, 1);
			k += 2;
		} else
			bad |= buf_append(&h->aux, s + k, 1);
	}
	if (bad || h->aux.len == 0 || h->o->cid == NULL || h->over)
		return 0;
	start = h->out->len;
	if (h->o->cid(h->o->cid_arg, h->aux.data, h->aux.len, h->out) != 1 ||
	    !hs_url_safe(h->out->data + start, h->out->len - start) || h->out->len == start)
		return 0;
	h->st->cid_images++;
	return 1;
}

/* a remote image not loaded: a visible mark with the URL as its title */
static void hs_placeholder(struct hs *h, const struct hs_tag *t)
{
	const char *label = h->o->remote_label ? h->o->remote_label : "[remote image]";
	const struct hs_attr *alt = hs_find_attr(t, "alt");
	size_t mark = h->out->len;

	hs_puts(h, "<span style=\"border: 1px dashed #888; color: #555; padding: 0 2px\" title=\"");
	hs_put_attr_value(h, h->tmp.data, h->tmp.len);
	hs_puts(h, "\">");
	hs_put_attr_value(h, label, strlen(label));
	if (alt != NULL && alt->vlen > 0 && alt->vlen <= 65536 && hs_decode(h, alt->v, alt->vlen) == 0 &&
	    h->tmp.len > 0) {
		hs_puts(h, " ");
		hs_put_attr_value(h, h->tmp.data, hs_cap_utf8(h->tmp.data, h->tmp.len, HS_TEXT_ATTR_MAX));
	}
	hs_puts(h, "</span>");
	if (hs_commit(h, mark, 0))
		h->st->elements++;
}

/* <img>: written only with a source we accept, and that source first */
static void hs_img(struct hs *h, const struct hs_tag *t)
{
	const struct hs_attr *src = hs_find_attr(t, "src");
	size_t mark = h->out->len;

	if (src == NULL || src->vlen > HS_SRC_MAX || hs_decode(h, src->v, src->vlen) < 0 ||
	    hs_url_norm(&h->tmp) < 0)
		goto drop;
	hs_puts(h, "<img src=\"");
	if (hs_scheme(h->tmp.data, h->tmp.len, "cid")) {
		if (!hs_img_cid(h))
			goto drop;
	} else if (hs_web_url(h->tmp.data, h->tmp.len)) {
		h->st->remote_images++;
		if (!h->o->remote_images) {
			hs_rollback(h, mark);
			hs_placeholder(h, t);
			return;
		}
		hs_put_attr_value(h, h->tmp.data, h->tmp.len);
	} else if (hs_scheme(h->tmp.data, h->tmp.len, "data") && hs_check_data_image(&h->tmp) == 0)
		hs_put(h, h->tmp.data, h->tmp.len);
	else
		goto drop;
	hs_puts(h, "\"");
	hs_attrs_out(h, t, src->def);
	hs_puts(h, ">");
	/* an image too big for the room left is dropped; the text goes on */
	if (!h->over && h->out->len + h->depth * HS_CLOSE_RESERVE <= h->out->max) {
		h->st->elements++;
		return;
	}
drop:
	hs_rollback(h, mark);
	h->st->dropped_elements++;
}

/* ---- elements ---- */

static void hs_pop(struct hs *h)
{
	int top = h->stack[--h->depth];

	h->open[top]--;
	hs_puts(h, "</");
	hs_puts(h, hs_elems[top].name);
	hs_puts(h, ">");
}

static int hs_top_is(const struct hs *h, const char *a, const char *b)
{
	const char *top = h->depth ? hs_elems[h->stack[h->depth - 1]].name : NULL;

	return top != NULL && (strcmp(top, a) == 0 || (b != NULL && strcmp(top, b) == 0));
}

/* the ends a browser implies before this start tag (the common ones) */
static void hs_implicit_end(struct hs *h, const char *name)
{
	static const char *const closes_p[] = { "blockquote", "center", "div", "dl", "h1", "h2",
						 "h3", "h4", "h5", "h6", "hr", "ol", "p", "pre",
						 "table", "ul" };

	if (strcmp(name, "li") == 0 && hs_top_is(h, "li", NULL))
		hs_pop(h);
	else if ((strcmp(name, "dt") == 0 || strcmp(name, "dd") == 0) && hs_top_is(h, "dt", "dd"))
		hs_pop(h);
	else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0 || strcmp(name, "tr") == 0) {
		if (hs_top_is(h, "td", "th"))
			hs_pop(h);
		if (strcmp(name, "tr") == 0 && hs_top_is(h, "tr", NULL))
			hs_pop(h);
	} else if (hs_top_is(h, "p", NULL)) {
		for (size_t k = 0; k < sizeof(closes_p) / sizeof(closes_p[0]); k++)
			if (strcmp(name, closes_p[k]) == 0) {
				hs_pop(h);
				break;
			}
	}
}

static void hs_start(struct hs *h, const struct hs_tag *t)
{
	const char *name = hs_elems[t->elem].name;
	int is_void = (hs_elems[t->elem].flags & HS_VOID) != 0;
	size_t mark;

	if (h->st->elements >= h->max_elements || (!is_void && h->depth >= h->max_depth)) {
		h->st->dropped_elements++;
		return;
	}
	hs_implicit_end(h, name);
	if (strcmp(name, "img") == 0) {
		hs_img(h, t);
		return;
	}
	mark = h->out->len;
	hs_puts(h, "<");
	hs_puts(h, name);
	if (hs_attrs_out(h, t, -1))
		hs_puts(h, " rel=\"noopener noreferrer\" target=\"_blank\"");
	hs_puts(h, ">");
	if (!hs_commit(h, mark, is_void ? 0 : 1))
		return;
	h->st->elements++;
	if (!is_void) {
		h->stack[h->depth++] = (unsigned char)t->elem;
		h->open[t->elem]++;
	}
}

/* an end tag closes its element and all opened after it, if it is open */
static void hs_end(struct hs *h, int elem)
{
	if (h->open[elem] == 0)
		return;
	while (h->depth > 0) {
		int top = h->stack[h->depth - 1];

		hs_pop(h);
		if (top == elem)
			break;
	}
}

/* ---- the tokenizer ---- */

/* the contents of a raw-text element: up to "</name" and a delimiter */
static void hs_raw(struct hs *h, int elem)
{
	const char *name = hs_elems[elem].name;
	size_t len = strlen(name), k = h->i;

	if (strcmp(name, "plaintext") == 0) { /* no end: the rest is text */
		if (h->skip < 0)
			hs_text_literal(h, h->s + h->i, h->n - h->i);
		h->i = h->n;
		return;
	}
	while (k < h->n) {
		const char *lt = memchr(h->s + k, '<', h->n - k);

		if (lt == NULL)
			break;
		k = (size_t)(lt - h->s);
		if (k + 2 + len < h->n && h->s[k + 1] == '/' && hs_ieq(h->s + k + 2, name, len) &&
		    (hs_ws((unsigned char)h->s[k + 2 + len]) || h->s[k + 2 + len] == '/' ||
		     h->s[k + 2 + len] == '>')) {
			h->i = k;
			return;
		}
		k++;
	}
	h->i = h->n; /* no end tag: the rest belongs to it */
}

static void hs_keep_attr(struct hs *h, struct hs_tag *t, const char *name, size_t nlen,
			 const char *v, size_t vlen)
{
	char nm[HS_NAME_MAX + 1];
	const struct hs_attr_def *d = NULL;
	int def;

	if (t->end || t->elem < 0 || !(hs_elems[t->elem].flags & HS_ALLOW))
		return;
	if (hs_lower_name(nm, name, nlen))
		d = bsearch(nm, hs_attr_defs, HS_NATTRS, sizeof(hs_attr_defs[0]), hs_cmp_attr);
	if (d == NULL) {
		h->st->dropped_attrs++;
		return;
	}
	def = (int)(d - hs_attr_defs);
	if ((t->seen & (1u << def)) || t->na == HS_ATTRS_MAX) /* a browser keeps the first */
		return;
	t->seen |= 1u << def;
	t->a[t->na].def = def;
	t->a[t->na].v = v ? v : "";
	t->a[t->na].vlen = vlen;
	t->na++;
}

/* one attribute's value at s[i] (after '=' and blanks): index after it,
 * or n + 1 at the end of input */
static size_t hs_attr_val(const char *s, size_t n, size_t i, const char **v, size_t *vl)
{
	if (s[i] == '"' || s[i] == '\'') {
		const char *q = memchr(s + i + 1, s[i], n - i - 1);

		if (q == NULL)
			return n + 1;
		*v = s + i + 1;
		*vl = (size_t)(q - *v);
		return (size_t)(q - s) + 1;
	}
	*v = s + i;
	while (i < n && !hs_ws((unsigned char)s[i]) && s[i] != '>')
		i++;
	*vl = (size_t)(s + i - *v);
	return i;
}

/* the attributes from s[i] to the tag's '>': index after it, n + 1 at
 * the end of input (the tag is then dropped) */
static size_t hs_attrs(struct hs *h, size_t i, struct hs_tag *t)
{
	const char *s = h->s;
	size_t n = h->n;

	for (;;) {
		const char *v = NULL;
		size_t ns, ne, vl = 0;

		while (i < n && (hs_ws((unsigned char)s[i]) || s[i] == '/')) {
			if (s[i] == '/' && i + 1 < n && s[i + 1] == '>')
				t->self_closing = 1;
			i++;
		}
		if (i >= n)
			return n + 1;
		if (s[i] == '>')
			return i + 1;
		ns = i++; /* the first character may be '=' */
		while (i < n && !hs_ws((unsigned char)s[i]) && s[i] != '/' && s[i] != '>' && s[i] != '=')
			i++;
		ne = i;
		while (i < n && hs_ws((unsigned char)s[i]))
			i++;
		if (i < n && s[i] == '=') {
			for (i++; i < n && hs_ws((unsigned char)s[i]); i++)
				;
			if (i >= n)
				return n + 1;
			if (s[i] != '>' && (i = hs_attr_val(s, n, i, &v, &vl)) > n)
				return n + 1;
		}
		hs_keep_attr(h, t, s + ns, ne - ns, v, vl);
	}
}

/* inside a dropped element: 1 if this tag is to be handled as usual
 * (an HTML element that ends svg or math), else 0 (consumed) */
static int hs_skip_tag(struct hs *h, const struct hs_tag *t)
{
	unsigned skipf = hs_elems[h->skip].flags, f;

	if (t->elem == h->skip) {
		if (t->end) {
			if (--h->skip_depth == 0)
				h->skip = -1;
		} else if (!((skipf & HS_FOREIGN) && t->self_closing))
			h->skip_depth++;
		return 0;
	}
	if (t->elem < 0 || t->end)
		return 0;
	f = hs_elems[t->elem].flags;
	if (f & HS_RAW) {
		hs_raw(h, t->elem);
		return 0;
	}
	if ((skipf & HS_FOREIGN) && (f & HS_BREAKOUT)) {
		h->skip = -1;
		return 1;
	}
	return 0;
}

/* a tag whose name starts at s[j]; end: it is an end tag */
static void hs_tag(struct hs *h, size_t j, int end)
{
	struct hs_tag t;
	char name[HS_NAME_MAX + 1];
	size_t i = j;
	unsigned f;

	while (i < h->n && !hs_ws((unsigned char)h->s[i]) && h->s[i] != '/' && h->s[i] != '>')
		i++;
	t.end = end;
	t.self_closing = 0;
	t.na = 0;
	t.seen = 0;
	t.elem = hs_lower_name(name, h->s + j, i - j) ? hs_elem_index(name) : -1;
	if ((i = hs_attrs(h, i, &t)) > h->n) {
		h->i = h->n; /* unfinished at the end: dropped */
		return;
	}
	h->i = i;
	if (h->skip >= 0 && !hs_skip_tag(h, &t))
		return;
	f = t.elem >= 0 ? hs_elems[t.elem].flags : 0;
	if (end) {
		if ((f & HS_ALLOW) && !(f & HS_VOID))
			hs_end(h, t.elem);
		return;
	}
	if (f & HS_ALLOW) {
		hs_start(h, &t);
		return;
	}
	h->st->dropped_elements++;
	if (f & HS_RAW)
		hs_raw(h, t.elem);
	else if ((f & HS_SKIP) && !((f & HS_FOREIGN) && t.self_closing)) {
		h->skip = t.elem;
		h->skip_depth = 1;
	}
}

/* "<!--" ... "-->" (or "--!>"); j is after "<!--" */
static void hs_comment(struct hs *h, size_t j)
{
	const char *s = h->s;
	size_t n = h->n, k;

	if (j < n && s[j] == '>') { /* "<!-->" */
		h->i = j + 1;
		return;
	}
	if (j + 1 < n && s[j] == '-' && s[j + 1] == '>') { /* "<!--->" */
		h->i = j + 2;
		return;
	}
	for (k = j; k + 2 < n;) {
		const char *dash = memchr(s + k, '-', n - k);

		if (dash == NULL)
			break;
		k = (size_t)(dash - s);
		if (k + 2 < n && s[k + 1] == '-' && s[k + 2] == '>') {
			h->i = k + 3;
			return;
		}
		if (k + 3 < n && s[k + 1] == '-' && s[k + 2] == '!' && s[k + 3] == '>') {
			h->i = k + 4;
			return;
		}
		k++;
	}
	h->i = n; /* unterminated: the rest is comment */
}

/* "<!x", "<?", "</1": up to the next '>' */
static void hs_bogus(struct hs *h, size_t j)
{
	const char *gt = memchr(h->s + j, '>', h->n - j);

	h->i = gt ? (size_t)(gt - h->s) + 1 : h->n;
}

/* a '<' at h->i */
static void hs_markup(struct hs *h)
{
	const char *s = h->s;
	size_t n = h->n, i = h->i + 1;

	if (i < n && hs_alpha((unsigned char)s[i]))
		hs_tag(h, i, 0);
	else if (i + 1 < n && s[i] == '/' && hs_alpha((unsigned char)s[i + 1]))
		hs_tag(h, i + 1, 1);
	else if (i + 1 < n && s[i] == '/' && s[i + 1] == '>')
		h->i = i + 2; /* "</>" is nothing */
	else if (i + 1 < n && s[i] == '/')
		hs_bogus(h, i + 1);
	else if (i + 2 < n && s[i] == '!' && s[i + 1] == '-' && s[i + 2] == '-')
		hs_comment(h, i + 3);
	else if (i < n && (s[i] == '!' || s[i] == '?'))
		hs_bogus(h, i);
	else { /* a '<' that starts nothing is text; "</" at the end too */
		if (h->skip < 0)
			hs_put_text(h, "&lt;", 4);
		h->i++;
	}
}

static void hs_run(struct hs *h)
{
	while (h->i < h->n && !h->full) {
		const char *lt = memchr(h->s + h->i, '<', h->n - h->i);
		size_t end = lt ? (size_t)(lt - h->s) : h->n;

		if (end > h->i)
			hs_text(h, h->s + h->i, end - h->i);
		h->i = end;
		if (end < h->n && !h->full)
			hs_markup(h);
	}
	while (h->depth > 0)
		hs_pop(h);
}

int htmlsan_clean(struct pool *p, const char *html, size_t n, const struct htmlsan_opts *opts,
		  struct buf *out, struct htmlsan_stats *stats)
{
	static const struct htmlsan_opts defaults;
	struct htmlsan_stats ignored;
	struct hs *h;
	int rc, replaced;

	if ((html = utf8_clean(p, html, n, &replaced)) == NULL || (h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	h->o = opts ? opts : &defaults;
	h->st = stats ? stats : &ignored;
	memset(h->st, 0, sizeof(*h->st));
	h->s = html;
	h->n = replaced ? strlen(html) : n; /* the copy has no NUL inside */
	h->out = out;
	h->skip = -1;
	h->max_elements = h->o->max_elements ? h->o->max_elements : 100000;
	h->max_depth = h->o->max_depth ? h->o->max_depth : 200;
	if (h->max_depth > HS_DEPTH_LIMIT)
		h->max_depth = HS_DEPTH_LIMIT;
	buf_init(&h->tmp, HS_SRC_MAX + 64);
	buf_init(&h->aux, HS_SRC_MAX + 64);
	if (buf_append(out, "", 0) < 0)
		h->full = 1;
	hs_run(h);
	h->st->truncated = h->full;
	rc = h->over ? -1 : 0;
	buf_free(&h->tmp);
	buf_free(&h->aux);
	free(h);
	return rc;
}

/* ---- helpers for callers ---- */

const char *htmlsan_image_type(const char *content_type)
{
	static const char *const map[][2] = {
		{ "image/png", "image/png" },   { "image/gif", "image/gif" },
		{ "image/jpeg", "image/jpeg" }, { "image/jpg", "image/jpeg" },
		{ "image/pjpeg", "image/jpeg" }, { "image/webp", "image/webp" },
	};
	const char *s = content_type ? content_type : "";
	size_t n = strcspn(s, ";");

	hs_trim(&s, &n);
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++)
		if (n == strlen(map[k][0]) && hs_ieq(s, map[k][0], n))
			return map[k][1];
	return NULL;
}

int htmlsan_data_url(struct buf *out, const char *type, const void *data, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *d = data;
	const char *t = htmlsan_image_type(type);
	char q[4];

	if (t == NULL || buf_append_str(out, "data:") < 0 || buf_append_str(out, t) < 0 ||
	    buf_append_str(out, ";base64,") < 0)
		return -1;
	for (size_t k = 0; k < n; k += 3) {
		uint32_t v = (uint32_t)d[k] << 16 | (k + 1 < n ? (uint32_t)d[k + 1] << 8 : 0) |
			     (k + 2 < n ? d[k + 2] : 0);

		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = k + 1 < n ? b64[v >> 6 & 63] : '=';
		q[3] = k + 2 < n ? b64[v & 63] : '=';
		if (buf_append(out, q, 4) < 0)
			return -1;
	}
	return 0;
}

int htmlsan_url_encode(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)s[k];
		char e[3] = { '%', hex[c >> 4], hex[c & 15] };

		if (hs_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
			if (buf_append(out, s + k, 1) < 0)
				return -1;
		} else if (buf_append(out, e, 3) < 0)
			return -1;
	}
	return 0;
}
