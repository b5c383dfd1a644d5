/* The libpq adapter.
 *
 * State machine: DISCONNECTED --db_ensure (backoff elapsed)--> connect,
 * prepare every registered statement, LISTEN every channel --> CONNECTED.
 * Any call that fails while PQstatus() says the connection is bad moves
 * back to DISCONNECTED and schedules the next attempt.  Connecting is
 * synchronous: over a local socket it takes about a millisecond, and a
 * daemon that has no database has nothing better to do. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"

#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 30000
#define DB_MAX_LISTEN 8
#define DB_MAX_TABLES 32

struct db {
	char *conninfo;
	char *appname;
	PGconn *conn;
	const struct db_stmt *stmts[DB_MAX_TABLES];
	int nstmts;
	const char *listen[DB_MAX_LISTEN];
	int nlisten;
	int64_t next_try_ms;
	int64_t backoff_ms;
	int reported_down;
	int pipeline_failed;
	char sqlstate[6];
};

struct db_res {
	PGresult *res;
};

/* our handle on a result; takes ownership (clears it on failure) */
static struct db_res *db_res_wrap(PGresult *res)
{
	struct db_res *r = malloc(sizeof(*r));

	if (r == NULL) {
		PQclear(res);
		return NULL;
	}
	r->res = res;
	return r;
}

/* first line of the connection's error message */
static const char *db_errline(const struct db *db, char *buf, size_t len)
{
	const char *m = db->conn ? PQerrorMessage(db->conn) : "no connection";
	size_t n = strcspn(m, "\n");

	snprintf(buf, len, "%.*s", (int)n, m);
	return buf[0] ? buf : "unknown error";
}

char *db_conninfo(const struct config *cfg, const char *user)
{
	const char *ci = config_str(cfg, "db.conninfo");
	char *out;
	int r;

	if (ci[0] != '\0')
		r = asprintf(&out, "%s user=%s", ci, user);
	else
		r = asprintf(&out, "host=%s port=%ld dbname=%s user=%s",
			     config_path(cfg, "db.socket_dir"), config_int(cfg, "db.port"),
			     config_str(cfg, "db.name"), user);
	return r < 0 ? NULL : out;
}

struct db *db_new(const char *conninfo, const char *appname)
{
	struct db *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return NULL;
	db->conninfo = strdup(conninfo);
	db->appname = strdup(appname);
	db->backoff_ms = DB_BACKOFF_MIN_MS;
	if (db->conninfo == NULL || db->appname == NULL) {
		db_free(db);
		return NULL;
	}
	return db;
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn != NULL)
		PQfinish(db->conn);
	free(db->conninfo);
	free(db->appname);
	free(db);
}

void db_prepare_all(struct db *db, const struct db_stmt *stmts)
{
	if (db->nstmts == DB_MAX_TABLES)
		log_fatal("db: too many statement tables");
	db->stmts[db->nstmts++] = stmts;
	if (db->conn != NULL)
		db_disconnect(db); /* prepared afresh on the next db_ensure() */
}

void db_listen(struct db *db, const char *channel)
{
	if (db->nlisten < DB_MAX_LISTEN)
		db->listen[db->nlisten++] = channel;
	else
		log_fatal("db: too many LISTEN channels");
}

static void db_fail(struct db *db, const char *what, PGresult *res)
{
	const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char msg[512];
	size_t n;

	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", st ? st : "");
	snprintf(msg, sizeof(msg), "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		log_warn("database connection lost during %s: %s", what, msg);
		db_disconnect(db);
	} else
		log_error("%s failed: %s%s%s", what, msg, st ? " SQLSTATE " : "", st ? st : "");
}

void db_disconnect(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db->next_try_ms = clock_mono_ms();
}

