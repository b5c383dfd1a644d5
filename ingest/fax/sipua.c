/* sipua: SIP, SDP, RTP and UDPTL sockets over libre (see sipua.h).
 *
 * SDP: libre's sdp_session matches media lines by position once a session
 * has negotiated, and refuses an offer that puts "image" where "audio" was.
 * A fax call changes its media kind (audio, then image/t38), so each
 * offer/answer exchange uses a fresh sdp_session holding the local media
 * we are willing to use: decoding an offer picks from them by name and
 * protocol, and the answer holds exactly the lines the offer had.
 *
 * Lifetime: a call is never freed inside a libre callback of its own
 * objects (an RTP or UDPTL receive, a sipsess handler).  sipua_hangup()
 * and the close handler only mark it dead; the UA's 10 ms timer reaps dead
 * calls, releasing the session (which sends BYE or CANCEL if still up). */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <re.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sipua.h"

#define SIPUA_TICK_MS 10
#define SIPUA_POLL_EVERY 10 /* ticks: poll() every 100 ms */

struct sipua {
	struct sip *sip;
	struct dnsc *dnsc;
	struct sipsess_sock *sock;
	struct sipreg *reg;
	struct sa laddr;
	struct sipua_opts o;
	struct list calls;
	struct tmr tick;
	int (*poll)(void *arg);
	void *parg;
	int nticks;
	char from_uri[320];
};

struct sipua_call {
	struct le le;
	struct sipua *ua;
	struct sipsess *sess;
	struct sdp_session *sdp; /* of the current (or last) exchange */
	struct rtp_sock *rtp;
	struct udp_sock *udp;
	struct sa rtp_dst, udptl_dst;
	enum sipua_media media;
	uint8_t pt;
	uint32_t ts;
	int marker;
	void *carg;
	int incoming, dead, notified, t38_offered;
	int t38_maxdg, t38_red;
	char call_id[SIPUA_ID_MAX];
};

static void sipua_tick(void *arg);

size_t sipua_digits(const char *s, size_t n, char *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < max; i++)
		if (s[i] >= '0' && s[i] <= '9')
			out[k++] = s[i];
	if (max > 0)
		out[k] = '\0';
	return k;
}

/* a user part as given, cut to max and to characters a phone line uses */
static void sipua_user(const struct pl *pl, char *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < pl->l && k + 1 < max; i++) {
		char ch = pl->p[i];

		if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    strchr("+*#._-", ch) != NULL)
			out[k++] = ch;
	}
	out[k] = '\0';
}

/* the user part of the address in header name, or 0 when absent */
static int sipua_hdr_user(const struct sip_msg *msg, const char *name, struct pl *user)
{
	const struct sip_hdr *h = sip_msg_xhdr(msg, name);
	struct sip_addr addr;

	if (h == NULL || sip_addr_decode(&addr, &h->val) != 0 || addr.uri.user.l == 0)
		return 0;
	*user = addr.uri.user;
	return 1;
}

/* DID: R-URI user, else To user, else the first Diversion's user, each
 * taken only if it has digits */
static void sipua_info_fill(const struct sip_msg *msg, struct sipua_info *in)
{
	struct pl u;

	memset(in, 0, sizeof(*in));
	pl_strcpy(&msg->callid, in->call_id, sizeof(in->call_id));
	if (sipua_digits(msg->uri.user.p, msg->uri.user.l, in->did, sizeof(in->did)) == 0 &&
	    sipua_digits(msg->to.uri.user.p, msg->to.uri.user.l, in->did, sizeof(in->did)) == 0 &&
	    sipua_hdr_user(msg, "Diversion", &u))
		sipua_digits(u.p, u.l, in->did, sizeof(in->did));
	if (sipua_hdr_user(msg, "P-Asserted-Identity", &u))
		sipua_user(&u, in->caller, sizeof(in->caller));
	else
		sipua_user(&msg->from.uri.user, in->caller, sizeof(in->caller));
}

/* ---- SDP ---------------------------------------------------------------- */

