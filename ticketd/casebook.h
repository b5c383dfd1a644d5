/* casebook: the case history (応対履歴, sql/006 case_record) over the API.
 *
 *   GET /api/tickets/ID/case   operator, supervisor, admin, viewer
 *   PUT /api/tickets/ID/case   operator, supervisor
 *   GET /api/cases             operator, supervisor, admin, viewer
 *
 * A case document:
 *   {"ticket_id", "recorded": bool, "channel", "received_at",
 *    "first_response_at", "resolved_at", "category", "inquiry_summary",
 *    "answer_summary", "resolution", "escalated_to", "recorded_by",
 *    "recorded_at", "updated_by", "updated_at"}
 * Before the first save, GET gives "recorded": false and what a save would
 * start from: the ticket's channel, its first mail's arrival (else the
 * ticket's creation), its first reply, its resolution time, category and
 * resolution type; the summaries "" and the recorders null.
 *
 * PUT takes inquiry_summary, answer_summary (strings, at most
 * CASEBOOK_SUMMARY_MAX bytes, line breaks allowed), category, escalated_to
 * (string or null, at most CASEBOOK_FIELD_MAX bytes, one line) and
 * resolution (an enabled code of resolution_type, or null).  A key not
 * given keeps its value; the read-only keys of the document are ignored,
 * so a document as read can be sent back; any other key is a 400
 * "<key>: unknown field" (a client must never believe it stored a name).
 * The times are taken again from the ticket on every save; channel and
 * received_at stay as first recorded.
 *
 * Every free-text field is scanned by lib/piidetect.  If anything shaped
 * like a phone number, mail address, postal code or address is found,
 * nothing is stored and the answer is 422
 *   {"error": "personal data in the case record",
 *    "findings": [{"field", "kind", "start", "end", "text"}...]}
 * with start/end in UTF-16 code units of that field (a browser's string
 * offsets) and text the span as typed, for the page to point at.
 *
 * A save writes the row, a ticket_event ('case_recorded' the first time,
 * then 'case_updated'; no detail, so the timeline holds no summary text)
 * and NOTIFY ticket_change in one transaction.
 *
 * GET /api/cases lists case documents, newest received first:
 *   ?from=YYYY-MM-DD&to=YYYY-MM-DD (received, Asia/Tokyo days, inclusive)
 *   &category=C&resolution=R&channel=CH&limit=1..500&before=TICKET_ID
 * -> {"cases": [...]}.  It is what ward staff read, so it carries nothing
 * of the correspondence: not even the ticket's subject, which the citizen
 * wrote and which may hold a name. */
#ifndef MDG_CASEBOOK_H
#define MDG_CASEBOOK_H

struct api_call;
struct db;

#define CASEBOOK_SUMMARY_MAX 8000
#define CASEBOOK_FIELD_MAX 200

void casebook_prepare(struct db *db);
void casebook_get(struct api_call *c);
void casebook_put(struct api_call *c);
void casebook_list(struct api_call *c);

#endif
