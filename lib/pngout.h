/* pngout: the one adapter over libpng (issue 7: fax pages shown in the
 * browser).  No other file includes png.h. */
#ifndef MDG_PNGOUT_H
#define MDG_PNGOUT_H

#include <stddef.h>
#include <stdint.h>

/* A 1-bit bitmap (rows of stride bytes, 1 = black, MSB first) as a
 * 1-bit grayscale PNG, each row written yscale times (2 shows a
 * standard-resolution fax page, 204x98 dpi, at its true aspect).  0 and
 * *out malloc'd, or -1 with err filled. */
int pngout_bilevel(const uint8_t *bits, int width, int height, int stride, int yscale,
		   uint8_t **out, size_t *len, char *err, size_t errlen);

#endif
