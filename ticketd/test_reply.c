/* Unit tests of the reply templates (templates.c) and drafts
 * (reply_draft.c): parsing, variables, the folder, addresses, the Bcc
 * rule and the confirmations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "pool.h"
#include "reply_draft.h"
#include "templates.h"
#include "testlib.h"

static struct pool *p;

static const struct templates_var vars[] = {
	{ "ticket.id", "42" },
	{ "citizen.name", "山田 太郎" },
	{ "centre.name", "区民相談窓口" },
};

static void test_parse(void)
{
	const char *t = "\xef\xbb\xbfTitle: 受付確認\r\nsubject:  件名 {{ticket.id}} \r\n\r\n本文\r\n二行目\n";
	struct templates_doc d;
	const char *err = NULL;

	CHECK_INT(templates_parse(p, "001_受付確認", t, strlen(t), &d, &err), 0);
	CHECK_STR(d.title, "受付確認");
	CHECK_STR(d.subject, "件名 {{ticket.id}}");
	CHECK_STR(d.body, "本文\n二行目\n");
	CHECK_INT(templates_parse(p, "x", "Titel: typo\n\nbody", 17, &d, &err), -1);
	CHECK(err != NULL && strstr(err, "Titel: typo") != NULL);
	CHECK_INT(templates_parse(p, "x", "\n本文だけ", strlen("\n本文だけ"), &d, &err), 0);
	CHECK_STR(d.title, "x");
	CHECK_STR(d.subject, "");
	CHECK_STR(d.body, "本文だけ");
	CHECK_INT(templates_parse(p, "x", "Title: a\n\n\xff", 12, &d, &err), -1);
	CHECK_INT(d.approval, 0);
	/* approval before sending: "required" or "none", any case; anything else an error */
	t = "Title: a\nApproval:  Required \n\nbody";
	CHECK_INT(templates_parse(p, "x", t, strlen(t), &d, &err), 0);
	CHECK_INT(d.approval, 1);
	CHECK_STR(d.body, "body");
	t = "Approval: none\n\nbody";
	CHECK_INT(templates_parse(p, "x", t, strlen(t), &d, &err), 0);
	CHECK_INT(d.approval, 0);
	t = "Approval: yes\n\nbody";
	CHECK_INT(templates_parse(p, "x", t, strlen(t), &d, &err), -1);
	CHECK(err != NULL && strstr(err, "Approval: yes") != NULL);
}

static void test_fill(void)
{
	const char **unk;
	const char *err;
	size_t nu;
	char *r;

	r = templates_fill(p, "{{citizen.name}} 様\n受付番号 {{ ticket.id }} / {{centre.name}}", vars, 3,
			   &unk, &nu, &err);
	CHECK_STR(r, "山田 太郎 様\n受付番号 42 / 区民相談窓口");
	CHECK_INT(nu, 0);
	r = templates_fill(p, "{{citizen.nam}} {{foo}} {{citizen.nam}}", vars, 3, &unk, &nu, &err);
	CHECK(r == NULL);
	CHECK_INT(nu, 2);
	CHECK_STR(unk[0], "citizen.nam");
	CHECK_STR(unk[1], "foo");
	CHECK_STR(err, "unknown variable");
	r = templates_fill(p, "a {{ticket.id\n}}", vars, 3, &unk, &nu, &err);
	CHECK(r == NULL);
	CHECK_INT(nu, 0);
	CHECK(err != NULL && strstr(err, "without") != NULL);
	r = templates_fill(p, "no variables { } }}", vars, 3, &unk, &nu, &err);
	CHECK_STR(r, "no variables { } }}");
}

static void test_names(void)
{
	CHECK_INT(templates_name_ok("001_受付確認"), 1);
	CHECK_INT(templates_name_ok("../etc/passwd"), 0);
	CHECK_INT(templates_name_ok(".hidden"), 0);
	CHECK_INT(templates_name_ok("a/b"), 0);
	CHECK_INT(templates_name_ok("a\\b"), 0);
	CHECK_INT(templates_name_ok("a\nb"), 0);
	CHECK_INT(templates_name_ok(""), 0);
	CHECK_INT(templates_name_ok("\xe5\x8f"), 0);
}

