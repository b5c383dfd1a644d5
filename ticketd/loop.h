/* loop: ticketd's one event loop.
 *
 * Each turn it polls the HTTP server's epoll descriptor and the database
 * socket, with a timeout no longer than the next due job, then: reads
 * NOTIFY (inbound wakes intake; ticket_change goes to the event streams),
 * serves HTTP, and on the 1 s tick rescans intake, ends idle sessions and
 * sends heartbeats.  Intake runs one batch per turn while there is work,
 * so HTTP is served between batches.  Signals only set flags (lib/daemon.h);
 * the loop reloads on SIGHUP, keeping the old config if the new one does
 * not load, and returns on SIGTERM. */
#ifndef MDG_LOOP_H
#define MDG_LOOP_H

struct config;
struct config_key;
struct db;
struct loop;

/* Takes cfg and db.  tables: the key tables cfg was loaded with, for
 * reloads.  NULL (logged) when the server cannot start. */
struct loop *loop_new(struct config *cfg, const struct config_key *const *tables,
		      struct db *db);
/* until SIGTERM/SIGINT; 0 */
int loop_run(struct loop *l);
void loop_free(struct loop *l);

#endif
