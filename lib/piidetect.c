/* piidetect: contact details in free text.  See piidetect.h for the shapes.
 *
 * Design: the text is decoded to code points, cut into normalisation
 * segments (ICU: a cut before every character that NFKC never joins with
 * what precedes it), and each segment is NFKC-normalised on its own.
 * Each normalised code point remembers the bytes of the segment it came
 * from, so a finding in the normalised text maps back to exactly the bytes
 * the operator typed.  Four scanners then run in turn over the code
 * points (mail address, phone, postal code, address); a position one
 * scanner has claimed is not looked at by the next, so "045-123-4567" is
 * one phone number and not also a postal code.
 *
 * ICU: this file normalises with ICU itself rather than through
 * charset.c because it needs the per-segment offset map, which no other
 * caller does; it is the only ICU use here and stays in the section
 * marked below. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/unorm2.h>

#include "piidetect.h"
#include "pool.h"
#include "utf8.h"

#define PII_LOCAL_MAX 64     /* RFC 5321 local part */
#define PII_DOMAIN_MAX 253
#define PII_LABEL_MAX 63
#define PII_PHONE_DIGITS 15
#define PII_PLACE_MAX 24     /* code points of place name before a block number */
#define PII_LOT_TOKENS 6
#define PII_NUM_MAX 6

struct pii_text {
	uint32_t *cp;       /* NFKC code points */
	size_t *from, *to;  /* the input bytes each came from */
	size_t n, cap;
	unsigned char *taken;
};

struct pii_span {
	enum piidetect_kind kind;
	size_t a, b; /* code points [a, b) */
};

struct pii_found {
	struct pii_span *v;
	size_t n, cap;
};

/* ---- decoding and normalisation (the ICU section) ---- */

/* one code point of valid UTF-8 at s; *len gets its length */
static uint32_t pii_decode(const unsigned char *s, size_t *len)
{
	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if (s[0] < 0xE0) {
		*len = 2;
		return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
	}
	if (s[0] < 0xF0) {
		*len = 3;
		return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
	}
	*len = 4;
	return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
	       ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

static int pii_grow(struct pool *p, struct pii_text *t, size_t need)
{
	size_t cap = t->cap * 2 > t->n + need ? t->cap * 2 : t->n + need + 16;
	uint32_t *cp = pool_alloc(p, cap * sizeof(*cp));
	size_t *from = pool_alloc(p, cap * sizeof(*from)), *to = pool_alloc(p, cap * sizeof(*to));

	if (cp == NULL || from == NULL || to == NULL)
		return -1;
	if (t->n > 0) {
		memcpy(cp, t->cp, t->n * sizeof(*cp));
		memcpy(from, t->from, t->n * sizeof(*from));
		memcpy(to, t->to, t->n * sizeof(*to));
	}
	t->cp = cp;
	t->from = from;
	t->to = to;
	t->cap = cap;
	return 0;
}

static int pii_put(struct pool *p, struct pii_text *t, uint32_t c, size_t from, size_t to)
{
	if (t->n == t->cap && pii_grow(p, t, 1) < 0)
		return -1;
	t->cp[t->n] = c;
	t->from[t->n] = from;
	t->to[t->n] = to;
	t->n++;
	return 0;
}

/* NFKC of the code points src[0..n), which came from bytes [from, to),
 * appended to t; u16 is scratch room for 2n UTF-16 units */
static int pii_segment(struct pool *p, const UNormalizer2 *nfkc, struct pii_text *t,
		       const uint32_t *src, size_t n, size_t from, size_t to, UChar *u16)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t un = 0, on;
	UChar *o;

	if (n == 1 && src[0] < 0x80) /* ASCII is its own NFKC: most text */
		return pii_put(p, t, src[0], from, to);
	for (size_t i = 0; i < n; i++) {
		if (src[i] >= 0x10000) {
			u16[un++] = (UChar)(0xD7C0 + (src[i] >> 10));
			u16[un++] = (UChar)(0xDC00 | (src[i] & 0x3FF));
		} else
			u16[un++] = (UChar)src[i];
	}
	on = unorm2_normalize(nfkc, u16, un, NULL, 0, &st); /* preflight */
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return -1;
	st = U_ZERO_ERROR;
	if ((o = pool_alloc(p, ((size_t)on + 1) * sizeof(UChar))) == NULL)
		return -1;
	unorm2_normalize(nfkc, u16, un, o, on + 1, &st);
	if (U_FAILURE(st))
		return -1;
	for (int32_t i = 0; i < on; i++) {
		uint32_t c = o[i];

		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < on)
			c = 0x10000 + ((c - 0xD800) << 10) + (o[++i] - 0xDC00);
		if (pii_put(p, t, c, from, to) < 0)
			return -1;
	}
	return 0;
}

