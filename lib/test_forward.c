/* Unit tests for forward: each client's forward format from a fixture in
 * lib/testdata/forward/ (written for these tests), through mime_parse as
 * intake sees it; a redirect (Resent-*), a forward as attachment, a reply
 * that must not count; the free-text dates of forward blocks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forward.h"
#include "mime.h"
#include "pool.h"
#include "testlib.h"

#define TESTDATA MDG_SRCDIR "/lib/testdata/forward/"

/* 2026-11-20 09:04 and 09:04:05 and 15:04 in Tokyo, as UTC microseconds */
#define T0904 (INT64_C(1795133040) * 1000000)
#define T090405 (INT64_C(1795133045) * 1000000)
#define T1504 (INT64_C(1795154640) * 1000000)

static struct pool *tp;

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *d;
	long n;

	snprintf(path, sizeof(path), "%s%s", TESTDATA, name);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (d = malloc((size_t)n + 1)) == NULL) {
		printf("  cannot read %s\n", path);
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	*len = fread(d, 1, (size_t)n, f);
	fclose(f);
	return d;
}

struct expect {
	const char *file;
	const char *kind; /* NULL: no forward */
	const char *from_name, *from_addr, *to, *subject;
	int64_t date_us;
};

static void check_fixture(const struct expect *e)
{
	struct mime_mail m;
	size_t len = 0;
	char *raw = slurp(e->file, &len);

	CHECK(raw != NULL);
	if (raw == NULL)
		return;
	CHECK_INT(mime_parse(tp, raw, len, NULL, &m), 0);
	CHECK_INT(m.state, MIME_OK);
	if (e->kind == NULL) {
		CHECK(m.forward.kind == NULL);
		CHECK_STR(m.forward.from_addr, "");
	} else {
		CHECK_STR(m.forward.kind, e->kind);
	}
	if (e->kind != NULL) {
		CHECK_STR(m.forward.from_name, e->from_name);
		CHECK_STR(m.forward.from_addr, e->from_addr);
		CHECK_STR(m.forward.to, e->to);
		CHECK_STR(m.forward.subject, e->subject);
		CHECK_INT(m.forward.date_us, e->date_us);
	}
	if (testlib_case_failed)
		printf("  (in %s)\n", e->file);
	free(raw);
	pool_clear(tp);
}

static void test_outlook(void)
{
	static const struct expect ex[] = {
		{ "outlook_en.eml", "inline", "Taro Yamada", "taro.yamada@example.jp",
		  "Environment Division <kankyo@city.example.lg.jp>", "Noise from the construction site",
		  T0904 },
		{ "outlook_ja.eml", "inline", "山田 太郎", "taro.yamada@example.jp",
		  "道路課 <doro@city.example.lg.jp>", "道路の陥没について", T0904 },
		{ "outlook_ja_moto.eml", "inline", "山田 太郎", "taro.yamada@example.jp", "道路課",
		  "街灯が点きません", T1504 },
		/* Outlook 365 HTML: no marker line, only the fields */
		{ "outlook_html.eml", "inline", "Taro Yamada", "taro.yamada@example.jp",
		  "Environment Division <kankyo@city.example.lg.jp>", "Illegal dumping", T0904 },
		/* a reply carries the same block: not a forward */
		{ "outlook_reply.eml", NULL, NULL, NULL, NULL, NULL, 0 },
	};

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		check_fixture(&ex[i]);
}

static void test_thunderbird(void)
{
	static const struct expect ex[] = {
		{ "thunderbird_en.eml", "inline", "Hanako Sato", "hanako@example.jp",
		  "info@city.example.lg.jp", "Broken street light", T090405 },
		{ "thunderbird_ja.eml", "inline", "佐藤 花子", "hanako@example.jp",
		  "seiso@city.example.lg.jp", "ごみ収集日の変更", T090405 },
	};

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		check_fixture(&ex[i]);
}

static void test_gmail(void)
{
	static const struct expect ex[] = {
		{ "gmail_en.eml", "inline", "Jiro Tanaka", "jiro.tanaka@example.com",
		  "<zeimu@city.example.lg.jp>", "Question about resident tax", T0904 },
		{ "gmail_ja.eml", "inline", "田中 次郎", "jiro.tanaka@example.com",
		  "<zeimu@city.example.lg.jp>", "住民税について", T0904 },
		{ "gmail_ja_kanji.eml", "inline", "田中 次郎", "jiro.tanaka@example.com",
		  "<seiso@city.example.lg.jp>", "粗大ごみの申し込み", T0904 },
	};

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		check_fixture(&ex[i]);
}

