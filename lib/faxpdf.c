/* faxpdf: poppler-glib renders, cairo holds the pixels; see faxpdf.h.
 * Rendering is into an 8-bit alpha-free RGB surface the size of the fax
 * page, then thresholded at half grey: fax machines print black and
 * white, and T.6 codes only that. */
#include "faxpdf.h"

#include <cairo.h>
#include <glib.h>
#include <math.h>
#include <poppler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAXPDF_WIDTH 1728
#define FAXPDF_XDPI 204
#define FAXPDF_YDPI 196

void faxpdf_limits_default(struct faxpdf_limits *lim)
{
	lim->max_pages = 50;
	lim->max_bytes = 32u << 20;
	lim->max_height = 6000;
}

/* the surface's pixels as a 1-bit bitmap, 1 = black (darker than half) */
static int faxpdf_threshold(cairo_surface_t *s, struct faxtiff_bitmap *bm)
{
	const unsigned char *px = cairo_image_surface_get_data(s);
	int stride = cairo_image_surface_get_stride(s);

	bm->stride = (bm->width + 7) / 8;
	bm->bits = calloc((size_t)bm->stride, (size_t)bm->height);
	if (bm->bits == NULL)
		return -1;
	for (int y = 0; y < bm->height; y++) {
		const uint32_t *row = (const uint32_t *)(const void *)(px + (size_t)y * (size_t)stride);
		uint8_t *out = bm->bits + (size_t)y * (size_t)bm->stride;
		for (int x = 0; x < bm->width; x++) {
			uint32_t p = row[x];
			unsigned lum = (((p >> 16) & 0xff) * 77 + ((p >> 8) & 0xff) * 150 +
					(p & 0xff) * 29) >> 8;
			if (lum < 128)
				out[x / 8] |= (uint8_t)(0x80 >> (x % 8));
		}
	}
	return 0;
}

/* page i rendered into out; 0 or -1 with err */
static int faxpdf_page(PopplerDocument *doc, int i, const struct faxpdf_limits *lim,
		       struct faxtiff_page *out, char *err, size_t errlen)
{
	PopplerPage *page = poppler_document_get_page(doc, i);
	struct faxtiff_bitmap bm = { 0 };
	cairo_surface_t *s;
	cairo_t *cr;
	double w, h, sx, sy;
	int rc = -1;

	if (page == NULL) {
		snprintf(err, errlen, "page %d: cannot be read", i + 1);
		return -1;
	}
	poppler_page_get_size(page, &w, &h);
	if (!(w > 1 && h > 1 && w < 20000 && h < 20000)) {
		snprintf(err, errlen, "page %d: size %.0fx%.0f pt out of bounds", i + 1, w, h);
		g_object_unref(page);
		return -1;
	}
	sx = FAXPDF_WIDTH / w;
	sy = sx * FAXPDF_YDPI / FAXPDF_XDPI;
	bm.width = FAXPDF_WIDTH;
	bm.height = (int)ceil(h * sy);
	if (bm.height > lim->max_height)
		bm.height = lim->max_height;
	bm.x_dpi = FAXPDF_XDPI;
	bm.y_dpi = FAXPDF_YDPI;
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, bm.width, bm.height);
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, sx, sy);
	poppler_page_render_for_printing(page, cr);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
		snprintf(err, errlen, "page %d: %s", i + 1, cairo_status_to_string(cairo_surface_status(s)));
	else if (faxpdf_threshold(s, &bm) < 0)
		snprintf(err, errlen, "page %d: out of memory", i + 1);
	else
		rc = faxtiff_encode_g4(&bm, out, err, errlen);
	faxtiff_bitmap_free(&bm);
	cairo_surface_destroy(s);
	g_object_unref(page);
	return rc;
}

int faxpdf_render(const uint8_t *pdf, size_t len, const struct faxpdf_limits *lim,
		  struct faxtiff_page **pages, int *n, char *err, size_t errlen)
{
	PopplerDocument *doc;
	GBytes *bytes;
	GError *gerr = NULL;
	int total, want, rc = 0;

	*pages = NULL;
	*n = 0;
	if (len > lim->max_bytes) {
		snprintf(err, errlen, "PDF of %zu bytes is over the limit of %zu", len, lim->max_bytes);
		return -1;
	}
	bytes = g_bytes_new_static(pdf, len);
	doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	if (doc == NULL) {
		snprintf(err, errlen, "not a readable PDF: %s", gerr ? gerr->message : "unknown error");
		g_clear_error(&gerr);
		g_bytes_unref(bytes);
		return -1;
	}
	total = poppler_document_get_n_pages(doc);
	want = total < lim->max_pages ? total : lim->max_pages;
	if (total <= 0) {
		snprintf(err, errlen, "PDF has no pages");
		rc = -1;
	}
	*pages = want > 0 ? calloc((size_t)want, sizeof(**pages)) : NULL;
	for (int i = 0; rc == 0 && i < want; i++) {
		if (*pages == NULL) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		} else if (faxpdf_page(doc, i, lim, &(*pages)[i], err, errlen) < 0)
			rc = -1;
		else
			(*n)++;
	}
	if (rc == 0 && total > want) {
		snprintf(err, errlen, "PDF has %d pages; only the first %d were rendered", total, want);
		rc = -1;
	}
	g_object_unref(doc);
	g_bytes_unref(bytes);
	return rc;
}
