/* mailout_header: headers for outgoing mail.  See mailout_header.h.
 *
 * Design: text is first cut into characters (struct mailout_header_char); in
 * ISO-2022-JP mode each non-ASCII character is also converted on its own
 * (charset_utf8_to_jis), which tells both whether the whole header can
 * be written in ISO-2022-JP and how many octets any run of characters
 * takes with its escapes.  Encoded words are then filled greedily, whole
 * characters only, to the room left on the line and at most 75
 * characters, and every ISO-2022-JP word gets its own escapes, so each
 * word decodes on its own. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mailout_header.h"
#include "pool.h"

#define MAILOUT_PLAIN_WORD_MAX 60 /* longer ASCII words are encoded, so they can fold */
#define MAILOUT_PLAIN_GAP_MAX 16  /* longer runs of blanks: the whole text is encoded */
#define MAILOUT_QUOTED_MAX 70     /* longer ASCII names are encoded, so they can fold */
#define MAILOUT_ADDR_MAX 254

/* ISO-2022-JP character sets, in the order of their escapes below */
enum { MH_ASCII, MH_ROMAN, MH_X0208 };
static const char *const mailout_header_esc[] = { "\033(B", "\033(J", "\033$B" };

struct mailout_header_char {
	const char *s;        /* the UTF-8 bytes */
	unsigned char n;      /* how many */
	unsigned char set;    /* ISO-2022-JP set (jis mode) */
	unsigned char jis[2]; /* ISO-2022-JP bytes: 1 (ASCII, Roman) or 2 (JIS X 0208) */
};

struct mailout_header_text_chars {
	struct mailout_header_char *c;
	size_t n;
	int jis;              /* every character can be written in ISO-2022-JP */
};

static const char mailout_header_b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int mailout_header_fail(struct mailout_header *h, const char *why)
{
	if (!h->err)
		h->why = why;
	h->err = 1;
	return -1;
}

/* ---- the line writer ---- */

void mailout_header_begin(struct mailout_header *h, struct pool *p, struct buf *out,
			  const char *name, int jis)
{
	memset(h, 0, sizeof(*h));
	h->p = p;
	h->out = out;
	h->jis = jis;
	if (buf_append_str(out, name) < 0 || buf_append(out, ":", 1) < 0)
		mailout_header_fail(h, "message too large");
	h->col = strlen(name) + 1;
}

static void mailout_header_fold(struct mailout_header *h)
{
	if (buf_append(h->out, "\r\n", 2) < 0)
		mailout_header_fail(h, "message too large");
	h->col = 0;
}

void mailout_header_put(struct mailout_header *h, const char *sep, size_t seplen, const char *s,
			size_t n)
{
	if (sep == NULL)
		seplen = 0;
	/* also before the first piece ("Content-Type:" CRLF " long/type"),
	 * but never twice in a row: a line of blanks only is not allowed */
	if (h->col > 0 && seplen > 0 && h->col + seplen + n > MAILOUT_HEADER_WIDTH)
		mailout_header_fold(h);
	if ((seplen > 0 && buf_append(h->out, sep, seplen) < 0) || buf_append(h->out, s, n) < 0)
		mailout_header_fail(h, "message too large");
	h->col += seplen + n;
	h->pieces++;
}

static void mailout_header_puts(struct mailout_header *h, const char *s)
{
	mailout_header_put(h, " ", 1, s, strlen(s));
}

int mailout_header_end(struct mailout_header *h)
{
	if (buf_append(h->out, "\r\n", 2) < 0)
		mailout_header_fail(h, "message too large");
	return h->err ? -1 : 0;
}

/* ---- characters ---- */

