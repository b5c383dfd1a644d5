/* migrate: apply sql/NNN_name.sql files in number order, each in its own
 * transaction together with its schema_migration row, so a failed
 * migration leaves nothing half-applied.  A migration is never edited once
 * released: later changes are new files. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "buf.h"
#include "db.h"
#include "log.h"

static int migrate_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int migrate_is_file(const char *name)
{
	size_t n = strlen(name);

	return n > 8 && name[0] >= '0' && name[0] <= '9' && name[1] >= '0' && name[1] <= '9' &&
	       name[2] >= '0' && name[2] <= '9' && name[3] == '_' && strcmp(name + n - 4, ".sql") == 0;
}

static int migrate_read(const char *path, struct buf *b)
{
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		log_error("could not open \"%s\": %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(b, chunk, n) < 0) {
			fclose(f);
			log_error("\"%s\" is too large", path);
			return -1;
		}
	fclose(f);
	return 0;
}

static int migrate_one(struct db *db, const char *dir, const char *name)
{
	char path[4096], version[4];
	const char *vals[2] = { version, name };
	struct buf sql;
	struct db_res *res;
	int applied;

	snprintf(version, sizeof(version), "%.3s", name);
	res = db_query(db, "migration_applied", 1, vals, NULL, NULL, 0);
	if (res == NULL)
		return -1;
	applied = db_res_rows(res) > 0;
	db_res_free(res);
	if (applied)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf_init(&sql, 16 * 1024 * 1024);
	if (migrate_read(path, &sql) < 0) {
		buf_free(&sql);
		return -1;
	}
	if (db_begin(db) < 0 || db_simple(db, sql.data) < 0 ||
	    db_cmd(db, "migration_record", 2, vals, NULL, NULL) != 1 || db_commit(db) < 0) {
		db_rollback(db);
		buf_free(&sql);
		log_error("migration %s failed; nothing of it was applied", name);
		return -1;
	}
	buf_free(&sql);
	log_info("applied migration %s", name);
	return 0;
}

int migrate_apply(struct db *db, const char *sql_dir)
{
	char *names[1000];
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(sql_dir);
	if (d == NULL) {
		log_error("could not open \"%s\": %s", sql_dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL && n < 1000)
		if (migrate_is_file(de->d_name))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), migrate_cmp);
	for (size_t i = 0; i < n; i++) {
		if (r == 0 && migrate_one(db, sql_dir, names[i]) < 0)
			r = -1;
		free(names[i]);
	}
	return r;
}
