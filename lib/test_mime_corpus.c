/* The shared mail corpus against mime_parse.
 *
 * ../shared/corpus/mail/<source>/tests/messages/X.eml comes with
 * messages_expected_json/X.json: what imap_tools (Python's email package)
 * reads from it.  Each message is parsed and its subject, from, to, cc,
 * date, text and attachment names and bytes compared.  Prints one line
 * per message and "N passed, N failed"; a message whose differences are
 * all listed below as deliberate passes.  Without the corpus (it lives
 * outside the repository) the test prints "skipped" and exits 0.
 *
 * Normalisations (our contract, not Python's): line ends are "\n" in
 * body_text; a mail without text/plain gets text derived from its HTML
 * (Python: ""), so text is then not compared; a body of blank lines is
 * no text; header values are trimmed (Python keeps trailing blanks); an
 * unparseable or missing Date is 0 (Python: 1900-01-01); a message/rfc822
 * part is an attachment named after its subject, parsed as a nested mail
 * beside the body (Python adds its text to the body); attachments we list
 * without a name are not compared. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mime.h"
#include "mime_header.h"
#include "pool.h"

#define CORPUS_MAX_FILE (32u << 20)

/* Deliberate differences: message path (under tests/messages/), the field,
 * and why we differ from Python's email package on purpose. */
#define MIME_NESTED "message/rfc822 is attached and parsed as a nested mail, not added to the body text"
#define MIME_RAW822 "message/rfc822 kept as received; Python re-serialises it"
#define CP932_GUESS "unlabelled 8-bit bytes are guessed as CP932"

static const struct {
	const char *path;
	const char *field;
	const char *why;
} corpus_deliberate[] = {
	{ "attachment_2_base64.eml", "text",
	  "a base64 message/rfc822: Python shows its encoded text as body; we attach it, text from the HTML" },
	/* message/rfc822 is an attachment for now: Python adds the text of
	 * the forwarded or bounced message to the body */
	{ "attachment_7bit.eml", "text", MIME_NESTED },
	{ "attachment_8bit.eml", "text", MIME_NESTED },
	{ "attachment_emails/attachment_message_rfc822.eml", "text", MIME_NESTED },
	{ "forwarded_message.eml", "text", MIME_NESTED },
	{ "mime_emails/raw_email_with_mimepart_without_content_type.eml", "text", MIME_NESTED },
	{ "multipart_report_emails/multi_address_bounce1.eml", "text", MIME_NESTED },
	{ "multipart_report_emails/multi_address_bounce2.eml", "text", MIME_NESTED },
	{ "multipart_report_emails/multipart_report_multiple_status.eml", "text", MIME_NESTED },
	/* a message/rfc822 attachment is the bytes as received; Python
	 * writes the parsed message out again (LF ends, one more "\n") */
	{ "attachment_7bit.eml", "attachment-bytes", MIME_RAW822 },
	{ "attachment_emails/attachment_message_rfc822.eml", "attachment-bytes", MIME_RAW822 },
	{ "attachment_emails/attachment_message_rfc822.eml", "attachment", "broken.pdf is inside the forwarded message (not descended)" },
	/* raw 8-bit Latin-1 where no charset says so: the house rule guesses
	 * CP932 (a Japanese centre), Python keeps an undecodable byte */
	{ "attachment_emails/attachment_with_encoded_name.eml", "attachment", CP932_GUESS },
	{ "plain_emails/raw_email8.eml", "attachment", CP932_GUESS },
	{ "error_emails/invalid_subject_characters.eml", "subject", CP932_GUESS },
	/* 8-bit UTF-8 in a part labelled us-ascii: we read it as UTF-8
	 * ("ìIGTSî", "Envoyé"), Python drops the bytes */
	{ "error_emails/content_transfer_encoding_plain.eml", "text", "8-bit UTF-8 under us-ascii: decoded, not dropped" },
	{ "plain_emails/raw_email6.eml", "text", "8-bit UTF-8 under us-ascii: decoded, not dropped" },
	/* ISO-8859-1 read as windows-1252, as mail clients do */
	{ "error_emails/content_transfer_encoding_7-bit.eml", "text", "0x86 under iso-8859-1 is \"†\" (windows-1252); Python gives the C1 control U+0086" },
	/* broken address fields, read differently and no worse */
	{ "error_emails/missing_body.eml", "to", "<Undisclosed-Recipient:@host;> kept as written; Python splits at ':'" },
	{ "mime_emails/raw_email11.eml", "to", "\"x@y\" <matmail>: name and address as written; Python takes the name as address" },
	{ "plain_emails/mix_caps_content_type.eml", "from", "\"Big Bug bb@bug.com\" without brackets has no right reading; libetpan joins the words" },
	{ "plain_emails/raw_email_with_at_display_name.eml", "to", "\"Mikel@Lindsaar <raasdnil@gmail.com>\" is one mailbox; Python makes two" },
	{ "rfc2822/example10.eml", "from-name", "comments in a display name kept as written; Python merges all comments into it" },
	{ "rfc2822/example10.eml", "to", "a comment inside an address is dropped; Python moves it into the name" },
	/* RFC 5322 obs-optional allows blanks before the colon */
	{ "rfc2822/example13.eml", "to", "\"To    :\" is a field for us (obsolete syntax); Python ends the header there" },
	{ "rfc2822/example13.eml", "text", "\"To    :\" is a field for us (obsolete syntax); Python ends the header there" },
	/* RFC 2047 6.2 keeps the blank between ordinary text and a word */
	{ "rfc2822/example14.eml", "subject", "\"TEST\" and an encoded word across a fold: one space kept; Python drops it" },
	{ NULL, NULL, NULL },
};