/* the text as NFKC code points with their source bytes */
static int pii_normalise(struct pool *p, const char *text, size_t len, struct pii_text *t)
{
	UErrorCode st = U_ZERO_ERROR;
	const UNormalizer2 *nfkc = unorm2_getNFKCInstance(&st);
	uint32_t *src = pool_alloc(p, (len + 1) * sizeof(*src));
	size_t *off = pool_alloc(p, (len + 1) * sizeof(*off));
	UChar *u16 = pool_alloc(p, (2 * len + 2) * sizeof(UChar));
	size_t n = 0, seg = 0;

	if (U_FAILURE(st) || src == NULL || off == NULL || u16 == NULL || pii_grow(p, t, len) < 0)
		return -1;
	for (size_t i = 0; i < len;) {
		size_t l;

		off[n] = i;
		src[n++] = pii_decode((const unsigned char *)text + i, &l);
		i += l;
	}
	off[n] = len;
	for (size_t k = 1; k <= n; k++) {
		if (k < n && !unorm2_hasBoundaryBefore(nfkc, (UChar32)src[k]))
			continue;
		if (pii_segment(p, nfkc, t, src + seg, k - seg, off[seg], off[k], u16) < 0)
			return -1;
		seg = k;
	}
	t->taken = pool_zalloc(p, t->n + 1);
	return t->taken == NULL ? -1 : 0;
}

/* ---- character classes (after NFKC) ---- */

static int pii_digit(uint32_t c)
{
	return c >= '0' && c <= '9';
}

static int pii_alpha(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* '-' and what Japanese text writes for it between digits: ー (U+30FC,
 * also what half-width ｰ becomes), ‐ ‑ ‒ – — ―, − and the small forms */
static int pii_dash(uint32_t c)
{
	return c == '-' || c == 0x30FC || (c >= 0x2010 && c <= 0x2015) || c == 0x2212 ||
	       c == 0xFE58 || c == 0xFE63;
}

static int pii_kanji_num(uint32_t c)
{
	static const uint32_t k[] = { 0x3007, 0x4E00, 0x4E8C, 0x4E09, 0x56DB, 0x4E94, 0x516D,
				      0x4E03, 0x516B, 0x4E5D, 0x5341, 0x767E, 0x5343 };

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (c == k[i])
			return 1;
	return 0;
}

static int pii_num(uint32_t c)
{
	return pii_digit(c) || pii_kanji_num(c);
}

/* what a place name is written with: kanji, 々, katakana (ヶ, ノ, ー),
 * and が (霞が関, 自由が丘) */
static int pii_place(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FFFF) || c == 0x3005 ||
	       c == 0x3006 || (c >= 0x30A1 && c <= 0x30FA) || c == 0x30FC || c == 0x304C;
}

/* 1 if the code points at t[k..] spell the UTF-8 word w */
static int pii_word(const struct pii_text *t, size_t k, const char *w)
{
	const unsigned char *s = (const unsigned char *)w;

	while (*s != '\0') {
		size_t l;

		if (k >= t->n || t->cp[k] != pii_decode(s, &l))
			return 0;
		s += l;
		k++;
	}
	return 1;
}

/* code points in the UTF-8 word w */
static size_t pii_word_len(const char *w)
{
	size_t n = 0;

	for (const unsigned char *s = (const unsigned char *)w; *s != '\0'; s++)
		n += (*s & 0xC0) != 0x80;
	return n;
}

static int pii_free(const struct pii_text *t, size_t a, size_t b)
{
	for (size_t k = a; k < b; k++)
		if (t->taken[k])
			return 0;
	return 1;
}

