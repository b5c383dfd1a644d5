/* searchtext: the n-grams Japanese search matches on.
 *
 * Japanese has no spaces between words, so a word index does not work
 * and PostgreSQL's trigrams miss the two-character words searches are
 * made of (住民, 保険).  A document is indexed by every distinct character
 * and every distinct pair of neighbouring characters of its folded text
 * (charset_fold); a query term of two or more characters needs all its
 * pairs, a one-character term that character.  The pairs only narrow the
 * candidates (GIN on a text[]); the term itself is then looked for in the
 * folded text, so "住民票" never matches a text holding "住民" and "民票"
 * apart.  Pairs that span a space are not made: a term never holds one
 * (the query is split at spaces into terms that must all match). */
#ifndef MDG_SEARCHTEXT_H
#define MDG_SEARCHTEXT_H
#include <stddef.h>

struct pool;

enum searchtext_mode {
	SEARCHTEXT_DOCUMENT, /* every character and every pair */
	SEARCHTEXT_TERM,     /* the pairs, or the character of a one-character term */
};

/* the distinct grams of folded UTF-8 text, in order of first appearance,
 * joined by '\n' (folded text holds no '\n'), into *out from the pool;
 * *count gets how many.  0, or -1 when the pool refuses memory. */
int searchtext_grams(struct pool *p, const char *folded, enum searchtext_mode mode, char **out,
		     size_t *count);

#endif
