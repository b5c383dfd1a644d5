/* faxtiff: the one adapter over libtiff (see faxtiff.h).
 *
 * All TIFF input and output goes through memory: a reader over a const
 * byte range and a growable writer, given to libtiff by TIFFClientOpenExt.
 * Errors and warnings are caught per handle (libtiff 4.5 open options), so
 * nothing is printed on stderr and threads never share an error buffer.
 *
 * Splitting copies each page's compressed strips as they are (no decode,
 * no re-encode): the page stored is the page the sender's machine sent.
 * Everything read is bounded: pages, pixels, strip bytes (never more than
 * the input holds). */
#include "faxtiff.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#define FAXTIFF_MAX_PAGES 1000
#define FAXTIFF_MAX_WIDTH 20000   /* A3 at 600 dpi is under 7100 */
#define FAXTIFF_MAX_HEIGHT 40000
#define FAXTIFF_MAX_FILE (256u * 1024 * 1024)
/* a page's pixels at most: A3 at 400x400 dpi is 31 million; a 1-bit
 * bitmap of this many is 8 MiB */
#define FAXTIFF_MAX_PIXELS (64ull * 1024 * 1024)

/* A TIFF in memory: reading (data, len) or writing (wbuf grows). */
struct faxtiff_io {
	const uint8_t *data;
	uint8_t *wbuf;
	size_t len, cap, pos;
	char *err;        /* the first libtiff error lands here */
	size_t errlen;
	int has_err;
};

static tmsize_t faxtiff_io_read(thandle_t h, void *buf, tmsize_t size)
{
	struct faxtiff_io *io = h;
	const uint8_t *src = io->wbuf ? io->wbuf : io->data;
	size_t n;

	if (size < 0 || io->pos >= io->len)
		return 0;
	n = io->len - io->pos;
	if ((size_t)size < n)
		n = (size_t)size;
	memcpy(buf, src + io->pos, n);
	io->pos += n;
	return (tmsize_t)n;
}

static tmsize_t faxtiff_io_write(thandle_t h, void *buf, tmsize_t size)
{
	struct faxtiff_io *io = h;
	size_t end;

	if (io->data != NULL || size < 0)
		return -1;
	end = io->pos + (size_t)size;
	if (end > FAXTIFF_MAX_FILE)
		return -1;
	if (end > io->cap) {
		size_t cap = io->cap ? io->cap : 65536;
		uint8_t *nb;
		while (cap < end)
			cap *= 2;
		nb = realloc(io->wbuf, cap);
		if (nb == NULL)
			return -1;
		if (cap > io->cap)
			memset(nb + io->cap, 0, cap - io->cap);
		io->wbuf = nb;
		io->cap = cap;
	}
	memcpy(io->wbuf + io->pos, buf, (size_t)size);
	io->pos = end;
	if (end > io->len)
		io->len = end;
	return size;
}

static toff_t faxtiff_io_seek(thandle_t h, toff_t off, int whence)
{
	struct faxtiff_io *io = h;
	uint64_t base;

	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = io->pos; break;
	case SEEK_END: base = io->len; break;
	default: return (toff_t)-1;
	}
	if (off > FAXTIFF_MAX_FILE || base + off > FAXTIFF_MAX_FILE)
		return (toff_t)-1;
	io->pos = (size_t)(base + off);
	return io->pos;
}

static int faxtiff_io_close(thandle_t h)
{
	(void)h;
	return 0;
}

static toff_t faxtiff_io_size(thandle_t h)
{
	return ((struct faxtiff_io *)h)->len;
}

static int faxtiff_io_map(thandle_t h, void **base, toff_t *size)
{
	(void)h, (void)base, (void)size;
	return 0; /* no mapping: libtiff reads through faxtiff_io_read */
}

static void faxtiff_io_unmap(thandle_t h, void *base, toff_t size)
{
	(void)h, (void)base, (void)size;
}

static int faxtiff_on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	struct faxtiff_io *io = user;
	(void)tif;
	if (io != NULL && !io->has_err && io->errlen > 0) {
		char msg[256];
		vsnprintf(msg, sizeof msg, fmt, ap);
		snprintf(io->err, io->errlen, "%s: %s", module ? module : "tiff", msg);
		io->has_err = 1;
	}
	return 1; /* handled: libtiff's global handler stays silent */
}

