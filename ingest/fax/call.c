/* call: the media clock, jitter buffer and T.30 session of one call (see
 * call.h).
 *
 * Clock: sipua calls call_tick() about every 10 ms; each tick runs as many
 * 20 ms frames as the monotonic clock says are due.  A frame always feeds
 * the fax engine 160 samples (the next RTP payload in sequence, or silence
 * when it is missing) and sends 160, so T.30's timers run in real time
 * whatever the network does.  A loop more than CALL_LATE_MS late skips
 * ahead rather than bursting.
 *
 * Jitter: RTP payloads (20 ms = 160 bytes; 40 and 80 ms packets are cut
 * into 20 ms frames) go into a ring of CALL_JB_SLOTS frames
 * by sequence number; playout starts CALL_JB_PREFILL frames after the first
 * packet.  On a loaded machine a sender stalls and then sends a burst: the
 * prefill absorbs that, and an empty buffer plays silence without using up
 * a turn, so the burst is played in order rather than dropped.  Late
 * packets are dropped, and a buffer that has grown too deep (the sender's
 * clock runs fast) drops its oldest frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "clock.h"
#include "faxdsp.h"
#include "log.h"
#include "tls.h"
#include "udptl.h"

#define CALL_FRAME 160
#define CALL_FRAME_MS 20
#define CALL_JB_SLOTS 128   /* 2.56 s */
#define CALL_JB_PREFILL 16  /* 320 ms: absorbs a sender stalled that long */
#define CALL_JB_DEEP 50     /* 1 s queued: our clock is slow, drop */
#define CALL_LATE_MS 3000    /* a loop this late skips ahead instead of catching up */
#define CALL_LATE_WARN_MS 200
#define CALL_GRACE_MS 1500   /* after phase E: let the last frames (DCN) go out */
#define CALL_UDPTL_MAX 1400
#define CALL_T38_DGRAM 400

struct call_jb {
	uint8_t pl[CALL_JB_SLOTS][CALL_FRAME];
	uint16_t seq[CALL_JB_SLOTS];
	uint8_t full[CALL_JB_SLOTS];
	uint16_t next;
	int started, prefill;
	long lost;
	long odd; /* packets of a length we do not take (not 20, 40 or 80 ms) */
	long underruns; /* the buffer ran dry: the sender stalled longer than the prefill */
};

struct call {
	struct call_opts o;
	struct call_record rec;
	struct sipua_call *sc;
	struct faxdsp *dsp;
	int dsp_t38;
	struct udptl *udptl;
	struct faxdsp_line *line_tx, *line_rx;
	struct call_jb jb;
	int64_t start_ms, answer_ms, next_ms, done_ms;
	int ended;
};

void call_hash_id(const char *call_id, char out[17])
{
	unsigned char h[TLS_SHA256_LEN];

	tls_sha256(call_id, strlen(call_id), h);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

const char *call_transport(enum sipua_media m)
{
	switch (m) {
	case SIPUA_MEDIA_PCMU:
		return "pcmu";
	case SIPUA_MEDIA_PCMA:
		return "pcma";
	case SIPUA_MEDIA_T38:
		return "t38";
	default:
		return "none";
	}
}

const char *call_result(const struct call_record *r)
{
	if (r->fax.pages > 0)
		return r->phase_e && r->fax.code == 0 ? "ok" : "incomplete";
	return r->fax.trained ? "failed" : "no_fax";
}

struct call *call_new(const struct call_opts *o, const char *call_id)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->o = *o;
	snprintf(c->rec.call_id, sizeof(c->rec.call_id), "%s", call_id);
	call_hash_id(call_id, c->rec.id);
	c->rec.started_us = clock_now_us();
	c->rec.calling = o->calling;
	c->start_ms = clock_mono_ms();
	if (o->impair) {
		c->line_tx = faxdsp_line_new(o->awgn_dbm0, o->delay_ms, 1);
		c->line_rx = faxdsp_line_new(o->awgn_dbm0, o->delay_ms, 2);
	}
	return c;
}