static int sipua_sdp_image(struct sipua_call *c, struct sdp_session *s)
{
	struct sdp_media *m;
	struct sa la;
	int err;

	if (udp_local_get(c->udp, &la) != 0)
		return -1;
	err = sdp_media_add(&m, s, "image", sa_port(&la), "udptl");
	err |= sdp_media_set_alt_protos(m, 2, "udptl", "UDPTL");
	err |= sdp_format_add(NULL, m, false, "t38", NULL, 0, 0, NULL, NULL, NULL, false, NULL);
	err |= sdp_media_set_lattr(m, false, "T38FaxVersion", "0");
	err |= sdp_media_set_lattr(m, false, "T38MaxBitRate", "14400");
	err |= sdp_media_set_lattr(m, false, "T38FaxRateManagement", "transferredTCF");
	err |= sdp_media_set_lattr(m, false, "T38FaxMaxBuffer", "%d", c->ua->o.t38_max_datagram * 2);
	err |= sdp_media_set_lattr(m, false, "T38FaxMaxDatagram", "%d", c->ua->o.t38_max_datagram);
	err |= sdp_media_set_lattr(m, false, "T38FaxUdpEC", "t38UDPRedundancy");
	return err ? -1 : 0;
}

/* a fresh session with the media we would use: audio and/or image */
static int sipua_sdp_new(struct sipua_call *c, int audio, int image)
{
	struct sdp_session *s;
	struct sdp_media *m;
	int err;

	if (sdp_session_alloc(&s, &c->ua->laddr) != 0)
		return -1;
	if (audio) {
		/* prepend puts PCMA first when asked: an answer follows the offer's order */
		err = sdp_media_add(&m, s, "audio", sa_port(rtp_local(c->rtp)), "RTP/AVP");
		err |= sdp_format_add(NULL, m, false, "0", "PCMU", 8000, 1, NULL, NULL, NULL, false,
				      NULL);
		err |= sdp_format_add(NULL, m, c->ua->o.pcma_first, "8", "PCMA", 8000, 1, NULL, NULL,
				      NULL, false, NULL);
		if (err) {
			mem_deref(s);
			return -1;
		}
	}
	if (image && sipua_sdp_image(c, s) < 0) {
		mem_deref(s);
		return -1;
	}
	mem_deref(c->sdp);
	c->sdp = s;
	return 0;
}

static void sipua_t38_attrs(struct sipua_call *c, const struct sdp_media *m)
{
	const char *dg = sdp_media_rattr(m, "T38FaxMaxDatagram");
	const char *ec = sdp_media_rattr(m, "T38FaxUdpEC");

	c->t38_maxdg = dg != NULL ? (int)strtol(dg, NULL, 10) : 0;
	if (c->t38_maxdg < 0 || c->t38_maxdg > 65535)
		c->t38_maxdg = 0;
	c->t38_red = ec != NULL && strcmp(ec, "t38UDPRedundancy") == 0;
}

/* what the negotiated session gives: image/t38 first, else G.711 */
static enum sipua_media sipua_sdp_pick(struct sipua_call *c)
{
	const struct sdp_media *audio = NULL;
	const struct sdp_format *fmt;
	struct le *le;

	for (le = sdp_session_medial(c->sdp, false)->head; le != NULL; le = le->next) {
		const struct sdp_media *m = le->data;

		if (sdp_media_rport(m) == 0 || sdp_media_dir(m) == SDP_INACTIVE)
			continue;
		if (strcmp(sdp_media_name(m), "image") == 0 &&
		    sdp_media_format(m, false, "t38", -1, NULL, -1, -1) != NULL &&
		    sdp_media_format(m, false, "t38", -1, NULL, -1, -1)->sup) {
			c->udptl_dst = *sdp_media_raddr(m);
			sipua_t38_attrs(c, m);
			return SIPUA_MEDIA_T38;
		}
		if (strcmp(sdp_media_name(m), "audio") == 0)
			audio = m;
	}
	if (audio == NULL || (fmt = sdp_media_rformat(audio, NULL)) == NULL)
		return SIPUA_MEDIA_NONE;
	c->rtp_dst = *sdp_media_raddr(audio);
	c->pt = (uint8_t)fmt->pt;
	return str_casecmp(fmt->name, "PCMA") == 0 ? SIPUA_MEDIA_PCMA : SIPUA_MEDIA_PCMU;
}

static void sipua_set_media(struct sipua_call *c, enum sipua_media m)
{
	if (m == SIPUA_MEDIA_NONE || m == c->media)
		return;
	c->media = m;
	if (c->carg != NULL && !c->dead)
		c->ua->o.handlers->media(c->carg, m);
}

/* decode an offer and build the answer; the media the answer settles */
static enum sipua_media sipua_answer_offer(struct sipua_call *c, struct mbuf *offer,
					   struct mbuf **answer)
{
	enum sipua_media m;