static size_t mailout_header_utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* one non-ASCII character in ISO-2022-JP: 1, or 0 if it cannot be */
static int mailout_header_jis_char(struct pool *p, struct mailout_header_char *c)
{
	struct charset_text t;
	const unsigned char *s;

	if (charset_utf8_to_jis(p, c->s, c->n, &t) != 1)
		return 0;
	s = (const unsigned char *)t.s;
	/* ESC ( J x ESC ( B, or ESC $ B x y ESC ( B */
	if (t.len == 7 && memcmp(s, mailout_header_esc[MH_ROMAN], 3) == 0) {
		c->set = MH_ROMAN;
		c->jis[0] = s[3];
		return 1;
	}
	if (t.len == 8 && memcmp(s, mailout_header_esc[MH_X0208], 3) == 0) {
		c->set = MH_X0208;
		c->jis[0] = s[3];
		c->jis[1] = s[4];
		return 1;
	}
	return 0;
}

/* text (valid UTF-8 checked here) into characters; jis says whether to
 * try ISO-2022-JP.  0 or -1. */
static int mailout_header_chars(struct mailout_header *h, const char *s, size_t len, int jis,
				struct mailout_header_text_chars *cs)
{
	size_t i = 0;

	cs->n = 0;
	cs->jis = jis;
	if (!charset_is_utf8(s, len))
		return mailout_header_fail(h, "not valid UTF-8");
	if ((cs->c = pool_alloc(h->p, (len + 1) * sizeof(*cs->c))) == NULL)
		return mailout_header_fail(h, "out of memory");
	while (i < len) {
		struct mailout_header_char *c = &cs->c[cs->n++];
		unsigned char b = (unsigned char)s[i];

		memset(c, 0, sizeof(*c));
		c->s = s + i;
		c->n = (unsigned char)mailout_header_utf8_len(b);
		c->set = MH_ASCII;
		c->jis[0] = b;
		i += c->n;
		if (!cs->jis)
			continue;
		if (b >= 0x80)
			cs->jis = mailout_header_jis_char(h->p, c);
		else if (b < 0x20 && b != '\t')
			cs->jis = 0; /* an ESC or SO would break the ISO-2022-JP words */
		else if (b == 0x7F)
			cs->jis = 0;
	}
	return 0;
}

static int mailout_header_blank(const struct mailout_header_char *c)
{
	return c->n == 1 && (c->s[0] == ' ' || c->s[0] == '\t');
}

/* ---- encoded words ---- */

static size_t mailout_header_b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t mailout_header_b64(char *d, const unsigned char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		d[o++] = mailout_header_b64chars[(v >> 18) & 63];
		d[o++] = mailout_header_b64chars[(v >> 12) & 63];
		d[o++] = i + 1 < n ? mailout_header_b64chars[(v >> 6) & 63] : '=';
		d[o++] = i + 2 < n ? mailout_header_b64chars[v & 63] : '=';
	}
	return o;
}

static const char *mailout_header_word_head(int jis)
{
	return jis ? "=?ISO-2022-JP?B?" : "=?UTF-8?B?";
}

/* how many of the characters c[0..n) fit in one encoded word of at most
 * max characters (0 if not even the first) */
static size_t mailout_header_fit(const struct mailout_header_char *c, size_t n, int jis, size_t max)
{
	size_t over = strlen(mailout_header_word_head(jis)) + 2, bytes = 0, k;
	int set = MH_ASCII;

	for (k = 0; k < n; k++) {
		size_t b = bytes, total;
		int s = set;

		if (jis) {
			if (c[k].set != s)
				b += 3, s = c[k].set;
			b += c[k].set == MH_X0208 ? 2 : 1;
		} else {
			b += c[k].n;
		}
		total = b + (jis && s != MH_ASCII ? 3 : 0);
		if (over + mailout_header_b64_len(total) > max)
			break;
		bytes = b;
		set = s;
	}
	return k;
}

