/* mailout: outgoing mail as bytes.  See mailout.h for the contract.
 *
 * Design: the message is written straight into the caller's buffer in
 * one pass: headers (mailout_header.c folds and encodes them), then the
 * text, then the attachments.  The text is prepared first (line ends made
 * CRLF, ISO-2022-JP tried line by line, the transfer encoding chosen from
 * what came out), because the headers depend on it.  A last scan checks
 * the invariants every sender relies on -- 7-bit, CRLF only, no line over
 * 998 octets -- so a bug here shows as an error, never as a broken mail. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "charset.h"
#include "clock.h"
#include "mailout.h"
#include "mailout_header.h"
#include "pool.h"
#include "pwhash.h"

#define MAILOUT_LINE_MAX 998     /* RFC 5322 2.1.1 */
#define MAILOUT_B64_COLS 76      /* RFC 2045 6.8 */
#define MAILOUT_ID_MAX 250       /* a message id we write, without <> */
#define MAILOUT_REFS_MAX 20      /* References: the first id and the last 19 */
#define MAILOUT_RANDOM_BYTES 16  /* 128 random bits in each Message-ID */
#define MAILOUT_TAG_MAX 256      /* a subject tag format */
#define MAILOUT_TAG_DIGITS 18    /* fits a long long */

struct mailout_text {
	const char *charset;     /* "UTF-8" or "ISO-2022-JP" */
	int base64;              /* else 7bit */
	struct buf data;         /* the octets to send, CRLF line ends */
};

struct mailout_ctx {
	struct pool *p;
	const struct mailout *m;
	struct buf *out;
	const char *why;
	char id[MAILOUT_ID_MAX + 1];
	struct mailout_text text;
};

static int mailout_fail(struct mailout_ctx *c, const char *why)
{
	if (c->why == NULL)
		c->why = why;
	return -1;
}

/* ---- ids ---- */

static int mailout_dot_atom(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if (!((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
		      (b != 0 && strchr("!#$%&'*+-/=?^_`{|}~.", b) != NULL)))
			return 0;
	}
	return 1;
}

/* an id we write ourselves: dot-atom "@" dot-atom */
static int mailout_own_id_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	return at != NULL && n <= MAILOUT_ID_MAX && mailout_dot_atom(s, (size_t)(at - s)) &&
	       mailout_dot_atom(at + 1, (size_t)(s + n - at - 1));
}

/* an id from someone's mail, to be put back in <>: printable ASCII
 * without blanks or angle brackets, bounded */
static int mailout_foreign_id_ok(const char *s, size_t n)
{
	if (n == 0 || n > MAILOUT_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F || s[i] == '<' ||
		    s[i] == '>')
			return 0;
	return 1;
}

static int mailout_make_id(struct mailout_ctx *c)
{
	const struct mailout *m = c->m;
	char hex[2 * MAILOUT_RANDOM_BYTES + 1];

	if (m->message_id != NULL) {
		if (!mailout_own_id_ok(m->message_id))
			return mailout_fail(c, "Message-ID: not dot-atom@dot-atom");
		snprintf(c->id, sizeof(c->id), "%s", m->message_id);
		return 0;
	}
	if (m->message_id_domain == NULL ||
	    !mailout_dot_atom(m->message_id_domain, strlen(m->message_id_domain)) ||
	    strlen(m->message_id_domain) > MAILOUT_ID_MAX - sizeof(hex))
		return mailout_fail(c, "Message-ID: bad domain");
	if (pwhash_random_hex(hex, MAILOUT_RANDOM_BYTES) < 0)
		return mailout_fail(c, "Message-ID: no random bytes");
	snprintf(c->id, sizeof(c->id), "%s@%s", hex, m->message_id_domain);
	return 0;
}

/* ---- fixed headers ---- */

static int mailout_date(struct mailout_ctx *c)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t us = c->m->date_us != 0 ? c->m->date_us : clock_now_us();
	int64_t sec = us / 1000000 - (us % 1000000 < 0 ? 1 : 0);
	time_t t = (time_t)(sec + 9 * 3600); /* Asia/Tokyo: +0900, no summer time */
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return mailout_fail(c, "Date: out of range");
	if (buf_printf(c->out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0900\r\n", days[tm.tm_wday],
		       tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		       tm.tm_sec) < 0)
		return mailout_fail(c, "message too large");
	return 0;
}

