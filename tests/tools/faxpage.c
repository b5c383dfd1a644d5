/* faxpage: an A4 fax page of Japanese text for the OCR tests and benchmark
 * (issue 8), set by lib/faxrender (pango, a Debian font) and, with
 * --loopback, sent through the fax line's loopback: lib/faxdsp on both ends
 * of an audio call in this process (ECM, the line model without noise), so
 * the page OCR reads is the page a fax machine would have delivered.
 *
 *   faxpage --out PAGE.tif [--res fine|standard|standard-rows] [--font IPAGothic] [--pt 10.5]
 *           [--text FILE | --sample] [--truth TRUTH.txt] [--loopback]
 *
 * --sample sets a letter written here (a citizen's inquiry with phone and
 * fax numbers, a postal code and a mail address); --truth writes the text
 * set on the page, footer included, for the character error rate.
 * Standard resolution is set at 204x98 dpi by lib/faxrender, which keeps
 * thin strokes as a scanner's sensor integrating over its 0.26 mm line
 * does; standard-rows is the harsher scanner that keeps every second row
 * of the fine page (a thin stroke on a dropped row is gone).  Exit 0, or 1
 * with the reason on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "faxdsp.h"
#include "faxrender.h"
#include "faxtiff.h"

#define FAXPAGE_FRAME 160
#define FAXPAGE_MAX_FRAMES (8000 * 600 / FAXPAGE_FRAME) /* ten minutes of line time */

static const char faxpage_sample[] =
	"窓口センター　御中\n"
	"\n"
	"粗大ごみの収集についての問い合わせ\n"
	"\n"
	"いつもお世話になっております。十一月十四日に申し込んだ粗大ごみの収集について、"
	"予定の日に収集車が来なかったため、次の収集日を教えてください。"
	"また、本棚と食器棚は解体してから出す必要があるかどうか、あわせてご回答をお願いいたします。\n"
	"平日の午前中であれば在宅しております。お手数ですが、下記の電話番号か"
	"ファクス番号までご連絡ください。\n"
	"\n"
	"住所　〒160-0023 東京都新宿区西新宿二丁目八番一号\n"
	"電話　03-5321-1111\n"
	"FAX　03-5388-1234\n"
	"携帯　090-2468-1357\n"
	"メール　taro.yamada@example.jp\n"
	"\n"
	"よろしくお願い申し上げます。\n";

struct faxpage_opts {
	const char *out, *res, *font, *text_path, *truth;
	double pt;
	int sample, loopback;
};

static void faxpage_usage(void)
{
	fprintf(stderr, "usage: faxpage --out PAGE.tif [--res fine|standard|standard-rows] "
			"[--font FAMILY] "
			"[--pt 10.5] [--text FILE | --sample] [--truth FILE] [--loopback]\n");
	exit(2);
}

static void faxpage_args(int argc, char **argv, struct faxpage_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->res = "fine", o->font = "IPAGothic", o->pt = 10.5;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--sample") == 0)
			o->sample = 1;
		else if (strcmp(a, "--loopback") == 0)
			o->loopback = 1;
		else if (v == NULL)
			faxpage_usage();
		else if (strcmp(a, "--out") == 0)
			o->out = v, i++;
		else if (strcmp(a, "--res") == 0)
			o->res = v, i++;
		else if (strcmp(a, "--font") == 0)
			o->font = v, i++;
		else if (strcmp(a, "--pt") == 0)
			o->pt = strtod(v, NULL), i++;
		else if (strcmp(a, "--text") == 0)
			o->text_path = v, i++;
		else if (strcmp(a, "--truth") == 0)
			o->truth = v, i++;
		else
			faxpage_usage();
	}
	if (o->out == NULL ||
	    (strcmp(o->res, "fine") != 0 && strcmp(o->res, "standard") != 0 &&
	     strcmp(o->res, "standard-rows") != 0) ||
	    (o->text_path == NULL) == (o->sample == 0))
		faxpage_usage();
}

static int faxpage_read(const char *path, struct buf *b)
{
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) < 0)
			break;
	fclose(f);
	return buf_append(b, "", 1) < 0 ? -1 : 0;
}

static int faxpage_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f != NULL && fwrite(data, 1, len, f) == len;

	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

/* every second row: a standard-resolution scan that drops rows */
static void faxpage_standard(struct faxtiff_bitmap *bm)
{
	int rows = bm->height / 2;

	for (int y = 0; y < rows; y++)
		memmove(bm->bits + (size_t)y * (size_t)bm->stride,
			bm->bits + (size_t)(2 * y) * (size_t)bm->stride, (size_t)bm->stride);
	bm->height = rows;
	bm->y_dpi = FAXRENDER_YDPI / 2;
}

