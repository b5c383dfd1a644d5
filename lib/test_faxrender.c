/* faxrender: page counts, margins, ink, determinism, letterhead variables. */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include "faxrender.h"
#include "buf.h"
#include "testlib.h"

static const struct faxrender_opts opts = {
	.font = "IPAMincho", .font_pt = 10.5, .margin_mm = 20, .max_pages = 20, .extra_pages = 0,
};

static int ink(const struct faxtiff_bitmap *bm, int x, int y)
{
	return (bm->bits[(size_t)y * (size_t)bm->stride + (size_t)(x >> 3)] >> (7 - (x & 7))) & 1;
}

/* count of black pixels in [x0,x1) x [y0,y1) */
static long ink_in(const struct faxtiff_bitmap *bm, int x0, int y0, int x1, int y1)
{
	long n = 0;
	int x, y;

	for (y = y0; y < y1; y++)
		for (x = x0; x < x1; x++)
			n += ink(bm, x, y);
	return n;
}

/* n lines of short text */
static char *lines(int n)
{
	struct buf b;
	int i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%d行目：住民票の写しの交付について\n", i + 1);
	return buf_steal(&b, NULL);
}

static int pages_for(const struct faxrender_opts *o, const char *head, const char *body)
{
	struct faxtiff_bitmap *p;
	int n;
	char err[200];

	if (faxrender_pages(o, head, body, &p, &n, err, sizeof err) < 0) {
		printf("  render: %s\n", err);
		return -1;
	}
	faxrender_free(p, n);
	return n;
}

/* Measured with IPAMincho 10.5 pt, 20 mm margins, line spacing 1.5: a
 * change of font, size or spacing moves these, and should be seen. */
#define FIRST_PAGE_LINES 39   /* under the three-line letterhead */
#define PAGE_LINES 44
#define ALONE_PAGE_LINES 43   /* page 1 without a letterhead: its first line has no leading above to drop */
#define WRAP_PAGES 3          /* 6000 kanji without a space */

static const char *head = "〇〇区役所 区民相談コールセンター\nFAX 03-1234-5678\n受付番号 12345";

/* The page count is exact and steps at a fixed number of lines: the
 * lines that fit page 1 (under the letterhead) and each further page. */
static void test_page_count(void)
{
	char *t;

	CHECK_INT(pages_for(&opts, head, ""), 1);
	CHECK_INT(pages_for(&opts, "", ""), 1);
	t = lines(FIRST_PAGE_LINES);
	CHECK_INT(pages_for(&opts, head, t), 1);
	free(t);
	t = lines(FIRST_PAGE_LINES + 1);
	CHECK_INT(pages_for(&opts, head, t), 2);
	free(t);
	t = lines(FIRST_PAGE_LINES + PAGE_LINES);
	CHECK_INT(pages_for(&opts, head, t), 2);
	free(t);
	t = lines(FIRST_PAGE_LINES + PAGE_LINES + 1);
	CHECK_INT(pages_for(&opts, head, t), 3);
	free(t);
	/* without a letterhead page 1 holds as many as the others */
	t = lines(ALONE_PAGE_LINES);
	CHECK_INT(pages_for(&opts, "", t), 1);
	free(t);
	t = lines(ALONE_PAGE_LINES + 1);
	CHECK_INT(pages_for(&opts, "", t), 2);
	free(t);
}

/* A long paragraph with no spaces wraps; the wrapped line count gives the
 * pages. */
static void test_wrap_pages(void)
{
	struct buf b;
	int i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < 600; i++)
		buf_append_str(&b, "住民票の写しを郵送。");
	CHECK_INT(pages_for(&opts, head, b.data), WRAP_PAGES);
	buf_free(&b);
}

static void test_limits(void)
{
	struct faxrender_opts o = opts;
	struct faxtiff_bitmap *p;
	int n;
	char err[200], *t = lines(FIRST_PAGE_LINES + 1);

	o.max_pages = 1;
	CHECK_INT(faxrender_pages(&o, head, t, &p, &n, err, sizeof err), -1);
	CHECK_STR(err, "the text needs 2 pages, more than the limit of 1");
	free(t);
	o = opts;
	o.font_pt = 9;
	CHECK_INT(faxrender_pages(&o, head, "", &p, &n, err, sizeof err), -1);
	CHECK_STR(err, "font size 9.0 pt is outside 10.5-12");
	CHECK_INT(faxrender_pages(&opts, head, "\xff\xfe", &p, &n, err, sizeof err), -1);
	CHECK_STR(err, "body is not valid UTF-8");
}

/* Nothing is drawn outside the text box; inside it, ink where the
 * letterhead, the body and the page number are, none below the last line. */
