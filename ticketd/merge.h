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
 * Both run in one transaction with the ticket rows locked (in id order,
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

#endif
