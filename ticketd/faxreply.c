/* faxreply: replies by fax; the design is in faxreply.h.
 *
 * Preview and send run one composition (fax_compose): the draft read and
 * bounded, the letterhead filled, the text rendered, the attachments split
 * into pages, every page a single-page TIFF.  Preview decodes nothing: it
 * draws the rendered bitmaps and decodes only attachment pages for their
 * PNGs.  Send stores exactly the pages composed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "faxpdf.h"
#include "faxrender.h"
#include "faxreply.h"
#include "faxtiff.h"
#include "http.h"
#include "log.h"
#include "pngout.h"
#include "pool.h"
#include "reply.h"
#include "reply_int.h"
#include "upload.h"
#include "htmlsan.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define FAX_BODY_MAX 32768          /* bytes of reply text */
#define FAX_RECIPIENT_MAX 200
#define FAX_ATT_MAX 10
#define FAX_LETTERHEAD_MAX 8192
#define FAX_TOTAL_BYTES (64u << 20) /* attachments read for one fax */

const struct config_key faxreply_config_keys[] = {
	{ "ticketd.fax_letterhead", CFG_PATH, "templates/fax/letterhead.txt", 0, 0,
	  "replies by fax: the letterhead on page 1, {{variables}} as templates/fax/README says" },
	{ "ticketd.fax_font", CFG_STR, "IPAMincho", 0, 0,
	  "replies by fax: the font family (fontconfig name): IPAMincho or IPAGothic (Debian "
	  "fonts-ipafont-mincho / -gothic)" },
	{ "ticketd.fax_font_size", CFG_INT, "105", 105, 120,
	  "replies by fax: the text size in tenths of a point (105 = 10.5 pt, up to 120)" },
	{ "ticketd.fax_margin_mm", CFG_INT, "20", 10, 40,
	  "replies by fax: the margin on every side of the page, millimetres" },
	{ "ticketd.fax_max_pages", CFG_INT, "20", 1, 200,
	  "replies by fax: most pages one fax may have (text and attachments)" },
	{ "ticketd.fax_centre_phone", CFG_STR, "03-0000-0000", 0, 0,
	  "replies by fax: the centre's telephone number ({{centre.phone}} in the letterhead)" },
	{ "ticketd.fax_centre_fax", CFG_STR, "03-0000-0001", 0, 0,
	  "replies by fax: the centre's fax number ({{centre.fax}} in the letterhead)" },
	{ "ticketd.fax_extension_prefix", CFG_STR, "", 0, 0,
	  "replies by fax: digits that start an internal number the line may dial besides "
	  "Japanese numbers (0 + 9-10 digits); empty: none" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static struct {
	char letterhead[512], font[64], phone[64], fax[64], ext[16];
	int size10, margin, max_pages;
} fax_conf;

static const struct db_stmt faxreply_stmts[] = {
	{ "faxreply_ticket",
	  "SELECT t.id, t.purged_at IS NOT NULL, coalesce(s.approval_required, false)"
	  " FROM ticket t LEFT JOIN queue_setting s ON s.queue = t.queue WHERE t.id = $1" },
	{ "faxreply_lock", "SELECT id FROM ticket WHERE id = $1 FOR UPDATE" },
	{ "faxreply_att",
	  "SELECT a.filename, a.content_type, b.data FROM attachment a"
	  " JOIN message m ON m.id = a.message_id JOIN blob b ON b.sha256 = a.sha256"
	  " WHERE m.ticket_id = $1 AND a.message_id = $2 AND a.idx = $3" },
	{ "faxreply_contact",
	  "SELECT id, fax, name FROM contact_read($1, $2, $3, $4, $5, $6::timestamptz)" },
	{ "faxreply_msg",
	  "INSERT INTO message (ticket_id, direction, subject, from_name, to_list, body_text,"
	  " parse_state, created_at, delivery_state)"
	  " VALUES ($1, 'out', 'FAX送信', $2, $3, $4, 'ok', $5, $6) RETURNING id" },
	{ "faxreply_att_copy",
	  "INSERT INTO attachment (message_id, idx, filename, content_type, size, sha256)"
	  " SELECT $1, $2, a.filename, a.content_type, a.size, a.sha256 FROM attachment a"
	  " WHERE a.message_id = $3 AND a.idx = $4" },
	{ "faxreply_fax",
	  "INSERT INTO outbound_fax (ticket_id, message_id, number, confirmed_by, contact_id, pages,"
	  " not_before, created_by, created_at, state, approval) VALUES ($1, $2, $3, $4, $5, $6,"
	  " $7::timestamptz + make_interval(secs => $8::int), $9, $7::timestamptz, $10, $11)"
	  " RETURNING id, " US("not_before") },
	{ "faxreply_page",
	  "INSERT INTO outbound_fax_page (fax_id, page_no, tiff, source) VALUES ($1, $2, $3, $4)" },
	{ "faxreply_event",
	  "INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)"
	  " VALUES ($1, $2, $3, 'fax_queued', $4)" },
	{ "faxreply_status",
	  "UPDATE ticket SET status = CASE WHEN status IN ('new', 'open') THEN 'waiting_citizen'"
	  " ELSE status END, updated_at = $2 WHERE id = $1" },
	/* held for approval: the citizen has no answer yet, so the status stays */
	{ "faxreply_held", "UPDATE ticket SET updated_at = $2 WHERE id = $1" },
	{ "faxreply_approve", "SELECT outbound_fax_approve($1, $2, $3, $4::timestamptz, $5::int)" },
	{ "faxreply_notify",
	  "SELECT pg_notify('ticket_change', json_build_object('id', $1::bigint, 'op', 'fax')::text),"
	  " pg_notify('outbound_fax', $2)" },
	{ "faxreply_list",
	  "SELECT id, message_id, number, confirmed_by, pages, state, attempts, pages_sent,"
	  " last_result, last_t30_code, last_t30_text, last_sip_status, last_error,"
	  " " US("not_before") ", created_by, " US("created_at") ", " US("finished_at") ","
	  " state IN ('queued', 'awaiting_approval'), approval, reviewed_by, " US("reviewed_at") ","
	  " state = 'awaiting_approval' AND created_by <> $2"
	  " FROM outbound_fax WHERE ticket_id = $1 ORDER BY id" },
	{ "faxreply_cancel", "SELECT outbound_fax_cancel($1, $2, $3, $4::timestamptz)" },
	{ "faxreply_page_get",
	  "SELECT p.tiff FROM outbound_fax_page p WHERE p.fax_id = $1 AND p.page_no = $2" },
	{ NULL, NULL },
};

void faxreply_prepare(struct db *db)
{
	db_prepare_all(db, faxreply_stmts);
}

void faxreply_configure(const struct config *cfg)
{
	snprintf(fax_conf.letterhead, sizeof fax_conf.letterhead, "%s",
		 config_path(cfg, "ticketd.fax_letterhead"));
	snprintf(fax_conf.font, sizeof fax_conf.font, "%s", config_str(cfg, "ticketd.fax_font"));
	snprintf(fax_conf.phone, sizeof fax_conf.phone, "%s", config_str(cfg, "ticketd.fax_centre_phone"));
	snprintf(fax_conf.fax, sizeof fax_conf.fax, "%s", config_str(cfg, "ticketd.fax_centre_fax"));
	snprintf(fax_conf.ext, sizeof fax_conf.ext, "%s",
		 config_str(cfg, "ticketd.fax_extension_prefix"));
	fax_conf.size10 = (int)config_int(cfg, "ticketd.fax_font_size");
	fax_conf.margin = (int)config_int(cfg, "ticketd.fax_margin_mm");
	fax_conf.max_pages = (int)config_int(cfg, "ticketd.fax_max_pages");
}

/* ---- numbers ---- */

/* separators people type inside a number, ASCII and full-width */
static const char *const fax_seps[] = { " ", "-", "(", ")", "　", "－", "‐", "ー", "（", "）", "−" };

static size_t fax_sep_len(const char *s)
{
	size_t i, n;

	for (i = 0; i < sizeof fax_seps / sizeof fax_seps[0]; i++) {
		n = strlen(fax_seps[i]);
		if (strncmp(s, fax_seps[i], n) == 0)
			return n;
	}
	return 0;
}

int faxreply_digits(const char *typed, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)typed;
	size_t n = 0, sep;

	while (*s != '\0') {
		char d;

		if (*s >= '0' && *s <= '9') {
			d = (char)*s;
			s++;
		} else if (s[0] == 0xef && s[1] == 0xbc && s[2] >= 0x90 && s[2] <= 0x99) {
			d = (char)('0' + (s[2] - 0x90));   /* ０..９ */
			s += 3;
		} else if ((sep = fax_sep_len((const char *)s)) > 0) {
			s += sep;
			continue;
		} else {
			return -1;
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = d;
	}
	out[n] = '\0';
	return 0;
}

int faxreply_plausible(const char *digits, const char *ext_prefix)
{
	size_t n = strlen(digits), e = strlen(ext_prefix);

	if (e > 0 && n > e && n <= 15 && strncmp(digits, ext_prefix, e) == 0)
		return 1;
	return digits[0] == '0' && (n == 10 || n == 11);
}

/* ---- the draft ---- */

struct fax_att {
	long long msg, upload;
	int idx;
};

struct fax_job {
	struct api_call *c;
	const char *body, *recipient, *reason;
	char number[24];
	const char *confirmed_by;
	long long contact_id;
	struct fax_att att[FAX_ATT_MAX];
	int natt;
	/* composed */
	struct faxtiff_bitmap *text;   /* rendered text pages */
	int ntext;
	struct faxtiff_page *pages;    /* every page, text first */
	const char **source;           /* per page: "" or the attachment's file name */
	int npages;
	int held;                      /* the queue requires approval (sql/009) */
};

static const char *fax_str(json_t *body, const char *key, size_t max, int *bad)
{
	json_t *v = json_object_get(body, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v) || json_string_length(v) > max) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

static int fax_read_atts(struct fax_job *j, json_t *body)
{
	json_t *a = json_object_get(body, "attachments"), *e;
	size_t i;

	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) > FAX_ATT_MAX) {
		api_error(j->c, 400, "attachments: at most 10, as [{message_id, idx} or {upload_id}]");
		return -1;
	}
	json_array_foreach(a, i, e) {
		struct fax_att *t = &j->att[j->natt++];
		json_t *m = json_object_get(e, "message_id"), *x = json_object_get(e, "idx"),
		       *u = json_object_get(e, "upload_id");

		if (json_is_integer(u)) {
			t->upload = json_integer_value(u);
		} else if (json_is_integer(m) && json_is_integer(x) && json_integer_value(x) >= 0 &&
			   json_integer_value(x) < 10000) {
			t->msg = json_integer_value(m);
			t->idx = (int)json_integer_value(x);
		} else {
			api_error(j->c, 400, "attachments: each is {message_id, idx} or {upload_id}");
			return -1;
		}
	}
	return 0;
}

