/* Download names and types: exact header values for the cases that
 * matter (Japanese names, quotes, separators, broken UTF-8, scriptable
 * types). */
#include "messages.h"
#include "pool.h"
#include "testlib.h"

static struct pool *p;

static void test_disposition_ascii(void)
{
	CHECK_STR(messages_disposition(p, "report.pdf"),
		  "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
	CHECK_STR(messages_disposition(p, ""),
		  "attachment; filename=\"attachment\"; filename*=UTF-8''attachment");
	CHECK_STR(messages_disposition(p, NULL),
		  "attachment; filename=\"attachment\"; filename*=UTF-8''attachment");
}

static void test_disposition_japanese(void)
{
	/* 申請書 (2).pdf */
	CHECK_STR(messages_disposition(p, "\xe7\x94\xb3\xe8\xab\x8b\xe6\x9b\xb8 (2).pdf"),
		  "attachment; filename=\"___ (2).pdf\"; "
		  "filename*=UTF-8''%E7%94%B3%E8%AB%8B%E6%9B%B8%20%282%29.pdf");
}

static void test_disposition_hostile(void)
{
	CHECK_STR(messages_disposition(p, "a\"b\\c/d%e.txt"),
		  "attachment; filename=\"a_b_c_d_e.txt\"; filename*=UTF-8''a%22b_c_d%25e.txt");
	CHECK_STR(messages_disposition(p, "x\r\ny"),
		  "attachment; filename=\"x__y\"; filename*=UTF-8''x__y");
	/* a lone continuation byte and a truncated sequence */
	CHECK_STR(messages_disposition(p, "a\x80" "b\xe7\x94"),
		  "attachment; filename=\"a_b__\"; filename*=UTF-8''a_b__");
	/* an overlong encoding of '/' */
	CHECK_STR(messages_disposition(p, "\xc0\xaf"),
		  "attachment; filename=\"__\"; filename*=UTF-8''__");
}

static void test_disposition_long(void)
{
	char name[2000];
	const char *d;

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	d = messages_disposition(p, name);
	CHECK(d != NULL);
	/* 512 bytes kept in each form */
	CHECK_INT(strlen(d), strlen("attachment; filename=\"\"; filename*=UTF-8''") + 2 * 512);
}

static void test_safe_type(void)
{
	CHECK_STR(messages_safe_type(p, "application/pdf"), "application/pdf");
	CHECK_STR(messages_safe_type(p, "Image/PNG; name=\"a.png\""), "image/png");
	CHECK_STR(messages_safe_type(p, "text/plain; charset=iso-2022-jp"), "text/plain");
	CHECK_STR(messages_safe_type(p, "text/html"), "application/octet-stream");
	CHECK_STR(messages_safe_type(p, "TEXT/HTML; charset=utf-8"), "application/octet-stream");
	CHECK_STR(messages_safe_type(p, "image/svg+xml"), "application/octet-stream");
	CHECK_STR(messages_safe_type(p, "application/xhtml+xml"), "application/octet-stream");
	CHECK_STR(messages_safe_type(p, "application/javascript"), "application/octet-stream");
	CHECK_STR(messages_safe_type(p, "text/xml"), "application/octet-stream");
	CHECK_STR(messages_safe_type(p, "image/png\r\nX-Evil: 1"), "application/octet-stream");
	CHECK_STR(messages_safe_type(p, ""), "application/octet-stream");
	CHECK_STR(messages_safe_type(p, "image/"), "application/octet-stream");
}

int main(void)
{
	p = pool_create(0);
	RUN(test_disposition_ascii);
	RUN(test_disposition_japanese);
	RUN(test_disposition_hostile);
	RUN(test_disposition_long);
	RUN(test_safe_type);
	pool_destroy(p);
	return TEST_END();
}
