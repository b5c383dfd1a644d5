/* Unit tests for retry (backoff, give-up, verdicts) and the envelope
 * address check of smtp.c.  Results are built by hand the way smtp.c
 * fills them; every value is exact. */
#include <stdio.h>
#include <string.h>

#include "retry.h"
#include "smtp.h"
#include "testlib.h"

static const struct retry_policy pol = { 60, 1800, 48 * 3600, 0 };

static void test_retry_delay(void)
{
	static const long want[] = { 60, 120, 240, 480, 960, 1800, 1800, 1800 };
	struct retry_policy one = { 1, 4, 3600, 0 };

	for (int i = 0; i < 8; i++)
		CHECK_INT(retry_delay_s(&pol, i + 1, 0), want[i]);
	/* jitter: rnd % 21 percent off, never below one second */
	CHECK_INT(retry_delay_s(&pol, 1, 20), 48);
	CHECK_INT(retry_delay_s(&pol, 1, 41), 48);
	CHECK_INT(retry_delay_s(&pol, 1, 10), 54);
	CHECK_INT(retry_delay_s(&pol, 6, 20), 1440);
	CHECK_INT(retry_delay_s(&pol, 1000000, 21), 1800);
	CHECK_INT(retry_delay_s(&one, 1, 20), 1);
	CHECK_INT(retry_delay_s(&one, 2, 0), 2);
	CHECK_INT(retry_delay_s(&one, 5, 0), 4);
}

static void test_retry_give_up(void)
{
	struct retry_policy three = { 60, 1800, 48 * 3600, 3 };

	CHECK_INT(retry_give_up(&pol, 500, 48 * 3600 - 1), 0);
	CHECK_INT(retry_give_up(&pol, 1, 48 * 3600), 1);
	CHECK_INT(retry_give_up(&three, 2, 0), 0);
	CHECK_INT(retry_give_up(&three, 3, 0), 1);
}

/* a result at stage st with code and text, recipients' codes and texts */
static void result(struct smtp_result *r, struct smtp_rcpt_reply *rr, size_t n,
		   enum smtp_stage st, int code, const char *text)
{
	memset(r, 0, sizeof(*r));
	r->stage = st;
	r->code = code;
	snprintf(r->text, sizeof(r->text), "%s", text);
	r->rcpt = rr;
	r->nrcpt = n;
}

static void rcpt(struct smtp_rcpt_reply *rr, int code, const char *text)
{
	rr->code = code;
	snprintf(rr->text, sizeof(rr->text), "%s", text);
}

static void test_retry_sent(void)
{
	const char *to[] = { "a@example.jp", "b@example.jp" };
	struct smtp_rcpt_reply rr[2];
	struct smtp_result r;
	struct retry_outcome o;

	rcpt(&rr[0], 250, "250 2.1.5 Ok");
	rcpt(&rr[1], 251, "251 2.1.5 forwarded");
	result(&r, rr, 2, SMTP_STAGE_DONE, 250, "250 2.0.0 Ok: queued as 4F2A");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_SENT);
	CHECK_STR(o.note, "");
	/* one refused: sent all the same, and the refusal named */
	rcpt(&rr[1], 550, "550 5.1.1 <b@example.jp>: Recipient address rejected");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_SENT);
	CHECK_STR(o.note, "not delivered to: b@example.jp (550 5.1.1 <b@example.jp>: Recipient "
			  "address rejected)");
	/* a 4xx among taken ones is not retried either: the others would get it twice */
	rcpt(&rr[1], 450, "450 4.2.0 mailbox busy");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_SENT);
	CHECK_STR(o.note, "not delivered to: b@example.jp (450 4.2.0 mailbox busy)");
}

static void test_retry_recipients_refused(void)
{
	const char *to[] = { "a@example.jp", "b@example.jp" };
	struct smtp_rcpt_reply rr[2];
	struct smtp_result r;
	struct retry_outcome o;

	rcpt(&rr[0], 550, "550 5.1.1 no such user");
	rcpt(&rr[1], 553, "553 5.1.3 bad address");
	result(&r, rr, 2, SMTP_STAGE_RCPT, 550, "550 5.1.1 no such user");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_DEAD);
	CHECK_STR(o.note, "every recipient was refused: a@example.jp (550 5.1.1 no such user); "
			  "b@example.jp (553 5.1.3 bad address)");
	rcpt(&rr[1], 452, "452 4.5.3 too many recipients");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_AGAIN);
	CHECK_STR(o.note, "every recipient was refused: a@example.jp (550 5.1.1 no such user); "
			  "b@example.jp (452 4.5.3 too many recipients)");
	rcpt(&rr[1], 530, "530 5.7.0 Authentication required");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_AGAIN);
	/* the connection broke during RCPT: no verdict on the recipients */
	rcpt(&rr[1], 0, "connection lost after RCPT TO");
	result(&r, rr, 2, SMTP_STAGE_RCPT, 0, "connection lost after RCPT TO");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_AGAIN);
	CHECK_STR(o.note, "RCPT TO: connection lost after RCPT TO");
}

