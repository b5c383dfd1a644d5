/* mime: one RFC 5322 / MIME message into what an operator reads.
 *
 * Design.  The message is walked with an explicit stack of entities
 * (header block + body), never by recursion, so nesting is bounded by
 * lim.max_depth and the C stack does not grow with the input.  We do not
 * hand the message to libetpan's mailmime_parse: measured on libetpan
 * 1.9.4 (Debian 12), it recurses once per multipart or message/rfc822
 * level and once per nested comment, and crashes on 100 000 nested
 * message/rfc822 parts or a From: of a million '(' (stack overflow); its
 * multipart scan rescans each level's whole body, so 10 000 nested
 * multiparts take 1.8 s and 50 000 take 48 s; it has no part limit; and
 * it unescapes a quoted Shift_JIS filename's 0x5C trail byte.  So:
 *
 *   - structure (boundaries, header blocks, parameters, RFC 2231, RFC
 *     2047, dates) is ours: mime_header.c, linear and bounded;
 *   - address lists (groups, comments, quoted strings, obsolete routes)
 *     are libetpan's mailimf_address_list_parse, after the value has been
 *     made UTF-8 and its comment nesting checked (libetpan's comment
 *     parser recurses); if it fails, a simple comma splitter;
 *   - charsets are ICU's, through charset.c.
 *
 * Bodies: text/plain parts (not attachments) make body_text; inside a
 * multipart/alternative only the first branch holding text/plain
 * counts, and likewise for text/html.  With no text/plain at all, the
 * text is derived from the HTML (mime_html.c).  body_text uses "\n" line
 * ends.  Every other leaf is an attachment.  A message/rfc822 (or
 * message/global) attachment is named after its subject (".eml") and
 * parsed as a mail of its own into att->nested: not by recursion but from
 * a queue worked through once the mail holding it is done, with the part
 * limits shared by the whole tree and its depth continuing the holder's,
 * so max_depth and max_parts bound the whole tree.  Attachment data
 * without a transfer encoding points into raw (which the header says
 * outlives the pool); decoded data is in the pool.
 *
 * Beyond what is shown, the header gives routing inputs (Delivered-To,
 * X-Original-To, every recipient), the signs of automatic mail (RFC 3834
 * Auto-Submitted, Precedence, List-*, vacation subjects, bounces), the
 * fields of a delivery report (mime_dsn.c) and, once every attached mail
 * is parsed, where a forwarded mail came from (forward.c).
 *
 * States: MIME_UNPARSED when no header field could be read (the bytes are
 * then shown as guessed text) or the message is empty; MIME_PARTIAL when a
 * limit was reached or the structure had to be guessed (no empty line
 * after the header, a multipart without a usable boundary); notes say
 * which, in English, one clause per reason.  Undecodable bytes alone do
 * not make a mail partial: they set undecodable. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <libetpan/mailimf.h>

#include "charset.h"
#include "forward.h"
#include "mime.h"
#include "mime_dsn.h"
#include "mime_header.h"
#include "mime_html.h"
#include "pool.h"

#define MIME_BOUNDARY_MAX 200    /* RFC 2046 says 70; real mail is longer */
#define MIME_COMMENT_DEPTH_MAX 32 /* deeper comments never reach libetpan */
#define MIME_REFERENCES_MAX 500  /* ids kept from References */
#define MIME_CIDS_MAX 1000       /* cid: references looked up in the HTML */
#define MIME_NAME_MAX 200        /* bytes of a subject used as a file name */
#define MIME_ADDR_FIELDS 16      /* To (Cc, Reply-To) fields joined, as mailers show them */
#define MIME_RCPT_MAX 1000       /* routing recipients kept */

enum mime_cte { MIME_CTE_IDENTITY, MIME_CTE_BASE64, MIME_CTE_QP };

/* why a mail is partial or unparsed; the order is the order in notes */
enum {
	MIME_NOTE_EMPTY = 1 << 0,
	MIME_NOTE_NO_HEADER = 1 << 1,
	MIME_NOTE_NO_SEPARATOR = 1 << 2,
	MIME_NOTE_DEPTH = 1 << 3,
	MIME_NOTE_PARTS = 1 << 4,
	MIME_NOTE_HEADERS = 1 << 5,
	MIME_NOTE_HEADER_CUT = 1 << 6,
	MIME_NOTE_TEXT_CUT = 1 << 7,
	MIME_NOTE_ATT_CUT = 1 << 8,
	MIME_NOTE_NO_BOUNDARY = 1 << 9,
	MIME_NOTE_MEMORY = 1 << 10,
};

static const char *const mime_note_text[] = {
	"empty message",
	"no header fields: the whole message is shown as text",
	"header not ended by an empty line: the body starts at the first line that is no field",
	"multipart nesting deeper than the limit: deeper parts skipped",
	"more parts than the limit: the rest skipped",
	"more header fields than the limit: the rest ignored",
	"a header field longer than the limit was cut",
	"body text longer than the limit was cut",
	"an attachment larger than the limit was cut",
	"a multipart without a usable boundary is shown as text",
	"memory limit reached: the result is incomplete",
};

struct mime_slice {
	const char *s; /* NULL if absent */
	size_t n;
};

/* address fields that may come more than once */
struct mime_multi {
	struct mime_slice f[MIME_ADDR_FIELDS];
	size_t n;
};

/* the fields we read from one header block (first of each) */
struct mime_fields {
	struct mime_slice type, disp, cte, id;
	struct mime_slice subject, from, date, msgid, in_reply_to, references;
	struct mime_multi to, cc, reply_to, delivered_to, x_original_to;
	/* automatic mail and redirection */
	struct mime_slice auto_submitted, precedence, list_id, list_unsubscribe, x_autoreply,
		x_autorespond, x_ars, return_path, resent_from, resent_to, resent_date;
};

/* a text/plain or text/html leaf, decoded only if selected */
struct mime_leaf {
	struct mime_leaf *next;
	const char *body;
	size_t len;
	enum mime_cte cte;
	const char *charset;
	int html;
	int flowed; /* 1 format=flowed, 2 format=flowed; delsp=yes */
	const int *alt; /* (group, branch) pairs of the enclosing alternatives */
	size_t nalt;
};

struct mime_frame {
	const char *s;
	size_t len;
	size_t depth;
	int digest; /* parent is multipart/digest: parts default to message/rfc822 */
	const int *alt;
	size_t nalt;
};

/* an attached mail waiting to be parsed, after the mail that holds it */
struct mime_nest {
	struct mime_nest *next;
	struct mime_mail *owner;
	size_t att;   /* index in owner->att (the array may move until owner is done) */
	const char *raw;
	size_t len;
	size_t depth; /* depth of its top entity */
	struct mime_mail mail;
};

/* what one mime_parse shares between the mail and its attached mails */
struct mime_tree {
	struct pool *p;
	struct mime_limits lim;
	size_t leaves, entities; /* the part limits hold for the whole tree */
	struct mime_nest *head, **tail;
};

struct mime_ctx {
	struct pool *p;
	struct mime_limits lim;
	struct mime_tree *tree;
	struct mime_mail *out;
	size_t depth0; /* depth of the top entity: 0, or more for an attached mail */
	unsigned notes;
	size_t undecodable;
	int groups; /* multipart/alternative seen */
	int stop;
	struct mime_leaf *lhead, **ltail;
	struct mime_frame *stack;
	size_t nstack, capstack, capatt;
};

