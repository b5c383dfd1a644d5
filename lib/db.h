/* db: the libpq adapter; no other file includes libpq-fe.h.
 *
 * Prepared statements only: a program registers its statements once
 * (db_prepare_all), and they are prepared again after every reconnect, as
 * are its LISTEN channels.  A lost connection is noticed on the failing
 * call, logged once, and retried with exponential backoff (100 ms up to
 * 30 s) by db_ensure(), which the event loop calls each turn.
 *
 * Error texts are logged here, once; callers only see -1 or NULL and may
 * look at db_sqlstate() to tell a conflict from a broken connection. */
#ifndef MDG_DB_H
#define MDG_DB_H
#include <stddef.h>
#include <stdint.h>

struct config;
struct db;
struct db_res;

struct db_stmt {
	const char *name;
	const char *sql;
};

/* user: the role this program logs in as (config key given by the caller) */
char *db_conninfo(const struct config *cfg, const char *user);
struct db *db_new(const char *conninfo, const char *appname);
void db_free(struct db *db);
/* add a table of statements (ends with a NULL name; must outlive db);
 * a program may add up to 32 tables, one per module */
void db_prepare_all(struct db *db, const struct db_stmt *stmts);
void db_listen(struct db *db, const char *channel);

/* try to be connected: 0 when connected, -1 when not (yet) */
int db_ensure(struct db *db);
int db_connected(const struct db *db);
/* milliseconds until the next reconnect attempt (0 if connected) */
int64_t db_retry_in_ms(const struct db *db);
/* socket to poll for notifications; -1 when not connected */
int db_fd(const struct db *db);
/* drop the connection now (after a failed transaction, or in tests) */
void db_disconnect(struct db *db);

/* plain SQL without parameters: BEGIN, COMMIT, ROLLBACK, SET ... */
int db_simple(struct db *db, const char *sql);
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/* Run a prepared statement.  vals[i] NULL means SQL NULL; lens may be NULL
 * (all text); binary may be NULL (all text) or flags per parameter.
 * result_binary asks for binary results (bytea as raw bytes). */
struct db_res *db_query(struct db *db, const char *stmt, int n, const char *const *vals,
			const int *lens, const int *binary, int result_binary);
/* as db_query for statements without rows: affected rows, or -1 */
long db_cmd(struct db *db, const char *stmt, int n, const char *const *vals, const int *lens,
	    const int *binary);
/* Pipeline: send many prepared statements without waiting, then read
 * their results in order, saving a round trip per statement.  Keep what is
 * sent in one pipeline modest (a batch of mails, not a mailbox): results
 * are read only after db_pipeline_end(), so they wait in socket buffers.
 *   db_pipeline_begin(db); db_send(...) x N; db_pipeline_end(db);
 *   db_pipeline_result(db) x N  (NULL on error: later ones fail too);
 *   db_pipeline_finish(db)      (reads what is left, leaves pipeline mode)
 * Inside a transaction, an error aborts it: roll back after finishing. */
int db_pipeline_begin(struct db *db);
int db_send(struct db *db, const char *stmt, int n, const char *const *vals, const int *lens,
	    const int *binary);
int db_pipeline_end(struct db *db);
struct db_res *db_pipeline_result(struct db *db);
int db_pipeline_finish(struct db *db);
/* affected rows of a command result ("INSERT 0 1" gives 1) */
long db_res_affected(const struct db_res *r);

/* SQLSTATE of the last error ("" if none) */
const char *db_sqlstate(const struct db *db);

/* read pending notifications; calls cb for each.  -1 if the connection is lost. */
int db_notifications(struct db *db, void (*cb)(void *arg, const char *channel,
					       const char *payload),
		     void *arg);
/* the same, at most max of them (the rest stay queued for the next call);
 * how many were delivered, or -1 if the connection is lost.  A query's
 * reply reads every NOTIFY waiting on the socket into libpq at once:
 * delivering them a few at a time lets the caller write out what each
 * few produced (event streams) before the next. */
int db_notifications_some(struct db *db, void (*cb)(void *arg, const char *channel,
						    const char *payload),
			  void *arg, int max);

int db_res_rows(const struct db_res *r);
const char *db_res_val(const struct db_res *r, int row, int col);
int db_res_len(const struct db_res *r, int row, int col);
int db_res_null(const struct db_res *r, int row, int col);
long long db_res_ll(const struct db_res *r, int row, int col);
void db_res_free(struct db_res *r);

#endif
