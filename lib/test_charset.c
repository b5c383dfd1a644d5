/* Unit tests for charset: the Japanese tables, the U+FFFD callback, the
 * guesses for unlabelled text and the output limit. */
#include <stdio.h>
#include <string.h>

#include "charset.h"
#include "pool.h"
#include "testlib.h"

static struct pool *tp;

/* decode and return the text; *bad gets the undecodable count */
static const char *dec(const char *name, const char *in, size_t len, size_t *bad)
{
	struct charset_text t;

	if (charset_to_utf8(tp, name, in, len, 0, &t) < 0)
		return NULL;
	if (bad != NULL)
		*bad = t.undecodable;
	return t.s;
}

#define DEC(name, lit, bad) dec(name, lit, sizeof(lit) - 1, bad)

static void test_cp932_table(void)
{
	size_t bad = 99;

	/* ～ ① 髙 﨑 ㈱ \ ~ ＼ － ∥ ￠ ｱ: the CP932 mappings, not JIS X 0208's */
	CHECK_STR(DEC("Shift_JIS", "\x81\x60\x87\x40\xfb\xfc\xfa\xb1\x87\x8a\x5c\x7e\x81\x5f\x81\x7c"
				   "\x81\x61\x81\x91\xb1", &bad),
		  "～①髙﨑㈱\\~＼－∥￠ｱ");
	CHECK_INT(bad, 0);
	for (size_t i = 0; i < 6; i++) {
		static const char *labels[] = { "shift_jis", "x-sjis", "windows-31j", "CP932",
						 "MS_Kanji", "\"Shift-JIS\"" };
		CHECK_STR(DEC(labels[i], "\x81\x60\x87\x40", NULL), "～①");
	}
}

static void test_iso2022jp(void)
{
	size_t bad = 99;

	/* Outlook's CP50220: NEC row 13 (① ㈱) and IBM rows (髙 at 0x7C62) */
	CHECK_STR(DEC("ISO-2022-JP", "\x1b$B-!-j$\"|b\x1b(B abc", &bad), "①㈱あ髙 abc");
	CHECK_INT(bad, 0);
	CHECK_STR(DEC("cp50220", "\x1b$B-!\x1b(B", NULL), "①");
	CHECK_STR(DEC("iso-2022-jp-2", "\x1b$B$\"\x1b(B", NULL), "あ");
	/* half-width kana by ESC ( I and by SO/SI (CP50222), JIS X 0212 */
	CHECK_STR(DEC("ISO-2022-JP", "\x1b(I12\x1b(B", &bad), "ｱｲ");
	CHECK_INT(bad, 0);
	CHECK_STR(DEC("cp50222", "a\x0e\x31\x32\x0f" "b", &bad), "aｱｲb");
	CHECK_INT(bad, 0);
	CHECK_STR(DEC("ISO-2022-JP", "\x1b$(D\x30\x21\x1b(B", &bad), "丂");
	CHECK_INT(bad, 0);
	/* labelled ISO-2022-JP but really 8-bit Shift_JIS (no escape): guessed */
	CHECK_STR(DEC("iso-2022-jp", "\x82\xa0", &bad), "あ");
	CHECK_INT(bad, 0);
}

static void test_eucjp_utf8(void)
{
	size_t bad = 99;

	CHECK_STR(DEC("EUC-JP", "\xad\xa1\xa4\xa2\x8e\xb1\x8f\xb0\xa1", &bad), "①あｱ丂");
	CHECK_INT(bad, 0);
	CHECK_STR(DEC("UTF-8", "\xe7\xaa\x93\xe5\x8f\xa3", &bad), "窓口");
	CHECK_INT(bad, 0);
	CHECK_STR(DEC("iso-8859-1", "caf\xe9", &bad), "café");
	CHECK_INT(bad, 0);
	/* Latin-1 labels read as windows-1252, as mail clients do */
	CHECK_STR(DEC("ISO-8859-1", "\x93quoted\x94", &bad), "“quoted”");
	/* GB2312 as GBK: 0x8140 is GBK only */
	CHECK_STR(DEC("gb2312", "\x81\x40", &bad), "丂");
	CHECK_INT(bad, 0);
}

