/* reply: operators answer a ticket by mail.
 *
 *   GET  /api/templates                  the reply templates (templates.h)
 *   GET  /api/templates/NAME             one, with the variables it uses
 *   PUT  /api/admin/templates/NAME       write one (admins)
 *   POST /api/tickets/ID/reply/render    a template filled for the ticket,
 *                                        with the proposed recipients, subject,
 *                                        threading and the ticket's attachments
 *   POST /api/tickets/ID/reply/preview   the exact bytes lib/mailout builds,
 *                                        read back (what the citizen sees)
 *   POST /api/tickets/ID/reply           queue it (outbound_mail, sql/003)
 *   POST /api/outbound/ID/cancel         take it back inside the send delay
 *
 * A reply is queued in one transaction with the ticket row locked: the
 * message (direction 'out', delivery_state 'queued'), its attachment rows
 * (the same blobs; a file uploaded for the reply moves its bytes into blob
 * and is marked used, upload.h), the outbound_mail row with the bytes and the envelope
 * (To + Cc + Bcc; Bcc is never a header), a 'reply_queued' event, the
 * ticket's status (new/open -> waiting_citizen), and NOTIFY ticket_change
 * and outbound.  escalationd sends it once not_before has passed
 * (ticketd.send_delay_seconds after "send"): until then, and as long as
 * escalationd has made no attempt (its claim counts one and moves
 * not_before to the end of a lease), the operator can cancel.  A cancelled reply keeps its rows: outbound_mail.state
 * 'cancelled', message.delivery_state 'failed' with delivery_note
 * "cancelled by <login>" (002's check allows no 'cancelled' there), and a
 * 'reply_cancelled' event.
 *
 * Mis-send prevention (誤送信防止), in this order, each refusing the send:
 * 400 a malformed draft or an attachment (or upload) not of this ticket,
 * or an upload sent already; 422 any
 * recipient or attachment the operator did not tick (the body names
 * them); 409 a reply queued on this ticket after the message the
 * operator answers, or a newer mail from the citizen, unless force (the
 * body says who and when).  Two or more external addresses in To/Cc go
 * to Bcc unless keep_visible.  Recipients at a domain of
 * mail.iso2022jp_domains (old carrier phones) get ISO-2022-JP. */
#ifndef MDG_REPLY_H
#define MDG_REPLY_H
#include "config.h"

#include <jansson.h>

struct api_call;
struct db;
struct db_res;

extern const struct config_key reply_config_keys[];

void reply_prepare(struct db *db);
void reply_configure(const struct config *cfg);

void reply_templates_list(struct api_call *c);
void reply_template_get(struct api_call *c);
void reply_template_put(struct api_call *c);
void reply_render(struct api_call *c);
void reply_preview(struct api_call *c);
void reply_send(struct api_call *c);
void reply_cancel(struct api_call *c);

/* ticketd.send_delay_seconds: an approved reply waits as long */
long reply_send_delay_s(void);

/* An approver's edit of a held reply (approval.c): draft (the one stored
 * with it, the approver's subject, body and ticks put in) composed for
 * ticket by the very code a send uses, then message msg and outbound_mail
 * out rewritten with the new bytes, inside the caller's transaction.  0,
 * or -1 after answering (400 draft, 422 unticked, 503). */
int reply_rebuild(struct api_call *c, long long ticket, long long msg, long long out,
		  const json_t *draft);

/* The delivery of an outgoing message on the ticket page (tickets.c):
 * its query selects REPLY_DELIVERY_COLS after its own columns, from
 * message m joined with REPLY_DELIVERY_JOIN, and reply_delivery() adds
 * "delivery": {state, note, outbound_id, outbound_state, send_at,
 * sent_at, created_by, last_error, rcpt, can_cancel} to the message's
 * document when it has a delivery state or an outbound_mail row, and
 * "approval" (null, or {reason, template, review, reviewed_by,
 * reviewed_at, comment}: approval.h).  can_cancel: waiting for approval,
 * or queued, not_before ahead and never attempted (see reply_cancel). */
#define REPLY_DELIVERY_COLS                                                                  \
	" m.delivery_state, m.delivery_note, o.id,"                                          \
	" (extract(epoch FROM o.not_before) * 1000000)::bigint, o.state, o.created_by,"      \
	" (extract(epoch FROM o.sent_at) * 1000000)::bigint, o.last_error,"                  \
	" array_to_json(o.rcpt)::text, o.attempts, o.approval, o.template, o.review,"          \
	" o.reviewed_by, (extract(epoch FROM o.reviewed_at) * 1000000)::bigint,"            \
	" o.review_comment"
#define REPLY_DELIVERY_JOIN " LEFT JOIN outbound_mail o ON o.message_id = m.id"
void reply_delivery(json_t *msg, const struct db_res *r, int row, int col);

#endif
