/* line: the fax line of ingest-fax: the SIP UA on fax.listen, the calls it
 * answers (each receiving into the spool), and the store thread that
 * commits them when they end. */
#ifndef MDG_FAX_LINE_H
#define MDG_FAX_LINE_H
#include <stddef.h>

struct config;
struct line;

struct line *line_new(const struct config *cfg, char *err, size_t errlen);
/* Run until stop() returns nonzero (checked every 100 ms); calls still in
 * progress are then hung up and queued for the database like any other. */
int line_run(struct line *l, int (*stop)(void *arg), void *arg);
void line_free(struct line *l);

#endif
