/* approval: replies that wait for a second person before they go out
 * (承認・ダブルチェック), and the supervisors' list of dead mail.
 *
 * A reply is held when its ticket's queue requires approval
 * (queue_setting, set by admins) or when its template says
 * "Approval: required" (templates.h).  reply.c stores it like any reply,
 * but in the state awaiting_approval (sql/009), which escalationd never
 * claims.  Someone other than its author then decides, under the row
 * lock of outbound_mail:
 *
 *   GET  /api/approvals               replies waiting: supervisors see all,
 *                                     operators those of others (preview:
 *                                     subject, recipients, body, files)
 *   GET  /api/outbound/ID             one outgoing mail with its draft (the
 *                                     composer opens a returned one again)
 *   POST /api/outbound/ID/approve     {comment?}: queued, sent the send
 *                                     delay from now (reply_approved)
 *   POST /api/outbound/ID/edit-approve {subject, body, confirmed_recipients,
 *                                     confirmed_attachments, comment?}: the
 *                                     mail rebuilt by reply.c's own code
 *                                     (reply_rebuild), then approved
 *                                     (reply_edited_approved; the timeline
 *                                     gets lengths, never the text)
 *   POST /api/outbound/ID/return      {comment}: returned, kept for the
 *                                     record; the author writes a new reply
 *                                     (reply_returned, with the comment)
 *
 * Approving, editing and returning are for supervisors and operators, never
 * for the reply's author (403): a second pair of eyes.  A comment goes on
 * the timeline, which carries no personal data, so it is scanned by
 * lib/piidetect like a case record (422 with the findings).  Each step is
 * a ticket_event naming the actor, NOTIFY ticket_change (op: the event
 * kind) and, when the mail may now be sent, NOTIFY outbound.
 *
 * Dead mail (refused for good by the relay, or out of attempts):
 *   GET  /api/outbound?state=dead     supervisors, admins
 *   POST /api/outbound/ID/requeue     supervisors: sql/009's
 *                                     outbound_requeue(), the very function
 *                                     madoguchi-admin outbound-requeue calls
 *
 * Per-queue settings (admins):
 *   GET/PUT /api/admin/queues/NAME/settings  {approval_required} */
#ifndef MDG_APPROVAL_H
#define MDG_APPROVAL_H

struct api_call;
struct db;

void approval_prepare(struct db *db);

void approval_list(struct api_call *c);
void approval_get(struct api_call *c);
void approval_approve(struct api_call *c);
void approval_edit(struct api_call *c);
void approval_return(struct api_call *c);

void approval_dead_list(struct api_call *c);
void approval_requeue(struct api_call *c);

void approval_queue_get(struct api_call *c);
void approval_queue_put(struct api_call *c);

#endif
