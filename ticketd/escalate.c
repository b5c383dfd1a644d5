/* escalate: a ticket escalated to a ward department by mail (escalate.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "escalate.h"
#include "http.h"
#include "log.h"
#include "mailout.h"
#include "piidetect.h"
#include "pool.h"
#include "reply_draft.h"
#include "reply_int.h"
#include "templates.h"
#include "utf8.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define ESC_MAX_ATT 10
#define ESC_SUBJECT_MAX 300
#define ESC_BODY_MAX 65536
#define ESC_RAW_MAX (64u << 20)
#define ESC_FINDINGS 20

const struct config_key escalate_config_keys[] = {
	{ "mail.liaison_addr", CFG_STR, "", 0, 0,
	  "the centre's liaison address escalations to departments are sent from and answered to;"
	  " empty: mail.from_addr" },
	{ "ticketd.escalation_templates", CFG_PATH, "templates/escalation", 0, 0,
	  "folder of the escalation mail templates (NAME.txt, as the reply templates)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static struct {
	char *from_addr, *templates_dir;
} esc_conf;

static const struct db_stmt esc_stmts[] = {
	{ "esc_ticket",
	  "SELECT t.id, t.status, t.merged_into, coalesce(t.category, ''),"
	  " to_char(coalesce((SELECT min(i.arrived_at) FROM message m JOIN inbound_item i"
	  "  ON i.id = m.inbound_item_id WHERE m.ticket_id = t.id), t.created_at)"
	  "  AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI'), coalesce(c.inquiry_summary, '')"
	  " FROM ticket t LEFT JOIN case_record c ON c.ticket_id = t.id WHERE t.id = $1" },
	{ "esc_ticket_lock", "SELECT merged_into FROM ticket WHERE id = $1 FOR UPDATE" },
	{ "esc_dept",
	  "SELECT id, name, section, array_to_json(mail)::text, enabled FROM department"
	  " WHERE id = $1" },
	{ "esc_open",
	  "SELECT id, token FROM escalation WHERE ticket_id = $1 AND department_id = $2"
	  " AND state = 'open'" },
	{ "esc_token", "SELECT escalation_next_token($1::int)" },
	/* binary results: the bytes of one attachment of the ticket */
	{ "esc_att",
	  "SELECT a.filename, a.content_type, b.data FROM attachment a JOIN message m"
	  " ON m.id = a.message_id JOIN blob b ON b.sha256 = a.sha256"
	  " WHERE m.ticket_id = $1 AND a.message_id = $2 AND a.idx = $3" },
	{ "esc_msg_insert",
	  "INSERT INTO message (ticket_id, direction, subject, from_name, from_addr, to_list,"
	  " date_header, message_id_hdr, body_text, parse_state, created_at, delivery_state)"
	  " VALUES ($1, 'out', $2, $3, $4, $5, $6, $7, $8, 'ok', $9, 'queued') RETURNING id" },
	{ "esc_att_insert",
	  "INSERT INTO attachment (message_id, idx, filename, content_type, size, sha256)"
	  " SELECT $1, $2, a.filename, a.content_type, a.size, a.sha256 FROM attachment a"
	  " WHERE a.message_id = $3 AND a.idx = $4" },
	{ "esc_out_insert",
	  "INSERT INTO outbound_mail (message_id, ticket_id, kind, env_from, rcpt, raw, not_before,"
	  " created_by, created_at) VALUES ($1, $2, 'escalation', $3,"
	  " ARRAY(SELECT json_array_elements_text($4::json)), $5, $6, $7, $6) RETURNING id" },
	{ "esc_insert",
	  "INSERT INTO escalation (token, ticket_id, department_id, message_id, created_by,"
	  " created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id" },
	{ "esc_ticket_escalated",
	  "UPDATE ticket SET status = 'escalated', updated_at = $2 WHERE id = $1 RETURNING status" },
	{ "esc_event",
	  "INSERT INTO ticket_event (ticket_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)" },
	{ "esc_notify",
	  "SELECT pg_notify('ticket_change', json_build_object('id', $1::bigint, 'op', $2::text)::text),"
	  " CASE WHEN $3::text IS NOT NULL THEN pg_notify('outbound', $3) END" },
	{ "esc_list",
	  "SELECT e.id, e.token, e.department_id, d.name, d.section, e.state, e.created_by,"
	  " " US("e.created_at") ", " US("e.closed_at") ", e.closed_by, e.reminders,"
	  " " US("e.last_reminder_at") ", " US("e.next_reminder_at") ", e.message_id,"
	  " e.answer_message_id, e.ticket_id FROM escalation e JOIN department d"
	  " ON d.id = e.department_id WHERE e.ticket_id = $1 ORDER BY e.id" },
	{ "esc_one",
	  "SELECT e.id, e.token, e.department_id, d.name, d.section, e.state, e.created_by,"
	  " " US("e.created_at") ", " US("e.closed_at") ", e.closed_by, e.reminders,"
	  " " US("e.last_reminder_at") ", " US("e.next_reminder_at") ", e.message_id,"
	  " e.answer_message_id, e.ticket_id FROM escalation e JOIN department d"
	  " ON d.id = e.department_id WHERE e.id = $1" },
	{ "esc_lock_one", "SELECT ticket_id, state, token FROM escalation WHERE id = $1 FOR UPDATE" },
	{ "esc_close",
	  "UPDATE escalation SET state = $2, closed_at = $3, closed_by = $4, next_reminder_at = NULL"
	  " WHERE id = $1 AND state = 'open'" },
	/* back to the centre when no other escalation is open */
	{ "esc_ticket_back",
	  "UPDATE ticket SET status = CASE WHEN status = 'escalated' AND NOT EXISTS (SELECT 1"
	  " FROM escalation WHERE ticket_id = $1 AND state = 'open') THEN 'open' ELSE status END,"
	  " updated_at = $2 WHERE id = $1 RETURNING status" },
	/* the report: escalations sent in [$1, $2] (Tokyo days) per department */
	{ "esc_stats",
	  "SELECT d.id, d.name, d.section, count(*), count(*) FILTER (WHERE e.state = 'answered'),"
	  " count(*) FILTER (WHERE e.state = 'department_contacts'),"
	  " count(*) FILTER (WHERE e.state = 'cancelled'), count(*) FILTER (WHERE e.state = 'open'),"
	  " round(avg(extract(epoch FROM e.closed_at - e.created_at)) FILTER (WHERE e.closed_by ="
	  "  'department'))::bigint, coalesce(sum(e.reminders), 0)"
	  " FROM escalation e JOIN department d ON d.id = e.department_id"
	  " WHERE e.created_at >= ($1::date::timestamp AT TIME ZONE 'Asia/Tokyo')"
	  " AND e.created_at < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')"
	  " GROUP BY d.id, d.name, d.section ORDER BY d.name, d.section" },
	{ NULL, NULL },
};

