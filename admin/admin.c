/* admin: users, dead items, dead outgoing mail, contact grants, migrations.  Statements are registered per
 * command, because before "migrate" the tables they name do not exist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <stdint.h>
#include <unistd.h>

#include "admin.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "pwhash.h"

static const struct db_stmt admin_migrate_stmts[] = {
	{ "migration_applied", "SELECT 1 FROM schema_migration WHERE version = $1" },
	{ "migration_record", "INSERT INTO schema_migration (version, name) VALUES ($1, $2)" },
	{ NULL, NULL },
};

static const struct db_stmt admin_stmts[] = {
	{ "user_add",
	  "INSERT INTO app_user (login, role, display_name, pw_hash, created_at, pw_changed_at)"
	  " VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (login) DO NOTHING RETURNING id" },
	{ "user_passwd",
	  "UPDATE app_user SET pw_hash = $2, pw_changed_at = $3, failed_logins = 0,"
	  " locked_until = NULL WHERE login = $1" },
	{ "dead_list",
	  "SELECT id, source, source_key, raw_size, attempts, stored_at, coalesce(last_error, '')"
	  " FROM inbound_item WHERE state = 'dead' ORDER BY id" },
	{ "requeue_one",
	  "UPDATE inbound_item SET state = 'new', attempts = 0, not_before = '-infinity'"
	  " WHERE id = $1 AND state = 'dead'" },
	{ "requeue_all",
	  "UPDATE inbound_item SET state = 'new', attempts = 0, not_before = '-infinity'"
	  " WHERE state = 'dead'" },
	{ "notify_inbound", "SELECT pg_notify('inbound', '')" },
	/* the outgoing mail queue (sql/003; escalationd works it) */
	{ "outbound_dead_list",
	  "SELECT id, ticket_id, attempts, to_char(created_at AT TIME ZONE 'UTC',"
	  " 'YYYY-MM-DD HH24:MI'), array_to_string(rcpt, ', '), coalesce(last_error, '')"
	  " FROM outbound_mail WHERE state = 'dead' ORDER BY id" },
	/* sql/009's function: the same requeue as a supervisor's in the web */
	{ "outbound_requeue",
	  "SELECT t FROM outbound_requeue($1::bigint, $3, $2::timestamptz) t WHERE t IS NOT NULL" },
	/* ward viewers allowed to read contact details (sql/006); the grant
	 * runs to the end of the day named, Tokyo time */
	{ "contact_grant",
	  "INSERT INTO contact_grant AS g (user_id, granted_by, granted_at, expires_at, reason)"
	  " SELECT u.id, $2, $3, ($4::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo', $5"
	  " FROM app_user u WHERE u.login = $1 AND u.role = 'viewer'"
	  " ON CONFLICT (user_id) DO UPDATE SET granted_by = EXCLUDED.granted_by,"
	  " granted_at = EXCLUDED.granted_at, expires_at = EXCLUDED.expires_at,"
	  " reason = EXCLUDED.reason RETURNING g.user_id" },
	{ "contact_revoke",
	  "DELETE FROM contact_grant g USING app_user u WHERE g.user_id = u.id AND u.login = $1" },
	{ "user_role", "SELECT role FROM app_user WHERE login = $1" },
	{ NULL, NULL },
};

void admin_prepare(struct db *db)
{
	(void)db; /* statements are added per command in admin_run */
}

/* a password from stdin (when piped) or a generated one, printed once */
static int admin_password(char *out, size_t len, int *generated)
{
	size_t n;

	*generated = 0;
	if (!isatty(STDIN_FILENO)) {
		if (fgets(out, (int)len, stdin) == NULL)
			return -1;
		n = strcspn(out, "\r\n");
		out[n] = '\0';
		if (n < 8) {
			log_error("a password needs at least 8 characters");
			return -1;
		}
		return 0;
	}
	*generated = 1;
	return len < 25 ? -1 : pwhash_random_hex(out, 12);
}

static int admin_valid_role(const char *r)
{
	return strcmp(r, "operator") == 0 || strcmp(r, "supervisor") == 0 ||
	       strcmp(r, "viewer") == 0 || strcmp(r, "admin") == 0;
}

static int admin_user_add(struct db *db, int argc, char **argv)
{
	char pw[256], hash[256], now[64];
	const char *vals[5];
	struct db_res *res;
	int gen, rows;

	if (argc < 3 || !admin_valid_role(argv[2]))
		return 2;
	if (admin_password(pw, sizeof(pw), &gen) < 0 || pwhash_make(pw, hash, sizeof(hash)) < 0)
		return 1;
	vals[0] = argv[1];
	vals[1] = argv[2];
	vals[2] = argc > 3 ? argv[3] : argv[1];
	vals[3] = hash;
	vals[4] = clock_format_iso(clock_now_us(), now, sizeof(now));
	res = db_query(db, "user_add", 5, vals, NULL, NULL, 0);
	if (res == NULL)
		return 1;
	rows = db_res_rows(res);
	db_res_free(res);
	if (rows == 0) {
		log_error("user \"%s\" exists already; use user-passwd to reset its password", argv[1]);
		return 1;
	}
	printf("created user %s (%s)\n", argv[1], argv[2]);
	if (gen)
		printf("password: %s\n", pw);
	return 0;
}

