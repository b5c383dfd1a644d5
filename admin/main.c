/* madoguchi-admin: the operator's command line for the database.
 *
 *   madoguchi-admin [-c CONFIG] migrate
 *   madoguchi-admin [-c CONFIG] user-add LOGIN ROLE [DISPLAY NAME]
 *   madoguchi-admin [-c CONFIG] user-passwd LOGIN
 *   madoguchi-admin [-c CONFIG] dead
 *   madoguchi-admin [-c CONFIG] requeue ID... | --all
 *   madoguchi-admin [-c CONFIG] outbound-dead
 *   madoguchi-admin [-c CONFIG] outbound-requeue ID...
 *   madoguchi-admin [-c CONFIG] contact-grant LOGIN --until YYYY-MM-DD --reason TEXT
 *   madoguchi-admin [-c CONFIG] contact-revoke LOGIN
 *   madoguchi-admin [-c CONFIG] purge [--days N] [--dry-run] [--reason TEXT]
 *   madoguchi-admin [-c CONFIG] purge-report [RUN]
 *   madoguchi-admin [-c CONFIG] holidays-load FILE.csv
 *   madoguchi-admin [-c CONFIG] sla-due POLICY_ID 'YYYY-MM-DD HH:MM'
 *
 * It connects as db.admin_user, the schema owner.  Passwords: read from
 * standard input when it is not a terminal, otherwise generated and printed
 * once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "db.h"
#include "log.h"

static const struct config_key admin_keys[] = {
	{ "admin.sql_dir", CFG_PATH, "sql", 0, 0,
	  "folder with the numbered migrations (NNN_name.sql) and roles.sql" },
	{ "retention.correspondence_days", CFG_INT, "0", 0, 36500,
	  "days after a ticket is resolved or closed before \"madoguchi-admin purge\" deletes its"
	  " correspondence (mail, attachments, notes, contacts; the case history stays); 0: never" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static void usage(void)
{
	fprintf(stderr,
		"usage: madoguchi-admin [-c CONFIG] COMMAND\n"
		"  migrate                       apply the migrations not yet applied\n"
		"  user-add LOGIN ROLE [NAME]    role: operator, supervisor, viewer, admin\n"
		"  user-passwd LOGIN             set a new password (stdin, or generated)\n"
		"  dead                          list inbound items that failed for good\n"
		"  requeue ID... | --all         put dead items back on the intake queue\n"
		"  outbound-dead                 list outgoing mail that failed for good\n"
		"  outbound-requeue ID...        send dead outgoing mail again (attempts from 0)\n"
		"  contact-grant LOGIN --until YYYY-MM-DD --reason TEXT\n"
		"                                let a ward viewer read contact details until the\n"
		"                                end of that day (Tokyo); again to change it\n"
		"  contact-revoke LOGIN          take a viewer's contact grant back\n"
		"  purge [--days N] [--dry-run] [--reason TEXT]\n"
		"                                delete the correspondence of tickets finished more\n"
		"                                than N days ago (retention.correspondence_days)\n"
		"  purge-report [RUN]            the purge runs, or one run's deletion report (CSV)\n"
		"  holidays-load FILE.csv        load the Cabinet Office holiday list (CP932);\n"
		"                                all of it or, on a bad line, nothing\n"
		"  sla-due POLICY_ID 'YYYY-MM-DD HH:MM'\n"
		"                                due and warning times of an item received then\n"
		"                                (Tokyo), from the calendars in the database\n"
		"  --config-keys                 list this program's config keys\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const struct config_key *const tables[] = { config_common_keys, admin_keys, NULL };
	const char *cfgpath = "etc/madoguchi.conf";
	struct config *cfg;
	struct db *db;
	char err[512], *ci;
	int opt, r;

	log_init("madoguchi-admin");
	if (argc > 1 && strcmp(argv[1], "--config-keys") == 0) {
		config_print_keys(tables);
		return 0;
	}
	while ((opt = getopt(argc, argv, "+c:")) != -1) {
		if (opt == 'c')
			cfgpath = optarg;
		else
			usage();
	}
	if (optind >= argc)
		usage();
	cfg = config_load(cfgpath, tables, err, sizeof(err));
	if (cfg == NULL)
		log_fatal("could not load configuration: %s", err);
	ci = db_conninfo(cfg, config_str(cfg, "db.admin_user"));
	db = db_new(ci, "madoguchi-admin");
	admin_prepare(db);
	if (db_ensure(db) < 0)
		log_fatal("could not connect to the database as %s",
			  config_str(cfg, "db.admin_user"));
	r = admin_run(db, cfg, argc - optind, argv + optind);
	db_free(db);
	free(ci);
	config_free(cfg);
	if (r == 2)
		usage();
	return r;
}
