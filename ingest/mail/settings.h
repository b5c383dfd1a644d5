/* settings: ingest-mail's config keys and the checked values read from them.
 *
 * settings_keys is the table main.c hands to config_load (with the common
 * keys); settings_from_config turns a loaded config into a struct settings
 * and refuses combinations the key types cannot express (an IMAP source
 * without a host, move without a target folder, a malformed pin).  Strings
 * point into the config, which must outlive the settings; only the password
 * is copied (it may come from a file). */
#ifndef MDG_INGEST_SETTINGS_H
#define MDG_INGEST_SETTINGS_H
#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum settings_source { SETTINGS_MAILDIR, SETTINGS_IMAP, SETTINGS_IMAPS, SETTINGS_STARTTLS };
enum settings_after { SETTINGS_AFTER_FLAG, SETTINGS_AFTER_SEEN, SETTINGS_AFTER_MOVE };

struct settings {
	enum settings_source source;
	const char *account; /* inbound_item.source */
	const char *maildir;
	const char *host;
	int port;
	const char *user;
	char *password; /* owned; NULL for maildir */
	const char *mailbox;
	enum settings_after after;
	const char *move_to;
	int has_pin;
	unsigned char pin[32];
	const char *ca_file; /* NULL: the system store */
	int timeout_s;
	int poll_s;
	int batch;
	int64_t max_message_bytes;
	const char *min_free_path;
	int64_t min_free_mb;
	int64_t db_max_mb;
	/* fax-to-mail (faxmail.h) */
	const char *fax_senders;     /* "" when off */
	const char *fax_did_header;
	const char *fax_did_subject; /* POSIX extended regex with one group, or "" */
	int fax_max_pages;
	int fax_pdf_seconds;
};

extern const struct config_key settings_keys[];

int settings_from_config(struct settings *s, const struct config *cfg, char *err, size_t errlen);
void settings_free(struct settings *s);

#endif
