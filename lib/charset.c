/* charset: the ICU adapter.  See charset.h for the contract.
 *
 * Design: a label is first mapped to a kind.  The Japanese kinds name a
 * fixed ICU converter (ICU's plain "ISO-2022-JP" is version 0, which
 * refuses JIS X 0212 and SO/SI kana; version 3 decodes both and the
 * CP50220 rows, and every version decodes the same JIS X 0208 tables).
 * Valid UTF-8 and ASCII are copied without ICU, which is most mail.
 * Everything else goes through ucnv_toUnicode in chunks into a small
 * UTF-16 buffer on the stack, then to UTF-8 in the pool.  The to-Unicode
 * callback writes U+FFFD and counts; it never substitutes silently. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <unicode/ucnv.h>
#include <unicode/ucnv_cb.h>
#include <unicode/ucnv_err.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "charset.h"
#include "pool.h"
#include "utf8.h"

#define CHARSET_LABEL_MAX 40
#define CHARSET_U16_CHUNK 2048

enum charset_kind { CS_GUESS, CS_ASCII, CS_UTF8, CS_CP932, CS_JIS, CS_EUCJP, CS_ICU };

static const char CHARSET_ICU_CP932[] = "ibm-943_P15A-2003";
static const char CHARSET_ICU_JIS[] = "ISO_2022,locale=ja,version=3";
static const char CHARSET_ICU_EUCJP[] = "EUC-JP";

static const struct {
	const char *label;
	enum charset_kind kind;
} charset_aliases[] = {
	{ "us-ascii", CS_ASCII }, { "ascii", CS_ASCII }, { "us_ascii", CS_ASCII },
	{ "ansi_x3.4-1968", CS_ASCII }, { "iso646-us", CS_ASCII }, { "csascii", CS_ASCII },
	{ "iso-ir-6", CS_ASCII }, { "us", CS_ASCII }, { "cp367", CS_ASCII }, { "ibm367", CS_ASCII },
	{ "utf-8", CS_UTF8 }, { "utf8", CS_UTF8 }, { "x-utf-8", CS_UTF8 },
	{ "unicode-1-1-utf-8", CS_UTF8 },
	{ "shift_jis", CS_CP932 }, { "shift-jis", CS_CP932 }, { "shiftjis", CS_CP932 },
	{ "sjis", CS_CP932 }, { "x-sjis", CS_CP932 }, { "x-shift_jis", CS_CP932 },
	{ "x-shift-jis", CS_CP932 }, { "windows-31j", CS_CP932 }, { "cp932", CS_CP932 },
	{ "ms932", CS_CP932 }, { "ms_kanji", CS_CP932 }, { "x-ms-cp932", CS_CP932 },
	{ "csshiftjis", CS_CP932 }, { "cswindows31j", CS_CP932 }, { "windows-932", CS_CP932 },
	{ "iso-2022-jp", CS_JIS }, { "iso-2022-jp-1", CS_JIS }, { "iso-2022-jp-2", CS_JIS },
	{ "iso-2022-jp-3", CS_JIS }, { "iso-2022-jp-2004", CS_JIS }, { "iso-2022-jp-ms", CS_JIS },
	{ "cp50220", CS_JIS }, { "cp50221", CS_JIS }, { "cp50222", CS_JIS },
	{ "csiso2022jp", CS_JIS }, { "csiso2022jp2", CS_JIS }, { "x-windows-iso2022jp", CS_JIS },
	{ "jis", CS_JIS }, { "jis7", CS_JIS },
	{ "euc-jp", CS_EUCJP }, { "eucjp", CS_EUCJP }, { "euc_jp", CS_EUCJP },
	{ "x-euc-jp", CS_EUCJP }, { "x-eucjp", CS_EUCJP }, { "ujis", CS_EUCJP },
	{ "cseucpkdfmtjapanese", CS_EUCJP }, { "eucjp-ms", CS_EUCJP }, { "euc-jp-ms", CS_EUCJP },
	{ "cp51932", CS_EUCJP },
	/* labels that say "we do not know" */
	{ "unknown-8bit", CS_GUESS }, { "x-unknown", CS_GUESS }, { "unknown", CS_GUESS },
	{ "default", CS_GUESS }, { "x-user-defined", CS_GUESS },
};

