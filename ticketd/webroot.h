/* webroot: the static pages, scripts and styles under ticketd.web_root.
 *
 * GET and HEAD only.  A path is refused (404) if any segment is empty,
 * "." or "..", or starts with a dot, and a file is served only if its
 * real path (symlinks resolved) stays inside the root.  "/" and any path
 * ending in "/" mean index.html there.  Every file goes out with
 * Cache-Control: no-cache, so a new release is picked up at once. */
#ifndef MDG_WEBROOT_H
#define MDG_WEBROOT_H
#include "config.h"

struct config;
struct http_req;
struct webroot;

extern const struct config_key webroot_config_keys[];

struct webroot *webroot_new(const struct config *cfg);
void webroot_free(struct webroot *w);
void webroot_configure(struct webroot *w, const struct config *cfg);
void webroot_serve(struct webroot *w, struct http_req *req);

/* exported for the unit test */
int webroot_path_ok(const char *path);
const char *webroot_type(const char *path);

#endif
