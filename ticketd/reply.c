/* Sending replies: preview, queue, cancel.  The design is in reply.h.
 *
 * Preview and send run the same composition (reply_compose): the draft
 * checked, the ticket and the message answered loaded, the attachments
 * resolved to this ticket's own blobs, the Bcc rule applied, the bytes
 * built once by lib/mailout.  Preview answers with those bytes and with
 * what lib/mime reads back from them; send stores them.  A second build
 * differs from a preview only in Date, Message-ID and the multipart
 * boundary (each build is a new mail); every other byte is the same.
 *
 * Send holds the ticket row lock (SELECT ... FOR UPDATE) from before the
 * conflict check until COMMIT: two operators answering the same mail at
 * the same moment are serialised there, and the second one sees the
 * first one's reply and gets 409. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "mailout.h"
#include "mime.h"
#include "pool.h"
#include "reply.h"
#include "reply_draft.h"
#include "reply_int.h"
#include "templates.h"
#include "upload.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
/* memory of one composition: attachments (max_att_bytes, at most 64 MiB),
 * their base64 in the built mail, and what mime reads back */
#define REPLY_POOL_MAX (320u << 20)
#define REPLY_RAW_MAX (100u << 20)

const struct config_key reply_config_keys[] = {
	{ "ticketd.send_delay_seconds", CFG_INT, "30", 0, 3600,
	  "seconds a queued reply waits before escalationd may send it: the operator's cancel window" },
	{ "ticketd.reply_templates", CFG_PATH, "templates/reply", 0, 0,
	  "folder of the reply templates (one NAME.txt per template; admins may write it)" },
	{ "ticketd.reply_max_attachment_bytes", CFG_INT, "10485760", 0, 67108864,
	  "largest total size of the attachments of one reply" },
	{ "mail.from_addr", CFG_STR, "madoguchi@localhost.localdomain", 0, 0,
	  "From address (and envelope sender) of the centre's mail" },
	{ "mail.from_name", CFG_STR, "区民相談窓口", 0, 0, "display name in From of the centre's mail" },
	{ "mail.message_id_domain", CFG_STR, "localhost.localdomain", 0, 0,
	  "right-hand side of the Message-IDs the centre's mail gets" },
	{ "mail.iso2022jp_domains", CFG_STR,
	  "docomo.ne.jp,ezweb.ne.jp,softbank.ne.jp,vodafone.ne.jp,pdx.ne.jp,willcom.com", 0, 0,
	  "comma list of recipient domains (and their subdomains) that get ISO-2022-JP mail: old"
	  " carrier phones" },
	{ "mail.internal_domains", CFG_STR, "", 0, 0,
	  "comma list of the organisation's own domains (empty: that of mail.from_addr); two or more"
	  " other addresses in To/Cc of a reply go to Bcc" },
	{ "centre.name", CFG_STR, "区民相談窓口", 0, 0, "the centre's name ({{centre.name}} in templates)" },
	{ "centre.signature", CFG_STR,
	  "――――――――――――――――\\n区民相談窓口\\n電話 03-0000-0000（平日 8時30分から17時15分）", 0, 0,
	  "the signature ({{centre.signature}} in templates); \\n starts a new line; no wave"
	  " dash or circled digits, or old phones get UTF-8 instead of ISO-2022-JP" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

struct reply_conf reply_conf;

static const struct db_stmt reply_stmts[] = {
	{ "reply_ticket",
	  "SELECT t.id, t.subject, t.status, coalesce(t.correspondent, ''),"
	  " " US("coalesce((SELECT min(i.arrived_at) FROM message m JOIN inbound_item i"
		 " ON i.id = m.inbound_item_id WHERE m.ticket_id = t.id), t.created_at)")
	  " FROM ticket t WHERE t.id = $1" },
	{ "reply_lock", "SELECT id FROM ticket WHERE id = $1 FOR UPDATE" },
	{ "reply_parent",
	  "SELECT m.id, m.subject, m.from_name, m.from_addr, m.message_id_hdr, m.references_hdr,"
	  " coalesce(m.inbound_item_id, 0) FROM message m"
	  " WHERE m.ticket_id = $1 AND m.direction = 'in' AND CASE WHEN $2::bigint IS NULL"
	  " THEN m.auto_kind IS NULL ELSE m.id = $2::bigint END ORDER BY m.id DESC LIMIT 1" },
	/* the header of a mail is at its start; 256 KiB holds any real one */
	{ "reply_head", "SELECT substring(raw from 1 for 262144) FROM inbound_item WHERE id = $1" },
	{ "reply_atts",
	  "SELECT a.message_id, a.idx, a.filename, a.content_type, a.size, encode(a.sha256, 'hex')"
	  " FROM attachment a JOIN message m ON m.id = a.message_id WHERE m.ticket_id = $1"
	  " ORDER BY a.message_id, a.idx" },
	{ "reply_blob", "SELECT data FROM blob WHERE sha256 = decode($1, 'hex')" },
	/* a reply queued after the message answered, not taken back */
	{ "reply_conflict",
	  "SELECT m.id, o.created_by, " US("o.created_at") ", o.state FROM message m"
	  " JOIN outbound_mail o ON o.message_id = m.id WHERE m.ticket_id = $1 AND m.id > $2"
	  " AND o.kind = 'reply' AND o.state NOT IN ('cancelled', 'returned')"
	  " ORDER BY m.id DESC LIMIT 1" },
	{ "reply_newer_in",
	  "SELECT m.id, " US("m.created_at") " FROM message m WHERE m.ticket_id = $1"
	  " AND m.direction = 'in' AND m.id > $2 AND m.auto_kind IS NULL ORDER BY m.id DESC LIMIT 1" },
	{ "reply_msg_insert",
	  "INSERT INTO message (ticket_id, direction, subject, from_name, from_addr, to_list,"
	  " cc_list, date_header, message_id_hdr, in_reply_to, references_hdr, body_text,"
	  " parse_state, created_at, delivery_state)"
	  " VALUES ($1, 'out', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'ok', $12, $13)"
	  " RETURNING id" },
	{ "reply_att_insert",
	  "INSERT INTO attachment (message_id, idx, filename, content_type, size, sha256)"
	  " SELECT $1, $2, a.filename, a.content_type, a.size, a.sha256 FROM attachment a"
	  " WHERE a.message_id = $3 AND a.idx = $4" },
	{ "reply_outbound_insert",
	  "INSERT INTO outbound_mail (message_id, ticket_id, kind, env_from, rcpt, raw, not_before,"
	  " created_by, created_at, state, approval, template, draft) VALUES ($1, $2, 'reply', $3,"
	  " ARRAY(SELECT json_array_elements_text($4::json)), $5, $6, $7, $8, $9, $10, $11,"
	  " $12::jsonb) RETURNING id" },
	{ "reply_event",
	  "INSERT INTO ticket_event (ticket_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)" },
	/* approval (approval.h): the ticket's queue says so */
	{ "reply_queue_approval",
	  "SELECT s.approval_required FROM ticket t JOIN queue_setting s ON s.queue = t.queue"
	  " WHERE t.id = $1" },
	/* held: the citizen has no answer yet, so the status stays */
	{ "reply_ticket_held", "UPDATE ticket SET updated_at = $2 WHERE id = $1 RETURNING status" },
	/* an approver's edit, rebuilt (reply_rebuild) */
	{ "reply_msg_rebuilt",
	  "UPDATE message SET subject = $2, to_list = $3, cc_list = $4, date_header = $5,"
	  " message_id_hdr = $6, body_text = $7 WHERE id = $1" },
	{ "reply_out_rebuilt",
	  "UPDATE outbound_mail SET raw = $2, rcpt = ARRAY(SELECT json_array_elements_text($3::json)),"
	  " draft = $4::jsonb WHERE id = $1" },
	{ "reply_ticket_sent",
	  "UPDATE ticket SET status = CASE WHEN status IN ('new', 'open') THEN 'waiting_citizen'"
	  " ELSE status END, updated_at = $2, has_new_reply = false WHERE id = $1 RETURNING status" },
	{ "reply_notify",
	  "SELECT pg_notify('ticket_change', json_build_object('id', $1::bigint, 'op', $2::text)::text),"
	  " pg_notify('outbound', $3)" },
	{ "reply_out_lock",
	  "SELECT o.ticket_id, o.message_id, o.state, " US("o.not_before") ", o.attempts"
	  " FROM outbound_mail o WHERE o.id = $1 FOR UPDATE" },
	{ "reply_out_cancel", "UPDATE outbound_mail SET state = 'cancelled' WHERE id = $1" },
	{ "reply_msg_cancel",
	  "UPDATE message SET delivery_state = 'cancelled', delivery_note = $2 WHERE id = $1" },
	/* $3: the reply was queued (a held one never moved the status) */
	{ "reply_ticket_cancel",
	  "UPDATE ticket SET status = CASE WHEN $3 AND status = 'waiting_citizen' THEN 'open'"
	  " ELSE status END, updated_at = $2 WHERE id = $1" },
	{ NULL, NULL },
};

void reply_prepare(struct db *db)
{
	db_prepare_all(db, reply_stmts);
}

/* ---- configuration ---- */

static char *reply_dup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		log_fatal("out of memory");
	return d;
}

/* "\n" in a one-line config value starts a new line */
static char *reply_unescape(const char *s)
{
	char *d = reply_dup(s), *o = d;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return d;
}

static void reply_conf_free(void)
{
	char **f[] = { &reply_conf.from_addr,	  &reply_conf.from_name,
		       &reply_conf.msgid_domain,  &reply_conf.jis_domains,
		       &reply_conf.internal_domains, &reply_conf.centre_name,
		       &reply_conf.centre_signature, &reply_conf.templates_dir,
		       &reply_conf.tag_format };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
}

void reply_configure(const struct config *cfg)
{
	const char *from = config_str(cfg, "mail.from_addr"), *at = strrchr(from, '@');
	const char *internal = config_str(cfg, "mail.internal_domains");

	reply_conf_free();
	reply_conf.from_addr = reply_dup(from);
	reply_conf.from_name = reply_dup(config_str(cfg, "mail.from_name"));
	reply_conf.msgid_domain = reply_dup(config_str(cfg, "mail.message_id_domain"));
	reply_conf.jis_domains = reply_dup(config_str(cfg, "mail.iso2022jp_domains"));
	reply_conf.internal_domains = reply_dup(internal[0] != '\0' ? internal
						: at != NULL ? at + 1 : "");
	reply_conf.centre_name = reply_dup(config_str(cfg, "centre.name"));
	reply_conf.centre_signature = reply_unescape(config_str(cfg, "centre.signature"));
	reply_conf.templates_dir = reply_dup(config_path(cfg, "ticketd.reply_templates"));
	reply_conf.tag_format = reply_dup(config_str(cfg, "ticketd.subject_tag"));
	reply_conf.delay_s = config_int(cfg, "ticketd.send_delay_seconds");
	reply_conf.max_att_bytes = config_int(cfg, "ticketd.reply_max_attachment_bytes");
	if (!reply_addr_ok(from))
		log_warn("mail.from_addr \"%s\" is not a plain address: replies will fail", from);
}

/* ---- loading what a reply answers ---- */

static const char *reply_str(struct pool *p, const struct db_res *r, int col)
{
	return db_res_null(r, 0, col) ? NULL
				      : pool_strndup(p, db_res_val(r, 0, col),
						     (size_t)db_res_len(r, 0, col));
}

int reply_load_ticket(struct api_call *c, struct pool *p, long long id, struct reply_ticket *t)
{
	char ids[24];
	const char *v[1] = { ids };
	struct db_res *r;
	int found;

	snprintf(ids, sizeof(ids), "%lld", id);
	if ((r = db_query(c->db, "reply_ticket", 1, v, NULL, NULL, 0)) == NULL)
		return -1;
	found = db_res_rows(r) == 1;
	if (found) {
		t->id = id;
		t->subject = reply_str(p, r, 1);
		t->status = reply_str(p, r, 2);
		t->correspondent = reply_str(p, r, 3);
		t->received_us = db_res_ll(r, 0, 4);
	}
	db_res_free(r);
	return found;
}

int reply_load_parent(struct api_call *c, struct pool *p, long long ticket, long long want,
		      struct reply_parent *m)
{
	char ts[24], ws[24];
	const char *v[2] = { ts, want > 0 ? ws : NULL };
	struct db_res *r;
	int found;

	snprintf(ts, sizeof(ts), "%lld", ticket);
	snprintf(ws, sizeof(ws), "%lld", want);
	if ((r = db_query(c->db, "reply_parent", 2, v, NULL, NULL, 0)) == NULL)
		return -1;
	found = db_res_rows(r) == 1;
	if (found) {
		m->id = db_res_ll(r, 0, 0);
		m->subject = reply_str(p, r, 1);
		m->from_name = reply_str(p, r, 2);
		m->from_addr = reply_str(p, r, 3);
		m->msgid = reply_str(p, r, 4);
		m->refs = reply_str(p, r, 5);
		m->item = db_res_ll(r, 0, 6);
	}
	db_res_free(r);
	return found;
}

/* the Reply-To of the parent's raw header, read by lib/mime */
static void reply_reply_to(struct api_call *c, struct pool *p, long long item,
			   struct reply_list *to)
{
	char is[24];
	const char *v[1] = { is }, *raw, *end;
	struct mime_limits lim;
	struct mime_mail mm;
	struct db_res *r;
	size_t n;

	to->n = 0;
	snprintf(is, sizeof(is), "%lld", item);
	if (item <= 0 || (r = db_query(c->db, "reply_head", 1, v, NULL, NULL, 1)) == NULL)
		return;
	if (db_res_rows(r) == 1) {
		raw = db_res_val(r, 0, 0);
		n = (size_t)db_res_len(r, 0, 0);
		/* the header only: the body may be megabytes we do not need */
		if ((end = memmem(raw, n, "\r\n\r\n", 4)) != NULL ||
		    (end = memmem(raw, n, "\n\n", 2)) != NULL)
			n = (size_t)(end - raw) + 2;
		mime_limits_default(&lim);
		if (mime_parse(p, raw, n, &lim, &mm) == 0 && mm.reply_to != NULL &&
		    mm.reply_to[0] != '\0')
			reply_addr_split(p, mm.reply_to, to, REPLY_DRAFT_MAX_FIELD);
	}
	db_res_free(r);
}

void reply_default_to(struct api_call *c, struct pool *p, const struct reply_ticket *t,
		      const struct reply_parent *m, struct reply_list *to)
{
	to->n = 0;
	if (m != NULL)
		reply_reply_to(c, p, m->item, to);
	if (to->n > 0)
		return;
	if ((to->a = pool_zalloc(p, sizeof(*to->a))) == NULL)
		return;
	if (m != NULL && m->from_addr != NULL && reply_addr_ok(m->from_addr)) {
		to->a[0].name = m->from_name ? m->from_name : "";
		to->a[0].addr = m->from_addr;
		to->n = 1;
	} else if (t->correspondent != NULL && reply_addr_ok(t->correspondent)) {
		to->a[0].name = "";
		to->a[0].addr = t->correspondent;
		to->n = 1;
	}
}

/* past any "Re:", "RE:", "Re：", "Fwd:" the citizen's mailer put in front */
static const char *reply_strip_re(const char *s)
{
	static const char *const pre[] = { "Re:", "RE:", "re:", "Re\xef\xbc\x9a", "RE\xef\xbc\x9a",
					   "Fw:", "FW:", "Fwd:", "FWD:" };
	int again = 1;

	while (again) {
		again = 0;
		while (*s == ' ')
			s++;
		for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
			if (strncmp(s, pre[i], strlen(pre[i])) == 0) {
				s += strlen(pre[i]);
				again = 1;
			}
	}
	return s;
}

/* subject with the ticket's tag; an empty ticketd.subject_tag tags nothing */
static const char *reply_tag(struct pool *p, long long id, const char *subject)
{
	if (reply_conf.tag_format[0] == '\0')
		return subject;
	return mailout_tag_subject(p, reply_conf.tag_format, id, subject);
}

const char *reply_subject(struct pool *p, const struct reply_ticket *t,
			  const struct reply_parent *m, const char *given)
{
	const char *orig, *tagged;

	if (given != NULL && given[0] != '\0')
		return reply_tag(p, t->id, given);
	orig = m != NULL && m->subject != NULL && m->subject[0] != '\0' ? m->subject : t->subject;
	tagged = reply_tag(p, t->id, reply_strip_re(orig ? orig : ""));
	return tagged ? pool_printf(p, "Re: %s", tagged) : NULL;
}

json_t *reply_ticket_attachments(struct api_call *c, long long ticket)
{
	char ts[24];
	const char *v[1] = { ts };
	struct db_res *r;
	json_t *list;

	snprintf(ts, sizeof(ts), "%lld", ticket);
	if ((r = db_query(c->db, "reply_atts", 1, v, NULL, NULL, 0)) == NULL)
		return NULL;
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o, s:o}", "message_id",
						      api_col_int(r, i, 0), "idx",
						      api_col_int(r, i, 1), "filename",
						      api_col_str(r, i, 2), "content_type",
						      api_col_str(r, i, 3), "size",
						      api_col_int(r, i, 4)));
	db_res_free(r);
	return list;
}

