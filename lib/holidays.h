/* holidays: the Cabinet Office list of national holidays (内閣府
 * syukujitsu.csv: CP932, header "国民の祝日・休日月日,国民の祝日・休日名称",
 * dates as YYYY/M/D) checked and stored in sql/016's holiday table.  One
 * parser for "madoguchi-admin holidays-load" (admin/calendar.c) and the
 * upload of the admin page (ticketd/admin_calendar.c).
 *
 * holidays_parse checks the whole file and collects every bad line with its
 * number (the first HOLIDAYS_BAD_SHOWN reasons are kept); the caller stores
 * nothing when there is one.  A list re-saved as UTF-8 (the whole file
 * valid UTF-8, a BOM allowed) is read as such; in a CP932 file a line is
 * CP932 or bad.  A year with fewer than 9 rows (the fewest the Holidays Act
 * ever gave) is refused: the list is a whole-year one, and a partial year
 * would remove the year's other holidays.
 *
 * holidays_store, inside the caller's transaction, upserts every row
 * (source 'cabinet-office') and removes the rows of the years the file
 * covers that the file no longer has (a computed equinox day that moved),
 * except 'local' ones; through sql/024's functions, so ticketd needs no
 * write grant on the table.  Register holidays_stmts with db_prepare_all. */
#ifndef MDG_HOLIDAYS_H
#define MDG_HOLIDAYS_H
#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define HOLIDAYS_FILE_MAX (4 * 1024 * 1024) /* the real list is ~20 KB */
#define HOLIDAYS_BAD_SHOWN 30

struct pool;

extern const struct db_stmt holidays_stmts[];

struct holidays_row {
	int32_t day; /* bizcal day number */
	size_t line;
	const char *name; /* UTF-8, in the pool given to holidays_parse */
};

/* line 0: not about one line (a year with too few rows) */
struct holidays_bad {
	size_t line;
	char why[160];
};

struct holidays_list {
	struct holidays_row *rows; /* sorted by date once parsed */
	size_t n, cap;
	size_t bad; /* how many; the first HOLIDAYS_BAD_SHOWN in shown */
	struct holidays_bad shown[HOLIDAYS_BAD_SHOWN];
};

struct holidays_counts {
	long added, changed, unchanged, removed;
	char first[11], last[11]; /* YYYY-MM-DD */
};

/* data (untrusted, at most HOLIDAYS_FILE_MAX bytes) into l (zeroed by the
 * caller; holidays_list_free it): 0 (look at l->bad), -1 out of memory */
int holidays_parse(struct pool *p, const char *data, size_t len, struct holidays_list *l);
void holidays_list_free(struct holidays_list *l);
/* a parsed list with no bad line (l->n > 0) into the table: 0, or -1 */
int holidays_store(struct db *db, const struct holidays_list *l, struct holidays_counts *out);

/* 1 to maxd digits at *s up to the next sep ('\0': the end), into *out;
 * advances *s past the separator.  0, or -1 when that is not what is there.
 * Also read by madoguchi-admin's date-time arguments. */
int holidays_num(const char **s, const char *end, int maxd, char sep, int *out);

#endif
