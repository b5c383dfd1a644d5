/* bizcal_bench: how fast bizcal_due computes due times, e.g. to recompute
 * every open ticket's due time after the crisis switch goes off.
 *
 *   build: make tests/bench/bizcal_bench   (an EXTRA program, not in make check)
 *   run:   tests/bench/bizcal_bench [items, default 1000000]
 *
 * The centre calendar of sql/016 (Mon-Sat 08:30-17:15, 年末年始) with the
 * 2026-2027 national holidays and three one-off closures; items received
 * at pseudo-random instants over 2026-2027, every tenth with a pause of up
 * to three days (waiting for the citizen).  Prints items/s per policy mode
 * (one core, wall clock) and a checksum of the due times, so that a change
 * that alters results shows. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bizcal.h"

static const int bench_holidays[][3] = {
	{ 2026, 1, 1 },  { 2026, 1, 12 }, { 2026, 2, 11 }, { 2026, 2, 23 }, { 2026, 3, 20 },
	{ 2026, 4, 29 }, { 2026, 5, 3 },  { 2026, 5, 4 },  { 2026, 5, 5 },  { 2026, 5, 6 },
	{ 2026, 7, 20 }, { 2026, 8, 11 }, { 2026, 9, 21 }, { 2026, 9, 22 }, { 2026, 9, 23 },
	{ 2026, 10, 12 }, { 2026, 11, 3 }, { 2026, 11, 23 }, { 2027, 1, 1 }, { 2027, 1, 11 },
	{ 2027, 2, 11 }, { 2027, 2, 23 }, { 2027, 3, 21 }, { 2027, 3, 22 }, { 2027, 4, 29 },
	{ 2027, 5, 3 },  { 2027, 5, 4 },  { 2027, 5, 5 },  { 2027, 7, 19 }, { 2027, 8, 11 },
	{ 2027, 9, 20 }, { 2027, 9, 23 }, { 2027, 10, 11 }, { 2027, 11, 3 }, { 2027, 11, 23 },
};

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct bizcal *bench_calendar(void)
{
	struct bizcal *c = bizcal_new();

	for (int wd = 1; wd <= 6; wd++)
		bizcal_add_hours(c, wd, 8 * 3600 + 1800, 17 * 3600 + 900);
	for (size_t i = 0; i < sizeof(bench_holidays) / sizeof(bench_holidays[0]); i++)
		bizcal_add_holiday(c, bizcal_day(bench_holidays[i][0], bench_holidays[i][1],
						 bench_holidays[i][2]));
	bizcal_add_annual(c, 12, 29, 1, 3);
	bizcal_add_closure(c, bizcal_time(2026, 6, 10, 13, 0, 0), bizcal_time(2026, 6, 10, 17, 15, 0));
	bizcal_add_closure(c, bizcal_time(2026, 9, 1, 0, 0, 0), bizcal_time(2026, 9, 2, 0, 0, 0));
	bizcal_add_closure(c, bizcal_time(2027, 3, 5, 9, 0, 0), bizcal_time(2027, 3, 5, 12, 0, 0));
	return c;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "wall clock 24 h", "business hours 24 h",
					     "next business day's end" };
	char *end = (char *)"";
	long n = argc > 1 ? strtol(argv[1], &end, 10) : 1000000;
	struct bizcal *c = bench_calendar();
	int64_t t0 = bizcal_time(2026, 1, 1, 0, 0, 0), span = 2 * 365 * 86400;

	if (*end != '\0' || n < 1 || n > 100000000 || c == NULL) {
		fprintf(stderr, "usage: bizcal_bench [items, 1 to 100000000]\n");
		return 2;
	}
	for (int mode = 0; mode < 3; mode++) {
		struct bizcal_policy pol = { (enum bizcal_mode)mode, 86400, 21600 };
		uint64_t seed = 88172645463325252ULL, sum = 0;
		double start = bench_now(), secs;

		for (long i = 0; i < n; i++) {
			struct bizcal_range pause;
			struct bizcal_due d;
			int64_t t;

			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			t = t0 + (int64_t)(seed % (uint64_t)span);
			pause.from = t + (int64_t)(seed >> 40) % 86400;
			pause.to = pause.from + (int64_t)(seed >> 20) % (3 * 86400) + 1;
			if (bizcal_due(&pol, c, t, &pause, i % 10 == 0, &d) < 0)
				return 1;
			sum += (uint64_t)d.due ^ ((uint64_t)d.warning << 1);
		}
		secs = bench_now() - start;
		printf("%-24s %9ld items in %6.3f s: %10.0f items/s (checksum %016llx)\n", names[mode],
		       n, secs, (double)n / secs, (unsigned long long)sum);
	}
	bizcal_free(c);
	return 0;
}