/* body and recipient: what preview and send both need */
static int fax_read_text(struct fax_job *j, json_t *body)
{
	int bad = 0;

	j->body = fax_str(body, "body", FAX_BODY_MAX, &bad);
	j->recipient = fax_str(body, "recipient", FAX_RECIPIENT_MAX, &bad);
	if (bad || j->body == NULL) {
		api_error(j->c, 400, "body: the reply text is required (at most 32768 bytes); "
				     "recipient: at most 200 bytes");
		return -1;
	}
	if (j->recipient == NULL)
		j->recipient = "";
	j->body = pool_strdup(j->c->req->pool, j->body);
	j->recipient = pool_strdup(j->c->req->pool, j->recipient);
	return fax_read_atts(j, body);
}

/* the typed number, twice */
static int fax_read_typed(struct fax_job *j, const char *num, const char *conf)
{
	char d2[24];

	if (num == NULL || conf == NULL || faxreply_digits(num, j->number, sizeof j->number) < 0 ||
	    faxreply_digits(conf, d2, sizeof d2) < 0) {
		api_error(j->c, 400, "number: type the fax number twice (number and number_confirm), "
				     "digits and hyphens only");
		return -1;
	}
	if (strcmp(j->number, d2) != 0) {
		api_error(j->c, 400, "number: the two numbers typed differ");
		return -1;
	}
	if (!faxreply_plausible(j->number, fax_conf.ext)) {
		api_error(j->c, 400, "number: not a Japanese fax number (0 and 9 or 10 more digits)");
		return -1;
	}
	j->confirmed_by = "typed_twice";
	return 0;
}

