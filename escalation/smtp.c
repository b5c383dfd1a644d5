/* smtp: the SMTP client on libetpan's mailsmtp; the design is in smtp.h.
 *
 * What libetpan does and does not do for us (libetpan 1.9.4, read in its
 * source, mailsmtp.c and mailstream_helper.c):
 *  - mailsmtp_data_message() dot-stuffs every line that starts with "."
 *    and turns bare CR or LF into CRLF, then always writes "\r\n.\r\n".
 *    A stored message ends with CRLF already, so that CRLF is taken off
 *    here, or the relay would receive one empty line more than was built.
 *  - Its EHLO and HELO always name gethostname(), and its AUTH goes through
 *    Cyrus SASL, which needs plug-in packages to know PLAIN and LOGIN.  So
 *    EHLO, HELO, MAIL, RCPT and AUTH are written here, with the three
 *    functions libetpan exports for its own OAuth2 module but leaves out of
 *    its installed headers (declared below).  DATA, the bytes, RSET, QUIT,
 *    STARTTLS and the TLS channel (GnuTLS) stay libetpan's.
 *  - It checks no certificate.  Right after the TLS handshake (implicit or
 *    STARTTLS) the server's chain goes to lib/tls.c; nothing more is said
 *    over a channel it refuses, so a password never reaches an untrusted
 *    server.
 *  - Replies: mailsmtp keeps the last reply's code (response_code, 0 when
 *    the connection broke or timed out) and its text lines without the
 *    codes (response); both are copied into our result, cleaned to
 *    printable UTF-8, because they end up in PostgreSQL text columns. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "smtp.h"
#include "tls.h"
#include "utf8.h"

/* exported by libetpan 1.9.4 (mailsmtp.c), not declared in its headers */
int mailsmtp_send_command(mailsmtp *session, char *command);
int mailsmtp_send_command_private(mailsmtp *session, char *command);
int mailsmtp_read_response(mailsmtp *session);
int mailesmtp_parse_ehlo(mailsmtp *session);

#define SMTP_LINE_MAX 1024

struct smtp {
	mailsmtp *s;
	struct smtp_opts o;
	int tls;
};

