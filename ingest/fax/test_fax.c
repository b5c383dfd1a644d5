/* Unit tests of ingest-fax's pure parts: the digits of a DID, the result
 * of a call from its T.30 facts, and the call record as JSON (the sidecar
 * and inbound_item.raw; PostgreSQL parses it, so it must be valid JSON
 * whatever bytes a peer sent). */
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "sipua.h"
#include "store.h"
#include "testlib.h"

static void test_digits(void)
{
	char out[8];

	CHECK_INT(sipua_digits("+81-3-1234", 10, out, sizeof(out)), 7);
	CHECK_STR(out, "8131234");
	CHECK_INT(sipua_digits("fax", 3, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	/* bounded: at most max-1 digits */
	CHECK_INT(sipua_digits("0123456789", 10, out, sizeof(out)), 7);
	CHECK_STR(out, "0123456");
	/* n bounds the input, not the NUL */
	CHECK_INT(sipua_digits("12345", 2, out, sizeof(out)), 2);
	CHECK_STR(out, "12");
}

static void test_result(void)
{
	struct call_record r;

	memset(&r, 0, sizeof(r));
	CHECK_STR(call_result(&r), "no_fax");
	r.fax.trained = 1;
	r.fax.code = 49;
	CHECK_STR(call_result(&r), "failed");
	r.fax.pages = 2;
	CHECK_STR(call_result(&r), "incomplete");
	r.phase_e = 1;
	CHECK_STR(call_result(&r), "incomplete"); /* phase E with an error code */
	r.fax.code = 0;
	CHECK_STR(call_result(&r), "ok");
	r.phase_e = 0; /* pages but the line dropped before the end */
	CHECK_STR(call_result(&r), "incomplete");
	CHECK_STR(call_transport(SIPUA_MEDIA_PCMA), "pcma");
	CHECK_STR(call_transport(SIPUA_MEDIA_T38), "t38");
	CHECK_STR(call_transport(SIPUA_MEDIA_NONE), "none");
}

static void test_json(void)
{
	struct call_record r;
	size_t len;
	char *j;

	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "0123456789abcdef");
	snprintf(r.call_id, sizeof(r.call_id), "a\"b\\c\x01\xe3@x");
	snprintf(r.did, sizeof(r.did), "0311110001");
	snprintf(r.end_reason, sizeof(r.end_reason), "remote hangup (BYE)");
	r.transport = SIPUA_MEDIA_PCMU;
	r.started_us = 1000;
	r.ended_us = 2000;
	r.fax.text = "OK";
	j = store_record_json(&r, "ward-fax", &len);
	CHECK(j != NULL);
	if (j == NULL)
		return;
	CHECK_INT(len, strlen(j));
	CHECK_STR(j, "{\"direction\":\"in\",\"line\":\"ward-fax\",\"id\":\"0123456789abcdef\","
		     "\"sip_call_id\":\"a\\\"b\\\\c\\u0001?@x\",\"did\":\"0311110001\",\"caller\":\"\","
		     "\"remote_ident\":\"\",\"subaddress\":\"\",\"transport\":\"pcmu\","
		     "\"t30_text\":\"OK\",\"result\":\"no_fax\",\"end_reason\":\"remote hangup (BYE)\","
		     "\"ecm\":null,\"started_us\":1000,\"answered_us\":null,\"ended_us\":2000,"
		     "\"pages\":0,\"t30_code\":0,\"phase_e\":false,\"bit_rate\":0,\"x_dpi\":0,"
		     "\"y_dpi\":0}\n");
	free(j);
}

static void test_hash_id(void)
{
	char a[17], b[17];

	call_hash_id("abc@host", a);
	call_hash_id("abd@host", b);
	CHECK_INT(strlen(a), 16);
	CHECK(strcmp(a, b) != 0);
	CHECK_INT(strspn(a, "0123456789abcdef"), 16);
}

int main(void)
{
	RUN(test_digits);
	RUN(test_result);
	RUN(test_json);
	RUN(test_hash_id);
	return TEST_END();
}
