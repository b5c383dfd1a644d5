/* mime_header: header fields, encoded words, parameters, dates.
 *
 * Hostile input is the normal case here, so every loop is linear: the
 * search for the "?=" that ends an encoded word is cached and only moves
 * forward (a subject of a million "=?" stays linear), comments are
 * skipped with a counter instead of recursion, and RFC 2231 sections are
 * kept in a fixed table. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "mime_header.h"
#include "pool.h"

#define MIME_HEADER_NAME_MAX 200      /* longest field name we accept */
#define MIME_HEADER_CHARSET_MAX 64    /* longest charset in an encoded word */
#define MIME_HEADER_SECTIONS 64       /* RFC 2231 continuations kept */
#define MIME_HEADER_DATE_SCAN 256     /* bytes of a Date value looked at */

static int mime_header_ws(int c)
{
	return c == ' ' || c == '\t';
}

static int mime_header_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ---- string builder ---- */

void mime_header_sb_init(struct mime_header_sb *b, struct pool *p)
{
	b->p = p;
	b->s = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

int mime_header_sb_put(struct mime_header_sb *b, const void *s, size_t n)
{
	if (b->oom)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap * 2 > b->len + n + 1 ? b->cap * 2 : b->len + n + 1;
		char *ns;

		if (cap < 32)
			cap = 32;
		if ((ns = pool_alloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return -1;
		}
		if (b->len > 0)
			memcpy(ns, b->s, b->len);
		b->s = ns;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int mime_header_sb_putc(struct mime_header_sb *b, char c)
{
	return mime_header_sb_put(b, &c, 1);
}

char *mime_header_sb_str(struct mime_header_sb *b)
{
	static char empty[1];

	if (b->oom)
		return empty;
	if (b->s == NULL && mime_header_sb_put(b, "", 0) < 0)
		return empty;
	return b->s;
}

/* ---- header block ---- */

void mime_header_start(struct mime_header_iter *it, const char *s, size_t len)
{
	it->s = s;
	it->len = len;
	it->pos = 0;
	it->end = MIME_HEADER_RUNNING;
}

/* end of the line at pos without CR LF; *next = start of the next line */
static size_t mime_header_line_end(const char *s, size_t len, size_t pos, size_t *next)
{
	const char *nl = memchr(s + pos, '\n', len - pos);
	size_t e = nl != NULL ? (size_t)(nl - s) : len;

	*next = nl != NULL ? e + 1 : len;
	if (e > pos && s[e - 1] == '\r')
		e--;
	return e;
}

int mime_header_next(struct mime_header_iter *it, struct mime_header_field *f)
{
	const char *line = it->s + it->pos;
	size_t e, next, i = 0, nend, vend, pos;

	if (it->end != MIME_HEADER_RUNNING)
		return 0;
	if (it->pos >= it->len) {
		it->end = MIME_HEADER_EOF;
		return 0;
	}
	e = mime_header_line_end(it->s, it->len, it->pos, &next);
	if (e == it->pos) {
		it->end = MIME_HEADER_BLANK;
		it->pos = next;
		return 0;
	}
	while (it->pos + i < e && i < MIME_HEADER_NAME_MAX && line[i] > 32 && line[i] < 127 &&
	       line[i] != ':')
		i++;
	nend = i;
	while (it->pos + i < e && mime_header_ws(line[i]))
		i++;
	if (nend == 0 || it->pos + i >= e || line[i] != ':') {
		it->end = MIME_HEADER_NOT_FIELD;
		return 0;
	}
	f->name = line;
	f->name_len = nend;
	f->value = line + i + 1;
	vend = e;
	pos = next;
	while (pos < it->len && mime_header_ws(it->s[pos])) {
		vend = mime_header_line_end(it->s, it->len, pos, &next);
		pos = next;
	}
	f->value_len = vend - (it->pos + i + 1);
	it->pos = pos;
	return 1;
}

int mime_header_is(const struct mime_header_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && strncasecmp(f->name, name, n) == 0;
}

/* ---- values ---- */

static int mime_header_has_8bit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] & 0x80)
			return 1;
	return 0;
}

/* a cut in the middle of a UTF-8 sequence would make the whole value
 * look like Shift_JIS: drop the broken tail */
