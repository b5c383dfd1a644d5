/* settings: the key table with its help texts, and the checks across keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "utf8.h"

const struct config_key settings_keys[] = {
	{ "escalation.db_user", CFG_STR, "madoguchi_escalation", 0, 0,
	  "PostgreSQL role escalationd logs in as (grants in sql/: the outgoing mail queue, the "
	  "delivery state of messages, the ticket timeline)" },
	{ "escalation.pid_file", CFG_PATH, "", 0, 0, "write the process id here (empty: nowhere)" },
	{ "escalation.smtp_host", CFG_STR, "127.0.0.1", 0, 0,
	  "SMTP relay that takes outgoing mail; with TLS its certificate must name this host (or "
	  "be pinned)" },
	{ "escalation.smtp_port", CFG_INT, "25", 1, 65535,
	  "SMTP relay port (25 or 587 with starttls, 465 with tls)" },
	{ "escalation.smtp_security", CFG_STR, "none", 0, 0,
	  "none (plain text: for a relay on this machine only), starttls (upgrade with STARTTLS; "
	  "refuses a relay that does not offer it) or tls (TLS from the first byte)" },
	{ "escalation.smtp_user", CFG_STR, "", 0, 0,
	  "AUTH login name (PLAIN, else LOGIN); empty: no AUTH" },
	{ "escalation.smtp_password_file", CFG_PATH, "", 0, 0,
	  "file whose first line is the AUTH password (read at start and on SIGHUP; the password "
	  "is never written in this file)" },
	{ "escalation.smtp_allow_plain_auth", CFG_BOOL, "no", 0, 0,
	  "allow AUTH over a connection without TLS (the password crosses the network in clear)" },
	{ "escalation.smtp_ca_file", CFG_PATH, "", 0, 0,
	  "PEM file of CA certificates to trust for the relay instead of the system store" },
	{ "escalation.smtp_pin_sha256", CFG_STR, "", 0, 0,
	  "SHA-256 of the relay's certificate (hex, colons allowed); when set, exactly this "
	  "certificate is accepted and no CA chain or host name is checked. A refused "
	  "certificate is logged with the value to put here" },
	{ "escalation.smtp_helo_name", CFG_STR, "", 0, 0,
	  "name said in EHLO/HELO; empty: this machine's host name" },
	{ "escalation.smtp_timeout_seconds", CFG_INT, "60", 1, 600,
	  "limit for connecting and for each reply of the relay" },
	{ "escalation.smtp_retry_min_seconds", CFG_INT, "60", 1, 86400,
	  "wait after the first failed attempt; each further failure doubles it (less up to a "
	  "fifth, at random)" },
	{ "escalation.smtp_retry_max_seconds", CFG_INT, "1800", 1, 604800,
	  "the longest wait between attempts" },
	{ "escalation.smtp_give_up_hours", CFG_INT, "48", 1, 8760,
	  "a mail still not taken this long after it was queued (or requeued) becomes dead" },
	{ "escalation.smtp_max_attempts", CFG_INT, "0", 0, 100000,
	  "a mail becomes dead after this many attempts; 0: only smtp_give_up_hours ends them" },
	{ "escalation.smtp_batch", CFG_INT, "10", 1, 1000,
	  "mails claimed at once and sent over one connection" },
	{ "escalation.smtp_lease_seconds", CFG_INT, "600", 10, 86400,
	  "a claimed mail is not claimed again for this long, so a crash mid-send retries it "
	  "after that; must leave room for five smtp_timeout_seconds" },
	{ "escalation.rescan_seconds", CFG_INT, "30", 1, 3600,
	  "look for due mail at least this often even without NOTIFY outbound" },
	{ "escalation.reminder_at", CFG_STR, "10:00", 0, 0,
	  "time of day (HH:MM, Tokyo) reminders (催促) to departments that have not answered an "
	  "escalation are sent at; moved to the department's next opening when it is closed then" },
	{ "escalation.reminder_first_days", CFG_INT, "1", 1, 365,
	  "the first reminder on this business day after the escalation was sent (on the "
	  "department's calendar, else the ward's)" },
	{ "escalation.reminder_every_days", CFG_INT, "1", 1, 365,
	  "then a reminder every this many business days until the department answers" },
	{ "escalation.reminder_head_after", CFG_INT, "3", 0, 1000,
	  "from this reminder on, the department's head of section (head_mail) gets a copy in "
	  "Cc; 0: never" },
	{ "escalation.reminder_max", CFG_INT, "10", 0, 1000,
	  "reminders at most for one escalation, then they stop (logged); 0: no reminders" },
	{ "escalation.reminder_template", CFG_PATH, "templates/reminder/reminder.txt", 0, 0,
	  "the text of a reminder, UTF-8 with {{variables}} (read at start and on SIGHUP; the "
	  "variables are listed in templates/reminder/README)" },
	{ "escalation.reminder_batch", CFG_INT, "200", 1, 10000,
	  "escalations planned or reminded in one transaction" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

/* the first line of a file, or NULL with err */
static char *settings_read_password(const char *path, char *err, size_t errlen)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		snprintf(err, errlen, "escalation.smtp_password_file: cannot open %s: %s", path,
			 strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0') {
		snprintf(err, errlen, "escalation.smtp_password_file: %s has no password", path);
		return NULL;
	}
	return strdup(line);
}

