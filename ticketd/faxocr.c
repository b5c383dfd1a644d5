/* faxocr: what ingest-ocr read on a fax's pages, for the ticket page; the
 * contract is in faxocr.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db.h"
#include "faxocr.h"
#include "http.h"
#include "log.h"
#include "pool.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"

static const struct db_stmt faxocr_stmts[] = {
	{ "faxocr_pages",
	  "SELECT p.page_no, p.ocr_state, p.ocr_text, p.ocr_confidence, p.ocr_rotation,"
	  " p.ocr_vertical::text, p.ocr_ms, " US("p.ocr_done_at") ", p.ocr_error, p.ocr_attempts,"
	  " p.width_px, p.height_px FROM message m JOIN fax_page p"
	  " ON p.inbound_item_id = m.inbound_item_id WHERE m.id = $1 ORDER BY p.page_no" },
	{ "faxocr_cands",
	  "SELECT c.id, c.page_no, c.kind, c.value, c.first_pass, c.x, c.y, c.w, c.h,"
	  " " US("c.accepted_at") ", c.accepted_by FROM message m JOIN fax_candidate c"
	  " ON c.inbound_item_id = m.inbound_item_id WHERE m.id = $1 ORDER BY c.page_no, c.id" },
	{ "faxocr_message", "SELECT ticket_id FROM message WHERE id = $1 AND inbound_item_id IS NOT NULL" },
	/* 読み直し: the page back to pending with its attempts, and the item
	 * to be indexed again when it is read */
	{ "faxocr_reread",
	  "WITH p AS (UPDATE fax_page p SET ocr_state = 'pending', ocr_attempts = 0,"
	  "  ocr_lease_until = NULL FROM message m WHERE m.id = $1"
	  "  AND p.inbound_item_id = m.inbound_item_id AND p.page_no = $2"
	  "  AND p.ocr_state <> 'pending' RETURNING p.inbound_item_id),"
	  " i AS (UPDATE fax_item SET ocr_indexed = false WHERE inbound_item_id = (SELECT"
	  "  inbound_item_id FROM p)),"
	  " e AS (INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)"
	  "  SELECT m.ticket_id, $3, $4, 'ocr_reread', 'page ' || $2 FROM message m, p"
	  "  WHERE m.id = $1)"
	  " SELECT pg_notify('ocr', ''), (SELECT count(*) FROM p)" },
	{ "faxocr_cand",
	  "SELECT c.kind, c.value, m.ticket_id, c.accepted_at IS NOT NULL FROM fax_candidate c"
	  " JOIN message m ON m.inbound_item_id = c.inbound_item_id AND m.direction = 'in'"
	  " WHERE c.id = $1 ORDER BY m.id LIMIT 1" },
	/* one candidate into the ticket's citizen contact: the contact read
	 * and saved through the audited functions (sql/006), the other fields
	 * kept.  $1 ticket, $2 user, $3 login, $4 remote, $5 now, $6 kind,
	 * $7 value, $8 candidate */
	{ "faxocr_accept",
	  "WITH cur AS (SELECT * FROM contact_read($1, $2, $3, 'FAXのOCR候補を連絡先に採用', $4,"
	  "  $5::timestamptz)),"
	  " s AS (SELECT * FROM contact_save($1, NULL,"
	  "  coalesce((SELECT name FROM cur), ''), coalesce((SELECT name_kana FROM cur), ''),"
	  "  CASE WHEN $6 = 'postal' THEN $7 ELSE coalesce((SELECT postal_code FROM cur), '') END,"
	  "  coalesce((SELECT address FROM cur), ''),"
	  "  CASE WHEN $6 = 'phone' THEN $7 ELSE coalesce((SELECT phone FROM cur), '') END,"
	  "  CASE WHEN $6 = 'fax' THEN $7 ELSE coalesce((SELECT fax FROM cur), '') END,"
	  "  CASE WHEN $6 = 'mail' THEN $7 ELSE coalesce((SELECT email FROM cur), '') END,"
	  "  coalesce((SELECT note FROM cur), ''), $2, $3, 'FAXのOCR候補を連絡先に採用', $4,"
	  "  $5::timestamptz)),"
	  " a AS (UPDATE fax_candidate SET accepted_at = $5, accepted_by = $3 WHERE id = $8),"
	  " e AS (INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)"
	  "  VALUES ($1, $5, $3, 'contact_saved', 'OCR ' || $6))"
	  " SELECT s.contact_id, s.action, pg_notify('ticket_change', json_build_object('id',"
	  "  $1::bigint, 'op', 'contact')::text) FROM s" },
	{ NULL, NULL },
};

void faxocr_prepare(struct db *db)
{
	db_prepare_all(db, faxocr_stmts);
}

static json_t *faxocr_cand_row(const struct db_res *r, int i)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:[o, o, o, o], s:o, s:o}", "id",
			 api_col_int(r, i, 0), "page", api_col_int(r, i, 1), "kind",
			 api_col_str(r, i, 2), "value", api_col_str(r, i, 3), "first_pass",
			 api_col_str(r, i, 4), "box", api_col_int(r, i, 5), api_col_int(r, i, 6),
			 api_col_int(r, i, 7), api_col_int(r, i, 8), "accepted_at",
			 api_col_time(r, i, 9), "accepted_by", api_col_str(r, i, 10));
}

