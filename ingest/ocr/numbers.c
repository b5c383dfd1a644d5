/* numbers: see numbers.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "numbers.h"
#include "utf8.h"

const char *numbers_kind_name(int kind)
{
	static const char *const names[] = { "phone", "fax", "postal", "mail" };

	return kind >= 0 && kind <= NUMBERS_MAIL ? names[kind] : "phone";
}

static int numbers_hyphen(unsigned cp)
{
	return cp == '-' || cp == 0x2010 || cp == 0x2011 || cp == 0x2012 || cp == 0x2013 ||
	       cp == 0x2014 || cp == 0x2015 || cp == 0x2212 || cp == 0x30FC || cp == 0xFF0D ||
	       cp == 0xFF70;
}

int numbers_digitlike(unsigned cp)
{
	return (cp >= '0' && cp <= '9') || (cp >= 0xFF10 && cp <= 0xFF19) || numbers_hyphen(cp) ||
	       cp == '(' || cp == ')' || cp == 0xFF08 || cp == 0xFF09;
}

/* what a 1 at the end of a number is read as by the first pass (】 on a
 * standard page): it goes on a span already begun, never starts one */
int numbers_onelike(unsigned cp)
{
	return cp == ']' || cp == 0x3011 || cp == 0x300D || cp == 0x3015 || cp == '|' ||
	       cp == 0xFF5C || cp == 'l' || cp == 'I';
}

/* the next code point of s (advancing *i), 0 at the end; bad bytes are
 * skipped one at a time */
static unsigned numbers_next(const char *s, size_t len, size_t *i)
{
	uint32_t cp;
	size_t n;

	while (*i < len) {
		n = utf8_decode(s + *i, len - *i, &cp);
		if (n > 0) {
			*i += n;
			return cp;
		}
		(*i)++;
	}
	return 0;
}

/* ASCII letters of the full-width forms, lowercased; other code points as
 * they are */
static unsigned numbers_fold(unsigned cp)
{
	if (cp >= 0xFF01 && cp <= 0xFF5E)
		cp -= 0xFEE0;
	if (cp >= 'A' && cp <= 'Z')
		cp += 32;
	return cp;
}

/* the label nearest the end of s: NUMBERS_FAX, NUMBERS_POSTAL or
 * NUMBERS_PHONE (TEL, 電話 or none) */
static int numbers_label(const char *s, int *labelled)
{
	static const struct {
		const char *word;
		int kind;
	} labels[] = {
		{ "fax", NUMBERS_FAX },		{ "ファクス", NUMBERS_FAX }, { "ファックス", NUMBERS_FAX },
		{ "ﾌｧｯｸｽ", NUMBERS_FAX },	{ "〒", NUMBERS_POSTAL },   { "郵便", NUMBERS_POSTAL },
		{ "tel", NUMBERS_PHONE },	{ "電話", NUMBERS_PHONE },  { "携帯", NUMBERS_PHONE },
	};
	char folded[512];
	size_t i = 0, len = strlen(s), o = 0;
	const char *best = NULL;
	int kind = NUMBERS_PHONE;

	while (i < len && o + 5 < sizeof(folded)) {
		unsigned cp = numbers_fold(numbers_next(s, len, &i));

		if (cp == 0)
			break;
		o += utf8_encode(folded + o, cp);
	}
	folded[o] = '\0';
	for (size_t k = 0; k < sizeof(labels) / sizeof(labels[0]); k++) {
		const char *p = folded, *hit = NULL;

		while ((p = strstr(p, labels[k].word)) != NULL)
			hit = p++;
		if (hit != NULL && (best == NULL || hit > best)) {
			best = hit;
			kind = labels[k].kind;
		}
	}
	*labelled = best != NULL;
	return kind;
}

/* the digits and hyphens of s (parentheses become hyphens; nothing
 * doubled, none at the ends) into out; the count of digits */
static int numbers_normal(const char *s, char *out, size_t outlen)
{
	size_t i = 0, len = strlen(s), o = 0;
	int digits = 0;
	unsigned cp;

	while ((cp = numbers_next(s, len, &i)) != 0 && o + 2 < outlen) {
		cp = numbers_fold(cp);
		if (cp >= '0' && cp <= '9') {
			out[o++] = (char)cp;
			digits++;
		} else if ((numbers_hyphen(cp) || cp == '(' || cp == ')') && o > 0 &&
			   out[o - 1] != '-') {
			out[o++] = '-';
		}
	}
	while (o > 0 && out[o - 1] == '-')
		o--;
	out[o] = '\0';
	return digits;
}

static struct numbers_cand *numbers_new(struct numbers_found *f)
{
	if (f->n >= NUMBERS_MAX)
		return NULL;
	if (f->n == f->cap) {
		int cap = f->cap ? 2 * f->cap : 8;
		struct numbers_cand *c = realloc(f->c, (size_t)cap * sizeof(*c));

		if (c == NULL)
			return NULL;
		f->c = c;
		f->cap = cap;
	}
	memset(&f->c[f->n], 0, sizeof(f->c[0]));
	return &f->c[f->n++];
}