/* the ticket's citizen contact, read through the audited contact_read:
 * it must be contact_id and have a fax number */
static int fax_read_contact(struct fax_job *j, long long contact_id)
{
	char tid[24], uid[24];
	const char *v[6] = { tid, uid, j->c->session->login, j->reason, j->c->req->remote_addr,
			     api_now_iso(j->c, 0) };
	struct db_res *r;
	int ok;

	snprintf(tid, sizeof tid, "%lld", j->c->id[0]);
	snprintf(uid, sizeof uid, "%ld", j->c->session->user_id);
	r = db_query(j->c->db, "faxreply_contact", 6, v, NULL, NULL, 0);
	if (r == NULL) {
		if (strcmp(db_sqlstate(j->c->db), "42501") == 0)
			api_error(j->c, 403, "contact details need a grant for this role");
		else
			api_error(j->c, 503, "database unavailable");
		return -1;
	}
	ok = db_res_rows(r) == 1 && db_res_ll(r, 0, 0) == contact_id &&
	     faxreply_digits(db_res_val(r, 0, 1), j->number, sizeof j->number) == 0 &&
	     faxreply_plausible(j->number, fax_conf.ext);
	if (ok && j->recipient[0] == '\0')
		j->recipient = pool_strdup(j->c->req->pool, db_res_val(r, 0, 2));
	db_res_free(r);
	if (!ok) {
		api_error(j->c, 400, "contact_id: not this ticket's contact, or it has no usable fax number");
		return -1;
	}
	j->confirmed_by = "contact";
	j->contact_id = contact_id;
	return 0;
}

static int fax_read_number(struct fax_job *j, json_t *body)
{
	json_t *cid = json_object_get(body, "contact_id");
	int bad = 0;
	const char *num = fax_str(body, "number", 64, &bad), *conf = fax_str(body, "number_confirm", 64, &bad);

	j->reason = fax_str(body, "reason", 200, &bad);
	if (j->reason == NULL || j->reason[0] == '\0')
		j->reason = "FAXで返信";
	if (json_is_integer(cid)) {
		if (num != NULL) {
			api_error(j->c, 400, "give either number and number_confirm or contact_id");
			return -1;
		}
		if ((j->c->session->role_bit & (API_OPERATOR | API_SUPERVISOR)) == 0) {
			api_error(j->c, 403, "contact details need a grant for this role");
			return -1;
		}
		return fax_read_contact(j, json_integer_value(cid));
	}
	return fax_read_typed(j, num, conf);
}

