/* daemon: what every daemon's main.c does around its loop.  Signal
 * handlers only set flags; the loop looks at them. */
#ifndef MDG_DAEMON_H
#define MDG_DAEMON_H
#include <signal.h>

extern volatile sig_atomic_t daemon_stop;   /* SIGTERM, SIGINT */
extern volatile sig_atomic_t daemon_reload; /* SIGHUP */

void daemon_signals(void);
/* write our pid to path (if not NULL) */
int daemon_pidfile(const char *path);

struct config_key;
/* The options every daemon takes: -c CONFIG (default etc/madoguchi.conf),
 * --config-keys (print tables and exit 0), --help; anything else prints
 * the usage of name and exits 2.  Returns the config path. */
const char *daemon_options(int argc, char **argv, const char *name,
			   const struct config_key *const *tables);

#endif
