/* testlib: the unit tests' harness.  A test binary runs its cases,
 * prints "ok"/"FAIL" per check failure with file and line, and ends with
 * "N passed, N failed"; tools/test adds these lines up.  Header only. */
#ifndef MDG_TESTLIB_H
#define MDG_TESTLIB_H
#include <stdio.h>
#include <string.h>

static int testlib_pass, testlib_fail, testlib_case_failed;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			printf("  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);           \
			testlib_case_failed = 1;                                           \
		}                                                                          \
	} while (0)

#define CHECK_STR(a, b)                                                                    \
	do {                                                                               \
		const char *ca_ = (a), *cb_ = (b);                                         \
		if (ca_ == NULL || cb_ == NULL || strcmp(ca_, cb_) != 0) {                 \
			printf("  FAIL %s:%d: %s == %s\n    got      \"%s\"\n    expected \"%s\"\n", \
			       __FILE__, __LINE__, #a, #b, ca_ ? ca_ : "(null)",           \
			       cb_ ? cb_ : "(null)");                                      \
			testlib_case_failed = 1;                                           \
		}                                                                          \
	} while (0)

#define CHECK_INT(a, b)                                                                    \
	do {                                                                               \
		long long ia_ = (long long)(a), ib_ = (long long)(b);                      \
		if (ia_ != ib_) {                                                          \
			printf("  FAIL %s:%d: %s == %s (got %lld, expected %lld)\n",       \
			       __FILE__, __LINE__, #a, #b, ia_, ib_);                      \
			testlib_case_failed = 1;                                           \
		}                                                                          \
	} while (0)

#define RUN(fn)                                                                            \
	do {                                                                               \
		testlib_case_failed = 0;                                                   \
		fn();                                                                      \
		printf("%s %s\n", testlib_case_failed ? "FAIL" : "ok  ", #fn);             \
		if (testlib_case_failed)                                                   \
			testlib_fail++;                                                    \
		else                                                                       \
			testlib_pass++;                                                    \
	} while (0)

#define TEST_END()                                                                         \
	(printf("%d passed, %d failed\n", testlib_pass, testlib_fail), testlib_fail ? 1 : 0)

#endif
