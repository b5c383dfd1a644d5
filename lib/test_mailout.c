/* Unit tests for mailout (and mailout_header, charset_utf8_to_jis): exact
 * bytes for small cases, the folding rules over many lengths, the
 * ISO-2022-JP fallback, and our own reader (mime_parse) reading back what
 * was written.  tests/integration/test_mailout_parse.py does the same
 * with Python's email package as the reader. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "clock.h"
#include "mailout.h"
#include "mime.h"
#include "mime_header.h"
#include "pool.h"
#include "testlib.h"

#define DATE_US 1795320600000000LL /* 2026-11-22 04:10:00 UTC, a Sunday */
#define SUBJECT60 "住民票の写しの交付申請に関するお問い合わせについて、担当課からの回答をお送りします。ご確認のほどよろしく"

static struct pool *tp;

static struct mailout base(void)
{
	struct mailout m;

	memset(&m, 0, sizeof(m));
	m.from_addr = "center@city.test";
	m.to = "citizen@example.jp";
	m.subject = "x";
	m.body = "x\n";
	m.message_id_domain = "city.test";
	m.date_us = DATE_US;
	return m;
}

/* the whole message in the pool; NULL (and err) on failure */
static const char *build(const struct mailout *m, const char **err)
{
	struct buf out;
	char id[256];
	const char *r = NULL;

	buf_init(&out, 1u << 24);
	*err = NULL;
	if (mailout_build(tp, m, &out, id, sizeof(id), err) == 0)
		r = pool_strndup(tp, out.data, out.len);
	buf_free(&out);
	return r;
}

/* one header of a message, folding kept, with its CRLF: "Name: ...\r\n" */
static const char *header(const char *msg, const char *name)
{
	size_t nl = strlen(name);
	const char *s = msg, *e;

	while (s != NULL && *s != '\0' && !(s[0] == '\r' && s[1] == '\n')) {
		e = strstr(s, "\r\n");
		while (e != NULL && (e[2] == ' ' || e[2] == '\t'))
			e = strstr(e + 2, "\r\n");
		if (e == NULL)
			return NULL;
		if (strncmp(s, name, nl) == 0 && s[nl] == ':')
			return pool_strndup(tp, s, (size_t)(e + 2 - s));
		s = e + 2;
	}
	return NULL;
}

static const char *subject_of(const struct mailout *m)
{
	const char *err, *msg = build(m, &err);

	return msg != NULL ? header(msg, "Subject") : err;
}

static struct mime_mail reread(const char *msg)
{
	struct mime_mail mm;
	struct mime_limits lim;

	mime_limits_default(&lim);
	CHECK_INT(mime_parse(tp, msg, strlen(msg), &lim, &mm), 0);
	return mm;
}

/* every encoded word of a header: at most 75, decodes alone to whole
 * characters (ISO-2022-JP: back in ASCII at its end); every line <= 78.
 * Returns the number of words, -1 on a broken rule. */
static int words_ok(const char *h, int jis)
{
	int n = 0;

	for (const char *l = h; *l != '\0';) {
		const char *e = strstr(l, "\r\n");

		if (e == NULL || e - l > 78)
			return -1;
		l = e + 2;
	}
	for (const char *w = strstr(h, "=?"); w != NULL; w = strstr(w + 2, "=?")) {
		const char *q = strchr(w + 2, '?'), *end = q != NULL ? strstr(q + 3, "?=") : NULL;
		unsigned char d[80];
		int cut = 0;
		size_t dl;

		if (q == NULL || end == NULL || end + 2 - w > 75)
			return -1;
		dl = mime_header_base64(q + 3, (size_t)(end - q - 3), d, sizeof(d), &cut);
		if (jis) {
			struct charset_text t;
			const unsigned char *esc = NULL;

			for (size_t i = 0; i < dl; i++)
				if (d[i] == 0x1B)
					esc = d + i;
			/* back in ASCII mode at the end, and decodes alone */
			if ((esc != NULL && (d + dl - esc < 3 || memcmp(esc, "\033(B", 3) != 0)) ||
			    charset_to_utf8(tp, "ISO-2022-JP", d, dl, 0, &t) < 0 || t.undecodable)
				return -1;
		} else if (!charset_is_utf8(d, dl)) {
			return -1;
		}
		n++;
		w = end;
	}
	return n;
}

/* ---- exact bytes ---- */

