/* faxdsp: the one adapter over spandsp 0.0.6 (issue 7); see faxdsp.h.
 *
 * Design.  A session owns either a fax_state_t (audio: V.21/V.27ter/V.29/V.17
 * modems plus T.30) or a t38_terminal_state_t (T.38 IFP plus T.30).  Both
 * hand out their t30_state_t, and everything T.30 (ident, ECM, what we offer,
 * files, phase handlers) is set up once, by t30_setup(), for either kind.
 *
 * spandsp calls back from inside fax_rx/fax_tx/t38_core_rx_ifp_packet/
 * t38_terminal_send_timeout; the callbacks only record into struct faxdsp
 * and call the caller's page and t38_tx functions, never block.
 *
 * Facts of 0.0.6 this file leans on (DEPENDENCY-NOTES 12-15): booleans are
 * ints; resolutions in t30_stats_t are pixels per metre; fax_rx() works in
 * place on the samples (DC restore), so the caller's const buffer is copied;
 * timers advance only with the samples we feed, silence included. */
#include "faxdsp.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spandsp.h>

struct faxdsp {
	fax_state_t *fax;               /* audio session, or NULL */
	t38_terminal_state_t *t38;      /* T.38 session, or NULL */
	t30_state_t *t30;               /* belongs to one of the two */
	faxdsp_t38_tx_fn t38_tx;
	faxdsp_page_fn page;
	void *arg;
	int done;
	int code;
	int trained;
	int pages_reported;             /* highest page number given to page() */
	int final_valid;                /* final holds phase E's figures */
	t30_stats_t final;
	char remote_ident[T30_MAX_IDENT_LEN + 1];
	char subaddress[T30_MAX_IDENT_LEN + 1];
};

