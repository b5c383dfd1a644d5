/* The router: one table of routes, the gates in one place (see api.h),
 * and the small helpers every JSON handler shares. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin_api.h"
#include "admin_queues.h" /* admin_queues: the known queues (admin_queues.h) */
#include "admin_calendar.h" /* business calendars and SLA policies (admin_calendar.h) */
#include "api.h"
#include "approval.h"
#include "auth.h"
#include "casebook.h"
#include "category.h" /* category: the category tree, classify (category.h) */
#include "clock.h"
#include "config.h"
#include "contacts.h"
#include "faxocr.h"
#include "cti.h" /* calls through a CTI hook (issue 9) */
#include "cti_api.h"
#include "db.h"
#include "department.h" /* department directory (issue 6) */
#include "escalate.h" /* escalation to departments (issue 6) */
#include "faxview.h" /* fax pages (issue 7) */
#include "http.h"
#include "log.h"
#include "merge.h" /* merge: merge and split (merge.h) */
#include "messages.h"
#include "pool.h"
#include "reply.h"
#include "search.h"
#include "sla.h" /* the SLA board and crisis switch (issue 6) */
#include "sse.h"
#include "tickets.h"
#include "upload.h" /* upload: files uploaded in the reply composer (upload.h) */
#include "faxreply.h" /* replies by fax */
#include "webroot.h"
#include "workflow.h"

#define API_ANY (API_OPERATOR | API_SUPERVISOR | API_VIEWER | API_ADMIN)
/* correspondence (mail, names, addresses): not for viewers (ward staff) */
#define API_CORRESPONDENCE (API_OPERATOR | API_SUPERVISOR | API_ADMIN)
#define API_PUBLIC 0u
/* working tickets (workflow.c): operators and supervisors; admins and
 * viewers read only */
#define API_WORK (API_OPERATOR | API_SUPERVISOR)

struct api_route {
	const char *method;
	const char *pattern; /* '#' stands for one path segment of digits; a final '*' for the
			      * rest of the path (one byte or more) */
	unsigned roles;
	void (*fn)(struct api_call *c);
};

