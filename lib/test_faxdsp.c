/* faxdsp: real spandsp on both ends, in one process.  A calling sender and
 * an answering receiver pass audio samples (or T.38 IFPs through UDPTL) to
 * each other; the pages the receiver writes are decoded with libtiff here
 * (not through lib/faxtiff.c) and compared pixel for pixel with the PBM
 * oracles of the shared corpus (SOURCE.txt there: a *_standard_* page is
 * rows 0, 2, 4, ... of its PBM).  Without the corpus the test exits 77. */
#include "faxdsp.h"
#include "testlib.h"
#include "udptl.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

#define FRAME 160                       /* 20 ms at 8 kHz */
#define MAX_FRAMES (15 * 60 * 50)       /* 15 minutes of line time */

static char corpus[512];
static char tmpdir[64];

#define QMAX 256                /* datagrams in flight one way, per 20 ms */
#define DGMAX 1400

struct side {
	struct faxdsp *f;
	int last_page;          /* from the page callback */
	int page_rx;
	/* T.38 only: this end's UDPTL both ways and the datagrams it sent
	 * that the other end has not read yet */
	struct udptl *enc, *dec;
	int sent, dropped, overflow;
	int rx_any, gaps;       /* sequence numbers missing in what UDPTL delivered */
	uint16_t rx_last;
	int qn;
	size_t qlen[QMAX];
	uint8_t (*q)[DGMAX];
};

static void test_page_cb(void *arg, int page_no, int rx)
{
	struct side *s = arg;

	s->last_page = page_no;
	s->page_rx = rx;
}

/* ---- oracle: a PBM (P4) and the received TIFF ---- */

struct bitmap {
	int w, h;
	size_t stride;
	uint8_t *bits;          /* 1 = black, MSB first */
};

static int pbm_num(FILE *fp, long *out)
{
	int c;
	char tok[16];
	size_t n = 0;

	do
		c = fgetc(fp);
	while (c == ' ' || c == '\n' || c == '\r' || c == '\t');
	while (c >= '0' && c <= '9' && n < sizeof(tok) - 1) {
		tok[n++] = (char)c;
		c = fgetc(fp);
	}
	tok[n] = '\0';
	if (n == 0)
		return -1;
	*out = strtol(tok, NULL, 10);
	return *out > 0 && *out < 100000 ? 0 : -1;
}

static int pbm_load(const char *name, struct bitmap *b)
{
	char path[700];
	FILE *fp;
	long w, h;
	int ok;

	snprintf(path, sizeof(path), "%s/pbm/%s.pbm", corpus, name);
	fp = fopen(path, "rb");
	if (fp == NULL)
		return -1;
	ok = fgetc(fp) == 'P' && fgetc(fp) == '4' && pbm_num(fp, &w) == 0 && pbm_num(fp, &h) == 0;
	if (ok) {
		b->w = (int)w;
		b->h = (int)h;
		b->stride = ((size_t)w + 7) / 8;
		b->bits = malloc(b->stride * (size_t)h);
		ok = b->bits && fread(b->bits, b->stride, (size_t)h, fp) == (size_t)h;
	}
	fclose(fp);
	return ok ? 0 : -1;
}

/* Compare the current directory of tif with the PBM (every step-th row). */
static int page_equal(TIFF *tif, const struct bitmap *b, int step)
{
	uint32_t w = 0, h = 0;
	uint8_t *row;
	int bad = 0;
	uint8_t mask = b->w % 8 ? (uint8_t)(0xFF << (8 - b->w % 8)) : 0xFF;

	TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
	TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
	if ((int)w != b->w || (int)h != (b->h + step - 1) / step) {
		printf("  page is %ux%u, oracle %dx%d\n", w, h, b->w, (b->h + step - 1) / step);
		return 0;
	}
	row = malloc((size_t)TIFFScanlineSize(tif) + b->stride);
	for (uint32_t y = 0; row && y < h && !bad; y++) {
		const uint8_t *want = b->bits + (size_t)y * (size_t)step * b->stride;

		if (TIFFReadScanline(tif, row, y, 0) < 0)
			bad = 1;
		else if (memcmp(row, want, b->stride - 1) != 0
			 || ((row[b->stride - 1] ^ want[b->stride - 1]) & mask) != 0) {
			printf("  row %u differs\n", y);
			bad = 1;
		}
	}
	free(row);
	return row && !bad;
}

