/* calendar: madoguchi-admin's calendar commands.
 *
 *   holidays-load FILE.csv   the Cabinet Office list (内閣府 syukujitsu.csv:
 *                            CP932, header "国民の祝日・休日月日,国民の祝日・休日名称",
 *                            dates as YYYY/M/D) into sql/016's holiday table
 *   sla-due POLICY WHEN      a policy's due and warning instants for an item
 *                            received at WHEN (Tokyo), from the database's
 *                            calendars and crisis pauses (lib/bizcal_db)
 *
 * holidays-load checks the whole file before touching the database, lists
 * every bad line with its number, and loads nothing when there is one.  A
 * list re-saved as UTF-8 (the whole file valid UTF-8) is read as such; in a
 * CP932 file a line is CP932 or bad.  A year with fewer than 9 rows (the
 * fewest the Holidays Act ever gave) is refused: the list is a whole-year
 * one, and a partial year would remove the year's other holidays.
 * Then, in one transaction, it upserts every row (source 'cabinet-office')
 * and removes the rows of the years the file covers that the file no
 * longer has (a computed equinox day that moved), except 'local' ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "bizcal.h"
#include "bizcal_db.h"
#include "buf.h"
#include "charset.h"
#include "db.h"
#include "log.h"
#include "pool.h"

#define CALENDAR_FILE_MAX (4 * 1024 * 1024) /* the real list is ~20 KB */
#define CALENDAR_LINES_MAX 20000
#define CALENDAR_LINE_MAX 1024
#define CALENDAR_NAME_MAX 60 /* characters, as holiday.name's CHECK */
#define CALENDAR_BAD_SHOWN 30
#define CALENDAR_YEAR_MIN_ROWS 9

static const char calendar_header[] = "国民の祝日・休日月日,国民の祝日・休日名称";

static const struct db_stmt calendar_stmts[] = {
	{ "holiday_upsert",
	  "INSERT INTO holiday AS h (day, name, source) VALUES ($1::date, $2, 'cabinet-office')"
	  " ON CONFLICT (day) DO UPDATE SET name = EXCLUDED.name, source = EXCLUDED.source"
	  " WHERE h.name IS DISTINCT FROM EXCLUDED.name OR h.source IS DISTINCT FROM EXCLUDED.source"
	  " RETURNING (xmax = 0)" },
	{ "holiday_prune",
	  "DELETE FROM holiday WHERE day BETWEEN make_date($1::int, 1, 1) AND make_date($2::int, 12, 31)"
	  " AND source <> 'local' AND day <> ALL ($3::date[])" },
	{ NULL, NULL },
};

struct calendar_row {
	int32_t day;
	size_t line;
	const char *name;
};

struct calendar_list {
	struct calendar_row *rows;
	size_t n, cap;
	size_t bad;
};

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
				  CALENDAR_FILE_MAX);
			return -1;
		}
	fclose(f);
	return 0;
}

/* 1 to maxd digits up to the next sep (or end); advances *s */
static int calendar_num(const char **s, const char *end, int maxd, char sep, int *out)
{
	int v = 0, d = 0;

	while (*s < end && **s >= '0' && **s <= '9' && d < maxd) {
		v = v * 10 + (**s - '0');
		(*s)++;
		d++;
	}
	if (d == 0 || (*s < end && **s != sep) || (*s == end && sep != '\0'))
		return -1;
	if (*s < end)
		(*s)++;
	*out = v;
	return 0;
}

/* "2026/1/1" into a day number, or a reason */
static const char *calendar_date(const char *s, size_t len, int32_t *day)
{
	const char *end = s + len;
	int y, m, d;

	if (calendar_num(&s, end, 4, '/', &y) < 0 || calendar_num(&s, end, 2, '/', &m) < 0 ||
	    calendar_num(&s, end, 2, '\0', &d) < 0)
		return "the date is not YYYY/M/D";
	if (y < 1948 || y > 2200 || !bizcal_valid_date(y, m, d))
		return "no such date (or before 1948, when the Holidays Act began)";
	*day = bizcal_day(y, m, d);
	return NULL;
}

/* a holiday's name: 1-60 characters, no quotes or control characters */
static const char *calendar_name(const char *s)
{
	size_t chars = 0;

	if (*s == '\0')
		return "no name";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == ',')
			return "a quote, a comma or a control character in the name (one date, one name)";
		/* U+FF61..U+FF9F: no holiday is named in half-width kana, but a
		 * UTF-8 line read as CP932 (valid, by bad luck) is full of them */
		if (p[0] == 0xef && ((p[1] == 0xbd && p[2] >= 0xa1) || (p[1] == 0xbe && p[2] <= 0x9f)))
			return "half-width katakana in the name: a UTF-8 line in a CP932 file?";
		chars += (*p & 0xc0) != 0x80;
	}
	return chars > CALENDAR_NAME_MAX ? "the name is longer than 60 characters" : NULL;
}

