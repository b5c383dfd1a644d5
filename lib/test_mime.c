/* Unit tests for mime (and its pieces mime_header, mime_html): Japanese
 * headers and bodies as Japanese mailers write them, attachments byte for
 * byte, the body choice, and hostile input that must come back quickly
 * with a state and notes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mime.h"
#include "mime_header.h"
#include "mime_html.h"
#include "pool.h"
#include "testlib.h"

static struct pool *tp;

static struct mime_mail parse(const char *raw, size_t len)
{
	struct mime_mail m;
	struct mime_limits lim;

	mime_limits_default(&lim);
	CHECK_INT(mime_parse(tp, raw, len, &lim, &m), 0);
	return m;
}

#define PARSE(lit) parse(lit, sizeof(lit) - 1)

/* CPU seconds of one parse of a hostile input (printed with MDG_TEST_TIMES set) */
static double parse_timed(const char *raw, size_t len, struct mime_mail *m)
{
	clock_t t0 = clock();
	double s;

	mime_parse(tp, raw, len, NULL, m);
	s = (double)(clock() - t0) / CLOCKS_PER_SEC;
	if (getenv("MDG_TEST_TIMES") != NULL)
		printf("  %.3f s CPU for %zu bytes\n", s, len);
	return s;
}

/* ---- headers ---- */

static void test_subject_cp50220(void)
{
	/* Outlook: ISO-2022-JP carrying NEC row 13 (①, ㈱); glibc gives "??" */
	struct mime_mail m = PARSE("Subject: =?ISO-2022-JP?B?GyRCLSEtaiQqQ04kaSQ7GyhC?=\r\n"
				   "From: a@example.jp\r\n\r\nbody\r\n");

	CHECK_STR(m.subject, "①㈱お知らせ");
	CHECK_INT(m.undecodable, 0);
	CHECK_INT(m.state, MIME_OK);
	CHECK(m.notes == NULL);
}

static void test_subject_split_words(void)
{
	/* 日本語の件名 in UTF-8 with 本 cut after its first byte */
	struct mime_mail m = PARSE("Subject: =?UTF-8?B?5pel5g==?=\r\n =?UTF-8?B?nKzoqp7jga7ku7blkI0=?=\r\n"
				   "\r\nx");

	CHECK_STR(m.subject, "日本語の件名");
	CHECK_INT(m.undecodable, 0);
	/* ISO-2022-JP cut inside a two-byte character, no escape repeated */
	m = PARSE("Subject: Re: =?iso-2022-jp?B?GyRCQWs4?= =?iso-2022-jp?B?fSRHJDkbKEI=?= (2)\r\n\r\n");
	CHECK_STR(m.subject, "Re: 窓口です (2)");
	/* different charsets side by side: each word on its own */
	m = PARSE("Subject: =?utf-8?q?caf=C3=A9?= =?iso-8859-1?q?_cr=E8me?=\r\n\r\n");
	CHECK_STR(m.subject, "café crème");
}

static void test_subject_q_and_raw(void)
{
	struct mime_mail m = PARSE("Subject: =?UTF-8?Q?=E4=BD=8F=E6=B0=91=E7=A5=A8_no_kudasai?=\r\n\r\n");

	CHECK_STR(m.subject, "住民票 no kudasai");
	/* raw 8-bit header bytes: UTF-8 and Shift_JIS */
	m = PARSE("Subject: \xe7\xaa\x93\xe5\x8f\xa3 test\r\n\r\n");
	CHECK_STR(m.subject, "窓口 test");
	m = PARSE("Subject: \x91\x8b\x8c\xfb\x82\xd6\r\n\r\n");
	CHECK_STR(m.subject, "窓口へ");
	/* raw ISO-2022-JP (7-bit escapes, no encoded word), old mailers */
	m = PARSE("Subject: \x1b$BAk8}\x1b(B\r\n\r\n");
	CHECK_STR(m.subject, "窓口");
	/* "=?" that starts no word stays as it is; a bad charset is guessed */
	m = PARSE("Subject: a =? b ?= c =?x?B?5pel5pys?=\r\n\r\n");
	CHECK_STR(m.subject, "a =? b ?= c 日本");
	CHECK_INT(m.undecodable, 0);
}

static void test_addresses(void)
{
	struct mime_mail m = PARSE(
		"From: =?ISO-2022-JP?B?GyRCO1RMMUJATzobKEI=?= <shimin@example.jp>\r\n"
		"To: \"Tanaka, Taro\" <taro@example.jp>, hanako@example.jp (Hanako),\r\n"
		" =?UTF-8?B?5bGx55Sw?= <yamada@example.jp>\r\n"
		"Cc: undisclosed-recipients:;\r\n"
		"Reply-To: Group: a@example.jp, b@example.jp;\r\n"
		"\r\nx");

	CHECK_STR(m.from_name, "市民太郎");
	CHECK_STR(m.from_addr, "shimin@example.jp");
	CHECK_STR(m.to, "Tanaka, Taro <taro@example.jp>, hanako@example.jp, 山田 <yamada@example.jp>");
	CHECK_STR(m.cc, "");
	CHECK_STR(m.reply_to, "a@example.jp, b@example.jp");
	/* libetpan cannot read this one: the simple splitter does */
	m = PARSE("From: Broken Name <broken@example.jp\r\nTo: <a@b>, ,<c@d>\r\n\r\n");
	CHECK_STR(m.from_name, "Broken Name");
	CHECK_STR(m.from_addr, "broken@example.jp");
	CHECK_STR(m.to, "a@b, c@d");
	/* a raw Shift_JIS display name, and one whose 表 ends in 0x5C */
	m = PARSE("From: \"\x95\x5c \x8e\x73\x96\xf0\x8f\x8a\" <hyo@example.jp>\r\n\r\n");
	CHECK_STR(m.from_name, "表 市役所");
	CHECK_STR(m.from_addr, "hyo@example.jp");
	/* comments nested past the limit never reach libetpan's recursion */
	m = PARSE("From: a@b ((((((((((((((((((((((((((((((((((((((((x))))\r\n\r\n");
	CHECK_STR(m.from_addr, "a@b");
}

static void test_ids(void)
{
	struct mime_mail m = PARSE("Message-ID: <abc.123@example.jp>\r\n"
				   "In-Reply-To: <p1@x> <p2@x>\r\n"
				   "References: <r1@x>\r\n <r2@x> junk <r3@x>\r\n\r\n");

	CHECK_STR(m.message_id, "abc.123@example.jp");
	CHECK_STR(m.in_reply_to, "p1@x");
	CHECK_STR(m.references, "r1@x r2@x r3@x");
	m = PARSE("Message-Id: bare-id@example.jp\r\nSubject: x\r\n\r\n");
	CHECK_STR(m.message_id, "bare-id@example.jp");
	CHECK(m.in_reply_to == NULL);
	CHECK(m.references == NULL);
}