static int corpus_pass, corpus_fail, corpus_known;

struct corpus_diff {
	char text[2048];
	size_t len;
	int n, deliberate;
};

static int corpus_is_deliberate(const char *rel, const char *field)
{
	for (size_t i = 0; corpus_deliberate[i].path != NULL; i++)
		if (strcmp(corpus_deliberate[i].path, rel) == 0 &&
		    strcmp(corpus_deliberate[i].field, field) == 0)
			return 1;
	return 0;
}

static void corpus_note(struct corpus_diff *d, const char *rel, const char *field, const char *got,
			const char *want)
{
	int w;

	if (corpus_is_deliberate(rel, field)) {
		d->deliberate++;
		return;
	}
	d->n++;
	if (d->len >= sizeof(d->text) - 1)
		return;
	w = snprintf(d->text + d->len, sizeof(d->text) - d->len, "\n    %s: got \"%.200s\" want \"%.200s\"",
		     field, got ? got : "(null)", want ? want : "(null)");
	if (w > 0)
		d->len += (size_t)w < sizeof(d->text) - d->len ? (size_t)w : sizeof(d->text) - d->len - 1;
}

static void corpus_cmp(struct corpus_diff *d, const char *rel, const char *field, const char *got,
		       const char *want)
{
	if (strcmp(got ? got : "", want ? want : "") != 0)
		corpus_note(d, rel, field, got, want);
}

/* whole file into memory; NULL if unreadable */
static char *corpus_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;

	if (f == NULL)
		return NULL;
	b = malloc(CORPUS_MAX_FILE);
	*len = b != NULL ? fread(b, 1, CORPUS_MAX_FILE - 1, f) : 0;
	fclose(f);
	if (b != NULL)
		b[*len] = '\0';
	return b;
}

/* Python's surrogateescape "\udc80".."\udcff" is no valid JSON text for
 * jansson: read them as U+FFFD */
static void corpus_fix_surrogates(char *s)
{
	for (char *p = s; (p = strstr(p, "\\udc")) != NULL; p += 6)
		memcpy(p, "\\ufffd", 6);
}

static const char *corpus_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

/* "Name <addr>, addr" from [{"name","email"}] as mime.h writes it */
static char *corpus_addrs(struct pool *p, json_t *arr)
{
	struct mime_header_sb b;
	size_t i;
	json_t *a;

	mime_header_sb_init(&b, p);
	json_array_foreach(arr, i, a) {
		const char *name = corpus_str(a, "name"), *email = corpus_str(a, "email");

		if (*name == '\0' && *email == '\0')
			continue;
		if (b.len > 0)
			mime_header_sb_put(&b, ", ", 2);
		if (*name != '\0' && strcmp(name, email) != 0) {
			mime_header_sb_put(&b, name, strlen(name));
			if (*email != '\0') {
				mime_header_sb_put(&b, " <", 2);
				mime_header_sb_put(&b, email, strlen(email));
				mime_header_sb_putc(&b, '>');
			}
		} else {
			mime_header_sb_put(&b, email, strlen(email));
		}
	}
	return mime_header_sb_str(&b);
}