static void numbers_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len) { /* cut at a character boundary */
		n = len - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* 7 digits grouped 3-4 */
static int numbers_postal_shape(const char *v)
{
	return strlen(v) == 8 && v[3] == '-' && strspn(v, "0123456789") == 3 &&
	       strspn(v + 4, "0123456789") == 4;
}

/* a Japanese telephone number's digits: ten beginning with 0 (not 00),
 * or eleven for the 0X0 ranges (070, 080, 090, 050, 020, 060) and 0800 */
static int numbers_phone_ok(const char *v)
{
	char d[16];
	size_t n = 0;

	for (; *v != '\0' && n + 1 < sizeof(d); v++)
		if (*v >= '0' && *v <= '9')
			d[n++] = *v;
	d[n] = '\0';
	if (n < 10 || d[0] != '0' || d[1] == '0')
		return 0;
	return n == 10 || (n == 11 && ((d[2] == '0' && strchr("256789", d[1]) != NULL) ||
				      strncmp(d, "0800", 4) == 0));
}

/* The number pass may drop the first digit, which the first pass saw (as
 * 0, or as 9, 6 or 8 for a slashed 0): every Japanese number begins with
 * 0, so it is put back.  v is the number pass's reading, normalised. */
static int numbers_lead_zero(const char *first, char *v, size_t len)
{
	char f[80];
	int nf = numbers_normal(first, f, sizeof(f));
	size_t n = strlen(v);

	if ((nf == 10 || nf == 11) && strchr("0986", f[0]) != NULL && n + 2 < len &&
	    v[0] != '0' && v[0] != '-') {
		memmove(v + 1, v, n + 1);
		v[0] = '0';
		if (numbers_phone_ok(v))
			return 1;
		memmove(v, v + 1, n + 1); /* not a number either way: as it was */
	}
	return 0;
}

/* A slashed 0 read as 9, 6 or 8 at the start of a number labelled as a
 * phone or fax number: no Japanese number begins with anything but 0, so
 * it is a 0 when the number is then whole.  Unlabelled, a 10-digit number
 * starting with 9 is left alone (it may be any reference number). */
static int numbers_lead_slash(char *v)
{
	char was = v[0];

	if (strchr("986", was) == NULL || was == '\0')
		return 0;
	v[0] = '0';
	if (numbers_phone_ok(v))
		return 1;
	v[0] = was;
	return 0;
}

int numbers_add(struct numbers_found *f, const char *before, const char *first, const char *digits,
		int x, int y, int w, int h)
{
	char v[80];
	int n = numbers_normal(digits ? digits : first, v, sizeof(v)), label, kind, labelled;
	struct numbers_cand *c;

	label = numbers_label(before ? before : "", &labelled);
	if (!numbers_phone_ok(v) && digits != NULL && label != NUMBERS_POSTAL && n != 7 &&
	    numbers_lead_zero(first, v, sizeof(v)) > 0)
		n++;
	if (!numbers_phone_ok(v) && labelled && label != NUMBERS_POSTAL && n != 7)
		numbers_lead_slash(v);
	if (numbers_phone_ok(v) && label != NUMBERS_POSTAL)
		kind = label == NUMBERS_FAX ? NUMBERS_FAX : NUMBERS_PHONE;
	else if (n == 7 && (label == NUMBERS_POSTAL || numbers_postal_shape(v)))
		kind = NUMBERS_POSTAL;
	else
		return 0;
	for (int i = 0; i < f->n; i++) /* the same number twice on a page: once */
		if (f->c[i].kind == kind && strcmp(f->c[i].value + (kind == NUMBERS_POSTAL ? 3 : 0),
						   v) == 0)
			return 0;
	if ((c = numbers_new(f)) == NULL)
		return 0;
	c->kind = kind;
	if (kind == NUMBERS_POSTAL && strlen(v) == 7) { /* 1600023: group it */
		memmove(v + 4, v + 3, 5);
		v[3] = '-';
	}
	numbers_copy(c->value, sizeof(c->value), "");
	if (kind == NUMBERS_POSTAL) {
		memcpy(c->value, "〒", 3);
		numbers_copy(c->value + 3, sizeof(c->value) - 3, v);
	} else {
		numbers_copy(c->value, sizeof(c->value), v);
	}
	numbers_copy(c->first, sizeof(c->first), first);
	c->x = x, c->y = y, c->w = w, c->h = h;
	return 1;
}

static int numbers_mailchar(unsigned cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') || cp == '.' || cp == '-' ||
	       cp == '_' || cp == '+' || cp == '@';
}

/* a run of mail characters holding one '@' with a dot after it */
static void numbers_mail_run(struct numbers_found *f, const char *run, int x, int y, int w, int h)
{
	const char *at = strchr(run, '@');
	struct numbers_cand *c;

	if (at == NULL || at == run || strchr(at + 1, '@') != NULL || strchr(at + 1, '.') == NULL ||
	    at[1] == '.' || run[strlen(run) - 1] == '.')
		return;
	for (int i = 0; i < f->n; i++)
		if (f->c[i].kind == NUMBERS_MAIL && strcmp(f->c[i].value, run) == 0)
			return;
	if ((c = numbers_new(f)) == NULL)
		return;
	c->kind = NUMBERS_MAIL;
	numbers_copy(c->value, sizeof(c->value), run);
	numbers_copy(c->first, sizeof(c->first), run);
	c->x = x, c->y = y, c->w = w, c->h = h;
}

/* the first code point after the spaces at *i (not advancing) */
static unsigned numbers_after_spaces(const char *s, size_t len, size_t i)
{
	unsigned cp;

	do
		cp = numbers_fold(numbers_next(s, len, &i));
	while (cp == ' ' || cp == 0x3000);
	return cp;
}

int numbers_mail(struct numbers_found *f, const char *line, int x, int y, int w, int h)
{
	char run[80];
	size_t i = 0, len = strlen(line), o = 0;
	int before = f->n;
	unsigned cp;

	do {
		cp = numbers_fold(numbers_next(line, len, &i));
		/* a space beside '.' or '@' is the OCR's, not the writer's */
		if ((cp == ' ' || cp == 0x3000) && o > 0 &&
		    (run[o - 1] == '.' || run[o - 1] == '@' ||
		     strchr(".@", (int)numbers_after_spaces(line, len, i)) != NULL))
			continue;
		if (cp != 0 && numbers_mailchar(cp) && o + 1 < sizeof(run)) {
			run[o++] = (char)cp;
			continue;
		}
		run[o] = '\0';
		if (o > 0)
			numbers_mail_run(f, run, x, y, w, h);
		o = 0;
	} while (cp != 0);
	return f->n - before;
}

void numbers_free(struct numbers_found *f)
{
	free(f->c);
	memset(f, 0, sizeof(*f));
}

static int numbers_kanji(uint32_t cp)
{
	return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF);
}

