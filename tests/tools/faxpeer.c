/* faxpeer: the test caller and answerer of the fax line, built from
 * ingest-fax's own SIP UA (sipua) and call engine (call, over faxdsp).
 *
 *   faxpeer call sip:DID@127.0.0.1:PORT FILE.tif [--t38 reinvite|initial] [--no-ecm]
 *           [--awgn DBM0 --delay-ms MS] [--hangup-after-page N] [--ident TSI]
 *           [--from USER] [--diversion NUMBER] [--pcma] [--listen ADDR] [--timeout S]
 *   faxpeer answer --listen ADDR --expect-pages N --out FILE.tif [--t38 off|accept|offer]
 *           [--no-ecm] [--ident CSI] [--timeout S]
 *
 * Prints one line, "faxpeer: result=... pages=N t30=CODE transport=... ecm=0|1
 * reason=...", and exits 0 when the call did what was asked: all pages
 * sent (or, with --hangup-after-page N, N pages and then the hangup), or
 * the expected number of pages received; 1 otherwise, 2 on bad usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "clock.h"
#include "log.h"
#include "sipua.h"

struct peer {
	int answer;
	const char *uri, *file, *listen, *from, *ident, *diversion;
	int t38_initial, t38_reinvite, ecm, hangup_after, expect_pages, timeout_s;
	enum sipua_t38 t38;
	double awgn;
	int delay_ms, impair, pcma;
	struct call *call;
	struct sipua_call *sc;
	int finished, status;
	int64_t deadline;
};

static struct peer peer;

static void peer_usage(void)
{
	fprintf(stderr, "usage: faxpeer call URI FILE.tif [--t38 reinvite|initial] [--no-ecm] "
			"[--awgn DBM0 --delay-ms MS] [--hangup-after-page N] [--ident TSI] "
			"[--from USER] [--listen ADDR] [--timeout S]\n"
			"       faxpeer answer --listen ADDR --expect-pages N --out FILE.tif "
			"[--t38 off|accept|offer] [--no-ecm] [--ident CSI] [--timeout S]\n");
	exit(2);
}

static long peer_num(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > max)
		peer_usage();
	return v;
}

static void peer_done(void *arg, struct call *c)
{
	struct peer *p = arg;
	const struct call_record *r = call_record(c);
	const char *res = call_result(r);
	int ok;

	if (p->answer)
		ok = r->fax.pages == p->expect_pages && strcmp(res, "ok") == 0;
	else if (p->hangup_after > 0)
		ok = r->fax.pages >= p->hangup_after;
	else
		ok = strcmp(res, "ok") == 0;
	printf("faxpeer: result=%s pages=%d t30=%d transport=%s ecm=%d remote_ident=\"%s\" "
	       "reason=\"%s\"\n",
	       res, r->fax.pages, r->fax.code, call_transport(r->transport), r->fax.ecm,
	       r->fax.remote_ident, r->end_reason);
	fflush(stdout);
	p->status = ok ? 0 : 1;
	p->finished = 1;
	call_free(c);
	p->call = NULL;
}

static void peer_opts(struct peer *p, struct call_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ident = p->ident;
	o->ecm = p->ecm;
	o->calling = !p->answer;
	o->max_call_ms = p->timeout_s * 1000;
	o->no_train_ms = 60000;
	o->hangup_after_page = p->hangup_after;
	/* the answering side hangs up first, as fax machines do; the caller
	 * only when the answerer does not */
	o->grace_ms = p->answer ? 1500 : 5000;
	o->impair = p->impair;
	o->awgn_dbm0 = p->awgn;
	o->delay_ms = p->delay_ms;
	o->done = peer_done;
	o->arg = p;
	if (p->answer)
		o->rx_tiff = p->file;
	else
		o->tx_tiff = p->file;
}

/* the call engine's handlers, plus the re-INVITE to T.38 once answered */
static void peer_answered(void *carg)
{
	call_handlers.answered(carg);
	if (peer.t38_reinvite && peer.sc != NULL)
		sipua_offer_t38(peer.sc);
}

static void peer_closed(void *carg, const char *reason)
{
	peer.sc = NULL;
	call_handlers.closed(carg, reason);
}

static struct sipua_call_handlers peer_handlers;

static void *peer_incoming(void *uarg, struct sipua_call *sc, const struct sipua_info *info)
{
	struct peer *p = uarg;
	struct call_opts o;

	if (p->call != NULL || p->finished)
		return NULL;
	peer_opts(p, &o);
	p->call = call_new(&o, info->call_id);
	if (p->call == NULL)
		return NULL;
	call_set_info(p->call, info);
	call_attach(p->call, sc);
	p->sc = sc;
	return p->call;
}

