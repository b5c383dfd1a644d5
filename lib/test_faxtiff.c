/* faxtiff: split, decode and encode against bitmaps made here, multi-page
 * files written here with libtiff in four codings, a truncated file, garbage,
 * and the ITU charts of the shared corpus against their PBM oracles (skipped
 * when the corpus is absent). */
#include "faxtiff.h"
#include "testlib.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include <unistd.h>

#define W 1728
#define H 120

/* A bitmap with a figure that depends on seed: runs of varying length,
 * a diagonal, a frame, so every coding mode of T.4/T.6 gets used. */
static void test_bitmap(struct faxtiff_bitmap *bm, int w, int h, int seed, int ydpi)
{
	uint32_t r = (uint32_t)seed * 2654435761u + 1;
	int x, y;

	bm->width = w;
	bm->height = h;
	bm->stride = (w + 7) / 8;
	bm->x_dpi = 204;
	bm->y_dpi = ydpi;
	bm->bits = calloc((size_t)bm->stride, (size_t)h);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			int black = (x == y * 3 % w) || y == 0 || y == h - 1 || x == 0 || x == w - 1;
			if ((x / 37 + y / 5 + seed) % 7 == 0) {
				r = r * 1103515245u + 12345u;
				black = black || (r >> 28) < 6;
			}
			if (black)
				bm->bits[(size_t)y * (size_t)bm->stride + (size_t)(x / 8)] |=
					(uint8_t)(0x80 >> (x % 8));
		}
	}
}

static int same_bits(const struct faxtiff_bitmap *a, const struct faxtiff_bitmap *b)
{
	return a->width == b->width && a->height == b->height && a->stride == b->stride &&
	       memcmp(a->bits, b->bits, (size_t)a->stride * (size_t)a->height) == 0;
}

static void test_g4_roundtrip(void)
{
	struct faxtiff_bitmap src, got;
	struct faxtiff_page page;
	char err[256] = "";

	test_bitmap(&src, 1000, 77, 3, 98); /* width not a multiple of 8 */
	CHECK_INT(faxtiff_encode_g4(&src, &page, err, sizeof err), 0);
	CHECK_INT(page.width, 1000);
	CHECK_INT(page.height, 77);
	CHECK_INT(page.x_dpi, 204);
	CHECK_INT(page.y_dpi, 98);
	CHECK_STR(page.compression, "t6");
	CHECK(page.len > 8 && memcmp(page.tiff, "II*\0", 4) == 0);
	CHECK_INT(faxtiff_decode(page.tiff, page.len, &got, err, sizeof err), 0);
	CHECK(same_bits(&src, &got));
	CHECK_INT(got.y_dpi, 98);
	faxtiff_bitmap_free(&got);
	faxtiff_bitmap_free(&src);
	free(page.tiff);
}

/* One page of bm into the open file tif, coded as asked. */
static void write_page(TIFF *tif, const struct faxtiff_bitmap *bm, int compression, uint32_t t4opt,
		       int fillorder, int rows_per_strip)
{
	int y;

	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)bm->width);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)bm->height);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1);
	TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(tif, TIFFTAG_COMPRESSION, compression);
	if (compression == COMPRESSION_CCITTFAX3)
		TIFFSetField(tif, TIFFTAG_GROUP3OPTIONS, t4opt);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
	TIFFSetField(tif, TIFFTAG_FILLORDER, fillorder);
	TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, (uint32_t)rows_per_strip);
	TIFFSetField(tif, TIFFTAG_XRESOLUTION, (float)bm->x_dpi);
	TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float)bm->y_dpi);
	TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
	TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
	for (y = 0; y < bm->height; y++)
		TIFFWriteScanline(tif, bm->bits + (size_t)y * (size_t)bm->stride, (uint32_t)y, 0);
	TIFFWriteDirectory(tif);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc((size_t)n + 1);
	*len = fread(d, 1, (size_t)n, f);
	fclose(f);
	return d;
}

static struct faxtiff_bitmap bms[4];
static char multi_path[] = "/tmp/test_faxtiff_XXXXXX";

/* Four pages: T.4 1D (standard), T.4 2D bit-reversed in strips of 16 rows,
 * T.6, uncompressed. */
