/* libFuzzer target for mime_parse: any bytes must come back quickly with a
 * consistent result.  Beyond the sanitizers it checks the contract: every
 * string is valid UTF-8, state and notes agree, the limits hold, the
 * recipients are lowercased and unique, nested mails keep the same
 * contract and stay within the depth limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "mime.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_mime_str(const char *s, int may_be_null)
{
	if (s == NULL) {
		if (!may_be_null)
			abort();
		return;
	}
	if (!charset_is_utf8(s, strlen(s)))
		abort();
}

static void fuzz_mime_rcpt(const struct mime_mail *m)
{
	if (m->rcpt == NULL || m->nrcpt > 1000)
		abort();
	for (size_t i = 0; i < m->nrcpt; i++) {
		fuzz_mime_str(m->rcpt[i], 0);
		if (strchr(m->rcpt[i], '@') == NULL)
			abort();
		for (const char *q = m->rcpt[i]; *q != '\0'; q++)
			if (*q >= 'A' && *q <= 'Z')
				abort();
		for (size_t k = 0; k < i; k++)
			if (strcmp(m->rcpt[i], m->rcpt[k]) == 0)
				abort();
	}
}

/* the automatic-mail, DSN and forward fields */
static void fuzz_mime_extra(const struct mime_mail *m)
{
	const struct mime_forward *f = &m->forward;

	fuzz_mime_str(m->delivered_to, 1);
	fuzz_mime_str(m->x_original_to, 1);
	fuzz_mime_rcpt(m);
	if (m->auto_kind > MIME_AUTO_DSN || (m->suppress_autoreply & ~1) != 0)
		abort();
	fuzz_mime_str(m->auto_submitted, 1);
	fuzz_mime_str(m->precedence, 1);
	fuzz_mime_str(m->list_id, 1);
	fuzz_mime_str(m->x_auto_response_suppress, 1);
	fuzz_mime_str(m->dsn_original_message_id, 1);
	fuzz_mime_str(m->dsn_action, 1);
	fuzz_mime_str(m->dsn_status, 1);
	fuzz_mime_str(m->dsn_recipient, 1);
	fuzz_mime_str(m->dsn_diagnostic, 1);
	if (m->dsn_diagnostic != NULL && strlen(m->dsn_diagnostic) > 500)
		abort();
	if (m->auto_kind != MIME_AUTO_DSN && m->dsn_action != NULL)
		abort();
	fuzz_mime_str(m->resent_from, 1);
	fuzz_mime_str(m->resent_to, 1);
	fuzz_mime_str(f->kind, 1);
	fuzz_mime_str(f->from_name, 0);
	fuzz_mime_str(f->from_addr, 0);
	fuzz_mime_str(f->to, 0);
	fuzz_mime_str(f->subject, 0);
	if (f->kind == NULL && (*f->from_addr != '\0' || f->date_us != 0))
		abort();
}

static void fuzz_mime_check(const struct mime_mail *m, const struct mime_limits *lim,
			    size_t depth)
{
	if (depth > lim->max_depth)
		abort();
	fuzz_mime_extra(m);
	if ((m->state == MIME_OK) != (m->notes == NULL))
		abort();
	fuzz_mime_str(m->subject, 0);
	fuzz_mime_str(m->from_name, 0);
	fuzz_mime_str(m->from_addr, 0);
	fuzz_mime_str(m->to, 0);
	fuzz_mime_str(m->cc, 0);
	fuzz_mime_str(m->reply_to, 0);
	fuzz_mime_str(m->date_raw, 1);
	fuzz_mime_str(m->message_id, 1);
	fuzz_mime_str(m->in_reply_to, 1);
	fuzz_mime_str(m->references, 1);
	fuzz_mime_str(m->body_text, 0);
	fuzz_mime_str(m->body_html, 1);
	fuzz_mime_str(m->notes, 1);
	if (strlen(m->body_text) > lim->max_text_bytes || m->natt > lim->max_parts)
		abort();
	for (size_t i = 0; i < m->natt; i++) {
		volatile unsigned char sum = 0;

		fuzz_mime_str(m->att[i].filename, 0);
		fuzz_mime_str(m->att[i].content_type, 0);
		fuzz_mime_str(m->att[i].content_id, 1);
		if (m->att[i].size > lim->max_attachment_bytes)
			abort();
		for (size_t k = 0; k < m->att[i].size; k++)
			sum ^= m->att[i].data[k]; /* every byte readable */
		if (m->att[i].nested != NULL)
			fuzz_mime_check(m->att[i].nested, lim, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pool *p;
	struct mime_limits lim;
	struct mime_mail m;

	if (p == NULL && (p = pool_create(0)) == NULL)
		abort();
	mime_limits_default(&lim);
	/* small limits reach the limit paths with small inputs */
	lim.max_depth = 8;
	lim.max_parts = 50;
	lim.max_headers = 200;
	lim.max_text_bytes = 64 << 10;
	lim.max_attachment_bytes = 64 << 10;
	lim.max_header_bytes = 4 << 10;
	if (mime_parse(p, (const char *)data, size, &lim, &m) != 0)
		abort(); /* no pool limit here: -1 would be a bug */
	fuzz_mime_check(&m, &lim, 0);
	pool_clear(p);
	return 0;
}