/* 1 ready, 0 after a 4xx, -1 after a 503 */
static int fax_ticket_ok(struct fax_job *j, int sending)
{
	char tid[24];
	const char *v[1] = { tid };
	struct db_res *r;
	int rc = 1;

	snprintf(tid, sizeof tid, "%lld", j->c->id[0]);
	if ((r = db_query(j->c->db, "faxreply_ticket", 1, v, NULL, NULL, 0)) == NULL) {
		api_error(j->c, 503, "database unavailable");
		return -1;
	}
	if (db_res_rows(r) != 1) {
		api_error(j->c, 404, "no such ticket");
		rc = 0;
	} else if (strcmp(db_res_val(r, 0, 1), "t") == 0) {
		api_error(j->c, 409, "the ticket's correspondence was purged");
		rc = 0;
	} else if (sending) {
		j->held = strcmp(db_res_val(r, 0, 2), "t") == 0;
	}
	db_res_free(r);
	return rc;
}

/* ---- composition ---- */

/* "2026年11月22日", Tokyo (no daylight saving) */
static void fax_date(char *out, size_t len)
{
	time_t t = (time_t)(clock_now_us() / 1000000 + 9 * 3600);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, len, "%d年%d月%d日", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static char *fax_letterhead(struct fax_job *j, char *err, size_t errlen)
{
	char date[40], tid[24];
	struct buf tmpl, out;
	FILE *f = fopen(fax_conf.letterhead, "r");
	char chunk[1024];
	size_t n;
	const struct faxrender_var vars[] = {
		{ "recipient", j->recipient }, { "date", date }, { "ticket.id", tid },
		{ "centre.name", reply_conf.centre_name }, { "centre.phone", fax_conf.phone },
		{ "centre.fax", fax_conf.fax },
	};

	if (f == NULL) {
		snprintf(err, errlen, "the letterhead %.150s cannot be read", fax_conf.letterhead);
		return NULL;
	}
	buf_init(&tmpl, FAX_LETTERHEAD_MAX);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(&tmpl, chunk, n) < 0)
			break;
	fclose(f);
	fax_date(date, sizeof date);
	snprintf(tid, sizeof tid, "%lld", j->c->id[0]);
	buf_init(&out, FAX_LETTERHEAD_MAX * 2);
	if (faxrender_fill(tmpl.data != NULL ? tmpl.data : "", vars, sizeof vars / sizeof vars[0], &out,
			   err, errlen) < 0) {
		buf_free(&tmpl);
		buf_free(&out);
		return NULL;
	}
	buf_free(&tmpl);
	while (out.len > 0 && out.data[out.len - 1] == '\n')
		out.data[--out.len] = '\0';
	return buf_steal(&out, NULL);
}

static int fax_is_pdf(const char *name, const char *type)
{
	size_t n = strlen(name);

	return strncasecmp(type, "application/pdf", 15) == 0 ||
	       (n > 4 && strcasecmp(name + n - 4, ".pdf") == 0);
}

/* the pages of a TIFF as they are, or of a PDF rasterised (lib/faxpdf) */
static int fax_split(const char *name, const char *type, const unsigned char *data, size_t len,
		     struct faxtiff_page **pp, int *n, char *err, size_t errlen)
{
	struct faxpdf_limits lim;

	if (fax_is_pdf(name, type)) {
		faxpdf_limits_default(&lim);
		lim.max_pages = fax_conf.max_pages;
		return faxpdf_render(data, len, &lim, pp, n, err, errlen);
	}
	return faxtiff_split_mem(data, len, pp, n, err, errlen);
}

static int fax_is_tiff(const char *name, const char *type)
{
	size_t n = strlen(name);

	return strncasecmp(type, "image/tiff", 10) == 0 ||
	       (n > 4 && strcasecmp(name + n - 4, ".tif") == 0) ||
	       (n > 5 && strcasecmp(name + n - 5, ".tiff") == 0);
}

/* the bytes of attachment k: a ticket attachment or an upload of this ticket */
static int fax_att_bytes(struct fax_job *j, int k, const char **name, const char **type,
			 const unsigned char **data, size_t *len, struct db_res **keep)
{
	const struct fax_att *a = &j->att[k];
	char tid[24], mid[24], idx[16];
	const char *v[3] = { tid, mid, idx };
	struct upload_file f;

	if (a->upload > 0) {
		int got = upload_load(j->c->db, j->c->req->pool, a->upload, &f);

		if (got < 0)
			return -1;
		if (got == 0 || f.ticket != j->c->id[0] || f.used || f.data == NULL)
			return 0;
		*name = f.filename, *type = f.content_type, *data = f.data, *len = f.size;
		return 1;
	}
	snprintf(tid, sizeof tid, "%lld", j->c->id[0]);
	snprintf(mid, sizeof mid, "%lld", a->msg);
	snprintf(idx, sizeof idx, "%d", a->idx);
	if ((*keep = db_query(j->c->db, "faxreply_att", 3, v, NULL, NULL, 1)) == NULL)
		return -1;
	if (db_res_rows(*keep) != 1)
		return 0;
	*name = db_res_val(*keep, 0, 0), *type = db_res_val(*keep, 0, 1);
	*data = (const unsigned char *)db_res_val(*keep, 0, 2);
	*len = (size_t)db_res_len(*keep, 0, 2);
	return 1;
}

