/* worker: one ingest-ocr worker process.  It claims one pending fax page
 * at a time (a lease committed at once, counting an attempt: sql/026),
 * reads it with tess.c and stores the text, the numbers found and, when it
 * was the item's last page, fax_item.ocr_done_at, in one transaction; then
 * NOTIFY ticket_change for the ticket the fax is on, so the queue's OCR
 * progress moves.
 *
 * Before and after each page it writes a line to fd (the pipe to the
 * supervisor in main.c), which holds the time limit:
 *   "B <item> <page> <attempt>\n"   reading started
 *   "E\n"                           done (stored, or given up)
 * A worker that overruns is killed by the supervisor, which marks the page
 * (worker_mark()). */
#ifndef MDG_OCR_WORKER_H
#define MDG_OCR_WORKER_H

#include "config.h"
#include "db.h"

struct worker_conf {
	int max_attempts;     /* ocr.max_attempts */
	int page_seconds;     /* ocr.page_seconds: the lease lasts twice that */
	int poll_seconds;     /* ocr.poll_seconds */
	const char *tessdata; /* ocr.tessdata, "" = Debian's */
};

extern const struct db_stmt worker_stmts[];

/* the worker's life: returns the exit status when daemon_stop is set or
 * the models cannot be loaded */
int worker_run(struct db *db, const struct worker_conf *wc, int fd);

/* the supervisor's side: the page a killed or dead worker was reading
 * goes back to pending, or to state (timeout, failed) when it has used
 * its attempts; 0 or -1 */
int worker_mark(struct db *db, long long item, int page, int attempt, int max_attempts,
		const char *state, const char *why);

#endif
