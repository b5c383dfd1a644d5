/* The queue and the ticket page, read-only.
 *
 * Times leave SQL as microseconds since the epoch and are formatted by
 * lib/clock.h, so every time in the API has one format.  A ticket's
 * "from" and "arrived_at" are those of its first incoming message.
 *
 * The counts above the queue cost a scan of the whole ticket table (1.4 ms
 * at 10 000 tickets, and the table only grows) while a page of the list is
 * a short index walk, and every refresh of every operator's queue needs
 * both.  So the counts are kept for at most TICKETS_COUNTS_MS and dropped at
 * once on NOTIFY ticket_change, which every writer of ticket sends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "db.h"
#include "config.h"
#include "http.h"
#include "mime.h"
#include "pool.h"
#include "reply.h"
#include "tickets.h"

#define TICKETS_LIMIT_DEFAULT 100
#define TICKETS_LIMIT_MAX 500
#define TICKETS_COUNTS_MS 1000
/* a forwarded mail (message/rfc822 attachment) is parsed again at request
 * time, so what it shows follows the parser without a migration; past
 * this size it is not parsed at all (a request must stay cheap) */
#define TICKETS_NESTED_MAX (8u << 20)
/* and all forwarded mails of one ticket together (a ticket may hold
 * hundreds): past it the rest say "too large" too */
#define TICKETS_NESTED_ALL_MAX (32u << 20)
/* the parse of one nested mail may use at most this much memory */
#define TICKETS_NESTED_POOL (96u << 20)
#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"

static const struct db_stmt tickets_stmts[] = {
	{ "tickets_list",
	  "SELECT t.id, t.subject, t.status, t.channel, t.queue, f.from_name, f.from_addr,"
	  " " US("f.arrived_at") ", " US("t.created_at") ", " US("t.updated_at") ","
	  " array_to_json(t.flags)::text,"
	  " (SELECT count(*) FROM message m JOIN attachment a ON a.message_id = m.id"
	  "  WHERE m.ticket_id = t.id), t.category, array_to_json(t.tags)::text"
	  " FROM ticket t LEFT JOIN LATERAL"
	  " (SELECT m.from_name, m.from_addr, i.arrived_at FROM message m"
	  "  LEFT JOIN inbound_item i ON i.id = m.inbound_item_id"
	  "  WHERE m.ticket_id = t.id AND m.direction = 'in' ORDER BY m.id LIMIT 1) f ON true"
	  " WHERE ($1 = 'all' OR t.status NOT IN ('resolved', 'closed'))"
	  " AND ($2::bigint IS NULL OR t.id < $2::bigint)"
	  " ORDER BY t.id DESC LIMIT $3" },
	{ "tickets_counts",
	  "SELECT count(*) FILTER (WHERE status = 'new'),"
	  " count(*) FILTER (WHERE status NOT IN ('resolved', 'closed')), count(*) FROM ticket" },
	{ "tickets_get",
	  "SELECT id, subject, status, channel, queue, array_to_json(flags)::text,"
	  " " US("created_at") ", " US("updated_at") ", category, priority,"
	  " array_to_json(tags)::text, routed_rule_id, routed_rule_name FROM ticket WHERE id = $1" },
	{ "tickets_messages",
	  "SELECT m.id, m.direction, m.subject, m.from_name, m.from_addr, m.to_list, m.cc_list,"
	  " " US("m.date_header") ", " US("i.arrived_at") ", m.body_text,"
	  " m.body_html IS NOT NULL, m.parse_state, m.parse_notes, m.inbound_item_id IS NOT NULL,"
	  REPLY_DELIVERY_COLS /* reply.h: columns 14.. */
	  " FROM message m LEFT JOIN inbound_item i ON i.id = m.inbound_item_id" REPLY_DELIVERY_JOIN
	  " WHERE m.ticket_id = $1 ORDER BY m.id" },
	{ "tickets_attachments",
	  "SELECT a.message_id, a.idx, a.filename, a.content_type, a.size"
	  " FROM attachment a JOIN message m ON m.id = a.message_id"
	  " WHERE m.ticket_id = $1 ORDER BY a.message_id, a.idx" },
	{ "tickets_events",
	  "SELECT " US("at") ", actor, kind, detail FROM ticket_event"
	  " WHERE ticket_id = $1 ORDER BY id" },
	{ "tickets_nested_blob",
	  "SELECT b.data FROM attachment a JOIN blob b ON b.sha256 = a.sha256"
	  " WHERE a.message_id = $1 AND a.idx = $2" },
	{ NULL, NULL },
};