void escalate_prepare(struct db *db)
{
	db_prepare_all(db, esc_stmts);
}

void escalate_configure(const struct config *cfg)
{
	free(esc_conf.from_addr);
	free(esc_conf.templates_dir);
	esc_conf.from_addr = strdup(config_str(cfg, "mail.liaison_addr"));
	esc_conf.templates_dir = strdup(config_path(cfg, "ticketd.escalation_templates"));
	if (esc_conf.from_addr != NULL && esc_conf.from_addr[0] != '\0' &&
	    !reply_addr_ok(esc_conf.from_addr))
		log_warn("mail.liaison_addr \"%s\" is not a plain address: escalations will fail",
			 esc_conf.from_addr);
}

static const char *esc_from(void)
{
	return esc_conf.from_addr != NULL && esc_conf.from_addr[0] != '\0' ? esc_conf.from_addr
									     : reply_conf.from_addr;
}

/* ---- what the mail is built from ---- */

struct esc_ticket {
	long long id;
	const char *status, *category, *received, *inquiry;
	int merged;
};

struct esc_dept {
	long long id;
	const char *name, *section, *path, *to; /* to: "a@b, c@d" */
	json_t *mail;                           /* the addresses, a JSON array */
	int enabled;
};

/* 1 found, 0 none, -1 database */
static int esc_load_ticket(struct api_call *c, long long id, struct esc_ticket *t)
{
	const char *v[1] = { pool_printf(c->req->pool, "%lld", id) };
	struct db_res *r = db_query(c->db, "esc_ticket", 1, v, NULL, NULL, 0);
	int n = r ? db_res_rows(r) : -1;

	if (n == 1) {
		t->id = id;
		t->status = pool_strdup(c->req->pool, db_res_val(r, 0, 1));
		t->merged = !db_res_null(r, 0, 2);
		t->category = pool_strdup(c->req->pool, db_res_val(r, 0, 3));
		t->received = pool_strdup(c->req->pool, db_res_val(r, 0, 4));
		t->inquiry = pool_strdup(c->req->pool, db_res_val(r, 0, 5));
	}
	db_res_free(r);
	return n;
}