/* the encoded word for c[0..n) into w (room for 76 + NUL); its length */
static size_t mailout_header_word(const struct mailout_header_char *c, size_t n, int jis, char *w)
{
	unsigned char raw[MAILOUT_HEADER_WORD_MAX];
	size_t r = 0, o;
	int set = MH_ASCII;

	for (size_t k = 0; k < n && r + 8 <= sizeof(raw); k++) {
		if (!jis) {
			memcpy(raw + r, c[k].s, c[k].n);
			r += c[k].n;
			continue;
		}
		if (c[k].set != set) {
			set = c[k].set;
			memcpy(raw + r, mailout_header_esc[set], 3);
			r += 3;
		}
		raw[r++] = c[k].jis[0];
		if (set == MH_X0208)
			raw[r++] = c[k].jis[1];
	}
	if (jis && set != MH_ASCII) {
		memcpy(raw + r, mailout_header_esc[MH_ASCII], 3);
		r += 3;
	}
	o = (size_t)snprintf(w, MAILOUT_HEADER_WORD_MAX + 1, "%s", mailout_header_word_head(jis));
	o += mailout_header_b64(w + o, raw, r);
	w[o++] = '?';
	w[o++] = '=';
	w[o] = '\0';
	return o;
}

/* how many fit in a word on a line with room characters left */
static size_t mailout_header_fit_room(const struct mailout_header_char *c, size_t n, int jis,
				      size_t room)
{
	return mailout_header_fit(c, n, jis, room < MAILOUT_HEADER_WORD_MAX ? room
								   : MAILOUT_HEADER_WORD_MAX);
}

/* c[0..n) as encoded words: sep before the first (later ones get " ",
 * which decoders drop between encoded words), prefix glued before the
 * first, suffix after the last.  whole: when the run fits one word but
 * not the rest of this line, fold first rather than split it. */
static void mailout_header_words(struct mailout_header *h, const char *sep, const char *prefix,
				 const struct mailout_header_char *c, size_t n, int jis,
				 const char *suffix, int whole)
{
	size_t i = 0;

	while (i < n && !h->err) {
		const char *sp = i == 0 ? sep : " ";
		const char *pre = i == 0 ? prefix : "";
		size_t fixed = strlen(sp) + strlen(pre) + strlen(suffix), room, k;
		char w[MAILOUT_HEADER_WORD_MAX + 1], *piece;

		room = MAILOUT_HEADER_WIDTH > h->col + fixed ? MAILOUT_HEADER_WIDTH - h->col - fixed : 0;
		k = mailout_header_fit_room(c + i, n - i, jis, room);
		/* fold first when nothing fits, when only a short word would
		 * fit here, or to keep a run whole (never right after the name) */
		if (k < n - i && h->col > 0 && *sp != '\0' &&
		    (k == 0 || (h->pieces > 0 &&
				(room < MAILOUT_HEADER_WORD_MAX / 2 ||
				 (whole && mailout_header_fit_room(c + i, n - i, jis, SIZE_MAX) == n - i))))) {
			mailout_header_fold(h);
			k = mailout_header_fit_room(c + i, n - i, jis, MAILOUT_HEADER_WIDTH - fixed);
		}
		if (k == 0)
			k = 1; /* cannot happen with our prefixes; never loop */
		mailout_header_word(c + i, k, jis, w);
		piece = pool_printf(h->p, "%s%s%s", pre, w, i + k == n ? suffix : "");
		if (piece == NULL) {
			mailout_header_fail(h, "out of memory");
			return;
		}
		mailout_header_put(h, sp, strlen(sp), piece, strlen(piece));
		i += k;
	}
}

/* ---- unstructured text ---- */

