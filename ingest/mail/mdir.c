/* mdir: Maildir intake.
 *
 * Waking up: inotify on new/ (IN_MOVED_TO for the tmp/ -> new/ rename every
 * MTA does, IN_CLOSE_WRITE for writers that skip tmp/), plus a rescan every
 * minute in case an event was missed; without inotify a rescan every
 * second.  Each pass takes at most fetch_batch names from new/ (sorted, so
 * a backlog goes roughly oldest first, Maildir names starting with the
 * delivery time), and passes repeat while they make progress.
 *
 * Memory: one file at a time is in memory (the insert is synchronous);
 * the read buffer is dropped after a batch when a big file grew it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "ingest.h"
#include "log.h"
#include "mdir.h"
#include "pool.h"
#include "room.h"
#include "settings.h"
#include "store.h"

#define MDIR_RESCAN_INOTIFY_MS 60000
#define MDIR_RESCAN_POLL_MS 1000
#define MDIR_KEEP_BUFFER (1024 * 1024)

struct mdir {
	const struct settings *set;
	struct store *st;
	struct room *room;
	int newfd, curfd, ino;
	int dirty;
	int64_t next_scan_ms;
	struct ingest_backoff backoff;
	struct pool *pool; /* the batch's names */
	char **names;
	int *stored; /* per name: committed (insert or conflict) */
	size_t n;
	char *data; /* the file being stored */
	size_t cap;
};

