/* The reply templates over HTTP and the proposed reply (reply.h):
 * GET /api/templates[/NAME], PUT /api/admin/templates/NAME and
 * POST /api/tickets/ID/reply/render.  The files are templates.c's. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "reply.h"
#include "reply_draft.h"
#include "reply_int.h"
#include "templates.h"
#include "upload.h"

#define REPLY_TITLE_MAX 200
#define REPLY_TEMPLATE_BODY_MAX 60000

/* the NAME at the end of the request path after prefix */
static const char *reply_tpl_name(struct api_call *c, const char *prefix)
{
	const char *name = c->req->path + strlen(prefix);

	return templates_name_ok(name) ? name : NULL;
}

static json_t *reply_tpl_summary(const struct templates_doc *d)
{
	return json_pack("{s:s, s:s, s:s, s:b}", "name", d->name, "title", d->title, "subject",
			 d->subject, "approval_required", d->approval);
}

void reply_templates_list(struct api_call *c)
{
	struct templates_doc *docs;
	size_t n, skipped;
	const char *err;
	json_t *list;

	if (templates_list(c->req->pool, reply_conf.templates_dir, &docs, &n, &skipped, &err) < 0) {
		/* api_error logs the line, with the request's id */
		api_error(c, 500, pool_printf(c->req->pool, "ticketd.reply_templates: %s", err));
		return;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, reply_tpl_summary(&docs[i]));
	api_json(c, 200, json_pack("{s:o, s:I}", "templates", list, "skipped", (json_int_t)skipped));
}

/* the variables text uses that are unknown (checked without values) */
static json_t *reply_tpl_unknown(struct pool *p, const char *text, const char **err)
{
	struct templates_var vars[16];
	const char **unk;
	size_t nv = 0, nu = 0;
	json_t *a = json_array();

	for (; templates_vars[nv] != NULL && nv < 16; nv++) {
		vars[nv].name = templates_vars[nv];
		vars[nv].value = NULL;
	}
	*err = NULL;
	if (templates_fill(p, text, vars, nv, &unk, &nu, err) == NULL && nu > 0)
		*err = NULL; /* unknown names are reported in the array, not as an error */
	for (size_t i = 0; i < nu; i++)
		json_array_append_new(a, json_string(unk[i]));
	return a;
}

/* 1 loaded, 0 after answering 404/500 */
static int reply_tpl_load(struct api_call *c, const char *name, struct templates_doc *d)
{
	const char *err = NULL;
	int r = name ? templates_load(c->req->pool, reply_conf.templates_dir, name, d, &err) : 0;

	if (r < 0) {
		api_error(c, 500, pool_printf(c->req->pool, "template \"%s\": %s", name, err));
	} else if (r == 0)
		api_error(c, 404, "no such template");
	return r > 0;
}

static json_t *reply_tpl_doc(struct api_call *c, const struct templates_doc *d)
{
	const char *e1, *e2;
	json_t *doc = reply_tpl_summary(d);
	json_t *unk = reply_tpl_unknown(c->req->pool, d->subject, &e1);
	json_t *unk2 = reply_tpl_unknown(c->req->pool, d->body, &e2);
	json_t *vars = json_array();

	json_array_extend(unk, unk2);
	json_decref(unk2);
	for (size_t i = 0; templates_vars[i] != NULL; i++)
		json_array_append_new(vars, json_string(templates_vars[i]));
	json_object_set_new(doc, "body", json_string(d->body));
	json_object_set_new(doc, "variables", vars);
	json_object_set_new(doc, "unknown_variables", unk);
	json_object_set_new(doc, "syntax_error", e1 || e2 ? json_string(e1 ? e1 : e2) : json_null());
	return doc;
}

void reply_template_get(struct api_call *c)
{
	struct templates_doc d;

	if (reply_tpl_load(c, reply_tpl_name(c, "/api/templates/"), &d))
		api_json(c, 200, reply_tpl_doc(c, &d));
}

