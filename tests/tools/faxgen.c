/* faxgen: fax test documents for the integration and browser tests.
 *
 *   faxgen tiff OUT N [fine|standard]   an N-page G4 TIFF (libtiff directly, not lib/faxtiff,
 *                                       so the code under test is not its own oracle): 1728
 *                                       pixels wide, page k carries k black bars
 *   faxgen pdf OUT N                    an N-page A4 PDF (cairo): a frame and k black bars
 *                                       on page k
 * Tests may include third-party headers; the programs may not. */
#include <cairo-pdf.h>
#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#define FAXGEN_W 1728

static void faxgen_page(TIFF *tif, int k, int h, int ydpi)
{
	int stride = FAXGEN_W / 8;
	unsigned char *row = malloc((size_t)stride);

	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)FAXGEN_W);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)h);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1);
	TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
	TIFFSetField(tif, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
	TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, (uint32_t)h);
	TIFFSetField(tif, TIFFTAG_XRESOLUTION, 204.0f);
	TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float)ydpi);
	TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
	TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
	for (int y = 0; y < h; y++) {
		int bar = (y / 40) % 2 == 1 && y / 80 < k;
		memset(row, 0, (size_t)stride);
		if (bar)
			memset(row + 20, 0xff, (size_t)(stride - 40));
		row[0] |= 0x80; /* a left margin line on every row */
		TIFFWriteScanline(tif, row, (uint32_t)y, 0);
	}
	TIFFWriteDirectory(tif);
	free(row);
}

static int faxgen_tiff(const char *out, int n, int fine)
{
	TIFF *tif = TIFFOpen(out, "w");

	if (tif == NULL)
		return 1;
	for (int k = 1; k <= n; k++)
		faxgen_page(tif, k, fine ? 2200 : 1100, fine ? 196 : 98);
	TIFFClose(tif);
	return 0;
}

static int faxgen_pdf(const char *out, int n)
{
	cairo_surface_t *s = cairo_pdf_surface_create(out, 595.28, 841.89);
	cairo_t *cr = cairo_create(s);

	for (int k = 1; k <= n; k++) {
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_set_line_width(cr, 4);
		cairo_rectangle(cr, 30, 30, 535, 780);
		cairo_stroke(cr);
		for (int b = 0; b < k; b++) {
			cairo_rectangle(cr, 60, 80 + 60.0 * b, 475, 30);
			cairo_fill(cr);
		}
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_finish(s);
	int bad = cairo_surface_status(s) != CAIRO_STATUS_SUCCESS;
	cairo_surface_destroy(s);
	return bad;
}

int main(int argc, char **argv)
{
	long n;
	char *end;

	if (argc < 4) {
		fprintf(stderr, "usage: faxgen tiff|pdf OUT N [fine|standard]\n");
		return 2;
	}
	n = strtol(argv[3], &end, 10);
	if (*end != '\0' || n < 1 || n > 100)
		return 2;
	if (strcmp(argv[1], "tiff") == 0)
		return faxgen_tiff(argv[2], (int)n, argc < 5 || strcmp(argv[4], "standard") != 0);
	if (strcmp(argv[1], "pdf") == 0)
		return faxgen_pdf(argv[2], (int)n);
	return 2;
}