static void make_multi(void)
{
	int fd = mkstemp(multi_path);
	TIFF *tif;

	close(fd);
	test_bitmap(&bms[0], W, H / 2, 1, 98);
	test_bitmap(&bms[1], W, H, 2, 196);
	test_bitmap(&bms[2], W, H, 4, 196);
	test_bitmap(&bms[3], 640, 50, 5, 196);
	tif = TIFFOpen(multi_path, "w");
	write_page(tif, &bms[0], COMPRESSION_CCITTFAX3, 0, FILLORDER_MSB2LSB, H);
	write_page(tif, &bms[1], COMPRESSION_CCITTFAX3, GROUP3OPT_2DENCODING | GROUP3OPT_FILLBITS,
		   FILLORDER_LSB2MSB, 16);
	write_page(tif, &bms[2], COMPRESSION_CCITTFAX4, 0, FILLORDER_MSB2LSB, H);
	write_page(tif, &bms[3], COMPRESSION_NONE, 0, FILLORDER_MSB2LSB, 50);
	TIFFClose(tif);
}

/* The raw bytes of strip s of the first page of a TIFF file. */
static uint8_t *raw_strip(const char *path, int dir, uint32_t s, tmsize_t *len)
{
	TIFF *tif = TIFFOpen(path, "r");
	uint64_t cc;
	uint8_t *b;

	TIFFSetDirectory(tif, (tdir_t)dir);
	cc = TIFFGetStrileByteCount(tif, s);
	b = malloc((size_t)cc);
	*len = TIFFReadRawStrip(tif, s, b, (tmsize_t)cc);
	TIFFClose(tif);
	return b;
}

static void test_split_multi(void)
{
	static const char *comp[] = {"t4_1d", "t4_2d", "t6", "none"};
	static const int ydpi[] = {98, 196, 196, 196};
	struct faxtiff_page *pages;
	char err[256] = "x";
	int n, i;

	CHECK_INT(faxtiff_split_file(multi_path, &pages, &n, err, sizeof err), 0);
	CHECK_STR(err, "");
	CHECK_INT(n, 4);
	for (i = 0; i < n && i < 4; i++) {
		struct faxtiff_bitmap got;
		CHECK_STR(pages[i].compression, comp[i]);
		CHECK_INT(pages[i].width, bms[i].width);
		CHECK_INT(pages[i].height, bms[i].height);
		CHECK_INT(pages[i].x_dpi, 204);
		CHECK_INT(pages[i].y_dpi, ydpi[i]);
		CHECK_INT(faxtiff_decode(pages[i].tiff, pages[i].len, &got, err, sizeof err), 0);
		CHECK(same_bits(&bms[i], &got));
		faxtiff_bitmap_free(&got);
	}
	if (n >= 2) {
		/* page 2 kept as received: same strips, same bytes, bit order and options */
		char one[] = "/tmp/test_faxtiff_p2_XXXXXX";
		int fd = mkstemp(one);
		tmsize_t la, lb;
		uint8_t *a, *b;
		TIFF *tif;
		uint16_t fo = 0;
		uint32_t opt = 0;

		CHECK(write(fd, pages[1].tiff, pages[1].len) == (ssize_t)pages[1].len);
		close(fd);
		a = raw_strip(multi_path, 1, 3, &la);
		b = raw_strip(one, 0, 3, &lb);
		CHECK(la > 0 && la == lb && memcmp(a, b, (size_t)la) == 0);
		tif = TIFFOpen(one, "r");
		CHECK_INT(TIFFNumberOfStrips(tif), (H + 15) / 16);
		TIFFGetField(tif, TIFFTAG_FILLORDER, &fo);
		TIFFGetField(tif, TIFFTAG_GROUP3OPTIONS, &opt);
		CHECK_INT(fo, FILLORDER_LSB2MSB);
		CHECK_INT(opt, GROUP3OPT_2DENCODING | GROUP3OPT_FILLBITS);
		TIFFClose(tif);
		unlink(one);
		free(a);
		free(b);
	}
	faxtiff_pages_free(pages, n);
}

