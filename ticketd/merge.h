/* merge: two tickets become one, and one item becomes a ticket of its own
 * (issue 5: "Merge two tickets; split an item off into its own ticket").
 *
 * POST /api/tickets/S/merge {"into": T}.  Everything of S that the ticket
 * page shows moves to T: messages (their attachments with them), internal
 * notes, outgoing mail rows, search_doc rows, the inbound items' ticket_id,
 * the contact links (through contact_merge(), which writes the contact
 * audit log) and S's case record when T has none.  S becomes status
 * 'closed' with merged_into = T (sql/011_merge.sql); tickets merged into S
 * before now name T.  T's last_inbound_at is the later of the two,
 * has_new_reply is set when either had it, updated_at is now.  Both
 * timelines get a 'merged_into' event "S -> T" with the actor.  Answers
 * 200 {"id": S, "merged_into": T, "moved": {"messages", "notes",
 * "outbound", "search_docs", "contacts", "case_record": bool}}.
 * Refused: T = S (400), no T (404), S or T merged already (409), S or T
 * held by someone else (409 with the holder, as workflow.h; a supervisor
 * may pass "take_over": true), a case record on both (409: the operator
 * decides which to keep, then merges).
 *
 * POST /api/tickets/T/split {"message_id": M}.  M must be an incoming
 * message of T and not T's first message (400 otherwise).  A new ticket N
 * gets T's channel, queue and category, M's subject, M's sender as its
 * correspondent, status 'open'; M moves to N with its attachments, its
 * search_doc row and its inbound item.  T's last_inbound_at is that of the
 * incoming messages left.  Events 'split_to' (detail N) on T and
 * 'split_from' (detail T) on N.  Answers 201 {"id": N, "split_from": T,
 * "message_id": M}.  Refused as merge when T is held by someone else or
 * merged.
 *
 * Undo (sql/015_merge_undo.sql: merge and split record the ids they move
 * in merge_log).  POST /api/tickets/S/unmerge {"take_over"?} (the body may
 * be empty) on a merged ticket: the rows the last merge of S moved that are
 * still on its target T go back to S (messages, notes, outgoing mail,
 * search rows, inbound items, contact links through contact_unmerge() with
 * their contact_access rows, the case record it moved, tickets it
 * repointed); S gets back its status, holder, resolved_at and new-reply
 * flag, merged_into NULL; T keeps what came after the merge and its
 * last_inbound_at is that of its incoming mail left.  Events 'unmerged'
 * "S -> T" on both, NOTIFY op 'unmerged'.  200 {"id": S, "unmerged_from":
 * T, "status", "moved": {as merge}}.  409 {"error","ticket",...} when S is
 * not merged, its merge is not recorded (merged before 015), it was undone
 * already ("undone_by"), T has since been merged into U ("merged_into": U:
 * undo that first) or T is held by someone else ("holder").
 * POST /api/tickets/N/unsplit {"take_over"?} on a ticket made by a split:
 * the message goes back to the original ticket T (with its attachments,
 * search row and inbound item), N is closed with merged_into = T.  Events
 * 'unsplit' "N -> T" on both, NOTIFY op 'unsplit'.  200 {"id": N,
 * "merged_into": T, "message_id"}.  409 when N was not made by a split, the
 * split was undone already, N or T is merged, either is held by someone
 * else, or N has other messages ("messages": new incoming ids, "replies":
 * outgoing ids).
 *
 * All of these run in one transaction with the ticket rows locked (in id order,
 * so two merges of the same pair cannot deadlock) and NOTIFY ticket_change
 * for each ticket touched. */
#ifndef MDG_MERGE_H
#define MDG_MERGE_H

struct api_call;
struct db;

void merge_prepare(struct db *db);

/* POST /api/tickets/ID/merge  {"into": N, "take_over"?: bool} */
void merge_merge(struct api_call *c);
/* POST /api/tickets/ID/split  {"message_id": N, "take_over"?: bool}  -> 201 */
void merge_split(struct api_call *c);
/* POST /api/tickets/ID/unmerge  {"take_over"?: bool} or no body */
void merge_unmerge(struct api_call *c);
/* POST /api/tickets/ID/unsplit  {"take_over"?: bool} or no body */
void merge_unsplit(struct api_call *c);

#endif
