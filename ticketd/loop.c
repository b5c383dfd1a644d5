/* The event loop; the design is in loop.h.
 *
 * A NOTIFY can reach us two ways: on the socket while we poll, or inside
 * the reply to one of our own queries (an API handler's, intake's), where
 * libpq queues it and the socket never turns readable again.  So the loop
 * asks libpq for queued notifications after every piece of work that ran
 * queries, not only when poll() says so; that is what keeps an event
 * stream within milliseconds of the NOTIFY.
 *
 * A signal that lands between the flag check and poll() waits for the
 * next wake-up, at most the 1 s tick.
 *
 * The routing rules (route.h) are read at the first connection, after
 * every reconnect (a NOTIFY route_change sent meanwhile is lost) and on
 * NOTIFY route_change, always before intake's batch of the same turn, so
 * a mail that arrives after an admin's edit meets the edited rules.
 * Intake waits until the rules have been read once: a mail routed by no
 * rules because the load had not happened yet would stay unrouted. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "config.h"
#include "cti_ami.h" /* the AMI client (issue 9) */
#include "daemon.h"
#include "db.h"
#include "http.h"
#include "intake.h"
#include "log.h"
#include "loop.h"
#include "route.h"
#include "search.h"
#include "sla.h"

#define LOOP_TICK_MS 1000
/* rounds of "deliver notifications, serve" before we poll again */
#define LOOP_SLA_QUIET_MS 300
#define LOOP_MAX_ROUNDS 8
/* notifications delivered per round: a ticket_change event is at most
 * 8 kB, so a round adds at most 32 kB to an event stream's buffer
 * (ticketd.sse_max_buffer, 64 kB by default) before HTTP writes it out */
#define LOOP_NOTIFY_BATCH 4

struct loop {
	struct config *cfg;
	const struct config_key *const *tables;
	struct db *db;
	struct api *api;
	struct http *http;
	struct intake *intake;
	struct route *route;
	struct search *search;
	int search_due; /* index new messages when intake is idle */
	struct sla *sla;
	int sla_due; /* due times and warnings, when intake is idle */
	int64_t intake_worked_ms; /* when intake last took mail in */
	int route_due; /* reload the rules this turn */
	int route_failed; /* the last reload failed: again on the tick */
	int route_ready; /* loaded once: intake may run */
	int64_t next_tick;
	int intake_due; /* run a batch this turn */
	int busy; /* more to do at once: poll without sleeping */
	int was_connected;
	int notified; /* notifications delivered by the last read */
	struct cti_ami *ami; /* the AMI client: its socket is polled here */
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

struct loop *loop_new(struct config *cfg, const struct config_key *const *tables,
		      struct db *db)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->cfg = cfg;
	l->tables = tables;
	l->db = db;
	loop_log_level(cfg);
	l->api = api_new(db, cfg);
	l->intake = l->api ? intake_new(db, cfg) : NULL;
	l->route = l->intake ? route_new(db) : NULL;
	l->search = l->route ? search_new(db, cfg) : NULL;
	l->sla = l->search ? sla_new(db, cfg) : NULL;
	if (l->sla == NULL) {
		loop_free(l);
		return NULL;
	}
	l->ami = cti_ami_new(db, cfg);
	if (l->ami == NULL) {
		loop_free(l);
		return NULL;
	}
	intake_set_route(l->intake, l->route);
	db_listen(db, "inbound");
	db_listen(db, "ticket_change");
	db_listen(db, "route_change");
	db_listen(db, "presence");
	db_listen(db, "cti_call"); /* the screen pop (cti.c) */
	db_listen(db, "cti_acw"); /* queue pauses for after-call work (cti_ami.c) */
	l->http = http_new(cfg, api_handle, l->api);
	if (l->http == NULL) {
		loop_free(l);
		return NULL;
	}
	http_set_body_limit(l->http, api_body_limit);
	l->next_tick = clock_mono_ms();
	l->intake_due = 1;
	return l;
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	http_free(l->http); /* first: it ends the event streams api owns */
	api_free(l->api);
	if (l->intake != NULL)
		intake_free(l->intake);
	route_free(l->route); /* after intake, which uses it */
	search_free(l->search);
	sla_free(l->sla);
	cti_ami_free(l->ami);
	db_free(l->db);
	config_free(l->cfg);
	free(l);
}

static void loop_reload(struct loop *l)
{
	char err[512];
	struct config *n = config_load(config_file(l->cfg), l->tables, err, sizeof(err));

	if (n == NULL) {
		log_error("reload failed, keeping the old configuration: %s", err);
		return;
	}
	if (strcmp(config_str(n, "ticketd.listen"), config_str(l->cfg, "ticketd.listen")) != 0 ||
	    strcmp(config_str(n, "ticketd.db_user"), config_str(l->cfg, "ticketd.db_user")) != 0)
		log_warn("ticketd.listen and ticketd.db_user take effect at the next start");
	loop_log_level(n);
	http_configure(l->http, n);
	api_configure(l->api, n);
	intake_configure(l->intake, n);
	search_configure(l->search, n);
	sla_configure(l->sla, n);
	cti_ami_configure(l->ami, n);
	config_free(l->cfg);
	l->cfg = n;
	log_info("configuration reloaded from %s", config_file(n));
}

static void loop_on_notify(void *arg, const char *channel, const char *payload)
{
	struct loop *l = arg;

	l->notified++;
	if (strcmp(channel, "inbound") == 0)
		l->intake_due = 1;
	else if (strcmp(channel, "ticket_change") == 0)
		api_ticket_change(l->api, payload);
	else if (strcmp(channel, "route_change") == 0)
		l->route_due = 1;
	else if (strcmp(channel, "presence") == 0)
		api_presence(l->api, payload);
	else if (strcmp(channel, "cti_call") == 0)
		api_cti_call(l->api, payload);
	else if (strcmp(channel, "cti_acw") == 0)
		cti_ami_acw(l->ami, payload);
	else if (strcmp(channel, "calendar_change") == 0) {
		sla_calendar_changed(l->sla);
		l->sla_due = 1;
	}
}

