/* Unit tests of the reminders' schedule (remind.c) at exact instants, on
 * the ward's calendar (Mon-Fri 8:30-17:15, national holidays, 12/29-1/3)
 * and a department opening late. */
#include <stdio.h>

#include "bizcal.h"
#include "remind.h"
#include "testlib.h"

static struct remind_conf conf = { 36000, 1, 1, 3, 10, 100, NULL };

/* the ward: Mon-Fri 8:30-17:15; 勤労感謝の日 2026-11-23, 元日 2027-01-01, 年末年始 */
static struct bizcal *ward(int opens)
{
	struct bizcal *cal = bizcal_new();

	for (int w = 1; w <= 5; w++)
		bizcal_add_hours(cal, w, opens, 17 * 3600 + 15 * 60);
	bizcal_add_holiday(cal, bizcal_day(2026, 11, 23));
	bizcal_add_holiday(cal, bizcal_day(2027, 1, 1));
	bizcal_add_annual(cal, 12, 29, 1, 3);
	return cal;
}

#define AT(y, mo, d, h, mi) bizcal_time(y, mo, d, h, mi, 0)

static void test_remind_parse_tod(void)
{
	CHECK_INT(remind_parse_tod("10:00"), 36000);
	CHECK_INT(remind_parse_tod("9:05"), 32700);
	CHECK_INT(remind_parse_tod("00:00"), 0);
	CHECK_INT(remind_parse_tod("23:59"), 86340);
	CHECK_INT(remind_parse_tod("24:00"), -1);
	CHECK_INT(remind_parse_tod("10:60"), -1);
	CHECK_INT(remind_parse_tod("10:0"), -1);
	CHECK_INT(remind_parse_tod("10"), -1);
	CHECK_INT(remind_parse_tod(""), -1);
	CHECK_INT(remind_parse_tod("-1:00"), -1);
	CHECK_INT(remind_parse_tod("100:00"), -1);
	CHECK_INT(remind_parse_tod("10:00 "), -1);
}

/* Friday 15:00 before a holiday Monday: the first reminder Tuesday 10:00 */
static void test_remind_first_over_holiday(void)
{
	struct bizcal *cal = ward(8 * 3600 + 30 * 60);
	struct remind_conf c = conf;

	CHECK_INT(remind_first(cal, AT(2026, 11, 20, 15, 0), &c), AT(2026, 11, 24, 10, 0));
	/* sent before 10:00 on a business day still waits for the next one */
	CHECK_INT(remind_first(cal, AT(2026, 11, 24, 9, 0), &c), AT(2026, 11, 25, 10, 0));
	/* sent on a Saturday: Tuesday (Monday is the holiday) */
	CHECK_INT(remind_first(cal, AT(2026, 11, 21, 11, 0), &c), AT(2026, 11, 24, 10, 0));
	c.first_days = 2;
	CHECK_INT(remind_first(cal, AT(2026, 11, 20, 15, 0), &c), AT(2026, 11, 25, 10, 0));
	c.max = 0;
	CHECK_INT(remind_first(cal, AT(2026, 11, 20, 15, 0), &c), BIZCAL_NEVER);
	bizcal_free(cal);
}

/* 年末年始 and 元日: sent Monday 12/28 → Monday 2027-01-04 */
static void test_remind_first_new_year(void)
{
	struct bizcal *cal = ward(8 * 3600 + 30 * 60);

	CHECK_INT(remind_first(cal, AT(2026, 12, 28, 16, 0), &conf), AT(2027, 1, 4, 10, 0));
	CHECK_INT(remind_next(cal, AT(2026, 12, 28, 10, 0), &conf), AT(2027, 1, 4, 10, 0));
	bizcal_free(cal);
}

/* a department opening at 10:30 gets its reminder at its opening */
static void test_remind_late_opening(void)
{
	struct bizcal *cal = ward(10 * 3600 + 30 * 60);

	CHECK_INT(remind_first(cal, AT(2026, 11, 20, 15, 0), &conf), AT(2026, 11, 24, 10, 30));
	CHECK_INT(remind_next(cal, AT(2026, 11, 24, 10, 30), &conf), AT(2026, 11, 25, 10, 30));
	bizcal_free(cal);
}

