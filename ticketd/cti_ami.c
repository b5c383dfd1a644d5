/* cti_ami: the AMI client; the design is in cti_ami.h.
 *
 * AMI is line-based text over TCP: after the one-line banner
 * ("Asterisk Call Manager/x.y.z\r\n") every message is "Key: Value\r\n"
 * lines ended by an empty line.  Actions carry an ActionID that their
 * Response repeats.  What we read is bounded: a message longer than
 * CTI_AMI_MSG_MAX bytes drops the connection (a real PBX never sends one). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "clock.h"
#include "cti.h"
#include "cti_ami.h"
#include "db.h"
#include "log.h"

#define CTI_AMI_MSG_MAX 65536
#define CTI_AMI_FIELDS 96
#define CTI_AMI_BACKOFF_MIN 1000
#define CTI_AMI_BACKOFF_MAX 30000
#define CTI_AMI_BATCH 64 /* events of one read stored in one transaction */

const struct config_key cti_ami_config_keys[] = {
	{ "ticketd.cti_ami_host", CFG_STR, "", 0, 0,
	  "Asterisk Manager Interface host for call events (empty: no AMI client)" },
	{ "ticketd.cti_ami_port", CFG_INT, "5038", 1, 65535, "AMI TCP port" },
	{ "ticketd.cti_ami_user", CFG_STR, "", 0, 0, "AMI log-in (manager.conf user)" },
	{ "ticketd.cti_ami_secret", CFG_STR, "", 0, 0, "AMI password" },
	{ "ticketd.cti_ami_pbx", CFG_STR, "asterisk", 0, 0,
	  "the call_pbx name (sql/027) the AMI's calls are stored under" },
	{ "ticketd.cti_ami_ivr_var", CFG_STR, "IVR_CHOICE", 0, 0,
	  "dialplan variable holding the caller's IVR menu choice (VarSet events)" },
	{ "ticketd.cti_ami_queue", CFG_STR, "", 0, 0,
	  "queue paused for after-call work (empty: the member in every queue)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

enum cti_ami_state { AMI_OFF, AMI_WAIT, AMI_CONNECTING, AMI_BANNER, AMI_LOGIN, AMI_UP };

/* an event waiting for the batch of its read (cti_apply_batch) */
struct cti_ami_pending {
	char *copy; /* the message text the fields point into */
	char *raw; /* the message as JSON */
	char id[48], iso[40];
};

struct cti_ami {
	struct db *db;
	char host[256], user[128], secret[128], pbx[65], ivr_var[80], queue[128];
	int port;
	enum cti_ami_state st;
	int fd;
	int64_t next_try, backoff;
	struct buf in, out;
	unsigned long seq; /* ActionIDs and local event ids */
	struct cti_ami_pending pend[CTI_AMI_BATCH];
	struct cti_event evs[CTI_AMI_BATCH];
	int npend;
};

/* one message: fields point into its own copy */
struct cti_ami_msg {
	int n;
	const char *key[CTI_AMI_FIELDS], *val[CTI_AMI_FIELDS];
};

static const struct db_stmt cti_ami_stmts[] = {
	/* the pause every mapped member should have now: after a log-in */
	{ "cti_ami_sync",
	  "SELECT e.interface, EXISTS (SELECT 1 FROM call c WHERE c.pbx = e.pbx AND c.user_id = e.user_id"
	  "  AND c.state IN ('talking', 'hold', 'acw'))"
	  " FROM call_extension e WHERE e.pbx = $1 AND e.interface <> '' ORDER BY e.id" },
	/* a channel placed by an operator's own phone (a consult or outgoing call) */
	{ "cti_ami_is_ext", "SELECT 1 FROM call_extension WHERE pbx = $1 AND extension = $2" },
	{ NULL, NULL },
};

static void cti_ami_copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static void cti_ami_read_config(struct cti_ami *a, const struct config *cfg)
{
	cti_ami_copy(a->host, sizeof(a->host), config_str(cfg, "ticketd.cti_ami_host"));
	cti_ami_copy(a->user, sizeof(a->user), config_str(cfg, "ticketd.cti_ami_user"));
	cti_ami_copy(a->secret, sizeof(a->secret), config_str(cfg, "ticketd.cti_ami_secret"));
	cti_ami_copy(a->pbx, sizeof(a->pbx), config_str(cfg, "ticketd.cti_ami_pbx"));
	cti_ami_copy(a->ivr_var, sizeof(a->ivr_var), config_str(cfg, "ticketd.cti_ami_ivr_var"));
	cti_ami_copy(a->queue, sizeof(a->queue), config_str(cfg, "ticketd.cti_ami_queue"));
	a->port = (int)config_int(cfg, "ticketd.cti_ami_port");
}

struct cti_ami *cti_ami_new(struct db *db, const struct config *cfg)
{
	struct cti_ami *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->db = db;
	a->fd = -1;
	buf_init(&a->in, CTI_AMI_MSG_MAX * 4);
	buf_init(&a->out, 1 << 20);
	db_prepare_all(db, cti_ami_stmts);
	cti_ami_read_config(a, cfg);
	a->st = a->host[0] ? AMI_WAIT : AMI_OFF;
	a->backoff = CTI_AMI_BACKOFF_MIN;
	return a;
}

static void cti_ami_flush(struct cti_ami *a);

static void cti_ami_close(struct cti_ami *a, const char *why)
{
	cti_ami_flush(a); /* events read before the end are stored */
	if (a->fd >= 0) {
		close(a->fd);
		log_warn("ami=%s: connection to %s:%d closed (%s); again in %lld ms", a->pbx, a->host,
			 a->port, why, (long long)a->backoff);
	}
	a->fd = -1;
	buf_reset(&a->in);
	buf_reset(&a->out);
	if (a->st == AMI_OFF)
		return;
	a->st = AMI_WAIT;
	a->next_try = clock_mono_ms() + a->backoff;
	a->backoff = a->backoff * 2 > CTI_AMI_BACKOFF_MAX ? CTI_AMI_BACKOFF_MAX : a->backoff * 2;
}

void cti_ami_free(struct cti_ami *a)
{
	if (a == NULL)
		return;
	cti_ami_flush(a);
	if (a->fd >= 0)
		close(a->fd);
	buf_free(&a->in);
	buf_free(&a->out);
	free(a);
}

void cti_ami_configure(struct cti_ami *a, const struct config *cfg)
{
	char host[256], user[128], secret[128];
	int port = a->port;

	memcpy(host, a->host, sizeof(host));
	memcpy(user, a->user, sizeof(user));
	memcpy(secret, a->secret, sizeof(secret));
	cti_ami_read_config(a, cfg);
	if (strcmp(host, a->host) == 0 && strcmp(user, a->user) == 0 &&
	    strcmp(secret, a->secret) == 0 && port == a->port)
		return;
	a->backoff = CTI_AMI_BACKOFF_MIN;
	cti_ami_close(a, "configuration changed");
	a->st = a->host[0] ? AMI_WAIT : AMI_OFF;
	a->next_try = 0;
}

int cti_ami_fd(const struct cti_ami *a)
{
	return a->fd;
}

short cti_ami_poll_events(const struct cti_ami *a)
{
	return (short)(a->st == AMI_CONNECTING || a->out.len > 0 ? POLLIN | POLLOUT : POLLIN);
}

int cti_ami_timeout_ms(const struct cti_ami *a)
{
	int64_t left;

	if (a->st != AMI_WAIT)
		return -1;
	left = a->next_try - clock_mono_ms();
	return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* start a non-blocking connect */
static void cti_ami_connect(struct cti_ami *a)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	char port[8];
	int fd = -1, rc;

	snprintf(port, sizeof(port), "%d", a->port);
	a->st = AMI_CONNECTING;
	if ((rc = getaddrinfo(a->host, port, &hints, &res)) != 0) {
		log_warn("ami=%s: %s: %s", a->pbx, a->host, gai_strerror(rc));
		cti_ami_close(a, "no address");
		return;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS)) {
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		cti_ami_close(a, strerror(errno));
		return;
	}
	freeaddrinfo(res);
	a->fd = fd;
}

/* queue one action; fields are "Key", "Value" pairs ending with NULL */
static void cti_ami_action(struct cti_ami *a, const char *action, const char *id, ...)
{
	va_list ap;
	const char *k;

	buf_printf(&a->out, "Action: %s\r\nActionID: %s\r\n", action, id);
	va_start(ap, id);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);

		/* a CR or LF in a value would start a new field: never sent */
		if (strpbrk(v, "\r\n") == NULL)
			buf_printf(&a->out, "%s: %s\r\n", k, v);
	}
	va_end(ap);
	buf_append_str(&a->out, "\r\n");
}