#define SETTINGS_TEMPLATE_MAX 65536

/* the reminder text, checked; NULL with err */
static char *settings_read_template(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = malloc(SETTINGS_TEMPLATE_MAX + 1), why[100];
	const char *bad = NULL;
	size_t n = 0;

	if (f == NULL || text == NULL) {
		snprintf(err, errlen, "escalation.reminder_template: cannot open %s: %s", path,
			 f == NULL ? strerror(errno) : "out of memory");
		if (f != NULL)
			fclose(f);
		free(text);
		return NULL;
	}
	n = fread(text, 1, SETTINGS_TEMPLATE_MAX + 1, f);
	fclose(f);
	text[n > SETTINGS_TEMPLATE_MAX ? SETTINGS_TEMPLATE_MAX : n] = '\0';
	if (n > SETTINGS_TEMPLATE_MAX)
		bad = "longer than 64 KiB";
	else if (strlen(text) != n || !utf8_valid(text, n))
		bad = "not UTF-8 text";
	else if (strspn(text, " \t\r\n") == n)
		bad = "empty";
	else
		bad = remind_template_check(text, why, sizeof(why));
	if (bad == NULL)
		return text;
	snprintf(err, errlen, "escalation.reminder_template: %s: %s", path, bad);
	free(text);
	return NULL;
}

static int settings_security(const char *v, enum smtp_security *out)
{
	if (strcmp(v, "none") == 0)
		*out = SMTP_PLAIN;
	else if (strcmp(v, "starttls") == 0)
		*out = SMTP_STARTTLS;
	else if (strcmp(v, "tls") == 0)
		*out = SMTP_TLS;
	else
		return -1;
	return 0;
}

static int settings_name_ok(const char *n)
{
	for (const char *p = n; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(".-[]:", *p) != NULL))
			return 0;
	return strlen(n) < 256;
}

static int settings_strings(const struct config *cfg, struct settings *s)
{
	const char *ca = config_path(cfg, "escalation.smtp_ca_file");

	s->host = strdup(config_str(cfg, "escalation.smtp_host"));
	s->helo_name = strdup(config_str(cfg, "escalation.smtp_helo_name"));
	s->user = strdup(config_str(cfg, "escalation.smtp_user"));
	s->ca_file = ca[0] ? strdup(ca) : NULL;
	return s->host && s->helo_name && s->user && (ca[0] == '\0' || s->ca_file) ? 0 : -1;
}

static void settings_numbers(const struct config *cfg, struct settings *s)
{
	s->port = (int)config_int(cfg, "escalation.smtp_port");
	s->allow_plain_auth = config_bool(cfg, "escalation.smtp_allow_plain_auth");
	s->timeout_s = (int)config_int(cfg, "escalation.smtp_timeout_seconds");
	s->retry.min_s = config_int(cfg, "escalation.smtp_retry_min_seconds");
	s->retry.max_s = config_int(cfg, "escalation.smtp_retry_max_seconds");
	s->retry.give_up_s = config_int(cfg, "escalation.smtp_give_up_hours") * 3600;
	s->retry.max_attempts = (int)config_int(cfg, "escalation.smtp_max_attempts");
	s->batch = (int)config_int(cfg, "escalation.smtp_batch");
	s->lease_s = config_int(cfg, "escalation.smtp_lease_seconds");
	s->rescan_s = config_int(cfg, "escalation.rescan_seconds");
	s->remind.at_tod = remind_parse_tod(config_str(cfg, "escalation.reminder_at"));
	s->remind.first_days = (int)config_int(cfg, "escalation.reminder_first_days");
	s->remind.every_days = (int)config_int(cfg, "escalation.reminder_every_days");
	s->remind.head_after = (int)config_int(cfg, "escalation.reminder_head_after");
	s->remind.max = (int)config_int(cfg, "escalation.reminder_max");
	s->remind.batch = (int)config_int(cfg, "escalation.reminder_batch");
}

