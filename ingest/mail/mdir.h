/* mdir: the Maildir source.  (Not "maildir_": libetpan owns that prefix.)
 *
 * A file in new/ is a message.  Per batch: read each file, insert it
 * (source_key = the unique part of its name, arrived_at = its mtime),
 * commit, and only then rename it into cur/ with ":2,S".  A crash between
 * the commit and the rename leaves the file in new/; the next pass finds
 * its row by key (ON CONFLICT DO NOTHING) and just renames it.  Files in
 * cur/ are done and never read. */
#ifndef MDG_INGEST_MDIR_H
#define MDG_INGEST_MDIR_H
#include <stddef.h>

struct ingest_wait;
struct mdir;
struct room;
struct settings;
struct store;

struct mdir *mdir_open(const struct settings *set, struct store *st, struct room *room);
void mdir_step(struct mdir *m, struct ingest_wait *w);
void mdir_close(struct mdir *m);

/* the key of a Maildir file: the unique part of its name (up to ':'),
 * bytes other than printable ASCII and '%' written %XX; -1 when the name
 * is not one to take (empty, hidden) or out is too small */
int mdir_unique(const char *name, char *out, size_t outlen);

#endif
