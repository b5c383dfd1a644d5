/* fax_bench: what a received fax call costs ingest-fax in CPU, over G.711
 * audio and over T.38, and how many calls one core keeps in real time.
 *
 *   build: make tests/bench/fax_bench   (an EXTRA program, not in make check)
 *   run:   tests/bench/fax [seconds per step of the concurrency search,
 *                           default 3] [corpus folder]
 *
 * First one call is made between two faxdsp sessions (spandsp both ends)
 * and what the sender put on the line is recorded: mu-law frames of 20 ms,
 * or the UDPTL datagrams of each 20 ms tick.  spandsp is deterministic, so
 * a fresh receiver fed that recording answers exactly as the first one did
 * and completes the call: the recording stands in for the far fax machine,
 * and only receiving is measured, with the G.711 or UDPTL work the daemon
 * does around it (decode what came in, encode what goes out).
 *
 * CPU per audio second: one receiver replays the whole call as fast as it
 * can; process CPU time over the call's line time.
 *
 * Concurrency: N receivers in this one thread, woken every 20 ms by an
 * absolute timer and each fed one frame per tick; each starts at its own
 * point of the call (spread evenly) and starts over when its call ends.  N
 * doubles until real time is lost (see sustains()), then is bisected.  The
 * machine may be shared: cpu% is the share of wall time this process was on
 * a CPU. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "faxdsp.h"
#include "udptl.h"

#define FRAME 160
#define TICK_NS 20000000L
#define MAX_FRAMES (10 * 60 * 50)
#define DGMAX 1400

static char tmpdir[64];

/* ---- recordings ---- */

struct rec {
	int t38;
	int nframes;
	uint8_t *ulaw;          /* audio: nframes * FRAME octets */
	/* T.38: the datagrams of each tick, back to back */
	int *first;             /* nframes + 1 offsets into dg */
	size_t *dglen;
	uint8_t *dg;            /* ndg * DGMAX */
	int ndg, capdg;
};

struct peer {
	struct udptl *enc;
	struct rec *rec;        /* where the sender's datagrams go, or NULL */
	struct faxdsp *to;      /* the receiver, when recording */
	struct udptl *to_dec;
	int pending;
	uint8_t q[64][DGMAX];
	size_t qlen[64];
};

static double now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int rec_push(struct rec *r, const uint8_t *d, size_t len)
{
	if (r->ndg == r->capdg) {
		int cap = r->capdg ? r->capdg * 2 : 4096;
		uint8_t *dg = realloc(r->dg, (size_t)cap * DGMAX);
		size_t *dl = realloc(r->dglen, (size_t)cap * sizeof(size_t));

		if (dg == NULL || dl == NULL)
			return -1;
		r->dg = dg;
		r->dglen = dl;
		r->capdg = cap;
	}
	memcpy(r->dg + (size_t)r->ndg * DGMAX, d, len);
	r->dglen[r->ndg++] = len;
	return 0;
}

/* t38_tx of the recording's two ends: queue the datagram for the tick's end. */
static int peer_tx(void *arg, const uint8_t *ifp, size_t len, int count)
{
	struct peer *p = arg;

	for (int i = 0; i < count && p->pending < 64; i++) {
		int n = udptl_encode(p->enc, ifp, len, p->q[p->pending], DGMAX);

		if (n < 0)
			return -1;
		p->qlen[p->pending++] = (size_t)n;
	}
	return 0;
}

static void peer_deliver(void *arg, const uint8_t *ifp, size_t len, uint16_t seq)
{
	faxdsp_t38_rx(arg, ifp, len, seq);
}

static void peer_flush(struct peer *p)
{
	for (int i = 0; i < p->pending; i++) {
		if (p->rec)
			rec_push(p->rec, p->q[i], p->qlen[i]);
		udptl_decode(p->to_dec, p->q[i], p->qlen[i], peer_deliver, p->to);
	}
	p->pending = 0;
}

static struct faxdsp *rx_new(int t38, faxdsp_t38_tx_fn fn, void *arg, int slot)
{
	struct faxdsp_opts o = {0};
	char path[128];
	const char *err = NULL;

