/* bizcal_db: calendars, SLA policies and the crisis switch read from the
 * tables of sql/016 into bizcal's structures, through db.h.
 *
 * Register bizcal_db_stmts with db_prepare_all() before connecting (as the
 * programs register their own tables).  The failing function logs (db.c
 * logs database errors; rows bizcal refuses are logged here with the
 * calendar's id); callers only see -1. */
#ifndef MDG_BIZCAL_DB_H
#define MDG_BIZCAL_DB_H
#include <stdint.h>

#include "bizcal.h"
#include "db.h"

extern const struct db_stmt bizcal_db_stmts[];

/* one row of sla_policy, as bizcal_due wants it */
struct bizcal_db_policy {
	int id;
	int calendar_id; /* 0: none (wall clock) */
	int pause_when_waiting_citizen;
	struct bizcal_policy policy;
};

/* Calendar calendar_id with every holiday, its own and the common annual
 * closures and one-off closures, and its extra openings; closures and
 * openings that ended before since are left out (they cannot move a due
 * time of an item received since then).  0 with *out (bizcal_free it), or
 * -1 (also when there is no such calendar). */
int bizcal_db_load(struct db *db, int calendar_id, int64_t since, struct bizcal **out);

/* the policy for a queue and channel ("response" or "processing" clock):
 * the most specific row wins (queue and channel, then queue, then channel,
 * then neither).  1 found, 0 none, -1 error. */
int bizcal_db_policy(struct db *db, const char *queue, const char *channel, const char *clock,
		     struct bizcal_db_policy *out);
/* policy by id: 1, 0, -1 as above */
int bizcal_db_policy_id(struct db *db, int id, struct bizcal_db_policy *out);

/* crisis pauses that end after since (the one switched on has to =
 * BIZCAL_NEVER), oldest first, at most max: how many, or -1 */
int bizcal_db_crisis(struct db *db, int64_t since, struct bizcal_range *out, int max);

#endif
