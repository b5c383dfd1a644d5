/* category: the category tree (課 > 係, sql/012_category.sql) and the
 * classification of a ticket by operators (issue 5).
 *
 * ticket.category holds a path, "区民課 > 住民記録係", as text, so the
 * routing rules keep setting it; the queue filter matches a path and all
 * below it (tickets.c).  Tags are free words for hot topics and events
 * (選挙, 大量通知送付).
 *
 * GET  /api/categories  {"categories":[{id, parent_id, name, path, position,
 *      enabled, usable}]}, in tree order; usable: it and its ancestors enabled
 * POST /api/admin/categories  {"name", "parent_id"?, "position"?, "enabled"?} -> 201
 * PUT  /api/admin/categories/ID  {"name"?, "position"?, "enabled"?} -> 200
 *      {"id"}; with "name" a rename, in one transaction (renames and
 *      creates serialised by a table lock): the name changed, every
 *      ticket.category, case_record.category and route_rule.set_category
 *      equal to the old path or below it rewritten to the new path (so the
 *      reports count before and after under one name; no ticket_event, the
 *      tickets were not worked), one category_rename row (sql/013), NOTIFY
 *      ticket_change {"id":0,"op":"category_renamed","category_id"} (and
 *      route_change when a rule changed); 200 {"id", "old_path", "path",
 *      "tickets", "cases", "rules"} (counts of rows rewritten); 409 the name
 *      taken under the same parent, 404, 400 a bad name (as for POST)
 * POST /api/tickets/ID/classify  {"category": PATH | "" | null, "tags": [..]}
 *      the path must be a usable one (422 otherwise); up to 10 tags of 1-30
 *      characters after trimming, no commas or control characters (400);
 *      duplicates are dropped.  One transaction: the row locked, category,
 *      tags and updated_at written, a ticket_event "classified" (actor = the
 *      login), NOTIFY ticket_change; 200 {"id", "category", "tags"}. */
#ifndef MDG_CATEGORY_H
#define MDG_CATEGORY_H

struct api_call;
struct db;

#define CATEGORY_TAGS_MAX 10
#define CATEGORY_TAG_CHARS 30
#define CATEGORY_NAME_CHARS 60

void category_prepare(struct db *db);
void category_list(struct api_call *c);
void category_create(struct api_call *c);
void category_update(struct api_call *c);
void category_classify(struct api_call *c);

#endif
