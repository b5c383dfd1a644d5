/* The fax viewer's API; the contract is in faxview.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db.h"
#include "faxtiff.h"
#include "faxview.h"
#include "http.h"
#include "log.h"
#include "pngout.h"
#include "pool.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define FAXVIEW_REASON_MAX 400

static const struct db_stmt faxview_stmts[] = {
	{ "faxview_facts",
	  "SELECT f.origin, f.did, f.subaddress, f.pages, f.complete, f.result_text,"
	  " c.id, c.transport, c.result, c.t30_code, c.t30_text, c.ecm, " US("c.started_at") ","
	  " " US("c.ended_at") ", c.end_reason, c.line"
	  " FROM message m JOIN fax_item f ON f.inbound_item_id = m.inbound_item_id"
	  " LEFT JOIN fax_call c ON c.id = f.fax_call_id WHERE m.id = $1" },
	{ "faxview_pages",
	  "SELECT p.page_no, p.width_px, p.height_px, p.x_dpi, p.y_dpi, p.compression,"
	  " octet_length(p.tiff), p.source_name"
	  " FROM message m JOIN fax_page p ON p.inbound_item_id = m.inbound_item_id"
	  " WHERE m.id = $1 ORDER BY p.page_no" },
	{ "faxview_page",
	  "SELECT p.tiff FROM message m JOIN fax_page p ON p.inbound_item_id = m.inbound_item_id"
	  " WHERE m.id = $1 AND p.page_no = $2" },
	/* $1 message, $2 user, $3 login, $4 reason, $5 remote address, $6 now */
	{ "faxview_contact",
	  "SELECT caller, remote_ident, call_caller, call_remote_ident"
	  " FROM fax_contact_read($1, $2, $3, $4, $5, $6::timestamptz)" },
	{ NULL, NULL },
};

void faxview_prepare(struct db *db)
{
	db_prepare_all(db, faxview_stmts);
}

static json_t *faxview_page_doc(const struct db_res *r, int i)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "n", api_col_int(r, i, 0), "width",
			 api_col_int(r, i, 1), "height", api_col_int(r, i, 2), "x_dpi",
			 api_col_int(r, i, 3), "y_dpi", api_col_int(r, i, 4), "compression",
			 api_col_str(r, i, 5), "bytes", api_col_int(r, i, 6), "source_name",
			 api_col_str(r, i, 7));
}

static json_t *faxview_call_doc(const struct db_res *r)
{
	if (db_res_null(r, 0, 6))
		return json_null();
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", api_col_int(r, 0, 6),
			 "transport", api_col_str(r, 0, 7), "result", api_col_str(r, 0, 8),
			 "t30_code", api_col_int(r, 0, 9), "t30_text", api_col_str(r, 0, 10), "ecm",
			 db_res_null(r, 0, 11) ? json_null()
					       : json_boolean(strcmp(db_res_val(r, 0, 11), "t") == 0),
			 "started_at", api_col_time(r, 0, 12), "ended_at", api_col_time(r, 0, 13),
			 "end_reason", api_col_str(r, 0, 14), "line", api_col_str(r, 0, 15));
}

/* the caller and TSI, read through the audited function; NULL after a
 * reply (4xx/503) */
static json_t *faxview_contact(struct api_call *c, const char *mid, const char *reason)
{
	char uid[24];
	const char *v[6] = { mid, uid, c->session->login, reason, c->req->remote_addr,
			     api_now_iso(c, 0) };
	struct db_res *r;
	json_t *d;

	snprintf(uid, sizeof(uid), "%ld", c->session->user_id);
	if ((r = db_query(c->db, "faxview_contact", 6, v, NULL, NULL, 0)) == NULL) {
		if (strcmp(db_sqlstate(c->db), "42501") == 0)
			api_error(c, 403, "contact details need a grant for this role");
		else
			api_error(c, 503, "database unavailable");
		return NULL;
	}
	if (db_res_rows(r) != 1) {
		db_res_free(r);
		return json_null();
	}
	d = json_pack("{s:o,s:o}", "caller",
		      api_col_str(r, 0, db_res_val(r, 0, 0)[0] ? 0 : 2), "tsi",
		      api_col_str(r, 0, db_res_val(r, 0, 1)[0] ? 1 : 3));
	db_res_free(r);
	return d;
}

/* the ?reason= as one line of text, or NULL when absent; "" when bad */
static const char *faxview_reason(struct api_call *c)
{
	const char *r = http_query(c->req, "reason");
	size_t n;

	if (r == NULL)
		return NULL;
	n = strlen(r);
	if (n == 0 || n > FAXVIEW_REASON_MAX || strspn(r, " ") == n)
		return "";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)r[i] < 0x20 || r[i] == 0x7f)
			return "";
	return r;
}

