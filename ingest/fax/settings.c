/* settings: the key table and the checks across keys (see settings.h). */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "settings.h"

const struct config_key settings_keys[] = {
	{ "fax.listen", CFG_STR, "127.0.0.1:5070", 0, 0,
	  "UDP address (IP:port) ingest-fax takes SIP calls on from the gateway, PBX or "
	  "trunk; also the address its SDP offers for media, so not 0.0.0.0" },
	{ "fax.line_name", CFG_STR, "fax", 0, 0,
	  "name of this fax line: fax_call.line and inbound_item.source; with the SIP "
	  "Call-ID it makes intake exactly-once, so do not rename a line in use" },
	{ "fax.spool", CFG_PATH, "var/fax/spool", 0, 0,
	  "folder where pages are written while a call runs (<id>.tif) with the call's "
	  "record (<id>.json) until both are committed to the database" },
	{ "fax.ident", CFG_STR, "", 0, 0,
	  "our fax identity (CSI) sent to callers, at most 20 characters (digits, +, space)" },
	{ "fax.ecm", CFG_BOOL, "true", 0, 0,
	  "accept error correction mode (ECM); pages survive noisy lines with it" },
	{ "fax.t38", CFG_STR, "accept", 0, 0,
	  "T.38: off (G.711 audio only), accept (take a re-INVITE to image/t38) or offer "
	  "(also send one after answering)" },
	{ "fax.t38_max_datagram", CFG_INT, "400", 100, 1400,
	  "T38FaxMaxDatagram announced in SDP: the largest UDPTL datagram we take" },
	{ "fax.no_train_timeout", CFG_INT, "40", 5, 600,
	  "seconds after answering within which a fax machine must train (DCS); else the "
	  "call ends as no_fax (a voice caller, a wrong number)" },
	{ "fax.max_call_seconds", CFG_INT, "1800", 30, 86400,
	  "a call is hung up after this many seconds whatever happens; the pages received "
	  "so far are kept" },
	{ "fax.max_calls", CFG_INT, "32", 1, 1000,
	  "calls at once; more are refused with 486 Busy Here" },
	{ "fax.sip_user", CFG_STR, "fax", 0, 0, "our user part in SIP Contact and From" },
	{ "fax.rtp_port_min", CFG_INT, "16384", 1024, 65535, "lowest UDP port for RTP" },
	{ "fax.rtp_port_max", CFG_INT, "32767", 1024, 65535, "highest UDP port for RTP" },
	{ "fax.register_uri", CFG_STR, "", 0, 0,
	  "registrar to REGISTER with (sip:host:port); empty: no registration (the gateway "
	  "or PBX sends calls to fax.listen)" },
	{ "fax.register_user", CFG_STR, "", 0, 0,
	  "user of the registration: the AOR is sip:<user>@<registrar host>; also the digest "
	  "user name" },
	{ "fax.register_password", CFG_STR, "", 0, 0, "digest password for the registration" },
	{ "fax.register_expires", CFG_INT, "600", 60, 86400,
	  "seconds a registration is asked to last; renewed before it runs out" },
	{ "fax.out_uri", CFG_STR, "", 0, 0,
	  "replies by fax: the SIP URI dialled, %s standing for the number's digits (for example "
	  "sip:%s@gateway.example.lg.jp:5060); empty: replies by fax wait in the queue" },
	{ "fax.db_user", CFG_STR, "madoguchi_fax", 0, 0,
	  "PostgreSQL role ingest-fax logs in as (it may only insert fax calls, their "
	  "inbound items and pages)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static int settings_t38(const char *v, enum sipua_t38 *out)
{
	if (strcmp(v, "off") == 0)
		*out = SIPUA_T38_OFF;
	else if (strcmp(v, "accept") == 0)
		*out = SIPUA_T38_ACCEPT;
	else if (strcmp(v, "offer") == 0)
		*out = SIPUA_T38_OFFER;
	else
		return -1;
	return 0;
}

int settings_from_config(struct settings *s, const struct config *cfg, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->listen = config_str(cfg, "fax.listen");
	s->line = config_str(cfg, "fax.line_name");
	s->spool = config_path(cfg, "fax.spool");
	s->ident = config_str(cfg, "fax.ident");
	s->sip_user = config_str(cfg, "fax.sip_user");
	s->ecm = config_bool(cfg, "fax.ecm");
	s->t38_max_datagram = (int)config_int(cfg, "fax.t38_max_datagram");
	s->no_train_s = (int)config_int(cfg, "fax.no_train_timeout");
	s->max_call_s = (int)config_int(cfg, "fax.max_call_seconds");
	s->max_calls = (int)config_int(cfg, "fax.max_calls");
	s->rtp_port_min = (int)config_int(cfg, "fax.rtp_port_min");
	s->rtp_port_max = (int)config_int(cfg, "fax.rtp_port_max");
	s->register_uri = config_str(cfg, "fax.register_uri");
	s->register_user = config_str(cfg, "fax.register_user");
	s->register_password = config_str(cfg, "fax.register_password");
	s->out_uri = config_str(cfg, "fax.out_uri");
	if (s->out_uri[0] != '\0' && (strstr(s->out_uri, "%s") == NULL ||
				    strchr(strstr(s->out_uri, "%s") + 2, '%') != NULL ||
				    strchr(s->out_uri, '%') != strstr(s->out_uri, "%s"))) {
		snprintf(err, errlen, "fax.out_uri: \"%s\" must hold %%s (the number) once and no other %%",
			 s->out_uri);
		return -1;
	}
	s->register_expires = (int)config_int(cfg, "fax.register_expires");
	if (settings_t38(config_str(cfg, "fax.t38"), &s->t38) < 0) {
		snprintf(err, errlen, "fax.t38: expected off, accept or offer");
		return -1;
	}
	if (s->line[0] == '\0' || s->sip_user[0] == '\0') {
		snprintf(err, errlen, "fax.line_name and fax.sip_user may not be empty");
		return -1;
	}
	if (strlen(s->ident) > 20) {
		snprintf(err, errlen, "fax.ident: at most 20 characters");
		return -1;
	}
	if (s->rtp_port_max < s->rtp_port_min + 10) {
		snprintf(err, errlen, "fax.rtp_port_max must be at least fax.rtp_port_min + 10");
		return -1;
	}
	if (s->register_uri[0] != '\0' && s->register_user[0] == '\0') {
		snprintf(err, errlen, "fax.register_uri needs fax.register_user");
		return -1;
	}
	return 0;
}
