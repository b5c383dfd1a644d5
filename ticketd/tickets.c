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
/* message.escalation_id, after the 16 columns of REPLY_DELIVERY_COLS (14..29) */
#define TICKETS_ESC_COL 30
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

/* ---- the queue (GET /api/tickets) ----
 *
 * One statement per view, so that each names its own index predicate and
 * order, and the planner walks that index and stops after a page.  The
 * page is picked first, in a subquery with a constant LIMIT: with "LIMIT
 * $1" alone, a generic plan (which a prepared statement gets after five
 * runs) guesses 10% of the table and sorts all of it, lateral joins
 * included (97 ms at 10 000 tickets instead of 2 ms).  The outer query
 * joins the page's sender and holder, row by row in the subquery's order,
 * until $1 rows.
 *
 * The filters are the same in all: $2 channel, $3 queue, $4 category, $5
 * tag, $6 and $7 the first and last day received (Asia/Tokyo days, the
 * centre's).  Views sorted by due time page on (coalesce(due_at,
 * 'infinity'), created_at, id) after $8 due, $9 created (microseconds) and
 * $10 id; the newest-first views page on the id below $8. */
#define TL_COLS                                                                               \
	"SELECT t.id, t.subject, t.status, t.channel, t.queue, f.from_name, f.from_addr,"     \
	" " US("f.arrived_at") ", " US("t.created_at") ", " US("t.updated_at") ","            \
	" array_to_json(t.flags)::text,"                                                      \
	" (SELECT count(*) FROM message m JOIN attachment a ON a.message_id = m.id"           \
	"  WHERE m.ticket_id = t.id), t.category, array_to_json(t.tags)::text,"               \
	" t.assignee, u.login, u.display_name, " US("t.due_at") ", t.resolution,"             \
	" " US("t.warn_at") ", " US("t.responded_at") ","                                      \
	/* a fax's OCR progress (sql/026): "pages read/pages" */                             \
	" CASE WHEN t.channel = 'fax' THEN (SELECT count(*) FILTER (WHERE p.ocr_state <>"    \
	"  'pending') || '/' || count(*) FROM message m JOIN fax_page p"                      \
	"  ON p.inbound_item_id = m.inbound_item_id WHERE m.ticket_id = t.id) END"
#define TL_JOINS                                                                              \
	" LEFT JOIN LATERAL"                                                                  \
	" (SELECT m.from_name, m.from_addr, i.arrived_at FROM message m"                      \
	"  LEFT JOIN inbound_item i ON i.id = m.inbound_item_id"                              \
	"  WHERE m.ticket_id = t.id AND m.direction = 'in' ORDER BY m.id LIMIT 1) f ON true"  \
	" LEFT JOIN LATERAL (SELECT login, display_name FROM app_user"                        \
	"  WHERE id = t.assignee) u ON true"
#define TL_FILTERS                                                                             \
	" AND ($2::text IS NULL OR t.channel = $2) AND ($3::text IS NULL OR t.queue = $3)"    \
	/* category: the path or any path below it (category.h); LIKE's own */ \
	/* characters in $4 are escaped */                                                    \
	" AND ($4::text IS NULL OR t.category = $4 OR t.category LIKE"                        \
	"  replace(replace(replace($4, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || ' > %')"  \
	" AND ($5::text IS NULL OR t.tags @> ARRAY[$5::text])"                                \
	" AND ($6::date IS NULL OR t.created_at >= $6::date::timestamp AT TIME ZONE 'Asia/Tokyo')" \
	" AND ($7::date IS NULL OR t.created_at < ($7::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')"
#define TL_US(p) "'epoch'::timestamptz + " p "::bigint * interval '1 microsecond'"
#define TL_PAGE_MAX "500" /* = TICKETS_LIMIT_MAX */
/* a view sorted by due time: WHERE condition w */
#define TL_DUE(w)                                                                              \
	TL_COLS " FROM (SELECT t.*, coalesce(t.due_at, 'infinity') AS due_key FROM ticket t"  \
		" WHERE " w TL_FILTERS                                                        \
		" AND ($10::bigint IS NULL OR (coalesce(t.due_at, 'infinity'), t.created_at, t.id) >" \
		" (coalesce(" TL_US("$8") ", 'infinity'), " TL_US("$9") ", $10::bigint))"    \
		" ORDER BY due_key, t.created_at, t.id LIMIT " TL_PAGE_MAX ") t" TL_JOINS    \
		" ORDER BY t.due_key, t.created_at, t.id LIMIT $1"