static const struct api_route api_routes[] = {
	{ "POST", "/api/login", API_PUBLIC, auth_login },
	{ "POST", "/api/logout", API_ANY, auth_logout },
	{ "GET", "/api/me", API_ANY, auth_me },
	{ "POST", "/api/me/password", API_ANY, auth_password },
	{ "GET", "/api/search", API_CORRESPONDENCE, search_api },
	{ "GET", "/api/tickets", API_CORRESPONDENCE, tickets_list },
	{ "GET", "/api/tickets/#", API_CORRESPONDENCE, tickets_get },
	/* workflow (workflow.h) */
	{ "GET", "/api/tickets/#/workflow", API_CORRESPONDENCE, workflow_get },
	{ "POST", "/api/tickets/#/claim", API_WORK, workflow_claim },
	{ "POST", "/api/tickets/#/release", API_WORK, workflow_release },
	{ "POST", "/api/tickets/#/assign", API_WORK, workflow_assign },
	{ "POST", "/api/tickets/#/status", API_WORK, workflow_status },
	{ "POST", "/api/tickets/#/notes", API_WORK, workflow_note },
	{ "POST", "/api/tickets/#/presence", API_WORK, workflow_presence },
	{ "GET", "/api/users", API_CORRESPONDENCE, workflow_users },
	{ "GET", "/api/resolutions", API_ANY, workflow_resolutions },
	/* end workflow */
	/* merge two tickets, split an item off (merge.h) */
	{ "POST", "/api/tickets/#/merge", API_WORK, merge_merge },
	{ "POST", "/api/tickets/#/split", API_WORK, merge_split },
	{ "POST", "/api/tickets/#/unmerge", API_WORK, merge_unmerge },
	{ "POST", "/api/tickets/#/unsplit", API_WORK, merge_unsplit },
	/* end merge */
	/* categories and tags (category.h) */
	{ "GET", "/api/categories", API_ANY, category_list },
	{ "POST", "/api/admin/categories", API_ADMIN, category_create },
	{ "PUT", "/api/admin/categories/#", API_ADMIN, category_update },
	{ "POST", "/api/tickets/#/classify", API_WORK, category_classify },
	/* end categories */
	/* files uploaded in the reply composer (upload.h) */
	{ "POST", "/api/tickets/#/uploads", API_WORK, upload_create },
	{ "DELETE", "/api/tickets/#/uploads/#", API_WORK, upload_delete },
	/* end uploads */
	{ "GET", "/api/messages/#/raw", API_CORRESPONDENCE, messages_raw },
	{ "GET", "/api/messages/#/html", API_CORRESPONDENCE, messages_html },
	{ "GET", "/api/messages/#/attachments/#", API_CORRESPONDENCE, messages_attachment },
	{ "GET", "/api/messages/#/cid/*", API_CORRESPONDENCE, messages_cid },
	{ "GET", "/api/messages/#/ocr", API_CORRESPONDENCE, faxocr_get },
	{ "POST", "/api/messages/#/ocr/#/reread", API_CORRESPONDENCE, faxocr_reread },
	{ "POST", "/api/fax-candidates/#/accept", API_OPERATOR | API_SUPERVISOR, faxocr_accept },
	{ "GET", "/api/messages/#/fax", API_CORRESPONDENCE, faxview_info }, /* faxview.h */
	{ "GET", "/api/messages/#/fax/#.png", API_CORRESPONDENCE, faxview_png },
	{ "GET", "/api/messages/#/fax/#.tif", API_CORRESPONDENCE, faxview_tif },
	{ "GET", "/api/events", API_ANY, sse_events },
	/* replies and their templates (reply.h) */
	{ "GET", "/api/templates", API_CORRESPONDENCE, reply_templates_list },
	{ "GET", "/api/templates/*", API_CORRESPONDENCE, reply_template_get },
	{ "PUT", "/api/admin/templates/*", API_ADMIN, reply_template_put },
	{ "POST", "/api/tickets/#/reply/render", API_CORRESPONDENCE, reply_render },
	{ "POST", "/api/tickets/#/reply/preview", API_CORRESPONDENCE, reply_preview },
	{ "POST", "/api/tickets/#/reply", API_CORRESPONDENCE, reply_send },
	{ "POST", "/api/outbound/#/cancel", API_CORRESPONDENCE, reply_cancel },
	/* end replies */
	/* approval before sending, dead mail, queue settings (approval.h) */
	{ "GET", "/api/approvals", API_OPERATOR | API_SUPERVISOR, approval_list },
	{ "GET", "/api/outbound", API_SUPERVISOR | API_ADMIN, approval_dead_list },
	{ "GET", "/api/outbound/#", API_CORRESPONDENCE, approval_get },
	{ "POST", "/api/outbound/#/approve", API_OPERATOR | API_SUPERVISOR, approval_approve },
	{ "POST", "/api/outbound/#/edit-approve", API_OPERATOR | API_SUPERVISOR, approval_edit },
	{ "POST", "/api/outbound/#/return", API_OPERATOR | API_SUPERVISOR, approval_return },
	{ "POST", "/api/outbound/#/requeue", API_SUPERVISOR, approval_requeue },
	{ "GET", "/api/admin/queues/*", API_ADMIN, approval_queue_get },
	{ "PUT", "/api/admin/queues/*", API_ADMIN, approval_queue_put },
	{ "GET", "/api/admin/queues", API_ADMIN, admin_queues_list }, /* admin_queues.h */
	/* end approval */
	/* case history and contact store (casebook.h, contacts.h) */
	{ "GET", "/api/tickets/#/case", API_ANY, casebook_get },
	{ "PUT", "/api/tickets/#/case", API_OPERATOR | API_SUPERVISOR, casebook_put },
	{ "GET", "/api/cases", API_ANY, casebook_list },
	{ "GET", "/api/tickets/#/contact", API_ANY, contacts_get }, /* viewers: with a grant */
	{ "PUT", "/api/tickets/#/contact", API_OPERATOR | API_SUPERVISOR, contacts_put },
	{ "GET", "/api/contacts/search", API_ANY, contacts_search }, /* viewers: with a grant */
	{ "GET", "/api/admin/contact-access", API_ADMIN | API_SUPERVISOR, contacts_access_log },
	/* end case history and contact store */
	/* department escalation (department.h, escalate.h) */
	{ "GET", "/api/departments", API_ANY, department_list },
	{ "POST", "/api/admin/departments", API_ADMIN, department_create },
	{ "POST", "/api/admin/departments/import", API_ADMIN, department_import },
	{ "PUT", "/api/admin/departments/#", API_ADMIN, department_update },
	{ "POST", "/api/tickets/#/escalate/render", API_OPERATOR | API_SUPERVISOR, escalate_render },
	{ "POST", "/api/tickets/#/escalate", API_OPERATOR | API_SUPERVISOR, escalate_send },
	{ "GET", "/api/tickets/#/escalations", API_CORRESPONDENCE, escalate_list },
	{ "POST", "/api/escalations/#/close", API_OPERATOR | API_SUPERVISOR, escalate_close },
	{ "GET", "/api/escalations/stats", API_ANY, escalate_stats },
	/* the SLA (sla.h) */
	{ "GET", "/api/sla", API_CORRESPONDENCE, sla_board },
	{ "GET", "/api/sla/stats", API_ANY, sla_stats },
	{ "POST", "/api/sla/crisis", API_SUPERVISOR, sla_crisis_start },
	{ "POST", "/api/sla/crisis/end", API_SUPERVISOR, sla_crisis_end },
	{ "GET", "/api/admin/rules", API_ADMIN, admin_api_rules_list },
	{ "POST", "/api/admin/rules", API_ADMIN, admin_api_rules_create },
	{ "POST", "/api/admin/rules/order", API_ADMIN, admin_api_rules_order },
	{ "PUT", "/api/admin/rules/#", API_ADMIN, admin_api_rules_update },
	{ "DELETE", "/api/admin/rules/#", API_ADMIN, admin_api_rules_delete },
	/* business calendars and SLA policies (admin_calendar.h): admins edit, supervisors read */
	{ "GET", "/api/admin/calendars", API_ADMIN | API_SUPERVISOR, admin_calendar_list },
	{ "POST", "/api/admin/calendars", API_ADMIN, admin_calendar_create },
	{ "PUT", "/api/admin/calendars/#", API_ADMIN, admin_calendar_rename },
	{ "DELETE", "/api/admin/calendars/#", API_ADMIN, admin_calendar_delete },
	{ "PUT", "/api/admin/calendars/#/departments", API_ADMIN, admin_calendar_departments },
	{ "PUT", "/api/admin/calendars/#/hours", API_ADMIN, admin_calendar_hours },
	{ "PUT", "/api/admin/calendars/#/openings", API_ADMIN, admin_calendar_openings },
	{ "POST", "/api/admin/annual-closures", API_ADMIN, admin_calendar_annual_create },
	{ "PUT", "/api/admin/annual-closures/#", API_ADMIN, admin_calendar_annual_update },
	{ "DELETE", "/api/admin/annual-closures/#", API_ADMIN, admin_calendar_annual_delete },
	{ "POST", "/api/admin/closures", API_ADMIN, admin_calendar_closure_create },
	{ "PUT", "/api/admin/closures/#", API_ADMIN, admin_calendar_closure_update },
	{ "DELETE", "/api/admin/closures/#", API_ADMIN, admin_calendar_closure_delete },
	{ "GET", "/api/admin/holidays", API_ADMIN | API_SUPERVISOR, admin_calendar_holidays },
	{ "POST", "/api/admin/holidays", API_ADMIN, admin_calendar_holiday_add },
	{ "POST", "/api/admin/holidays/import", API_ADMIN, admin_calendar_holiday_import },
	{ "DELETE", "/api/admin/holidays/*", API_ADMIN, admin_calendar_holiday_remove },
	{ "GET", "/api/admin/sla-policies", API_ADMIN | API_SUPERVISOR, admin_calendar_policies },
	{ "POST", "/api/admin/sla-policies", API_ADMIN, admin_calendar_policy_create },
	{ "POST", "/api/admin/sla-policies/preview", API_ADMIN | API_SUPERVISOR, admin_calendar_preview },
	{ "PUT", "/api/admin/sla-policies/#", API_ADMIN, admin_calendar_policy_update },
	{ "DELETE", "/api/admin/sla-policies/#", API_ADMIN, admin_calendar_policy_delete },
	{ "GET", "/api/admin/calendar-audit", API_ADMIN | API_SUPERVISOR, admin_calendar_audit },
	/* replies by fax (faxreply.h) */
	{ "POST", "/api/tickets/#/fax-reply/preview", API_CORRESPONDENCE, faxreply_preview },
	{ "POST", "/api/tickets/#/fax-reply", API_OPERATOR | API_SUPERVISOR, faxreply_send },
	{ "GET", "/api/tickets/#/faxes", API_CORRESPONDENCE, faxreply_list },
	{ "POST", "/api/tickets/#/faxes/#/cancel", API_OPERATOR | API_SUPERVISOR, faxreply_cancel },
	{ "GET", "/api/faxes/#/#.png", API_CORRESPONDENCE, faxreply_page },
	{ "POST", "/api/tickets/#/faxes/#/approve", API_OPERATOR | API_SUPERVISOR, faxreply_approve },
	/* calls (issue 9): the PBX webhooks are public routes behind the PBX's secret */
	{ "POST", "/cti/zammad/*", API_PUBLIC, cti_hook_zammad },
	{ "POST", "/cti/events/*", API_PUBLIC, cti_hook_events },
	{ "GET", "/cti/agents/*", API_PUBLIC, cti_hook_agents },
	{ "GET", "/api/cti/me", API_ANY, cti_api_me },
	{ "GET", "/api/cti/calls/#", API_CORRESPONDENCE, cti_api_call },
	{ "POST", "/api/cti/calls/#/ticket", API_WORK, cti_api_pick },
	{ "GET", "/api/cti/stats", API_ANY, cti_api_stats },
	{ "GET", "/api/admin/cti/extensions", API_ADMIN, cti_api_ext_list },
	{ "PUT", "/api/admin/cti/extensions", API_ADMIN, cti_api_ext_put },
	{ "DELETE", "/api/admin/cti/extensions/#", API_ADMIN, cti_api_ext_delete },
	{ "GET", "/api/tickets/#/callbacks", API_CORRESPONDENCE, cti_api_cb_list },
	{ "POST", "/api/tickets/#/callbacks", API_WORK, cti_api_cb_add },
	{ "POST", "/api/callbacks/#", API_WORK, cti_api_cb_done },
};

