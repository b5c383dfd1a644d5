/* numbers: which spans are numbers, of what kind, written how. */
#include <stdlib.h>

#include "numbers.h"
#include "testlib.h"

static void test_phone_fax(void)
{
	struct numbers_found f = { 0 };

	/* the number pass's reading wins over the first pass (0 read as 9) */
	CHECK_INT(numbers_add(&f, "電話 ", "03-5321-1111", "03-5321-1111", 10, 20, 300, 30), 1);
	CHECK_INT(numbers_add(&f, "電話 03-5321-1111 FAX ", "03-5388-1294", "03-5388-1234", 400,
			      20, 300, 30), 1);
	CHECK_INT(numbers_add(&f, "携帯 ", "０９０－１２３４－５６７８", NULL, 0, 60, 300, 30), 1);
	CHECK_INT(numbers_add(&f, "ＦＡＸ：", "03(5555)0000", "03(5555)0000", 0, 90, 300, 30), 1);
	CHECK_INT(f.n, 4);
	CHECK_STR(numbers_kind_name(f.c[0].kind), "phone");
	CHECK_STR(f.c[0].value, "03-5321-1111");
	CHECK_STR(numbers_kind_name(f.c[1].kind), "fax");
	CHECK_STR(f.c[1].value, "03-5388-1234");
	CHECK_STR(f.c[1].first, "03-5388-1294");
	CHECK_INT(f.c[1].x, 400);
	CHECK_STR(numbers_kind_name(f.c[2].kind), "phone");
	CHECK_STR(f.c[2].value, "090-1234-5678");
	CHECK_STR(numbers_kind_name(f.c[3].kind), "fax");
	CHECK_STR(f.c[3].value, "03-5555-0000");
	/* the same number again on the page: once */
	CHECK_INT(numbers_add(&f, "", "03-5321-1111", NULL, 0, 0, 1, 1), 0);
	/* not numbers: too few or too many digits, not starting with 0, a date */
	CHECK_INT(numbers_add(&f, "", "12345", NULL, 0, 0, 1, 1), 0);
	CHECK_INT(numbers_add(&f, "", "1234-567-890", NULL, 0, 0, 1, 1), 0);
	CHECK_INT(numbers_add(&f, "", "2026-11-22", NULL, 0, 0, 1, 1), 0);
	CHECK_INT(numbers_add(&f, "", "03-1234-5678-9012", NULL, 0, 0, 1, 1), 0);
	CHECK_INT(f.n, 4);
	/* eleven digits only for 0X0 and 0800 numbers */
	CHECK_INT(numbers_add(&f, "FAX ", "03-5253-21123", "03-5253-21123", 0, 0, 1, 1), 0);
	CHECK_INT(numbers_add(&f, "", "0800-123-4567", NULL, 0, 0, 1, 1), 1);
	CHECK_STR(f.c[4].value, "0800-123-4567");
	/* the number pass dropped the first digit, which the first pass read
	 * as 9 (a slashed 0): put back, since every number begins with 0 */
	CHECK_INT(numbers_add(&f, "電話", "93-5174-1542", "3-5174-1542", 0, 0, 1, 1), 1);
	CHECK_STR(f.c[5].value, "03-5174-1542");
	/* but not when the first pass saw another digit count */
	CHECK_INT(numbers_add(&f, "電話", "3-5174-154", "3-5174-1542", 0, 0, 1, 1), 0);
	CHECK_INT(f.n, 6);
	/* both passes read a slashed 0 at the start as 9: a labelled number
	 * is mended, an unlabelled one is no phone number */
	CHECK_INT(numbers_add(&f, "携帯", "999-2490-1390", "990-2400-1300", 0, 0, 1, 1), 1);
	CHECK_STR(f.c[6].value, "090-2400-1300");
	CHECK_INT(numbers_add(&f, "受付番号", "9876-543-210", "9876-543-210", 0, 0, 1, 1), 0);
	CHECK_INT(f.n, 7);
	numbers_free(&f);
}

