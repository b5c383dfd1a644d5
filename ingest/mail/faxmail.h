/* faxmail: fax-to-mail (issue 7).  A mail from a configured fax sender (a
 * fax service or a multifunction printer) whose TIFF or PDF attachments
 * hold the pages is stored as a fax item: inbound_item channel 'fax' (raw:
 * the RFC 822 bytes, as for every mail), its fax_item (origin 'mail', the
 * DID from a configured header or subject pattern) and one fax_page per
 * page (TIFF pages split as received, PDF pages rendered by lib/faxpdf),
 * all in the batch's transaction (store.c).
 *
 * Ordinary mail pays one test when no fax sender is configured, and a scan
 * of the header block for From when one is.  Nothing is lost: an
 * attachment that fails is named in result_text (the fax item keeps the
 * pages that worked); when no page works the mail is stored as a mail
 * item.  Either way store.c logs it with the item id. */
#ifndef MDG_INGEST_FAXMAIL_H
#define MDG_INGEST_FAXMAIL_H
#include <stddef.h>

#include "faxtiff.h"

struct settings;
struct faxmail;

struct faxmail_item {
	char did[32];             /* digits, "" when none was found */
	int npages;
	struct faxtiff_page *pages;
	const char **source;      /* per page: the attachment's file name (malloc'd copies) */
	int complete;             /* every attachment converted */
	int candidates;           /* TIFF or PDF attachments seen */
	char result_text[1024];   /* what was converted and what failed */
};

/* NULL when no fax sender is configured (or out of memory, logged) */
struct faxmail *faxmail_new(const struct settings *s);
void faxmail_free(struct faxmail *fm);
/* 1 when the mail's From is one of the fax senders */
int faxmail_wants(const struct faxmail *fm, const char *raw, size_t len);
/* the pages and facts of a fax sender's mail; 0, or -1 when out of memory.
 * it->npages == 0 means: store it as an ordinary mail. */
int faxmail_convert(struct faxmail *fm, const char *raw, size_t len, struct faxmail_item *it);
void faxmail_item_free(struct faxmail_item *it);
/* checks a subject pattern as faxmail_new will compile it: 0, or -1 with err */
int faxmail_check_pattern(const char *pattern, char *err, size_t errlen);

#endif