/* 1 found, 0 none, -1 database; d->mail is the caller's to free */
static int esc_load_dept(struct api_call *c, long long id, struct esc_dept *d)
{
	struct pool *p = c->req->pool;
	const char *v[1] = { pool_printf(p, "%lld", id) };
	struct db_res *r = db_query(c->db, "esc_dept", 1, v, NULL, NULL, 0);
	int n = r ? db_res_rows(r) : -1;

	memset(d, 0, sizeof(*d));
	if (n == 1) {
		struct buf b;
		size_t i;
		json_t *a;

		d->id = id;
		d->name = pool_strdup(p, db_res_val(r, 0, 1));
		d->section = pool_strdup(p, db_res_val(r, 0, 2));
		d->path = d->section[0] ? pool_printf(p, "%s > %s", d->name, d->section) : d->name;
		d->mail = json_loads(db_res_val(r, 0, 3), 0, NULL);
		d->enabled = strcmp(db_res_val(r, 0, 4), "t") == 0;
		buf_init(&b, 8192);
		json_array_foreach(d->mail, i, a)
			buf_printf(&b, "%s%s", i ? ", " : "", json_string_value(a));
		d->to = pool_strdup(p, b.data ? b.data : "");
		buf_free(&b);
	}
	db_res_free(r);
	return n;
}

/* the template's variables for ticket t and department d */
static size_t esc_vars(struct api_call *c, const struct esc_ticket *t, const struct esc_dept *d,
		       struct templates_var *v)
{
	size_t n = 0;

	v[n++] = (struct templates_var){ "ticket.id", pool_printf(c->req->pool, "%lld", t->id) };
	v[n++] = (struct templates_var){ "ticket.received", t->received };
	v[n++] = (struct templates_var){ "ticket.category", t->category[0] ? t->category : "未分類" };
	v[n++] = (struct templates_var){ "case.inquiry", t->inquiry };
	v[n++] = (struct templates_var){ "escalation.department", d->path };
	v[n++] = (struct templates_var){ "operator.name", c->session->display_name[0]
								   ? c->session->display_name
								   : c->session->login };
	v[n++] = (struct templates_var){ "centre.name", reply_conf.centre_name };
	v[n++] = (struct templates_var){ "centre.signature", reply_conf.centre_signature };
	return n;
}

/* the template names of the folder, as a JSON array (sorted) */
static json_t *esc_template_names(struct api_call *c, const char **first)
{
	struct templates_doc *docs;
	size_t n = 0, skipped = 0;
	const char *err;
	json_t *a = json_array();

	*first = NULL;
	if (templates_list(c->req->pool, esc_conf.templates_dir, &docs, &n, &skipped, &err) < 0)
		return a;
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "name", docs[i].name, "title",
						   docs[i].title));
	if (n > 0)
		*first = docs[0].name;
	return a;
}

/* ---- POST /api/tickets/ID/escalate/render ---- */

