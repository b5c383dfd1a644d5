/* store: ingest-fax's side of the database (sql/021), on its own thread.
 *
 * The audio path must never wait on PostgreSQL, so the event loop only
 * queues a finished call (its record as JSON, built in memory); a second
 * thread with its own connection writes the JSON sidecar next to the
 * call's TIFF in the spool, commits the call in one transaction (fax_call,
 * and when pages came: inbound_item, fax_item, fax_page, NOTIFY inbound),
 * then removes both files.  A plain thread and queue was chosen over
 * libpq's non-blocking mode because the commit also splits the TIFF and
 * fsyncs files, which would block the loop just the same.
 *
 * Crash safety: a sidecar is the record of a call not yet committed; on
 * start every sidecar in the spool is queued again.  The inserts are
 * idempotent on fax_call (direction, line, sip_call_id) and inbound_item
 * (source, source_key), so a sidecar whose commit went through before the
 * crash is only removed. */
#ifndef MDG_FAX_STORE_H
#define MDG_FAX_STORE_H
#include <stddef.h>

#include "call.h"

struct config;
struct store;

struct store_opts {
	const char *spool;   /* folder of <id>.tif and <id>.json */
	const char *line;    /* the line's name: fax_call.line, inbound_item.source */
};

/* Connects lazily; starts the thread and queues the spool's sidecars. */
struct store *store_new(const struct config *cfg, const struct store_opts *o, char *err,
			size_t errlen);
/* Queue a finished call whose pages are in tif (may be absent). */
void store_call(struct store *st, const struct call_record *r, const char *tif);
/* Stop the thread after at most the job in hand; what is left stays in
 * the spool for the next start. */
void store_free(struct store *st);

/* The record of a call as the JSON kept in the sidecar and inbound_item.raw. */
char *store_record_json(const struct call_record *r, const char *line, size_t *len);

#endif