static void mime_header_utf8_tail(struct mime_header_sb *b)
{
	size_t k = b->len, back = 0, need;
	unsigned char c;

	while (k > 0 && back < 3 && ((unsigned char)b->s[k - 1] & 0xC0) == 0x80)
		k--, back++;
	if (k == 0 || ((c = (unsigned char)b->s[k - 1]) & 0xC0) != 0xC0)
		return;
	need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
	if (back < need) {
		b->len = k - 1;
		b->s[b->len] = '\0';
	}
}

char *mime_header_value(struct pool *p, const char *v, size_t n, size_t max, int *cut,
			size_t *undecodable)
{
	struct mime_header_sb b;
	struct charset_text t;
	size_t i = 0;

	mime_header_sb_init(&b, p);
	while (i < n && (mime_header_ws(v[i]) || v[i] == '\r' || v[i] == '\n'))
		i++;
	while (i < n && !b.oom) {
		/* up to the next CR or LF; a fold and the blanks around it are
		 * one space (so "TEST \r\n\t=?..?=" reads "TEST ...") */
		const char *cr = memchr(v + i, '\r', n - i), *lf = memchr(v + i, '\n', n - i);
		const char *stop = cr != NULL && (lf == NULL || cr < lf) ? cr : lf;
		size_t k = stop != NULL ? (size_t)(stop - v) : n;

		if (b.len + (k - i) > max) {
			mime_header_sb_put(&b, v + i, max - b.len);
			mime_header_utf8_tail(&b);
			*cut = 1;
			break;
		}
		mime_header_sb_put(&b, v + i, k - i);
		for (i = k; i < n && (mime_header_ws(v[i]) || v[i] == '\r' || v[i] == '\n'); i++)
			;
		while (b.len > 0 && mime_header_ws(b.s[b.len - 1]))
			b.s[--b.len] = '\0';
		if (i < n && k < n && b.len < max)
			mime_header_sb_putc(&b, ' ');
	}
	while (b.len > 0 && mime_header_ws(b.s[b.len - 1]))
		b.s[--b.len] = '\0';
	if (b.len == 0 || !mime_header_has_8bit(b.s, b.len) || charset_is_utf8(b.s, b.len))
		return mime_header_sb_str(&b);
	if (charset_to_utf8(p, NULL, b.s, b.len, 0, &t) < 0)
		return mime_header_sb_str(&b);
	*undecodable += t.undecodable;
	return t.s;
}

/* ---- shared decoders ---- */

/* base64 alphabet: value, -2 for the padding '=', -1 for the rest */
static const signed char mime_header_b64[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -2, -1, -1,
	-1, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

size_t mime_header_base64(const char *s, size_t n, unsigned char *dst, size_t max, int *cut)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0, i = 0;

	while (i < n) {
		int v;

		/* four alphabet characters at once: the common case */
		if (bits == 0 && i + 4 <= n && o + 3 <= max) {
			int a = mime_header_b64[u[i]], b = mime_header_b64[u[i + 1]];
			int c = mime_header_b64[u[i + 2]], d = mime_header_b64[u[i + 3]];

			if ((a | b | c | d) >= 0) {
				uint32_t q = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;

				dst[o] = (unsigned char)(q >> 16);
				dst[o + 1] = (unsigned char)(q >> 8);
				dst[o + 2] = (unsigned char)q;
				o += 3;
				i += 4;
				continue;
			}
		}
		v = mime_header_b64[u[i++]];
		if (v == -2) {
			/* padding ends a quantum; a concatenated chunk starts fresh */
			acc = 0;
			bits = 0;
			continue;
		}
		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= max) {
				*cut = 1;
				return o;
			}
			dst[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o;
}

static int mime_header_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)mime_header_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "=" + blanks up to the line end is a soft break: length of it, or 0 */
static size_t mime_header_qp_soft(const char *s, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && mime_header_ws(s[j]))
		j++;
	if (j < n && s[j] == '\r')
		j++;
	if (j < n && s[j] == '\n')
		return j + 1 - i;
	return j >= n ? n - i : 0;
}