static int db_setup(struct db *db)
{
	PGresult *res;
	char sql[256];

	for (int t = 0; t < db->nstmts; t++)
		for (const struct db_stmt *s = db->stmts[t]; s->name != NULL; s++) {
			res = PQprepare(db->conn, s->name, s->sql, 0, NULL);
			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				/* a statement that does not prepare is a programming
				 * or migration error: report it, retry with backoff */
				db_fail(db, s->name, res);
				PQclear(res);
				return -1;
			}
			PQclear(res);
		}
	for (int i = 0; i < db->nlisten; i++) {
		snprintf(sql, sizeof(sql), "LISTEN %s", db->listen[i]);
		if (db_simple(db, sql) < 0)
			return -1;
	}
	return 0;
}

int db_ensure(struct db *db)
{
	/* JIT off: PostgreSQL 15 compiled the SLA figures' aggregate over
	 * 50 000 tickets for 1.2 s to run it in 0.7 (tests/bench/sla); our
	 * queries are short.  Before "dbname", so db.conninfo's own options win. */
	const char *keys[] = { "application_name", "options", "dbname", NULL };
	const char *vals[] = { db->appname, "-c jit=off", db->conninfo, NULL };
	int64_t now = clock_mono_ms();
	char eb[256];

	if (db->conn != NULL)
		return 0;
	if (now < db->next_try_ms)
		return -1;
	/* expand_dbname=1: the conninfo string in "dbname" is parsed whole */
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(db->conn) != CONNECTION_OK || db_setup(db) < 0) {
		if (!db->reported_down && db->conn != NULL)
			log_warn("could not connect to the database: %s; retrying",
				 db_errline(db, eb, sizeof(eb)));
		db->reported_down = 1;
		if (db->conn != NULL)
			PQfinish(db->conn);
		db->conn = NULL;
		db->next_try_ms = now + db->backoff_ms;
		db->backoff_ms = db->backoff_ms * 2 > DB_BACKOFF_MAX_MS ? DB_BACKOFF_MAX_MS
									: db->backoff_ms * 2;
		return -1;
	}
	if (db->reported_down)
		log_info("database connection restored");
	db->reported_down = 0;
	db->backoff_ms = DB_BACKOFF_MIN_MS;
	return 0;
}

int db_connected(const struct db *db)
{
	return db->conn != NULL;
}

int64_t db_retry_in_ms(const struct db *db)
{
	int64_t d;

	if (db->conn != NULL)
		return 0;
	d = db->next_try_ms - clock_mono_ms();
	return d > 0 ? d : 0;
}

int db_fd(const struct db *db)
{
	return db->conn ? PQsocket(db->conn) : -1;
}

int db_simple(struct db *db, const char *sql)
{
	PGresult *res;
	int ok;

	if (db->conn == NULL)
		return -1;
	res = PQexec(db->conn, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		db_fail(db, sql, res);
	PQclear(res);
	return ok ? 0 : -1;
}

int db_begin(struct db *db)
{
	return db_simple(db, "BEGIN");
}

int db_commit(struct db *db)
{
	return db_simple(db, "COMMIT");
}

int db_rollback(struct db *db)
{
	if (db->conn == NULL)
		return 0;
	return db_simple(db, "ROLLBACK");
}

struct db_res *db_query(struct db *db, const char *stmt, int n, const char *const *vals,
			const int *lens, const int *binary, int result_binary)
{
	PGresult *res;
	ExecStatusType st;

	db->sqlstate[0] = '\0';
	if (db->conn == NULL)
		return NULL;
	res = PQexecPrepared(db->conn, stmt, n, vals, lens, binary, result_binary);
	st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		db_fail(db, stmt, res);
		PQclear(res);
		return NULL;
	}
	return db_res_wrap(res);
}

long db_cmd(struct db *db, const char *stmt, int n, const char *const *vals, const int *lens,
	    const int *binary)
{
	struct db_res *r = db_query(db, stmt, n, vals, lens, binary, 0);
	long affected;

	if (r == NULL)
		return -1;
	affected = strtol(PQcmdTuples(r->res), NULL, 10);
	db_res_free(r);
	return affected;
}

const char *db_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

