/* Unit tests for buf, pool, config, clock and pwhash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "pool.h"
#include "pwhash.h"
#include "testlib.h"
#include "utf8.h"

static void test_buf_bounded(void)
{
	struct buf b;

	buf_init(&b, 10);
	CHECK_INT(buf_append_str(&b, "12345"), 0);
	CHECK_INT(buf_printf(&b, "%d", 678), 0);
	CHECK_STR(b.data, "12345678");
	/* 3 more bytes would make 11 > 10: refused, contents kept */
	CHECK_INT(buf_append_str(&b, "9ab"), -1);
	CHECK_STR(b.data, "12345678");
	CHECK_INT(buf_printf(&b, "%s", "xyz"), -1);
	CHECK_INT(b.len, 8);
	CHECK_INT(buf_append(&b, "90", 2), 0);
	CHECK_INT(b.len, 10);
	buf_free(&b);
}

static void test_pool(void)
{
	struct pool *p = pool_create(100000);
	char *s, *big;

	s = pool_printf(p, "msg=%d: %s", 42, "ok");
	CHECK_STR(s, "msg=42: ok");
	big = pool_alloc(p, 50000);
	CHECK(big != NULL);
	memset(big, 'x', 50000);
	CHECK_STR(s, "msg=42: ok");
	/* over the limit: NULL, not a crash */
	CHECK(pool_alloc(p, 60000) == NULL);
	pool_clear(p);
	CHECK_INT(pool_used(p), 0);
	for (int i = 0; i < 1000; i++)
		CHECK(pool_alloc(p, 64) != NULL);
	CHECK_STR(pool_strndup(p, "abcdef", 3), "abc");
	pool_destroy(p);
}

static const struct config_key test_keys[] = {
	{ "t.name", CFG_STR, "dflt", 0, 0, "" },
	{ "t.count", CFG_INT, "5", 1, 10, "" },
	{ "t.flag", CFG_BOOL, "no", 0, 0, "" },
	{ "t.dir", CFG_PATH, "var/x", 0, 0, "" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static struct config *load_text(const char *text, char *err, size_t errlen)
{
	const struct config_key *const tables[] = { config_common_keys, test_keys, NULL };
	char dir[] = "/tmp/mdgcfgXXXXXX", path[256];
	struct config *cfg;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/etc", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/etc/m.conf", dir);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	cfg = config_load(path, tables, err, errlen);
	unlink(path);
	snprintf(path, sizeof(path), "%s/etc", dir);
	rmdir(path);
	rmdir(dir);
	return cfg;
}

static void test_config(void)
{
	char err[256] = "";
	struct config *cfg;

	cfg = load_text("# c\n[t]\nname = \"hello world\"\ncount=7\n flag = yes\n"
			"[other]\nwhatever = 1\n",
			err, sizeof(err));
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_STR(config_str(cfg, "t.name"), "hello world");
	CHECK_INT(config_int(cfg, "t.count"), 7);
	CHECK_INT(config_bool(cfg, "t.flag"), 1);
	CHECK_STR(config_str(cfg, "log.level"), "info");
	/* relative path: from the folder above etc/ */
	CHECK(strstr(config_path(cfg, "t.dir"), "/var/x") != NULL);
	CHECK(strncmp(config_path(cfg, "t.dir"), "/tmp/mdgcfg", 11) == 0);
	CHECK(strstr(config_path(cfg, "t.dir"), "/etc/") == NULL);
	config_free(cfg);

	CHECK(load_text("[t]\ncount = 11\n", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "t.count") != NULL);
	CHECK(load_text("[t]\nnope = 1\n", err, sizeof(err)) == NULL);
	CHECK(strstr(err, "unknown key \"t.nope\"") != NULL);
	CHECK(strstr(err, ":2:") != NULL);
	CHECK(load_text("t.flag = maybe\n", err, sizeof(err)) == NULL);
}

static void test_clock(void)
{
	char iso[64];

	clock_pin(1798761600000000LL + 123456); /* 2027-01-01T00:00:00Z */
	CHECK_INT(clock_now_us(), 1798761600123456LL);
	CHECK_STR(clock_format_iso(clock_now_us(), iso, sizeof(iso)), "2027-01-01T00:00:00.123456Z");
	clock_unpin();
	CHECK(clock_now_us() > 1700000000000000LL);
}

static void test_pwhash(void)
{
	char h[256], hex[33];

	CHECK_INT(pwhash_make("正しいパスワード", h, sizeof(h)), 0);
	CHECK(strncmp(h, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	CHECK_INT(pwhash_check("正しいパスワード", h), 1);
	CHECK_INT(pwhash_check("wrong", h), 0);
	CHECK_INT(pwhash_check("x", "$1$plain"), -1);
	CHECK_INT(pwhash_random_hex(hex, 16), 0);
	CHECK_INT(strlen(hex), 32);
}

static void test_utf8(void)
{
	struct pool *p = pool_create(0);
	const char *ok = "窓口 ①㈱";
	int rep = 0;

	CHECK_INT(utf8_valid(ok, strlen(ok)), 1);
	CHECK(utf8_clean(p, ok, strlen(ok), &rep) == ok);
	CHECK_INT(rep, 0);
	/* a lone Shift_JIS lead byte, an overlong '/', a surrogate, a NUL */
	CHECK_INT(utf8_valid("a\x82z", 3), 0);
	CHECK_STR(utf8_clean(p, "a\x82z", 3, &rep), "a\xef\xbf\xbdz");
	CHECK_INT(rep, 1);
	CHECK_STR(utf8_clean(p, "\xc0\xaf", 2, NULL), "\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_STR(utf8_clean(p, "\xed\xa0\x80!", 4, NULL),
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!");
	CHECK_STR(utf8_clean(p, "x\0y", 3, NULL), "x\xef\xbf\xbdy");
	/* truncated 3-byte sequence at the end */
	CHECK_STR(utf8_clean(p, "\xe7\xaa", 2, NULL), "\xef\xbf\xbd\xef\xbf\xbd");
	{ /* decode: 窓 (3 bytes), 𠮷 (4), A, and the bad ones give 0 */
		uint32_t c = 0;

		CHECK_INT((int)utf8_decode("窓口", 6, &c), 3);
		CHECK_INT((int)c, 0x7A93);
		CHECK_INT((int)utf8_decode("\xf0\xa0\xae\xb7", 4, &c), 4);
		CHECK_INT((int)c, 0x20BB7);
		CHECK_INT((int)utf8_decode("A", 1, &c), 1);
		CHECK_INT((int)c, 'A');
		CHECK_INT((int)utf8_decode("\xe7\xaa", 2, &c), 0);
		CHECK_INT((int)utf8_decode("\xc0\xaf", 2, &c), 0);
		CHECK_INT((int)utf8_decode("", 0, &c), 0);
	}
	pool_destroy(p);
}

int main(void)
{
	RUN(test_buf_bounded);
	RUN(test_pool);
	RUN(test_config);
	RUN(test_clock);
	RUN(test_pwhash);
	RUN(test_utf8);
	return TEST_END();
}
