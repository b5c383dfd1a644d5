#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

static int clock_pinned = -1; /* -1: not yet looked at the environment */
static int64_t clock_pinned_us;

static void clock_from_env(void)
{
	const char *s = getenv("MADOGUCHI_PINNED_NOW");
	char *end;
	double v;

	clock_pinned = 0;
	if (s == NULL || *s == '\0')
		return;
	v = strtod(s, &end);
	if (*end != '\0' || v <= 0)
		return;
	clock_pinned = 1;
	clock_pinned_us = (int64_t)(v * 1e6);
}

int64_t clock_now_us(void)
{
	struct timespec ts;

	if (clock_pinned < 0)
		clock_from_env();
	if (clock_pinned)
		return clock_pinned_us;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_pin(int64_t us)
{
	clock_pinned = 1;
	clock_pinned_us = us;
}

void clock_unpin(void)
{
	clock_pinned = 0;
}

char *clock_format_iso(int64_t us, char *buf, size_t len)
{
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n > 0 && n < len)
		snprintf(buf + n, len - n, ".%06ldZ", (long)(us % 1000000));
	return buf;
}