/* the limits intake parses with (tickets_configure); defaults until then */
static struct {
	int set;
	struct mime_limits lim;
} tickets_mime;
/* bytes of forwarded mail the request being answered may still parse
 * (one thread: one request at a time; tickets_get resets it) */
static long long tickets_nested_left;

/* one process, one thread: one cache */
static struct {
	int valid;
	int64_t at;
	long long n[3]; /* new, open, all */
} tickets_counts_cache;

void tickets_prepare(struct db *db)
{
	db_prepare_all(db, tickets_stmts);
}

void tickets_configure(const struct config *cfg)
{
	mime_limits_default(&tickets_mime.lim);
	tickets_mime.lim.max_depth = (size_t)config_int(cfg, "mime.max_depth");
	tickets_mime.lim.max_parts = (size_t)config_int(cfg, "mime.max_parts");
	tickets_mime.lim.max_headers = (size_t)config_int(cfg, "mime.max_headers");
	tickets_mime.lim.max_text_bytes = (size_t)config_int(cfg, "mime.max_text_bytes");
	tickets_mime.lim.max_attachment_bytes = (size_t)config_int(cfg, "mime.max_attachment_bytes");
	tickets_mime.set = 1;
}

void tickets_changed(void)
{
	tickets_counts_cache.valid = 0;
}

/* an optional query parameter as an integer in [min, max]; 0 or -1 */
static int tickets_param(struct api_call *c, const char *name, long long min, long long max,
			 long long *out)
{
	const char *s = http_query(c->req, name);
	long long v;
	char *end;

	if (s == NULL)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static json_t *tickets_row(const struct db_res *r, int i)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "id", api_col_int(r, i, 0), "subject", api_col_str(r, i, 1), "status",
			 api_col_str(r, i, 2), "channel", api_col_str(r, i, 3), "queue",
			 api_col_str(r, i, 4), "from_name", api_col_str(r, i, 5), "from_addr",
			 api_col_str(r, i, 6), "arrived_at", api_col_time(r, i, 7),
			 "created_at", api_col_time(r, i, 8), "updated_at",
			 api_col_time(r, i, 9), "flags", api_col_json(r, i, 10), "attachments",
			 api_col_int(r, i, 11), "category", api_col_str(r, i, 12), "tags",
			 api_col_json(r, i, 13));
}

static json_t *tickets_counts(struct api_call *c)
{
	int64_t now = clock_mono_ms();
	struct db_res *r;

	if (!tickets_counts_cache.valid || now - tickets_counts_cache.at >= TICKETS_COUNTS_MS) {
		if ((r = db_query(c->db, "tickets_counts", 0, NULL, NULL, NULL, 0)) == NULL)
			return NULL;
		for (int i = 0; i < 3; i++)
			tickets_counts_cache.n[i] = db_res_ll(r, 0, i);
		db_res_free(r);
		tickets_counts_cache.valid = 1;
		tickets_counts_cache.at = now;
	}
	return json_pack("{s:I, s:I, s:I}", "new", (json_int_t)tickets_counts_cache.n[0], "open",
			 (json_int_t)tickets_counts_cache.n[1], "all",
			 (json_int_t)tickets_counts_cache.n[2]);
}