static void test_folder(void)
{
	char dir[] = "/tmp/mdg-test-templates-XXXXXX";
	struct templates_doc d = { "002_回答", "回答", "{{ticket.id}}", "本文\n", 0 }, *docs;
	const char *err = NULL;
	size_t n, skipped;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_INT(templates_save(p, dir, &d, &err), 0);
	d.name = "001_受付";
	d.title = "受付";
	d.approval = 1;
	CHECK_INT(templates_save(p, dir, &d, &err), 0);
	f = fopen(pool_printf(p, "%s/003_bad.txt", dir), "w");
	fputs("Oops: x\n\nbody", f);
	fclose(f);
	f = fopen(pool_printf(p, "%s/notes.md", dir), "w");
	fclose(f);
	CHECK_INT(templates_list(p, dir, &docs, &n, &skipped, &err), 0);
	CHECK_INT(n, 2);
	CHECK_INT(skipped, 1);
	CHECK_STR(docs[0].name, "001_受付");
	CHECK_INT(docs[0].approval, 1); /* written and read back */
	CHECK_INT(docs[1].approval, 0);
	CHECK_STR(docs[1].title, "回答");
	CHECK_STR(docs[1].body, "本文\n");
	CHECK_INT(templates_load(p, dir, "004_none", &d, &err), 0);
	CHECK_INT(templates_load(p, dir, "../x", &d, &err), 0);
	CHECK_INT(templates_load(p, dir, "003_bad", &d, &err), -1);
	unlink(pool_printf(p, "%s/001_受付.txt", dir));
	unlink(pool_printf(p, "%s/002_回答.txt", dir));
	unlink(pool_printf(p, "%s/003_bad.txt", dir));
	unlink(pool_printf(p, "%s/notes.md", dir));
	CHECK_INT(rmdir(dir), 0); /* no temporary file left behind */
}

static void test_addr(void)
{
	struct reply_addr a;
	struct reply_list l;

	CHECK_INT(reply_addr_parse(p, "山田 太郎 <taro@example.jp>", &a), 0);
	CHECK_STR(a.name, "山田 太郎");
	CHECK_STR(a.addr, "taro@example.jp");
	CHECK_INT(reply_addr_parse(p, "\"Yamada, \\\"T\\\"\" <t.y+1@mail.example.jp>", &a), 0);
	CHECK_STR(a.name, "Yamada, \"T\"");
	CHECK_INT(reply_addr_parse(p, "hanako@example.jp", &a), 0);
	CHECK_STR(a.name, "");
	CHECK_INT(reply_addr_parse(p, "no-at-sign", &a), -1);
	CHECK_INT(reply_addr_parse(p, "a@b@c", &a), -1);
	CHECK_INT(reply_addr_parse(p, "x <a@example.jp> trailing", &a), -1);
	CHECK_INT(reply_addr_parse(p, "a..b@example.jp", &a), -1);
	CHECK_INT(reply_addr_parse(p, "a@-example.jp", &a), -1);
	CHECK_INT(reply_addr_parse(p, "a@example..jp", &a), -1);
	CHECK_INT(reply_addr_parse(p, "名前\x01 <a@example.jp>", &a), -1);
	CHECK_INT(reply_addr_parse(p, "日本語@example.jp", &a), -1);
	reply_addr_split(p, "\"Kuwata, Hanako\" <h@example.jp>, b@example.com, bogus, 窓口 <m@city.example.lg.jp>",
			 &l, 20);
	CHECK_INT(l.n, 3);
	CHECK_STR(l.a[0].name, "Kuwata, Hanako");
	CHECK_STR(l.a[2].addr, "m@city.example.lg.jp");
	/* a comma ends an entry only once it has an address, as lib/mailout
	 * reads lists: "bogus" becomes part of the next name */
	CHECK_STR(l.a[2].name, "bogus, 窓口");
	l.a[2].name = "窓口";
	CHECK_STR(reply_list_header(p, &l),
		  "\"Kuwata, Hanako\" <h@example.jp>, b@example.com, \"窓口\" <m@city.example.lg.jp>");
	CHECK_STR(reply_list_show(p, &l),
		  "Kuwata, Hanako <h@example.jp>, b@example.com, 窓口 <m@city.example.lg.jp>");
}