static int admin_user_passwd(struct db *db, int argc, char **argv)
{
	char pw[256], hash[256], now[64];
	const char *vals[3];
	int gen;

	if (argc != 2)
		return 2;
	if (admin_password(pw, sizeof(pw), &gen) < 0 || pwhash_make(pw, hash, sizeof(hash)) < 0)
		return 1;
	vals[0] = argv[1];
	vals[1] = hash;
	vals[2] = clock_format_iso(clock_now_us(), now, sizeof(now));
	if (db_cmd(db, "user_passwd", 3, vals, NULL, NULL) != 1) {
		log_error("no user \"%s\"", argv[1]);
		return 1;
	}
	printf("password of %s changed; the account is unlocked\n", argv[1]);
	if (gen)
		printf("password: %s\n", pw);
	return 0;
}

static int admin_dead(struct db *db)
{
	struct db_res *res = db_query(db, "dead_list", 0, NULL, NULL, NULL, 0);
	int n;

	if (res == NULL)
		return 1;
	n = db_res_rows(res);
	printf("%-10s %-12s %-30s %10s %8s  %s\n", "id", "source", "key", "bytes", "attempts",
	       "last error");
	for (int i = 0; i < n; i++)
		printf("%-10s %-12s %-30s %10s %8s  %s\n", db_res_val(res, i, 0),
		       db_res_val(res, i, 1), db_res_val(res, i, 2), db_res_val(res, i, 3),
		       db_res_val(res, i, 4), db_res_val(res, i, 6));
	printf("%d dead item%s\n", n, n == 1 ? "" : "s");
	db_res_free(res);
	return 0;
}

static int admin_requeue(struct db *db, int argc, char **argv)
{
	long total = 0, r;

	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "--all") == 0)
		total = db_cmd(db, "requeue_all", 0, NULL, NULL, NULL);
	else
		for (int i = 1; i < argc && total >= 0; i++) {
			const char *v[1] = { argv[i] };
			char *end;

			strtoll(argv[i], &end, 10);
			if (*end != '\0' || end == argv[i])
				return 2;
			r = db_cmd(db, "requeue_one", 1, v, NULL, NULL);
			if (r == 0)
				log_warn("item=%s: not a dead item; left alone", argv[i]);
			total = r < 0 ? -1 : total + r;
		}
	if (total < 0)
		return 1;
	db_cmd(db, "notify_inbound", 0, NULL, NULL, NULL);
	printf("requeued %ld item%s\n", total, total == 1 ? "" : "s");
	return 0;
}

static int admin_outbound_dead(struct db *db)
{
	struct db_res *res = db_query(db, "outbound_dead_list", 0, NULL, NULL, NULL, 0);
	int n;

	if (res == NULL)
		return 1;
	n = db_res_rows(res);
	printf("%-10s %-10s %8s  %-16s  %s\n", "id", "ticket", "attempts", "queued (UTC)",
	       "recipients: last error");
	for (int i = 0; i < n; i++)
		printf("%-10s %-10s %8s  %-16s  %s: %s\n", db_res_val(res, i, 0),
		       db_res_val(res, i, 1), db_res_val(res, i, 2), db_res_val(res, i, 3),
		       db_res_val(res, i, 4), db_res_val(res, i, 5));
	printf("%d dead outgoing mail%s\n", n, n == 1 ? "" : "s");
	db_res_free(res);
	return 0;
}

/* who requeued, for outbound_mail.requeued_by and the timeline */
static void admin_who(char *out, size_t len)
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(out, len, "madoguchi-admin (%s)", pw != NULL ? pw->pw_name : "?");
}

static int admin_outbound_requeue(struct db *db, int argc, char **argv)
{
	char now[64], who[128];
	long total = 0;

	if (argc < 2)
		return 2;
	admin_who(who, sizeof(who));
	clock_format_iso(clock_now_us(), now, sizeof(now));
	for (int i = 1; i < argc; i++) {
		const char *v[3] = { argv[i], now, who };
		struct db_res *res;
		char *end;

		strtoll(argv[i], &end, 10);
		if (*end != '\0' || end == argv[i])
			return 2;
		if ((res = db_query(db, "outbound_requeue", 3, v, NULL, NULL, 0)) == NULL)
			return 1;
		if (db_res_rows(res) == 0)
			log_warn("out=%s: not a dead outgoing mail; left alone", argv[i]);
		total += db_res_rows(res);
		db_res_free(res);
	}
	printf("requeued %ld outgoing mail%s\n", total, total == 1 ? "" : "s");
	return 0;
}

/* 1 if s is a calendar date YYYY-MM-DD (checked here, not left to a
 * database error) */
