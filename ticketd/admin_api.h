/* admin_api: the administrators' endpoints.  For now the routing rules
 * (sql/002_mail.sql route_rule, matched by route.c):
 *
 *   GET    /api/admin/rules          {"rules":[rule...]} in (position, id) order
 *   POST   /api/admin/rules          create (appended last): 201 rule
 *   PUT    /api/admin/rules/ID       change the fields given: 200 rule; 404
 *   DELETE /api/admin/rules/ID       204; 404
 *   POST   /api/admin/rules/order    {"ids":[...]} every rule once, first to
 *                                    last: 200 {"rules":[...]}; 409 when the
 *                                    ids are not exactly the rules there are
 *
 * A rule: {"id","position","name","enabled","match_recipient",
 * "match_sender","match_subject","subject_regex","match_did","match_origin",
 * "set_queue","set_category","set_priority","set_tags","continue_matching",
 * "updated_at","updated_by"}.  A body may carry the read-only keys (id,
 * position, updated_at, updated_by): they are ignored, so a rule as read can
 * be sent back.  An unknown key, a wrong type or a bad value is a 400
 * {"error":"<field>: <why>"}: the name is required; an empty match_* or
 * set_category means unset; set_queue, if not null, must not be empty; a
 * subject pattern must compile (route_regex_check); match_did holds digits
 * and + - ( ) and spaces, stored as its digits; set_priority is null or
 * ROUTE_PRIORITY_MIN..MAX; set_tags at most 20 non-empty strings.
 *
 * Every change writes updated_by (the admin's login) and updated_at, and
 * sends NOTIFY route_change in its own transaction, so every ticketd
 * rereads the rules when, and only when, the change is committed.  The
 * router (api.c) lets only the admin role in and checks the CSRF token. */
#ifndef MDG_ADMIN_API_H
#define MDG_ADMIN_API_H

struct api_call;
struct db;

void admin_api_prepare(struct db *db);
void admin_api_rules_list(struct api_call *c);
void admin_api_rules_create(struct api_call *c);
void admin_api_rules_update(struct api_call *c);
void admin_api_rules_delete(struct api_call *c);
void admin_api_rules_order(struct api_call *c);

#endif