static long long esc_int(const json_t *body, const char *key)
{
	const json_t *v = json_object_get(body, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (long long)json_integer_value(v)
							      : 0;
}

/* ticket and department of a request; 0, or -1 after answering */
static int esc_load(struct api_call *c, const json_t *body, struct esc_ticket *t,
		    struct esc_dept *d)
{
	long long dept = esc_int(body, "department_id");
	int r;

	memset(d, 0, sizeof(*d));
	if (dept == 0) {
		api_error(c, 400, "department_id: a department's id is required");
		return -1;
	}
	if ((r = esc_load_ticket(c, c->id[0], t)) <= 0) {
		api_error(c, r < 0 ? 503 : 404, r < 0 ? "database unavailable" : "no such ticket");
		return -1;
	}
	if ((r = esc_load_dept(c, dept, d)) <= 0 || !d->enabled) {
		api_error(c, r < 0 ? 503 : 422, r < 0 ? "database unavailable"
				  : r == 0 ? "department_id: no such department"
					   : "department_id: the department is disabled");
		return -1;
	}
	return 0;
}

static void esc_render_answer(struct api_call *c, const struct templates_doc *doc,
			      const struct esc_ticket *t, const struct esc_dept *d, json_t *names)
{
	struct templates_var vars[12];
	size_t nv = esc_vars(c, t, d, vars), nu = 0;
	const char **unk, *err = NULL;
	char *subject = templates_fill(c->req->pool, doc->subject, vars, nv, &unk, &nu, &err);
	char *text = subject ? templates_fill(c->req->pool, doc->body, vars, nv, &unk, &nu, &err)
			     : NULL;

	if (text == NULL) {
		json_decref(names);
		api_error(c, 422, pool_printf(c->req->pool, "template \"%s\": %s", doc->name,
					      nu > 0 ? pool_printf(c->req->pool, "unknown variable %s",
								   unk[0])
						     : err ? err : "cannot be filled"));
		return;
	}
	api_json(c, 200, json_pack("{s:O, s:s, s:s, s:s, s:s, s:o, s:o}", "to", d->mail,
				   "from", esc_from(), "subject", subject, "body", text,
				   "template", doc->name, "templates", names, "attachments",
				   reply_ticket_attachments(c, t->id)));
}

void escalate_render(struct api_call *c)
{
	json_t *body = api_body_object(c), *names;
	struct esc_ticket t;
	struct esc_dept d;
	struct templates_doc doc;
	const char *name, *first, *err = NULL;
	int r;

	if (body == NULL)
		return;
	if (esc_load(c, body, &t, &d) < 0) {
		json_decref(d.mail);
		json_decref(body);
		return;
	}
	names = esc_template_names(c, &first);
	name = json_string_value(json_object_get(body, "template"));
	name = name ? name : first;
	r = name ? templates_load(c->req->pool, esc_conf.templates_dir, name, &doc, &err) : 0;
	if (r <= 0) {
		json_decref(names);
		api_error(c, r < 0 ? 500 : 404, r < 0 ? pool_printf(c->req->pool, "template: %s", err)
						      : "no such escalation template");
	} else {
		esc_render_answer(c, &doc, &t, &d, names);
	}
	json_decref(d.mail);
	json_decref(body);
}

/* ---- POST /api/tickets/ID/escalate ---- */

struct esc_job {
	struct api_call *c;
	struct pool *p;
	struct esc_ticket t;
	struct esc_dept d;
	const char *subject, *body, *token;
	long long att_msg[ESC_MAX_ATT], att_idx[ESC_MAX_ATT];
	size_t natt;
	struct mailout_attachment att[ESC_MAX_ATT];
	struct db_res *att_res[ESC_MAX_ATT];
	struct buf raw;
	char msgid[256];
	int64_t date_us;
	json_t *extra; /* added to an error answer */
};

static const char *esc_text_bad(const char *s, size_t max, int lines)
{
	if (s == NULL)
		return "must be a string";
	if (s[0] == '\0')
		return "must not be empty";
	if (strlen(s) > max)
		return "is too long";
	if (!utf8_valid(s, strlen(s)))
		return "must be UTF-8";
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && !(lines && (*p == '\n' || *p == '\r' || *p == '\t'))) || *p == 0x7f)
			return "must not contain control characters";
	return NULL;
}

/* [{message_id, idx}] into the job (key "attachments") or checked
 * against it (key "confirmed_attachments"); NULL or why */
static const char *esc_att_list(struct esc_job *j, const json_t *body, const char *key, int check)
{
	const json_t *a = json_object_get(body, key), *x;
	size_t i, ok = 0;

	if (a == NULL || json_is_null(a))
		return check && j->natt > 0 ? "" : NULL;
	if (!json_is_array(a) || json_array_size(a) > ESC_MAX_ATT)
		return pool_printf(j->p, "%s: at most %d [{message_id, idx}]", key, ESC_MAX_ATT);
	json_array_foreach(a, i, x) {
		long long m = esc_int(x, "message_id");
		const json_t *k = json_object_get(x, "idx");

		if (m == 0 || !json_is_integer(k) || json_integer_value(k) < 0)
			return pool_printf(j->p, "%s: at most %d [{message_id, idx}]", key, ESC_MAX_ATT);
		if (!check) {
			j->att_msg[j->natt] = m;
			j->att_idx[j->natt++] = (long long)json_integer_value(k);
			continue;
		}
		for (size_t n = 0; n < j->natt; n++)
			ok += j->att_msg[n] == m && j->att_idx[n] == json_integer_value(k);
	}
	return check && ok != j->natt ? "" : NULL;
}

/* the request's fields; 0, or -1 after answering */
static int esc_job_fields(struct esc_job *j, const json_t *body)
{
	const char *why;

	j->subject = json_string_value(json_object_get(body, "subject"));
	j->body = json_string_value(json_object_get(body, "body"));
	if ((why = esc_text_bad(j->subject, ESC_SUBJECT_MAX, 0)) != NULL)
		why = pool_printf(j->p, "subject: %s", why);
	else if ((why = esc_text_bad(j->body, ESC_BODY_MAX, 1)) != NULL)
		why = pool_printf(j->p, "body: %s", why);
	else
		why = esc_att_list(j, body, "attachments", 0);
	if (why != NULL) {
		api_error(j->c, 400, why);
		return -1;
	}
	/* the body's JSON goes before the database work: keep copies */
	j->subject = pool_strdup(j->p, j->subject);
	j->body = pool_strdup(j->p, j->body);
	if (j->subject == NULL || j->body == NULL) {
		api_error(j->c, 500, "out of memory");
		return -1;
	}
	if (esc_att_list(j, body, "confirmed_attachments", 1) != NULL) {
		api_error(j->c, 422, "every attachment must be ticked in confirmed_attachments: an "
				     "escalation carries only what was chosen one by one");
		return -1;
	}
	return 0;
}

