/* tickets: the queue and one ticket as JSON (GET /api/tickets[/ID]). */
#ifndef MDG_TICKETS_H
#define MDG_TICKETS_H

struct api_call;
struct db;

void tickets_prepare(struct db *db);
/* a ticket changed (NOTIFY ticket_change): the cached counts are stale */
void tickets_changed(void);
/* GET /api/tickets?status=open|all&limit=N&before_id=N */
void tickets_list(struct api_call *c);
/* GET /api/tickets/ID */
void tickets_get(struct api_call *c);

#endif
