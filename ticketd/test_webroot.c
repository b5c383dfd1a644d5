/* Static file paths and types. */
#include "webroot.h"
#include "testlib.h"

static void test_paths(void)
{
	CHECK_INT(webroot_path_ok("/"), 1);
	CHECK_INT(webroot_path_ok("/index.html"), 1);
	CHECK_INT(webroot_path_ok("/js/app.js"), 1);
	CHECK_INT(webroot_path_ok("/js/"), 1);
	CHECK_INT(webroot_path_ok("/../etc/passwd"), 0);
	CHECK_INT(webroot_path_ok("/js/../../x"), 0);
	CHECK_INT(webroot_path_ok("/js/.."), 0);
	CHECK_INT(webroot_path_ok("/./index.html"), 0);
	CHECK_INT(webroot_path_ok("/.git/config"), 0);
	CHECK_INT(webroot_path_ok("//etc/passwd"), 0);
	CHECK_INT(webroot_path_ok("/js//app.js"), 0);
	CHECK_INT(webroot_path_ok("/a\\..\\b"), 0);
	CHECK_INT(webroot_path_ok("index.html"), 0);
	CHECK_INT(webroot_path_ok(""), 0);
}

static void test_types(void)
{
	CHECK_STR(webroot_type("/index.html"), "text/html; charset=utf-8");
	CHECK_STR(webroot_type("/js/app.js"), "text/javascript; charset=utf-8");
	CHECK_STR(webroot_type("/a.CSS"), "text/css; charset=utf-8");
	CHECK_STR(webroot_type("/i.svg"), "image/svg+xml");
	CHECK_STR(webroot_type("/i.png"), "image/png");
	CHECK_STR(webroot_type("/f.woff2"), "font/woff2");
	CHECK_STR(webroot_type("/x.exe"), "application/octet-stream");
	CHECK_STR(webroot_type("/v.1/README"), "application/octet-stream");
}

int main(void)
{
	RUN(test_paths);
	RUN(test_types);
	return TEST_END();
}