static void test_truncated(void)
{
	struct faxtiff_page *pages;
	char err[256] = "";
	size_t len;
	uint8_t *data = slurp(multi_path, &len);
	uint64_t off3;
	TIFF *tif = TIFFOpen(multi_path, "r");
	int n, i;

	/* cut inside the third page's data: its directory (written after its
	 * strips) is gone, the first two pages are whole */
	TIFFSetDirectory(tif, 2);
	off3 = TIFFGetStrileOffset(tif, 0);
	TIFFClose(tif);
	CHECK_INT(faxtiff_split_mem(data, (size_t)off3 + 10, &pages, &n, err, sizeof err), -1);
	CHECK_INT(n, 2);
	CHECK(strncmp(err, "after page 2: ", 14) == 0);
	for (i = 0; i < n; i++) {
		struct faxtiff_bitmap got;
		CHECK_INT(faxtiff_decode(pages[i].tiff, pages[i].len, &got, err, sizeof err), 0);
		CHECK(same_bits(&bms[i], &got));
		faxtiff_bitmap_free(&got);
	}
	faxtiff_pages_free(pages, n);
	free(data);
}

static void test_garbage(void)
{
	static const uint8_t junk[] = "%PDF-1.4 this is not a TIFF at all, but long enough";
	static const uint8_t half[] = {'I', 'I', 42, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0};
	struct faxtiff_page *pages = (void *)1;
	struct faxtiff_bitmap bm;
	char err[256] = "";
	int n = 7;

	CHECK_INT(faxtiff_split_mem(junk, sizeof junk, &pages, &n, err, sizeof err), -1);
	CHECK_INT(n, 0);
	CHECK(pages == NULL);
	CHECK(strncmp(err, "not a TIFF file", 15) == 0);
	err[0] = '\0';
	CHECK_INT(faxtiff_split_mem(half, sizeof half, &pages, &n, err, sizeof err), -1);
	CHECK_INT(n, 0);
	CHECK(strncmp(err, "not a TIFF file: ", 17) == 0);
	err[0] = '\0';
	CHECK_INT(faxtiff_decode(junk, sizeof junk, &bm, err, sizeof err), -1);
	CHECK(bm.bits == NULL);
	CHECK(strncmp(err, "not a TIFF file", 15) == 0);
	err[0] = '\0';
	CHECK_INT(faxtiff_split_file("/nonexistent/x.tif", &pages, &n, err, sizeof err), -1);
	CHECK(strstr(err, "No such file") != NULL);
}

/* A P4 PBM as a bitmap; with every_second, only rows 0, 2, 4, ... */
static int read_pbm(const char *path, struct faxtiff_bitmap *bm, int every_second)
{
	size_t len, off = 0;
	uint8_t *d = slurp(path, &len);
	int w, h, fields = 0, y;
	long vals[2];

	if (d == NULL || len < 3 || d[0] != 'P' || d[1] != '4')
		return free(d), -1;
	off = 2;
	while (fields < 2 && off < len) {
		char *end;
		while (off < len && (d[off] == ' ' || d[off] == '\n' || d[off] == '\r' || d[off] == '\t'))
			off++;
		if (d[off] == '#') {
			while (off < len && d[off] != '\n')
				off++;
			continue;
		}
		vals[fields++] = strtol((char *)d + off, &end, 10);
		off = (size_t)(end - (char *)d);
	}
	off++; /* the one whitespace byte before the raster */
	w = (int)vals[0];
	h = (int)vals[1];
	bm->width = w;
	bm->stride = (w + 7) / 8;
	bm->height = every_second ? (h + 1) / 2 : h;
	if (off + (size_t)bm->stride * (size_t)h > len)
		return free(d), -1;
	bm->bits = malloc((size_t)bm->stride * (size_t)bm->height);
	for (y = 0; y < bm->height; y++)
		memcpy(bm->bits + (size_t)y * (size_t)bm->stride,
		       d + off + (size_t)(every_second ? 2 * y : y) * (size_t)bm->stride, (size_t)bm->stride);
	free(d);
	return 0;
}

static const char *corpus_dir(void)
{
	static const char *cands[] = {MDG_SRCDIR "/../shared/corpus/fax/spandsp-itu",
				      MDG_SRCDIR "/../../shared/corpus/fax/spandsp-itu"};
	const char *env = getenv("MDG_FAX_CORPUS");
	size_t i;

	if (env != NULL)
		return access(env, R_OK) == 0 ? env : NULL;
	for (i = 0; i < sizeof cands / sizeof cands[0]; i++)
		if (access(cands[i], R_OK) == 0)
			return cands[i];
	return NULL;
}