/* a header is one line: CR and LF become spaces */
static char *mailout_header_oneline(struct mailout_header *h, const char *s, size_t n)
{
	char *r = pool_strndup(h->p, s, n);

	if (r == NULL) {
		mailout_header_fail(h, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (r[i] == '\r' || r[i] == '\n')
			r[i] = ' ';
	return r;
}

/* 1 if c[0..n) may stay raw: printable ASCII, short, not like "=?" */
static int mailout_header_plain(const struct mailout_header_char *c, size_t n)
{
	if (n > MAILOUT_PLAIN_WORD_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)c[i].s[0];

		if (c[i].n != 1 || b <= 0x20 || b >= 0x7F)
			return 0;
		if (b == '=' && i + 1 < n && c[i + 1].s[0] == '?')
			return 0;
	}
	return 1;
}

/* leading or trailing blanks (a reader drops them) or a long run of them
 * (it could not fold): encode the whole text instead */
static int mailout_header_odd_blanks(const struct mailout_header_char *c, size_t n)
{
	size_t run = 0;

	if (n > 0 && (mailout_header_blank(&c[0]) || mailout_header_blank(&c[n - 1])))
		return 1;
	for (size_t i = 0; i < n; i++) {
		run = mailout_header_blank(&c[i]) ? run + 1 : 0;
		if (run > MAILOUT_PLAIN_GAP_MAX)
			return 1;
	}
	return 0;
}

static size_t mailout_header_word_end(const struct mailout_header_char *c, size_t n, size_t i)
{
	while (i < n && !mailout_header_blank(&c[i]))
		i++;
	return i;
}

static size_t mailout_header_blank_end(const struct mailout_header_char *c, size_t n, size_t i)
{
	while (i < n && mailout_header_blank(&c[i]))
		i++;
	return i;
}

/* from the word at i, the end of the run of words that need encoding
 * (with the blanks between them, which go inside the encoded words) */
static size_t mailout_header_run_end(const struct mailout_header_char *c, size_t n, size_t i)
{
	size_t e = mailout_header_word_end(c, n, i);

	for (;;) {
		size_t k = mailout_header_blank_end(c, n, e), j;

		if (k >= n)
			return e;
		j = mailout_header_word_end(c, n, k);
		if (mailout_header_plain(c + k, j - k))
			return e;
		e = j;
	}
}

int mailout_header_text(struct mailout_header *h, const char *text)
{
	struct mailout_header_text_chars cs;
	const char *sep = " ";
	size_t seplen = 1, i = 0;
	char *t = mailout_header_oneline(h, text, strlen(text));

	if (t == NULL || mailout_header_chars(h, t, strlen(t), h->jis, &cs) < 0)
		return -1;
	if (mailout_header_odd_blanks(cs.c, cs.n)) {
		mailout_header_words(h, " ", "", cs.c, cs.n, cs.jis, "", 0);
		return h->err ? -1 : 0;
	}
	while (i < cs.n && !h->err) {
		size_t j = mailout_header_word_end(cs.c, cs.n, i), k;

		if (mailout_header_plain(cs.c + i, j - i)) {
			mailout_header_put(h, sep, seplen, cs.c[i].s, (size_t)(cs.c[j - 1].s - cs.c[i].s) + 1);
		} else {
			char *s = pool_strndup(h->p, sep, seplen);

			j = mailout_header_run_end(cs.c, cs.n, i);
			if (s == NULL)
				return mailout_header_fail(h, "out of memory");
			mailout_header_words(h, s, "", cs.c + i, j - i, cs.jis, "", 0);
		}
		k = mailout_header_blank_end(cs.c, cs.n, j);
		if (k > j) {
			sep = cs.c[j].s;
			seplen = (size_t)(cs.c[k - 1].s - sep) + 1;
		}
		i = k;
	}
	return h->err ? -1 : 0;
}

/* ---- display names and addresses ---- */

static int mailout_header_atext(unsigned char b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
	       (b != 0 && strchr("!#$%&'*+-/=?^_`{|}~", b) != NULL);
}

/* 1 if name is atoms separated by single spaces */
static int mailout_header_atoms(const char *s, size_t n)
{
	if (n == 0 || n > MAILOUT_QUOTED_MAX || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if (b == ' ' ? s[i + 1] == ' ' : !mailout_header_atext(b))
			return 0;
		if (b == '=' && i + 1 < n && s[i + 1] == '?')
			return 0;
	}
	return 1;
}

/* 1 if name can be a quoted string: printable ASCII, short, not "=?" */
static int mailout_header_quotable(const char *s, size_t n)
{
	if (n > MAILOUT_QUOTED_MAX || memmem(s, n, "=?", 2) != NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7F)
			return 0;
	return 1;
}

static void mailout_header_quoted(struct mailout_header *h, const char *s, size_t n)
{
	char *q = pool_alloc(h->p, 2 * n + 3);
	size_t o = 0;

	if (q == NULL) {
		mailout_header_fail(h, "out of memory");
		return;
	}
	q[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			q[o++] = '\\';
		q[o++] = s[i];
	}
	q[o++] = '"';
	mailout_header_put(h, " ", 1, q, o);
}

/* the width of a name written as one piece or one encoded word; 0 if
 * it takes several words */
static size_t mailout_header_phrase_width(const char *s, size_t n, int kind,
					  const struct mailout_header_text_chars *cs)
{
	char w[MAILOUT_HEADER_WORD_MAX + 1];
	size_t q = 2;

	if (kind == 0)
		return n;
	if (kind == 1) {
		for (size_t i = 0; i < n; i++)
			q += (s[i] == '"' || s[i] == '\\') ? 2 : 1;
		return q;
	}
	if (mailout_header_fit_room(cs->c, cs->n, cs->jis, SIZE_MAX) < cs->n)
		return 0;
	return mailout_header_word(cs->c, cs->n, cs->jis, w);
}

/* a display name; tail is the width of what must follow it (" <addr>,"):
 * a mailbox that fits a line of its own is not split over two */
static int mailout_header_phrase(struct mailout_header *h, const char *name, size_t n, size_t tail)
{
	struct mailout_header_text_chars cs = { NULL, 0, 0 };
	char *s = mailout_header_oneline(h, name, n);
	int kind;
	size_t w, i = 0;

	if (s == NULL)
		return -1;
	kind = mailout_header_atoms(s, n) ? 0 : mailout_header_quotable(s, n) ? 1 : 2;
	if (kind == 2 && mailout_header_chars(h, s, n, h->jis, &cs) < 0)
		return -1;
	w = mailout_header_phrase_width(s, n, kind, &cs);
	if (w > 0 && h->pieces > 0 && h->col + 1 + w + tail > MAILOUT_HEADER_WIDTH &&
	    1 + w + tail <= MAILOUT_HEADER_WIDTH)
		mailout_header_fold(h);
	if (kind == 0) {
		while (i < n) {
			size_t j = i;

			while (j < n && s[j] != ' ')
				j++;
			mailout_header_put(h, " ", 1, s + i, j - i);
			i = j + 1;
		}
	} else if (kind == 1) {
		mailout_header_quoted(h, s, n);
	} else {
		mailout_header_words(h, " ", "", cs.c, cs.n, cs.jis, "", 1);
	}
	return h->err ? -1 : 0;
}

int mailout_header_addr_ok(const char *a, size_t n)
{
	const char *at = memchr(a, '@', n);

	if (n > MAILOUT_ADDR_MAX || at == NULL || at == a || at == a + n - 1 ||
	    memchr(at + 1, '@', (size_t)(a + n - at - 1)) != NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)a[i];

		if (b <= 0x20 || b >= 0x7F || strchr("()<>[]:;\\,\"", b) != NULL)
			return 0;
	}
	return 1;
}

