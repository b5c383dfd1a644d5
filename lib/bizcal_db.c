/* bizcal_db: sql/016's rows into a struct bizcal.  Dates travel as day
 * numbers (date - '1970-01-01', the same Tokyo days bizcal counts), times of
 * day and instants as whole seconds, so no time zone is parsed here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bizcal_db.h"
#include "db.h"
#include "log.h"

const struct db_stmt bizcal_db_stmts[] = {
	{ "bizcal_exists", "SELECT 1 FROM calendar WHERE id = $1::int" },
	{ "bizcal_hours",
	  "SELECT weekday, extract(epoch FROM opens)::int, extract(epoch FROM closes)::int"
	  " FROM calendar_hours WHERE calendar_id = $1::int" },
	{ "bizcal_holidays", "SELECT day - date '1970-01-01' FROM holiday" },
	{ "bizcal_annual",
	  "SELECT from_month, from_day, to_month, to_day FROM calendar_annual_closure"
	  " WHERE calendar_id = $1::int OR calendar_id IS NULL" },
	{ "bizcal_closures",
	  "SELECT floor(extract(epoch FROM starts_at))::bigint, ceil(extract(epoch FROM ends_at))::bigint"
	  " FROM calendar_closure WHERE (calendar_id = $1::int OR calendar_id IS NULL)"
	  " AND ends_at > to_timestamp($2::bigint)" },
	{ "bizcal_openings",
	  "SELECT day - date '1970-01-01', extract(epoch FROM opens)::int,"
	  " extract(epoch FROM closes)::int FROM calendar_opening"
	  " WHERE calendar_id = $1::int AND day >= date '1970-01-01' + $2::int" },
	{ "bizcal_policy",
	  "SELECT id, coalesce(calendar_id, 0), pause_when_waiting_citizen, mode, target_seconds,"
	  " warning_seconds FROM sla_policy WHERE (queue = $1 OR queue IS NULL)"
	  " AND (channel = $2 OR channel IS NULL) AND clock = $3"
	  " ORDER BY queue IS NULL, channel IS NULL LIMIT 1" },
	{ "bizcal_policy_id",
	  "SELECT id, coalesce(calendar_id, 0), pause_when_waiting_citizen, mode, target_seconds,"
	  " warning_seconds FROM sla_policy WHERE id = $1::int" },
	{ "bizcal_crisis",
	  "SELECT floor(extract(epoch FROM started_at))::bigint,"
	  " coalesce(ceil(extract(epoch FROM ended_at))::bigint, -1) FROM crisis_pause"
	  " WHERE ended_at IS NULL OR ended_at > to_timestamp($1::bigint) ORDER BY started_at" },
	{ NULL, NULL },
};

/* one statement's rows through add(); -1 on a database error or a row add refuses */
static int bizcal_db_rows(struct db *db, const char *stmt, int n, const char *const *vals,
			  struct bizcal *cal, int id,
			  int (*add)(struct bizcal *, const struct db_res *, int))
{
	struct db_res *res = db_query(db, stmt, n, vals, NULL, NULL, 0);

	if (res == NULL)
		return -1;
	for (int i = 0; i < db_res_rows(res); i++)
		if (add(cal, res, i) < 0) {
			log_error("calendar=%d: %s row %d refused (overlapping, out of range or too many)",
				  id, stmt, i + 1);
			db_res_free(res);
			return -1;
		}
	db_res_free(res);
	return 0;
}

static int bizcal_db_add_hours(struct bizcal *cal, const struct db_res *r, int i)
{
	return bizcal_add_hours(cal, (int)db_res_ll(r, i, 0), (int)db_res_ll(r, i, 1),
				(int)db_res_ll(r, i, 2));
}

static int bizcal_db_add_holiday(struct bizcal *cal, const struct db_res *r, int i)
{
	return bizcal_add_holiday(cal, (int32_t)db_res_ll(r, i, 0));
}

static int bizcal_db_add_annual(struct bizcal *cal, const struct db_res *r, int i)
{
	return bizcal_add_annual(cal, (int)db_res_ll(r, i, 0), (int)db_res_ll(r, i, 1),
				 (int)db_res_ll(r, i, 2), (int)db_res_ll(r, i, 3));
}

static int bizcal_db_add_closure(struct bizcal *cal, const struct db_res *r, int i)
{
	return bizcal_add_closure(cal, db_res_ll(r, i, 0), db_res_ll(r, i, 1));
}

static int bizcal_db_add_opening(struct bizcal *cal, const struct db_res *r, int i)
{
	return bizcal_add_opening(cal, (int32_t)db_res_ll(r, i, 0), (int)db_res_ll(r, i, 1),
				  (int)db_res_ll(r, i, 2));
}

