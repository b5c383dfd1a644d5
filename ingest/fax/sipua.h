/* sipua: the SIP user agent of the fax line, the one adapter over libre
 * (no other file includes re.h).  It answers and places calls, negotiates
 * the media (G.711 audio over RTP, or T.38 over UDPTL, by SDP offer and
 * answer, including the re-INVITE from audio to image/t38), registers to a
 * trunk with digest authentication, and runs libre's event loop.
 *
 * It knows nothing of fax: the payloads of RTP (G.711 bytes) and the UDPTL
 * datagrams are handed up as they arrive, and a tick handler is called at
 * least every 10 ms while a call exists, so the call (call.c) runs its 20 ms
 * media clock from the monotonic clock and never waits for the network.
 * Everything runs on the thread that called sipua_run(). */
#ifndef MDG_FAX_SIPUA_H
#define MDG_FAX_SIPUA_H
#include <stddef.h>
#include <stdint.h>

enum sipua_media { SIPUA_MEDIA_NONE, SIPUA_MEDIA_PCMU, SIPUA_MEDIA_PCMA, SIPUA_MEDIA_T38 };
/* off: refuse image/t38; accept: take a re-INVITE to it; offer: also send one */
enum sipua_t38 { SIPUA_T38_OFF, SIPUA_T38_ACCEPT, SIPUA_T38_OFFER };

#define SIPUA_ID_MAX 256
#define SIPUA_NUM_MAX 64

struct sipua;
struct sipua_call;

/* what an incoming INVITE says about the call */
struct sipua_info {
	char call_id[SIPUA_ID_MAX]; /* the SIP Call-ID */
	char did[SIPUA_NUM_MAX];    /* digits of the R-URI, To or Diversion user */
	char caller[SIPUA_NUM_MAX]; /* user of P-Asserted-Identity, else of From */
};

/* The handlers of one call; carg is what incoming() returned (answered
 * calls) or what sipua_dial() was given (placed calls). */
struct sipua_call_handlers {
	/* media is (re)negotiated: audio or T.38 from now on */
	void (*media)(void *carg, enum sipua_media m);
	/* one RTP packet's payload (G.711 bytes) with its sequence number */
	void (*audio)(void *carg, uint16_t seq, const uint8_t *pl, size_t n);
	/* one UDPTL datagram */
	void (*udptl)(void *carg, const uint8_t *pkt, size_t n);
	/* every 10 ms or so while the call exists */
	void (*tick)(void *carg);
	/* the peer answered our INVITE (placed calls) */
	void (*answered)(void *carg);
	/* the dialog is over (BYE, failure, rejection); the sipua_call is
	 * freed right after this returns and must not be used again */
	void (*closed)(void *carg, const char *reason);
};

struct sipua_opts {
	const char *listen;       /* "127.0.0.1:5070" */
	const char *user;         /* our user part in From and Contact */
	enum sipua_t38 t38;
	int t38_max_datagram;     /* T38FaxMaxDatagram we announce */
	int pcma_first;           /* offer A-law before mu-law */
	int rtp_port_min, rtp_port_max;
	const char *register_uri; /* "sip:registrar:5060", or NULL/"" */
	const char *register_user;
	const char *register_password;
	int register_expires;     /* seconds */
	/* Answer an incoming call: return its carg, or NULL to refuse it (the
	 * UA replies 486).  Called before the 200 OK is sent. */
	void *(*incoming)(void *uarg, struct sipua_call *c, const struct sipua_info *info);
	const struct sipua_call_handlers *handlers;
	void *uarg;
};

/* NULL with err filled when the address cannot be bound. */
struct sipua *sipua_new(const struct sipua_opts *o, char *err, size_t errlen);
/* Hangs up every call (closed() is not called) and frees the UA. */
void sipua_free(struct sipua *ua);
/* Run the event loop until poll() returns nonzero; poll is called every
 * 100 ms (signal flags, shutdown). */
int sipua_run(struct sipua *ua, int (*poll)(void *arg), void *arg);

/* Place a call to uri ("sip:123@127.0.0.1:5070").  diversion: a number
 * for a Diversion header (the number first dialled), or NULL.  t38_initial:
 * offer image/t38 in the INVITE instead of audio.  NULL on error. */
struct sipua_call *sipua_dial(struct sipua *ua, const char *uri, const char *diversion,
			      int t38_initial, void *carg, char *err, size_t errlen);
/* Send a re-INVITE offering image/t38 (0 or -1). */
int sipua_offer_t38(struct sipua_call *c);
/* Send one frame of G.711 bytes (20 ms = 160) over RTP. */
int sipua_audio_send(struct sipua_call *c, const uint8_t *g711, size_t n);
/* Send one UDPTL datagram. */
int sipua_udptl_send(struct sipua_call *c, const uint8_t *pkt, size_t n);
/* The SIP Call-ID of a call. */
const char *sipua_call_id(const struct sipua_call *c);
/* T38FaxMaxDatagram and T38FaxUdpEC the peer announced (0 when none,
 * redundancy 1 for t38UDPRedundancy). */
int sipua_t38_peer(const struct sipua_call *c, int *max_datagram, int *redundancy);
/* Hang up (BYE or CANCEL) and free the call; closed() is not called. */
void sipua_hangup(struct sipua_call *c);
/* Calls in progress. */
int sipua_calls(const struct sipua *ua);

/* Keep only the digits of s (at most max-1 of them) in out; the count. */
size_t sipua_digits(const char *s, size_t n, char *out, size_t max);

#endif