static int faxtiff_on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	(void)tif, (void)user, (void)module, (void)fmt, (void)ap;
	return 1; /* unknown tags and the like: not worth a log line per page */
}

static TIFF *faxtiff_open(struct faxtiff_io *io, const char *mode)
{
	TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
	TIFF *tif;

	if (opts == NULL)
		return NULL;
	TIFFOpenOptionsSetErrorHandlerExtR(opts, faxtiff_on_error, io);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, faxtiff_on_warning, io);
	TIFFOpenOptionsSetMaxSingleMemAlloc(opts, 64 * 1024 * 1024);
	tif = TIFFClientOpenExt("faxtiff", mode, (thandle_t)io, faxtiff_io_read, faxtiff_io_write,
				faxtiff_io_seek, faxtiff_io_close, faxtiff_io_size, faxtiff_io_map,
				faxtiff_io_unmap, opts);
	TIFFOpenOptionsFree(opts);
	return tif;
}

static int faxtiff_dpi(float res, uint16_t unit)
{
	double d = res;
	if (unit == RESUNIT_CENTIMETER)
		d *= 2.54;
	if (d < 1 || d > 10000)
		return 0;
	return (int)(d + 0.5);
}

/* The facts of the current directory that a page records. */
struct faxtiff_tags {
	uint32_t width, height, rows_per_strip, t4opt, t6opt;
	uint16_t bps, spp, compression, photometric, fillorder, resunit, planar;
	float xres, yres;
	int has_xres, has_yres, has_t4, has_t6;
};

static int faxtiff_read_tags(TIFF *tif, struct faxtiff_tags *t, char *what, size_t wlen)
{
	memset(t, 0, sizeof *t);
	if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &t->width) ||
	    !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &t->height)) {
		snprintf(what, wlen, "no image size");
		return -1;
	}
	if (t->width == 0 || t->height == 0 || t->width > FAXTIFF_MAX_WIDTH ||
	    t->height > FAXTIFF_MAX_HEIGHT ||
	    (unsigned long long)t->width * t->height > FAXTIFF_MAX_PIXELS) {
		snprintf(what, wlen, "image size %ux%u out of bounds", t->width, t->height);
		return -1;
	}
	if (TIFFIsTiled(tif)) {
		snprintf(what, wlen, "tiled images are not fax pages");
		return -1;
	}
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &t->bps);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &t->spp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &t->compression);
	TIFFGetFieldDefaulted(tif, TIFFTAG_FILLORDER, &t->fillorder);
	TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &t->resunit);
	TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &t->planar);
	TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &t->rows_per_strip);
	if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &t->photometric))
		t->photometric = PHOTOMETRIC_MINISWHITE; /* fax convention */
	t->has_xres = TIFFGetField(tif, TIFFTAG_XRESOLUTION, &t->xres);
	t->has_yres = TIFFGetField(tif, TIFFTAG_YRESOLUTION, &t->yres);
	if (t->compression == COMPRESSION_CCITTFAX3)
		t->has_t4 = TIFFGetField(tif, TIFFTAG_GROUP3OPTIONS, &t->t4opt);
	if (t->compression == COMPRESSION_CCITTFAX4)
		t->has_t6 = TIFFGetField(tif, TIFFTAG_GROUP4OPTIONS, &t->t6opt);
	if (t->bps != 1 || t->spp != 1) {
		snprintf(what, wlen, "not a bilevel page (%u bits x %u samples)", t->bps, t->spp);
		return -1;
	}
	if (t->photometric != PHOTOMETRIC_MINISWHITE && t->photometric != PHOTOMETRIC_MINISBLACK) {
		snprintf(what, wlen, "photometric %u is not bilevel", t->photometric);
		return -1;
	}
	return 0;
}

