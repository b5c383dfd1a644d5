/* bizcal: business calendars and SLA due times.
 *
 * Time zone: every calendar is in Asia/Tokyo.  Japan has kept standard time
 * (UTC+9) all year since 1951, so local time is the instant plus 32 400
 * seconds, always: no tz database, no DST gaps or repeated hours.
 *
 * Design: a day's opening hours are intervals (an extra opening's, else the
 * weekday's unless the day is a holiday or in an annual closure).  Cut by
 * "holes" (one-off closures, and for a due time the item's pauses) they
 * become running pieces; every query walks pieces forward from an instant
 * (bizcal_seg).  A wall clock is the same walk over one endless interval.
 * The walks are bounded: a calendar closed for BIZCAL_HORIZON_DAYS days
 * in a row never opens.
 *
 * next_business_day_end as a clock: the deadline first becomes the opening
 * hours it allows (received to the closing time of the next business day),
 * then pauses shift it like a business-hours target.  Without pauses the
 * result is exactly that closing time. */
#include <stdlib.h>
#include <string.h>

#include "bizcal.h"

#define BIZCAL_TZ_OFFSET 32400 /* JST = UTC+9, no DST */
#define BIZCAL_DAY_SECS 86400
#define BIZCAL_DAY_MAX 8          /* intervals a day */
#define BIZCAL_ANNUAL_MAX 16      /* annual closure ranges */
#define BIZCAL_HOLIDAY_MAX 20000  /* the Cabinet Office list has ~1100 since 1955 */
#define BIZCAL_CLOSURE_MAX 4096
#define BIZCAL_OPENING_MAX 4096

struct bizcal_hours {
	int32_t opens, closes;
};

struct bizcal_opening {
	int32_t day, opens, closes;
};

struct bizcal {
	struct bizcal_hours week[7][BIZCAL_DAY_MAX];
	int nweek[7];
	int annual_from[BIZCAL_ANNUAL_MAX], annual_to[BIZCAL_ANNUAL_MAX]; /* month * 100 + day */
	int nannual;
	int32_t *holidays; /* sorted, unique */
	size_t nholidays, capholidays;
	struct bizcal_range *closures;
	size_t nclosures, capclosures;
	struct bizcal_opening *openings; /* sorted by (day, opens) */
	size_t nopenings, capopenings;
};

/* what stops a clock besides closed hours: two lists of ranges */
struct bizcal_holes {
	const struct bizcal_range *a, *b;
	size_t na, nb;
};

struct bizcal *bizcal_new(void)
{
	return calloc(1, sizeof(struct bizcal));
}

void bizcal_free(struct bizcal *cal)
{
	if (cal == NULL)
		return;
	free(cal->holidays);
	free(cal->closures);
	free(cal->openings);
	free(cal);
}

