/* escalate: a ticket escalated to a ward department by mail (issue 6;
 * sql/018, the directory in department.h).
 *
 *   POST /api/tickets/ID/escalate/render  {"department_id", "template"?}
 *        → {"to","subject","body","template","templates","attachments"}: the
 *        proposed mail from templates/escalation (ticketd.escalation_templates), no
 *        contact detail in it; the token is added to the subject at sending
 *   POST /api/tickets/ID/escalate  {"department_id","subject","body",
 *        "attachments"?: [{message_id, idx}], "confirmed_attachments"?,
 *        "allow_personal_data"?}
 *        → 201 {"escalation_id","token","message_id","outbound_id","to",
 *        "subject","ticket_status"}; 422 {"error","findings"} when the text
 *        holds something shaped like a phone number, mail or postal
 *        address and allow_personal_data is not true; 422 an attachment
 *        not ticked in confirmed_attachments; 409 {"error","escalation"}
 *        when one to that department is open; 404; 400
 *   GET  /api/tickets/ID/escalations → {"escalations":[...]}, oldest first
 *   GET  /api/escalations/stats?from&to (Tokyo days sent; any role, reports):
 *        {"from","to","departments":[{department_id, department, sent, answered,
 *        department_contacts, cancelled, open, avg_answer_seconds (answers by mail),
 *        reminders}]}
 *   POST /api/escalations/ID/close  {"outcome": answered |
 *        department_contacts | cancelled} → 200 the escalation; 409 closed
 *
 * The mail is plain text from the liaison address, To the department's
 * addresses, subject "[#E-2026-00001#] ..." (the token threads the answer
 * back through 無害化, which keeps the subject and drops attachments and
 * HTML: escalations carry attachments only when ticked, one by one).  The
 * message, its attachments, the outgoing mail (kind 'escalation', sent by
 * escalationd), the escalation row, the ticket's status (escalated), its
 * event and the NOTIFYs are one transaction.  A department's answer by
 * mail is taken in by intake.c, which closes the escalation in the same
 * statement that stores the mail. */
#ifndef MDG_ESCALATE_H
#define MDG_ESCALATE_H

struct api_call;
struct config;
struct db;

extern const struct config_key escalate_config_keys[];

void escalate_prepare(struct db *db);
void escalate_configure(const struct config *cfg);
void escalate_render(struct api_call *c);
void escalate_send(struct api_call *c);
void escalate_list(struct api_call *c);
void escalate_close(struct api_call *c);
void escalate_stats(struct api_call *c);

#endif
