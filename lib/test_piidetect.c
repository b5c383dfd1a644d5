/* piidetect: each shape found with its exact span, each look-alike
 * (dates, times, amounts, ticket numbers, counters) left alone.  A
 * finding is written "kind[text as typed]"; findings are joined by ' '. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "piidetect.h"
#include "pool.h"
#include "testlib.h"

/* the findings of s, rendered; "-" when the scan failed */
static const char *scan(const char *s)
{
	static char out[2048];
	struct piidetect_finding f[16];
	struct pool *p = pool_create(1u << 20);
	struct buf b;
	int n = piidetect_scan(p, s, strlen(s), f, 16);

	buf_init(&b, sizeof(out) - 1);
	if (n < 0)
		buf_append_str(&b, "-");
	for (int i = 0; i < n && i < 16; i++)
		buf_printf(&b, "%s%s[%.*s]", i ? " " : "", piidetect_kind_name(f[i].kind),
			   (int)(f[i].end - f[i].start), s + f[i].start);
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	buf_free(&b);
	pool_destroy(p);
	return out;
}

static void test_phone(void)
{
	CHECK_STR(scan("電話は03-1234-5678です"), "phone[03-1234-5678]");
	CHECK_STR(scan("携帯090-1234-5678まで"), "phone[090-1234-5678]");
	CHECK_STR(scan("0312345678"), "phone[0312345678]");
	CHECK_STR(scan("09012345678に折り返し"), "phone[09012345678]");
	CHECK_STR(scan("０３ー１２３４ー５６７８"), "phone[０３ー１２３４ー５６７８]");
	CHECK_STR(scan("０３－１２３４－５６７８"), "phone[０３－１２３４－５６７８]");
	CHECK_STR(scan("ﾃﾞﾝﾜ03ｰ1234ｰ5678"), "phone[03ｰ1234ｰ5678]");
	CHECK_STR(scan("(03)1234-5678"), "phone[(03)1234-5678]");
	CHECK_STR(scan("（03）1234‐5678"), "phone[（03）1234‐5678]");
	CHECK_STR(scan("03(3581)3111"), "phone[03(3581)3111]");
	CHECK_STR(scan("045-123-4567"), "phone[045-123-4567]");
	CHECK_STR(scan("0466-12-3456"), "phone[0466-12-3456]");
	CHECK_STR(scan("0120-123-456"), "phone[0120-123-456]");
	CHECK_STR(scan("0800-123-4567"), "phone[0800-123-4567]");
	CHECK_STR(scan("050-1234-5678"), "phone[050-1234-5678]");
	CHECK_STR(scan("070 1234 5678"), "phone[070 1234 5678]");
	CHECK_STR(scan("03 1234 5678"), "phone[03 1234 5678]");
	CHECK_STR(scan("03.1234.5678"), "phone[03.1234.5678]");
	CHECK_STR(scan("+81 3-1234-5678"), "phone[+81 3-1234-5678]");
	CHECK_STR(scan("+81-90-1234-5678"), "phone[+81-90-1234-5678]");
	CHECK_STR(scan("+81 (0)3 1234 5678"), "phone[+81 (0)3 1234 5678]");
	CHECK_STR(scan("＋８１３１２３４５６７８"), "phone[＋８１３１２３４５６７８]");
	CHECK_STR(scan("℡03-5555-0142"), "phone[03-5555-0142]");
	CHECK_STR(scan("TEL:03-5555-0142、FAX:03-5555-0143"),
		  "phone[03-5555-0142] phone[03-5555-0143]");
	/* a number inside a longer one is not taken apart */
	CHECK_STR(scan("03-1234-5678-9999"), "phone[03-1234-5678]");
}

static void test_phone_not(void)
{
	CHECK_STR(scan("2026-11-22に受付"), "");
	CHECK_STR(scan("10:30に電話あり"), "");
	CHECK_STR(scan("09:00-17:00"), "");
	CHECK_STR(scan("手数料は1,000円です"), "");
	CHECK_STR(scan("受付番号 12345 の件"), "");
	CHECK_STR(scan("#0000123456"), "");     /* 00: not a Japanese number */
	CHECK_STR(scan("0123456789012"), "");   /* 13 digits */
	CHECK_STR(scan("01234567890"), "");     /* 11 digits not 0X0 */
	CHECK_STR(scan("031234567"), "");       /* 9 digits */
	CHECK_STR(scan("10312345678"), "");     /* glued to a digit */
	CHECK_STR(scan("0.5%の増加"), "");
	CHECK_STR(scan("令和8年11月22日 午前10時30分"), "");
	CHECK_STR(scan("+1 212 555 0100"), ""); /* not Japan */
}

