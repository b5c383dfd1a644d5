/* route: the routing rules; the contract and the matching semantics are in
 * route.h.
 *
 * Rules are compiled once per load, not per mail: the text conditions are
 * NFKC-casefolded into UTF-8 needles, the regular expressions compiled, the
 * DID reduced to its digits.  A match then folds each input once and does
 * byte substring searches, so a hundred rules cost a hundred memmem calls.
 *
 * A load builds the new rule set completely (its own pool, its own regex
 * objects) before it replaces the old one, so a failed load leaves the
 * rules that were in use, as a failed config reload does.
 *
 * This file is ticketd's ICU adapter for normalisation and regular
 * expressions (lib/charset.c is lib's, for converters): nothing else in
 * ticketd includes ICU headers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/unorm2.h>
#include <unicode/uregex.h>
#include <unicode/ustring.h>
#include <unicode/utypes.h>

#include "charset.h"
#include "db.h"
#include "log.h"
#include "pool.h"
#include "route.h"

/* inputs and conditions are cut at this many bytes: a subject header is at
 * most 64 KiB (mime.h) and no rule needs more */
#define ROUTE_MAX_TEXT (64 * 1024)
#define ROUTE_MAX_RECIPIENTS 256
/* ICU's time limit counts blocks of match engine steps; one measured
 * 0.13 ms on the development machine, so 50 stops "^(a+)+$" on 40 a's
 * (hours unbounded) after about 7 ms, while a sane pattern finishes a
 * subject in microseconds */
#define ROUTE_REGEX_TIME_LIMIT 50
#define ROUTE_REGEX_STACK_BYTES (256 * 1024)
#define ROUTE_REGEX_FLAGS UREGEX_CASE_INSENSITIVE

static const struct db_stmt route_stmts[] = {
	/* one row per (rule, tag); a rule without tags gives one row with
	 * a NULL tag */
	{ "route_load",
	  "SELECT r.id, r.name, r.match_recipient, r.match_sender, r.match_subject,"
	  " r.subject_regex, r.match_did, r.match_origin, r.set_queue, r.set_category,"
	  " r.set_priority, r.continue_matching, t.tag"
	  " FROM route_rule r LEFT JOIN LATERAL unnest(r.set_tags) WITH ORDINALITY t(tag, n) ON true"
	  " WHERE r.enabled ORDER BY r.position, r.id, t.n" },
	{ NULL, NULL },
};

struct route_rule {
	int id;
	const char *name;
	const char *recipient, *sender, *origin, *subject; /* folded; NULL: unset */
	const char *did; /* digits; NULL: unset */
	URegularExpression *re; /* subject pattern; NULL: none */
	const char *queue, *category;
	int has_priority, priority;
	const char **tags;
	size_t ntags;
	int cont;
};

struct route {
	struct db *db;
	struct pool *pool; /* the rules' strings */
	struct route_rule *rules;
	size_t n;
};

/* ---- ICU: normalisation and patterns ---- */

/* s as UTF-16, normalised by norm (NULL: as it is), in p; NULL on error */
static UChar *route_u16(struct pool *p, const UNormalizer2 *norm, const char *s, int32_t *len)
{
	size_t blen = strnlen(s, ROUTE_MAX_TEXT);
	UErrorCode st = U_ZERO_ERROR;
	int32_t ulen = 0, olen;
	UChar *u = pool_alloc(p, (blen + 1) * sizeof(UChar)), *o;

	if (u == NULL)
		return NULL;
	/* a UTF-8 sequence cut by the limit becomes U+FFFD, never an error */
	u_strFromUTF8WithSub(u, (int32_t)blen + 1, &ulen, s, (int32_t)blen, 0xFFFD, NULL, &st);
	if (U_FAILURE(st))
		return NULL;
	if (norm == NULL) {
		*len = ulen;
		return u;
	}
	olen = unorm2_normalize(norm, u, ulen, NULL, 0, &st); /* preflight */
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return NULL;
	st = U_ZERO_ERROR;
	if ((o = pool_alloc(p, ((size_t)olen + 1) * sizeof(UChar))) == NULL)
		return NULL;
	unorm2_normalize(norm, u, ulen, o, olen + 1, &st);
	*len = olen;
	return U_FAILURE(st) ? NULL : o;
}

/* s NFKC-casefolded (white space squeezed), as UTF-8 in p; NULL on error */
static char *route_fold(struct pool *p, const char *s)
{
	return charset_fold(p, s, strnlen(s, ROUTE_MAX_TEXT), ROUTE_MAX_TEXT);
}