int db_notifications_some(struct db *db, void (*cb)(void *, const char *, const char *), void *arg,
			  int max)
{
	PGnotify *n;
	char eb[256];
	int done = 0;

	if (db->conn == NULL)
		return -1;
	if (!PQconsumeInput(db->conn)) {
		log_warn("database connection lost: %s", db_errline(db, eb, sizeof(eb)));
		db_disconnect(db);
		return -1;
	}
	while (done < max && (n = PQnotifies(db->conn)) != NULL) {
		cb(arg, n->relname, n->extra);
		PQfreemem(n);
		done++;
	}
	return done;
}

int db_notifications(struct db *db, void (*cb)(void *, const char *, const char *), void *arg)
{
	return db_notifications_some(db, cb, arg, INT_MAX) < 0 ? -1 : 0;
}

int db_res_rows(const struct db_res *r)
{
	return PQntuples(r->res);
}

const char *db_res_val(const struct db_res *r, int row, int col)
{
	return PQgetvalue(r->res, row, col);
}

int db_res_len(const struct db_res *r, int row, int col)
{
	return PQgetlength(r->res, row, col);
}

int db_res_null(const struct db_res *r, int row, int col)
{
	return PQgetisnull(r->res, row, col);
}

long long db_res_ll(const struct db_res *r, int row, int col)
{
	return strtoll(PQgetvalue(r->res, row, col), NULL, 10);
}

void db_res_free(struct db_res *r)
{
	if (r == NULL)
		return;
	PQclear(r->res);
	free(r);
}

/* Pipeline mode (libpq 14+).  libpq stays in blocking mode: with the small
 * results intake reads (a row or a command tag per statement) the server
 * never blocks on a full socket while we are still sending. */
int db_pipeline_begin(struct db *db)
{
	if (db->conn == NULL)
		return -1;
	if (!PQenterPipelineMode(db->conn)) {
		db_fail(db, "entering pipeline mode", NULL);
		return -1;
	}
	db->pipeline_failed = 0;
	return 0;
}

int db_send(struct db *db, const char *stmt, int n, const char *const *vals, const int *lens,
	    const int *binary)
{
	if (db->conn == NULL)
		return -1;
	if (!PQsendQueryPrepared(db->conn, stmt, n, vals, lens, binary, 0)) {
		db_fail(db, stmt, NULL);
		return -1;
	}
	return 0;
}

int db_pipeline_end(struct db *db)
{
	if (db->conn == NULL)
		return -1;
	if (!PQpipelineSync(db->conn)) {
		db_fail(db, "pipeline sync", NULL);
		return -1;
	}
	return 0;
}

struct db_res *db_pipeline_result(struct db *db)
{
	PGresult *res, *extra;
	ExecStatusType st;

	if (db->conn == NULL)
		return NULL;
	res = PQgetResult(db->conn);
	if (res == NULL)
		return NULL;
	/* each statement's results end with a NULL */
	while ((extra = PQgetResult(db->conn)) != NULL)
		PQclear(extra);
	st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		/* only the first error is worth a log line; the rest say "aborted" */
		if (st != PGRES_PIPELINE_ABORTED && !db->pipeline_failed)
			db_fail(db, "pipelined statement", res);
		db->pipeline_failed = 1;
		PQclear(res);
		return NULL;
	}
	return db_res_wrap(res);
}

int db_pipeline_finish(struct db *db)
{
	PGresult *res;
	int ok = 0;

	if (db->conn == NULL)
		return -1;
	/* drain up to and including the sync point; a NULL is either the end
	 * of one statement's results or nothing left at all */
	for (;;) {
		res = PQgetResult(db->conn);
		if (res == NULL) {
			if (PQexitPipelineMode(db->conn) || PQstatus(db->conn) == CONNECTION_BAD)
				break;
			continue;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
			ok = 1;
		PQclear(res);
	}
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		db_fail(db, "pipeline", NULL);
		return -1;
	}
	return ok && !db->pipeline_failed ? 0 : -1;
}

long db_res_affected(const struct db_res *r)
{
	return strtol(PQcmdTuples(r->res), NULL, 10);
}