/* labels read as the superset mail clients (and the WHATWG encoding
 * standard) use, so that Windows-written mail decodes: Latin-1 mail is
 * really windows-1252 (smart quotes at 0x93), GB2312 is GBK, EUC-KR is
 * Microsoft's UHC */
static const struct {
	const char *label;
	const char *icu;
} charset_supersets[] = {
	{ "iso-8859-1", "windows-1252" }, { "iso8859-1", "windows-1252" },
	{ "iso_8859-1", "windows-1252" }, { "latin1", "windows-1252" },
	{ "l1", "windows-1252" },         { "cp819", "windows-1252" },
	{ "gb2312", "GBK" },              { "csgb2312", "GBK" },
	{ "euc-kr", "windows-949" },      { "ks_c_5601-1987", "windows-949" },
	{ "cseuckr", "windows-949" },
};

struct charset_out {
	struct pool *p;
	char *s;
	size_t len, cap, max; /* max 0 = no limit */
	size_t bad;
	int full;             /* max reached: stop */
	int oom;
};

/* ---- label mapping ---- */

/* lowercase, trimmed of blanks and quotes; -1 if empty, too long or odd */
static int charset_norm(const char *name, char *buf, size_t bufsz)
{
	size_t n = 0;

	if (name == NULL)
		return -1;
	while (*name == ' ' || *name == '\t' || *name == '"' || *name == '\'')
		name++;
	for (; *name != '\0' && *name != '"' && *name != '\'' && *name != ' ' && *name != '\t';
	     name++) {
		unsigned char c = (unsigned char)*name;

		if (n + 1 >= bufsz)
			return -1;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		/* ICU parses ",option" suffixes: let no label choose options */
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == ':' || c == '+'))
			return -1;
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return n == 0 ? -1 : 0;
}

static enum charset_kind charset_kind_of(const char *name, char *label, size_t labelsz)
{
	if (charset_norm(name, label, labelsz) < 0)
		return CS_GUESS;
	for (size_t i = 0; i < sizeof(charset_aliases) / sizeof(charset_aliases[0]); i++)
		if (strcmp(label, charset_aliases[i].label) == 0)
			return charset_aliases[i].kind;
	for (size_t i = 0; i < sizeof(charset_supersets) / sizeof(charset_supersets[0]); i++)
		if (strcmp(label, charset_supersets[i].label) == 0) {
			snprintf(label, labelsz, "%s", charset_supersets[i].icu);
			break;
		}
	return CS_ICU;
}

/* ---- byte-level checks ---- */

int charset_is_utf8(const void *in, size_t len)
{
	const unsigned char *s = in, *e = s + len;

	while (s < e) {
		unsigned c = *s;
		size_t n;
		uint32_t cp, min;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			n = 1, cp = c & 0x1F, min = 0x80;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 2, cp = c & 0x0F, min = 0x800;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		if ((size_t)(e - s) <= n)
			return 0;
		for (size_t i = 1; i <= n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		s += n + 1;
	}
	return 1;
}

static int charset_has_8bit(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] & 0x80)
			return 1;
	return 0;
}

/* JIS escapes: ESC $ @, ESC $ B, ESC $ ( D, ESC ( I, ESC ( J */
static int charset_has_jis_escape(const unsigned char *s, size_t len)
{
	const unsigned char *e = s + len, *p = s;

	while ((p = memchr(p, 0x1B, (size_t)(e - p))) != NULL) {
		if (e - p >= 3 && p[1] == '$' && (p[2] == '@' || p[2] == 'B' || p[2] == '('))
			return 1;
		if (e - p >= 3 && p[1] == '(' && (p[2] == 'I' || p[2] == 'J'))
			return 1;
		p++;
	}
	return 0;
}

