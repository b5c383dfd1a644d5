/* store: the commit thread of ingest-fax (see store.h).
 *
 * The JSON record is the one source of the call's facts: the statements
 * take it as a parameter and read the fields with jsonb operators, so the
 * same bytes become inbound_item.raw and the fax_call row, and a sidecar
 * found after a crash is committed exactly as it would have been. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "faxtiff.h"
#include "log.h"
#include "store.h"

#define STORE_JSON_MAX (64 * 1024)
#define STORE_GIVE_UP 5 /* failed commits while connected: the sidecar is set aside */

#define STORE_TIME(x) "timestamptz 'epoch' + (" x ")::bigint * interval '1 microsecond'"
#define STORE_J "(SELECT convert_from($1::bytea, 'UTF8')::jsonb AS j, $1::bytea AS r) s"

static const struct db_stmt store_stmts[] = {
	{ "fax_call_put",
	  "INSERT INTO fax_call (direction, line, sip_call_id, did, caller, remote_ident, "
	  "subaddress, transport, ecm, started_at, answered_at, ended_at, pages, t30_code, "
	  "t30_text, result, end_reason) SELECT j->>'direction', j->>'line', j->>'sip_call_id', j->>'did', "
	  "j->>'caller', j->>'remote_ident', j->>'subaddress', j->>'transport', "
	  "(j->>'ecm')::boolean, " STORE_TIME("j->>'started_us'") ", "
	  "CASE WHEN j->>'answered_us' IS NULL THEN NULL ELSE " STORE_TIME("j->>'answered_us'")
	  " END, " STORE_TIME("j->>'ended_us'") ", (j->>'pages')::int, (j->>'t30_code')::int, "
	  "j->>'t30_text', j->>'result', j->>'end_reason' FROM " STORE_J
	  " ON CONFLICT (direction, line, sip_call_id) DO NOTHING RETURNING id" },
	{ "fax_inbound_put",
	  "INSERT INTO inbound_item (channel, source, source_key, raw, raw_size, raw_sha256, "
	  "arrived_at, stored_at) SELECT 'fax', j->>'line', j->>'sip_call_id', r, length(r), "
	  "sha256(r), " STORE_TIME("j->>'ended_us'") ", " STORE_TIME("$2") " FROM " STORE_J
	  " ON CONFLICT (source, source_key) DO NOTHING RETURNING id" },
	{ "fax_call_link", "UPDATE fax_call SET inbound_item_id = $2 WHERE id = $1" },
	{ "fax_item_put",
	  "INSERT INTO fax_item (inbound_item_id, origin, fax_call_id, did, caller, remote_ident, "
	  "subaddress, pages, complete, result_text) SELECT $2::bigint, 'line', $3::bigint, "
	  "j->>'did', j->>'caller', j->>'remote_ident', j->>'subaddress', $4::int, "
	  "(j->>'result') = 'ok', CASE WHEN j->>'result' = 'ok' THEN j->>'t30_text' ELSE "
	  "concat_ws('; ', nullif(j->>'t30_text', ''), nullif(j->>'end_reason', '')) END FROM "
	  STORE_J },
	{ "fax_page_put",
	  "INSERT INTO fax_page (inbound_item_id, page_no, tiff, width_px, height_px, x_dpi, "
	  "y_dpi, compression) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)" },
	{ "fax_notify", "SELECT pg_notify('inbound', $1)" },
	{ NULL, NULL },
};

struct store_job {
	struct store_job *next;
	char *json;
	size_t len;
	char id[17];
	char tif[PATH_MAX];
	char side[PATH_MAX];
	int write_sidecar; /* not yet on disk */
	int failures;
};

struct store {
	struct db *db;
	struct store_opts o;
	char *spool, *line;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store_job *head, *tail;
	int stop, started;
};

/* ---- the record as JSON ----------------------------------------------- */

/* a JSON string; bytes outside printable ASCII become \u00XX or '?' so the
 * text is always valid UTF-8 (Call-IDs and T.30 idents are ASCII) */
static void store_jstr(struct buf *b, const char *key, const char *v)
{
	buf_printf(b, "\"%s\":\"", key);
	for (; *v != '\0'; v++) {
		unsigned char ch = (unsigned char)*v;

		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			buf_printf(b, "\\u%04x", ch);
		else if (ch >= 0x80)
			buf_append(b, "?", 1);
		else
			buf_append(b, v, 1);
	}
	buf_append_str(b, "\",");
}

