/* store: prepared statements on inbound_item and mailbox_state.
 *
 * Rows go in as one multi-row INSERT per 50 messages or 512 KiB: store_put
 * appends the message to PostgreSQL binary arrays (text[], bytea[], bool[],
 * int8[]) and "ingest_put_many" unnests them.  One round trip and one
 * executor start per flush instead of per message is what lets intake keep
 * up with a mail server on a small machine; the price is one memcpy of each
 * message into the array, bounded by STORE_FLUSH_BYTES.  Flushing every 50
 * rather than once per batch lets PostgreSQL work while the IMAP server
 * goes on sending, and keeps the buffers small; the CPU cost per mail was
 * the same as with 200 when measured (about 0.03 ms in ingest-mail, 0.06 ms
 * in its PostgreSQL backend, 0.1 ms in dovecot's imap process).  A message bigger than
 * STORE_ALONE_BYTES goes alone as a plain binary parameter straight from
 * the buffer it was read into, so a large mail is not copied by us at all.
 * Flushes happen inside the batch's transaction, so they change nothing
 * about what is committed when.
 *
 * Times travel as microseconds since the epoch: no formatting, no zone.
 * The madoguchi_ingest role may insert inbound_item rows and read back
 * (id, source, source_key, raw_sha256): all ON CONFLICT and the hash check
 * need. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "faxmail.h"
#include "log.h"
#include "settings.h"
#include "store.h"
#include "tls.h"

/* PostgreSQL cannot hold a value of 1 GiB or more */
#define STORE_MAX_VALUE (1024L * 1024 * 1024 - 1024)
#define STORE_FLUSH_BYTES (512 * 1024)
#define STORE_FLUSH_ROWS 50
#define STORE_ALONE_BYTES (256 * 1024)
/* libpq never shrinks its send buffer: after a mail this big, the
 * connection is closed after the commit (and opened again, ~5 ms) so the
 * memory goes back instead of staying resident */
#define STORE_RECYCLE_BYTES (4 * 1024 * 1024)
#define STORE_ARRAY_HDR 20

/* PostgreSQL type OIDs of the array elements (pg_type.dat; fixed forever) */
#define STORE_OID_BOOL 16
#define STORE_OID_BYTEA 17
#define STORE_OID_INT8 20
#define STORE_OID_TEXT 25

#define STORE_COLS                                                                         \
	"INSERT INTO inbound_item (channel, source, source_key, raw, raw_size, raw_sha256, " \
	"flags, arrived_at, stored_at) "
#define STORE_TIME(x) "timestamptz 'epoch' + " x " * interval '1 microsecond'"
#define STORE_FLAGS(x) "CASE WHEN " x " THEN '{oversize}'::text[] ELSE '{}'::text[] END"