static enum charset_kind charset_guess(const unsigned char *s, size_t len)
{
	if (charset_has_8bit(s, len))
		return charset_is_utf8(s, len) ? CS_UTF8 : CS_CP932;
	return charset_has_jis_escape(s, len) ? CS_JIS : CS_ASCII;
}

/* ---- output ---- */

static int charset_out_reserve(struct charset_out *o, size_t n)
{
	size_t cap;
	char *ns;

	if (o->len + n + 1 <= o->cap)
		return 0;
	cap = o->cap * 2 > o->len + n + 1 ? o->cap * 2 : o->len + n + 1;
	if (cap < 64)
		cap = 64;
	if (o->max != 0 && cap > o->max + 1)
		cap = o->max + 1;
	if ((ns = pool_alloc(o->p, cap)) == NULL) {
		o->oom = 1;
		return -1;
	}
	if (o->len > 0)
		memcpy(ns, o->s, o->len);
	o->s = ns;
	o->cap = cap;
	return 0;
}

/* append UTF-8 bytes, cutting at a character boundary at the maximum */
static int charset_out_put(struct charset_out *o, const char *b, size_t n)
{
	if (o->full || o->oom)
		return -1;
	if (o->max != 0 && o->len + n > o->max) {
		size_t cut = o->max - o->len;

		while (cut > 0 && ((unsigned char)b[cut] & 0xC0) == 0x80)
			cut--;
		o->full = 1;
		if (cut > 0 && charset_out_reserve(o, cut) == 0) {
			memcpy(o->s + o->len, b, cut);
			o->len += cut;
		}
		return -1;
	}
	if (charset_out_reserve(o, n) < 0)
		return -1;
	memcpy(o->s + o->len, b, n);
	o->len += n;
	return 0;
}

static const char charset_fffd[] = "\xEF\xBF\xBD";

/* copy bytes known to be ASCII or valid UTF-8; NUL becomes U+FFFD */
static void charset_copy(struct charset_out *o, const char *s, size_t len)
{
	const char *e = s + len;

	while (s < e) {
		const char *z = memchr(s, '\0', (size_t)(e - s));
		size_t n = z != NULL ? (size_t)(z - s) : (size_t)(e - s);

		if (n > 0 && charset_out_put(o, s, n) < 0)
			return;
		if (z == NULL)
			return;
		o->bad++;
		if (charset_out_put(o, charset_fffd, 3) < 0)
			return;
		s = z + 1;
	}
}

/* UTF-16 chunk to UTF-8; *lead carries a high surrogate across chunks;
 * lone surrogates and U+0000 become U+FFFD */
static void charset_put_u16(struct charset_out *o, const UChar *u, size_t n, uint32_t *lead)
{
	char tmp[CHARSET_U16_CHUNK * 3 + 8];
	size_t t = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t c = u[i];

		if (*lead != 0) {
			if (c >= 0xDC00 && c <= 0xDFFF) {
				c = 0x10000 + ((*lead - 0xD800) << 10) + (c - 0xDC00);
				*lead = 0;
				t += utf8_encode(tmp + t, c);
				continue;
			}
			*lead = 0;
			o->bad++;
			t += utf8_encode(tmp + t, 0xFFFD);
		}
		if (c >= 0xD800 && c <= 0xDBFF) {
			*lead = c;
			continue;
		}
		if (c == 0 || (c >= 0xDC00 && c <= 0xDFFF)) {
			o->bad++;
			c = 0xFFFD;
		}
		t += utf8_encode(tmp + t, c);
		if (t > sizeof(tmp) - 8) {
			if (charset_out_put(o, tmp, t) < 0)
				return;
			t = 0;
		}
	}
	if (t > 0)
		charset_out_put(o, tmp, t);
}

/* ---- ICU ---- */

/* The to-Unicode callback: U+FFFD for what cannot be decoded, counted.
 * ICU's own substitute callback writes U+001A for some converters. */