/* the checks across keys; 0 or -1 with err */
static int settings_check(const struct config *cfg, struct settings *s, char *err, size_t errlen)
{
	const char *pin = config_str(cfg, "escalation.smtp_pin_sha256");
	const char *pwfile = config_path(cfg, "escalation.smtp_password_file");

	if (settings_security(config_str(cfg, "escalation.smtp_security"), &s->security) < 0)
		snprintf(err, errlen, "escalation.smtp_security: \"%s\" is not none, starttls or tls",
			 config_str(cfg, "escalation.smtp_security"));
	else if (s->host[0] == '\0' || !settings_name_ok(s->host))
		snprintf(err, errlen, "escalation.smtp_host: \"%s\" is not a host name", s->host);
	else if (!settings_name_ok(s->helo_name))
		snprintf(err, errlen, "escalation.smtp_helo_name: \"%s\" is not a host name",
			 s->helo_name);
	else if ((s->has_pin = pin[0] != '\0') && tls_parse_hex(pin, s->pin, sizeof(s->pin)) < 0)
		snprintf(err, errlen, "escalation.smtp_pin_sha256: expected 64 hex digits");
	else if ((s->remind.body = settings_read_template(
			  config_path(cfg, "escalation.reminder_template"), err, errlen)) == NULL)
		return -1;
	else if (s->remind.at_tod < 0)
		snprintf(err, errlen, "escalation.reminder_at: \"%s\" is not a time of day HH:MM",
			 config_str(cfg, "escalation.reminder_at"));
	else if (s->retry.min_s > s->retry.max_s)
		snprintf(err, errlen, "escalation.smtp_retry_min_seconds (%ld) is more than "
			 "smtp_retry_max_seconds (%ld)", s->retry.min_s, s->retry.max_s);
	else if (s->lease_s < 5L * s->timeout_s)
		snprintf(err, errlen, "escalation.smtp_lease_seconds (%ld) must be at least five "
			 "smtp_timeout_seconds (%d)", s->lease_s, s->timeout_s);
	else if (s->user[0] != '\0' && s->security == SMTP_PLAIN && !s->allow_plain_auth)
		snprintf(err, errlen, "escalation.smtp_user is set but smtp_security is none: the "
			 "password would cross the network in clear (use starttls or tls, or set "
			 "smtp_allow_plain_auth = yes for a relay on this machine)");
	else if (s->user[0] != '\0' && pwfile[0] == '\0')
		snprintf(err, errlen, "escalation.smtp_user is set but smtp_password_file is not");
	else if (s->user[0] != '\0' &&
		 (s->password = settings_read_password(pwfile, err, errlen)) == NULL)
		return -1;
	else
		return 0;
	return -1;
}

int settings_load(const struct config *cfg, struct settings *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	settings_numbers(cfg, s);
	if (settings_strings(cfg, s) < 0) {
		snprintf(err, errlen, "out of memory");
		settings_free(s);
		return -1;
	}
	if (settings_check(cfg, s, err, errlen) < 0) {
		settings_free(s);
		return -1;
	}
	return 0;
}

void settings_free(struct settings *s)
{
	free(s->host);
	free(s->helo_name);
	free(s->user);
	if (s->password != NULL) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s->ca_file);
	free(s->remind.body);
	memset(s, 0, sizeof(*s));
}

void settings_smtp_opts(const struct settings *s, struct smtp_opts *o)
{
	o->host = s->host;
	o->port = s->port;
	o->security = s->security;
	o->helo_name = s->helo_name;
	o->user = s->user;
	o->password = s->password ? s->password : "";
	o->allow_plain_auth = s->allow_plain_auth;
	o->timeout_s = s->timeout_s;
	o->pin = s->has_pin ? s->pin : NULL;
	o->ca_file = s->ca_file;
	o->pin_key = "escalation.smtp_pin_sha256";
}