static int loop_notifications(struct loop *l)
{
	l->notified = 0;
	if (db_connected(l->db))
		db_notifications_some(l->db, loop_on_notify, l, LOOP_NOTIFY_BATCH);
	return l->notified;
}

/* deliver notifications and serve HTTP until neither has more */
static void loop_serve(struct loop *l)
{
	int rounds = 0;

	loop_notifications(l);
	http_run(l->http);
	while (loop_notifications(l) > 0 && ++rounds < LOOP_MAX_ROUNDS)
		http_run(l->http);
	l->busy = rounds == LOOP_MAX_ROUNDS;
}

static void loop_db(struct loop *l)
{
	int up = db_ensure(l->db) == 0;

	if (up && !l->was_connected) {
		/* NOTIFYs sent while we were away are lost: rescan, reread */
		l->intake_due = 1;
		l->route_due = 1;
	}
	l->was_connected = up;
}

static void loop_wait(struct loop *l)
{
	struct pollfd pfd[3] = { { http_fd(l->http), POLLIN, 0 }, { db_fd(l->db), POLLIN, 0 },
				 { cti_ami_fd(l->ami), cti_ami_poll_events(l->ami), 0 } };
	int64_t now = clock_mono_ms();
	int64_t t = l->next_tick > now ? l->next_tick - now : 0;
	int ht = http_timeout_ms(l->http), at = cti_ami_timeout_ms(l->ami);

	if (ht >= 0 && ht < t)
		t = ht;
	if (at >= 0 && at < t)
		t = at;
	if (!db_connected(l->db) && db_retry_in_ms(l->db) < t)
		t = db_retry_in_ms(l->db);
	if (l->sla_due && db_connected(l->db)) {
		int64_t quiet = l->intake_worked_ms + LOOP_SLA_QUIET_MS - now;

		if (quiet < t)
			t = quiet > 0 ? quiet : 0; /* loop_sla waits that long after intake */
	}
	if (l->busy || ((l->intake_due || l->route_due || l->search_due) && db_connected(l->db)))
		t = 0;
	if (pfd[1].fd < 0) { /* poll skips a negative fd; keep the AMI's */
		pfd[1].fd = -1;
		pfd[1].events = 0;
	}
	if (poll(pfd, 3, (int)t) < 0 && errno != EINTR)
		log_error("poll failed: %s", strerror(errno));
}

static void loop_timers(struct loop *l)
{
	int64_t now = clock_mono_ms();

	if (now < l->next_tick)
		return;
	l->next_tick = now + LOOP_TICK_MS;
	l->intake_due = 1; /* a lost NOTIFY costs at most a second */
	/* replies and notes are indexed within a second; not on every
	 * ticket_change, whose bursts must reach the event streams between
	 * our queries (a query reads every queued NOTIFY off the socket at
	 * once: test_ticketd_api's 400 large events then overran both
	 * clients' buffers) */
	l->search_due = 1;
	l->sla_due = 1; /* warning times pass by the clock, not by a NOTIFY */
	if (l->route_failed)
		l->route_due = 1;
	api_tick(l->api);
}

static void loop_routes(struct loop *l)
{
	if (!l->route_due || !db_connected(l->db))
		return;
	l->route_due = 0;
	l->route_failed = route_reload(l->route) < 0;
	if (!l->route_failed)
		l->route_ready = 1;
}

/* one batch per turn, so HTTP is served between batches */
static void loop_intake(struct loop *l)
{
	if (!l->intake_due || !db_connected(l->db) || !l->route_ready)
		return;
	/* A batch that did work may have a successor (we ask again rather
	 * than compare with the batch size, which is intake's business); an
	 * empty batch or an error waits for the next NOTIFY or tick. */
	l->intake_due = intake_run(l->intake) > 0;
	if (l->intake_due)
		l->intake_worked_ms = clock_mono_ms();
	if (!l->intake_due)
		l->search_due = l->sla_due = 1;
}

/* the search index, only while intake has nothing to do; a full batch
 * asks for another turn (HTTP is served between) */
static void loop_search(struct loop *l)
{
	int n;

	if (!l->search_due || l->intake_due || !db_connected(l->db))
		return;
	n = search_index_run(l->search);
	l->search_due = n > 0;
}

/* due times of new and changed tickets, then warnings; like the search,
 * only while intake is idle, a batch a turn - and not in the gaps of a
 * burst of mail: a due time may wait LOOP_SLA_QUIET_MS, intake may not
 * (tests/bench/ingest: 2 350 -> 1 760 mails/s when it ran in the gaps) */
static void loop_sla(struct loop *l)
{
	if (!l->sla_due || l->intake_due || !db_connected(l->db))
		return;
	if (clock_mono_ms() - l->intake_worked_ms < LOOP_SLA_QUIET_MS)
		return; /* the tick asks again */
	l->sla_due = sla_run(l->sla) > 0;
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
		loop_serve(l);
		loop_timers(l);
		loop_routes(l);
		loop_intake(l);
		loop_search(l);
		loop_sla(l);
		if (db_connected(l->db))
			cti_ami_run(l->ami); /* AMI events go straight to PostgreSQL */
		/* again: the tick's and intake's queries may have read NOTIFYs */
		loop_serve(l);
	}
	log_info("stopping");
	return 0;
}
