/* cti: Zammad's form fields decoded (percent escapes, '+', user[] arrays,
 * bounds, bad escapes and bytes refused), the constant-time comparison,
 * event kinds and the checks of an event before it is stored. */
#include <stdlib.h>
#include <string.h>

#include "cti.h"
#include "testlib.h"

static char *test_dump(const char *body)
{
	json_t *doc = cti_form_decode(body, strlen(body));
	char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(doc);
	return s;
}

static void test_form_zammad(void)
{
	/* the newCall of Zammad's documentation, as curl --data sends it */
	char *s = test_dump("event=newCall&from=493055571600&to=491711234567890&direction=in"
			    "&callId=123456&user%5B%5D=Alice&user[]=Bob+Smith&queue=helpdesk");

	CHECK_STR(s, "{\"callId\":\"123456\",\"direction\":\"in\",\"event\":\"newCall\","
		     "\"from\":\"493055571600\",\"queue\":\"helpdesk\",\"to\":\"491711234567890\","
		     "\"user[]\":[\"Alice\",\"Bob Smith\"]}");
	free(s);
	s = test_dump("cause=normalClearing&empty=&flag&%E9%9B%BB=%E8%A9%B1");
	CHECK_STR(s, "{\"cause\":\"normalClearing\",\"empty\":\"\",\"flag\":\"\",\"電\":\"話\"}");
	free(s);
	s = test_dump("");
	CHECK_STR(s, "{}");
	free(s);
}

/* 1 when body is refused (and nothing is leaked when it is not) */
static int test_refused(const char *body)
{
	char *s = test_dump(body);
	int refused = s == NULL;

	free(s);
	return refused;
}

static void test_form_refused(void)
{
	char big[5000];

	CHECK(test_refused("callId=%zz"));
	CHECK(test_refused("callId=%4"));
	CHECK(test_refused("callId=%ff%fe")); /* not UTF-8 */
	CHECK(test_refused("=value"));
	memcpy(big, "from=", 5);
	memset(big + 5, '1', sizeof(big) - 6);
	big[sizeof(big) - 1] = '\0';
	CHECK(test_refused(big)); /* a value over 4 kB */
	big[4096 + 5] = '\0';
	CHECK(!test_refused(big)); /* exactly 4 kB */
}

static void test_const_eq(void)
{
	CHECK_INT(cti_const_eq("zammad-secret-0123456789", "zammad-secret-0123456789"), 1);
	CHECK_INT(cti_const_eq("zammad-secret-0123456789", "zammad-secret-012345678"), 0);
	CHECK_INT(cti_const_eq("zammad-secret-0123456789", "zammad-secret-01234567890"), 0);
	CHECK_INT(cti_const_eq("zammad-secret-0123456789", "Zammad-secret-0123456789"), 0);
	CHECK_INT(cti_const_eq("abc", ""), 0);
	CHECK_INT(cti_const_eq("", ""), 1);
}

static void test_kinds(void)
{
	CHECK_INT(cti_kind_parse("newCall"), CTI_NEW);
	CHECK_INT(cti_kind_parse("answer"), CTI_ANSWER);
	CHECK_INT(cti_kind_parse("hangup"), CTI_HANGUP);
	CHECK_INT(cti_kind_parse("transfer_back"), CTI_TRANSFER_BACK);
	CHECK_INT(cti_kind_parse("acw_end"), CTI_ACW_END);
	CHECK_INT(cti_kind_parse("newcall"), -1);
	CHECK_INT(cti_kind_parse(NULL), -1);
	CHECK_STR(cti_kind_name(CTI_HOLD), "hold");
}

static void test_check(void)
{
	char long_id[260], long_from[300];
	struct cti_event ev = { .pbx = "pbx1", .call_id = "123456", .kind = CTI_NEW, .direction = "in" };

	CHECK(cti_event_check(&ev) == NULL);
	ev.direction = "sideways";
	CHECK_STR(cti_event_check(&ev), "direction is neither in nor out");
	ev.direction = NULL;
	ev.call_id = "";
	CHECK_STR(cti_event_check(&ev), "callId is missing or longer than 250 characters");
	memset(long_id, 'x', 251);
	long_id[251] = '\0';
	ev.call_id = long_id;
	CHECK_STR(cti_event_check(&ev), "callId is missing or longer than 250 characters");
	long_id[250] = '\0';
	CHECK(cti_event_check(&ev) == NULL);
	memset(long_from, '0', 257);
	long_from[257] = '\0';
	ev.from = long_from;
	CHECK_STR(cti_event_check(&ev), "a field is longer than 256 bytes");
	long_from[256] = '\0';
	CHECK(cti_event_check(&ev) == NULL);
}

int main(void)
{
	RUN(test_form_zammad);
	RUN(test_form_refused);
	RUN(test_const_eq);
	RUN(test_kinds);
	RUN(test_check);
	return TEST_END();
}