/* room for one more element in a table of at most max */
static int bizcal_grow(void **arr, size_t *cap, size_t n, size_t size, size_t max)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	if (n >= max)
		return -1;
	ncap = *cap == 0 ? 64 : *cap * 2;
	if (ncap > max)
		ncap = max;
	p = realloc(*arr, ncap * size);
	if (p == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* ---- dates (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t bizcal_floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int32_t bizcal_day(int year, int month, int mday)
{
	int64_t y = year - (month <= 2);
	int64_t era = bizcal_floordiv(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + mday - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (int32_t)(era * 146097 + doe - 719468);
}

void bizcal_date(int32_t day, int *year, int *month, int *mday)
{
	int64_t z = (int64_t)day + 719468;
	int64_t era = bizcal_floordiv(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = (int)(yoe + era * 400 + (m <= 2));
}

int bizcal_valid_date(int year, int month, int mday)
{
	int y, m, d;

	if (year < 1 || year > 9999 || month < 1 || month > 12 || mday < 1 || mday > 31)
		return 0;
	bizcal_date(bizcal_day(year, month, mday), &y, &m, &d);
	return y == year && m == month && d == mday;
}

int32_t bizcal_day_of(int64_t t)
{
	return (int32_t)bizcal_floordiv(t + BIZCAL_TZ_OFFSET, BIZCAL_DAY_SECS);
}

int bizcal_weekday(int32_t day)
{
	/* 1970-01-01 was a Thursday (4) */
	return (int)(((int64_t)day + 4) - bizcal_floordiv((int64_t)day + 4, 7) * 7);
}

int64_t bizcal_day_start(int32_t day)
{
	return (int64_t)day * BIZCAL_DAY_SECS - BIZCAL_TZ_OFFSET;
}

int64_t bizcal_time(int year, int month, int mday, int hour, int min, int sec)
{
	return bizcal_day_start(bizcal_day(year, month, mday)) + hour * 3600 + min * 60 + sec;
}

/* ---- building ---- */

static int bizcal_hours_ok(int opens, int closes)
{
	return opens >= 0 && opens < closes && closes <= BIZCAL_DAY_SECS;
}

/* insert [opens, closes) into a day's sorted intervals, refusing overlap */
static int bizcal_insert_hours(struct bizcal_hours *h, int *n, int opens, int closes)
{
	int i;

	if (!bizcal_hours_ok(opens, closes) || *n >= BIZCAL_DAY_MAX)
		return -1;
	for (i = 0; i < *n; i++)
		if (opens < h[i].closes && h[i].opens < closes)
			return -1;
	for (i = *n; i > 0 && h[i - 1].opens > opens; i--)
		h[i] = h[i - 1];
	h[i].opens = opens;
	h[i].closes = closes;
	(*n)++;
	return 0;
}

int bizcal_add_hours(struct bizcal *cal, int weekday, int opens, int closes)
{
	if (weekday < 0 || weekday > 6)
		return -1;
	return bizcal_insert_hours(cal->week[weekday], &cal->nweek[weekday], opens, closes);
}

/* index of the first holiday >= day */
static size_t bizcal_holiday_pos(const struct bizcal *cal, int32_t day)
{
	size_t lo = 0, hi = cal->nholidays;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cal->holidays[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bizcal_add_holiday(struct bizcal *cal, int32_t day)
{
	size_t pos = bizcal_holiday_pos(cal, day);

	if (pos < cal->nholidays && cal->holidays[pos] == day)
		return 0;
	if (bizcal_grow((void **)&cal->holidays, &cal->capholidays, cal->nholidays,
			sizeof(int32_t), BIZCAL_HOLIDAY_MAX) < 0)
		return -1;
	memmove(cal->holidays + pos + 1, cal->holidays + pos,
		(cal->nholidays - pos) * sizeof(int32_t));
	cal->holidays[pos] = day;
	cal->nholidays++;
	return 0;
}

int bizcal_add_annual(struct bizcal *cal, int from_month, int from_day, int to_month, int to_day)
{
	/* 2000 is a leap year: 2/29 is a valid month/day */
	if (!bizcal_valid_date(2000, from_month, from_day) ||
	    !bizcal_valid_date(2000, to_month, to_day) || cal->nannual >= BIZCAL_ANNUAL_MAX)
		return -1;
	cal->annual_from[cal->nannual] = from_month * 100 + from_day;
	cal->annual_to[cal->nannual] = to_month * 100 + to_day;
	cal->nannual++;
	return 0;
}

int bizcal_add_closure(struct bizcal *cal, int64_t from, int64_t to)
{
	if (from >= to || bizcal_grow((void **)&cal->closures, &cal->capclosures, cal->nclosures,
				      sizeof(struct bizcal_range), BIZCAL_CLOSURE_MAX) < 0)
		return -1;
	cal->closures[cal->nclosures].from = from;
	cal->closures[cal->nclosures].to = to;
	cal->nclosures++;
	return 0;
}

/* index of the first opening at or after (day, opens) */
static size_t bizcal_opening_pos(const struct bizcal *cal, int32_t day, int opens)
{
	size_t lo = 0, hi = cal->nopenings;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bizcal_opening *o = &cal->openings[mid];

		if (o->day < day || (o->day == day && o->opens < opens))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bizcal_add_opening(struct bizcal *cal, int32_t day, int opens, int closes)
{
	size_t pos, i;

	if (!bizcal_hours_ok(opens, closes))
		return -1;
	for (i = bizcal_opening_pos(cal, day, 0); i < cal->nopenings && cal->openings[i].day == day;
	     i++)
		if (opens < cal->openings[i].closes && cal->openings[i].opens < closes)
			return -1;
	if (i - bizcal_opening_pos(cal, day, 0) >= BIZCAL_DAY_MAX ||
	    bizcal_grow((void **)&cal->openings, &cal->capopenings, cal->nopenings,
			sizeof(struct bizcal_opening), BIZCAL_OPENING_MAX) < 0)
		return -1;
	pos = bizcal_opening_pos(cal, day, opens);
	memmove(cal->openings + pos + 1, cal->openings + pos,
		(cal->nopenings - pos) * sizeof(struct bizcal_opening));
	cal->openings[pos].day = day;
	cal->openings[pos].opens = opens;
	cal->openings[pos].closes = closes;
	cal->nopenings++;
	return 0;
}

/* ---- one day's hours ---- */

static int bizcal_in_annual(const struct bizcal *cal, int32_t day)
{
	int y, m, d, md;

	if (cal->nannual == 0)
		return 0;
	bizcal_date(day, &y, &m, &d);
	md = m * 100 + d;
	for (int i = 0; i < cal->nannual; i++) {
		int from = cal->annual_from[i], to = cal->annual_to[i];

		if (from <= to ? (md >= from && md <= to) : (md >= from || md <= to))
			return 1;
	}
	return 0;
}

/* the day's opening intervals, sorted, before one-off closures */
static int bizcal_hours_of(const struct bizcal *cal, int32_t day, struct bizcal_hours *out)
{
	size_t i = bizcal_opening_pos(cal, day, 0), pos;
	int n = 0;

	if (i < cal->nopenings && cal->openings[i].day == day) {
		for (; i < cal->nopenings && cal->openings[i].day == day && n < BIZCAL_DAY_MAX; i++) {
			out[n].opens = cal->openings[i].opens;
			out[n].closes = cal->openings[i].closes;
			n++;
		}
		return n;
	}
	pos = bizcal_holiday_pos(cal, day);
	if ((pos < cal->nholidays && cal->holidays[pos] == day) || bizcal_in_annual(cal, day))
		return 0;
	n = cal->nweek[bizcal_weekday(day)];
	memcpy(out, cal->week[bizcal_weekday(day)], (size_t)n * sizeof(*out));
	return n;
}

/* ---- walking running pieces ---- */

/* the first piece of [s, e) not inside a hole: 1 with *ps, *pe, or 0 */
static int bizcal_cut(const struct bizcal_holes *h, int64_t s, int64_t e, int64_t *ps,
		      int64_t *pe)
{
	int moved = 1;

	while (moved && s < e) {
		moved = 0;
		for (size_t i = 0; i < h->na + h->nb; i++) {
			const struct bizcal_range *r = i < h->na ? &h->a[i] : &h->b[i - h->na];

			if (r->from <= s && s < r->to) {
				s = r->to;
				moved = 1;
			}
		}
	}
	if (s >= e)
		return 0;
	for (size_t i = 0; i < h->na + h->nb; i++) {
		const struct bizcal_range *r = i < h->na ? &h->a[i] : &h->b[i - h->na];

		if (r->from > s && r->from < e)
			e = r->from;
	}
	*ps = s;
	*pe = e;
	return 1;
}

/* The first running piece ending after t, clipped to start at t or later:
 * 1 with *ps, *pe, or 0 if none within the horizon.  cal NULL: a wall
 * clock, running always except in holes. */
static int bizcal_seg(const struct bizcal *cal, const struct bizcal_holes *h, int64_t t,
		      int64_t *ps, int64_t *pe)
{
	struct bizcal_hours hours[BIZCAL_DAY_MAX];
	int32_t day0 = bizcal_day_of(t);

	if (cal == NULL)
		return bizcal_cut(h, t, BIZCAL_NEVER, ps, pe);
	for (int32_t day = day0; day < day0 + BIZCAL_HORIZON_DAYS; day++) {
		int64_t base = bizcal_day_start(day);
		int n = bizcal_hours_of(cal, day, hours);

		for (int i = 0; i < n; i++) {
			int64_t a = base + hours[i].opens, b = base + hours[i].closes;

			if (b <= t)
				continue;
			if (bizcal_cut(h, a > t ? a : t, b, ps, pe))
				return 1;
		}
	}
	return 0;
}

static struct bizcal_holes bizcal_closures(const struct bizcal *cal)
{
	struct bizcal_holes h = { cal->closures, NULL, cal->nclosures, 0 };

	return h;
}

/* the instant secs of running time after t */
static int64_t bizcal_walk(const struct bizcal *cal, const struct bizcal_holes *h, int64_t t,
			   int64_t secs)
{
	int64_t s, e;

	if (secs <= 0)
		return t;
	for (;;) {
		if (!bizcal_seg(cal, h, t, &s, &e))
			return BIZCAL_NEVER;
		if (e == BIZCAL_NEVER || e - s >= secs)
			return s + secs;
		secs -= e - s;
		t = e;
	}
}

int bizcal_is_open(const struct bizcal *cal, int64_t t)
{
	struct bizcal_holes h = bizcal_closures(cal);
	int64_t s, e;

	return bizcal_seg(cal, &h, t, &s, &e) && s == t;
}

int64_t bizcal_next_open(const struct bizcal *cal, int64_t t)
{
	struct bizcal_holes h = bizcal_closures(cal);
	int64_t s, e;

	return bizcal_seg(cal, &h, t, &s, &e) ? s : BIZCAL_NEVER;
}

int64_t bizcal_add_business_seconds(const struct bizcal *cal, int64_t t, int64_t secs)
{
	struct bizcal_holes h = bizcal_closures(cal);

	return bizcal_walk(cal, &h, t, secs);
}

int64_t bizcal_business_seconds(const struct bizcal *cal, int64_t from, int64_t to)
{
	struct bizcal_holes h = bizcal_closures(cal);
	int64_t s, e, sum = 0;

	while (from < to && bizcal_seg(cal, &h, from, &s, &e) && s < to) {
		sum += (e < to ? e : to) - s;
		from = e;
	}
	return sum;
}

/* closing time of the day's last running piece, or -1 on a closed day */
static int64_t bizcal_day_end(const struct bizcal *cal, int32_t day)
{
	struct bizcal_hours hours[BIZCAL_DAY_MAX];
	struct bizcal_holes h = bizcal_closures(cal);
	int64_t base = bizcal_day_start(day), last = -1, s, e;
	int n = bizcal_hours_of(cal, day, hours);

	for (int i = 0; i < n; i++) {
		int64_t x = base + hours[i].opens;

		while (bizcal_cut(&h, x, base + hours[i].closes, &s, &e)) {
			last = e;
			x = e;
		}
	}
	return last;
}

int bizcal_is_business_day(const struct bizcal *cal, int32_t day)
{
	return bizcal_day_end(cal, day) >= 0;
}

int64_t bizcal_end_of_next_business_day(const struct bizcal *cal, int64_t t)
{
	int32_t day0 = bizcal_day_of(t);

	for (int32_t day = day0 + 1; day <= day0 + BIZCAL_HORIZON_DAYS; day++) {
		int64_t end = bizcal_day_end(cal, day);

		if (end >= 0)
			return end;
	}
	return BIZCAL_NEVER;
}

int64_t bizcal_next_business_day_at(const struct bizcal *cal, int64_t t, int tod)
{
	int32_t day0 = bizcal_day_of(t);

	for (int32_t day = day0 + 1; day <= day0 + BIZCAL_HORIZON_DAYS; day++)
		if (bizcal_day_end(cal, day) >= 0)
			return bizcal_day_start(day) + tod;
	return BIZCAL_NEVER;
}

int bizcal_due(const struct bizcal_policy *pol, const struct bizcal *cal, int64_t received,
	       const struct bizcal_range *pauses, size_t npauses, struct bizcal_due *out)
{
	struct bizcal_holes h = { NULL, pauses, 0, npauses };
	const struct bizcal *run = cal;
	int64_t allot = pol->target;

	if (pol->target < 0 || pol->warning < 0 || (cal == NULL && pol->mode != BIZCAL_WALL_CLOCK))
		return -1;
	switch (pol->mode) {
	case BIZCAL_WALL_CLOCK:
		run = NULL;
		break;
	case BIZCAL_BUSINESS_HOURS:
		break;
	case BIZCAL_NEXT_DAY_END: {
		int64_t end = bizcal_end_of_next_business_day(cal, received);

		if (end == BIZCAL_NEVER) {
			out->due = out->warning = BIZCAL_NEVER;
			return 0;
		}
		allot = bizcal_business_seconds(cal, received, end);
		break;
	}
	default:
		return -1;
	}
	if (run != NULL) {
		h.a = cal->closures;
		h.na = cal->nclosures;
	}
	out->due = bizcal_walk(run, &h, received, allot);
	out->warning = bizcal_walk(run, &h, received, allot > pol->warning ? allot - pol->warning : 0);
	return 0;
}