static int64_t date_of(const char *s)
{
	int64_t us = -1;

	if (mime_header_date(s, strlen(s), &us) < 0)
		return -1;
	return us;
}

static void test_dates(void)
{
	/* 2024-01-05 01:02:03 UTC */
	const int64_t t = INT64_C(1704416523) * 1000000;
	struct mime_mail m;

	CHECK_INT(date_of("Fri, 05 Jan 2024 10:02:03 +0900"), t);
	CHECK_INT(date_of("Fri, 5 Jan 2024 10:02:03 +0900 (JST)"), t);
	CHECK_INT(date_of("5 Jan 2024 10:02:03 JST"), t);
	CHECK_INT(date_of("Fri, 05 Jan 24 01:02:03 GMT"), t);
	CHECK_INT(date_of("Friday, 05-Jan-2024 01:02:03 UT"), t);
	CHECK_INT(date_of("Thu, 04 Jan 2024 20:02:03 -0500"), t);
	CHECK_INT(date_of("Thu, 04 Jan 2024 17:02:03 PST"), t);
	CHECK_INT(date_of("Fri Jan  5 01:02:03 2024"), t);         /* asctime */
	CHECK_INT(date_of("2024/01/05 10:02:03 +09:00"), t);       /* Japanese mailers */
	CHECK_INT(date_of("Fri, 05 Jan 2024 01:02:03 Z"), t);
	CHECK_INT(date_of("Fri, 5 Jan 2024 1:2:3 +0000"), t);
	CHECK_INT(date_of("05 Jan 1999 00:00:00 +0000"), INT64_C(915494400) * 1000000);
	CHECK_INT(date_of("05 Jan 99 00:00:00 +0000"), INT64_C(915494400) * 1000000);
	CHECK_INT(date_of("05 Jan 099 00:00:00 +0000"), INT64_C(915494400) * 1000000);
	CHECK_INT(date_of("29 Feb 2024 00:00:00 +0000"), INT64_C(1709164800) * 1000000);
	CHECK_INT(date_of("30 Feb 2024 00:00:00 +0000"), -1);
	CHECK_INT(date_of("Fri, 05 Jan 2024 25:00:00 +0000"), -1);
	CHECK_INT(date_of("yesterday"), -1);
	CHECK_INT(date_of(""), -1);
	m = PARSE("Date: Fri, 05 Jan 2024 10:02:03 +0900\r\n\r\n");
	CHECK_STR(m.date_raw, "Fri, 05 Jan 2024 10:02:03 +0900");
	CHECK_INT(m.date_us, t);
	m = PARSE("Date: someday\r\n\r\n");
	CHECK_STR(m.date_raw, "someday");
	CHECK_INT(m.date_us, 0);
	m = PARSE("Subject: no date\r\n\r\n");
	CHECK(m.date_raw == NULL);
	CHECK_INT(m.date_us, 0);
}

/* ---- bodies ---- */

