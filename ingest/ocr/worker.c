/* worker: see worker.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "numbers.h"
#include "tess.h"
#include "worker.h"

const struct db_stmt worker_stmts[] = {
	/* $1 now, $2 the lease's end */
	{ "ocr_claim",
	  "WITH c AS (SELECT inbound_item_id, page_no FROM fax_page WHERE ocr_state = 'pending'"
	  "  AND (ocr_lease_until IS NULL OR ocr_lease_until < $1::timestamptz)"
	  "  ORDER BY inbound_item_id, page_no LIMIT 1 FOR UPDATE SKIP LOCKED)"
	  " UPDATE fax_page p SET ocr_attempts = p.ocr_attempts + 1, ocr_lease_until = $2"
	  " FROM c WHERE p.inbound_item_id = c.inbound_item_id AND p.page_no = c.page_no"
	  " RETURNING p.inbound_item_id::text, p.page_no::text, p.ocr_attempts::text, p.tiff" },
	/* $1 item, $2 page, $3 state, $4 text, $5 confidence, $6 rotation,
	 * $7 vertical, $8 ms, $9 now, $10 error, $11 the attempt that read it */
	{ "ocr_store",
	  "UPDATE fax_page SET ocr_state = $3, ocr_text = $4, ocr_confidence = $5,"
	  " ocr_rotation = $6, ocr_vertical = $7, ocr_ms = $8, ocr_done_at = $9, ocr_error = $10,"
	  " ocr_lease_until = NULL WHERE inbound_item_id = $1 AND page_no = $2"
	  " AND ocr_attempts = $11 AND ocr_state = 'pending'" },
	{ "ocr_cand_clear", "DELETE FROM fax_candidate WHERE inbound_item_id = $1 AND page_no = $2" },
	{ "ocr_cand_add",
	  "INSERT INTO fax_candidate (inbound_item_id, page_no, kind, value, first_pass, x, y, w, h)"
	  " SELECT $1, $2, u.k, u.v, u.f, u.x, u.y, u.w, u.h FROM unnest($3::text[], $4::text[],"
	  " $5::text[], $6::int[], $7::int[], $8::int[], $9::int[]) AS u(k, v, f, x, y, w, h)" },
	/* the item's last page: the item is read; wake the queue */
	{ "ocr_item",
	  "WITH i AS (UPDATE fax_item SET ocr_done_at = $2 WHERE inbound_item_id = $1"
	  "  AND ocr_done_at IS NULL AND NOT EXISTS (SELECT 1 FROM fax_page"
	  "  WHERE inbound_item_id = $1 AND ocr_state = 'pending') RETURNING 1)"
	  " SELECT pg_notify('ticket_change', json_build_object('id', m.ticket_id, 'op', 'ocr')"
	  "  ::text), (SELECT count(*) FROM i) FROM message m WHERE m.inbound_item_id = $1" },
	{ "ocr_mark",
	  "UPDATE fax_page SET ocr_state = CASE WHEN ocr_attempts >= $4 THEN $5 ELSE 'pending' END,"
	  " ocr_lease_until = NULL, ocr_error = $6, ocr_done_at = CASE WHEN ocr_attempts >= $4"
	  " THEN $7::timestamptz END WHERE inbound_item_id = $1 AND page_no = $2"
	  " AND ocr_attempts = $3 AND ocr_state = 'pending' RETURNING ocr_state" },
	{ NULL, NULL },
};

struct worker_page {
	char item[24], page[16], attempt[16];
	const uint8_t *tiff;
	size_t len;
};

static void worker_say(int fd, const char *line)
{
	size_t n = strlen(line);

	/* the supervisor reads small lines at once; a short write means it is gone */
	if (write(fd, line, n) != (ssize_t)n)
		daemon_stop = 1;
}

