/* settings: ingest-fax's config keys (their help texts become
 * etc/madoguchi.conf's comments) and the checked values read from them.
 * Strings point into the config, which must outlive the settings. */
#ifndef MDG_FAX_SETTINGS_H
#define MDG_FAX_SETTINGS_H
#include <stddef.h>

#include "config.h"
#include "sipua.h"

extern const struct config_key settings_keys[];

struct settings {
	const char *listen, *line, *spool, *ident, *sip_user;
	int ecm;
	enum sipua_t38 t38;
	int t38_max_datagram;
	int no_train_s, max_call_s, max_calls;
	int rtp_port_min, rtp_port_max;
	const char *register_uri, *register_user, *register_password;
	int register_expires;
	const char *out_uri;      /* replies by fax: where to dial, %s the number; "" off */
};

int settings_from_config(struct settings *s, const struct config *cfg, char *err, size_t errlen);

#endif