	if (sipua_sdp_new(c, 1, c->ua->o.t38 != SIPUA_T38_OFF) < 0)
		return SIPUA_MEDIA_NONE;
	if (sdp_decode(c->sdp, offer, true) != 0)
		return SIPUA_MEDIA_NONE;
	m = sipua_sdp_pick(c);
	if (m == SIPUA_MEDIA_NONE || sdp_encode(answer, c->sdp, false) != 0)
		return SIPUA_MEDIA_NONE;
	return m;
}

/* ---- media sockets ------------------------------------------------------ */

static void sipua_on_rtp(const struct sa *src, const struct rtp_header *hdr, struct mbuf *mb,
			 void *arg)
{
	struct sipua_call *c = arg;

	(void)src;
	if (c->dead || c->carg == NULL || hdr->pt != c->pt ||
	    (c->media != SIPUA_MEDIA_PCMU && c->media != SIPUA_MEDIA_PCMA))
		return;
	c->ua->o.handlers->audio(c->carg, hdr->seq, mbuf_buf(mb), mbuf_get_left(mb));
}

static void sipua_on_udptl(const struct sa *src, struct mbuf *mb, void *arg)
{
	struct sipua_call *c = arg;

	(void)src;
	if (c->dead || c->carg == NULL || c->media != SIPUA_MEDIA_T38)
		return;
	c->ua->o.handlers->udptl(c->carg, mbuf_buf(mb), mbuf_get_left(mb));
}

int sipua_audio_send(struct sipua_call *c, const uint8_t *g711, size_t n)
{
	struct mbuf *mb;
	int err;

	if (c->dead || (c->media != SIPUA_MEDIA_PCMU && c->media != SIPUA_MEDIA_PCMA))
		return -1;
	mb = mbuf_alloc(RTP_HEADER_SIZE + n);
	if (mb == NULL)
		return -1;
	mb->pos = RTP_HEADER_SIZE;
	mbuf_write_mem(mb, g711, n);
	mb->pos = RTP_HEADER_SIZE;
	err = rtp_send(c->rtp, &c->rtp_dst, false, c->marker, c->pt, c->ts, mb);
	c->marker = 0;
	c->ts += (uint32_t)n;
	mem_deref(mb);
	return err ? -1 : 0;
}

int sipua_udptl_send(struct sipua_call *c, const uint8_t *pkt, size_t n)
{
	struct mbuf *mb;
	int err;

	if (c->dead || c->media != SIPUA_MEDIA_T38)
		return -1;
	mb = mbuf_alloc(n);
	if (mb == NULL)
		return -1;
	mbuf_write_mem(mb, pkt, n);
	mb->pos = 0;
	err = udp_send(c->udp, &c->udptl_dst, mb);
	mem_deref(mb);
	return err ? -1 : 0;
}

/* ---- calls -------------------------------------------------------------- */

static struct sipua_call *sipua_call_new(struct sipua *ua)
{
	struct sipua_call *c = calloc(1, sizeof(*c));
	struct sa la = ua->laddr;

	if (c == NULL)
		return NULL;
	c->ua = ua;
	c->marker = 1;
	c->ts = (uint32_t)rand_u32();
	sa_set_port(&la, 0);
	if (rtp_listen(&c->rtp, IPPROTO_UDP, &ua->laddr, (uint16_t)ua->o.rtp_port_min,
		       (uint16_t)ua->o.rtp_port_max, false, sipua_on_rtp, NULL, c) != 0 ||
	    udp_listen(&c->udp, &la, sipua_on_udptl, c) != 0) {
		mem_deref(c->rtp);
		mem_deref(c->udp);
		free(c);
		return NULL;
	}
	list_append(&ua->calls, &c->le, c);
	return c;
}

static void sipua_call_free(struct sipua_call *c)
{
	list_unlink(&c->le);
	mem_deref(c->sess); /* BYE or CANCEL when still up */
	mem_deref(c->sdp);
	mem_deref(c->rtp);
	mem_deref(c->udp);
	free(c);
}

/* the dialog ended: tell the call once, then let the timer reap it */
static void sipua_close(struct sipua_call *c, const char *reason)
{
	if (!c->dead && !c->notified && c->carg != NULL) {
		c->notified = 1;
		c->ua->o.handlers->closed(c->carg, reason);
	}
	c->dead = 1;
}