void mime_limits_default(struct mime_limits *lim)
{
	lim->max_depth = 20;
	lim->max_parts = 500;
	lim->max_headers = 2000;
	lim->max_text_bytes = 4u << 20;
	lim->max_attachment_bytes = 64u << 20;
	lim->max_header_bytes = 64u << 10;
}

static void *mime_alloc(struct mime_ctx *c, size_t n)
{
	void *r = pool_alloc(c->p, n);

	if (r == NULL)
		c->notes |= MIME_NOTE_MEMORY;
	return r;
}

/* grow an array in the pool: the old copy is left to the pool */
static void *mime_grow(struct mime_ctx *c, void *arr, size_t n, size_t *cap, size_t elem)
{
	size_t ncap = *cap < 8 ? 8 : *cap * 2;
	void *na;

	if (n < *cap)
		return arr;
	if ((na = mime_alloc(c, ncap * elem)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(na, arr, n * elem);
	*cap = ncap;
	return na;
}

/* ---- header fields ---- */

static void mime_take(struct mime_slice *sl, const struct mime_header_field *f)
{
	if (sl->s == NULL) {
		sl->s = f->value;
		sl->n = f->value_len;
	}
}

static void mime_take_multi(struct mime_multi *mu, const struct mime_header_field *f)
{
	if (mu->n < MIME_ADDR_FIELDS) {
		mu->f[mu->n].s = f->value;
		mu->f[mu->n++].n = f->value_len;
	}
}

static void mime_field(struct mime_fields *mf, const struct mime_header_field *f, int top)
{
	static const struct {
		const char *name;
		size_t off;
		int top;
	} map[] = {
		{ "content-type", offsetof(struct mime_fields, type), 0 },
		{ "content-disposition", offsetof(struct mime_fields, disp), 0 },
		{ "content-transfer-encoding", offsetof(struct mime_fields, cte), 0 },
		{ "content-id", offsetof(struct mime_fields, id), 0 },
		{ "subject", offsetof(struct mime_fields, subject), 1 },
		{ "from", offsetof(struct mime_fields, from), 1 },
		{ "date", offsetof(struct mime_fields, date), 1 },
		{ "message-id", offsetof(struct mime_fields, msgid), 1 },
		{ "in-reply-to", offsetof(struct mime_fields, in_reply_to), 1 },
		{ "references", offsetof(struct mime_fields, references), 1 },
		{ "auto-submitted", offsetof(struct mime_fields, auto_submitted), 1 },
		{ "precedence", offsetof(struct mime_fields, precedence), 1 },
		{ "list-id", offsetof(struct mime_fields, list_id), 1 },
		{ "list-unsubscribe", offsetof(struct mime_fields, list_unsubscribe), 1 },
		{ "x-autoreply", offsetof(struct mime_fields, x_autoreply), 1 },
		{ "x-autorespond", offsetof(struct mime_fields, x_autorespond), 1 },
		{ "x-auto-response-suppress", offsetof(struct mime_fields, x_ars), 1 },
		{ "return-path", offsetof(struct mime_fields, return_path), 1 },
		{ "resent-from", offsetof(struct mime_fields, resent_from), 1 },
		{ "resent-to", offsetof(struct mime_fields, resent_to), 1 },
		{ "resent-date", offsetof(struct mime_fields, resent_date), 1 },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if ((top || !map[i].top) && mime_header_is(f, map[i].name)) {
			mime_take((struct mime_slice *)(void *)((char *)mf + map[i].off), f);
			return;
		}
	if (!top)
		return;
	if (mime_header_is(f, "to"))
		mime_take_multi(&mf->to, f);
	else if (mime_header_is(f, "cc"))
		mime_take_multi(&mf->cc, f);
	else if (mime_header_is(f, "reply-to"))
		mime_take_multi(&mf->reply_to, f);
	else if (mime_header_is(f, "delivered-to"))
		mime_take_multi(&mf->delivered_to, f);
	else if (mime_header_is(f, "x-original-to"))
		mime_take_multi(&mf->x_original_to, f);
}

/* read a header block; returns the body offset, *nfields the fields seen */
static size_t mime_read_fields(struct mime_ctx *c, const char *s, size_t len,
			       struct mime_fields *mf, int top, size_t *nfields,
			       enum mime_header_end *end)
{
	struct mime_header_iter it;
	struct mime_header_field f;
	size_t n = 0;

	memset(mf, 0, sizeof(*mf));
	mime_header_start(&it, s, len);
	while (mime_header_next(&it, &f)) {
		/* past the limit the fields are still skipped to find the body */
		if (++n > c->lim.max_headers) {
			c->notes |= MIME_NOTE_HEADERS;
			continue;
		}
		mime_field(mf, &f, top);
	}
	*nfields = n;
	*end = it.end;
	return it.pos;
}

/* a field's value unfolded, UTF-8, bounded; NULL if absent */
static char *mime_val(struct mime_ctx *c, const struct mime_slice *sl, size_t *n)
{
	int cut = 0;
	char *v;

	if (sl->s == NULL) {
		*n = 0;
		return NULL;
	}
	v = mime_header_value(c->p, sl->s, sl->n, c->lim.max_header_bytes, &cut, &c->undecodable);
	if (cut)
		c->notes |= MIME_NOTE_HEADER_CUT;
	*n = strlen(v);
	return v;
}

static char *mime_decoded(struct mime_ctx *c, const struct mime_slice *sl)
{
	size_t n;
	char *v = mime_val(c, sl, &n);

	return v != NULL ? mime_header_decode(c->p, v, n, &c->undecodable) : NULL;
}

/* ---- addresses ---- */

/* the routing recipients: addr-specs, lowercased, each once */
struct mime_rcpt {
	const char **v;
	size_t n, cap;
};

struct mime_addrs {
	struct mime_header_sb sb;
	const char *first_name, *first_addr;
	size_t count;
	struct mime_rcpt *rc; /* NULL: not collected */
};

/* Linear search for duplicates: at most MIME_RCPT_MAX entries, so at
 * worst half a million short compares for a hostile To. */
static void mime_rcpt_add(struct mime_ctx *c, struct mime_rcpt *r, const char *a, size_t n)
{
	const char **nv;
	char *l;

	if (n == 0 || r->n >= MIME_RCPT_MAX || memchr(a, '@', n) == NULL)
		return;
	if ((l = pool_strndup(c->p, a, n)) == NULL) {
		c->notes |= MIME_NOTE_MEMORY;
		return;
	}
	if (strpbrk(l, " \t<>,\"") != NULL)
		return; /* what the simple splitter could not make an addr-spec */
	for (size_t i = 0; i < n; i++)
		if (l[i] >= 'A' && l[i] <= 'Z')
			l[i] = (char)(l[i] - 'A' + 'a');
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i], l) == 0)
			return;
	if ((nv = mime_grow(c, r->v, r->n, &r->cap, sizeof(*nv))) == NULL)
		return;
	r->v = nv;
	r->v[r->n++] = l;
}