static const struct db_stmt store_stmts[] = {
	{ "ingest_put_many",
	  STORE_COLS "SELECT 'mail', $1::text, k, r, length(r), s, " STORE_FLAGS("o") ", "
	  STORE_TIME("a") ", " STORE_TIME("$6::bigint")
	  " FROM unnest($2::text[], $3::bytea[], $4::bytea[], $5::bool[], $7::bigint[]) "
	  "AS u(k, r, s, o, a) ON CONFLICT (source, source_key) DO NOTHING RETURNING id" },
	/* the same after a UIDVALIDITY change: bytes already stored under any
	 * key are left out, and so are repeats within the arrays (the first
	 * stays); rows go in in array order, so ids follow UIDs */
	{ "ingest_put_many_by_hash",
	  STORE_COLS "SELECT 'mail', $1::text, k, r, length(r), s, " STORE_FLAGS("o") ", "
	  STORE_TIME("a") ", " STORE_TIME("$6::bigint")
	  " FROM (SELECT DISTINCT ON (s) * FROM unnest($2::text[], $3::bytea[], $4::bytea[], "
	  "$5::bool[], $7::bigint[]) WITH ORDINALITY AS u(k, r, s, o, a, n) "
	  "WHERE NOT EXISTS (SELECT 1 FROM inbound_item i WHERE i.source = $1::text "
	  "AND i.raw_sha256 = u.s) ORDER BY s, n) d ORDER BY n "
	  "ON CONFLICT (source, source_key) DO NOTHING RETURNING id" },
	{ "ingest_put_one",
	  STORE_COLS "VALUES ('mail', $1::text, $2::text, $3::bytea, length($3::bytea), $4::bytea, "
	  STORE_FLAGS("$5::bool") ", "
	  STORE_TIME("$7::bigint") ", " STORE_TIME("$6::bigint")
	  ") ON CONFLICT (source, source_key) DO NOTHING RETURNING id" },
	/* after a UIDVALIDITY change: the same bytes under any key count as stored */
	{ "ingest_put_by_hash",
	  STORE_COLS "SELECT 'mail', $1::text, $2::text, $3::bytea, length($3::bytea), $4::bytea, "
	  STORE_FLAGS("$5::bool") ", " STORE_TIME("$7::bigint") ", " STORE_TIME("$6::bigint")
	  " WHERE NOT EXISTS (SELECT 1 FROM inbound_item WHERE source = $1::text "
	  "AND raw_sha256 = $4::bytea) ON CONFLICT (source, source_key) DO NOTHING RETURNING id" },
	{ "ingest_notify", "SELECT pg_notify('inbound', $1)" },
	{ "ingest_get_mailbox",
	  "SELECT uidvalidity, last_uid FROM mailbox_state WHERE source = $1 AND mailbox = $2" },
	{ "ingest_set_mailbox",
	  "INSERT INTO mailbox_state (source, mailbox, uidvalidity, last_uid, updated_at) "
	  "VALUES ($1, $2, $3, $4, " STORE_TIME("$5::bigint") ") ON CONFLICT (source, mailbox) "
	  "DO UPDATE SET uidvalidity = EXCLUDED.uidvalidity, last_uid = EXCLUDED.last_uid, "
	  "updated_at = EXCLUDED.updated_at" },
	{ "ingest_db_mb", "SELECT pg_database_size(current_database()) / 1048576" },
	/* fax-to-mail (faxmail.h): the item, channel 'fax' when it has pages,
	 * with its fax_item; $1 account, $2 key, $3 raw, $4 sha, $5 now, $6
	 * arrived, $7 pages, $8 DID, $9 complete, $10 result, $11 by hash */
	{ "ingest_put_fax",
	  "WITH ins AS (" STORE_COLS "SELECT CASE WHEN $7::int > 0 THEN 'fax' ELSE 'mail' END,"
	  " $1::text, $2::text, $3::bytea, length($3::bytea), $4::bytea, '{}', "
	  STORE_TIME("$6::bigint") ", " STORE_TIME("$5::bigint")
	  " WHERE NOT $11::bool OR NOT EXISTS (SELECT 1 FROM inbound_item WHERE source = $1::text"
	  " AND raw_sha256 = $4::bytea) ON CONFLICT (source, source_key) DO NOTHING RETURNING id),"
	  " f AS (INSERT INTO fax_item (inbound_item_id, origin, did, pages, complete, result_text)"
	  "  SELECT id, 'mail', $8, $7::int, $9::bool, $10 FROM ins WHERE $7::int > 0)"
	  " SELECT id FROM ins" },
	{ "ingest_put_fax_page",
	  "INSERT INTO fax_page (inbound_item_id, page_no, tiff, width_px, height_px, x_dpi, y_dpi,"
	  " compression, source_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)" },
	{ NULL, NULL },
};

/* the five arrays of ingest_put_many, in parameter order $2..$5, $7 */
enum { STORE_A_KEY, STORE_A_RAW, STORE_A_SHA, STORE_A_OVER, STORE_A_ARRIVED, STORE_NARRAYS };
static const unsigned int store_array_oid[STORE_NARRAYS] = {
	STORE_OID_TEXT, STORE_OID_BYTEA, STORE_OID_BYTEA, STORE_OID_BOOL, STORE_OID_INT8
};

struct store {
	struct db *db;
	const struct settings *set;
	long long max_id; /* largest id inserted by this batch */
	long inserted;
	int in_tx;
	struct buf arr[STORE_NARRAYS];
	int pending; /* rows in the arrays */
	int pending_by_hash; /* they are to go in with ingest_put_many_by_hash */
	int recycle; /* close the connection after this batch */
	struct faxmail *fax; /* NULL: fax-to-mail is off */
};

struct store *store_new(const struct config *cfg, const struct settings *set)
{
	struct store *st = calloc(1, sizeof(*st));
	char *ci = db_conninfo(cfg, config_str(cfg, "ingest_mail.db_user"));

