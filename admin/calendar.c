/* calendar: madoguchi-admin's calendar commands.
 *
 *   holidays-load FILE.csv   the Cabinet Office list (内閣府 syukujitsu.csv:
 *                            CP932, header "国民の祝日・休日月日,国民の祝日・休日名称",
 *                            dates as YYYY/M/D) into sql/016's holiday table
 *   sla-due POLICY WHEN      a policy's due and warning instants for an item
 *                            received at WHEN (Tokyo), from the database's
 *                            calendars and crisis pauses (lib/bizcal_db)
 *
 * holidays-load checks the whole file before touching the database
 * (lib/holidays.h, the parser the admin page's upload uses too), lists
 * every bad line with its number, and loads nothing when there is one;
 * else it stores the list in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "bizcal.h"
#include "bizcal_db.h"
#include "buf.h"
#include "db.h"
#include "holidays.h"
#include "log.h"
#include "pool.h"

static int calendar_read(const char *path, struct buf *b)
{
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		log_error("could not open \"%s\"", path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) < 0) {
			fclose(f);
			log_error("\"%s\" is larger than %d bytes: not a holiday list", path,
				  HOLIDAYS_FILE_MAX);
			return -1;
		}
	fclose(f);
	return 0;
}

/* the reasons holidays_parse kept, then what was refused */
static void calendar_report(const struct holidays_list *l, const char *path)
{
	size_t shown = l->bad < HOLIDAYS_BAD_SHOWN ? l->bad : HOLIDAYS_BAD_SHOWN;

	for (size_t i = 0; i < shown; i++) {
		if (l->shown[i].line > 0)
			log_error("line %zu: %s", l->shown[i].line, l->shown[i].why);
		else
			log_error("%s", l->shown[i].why);
	}
	if (l->shown[0].line == 0)
		log_error("\"%s\" is not a whole-year list; nothing was loaded", path);
	else
		log_error("%zu bad line%s in \"%s\"; nothing was loaded", l->bad,
			  l->bad == 1 ? "" : "s", path);
}

static int calendar_store(struct db *db, const struct holidays_list *l)
{
	struct holidays_counts c;

	if (db_begin(db) < 0 || holidays_store(db, l, &c) < 0 || db_commit(db) < 0) {
		db_rollback(db);
		log_error("the database refused the list; nothing was loaded");
		return -1;
	}
	printf("holidays: %zu rows (%s .. %s): %ld added, %ld changed, %ld unchanged, %ld removed\n",
	       l->n, c.first, c.last, c.added, c.changed, c.unchanged, c.removed);
	return 0;
}

static int calendar_holidays_load(struct db *db, const char *path)
{
	struct pool *p = pool_create(64 * 1024 * 1024);
	struct holidays_list l;
	struct buf file;
	int r = 1;

	memset(&l, 0, sizeof(l));
	buf_init(&file, HOLIDAYS_FILE_MAX);
	if (p == NULL || calendar_read(path, &file) < 0)
		goto out;
	if (holidays_parse(p, file.data ? file.data : "", file.len, &l) < 0) {
		log_error("out of memory");
		goto out;
	}
	if (l.bad > 0) {
		calendar_report(&l, path);
		goto out;
	}
	r = calendar_store(db, &l) < 0 ? 1 : 0;
out:
	holidays_list_free(&l);
	buf_free(&file);
	pool_destroy(p);
	return r;
}