static void test_apple(void)
{
	static const struct expect ex = { "apple.eml", "inline", "Yoko Ito", "yoko.ito@example.net",
					  "koen@city.example.lg.jp", "Park bench repair", T090405 };

	check_fixture(&ex);
}

static void test_resent(void)
{
	static const struct expect ex = { "resent.eml", "resent", "山田 太郎", "taro.yamada@example.jp",
					  "環境課 <kankyo@city.example.lg.jp>", "騒音の苦情", T090405 };
	struct mime_mail m;
	size_t len = 0;
	char *raw = slurp("resent.eml", &len);

	check_fixture(&ex);
	if (raw == NULL)
		return;
	mime_parse(tp, raw, len, NULL, &m);
	CHECK_STR(m.resent_from, "kankyo@city.example.lg.jp");
	CHECK_STR(m.resent_to, "madoguchi@city.example.lg.jp");
	CHECK_INT(m.resent_date_us, INT64_C(1795396500) * 1000000);
	free(raw);
	pool_clear(tp);
}

static void test_rfc822(void)
{
	static const struct expect ex = { "rfc822.eml", "rfc822", "佐藤 花子", "hanako@example.jp",
					  "kankyo@city.example.lg.jp", "空き家の草木について", T090405 };
	struct mime_mail m;
	size_t len = 0;
	char *raw = slurp("rfc822.eml", &len);

	check_fixture(&ex);
	if (raw == NULL)
		return;
	mime_parse(tp, raw, len, NULL, &m);
	CHECK_STR(m.body_text, "添付のメールを転送します。\n");
	CHECK_INT(m.natt, 1);
	if (m.natt == 1 && m.att[0].nested != NULL) {
		CHECK_STR(m.att[0].filename, "空き家の草木について.eml");
		CHECK_STR(m.att[0].nested->message_id, "inner-1@example.jp");
		CHECK_STR(m.att[0].nested->body_text, "隣の空き家の木が道路にはみ出しています。\n");
	} else {
		CHECK(0);
	}
	/* a long text beside the attached mail: a mail of its own, no forward */
	{
		struct pool *p = pool_create(0);
		char *big = pool_alloc(p, len + 2000);
		const char *mark = strstr(raw, "添付のメール");
		size_t pre = (size_t)(mark - raw);

		memcpy(big, raw, pre);
		memset(big + pre, 'x', 1100);
		memcpy(big + pre + 1100, raw + pre, len - pre);
		mime_parse(p, big, len + 1100, NULL, &m);
		CHECK(m.forward.kind == NULL);
		CHECK(m.natt == 1 && m.att[0].nested != NULL);
		pool_destroy(p);
	}
	free(raw);
	pool_clear(tp);
}

static int64_t fdate(const char *s)
{
	int64_t us = -1;

	return forward_date(s, strlen(s), &us) < 0 ? -1 : us;
}

static void test_dates(void)
{
	CHECK_INT(fdate("2026年11月20日(金) 9:04"), T0904);
	CHECK_INT(fdate("2026年11月20日 金曜日 9:04"), T0904);
	CHECK_INT(fdate("2026年11月20日（金） 午前9:04"), T0904);
	CHECK_INT(fdate("2026年11月20日 午後3:04"), T1504);
	CHECK_INT(fdate("2026年11月20日 15時04分"), T1504);
	CHECK_INT(fdate("2026年11月20日 9時04分05秒"), T090405);
	CHECK_INT(fdate("２０２６年１１月２０日 ９:０４"), T0904);
	CHECK_INT(fdate("Friday, November 20, 2026 9:04 AM"), T0904);
	CHECK_INT(fdate("Friday, November 20, 2026 3:04 PM"), T1504);
	CHECK_INT(fdate("Fri, Nov 20, 2026 at 9:04 AM"), T0904);
	CHECK_INT(fdate("Fri, 20 Nov 2026 09:04:00 +0900"), T0904);
	CHECK_INT(fdate("Fri, 20 Nov 2026 00:04:00 +0000"), T0904);
	CHECK_INT(fdate("November 20, 2026 at 9:04:05 GMT+9"), T090405);
	CHECK_INT(fdate("2026/11/20 9:04"), T0904);
	CHECK_INT(fdate("2026/11/20 (金) 15:04"), T1504);
	CHECK_INT(fdate("2026-11-20 09:04"), T0904);
	CHECK_INT(fdate("先週の金曜日"), -1);
	CHECK_INT(fdate("11月20日 9:04"), -1); /* no year */
	CHECK_INT(fdate(""), -1);
}