/* the candidates of a page as the arrays of ocr_cand_add */
static void worker_arrays(const struct numbers_found *f, struct buf a[7])
{
	for (int k = 0; k < 7; k++)
		buf_append_str(&a[k], "{");
	for (int i = 0; i < f->n; i++) {
		const struct numbers_cand *c = &f->c[i];
		const char *sep = i ? "," : "";
		const char *txt[3] = { numbers_kind_name(c->kind), c->value, c->first };
		const int num[4] = { c->x, c->y, c->w, c->h };

		for (int k = 0; k < 3; k++) { /* quoted array elements */
			buf_printf(&a[k], "%s\"", sep);
			for (const char *p = txt[k]; *p; p++) {
				if (*p == '"' || *p == '\\')
					buf_append(&a[k], "\\", 1);
				buf_append(&a[k], p, 1);
			}
			buf_append_str(&a[k], "\"");
		}
		for (int k = 0; k < 4; k++)
			buf_printf(&a[3 + k], "%s%d", sep, num[k]);
	}
	for (int k = 0; k < 7; k++)
		buf_append_str(&a[k], "}");
}

static int worker_candidates(struct db *db, const struct worker_page *pg,
			     const struct tess_result *r)
{
	const char *v[9] = { pg->item, pg->page };
	struct buf a[7];
	int rc = 0;

	if (db_cmd(db, "ocr_cand_clear", 2, v, NULL, NULL) < 0)
		return -1;
	if (r == NULL || r->found.n == 0)
		return 0;
	for (int k = 0; k < 7; k++)
		buf_init(&a[k], 1u << 20);
	worker_arrays(&r->found, a);
	for (int k = 0; k < 7; k++)
		v[2 + k] = a[k].data;
	rc = db_cmd(db, "ocr_cand_add", 9, v, NULL, NULL) < 0 ? -1 : 0;
	for (int k = 0; k < 7; k++)
		buf_free(&a[k]);
	return rc;
}

/* every page of the item read or given up: its ocr_done_at; 0 or -1 */
static int worker_item(struct db *db, const char *item, const char *now)
{
	const char *v[2] = { item, now };
	struct db_res *r = db_query(db, "ocr_item", 2, v, NULL, NULL, 0);

	db_res_free(r);
	return r != NULL ? 0 : -1;
}

/* the page's outcome, its candidates and the item's completion in one
 * transaction; 0, 1 when another attempt holds the page now, -1 */
static int worker_store(struct db *db, const struct worker_page *pg, const struct tess_result *r,
			const char *state, const char *error, long ms)
{
	char conf[16], rot[16], msbuf[24], now[40];
	const char *v[11];
	long n;

	snprintf(conf, sizeof(conf), "%d", r ? r->confidence : 0);
	snprintf(rot, sizeof(rot), "%d", r ? r->rotation : 0);
	snprintf(msbuf, sizeof(msbuf), "%ld", ms);
	clock_format_iso(clock_now_us(), now, sizeof(now));
	v[0] = pg->item, v[1] = pg->page, v[2] = state;
	v[3] = r ? r->text : NULL;
	v[4] = r && !r->blank ? conf : NULL;
	v[5] = r && !r->blank ? rot : NULL;
	v[6] = r && !r->blank ? (r->vertical ? "true" : "false") : NULL;
	v[7] = msbuf, v[8] = now, v[9] = error, v[10] = pg->attempt;
	if (db_begin(db) < 0)
		return -1;
	if ((n = db_cmd(db, "ocr_store", 11, v, NULL, NULL)) <= 0) {
		db_rollback(db);
		return n == 0 ? 1 : -1;
	}
	if (worker_candidates(db, pg, r) < 0 || worker_item(db, pg->item, now) < 0 ||
	    db_commit(db) < 0) {
		db_rollback(db);
		return -1;
	}
	return 0;
}

static void worker_read(struct tess *t, struct db *db, const struct worker_page *pg)
{
	struct tess_result r;
	char err[256];
	int64_t t0 = clock_mono_ms();
	long ms;
	int rc;

	if (tess_read(t, pg->tiff, pg->len, &r, err, sizeof(err)) < 0) {
		ms = (long)(clock_mono_ms() - t0);
		log_warn("item=%s page=%s: not read: %s", pg->item, pg->page, err);
		rc = worker_store(db, pg, NULL, "failed", err, ms);
	} else {
		ms = (long)(clock_mono_ms() - t0);
		log_info("item=%s page=%s: %s in %ld ms (confidence %d, turned %d, %s, %d numbers)",
			 pg->item, pg->page, r.blank ? "blank" : "read", ms, r.confidence,
			 r.rotation, r.vertical ? "vertical" : "horizontal", r.found.n);
		rc = worker_store(db, pg, &r, r.blank ? "blank" : "done", NULL, ms);
		tess_result_free(&r);
	}
	if (rc == 1)
		log_warn("item=%s page=%s: attempt %s was overtaken (its lease ran out); its "
			 "reading is dropped",
			 pg->item, pg->page, pg->attempt);
}

