/* admin_calendar: the administrators' pages of business calendars and SLA
 * policies (issue 6; the tables of sql/016, written through sql/024's
 * functions, each change with its audit row in one transaction; sql/020's
 * triggers then mark the tickets on the clock for recomputation).
 *
 * Reading (supervisor, admin):
 *   GET  /api/admin/calendars        {"calendars":[{id,name,kind,hours:[{weekday,
 *        opens,closes}],openings:[{day,opens,closes,reason}],departments:[{id,name,
 *        section}]}],"annual_closures":
 *        [{id,calendar_id,from:"MM-DD",to:"MM-DD",reason}],"closures":[{id,calendar_id,
 *        starts_at,ends_at ("YYYY-MM-DD HH:MM" Tokyo; ends_at exclusive),from_day,to_day
 *        (inclusive),whole_days,reason}]}; calendar_id null: every calendar
 *   GET  /api/admin/holidays?year=Y  {"year","holidays":[{day,name,source}]}
 *   GET  /api/admin/sla-policies     {"policies":[{id,queue,channel,clock,mode,
 *        target_seconds,warning_seconds,pause_when_waiting_citizen,calendar_id}]}
 *   POST /api/admin/sla-policies/preview {"received":"YYYY-MM-DD HH:MM", "id":N or
 *        "policy":{fields}}: the due and warning instants lib/bizcal gives (as
 *        "madoguchi-admin sla-due"): {"received","due","warning" (Tokyo
 *        "YYYY-MM-DD HH:MM:SS", null: never), "due_at","warn_at" (UTC ISO),
 *        "crisis_pauses"}
 *   GET  /api/admin/calendar-audit   {"audit":[{id,at,actor,entity,entity_id,action,
 *        before,after}]}, the latest 200
 * Changing (admin):
 *   POST   /api/admin/calendars             {"name"} a department's calendar: 201; 409 name
 *   PUT    /api/admin/calendars/#           {"name"}: 200; DELETE (a department's, no
 *          policy on it; its departments fall back to the ward's): 204; 409
 *   PUT    /api/admin/calendars/#/departments {"department_ids":[...]} exactly the
 *          departments whose hours it is: 200 calendar; 404 an unknown id
 *   PUT    /api/admin/calendars/#/hours     {"hours":[...]} the whole week: 200 calendar
 *   PUT    /api/admin/calendars/#/openings  {"openings":[...]} all of them: 200 calendar
 *   POST   /api/admin/annual-closures       {calendar_id,from,to,reason}: 201
 *   PUT    /api/admin/annual-closures/#     the same fields: 200; DELETE: 204
 *   POST   /api/admin/closures              {calendar_id,from,to,reason}: from/to
 *          "YYYY-MM-DD" (whole days, to inclusive) or "YYYY-MM-DD HH:MM": 201
 *   PUT    /api/admin/closures/#            200; DELETE: 204
 *   POST   /api/admin/holidays              {"day","name"} a local holiday: 201; 409
 *   DELETE /api/admin/holidays/YYYY-MM-DD   a local one: 204; 404; 409 national
 *   POST   /api/admin/holidays/import       the Cabinet Office CSV (CP932 or UTF-8,
 *          lib/holidays.h): 200 {rows,first,last,added,changed,unchanged,removed};
 *          400 {"error","bad":[{line,why}]}
 *   POST   /api/admin/sla-policies          201; PUT .../#: 200; DELETE .../#: 204;
 *          409 when that queue, channel and clock has a policy
 * A refused value is a 400 {"error":"<field>: <why>"}; times are HH:MM
 * (00:00-24:00), a day's intervals must not overlap, dates must exist.
 * The router lets the roles in and checks the CSRF token (api.c). */
#ifndef MDG_ADMIN_CALENDAR_H
#define MDG_ADMIN_CALENDAR_H

struct api_call;
struct db;

void admin_calendar_prepare(struct db *db);
void admin_calendar_list(struct api_call *c);
void admin_calendar_create(struct api_call *c);
void admin_calendar_rename(struct api_call *c);
void admin_calendar_delete(struct api_call *c);
void admin_calendar_departments(struct api_call *c);
void admin_calendar_hours(struct api_call *c);
void admin_calendar_openings(struct api_call *c);
void admin_calendar_annual_create(struct api_call *c);
void admin_calendar_annual_update(struct api_call *c);
void admin_calendar_annual_delete(struct api_call *c);
void admin_calendar_closure_create(struct api_call *c);
void admin_calendar_closure_update(struct api_call *c);
void admin_calendar_closure_delete(struct api_call *c);
void admin_calendar_holidays(struct api_call *c);
void admin_calendar_holiday_add(struct api_call *c);
void admin_calendar_holiday_remove(struct api_call *c);
void admin_calendar_holiday_import(struct api_call *c);
void admin_calendar_policies(struct api_call *c);
void admin_calendar_policy_create(struct api_call *c);
void admin_calendar_policy_update(struct api_call *c);
void admin_calendar_policy_delete(struct api_call *c);
void admin_calendar_preview(struct api_call *c);
void admin_calendar_audit(struct api_call *c);

#endif