/* How many pages rx_tiff holds, and how many of the first n equal the
 * oracles names[i] (standard: rows 0,2,4,...). */
static int pages_match(const char *rx_tiff, const char *const *names, int n, int standard, int *npages)
{
	TIFF *tif = TIFFOpen(rx_tiff, "r");
	int same = 0, i = 0;

	*npages = 0;
	if (tif == NULL)
		return 0;
	do {
		struct bitmap b = {0};

		if (i < n && pbm_load(names[i], &b) == 0 && page_equal(tif, &b, standard ? 2 : 1))
			same++;
		free(b.bits);
		i++;
	} while (TIFFReadDirectory(tif));
	*npages = i;
	TIFFClose(tif);
	return same;
}

/* ---- calls ---- */

struct call {
	const char *tx_name;    /* TIFF under corpus/tiff */
	int ecm;
	int compressions;       /* what the receiver offers */
	int t38;
	int max_bit_rate;       /* both ends */
	struct faxdsp_line *ab, *ba;
	int cut_after_page;     /* stop passing samples after the receiver's page n */
	struct side tx, rx;
	struct faxdsp_result tres, rres;
	char rx_path[128];
	int frames;
};

static int call_open(struct call *c, faxdsp_t38_tx_fn fn_tx, faxdsp_t38_tx_fn fn_rx, void *arg_tx, void *arg_rx)
{
	char tx_path[700];
	const char *err = NULL;
	struct faxdsp_opts o = {0};
	static int n;

	snprintf(tx_path, sizeof(tx_path), "%s/tiff/%s.tif", corpus, c->tx_name);
	snprintf(c->rx_path, sizeof(c->rx_path), "%s/rx%d.tif", tmpdir, n++);
	o.calling = 1;
	o.tx_tiff = tx_path;
	o.ident = "+81 3 1111 2222";
	o.subaddress = "1234";
	o.ecm = c->ecm;
	o.t38 = c->t38;
	o.t38_tx = fn_tx;
	o.max_bit_rate = c->max_bit_rate;
	o.page = test_page_cb;
	o.arg = arg_tx ? arg_tx : &c->tx;
	c->tx.f = faxdsp_new(&o, &err);
	memset(&o, 0, sizeof(o));
	o.rx_tiff = c->rx_path;
	o.ident = "MADOGUCHI";
	o.ecm = c->ecm;
	o.compressions = c->compressions;
	o.t38 = c->t38;
	o.t38_tx = fn_rx;
	o.max_bit_rate = c->max_bit_rate;
	o.page = test_page_cb;
	o.arg = arg_rx ? arg_rx : &c->rx;
	c->rx.f = faxdsp_new(&o, &err);
	if (c->tx.f == NULL || c->rx.f == NULL)
		printf("  faxdsp_new: %s\n", err ? err : "?");
	return c->tx.f && c->rx.f ? 0 : -1;
}

static void call_close(struct call *c)
{
	faxdsp_hangup(c->tx.f);
	faxdsp_hangup(c->rx.f);
	faxdsp_result(c->tx.f, &c->tres);
	faxdsp_result(c->rx.f, &c->rres);
	faxdsp_free(c->tx.f);
	faxdsp_free(c->rx.f);
	c->tx.f = c->rx.f = NULL;
}

static void audio_pass(struct faxdsp *from, struct faxdsp *to, struct faxdsp_line *line)
{
	int16_t buf[FRAME];

	faxdsp_audio_tx(from, buf, FRAME);
	if (line)
		faxdsp_line_apply(line, buf, FRAME);
	faxdsp_audio_rx(to, buf, FRAME);
}