size_t mime_header_qp(const char *s, size_t n, unsigned char *dst, size_t max, int header,
		      int *cut)
{
	size_t o = 0, i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t soft;
		int h, l;

		if (o >= max) {
			*cut = 1;
			return o;
		}
		if (c == '=' && i + 2 < n && (h = mime_header_hexval((unsigned char)s[i + 1])) >= 0 &&
		    (l = mime_header_hexval((unsigned char)s[i + 2])) >= 0) {
			dst[o++] = (unsigned char)(h << 4 | l);
			i += 3;
		} else if (c == '=' && !header && (soft = mime_header_qp_soft(s, n, i)) > 0) {
			i += soft;
		} else {
			/* a lone "=" stays, as mail clients show it */
			dst[o++] = header && c == '_' ? ' ' : c;
			i++;
		}
	}
	return o;
}

/* ---- RFC 2047 ---- */

struct mime_header_ew {
	const char *cs;
	size_t cslen;
	char enc;
	const char *text;
	size_t tlen;
	size_t end; /* index after "?=" */
};

/* an encoded word at v[i] ("=?" known); *qe caches the next "?=" */
static int mime_header_ew_parse(const char *v, size_t n, size_t i, size_t *qe,
				struct mime_header_ew *w)
{
	size_t j = i + 2, t;
	const char *q;

	while (j < n && j - (i + 2) < MIME_HEADER_CHARSET_MAX && v[j] != '?' && v[j] > 32 &&
	       v[j] < 127)
		j++;
	if (j == i + 2 || j + 2 >= n || v[j] != '?' || v[j + 2] != '?')
		return -1;
	w->enc = (char)mime_header_lower((unsigned char)v[j + 1]);
	if (w->enc != 'b' && w->enc != 'q')
		return -1;
	t = j + 3;
	if (*qe < t) {
		q = t < n ? memmem(v + t, n - t, "?=", 2) : NULL;
		*qe = q != NULL ? (size_t)(q - v) : n;
	}
	if (*qe >= n)
		return -1;
	w->cs = v + i + 2;
	w->cslen = j - (i + 2);
	w->text = v + t;
	w->tlen = *qe - t;
	w->end = *qe + 2;
	return 0;
}

static void mime_header_controls_to_space(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			*s = ' ';
}