static int peer_poll(void *arg)
{
	struct peer *p = arg;

	if (!p->finished && clock_mono_ms() > p->deadline) {
		if (p->call != NULL)
			call_hangup(p->call, "faxpeer timeout");
		else {
			printf("faxpeer: result=no_call pages=0 reason=\"no call within %d s\"\n",
			       p->timeout_s);
			p->status = 1;
			p->finished = 1;
		}
	}
	return p->finished;
}

static void peer_parse(struct peer *p, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "t38", required_argument, NULL, 't' }, { "no-ecm", no_argument, NULL, 'n' },
		{ "awgn", required_argument, NULL, 'a' }, { "delay-ms", required_argument, NULL, 'd' },
		{ "hangup-after-page", required_argument, NULL, 'h' },
		{ "ident", required_argument, NULL, 'i' }, { "from", required_argument, NULL, 'f' },
		{ "listen", required_argument, NULL, 'l' }, { "timeout", required_argument, NULL, 'T' },
		{ "expect-pages", required_argument, NULL, 'e' },
		{ "out", required_argument, NULL, 'o' },
		{ "diversion", required_argument, NULL, 'D' }, { "pcma", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			p->t38_initial = strcmp(optarg, "initial") == 0;
			p->t38_reinvite = strcmp(optarg, "reinvite") == 0;
			p->t38 = strcmp(optarg, "off") == 0 ? SIPUA_T38_OFF :
				 strcmp(optarg, "offer") == 0 ? SIPUA_T38_OFFER : SIPUA_T38_ACCEPT;
			break;
		case 'n': p->ecm = 0; break;
		case 'a':
			p->awgn = strtod(optarg, &end);
			if (*end != '\0')
				peer_usage();
			p->impair = 1;
			break;
		case 'd': p->delay_ms = (int)peer_num(optarg, 0, 2000); p->impair = 1; break;
		case 'h': p->hangup_after = (int)peer_num(optarg, 1, 1000); break;
		case 'i': p->ident = optarg; break;
		case 'f': p->from = optarg; break;
		case 'l': p->listen = optarg; break;
		case 'T': p->timeout_s = (int)peer_num(optarg, 1, 3600); break;
		case 'e': p->expect_pages = (int)peer_num(optarg, 0, 1000); break;
		case 'o': p->file = optarg; break;
		case 'D': p->diversion = optarg; break;
		case 'A': p->pcma = 1; break;
		default: peer_usage();
		}
	}
}

static int peer_start(struct peer *p, struct sipua *ua)
{
	struct call_opts o;
	char err[256];

	if (p->answer)
		return 0;
	peer_opts(p, &o);
	p->call = call_new(&o, "");
	if (p->call == NULL)
		return -1;
	p->sc = sipua_dial(ua, p->uri, p->diversion, p->t38_initial, p->call, err, sizeof(err));
	if (p->sc == NULL) {
		printf("faxpeer: result=no_call pages=0 reason=\"%s\"\n", err);
		return -1;
	}
	call_attach(p->call, p->sc);
	return 0;
}

static void peer_ua_opts(struct peer *p, struct sipua_opts *uo)
{
	peer_handlers = call_handlers;
	peer_handlers.answered = peer_answered;
	peer_handlers.closed = peer_closed;
	memset(uo, 0, sizeof(*uo));
	uo->listen = p->listen;
	uo->user = p->from;
	uo->t38 = p->t38;
	uo->t38_max_datagram = 400;
	uo->pcma_first = p->pcma;
	uo->rtp_port_min = 20000;
	uo->rtp_port_max = 59999;
	uo->incoming = peer_incoming;
	uo->handlers = &peer_handlers;
	uo->uarg = p;
}

int main(int argc, char **argv)
{
	struct peer *p = &peer;
	struct sipua_opts uo;
	struct sipua *ua;
	char err[256];

	log_init("faxpeer");
	if (argc < 2)
		peer_usage();
	p->answer = strcmp(argv[1], "answer") == 0;
	if (!p->answer && strcmp(argv[1], "call") != 0)
		peer_usage();
	p->ecm = 1;
	p->timeout_s = 300;
	p->listen = "127.0.0.1:0";
	p->from = "0312345678";
	p->ident = "+81 3 1234 5678";
	p->t38 = SIPUA_T38_ACCEPT;
	if (!p->answer) {
		if (argc < 4)
			peer_usage();
		p->uri = argv[2];
		p->file = argv[3];
		optind = 4;
	} else
		optind = 2;
	peer_parse(p, argc, argv);
	if (p->file == NULL)
		peer_usage();
	peer_ua_opts(p, &uo);
	ua = sipua_new(&uo, err, sizeof(err));
	if (ua == NULL) {
		printf("faxpeer: result=no_call pages=0 reason=\"%s\"\n", err);
		return 1;
	}
	p->deadline = clock_mono_ms() + (int64_t)p->timeout_s * 1000 + 5000;
	if (peer_start(p, ua) < 0) {
		sipua_free(ua);
		return 1;
	}
	sipua_run(ua, peer_poll, p);
	sipua_free(ua);
	return p->status;
}