/* the centre's own phone or address in its signature is no citizen's */
static int esc_centre_own(const char *s, size_t n)
{
	const char *sig = reply_conf.centre_signature;

	for (const char *p = sig; p != NULL && *p != '\0'; p++)
		if (strncmp(p, s, n) == 0)
			return 1;
	return 0;
}

static int esc_findings_of(struct esc_job *j, const char *field, const char *s, json_t *list)
{
	struct piidetect_finding f[ESC_FINDINGS];
	struct pool *p = pool_create(1u << 20);
	int n = p ? piidetect_scan(p, s, strlen(s), f, ESC_FINDINGS) : -1;

	for (int k = 0; k < n && k < ESC_FINDINGS; k++) {
		if (esc_centre_own(s + f[k].start, f[k].end - f[k].start))
			continue;
		json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:I, s:s%}", "field", field,
						      "kind", piidetect_kind_name(f[k].kind), "start",
						      (json_int_t)f[k].u16_start, "end",
						      (json_int_t)f[k].u16_end, "text", s + f[k].start,
						      f[k].end - f[k].start));
	}
	pool_destroy(p);
	(void)j;
	return n < 0 ? -1 : 0;
}

/* contact details in the text: 0 none (or allowed), -1 after answering */
static int esc_findings(struct esc_job *j, const json_t *body)
{
	json_t *list = json_array();

	if (json_is_true(json_object_get(body, "allow_personal_data"))) {
		json_decref(list);
		return 0;
	}
	if (esc_findings_of(j, "subject", j->subject, list) < 0 ||
	    esc_findings_of(j, "body", j->body, list) < 0) {
		json_decref(list);
		api_error(j->c, 500, "the text could not be checked for contact details");
		return -1;
	}
	if (json_array_size(list) == 0) {
		json_decref(list);
		return 0;
	}
	api_json(j->c, 422, json_pack("{s:s, s:o}", "error",
				      "the text holds what looks like a contact detail: take it out, or "
				      "send with allow_personal_data if the department needs it",
				      "findings", list));
	return -1;
}

/* the bytes of the ticked attachments; 0, or -1 after answering */
static int esc_job_atts(struct esc_job *j)
{
	for (size_t k = 0; k < j->natt; k++) {
		const char *v[3] = { pool_printf(j->p, "%lld", j->t.id),
				     pool_printf(j->p, "%lld", j->att_msg[k]),
				     pool_printf(j->p, "%lld", j->att_idx[k]) };
		struct db_res *r = db_query(j->c->db, "esc_att", 3, v, NULL, NULL, 1);

		j->att_res[k] = r;
		if (r == NULL || db_res_rows(r) != 1) {
			api_error(j->c, r ? 400 : 503, r ? "attachments: not an attachment of this ticket"
							 : "database unavailable");
			return -1;
		}
		j->att[k].filename = db_res_val(r, 0, 0);
		j->att[k].content_type = db_res_val(r, 0, 1);
		j->att[k].data = (const unsigned char *)db_res_val(r, 0, 2);
		j->att[k].size = (size_t)db_res_len(r, 0, 2);
	}
	return 0;
}

static int esc_build(struct esc_job *j)
{
	struct mailout m;
	const char *err = NULL;
	int64_t now = clock_now_us();

	memset(&m, 0, sizeof(m));
	j->date_us = now - now % 1000000;
	m.from_name = reply_conf.centre_name;
	m.from_addr = esc_from();
	m.to = j->d.to;
	m.subject = pool_printf(j->p, "[#%s#] %s", j->token, j->subject);
	m.body = j->body;
	m.message_id_domain = reply_conf.msgid_domain;
	m.date_us = j->date_us;
	m.att = j->att;
	m.natt = j->natt;
	buf_init(&j->raw, ESC_RAW_MAX);
	if (mailout_build(j->p, &m, &j->raw, j->msgid, sizeof(j->msgid), &err) < 0) {
		api_error(j->c, 400, pool_printf(j->p, "the mail cannot be built: %s", err));
		return -1;
	}
	j->subject = m.subject;
	return 0;
}

/* lock the ticket, refuse a second open escalation to the department,
 * take the token; 0, or -1 after answering (the caller rolls back) */