	snprintf(path, sizeof(path), "%s/rx%d.tif", tmpdir, slot);
	o.rx_tiff = path;
	o.ident = "MADOGUCHI";
	o.ecm = 1;
	o.t38 = t38;
	o.t38_tx = fn;
	o.arg = arg;
	return faxdsp_new(&o, &err);
}

static int one_frame_audio(struct faxdsp *a, struct faxdsp *b, uint8_t *rec)
{
	int16_t s[FRAME];
	uint8_t u[FRAME];

	faxdsp_audio_tx(a, s, FRAME);
	faxdsp_g711_encode(0, s, rec, FRAME);
	faxdsp_g711_decode(0, rec, s, FRAME);
	faxdsp_audio_rx(b, s, FRAME);
	faxdsp_audio_tx(b, s, FRAME);
	faxdsp_g711_encode(0, s, u, FRAME);
	faxdsp_g711_decode(0, u, s, FRAME);
	faxdsp_audio_rx(a, s, FRAME);
	return 0;
}

/* Make one call and keep what the sender sent; 0 when it completed. */
static int record(const char *tiff, int t38, struct rec *r)
{
	static struct peer ps, pr;
	struct faxdsp_opts o = {0};
	struct faxdsp *a, *b;
	struct faxdsp_result res;
	const char *err = NULL;
	int t;

	memset(r, 0, sizeof(*r));
	r->t38 = t38;
	r->ulaw = malloc((size_t)MAX_FRAMES * FRAME);
	r->first = calloc(MAX_FRAMES + 1, sizeof(int));
	ps.enc = udptl_new(3, DGMAX);
	pr.enc = udptl_new(3, DGMAX);
	ps.to_dec = udptl_new(3, DGMAX);
	pr.to_dec = udptl_new(3, DGMAX);
	o.calling = 1;
	o.tx_tiff = tiff;
	o.ecm = 1;
	o.t38 = t38;
	o.t38_tx = peer_tx;
	o.arg = &ps;
	a = faxdsp_new(&o, &err);
	b = rx_new(t38, peer_tx, &pr, 0);
	if (a == NULL || b == NULL || r->ulaw == NULL || r->first == NULL)
		return -1;
	ps.rec = r;
	ps.to = b;
	pr.to = a;
	for (t = 0; t < MAX_FRAMES && !(faxdsp_done(a) && faxdsp_done(b)); t++) {
		r->first[t] = r->ndg;
		if (t38) {
			faxdsp_t38_tick(a, FRAME);
			peer_flush(&ps);
			faxdsp_t38_tick(b, FRAME);
			peer_flush(&pr);
		} else {
			one_frame_audio(a, b, r->ulaw + (size_t)t * FRAME);
		}
	}
	r->nframes = t;
	r->first[t] = r->ndg;
	faxdsp_result(b, &res);
	faxdsp_free(a);
	faxdsp_free(b);
	udptl_free(ps.enc);
	udptl_free(pr.enc);
	udptl_free(ps.to_dec);
	udptl_free(pr.to_dec);
	ps.pending = pr.pending = 0;
	return res.code == 0 && res.pages > 0 ? 0 : -1;
}

static void rec_free(struct rec *r)
{
	free(r->ulaw);
	free(r->first);
	free(r->dglen);
	free(r->dg);
}

/* ---- replaying into receivers ---- */

struct slot {
	struct faxdsp *f;
	struct udptl *dec, *enc;
	int pos;                /* next frame of the recording */
	int wait;               /* ticks before it starts */
	int id;
};

static int slot_tx(void *arg, const uint8_t *ifp, size_t len, int count)
{
	struct slot *s = arg;
	uint8_t out[DGMAX];

	for (int i = 0; i < count; i++)
		if (udptl_encode(s->enc, ifp, len, out, sizeof(out)) < 0)
			return -1;
	return 0;
}

