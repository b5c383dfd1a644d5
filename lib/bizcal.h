/* bizcal: business calendars and SLA due times, in Tokyo time.
 *
 * A calendar is weekly opening hours (several intervals a weekday), national
 * holidays, annual closures given as month/day ranges (年末年始, 12/29-1/3),
 * one-off closures (instant ranges: a day, an afternoon) and extra openings
 * (a date with its own hours, e.g. a department open on a holiday Saturday).
 * Pure computation: no database (bizcal_db.c fills a calendar from the
 * tables of sql/016), no time zone database.
 *
 * Instants are int64 seconds since the epoch (UTC).  Local dates are "day
 * numbers": days since 1970-01-01 in Tokyo.  Weekdays are 0 = Sunday .. 6 =
 * Saturday, as PostgreSQL's extract(dow) and struct tm count them.
 *
 * Every due time of the SLA is computed here (bizcal_due), so the web
 * views, the sweep and the reports agree to the second. */
#ifndef MDG_BIZCAL_H
#define MDG_BIZCAL_H
#include <stddef.h>
#include <stdint.h>

/* "never": no opening within the search horizon, or a clock stopped by a
 * pause that has not ended */
#define BIZCAL_NEVER INT64_MAX
/* a calendar closed for this many days in a row is taken as never opening */
#define BIZCAL_HORIZON_DAYS 800

struct bizcal;

/* [from, to) in seconds since the epoch; to = BIZCAL_NEVER: not ended */
struct bizcal_range {
	int64_t from, to;
};

enum bizcal_mode {
	BIZCAL_WALL_CLOCK,     /* target seconds of wall-clock time */
	BIZCAL_BUSINESS_HOURS, /* target seconds of opening hours */
	BIZCAL_NEXT_DAY_END    /* closing time of the first business day after the day of receipt */
};

struct bizcal_policy {
	enum bizcal_mode mode;
	int64_t target;  /* seconds; unused by BIZCAL_NEXT_DAY_END */
	int64_t warning; /* warn when this much of the clock is left (same clock as the mode) */
};

struct bizcal_due {
	int64_t due;     /* BIZCAL_NEVER while a pause without end stops the clock */
	int64_t warning; /* the instant the remaining clock time reaches policy.warning */
};

/* building a calendar; the adders return 0, or -1 on a bad or overlapping
 * value or when a table is full (limits in bizcal.c) */
struct bizcal *bizcal_new(void);
void bizcal_free(struct bizcal *cal);
/* opens, closes: seconds after local midnight, 0 <= opens < closes <= 86400 */
int bizcal_add_hours(struct bizcal *cal, int weekday, int opens, int closes);
int bizcal_add_holiday(struct bizcal *cal, int32_t day);
/* closed every year from month/day to month/day inclusive (may wrap the year) */
int bizcal_add_annual(struct bizcal *cal, int from_month, int from_day, int to_month, int to_day);
int bizcal_add_closure(struct bizcal *cal, int64_t from, int64_t to);
/* a date with its own hours: they replace the weekday's hours and hold on
 * holidays and annual closures too (one-off closures still win) */
int bizcal_add_opening(struct bizcal *cal, int32_t day, int opens, int closes);

/* Tokyo dates and times */
int32_t bizcal_day(int year, int month, int mday);
void bizcal_date(int32_t day, int *year, int *month, int *mday);
int32_t bizcal_day_of(int64_t t);
int bizcal_weekday(int32_t day);
int64_t bizcal_day_start(int32_t day);
/* local wall time to an instant */
int64_t bizcal_time(int year, int month, int mday, int hour, int min, int sec);
/* 1 if y-m-d is a real date of the Gregorian calendar */
int bizcal_valid_date(int year, int month, int mday);

/* 1 if the calendar is open at t, else 0 */
int bizcal_is_open(const struct bizcal *cal, int64_t t);
/* t if open, else the next opening; BIZCAL_NEVER if none */
int64_t bizcal_next_open(const struct bizcal *cal, int64_t t);
/* the instant when secs of opening hours from t have passed; a result at
 * the end of an opening is that closing time, not the next morning */
int64_t bizcal_add_business_seconds(const struct bizcal *cal, int64_t t, int64_t secs);
/* opening hours between from and to */
int64_t bizcal_business_seconds(const struct bizcal *cal, int64_t from, int64_t to);
/* 1 if the day has any opening hours left after closures */
int bizcal_is_business_day(const struct bizcal *cal, int32_t day);
/* closing time of the first business day after t's date (受信日又は翌日: a
 * mail of a closed day, e.g. 12/29-1/3, is due on the first business day) */
int64_t bizcal_end_of_next_business_day(const struct bizcal *cal, int64_t t);

/* tod (seconds after midnight) on the first business day after t's date:
 * "the next business morning at 10:00" of a reminder; BIZCAL_NEVER if none */
int64_t bizcal_next_business_day_at(const struct bizcal *cal, int64_t t, int tod);

/* Due and warning instants of a policy for an item received at received.
 * pauses (waiting for the citizen, the crisis switch; any order, may
 * overlap) stop the clock while they last.  A wall-clock policy ignores
 * cal (may be NULL); the others need it.  0, or -1 on a bad policy. */
int bizcal_due(const struct bizcal_policy *pol, const struct bizcal *cal, int64_t received,
	       const struct bizcal_range *pauses, size_t npauses, struct bizcal_due *out);

#endif
