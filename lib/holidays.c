/* holidays: the Cabinet Office list, checked and stored (holidays.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bizcal.h"
#include "buf.h"
#include "charset.h"
#include "db.h"
#include "holidays.h"
#include "pool.h"

#define HOLIDAYS_LINES_MAX 20000
#define HOLIDAYS_LINE_MAX 1024
#define HOLIDAYS_NAME_MAX 60 /* characters, as holiday.name's CHECK */
#define HOLIDAYS_YEAR_MIN_ROWS 9

static const char holidays_header[] = "国民の祝日・休日月日,国民の祝日・休日名称";

const struct db_stmt holidays_stmts[] = {
	{ "holidays_row", "SELECT holiday_load_row($1::date, $2)" },
	{ "holidays_prune", "SELECT holiday_load_prune($1::int, $2::int, $3::date[])" },
	{ NULL, NULL },
};

int holidays_num(const char **s, const char *end, int maxd, char sep, int *out)
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
static const char *holidays_date(const char *s, size_t len, int32_t *day)
{
	const char *end = s + len;
	int y, m, d;

	if (holidays_num(&s, end, 4, '/', &y) < 0 || holidays_num(&s, end, 2, '/', &m) < 0 ||
	    holidays_num(&s, end, 2, '\0', &d) < 0)
		return "the date is not YYYY/M/D";
	if (y < 1948 || y > 2200 || !bizcal_valid_date(y, m, d))
		return "no such date (or before 1948, when the Holidays Act began)";
	*day = bizcal_day(y, m, d);
	return NULL;
}

/* a holiday's name: 1-60 characters, no quotes or control characters */
static const char *holidays_name(const char *s)
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
	return chars > HOLIDAYS_NAME_MAX ? "the name is longer than 60 characters" : NULL;
}

/* one line (without its end): a reason, or NULL with *row set */
static const char *holidays_line(struct pool *p, const char *enc, const char *raw, size_t len,
				 struct holidays_row *row)
{
	struct charset_text t;
	const char *comma, *why;

	if (len > HOLIDAYS_LINE_MAX)
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
	why = holidays_date(t.s, (size_t)(comma - t.s), &row->day);
	return why != NULL ? why : holidays_name(row->name);
}

static void holidays_bad(struct holidays_list *l, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void holidays_bad(struct holidays_list *l, size_t line, const char *fmt, ...)
{
	va_list ap;

	if (l->bad < HOLIDAYS_BAD_SHOWN) {
		l->shown[l->bad].line = line;
		va_start(ap, fmt);
		vsnprintf(l->shown[l->bad].why, sizeof(l->shown[l->bad].why), fmt, ap);
		va_end(ap);
	}
	l->bad++;
}

static int holidays_add(struct holidays_list *l, const struct holidays_row *r)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		struct holidays_row *nr = realloc(l->rows, ncap * sizeof(*nr));

		if (nr == NULL)
			return -1;
		l->rows = nr;
		l->cap = ncap;
	}
	l->rows[l->n++] = *r;
	return 0;
}

static void holidays_head(struct pool *p, const char *enc, const char *s, size_t n,
			  struct holidays_list *l)
{
	struct charset_text t;

	if (charset_to_utf8(p, enc, s, n, 4096, &t) < 0 || strcmp(t.s, holidays_header) != 0)
		holidays_bad(l, 1, "%s", "not the Cabinet Office header "
					 "\"国民の祝日・休日月日,国民の祝日・休日名称\" in CP932");
}

