/* ingest-ocr: Japanese OCR of fax pages (issue 8).
 *
 *   ingest-ocr [-c CONFIG]
 *   ingest-ocr --config-keys
 *
 * The supervisor: ocr.workers worker processes (worker.c), each reading one
 * page at a time with Tesseract on one thread (OMP_THREAD_LIMIT=1: the
 * process starts itself again with it set, since OpenMP reads it when the
 * library loads).  A worker tells the supervisor through a pipe when it
 * starts and ends a page; one that runs past ocr.page_seconds is killed
 * and its page marked (back to pending, or 'timeout' once its attempts are
 * used), one that dies is replaced and its page marked 'failed' the same
 * way.  SIGTERM/SIGINT: the workers are told to stop, and killed after 5 s.
 * Always in the foreground; logs to stderr. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "worker.h"

#define MAIN_MAX_WORKERS 32
#define MAIN_GRACE_MS 5000

static const struct config_key main_keys[] = {
	{ "ocr.db_user", CFG_STR, "madoguchi_ocr", 0, 0,
	  "PostgreSQL role ingest-ocr logs in as (grants in sql/026: the OCR columns of fax_page, "
	  "fax_candidate)" },
	{ "ocr.workers", CFG_INT, "2", 1, MAIN_MAX_WORKERS,
	  "worker processes, one page each at a time on one core: the number of cores OCR may use" },
	{ "ocr.page_seconds", CFG_INT, "60", 5, 3600,
	  "a page still being read after this long is given up on (its worker is killed); the "
	  "page is tried again until ocr.max_attempts" },
	{ "ocr.max_attempts", CFG_INT, "2", 1, 10,
	  "readings tried per page before it is marked timeout or failed and left" },
	{ "ocr.poll_seconds", CFG_INT, "5", 1, 3600,
	  "how often an idle worker looks for pages when no NOTIFY woke it" },
	{ "ocr.tessdata", CFG_PATH, "", 0, 0,
	  "folder of the Tesseract models (jpn, jpn_vert, osd, eng); empty: Debian's" },
	{ "ocr.pid_file", CFG_PATH, "", 0, 0, "write the process id here (empty: nowhere)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static const struct config_key *const main_tables[] = { config_common_keys, main_keys, NULL };

struct main_worker {
	pid_t pid;
	int fd;          /* the pipe's read end */
	char line[128];  /* a line being read */
	size_t len;
	long long item;  /* the page being read (item 0: none) */
	int page, attempt;
	int64_t since_ms;
};

struct main_state {
	struct config *cfg;
	struct worker_conf wc;
	struct db *db; /* the supervisor's own, for marking pages */
	struct main_worker w[MAIN_MAX_WORKERS];
	int n;
};

static struct db *main_db(const struct config *cfg, const char *app, const struct db_stmt *stmts)
{
	char *conninfo = db_conninfo(cfg, config_str(cfg, "ocr.db_user"));
	struct db *db = conninfo ? db_new(conninfo, app) : NULL;

	free(conninfo);
	if (db == NULL)
		log_fatal("out of memory");
	db_prepare_all(db, stmts);
	return db;
}

static void main_spawn(struct main_state *s, int i)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		log_fatal("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		log_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		struct db *db;

		close(p[0]);
		for (int k = 0; k < s->n; k++)
			if (k != i && s->w[k].fd >= 0)
				close(s->w[k].fd);
		log_init("ingest-ocr-worker");
		db = main_db(s->cfg, "ingest-ocr-worker", worker_stmts);
		_exit(worker_run(db, &s->wc, p[1]));
	}
	close(p[1]);
	memset(&s->w[i], 0, sizeof(s->w[i]));
	s->w[i].pid = pid;
	s->w[i].fd = p[0];
}

/* the page worker i held goes back (or is given up on) */
static void main_release(struct main_state *s, int i, const char *state, const char *why)
{
	struct main_worker *w = &s->w[i];

	if (w->item == 0)
		return;
	if (db_ensure(s->db) < 0 ||
	    worker_mark(s->db, w->item, w->page, w->attempt, s->wc.max_attempts, state, why) < 0)
		log_error("item=%lld page=%d: could not be marked (%s); its lease runs out by itself",
			  w->item, w->page, why);
	w->item = 0;
}

static void main_line(struct main_worker *w)
{
	long long item;
	int page, attempt;

	if (sscanf(w->line, "B %lld %d %d", &item, &page, &attempt) == 3) {
		w->item = item, w->page = page, w->attempt = attempt;
		w->since_ms = clock_mono_ms();
	} else if (strcmp(w->line, "E") == 0) {
		w->item = 0;
	}
}

/* lines from worker i; -1 when its pipe closed */
static int main_read(struct main_worker *w)
{
	char chunk[256];
	ssize_t n = read(w->fd, chunk, sizeof(chunk));

	if (n <= 0)
		return n < 0 && errno == EINTR ? 0 : -1;
	for (ssize_t k = 0; k < n; k++) {
		if (chunk[k] == '\n') {
			w->line[w->len] = '\0';
			main_line(w);
			w->len = 0;
		} else if (w->len + 1 < sizeof(w->line)) {
			w->line[w->len++] = chunk[k];
		}
	}
	return 0;
}