int mdir_unique(const char *name, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (name[0] == '.' || name[0] == ':' || name[0] == '\0')
		return -1;
	/* the key is text: bytes that are not printable ASCII (a name need
	 * not be UTF-8) are written %XX, and so is '%', to stay one-to-one */
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0' && *p != ':'; p++) {
		int plain = *p > 0x20 && *p < 0x7f && *p != '%';

		if (o + (plain ? 1 : 3) >= outlen)
			return -1;
		if (plain)
			out[o++] = (char)*p;
		else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

struct mdir *mdir_open(const struct settings *set, struct store *st, struct room *room)
{
	struct mdir *m = calloc(1, sizeof(*m));

	if (m == NULL || (m->pool = pool_create(0)) == NULL)
		log_fatal("out of memory");
	m->names = calloc((size_t)set->batch, sizeof(*m->names));
	m->stored = calloc((size_t)set->batch, sizeof(*m->stored));
	if (m->names == NULL || m->stored == NULL)
		log_fatal("out of memory");
	m->set = set;
	m->st = st;
	m->room = room;
	m->newfd = m->curfd = m->ino = -1;
	m->dirty = 1;
	return m;
}

static void mdir_shut(struct mdir *m)
{
	if (m->newfd >= 0)
		close(m->newfd);
	if (m->curfd >= 0)
		close(m->curfd);
	if (m->ino >= 0)
		close(m->ino);
	m->newfd = m->curfd = m->ino = -1;
}

void mdir_close(struct mdir *m)
{
	if (m == NULL)
		return;
	mdir_shut(m);
	pool_destroy(m->pool);
	free(m->names);
	free(m->stored);
	free(m->data);
	free(m);
}

static int mdir_opendirs(struct mdir *m)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/new", m->set->maildir);
	m->newfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->newfd >= 0) {
		snprintf(path, sizeof(path), "%s/cur", m->set->maildir);
		m->curfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (m->newfd < 0 || m->curfd < 0) {
		log_error("maildir: cannot open \"%s\": %s", path, strerror(errno));
		mdir_shut(m);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/new", m->set->maildir);
	m->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->ino >= 0 && inotify_add_watch(m->ino, path, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(m->ino);
		m->ino = -1;
	}
	if (m->ino < 0)
		log_warn("maildir: cannot watch \"%s\" (%s); looking every second instead", path,
			 strerror(errno));
	log_info("maildir: taking mail from \"%s/new\"", m->set->maildir);
	return 0;
}

/* read what inotify has; any event (or an overflow) means "scan" */
static void mdir_drain(struct mdir *m)
{
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (m->ino < 0)
		return;
	while (read(m->ino, ev, sizeof(ev)) > 0)
		m->dirty = 1;
}

static int mdir_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* up to batch names from new/, sorted */
static int mdir_list(struct mdir *m)
{
	int fd = dup(m->newfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char key[768];

	pool_clear(m->pool);
	m->n = 0;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		log_error("maildir: cannot read new/: %s", strerror(errno));
		return -1;
	}
	rewinddir(d);
	while (m->n < (size_t)m->set->batch && (de = readdir(d)) != NULL) {
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (mdir_unique(de->d_name, key, sizeof(key)) < 0)
			continue;
		m->names[m->n] = pool_strdup(m->pool, de->d_name);
		if (m->names[m->n] == NULL)
			log_fatal("out of memory");
		m->stored[m->n++] = 0;
	}
	closedir(d);
	qsort(m->names, m->n, sizeof(*m->names), mdir_cmp);
	return 0;
}

/* the file into m->data; 1 read, 0 skip it (logged), -1 out of memory */
static int mdir_read(struct mdir *m, const char *name, size_t *len, int64_t *mtime_us)
{
	int fd = openat(m->newfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	size_t got = 0;
	ssize_t r;

	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		if (errno != ENOENT) /* gone: someone else took it */
			log_warn("msg=%s: cannot read it (%s); left in new/", name,
				 fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if ((size_t)sb.st_size + 1 > m->cap) {
		free(m->data);
		m->cap = (size_t)sb.st_size + 1;
		if ((m->data = malloc(m->cap)) == NULL) {
			m->cap = 0;
			close(fd);
			return -1;
		}
	}
	while (got < (size_t)sb.st_size &&
	       ((r = read(fd, m->data + got, (size_t)sb.st_size - got)) > 0 ||
		(r < 0 && errno == EINTR)))
		got += r > 0 ? (size_t)r : 0;
	close(fd);
	*len = got;
	*mtime_us = (int64_t)sb.st_mtim.tv_sec * 1000000 + sb.st_mtim.tv_nsec / 1000;
	return 1;
}

/* one transaction over the listed files; 0, or -1 (rolled back) */
static int mdir_store(struct mdir *m)
{
	char key[768];
	size_t len;
	int64_t mtime;
	int r = 0;

	if (store_begin(m->st) < 0)
		return -1;
	for (size_t i = 0; i < m->n; i++) {
		r = mdir_read(m, m->names[i], &len, &mtime);
		if (r < 0) {
			log_error("msg=%s: out of memory reading it", m->names[i]);
			break;
		}
		if (r == 0)
			continue;
		mdir_unique(m->names[i], key, sizeof(key));
		r = store_put(m->st, key, m->data, len, mtime, 0);
		if (r < 0)
			break;
		m->stored[i] = 1;
	}
	if (m->cap > MDIR_KEEP_BUFFER) {
		free(m->data);
		m->data = NULL;
		m->cap = 0;
	}
	if (r < 0 || store_commit(m->st) < 0) {
		store_rollback(m->st);
		return -1;
	}
	return 0;
}

/* after the commit: new/NAME -> cur/UNIQUE:2,S; how many moved */
static size_t mdir_move(struct mdir *m)
{
	char to[300];
	size_t moved = 0;

	for (size_t i = 0; i < m->n; i++) {
		const char *name = m->names[i];

		if (!m->stored[i])
			continue;
		/* the same unique part, as it is written in new/ */
		snprintf(to, sizeof(to), "%.*s:2,S", (int)strcspn(name, ":"), name);
		if (renameat(m->newfd, name, m->curfd, to) < 0)
			log_error("msg=%s: stored, but cannot move it to cur/: %s", name,
				  strerror(errno));
		else
			moved++;
	}
	return moved;
}

static void mdir_wait_fail(struct mdir *m, struct ingest_wait *w)
{
	ingest_backoff_fail(&m->backoff, 1000, 60000);
	w->timeout_ms = ingest_backoff_left(&m->backoff);
	w->failed = 1;
}

/* one pass: 1 when it moved files (look again at once), 0 when new/ had
 * nothing to take, -1 when waiting (w filled) */
static int mdir_pass(struct mdir *m, struct ingest_wait *w)
{
	size_t moved;

	if (mdir_list(m) < 0) {
		mdir_shut(m);
		mdir_wait_fail(m, w);
		return -1;
	}
	if (m->n == 0)
		return 0;
	if (store_ready(m->st, &w->timeout_ms) < 0)
		return -1;
	if (!room_check(m->room)) {
		w->timeout_ms = ROOM_RETRY_MS;
		return -1;
	}
	if (mdir_store(m) < 0) {
		log_warn("maildir: batch of %zu files rolled back; trying again later", m->n);
		mdir_wait_fail(m, w);
		return -1;
	}
	moved = mdir_move(m);
	ingest_backoff_reset(&m->backoff);
	log_debug("maildir: stored %ld new of %zu files", store_inserted(m->st), m->n);
	return moved > 0 && m->n == (size_t)m->set->batch;
}

void mdir_step(struct mdir *m, struct ingest_wait *w)
{
	int64_t now = clock_mono_ms();
	int r;

	if (m->newfd < 0) {
		if (ingest_backoff_left(&m->backoff) > 0) {
			w->timeout_ms = ingest_backoff_left(&m->backoff);
			w->failed = 1;
			return;
		}
		if (mdir_opendirs(m) < 0) {
			mdir_wait_fail(m, w);
			return;
		}
		m->dirty = 1;
	}
	mdir_drain(m);
	w->fd = m->ino;
	if (m->dirty || now >= m->next_scan_ms) {
		r = mdir_pass(m, w);
		if (r < 0)
			return;
		m->dirty = r;
		if (r == 1)
			return; /* timeout 0: the next batch at once */
		m->next_scan_ms =
			now + (m->ino >= 0 ? MDIR_RESCAN_INOTIFY_MS : MDIR_RESCAN_POLL_MS);
	}
	w->idle = 1;
	w->timeout_ms = m->next_scan_ms - now;
	if (w->timeout_ms < 1)
		w->timeout_ms = 1;
}
