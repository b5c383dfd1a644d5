/* faxrender: the one adapter over pango and cairo (issue 7, sending).  It
 * sets a reply's text on A4 fax pages: 1728 x 2292 pixels at 204 x 196 dpi
 * (fine resolution), 1 bit, in a Japanese font, with a letterhead on the
 * first page and "n/N" at the foot of every page.  No other file includes
 * pango or cairo headers.
 *
 * Standard resolution (opts.standard, 204 x 98 dpi) pairs the rows of the
 * fine page and takes their mean coverage before the threshold, not every
 * second row, so no stroke is lost with a dropped row.
 *
 * Geometry, in the page's own pixels: everything drawn (letterhead, text,
 * page number) lies inside the text box, the page minus the margins, so a
 * fax machine that crops its edge loses nothing.  The body flows in a box
 * one footer band shorter; the letterhead and a rule open page 1.
 *
 * Output is deterministic: hinting is off and glyph positions are not
 * rounded to the device grid, so the same text, options and fonts give the
 * same bytes (tests compare pages with memcmp).  Japanese line breaking,
 * kinsoku included, is pango's (UAX #14). */
#ifndef MDG_FAXRENDER_H
#define MDG_FAXRENDER_H

#include <stddef.h>
#include "faxtiff.h"

struct buf;

#define FAXRENDER_WIDTH 1728    /* pixels: the G3 scan line */
#define FAXRENDER_HEIGHT 2292   /* pixels: 297 mm at 196 dpi */
#define FAXRENDER_XDPI 204
#define FAXRENDER_YDPI 196
#define FAXRENDER_STD_HEIGHT 1146 /* pixels: 297 mm at 98 dpi */
#define FAXRENDER_STD_YDPI 98
#define FAXRENDER_MAX_TEXT (64 * 1024) /* bytes of body or letterhead */
/* A pixel is ink when the glyphs cover half of it or more, and so is the
 * darker pixel of a thin stroke: a horizontal stroke thinner than a row
 * (IPAMincho's, about 0.1 mm at 10.5 pt, against 0.13 mm rows at fine and
 * 0.26 mm at standard) covers less than half of any row and vanished at
 * half coverage (申 became 中, 十 a stroke).  The pixel whose coverage is
 * the greater of its pair across the stroke (above and below, or left and
 * right) is ink when the pair covers FAXRENDER_THIN / 255 of a pixel or
 * more: strokes of a quarter of a row or thicker keep one row, as a
 * scanner's sensor integrating over its line (and sharpening text, as fax
 * machines do) sees them.  Edges of thick strokes do not grow (their inner
 * neighbour is the darker).  Measured with tests/integration/
 * test_ocr_pages.py: IPAMincho 10.5 pt standard read at 19.8 % character
 * error with half coverage, 14.9 % with 96 and 5 % with 64. */
#define FAXRENDER_THIN 64

struct faxrender_opts {
	const char *font;       /* fontconfig family: "IPAMincho" or "IPAGothic" */
	double font_pt;         /* 10.5 .. 12 (outside: refused) */
	double margin_mm;       /* each side, 10 .. 40 */
	int max_pages;          /* of rendered text; more is an error */
	int extra_pages;        /* pages the caller appends (attachments): counted in "n/N" */
	int standard;           /* 1: standard resolution, 204 x 98 dpi, 1146 rows; 0: fine */
};

/* The text box in page pixels: [x0, x1) x [y0, y1). */
struct faxrender_box {
	int x0, y0, x1, y1;
};
void faxrender_text_box(const struct faxrender_opts *o, struct faxrender_box *box);

/* Render: letterhead (may be empty) and body, UTF-8.  *pages is an array
 * of *n bitmaps (1 = black), free with faxrender_free.  0, or -1 with err
 * (bad options, invalid UTF-8, too long, more than max_pages). */
int faxrender_pages(const struct faxrender_opts *o, const char *letterhead, const char *body,
		    struct faxtiff_bitmap **pages, int *n, char *err, size_t errlen);
void faxrender_free(struct faxtiff_bitmap *pages, int n);
/* The rendered pages as single-page T.6 TIFFs (faxtiff_encode_g4): an
 * array of n, free with faxtiff_pages_free.  0 or -1 with err. */
int faxrender_tiff(const struct faxtiff_bitmap *pages, int n, struct faxtiff_page **out,
		   char *err, size_t errlen);

/* Fill a template's {{name}} variables (letterheads in templates/fax/).
 * An unknown name or an unclosed "{{" is an error, so a typo in a
 * template shows at once.  Values are inserted as they are. */
struct faxrender_var {
	const char *name;
	const char *value;
};
int faxrender_fill(const char *tmpl, const struct faxrender_var *vars, size_t nvars,
		   struct buf *out, char *err, size_t errlen);

#endif
