/* forward: the original of a forwarded mail.  See forward.h.
 *
 * The inline block is found line by line in body_text (UTF-8, "\n" line
 * ends, as mime.c makes it): a marker line, up to three empty lines, then
 * "Key: value" lines until an empty line or a line that is no field.  A
 * line may be quoted ("> ") or indented; Gmail's plain text writes
 * "*From:* *Name* <a@b>".  Every scan moves forward and reads a bounded
 * number of lines after a marker, so the work is linear in the text. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "forward.h"
#include "mime.h"
#include "mime_header.h"
#include "pool.h"

#define FORWARD_SHORT_TEXT 1000 /* non-blank bytes of text beside an attached mail that still
				 * make a covering note */
#define FORWARD_BLANKS 3        /* empty lines allowed between a marker and the fields */
#define FORWARD_FIELD_LINES 16  /* field lines read in one block */
#define FORWARD_VALUE_MAX 998   /* bytes kept of a value (RFC 5322's line) */
#define FORWARD_DATE_MAX 256    /* bytes of a date looked at */
#define FORWARD_TRIES 100       /* blocks tried in one text */
#define FORWARD_JST (9 * 60)    /* Asia/Tokyo: +09:00 all year */

enum forward_key { FK_NONE, FK_FROM, FK_DATE, FK_TO, FK_SUBJECT, FK_OTHER };

enum forward_mark { FM_NONE, FM_EXPLICIT, FM_OUTLOOK };

struct forward_line {
	const char *s; /* without quoting, indentation and trailing blanks */
	size_t n;
	const char *next; /* start of the next line; NULL at the end */
};

struct forward_block {
	const char *v[FK_OTHER + 1]; /* by enum forward_key: the first value of each */
	size_t n[FK_OTHER + 1];
	int fields;
};

void forward_none(struct mime_forward *f)
{
	f->kind = NULL;
	f->from_name = f->from_addr = f->to = f->subject = "";
	f->date_us = 0;
}

/* ---- lines ---- */