static void test_postal(void)
{
	struct numbers_found f = { 0 };

	CHECK_INT(numbers_add(&f, "住所：〒", "160-0023", "160-0023", 0, 0, 10, 10), 1);
	CHECK_INT(numbers_add(&f, "〒", "１６３８００１", NULL, 0, 0, 10, 10), 1);
	/* 7 digits grouped 3-4 without a label is a postal code; 4-3 is not */
	CHECK_INT(numbers_add(&f, "", "100-0001", NULL, 0, 0, 10, 10), 1);
	CHECK_INT(numbers_add(&f, "", "1000-001", NULL, 0, 0, 10, 10), 0);
	/* a phone number after 〒 on the same line is still a phone number
	 * when a nearer label says so */
	CHECK_INT(numbers_add(&f, "〒160-0023 TEL ", "03-1111-2222", NULL, 0, 0, 10, 10), 1);
	CHECK_INT(f.n, 4);
	CHECK_STR(f.c[0].value, "〒160-0023");
	CHECK_STR(f.c[1].value, "〒163-8001");
	CHECK_STR(f.c[2].value, "〒100-0001");
	CHECK_STR(numbers_kind_name(f.c[3].kind), "phone");
	CHECK_STR(f.c[3].value, "03-1111-2222");
	numbers_free(&f);
}

static void test_mail(void)
{
	struct numbers_found f = { 0 };

	CHECK_INT(numbers_mail(&f, "メール：taro.yamada@example.co.jp まで", 5, 6, 7, 8), 1);
	CHECK_INT(numbers_mail(&f, "ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ", 0, 0, 1, 1), 1);
	CHECK_INT(numbers_mail(&f, "spaced hanako . sato @ example . jp", 0, 0, 1, 1), 1);
	CHECK_INT(numbers_mail(&f, "no address @ here, a@b, x@.jp, y@z.", 0, 0, 1, 1), 0);
	CHECK_INT(f.n, 3);
	CHECK_STR(f.c[0].value, "taro.yamada@example.co.jp");
	CHECK_INT(f.c[0].y, 6);
	CHECK_STR(f.c[1].value, "hanako@example.jp");
	CHECK_STR(f.c[2].value, "hanako.sato@example.jp");
	numbers_free(&f);
}

static void test_digitlike(void)
{
	CHECK(numbers_digitlike('7'));
	CHECK(numbers_digitlike(0xFF17)); /* ７ */
	CHECK(numbers_digitlike(0x30FC)); /* ー */
	CHECK(numbers_digitlike('('));
	CHECK(!numbers_digitlike('O'));
	CHECK(!numbers_digitlike(0x4E00)); /* 一 */
	CHECK(numbers_onelike(0x3011)); /* 】 */
	CHECK(!numbers_onelike(0x6771)); /* 東 */
}

static void test_kuchi(void)
{
	char a[] = "窓ロセンター御中、人ロ。東ロータリー、区役所ロビー、ロシア、ロ座";
	char b[] = "ロ";

	numbers_mend_kuchi(a);
	CHECK_STR(a, "窓口センター御中、人口。東ロータリー、区役所ロビー、ロシア、口座");
	numbers_mend_kuchi(b);
	CHECK_STR(b, "ロ");
}

static void test_bounded(void)
{
	struct numbers_found f = { 0 };
	char v[16];

	for (int i = 0; i < 100; i++) {
		snprintf(v, sizeof(v), "03-1111-%04d", i);
		numbers_add(&f, "", v, NULL, 0, 0, 1, 1);
	}
	CHECK_INT(f.n, NUMBERS_MAX);
	numbers_free(&f);
}

int main(void)
{
	RUN(test_phone_fax);
	RUN(test_postal);
	RUN(test_mail);
	RUN(test_digitlike);
	RUN(test_kuchi);
	RUN(test_bounded);
	return TEST_END();
}