static void test_whole_ascii_message(void)
{
	struct mailout m = base();
	const char *err, *msg;

	m.from_name = "City Hall";
	m.to = "john@example.com";
	m.subject = "Hello";
	m.body = "Hi";
	m.message_id = "fixed.1@city.test";
	msg = build(&m, &err);
	CHECK_STR(msg, "Date: Sun, 22 Nov 2026 13:10:00 +0900\r\n"
		       "From: City Hall <center@city.test>\r\n"
		       "To: john@example.com\r\n"
		       "Subject: Hello\r\n"
		       "Message-ID: <fixed.1@city.test>\r\n"
		       "MIME-Version: 1.0\r\n"
		       "Content-Type: text/plain; charset=UTF-8\r\n"
		       "Content-Transfer-Encoding: 7bit\r\n"
		       "\r\n"
		       "Hi\r\n");
}

static void test_ascii_subject_stays(void)
{
	struct mailout m = base();

	m.subject = "Re: Your request #42 (garbage collection), thanks!";
	CHECK_STR(subject_of(&m), "Subject: Re: Your request #42 (garbage collection), thanks!\r\n");
	/* long ASCII folds at a blank and stays raw */
	m.subject = "Re: Fwd: information about the collection of oversized garbage in the ward next month";
	CHECK_STR(subject_of(&m), "Subject: Re: Fwd: information about the collection of oversized garbage in the\r\n"
				  " ward next month\r\n");
	/* what would read as an encoded word is encoded */
	m.subject = "a =?x?= b";
	CHECK_STR(subject_of(&m), "Subject: a =?UTF-8?B?PT94Pz0=?= b\r\n");
	/* a header is one line */
	m.subject = "one\r\ntwo";
	CHECK_STR(subject_of(&m), "Subject: one  two\r\n");
	m.subject = "";
	CHECK_STR(subject_of(&m), "Subject:\r\n");
}

static void test_japanese_subject_folds(void)
{
	struct mailout m = base();
	const char *h;
	struct mime_mail mm;

	m.subject = SUBJECT60;
	h = subject_of(&m);
	CHECK_STR(h, "Subject: =?UTF-8?B?5L2P5rCR56Wo44Gu5YaZ44GX44Gu5Lqk5LuY55Sz6KuL44Gr6Zai44GZ?=\r\n"
		     " =?UTF-8?B?44KL44GK5ZWP44GE5ZCI44KP44Gb44Gr44Gk44GE44Gm44CB5ouF5b2T6Kqy?=\r\n"
		     " =?UTF-8?B?44GL44KJ44Gu5Zue562U44KS44GK6YCB44KK44GX44G+44GZ44CC44GU56K6?=\r\n"
		     " =?UTF-8?B?6KqN44Gu44G744Gp44KI44KN44GX44GP?=\r\n");
	CHECK_INT(words_ok(h, 0), 4);
	mm = reread(build(&m, &h));
	CHECK_STR(mm.subject, SUBJECT60);

	m.iso2022jp = 1;
	h = subject_of(&m);
	CHECK_STR(h, "Subject: =?ISO-2022-JP?B?GyRCPTtMMUk8JE48TCQ3JE44cklVPz1AQSRLNFgkOSRrGyhC?=\r\n"
		     " =?ISO-2022-JP?B?GyRCJCpMZCQkOWckbyQ7JEskRCQkJEYhIkM0RXYyXSQrJGkkTjJzGyhC?=\r\n"
		     " =?ISO-2022-JP?B?GyRCRXokciQqQXckaiQ3JF4kOSEjJDQzTkcnJE4kWyRJJGgkbSQ3GyhC?=\r\n"
		     " =?ISO-2022-JP?B?GyRCJC8bKEI=?=\r\n");
	CHECK_INT(words_ok(h, 1), 4);
	mm = reread(build(&m, &h));
	CHECK_STR(mm.subject, SUBJECT60);
}

