/* udptl: exact octets of encoded packets (worked out by hand from the
 * T.38 annex A ASN.1, aligned PER), round trips, recovery of lost packets
 * from redundancy, duplicates, and malformed datagrams.  Every datagram
 * given to udptl_decode() sits in a buffer of exactly its length, so the
 * ASan build (../configure --enable-asan) catches any read past its end. */
#include "testlib.h"
#include "udptl.h"

#include <stdint.h>
#include <stdlib.h>

/* What the decoder delivered. */
struct got {
	int n;
	uint16_t seq[256];
	size_t len[256];
	uint8_t first[256];         /* first octet of each IFP (0 when empty) */
};

static void got_fn(void *arg, const uint8_t *ifp, size_t len, uint16_t seq)
{
	struct got *g = arg;

	if (g->n < 256) {
		g->seq[g->n] = seq;
		g->len[g->n] = len;
		g->first[g->n] = len ? ifp[0] : 0;
	}
	g->n++;
}

/* Decode from a heap copy of exactly len octets. */
static int decode_exact(struct udptl *u, const uint8_t *pkt, size_t len, struct got *g)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, pkt, len);
	rc = udptl_decode(u, copy, len, got_fn, g);
	free(copy);
	return rc;
}

static void test_encode_exact(void)
{
	struct udptl *u = udptl_new(3, 1400);
	static const uint8_t ifp1[3] = {0xC0, 0x01, 0x80}, ifp2[1] = {0x02};
	uint8_t ifp3[200], out[512];
	/* seq 0; primary: length 3 then the IFP; error-recovery 0x00
	 * (secondary-ifp-packets); 0 secondaries. */
	static const uint8_t want1[] = {0x00, 0x00, 0x03, 0xC0, 0x01, 0x80, 0x00, 0x00};
	/* seq 1; primary length 1; one secondary: the IFP of seq 0. */
	static const uint8_t want2[] = {0x00, 0x01, 0x01, 0x02, 0x00, 0x01, 0x03, 0xC0, 0x01, 0x80};
	int n;

	memset(ifp3, 0x5A, sizeof(ifp3));
	n = udptl_encode(u, ifp1, sizeof(ifp1), out, sizeof(out));
	CHECK_INT(n, sizeof(want1));
	CHECK(memcmp(out, want1, sizeof(want1)) == 0);
	n = udptl_encode(u, ifp2, sizeof(ifp2), out, sizeof(out));
	CHECK_INT(n, sizeof(want2));
	CHECK(memcmp(out, want2, sizeof(want2)) == 0);
	/* seq 2; 200 = 0x00C8 > 127: two-octet length 0x80 0xC8; then two
	 * secondaries, newest (seq 1) first. */
	n = udptl_encode(u, ifp3, sizeof(ifp3), out, sizeof(out));
	CHECK_INT(n, 2 + 2 + 200 + 1 + 1 + 2 + 4);
	CHECK(out[0] == 0x00 && out[1] == 0x02 && out[2] == 0x80 && out[3] == 0xC8);
	CHECK(out[4] == 0x5A && out[203] == 0x5A);
	{
		static const uint8_t tail[] = {0x00, 0x02, 0x01, 0x02, 0x03, 0xC0, 0x01, 0x80};

		CHECK(memcmp(out + 204, tail, sizeof(tail)) == 0);
	}
	/* seq 3: three secondaries (redundancy 3): 200-octet, 0x02, ifp1. */
	n = udptl_encode(u, ifp2, sizeof(ifp2), out, sizeof(out));
	CHECK_INT(n, 2 + 2 + 1 + 1 + 2 + 200 + 2 + 4);
	CHECK(out[4] == 0x00 && out[5] == 0x03 && out[6] == 0x80 && out[7] == 0xC8);
	/* seq 4: still three, the oldest (ifp1) fell out. */
	n = udptl_encode(u, ifp1, sizeof(ifp1), out, sizeof(out));
	CHECK_INT(n, 2 + 4 + 1 + 1 + 2 + 2 + 202);
	CHECK(out[0] == 0x00 && out[1] == 0x04 && out[7] == 0x03 && out[8] == 0x01 && out[9] == 0x02);
	udptl_free(u);
}

