/* libFuzzer target for lib/faxtiff on any bytes: split never crashes or
 * leaks; every page it returns decodes or fails cleanly; a page that
 * decodes survives G4 encoding and decoding bit for bit, with its size and
 * resolution. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "faxtiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_page(const struct faxtiff_page *p)
{
	struct faxtiff_bitmap bm, again;
	struct faxtiff_page g4;
	char err[256];

	if (p->tiff == NULL || p->len == 0 || p->width <= 0 || p->height <= 0)
		abort();
	if (faxtiff_decode(p->tiff, p->len, &bm, err, sizeof(err)) < 0) {
		if (bm.bits != NULL || err[0] == '\0')
			abort();
		return;
	}
	if (bm.width != p->width || bm.height != p->height || bm.stride != (bm.width + 7) / 8)
		abort();
	if (faxtiff_encode_g4(&bm, &g4, err, sizeof(err)) < 0)
		abort();
	if (faxtiff_decode(g4.tiff, g4.len, &again, err, sizeof(err)) < 0 ||
	    again.width != bm.width || again.height != bm.height || again.y_dpi != bm.y_dpi ||
	    memcmp(again.bits, bm.bits, (size_t)bm.stride * (size_t)bm.height) != 0)
		abort();
	faxtiff_bitmap_free(&again);
	faxtiff_bitmap_free(&bm);
	free(g4.tiff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct faxtiff_page *pages;
	char err[256] = "";
	int n, rc = faxtiff_split_mem(data, size, &pages, &n, err, sizeof(err));

	if (n < 0 || (rc < 0 && err[0] == '\0') || (n > 0 && pages == NULL))
		abort();
	for (int i = 0; i < n && i < 4; i++)
		fz_page(&pages[i]);
	faxtiff_pages_free(pages, n);
	return 0;
}
