/* faxdsp: the one adapter over spandsp (issue 7).  No other file includes
 * spandsp.h.  A session is the T.30 engine of one fax call, fed either with
 * audio (16-bit linear at 8 kHz, decoded from G.711 by the caller) or with
 * T.38 IFP packets (the caller frames them in UDPTL, lib/udptl.h), and
 * writing the pages it receives to a TIFF file or sending the pages of one.
 *
 * A call that switches from audio to T.38 (re-INVITE) frees its audio
 * session and starts a T.38 one: T.30 starts over, as it does on a gateway.
 *
 * The session keeps no clock of its own: T.30 timers advance only with the
 * samples given to faxdsp_audio_rx() or the ticks given to faxdsp_t38_tick(),
 * so a caller must feed silence while the line is quiet (DEPENDENCY-NOTES 14). */
#ifndef MDG_FAXDSP_H
#define MDG_FAXDSP_H

#include <stddef.h>
#include <stdint.h>

struct faxdsp;

/* Called (from inside faxdsp_*_rx/tick) with each IFP packet to send, count
 * times (spandsp's own repetition of indicator packets).  0 or -1. */
typedef int (*faxdsp_t38_tx_fn)(void *arg, const uint8_t *ifp, size_t len, int count);

/* Called when a page has been received (rx) or sent (tx) completely. */
typedef void (*faxdsp_page_fn)(void *arg, int page_no, int rx);

struct faxdsp_opts {
	int calling;           /* 1: we dialled (CNG); 0: we answered (CED) */
	const char *rx_tiff;   /* receive into this file (multi-page), or NULL */
	const char *tx_tiff;   /* send the pages of this file, or NULL */
	const char *ident;     /* our TSI/CSI, at most 20 characters */
	int ecm;               /* offer/accept error correction mode */
	int t38;               /* 0: audio; 1: T.38 */
	faxdsp_t38_tx_fn t38_tx;   /* required when t38 */
	faxdsp_page_fn page;       /* optional */
	void *arg;
	/* Added after the first contract (both optional, zero = default): */
	int compressions;          /* FAXDSP_T4_1D|FAXDSP_T4_2D|FAXDSP_T6 to offer; 0: all three */
	const char *subaddress;    /* SUB to send with the pages (tx), or NULL */
	int max_bit_rate;          /* 4800, 9600 or 14400 (V.17); 0: 9600 over audio, 14400 over T.38 */
};

#define FAXDSP_T4_1D 1
#define FAXDSP_T4_2D 2
#define FAXDSP_T6 4   /* used only with ECM, as T.30 requires */

/* NULL with *err set (static text) when spandsp refuses the settings. */
struct faxdsp *faxdsp_new(const struct faxdsp_opts *o, const char **err);
void faxdsp_free(struct faxdsp *f);

/* Audio: rx takes what came from the line; tx always fills n samples
 * (silence when idle), returns n. */
int faxdsp_audio_rx(struct faxdsp *f, const int16_t *amp, int n);
int faxdsp_audio_tx(struct faxdsp *f, int16_t *amp, int n);

/* T.38: one IFP packet as it came out of UDPTL, with its sequence number;
 * tick advances the timers by that many samples (8000 per second). */
int faxdsp_t38_rx(struct faxdsp *f, const uint8_t *ifp, size_t len, uint16_t seq);
void faxdsp_t38_tick(struct faxdsp *f, int samples);

/* The line dropped (BYE, RTP timeout): T.30 ends at once with
 * T30_ERR_CALLDROPPED unless it was already over, the pages completed so far
 * stay in rx_tiff and the file is closed.  faxdsp_free() does the same when
 * the caller did not.  (Added after the first contract.) */
void faxdsp_hangup(struct faxdsp *f);

/* 1 once T.30 reached phase E (the call's fax part is over, well or not). */
int faxdsp_done(const struct faxdsp *f);

struct faxdsp_result {
	int code;               /* T30_ERR_* (0: T30_ERR_OK) */
	const char *text;       /* spandsp's text for code (static) */
	int trained;            /* 1 once a DCS was exchanged (a fax machine was there) */
	int pages;              /* pages received or sent completely */
	int ecm;                /* ECM was used */
	int bit_rate;           /* last bit rate, bits/s */
	int x_dpi, y_dpi;       /* of the last page (spandsp gives pixels per metre) */
	char remote_ident[21];  /* the other side's TSI/CSI */
	char subaddress[21];    /* SUB the sender gave, or "" */
	int compression;        /* FAXDSP_T4_1D/_2D/_T6 the line used, 0 before DCS (added) */
};
void faxdsp_result(const struct faxdsp *f, struct faxdsp_result *r);

/* A line model for tests and benchmarks: AWGN at dbm0 (e.g. -55) added after
 * a G.711 mu-law round trip, and a delay of delay_ms.  apply() works in
 * place on n samples. */
struct faxdsp_line;
struct faxdsp_line *faxdsp_line_new(double awgn_dbm0, int delay_ms, uint32_t seed);
void faxdsp_line_apply(struct faxdsp_line *l, int16_t *amp, int n);
void faxdsp_line_free(struct faxdsp_line *l);

/* G.711 both laws, for the RTP side (spandsp's tables). */
void faxdsp_g711_decode(int alaw, const uint8_t *in, int16_t *out, int n);
void faxdsp_g711_encode(int alaw, const int16_t *in, uint8_t *out, int n);

#endif
