#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "log.h"

const struct config_key config_common_keys[] = {
	{ "log.level", CFG_STR, "info", 0, 0, "debug, info, warning or error" },
	{ "db.conninfo", CFG_STR, "", 0, 0,
	  "libpq connection string without user; empty means: use db.socket_dir and db.name" },
	{ "db.socket_dir", CFG_PATH, "var/run", 0, 0,
	  "folder holding the PostgreSQL socket of the embedded cluster" },
	{ "db.port", CFG_INT, "5432", 1, 65535, "PostgreSQL port (also names the socket file)" },
	{ "db.name", CFG_STR, "madoguchi", 0, 0, "database name" },
	{ "db.admin_user", CFG_STR, "madoguchi_owner", 0, 0,
	  "role the admin CLI uses; owns the schema and applies migrations" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

struct config_val {
	const struct config_key *key;
	char *value; /* NULL: default */
	char *resolved; /* CFG_PATH */
	long ival;
};

struct config {
	char *file;
	char *base; /* folder relative paths start from */
	struct config_val *vals;
	size_t nvals;
};

static const struct config_key *config_find(const struct config_key *const *tables,
					    const char *name, size_t *index)
{
	size_t n = 0;

	for (size_t t = 0; tables[t] != NULL; t++)
		for (const struct config_key *k = tables[t]; k->name != NULL; k++, n++)
			if (strcmp(k->name, name) == 0) {
				*index = n;
				return k;
			}
	return NULL;
}

/* do we own keys under this name's prefix? */
static int config_prefix_known(const struct config_key *const *tables, const char *name)
{
	const char *dot = strchr(name, '.');
	size_t plen = dot ? (size_t)(dot - name) + 1 : strlen(name);

	for (size_t t = 0; tables[t] != NULL; t++)
		for (const struct config_key *k = tables[t]; k->name != NULL; k++)
			if (strncmp(k->name, name, plen) == 0)
				return 1;
	return 0;
}

static char *config_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	if (e - s >= 2 && s[0] == '"' && e[-1] == '"') {
		e[-1] = '\0';
		s++;
	}
	return s;
}

static int config_check(struct config *cfg, struct config_val *v, char *err, size_t errlen)
{
	const struct config_key *k = v->key;
	const char *s = v->value ? v->value : k->def;
	char *end;

	switch (k->type) {
	case CFG_INT:
		errno = 0;
		v->ival = strtol(s, &end, 10);
		if (errno != 0 || end == s || *end != '\0' || v->ival < k->min || v->ival > k->max) {
			snprintf(err, errlen, "%s: \"%s\" is not an integer from %ld to %ld",
				 k->name, s, k->min, k->max);
			return -1;
		}
		break;
	case CFG_BOOL:
		if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 ||
		    strcasecmp(s, "on") == 0)
			v->ival = 1;
		else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
			 strcmp(s, "0") == 0 || strcasecmp(s, "off") == 0)
			v->ival = 0;
		else {
			snprintf(err, errlen, "%s: \"%s\" is not yes or no", k->name, s);
			return -1;
		}
		break;
	case CFG_PATH:
		if (s[0] == '/' || s[0] == '\0')
			v->resolved = strdup(s);
		else if (asprintf(&v->resolved, "%s/%s", cfg->base, s) < 0)
			v->resolved = NULL;
		if (v->resolved == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		break;
	case CFG_STR:
		break;
	}
	return 0;
}

