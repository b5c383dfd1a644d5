/* settings: the key table (its help texts become etc/madoguchi.conf's
 * comments) and the checks that span several keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "faxmail.h"
#include "settings.h"
#include "tls.h"

#define SETTINGS_PASSWORD_MAX 1024

const struct config_key settings_keys[] = {
	{ "ingest_mail.source", CFG_STR, "maildir", 0, 0,
	  "where mail comes from: maildir (a local Maildir folder), imaps (IMAP over TLS, "
	  "port 993), starttls (IMAP upgraded with STARTTLS, port 143) or imap (plain text; "
	  "the password crosses the network unencrypted: loopback only)" },
	{ "ingest_mail.account", CFG_STR, "mail", 0, 0,
	  "name of this intake account, stored as inbound_item.source; together with the "
	  "message key it makes intake exactly-once, so do not rename an account in use" },
	{ "ingest_mail.db_user", CFG_STR, "madoguchi_ingest", 0, 0,
	  "PostgreSQL role ingest-mail logs in as (it may only insert inbound items and "
	  "keep mailbox_state)" },
	{ "ingest_mail.maildir", CFG_PATH, "var/mail/inbox", 0, 0,
	  "maildir source: the Maildir folder (with new/, cur/, tmp/); files in new/ are "
	  "stored, then renamed into cur/ with the Seen flag" },
	{ "ingest_mail.imap_host", CFG_STR, "", 0, 0,
	  "IMAP server host name; with TLS the certificate must name it (or be pinned)" },
	{ "ingest_mail.imap_port", CFG_INT, "0", 0, 65535,
	  "IMAP server port; 0 means 993 for imaps, 143 for starttls and imap" },
	{ "ingest_mail.imap_user", CFG_STR, "", 0, 0, "IMAP login name" },
	{ "ingest_mail.imap_password", CFG_STR, "", 0, 0,
	  "IMAP password; prefer imap_password_file so the config can be world-readable" },
	{ "ingest_mail.imap_password_file", CFG_PATH, "", 0, 0,
	  "file whose first line is the IMAP password (read at start and on SIGHUP); "
	  "takes precedence over imap_password" },
	{ "ingest_mail.imap_mailbox", CFG_STR, "INBOX", 0, 0, "IMAP folder to take mail from" },
	{ "ingest_mail.imap_after", CFG_STR, "flag", 0, 0,
	  "what to do on the server once mail is committed: flag (add the keyword "
	  "$MadoguchiStored), seen (also mark it read), move (move it to imap_move_to); "
	  "nothing is changed on the server before the database commit" },
	{ "ingest_mail.imap_move_to", CFG_STR, "", 0, 0,
	  "folder that stored mail is moved to when imap_after = move (must exist); "
	  "uses MOVE, or COPY + \\Deleted + EXPUNGE where the server has no MOVE" },
	{ "ingest_mail.imap_pin_sha256", CFG_STR, "", 0, 0,
	  "SHA-256 of the server's certificate (hex, colons allowed); when set, exactly "
	  "this certificate is accepted and no CA chain or host name is checked. The "
	  "refusal log line prints the value to pin for a self-signed server" },
	{ "ingest_mail.imap_ca_file", CFG_PATH, "", 0, 0,
	  "PEM file of CA certificates to trust for the IMAP server instead of the system "
	  "store; empty means the system store (/etc/ssl/certs)" },
	{ "ingest_mail.imap_timeout", CFG_INT, "60", 5, 3600,
	  "seconds of network silence after which an IMAP command is given up and the "
	  "connection is made again" },
	{ "ingest_mail.poll_seconds", CFG_INT, "30", 1, 3600,
	  "IMAP: seconds between checks for new mail on servers without IDLE; with IDLE "
	  "also the longest a notification the server buffered can wait" },
	{ "ingest_mail.fetch_batch", CFG_INT, "200", 1, 10000,
	  "messages per batch: one IMAP FETCH (or Maildir pass) and one database "
	  "transaction; bounds how much is redone after a failure" },
	{ "ingest_mail.max_message_bytes", CFG_INT, "26214400", 1024, 2147483647,
	  "a message larger than this is still stored whole, but flagged 'oversize' so "
	  "ticketd does not parse it" },
	{ "ingest_mail.min_free_path", CFG_PATH, "var", 0, 0,
	  "a path on the file system whose free space is checked before each batch "
	  "(the database's disk, when it is local)" },
	{ "ingest_mail.min_free_mb", CFG_INT, "256", 0, 1048576,
	  "intake pauses (and marks nothing on the server) while min_free_path has less "
	  "free space than this many MiB; 0 turns the check off" },
	{ "ingest_mail.db_max_mb", CFG_INT, "0", 0, 1073741824,
	  "intake pauses while pg_database_size() is above this many MiB; 0 turns the "
	  "check off" },
	{ "ingest_mail.fax_senders", CFG_STR, "", 0, 0,
	  "fax-to-mail: sender addresses (a@b.jp) or domains (b.jp, and its subdomains),"
	  " separated by commas, whose mails with TIFF or PDF attachments are stored as fax"
	  " items with their pages; empty turns fax-to-mail off" },
	{ "ingest_mail.fax_did_header", CFG_STR, "", 0, 0,
	  "fax-to-mail: the header field holding the number the fax was sent to (its digits"
	  " are the DID that routes it), e.g. X-Fax-DID; empty: none" },
	{ "ingest_mail.fax_did_subject", CFG_STR, "", 0, 0,
	  "fax-to-mail: a POSIX extended regular expression with one group ( ) around the"
	  " number the fax was sent to, matched against the subject when the header gives"
	  " none, e.g. FAX to ([0-9-]+); empty: none" },
	{ "ingest_mail.fax_max_pages", CFG_INT, "50", 1, 1000,
	  "fax-to-mail: most pages taken from one mail (TIFF and PDF together); the rest"
	  " stays in the raw mail and the fax is marked incomplete" },
	{ "ingest_mail.fax_pdf_seconds", CFG_INT, "60", 1, 3600,
	  "fax-to-mail: a PDF is rendered in a child process that is stopped after this many"
	  " seconds (the pages done by then are kept, the fax marked incomplete)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static int settings_enum(const char *v, const char *const *names, int *out)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

/* the first line of path, without its line end */
static char *settings_read_password(const char *path, char *err, size_t errlen)
{
	char line[SETTINGS_PASSWORD_MAX + 2];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "ingest_mail.imap_password_file: could not open \"%s\": %s",
			 path, strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	if (n > SETTINGS_PASSWORD_MAX) {
		snprintf(err, errlen, "ingest_mail.imap_password_file: first line too long");
		return NULL;
	}
	line[n] = '\0';
	return strdup(line);
}