void call_attach(struct call *c, struct sipua_call *sc)
{
	c->sc = sc;
	snprintf(c->rec.call_id, sizeof(c->rec.call_id), "%s", sipua_call_id(sc));
	call_hash_id(c->rec.call_id, c->rec.id);
	if (!c->o.calling) {
		c->rec.answered_us = clock_now_us();
		c->answer_ms = clock_mono_ms();
	}
}

void call_set_info(struct call *c, const struct sipua_info *info)
{
	snprintf(c->rec.did, sizeof(c->rec.did), "%s", info->did);
	snprintf(c->rec.caller, sizeof(c->rec.caller), "%s", info->caller);
}

const struct call_record *call_record(const struct call *c)
{
	return &c->rec;
}

static void call_dsp_free(struct call *c)
{
	if (c->dsp == NULL)
		return;
	faxdsp_result(c->dsp, &c->rec.fax);
	faxdsp_free(c->dsp);
	c->dsp = NULL;
	udptl_free(c->udptl);
	c->udptl = NULL;
}

void call_free(struct call *c)
{
	if (c == NULL)
		return;
	call_dsp_free(c);
	faxdsp_line_free(c->line_tx);
	faxdsp_line_free(c->line_rx);
	free(c);
}

/* the fax part is over or the line is gone: close the TIFF, keep the facts */
static void call_end(struct call *c, const char *reason, int hangup)
{
	if (c->ended)
		return;
	c->ended = 1;
	if (c->dsp != NULL) {
		c->rec.phase_e = faxdsp_done(c->dsp);
		if (!c->rec.phase_e)
			faxdsp_hangup(c->dsp);
	}
	call_dsp_free(c);
	if (hangup && c->sc != NULL)
		sipua_hangup(c->sc);
	c->sc = NULL;
	c->rec.ended_us = clock_now_us();
	snprintf(c->rec.end_reason, sizeof(c->rec.end_reason), "%s", reason);
	log_info("call=%s: ended: %s; %s, pages=%d, t30=%d (%s), transport=%s, frames lost=%ld, "
		 "underruns=%ld, odd packets=%ld",
		 c->rec.id, reason,
		 call_result(&c->rec), c->rec.fax.pages, c->rec.fax.code,
		 c->rec.fax.text != NULL ? c->rec.fax.text : "", call_transport(c->rec.transport),
		 c->jb.lost, c->jb.underruns, c->jb.odd);
	c->o.done(c->o.arg, c);
}

void call_hangup(struct call *c, const char *reason)
{
	call_end(c, reason, 1);
}

/* ---- the fax engine ----------------------------------------------------- */