/* Run an audio call until both ends reach phase E; 0 when they did. */
static int call_audio(struct call *c)
{
	if (call_open(c, NULL, NULL, NULL, NULL) < 0)
		return -1;
	for (c->frames = 0; c->frames < MAX_FRAMES; c->frames++) {
		if (faxdsp_done(c->tx.f) && faxdsp_done(c->rx.f))
			break;
		if (c->cut_after_page && c->rx.last_page >= c->cut_after_page)
			break;
		audio_pass(c->tx.f, c->rx.f, c->ab);
		audio_pass(c->rx.f, c->tx.f, c->ba);
	}
	call_close(c);
	return c->frames < MAX_FRAMES ? 0 : -1;
}

/* t38_tx of both ends: frame each IFP (count times, as gateways repeat
 * indicators) and queue the datagram, dropping every tenth. */
static int t38_send(void *arg, const uint8_t *ifp, size_t len, int count)
{
	struct side *s = arg;

	for (int i = 0; i < count; i++) {
		int n;

		if (s->qn == QMAX) {
			s->overflow++;
			return -1;
		}
		n = udptl_encode(s->enc, ifp, len, s->q[s->qn], DGMAX);
		if (n < 0)
			return -1;
		if (++s->sent % 10 == 0) {
			s->dropped++;
			continue;
		}
		s->qlen[s->qn++] = (size_t)n;
	}
	return 0;
}

static void t38_deliver(void *arg, const uint8_t *ifp, size_t len, uint16_t seq)
{
	struct side *s = arg;

	if (s->rx_any && seq != (uint16_t)(s->rx_last + 1))
		s->gaps++;
	s->rx_any = 1;
	s->rx_last = seq;
	faxdsp_t38_rx(s->f, ifp, len, seq);
}

/* What `from` sent during the last tick reaches `to`. */
static void t38_flush(struct side *from, struct side *to)
{
	for (int i = 0; i < from->qn; i++)
		if (udptl_decode(to->dec, from->q[i], from->qlen[i], t38_deliver, to) < 0)
			from->overflow++;
	from->qn = 0;
}

static int t38_side_init(struct side *s)
{
	s->enc = udptl_new(3, DGMAX);
	s->dec = udptl_new(3, DGMAX);
	s->q = calloc(QMAX, sizeof(*s->q));
	return s->enc && s->dec && s->q ? 0 : -1;
}

static void t38_side_free(struct side *s)
{
	udptl_free(s->enc);
	udptl_free(s->dec);
	free(s->q);
}

/* A T.38 call: IFPs through UDPTL with redundancy 3, one datagram in ten
 * lost each way, 20 ms ticks. */
static int call_t38(struct call *c)
{
	int rc = -1;

	c->t38 = 1;
	if (t38_side_init(&c->tx) < 0 || t38_side_init(&c->rx) < 0
	    || call_open(c, t38_send, t38_send, &c->tx, &c->rx) < 0)
		goto out;
	for (c->frames = 0; c->frames < MAX_FRAMES; c->frames++) {
		if (faxdsp_done(c->tx.f) && faxdsp_done(c->rx.f))
			break;
		faxdsp_t38_tick(c->tx.f, FRAME);
		t38_flush(&c->tx, &c->rx);
		faxdsp_t38_tick(c->rx.f, FRAME);
		t38_flush(&c->rx, &c->tx);
	}
	rc = c->frames < MAX_FRAMES ? 0 : -1;
out:
	if (c->tx.f || c->rx.f)
		call_close(c);
	t38_side_free(&c->tx);
	t38_side_free(&c->rx);
	return rc;
}

