/* Reading and checking a reply draft; the rules are in reply_draft.h. */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "pool.h"
#include "reply_draft.h"
#include "utf8.h"

#define REPLY_DRAFT_NAME_MAX 200 /* bytes of a display name */
#define REPLY_DRAFT_LIST_MAX (64u << 10)

/* ---- addresses ---- */

static int reply_atext(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

static int reply_domain_ok(const char *s, size_t n)
{
	size_t label = 0;

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || (ch == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return s[n - 1] != '-';
}

int reply_addr_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s), local;

	if (at == NULL || n > 254 || strchr(at + 1, '@') != NULL)
		return 0;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return 0;
	for (size_t i = 0; i < local; i++)
		if (!(reply_atext(s[i]) || (s[i] == '.' && s[i + 1] != '.')))
			return 0;
	return reply_domain_ok(at + 1, n - local - 1);
}

static void reply_trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t'))
		(*s)++, (*n)--;
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* the display name: surrounding quotes removed, \x unescaped */
static const char *reply_name(struct pool *p, const char *s, size_t n)
{
	char *o, *r;

	reply_trim(&s, &n);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n > REPLY_DRAFT_NAME_MAX || !utf8_valid(s, n) || (r = pool_alloc(p, n + 1)) == NULL)
		return NULL;
	o = r;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return NULL;
		if (s[i] == '\\' && i + 1 < n)
			i++;
		*o++ = s[i];
	}
	*o = '\0';
	return r;
}

int reply_addr_parse(struct pool *p, const char *s, struct reply_addr *a)
{
	const char *lt = strrchr(s, '<'), *gt, *addr = s;
	size_t n = strlen(s), an = n;

	if (lt != NULL) {
		gt = strchr(lt, '>');
		if (gt == NULL || gt[1 + strspn(gt + 1, " \t")] != '\0')
			return -1;
		addr = lt + 1;
		an = (size_t)(gt - addr);
	}
	reply_trim(&addr, &an);
	a->addr = pool_strndup(p, addr, an);
	a->name = lt != NULL ? reply_name(p, s, (size_t)(lt - s)) : "";
	if (a->addr == NULL || a->name == NULL || !reply_addr_ok(a->addr))
		return -1;
	return 0;
}

/* where the entry starting at s ends: a comma outside quotes and <>,
 * once the entry has an address (as lib/mailout reads lists) */
static size_t reply_entry_end(const char *s)
{
	int q = 0, angle = 0, addr = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (q && s[i] == '\\' && s[i + 1] != '\0')
			i++;
		else if (s[i] == '"')
			q = !q;
		else if (q)
			continue;
		else if (s[i] == '<')
			angle = 1;
		else if (s[i] == '>' && angle)
			angle = 0, addr = 1;
		else if (s[i] == '@')
			addr = 1;
		else if (s[i] == ',' && !angle && addr)
			break;
	}
	return i;
}

void reply_addr_split(struct pool *p, const char *list, struct reply_list *l, size_t max)
{
	const char *s = list;

	l->n = 0;
	if ((l->a = pool_alloc(p, max * sizeof(*l->a))) == NULL)
		return;
	while (*s != '\0' && l->n < max) {
		size_t n = reply_entry_end(s);
		char *e = pool_strndup(p, s, n);

		if (e != NULL && reply_addr_parse(p, e, &l->a[l->n]) == 0)
			l->n++;
		s += n;
		if (*s == ',')
			s++;
	}
}

const char *reply_addr_show(struct pool *p, const struct reply_addr *a)
{
	return a->name[0] != '\0' ? pool_printf(p, "%s <%s>", a->name, a->addr) : a->addr;
}