/* "YYYY-MM-DD HH:MM[:SS]" (or with a T) in Tokyo time */
static int calendar_when(const char *arg, int64_t *t)
{
	char s[32];
	const char *p = s, *e;
	int y, mo, d, h, mi, sec = 0, colons = 0;

	if (strlen(arg) >= sizeof(s))
		return -1;
	snprintf(s, sizeof(s), "%s", arg);
	if (strlen(s) > 10 && s[10] == 'T')
		s[10] = ' ';
	for (e = s; *e; e++)
		colons += *e == ':';
	if (holidays_num(&p, e, 4, '-', &y) < 0 || holidays_num(&p, e, 2, '-', &mo) < 0 ||
	    holidays_num(&p, e, 2, ' ', &d) < 0 || holidays_num(&p, e, 2, ':', &h) < 0 ||
	    holidays_num(&p, e, 2, colons == 2 ? ':' : '\0', &mi) < 0 ||
	    (colons == 2 && holidays_num(&p, e, 2, '\0', &sec) < 0) || colons > 2)
		return -1;
	if (!bizcal_valid_date(y, mo, d) || h > 23 || mi > 59 || sec > 59)
		return -1;
	*t = bizcal_time(y, mo, d, h, mi, sec);
	return 0;
}

static const char *calendar_fmt(int64_t t, char *out, size_t len)
{
	int y, m, d;
	int64_t s;

	if (t == BIZCAL_NEVER)
		return "never (a pause has not ended)";
	bizcal_date(bizcal_day_of(t), &y, &m, &d);
	s = t - bizcal_day_start(bizcal_day_of(t));
	snprintf(out, len, "%04d-%02d-%02d %02d:%02d:%02d (Tokyo)", y, m, d, (int)(s / 3600),
		 (int)(s / 60 % 60), (int)(s % 60));
	return out;
}

static const char *const calendar_modes[] = { "wall_clock_hours", "business_hours",
					      "next_business_day_end" };

static int calendar_sla_due(struct db *db, const char *idarg, const char *whenarg)
{
	struct bizcal_range pauses[256];
	struct bizcal_db_policy pol;
	struct bizcal_due due;
	struct bizcal *cal = NULL;
	char *end, a[64], b[64], c[64];
	long id = strtol(idarg, &end, 10);
	int64_t t;
	int n, found;

	if (*end != '\0' || end == idarg || id <= 0 || id > 2147483647L ||
	    calendar_when(whenarg, &t) < 0)
		return 2;
	if ((found = bizcal_db_policy_id(db, (int)id, &pol)) <= 0) {
		if (found == 0)
			log_error("policy=%ld: no such SLA policy", id);
		return 1;
	}
	if ((pol.calendar_id > 0 && bizcal_db_load(db, pol.calendar_id, t, &cal) < 0) ||
	    (n = bizcal_db_crisis(db, t, pauses, 256)) < 0) {
		bizcal_free(cal);
		return 1;
	}
	if (bizcal_due(&pol.policy, cal, t, pauses, (size_t)n, &due) < 0) {
		log_error("policy=%ld: refused by bizcal (a business clock without a calendar?)", id);
		bizcal_free(cal);
		return 1;
	}
	printf("policy %d: %s, target %lld s, warning %lld s, calendar %d, %d crisis pause%s\n"
	       "received %s\ndue      %s\nwarning  %s\n",
	       pol.id, calendar_modes[pol.policy.mode], (long long)pol.policy.target,
	       (long long)pol.policy.warning, pol.calendar_id, n, n == 1 ? "" : "s",
	       calendar_fmt(t, a, sizeof(a)), calendar_fmt(due.due, b, sizeof(b)),
	       calendar_fmt(due.warning, c, sizeof(c)));
	bizcal_free(cal);
	return 0;
}

int calendar_is_command(const char *cmd)
{
	return strcmp(cmd, "holidays-load") == 0 || strcmp(cmd, "sla-due") == 0;
}

int calendar_run(struct db *db, int argc, char **argv)
{
	db_prepare_all(db, holidays_stmts);
	db_prepare_all(db, bizcal_db_stmts);
	if (db_ensure(db) < 0) {
		log_error("the calendar tables are not there: run \"madoguchi-admin migrate\" first");
		return 1;
	}
	if (strcmp(argv[0], "holidays-load") == 0)
		return argc == 2 ? calendar_holidays_load(db, argv[1]) : 2;
	return argc == 3 ? calendar_sla_due(db, argv[1], argv[2]) : 2;
}
