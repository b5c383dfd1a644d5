/* Unit tests of holidays: the Cabinet Office list, checked (holidays.h).
 * The lists are the 2028 rows of tests/integration/test_holidays.py. */
#include <stdlib.h>
#include <string.h>

#include "bizcal.h"
#include "holidays.h"
#include "pool.h"
#include "testlib.h"

/* 2028 in UTF-8 with a byte order mark and CRLF, as Excel saves it */
static const char list_utf8[] =
	"\xef\xbb\xbf" "国民の祝日・休日月日,国民の祝日・休日名称\r\n"
	"2028/1/1,元日\r\n"
	"2028/1/10,成人の日\r\n"
	"2028/2/11,建国記念の日\r\n"
	"2028/2/23,天皇誕生日\r\n"
	"2028/3/21,春分の日\r\n"
	"2028/4/29,昭和の日\r\n"
	"2028/5/3,憲法記念日\r\n"
	"2028/5/4,みどりの日\r\n"
	"2028/5/5,こどもの日\r\n"
	"2028/7/17,海の日\r\n"
	"2028/8/11,山の日\r\n"
	"2028/9/18,敬老の日\r\n"
	"2028/9/22,秋分の日\r\n"
	"2028/10/9,スポーツの日\r\n"
	"2028/11/3,文化の日\r\n"
	"2028/11/23,勤労感謝の日\r\n";

/* the first nine rows in CP932, as the Cabinet Office publishes it */
static const char list_cp932[] =
	"\x8d" "\x91" "\x96" "\xaf" "\x82" "\xcc" "\x8f" "j\x93" "\xfa" "\x81" "E\x8b"
	"x\x93" "\xfa" "\x8c" "\x8e" "\x93" "\xfa" ",\x8d" "\x91" "\x96" "\xaf" "\x82"
	"\xcc" "\x8f" "j\x93" "\xfa" "\x81" "E\x8b" "x\x93" "\xfa" "\x96" "\xbc" "\x8f"
	"\xcc" "\r\n2028/1/1,\x8c" "\xb3" "\x93" "\xfa" "\r\n2028/1/10,\x90" "\xac" "\x90"
	"l\x82" "\xcc" "\x93" "\xfa" "\r\n2028/2/11,\x8c" "\x9a" "\x8d" "\x91" "\x8b"
	"L\x94" "O\x82" "\xcc" "\x93" "\xfa" "\r\n2028/2/23,\x93" "V\x8d" "c\x92" "a\x90"
	"\xb6" "\x93" "\xfa" "\r\n2028/3/21,\x8f" "t\x95" "\xaa" "\x82" "\xcc" "\x93" "\xfa"
	"\r\n2028/4/29,\x8f" "\xba" "\x98" "a\x82" "\xcc" "\x93" "\xfa" "\r\n2028/5/3,\x8c"
	"\x9b" "\x96" "@\x8b" "L\x94" "O\x93" "\xfa" "\r\n2028/5/4,\x82" "\xdd" "\x82"
	"\xc7" "\x82" "\xe8" "\x82" "\xcc" "\x93" "\xfa" "\r\n2028/5/5,\x82" "\xb1" "\x82"
	"\xc7" "\x82" "\xe0" "\x82" "\xcc" "\x93" "\xfa" "\r\n";

static const char header[] = "国民の祝日・休日月日,国民の祝日・休日名称";

/* parse s into l (a fresh pool each time); 0 or -1 */
static int parse(const char *s, size_t len, struct holidays_list *l, struct pool **p)
{
	memset(l, 0, sizeof(*l));
	*p = pool_create(16 * 1024 * 1024);
	return *p ? holidays_parse(*p, s, len, l) : -1;
}

static void done(struct holidays_list *l, struct pool *p)
{
	holidays_list_free(l);
	pool_destroy(p);
}

static void test_utf8(void)
{
	struct holidays_list l;
	struct pool *p;

	CHECK_INT(parse(list_utf8, sizeof(list_utf8) - 1, &l, &p), 0);
	CHECK_INT(l.bad, 0);
	CHECK_INT(l.n, 16);
	CHECK_INT(l.rows[0].day, bizcal_day(2028, 1, 1));
	CHECK_STR(l.rows[0].name, "元日");
	CHECK_INT(l.rows[0].line, 2);
	CHECK_INT(l.rows[15].day, bizcal_day(2028, 11, 23));
	CHECK_STR(l.rows[15].name, "勤労感謝の日");
	done(&l, p);
}

