/* settings: escalationd's configuration keys and the checks across them.
 * A struct settings is built whole from a loaded config or not at all, so
 * a SIGHUP with a mistake keeps the settings in force. */
#ifndef MDG_ESC_SETTINGS_H
#define MDG_ESC_SETTINGS_H
#include "config.h"
#include "remind.h"
#include "retry.h"
#include "smtp.h"
#include "tls.h"

extern const struct config_key settings_keys[];

struct settings {
	char *host;
	int port;
	enum smtp_security security;
	char *helo_name;
	char *user;
	char *password;     /* first line of smtp_password_file */
	int allow_plain_auth;
	int timeout_s;
	int has_pin;
	unsigned char pin[TLS_SHA256_LEN];
	char *ca_file;      /* NULL: the system store */
	struct retry_policy retry;
	int batch;
	long lease_s;
	long rescan_s;
	struct remind_conf remind; /* the reminders' schedule (remind.h) */
};

/* 0, or -1 with the reason in err (naming the key) */
int settings_load(const struct config *cfg, struct settings *s, char *err, size_t errlen);
void settings_free(struct settings *s);
/* the SMTP options these settings give (pointers into s) */
void settings_smtp_opts(const struct settings *s, struct smtp_opts *o);

#endif