static int fax_push(struct fax_job *j, struct faxtiff_page *p, const char *source)
{
	struct faxtiff_page *np = realloc(j->pages, sizeof(*np) * (size_t)(j->npages + 1));
	const char **ns;

	if (np == NULL)
		return -1;
	j->pages = np;
	ns = realloc(j->source, sizeof(*ns) * (size_t)(j->npages + 1));
	if (ns == NULL)
		return -1;
	j->source = ns;
	j->pages[j->npages] = *p;
	j->source[j->npages++] = source;
	return 0;
}

/* attachment k's pages appended; 0, or -1 after answering */
static int fax_att_pages(struct fax_job *j, int k, size_t *total)
{
	const char *name = "", *type = "";
	const unsigned char *data = NULL;
	size_t len = 0;
	struct db_res *keep = NULL;
	struct faxtiff_page *pp = NULL;
	char err[200], msg[400];
	int got = fax_att_bytes(j, k, &name, &type, &data, &len, &keep), n = 0, i, rc = -1;

	if (got < 0) {
		api_error(j->c, 503, "database unavailable");
	} else if (got == 0) {
		api_error(j->c, 400, "attachments: not an attachment or unsent upload of this ticket");
	} else if ((*total += len) > FAX_TOTAL_BYTES) {
		api_error(j->c, 413, "attachments: more than 64 MiB");
	} else if (!fax_is_tiff(name, type) && !fax_is_pdf(name, type)) {
		snprintf(msg, sizeof msg, "%s: only TIFF and PDF files can be sent by fax", name);
		api_error(j->c, 422, msg);
	} else if (fax_split(name, type, data, len, &pp, &n, err, sizeof err) < 0) {
		snprintf(msg, sizeof msg, "%s: %s", name, err);
		api_error(j->c, 422, msg);
	} else {
		const char *src = pool_strdup(j->c->req->pool, name);

		for (i = 0; i < n; i++) {
			if (pp[i].width != 1728 && pp[i].width != 2048 && pp[i].width != 2432) {
				snprintf(msg, sizeof msg, "%s: page %d is %d pixels wide, not a fax page "
					 "(1728)", name, i + 1, pp[i].width);
				api_error(j->c, 422, msg);
				break;
			}
		}
		for (rc = i == n ? 0 : -1, i = 0; rc == 0 && i < n; i++) {
			if (fax_push(j, &pp[i], src) < 0) {
				api_error(j->c, 503, "out of memory");
				rc = -1;
			} else {
				pp[i].tiff = NULL;   /* now the job's */
			}
		}
	}
	faxtiff_pages_free(pp, n);
	db_res_free(keep);
	return rc;
}

static void fax_job_end(struct fax_job *j)
{
	faxrender_free(j->text, j->ntext);
	faxtiff_pages_free(j->pages, j->npages);
	free(j->source);
}

/* The text pages were pushed last (their "n/N" needed the attachments'
 * count first): rotate them to the front. */
static void fax_text_first(struct fax_job *j)
{
	int i;

	for (i = 0; i < j->ntext; i++) {
		struct faxtiff_page p = j->pages[j->npages - 1];
		const char *s = j->source[j->npages - 1];

		memmove(j->pages + 1, j->pages, sizeof(*j->pages) * (size_t)(j->npages - 1));
		memmove(j->source + 1, j->source, sizeof(*j->source) * (size_t)(j->npages - 1));
		j->pages[0] = p;
		j->source[0] = s;
	}
}

/* the text's pages first, then each attachment's; 0, or -1 after answering */
static int fax_compose(struct fax_job *j)
{
	struct faxrender_opts o = { fax_conf.font, fax_conf.size10 / 10.0, fax_conf.margin,
				    fax_conf.max_pages, 0, 0 };
	struct faxtiff_page *tp = NULL;
	char err[200], *head;
	size_t total = 0;
	int k, i;

	for (k = 0; k < j->natt; k++)
		if (fax_att_pages(j, k, &total) < 0)
			return -1;
	o.extra_pages = j->npages;
	if ((head = fax_letterhead(j, err, sizeof err)) == NULL) {
		log_error("ticket=%lld: fax letterhead: %s", j->c->id[0], err);
		api_error(j->c, 500, "the fax letterhead template is broken (see the log)");
		return -1;
	}
	k = faxrender_pages(&o, head, j->body, &j->text, &j->ntext, err, sizeof err);
	free(head);
	if (k < 0 || j->ntext + j->npages > fax_conf.max_pages) {
		api_error(j->c, 422, k < 0 ? err : "more pages than ticketd.fax_max_pages");
		return -1;
	}
	if (faxrender_tiff(j->text, j->ntext, &tp, err, sizeof err) < 0) {
		api_error(j->c, 500, err);
		return -1;
	}
	/* text pages go in front of the attachments' */
	for (i = 0; i < j->ntext; i++)
		if (fax_push(j, &tp[i], "") < 0)
			break;
	if (i < j->ntext) {
		for (k = i; k < j->ntext; k++)
			free(tp[k].tiff);   /* the ones not handed to the job */
		free(tp);
		api_error(j->c, 503, "out of memory");
		return -1;
	}
	free(tp);
	fax_text_first(j);
	return 0;
}