static void faxtiff_fill_page(struct faxtiff_page *p, const struct faxtiff_tags *t)
{
	const char *c;

	p->width = (int)t->width;
	p->height = (int)t->height;
	p->x_dpi = t->has_xres ? faxtiff_dpi(t->xres, t->resunit) : 0;
	p->y_dpi = t->has_yres ? faxtiff_dpi(t->yres, t->resunit) : 0;
	if (p->x_dpi == 0)
		p->x_dpi = 204;
	if (p->y_dpi == 0)
		p->y_dpi = 196;
	switch (t->compression) {
	case COMPRESSION_CCITTFAX3: c = (t->t4opt & GROUP3OPT_2DENCODING) ? "t4_2d" : "t4_1d"; break;
	case COMPRESSION_CCITTFAX4: c = "t6"; break;
	case COMPRESSION_NONE: c = "none"; break;
	default: c = "other"; break;
	}
	snprintf(p->compression, sizeof p->compression, "%s", c);
}

static void faxtiff_set_tags(TIFF *out, const struct faxtiff_tags *t)
{
	TIFFSetField(out, TIFFTAG_IMAGEWIDTH, t->width);
	TIFFSetField(out, TIFFTAG_IMAGELENGTH, t->height);
	TIFFSetField(out, TIFFTAG_BITSPERSAMPLE, 1);
	TIFFSetField(out, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(out, TIFFTAG_COMPRESSION, t->compression);
	TIFFSetField(out, TIFFTAG_PHOTOMETRIC, t->photometric);
	TIFFSetField(out, TIFFTAG_FILLORDER, t->fillorder);
	TIFFSetField(out, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(out, TIFFTAG_ROWSPERSTRIP, t->rows_per_strip);
	if (t->has_xres)
		TIFFSetField(out, TIFFTAG_XRESOLUTION, t->xres);
	if (t->has_yres)
		TIFFSetField(out, TIFFTAG_YRESOLUTION, t->yres);
	TIFFSetField(out, TIFFTAG_RESOLUTIONUNIT, t->resunit);
	if (t->has_t4)
		TIFFSetField(out, TIFFTAG_GROUP3OPTIONS, t->t4opt);
	if (t->has_t6)
		TIFFSetField(out, TIFFTAG_GROUP4OPTIONS, t->t6opt);
}

/* Copy the strips of the current directory of in, raw, into out. */
static int faxtiff_copy_strips(TIFF *in, TIFF *out, size_t input_len, char *what, size_t wlen)
{
	uint32_t nstrips = TIFFNumberOfStrips(in), s;
	uint8_t *buf = NULL;
	int rc = -1;

	if (nstrips == 0 || nstrips > FAXTIFF_MAX_HEIGHT) {
		snprintf(what, wlen, "%u strips", nstrips);
		return -1;
	}
	for (s = 0; s < nstrips; s++) {
		uint64_t cc = TIFFGetStrileByteCount(in, s);
		tmsize_t got;
		uint8_t *nb;

		if (cc == 0 || cc > input_len) {
			snprintf(what, wlen, "strip %u: byte count %llu out of bounds", s,
				 (unsigned long long)cc);
			goto out;
		}
		nb = realloc(buf, (size_t)cc);
		if (nb == NULL) {
			snprintf(what, wlen, "out of memory");
			goto out;
		}
		buf = nb;
		got = TIFFReadRawStrip(in, s, buf, (tmsize_t)cc);
		if (got < 0 || (uint64_t)got != cc) {
			snprintf(what, wlen, "strip %u: truncated", s);
			goto out;
		}
		if (TIFFWriteRawStrip(out, s, buf, got) != got) {
			snprintf(what, wlen, "strip %u: write failed", s);
			goto out;
		}
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/* The current directory of in as a single-page TIFF in p. */
static int faxtiff_split_one(TIFF *in, size_t input_len, struct faxtiff_page *p, char *what,
			     size_t wlen)
{
	struct faxtiff_tags t;
	struct faxtiff_io wio;
	char werr[200] = "";
	TIFF *out;
	int rc;

	if (faxtiff_read_tags(in, &t, what, wlen) < 0)
		return -1;
	memset(&wio, 0, sizeof wio);
	wio.err = werr;
	wio.errlen = sizeof werr;
	out = faxtiff_open(&wio, "w");
	if (out == NULL) {
		snprintf(what, wlen, "cannot open output: %s", werr);
		free(wio.wbuf);
		return -1;
	}
	faxtiff_set_tags(out, &t);
	rc = faxtiff_copy_strips(in, out, input_len, what, wlen);
	if (rc == 0 && !TIFFWriteDirectory(out)) {
		snprintf(what, wlen, "cannot write page: %s", werr);
		rc = -1;
	}
	TIFFClose(out);
	if (rc < 0) {
		free(wio.wbuf);
		return -1;
	}
	memset(p, 0, sizeof *p);
	p->tiff = wio.wbuf;
	p->len = wio.len;
	faxtiff_fill_page(p, &t);
	return 0;
}

static int faxtiff_push(struct faxtiff_page **pages, int *n, int *cap, const struct faxtiff_page *p)
{
	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 8;
		struct faxtiff_page *np = realloc(*pages, (size_t)nc * sizeof *np);
		if (np == NULL)
			return -1;
		*pages = np;
		*cap = nc;
	}
	(*pages)[(*n)++] = *p;
	return 0;
}

/* every directory of in as a page; 0, or -1 with err (pages so far kept) */
static int faxtiff_split_all(TIFF *in, struct faxtiff_io *io, struct faxtiff_page **pages, int *n,
			     char *err, size_t errlen)
{
	char what[200] = "";
	int cap = 0;

	for (;;) {
		struct faxtiff_page p;

		if (*n >= FAXTIFF_MAX_PAGES) {
			snprintf(err, errlen, "more than %d pages", FAXTIFF_MAX_PAGES);
			return -1;
		}
		if (faxtiff_split_one(in, io->len, &p, what, sizeof what) < 0) {
			snprintf(err, errlen, "page %d: %s", *n + 1, what);
			return -1;
		}
		if (faxtiff_push(pages, n, &cap, &p) < 0) {
			free(p.tiff);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		io->has_err = 0;
		if (!TIFFReadDirectory(in))
			break;
	}
	/* TIFFReadDirectory returns 0 both at the end of the chain and when the
	 * next directory is unreadable; the error handler tells them apart. */
	if (io->has_err) {
		snprintf(err, errlen, "after page %d: %s", *n, io->err);
		return -1;
	}
	return 0;
}

int faxtiff_split_mem(const uint8_t *data, size_t len, struct faxtiff_page **pages, int *n,
		      char *err, size_t errlen)
{
	struct faxtiff_io io;
	char lt[200] = "";
	TIFF *in;
	int rc;

	*pages = NULL;
	*n = 0;
	if (errlen > 0)
		err[0] = '\0';
	if (len > FAXTIFF_MAX_FILE) {
		snprintf(err, errlen, "TIFF larger than %u bytes", FAXTIFF_MAX_FILE);
		return -1;
	}
	memset(&io, 0, sizeof io);
	io.data = data;
	io.len = len;
	io.err = lt;
	io.errlen = sizeof lt;
	in = faxtiff_open(&io, "rm");
	if (in == NULL) {
		snprintf(err, errlen, "not a TIFF file%s%s", lt[0] ? ": " : "", lt);
		return -1;
	}
	rc = faxtiff_split_all(in, &io, pages, n, err, errlen);
	TIFFClose(in);
	return rc;
}

int faxtiff_split_file(const char *path, struct faxtiff_page **pages, int *n, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*pages = NULL;
	*n = 0;
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;
		if (len == cap) {
			uint8_t *nd;
			cap = cap ? cap * 2 : 65536;
			if (cap > FAXTIFF_MAX_FILE + 1 || (nd = realloc(data, cap)) == NULL) {
				snprintf(err, errlen, "%s: too large", path);
				fclose(f);
				free(data);
				return -1;
			}
			data = nd;
		}
		got = fread(data + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	rc = ferror(f) ? -1 : 0;
	fclose(f);
	if (rc < 0) {
		snprintf(err, errlen, "%s: read error", path);
		free(data);
		return -1;
	}
	rc = faxtiff_split_mem(data, len, pages, n, err, errlen);
	free(data);
	return rc;
}

void faxtiff_pages_free(struct faxtiff_page *pages, int n)
{
	int i;
	if (pages == NULL)
		return;
	for (i = 0; i < n; i++)
		free(pages[i].tiff);
	free(pages);
}

/* Decode every strip of the (single) page into bm->bits. */
static int faxtiff_decode_strips(TIFF *tif, const struct faxtiff_tags *t, struct faxtiff_bitmap *bm,
				 char *what, size_t wlen)
{
	uint32_t nstrips = TIFFNumberOfStrips(tif), s;
	size_t total = (size_t)bm->stride * (size_t)bm->height, off = 0;

	for (s = 0; s < nstrips && off < total; s++) {
		tmsize_t got = TIFFReadEncodedStrip(tif, s, bm->bits + off, (tmsize_t)(total - off));
		if (got < 0) {
			snprintf(what, wlen, "strip %u does not decode", s);
			return -1;
		}
		off += (size_t)got;
	}
	if (off < total) {
		snprintf(what, wlen, "%zu of %zu bytes decoded", off, total);
		return -1;
	}
	if (t->photometric == PHOTOMETRIC_MINISBLACK) {
		size_t i;
		for (i = 0; i < total; i++)
			bm->bits[i] = (uint8_t)~bm->bits[i];
	}
	if (bm->width % 8) {
		/* the bits past the width are padding: keep them 0 so bitmaps compare */
		uint8_t mask = (uint8_t)(0xff << (8 - bm->width % 8));
		int y;
		for (y = 0; y < bm->height; y++)
			bm->bits[(size_t)y * (size_t)bm->stride + (size_t)bm->stride - 1] &= mask;
	}
	return 0;
}

int faxtiff_decode(const uint8_t *tiff, size_t len, struct faxtiff_bitmap *bm, char *err, size_t errlen)
{
	struct faxtiff_io io;
	struct faxtiff_tags t;
	struct faxtiff_page facts;
	char what[200] = "";
	TIFF *tif;
	int rc = -1;

	memset(bm, 0, sizeof *bm);
	memset(&io, 0, sizeof io);
	io.data = tiff;
	io.len = len;
	io.err = what;
	io.errlen = sizeof what;
	tif = faxtiff_open(&io, "rm");
	if (tif == NULL) {
		snprintf(err, errlen, "not a TIFF file%s%s", what[0] ? ": " : "", what);
		return -1;
	}
	if (faxtiff_read_tags(tif, &t, what, sizeof what) < 0) {
		snprintf(err, errlen, "%s", what);
		goto out;
	}
	faxtiff_fill_page(&facts, &t);
	bm->width = (int)t.width;
	bm->height = (int)t.height;
	bm->stride = (bm->width + 7) / 8;
	bm->x_dpi = facts.x_dpi;
	bm->y_dpi = facts.y_dpi;
	bm->bits = calloc((size_t)bm->stride, (size_t)bm->height);
	if (bm->bits == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (faxtiff_decode_strips(tif, &t, bm, what, sizeof what) < 0) {
		snprintf(err, errlen, "%s", what);
		faxtiff_bitmap_free(bm);
		goto out;
	}
	rc = 0;
out:
	TIFFClose(tif);
	return rc;
}

/* the tags of a single-strip G4 page, then its rows; 0 or -1 */
static int faxtiff_write_g4(TIFF *tif, const struct faxtiff_bitmap *bm, int xdpi, int ydpi)
{
	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)bm->width);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)bm->height);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1);
	TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
	TIFFSetField(tif, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
	TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, (uint32_t)bm->height);
	TIFFSetField(tif, TIFFTAG_XRESOLUTION, (float)xdpi);
	TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float)ydpi);
	TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
	/* rows of stride bytes, of which the codec reads (width + 7) / 8 */
	for (int y = 0; y < bm->height; y++)
		if (TIFFWriteScanline(tif, bm->bits + (size_t)y * (size_t)bm->stride, (uint32_t)y, 0) != 1)
			return -1;
	return TIFFWriteDirectory(tif) ? 0 : -1;
}