static int pii_add(struct pool *p, struct pii_text *t, struct pii_found *f,
		   enum piidetect_kind kind, size_t a, size_t b)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct pii_span *v = pool_alloc(p, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		if (f->n > 0)
			memcpy(v, f->v, f->n * sizeof(*v));
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = (struct pii_span){ kind, a, b };
	memset(t->taken + a, 1, b - a);
	return 0;
}

/* ---- mail addresses ---- */

static int pii_local_char(uint32_t c)
{
	return pii_digit(c) || pii_alpha(c) || (c < 0x80 && c != 0 && strchr(".!#$%&'*+/=?^_`{|}~-", (int)c));
}

static int pii_label_char(uint32_t c)
{
	return pii_digit(c) || pii_alpha(c) || c == '-';
}

/* code points of the at-sign at k: '@', "(at)" or "[at]" (any case) */
static size_t pii_at_sign(const struct pii_text *t, size_t k)
{
	uint32_t c = t->cp[k];

	if (c == '@')
		return 1;
	if ((c == '(' || c == '[') && k + 3 < t->n && (t->cp[k + 1] | 0x20) == 'a' &&
	    (t->cp[k + 2] | 0x20) == 't' && t->cp[k + 3] == (c == '(' ? ')' : ']'))
		return 4;
	return 0;
}

/* end of the domain starting at k, or 0: labels joined by dots, at least
 * two, the last one letters only and two or more of them */
static size_t pii_domain_end(const struct pii_text *t, size_t k)
{
	size_t start = k, labels = 0, last = 0, end = 0;

	while (k < t->n && k - start <= PII_DOMAIN_MAX) {
		size_t ls = k;
		int letters = 1;

		while (k < t->n && pii_label_char(t->cp[k]) && k - ls <= PII_LABEL_MAX)
			letters &= pii_alpha(t->cp[k++]);
		if (k == ls)
			break;
		labels++;
		last = letters && k - ls >= 2;
		if (labels >= 2 && last)
			end = k;
		if (k + 1 < t->n && t->cp[k] == '.' && pii_label_char(t->cp[k + 1]))
			k++;
		else
			break;
	}
	return end;
}

static int pii_scan_email(struct pool *p, struct pii_text *t, struct pii_found *f)
{
	for (size_t i = 1; i < t->n; i++) {
		size_t at = pii_at_sign(t, i), j = i, end;

		if (at == 0)
			continue;
		while (j > 0 && i - j < PII_LOCAL_MAX && pii_local_char(t->cp[j - 1]) && !t->taken[j - 1])
			j--;
		while (j < i && t->cp[j] == '.')
			j++;
		if (j == i || (end = pii_domain_end(t, i + at)) == 0)
			continue;
		if (pii_add(p, t, f, PIIDETECT_EMAIL, j, end) < 0)
			return -1;
		i = end - 1;
	}
	return 0;
}

/* ---- phone numbers ---- */

static int pii_phone_sep(uint32_t c)
{
	return pii_dash(c) || c == ' ' || c == '(' || c == ')' || c == '.';
}

/* the digits of a whole number: 0 + non-zero, 10 digits (11 only as
 * 0X0: mobiles, 050, 0800), or 81 + 9 or 10 digits (a 0 after 81 is
 * the trunk prefix written in "(0)" and is skipped) */
static int pii_phone_ok(const char *d, size_t n, int intl)
{
	if (intl) {
		if (n < 2 || d[0] != '8' || d[1] != '1')
			return 0;
		d += 2;
		n -= 2;
		if (n > 0 && d[0] == '0') {
			d++;
			n--;
		}
		return (n == 9 || n == 10) && d[0] != '0';
	}
	if (n < 10 || d[0] != '0' || d[1] == '0')
		return 0;
	return n == 10 || (n == 11 && d[2] == '0');
}