int mailout_header_mailbox(struct mailout_header *h, const char *name, size_t namelen,
			   const char *addr, size_t addrlen, int comma)
{
	char *a;

	if (!mailout_header_addr_ok(addr, addrlen))
		return mailout_header_fail(h, "an entry is not a plain address");
	if (namelen > 0 && mailout_header_phrase(h, name, namelen, addrlen + 3 + (comma != 0)) < 0)
		return -1;
	a = namelen > 0 ? pool_printf(h->p, "<%.*s>%s", (int)addrlen, addr, comma ? "," : "")
			: pool_printf(h->p, "%.*s%s", (int)addrlen, addr, comma ? "," : "");
	if (a == NULL)
		return mailout_header_fail(h, "out of memory");
	mailout_header_puts(h, a);
	return h->err ? -1 : 0;
}

/* ---- address lists ---- */

struct mailout_header_entry {
	const char *name, *addr;
	size_t namelen, addrlen;
};

static void mailout_header_trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t' || **s == '\r' || **s == '\n'))
		(*s)++, (*n)--;
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r' ||
			  (*s)[*n - 1] == '\n'))
		(*n)--;
}

/* "Name <a@b>", "\"Name\" <a@b>" or "a@b" into name and address; a
 * quoted name is unquoted.  0, or -1 if there is no address. */
