/* mime_dsn: the fields of a delivery status notification.
 *
 * RFC 3464: the message/delivery-status part is a block of per-message
 * fields, then one block per recipient, blocks separated by empty lines.
 * We take the first recipient block that has an Action (the usual DSN
 * has one), else the first with a Final-Recipient, and from that one
 * block Action, Status, Final-Recipient and Diagnostic-Code, so the four
 * always describe the same recipient.  The returned mail is a
 * message/rfc822 part or a text/rfc822-headers part; its Message-ID ties
 * the DSN to what we sent.
 *
 * A classic bounce (Exim, qmail, old Sendmail) has no such parts: its text
 * quotes the returned header, so the first "Message-ID:" line of the text
 * is taken.  Everything is bounded: blocks, fields and values. */
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "mime_dsn.h"
#include "mime_header.h"
#include "pool.h"

#define MIME_DSN_BLOCKS 1000     /* recipient blocks looked at */
#define MIME_DSN_FIELDS 200      /* fields per block looked at */
#define MIME_DSN_VALUE_MAX 4096  /* bytes of a field value read */
#define MIME_DSN_DIAG_MAX 500    /* bytes of Diagnostic-Code kept */

struct mime_dsn_slice {
	const char *s;
	size_t n;
};

struct mime_dsn_block {
	struct mime_dsn_slice recipient, action, status, diag;
};

static void mime_dsn_take(struct mime_dsn_slice *sl, const struct mime_header_field *f)
{
	if (sl->s == NULL) {
		sl->s = f->value;
		sl->n = f->value_len;
	}
}

/* one block from s[*pos]: 1 if it had a field, 0 if not; *pos moves on */
static int mime_dsn_block(const char *s, size_t len, size_t *pos, struct mime_dsn_block *b)
{
	struct mime_header_iter it;
	struct mime_header_field f;
	size_t nf = 0;

	memset(b, 0, sizeof(*b));
	mime_header_start(&it, s + *pos, len - *pos);
	while (mime_header_next(&it, &f)) {
		if (++nf > MIME_DSN_FIELDS)
			continue;
		if (mime_header_is(&f, "final-recipient"))
			mime_dsn_take(&b->recipient, &f);
		else if (mime_header_is(&f, "action"))
			mime_dsn_take(&b->action, &f);
		else if (mime_header_is(&f, "status"))
			mime_dsn_take(&b->status, &f);
		else if (mime_header_is(&f, "diagnostic-code"))
			mime_dsn_take(&b->diag, &f);
	}
	if (it.end == MIME_HEADER_NOT_FIELD && it.pos == 0) {
		/* a line that is no field: skip it */
		const char *nl = memchr(s + *pos, '\n', len - *pos);

		it.pos = nl != NULL ? (size_t)(nl + 1 - (s + *pos)) : len - *pos;
	}
	*pos += it.pos;
	return nf > 0;
}

/* a value unfolded, UTF-8, controls made blanks; "" if absent */
static char *mime_dsn_value(struct pool *p, const struct mime_dsn_slice *sl)
{
	size_t und = 0;
	int cut = 0;
	char *v;

	if (sl->s == NULL)
		return NULL;
	v = mime_header_value(p, sl->s, sl->n, MIME_DSN_VALUE_MAX, &cut, &und);
	for (char *q = v; *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7F)
			*q = ' ';
	return v;
}

/* "rfc822; a@b" or "smtp; 550 ...": what follows a short type and ';' */
static char *mime_dsn_after_type(char *v)
{
	char *semi = strchr(v, ';');

	if (semi != NULL && (size_t)(semi - v) <= 40 && strcspn(v, " \t") >= (size_t)(semi - v)) {
		v = semi + 1;
		v += strspn(v, " \t");
	}
	return v;
}

static const char *mime_dsn_action(struct pool *p, const struct mime_dsn_slice *sl)
{
	static const char *const known[] = { "failed", "delayed", "delivered", "relayed", "expanded" };
	char *v = mime_dsn_value(p, sl), *t;

	if (v == NULL || (t = mime_header_token(p, v, strlen(v))) == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(t, known[i]) == 0)
			return known[i];
	return NULL;
}

/* class "." subject "." detail (RFC 3463): "5.1.1"; NULL if not that */
static const char *mime_dsn_status(struct pool *p, const struct mime_dsn_slice *sl)
{
	char *v = mime_dsn_value(p, sl);
	size_t i, k, dots = 0, digits = 0;

	if (v == NULL)
		return NULL;
	v += strspn(v, " \t");
	if (v[0] != '2' && v[0] != '4' && v[0] != '5')
		return NULL;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] >= '0' && v[i] <= '9') {
			if (++digits > 3)
				return NULL;
		} else if (v[i] == '.' && digits > 0 && dots < 2) {
			dots++;
			digits = 0;
		} else {
			break;
		}
	}
	k = i;
	if (dots != 2 || digits == 0)
		return NULL;
	return pool_strndup(p, v, k);
}

