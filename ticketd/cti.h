/* cti: phone calls as tickets (issue 9).
 *
 * Three doors bring call events in: Zammad's generic CTI webhook and our
 * own JSON events (cti_hook.c), and the Asterisk Manager Interface client
 * (cti_ami.c).  Each turns what it received into one struct cti_event and
 * hands it to cti_apply(), which in one transaction stores the event as
 * received (call_event, sql/027), ignores it when its idempotency key was
 * seen before, and updates the call row; an answered inbound call gets its
 * ticket there, the caller's number goes to the contact store
 * (cti_contact_link), and NOTIFY cti_call tells every ticketd to pop the
 * ticket on the answering operator's screen.
 *
 * After-call work (ACW): a hung-up call stays in state 'acw' until its
 * operator saves the case record (sql/027's trigger on case_record), or the
 * PBX sends acw_end. */
#ifndef MDG_CTI_H
#define MDG_CTI_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct api_call;
struct db;

enum cti_kind {
	CTI_NEW,
	CTI_ANSWER,
	CTI_HANGUP,
	CTI_IVR,
	CTI_QUEUE,
	CTI_HOLD,
	CTI_UNHOLD,
	CTI_TRANSFER,
	CTI_TRANSFER_BACK,
	CTI_RECORDING,
	CTI_ACW_END,
	CTI_ABANDON,
	CTI_NKINDS
};

/* Strings may be NULL (not given).  None of them is trusted: lengths are
 * checked by cti_event_check(). */
struct cti_event {
	const char *pbx, *call_id;
	enum cti_kind kind;
	const char *source; /* "zammad", "json", "ami" */
	const char *event_id; /* kinds that repeat (hold, transfer): makes the key */
	const char *at; /* ISO 8601 time of the event, NULL: now */
	const char *direction, *from, *to, *dnis, *ivr, *queue, *ext, *user, *cause;
	const char *target, *target_kind, *recording;
	const char *raw; /* the event as received, a JSON object text */
};

struct cti_result {
	long long call; /* the call row */
	long long ticket; /* its ticket, 0 when none */
	int duplicate; /* the event was seen before: nothing changed */
	char state[16];
};

/* the kind named by name (newCall/answer/hangup, or our JSON kinds), or -1 */
int cti_kind_parse(const char *name);
const char *cti_kind_name(enum cti_kind k);
/* NULL when ev is acceptable, else why not (for a 400) */
const char *cti_event_check(const struct cti_event *ev);

void cti_prepare(struct db *db);
/* Apply ev in one transaction.  0 (res filled; res->duplicate for a
 * repeated event), or -1 when the database failed (logged by db.c). */
int cti_apply(struct db *db, const struct cti_event *ev, struct cti_result *res);
/* n events in one transaction (the AMI client's events of one read: one
 * WAL flush for all).  0, or -1 with nothing applied: the caller applies
 * them one by one then, so one bad event costs only itself. */
int cti_apply_batch(struct db *db, const struct cti_event *evs, int n);
/* The secret of an enabled PBX compared in constant time with given:
 * 1 match, 0 no such PBX or no match, -1 database error. */
int cti_secret_ok(struct db *db, const char *pbx, const char *given);
/* constant-time comparison of two NUL-terminated strings: 1 when equal */
int cti_const_eq(const char *a, const char *b);

/* cti_hook.c: POST /cti/zammad/PBX[/TOKEN] and POST /cti/events/PBX */
void cti_hook_zammad(struct api_call *c);
void cti_hook_events(struct api_call *c);
/* GET /cti/agents/PBX: who may take a call (not in ACW) */
void cti_hook_agents(struct api_call *c);
/* decode application/x-www-form-urlencoded into a JSON object; fields
 * named with a trailing "[]" become arrays.  NULL when malformed or over
 * the bounds (64 fields, 4 kB a value). */
json_t *cti_form_decode(const char *body, size_t len);

#endif