struct api {
	struct db *db;
	struct auth *auth;
	struct sse *sse;
	struct webroot *web;
};

struct api *api_new(struct db *db, const struct config *cfg)
{
	struct api *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->db = db;
	a->auth = auth_new(db, cfg);
	a->sse = sse_new(cfg);
	a->web = webroot_new(cfg);
	if (a->auth == NULL || a->sse == NULL || a->web == NULL) {
		api_free(a);
		return NULL;
	}
	tickets_prepare(db);
	tickets_configure(cfg);
	messages_prepare(db);
	admin_api_prepare(db);
	casebook_prepare(db);
	contacts_prepare(db);
	faxocr_prepare(db);
	reply_prepare(db);
	reply_configure(cfg);
	approval_prepare(db);
	workflow_prepare(db);
	merge_prepare(db); /* merge */
	category_prepare(db); /* category */
	department_prepare(db);
	escalate_prepare(db);
	escalate_configure(cfg);
	admin_queues_prepare(db); /* admin_queues */
	upload_prepare(db); /* upload */
	admin_calendar_prepare(db); /* admin_calendar */
	upload_configure(cfg);
	faxview_prepare(db); /* faxview */
	faxreply_prepare(db); /* faxreply */
	faxreply_configure(cfg);
	cti_api_prepare(db); /* calls (issue 9) */
	return a;
}