static void check_pages(struct call *c, const char *const *names, int n, int standard)
{
	int npages = 0;
	int same = pages_match(c->rx_path, names, n, standard, &npages);

	CHECK_INT(c->rres.code, 0);
	CHECK_INT(c->tres.code, 0);
	CHECK_INT(c->rres.pages, n);
	CHECK_INT(c->tres.pages, n);
	CHECK_INT(npages, n);
	CHECK_INT(same, n);
	CHECK_INT(c->rres.trained, 1);
	CHECK_INT(c->tres.trained, 1);
	CHECK_INT(c->rres.ecm, c->ecm);
	CHECK_STR(c->rres.remote_ident, "+81 3 1111 2222");
	CHECK_STR(c->tres.remote_ident, "MADOGUCHI");
	CHECK_STR(c->rres.subaddress, "1234");
	CHECK_INT(c->rres.x_dpi, 204);
	CHECK_INT(c->rres.y_dpi, standard ? 98 : 196);
	CHECK_INT(c->rx.last_page, n);
	CHECK_INT(c->rx.page_rx, 1);
	CHECK_INT(c->tx.page_rx, 0);
	unlink(c->rx_path);
}

/* One single-page chart over audio; want_comp is the line compression. */
static void audio_one(const char *tx_name, const char *pbm, int ecm, int comp, int want_comp, int standard)
{
	struct call c = {.tx_name = tx_name, .ecm = ecm, .compressions = comp};
	const char *names[1] = {pbm};

	CHECK(call_audio(&c) == 0);
	check_pages(&c, names, 1, standard);
	CHECK_INT(c.rres.compression, want_comp);
	CHECK_INT(c.rres.bit_rate, 9600);
	printf("  %s ecm=%d: %d kbit/s, %.1f s of line\n", tx_name, ecm, c.rres.bit_rate / 1000,
	       c.frames / 50.0);
}

static void test_audio_fine_t4_1d(void)
{
	audio_one("itu1_fine_g3-1d", "itu1", 0, FAXDSP_T4_1D, FAXDSP_T4_1D, 0);
}

static void test_audio_fine_t4_2d(void)
{
	audio_one("itu2_fine_g3-2d", "itu2", 0, FAXDSP_T4_2D | FAXDSP_T4_1D, FAXDSP_T4_2D, 0);
}

static void test_audio_fine_t6_ecm(void)
{
	audio_one("itu3_fine_g4", "itu3", 1, 0, FAXDSP_T6, 0);
}

static void test_audio_standard_ecm(void)
{
	audio_one("itu4_standard_g3-1d", "itu4", 1, 0, FAXDSP_T6, 1);
}

static void test_audio_standard_2d(void)
{
	audio_one("itu5_standard_g3-1d", "itu5", 0, 0, FAXDSP_T4_2D, 1);
}

/* V.17 over a clean line, when both ends ask for it. */
static void test_audio_v17(void)
{
	struct call c = {.tx_name = "itu6_fine_g3-2d", .ecm = 1, .max_bit_rate = 14400};
	const char *names[1] = {"itu6"};

	CHECK(call_audio(&c) == 0);
	check_pages(&c, names, 1, 0);
	CHECK_INT(c.rres.bit_rate, 14400);
}

static void t38_one(const char *tx_name, const char *pbm, int ecm, int comp, int want_comp, int standard)
{
	struct call c = {.tx_name = tx_name, .ecm = ecm, .compressions = comp};
	const char *names[1] = {pbm};

	CHECK(call_t38(&c) == 0);
	check_pages(&c, names, 1, standard);
	CHECK_INT(c.rres.compression, want_comp);
	CHECK_INT(c.rres.bit_rate, 14400);
	CHECK_INT(c.tx.overflow + c.rx.overflow, 0);
	CHECK_INT(c.tx.gaps + c.rx.gaps, 0);
	CHECK_INT(c.tx.dropped, c.tx.sent / 10);
	CHECK_INT(c.rx.dropped, c.rx.sent / 10);
	CHECK(c.rx.dropped > 0);
	printf("  %s ecm=%d over T.38: %.1f s, datagrams sent %d/%d, dropped %d/%d\n", tx_name, ecm,
	       c.frames / 50.0, c.tx.sent, c.rx.sent, c.tx.dropped, c.rx.dropped);
}