char *store_record_json(const struct call_record *r, const char *line, size_t *len)
{
	struct buf b;
	const struct faxdsp_result *f = &r->fax;

	buf_init(&b, STORE_JSON_MAX);
	buf_printf(&b, "{\"direction\":\"%s\",", r->calling ? "out" : "in");
	store_jstr(&b, "line", line);
	store_jstr(&b, "id", r->id);
	store_jstr(&b, "sip_call_id", r->call_id);
	store_jstr(&b, "did", r->did);
	store_jstr(&b, "caller", r->caller);
	store_jstr(&b, "remote_ident", f->remote_ident);
	store_jstr(&b, "subaddress", f->subaddress);
	store_jstr(&b, "transport", call_transport(r->transport));
	store_jstr(&b, "t30_text", f->text != NULL ? f->text : "");
	store_jstr(&b, "result", call_result(r));
	store_jstr(&b, "end_reason", r->end_reason);
	if (f->trained)
		buf_printf(&b, "\"ecm\":%s,", f->ecm ? "true" : "false");
	else
		buf_append_str(&b, "\"ecm\":null,");
	buf_printf(&b, "\"started_us\":%lld,", (long long)r->started_us);
	if (r->answered_us > 0)
		buf_printf(&b, "\"answered_us\":%lld,", (long long)r->answered_us);
	else
		buf_append_str(&b, "\"answered_us\":null,");
	buf_printf(&b, "\"ended_us\":%lld,\"pages\":%d,\"t30_code\":%d,\"phase_e\":%s,",
		   (long long)r->ended_us, f->pages, f->code, r->phase_e ? "true" : "false");
	if (buf_printf(&b, "\"bit_rate\":%d,\"x_dpi\":%d,\"y_dpi\":%d}\n", f->bit_rate, f->x_dpi,
		       f->y_dpi) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, len);
}

/* ---- files -------------------------------------------------------------- */

static int store_fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* the sidecar, durably, with the TIFF it names */
static int store_write_sidecar(struct store *st, struct store_job *j)
{
	char tmp[PATH_MAX + 8];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", j->side);
	f = fopen(tmp, "w");
	if (f == NULL) {
		log_error("call=%s: could not write \"%s\": %s", j->id, tmp, strerror(errno));
		return -1;
	}
	ok = fwrite(j->json, 1, j->len, f) == j->len && fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || store_fsync_path(j->tif) < 0 || rename(tmp, j->side) < 0) {
		log_error("call=%s: could not write \"%s\": %s", j->id, j->side, strerror(errno));
		unlink(tmp);
		return -1;
	}
	(void)store_fsync_path(st->spool);
	return 0;
}

static void store_remove(const struct store_job *j)
{
	if (unlink(j->tif) < 0 && errno != ENOENT)
		log_warn("call=%s: could not remove \"%s\": %s", j->id, j->tif, strerror(errno));
	if (unlink(j->side) < 0 && errno != ENOENT)
		log_warn("call=%s: could not remove \"%s\": %s", j->id, j->side, strerror(errno));
}

/* ---- the transaction ------------------------------------------------------ */

static long long store_one_id(struct db *db, const char *stmt, int n, const char *const *vals,
			      const int *lens, const int *bin, int *found)
{
	struct db_res *r = db_query(db, stmt, n, vals, lens, bin, 0);
	long long id = 0;

	if (r == NULL)
		return -1;
	*found = db_res_rows(r) == 1;
	if (*found)
		id = db_res_ll(r, 0, 0);
	db_res_free(r);
	return id;
}

static int store_pages(struct store *st, long long item, const struct faxtiff_page *pg, int n)
{
	static const int bin[8] = { 0, 0, 1, 0, 0, 0, 0, 0 };
	char sid[24], no[12], w[12], h[12], xd[12], yd[12];
	const char *vals[8] = { sid, no, NULL, w, h, xd, yd, NULL };
	int lens[8] = { 0 };

	snprintf(sid, sizeof(sid), "%lld", item);
	for (int i = 0; i < n; i++) {
		snprintf(no, sizeof(no), "%d", i + 1);
		snprintf(w, sizeof(w), "%d", pg[i].width);
		snprintf(h, sizeof(h), "%d", pg[i].height);
		snprintf(xd, sizeof(xd), "%d", pg[i].x_dpi);
		snprintf(yd, sizeof(yd), "%d", pg[i].y_dpi);
		vals[2] = (const char *)pg[i].tiff;
		lens[2] = (int)pg[i].len;
		vals[7] = pg[i].compression;
		if (db_cmd(st->db, "fax_page_put", 8, vals, lens, bin) < 0)
			return -1;
	}
	return 0;
}