static void charset_cb(const void *ctx, UConverterToUnicodeArgs *args, const char *units,
		       int32_t n, UConverterCallbackReason reason, UErrorCode *err)
{
	static const UChar fffd = 0xFFFD;
	size_t *bad = (size_t *)(uintptr_t)ctx;

	(void)units;
	(void)n;
	if (reason > UCNV_IRREGULAR)
		return; /* reset, close, clone */
	(*bad)++;
	*err = U_ZERO_ERROR;
	ucnv_cbToUWriteUChars(args, &fffd, 1, 0, err);
}

static UConverter *charset_open(const char *icuname, size_t *bad)
{
	UErrorCode e = U_ZERO_ERROR;
	UConverter *cv = ucnv_open(icuname, &e);

	if (U_FAILURE(e) || cv == NULL)
		return NULL;
	if (bad != NULL) {
		ucnv_setToUCallBack(cv, charset_cb, bad, NULL, NULL, &e);
		if (U_FAILURE(e)) {
			ucnv_close(cv);
			return NULL;
		}
	}
	return cv;
}

static int charset_icu(struct charset_out *o, const char *icuname, const char *in, size_t len)
{
	UConverter *cv = charset_open(icuname, &o->bad);
	const char *src = in, *end = in + len;
	UChar u[CHARSET_U16_CHUNK];
	uint32_t lead = 0;

	if (cv == NULL)
		return -1;
	for (;;) {
		UErrorCode e = U_ZERO_ERROR;
		UChar *t = u;

		ucnv_toUnicode(cv, &t, u + CHARSET_U16_CHUNK, &src, end, NULL, 1, &e);
		charset_put_u16(o, u, (size_t)(t - u), &lead);
		if (o->full || o->oom || e != U_BUFFER_OVERFLOW_ERROR)
			break;
	}
	if (lead != 0 && !o->full && !o->oom) {
		o->bad++;
		charset_out_put(o, charset_fffd, 3);
	}
	ucnv_close(cv);
	return 0;
}

/* ---- entry points ---- */

static const char *charset_run(struct charset_out *o, enum charset_kind k, const char *label,
			       const unsigned char *in, size_t len)
{
	if (k == CS_GUESS || (k == CS_ASCII && charset_has_8bit(in, len)) ||
	    (k == CS_JIS && charset_has_8bit(in, len) && memchr(in, 0x1B, len) == NULL))
		k = charset_guess(in, len);
	else if (k == CS_ASCII && charset_has_jis_escape(in, len))
		k = CS_JIS;
	switch (k) {
	case CS_ASCII:
		charset_copy(o, (const char *)in, len);
		return "US-ASCII";
	case CS_UTF8:
		if (charset_is_utf8(in, len))
			charset_copy(o, (const char *)in, len);
		else
			charset_icu(o, "UTF-8", (const char *)in, len);
		return "UTF-8";
	case CS_JIS:
		charset_icu(o, CHARSET_ICU_JIS, (const char *)in, len);
		return "ISO-2022-JP";
	case CS_EUCJP:
		charset_icu(o, CHARSET_ICU_EUCJP, (const char *)in, len);
		return "EUC-JP";
	case CS_ICU:
		if (charset_icu(o, label, (const char *)in, len) == 0)
			return NULL; /* the label itself */
		/* ICU does not know it: guess */
		return charset_run(o, CS_GUESS, label, in, len);
	case CS_CP932:
	default:
		charset_icu(o, CHARSET_ICU_CP932, (const char *)in, len);
		return "CP932";
	}
}

int charset_to_utf8(struct pool *p, const char *name, const void *in, size_t len, size_t max_out,
		    struct charset_text *out)
{
	char label[CHARSET_LABEL_MAX + 1];
	enum charset_kind k = charset_kind_of(name, label, sizeof(label));
	struct charset_out o = { .p = p, .max = max_out };
	const char *used;
	size_t guess = len + len / 2 + 16;

