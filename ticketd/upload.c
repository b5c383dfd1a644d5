/* Files uploaded in the reply composer; the contract is in upload.h.
 *
 * An upload is written in one transaction with its ticket row locked
 * (SELECT ... FOR UPDATE), the lock a reply takes to send: the quota of
 * unsent uploads is counted, and a DELETE cannot pass a send that is
 * about to attach the same upload, without a race. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "upload.h"
#include "utf8.h"

#define UPLOAD_NAME_MAX 255  /* bytes of a file name (sql/014) */
#define UPLOAD_HEADER_MAX 2048 /* bytes of the X-Filename header */
#define UPLOAD_PER_TICKET 20 /* unsent uploads of one ticket: a reply takes at most 20 files */
#define UPLOAD_SWEEP_EVERY_S 60

const struct config_key upload_config_keys[] = {
	{ "ticketd.upload_max_bytes", CFG_INT, "10485760", 1, 64L << 20,
	  "largest file an operator may upload in the reply composer (larger: 413)" },
	{ "ticketd.upload_keep_seconds", CFG_INT, "86400", 1, 30L * 86400,
	  "seconds an uploaded file no reply used is kept before ticketd deletes it" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static struct {
	long max_bytes, keep_s, total_max;
	int64_t last_sweep_ms;
} upload_conf;

static const struct db_stmt upload_stmts[] = {
	{ "upload_lock", "SELECT id FROM ticket WHERE id = $1 FOR UPDATE" },
	/* one operator's unsent uploads: what their composer lists (render) */
	{ "upload_usage",
	  "SELECT count(*), coalesce(sum(size), 0) FROM reply_upload"
	  " WHERE ticket_id = $1 AND uploaded_by = $2 AND used_by_message_id IS NULL" },
	{ "upload_pending",
	  "SELECT id, filename, content_type, size, encode(sha256, 'hex') FROM reply_upload"
	  " WHERE ticket_id = $1 AND uploaded_by = $2 AND used_by_message_id IS NULL ORDER BY id" },
	{ "upload_insert",
	  "INSERT INTO reply_upload (ticket_id, data, filename, content_type, size, sha256,"
	  " uploaded_by, uploaded_at) VALUES ($1, $2::bytea, $3, $4, octet_length($2::bytea),"
	  " sha256($2::bytea), $5, $6)"
	  " RETURNING id, encode(sha256, 'hex')" },
	{ "upload_delete",
	  "DELETE FROM reply_upload WHERE id = $1 AND ticket_id = $2 AND used_by_message_id IS NULL" },
	{ "upload_exists", "SELECT 1 FROM reply_upload WHERE id = $1 AND ticket_id = $2" },
	{ "upload_sweep",
	  "DELETE FROM reply_upload WHERE used_by_message_id IS NULL AND uploaded_at < $1" },
	/* binary results: the bytes as they are; the rest as text */
	{ "upload_get",
	  "SELECT ticket_id::text, filename, content_type, size::text, data,"
	  " (used_by_message_id IS NOT NULL)::text FROM reply_upload WHERE id = $1" },
	{ "upload_blob",
	  "INSERT INTO blob (sha256, size, data) SELECT sha256, size, data FROM reply_upload"
	  " WHERE id = $1 AND used_by_message_id IS NULL ON CONFLICT (sha256) DO NOTHING" },
	{ "upload_att",
	  "INSERT INTO attachment (message_id, idx, filename, content_type, size, sha256)"
	  " SELECT $2, $3, filename, content_type, size, sha256 FROM reply_upload"
	  " WHERE id = $1 AND used_by_message_id IS NULL" },
	{ "upload_used",
	  "UPDATE reply_upload SET used_by_message_id = $2, data = NULL"
	  " WHERE id = $1 AND used_by_message_id IS NULL" },
	{ NULL, NULL },
};

void upload_prepare(struct db *db)
{
	db_prepare_all(db, upload_stmts);
}

void upload_configure(const struct config *cfg)
{
	upload_conf.max_bytes = config_int(cfg, "ticketd.upload_max_bytes");
	upload_conf.keep_s = config_int(cfg, "ticketd.upload_keep_seconds");
	upload_conf.total_max = config_int(cfg, "ticketd.reply_max_attachment_bytes");
	upload_conf.last_sweep_ms = 0; /* a new keep time applies at the next tick */
}

long upload_max_bytes(void)
{
	return upload_conf.max_bytes;
}

/* ---- the checks ---- */

static unsigned upload_le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static unsigned long upload_le32(const unsigned char *p)
{
	return (unsigned long)upload_le16(p) | (unsigned long)upload_le16(p + 2) << 16;
}

/* the local headers one after the other from the start, while their
 * sizes are known (bit 3: sizes in a data descriptor after the data) */
static int upload_zip_locals(const unsigned char *d, size_t n)
{
	size_t off = 0;

	while (off + 30 <= n && memcmp(d + off, "PK\3\4", 4) == 0) {
		unsigned flags = upload_le16(d + off + 6);
		unsigned long csize = upload_le32(d + off + 18);

		if (flags & 1u)
			return 1;
		if ((flags & 8u) || csize == 0xffffffffUL)
			break;
		off += 30 + upload_le16(d + off + 26) + upload_le16(d + off + 28) + csize;
	}
	return 0;
}

/* the end of central directory record: the last "PK\5\6" in the final
 * 64 KiB + 22 bytes (its comment is at most 65535 bytes) */
static long upload_zip_eocd(const unsigned char *d, size_t n)
{
	size_t low = n > 65557 ? n - 65557 : 0;

	if (n < 22)
		return -1;
	for (size_t i = n - 22 + 1; i-- > low;)
		if (memcmp(d + i, "PK\5\6", 4) == 0)
			return (long)i;
	return -1;
}

/* the central directory entries, and the local header each names */
static int upload_zip_central(const unsigned char *d, size_t n, size_t eocd)
{
	size_t off = upload_le32(d + eocd + 16), end;
	unsigned count = upload_le16(d + eocd + 10);

	end = off + upload_le32(d + eocd + 12);
	for (unsigned i = 0; i < count && off + 46 <= n && off < end; i++) {
		unsigned long local;

		if (memcmp(d + off, "PK\1\2", 4) != 0)
			break;
		if (upload_le16(d + off + 8) & 1u)
			return 1;
		local = upload_le32(d + off + 42);
		if (local + 30 <= n && memcmp(d + local, "PK\3\4", 4) == 0 &&
		    (upload_le16(d + local + 6) & 1u))
			return 1;
		off += 46 + upload_le16(d + off + 28) + upload_le16(d + off + 30) +
		       upload_le16(d + off + 32);
	}
	return 0;
}

int upload_zip_encrypted(const unsigned char *d, size_t n)
{
	long eocd = upload_zip_eocd(d, n);

	if (upload_zip_locals(d, n))
		return 1;
	return eocd >= 0 && upload_zip_central(d, n, (size_t)eocd);
}

static int upload_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* C0, DEL, C1 (U+0080..U+009F), and the bidi controls that make a
 * name read backwards (U+200E/F, U+202A..U+202E, U+2066..U+2069) */
static int upload_name_control(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 1;
		if (s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return 1;
		if (s[i] == 0xe2 && i + 2 < n &&
		    ((s[i + 1] == 0x80 && (s[i + 2] == 0x8e || s[i + 2] == 0x8f ||
					   (s[i + 2] >= 0xaa && s[i + 2] <= 0xae))) ||
		     (s[i + 1] == 0x81 && s[i + 2] >= 0xa6 && s[i + 2] <= 0xa9)))
			return 1;
	}
	return 0;
}

const char *upload_filename(struct pool *p, const char *header, const char **err)
{
	size_t n = header ? strlen(header) : 0, k = 0;
	char *out;
	const char *base;

	*err = "X-Filename: the file's name is required (percent-encoded UTF-8)";
	if (n == 0 || n > UPLOAD_HEADER_MAX || (out = pool_alloc(p, n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (header[i] == '%') {
			int hi = i + 2 < n ? upload_hex(header[i + 1]) : -1;
			int lo = i + 2 < n ? upload_hex(header[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				*err = "X-Filename: a bad percent escape";
				return NULL;
			}
			out[k++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			out[k++] = header[i];
	}
	out[k] = '\0';
	if (!utf8_valid(out, k) || upload_name_control((const unsigned char *)out, k)) {
		*err = "X-Filename: the name is not UTF-8 or holds a control character";
		return NULL;
	}
	base = out;
	for (const char *s = out; *s != '\0'; s++)
		if (*s == '/' || *s == '\\')
			base = s + 1;
	base += strspn(base, " ");
	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    strlen(base) > UPLOAD_NAME_MAX) {
		*err = "X-Filename: no file name left, or longer than 255 bytes";
		return NULL;
	}
	return base;
}

const char *upload_content_type(struct pool *p, const char *header)
{
	size_t n = header ? strcspn(header, "; \t") : 0;
	char *t = n > 0 && n <= 100 ? pool_strndup(p, header, n) : NULL;
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

/* ---- POST /api/tickets/ID/uploads ---- */

size_t upload_body_limit(const struct http_req *req)
{
	const char *p = req->path, *pre = "/api/tickets/";
	size_t digits;

	if (strcmp(req->method, "POST") != 0 || strncmp(p, pre, strlen(pre)) != 0)
		return 0;
	p += strlen(pre);
	digits = strspn(p, "0123456789");
	if (digits == 0 || strcmp(p + digits, "/uploads") != 0)
		return 0;
	if (http_cookie(req, "mdg_session") == NULL || http_header(req, "X-CSRF-Token") == NULL)
		return 0;
	return (size_t)upload_conf.max_bytes;
}

/* what the request's bytes are refused for: 0 none, else the status
 * (answered) */
static int upload_refused(struct api_call *c)
{
	if (c->req->body_len == 0) {
		api_error(c, 400, "the file is empty");
		return 400;
	}
	if (c->req->body_len > (size_t)upload_conf.max_bytes) {
		api_error(c, 413, pool_printf(c->req->pool, "the file is larger than %ld bytes",
					      upload_conf.max_bytes));
		return 413;
	}
	if (upload_zip_encrypted((const unsigned char *)c->req->body, c->req->body_len)) {
		api_error(c, 422, "a password-protected (encrypted) zip cannot be sent: attach the "
				  "files themselves (no PPAP)");
		return 422;
	}
	return 0;
}

/* the ticket locked and its unsent uploads within bounds: 0, or the
 * status (answered) */
static int upload_room(struct api_call *c, const char *ts)
{
	const char *v[2] = { ts, c->session->login };
	struct db_res *r = db_query(c->db, "upload_lock", 1, v, NULL, NULL, 0);
	long long count = 0, bytes = 0;
	int found = r != NULL && db_res_rows(r) == 1, ok = r != NULL;

	db_res_free(r);
	if (ok && (r = db_query(c->db, "upload_usage", 2, v, NULL, NULL, 0)) != NULL) {
		count = db_res_ll(r, 0, 0);
		bytes = db_res_ll(r, 0, 1);
		db_res_free(r);
	} else
		ok = 0;
	if (!ok) {
		api_error(c, 503, "database unavailable");
		return 503;
	}
	if (!found) {
		api_error(c, 404, "no such ticket");
		return 404;
	}
	if (count >= UPLOAD_PER_TICKET ||
	    bytes + (long long)c->req->body_len > upload_conf.total_max) {
		api_error(c, 413, pool_printf(c->req->pool, "your unsent uploads on this ticket would "
					      "pass %d files or %ld bytes: remove some first",
					      UPLOAD_PER_TICKET, upload_conf.total_max));
		return 413;
	}
	return 0;
}

static json_t *upload_insert(struct api_call *c, const char *ts, const char *name,
			     const char *type)
{
	char now[40];
	const char *v[6] = { ts, c->req->body, name, type, c->session->login,
			     clock_format_iso(clock_now_us(), now, sizeof(now)) };
	const int lens[6] = { 0, (int)c->req->body_len, 0, 0, 0, 0 };
	const int bin[6] = { 0, 1, 0, 0, 0, 0 };
	struct db_res *r = db_query(c->db, "upload_insert", 6, v, lens, bin, 0);
	json_t *doc = NULL;

	if (r != NULL && db_res_rows(r) == 1)
		doc = json_pack("{s:I, s:s, s:s, s:I, s:s}", "upload_id",
				(json_int_t)db_res_ll(r, 0, 0), "filename", name, "content_type",
				type, "size", (json_int_t)c->req->body_len, "sha256",
				db_res_val(r, 0, 1));
	db_res_free(r);
	return doc;
}

void upload_create(struct api_call *c)
{
	char ts[24];
	const char *err, *type = upload_content_type(c->req->pool, http_header(c->req, "Content-Type"));
	const char *name = upload_filename(c->req->pool, http_header(c->req, "X-Filename"), &err);
	json_t *doc;

	if (name == NULL) {
		api_error(c, 400, err);
		return;
	}
	if (upload_refused(c) != 0)
		return;
	snprintf(ts, sizeof(ts), "%lld", c->id[0]);
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (upload_room(c, ts) != 0) {
		db_rollback(c->db);
		return;
	}
	if ((doc = upload_insert(c, ts, name, type)) == NULL || db_commit(c->db) < 0) {
		json_decref(doc);
		db_rollback(c->db);
		api_error(c, 503, "database unavailable");
		return;
	}
	log_info("ticket=%lld: upload=%lld of %zu bytes (%s) by %s", c->id[0],
		 (long long)json_integer_value(json_object_get(doc, "upload_id")), c->req->body_len,
		 type, c->session->login);
	api_json(c, 201, doc);
}

/* ---- DELETE /api/tickets/ID/uploads/UID ---- */

/* 1 deleted, 0 not (404 or 409 answered), -1 database error */
static int upload_delete_row(struct api_call *c, const char *ts, const char *us)
{
	const char *v[2] = { us, ts };
	struct db_res *r;
	long n = db_cmd(c->db, "upload_delete", 2, v, NULL, NULL);
	int exists;

	if (n != 0)
		return n == 1 ? 1 : -1;
	if ((r = db_query(c->db, "upload_exists", 2, v, NULL, NULL, 0)) == NULL)
		return -1;
	exists = db_res_rows(r) == 1;
	db_res_free(r);
	if (exists)
		api_error(c, 409, "the upload was sent with a reply: it stays with the message");
	else
		api_error(c, 404, "no such upload on this ticket");
	return 0;
}

void upload_delete(struct api_call *c)
{
	char ts[24], us[24];
	const char *v[1] = { ts };
	struct db_res *r;
	int done = -1;

	snprintf(ts, sizeof(ts), "%lld", c->id[0]);
	snprintf(us, sizeof(us), "%lld", c->id[1]);
	if (db_begin(c->db) < 0) {
		api_error(c, 503, "database unavailable");
		return;
	}
	/* the send's lock: not while a reply is attaching it */
	if ((r = db_query(c->db, "upload_lock", 1, v, NULL, NULL, 0)) != NULL) {
		db_res_free(r);
		done = upload_delete_row(c, ts, us);
	}
	if (done == 1 && db_commit(c->db) == 0) {
		log_info("ticket=%lld: upload=%lld deleted by %s", c->id[0], c->id[1],
			 c->session->login);
		http_reply(c->req, 204, NULL, "", 0);
		return;
	}
	db_rollback(c->db);
	if (done != 0)
		api_error(c, 503, "database unavailable");
}

/* ---- the sweep ---- */

void upload_sweep(struct db *db)
{
	int64_t now = clock_mono_ms();
	int64_t every = upload_conf.keep_s < UPLOAD_SWEEP_EVERY_S ? upload_conf.keep_s
								  : UPLOAD_SWEEP_EVERY_S;
	char cut[40];
	const char *v[1] = { cut };
	long n;

	if (upload_conf.last_sweep_ms != 0 && now - upload_conf.last_sweep_ms < every * 1000)
		return;
	if (!db_connected(db))
		return;
	upload_conf.last_sweep_ms = now;
	clock_format_iso(clock_now_us() - (int64_t)upload_conf.keep_s * 1000000, cut, sizeof(cut));
	n = db_cmd(db, "upload_sweep", 1, v, NULL, NULL);
	if (n > 0)
		log_info("deleted %ld unsent upload%s older than %ld seconds", n, n == 1 ? "" : "s",
			 upload_conf.keep_s);
}

/* ---- for reply.c and reply_render.c ---- */

json_t *upload_pending(struct api_call *c, long long ticket)
{
	char ts[24];
	const char *v[2] = { ts, c->session->login };
	struct db_res *r;
	json_t *list;

	snprintf(ts, sizeof(ts), "%lld", ticket);
	if ((r = db_query(c->db, "upload_pending", 2, v, NULL, NULL, 0)) == NULL)
		return NULL;
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o, s:o}", "upload_id",
						      api_col_int(r, i, 0), "filename",
						      api_col_str(r, i, 1), "content_type",
						      api_col_str(r, i, 2), "size", api_col_int(r, i, 3),
						      "sha256", api_col_str(r, i, 4)));
	db_res_free(r);
	return list;
}

int upload_load(struct db *db, struct pool *p, long long id, struct upload_file *f)
{
	char us[24];
	const char *v[1] = { us };
	struct db_res *r;
	int found;

	snprintf(us, sizeof(us), "%lld", id);
	if ((r = db_query(db, "upload_get", 1, v, NULL, NULL, 1)) == NULL)
		return -1;
	found = db_res_rows(r) == 1;
	if (found) {
		f->id = id;
		f->ticket = db_res_ll(r, 0, 0);
		f->filename = pool_strndup(p, db_res_val(r, 0, 1), (size_t)db_res_len(r, 0, 1));
		f->content_type = pool_strndup(p, db_res_val(r, 0, 2), (size_t)db_res_len(r, 0, 2));
		f->size = (size_t)db_res_ll(r, 0, 3);
		f->used = strcmp(db_res_val(r, 0, 5), "true") == 0;
		f->data = db_res_null(r, 0, 4) ? NULL
					       : pool_memdup(p, db_res_val(r, 0, 4),
							     (size_t)db_res_len(r, 0, 4));
		if (f->filename == NULL || f->content_type == NULL || (!f->used && f->data == NULL))
			found = -1;
	}
	db_res_free(r);
	return found;
}

int upload_attach(struct db *db, long long id, long long msg, int idx)
{
	char us[24], ms[24], is[24];
	const char *v[3] = { us, ms, is };

	snprintf(us, sizeof(us), "%lld", id);
	snprintf(ms, sizeof(ms), "%lld", msg);
	snprintf(is, sizeof(is), "%d", idx);
	if (db_cmd(db, "upload_blob", 1, v, NULL, NULL) < 0 ||
	    db_cmd(db, "upload_att", 3, v, NULL, NULL) != 1 ||
	    db_cmd(db, "upload_used", 2, v, NULL, NULL) != 1)
		return -1;
	return 0;
}
