/* outbox: the outgoing mail queue (table outbound_mail, sql/003) as
 * escalationd works it.
 *
 * One batch, outbox_run():
 *  1. claim: one statement takes up to smtp_batch due rows (state queued,
 *     not_before passed) with FOR UPDATE SKIP LOCKED, adds one to attempts
 *     and moves not_before to now + smtp_lease_seconds, and commits.  A
 *     crash from here on leaves rows that come due again when the lease
 *     runs out; another instance skips them until then.
 *  2. send, outside any transaction, over one SMTP connection per batch.
 *     A mail is not started when the lease could run out before it ends
 *     (five timeouts plus one per recipient); it and the rest are put back.
 *  3. record each outcome in one statement (its own transaction): the row
 *     (sent / queued again with a backoff / dead), the message's
 *     delivery_state and delivery_note, a ticket_event, ticket.updated_at
 *     and NOTIFY ticket_change.
 * When that statement fails (the database went away), the outcome stays
 * in memory and is committed before anything else once the database is
 * back; no new row is claimed meanwhile and the rest of the batch is put
 * back.  So a mail the relay took is never sent again, unless escalationd
 * dies between the relay's "250" and that commit (README). */
#ifndef MDG_OUTBOX_H
#define MDG_OUTBOX_H
#include <stdint.h>

struct db;
struct settings;
struct outbox;

/* registers its statements with db; s is copied (outbox_configure) */
struct outbox *outbox_new(struct db *db, const struct settings *s);
void outbox_free(struct outbox *o);
/* new settings (after SIGHUP); the outbox takes them over */
void outbox_configure(struct outbox *o, struct settings *s);
/* One batch.  The number of rows claimed (smtp_batch: there may be more),
 * 0 when nothing was due, -1 when the database failed (outcomes pending). */
int outbox_run(struct outbox *o);
/* 1 while outcomes wait for the database */
int outbox_pending(const struct outbox *o);
/* milliseconds until the next queued row comes due (0: now), -1 if none
 * or the database failed */
int64_t outbox_next_due_ms(struct outbox *o);

#endif