/* one line (without its end): a reason, or NULL with *row set */
static const char *calendar_line(struct pool *p, const char *enc, const char *raw, size_t len,
				 struct calendar_row *row)
{
	struct charset_text t;
	const char *comma, *why;

	if (len > CALENDAR_LINE_MAX)
		return "the line is longer than 1024 bytes";
	if (charset_to_utf8(p, enc, raw, len, 0, &t) < 0)
		return "out of memory";
	/* charset reads a CP932-labelled line that is valid UTF-8 as UTF-8 (mail
	 * needs that); in a CP932 file such a line is a mixture */
	if (t.undecodable > 0 || strcmp(t.used, enc) != 0)
		return strcmp(enc, "CP932") == 0 ? "bytes that are not CP932" : "not UTF-8";
	if ((comma = strchr(t.s, ',')) == NULL)
		return "no comma: not \"date,name\"";
	row->name = comma + 1;
	why = calendar_date(t.s, (size_t)(comma - t.s), &row->day);
	return why != NULL ? why : calendar_name(row->name);
}

static void calendar_bad(struct calendar_list *l, size_t line, const char *why)
{
	if (++l->bad <= CALENDAR_BAD_SHOWN)
		log_error("line %zu: %s", line, why);
}

static int calendar_add(struct calendar_list *l, const struct calendar_row *r)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		struct calendar_row *nr = realloc(l->rows, ncap * sizeof(*nr));

		if (nr == NULL)
			return -1;
		l->rows = nr;
		l->cap = ncap;
	}
	l->rows[l->n++] = *r;
	return 0;
}