static void test_remind_next(void)
{
	struct bizcal *cal = ward(8 * 3600 + 30 * 60);
	struct remind_conf c = conf;

	/* daily; Friday's next is Monday, never the same day twice */
	CHECK_INT(remind_next(cal, AT(2026, 11, 24, 10, 0), &c), AT(2026, 11, 25, 10, 0));
	CHECK_INT(remind_next(cal, AT(2026, 11, 27, 10, 0), &c), AT(2026, 11, 30, 10, 0));
	CHECK_INT(remind_next(cal, AT(2026, 11, 24, 9, 0), &c), AT(2026, 11, 25, 10, 0));
	/* a catch-up at 16:00 Thursday: next Friday 10:00, not one per missed day */
	CHECK_INT(remind_next(cal, AT(2026, 11, 26, 16, 0), &c), AT(2026, 11, 27, 10, 0));
	c.every_days = 2;
	CHECK_INT(remind_next(cal, AT(2026, 11, 26, 10, 0), &c), AT(2026, 11, 30, 10, 0));
	bizcal_free(cal);
}

/* a due reminder found with the calendar closed waits for reminder_at of a business day */
static void test_remind_at_or_after(void)
{
	struct bizcal *cal = ward(8 * 3600 + 30 * 60);

	CHECK_INT(remind_at_or_after(cal, AT(2026, 11, 21, 12, 0), &conf), AT(2026, 11, 24, 10, 0));
	CHECK_INT(remind_at_or_after(cal, AT(2026, 11, 24, 7, 0), &conf), AT(2026, 11, 24, 10, 0));
	CHECK_INT(remind_at_or_after(cal, AT(2026, 11, 24, 17, 30), &conf), AT(2026, 11, 25, 10, 0));
	CHECK_INT(remind_at_or_after(cal, AT(2026, 12, 29, 10, 0), &conf), AT(2027, 1, 4, 10, 0));
	bizcal_free(cal);
}

/* a calendar that never opens: never */
static void test_remind_never(void)
{
	struct bizcal *cal = bizcal_new();

	CHECK_INT(remind_first(cal, AT(2026, 11, 20, 15, 0), &conf), BIZCAL_NEVER);
	CHECK_INT(remind_next(cal, AT(2026, 11, 20, 15, 0), &conf), BIZCAL_NEVER);
	CHECK_INT(remind_at_or_after(cal, AT(2026, 11, 20, 15, 0), &conf), BIZCAL_NEVER);
	bizcal_free(cal);
}

static void test_remind_template_check(void)
{
	char buf[100], text[70000];
	FILE *f = fopen(MDG_SRCDIR "/templates/reminder/reminder.txt", "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f != NULL)
		fclose(f);
	text[n] = '\0';
	CHECK(n > 100);
	CHECK(remind_template_check(text, buf, sizeof(buf)) == NULL);
	CHECK(remind_template_check("{{ ticket.id }} {{reminder.business_days}}", buf, sizeof(buf)) ==
	      NULL);
	CHECK_STR(remind_template_check("{{ticket.id}} {{citizen.phone}}", buf, sizeof(buf)),
		  "unknown variable {{citizen.phone}}");
	CHECK_STR(remind_template_check("{{ticket.id", buf, sizeof(buf)), "a {{ without its }}");
	CHECK(remind_template_check("no variables } { at all", buf, sizeof(buf)) == NULL);
}

int main(void)
{
	RUN(test_remind_parse_tod);
	RUN(test_remind_first_over_holiday);
	RUN(test_remind_first_new_year);
	RUN(test_remind_late_opening);
	RUN(test_remind_next);
	RUN(test_remind_at_or_after);
	RUN(test_remind_never);
	RUN(test_remind_template_check);
	return TEST_END();
}
