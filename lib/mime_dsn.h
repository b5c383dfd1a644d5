/* mime_dsn: what a delivery status notification says (RFC 3464), read
 * from a parsed mail.  Internal to lib/: mime.c calls it for a mail it
 * classed MIME_AUTO_DSN, after the bodies and attachments are done. */
#ifndef MDG_MIME_DSN_H
#define MDG_MIME_DSN_H

struct pool;
struct mime_mail;

/* fills m->dsn_* from m->att and m->body_text; leaves NULL what it
 * does not find */
void mime_dsn_read(struct pool *p, struct mime_mail *m);

#endif