void api_free(struct api *a)
{
	if (a == NULL)
		return;
	auth_free(a->auth);
	sse_free(a->sse);
	webroot_free(a->web);
	free(a);
}

void api_configure(struct api *a, const struct config *cfg)
{
	auth_configure(a->auth, cfg);
	sse_configure(a->sse, cfg);
	webroot_configure(a->web, cfg);
	tickets_configure(cfg);
	reply_configure(cfg);
	escalate_configure(cfg);
	upload_configure(cfg);
	faxreply_configure(cfg);
}

static void api_session_gone(void *arg, const char *token_sha)
{
	sse_end_session(arg, token_sha);
}

void api_tick(struct api *a)
{
	auth_sweep(a->auth, api_session_gone, a->sse);
	sse_tick(a->sse);
	upload_sweep(a->db);
}

size_t api_body_limit(const struct http_req *req)
{
	return upload_body_limit(req);
}

void api_ticket_change(struct api *a, const char *payload)
{
	tickets_changed();
	sse_broadcast(a->sse, payload);
}

void api_answer_rows(struct api_call *c, const char *stmt, int n, const char *const *vals,
		     const char *key, json_t *(*row)(const struct db_res *r, int i))
{
	struct db_res *r = db_query(c->db, stmt, n, vals, NULL, NULL, 0);
	json_t *list;

	if (r == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, row(r, i));
	db_res_free(r);
	api_json(c, 200, json_pack("{s:o}", key, list));
}

