/* faxpdf: the one adapter over poppler-glib and cairo (issue 7).  No other
 * file includes their headers.  A PDF mailed in place of a fax becomes fax
 * pages: each page rasterised at 204x196 dpi fitted to the fax width (1728
 * pixels, the scan width of A4), thresholded to black and white, and coded
 * as T.6 by lib/faxtiff. */
#ifndef MDG_FAXPDF_H
#define MDG_FAXPDF_H

#include <stddef.h>
#include <stdint.h>

#include "faxtiff.h"

struct faxpdf_limits {
	int max_pages;        /* pages rendered at most; the rest is refused (err says so) */
	size_t max_bytes;     /* larger PDFs are not opened */
	int max_height;       /* pixels per page at most (a very long page is cut) */
	int max_seconds;      /* > 0: render in a child process killed after this long (the
			       * pages done by then are kept); 0: in this process */
};
/* 50 pages, 32 MiB, 6000 rows, 60 s in a child */
void faxpdf_limits_default(struct faxpdf_limits *lim);

/* 0 with every page in *pages (*n of them); -1 with err filled and the
 * pages done before the failure still there (possibly none). */
int faxpdf_render(const uint8_t *pdf, size_t len, const struct faxpdf_limits *lim,
		  struct faxtiff_page **pages, int *n, char *err, size_t errlen);

#endif
