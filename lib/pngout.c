/* pngout: libpng behind one function (pngout.h).  libpng reports errors
 * by longjmp; everything the error path frees is set up before setjmp. */
#include "pngout.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PNGOUT_MAX_SIDE 40000
#define PNGOUT_MAX_BYTES (64u << 20)

struct pngout_buf {
	uint8_t *data;
	size_t len, cap;
	int overflow;
	char msg[160];
};

static void pngout_write(png_structp png, png_bytep data, png_size_t n)
{
	struct pngout_buf *b = png_get_io_ptr(png);

	if (b->len + n > PNGOUT_MAX_BYTES) {
		b->overflow = 1;
		png_error(png, "image too large");
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		uint8_t *nd;
		while (cap < b->len + n)
			cap *= 2;
		if ((nd = realloc(b->data, cap)) == NULL)
			png_error(png, "out of memory");
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
}

static void pngout_flush(png_structp png)
{
	(void)png;
}

static void pngout_error(png_structp png, png_const_charp msg)
{
	struct pngout_buf *b = png_get_error_ptr(png);
	snprintf(b->msg, sizeof(b->msg), "%s", msg);
	png_longjmp(png, 1);
}

static void pngout_warning(png_structp png, png_const_charp msg)
{
	(void)png, (void)msg;
}

/* write the rows, inverted (PNG gray 0 is black, our 1 is black) */
static void pngout_rows(png_structp png, const uint8_t *bits, int height, int stride, int yscale,
			uint8_t *row, size_t rowbytes)
{
	for (int y = 0; y < height; y++) {
		const uint8_t *src = bits + (size_t)y * (size_t)stride;
		for (size_t i = 0; i < rowbytes; i++)
			row[i] = (uint8_t)~src[i];
		for (int k = 0; k < yscale; k++)
			png_write_row(png, row);
	}
}

int pngout_bilevel(const uint8_t *bits, int width, int height, int stride, int yscale,
		   uint8_t **out, size_t *len, char *err, size_t errlen)
{
	struct pngout_buf b;
	png_structp png;
	png_infop info;
	size_t rowbytes = ((size_t)width + 7) / 8;
	uint8_t *row;

	*out = NULL;
	*len = 0;
	if (width <= 0 || height <= 0 || yscale < 1 || yscale > 4 || width > PNGOUT_MAX_SIDE ||
	    (long)height * yscale > PNGOUT_MAX_SIDE || (size_t)stride < rowbytes) {
		snprintf(err, errlen, "bitmap %dx%d out of bounds", width, height);
		return -1;
	}
	memset(&b, 0, sizeof(b));
	row = malloc(rowbytes);
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &b, pngout_error, pngout_warning);
	info = png ? png_create_info_struct(png) : NULL;
	if (row == NULL || info == NULL) {
		png_destroy_write_struct(png ? &png : NULL, NULL);
		free(row);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(row);
		free(b.data);
		snprintf(err, errlen, "PNG encoding failed: %s", b.msg[0] ? b.msg : "unknown");
		return -1;
	}
	png_set_write_fn(png, &b, pngout_write, pngout_flush);
	/* measured on the densest ITU chart (itu4, 1728x2376): level 3 takes 13 ms of
	 * CPU with the decode, level 6 22 ms for 8 % fewer bytes; ticketd is one thread */
	png_set_compression_level(png, 3);
	png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)(height * yscale), 1,
		     PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	pngout_rows(png, bits, height, stride, yscale, row, rowbytes);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(row);
	*out = b.data;
	*len = b.len;
	return 0;
}
