/* line: answering calls and handing finished ones to the store (line.h);
 * dialling the replies by fax of the outbound_fax queue (ingest/fax/outfax.h).
 *
 * The queue's claims and results are small statements on a connection of
 * the loop's own, between media ticks: call.c catches its 20 ms clock up
 * after a late turn, so a few milliseconds of database do not cost audio
 * (the store thread's connection is for the commits that split and fsync
 * pages). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "call.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "line.h"
#include "log.h"
#include "outfax.h"
#include "settings.h"
#include "sipua.h"
#include "store.h"

#define LINE_MAX_CALLS 1000
#define LINE_OUT_MAX 32           /* = fax.out_max_calls' bound */
#define LINE_OUT_RESCAN_MS 30000  /* retries fall due without a NOTIFY */

/* one reply by fax being dialled */
struct line_out {
	struct call *call;
	struct outfax_job job;
};

struct line {
	struct settings set;
	struct sipua *ua;
	struct store *store;
	struct call *calls[LINE_MAX_CALLS];
	int ncalls;
	char tif[LINE_MAX_CALLS][512];
	/* replies by fax (NULL out: fax.out_uri is empty) */
	struct db *outdb;
	struct outfax *out;
	struct line_out outs[LINE_OUT_MAX];
	int64_t out_next_ms;
	int out_woken;
	int (*stop)(void *arg);
	void *stop_arg;
};

static int line_slot(struct line *l, const struct call *c)
{
	for (int i = 0; i < l->set.max_calls; i++)
		if (l->calls[i] == c)
			return i;
	return -1;
}

static void line_done(void *arg, struct call *c)
{
	struct line *l = arg;
	int i = line_slot(l, c);

	if (i >= 0) {
		store_call(l->store, call_record(c), l->tif[i]);
		l->calls[i] = NULL;
		l->ncalls--;
	}
	call_free(c);
}

static void *line_incoming(void *uarg, struct sipua_call *sc, const struct sipua_info *info)
{
	struct line *l = uarg;
	struct call_opts o;
	struct call *c;
	char id[17];
	int i = line_slot(l, NULL);

	call_hash_id(info->call_id, id);
	if (i < 0) {
		log_warn("call=%s: refused, %d calls in progress already", id, l->ncalls);
		return NULL;
	}
	snprintf(l->tif[i], sizeof(l->tif[i]), "%s/%s.tif", l->set.spool, id);
	memset(&o, 0, sizeof(o));
	o.rx_tiff = l->tif[i];
	o.ident = l->set.ident;
	o.ecm = l->set.ecm;
	o.no_train_ms = l->set.no_train_s * 1000;
	o.max_call_ms = l->set.max_call_s * 1000;
	o.done = line_done;
	o.arg = l;
	c = call_new(&o, info->call_id);
	if (c == NULL)
		return NULL;
	call_set_info(c, info);
	call_attach(c, sc);
	l->calls[i] = c;
	l->ncalls++;
	log_info("call=%s: answered; DID %s, caller %s, Call-ID %s", id,
		 info->did[0] ? info->did : "(none)", info->caller[0] ? info->caller : "(none)",
		 info->call_id);
	return c;
}

/* ---- replies by fax ---- */

/* the SIP status at the start of a closed dialog's reason ("SIP 486 Busy
 * Here"), 0 when there is none */
static int line_sip_status(const char *reason)
{
	unsigned st = 0;

	return sscanf(reason, "SIP %u", &st) == 1 && st >= 300 && st < 700 ? (int)st : 0;
}

/* how a dialled call ended, in the queue's terms */
static void line_out_result(const struct call_record *r, const struct outfax_job *job,
			    struct outfax_result *res)
{
	int st = line_sip_status(r->end_reason);

	memset(res, 0, sizeof(*res));
	res->pages_sent = r->fax.pages;
	res->t30_code = r->fax.trained || r->phase_e ? r->fax.code : -1;
	snprintf(res->t30_text, sizeof(res->t30_text), "%s", r->fax.text ? r->fax.text : "");
	res->sip_status = st;
	if (r->phase_e && r->fax.code == 0 && r->fax.pages >= job->pages) {
		res->outcome = OUTFAX_OK;
		return;
	}
	snprintf(res->error, sizeof(res->error), "%s", r->end_reason);
	if (st == 404 || st == 410 || st == 484 || st == 403 || st == 603)
		res->outcome = OUTFAX_UNREACHABLE;
	else if (st == 486 || st == 600)
		res->outcome = OUTFAX_BUSY;
	else if (r->answered_us == 0)
		res->outcome = OUTFAX_NO_ANSWER;
	else if (!r->fax.trained)
		res->outcome = OUTFAX_NO_FAX;
	else
		res->outcome = r->fax.pages > 0 ? OUTFAX_INCOMPLETE : OUTFAX_TRAINING;
}

