/* tls: the OpenSSL adapter of ingest-mail; no other file of ours includes
 * OpenSSL headers.  It hashes message bytes and decides whether an IMAP
 * server's certificate is to be trusted.  libetpan does the TLS itself
 * (with GnuTLS, checking nothing), so the decision is made here, on the
 * DER certificates libetpan hands over, before the password is sent. */
#ifndef MDG_INGEST_TLS_H
#define MDG_INGEST_TLS_H
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
};

/* 0 when the peer is trusted; -1 with the reason in why.  fp_hex (65 bytes)
 * gets the SHA-256 of the leaf certificate in hex whenever there is one, so
 * the refusal can say what to pin. */
int tls_check_peer(const struct tls_peer *peer, const struct tls_policy *pol, char *why,
		   size_t whylen, char fp_hex[2 * TLS_SHA256_LEN + 1]);

#endif