/* the next id of a space-separated list; NULL at the end */
static const char *mailout_next_id(const char **s, size_t *n)
{
	const char *p = *s, *e;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p == '\0')
		return NULL;
	for (e = p; *e != '\0' && *e != ' ' && *e != '\t' && *e != '\r' && *e != '\n'; e++)
		;
	*s = e;
	*n = (size_t)(e - p);
	return p;
}

struct mailout_refs {
	const char *id[MAILOUT_REFS_MAX];
	size_t len[MAILOUT_REFS_MAX];
	size_t n;
};

/* append an id; when full, the second goes (the first names the thread) */
static void mailout_refs_add(struct mailout_refs *r, const char *id, size_t n)
{
	if (r->n == MAILOUT_REFS_MAX) {
		memmove(r->id + 1, r->id + 2, (MAILOUT_REFS_MAX - 2) * sizeof(r->id[0]));
		memmove(r->len + 1, r->len + 2, (MAILOUT_REFS_MAX - 2) * sizeof(r->len[0]));
		r->n--;
	}
	r->id[r->n] = id;
	r->len[r->n++] = n;
}

static int mailout_threading(struct mailout_ctx *c)
{
	const struct mailout *m = c->m;
	const char *s = m->references != NULL ? m->references : "", *id;
	struct mailout_refs r = { .n = 0 };
	struct mailout_header h;
	size_t n, irt = 0;

	if (m->in_reply_to != NULL && mailout_foreign_id_ok(m->in_reply_to, strlen(m->in_reply_to))) {
		irt = strlen(m->in_reply_to);
		if (buf_printf(c->out, "In-Reply-To: <%s>\r\n", m->in_reply_to) < 0)
			return mailout_fail(c, "message too large");
	}
	while ((id = mailout_next_id(&s, &n)) != NULL)
		if (mailout_foreign_id_ok(id, n))
			mailout_refs_add(&r, id, n);
	if (irt > 0 && (r.n == 0 || r.len[r.n - 1] != irt ||
			memcmp(r.id[r.n - 1], m->in_reply_to, irt) != 0))
		mailout_refs_add(&r, m->in_reply_to, irt);
	if (r.n == 0)
		return 0;
	mailout_header_begin(&h, c->p, c->out, "References", 0);
	for (size_t i = 0; i < r.n; i++) {
		char *piece = pool_printf(c->p, "<%.*s>", (int)r.len[i], r.id[i]);

		if (piece == NULL)
			return mailout_fail(c, "out of memory");
		mailout_header_put(&h, " ", 1, piece, strlen(piece));
	}
	return mailout_header_end(&h) < 0 ? mailout_fail(c, h.why) : 0;
}

/* ---- address and text headers ---- */

static int mailout_field_error(struct mailout_ctx *c, const char *name, const char *why)
{
	const char *s = pool_printf(c->p, "%s: %s", name, why != NULL ? why : "failed");

	return mailout_fail(c, s != NULL ? s : "out of memory");
}

static int mailout_list_header(struct mailout_ctx *c, const char *name, const char *list)
{
	struct mailout_header h;
	size_t mark = c->out->len;
	int n;

	if (list == NULL)
		return 0;
	mailout_header_begin(&h, c->p, c->out, name, c->m->iso2022jp);
	n = mailout_header_list(&h, list);
	if (mailout_header_end(&h) < 0 || n < 0)
		return mailout_field_error(c, name, h.why);
	if (n == 0) { /* nothing but blanks and commas: no header */
		c->out->len = mark;
		c->out->data[mark] = '\0';
	}
	return n;
}

static int mailout_addresses(struct mailout_ctx *c)
{
	const struct mailout *m = c->m;
	const char *name = m->from_name != NULL ? m->from_name : "";
	struct mailout_header h;
	int nto, ncc;

	if (m->from_addr == NULL)
		return mailout_fail(c, "From: no address");
	mailout_header_begin(&h, c->p, c->out, "From", m->iso2022jp);
	mailout_header_mailbox(&h, name, strlen(name), m->from_addr, strlen(m->from_addr), 0);
	if (mailout_header_end(&h) < 0)
		return mailout_field_error(c, "From", h.why);
	if ((nto = mailout_list_header(c, "To", m->to)) < 0 ||
	    (ncc = mailout_list_header(c, "Cc", m->cc)) < 0 ||
	    mailout_list_header(c, "Reply-To", m->reply_to) < 0)
		return -1;
	if (nto + ncc == 0)
		return mailout_fail(c, "To: no recipient in To or Cc");
	return 0;
}