static void mime_addr_trim(const char **s, size_t *n)
{
	while (*n > 0 && (**s == ' ' || **s == '\t'))
		(*s)++, (*n)--;
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static void mime_addr_add(struct mime_ctx *c, struct mime_addrs *o, const char *name, size_t nn,
			  const char *addr, size_t an)
{
	char *dn = nn > 0 ? mime_header_decode(c->p, name, nn, &c->undecodable) : NULL;
	const char *d = dn != NULL ? dn : "";
	size_t dl = strlen(d);

	mime_addr_trim(&d, &dl);
	mime_addr_trim(&addr, &an);
	if (dl == 0 && an == 0)
		return;
	if (o->count++ > 0)
		mime_header_sb_put(&o->sb, ", ", 2);
	if (dl > 0 && (dl != an || memcmp(d, addr, an) != 0)) {
		mime_header_sb_put(&o->sb, d, dl);
		if (an > 0) {
			mime_header_sb_put(&o->sb, " <", 2);
			mime_header_sb_put(&o->sb, addr, an);
			mime_header_sb_putc(&o->sb, '>');
		}
	} else {
		mime_header_sb_put(&o->sb, addr, an);
	}
	if (o->first_addr == NULL) {
		o->first_name = pool_strndup(c->p, d, dl);
		o->first_addr = pool_strndup(c->p, addr, an);
	}
	if (o->rc != NULL)
		mime_rcpt_add(c, o->rc, addr, an);
}

/* libetpan's comment parser recurses: count the worst nesting first.
 * Every '(' counts, a ')' after a backslash does not: never less than
 * what libetpan sees. */
static int mime_comments_shallow(const char *v, size_t n)
{
	int d = 0, maxd = 0;

	for (size_t i = 0; i < n; i++) {
		if (v[i] == '(' && ++d > maxd)
			maxd = d;
		else if (v[i] == ')' && d > 0 && (i == 0 || v[i - 1] != '\\'))
			d--;
	}
	return maxd <= MIME_COMMENT_DEPTH_MAX;
}

/* an addr-spec as libetpan returns it, less comments, blanks and an
 * obsolete route ("@relay:"); NULL if it still is no plain address */
static char *mime_addr_spec(struct mime_ctx *c, const char *s)
{
	char *r = pool_strdup(c->p, s != NULL ? s : ""), *route;
	size_t o = 0;
	int depth = 0;

	if (r == NULL)
		return NULL;
	for (size_t i = 0; r[i] != '\0'; i++) {
		if (r[i] == '(' || (r[i] == ')' && depth > 0)) {
			depth += r[i] == '(' ? 1 : -1;
			continue;
		}
		if (depth == 0 && r[i] != ' ' && r[i] != '\t')
			r[o++] = r[i];
	}
	r[o] = '\0';
	if (r[0] == '@' && (route = strchr(r, ':')) != NULL)
		r = route + 1;
	return strpbrk(r, "<>\"") == NULL || r[0] == '"' ? r : NULL;
}

/* libetpan keeps the quotes of "=?...?=" (it reads the encoded word
 * first): inside an encoded name they are no content */
static char *mime_addr_name(struct mime_ctx *c, const char *s)
{
	char *r;
	size_t o = 0;

	if (s == NULL || strstr(s, "=?") == NULL || (r = pool_strdup(c->p, s)) == NULL)
		return (char *)s;
	for (size_t i = 0; r[i] != '\0'; i++)
		if (r[i] != '"')
			r[o++] = r[i];
	r[o] = '\0';
	return r;
}

/* libetpan reads "Name <a@b" as one odd addr-spec: do not believe it */
static int mime_addr_plausible(struct mime_ctx *c, const struct mailimf_address_list *al)
{
	for (clistiter *it = clist_begin(al->ad_list); it != NULL; it = clist_next(it)) {
		const struct mailimf_address *a = clist_content(it);

		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX &&
		    mime_addr_spec(c, a->ad_data.ad_mailbox->mb_addr_spec) == NULL)
			return 0;
	}
	return 1;
}

static void mime_addr_mailbox(struct mime_ctx *c, struct mime_addrs *o,
			      const struct mailimf_mailbox *mb)
{
	const char *dn = mime_addr_name(c, mb->mb_display_name);
	const char *as = mime_addr_spec(c, mb->mb_addr_spec);

	if (as == NULL)
		as = "";
	mime_addr_add(c, o, dn, dn != NULL ? strlen(dn) : 0, as, strlen(as));
}

static int mime_addr_etpan(struct mime_ctx *c, const char *v, size_t n, struct mime_addrs *o)
{
	struct mailimf_address_list *al = NULL;
	size_t idx = 0;

	if (!mime_comments_shallow(v, n) ||
	    mailimf_address_list_parse(v, n, &idx, &al) != MAILIMF_NO_ERROR)
		return -1;
	while (idx < n && (v[idx] == ' ' || v[idx] == '\t' || v[idx] == ','))
		idx++;
	if (idx < n || !mime_addr_plausible(c, al)) {
		/* something libetpan could not read: the simple splitter gets all */
		mailimf_address_list_free(al);
		return -1;
	}
	for (clistiter *it = clist_begin(al->ad_list); it != NULL; it = clist_next(it)) {
		struct mailimf_address *a = clist_content(it);

		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX) {
			mime_addr_mailbox(c, o, a->ad_data.ad_mailbox);
		} else if (a->ad_data.ad_group->grp_mb_list != NULL) {
			clist *l = a->ad_data.ad_group->grp_mb_list->mb_list;

			for (clistiter *m = clist_begin(l); m != NULL; m = clist_next(m))
				mime_addr_mailbox(c, o, clist_content(m));
		}
	}
	mailimf_address_list_free(al);
	return 0;
}

/* one item of the simple splitter: "Name <addr>", "addr (Name)", "addr",
 * with a group's "Name:" before it dropped */
static void mime_addr_item(struct mime_ctx *c, struct mime_addrs *o, const char *s, size_t n)
{
	const char *lt, *gt, *name = NULL, *colon;
	size_t nn = 0, an;
	char *raw, *addr;

	mime_addr_trim(&s, &n);
	if ((lt = memchr(s, '<', n)) != NULL) {
		gt = memchr(lt, '>', n - (size_t)(lt - s));
		an = gt != NULL ? (size_t)(gt - lt - 1) : n - (size_t)(lt + 1 - s);
		raw = pool_strndup(c->p, lt + 1, an);
		name = s;
		nn = (size_t)(lt - s);
	} else if ((lt = memchr(s, '(', n)) != NULL) {
		gt = memchr(lt, ')', n - (size_t)(lt - s));
		name = lt + 1;
		nn = gt != NULL ? (size_t)(gt - name) : n - (size_t)(name - s);
		raw = pool_strndup(c->p, s, (size_t)(lt - s));
	} else {
		raw = pool_strndup(c->p, s, n);
	}
	if (raw == NULL)
		return;
	if ((colon = name != NULL ? memchr(name, ':', nn) : NULL) != NULL && memchr(name, '"', nn) == NULL) {
		nn -= (size_t)(colon + 1 - name);
		name = colon + 1;
	}
	mime_addr_trim(&name, &nn);
	if (nn >= 2 && name[0] == '"' && name[nn - 1] == '"')
		name++, nn -= 2;
	if ((addr = mime_addr_spec(c, raw)) == NULL)
		addr = raw;
	if (strchr(addr, ':') != NULL && strchr(addr, '@') == NULL)
		return; /* "group:" alone */
	mime_addr_add(c, o, name, nn, addr, strlen(addr));
}

static void mime_addr_simple(struct mime_ctx *c, const char *v, size_t n, struct mime_addrs *o)
{
	size_t start = 0;
	int q = 0, ang = 0;

	for (size_t i = 0; i < n; i++) {
		if (q) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			else if (v[i] == '"')
				q = 0;
			continue;
		}
		if (v[i] == '"')
			q = 1;
		else if (v[i] == '<')
			ang = 1;
		else if (v[i] == '>')
			ang = 0;
		else if (v[i] == ',' && !ang) {
			mime_addr_item(c, o, v + start, i - start);
			start = i + 1;
		}
	}
	mime_addr_item(c, o, v + start, n - start);
}

