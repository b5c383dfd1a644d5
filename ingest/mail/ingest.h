/* ingest: one running intake: the settings, the database side and the
 * source (a Maildir folder or an IMAP mailbox).  main.c drives it:
 *
 *   in = ingest_open(cfg)      checks the settings; connects nothing yet
 *   loop: ingest_step(in, &w)  does one unit of work (a batch, a
 *                              connection attempt), then says what to wait
 *                              for: a file descriptor and/or a timeout
 *   ingest_close(in)           a clean stop between batches
 *
 * A step never holds a transaction open across a wait, so a stop or a
 * reload between steps loses nothing. */
#ifndef MDG_INGEST_INGEST_H
#define MDG_INGEST_INGEST_H
#include <stddef.h>
#include <stdint.h>

struct config;
struct ingest;

struct ingest_wait {
	int fd;             /* wait for it to be readable; -1 for none */
	int64_t timeout_ms; /* 0: step again at once */
	int idle;           /* all there was has been stored (--once may stop) */
	int failed;         /* waiting to retry after an error (--once stops) */
};

struct ingest *ingest_open(const struct config *cfg, char *err, size_t errlen);
void ingest_step(struct ingest *in, struct ingest_wait *w);
void ingest_close(struct ingest *in);

/* the exponential backoff both sources use after a failure */
struct ingest_backoff {
	int64_t next_ms;
	int64_t delay_ms;
};
void ingest_backoff_fail(struct ingest_backoff *b, int64_t min_ms, int64_t max_ms);
void ingest_backoff_reset(struct ingest_backoff *b);
/* milliseconds until the next try (0: now) */
int64_t ingest_backoff_left(const struct ingest_backoff *b);

#endif