/* ---- composing ---- */

struct reply_job {
	struct api_call *c;
	struct pool *p;
	long long ticket; /* the ticket answered */
	struct reply_draft d;
	const char *template_name; /* the template the composer used; NULL if none */
	const char *approval;      /* why the reply is held: "queue", "template"; NULL */
	struct reply_ticket t;
	struct reply_parent par;
	int has_parent;
	struct mailout_attachment *att; /* d.att resolved, in order */
	const char **att_sha;
	json_t *att_doc;
	const char *subject, *refs;
	int jis;
	int64_t date_us;
	struct buf raw;
	char msgid[300];
	json_t *rcpt; /* the envelope */
	/* the answer when something is refused */
	int status;
	const char *why;
	json_t *extra;
};

static int reply_fail(struct reply_job *j, int status, const char *why)
{
	j->status = status;
	j->why = why ? why : "out of memory";
	return -1;
}

/* the type of an attachment row as mailout takes it: no parameters */
static const char *reply_type(struct pool *p, const char *s)
{
	size_t n = strcspn(s, "; \t");
	char *t = pool_strndup(p, s, n);
	const char *slash = t ? strchr(t, '/') : NULL;

	if (t == NULL || slash == NULL || slash == t || slash[1] == '\0' || strchr(slash + 1, '/'))
		return "application/octet-stream";
	for (char *c = t; *c != '\0'; c++) {
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f ||
		    strchr("()<>@,;:\\\"[]?=", *c) != NULL)
			return "application/octet-stream";
	}
	return t;
}

