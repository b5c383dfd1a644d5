/* cti_hook: the webhooks a PBX posts its call events to.
 *
 *   POST /cti/zammad/PBX/TOKEN   Zammad's generic CTI API unchanged: form
 *   POST /cti/zammad/PBX         fields (or JSON) event=newCall|answer|hangup,
 *                                callId, from, to, direction, user[], queue,
 *                                answeringNumber, cause; the token in the
 *                                URL as Zammad has it, or in X-CTI-Secret.
 *                                200 {} as Zammad answers.
 *   POST /cti/events/PBX         our JSON: {"event", "call_id", "event_id",
 *                                "at", "direction", "from", "to", "dnis",
 *                                "ivr", "queue", "extension", "user",
 *                                "cause", "target", "target_kind",
 *                                "recording"}; secret in X-CTI-Secret.
 *   GET  /cti/agents/PBX         the PBX's extensions and their operators'
 *                                state (idle, talking, hold, acw) with
 *                                "available": a PBX that cannot be paused
 *                                (a Zammad-style script) skips the others,
 *                                so nobody gets a call before saving the
 *                                case record of the last (2.1.4).
 *
 * Both are public routes (no session, no CSRF: a PBX is no browser) whose
 * gate is the PBX's shared secret (call_pbx), compared in constant time.
 * 401 without a secret, 403 for a wrong one or an unknown PBX (the same
 * answer, so names cannot be probed), 400 for a malformed or unknown event;
 * each refusal also logs "cti=PBX/CALLID: why". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "cti.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "pool.h"

#define CTI_FORM_FIELDS 64
#define CTI_FORM_VALUE 4096

static int cti_hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* percent-decode s[0..n) into out (at least n+1 bytes); -1 on a bad escape */
static int cti_unescape(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n || (hi = cti_hex((unsigned char)s[i + 1])) < 0 ||
			    (lo = cti_hex((unsigned char)s[i + 2])) < 0)
				return -1;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else
			out[o++] = s[i];
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* one "name=value" pair into doc */
static int cti_form_pair(json_t *doc, const char *p, size_t n)
{
	const char *eq = memchr(p, '=', n);
	size_t kn = eq ? (size_t)(eq - p) : n, vn = eq ? n - kn - 1 : 0, kl, vl;
	char key[128], val[CTI_FORM_VALUE + 1];
	json_t *v, *arr;

	if (kn == 0 || kn >= sizeof(key) || vn > CTI_FORM_VALUE)
		return -1;
	if (cti_unescape(p, kn, key, &kl) < 0 || cti_unescape(eq ? eq + 1 : p + n, vn, val, &vl) < 0)
		return -1;
	if ((v = json_stringn(val, vl)) == NULL)
		return -1; /* not UTF-8 */
	if (kl > 2 && strcmp(key + kl - 2, "[]") == 0) {
		arr = json_object_get(doc, key);
		if (arr == NULL) {
			arr = json_array();
			json_object_set_new(doc, key, arr);
		}
		return json_is_array(arr) ? json_array_append_new(arr, v) : (json_decref(v), -1);
	}
	return json_object_set_new(doc, key, v);
}

json_t *cti_form_decode(const char *body, size_t len)
{
	json_t *doc = json_object();
	size_t i = 0;
	int fields = 0;

	while (doc != NULL && i < len) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t n = amp ? (size_t)(amp - (body + i)) : len - i;

		if (n > 0 && (++fields > CTI_FORM_FIELDS || cti_form_pair(doc, body + i, n) < 0)) {
			json_decref(doc);
			doc = NULL;
		}
		i += n + 1;
	}
	return doc;
}

/* "/cti/zammad/PBX[/TOKEN]": pbx and token in the request pool */
static int cti_path(struct api_call *c, size_t prefix, const char **pbx, const char **token)
{
	const char *p = c->req->path + prefix, *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);

	*token = slash && slash[1] != '\0' ? pool_strdup(c->req->pool, slash + 1) : NULL;
	if (n == 0 || n > 64 || strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					 "0123456789_.-") < n)
		return -1;
	*pbx = pool_strndup(c->req->pool, p, n);
	return 0;
}

