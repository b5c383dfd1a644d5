/* faxpdf: PDFs made here with cairo (the test may include it; the code
 * under test alone reads PDFs) rendered to fax pages: page count, exact
 * sizes at 204x196 dpi over 1728 pixels, black where the PDF is black and
 * white elsewhere, the limits, and a PDF that is not one.  By default
 * rendering runs in a child process; one case runs it in this one. */
#include "faxpdf.h"
#include "faxtiff.h"
#include "testlib.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct mem {
	unsigned char *d;
	size_t len, cap;
};

static cairo_status_t mem_write(void *arg, const unsigned char *data, unsigned int n)
{
	struct mem *m = arg;
	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2;
		m->d = realloc(m->d, m->cap);
	}
	memcpy(m->d + m->len, data, n);
	m->len += n;
	return CAIRO_STATUS_SUCCESS;
}

/* n pages of w x h pt; page k has a black box at (100, 100 + 50k) 200 x 100 pt */
static struct mem make_pdf(int n, double w, double h)
{
	struct mem m = { 0 };
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(mem_write, &m, w, h);
	cairo_t *cr = cairo_create(s);

	for (int k = 1; k <= n; k++) {
		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_rectangle(cr, 100, 100 + 50.0 * k, 200, 100);
		cairo_fill(cr);
		cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_finish(s);
	cairo_surface_destroy(s);
	return m;
}

static int pixel(const struct faxtiff_bitmap *bm, double xpt, double ypt, double sx, double sy)
{
	int x = (int)(xpt * sx), y = (int)(ypt * sy);
	return (bm->bits[(size_t)y * (size_t)bm->stride + (size_t)(x / 8)] >> (7 - x % 8)) & 1;
}

static void test_a4(void)
{
	struct mem pdf = make_pdf(3, 595.28, 841.89);
	struct faxpdf_limits lim;
	struct faxtiff_page *pages;
	char err[256] = "";
	int n;
	double sx = 1728 / 595.28, sy = sx * 196 / 204;

	faxpdf_limits_default(&lim);
	CHECK_INT(faxpdf_render(pdf.d, pdf.len, &lim, &pages, &n, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_INT(n, 3);
	for (int i = 0; i < n; i++) {
		struct faxtiff_bitmap bm;
		double top = 100 + 50.0 * (i + 1);
		CHECK_INT(pages[i].width, 1728);
		CHECK_INT(pages[i].height, (int)ceil(841.89 * sy));
		CHECK_INT(pages[i].x_dpi, 204);
		CHECK_INT(pages[i].y_dpi, 196);
		CHECK_STR(pages[i].compression, "t6");
		CHECK_INT(faxtiff_decode(pages[i].tiff, pages[i].len, &bm, err, sizeof(err)), 0);
		CHECK_INT(pixel(&bm, 200, top + 50, sx, sy), 1);   /* inside the box */
		CHECK_INT(pixel(&bm, 101, top + 1, sx, sy), 1);    /* just inside its corner */
		CHECK_INT(pixel(&bm, 99, top + 50, sx, sy), 0);    /* just left of it */
		CHECK_INT(pixel(&bm, 200, top - 1, sx, sy), 0);    /* just above it */
		CHECK_INT(pixel(&bm, 400, 600, sx, sy), 0);        /* blank paper */
		faxtiff_bitmap_free(&bm);
	}
	faxtiff_pages_free(pages, n);
	free(pdf.d);
}

static void test_limits(void)
{
	struct mem pdf = make_pdf(4, 595.28, 841.89), tall = make_pdf(1, 595.28, 5000);
	struct faxpdf_limits lim;
	struct faxtiff_page *pages;
	char err[256] = "";
	int n;

	faxpdf_limits_default(&lim);
	lim.max_pages = 2;
	CHECK_INT(faxpdf_render(pdf.d, pdf.len, &lim, &pages, &n, err, sizeof(err)), -1);
	CHECK_INT(n, 2);
	CHECK_STR(err, "PDF has 4 pages; only the first 2 were rendered");
	faxtiff_pages_free(pages, n);
	lim.max_bytes = pdf.len - 1;
	CHECK_INT(faxpdf_render(pdf.d, pdf.len, &lim, &pages, &n, err, sizeof(err)), -1);
	CHECK_INT(n, 0);
	CHECK(strstr(err, "over the limit") != NULL);
	faxtiff_pages_free(pages, n);
	faxpdf_limits_default(&lim);
	lim.max_seconds = 0; /* in this process */
	CHECK_INT(faxpdf_render(pdf.d, pdf.len, &lim, &pages, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 4);
	faxtiff_pages_free(pages, n);
	faxpdf_limits_default(&lim);
	CHECK_INT(faxpdf_render(tall.d, tall.len, &lim, &pages, &n, err, sizeof(err)), 0);
	CHECK_INT(n, 1);
	CHECK_INT(pages[0].height, 6000); /* a long page is cut at max_height */
	faxtiff_pages_free(pages, n);
	free(pdf.d);
	free(tall.d);
}

static void test_garbage(void)
{
	static const char junk[] = "%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage";
	struct faxpdf_limits lim;
	struct faxtiff_page *pages;
	char err[256] = "";
	int n = 5;

	faxpdf_limits_default(&lim);
	CHECK_INT(faxpdf_render((const uint8_t *)junk, sizeof(junk) - 1, &lim, &pages, &n, err,
				sizeof(err)), -1);
	CHECK_INT(n, 0);
	CHECK(pages == NULL);
	CHECK(strncmp(err, "not a readable PDF: ", 20) == 0);
}

int main(void)
{
	RUN(test_a4);
	RUN(test_limits);
	RUN(test_garbage);
	return TEST_END();
}