static int mailout_subject(struct mailout_ctx *c)
{
	struct mailout_header h;

	mailout_header_begin(&h, c->p, c->out, "Subject", c->m->iso2022jp);
	mailout_header_text(&h, c->m->subject != NULL ? c->m->subject : "");
	return mailout_header_end(&h) < 0 ? mailout_field_error(c, "Subject", h.why) : 0;
}

/* ---- the text ---- */

/* LF, CRLF and lone CR to CRLF, with a last line end; the longest line
 * and whether every line is plain ASCII (printable or TAB) */
static int mailout_text_lines(struct mailout_ctx *c, const char *s, struct buf *d, size_t *longest,
			      int *plain)
{
	size_t line = 0;

	*longest = 0;
	*plain = 1;
	for (; *s != '\0'; s++) {
		unsigned char b = (unsigned char)*s;

		if (b == '\r' || b == '\n') {
			if (b == '\r' && s[1] == '\n')
				s++;
			if (buf_append(d, "\r\n", 2) < 0)
				return mailout_fail(c, "body: message too large");
			line = 0;
			continue;
		}
		if (buf_append(d, s, 1) < 0)
			return mailout_fail(c, "body: message too large");
		if (++line > *longest)
			*longest = line;
		if ((b < 0x20 && b != '\t') || b >= 0x7F)
			*plain = 0;
	}
	if (d->len > 0 && d->data[d->len - 1] != '\n' && buf_append(d, "\r\n", 2) < 0)
		return mailout_fail(c, "body: message too large");
	return 0;
}

/* the CRLF text in ISO-2022-JP, line by line so that every line ends in
 * ASCII mode: 1 done, 0 some line cannot be written so, -1 error */
static int mailout_text_jis(struct mailout_ctx *c, const struct buf *u, struct buf *d,
			    size_t *longest)
{
	const char *s = u->data, *e = u->data + u->len;

	*longest = 0;
	while (s < e) {
		const char *nl = memchr(s, '\r', (size_t)(e - s));
		size_t n = nl != NULL ? (size_t)(nl - s) : (size_t)(e - s);
		struct charset_text t;
		int r = charset_utf8_to_jis(c->p, s, n, &t);

		if (r < 0)
			return mailout_fail(c, "body: out of memory");
		if (r == 0)
			return 0;
		for (size_t i = 0; i < t.len; i++)
			if ((unsigned char)t.s[i] < 0x20 && t.s[i] != '\t' && t.s[i] != 0x1B)
				return 0; /* a control character: leave it to base64 */
		if (buf_append(d, t.s, t.len) < 0 || buf_append(d, "\r\n", 2) < 0)
			return mailout_fail(c, "body: message too large");
		if (t.len > *longest)
			*longest = t.len;
		s += n + 2;
	}
	return 1;
}

static int mailout_text(struct mailout_ctx *c)
{
	const char *body = c->m->body != NULL ? c->m->body : "";
	struct mailout_text *t = &c->text;
	struct buf jis;
	size_t longest, jlongest;
	int plain, r;

	buf_init(&t->data, c->out->max);
	t->charset = "UTF-8";
	if (!charset_is_utf8(body, strlen(body)))
		return mailout_fail(c, "body: not valid UTF-8");
	if (mailout_text_lines(c, body, &t->data, &longest, &plain) < 0)
		return -1;
	t->base64 = !plain || longest > MAILOUT_LINE_MAX;
	if (!c->m->iso2022jp)
		return 0;
	buf_init(&jis, c->out->max);
	r = mailout_text_jis(c, &t->data, &jis, &jlongest);
	if (r == 1) {
		buf_free(&t->data);
		t->data = jis;
		t->charset = "ISO-2022-JP";
		t->base64 = jlongest > MAILOUT_LINE_MAX;
		return 0;
	}
	buf_free(&jis);
	return r;
}

/* ---- body writers ---- */

static int mailout_base64(struct mailout_ctx *c, const unsigned char *s, size_t n)
{
	/* 57 input bytes make one 76-column line */
	const size_t chunk = MAILOUT_B64_COLS / 4 * 3;
	char line[MAILOUT_B64_COLS + 2];

	for (size_t i = 0; i < n; i += chunk) {
		size_t o = mailout_header_b64(line, s + i, n - i < chunk ? n - i : chunk);

		line[o++] = '\r';
		line[o++] = '\n';
		if (buf_append(c->out, line, o) < 0)
			return mailout_fail(c, "message too large");
	}
	return 0;
}

