/* Static files; the rules are in webroot.h.  The path check is done
 * twice on purpose: by segments before touching the disk, then by
 * realpath() against the root, which also catches symlinks out of it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "webroot.h"

const struct config_key webroot_config_keys[] = {
	{ "ticketd.web_root", CFG_PATH, "templates/web", 0, 0,
	  "folder of the web pages, scripts and styles" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

struct webroot {
	char *root; /* real path; NULL when the folder is missing */
};

struct webroot *webroot_new(const struct config *cfg)
{
	struct webroot *w = calloc(1, sizeof(*w));

	if (w != NULL)
		webroot_configure(w, cfg);
	return w;
}

void webroot_free(struct webroot *w)
{
	if (w == NULL)
		return;
	free(w->root);
	free(w);
}

void webroot_configure(struct webroot *w, const struct config *cfg)
{
	const char *dir = config_path(cfg, "ticketd.web_root");
	char *real = realpath(dir, NULL);

	if (real == NULL)
		log_warn("ticketd.web_root \"%s\": %s; no pages will be served", dir,
			 strerror(errno));
	free(w->root);
	w->root = real;
}

int webroot_path_ok(const char *path)
{
	const char *seg;

	if (path[0] != '/' || strlen(path) > 1024)
		return 0;
	for (seg = path + 1; *seg != '\0';) {
		size_t n = strcspn(seg, "/");

		if (seg[n] == '\0' && n == 0)
			break; /* trailing slash */
		if (n == 0 || seg[0] == '.' || memchr(seg, '\\', n) != NULL)
			return 0;
		seg += n;
		if (*seg == '/')
			seg++;
	}
	return 1;
}

const char *webroot_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".ico", "image/x-icon" },
		{ ".webp", "image/webp" },
		{ ".woff2", "font/woff2" },
		{ ".woff", "font/woff" },
	};
	const char *dot = strrchr(path, '.');

	if (dot != NULL && strchr(dot, '/') == NULL)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* an open regular file inside the root, or -1 */
static int webroot_open(struct webroot *w, struct http_req *req, const char *rel,
			struct stat *st)
{
	const char *full = pool_printf(req->pool, "%s%s", w->root, rel);
	char real[PATH_MAX];
	size_t rl = strlen(w->root);
	int fd;

	if (full == NULL || realpath(full, real) == NULL)
		return -1;
	if (strncmp(real, w->root, rl) != 0 || real[rl] != '/')
		return -1;
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

void webroot_serve(struct webroot *w, struct http_req *req)
{
	const char *path = req->path;
	const char *rel;
	struct stat st;
	int fd;

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		http_add_header(req, "Allow", "GET, HEAD");
		http_reply_error(req, 405, "method not allowed");
		return;
	}
	if (w->root == NULL || !webroot_path_ok(path)) {
		http_reply_error(req, 404, "not found");
		return;
	}
	rel = path[strlen(path) - 1] == '/' ? pool_printf(req->pool, "%sindex.html", path) : path;
	if (rel == NULL || (fd = webroot_open(w, req, rel, &st)) < 0) {
		http_reply_error(req, 404, "not found");
		return;
	}
	http_add_header(req, "Cache-Control", "no-cache");
	http_reply_fd(req, 200, webroot_type(rel), fd, (uint64_t)st.st_size);
}