static void test_undecodable(void)
{
	size_t bad = 0;
	const char *s;

	/* 0xFF is no CP932 byte; 0x80 is no UTF-8 lead */
	s = DEC("Shift_JIS", "a\xff" "b", &bad);
	CHECK_STR(s, "a\xEF\xBF\xBD" "b");
	CHECK_INT(bad, 1);
	CHECK(s != NULL && strchr(s, '?') == NULL);
	s = DEC("utf-8", "x\x80y", &bad);
	CHECK_STR(s, "x\xEF\xBF\xBDy");
	CHECK_INT(bad, 1);
	/* a bad escape sequence in ISO-2022-JP */
	s = DEC("iso-2022-jp", "\x1b$Zab", &bad);
	CHECK(s != NULL && strstr(s, "\xEF\xBF\xBD") != NULL && strchr(s, '?') == NULL);
	CHECK(bad >= 1);
	/* a truncated double-byte character at the end */
	s = DEC("Shift_JIS", "\x82\xa0\x82", &bad);
	CHECK_STR(s, "あ\xEF\xBF\xBD");
	CHECK_INT(bad, 1);
	/* NUL cannot live in a C string: U+FFFD too */
	s = dec("us-ascii", "a\0b", 3, &bad);
	CHECK_STR(s, "a\xEF\xBF\xBD" "b");
	CHECK_INT(bad, 1);
	/* holes in the tables: CP932 0x8540, ISO-8859-8 0xA1 */
	s = DEC("Shift_JIS", "a\x85\x40", &bad);
	CHECK_STR(s, "a\xEF\xBF\xBD");
	CHECK_INT(bad, 1);
	s = DEC("iso-8859-8", "a\xa1", &bad);
	CHECK_STR(s, "a\xEF\xBF\xBD");
	CHECK_INT(bad, 1);
}

static void test_guess(void)
{
	size_t bad = 99;
	struct charset_text t;

	CHECK_STR(DEC(NULL, "plain", &bad), "plain");
	CHECK_STR(DEC("", "\xe3\x81\x82", &bad), "あ");
	CHECK_STR(DEC(NULL, "\x82\xa0\x81\x60", &bad), "あ～");
	CHECK_INT(bad, 0);
	CHECK_STR(DEC("x-unknown-charset", "\x82\xa0", &bad), "あ");
	CHECK_STR(DEC("us-ascii", "\xe3\x81\x82", &bad), "あ");
	CHECK_STR(DEC("us-ascii", "\x82\xa0", &bad), "あ");
	CHECK_STR(DEC(NULL, "\x1b$B$\"\x1b(B", &bad), "あ");
	CHECK_STR(DEC("us-ascii", "\x1b$B$\"\x1b(B", &bad), "あ");
	/* labelled Shift_JIS, really UTF-8 (undecodable as CP932): UTF-8 */
	CHECK_STR(DEC("Shift_JIS", "\xe7\xaa\x93\xe5\x8f\xa3\xe3\x81\xa7\xe3\x81\x99", &bad), "窓口です");
	CHECK_INT(bad, 0);
	/* but bytes that decode cleanly as CP932 stay CP932 (the label wins) */
	CHECK_STR(DEC("Shift_JIS", "\xe3\x81\x82\xe3\x81\x84", &bad), "縺ゅ＞");
	CHECK_INT(bad, 0);
	/* a label with ICU option syntax is no label */
	CHECK_STR(DEC("UTF-8,swaplfnl", "\xe3\x81\x82", &bad), "あ");
	charset_to_utf8(tp, "Shift_JIS", "\x82\xa0", 2, 0, &t);
	CHECK_STR(t.used, "CP932");
	charset_to_utf8(tp, "bogus", "\x82\xa0", 2, 0, &t);
	CHECK_STR(t.used, "CP932");
	CHECK_INT(charset_known("Shift_JIS"), 1);
	CHECK_INT(charset_known("koi8-r"), 1);
	CHECK_INT(charset_known("bogus"), 0);
	CHECK_INT(charset_known(NULL), 0);
}