static int reply_blob(struct reply_job *j, const char *sha, struct mailout_attachment *a)
{
	const char *v[1] = { sha };
	struct db_res *r = db_query(j->c->db, "reply_blob", 1, v, NULL, NULL, 1);

	if (r == NULL)
		return reply_fail(j, 503, "database unavailable");
	if (db_res_rows(r) != 1) {
		db_res_free(r);
		return reply_fail(j, 500, "an attachment's bytes are missing");
	}
	a->size = (size_t)db_res_len(r, 0, 0);
	a->data = pool_memdup(j->p, db_res_val(r, 0, 0), a->size > 0 ? a->size : 1);
	db_res_free(r);
	return a->data != NULL ? 0 : reply_fail(j, 413, "attachments too large to build");
}

/* the row of attachment ref in the ticket's list, or -1 */
static int reply_att_row(const struct db_res *r, const struct reply_attref *ref)
{
	for (int i = 0; i < db_res_rows(r); i++)
		if (db_res_ll(r, i, 0) == ref->message_id && db_res_ll(r, i, 1) == ref->idx)
			return i;
	return -1;
}

/* a file uploaded for this reply (upload.h): of this ticket, not sent yet */
static int reply_att_upload(struct reply_job *j, size_t k, long long *total)
{
	const struct reply_attref *ref = &j->d.att[k];
	struct mailout_attachment *a = &j->att[k];
	struct upload_file f;
	int r = upload_load(j->c->db, j->p, ref->upload_id, &f);

	if (r < 0)
		return reply_fail(j, 503, "database unavailable");
	if (r == 0 || f.ticket != j->t.id)
		return reply_fail(j, 400, pool_printf(j->p, "attachments: upload %lld is not one of "
							    "this ticket's", ref->upload_id));
	if (f.used)
		return reply_fail(j, 400, pool_printf(j->p, "attachments: upload %lld was sent "
							    "already: choose it among the ticket's "
							    "attachments", ref->upload_id));
	*total += (long long)f.size;
	if (*total > reply_conf.max_att_bytes)
		return reply_fail(j, 400, pool_printf(j->p, "attachments: together larger than "
							    "%ld bytes", reply_conf.max_att_bytes));
	a->filename = f.filename;
	a->content_type = reply_type(j->p, f.content_type);
	a->data = f.data;
	a->size = f.size;
	json_array_append_new(j->att_doc, json_pack("{s:I, s:s, s:s, s:I}", "upload_id",
						    (json_int_t)ref->upload_id, "filename",
						    f.filename, "content_type", f.content_type,
						    "size", (json_int_t)f.size));
	return 0;
}