static void line_out_done(void *arg, struct call *c)
{
	struct line *l = arg;
	struct outfax_result res;

	for (int i = 0; i < LINE_OUT_MAX; i++) {
		if (l->outs[i].call != c)
			continue;
		line_out_result(call_record(c), &l->outs[i].job, &res);
		log_info("fax=%lld: call=%s ended: %d of %d pages sent (%s)",
			 (long long)l->outs[i].job.id, call_record(c)->id, res.pages_sent,
			 l->outs[i].job.pages, res.outcome == OUTFAX_OK ? "sent" : res.error);
		if (db_ensure(l->outdb) < 0 || outfax_done(l->out, &l->outs[i].job, &res) < 0)
			log_error("fax=%lld: the result could not be recorded; the lease runs out and "
				  "the attempt counts as lost",
				  (long long)l->outs[i].job.id);
		store_call(l->store, call_record(c), "");
		l->outs[i].call = NULL;
		l->out_woken = 1; /* a channel came free */
	}
	call_free(c);
}

/* fax.out_uri with its %s (once: settings.c checked it) replaced by the
 * number's digits */
static void line_out_uri(const char *tmpl, const char *number, char *out, size_t len)
{
	const char *at = strstr(tmpl, "%s");

	snprintf(out, len, "%.*s%s%s", (int)(at - tmpl), tmpl, number, at + 2);
}

/* outfax's dialler: place the call now, report at its end (line_out_done) */
static int line_out_start(void *arg, const struct outfax_job *job, struct outfax_result *res)
{
	struct line *l = arg;
	struct call_opts o;
	struct sipua_info info;
	struct sipua_call *sc;
	struct call *c;
	char uri[512], err[256];
	int i;

	for (i = 0; i < LINE_OUT_MAX && l->outs[i].call != NULL; i++)
		;
	memset(res, 0, sizeof(*res));
	res->t30_code = -1;
	if (i == LINE_OUT_MAX) {
		res->outcome = OUTFAX_FAILED;
		snprintf(res->error, sizeof(res->error), "no free channel for a call out");
		return -1;
	}
	line_out_uri(l->set.out_uri, job->number, uri, sizeof(uri));
	memset(&o, 0, sizeof(o));
	o.tx_tiff = job->tiff_path;
	o.ident = l->set.ident;
	o.ecm = l->set.ecm;
	o.calling = 1;
	o.no_train_ms = l->set.no_train_s * 1000;
	o.max_call_ms = l->set.max_call_s * 1000;
	o.done = line_out_done;
	o.arg = l;
	if ((c = call_new(&o, "")) == NULL ||
	    (sc = sipua_dial(l->ua, uri, NULL, 0, c, err, sizeof(err))) == NULL) {
		res->outcome = OUTFAX_FAILED;
		snprintf(res->error, sizeof(res->error), "%.150s", c ? err : "out of memory");
		call_free(c);
		return -1;
	}
	call_attach(c, sc);
	memset(&info, 0, sizeof(info));
	snprintf(info.did, sizeof(info.did), "%s", job->number);
	call_set_info(c, &info);
	l->outs[i].call = c;
	l->outs[i].job = *job;
	log_info("fax=%lld: dialling %s (attempt %d, %d pages), call=%s", (long long)job->id, uri,
		 job->attempt, job->pages, call_record(c)->id);
	return 0;
}

static void line_out_notified(void *arg, const char *channel, const char *payload)
{
	(void)channel, (void)payload;
	((struct line *)arg)->out_woken = 1;
}

/* every turn of the loop (100 ms): the queue on a NOTIFY, a freed channel
 * or the rescan timer */
