/* Routing rules: each condition alone, their AND, NFKC folding, patterns
 * (with a bad one and a runaway one), DID digits, first match, continued
 * matching, tag literals.  The rules come through route_set_rules, the
 * second half of route_reload, so no database is needed here; the load
 * from route_rule is covered by tests/integration/test_routing.py. */
#include <string.h>

#include "clock.h"
#include "pool.h"
#include "route.h"
#include "testlib.h"

static struct pool *pool;

static struct route_rule_def rule(int id, const char *name)
{
	struct route_rule_def d;

	memset(&d, 0, sizeof(d));
	d.id = id;
	d.name = name;
	return d;
}

static const char *const MAIL_TO[] = { "Kucho Soudan <Kucho-Soudan@City.Example.lg.jp>",
				       "kakari@city.example.lg.jp",
				       "desk+fax@city.example.lg.jp" };

static struct route_input mail(const char *subject)
{
	struct route_input in = { MAIL_TO, 3, "Taro@Example.JP", subject, NULL, NULL };

	return in;
}

static struct route_result run(struct route *r, const struct route_input *in)
{
	struct route_result out;

	route_match(r, pool, in, &out);
	return out;
}

static void test_no_rules(void)
{
	struct route *r = route_new(NULL);
	struct route_input in = mail("件名");
	struct route_result out = run(r, &in);

	CHECK_INT(route_count(r), 0);
	CHECK_INT(out.rule_id, 0);
	CHECK(out.rule_name == NULL && out.queue == NULL && out.category == NULL);
	CHECK_INT(out.priority, 0);
	CHECK_STR(out.tags, "{}");
	CHECK_INT(route_reload(r), -1); /* no database */
	route_free(r);
}

static void test_recipient(void)
{
	struct route *r = route_new(NULL);
	struct route_rule_def d[2] = { rule(1, "係宛て"), rule(2, "区長相談") };
	struct route_input in = mail("x");
	struct route_result out;

	d[0].match_recipient = "DESK+FAX@";
	d[0].set_queue = "fax-desk";
	d[1].match_recipient = "kucho-soudan@city";
	d[1].set_queue = "kucho";
	CHECK_INT(route_set_rules(r, d, 2), 0);
	out = run(r, &in); /* the third recipient, any case */
	CHECK_INT(out.rule_id, 1);
	CHECK_STR(out.rule_name, "係宛て");
	CHECK_STR(out.queue, "fax-desk");
	in.nrecipients = 2; /* now only the display form of the first matches rule 2 */
	out = run(r, &in);
	CHECK_INT(out.rule_id, 2);
	CHECK_STR(out.queue, "kucho");
	in.nrecipients = 0;
	CHECK_INT(run(r, &in).rule_id, 0);
	route_free(r);
}

static void test_sender_origin(void)
{
	struct route *r = route_new(NULL);
	struct route_rule_def d[2] = { rule(3, "転送元"), rule(4, "差出人") };
	struct route_input in = mail("x");

	d[0].match_origin = "@Ward.example";
	d[0].set_category = "転送";
	d[1].match_sender = "taro@example.jp";
	d[1].set_category = "個人";
	CHECK_INT(route_set_rules(r, d, 2), 0);
	CHECK_INT(run(r, &in).rule_id, 4);
	in.origin = "somebody@ward.EXAMPLE.jp";
	CHECK_INT(run(r, &in).rule_id, 3);
	CHECK_STR(run(r, &in).category, "転送");
	in.origin = NULL;
	in.sender = "hanako@example.jp";
	CHECK_INT(run(r, &in).rule_id, 0);
	in.sender = NULL;
	CHECK_INT(run(r, &in).rule_id, 0);
	route_free(r);
}

/* full-width and half-width forms, both ways, and case */
static void test_subject_nfkc(void)
{
	struct route *r = route_new(NULL);
	struct route_rule_def d[2] = { rule(5, "ABC"), rule(6, "住民票") };
	struct route_input in = mail("【お願い】ＡＢＣ申請について");

	d[0].match_subject = "abc申請";
	d[1].match_subject = "ｼﾞｭｳﾐﾝﾋｮｳ";
	CHECK_INT(route_set_rules(r, d, 2), 0);
	CHECK_INT(run(r, &in).rule_id, 5);
	in.subject = "Abc申請";
	CHECK_INT(run(r, &in).rule_id, 5);
	in.subject = "ABC 申請";
	CHECK_INT(run(r, &in).rule_id, 0);
	in.subject = "ジュウミンヒョウの写し";
	CHECK_INT(run(r, &in).rule_id, 6);
	in.subject = "ｼﾞｭｳﾐﾝﾋｮｳ";
	CHECK_INT(run(r, &in).rule_id, 6);
	in.subject = "シュウミンヒョウ"; /* no dakuten: another word */
	CHECK_INT(run(r, &in).rule_id, 0);
	in.subject = NULL;
	CHECK_INT(run(r, &in).rule_id, 0);
	route_free(r);
}