/* A datagram with fec-info: parsed, FEC ignored, primary delivered. */
static void test_decode_fec(void)
{
	struct udptl *u = udptl_new(0, 1400);
	struct got g = {0};
	/* seq 5, primary 0xAA, fec-info: fec-npackets = 3 (length 1, 0x03),
	 * one fec-data octet string of 2 octets. */
	static const uint8_t pkt[] = {0x00, 0x05, 0x01, 0xAA, 0x80, 0x01, 0x03, 0x01, 0x02, 0x11, 0x22};

	CHECK_INT(decode_exact(u, pkt, sizeof(pkt), &g), 0);
	CHECK_INT(g.n, 1);
	CHECK_INT(g.seq[0], 5);
	CHECK_INT(g.first[0], 0xAA);
	udptl_free(u);
}

static int encode_seq(struct udptl *u, int i, uint8_t *out, size_t outmax)
{
	uint8_t ifp[300];
	size_t len = (size_t)(i * 37) % 300;

	memset(ifp, i & 0xFF, sizeof(ifp));
	return udptl_encode(u, ifp, len, out, outmax);
}

static void test_round_trip(void)
{
	struct udptl *tx = udptl_new(3, 1400), *rx = udptl_new(3, 1400);
	struct got g = {0};
	uint8_t out[1400];
	int ok = 1;

	for (int i = 0; i < 200; i++) {
		int n = encode_seq(tx, i, out, sizeof(out));

		ok &= n > 0 && decode_exact(rx, out, (size_t)n, &g) == 0;
	}
	CHECK(ok);
	CHECK_INT(g.n, 200);
	for (int i = 0; i < 200 && i < g.n; i++) {
		ok &= g.seq[i] == i && g.len[i] == (size_t)(i * 37) % 300;
		ok &= g.len[i] == 0 || g.first[i] == (i & 0xFF);
	}
	CHECK(ok);
	udptl_free(tx);
	udptl_free(rx);
}

/* Lose `lost` consecutive datagrams (seq 10 ..) with redundancy r: what
 * arrives, in order. */
static struct got lose(int r, int lost)
{
	struct udptl *tx = udptl_new(r, 1400), *rx = udptl_new(r, 1400);
	struct got g = {0};
	uint8_t out[1400];

	for (int i = 0; i < 30; i++) {
		int n = encode_seq(tx, i, out, sizeof(out));

		if (i >= 10 && i < 10 + lost)
			continue;
		decode_exact(rx, out, (size_t)n, &g);
	}
	udptl_free(tx);
	udptl_free(rx);
	return g;
}

static void test_loss_recovered(void)
{
	for (int r = 1; r <= 7; r++)
		for (int lost = 1; lost <= r; lost++) {
			struct got g = lose(r, lost);
			int ok = g.n == 30;

			for (int i = 0; ok && i < 30; i++)
				ok = g.seq[i] == i && g.len[i] == (size_t)(i * 37) % 300;
			if (!ok)
				printf("  redundancy %d, %d lost: %d delivered\n", r, lost, g.n);
			CHECK(ok);
		}
}

static void test_loss_beyond_redundancy(void)
{
	/* 4 lost with redundancy 3: seq 10 is gone for good, 11.. arrive. */
	struct got g = lose(3, 4);

	CHECK_INT(g.n, 29);
	CHECK_INT(g.seq[9], 9);
	CHECK_INT(g.seq[10], 11);
	CHECK_INT(g.seq[28], 29);
	/* without redundancy nothing comes back */
	g = lose(0, 2);
	CHECK_INT(g.n, 28);
	CHECK_INT(g.seq[10], 12);
}

static void test_duplicates_dropped(void)
{
	struct udptl *tx = udptl_new(2, 1400), *rx = udptl_new(2, 1400);
	struct got g = {0};
	uint8_t p[5][1400];
	int n[5];

	for (int i = 0; i < 5; i++)
		n[i] = encode_seq(tx, i, p[i], sizeof(p[i]));
	decode_exact(rx, p[0], (size_t)n[0], &g);
	decode_exact(rx, p[0], (size_t)n[0], &g);    /* duplicate */
	decode_exact(rx, p[2], (size_t)n[2], &g);    /* 1 recovered from it */
	CHECK_INT(decode_exact(rx, p[1], (size_t)n[1], &g), 0); /* late: dropped */
	decode_exact(rx, p[2], (size_t)n[2], &g);
	decode_exact(rx, p[4], (size_t)n[4], &g);    /* 3 recovered */
	decode_exact(rx, p[3], (size_t)n[3], &g);
	CHECK_INT(g.n, 5);
	for (int i = 0; i < 5 && i < g.n; i++)
		CHECK_INT(g.seq[i], i);
	udptl_free(tx);
	udptl_free(rx);
}