static void test_domains(void)
{
	const char *jis = "docomo.ne.jp, ezweb.ne.jp ,softbank.ne.jp";

	CHECK_INT(reply_domain_in("a@docomo.ne.jp", jis), 1);
	CHECK_INT(reply_domain_in("a@DOCOMO.NE.JP", jis), 1);
	CHECK_INT(reply_domain_in("a@ezweb.ne.jp", jis), 1);
	CHECK_INT(reply_domain_in("a@t.vodafone.softbank.ne.jp", jis), 1);
	CHECK_INT(reply_domain_in("a@notdocomo.ne.jp", jis), 0);
	CHECK_INT(reply_domain_in("a@docomo.ne.jp.example.com", jis), 0);
	CHECK_INT(reply_domain_in("a@example.jp", ""), 0);
}

static json_t *draft_json(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_ALLOW_NUL, &e);

	if (j == NULL)
		printf("  bad JSON in test: %s\n", e.text);
	return j;
}

static void test_draft(void)
{
	json_t *j = draft_json("{\"to\":[\"山田 <taro@example.jp>\", \"b@example.com\","
			       " \"kakari@city.example.lg.jp\"], \"cc\":[\"c@example.net\"],"
			       " \"subject\":\"件名\", \"body\":\"本文\","
			       " \"attachments\":[{\"message_id\":5,\"idx\":0},{\"message_id\":5,\"idx\":1}],"
			       " \"confirmed_recipients\":[\"TARO@example.jp\",\"b@example.com\","
			       " \"kakari@city.example.lg.jp\"],"
			       " \"confirmed_attachments\":[{\"message_id\":5,\"idx\":1}],"
			       " \"replying_to\":7}");
	json_t *ur = json_array(), *ua = json_array();
	struct reply_draft d;
	const char *err = NULL;
	char *s;

	CHECK_INT(reply_draft_parse(p, j, &d, &err), 0);
	CHECK_INT(d.to.n, 3);
	CHECK_INT(d.natt, 2);
	CHECK_INT(d.replying_to, 7);
	CHECK_INT(reply_draft_unconfirmed(&d, ur, ua), 2);
	s = json_dumps(ur, JSON_COMPACT);
	CHECK_STR(s, "[\"c@example.net\"]");
	free(s);
	s = json_dumps(ua, JSON_COMPACT);
	CHECK_STR(s, "[{\"message_id\":5,\"idx\":0}]");
	free(s);
	reply_draft_hide(p, &d, "city.example.lg.jp");
	CHECK_INT(d.to.n, 1);
	CHECK_STR(d.to.a[0].addr, "kakari@city.example.lg.jp");
	CHECK_INT(d.cc.n, 0);
	CHECK_INT(d.bcc.n, 3);
	CHECK_INT(d.moved.n, 3);
	CHECK_STR(d.bcc.a[2].addr, "c@example.net");
	json_decref(j);
	json_decref(ur);
	json_decref(ua);
}

/* uploads (upload.h) beside the ticket's attachments: confirmed by their
 * own id, never by a message's attachment that happens to share numbers */