/* the end of a phone number starting at i (at '0', '+' or '('), or 0 */
static size_t pii_phone_at(const struct pii_text *t, size_t i)
{
	char d[PII_PHONE_DIGITS + 1];
	size_t nd = 0, k = i, best = 0;
	int intl = t->cp[i] == '+', paren = t->cp[i] == '(';

	if (t->cp[k] == '+' || t->cp[k] == '(')
		k++;
	for (;;) {
		size_t g = 0, s, ns = 0;

		while (k < t->n && pii_digit(t->cp[k]) && nd < PII_PHONE_DIGITS) {
			d[nd++] = (char)t->cp[k++];
			g++;
		}
		if (g == 0 || (k < t->n && pii_digit(t->cp[k])))
			break;
		if (paren && g == nd && (k >= t->n || t->cp[k] != ')'))
			return 0; /* "(03-..." : the number starts after the parenthesis */
		if (pii_phone_ok(d, nd, intl))
			best = k;
		for (s = k; s < t->n && ns < 2 && pii_phone_sep(t->cp[s]); s++)
			ns++;
		if (ns == 0 || s >= t->n || !pii_digit(t->cp[s]))
			break;
		k = s;
	}
	return best;
}

static int pii_scan_phone(struct pool *p, struct pii_text *t, struct pii_found *f)
{
	for (size_t i = 0; i < t->n; i++) {
		uint32_t c = t->cp[i];
		size_t end;

		if (t->taken[i] || (i > 0 && (pii_digit(t->cp[i - 1]) || t->cp[i - 1] == '+')))
			continue;
		if (c != '0' && c != '+' && !(c == '(' && i + 1 < t->n && t->cp[i + 1] == '0'))
			continue;
		if ((end = pii_phone_at(t, i)) == 0 || !pii_free(t, i, end))
			continue;
		if (pii_add(p, t, f, PIIDETECT_PHONE, i, end) < 0)
			return -1;
		i = end - 1;
	}
	return 0;
}

/* ---- postal codes ---- */

/* the end of "DDD-DDDD" (or "DDDDDDD" when dash_optional) at k, or 0 */
static size_t pii_postal_digits(const struct pii_text *t, size_t k, int dash_optional)
{
	for (int i = 0; i < 3; i++, k++)
		if (k >= t->n || !pii_digit(t->cp[k]))
			return 0;
	if (k < t->n && pii_dash(t->cp[k]))
		k++;
	else if (!dash_optional)
		return 0;
	for (int i = 0; i < 4; i++, k++)
		if (k >= t->n || !pii_digit(t->cp[k]))
			return 0;
	if (k < t->n && (pii_digit(t->cp[k]) || pii_dash(t->cp[k])))
		return 0;
	return k;
}

/* the length of a postal-code marker at k (〒, 郵便番号 and what may
 * follow it: a colon, spaces), or 0 */
static size_t pii_postal_mark(const struct pii_text *t, size_t k)
{
	size_t m = 0, s;

	if (t->cp[k] == 0x3012)
		m = 1;
	else if (pii_word(t, k, "郵便番号"))
		m = 4;
	if (m == 0)
		return 0;
	for (s = k + m; s < t->n && s - k - m < 3 && (t->cp[s] == ' ' || t->cp[s] == ':'); s++)
		;
	return s - k;
}

static int pii_scan_postal(struct pool *p, struct pii_text *t, struct pii_found *f)
{
	for (size_t i = 0; i < t->n; i++) {
		size_t m, end = 0;

		if (t->taken[i])
			continue;
		if ((m = pii_postal_mark(t, i)) > 0)
			end = pii_postal_digits(t, i + m, 1);
		else if (pii_digit(t->cp[i]) &&
			 (i == 0 || !(pii_digit(t->cp[i - 1]) || pii_dash(t->cp[i - 1]) ||
				      pii_alpha(t->cp[i - 1]) || t->cp[i - 1] == '.')))
			end = pii_postal_digits(t, i, 0);
		if (end == 0 || !pii_free(t, i, end))
			continue;
		if (pii_add(p, t, f, PIIDETECT_POSTAL_CODE, i, end) < 0)
			return -1;
		i = end - 1;
	}
	return 0;
}

/* ---- addresses ---- */

static const char *const pii_prefectures[] = {
	"北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県",
	"栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県",
	"石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県",
	"滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県",
	"岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
	"佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
};

/* the block and lot after a place name, as parsed */
struct pii_lot {
	size_t end;
	int nums, chome, after_chome, banchi, ban_num, dashes, ascii;
	size_t first_len; /* digits of the first number */
};