/* text without controls, valid UTF-8 (else its high bytes become '?') */
static void smtp_clean(char *t)
{
	size_t n = 0;

	for (char *p = t; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	n = strlen(t);
	while (n > 0 && t[n - 1] == ' ')
		t[--n] = '\0';
	if (!utf8_valid(t, n))
		for (char *p = t; *p != '\0'; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
}

/* the last reply as "CODE text", or the local reason when there was none */
static void smtp_reply(const struct smtp *c, char *out, size_t len, const char *none)
{
	const char *r = c->s->response ? c->s->response : "";

	if (c->s->response_code == 0)
		snprintf(out, len, "%s", none);
	else
		snprintf(out, len, "%d %s", c->s->response_code, r);
	smtp_clean(out);
}

static int smtp_fail(struct smtp_result *res, enum smtp_stage st, const struct smtp *c,
		     const char *none)
{
	res->stage = st;
	res->code = c->s->response_code;
	smtp_reply(c, res->text, sizeof(res->text), none);
	return -1;
}

static void smtp_sni(struct mailstream_ssl_context *ctx, void *data)
{
	const char *host = data;
	unsigned char addr[16];

	/* SNI carries names only, never address literals (RFC 6066 3) */
	if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
		mailstream_ssl_set_server_name(ctx, (char *)host);
}

/* the certificate decision, before anything is said over TLS */
static int smtp_trust(struct smtp *c, struct smtp_result *res)
{
	carray *chain = mailstream_get_certificate_chain(c->s->stream);
	unsigned int n = chain ? carray_count(chain) : 0;
	const unsigned char *der[16];
	size_t len[16];
	struct tls_peer peer = { der, len, 0 };
	struct tls_policy pol = { c->o.host, c->o.pin, c->o.ca_file, c->o.pin_key };
	char why[256];
	int r;

	for (unsigned int i = 0; i < n && i < 16; i++, peer.n++) {
		MMAPString *m = carray_get(chain, i);

		der[i] = (const unsigned char *)m->str;
		len[i] = m->len;
	}
	r = tls_check_peer(&peer, &pol, why, sizeof(why), res->peer_sha256);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	if (r == 0)
		return 0;
	res->stage = SMTP_STAGE_TLS;
	res->code = 0;
	snprintf(res->text, sizeof(res->text), "the certificate of %s is not trusted: %s%s%s%s",
		 c->o.host, why, res->peer_sha256[0] ? " (its SHA-256 is " : "", res->peer_sha256,
		 res->peer_sha256[0] ? ")" : "");
	return -1;
}

static int smtp_connect(struct smtp *c, struct smtp_result *res)
{
	char none[SMTP_TEXT_MAX];
	int r;

	if (c->o.security == SMTP_TLS)
		r = mailsmtp_ssl_connect_with_callback(c->s, c->o.host, (uint16_t)c->o.port, smtp_sni,
						       (void *)c->o.host);
	else
		r = mailsmtp_socket_connect(c->s, c->o.host, (uint16_t)c->o.port);
	if (r != MAILSMTP_NO_ERROR) {
		snprintf(none, sizeof(none), "cannot connect to %s:%d: %s", c->o.host, c->o.port,
			 r == MAILSMTP_ERROR_CONNECTION_REFUSED ? "connection refused or timed out"
			 : r == MAILSMTP_ERROR_SSL		   ? "TLS handshake failed"
								   : mailsmtp_strerror(r));
		return smtp_fail(res, SMTP_STAGE_CONNECT, c, none);
	}
	c->tls = c->o.security == SMTP_TLS;
	return c->tls ? smtp_trust(c, res) : 0;
}

/* EHLO, or HELO when the server does not know EHLO */
static int smtp_hello(struct smtp *c, struct smtp_result *res)
{
	char cmd[SMTP_LINE_MAX], host[256];
	const char *name = c->o.helo_name;
	int code;

	if (name == NULL || name[0] == '\0') {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		name = host;
	}
	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", name);
	if (mailsmtp_send_command(c->s, cmd) < 0)
		return smtp_fail(res, SMTP_STAGE_HELLO, c, "connection lost before EHLO");
	code = mailsmtp_read_response(c->s);
	if (code == 250) {
		mailesmtp_parse_ehlo(c->s);
		return 0;
	}
	if (code / 100 != 5)
		return smtp_fail(res, SMTP_STAGE_HELLO, c, "no reply to EHLO");
	snprintf(cmd, sizeof(cmd), "HELO %s\r\n", name);
	if (mailsmtp_send_command(c->s, cmd) < 0 || mailsmtp_read_response(c->s) != 250)
		return smtp_fail(res, SMTP_STAGE_HELLO, c, "no reply to HELO");
	c->s->esmtp = 0;
	c->s->auth = MAILSMTP_AUTH_NOT_CHECKED;
	return 0;
}

static int smtp_starttls(struct smtp *c, struct smtp_result *res)
{
	int r;

	if (!(c->s->esmtp & MAILSMTP_ESMTP_STARTTLS)) {
		res->stage = SMTP_STAGE_TLS;
		res->code = 0;
		snprintf(res->text, sizeof(res->text),
			 "%s does not offer STARTTLS; refusing to go on without TLS", c->o.host);
		return -1;
	}
	r = mailsmtp_socket_starttls_with_callback(c->s, smtp_sni, (void *)c->o.host);
	if (r != MAILSMTP_NO_ERROR)
		return smtp_fail(res, SMTP_STAGE_TLS, c,
				 r == MAILSMTP_ERROR_SSL ? "TLS handshake failed after STARTTLS"
							 : "STARTTLS failed");
	c->tls = 1;
	if (smtp_trust(c, res) < 0)
		return -1;
	return smtp_hello(c, res); /* RFC 3207 4.2: forget what was said before TLS */
}

static char *smtp_base64(const char *in, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;

		v |= i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned char)in[i + 2] : 0;
		*o++ = t[v >> 18 & 63];
		*o++ = t[v >> 12 & 63];
		*o++ = i + 1 < n ? t[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? t[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* send "<prefix><base64 of data>\r\n" (kept out of libetpan's logger); the reply code */
static int smtp_send_secret(struct smtp *c, const char *prefix, const char *data, size_t n)
{
	char *b = smtp_base64(data, n), *cmd = NULL;
	int code = 0;

	if (b != NULL && asprintf(&cmd, "%s%s\r\n", prefix, b) >= 0) {
		if (mailsmtp_send_command_private(c->s, cmd) == 0)
			code = mailsmtp_read_response(c->s);
		explicit_bzero(cmd, strlen(cmd));
		free(cmd);
	}
	if (b != NULL) {
		explicit_bzero(b, strlen(b));
		free(b);
	}
	return code;
}

/* AUTH PLAIN with the initial response (RFC 4954), or AUTH LOGIN */
static int smtp_auth(struct smtp *c, struct smtp_result *res)
{
	size_t ul = strlen(c->o.user), pl = strlen(c->o.password);
	char plain[1024];
	int code;

	if (!c->tls && !c->o.allow_plain_auth) {
		res->stage = SMTP_STAGE_AUTH;
		res->code = 0;
		snprintf(res->text, sizeof(res->text), "refusing to send the password without TLS");
		return -1;
	}
	if ((c->s->auth & MAILSMTP_AUTH_PLAIN) && ul + pl + 2 <= sizeof(plain)) {
		plain[0] = '\0';
		memcpy(plain + 1, c->o.user, ul + 1);
		memcpy(plain + ul + 2, c->o.password, pl);
		code = smtp_send_secret(c, "AUTH PLAIN ", plain, ul + pl + 2);
		explicit_bzero(plain, sizeof(plain));
	} else if (c->s->auth & MAILSMTP_AUTH_LOGIN) {
		code = mailsmtp_send_command(c->s, "AUTH LOGIN\r\n") == 0
			       ? mailsmtp_read_response(c->s) : 0;
		if (code == 334)
			code = smtp_send_secret(c, "", c->o.user, ul);
		if (code == 334)
			code = smtp_send_secret(c, "", c->o.password, pl);
	} else {
		res->stage = SMTP_STAGE_AUTH;
		res->code = 0;
		snprintf(res->text, sizeof(res->text), "%s offers neither AUTH PLAIN nor AUTH LOGIN",
			 c->o.host);
		return -1;
	}
	return code == 235 ? 0 : smtp_fail(res, SMTP_STAGE_AUTH, c, "no reply to AUTH");
}

struct smtp *smtp_open(const struct smtp_opts *o, struct smtp_result *res)
{
	struct smtp *c = calloc(1, sizeof(*c));

	res->peer_sha256[0] = '\0';
	if (c == NULL || (c->s = mailsmtp_new(0, NULL)) == NULL) {
		free(c);
		res->stage = SMTP_STAGE_CONNECT;
		res->code = 0;
		snprintf(res->text, sizeof(res->text), "out of memory");
		return NULL;
	}
	c->o = *o;
	mailsmtp_set_timeout(c->s, (time_t)o->timeout_s);
	if (smtp_connect(c, res) < 0 || smtp_hello(c, res) < 0 ||
	    (o->security == SMTP_STARTTLS && smtp_starttls(c, res) < 0) ||
	    (o->user != NULL && o->user[0] != '\0' && smtp_auth(c, res) < 0)) {
		smtp_close(c, res->code != 0);
		return NULL;
	}
	return c;
}

void smtp_close(struct smtp *c, int quit)
{
	if (c == NULL)
		return;
	if (c->s->stream != NULL) {
		if (quit)
			mailsmtp_quit(c->s); /* closes the stream, waits for no reply */
		else {
			mailstream_close(c->s->stream);
			c->s->stream = NULL;
		}
	}
	mailsmtp_free(c->s);
	free(c);
}

int smtp_address_ok(const char *a)
{
	size_t n = strlen(a);

	if (n > SMTP_ADDRESS_MAX || !utf8_valid(a, n))
		return 0;
	for (const char *p = a; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			return 0;
	return 1;
}

/* one command line whose reply we want as a code; 0 when the connection broke */
static int smtp_command(struct smtp *c, const char *line)
{
	char cmd[SMTP_LINE_MAX + 2]; /* line is at most SMTP_LINE_MAX - 1 */

	snprintf(cmd, sizeof(cmd), "%s\r\n", line);
	if (mailsmtp_send_command(c->s, cmd) < 0) {
		c->s->response_code = 0;
		return 0;
	}
	return mailsmtp_read_response(c->s);
}

static int smtp_mail(struct smtp *c, const char *from, const char *data, size_t len,
		     struct smtp_result *res)
{
	char line[SMTP_LINE_MAX];
	int eight = 0;

	for (size_t i = 0; i < len && !eight; i++)
		eight = (unsigned char)data[i] >= 0x80;
	snprintf(line, sizeof(line), "MAIL FROM:<%s>", from);
	if (c->s->esmtp & MAILSMTP_ESMTP_SIZE)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " SIZE=%zu", len);
	if (eight && (c->s->esmtp & MAILSMTP_ESMTP_8BITMIME))
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " BODY=8BITMIME");
	if (smtp_command(c, line) == 250)
		return 0;
	return smtp_fail(res, SMTP_STAGE_MAIL, c, "connection lost after MAIL FROM");
}

/* every recipient is asked; the number accepted, or -1 when the connection broke */
static int smtp_rcpts(struct smtp *c, const char *const *rcpt, size_t n, struct smtp_result *res)
{
	char line[SMTP_LINE_MAX];
	int ok = 0;

	for (size_t i = 0; i < n; i++) {
		struct smtp_rcpt_reply *r = &res->rcpt[i];

		snprintf(line, sizeof(line), "RCPT TO:<%s>", rcpt[i]);
		r->code = smtp_command(c, line);
		smtp_reply(c, r->text, sizeof(r->text), "connection lost after RCPT TO");
		if (r->code == 0) {
			smtp_fail(res, SMTP_STAGE_RCPT, c, "connection lost after RCPT TO");
			return -1;
		}
		if (r->code == 250 || r->code == 251)
			ok++;
	}
	return ok;
}

/* no recipient was accepted: the first refusal stands for the transaction */
static void smtp_rcpt_failed(struct smtp_result *res)
{
	res->stage = SMTP_STAGE_RCPT;
	res->code = res->nrcpt > 0 ? res->rcpt[0].code : 0;
	snprintf(res->text, sizeof(res->text), "%s", res->nrcpt > 0 ? res->rcpt[0].text : "");
}

static int smtp_data(struct smtp *c, const char *data, size_t len, struct smtp_result *res)
{
	int r;

	/* libetpan writes "\r\n.\r\n" after the bytes: take the message's own
	 * last line end off, so the relay gets exactly what was stored */
	if (len >= 2 && data[len - 2] == '\r' && data[len - 1] == '\n')
		len -= 2;
	r = mailsmtp_data(c->s);
	if (r == MAILSMTP_ERROR_STREAM)
		c->s->response_code = 0; /* libetpan leaves the last code when a write fails */
	if (r != MAILSMTP_NO_ERROR)
		return smtp_fail(res, SMTP_STAGE_DATA, c, "connection lost after DATA");
	if (mailsmtp_data_message(c->s, data, len) == MAILSMTP_ERROR_STREAM)
		c->s->response_code = 0;
	if (c->s->response_code / 100 != 2)
		return smtp_fail(res, SMTP_STAGE_DOT, c,
				 "connection lost or timed out after the message was sent "
				 "(the relay may have taken it)");
	res->stage = SMTP_STAGE_DONE;
	res->code = c->s->response_code;
	smtp_reply(c, res->text, sizeof(res->text), "");
	return 0;
}

int smtp_send(struct smtp *c, const char *from, const char *const *rcpt, size_t n,
	      const char *data, size_t len, struct smtp_result *res)
{
	int ok;

	for (size_t i = 0; i < n; i++) {
		res->rcpt[i].code = 0;
		res->rcpt[i].text[0] = '\0';
	}
	res->nrcpt = n;
	res->code = 0;
	res->text[0] = '\0';
	if (smtp_mail(c, from, data, len, res) == 0) {
		ok = smtp_rcpts(c, rcpt, n, res);
		if (ok < 0)
			return -1;
		if (ok == 0)
			smtp_rcpt_failed(res);
		else if (smtp_data(c, data, len, res) == 0)
			return 0;
	}
	if (res->code == 0)
		return -1; /* no reply: the connection is gone or out of step */
	/* a refused transaction: start afresh for the next mail */
	return mailsmtp_reset(c->s) == MAILSMTP_NO_ERROR ? 0 : -1;
}
