/* route: ordered routing rules (sql/002_mail.sql route_rule) applied to each
 * new ticket.  The rules live in memory, loaded at start and again on
 * NOTIFY route_change (route_reload), so an admin's edit applies to the
 * next mail without a restart.  Owned by the routing helper; intake calls
 * route_match.
 *
 * Matching.  The enabled rules are tried in (position, id) order; a rule
 * matches when every condition it sets matches (unset ones are ignored, a
 * rule with none matches everything):
 *   match_recipient  substring of any of in->recipients
 *   match_sender     substring of in->sender
 *   match_origin     substring of in->origin (forwarded items)
 *   match_subject    substring of in->subject, or with subject_regex an ICU
 *                    regular expression found anywhere in it
 *   match_did        in->did, comparing digits only ("03-1234-5678" is
 *                    "0312345678"), exactly
 * Substrings compare after NFKC case folding on both sides, so case,
 * full-width and half-width forms do not matter (ＡＢＣ = abc, ｶﾞ = ガ).  A
 * regular expression runs case-insensitively over the NFKC form of the
 * subject (full-width brackets and letters are half-width there: write
 * the pattern that way), with a bounded run time; a run that times out
 * counts as no match and is logged.  A pattern that does not compile is
 * refused by the admin API (route_regex_check); one found in the table
 * anyway is skipped at load with a log line.
 *
 * The first matching rule names the result (rule_id, rule_name) and sets
 * what it sets.  If that rule has continue_matching, the later rules are
 * tried too: a matching one adds its tags and fills only the fields still
 * unset, and again the run goes on only if it has continue_matching. */
#ifndef MDG_ROUTE_H
#define MDG_ROUTE_H
#include <stddef.h>

/* the range of route_rule.set_priority the admin API accepts; 0 is the
 * ticket's default, higher is more urgent */
#define ROUTE_PRIORITY_MIN (-9)
#define ROUTE_PRIORITY_MAX 9
/* the most enabled rules loaded; more are ignored (logged) */
#define ROUTE_MAX_RULES 1000

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

/* One rule as stored; NULL or "" strings are unset. */
struct route_rule_def {
	int id;
	const char *name;
	const char *match_recipient, *match_sender, *match_subject, *match_did, *match_origin;
	int subject_regex;
	const char *set_queue, *set_category;
	int has_priority; /* set_priority is not NULL */
	int set_priority;
	const char *const *set_tags;
	size_t ntags;
	int continue_matching;
};

/* registers its statements with db (before db_ensure); db may be NULL
 * (unit tests: rules come from route_set_rules only) */
struct route *route_new(struct db *db);
void route_free(struct route *r);
/* (re)load the enabled rules from route_rule; on failure keep the old
 * ones. 0 or -1 (the database error is logged by db) */
int route_reload(struct route *r);
/* replace the rules with defs, in order (route_reload's second half).
 * 0, or -1 on out of memory (the old rules stay) */
int route_set_rules(struct route *r, const struct route_rule_def *defs, size_t n);
/* the rules in use (bad patterns skipped) */
size_t route_count(const struct route *r);
/* strings in the result are allocated from p */
void route_match(struct route *r, struct pool *p, const struct route_input *in,
		 struct route_result *out);
/* 0 when pattern compiles as route_match would use it; else -1 and why
 * ("U_REGEX_MISSING_CLOSE_PAREN at offset 3") in err */
int route_regex_check(const char *pattern, char *err, size_t errlen);

#endif
