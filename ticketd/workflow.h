/* workflow: operators work the tickets (issue 5) - claim, assign,
 * release, status and resolution, internal notes, who is typing.
 *
 * The holder.  A ticket is held by at most one user (ticket.assignee).
 * Claiming or assigning a ticket that someone else holds is refused with
 * 409 and the holder ({"error":..., "holder":{id, login, display_name}}),
 * unless a supervisor asks for it deliberately with "take_over": true;
 * the same goes for releasing it and for an operator changing its status.
 * Claiming or assigning a new ticket opens it (new -> open).  Operators
 * assign to operators; supervisors to operators and supervisors.
 *
 * Status.  open, waiting_citizen, escalated, resolved, closed may be set
 * (new only comes from intake).  resolved needs a resolution, one of the
 * enabled codes of resolution_type; closed keeps the one the ticket has or
 * takes a new one; any other status clears it (reopening).
 *
 * Every change runs in one transaction: the ticket row locked, the new
 * values written, one ticket_event per thing that changed (actor = the
 * login), NOTIFY ticket_change {"id","op"}.  A request that changes
 * nothing (claiming what one holds) writes nothing and answers 200.  Each
 * answer is the ticket's workflow document, as GET .../workflow gives it:
 *   {"id", "status", "assignee": {id, login, display_name} | null,
 *    "assigned_at", "resolution", "resolved_at", "due_at", "updated_at",
 *    "notes": [{"id", "at", "author", "author_name", "text"}]}
 *
 * Notes live in ticket_note (correspondence side, see sql/004); their
 * ticket_event carries only the note's id.
 *
 * Presence is not stored: POST .../presence {"typing": bool} goes out at
 * once as "event: presence" on this ticketd's event streams. */
#ifndef MDG_WORKFLOW_H
#define MDG_WORKFLOW_H

struct api_call;
struct db;

/* the longest note, in bytes */
#define WORKFLOW_NOTE_MAX 16000

void workflow_prepare(struct db *db);

/* POST /api/tickets/ID/claim, /release  {"take_over"?: bool} (body optional) */
void workflow_claim(struct api_call *c);
void workflow_release(struct api_call *c);
/* POST /api/tickets/ID/assign  {"user_id": N, "take_over"?: bool} */
void workflow_assign(struct api_call *c);
/* POST /api/tickets/ID/status  {"status": S, "resolution"?: CODE} */
void workflow_status(struct api_call *c);
/* POST /api/tickets/ID/notes  {"text": T}  -> 201 */
void workflow_note(struct api_call *c);
/* POST /api/tickets/ID/presence  {"typing": bool}  -> 204 */
void workflow_presence(struct api_call *c);
/* GET /api/tickets/ID/workflow */
void workflow_get(struct api_call *c);
/* GET /api/users: {"users":[{id, login, display_name, role}]}, the
 * enabled operators and supervisors (the assign menu) */
void workflow_users(struct api_call *c);
/* GET /api/resolutions: {"resolutions":[{code, label_ja, label_en}]} */
void workflow_resolutions(struct api_call *c);

#endif