static json_t *faxocr_page_row(const struct db_res *r, int i)
{
	const char *v = db_res_null(r, i, 5) ? NULL : db_res_val(r, i, 5);

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "page", api_col_int(r, i, 0), "state", api_col_str(r, i, 1), "text",
			 api_col_str(r, i, 2), "confidence", api_col_int(r, i, 3), "rotation",
			 api_col_int(r, i, 4), "vertical",
			 v ? json_boolean(strcmp(v, "true") == 0) : json_null(), "ms",
			 api_col_int(r, i, 6), "done_at", api_col_time(r, i, 7), "error",
			 api_col_str(r, i, 8), "attempts", api_col_int(r, i, 9), "width",
			 api_col_int(r, i, 10), "height", api_col_int(r, i, 11), "candidates",
			 json_array());
}

void faxocr_get(struct api_call *c)
{
	char id[24];
	const char *v[1] = { id };
	struct db_res *p, *k;
	json_t *pages;

	snprintf(id, sizeof(id), "%lld", c->id[0]);
	if ((p = db_query(c->db, "faxocr_pages", 1, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (db_res_rows(p) == 0) {
		db_res_free(p);
		api_error(c, 404, "no such fax message");
		return;
	}
	if ((k = db_query(c->db, "faxocr_cands", 1, v, NULL, NULL, 0)) == NULL) {
		db_res_free(p);
		api_error(c, 503, "database unavailable");
		return;
	}
	pages = json_array();
	for (int i = 0; i < db_res_rows(p); i++)
		json_array_append_new(pages, faxocr_page_row(p, i));
	for (int i = 0; i < db_res_rows(k); i++) { /* each under its page */
		long long n = db_res_ll(k, i, 1);

		if (n >= 1 && (size_t)n <= json_array_size(pages))
			json_array_append_new(
				json_object_get(json_array_get(pages, (size_t)n - 1), "candidates"),
				faxocr_cand_row(k, i));
	}
	db_res_free(k);
	db_res_free(p);
	api_json(c, 200, json_pack("{s:I, s:o}", "message_id", (json_int_t)c->id[0], "pages", pages));
}

void faxocr_reread(struct api_call *c)
{
	char id[24], page[24];
	const char *v[4] = { id, page, api_now_iso(c, 0), c->session->login };
	struct db_res *r;

	snprintf(id, sizeof(id), "%lld", c->id[0]);
	snprintf(page, sizeof(page), "%lld", c->id[1]);
	if ((r = db_query(c->db, "faxocr_reread", 4, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (db_res_ll(r, 0, 1) == 0) {
		db_res_free(r);
		api_error(c, 409, "no such page, or it is waiting to be read already");
		return;
	}
	db_res_free(r);
	log_info("msg=%s: page %s to be read again (%s)", id, page, c->session->login);
	api_json(c, 202, json_pack("{s:I, s:I, s:s}", "message_id", (json_int_t)c->id[0], "page",
				   (json_int_t)c->id[1], "state", "pending"));
}

void faxocr_accept(struct api_call *c)
{
	char id[24], uid[24];
	const char *v[8];
	struct db_res *k, *r;

	snprintf(id, sizeof(id), "%lld", c->id[0]);
	snprintf(uid, sizeof(uid), "%ld", c->session->user_id);
	if ((k = db_query(c->db, "faxocr_cand", 1, (const char *const[]){ id }, NULL, NULL, 0)) ==
	    NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (db_res_rows(k) == 0) {
		db_res_free(k);
		api_error(c, 404, "no such candidate");
		return;
	}
	v[0] = db_res_val(k, 0, 2), v[1] = uid, v[2] = c->session->login;
	v[3] = c->req->remote_addr, v[4] = api_now_iso(c, 0), v[5] = db_res_val(k, 0, 0);
	/* the contact store keeps a postal code as its digits */
	v[6] = strncmp(db_res_val(k, 0, 1), "〒", 3) == 0 ? db_res_val(k, 0, 1) + 3
							  : db_res_val(k, 0, 1);
	v[7] = id;
	r = db_query(c->db, "faxocr_accept", 8, v, NULL, NULL, 0);
	if (r == NULL || db_res_rows(r) != 1) {
		api_error(c, r == NULL && strcmp(db_sqlstate(c->db), "42501") == 0 ? 403 : 503,
			  r == NULL && strcmp(db_sqlstate(c->db), "42501") == 0
				  ? "this role may not write the contact store"
				  : "database unavailable");
	} else {
		log_info("ticket=%s: OCR candidate %s (%s) saved into the contact by %s", v[0], id,
			 v[5], c->session->login);
		api_json(c, 200, json_pack("{s:I, s:s, s:s, s:s, s:I}", "candidate",
					   (json_int_t)c->id[0], "kind", v[5], "value", v[6],
					   "action", db_res_val(r, 0, 1), "contact_id",
					   (json_int_t)db_res_ll(r, 0, 0)));
	}
	db_res_free(r);
	db_res_free(k);
}