static int admin_date_ok(const char *s)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	long y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	y = strtol(s, NULL, 10);
	m = strtol(s + 5, NULL, 10);
	d = strtol(s + 8, NULL, 10);
	if (y < 2000 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* LOGIN --until YYYY-MM-DD --reason TEXT, in any order after LOGIN */
static int admin_grant_args(int argc, char **argv, const char **until, const char **reason)
{
	*until = *reason = NULL;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--until") == 0)
			*until = argv[i + 1];
		else if (strcmp(argv[i], "--reason") == 0)
			*reason = argv[i + 1];
		else
			return -1;
	}
	if (argc % 2 != 0 || *until == NULL || *reason == NULL)
		return -1;
	return 0;
}

/* why LOGIN cannot have a grant (no such user, not a viewer), or NULL */
static const char *admin_grant_refused(struct db *db, const char *login)
{
	const char *v[1] = { login };
	struct db_res *res = db_query(db, "user_role", 1, v, NULL, NULL, 0);
	const char *why = NULL;

	if (res == NULL)
		return "the database refused the query";
	if (db_res_rows(res) == 0)
		why = "no such user";
	else if (strcmp(db_res_val(res, 0, 0), "viewer") != 0)
		why = "only ward viewers need a grant: other roles read contacts by their role";
	db_res_free(res);
	return why;
}

static int admin_contact_grant(struct db *db, int argc, char **argv)
{
	char now[64], who[128], today[11];
	const char *until, *reason, *why;
	struct db_res *res;
	int64_t now_us = clock_now_us();

	if (argc < 2 || admin_grant_args(argc, argv, &until, &reason) < 0)
		return 2;
	clock_format_iso(now_us + 9 * 3600 * INT64_C(1000000), now, sizeof(now));
	snprintf(today, sizeof(today), "%.10s", now); /* Tokyo's date */
	if (!admin_date_ok(until) || strcmp(until, today) < 0) {
		log_error("--until \"%s\": a date YYYY-MM-DD, today (%s, Tokyo) or later", until,
			  today);
		return 1;
	}
	if (reason[0] == '\0' || strlen(reason) > 1000) {
		log_error("--reason: say why, in at most 1000 bytes");
		return 1;
	}
	if ((why = admin_grant_refused(db, argv[1])) != NULL) {
		log_error("user \"%s\": %s", argv[1], why);
		return 1;
	}
	admin_who(who, sizeof(who));
	clock_format_iso(now_us, now, sizeof(now));
	{
		const char *v[5] = { argv[1], who, now, until, reason };

		if ((res = db_query(db, "contact_grant", 5, v, NULL, NULL, 0)) == NULL)
			return 1;
	}
	db_res_free(res);
	printf("%s may read contact details until the end of %s (Tokyo)\n", argv[1], until);
	return 0;
}

static int admin_contact_revoke(struct db *db, int argc, char **argv)
{
	const char *v[1];
	long n;

	if (argc != 2)
		return 2;
	v[0] = argv[1];
	if ((n = db_cmd(db, "contact_revoke", 1, v, NULL, NULL)) < 0)
		return 1;
	printf(n > 0 ? "%s may no longer read contact details\n" : "%s had no grant\n", argv[1]);
	return 0;
}

int admin_run(struct db *db, const struct config *cfg, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "migrate") == 0) {
		if (db_simple(db, "CREATE TABLE IF NOT EXISTS schema_migration ("
				  " version text PRIMARY KEY, name text NOT NULL,"
				  " applied_at timestamptz NOT NULL DEFAULT now())") < 0)
			return 1;
		db_prepare_all(db, admin_migrate_stmts);
		if (db_ensure(db) < 0)
			return 1;
		return migrate_apply(db, config_path(cfg, "admin.sql_dir")) < 0 ? 1 : 0;
	}
	if (calendar_is_command(cmd))
		return calendar_run(db, argc, argv);
	db_prepare_all(db, admin_stmts);
	if (db_ensure(db) < 0) {
		log_error("the schema is not there: run \"madoguchi-admin migrate\" first");
		return 1;
	}
	if (strcmp(cmd, "user-add") == 0)
		return admin_user_add(db, argc, argv);
	if (strcmp(cmd, "user-passwd") == 0)
		return admin_user_passwd(db, argc, argv);
	if (strcmp(cmd, "dead") == 0)
		return admin_dead(db);
	if (strcmp(cmd, "requeue") == 0)
		return admin_requeue(db, argc, argv);
	if (strcmp(cmd, "outbound-dead") == 0)
		return admin_outbound_dead(db);
	if (strcmp(cmd, "outbound-requeue") == 0)
		return admin_outbound_requeue(db, argc, argv);
	if (strcmp(cmd, "contact-grant") == 0)
		return admin_contact_grant(db, argc, argv);
	if (strcmp(cmd, "contact-revoke") == 0)
		return admin_contact_revoke(db, argc, argv);
	if (strcmp(cmd, "purge") == 0)
		return purge_command(db, cfg, argc, argv);
	if (strcmp(cmd, "purge-report") == 0)
		return purge_report_command(db, argc, argv);
	return 2;
}