static void cti_ami_pause(struct cti_ami *a, const char *iface, int paused)
{
	char id[32];

	snprintf(id, sizeof(id), "mdg-pause-%lu", ++a->seq);
	if (a->queue[0])
		cti_ami_action(a, "QueuePause", id, "Interface", iface, "Paused",
			       paused ? "true" : "false", "Queue", a->queue, "Reason",
			       "ACW", (const char *)NULL);
	else
		cti_ami_action(a, "QueuePause", id, "Interface", iface, "Paused",
			       paused ? "true" : "false", "Reason", "ACW", (const char *)NULL);
	log_info("ami=%s: %s %s for after-call work", a->pbx, paused ? "pause" : "unpause", iface);
}

/* after a log-in: every mapped member paused or not as PostgreSQL says */
static void cti_ami_sync(struct cti_ami *a)
{
	const char *v[1] = { a->pbx };
	struct db_res *r = db_query(a->db, "cti_ami_sync", 1, v, NULL, NULL, 0);

	for (int i = 0; r != NULL && i < db_res_rows(r); i++)
		cti_ami_pause(a, db_res_val(r, i, 0), db_res_val(r, i, 1)[0] == 't');
	db_res_free(r);
}

void cti_ami_acw(struct cti_ami *a, const char *payload)
{
	json_t *doc = json_loads(payload, 0, NULL);
	const char *pbx = json_string_value(json_object_get(doc, "pbx"));
	const char *iface = json_string_value(json_object_get(doc, "interface"));
	const json_t *p = json_object_get(doc, "paused");

	/* called while notifications are read: no query here, the payload
	 * names the member; not connected: the sync after the log-in sets it */
	if (a->st == AMI_UP && pbx != NULL && strcmp(pbx, a->pbx) == 0 && iface != NULL &&
	    iface[0] != '\0' && json_is_boolean(p))
		cti_ami_pause(a, iface, json_is_true(p));
	json_decref(doc);
}