static int reply_att_one(struct reply_job *j, const struct db_res *r, size_t k, long long *total)
{
	const struct reply_attref *ref = &j->d.att[k];
	struct mailout_attachment *a = &j->att[k];
	int row = reply_att_row(r, ref);

	for (size_t x = 0; x < k; x++)
		if (j->d.att[x].message_id == ref->message_id && j->d.att[x].idx == ref->idx &&
		    j->d.att[x].upload_id == ref->upload_id)
			return reply_fail(j, 400, "attachments: the same attachment twice");
	if (ref->upload_id > 0)
		return reply_att_upload(j, k, total);
	if (row < 0)
		return reply_fail(j, 400, pool_printf(j->p, "attachments: message %lld attachment "
							    "%lld is not one of this ticket's",
						      ref->message_id, ref->idx));
	*total += db_res_ll(r, row, 4);
	if (*total > reply_conf.max_att_bytes)
		return reply_fail(j, 400, pool_printf(j->p, "attachments: together larger than "
							    "%ld bytes", reply_conf.max_att_bytes));
	a->filename = pool_strdup(j->p, db_res_val(r, row, 2));
	a->content_type = reply_type(j->p, db_res_val(r, row, 3));
	j->att_sha[k] = pool_strdup(j->p, db_res_val(r, row, 5));
	json_array_append_new(j->att_doc, json_pack("{s:I, s:I, s:s, s:s, s:I}", "message_id",
						    (json_int_t)ref->message_id, "idx",
						    (json_int_t)ref->idx, "filename", a->filename,
						    "content_type", db_res_val(r, row, 3), "size",
						    (json_int_t)db_res_ll(r, row, 4)));
	return 0;
}

/* d.att -> the ticket's own attachment rows and their bytes */
static int reply_attachments(struct reply_job *j)
{
	char ts[24];
	const char *v[1] = { ts };
	struct db_res *r;
	long long total = 0;
	int rc = 0;

	j->att_doc = json_array();
	j->att = pool_zalloc(j->p, (j->d.natt + 1) * sizeof(*j->att));
	j->att_sha = pool_zalloc(j->p, (j->d.natt + 1) * sizeof(*j->att_sha));
	if (j->att == NULL || j->att_sha == NULL)
		return reply_fail(j, 500, NULL);
	if (j->d.natt == 0)
		return 0;
	snprintf(ts, sizeof(ts), "%lld", j->t.id);
	if ((r = db_query(j->c->db, "reply_atts", 1, v, NULL, NULL, 0)) == NULL)
		return reply_fail(j, 503, "database unavailable");
	for (size_t k = 0; k < j->d.natt && rc == 0; k++)
		rc = reply_att_one(j, r, k, &total);
	db_res_free(r);
	for (size_t k = 0; k < j->d.natt && rc == 0; k++)
		if (j->att_sha[k] != NULL) /* uploads have their bytes already */
			rc = reply_blob(j, j->att_sha[k], &j->att[k]);
	return rc;
}

/* the envelope (every address once) and whether ISO-2022-JP is due */
static void reply_envelope(struct reply_job *j)
{
	const struct reply_list *ls[3] = { &j->d.to, &j->d.cc, &j->d.bcc };

	j->rcpt = json_array();
	j->jis = 0;
	for (int f = 0; f < 3; f++)
		for (size_t i = 0; i < ls[f]->n; i++) {
			json_array_append_new(j->rcpt, json_string(ls[f]->a[i].addr));
			j->jis |= reply_domain_in(ls[f]->a[i].addr, reply_conf.jis_domains);
		}
}

/* References: the parent's, then the parent itself */
static const char *reply_refs(struct reply_job *j)
{
	if (!j->has_parent || j->par.msgid == NULL)
		return j->has_parent ? j->par.refs : NULL;
	if (j->par.refs == NULL || j->par.refs[0] == '\0')
		return j->par.msgid;
	return pool_printf(j->p, "%s %s", j->par.refs, j->par.msgid);
}

static int reply_build(struct reply_job *j)
{
	struct mailout m;
	const char *err = NULL;
	int64_t now = clock_now_us();

	memset(&m, 0, sizeof(m));
	j->date_us = now - now % 1000000; /* the Date header has whole seconds */
	j->refs = reply_refs(j);
	m.from_name = reply_conf.from_name;
	m.from_addr = reply_conf.from_addr;
	/* everyone in Bcc: the centre's own address stands in To */
	m.to = j->d.to.n > 0 || j->d.cc.n > 0 ? reply_list_header(j->p, &j->d.to)
					      : reply_conf.from_addr;
	m.cc = reply_list_header(j->p, &j->d.cc);
	m.subject = j->subject;
	m.body = j->d.body;
	m.in_reply_to = j->has_parent ? j->par.msgid : NULL;
	m.references = j->refs;
	m.iso2022jp = j->jis;
	m.message_id_domain = reply_conf.msgid_domain;
	m.date_us = j->date_us;
	m.att = j->att;
	m.natt = j->d.natt;
	buf_init(&j->raw, REPLY_RAW_MAX);
	if (mailout_build(j->p, &m, &j->raw, j->msgid, sizeof(j->msgid), &err) < 0)
		return reply_fail(j, 400, pool_printf(j->p, "the mail cannot be built: %s", err));
	return 0;
}

/* everything but the database writes; *j->status etc. set on refusal */
static int reply_compose(struct reply_job *j)
{
	int r = reply_load_ticket(j->c, j->p, j->ticket, &j->t);

	if (r <= 0)
		return reply_fail(j, r < 0 ? 503 : 404, r < 0 ? "database unavailable"
							    : "no such ticket");
	r = reply_load_parent(j->c, j->p, j->t.id, j->d.replying_to, &j->par);
	if (r < 0)
		return reply_fail(j, 503, "database unavailable");
	if (r == 0 && j->d.replying_to > 0)
		return reply_fail(j, 400, "replying_to: not an incoming message of this ticket");
	j->has_parent = r;
	if (reply_attachments(j) < 0)
		return -1;
	reply_draft_hide(j->p, &j->d, reply_conf.internal_domains);
	reply_envelope(j);
	j->subject = reply_subject(j->p, &j->t, j->has_parent ? &j->par : NULL, j->d.subject);
	if (j->subject == NULL)
		return reply_fail(j, 500, "ticketd.subject_tag is not a valid tag format");
	return reply_build(j);
}

/* ---- the mis-send checks that need the database ---- */

/* a reply or a citizen's mail newer than the message answered: 1 with
 * j->extra set, 0 none, -1 database error */