static int mailout_header_entry_parse(struct mailout_header *h, const char *s, size_t n,
			       struct mailout_header_entry *e)
{
	const char *lt = NULL, *gt = NULL;
	int q = 0;

	for (size_t i = 0; i < n; i++) {
		if (q && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			q = !q;
		else if (!q && s[i] == '<' && lt == NULL)
			lt = s + i;
		else if (!q && s[i] == '>' && lt != NULL && gt == NULL)
			gt = s + i;
	}
	e->name = s;
	e->namelen = 0;
	e->addr = s;
	e->addrlen = n;
	if (lt != NULL) {
		const char *rest = gt != NULL ? gt + 1 : s + n;
		size_t restlen = (size_t)(s + n - rest);

		mailout_header_trim(&rest, &restlen);
		if (gt == NULL || restlen > 0)
			return -1;
		e->namelen = (size_t)(lt - s);
		e->addr = lt + 1;
		e->addrlen = (size_t)(gt - lt - 1);
	}
	mailout_header_trim(&e->name, &e->namelen);
	mailout_header_trim(&e->addr, &e->addrlen);
	if (e->namelen >= 2 && e->name[0] == '"' && e->name[e->namelen - 1] == '"') {
		char *u = pool_alloc(h->p, e->namelen);
		size_t o = 0;

		if (u == NULL)
			return -1;
		for (size_t i = 1; i + 1 < e->namelen; i++) {
			if (e->name[i] == '\\' && i + 2 < e->namelen)
				i++;
			u[o++] = e->name[i];
		}
		u[o] = '\0';
		e->name = u;
		e->namelen = o;
	}
	return 0;
}

/* the end of the entry starting at s: a comma outside quotes and <>,
 * once the entry has an address (so "Yamada, Taro <a@b>" is one entry,
 * as lib/mime writes names unquoted) */
static size_t mailout_header_entry_end(const char *s, size_t n)
{
	int q = 0, angle = 0, has_addr = 0, has_at = 0;

	for (size_t i = 0; i < n; i++) {
		if (q && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			q = !q;
		else if (q)
			continue;
		else if (s[i] == '<')
			angle = 1;
		else if (s[i] == '>' && angle)
			angle = 0, has_addr = 1;
		else if (s[i] == '@')
			has_at = 1;
		else if (s[i] == ',' && !angle && (has_addr || has_at))
			return i;
	}
	return n;
}

/* past blanks and empty entries (",  ,") */
static void mailout_header_skip_empty(const char **s, size_t *n)
{
	mailout_header_trim(s, n);
	while (*n > 0 && **s == ',') {
		(*s)++, (*n)--;
		mailout_header_trim(s, n);
	}
}

int mailout_header_list(struct mailout_header *h, const char *list)
{
	struct mailout_header_entry e;
	const char *s = list;
	size_t n = strlen(list);
	int count = 0;

	mailout_header_skip_empty(&s, &n);
	while (n > 0 && !h->err) {
		size_t end = mailout_header_entry_end(s, n);
		const char *next = s + end;
		size_t nextlen = n - end;

		mailout_header_skip_empty(&next, &nextlen);
		if (mailout_header_entry_parse(h, s, end, &e) < 0)
			return mailout_header_fail(h, "an entry is not a plain address");
		if (mailout_header_mailbox(h, e.name, e.namelen, e.addr, e.addrlen, nextlen > 0) < 0)
			return -1;
		count++;
		s = next;
		n = nextlen;
	}
	return h->err ? -1 : count;
}

/* ---- attachment file names ---- */

static int mailout_header_controls(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return 1;
	return 0;
}

/* 1 if the name can go as name="..." and filename="..." as it is */
static int mailout_header_plain_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAILOUT_PLAIN_WORD_MAX || s[0] == ' ' || s[n - 1] == ' ' ||
	    strstr(s, "=?") != NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7F || s[i] == '"' ||
		    s[i] == '\\')
			return 0;
	return 1;
}

