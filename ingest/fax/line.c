/* line: answering calls and handing finished ones to the store (line.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "call.h"
#include "config.h"
#include "line.h"
#include "log.h"
#include "settings.h"
#include "sipua.h"
#include "store.h"

#define LINE_MAX_CALLS 1000

struct line {
	struct settings set;
	struct sipua *ua;
	struct store *store;
	struct call *calls[LINE_MAX_CALLS];
	int ncalls;
	char tif[LINE_MAX_CALLS][512];
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
	if ((l->ua = sipua_new(&uo, err, errlen)) == NULL)
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
	return sipua_run(l->ua, stop, arg);
}

void line_free(struct line *l)
{
	if (l == NULL)
		return;
	for (int i = 0; i < LINE_MAX_CALLS; i++)
		if (l->calls[i] != NULL)
			call_hangup(l->calls[i], "ingest-fax stopping");
	sipua_free(l->ua);
	store_free(l->store);
	free(l);
}