static int mailout_text_part(struct mailout_ctx *c)
{
	const struct mailout_text *t = &c->text;

	if (buf_printf(c->out, "Content-Type: text/plain; charset=%s\r\n"
			       "Content-Transfer-Encoding: %s\r\n\r\n",
		       t->charset, t->base64 ? "base64" : "7bit") < 0)
		return mailout_fail(c, "message too large");
	if (t->base64)
		return mailout_base64(c, (const unsigned char *)t->data.data, t->data.len);
	if (t->data.len > 0 && buf_append(c->out, t->data.data, t->data.len) < 0)
		return mailout_fail(c, "message too large");
	return 0;
}

/* RFC 2045 token "/" token */
static int mailout_type_ok(const char *s)
{
	const char *slash = strchr(s, '/');
	size_t n = strlen(s);

	if (slash == NULL || slash == s || slash == s + n - 1 || n > 200)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if (s + i == slash)
			continue;
		if (b <= 0x20 || b >= 0x7F || strchr("()<>@,;:\\\"/[]?=", b) != NULL)
			return 0;
	}
	return 1;
}

static int mailout_attachment(struct mailout_ctx *c, const struct mailout_attachment *a)
{
	const char *type = a->content_type != NULL ? a->content_type : "application/octet-stream";
	struct mailout_header h;
	char *head;

	if (!mailout_type_ok(type))
		return mailout_fail(c, "attachment: bad content type");
	if ((head = pool_printf(c->p, "%s%s", type, a->filename != NULL ? ";" : "")) == NULL)
		return mailout_fail(c, "out of memory");
	mailout_header_begin(&h, c->p, c->out, "Content-Type", c->m->iso2022jp);
	mailout_header_put(&h, " ", 1, head, strlen(head));
	if (a->filename != NULL)
		mailout_header_name_param(&h, a->filename);
	if (mailout_header_end(&h) < 0)
		return mailout_field_error(c, "attachment", h.why);
	mailout_header_begin(&h, c->p, c->out, "Content-Disposition", 0);
	mailout_header_put(&h, " ", 1, a->filename != NULL ? "attachment;" : "attachment",
			   a->filename != NULL ? 11 : 10);
	if (a->filename != NULL)
		mailout_header_filename(&h, a->filename);
	if (mailout_header_end(&h) < 0)
		return mailout_field_error(c, "attachment", h.why);
	if (buf_append_str(c->out, "Content-Transfer-Encoding: base64\r\n\r\n") < 0)
		return mailout_fail(c, "message too large");
	return mailout_base64(c, a->data, a->size);
}

/* derived from the Message-ID (random, and stable when an id is
 * reused); "=_" never occurs in base64, and a 7bit text is checked */
static char *mailout_boundary(struct mailout_ctx *c)
{
	const struct buf *t = &c->text.data;
	char *b = NULL;

	for (int i = 0; i < 100; i++) {
		b = i == 0 ? pool_printf(c->p, "=_mdg_%.40s", c->id)
			   : pool_printf(c->p, "=_mdg_%.40s_%d", c->id, i);
		if (b == NULL)
			return NULL;
		for (char *q = b + 6; *q != '\0'; q++)
			if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			      (*q >= '0' && *q <= '9')))
				*q = '_';
		if (c->text.base64 || t->len == 0 || memmem(t->data, t->len, b, strlen(b)) == NULL)
			return b;
	}
	return NULL;
}

static int mailout_multipart(struct mailout_ctx *c)
{
	const char *b = mailout_boundary(c);

	if (b == NULL)
		return mailout_fail(c, "out of memory");
	if (buf_printf(c->out, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n--%s\r\n", b, b) < 0 ||
	    mailout_text_part(c) < 0)
		return mailout_fail(c, "message too large");
	for (size_t i = 0; i < c->m->natt; i++)
		if (buf_printf(c->out, "\r\n--%s\r\n", b) < 0 || mailout_attachment(c, &c->m->att[i]) < 0)
			return mailout_fail(c, "message too large");
	if (buf_printf(c->out, "\r\n--%s--\r\n", b) < 0)
		return mailout_fail(c, "message too large");
	return 0;
}

/* ---- the whole ---- */

/* the invariants of mailout.h: 7-bit, no NUL, CRLF only, short lines */
static int mailout_check(const char *s, size_t n)
{
	size_t line = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if (b == '\r' && i + 1 < n && s[i + 1] == '\n') {
			line = 0;
			i++;
			continue;
		}
		if (b == 0 || b >= 0x80 || b == '\r' || b == '\n' || ++line > MAILOUT_LINE_MAX)
			return -1;
	}
	return n >= 2 && s[n - 2] == '\r' && s[n - 1] == '\n' ? 0 : -1;
}