/* The first datagram seen recovers what it carries; a far jump resyncs. */
static void test_start_and_restart(void)
{
	struct udptl *rx = udptl_new(3, 1400);
	struct got g = {0};
	/* seq 2 with secondaries for 1 and 0 (0 and 1 were lost). */
	static const uint8_t first[] = {0x00, 0x02, 0x01, 0x22, 0x00, 0x02, 0x01, 0x11, 0x01, 0x00};
	/* seq 40000 (0x9C40): the peer restarted its numbering. */
	static const uint8_t jump[] = {0x9C, 0x40, 0x01, 0x33, 0x00, 0x00};
	/* seq 39999 after it: behind, dropped. */
	static const uint8_t behind[] = {0x9C, 0x3F, 0x01, 0x44, 0x00, 0x00};

	CHECK_INT(decode_exact(rx, first, sizeof(first), &g), 0);
	CHECK_INT(g.n, 3);
	CHECK(g.seq[0] == 0 && g.first[0] == 0x00 && g.seq[1] == 1 && g.first[1] == 0x11);
	CHECK(g.seq[2] == 2 && g.first[2] == 0x22);
	CHECK_INT(decode_exact(rx, jump, sizeof(jump), &g), 0);
	CHECK_INT(decode_exact(rx, behind, sizeof(behind), &g), 0);
	CHECK_INT(g.n, 4);
	CHECK_INT(g.seq[3], 40000);
	udptl_free(rx);
}

/* Sequence numbers wrap at 65536 without a hiccup. */
static void test_wrap(void)
{
	struct udptl *tx = udptl_new(1, 64), *rx = udptl_new(1, 64);
	uint8_t out[64], ifp[4] = {1, 2, 3, 4};
	struct got g = {0};
	int delivered = 0, ok = 1;

	for (int i = 0; i < 65536 + 300; i++) {
		int n = udptl_encode(tx, ifp, sizeof(ifp), out, sizeof(out));

		g.n = 0;
		if (i % 7 == 3)
			continue; /* single losses, recovered */
		ok &= udptl_decode(rx, out, (size_t)n, got_fn, &g) == 0;
		delivered += g.n;
		ok &= g.n >= 1 && g.seq[g.n - 1] == (uint16_t)i;
	}
	CHECK(ok);
	CHECK_INT(delivered, 65536 + 300);
	udptl_free(tx);
	udptl_free(rx);
}

static void test_truncated_rejected(void)
{
	struct udptl *tx = udptl_new(3, 1400);
	uint8_t out[1400];
	int n = 0, ok = 1;

	for (int i = 0; i < 4; i++)
		n = encode_seq(tx, i + 5, out, sizeof(out));
	for (int cut = 0; cut < n; cut++) {
		struct udptl *rx = udptl_new(3, 1400);
		struct got g = {0};

		ok &= decode_exact(rx, out, (size_t)cut, &g) == -1 && g.n == 0;
		udptl_free(rx);
	}
	CHECK(ok);
	udptl_free(tx);
}

