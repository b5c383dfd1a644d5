/* purge: correspondence past its retention period (sql/017), and the
 * deletion report.
 *
 *   purge [--days N] [--dry-run] [--reason TEXT]
 *   purge-report [RUN]
 *
 * The period is retention.correspondence_days unless --days says
 * otherwise; 0 purges nothing.  Tickets are purged in batches, each batch
 * one transaction (the database function), so a large first purge neither
 * holds long locks nor loses its work when stopped half-way: the run
 * records what was done and the next run goes on. */
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"

#define PURGE_BATCH "500"
#define PURGE_MAX_DAYS 36500

static const struct db_stmt purge_stmts[] = {
	{ "purge_due",
	  "SELECT count(*), coalesce(to_char(min(coalesce(resolved_at, updated_at)) AT TIME ZONE"
	  " 'Asia/Tokyo', 'YYYY-MM-DD'), '-') FROM ticket t"
	  " WHERE purged_at IS NULL AND status IN ('resolved', 'closed')"
	  " AND coalesce(resolved_at, updated_at) < $1::timestamptz"
	  " AND NOT EXISTS (SELECT 1 FROM outbound_mail o WHERE o.ticket_id = t.id"
	  " AND o.state IN ('queued', 'awaiting_approval'))" },
	{ "purge_open",
	  "INSERT INTO purge_run (started_at, by_login, reason, cutoff)"
	  " VALUES ($1, $2, $3, $4) RETURNING id" },
	{ "purge_batch",
	  "SELECT correspondence_purge_batch($1::bigint, $2::timestamptz, $3::timestamptz, $4::int)" },
	{ "purge_orphans", "SELECT contact_purge_orphans($1::bigint, $2::timestamptz)" },
	/* calls that made no ticket (abandoned, orphan events) lose their numbers by age (sql/027) */
	{ "purge_calls", "SELECT call_purge_unticketed($1::timestamptz)" },
	{ "purge_close",
	  "UPDATE purge_run SET finished_at = $2 WHERE id = $1 RETURNING tickets, messages,"
	  " attachments, blobs, blob_bytes, raw_items, outbound, notes, contacts, uploads" },
	{ "purge_runs",
	  "SELECT id, to_char(started_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI'), by_login,"
	  " to_char(cutoff AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI'), tickets, messages,"
	  " attachments, contacts, CASE WHEN finished_at IS NULL THEN 'unfinished' ELSE 'done' END,"
	  " reason FROM purge_run ORDER BY id" },
	{ "purge_report",
	  "SELECT ticket_id, channel, to_char(finished_at AT TIME ZONE 'Asia/Tokyo',"
	  " 'YYYY-MM-DD HH24:MI'), messages, attachments, notes, cardinality(contact_ids)"
	  " FROM purge_ticket WHERE run_id = $1::bigint ORDER BY ticket_id" },
	{ NULL, NULL },
};

struct purge_opts {
	long days;
	int dry_run;
	const char *reason;
};

static int purge_args(const struct config *cfg, int argc, char **argv, struct purge_opts *o)
{
	o->days = config_int(cfg, "retention.correspondence_days");
	o->dry_run = 0;
	o->reason = NULL;
	for (int i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "--dry-run") == 0) {
			o->dry_run = 1;
		} else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
			o->days = strtol(argv[++i], &end, 10);
			if (*end != '\0' || end == argv[i] || o->days < 0 || o->days > PURGE_MAX_DAYS)
				return -1;
		} else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc) {
			o->reason = argv[++i];
		} else {
			return -1;
		}
	}
	return 0;
}

/* what would go: printed, nothing changed */
static int purge_show_due(struct db *db, const char *cutoff, long days)
{
	const char *v[1] = { cutoff };
	struct db_res *r = db_query(db, "purge_due", 1, v, NULL, NULL, 0);

	if (r == NULL)
		return 1;
	printf("%s ticket(s) finished more than %ld days ago (before %s UTC) would be purged;"
	       " the oldest finished on %s (Tokyo)\n",
	       db_res_val(r, 0, 0), days, cutoff, db_res_val(r, 0, 1));
	db_res_free(r);
	return 0;
}

static int purge_batches(struct db *db, const char *run, const char *cutoff, const char *now)
{
	const char *v[4] = { run, cutoff, now, PURGE_BATCH };

	for (;;) {
		struct db_res *r = db_query(db, "purge_batch", 4, v, NULL, NULL, 0);
		long n;

		if (r == NULL)
			return -1;
		n = strtol(db_res_val(r, 0, 0), NULL, 10);
		db_res_free(r);
		if (n == 0)
			return 0;
		log_info("purge=%s: %ld ticket(s) purged", run, n);
	}
}