/* one field's addresses appended to o */
static void mime_addr_field(struct mime_ctx *c, const struct mime_slice *sl, struct mime_addrs *o)
{
	struct mime_addrs save = *o;
	size_t n, nrc = o->rc != NULL ? o->rc->n : 0;
	char *v = mime_val(c, sl, &n);

	if (v == NULL || n == 0)
		return;
	if (mime_addr_etpan(c, v, n, o) < 0) {
		/* start this field again with what came before */
		*o = save;
		if (o->rc != NULL)
			o->rc->n = nrc;
		if (o->sb.s != NULL)
			o->sb.s[o->sb.len] = '\0';
		mime_addr_simple(c, v, n, o);
	}
}

/* "Name <a@b>, c@d" from every field given; *first_* get the first
 * mailbox (may be NULL) */
static const char *mime_addresses(struct mime_ctx *c, const struct mime_slice *sl, size_t nsl,
				  const char **first_name, const char **first_addr,
				  struct mime_rcpt *rc)
{
	struct mime_addrs o;

	memset(&o, 0, sizeof(o));
	o.rc = rc;
	mime_header_sb_init(&o.sb, c->p);
	for (size_t i = 0; i < nsl; i++)
		mime_addr_field(c, &sl[i], &o);
	if (first_name != NULL && o.first_addr != NULL) {
		*first_name = o.first_name != NULL ? o.first_name : "";
		*first_addr = o.first_addr;
	}
	return mime_header_sb_str(&o.sb);
}

/* ---- the mail's own fields ---- */

/* the first addr-spec of the fields given; NULL if none */
static const char *mime_first_addr(struct mime_ctx *c, const struct mime_slice *sl, size_t nsl,
				   struct mime_rcpt *rc)
{
	const char *name = NULL, *addr = NULL;

	mime_addresses(c, sl, nsl, &name, &addr, rc);
	return addr != NULL && *addr != '\0' ? addr : NULL;
}

static void mime_recipients(struct mime_ctx *c, const struct mime_fields *mf)
{
	struct mime_mail *m = c->out;
	struct mime_rcpt rc = { NULL, 0, 0 };

	m->to = mime_addresses(c, mf->to.f, mf->to.n, NULL, NULL, &rc);
	m->cc = mime_addresses(c, mf->cc.f, mf->cc.n, NULL, NULL, &rc);
	m->delivered_to = mime_first_addr(c, mf->delivered_to.f, mf->delivered_to.n, &rc);
	m->x_original_to = mime_first_addr(c, mf->x_original_to.f, mf->x_original_to.n, &rc);
	if (rc.n > 0) {
		m->rcpt = rc.v;
		m->nrcpt = rc.n;
	}
}

/* the newest Resent block: who redirected the mail, to whom, when */
static void mime_resent(struct mime_ctx *c, const struct mime_fields *mf)
{
	struct mime_mail *m = c->out;
	const char *a;
	char *v;
	size_t n;

	if (mf->resent_from.s != NULL)
		m->resent_from = (a = mime_first_addr(c, &mf->resent_from, 1, NULL)) != NULL ? a : "";
	if (mf->resent_to.s != NULL)
		m->resent_to = mime_addresses(c, &mf->resent_to, 1, NULL, NULL, NULL);
	if ((v = mime_val(c, &mf->resent_date, &n)) != NULL &&
	    mime_header_date(v, n, &m->resent_date_us) < 0)
		m->resent_date_us = 0;
}

static void mime_mail_fields(struct mime_ctx *c, const struct mime_fields *mf)
{
	struct mime_mail *m = c->out;
	char *v;
	size_t n;

	if ((v = mime_decoded(c, &mf->subject)) != NULL)
		m->subject = v;
	m->reply_to = mime_addresses(c, mf->reply_to.f, mf->reply_to.n, NULL, NULL, NULL);
	mime_addresses(c, &mf->from, 1, &m->from_name, &m->from_addr, NULL);
	mime_recipients(c, mf);
	mime_resent(c, mf);
	if ((v = mime_val(c, &mf->date, &n)) != NULL) {
		m->date_raw = v;
		if (mime_header_date(v, n, &m->date_us) < 0)
			m->date_us = 0;
	}
	if ((v = mime_val(c, &mf->msgid, &n)) != NULL)
		m->message_id = mime_header_msgids(c->p, v, n, 1);
	if ((v = mime_val(c, &mf->in_reply_to, &n)) != NULL)
		m->in_reply_to = mime_header_msgids(c->p, v, n, 1);
	if ((v = mime_val(c, &mf->references, &n)) != NULL)
		m->references = mime_header_msgids(c->p, v, n, MIME_REFERENCES_MAX);
}

/* ---- automatic mail ---- */

/* the value's first token, lowercased; NULL if absent or empty */
static char *mime_token_of(struct mime_ctx *c, const struct mime_slice *sl)
{
	size_t n;
	char *v = mime_val(c, sl, &n);

	return v != NULL ? mime_header_token(c->p, v, n) : NULL;
}

/* a sign given as "yes": present, not "no" or "false" */
static int mime_yes(struct mime_ctx *c, const struct mime_slice *sl)
{
	char *t = mime_token_of(c, sl);

	return t != NULL && strcmp(t, "no") != 0 && strcmp(t, "false") != 0;
}

/* X-Auto-Response-Suppress (Exchange): a comma list; All, OOF and
 * AutoReply ask for no out-of-office or automatic reply */
static int mime_suppress(const char *v)
{
	static const char *const words[] = { "all", "oof", "autoreply" };

	while (v != NULL && *v != '\0') {
		size_t k;

		v += strspn(v, " \t,");
		k = strcspn(v, " \t,");
		for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (k == strlen(words[i]) && strncasecmp(v, words[i], k) == 0)
				return 1;
		v += k;
	}
	return 0;
}

/* text right after a vacation keyword that ends it: a blank, a colon or a
 * closing bracket (ASCII or full-width), or the end */
static int mime_vacation_end(const char *r)
{
	static const char *const ends[] = { "：", "】", "」", "）", "］", "　", "』" };

	if (*r == '\0' || *r == ' ' || *r == ':' || *r == ']' || *r == ')' || *r == '\t')
		return 1;
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		if (strncmp(r, ends[i], strlen(ends[i])) == 0)
			return 1;
	return 0;
}

/* A vacation subject: after blanks and one opening bracket, a keyword
 * that ends there ("Automatic reply: ...", "【自動応答】", "不在: ...").
 * Only at the start, so "自動返信メールが届きません" from a citizen is no
 * automatic mail; 自動応答/自動返信 may be followed by メール, 不在 by
 * 通知, のお知らせ or のご連絡. */
static int mime_vacation_subject(const char *s)
{
	static const struct {
		const char *kw;
		const char *tails[4];
	} kws[] = {
		{ "automatic reply", { NULL } },
		{ "auto reply", { NULL } },
		{ "auto-reply", { NULL } },
		{ "autoreply", { NULL } },
		{ "out of office", { NULL } },
		{ "自動応答", { "メール", NULL } },
		{ "自動返信", { "メール", NULL } },
		{ "不在", { "通知", "のお知らせ", "のご連絡", NULL } },
	};
	static const char *const opens[] = { "[", "(", "【", "「", "（", "［", "『" };

	for (;;) {
		if (*s == ' ' || *s == '\t')
			s++;
		else if (strncmp(s, "　", 3) == 0)
			s += 3;
		else
			break;
	}
	for (size_t i = 0; i < sizeof(opens) / sizeof(opens[0]); i++)
		if (strncmp(s, opens[i], strlen(opens[i])) == 0) {
			s += strlen(opens[i]);
			break;
		}
	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
		const char *r;

		if (strncasecmp(s, kws[i].kw, strlen(kws[i].kw)) != 0)
			continue;
		r = s + strlen(kws[i].kw);
		if (mime_vacation_end(r))
			return 1;
		for (size_t k = 0; kws[i].tails[k] != NULL; k++)
			if (strncmp(r, kws[i].tails[k], strlen(kws[i].tails[k])) == 0 &&
			    mime_vacation_end(r + strlen(kws[i].tails[k])))
				return 1;
	}
	return 0;
}

