/* Unit tests for settings: the pin's hex form, and the checks across keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "settings.h"
#include "testlib.h"

static const struct config_key *const tables[] = { config_common_keys, settings_keys, NULL };
static char dir[] = "/tmp/test_settings.XXXXXX";

/* write etc/madoguchi.conf with body and load it */
static int load(const char *body, struct settings *s, char *err, size_t errlen)
{
	char path[256];
	struct config *cfg;
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/etc/madoguchi.conf", dir);
	f = fopen(path, "w");
	fputs(body, f);
	fclose(f);
	cfg = config_load(path, tables, err, errlen);
	if (cfg == NULL)
		return -2;
	r = settings_from_config(s, cfg, err, errlen);
	if (r == 0) {
		/* strings point into cfg: check what we need, then free */
		r = s->port * 10 + (int)s->source;
		settings_free(s);
	}
	config_free(cfg);
	return r;
}

static void test_settings_checks(void)
{
	struct settings s;
	char err[512], body[1024], pw[256];
	FILE *f;

	CHECK_INT(load("", &s, err, sizeof(err)), 0); /* maildir by default */
	CHECK_INT(load("[ingest_mail]\nsource = imaps\nimap_user = u\nimap_password = p\n", &s,
		       err, sizeof(err)), -1);
	CHECK(strstr(err, "imap_host") != NULL);
	CHECK_INT(load("[ingest_mail]\nsource = imaps\nimap_host = h\nimap_user = u\n"
		       "imap_password = p\n", &s, err, sizeof(err)), 9932);
	CHECK_INT(load("[ingest_mail]\nsource = starttls\nimap_host = h\nimap_user = u\n"
		       "imap_password = p\n", &s, err, sizeof(err)), 1433);
	CHECK_INT(load("[ingest_mail]\nsource = imaps\nimap_host = h\nimap_user = u\n"
		       "imap_password = p\nimap_after = move\n", &s, err, sizeof(err)), -1);
	CHECK(strstr(err, "imap_move_to") != NULL);
	CHECK_INT(load("[ingest_mail]\nsource = imaps\nimap_host = h\nimap_user = u\n"
		       "imap_password = p\nimap_pin_sha256 = 12:34\n", &s, err, sizeof(err)), -1);
	CHECK(strstr(err, "64 hex digits") != NULL);
	CHECK_INT(load("[ingest_mail]\nsource = pop3\n", &s, err, sizeof(err)), -1);
	CHECK_INT(load("[ingest_mail]\nimap_after = delete\n", &s, err, sizeof(err)), -1);
	CHECK_INT(load("[ingest_mail]\nsource = imaps\nimap_host = h\nimap_user = u\n", &s, err,
		       sizeof(err)), -1);
	CHECK(strstr(err, "no IMAP password") != NULL);
	/* the password file: first line, without its line end */
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	f = fopen(pw, "w");
	fputs("s3cret pass\r\nsecond line\n", f);
	fclose(f);
	snprintf(body, sizeof(body), "[ingest_mail]\nsource = imaps\nimap_host = h\n"
		 "imap_user = u\nimap_password_file = %s\n", pw);
	{
		char path[256];
		struct config *cfg;

		snprintf(path, sizeof(path), "%s/etc/madoguchi.conf", dir);
		f = fopen(path, "w");
		fputs(body, f);
		fclose(f);
		cfg = config_load(path, tables, err, sizeof(err));
		CHECK(cfg != NULL);
		CHECK_INT(settings_from_config(&s, cfg, err, sizeof(err)), 0);
		CHECK_STR(s.password, "s3cret pass");
		settings_free(&s);
		config_free(cfg);
	}
	unlink(pw);
	CHECK_INT(load(body, &s, err, sizeof(err)), -1); /* file gone */
	CHECK(strstr(err, "could not open") != NULL);
}

int main(void)
{
	char sub[300];

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	mkdir(sub, 0700);
	RUN(test_settings_checks);
	snprintf(sub, sizeof(sub), "rm -rf %s", dir);
	if (system(sub) != 0)
		return 1;
	return TEST_END();
}
