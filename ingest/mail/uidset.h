/* uidset: a growable list of IMAP UIDs, and the runs of consecutive UIDs
 * that IMAP sets are written with ("1:200,205,300:310"). */
#ifndef MDG_INGEST_UIDSET_H
#define MDG_INGEST_UIDSET_H
#include <stddef.h>
#include <stdint.h>

struct uidset {
	uint32_t *v;
	size_t n;
	size_t cap;
};

void uidset_init(struct uidset *s);
void uidset_free(struct uidset *s);
void uidset_clear(struct uidset *s);
int uidset_add(struct uidset *s, uint32_t uid);
/* ascending, duplicates removed */
void uidset_sort(struct uidset *s);
/* the largest UID; 0 when empty */
uint32_t uidset_max(const struct uidset *s);
/* The next run of consecutive UIDs in v[*i..n) (v ascending): 1 with lo, hi
 * set and *i advanced past it, 0 at the end. */
int uidset_run(const uint32_t *v, size_t n, size_t *i, uint32_t *lo, uint32_t *hi);
/* "1:3,7" for logs; cut with "..." to fit len */
void uidset_format(const uint32_t *v, size_t n, char *out, size_t len);

#endif