static int purge_finish(struct db *db, const char *run, const char *cutoff, const char *now)
{
	const char *v2[2] = { run, cutoff };
	const char *v[2] = { run, now };
	struct db_res *r = db_query(db, "purge_orphans", 2, v2, NULL, NULL, 0);

	if (r == NULL)
		return 1;
	db_res_free(r);
	if ((r = db_query(db, "purge_calls", 1, (const char *const[]){ cutoff }, NULL, NULL, 0)) ==
	    NULL)
		return 1;
	log_info("purge=%s: %s call(s) without a ticket lost their numbers", run,
		 db_res_val(r, 0, 0));
	db_res_free(r);
	if ((r = db_query(db, "purge_close", 2, v, NULL, NULL, 0)) == NULL)
		return 1;
	printf("purge run %s: %s tickets, %s messages, %s attachments (%s bodies, %s bytes freed),"
	       " %s raw items, %s outgoing mails, %s notes, %s contacts, %s uploads\n",
	       run, db_res_val(r, 0, 0), db_res_val(r, 0, 1), db_res_val(r, 0, 2),
	       db_res_val(r, 0, 3), db_res_val(r, 0, 4), db_res_val(r, 0, 5), db_res_val(r, 0, 6),
	       db_res_val(r, 0, 7), db_res_val(r, 0, 8), db_res_val(r, 0, 9));
	db_res_free(r);
	return 0;
}

int purge_command(struct db *db, const struct config *cfg, int argc, char **argv)
{
	struct purge_opts o;
	char now[64], cutoff[64], who[160], reason[128], run[32];
	struct passwd *pw = getpwuid(getuid());
	int64_t now_us = clock_now_us();
	struct db_res *r;

	if (purge_args(cfg, argc, argv, &o) < 0)
		return 2;
	if (o.days == 0) {
		log_error("retention.correspondence_days is 0 and no --days was given: nothing is purged");
		return 1;
	}
	db_prepare_all(db, purge_stmts);
	if (db_ensure(db) < 0)
		return 1;
	clock_format_iso(now_us, now, sizeof(now));
	clock_format_iso(now_us - o.days * 86400 * INT64_C(1000000), cutoff, sizeof(cutoff));
	if (o.dry_run)
		return purge_show_due(db, cutoff, o.days);
	snprintf(who, sizeof(who), "madoguchi-admin (%s)", pw != NULL ? pw->pw_name : "?");
	if (o.reason == NULL) {
		snprintf(reason, sizeof(reason), "retention: %ld days", o.days);
		o.reason = reason;
	}
	{
		const char *v[4] = { now, who, o.reason, cutoff };

		if ((r = db_query(db, "purge_open", 4, v, NULL, NULL, 0)) == NULL)
			return 1;
	}
	snprintf(run, sizeof(run), "%s", db_res_val(r, 0, 0));
	db_res_free(r);
	if (purge_batches(db, run, cutoff, now) < 0) {
		log_error("purge=%s: stopped; what was purged is recorded, run it again", run);
		return 1;
	}
	return purge_finish(db, run, cutoff, now);
}

/* one CSV field: quoted when it holds a comma, a quote or a line end */
static void purge_csv(const char *s, int first)
{
	if (!first)
		putchar(',');
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static int purge_list_runs(struct db *db)
{
	struct db_res *r = db_query(db, "purge_runs", 0, NULL, NULL, NULL, 0);

	if (r == NULL)
		return 1;
	printf("run,started_jst,by,cutoff_jst,tickets,messages,attachments,contacts,state,reason\n");
	for (int i = 0; i < db_res_rows(r); i++) {
		for (int c = 0; c < 10; c++)
			purge_csv(db_res_val(r, i, c), c == 0);
		printf("\n");
	}
	db_res_free(r);
	return 0;
}

/* the deletion report of one run as CSV: ids and counts, no content */
int purge_report_command(struct db *db, int argc, char **argv)
{
	struct db_res *r;
	char *end;

	if (argc > 2)
		return 2;
	db_prepare_all(db, purge_stmts);
	if (db_ensure(db) < 0)
		return 1;
	if (argc == 1)
		return purge_list_runs(db);
	strtoll(argv[1], &end, 10);
	if (*end != '\0' || end == argv[1])
		return 2;
	{
		const char *v[1] = { argv[1] };

		if ((r = db_query(db, "purge_report", 1, v, NULL, NULL, 0)) == NULL)
			return 1;
	}
	printf("ticket,channel,finished_jst,messages,attachments,notes,contacts\n");
	for (int i = 0; i < db_res_rows(r); i++) {
		for (int c = 0; c < 7; c++)
			printf("%s%s", c ? "," : "", db_res_val(r, i, c));
		printf("\n");
	}
	db_res_free(r);
	return 0;
}
