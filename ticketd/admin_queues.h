/* admin_queues: the list of known queues for the admins' approval page
 * (issue 5).  A queue has no table of its own: its name is what tickets
 * (ticket.queue), routing rules (route_rule.set_queue) and queue settings
 * (queue_setting, sql/009) say.
 *
 * GET /api/admin/queues  {"queues":[{"queue", "approval_required",
 *     "updated_by", "updated_at", "in_tickets", "in_rules"}], "limit"}
 *     by name, at most ADMIN_QUEUES_MAX; a queue without a queue_setting
 *     row has the defaults (no approval, updated_* null).  Each setting
 *     is read and written one at a time by approval.h's
 *     GET/PUT /api/admin/queues/NAME/settings. */
#ifndef MDG_ADMIN_QUEUES_H
#define MDG_ADMIN_QUEUES_H

struct api_call;
struct db;

#define ADMIN_QUEUES_MAX 500

void admin_queues_prepare(struct db *db);
void admin_queues_list(struct api_call *c);

#endif