static void test_subject_fw(void)
{
	CHECK_INT(forward_subject_fw("FW: x"), 1);
	CHECK_INT(forward_subject_fw("Fwd: x"), 1);
	CHECK_INT(forward_subject_fw("fw : x"), 1);
	CHECK_INT(forward_subject_fw("[Fwd: x]"), 1);
	CHECK_INT(forward_subject_fw("転送: x"), 1);
	CHECK_INT(forward_subject_fw("FW：x"), 1);
	CHECK_INT(forward_subject_fw("RE: FW: x"), 0);
	CHECK_INT(forward_subject_fw("Fwdx: x"), 0);
	CHECK_INT(forward_subject_fw("Fwd"), 0);
	CHECK_INT(forward_subject_fw(""), 0);
}

static void test_inline_forms(void)
{
	struct mime_forward f;

	/* quoted, a full-width colon, an address alone */
	forward_none(&f);
	CHECK_INT(forward_inline(tp,
				 "> ---------- Forwarded message ---------\n"
				 "> From： hanako@example.jp\n> Subject： 相談\n>\n> 本文\n",
				 0, &f),
		  1);
	CHECK_STR(f.kind, "inline");
	CHECK_STR(f.from_name, "");
	CHECK_STR(f.from_addr, "hanako@example.jp");
	CHECK_STR(f.subject, "相談");
	CHECK_STR(f.to, "");
	CHECK_INT(f.date_us, 0);
	/* fields we do not keep (Cc, Importance) are read past */
	CHECK_INT(forward_inline(tp,
				 "-------- Forwarded Message --------\nSubject: s\nCc: c@example.jp\n"
				 "Importance: High\n重要度: 高\nFrom: d@example.jp\n\nbody\n",
				 0, &f),
		  1);
	CHECK_STR(f.subject, "s");
	CHECK_STR(f.from_addr, "d@example.jp");
	/* a name alone, quoted */
	CHECK_INT(forward_inline(tp, "-----Original Message-----\n差出人: \"山田 太郎\"\n件名: x\n",
				 1, &f),
		  1);
	CHECK_STR(f.from_name, "山田 太郎");
	CHECK_STR(f.from_addr, "");
	/* Outlook's block without a forward subject, and a marker without
	 * fields: nothing */
	forward_none(&f);
	CHECK_INT(forward_inline(tp, "-----Original Message-----\nFrom: a@b\nSubject: x\n", 0, &f),
		  0);
	CHECK(f.kind == NULL);
	CHECK_INT(forward_inline(tp, "-------- Forwarded Message --------\n\nhello: there\n", 0, &f),
		  0);
	CHECK_INT(forward_inline(tp, "Begin forwarded message:\n", 0, &f), 0);
	CHECK_INT(forward_inline(tp, "", 0, &f), 0);
	/* the first block wins in a forward of a forward */
	CHECK_INT(forward_inline(tp,
				 "Begin forwarded message:\n\nFrom: B <b@example.jp>\nSubject: Fwd: s\n\n"
				 "---------- Forwarded message ---------\nFrom: A <a@example.jp>\n"
				 "Subject: s\n",
				 0, &f),
		  1);
	CHECK_STR(f.from_addr, "b@example.jp");
	CHECK_STR(f.from_name, "B");
	pool_clear(tp);
}

/* a text of nothing but markers stays linear */
static void test_many_markers(void)
{
	size_t n = 200000, k = 0;
	static const char line[] = "---------- Forwarded message ---------\nFrom: x\n";
	char *t = malloc(n * (sizeof(line) - 1) + 1);
	struct mime_forward f;
	clock_t c0;

	for (size_t i = 0; i < n; i++, k += sizeof(line) - 1)
		memcpy(t + k, line, sizeof(line) - 1);
	t[k] = '\0';
	forward_none(&f);
	c0 = clock();
	CHECK_INT(forward_inline(tp, t, 1, &f), 1);
	CHECK_STR(f.from_name, "x");
	/* no block anywhere: every line looked at once */
	for (size_t i = 0; i < k; i++)
		if (t[i] == 'F')
			t[i] = 'G';
	CHECK_INT(forward_inline(tp, t, 1, &f), 0);
	CHECK((double)(clock() - c0) / CLOCKS_PER_SEC < 2.0);
	free(t);
	pool_clear(tp);
}

int main(void)
{
	tp = pool_create(0);
	RUN(test_outlook);
	RUN(test_thunderbird);
	RUN(test_gmail);
	RUN(test_apple);
	RUN(test_resent);
	RUN(test_rfc822);
	RUN(test_dates);
	RUN(test_subject_fw);
	RUN(test_inline_forms);
	RUN(test_many_markers);
	pool_destroy(tp);
	return TEST_END();
}