/* blanks at s: ASCII or the ideographic space; their length */
static size_t forward_blank(const char *s, size_t n)
{
	if (n >= 1 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r'))
		return 1;
	if (n >= 3 && memcmp(s, "\xe3\x80\x80", 3) == 0)
		return 3;
	return 0;
}

static void forward_trim(const char **s, size_t *n)
{
	size_t k;

	while (*n > 0 && (k = forward_blank(*s, *n)) > 0)
		*s += k, *n -= k;
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
		(*n)--;
	while (*n >= 3 && memcmp(*s + *n - 3, "\xe3\x80\x80", 3) == 0)
		*n -= 3;
}

/* the line at p; quote marks and blanks before it are dropped */
static void forward_line_at(const char *p, struct forward_line *l)
{
	const char *e = strchr(p, '\n');
	size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
	size_t k;

	l->next = e != NULL ? e + 1 : NULL;
	for (;;) {
		if (n > 0 && *p == '>')
			p++, n--;
		else if ((k = forward_blank(p, n)) > 0)
			p += k, n -= k;
		else
			break;
	}
	l->s = p;
	l->n = n;
	forward_trim(&l->s, &l->n);
}

static int forward_eq(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n == k && strncasecmp(s, lit, k) == 0;
}

/* ---- markers ---- */

/* "--- label ---": the label between runs of at least two dashes */
static enum forward_mark forward_dashed(const char *s, size_t n)
{
	static const struct {
		const char *label;
		enum forward_mark m;
	} labels[] = {
		{ "original message", FM_OUTLOOK },   { "元のメッセージ", FM_OUTLOOK },
		{ "forwarded message", FM_EXPLICIT }, { "転送メッセージ", FM_EXPLICIT },
		{ "転送されたメッセージ", FM_EXPLICIT },
	};
	size_t a = 0, b = n;

	while (a < n && s[a] == '-')
		a++;
	while (b > a && s[b - 1] == '-')
		b--;
	if (a < 2 || n - b < 2)
		return FM_NONE;
	s += a;
	n = b - a;
	forward_trim(&s, &n);
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (forward_eq(s, n, labels[i].label))
			return labels[i].m;
	return FM_NONE;
}

static enum forward_mark forward_marker(const struct forward_line *l)
{
	static const char *const apple[] = { "begin forwarded message:", "転送されたメッセージ:",
					     "転送されたメッセージ：" };
	size_t u = 0;

	if (l->n >= 4 && l->s[0] == '-' && l->s[1] == '-')
		return forward_dashed(l->s, l->n);
	for (size_t i = 0; i < sizeof(apple) / sizeof(apple[0]); i++)
		if (forward_eq(l->s, l->n, apple[i]))
			return FM_EXPLICIT;
	/* Outlook's plain text: a rule of underscores before the fields */
	while (u < l->n && l->s[u] == '_')
		u++;
	return u >= 10 && u == l->n ? FM_OUTLOOK : FM_NONE;
}

/* ---- fields ---- */

static enum forward_key forward_key_of(const char *k, size_t n)
{
	static const struct {
		const char *name;
		enum forward_key key;
	} keys[] = {
		{ "from", FK_FROM },      { "差出人", FK_FROM },     { "送信者", FK_FROM },
		{ "sent", FK_DATE },      { "date", FK_DATE },       { "送信日時", FK_DATE },
		{ "日付", FK_DATE },      { "日時", FK_DATE },       { "to", FK_TO },
		{ "宛先", FK_TO },        { "subject", FK_SUBJECT }, { "件名", FK_SUBJECT },
		{ "cc", FK_OTHER },       { "bcc", FK_OTHER },       { "reply-to", FK_OTHER },
		{ "返信先", FK_OTHER },   { "importance", FK_OTHER }, { "重要度", FK_OTHER },
		{ "attachments", FK_OTHER }, { "添付ファイル", FK_OTHER }, { "添付", FK_OTHER },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (forward_eq(k, n, keys[i].name))
			return keys[i].key;
	return FK_NONE;
}

/* "Key: value", "Key：value", "*Key:* value"; the key and its value */
static enum forward_key forward_field(const struct forward_line *l, const char **v, size_t *vn)
{
	const char *s = l->s, *e = l->s + l->n, *colon = NULL;
	const char *ks, *ke;
	enum forward_key key;

	for (const char *q = s; q < e && q - s <= 24; q++)
		if (*q == ':' || (e - q >= 3 && memcmp(q, "\xef\xbc\x9a", 3) == 0)) {
			colon = q;
			break;
		}
	if (colon == NULL)
		return FK_NONE;
	ks = s;
	ke = colon;
	while (ks < ke && *ks == '*')
		ks++;
	while (ke > ks && (ke[-1] == ' ' || ke[-1] == '\t' || ke[-1] == '*'))
		ke--;
	if ((key = forward_key_of(ks, (size_t)(ke - ks))) == FK_NONE)
		return FK_NONE;
	*v = colon + (*colon == ':' ? 1 : 3);
	while (*v < e && **v == '*')
		(*v)++;
	*vn = (size_t)(e - *v);
	forward_trim(v, vn);
	return key;
}

/* the fields from line p on; 1 if they name a sender or a subject */
static int forward_block_read(const char *p, struct forward_block *b)
{
	struct forward_line l;
	int blanks = 0, lines = 0;

	memset(b, 0, sizeof(*b));
	while (p != NULL && lines < FORWARD_FIELD_LINES) {
		enum forward_key k;
		const char *v;
		size_t vn;

		forward_line_at(p, &l);
		p = l.next;
		if (l.n == 0) {
			if (b->fields > 0 || ++blanks > FORWARD_BLANKS)
				break;
			continue;
		}
		if ((k = forward_field(&l, &v, &vn)) == FK_NONE)
			break;
		lines++;
		b->fields++;
		if (b->v[k] == NULL) {
			b->v[k] = v;
			b->n[k] = vn;
		}
	}
	return b->v[FK_FROM] != NULL || b->v[FK_SUBJECT] != NULL;
}

/* ---- values ---- */

/* at most FORWARD_VALUE_MAX bytes, cut at a character; "" if none */
static const char *forward_str(struct pool *p, const char *s, size_t n)
{
	char *r;

	if (s == NULL || n == 0)
		return "";
	if (n > FORWARD_VALUE_MAX) {
		n = FORWARD_VALUE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	r = pool_strndup(p, s, n);
	return r != NULL ? r : "";
}

/* a display name: blanks, quotes and Gmail's '*' around it dropped */
static const char *forward_name(struct pool *p, const char *s, size_t n)
{
	forward_trim(&s, &n);
	while (n >= 2 && ((s[0] == '"' && s[n - 1] == '"') || (s[0] == '*' && s[n - 1] == '*') ||
			  (s[0] == '\'' && s[n - 1] == '\''))) {
		s++;
		n -= 2;
		forward_trim(&s, &n);
	}
	return forward_str(p, s, n);
}

/* "Name <a@b>", "Name [mailto:a@b]", "a@b", "Name" */
static void forward_from(struct pool *p, const char *v, size_t n, struct mime_forward *f)
{
	const char *lt = memchr(v, '<', n), *gt = NULL, *a;
	size_t an;

	if (lt == NULL || (gt = memchr(lt, '>', n - (size_t)(lt - v))) == NULL) {
		lt = v + n;
		for (const char *q = v; q + 8 <= v + n; q++)
			if (strncasecmp(q, "[mailto:", 8) == 0) {
				lt = q;
				break;
			}
		gt = lt < v + n ? memchr(lt, ']', n - (size_t)(lt - v)) : NULL;
	}
	if (gt == NULL) {
		/* no brackets: an address alone, or a name alone */
		int addr = memchr(v, '@', n) != NULL && memchr(v, ' ', n) == NULL;

		f->from_addr = addr ? forward_str(p, v, n) : "";
		f->from_name = addr ? "" : forward_name(p, v, n);
		return;
	}
	a = lt + 1;
	an = (size_t)(gt - a);
	if (*lt == '[' || (an >= 7 && strncasecmp(a, "mailto:", 7) == 0))
		a += 7, an -= 7;
	forward_trim(&a, &an);
	f->from_addr = forward_str(p, a, an);
	f->from_name = forward_name(p, v, (size_t)(lt - v));
	if (strcmp(f->from_name, f->from_addr) == 0)
		f->from_name = "";
}

static void forward_fill(struct pool *p, const struct forward_block *b, struct mime_forward *f)
{
	forward_none(f);
	f->kind = "inline";
	if (b->v[FK_FROM] != NULL)
		forward_from(p, b->v[FK_FROM], b->n[FK_FROM], f);
	f->to = forward_str(p, b->v[FK_TO], b->n[FK_TO]);
	f->subject = forward_str(p, b->v[FK_SUBJECT], b->n[FK_SUBJECT]);
	if (b->v[FK_DATE] == NULL || forward_date(b->v[FK_DATE], b->n[FK_DATE], &f->date_us) < 0)
		f->date_us = 0;
}

/* ---- the block in a text ---- */

int forward_inline(struct pool *p, const char *text, int subject_fw, struct mime_forward *f)
{
	struct forward_line l;
	struct forward_block b;
	int tries = 0;

	for (const char *q = text; q != NULL && tries < FORWARD_TRIES; q = l.next) {
		enum forward_mark m;
		const char *v;
		size_t vn;

		forward_line_at(q, &l);
		m = forward_marker(&l);
		if (m == FM_NONE && subject_fw && forward_field(&l, &v, &vn) == FK_FROM) {
			/* Outlook HTML draws its rule: only the fields are text */
			tries++;
			if (forward_block_read(q, &b) && b.v[FK_DATE] != NULL && b.fields >= 3) {
				forward_fill(p, &b, f);
				return 1;
			}
			continue;
		}
		if (m == FM_NONE || (m == FM_OUTLOOK && !subject_fw))
			continue;
		tries++;
		if (l.next != NULL && forward_block_read(l.next, &b)) {
			forward_fill(p, &b, f);
			return 1;
		}
	}
	return 0;
}

int forward_subject_fw(const char *s)
{
	static const char *const pre[] = { "fwd", "fw", "転送" };

	s += strspn(s, " \t[");
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		size_t k = strlen(pre[i]);
		const char *r;

		if (strncasecmp(s, pre[i], k) != 0)
			continue;
		r = s + k;
		r += strspn(r, " \t");
		if (*r == ':' || strncmp(r, "\xef\xbc\x9a", 3) == 0)
			return 1;
	}
	return 0;
}

/* ---- dates ---- */

static const struct {
	const char *from;
	const char *to;
	int after_digit; /* only right after a digit */
} forward_date_map[] = {
	{ "年", "/", 1 }, { "月", "/", 1 }, { "日", " ", 1 },  { "時", ":", 1 },
	{ "秒", " ", 1 }, { "午前", " am ", 0 }, { "午後", " pm ", 0 }, { "：", ":", 0 },
	{ "（", " (", 0 }, { "）", ") ", 0 }, { "／", "/", 0 },
};

/* Japanese date text made ASCII at s[i]: the bytes consumed (0: none)
 * and their replacement in rep (at most 5 bytes); digit: the output so
 * far ends in a digit */
static size_t forward_date_sub(const char *s, size_t n, size_t i, int digit, char rep[8])
{
	const unsigned char *u = (const unsigned char *)s + i;

	rep[1] = '\0';
	if (n - i >= 3 && memcmp(u, "分", 3) == 0 && digit) {
		/* 9時04分05秒: a colon before seconds, else the end of the time */
		rep[0] = i + 3 < n && s[i + 3] >= '0' && s[i + 3] <= '9' ? ':' : ' ';
		return 3;
	}
	if (n - i >= 3 && u[0] == 0xEF && u[1] == 0xBC && u[2] >= 0x90 && u[2] <= 0x99) {
		rep[0] = (char)('0' + (u[2] - 0x90)); /* a full-width digit */
		return 3;
	}
	for (size_t k = 0; k < sizeof(forward_date_map) / sizeof(forward_date_map[0]); k++) {
		size_t fl = strlen(forward_date_map[k].from);

		if (n - i >= fl && memcmp(u, forward_date_map[k].from, fl) == 0 &&
		    (!forward_date_map[k].after_digit || digit)) {
			snprintf(rep, 8, "%s", forward_date_map[k].to);
			return fl;
		}
	}
	return 0;
}

int forward_date(const char *s, size_t n, int64_t *us)
{
	char out[FORWARD_DATE_MAX + 8], rep[8];
	size_t o = 0, i = 0;

	if (n > FORWARD_DATE_MAX)
		n = FORWARD_DATE_MAX;
	while (i < n && o < FORWARD_DATE_MAX) {
		int digit = o > 0 && out[o - 1] >= '0' && out[o - 1] <= '9';
		size_t used = forward_date_sub(s, n, i, digit, rep);

		if (used == 0) {
			out[o++] = s[i++];
			continue;
		}
		for (size_t k = 0; rep[k] != '\0' && o < FORWARD_DATE_MAX; k++)
			out[o++] = rep[k];
		i += used;
	}
	return mime_header_date_zone(out, o, FORWARD_JST, us);
}

/* ---- the mail ---- */

static void forward_from_mail(struct mime_forward *f, const char *kind, const struct mime_mail *o)
{
	f->kind = kind;
	f->from_name = o->from_name;
	f->from_addr = o->from_addr;
	f->to = o->to;
	f->subject = o->subject;
	f->date_us = o->date_us;
}

/* a covering note: at most FORWARD_SHORT_TEXT bytes that are not blanks */
static int forward_short(const char *t)
{
	size_t k = 0;

	for (; *t != '\0'; t++)
		if (*t != ' ' && *t != '\t' && *t != '\n' && *t != '\r' && ++k > FORWARD_SHORT_TEXT)
			return 0;
	return 1;
}

void forward_detect(struct pool *p, struct mime_mail *m)
{
	forward_none(&m->forward);
	if (m->auto_kind == MIME_AUTO_DSN)
		return; /* the returned mail is no forward, a redirected report neither */
	if (m->resent_from != NULL || m->resent_to != NULL || m->resent_date_us != 0) {
		forward_from_mail(&m->forward, "resent", m);
		return;
	}
	if (forward_short(m->body_text))
		for (size_t i = 0; i < m->natt; i++)
			if (m->att[i].nested != NULL) {
				forward_from_mail(&m->forward, "rfc822", m->att[i].nested);
				return;
			}
	forward_inline(p, m->body_text, forward_subject_fw(m->subject), &m->forward);
}