static void test_subject_mixed(void)
{
	struct mailout m = base();

	/* ASCII words raw, the Japanese run encoded with the blank inside */
	m.subject = "Re: 住民票 について [ID 7]";
	CHECK_STR(subject_of(&m), "Subject: Re: =?UTF-8?B?5L2P5rCR56WoIOOBq+OBpOOBhOOBpg==?= [ID 7]\r\n");
	m.iso2022jp = 1;
	CHECK_STR(subject_of(&m), "Subject: Re: =?ISO-2022-JP?B?GyRCPTtMMUk8GyhCIBskQiRLJEQkJCRGGyhC?= [ID 7]\r\n");
	/* ① cannot go in ISO-2022-JP: the header falls back to UTF-8, no '?' */
	m.subject = "Re: ① について";
	CHECK_STR(subject_of(&m), "Subject: Re: =?UTF-8?B?4pGgIOOBq+OBpOOBhOOBpg==?=\r\n");
	/* leading blanks would be dropped by readers: all encoded */
	m.iso2022jp = 0;
	m.subject = " x";
	CHECK_STR(subject_of(&m), "Subject: =?UTF-8?B?IHg=?=\r\n");
}

static void test_date(void)
{
	struct mailout m = base();
	const char *err;

	CHECK_STR(header(build(&m, &err), "Date"), "Date: Sun, 22 Nov 2026 13:10:00 +0900\r\n");
	m.date_us = 1798729200000000LL; /* 2026-12-31 15:00 UTC: New Year in Tokyo */
	CHECK_STR(header(build(&m, &err), "Date"), "Date: Fri, 01 Jan 2027 00:00:00 +0900\r\n");
	m.date_us = 1803859199999999LL; /* the last microsecond of February in UTC */
	CHECK_STR(header(build(&m, &err), "Date"), "Date: Mon, 01 Mar 2027 08:59:59 +0900\r\n");
	m.date_us = 0; /* "now": the pinnable clock */
	clock_pin(DATE_US);
	CHECK_STR(header(build(&m, &err), "Date"), "Date: Sun, 22 Nov 2026 13:10:00 +0900\r\n");
	clock_unpin();
}

static void test_message_id(void)
{
	struct mailout m = base();
	struct buf out;
	char a[128], b[128], tiny[8];
	const char *err = NULL;

	buf_init(&out, 1u << 20);
	CHECK_INT(mailout_build(tp, &m, &out, a, sizeof(a), &err), 0);
	CHECK_INT(strlen(a), 32 + 1 + strlen("city.test"));
	CHECK(strspn(a, "0123456789abcdef") == 32 && strcmp(a + 32, "@city.test") == 0);
	CHECK(strstr(out.data, pool_printf(tp, "\r\nMessage-ID: <%s>\r\n", a)) != NULL);
	CHECK_INT(mailout_build(tp, &m, &out, b, sizeof(b), &err), 0);
	CHECK(strcmp(a, b) != 0);
	buf_reset(&out);
	CHECK_INT(mailout_build(tp, &m, &out, tiny, sizeof(tiny), &err), -1);
	CHECK_STR(err, "msgid: no room");
	CHECK_INT(out.len, 0);
	m.message_id_domain = "bad domain";
	CHECK_INT(mailout_build(tp, &m, &out, a, sizeof(a), &err), -1);
	CHECK_STR(err, "Message-ID: bad domain");
	buf_free(&out);
}

static void test_threading(void)
{
	struct mailout m = base();
	struct buf refs;
	const char *err, *msg;

	m.in_reply_to = "parent@x.test";
	m.references = "root@x.test mid@x.test";
	msg = build(&m, &err);
	CHECK_STR(header(msg, "In-Reply-To"), "In-Reply-To: <parent@x.test>\r\n");
	CHECK_STR(header(msg, "References"),
		  "References: <root@x.test> <mid@x.test> <parent@x.test>\r\n");
	/* the parent already last: not twice; bad ids left out */
	m.references = "root@x.test b<a>d@x.test parent@x.test";
	CHECK_STR(header(build(&m, &err), "References"),
		  "References: <root@x.test> <parent@x.test>\r\n");
	m.in_reply_to = "with space@x";
	m.references = NULL;
	msg = build(&m, &err);
	CHECK(header(msg, "In-Reply-To") == NULL && header(msg, "References") == NULL);
	/* 30 ids: the first and the last 19 */
	buf_init(&refs, 4096);
	for (int i = 0; i < 30; i++)
		buf_printf(&refs, "id%d@long-host-name.example.jp ", i);
	m.in_reply_to = NULL;
	m.references = refs.data;
	msg = header(build(&m, &err), "References");
	CHECK(msg != NULL && strstr(msg, "<id0@") != NULL && strstr(msg, "<id1@") == NULL &&
	      strstr(msg, "<id10@") == NULL && strstr(msg, "<id11@") != NULL &&
	      strstr(msg, "<id29@") != NULL);
	CHECK_INT(words_ok(msg, 0), 0);
	buf_free(&refs);
}

