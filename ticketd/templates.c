/* Reply templates as files; the format and the rules are in templates.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "pool.h"
#include "templates.h"
#include "utf8.h"

/* a filled text at most (values are short; a template is 64 KiB) */
#define TEMPLATES_FILLED_MAX (1u << 20)
/* distinct unknown names reported at most */
#define TEMPLATES_UNKNOWN_MAX 20
/* bytes between the braces at most: past it, "{{" is unclosed */
#define TEMPLATES_VAR_MAX 64

const char *const templates_vars[] = {
	"ticket.id",	  "ticket.subject", "ticket.received", "citizen.name",
	"operator.name", "centre.name",    "centre.signature", NULL,
};

int templates_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > TEMPLATES_NAME_MAX || name[0] == '.' || name[0] == ' ' ||
	    name[n - 1] == ' ' || !utf8_valid(name, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '/' ||
		    name[i] == '\\')
			return 0;
	return 1;
}

/* ---- parsing ---- */

/* the next line of s (without its LF or CRLF); 0 at the end */
static int templates_line(const char **s, const char *end, const char **line, size_t *n)
{
	const char *lf;

	if (*s >= end)
		return 0;
	lf = memchr(*s, '\n', (size_t)(end - *s));
	*line = *s;
	*n = (size_t)((lf ? lf : end) - *s);
	*s = lf ? lf + 1 : end;
	if (*n > 0 && (*line)[*n - 1] == '\r')
		(*n)--;
	return 1;
}

static const char *templates_field(struct pool *p, const char *line, size_t n, const char *key)
{
	size_t k = strlen(key);

	if (n <= k || strncasecmp(line, key, k) != 0 || line[k] != ':')
		return NULL;
	line += k + 1;
	n -= k + 1;
	while (n > 0 && (*line == ' ' || *line == '\t'))
		line++, n--;
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	return pool_strndup(p, line, n);
}

/* the body with CRLF made LF */
static char *templates_body(struct pool *p, const char *s, const char *end)
{
	char *b = pool_alloc(p, (size_t)(end - s) + 1), *o = b;

	if (b == NULL)
		return NULL;
	for (; s < end; s++)
		if (!(*s == '\r' && s + 1 < end && s[1] == '\n'))
			*o++ = *s;
	*o = '\0';
	return b;
}

int templates_parse(struct pool *p, const char *name, const char *text, size_t len,
		    struct templates_doc *out, const char **err)
{
	const char *s = text, *end = text + len, *line, *v;
	size_t n;

	if (len > TEMPLATES_MAX_FILE || !utf8_valid(text, len)) {
		*err = "not valid UTF-8 text of at most 64 KiB";
		return -1;
	}
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3; /* a BOM from a Windows editor */
	memset(out, 0, sizeof(*out));
	out->name = name;
	out->subject = "";
	while (templates_line(&s, end, &line, &n) && n > 0) {
		if ((v = templates_field(p, line, n, "Title")) != NULL)
			out->title = v;
		else if ((v = templates_field(p, line, n, "Subject")) != NULL)
			out->subject = v;
		else if ((v = templates_field(p, line, n, "Approval")) != NULL &&
			 (strcasecmp(v, "required") == 0 || strcasecmp(v, "none") == 0))
			out->approval = strcasecmp(v, "required") == 0;
		else {
			*err = pool_printf(p, "header line \"%.40s\" is not Title:, Subject: or "
					      "Approval: required|none (a blank line must end the "
					      "header)", line);
			return -1;
		}
	}
	if (out->title == NULL || out->title[0] == '\0')
		out->title = name;
	if ((out->body = templates_body(p, s, end)) == NULL) {
		*err = "out of memory";
		return -1;
	}
	return 0;
}

/* ---- the folder ---- */