static void test_body_charsets(void)
{
	struct mime_mail m;

	/* CP932 labelled Shift_JIS: ～ is U+FF5E, ① decodes */
	m = PARSE("Content-Type: text/plain; charset=Shift_JIS\r\n\r\n"
		  "\x81\x60\x87\x40\x82\xa8\x96\xe2\x82\xa2\x8d\x87\x82\xed\x82\xb9\r\n");
	CHECK_STR(m.body_text, "～①お問い合わせ\n");
	CHECK_INT(m.undecodable, 0);
	m = PARSE("Content-Type: text/plain; charset=\"EUC-JP\"\r\n\r\n"
		  "\xbd\xbb\xcc\xb1\xc9\xbc\xa4\xce\xbc\xcc\xa4\xb7");
	CHECK_STR(m.body_text, "住民票の写し");
	m = PARSE("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		  "5L2P5rCR56Wo44Gu5YaZ44GXDQrkuozooYznm64=\r\n");
	CHECK_STR(m.body_text, "住民票の写し\n二行目");
	m = PARSE("Content-Type: text/plain; charset=iso-2022-jp\r\n\r\n"
		  "\x1b$B-!\x1b(B abc\r\n");
	CHECK_STR(m.body_text, "① abc\n");
	/* quoted-printable, soft breaks with trailing blanks, a lone "=" */
	m = PARSE("Content-Type: text/plain; charset=utf-8\r\n"
		  "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		  "=E7=AA=93=E5=8F=A3 soft=\r\nbreak=  \r\n1+1=2 =ZZ\r\n");
	CHECK_STR(m.body_text, "窓口 softbreak1+1=2 =ZZ\n");
	/* no charset, 8-bit Shift_JIS: guessed as CP932 */
	m = PARSE("Subject: x\r\n\r\n\x82\xa0\x82\xa2");
	CHECK_STR(m.body_text, "あい");
	CHECK_INT(m.undecodable, 0);
}

static void test_flowed(void)
{
	struct mime_mail m = PARSE(
		"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\r\n\r\n"
		"\xe3\x81\x93\xe3\x82\x8c\xe3\x81\xaf \r\n\xe4\xb8\x80\xe8\xa1\x8c\r\n"
		">> quoted \r\n>>line\r\n>  stuffed\r\n-- \r\nsig\r\n");

	CHECK_STR(m.body_text, "これは一行\n>> quotedline\n>  stuffed\n-- \nsig\n");
	m = PARSE("Content-Type: text/plain; format=flowed\r\n\r\n"
		  "one long \r\nline\r\n From stuffed\r\n\r\nnext para\r\n");
	CHECK_STR(m.body_text, "one long line\nFrom stuffed\n\nnext para\n");
}

static void test_undecodable(void)
{
	/* 0xFF is no Shift_JIS byte: U+FFFD, flagged, and never '?' */
	struct mime_mail m = PARSE("Subject: x\r\nContent-Type: text/plain; charset=Shift_JIS\r\n\r\n"
				   "\x82\xa0\xff\x82\xa2");

	CHECK_STR(m.body_text, "あ\xEF\xBF\xBDい");
	CHECK_INT(m.undecodable, 1);
	CHECK(strchr(m.body_text, '?') == NULL);
	CHECK_INT(m.state, MIME_OK);
	m = PARSE("Subject: =?UTF-8?B?/w==?=\r\n\r\nok");
	CHECK_STR(m.subject, "\xEF\xBF\xBD");
	CHECK_INT(m.undecodable, 1);
}

static void test_alternative(void)
{
	struct mime_mail m = PARSE(
		"Subject: alt\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/alternative; boundary=\"==b1\"\r\n\r\n"
		"preamble\r\n--==b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		"plain text\r\n--==b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
		"<p>html text</p>\r\n--==b1--\r\nepilogue\r\n");

	CHECK_STR(m.body_text, "plain text");
	CHECK_STR(m.body_html, "<p>html text</p>");
	CHECK_INT(m.natt, 0);
	CHECK_INT(m.state, MIME_OK);
	/* html first, plain second, nested in related with an inline image */
	m = PARSE("Content-Type: multipart/mixed; boundary=o\r\n\r\n"
		  "--o\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n"
		  "--a\r\nContent-Type: multipart/related; boundary=r\r\n\r\n"
		  "--r\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:img1@x\">hi\r\n"
		  "--r\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n--r--\r\n"
		  "--a\r\nContent-Type: text/plain\r\n\r\nthe plain one\r\n--a--\r\n"
		  "--o\r\nContent-Type: text/plain; name=\"note.txt\"\r\n\r\nan attached note\r\n"
		  "--o--\r\n");
	CHECK_STR(m.body_text, "the plain one");
	CHECK_STR(m.body_html, "<img src=\"cid:img1@x\">hi");
	CHECK_INT(m.natt, 2);
	if (m.natt == 2) {
		CHECK_STR(m.att[0].content_type, "image/png");
		CHECK_STR(m.att[0].content_id, "img1@x");
		CHECK_STR(m.att[0].filename, "");
		CHECK_INT(m.att[0].is_inline, 1);
		CHECK_INT(m.att[0].size, 4);
		CHECK(memcmp(m.att[0].data, "\x89PNG", 4) == 0);
		CHECK_STR(m.att[1].filename, "note.txt");
		CHECK_INT(m.att[1].is_inline, 0);
		CHECK_INT(m.att[1].size, 16);
		CHECK(memcmp(m.att[1].data, "an attached note", 16) == 0);
	}
}

static void test_html_only(void)
{
	struct mime_mail m = PARSE(
		"Content-Type: text/html; charset=utf-8\r\n\r\n"
		"<html><head><title>T</title><style>p{color:red}</style>"
		"<script>var secret = 'do not show';</script></head>"
		"<body><p>住民票の  申請&amp;交付</p><div>二行目<br>三行目</div>"
		"<!-- hidden --><table><tr><td>a</td><td>b</td></tr></table>"
		"&lt;tag&gt; &#x2460;&#9312;&nbsp;end</body></html>");

	CHECK_STR(m.body_text, "住民票の 申請&交付\n二行目\n三行目\na b\n<tag> ①① end");
	CHECK(strstr(m.body_text, "secret") == NULL);
	CHECK(strstr(m.body_text, "color") == NULL);
	CHECK(m.body_html != NULL && strstr(m.body_html, "<script>") != NULL);
	/* charset only in a meta tag */
	m = PARSE("Content-Type: text/html\r\n\r\n"
		  "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">"
		  "\x82\xa0");
	CHECK_STR(m.body_text, "あ");
}

static void test_decoders(void)
{
	static const char qp[] = "a=3Db=\r\nc= \t\nd=4";
	unsigned char d[64];
	int cut = 0;
	size_t n;

	n = mime_header_base64("QUJD", 4, d, sizeof(d), &cut);
	CHECK(n == 3 && memcmp(d, "ABC", 3) == 0);
	n = mime_header_base64("QUI=", 4, d, sizeof(d), &cut);
	CHECK(n == 2 && memcmp(d, "AB", 2) == 0);
	/* two chunks glued: the padding restarts the quantum */
	n = mime_header_base64("QQ==QUJD", 8, d, sizeof(d), &cut);
	CHECK(n == 4 && memcmp(d, "AABC", 4) == 0);
	/* line breaks and junk are skipped, also inside a quantum */
	n = mime_header_base64("Q U\r\nJD!", 9, d, sizeof(d), &cut);
	CHECK(n == 3 && memcmp(d, "ABC", 3) == 0);
	CHECK_INT(cut, 0);
	n = mime_header_base64("QUJDREVG", 8, d, 4, &cut);
	CHECK(n == 4 && memcmp(d, "ABCD", 4) == 0);
	CHECK_INT(cut, 1);
	cut = 0;
	n = mime_header_qp(qp, strlen(qp), d, sizeof(d), 0, &cut);
	CHECK(n == 7 && memcmp(d, "a=bcd=4", 7) == 0);
	n = mime_header_qp("a_b=5F", 6, d, sizeof(d), 1, &cut);
	CHECK(n == 4 && memcmp(d, "a b_", 4) == 0);
	CHECK_INT(cut, 0);
}

static void test_html_text(void)
{
	CHECK_STR(mime_html_to_text(tp, "a<br><br><br><br>b", 18, 0), "a\n\nb");
	CHECK_STR(mime_html_to_text(tp, "<pre>x  y\r\n z</pre>t", 20, 0), "x  y\n z\nt");
	CHECK_STR(mime_html_to_text(tp, "1 < 2 &bogus; &", 15, 0), "1 < 2 &bogus; &");
	/* unterminated things end the text, linearly */
	CHECK_STR(mime_html_to_text(tp, "ok<script>x", 11, 0), "ok");
	CHECK_STR(mime_html_to_text(tp, "ok<!-- x", 8, 0), "ok");
	CHECK_STR(mime_html_to_text(tp, "ok<b x", 6, 0), "ok");
	CHECK_STR(mime_html_to_text(tp, "abcdef", 6, 4), "");
}

static void test_rfc2231_filename(void)
{
	struct mime_mail m = PARSE(
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
		"--b\r\nContent-Type: application/pdf\r\n"
		"Content-Disposition: attachment;\r\n"
		" filename*0*=UTF-8''%E7%94;\r\n"
		" filename*1*=%B3%E8%AB%8B%E6%9B%B8_2024;\r\n"
		" filename*2*=%E5%B9%B4%E5%BA%A6.pdf\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n"
		"--b\r\nContent-Type: application/octet-stream;\r\n"
		" name=\"=?ISO-2022-JP?B?GyRCO3FOQRsoQi5wZGY=?=\"\r\n\r\nraw\r\n"
		"--b\r\nContent-Type: text/plain; charset=Shift_JIS\r\n"
		"Content-Disposition: attachment; filename=\"\x95\x5c.txt\"\r\n\r\nx\r\n"
		"--b\r\nContent-Disposition: attachment; filename*=iso-8859-1'fr'caf%E9.txt\r\n\r\n"
		"y\r\n--b--\r\n");

	CHECK_STR(m.body_text, "body");
	CHECK_INT(m.natt, 4);
	if (m.natt != 4)
		return;
	/* the UTF-8 of 申 is cut between two sections: bytes joined first */
	CHECK_STR(m.att[0].filename, "申請書_2024年度.pdf");
	CHECK_STR(m.att[0].content_type, "application/pdf");
	CHECK_INT(m.att[0].size, 5);
	CHECK(memcmp(m.att[0].data, "%PDF-", 5) == 0);
	CHECK_STR(m.att[1].filename, "資料.pdf");
	CHECK_STR(m.att[2].filename, "表.txt");
	CHECK_STR(m.att[3].filename, "café.txt");
	CHECK_STR(m.att[3].content_type, "text/plain");
}

static void test_attachment_bytes(void)
{
	static const char raw[] =
		"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
		"--XX\r\nContent-Type: application/octet-stream; name=all.bin\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n"
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\n"
		"OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx\r\n"
		"cnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmq\r\n"
		"q6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj\r\n"
		"5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/wD/DQo=\r\n"
		"--XX\r\nContent-Type: application/octet-stream; name=raw.bin\r\n\r\n"
		"line1\r\n--XXnot a delimiter\r\n\r\n--XX--\r\n";
	struct mime_mail m = PARSE(raw);
	unsigned char want[260];

	for (int i = 0; i < 256; i++)
		want[i] = (unsigned char)i;
	memcpy(want + 256, "\0\xff\r\n", 4);
	CHECK_INT(m.natt, 2);
	if (m.natt != 2)
		return;
	CHECK_STR(m.att[0].filename, "all.bin");
	CHECK_INT(m.att[0].size, 260);
	CHECK(memcmp(m.att[0].data, want, 260) == 0);
	/* identity data: exact, the CR LF before the delimiter excluded */
	CHECK_INT(m.att[1].size, 28);
	CHECK(memcmp(m.att[1].data, "line1\r\n--XXnot a delimiter\r\n", 28) == 0);
	CHECK_STR(m.body_text, "");
	CHECK(m.body_html == NULL);
}

static void test_message_rfc822(void)
{
	struct mime_mail m = PARSE(
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		"--b\r\n\r\nsee attached\r\n"
		"--b\r\nContent-Type: message/rfc822\r\n\r\n"
		"Subject: =?UTF-8?B?5YWD44Gu44Oh44O844OrL+i7oumAgQ==?=\r\nFrom: x@y\r\n\r\ninner\r\n"
		"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y\r\n\r\nno subject\r\n"
		"--b--\r\n");

	CHECK_STR(m.body_text, "see attached");
	CHECK_INT(m.natt, 2);
	if (m.natt != 2)
		return;
	CHECK_STR(m.att[0].filename, "元のメール_転送.eml");
	CHECK_STR(m.att[0].content_type, "message/rfc822");
	CHECK_INT(m.att[0].size, 73);
	CHECK_STR(m.att[1].filename, "message.eml");
}

static void test_defects(void)
{
	struct mime_mail m;

	/* a multipart without its boundary parameter: the body is text */
	m = PARSE("Subject: s\r\nContent-Type: multipart/mixed\r\n\r\nhello");
	CHECK_STR(m.body_text, "hello");
	CHECK_INT(m.state, MIME_PARTIAL);
	CHECK(m.notes != NULL && strstr(m.notes, "boundary") != NULL);
	/* a boundary that never occurs */
	m = PARSE("Subject: s\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\nhello");
	CHECK_STR(m.body_text, "hello");
	CHECK_INT(m.state, MIME_PARTIAL);
	/* no close delimiter: the last part runs to the end (less the last
	 * line break, as if a delimiter followed) */
	m = PARSE("Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\nlast part\r\n\r\n");
	CHECK_STR(m.body_text, "last part\n");
	CHECK_INT(m.state, MIME_OK);
	/* an mbox From_ line, LF line ends */
	m = PARSE("From someone Fri Jan  5 00:00:00 2024\nSubject: lf\n\nbody\n");
	CHECK_STR(m.subject, "lf");
	CHECK_STR(m.body_text, "body\n");
	CHECK_INT(m.state, MIME_OK);
	/* empty */
	m = parse("", 0);
	CHECK_INT(m.state, MIME_UNPARSED);
	CHECK_STR(m.notes, "empty message");
	CHECK_STR(m.subject, "");
	CHECK_STR(m.body_text, "");
}

/* ---- routing, automatic mail, delivery reports, nesting ---- */

static void test_routing_inputs(void)
{
	struct mime_mail m = PARSE(
		"Delivered-To: Madoguchi@City.Example.lg.jp\r\n"
		"Delivered-To: relay@city.example.lg.jp\r\n"
		"X-Original-To: kankyo@city.example.lg.jp\r\n"
		"From: a@example.jp\r\n"
		"To: \"Tanaka\" <TARO@example.jp>, madoguchi@city.example.lg.jp\r\n"
		"To: hanako@example.jp\r\n"
		"Cc: undisclosed-recipients:;, Kankyo <KANKYO@city.example.lg.jp>, taro@example.jp\r\n"
		"\r\nx");

	CHECK_STR(m.delivered_to, "Madoguchi@City.Example.lg.jp");
	CHECK_STR(m.x_original_to, "kankyo@city.example.lg.jp");
	CHECK_INT(m.nrcpt, 5);
	if (m.nrcpt == 5) {
		CHECK_STR(m.rcpt[0], "taro@example.jp");
		CHECK_STR(m.rcpt[1], "madoguchi@city.example.lg.jp");
		CHECK_STR(m.rcpt[2], "hanako@example.jp");
		CHECK_STR(m.rcpt[3], "kankyo@city.example.lg.jp");
		CHECK_STR(m.rcpt[4], "relay@city.example.lg.jp");
	}
	/* none: an empty array, never NULL */
	m = PARSE("From: a@example.jp\r\nTo: undisclosed-recipients:;\r\n\r\nx");
	CHECK(m.rcpt != NULL);
	CHECK_INT(m.nrcpt, 0);
	CHECK(m.delivered_to == NULL);
	CHECK(m.x_original_to == NULL);
	/* the simple splitter's addresses count too */
	m = PARSE("To: Broken <broken@example.jp\r\n\r\nx");
	CHECK_INT(m.nrcpt, 1);
	if (m.nrcpt == 1)
		CHECK_STR(m.rcpt[0], "broken@example.jp");
}

/* auto_kind of a mail with these header lines */
static enum mime_auto auto_of(const char *head)
{
	char raw[1024];
	struct mime_mail m;
	int n = snprintf(raw, sizeof(raw), "From: someone@example.jp\r\n%s\r\nbody\r\n", head);

	m = parse(raw, (size_t)n);
	return m.auto_kind;
}

static void test_auto_reply(void)
{
	struct mime_mail m;

	CHECK_INT(auto_of("Auto-Submitted: auto-replied\r\n"), MIME_AUTO_REPLY);
	CHECK_INT(auto_of("Auto-Submitted: auto-generated; owner-email=x@y\r\n"), MIME_AUTO_REPLY);
	CHECK_INT(auto_of("Auto-Submitted: no\r\n"), MIME_AUTO_NONE);
	CHECK_INT(auto_of("Auto-Submitted: No (a person wrote this)\r\n"), MIME_AUTO_NONE);
	CHECK_INT(auto_of("X-Autoreply: yes\r\n"), MIME_AUTO_REPLY);
	CHECK_INT(auto_of("X-Autorespond: Vacation\r\n"), MIME_AUTO_REPLY);
	CHECK_INT(auto_of("X-Autoreply: no\r\n"), MIME_AUTO_NONE);
	CHECK_INT(auto_of("Precedence: auto_reply\r\n"), MIME_AUTO_REPLY);
	CHECK_INT(auto_of("Subject: Auto-Reply: x\r\n"), MIME_AUTO_REPLY);
	/* vacation subjects: at the start only */
	CHECK_INT(auto_of("Subject: =?UTF-8?B?6Ieq5YuV5b+c562UOiDkvY/msJHnpajjgavjgaTjgYTjgaY=?=\r\n"),
		  MIME_AUTO_REPLY); /* 自動応答: 住民票について */
	CHECK_INT(auto_of("Subject: Automatic reply: your question\r\n"), MIME_AUTO_REPLY);
	CHECK_INT(auto_of("Subject: Out of Office AutoReply: x\r\n"), MIME_AUTO_REPLY);
	CHECK_INT(auto_of("Subject: \xe3\x80\x90\xe8\x87\xaa\xe5\x8b\x95\xe8\xbf\x94\xe4\xbf\xa1"
			  "\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab\xe3\x80\x91\r\n"),
		  MIME_AUTO_REPLY); /* 【自動返信メール】 */
	CHECK_INT(auto_of("Subject: \xe4\xb8\x8d\xe5\x9c\xa8\xe3\x81\xae\xe3\x81\x8a\xe7\x9f\xa5"
			  "\xe3\x82\x89\xe3\x81\x9b\r\n"),
		  MIME_AUTO_REPLY); /* 不在のお知らせ */
	CHECK_INT(auto_of("Subject: \xe4\xb8\x8d\xe5\x9c\xa8: x\r\n"), MIME_AUTO_REPLY); /* 不在: x */
	/* a citizen writing about these things is no automatic mail */
	CHECK_INT(auto_of("Subject: \xe8\x87\xaa\xe5\x8b\x95\xe8\xbf\x94\xe4\xbf\xa1\xe3\x83\xa1"
			  "\xe3\x83\xbc\xe3\x83\xab\xe3\x81\x8c\xe5\xb1\x8a\xe3\x81\x8d\xe3\x81\xbe"
			  "\xe3\x81\x9b\xe3\x82\x93\r\n"),
		  MIME_AUTO_NONE); /* 自動返信メールが届きません */
	CHECK_INT(auto_of("Subject: \xe4\xb8\x8d\xe5\x9c\xa8\xe5\xb1\x8a\xe3\x81\xab\xe3\x81\xa4"
			  "\xe3\x81\x84\xe3\x81\xa6\r\n"),
		  MIME_AUTO_NONE); /* 不在届について */
	CHECK_INT(auto_of("Subject: Re: Automatic reply: x\r\n"), MIME_AUTO_NONE);
	/* the raw values are kept */
	m = PARSE("Auto-Submitted: auto-replied\r\n (vacation)\r\nPrecedence: bulk\r\n\r\nx");
	CHECK_STR(m.auto_submitted, "auto-replied (vacation)");
	CHECK_STR(m.precedence, "bulk");
	CHECK_INT(m.auto_kind, MIME_AUTO_REPLY); /* the stronger sign */
	CHECK(m.list_id == NULL);
	CHECK(m.x_auto_response_suppress == NULL);
}

static void test_suppress(void)
{
	struct mime_mail m = PARSE("X-Auto-Response-Suppress: DR, OOF, AutoReply\r\n\r\nx");

	CHECK_INT(m.suppress_autoreply, 1);
	CHECK_INT(m.auto_kind, MIME_AUTO_NONE);
	CHECK_STR(m.x_auto_response_suppress, "DR, OOF, AutoReply");
	m = PARSE("X-Auto-Response-Suppress: All\r\n\r\nx");
	CHECK_INT(m.suppress_autoreply, 1);
	m = PARSE("X-Auto-Response-Suppress: DR,RN,NRN\r\n\r\nx");
	CHECK_INT(m.suppress_autoreply, 0);
	CHECK_STR(m.x_auto_response_suppress, "DR,RN,NRN");
	m = PARSE("Subject: x\r\n\r\nx");
	CHECK_INT(m.suppress_autoreply, 0);
}

static void test_bulk_list(void)
{
	struct mime_mail m;

	CHECK_INT(auto_of("Precedence: bulk\r\n"), MIME_AUTO_BULK);
	CHECK_INT(auto_of("Precedence: Junk\r\n"), MIME_AUTO_BULK);
	CHECK_INT(auto_of("Precedence: list\r\n"), MIME_AUTO_LIST);
	CHECK_INT(auto_of("List-Unsubscribe: <mailto:leave@lists.example.jp>\r\n"), MIME_AUTO_LIST);
	CHECK_INT(auto_of("Precedence: first-class\r\n"), MIME_AUTO_NONE);
	m = PARSE("List-Id: =?UTF-8?B?5biC5aCx?= <shiho.lists.example.jp>\r\nPrecedence: bulk\r\n"
		  "Subject: x\r\n\r\nx");
	CHECK_INT(m.auto_kind, MIME_AUTO_LIST); /* a list sign beats bulk */
	CHECK_STR(m.list_id, "=?UTF-8?B?5biC5aCx?= <shiho.lists.example.jp>");
	CHECK_STR(m.precedence, "bulk");
}

static void test_dsn(void)
{
	struct mime_mail m = PARSE(
		"From: Mail Delivery System <MAILER-DAEMON@mx.city.example.lg.jp>\r\n"
		"To: madoguchi@city.example.lg.jp\r\n"
		"Subject: Undelivered Mail Returned to Sender\r\n"
		"Auto-Submitted: auto-replied\r\n"
		"Content-Type: multipart/report; report-type=delivery-status;\r\n"
		"\tboundary=\"dsn-b\"\r\n\r\n"
		"--dsn-b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
		"I'm sorry to have to inform you that your message could not be delivered.\r\n"
		"--dsn-b\r\nContent-Type: message/delivery-status\r\n\r\n"
		"Reporting-MTA: dns; mx.city.example.lg.jp\r\n"
		"Arrival-Date: Fri, 20 Nov 2026 09:04:05 +0900 (JST)\r\n\r\n"
		"Final-Recipient: rfc822; nobody@example.jp\r\n"
		"Original-Recipient: rfc822;nobody@example.jp\r\n"
		"Action: Failed\r\n"
		"Status: 5.1.1 (bad destination mailbox)\r\n"
		"Remote-MTA: dns; mx.example.jp\r\n"
		"Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.jp>: Recipient address\r\n"
		"    rejected: User unknown in local recipient table\r\n\r\n"
		"Final-Recipient: rfc822; other@example.jp\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n"
		"--dsn-b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
		"From: madoguchi@city.example.lg.jp\r\nTo: nobody@example.jp\r\n"
		"Message-ID: <reply-42.ticket-7@city.example.lg.jp>\r\nSubject: Re: x\r\n"
		"--dsn-b--\r\n");
	char diag[700];
	int n;

	CHECK_INT(m.auto_kind, MIME_AUTO_DSN);
	CHECK_STR(m.dsn_original_message_id, "reply-42.ticket-7@city.example.lg.jp");
	CHECK_STR(m.dsn_action, "failed");
	CHECK_STR(m.dsn_status, "5.1.1");
	CHECK_STR(m.dsn_recipient, "nobody@example.jp");
	CHECK_STR(m.dsn_diagnostic, "550 5.1.1 <nobody@example.jp>: Recipient address rejected: "
				    "User unknown in local recipient table");
	CHECK(m.forward.kind == NULL);
	/* the returned mail as message/rfc822, a long diagnostic cut at a
	 * character, no Action: the first recipient block */
	n = snprintf(diag, sizeof(diag), "X-Unix; %0*d", 498, 0);
	memcpy(diag + n, "\xe3\x81\x82\xe3\x81\x82", 7); /* ああ: the cut falls inside */
	{
		char raw[2048];
		int k = snprintf(raw, sizeof(raw),
				 "From: postmaster@example.jp\r\n"
				 "Content-Type: multipart/report; report-type=\"Delivery-Status\"; boundary=b\r\n\r\n"
				 "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
				 "Reporting-MTA: dns; x\r\n\r\n"
				 "Final-Recipient: RFC822; <Kankyo@Example.JP>\r\nStatus: 5.0.0\r\n"
				 "Diagnostic-Code: %s\r\n\r\n"
				 "--b\r\nContent-Type: message/rfc822\r\n\r\n"
				 "Message-ID: <orig@city.example.lg.jp>\r\nSubject: s\r\n\r\nbody\r\n--b--\r\n",
				 diag);

		m = parse(raw, (size_t)k);
	}
	CHECK_INT(m.auto_kind, MIME_AUTO_DSN);
	CHECK_STR(m.dsn_original_message_id, "orig@city.example.lg.jp");
	CHECK(m.dsn_action == NULL);
	CHECK_STR(m.dsn_status, "5.0.0");
	CHECK_STR(m.dsn_recipient, "Kankyo@Example.JP");
	CHECK_INT(strlen(m.dsn_diagnostic), 498);
	CHECK(m.natt == 2 && m.att[1].nested != NULL);
	CHECK(m.forward.kind == NULL); /* the returned mail is no forward */
	/* a first status part of free text (seen from one MTA), and the
	 * report redirected by a mailbox rule: still a DSN, no forward */
	m = PARSE("Resent-From: <dump@example.jp>\r\nFrom: postmaster@example.jp\r\n"
		  "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
		  "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
		  "This message was undeliverable due to the following reason:\r\n\r\n"
		  "<u@example.jp> has restricted mail\r\n"
		  "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
		  "Reporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822;u@example.jp\r\n"
		  "Action: expanded\r\nStatus: 2.0.0\r\n--b--\r\n");
	CHECK_INT(m.auto_kind, MIME_AUTO_DSN);
	CHECK_STR(m.dsn_action, "expanded");
	CHECK_STR(m.dsn_status, "2.0.0");
	CHECK_STR(m.dsn_recipient, "u@example.jp");
	CHECK(m.dsn_diagnostic == NULL);
	CHECK(m.dsn_original_message_id == NULL);
	CHECK_STR(m.resent_from, "dump@example.jp");
	CHECK(m.forward.kind == NULL);
}

static void test_classic_bounce(void)
{
	struct mime_mail m = PARSE(
		"Return-Path: <>\r\n"
		"From: MAILER-DAEMON@mx.example.jp\r\n"
		"To: madoguchi@city.example.lg.jp\r\n"
		"Subject: failure notice\r\n\r\n"
		"Hi. This is the delivery program at mx.example.jp.\r\n"
		"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"
		"<nobody@example.jp>:\r\nSorry, no mailbox here by that name.\r\n\r\n"
		"--- Below this line is a copy of the message.\r\n\r\n"
		"Received: from city.example.lg.jp\r\n"
		"Message-Id:\r\n <reply-43.ticket-8@city.example.lg.jp>\r\n"
		"From: madoguchi@city.example.lg.jp\r\n\r\nthe answer\r\n");

	CHECK_INT(m.auto_kind, MIME_AUTO_DSN);
	CHECK_STR(m.dsn_original_message_id, "reply-43.ticket-8@city.example.lg.jp");
	CHECK(m.dsn_action == NULL);
	CHECK(m.dsn_status == NULL);
	/* quoted with '>' and on the same line */
	m = PARSE("Return-Path: < >\r\nFrom: Postmaster <postmaster@example.jp>\r\n\r\n"
		  "> Message-ID: <q@x>\r\n");
	CHECK_INT(m.auto_kind, MIME_AUTO_DSN);
	CHECK_STR(m.dsn_original_message_id, "q@x");
	/* MAILER-DAEMON with a real Return-Path, or no Return-Path: not a bounce */
	m = PARSE("Return-Path: <mailer-daemon@example.jp>\r\nFrom: MAILER-DAEMON@example.jp\r\n\r\nx");
	CHECK_INT(m.auto_kind, MIME_AUTO_NONE);
	CHECK(m.dsn_original_message_id == NULL);
	m = PARSE("From: MAILER-DAEMON@example.jp\r\n\r\nx");
	CHECK_INT(m.auto_kind, MIME_AUTO_NONE);
}

static void test_nested(void)
{
	struct mime_mail m = PARSE(
		"Subject: outer\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n"
		"--o\r\n\r\nsee the two mails\r\n"
		"--o\r\nContent-Type: message/rfc822\r\n\r\n"
		"From: =?UTF-8?B?5bGx55Sw?= <yamada@example.jp>\r\nSubject: inner one\r\n"
		"Date: Fri, 20 Nov 2026 09:04:05 +0900\r\n"
		"Content-Type: multipart/mixed; boundary=i\r\n\r\n"
		"--i\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ninner text\r\n"
		"--i\r\nContent-Type: message/rfc822\r\n\r\nSubject: innermost\r\n\r\ndeep\r\n"
		"--i--\r\n"
		"--o\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		"U3ViamVjdDogYjY0DQoNCmVuY29kZWQNCg==\r\n"
		"--o--\r\n");
	const struct mime_mail *n1, *n2, *n3;

	CHECK_INT(m.state, MIME_OK);
	CHECK_STR(m.body_text, "see the two mails");
	CHECK_INT(m.natt, 2);
	if (m.natt != 2 || (n1 = m.att[0].nested) == NULL || (n3 = m.att[1].nested) == NULL) {
		CHECK(0);
		return;
	}
	CHECK_STR(n1->subject, "inner one");
	CHECK_STR(n1->from_name, "山田");
	CHECK_INT(n1->date_us, INT64_C(1795133045) * 1000000);
	CHECK_STR(n1->body_text, "inner text");
	CHECK_INT(n1->natt, 1);
	CHECK(n1->natt == 1 && (n2 = n1->att[0].nested) != NULL && strcmp(n2->subject, "innermost") == 0 &&
	      strcmp(n2->body_text, "deep") == 0);
	CHECK_STR(n3->subject, "b64");
	CHECK_STR(n3->body_text, "encoded\n");
	/* the outer text is short: a forward of the first attached mail */
	CHECK_STR(m.forward.kind, "rfc822");
	CHECK_STR(m.forward.subject, "inner one");
	/* nesting counts toward max_depth: at depth 2 the third level is not
	 * parsed, and the mail says why */
	{
		struct mime_limits lim;

		mime_limits_default(&lim);
		lim.max_depth = 2;
		mime_parse(tp, "Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n"
			       "Content-Type: message/rfc822\r\n\r\nSubject: bottom\r\n\r\nx", 116, &lim, &m);
		CHECK(m.natt == 1 && m.att[0].nested != NULL);
		n1 = m.att[0].nested;
		CHECK(n1->natt == 1 && n1->att[0].nested != NULL);
		n2 = n1->att[0].nested;
		CHECK(n2->natt == 1 && n2->att[0].nested == NULL);
		CHECK_INT(n2->state, MIME_PARTIAL);
		CHECK(n2->notes != NULL && strstr(n2->notes, "nesting") != NULL);
		CHECK_INT(m.state, MIME_OK);
	}
}

/* ---- hostile input ---- */

static void test_no_separator(void)
{
	struct mime_mail m = PARSE("Subject: s\r\nFrom: a@b\r\nthis line is the body\r\nmore\r\n");

	CHECK_STR(m.subject, "s");
	CHECK_STR(m.body_text, "this line is the body\nmore\n");
	CHECK_INT(m.state, MIME_PARTIAL);
	CHECK(m.notes != NULL && strstr(m.notes, "empty line") != NULL);
	/* header only, no body at all: fine */
	m = PARSE("Subject: s\r\nFrom: a@b");
	CHECK_INT(m.state, MIME_OK);
	CHECK_STR(m.from_addr, "a@b");
}

static void test_garbage(void)
{
	static char g[65536];
	struct mime_mail m;
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(g); i++) {
		x = x * 1103515245 + 12345;
		g[i] = (char)(x >> 16);
	}
	g[0] = '\x01'; /* no field name can start with it */
	CHECK(parse_timed(g, sizeof(g), &m) < 2.0);
	CHECK_INT(m.state, MIME_UNPARSED);
	CHECK(m.notes != NULL && strstr(m.notes, "no header fields") != NULL);
	CHECK_STR(m.subject, "");
	CHECK_INT(m.undecodable, 1);
	CHECK(strlen(m.body_text) > 0);
	CHECK(strchr(m.body_text, '?') == NULL || memchr(g, '?', sizeof(g)) != NULL);
}

static void test_deep_nesting(void)
{
	size_t depth = 10000, cap = depth * 64 + 128, n = 0;
	char *raw = malloc(cap);
	struct mime_mail m;
	double s;

	n += (size_t)snprintf(raw + n, cap - n, "Subject: deep\r\n");
	for (size_t i = 0; i < depth; i++)
		n += (size_t)snprintf(raw + n, cap - n,
				      "Content-Type: multipart/mixed; boundary=\"b%zu\"\r\n\r\n--b%zu\r\n",
				      i, i);
	n += (size_t)snprintf(raw + n, cap - n, "\r\nthe bottom\r\n");
	s = parse_timed(raw, n, &m);
	CHECK(s < 2.0);
	CHECK_INT(m.state, MIME_PARTIAL);
	CHECK(m.notes != NULL && strstr(m.notes, "nesting") != NULL);
	CHECK_STR(m.subject, "deep");
	/* 10 000 nested message/rfc822 (libetpan's parser dies on these):
	 * one attachment, not a descent */
	n = (size_t)snprintf(raw, cap, "Subject: rfc822\r\n");
	for (size_t i = 0; i < depth && n + 40 < cap; i++)
		n += (size_t)snprintf(raw + n, cap - n, "Content-Type: message/rfc822\r\n\r\n");
	s = parse_timed(raw, n, &m);
	CHECK(s < 2.0);
	CHECK_INT(m.natt, 1);
	/* a million '(' in From: */
	free(raw);
	cap = 1000000 + 64;
	raw = malloc(cap);
	n = (size_t)snprintf(raw, cap, "From: ");
	memset(raw + n, '(', 1000000);
	n += 1000000;
	n += (size_t)snprintf(raw + n, cap - n, "\r\n\r\n");
	s = parse_timed(raw, n, &m);
	CHECK(s < 2.0);
	CHECK_INT(m.state, MIME_PARTIAL); /* the field was cut at 64 KiB */
	free(raw);
}

static void test_many_links(void)
{
	size_t nl = 5000, cap = nl * 80 + 256, n = 0;
	char *raw = malloc(cap);
	struct mime_mail m;
	double s;

	n += (size_t)snprintf(raw + n, cap - n,
			      "Subject: links\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>");
	for (size_t i = 0; i < nl; i++)
		n += (size_t)snprintf(raw + n, cap - n, "<a href=\"https://example.jp/p/%zu\">link %zu</a> ",
				      i, i);
	n += (size_t)snprintf(raw + n, cap - n, "</body></html>\r\n");
	s = parse_timed(raw, n, &m);
	CHECK(s < 2.0);
	CHECK_INT(m.state, MIME_OK);
	CHECK(strncmp(m.body_text, "link 0 link 1 link 2 ", 21) == 0);
	CHECK(strstr(m.body_text, "link 4999") != NULL);
	CHECK(strstr(m.body_text, "href") == NULL);
	free(raw);
}

/* 16 To fields of 64 KiB of distinct addresses: the recipients stop at
 * 1000, and their duplicate check stays cheap */
static void test_many_recipients(void)
{
	size_t cap = 16 * (70 << 10) + 64, n = 0, k = 0;
	char *raw = malloc(cap);
	struct mime_mail m;

	for (int f = 0; f < 16; f++) {
		size_t start;

		n += (size_t)snprintf(raw + n, cap - n, "To: ");
		start = n;
		while (n - start < (64u << 10) - 32)
			n += (size_t)snprintf(raw + n, cap - n, "U%zu@Example.jp, ", k++);
		n += (size_t)snprintf(raw + n, cap - n, "\r\n");
	}
	n += (size_t)snprintf(raw + n, cap - n, "\r\nx");
	CHECK(parse_timed(raw, n, &m) < 2.0);
	CHECK_INT(m.nrcpt, 1000);
	CHECK_STR(m.rcpt[0], "u0@example.jp");
	CHECK_STR(m.rcpt[999], "u999@example.jp");
	free(raw);
}

/* 500 attached mails, each a multipart of 500 parts: the part limit
 * holds for the whole tree, so the work stays that of 500 parts */
static void test_many_nested(void)
{
	size_t inner = 500 * 40 + 128, cap = 500 * (inner + 64) + 128, n = 0;
	char *raw = malloc(cap);
	struct mime_mail m;
	size_t nested = 0;

	n += (size_t)snprintf(raw + n, cap - n, "Content-Type: multipart/mixed; boundary=o\r\n\r\n");
	for (int i = 0; i < 500; i++) {
		n += (size_t)snprintf(raw + n, cap - n,
				      "--o\r\nContent-Type: message/rfc822\r\n\r\n"
				      "Content-Type: multipart/mixed; boundary=i\r\n\r\n");
		for (int j = 0; j < 500; j++)
			n += (size_t)snprintf(raw + n, cap - n, "--i\r\nContent-Type: image/gif\r\n\r\nx\r\n");
	}
	CHECK(parse_timed(raw, n, &m) < 2.0);
	CHECK_INT(m.natt, 500);
	for (size_t i = 0; i < m.natt; i++)
		nested += m.att[i].nested != NULL;
	CHECK_INT(nested, 500);
	CHECK_INT(m.att[0].nested->natt, 0); /* the budget went to the outer parts */
	CHECK_INT(m.att[0].nested->state, MIME_PARTIAL);
	free(raw);
}

static void test_many_headers(void)
{
	size_t nh = 100000, cap = nh * 24 + 64, n = 0;
	char *raw = malloc(cap);
	struct mime_mail m;

	for (size_t i = 0; i < nh; i++)
		n += (size_t)snprintf(raw + n, cap - n, "X-H%zu: v\r\n", i);
	n += (size_t)snprintf(raw + n, cap - n, "Subject: late\r\n\r\nbody");
	CHECK(parse_timed(raw, n, &m) < 2.0);
	CHECK_INT(m.state, MIME_PARTIAL);
	CHECK(m.notes != NULL && strstr(m.notes, "header fields") != NULL);
	/* past the limit fields are ignored, but the body is still found */
	CHECK_STR(m.subject, "");
	CHECK_STR(m.body_text, "body");
	free(raw);
}

static void test_long_line(void)
{
	size_t big = 20u << 20;
	char *raw = malloc(big + 64);
	struct mime_mail m;
	size_t n;

	/* a 20 MB subject */
	n = (size_t)snprintf(raw, 64, "Subject: ");
	memset(raw + n, 'a', big);
	n += big;
	CHECK(parse_timed(raw, n, &m) < 2.0);
	CHECK_INT(m.state, MIME_PARTIAL);
	CHECK_INT(strlen(m.subject), 64 << 10);
	/* a 20 MB body line: text cut at 4 MiB */
	memcpy(raw, "Subject: x\r\n\r\n", 14);
	CHECK(parse_timed(raw, n, &m) < 2.0);
	CHECK_INT(m.state, MIME_PARTIAL);
	CHECK(m.notes != NULL && strstr(m.notes, "body text") != NULL);
	CHECK_INT(strlen(m.body_text), 4 << 20);
	/* 20 MB of one line of binary: unparsed, shown cut */
	for (size_t i = 0; i < n; i++)
		raw[i] = (char)(0x80 | (i & 0x7F));
	CHECK(parse_timed(raw, n, &m) < 2.0);
	CHECK_INT(m.state, MIME_UNPARSED);
	free(raw);
}

static void test_many_parts(void)
{
	size_t np = 5000, cap = np * 40 + 128, n = 0;
	char *raw = malloc(cap);
	struct mime_mail m;

	n += (size_t)snprintf(raw + n, cap - n, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (size_t i = 0; i < np; i++)
		n += (size_t)snprintf(raw + n, cap - n, "--b\r\nContent-Type: image/gif\r\n\r\nx\r\n");
	CHECK(parse_timed(raw, n, &m) < 2.0);
	CHECK_INT(m.state, MIME_PARTIAL);
	CHECK_INT(m.natt, 500);
	free(raw);
}

/* every prefix of a rich message parses without a crash (run under ASan) */
static void test_every_prefix(void)
{
	static const char raw[] =
		"From: =?ISO-2022-JP?B?GyRCO1RNPkMrGyhC?= <shimin@example.jp>\r\n"
		"Subject: =?UTF-8?B?5pel5g==?= =?UTF-8?B?nKzoqp7jga7ku7blkI0=?=\r\n"
		"Date: Fri, 05 Jan 2024 10:02:03 +0900\r\n"
		"Content-Type: multipart/mixed; boundary=o\r\n\r\n"
		"--o\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n"
		"--a\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n\x1b$B-!\x1b(B\r\n"
		"--a\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: "
		"quoted-printable\r\n\r\n<p>=E2=91=A0&amp;</p>\r\n--a--\r\n"
		"--o\r\nContent-Disposition: attachment; filename*0*=UTF-8''%E7%94;\r\n"
		" filename*1*=%B3.txt\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--o--\r\n";
	struct pool *p = pool_create(0);
	size_t bad = 0;

	for (size_t n = 0; n <= sizeof(raw) - 1; n++) {
		struct mime_mail m;
		char *copy = malloc(n + 1);

		memcpy(copy, raw, n); /* exactly n bytes: ASan sees any overread */
		if (mime_parse(p, copy, n, NULL, &m) != 0 || m.subject == NULL || m.body_text == NULL)
			bad++;
		free(copy);
		pool_clear(p);
	}
	CHECK_INT(bad, 0);
	pool_destroy(p);
}

static void test_pool_limit(void)
{
	/* a small pool: -1 and a consistent result, never a crash */
	struct pool *p = pool_create(20000);
	struct mime_mail m;
	size_t n = 200000;
	char *raw = malloc(n);

	memcpy(raw, "Subject: x\r\n\r\n", 14);
	memset(raw + 14, 'z', n - 14);
	CHECK_INT(mime_parse(p, raw, n, NULL, &m), -1);
	CHECK_INT(m.state, MIME_PARTIAL);
	CHECK(m.notes != NULL);
	CHECK(m.body_text != NULL && m.subject != NULL);
	free(raw);
	pool_destroy(p);
}

int main(void)
{
	tp = pool_create(0);
	RUN(test_subject_cp50220);
	RUN(test_subject_split_words);
	RUN(test_subject_q_and_raw);
	RUN(test_addresses);
	RUN(test_ids);
	RUN(test_dates);
	RUN(test_body_charsets);
	RUN(test_flowed);
	RUN(test_undecodable);
	RUN(test_alternative);
	RUN(test_html_only);
	RUN(test_decoders);
	RUN(test_html_text);
	RUN(test_rfc2231_filename);
	RUN(test_attachment_bytes);
	RUN(test_message_rfc822);
	RUN(test_defects);
	RUN(test_routing_inputs);
	RUN(test_auto_reply);
	RUN(test_suppress);
	RUN(test_bulk_list);
	RUN(test_dsn);
	RUN(test_classic_bounce);
	RUN(test_nested);
	RUN(test_no_separator);
	RUN(test_garbage);
	RUN(test_deep_nesting);
	RUN(test_many_links);
	RUN(test_many_recipients);
	RUN(test_many_nested);
	RUN(test_many_headers);
	RUN(test_long_line);
	RUN(test_many_parts);
	RUN(test_every_prefix);
	RUN(test_pool_limit);
	pool_destroy(tp);
	return TEST_END();
}
