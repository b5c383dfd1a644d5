/* room: is there room to store mail?  Checked before each batch: free
 * space under ingest_mail.min_free_path and, when ingest_mail.db_max_mb is
 * set, the database's size.  When short, intake pauses: logged once when
 * it starts and once when it ends, not per retry. */
#ifndef MDG_INGEST_ROOM_H
#define MDG_INGEST_ROOM_H

struct room;
struct settings;
struct store;

#define ROOM_RETRY_MS 10000

struct room *room_new(const struct settings *set, struct store *st);
void room_free(struct room *r);
/* 1: go on; 0: paused, try again in ROOM_RETRY_MS */
int room_check(struct room *r);

#endif