/* Every refusal and failure: the reply {"error": why} and one log line
 * "cti=PBX/CALLID: STATUS why".  Not api_error(), whose log line names the
 * path: Zammad's style puts the PBX's secret in it. */
static void cti_refuse(struct api_call *c, int status, const char *pbx, const char *call,
		       const char *why)
{
	json_t *doc = json_pack("{s:s}", "error", why);
	char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	if (status >= 500)
		log_error("cti=%s/%s: %d %s", pbx ? pbx : "?", call ? call : "-", status, why);
	else
		log_warn("cti=%s/%s: %d %s", pbx ? pbx : "?", call ? call : "-", status, why);
	json_decref(doc);
	if (s == NULL) {
		http_reply(c->req, status, "application/json; charset=utf-8", "{}", 2);
		return;
	}
	http_reply_owned(c->req, status, "application/json; charset=utf-8", s, strlen(s), free, s);
}

/* the shared secret: 0 when the request may go on (else answered) */
static int cti_gate(struct api_call *c, const char *pbx, const char *token)
{
	const char *given = token ? token : http_header(c->req, "X-CTI-Secret");
	int ok;

	if (given == NULL || given[0] == '\0') {
		cti_refuse(c, 401, pbx, NULL, "no PBX secret (X-CTI-Secret or the URL's token)");
		return -1;
	}
	ok = cti_secret_ok(c->db, pbx, given);
	if (ok < 0)
		cti_refuse(c, 503, pbx, NULL, "database unavailable");
	else if (ok == 0)
		cti_refuse(c, 403, pbx, NULL, "unknown PBX or wrong secret");
	return ok == 1 ? 0 : -1;
}

static const char *cti_str(const json_t *doc, const char *key)
{
	const json_t *v = json_object_get(doc, key);

	if (json_is_array(v))
		v = json_array_get(v, 0);
	if (json_is_integer(v) || json_is_real(v))
		return NULL; /* numbers are refused by cti_numbers_ok first */
	return json_string_value(v);
}

/* a PBX may send numbers as JSON numbers; we keep them as text */
static void cti_numbers_to_text(json_t *doc)
{
	const char *k;
	json_t *v;
	char tmp[32];

	json_object_foreach(doc, k, v) {
		if (json_is_integer(v)) {
			snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			json_object_set_new(doc, k, json_string(tmp));
		}
	}
}

/* the body as a JSON object: JSON, or form fields */
static json_t *cti_body(struct api_call *c)
{
	const char *ct = http_header(c->req, "Content-Type");
	json_t *doc;

	if (ct != NULL && strncasecmp(ct, "application/json", 16) == 0)
		doc = json_loadb(c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, NULL);
	else
		doc = cti_form_decode(c->req->body, c->req->body_len);
	if (doc != NULL && !json_is_object(doc)) {
		json_decref(doc);
		doc = NULL;
	}
	if (doc != NULL)
		cti_numbers_to_text(doc);
	return doc;
}

/* apply and answer; doc is the event as received */
static void cti_submit(struct api_call *c, struct cti_event *ev, json_t *doc, int zammad)
{
	struct cti_result res;
	const char *why = cti_event_check(ev);
	char *raw;

	if (why != NULL) {
		cti_refuse(c, 400, ev->pbx, ev->call_id, why);
		return;
	}
	raw = json_dumps(doc, JSON_COMPACT);
	ev->raw = raw;
	if (raw == NULL || cti_apply(c->db, ev, &res) < 0) {
		int bad = strncmp(db_sqlstate(c->db), "22", 2) == 0;

		free(raw);
		if (bad)
			cti_refuse(c, 400, ev->pbx, ev->call_id, "a value is malformed (at?)");
		else
			cti_refuse(c, 503, ev->pbx, ev->call_id, "database unavailable");
		return;
	}
	free(raw);
	if (res.duplicate)
		log_info("cti=%s/%s: %s again, ignored", ev->pbx, ev->call_id,
			 cti_kind_name(ev->kind));
	if (zammad)
		api_json(c, 200, json_object());
	else
		api_json(c, 200, json_pack("{s:I,s:s,s:o,s:b}", "call", (json_int_t)res.call, "state",
					   res.duplicate ? "" : res.state, "ticket",
					   res.ticket ? json_integer(res.ticket) : json_null(),
					   "duplicate", res.duplicate));
}