static void test_addresses(void)
{
	struct mailout m = base();
	const char *err, *msg;
	struct mime_mail mm;

	m.from_name = "横浜市 コールセンター";
	m.to = "Yamada, Taro <taro@example.jp>, 佐藤花子 <hanako@example.jp>, plain@example.jp";
	m.cc = "\"Dr. Who\" <who@x.test>, \"Back\\\\slash \\\"Q\\\"\" <q@x.test>, J. Smith <js@x.test>";
	m.reply_to = " , ";
	msg = build(&m, &err);
	CHECK_STR(header(msg, "From"),
		  "From: =?UTF-8?B?5qiq5rWc5biCIOOCs+ODvOODq+OCu+ODs+OCv+ODvA==?=\r\n"
		  " <center@city.test>\r\n");
	/* a mailbox that fits a line is not split: the fold goes before it */
	CHECK_STR(header(msg, "To"), "To: \"Yamada, Taro\" <taro@example.jp>,\r\n"
				     " =?UTF-8?B?5L2Q6Jek6Iqx5a2Q?= <hanako@example.jp>, plain@example.jp\r\n");
	CHECK_STR(header(msg, "Cc"), "Cc: \"Dr. Who\" <who@x.test>, \"Back\\\\slash \\\"Q\\\"\" <q@x.test>,\r\n"
				     " \"J. Smith\" <js@x.test>\r\n");
	CHECK(header(msg, "Reply-To") == NULL);
	mm = reread(msg);
	CHECK_STR(mm.from_name, "横浜市 コールセンター");
	CHECK_STR(mm.from_addr, "center@city.test");
	CHECK_STR(mm.to, "Yamada, Taro <taro@example.jp>, 佐藤花子 <hanako@example.jp>, plain@example.jp");

	m.iso2022jp = 1;
	m.to = "㈱髙﨑 <t@x.jp>, 山田 <y@x.jp>";
	CHECK_STR(header(build(&m, &err), "To"),
		  "To: =?UTF-8?B?44ix6auZ76iR?= <t@x.jp>,\r\n"
		  " =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <y@x.jp>\r\n");
}

static void test_address_errors(void)
{
	struct mailout m = base();
	struct buf out;
	char id[128];
	const char *err = NULL;
	static const char *const bad[] = { "Taro <not an address>", "Taro <a@b", "<a@b> trailing",
					   "\"a b\"@c.test", "a@b@c", "@b", "a@", "名前@例え.jp" };

	buf_init(&out, 1u << 20);
	buf_append_str(&out, "kept");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m.to = bad[i];
		CHECK_INT(mailout_build(tp, &m, &out, id, sizeof(id), &err), -1);
		CHECK_STR(err, "To: an entry is not a plain address");
		CHECK_STR(out.data, "kept");
	}
	m.to = NULL;
	CHECK_INT(mailout_build(tp, &m, &out, id, sizeof(id), &err), -1);
	CHECK_STR(err, "To: no recipient in To or Cc");
	m.to = "a@b.test";
	m.from_addr = NULL;
	CHECK_INT(mailout_build(tp, &m, &out, id, sizeof(id), &err), -1);
	CHECK_STR(err, "From: no address");
	m.from_addr = "c@d.test";
	m.subject = "\xff";
	CHECK_INT(mailout_build(tp, &m, &out, id, sizeof(id), &err), -1);
	CHECK_STR(err, "Subject: not valid UTF-8");
	CHECK_STR(out.data, "kept");
	buf_free(&out);
}