static const char *reply_list_join(struct pool *p, const struct reply_list *l, int quoted)
{
	struct buf b;
	const char *r;

	buf_init(&b, REPLY_DRAFT_LIST_MAX);
	for (size_t i = 0; i < l->n; i++) {
		const struct reply_addr *a = &l->a[i];

		if (i > 0)
			buf_append_str(&b, ", ");
		if (a->name[0] != '\0' && quoted) {
			buf_append_str(&b, "\"");
			for (const char *c = a->name; *c != '\0'; c++) {
				if (*c == '"' || *c == '\\')
					buf_append_str(&b, "\\");
				buf_append(&b, c, 1);
			}
			buf_printf(&b, "\" <%s>", a->addr);
		} else if (a->name[0] != '\0')
			buf_printf(&b, "%s <%s>", a->name, a->addr);
		else
			buf_append_str(&b, a->addr);
	}
	r = pool_strdup(p, b.data ? b.data : "");
	buf_free(&b);
	return r;
}

const char *reply_list_header(struct pool *p, const struct reply_list *l)
{
	return l->n > 0 ? reply_list_join(p, l, 1) : NULL;
}

const char *reply_list_show(struct pool *p, const struct reply_list *l)
{
	return reply_list_join(p, l, 0);
}

int reply_domain_in(const char *addr, const char *list)
{
	const char *at = strrchr(addr, '@'), *s = list;
	size_t dn;

	if (at == NULL)
		return 0;
	at++;
	dn = strlen(at);
	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		const char *e = s;
		size_t en = n;

		reply_trim(&e, &en);
		if (en > 0 && en <= dn && strncasecmp(at + dn - en, e, en) == 0 &&
		    (en == dn || at[dn - en - 1] == '.'))
			return 1;
		s += n;
		if (*s == ',')
			s++;
	}
	return 0;
}

/* ---- the request body ---- */

static const char *reply_bad(struct pool *p, const char *field, const char *why)
{
	const char *m = pool_printf(p, "%s: %s", field, why);

	return m ? m : why;
}

static int reply_list_read(struct pool *p, const json_t *v, const char *field,
			   struct reply_list *l, const char **err)
{
	size_t i;
	json_t *e;

	l->n = 0;
	l->a = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > REPLY_DRAFT_MAX_FIELD) {
		*err = reply_bad(p, field, "must be an array of at most 20 addresses");
		return -1;
	}
	if ((l->a = pool_alloc(p, (json_array_size(v) + 1) * sizeof(*l->a))) == NULL)
		return -1;
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);

		if (s == NULL || json_string_length(e) > REPLY_DRAFT_MAX_ENTRY ||
		    strlen(s) != json_string_length(e) || reply_addr_parse(p, s, &l->a[l->n]) < 0) {
			*err = pool_printf(p, "%s: \"%.100s\" is not a plain mail address", field,
					   s ? s : "(not a string)");
			return -1;
		}
		l->n++;
	}
	return 0;
}

static int reply_text_read(struct pool *p, const json_t *doc, const char *field, size_t max,
			   const char **out, const char **err)
{
	const json_t *v = json_object_get(doc, field);
	const char *s = json_string_value(v);

	*out = "";
	if (v == NULL || json_is_null(v))
		return 0;
	if (s == NULL || json_string_length(v) > max || strlen(s) != json_string_length(v)) {
		*err = reply_bad(p, field, "must be a string without NUL, not too long");
		return -1;
	}
	*out = s;
	return 0;
}

/* {"message_id", "idx"} or {"upload_id"}, nothing else beside */
static int reply_attref_read(const json_t *e, struct reply_attref *a)
{
	json_t *m = json_object_get(e, "message_id"), *x = json_object_get(e, "idx");
	json_t *u = json_object_get(e, "upload_id");

	memset(a, 0, sizeof(*a));
	if (u != NULL) {
		if (m != NULL || x != NULL || !json_is_integer(u) || json_integer_value(u) <= 0)
			return -1;
		a->upload_id = json_integer_value(u);
		return 0;
	}
	if (!json_is_integer(m) || !json_is_integer(x) || json_integer_value(m) <= 0 ||
	    json_integer_value(x) < 0)
		return -1;
	a->message_id = json_integer_value(m);
	a->idx = json_integer_value(x);
	return 0;
}

static int reply_atts_read(struct pool *p, const json_t *v, const char *field,
			   struct reply_attref **out, size_t *n, const char **err)
{
	size_t i;
	json_t *e;