/* inbound_item, fax_item, fax_page, NOTIFY: the call brought pages */
static int store_item(struct store *st, const struct store_job *j, long long call_id,
		      const struct faxtiff_page *pg, int n)
{
	static const int bin[4] = { 1, 0, 0, 0 };
	char now[24], cid[24], iid[24], np[12];
	const char *v[4] = { j->json, now, NULL, NULL };
	int lens[4] = { (int)j->len, 0, 0, 0 };
	long long item;
	int found;

	snprintf(now, sizeof(now), "%lld", (long long)clock_now_us());
	item = store_one_id(st->db, "fax_inbound_put", 2, v, lens, bin, &found);
	if (item < 0)
		return -1;
	if (!found) {
		log_error("call=%s: an inbound item %s/%s exists without its fax call; "
			  "the pages are not stored", j->id, st->line, j->id);
		return 0;
	}
	snprintf(cid, sizeof(cid), "%lld", call_id);
	snprintf(iid, sizeof(iid), "%lld", item);
	snprintf(np, sizeof(np), "%d", n);
	v[0] = cid;
	v[1] = iid;
	if (db_cmd(st->db, "fax_call_link", 2, v, NULL, NULL) < 0)
		return -1;
	{
		const char *fv[4] = { j->json, iid, cid, np };

		if (db_cmd(st->db, "fax_item_put", 4, fv, lens, bin) < 0)
			return -1;
	}
	if (store_pages(st, item, pg, n) < 0)
		return -1;
	v[0] = iid;
	if (db_cmd(st->db, "fax_notify", 1, v, NULL, NULL) < 0)
		return -1;
	log_info("call=%s: stored as inbound item %lld with %d page(s)", j->id, item, n);
	return 0;
}

static int store_tx(struct store *st, const struct store_job *j, const struct faxtiff_page *pg,
		    int n)
{
	static const int bin[1] = { 1 };
	const char *v[1] = { j->json };
	int lens[1] = { (int)j->len };
	long long call_id;
	int found;

	if (db_begin(st->db) < 0)
		return -1;
	call_id = store_one_id(st->db, "fax_call_put", 1, v, lens, bin, &found);
	if (call_id < 0)
		goto fail;
	if (!found)
		log_info("call=%s: already stored (found again in the spool)", j->id);
	else if (n > 0 && store_item(st, j, call_id, pg, n) < 0)
		goto fail;
	else if (n == 0)
		log_info("call=%s: stored as a call without pages", j->id);
	if (db_commit(st->db) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(st->db);
	return -1;
}

static int store_commit(struct store *st, struct store_job *j)
{
	struct faxtiff_page *pg = NULL;
	char err[256];
	int n = 0, r;

	if (access(j->tif, F_OK) == 0 &&
	    faxtiff_split_file(j->tif, &pg, &n, err, sizeof(err)) < 0)
		log_warn("call=%s: the received TIFF is damaged (%s); keeping its %d whole page(s)",
			 j->id, err, n);
	if (db_ensure(st->db) < 0) {
		faxtiff_pages_free(pg, n);
		return -1;
	}
	r = store_tx(st, j, pg, n);
	faxtiff_pages_free(pg, n);
	return r;
}

/* ---- the queue and the thread ------------------------------------------- */

static void store_push(struct store *st, struct store_job *j)
{
	pthread_mutex_lock(&st->mu);
	if (st->tail != NULL)
		st->tail->next = j;
	else
		st->head = j;
	st->tail = j;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

static void store_job_free(struct store_job *j)
{
	free(j->json);
	free(j);
}

/* wait ms unless stopped: 1 when stopping */
static int store_sleep(struct store *st, int64_t ms)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&st->mu);
	if (!st->stop)
		pthread_cond_timedwait(&st->cv, &st->mu, &ts);
	stop = st->stop;
	pthread_mutex_unlock(&st->mu);
	return stop;
}

/* one job: done (0), or to be tried again (-1) */
static int store_run_job(struct store *st, struct store_job *j)
{
	if (j->write_sidecar) {
		if (store_write_sidecar(st, j) < 0)
			return -1;
		j->write_sidecar = 0;
	}
	if (store_commit(st, j) == 0) {
		store_remove(j);
		return 0;
	}
	if (db_connected(st->db) && ++j->failures >= STORE_GIVE_UP) {
		char bad[PATH_MAX + 8];

		snprintf(bad, sizeof(bad), "%s.failed", j->side);
		log_error("call=%s: commit failed %d times; set aside as \"%s\"", j->id, j->failures,
			  bad);
		(void)rename(j->side, bad);
		return 0;
	}
	return -1;
}

