/* route: ordered routing rules (sql/002_mail.sql route_rule) applied to each
 * new ticket.  The rules live in memory, loaded at start and again on
 * NOTIFY route_change (route_reload), so an admin's edit applies to the
 * next mail without a restart.  Owned by the routing helper; intake calls
 * route_match. */
#ifndef MDG_ROUTE_H
#define MDG_ROUTE_H
#include <stddef.h>

struct db;
struct pool;
struct route;

struct route_input {
	const char *const *recipients; /* To, Cc, Delivered-To, X-Original-To addresses */
	size_t nrecipients;
	const char *sender;            /* from address */
	const char *subject;
	const char *did;               /* fax number dialled; NULL for mail */
	const char *origin;            /* original sender of a forwarded item; NULL if none */
};

struct route_result {
	int rule_id;            /* first matching rule; 0 if none */
	const char *rule_name;  /* NULL if none */
	const char *queue;      /* NULL: leave the default */
	const char *category;   /* NULL: none */
	int priority;           /* 0 if no rule set one */
	const char *tags;       /* a PostgreSQL array literal "{a,b}"; "{}" if none */
};

/* registers its statements with db (before db_ensure) */
struct route *route_new(struct db *db);
void route_free(struct route *r);
/* (re)load the rules; on failure keep the old ones. 0 or -1 */
int route_reload(struct route *r);
/* strings in the result are allocated from p */
void route_match(struct route *r, struct pool *p, const struct route_input *in,
		 struct route_result *out);

#endif
