/* reply_int: what reply.c (sending) and reply_render.c (templates and
 * the proposed reply) share; escalate.c reads the centre's settings and
 * the ticket's attachment list from here too. */
#ifndef MDG_REPLY_INT_H
#define MDG_REPLY_INT_H
#include <stdint.h>

#include <jansson.h>

struct api_call;
struct pool;
struct reply_list;

/* the settings of reply_config_keys, copied at (re)configuration */
struct reply_conf {
	char *from_addr, *from_name, *msgid_domain, *jis_domains, *internal_domains;
	char *centre_name, *centre_signature, *templates_dir, *tag_format;
	long delay_s, max_att_bytes;
};
extern struct reply_conf reply_conf;

struct reply_ticket {
	long long id;
	const char *subject, *status, *correspondent;
	int64_t received_us; /* the first mail's arrival, else the ticket's creation */
};

/* the incoming message a reply answers */
struct reply_parent {
	long long id;
	const char *subject, *from_name, *from_addr;
	const char *msgid, *refs; /* NULL when the mail had none */
	long long item;           /* its inbound_item, 0 if none */
};

/* 1 found, 0 no such ticket, -1 database error */
int reply_load_ticket(struct api_call *c, struct pool *p, long long id, struct reply_ticket *t);
/* the incoming message want of the ticket (want 0: the newest one that is
 * not automatic mail); 1 found, 0 none, -1 database error */
int reply_load_parent(struct api_call *c, struct pool *p, long long ticket, long long want,
		      struct reply_parent *m);
/* who the answer goes to: the parent's Reply-To, else its From, else the
 * ticket's correspondent */
void reply_default_to(struct api_call *c, struct pool *p, const struct reply_ticket *t,
		      const struct reply_parent *m, struct reply_list *to);
/* "Re: <original>" with the ticket's tag; a subject given keeps its
 * words and gets the tag when it lacks it */
const char *reply_subject(struct pool *p, const struct reply_ticket *t,
			  const struct reply_parent *m, const char *given);
/* every attachment of the ticket, as the JSON the composer lists */
json_t *reply_ticket_attachments(struct api_call *c, long long ticket);

#endif