	*n = 0;
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > REPLY_DRAFT_MAX_ATT ||
	    (*out = pool_alloc(p, (json_array_size(v) + 1) * sizeof(**out))) == NULL) {
		*err = reply_bad(p, field, "must be an array of at most 20 attachments");
		return -1;
	}
	json_array_foreach(v, i, e) {
		if (reply_attref_read(e, &(*out)[*n]) < 0) {
			*err = reply_bad(p, field, "each must be {\"message_id\": N, \"idx\": N}"
						   " or {\"upload_id\": N}");
			return -1;
		}
		(*n)++;
	}
	return 0;
}

static int reply_conf_read(struct pool *p, const json_t *v, struct reply_draft *d,
			   const char **err)
{
	struct reply_addr a;
	size_t i;
	json_t *e;

	d->nconf_rcpt = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > REPLY_DRAFT_MAX_RCPT ||
	    (d->conf_rcpt = pool_alloc(p, (json_array_size(v) + 1) * sizeof(char *))) == NULL) {
		*err = "confirmed_recipients: must be an array of at most 50 addresses";
		return -1;
	}
	json_array_foreach(v, i, e) {
		const char *s = json_string_value(e);
		char *low;

		if (s == NULL || json_string_length(e) > REPLY_DRAFT_MAX_ENTRY ||
		    reply_addr_parse(p, s, &a) < 0 || (low = pool_strdup(p, a.addr)) == NULL) {
			*err = "confirmed_recipients: each must be a mail address";
			return -1;
		}
		for (char *c = low; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		d->conf_rcpt[d->nconf_rcpt++] = low;
	}
	return 0;
}

