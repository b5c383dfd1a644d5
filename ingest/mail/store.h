/* store: ingest-mail's side of the database (through lib/db.h).
 *
 * A batch is one transaction: store_begin, store_put per message,
 * optionally store_set_mailbox, store_commit.  store_commit sends
 * NOTIFY inbound (payload: the largest id inserted) inside the
 * transaction, so ticketd is woken exactly when the rows are visible.
 * Rows are inserted with ON CONFLICT (source, source_key) DO NOTHING: a
 * message committed before a crash is found again, not doubled. */
#ifndef MDG_INGEST_STORE_H
#define MDG_INGEST_STORE_H
#include <stddef.h>
#include <stdint.h>

struct config;
struct settings;
struct store;

struct store *store_new(const struct config *cfg, const struct settings *set);
void store_free(struct store *st);
/* 0 when connected; -1 with the milliseconds until the next try */
int store_ready(struct store *st, int64_t *retry_ms);

int store_begin(struct store *st);
/* Queue (or, when big, insert) one message.  A row whose key exists, or
 * with by_hash whose bytes exist under any key of this account, is left
 * alone.  0, or -1 on error (then the batch is to be rolled back).  The
 * bytes may be reused as soon as it returns. */
int store_put(struct store *st, const char *key, const void *raw, size_t len,
	      int64_t arrived_us, int by_hash);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* rows the current (or last committed) batch inserted; all of them once
 * store_commit has returned 0 */
long store_inserted(const struct store *st);

/* 1 found, 0 no row yet, -1 error */
int store_get_mailbox(struct store *st, const char *mailbox, uint32_t *uidvalidity,
		      uint32_t *last_uid);
int store_set_mailbox(struct store *st, const char *mailbox, uint32_t uidvalidity,
		      uint32_t last_uid);
/* pg_database_size() in MiB */
int store_db_mb(struct store *st, int64_t *mb);

#endif