static int config_parse_line(struct config *cfg, const struct config_key *const *tables,
			     char *line, const char *section, char *err, size_t errlen)
{
	char name[256];
	char *eq = strchr(line, '=');
	const struct config_key *k;
	size_t idx;

	if (eq == NULL) {
		snprintf(err, errlen, "expected key = value");
		return -1;
	}
	*eq = '\0';
	line = config_trim(line);
	if (snprintf(name, sizeof(name), "%s%s%s", section, *section ? "." : "", line) >=
	    (int)sizeof(name)) {
		snprintf(err, errlen, "key too long");
		return -1;
	}
	k = config_find(tables, name, &idx);
	if (k == NULL) {
		if (config_prefix_known(tables, name)) {
			snprintf(err, errlen, "unknown key \"%s\"", name);
			return -1;
		}
		return 0; /* another program's key */
	}
	free(cfg->vals[idx].value);
	cfg->vals[idx].value = strdup(config_trim(eq + 1));
	if (cfg->vals[idx].value == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int config_read(struct config *cfg, const struct config_key *const *tables, FILE *f,
		       char *err, size_t errlen)
{
	char line[4096], section[128] = "", lerr[512];
	int lineno = 0;

	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = config_trim(line);

		lineno++;
		if (strlen(line) == sizeof(line) - 1) {
			snprintf(err, errlen, "%s:%d: line too long", cfg->file, lineno);
			return -1;
		}
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (e == NULL || (size_t)(e - s - 1) >= sizeof(section)) {
				snprintf(err, errlen, "%s:%d: bad section", cfg->file, lineno);
				return -1;
			}
			*e = '\0';
			snprintf(section, sizeof(section), "%s", config_trim(s + 1));
			continue;
		}
		if (config_parse_line(cfg, tables, s, section, lerr, sizeof(lerr)) < 0) {
			snprintf(err, errlen, "%s:%d: %s", cfg->file, lineno, lerr);
			return -1;
		}
	}
	return 0;
}

static int config_base(struct config *cfg, const char *path)
{
	char abs[PATH_MAX];
	char *slash;

	if (realpath(path, abs) == NULL)
		return -1;
	cfg->file = strdup(abs);
	/* drop the file name, then its folder */
	for (int i = 0; i < 2; i++) {
		slash = strrchr(abs, '/');
		if (slash == NULL)
			break;
		*slash = '\0';
	}
	cfg->base = strdup(abs[0] ? abs : "/");
	return cfg->file && cfg->base ? 0 : -1;
}

struct config *config_load(const char *path, const struct config_key *const *tables, char *err,
			   size_t errlen)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	size_t n = 0, i = 0;
	FILE *f = NULL;

	if (cfg == NULL)
		goto oom;
	for (size_t t = 0; tables[t] != NULL; t++)
		for (const struct config_key *k = tables[t]; k->name != NULL; k++)
			n++;
	cfg->vals = calloc(n, sizeof(*cfg->vals));
	cfg->nvals = n;
	if (cfg->vals == NULL)
		goto oom;
	for (size_t t = 0; tables[t] != NULL; t++)
		for (const struct config_key *k = tables[t]; k->name != NULL; k++)
			cfg->vals[i++].key = k;
	if (config_base(cfg, path) < 0 || (f = fopen(cfg->file, "r")) == NULL) {
		snprintf(err, errlen, "could not open \"%s\": %s", path, strerror(errno));
		goto fail;
	}
	if (config_read(cfg, tables, f, err, errlen) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (config_check(cfg, &cfg->vals[i], err, errlen) < 0)
			goto fail;
	fclose(f);
	return cfg;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (f != NULL)
		fclose(f);
	config_free(cfg);
	return NULL;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nvals; i++) {
		free(cfg->vals[i].value);
		free(cfg->vals[i].resolved);
	}
	free(cfg->vals);
	free(cfg->file);
	free(cfg->base);
	free(cfg);
}

static const struct config_val *config_val(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nvals; i++)
		if (strcmp(cfg->vals[i].key->name, name) == 0)
			return &cfg->vals[i];
	log_fatal("config key \"%s\" is not registered", name);
}

const char *config_str(const struct config *cfg, const char *name)
{
	const struct config_val *v = config_val(cfg, name);

	if (v->key->type == CFG_PATH)
		return v->resolved;
	return v->value ? v->value : v->key->def;
}

long config_int(const struct config *cfg, const char *name)
{
	return config_val(cfg, name)->ival;
}

int config_bool(const struct config *cfg, const char *name)
{
	return (int)config_val(cfg, name)->ival;
}

const char *config_path(const struct config *cfg, const char *name)
{
	return config_val(cfg, name)->resolved;
}

const char *config_file(const struct config *cfg)
{
	return cfg->file;
}

void config_print_keys(const struct config_key *const *tables)
{
	static const char *types[] = { "string", "integer", "yes/no", "path" };

	for (size_t t = 0; tables[t] != NULL; t++)
		for (const struct config_key *k = tables[t]; k->name != NULL; k++)
			printf("%s\t%s\t%s\t%s\n", k->name, types[k->type], k->def, k->help);
}
