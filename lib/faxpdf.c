/* faxpdf: poppler-glib renders, cairo holds the pixels; see faxpdf.h.
 * Rendering is into an 8-bit alpha-free RGB surface the size of the fax
 * page, then thresholded at half grey: fax machines print black and
 * white, and T.6 codes only that. */
#include "faxpdf.h"

#include <cairo.h>
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <poll.h>
#include <poppler.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAXPDF_WIDTH 1728
#define FAXPDF_XDPI 204
#define FAXPDF_YDPI 196

void faxpdf_limits_default(struct faxpdf_limits *lim)
{
	lim->max_pages = 50;
	lim->max_bytes = 32u << 20;
	lim->max_height = 6000;
	lim->max_seconds = 60;
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

/* Where rendered pages go: an array here, or the pipe to the parent. */
struct faxpdf_sink {
	int (*put)(struct faxpdf_sink *k, struct faxtiff_page *p); /* takes p->tiff; 0 or -1 */
	struct faxtiff_page *pages;
	int n, cap;
	int fd;
};

static int faxpdf_put_array(struct faxpdf_sink *k, struct faxtiff_page *p)
{
	if (k->n == k->cap) {
		int nc = k->cap ? k->cap * 2 : 8;
		struct faxtiff_page *np = realloc(k->pages, (size_t)nc * sizeof(*np));
		if (np == NULL) {
			free(p->tiff);
			return -1;
		}
		k->pages = np;
		k->cap = nc;
	}
	k->pages[k->n++] = *p;
	return 0;
}

/* every page (up to the limit) into the sink; 0, or -1 with err */
static int faxpdf_render_here(const uint8_t *pdf, size_t len, const struct faxpdf_limits *lim,
			      struct faxpdf_sink *k, char *err, size_t errlen)
{
	PopplerDocument *doc;
	GBytes *bytes = g_bytes_new_static(pdf, len);
	GError *gerr = NULL;
	int total, want, rc = 0;

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
	for (int i = 0; rc == 0 && i < want; i++) {
		struct faxtiff_page p;
		if (faxpdf_page(doc, i, lim, &p, err, errlen) < 0)
			rc = -1;
		else if (k->put(k, &p) < 0) {
			snprintf(err, errlen, "page %d: could not be passed on", i + 1);
			rc = -1;
		}
	}
	if (rc == 0 && total > want) {
		snprintf(err, errlen, "PDF has %d pages; only the first %d were rendered", total, want);
		rc = -1;
	}
	g_object_unref(doc);
	g_bytes_unref(bytes);
	return rc;
}

/* ---- rendering in a child process, under a time limit ----
 * poppler is a large parser of hostile input: in a child, a PDF that
 * loops or crashes costs that child, never the daemon.  Records on the
 * pipe: 'P' + struct faxtiff_page (pointer meaningless) + len bytes, per
 * page as soon as it is rendered; 'E' + int rc + the error text (NUL
 * ended) at the end.  Same binary on both ends, so raw structs are fine. */

static int faxpdf_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int faxpdf_put_pipe(struct faxpdf_sink *k, struct faxtiff_page *p)
{
	int rc = faxpdf_write_all(k->fd, "P", 1) < 0 || faxpdf_write_all(k->fd, p, sizeof(*p)) < 0 ||
		 faxpdf_write_all(k->fd, p->tiff, p->len) < 0 ? -1 : 0;
	free(p->tiff);
	return rc;
}

static void faxpdf_child(int fd, const uint8_t *pdf, size_t len, const struct faxpdf_limits *lim)
{
	struct faxpdf_sink k = { faxpdf_put_pipe, NULL, 0, 0, fd };
	char err[512] = "";
	int rc = faxpdf_render_here(pdf, len, lim, &k, err, sizeof(err));

	if (faxpdf_write_all(fd, "E", 1) == 0 && faxpdf_write_all(fd, &rc, sizeof(rc)) == 0)
		faxpdf_write_all(fd, err, strlen(err) + 1);
	_exit(0);
}

/* read exactly n bytes before the deadline (monotonic ms); 0 or -1 */
static int faxpdf_read_all(int fd, void *p, size_t n, long long deadline)
{
	char *c = p;
	while (n > 0) {
		struct pollfd pf = { fd, POLLIN, 0 };
		struct timespec ts;
		long long now;
		ssize_t r;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (now >= deadline || poll(&pf, 1, (int)(deadline - now)) <= 0)
			return -1;
		r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* one record from the child: 1 page (into k), 0 the end (rc, err), -1 broken */
static int faxpdf_record(int fd, long long deadline, const struct faxpdf_limits *lim,
			 struct faxpdf_sink *k, int *rc, char *err, size_t errlen)
{
	struct faxtiff_page p;
	char tag, c;
	size_t o = 0;

	if (faxpdf_read_all(fd, &tag, 1, deadline) < 0)
		return -1;
	if (tag == 'E') {
		if (faxpdf_read_all(fd, rc, sizeof(*rc), deadline) < 0)
			return -1;
		while (faxpdf_read_all(fd, &c, 1, deadline) == 0 && c != '\0')
			if (o + 1 < errlen)
				err[o++] = c;
		if (errlen > 0)
			err[o] = '\0';
		return 0;
	}
	if (tag != 'P' || faxpdf_read_all(fd, &p, sizeof(p), deadline) < 0 || p.len == 0 ||
	    p.len > (size_t)lim->max_height * 1728 / 2 + 65536 || (p.tiff = malloc(p.len)) == NULL)
		return -1;
	if (faxpdf_read_all(fd, p.tiff, p.len, deadline) < 0) {
		free(p.tiff);
		return -1;
	}
	p.compression[sizeof(p.compression) - 1] = '\0';
	return k->put(k, &p) < 0 ? -1 : 1;
}

static int faxpdf_render_child(const uint8_t *pdf, size_t len, const struct faxpdf_limits *lim,
			       struct faxpdf_sink *k, char *err, size_t errlen)
{
	struct timespec ts;
	long long deadline;
	int fds[2], rc = -1, r, status;
	pid_t pid;

	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		snprintf(err, errlen, "cannot start the PDF renderer: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		faxpdf_child(fds[1], pdf, len, lim);
	}
	close(fds[1]);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + lim->max_seconds * 1000LL;
	err[0] = '\0';
	while ((r = faxpdf_record(fds[0], deadline, lim, k, &rc, err, errlen)) == 1)
		;
	if (r < 0) {
		kill(pid, SIGKILL);
		snprintf(err, errlen, "the PDF renderer stopped (over %d s, or crashed) after %d pages",
			 lim->max_seconds, k->n);
		rc = -1;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return rc;
}

int faxpdf_render(const uint8_t *pdf, size_t len, const struct faxpdf_limits *lim,
		  struct faxtiff_page **pages, int *n, char *err, size_t errlen)
{
	struct faxpdf_sink k = { faxpdf_put_array, NULL, 0, 0, -1 };
	int rc;

	*pages = NULL;
	*n = 0;
	if (len > lim->max_bytes) {
		snprintf(err, errlen, "PDF of %zu bytes is over the limit of %zu", len, lim->max_bytes);
		return -1;
	}
	if (lim->max_seconds > 0)
		rc = faxpdf_render_child(pdf, len, lim, &k, err, errlen);
	else
		rc = faxpdf_render_here(pdf, len, lim, &k, err, errlen);
	*pages = k.pages;
	*n = k.n;
	return rc;
}
