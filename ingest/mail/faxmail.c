/* faxmail: fax-to-mail; the contract is in faxmail.h.
 *
 * The sender test reads the raw header block only (the first From field,
 * unfolded, its address between <> or as written), so ordinary mail is not
 * parsed.  A fax sender's mail is parsed with lib/mime (the same limits as
 * ticketd's defaults), its attachments taken by type or file name. */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "faxmail.h"
#include "faxpdf.h"
#include "log.h"
#include "mime.h"
#include "pool.h"
#include "settings.h"

#define FAXMAIL_HEADER_MAX (64 * 1024) /* header bytes searched for From and the DID */
#define FAXMAIL_FIELD_MAX 998
#define FAXMAIL_SENDERS_MAX 100

struct faxmail {
	char *senders[FAXMAIL_SENDERS_MAX]; /* lowercase: "a@b.jp" whole address, "b.jp" domain */
	int nsenders;
	char did_header[80];
	regex_t subject_re;
	int has_re;
	int max_pages;
	struct faxpdf_limits pdf;
	struct mime_limits mime;
	struct pool *pool;
};

int faxmail_check_pattern(const char *pattern, char *err, size_t errlen)
{
	regex_t re;
	int rc;

	if (pattern[0] == '\0')
		return 0;
	rc = regcomp(&re, pattern, REG_EXTENDED | REG_ICASE);
	if (rc != 0) {
		char msg[128];
		regerror(rc, &re, msg, sizeof(msg));
		snprintf(err, errlen, "ingest_mail.fax_did_subject: %s", msg);
		return -1;
	}
	rc = re.re_nsub == 1 ? 0 : -1;
	if (rc < 0)
		snprintf(err, errlen, "ingest_mail.fax_did_subject: needs exactly one group ( )"
				      " around the number");
	regfree(&re);
	return rc;
}

static int faxmail_add_senders(struct faxmail *fm, const char *list)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n;
		p += strspn(p, " ,;\t");
		n = strcspn(p, " ,;\t");
		if (n == 0)
			break;
		if (fm->nsenders == FAXMAIL_SENDERS_MAX)
			return 0; /* checked by settings */
		if ((fm->senders[fm->nsenders] = strndup(p, n)) == NULL)
			return -1;
		for (char *c = fm->senders[fm->nsenders]; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		fm->nsenders++;
		p += n;
	}
	return 0;
}

struct faxmail *faxmail_new(const struct settings *s)
{
	struct faxmail *fm;

	if (s->fax_senders == NULL || strspn(s->fax_senders, " ,;\t") == strlen(s->fax_senders))
		return NULL;
	if ((fm = calloc(1, sizeof(*fm))) == NULL || (fm->pool = pool_create(0)) == NULL ||
	    faxmail_add_senders(fm, s->fax_senders) < 0) {
		log_error("fax-to-mail: out of memory; fax senders' mail is stored as mail");
		faxmail_free(fm);
		return NULL;
	}
	snprintf(fm->did_header, sizeof(fm->did_header), "%s", s->fax_did_header);
	if (s->fax_did_subject[0] != '\0' &&
	    regcomp(&fm->subject_re, s->fax_did_subject, REG_EXTENDED | REG_ICASE) == 0)
		fm->has_re = 1;
	fm->max_pages = s->fax_max_pages;
	faxpdf_limits_default(&fm->pdf);
	fm->pdf.max_pages = s->fax_max_pages;
	if (s->fax_pdf_seconds > 0)
		fm->pdf.max_seconds = s->fax_pdf_seconds;
	mime_limits_default(&fm->mime);
	return fm;
}

void faxmail_free(struct faxmail *fm)
{
	if (fm == NULL)
		return;
	for (int i = 0; i < fm->nsenders; i++)
		free(fm->senders[i]);
	if (fm->has_re)
		regfree(&fm->subject_re);
	pool_destroy(fm->pool);
	free(fm);
}

/* the first header field called name, unfolded into out; 1 found, 0 not */
static int faxmail_header(const char *raw, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name), i = 0, o = 0;

	if (len > FAXMAIL_HEADER_MAX)
		len = FAXMAIL_HEADER_MAX;
	while (i < len) {
		if (raw[i] == '\r' || raw[i] == '\n')
			return 0; /* the blank line: end of the header */
		if (i + nl < len && strncasecmp(raw + i, name, nl) == 0 && raw[i + nl] == ':') {
			for (i += nl + 1; i < len; i++) {
				if (raw[i] == '\n' && (i + 1 >= len || (raw[i + 1] != ' ' && raw[i + 1] != '\t')))
					break;
				if (raw[i] != '\r' && raw[i] != '\n' && o + 1 < outlen)
					out[o++] = raw[i];
			}
			out[o] = '\0';
			return 1;
		}
		while (i < len && raw[i] != '\n')
			i++;
		i++;
	}
	return 0;
}

/* the address of a From value: between the last <>, else the trimmed
 * value; lowercased in place */
