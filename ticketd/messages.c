/* Downloads of correspondence; the rules are in messages.h.  The bytes
 * are sent straight out of the query result (binary format), which is
 * freed when the response has gone.
 *
 * The HTML view is the body sanitised by lib/htmlsan with its cid: images
 * inlined as data: URLs.  They cannot be links to /cid/: the sandboxed
 * frame (and the sandbox CSP) gives the document a unique origin, so the
 * browser sends its image requests cross-site and the SameSite=Strict
 * session cookie stays home (measured in Chromium 156: the request comes
 * without a cookie and with Sec-Fetch-Site: cross-site, so it would get
 * 401).  Inlining needs no cookie and no new public route. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "buf.h"
#include "db.h"
#include "htmlsan.h"
#include "http.h"
#include "log.h"
#include "messages.h"
#include "pool.h"

/* the CSP of a received HTML body: no scripts, no fetches, no forms, its
 * own unique origin ("sandbox"); inline styles and inline images only,
 * and remote images only when the operator asked for them (?remote=1) */
#define MESSAGES_HTML_CSP \
	"default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"
#define MESSAGES_HTML_CSP_REMOTE \
	"default-src 'none'; img-src data: https: http:; style-src 'unsafe-inline'; sandbox"
/* the sanitised page at most (inlined images included); past it the
 * page is cut and closed */
#define MESSAGES_HTML_MAX (16u << 20)
/* inline images: one image at most, and all (repeats counted) at most */
#define MESSAGES_CID_ONE_MAX (4 << 20)
#define MESSAGES_CID_ALL_MAX (8u << 20)
/* what an image that is not loaded says (the page is Japanese first) */
#define MESSAGES_REMOTE_LABEL "[\xe5\xa4\x96\xe9\x83\xa8\xe7\x94\xbb\xe5\x83\x8f]" /* [外部画像] */
/* longest file name we echo back, in bytes (the header grows 3x) */
#define MESSAGES_NAME_MAX 512

static const struct db_stmt messages_stmts[] = {
	/* a fax from the line (sql/021) keeps its call record as JSON, not a mail */
	{ "messages_raw",
	  "SELECT i.raw, EXISTS (SELECT 1 FROM fax_item f WHERE f.inbound_item_id = i.id"
	  " AND f.origin = 'line') FROM message m JOIN inbound_item i ON i.id = m.inbound_item_id"
	  " WHERE m.id = $1" },
	{ "messages_html", "SELECT body_html FROM message WHERE id = $1 AND body_html IS NOT NULL" },
	{ "messages_attachment",
	  "SELECT a.filename, a.content_type, b.data FROM attachment a"
	  " JOIN blob b ON b.sha256 = a.sha256 WHERE a.message_id = $1 AND a.idx = $2" },
	/* the images an HTML body may name: no bytes yet */
	{ "messages_cid_list",
	  "SELECT content_id, content_type, idx, size FROM attachment"
	  " WHERE message_id = $1 AND content_id IS NOT NULL AND size <= $2 ORDER BY idx" },
	{ "messages_cid_data",
	  "SELECT b.data FROM attachment a JOIN blob b ON b.sha256 = a.sha256"
	  " WHERE a.message_id = $1 AND a.idx = $2" },
	{ "messages_cid",
	  "SELECT a.content_type, b.data FROM attachment a JOIN blob b ON b.sha256 = a.sha256"
	  " WHERE a.message_id = $1 AND a.content_id = $2 ORDER BY a.idx LIMIT 1" },
	{ NULL, NULL },
};

void messages_prepare(struct db *db)
{
	db_prepare_all(db, messages_stmts);
}

static void messages_res_free(void *r)
{
	db_res_free(r);
}