static void test_subject_regex(void)
{
	struct route *r = route_new(NULL);
	struct route_rule_def d[2] = { rule(7, "至急"), rule(8, "番号") };
	struct route_input in = mail("［至急］粗大ごみの収集日");

	d[0].match_subject = "^\\[至急\\]";
	d[0].subject_regex = 1;
	d[1].match_subject = "no\\.\\s*[0-9]{4}$";
	d[1].subject_regex = 1;
	CHECK_INT(route_set_rules(r, d, 2), 0);
	CHECK_INT(route_count(r), 2);
	CHECK_INT(run(r, &in).rule_id, 7); /* full-width brackets are [ ] in NFKC */
	in.subject = "[至急] 粗大ごみ";
	CHECK_INT(run(r, &in).rule_id, 7);
	in.subject = "Re: [至急] 粗大ごみ"; /* anchored */
	CHECK_INT(run(r, &in).rule_id, 0);
	in.subject = "申請 NO. １２３４"; /* case-insensitive, full-width digits */
	CHECK_INT(run(r, &in).rule_id, 8);
	in.subject = "申請 no. 12345";
	CHECK_INT(run(r, &in).rule_id, 0);
	route_free(r);
}

static void test_bad_regex(void)
{
	struct route *r = route_new(NULL);
	struct route_rule_def d[2] = { rule(9, "壊れた"), rule(10, "正しい") };
	struct route_input in = mail("(至急 ごみ");
	char err[160];

	CHECK_INT(route_regex_check("(至急", err, sizeof(err)), -1);
	CHECK_STR(err, "U_REGEX_MISMATCHED_PAREN at offset 3");
	CHECK_INT(route_regex_check("[", err, sizeof(err)), -1);
	CHECK_STR(err, "U_REGEX_MISSING_CLOSE_BRACKET at offset 1");
	CHECK_INT(route_regex_check("^\\[至急\\]", err, sizeof(err)), 0);
	d[0].match_subject = "(至急";
	d[0].subject_regex = 1;
	d[1].match_subject = "(至急"; /* the same text as a substring is fine */
	CHECK_INT(route_set_rules(r, d, 2), 0);
	CHECK_INT(route_count(r), 1);
	CHECK_INT(run(r, &in).rule_id, 10);
	route_free(r);
}

/* a pattern that backtracks for ever is stopped by the time limit */
static void test_regex_time_limit(void)
{
	struct route *r = route_new(NULL);
	struct route_rule_def d[2] = { rule(11, "暴走"), rule(12, "後続") };
	char subject[64];
	struct route_input in;
	int64_t t0;

	memset(subject, 'a', 40);
	memcpy(subject + 40, "!", 2);
	in = mail(subject);
	d[0].match_subject = "^(a+)+$";
	d[0].subject_regex = 1;
	CHECK_INT(route_set_rules(r, d, 2), 0);
	t0 = clock_mono_ms();
	CHECK_INT(run(r, &in).rule_id, 12); /* no match, the next rule applies */
	CHECK(clock_mono_ms() - t0 < 1000);
	in.subject = "aaaa";
	CHECK_INT(run(r, &in).rule_id, 11); /* the rule still works */
	route_free(r);
}

static void test_did(void)
{
	struct route *r = route_new(NULL);
	struct route_rule_def d[1] = { rule(13, "FAX 福祉課") };
	struct route_input in = mail("x");

	d[0].match_did = "03-1234-5678";
	d[0].set_queue = "fukushi";
	CHECK_INT(route_set_rules(r, d, 1), 0);
	CHECK_INT(run(r, &in).rule_id, 0); /* mail has no DID */
	in.did = "0312345678";
	CHECK_INT(run(r, &in).rule_id, 13);
	in.did = "03(1234)5678";
	CHECK_INT(run(r, &in).rule_id, 13);
	in.did = "031234567"; /* a prefix is not the number */
	CHECK_INT(run(r, &in).rule_id, 0);
	in.did = "+81312345678";
	CHECK_INT(run(r, &in).rule_id, 0);
	route_free(r);
}

/* conditions are AND-ed; an empty one is unset */
static void test_and(void)
{
	struct route *r = route_new(NULL);
	struct route_rule_def d[1] = { rule(14, "両方") };
	struct route_input in = mail("粗大ごみ");

	d[0].match_recipient = "kakari@";
	d[0].match_subject = "ごみ";
	d[0].match_sender = "";
	d[0].match_origin = "";
	d[0].match_did = "";
	CHECK_INT(route_set_rules(r, d, 1), 0);
	CHECK_INT(run(r, &in).rule_id, 14);
	in.subject = "住民票";
	CHECK_INT(run(r, &in).rule_id, 0);
	in.subject = "ごみ";
	in.nrecipients = 1;
	CHECK_INT(run(r, &in).rule_id, 0);
	route_free(r);
}