static int mime_header_all_ws(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!mime_header_ws(s[i]) && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* raw text: plain ASCII is copied, anything else goes through a guess */
static void mime_header_emit_raw(struct mime_header_sb *out, const char *s, size_t n,
				 size_t *undecodable)
{
	struct charset_text t;

	if (n == 0)
		return;
	if (!mime_header_has_8bit(s, n) && memchr(s, 0x1B, n) == NULL && memchr(s, 0, n) == NULL) {
		mime_header_sb_put(out, s, n);
		return;
	}
	if (charset_to_utf8(out->p, NULL, s, n, 0, &t) == 0)
		mime_header_sb_put(out, t.s, t.len);
	*undecodable += t.undecodable;
}

static void mime_header_emit_cs(struct mime_header_sb *out, const char *cs, size_t cslen,
				struct mime_header_sb *bytes, size_t *undecodable)
{
	char name[MIME_HEADER_CHARSET_MAX + 1];
	const char *star = memchr(cs, '*', cslen);
	struct charset_text t;

	if (star != NULL)
		cslen = (size_t)(star - cs); /* RFC 2231 language suffix */
	memcpy(name, cs, cslen);
	name[cslen] = '\0';
	if (charset_to_utf8(out->p, name, bytes->s != NULL ? bytes->s : "", bytes->len, 0, &t) == 0)
		mime_header_sb_put(out, t.s, t.len);
	*undecodable += t.undecodable;
	bytes->len = 0;
}

static void mime_header_ew_bytes(struct mime_header_sb *bytes, const struct mime_header_ew *w)
{
	unsigned char *d;
	int cut = 0;
	size_t got;

	/* reserve room for the word, then decode in place at the end */
	if (mime_header_sb_put(bytes, w->text, w->tlen) < 0)
		return;
	d = (unsigned char *)bytes->s + bytes->len - w->tlen;
	got = w->enc == 'b' ? mime_header_base64(w->text, w->tlen, d, w->tlen, &cut)
			    : mime_header_qp(w->text, w->tlen, d, w->tlen, 1, &cut);
	bytes->len -= w->tlen - got;
}

char *mime_header_decode(struct pool *p, const char *v, size_t n, size_t *undecodable)
{
	struct mime_header_sb out, bytes;
	struct mime_header_ew w;
	const char *pcs = NULL; /* charset of the pending words */
	size_t pcslen = 0, i = 0, plain = 0, qe = 0;
	char *r;

	mime_header_sb_init(&out, p);
	mime_header_sb_init(&bytes, p);
	while (i + 1 < n) {
		if (v[i] != '=' || v[i + 1] != '?' || mime_header_ew_parse(v, n, i, &qe, &w) < 0) {
			i++;
			continue;
		}
		/* blanks between two encoded words vanish (RFC 2047 6.2) */
		if (pcs == NULL || !mime_header_all_ws(v + plain, i - plain)) {
			if (pcs != NULL)
				mime_header_emit_cs(&out, pcs, pcslen, &bytes, undecodable);
			pcs = NULL;
			mime_header_emit_raw(&out, v + plain, i - plain, undecodable);
		}
		if (pcs != NULL && (pcslen != w.cslen || strncasecmp(pcs, w.cs, pcslen) != 0))
			mime_header_emit_cs(&out, pcs, pcslen, &bytes, undecodable);
		pcs = w.cs;
		pcslen = w.cslen;
		mime_header_ew_bytes(&bytes, &w);
		i = plain = w.end;
	}
	if (pcs != NULL)
		mime_header_emit_cs(&out, pcs, pcslen, &bytes, undecodable);
	mime_header_emit_raw(&out, v + plain, n - plain, undecodable);
	r = mime_header_sb_str(&out);
	mime_header_controls_to_space(r);
	return r;
}

/* ---- structured values: token and parameters ---- */

char *mime_header_token(struct pool *p, const char *v, size_t n)
{
	const char *semi = memchr(v, ';', n);
	size_t e = semi != NULL ? (size_t)(semi - v) : n, k = 0;
	char *r = pool_alloc(p, e + 1);

	if (r == NULL)
		return NULL;
	for (size_t i = 0; i < e; i++) {
		if (v[i] == '(')
			break; /* a comment after the type */
		if (!mime_header_ws(v[i]) && v[i] != '\r' && v[i] != '\n' && v[i] != '"')
			r[k++] = (char)mime_header_lower((unsigned char)v[i]);
	}
	r[k] = '\0';
	return k > 0 ? r : NULL;
}

struct mime_header_kv {
	const char *k;
	size_t klen;
	const char *v;
	size_t vlen;
	int quoted;
	int star; /* section name ends in '*': percent-encoded */
};

/* after the leading token: the first ';' outside quotes */
static size_t mime_header_skip_token(const char *s, size_t n)
{
	int q = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			q = !q;
		else if (s[i] == ';' && !q)
			return i;
	}
	return n;
}

static size_t mime_header_value_end(const char *s, size_t n, size_t i, size_t *v0, size_t *v1,
				    int *quoted)
{
	if (i < n && s[i] == '"') {
		*v0 = ++i;
		while (i < n && s[i] != '"')
			i += s[i] == '\\' && i + 1 < n ? 2 : 1;
		*v1 = i < n ? i : n;
		*quoted = 1;
		while (i < n && s[i] != ';')
			i++;
		return i;
	}
	*v0 = i;
	while (i < n && s[i] != ';')
		i++;
	*v1 = i;
	while (*v1 > *v0 && mime_header_ws(s[*v1 - 1]))
		(*v1)--;
	*quoted = 0;
	return i;
}

static int mime_header_kv_next(const char *s, size_t n, size_t *pos, struct mime_header_kv *kv)
{
	size_t i = *pos, k0, k1, v0, v1;

	for (;;) {
		while (i < n && (s[i] == ';' || mime_header_ws(s[i])))
			i++;
		if (i >= n) {
			*pos = i;
			return 0;
		}
		k0 = i;
		while (i < n && s[i] != '=' && s[i] != ';')
			i++;
		k1 = i;
		while (k1 > k0 && mime_header_ws(s[k1 - 1]))
			k1--;
		if (i >= n || s[i] == ';')
			continue; /* no value */
		i++;
		while (i < n && mime_header_ws(s[i]))
			i++;
		i = mime_header_value_end(s, n, i, &v0, &v1, &kv->quoted);
		if (k1 == k0)
			continue;
		kv->k = s + k0;
		kv->klen = k1 - k0;
		kv->v = s + v0;
		kv->vlen = v1 - v0;
		*pos = i;
		return 1;
	}
}