int faxtiff_encode_g4(const struct faxtiff_bitmap *bm, struct faxtiff_page *out, char *err, size_t errlen)
{
	struct faxtiff_io io;
	char what[200] = "";
	int xdpi = bm->x_dpi > 0 ? bm->x_dpi : 204, ydpi = bm->y_dpi > 0 ? bm->y_dpi : 196;
	TIFF *tif;

	memset(out, 0, sizeof *out);
	if (bm->width <= 0 || bm->height <= 0 || bm->width > FAXTIFF_MAX_WIDTH ||
	    bm->height > FAXTIFF_MAX_HEIGHT || bm->stride < (bm->width + 7) / 8 ||
	    (unsigned long long)bm->width * (unsigned long long)bm->height > FAXTIFF_MAX_PIXELS) {
		snprintf(err, errlen, "bitmap %dx%d out of bounds", bm->width, bm->height);
		return -1;
	}
	memset(&io, 0, sizeof io);
	io.err = what;
	io.errlen = sizeof what;
	tif = faxtiff_open(&io, "w");
	if (tif == NULL || faxtiff_write_g4(tif, bm, xdpi, ydpi) < 0) {
		snprintf(err, errlen, "G4 encoding failed%s%s", what[0] ? ": " : "", what);
		if (tif != NULL)
			TIFFClose(tif);
		free(io.wbuf);
		return -1;
	}
	TIFFClose(tif);
	out->tiff = io.wbuf;
	out->len = io.len;
	out->width = bm->width;
	out->height = bm->height;
	out->x_dpi = xdpi;
	out->y_dpi = ydpi;
	snprintf(out->compression, sizeof out->compression, "t6");
	return 0;
}