static void line_out_turn(struct line *l)
{
	int64_t now = clock_mono_ms();

	if (l->out == NULL || db_ensure(l->outdb) < 0)
		return;
	if (db_notifications(l->outdb, line_out_notified, l) < 0) {
		db_disconnect(l->outdb);
		return;
	}
	if (!l->out_woken && now < l->out_next_ms)
		return;
	l->out_woken = 0;
	l->out_next_ms = now + LINE_OUT_RESCAN_MS;
	if (outfax_run(l->out) < 0)
		l->out_next_ms = now + 1000;
}

static int line_poll(void *arg)
{
	struct line *l = arg;

	line_out_turn(l);
	return l->stop(l->stop_arg);
}

static int line_mkdir(const char *path, char *err, size_t errlen);

/* the queue of replies by fax, when fax.out_uri says where to dial */
static int line_out_new(struct line *l, const struct config *cfg, char *err, size_t errlen)
{
	struct outfax_settings os;
	struct outfax_dialler d = { line_out_start, l };
	char *conninfo;

	if (l->set.out_uri[0] == '\0') {
		log_info("fax.out_uri is empty: replies by fax wait in the queue");
		return 0;
	}
	if (outfax_settings_load(cfg, &os, err, errlen) < 0 ||
	    line_mkdir(os.spool_dir, err, errlen) < 0)
		return -1;
	if (os.max_calls > LINE_OUT_MAX)
		os.max_calls = LINE_OUT_MAX;
	snprintf(os.instance, sizeof(os.instance), "ingest-fax/%ld", (long)getpid());
	conninfo = db_conninfo(cfg, config_str(cfg, "fax.db_user"));
	l->outdb = conninfo ? db_new(conninfo, "ingest-fax-out") : NULL;
	free(conninfo);
	if (l->outdb == NULL || (l->out = outfax_new(l->outdb, &os, &d)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	db_listen(l->outdb, "outbound_fax");
	return 0;
}

static int line_mkdir(const char *path, char *err, size_t errlen)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0750) < 0 && errno != EEXIST)
			break;
		*s = '/';
	}
	if (mkdir(p, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "fax.spool: could not create \"%s\": %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct line *line_new(const struct config *cfg, char *err, size_t errlen)
{
	struct line *l = calloc(1, sizeof(*l));
	struct store_opts so;
	struct sipua_opts uo;

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (settings_from_config(&l->set, cfg, err, errlen) < 0 ||
	    line_mkdir(l->set.spool, err, errlen) < 0)
		goto fail;
	so.spool = l->set.spool;
	so.line = l->set.line;
	if ((l->store = store_new(cfg, &so, err, errlen)) == NULL)
		goto fail;
	memset(&uo, 0, sizeof(uo));
	uo.listen = l->set.listen;
	uo.user = l->set.sip_user;
	uo.t38 = l->set.t38;
	uo.t38_max_datagram = l->set.t38_max_datagram;
	uo.rtp_port_min = l->set.rtp_port_min;
	uo.rtp_port_max = l->set.rtp_port_max;
	uo.register_uri = l->set.register_uri;
	uo.register_user = l->set.register_user;
	uo.register_password = l->set.register_password;
	uo.register_expires = l->set.register_expires;
	uo.incoming = line_incoming;
	uo.handlers = &call_handlers;
	uo.uarg = l;
	if ((l->ua = sipua_new(&uo, err, errlen)) == NULL ||
	    line_out_new(l, cfg, err, errlen) < 0)
		goto fail;
	return l;
fail:
	line_free(l);
	return NULL;
}

int line_run(struct line *l, int (*stop)(void *arg), void *arg)
{
	log_info("listening for SIP on %s (line %s, T.38 %s)", l->set.listen, l->set.line,
		 l->set.t38 == SIPUA_T38_OFF ? "off" : l->set.t38 == SIPUA_T38_OFFER ? "offer" : "accept");
	l->stop = stop;
	l->stop_arg = arg;
	return sipua_run(l->ua, line_poll, l);
}

void line_free(struct line *l)
{
	if (l == NULL)
		return;
	for (int i = 0; i < LINE_MAX_CALLS; i++)
		if (l->calls[i] != NULL)
			call_hangup(l->calls[i], "ingest-fax stopping");
	for (int i = 0; i < LINE_OUT_MAX; i++)
		if (l->outs[i].call != NULL)
			call_hangup(l->outs[i].call, "ingest-fax stopping");
	outfax_free(l->out);
	db_free(l->outdb);
	sipua_free(l->ua);
	store_free(l->store);
	free(l);
}