static const char *cti_ami_get(const struct cti_ami_msg *m, const char *key)
{
	for (int i = 0; i < m->n; i++)
		if (strcasecmp(m->key[i], key) == 0)
			return m->val[i];
	return NULL;
}

/* split a message (NUL-terminated, lines by CRLF or LF) into fields */
static void cti_ami_split(char *s, struct cti_ami_msg *m)
{
	m->n = 0;
	while (*s != '\0' && m->n < CTI_AMI_FIELDS) {
		char *eol = strpbrk(s, "\r\n"), *colon;

		if (eol != NULL)
			*eol = '\0';
		colon = strchr(s, ':');
		if (colon != NULL) {
			*colon = '\0';
			m->key[m->n] = s;
			m->val[m->n++] = colon[1] == ' ' ? colon + 2 : colon + 1;
		}
		if (eol == NULL)
			break;
		s = eol + 1;
		while (*s == '\r' || *s == '\n')
			s++;
	}
}

static char *cti_ami_raw(const struct cti_ami_msg *m)
{
	json_t *o = json_object();
	char *s;

	for (int i = 0; i < m->n; i++) {
		json_t *v = json_string(m->val[i]);

		if (v != NULL)
			json_object_set_new(o, m->key[i], v);
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* the agent's extension: the channel's caller id number, else the
 * interface's resource ("PJSIP/101" -> "101") */
static const char *cti_ami_agent(const struct cti_ami_msg *m, const char *num, const char *iface)
{
	const char *n = cti_ami_get(m, num), *i = cti_ami_get(m, iface);

	if (n != NULL && n[0] != '\0' && strcmp(n, "<unknown>") != 0)
		return n;
	return i && strchr(i, '/') ? strchr(i, '/') + 1 : i;
}

/* 1 when the channel's caller is one of the PBX's operator extensions:
 * its Newchannel and Hangup are no inbound call (outbound calls from AMI
 * are not recorded) */
static int cti_ami_from_agent(struct cti_ami *a, const struct cti_ami_msg *m)
{
	const char *v[2] = { a->pbx, cti_ami_get(m, "CallerIDNum") };
	struct db_res *r;
	int yes;

	if (v[1] == NULL)
		return 0;
	r = db_query(a->db, "cti_ami_is_ext", 2, v, NULL, NULL, 0);
	yes = r != NULL && db_res_rows(r) > 0;
	db_res_free(r);
	return yes;
}

/* a completed blind or attended transfer: 1, or 0 when it failed */
static int cti_ami_transfer(const struct cti_ami_msg *m, int blind, struct cti_event *ev)
{
	const char *r = cti_ami_get(m, "Result");

	if (r != NULL && strcmp(r, "Success") != 0)
		return 0;
	ev->kind = CTI_TRANSFER;
	ev->call_id = cti_ami_get(m, blind ? "TransfererLinkedid" : "OrigTransfererLinkedid");
	ev->target = cti_ami_get(m, blind ? "Extension" : "SecondTransfererExten");
	/* an outside number is dialled with its area code: long */
	ev->target_kind = ev->target && strlen(ev->target) >= 7 ? "external" : "department";
	return ev->call_id != NULL;
}

/* the call event an AMI event stands for; 0 when it stands for none */
static int cti_ami_map(struct cti_ami *a, const struct cti_ami_msg *m, struct cti_event *ev)
{
	const char *name = cti_ami_get(m, "Event"), *uid = cti_ami_get(m, "Uniqueid");
	const char *lid = cti_ami_get(m, "Linkedid");
	int caller = uid != NULL && lid != NULL && strcmp(uid, lid) == 0;

	ev->call_id = lid;
	if ((strcmp(name, "Newchannel") == 0 || strcmp(name, "Hangup") == 0) && caller &&
	    cti_ami_from_agent(a, m))
		return 0;
	if (strcmp(name, "Newchannel") == 0 && caller) {
		ev->kind = CTI_NEW;
		ev->from = cti_ami_get(m, "CallerIDNum");
		ev->dnis = cti_ami_get(m, "Exten");
		ev->direction = "in";
	} else if (strcmp(name, "VarSet") == 0) {
		const char *var = cti_ami_get(m, "Variable");

		if (var == NULL || strcmp(var, a->ivr_var) != 0)
			return 0;
		ev->kind = CTI_IVR;
		ev->ivr = cti_ami_get(m, "Value");
	} else if (strcmp(name, "QueueCallerJoin") == 0) {
		ev->kind = CTI_QUEUE;
		ev->queue = cti_ami_get(m, "Queue");
	} else if (strcmp(name, "QueueCallerAbandon") == 0)
		ev->kind = CTI_ABANDON;
	else if (strcmp(name, "AgentConnect") == 0) {
		ev->kind = CTI_ANSWER;
		ev->ext = cti_ami_agent(m, "DestCallerIDNum", "Interface");
		ev->user = cti_ami_get(m, "MemberName");
	} else if (strcmp(name, "BridgeEnter") == 0 && !caller && lid != NULL) {
		ev->kind = CTI_ANSWER;
		ev->ext = cti_ami_agent(m, "CallerIDNum", "Channel");
	} else if (strcmp(name, "Hold") == 0 || strcmp(name, "Unhold") == 0)
		ev->kind = name[0] == 'H' ? CTI_HOLD : CTI_UNHOLD;
	else if (strcmp(name, "BlindTransfer") == 0 || strcmp(name, "AttendedTransfer") == 0)
		return cti_ami_transfer(m, name[0] == 'B', ev);
	else if (strcmp(name, "Hangup") == 0 && caller) {
		ev->kind = CTI_HANGUP;
		ev->cause = cti_ami_get(m, "Cause-txt");
	} else
		return 0;
	return ev->call_id != NULL;
}

/* store the events waiting: in one transaction, else one by one */
static void cti_ami_flush(struct cti_ami *a)
{
	struct cti_result res;

	if (a->npend > 0 && cti_apply_batch(a->db, a->evs, a->npend) < 0) {
		for (int i = 0; i < a->npend; i++)
			if (cti_apply(a->db, &a->evs[i], &res) < 0)
				log_error("cti=%s/%s: AMI event not stored", a->pbx, a->evs[i].call_id);
	}
	for (int i = 0; i < a->npend; i++) {
		free(a->pend[i].copy);
		free(a->pend[i].raw);
	}
	a->npend = 0;
}

/* the event time (Timestamp, with timestampevents=yes) and the id that
 * tells repeated kinds apart */
static void cti_ami_times(struct cti_ami *a, const struct cti_ami_msg *m, struct cti_event *ev,
			  struct cti_ami_pending *p)
{
	const char *ts = cti_ami_get(m, "Timestamp");

	if (ts != NULL) {
		char *end;
		double t = strtod(ts, &end);

		if (end != ts && *end == '\0' && t > 0 && t < 1e11)
			ev->at = clock_format_iso((int64_t)(t * 1e6), p->iso, sizeof(p->iso));
		snprintf(p->id, sizeof(p->id), "%s", ts);
	} else
		snprintf(p->id, sizeof(p->id), "ami-%lu", ++a->seq);
	if (ev->kind == CTI_HOLD || ev->kind == CTI_UNHOLD || ev->kind == CTI_TRANSFER)
		ev->event_id = p->id;
}

/* an event into the batch; copy is the message text m points into (taken) */
static void cti_ami_event(struct cti_ami *a, const struct cti_ami_msg *m, char *copy)
{
	struct cti_ami_pending *p = &a->pend[a->npend];
	struct cti_event *ev = &a->evs[a->npend];

	*ev = (struct cti_event){ .pbx = a->pbx, .source = "ami" };
	if (!cti_ami_map(a, m, ev)) {
		free(copy);
		return;
	}
	cti_ami_times(a, m, ev, p);
	if (cti_event_check(ev) != NULL) {
		log_warn("cti=%s/%s: AMI %s refused: %s", a->pbx, ev->call_id, cti_ami_get(m, "Event"),
			 cti_event_check(ev));
		free(copy);
		return;
	}
	p->copy = copy;
	p->raw = cti_ami_raw(m);
	ev->raw = p->raw;
	if (p->raw == NULL) {
		free(copy);
		return;
	}
	if (++a->npend == CTI_AMI_BATCH)
		cti_ami_flush(a);
}

static void cti_ami_response(struct cti_ami *a, const struct cti_ami_msg *m)
{
	const char *id = cti_ami_get(m, "ActionID"), *resp = cti_ami_get(m, "Response");
	const char *msg = cti_ami_get(m, "Message");
	int ok = resp != NULL && strcasecmp(resp, "Success") == 0;

	if (id != NULL && strcmp(id, "mdg-login") == 0) {
		if (!ok) {
			log_error("ami=%s: log-in refused: %s", a->pbx, msg ? msg : "?");
			a->backoff = CTI_AMI_BACKOFF_MAX;
			cti_ami_close(a, "log-in refused");
			return;
		}
		a->st = AMI_UP;
		a->backoff = CTI_AMI_BACKOFF_MIN;
		log_info("ami=%s: logged in to %s:%d", a->pbx, a->host, a->port);
		cti_ami_sync(a);
	} else if (!ok)
		log_warn("ami=%s: action %s failed: %s", a->pbx, id ? id : "?", msg ? msg : "?");
}

/* one complete message (a NUL-terminated copy, taken) */
static void cti_ami_message(struct cti_ami *a, char *s)
{
	struct cti_ami_msg m;

	cti_ami_split(s, &m);
	if (cti_ami_get(&m, "Response") != NULL) {
		cti_ami_flush(a); /* in order: a log-in's sync after the events before it */
		cti_ami_response(a, &m);
		free(s);
	} else if (a->st == AMI_UP && cti_ami_get(&m, "Event") != NULL)
		cti_ami_event(a, &m, s);
	else
		free(s);
}

/* the end of the first message in b: the offset after its blank line, or 0 */
static size_t cti_ami_boundary(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] == '\n' && s[i + 1] == '\n')
			return i + 2;
		if (i + 3 < len && s[i] == '\r' && s[i + 1] == '\n' && s[i + 2] == '\r' && s[i + 3] == '\n')
			return i + 4;
	}
	return 0;
}