static int numbers_katakana(uint32_t cp)
{
	return cp >= 0x30A1 && cp <= 0x30FC;
}

static int numbers_among(uint32_t cp, const uint32_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == cp)
			return 1;
	return 0;
}

/* ァィゥェォッャュョヮ: they never begin a word */
static const uint32_t numbers_small_kana[] = { 0x30A1, 0x30A3, 0x30A5, 0x30A7, 0x30A9,
					       0x30C3, 0x30E3, 0x30E5, 0x30E7, 0x30EE };

/* kanji that 口 follows in words going on in katakana (窓口センター,
 * 東口ロータリー, 出口サイン) */
static const uint32_t numbers_kuchi_before[] = {
	0x7A93 /* 窓 */, 0x5165 /* 入 */, 0x51FA /* 出 */, 0x4EBA /* 人 */, 0x5E38 /* 常 */,
	0x672D /* 札 */, 0x4ED8 /* 付 */, 0x964D /* 降 */, 0x4E57 /* 乗 */, 0x5317 /* 北 */,
	0x5357 /* 南 */, 0x6771 /* 東 */, 0x897F /* 西 */, 0x88CF /* 裏 */, 0x8868 /* 表 */
};

#define NUMBERS_AMONG(cp, set) numbers_among((cp), (set), sizeof(set) / sizeof((set)[0]))

void numbers_mend_kuchi(char *text)
{
	size_t n = strlen(text);
	uint32_t prev = 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp = 0, next = 0;
		size_t len = utf8_decode(text + i, n - i, &cp);
		int mend;

		if (len == 0) {
			i++, prev = 0;
			continue;
		}
		if (cp == 0x30ED && i + len < n)
			utf8_decode(text + i + len, n - i - len, &next);
		/* beside a kanji with no katakana word around it (人ロ。); or after
		 * a kanji 口 ends in words that go on in katakana, when the next
		 * is not a long vowel or small kana (窓ロセンター, not 東ロータリー) */
		mend = cp == 0x30ED &&
		       ((!numbers_katakana(next) && !numbers_katakana(prev) &&
			 (numbers_kanji(prev) || numbers_kanji(next))) ||
			(NUMBERS_AMONG(prev, numbers_kuchi_before) && numbers_katakana(next) &&
			 next != 0x30FC && !NUMBERS_AMONG(next, numbers_small_kana)));
		if (mend) {
			memcpy(text + i, "\xE5\x8F\xA3", 3); /* 口, 3 bytes as ロ */
			cp = 0x53E3;
		}
		prev = cp;
		i += len;
	}
}