/* ---- POST /api/tickets/ID/fax-reply/preview ---- */

/* page i as a 1-bit PNG at full resolution (204x196 is near enough to
 * square pixels for the screen) */
static int fax_page_png(const struct faxtiff_page *page, const struct faxtiff_bitmap *rendered,
			uint8_t **png, size_t *len, char *err, size_t errlen)
{
	struct faxtiff_bitmap bm;
	int rc;

	if (rendered != NULL)
		return pngout_bilevel(rendered->bits, rendered->width, rendered->height,
				      rendered->stride, 1, png, len, err, errlen);
	if (faxtiff_decode(page->tiff, page->len, &bm, err, errlen) < 0)
		return -1;
	/* a standard-resolution attachment page: rows twice, as the viewer shows it */
	rc = pngout_bilevel(bm.bits, bm.width, bm.height, bm.stride, bm.y_dpi < 150 ? 2 : 1, png,
			    len, err, errlen);
	faxtiff_bitmap_free(&bm);
	return rc;
}

void faxreply_preview(struct api_call *c)
{
	json_t *body = api_body_object(c), *imgs;
	struct fax_job j;
	char err[200];
	int i;

	if (body == NULL)
		return;
	memset(&j, 0, sizeof j);
	j.c = c;
	if (fax_read_text(&j, body) < 0 || fax_ticket_ok(&j, 0) != 1 || fax_compose(&j) < 0) {
		json_decref(body);
		fax_job_end(&j);
		return;
	}
	json_decref(body);
	imgs = json_array();
	for (i = 0; i < j.npages; i++) {
		struct buf url;
		uint8_t *png = NULL;
		size_t len = 0;

		buf_init(&url, 16u << 20);
		if (fax_page_png(&j.pages[i], i < j.ntext ? &j.text[i] : NULL, &png, &len, err,
				 sizeof err) < 0 ||
		    htmlsan_data_url(&url, "image/png", png, len) < 0) {
			free(png);
			buf_free(&url);
			json_decref(imgs);
			fax_job_end(&j);
			api_error(c, 500, "the preview could not be drawn");
			return;
		}
		json_array_append_new(imgs, json_stringn(url.data, url.len));
		free(png);
		buf_free(&url);
	}
	api_json(c, 200, json_pack("{s:i, s:i, s:o}", "pages", j.npages, "text_pages", j.ntext,
				   "images", imgs));
	fax_job_end(&j);
}

/* ---- POST /api/tickets/ID/fax-reply ---- */

struct fax_ids {
	long long msg, fax;
	const char *not_before;
};

static long long fax_insert_id(struct fax_job *j, const char *stmt, int n, const char *const *v,
			       const char **second)
{
	struct db_res *r = db_query(j->c->db, stmt, n, v, NULL, NULL, 0);
	long long id = -1;

	if (r != NULL && db_res_rows(r) == 1) {
		id = db_res_ll(r, 0, 0);
		if (second != NULL)
			*second = pool_strdup(j->c->req->pool, db_res_val(r, 0, 1));
	}
	db_res_free(r);
	return id;
}

static int fax_store_atts(struct fax_job *j, long long msg)
{
	char m[24], idx[16], om[24], oi[16];
	const char *v[4] = { m, idx, om, oi };
	int k;

	snprintf(m, sizeof m, "%lld", msg);
	for (k = 0; k < j->natt; k++) {
		snprintf(idx, sizeof idx, "%d", k);
		if (j->att[k].upload > 0) {
			if (upload_attach(j->c->db, j->att[k].upload, msg, k) < 0)
				return -1;
			continue;
		}
		snprintf(om, sizeof om, "%lld", j->att[k].msg);
		snprintf(oi, sizeof oi, "%d", j->att[k].idx);
		if (db_cmd(j->c->db, "faxreply_att_copy", 4, v, NULL, NULL) != 1)
			return -1;
	}
	return 0;
}