/* RFC 3464 (multipart/report; report-type=delivery-status), or a classic
 * bounce: from MAILER-DAEMON or postmaster with the null Return-Path */
static int mime_is_dsn(struct mime_ctx *c, const struct mime_fields *mf)
{
	const char *from = c->out->from_addr, *at = strchr(from, '@');
	size_t tn, ln = at != NULL ? (size_t)(at - from) : strlen(from), rn, k = 0;
	char *tv = mime_val(c, &mf->type, &tn), *t, *rt, *rp;

	if (tv != NULL && (t = mime_header_token(c->p, tv, tn)) != NULL &&
	    strcmp(t, "multipart/report") == 0 &&
	    (rt = mime_header_param_raw(c->p, tv, tn, "report-type", NULL)) != NULL &&
	    (strcasecmp(rt, "delivery-status") == 0 || strcasecmp(rt, "global-delivery-status") == 0))
		return 1;
	if (!((ln == 13 && strncasecmp(from, "mailer-daemon", 13) == 0) ||
	      (ln == 10 && strncasecmp(from, "postmaster", 10) == 0)))
		return 0;
	if ((rp = mime_val(c, &mf->return_path, &rn)) == NULL)
		return 0;
	for (size_t i = 0; i < rn; i++)
		if (rp[i] != ' ' && rp[i] != '\t')
			rp[k++] = rp[i];
	return k == 2 && rp[0] == '<' && rp[1] == '>';
}

static enum mime_auto mime_auto_kind(struct mime_ctx *c, const struct mime_fields *mf)
{
	char *prec = mime_token_of(c, &mf->precedence);

	if (mime_is_dsn(c, mf))
		return MIME_AUTO_DSN;
	if (mime_yes(c, &mf->auto_submitted) || mime_yes(c, &mf->x_autoreply) ||
	    mime_yes(c, &mf->x_autorespond) || (prec != NULL && strcmp(prec, "auto_reply") == 0) ||
	    mime_vacation_subject(c->out->subject))
		return MIME_AUTO_REPLY;
	if ((prec != NULL && strcmp(prec, "list") == 0) || mf->list_id.s != NULL ||
	    mf->list_unsubscribe.s != NULL)
		return MIME_AUTO_LIST;
	if (prec != NULL && (strcmp(prec, "bulk") == 0 || strcmp(prec, "junk") == 0))
		return MIME_AUTO_BULK;
	return MIME_AUTO_NONE;
}

/* after mime_mail_fields: the signs of automatic mail */
static void mime_auto(struct mime_ctx *c, const struct mime_fields *mf)
{
	struct mime_mail *m = c->out;
	size_t n;

	m->auto_submitted = mime_val(c, &mf->auto_submitted, &n);
	m->precedence = mime_val(c, &mf->precedence, &n);
	m->list_id = mime_val(c, &mf->list_id, &n);
	m->x_auto_response_suppress = mime_val(c, &mf->x_ars, &n);
	m->suppress_autoreply = mime_suppress(m->x_auto_response_suppress);
	m->auto_kind = mime_auto_kind(c, mf);
}

/* ---- transfer decoding ---- */

static enum mime_cte mime_cte_of(struct mime_ctx *c, const struct mime_fields *mf)
{
	size_t n;
	char *v = mime_val(c, &mf->cte, &n), *t;

	if (v == NULL || (t = mime_header_token(c->p, v, n)) == NULL)
		return MIME_CTE_IDENTITY;
	if (strcmp(t, "base64") == 0)
		return MIME_CTE_BASE64;
	if (strcmp(t, "quoted-printable") == 0)
		return MIME_CTE_QP;
	return MIME_CTE_IDENTITY; /* 7bit, 8bit, binary, and the unknown */
}

/* at most max decoded bytes; identity data points into raw */
static const unsigned char *mime_transfer(struct mime_ctx *c, const char *s, size_t n,
					  enum mime_cte cte, size_t max, size_t *outlen, int *cut)
{
	size_t cap;
	unsigned char *d;

	*cut = 0;
	if (cte == MIME_CTE_IDENTITY) {
		*cut = n > max;
		*outlen = n > max ? max : n;
		return (const unsigned char *)s;
	}
	cap = cte == MIME_CTE_BASE64 ? n / 4 * 3 + 3 : n;
	if (cap > max)
		cap = max;
	if ((d = mime_alloc(c, cap + 1)) == NULL) {
		*outlen = 0;
		return (const unsigned char *)"";
	}
	*outlen = cte == MIME_CTE_BASE64 ? mime_header_base64(s, n, d, cap, cut)
					 : mime_header_qp(s, n, d, cap, 0, cut);
	d[*outlen] = '\0';
	return d;
}

/* ---- leaves ---- */

static void mime_add_leaf(struct mime_ctx *c, const struct mime_frame *fr, const char *body,
			  size_t len, enum mime_cte cte, const char *charset, int html, int flowed)
{
	struct mime_leaf *l = mime_alloc(c, sizeof(*l));

	if (l == NULL)
		return;
	l->next = NULL;
	l->body = body;
	l->len = len;
	l->cte = cte;
	l->charset = charset;
	l->html = html;
	l->flowed = flowed;
	l->alt = fr->alt;
	l->nalt = fr->nalt;
	*c->ltail = l;
	c->ltail = &l->next;
}

/* a file name from a subject: "/", "\" and controls become "_" */
static const char *mime_eml_name(struct mime_ctx *c, const unsigned char *d, size_t n)
{
	struct mime_header_iter it;
	struct mime_header_field f;
	char *subj = NULL, *r;
	size_t k;

	mime_header_start(&it, (const char *)d, n);
	while (subj == NULL && mime_header_next(&it, &f))
		if (mime_header_is(&f, "subject")) {
			struct mime_slice sl = { f.value, f.value_len };

			subj = mime_decoded(c, &sl);
		}
	if (subj == NULL || *subj == '\0')
		return "message.eml";
	k = strlen(subj);
	if (k > MIME_NAME_MAX) {
		k = MIME_NAME_MAX;
		while (k > 0 && ((unsigned char)subj[k] & 0xC0) == 0x80)
			k--;
	}
	for (size_t i = 0; i < k; i++)
		if (subj[i] == '/' || subj[i] == '\\' || (unsigned char)subj[i] < 0x20)
			subj[i] = '_';
	r = pool_printf(c->p, "%.*s.eml", (int)k, subj);
	return r != NULL ? r : "message.eml";
}

static struct mime_attachment *mime_new_att(struct mime_ctx *c)
{
	struct mime_mail *m = c->out;
	struct mime_attachment *a;

	a = mime_grow(c, m->att, m->natt, &c->capatt, sizeof(*a));
	if (a == NULL)
		return NULL;
	m->att = a;
	a = &m->att[m->natt++];
	memset(a, 0, sizeof(*a));
	return a;
}

/* an attached mail: parsed once the mail holding it is done (so the C
 * stack never grows with nesting), if its depth is within the limit */