static int settings_imap(struct settings *s, const struct config *cfg, char *err, size_t errlen)
{
	const char *pwfile = config_path(cfg, "ingest_mail.imap_password_file");
	const char *pin = config_str(cfg, "ingest_mail.imap_pin_sha256");
	const char *ca = config_path(cfg, "ingest_mail.imap_ca_file");

	if (s->host[0] == '\0' || s->user[0] == '\0') {
		snprintf(err, errlen, "ingest_mail.imap_host and ingest_mail.imap_user are needed "
				      "for an IMAP source");
		return -1;
	}
	if (s->port == 0)
		s->port = s->source == SETTINGS_IMAPS ? 993 : 143;
	if (s->after == SETTINGS_AFTER_MOVE && s->move_to[0] == '\0') {
		snprintf(err, errlen, "ingest_mail.imap_after = move needs ingest_mail.imap_move_to");
		return -1;
	}
	if (pin[0] != '\0') {
		if (tls_parse_hex(pin, s->pin, sizeof(s->pin)) < 0) {
			snprintf(err, errlen, "ingest_mail.imap_pin_sha256: expected 64 hex digits");
			return -1;
		}
		s->has_pin = 1;
	}
	s->ca_file = ca[0] != '\0' ? ca : NULL;
	if (pwfile[0] != '\0')
		s->password = settings_read_password(pwfile, err, errlen);
	else
		s->password = strdup(config_str(cfg, "ingest_mail.imap_password"));
	if (s->password == NULL)
		return -1;
	if (s->password[0] == '\0') {
		snprintf(err, errlen, "no IMAP password: set ingest_mail.imap_password_file");
		return -1;
	}
	return 0;
}

int settings_from_config(struct settings *s, const struct config *cfg, char *err, size_t errlen)
{
	static const char *const sources[] = { "maildir", "imap", "imaps", "starttls", NULL };
	static const char *const afters[] = { "flag", "seen", "move", NULL };
	int v;

	memset(s, 0, sizeof(*s));
	if (settings_enum(config_str(cfg, "ingest_mail.source"), sources, &v) < 0) {
		snprintf(err, errlen, "ingest_mail.source: expected maildir, imaps, starttls or imap");
		return -1;
	}
	s->source = (enum settings_source)v;
	if (settings_enum(config_str(cfg, "ingest_mail.imap_after"), afters, &v) < 0) {
		snprintf(err, errlen, "ingest_mail.imap_after: expected flag, seen or move");
		return -1;
	}
	s->after = (enum settings_after)v;
	s->account = config_str(cfg, "ingest_mail.account");
	s->maildir = config_path(cfg, "ingest_mail.maildir");
	s->host = config_str(cfg, "ingest_mail.imap_host");
	s->port = (int)config_int(cfg, "ingest_mail.imap_port");
	s->user = config_str(cfg, "ingest_mail.imap_user");
	s->mailbox = config_str(cfg, "ingest_mail.imap_mailbox");
	s->move_to = config_str(cfg, "ingest_mail.imap_move_to");
	s->timeout_s = (int)config_int(cfg, "ingest_mail.imap_timeout");
	s->poll_s = (int)config_int(cfg, "ingest_mail.poll_seconds");
	s->batch = (int)config_int(cfg, "ingest_mail.fetch_batch");
	s->max_message_bytes = config_int(cfg, "ingest_mail.max_message_bytes");
	s->min_free_path = config_path(cfg, "ingest_mail.min_free_path");
	s->min_free_mb = config_int(cfg, "ingest_mail.min_free_mb");
	s->db_max_mb = config_int(cfg, "ingest_mail.db_max_mb");
	s->fax_senders = config_str(cfg, "ingest_mail.fax_senders");
	s->fax_did_header = config_str(cfg, "ingest_mail.fax_did_header");
	s->fax_did_subject = config_str(cfg, "ingest_mail.fax_did_subject");
	s->fax_max_pages = (int)config_int(cfg, "ingest_mail.fax_max_pages");
	s->fax_pdf_seconds = (int)config_int(cfg, "ingest_mail.fax_pdf_seconds");
	if (faxmail_check_pattern(s->fax_did_subject, err, errlen) < 0)
		return -1;
	if (s->account[0] == '\0' || s->mailbox[0] == '\0') {
		snprintf(err, errlen, "ingest_mail.account and ingest_mail.imap_mailbox may not be empty");
		return -1;
	}
	if (s->source != SETTINGS_MAILDIR && settings_imap(s, cfg, err, errlen) < 0) {
		settings_free(s);
		return -1;
	}
	return 0;
}

void settings_free(struct settings *s)
{
	if (s->password != NULL) {
		/* do not leave the password in freed heap memory */
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	s->password = NULL;
}