static int mailout_compose(struct mailout_ctx *c)
{
	if (mailout_make_id(c) < 0 || mailout_text(c) < 0)
		return -1;
	if (mailout_date(c) < 0 || mailout_addresses(c) < 0 || mailout_subject(c) < 0)
		return -1;
	if (buf_printf(c->out, "Message-ID: <%s>\r\n", c->id) < 0)
		return mailout_fail(c, "message too large");
	if (mailout_threading(c) < 0)
		return -1;
	if (buf_append_str(c->out, "MIME-Version: 1.0\r\n") < 0)
		return mailout_fail(c, "message too large");
	return c->m->natt > 0 ? mailout_multipart(c) : mailout_text_part(c);
}

int mailout_build(struct pool *p, const struct mailout *m, struct buf *out, char *msgid,
		  size_t msgidlen, const char **err)
{
	struct mailout_ctx c = { .p = p, .m = m, .out = out };
	size_t start = out->len;
	int r;

	buf_init(&c.text.data, 0);
	r = mailout_compose(&c);
	if (r == 0 && mailout_check(out->data + start, out->len - start) < 0)
		r = mailout_fail(&c, "internal: the message broke a line rule");
	if (r == 0 && (size_t)snprintf(msgid, msgidlen, "%s", c.id) >= msgidlen)
		r = mailout_fail(&c, "msgid: no room");
	buf_free(&c.text.data);
	if (r < 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
		if (err != NULL)
			*err = c.why != NULL ? c.why : "failed";
	}
	return r;
}

/* ---- subject tags ---- */

struct mailout_tag {
	char pre[MAILOUT_TAG_MAX], post[MAILOUT_TAG_MAX];
	size_t prelen, postlen;
};

/* the text before and after the one %d, with %% made '%'; 0 or -1 */
static int mailout_tag_parse(const char *format, struct mailout_tag *t)
{
	char *d = t->pre;
	size_t *dl = &t->prelen;
	int seen = 0;

	t->prelen = t->postlen = 0;
	if (format == NULL)
		return -1;
	for (const char *s = format; *s != '\0'; s++) {
		if (*s == '%' && s[1] == 'd' && !seen) {
			seen = 1, s++;
			d = t->post, dl = &t->postlen;
			continue;
		}
		if (*s == '%' && s[1] != '%')
			return -1;
		if (*s == '%')
			s++;
		if (*dl + 1 >= MAILOUT_TAG_MAX)
			return -1;
		d[(*dl)++] = *s;
	}
	t->pre[t->prelen] = t->post[t->postlen] = '\0';
	return seen && t->prelen + t->postlen > 0 ? 0 : -1;
}

static int mailout_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* the next tag at or after s: its start, with *id set; NULL if none */
static const char *mailout_tag_next(const struct mailout_tag *t, const char *subject,
				    const char *s, long long *id)
{
	for (; *s != '\0'; s++) {
		const char *d = s + t->prelen, *e;
		long long v = 0;

		if (t->prelen > 0 ? strncmp(s, t->pre, t->prelen) != 0
				  : !mailout_digit(*s) || (s > subject && mailout_digit(s[-1])))
			continue;
		for (e = d; mailout_digit(*e); e++)
			;
		if (e == d || e - d > MAILOUT_TAG_DIGITS || strncmp(e, t->post, t->postlen) != 0)
			continue;
		for (const char *q = d; q < e; q++)
			v = v * 10 + (*q - '0');
		*id = v;
		return s;
	}
	return NULL;
}

int mailout_find_tag(const char *format, const char *subject, long long *id)
{
	struct mailout_tag t;

	if (mailout_tag_parse(format, &t) < 0 || subject == NULL)
		return 0;
	return mailout_tag_next(&t, subject, subject, id) != NULL;
}

const char *mailout_tag_subject(struct pool *p, const char *format, long long ticket_id,
				const char *subject)
{
	struct mailout_tag t;
	const char *s;
	long long id;

	if (subject == NULL)
		subject = "";
	if (mailout_tag_parse(format, &t) < 0 || ticket_id < 0)
		return NULL;
	for (s = subject; (s = mailout_tag_next(&t, subject, s, &id)) != NULL; s++)
		if (id == ticket_id)
			return subject;
	return pool_printf(p, "%s%lld%s%s%s", t.pre, ticket_id, t.post, *subject ? " " : "", subject);
}
