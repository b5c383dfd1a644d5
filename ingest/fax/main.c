/* ingest-fax: answers fax calls over SIP and stores what they bring.
 *
 *   ingest-fax [-c CONFIG]
 *   ingest-fax --config-keys
 *
 * Always in the foreground; logs to stderr.  SIGTERM/SIGINT hang up the
 * calls in progress (their pages are kept) and stop; the signal handlers
 * only set flags, which the event loop looks at every 100 ms.  SIGHUP is
 * logged and ignored: the SIP socket and the calls stay as they are, so a
 * new configuration takes a restart. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "daemon.h"
#include "line.h"
#include "outfax.h"
#include "log.h"
#include "settings.h"

static const struct config_key *const main_tables[] = { config_common_keys, settings_keys, outfax_keys,
							 NULL };

static void main_usage(void)
{
	fprintf(stderr, "usage: ingest-fax [-c CONFIG]\n"
			"       ingest-fax --config-keys\n");
	exit(2);
}

static void main_options(int argc, char **argv, const char **path)
{
	static const struct option opts[] = { { "config-keys", no_argument, NULL, 'k' },
					      { NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (opt == 'c')
			*path = optarg;
		else if (opt == 'k') {
			config_print_keys(main_tables);
			exit(0);
		} else
			main_usage();
	}
	if (optind != argc)
		main_usage();
}

static int main_stop(void *arg)
{
	(void)arg;
	if (daemon_reload) {
		daemon_reload = 0;
		log_info("SIGHUP: ingest-fax takes a new configuration only on restart");
	}
	return daemon_stop != 0;
}

int main(int argc, char **argv)
{
	const char *path = "etc/madoguchi.conf";
	char err[512];
	struct config *cfg;
	struct line *l;
	enum log_level lvl;

	log_init("ingest-fax");
	main_options(argc, argv, &path);
	daemon_signals();
	cfg = config_load(path, main_tables, err, sizeof(err));
	if (cfg == NULL) {
		log_error("could not load configuration: %s", err);
		return 1;
	}
	if (log_parse_level(config_str(cfg, "log.level"), &lvl) < 0) {
		log_error("could not load configuration: log.level: expected debug, info, "
			  "warning or error");
		return 1;
	}
	log_set_level(lvl);
	l = line_new(cfg, err, sizeof(err));
	if (l == NULL) {
		log_error("could not start: %s", err);
		config_free(cfg);
		return 1;
	}
	log_info("started (%s)", config_file(cfg));
	line_run(l, main_stop, NULL);
	line_free(l);
	config_free(cfg);
	log_info("stopped");
	return 0;
}