static void test_email(void)
{
	CHECK_STR(scan("taro@example.jp に返信"), "email[taro@example.jp]");
	CHECK_STR(scan("メールはtaro.yamada+city@mail.example.co.jpへ"),
		  "email[taro.yamada+city@mail.example.co.jp]");
	CHECK_STR(scan("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ"), "email[ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ]");
	CHECK_STR(scan("taro(at)example.jp"), "email[taro(at)example.jp]");
	CHECK_STR(scan("taro[AT]example.com."), "email[taro[AT]example.com]");
	CHECK_STR(scan("連絡先: 03-1234-5678 / a_b@x-y.org"),
		  "phone[03-1234-5678] email[a_b@x-y.org]");
	/* digits in a mail address stay part of it */
	CHECK_STR(scan("u0312345678@example.jp"), "email[u0312345678@example.jp]");
}

static void test_email_not(void)
{
	CHECK_STR(scan("@example.jp"), "");
	CHECK_STR(scan("taro@localhost"), "");
	CHECK_STR(scan("taro@example.1"), "");
	CHECK_STR(scan("単価@100円"), "");
	CHECK_STR(scan("(at)の表記"), "");
}

static void test_postal(void)
{
	CHECK_STR(scan("〒123-4567 へ送付"), "postal_code[〒123-4567]");
	CHECK_STR(scan("〒1234567"), "postal_code[〒1234567]");
	CHECK_STR(scan("〒 100-8977"), "postal_code[〒 100-8977]");
	CHECK_STR(scan("郵便番号:100-0013"), "postal_code[郵便番号:100-0013]");
	CHECK_STR(scan("１２３－４５６７"), "postal_code[１２３－４５６７]");
	CHECK_STR(scan("送付先123-4567"), "postal_code[123-4567]");
}

static void test_postal_not(void)
{
	CHECK_STR(scan("1234567"), "");        /* 7 digits without a mark */
	CHECK_STR(scan("123-45678"), "");
	CHECK_STR(scan("1123-4567"), "");
	CHECK_STR(scan("123-4567-8901"), "");
	CHECK_STR(scan("v1.123-4567"), "");
	CHECK_STR(scan("〒12-34567"), "");
}

static void test_address(void)
{
	CHECK_STR(scan("住所は東京都千代田区霞が関1-2-3です"),
		  "address[東京都千代田区霞が関1-2-3]");
	CHECK_STR(scan("霞が関一丁目2番3号"), "address[霞が関一丁目2番3号]");
	CHECK_STR(scan("千代田区霞が関１丁目２番３号"), "address[千代田区霞が関１丁目２番３号]");
	CHECK_STR(scan("港区三田二丁目3番"), "address[港区三田二丁目3番]");
	CHECK_STR(scan("大字下山123番地の4に在住"), "address[大字下山123番地の4]");
	CHECK_STR(scan("本町5番地"), "address[本町5番地]");
	CHECK_STR(scan("中町2番3号"), "address[中町2番3号]");
	CHECK_STR(scan("霞が関 1-2-3"), "address[霞が関 1-2-3]");
	CHECK_STR(scan("大阪府大阪市北区梅田2-5"), "address[大阪府大阪市北区梅田2-5]");
	CHECK_STR(scan("千代田区霞が関一丁目"), "address[千代田区霞が関一丁目]");
	CHECK_STR(scan("東京都港区六本木６－１０－１"), "address[東京都港区六本木６－１０－１]");
	CHECK_STR(scan("〒100-8977 東京都千代田区霞が関1-1-1"),
		  "postal_code[〒100-8977] address[東京都千代田区霞が関1-1-1]");
}