/* one row, binary results; NULL after replying 404/503 */
static struct db_res *messages_fetch(struct api_call *c, const char *stmt, int nparams,
				     const char *what)
{
	char a[24], b[24];
	const char *v[2] = { a, b };
	struct db_res *r;

	snprintf(a, sizeof(a), "%lld", c->id[0]);
	snprintf(b, sizeof(b), "%lld", c->id[1]);
	if ((r = db_query(c->db, stmt, nparams, v, NULL, NULL, 1)) == NULL) {
		api_error(c, 503, "database unavailable");
		return NULL;
	}
	if (db_res_rows(r) != 1) {
		db_res_free(r);
		api_error(c, 404, what);
		return NULL;
	}
	return r;
}

static void messages_send(struct api_call *c, const char *type, struct db_res *r, int col)
{
	http_reply_owned(c->req, 200, type, db_res_val(r, 0, col), (size_t)db_res_len(r, 0, col),
			 messages_res_free, r);
}

void messages_raw(struct api_call *c)
{
	struct db_res *r = messages_fetch(c, "messages_raw", 1, "no raw message");
	const char *cd;
	int line_fax;

	if (r == NULL)
		return;
	/* binary result: the boolean is one byte */
	line_fax = db_res_len(r, 0, 1) == 1 && db_res_val(r, 0, 1)[0] == 1;
	cd = pool_printf(c->req->pool, "attachment; filename=\"%s-%lld.%s\"",
			 line_fax ? "fax-call" : "message", c->id[0], line_fax ? "json" : "eml");
	if (cd != NULL)
		http_add_header(c->req, "Content-Disposition", cd);
	messages_send(c, line_fax ? "application/json" : "message/rfc822", r, 0);
}

/* ---- the HTML view ---- */

/* the inline images of one message while its HTML is sanitised */
struct messages_cids {
	struct api_call *c;
	struct db_res *list;  /* content_id, content_type, idx, size; fetched at the first cid: */
	struct db_res **data; /* per row of list, fetched when first named */
	int tried, failed;
	size_t inlined;       /* image bytes inlined so far */
};

static int messages_cids_load(struct messages_cids *m)
{
	char id[24], max[24];
	const char *v[2] = { id, max };
	int n;

	m->tried = 1;
	snprintf(id, sizeof(id), "%lld", m->c->id[0]);
	snprintf(max, sizeof(max), "%d", MESSAGES_CID_ONE_MAX);
	if ((m->list = db_query(m->c->db, "messages_cid_list", 2, v, NULL, NULL, 0)) == NULL)
		return -1;
	n = db_res_rows(m->list);
	m->data = pool_zalloc(m->c->req->pool, sizeof(*m->data) * (size_t)(n > 0 ? n : 1));
	return m->data ? 0 : -1;
}

static struct db_res *messages_cids_data(struct messages_cids *m, int row)
{
	char id[24];
	const char *v[2] = { id, db_res_val(m->list, row, 2) };

	if (m->data[row] == NULL) {
		snprintf(id, sizeof(id), "%lld", m->c->id[0]);
		m->data[row] = db_query(m->c->db, "messages_cid_data", 2, v, NULL, NULL, 1);
		if (m->data[row] != NULL && db_res_rows(m->data[row]) != 1) {
			db_res_free(m->data[row]);
			m->data[row] = NULL;
		}
	}
	return m->data[row];
}

/* htmlsan's cid callback: the image named id as a data: URL */
static int messages_cid_url(void *arg, const char *id, size_t len, struct buf *out)
{
	struct messages_cids *m = arg;
	struct db_res *d;

	if (!m->tried && messages_cids_load(m) < 0)
		m->failed = 1;
	if (m->failed)
		return -1;
	for (int row = 0; row < db_res_rows(m->list); row++) {
		const char *type = htmlsan_image_type(db_res_val(m->list, row, 1));

		if ((size_t)db_res_len(m->list, row, 0) != len ||
		    memcmp(db_res_val(m->list, row, 0), id, len) != 0 || type == NULL)
			continue;
		/* the budget is checked before the bytes are fetched */
		if (m->inlined + (size_t)db_res_ll(m->list, row, 3) > MESSAGES_CID_ALL_MAX ||
		    (d = messages_cids_data(m, row)) == NULL)
			return 0;
		m->inlined += (size_t)db_res_len(d, 0, 0);
		return htmlsan_data_url(out, type, db_res_val(d, 0, 0), (size_t)db_res_len(d, 0, 0)) < 0
			       ? -1
			       : 1;
	}
	return 0;
}