static size_t pii_num_end(const struct pii_text *t, size_t k, int *ascii)
{
	size_t s = k;

	while (k < t->n && pii_num(t->cp[k]) && k - s < PII_NUM_MAX) {
		*ascii &= pii_digit(t->cp[k]);
		k++;
	}
	return k < t->n && pii_num(t->cp[k]) ? s : k; /* too long: no lot number */
}

enum pii_unit { PII_U_NONE, PII_U_CHOME, PII_U_BAN, PII_U_OTHER };

/* The unit after a number ending at i: *unit_end is where the lot ends
 * if nothing more follows (the unit belongs to it: 丁目, 番地, 号; a dash
 * does not), *next where the next number starts (0: the lot ends). */
static enum pii_unit pii_lot_unit(const struct pii_text *t, size_t i, struct pii_lot *l,
				  int after_ban, size_t *unit_end, size_t *next)
{
	int num_after = i + 1 < t->n && pii_num(t->cp[i + 1]);

	*unit_end = i;
	*next = 0;
	if (pii_word(t, i, "丁目")) {
		l->chome = 1;
		*unit_end = i + 2;
		*next = i + 2 < t->n && pii_num(t->cp[i + 2]) ? i + 2 : 0;
		return PII_U_CHOME;
	}
	if (pii_word(t, i, "番地")) {
		l->banchi = 1;
		*unit_end = i + 2;
		if (i + 3 < t->n && (t->cp[i + 2] == 0x306E || pii_dash(t->cp[i + 2])) &&
		    pii_num(t->cp[i + 3])) /* 5番地の1, 5番地-1 */
			*next = i + 3;
		return PII_U_OTHER;
	}
	if (t->cp[i] == 0x756A && num_after) { /* 番 then a number */
		l->ban_num = 1;
		*unit_end = *next = i + 1;
		return PII_U_BAN;
	}
	if (t->cp[i] == 0x756A && l->chome) { /* 二丁目3番 */
		*unit_end = i + 1;
		return PII_U_OTHER;
	}
	if (t->cp[i] == 0x53F7 && after_ban) { /* 号 closing N番N */
		*unit_end = i + 1;
		return PII_U_OTHER;
	}
	if (pii_dash(t->cp[i]) && i + 1 < t->n && pii_digit(t->cp[i + 1])) {
		l->dashes++;
		*next = i + 1;
		return PII_U_OTHER;
	}
	return PII_U_NONE;
}

static void pii_lot_parse(const struct pii_text *t, size_t k, struct pii_lot *l)
{
	enum pii_unit prev = PII_U_NONE;

	memset(l, 0, sizeof(*l));
	l->ascii = 1;
	for (int tok = 0; tok < PII_LOT_TOKENS; tok++) {
		size_t e = pii_num_end(t, k, &l->ascii), next;

		if (e == k || !pii_free(t, k, e))
			break;
		if (l->nums++ == 0)
			l->first_len = e - k;
		if (prev == PII_U_CHOME)
			l->after_chome = 1;
		prev = pii_lot_unit(t, e, l, prev == PII_U_BAN, &l->end, &next);
		if (next == 0)
			break;
		k = next;
	}
}

/* where the place name before position i starts (i itself if none);
 * *pref gets the start of the first prefecture in it, or SIZE_MAX */
static size_t pii_place_start(const struct pii_text *t, size_t i, size_t *pref, int *city)
{
	size_t j = i;

	if (j >= 2 && t->cp[j - 1] == ' ' && pii_place(t->cp[j - 2]) && !t->taken[j - 1])
		j--;
	while (j > 0 && i - j < PII_PLACE_MAX && pii_place(t->cp[j - 1]) && !t->taken[j - 1])
		j--;
	*pref = SIZE_MAX;
	*city = 0;
	for (size_t k = j; k < i; k++) {
		uint32_t c = t->cp[k];

		*city |= c == 0x5E02 || c == 0x533A || c == 0x753A || c == 0x6751 || c == 0x90E1;
		for (size_t q = 0; *pref == SIZE_MAX && q < sizeof(pii_prefectures) / sizeof(char *); q++)
			if (pii_word(t, k, pii_prefectures[q]) &&
			    k + pii_word_len(pii_prefectures[q]) <= i)
				*pref = k;
	}
	return *pref != SIZE_MAX ? *pref : j;
}