static void test_address_not(void)
{
	CHECK_STR(scan("1番窓口へご案内"), "");
	CHECK_STR(scan("3号館の2階"), "");
	CHECK_STR(scan("一番多い問い合わせ"), "");
	CHECK_STR(scan("四谷三丁目駅"), "");
	CHECK_STR(scan("申請日2026-11-22"), "");
	CHECK_STR(scan("第2-3回の会議"), "");
	CHECK_STR(scan("千代田区の窓口を案内した"), "");
	CHECK_STR(scan("東京都の制度について説明"), "");
	CHECK_STR(scan("区役所2階で受付"), "");
	CHECK_STR(scan("第1号議案"), "");
	CHECK_STR(scan("手順1-2-3"), "address[手順1-2-3]"); /* a known false alarm: kanji then N-N-N */
	CHECK_STR(scan("1-2-3"), "");           /* no place name before it */
	CHECK_STR(scan("ver.2-1-3"), "");
	CHECK_STR(scan("2-3日後に連絡"), "");
	CHECK_STR(scan("2026/11/22 10:30"), "");
	CHECK_STR(scan("10,000,000円"), "");
}

static void test_mixed(void)
{
	CHECK_STR(scan("山田様(03-5555-0142、yamada@example.jp、〒100-0013 東京都千代田区霞が関2-1-1)"),
		  "phone[03-5555-0142] email[yamada@example.jp] postal_code[〒100-0013] "
		  "address[東京都千代田区霞が関2-1-1]");
	CHECK_STR(scan("住民票の写しの郵送請求について手数料300円と返信用封筒を案内。"), "");
	CHECK_STR(scan(""), "");
	/* two addresses meeting inside one character NFKC expands (㏷ -> "pc"):
	 * one finding, never two overlapping ones (tests/fuzz/fuzz_piidetect) */
	CHECK_STR(scan("霞が関0-1-1 霞が関一丁目2番3㏷ 6番3号"),
		  "address[霞が関0-1-1] address[霞が関一丁目2番3㏷ 6番3号]");
}

/* offsets: bytes of the input and UTF-16 units (what a textarea counts) */
static void test_offsets(void)
{
	const char *s = "あ𠮷０３ー１２３４ー５６７８";
	struct piidetect_finding f[2];
	struct pool *p = pool_create(0);

	CHECK_INT(piidetect_scan(p, s, strlen(s), f, 2), 1);
	CHECK_INT(f[0].start, 7);        /* あ 3 bytes, 𠮷 4 bytes */
	CHECK_INT(f[0].end, strlen(s));
	CHECK_INT(f[0].u16_start, 3);    /* 𠮷 is a surrogate pair */
	CHECK_INT(f[0].u16_end, 15);
	/* half-width kana joined by NFKC (ｶﾞ -> ガ) keep their bytes */
	s = "ｶﾞ03-1234-5678";
	CHECK_INT(piidetect_scan(p, s, strlen(s), f, 2), 1);
	CHECK_INT(f[0].start, 6);
	CHECK_INT(f[0].u16_start, 2);
	pool_destroy(p);
}

static void test_limits(void)
{
	struct piidetect_finding f[2];
	struct pool *p = pool_create(0);
	char big[4000];
	size_t n = 0;

	CHECK_INT(piidetect_scan(p, "\xff", 1, f, 2), -1);       /* not UTF-8 */
	CHECK_INT(piidetect_scan(p, "a\0b", 3, f, 2), -1);       /* NUL */
	/* more findings than room: all counted, max written */
	while (n + 14 < sizeof(big)) {
		memcpy(big + n, "03-1234-5678, ", 14);
		n += 14;
	}
	CHECK_INT(piidetect_scan(p, big, n, f, 2), (int)(n / 14));
	CHECK_INT(f[1].start, 14);
	/* a long run of digits and dashes: no finding, no trouble */
	memset(big, '1', sizeof(big));
	for (size_t i = 1; i < sizeof(big); i += 2)
		big[i] = '-';
	CHECK_INT(piidetect_scan(p, big, sizeof(big), f, 2), 0);
	pool_destroy(p);
}

int main(void)
{
	RUN(test_phone);
	RUN(test_phone_not);
	RUN(test_email);
	RUN(test_email_not);
	RUN(test_postal);
	RUN(test_postal_not);
	RUN(test_address);
	RUN(test_address_not);
	RUN(test_mixed);
	RUN(test_offsets);
	RUN(test_limits);
	return TEST_END();
}