static void messages_cids_free(struct messages_cids *m)
{
	for (int row = 0; m->data && row < db_res_rows(m->list); row++)
		db_res_free(m->data[row]);
	db_res_free(m->list);
}

/* the sanitised page of body_html in r, "<!DOCTYPE html>" first */
static int messages_sanitise(struct api_call *c, struct db_res *r, int remote, struct buf *out)
{
	struct messages_cids m = { .c = c };
	struct htmlsan_opts o = { .remote_images = remote, .remote_label = MESSAGES_REMOTE_LABEL,
				  .cid = messages_cid_url, .cid_arg = &m };
	struct htmlsan_stats st;
	int rc;

	buf_init(out, MESSAGES_HTML_MAX);
	rc = buf_append_str(out, "<!DOCTYPE html>\n");
	if (rc == 0)
		rc = htmlsan_clean(c->req->pool, db_res_val(r, 0, 0), (size_t)db_res_len(r, 0, 0), &o, out,
				   &st);
	messages_cids_free(&m);
	if (rc == 0 && (st.truncated || m.failed))
		log_warn("msg=%lld: HTML view %s", c->id[0],
			 m.failed ? "without its inline images (database)" : "cut at its size limit");
	return rc;
}

void messages_html(struct api_call *c)
{
	struct db_res *r = messages_fetch(c, "messages_html", 1, "no HTML body");
	const char *q = http_query(c->req, "remote");
	int remote = q != NULL && strcmp(q, "1") == 0;
	struct buf out;
	char *page;
	size_t len;

	if (r == NULL)
		return;
	if (messages_sanitise(c, r, remote, &out) < 0) {
		db_res_free(r);
		buf_free(&out);
		api_error(c, 500, "could not sanitise the HTML body");
		return;
	}
	db_res_free(r);
	page = buf_steal(&out, &len);
	http_add_header(c->req, "Content-Security-Policy",
			remote ? MESSAGES_HTML_CSP_REMOTE : MESSAGES_HTML_CSP);
	http_reply_owned(c->req, 200, "text/html; charset=utf-8", page, len, free, page);
}