static void cti_ami_consume(struct cti_ami *a, size_t n)
{
	memmove(a->in.data, a->in.data + n, a->in.len - n);
	a->in.len -= n;
	a->in.data[a->in.len] = '\0';
}

/* the banner line: then the log-in */
static int cti_ami_banner(struct cti_ami *a)
{
	char *eol = memchr(a->in.data, '\n', a->in.len);

	if (eol == NULL)
		return a->in.len > 256 ? -1 : 0;
	if (strncmp(a->in.data, "Asterisk Call Manager/", 22) != 0)
		return -1;
	log_info("ami=%s: %.*s", a->pbx, (int)(eol - a->in.data) - (eol[-1] == '\r'), a->in.data);
	cti_ami_consume(a, (size_t)(eol - a->in.data) + 1);
	cti_ami_action(a, "Login", "mdg-login", "Username", a->user, "Secret", a->secret, "Events",
		       "on", (const char *)NULL);
	a->st = AMI_LOGIN;
	return 1;
}

static int cti_ami_parse(struct cti_ami *a)
{
	size_t n;

	if (a->st == AMI_BANNER) {
		int r = cti_ami_banner(a);

		if (r <= 0)
			return r;
	}
	while (a->fd >= 0 && (n = cti_ami_boundary(a->in.data, a->in.len)) > 0) {
		char *copy = strndup(a->in.data, n);

		cti_ami_consume(a, n);
		if (copy == NULL)
			return -1;
		cti_ami_message(a, copy);
	}
	cti_ami_flush(a); /* what one read brought: one transaction */
	return a->in.len > CTI_AMI_MSG_MAX ? -1 : 0;
}

