/* store: prepared statements on inbound_item and mailbox_state.
 *
 * The raw message goes to PostgreSQL as a binary bytea parameter straight
 * from the buffer it was read into (libetpan's literal, or the file
 * buffer): no escaping, no extra copy on our side.  Times travel as
 * microseconds since the epoch, so no formatting or time zone is involved.
 * The madoguchi_ingest role may insert inbound_item rows and read back
 * (id, source, source_key, raw_sha256), which is all ON CONFLICT and the
 * hash check need. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "settings.h"
#include "store.h"
#include "tls.h"

/* PostgreSQL cannot hold a value of 1 GiB or more */
#define STORE_MAX_VALUE (1024L * 1024 * 1024 - 1024)

#define STORE_COLS                                                                         \
	"INSERT INTO inbound_item (channel, source, source_key, raw, raw_size, raw_sha256, " \
	"flags, arrived_at, stored_at) "
#define STORE_TIME(n) "timestamptz 'epoch' + $" #n "::bigint * interval '1 microsecond'"

static const struct db_stmt store_stmts[] = {
	{ "ingest_put",
	  STORE_COLS "VALUES ('mail', $1, $2, $3, $4, $5, $6::text[], " STORE_TIME(7) ", "
		     STORE_TIME(8) ") ON CONFLICT (source, source_key) DO NOTHING RETURNING id" },
	/* after a UIDVALIDITY change: the same bytes under any key count as stored */
	{ "ingest_put_by_hash",
	  STORE_COLS "SELECT 'mail', $1::text, $2::text, $3::bytea, $4::bigint, $5::bytea, "
		     "$6::text[], " STORE_TIME(7) ", " STORE_TIME(8) " WHERE NOT EXISTS "
		     "(SELECT 1 FROM inbound_item WHERE source = $1::text AND raw_sha256 = $5::bytea) "
		     "ON CONFLICT (source, source_key) DO NOTHING RETURNING id" },
	{ "ingest_notify", "SELECT pg_notify('inbound', $1)" },
	{ "ingest_get_mailbox",
	  "SELECT uidvalidity, last_uid FROM mailbox_state WHERE source = $1 AND mailbox = $2" },
	{ "ingest_set_mailbox",
	  "INSERT INTO mailbox_state (source, mailbox, uidvalidity, last_uid, updated_at) "
	  "VALUES ($1, $2, $3, $4, " STORE_TIME(5) ") ON CONFLICT (source, mailbox) DO UPDATE "
	  "SET uidvalidity = EXCLUDED.uidvalidity, last_uid = EXCLUDED.last_uid, "
	  "updated_at = EXCLUDED.updated_at" },
	{ "ingest_db_mb", "SELECT pg_database_size(current_database()) / 1048576" },
	{ NULL, NULL },
};

struct store {
	struct db *db;
	const struct settings *set;
	long long max_id; /* largest id inserted by this batch */
	long inserted;
	int in_tx;
};

struct store *store_new(const struct config *cfg, const struct settings *set)
{
	struct store *st = calloc(1, sizeof(*st));
	char *ci = db_conninfo(cfg, config_str(cfg, "ingest_mail.db_user"));

	if (st == NULL || ci == NULL || (st->db = db_new(ci, "ingest-mail")) == NULL)
		log_fatal("out of memory");
	free(ci);
	st->set = set;
	db_prepare_all(st->db, store_stmts);
	return st;
}

void store_free(struct store *st)
{
	if (st == NULL)
		return;
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

int store_begin(struct store *st)
{
	st->max_id = 0;
	st->inserted = 0;
	if (db_begin(st->db) < 0)
		return -1;
	st->in_tx = 1;
	return 0;
}

int store_put(struct store *st, const char *key, const void *raw, size_t len,
	      int64_t arrived_us, int by_hash)
{
	unsigned char sha[TLS_SHA256_LEN];
	char size[24], arrived[24], stored[24];
	const char *vals[8];
	int lens[8] = { 0, 0, 0, 0, TLS_SHA256_LEN, 0, 0, 0 };
	static const int binary[8] = { 0, 0, 1, 0, 1, 0, 0, 0 };
	struct db_res *r;
	int got;

	if (len > (size_t)STORE_MAX_VALUE) {
		log_error("msg=%s: %zu bytes is more than PostgreSQL can hold in one value; "
			  "it stays on the server and intake cannot pass it until it is removed",
			  key, len);
		return -1;
	}
	tls_sha256(raw, len, sha);
	snprintf(size, sizeof(size), "%zu", len);
	snprintf(arrived, sizeof(arrived), "%lld", (long long)arrived_us);
	snprintf(stored, sizeof(stored), "%lld", (long long)clock_now_us());
	vals[0] = st->set->account;
	vals[1] = key;
	vals[2] = raw;
	lens[2] = (int)len;
	vals[3] = size;
	vals[4] = (const char *)sha;
	vals[5] = (int64_t)len > st->set->max_message_bytes ? "{oversize}" : "{}";
	vals[6] = arrived;
	vals[7] = stored;
	r = db_query(st->db, by_hash ? "ingest_put_by_hash" : "ingest_put", 8, vals, lens, binary,
		     0);
	if (r == NULL)
		return -1;
	got = db_res_rows(r);
	if (got == 1) {
		long long id = db_res_ll(r, 0, 0);

		if (id > st->max_id)
			st->max_id = id;
		st->inserted++;
	}
	db_res_free(r);
	return got == 1;
}

int store_commit(struct store *st)
{
	char payload[24];
	const char *vals[1] = { payload };

	if (st->max_id > 0) {
		snprintf(payload, sizeof(payload), "%lld", st->max_id);
		if (db_cmd(st->db, "ingest_notify", 1, vals, NULL, NULL) < 0) {
			store_rollback(st);
			return -1;
		}
	}
	st->in_tx = 0;
	return db_commit(st->db);
}

void store_rollback(struct store *st)
{
	if (st->in_tx)
		db_rollback(st->db);
	st->in_tx = 0;
	st->inserted = 0;
	st->max_id = 0;
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
