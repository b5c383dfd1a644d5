#include <string.h>

#include <argon2.h>
#include <openssl/rand.h>

#include "pwhash.h"

#define PW_T 2
#define PW_M 19456
#define PW_P 1
#define PW_SALT 16
#define PW_HASH 32

int pwhash_make(const char *password, char *out, size_t outlen)
{
	unsigned char salt[PW_SALT];

	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -1;
	if (argon2id_hash_encoded(PW_T, PW_M, PW_P, password, strlen(password), salt,
				  sizeof(salt), PW_HASH, out, outlen) != ARGON2_OK)
		return -1;
	return 0;
}

int pwhash_check(const char *password, const char *encoded)
{
	int r;

	if (strncmp(encoded, "$argon2id$", 10) != 0)
		return -1;
	r = argon2id_verify(encoded, password, strlen(password));
	if (r == ARGON2_OK)
		return 1;
	if (r == ARGON2_VERIFY_MISMATCH)
		return 0;
	return -1;
}

int pwhash_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[64];

	if (nbytes > sizeof(b) || RAND_bytes(b, (int)nbytes) != 1)
		return -1;
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return 0;
}