/* ISO 8601 as imap_tools writes it: UTC microseconds; 0 for 1900-01-01 */
static int64_t corpus_iso(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0, zh = 0, zm = 0;
	char sign = 0;
	int64_t t;

	if (sscanf(s, "%d-%d-%dT%d:%d:%d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || y == 1900)
		return 0;
	if (s[n] == '.')
		n += (int)strspn(s + n + 1, "0123456789") + 1;
	if ((s[n] == '+' || s[n] == '-') && sscanf(s + n + 1, "%d:%d", &zh, &zm) == 2)
		sign = s[n];
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm) - (sign == '-' ? -1 : sign == '+' ? 1 : 0) * (zh * 3600 + zm * 60);
	return t * 1000000;
}

static int corpus_blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

/* our header values are trimmed; Python keeps trailing blanks */
static char *corpus_trim(struct pool *p, const char *s)
{
	char *r = pool_strdup(p, s);
	size_t n = r != NULL ? strlen(r) : 0;

	while (n > 0 && (r[n - 1] == ' ' || r[n - 1] == '\t'))
		r[--n] = '\0';
	return r;
}

static char *corpus_lf(struct pool *p, const char *s)
{
	char *r = pool_strdup(p, s);
	size_t o = 0;

	for (size_t i = 0; r != NULL && r[i] != '\0'; i++) {
		if (r[i] == '\r' && r[i + 1] == '\n')
			continue;
		r[o++] = r[i] == '\r' ? '\n' : r[i];
	}
	if (r != NULL)
		r[o] = '\0';
	return r;
}

static void corpus_cmp_date(struct corpus_diff *d, const char *rel, const struct mime_mail *m,
			    json_t *j)
{
	int64_t want = corpus_iso(corpus_str(j, "date"));

	if (m->date_us != want) {
		char g[32], w[32];

		snprintf(g, sizeof(g), "%lld", (long long)(m->date_us / 1000000));
		snprintf(w, sizeof(w), "%lld (%s)", (long long)(want / 1000000), corpus_str(j, "date"));
		corpus_note(d, rel, "date", g, w);
	}
}

static void corpus_cmp_text(struct corpus_diff *d, const char *rel, struct pool *p,
			    const struct mime_mail *m, json_t *j)
{
	const char *want = corpus_str(j, "text");

	/* no text/plain: we derive text from the HTML, Python gives "" */
	if (*want == '\0' && *corpus_str(j, "html") != '\0')
		return;
	/* a body of blank lines is no text on either side */
	if (corpus_blank(want) && corpus_blank(m->body_text))
		return;
	corpus_cmp(d, rel, "text", m->body_text, corpus_lf(p, want));
}

/* expected attachment bytes from {"$bytes_base64": ...} or a string */
static const unsigned char *corpus_payload(struct pool *p, json_t *a, size_t *n)
{
	json_t *pl = json_object_get(a, "payload");
	const char *b64 = json_is_object(pl) ? corpus_str(pl, "$bytes_base64") : NULL;
	unsigned char *r;
	int cut = 0;

	if (json_is_string(pl)) {
		*n = strlen(json_string_value(pl));
		return (const unsigned char *)json_string_value(pl);
	}
	if (b64 == NULL || (r = pool_alloc(p, strlen(b64) + 1)) == NULL) {
		*n = 0;
		return NULL;
	}
	*n = mime_header_base64(b64, strlen(b64), r, strlen(b64), &cut);
	return r;
}

/* named attachments, in order, names and bytes; our unnamed ones and
 * ours named after a message/rfc822 subject are deliberate extras */
static void corpus_cmp_att(struct corpus_diff *d, const char *rel, struct pool *p,
			   const struct mime_mail *m, json_t *j)
{
	json_t *arr = json_object_get(j, "attachments"), *a;
	size_t k = 0, i;

	json_array_foreach(arr, i, a) {
		const char *want = corpus_str(a, "filename");
		const unsigned char *bytes;
		size_t n;

		if (*want == '\0')
			continue;
		while (k < m->natt && strcmp(m->att[k].filename, want) != 0 &&
		       (*m->att[k].filename == '\0' ||
			strcmp(m->att[k].content_type, "message/rfc822") == 0))
			k++;
		if (k >= m->natt) {
			corpus_note(d, rel, "attachment", "(none)", want);
			return;
		}
		corpus_cmp(d, rel, "attachment", m->att[k].filename, want);
		bytes = corpus_payload(p, a, &n);
		if (bytes != NULL && (n != m->att[k].size || memcmp(bytes, m->att[k].data, n) != 0)) {
			char g[32], w[32];

			snprintf(g, sizeof(g), "%zu bytes", m->att[k].size);
			snprintf(w, sizeof(w), "%zu bytes", n);
			corpus_note(d, rel, "attachment-bytes", g, w);
		}
		k++;
	}
}

static void corpus_compare(struct corpus_diff *d, const char *rel, struct pool *p,
			   const struct mime_mail *m, json_t *j)
{
	json_t *from = json_object_get(j, "from_values");

	corpus_cmp(d, rel, "subject", m->subject, corpus_trim(p, corpus_str(j, "subject")));
	corpus_cmp(d, rel, "from", m->from_addr, json_is_object(from) ? corpus_str(from, "email") : "");
	corpus_cmp(d, rel, "from-name", m->from_name,
		   json_is_object(from) ? corpus_str(from, "name") : "");
	corpus_cmp(d, rel, "to", m->to, corpus_addrs(p, json_object_get(j, "to_values")));
	corpus_cmp(d, rel, "cc", m->cc, corpus_addrs(p, json_object_get(j, "cc_values")));
	corpus_cmp_date(d, rel, m, j);
	corpus_cmp_text(d, rel, p, m, j);
	corpus_cmp_att(d, rel, p, m, j);
}

static void corpus_one(const char *eml, const char *json, const char *rel, struct pool *p)
{
	struct corpus_diff d = { .len = 0 };
	struct mime_mail m;
	json_error_t err;
	size_t len, jlen;
	char *raw = corpus_read(eml, &len), *jtext = corpus_read(json, &jlen);
	json_t *j = NULL;

	if (jtext != NULL) {
		corpus_fix_surrogates(jtext);
		j = json_loads(jtext, 0, &err);
	}
	if (raw == NULL || j == NULL) {
		printf("FAIL %s: cannot read%s%s\n", rel, j == NULL ? " the JSON: " : "",
		       j == NULL ? err.text : "");
		corpus_fail++;
	} else {
		mime_parse(p, raw, len, NULL, &m);
		corpus_compare(&d, rel, p, &m, j);
		if (d.n == 0) {
			printf("ok   %s%s\n", rel, d.deliberate ? " (deliberate differences)" : "");
			corpus_pass++;
			corpus_known += d.deliberate > 0;
		} else {
			printf("FAIL %s:%s\n", rel, d.text);
			corpus_fail++;
		}
	}
	json_decref(j);
	free(raw);
	free(jtext);
	pool_clear(p);
}

static int corpus_cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every .eml under dir (relative name rel), in sorted order */
static void corpus_walk(const char *msgs, const char *exp, const char *rel, struct pool *p)
{
	char path[4096];
	DIR *dir;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	snprintf(path, sizeof(path), "%s/%s", msgs, rel);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), corpus_cmpstr);
	for (size_t i = 0; i < n; i++) {
		char sub[2048], eml[4096], json[4096];
		size_t l = strlen(names[i]);
		struct stat st;

		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", names[i]);
		snprintf(eml, sizeof(eml), "%s/%s", msgs, sub);
		if (stat(eml, &st) == 0 && S_ISDIR(st.st_mode)) {
			corpus_walk(msgs, exp, sub, p);
		} else if (l > 4 && strcmp(names[i] + l - 4, ".eml") == 0) {
			snprintf(json, sizeof(json), "%s/%.*s.json", exp, (int)(strlen(sub) - 4), sub);
			corpus_one(eml, json, sub, p);
		}
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : MDG_SRCDIR "/../shared/corpus/mail";
	char msgs[4096], exp[4096];
	struct pool *p = pool_create(0);
	DIR *dir = opendir(root);
	struct dirent *e;
	int sources = 0;

	if (dir == NULL) {
		printf("skipped: no mail corpus at %s\n", root);
		pool_destroy(p);
		return 0;
	}
	while ((e = readdir(dir)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(msgs, sizeof(msgs), "%s/%s/tests/messages", root, e->d_name);
		snprintf(exp, sizeof(exp), "%s/%s/tests/messages_expected_json", root, e->d_name);
		if (stat(msgs, &st) != 0 || stat(exp, &st) != 0)
			continue;
		sources++;
		corpus_walk(msgs, exp, "", p);
	}
	closedir(dir);
	pool_destroy(p);
	if (sources == 0) {
		printf("skipped: no messages with expected JSON under %s\n", root);
		return 0;
	}
	printf("%d of %d messages match (%d with deliberate differences)\n", corpus_pass,
	       corpus_pass + corpus_fail, corpus_known);
	printf("%d passed, %d failed\n", corpus_pass, corpus_fail);
	return corpus_fail > 0;
}