/* Copy at most dstsz-1 bytes of a spandsp string (which may be NULL). */
static void faxdsp_copy_ident(char *dst, size_t dstsz, const char *src)
{
	size_t n = src ? strnlen(src, dstsz - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static int faxdsp_pages(const struct faxdsp *f, const t30_stats_t *st)
{
	(void)f;
	return st->pages_rx > st->pages_tx ? st->pages_rx : st->pages_tx;
}

/* After a page's post-page exchange: report pages that became complete. */
static int faxdsp_phase_d(t30_state_t *s, void *user_data, int result)
{
	struct faxdsp *f = user_data;
	t30_stats_t st;
	int rx;

	(void)result;
	t30_get_transfer_statistics(s, &st);
	rx = st.pages_rx > st.pages_tx;
	while (f->pages_reported < faxdsp_pages(f, &st)) {
		f->pages_reported++;
		if (f->page)
			f->page(f->arg, f->pages_reported, rx);
	}
	return T30_ERR_OK;
}

static int faxdsp_phase_b(t30_state_t *s, void *user_data, int result)
{
	(void)s;
	(void)user_data;
	(void)result;
	return T30_ERR_OK;
}

/* Phase E: the fax part of the call is over.  Keep what we report, since
 * spandsp releases the files and may reset some figures afterwards. */
static void faxdsp_phase_e(t30_state_t *s, void *user_data, int completion_code)
{
	struct faxdsp *f = user_data;

	faxdsp_phase_d(s, user_data, 0);
	f->code = completion_code;
	t30_get_transfer_statistics(s, &f->final);
	f->final_valid = 1;
	faxdsp_copy_ident(f->remote_ident, sizeof(f->remote_ident), t30_get_rx_ident(s));
	faxdsp_copy_ident(f->subaddress, sizeof(f->subaddress), t30_get_rx_sub_address(s));
	f->done = 1;
}

/* Every T.30 frame, both ways: a DCS (either direction) means the two
 * machines agreed on a mode, i.e. a fax machine was really there. */
static void faxdsp_frame(t30_state_t *s, void *user_data, int direction, const uint8_t msg[], int len)
{
	struct faxdsp *f = user_data;

	(void)s;
	(void)direction;
	if (len >= 3 && (msg[2] & 0xFE) == T30_DCS)
		f->trained = 1;
}

static int faxdsp_compressions(int want, int ecm)
{
	int c = 0;

	if (want == 0)
		want = FAXDSP_T4_1D | FAXDSP_T4_2D | FAXDSP_T6;
	if (want & FAXDSP_T4_1D)
		c |= T30_SUPPORT_T4_1D_COMPRESSION;
	if (want & FAXDSP_T4_2D)
		c |= T30_SUPPORT_T4_2D_COMPRESSION;
	if ((want & FAXDSP_T6) && ecm)
		c |= T30_SUPPORT_T6_COMPRESSION;
	/* T.4 1D is mandatory in T.30: never offer nothing. */
	return c ? c : T30_SUPPORT_T4_1D_COMPRESSION;
}

/* V.17 (up to 14400) only where asked for, or over T.38, where no modem
 * runs: over audio, spandsp 0.0.6's V.17 receiver fails the short training
 * before the page in about 1 call in 10 with AWGN at -55 dBm0 (measured: 89
 * of 100 calls complete, with V.29 at 9600 all of them), and does not
 * recover from it.  Gateways are told the same: 9600 for G.711 fax. */
static int faxdsp_modems(const struct faxdsp_opts *o)
{
	int m = T30_SUPPORT_V27TER | T30_SUPPORT_V29;

	if (o->max_bit_rate > 9600 || (o->max_bit_rate == 0 && o->t38))
		m |= T30_SUPPORT_V17;
	if (o->max_bit_rate > 0 && o->max_bit_rate < 7200)
		m = T30_SUPPORT_V27TER;
	return m;
}

static int faxdsp_t30_setup(struct faxdsp *f, const struct faxdsp_opts *o, const char **err)
{
	t30_state_t *t = f->t30;

	if (o->ident && t30_set_tx_ident(t, o->ident) < 0)
		return *err = "faxdsp: ident longer than 20 characters", -1;
	if (o->subaddress && t30_set_tx_sub_address(t, o->subaddress) < 0)
		return *err = "faxdsp: subaddress longer than 20 characters", -1;
	t30_set_supported_modems(t, faxdsp_modems(o));
	t30_set_supported_compressions(t, faxdsp_compressions(o->compressions, o->ecm));
	t30_set_supported_resolutions(t, T30_SUPPORT_STANDARD_RESOLUTION | T30_SUPPORT_FINE_RESOLUTION
				      | T30_SUPPORT_SUPERFINE_RESOLUTION | T30_SUPPORT_R8_RESOLUTION
				      | T30_SUPPORT_R16_RESOLUTION);
	t30_set_supported_image_sizes(t, T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH
				      | T30_SUPPORT_303MM_WIDTH | T30_SUPPORT_UNLIMITED_LENGTH
				      | T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH
				      | T30_SUPPORT_US_LETTER_LENGTH | T30_SUPPORT_US_LEGAL_LENGTH);
	t30_set_supported_t30_features(t, T30_SUPPORT_IDENTIFICATION | T30_SUPPORT_SUB_ADDRESSING);
	t30_set_ecm_capability(t, o->ecm ? TRUE : FALSE);
	if (o->rx_tiff) {
		/* T.6 in the file whatever the line used: smallest, and lossless. */
		t30_set_rx_encoding(t, T4_COMPRESSION_ITU_T6);
		t30_set_rx_file(t, o->rx_tiff, -1);
	}
	if (o->tx_tiff) {
		if (access(o->tx_tiff, R_OK) < 0)
			return *err = "faxdsp: tx_tiff cannot be read", -1;
		t30_set_tx_file(t, o->tx_tiff, -1, -1);
	}
	t30_set_phase_b_handler(t, faxdsp_phase_b, f);
	t30_set_phase_d_handler(t, faxdsp_phase_d, f);
	t30_set_phase_e_handler(t, faxdsp_phase_e, f);
	t30_set_real_time_frame_handler(t, faxdsp_frame, f);
	return 0;
}

static int faxdsp_t38_packet(t38_core_state_t *s, void *user_data, const uint8_t *buf, int len, int count)
{
	struct faxdsp *f = user_data;

	(void)s;
	if (len < 0)
		return -1;
	return f->t38_tx(f->arg, buf, (size_t)len, count);
}

static int faxdsp_init_audio(struct faxdsp *f, const struct faxdsp_opts *o, const char **err)
{
	f->fax = fax_init(NULL, o->calling ? TRUE : FALSE);
	if (f->fax == NULL)
		return *err = "faxdsp: fax_init failed", -1;
	/* Always send something (silence when idle): RTP wants a steady stream. */
	fax_set_transmit_on_idle(f->fax, TRUE);
	fax_set_tep_mode(f->fax, FALSE);
	f->t30 = fax_get_t30_state(f->fax);
	return 0;
}

static int faxdsp_init_t38(struct faxdsp *f, const struct faxdsp_opts *o, const char **err)
{
	if (o->t38_tx == NULL)
		return *err = "faxdsp: T.38 needs t38_tx", -1;
	f->t38 = t38_terminal_init(NULL, o->calling ? TRUE : FALSE, faxdsp_t38_packet, f);
	if (f->t38 == NULL)
		return *err = "faxdsp: t38_terminal_init failed", -1;
	/* Paced, with indicators: what a UDPTL peer (a gateway) expects. */
	t38_terminal_set_config(f->t38, 0);
	t38_terminal_set_tep_mode(f->t38, FALSE);
	t38_terminal_set_fill_bit_removal(f->t38, FALSE);
	f->t30 = t38_terminal_get_t30_state(f->t38);
	return 0;
}

struct faxdsp *faxdsp_new(const struct faxdsp_opts *o, const char **err)
{
	struct faxdsp *f = calloc(1, sizeof(*f));
	int rc;

	if (f == NULL) {
		*err = "faxdsp: out of memory";
		return NULL;
	}
	f->t38_tx = o->t38_tx;
	f->page = o->page;
	f->arg = o->arg;
	f->code = T30_ERR_OK;
	rc = o->t38 ? faxdsp_init_t38(f, o, err) : faxdsp_init_audio(f, o, err);
	if (rc == 0)
		rc = faxdsp_t30_setup(f, o, err);
	if (rc < 0) {
		f->done = 1; /* nothing to terminate */
		faxdsp_free(f);
		return NULL;
	}
	return f;
}

void faxdsp_hangup(struct faxdsp *f)
{
	if (f && f->t30 && !f->done)
		t30_terminate(f->t30);
}

void faxdsp_free(struct faxdsp *f)
{
	if (f == NULL)
		return;
	faxdsp_hangup(f);
	if (f->fax)
		fax_free(f->fax);
	if (f->t38)
		t38_terminal_free(f->t38);
	free(f);
}

int faxdsp_audio_rx(struct faxdsp *f, const int16_t *amp, int n)
{
	int16_t chunk[320];

	if (f->fax == NULL || n < 0)
		return -1;
	while (n > 0) {
		int k = n < (int)(sizeof(chunk) / sizeof(chunk[0])) ? n : (int)(sizeof(chunk) / sizeof(chunk[0]));

		memcpy(chunk, amp, (size_t)k * sizeof(chunk[0]));
		fax_rx(f->fax, chunk, k);
		amp += k;
		n -= k;
	}
	return 0;
}

int faxdsp_audio_tx(struct faxdsp *f, int16_t *amp, int n)
{
	int got = 0;

	if (n <= 0)
		return 0;
	if (f->fax)
		got = fax_tx(f->fax, amp, n);
	if (got < 0)
		got = 0;
	if (got < n)
		memset(amp + got, 0, (size_t)(n - got) * sizeof(*amp));
	return n;
}

int faxdsp_t38_rx(struct faxdsp *f, const uint8_t *ifp, size_t len, uint16_t seq)
{
	if (f->t38 == NULL || len > 65535)
		return -1;
	return t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(f->t38), ifp, (int)len, seq) < 0 ? -1 : 0;
}

void faxdsp_t38_tick(struct faxdsp *f, int samples)
{
	if (f->t38 && samples > 0)
		t38_terminal_send_timeout(f->t38, samples);
}

int faxdsp_done(const struct faxdsp *f)
{
	return f->done;
}

/* Pixels per metre to dots per inch, rounded: 8031 -> 204, 7700 -> 196. */
static int faxdsp_dpi(int ppm)
{
	return (int)((ppm * 254L + 5000) / 10000);
}

static int faxdsp_wire_compression(int encoding)
{
	switch (encoding) {
	case T4_COMPRESSION_ITU_T4_1D:
		return FAXDSP_T4_1D;
	case T4_COMPRESSION_ITU_T4_2D:
		return FAXDSP_T4_2D;
	case T4_COMPRESSION_ITU_T6:
		return FAXDSP_T6;
	default:
		return 0;
	}
}

void faxdsp_result(const struct faxdsp *f, struct faxdsp_result *r)
{
	t30_stats_t st;

	memset(r, 0, sizeof(*r));
	if (f->final_valid)
		st = f->final;
	else
		t30_get_transfer_statistics(f->t30, &st);
	r->code = f->code;
	r->text = t30_completion_code_to_str(f->code);
	r->trained = f->trained;
	r->pages = faxdsp_pages(f, &st);
	r->ecm = st.error_correcting_mode ? 1 : 0;
	r->bit_rate = st.bit_rate;
	r->x_dpi = faxdsp_dpi(st.x_resolution);
	r->y_dpi = faxdsp_dpi(st.y_resolution);
	r->compression = faxdsp_wire_compression(st.encoding);
	if (f->done) {
		memcpy(r->remote_ident, f->remote_ident, sizeof(r->remote_ident));
		memcpy(r->subaddress, f->subaddress, sizeof(r->subaddress));
	} else {
		faxdsp_copy_ident(r->remote_ident, sizeof(r->remote_ident), t30_get_rx_ident(f->t30));
		faxdsp_copy_ident(r->subaddress, sizeof(r->subaddress), t30_get_rx_sub_address(f->t30));
	}
}

/* The line model: mu-law round trip, then noise, then the delay line. */
struct faxdsp_line {
	awgn_state_t *noise;
	int16_t *delay;     /* ring of delay_len samples, or NULL */
	int delay_len;
	int pos;
};

struct faxdsp_line *faxdsp_line_new(double awgn_dbm0, int delay_ms, uint32_t seed)
{
	struct faxdsp_line *l = calloc(1, sizeof(*l));

	if (l == NULL || delay_ms < 0 || delay_ms > 10000)
		goto fail;
	l->noise = awgn_init_dbm0(NULL, (int)(seed & 0x3fffffff) + 1, (float)awgn_dbm0);
	if (l->noise == NULL)
		goto fail;
	l->delay_len = delay_ms * 8;
	if (l->delay_len) {
		l->delay = calloc((size_t)l->delay_len, sizeof(*l->delay));
		if (l->delay == NULL)
			goto fail;
	}
	return l;
fail:
	faxdsp_line_free(l);
	return NULL;
}

void faxdsp_line_apply(struct faxdsp_line *l, int16_t *amp, int n)
{
	for (int i = 0; i < n; i++) {
		int v = ulaw_to_linear(linear_to_ulaw(amp[i])) + awgn(l->noise);

		if (v > INT16_MAX)
			v = INT16_MAX;
		else if (v < INT16_MIN)
			v = INT16_MIN;
		if (l->delay_len) {
			int16_t out = l->delay[l->pos];

			l->delay[l->pos] = (int16_t)v;
			l->pos = (l->pos + 1) % l->delay_len;
			v = out;
		}
		amp[i] = (int16_t)v;
	}
}

void faxdsp_line_free(struct faxdsp_line *l)
{
	if (l == NULL)
		return;
	if (l->noise)
		awgn_free(l->noise);
	free(l->delay);
	free(l);
}

void faxdsp_g711_decode(int alaw, const uint8_t *in, int16_t *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = alaw ? alaw_to_linear(in[i]) : ulaw_to_linear(in[i]);
}

void faxdsp_g711_encode(int alaw, const int16_t *in, uint8_t *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = alaw ? linear_to_alaw(in[i]) : linear_to_ulaw(in[i]);
}
