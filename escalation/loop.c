/* The event loop; the design is in loop.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "loop.h"
#include "outbox.h"
#include "remind.h"
#include "settings.h"

struct loop {
	struct config *cfg;
	const struct config_key *const *tables;
	struct db *db;
	struct outbox *outbox;
	struct remind *remind;
	sigset_t waitmask; /* the mask inside ppoll: our signals let through */
	int64_t next_rescan;
	int64_t next_due; /* monotonic ms when the earliest queued row comes due; -1 none */
	int due;          /* run a batch this turn */
	int was_connected;
	int remind_due;      /* run the reminder sweep this turn */
	int64_t next_remind; /* monotonic ms when the earliest reminder comes due; -1 none */
};

static void loop_log_level(const struct config *cfg)
{
	enum log_level lvl;

	if (log_parse_level(config_str(cfg, "log.level"), &lvl) == 0)
		log_set_level(lvl);
	else
		log_warn("log.level \"%s\" is not debug, info, warning or error",
			 config_str(cfg, "log.level"));
}

static void loop_block_signals(struct loop *l)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &l->waitmask);
	sigdelset(&l->waitmask, SIGTERM);
	sigdelset(&l->waitmask, SIGINT);
	sigdelset(&l->waitmask, SIGHUP);
}

struct loop *loop_new(struct config *cfg, const struct config_key *const *tables,
		      struct db *db)
{
	struct loop *l = calloc(1, sizeof(*l));
	struct settings s;
	char err[512];

	if (l == NULL)
		return NULL;
	l->cfg = cfg;
	l->tables = tables;
	l->db = db;
	loop_log_level(cfg);
	if (settings_load(cfg, &s, err, sizeof(err)) < 0) {
		log_error("%s", err);
		loop_free(l);
		return NULL;
	}
	if ((l->remind = remind_new(db, &s.remind)) == NULL ||
	    (l->outbox = outbox_new(db, &s)) == NULL) {
		settings_free(&s);
		loop_free(l);
		return NULL;
	}
	db_listen(db, "outbound");
	loop_block_signals(l);
	l->next_rescan = clock_mono_ms();
	l->next_due = -1;
	l->due = 1;
	l->remind_due = 1;
	l->next_remind = -1;
	return l;
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	outbox_free(l->outbox);
	remind_free(l->remind);
	db_free(l->db);
	config_free(l->cfg);
	free(l);
}

static void loop_reload(struct loop *l)
{
	char err[512];
	struct config *n = config_load(config_file(l->cfg), l->tables, err, sizeof(err));
	struct settings s;

	if (n == NULL || settings_load(n, &s, err, sizeof(err)) < 0) {
		log_error("reload failed, keeping the old configuration: %s", err);
		config_free(n);
		return;
	}
	if (strcmp(config_str(n, "escalation.db_user"), config_str(l->cfg, "escalation.db_user")))
		log_warn("escalation.db_user takes effect at the next start");
	loop_log_level(n);
	remind_configure(l->remind, &s.remind);
	outbox_configure(l->outbox, &s);
	config_free(l->cfg);
	l->cfg = n;
	l->due = 1;
	l->remind_due = 1;
	log_info("configuration reloaded from %s", config_file(n));
}

static void loop_on_notify(void *arg, const char *channel, const char *payload)
{
	struct loop *l = arg;

	(void)payload;
	/* a new escalation wakes the outbox; its first reminder is planned too */
	if (strcmp(channel, "outbound") == 0)
		l->due = l->remind_due = 1;
}

static void loop_db(struct loop *l)
{
	int up = db_ensure(l->db) == 0;

	if (up && !l->was_connected)
		l->due = l->remind_due = 1; /* NOTIFYs sent while we were away are lost: rescan */
	l->was_connected = up;
}

static void loop_wait(struct loop *l)
{
	struct pollfd pfd = { db_fd(l->db), POLLIN, 0 };
	int64_t now = clock_mono_ms();
	int64_t t = l->next_rescan > now ? l->next_rescan - now : 0;
	struct timespec ts;

	if (l->next_due >= 0 && l->next_due - now < t)
		t = l->next_due > now ? l->next_due - now : 0;
	if (!db_connected(l->db) && db_retry_in_ms(l->db) < t)
		t = db_retry_in_ms(l->db);
	if (l->next_remind >= 0 && l->next_remind - now < t)
		t = l->next_remind > now ? l->next_remind - now : 0;
	if ((l->due || l->remind_due) && db_connected(l->db))
		t = 0;
	ts.tv_sec = (time_t)(t / 1000);
	ts.tv_nsec = (long)(t % 1000) * 1000000;
	if (ppoll(&pfd, pfd.fd >= 0 ? 1 : 0, &ts, &l->waitmask) < 0 && errno != EINTR)
		log_error("poll failed: %s", strerror(errno));
}

static void loop_timers(struct loop *l)
{
	int64_t now = clock_mono_ms();
	int64_t rescan = (int64_t)config_int(l->cfg, "escalation.rescan_seconds") * 1000;

	if (now >= l->next_rescan) {
		l->next_rescan = now + rescan;
		l->due = l->remind_due = 1; /* a lost NOTIFY costs at most a rescan */
	}
	if (l->next_remind >= 0 && now >= l->next_remind)
		l->remind_due = 1;
	if (l->next_due >= 0 && now >= l->next_due)
		l->due = 1;
}

/* batches until the queue has nothing due, then when the next one is */
static void loop_outbox(struct loop *l)
{
	int64_t ms;
	int n;

	if (!l->due || !db_connected(l->db))
		return;
	n = outbox_run(l->outbox);
	/* a full batch may have a successor; signals are looked at between */
	l->due = n > 0;
	if (n < 0)
		return; /* the database: db_ensure retries, the reconnect rescans */
	ms = l->due ? -1 : outbox_next_due_ms(l->outbox);
	if (ms == 0)
		ms = 1000; /* due but not claimable: locked by another instance or ticketd */
	l->next_due = ms >= 0 ? clock_mono_ms() + ms : -1;
}

/* one batch of the reminder sweep; what it queues wakes the outbox */
static void loop_remind(struct loop *l)
{
	int64_t ms;
	int more, n;

	if (!l->remind_due || !db_connected(l->db))
		return;
	n = remind_run(l->remind, &more);
	if (n > 0)
		l->due = 1;
	l->remind_due = more;
	if (n < 0) {
		l->next_remind = -1; /* the database, or a calendar: the next rescan tries again */
		return;
	}
	ms = more ? -1 : remind_next_due_ms(l->remind);
	if (ms == 0)
		ms = 1000; /* due but not claimable: locked by another instance, or closed */
	l->next_remind = ms >= 0 ? clock_mono_ms() + ms : -1;
}

int loop_run(struct loop *l)
{
	while (!daemon_stop) {
		if (daemon_reload) {
			daemon_reload = 0;
			loop_reload(l);
		}
		loop_db(l);
		loop_wait(l);
		if (db_connected(l->db))
			db_notifications(l->db, loop_on_notify, l);
		loop_timers(l);
		loop_remind(l);
		loop_outbox(l);
	}
	log_info("stopping");
	return 0;
}
