/* libFuzzer target for the header-level decoders: the first byte picks
 * one, the rest is its input.
 *
 *   0  RFC 2047 encoded words (mime_header_decode)
 *   1  RFC 2231 / quoted parameters (mime_header_param, _param_raw)
 *   2  address lists: To, Cc, Delivered-To through mime_parse
 *   3  dates: RFC 5322 (mime_header_date) and forward blocks (forward_date)
 *   4  forward blocks in a text (forward_inline)
 *   5  a delivery-status part (mime_parse of a multipart/report)
 *
 * Beyond the sanitizers: results are UTF-8, decoded words carry no control
 * characters, recipients are lowercased and unique, a date that parses lies
 * within the years 1900-9999, the DSN fields keep their forms. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "forward.h"
#include "mime.h"
#include "mime_header.h"
#include "pool.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_header_utf8(const char *s)
{
	if (s != NULL && !charset_is_utf8(s, strlen(s)))
		abort();
}

static void fuzz_header_words(struct pool *p, const char *d, size_t n)
{
	size_t und = 0;
	char *r = mime_header_decode(p, d, n, &und);

	fuzz_header_utf8(r);
	for (const char *q = r; *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7F)
			abort();
}

static void fuzz_header_params(struct pool *p, const char *d, size_t n)
{
	static const char *const keys[] = { "filename", "name", "boundary", "charset" };
	size_t und = 0;
	int quoted = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fuzz_header_utf8(mime_header_param(p, d, n, keys[i], &quoted, &und));
		(void)mime_header_param_raw(p, d, n, keys[i], &quoted);
	}
	(void)mime_header_token(p, d, n);
}

/* the value three times over, as To, Cc and Delivered-To */
static void fuzz_header_addresses(struct pool *p, const char *d, size_t n)
{
	static const char *const names[] = { "To: ", "\r\nCc: ", "\r\nDelivered-To: " };
	char *raw = pool_alloc(p, 3 * n + 64);
	struct mime_mail m;
	size_t k = 0;

	if (raw == NULL)
		abort();
	for (size_t i = 0; i < 3; i++) {
		memcpy(raw + k, names[i], strlen(names[i]));
		k += strlen(names[i]);
		memcpy(raw + k, d, n);
		k += n;
	}
	memcpy(raw + k, "\r\n\r\nx", 5);
	if (mime_parse(p, raw, k + 5, NULL, &m) != 0 || m.rcpt == NULL || m.nrcpt > 1000)
		abort();
	fuzz_header_utf8(m.to);
	fuzz_header_utf8(m.cc);
	fuzz_header_utf8(m.delivered_to);
	for (size_t i = 0; i < m.nrcpt; i++) {
		fuzz_header_utf8(m.rcpt[i]);
		for (const char *q = m.rcpt[i]; *q != '\0'; q++)
			if (*q >= 'A' && *q <= 'Z')
				abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(m.rcpt[i], m.rcpt[j]) == 0)
				abort();
	}
}

static void fuzz_header_dates(const char *d, size_t n)
{
	/* 1900-01-01 less a day, 9999-12-31 plus a day, in seconds */
	const int64_t lo = INT64_C(-2208988800) - 86400, hi = INT64_C(253402300799) + 86400;
	int64_t us = 0;
	int rc = mime_header_date(d, n, &us);

	if (rc != 0 && rc != -1)
		abort();
	if (rc == 0 && (us / 1000000 < lo || us / 1000000 > hi))
		abort();
	rc = forward_date(d, n, &us);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == 0 && (us / 1000000 < lo || us / 1000000 > hi))
		abort();
}

static void fuzz_header_forward(struct pool *p, const char *d, size_t n, int fw)
{
	/* the contract: NUL-terminated UTF-8 text in (utf8_clean returns valid
	 * input itself, unterminated) */
	const char *t = utf8_clean(p, d, n, NULL);
	struct mime_forward f;

	if (t == d)
		t = pool_strndup(p, d, n);
	if (t == NULL)
		abort();
	forward_none(&f);
	if (forward_inline(p, t, fw, &f) == 0)
		return;
	if (f.kind == NULL || strcmp(f.kind, "inline") != 0)
		abort();
	fuzz_header_utf8(f.from_name);
	fuzz_header_utf8(f.from_addr);
	fuzz_header_utf8(f.to);
	fuzz_header_utf8(f.subject);
	if (strlen(f.from_addr) > 998 || strlen(f.to) > 998 || strlen(f.subject) > 998)
		abort();
}

static void fuzz_header_dsn(struct pool *p, const char *d, size_t n)
{
	static const char head[] =
		"From: MAILER-DAEMON@x\r\nContent-Type: multipart/report; report-type=delivery-status; "
		"boundary=B\r\n\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n";
	static const char tail[] = "\r\n--B--\r\n";
	char *raw = pool_alloc(p, sizeof(head) + n + sizeof(tail));
	struct mime_mail m;

	if (raw == NULL)
		abort();
	memcpy(raw, head, sizeof(head) - 1);
	memcpy(raw + sizeof(head) - 1, d, n);
	memcpy(raw + sizeof(head) - 1 + n, tail, sizeof(tail) - 1);
	if (mime_parse(p, raw, sizeof(head) - 1 + n + sizeof(tail) - 1, NULL, &m) != 0 ||
	    m.auto_kind != MIME_AUTO_DSN)
		abort();
	fuzz_header_utf8(m.dsn_action);
	fuzz_header_utf8(m.dsn_status);
	fuzz_header_utf8(m.dsn_recipient);
	fuzz_header_utf8(m.dsn_diagnostic);
	if (m.dsn_diagnostic != NULL && strlen(m.dsn_diagnostic) > 500)
		abort();
	if (m.dsn_status != NULL && strspn(m.dsn_status, "0123456789.") != strlen(m.dsn_status))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pool *p;
	const char *d = (const char *)data + 1;
	size_t n = size - 1;

	if (size < 1)
		return 0;
	if (p == NULL && (p = pool_create(0)) == NULL)
		abort();
	switch (data[0] % 6) {
	case 0:
		fuzz_header_words(p, d, n);
		break;
	case 1:
		fuzz_header_params(p, d, n);
		break;
	case 2:
		fuzz_header_addresses(p, d, n);
		break;
	case 3:
		fuzz_header_dates(d, n);
		break;
	case 4:
		fuzz_header_forward(p, d, n, data[0] / 6 % 2);
		break;
	default:
		fuzz_header_dsn(p, d, n);
		break;
	}
	pool_clear(p);
	return 0;
}