static void mime_nest_add(struct mime_ctx *c, const unsigned char *d, size_t n, size_t depth)
{
	struct mime_nest *q;

	if (depth >= c->lim.max_depth) {
		c->notes |= MIME_NOTE_DEPTH;
		return;
	}
	if ((q = mime_alloc(c, sizeof(*q))) == NULL)
		return;
	memset(q, 0, sizeof(*q));
	q->owner = c->out;
	q->att = c->out->natt - 1;
	q->raw = (const char *)d;
	q->len = n;
	q->depth = depth + 1;
	*c->tree->tail = q;
	c->tree->tail = &q->next;
}

static int mime_is_message(const char *type)
{
	return strcmp(type, "message/rfc822") == 0 || strcmp(type, "message/global") == 0;
}

static void mime_attachment(struct mime_ctx *c, const struct mime_fields *mf, const char *type,
			    const char *body, size_t len, const char *filename, int is_inline,
			    size_t depth)
{
	struct mime_attachment *a = mime_new_att(c);
	size_t n;
	char *id;
	int cut;

	if (a == NULL)
		return;
	a->content_type = type;
	a->is_inline = is_inline;
	a->data = mime_transfer(c, body, len, mime_cte_of(c, mf), c->lim.max_attachment_bytes,
				&a->size, &cut);
	if (cut)
		c->notes |= MIME_NOTE_ATT_CUT;
	if ((id = mime_val(c, &mf->id, &n)) != NULL)
		a->content_id = mime_header_msgids(c->p, id, n, 1);
	if (filename == NULL && mime_is_message(type))
		filename = mime_eml_name(c, a->data, a->size);
	a->filename = filename != NULL ? filename : "";
	if (mime_is_message(type))
		mime_nest_add(c, a->data, a->size, depth);
}

/* format=flowed (RFC 3676) and its delsp */
static int mime_flowed_of(struct mime_ctx *c, const char *tv, size_t tn)
{
	char *f = tv != NULL ? mime_header_param_raw(c->p, tv, tn, "format", NULL) : NULL;
	char *d;

	if (f == NULL || strcasecmp(f, "flowed") != 0)
		return 0;
	d = mime_header_param_raw(c->p, tv, tn, "delsp", NULL);
	return d != NULL && strcasecmp(d, "yes") == 0 ? 2 : 1;
}

static void mime_leaf(struct mime_ctx *c, const struct mime_fields *mf, const char *type,
		      const char *body, size_t len, const struct mime_frame *fr)
{
	size_t tn, dn;
	char *tv, *dv, *disp, *fname;
	int att;

	if (++c->tree->leaves > c->lim.max_parts) {
		c->notes |= MIME_NOTE_PARTS;
		c->stop = 1;
		return;
	}
	tv = mime_val(c, &mf->type, &tn);
	dv = mime_val(c, &mf->disp, &dn);
	disp = dv != NULL ? mime_header_token(c->p, dv, dn) : NULL;
	fname = dv != NULL ? mime_header_param(c->p, dv, dn, "filename", NULL, &c->undecodable) : NULL;
	att = disp != NULL && strcmp(disp, "attachment") == 0;
	if (fname == NULL && tv != NULL)
		fname = mime_header_param(c->p, tv, tn, "name", NULL, &c->undecodable);
	if (!att && fname == NULL &&
	    (strcmp(type, "text/plain") == 0 || strcmp(type, "text/html") == 0)) {
		char *cs = tv != NULL ? mime_header_param_raw(c->p, tv, tn, "charset", NULL) : NULL;

		mime_add_leaf(c, fr, body, len, mime_cte_of(c, mf), cs, type[5] == 'h',
			      mime_flowed_of(c, tv, tn));
		return;
	}
	mime_attachment(c, mf, type, body, len, fname, disp != NULL && strcmp(disp, "inline") == 0,
			fr->depth);
}

/* ---- multipart ---- */

