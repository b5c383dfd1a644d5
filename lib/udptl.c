/* udptl: UDPTL framing of T.38 IFP packets; see udptl.h.
 *
 * Wire format (T.38 annex A, ASN.1 aligned PER, as gateways send it):
 *
 *   seq-number          2 octets, big-endian (INTEGER 0..65535)
 *   primary-ifp-packet  open type: length determinant, then the IFP octets
 *   error-recovery      1 octet: 0x00 secondary-ifp-packets, 0x80 fec-info
 *     secondary:        length determinant = how many, then each as an open
 *                       type, the newest first (seq-1, seq-2, ...)
 *     fec-info:         fec-npackets (length + octets of an INTEGER), then
 *                       a count and that many octet strings
 *
 * A length determinant is one octet 0..127, or two octets 10xxxxxx xxxxxxxx
 * for 128..16383.  The fragmented form (11xxxxxx, 16K blocks) never occurs
 * in a UDP datagram and is rejected.  FEC packets are parsed, bounds checked
 * and their FEC part ignored: recovery here relies on redundancy, which is
 * what SDP negotiates by default (T38FaxUdpEC:t38UDPRedundancy).
 *
 * Receiving: rx_next is the sequence number expected next.  A packet ahead
 * of it (within UDPTL_WINDOW) first delivers, in order, the missing packets
 * it carries as secondaries, then its primary; one at or behind it (within
 * the window) is a duplicate or came too late, and is dropped (delivering
 * it would break the order t38_core relies on).  A jump beyond the window
 * either way is taken as the peer restarting its numbering.  A datagram is parsed whole
 * before anything is delivered, so a malformed one delivers nothing. */
#include "udptl.h"

#include <stdlib.h>
#include <string.h>

#define UDPTL_MAX_REDUNDANCY 7
#define UDPTL_MAX_LEN 16383             /* two-octet length determinant */
#define UDPTL_KEEP 16                   /* secondaries kept from a datagram; older ones skipped */
#define UDPTL_WINDOW 0x4000             /* sequence distance still taken as the same stream */

struct udptl {
	int redundancy;
	size_t max_datagram;
	uint16_t tx_seq;
	uint8_t *hist;                   /* redundancy slots of max_datagram octets */
	size_t hist_len[UDPTL_MAX_REDUNDANCY];
	int hist_n;                      /* slots in use */
	int hist_pos;                    /* slot of the newest IFP */
	uint16_t rx_next;
	int rx_started;
};

/* One datagram, parsed. */
struct udptl_pkt {
	uint16_t seq;
	const uint8_t *ifp;
	size_t len;
	int nsec;                        /* secondaries kept, newest first */
	const uint8_t *sec[UDPTL_KEEP];
	size_t sec_len[UDPTL_KEEP];
};

struct udptl *udptl_new(int redundancy, size_t max_datagram)
{
	struct udptl *u;

	if (redundancy < 0 || redundancy > UDPTL_MAX_REDUNDANCY || max_datagram < 8 || max_datagram > 65507)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return NULL;
	u->redundancy = redundancy;
	u->max_datagram = max_datagram;
	if (redundancy > 0) {
		u->hist = malloc((size_t)redundancy * max_datagram);
		if (u->hist == NULL) {
			free(u);
			return NULL;
		}
	}
	return u;
}

void udptl_free(struct udptl *u)
{
	if (u == NULL)
		return;
	free(u->hist);
	free(u);
}

/* ---- encoding ---- */

static size_t udptl_len_size(size_t len)
{
	return len < 0x80 ? 1 : 2;
}

static size_t udptl_put_len(uint8_t *out, size_t len)
{
	if (len < 0x80) {
		out[0] = (uint8_t)len;
		return 1;
	}
	out[0] = (uint8_t)(0x80 | (len >> 8));
	out[1] = (uint8_t)(len & 0xFF);
	return 2;
}

static size_t udptl_put_open(uint8_t *out, const uint8_t *data, size_t len)
{
	size_t n = udptl_put_len(out, len);

	if (len)
		memcpy(out + n, data, len);
	return n + len;
}

/* The i-th most recent IFP sent before this one (0: the previous). */
static const uint8_t *udptl_hist(const struct udptl *u, int i, size_t *len)
{
	int slot = (u->hist_pos - i + u->redundancy) % u->redundancy;

	*len = u->hist_len[slot];
	return u->hist + (size_t)slot * u->max_datagram;
}

static void udptl_remember(struct udptl *u, const uint8_t *ifp, size_t len)
{
	if (u->redundancy == 0)
		return;
	u->hist_pos = (u->hist_pos + 1) % u->redundancy;
	if (len)
		memcpy(u->hist + (size_t)u->hist_pos * u->max_datagram, ifp, len);
	u->hist_len[u->hist_pos] = len;
	if (u->hist_n < u->redundancy)
		u->hist_n++;
}