static int fax_store_pages(struct fax_job *j, long long fax)
{
	char f[24], no[16];
	const char *v[4] = { f, no, NULL, NULL };
	int lens[4] = { 0, 0, 0, 0 }, bin[4] = { 0, 0, 1, 0 }, i;

	snprintf(f, sizeof f, "%lld", fax);
	for (i = 0; i < j->npages; i++) {
		snprintf(no, sizeof no, "%d", i + 1);
		v[2] = (const char *)j->pages[i].tiff;
		lens[2] = (int)j->pages[i].len;
		v[3] = j->source[i];
		if (db_cmd(j->c->db, "faxreply_page", 4, v, lens, bin) != 1)
			return -1;
	}
	return 0;
}

/* inside the transaction; 0 or -1 (the caller answers 503) */
static int fax_store(struct fax_job *j, struct fax_ids *ids)
{
	char tid[24], msg[24], cid[24], np[16], delay[16], fid[24], detail[80];
	const char *now = api_now_iso(j->c, 0);
	const char *to = pool_printf(j->c->req->pool, "FAX %s%s%s", j->number,
				     j->recipient[0] ? " " : "", j->recipient);
	const char *state = j->held ? "awaiting_approval" : "queued";
	const char *vm[6] = { tid, reply_conf.centre_name, to, j->body, now, state };
	const char *vf[11] = { tid, msg, j->number, j->confirmed_by, j->contact_id > 0 ? cid : NULL,
			       np, now, delay, j->c->session->login, state, j->held ? "queue" : NULL };
	const char *ve[4] = { tid, now, j->c->session->login, detail };
	const char *vs[2] = { tid, now }, *vn[2] = { tid, fid };
	struct db_res *r;

	snprintf(tid, sizeof tid, "%lld", j->c->id[0]);
	snprintf(cid, sizeof cid, "%lld", j->contact_id);
	snprintf(np, sizeof np, "%d", j->npages);
	snprintf(delay, sizeof delay, "%ld", reply_send_delay_s());
	if ((r = db_query(j->c->db, "faxreply_lock", 1, vs, NULL, NULL, 0)) == NULL)
		return -1;
	db_res_free(r);
	if ((ids->msg = fax_insert_id(j, "faxreply_msg", 6, vm, NULL)) < 0)
		return -1;
	snprintf(msg, sizeof msg, "%lld", ids->msg);
	if (fax_store_atts(j, ids->msg) < 0)
		return -1;
	if ((ids->fax = fax_insert_id(j, "faxreply_fax", 11, vf, &ids->not_before)) < 0)
		return -1;
	snprintf(fid, sizeof fid, "%lld", ids->fax);
	snprintf(detail, sizeof detail, "outbound_fax %lld, %d pages%s", ids->fax, j->npages,
		 j->held ? ", awaiting approval" : "");
	if (fax_store_pages(j, ids->fax) < 0 || db_cmd(j->c->db, "faxreply_event", 4, ve, NULL, NULL) != 1 ||
	    db_cmd(j->c->db, j->held ? "faxreply_held" : "faxreply_status", 2, vs, NULL, NULL) < 0)
		return -1;
	if ((r = db_query(j->c->db, "faxreply_notify", 2, vn, NULL, NULL, 0)) == NULL)
		return -1;
	db_res_free(r);
	return 0;
}

/* microseconds since the epoch (text) as "...Z" */
static json_t *fax_iso(const char *us)
{
	char b[40];

	return json_string(clock_format_iso(strtoll(us, NULL, 10), b, sizeof b));
}

void faxreply_send(struct api_call *c)
{
	json_t *body = api_body_object(c);
	struct fax_job j;
	struct fax_ids ids;

	if (body == NULL)
		return;
	memset(&j, 0, sizeof j);
	j.c = c;
	if (fax_read_text(&j, body) < 0 || fax_ticket_ok(&j, 1) != 1 || fax_read_number(&j, body) < 0 ||
	    fax_compose(&j) < 0) {
		json_decref(body);
		fax_job_end(&j);
		return;
	}
	json_decref(body);
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
	} else if (fax_store(&j, &ids) < 0 || db_commit(c->db) < 0) {
		db_rollback(c->db);
		api_error(c, 503, "database unavailable");
	} else {
		log_info("ticket=%lld: outbound_fax=%lld queued by %s, %d pages", c->id[0], ids.fax,
			 c->session->login, j.npages);
		api_json(c, 201, json_pack("{s:I, s:I, s:i, s:o, s:s}", "id", (json_int_t)ids.fax,
					   "message_id", (json_int_t)ids.msg, "pages", j.npages,
					   "not_before", fax_iso(ids.not_before), "state",
					   j.held ? "awaiting_approval" : "queued"));
	}
	fax_job_end(&j);
}

/* ---- GET /api/tickets/ID/faxes ---- */