static int slot_start(struct slot *s, const struct rec *r)
{
	udptl_free(s->dec);
	udptl_free(s->enc);
	s->dec = udptl_new(3, DGMAX);
	s->enc = udptl_new(3, DGMAX);
	s->f = rx_new(r->t38, slot_tx, s, s->id);
	s->pos = 0;
	return s->f ? 0 : -1;
}

/* One 20 ms frame for one receiver; returns 1 when its call completed. */
static int slot_frame(struct slot *s, const struct rec *r, int *failed)
{
	struct faxdsp_result res;

	if (s->wait > 0) {
		s->wait--;
		return 0;
	}
	if (s->f == NULL && slot_start(s, r) < 0) {
		(*failed)++;
		return 0;
	}
	if (r->t38) {
		for (int i = r->first[s->pos]; i < r->first[s->pos + 1]; i++)
			udptl_decode(s->dec, r->dg + (size_t)i * DGMAX, r->dglen[i], peer_deliver, s->f);
		faxdsp_t38_tick(s->f, FRAME);
	} else {
		int16_t amp[FRAME];
		uint8_t out[FRAME];

		faxdsp_g711_decode(0, r->ulaw + (size_t)s->pos * FRAME, amp, FRAME);
		faxdsp_audio_rx(s->f, amp, FRAME);
		faxdsp_audio_tx(s->f, amp, FRAME);
		faxdsp_g711_encode(0, amp, out, FRAME);
	}
	if (++s->pos < r->nframes && !faxdsp_done(s->f))
		return 0;
	faxdsp_result(s->f, &res);
	faxdsp_free(s->f);
	s->f = NULL;
	if (res.code != 0)
		(*failed)++;
	return res.code == 0;
}

static void cpu_per_second(const struct rec *r, const char *what)
{
	struct slot s = {0};
	int failed = 0, done = 0;
	double c0 = now(CLOCK_PROCESS_CPUTIME_ID), c1;
	int frames = 0;

	for (int round = 0; round < 3; round++)
		for (int t = 0; t < r->nframes; t++, frames++)
			done += slot_frame(&s, r, &failed);
	c1 = now(CLOCK_PROCESS_CPUTIME_ID);
	udptl_free(s.dec);
	udptl_free(s.enc);
	printf("%-6s received call: %.1f s of line, %d of 3 replays complete; %.6f CPU s per audio s (%.0fx real time)\n",
	       what, r->nframes / 50.0, done, (c1 - c0) / (frames / 50.0), (frames / 50.0) / (c1 - c0));
}

/* The receivers of the concurrency search.  Each new one is first run,
 * as fast as it goes, to its own point of the call (spread evenly), so
 * that a step measures the mix of a whole call, not N call starts. */
struct pool {
	struct slot **s;        /* each its own allocation: the faxdsp holds its address */
	int n;
	int failed;
};