static void test_margins_and_ink(void)
{
	struct faxtiff_bitmap *p;
	struct faxrender_box b;
	int n, i;
	char err[200], *t = lines(FIRST_PAGE_LINES + 3);

	faxrender_text_box(&opts, &b);
	CHECK_INT(b.x0, 160);
	CHECK_INT(b.y0, 154);
	CHECK_INT(b.x1, 1728 - 160);
	CHECK_INT(b.y1, 2292 - 154);
	CHECK_INT(faxrender_pages(&opts, head, t, &p, &n, err, sizeof err), 0);
	CHECK_INT(n, 2);
	for (i = 0; i < n; i++) {
		CHECK_INT(p[i].width, 1728);
		CHECK_INT(p[i].height, 2292);
		CHECK_INT(p[i].stride, 216);
		CHECK_INT(p[i].x_dpi, 204);
		CHECK_INT(p[i].y_dpi, 196);
		CHECK_INT(ink_in(&p[i], 0, 0, 1728, b.y0), 0);
		CHECK_INT(ink_in(&p[i], 0, b.y1, 1728, 2292), 0);
		CHECK_INT(ink_in(&p[i], 0, 0, b.x0, 2292), 0);
		CHECK_INT(ink_in(&p[i], b.x1, 0, 1728, 2292), 0);
		/* the first line of text, letterhead or body, in the top 60 px */
		CHECK(ink_in(&p[i], b.x0, b.y0, b.x1, b.y0 + 60) > 500);
		/* the page number in the bottom 60 px, centred */
		CHECK(ink_in(&p[i], 800, b.y1 - 60, 930, b.y1) > 100);
		CHECK_INT(ink_in(&p[i], b.x0, b.y1 - 60, 780, b.y1), 0);
	}
	/* page 2 holds 3 lines: ink at the top, blank from a quarter down to the footer */
	CHECK(ink_in(&p[1], b.x0, b.y0, b.x1, b.y0 + 200) > 2000);
	CHECK_INT(ink_in(&p[1], 0, b.y0 + 400, 1728, b.y1 - 80), 0);
	/* page 1 is full down to the footer band */
	CHECK(ink_in(&p[0], b.x0, b.y1 - 200, b.x1, b.y1 - 80) > 1000);
	faxrender_free(p, n);
	free(t);
}

/* the longest run of ink along a row in [x0, x1) x [y0, y1) */
static int ink_run(const struct faxtiff_bitmap *bm, int x0, int y0, int x1, int y1)
{
	int best = 0;

	for (int y = y0; y < y1; y++)
		for (int x = x0, run = 0; x < x1; x++) {
			run = ink(bm, x, y) ? run + 1 : 0;
			best = run > best ? run : best;
		}
	return best;
}

/* IPAMincho's thin horizontal strokes survive at both resolutions: 十
 * set at 10.5 pt keeps its cross stroke (about 25 px long; at half
 * coverage it was lost, leaving the 3 px stem), and the standard page is
 * half as high */
static void test_thin_strokes(void)
{
	struct faxrender_opts o = opts;
	struct faxtiff_bitmap *p;
	struct faxrender_box b;
	int n;
	char err[200];

	for (int std = 0; std <= 1; std++) {
		o.standard = std;
		faxrender_text_box(&o, &b);
		CHECK_INT(b.y0, std ? 77 : 154);
		CHECK_INT(b.y1, std ? 1146 - 77 : 2292 - 154);
		CHECK_INT(faxrender_pages(&o, "", "十十十十十十十十", &p, &n, err, sizeof err), 0);
		CHECK_INT(n, 1);
		CHECK_INT(p[0].height, std ? 1146 : 2292);
		CHECK_INT(p[0].y_dpi, std ? 98 : 196);
		/* the first character of the first line */
		CHECK(ink_run(&p[0], b.x0, b.y0, b.x0 + 32, b.y0 + (std ? 25 : 50)) >= 20);
		faxrender_free(p, n);
	}
}

static void test_deterministic(void)
{
	struct faxtiff_bitmap *a, *b;
	int na, nb, i;
	char err[200], *t = lines(100);

	CHECK_INT(faxrender_pages(&opts, head, t, &a, &na, err, sizeof err), 0);
	CHECK_INT(faxrender_pages(&opts, head, t, &b, &nb, err, sizeof err), 0);
	CHECK_INT(na, 3);
	CHECK_INT(nb, 3);
	for (i = 0; i < na && i < nb; i++)
		CHECK(memcmp(a[i].bits, b[i].bits, (size_t)a[i].stride * (size_t)a[i].height) == 0);
	/* and a different font gives different pages (the option is used) */
	faxrender_free(b, nb);
	{
		struct faxrender_opts g = opts;

		g.font = "IPAGothic";
		CHECK_INT(faxrender_pages(&g, head, t, &b, &nb, err, sizeof err), 0);
		CHECK_INT(nb, 3);
		CHECK(memcmp(a[0].bits, b[0].bits, (size_t)a[0].stride * (size_t)a[0].height) != 0);
		faxrender_free(b, nb);
	}
	faxrender_free(a, na);
	free(t);
}

