/* intake_fax: the fax path of intake (issue 7).  An inbound item that has a
 * fax_item row (sql/021) becomes a ticket of channel 'fax' by its own
 * statement, not by the mail statement: no MIME parse, no threading, no
 * sender limits; every fax is a new ticket.
 *
 *   subject  "FAX 03-1234-5678 (3枚)": the number dialled (the ward's own)
 *            and the page count, never the caller (case history carries no
 *            personal data);
 *   routing  route_match with the T.30 subaddress as the DID when the
 *            sender gave one and a rule matched it, else with the DID;
 *   message  direction 'in', linked to the item, so the pages are found by
 *            message.inbound_item_id; no text yet (OCR is issue 8);
 *   flags    'fax_incomplete' when the call failed after some pages;
 *   contact  the caller number and TSI become the ticket's citizen contact
 *            through fax_contact_link (sql/022, audited).
 *
 * intake.c calls these inside its batch transaction and pipeline: fetch
 * once per batch (only when the batch holds a fax), then send and collect
 * per item in the pipeline's order. */
#ifndef MDG_INTAKE_FAX_H
#define MDG_INTAKE_FAX_H

struct db;
struct db_res;
struct pool;
struct route;

/* registers the statements (from intake_new) */
void intake_fax_prepare(struct db *db);
/* the fax_item rows of the items in ids ("{1,2}"); NULL on a database error */
struct db_res *intake_fax_fetch(struct db *db, const char *ids);
/* send item id's statements into the pipeline; 0 or -1 */
int intake_fax_send(struct db *db, struct route *route, struct pool *pool, long long id,
		    const struct db_res *facts);
/* read the results intake_fax_send queued, log the ticket; 0 or -1 */
int intake_fax_collect(struct db *db, long long id);
/* "0312345678" -> "03-1234-5678" for the subject; other numbers as they are */
const char *intake_fax_number(struct pool *pool, const char *digits);

#endif
