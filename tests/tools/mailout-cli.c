/* mailout-cli: lib/mailout from the command line, for tests that check
 * the bytes with another reader (tests/integration/test_mailout_parse.py).
 *
 *   mailout-cli [options] > message      build one mail; "msgid=ID" on stderr
 *     --from-name S --from-addr S --to S --cc S --reply-to S --subject S
 *     --body-file F --in-reply-to S --references S --jis --domain S
 *     --message-id S --date-us N
 *     --att FILE [--att-name S] [--att-type S]   (repeatable; name and type
 *                                                 apply to the last --att)
 *     --tag-format F --tag-id N                  tag the subject first
 *   mailout-cli find-tag FORMAT SUBJECT          prints the id, exit 1 if none
 *
 * Exit 0, or 1 with the reason on stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mailout.h"
#include "pool.h"

#define CLI_FILE_MAX (64u << 20)
#define CLI_ATT_MAX 16

struct cli {
	struct mailout m;
	struct mailout_attachment att[CLI_ATT_MAX];
	const char *tag_format;
	long long tag_id;
};

static unsigned char *cli_read(struct pool *p, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *d;
	size_t n = 0;

	if (f == NULL || (d = pool_alloc(p, CLI_FILE_MAX + 1)) == NULL) {
		fprintf(stderr, "mailout-cli: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	n = fread(d, 1, CLI_FILE_MAX + 1, f);
	fclose(f);
	if (n > CLI_FILE_MAX) {
		fprintf(stderr, "mailout-cli: %s: larger than %u bytes\n", path, CLI_FILE_MAX);
		return NULL;
	}
	d[n] = '\0';
	*len = n;
	return d;
}

static int cli_number(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' ? -1 : 0;
}

/* one option with its value; 0, or -1 for an unknown one or a bad value */
static int cli_option(struct pool *p, struct cli *c, const char *o, const char *v)
{
	struct mailout *m = &c->m;
	struct mailout_attachment *last = m->natt > 0 ? &c->att[m->natt - 1] : NULL;
	long long n;
	size_t len;

	if (strcmp(o, "--from-name") == 0)
		m->from_name = v;
	else if (strcmp(o, "--from-addr") == 0)
		m->from_addr = v;
	else if (strcmp(o, "--to") == 0)
		m->to = v;
	else if (strcmp(o, "--cc") == 0)
		m->cc = v;
	else if (strcmp(o, "--reply-to") == 0)
		m->reply_to = v;
	else if (strcmp(o, "--subject") == 0)
		m->subject = v;
	else if (strcmp(o, "--body-file") == 0)
		return (m->body = (const char *)cli_read(p, v, &len)) != NULL ? 0 : -1;
	else if (strcmp(o, "--in-reply-to") == 0)
		m->in_reply_to = v;
	else if (strcmp(o, "--references") == 0)
		m->references = v;
	else if (strcmp(o, "--domain") == 0)
		m->message_id_domain = v;
	else if (strcmp(o, "--message-id") == 0)
		m->message_id = v;
	else if (strcmp(o, "--date-us") == 0)
		return cli_number(v, &n) == 0 ? (m->date_us = n, 0) : -1;
	else if (strcmp(o, "--tag-format") == 0)
		c->tag_format = v;
	else if (strcmp(o, "--tag-id") == 0)
		return cli_number(v, &c->tag_id);
	else if (strcmp(o, "--att") == 0 && m->natt < CLI_ATT_MAX) {
		last = &c->att[m->natt++];
		last->data = cli_read(p, v, &last->size);
		return last->data != NULL ? 0 : -1;
	} else if (strcmp(o, "--att-name") == 0 && last != NULL)
		last->filename = v;
	else if (strcmp(o, "--att-type") == 0 && last != NULL)
		last->content_type = v;
	else
		return -1;
	return 0;
}

static int cli_find_tag(const char *format, const char *subject)
{
	long long id;

	if (!mailout_find_tag(format, subject, &id))
		return 1;
	printf("%lld\n", id);
	return 0;
}

static int cli_build(struct pool *p, struct cli *c)
{
	struct buf out;
	char msgid[256];
	const char *err = NULL;

	if (c->tag_format != NULL &&
	    (c->m.subject = mailout_tag_subject(p, c->tag_format, c->tag_id, c->m.subject)) == NULL) {
		fprintf(stderr, "mailout-cli: bad tag format\n");
		return 1;
	}
	buf_init(&out, 256u << 20);
	if (mailout_build(p, &c->m, &out, msgid, sizeof(msgid), &err) < 0) {
		fprintf(stderr, "mailout-cli: %s\n", err);
		buf_free(&out);
		return 1;
	}
	fwrite(out.data, 1, out.len, stdout);
	fprintf(stderr, "msgid=%s\n", msgid);
	buf_free(&out);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct pool *p = pool_create(0);
	struct cli *c = pool_zalloc(p, sizeof(*c));
	int rc;

	if (c == NULL)
		return 1;
	c->m.att = c->att;
	c->m.message_id_domain = "madoguchi.test";
	if (argc == 4 && strcmp(argv[1], "find-tag") == 0) {
		rc = cli_find_tag(argv[2], argv[3]);
		pool_destroy(p);
		return rc;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--jis") == 0) {
			c->m.iso2022jp = 1;
		} else if (i + 1 >= argc || cli_option(p, c, argv[i], argv[i + 1]) < 0) {
			fprintf(stderr, "mailout-cli: bad option %s (see the comment atop mailout-cli.c)\n", argv[i]);
			pool_destroy(p);
			return 1;
		} else {
			i++;
		}
	}
	rc = cli_build(p, c);
	pool_destroy(p);
	return rc;
}
