/* log: timestamped lines on stderr; the service manager or tools/up
 * redirects them to a file.  One write(2) per line so that lines from
 * several processes sharing a file do not interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "madoguchi";
static enum log_level log_min = LOG_LVL_INFO;

void log_init(const char *progname)
{
	log_prog = progname;
}

void log_set_level(enum log_level lvl)
{
	log_min = lvl;
}

int log_parse_level(const char *s, enum log_level *out)
{
	static const char *names[] = { "debug", "info", "warning", "error" };
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

static void log_emit(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *tag[] = { "debug", "info", "warning", "error" };
	char line[4096];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	if (lvl < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s[%ld] %s: ",
		     ts.tv_nsec / 1000000, log_prog, (long)getpid(), tag[lvl]);
	if (r > 0)
		n += (size_t)r;
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}

#define LOG_FN(name, lvl)                          \
	void name(const char *fmt, ...)            \
	{                                          \
		va_list ap;                        \
		va_start(ap, fmt);                 \
		log_emit(lvl, fmt, ap);            \
		va_end(ap);                        \
	}
LOG_FN(log_debug, LOG_LVL_DEBUG)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_error, LOG_LVL_ERROR)

void log_fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