	if (max_out != 0 && guess > max_out + 1)
		guess = max_out + 1;
	memset(out, 0, sizeof(*out));
	charset_out_reserve(&o, guess - 1);
	used = o.oom ? "" : charset_run(&o, k, label, in, len);
	if ((k == CS_CP932 || k == CS_EUCJP) && o.bad > 0 && !o.oom && charset_is_utf8(in, len)) {
		/* labelled Shift_JIS or EUC-JP, undecodable as that, but valid
		 * UTF-8: a mislabelled UTF-8 mail; read it as what it is */
		o.len = 0;
		o.bad = 0;
		o.full = 0;
		charset_copy(&o, in, len);
		used = "UTF-8";
	}
	if (used == NULL)
		used = pool_strdup(p, label);
	out->used = used != NULL ? used : "";
	out->undecodable = o.bad;
	if (o.oom || o.s == NULL) {
		out->s = (char *)"";
		out->len = 0;
		out->truncated = 1;
		return -1;
	}
	o.s[o.len] = '\0';
	out->s = o.s;
	out->len = o.len;
	out->truncated = o.full;
	return 0;
}

int charset_known(const char *name)
{
	char label[CHARSET_LABEL_MAX + 1];
	enum charset_kind k = charset_kind_of(name, label, sizeof(label));
	UConverter *cv;

	if (k == CS_GUESS)
		return 0;
	if (k != CS_ICU)
		return 1;
	if ((cv = charset_open(label, NULL)) == NULL)
		return 0;
	ucnv_close(cv);
	return 1;
}

/* ---- UTF-8 to ISO-2022-JP, for outgoing mail ---- */

/* ICU's version 0 is RFC 1468's set, but with Microsoft's tables: it
 * also writes NEC row 13 and maps six cells the CP932 way.  Its output
 * is checked here, escape by escape, against what a JIS X 0208 reader
 * (Python, glibc, a phone) reads back as the same character. */
static const char CHARSET_ICU_JIS_OUT[] = "ISO_2022,locale=ja,version=0";

static int charset_jis_cell_ok(unsigned char a, unsigned char b)
{
	static const unsigned char ambiguous[][2] = {
		{ 0x21, 0x41 }, { 0x21, 0x42 }, { 0x21, 0x5D },
		{ 0x21, 0x71 }, { 0x21, 0x72 }, { 0x22, 0x4C },
	};

	if (a < 0x21 || a > 0x74 || b < 0x21 || b > 0x7E || a == 0x2D)
		return 0; /* past row 84, or row 13 (NEC specials) */
	for (size_t i = 0; i < sizeof(ambiguous) / sizeof(ambiguous[0]); i++)
		if (a == ambiguous[i][0] && b == ambiguous[i][1])
			return 0;
	return 1;
}

/* 1 if s is RFC 1468 ISO-2022-JP that ends in ASCII mode */
static int charset_jis_strict(const unsigned char *s, size_t n)
{
	int mode = 0; /* 0 ASCII, 1 JIS X 0201 Roman, 2 JIS X 0208 */

	for (size_t i = 0; i < n;) {
		if (s[i] == 0x1B) {
			if (n - i < 3)
				return 0;
			if (s[i + 1] == '(' && s[i + 2] == 'B')
				mode = 0;
			else if (s[i + 1] == '(' && s[i + 2] == 'J')
				mode = 1;
			else if (s[i + 1] == '$' && (s[i + 2] == 'B' || s[i + 2] == '@'))
				mode = 2;
			else
				return 0;
			i += 3;
		} else if (s[i] == 0x0E || s[i] == 0x0F || s[i] >= 0x80) {
			return 0;
		} else if (mode == 2) {
			if (n - i < 2 || !charset_jis_cell_ok(s[i], s[i + 1]))
				return 0;
			i += 2;
		} else {
			i++;
		}
	}
	return mode == 0;
}

