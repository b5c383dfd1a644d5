/* tess: the one adapter over Tesseract and Leptonica (issue 8).  No other
 * file includes their headers (DEPENDENCY-NOTES 16-18).
 *
 * One struct tess per worker process holds four engines, loaded once:
 * jpn (horizontal), jpn_vert (tategaki), osd (orientation, legacy engine)
 * and eng restricted to digits and separators for the number pass.
 *
 * Reading a page:
 *  1. decode the TIFF; a standard-resolution page (204x98 dpi) is scaled to
 *     square pixels (rows doubled): unscaled it reads at 63 % character
 *     error, scaled at 1-4 % (measured when the stack was chosen);
 *  2. no ink (fewer black pixels than a line of text has): blank, not read;
 *  3. layout analysis with jpn: when most text lines run top to bottom the
 *     page is read with jpn_vert, else with jpn;
 *  4. a page read with low confidence is shown to osd; when osd is sure it
 *     is turned (90, 180, 270 degrees), it is turned and read again, and the
 *     better reading is kept;
 *  5. the number pass: each text line of the first pass that holds digits
 *     or a label (TEL, FAX, 電話, 〒, ...) is read again with eng and a
 *     whitelist of digits and separators (the first pass reads a slashed 0
 *     as 9); what it reads is handed to numbers.c, which finds the phone and
 *     fax numbers and postal codes; mail addresses come from the first pass.
 *
 * Spaces Tesseract puts between Japanese characters are dropped; spaces
 * between Latin words are kept. */
#ifndef MDG_TESS_H
#define MDG_TESS_H

#include <stddef.h>
#include <stdint.h>

#include "numbers.h"

struct tess;

struct tess_result {
	char *text;       /* UTF-8, malloc'd; "" for a blank page */
	int blank;        /* no ink: not read */
	int confidence;   /* mean word confidence 0-100 (0 when blank) */
	int rotation;     /* degrees the page was turned before the kept reading */
	int vertical;     /* read with jpn_vert */
	int width, height;        /* the page as stored, pixels */
	struct numbers_found found; /* candidates, boxes in the stored page's pixels */
};

/* datapath NULL: Debian's tessdata.  NULL with err filled when a model is
 * missing. */
struct tess *tess_new(const char *datapath, char *err, size_t errlen);
void tess_free(struct tess *t);

/* 0, or -1 with err filled (an undecodable page) */
int tess_read(struct tess *t, const uint8_t *tiff, size_t len, struct tess_result *r, char *err,
	      size_t errlen);
void tess_result_free(struct tess_result *r);

#endif
