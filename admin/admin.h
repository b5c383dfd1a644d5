/* admin: the commands of madoguchi-admin. */
#ifndef MDG_ADMIN_H
#define MDG_ADMIN_H

struct config;
struct db;

/* register the prepared statements (before connecting) */
void admin_prepare(struct db *db);
/* run one command: 0 ok, 1 failed, 2 usage error */
int admin_run(struct db *db, const struct config *cfg, int argc, char **argv);
/* calendar.c: holidays-load, sla-due; calendar_run returns as admin_run */
int calendar_is_command(const char *cmd);
int calendar_run(struct db *db, int argc, char **argv);
/* migrations, in migrate.c: 0 or -1 */
int migrate_apply(struct db *db, const char *sql_dir);
/* in purge.c: purge [--days N] [--dry-run] [--reason TEXT]; purge-report [RUN] */
int purge_command(struct db *db, const struct config *cfg, int argc, char **argv);
int purge_report_command(struct db *db, int argc, char **argv);

#endif
