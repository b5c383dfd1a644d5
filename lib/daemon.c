#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"

volatile sig_atomic_t daemon_stop;
volatile sig_atomic_t daemon_reload;

static void daemon_on_signal(int sig)
{
	if (sig == SIGHUP)
		daemon_reload = 1;
	else
		daemon_stop = 1;
}

void daemon_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = daemon_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int daemon_pidfile(const char *path)
{
	char line[32];
	int fd, n;

	if (path == NULL)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("could not write pid file \"%s\": %s", path, strerror(errno));
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void daemon_usage(FILE *f, const char *name)
{
	fprintf(f,
		"usage: %s [-c CONFIG] [--config-keys]\n"
		"  -c CONFIG      configuration file (default etc/madoguchi.conf)\n"
		"  --config-keys  print the configuration keys %s reads, and exit\n",
		name, name);
}

const char *daemon_options(int argc, char **argv, const char *name,
			   const struct config_key *const *tables)
{
	static const struct option opts[] = { { "config-keys", no_argument, NULL, 'k' },
					       { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	const char *path = "etc/madoguchi.conf";
	int ch;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			config_print_keys(tables);
			exit(0);
		case 'h':
			daemon_usage(stdout, name);
			exit(0);
		default:
			daemon_usage(stderr, name);
			exit(2);
		}
	}
	if (optind != argc) {
		daemon_usage(stderr, name);
		exit(2);
	}
	return path;
}