static int esc_claim(struct esc_job *j)
{
	const char *v[2] = { pool_printf(j->p, "%lld", j->t.id), pool_printf(j->p, "%lld", j->d.id) };
	char year[8], iso[40];
	struct db_res *r = db_query(j->c->db, "esc_ticket_lock", 1, v, NULL, NULL, 0);
	int merged = r && db_res_rows(r) == 1 && !db_res_null(r, 0, 0);

	db_res_free(r);
	if (r == NULL || merged) {
		api_error(j->c, r ? 409 : 503, r ? "the ticket is merged into another: escalate that one"
						 : "database unavailable");
		return -1;
	}
	if ((r = db_query(j->c->db, "esc_open", 2, v, NULL, NULL, 0)) == NULL ||
	    db_res_rows(r) > 0) {
		if (r != NULL)
			api_json(j->c, 409, json_pack("{s:s, s:{s:I, s:s}}", "error",
						      "an escalation to this department is still open",
						      "escalation", "id",
						      (json_int_t)db_res_ll(r, 0, 0), "token",
						      db_res_val(r, 0, 1)));
		else
			api_error(j->c, 503, "database unavailable");
		db_res_free(r);
		return -1;
	}
	db_res_free(r);
	/* the year of the token is Tokyo's */
	clock_format_iso(clock_now_us() + 9 * 3600 * INT64_C(1000000), iso, sizeof(iso));
	snprintf(year, sizeof(year), "%.4s", iso);
	v[0] = year;
	if ((r = db_query(j->c->db, "esc_token", 1, v, NULL, NULL, 0)) == NULL ||
	    db_res_rows(r) != 1) {
		db_res_free(r);
		api_error(j->c, 503, "database unavailable");
		return -1;
	}
	j->token = pool_strdup(j->p, db_res_val(r, 0, 0));
	db_res_free(r);
	return 0;
}

static long long esc_insert_one(struct esc_job *j, const char *stmt, int n, const char *const *v,
				const int *lens, const int *bin)
{
	struct db_res *r = db_query(j->c->db, stmt, n, v, lens, bin, 0);
	long long id = r && db_res_rows(r) == 1 ? db_res_ll(r, 0, 0) : -1;

	db_res_free(r);
	return id;
}

struct esc_ids {
	long long message, outbound, escalation;
	const char *status;
};

static int esc_insert_mail(struct esc_job *j, const char *now, struct esc_ids *ids)
{
	char date[40], *rcpt = json_dumps(j->d.mail, JSON_COMPACT);
	const char *tid = pool_printf(j->p, "%lld", j->t.id);
	const char *mv[9] = { tid, j->subject, reply_conf.centre_name, esc_from(), j->d.to,
			      clock_format_iso(j->date_us, date, sizeof(date)), j->msgid, j->body,
			      now };
	const char *ov[7] = { NULL, tid, esc_from(), rcpt, j->raw.data, now, j->c->session->login };
	const int lens[7] = { 0, 0, 0, 0, (int)j->raw.len, 0, 0 };
	const int bin[7] = { 0, 0, 0, 0, 1, 0, 0 };

	if ((ids->message = esc_insert_one(j, "esc_msg_insert", 9, mv, NULL, NULL)) < 0)
		ids->outbound = -1;
	for (size_t k = 0; ids->message > 0 && k < j->natt; k++) {
		const char *av[4] = { pool_printf(j->p, "%lld", ids->message),
				      pool_printf(j->p, "%zu", k),
				      pool_printf(j->p, "%lld", j->att_msg[k]),
				      pool_printf(j->p, "%lld", j->att_idx[k]) };

		if (db_cmd(j->c->db, "esc_att_insert", 4, av, NULL, NULL) != 1)
			ids->message = -1;
	}
	ov[0] = pool_printf(j->p, "%lld", ids->message);
	ids->outbound = ids->message > 0 && rcpt != NULL
				? esc_insert_one(j, "esc_out_insert", 7, ov, lens, bin)
				: -1;
	free(rcpt);
	return ids->outbound > 0 ? 0 : -1;
}

static int esc_event(struct api_call *c, long long ticket, const char *now, const char *kind,
		     const char *detail)
{
	const char *v[5] = { pool_printf(c->req->pool, "%lld", ticket), now, c->session->login, kind,
			     detail };

	return db_cmd(c->db, "esc_event", 5, v, NULL, NULL) == 1 ? 0 : -1;
}

static int esc_notify(struct api_call *c, long long ticket, const char *op, long long out)
{
	const char *v[3] = { pool_printf(c->req->pool, "%lld", ticket), op,
			     out > 0 ? pool_printf(c->req->pool, "%lld", out) : NULL };
	struct db_res *r = db_query(c->db, "esc_notify", 3, v, NULL, NULL, 0);

	db_res_free(r);
	return r ? 0 : -1;
}

