/* faxreply: operators answer a ticket by fax (issue 7, sql/023).
 *
 *   POST /api/tickets/ID/fax-reply/preview  {body, recipient, attachments}
 *        -> {pages, images: ["data:image/png;base64,..."]}: every page as
 *        it will be sent (the text rendered, then the attachments' pages)
 *   POST /api/tickets/ID/fax-reply  {body, recipient, number, number_confirm
 *        | contact_id [, reason], attachments: [{message_id, idx} |
 *        {upload_id}] (TIFF, PDF)} -> 201 {id, message_id, pages, not_before}
 *   GET  /api/tickets/ID/faxes              the ticket's faxes and their state
 *   POST /api/tickets/ID/faxes/FID/cancel   while queued or held -> 200; 409 after
 *   POST /api/tickets/ID/faxes/FID/approve  a held fax, by someone else -> 200
 *   GET  /api/faxes/FID/PAGE.png            a stored page as a PNG (what was sent)
 *
 * The number is confirmed one of two ways (誤送信防止): typed twice, the
 * two equal once reduced to digits; or taken from the ticket's contact
 * (contact_id must be the ticket's citizen contact, read through sql/006's
 * audited contact_read, so roles without access to contact details get
 * 403).  A number must look Japanese: 0 and 9 or 10 more digits, or start
 * with ticketd.fax_extension_prefix (an internal line).  400 otherwise.
 *
 * The pages are rendered once, at send, by lib/faxrender (text, letterhead
 * from ticketd.fax_letterhead) and stored with the reply: the message
 * (direction 'out', delivery_state 'queued'), the attachment rows, the
 * outbound_fax row (not_before = now + ticketd.send_delay_seconds, the
 * cancel window) and one outbound_fax_page per page, with an event, the
 * status (new/open -> waiting_citizen) and NOTIFY ticket_change and
 * outbound_fax, in one transaction holding the ticket's row lock.
 * ingest-fax dials it (ingest/fax/outfax.h).
 *
 * Attachments: TIFF fax pages (1728, 2048 or 2432 pixels wide) as they are;
 * PDF pages rasterised to 1728 wide by lib/faxpdf.
 *
 * Approval (承認, as for mail: sql/009): in a queue that requires it the fax
 * is stored the same way but 'awaiting_approval' (message delivery_state
 * too, the ticket's status unchanged), never claimed by ingest-fax, until
 * someone other than its author approves it (then queued, not_before = now
 * + the send delay).  It is approved from the ticket page's list of faxes,
 * not the approvals page of mail (approval.c); there is no "return" or
 * "edit and approve" for faxes: the approver cancels and the author sends
 * a new one. */
#ifndef MDG_FAXREPLY_H
#define MDG_FAXREPLY_H
#include <stddef.h>

#include "config.h"

struct api_call;
struct db;

extern const struct config_key faxreply_config_keys[];

void faxreply_prepare(struct db *db);
void faxreply_configure(const struct config *cfg);

void faxreply_preview(struct api_call *c);
void faxreply_send(struct api_call *c);
void faxreply_list(struct api_call *c);
void faxreply_cancel(struct api_call *c);
void faxreply_page(struct api_call *c);
void faxreply_approve(struct api_call *c);

/* The digits of a typed fax number: ASCII and full-width digits kept;
 * spaces, hyphens (-, －, ‐, ー) and brackets dropped.  0, or -1 for any
 * other character or more than outlen - 1 digits. */
int faxreply_digits(const char *typed, char *out, size_t outlen);
/* 1 when digits is a plausible number to dial: 0 + 9..10 digits, or the
 * extension prefix (non-empty) + 1..(15 - its length) digits. */
int faxreply_plausible(const char *digits, const char *ext_prefix);

#endif