	if (st == NULL || ci == NULL || (st->db = db_new(ci, "ingest-mail")) == NULL)
		log_fatal("out of memory");
	free(ci);
	st->set = set;
	for (int i = 0; i < STORE_NARRAYS; i++)
		buf_init(&st->arr[i], STORE_FLUSH_BYTES + STORE_ALONE_BYTES + 4096);
	db_prepare_all(st->db, store_stmts);
	st->fax = faxmail_new(set);
	return st;
}

void store_free(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < STORE_NARRAYS; i++)
		buf_free(&st->arr[i]);
	faxmail_free(st->fax);
	db_free(st->db);
	free(st);
}

int store_ready(struct store *st, int64_t *retry_ms)
{
	if (db_ensure(st->db) == 0)
		return 0;
	*retry_ms = db_retry_in_ms(st->db);
	if (*retry_ms < 10)
		*retry_ms = 10;
	return -1;
}

static void store_be32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

/* forget the queued rows; the buffers stay for the next batch (their
 * maximum bounds them at about 0.8 MiB) */
static void store_clear(struct store *st)
{
	for (int i = 0; i < STORE_NARRAYS; i++)
		buf_reset(&st->arr[i]);
	st->pending = 0;
}

/* one element: length, then the bytes (binary array format, array_recv) */
static int store_elem(struct buf *b, const void *p, size_t n)
{
	unsigned char len[4];

	if (b->len == 0 && buf_append(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
				      STORE_ARRAY_HDR) < 0)
		return -1;
	store_be32(len, (uint32_t)n);
	return buf_append(b, len, 4) < 0 || buf_append(b, p, n) < 0 ? -1 : 0;
}

/* the header, now that the count is known: 1 dimension, no NULLs, type,
 * size, lower bound 1 */
static void store_header(struct buf *b, unsigned int oid, int n)
{
	unsigned char *h = (unsigned char *)b->data;

	store_be32(h, 1);
	store_be32(h + 4, 0);
	store_be32(h + 8, oid);
	store_be32(h + 12, (uint32_t)n);
	store_be32(h + 16, 1);
}

/* take the ids a RETURNING id gave */
static void store_count(struct store *st, struct db_res *r)
{
	for (int i = 0; i < db_res_rows(r); i++) {
		long long id = db_res_ll(r, i, 0);

		if (id > st->max_id)
			st->max_id = id;
		st->inserted++;
	}
}

static int store_flush(struct store *st)
{
	static const int binary[7] = { 0, 1, 1, 1, 1, 0, 1 };
	const char *vals[7];
	int lens[7] = { 0 };
	char now[24];
	struct db_res *r;
	static const int map[7] = { -1, STORE_A_KEY, STORE_A_RAW, STORE_A_SHA, STORE_A_OVER, -1,
				    STORE_A_ARRIVED };

	if (st->pending == 0)
		return 0;
	snprintf(now, sizeof(now), "%lld", (long long)clock_now_us());
	vals[0] = st->set->account;
	vals[5] = now;
	for (int i = 0; i < 7; i++) {
		struct buf *b;

		if (map[i] < 0)
			continue;
		b = &st->arr[map[i]];
		store_header(b, store_array_oid[map[i]], st->pending);
		vals[i] = b->data;
		lens[i] = (int)b->len;
	}
	r = db_query(st->db, st->pending_by_hash ? "ingest_put_many_by_hash" : "ingest_put_many", 7,
		     vals, lens, binary, 0);
	store_clear(st);
	if (r == NULL)
		return -1;
	store_count(st, r);
	db_res_free(r);
	return 0;
}

/* one row now, from the caller's buffer: for big mail */
static int store_put_now(struct store *st, const char *key, const void *raw, size_t len,
			 const unsigned char *sha, int over, int64_t arrived_us, int by_hash)
{
	static const int binary[7] = { 0, 0, 1, 1, 0, 0, 0 };
	char arrived[24], now[24];
	const char *vals[7] = { st->set->account, key, raw, (const char *)sha,
				over ? "true" : "false", now, arrived };
	int lens[7] = { 0, 0, (int)len, TLS_SHA256_LEN, 0, 0, 0 };
	struct db_res *r;

	snprintf(arrived, sizeof(arrived), "%lld", (long long)arrived_us);
	snprintf(now, sizeof(now), "%lld", (long long)clock_now_us());
	if (store_flush(st) < 0)
		return -1;
	if (len >= STORE_RECYCLE_BYTES)
		st->recycle = 1;
	r = db_query(st->db, by_hash ? "ingest_put_by_hash" : "ingest_put_one", 7, vals, lens,
		     binary, 0);
	if (r == NULL)
		return -1;
	store_count(st, r);
	db_res_free(r);
	return 0;
}