static int reply_conflict(struct reply_job *j, json_t **out)
{
	char ts[24], ms[24];
	const char *v[2] = { ts, ms };
	struct db_res *r;

	*out = NULL;
	snprintf(ts, sizeof(ts), "%lld", j->t.id);
	snprintf(ms, sizeof(ms), "%lld", j->has_parent ? j->par.id : 0LL);
	if ((r = db_query(j->c->db, "reply_conflict", 2, v, NULL, NULL, 0)) == NULL)
		return -1;
	if (db_res_rows(r) == 1)
		*out = json_pack("{s:s, s:o, s:o, s:o, s:o}", "kind", "reply", "message_id",
				 api_col_int(r, 0, 0), "by", api_col_str(r, 0, 1), "at",
				 api_col_time(r, 0, 2), "state", api_col_str(r, 0, 3));
	db_res_free(r);
	if (*out != NULL)
		return 1;
	if ((r = db_query(j->c->db, "reply_newer_in", 2, v, NULL, NULL, 0)) == NULL)
		return -1;
	if (db_res_rows(r) == 1)
		*out = json_pack("{s:s, s:o, s:n, s:o}", "kind", "newer_mail", "message_id",
				 api_col_int(r, 0, 0), "by", "at", api_col_time(r, 0, 1));
	db_res_free(r);
	return *out != NULL;
}

/* ---- answers ---- */

static json_t *reply_strings(struct pool *p, const struct reply_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(reply_addr_show(p, &l->a[i])));
	return a;
}

/* what lib/mime reads from the built bytes: what the citizen's mailer shows */
static json_t *reply_decoded(struct reply_job *j)
{
	struct mime_limits lim;
	struct mime_mail m;
	json_t *atts = json_array(), *doc;
	char date[40];

	mime_limits_default(&lim);
	if (mime_parse(j->p, j->raw.data, j->raw.len, &lim, &m) < 0) {
		json_decref(atts);
		return json_null();
	}
	for (size_t i = 0; i < m.natt; i++)
		json_array_append_new(atts, json_pack("{s:s?, s:s?, s:I}", "filename",
						      m.att[i].filename, "content_type",
						      m.att[i].content_type, "size",
						      (json_int_t)m.att[i].size));
	doc = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:o}", "subject",
			m.subject, "from_name", m.from_name, "from_addr", m.from_addr, "to", m.to,
			"cc", m.cc, "body_text", m.body_text, "message_id", m.message_id,
			"in_reply_to", m.in_reply_to, "references", m.references, "attachments",
			atts);
	if (doc != NULL)
		json_object_set_new(doc, "date",
				    json_string(clock_format_iso(m.date_us, date, sizeof(date))));
	return doc;
}

/* the charset of the text part as written: "ISO-2022-JP" or "UTF-8" ... */
static json_t *reply_charset(const struct reply_job *j)
{
	const char *s = strstr(j->raw.data, "Content-Type: text/plain; charset=");
	size_t n;

	if (s == NULL)
		return json_null();
	s += strlen("Content-Type: text/plain; charset=");
	n = strcspn(s, "\r\n; ");
	return json_stringn(s, n);
}

static json_t *reply_preview_doc(struct reply_job *j)
{
	json_t *unr = json_array(), *una = json_array(), *conflict = NULL, *doc;
	char date[40];

	reply_draft_unconfirmed(&j->d, unr, una);
	if (reply_conflict(j, &conflict) < 0)
		conflict = NULL;
	doc = json_pack("{s:s%, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:O, s:b, s:o, s:O}", "raw",
			j->raw.data, j->raw.len, "message_id", j->msgid, "date",
			clock_format_iso(j->date_us, date, sizeof(date)), "subject", j->subject,
			"to", reply_strings(j->p, &j->d.to), "cc", reply_strings(j->p, &j->d.cc),
			"bcc", reply_strings(j->p, &j->d.bcc), "moved_to_bcc",
			reply_strings(j->p, &j->d.moved), "rcpt", j->rcpt, "iso2022jp", j->jis,
			"charset", reply_charset(j), "attachments", j->att_doc);
	if (doc == NULL)
		return NULL;
	json_object_set_new(doc, "replying_to", j->has_parent ? json_integer(j->par.id) : json_null());
	json_object_set_new(doc, "unconfirmed_recipients", unr);
	json_object_set_new(doc, "unconfirmed_attachments", una);
	json_object_set_new(doc, "conflict", conflict ? conflict : json_null());
	json_object_set_new(doc, "decoded", reply_decoded(j));
	return doc;
}

static void reply_answer_fail(struct reply_job *j)
{
	if (j->extra != NULL) {
		json_object_set_new(j->extra, "error", json_string(j->why));
		api_json(j->c, j->status, j->extra);
		j->extra = NULL;
	} else
		api_error(j->c, j->status, j->why);
}

static void reply_job_end(struct reply_job *j)
{
	buf_free(&j->raw);
	json_decref(j->rcpt);
	json_decref(j->att_doc);
	json_decref(j->extra);
	pool_destroy(j->p);
}

/* the draft's "template": the name of the template it was written from */
static int reply_template_arg(struct reply_job *j, const json_t *body, const char **err)
{
	const json_t *v = json_object_get(body, "template");

	j->template_name = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !templates_name_ok(json_string_value(v))) {
		*err = "template: must be the name of a template or null";
		return -1;
	}
	j->template_name = pool_strdup(j->p, json_string_value(v));
	return 0;
}

/* a job for ticket with its draft read from body (not taken); -1 after
 * answering */
static int reply_job_init(struct api_call *c, struct reply_job *j, long long ticket,
			  const json_t *body)
{
	const char *err;

	memset(j, 0, sizeof(*j));
	j->c = c;
	j->ticket = ticket;
	buf_init(&j->raw, 1);
	if ((j->p = pool_create(REPLY_POOL_MAX)) == NULL) {
		api_error(c, 500, "out of memory");
		return -1;
	}
	if (reply_draft_parse(j->p, body, &j->d, &err) < 0 ||
	    reply_template_arg(j, body, &err) < 0) {
		api_error(c, 400, err);
		pool_destroy(j->p);
		return -1;
	}
	/* subject and body point into the JSON: copy them */
	j->d.subject = pool_strdup(j->p, j->d.subject);
	j->d.body = pool_strdup(j->p, j->d.body);
	if (j->d.subject == NULL || j->d.body == NULL) {
		api_error(c, 500, "out of memory");
		pool_destroy(j->p);
		return -1;
	}
	return 0;
}

/* a job with its draft read from the request; -1 after answering */
static int reply_job_start(struct api_call *c, struct reply_job *j)
{
	json_t *body;
	int r;

	if ((body = api_body_object(c)) == NULL)
		return -1;
	r = reply_job_init(c, j, c->id[0], body);
	json_decref(body);
	return r;
}

/* Whether the reply waits for approval (approval.h) and why: the
 * ticket's queue says so, or the template it was written from does.
 * j->approval; -1 with the refusal in j. */