static void sipua_on_close(int err, const struct sip_msg *msg, void *arg)
{
	struct sipua_call *c = arg;
	char reason[128];

	if (err == ECONNRESET && msg == NULL)
		snprintf(reason, sizeof(reason), "remote hangup (BYE)"); /* libre's word for it */
	else if (err != 0)
		re_snprintf(reason, sizeof(reason), "SIP error: %m", err);
	else if (msg != NULL && msg->req)
		re_snprintf(reason, sizeof(reason), "remote hangup (%r)", &msg->met);
	else if (msg != NULL)
		re_snprintf(reason, sizeof(reason), "SIP %u %r", msg->scode, &msg->reason);
	else
		snprintf(reason, sizeof(reason), "dialog closed");
	sipua_close(c, reason);
}

static int sipua_on_offer(struct mbuf **descp, const struct sip_msg *msg, void *arg)
{
	struct sipua_call *c = arg;
	enum sipua_media m = sipua_answer_offer(c, msg->mb, descp);

	if (m == SIPUA_MEDIA_NONE) {
		log_warn("call=%s: re-INVITE offers no media we take; refused", c->call_id);
		return EPROTO;
	}
	sipua_set_media(c, m);
	return 0;
}

static int sipua_on_answer(const struct sip_msg *msg, void *arg)
{
	struct sipua_call *c = arg;
	enum sipua_media m;

	if (sdp_decode(c->sdp, msg->mb, false) != 0) {
		log_warn("call=%s: could not decode the SDP answer", c->call_id);
		return EPROTO;
	}
	m = sipua_sdp_pick(c);
	if (m == SIPUA_MEDIA_NONE)
		log_warn("call=%s: the answer refused the media offered", c->call_id);
	sipua_set_media(c, m);
	return 0;
}

static void sipua_on_estab(const struct sip_msg *msg, void *arg)
{
	struct sipua_call *c = arg;

	(void)msg;
	if (c->dead)
		return;
	if (!c->incoming && c->carg != NULL && c->ua->o.handlers->answered != NULL)
		c->ua->o.handlers->answered(c->carg);
	if (c->incoming && c->ua->o.t38 == SIPUA_T38_OFFER && c->media != SIPUA_MEDIA_T38)
		(void)sipua_offer_t38(c);
}

static void sipua_on_progress(const struct sip_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
}

int sipua_offer_t38(struct sipua_call *c)
{
	struct mbuf *mb = NULL;
	int err;

	if (c->dead || c->t38_offered || c->sess == NULL)
		return -1;
	if (sipua_sdp_new(c, 0, 1) < 0 || sdp_encode(&mb, c->sdp, true) != 0)
		return -1;
	err = sipsess_modify(c->sess, mb);
	mem_deref(mb);
	if (err) {
		log_warn("call=%s: could not send the re-INVITE to T.38: %s", c->call_id,
			 strerror(err));
		return -1;
	}
	c->t38_offered = 1;
	return 0;
}

static void sipua_refuse(struct sipua *ua, const struct sip_msg *msg, struct sipua_call *c,
			 uint16_t code, const char *reason)
{
	(void)sip_treply(NULL, ua->sip, msg, code, reason);
	if (c != NULL)
		sipua_call_free(c);
}

/* accept with the answer (or, for an INVITE without SDP, our offer) */
static int sipua_accept(struct sipua *ua, struct sipua_call *c, const struct sip_msg *msg,
			struct mbuf *desc)
{
	return sipsess_accept(&c->sess, ua->sock, msg, 200, "OK", ua->o.user, "application/sdp",
			      desc, NULL, NULL, false, sipua_on_offer, sipua_on_answer,
			      sipua_on_estab, NULL, NULL, sipua_on_close, c, NULL);
}

static void sipua_on_conn(const struct sip_msg *msg, void *arg)
{
	struct sipua *ua = arg;
	struct sipua_info info;
	struct sipua_call *c = sipua_call_new(ua);
	struct mbuf *desc = NULL;
	enum sipua_media m = SIPUA_MEDIA_NONE;
	int late = mbuf_get_left(msg->mb) == 0;

	sipua_info_fill(msg, &info);
	if (c == NULL) {
		sipua_refuse(ua, msg, NULL, 500, "Server Internal Error");
		return;
	}
	c->incoming = 1;
	snprintf(c->call_id, sizeof(c->call_id), "%s", info.call_id);
	if (late) {
		/* no offer in the INVITE: ours goes in the 200 OK */
		if (sipua_sdp_new(c, 1, 0) < 0 || sdp_encode(&desc, c->sdp, true) != 0) {
			sipua_refuse(ua, msg, c, 500, "Server Internal Error");
			return;
		}
	} else if ((m = sipua_answer_offer(c, msg->mb, &desc)) == SIPUA_MEDIA_NONE) {
		log_info("call=%s: INVITE offers no media we take (G.711 or T.38); 488",
			 c->call_id);
		mem_deref(desc);
		sipua_refuse(ua, msg, c, 488, "Not Acceptable Here");
		return;
	}
	c->carg = ua->o.incoming(ua->o.uarg, c, &info);
	if (c->carg == NULL) {
		mem_deref(desc);
		sipua_refuse(ua, msg, c, 486, "Busy Here");
		return;
	}
	if (sipua_accept(ua, c, msg, desc) != 0) {
		mem_deref(desc);
		sipua_close(c, "could not send 200 OK");
		return;
	}
	mem_deref(desc);
	sipua_set_media(c, m);
}

