/* tls: the certificate decision for the mail daemons (ingest-mail's IMAP,
 * escalationd's SMTP), on OpenSSL; no other file of ours that needs these
 * includes OpenSSL headers.  It hashes bytes and decides whether a
 * server's certificate is to be trusted.  libetpan does the TLS itself
 * (with GnuTLS, checking nothing), so the decision is made here, on the
 * DER certificates libetpan hands over, before any password is sent. */
#ifndef MDG_TLS_H
#define MDG_TLS_H
#include <stddef.h>

#define TLS_SHA256_LEN 32

void tls_sha256(const void *data, size_t len, unsigned char out[TLS_SHA256_LEN]);

struct tls_peer {
	const unsigned char *const *der; /* leaf first, then what the server sent along */
	const size_t *len;
	size_t n;
};

struct tls_policy {
	const char *host;          /* name (or IP literal) the certificate must carry */
	const unsigned char *pin;  /* TLS_SHA256_LEN bytes, or NULL */
	const char *ca_file;       /* PEM bundle, or NULL for the system store */
	const char *pin_key;       /* the config key of the pin, named in a mismatch */
};

/* 0 when the peer is trusted; -1 with the reason in why.  fp_hex (65 bytes)
 * gets the SHA-256 of the leaf certificate in hex whenever there is one, so
 * the refusal can say what to pin. */
int tls_check_peer(const struct tls_peer *peer, const struct tls_policy *pol, char *why,
		   size_t whylen, char fp_hex[2 * TLS_SHA256_LEN + 1]);

/* lowercase hex of n bytes into out (2n+1 bytes) */
void tls_hex(const unsigned char *in, size_t n, char *out);
/* exactly n bytes from hex digits (colons and spaces between them allowed,
 * as fingerprints are often written): 0, or -1 if malformed */
int tls_parse_hex(const char *hex, unsigned char *out, size_t n);

#endif
