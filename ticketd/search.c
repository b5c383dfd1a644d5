/* search: the indexer and the query; the design is in search.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "charset.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "search.h"
#include "searchtext.h"

/* ids a late-committing intake transaction can be behind by */
#define SEARCH_WINDOW 2000
/* one text's folding and grams may use this much memory */
#define SEARCH_POOL (64u << 20)
#define SEARCH_MAX_QUERY 256
#define SEARCH_MAX_TERMS 8
#define SEARCH_LIMIT_DEFAULT 50
#define SEARCH_LIMIT_MAX 200
#define SEARCH_ROWS_PER_TICKET 4
#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"

const struct config_key search_config_keys[] = {
	{ "ticketd.search_max_chars", CFG_INT, "65536", 1024, 16777216,
	  "characters of a message (subject and body) the search indexes; text past it is not "
	  "found" },
	{ "ticketd.search_batch", CFG_INT, "200", 1, 10000,
	  "messages indexed per turn of the loop (intake goes first)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static const struct db_stmt search_stmts[] = {
	{ "search_pending",
	  "SELECT m.id, m.ticket_id, left(m.subject || E'\\n' || m.body_text, $3::int)"
	  " FROM message m WHERE m.id > $1::bigint AND NOT EXISTS (SELECT 1 FROM search_doc d"
	  " WHERE d.kind = 'message' AND d.source_id = m.id)"
	  " AND NOT EXISTS (SELECT 1 FROM ticket t WHERE t.id = m.ticket_id"
	  " AND t.purged_at IS NOT NULL)" /* sql/017: its texts are gone */
	  " ORDER BY m.id LIMIT $2::int" },
	{ "search_pending_note",
	  "SELECT n.id, n.ticket_id, left(n.body, $3::int)"
	  " FROM ticket_note n WHERE n.id > $1::bigint AND NOT EXISTS (SELECT 1 FROM search_doc d"
	  " WHERE d.kind = 'note' AND d.source_id = n.id) ORDER BY n.id LIMIT $2::int" },
	/* a fax's OCR text once every page is read (sql/026): the pages joined,
	 * under the fax message's id; found through the partial index of items
	 * read and not indexed, whatever their ids ($1 is not needed) */
	{ "search_pending_ocr",
	  "SELECT m.id, m.ticket_id, left(string_agg(coalesce(p.ocr_text, ''), E'\\n'"
	  "  ORDER BY p.page_no), $3::int)"
	  " FROM fax_item fi JOIN message m ON m.inbound_item_id = fi.inbound_item_id"
	  " JOIN fax_page p ON p.inbound_item_id = fi.inbound_item_id"
	  " WHERE fi.ocr_done_at IS NOT NULL AND NOT fi.ocr_indexed AND $1::bigint >= 0"
	  " AND NOT EXISTS (SELECT 1 FROM ticket t WHERE t.id = m.ticket_id"
	  " AND t.purged_at IS NOT NULL)"
	  " GROUP BY m.id, m.ticket_id ORDER BY m.id LIMIT $2::int" },
	/* a text read again (読み直し) replaces the one indexed */
	{ "search_insert",
	  "INSERT INTO search_doc (kind, source_id, ticket_id, folded, grams)"
	  " VALUES ($5, $1, $2, $3, string_to_array($4, E'\\n'))"
	  " ON CONFLICT (kind, source_id) DO UPDATE SET folded = EXCLUDED.folded,"
	  " grams = EXCLUDED.grams WHERE $5 = 'ocr'" },
	{ "search_ocr_indexed",
	  "UPDATE fax_item fi SET ocr_indexed = true FROM message m"
	  " WHERE m.id = $1 AND fi.inbound_item_id = m.inbound_item_id" },
	/* Newest first, straight down the (ticket_id, source_id) index when the
	 * words are common (the first rows match), through the GIN index when
	 * they are rare: no count of every match, which for a word in half of
	 * 100 000 texts cost 300 ms.  A ticket may have several texts: rows
	 * are deduplicated by the caller, which asks for 4 per ticket. */
	{ "search_query",
	  "SELECT d.ticket_id, t.subject, t.status, t.queue, " US("t.updated_at") ","
	  " d.kind, d.source_id, substr(d.folded, greatest(strpos(d.folded, $3) - 30, 1), 100)"
	  " FROM search_doc d JOIN ticket t ON t.id = d.ticket_id"
	  " WHERE d.grams @> string_to_array($1, E'\\n')"
	  " AND NOT EXISTS (SELECT 1 FROM unnest(string_to_array($2, E'\\n')) x"
	  " WHERE strpos(d.folded, x) = 0)"
	  " ORDER BY d.ticket_id DESC, d.source_id DESC LIMIT $4::int" },
	{ NULL, NULL },
};

/* what is indexed: messages (subject and body) and internal notes */
struct search_source {
	const char *kind, *pending; /* search_doc.kind, the statement finding what is new */
	long long done_to; /* the highest id indexed */
	int scanned;       /* every row older than done_to has been looked at */
};

struct search {
	struct db *db;
	long max_chars, batch;
	struct search_source src[3];
};

struct search *search_new(struct db *db, const struct config *cfg)
{
	struct search *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->db = db;
	s->src[0] = (struct search_source){ "message", "search_pending", 0, 0 };
	s->src[1] = (struct search_source){ "note", "search_pending_note", 0, 0 };
	s->src[2] = (struct search_source){ "ocr", "search_pending_ocr", 0, 0 };
	search_configure(s, cfg);
	db_prepare_all(db, search_stmts);
	return s;
}

void search_free(struct search *s)
{
	free(s);
}

void search_configure(struct search *s, const struct config *cfg)
{
	s->max_chars = config_int(cfg, "ticketd.search_max_chars");
	s->batch = config_int(cfg, "ticketd.search_batch");
}

/* fold one text and send its row into the pipeline (and, for a fax's OCR
 * text, the mark that it is indexed); the statements sent, or -1 */
static int search_send(struct search *s, struct pool *p, const char *kind, const char *id,
		       const char *tid, const char *text)
{
	char *folded = charset_fold(p, text, strlen(text), SIZE_MAX), *grams = NULL;
	size_t n = 0;
	const char *v[5];

	if (folded == NULL || searchtext_grams(p, folded, SEARCHTEXT_DOCUMENT, &grams, &n) < 0) {
		/* an empty row: the message is not found, but not retried forever */
		log_warn("%s=%s: too large to index for search; left out",
			 strcmp(kind, "message") == 0 ? "msg" : kind, id);
		folded = grams = "";
	}
	v[0] = id;
	v[1] = tid;
	v[2] = folded;
	v[3] = grams;
	v[4] = kind;
	if (db_send(s->db, "search_insert", 5, v, NULL, NULL) < 0)
		return -1;
	if (strcmp(kind, "ocr") == 0) /* the item leaves the partial index */
		return db_send(s->db, "search_ocr_indexed", 1, v, NULL, NULL) < 0 ? -1 : 2;
	return 1;
}

/* send every row of r; the count of statements sent, or -1 */
static int search_send_all(struct search *s, const char *kind, const struct db_res *r,
			   long long *top)
{
	struct pool *p = pool_create(SEARCH_POOL);
	int n = db_res_rows(r), i, sent = 0, k;

	if (p == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((k = search_send(s, p, kind, db_res_val(r, i, 0), db_res_val(r, i, 1),
				     db_res_val(r, i, 2))) < 0)
			break;
		sent += k;
		if (db_res_ll(r, i, 0) > *top)
			*top = db_res_ll(r, i, 0);
		pool_clear(p);
	}
	pool_destroy(p);
	return i == n ? sent : -1;
}

/* the pipeline's results, all of them; 0 or -1 */
static int search_results(struct search *s, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		struct db_res *r = db_pipeline_result(s->db);

		bad |= r == NULL;
		db_res_free(r);
	}
	return db_pipeline_finish(s->db) < 0 || bad ? -1 : 0;
}