/* the pattern compiled as route_match runs it; NULL and err on failure */
static URegularExpression *route_regex_open(const char *pattern, char *err, size_t errlen)
{
	struct pool *p = pool_create(0);
	UErrorCode st = U_ZERO_ERROR;
	UParseError pe;
	URegularExpression *re = NULL;
	UChar *u;
	int32_t ulen = 0;

	if (p == NULL || (u = route_u16(p, NULL, pattern, &ulen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		pool_destroy(p);
		return NULL;
	}
	memset(&pe, 0, sizeof(pe));
	re = uregex_open(u, ulen, ROUTE_REGEX_FLAGS, &pe, &st);
	pool_destroy(p);
	if (U_SUCCESS(st)) {
		uregex_setTimeLimit(re, ROUTE_REGEX_TIME_LIMIT, &st);
		uregex_setStackLimit(re, ROUTE_REGEX_STACK_BYTES, &st);
	}
	if (U_FAILURE(st)) {
		snprintf(err, errlen, "%s at offset %d", u_errorName(st), (int)pe.offset);
		uregex_close(re);
		return NULL;
	}
	return re;
}

int route_regex_check(const char *pattern, char *err, size_t errlen)
{
	URegularExpression *re = route_regex_open(pattern, err, errlen);

	if (re == NULL)
		return -1;
	uregex_close(re);
	return 0;
}

/* 1 when re is found in text; a time-out or error is no match (logged) */
static int route_regex_find(const struct route_rule *rule, const UChar *text, int32_t len)
{
	UErrorCode st = U_ZERO_ERROR;
	UBool found;

	uregex_setText(rule->re, text, len, &st);
	found = U_SUCCESS(st) ? uregex_find(rule->re, 0, &st) : 0;
	if (U_FAILURE(st)) {
		log_warn("rule=%d: subject pattern not applied: %s", rule->id, u_errorName(st));
		found = 0;
	}
	/* the text is the caller's pool: let go of it now */
	st = U_ZERO_ERROR;
	uregex_setText(rule->re, u"", 0, &st);
	return found != 0;
}

/* ---- building the rules ---- */

static int route_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* the digits of s, in p; "" when it has none */
static char *route_digits(struct pool *p, const char *s)
{
	size_t n = strnlen(s, ROUTE_MAX_TEXT), k = 0;
	char *d = pool_alloc(p, n + 1);

	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i] >= '0' && s[i] <= '9')
			d[k++] = s[i];
	d[k] = '\0';
	return d;
}

/* folded copy of an optional condition: 0, or -1 on out of memory */
static int route_cond(struct pool *p, const char *s, const char **out)
{
	*out = NULL;
	if (!route_set(s))
		return 0;
	*out = route_fold(p, s);
	return *out ? 0 : -1;
}

static int route_copy(struct pool *p, const char *s, const char **out)
{
	*out = route_set(s) ? pool_strdup(p, s) : NULL;
	return route_set(s) && *out == NULL ? -1 : 0;
}

static int route_tags(struct pool *p, const struct route_rule_def *d, struct route_rule *rule)
{
	rule->ntags = 0;
	rule->tags = pool_zalloc(p, (d->ntags + 1) * sizeof(char *));
	if (rule->tags == NULL)
		return -1;
	for (size_t i = 0; i < d->ntags; i++) {
		if (!route_set(d->set_tags[i]))
			continue;
		if ((rule->tags[rule->ntags++] = pool_strdup(p, d->set_tags[i])) == NULL)
			return -1;
	}
	return 0;
}

/* 1 built, 0 skipped (bad pattern, logged), -1 out of memory */
static int route_build(struct pool *p, const struct route_rule_def *d, struct route_rule *rule)
{
	char err[160];

	memset(rule, 0, sizeof(*rule));
	rule->id = d->id;
	rule->has_priority = d->has_priority;
	rule->priority = d->set_priority;
	rule->cont = d->continue_matching;
	if ((rule->name = pool_strdup(p, d->name ? d->name : "")) == NULL ||
	    route_cond(p, d->match_recipient, &rule->recipient) < 0 ||
	    route_cond(p, d->match_sender, &rule->sender) < 0 ||
	    route_cond(p, d->match_origin, &rule->origin) < 0 ||
	    route_copy(p, d->set_queue, &rule->queue) < 0 ||
	    route_copy(p, d->set_category, &rule->category) < 0 || route_tags(p, d, rule) < 0)
		return -1;
	if (route_set(d->match_did) && (rule->did = route_digits(p, d->match_did)) == NULL)
		return -1;
	if (route_set(d->match_subject) && d->subject_regex) {
		if ((rule->re = route_regex_open(d->match_subject, err, sizeof(err))) == NULL) {
			log_error("rule=%d: skipped: its subject pattern does not compile: %s", d->id,
				  err);
			return 0;
		}
	} else if (route_cond(p, d->match_subject, &rule->subject) < 0)
		return -1;
	return 1;
}