static char *faxmail_addr(char *v)
{
	char *lt = strrchr(v, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
		*gt = '\0';
		v = lt + 1;
	}
	v += strspn(v, " \t");
	v[strcspn(v, " \t")] = '\0';
	for (char *c = v; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return v;
}

int faxmail_wants(const struct faxmail *fm, const char *raw, size_t len)
{
	char from[FAXMAIL_FIELD_MAX + 1];
	const char *addr, *dom;

	if (fm == NULL || !faxmail_header(raw, len, "From", from, sizeof(from)))
		return 0;
	addr = faxmail_addr(from);
	dom = strrchr(addr, '@');
	if (dom == NULL)
		return 0;
	dom++;
	for (int i = 0; i < fm->nsenders; i++) {
		const char *s = fm->senders[i];
		size_t sl = strlen(s), dl = strlen(dom);
		if (strchr(s, '@') != NULL ? strcmp(s, addr) == 0
		    : strcmp(s, dom) == 0 || (dl > sl && dom[dl - sl - 1] == '.' &&
					      strcmp(dom + dl - sl, s) == 0))
			return 1;
	}
	return 0;
}

/* the digits of s, at most 31, into did */
static void faxmail_digits(const char *s, size_t n, char *did, size_t dlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n && s[i] != '\0' && o + 1 < dlen; i++)
		if (s[i] >= '0' && s[i] <= '9')
			did[o++] = s[i];
	did[o] = '\0';
}

static void faxmail_did(struct faxmail *fm, const char *raw, size_t len, const char *subject,
			struct faxmail_item *it)
{
	char v[FAXMAIL_FIELD_MAX + 1];
	regmatch_t m[2];

	if (fm->did_header[0] != '\0' && faxmail_header(raw, len, fm->did_header, v, sizeof(v)))
		faxmail_digits(v, strlen(v), it->did, sizeof(it->did));
	if (it->did[0] == '\0' && fm->has_re && subject != NULL &&
	    regexec(&fm->subject_re, subject, 2, m, 0) == 0 && m[1].rm_so >= 0)
		faxmail_digits(subject + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so), it->did,
			       sizeof(it->did));
}

static int faxmail_ends(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);
	return n >= e && strcasecmp(name + n - e, ext) == 0;
}

/* 't' TIFF, 'p' PDF, 0 neither */
static int faxmail_kind(const struct mime_attachment *a)
{
	if (strcmp(a->content_type, "image/tiff") == 0 || faxmail_ends(a->filename, ".tif") ||
	    faxmail_ends(a->filename, ".tiff"))
		return 't';
	if (strcmp(a->content_type, "application/pdf") == 0 || faxmail_ends(a->filename, ".pdf"))
		return 'p';
	return 0;
}

/* append a note to result_text, "; "-separated */
static void faxmail_note(struct faxmail_item *it, const char *line)
{
	size_t l = strlen(it->result_text);

	snprintf(it->result_text + l, sizeof(it->result_text) - l, "%s%s", l ? "; " : "", line);
}

/* move got[0..n) to the item's pages, named name; 0 or -1 (memory) */
static int faxmail_take(struct faxmail_item *it, struct faxtiff_page *got, int n, const char *name)
{
	struct faxtiff_page *np = realloc(it->pages, (size_t)(it->npages + n) * sizeof(*np));
	const char **ns;

	if (np == NULL)
		return -1;
	it->pages = np;
	ns = realloc(it->source, (size_t)(it->npages + n) * sizeof(*ns));
	if (ns == NULL)
		return -1;
	it->source = ns;
	for (int i = 0; i < n; i++) {
		it->pages[it->npages] = got[i];
		it->source[it->npages] = strdup(name);
		got[i].tiff = NULL;
		it->npages++;
	}
	return 0;
}

static int faxmail_attachment(struct faxmail *fm, const struct mime_attachment *a, int kind,
			      struct faxmail_item *it)
{
	struct faxtiff_page *got = NULL;
	char err[512] = "", line[700];
	const char *name = a->filename[0] ? a->filename : "(no name)";
	int n = 0, rc, room = fm->max_pages - it->npages;

	if (kind == 't')
		rc = faxtiff_split_mem(a->data, a->size, &got, &n, err, sizeof(err));
	else
		rc = faxpdf_render(a->data, a->size, &fm->pdf, &got, &n, err, sizeof(err));
	if (n > room) {
		for (int i = room; i < n; i++)
			free(got[i].tiff);
		n = room;
		rc = -1;
		snprintf(err, sizeof(err), "more than %d pages in the mail", fm->max_pages);
	}
	if (rc == 0)
		snprintf(line, sizeof(line), "%s: %d page%s", name, n, n == 1 ? "" : "s");
	else {
		snprintf(line, sizeof(line), "%s: %s (%d pages kept)", name, err, n);
		it->complete = 0;
	}
	faxmail_note(it, line);
	rc = n > 0 ? faxmail_take(it, got, n, name) : 0;
	faxtiff_pages_free(got, n);
	return rc;
}

int faxmail_convert(struct faxmail *fm, const char *raw, size_t len, struct faxmail_item *it)
{
	struct mime_mail m;
	int rc = 0;

	memset(it, 0, sizeof(*it));
	it->complete = 1;
	pool_clear(fm->pool);
	mime_parse(fm->pool, raw, len, &fm->mime, &m);
	faxmail_did(fm, raw, len, m.subject, it);
	for (size_t i = 0; rc == 0 && i < m.natt; i++) {
		int kind = faxmail_kind(&m.att[i]);
		if (kind == 0)
			continue;
		it->candidates++;
		rc = faxmail_attachment(fm, &m.att[i], kind, it);
	}
	if (it->candidates == 0) {
		snprintf(it->result_text, sizeof(it->result_text), "no TIFF or PDF attachment");
		it->complete = 0;
	}
	pool_clear(fm->pool);
	return rc;
}

void faxmail_item_free(struct faxmail_item *it)
{
	for (int i = 0; i < it->npages; i++)
		free((void *)it->source[i]);
	faxtiff_pages_free(it->pages, it->npages);
	free(it->source);
	it->pages = NULL;
	it->source = NULL;
	it->npages = 0;
}