/* one batch of one source; the number indexed or -1 */
static int search_index_source(struct search *s, struct search_source *src)
{
	char from[24], batch[24], chars[24];
	const char *v[3] = { from, batch, chars };
	long long top = src->done_to;
	struct db_res *r;
	int n, sent;

	snprintf(from, sizeof(from), "%lld",
		 src->scanned && src->done_to > SEARCH_WINDOW ? src->done_to - SEARCH_WINDOW : 0);
	snprintf(batch, sizeof(batch), "%ld", s->batch);
	snprintf(chars, sizeof(chars), "%ld", s->max_chars);
	if ((r = db_query(s->db, src->pending, 3, v, NULL, NULL, 0)) == NULL)
		return -1;
	n = db_res_rows(r);
	if (n == 0) {
		db_res_free(r);
		src->scanned = 1;
		return 0;
	}
	if (db_begin(s->db) < 0 || db_pipeline_begin(s->db) < 0) {
		db_res_free(r);
		db_rollback(s->db);
		return -1;
	}
	sent = search_send_all(s, src->kind, r, &top);
	db_res_free(r);
	if (db_pipeline_end(s->db) < 0 || search_results(s, sent < 0 ? 0 : sent) < 0 || sent < 0 ||
	    db_commit(s->db) < 0) {
		db_rollback(s->db);
		return -1;
	}
	src->done_to = top;
	if (n < s->batch)
		src->scanned = 1;
	return n;
}

int search_index_run(struct search *s)
{
	int total = 0;

	for (size_t i = 0; i < sizeof(s->src) / sizeof(s->src[0]); i++) {
		int n = search_index_source(s, &s->src[i]);

		if (n < 0)
			return -1;
		total += n;
	}
	return total;
}

/* ---- GET /api/search ---- */

