/* madoguchi-ocr-page: read fax pages (TIFF files) the way ingest-ocr does
 * and print what it found, one JSON object per file; for tests, the
 * benchmark and an operator checking a scan by hand.  Exit 0 when every
 * file was read, 1 when one could not be, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "numbers.h"
#include "tess.h"

static int ocrpage_slurp(struct buf *b, FILE *f)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) < 0)
			return -1;
	return ferror(f) ? -1 : 0;
}

static int ocrpage_file(struct tess *t, const char *path)
{
	struct buf b;
	struct tess_result r;
	struct timespec t0, t1;
	char err[256];
	json_t *o, *cands;
	FILE *f = fopen(path, "rb");
	int rc;

	if (f == NULL) {
		fprintf(stderr, "%s: cannot open\n", path);
		return -1;
	}
	buf_init(&b, 64u << 20);
	rc = ocrpage_slurp(&b, f);
	fclose(f);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot read (or larger than 64 MiB)\n", path);
		buf_free(&b);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = tess_read(t, (const uint8_t *)b.data, b.len, &r, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	buf_free(&b);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		return -1;
	}
	cands = json_array();
	for (int i = 0; i < r.found.n; i++) {
		const struct numbers_cand *c = &r.found.c[i];

		json_array_append_new(cands, json_pack("{s:s, s:s, s:s, s:[i, i, i, i]}", "kind",
						       numbers_kind_name(c->kind), "value", c->value,
						       "first_pass", c->first, "box", c->x, c->y,
						       c->w, c->h));
	}
	o = json_pack("{s:s, s:b, s:i, s:i, s:b, s:i, s:i, s:i, s:s, s:o}", "file", path, "blank",
		      r.blank, "confidence", r.confidence, "rotation", r.rotation, "vertical",
		      r.vertical, "width", r.width, "height", r.height, "ms",
		      (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000),
		      "text", r.text, "candidates", cands);
	json_dumpf(o, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(o);
	tess_result_free(&r);
	return 0;
}

int main(int argc, char **argv)
{
	char err[256];
	struct tess *t;
	int bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: madoguchi-ocr-page FILE.tif...\n");
		return 2;
	}
	if ((t = tess_new(getenv("MADOGUCHI_TESSDATA"), err, sizeof(err))) == NULL) {
		fprintf(stderr, "madoguchi-ocr-page: %s\n", err);
		return 1;
	}
	for (int i = 1; i < argc; i++)
		bad |= ocrpage_file(t, argv[i]) < 0;
	tess_free(t);
	return bad ? 1 : 0;
}