/* claim one page and read it; 1 read, 0 none pending, -1 database */
static int worker_one(struct tess *t, struct db *db, const struct worker_conf *wc, int fd)
{
	char now[40], until[40], line[96];
	const char *v[2] = { now, until };
	int64_t us = clock_now_us();
	struct worker_page pg;
	struct db_res *res;

	clock_format_iso(us, now, sizeof(now));
	clock_format_iso(us + (int64_t)wc->page_seconds * 2 * 1000000, until, sizeof(until));
	if ((res = db_query(db, "ocr_claim", 2, v, NULL, NULL, 1)) == NULL)
		return -1;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return 0;
	}
	memset(&pg, 0, sizeof(pg));
	snprintf(pg.item, sizeof(pg.item), "%s", db_res_val(res, 0, 0));
	snprintf(pg.page, sizeof(pg.page), "%s", db_res_val(res, 0, 1));
	snprintf(pg.attempt, sizeof(pg.attempt), "%s", db_res_val(res, 0, 2));
	pg.tiff = (const uint8_t *)db_res_val(res, 0, 3);
	pg.len = (size_t)db_res_len(res, 0, 3);
	if (strtol(pg.attempt, NULL, 10) > wc->max_attempts) { /* a worker died on it unseen */
		worker_store(db, &pg, NULL, "failed", "given up: every attempt ended without a reading",
			     0);
		log_warn("item=%s page=%s: given up after %d attempts", pg.item, pg.page,
			 wc->max_attempts);
	} else {
		snprintf(line, sizeof(line), "B %s %s %s\n", pg.item, pg.page, pg.attempt);
		worker_say(fd, line);
		worker_read(t, db, &pg);
		worker_say(fd, "E\n");
	}
	db_res_free(res);
	return 1;
}

static void worker_drain(void *arg, const char *channel, const char *payload)
{
	(void)arg, (void)channel, (void)payload; /* a wake-up only */
}

static void worker_wait(struct db *db, int seconds)
{
	struct pollfd pfd = { db_fd(db), POLLIN, 0 };

	if (pfd.fd < 0) {
		sleep(1);
		return;
	}
	if (poll(&pfd, 1, seconds * 1000) < 0 && errno != EINTR)
		log_error("poll failed: %s", strerror(errno));
	if (db_notifications(db, worker_drain, NULL) < 0)
		db_disconnect(db);
}

int worker_run(struct db *db, const struct worker_conf *wc, int fd)
{
	char err[256];
	struct tess *t = tess_new(wc->tessdata[0] ? wc->tessdata : NULL, err, sizeof(err));
	int n;

	if (t == NULL) {
		log_error("%s", err);
		return 1;
	}
	db_listen(db, "ocr");
	while (!daemon_stop) {
		if (db_ensure(db) < 0) {
			usleep(200000);
			continue;
		}
		if ((n = worker_one(t, db, wc, fd)) == 0)
			worker_wait(db, wc->poll_seconds);
		else if (n < 0)
			usleep(200000);
	}
	tess_free(t);
	return 0;
}

int worker_mark(struct db *db, long long item, int page, int attempt, int max_attempts,
		const char *state, const char *why)
{
	char it[24], pg[16], at[16], mx[16], now[40];
	const char *v[7] = { it, pg, at, mx, state, why, now };
	struct db_res *r;

	snprintf(it, sizeof(it), "%lld", item);
	snprintf(pg, sizeof(pg), "%d", page);
	snprintf(at, sizeof(at), "%d", attempt);
	snprintf(mx, sizeof(mx), "%d", max_attempts);
	clock_format_iso(clock_now_us(), now, sizeof(now));
	if ((r = db_query(db, "ocr_mark", 7, v, NULL, NULL, 0)) == NULL)
		return -1;
	if (db_res_rows(r) == 1 && strcmp(db_res_val(r, 0, 0), "pending") != 0) {
		/* given up: the item may be complete now */
		db_res_free(r);
		return worker_item(db, it, now);
	}
	db_res_free(r);
	return 0;
}