/* every write of the escalation, in the caller's transaction */
static int esc_store(struct esc_job *j, struct esc_ids *ids)
{
	const char *now = api_now_iso(j->c, 0);
	const char *tid = pool_printf(j->p, "%lld", j->t.id);
	const char *ev[6] = { j->token, tid, pool_printf(j->p, "%lld", j->d.id), NULL,
			      j->c->session->login, now };
	const char *tv[2] = { tid, now };
	struct db_res *r;

	if (esc_insert_mail(j, now, ids) < 0)
		return -1;
	ev[3] = pool_printf(j->p, "%lld", ids->message);
	if ((ids->escalation = esc_insert_one(j, "esc_insert", 6, ev, NULL, NULL)) < 0)
		return -1;
	if ((r = db_query(j->c->db, "esc_ticket_escalated", 2, tv, NULL, NULL, 0)) == NULL)
		return -1;
	ids->status = pool_strdup(j->p, db_res_val(r, 0, 0));
	db_res_free(r);
	if (esc_event(j->c, j->t.id, now, "escalated",
		      pool_printf(j->p, "%s %s", j->token, j->d.path)) < 0)
		return -1;
	return esc_notify(j->c, j->t.id, "escalated", ids->outbound);
}

static void esc_job_end(struct esc_job *j)
{
	for (size_t k = 0; k < j->natt; k++)
		db_res_free(j->att_res[k]);
	json_decref(j->d.mail);
	buf_free(&j->raw);
}

static void esc_sent(struct esc_job *j, const struct esc_ids *ids)
{
	log_info("ticket=%lld: escalated by %s to %s as %s (escalation=%lld, outbound=%lld, "
		 "%zu attachments)", j->t.id, j->c->session->login, j->d.path, j->token,
		 ids->escalation, ids->outbound, j->natt);
	api_json(j->c, 201, json_pack("{s:I, s:s, s:I, s:I, s:O, s:s, s:s, s:s}", "escalation_id",
				      (json_int_t)ids->escalation, "token", j->token, "message_id",
				      (json_int_t)ids->message, "outbound_id",
				      (json_int_t)ids->outbound, "to", j->d.mail, "subject",
				      j->subject, "department", j->d.path, "ticket_status",
				      ids->status));
}

void escalate_send(struct api_call *c)
{
	json_t *body = api_body_object(c);
	struct esc_job j;
	struct esc_ids ids;

	if (body == NULL)
		return;
	memset(&j, 0, sizeof(j));
	j.c = c;
	j.p = c->req->pool;
	buf_init(&j.raw, ESC_RAW_MAX);
	if (esc_load(c, body, &j.t, &j.d) < 0 || esc_job_fields(&j, body) < 0 ||
	    esc_findings(&j, body) < 0) {
		json_decref(body);
		esc_job_end(&j);
		return;
	}
	json_decref(body);
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
	} else if (esc_claim(&j) < 0 || esc_job_atts(&j) < 0 || esc_build(&j) < 0) {
		db_rollback(c->db);
	} else if (esc_store(&j, &ids) < 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		api_error(c, 503, "database unavailable");
	} else {
		esc_sent(&j, &ids);
	}
	esc_job_end(&j);
}

/* ---- GET /api/tickets/ID/escalations, POST /api/escalations/ID/close ---- */

static json_t *esc_doc(const struct db_res *r, int i)
{
	const char *sec = db_res_val(r, i, 4);
	json_t *d = json_pack("{s:o, s:o, s:{s:o, s:o, s:o}, s:o, s:o, s:o, s:o, s:o}", "id",
			      api_col_int(r, i, 0), "token", api_col_str(r, i, 1), "department",
			      "id", api_col_int(r, i, 2), "name", api_col_str(r, i, 3), "section",
			      api_col_str(r, i, 4), "state", api_col_str(r, i, 5), "created_by",
			      api_col_str(r, i, 6), "created_at", api_col_time(r, i, 7), "closed_at",
			      api_col_time(r, i, 8), "closed_by", api_col_str(r, i, 9));

	json_object_set_new(json_object_get(d, "department"), "path",
			    sec[0] ? json_sprintf("%s > %s", db_res_val(r, i, 3), sec)
				   : json_string(db_res_val(r, i, 3)));
	json_object_set_new(d, "reminders", api_col_int(r, i, 10));
	json_object_set_new(d, "last_reminder_at", api_col_time(r, i, 11));
	json_object_set_new(d, "next_reminder_at", api_col_time(r, i, 12));
	json_object_set_new(d, "message_id", api_col_int(r, i, 13));
	json_object_set_new(d, "answer_message_id", api_col_int(r, i, 14));
	json_object_set_new(d, "ticket_id", api_col_int(r, i, 15));
	return d;
}

void escalate_list(struct api_call *c)
{
	const char *v[1] = { pool_printf(c->req->pool, "%lld", c->id[0]) };

	api_answer_rows(c, "esc_list", 1, v, "escalations", esc_doc);
}