/* quoted-string content: only \" and \\ are escapes, so that a Windows
 * path in a filename keeps its backslashes (what mail clients do) */
static void mime_header_unquote(struct mime_header_sb *b, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n && (v[i + 1] == '"' || v[i + 1] == '\\'))
			i++;
		mime_header_sb_putc(b, v[i]);
	}
}

static void mime_header_pct(struct mime_header_sb *b, const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int h, l;

		if (v[i] == '%' && i + 2 < n && (h = mime_header_hexval((unsigned char)v[i + 1])) >= 0 &&
		    (l = mime_header_hexval((unsigned char)v[i + 2])) >= 0) {
			mime_header_sb_putc(b, (char)(h << 4 | l));
			i += 2;
		} else {
			mime_header_sb_putc(b, v[i]);
		}
	}
}

/* RFC 2231 sections 0..n-1 (first gap ends them): bytes, then charset */
static char *mime_header_2231(struct pool *p, const struct mime_header_kv *sect, size_t nsect,
			      size_t *undecodable)
{
	struct mime_header_sb b;
	struct charset_text t;
	char cs[MIME_HEADER_CHARSET_MAX + 1] = "";

	mime_header_sb_init(&b, p);
	for (size_t i = 0; i < nsect && sect[i].k != NULL; i++) {
		const char *v = sect[i].v;
		size_t vn = sect[i].vlen;

		if (!sect[i].star) {
			mime_header_unquote(&b, v, vn);
			continue;
		}
		if (i == 0) {
			const char *q1 = memchr(v, '\'', vn);
			const char *q2 = q1 != NULL ? memchr(q1 + 1, '\'', vn - (size_t)(q1 + 1 - v)) : NULL;

			if (q2 != NULL) {
				size_t cn = (size_t)(q1 - v);

				if (cn <= MIME_HEADER_CHARSET_MAX) {
					memcpy(cs, v, cn);
					cs[cn] = '\0';
				}
				vn -= (size_t)(q2 + 1 - v);
				v = q2 + 1;
			}
		}
		mime_header_pct(&b, v, vn);
	}
	if (b.oom || charset_to_utf8(p, cs, b.s != NULL ? b.s : "", b.len, 0, &t) < 0)
		return NULL;
	*undecodable += t.undecodable;
	mime_header_controls_to_space(t.s);
	return t.s;
}

/* key*N or key*N*: the section number, or -1 */
static int mime_header_section(const char *r, size_t rl, int *star)
{
	int idx = 0;
	size_t i = 1, d0;

	for (d0 = i; i < rl && r[i] >= '0' && r[i] <= '9' && i - d0 < 4; i++)
		idx = idx * 10 + (r[i] - '0');
	if (i == d0)
		return -1;
	*star = i < rl && r[i] == '*';
	if (i + (size_t)*star != rl)
		return -1;
	return idx;
}

char *mime_header_param(struct pool *p, const char *v, size_t n, const char *key, int *quoted,
			size_t *undecodable)
{
	struct mime_header_kv kv, plain = { 0 }, ext = { 0 }, sect[MIME_HEADER_SECTIONS];
	size_t klen = strlen(key), pos = mime_header_skip_token(v, n);
	struct mime_header_sb b;

	memset(sect, 0, sizeof(sect));
	while (mime_header_kv_next(v, n, &pos, &kv)) {
		const char *r = kv.k + klen;
		size_t rl = kv.klen - klen;
		int idx, star;

		if (kv.klen < klen || strncasecmp(kv.k, key, klen) != 0)
			continue;
		if (rl == 0 && plain.k == NULL) {
			plain = kv;
		} else if (rl == 1 && r[0] == '*' && ext.k == NULL) {
			ext = kv;
			ext.star = 1;
		} else if (rl > 1 && r[0] == '*' && (idx = mime_header_section(r, rl, &star)) >= 0 &&
			   idx < MIME_HEADER_SECTIONS && sect[idx].k == NULL) {
			sect[idx] = kv;
			sect[idx].star = star;
		}
	}
	if (ext.k != NULL)
		return mime_header_2231(p, &ext, 1, undecodable);
	if (sect[0].k != NULL)
		return mime_header_2231(p, sect, MIME_HEADER_SECTIONS, undecodable);
	if (plain.k == NULL)
		return NULL;
	if (quoted != NULL)
		*quoted = plain.quoted;
	mime_header_sb_init(&b, p);
	if (plain.quoted)
		mime_header_unquote(&b, plain.v, plain.vlen);
	else
		mime_header_sb_put(&b, plain.v, plain.vlen);
	if (b.oom)
		return NULL;
	return mime_header_decode(p, b.s != NULL ? b.s : "", b.len, undecodable);
}