int charset_utf8_to_jis(struct pool *p, const char *in, size_t len, struct charset_text *out)
{
	UErrorCode e = U_ZERO_ERROR;
	UConverter *cv;
	UChar *u;
	int32_t nu = 0, cap, n;
	char *d;

	memset(out, 0, sizeof(*out));
	out->s = (char *)"";
	out->used = "ISO-2022-JP";
	if (len > (size_t)INT32_MAX / 8 || !charset_is_utf8(in, len) || memchr(in, 0, len) != NULL)
		return -1;
	/* a literal escape in the text would switch the reader's mode */
	if (memchr(in, 0x1B, len) != NULL || memchr(in, 0x0E, len) != NULL ||
	    memchr(in, 0x0F, len) != NULL)
		return 0;
	if ((u = pool_alloc(p, (len + 1) * sizeof(UChar))) == NULL)
		return -1;
	u_strFromUTF8(u, (int32_t)len + 1, &nu, in, (int32_t)len, &e);
	if (U_FAILURE(e))
		return -1;
	/* worst case: every character a change of set (3 + 2 bytes), then ESC ( B */
	cap = nu * 5 + 4;
	if ((d = pool_alloc(p, (size_t)cap)) == NULL)
		return -1;
	if ((cv = charset_open(CHARSET_ICU_JIS_OUT, NULL)) == NULL)
		return -1;
	ucnv_setFromUCallBack(cv, UCNV_FROM_U_CALLBACK_STOP, NULL, NULL, NULL, &e);
	ucnv_setFallback(cv, 0);
	n = U_SUCCESS(e) ? ucnv_fromUChars(cv, d, cap, u, nu, &e) : 0;
	ucnv_close(cv);
	if (e == U_INVALID_CHAR_FOUND || e == U_ILLEGAL_CHAR_FOUND)
		return 0;
	if (U_FAILURE(e) || n >= cap)
		return -1;
	if (!charset_jis_strict((const unsigned char *)d, (size_t)n))
		return 0;
	d[n] = '\0';
	out->s = d;
	out->len = (size_t)n;
	return 1;
}

/* ---- the search form ---- */

/* white space and controls to one space, none at the ends; in place */
static int32_t charset_squeeze(UChar *u, int32_t n)
{
	int32_t o = 0;
	int space = 0;

	for (int32_t i = 0; i < n; i++) {
		UChar c = u[i];

		if (u_isUWhiteSpace(c) || u_iscntrl(c)) {
			space = o > 0;
			continue;
		}
		if (space)
			u[o++] = ' ';
		space = 0;
		u[o++] = c;
	}
	return o;
}

char *charset_fold(struct pool *p, const char *in, size_t len, size_t max_in)
{
	UErrorCode st = U_ZERO_ERROR;
	const UNormalizer2 *norm = unorm2_getNFKCCasefoldInstance(&st);
	int32_t ulen = 0, olen, blen = 0;
	UChar *u, *o;
	char *out;

	if (len > max_in)
		len = max_in;
	if (U_FAILURE(st) || len > INT32_MAX / 4 ||
	    (u = pool_alloc(p, (len + 1) * sizeof(UChar))) == NULL)
		return NULL;
	u_strFromUTF8WithSub(u, (int32_t)len + 1, &ulen, in, (int32_t)len, 0xFFFD, NULL, &st);
	if (U_FAILURE(st))
		return NULL;
	olen = unorm2_normalize(norm, u, ulen, NULL, 0, &st); /* preflight */
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return NULL;
	st = U_ZERO_ERROR;
	if ((o = pool_alloc(p, ((size_t)olen + 1) * sizeof(UChar))) == NULL)
		return NULL;
	unorm2_normalize(norm, u, ulen, o, olen + 1, &st);
	if (U_FAILURE(st))
		return NULL;
	olen = charset_squeeze(o, olen);
	u_strToUTF8(NULL, 0, &blen, o, olen, &st); /* preflight */
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return NULL;
	st = U_ZERO_ERROR;
	if ((out = pool_alloc(p, (size_t)blen + 1)) == NULL)
		return NULL;
	u_strToUTF8(out, blen + 1, NULL, o, olen, &st);
	return U_FAILURE(st) ? NULL : out;
}