static int decode_file_matches(const char *dir, const char *tif, const char *pbm, int half,
			       int want_ydpi, const char *want_comp)
{
	char path[1024];
	struct faxtiff_page *pages;
	struct faxtiff_bitmap want, got;
	char err[256];
	int n, ok;

	snprintf(path, sizeof path, "%s/tiff/%s", dir, tif);
	if (faxtiff_split_file(path, &pages, &n, err, sizeof err) < 0 || n != 1) {
		printf("  %s: %s\n", tif, err);
		return 0;
	}
	snprintf(path, sizeof path, "%s/pbm/%s", dir, pbm);
	if (read_pbm(path, &want, half) < 0)
		return faxtiff_pages_free(pages, n), 0;
	ok = faxtiff_decode(pages[0].tiff, pages[0].len, &got, err, sizeof err) == 0 &&
	     same_bits(&want, &got) && got.y_dpi == want_ydpi && got.x_dpi == 204 &&
	     strcmp(pages[0].compression, want_comp) == 0;
	if (!ok)
		printf("  %s differs from %s (%s)\n", tif, pbm, err);
	faxtiff_bitmap_free(&want);
	faxtiff_bitmap_free(&got);
	faxtiff_pages_free(pages, n);
	return ok;
}

static void test_corpus(void)
{
	static const char *names[] = {"itu1", "itu2", "itu3", "itu4", "itu5", "itu6", "itu7",
				      "itu8", "test1", "test2", "test3", "test4"};
	const char *dir = corpus_dir();
	int i, matched = 0;

	if (dir == NULL) {
		printf("  skip: no fax corpus (set MDG_FAX_CORPUS)\n");
		return;
	}
	for (i = 0; i < 12; i++) {
		char t[64], p[64];
		snprintf(p, sizeof p, "%s.pbm", names[i]);
		snprintf(t, sizeof t, "%s_fine_g3-1d.tif", names[i]);
		matched += decode_file_matches(dir, t, p, 0, 196, "t4_1d");
		snprintf(t, sizeof t, "%s_fine_g3-2d.tif", names[i]);
		matched += decode_file_matches(dir, t, p, 0, 196, "t4_2d");
		snprintf(t, sizeof t, "%s_fine_g4.tif", names[i]);
		matched += decode_file_matches(dir, t, p, 0, 196, "t6");
		snprintf(t, sizeof t, "%s_standard_g3-1d.tif", names[i]);
		matched += decode_file_matches(dir, t, p, 1, 98, "t4_1d");
	}
	CHECK_INT(matched, 48);
}

/* The 8-page document splits into 8 pages equal to the 8 charts. */
static void test_corpus_multipage(void)
{
	const char *dir = corpus_dir();
	char path[1024], err[256];
	struct faxtiff_page *pages;
	int n, i, matched = 0;

	if (dir == NULL)
		return;
	snprintf(path, sizeof path, "%s/tiff/itu_all8_standard_g3-1d.tif", dir);
	CHECK_INT(faxtiff_split_file(path, &pages, &n, err, sizeof err), 0);
	CHECK_INT(n, 8);
	for (i = 0; i < n; i++) {
		struct faxtiff_bitmap want, got;
		snprintf(path, sizeof path, "%s/pbm/itu%d.pbm", dir, i + 1);
		if (read_pbm(path, &want, 1) < 0)
			continue;
		if (faxtiff_decode(pages[i].tiff, pages[i].len, &got, err, sizeof err) == 0 &&
		    same_bits(&want, &got) && pages[i].y_dpi == 98 && pages[i].height == 1188)
			matched++;
		faxtiff_bitmap_free(&want);
		faxtiff_bitmap_free(&got);
	}
	CHECK_INT(matched, 8);
	faxtiff_pages_free(pages, n);
}

int main(void)
{
	int i;

	make_multi();
	RUN(test_g4_roundtrip);
	RUN(test_split_multi);
	RUN(test_truncated);
	RUN(test_garbage);
	RUN(test_corpus);
	RUN(test_corpus_multipage);
	unlink(multi_path);
	for (i = 0; i < 4; i++)
		faxtiff_bitmap_free(&bms[i]);
	return TEST_END();
}