static json_t *fax_row(const struct db_res *r, int i)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o, s:o, s:b}",
			 "id", api_col_int(r, i, 0), "message_id", api_col_int(r, i, 1),
			 "number", api_col_str(r, i, 2), "confirmed_by", api_col_str(r, i, 3),
			 "pages", api_col_int(r, i, 4), "state", api_col_str(r, i, 5),
			 "attempts", api_col_int(r, i, 6), "pages_sent", api_col_int(r, i, 7),
			 "last_result", api_col_str(r, i, 8), "last_t30_code", api_col_int(r, i, 9),
			 "last_t30_text", api_col_str(r, i, 10), "last_sip_status", api_col_int(r, i, 11),
			 "last_error", api_col_str(r, i, 12), "not_before", api_col_time(r, i, 13),
			 "created_by", api_col_str(r, i, 14), "created_at", api_col_time(r, i, 15),
			 "finished_at", api_col_time(r, i, 16),
			 "can_cancel", strcmp(db_res_val(r, i, 17), "t") == 0);
}

/* the approval part of a row: who held it, who approved, may I */
static json_t *fax_row_full(const struct db_res *r, int i)
{
	json_t *doc = fax_row(r, i);

	json_object_set_new(doc, "approval", api_col_str(r, i, 18));
	json_object_set_new(doc, "reviewed_by", api_col_str(r, i, 19));
	json_object_set_new(doc, "reviewed_at", api_col_time(r, i, 20));
	json_object_set_new(doc, "can_approve", json_boolean(strcmp(db_res_val(r, i, 21), "t") == 0));
	return doc;
}

void faxreply_list(struct api_call *c)
{
	char tid[24];
	const char *v[2] = { tid, c->session->login };

	snprintf(tid, sizeof tid, "%lld", c->id[0]);
	api_answer_rows(c, "faxreply_list", 2, v, "faxes", fax_row_full);
}

/* ---- POST /api/tickets/ID/faxes/FID/cancel ---- */

void faxreply_cancel(struct api_call *c)
{
	char tid[24], fid[24];
	const char *v[4] = { fid, tid, c->session->login, api_now_iso(c, 0) };
	struct db_res *r;
	int done;

	snprintf(tid, sizeof tid, "%lld", c->id[0]);
	snprintf(fid, sizeof fid, "%lld", c->id[1]);
	if ((r = db_query(c->db, "faxreply_cancel", 4, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	done = db_res_rows(r) == 1 && strcmp(db_res_val(r, 0, 0), "1") == 0;
	db_res_free(r);
	if (!done) {
		api_error(c, 409, "the fax is no longer waiting: it is being sent, was sent or cancelled");
		return;
	}
	log_info("ticket=%lld: outbound_fax=%lld cancelled by %s", c->id[0], c->id[1],
		 c->session->login);
	api_json(c, 200, json_pack("{s:I, s:s}", "id", (json_int_t)c->id[1], "state", "cancelled"));
}

/* ---- GET /api/faxes/FID/PAGE.png ---- */

void faxreply_page(struct api_call *c)
{
	char fid[24], no[24], err[200];
	const char *v[2] = { fid, no };
	struct faxtiff_page page;
	struct db_res *r;
	uint8_t *png = NULL;
	size_t len = 0;
	int rc;

	snprintf(fid, sizeof fid, "%lld", c->id[0]);
	snprintf(no, sizeof no, "%lld", c->id[1]);
	if ((r = db_query(c->db, "faxreply_page_get", 2, v, NULL, NULL, 1)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (db_res_rows(r) != 1) {
		db_res_free(r);
		api_error(c, 404, "no such page");
		return;
	}
	memset(&page, 0, sizeof page);
	page.tiff = (uint8_t *)db_res_val(r, 0, 0);
	page.len = (size_t)db_res_len(r, 0, 0);
	rc = fax_page_png(&page, NULL, &png, &len, err, sizeof err);
	db_res_free(r);
	if (rc < 0) {
		log_error("outbound_fax=%lld: page %lld: %s", c->id[0], c->id[1], err);
		api_error(c, 500, "the page could not be drawn");
		return;
	}
	http_reply_owned(c->req, 200, "image/png", png, len, free, png);
}

/* ---- POST /api/tickets/ID/faxes/FID/approve ---- */

void faxreply_approve(struct api_call *c)
{
	char tid[24], fid[24], delay[16];
	const char *v[5] = { fid, tid, c->session->login, api_now_iso(c, 0), delay };
	struct db_res *r;
	long rc;

	snprintf(tid, sizeof tid, "%lld", c->id[0]);
	snprintf(fid, sizeof fid, "%lld", c->id[1]);
	snprintf(delay, sizeof delay, "%ld", reply_send_delay_s());
	if ((r = db_query(c->db, "faxreply_approve", 5, v, NULL, NULL, 0)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	rc = db_res_rows(r) == 1 ? (long)db_res_ll(r, 0, 0) : 0;
	db_res_free(r);
	if (rc == 2) {
		api_error(c, 403, "a fax is approved by someone other than its author");
	} else if (rc != 1) {
		api_error(c, 409, "the fax is not waiting for approval");
	} else {
		log_info("ticket=%lld: outbound_fax=%lld approved by %s", c->id[0], c->id[1],
			 c->session->login);
		api_json(c, 200, json_pack("{s:I, s:s}", "id", (json_int_t)c->id[1], "state", "queued"));
	}
}
