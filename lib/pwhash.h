/* pwhash: password hashes in the PHC string form, Argon2id via libargon2
 * (OpenSSL 3.0 has no Argon2).  Parameters follow OWASP's minimum for
 * Argon2id: 19 MiB, 2 passes, 1 lane; the cost is in the stored string, so
 * raising it later does not invalidate old hashes. */
#ifndef MDG_PWHASH_H
#define MDG_PWHASH_H
#include <stddef.h>

/* out gets "$argon2id$v=19$m=19456,t=2,p=1$salt$hash"; 0 or -1 */
int pwhash_make(const char *password, char *out, size_t outlen);
/* 1 match, 0 no match, -1 malformed hash */
int pwhash_check(const char *password, const char *encoded);
/* n random bytes as lowercase hex into out (2n+1 bytes); 0 or -1 */
int pwhash_random_hex(char *out, size_t nbytes);

#endif
