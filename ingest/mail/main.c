/* ingest-mail: pulls mail (Maildir or IMAP) into inbound_item.
 *
 *   ingest-mail [-c CONFIG] [--once]
 *   ingest-mail --config-keys
 *
 * Always in the foreground; logs to stderr.  SIGTERM/SIGINT stop it
 * between batches; SIGHUP reloads the config (a bad one is logged and the
 * old one kept).  The signals are blocked except while waiting in
 * ppoll(), so they never interrupt libetpan or libpq half-way through a
 * read (libetpan treats EINTR as a broken connection). */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "daemon.h"
#include "ingest.h"
#include "log.h"
#include "settings.h"

static const struct config_key *const main_tables[] = { config_common_keys, settings_keys,
							 NULL };

static void main_usage(void)
{
	fprintf(stderr, "usage: ingest-mail [-c CONFIG] [--once]\n"
			"       ingest-mail --config-keys\n");
	exit(2);
}

static struct config *main_load(const char *path, struct ingest **in)
{
	char err[512];
	struct config *cfg = config_load(path, main_tables, err, sizeof(err));
	enum log_level lvl;

	if (cfg == NULL) {
		log_error("could not load configuration: %s", err);
		return NULL;
	}
	if (log_parse_level(config_str(cfg, "log.level"), &lvl) < 0) {
		log_error("could not load configuration: log.level: expected debug, info, "
			  "warning or error");
		config_free(cfg);
		return NULL;
	}
	*in = ingest_open(cfg, err, sizeof(err));
	if (*in == NULL) {
		log_error("could not load configuration: %s", err);
		config_free(cfg);
		return NULL;
	}
	log_set_level(lvl);
	return cfg;
}

/* wait for w with the signals let through; they cut the wait short */
static void main_wait(const struct ingest_wait *w, const sigset_t *during)
{
	struct pollfd pfd = { w->fd, POLLIN, 0 };
	struct timespec ts = { (time_t)(w->timeout_ms / 1000), (long)(w->timeout_ms % 1000) * 1000000 };

	if (ppoll(&pfd, w->fd >= 0 ? 1 : 0, &ts, during) < 0 && errno != EINTR)
		log_error("ppoll failed: %s", strerror(errno));
}

static void main_reload(const char *path, struct config **cfg, struct ingest **in)
{
	struct ingest *nin = NULL;
	struct config *ncfg = main_load(path, &nin);

	if (ncfg == NULL) {
		log_warn("reload failed; going on with the configuration loaded before");
		return;
	}
	ingest_close(*in);
	config_free(*cfg);
	*in = nin;
	*cfg = ncfg;
	log_info("configuration reloaded from %s", config_file(ncfg));
}

static void main_options(int argc, char **argv, const char **path, int *once)
{
	static const struct option opts[] = { { "once", no_argument, NULL, 'o' },
					      { "config-keys", no_argument, NULL, 'k' },
					      { NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (opt == 'c')
			*path = optarg;
		else if (opt == 'o')
			*once = 1;
		else if (opt == 'k') {
			config_print_keys(main_tables);
			exit(0);
		} else
			main_usage();
	}
	if (optind != argc)
		main_usage();
}

int main(int argc, char **argv)
{
	const char *path = "etc/madoguchi.conf";
	struct ingest_wait w;
	struct config *cfg;
	struct ingest *in;
	sigset_t block, during;
	int once = 0, status = 0;

	log_init("ingest-mail");
	/* a fixed mmap threshold: buffers of big mails (libetpan's literal,
	 * libpq's send buffer) are mmapped and go back to the system when
	 * freed; glibc's sliding threshold would otherwise move them onto the
	 * heap after the first big one and keep them resident */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	main_options(argc, argv, &path, &once);
	daemon_signals();
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &during);
	cfg = main_load(path, &in);
	if (cfg == NULL)
		return 1;
	log_info("started (%s)", config_file(cfg));
	while (!daemon_stop) {
		if (daemon_reload) {
			daemon_reload = 0;
			main_reload(path, &cfg, &in);
		}
		ingest_step(in, &w);
		if (once && (w.idle || w.failed)) {
			status = w.failed;
			break;
		}
		/* also with a zero timeout: pending signals get their turn */
		main_wait(&w, &during);
	}
	ingest_close(in);
	config_free(cfg);
	log_info("stopped");
	return status;
}