static int reply_approval(struct reply_job *j)
{
	char ts[24];
	const char *v[1] = { ts }, *err = NULL;
	struct templates_doc doc;
	struct db_res *r;
	int held, found;

	j->approval = NULL;
	snprintf(ts, sizeof(ts), "%lld", j->t.id);
	if ((r = db_query(j->c->db, "reply_queue_approval", 1, v, NULL, NULL, 0)) == NULL)
		return reply_fail(j, 503, "database unavailable");
	held = db_res_rows(r) == 1 && strcmp(db_res_val(r, 0, 0), "t") == 0;
	db_res_free(r);
	if (held) {
		j->approval = "queue";
		return 0;
	}
	if (j->template_name == NULL)
		return 0;
	found = templates_load(j->p, reply_conf.templates_dir, j->template_name, &doc, &err);
	if (found < 0)
		return reply_fail(j, 500, pool_printf(j->p, "template \"%s\": %s",
						      j->template_name, err));
	/* never sent unchecked because a held template was renamed meanwhile */
	if (found == 0)
		return reply_fail(j, 400, "template: no such template (choose it again)");
	if (doc.approval)
		j->approval = "template";
	return 0;
}

void reply_preview(struct api_call *c)
{
	struct reply_job j;
	json_t *doc;

	if (reply_job_start(c, &j) < 0)
		return;
	if (reply_compose(&j) < 0 || reply_approval(&j) < 0)
		reply_answer_fail(&j);
	else if ((doc = reply_preview_doc(&j)) == NULL)
		api_error(c, 500, "could not build the preview");
	else {
		json_object_set_new(doc, "approval", j.approval ? json_string(j.approval)
								 : json_null());
		api_json(c, 200, doc);
	}
	reply_job_end(&j);
}

/* ---- sending ---- */

static int reply_check_send(struct reply_job *j)
{
	json_t *unr = json_array(), *una = json_array(), *conflict;
	int r;

	if (!j->has_parent || j->d.replying_to == 0) {
		json_decref(unr);
		json_decref(una);
		return reply_fail(j, 400, "replying_to: the id of the last incoming message you "
					  "read is required");
	}
	if (reply_draft_unconfirmed(&j->d, unr, una) > 0) {
		j->extra = json_pack("{s:o, s:o}", "unconfirmed_recipients", unr,
				     "unconfirmed_attachments", una);
		return reply_fail(j, 422, "every recipient and attachment must be confirmed");
	}
	json_decref(unr);
	json_decref(una);
	if (j->d.force)
		return 0;
	if ((r = reply_conflict(j, &conflict)) < 0)
		return reply_fail(j, 503, "database unavailable");
	if (r == 0)
		return 0;
	j->extra = json_pack("{s:o}", "conflict", conflict);
	return reply_fail(j, 409, "the ticket changed after the message you answer: another reply "
				  "was queued or the citizen wrote again (send with force to send anyway)");
}

struct reply_ids {
	long long message, outbound;
	char send_at[40];
	const char *status;
};

static long long reply_insert_message(struct reply_job *j, const char *now)
{
	char ts[24], date[40];
	const char *v[13] = { ts,
			      j->subject,
			      reply_conf.from_name,
			      reply_conf.from_addr,
			      reply_list_show(j->p, &j->d.to),
			      reply_list_show(j->p, &j->d.cc),
			      clock_format_iso(j->date_us, date, sizeof(date)),
			      j->msgid,
			      j->has_parent ? j->par.msgid : NULL,
			      j->refs,
			      j->d.body,
			      now,
			      j->approval ? "awaiting_approval" : "queued" };
	struct db_res *r;
	long long id = -1;

	snprintf(ts, sizeof(ts), "%lld", j->t.id);
	if (j->d.to.n == 0 && j->d.cc.n == 0)
		v[4] = reply_conf.from_addr;
	if ((r = db_query(j->c->db, "reply_msg_insert", 13, v, NULL, NULL, 0)) != NULL &&
	    db_res_rows(r) == 1)
		id = db_res_ll(r, 0, 0);
	db_res_free(r);
	return id;
}

static int reply_insert_atts(struct reply_job *j, long long msg)
{
	char ms[24], ks[24], om[24], oi[24];
	const char *v[4] = { ms, ks, om, oi };

	snprintf(ms, sizeof(ms), "%lld", msg);
	for (size_t k = 0; k < j->d.natt; k++) {
		if (j->d.att[k].upload_id > 0) {
			if (upload_attach(j->c->db, j->d.att[k].upload_id, msg, (int)k) < 0)
				return -1;
			continue;
		}
		snprintf(ks, sizeof(ks), "%zu", k);
		snprintf(om, sizeof(om), "%lld", j->d.att[k].message_id);
		snprintf(oi, sizeof(oi), "%lld", j->d.att[k].idx);
		if (db_cmd(j->c->db, "reply_att_insert", 4, v, NULL, NULL) != 1)
			return -1;
	}
	return 0;
}

/* the recipients of l one by one, names quoted as in a header, so that
 * reply_draft_parse reads each back as it was */
static json_t *reply_entries(struct pool *p, const struct reply_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++) {
		struct reply_list one = { &l->a[i], 1 };

		json_array_append_new(a, json_string(reply_list_header(p, &one)));
	}
	return a;
}

/* The draft as composed, kept with a held reply (sql/009): recipients
 * after the Bcc rule (so keep_visible: the rule is not applied twice),
 * the subject as given, the attachments chosen, the message answered.
 * An approver's edit starts from it (reply_rebuild), and so does the
 * author when the reply is returned.  An uploaded file is named as what
 * it became, attachment k of msg, the reply's own message: the upload is
 * used up, the attachment stays with the ticket. */
static char *reply_draft_text(struct reply_job *j, long long msg)
{
	json_t *att = json_array(), *doc;
	char *text;

	for (size_t k = 0; k < j->d.natt; k++) {
		struct reply_attref ref = j->d.att[k];

		if (ref.upload_id > 0)
			ref = (struct reply_attref){ msg, (long long)k, 0 };
		json_array_append_new(att, reply_attref_json(&ref));
	}
	doc = json_pack("{s:o, s:o, s:o, s:s, s:s, s:o, s:I, s:b, s:s?}", "to",
			reply_entries(j->p, &j->d.to), "cc", reply_entries(j->p, &j->d.cc), "bcc",
			reply_entries(j->p, &j->d.bcc), "subject", j->d.subject, "body", j->d.body,
			"attachments", att, "replying_to", (json_int_t)j->d.replying_to,
			"keep_visible", 1, "template", j->template_name);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	return text;
}