/* every line of the file into l; bad lines counted and reported */
static int calendar_parse(struct pool *p, const char *data, size_t len, struct calendar_list *l)
{
	size_t line = 0, pos = 0;
	const char *enc = charset_is_utf8(data, len) ? "UTF-8" : "CP932";

	if (strcmp(enc, "UTF-8") == 0 && len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* a byte order mark */
	while (pos < len) {
		const char *s = data + pos, *nl = memchr(s, '\n', len - pos), *why;
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		struct calendar_row row;

		pos += n + (nl != NULL);
		row.line = ++line;
		if (line > CALENDAR_LINES_MAX) {
			calendar_bad(l, line, "more than 20000 lines: not a holiday list");
			return 0;
		}
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (line == 1) {
			struct charset_text t;

			if (charset_to_utf8(p, enc, s, n, 4096, &t) < 0 ||
			    strcmp(t.s, calendar_header) != 0)
				calendar_bad(l, 1, "not the Cabinet Office header "
						   "\"国民の祝日・休日月日,国民の祝日・休日名称\" in CP932");
			continue;
		}
		if (n == 0)
			continue;
		if ((why = calendar_line(p, enc, s, n, &row)) != NULL)
			calendar_bad(l, line, why);
		else if (calendar_add(l, &row) < 0)
			return -1;
	}
	return 0;
}

static int calendar_row_cmp(const void *a, const void *b)
{
	const struct calendar_row *x = a, *y = b;

	return x->day != y->day ? (x->day < y->day ? -1 : 1) : (x->line < y->line ? -1 : 1);
}

/* sorted by date; a date twice is a bad line */
static void calendar_dups(struct calendar_list *l)
{
	qsort(l->rows, l->n, sizeof(l->rows[0]), calendar_row_cmp);
	for (size_t i = 1; i < l->n; i++)
		if (l->rows[i].day == l->rows[i - 1].day) {
			char why[64];

			snprintf(why, sizeof(why), "the same date as line %zu", l->rows[i - 1].line);
			calendar_bad(l, l->rows[i].line, why);
		}
}

/* every year of the (sorted) list needs CALENDAR_YEAR_MIN_ROWS rows */
static size_t calendar_years(const struct calendar_list *l)
{
	size_t bad = 0, i = 0;

	while (i < l->n) {
		int y, yj, m, d;
		size_t j = i + 1;

		bizcal_date(l->rows[i].day, &y, &m, &d);
		for (; j < l->n; j++) {
			bizcal_date(l->rows[j].day, &yj, &m, &d);
			if (yj != y)
				break;
		}
		if (j - i < CALENDAR_YEAR_MIN_ROWS) {
			bad++;
			log_error("year %d: %zu row%s; a whole year has at least %d (a part of a year"
				  " would remove its other holidays)",
				  y, j - i, j - i == 1 ? "" : "s", CALENDAR_YEAR_MIN_ROWS);
		}
		i = j;
	}
	return bad;
}

static void calendar_iso(int32_t day, char *out, size_t len)
{
	int y, m, d;

	bizcal_date(day, &y, &m, &d);
	snprintf(out, len, "%04d-%02d-%02d", y, m, d);
}

/* upsert every row: counts of added and changed, or -1 */
static int calendar_upsert(struct db *db, const struct calendar_list *l, long *added,
			   long *changed, struct buf *dates)
{
	for (size_t i = 0; i < l->n; i++) {
		char iso[16];
		const char *v[2] = { iso, l->rows[i].name };
		struct db_res *res;

		calendar_iso(l->rows[i].day, iso, sizeof(iso));
		if (buf_printf(dates, "%s%s", i ? "," : "{", iso) < 0)
			return -1;
		if ((res = db_query(db, "holiday_upsert", 2, v, NULL, NULL, 0)) == NULL)
			return -1;
		if (db_res_rows(res) == 1)
			(*(strcmp(db_res_val(res, 0, 0), "t") == 0 ? added : changed))++;
		db_res_free(res);
	}
	return buf_append_str(dates, "}");
}

static int calendar_store(struct db *db, const struct calendar_list *l)
{
	char y0[8], y1[8], first[16], last[16];
	long added = 0, changed = 0, removed = -1;
	struct buf dates;
	const char *v[3] = { y0, y1, NULL };

	calendar_iso(l->rows[0].day, first, sizeof(first));
	calendar_iso(l->rows[l->n - 1].day, last, sizeof(last));
	snprintf(y0, sizeof(y0), "%.4s", first);
	snprintf(y1, sizeof(y1), "%.4s", last);
	buf_init(&dates, 16 * (l->n + 2));
	if (db_begin(db) == 0 && calendar_upsert(db, l, &added, &changed, &dates) == 0) {
		v[2] = dates.data;
		removed = db_cmd(db, "holiday_prune", 3, v, NULL, NULL);
	}
	buf_free(&dates);
	if (removed < 0 || db_commit(db) < 0) {
		db_rollback(db);
		log_error("the database refused the list; nothing was loaded");
		return -1;
	}
	printf("holidays: %zu rows (%s .. %s): %ld added, %ld changed, %ld unchanged, %ld removed\n",
	       l->n, first, last, added, changed, (long)l->n - added - changed, removed);
	return 0;
}

static int calendar_holidays_load(struct db *db, const char *path)
{
	struct pool *p = pool_create(64 * 1024 * 1024);
	struct calendar_list l = { NULL, 0, 0, 0 };
	struct buf file;
	int r = 1;

	buf_init(&file, CALENDAR_FILE_MAX);
	if (p == NULL || calendar_read(path, &file) < 0)
		goto out;
	if (calendar_parse(p, file.data ? file.data : "", file.len, &l) < 0) {
		log_error("out of memory");
		goto out;
	}
	calendar_dups(&l);
	if (l.bad == 0 && l.n == 0)
		calendar_bad(&l, 1, "no holidays in the file");
	if (l.bad > 0) {
		log_error("%zu bad line%s in \"%s\"; nothing was loaded", l.bad,
			  l.bad == 1 ? "" : "s", path);
		goto out;
	}
	if (calendar_years(&l) > 0) {
		log_error("\"%s\" is not a whole-year list; nothing was loaded", path);
		goto out;
	}
	r = calendar_store(db, &l) < 0 ? 1 : 0;
out:
	free(l.rows);
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
	if (calendar_num(&p, e, 4, '-', &y) < 0 || calendar_num(&p, e, 2, '-', &mo) < 0 ||
	    calendar_num(&p, e, 2, ' ', &d) < 0 || calendar_num(&p, e, 2, ':', &h) < 0 ||
	    calendar_num(&p, e, 2, colons == 2 ? ':' : '\0', &mi) < 0 ||
	    (colons == 2 && calendar_num(&p, e, 2, '\0', &sec) < 0) || colons > 2)
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
	db_prepare_all(db, calendar_stmts);
	db_prepare_all(db, bizcal_db_stmts);
	if (db_ensure(db) < 0) {
		log_error("the calendar tables are not there: run \"madoguchi-admin migrate\" first");
		return 1;
	}
	if (strcmp(argv[0], "holidays-load") == 0)
		return argc == 2 ? calendar_holidays_load(db, argv[1]) : 2;
	return argc == 3 ? calendar_sla_due(db, argv[1], argv[2]) : 2;
}
