/* pngout: bitmaps encoded and read back with libpng's own reader (the test
 * may include png.h), pixel for pixel, rows repeated; bounds refused. */
#include "pngout.h"
#include "testlib.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

static void test_roundtrip(void)
{
	int w = 13, h = 5, stride = 3, bad = 0;
	uint8_t bits[15];
	uint8_t *png, gray[13 * 10];
	size_t len;
	char err[128] = "";
	png_image img;

	for (int i = 0; i < 15; i++)
		bits[i] = (uint8_t)(i * 37 + 11);
	for (int y = 0; y < h; y++)
		bits[y * stride + 1] &= 0xf8; /* the padding bits past x = 12 */
	CHECK_INT(pngout_bilevel(bits, w, h, stride, 2, &png, &len, err, sizeof(err)), 0);
	CHECK(len > 8 && memcmp(png, "\x89PNG", 4) == 0);
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	CHECK(png_image_begin_read_from_memory(&img, png, len) != 0);
	CHECK_INT(img.width, 13);
	CHECK_INT(img.height, 10);
	img.format = PNG_FORMAT_GRAY;
	CHECK(png_image_finish_read(&img, NULL, gray, 13, NULL) != 0);
	for (int y = 0; y < 10; y++)
		for (int x = 0; x < w; x++) {
			int black = (bits[(y / 2) * stride + x / 8] >> (7 - x % 8)) & 1;
			if (gray[y * 13 + x] != (black ? 0 : 255))
				bad++;
		}
	CHECK_INT(bad, 0);
	free(png);
}

static void test_bounds(void)
{
	uint8_t bits[4] = { 0 };
	uint8_t *png = (void *)1;
	size_t len = 9;
	char err[128] = "";

	CHECK_INT(pngout_bilevel(bits, 0, 1, 1, 1, &png, &len, err, sizeof(err)), -1);
	CHECK(png == NULL && len == 0);
	CHECK_STR(err, "bitmap 0x1 out of bounds");
	CHECK_INT(pngout_bilevel(bits, 16, 1, 1, 1, &png, &len, err, sizeof(err)), -1); /* stride */
	CHECK_INT(pngout_bilevel(bits, 8, 1, 1, 5, &png, &len, err, sizeof(err)), -1);  /* yscale */
}

int main(void)
{
	RUN(test_roundtrip);
	RUN(test_bounds);
	return TEST_END();
}