static void test_cp932(void)
{
	struct holidays_list l;
	struct pool *p;

	CHECK_INT(parse(list_cp932, sizeof(list_cp932) - 1, &l, &p), 0);
	CHECK_INT(l.bad, 0);
	CHECK_INT(l.n, 9);
	CHECK_STR(l.rows[4].name, "春分の日");
	CHECK_INT(l.rows[4].day, bizcal_day(2028, 3, 21));
	done(&l, p);
}

/* every bad line named with its number and reason, in the order found */
static void test_bad_lines(void)
{
	static const char s[] = "国民の祝日・休日月日,国民の祝日・休日名称\n2028/2/30,x\n2028/1/1,a\n2028/1/1,b\nabc\n2028/1/2,a\"b\n\n";
	struct holidays_list l;
	struct pool *p;

	CHECK_INT(parse(s, sizeof(s) - 1, &l, &p), 0);
	CHECK_INT(l.bad, 4);
	CHECK_INT(l.shown[0].line, 2);
	CHECK_STR(l.shown[0].why, "no such date (or before 1948, when the Holidays Act began)");
	CHECK_INT(l.shown[1].line, 5);
	CHECK_STR(l.shown[1].why, "no comma: not \"date,name\"");
	CHECK_INT(l.shown[2].line, 6);
	CHECK_STR(l.shown[2].why,
		  "a quote, a comma or a control character in the name (one date, one name)");
	CHECK_INT(l.shown[3].line, 4);
	CHECK_STR(l.shown[3].why, "the same date as line 3");
	done(&l, p);
}

static void test_part_of_a_year(void)
{
	static const char s[] = "国民の祝日・休日月日,国民の祝日・休日名称\n2028/1/1,a\n2028/1/10,b\n2028/2/11,c\n";
	struct holidays_list l;
	struct pool *p;

	CHECK_INT(parse(s, sizeof(s) - 1, &l, &p), 0);
	CHECK_INT(l.bad, 1);
	CHECK_INT(l.shown[0].line, 0);
	CHECK_STR(l.shown[0].why, "year 2028: 3 rows; a whole year has at least 9 (a part of a year"
				  " would remove its other holidays)");
	done(&l, p);
}

static void test_header_and_empty(void)
{
	static const char other[] = "date,name\n2028/1/1,a\n";
	struct holidays_list l;
	struct pool *p;

	CHECK_INT(parse(other, sizeof(other) - 1, &l, &p), 0);
	CHECK_INT(l.bad, 1);
	CHECK_INT(l.shown[0].line, 1);
	done(&l, p);
	CHECK_INT(parse(header, sizeof(header) - 1, &l, &p), 0);
	CHECK_INT(l.bad, 1);
	CHECK_STR(l.shown[0].why, "no holidays in the file");
	done(&l, p);
	CHECK_INT(parse("", 0, &l, &p), 0);
	CHECK(l.bad >= 1);
	done(&l, p);
}

/* every prefix of a good list parses without harm: refused, or a list of
 * at least nine rows (a cut inside the last row can still be a real date
 * and name), and the whole is good */
static void test_every_prefix(void)
{
	size_t len = sizeof(list_utf8) - 1;

	for (size_t n = 0; n <= len; n++) {
		struct holidays_list l;
		struct pool *p;

		CHECK_INT(parse(list_utf8, n, &l, &p), 0);
		CHECK(l.n <= 16);
		CHECK(l.bad > 0 || l.n >= 9);
		if (n == len)
			CHECK_INT(l.bad, 0);
		done(&l, p);
	}
}

static void test_too_large(void)
{
	char *big = malloc(HOLIDAYS_FILE_MAX + 1);
	struct holidays_list l;
	struct pool *p;

	CHECK(big != NULL);
	if (big == NULL)
		return;
	memset(big, 'x', HOLIDAYS_FILE_MAX + 1);
	CHECK_INT(parse(big, HOLIDAYS_FILE_MAX + 1, &l, &p), 0);
	CHECK_INT(l.bad, 1);
	CHECK_STR(l.shown[0].why, "larger than 4194304 bytes: not a holiday list");
	done(&l, p);
	free(big);
}

int main(void)
{
	RUN(test_utf8);
	RUN(test_cp932);
	RUN(test_bad_lines);
	RUN(test_part_of_a_year);
	RUN(test_header_and_empty);
	RUN(test_every_prefix);
	RUN(test_too_large);
	return TEST_END();
}
