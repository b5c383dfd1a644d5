/* contacts: the contact store (sql/006 contact, ticket_contact) over the
 * API.  Correspondence, not case history: every read, search and write is
 * audited in contact_access by the database functions ticketd calls (it has
 * no other way in), in the same statement as the access itself.
 *
 *   GET /api/tickets/ID/contact?reason=R   operator, supervisor, admin;
 *                                          viewer only with a live
 *                                          contact_grant, else 403
 *     -> {"ticket_id", "contact": CONTACT | null, "suggestion": {"name",
 *         "email"} | null}.  The suggestion, for a ticket without a contact,
 *        is the display name and address of its first incoming mail, for
 *        the operator to check and save; it is not stored until then, and
 *        is never offered to viewers (it is taken from the mail).
 *   PUT /api/tickets/ID/contact            operator, supervisor
 *     {"name", "name_kana", "postal_code", "address", "phone", "fax",
 *      "email", "note", "contact_id"?, "reason"?}: every field is stored as
 *     given (a missing one as ""), at least one not empty; contact_id links
 *     an existing contact (from a search) instead of the ticket's own.
 *     -> 200 {"contact": CONTACT, "action": "create" | "update"}
 *   GET /api/contacts/search?q=Q&reason=R  as GET contact
 *     Q (2..100 characters) against name and kana (NFKC, spaces ignored),
 *     mail address, and the digits of phone and fax (4 digits or more).
 *     -> {"contacts": [CONTACT + "tickets": [ids]]}, at most 20
 *   GET /api/admin/contact-access          admin, supervisor
 *     ?limit=1..500&before=ID&contact=ID&ticket=ID
 *     -> {"entries": [{"id", "at", "user_id", "login", "role", "action",
 *         "contact_id", "ticket_id", "contact_ids", "reason", "remote_addr"}]}
 *        newest first; ids only, never the details themselves
 *
 * CONTACT: {"id", "name", "name_kana", "postal_code", "address", "phone",
 * "fax", "email", "note", "created_at", "created_by", "updated_at",
 * "updated_by"} (search results: without note and created_*).
 *
 * R, the reason, is required (1..CONTACTS_REASON_MAX bytes, one line): the
 * page asks for it before it shows anything (a code such as "reply" or
 * free text).  A write records its reason or "record". */
#ifndef MDG_CONTACTS_H
#define MDG_CONTACTS_H

struct api_call;
struct db;

#define CONTACTS_REASON_MAX 200

void contacts_prepare(struct db *db);
void contacts_get(struct api_call *c);
void contacts_put(struct api_call *c);
void contacts_search(struct api_call *c);
void contacts_access_log(struct api_call *c);

#endif