static void test_t38_fine_t6_ecm(void)
{
	t38_one("itu7_fine_g4", "itu7", 1, 0, FAXDSP_T6, 0);
}

static void test_t38_standard_t4_1d(void)
{
	t38_one("itu8_standard_g3-1d", "itu8", 0, FAXDSP_T4_1D, FAXDSP_T4_1D, 1);
}

static void test_t38_fine_t4_2d_ecm(void)
{
	t38_one("itu1_fine_g3-2d", "itu1", 1, FAXDSP_T4_1D | FAXDSP_T4_2D, FAXDSP_T4_2D, 0);
}

static void test_audio_all8_ecm(void)
{
	static const char *const names[8] = {"itu1", "itu2", "itu3", "itu4", "itu5", "itu6", "itu7", "itu8"};
	struct call c = {.tx_name = "itu_all8_standard_g3-1d", .ecm = 1};

	CHECK(call_audio(&c) == 0);
	check_pages(&c, names, 8, 1);
	printf("  8 standard pages with ECM: %.1f s of line\n", c.frames / 50.0);
}

/* A page spandsp 0.0.6 cannot send (1240 pixels wide, test1 of the
 * corpus): the call ends in phase B, and the receiver reports that no fax
 * machine trained with it, so ingest makes no empty ticket. */
static void test_audio_never_trains(void)
{
	struct call c = {.tx_name = "test1_fine_g3-1d", .ecm = 1};

	CHECK(call_audio(&c) == 0);
	CHECK_STR(c.tres.text, "Far end cannot receive at the size of image");
	CHECK(c.rres.code != 0);
	CHECK_INT(c.rres.trained, 0);
	CHECK_INT(c.rres.pages, 0);
	CHECK_STR(c.rres.remote_ident, "");     /* it never sent TSI */
	CHECK_STR(c.tres.remote_ident, "MADOGUCHI");
	unlink(c.rx_path);
}

/* The line hangs up after the receiver confirmed page 2 of 8. */
static void test_audio_cut_after_page_2(void)
{
	struct call c = {.tx_name = "itu_all8_standard_g3-1d", .ecm = 1, .cut_after_page = 2};
	static const char *const names[2] = {"itu1", "itu2"};
	int npages = 0;

	CHECK(call_audio(&c) == 0);
	CHECK_INT(c.rres.pages, 2);
	CHECK_INT(pages_match(c.rx_path, names, 2, 1, &npages), 2);
	CHECK_INT(npages, 2);
	CHECK(c.rres.code != 0);
	printf("  receiver: %s\n", c.rres.text);
	unlink(c.rx_path);
}

/* 20 calls with ECM through the line model each way: noise at -55 dBm0
 * after a mu-law round trip, 60 ms delay. */
static void test_audio_line_model(void)
{
	static const char *const names[1] = {"itu1"};
	int complete = 0;

	for (int i = 0; i < 20; i++) {
		struct call c = {.tx_name = "itu1_standard_g3-1d", .ecm = 1};
		int npages = 0;

		c.ab = faxdsp_line_new(-55.0, 60, 1000 + (uint32_t)i);
		c.ba = faxdsp_line_new(-55.0, 60, 2000 + (uint32_t)i);
		if (c.ab && c.ba && call_audio(&c) == 0 && c.rres.code == 0 && c.tres.code == 0
		    && pages_match(c.rx_path, names, 1, 1, &npages) == 1 && npages == 1)
			complete++;
		else
			printf("  call %d: sender %s, receiver %s, %d pages\n", i, c.tres.text, c.rres.text, c.rres.pages);
		faxdsp_line_free(c.ab);
		faxdsp_line_free(c.ba);
		unlink(c.rx_path);
	}
	printf("  %d of 20 calls complete\n", complete);
	CHECK(complete >= 19);
}

