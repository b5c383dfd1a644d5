/* escalationd: the outgoing mail sender (and, later, SLA clocks and
 * escalation mail).  This file is the lifecycle only: options, config, the
 * database handle, the loop (loop.c), and the way out. */
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

int main(int argc, char **argv)
{
	const char *path = daemon_options(argc, argv, "escalationd", main_tables);
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