void faxtiff_bitmap_free(struct faxtiff_bitmap *bm)
{
	free(bm->bits);
	bm->bits = NULL;
}

/* ---- join (sending: the spool file the fax engine sends from) ---- */

/* Append page p (a single-page TIFF) to out as its next directory; the
 * strips are copied raw, as in splitting. */
static int faxtiff_join_one(TIFF *out, const struct faxtiff_page *p, char *what, size_t wlen)
{
	struct faxtiff_io io;
	struct faxtiff_tags t;
	char lt[200] = "";
	TIFF *in;
	int rc;

	memset(&io, 0, sizeof io);
	io.data = p->tiff;
	io.len = p->len;
	io.err = lt;
	io.errlen = sizeof lt;
	in = faxtiff_open(&io, "rm");
	if (in == NULL) {
		snprintf(what, wlen, "not a TIFF file%s%s", lt[0] ? ": " : "", lt);
		return -1;
	}
	rc = faxtiff_read_tags(in, &t, what, wlen);
	if (rc == 0) {
		faxtiff_set_tags(out, &t);
		rc = faxtiff_copy_strips(in, out, p->len, what, wlen);
	}
	if (rc == 0 && !TIFFWriteDirectory(out)) {
		snprintf(what, wlen, "cannot write the page");
		rc = -1;
	}
	TIFFClose(in);
	return rc;
}

static int faxtiff_write_all(const char *path, const uint8_t *data, size_t len, char *err,
			     size_t errlen)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fwrite(data, 1, len, f) != len || fflush(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int faxtiff_join_file(const struct faxtiff_page *pages, int n, const char *path, char *err,
		      size_t errlen)
{
	struct faxtiff_io wio;
	char werr[200] = "", what[200] = "";
	TIFF *out;
	int i, rc = 0;

	if (n < 1 || n > FAXTIFF_MAX_PAGES) {
		snprintf(err, errlen, "%d pages to join", n);
		return -1;
	}
	memset(&wio, 0, sizeof wio);
	wio.err = werr;
	wio.errlen = sizeof werr;
	out = faxtiff_open(&wio, "w");
	if (out == NULL) {
		snprintf(err, errlen, "cannot open output: %s", werr);
		free(wio.wbuf);
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		rc = faxtiff_join_one(out, &pages[i], what, sizeof what);
		if (rc < 0)
			snprintf(err, errlen, "page %d: %s", i + 1, what);
	}
	TIFFClose(out);
	if (rc == 0)
		rc = faxtiff_write_all(path, wio.wbuf, wio.len, err, errlen);
	free(wio.wbuf);
	return rc;
}