static long long reply_insert_outbound(struct reply_job *j, long long msg, const char *now,
				       const char *send_at)
{
	char ms[24], ts[24];
	char *rcpt = json_dumps(j->rcpt, JSON_COMPACT);
	char *draft = j->approval ? reply_draft_text(j, msg) : NULL;
	const char *v[12] = { ms, ts, reply_conf.from_addr, rcpt, j->raw.data, send_at,
			      j->c->session->login, now, j->approval ? "awaiting_approval" : "queued",
			      j->approval, j->template_name, draft };
	const int lens[12] = { 0, 0, 0, 0, (int)j->raw.len, 0, 0, 0, 0, 0, 0, 0 };
	const int bin[12] = { 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	struct db_res *r;
	long long id = -1;

	snprintf(ms, sizeof(ms), "%lld", msg);
	snprintf(ts, sizeof(ts), "%lld", j->t.id);
	if (rcpt != NULL && (j->approval == NULL || draft != NULL) &&
	    (r = db_query(j->c->db, "reply_outbound_insert", 12, v, lens, bin, 0)) != NULL) {
		if (db_res_rows(r) == 1)
			id = db_res_ll(r, 0, 0);
		db_res_free(r);
	}
	free(rcpt);
	free(draft);
	return id;
}

/* why: the approval a held reply waits for, else NULL */
static int reply_event(struct api_call *c, long long ticket, const char *now, const char *kind,
		       long long msg, long long out, const char *why)
{
	char ts[24], detail[100];
	const char *v[5] = { ts, now, c->session->login, kind, detail };

	snprintf(ts, sizeof(ts), "%lld", ticket);
	snprintf(detail, sizeof(detail), "message %lld, outbound %lld%s%s", msg, out,
		 why ? ", approval: " : "", why ? why : "");
	return db_cmd(c->db, "reply_event", 5, v, NULL, NULL) == 1 ? 0 : -1;
}

static int reply_notify(struct api_call *c, long long ticket, const char *op, long long out)
{
	char ts[24], os[24];
	const char *v[3] = { ts, op, os };
	struct db_res *r;

	snprintf(ts, sizeof(ts), "%lld", ticket);
	snprintf(os, sizeof(os), "%lld", out);
	if ((r = db_query(c->db, "reply_notify", 3, v, NULL, NULL, 0)) == NULL)
		return -1;
	db_res_free(r);
	return 0;
}

/* the ticket's status after the reply: waiting for the citizen, unless
 * the reply waits for approval */
static const char *reply_ticket_sent(struct reply_job *j, const char *now)
{
	char ts[24];
	const char *v[2] = { ts, now }, *st = NULL;
	struct db_res *r;

	snprintf(ts, sizeof(ts), "%lld", j->t.id);
	if ((r = db_query(j->c->db, j->approval ? "reply_ticket_held" : "reply_ticket_sent", 2, v,
			  NULL, NULL, 0)) != NULL &&
	    db_res_rows(r) == 1)
		st = pool_strdup(j->p, db_res_val(r, 0, 0));
	db_res_free(r);
	return st;
}

/* the writes of reply.h, inside the caller's transaction */
static int reply_store(struct reply_job *j, struct reply_ids *ids)
{
	int64_t now_us = clock_now_us();
	char now[40];
	const char *kind = j->approval ? "reply_awaiting_approval" : "reply_queued";

	clock_format_iso(now_us, now, sizeof(now));
	clock_format_iso(now_us + (int64_t)reply_conf.delay_s * 1000000, ids->send_at,
			 sizeof(ids->send_at));
	if ((ids->message = reply_insert_message(j, now)) < 0 ||
	    reply_insert_atts(j, ids->message) < 0 ||
	    (ids->outbound = reply_insert_outbound(j, ids->message, now, ids->send_at)) < 0 ||
	    reply_event(j->c, j->t.id, now, kind, ids->message, ids->outbound, j->approval) < 0 ||
	    (ids->status = reply_ticket_sent(j, now)) == NULL ||
	    reply_notify(j->c, j->t.id, kind, ids->outbound) < 0)
		return -1;
	return 0;
}

static int reply_lock(struct api_call *c)
{
	char ts[24];
	const char *v[1] = { ts };
	struct db_res *r;
	int n;

	snprintf(ts, sizeof(ts), "%lld", c->id[0]);
	if ((r = db_query(c->db, "reply_lock", 1, v, NULL, NULL, 0)) == NULL)
		return -1;
	n = db_res_rows(r);
	db_res_free(r);
	return n;
}

/* state: queued, or awaiting_approval (then no send_at: it is sent the
 * send delay after its approval) */
static json_t *reply_sent_doc(struct reply_job *j, const struct reply_ids *ids)
{
	return json_pack("{s:I, s:I, s:s, s:s?, s:I, s:s, s:o, s:o, s:o, s:b, s:s, s:s?}",
			 "message_id", (json_int_t)ids->message, "outbound_id",
			 (json_int_t)ids->outbound, "message_id_hdr", j->msgid, "send_at",
			 j->approval ? NULL : ids->send_at, "delay_seconds",
			 (json_int_t)reply_conf.delay_s, "ticket_status", ids->status, "rcpt",
			 json_incref(j->rcpt), "moved_to_bcc", reply_strings(j->p, &j->d.moved),
			 "bcc", reply_strings(j->p, &j->d.bcc), "iso2022jp", j->jis, "state",
			 j->approval ? "awaiting_approval" : "queued", "approval", j->approval);
}

void reply_send(struct api_call *c)
{
	struct reply_job j;
	struct reply_ids ids;
	int locked;

	if (reply_job_start(c, &j) < 0)
		return;
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		reply_job_end(&j);
		return;
	}
	locked = reply_lock(c);
	if (locked <= 0)
		reply_fail(&j, locked < 0 ? 503 : 404, locked < 0 ? "database unavailable"
								  : "no such ticket");
	if (locked <= 0 || reply_compose(&j) < 0 || reply_check_send(&j) < 0 ||
	    reply_approval(&j) < 0) {
		db_rollback(c->db);
		reply_answer_fail(&j);
	} else if (reply_store(&j, &ids) < 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		api_error(c, 503, "database unavailable");
	} else if (j.approval != NULL) {
		log_info("ticket=%lld: reply by %s held for approval (%s) as outbound=%lld "
			 "(message=%lld, %zu recipients)", j.t.id, c->session->login, j.approval,
			 ids.outbound, ids.message, json_array_size(j.rcpt));
		api_json(c, 201, reply_sent_doc(&j, &ids));
	} else {
		log_info("ticket=%lld: reply queued by %s as outbound=%lld (message=%lld, %zu "
			 "recipients, send at %s)", j.t.id, c->session->login, ids.outbound,
			 ids.message, json_array_size(j.rcpt), ids.send_at);
		api_json(c, 201, reply_sent_doc(&j, &ids));
	}
	reply_job_end(&j);
}

/* ---- an approver's edit (approval.c) ---- */

long reply_send_delay_s(void)
{
	return reply_conf.delay_s;
}

static int reply_rewrite(struct reply_job *j, long long msg, long long out)
{
	char ms[24], os[24], date[40];
	char *rcpt = json_dumps(j->rcpt, JSON_COMPACT), *draft = reply_draft_text(j, msg);
	const char *vm[7] = { ms, j->subject, reply_list_show(j->p, &j->d.to),
			      reply_list_show(j->p, &j->d.cc),
			      clock_format_iso(j->date_us, date, sizeof(date)), j->msgid, j->d.body };
	const char *vo[4] = { os, j->raw.data, rcpt, draft };
	const int lens[4] = { 0, (int)j->raw.len, 0, 0 }, bin[4] = { 0, 1, 0, 0 };
	int rc = -1;

	snprintf(ms, sizeof(ms), "%lld", msg);
	snprintf(os, sizeof(os), "%lld", out);
	if (j->d.to.n == 0 && j->d.cc.n == 0)
		vm[2] = reply_conf.from_addr; /* as reply_insert_message */
	if (rcpt != NULL && draft != NULL &&
	    db_cmd(j->c->db, "reply_msg_rebuilt", 7, vm, NULL, NULL) == 1 &&
	    db_cmd(j->c->db, "reply_out_rebuilt", 4, vo, lens, bin) == 1)
		rc = 0;
	free(rcpt);
	free(draft);
	return rc;
}