/* a worker that ended: its page marked, a new one started (unless stopping) */
static void main_reap(struct main_state *s, int i, int status)
{
	char why[96];

	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "the worker died reading it (signal %d)",
			 WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "the worker ended reading it (status %d)",
			 WEXITSTATUS(status));
	if (s->w[i].item != 0)
		log_error("item=%lld page=%d: %s", s->w[i].item, s->w[i].page, why);
	main_release(s, i, "failed", why);
	close(s->w[i].fd);
	s->w[i].fd = -1;
	s->w[i].pid = 0;
	if (!daemon_stop) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
			log_fatal("a worker could not start (see above): stopping");
		main_spawn(s, i);
	}
}

static void main_timeouts(struct main_state *s)
{
	int64_t now = clock_mono_ms();

	for (int i = 0; i < s->n; i++) {
		struct main_worker *w = &s->w[i];
		char why[96];

		if (w->pid <= 0 || w->item == 0 ||
		    now - w->since_ms <= (int64_t)s->wc.page_seconds * 1000)
			continue;
		snprintf(why, sizeof(why), "over the time limit of %d s", s->wc.page_seconds);
		log_warn("item=%lld page=%d: %s (attempt %d): worker killed", w->item, w->page, why,
			 w->attempt);
		kill(w->pid, SIGKILL);
		main_release(s, i, "timeout", why);
	}
}

static void main_children(struct main_state *s)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (int i = 0; i < s->n; i++)
			if (s->w[i].pid == pid) {
				while (main_read(&s->w[i]) == 0) /* its last lines */
					;
				main_reap(s, i, status);
			}
}

static void main_loop(struct main_state *s)
{
	struct pollfd pfd[MAIN_MAX_WORKERS];

	while (!daemon_stop) {
		for (int i = 0; i < s->n; i++)
			pfd[i] = (struct pollfd){ s->w[i].fd, POLLIN, 0 };
		if (poll(pfd, (nfds_t)s->n, 1000) < 0 && errno != EINTR)
			log_error("poll failed: %s", strerror(errno));
		for (int i = 0; i < s->n; i++)
			if (pfd[i].revents & POLLIN)
				main_read(&s->w[i]);
		main_children(s);
		main_timeouts(s);
	}
}

static void main_stop(struct main_state *s)
{
	int64_t end = clock_mono_ms() + MAIN_GRACE_MS;
	int left;

	for (int i = 0; i < s->n; i++)
		if (s->w[i].pid > 0)
			kill(s->w[i].pid, SIGTERM);
	do {
		left = 0;
		main_children(s);
		for (int i = 0; i < s->n; i++)
			left += s->w[i].pid > 0;
		if (left > 0)
			usleep(50000);
	} while (left > 0 && clock_mono_ms() < end);
	for (int i = 0; i < s->n; i++)
		if (s->w[i].pid > 0) {
			log_warn("a worker did not stop in time: killed (its page's lease runs out)");
			kill(s->w[i].pid, SIGKILL);
		}
	while (wait(NULL) > 0)
		;
}

/* OpenMP reads OMP_THREAD_LIMIT when libtesseract loads: set it and start
 * again, once */
static void main_one_thread(char **argv)
{
	const char *v = getenv("OMP_THREAD_LIMIT");

	if (v != NULL && strcmp(v, "1") == 0)
		return;
	setenv("OMP_THREAD_LIMIT", "1", 1);
	execv("/proc/self/exe", argv);
	log_fatal("cannot start again with OMP_THREAD_LIMIT=1: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *path = daemon_options(argc, argv, "ingest-ocr", main_tables);
	static struct main_state s;
	char err[512];

	log_init("ingest-ocr");
	main_one_thread(argv);
	if ((s.cfg = config_load(path, main_tables, err, sizeof(err))) == NULL)
		log_fatal("%s", err);
	s.wc.max_attempts = (int)config_int(s.cfg, "ocr.max_attempts");
	s.wc.page_seconds = (int)config_int(s.cfg, "ocr.page_seconds");
	s.wc.poll_seconds = (int)config_int(s.cfg, "ocr.poll_seconds");
	s.wc.tessdata = config_path(s.cfg, "ocr.tessdata");
	s.n = (int)config_int(s.cfg, "ocr.workers");
	daemon_signals();
	if (config_path(s.cfg, "ocr.pid_file")[0] != '\0' &&
	    daemon_pidfile(config_path(s.cfg, "ocr.pid_file")) < 0)
		return 1;
	s.db = main_db(s.cfg, "ingest-ocr", worker_stmts);
	for (int i = 0; i < s.n; i++)
		s.w[i].fd = -1;
	for (int i = 0; i < s.n; i++)
		main_spawn(&s, i);
	log_info("reading fax pages with %d workers (limit %d s a page, %d attempts)", s.n,
		 s.wc.page_seconds, s.wc.max_attempts);
	main_loop(&s);
	main_stop(&s);
	db_free(s.db);
	config_free(s.cfg);
	log_info("stopped");
	return 0;
}