static void test_line_model(void)
{
	struct faxdsp_line *l = faxdsp_line_new(-200.0, 10, 1);
	int16_t buf[200];
	int ok = 1;

	CHECK(l != NULL);
	if (l == NULL)
		return;
	for (int i = 0; i < 200; i++)
		buf[i] = (int16_t)(i * 100);
	faxdsp_line_apply(l, buf, 200);
	/* 10 ms = 80 samples of delay, then the mu-law-rounded input. */
	for (int i = 0; i < 80; i++)
		ok &= buf[i] == 0;
	CHECK(ok);
	for (int i = 80; i < 200; i++) {
		uint8_t u;
		int16_t in = (int16_t)((i - 80) * 100), back;

		faxdsp_g711_encode(0, &in, &u, 1);
		faxdsp_g711_decode(0, &u, &back, 1);
		ok &= abs(buf[i] - back) <= 1;
	}
	CHECK(ok);
	faxdsp_line_free(l);
}

static void test_g711(void)
{
	int16_t in[4] = {0, 1000, -1000, 32767}, out[4];
	uint8_t u[4], a[4];

	faxdsp_g711_encode(0, in, u, 4);
	faxdsp_g711_encode(1, in, a, 4);
	CHECK_INT(u[0], 0xFF);
	CHECK_INT(a[0], 0xD5);
	CHECK_INT(u[3], 0x80);
	faxdsp_g711_decode(0, u, out, 4);
	CHECK(abs(out[1] - 1000) < 40 && abs(out[2] + 1000) < 40);
	faxdsp_g711_decode(1, a, out, 4);
	CHECK(abs(out[1] - 1000) < 40 && abs(out[2] + 1000) < 40);
}

static void test_bad_opts(void)
{
	struct faxdsp_opts o = {0};
	const char *err = NULL;

	o.t38 = 1;
	CHECK(faxdsp_new(&o, &err) == NULL);
	CHECK_STR(err, "faxdsp: T.38 needs t38_tx");
	memset(&o, 0, sizeof(o));
	o.ident = "123456789012345678901";
	CHECK(faxdsp_new(&o, &err) == NULL);
	CHECK_STR(err, "faxdsp: ident longer than 20 characters");
	o.ident = NULL;
	o.tx_tiff = "/nonexistent/x.tif";
	CHECK(faxdsp_new(&o, &err) == NULL);
	CHECK_STR(err, "faxdsp: tx_tiff cannot be read");
}

static int find_corpus(void)
{
	static const char *const tries[] = {
		MDG_SRCDIR "/../shared/corpus/fax/spandsp-itu",
		MDG_SRCDIR "/../../shared/corpus/fax/spandsp-itu", /* worktrees under /work/wt */
	};
	const char *env = getenv("MDG_FAX_CORPUS");
	struct stat st;

	if (env && stat(env, &st) == 0) {
		snprintf(corpus, sizeof(corpus), "%s", env);
		return 0;
	}
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (stat(tries[i], &st) == 0) {
			snprintf(corpus, sizeof(corpus), "%s", tries[i]);
			return 0;
		}
	return -1;
}

int main(void)
{
	int rc;

	RUN(test_g711);
	RUN(test_line_model);
	RUN(test_bad_opts);
	if (find_corpus() < 0) {
		printf("skip fax corpus: no spandsp-itu folder (set MDG_FAX_CORPUS)\n");
		return testlib_fail ? 1 : 77;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_faxdsp.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	TIFFSetWarningHandler(NULL);
	RUN(test_audio_fine_t4_1d);
	RUN(test_audio_fine_t4_2d);
	RUN(test_audio_fine_t6_ecm);
	RUN(test_audio_standard_ecm);
	RUN(test_audio_standard_2d);
	RUN(test_audio_v17);
	RUN(test_audio_all8_ecm);
	RUN(test_audio_cut_after_page_2);
	RUN(test_audio_never_trains);
	RUN(test_audio_line_model);
	RUN(test_t38_fine_t6_ecm);
	RUN(test_t38_standard_t4_1d);
	RUN(test_t38_fine_t4_2d_ecm);
	rc = TEST_END();
	rmdir(tmpdir);
	return rc;
}