char *mime_header_param_raw(struct pool *p, const char *v, size_t n, const char *key, int *quoted)
{
	size_t klen = strlen(key), pos = mime_header_skip_token(v, n);
	struct mime_header_kv kv;
	struct mime_header_sb b;

	while (mime_header_kv_next(v, n, &pos, &kv)) {
		if (kv.klen != klen || strncasecmp(kv.k, key, klen) != 0)
			continue;
		mime_header_sb_init(&b, p);
		if (kv.quoted)
			mime_header_unquote(&b, kv.v, kv.vlen);
		else
			mime_header_sb_put(&b, kv.v, kv.vlen);
		if (quoted != NULL)
			*quoted = kv.quoted;
		return b.oom ? NULL : mime_header_sb_str(&b);
	}
	return NULL;
}

/* ---- message ids ---- */

static void mime_header_trim(const char **s, size_t *n)
{
	while (*n > 0 && (mime_header_ws(**s) || **s == '\r' || **s == '\n')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && (mime_header_ws((*s)[*n - 1]) || (*s)[*n - 1] == '\r' || (*s)[*n - 1] == '\n'))
		(*n)--;
}

char *mime_header_msgids(struct pool *p, const char *v, size_t n, size_t max)
{
	struct mime_header_sb b;
	size_t count = 0, i = 0;

	mime_header_sb_init(&b, p);
	while (i < n && count < max) {
		const char *lt = memchr(v + i, '<', n - i), *gt, *id;
		size_t idn;

		if (lt == NULL || (gt = memchr(lt + 1, '>', (size_t)(v + n - lt - 1))) == NULL)
			break;
		id = lt + 1;
		idn = (size_t)(gt - id);
		mime_header_trim(&id, &idn);
		i = (size_t)(gt + 1 - v);
		if (idn == 0)
			continue;
		if (count++ > 0)
			mime_header_sb_putc(&b, ' ');
		mime_header_sb_put(&b, id, idn);
	}
	if (count == 0 && max > 0 && memchr(v, '<', n) == NULL) {
		/* no brackets: the first word, as some mailers write it */
		size_t k = 0;

		mime_header_trim(&v, &n);
		while (k < n && !mime_header_ws(v[k]) && v[k] != '\r' && v[k] != '\n')
			k++;
		if (k > 0) {
			mime_header_sb_put(&b, v, k);
			count = 1;
		}
	}
	if (count == 0 || b.oom)
		return NULL;
	mime_header_controls_to_space(b.s);
	return b.s;
}

/* ---- dates ---- */

struct mime_header_dt {
	int year, year_digits, month, day, hour, min, sec;
	int have_time, have_zone, zone_min, ampm; /* ampm: 1 am, 2 pm */
};

static const char *const mime_header_months[12] = { "jan", "feb", "mar", "apr", "may", "jun",
						     "jul", "aug", "sep", "oct", "nov", "dec" };

static const struct {
	const char *name;
	int min;
} mime_header_zones[] = {
	{ "ut", 0 },     { "utc", 0 },    { "gmt", 0 },    { "z", 0 },      { "est", -300 },
	{ "edt", -240 }, { "cst", -360 }, { "cdt", -300 }, { "mst", -420 }, { "mdt", -360 },
	{ "pst", -480 }, { "pdt", -420 }, { "jst", 540 },  { "kst", 540 },  { "hkt", 480 },
	{ "sgt", 480 },  { "cet", 60 },   { "cest", 120 }, { "bst", 60 },   { "eet", 120 },
	{ "eest", 180 }, { "wet", 0 },    { "west", 60 },  { "aest", 600 }, { "aedt", 660 },
};