/* the address ending with the lot at i, or 0 */
static size_t pii_address_at(const struct pii_text *t, size_t i, size_t *start)
{
	struct pii_lot l;
	size_t pref;
	int city, strong, weak;

	pii_lot_parse(t, i, &l);
	if (l.nums == 0)
		return 0;
	*start = pii_place_start(t, i, &pref, &city);
	strong = (l.chome && l.after_chome) || l.banchi || l.ban_num ||
		 (l.dashes >= 2 && l.ascii && l.first_len <= 3 && *start < i);
	weak = ((pref != SIZE_MAX || city) && l.chome) ||
	       (pref != SIZE_MAX && l.dashes >= 1 && l.ascii && l.first_len <= 4);
	return strong || weak ? l.end : 0;
}

static int pii_scan_address(struct pool *p, struct pii_text *t, struct pii_found *f)
{
	for (size_t i = 0; i < t->n; i++) {
		size_t start, end;

		if (t->taken[i] || !pii_num(t->cp[i]) || (i > 0 && pii_num(t->cp[i - 1])))
			continue;
		if ((end = pii_address_at(t, i, &start)) == 0)
			continue;
		if (pii_add(p, t, f, PIIDETECT_ADDRESS, start, end) < 0)
			return -1;
		i = end - 1;
	}
	return 0;
}

/* ---- the whole ---- */

static int pii_cmp(const void *a, const void *b)
{
	const struct pii_span *x = a, *y = b;

	return x->a < y->a ? -1 : x->a > y->a;
}

/* UTF-16 code units in text[0..byte) */
static size_t pii_u16(const char *text, size_t byte)
{
	size_t n = 0;

	for (size_t i = 0; i < byte; i++) {
		unsigned char c = (unsigned char)text[i];

		n += (c & 0xC0) != 0x80;
		n += c >= 0xF0;
	}
	return n;
}

/* The spans mapped back to the caller's bytes.  Two findings apart in the
 * normalised text can meet in one typed character that NFKC expanded (㏷
 * is "pc"): such findings become one, so that they never overlap (found
 * by tests/fuzz/fuzz_piidetect). */
static int pii_output(const char *text, const struct pii_text *t, const struct pii_found *f,
		      struct piidetect_finding *out, size_t max)
{
	size_t k = 0, last_end = 0;

	for (size_t i = 0; i < f->n; i++) {
		size_t start = t->from[f->v[i].a], end = t->to[f->v[i].b - 1];

		if (k > 0 && start < last_end) {
			if (end > last_end) {
				last_end = end;
				if (k <= max) {
					out[k - 1].end = end;
					out[k - 1].u16_end = pii_u16(text, end);
				}
			}
			continue;
		}
		if (k < max) {
			out[k].kind = f->v[i].kind;
			out[k].start = start;
			out[k].end = end;
			out[k].u16_start = pii_u16(text, start);
			out[k].u16_end = pii_u16(text, end);
		}
		last_end = end;
		k++;
	}
	return k > (size_t)INT32_MAX ? INT32_MAX : (int)k;
}

int piidetect_scan(struct pool *p, const char *text, size_t len, struct piidetect_finding *out,
		   size_t max)
{
	struct pii_text t = { 0 };
	struct pii_found f = { 0 };

	if (!utf8_valid(text, len) || pii_normalise(p, text, len, &t) < 0)
		return -1;
	if (pii_scan_email(p, &t, &f) < 0 || pii_scan_phone(p, &t, &f) < 0 ||
	    pii_scan_postal(p, &t, &f) < 0 || pii_scan_address(p, &t, &f) < 0)
		return -1;
	if (f.n > 1)
		qsort(f.v, f.n, sizeof(f.v[0]), pii_cmp);
	return pii_output(text, &t, &f, out, max);
}

const char *piidetect_kind_name(enum piidetect_kind k)
{
	switch (k) {
	case PIIDETECT_PHONE:
		return "phone";
	case PIIDETECT_EMAIL:
		return "email";
	case PIIDETECT_POSTAL_CODE:
		return "postal_code";
	case PIIDETECT_ADDRESS:
		return "address";
	}
	return "unknown";
}
