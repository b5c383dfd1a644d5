/* Event framing: a payload line per "data:" line, never a bare newline
 * that would end the event early. */
#include "sse.h"
#include "testlib.h"

static void test_frame(void)
{
	char out[64];

	CHECK_INT(sse_frame("ticket", "{\"id\":7,\"op\":\"created\"}", out, sizeof(out)), 45);
	CHECK_STR(out, "event: ticket\ndata: {\"id\":7,\"op\":\"created\"}\n\n");
	CHECK_INT(sse_frame("ticket", "a\nb\r\nc\rd", out, sizeof(out)) > 0, 1);
	CHECK_STR(out, "event: ticket\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
	CHECK_INT(sse_frame("ticket", "", out, sizeof(out)) > 0, 1);
	CHECK_STR(out, "event: ticket\ndata: \n\n");
}

static void test_frame_too_long(void)
{
	char out[32];

	CHECK_INT(sse_frame("ticket", "0123456789012345678901234567890", out, sizeof(out)), 0);
	/* exactly fitting: 14 + (6 + 9 + 1) + 1 = 31 bytes and the NUL */
	CHECK_INT(sse_frame("ticket", "012345678", out, 32), 31);
	CHECK_STR(out, "event: ticket\ndata: 012345678\n\n");
	CHECK_INT(sse_frame("ticket", "012345678", out, 31), 0);
}

int main(void)
{
	RUN(test_frame);
	RUN(test_frame_too_long);
	return TEST_END();
}