static int mime_header_num(const char *t, size_t n, int *v)
{
	int r = 0;

	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		r = r * 10 + (t[i] - '0');
	}
	*v = r;
	return 0;
}

static int mime_header_month(const char *t, size_t n)
{
	if (n < 3)
		return 0;
	for (int m = 0; m < 12; m++)
		if (strncasecmp(t, mime_header_months[m], 3) == 0)
			return m + 1;
	return 0;
}

/* hh:mm[:ss][.frac] */
static void mime_header_time(struct mime_header_dt *d, const char *t, size_t n)
{
	int f[3] = { 0, 0, 0 }, k = 0;
	size_t i = 0;

	if (d->have_time)
		return;
	while (k < 3) {
		size_t s = i;

		while (i < n && t[i] >= '0' && t[i] <= '9' && i - s < 2)
			i++;
		if (i == s || mime_header_num(t + s, i - s, &f[k]) < 0)
			return;
		k++;
		if (i >= n || t[i] != ':')
			break;
		i++;
	}
	if (k < 2)
		return;
	d->hour = f[0];
	d->min = f[1];
	d->sec = f[2];
	d->have_time = 1;
}

/* +hhmm, -hhmm, +hh, +hh:mm */
static void mime_header_zone_num(struct mime_header_dt *d, const char *t, size_t n)
{
	int sign = t[0] == '-' ? -1 : 1, h, m = 0;

	if (d->have_zone)
		return;
	t++;
	n--;
	if (n == 4 && mime_header_num(t, 2, &h) == 0 && mime_header_num(t + 2, 2, &m) == 0)
		;
	else if (n == 5 && t[2] == ':' && mime_header_num(t, 2, &h) == 0 &&
		 mime_header_num(t + 3, 2, &m) == 0)
		;
	else if (!((n == 2 || n == 1) && mime_header_num(t, n, &h) == 0))
		return;
	if (h > 23 || m > 59)
		return;
	d->zone_min = sign * (h * 60 + m);
	d->have_zone = 1;
}

