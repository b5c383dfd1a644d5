/* pull: the IMAP source (imap, imaps, starttls).  See pull.c for the
 * state machine and the exactly-once argument. */
#ifndef MDG_INGEST_PULL_H
#define MDG_INGEST_PULL_H

struct ingest_wait;
struct pull;
struct room;
struct settings;
struct store;

struct pull *pull_open(const struct settings *set, struct store *st, struct room *room);
void pull_step(struct pull *p, struct ingest_wait *w);
/* a clean stop: leave IDLE, LOGOUT */
void pull_close(struct pull *p);

#endif
