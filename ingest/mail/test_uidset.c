/* Unit tests for uidset: sorting, runs, the set text for logs. */
#include <stdint.h>
#include <string.h>

#include "testlib.h"
#include "uidset.h"

static void test_uidset_sort_and_runs(void)
{
	static const uint32_t in[] = { 7, 3, 1, 2, 3, 9, 8, 20 };
	struct uidset s;
	uint32_t lo, hi;
	size_t i = 0;

	uidset_init(&s);
	for (size_t k = 0; k < sizeof(in) / sizeof(in[0]); k++)
		CHECK_INT(uidset_add(&s, in[k]), 0);
	uidset_sort(&s);
	CHECK_INT(s.n, 7); /* the second 3 is gone */
	CHECK_INT(s.v[0], 1);
	CHECK_INT(s.v[6], 20);
	CHECK_INT(uidset_max(&s), 20);
	CHECK_INT(uidset_run(s.v, s.n, &i, &lo, &hi), 1);
	CHECK_INT(lo, 1);
	CHECK_INT(hi, 3);
	CHECK_INT(uidset_run(s.v, s.n, &i, &lo, &hi), 1);
	CHECK_INT(lo, 7);
	CHECK_INT(hi, 9);
	CHECK_INT(uidset_run(s.v, s.n, &i, &lo, &hi), 1);
	CHECK_INT(lo, 20);
	CHECK_INT(hi, 20);
	CHECK_INT(uidset_run(s.v, s.n, &i, &lo, &hi), 0);
	uidset_free(&s);
}

static void test_uidset_grows(void)
{
	struct uidset s;

	uidset_init(&s);
	for (uint32_t u = 100000; u > 0; u--)
		CHECK_INT(uidset_add(&s, u), 0);
	uidset_sort(&s);
	CHECK_INT(s.n, 100000);
	CHECK_INT(s.v[0], 1);
	CHECK_INT(s.v[99999], 100000);
	uidset_clear(&s);
	CHECK_INT(s.n, 0);
	CHECK_INT(uidset_max(&s), 0);
	uidset_free(&s);
}

static void test_uidset_format(void)
{
	static const uint32_t v[] = { 1, 2, 3, 7, 9, 10, 4000000000u };
	char out[64], tiny[12];

	uidset_format(v, 7, out, sizeof(out));
	CHECK_STR(out, "1:3,7,9:10,4000000000");
	uidset_format(v, 7, tiny, sizeof(tiny));
	CHECK_STR(tiny, "1:3,7,...");
	uidset_format(v, 0, out, sizeof(out));
	CHECK_STR(out, "");
}

static void test_uidset_run_top(void)
{
	/* a run ending at the largest UID must not wrap around */
	static const uint32_t v[] = { 4294967294u, 4294967295u };
	uint32_t lo, hi;
	size_t i = 0;

	CHECK_INT(uidset_run(v, 2, &i, &lo, &hi), 1);
	CHECK_INT(lo, 4294967294u);
	CHECK_INT(hi, 4294967295u);
	CHECK_INT(i, 2);
}

int main(void)
{
	RUN(test_uidset_sort_and_runs);
	RUN(test_uidset_grows);
	RUN(test_uidset_format);
	RUN(test_uidset_run_top);
	return TEST_END();
}