static void route_close_all(struct route_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		uregex_close(rules[i].re);
	free(rules);
}

int route_set_rules(struct route *r, const struct route_rule_def *defs, size_t n)
{
	struct pool *p = pool_create(0);
	struct route_rule *rules = calloc(n ? n : 1, sizeof(*rules));
	size_t k = 0;

	if (p == NULL || rules == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		int b = route_build(p, &defs[i], &rules[k]);

		if (b < 0) {
			uregex_close(rules[k].re);
			goto fail;
		}
		k += (size_t)b;
	}
	route_close_all(r->rules, r->n);
	pool_destroy(r->pool);
	r->rules = rules;
	r->n = k;
	r->pool = p;
	return 0;
fail:
	if (rules != NULL)
		route_close_all(rules, k);
	pool_destroy(p);
	return -1;
}

/* ---- loading ---- */

struct route *route_new(struct db *db)
{
	struct route *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->db = db;
	if (db != NULL)
		db_prepare_all(db, route_stmts);
	return r;
}

void route_free(struct route *r)
{
	if (r == NULL)
		return;
	route_close_all(r->rules, r->n);
	pool_destroy(r->pool);
	free(r);
}

size_t route_count(const struct route *r)
{
	return r->n;
}

static const char *route_col(const struct db_res *res, int row, int col)
{
	return db_res_null(res, row, col) ? NULL : db_res_val(res, row, col);
}

/* the rule starting at row i into d (its tags are rows i..); the row after */
static int route_def(const struct db_res *res, int i, struct route_rule_def *d, const char **tags)
{
	int id = (int)db_res_ll(res, i, 0), rows = db_res_rows(res);

	memset(d, 0, sizeof(*d));
	d->id = id;
	d->name = route_col(res, i, 1);
	d->match_recipient = route_col(res, i, 2);
	d->match_sender = route_col(res, i, 3);
	d->match_subject = route_col(res, i, 4);
	d->subject_regex = strcmp(db_res_val(res, i, 5), "t") == 0;
	d->match_did = route_col(res, i, 6);
	d->match_origin = route_col(res, i, 7);
	d->set_queue = route_col(res, i, 8);
	d->set_category = route_col(res, i, 9);
	d->has_priority = !db_res_null(res, i, 10);
	d->set_priority = d->has_priority ? (int)db_res_ll(res, i, 10) : 0;
	d->continue_matching = strcmp(db_res_val(res, i, 11), "t") == 0;
	d->set_tags = tags;
	for (; i < rows && db_res_ll(res, i, 0) == id; i++)
		if (!db_res_null(res, i, 12))
			tags[d->ntags++] = db_res_val(res, i, 12);
	return i;
}

int route_reload(struct route *r)
{
	struct db_res *res;
	struct route_rule_def *defs;
	const char **tags;
	size_t n = 0;
	int rows, rc = -1, i = 0;

	if (r->db == NULL || (res = db_query(r->db, "route_load", 0, NULL, NULL, NULL, 0)) == NULL)
		return -1;
	rows = db_res_rows(res);
	defs = calloc((size_t)rows + 1, sizeof(*defs));
	tags = calloc((size_t)rows + 1, sizeof(*tags));
	if (defs != NULL && tags != NULL) {
		while (i < rows && n < ROUTE_MAX_RULES) {
			int next = route_def(res, i, &defs[n++], tags + i);

			i = next;
		}
		rc = route_set_rules(r, defs, n);
	}
	if (rc < 0)
		log_error("routing rules not reloaded: out of memory; the old ones stay");
	else if (i < rows)
		log_warn("only the first %d enabled routing rules are used", ROUTE_MAX_RULES);
	else
		log_info("routing rules loaded: %zu in use", r->n);
	free(defs);
	free(tags);
	db_res_free(res);
	return rc;
}

/* ---- matching ---- */

/* the inputs folded once per mail */
struct route_folded {
	const char **recipients;
	size_t nrecipients;
	const char *sender, *origin, *subject, *did;
	const UChar *subject16; /* NFKC, for patterns */
	int32_t subject16_len;
	int have16; /* tried to build subject16 */
};

static const char *route_fold_opt(struct pool *p, const char *s)
{
	return s != NULL ? route_fold(p, s) : NULL;
}

