/* retry: verdicts and backoff; the rules are in retry.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "retry.h"

long retry_delay_s(const struct retry_policy *p, int attempts, unsigned rnd)
{
	long d = p->min_s;

	for (int i = 1; i < attempts && d < p->max_s; i++)
		d *= 2;
	if (d > p->max_s)
		d = p->max_s;
	d -= d * (long)(rnd % 21) / 100;
	return d < 1 ? 1 : d;
}

int retry_give_up(const struct retry_policy *p, int attempts, long age_s)
{
	return age_s >= p->give_up_s || (p->max_attempts > 0 && attempts >= p->max_attempts);
}

/* append to out->note, silently cut at its size */
static void retry_note(struct retry_outcome *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void retry_note(struct retry_outcome *out, const char *fmt, ...)
{
	size_t len = strlen(out->note);
	va_list ap;

	if (len + 1 >= sizeof(out->note))
		return;
	va_start(ap, fmt);
	vsnprintf(out->note + len, sizeof(out->note) - len, fmt, ap);
	va_end(ap);
}

/* "a@b (550 ...); c@d (450 ...)" for the refused recipients; how many
 * were refused and how many of those with 5xx */
static void retry_refused(const struct smtp_result *r, const char *const *rcpt,
			  struct retry_outcome *out, size_t *refused, size_t *hard)
{
	*refused = *hard = 0;
	for (size_t i = 0; i < r->nrcpt; i++) {
		int c = r->rcpt[i].code;

		if (c == 250 || c == 251)
			continue;
		retry_note(out, "%s%s (%s)", *refused ? "; " : "", rcpt[i],
			   r->rcpt[i].text[0] ? r->rcpt[i].text : "no reply");
		(*refused)++;
		if (c / 100 == 5 && c != 530) /* 530: AUTH or STARTTLS first, not this address */
			(*hard)++;
	}
}

static const char *retry_stage_name(enum smtp_stage st)
{
	static const char *const names[] = { "connect", "EHLO", "TLS", "AUTH", "MAIL FROM",
					     "RCPT TO", "DATA", "end of data", "done" };

	return names[st];
}

static void retry_recipients(const struct smtp_result *r, const char *const *rcpt,
			     struct retry_outcome *out)
{
	size_t refused, hard;

	if (r->stage == SMTP_STAGE_DONE)
		retry_note(out, "not delivered to: ");
	else
		retry_note(out, "every recipient was refused: ");
	retry_refused(r, rcpt, out, &refused, &hard);
	if (r->stage == SMTP_STAGE_DONE) {
		out->verdict = RETRY_SENT;
		if (refused == 0)
			out->note[0] = '\0';
	} else
		out->verdict = refused > 0 && hard == refused ? RETRY_DEAD : RETRY_AGAIN;
}

void retry_classify(const struct smtp_result *r, const char *const *rcpt,
		    struct retry_outcome *out)
{
	out->note[0] = '\0';
	if (r->stage == SMTP_STAGE_DONE ||
	    (r->stage == SMTP_STAGE_RCPT && r->code != 0 && r->nrcpt > 0)) {
		retry_recipients(r, rcpt, out);
		return;
	}
	if (r->code == 530) {
		/* "authentication required" or "must issue STARTTLS first"
		 * (RFC 4954, 3207): our configuration, not this mail */
		out->verdict = RETRY_AGAIN;
		retry_note(out, "%s: %s (check escalation.smtp_security and smtp_user)",
			   retry_stage_name(r->stage), r->text);
	} else if (r->code / 100 == 5 && r->stage == SMTP_STAGE_MAIL) {
		out->verdict = RETRY_DEAD;
		retry_note(out, "the relay refused the sender: %s", r->text);
	} else if (r->code / 100 == 5 &&
		   (r->stage == SMTP_STAGE_DATA || r->stage == SMTP_STAGE_DOT)) {
		out->verdict = RETRY_DEAD;
		retry_note(out, "the relay refused the message: %s", r->text);
	} else {
		out->verdict = RETRY_AGAIN;
		retry_note(out, "%s: %s", retry_stage_name(r->stage),
			   r->text[0] ? r->text : "failed");
	}
}