static void mime_header_word(struct mime_header_dt *d, const char *t, size_t n)
{
	int m = mime_header_month(t, n);

	if (m != 0 && d->month == 0) {
		d->month = m;
		return;
	}
	if (n == 2 && strncasecmp(t, "am", 2) == 0) {
		d->ampm = 1;
		return;
	}
	if (n == 2 && strncasecmp(t, "pm", 2) == 0) {
		d->ampm = 2;
		return;
	}
	if (d->have_zone)
		return;
	for (size_t i = 0; i < sizeof(mime_header_zones) / sizeof(mime_header_zones[0]); i++)
		if (strlen(mime_header_zones[i].name) == n &&
		    strncasecmp(t, mime_header_zones[i].name, n) == 0) {
			d->zone_min = mime_header_zones[i].min;
			d->have_zone = 1;
			return;
		}
	/* "GMT+0900" */
	if (n > 4 && (strncasecmp(t, "gmt", 3) == 0 || strncasecmp(t, "utc", 3) == 0) &&
	    (t[3] == '+' || t[3] == '-'))
		mime_header_zone_num(d, t + 3, n - 3);
	else if (n == 1 && ((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z'))) {
		d->zone_min = 0; /* military zones: RFC 5322 says read as -0000 */
		d->have_zone = 1;
	}
}

static void mime_header_number(struct mime_header_dt *d, const char *t, size_t n)
{
	int v;

	if (mime_header_num(t, n, &v) < 0)
		return;
	if (n <= 2 && d->day == 0 && v >= 1 && v <= 31) {
		d->day = v;
	} else if (d->year_digits == 0 && n <= 4) {
		d->year = v;
		d->year_digits = (int)n;
	}
}

/* 2024-01-05, 2024/1/5, 05-Jan-2024 (t is NUL-terminated) */
static void mime_header_dashed(struct mime_header_dt *d, const char *t, size_t n)
{
	size_t p1 = strcspn(t, "-/"), p2, an, bn, cn;
	const char *b, *c;
	int y, m, dd;

	if (p1 >= n)
		return;
	p2 = p1 + 1 + strcspn(t + p1 + 1, "-/");
	if (p2 >= n)
		return;
	an = p1;
	b = t + p1 + 1;
	bn = p2 - p1 - 1;
	c = t + p2 + 1;
	cn = n - p2 - 1;
	if (an == 4 && mime_header_num(t, an, &y) == 0 && mime_header_num(b, bn, &m) == 0 &&
	    mime_header_num(c, cn, &dd) == 0) {
		d->year = y;
		d->year_digits = 4;
		d->month = m;
		d->day = dd;
	} else if (mime_header_num(t, an, &dd) == 0 && (m = mime_header_month(b, bn)) != 0 &&
		   mime_header_num(c, cn, &y) == 0) {
		d->day = dd;
		d->month = m;
		d->year = y;
		d->year_digits = (int)cn;
	}
}

static void mime_header_date_token(struct mime_header_dt *d, const char *t, size_t n)
{
	char tok[40];

	if (n >= sizeof(tok))
		return;
	memcpy(tok, t, n);
	tok[n] = '\0';
	if (memchr(tok, ':', n) != NULL && tok[0] >= '0' && tok[0] <= '9')
		mime_header_time(d, tok, n);
	else if ((tok[0] == '+' || tok[0] == '-') && n > 1 && tok[1] >= '0' && tok[1] <= '9')
		mime_header_zone_num(d, tok, n);
	else if (tok[0] >= '0' && tok[0] <= '9' && strcspn(tok, "-/") < n)
		mime_header_dashed(d, tok, n);
	else if (tok[0] >= '0' && tok[0] <= '9')
		mime_header_number(d, tok, n);
	else
		mime_header_word(d, tok, n);
}

static int64_t mime_header_days_from_civil(int64_t y, int m, int d)
{
	/* H. Hinnant's days_from_civil: days since 1970-01-01 */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int mime_header_mdays(int y, int m)
{
	static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

static int mime_header_date_finish(struct mime_header_dt *d, int64_t *us)
{
	int64_t secs;

	if (d->year_digits == 0 || d->month < 1 || d->month > 12 || d->day < 1)
		return -1;
	if (d->year_digits <= 2 && d->year < 50)
		d->year += 2000;
	else if (d->year < 1000)
		d->year += 1900; /* two digits 50-99, and the obsolete three */
	if (d->year < 1900 || d->year > 9999 || d->day > mime_header_mdays(d->year, d->month))
		return -1;
	if (d->ampm == 2 && d->hour < 12)
		d->hour += 12;
	else if (d->ampm == 1 && d->hour == 12)
		d->hour = 0;
	if (d->hour > 23 || d->min > 59 || d->sec > 60)
		return -1;
	secs = mime_header_days_from_civil(d->year, d->month, d->day) * 86400 + d->hour * 3600 +
	       d->min * 60 + d->sec - (int64_t)d->zone_min * 60;
	*us = secs * 1000000;
	return 0;
}

int mime_header_date(const char *v, size_t n, int64_t *us)
{
	return mime_header_date_zone(v, n, 0, us);
}

int mime_header_date_zone(const char *v, size_t n, int zone_min, int64_t *us)
{
	struct mime_header_dt d = { 0 };
	size_t i = 0, ntok = 0;

	d.zone_min = zone_min; /* until a zone is read */
	if (n > MIME_HEADER_DATE_SCAN)
		n = MIME_HEADER_DATE_SCAN;
	while (i < n && ntok < 16) {
		size_t s;

		if (mime_header_ws(v[i]) || v[i] == ',' || v[i] == '\r' || v[i] == '\n') {
			i++;
			continue;
		}
		if (v[i] == '(') {
			int depth = 0;

			for (; i < n; i++) {
				depth += v[i] == '(' ? 1 : v[i] == ')' ? -1 : 0;
				if (depth == 0)
					break;
			}
			i++;
			continue;
		}
		for (s = i; i < n && !mime_header_ws(v[i]) && v[i] != ',' && v[i] != '(' && v[i] != '\r' &&
			    v[i] != '\n';
		     i++)
			;
		mime_header_date_token(&d, v + s, i - s);
		ntok++;
	}
	return mime_header_date_finish(&d, us);
}