/* send path through an audio call with ECM to rx; 0 when both ends ended */
static int faxpage_loopback(const char *path, const char *rx)
{
	struct faxdsp_opts o;
	struct faxdsp *a, *b;
	struct faxdsp_result r;
	const char *err = NULL;
	int16_t frame[FAXPAGE_FRAME];
	int frames = 0;

	memset(&o, 0, sizeof(o));
	o.calling = 1, o.tx_tiff = path, o.ident = "03 5388 1234", o.ecm = 1;
	a = faxdsp_new(&o, &err);
	memset(&o, 0, sizeof(o));
	o.rx_tiff = rx, o.ident = "MADOGUCHI", o.ecm = 1;
	b = faxdsp_new(&o, &err);
	if (a == NULL || b == NULL) {
		fprintf(stderr, "faxpage: faxdsp: %s\n", err ? err : "?");
		return -1;
	}
	for (; frames < FAXPAGE_MAX_FRAMES && !(faxdsp_done(a) && faxdsp_done(b)); frames++) {
		faxdsp_audio_tx(a, frame, FAXPAGE_FRAME);
		faxdsp_audio_rx(b, frame, FAXPAGE_FRAME);
		faxdsp_audio_tx(b, frame, FAXPAGE_FRAME);
		faxdsp_audio_rx(a, frame, FAXPAGE_FRAME);
	}
	faxdsp_hangup(a);
	faxdsp_hangup(b);
	faxdsp_result(b, &r);
	faxdsp_free(a);
	faxdsp_free(b);
	if (r.pages != 1) {
		fprintf(stderr, "faxpage: the loopback call delivered %d pages (%s)\n", r.pages,
			r.text ? r.text : "?");
		return -1;
	}
	return 0;
}

/* the page's text as set: the body, then the footer "1/1" */
static int faxpage_truth(const char *path, const char *body)
{
	struct buf b;
	int rc;

	buf_init(&b, 1u << 20);
	buf_printf(&b, "%s\n1/1\n", body);
	rc = faxpage_write(path, b.data, b.len);
	buf_free(&b);
	return rc;
}

int main(int argc, char **argv)
{
	struct faxpage_opts o;
	struct faxrender_opts ro = { 0 };
	struct faxtiff_bitmap *pages = NULL;
	struct faxtiff_page tif = { 0 };
	struct buf text;
	char err[256], tmp[64];
	int n = 0, rc = 1;

	faxpage_args(argc, argv, &o);
	buf_init(&text, FAXRENDER_MAX_TEXT);
	if (o.sample ? buf_append(&text, faxpage_sample, sizeof(faxpage_sample)) < 0
		     : faxpage_read(o.text_path, &text) < 0) {
		fprintf(stderr, "faxpage: cannot read the text\n");
		return 1;
	}
	ro.font = o.font, ro.font_pt = o.pt, ro.margin_mm = 20, ro.max_pages = 1;
	ro.standard = strcmp(o.res, "standard") == 0;
	if (faxrender_pages(&ro, "", text.data, &pages, &n, err, sizeof(err)) < 0 || n != 1) {
		fprintf(stderr, "faxpage: %s\n", n != 1 && pages ? "the text takes more than a page" : err);
		return 1;
	}
	if (strcmp(o.res, "standard-rows") == 0)
		faxpage_standard(&pages[0]);
	if (faxtiff_encode_g4(&pages[0], &tif, err, sizeof(err)) < 0) {
		fprintf(stderr, "faxpage: %s\n", err);
	} else if (!o.loopback) {
		rc = faxpage_write(o.out, tif.tiff, tif.len) < 0 ? 1 : 0;
	} else {
		snprintf(tmp, sizeof(tmp), "/tmp/faxpage-%ld.tif", (long)getpid());
		rc = faxpage_write(tmp, tif.tiff, tif.len) < 0 || faxpage_loopback(tmp, o.out) < 0;
		unlink(tmp);
	}
	if (rc == 0 && o.truth != NULL && faxpage_truth(o.truth, text.data) < 0)
		rc = 1;
	if (rc != 0)
		fprintf(stderr, "faxpage: %s was not written\n", o.out);
	free(tif.tiff);
	faxrender_free(pages, n);
	buf_free(&text);
	return rc;
}