/* a one-line text field of the PUT body; NULL after answering 400 */
static const char *reply_tpl_field(struct api_call *c, json_t *body, const char *key, size_t max,
				   int multiline)
{
	json_t *v = json_object_get(body, key);
	const char *s = json_string_value(v);

	if (s != NULL && json_string_length(v) <= max && strlen(s) == json_string_length(v)) {
		for (const char *p = s; *p != '\0'; p++)
			if (((unsigned char)*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t'))) ||
			    *p == 0x7f)
				s = NULL;
		if (s != NULL)
			return pool_strdup(c->req->pool, s);
	}
	api_error(c, 400, pool_printf(c->req->pool, "%s: must be a string of at most %zu bytes%s",
				      key, max, multiline ? "" : " on one line"));
	return NULL;
}

/* 0 when the template's variables are all known; else answered 400 */
static int reply_tpl_check(struct api_call *c, const struct templates_doc *d)
{
	const char *e1, *e2;
	json_t *unk = reply_tpl_unknown(c->req->pool, d->subject, &e1);
	json_t *unk2 = reply_tpl_unknown(c->req->pool, d->body, &e2);

	json_array_extend(unk, unk2);
	json_decref(unk2);
	if (json_array_size(unk) == 0 && e1 == NULL && e2 == NULL) {
		json_decref(unk);
		return 0;
	}
	api_json(c, 400, json_pack("{s:s, s:o}", "error",
				   e1 || e2 ? (e1 ? e1 : e2) : "unknown variable in the template",
				   "unknown_variables", unk));
	return -1;
}

void reply_template_put(struct api_call *c)
{
	struct templates_doc d = { reply_tpl_name(c, "/api/admin/templates/"), NULL, NULL, NULL, 0 };
	const char *err;
	json_t *body, *ap;

	if (d.name == NULL) {
		api_error(c, 400, "name: not a valid template name");
		return;
	}
	if ((body = api_body_object(c)) == NULL)
		return;
	d.title = reply_tpl_field(c, body, "title", REPLY_TITLE_MAX, 0);
	d.subject = d.title ? reply_tpl_field(c, body, "subject", REPLY_TITLE_MAX * 5, 0) : NULL;
	d.body = d.subject ? reply_tpl_field(c, body, "body", REPLY_TEMPLATE_BODY_MAX, 1) : NULL;
	ap = json_object_get(body, "approval_required");
	d.approval = json_is_true(ap);
	if (d.body != NULL && ap != NULL && !json_is_boolean(ap)) {
		api_error(c, 400, "approval_required: must be true or false");
		d.body = NULL;
	}
	json_decref(body);
	if (d.body == NULL || reply_tpl_check(c, &d) < 0)
		return;
	if (d.title[0] == '\0')
		d.title = d.name;
	if (templates_save(c->req->pool, reply_conf.templates_dir, &d, &err) < 0) {
		api_error(c, 500, pool_printf(c->req->pool, "template \"%s\": %s", d.name, err));
		return;
	}
	log_info("template=%s: written by %s", d.name, c->session->login);
	api_json(c, 200, reply_tpl_doc(c, &d));
}

/* ---- rendering for a ticket ---- */

/* "2026年11月20日 09:05" in Asia/Tokyo (no summer time) */
static const char *reply_jst(struct pool *p, int64_t us)
{
	time_t t = (time_t)(us / 1000000 + 9 * 3600);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return "";
	return pool_printf(p, "%d年%d月%d日 %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			   tm.tm_mday, tm.tm_hour, tm.tm_min);
}

static size_t reply_vars(struct api_call *c, const struct reply_ticket *t,
			 const struct reply_parent *m, struct templates_var *v)
{
	struct pool *p = c->req->pool;
	const char *op = c->session->display_name;

	v[0] = (struct templates_var){ "ticket.id", pool_printf(p, "%lld", t->id) };
	v[1] = (struct templates_var){ "ticket.subject", t->subject ? t->subject : "" };
	v[2] = (struct templates_var){ "ticket.received", reply_jst(p, t->received_us) };
	v[3] = (struct templates_var){ "citizen.name",
				       m && m->from_name ? m->from_name : "" };
	v[4] = (struct templates_var){ "operator.name", op && op[0] ? op : c->session->login };
	v[5] = (struct templates_var){ "centre.name", reply_conf.centre_name };
	v[6] = (struct templates_var){ "centre.signature", reply_conf.centre_signature };
	return 7;
}

/* names whose value is empty but which the template uses: the operator
 * must fill them in by hand */
static json_t *reply_empties(const struct templates_var *v, size_t n,
			     const struct templates_doc *d)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		if (v[i].value != NULL && v[i].value[0] == '\0' &&
		    (strstr(d->body, v[i].name) != NULL || strstr(d->subject, v[i].name) != NULL))
			json_array_append_new(a, json_string(v[i].name));
	return a;
}

/* the filled subject and body, or 0 after answering 422 */
static int reply_fill(struct api_call *c, const struct templates_doc *d,
		      const struct templates_var *v, size_t nv, const char **subject,
		      const char **body)
{
	const char **unk, *err = NULL;
	size_t nu = 0;
	json_t *a;

	*subject = templates_fill(c->req->pool, d->subject, v, nv, &unk, &nu, &err);
	if (*subject != NULL)
		*body = templates_fill(c->req->pool, d->body, v, nv, &unk, &nu, &err);
	if (*subject != NULL && *body != NULL)
		return 1;
	a = json_array();
	for (size_t i = 0; i < nu; i++)
		json_array_append_new(a, json_string(unk[i]));
	api_json(c, 422, json_pack("{s:s, s:s, s:o}", "error",
				   nu > 0 ? "the template uses an unknown variable"
					  : err ? err : "the template cannot be filled",
				   "template", d->name, "unknown_variables", a));
	return 0;
}

static json_t *reply_render_doc(struct api_call *c, const struct reply_ticket *t,
				const struct reply_parent *m, const char *subject,
				const char *body)
{
	struct reply_list to;
	json_t *list = json_array(), *atts = reply_ticket_attachments(c, t->id);

	reply_default_to(c, c->req->pool, t, m, &to);
	for (size_t i = 0; i < to.n; i++)
		json_array_append_new(list, json_string(reply_addr_show(c->req->pool, &to.a[i])));
	return json_pack("{s:o, s:[], s:[], s:s?, s:s, s:o, s:s?, s:s?, s:o}", "to", list, "cc",
			 "bcc", "subject", reply_subject(c->req->pool, t, m, subject), "body", body,
			 "replying_to", m ? json_integer(m->id) : json_null(), "in_reply_to",
			 m ? m->msgid : NULL, "references", m ? m->refs : NULL, "attachments",
			 atts ? atts : json_array());
}

/* the body's "template" and "replying_to"; 0 after answering 400 */
static int reply_render_args(struct api_call *c, const char **name, long long *want)
{
	json_t *body = api_body_object(c), *tn, *rt;
	int bad;

	if (body == NULL)
		return 0;
	tn = json_object_get(body, "template");
	rt = json_object_get(body, "replying_to");
	*name = json_is_string(tn) ? pool_strdup(c->req->pool, json_string_value(tn)) : NULL;
	*want = json_is_integer(rt) ? json_integer_value(rt) : 0;
	bad = (tn != NULL && !json_is_null(tn) && !json_is_string(tn)) ||
	      (rt != NULL && !json_is_null(rt) && (!json_is_integer(rt) || *want <= 0));
	json_decref(body);
	if (bad) {
		api_error(c, 400, "template must be a name and replying_to a message id");
		return 0;
	}
	return 1;
}

void reply_render(struct api_call *c)
{
	struct templates_doc d = { NULL, "", "", "", 0 };
	struct templates_var v[8];
	struct reply_ticket t;
	struct reply_parent m;
	const char *name, *subject = "", *body = "";
	long long want;
	int rt, rp;
	size_t nv;
	json_t *doc;

	if (!reply_render_args(c, &name, &want))
		return;
	if ((rt = reply_load_ticket(c, c->req->pool, c->id[0], &t)) <= 0 ||
	    (rp = reply_load_parent(c, c->req->pool, t.id, want, &m)) < 0) {
		api_error(c, rt == 0 ? 404 : 503, rt == 0 ? "no such ticket" : "database unavailable");
		return;
	}
	if (rp == 0 && want > 0) {
		api_error(c, 400, "replying_to: not an incoming message of this ticket");
		return;
	}
	nv = reply_vars(c, &t, rp ? &m : NULL, v);
	if (name != NULL && (!reply_tpl_load(c, templates_name_ok(name) ? name : NULL, &d) ||
			     !reply_fill(c, &d, v, nv, &subject, &body)))
		return;
	doc = reply_render_doc(c, &t, rp ? &m : NULL, subject, body);
	json_object_set_new(doc, "template", name ? json_string(name) : json_null());
	json_object_set_new(doc, "empty_variables", reply_empties(v, nv, &d));
	json_object_set_new(doc, "uploads", upload_pending(c, t.id));
	/* the composer checks a file against them before uploading it */
	json_object_set_new(doc, "limits", json_pack("{s:I, s:I}", "upload_max_bytes",
						     (json_int_t)upload_max_bytes(),
						     "attachments_max_bytes",
						     (json_int_t)reply_conf.max_att_bytes));
	api_json(c, 200, doc);
}