static int sipua_auth(char **user, char **pass, const char *realm, void *arg)
{
	struct sipua *ua = arg;

	(void)realm;
	if (str_dup(user, ua->o.register_user) != 0 || str_dup(pass, ua->o.register_password) != 0)
		return ENOMEM;
	return 0;
}

struct sipua_call *sipua_dial(struct sipua *ua, const char *uri, const char *diversion,
			      int t38_initial, void *carg, char *err, size_t errlen)
{
	struct sipua_call *c = sipua_call_new(ua);
	struct mbuf *mb = NULL;
	char div[SIPUA_NUM_MAX + 64] = "";
	int e;

	if (c == NULL) {
		snprintf(err, errlen, "could not open the media sockets");
		return NULL;
	}
	c->carg = carg;
	c->t38_offered = t38_initial;
	if (diversion != NULL) {
		char num[SIPUA_NUM_MAX];

		sipua_digits(diversion, strlen(diversion), num, sizeof(num));
		re_snprintf(div, sizeof(div), "Diversion: <sip:%s@%j>;reason=unconditional\r\n", num,
			    &ua->laddr);
	}
	if (sipua_sdp_new(c, !t38_initial, t38_initial) < 0 || sdp_encode(&mb, c->sdp, true) != 0) {
		snprintf(err, errlen, "could not build the SDP offer");
		sipua_call_free(c);
		return NULL;
	}
	e = sipsess_connect(&c->sess, ua->sock, uri, NULL, ua->from_uri, ua->o.user, NULL, 0,
			    "application/sdp", mb, sipua_auth, ua, false, sipua_on_offer,
			    sipua_on_answer, sipua_on_progress, sipua_on_estab, NULL, NULL,
			    sipua_on_close, c, diversion != NULL ? "%s" : NULL, div);
	mem_deref(mb);
	if (e != 0) {
		snprintf(err, errlen, "could not send the INVITE to %s: %s", uri, strerror(e));
		sipua_call_free(c);
		return NULL;
	}
	snprintf(c->call_id, sizeof(c->call_id), "%s",
		 sip_dialog_callid(sipsess_dialog(c->sess)));
	return c;
}

const char *sipua_call_id(const struct sipua_call *c)
{
	return c->call_id;
}

int sipua_t38_peer(const struct sipua_call *c, int *max_datagram, int *redundancy)
{
	*max_datagram = c->t38_maxdg;
	*redundancy = c->t38_red;
	return 0;
}

void sipua_hangup(struct sipua_call *c)
{
	c->dead = 1;
	c->notified = 1;
}

int sipua_calls(const struct sipua *ua)
{
	return (int)list_count(&ua->calls);
}

/* ---- the UA ------------------------------------------------------------- */

static void sipua_on_register(int err, const struct sip_msg *msg, void *arg)
{
	struct sipua *ua = arg;

	if (err != 0)
		log_warn("register %s: %s", ua->o.register_uri, strerror(err));
	else if (msg->scode >= 200 && msg->scode < 300)
		log_info("register %s: registered as %s", ua->o.register_uri, ua->o.register_user);
	else if (msg->scode >= 300) {
		char r[96];

		re_snprintf(r, sizeof(r), "%u %r", msg->scode, &msg->reason);
		log_warn("register %s: refused: %s", ua->o.register_uri, r);
	}
}

/* AOR sip:<register_user>@<host[:port] of register_uri> */
static int sipua_register(struct sipua *ua, char *err, size_t errlen)
{
	char aor[320];
	const char *host = ua->o.register_uri;
	size_t n;
	int e;

	if (strncmp(host, "sip:", 4) == 0)
		host += 4;
	n = strcspn(host, ";>");
	snprintf(aor, sizeof(aor), "sip:%s@%.*s", ua->o.register_user, (int)n, host);
	e = sipreg_register(&ua->reg, ua->sip, ua->o.register_uri, aor, NULL, aor,
			    (uint32_t)ua->o.register_expires, ua->o.user, NULL, 0, 0, sipua_auth, ua,
			    false, sipua_on_register, ua, NULL, NULL);
	if (e != 0) {
		snprintf(err, errlen, "could not register to %s: %s", ua->o.register_uri,
			 strerror(e));
		return -1;
	}
	return 0;
}