struct search_query {
	const char *terms; /* '\n'-joined */
	const char *grams; /* '\n'-joined, every term's */
	const char *first; /* the first term, for the snippet */
};

/* Keep the first, middle and last of a term's pairs: they narrow the
 * candidates as well as all of them (the term itself is checked after),
 * and the planner, which multiplies the selectivity of every element of
 * an @> array, takes eleven pairs of three words for a rare find and
 * walks the GIN index where the newest-first walk was twenty times
 * faster (measured at 100 000 texts: tests/bench/search). */
static void search_thin(char *g, size_t n)
{
	size_t keep[3] = { 0, n / 2, n - 1 }, k = 0, i = 0;
	char *w = g, *r = g;

	if (n <= 3)
		return;
	while (*r != '\0') {
		size_t len = strcspn(r, "\n");

		if (k < 3 && i == keep[k]) {
			if (w != g)
				*w++ = '\n';
			memmove(w, r, len);
			w += len;
			k++;
		}
		r += len + (r[len] == '\n');
		i++;
	}
	*w = '\0';
}

/* the folded query split into terms and their grams; 0, or -1 with the
 * reason for a 400 in *why */
static int search_parse(struct pool *p, const char *q, struct search_query *out, const char **why)
{
	char *f = charset_fold(p, q, strlen(q), SEARCH_MAX_QUERY), *save = NULL, *term;
	char *grams = "";
	int nterms = 0;

	if (f == NULL || f[0] == '\0') {
		*why = "q: say what to search for";
		return -1;
	}
	out->terms = "";
	for (term = strtok_r(f, " ", &save); term != NULL; term = strtok_r(NULL, " ", &save)) {
		char *g = NULL;
		size_t n = 0;

		if (++nterms > SEARCH_MAX_TERMS) {
			*why = "q: at most 8 words";
			return -1;
		}
		if (searchtext_grams(p, term, SEARCHTEXT_TERM, &g, &n) < 0)
			return -1;
		search_thin(g, n);
		out->terms = nterms == 1 ? term : pool_printf(p, "%s\n%s", out->terms, term);
		grams = nterms == 1 ? g : pool_printf(p, "%s\n%s", grams, g);
		if (nterms == 1)
			out->first = term;
		if (out->terms == NULL || grams == NULL)
			return -1;
	}
	out->grams = grams;
	return 0;
}

static json_t *search_row(const struct db_res *r, int i)
{
	char when[40];

	clock_format_iso(db_res_ll(r, i, 4), when, sizeof(when));
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "ticket_id",
			 (json_int_t)db_res_ll(r, i, 0), "subject", db_res_val(r, i, 1), "status",
			 db_res_val(r, i, 2), "queue", db_res_val(r, i, 3), "updated_at", when,
			 "found_in", db_res_val(r, i, 5), "source_id",
			 (json_int_t)db_res_ll(r, i, 6), "snippet", db_res_val(r, i, 7));
}

/* one entry per ticket (its newest matching text), at most limit; more
 * when there were further tickets or the rows were cut */
static void search_answer(struct api_call *c, const struct db_res *r, long limit, long cap)
{
	json_t *items = json_array();
	int n = db_res_rows(r), more = n >= cap;
	long long last = -1;

	for (int i = 0; i < n; i++) {
		if (db_res_ll(r, i, 0) == last)
			continue;
		last = db_res_ll(r, i, 0);
		if ((long)json_array_size(items) == limit) {
			more = 1;
			break;
		}
		json_array_append_new(items, search_row(r, i));
	}
	api_json(c, 200, json_pack("{s:o, s:b, s:I}", "tickets", items, "more", more, "limit",
				   (json_int_t)limit));
}

void search_api(struct api_call *c)
{
	const char *q = http_query(c->req, "q"), *ls = http_query(c->req, "limit"), *why = NULL;
	struct search_query sq = { 0 };
	char limit[24];
	const char *v[4];
	long lim = SEARCH_LIMIT_DEFAULT;
	struct db_res *r;
	char *end;

	if (ls != NULL) {
		lim = strtol(ls, &end, 10);
		if (*ls == '\0' || *end != '\0' || lim < 1 || lim > SEARCH_LIMIT_MAX) {
			api_error(c, 400, "limit: a number from 1 to 200");
			return;
		}
	}
	if (q == NULL || strlen(q) > SEARCH_MAX_QUERY ||
	    search_parse(c->req->pool, q, &sq, &why) < 0) {
		api_error(c, 400, why != NULL ? why : "q: up to 256 bytes of text");
		return;
	}
	snprintf(limit, sizeof(limit), "%ld", lim * SEARCH_ROWS_PER_TICKET);
	v[0] = sq.grams;
	v[1] = sq.terms;
	v[2] = sq.first;
	v[3] = limit;
	if ((r = db_query(c->db, "search_query", 4, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	search_answer(c, r, lim, lim * SEARCH_ROWS_PER_TICKET);
	db_res_free(r);
}