static const char *mime_dsn_recipient(struct pool *p, const struct mime_dsn_slice *sl)
{
	char *v = mime_dsn_value(p, sl), *r;
	size_t n;

	if (v == NULL)
		return NULL;
	r = mime_dsn_after_type(v);
	n = strcspn(r, " \t");
	if (n >= 2 && r[0] == '<' && r[n - 1] == '>') {
		r++;
		n -= 2;
	}
	return n > 0 ? pool_strndup(p, r, n) : NULL;
}

static const char *mime_dsn_diagnostic(struct pool *p, const struct mime_dsn_slice *sl)
{
	char *v = mime_dsn_value(p, sl), *d;
	size_t n;

	if (v == NULL)
		return NULL;
	d = mime_dsn_after_type(v);
	n = strlen(d);
	while (n > 0 && (d[n - 1] == ' ' || d[n - 1] == '\t'))
		n--;
	if (n > MIME_DSN_DIAG_MAX) {
		/* cut at a character */
		n = MIME_DSN_DIAG_MAX;
		while (n > 0 && ((unsigned char)d[n] & 0xC0) == 0x80)
			n--;
	}
	return n > 0 ? pool_strndup(p, d, n) : NULL;
}

/* 1 if the part had a recipient block (and m->dsn_* are set from it) */
static int mime_dsn_status_part(struct pool *p, struct mime_mail *m, const char *s, size_t len)
{
	struct mime_dsn_block b, pick = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	size_t pos = 0;
	int have = 0;

	for (size_t nb = 0; pos < len && nb < MIME_DSN_BLOCKS; nb++) {
		if (!mime_dsn_block(s, len, &pos, &b))
			continue;
		if (b.action.s != NULL) {
			pick = b;
			have = 2;
			break;
		}
		if (b.recipient.s != NULL && !have) {
			pick = b;
			have = 1;
		}
	}
	if (!have)
		return 0;
	m->dsn_action = mime_dsn_action(p, &pick.action);
	m->dsn_status = mime_dsn_status(p, &pick.status);
	m->dsn_recipient = mime_dsn_recipient(p, &pick.recipient);
	m->dsn_diagnostic = mime_dsn_diagnostic(p, &pick.diag);
	return 1;
}

/* the Message-ID of a header block; NULL if none */
static const char *mime_dsn_header_id(struct pool *p, const char *s, size_t len)
{
	struct mime_header_iter it;
	struct mime_header_field f;
	size_t nf = 0;

	mime_header_start(&it, s, len);
	while (mime_header_next(&it, &f) && nf++ < MIME_DSN_FIELDS * 10)
		if (mime_header_is(&f, "message-id")) {
			struct mime_dsn_slice sl = { f.value, f.value_len };
			char *v = mime_dsn_value(p, &sl);

			return mime_header_msgids(p, v, strlen(v), 1);
		}
	return NULL;
}

/* a classic bounce: the first "Message-ID:" line in the text (quoted
 * with '>' or indented or not), its value on that line or the next */
static const char *mime_dsn_text_id(struct pool *p, const char *t)
{
	static const char key[] = "message-id:";

	for (const char *l = t; *l != '\0';) {
		const char *e = strchr(l, '\n'), *v = l;
		size_t ln = e != NULL ? (size_t)(e - l) : strlen(l);

		while (v < l + ln && (*v == ' ' || *v == '\t' || *v == '>'))
			v++;
		if ((size_t)(l + ln - v) >= sizeof(key) - 1 && strncasecmp(v, key, sizeof(key) - 1) == 0) {
			const char *id = v + sizeof(key) - 1;
			size_t idn = (size_t)(l + ln - id);

			if (strspn(id, " \t") == idn && e != NULL) {
				/* folded: the id is on the next line */
				id = e + 1;
				idn = strcspn(id, "\n");
			}
			return mime_header_msgids(p, id, idn, 1);
		}
		l = e != NULL ? e + 1 : l + ln;
	}
	return NULL;
}

void mime_dsn_read(struct pool *p, struct mime_mail *m)
{
	int status = 0;

	for (size_t i = 0; i < m->natt; i++) {
		const struct mime_attachment *a = &m->att[i];
		const char *ct = a->content_type, *d = (const char *)a->data;

		if (!status && (strcmp(ct, "message/delivery-status") == 0 ||
				strcmp(ct, "message/global-delivery-status") == 0)) {
			/* a second status part when the first is free text (seen) */
			status = mime_dsn_status_part(p, m, d, a->size);
		} else if (m->dsn_original_message_id == NULL &&
			   (strcmp(ct, "message/rfc822") == 0 || strcmp(ct, "message/global") == 0 ||
			    strcmp(ct, "text/rfc822-headers") == 0 ||
			    strcmp(ct, "message/global-headers") == 0)) {
			m->dsn_original_message_id = mime_dsn_header_id(p, d, a->size);
		}
	}
	if (m->dsn_original_message_id == NULL && m->body_text != NULL)
		m->dsn_original_message_id = mime_dsn_text_id(p, m->body_text);
}
