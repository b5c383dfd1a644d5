/* ticketd: the ticket daemon — intake, the JSON API, the web pages and
 * live updates.  This file is the lifecycle only: options, config, the
 * database handle, the loop (loop.c), and the way out. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "cti_ami.h"
#include "daemon.h"
#include "db.h"
#include "escalate.h"
#include "http.h"
#include "intake.h"
#include "search.h"
#include "sla.h"
#include "log.h"
#include "loop.h"
#include "reply.h"
#include "sse.h"
#include "upload.h"
#include "faxreply.h"
#include "webroot.h"

static const struct config_key main_keys[] = {
	{ "ticketd.db_user", CFG_STR, "madoguchi_ticketd", 0, 0,
	  "PostgreSQL role ticketd logs in as (grants in sql/)" },
	{ "ticketd.pid_file", CFG_PATH, "", 0, 0, "write the process id here (empty: nowhere)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static const struct config_key *const main_tables[] = {
	config_common_keys, main_keys, http_config_keys, auth_config_keys, sse_config_keys,
	webroot_config_keys, intake_config_keys, search_config_keys,
	reply_config_keys, escalate_config_keys, sla_config_keys, upload_config_keys,
	faxreply_config_keys, cti_ami_config_keys, NULL,
};

int main(int argc, char **argv)
{
	const char *path = daemon_options(argc, argv, "ticketd", main_tables);
	struct config *cfg;
	struct loop *loop;
	struct db *db;
	char err[512], *conninfo;
	int rc;

	log_init("ticketd");
	if ((cfg = config_load(path, main_tables, err, sizeof(err))) == NULL)
		log_fatal("%s", err);
	conninfo = db_conninfo(cfg, config_str(cfg, "ticketd.db_user"));
	if (conninfo == NULL || (db = db_new(conninfo, "ticketd")) == NULL)
		log_fatal("out of memory");
	free(conninfo);
	daemon_signals();
	if (config_path(cfg, "ticketd.pid_file")[0] != '\0' &&
	    daemon_pidfile(config_path(cfg, "ticketd.pid_file")) < 0)
		return 1;
	/* the loop owns cfg and db from here */
	if ((loop = loop_new(cfg, main_tables, db)) == NULL)
		return 1;
	log_info("started (pid %ld)", (long)getpid());
	rc = loop_run(loop);
	loop_free(loop);
	return rc;
}
