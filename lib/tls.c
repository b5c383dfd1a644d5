/* tls: SHA-256 and certificate checks with OpenSSL.
 *
 * Trust decision, in order:
 *  - a pin is set: the leaf certificate's SHA-256 must equal it, nothing
 *    else is looked at (a pinned self-signed or expired certificate is
 *    accepted: the operator said "this one");
 *  - otherwise the leaf must chain to the system store (or the configured
 *    CA file)
 *    for TLS server use, with the intermediates the server sent as
 *    untrusted helpers, and must name the configured host (DNS name or IP).
 * libetpan hands over every certificate the server sent
 * (mailstream_get_certificate_chain, GnuTLS peer list), so chains with
 * intermediates verify as in any TLS client.  This runs after the
 * handshake and before LOGIN; the TLS channel itself is GnuTLS's. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"

void tls_sha256(const void *data, size_t len, unsigned char out[TLS_SHA256_LEN])
{
	static EVP_MD *md;
	unsigned int n = 0;

	/* fetch the implementation once: an implicit fetch per call costs a
	 * lock and a lookup for every message */
	if (md == NULL)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (md == NULL || EVP_Digest(data, len, out, &n, md, NULL) != 1 || n != TLS_SHA256_LEN)
		log_fatal("OpenSSL cannot compute SHA-256");
}

static X509 *tls_parse(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;

	if (len > 1024 * 1024)
		return NULL;
	return d2i_X509(NULL, &p, (long)len);
}

static int tls_names_host(X509 *leaf, const char *host)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return X509_check_ip_asc(leaf, host, 0) == 1;
	return X509_check_host(leaf, host, 0, 0, NULL) == 1;
}

static X509_STORE *tls_store(const char *ca_file, char *why, size_t whylen)
{
	X509_STORE *store = X509_STORE_new();
	int ok;

	if (store == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	ok = ca_file ? X509_STORE_load_file(store, ca_file) : X509_STORE_set_default_paths(store);
	if (ok != 1) {
		snprintf(why, whylen, "could not load the trusted certificates from %s",
			 ca_file ? ca_file : "the system store");
		X509_STORE_free(store);
		return NULL;
	}
	return store;
}

/* chain and host check; 0 or -1 with why */
static int tls_verify(X509 *leaf, STACK_OF(X509) *untrusted, const struct tls_policy *pol,
		      char *why, size_t whylen)
{
	X509_STORE *store = tls_store(pol->ca_file, why, whylen);
	X509_STORE_CTX *ctx = NULL;
	int r = -1;

	if (store == NULL)
		return -1;
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);

		snprintf(why, whylen, "%s (at depth %d)", X509_verify_cert_error_string(e),
			 X509_STORE_CTX_get_error_depth(ctx));
		goto out;
	}
	if (!tls_names_host(leaf, pol->host)) {
		snprintf(why, whylen, "it does not name %s", pol->host);
		goto out;
	}
	r = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

int tls_check_peer(const struct tls_peer *peer, const struct tls_policy *pol, char *why,
		   size_t whylen, char fp_hex[2 * TLS_SHA256_LEN + 1])
{
	unsigned char fp[TLS_SHA256_LEN];
	STACK_OF(X509) *untrusted = NULL;
	X509 *leaf = NULL;
	int r = -1;

	fp_hex[0] = '\0';
	if (peer->n == 0) {
		snprintf(why, whylen, "the server sent no certificate");
		return -1;
	}
	tls_sha256(peer->der[0], peer->len[0], fp);
	tls_hex(fp, sizeof(fp), fp_hex);
	if (pol->pin != NULL) {
		if (memcmp(fp, pol->pin, sizeof(fp)) == 0)
			return 0;
		snprintf(why, whylen, "its SHA-256 does not match %s",
			 pol->pin_key ? pol->pin_key : "the pinned one");
		return -1;
	}
	leaf = tls_parse(peer->der[0], peer->len[0]);
	untrusted = sk_X509_new_null();
	if (leaf == NULL || untrusted == NULL) {
		snprintf(why, whylen, "its certificate cannot be parsed");
		goto out;
	}
	for (size_t i = 1; i < peer->n && i < 16; i++) {
		X509 *x = tls_parse(peer->der[i], peer->len[i]);

		if (x != NULL && sk_X509_push(untrusted, x) <= 0)
			X509_free(x);
	}
	r = tls_verify(leaf, untrusted, pol, why, whylen);
out:
	X509_free(leaf);
	sk_X509_pop_free(untrusted, X509_free);
	return r;
}

void tls_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int tls_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tls_parse_hex(const char *hex, unsigned char *out, size_t n)
{
	size_t got = 0;
	int hi = -1;

	for (const char *p = hex; *p != '\0'; p++) {
		int v;

		if (*p == ':' || *p == ' ')
			continue;
		if ((v = tls_digit(*p)) < 0)
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (got == n)
			return -1;
		out[got++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	return got == n && hi < 0 ? 0 : -1;
}
