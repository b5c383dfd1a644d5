/* remind: reminders (催促) to departments that do not answer an escalation.
 *
 * The sweep runs in escalationd's loop.  Two steps, each one transaction
 * holding the escalation rows FOR UPDATE SKIP LOCKED, so several
 * escalationd never handle one row at once and a kill at any point leaves
 * all of a step's work or none of it:
 *
 * - plan: an open escalation ticketd made (reminder_planned false) gets
 *   its first reminder time: reminder_at on the first_days-th business day
 *   after it was sent, on the department's calendar (the ward's when the
 *   department has none), moved to the next opening when not open then.
 * - remind: an open escalation whose next_reminder_at has come gets a
 *   reminder stored, in one statement: the message (direction out, on the
 *   escalation's ticket), its outbound_mail (kind 'reminder', which the
 *   outbox sends), the escalation moved on (reminders + 1,
 *   last_reminder_at, next_reminder_at = every_days business days later,
 *   head_copied_at) and a ticket_event 'reminder_queued'.  The row is
 *   never stored twice: the transaction holds the lock and the UPDATE
 *   checks the count it read.  A calendar closed at that instant stores
 *   nothing and moves next_reminder_at to the next reminder_at when open.
 *   One that fell due while escalationd was away is stored once when it is
 *   back, and the next counts from then (no burst of missed days).
 *
 * The mail is plain text, from the escalation mail's own sender, To the
 * department's liaison addresses (Cc the head of section from the
 * head_after-th reminder on), subject "[#E-...#] 【催促】" and the original
 * subject, In-Reply-To and References the escalation mail's Message-ID; it
 * holds no contact detail and no attachment.  Sending is the outbox's. */
#ifndef MDG_ESC_REMIND_H
#define MDG_ESC_REMIND_H
#include <stddef.h>
#include <stdint.h>

struct bizcal;
struct db;
struct remind;

struct remind_conf {
	int at_tod;     /* seconds after local midnight (escalation.reminder_at) */
	int first_days; /* business days after the escalation */
	int every_days; /* business days between reminders */
	int head_after; /* the head of section in Cc from this reminder on (0: never) */
	int max;        /* reminders at most; then stop (0: none) */
	int batch;      /* escalations per transaction */
	char *body;     /* the text with {{variables}} (templates/reminder/reminder.txt);
			 * the settings own theirs, remind_new/configure copy it */
};

/* NULL when every {{variable}} of a reminder text is known, else why not
 * (a static string, or the unknown name written into buf) */
const char *remind_template_check(const char *text, char *buf, size_t len);

/* "10:00" to seconds after midnight; -1 if not HH:MM */
int remind_parse_tod(const char *s);

/* The schedule, pure.  Instants in seconds; BIZCAL_NEVER when the calendar
 * never opens.  first: of an escalation sent at sent.  next: after a
 * reminder stored at now.  at_or_after: the first reminder_at of a
 * business day at or after t (a due reminder found closed waits for it). */
int64_t remind_first(const struct bizcal *cal, int64_t sent, const struct remind_conf *c);
int64_t remind_next(const struct bizcal *cal, int64_t now, const struct remind_conf *c);
int64_t remind_at_or_after(const struct bizcal *cal, int64_t t, const struct remind_conf *c);

struct remind *remind_new(struct db *db, const struct remind_conf *c);
void remind_free(struct remind *r);
void remind_configure(struct remind *r, const struct remind_conf *c);
/* One batch of planning and one of reminders: how many reminders were
 * stored (the outbox has mail to send), with *more set when a batch was
 * full (run again); -1 on a database error. */
int remind_run(struct remind *r, int *more);
/* milliseconds until the earliest next_reminder_at (0 if due), -1 none or error */
int64_t remind_next_due_ms(struct remind *r);

#endif
