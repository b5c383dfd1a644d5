/* mime_html: the text an operator reads from an HTML-only mail.
 *
 * Not a browser: tags are dropped, script/style/title contents are
 * dropped, the common entities are decoded, block elements and <br>
 * break lines, runs of blanks collapse as HTML collapses them (except
 * in <pre>), and at most one empty line is kept in a row.  One pass,
 * linear, bounded by max output bytes (0 = no limit). */
#ifndef MDG_MIME_HTML_H
#define MDG_MIME_HTML_H
#include <stddef.h>

struct pool;

/* html is UTF-8; the result is UTF-8 from the pool ("" on no memory) */
char *mime_html_to_text(struct pool *p, const char *html, size_t n, size_t max);

#endif