/* every line of the file into l; bad lines counted */
static int holidays_lines(struct pool *p, const char *data, size_t len, struct holidays_list *l)
{
	size_t line = 0, pos = 0;
	const char *enc = charset_is_utf8(data, len) ? "UTF-8" : "CP932";

	if (strcmp(enc, "UTF-8") == 0 && len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* a byte order mark */
	while (pos < len) {
		const char *s = data + pos, *nl = memchr(s, '\n', len - pos), *why;
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		struct holidays_row row;

		pos += n + (nl != NULL);
		row.line = ++line;
		if (line > HOLIDAYS_LINES_MAX) {
			holidays_bad(l, line, "%s", "more than 20000 lines: not a holiday list");
			return 0;
		}
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (line == 1)
			holidays_head(p, enc, s, n, l);
		else if (n == 0)
			continue;
		else if ((why = holidays_line(p, enc, s, n, &row)) != NULL)
			holidays_bad(l, line, "%s", why);
		else if (holidays_add(l, &row) < 0)
			return -1;
	}
	return 0;
}

static int holidays_row_cmp(const void *a, const void *b)
{
	const struct holidays_row *x = a, *y = b;

	return x->day != y->day ? (x->day < y->day ? -1 : 1) : (x->line < y->line ? -1 : 1);
}

/* sorted by date; a date twice is a bad line */
static void holidays_dups(struct holidays_list *l)
{
	if (l->n > 0)
		qsort(l->rows, l->n, sizeof(l->rows[0]), holidays_row_cmp);
	for (size_t i = 1; i < l->n; i++)
		if (l->rows[i].day == l->rows[i - 1].day)
			holidays_bad(l, l->rows[i].line, "the same date as line %zu",
				     l->rows[i - 1].line);
}

/* every year of the (sorted) list needs HOLIDAYS_YEAR_MIN_ROWS rows */
static void holidays_years(struct holidays_list *l)
{
	size_t i = 0;

	while (i < l->n) {
		int y, yj, m, d;
		size_t j = i + 1;

		bizcal_date(l->rows[i].day, &y, &m, &d);
		for (; j < l->n; j++) {
			bizcal_date(l->rows[j].day, &yj, &m, &d);
			if (yj != y)
				break;
		}
		if (j - i < HOLIDAYS_YEAR_MIN_ROWS)
			holidays_bad(l, 0,
				     "year %d: %zu row%s; a whole year has at least %d (a part of a"
				     " year would remove its other holidays)",
				     y, j - i, j - i == 1 ? "" : "s", HOLIDAYS_YEAR_MIN_ROWS);
		i = j;
	}
}

int holidays_parse(struct pool *p, const char *data, size_t len, struct holidays_list *l)
{
	if (len > HOLIDAYS_FILE_MAX) {
		holidays_bad(l, 0, "larger than %d bytes: not a holiday list", HOLIDAYS_FILE_MAX);
		return 0;
	}
	if (holidays_lines(p, data, len, l) < 0)
		return -1;
	holidays_dups(l);
	if (l->bad == 0 && l->n == 0)
		holidays_bad(l, 1, "%s", "no holidays in the file");
	if (l->bad == 0)
		holidays_years(l);
	return 0;
}

void holidays_list_free(struct holidays_list *l)
{
	free(l->rows);
	l->rows = NULL;
	l->n = l->cap = 0;
}

static void holidays_iso(int32_t day, char *out, size_t len)
{
	int y, m, d;

	bizcal_date(day, &y, &m, &d);
	snprintf(out, len, "%04d-%02d-%02d", y, m, d);
}

/* upsert every row, counting; the dates into dates as an array literal */
static int holidays_upsert(struct db *db, const struct holidays_list *l,
			   struct holidays_counts *c, struct buf *dates)
{
	for (size_t i = 0; i < l->n; i++) {
		char iso[16];
		const char *v[2] = { iso, l->rows[i].name };
		struct db_res *res;
		const char *r;

		holidays_iso(l->rows[i].day, iso, sizeof(iso));
		if (buf_printf(dates, "%s%s", i ? "," : "{", iso) < 0)
			return -1;
		if ((res = db_query(db, "holidays_row", 2, v, NULL, NULL, 0)) == NULL)
			return -1;
		r = db_res_null(res, 0, 0) ? "" : db_res_val(res, 0, 0);
		if (r[0] == 't')
			c->added++;
		else if (r[0] == 'f')
			c->changed++;
		else
			c->unchanged++;
		db_res_free(res);
	}
	return buf_append_str(dates, "}");
}

int holidays_store(struct db *db, const struct holidays_list *l, struct holidays_counts *c)
{
	char y0[8], y1[8];
	struct buf dates;
	struct db_res *res = NULL;
	const char *v[3] = { y0, y1, NULL };

	memset(c, 0, sizeof(*c));
	if (l->n == 0)
		return -1;
	holidays_iso(l->rows[0].day, c->first, sizeof(c->first));
	holidays_iso(l->rows[l->n - 1].day, c->last, sizeof(c->last));
	snprintf(y0, sizeof(y0), "%.4s", c->first);
	snprintf(y1, sizeof(y1), "%.4s", c->last);
	buf_init(&dates, 16 * (l->n + 2));
	if (holidays_upsert(db, l, c, &dates) == 0) {
		v[2] = dates.data;
		res = db_query(db, "holidays_prune", 3, v, NULL, NULL, 0);
	}
	buf_free(&dates);
	if (res == NULL)
		return -1;
	c->removed = db_res_ll(res, 0, 0);
	db_res_free(res);
	return 0;
}