static char *templates_read(struct pool *p, const char *path, size_t *len, const char **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *d = NULL;
	ssize_t r;

	if (fd < 0) {
		*err = errno == ENOENT ? NULL : "cannot be opened";
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		*err = "is not a regular file";
	else if ((size_t)st.st_size > TEMPLATES_MAX_FILE)
		*err = "is larger than 64 KiB";
	else if ((d = pool_alloc(p, (size_t)st.st_size + 1)) == NULL)
		*err = "out of memory";
	else if ((r = read(fd, d, (size_t)st.st_size)) != st.st_size) {
		*err = "cannot be read";
		d = NULL;
	} else {
		d[r] = '\0';
		*len = (size_t)r;
	}
	close(fd);
	return d;
}

int templates_load(struct pool *p, const char *dir, const char *name, struct templates_doc *out,
		   const char **err)
{
	const char *path;
	size_t len = 0;
	char *text;

	if (!templates_name_ok(name))
		return 0;
	if ((path = pool_printf(p, "%s/%s.txt", dir, name)) == NULL) {
		*err = "out of memory";
		return -1;
	}
	*err = NULL;
	if ((text = templates_read(p, path, &len, err)) == NULL)
		return *err == NULL ? 0 : -1;
	return templates_parse(p, pool_strdup(p, name), text, len, out, err) < 0 ? -1 : 1;
}

static int templates_cmp(const void *a, const void *b)
{
	return strcmp(((const struct templates_doc *)a)->name,
		      ((const struct templates_doc *)b)->name);
}

/* the name of a directory entry that is a template, or NULL */
static char *templates_entry(struct pool *p, const char *fname)
{
	size_t n = strlen(fname);
	char *name;

	if (n <= 4 || strcmp(fname + n - 4, ".txt") != 0)
		return NULL;
	name = pool_strndup(p, fname, n - 4);
	return name != NULL && templates_name_ok(name) ? name : NULL;
}

int templates_list(struct pool *p, const char *dir, struct templates_doc **out, size_t *n,
		   size_t *skipped, const char **err)
{
	struct templates_doc *docs = pool_alloc(p, TEMPLATES_MAX_COUNT * sizeof(*docs));
	DIR *d = opendir(dir);
	struct dirent *e;
	const char *why;

	*n = 0;
	*skipped = 0;
	if (d == NULL || docs == NULL) {
		if (d != NULL)
			closedir(d);
		*err = docs == NULL ? "out of memory" : "the template folder cannot be read";
		return -1;
	}
	while ((e = readdir(d)) != NULL && *n < TEMPLATES_MAX_COUNT) {
		char *name = templates_entry(p, e->d_name);

		if (name == NULL)
			continue;
		if (templates_load(p, dir, name, &docs[*n], &why) == 1)
			(*n)++;
		else
			(*skipped)++;
	}
	closedir(d);
	qsort(docs, *n, sizeof(*docs), templates_cmp);
	*out = docs;
	return 0;
}

/* ---- variables ---- */

static const char *templates_value(const struct templates_var *vars, size_t nvars,
				   const char *name, size_t n, int *known)
{
	for (size_t i = 0; i < nvars; i++)
		if (strlen(vars[i].name) == n && memcmp(vars[i].name, name, n) == 0) {
			*known = 1;
			return vars[i].value;
		}
	*known = 0;
	return NULL;
}

static void templates_unknown(struct pool *p, const char **list, size_t *n, const char *name,
			      size_t len)
{
	for (size_t i = 0; i < *n; i++)
		if (strlen(list[i]) == len && memcmp(list[i], name, len) == 0)
			return;
	if (*n < TEMPLATES_UNKNOWN_MAX && (list[*n] = pool_strndup(p, name, len)) != NULL)
		(*n)++;
}

/* the name between "{{" at s and the next "}}", trimmed; NULL if unclosed */
static const char *templates_var(const char *s, size_t *n, const char **after)
{
	const char *close = strstr(s + 2, "}}"), *b = s + 2;

	if (close == NULL || close - b > TEMPLATES_VAR_MAX || memchr(b, '\n', (size_t)(close - b)))
		return NULL;
	*after = close + 2;
	while (b < close && (*b == ' ' || *b == '\t'))
		b++;
	while (close > b && (close[-1] == ' ' || close[-1] == '\t'))
		close--;
	*n = (size_t)(close - b);
	return b;
}

char *templates_fill(struct pool *p, const char *text, const struct templates_var *vars,
		     size_t nvars, const char ***unknown, size_t *nunknown, const char **err)
{
	const char **unk = pool_alloc(p, TEMPLATES_UNKNOWN_MAX * sizeof(*unk));
	const char *s = text, *open, *name, *after, *v;
	struct buf b;
	char *res = NULL;
	size_t n;
	int known, bad = 0;

	*unknown = unk;
	*nunknown = 0;
	*err = NULL;
	if (unk == NULL) {
		*err = "out of memory";
		return NULL;
	}
	buf_init(&b, TEMPLATES_FILLED_MAX);
	while ((open = strstr(s, "{{")) != NULL) {
		if ((name = templates_var(open, &n, &after)) == NULL) {
			*err = pool_printf(p, "\"{{\" without \"}}\" on the same line near \"%.30s\"",
					   open);
			bad = 1;
			break;
		}
		v = templates_value(vars, nvars, name, n, &known);
		if (!known)
			templates_unknown(p, unk, nunknown, name, n);
		bad |= buf_append(&b, s, (size_t)(open - s)) < 0 ||
		       buf_append_str(&b, v ? v : "") < 0;
		s = after;
	}
	if (!bad && *nunknown == 0 && buf_append_str(&b, s) == 0)
		res = pool_strdup(p, b.data ? b.data : "");
	else if (!bad && *nunknown > 0)
		*err = "unknown variable";
	else if (*err == NULL)
		*err = "the filled text is too large";
	buf_free(&b);
	return res;
}

/* ---- writing ---- */

static int templates_write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int templates_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int templates_save(struct pool *p, const char *dir, const struct templates_doc *doc,
		   const char **err)
{
	const char *text = pool_printf(p, "Title: %s\nSubject: %s\n%s\n%s", doc->title, doc->subject,
				       doc->approval ? "Approval: required\n" : "", doc->body);
	const char *tmp = pool_printf(p, "%s/.%s.txt.tmp.%ld", dir, doc->name, (long)getpid());
	const char *path = pool_printf(p, "%s/%s.txt", dir, doc->name);
	int fd, bad;

	if (text == NULL || tmp == NULL || path == NULL) {
		*err = "out of memory";
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
		*err = "the template folder is not writable";
		return -1;
	}
	bad = templates_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0;
	bad |= close(fd) < 0;
	if (bad || rename(tmp, path) < 0) {
		unlink(tmp);
		*err = "the template could not be written";
		return -1;
	}
	if (templates_fsync_dir(dir) < 0) {
		*err = "the template folder could not be synced";
		return -1;
	}
	return 0;
}