int reply_rebuild(struct api_call *c, long long ticket, long long msg, long long out,
		  const json_t *draft)
{
	struct reply_job j;
	json_t *unr = json_array(), *una = json_array();
	int rc = -1;

	if (reply_job_init(c, &j, ticket, draft) < 0) {
		json_decref(unr);
		json_decref(una);
		return -1;
	}
	if (reply_compose(&j) < 0) {
		reply_answer_fail(&j);
	} else if (reply_draft_unconfirmed(&j.d, unr, una) > 0) {
		j.extra = json_pack("{s:O, s:O}", "unconfirmed_recipients", unr,
				    "unconfirmed_attachments", una);
		reply_fail(&j, 422, "every recipient and attachment must be confirmed");
		reply_answer_fail(&j);
	} else if (reply_rewrite(&j, msg, out) < 0) {
		api_error(c, 503, "database unavailable");
	} else
		rc = 0;
	json_decref(unr);
	json_decref(una);
	reply_job_end(&j);
	return rc;
}

/* ---- the ticket page ---- */

/* the approval of the reply: null when it needed none and nobody
 * decided on it */
static json_t *reply_approval_doc(const struct db_res *r, int row, int col)
{
	if (db_res_null(r, row, col + 10) && db_res_null(r, row, col + 12))
		return json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "reason", api_col_str(r, row, col + 10),
			 "template", api_col_str(r, row, col + 11), "review",
			 api_col_str(r, row, col + 12), "reviewed_by", api_col_str(r, row, col + 13),
			 "reviewed_at", api_col_time(r, row, col + 14), "comment",
			 api_col_str(r, row, col + 15));
}

void reply_delivery(json_t *msg, const struct db_res *r, int row, int col)
{
	int has_out = !db_res_null(r, row, col + 2);
	int held = has_out && strcmp(db_res_val(r, row, col + 4), "awaiting_approval") == 0;
	json_t *d;

	if (msg == NULL || (db_res_null(r, row, col) && !has_out))
		return;
	d = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "state",
		      api_col_str(r, row, col), "note", api_col_str(r, row, col + 1),
		      "outbound_id", api_col_int(r, row, col + 2), "send_at",
		      api_col_time(r, row, col + 3), "outbound_state", api_col_str(r, row, col + 4),
		      "created_by", api_col_str(r, row, col + 5), "sent_at",
		      api_col_time(r, row, col + 6), "last_error", api_col_str(r, row, col + 7),
		      "rcpt", has_out ? api_col_json(r, row, col + 8) : json_null(), "can_cancel",
		      held || (has_out && strcmp(db_res_val(r, row, col + 4), "queued") == 0 &&
			       db_res_ll(r, row, col + 3) > clock_now_us() &&
			       db_res_ll(r, row, col + 9) == 0));
	if (d != NULL)
		json_object_set_new(d, "approval", has_out ? reply_approval_doc(r, row, col)
							   : json_null());
	json_object_set_new(msg, "delivery", d);
}

/* ---- cancelling ---- */

struct reply_out_row {
	long long ticket, message, attempts;
	char state[24]; /* "awaiting_approval" and the rest */
	int64_t not_before;
};

/* 1 found (locked), 0 none, -1 database error */
static int reply_out_lock(struct api_call *c, struct reply_out_row *o)
{
	char os[24];
	const char *v[1] = { os };
	struct db_res *r;
	int found;

	snprintf(os, sizeof(os), "%lld", c->id[0]);
	if ((r = db_query(c->db, "reply_out_lock", 1, v, NULL, NULL, 0)) == NULL)
		return -1;
	found = db_res_rows(r) == 1;
	if (found) {
		o->ticket = db_res_ll(r, 0, 0);
		o->message = db_res_ll(r, 0, 1);
		snprintf(o->state, sizeof(o->state), "%s", db_res_val(r, 0, 2));
		o->not_before = db_res_ll(r, 0, 3);
		o->attempts = db_res_ll(r, 0, 4);
	}
	db_res_free(r);
	return found;
}

static int reply_cancel_writes(struct api_call *c, const struct reply_out_row *o)
{
	char os[24], ms[24], ts[24], now[40];
	const char *note = pool_printf(c->req->pool, "cancelled by %s", c->session->login);
	const char *vo[1] = { os }, *vm[2] = { ms, note };
	const char *vt[3] = { ts, now, strcmp(o->state, "queued") == 0 ? "true" : "false" };

	snprintf(os, sizeof(os), "%lld", c->id[0]);
	snprintf(ms, sizeof(ms), "%lld", o->message);
	snprintf(ts, sizeof(ts), "%lld", o->ticket);
	clock_format_iso(clock_now_us(), now, sizeof(now));
	if (note == NULL || db_cmd(c->db, "reply_out_cancel", 1, vo, NULL, NULL) != 1 ||
	    db_cmd(c->db, "reply_msg_cancel", 2, vm, NULL, NULL) != 1 ||
	    db_cmd(c->db, "reply_ticket_cancel", 3, vt, NULL, NULL) != 1 ||
	    reply_event(c, o->ticket, now, "reply_cancelled", o->message, c->id[0], NULL) < 0 ||
	    reply_notify(c, o->ticket, "reply_cancelled", c->id[0]) < 0)
		return -1;
	return 0;
}

/* 0 when the row may be cancelled now, else the status (answered) */
static int reply_cancel_refused(struct api_call *c, int found, const struct reply_out_row *o)
{
	if (found < 0) {
		api_error(c, 503, "database unavailable");
		return 503;
	}
	if (found == 0) {
		api_error(c, 404, "no such outgoing mail");
		return 404;
	}
	/* a reply waiting for approval was never claimed: it may go any time */
	if (strcmp(o->state, "awaiting_approval") == 0)
		return 0;
	if (strcmp(o->state, "queued") != 0) {
		api_error(c, 409, pool_printf(c->req->pool, "the mail is already %s", o->state));
		return 409;
	}
	/* escalationd's claim counts an attempt and moves not_before to the
	 * end of its lease, into the future again: from the first attempt on,
	 * the mail may be on the wire whatever not_before says */
	if (o->not_before <= clock_now_us() || o->attempts > 0) {
		api_error(c, 409, "the send delay has passed: the mail may be on its way");
		return 409;
	}
	return 0;
}

void reply_cancel(struct api_call *c)
{
	struct reply_out_row o;
	int found;

	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	found = reply_out_lock(c, &o);
	if (reply_cancel_refused(c, found, &o) != 0) {
		db_rollback(c->db);
		return;
	}
	if (reply_cancel_writes(c, &o) < 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		api_error(c, 503, "database unavailable");
		return;
	}
	log_info("ticket=%lld: outbound=%lld cancelled by %s", o.ticket, c->id[0],
		 c->session->login);
	api_json(c, 200, json_pack("{s:I, s:I, s:s}", "outbound_id", (json_int_t)c->id[0],
				   "message_id", (json_int_t)o.message, "state", "cancelled"));
}