static void test_first_match(void)
{
	struct route *r = route_new(NULL);
	struct route_rule_def d[3] = { rule(20, "最初"), rule(21, "二番目"), rule(22, "全部") };
	const char *t1[] = { "one" }, *t2[] = { "two" };
	struct route_input in = mail("ごみ");
	struct route_result out;

	d[0].match_subject = "ごみ";
	d[0].set_queue = "gomi";
	d[0].set_tags = t1;
	d[0].ntags = 1;
	d[1].match_subject = "ご";
	d[1].set_queue = "other";
	d[1].set_category = "その他";
	d[1].has_priority = 1;
	d[1].set_priority = 3;
	d[1].set_tags = t2;
	d[1].ntags = 1;
	CHECK_INT(route_set_rules(r, d, 3), 0); /* rule 22: no condition */
	out = run(r, &in);
	CHECK_INT(out.rule_id, 20);
	CHECK_STR(out.queue, "gomi");
	CHECK(out.category == NULL);
	CHECK_INT(out.priority, 0);
	CHECK_STR(out.tags, "{\"one\"}");
	in.subject = "住民票"; /* only the rule without conditions */
	out = run(r, &in);
	CHECK_INT(out.rule_id, 22);
	CHECK_STR(out.rule_name, "全部");
	CHECK(out.queue == NULL);
	CHECK_STR(out.tags, "{}");
	route_free(r);
}

static void test_continue(void)
{
	struct route *r = route_new(NULL);
	struct route_rule_def d[4] = { rule(30, "区長宛て"), rule(31, "至急"), rule(32, "止め"),
				       rule(33, "届かない") };
	const char *t30[] = { "区長", "要確認" }, *t31[] = { "至急", "区長" },
		   *t32[] = { "a\"b\\c,d e" }, *t33[] = { "never" };
	struct route_input in = mail("至急: 区長への要望");
	struct route_result out;

	d[0].match_recipient = "kucho-soudan";
	d[0].set_queue = "kucho";
	d[0].set_tags = t30;
	d[0].ntags = 2;
	d[0].continue_matching = 1;
	d[1].match_subject = "至急";
	d[1].set_queue = "urgent"; /* already set by 30: ignored */
	d[1].set_category = "要望";
	d[1].has_priority = 1;
	d[1].set_priority = 5;
	d[1].set_tags = t31;
	d[1].ntags = 2;
	d[1].continue_matching = 1;
	d[2].set_tags = t32; /* no condition, no continue: the last one applied */
	d[2].ntags = 1;
	d[2].set_category = "止め";
	d[2].has_priority = 1;
	d[2].set_priority = -2;
	d[3].set_tags = t33;
	d[3].ntags = 1;
	CHECK_INT(route_set_rules(r, d, 4), 0);
	out = run(r, &in);
	CHECK_INT(out.rule_id, 30);
	CHECK_STR(out.rule_name, "区長宛て");
	CHECK_STR(out.queue, "kucho");
	CHECK_STR(out.category, "要望");
	CHECK_INT(out.priority, 5);
	CHECK_STR(out.tags, "{\"区長\",\"要確認\",\"至急\",\"a\\\"b\\\\c,d e\"}");
	in.subject = "要望"; /* 31 does not match; 32 still runs */
	out = run(r, &in);
	CHECK_INT(out.rule_id, 30);
	CHECK_STR(out.category, "止め");
	CHECK_INT(out.priority, -2);
	CHECK_STR(out.tags, "{\"区長\",\"要確認\",\"a\\\"b\\\\c,d e\"}");
	route_free(r);
}

/* a result outlives the rules it came from (a reload in between) */
static void test_reload_keeps_results(void)
{
	struct route *r = route_new(NULL);
	struct route_rule_def d[1] = { rule(40, "古い") };
	struct route_input in = mail("x");
	struct route_result out;
	char name[16] = "古い";

	d[0].name = name;
	d[0].set_queue = "old";
	CHECK_INT(route_set_rules(r, d, 1), 0);
	out = run(r, &in);
	memcpy(name, "新しい", sizeof("新しい"));
	d[0].set_queue = "new";
	CHECK_INT(route_set_rules(r, d, 1), 0);
	CHECK_STR(out.rule_name, "古い");
	CHECK_STR(out.queue, "old");
	out = run(r, &in);
	CHECK_STR(out.rule_name, "新しい");
	CHECK_STR(out.queue, "new");
	CHECK_INT(route_set_rules(r, NULL, 0), 0);
	CHECK_INT(run(r, &in).rule_id, 0);
	route_free(r);
}

int main(void)
{
	pool = pool_create(0);
	RUN(test_no_rules);
	RUN(test_recipient);
	RUN(test_sender_origin);
	RUN(test_subject_nfkc);
	RUN(test_subject_regex);
	RUN(test_bad_regex);
	RUN(test_regex_time_limit);
	RUN(test_did);
	RUN(test_and);
	RUN(test_first_match);
	RUN(test_continue);
	RUN(test_reload_keeps_results);
	pool_destroy(pool);
	return TEST_END();
}