/* GET /api/messages/ID/cid/<content-id>: an inline image by its Content-ID */
void messages_cid(struct api_call *c)
{
	const char *cid = c->req->path + strlen("/api/messages/");
	const char *v[2];
	char id[24];
	const char *type;
	struct db_res *r;

	cid += strspn(cid, "0123456789");
	if (strncmp(cid, "/cid/", 5) != 0 || cid[5] == '\0') {
		api_error(c, 404, "no such image");
		return;
	}
	snprintf(id, sizeof(id), "%lld", c->id[0]);
	v[0] = id;
	v[1] = cid + 5;
	if ((r = db_query(c->db, "messages_cid", 2, v, NULL, NULL, 1)) == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (db_res_rows(r) != 1 || (type = htmlsan_image_type(db_res_val(r, 0, 0))) == NULL) {
		db_res_free(r);
		api_error(c, 404, "no such image");
		return;
	}
	messages_send(c, type, r, 1);
}

void messages_attachment(struct api_call *c)
{
	struct db_res *r = messages_fetch(c, "messages_attachment", 2, "no such attachment");
	const char *cd, *type;

	if (r == NULL)
		return;
	cd = messages_disposition(c->req->pool, db_res_val(r, 0, 0));
	type = messages_safe_type(c->req->pool, db_res_val(r, 0, 1));
	if (cd == NULL || http_add_header(c->req, "Content-Disposition", cd) < 0) {
		db_res_free(r);
		api_error(c, 500, "could not name the attachment");
		return;
	}
	messages_send(c, type, r, 2);
}

/* ---- names and types ---- */

/* length of the UTF-8 sequence at s (at most n bytes), 0 if invalid */
static size_t messages_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* RFC 5987 attr-char */
static int messages_attr_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$&+-.^_`|~", ch) != NULL);
}

/* an ASCII byte we pass into filename="..." unchanged */
static int messages_plain_char(unsigned char ch)
{
	return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' && ch != '%' && ch != '/';
}

char *messages_disposition(struct pool *p, const char *name)
{
	const unsigned char *s = (const unsigned char *)(name && *name ? name : "attachment");
	size_t n = strlen((const char *)s), i = 0;
	char *fb = pool_alloc(p, MESSAGES_NAME_MAX + 1), *pe = pool_alloc(p, 3 * MESSAGES_NAME_MAX + 1);
	size_t fl = 0, pl = 0;

	if (fb == NULL || pe == NULL)
		return NULL;
	while (i < n) {
		size_t len = messages_utf8_len(s + i, n - i);

		if (i + (len ? len : 1) > MESSAGES_NAME_MAX)
			break;
		if (len == 1 && messages_plain_char(s[i]))
			fb[fl++] = (char)s[i];
		else
			fb[fl++] = '_';
		if (len == 0 || (len == 1 && (s[i] < 0x20 || s[i] == 0x7f || s[i] == '/' ||
					      s[i] == '\\'))) {
			pe[pl++] = '_'; /* not UTF-8, a control or a path separator */
			i++;
			continue;
		}
		for (size_t k = 0; k < len; k++, i++) {
			if (messages_attr_char(s[i]))
				pe[pl++] = (char)s[i];
			else
				pl += (size_t)snprintf(pe + pl, 4, "%%%02X", s[i]);
		}
	}
	fb[fl] = pe[pl] = '\0';
	return pool_printf(p, "attachment; filename=\"%s\"; filename*=UTF-8''%s", fb, pe);
}

static int messages_type_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$&^_.+-", ch) != NULL);
}

/* lowercased "type/subtype" of a Content-Type value, or NULL if malformed */
static char *messages_media_type(struct pool *p, const char *stored)
{
	size_t n = strcspn(stored, ";");
	char *t;
	int slash = 0;

	while (n > 0 && (stored[n - 1] == ' ' || stored[n - 1] == '\t'))
		n--;
	while (n > 0 && (*stored == ' ' || *stored == '\t'))
		stored++, n--;
	if (n == 0 || n > 127 || (t = pool_strndup(p, stored, n)) == NULL)
		return NULL;
	for (char *q = t; *q; q++) {
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
		if (*q == '/')
			slash++;
		else if (!messages_type_char(*q))
			return NULL;
	}
	return slash == 1 && t[0] != '/' && t[n - 1] != '/' ? t : NULL;
}

const char *messages_safe_type(struct pool *p, const char *stored)
{
	static const char *const inert[] = {
		"text/plain", "text/csv", "application/pdf", "application/zip",
		"application/gzip", "application/msword", "application/vnd.ms-excel",
		"application/vnd.ms-powerpoint", "message/rfc822", "application/rtf",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation",
	};
	const char *t = messages_media_type(p, stored);

	if (t == NULL)
		return "application/octet-stream";
	for (size_t i = 0; i < sizeof(inert) / sizeof(inert[0]); i++)
		if (strcmp(t, inert[i]) == 0)
			return t;
	/* images, sound and video, except the ones that are documents
	 * (SVG and anything else XML can carry script) */
	if ((strncmp(t, "image/", 6) == 0 || strncmp(t, "audio/", 6) == 0 ||
	     strncmp(t, "video/", 6) == 0) &&
	    strstr(t, "xml") == NULL && strstr(t, "svg") == NULL)
		return t;
	return "application/octet-stream";
}
