/* tickets: the queue and one ticket as JSON (GET /api/tickets[/ID]). */
#ifndef MDG_TICKETS_H
#define MDG_TICKETS_H

struct api_call;
struct config;
struct db;

void tickets_prepare(struct db *db);
/* the mime.* limits forwarded mails (message/rfc822 attachments) are
 * parsed with, those of intake; mime_limits_default until called */
void tickets_configure(const struct config *cfg);
/* a ticket changed (NOTIFY ticket_change): the cached counts are stale */
void tickets_changed(void);
/* GET /api/tickets?status=open|all&limit=N&before_id=N */
void tickets_list(struct api_call *c);
/* GET /api/tickets/ID */
void tickets_get(struct api_call *c);

#endif