/* extra_pages counts in "n/N": the footer of 1/3 differs from 1/1 */
static void test_extra_pages(void)
{
	struct faxrender_opts o = opts;
	struct faxtiff_bitmap *a, *b;
	struct faxrender_box bx;
	int na, nb;
	char err[200];

	faxrender_text_box(&opts, &bx);
	CHECK_INT(faxrender_pages(&o, head, "本文", &a, &na, err, sizeof err), 0);
	o.extra_pages = 2;
	CHECK_INT(faxrender_pages(&o, head, "本文", &b, &nb, err, sizeof err), 0);
	CHECK_INT(na, 1);
	CHECK_INT(nb, 1);
	CHECK(memcmp(a[0].bits, b[0].bits, (size_t)a[0].stride * (size_t)bx.y1 - 80 * 216) == 0);
	CHECK(memcmp(a[0].bits, b[0].bits, (size_t)a[0].stride * (size_t)a[0].height) != 0);
	faxrender_free(a, na);
	faxrender_free(b, nb);
}

static void test_fill(void)
{
	static const struct faxrender_var v[] = {
		{ "centre.name", "中央区コールセンター" }, { "ticket.id", "123" },
	};
	struct buf b;
	char err[200];

	buf_init(&b, 4096);
	CHECK_INT(faxrender_fill("{{centre.name}}\n受付番号 {{ ticket.id }}号", v, 2, &b, err, sizeof err), 0);
	CHECK_STR(b.data, "中央区コールセンター\n受付番号 123号");
	buf_reset(&b);
	CHECK_INT(faxrender_fill("宛先 {{recipient}}", v, 2, &b, err, sizeof err), -1);
	CHECK_STR(err, "unknown variable {{recipient}}");
	CHECK_INT(faxrender_fill("宛先 {{recipient\n}}", v, 2, &b, err, sizeof err), -1);
	buf_free(&b);
}

/* render -> G4 pages -> one multi-page spool file -> split and decode:
 * the same bits come back (lib/faxtiff does the TIFF side). */
static void test_tiff_round_trip(void)
{
	struct faxtiff_bitmap *p, bm;
	struct faxtiff_page *t, *back;
	int n, nback, i;
	char err[200], path[] = "/tmp/test_faxrender_XXXXXX", *txt = lines(FIRST_PAGE_LINES + 1);
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	CHECK_INT(faxrender_pages(&opts, head, txt, &p, &n, err, sizeof err), 0);
	CHECK_INT(n, 2);
	CHECK_INT(faxrender_tiff(p, n, &t, err, sizeof err), 0);
	CHECK_STR(t[0].compression, "t6");
	CHECK_INT(t[1].y_dpi, 196);
	CHECK_INT(faxtiff_join_file(t, n, path, err, sizeof err), 0);
	CHECK_INT(faxtiff_split_file(path, &back, &nback, err, sizeof err), 0);
	CHECK_INT(nback, 2);
	for (i = 0; i < nback && i < n; i++) {
		CHECK_INT(back[i].width, 1728);
		CHECK_INT(back[i].height, 2292);
		CHECK_INT(faxtiff_decode(back[i].tiff, back[i].len, &bm, err, sizeof err), 0);
		CHECK(memcmp(bm.bits, p[i].bits, (size_t)p[i].stride * (size_t)p[i].height) == 0);
		faxtiff_bitmap_free(&bm);
	}
	faxtiff_pages_free(back, nback);
	faxtiff_pages_free(t, n);
	faxrender_free(p, n);
	unlink(path);
	free(txt);
}

/* templates/fax/letterhead.txt takes exactly the variables ticketd fills */
static void test_letterhead_file(void)
{
	static const struct faxrender_var v[] = {
		{ "recipient", "山田 太郎" }, { "date", "2026年11月22日" }, { "ticket.id", "42" },
		{ "centre.name", "中央区 区民相談窓口" }, { "centre.phone", "03-0000-0000" },
		{ "centre.fax", "03-0000-0001" },
	};
	FILE *f = fopen(MDG_SRCDIR "/templates/fax/letterhead.txt", "r");
	char tmpl[4096], err[200];
	size_t n = 0;
	struct buf b;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	n = fread(tmpl, 1, sizeof tmpl - 1, f);
	tmpl[n] = '\0';
	fclose(f);
	buf_init(&b, 8192);
	CHECK_INT(faxrender_fill(tmpl, v, 6, &b, err, sizeof err), 0);
	CHECK_STR(b.data, "山田 太郎 様\n"
			  "　　　　　　　　　　　　　　　　　　　　　　　　　　　　2026年11月22日\n"
			  "ＦＡＸ送信のご案内（受付番号 42）\n"
			  "中央区 区民相談窓口\n"
			  "電話 03-0000-0000　ＦＡＸ 03-0000-0001\n");
	CHECK(strstr(b.data, "{{") == NULL);
	buf_free(&b);
	/* and without one of them it is refused, naming it */
	buf_init(&b, 8192);
	CHECK_INT(faxrender_fill(tmpl, v, 5, &b, err, sizeof err), -1);
	CHECK_STR(err, "unknown variable {{centre.fax}}");
	buf_free(&b);
}

int main(void)
{
	RUN(test_letterhead_file);
	RUN(test_tiff_round_trip);
	RUN(test_margins_and_ink);
	RUN(test_thin_strokes);
	RUN(test_deterministic);
	RUN(test_extra_pages);
	RUN(test_fill);
	RUN(test_page_count);
	RUN(test_wrap_pages);
	RUN(test_limits);
	return TEST_END();
}
