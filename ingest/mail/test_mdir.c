/* Unit tests for mdir: which names in new/ are messages, and their keys. */
#include <string.h>

#include "mdir.h"
#include "testlib.h"

static void test_mdir_unique(void)
{
	char out[64];

	CHECK_INT(mdir_unique("1732250000.M1P2.host", out, sizeof(out)), 0);
	CHECK_STR(out, "1732250000.M1P2.host");
	/* the info part after ':' is not part of the key */
	CHECK_INT(mdir_unique("1732250000.M1P2.host:2,S", out, sizeof(out)), 0);
	CHECK_STR(out, "1732250000.M1P2.host");
	CHECK_INT(mdir_unique(".hidden", out, sizeof(out)), -1);
	CHECK_INT(mdir_unique(":2,S", out, sizeof(out)), -1);
	CHECK_INT(mdir_unique("", out, sizeof(out)), -1);
	/* too long for the buffer: refused, not cut */
	CHECK_INT(mdir_unique("0123456789", out, 10), -1);
	CHECK_INT(mdir_unique("012345678", out, 10), 0);
	CHECK_STR(out, "012345678");
	/* not printable ASCII, or '%': %XX, so the key is text and one-to-one */
	CHECK_INT(mdir_unique("a b\xe7\xaa\x93%.x:2,S", out, sizeof(out)), 0);
	CHECK_STR(out, "a%20b%E7%AA%93%25.x");
	CHECK_INT(mdir_unique("a%20b", out, sizeof(out)), 0);
	CHECK_STR(out, "a%2520b");
	CHECK_INT(mdir_unique("\x01", out, 4), 0);
	CHECK_STR(out, "%01");
	CHECK_INT(mdir_unique("\x01", out, 3), -1);
}

int main(void)
{
	RUN(test_mdir_unique);
	return TEST_END();
}