void tickets_list(struct api_call *c)
{
	const char *status = http_query(c->req, "status");
	long long limit = TICKETS_LIMIT_DEFAULT, before = 0;
	char lim[24], bef[24];
	const char *v[3] = { status ? status : "open", NULL, lim };
	json_t *list, *counts;
	struct db_res *r;

	if ((status != NULL && strcmp(status, "open") != 0 && strcmp(status, "all") != 0) ||
	    tickets_param(c, "limit", 1, TICKETS_LIMIT_MAX, &limit) < 0 ||
	    tickets_param(c, "before_id", 1, INT64_MAX, &before) < 0) {
		api_error(c, 400, "bad status, limit or before_id");
		return;
	}
	snprintf(lim, sizeof(lim), "%lld", limit);
	snprintf(bef, sizeof(bef), "%lld", before);
	v[1] = before ? bef : NULL;
	if ((r = db_query(c->db, "tickets_list", 3, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, tickets_row(r, i));
	db_res_free(r);
	if ((counts = tickets_counts(c)) == NULL) {
		json_decref(list);
		api_error(c, 503, "database unavailable");
		return;
	}
	api_json(c, 200, json_pack("{s:o, s:o}", "tickets", list, "counts", counts));
}

/* ---- one ticket ---- */

/* NULL-safe string for json_pack "s" */
static const char *tickets_s(const char *s)
{
	return s != NULL ? s : "";
}

static json_t *tickets_nested_doc(const struct mime_mail *m)
{
	json_t *atts = json_array(), *doc;
	char date[64];

	for (size_t j = 0; j < m->natt; j++)
		json_array_append_new(atts, json_pack("{s:s, s:s, s:I}", "filename",
						      tickets_s(m->att[j].filename), "content_type",
						      tickets_s(m->att[j].content_type), "size",
						      (json_int_t)m->att[j].size));
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "subject", tickets_s(m->subject),
			"from_name", tickets_s(m->from_name), "from_addr", tickets_s(m->from_addr),
			"to", tickets_s(m->to), "cc", tickets_s(m->cc), "has_html",
			m->body_html != NULL, "attachments", atts);
	if (doc == NULL)
		return NULL;
	json_object_set_new(doc, "date", m->date_us != 0
				 ? json_string(clock_format_iso(m->date_us, date, sizeof(date)))
				 : json_null());
	json_object_set_new(doc, "body_text", json_string(tickets_s(m->body_text)));
	return doc;
}

/* the attached mail of attachment row i parsed with intake's limits, in
 * a pool of its own dropped at once; {"error":...} when it cannot be */
static json_t *tickets_nested(struct api_call *c, const struct db_res *r, int i)
{
	const char *v[2] = { db_res_val(r, i, 0), db_res_val(r, i, 1) };
	long long size = strtoll(db_res_val(r, i, 4), NULL, 10);
	struct mime_mail m;
	struct db_res *b;
	struct pool *p;
	json_t *doc = NULL;

	if (size > (long long)TICKETS_NESTED_MAX || size > tickets_nested_left)
		return json_pack("{s:s}", "error", "too large");
	tickets_nested_left -= size;
	if (!tickets_mime.set)
		mime_limits_default(&tickets_mime.lim);
	if ((b = db_query(c->db, "tickets_nested_blob", 2, v, NULL, NULL, 1)) == NULL ||
	    db_res_rows(b) != 1) {
		db_res_free(b);
		return json_pack("{s:s}", "error", "unavailable");
	}
	if ((p = pool_create(TICKETS_NESTED_POOL)) != NULL &&
	    mime_parse(p, db_res_val(b, 0, 0), (size_t)db_res_len(b, 0, 0), &tickets_mime.lim,
		       &m) == 0)
		doc = tickets_nested_doc(&m);
	pool_destroy(p);
	db_res_free(b);
	return doc != NULL ? doc : json_pack("{s:s}", "error", "too large");
}

static int tickets_is_message(const char *type)
{
	return strcmp(type, "message/rfc822") == 0 || strcmp(type, "message/global") == 0;
}

static json_t *tickets_attachment(struct api_call *c, const struct db_res *r, int i)
{
	const char *url = pool_printf(c->req->pool, "/api/messages/%s/attachments/%s",
				      db_res_val(r, i, 0), db_res_val(r, i, 1));
	json_t *a = json_pack("{s:o, s:o, s:o, s:o, s:s?}", "idx", api_col_int(r, i, 1),
			      "filename", api_col_str(r, i, 2), "content_type",
			      api_col_str(r, i, 3), "size", api_col_int(r, i, 4), "url", url);

	if (a != NULL && tickets_is_message(db_res_val(r, i, 3)))
		json_object_set_new(a, "nested", tickets_nested(c, r, i));
	return a;
}

/* the attachments of message id, from the ticket-wide list (sorted) */
static json_t *tickets_msg_attachments(struct api_call *c, const struct db_res *att,
				       const char *id)
{
	json_t *list = json_array();

	for (int i = 0; i < db_res_rows(att); i++)
		if (strcmp(db_res_val(att, i, 0), id) == 0)
			json_array_append_new(list, tickets_attachment(c, att, i));
	return list;
}

static json_t *tickets_message(struct api_call *c, const struct db_res *r, int i,
			       const struct db_res *att)
{
	const char *id = db_res_val(r, i, 0);
	int has_html = strcmp(db_res_val(r, i, 10), "t") == 0;
	int has_raw = strcmp(db_res_val(r, i, 13), "t") == 0;
	const char *raw = has_raw ? pool_printf(c->req->pool, "/api/messages/%s/raw", id) : NULL;
	const char *html = has_html ? pool_printf(c->req->pool, "/api/messages/%s/html", id)
				    : NULL;

	json_t *doc;

	doc = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, "
			 "s:o, s:s?, s:s?}",
			 "id", api_col_int(r, i, 0), "direction", api_col_str(r, i, 1),
			 "subject", api_col_str(r, i, 2), "from_name", api_col_str(r, i, 3),
			 "from_addr", api_col_str(r, i, 4), "to", api_col_str(r, i, 5), "cc",
			 api_col_str(r, i, 6), "date", api_col_time(r, i, 7), "arrived_at",
			 api_col_time(r, i, 8), "body_text", api_col_str(r, i, 9), "has_html",
			 has_html, "parse_state", api_col_str(r, i, 11), "parse_notes",
			 api_col_str(r, i, 12), "attachments",
			 tickets_msg_attachments(c, att, id), "raw_url", raw, "html_url", html);
	reply_delivery(doc, r, i, 14); /* outgoing mail: its delivery (reply.h) */
	return doc;
}