static void test_is_utf8(void)
{
	CHECK_INT(charset_is_utf8("\xe3\x81\x82", 3), 1);
	CHECK_INT(charset_is_utf8("\xe3\x81", 2), 0);
	CHECK_INT(charset_is_utf8("\xc0\xaf", 2), 0);         /* overlong */
	CHECK_INT(charset_is_utf8("\xed\xa0\x80", 3), 0);     /* surrogate */
	CHECK_INT(charset_is_utf8("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
	CHECK_INT(charset_is_utf8("\xf0\x9f\x98\x80", 4), 1);
}

static void test_limit(void)
{
	struct charset_text t;

	/* あいう is 9 bytes: a limit of 7 keeps two whole characters */
	CHECK_INT(charset_to_utf8(tp, "utf-8", "あいう", 9, 7, &t), 0);
	CHECK_STR(t.s, "あい");
	CHECK_INT(t.truncated, 1);
	CHECK_INT(charset_to_utf8(tp, "Shift_JIS", "\x82\xa0\x82\xa2\x82\xa4", 6, 7, &t), 0);
	CHECK_STR(t.s, "あい");
	CHECK_INT(t.truncated, 1);
	CHECK_INT(charset_to_utf8(tp, "Shift_JIS", "\x82\xa0", 2, 3, &t), 0);
	CHECK_STR(t.s, "あ");
	CHECK_INT(t.truncated, 0);
}

static void test_big_and_pool_limit(void)
{
	static char big[300000];
	struct charset_text t;
	struct pool *small = pool_create(1000);

	/* a long CP932 text goes through several UTF-16 chunks */
	for (size_t i = 0; i + 1 < sizeof(big); i += 2) {
		big[i] = '\x82';
		big[i + 1] = '\xa0';
	}
	CHECK_INT(charset_to_utf8(tp, "cp932", big, sizeof(big), 0, &t), 0);
	CHECK_INT(t.len, sizeof(big) / 2 * 3);
	CHECK_INT(t.undecodable, 0);
	CHECK(memcmp(t.s + t.len - 3, "あ", 3) == 0);
	/* a pool too small: -1, an empty string, no crash */
	CHECK_INT(charset_to_utf8(small, "cp932", big, sizeof(big), 0, &t), -1);
	CHECK_STR(t.s, "");
	pool_destroy(small);
}

static void test_fold(void)
{
	/* 全角 ASCII, 半角カナ (with its voiced mark), case, circled digits,
	 * white space runs and controls, none at the ends */
	CHECK_STR(charset_fold(tp, "ＡＢＣ abc", strlen("ＡＢＣ abc"), 100), "abc abc");
	CHECK_STR(charset_fold(tp, "ｶﾞｲﾄﾞ", strlen("ｶﾞｲﾄﾞ"), 100), "ガイド");
	CHECK_STR(charset_fold(tp, " \t住民票\r\n\n　①番 ", strlen(" \t住民票\r\n\n　①番 "), 100), "住民票 1番");
	CHECK_STR(charset_fold(tp, "", strlen(""), 100), "");
	CHECK_STR(charset_fold(tp, "ＨＥＬＬＯ", strlen("ＨＥＬＬＯ"), 100), "hello");
	/* a cut at max_in inside a character: U+FFFD, never an error */
	CHECK_STR(charset_fold(tp, "保険", strlen("保険"), 4), "保\xef\xbf\xbd");
	/* ㈱ folds to (株): what a search for 株 must find */
	CHECK_STR(charset_fold(tp, "㈱窓口", strlen("㈱窓口"), 100), "(株)窓口");
}

int main(void)
{
	tp = pool_create(0);
	RUN(test_cp932_table);
	RUN(test_iso2022jp);
	RUN(test_eucjp_utf8);
	RUN(test_undecodable);
	RUN(test_guess);
	RUN(test_is_utf8);
	RUN(test_limit);
	RUN(test_big_and_pool_limit);
	RUN(test_fold);
	pool_destroy(tp);
	return TEST_END();
}
