/* intake: turns inbound_item rows into tickets (owned by the lead).
 *
 * Claims items with FOR UPDATE SKIP LOCKED, parses each mail (lib/mime.h),
 * creates the ticket, message, attachments and timeline event in the same
 * transaction that marks the item done, and sends
 * NOTIFY ticket_change '{"id":<ticket>,"op":"created"}'.
 * Safe to run in several ticketd processes at once; a crash at any point
 * loses nothing and doubles nothing. */
#ifndef MDG_INTAKE_H
#define MDG_INTAKE_H
#include "config.h"

struct db;
struct intake;
struct route;

/* registers its prepared statements with db (call before db_ensure) */
struct intake *intake_new(struct db *db, const struct config *cfg);
void intake_free(struct intake *in);
/* the routing rules new tickets go through (the loop owns and reloads them);
 * NULL: no routing */
void intake_set_route(struct intake *in, struct route *r);
/* apply a reloaded config (limits, batch size) */
void intake_configure(struct intake *in, const struct config *cfg);
/* Process at most one batch (ticketd.intake_batch items).  Returns the
 * number of items handled (0: nothing to do), -1 on a database error.
 * The loop calls it again at once while it returns a full batch, after
 * serving HTTP in between, and on NOTIFY inbound and a 1 s timer. */
int intake_run(struct intake *in);
/* the config keys intake adds (prefix ticketd.intake_ / mime.) */
extern const struct config_key intake_config_keys[];

#endif
