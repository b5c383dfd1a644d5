/* faxpage2pbm: one single-page fax TIFF (a fax_page.tiff value) to a raw
 * PBM (P4) on stdout, through lib/faxtiff's decoder, so the tests compare
 * received pages with the corpus' PBM oracles pixel for pixel.  The
 * header's comment line gives the resolution: "# dpi X Y".
 *
 *   faxpage2pbm PAGE.tif > PAGE.pbm */
#include <stdio.h>
#include <stdlib.h>

#include "faxtiff.h"

#define PAGE_MAX (64L * 1024 * 1024)

static unsigned char *page_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = malloc(PAGE_MAX);

	if (f == NULL || data == NULL) {
		if (f != NULL)
			fclose(f);
		free(data);
		return NULL;
	}
	*len = fread(data, 1, PAGE_MAX, f);
	fclose(f);
	return data;
}

int main(int argc, char **argv)
{
	struct faxtiff_bitmap bm;
	unsigned char *data;
	char err[256];
	size_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: faxpage2pbm PAGE.tif > PAGE.pbm\n");
		return 2;
	}
	data = page_read(argv[1], &len);
	if (data == NULL) {
		fprintf(stderr, "faxpage2pbm: cannot read %s\n", argv[1]);
		return 1;
	}
	if (faxtiff_decode(data, len, &bm, err, sizeof(err)) < 0) {
		fprintf(stderr, "faxpage2pbm: %s\n", err);
		free(data);
		return 1;
	}
	printf("P4\n# dpi %d %d\n%d %d\n", bm.x_dpi, bm.y_dpi, bm.width, bm.height);
	for (int y = 0; y < bm.height; y++)
		fwrite(bm.bits + (size_t)y * (size_t)bm.stride, 1, (size_t)(bm.width + 7) / 8, stdout);
	faxtiff_bitmap_free(&bm);
	free(data);
	return 0;
}