static void cti_ami_io(struct cti_ami *a)
{
	char tmp[16384];
	ssize_t n;

	while (a->fd >= 0 && a->out.len > 0) {
		n = send(a->fd, a->out.data, a->out.len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				cti_ami_close(a, strerror(errno));
			break;
		}
		memmove(a->out.data, a->out.data + n, a->out.len - (size_t)n);
		a->out.len -= (size_t)n;
	}
	while (a->fd >= 0 && (n = recv(a->fd, tmp, sizeof(tmp), MSG_DONTWAIT)) != 0) {
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				cti_ami_close(a, strerror(errno));
			return;
		}
		if (buf_append(&a->in, tmp, (size_t)n) < 0 || cti_ami_parse(a) < 0) {
			cti_ami_close(a, "protocol error");
			return;
		}
	}
	if (a->fd >= 0)
		cti_ami_close(a, "closed by the PBX");
}

void cti_ami_run(struct cti_ami *a)
{
	if (a->st == AMI_OFF)
		return;
	if (a->st == AMI_WAIT) {
		if (clock_mono_ms() < a->next_try)
			return;
		cti_ami_connect(a);
	}
	if (a->st == AMI_CONNECTING && a->fd >= 0) {
		struct pollfd p = { a->fd, POLLOUT, 0 };
		int err = 0;
		socklen_t len = sizeof(err);

		if (poll(&p, 1, 0) <= 0)
			return;
		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
			cti_ami_close(a, strerror(err ? err : errno));
			return;
		}
		a->st = AMI_BANNER;
	}
	if (a->fd >= 0)
		cti_ami_io(a);
	if (a->fd >= 0 && a->out.len > 0)
		cti_ami_io(a); /* the log-in or pauses queued while reading */
}