/* the pages of fax item id; 0 or -1 */
static int store_fax_pages(struct store *st, const char *id, const struct faxmail_item *it)
{
	static const int binary[9] = { 0, 0, 1, 0, 0, 0, 0, 0, 0 };

	for (int i = 0; i < it->npages; i++) {
		const struct faxtiff_page *p = &it->pages[i];
		char no[16], w[16], h[16], xd[16], yd[16];
		const char *vals[9] = { id, no, (const char *)p->tiff, w, h, xd, yd, p->compression,
					it->source[i] ? it->source[i] : "" };
		int lens[9] = { 0, 0, (int)p->len, 0, 0, 0, 0, 0, 0 };

		snprintf(no, sizeof(no), "%d", i + 1);
		snprintf(w, sizeof(w), "%d", p->width);
		snprintf(h, sizeof(h), "%d", p->height);
		snprintf(xd, sizeof(xd), "%d", p->x_dpi);
		snprintf(yd, sizeof(yd), "%d", p->y_dpi);
		if (db_cmd(st->db, "ingest_put_fax_page", 9, vals, lens, binary) < 0)
			return -1;
	}
	return 0;
}

static void store_fax_log(long long id, const char *key, const struct faxmail_item *it)
{
	if (it->npages == 0)
		log_warn("item=%lld: fax-to-mail (msg=%s): no page could be taken (%s); kept as a"
			 " mail item", id, key, it->result_text);
	else if (!it->complete)
		log_warn("item=%lld: fax-to-mail (msg=%s): %d pages, DID \"%s\"; incomplete: %s",
			 id, key, it->npages, it->did, it->result_text);
	else
		log_info("item=%lld: fax-to-mail (msg=%s): %d pages, DID \"%s\"", id, key,
			 it->npages, it->did);
}

/* a fax sender's mail: converted, then inserted alone with its fax rows */
static int store_put_fax(struct store *st, const char *key, const void *raw, size_t len,
			 const unsigned char *sha, int64_t arrived_us, int by_hash)
{
	static const int binary[11] = { 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0 };
	struct faxmail_item it;
	char now[24], arrived[24], pages[16], id[24];
	const char *vals[11] = { st->set->account, key, raw, (const char *)sha, now, arrived,
				 pages, NULL, NULL, NULL, by_hash ? "true" : "false" };
	int lens[11] = { 0, 0, (int)len, TLS_SHA256_LEN, 0, 0, 0, 0, 0, 0, 0 };
	struct db_res *r;
	int rc = -1;

	if (store_flush(st) < 0)
		return -1;
	if (faxmail_convert(st->fax, raw, len, &it) < 0) {
		log_error("msg=%s: out of memory converting a fax mail", key);
		faxmail_item_free(&it);
		return -1;
	}
	snprintf(now, sizeof(now), "%lld", (long long)clock_now_us());
	snprintf(arrived, sizeof(arrived), "%lld", (long long)arrived_us);
	snprintf(pages, sizeof(pages), "%d", it.npages);
	vals[7] = it.did;
	vals[8] = it.complete ? "true" : "false";
	vals[9] = it.result_text;
	r = db_query(st->db, "ingest_put_fax", 11, vals, lens, binary, 0);
	if (r == NULL)
		goto out;
	rc = 0;
	if (db_res_rows(r) == 1) { /* inserted now, not found from before */
		snprintf(id, sizeof(id), "%s", db_res_val(r, 0, 0));
		rc = store_fax_pages(st, id, &it);
		if (rc == 0)
			store_fax_log(db_res_ll(r, 0, 0), key, &it);
	}
	store_count(st, r);
	db_res_free(r);
out:
	faxmail_item_free(&it);
	return rc;
}

int store_begin(struct store *st)
{
	st->max_id = 0;
	st->inserted = 0;
	store_clear(st);
	if (db_begin(st->db) < 0)
		return -1;
	st->in_tx = 1;
	return 0;
}

