/* retry: what an SMTP result means for the mail, and when to try again.
 * Pure functions (no I/O, no clock, no randomness of their own), so the
 * unit tests pin every value.
 *
 * The verdicts:
 *   sent   the relay took the mail for at least one recipient.  Those it
 *          refused (5xx or 4xx alike) are named in the note: asking again
 *          would send the mail twice to the others.
 *   dead   a permanent refusal of this mail: every recipient refused with
 *          5xx, or 5xx to MAIL FROM, to DATA or to the final dot.
 *   again  anything else: 4xx, no reply, a broken connection, a refused
 *          certificate, a 5xx to EHLO or AUTH, 530 anywhere ("authentication
 *          required", "STARTTLS first"): the relay refuses us, not the
 *          mail, a configuration to fix, after which the mail goes.
 * The caller turns "again" into "dead" when retry_give_up() says so. */
#ifndef MDG_RETRY_H
#define MDG_RETRY_H
#include "smtp.h"

#define RETRY_NOTE_MAX 1024

struct retry_policy {
	long min_s;        /* delay after the first failure */
	long max_s;        /* the delays double up to this */
	long give_up_s;    /* no more attempts once this old (since queued or requeued) */
	int max_attempts;  /* ... or after this many; 0: no limit by count */
};

enum retry_verdict { RETRY_SENT, RETRY_AGAIN, RETRY_DEAD };

struct retry_outcome {
	enum retry_verdict verdict;
	/* why, for last_error and delivery_note; "" when every recipient took it */
	char note[RETRY_NOTE_MAX];
};

/* seconds to wait after the attempts-th failure (1 for the first):
 * min_s * 2^(attempts-1), at most max_s, then shortened by up to a fifth
 * (rnd % 21 percent) so that mails failing together spread out */
long retry_delay_s(const struct retry_policy *p, int attempts, unsigned rnd);
/* 1 when a mail that failed its attempts-th time, age_s seconds after it
 * was queued, is to be given up */
int retry_give_up(const struct retry_policy *p, int attempts, long age_s);
/* rcpt: the recipients, in the order of r->rcpt */
void retry_classify(const struct smtp_result *r, const char *const *rcpt,
		    struct retry_outcome *out);

#endif