void faxview_info(struct api_call *c)
{
	char mid[24];
	const char *v[1] = { mid }, *reason = faxview_reason(c);
	struct db_res *facts, *pages;
	json_t *doc, *list, *contact;

	if (reason != NULL && reason[0] == '\0') {
		api_error(c, 400, "reason: say why the contact details are needed");
		return;
	}
	snprintf(mid, sizeof(mid), "%lld", c->id[0]);
	if ((facts = db_query(c->db, "faxview_facts", 1, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (db_res_rows(facts) != 1) {
		db_res_free(facts);
		api_error(c, 404, "not a fax message");
		return;
	}
	if ((pages = db_query(c->db, "faxview_pages", 1, v, NULL, NULL, 0)) == NULL) {
		db_res_free(facts);
		api_error(c, 503, "database unavailable");
		return;
	}
	contact = reason ? faxview_contact(c, mid, reason) : json_null();
	if (contact == NULL) {
		db_res_free(facts);
		db_res_free(pages);
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(pages); i++)
		json_array_append_new(list, faxview_page_doc(pages, i));
	doc = json_pack("{s:I,s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:o,s:o}", "message_id",
			(json_int_t)c->id[0], "origin", api_col_str(facts, 0, 0), "did",
			api_col_str(facts, 0, 1), "subaddress", api_col_str(facts, 0, 2), "pages",
			api_col_int(facts, 0, 3), "complete",
			strcmp(db_res_val(facts, 0, 4), "t") == 0, "result_text",
			api_col_str(facts, 0, 5), "call", faxview_call_doc(facts), "page_list", list,
			"contact", contact);
	db_res_free(facts);
	db_res_free(pages);
	api_json(c, 200, doc);
}

static void faxview_res_free(void *r)
{
	db_res_free(r);
}

/* page c->id[1] of message c->id[0], binary; NULL after a 404/503 */
static struct db_res *faxview_fetch(struct api_call *c)
{
	char a[24], b[24];
	const char *v[2] = { a, b };
	struct db_res *r;

	snprintf(a, sizeof(a), "%lld", c->id[0]);
	snprintf(b, sizeof(b), "%lld", c->id[1]);
	if ((r = db_query(c->db, "faxview_page", 2, v, NULL, NULL, 1)) == NULL) {
		api_error(c, 503, "database unavailable");
		return NULL;
	}
	if (db_res_rows(r) != 1) {
		db_res_free(r);
		api_error(c, 404, "no such page");
		return NULL;
	}
	return r;
}

void faxview_tif(struct api_call *c)
{
	struct db_res *r = faxview_fetch(c);
	const char *cd;

	if (r == NULL)
		return;
	cd = pool_printf(c->req->pool, "attachment; filename=\"fax-%lld-%lld.tif\"", c->id[0],
			 c->id[1]);
	if (cd == NULL || http_add_header(c->req, "Content-Disposition", cd) < 0) {
		db_res_free(r);
		api_error(c, 500, "could not name the page");
		return;
	}
	http_add_header(c->req, "Cache-Control", "private, max-age=3600");
	http_reply_owned(c->req, 200, "image/tiff", db_res_val(r, 0, 0), (size_t)db_res_len(r, 0, 0),
			 faxview_res_free, r);
}

/* rows repeated so that the page shows at its true aspect: 2 for
 * standard resolution (204x98) */
static int faxview_yscale(const struct faxtiff_bitmap *bm)
{
	int s = bm->y_dpi > 0 ? (bm->x_dpi + bm->y_dpi / 2) / bm->y_dpi : 1;
	return s < 1 ? 1 : s > 2 ? 2 : s;
}

void faxview_png(struct api_call *c)
{
	struct db_res *r = faxview_fetch(c);
	struct faxtiff_bitmap bm;
	char err[256];
	uint8_t *png;
	size_t len;
	int rc;

	if (r == NULL)
		return;
	rc = faxtiff_decode((const uint8_t *)db_res_val(r, 0, 0), (size_t)db_res_len(r, 0, 0), &bm,
			    err, sizeof(err));
	db_res_free(r);
	if (rc < 0) {
		log_warn("msg=%lld: fax page %lld does not decode: %s", c->id[0], c->id[1], err);
		api_error(c, 422, "the page does not decode; download the original");
		return;
	}
	rc = pngout_bilevel(bm.bits, bm.width, bm.height, bm.stride, faxview_yscale(&bm), &png, &len,
			    err, sizeof(err));
	faxtiff_bitmap_free(&bm);
	if (rc < 0) {
		log_warn("msg=%lld: fax page %lld: %s", c->id[0], c->id[1], err);
		api_error(c, 500, "could not render the page");
		return;
	}
	http_add_header(c->req, "Cache-Control", "private, max-age=3600");
	http_reply_owned(c->req, 200, "image/png", png, len, free, png);
}
