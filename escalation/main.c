/* escalationd: the outgoing mail sender (and, later, SLA clocks and
 * escalation mail).  This file is the lifecycle only: options, config, the
 * database handle, the loop (loop.c), and the way out. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "loop.h"
#include "settings.h"

static const struct config_key *const main_tables[] = { config_common_keys, settings_keys, NULL };

static void main_usage(FILE *f)
{
	fprintf(f, "usage: escalationd [-c CONFIG] [--config-keys]\n"
		   "  -c CONFIG      configuration file (default etc/madoguchi.conf)\n"
		   "  --config-keys  print the configuration keys escalationd reads, and exit\n");
}

static const char *main_options(int argc, char **argv)
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
			config_print_keys(main_tables);
			exit(0);
		case 'h':
			main_usage(stdout);
			exit(0);
		default:
			main_usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		exit(2);
	}
	return path;
}

int main(int argc, char **argv)
{
	const char *path = main_options(argc, argv);
	struct config *cfg;
	struct loop *loop;
	struct db *db;
	char err[512], *conninfo;
	int rc;

	log_init("escalationd");
	if ((cfg = config_load(path, main_tables, err, sizeof(err))) == NULL)
		log_fatal("%s", err);
	conninfo = db_conninfo(cfg, config_str(cfg, "escalation.db_user"));
	if (conninfo == NULL || (db = db_new(conninfo, "escalationd")) == NULL)
		log_fatal("out of memory");
	free(conninfo);
	/* the retry jitter only spreads mails out; it need not be unpredictable */
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	daemon_signals();
	if (config_path(cfg, "escalation.pid_file")[0] != '\0' &&
	    daemon_pidfile(config_path(cfg, "escalation.pid_file")) < 0)
		return 1;
	/* the loop owns cfg and db from here */
	if ((loop = loop_new(cfg, main_tables, db)) == NULL)
		return 1;
	log_info("started (pid %ld)", (long)getpid());
	rc = loop_run(loop);
	loop_free(loop);
	return rc;
}