static void *store_main(void *arg)
{
	struct store *st = arg;

	for (;;) {
		struct store_job *j;

		pthread_mutex_lock(&st->mu);
		while (st->head == NULL && !st->stop)
			pthread_cond_wait(&st->cv, &st->mu);
		j = st->head;
		pthread_mutex_unlock(&st->mu);
		if (j == NULL)
			break;
		if (store_run_job(st, j) < 0) {
			int64_t ms = db_retry_in_ms(st->db);

			if (store_sleep(st, ms < 200 ? 200 : ms))
				break;
			continue;
		}
		pthread_mutex_lock(&st->mu);
		st->head = j->next;
		if (st->head == NULL)
			st->tail = NULL;
		pthread_mutex_unlock(&st->mu);
		store_job_free(j);
	}
	return NULL;
}

static struct store_job *store_job_new(struct store *st, const char *id)
{
	struct store_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	snprintf(j->id, sizeof(j->id), "%s", id);
	snprintf(j->tif, sizeof(j->tif), "%s/%s.tif", st->spool, id);
	snprintf(j->side, sizeof(j->side), "%s/%s.json", st->spool, id);
	return j;
}

void store_call(struct store *st, const struct call_record *r, const char *tif)
{
	struct store_job *j = store_job_new(st, r->id);

	if (j == NULL || (j->json = store_record_json(r, st->line, &j->len)) == NULL) {
		log_error("call=%s: out of memory queueing the call for the database", r->id);
		free(j);
		return;
	}
	snprintf(j->tif, sizeof(j->tif), "%s", tif);
	j->write_sidecar = 1;
	store_push(st, j);
}

static char *store_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *data = malloc(STORE_JSON_MAX + 1);

	if (f == NULL || data == NULL) {
		if (f != NULL)
			fclose(f);
		free(data);
		return NULL;
	}
	*len = fread(data, 1, STORE_JSON_MAX + 1, f);
	fclose(f);
	if (*len == 0 || *len > STORE_JSON_MAX) {
		free(data);
		return NULL;
	}
	return data;
}

/* sidecars of calls that ended before a crash or a stop */
static void store_scan(struct store *st)
{
	DIR *d = opendir(st->spool);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char id[17];
		struct store_job *j;

		if (n != 21 || strcmp(e->d_name + 16, ".json") != 0)
			continue;
		snprintf(id, sizeof(id), "%.16s", e->d_name);
		if ((j = store_job_new(st, id)) == NULL)
			break;
		j->json = store_read(j->side, &j->len);
		if (j->json == NULL) {
			log_warn("call=%s: could not read \"%s\"; left in the spool", id, j->side);
			free(j);
			continue;
		}
		log_info("call=%s: found in the spool, committing it", id);
		store_push(st, j);
	}
	closedir(d);
}

struct store *store_new(const struct config *cfg, const struct store_opts *o, char *err,
			size_t errlen)
{
	struct store *st = calloc(1, sizeof(*st));
	char *ci = db_conninfo(cfg, config_str(cfg, "fax.db_user"));
	sigset_t all, old;

	if (st == NULL || ci == NULL || (st->db = db_new(ci, "ingest-fax")) == NULL ||
	    (st->spool = strdup(o->spool)) == NULL || (st->line = strdup(o->line)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(ci);
		store_free(st);
		return NULL;
	}
	free(ci);
	db_prepare_all(st->db, store_stmts);
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	store_scan(st);
	/* the thread takes no signals: they wake the event loop */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	st->started = pthread_create(&st->thread, NULL, store_main, st) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!st->started) {
		snprintf(err, errlen, "could not start the database thread");
		store_free(st);
		return NULL;
	}
	return st;
}

void store_free(struct store *st)
{
	if (st == NULL)
		return;
	if (st->started) {
		pthread_mutex_lock(&st->mu);
		st->stop = 1;
		pthread_cond_signal(&st->cv);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->thread, NULL);
		pthread_mutex_destroy(&st->mu);
		pthread_cond_destroy(&st->cv);
	}
	while (st->head != NULL) {
		struct store_job *j = st->head;

		st->head = j->next;
		if (j->write_sidecar)
			(void)store_write_sidecar(st, j);
		store_job_free(j);
	}
	db_free(st->db);
	free(st->spool);
	free(st->line);
	free(st);
}
