/* The known queues and their settings (admin_queues.h). */
#include <string.h>

#include "admin_queues.h"
#include "api.h"
#include "db.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define STR_(x) #x
#define STR(x) STR_(x)

static const struct db_stmt aq_stmts[] = {
	/* the distinct ticket queues by skipping along the queue index (sql/010),
	 * one probe per queue rather than a scan of every ticket */
	{ "aq_list",
	  "WITH RECURSIVE t (queue) AS ("
	  "  (SELECT queue FROM ticket ORDER BY queue LIMIT 1)"
	  "  UNION ALL"
	  "  SELECT (SELECT k.queue FROM ticket k WHERE k.queue > t.queue ORDER BY k.queue LIMIT 1)"
	  "    FROM t WHERE t.queue IS NOT NULL),"
	  " names (queue, src) AS ("
	  "  SELECT queue, 't' FROM t WHERE queue IS NOT NULL"
	  "  UNION ALL SELECT set_queue, 'r' FROM route_rule WHERE coalesce(set_queue, '') <> ''"
	  "  UNION ALL SELECT queue, 's' FROM queue_setting)"
	  " SELECT n.queue, coalesce(bool_or(s.approval_required), false), min(s.updated_by),"
	  "  " US("min(s.updated_at)") ", bool_or(n.src = 't'), bool_or(n.src = 'r')"
	  " FROM names n LEFT JOIN queue_setting s ON s.queue = n.queue"
	  " GROUP BY n.queue ORDER BY n.queue LIMIT " STR(ADMIN_QUEUES_MAX) },
	{ NULL, NULL },
};

void admin_queues_prepare(struct db *db)
{
	db_prepare_all(db, aq_stmts);
}

static json_t *aq_row(const struct db_res *r, int i)
{
	return json_pack("{s:o, s:b, s:o, s:o, s:b, s:b}", "queue", api_col_str(r, i, 0),
			 "approval_required", strcmp(db_res_val(r, i, 1), "t") == 0, "updated_by",
			 api_col_str(r, i, 2), "updated_at", api_col_time(r, i, 3), "in_tickets",
			 strcmp(db_res_val(r, i, 4), "t") == 0, "in_rules",
			 strcmp(db_res_val(r, i, 5), "t") == 0);
}

void admin_queues_list(struct api_call *c)
{
	struct db_res *r = db_query(c->db, "aq_list", 0, NULL, NULL, NULL, 0);
	json_t *list;

	if (r == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	list = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(list, aq_row(r, i));
	db_res_free(r);
	api_json(c, 200, json_pack("{s:o, s:i}", "queues", list, "limit", ADMIN_QUEUES_MAX));
}
