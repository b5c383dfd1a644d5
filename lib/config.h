/* config: one file, etc/madoguchi.conf, read by every daemon.
 *
 *   # comment
 *   [ticketd]            keys below are ticketd.<name>
 *   listen = 127.0.0.1:8080
 *
 * Each program passes the tables of keys it knows (lib's common keys,
 * then its own).  A key under a prefix the program knows but not in its
 * tables is an error; keys of other programs' prefixes are skipped, so
 * one file serves all daemons.  Values are checked against their type on
 * load, so a reload with a typo fails and the caller keeps the old config.
 * Relative paths (CFG_PATH) are relative to the folder above the one that
 * holds the file: the checkout root for etc/madoguchi.conf. */
#ifndef MDG_CONFIG_H
#define MDG_CONFIG_H
#include <stddef.h>

enum config_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_PATH };

struct config_key {
	const char *name; /* "ticketd.listen" */
	enum config_type type;
	const char *def;
	long min, max; /* CFG_INT only */
	const char *help;
};

/* a table ends with a key whose name is NULL */
extern const struct config_key config_common_keys[];

struct config;

/* tables: NULL-terminated array of key tables.  Returns NULL and fills
 * err on failure. */
struct config *config_load(const char *path, const struct config_key *const *tables,
			   char *err, size_t errlen);
void config_free(struct config *cfg);
const char *config_str(const struct config *cfg, const char *name);
long config_int(const struct config *cfg, const char *name);
int config_bool(const struct config *cfg, const char *name);
/* CFG_PATH: absolute path (resolved at load) */
const char *config_path(const struct config *cfg, const char *name);
const char *config_file(const struct config *cfg);
/* print every key with type, default and help (for --config-keys) */
void config_print_keys(const struct config_key *const *tables);

#endif