static void test_draft_uploads(void)
{
	json_t *j = draft_json("{\"to\":[\"a@example.jp\"],"
			       " \"attachments\":[{\"upload_id\":4},{\"message_id\":5,\"idx\":0},"
			       " {\"upload_id\":9}],"
			       " \"confirmed_attachments\":[{\"upload_id\":9},{\"upload_id\":5}]}");
	json_t *ur = json_array(), *ua = json_array();
	struct reply_draft d;
	const char *err = NULL;
	char *s;

	CHECK_INT(reply_draft_parse(p, j, &d, &err), 0);
	CHECK_INT(d.natt, 3);
	CHECK_INT(d.att[0].upload_id, 4);
	CHECK_INT(d.att[0].message_id, 0);
	CHECK_INT(d.att[1].upload_id, 0);
	CHECK_INT(d.att[1].message_id, 5);
	CHECK_INT(reply_draft_unconfirmed(&d, ur, ua), 3);
	s = json_dumps(ua, JSON_COMPACT);
	CHECK_STR(s, "[{\"upload_id\":4},{\"message_id\":5,\"idx\":0}]");
	free(s);
	json_decref(j);
	json_decref(ur);
	json_decref(ua);
}

static void test_draft_keep(void)
{
	json_t *j = draft_json("{\"to\":[\"a@example.jp\", \"b@example.jp\"], \"keep_visible\": true}");
	struct reply_draft d;
	const char *err;

	CHECK_INT(reply_draft_parse(p, j, &d, &err), 0);
	reply_draft_hide(p, &d, "city.example.lg.jp");
	CHECK_INT(d.to.n, 2);
	CHECK_INT(d.bcc.n, 0);
	json_decref(j);
	/* one external address stays where it is */
	j = draft_json("{\"to\":[\"a@example.jp\"], \"cc\":[\"k@city.example.lg.jp\"]}");
	CHECK_INT(reply_draft_parse(p, j, &d, &err), 0);
	reply_draft_hide(p, &d, "city.example.lg.jp");
	CHECK_INT(d.to.n, 1);
	CHECK_INT(d.cc.n, 1);
	CHECK_INT(d.moved.n, 0);
	json_decref(j);
}

static void test_draft_errors(void)
{
	static const char *const bad[][2] = {
		{ "{}", "to: at least one recipient is needed" },
		{ "{\"to\":\"a@example.jp\"}", "to: must be an array of at most 20 addresses" },
		{ "{\"to\":[\"a@example.jp\"], \"bcc\":[\"A@example.jp\"]}", "a@example.jp: is listed twice" },
		{ "{\"to\":[\"nobody\"]}", "to: \"nobody\" is not a plain mail address" },
		{ "{\"to\":[\"a@example.jp\"], \"force\": 1}", "force: must be true or false" },
		{ "{\"to\":[\"a@example.jp\"], \"subject\": \"a\\u0000b\"}",
		  "subject: must be a string without NUL, not too long" },
		{ "{\"to\":[\"a@example.jp\"], \"attachments\":[{\"message_id\":1}]}",
		  "attachments: each must be {\"message_id\": N, \"idx\": N} or {\"upload_id\": N}" },
		{ "{\"to\":[\"a@example.jp\"], \"attachments\":[{\"upload_id\":0}]}",
		  "attachments: each must be {\"message_id\": N, \"idx\": N} or {\"upload_id\": N}" },
		{ "{\"to\":[\"a@example.jp\"], \"confirmed_attachments\":[{\"upload_id\":3,\"idx\":0}]}",
		  "confirmed_attachments: each must be {\"message_id\": N, \"idx\": N} or {\"upload_id\": N}" },
		{ "{\"to\":[\"a@example.jp\"], \"replying_to\": \"7\"}",
		  "replying_to: must be the id of a message" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = draft_json(bad[i][0]);
		struct reply_draft d;
		const char *err = NULL;

		CHECK_INT(reply_draft_parse(p, j, &d, &err), -1);
		CHECK_STR(err, bad[i][1]);
		json_decref(j);
	}
}

int main(void)
{
	p = pool_create(0);
	RUN(test_parse);
	RUN(test_fill);
	RUN(test_names);
	RUN(test_folder);
	RUN(test_addr);
	RUN(test_domains);
	RUN(test_draft);
	RUN(test_draft_uploads);
	RUN(test_draft_keep);
	RUN(test_draft_errors);
	pool_destroy(p);
	return TEST_END();
}