static void test_body(void)
{
	struct mailout m = base();
	const char *err, *msg;

	/* LF, CRLF and lone CR all become CRLF; a last one is added */
	m.body = "あ\rい\r\nう";
	msg = build(&m, &err);
	CHECK(strstr(msg, "Content-Type: text/plain; charset=UTF-8\r\n"
			  "Content-Transfer-Encoding: base64\r\n\r\n"
			  "44GCDQrjgYQNCuOBhg0K\r\n") != NULL);
	CHECK_STR(reread(msg).body_text, "あ\nい\nう\n");
	/* ISO-2022-JP: each line back in ASCII mode, 7bit */
	m.iso2022jp = 1;
	m.body = "住民票\nabc\n";
	msg = build(&m, &err);
	CHECK(strstr(msg, "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
			  "Content-Transfer-Encoding: 7bit\r\n\r\n"
			  "\033$B=;L1I<\033(B\r\nabc\r\n") != NULL);
	/* an emoji: the body falls back to UTF-8 */
	m.body = "住民票😀\n";
	msg = build(&m, &err);
	CHECK(strstr(msg, "charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n") != NULL);
	CHECK_STR(reread(msg).body_text, "住民票😀\n");
	/* a control character in ASCII text: base64, not 7bit */
	m.iso2022jp = 0;
	m.body = "bell\a\n";
	CHECK(strstr(build(&m, &err), "Content-Transfer-Encoding: base64\r\n\r\nYmVsbAcNCg==\r\n") != NULL);
	m.body = "\xe3\x81";
	CHECK(build(&m, &err) == NULL);
	CHECK_STR(err, "body: not valid UTF-8");
}

static void test_attachments(void)
{
	static const unsigned char bin[] = { 0, 1, 2, 0xff, 0xfe, '\r', '\n', 0 };
	struct mailout_attachment att[3] = {
		{ "申請書（記入例）令和八年度版_最終版のファイル名がとても長い場合.pdf", "application/pdf", bin, sizeof(bin) },
		{ "plain.txt", NULL, (const unsigned char *)"", 0 },
		{ NULL, "text/csv", (const unsigned char *)"a,b\r\n", 5 },
	};
	struct mailout m = base();
	const char *err, *msg;
	struct mime_mail mm;

	m.att = att;
	m.natt = 3;
	m.message_id = "fixed.2@city.test";
	msg = build(&m, &err);
	CHECK(strstr(msg, "Content-Type: multipart/mixed;\r\n boundary=\"=_mdg_fixed_2_city_test\"\r\n") != NULL);
	CHECK(strstr(msg, "Content-Disposition: attachment;\r\n"
			  " filename*0*=UTF-8''%E7%94%B3%E8%AB%8B%E6%9B%B8%EF%BC%88%E8%A8%98%E5%85%A5;\r\n"
			  " filename*1*=%E4%BE%8B%EF%BC%89%E4%BB%A4%E5%92%8C%E5%85%AB%E5%B9%B4%E5%BA%A6;\r\n") != NULL);
	CHECK(strstr(msg, "Content-Type: application/octet-stream; name=\"plain.txt\"\r\n"
			  "Content-Disposition: attachment; filename=\"plain.txt\"\r\n") != NULL);
	CHECK(strstr(msg, "Content-Type: text/csv\r\nContent-Disposition: attachment\r\n") != NULL);
	CHECK(strstr(msg, "\r\n--=_mdg_fixed_2_city_test--\r\n") != NULL);
	mm = reread(msg);
	CHECK_INT(mm.natt, 3);
	if (mm.natt == 3) {
		CHECK_STR(mm.att[0].filename, att[0].filename);
		CHECK_INT(mm.att[0].size, sizeof(bin));
		CHECK(memcmp(mm.att[0].data, bin, sizeof(bin)) == 0);
		CHECK_STR(mm.att[1].filename, "plain.txt");
		CHECK_INT(mm.att[2].size, 5);
	}
	CHECK_STR(mm.body_text, "x\n");
	att[1].content_type = "text/plain; charset=x";
	CHECK(build(&m, &err) == NULL);
	CHECK_STR(err, "attachment: bad content type");
	att[1].content_type = NULL;
	att[1].filename = "a\tb";
	CHECK(build(&m, &err) == NULL);
	CHECK_STR(err, "attachment: file name not valid UTF-8 or with a control character");
}

/* a 7bit text holding the boundary gets another one */
static void test_boundary_collision(void)
{
	static const struct mailout_attachment att = { "a.bin", NULL, (const unsigned char *)"x", 1 };
	struct mailout m = base();
	const char *err, *msg;

	m.att = &att;
	m.natt = 1;
	m.message_id = "fixed.3@city.test";
	m.body = "--=_mdg_fixed_3_city_test\n";
	msg = build(&m, &err);
	CHECK(strstr(msg, "boundary=\"=_mdg_fixed_3_city_test_1\"") != NULL);
	CHECK_STR(reread(msg).body_text, "--=_mdg_fixed_3_city_test\n");
}

