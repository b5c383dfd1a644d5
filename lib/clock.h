/* clock: the one place every daemon reads "now" from.
 *
 * Tests pin it: clock_pin() in unit tests, or the environment variable
 * MADOGUCHI_PINNED_NOW (seconds since the epoch, optionally with a
 * fraction) for a whole daemon, so SLA and reminder code runs at exact
 * instants.  Monotonic time for timeouts is never pinned. */
#ifndef MDG_CLOCK_H
#define MDG_CLOCK_H
#include <stdint.h>
#include <stddef.h>

/* microseconds since the epoch */
int64_t clock_now_us(void);
/* monotonic milliseconds, for timers and backoff */
int64_t clock_mono_ms(void);
void clock_pin(int64_t us);
void clock_unpin(void);
/* "2026-11-22T04:10:00.123456Z" into buf; returns buf */
char *clock_format_iso(int64_t us, char *buf, size_t len);

#endif