static void test_malformed_rejected(void)
{
	struct udptl *rx = udptl_new(3, 64);
	struct got g = {0};
	/* fragmented length determinant (11xxxxxx) */
	static const uint8_t frag[] = {0x00, 0x00, 0xC1, 0x00, 0x00, 0x00};
	/* a trailing octet after the secondaries */
	static const uint8_t trail[] = {0x00, 0x00, 0x01, 0x07, 0x00, 0x00, 0x99};
	/* error-recovery octet with low bits set */
	static const uint8_t choice[] = {0x00, 0x00, 0x01, 0x07, 0x01, 0x00};
	/* secondary count 2 but one present */
	static const uint8_t count[] = {0x00, 0x01, 0x01, 0x07, 0x00, 0x02, 0x01, 0x05};
	/* primary length 0x3FFF, far past the end */
	static const uint8_t big[] = {0x00, 0x00, 0xBF, 0xFF, 0x00, 0x00};
	/* fec-npackets of length 0 */
	static const uint8_t fec[] = {0x00, 0x00, 0x01, 0x07, 0x80, 0x00, 0x00};
	uint8_t huge[65];

	CHECK_INT(decode_exact(rx, frag, sizeof(frag), &g), -1);
	CHECK_INT(decode_exact(rx, trail, sizeof(trail), &g), -1);
	CHECK_INT(decode_exact(rx, choice, sizeof(choice), &g), -1);
	CHECK_INT(decode_exact(rx, count, sizeof(count), &g), -1);
	CHECK_INT(decode_exact(rx, big, sizeof(big), &g), -1);
	CHECK_INT(decode_exact(rx, fec, sizeof(fec), &g), -1);
	memset(huge, 0, sizeof(huge));
	CHECK_INT(decode_exact(rx, huge, sizeof(huge), &g), -1); /* over max_datagram */
	CHECK_INT(g.n, 0);
	udptl_free(rx);
}

static uint32_t rnd(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 16;
}

/* Random datagrams, and valid ones with a few octets changed and their
 * length cut or stretched: never a crash or an over-read (ASan), and each
 * IFP delivered lies inside its datagram. */
static void test_garbage(void)
{
	struct udptl *tx = udptl_new(3, 256), *rx = udptl_new(7, 256);
	uint32_t x = 12345;
	int accepted = 0, inside = 1;

	for (int i = 0; i < 40000; i++) {
		uint8_t pkt[300] = {0};
		size_t len;
		struct got g = {0};

		if (i % 2) {
			len = rnd(&x) % 64;
			for (size_t j = 0; j < len; j++)
				pkt[j] = (uint8_t)rnd(&x);
		} else {
			int n = encode_seq(tx, (int)(rnd(&x) % 8), pkt, 256);

			len = n > 0 ? (size_t)n : 0;
			for (int k = (int)(rnd(&x) % 3); len && k >= 0; k--)
				pkt[rnd(&x) % len] = (uint8_t)rnd(&x);
			if (len && rnd(&x) % 2)
				len = len - rnd(&x) % 3 + 1;
		}
		if (decode_exact(rx, pkt, len, &g) == 0)
			accepted++;
		for (int k = 0; k < g.n && k < 256; k++)
			inside &= g.len[k] <= len;
	}
	printf("  %d of 40000 random or damaged datagrams parsed\n", accepted);
	CHECK(accepted > 1000);
	CHECK(inside);
	udptl_free(tx);
	udptl_free(rx);
}

static void test_limits(void)
{
	struct udptl *u = udptl_new(3, 100);
	uint8_t ifp[200] = {0}, out[200];
	int n;

	CHECK(udptl_new(8, 1400) == NULL);
	CHECK(udptl_new(-1, 1400) == NULL);
	CHECK(udptl_new(3, 4) == NULL);
	CHECK_INT(udptl_encode(u, ifp, 97, out, sizeof(out)), -1);  /* 2+1+97+2 > 100 */
	CHECK_INT(udptl_encode(u, ifp, 95, out, sizeof(out)), 100); /* 2+1+95+1+1 */
	CHECK_INT(udptl_encode(u, ifp, 10, out, 12), -1);         /* outmax */
	/* the 95-octet IFP no longer fits as redundancy: sent without it */
	n = udptl_encode(u, ifp, 10, out, sizeof(out));
	CHECK_INT(n, 2 + 1 + 10 + 1 + 1);
	CHECK_INT(out[14], 0);
	udptl_free(u);
}

int main(void)
{
	RUN(test_encode_exact);
	RUN(test_decode_fec);
	RUN(test_round_trip);
	RUN(test_loss_recovered);
	RUN(test_loss_beyond_redundancy);
	RUN(test_duplicates_dropped);
	RUN(test_start_and_restart);
	RUN(test_wrap);
	RUN(test_truncated_rejected);
	RUN(test_malformed_rejected);
	RUN(test_garbage);
	RUN(test_limits);
	return TEST_END();
}