/* ---- sweeps: every length, both charsets, names and subjects ---- */

static void test_fold_sweep(void)
{
	static const char *const pieces[] = { "住", "民", "票", "a", " ", "😀", "Re:", "ｱ", "①" };
	struct mailout m = base();
	struct buf s;
	int bad = 0;

	buf_init(&s, 1u << 16);
	for (int jis = 0; jis <= 1; jis++) {
		m.iso2022jp = jis;
		for (int len = 1; len <= 160; len++) {
			const char *err, *msg, *h;
			struct mime_mail mm;

			buf_reset(&s);
			for (int i = 0; i < len; i++) /* no blank first or last: readers trim them */
				buf_append_str(&s, i == 0 || i == len - 1 ? "窓" : pieces[(i * 7 + len) % 9]);
			m.subject = s.data;
			m.from_name = s.data;
			msg = build(&m, &err);
			h = msg != NULL ? header(msg, "Subject") : NULL;
			if (h == NULL || words_ok(h, 0) < 0 || words_ok(header(msg, "From"), 0) < 0) {
				if (bad++ < 3)
					printf("  subject of %d pieces (jis %d) broke a rule:\n%s", len, jis, h);
				continue;
			}
			mm = reread(msg);
			if (strcmp(mm.subject, s.data) != 0 || strcmp(mm.from_name, s.data) != 0) {
				if (bad++ < 3)
					printf("  %d pieces (jis %d) read back as \"%s\" / \"%s\"\n", len, jis,
					       mm.subject, mm.from_name);
			}
		}
	}
	CHECK_INT(bad, 0);
	buf_free(&s);
}

static void test_jis_words(void)
{
	struct mailout m = base();
	const char *h;
	int bad = 0;

	m.iso2022jp = 1;
	for (int len = 1; len <= 120; len++) {
		struct buf s;

		buf_init(&s, 4096);
		for (int i = 0; i < len; i++)
			buf_append_str(&s, i % 5 == 4 ? "x" : "窓"); /* mode changes inside words */
		m.subject = s.data;
		h = subject_of(&m);
		if (words_ok(h, 1) < 1 && bad++ < 3)
			printf("  %d characters: %s", len, h);
		buf_free(&s);
	}
	CHECK_INT(bad, 0);
}

/* ---- charset_utf8_to_jis ---- */

static const char *jis(const char *s)
{
	struct charset_text t;
	int r = charset_utf8_to_jis(tp, s, strlen(s), &t);

	return r == 1 ? t.s : r == 0 ? "(no)" : "(error)";
}

static void test_charset_to_jis(void)
{
	CHECK_STR(jis("あ"), "\033$B$\"\033(B");
	CHECK_STR(jis("abc"), "abc");
	CHECK_STR(jis(""), "");
	CHECK_STR(jis("¥"), "\033(J\\\033(B");
	CHECK_STR(jis("―"), "\033$B!=\033(B"); /* U+2015: both tables agree */
	CHECK_STR(jis("①"), "(no)");        /* NEC row 13 */
	CHECK_STR(jis("㈱"), "(no)");
	CHECK_STR(jis("髙"), "(no)");        /* IBM extension */
	CHECK_STR(jis("﨑"), "(no)");
	CHECK_STR(jis("😀"), "(no)");
	CHECK_STR(jis("ｱ"), "(no)");         /* half-width kana */
	CHECK_STR(jis("～"), "(no)");        /* U+FF5E: Python reads 0x2141 as U+301C */
	CHECK_STR(jis("〜"), "(no)");        /* U+301C: ICU does not write it */
	CHECK_STR(jis("－"), "(no)");
	CHECK_STR(jis("∥"), "(no)");
	CHECK_STR(jis("￠"), "(no)");
	CHECK_STR(jis("￡"), "(no)");
	CHECK_STR(jis("￢"), "(no)");
	CHECK_STR(jis("a\033(Bb"), "(no)");  /* a literal escape */
	CHECK_STR(jis("\xe3\x81"), "(error)");
}

/* ---- subject tags ---- */