/* a delimiter line "--b", "--b--", optional blanks: 1, 2 (close) or 0 */
static int mime_delimiter(const char *line, size_t n, const char *b, size_t bl)
{
	size_t k = 2 + bl;
	int close = 0;

	if (n < k || line[0] != '-' || line[1] != '-' || memcmp(line + 2, b, bl) != 0)
		return 0;
	if (n >= k + 2 && line[k] == '-' && line[k + 1] == '-') {
		close = 1;
		k += 2;
	}
	while (k < n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
		k++;
	return k == n ? 1 + close : 0;
}

static void mime_part_end(struct mime_ctx *c, struct mime_slice **parts, size_t *np, size_t *cap,
			  const char *ps, const char *end)
{
	struct mime_slice *na = mime_grow(c, *parts, *np, cap, sizeof(**parts));

	if (na == NULL)
		return;
	*parts = na;
	/* the line break before a delimiter belongs to the delimiter; at
	 * the end of data without a close delimiter it goes too (as Python's
	 * email package does) */
	if (end > ps && end[-1] == '\n')
		end--;
	if (end > ps && end[-1] == '\r')
		end--;
	(*parts)[*np].s = ps;
	(*parts)[(*np)++].n = (size_t)(end - ps);
}

/* split a multipart body at its delimiters; the preamble and epilogue
 * are dropped; a missing close delimiter ends the last part at the end */
static size_t mime_split(struct mime_ctx *c, const char *s, size_t n, const char *b,
			 struct mime_slice **parts)
{
	size_t bl = strlen(b), pos = 0, np = 0, cap = 0, maxp = c->lim.max_parts + 1;
	const char *ps = NULL;

	*parts = NULL;
	while (pos < n) {
		const char *nl = memchr(s + pos, '\n', n - pos);
		size_t e = nl != NULL ? (size_t)(nl - s) : n;
		int d = s[pos] == '-' ? mime_delimiter(s + pos, e - pos, b, bl) : 0;

		if (d != 0) {
			if (ps != NULL)
				mime_part_end(c, parts, &np, &cap, ps, s + pos);
			ps = d == 2 || np >= maxp ? NULL : s + (nl != NULL ? e + 1 : n);
			if (d == 2 || np >= maxp)
				return np;
		}
		pos = nl != NULL ? e + 1 : n;
	}
	if (ps != NULL)
		mime_part_end(c, parts, &np, &cap, ps, s + n);
	return np;
}

static int mime_push(struct mime_ctx *c, const struct mime_frame *f)
{
	struct mime_frame *ns = mime_grow(c, c->stack, c->nstack, &c->capstack, sizeof(*ns));

	if (ns == NULL)
		return -1;
	c->stack = ns;
	c->stack[c->nstack++] = *f;
	return 0;
}

/* children of one multipart, pushed last first so they pop in order */
static void mime_push_parts(struct mime_ctx *c, const struct mime_frame *fr,
			    const struct mime_slice *parts, size_t np, int alternative, int digest)
{
	int group = alternative ? c->groups++ : -1;

	for (size_t i = np; i-- > 0;) {
		struct mime_frame f = { parts[i].s, parts[i].n, fr->depth + 1, digest, fr->alt, fr->nalt };

		if (alternative) {
			int *alt = mime_alloc(c, (fr->nalt + 1) * 2 * sizeof(int));

			if (alt == NULL)
				return;
			if (fr->nalt > 0)
				memcpy(alt, fr->alt, fr->nalt * 2 * sizeof(int));
			alt[fr->nalt * 2] = group;
			alt[fr->nalt * 2 + 1] = (int)i;
			f.alt = alt;
			f.nalt = fr->nalt + 1;
		}
		if (mime_push(c, &f) < 0)
			return;
	}
}

/* 0 if handled (split, or skipped past the depth limit); -1: show as text */
static int mime_multipart(struct mime_ctx *c, const struct mime_fields *mf, const char *type,
			  const char *body, size_t len, const struct mime_frame *fr)
{
	size_t tn, np;
	char *tv = mime_val(c, &mf->type, &tn), *b;
	struct mime_slice *parts;
	int quoted = 0;

	b = tv != NULL ? mime_header_param_raw(c->p, tv, tn, "boundary", &quoted) : NULL;
	if (b != NULL && !quoted)
		b[strcspn(b, " \t(")] = '\0';
	if (b == NULL || *b == '\0' || strlen(b) > MIME_BOUNDARY_MAX) {
		c->notes |= MIME_NOTE_NO_BOUNDARY;
		return -1;
	}
	if (fr->depth >= c->lim.max_depth) {
		c->notes |= MIME_NOTE_DEPTH;
		return 0;
	}
	if ((np = mime_split(c, body, len, b, &parts)) == 0) {
		c->notes |= MIME_NOTE_NO_BOUNDARY;
		return -1;
	}
	if (np > c->lim.max_parts)
		c->notes |= MIME_NOTE_PARTS;
	mime_push_parts(c, fr, parts, np, strcmp(type, "multipart/alternative") == 0,
			strcmp(type, "multipart/digest") == 0);
	return 0;
}

static void mime_entity(struct mime_ctx *c, const struct mime_fields *mf, const char *body,
			size_t len, const struct mime_frame *fr)
{
	size_t tn;
	char *tv = mime_val(c, &mf->type, &tn);
	const char *type = tv != NULL ? mime_header_token(c->p, tv, tn) : NULL;

	if (type == NULL || strchr(type, '/') == NULL)
		type = fr->digest && mf->type.s == NULL ? "message/rfc822" : "text/plain";
	if (strncmp(type, "multipart/", 10) == 0) {
		if (mime_multipart(c, mf, type, body, len, fr) == 0)
			return;
		type = "text/plain";
	}
	mime_leaf(c, mf, type, body, len, fr);
}

static void mime_walk(struct mime_ctx *c)
{
	size_t ent_max = c->lim.max_parts * 2 + 64;

	while (c->nstack > 0 && !c->stop) {
		struct mime_frame fr = c->stack[--c->nstack];
		struct mime_fields mf;
		enum mime_header_end end;
		size_t nf, off;

		if (++c->tree->entities > ent_max) {
			c->notes |= MIME_NOTE_PARTS;
			return;
		}
		off = mime_read_fields(c, fr.s, fr.len, &mf, 0, &nf, &end);
		mime_entity(c, &mf, fr.s + off, fr.len - off, &fr);
	}
	if (c->nstack > 0)
		c->notes |= MIME_NOTE_PARTS;
}

/* ---- bodies ---- */

/* selected: in the first branch with text of its kind, in every group */
static int mime_selected(const struct mime_leaf *l, const int *first_plain, const int *first_html)
{
	for (size_t i = 0; i < l->nalt; i++) {
		const int *ch = l->html ? first_html : first_plain;

		if (ch[l->alt[2 * i]] != l->alt[2 * i + 1])
			return 0;
	}
	return 1;
}

/* <meta charset=...> or content="...; charset=..." near the start */
static char *mime_html_charset(struct mime_ctx *c, const unsigned char *d, size_t n)
{
	static const char key[] = "charset=";
	size_t lim = n < 4096 ? n : 4096, k;

	for (size_t i = 0; i + sizeof(key) - 1 < lim; i++) {
		if (strncasecmp((const char *)d + i, key, sizeof(key) - 1) != 0)
			continue;
		i += sizeof(key) - 1;
		if (i < lim && (d[i] == '"' || d[i] == '\''))
			i++;
		for (k = i; k < lim && k - i < 40 &&
			    ((d[k] >= 'a' && d[k] <= 'z') || (d[k] >= 'A' && d[k] <= 'Z') ||
			     (d[k] >= '0' && d[k] <= '9') || d[k] == '-' || d[k] == '_' || d[k] == '.' ||
			     d[k] == ':');
		     k++)
			;
		return k > i ? pool_strndup(c->p, (const char *)d + i, k - i) : NULL;
	}
	return NULL;
}

/* CR LF and lone CR to LF, in place */
static size_t mime_lf(char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r') {
			s[o++] = '\n';
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

/* RFC 3676: a line ending in a space flows into the next one of the same
 * quote depth; space-stuffing goes; "-- " (the signature line) stays */
static char *mime_unflow(struct mime_ctx *c, const char *s, size_t n, int delsp, size_t *outlen)
{
	struct mime_header_sb b;
	const char *p = s, *e = s + n;
	size_t prev_q = 0;
	int prev_flowed = 0, first = 1;

	mime_header_sb_init(&b, c->p);
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p)), *le = nl != NULL ? nl : e, *t;
		size_t q = 0, tl;
		int flowed;

		while (p + q < le && p[q] == '>')
			q++;
		t = p + q < le && p[q] == ' ' ? p + q + 1 : p + q;
		tl = (size_t)(le - t);
		flowed = tl > 0 && t[tl - 1] == ' ' && !(tl == 3 && memcmp(t, "-- ", 3) == 0);
		if (!(prev_flowed && q == prev_q)) {
			if (!first)
				mime_header_sb_putc(&b, '\n');
			for (size_t i = 0; i < q; i++)
				mime_header_sb_putc(&b, '>');
			if (q > 0)
				mime_header_sb_putc(&b, ' ');
		}
		mime_header_sb_put(&b, t, flowed && delsp ? tl - 1 : tl);
		first = 0;
		prev_flowed = flowed;
		prev_q = q;
		p = nl != NULL ? nl + 1 : e;
	}
	if (n > 0 && s[n - 1] == '\n')
		mime_header_sb_putc(&b, '\n');
	*outlen = b.len;
	return mime_header_sb_str(&b);
}

/* one selected leaf appended to b, within the text limit */
static void mime_leaf_text(struct mime_ctx *c, const struct mime_leaf *l, struct mime_header_sb *b)
{
	size_t max = c->lim.max_text_bytes, room, dn;
	const unsigned char *d;
	const char *cs = l->charset;
	struct charset_text t;
	int cut;

	room = b->len < max ? max - b->len : 0;
	if (b->len > 0 && b->s[b->len - 1] != '\n' && room > 0)
		room--; /* for the joining "\n" */
	if (room == 0) {
		c->notes |= MIME_NOTE_TEXT_CUT;
		return;
	}
	d = mime_transfer(c, l->body, l->len, l->cte, max > SIZE_MAX / 4 ? max : max * 4, &dn, &cut);
	if (cs == NULL && l->html)
		cs = mime_html_charset(c, d, dn);
	if (charset_to_utf8(c->p, cs, d, dn, room, &t) < 0) {
		c->notes |= MIME_NOTE_MEMORY;
		return;
	}
	c->undecodable += t.undecodable;
	if (cut || t.truncated)
		c->notes |= MIME_NOTE_TEXT_CUT;
	t.len = mime_lf(t.s, t.len);
	if (l->flowed)
		t.s = mime_unflow(c, t.s, t.len, l->flowed == 2, &t.len);
	if (t.len > room) {
		/* unflowing may add "> " to quoted lines: cut at a character */
		t.len = room;
		while (t.len > 0 && ((unsigned char)t.s[t.len] & 0xC0) == 0x80)
			t.len--;
		c->notes |= MIME_NOTE_TEXT_CUT;
	}
	if (b->len > 0 && b->s[b->len - 1] != '\n')
		mime_header_sb_putc(b, '\n');
	mime_header_sb_put(b, t.s, t.len);
}

