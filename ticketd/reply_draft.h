/* reply_draft: what an operator asks to send, checked (reply.c's input).
 *
 * The body of POST /api/tickets/ID/reply (and /preview) is read into a
 * draft: recipients as plain addresses with optional display names,
 * subject, body, the ticket attachments chosen, and the operator's
 * confirmations.  Everything is bounded and checked here, before any
 * database work; the mis-send rules that need no database live here too:
 *
 * - every recipient and every attachment must be confirmed, one by one
 *   (reply_draft_unconfirmed), or the mail is not sent;
 * - two or more external addresses visible in To/Cc (citizens who would
 *   see each other's address) are moved to Bcc unless keep_visible
 *   (reply_draft_hide); "external" is any domain not in the internal
 *   list;
 * - an address listed twice is an error (which field did they mean?).
 *
 * Strings come from the caller's pool; nothing is logged. */
#ifndef MDG_REPLY_DRAFT_H
#define MDG_REPLY_DRAFT_H
#include <stddef.h>

#include <jansson.h>

struct pool;

#define REPLY_DRAFT_MAX_FIELD 20     /* entries in one of to, cc, bcc */
#define REPLY_DRAFT_MAX_RCPT 50      /* to + cc + bcc */
#define REPLY_DRAFT_MAX_ATT 20       /* attachments chosen */
#define REPLY_DRAFT_MAX_ENTRY 400    /* bytes of one recipient entry */
#define REPLY_DRAFT_MAX_SUBJECT 1000 /* bytes */
#define REPLY_DRAFT_MAX_BODY 200000  /* bytes */

struct reply_addr {
	const char *name; /* display name, UTF-8; "" if none */
	const char *addr; /* plain addr-spec as written */
};

struct reply_list {
	struct reply_addr *a;
	size_t n;
};

/* an attachment of the ticket (message_id, idx), or a file uploaded for
 * the reply (upload_id, upload.h; then message_id and idx are 0) */
struct reply_attref {
	long long message_id;
	long long idx;
	long long upload_id;
};

struct reply_draft {
	struct reply_list to, cc, bcc;
	const char *subject; /* "" if none */
	const char *body;
	struct reply_attref *att;
	size_t natt;
	const char **conf_rcpt; /* lowercased addresses */
	size_t nconf_rcpt;
	struct reply_attref *conf_att;
	size_t nconf_att;
	long long replying_to; /* 0 when not given */
	int force, keep_visible;
	struct reply_list moved; /* filled by reply_draft_hide */
};

/* Read a request body.  0, or -1 with *err naming the field and why. */
int reply_draft_parse(struct pool *p, const json_t *doc, struct reply_draft *d, const char **err);

/* "Name <a@b>", "\"Name\" <a@b>" or "a@b" into *a; 0, or -1 when there
 * is no plain address or the name holds a control character */
int reply_addr_parse(struct pool *p, const char *s, struct reply_addr *a);
/* 1 if s is a plain addr-spec: dot-atom local part, '@', a domain of
 * letters, digits and hyphens in dotted labels; at most 254 bytes */
int reply_addr_ok(const char *s);
/* Split a decoded address list ("Name <a@b>, c@d", as lib/mime gives To
 * and Reply-To) into l, skipping entries without a plain address; at
 * most max entries. */
void reply_addr_split(struct pool *p, const char *list, struct reply_list *l, size_t max);
/* "Name <a@b>" (or "a@b") for showing */
const char *reply_addr_show(struct pool *p, const struct reply_addr *a);
/* the list as mailout.h takes it (names quoted); NULL when empty */
const char *reply_list_header(struct pool *p, const struct reply_list *l);
/* the list as shown ("Name <a@b>, c@d"); "" when empty */
const char *reply_list_show(struct pool *p, const struct reply_list *l);

/* 1 if addr's domain is, or is under, one of the comma-separated
 * domains of list (case-insensitive; blanks around entries ignored) */
int reply_domain_in(const char *addr, const char *list);

/* the Bcc rule above; internal: comma-separated domains */
void reply_draft_hide(struct pool *p, struct reply_draft *d, const char *internal);

/* What is not confirmed: recipients (addresses, as JSON strings) and
 * attachments ({message_id, idx} or {upload_id}) appended to the two arrays; the count
 * of both together. */
/* {"message_id", "idx"} or {"upload_id"} */
json_t *reply_attref_json(const struct reply_attref *a);

size_t reply_draft_unconfirmed(const struct reply_draft *d, json_t *rcpt, json_t *att);

#endif