static void test_tags(void)
{
	static const char *const formats[] = { "[受付番号:%d]", "[#T-%d#]", "(%d)", "Ticket %d:",
					       "%%%d%%", "[*.+?^$|\\%d]", "%d]", "#%d" };
	long long id;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		const char *s = mailout_tag_subject(tp, formats[i], 12345, "Re: 住民票の件");
		const char *again = mailout_tag_subject(tp, formats[i], 12345, s);
		const char *fwd = pool_printf(tp, "Fwd: 転送 %s", s);

		id = -1;
		CHECK(s != NULL && mailout_find_tag(formats[i], s, &id) == 1 && id == 12345);
		CHECK(again == s); /* already tagged: unchanged */
		id = -1;
		CHECK(mailout_find_tag(formats[i], fwd, &id) == 1 && id == 12345);
		CHECK_INT(mailout_find_tag(formats[i], "Re: 住民票の件 12", &id),
			  0);
	}
	CHECK_STR(mailout_tag_subject(tp, "[受付番号:%d]", 12345, "Re: 住民票"), "[受付番号:12345] Re: 住民票");
	CHECK_STR(mailout_tag_subject(tp, "[#T-%d#]", 7, ""), "[#T-7#]");
	CHECK_STR(mailout_tag_subject(tp, "%%%d%%", 7, "x"), "%7% x");
	/* another ticket's tag: ours goes in front */
	CHECK_STR(mailout_tag_subject(tp, "[#T-%d#]", 8, "[#T-7#] x"), "[#T-8#] [#T-7#] x");
	CHECK_STR(mailout_tag_subject(tp, "[#T-%d#]", 7, "[#T-8#] [#T-7#] x"), "[#T-8#] [#T-7#] x");
	/* literal matching: the regex reading of "[#T-%d#]" does not match */
	CHECK_INT(mailout_find_tag("[#T-%d#]", "#T-5#", &id), 0);
	CHECK_INT(mailout_find_tag("[#T-%d#]", "[#T-#] [#T-x#] [#T-5#]", &id), 1);
	CHECK_INT(id, 5);
	CHECK_INT(mailout_find_tag("[#T-%d#]", "[#T-12345678901234567890#]", &id), 0);
	CHECK_INT(mailout_find_tag("[#T-%d#]", "[#T-007#]", &id), 1);
	CHECK_INT(id, 7);
	CHECK_INT(mailout_find_tag("%d]", "a 12] b", &id), 1);
	CHECK_INT(id, 12);
	CHECK_INT(mailout_find_tag("(%d)", "（１２）", &id), 0); /* full-width is not the tag */
	/* invalid formats */
	CHECK(mailout_tag_subject(tp, "[%d-%d]", 1, "x") == NULL);
	CHECK(mailout_tag_subject(tp, "[%s]", 1, "x") == NULL);
	CHECK(mailout_tag_subject(tp, "[none]", 1, "x") == NULL);
	CHECK(mailout_tag_subject(tp, "%d", 1, "x") == NULL);
	CHECK(mailout_tag_subject(tp, "[%d]", -1, "x") == NULL);
	CHECK(mailout_tag_subject(tp, NULL, 1, "x") == NULL);
	CHECK_INT(mailout_find_tag("[%d-%d]", "[1-2]", &id), 0);
	CHECK_INT(mailout_find_tag("[%d]", NULL, &id), 0);
}

static void test_out_limit(void)
{
	struct mailout m = base();
	struct buf out;
	char id[128];
	const char *err = NULL;

	buf_init(&out, 300);
	m.body = "a long enough body to pass three hundred bytes with the headers\n";
	m.subject = SUBJECT60;
	CHECK_INT(mailout_build(tp, &m, &out, id, sizeof(id), &err), -1);
	CHECK(err != NULL && strstr(err, "message too large") != NULL);
	CHECK_INT(out.len, 0);
	buf_free(&out);
}

int main(void)
{
	tp = pool_create(0);
	RUN(test_whole_ascii_message);
	RUN(test_ascii_subject_stays);
	RUN(test_japanese_subject_folds);
	RUN(test_subject_mixed);
	RUN(test_date);
	RUN(test_message_id);
	RUN(test_threading);
	RUN(test_addresses);
	RUN(test_address_errors);
	RUN(test_body);
	RUN(test_attachments);
	RUN(test_boundary_collision);
	RUN(test_fold_sweep);
	RUN(test_jis_words);
	RUN(test_charset_to_jis);
	RUN(test_tags);
	RUN(test_out_limit);
	pool_destroy(tp);
	return TEST_END();
}
