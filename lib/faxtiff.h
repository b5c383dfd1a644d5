/* faxtiff: the one adapter over libtiff for fax pages (issue 7).  No other
 * file includes tiffio.h.  Pages are kept as received: splitting a
 * multi-page TIFF copies each page's compressed strips unchanged into a
 * single-page TIFF with the same tags (resolution, T.4/T.6 options). */
#ifndef MDG_FAXTIFF_H
#define MDG_FAXTIFF_H

#include <stddef.h>
#include <stdint.h>

struct faxtiff_page {
	uint8_t *tiff;        /* a complete single-page TIFF file, malloc'd */
	size_t len;
	int width, height;    /* pixels */
	int x_dpi, y_dpi;     /* 204x98 standard, 204x196 fine, ... (rounded) */
	char compression[8];  /* "t4_1d", "t4_2d", "t6", "none", "other" */
};

/* Split a TIFF (file or memory) into pages.  0, or -1 with err filled (the
 * pages read before the error are still returned in *pages and *n, so a broken
 * file keeps what it has). */
int faxtiff_split_file(const char *path, struct faxtiff_page **pages, int *n, char *err, size_t errlen);
int faxtiff_split_mem(const uint8_t *data, size_t len, struct faxtiff_page **pages, int *n,
		      char *err, size_t errlen);
void faxtiff_pages_free(struct faxtiff_page *pages, int n);

/* A page as a 1-bit bitmap: rows of (width + 7) / 8 bytes, 1 = black. */
struct faxtiff_bitmap {
	uint8_t *bits;
	int width, height, stride;
	int x_dpi, y_dpi;
};
int faxtiff_decode(const uint8_t *tiff, size_t len, struct faxtiff_bitmap *bm, char *err, size_t errlen);
/* Encode a bitmap as a single-page T.6 (G4) TIFF. */
int faxtiff_encode_g4(const struct faxtiff_bitmap *bm, struct faxtiff_page *out, char *err, size_t errlen);
void faxtiff_bitmap_free(struct faxtiff_bitmap *bm);

/* Join single-page TIFFs (strips copied raw) into one multi-page TIFF file
 * at path, the file a fax engine sends from.  0 or -1 with err. */
int faxtiff_join_file(const struct faxtiff_page *pages, int n, const char *path, char *err,
		      size_t errlen);

#endif
