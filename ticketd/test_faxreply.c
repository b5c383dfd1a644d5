/* faxreply: typed numbers to digits, and which numbers may be dialled. */
#include <string.h>

#include "faxreply.h"
#include "testlib.h"

static const char *digits(const char *typed)
{
	static char out[24];

	if (faxreply_digits(typed, out, sizeof out) < 0)
		return "(refused)";
	return out;
}

static void test_digits(void)
{
	CHECK_STR(digits("03-1234-5678"), "0312345678");
	CHECK_STR(digits("０３－１２３４－５６７８"), "0312345678");
	CHECK_STR(digits("(03) 1234 5678"), "0312345678");
	CHECK_STR(digits("０３ー１２３４ー５６７８"), "0312345678");
	CHECK_STR(digits("　045（123）4567"), "0451234567");
	CHECK_STR(digits(""), "");
	CHECK_STR(digits("03-1234-567８x"), "(refused)");
	CHECK_STR(digits("+81312345678"), "(refused)");
	CHECK_STR(digits("0312345678901234567890123"), "(refused)");   /* 25 digits */
	CHECK_STR(digits("03\xef\xbc"), "(refused)");                   /* cut UTF-8 */
}

static void test_plausible(void)
{
	CHECK_INT(faxreply_plausible("0312345678", ""), 1);
	CHECK_INT(faxreply_plausible("09012345678", ""), 1);
	CHECK_INT(faxreply_plausible("031234567", ""), 0);      /* 9 digits */
	CHECK_INT(faxreply_plausible("031234567890", ""), 0);   /* 12 */
	CHECK_INT(faxreply_plausible("3123456789", ""), 0);     /* no leading 0 */
	CHECK_INT(faxreply_plausible("", ""), 0);
	CHECK_INT(faxreply_plausible("81234", "8"), 1);         /* an extension */
	CHECK_INT(faxreply_plausible("8", "8"), 0);
	CHECK_INT(faxreply_plausible("81234", ""), 0);
	CHECK_INT(faxreply_plausible("0312345678", "8"), 1);
}

int main(void)
{
	RUN(test_digits);
	RUN(test_plausible);
	return TEST_END();
}