void api_presence(struct api *a, const char *payload)
{
	sse_broadcast_event(a->sse, "presence", payload);
}

/* NOTIFY cti_call: the screen pop, to the streams of the answering user only */
void api_cti_call(struct api *a, const char *payload)
{
	json_t *doc = json_loads(payload, 0, NULL);
	json_int_t uid = json_integer_value(json_object_get(doc, "user_id"));

	if (uid > 0)
		sse_send_user(a->sse, (long)uid, "call", payload);
	json_decref(doc);
}

/* 1 when path matches pattern; the '#' segments land in ids */
static int api_match(const char *pattern, const char *path, long long *ids)
{
	int n = 0;

	while (*pattern != '\0') {
		if (*pattern == '#') {
			long long v = 0;
			int digits = 0;

			while (*path >= '0' && *path <= '9' && digits < 18) {
				v = v * 10 + (*path++ - '0');
				digits++;
			}
			if (digits == 0 || (*path >= '0' && *path <= '9') || n == 2)
				return 0;
			ids[n++] = v;
			pattern++;
		} else if (*pattern == '*') {
			return *path != '\0';
		} else if (*pattern++ != *path++)
			return 0;
	}
	return *path == '\0';
}

static const struct api_route *api_find(struct api_call *c, int *path_known)
{
	const char *m = strcmp(c->req->method, "HEAD") == 0 ? "GET" : c->req->method;

	*path_known = 0;
	for (size_t i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++) {
		if (!api_match(api_routes[i].pattern, c->req->path, c->id))
			continue;
		*path_known = 1;
		if (strcmp(api_routes[i].method, m) == 0)
			return &api_routes[i];
	}
	return NULL;
}

