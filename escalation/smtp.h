/* smtp: escalationd's SMTP client; smtp.c is the only file that includes
 * libetpan's headers.
 *
 * One connection carries any number of mails: smtp_open() connects (plain,
 * STARTTLS or implicit TLS), checks the server's certificate (lib/tls.h)
 * before anything else is said over TLS, says EHLO (HELO when EHLO is
 * refused) and logs in when a user is given; smtp_send() runs one mail
 * transaction (MAIL FROM, one RCPT TO per recipient, DATA, the bytes, the
 * final dot) and reports every reply; smtp_close() says QUIT.
 *
 * Nothing here decides what a reply means for the mail: retry.c does, from
 * the struct smtp_result filled in here. */
#ifndef MDG_SMTP_H
#define MDG_SMTP_H
#include <stddef.h>

#define SMTP_TEXT_MAX 512
/* envelope addresses longer than this are refused before they are sent
 * (RFC 5321 4.5.3.1.3: a path is at most 256 octets with its brackets) */
#define SMTP_ADDRESS_MAX 254

enum smtp_security { SMTP_PLAIN, SMTP_STARTTLS, SMTP_TLS };

struct smtp_opts {
	const char *host;
	int port;
	enum smtp_security security;
	const char *helo_name;     /* EHLO argument; "" or NULL: the machine's host name */
	const char *user;          /* NULL or "": no AUTH */
	const char *password;
	int allow_plain_auth;      /* AUTH over a connection without TLS */
	int timeout_s;             /* per connect, command and reply */
	const unsigned char *pin;  /* SHA-256 of the server certificate, or NULL */
	const char *ca_file;       /* PEM bundle, or NULL for the system store */
	const char *pin_key;       /* config key of the pin, for the refusal's text */
};

/* the steps of a session; a result names the step that failed */
enum smtp_stage {
	SMTP_STAGE_CONNECT, /* TCP, the implicit TLS handshake, the greeting */
	SMTP_STAGE_HELLO,   /* EHLO / HELO */
	SMTP_STAGE_TLS,     /* STARTTLS or the certificate check */
	SMTP_STAGE_AUTH,
	SMTP_STAGE_MAIL,
	SMTP_STAGE_RCPT,    /* no recipient was accepted */
	SMTP_STAGE_DATA,    /* the DATA command */
	SMTP_STAGE_DOT,     /* the reply to the message's final dot */
	SMTP_STAGE_DONE,    /* the relay took the mail (code is the dot's 2xx) */
};

struct smtp_rcpt_reply {
	int code; /* 0: not asked (an earlier step failed) or no reply */
	char text[SMTP_TEXT_MAX];
};

struct smtp_result {
	enum smtp_stage stage;
	int code;                  /* that step's reply code; 0: none (network, timeout, TLS) */
	char text[SMTP_TEXT_MAX];  /* "550 5.1.1 <a@b>: no such user", or the local reason */
	char peer_sha256[65];      /* the server certificate's SHA-256 (hex) when TLS ran */
	size_t nrcpt;
	struct smtp_rcpt_reply *rcpt; /* caller's array, one per recipient, in order */
};

struct smtp;

/* NULL on failure, with res filled (stage CONNECT to AUTH) */
struct smtp *smtp_open(const struct smtp_opts *o, struct smtp_result *res);
/* One mail.  rcpt[n]; res->rcpt must point at n entries (res->nrcpt = n).
 * data is the message as stored (CRLF lines); the trailing CRLF before the
 * dot and dot-stuffing are the transport's business.  Returns 0 when the
 * session can carry another mail (whatever this one's fate), -1 when the
 * connection is gone (close it). */
int smtp_send(struct smtp *s, const char *from, const char *const *rcpt, size_t n,
	      const char *data, size_t len, struct smtp_result *res);
/* quit: say QUIT first (0 after a broken connection) */
void smtp_close(struct smtp *s, int quit);

/* 1 when addr can go between < and > in MAIL FROM / RCPT TO: bounded,
 * printable ASCII or UTF-8, no spaces, brackets or controls ("" is the
 * null sender and fine for MAIL FROM only: the caller checks that) */
int smtp_address_ok(const char *addr);

#endif