static int bizcal_db_exists(struct db *db, const char *idtext, int id)
{
	const char *v[1] = { idtext };
	struct db_res *res = db_query(db, "bizcal_exists", 1, v, NULL, NULL, 0);
	int found;

	if (res == NULL)
		return -1;
	found = db_res_rows(res) > 0;
	db_res_free(res);
	if (!found)
		log_error("calendar=%d: no such calendar", id);
	return found ? 0 : -1;
}

int bizcal_db_load(struct db *db, int calendar_id, int64_t since, struct bizcal **out)
{
	char idt[16], sincet[24], dayt[16];
	const char *v[2] = { idt, sincet }, *vd[2] = { idt, dayt };
	struct bizcal *cal;

	snprintf(idt, sizeof(idt), "%d", calendar_id);
	snprintf(sincet, sizeof(sincet), "%lld", (long long)since);
	snprintf(dayt, sizeof(dayt), "%ld", (long)bizcal_day_of(since));
	if (bizcal_db_exists(db, idt, calendar_id) < 0)
		return -1;
	if ((cal = bizcal_new()) == NULL) {
		log_error("calendar=%d: out of memory", calendar_id);
		return -1;
	}
	if (bizcal_db_rows(db, "bizcal_hours", 1, v, cal, calendar_id, bizcal_db_add_hours) < 0 ||
	    bizcal_db_rows(db, "bizcal_holidays", 0, NULL, cal, calendar_id,
			   bizcal_db_add_holiday) < 0 ||
	    bizcal_db_rows(db, "bizcal_annual", 1, v, cal, calendar_id, bizcal_db_add_annual) < 0 ||
	    bizcal_db_rows(db, "bizcal_closures", 2, v, cal, calendar_id,
			   bizcal_db_add_closure) < 0 ||
	    bizcal_db_rows(db, "bizcal_openings", 2, vd, cal, calendar_id,
			   bizcal_db_add_opening) < 0) {
		bizcal_free(cal);
		return -1;
	}
	*out = cal;
	return 0;
}

static int bizcal_db_policy_row(const struct db_res *res, struct bizcal_db_policy *out)
{
	const char *mode;

	if (db_res_rows(res) == 0)
		return 0;
	out->id = (int)db_res_ll(res, 0, 0);
	out->calendar_id = (int)db_res_ll(res, 0, 1);
	out->pause_when_waiting_citizen = strcmp(db_res_val(res, 0, 2), "t") == 0;
	mode = db_res_val(res, 0, 3);
	out->policy.mode = strcmp(mode, "business_hours") == 0          ? BIZCAL_BUSINESS_HOURS
			   : strcmp(mode, "next_business_day_end") == 0 ? BIZCAL_NEXT_DAY_END
									: BIZCAL_WALL_CLOCK;
	out->policy.target = db_res_ll(res, 0, 4);
	out->policy.warning = db_res_ll(res, 0, 5);
	return 1;
}

int bizcal_db_policy(struct db *db, const char *queue, const char *channel, const char *clock,
		     struct bizcal_db_policy *out)
{
	const char *v[3] = { queue, channel, clock };
	struct db_res *res = db_query(db, "bizcal_policy", 3, v, NULL, NULL, 0);
	int r;

	if (res == NULL)
		return -1;
	r = bizcal_db_policy_row(res, out);
	db_res_free(res);
	return r;
}

int bizcal_db_policy_id(struct db *db, int id, struct bizcal_db_policy *out)
{
	char idt[16];
	const char *v[1] = { idt };
	struct db_res *res;
	int r;

	snprintf(idt, sizeof(idt), "%d", id);
	if ((res = db_query(db, "bizcal_policy_id", 1, v, NULL, NULL, 0)) == NULL)
		return -1;
	r = bizcal_db_policy_row(res, out);
	db_res_free(res);
	return r;
}

int bizcal_db_crisis(struct db *db, int64_t since, struct bizcal_range *out, int max)
{
	char sincet[24];
	const char *v[1] = { sincet };
	struct db_res *res;
	int n = 0;

	snprintf(sincet, sizeof(sincet), "%lld", (long long)since);
	if ((res = db_query(db, "bizcal_crisis", 1, v, NULL, NULL, 0)) == NULL)
		return -1;
	for (int i = 0; i < db_res_rows(res) && n < max; i++, n++) {
		long long to = db_res_ll(res, i, 1);

		out[n].from = db_res_ll(res, i, 0);
		out[n].to = to < 0 ? BIZCAL_NEVER : to;
	}
	db_res_free(res);
	return n;
}