static json_t *tickets_messages(struct api_call *c, const char *const *v)
{
	struct db_res *r = db_query(c->db, "tickets_messages", 1, v, NULL, NULL, 0);
	struct db_res *att = r ? db_query(c->db, "tickets_attachments", 1, v, NULL, NULL, 0) : NULL;
	json_t *list = NULL;

	if (r != NULL && att != NULL) {
		list = json_array();
		for (int i = 0; i < db_res_rows(r); i++)
			json_array_append_new(list, tickets_message(c, r, i, att));
	}
	db_res_free(r);
	db_res_free(att);
	return list;
}

static json_t *tickets_events(struct api_call *c, const char *const *v)
{
	struct db_res *r = db_query(c->db, "tickets_events", 1, v, NULL, NULL, 0);
	json_t *list;

	if (r == NULL)
		return NULL;
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o}", "at",
						      api_col_time(r, i, 0), "actor",
						      api_col_str(r, i, 1), "kind",
						      api_col_str(r, i, 2), "detail",
						      api_col_str(r, i, 3)));
	db_res_free(r);
	return list;
}

/* the ticket document; NULL with *found 0 when there is none, -1 when
 * the database failed */
static json_t *tickets_doc(struct api_call *c, const char *const *v, int *found)
{
	struct db_res *r = db_query(c->db, "tickets_get", 1, v, NULL, NULL, 0);
	json_t *doc, *msgs, *events;

	*found = r == NULL ? -1 : db_res_rows(r) == 1;
	if (*found != 1) {
		db_res_free(r);
		return NULL;
	}
	doc = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", api_col_int(r, 0, 0),
			"subject", api_col_str(r, 0, 1), "status", api_col_str(r, 0, 2),
			"channel", api_col_str(r, 0, 3), "queue", api_col_str(r, 0, 4), "flags",
			api_col_json(r, 0, 5), "created_at", api_col_time(r, 0, 6),
			"updated_at", api_col_time(r, 0, 7));
	json_object_set_new(doc, "category", api_col_str(r, 0, 8));
	json_object_set_new(doc, "priority", api_col_int(r, 0, 9));
	json_object_set_new(doc, "tags", api_col_json(r, 0, 10));
	json_object_set_new(doc, "routed_rule",
			    db_res_null(r, 0, 11) ? json_null()
						  : json_pack("{s:o, s:o}", "id", api_col_int(r, 0, 11),
							      "name", api_col_str(r, 0, 12)));
	db_res_free(r);
	msgs = tickets_messages(c, v);
	events = msgs ? tickets_events(c, v) : NULL;
	if (doc == NULL || msgs == NULL || events == NULL) {
		json_decref(doc);
		json_decref(msgs);
		json_decref(events);
		*found = -1;
		return NULL;
	}
	json_object_set_new(doc, "messages", msgs);
	json_object_set_new(doc, "events", events);
	return doc;
}

void tickets_get(struct api_call *c)
{
	char id[24];
	const char *v[1] = { id };
	json_t *doc;
	int found = 0;

	snprintf(id, sizeof(id), "%lld", c->id[0]);
	tickets_nested_left = TICKETS_NESTED_ALL_MAX;
	/* one snapshot for the four queries: a message arriving in between
	 * must not show up in one list and not the other */
	if (db_simple(c->db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	doc = tickets_doc(c, v, &found);
	db_rollback(c->db);
	if (doc != NULL)
		api_json(c, 200, doc);
	else if (!found)
		api_error(c, 404, "no such ticket");
	else
		api_error(c, 503, "database unavailable");
}