int store_put(struct store *st, const char *key, const void *raw, size_t len,
	      int64_t arrived_us, int by_hash)
{
	unsigned char sha[TLS_SHA256_LEN], over, when[8];
	uint64_t a = (uint64_t)arrived_us;

	if (len > (size_t)STORE_MAX_VALUE) {
		log_error("msg=%s: %zu bytes is more than PostgreSQL can hold in one value; "
			  "it stays on the server and intake cannot pass it until it is removed",
			  key, len);
		return -1;
	}
	tls_sha256(raw, len, sha);
	over = (int64_t)len > st->set->max_message_bytes;
	if (st->fax != NULL && !over && faxmail_wants(st->fax, raw, len))
		return store_put_fax(st, key, raw, len, sha, arrived_us, by_hash);
	if (len > STORE_ALONE_BYTES)
		return store_put_now(st, key, raw, len, sha, over, arrived_us, by_hash);
	if (st->pending > 0 && st->pending_by_hash != by_hash && store_flush(st) < 0)
		return -1;
	st->pending_by_hash = by_hash;
	for (int i = 0; i < 8; i++)
		when[i] = (unsigned char)(a >> (56 - 8 * i));
	if (store_elem(&st->arr[STORE_A_KEY], key, strlen(key)) < 0 ||
	    store_elem(&st->arr[STORE_A_RAW], raw, len) < 0 ||
	    store_elem(&st->arr[STORE_A_SHA], sha, sizeof(sha)) < 0 ||
	    store_elem(&st->arr[STORE_A_OVER], &over, 1) < 0 ||
	    store_elem(&st->arr[STORE_A_ARRIVED], when, 8) < 0) {
		log_error("msg=%s: out of memory queueing it", key);
		return -1;
	}
	st->pending++;
	if (st->pending >= STORE_FLUSH_ROWS || st->arr[STORE_A_RAW].len >= STORE_FLUSH_BYTES)
		return store_flush(st);
	return 0;
}

int store_commit(struct store *st)
{
	char payload[24];
	const char *vals[1] = { payload };

	if (store_flush(st) < 0)
		return -1;
	if (st->max_id > 0) {
		snprintf(payload, sizeof(payload), "%lld", st->max_id);
		if (db_cmd(st->db, "ingest_notify", 1, vals, NULL, NULL) < 0)
			return -1;
	}
	if (db_commit(st->db) < 0)
		return -1;
	st->in_tx = 0;
	if (st->recycle)
		db_disconnect(st->db);
	st->recycle = 0;
	return 0;
}

void store_rollback(struct store *st)
{
	if (st->in_tx)
		db_rollback(st->db);
	st->in_tx = 0;
	st->inserted = 0;
	st->max_id = 0;
	if (st->recycle)
		db_disconnect(st->db);
	st->recycle = 0;
	store_clear(st);
}

long store_inserted(const struct store *st)
{
	return st->inserted;
}

int store_get_mailbox(struct store *st, const char *mailbox, uint32_t *uidvalidity,
		      uint32_t *last_uid)
{
	const char *vals[2] = { st->set->account, mailbox };
	struct db_res *r = db_query(st->db, "ingest_get_mailbox", 2, vals, NULL, NULL, 0);
	int found;

	if (r == NULL)
		return -1;
	found = db_res_rows(r) == 1;
	if (found) {
		*uidvalidity = (uint32_t)db_res_ll(r, 0, 0);
		*last_uid = (uint32_t)db_res_ll(r, 0, 1);
	}
	db_res_free(r);
	return found;
}

int store_set_mailbox(struct store *st, const char *mailbox, uint32_t uidvalidity,
		      uint32_t last_uid)
{
	char v[16], l[16], now[24];
	const char *vals[5] = { st->set->account, mailbox, v, l, now };

	snprintf(v, sizeof(v), "%u", uidvalidity);
	snprintf(l, sizeof(l), "%u", last_uid);
	snprintf(now, sizeof(now), "%lld", (long long)clock_now_us());
	return db_cmd(st->db, "ingest_set_mailbox", 5, vals, NULL, NULL) < 0 ? -1 : 0;
}

int store_db_mb(struct store *st, int64_t *mb)
{
	struct db_res *r = db_query(st->db, "ingest_db_mb", 0, NULL, NULL, NULL, 0);

	if (r == NULL)
		return -1;
	*mb = db_res_ll(r, 0, 0);
	db_res_free(r);
	return 0;
}