static void sipua_dns(struct sipua *ua)
{
	struct sa ns[4];
	uint32_t nn = 4;
	char domain[64] = "";

	/* only a registrar given by name needs DNS; without a resolver the UA
	 * still works with addresses */
	if (dns_srv_get(domain, sizeof(domain), ns, &nn) == 0 && nn > 0)
		(void)dnsc_alloc(&ua->dnsc, NULL, ns, nn);
}

static int sipua_start(struct sipua *ua, char *err, size_t errlen)
{
	int e;

	if (sa_decode(&ua->laddr, ua->o.listen, strlen(ua->o.listen)) != 0) {
		snprintf(err, errlen, "%s: expected IP:port", ua->o.listen);
		return -1;
	}
	sipua_dns(ua);
	e = sip_alloc(&ua->sip, ua->dnsc, 32, 32, 32, "madoguchi ingest-fax", NULL, NULL);
	if (e == 0)
		e = sip_transp_add(ua->sip, SIP_TRANSP_UDP, &ua->laddr);
	if (e == 0)
		e = sipsess_listen(&ua->sock, ua->sip, 32, sipua_on_conn, ua);
	if (e != 0) {
		snprintf(err, errlen, "could not listen for SIP on %s: %s", ua->o.listen,
			 strerror(e));
		return -1;
	}
	re_snprintf(ua->from_uri, sizeof(ua->from_uri), "sip:%s@%J", ua->o.user, &ua->laddr);
	if (ua->o.register_uri != NULL && ua->o.register_uri[0] != '\0')
		return sipua_register(ua, err, errlen);
	return 0;
}

struct sipua *sipua_new(const struct sipua_opts *o, char *err, size_t errlen)
{
	static int inited;
	struct sipua *ua;

	if (!inited && libre_init() != 0) {
		snprintf(err, errlen, "libre_init failed");
		return NULL;
	}
	inited = 1;
	ua = calloc(1, sizeof(*ua));
	if (ua == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ua->o = *o;
	list_init(&ua->calls);
	tmr_init(&ua->tick);
	if (sipua_start(ua, err, errlen) < 0) {
		sipua_free(ua);
		return NULL;
	}
	return ua;
}

static void sipua_reap(struct sipua *ua)
{
	struct le *le = ua->calls.head;

	while (le != NULL) {
		struct sipua_call *c = le->data;

		le = le->next;
		if (c->dead)
			sipua_call_free(c);
	}
}

static void sipua_tick(void *arg)
{
	struct sipua *ua = arg;

	for (struct le *le = ua->calls.head; le != NULL; le = le->next) {
		struct sipua_call *c = le->data;

		if (!c->dead && c->carg != NULL)
			ua->o.handlers->tick(c->carg);
	}
	sipua_reap(ua);
	if (++ua->nticks >= SIPUA_POLL_EVERY) {
		ua->nticks = 0;
		if (ua->poll != NULL && ua->poll(ua->parg)) {
			re_cancel();
			return;
		}
	}
	tmr_start(&ua->tick, SIPUA_TICK_MS, sipua_tick, ua);
}

int sipua_run(struct sipua *ua, int (*poll)(void *arg), void *arg)
{
	int e;

	ua->poll = poll;
	ua->parg = arg;
	tmr_start(&ua->tick, SIPUA_TICK_MS, sipua_tick, ua);
	e = re_main(NULL);
	tmr_cancel(&ua->tick);
	return e ? -1 : 0;
}

void sipua_free(struct sipua *ua)
{
	if (ua == NULL)
		return;
	tmr_cancel(&ua->tick);
	for (struct le *le = ua->calls.head; le != NULL; le = le->next)
		((struct sipua_call *)le->data)->dead = 1;
	sipua_reap(ua);
	ua->reg = mem_deref(ua->reg);
	ua->sock = mem_deref(ua->sock);
	if (ua->sip != NULL)
		sip_close(ua->sip, true);
	ua->sip = mem_deref(ua->sip);
	ua->dnsc = mem_deref(ua->dnsc);
	free(ua);
}