static int pool_resize(struct pool *p, const struct rec *r, int n)
{
	struct slot **s;

	for (int i = n; i < p->n; i++) {
		faxdsp_free(p->s[i]->f);
		udptl_free(p->s[i]->dec);
		udptl_free(p->s[i]->enc);
		free(p->s[i]);
	}
	if (n <= p->n) {
		p->n = n;
		return 0;
	}
	s = realloc(p->s, (size_t)n * sizeof(*s));
	if (s == NULL)
		return -1;
	p->s = s;
	for (; p->n < n; p->n++) {
		int i = p->n;
		int at = (int)((double)r->nframes * ((i * 0.6180339887) - (int)(i * 0.6180339887)));

		s[i] = calloc(1, sizeof(**s));
		if (s[i] == NULL)
			return -1;
		s[i]->id = i;
		while (at-- > 0)
			slot_frame(s[i], r, &p->failed);
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* N receivers fed one frame each per 20 ms tick for secs seconds.  Real
 * time is lost when the 99th percentile tick, or the last one, ends more
 * than 20 ms past its deadline: a single late tick is the shared machine
 * taking the CPU away, a growing lateness is this process not keeping up. */
static int sustains(struct pool *p, const struct rec *r, int n, double secs)
{
	int ticks = (int)(secs * 50), failed0;
	double *late = malloc((size_t)ticks * sizeof(double)), w0, c0, cpu, used, p99, last = 0;
	struct timespec next;
	int ok;

	if (late == NULL || pool_resize(p, r, n) < 0)
		return 0;
	failed0 = p->failed;
	clock_gettime(CLOCK_MONOTONIC, &next);
	w0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_PROCESS_CPUTIME_ID);
	for (int t = 0; t < ticks; t++) {
		for (int i = 0; i < n; i++)
			slot_frame(p->s[i], r, &p->failed);
		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		last = late[t] = now(CLOCK_MONOTONIC) - ((double)next.tv_sec + next.tv_nsec / 1e9);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	used = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
	cpu = used / (now(CLOCK_MONOTONIC) - w0);
	qsort(late, (size_t)ticks, sizeof(double), cmp_double);
	p99 = late[ticks * 99 / 100];
	free(late);
	ok = p99 <= 0.020 && last <= 0.020 && p->failed == failed0;
	/* CPU time per tick does not depend on who else runs: it says how many
	 * calls a core would carry if this process had it alone. */
	printf("  %5d calls: p99 tick %+7.1f ms, last %+7.1f ms past deadline, %d failed, cpu %3.0f%%, "
	       "%.2f ms CPU per tick (a core alone: ~%.0f calls) -> %s\n",
	       n, p99 * 1000, last * 1000, p->failed - failed0, cpu * 100, used / ticks * 1000,
	       n * 0.020 / (used / ticks), ok ? "real time" : "lost");
	return ok;
}

static void concurrency(const struct rec *r, const char *what, double secs, int from)
{
	struct pool p = {0};
	int lo = 0, hi = 0;

	printf("%s: concurrent received calls in real time on one core\n", what);
	for (int n = from; n <= 16384; n *= 2) {
		if (!sustains(&p, r, n, secs)) {
			hi = n;
			break;
		}
		lo = n;
	}
	while (hi && hi - lo > (lo / 10 > 8 ? lo / 10 : 8)) {
		int mid = (lo + hi) / 2;

		if (sustains(&p, r, mid, secs))
			lo = mid;
		else
			hi = mid;
	}
	if (hi)
		printf("%s: %d calls sustained, %d not\n", what, lo, hi);
	else
		printf("%s: at least %d calls\n", what, lo);
	pool_resize(&p, r, 0);
	free(p.s);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? strtod(argv[1], NULL) : 3.0;
	const char *corpus = argc > 2 ? argv[2] : MDG_SRCDIR "/../shared/corpus/fax/spandsp-itu";
	char tiff[600];
	struct rec audio, t38;
	struct rusage ru;
	struct stat st;

	if (secs < 1 || secs > 20) {
		fprintf(stderr, "usage: fax_bench [seconds per step, 1-20] [corpus folder]\n");
		return 2;
	}
	snprintf(tiff, sizeof(tiff), "%s/tiff/itu1_fine_g3-2d.tif", corpus);
	if (stat(tiff, &st) != 0) {
		printf("skipped: no %s\n", tiff);
		return 0;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fax_bench.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	if (record(tiff, 0, &audio) < 0 || record(tiff, 1, &t38) < 0) {
		fprintf(stderr, "fax_bench: the recorded call did not complete\n");
		return 1;
	}
	printf("call: itu1 fine, 1 page, ECM, received into TIFF (T.6); audio G.711 mu-law at 9600, T.38 UDPTL redundancy 3 at 14400\n");
	cpu_per_second(&audio, "audio");
	cpu_per_second(&t38, "T.38");
	concurrency(&audio, "audio", secs, 256);
	concurrency(&t38, "T.38", secs, 512);
	getrusage(RUSAGE_SELF, &ru);
	rec_free(&audio);
	rec_free(&t38);
	printf("peak RSS %ld MiB\n", ru.ru_maxrss / 1024);
	for (int i = 0; i < 8192; i++) {
		char p[128];

		snprintf(p, sizeof(p), "%s/rx%d.tif", tmpdir, i);
		unlink(p);
	}
	rmdir(tmpdir);
	return 0;
}