void cti_hook_zammad(struct api_call *c)
{
	const char *pbx, *token;
	struct cti_event ev = { .source = "zammad" };
	json_t *doc;
	int k;

	if (cti_path(c, strlen("/cti/zammad/"), &pbx, &token) < 0) {
		cti_refuse(c, 404, NULL, NULL, "no such PBX path");
		return;
	}
	if (cti_gate(c, pbx, token) < 0)
		return;
	if ((doc = cti_body(c)) == NULL) {
		cti_refuse(c, 400, pbx, NULL, "the body is neither form fields nor a JSON object");
		return;
	}
	ev.pbx = pbx;
	ev.call_id = cti_str(doc, "callId");
	k = cti_kind_parse(cti_str(doc, "event"));
	if (k != CTI_NEW && k != CTI_ANSWER && k != CTI_HANGUP)
		cti_refuse(c, 400, pbx, ev.call_id, "unknown event (newCall, answer or hangup)");
	else {
		ev.kind = (enum cti_kind)k;
		ev.from = cti_str(doc, "from");
		ev.to = cti_str(doc, "to");
		ev.direction = cti_str(doc, "direction");
		ev.user = cti_str(doc, "user[]") ? cti_str(doc, "user[]") : cti_str(doc, "user");
		ev.queue = cti_str(doc, "queue");
		ev.ext = cti_str(doc, "answeringNumber");
		ev.cause = cti_str(doc, "cause");
		cti_submit(c, &ev, doc, 1);
	}
	json_decref(doc);
}

void cti_hook_events(struct api_call *c)
{
	const char *pbx, *token;
	struct cti_event ev = { .source = "json" };
	json_t *doc;
	int k;

	if (cti_path(c, strlen("/cti/events/"), &pbx, &token) < 0 || token != NULL) {
		cti_refuse(c, 404, NULL, NULL, "no such PBX path");
		return;
	}
	if (cti_gate(c, pbx, NULL) < 0)
		return;
	doc = cti_body(c);
	if (doc == NULL) {
		cti_refuse(c, 400, pbx, NULL, "the body is not a JSON object");
		return;
	}
	ev.pbx = pbx;
	ev.call_id = cti_str(doc, "call_id") ? cti_str(doc, "call_id") : cti_str(doc, "callId");
	if ((k = cti_kind_parse(cti_str(doc, "event"))) < 0)
		cti_refuse(c, 400, pbx, ev.call_id, "unknown event");
	else {
		ev.kind = (enum cti_kind)k;
		ev.event_id = cti_str(doc, "event_id");
		ev.at = cti_str(doc, "at");
		ev.direction = cti_str(doc, "direction");
		ev.from = cti_str(doc, "from");
		ev.to = cti_str(doc, "to");
		ev.dnis = cti_str(doc, "dnis");
		ev.ivr = cti_str(doc, "ivr");
		ev.queue = cti_str(doc, "queue");
		ev.ext = cti_str(doc, "extension");
		ev.user = cti_str(doc, "user");
		ev.cause = cti_str(doc, "cause");
		ev.target = cti_str(doc, "target");
		ev.target_kind = cti_str(doc, "target_kind");
		ev.recording = cti_str(doc, "recording");
		cti_submit(c, &ev, doc, 0);
	}
	json_decref(doc);
}

void cti_hook_agents(struct api_call *c)
{
	const char *pbx, *token;
	const char *v[1];
	struct db_res *r;

	if (cti_path(c, strlen("/cti/agents/"), &pbx, &token) < 0 || token != NULL) {
		cti_refuse(c, 404, NULL, NULL, "no such PBX path");
		return;
	}
	if (cti_gate(c, pbx, NULL) < 0)
		return;
	v[0] = pbx;
	r = db_query(c->db, "cti_agents", 1, v, NULL, NULL, 0);
	if (r == NULL || db_res_rows(r) != 1) {
		db_res_free(r);
		cti_refuse(c, 503, pbx, NULL, "database unavailable");
		return;
	}
	api_json(c, 200, json_pack("{s:o}", "agents", api_col_json(r, 0, 0)));
	db_res_free(r);
}