static void mime_bodies(struct mime_ctx *c)
{
	int *fp = NULL, *fh = NULL, ng = c->groups;
	struct mime_header_sb text, html;
	const struct mime_leaf *l;
	int any_plain = 0, any_html = 0;

	if (ng > 0 && ((fp = mime_alloc(c, (size_t)ng * sizeof(int))) == NULL ||
		       (fh = mime_alloc(c, (size_t)ng * sizeof(int))) == NULL))
		return;
	for (int g = 0; g < ng; g++)
		fp[g] = fh[g] = INT32_MAX;
	for (l = c->lhead; l != NULL; l = l->next)
		for (size_t i = 0; i < l->nalt; i++) {
			int *ch = l->html ? fh : fp, g = l->alt[2 * i], br = l->alt[2 * i + 1];

			if (br < ch[g])
				ch[g] = br;
		}
	mime_header_sb_init(&text, c->p);
	mime_header_sb_init(&html, c->p);
	for (l = c->lhead; l != NULL; l = l->next) {
		if (!mime_selected(l, fp, fh))
			continue;
		mime_leaf_text(c, l, l->html ? &html : &text);
		*(l->html ? &any_html : &any_plain) = 1;
	}
	if (any_html)
		c->out->body_html = mime_header_sb_str(&html);
	if (any_plain)
		c->out->body_text = mime_header_sb_str(&text);
	else if (any_html)
		c->out->body_text = mime_html_to_text(c->p, html.s != NULL ? html.s : "", html.len,
						      c->lim.max_text_bytes);
}

/* attachments referenced as cid: from the HTML are inline */
static void mime_cids(struct mime_ctx *c)
{
	const char *h = c->out->body_html, *p;
	size_t left = MIME_CIDS_MAX;

	if (h == NULL)
		return;
	for (p = h; left > 0 && (p = strcasestr(p, "cid:")) != NULL; left--) {
		size_t k;

		p += 4;
		k = strcspn(p, "\"' >)\t\r\n");
		for (size_t i = 0; i < c->out->natt; i++) {
			const char *id = c->out->att[i].content_id;

			if (id != NULL && strlen(id) == k && strncasecmp(id, p, k) == 0)
				c->out->att[i].is_inline = 1;
		}
		p += k;
	}
}

/* ---- entry ---- */

static void mime_tree_init(struct mime_tree *t, struct pool *p, const struct mime_limits *lim)
{
	struct mime_limits d;

	memset(t, 0, sizeof(*t));
	mime_limits_default(&d);
	t->p = p;
	t->lim = lim != NULL ? *lim : d;
	if (t->lim.max_depth == 0)
		t->lim.max_depth = d.max_depth;
	if (t->lim.max_parts == 0)
		t->lim.max_parts = d.max_parts;
	if (t->lim.max_headers == 0)
		t->lim.max_headers = d.max_headers;
	if (t->lim.max_text_bytes == 0)
		t->lim.max_text_bytes = d.max_text_bytes;
	if (t->lim.max_attachment_bytes == 0)
		t->lim.max_attachment_bytes = d.max_attachment_bytes;
	if (t->lim.max_header_bytes == 0)
		t->lim.max_header_bytes = d.max_header_bytes;
	t->tail = &t->head;
}

static const char *mime_rcpt_none[1];

static void mime_defaults(struct mime_ctx *c, struct mime_tree *t, size_t depth0,
			  struct mime_mail *out)
{
	memset(c, 0, sizeof(*c));
	c->p = t->p;
	c->lim = t->lim;
	c->tree = t;
	c->depth0 = depth0;
	c->out = out;
	c->ltail = &c->lhead;
	memset(out, 0, sizeof(*out));
	out->subject = out->from_name = out->from_addr = "";
	out->to = out->cc = out->reply_to = out->body_text = "";
	out->rcpt = mime_rcpt_none;
	forward_none(&out->forward);
}

static void mime_finish(struct mime_ctx *c)
{
	struct mime_header_sb b;
	struct mime_mail *m = c->out;

	m->undecodable = c->undecodable > 0;
	if (c->notes == 0) {
		m->state = MIME_OK;
		return;
	}
	m->state = c->notes & (MIME_NOTE_EMPTY | MIME_NOTE_NO_HEADER) ? MIME_UNPARSED : MIME_PARTIAL;
	mime_header_sb_init(&b, c->p);
	for (size_t i = 0; i < sizeof(mime_note_text) / sizeof(mime_note_text[0]); i++)
		if (c->notes & (1u << i)) {
			if (b.len > 0)
				mime_header_sb_put(&b, "; ", 2);
			mime_header_sb_put(&b, mime_note_text[i], strlen(mime_note_text[i]));
		}
	m->notes = b.oom ? mime_note_text[10] : mime_header_sb_str(&b);
}

/* the top entity: mail fields, then its body as any entity */
static void mime_top(struct mime_ctx *c, const char *raw, size_t len)
{
	struct mime_frame top = { raw, len, c->depth0, 0, NULL, 0 };
	struct mime_fields mf;
	enum mime_header_end end;
	size_t nf, off;

	/* an mbox "From " line before the header */
	if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
		const char *nl = memchr(raw, '\n', len);

		off = nl != NULL ? (size_t)(nl + 1 - raw) : len;
		raw += off;
		len -= off;
	}
	off = mime_read_fields(c, raw, len, &mf, 1, &nf, &end);
	if (nf == 0) {
		/* nothing we can read as a header: show the bytes as text */
		c->notes |= MIME_NOTE_NO_HEADER;
		memset(&mf, 0, sizeof(mf));
		mime_leaf(c, &mf, "text/plain", raw, len, &top);
		return;
	}
	if (end == MIME_HEADER_NOT_FIELD)
		c->notes |= MIME_NOTE_NO_SEPARATOR;
	mime_mail_fields(c, &mf);
	mime_auto(c, &mf);
	mime_entity(c, &mf, raw + off, len - off, &top);
}

/* one mail (the top one or an attached one); 0, or -1 out of memory */
static int mime_parse_one(struct mime_tree *t, const char *raw, size_t len, size_t depth0,
			  struct mime_mail *out)
{
	struct mime_ctx c;

	mime_defaults(&c, t, depth0, out);
	if (len == 0 || raw == NULL)
		c.notes |= MIME_NOTE_EMPTY;
	else
		mime_top(&c, raw, len);
	mime_walk(&c);
	mime_bodies(&c);
	mime_cids(&c);
	if (out->auto_kind == MIME_AUTO_DSN)
		mime_dsn_read(c.p, out);
	mime_finish(&c);
	return c.notes & MIME_NOTE_MEMORY ? -1 : 0;
}

int mime_parse(struct pool *p, const char *raw, size_t len, const struct mime_limits *lim,
	       struct mime_mail *out)
{
	struct mime_tree t;
	struct mime_nest *q;
	int rc;

	mime_tree_init(&t, p, lim);
	rc = mime_parse_one(&t, raw, len, 0, out);
	/* attached mails in the order found, each after the mail holding it
	 * (whose attachment array is then final); they may add more */
	for (q = t.head; q != NULL; q = q->next) {
		if (mime_parse_one(&t, q->raw, q->len, q->depth, &q->mail) < 0)
			rc = -1;
		q->owner->att[q->att].nested = &q->mail;
	}
	/* forwards read the attached mails' headers: all are parsed now */
	forward_detect(p, out);
	for (q = t.head; q != NULL; q = q->next)
		forward_detect(p, &q->mail);
	return rc;
}