static void test_retry_stages(void)
{
	const char *to[] = { "a@example.jp" };
	struct smtp_rcpt_reply rr[1];
	struct smtp_result r;
	struct retry_outcome o;

	rcpt(&rr[0], 0, "");
	result(&r, rr, 1, SMTP_STAGE_MAIL, 550, "550 5.7.1 sender rejected");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_DEAD);
	CHECK_STR(o.note, "the relay refused the sender: 550 5.7.1 sender rejected");
	result(&r, rr, 1, SMTP_STAGE_DOT, 554, "554 5.6.0 message rejected");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_DEAD);
	CHECK_STR(o.note, "the relay refused the message: 554 5.6.0 message rejected");
	result(&r, rr, 1, SMTP_STAGE_DATA, 451, "451 4.3.0 try later");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_AGAIN);
	CHECK_STR(o.note, "DATA: 451 4.3.0 try later");
	result(&r, rr, 1, SMTP_STAGE_MAIL, 421, "421 4.3.2 shutting down");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_AGAIN);
	CHECK_STR(o.note, "MAIL FROM: 421 4.3.2 shutting down");
	/* refusals of us, not of the mail: fixable, so retried */
	result(&r, rr, 1, SMTP_STAGE_AUTH, 535, "535 5.7.8 authentication failed");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_AGAIN);
	CHECK_STR(o.note, "AUTH: 535 5.7.8 authentication failed");
	result(&r, rr, 1, SMTP_STAGE_MAIL, 530, "530 5.7.0 Authentication required");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_AGAIN);
	CHECK_STR(o.note, "MAIL FROM: 530 5.7.0 Authentication required (check "
			  "escalation.smtp_security and smtp_user)");
	result(&r, rr, 1, SMTP_STAGE_CONNECT, 554, "554 5.7.1 no service");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_AGAIN);
	CHECK_STR(o.note, "connect: 554 5.7.1 no service");
	result(&r, rr, 1, SMTP_STAGE_TLS, 0, "the certificate of 127.0.0.1 is not trusted");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_AGAIN);
	CHECK_STR(o.note, "TLS: the certificate of 127.0.0.1 is not trusted");
	result(&r, rr, 1, SMTP_STAGE_DOT, 0, "");
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_AGAIN);
	CHECK_STR(o.note, "end of data: failed");
}

static void test_retry_long_note(void)
{
	static struct smtp_rcpt_reply rr[40];
	const char *to[40];
	struct smtp_result r;
	struct retry_outcome o;

	for (int i = 0; i < 40; i++) {
		to[i] = "someone.with.a.long.address@departments.city.example.jp";
		rcpt(&rr[i], 550, "550 5.1.1 this recipient does not exist here at all");
	}
	result(&r, rr, 40, SMTP_STAGE_RCPT, 550, rr[0].text);
	retry_classify(&r, to, &o);
	CHECK_INT(o.verdict, RETRY_DEAD);
	CHECK_INT(strlen(o.note), sizeof(o.note) - 1);
	CHECK(strncmp(o.note, "every recipient was refused: someone.", 37) == 0);
}

static void test_smtp_address_ok(void)
{
	char a[300];

	CHECK_INT(smtp_address_ok("kuyakusho@city.example.jp"), 1);
	CHECK_INT(smtp_address_ok(""), 1); /* the null sender */
	CHECK_INT(smtp_address_ok("山田@例え.jp"), 1);
	CHECK_INT(smtp_address_ok("a b@example.jp"), 0);
	CHECK_INT(smtp_address_ok("a@example.jp>\r\nRCPT TO:<x@evil.example"), 0);
	CHECK_INT(smtp_address_ok("<a@example.jp>"), 0);
	CHECK_INT(smtp_address_ok("a@example.jp\x7f"), 0);
	CHECK_INT(smtp_address_ok("\xff@example.jp"), 0);
	memset(a, 'a', sizeof(a));
	memcpy(a + 240, "@example.jp", 12); /* 251 characters */
	CHECK_INT(smtp_address_ok(a), 1);
	memset(a, 'a', 243);
	memcpy(a + 243, "@example.jp", 12); /* 254 */
	CHECK_INT(smtp_address_ok(a), 1);
	memset(a, 'a', 244);
	memcpy(a + 244, "@example.jp", 12); /* 255 */
	CHECK_INT(smtp_address_ok(a), 0);
}

int main(void)
{
	RUN(test_retry_delay);
	RUN(test_retry_give_up);
	RUN(test_retry_sent);
	RUN(test_retry_recipients_refused);
	RUN(test_retry_stages);
	RUN(test_retry_long_note);
	RUN(test_smtp_address_ok);
	return TEST_END();
}