static void route_fold_input(struct pool *p, const struct route_input *in, struct route_folded *f)
{
	size_t n = in->nrecipients < ROUTE_MAX_RECIPIENTS ? in->nrecipients : ROUTE_MAX_RECIPIENTS;

	memset(f, 0, sizeof(*f));
	f->recipients = n ? pool_zalloc(p, n * sizeof(char *)) : NULL;
	for (size_t i = 0; f->recipients != NULL && i < n; i++) {
		const char *s = route_fold_opt(p, in->recipients[i]);

		if (s != NULL)
			f->recipients[f->nrecipients++] = s;
	}
	f->sender = route_fold_opt(p, in->sender);
	f->origin = route_fold_opt(p, in->origin);
	f->subject = route_fold_opt(p, in->subject);
	f->did = in->did ? route_digits(p, in->did) : NULL;
}

static int route_has(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static int route_subject(struct pool *p, const struct route_rule *rule, const char *subject,
			 struct route_folded *f)
{
	UErrorCode st = U_ZERO_ERROR;

	if (rule->re == NULL)
		return rule->subject == NULL || route_has(f->subject, rule->subject);
	if (subject == NULL)
		return 0;
	if (!f->have16) {
		f->have16 = 1;
		f->subject16 = route_u16(p, unorm2_getNFKCInstance(&st), subject, &f->subject16_len);
		if (U_FAILURE(st))
			f->subject16 = NULL;
	}
	return f->subject16 != NULL && route_regex_find(rule, f->subject16, f->subject16_len);
}

static int route_rule_matches(struct pool *p, const struct route_rule *rule,
			      const struct route_input *in, struct route_folded *f)
{
	int hit = rule->recipient == NULL;

	if (rule->did != NULL && (f->did == NULL || strcmp(f->did, rule->did) != 0))
		return 0;
	for (size_t i = 0; !hit && i < f->nrecipients; i++)
		hit = route_has(f->recipients[i], rule->recipient);
	if (!hit || (rule->sender != NULL && !route_has(f->sender, rule->sender)) ||
	    (rule->origin != NULL && !route_has(f->origin, rule->origin)))
		return 0;
	return route_subject(p, rule, in->subject, f);
}

static int route_seen(const char **tags, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(tags[i], tags[j]) == 0)
			return 1;
	return 0;
}

/* "{"a","b"}" (each tag quoted, once, in first-seen order) in p */
static const char *route_tags_literal(struct pool *p, const char **tags, size_t n)
{
	size_t cap = 3, k = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		cap += 2 * strlen(tags[i]) + 3;
	if ((out = pool_alloc(p, cap)) == NULL)
		return "{}";
	out[k++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (route_seen(tags, i))
			continue;
		if (k > 1)
			out[k++] = ',';
		out[k++] = '"';
		for (const char *c = tags[i]; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				out[k++] = '\\';
			out[k++] = *c;
		}
		out[k++] = '"';
	}
	out[k++] = '}';
	out[k] = '\0';
	return out;
}

/* apply a matching rule: fields still unset, and its tags */
static void route_apply(const struct route_rule *rule, struct route_result *out, int *has_prio)
{
	if (out->rule_id == 0) {
		out->rule_id = rule->id;
		out->rule_name = rule->name;
	}
	if (out->queue == NULL)
		out->queue = rule->queue;
	if (out->category == NULL)
		out->category = rule->category;
	if (!*has_prio && rule->has_priority) {
		out->priority = rule->priority;
		*has_prio = 1;
	}
}

void route_match(struct route *r, struct pool *p, const struct route_input *in,
		 struct route_result *out)
{
	struct route_folded f;
	const char **tags = NULL;
	size_t ntags = 0, maxtags = 0;
	int has_prio = 0;

	memset(out, 0, sizeof(*out));
	out->tags = "{}";
	if (r->n == 0)
		return;
	route_fold_input(p, in, &f);
	for (size_t i = 0; i < r->n; i++)
		maxtags += r->rules[i].ntags;
	if (maxtags > 0 && (tags = pool_alloc(p, maxtags * sizeof(char *))) == NULL)
		maxtags = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct route_rule *rule = &r->rules[i];

		if (!route_rule_matches(p, rule, in, &f))
			continue;
		route_apply(rule, out, &has_prio);
		for (size_t k = 0; k < rule->ntags && ntags < maxtags; k++)
			tags[ntags++] = rule->tags[k];
		if (!rule->cont)
			break;
	}
	/* strings from the rules' pool would not outlive a reload: copy */
	out->rule_name = out->rule_name ? pool_strdup(p, out->rule_name) : NULL;
	out->queue = out->queue ? pool_strdup(p, out->queue) : NULL;
	out->category = out->category ? pool_strdup(p, out->category) : NULL;
	out->tags = route_tags_literal(p, tags, ntags);
}
