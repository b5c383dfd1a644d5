/* udptl: UDPTL framing of T.38 IFP packets (ITU-T T.38 clause 9 and annex
 * A: UDPTLPacket with seq-number, primary-ifp-packet and the redundancy
 * error-recovery), because spandsp 0.0.6 has t38_core but no UDPTL layer
 * (DEPENDENCY-NOTES 6).  Pure code, no I/O: one struct per direction pair of
 * a call.  Every length is bounded: a packet from the network is untrusted. */
#ifndef MDG_UDPTL_H
#define MDG_UDPTL_H

#include <stddef.h>
#include <stdint.h>

struct udptl;

/* redundancy: how many earlier IFPs each packet carries (0-7, 3 typical). */
struct udptl *udptl_new(int redundancy, size_t max_datagram);
void udptl_free(struct udptl *u);

/* Frame one IFP into out; returns the datagram length or -1 (too long). */
int udptl_encode(struct udptl *u, const uint8_t *ifp, size_t len, uint8_t *out, size_t outmax);

/* Called in sequence order with each IFP a datagram delivers, including
 * those recovered from redundancy for packets that were lost. */
typedef void (*udptl_ifp_fn)(void *arg, const uint8_t *ifp, size_t len, uint16_t seq);

/* Parse one datagram; 0, or -1 when it is malformed (nothing delivered). */
int udptl_decode(struct udptl *u, const uint8_t *pkt, size_t len, udptl_ifp_fn fn, void *arg);

#endif