static int api_changes_state(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/* the gates of api.h, in order; 0 when the handler may run */
static int api_gate(struct api *a, struct api_call *c, const struct api_route *rt,
		    struct api_session *s)
{
	const char *why = NULL;
	int r;

	if (rt->roles == API_PUBLIC)
		return 0;
	r = auth_session(a->auth, c, s, &why);
	if (r < 0) {
		api_error(c, 503, "database unavailable");
		return -1;
	}
	if (r == 0) {
		api_error(c, 401, why);
		return -1;
	}
	c->session = s;
	if (api_changes_state(c->req->method) &&
	    !auth_csrf_ok(s, http_header(c->req, "X-CSRF-Token"))) {
		api_error(c, 403, "missing or wrong CSRF token");
		return -1;
	}
	if ((rt->roles & s->role_bit) == 0) {
		api_error(c, 403, "not allowed for this role");
		return -1;
	}
	return 0;
}

void api_handle(void *arg, struct http_req *req)
{
	struct api *a = arg;
	struct api_call c = { .req = req, .db = a->db, .auth = a->auth, .sse = a->sse };
	const struct api_route *rt;
	struct api_session s;
	int known;

	if (strncmp(req->path, "/api/", 5) != 0 && strcmp(req->path, "/api") != 0 &&
	    strncmp(req->path, "/cti/", 5) != 0) { /* /cti/: the PBX webhooks (cti_hook.c) */
		webroot_serve(a->web, req);
		return;
	}
	rt = api_find(&c, &known);
	if (rt == NULL) {
		api_error(&c, known ? 405 : 404, known ? "method not allowed" : "no such API path");
		return;
	}
	if (api_gate(a, &c, rt, &s) < 0)
		return;
	rt->fn(&c);
}

void api_json(struct api_call *c, int status, json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	if (s == NULL) {
		api_error(c, 500, "could not build the response");
		return;
	}
	http_reply_owned(c->req, status, "application/json; charset=utf-8", s, strlen(s), free, s);
}

void api_error(struct api_call *c, int status, const char *msg)
{
	http_reply_error(c->req, status, msg);
}

json_t *api_body_object(struct api_call *c)
{
	const char *ct = http_header(c->req, "Content-Type");
	json_error_t err;
	json_t *doc;

	/* a JSON type also keeps cross-site forms out: browsers send it
	 * cross-origin only after a CORS preflight we never grant */
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
		api_error(c, 415, "expected Content-Type: application/json");
		return NULL;
	}
	doc = json_loadb(c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &err);
	if (doc == NULL || !json_is_object(doc)) {
		json_decref(doc);
		api_error(c, 400, "the body is not a JSON object");
		return NULL;
	}
	return doc;
}

json_t *api_col_str(const struct db_res *r, int row, int col)
{
	json_t *v;

	if (db_res_null(r, row, col))
		return json_null();
	/* the database is UTF-8, so this fails only on a broken invariant */
	v = json_stringn(db_res_val(r, row, col), (size_t)db_res_len(r, row, col));
	return v ? v : json_null();
}

json_t *api_col_int(const struct db_res *r, int row, int col)
{
	if (db_res_null(r, row, col))
		return json_null();
	return json_integer(db_res_ll(r, row, col));
}

json_t *api_col_time(const struct db_res *r, int row, int col)
{
	char iso[40];

	if (db_res_null(r, row, col))
		return json_null();
	return json_string(clock_format_iso(db_res_ll(r, row, col), iso, sizeof(iso)));
}

json_t *api_col_json(const struct db_res *r, int row, int col)
{
	json_t *v = NULL;

	if (!db_res_null(r, row, col))
		v = json_loadb(db_res_val(r, row, col), (size_t)db_res_len(r, row, col),
			       JSON_DECODE_ANY, NULL);
	return v ? v : json_array();
}

const char *api_now_iso(struct api_call *c, int64_t minus_seconds)
{
	char iso[40];

	clock_format_iso(clock_now_us() - minus_seconds * 1000000, iso, sizeof(iso));
	return pool_strdup(c->req->pool, iso);
}