int udptl_encode(struct udptl *u, const uint8_t *ifp, size_t len, uint8_t *out, size_t outmax)
{
	size_t limit = outmax < u->max_datagram ? outmax : u->max_datagram;
	size_t need = 2 + udptl_len_size(len) + len + 1 + 1, n;
	int nsec = 0;

	if (len > UDPTL_MAX_LEN || need > limit)
		return -1;
	/* As many earlier IFPs as fit, newest first: losing the oldest
	 * redundancy beats refusing to send. */
	while (nsec < u->hist_n) {
		size_t l;

		udptl_hist(u, nsec, &l);
		if (need + udptl_len_size(l) + l > limit)
			break;
		need += udptl_len_size(l) + l;
		nsec++;
	}
	out[0] = (uint8_t)(u->tx_seq >> 8);
	out[1] = (uint8_t)(u->tx_seq & 0xFF);
	n = 2 + udptl_put_open(out + 2, ifp, len);
	out[n++] = 0x00; /* error-recovery: secondary-ifp-packets */
	n += udptl_put_len(out + n, (size_t)nsec);
	for (int i = 0; i < nsec; i++) {
		size_t l;
		const uint8_t *h = udptl_hist(u, i, &l);

		n += udptl_put_open(out + n, h, l);
	}
	udptl_remember(u, ifp, len);
	u->tx_seq++;
	return (int)n;
}

/* ---- decoding ---- */

/* A length determinant at *pos; -1 when truncated or fragmented. */
static int udptl_get_len(const uint8_t *p, size_t n, size_t *pos, size_t *len)
{
	if (*pos >= n)
		return -1;
	if ((p[*pos] & 0x80) == 0) {
		*len = p[(*pos)++];
		return 0;
	}
	if ((p[*pos] & 0xC0) == 0xC0 || *pos + 2 > n)
		return -1;
	*len = ((size_t)(p[*pos] & 0x3F) << 8) | p[*pos + 1];
	*pos += 2;
	return 0;
}

/* An open type or octet string: its length, then that many octets. */
static int udptl_get_open(const uint8_t *p, size_t n, size_t *pos, const uint8_t **data, size_t *len)
{
	if (udptl_get_len(p, n, pos, len) < 0 || *len > n - *pos)
		return -1;
	*data = p + *pos;
	*pos += *len;
	return 0;
}

static int udptl_parse_secondaries(const uint8_t *p, size_t n, size_t *pos, struct udptl_pkt *k)
{
	size_t count;

	if (udptl_get_len(p, n, pos, &count) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		const uint8_t *d;
		size_t l;

		if (udptl_get_open(p, n, pos, &d, &l) < 0)
			return -1;
		if (k->nsec < UDPTL_KEEP) {
			k->sec[k->nsec] = d;
			k->sec_len[k->nsec] = l;
			k->nsec++;
		}
	}
	return 0;
}

/* fec-info: checked for bounds, then ignored. */
static int udptl_skip_fec(const uint8_t *p, size_t n, size_t *pos)
{
	const uint8_t *d;
	size_t l, count;

	if (udptl_get_open(p, n, pos, &d, &l) < 0 || l == 0 || l > 4) /* fec-npackets */
		return -1;
	if (udptl_get_len(p, n, pos, &count) < 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		if (udptl_get_open(p, n, pos, &d, &l) < 0)
			return -1;
	return 0;
}

static int udptl_parse(const uint8_t *p, size_t n, struct udptl_pkt *k)
{
	size_t pos = 2;
	int rc;

	if (n < 4)
		return -1;
	k->seq = (uint16_t)((p[0] << 8) | p[1]);
	k->nsec = 0;
	if (udptl_get_open(p, n, &pos, &k->ifp, &k->len) < 0 || pos >= n)
		return -1;
	if ((p[pos] & 0x7F) != 0) /* the CHOICE bit is alone in its octet */
		return -1;
	if (p[pos++] & 0x80)
		rc = udptl_skip_fec(p, n, &pos);
	else
		rc = udptl_parse_secondaries(p, n, &pos, k);
	return rc < 0 || pos != n ? -1 : 0;
}

int udptl_decode(struct udptl *u, const uint8_t *pkt, size_t len, udptl_ifp_fn fn, void *arg)
{
	struct udptl_pkt k;
	uint16_t ahead;

	if (pkt == NULL || len > u->max_datagram || udptl_parse(pkt, len, &k) < 0)
		return -1;
	ahead = (uint16_t)(k.seq - u->rx_next);
	if (!u->rx_started) {
		/* The first datagram: what it carries of earlier ones is all
		 * we will ever have of them. */
		u->rx_started = 1;
		u->rx_next = (uint16_t)(k.seq - k.nsec);
		ahead = (uint16_t)k.nsec;
	} else if (ahead >= 0x10000 - UDPTL_WINDOW) {
		return 0; /* a duplicate, or behind what was delivered: too late */
	} else if (ahead >= UDPTL_WINDOW) {
		/* A jump of more than the window either way: the peer restarted
		 * its numbering (some do on a re-INVITE).  Start again here. */
		u->rx_next = k.seq;
		ahead = 0;
	}
	/* Missing: rx_next .. seq-1.  Secondary i holds seq-1-i. */
	for (int i = k.nsec - 1; i >= 0; i--)
		if ((uint16_t)(k.seq - 1 - i - u->rx_next) < ahead)
			fn(arg, k.sec[i], k.sec_len[i], (uint16_t)(k.seq - 1 - i));
	fn(arg, k.ifp, k.len, k.seq);
	u->rx_next = (uint16_t)(k.seq + 1);
	return 0;
}