/* a view newest first */
#define TL_NEWEST(w)                                                                           \
	TL_COLS " FROM (SELECT t.* FROM ticket t WHERE " w TL_FILTERS                         \
		" AND ($8::bigint IS NULL OR t.id < $8::bigint)"                              \
		" ORDER BY t.id DESC LIMIT " TL_PAGE_MAX ") t" TL_JOINS                       \
		" ORDER BY t.id DESC LIMIT $1"

static const struct db_stmt tickets_stmts[] = {
	{ "tickets_todo", TL_DUE("t.status IN ('new', 'open') AND t.assignee IS NULL") },
	{ "tickets_mine", TL_DUE("t.assignee = $11 AND t.status NOT IN ('resolved', 'closed')") },
	{ "tickets_waiting_citizen", TL_DUE("t.status = 'waiting_citizen'") },
	{ "tickets_escalated", TL_DUE("t.status = 'escalated'") },
	{ "tickets_resolved", TL_NEWEST("t.status IN ('resolved', 'closed')") },
	{ "tickets_open", TL_NEWEST("t.status NOT IN ('resolved', 'closed')") },
	{ "tickets_all", TL_NEWEST("true") },
	/* the counts of every view for every user, from one index-only scan
	 * (ticket_status_assignee, in its order: no hashing) */
	{ "tickets_counts",
	  "SELECT status, assignee, count(*) FROM ticket GROUP BY status, assignee" },
	{ "tickets_get",
	  "SELECT id, subject, status, channel, queue, array_to_json(flags)::text,"
	  " " US("created_at") ", " US("updated_at") ", category, priority,"
	  " array_to_json(tags)::text, routed_rule_id, routed_rule_name,"
	  " merged_into" /* merge.h */
	  ", " US("purged_at") /* sql/017: the correspondence was purged */
	  " FROM ticket WHERE id = $1" },
	{ "tickets_messages",
	  "SELECT m.id, m.direction, m.subject, m.from_name, m.from_addr, m.to_list, m.cc_list,"
	  " " US("m.date_header") ", " US("i.arrived_at") ", m.body_text,"
	  " m.body_html IS NOT NULL, m.parse_state, m.parse_notes, m.inbound_item_id IS NOT NULL,"
	  REPLY_DELIVERY_COLS /* reply.h: columns 14.. */
	  ", m.escalation_id" /* TICKETS_ESC_COL: a department's answer (sql/018) */
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

/* The counts: one row per (status, holder), from one scan; the views'
 * counts are sums over them, so "mine" costs nothing per user.  One
 * process, one thread: one cache. */
enum tickets_st { ST_NEW, ST_OPEN, ST_WAITING, ST_ESCALATED, ST_RESOLVED, ST_CLOSED, ST_N };
static const char *const tickets_st_names[ST_N] = { "new", "open", "waiting_citizen",
						    "escalated", "resolved", "closed" };
struct tickets_group {
	int st;
	long long assignee; /* 0: nobody */
	long long n;
};
static struct {
	int valid;
	int64_t at;
	struct tickets_group *g;
	int ng;
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

/* a fax's OCR progress, {"read": k, "pages": n}; no key for other tickets */
static void tickets_ocr(json_t *row, const struct db_res *r, int i, int col)
{
	int read = 0, pages = 0;

	if (db_res_null(r, i, col) || sscanf(db_res_val(r, i, col), "%d/%d", &read, &pages) != 2)
		return;
	json_object_set_new(row, "ocr", json_pack("{s:i, s:i}", "read", read, "pages", pages));
}

static json_t *tickets_row(const struct db_res *r, int i)
{
	json_t *row = json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
		api_col_int(r, i, 0), "subject", api_col_str(r, i, 1), "status",
		api_col_str(r, i, 2), "channel", api_col_str(r, i, 3), "queue", api_col_str(r, i, 4),
		"from_name", api_col_str(r, i, 5), "from_addr", api_col_str(r, i, 6), "arrived_at",
		api_col_time(r, i, 7), "created_at", api_col_time(r, i, 8), "updated_at",
		api_col_time(r, i, 9), "flags", api_col_json(r, i, 10), "attachments",
		api_col_int(r, i, 11), "category", api_col_str(r, i, 12), "tags",
		api_col_json(r, i, 13));

	if (row == NULL)
		return NULL;
	json_object_set_new(row, "assignee",
			    db_res_null(r, i, 14)
				    ? json_null()
				    : json_pack("{s:o, s:o, s:o}", "id", api_col_int(r, i, 14),
						"login", api_col_str(r, i, 15), "display_name",
						api_col_str(r, i, 16)));
	json_object_set_new(row, "due_at", api_col_time(r, i, 17));
	json_object_set_new(row, "resolution", api_col_str(r, i, 18));
	/* the queue's due cell (queue.js): warned, or off the clock once answered */
	json_object_set_new(row, "warn_at", api_col_time(r, i, 19));
	json_object_set_new(row, "responded_at", api_col_time(r, i, 20));
	tickets_ocr(row, r, i, 21);
	return row;
}

/* ---- counts ---- */

static int tickets_st(const char *s)
{
	for (int i = 0; i < ST_N; i++)
		if (strcmp(s, tickets_st_names[i]) == 0)
			return i;
	return -1;
}

static int tickets_counts_load(struct api_call *c)
{
	struct db_res *r = db_query(c->db, "tickets_counts", 0, NULL, NULL, NULL, 0);
	struct tickets_group *g;
	int n = 0;

	if (r == NULL)
		return -1;
	g = calloc((size_t)db_res_rows(r) + 1, sizeof(*g));
	if (g == NULL) {
		db_res_free(r);
		return -1;
	}
	for (int i = 0; i < db_res_rows(r); i++) {
		g[n].st = tickets_st(db_res_val(r, i, 0));
		g[n].assignee = db_res_null(r, i, 1) ? 0 : db_res_ll(r, i, 1);
		g[n].n = db_res_ll(r, i, 2);
		n += g[n].st >= 0; /* the CHECK of ticket.status keeps others out */
	}
	db_res_free(r);
	free(tickets_counts_cache.g);
	tickets_counts_cache.g = g;
	tickets_counts_cache.ng = n;
	return 0;
}

/* the count of every view for user me */
static json_t *tickets_counts(struct api_call *c, long long me)
{
	int64_t now = clock_mono_ms();
	long long st[ST_N] = { 0 }, todo = 0, mine = 0, all = 0;

	if (!tickets_counts_cache.valid || now - tickets_counts_cache.at >= TICKETS_COUNTS_MS) {
		if (tickets_counts_load(c) < 0)
			return NULL;
		tickets_counts_cache.valid = 1;
		tickets_counts_cache.at = now;
	}
	for (int i = 0; i < tickets_counts_cache.ng; i++) {
		const struct tickets_group *g = &tickets_counts_cache.g[i];
		int done = g->st == ST_RESOLVED || g->st == ST_CLOSED;

		st[g->st] += g->n;
		all += g->n;
		todo += (g->st == ST_NEW || g->st == ST_OPEN) && g->assignee == 0 ? g->n : 0;
		mine += !done && g->assignee == me ? g->n : 0;
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "todo", (json_int_t)todo,
			 "mine", (json_int_t)mine, "waiting_citizen", (json_int_t)st[ST_WAITING],
			 "escalated", (json_int_t)st[ST_ESCALATED], "resolved",
			 (json_int_t)(st[ST_RESOLVED] + st[ST_CLOSED]), "all", (json_int_t)all, "new",
			 (json_int_t)st[ST_NEW], "open",
			 (json_int_t)(all - st[ST_RESOLVED] - st[ST_CLOSED]));
}

/* ---- the list ---- */

/* the views: name, statement, sorted by due time (else newest first) */
static const struct tickets_view {
	const char *name, *stmt;
	int due;
} tickets_views[] = {
	{ "todo", "tickets_todo", 1 },
	{ "mine", "tickets_mine", 1 },
	{ "waiting_citizen", "tickets_waiting_citizen", 1 },
	{ "escalated", "tickets_escalated", 1 },
	{ "resolved", "tickets_resolved", 0 },
	{ "open", "tickets_open", 0 },
	{ "all", "tickets_all", 0 },
};

/* the parameters of a list request, as statement values $1..$11 */
struct tickets_query {
	const struct tickets_view *view;
	long long limit;
	const char *v[11];
};

static const struct tickets_view *tickets_view(const char *name)
{
	for (size_t i = 0; i < sizeof(tickets_views) / sizeof(tickets_views[0]); i++)
		if (strcmp(name, tickets_views[i].name) == 0)
			return &tickets_views[i];
	return NULL;
}

/* ?view=, or the older ?status=open|all */
static const char *tickets_view_param(struct tickets_query *q, struct api_call *c)
{
	const char *view = http_query(c->req, "view"), *status = http_query(c->req, "status");

	if (view != NULL) {
		q->view = tickets_view(view);
		return q->view ? NULL : "view: must be todo, mine, waiting_citizen, escalated, "
					"resolved, open or all";
	}
	if (status != NULL && strcmp(status, "open") != 0 && strcmp(status, "all") != 0)
		return "status: must be open or all";
	q->view = tickets_view(status ? status : "open");
	return NULL;
}

/* a filter text: NULL when absent or empty; *bad when it has control
 * characters or more than 200 bytes */
static const char *tickets_text(struct api_call *c, const char *name, int *bad)
{
	const char *s = http_query(c->req, name);
	size_t n = s ? strlen(s) : 0;

	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		*bad |= (unsigned char)s[i] < 0x20 || s[i] == 0x7f;
	*bad |= n > 200;
	return s;
}

/* a day "YYYY-MM-DD" that exists: 1; absent: 0; else -1 */
static int tickets_day(const char *s)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (s == NULL)
		return 0;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return -1;
	if (s[10] != '\0')
		return -1;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	return 1;
}

static const char *tickets_filters(struct tickets_query *q, struct api_call *c)
{
	static const char *const channels[] = { "mail", "fax", "call", "form" };
	int bad = 0, known = 0;

	q->v[1] = tickets_text(c, "channel", &bad);
	for (size_t i = 0; q->v[1] != NULL && i < 4; i++)
		known |= strcmp(q->v[1], channels[i]) == 0;
	if (q->v[1] != NULL && !known)
		return "channel: must be mail, fax, call or form";
	q->v[2] = tickets_text(c, "queue", &bad);
	q->v[3] = tickets_text(c, "category", &bad);
	q->v[4] = tickets_text(c, "tag", &bad);
	if (bad)
		return "queue, category and tag: at most 200 bytes, no control characters";
	q->v[5] = http_query(c->req, "from");
	q->v[6] = http_query(c->req, "to");
	if (tickets_day(q->v[5]) < 0 || tickets_day(q->v[6]) < 0)
		return "from and to: must be days, YYYY-MM-DD";
	return NULL;
}

/* "D.C.I" (D: due_at in microseconds or "-" for none, C: created_at in
 * microseconds, I: the id) into part; 0 or -1 */
static int tickets_due_cursor(const char *s, long long part[3])
{
	char *end;

	for (int n = 0; n < 3; n++) {
		if (n == 0 && s[0] == '-') {
			part[0] = -1;
			end = (char *)s + 1;
		} else {
			if (*s < '0' || *s > '9')
				return -1;
			errno = 0;
			part[n] = strtoll(s, &end, 10);
			if (errno != 0)
				return -1;
		}
		if (*end != (n < 2 ? '.' : '\0'))
			return -1;
		s = end + 1;
	}
	return part[2] >= 1 ? 0 : -1;
}

/* ?after=: the "next" of the page before - "D.C.I" for the views sorted
 * by due time, an id for the others (?before_id= is its older name) */
static const char *tickets_cursor(struct tickets_query *q, struct api_call *c)
{
	static const char bad[] = "after: must be the next value of a previous page";
	const char *after = http_query(c->req, "after");
	long long part[3];

	if (after == NULL || !q->view->due) {
		long long id = 0;

		if (tickets_param(c, after ? "after" : "before_id", 1, INT64_MAX, &id) < 0)
			return after ? bad : "before_id: must be an id";
		q->v[7] = id ? pool_printf(c->req->pool, "%lld", id) : NULL;
		return NULL;
	}
	if (tickets_due_cursor(after, part) < 0)
		return bad;
	q->v[7] = part[0] >= 0 ? pool_printf(c->req->pool, "%lld", part[0]) : NULL;
	q->v[8] = pool_printf(c->req->pool, "%lld", part[1]);
	q->v[9] = pool_printf(c->req->pool, "%lld", part[2]);
	return NULL;
}

/* the cursor after row i of r */
static json_t *tickets_next(struct api_call *c, const struct tickets_query *q,
			    const struct db_res *r, int i)
{
	if (!q->view->due)
		return json_string(db_res_val(r, i, 0));
	return json_string(pool_printf(c->req->pool, "%s.%s.%s",
				       db_res_null(r, i, 17) ? "-" : db_res_val(r, i, 17),
				       db_res_val(r, i, 8), db_res_val(r, i, 0)));
}

/* the request's parameters, or an error message */
static const char *tickets_query_parse(struct tickets_query *q, struct api_call *c)
{
	const char *why;

	memset(q, 0, sizeof(*q));
	q->limit = TICKETS_LIMIT_DEFAULT;
	if ((why = tickets_view_param(q, c)) != NULL || (why = tickets_filters(q, c)) != NULL ||
	    (why = tickets_cursor(q, c)) != NULL)
		return why;
	if (tickets_param(c, "limit", 1, TICKETS_LIMIT_MAX, &q->limit) < 0)
		return "limit: must be 1 to 500";
	q->v[0] = pool_printf(c->req->pool, "%lld", q->limit);
	q->v[10] = pool_printf(c->req->pool, "%ld", c->session->user_id);
	return q->v[0] && q->v[10] ? NULL : "out of memory";
}

void tickets_list(struct api_call *c)
{
	struct tickets_query q;
	const char *why = tickets_query_parse(&q, c);
	json_t *list, *counts, *next = json_null();
	struct db_res *r;
	int n;

	if (why != NULL) {
		api_error(c, 400, why);
		return;
	}
	/* $11 (the user) only for "mine"; $9, $10 only for the due-sorted views */
	n = strcmp(q.view->name, "mine") == 0 ? 11 : q.view->due ? 10 : 8;
	/* A plan for these values, every time: a generic plan cannot drop the
	 * filters that are not used, guesses their selectivity, and then
	 * prefers sorting the whole view to walking its index (up to 800 ms at
	 * 100 000 tickets instead of 3); planning costs about a millisecond.
	 * One snapshot for the page and the counts, too. */
	if (db_simple(c->db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
			     " SET LOCAL plan_cache_mode = force_custom_plan") < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	r = db_query(c->db, q.view->stmt, n, q.v, NULL, NULL, 0);
	counts = r ? tickets_counts(c, c->session->user_id) : NULL;
	db_rollback(c->db);
	if (r == NULL || counts == NULL) {
		db_res_free(r);
		api_error(c, 503, "database unavailable");
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, tickets_row(r, i));
	if (db_res_rows(r) > 0 && db_res_rows(r) == q.limit)
		next = tickets_next(c, &q, r, db_res_rows(r) - 1);
	db_res_free(r);
	/* now: the daemon's clock (pinned in tests), against which the page
	 * tells an overdue or soon-due row (queue.js) */
	api_json(c, 200, json_pack("{s:o, s:o, s:s, s:o, s:s}", "tickets", list, "counts", counts,
				   "view", q.view->name, "next", next, "now", api_now_iso(c, 0)));
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
	/* the escalation this message answers (escalate.h), else null */
	json_object_set_new(doc, "escalation_id", api_col_int(r, i, TICKETS_ESC_COL));
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
	json_object_set_new(doc, "merged_into", api_col_int(r, 0, 13)); /* merge.h */
	json_object_set_new(doc, "purged_at", api_col_time(r, 0, 14));
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