static const char *esc_outcome(const json_t *body)
{
	static const char *const ok[] = { "answered", "department_contacts", "cancelled" };
	const char *s = json_string_value(json_object_get(body, "outcome"));

	for (size_t i = 0; s != NULL && i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(s, ok[i]) == 0)
			return ok[i];
	return NULL;
}

/* the writes of a close; 0, 1 not open (409), -1 database */
static int esc_close_writes(struct api_call *c, const char *id, const char *outcome,
			    long long *ticket)
{
	const char *now = api_now_iso(c, 0), *v[4] = { id, outcome, now, c->session->login };
	struct db_res *r = db_query(c->db, "esc_lock_one", 1, v, NULL, NULL, 0);
	const char *tv[2], *token;

	if (r == NULL || db_res_rows(r) != 1 || strcmp(db_res_val(r, 0, 1), "open") != 0) {
		int n = r == NULL ? -1 : db_res_rows(r) == 1 ? 1 : 2;

		db_res_free(r);
		return n;
	}
	*ticket = db_res_ll(r, 0, 0);
	token = pool_strdup(c->req->pool, db_res_val(r, 0, 2));
	db_res_free(r);
	tv[0] = pool_printf(c->req->pool, "%lld", *ticket);
	tv[1] = now;
	if (db_cmd(c->db, "esc_close", 4, v, NULL, NULL) != 1 ||
	    (r = db_query(c->db, "esc_ticket_back", 2, tv, NULL, NULL, 0)) == NULL)
		return -1;
	db_res_free(r);
	if (esc_event(c, *ticket, now, "escalation_closed",
		      pool_printf(c->req->pool, "%s %s", token, outcome)) < 0 ||
	    esc_notify(c, *ticket, "escalation_closed", 0) < 0)
		return -1;
	return 0;
}

void escalate_close(struct api_call *c)
{
	json_t *body = api_body_object(c);
	const char *outcome, *id = pool_printf(c->req->pool, "%lld", c->id[0]);
	long long ticket = 0;
	int r;

	if (body == NULL)
		return;
	outcome = esc_outcome(body);
	json_decref(body);
	if (outcome == NULL) {
		api_error(c, 400, "outcome: answered, department_contacts or cancelled");
		return;
	}
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	r = esc_close_writes(c, id, outcome, &ticket);
	if (r != 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		api_error(c, r == 1 ? 409 : r == 2 ? 404 : 503,
			  r == 1 ? "the escalation is closed already" : r == 2 ? "no such escalation"
									: "database unavailable");
		return;
	}
	log_info("ticket=%lld: escalation=%s closed by %s: %s", ticket, id, c->session->login,
		 outcome);
	{
		const char *v[1] = { id };
		struct db_res *q = db_query(c->db, "esc_one", 1, v, NULL, NULL, 0);

		if (q == NULL || db_res_rows(q) != 1)
			api_error(c, 503, "database unavailable");
		else
			api_json(c, 200, esc_doc(q, 0));
		db_res_free(q);
	}
}

/* ---- GET /api/escalations/stats ---- */

static int esc_date_ok(const char *s)
{
	int y, m, d;
	char tail;

	return s != NULL && strlen(s) == 10 && s[4] == '-' && s[7] == '-' &&
	       sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && m >= 1 && m <= 12 && d >= 1 &&
	       d <= 31;
}

void escalate_stats(struct api_call *c)
{
	const char *v[2] = { http_query(c->req, "from"), http_query(c->req, "to") };
	struct db_res *r;
	json_t *list;

	if (!esc_date_ok(v[0]) || !esc_date_ok(v[1]) || strcmp(v[0], v[1]) > 0) {
		api_error(c, 400, "from, to: dates YYYY-MM-DD (Tokyo), from not after to");
		return;
	}
	if ((r = db_query(c->db, "esc_stats", 2, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 400, "from, to: not dates");
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++) {
		const char *sec = db_res_val(r, i, 2);

		json_array_append_new(list, json_pack(
			"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "department_id",
			api_col_int(r, i, 0), "department",
			sec[0] ? json_sprintf("%s > %s", db_res_val(r, i, 1), sec)
			       : json_string(db_res_val(r, i, 1)),
			"sent", api_col_int(r, i, 3), "answered", api_col_int(r, i, 4),
			"department_contacts", api_col_int(r, i, 5), "cancelled", api_col_int(r, i, 6),
			"open", api_col_int(r, i, 7), "avg_answer_seconds", api_col_int(r, i, 8),
			"reminders", api_col_int(r, i, 9)));
	}
	db_res_free(r);
	api_json(c, 200, json_pack("{s:s, s:s, s:o}", "from", v[0], "to", v[1], "departments",
				   list));
}