int mailout_header_name_param(struct mailout_header *h, const char *name)
{
	struct mailout_header_text_chars cs;
	char *piece;

	if (!charset_is_utf8(name, strlen(name)) || mailout_header_controls(name))
		return mailout_header_fail(h, "file name not valid UTF-8 or with a control character");
	if (mailout_header_plain_name(name)) {
		if ((piece = pool_printf(h->p, "name=\"%s\"", name)) == NULL)
			return mailout_header_fail(h, "out of memory");
		mailout_header_puts(h, piece);
		return h->err ? -1 : 0;
	}
	if (mailout_header_chars(h, name, strlen(name), h->jis, &cs) < 0)
		return -1;
	mailout_header_words(h, " ", "name=\"", cs.c, cs.n, cs.jis, "\"", 0);
	return h->err ? -1 : 0;
}

/* RFC 2231 / RFC 5987 attr-char: what needs no %XX */
static int mailout_header_attr_char(unsigned char b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
	       (b != 0 && strchr("!#$&+-.^_`|~", b) != NULL);
}

/* one character's octets percent-encoded into d (room for 12); length */
static size_t mailout_header_pct(char *d, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if (mailout_header_attr_char(b)) {
			d[o++] = (char)b;
		} else {
			d[o++] = '%';
			d[o++] = hex[b >> 4];
			d[o++] = hex[b & 15];
		}
	}
	return o;
}

/* filename*0*=UTF-8''...; filename*1*=...: pieces cut between
 * characters, each short enough for its own line */
static int mailout_header_2231(struct mailout_header *h, const char *name)
{
	size_t n = strlen(name), i = 0, single = 0, head;
	struct buf seg;
	char enc[12];
	int part = 0;

	for (size_t k = 0; k < n; k += mailout_header_utf8_len((unsigned char)name[k]))
		single += mailout_header_pct(enc, name + k, mailout_header_utf8_len((unsigned char)name[k]));
	buf_init(&seg, 1024);
	if (1 + strlen("filename*=UTF-8''") + single <= MAILOUT_HEADER_WIDTH) {
		buf_append_str(&seg, "filename*=UTF-8''");
		for (size_t k = 0; k < n; k += mailout_header_utf8_len((unsigned char)name[k]))
			buf_append(&seg, enc, mailout_header_pct(enc, name + k, mailout_header_utf8_len((unsigned char)name[k])));
		mailout_header_put(h, " ", 1, seg.data, seg.len);
		buf_free(&seg);
		return h->err ? -1 : 0;
	}
	while (i < n && !h->err) {
		buf_reset(&seg);
		buf_printf(&seg, "filename*%d*=%s", part, part == 0 ? "UTF-8''" : "");
		head = seg.len;
		while (i < n) {
			size_t cl = mailout_header_utf8_len((unsigned char)name[i]);
			size_t el = mailout_header_pct(enc, name + i, cl);

			/* 1 for the blank before, 1 for the ';' after */
			if (seg.len + el + 2 > MAILOUT_HEADER_WIDTH && seg.len > head)
				break;
			buf_append(&seg, enc, el);
			i += cl;
		}
		if (i < n)
			buf_append(&seg, ";", 1);
		mailout_header_put(h, " ", 1, seg.data, seg.len);
		part++;
	}
	buf_free(&seg);
	return h->err ? -1 : 0;
}

int mailout_header_filename(struct mailout_header *h, const char *name)
{
	char *piece;

	if (!charset_is_utf8(name, strlen(name)) || mailout_header_controls(name))
		return mailout_header_fail(h, "file name not valid UTF-8 or with a control character");
	if (!mailout_header_plain_name(name))
		return mailout_header_2231(h, name);
	if ((piece = pool_printf(h->p, "filename=\"%s\"", name)) == NULL)
		return mailout_header_fail(h, "out of memory");
	mailout_header_puts(h, piece);
	return h->err ? -1 : 0;
}
