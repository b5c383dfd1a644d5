/* loop: escalationd's one event loop.
 *
 * It waits (ppoll) on the database socket and a timer, with SIGTERM,
 * SIGINT and SIGHUP blocked except inside that wait: a signal never breaks
 * an SMTP conversation half-way (which could leave a mail the relay took
 * looking unsent), it is acted on between batches.
 *
 * A batch of the outbox runs when something may be due: NOTIFY outbound,
 * the start, a reconnect (NOTIFYs sent meanwhile are lost), every
 * rescan_seconds, and the instant the earliest queued row comes due (read
 * after each batch), so a mail leaves when its cancel window closes, not
 * up to a rescan later. */
#ifndef MDG_ESC_LOOP_H
#define MDG_ESC_LOOP_H

struct config;
struct config_key;
struct db;
struct loop;

/* takes over cfg and db */
struct loop *loop_new(struct config *cfg, const struct config_key *const *tables,
		      struct db *db);
void loop_free(struct loop *l);
int loop_run(struct loop *l);

#endif