static int call_t38_tx(void *arg, const uint8_t *ifp, size_t len, int count)
{
	struct call *c = arg;
	uint8_t pkt[CALL_UDPTL_MAX];

	for (int i = 0; i < count; i++) {
		int n = udptl_encode(c->udptl, ifp, len, pkt, sizeof(pkt));

		if (n < 0 || c->sc == NULL || sipua_udptl_send(c->sc, pkt, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

static void call_page(void *arg, int page_no, int rx)
{
	struct call *c = arg;

	log_info("call=%s: page %d %s", c->rec.id, page_no, rx ? "received" : "sent");
	if (!rx && c->o.hangup_after_page > 0 && page_no >= c->o.hangup_after_page)
		c->done_ms = -1; /* asked to drop the line now (tests) */
}

static int call_dsp_start(struct call *c, int t38)
{
	struct faxdsp_opts fo;
	const char *err = NULL;
	int maxdg = 0, red = 0;

	call_dsp_free(c);
	memset(&fo, 0, sizeof(fo));
	fo.calling = c->o.calling;
	fo.rx_tiff = c->o.rx_tiff;
	fo.tx_tiff = c->o.tx_tiff;
	fo.ident = c->o.ident;
	fo.ecm = c->o.ecm;
	fo.t38 = t38;
	fo.t38_tx = call_t38_tx;
	fo.page = call_page;
	fo.arg = c;
	if (t38) {
		sipua_t38_peer(c->sc, &maxdg, &red);
		c->udptl = udptl_new(red ? 3 : 0, maxdg > 0 && maxdg < CALL_UDPTL_MAX ?
							 (size_t)maxdg : CALL_T38_DGRAM);
	}
	c->dsp = faxdsp_new(&fo, &err);
	if (c->dsp == NULL || (t38 && c->udptl == NULL)) {
		log_error("call=%s: could not start the fax engine: %s", c->rec.id,
			  err != NULL ? err : "out of memory");
		return -1;
	}
	c->dsp_t38 = t38;
	return 0;
}

/* ---- sipua handlers ----------------------------------------------------- */

static void call_on_media(void *carg, enum sipua_media m)
{
	struct call *c = carg;
	int t38 = m == SIPUA_MEDIA_T38;

	if (c->ended)
		return;
	log_info("call=%s: media %s", c->rec.id, call_transport(m));
	c->rec.transport = m;
	memset(&c->jb, 0, sizeof(c->jb));
	if (c->dsp != NULL && c->dsp_t38 == t38)
		return;
	if (call_dsp_start(c, t38) < 0)
		call_end(c, "fax engine failed", 1);
}

static void call_jb_put(struct call_jb *jb, uint16_t seq, const uint8_t *pl)
{
	int ahead;
	int slot = seq % CALL_JB_SLOTS;

	if (!jb->started) {
		jb->started = 1;
		jb->next = seq;
		jb->prefill = CALL_JB_PREFILL;
	}
	ahead = (int16_t)(uint16_t)(seq - jb->next);
	if (ahead < 0)
		return; /* too late: its turn has passed */
	if (ahead >= CALL_JB_SLOTS) {
		/* far ahead (a restart of the sender's numbering): start over */
		memset(jb->full, 0, sizeof(jb->full));
		jb->next = seq;
		jb->prefill = CALL_JB_PREFILL;
	}
	memcpy(jb->pl[slot], pl, CALL_FRAME);
	jb->seq[slot] = seq;
	jb->full[slot] = 1;
}

static int call_jb_depth(const struct call_jb *jb)
{
	int depth = 0;

	for (int i = 0; i < CALL_JB_SLOTS; i++)
		depth += jb->full[i];
	return depth;
}

/* The next frame to play: 1 with pl filled, 0 for silence.  A frame
 * missing while later ones are there is lost: its turn passes.  An empty
 * buffer means the sender stalled: silence is played without using a turn,
 * so the frames coming late in a burst are still played in order. */
static int call_jb_get(struct call_jb *jb, uint8_t *pl)
{
	int slot, depth;

	if (!jb->started)
		return 0;
	if (jb->prefill > 0) {
		jb->prefill--;
		return 0;
	}
	depth = call_jb_depth(jb);
	if (depth == 0) {
		jb->underruns++;
		jb->prefill = CALL_JB_PREFILL / 2;
		return 0;
	}
	while (depth > CALL_JB_DEEP) {
		/* our clock runs slow against the sender's: drop the oldest */
		if (jb->full[jb->next % CALL_JB_SLOTS]) {
			jb->full[jb->next % CALL_JB_SLOTS] = 0;
			depth--;
		}
		jb->next++;
	}
	slot = jb->next % CALL_JB_SLOTS;
	jb->next++;
	if (jb->full[slot] && jb->seq[slot] == (uint16_t)(jb->next - 1)) {
		jb->full[slot] = 0;
		memcpy(pl, jb->pl[slot], CALL_FRAME);
		return 1;
	}
	jb->lost++;
	return 0;
}

static void call_on_audio(void *carg, uint16_t seq, const uint8_t *pl, size_t n)
{
	struct call *c = carg;
	int k = (int)(n / CALL_FRAME);

	if (c->ended || c->dsp == NULL || c->dsp_t38)
		return;
	if (n % CALL_FRAME != 0 || (k != 1 && k != 2 && k != 4)) {
		c->jb.odd++;
		return;
	}
	/* 40 or 80 ms packets are cut into 20 ms frames; numbering them
	 * seq * k + i stays continuous across the 16-bit wrap for k = 2, 4 */
	for (int i = 0; i < k; i++)
		call_jb_put(&c->jb, (uint16_t)(seq * k + i), pl + i * CALL_FRAME);
}

static void call_ifp(void *arg, const uint8_t *ifp, size_t len, uint16_t seq)
{
	struct call *c = arg;

	if (c->dsp != NULL && c->dsp_t38)
		faxdsp_t38_rx(c->dsp, ifp, len, seq);
}

static void call_on_udptl(void *carg, const uint8_t *pkt, size_t n)
{
	struct call *c = carg;

	if (c->ended || c->dsp == NULL || !c->dsp_t38)
		return;
	if (udptl_decode(c->udptl, pkt, n, call_ifp, c) < 0)
		log_debug("call=%s: malformed UDPTL datagram (%zu bytes) dropped", c->rec.id, n);
}

static void call_frame(struct call *c)
{
	int alaw = c->rec.transport == SIPUA_MEDIA_PCMA;
	int16_t amp[CALL_FRAME];
	uint8_t g711[CALL_FRAME];

	if (c->dsp == NULL)
		return;
	if (c->dsp_t38) {
		faxdsp_t38_tick(c->dsp, CALL_FRAME);
		return;
	}
	if (call_jb_get(&c->jb, g711))
		faxdsp_g711_decode(alaw, g711, amp, CALL_FRAME);
	else
		memset(amp, 0, sizeof(amp));
	if (c->line_rx != NULL)
		faxdsp_line_apply(c->line_rx, amp, CALL_FRAME);
	faxdsp_audio_rx(c->dsp, amp, CALL_FRAME);
	faxdsp_audio_tx(c->dsp, amp, CALL_FRAME);
	if (c->line_tx != NULL)
		faxdsp_line_apply(c->line_tx, amp, CALL_FRAME);
	faxdsp_g711_encode(alaw, amp, g711, CALL_FRAME);
	if (c->sc != NULL)
		sipua_audio_send(c->sc, g711, CALL_FRAME);
}

/* 1 when the call is to end now (reason filled) */
static int call_should_end(struct call *c, int64_t now, char *why, size_t n)
{
	struct faxdsp_result r;

	if (c->done_ms < 0) {
		snprintf(why, n, "hung up after page %d as asked", c->o.hangup_after_page);
		return 1;
	}
	if (c->o.max_call_ms > 0 && now - c->start_ms > c->o.max_call_ms) {
		snprintf(why, n, "call limit of %d s reached", c->o.max_call_ms / 1000);
		return 1;
	}
	if (c->dsp == NULL)
		return 0;
	if (faxdsp_done(c->dsp)) {
		if (c->done_ms == 0)
			c->done_ms = now;
		if (now - c->done_ms >= (c->o.grace_ms > 0 ? c->o.grace_ms : CALL_GRACE_MS)) {
			snprintf(why, n, "fax done (T.30 phase E)");
			return 1;
		}
		return 0;
	}
	faxdsp_result(c->dsp, &r);
	if (!r.trained && c->o.no_train_ms > 0 && c->answer_ms > 0 &&
	    now - c->answer_ms > c->o.no_train_ms) {
		snprintf(why, n, "no fax training within %d s", c->o.no_train_ms / 1000);
		return 1;
	}
	return 0;
}

static void call_on_tick(void *carg)
{
	struct call *c = carg;
	int64_t now = clock_mono_ms();
	char why[128];

	if (c->ended)
		return;
	if (c->next_ms != 0 && now - c->next_ms > CALL_LATE_WARN_MS)
		log_warn("call=%s: media clock %lld ms late (machine overloaded?)", c->rec.id,
			 (long long)(now - c->next_ms));
	if (c->next_ms == 0 || now - c->next_ms > CALL_LATE_MS)
		c->next_ms = now;
	while (c->next_ms <= now && !c->ended) {
		call_frame(c);
		c->next_ms += CALL_FRAME_MS;
	}
	if (!c->ended && call_should_end(c, now, why, sizeof(why)))
		call_end(c, why, 1);
}

static void call_on_answered(void *carg)
{
	struct call *c = carg;

	c->rec.answered_us = clock_now_us();
	c->answer_ms = clock_mono_ms();
	log_info("call=%s: answered", c->rec.id);
}

static void call_on_closed(void *carg, const char *reason)
{
	struct call *c = carg;

	c->sc = NULL;
	call_end(c, reason, 0);
}

const struct sipua_call_handlers call_handlers = {
	call_on_media, call_on_audio, call_on_udptl, call_on_tick, call_on_answered, call_on_closed,
};