static int reply_flag_read(const json_t *doc, const char *field, int *out, const char **err)
{
	const json_t *v = json_object_get(doc, field);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		*err = field; /* the caller says "must be true or false" */
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* an address listed twice, in any of the three fields: NULL if none */
static const char *reply_duplicate(const struct reply_draft *d)
{
	const struct reply_list *ls[3] = { &d->to, &d->cc, &d->bcc };
	const char *seen[REPLY_DRAFT_MAX_RCPT];
	size_t n = 0;

	for (int f = 0; f < 3; f++)
		for (size_t i = 0; i < ls[f]->n; i++) {
			for (size_t j = 0; j < n; j++)
				if (strcasecmp(seen[j], ls[f]->a[i].addr) == 0)
					return seen[j];
			if (n < REPLY_DRAFT_MAX_RCPT)
				seen[n++] = ls[f]->a[i].addr;
		}
	return NULL;
}

static int reply_fields_read(struct pool *p, const json_t *doc, struct reply_draft *d,
			     const char **err)
{
	const json_t *rt = json_object_get(doc, "replying_to");
	const char *flag;

	if (reply_list_read(p, json_object_get(doc, "to"), "to", &d->to, err) < 0 ||
	    reply_list_read(p, json_object_get(doc, "cc"), "cc", &d->cc, err) < 0 ||
	    reply_list_read(p, json_object_get(doc, "bcc"), "bcc", &d->bcc, err) < 0 ||
	    reply_text_read(p, doc, "subject", REPLY_DRAFT_MAX_SUBJECT, &d->subject, err) < 0 ||
	    reply_text_read(p, doc, "body", REPLY_DRAFT_MAX_BODY, &d->body, err) < 0 ||
	    reply_atts_read(p, json_object_get(doc, "attachments"), "attachments", &d->att,
			    &d->natt, err) < 0 ||
	    reply_atts_read(p, json_object_get(doc, "confirmed_attachments"),
			    "confirmed_attachments", &d->conf_att, &d->nconf_att, err) < 0 ||
	    reply_conf_read(p, json_object_get(doc, "confirmed_recipients"), d, err) < 0)
		return -1;
	if (reply_flag_read(doc, "force", &d->force, &flag) < 0 ||
	    reply_flag_read(doc, "keep_visible", &d->keep_visible, &flag) < 0) {
		*err = reply_bad(p, flag, "must be true or false");
		return -1;
	}
	if (rt != NULL && !json_is_null(rt) &&
	    (!json_is_integer(rt) || json_integer_value(rt) <= 0)) {
		*err = "replying_to: must be the id of a message";
		return -1;
	}
	d->replying_to = json_is_integer(rt) ? json_integer_value(rt) : 0;
	return 0;
}

int reply_draft_parse(struct pool *p, const json_t *doc, struct reply_draft *d, const char **err)
{
	const char *dup;

	memset(d, 0, sizeof(*d));
	*err = "out of memory";
	if (reply_fields_read(p, doc, d, err) < 0)
		return -1;
	if (d->to.n + d->cc.n + d->bcc.n == 0) {
		*err = "to: at least one recipient is needed";
		return -1;
	}
	if (d->to.n + d->cc.n + d->bcc.n > REPLY_DRAFT_MAX_RCPT) {
		*err = "to: at most 50 recipients in all";
		return -1;
	}
	if ((dup = reply_duplicate(d)) != NULL) {
		*err = reply_bad(p, dup, "is listed twice");
		return -1;
	}
	return 0;
}

/* ---- the mis-send rules ---- */

void reply_draft_hide(struct pool *p, struct reply_draft *d, const char *internal)
{
	struct reply_list *vis[2] = { &d->to, &d->cc };
	struct reply_addr *bcc;
	size_t ext = 0;

	d->moved.n = 0;
	d->moved.a = NULL;
	for (int f = 0; f < 2; f++)
		for (size_t i = 0; i < vis[f]->n; i++)
			ext += !reply_domain_in(vis[f]->a[i].addr, internal);
	if (ext < 2 || d->keep_visible)
		return;
	bcc = pool_alloc(p, (d->bcc.n + ext) * sizeof(*bcc));
	d->moved.a = pool_alloc(p, ext * sizeof(*bcc));
	if (bcc == NULL || d->moved.a == NULL)
		return;
	if (d->bcc.n > 0)
		memcpy(bcc, d->bcc.a, d->bcc.n * sizeof(*bcc));
	for (int f = 0; f < 2; f++) {
		size_t keep = 0;

		for (size_t i = 0; i < vis[f]->n; i++) {
			if (reply_domain_in(vis[f]->a[i].addr, internal))
				vis[f]->a[keep++] = vis[f]->a[i];
			else
				bcc[d->bcc.n++] = d->moved.a[d->moved.n++] = vis[f]->a[i];
		}
		vis[f]->n = keep;
	}
	d->bcc.a = bcc;
}

static int reply_rcpt_confirmed(const struct reply_draft *d, const char *addr)
{
	for (size_t i = 0; i < d->nconf_rcpt; i++)
		if (strcasecmp(d->conf_rcpt[i], addr) == 0)
			return 1;
	return 0;
}

static int reply_att_confirmed(const struct reply_draft *d, const struct reply_attref *a)
{
	for (size_t i = 0; i < d->nconf_att; i++)
		if (d->conf_att[i].message_id == a->message_id && d->conf_att[i].idx == a->idx &&
		    d->conf_att[i].upload_id == a->upload_id)
			return 1;
	return 0;
}

json_t *reply_attref_json(const struct reply_attref *a)
{
	if (a->upload_id > 0)
		return json_pack("{s:I}", "upload_id", (json_int_t)a->upload_id);
	return json_pack("{s:I, s:I}", "message_id", (json_int_t)a->message_id, "idx",
			 (json_int_t)a->idx);
}

size_t reply_draft_unconfirmed(const struct reply_draft *d, json_t *rcpt, json_t *att)
{
	const struct reply_list *ls[3] = { &d->to, &d->cc, &d->bcc };
	size_t n = 0;

	for (int f = 0; f < 3; f++)
		for (size_t i = 0; i < ls[f]->n; i++)
			if (!reply_rcpt_confirmed(d, ls[f]->a[i].addr)) {
				json_array_append_new(rcpt, json_string(ls[f]->a[i].addr));
				n++;
			}
	for (size_t i = 0; i < d->natt; i++)
		if (!reply_att_confirmed(d, &d->att[i])) {
			json_array_append_new(att, reply_attref_json(&d->att[i]));
			n++;
		}
	return n;
}
