/* log: one line per event on stderr, PostgreSQL message style.
 *
 * Lines about a unit of work start with its id ("msg=42: ..."), so the
 * caller puts that in the format.  log_fatal() is for start-up and broken
 * invariants only; at run time log, retry, live on. */
#ifndef MDG_LOG_H
#define MDG_LOG_H

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

void log_init(const char *progname);
void log_set_level(enum log_level lvl);
int log_parse_level(const char *s, enum log_level *out);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
