/* pull: taking mail from an IMAP mailbox, exactly once.
 *
 * What is stored where:
 *  - inbound_item rows keyed "<mailbox>/<uidvalidity>/<uid>";
 *  - mailbox_state (uidvalidity, last_uid): every UID up to last_uid is
 *    committed.  It is updated in the same transaction as the rows of the
 *    batch that advances it;
 *  - on the server, $MadoguchiStored (and \Seen, or a move) is set only
 *    after the commit.
 *
 * The state machine, one step per call (a step never waits):
 *
 *   DOWN --connect, TLS check, LOGIN, SELECT, read mailbox_state--> READY
 *   READY: repair   UIDs <= last_uid still without the keyword (or, in
 *                   move mode, still here) were committed but not marked
 *                   (a crash or a lost connection after the commit): mark
 *          batches  the plan (a sorted UID list) fetch_batch at a time:
 *                   BEGIN, FETCH with inserts as messages arrive,
 *                   mailbox_state, NOTIFY, COMMIT, then mark
 *          scan     UID SEARCH last_uid+1:* gives the next plan; after a
 *                   wait, SELECT first to see whether UIDVALIDITY changed
 *          wait     IDLE (re-entered every poll_seconds at most, so a
 *                   notification libetpan swallowed costs at most that)
 *                   or a poll timer
 *   any IMAP error -> DOWN, reconnect with backoff (1 s doubling to 2 min);
 *   a database error rolls the batch back and retries it; nothing was
 *   marked, so nothing is lost.
 *
 * UIDVALIDITY: when the server's differs from mailbox_state's (or there is
 * no row yet), UIDs mean nothing any more.  Recovery plans every message
 * up to UIDNEXT-1 that lacks the keyword (all of them in move mode, where
 * stored mail has left), inserts each unless a row with the same SHA-256
 * already exists for this account, and marks them all.  Then it SELECTs
 * again and goes on the same way with what came since, until nothing
 * came (a mailbox still being filled by a copy must not have its later
 * part taken for new mail); only then is the new uidvalidity stored, with
 * last_uid = UIDNEXT-1.  A crash half-way redoes the recovery, which the
 * key and the hash make idempotent. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "imap.h"
#include "ingest.h"
#include "log.h"
#include "pull.h"
#include "room.h"
#include "settings.h"
#include "store.h"
#include "tls.h"
#include "uidset.h"

#define PULL_BACKOFF_MIN_MS 1000
#define PULL_BACKOFF_MAX_MS 120000
#define PULL_REIDLE_MS (25 * 60 * 1000)

struct pull {
	const struct settings *set;
	struct store *st;
	struct room *room;
	struct imap *im;
	struct imap_caps caps;
	struct ingest_backoff backoff;
	uint32_t uidvalidity, uidnext, last_uid;
	int recovering, first_look;
	uint32_t recover_last;
	long recover_new, recover_known;
	int need_repair, need_scan, need_select;
	int waiting, idling; /* for new mail; with IDLE */
	int64_t wake_ms;     /* end of the wait */
	struct uidset plan;
	size_t plan_pos;
	struct uidset done; /* UIDs of the current batch, to mark after commit */
	int batch_failed;
};

struct pull *pull_open(const struct settings *set, struct store *st, struct room *room)
{
	struct pull *p = calloc(1, sizeof(*p));

	if (p == NULL)
		log_fatal("out of memory");
	p->set = set;
	p->st = st;
	p->room = room;
	uidset_init(&p->plan);
	uidset_init(&p->done);
	return p;
}

static void pull_drop(struct pull *p, int logout)
{
	char err[256];

	if (p->im != NULL && p->idling && logout)
		imap_idle_done(p->im, err, sizeof(err));
	imap_close(p->im, logout);
	p->im = NULL;
	p->waiting = p->idling = 0;
	p->recovering = 0;
	uidset_clear(&p->plan);
	p->plan_pos = 0;
}

void pull_close(struct pull *p)
{
	if (p == NULL)
		return;
	pull_drop(p, 1);
	uidset_free(&p->plan);
	uidset_free(&p->done);
	free(p);
}

static void pull_retry(struct pull *p, struct ingest_wait *w)
{
	ingest_backoff_fail(&p->backoff, PULL_BACKOFF_MIN_MS, PULL_BACKOFF_MAX_MS);
	w->timeout_ms = ingest_backoff_left(&p->backoff);
	w->failed = 1;
}

/* an IMAP failure: log it, drop the connection, come back later */
static void pull_imap_fail(struct pull *p, struct ingest_wait *w, const char *err)
{
	pull_drop(p, 0);
	pull_retry(p, w);
	log_warn("imap: %s; connecting again in %lld s", err,
		 (long long)(w->timeout_ms + 999) / 1000);
}

/* a database failure in a batch: roll back, keep the connection, retry */
static void pull_db_fail(struct pull *p, struct ingest_wait *w, size_t n)
{
	store_rollback(p->st);
	pull_retry(p, w);
	log_warn("imap: batch of %zu messages rolled back, nothing marked on the server; "
		 "trying again in %lld s", n, (long long)(w->timeout_ms + 999) / 1000);
}

static enum imap_security pull_security(const struct settings *s)
{
	return s->source == SETTINGS_IMAPS	  ? IMAP_TLS
	       : s->source == SETTINGS_STARTTLS ? IMAP_STARTTLS
						  : IMAP_PLAIN;
}

/* 0 when the server's certificate is trusted; logs the refusal */
static int pull_trust(struct pull *p)
{
	const struct settings *s = p->set;
	const unsigned char *const *der = NULL;
	const size_t *len = NULL;
	struct tls_peer peer;
	struct tls_policy pol = { s->host, s->has_pin ? s->pin : NULL, s->ca_file,
				  "ingest_mail.imap_pin_sha256" };
	char why[256], fp[2 * TLS_SHA256_LEN + 1];

	if (imap_peer_certs(p->im, &der, &len, &peer.n) < 0)
		peer.n = 0;
	peer.der = der;
	peer.len = len;
	if (tls_check_peer(&peer, &pol, why, sizeof(why), fp) == 0)
		return 0;
	log_error("imap: certificate for %s is not trusted: %s; refusing to log in (pin with "
		  "ingest_mail.imap_pin_sha256 = %s)",
		  s->host, why, fp[0] ? fp : "(no certificate)");
	return -1;
}

/* how to go on from what mailbox_state says; 0 or -1 (database) */
static int pull_resume(struct pull *p)
{
	uint32_t v = 0, last = 0;
	int found = store_get_mailbox(p->st, p->set->mailbox, &v, &last);

	if (found < 0)
		return -1;
	p->recover_new = p->recover_known = 0;
	p->need_select = 0; /* just selected */
	if (found && v == p->uidvalidity) {
		p->last_uid = last;
		p->need_repair = last > 0;
		p->need_scan = 1;
		return 0;
	}
	p->recovering = 1;
	p->recover_last = 0;
	p->first_look = !found;
	p->need_repair = 0;
	p->last_uid = 0;
	if (found)
		log_warn("imap: UIDVALIDITY of %s changed from %u to %u; looking for mail not yet "
			 "stored by its content (SHA-256), so none is lost or doubled",
			 p->set->mailbox, v, p->uidvalidity);
	else
		log_info("imap: first look at %s (UIDVALIDITY %u): taking the mail not marked %s",
			 p->set->mailbox, p->uidvalidity, IMAP_STORED_KEYWORD);
	return 0;
}

/* the recovery plan: UIDs after recover_last up to UIDNEXT-1 not yet
 * marked (all of them in move mode); recover_last becomes UIDNEXT-1 */
static int pull_plan_recovery(struct pull *p, char *err, size_t errlen)
{
	int unstored = p->set->after != SETTINGS_AFTER_MOVE;
	uint32_t lo = p->recover_last + 1;
	struct uidset all;
	size_t keep = 0;

	uidset_clear(&p->plan);
	p->plan_pos = 0;
	if (p->uidnext > 0) {
		if (p->uidnext - 1 < lo)
			return 0;
		if (imap_search(p->im, lo, p->uidnext - 1, unstored, &p->plan, err, errlen) < 0)
			return -1;
		p->recover_last = p->uidnext - 1;
		return 0;
	}
	/* no UIDNEXT from the server: up to the highest UID there is ("lo:*"
	 * also matches the highest UID when it is below lo) */
	uidset_init(&all);
	if (imap_search(p->im, lo, 0, unstored, &p->plan, err, errlen) < 0 ||
	    imap_search(p->im, lo, 0, 0, &all, err, errlen) < 0) {
		uidset_free(&all);
		return -1;
	}
	for (size_t i = 0; i < p->plan.n; i++)
		if (p->plan.v[i] >= lo)
			p->plan.v[keep++] = p->plan.v[i];
	p->plan.n = keep;
	if (uidset_max(&all) >= lo)
		p->recover_last = uidset_max(&all);
	uidset_free(&all);
	return 0;
}

/* After the recovery plan: did more come meanwhile?  A mailbox being
 * filled by a copy (a migration) must not have its later part taken for
 * new mail, so recovery goes on, by hash, until a SELECT shows nothing
 * beyond what it planned.  1: more to do (or starting over), 0: done. */
static int pull_recovery_more(struct pull *p, char *err, size_t errlen)
{
	uint32_t v, before = p->recover_last;

	if (imap_select(p->im, p->set->mailbox, &v, &p->uidnext, err, errlen) < 0)
		return -1;
	if (v != p->uidvalidity) {
		log_info("imap: %s now has UIDVALIDITY %u (was %u); starting over",
			 p->set->mailbox, v, p->uidvalidity);
		pull_drop(p, 1);
		return 1;
	}
	if (pull_plan_recovery(p, err, errlen) < 0)
		return -1;
	return p->recover_last != before || p->plan.n > 0;
}

static int pull_login(struct pull *p, char *err, size_t errlen)
{
	const struct settings *s = p->set;

	if (imap_login(p->im, s->user, s->password, err, errlen) < 0 ||
	    imap_select(p->im, s->mailbox, &p->uidvalidity, &p->uidnext, err, errlen) < 0)
		return -1;
	imap_caps(p->im, &p->caps);
	return 0;
}

static int pull_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0;
}

static void pull_connect(struct pull *p, struct ingest_wait *w)
{
	const struct settings *s = p->set;
	char err[512];

	if (store_ready(p->st, &w->timeout_ms) < 0) {
		w->failed = 1;
		return;
	}
	p->im = imap_connect(s->host, s->port, pull_security(s), s->timeout_s, err, sizeof(err));
	if (p->im == NULL) {
		pull_imap_fail(p, w, err);
		return;
	}
	if (pull_security(s) == IMAP_PLAIN && !pull_loopback(s->host))
		log_warn("imap: ingest_mail.source = imap: the password goes to %s unencrypted",
			 s->host);
	if (pull_security(s) != IMAP_PLAIN && pull_trust(p) < 0) {
		pull_drop(p, 0);
		pull_retry(p, w);
		return;
	}
	if (pull_login(p, err, sizeof(err)) < 0) {
		pull_imap_fail(p, w, err);
		return;
	}
	if (pull_resume(p) < 0) {
		pull_drop(p, 1);
		pull_retry(p, w);
		return;
	}
	if (p->recovering && pull_plan_recovery(p, err, sizeof(err)) < 0) {
		pull_imap_fail(p, w, err);
		return;
	}
	log_info("imap: logged in to %s:%d as %s; %s has UIDVALIDITY %u, stored up to UID %u; "
		 "%s", s->host, s->port, s->user, s->mailbox, p->uidvalidity,
		 p->recovering ? 0 : p->last_uid,
		 p->caps.idle ? "waiting with IDLE" : "polling");
}

static void pull_on_msg(void *arg, const struct imap_msg *m)
{
	struct pull *p = arg;
	char key[1100];
	int r;

	if (p->batch_failed)
		return;
	if (snprintf(key, sizeof(key), "%s/%u/%u", p->set->mailbox, p->uidvalidity, m->uid) >=
	    (int)sizeof(key)) {
		log_error("imap: mailbox name too long for a source key");
		p->batch_failed = 1;
		return;
	}
	r = store_put(p->st, key, m->data, m->len, m->internal_us ? m->internal_us : clock_now_us(),
		      p->recovering);
	if (r < 0 || uidset_add(&p->done, m->uid) < 0)
		p->batch_failed = 1;
}

static int pull_mark(struct pull *p, const struct uidset *u, char *err, size_t errlen)
{
	const struct settings *s = p->set;

	return imap_mark(p->im, u->v, u->n, s->after == SETTINGS_AFTER_SEEN,
			 s->after == SETTINGS_AFTER_MOVE ? s->move_to : NULL, err, errlen);
}

/* one batch of the plan; the caller has checked there is one */
/* the database is there and has room; else w says how long to wait */
static int pull_can_store(struct pull *p, struct ingest_wait *w)
{
	if (store_ready(p->st, &w->timeout_ms) < 0) {
		w->failed = 1;
		return 0;
	}
	if (!room_check(p->room)) {
		w->timeout_ms = ROOM_RETRY_MS;
		return 0;
	}
	return 1;
}

static void pull_batch(struct pull *p, struct ingest_wait *w)
{
	size_t n = p->plan.n - p->plan_pos;
	const uint32_t *uids = p->plan.v + p->plan_pos;
	char err[512], set[64];
	int64_t t0, t1, t2;

	if (n > (size_t)p->set->batch)
		n = (size_t)p->set->batch;
	if (!pull_can_store(p, w))
		return;
	uidset_clear(&p->done);
	p->batch_failed = 0;
	t0 = clock_mono_ms();
	if (store_begin(p->st) < 0) {
		pull_db_fail(p, w, n);
		return;
	}
	if (imap_fetch(p->im, uids, n, pull_on_msg, p, err, sizeof(err)) < 0) {
		store_rollback(p->st);
		pull_imap_fail(p, w, err);
		return;
	}
	t1 = clock_mono_ms();
	if (p->batch_failed ||
	    (!p->recovering &&
	     store_set_mailbox(p->st, p->set->mailbox, p->uidvalidity, uids[n - 1]) < 0) ||
	    store_commit(p->st) < 0) {
		pull_db_fail(p, w, n);
		return;
	}
	if (!p->recovering)
		p->last_uid = uids[n - 1];
	p->recover_new += store_inserted(p->st);
	p->recover_known += (long)p->done.n - store_inserted(p->st);
	p->plan_pos += n;
	t2 = clock_mono_ms();
	if (pull_mark(p, &p->done, err, sizeof(err)) < 0) {
		pull_imap_fail(p, w, err); /* committed; the repair after reconnecting marks them */
		return;
	}
	uidset_format(uids, n, set, sizeof(set));
	log_info("imap: stored %ld new of %zu messages (UID %s) in %lld ms (fetch and insert "
		 "%lld, commit %lld, mark %lld)", store_inserted(p->st), p->done.n, set,
		 (long long)(clock_mono_ms() - t0), (long long)(t1 - t0), (long long)(t2 - t1),
		 (long long)(clock_mono_ms() - t2));
	ingest_backoff_reset(&p->backoff);
	if (p->plan_pos == p->plan.n)
		p->need_scan = 1; /* mail may have come meanwhile */
}

/* mark what was committed earlier but not marked */
static int pull_repair(struct pull *p, char *err, size_t errlen)
{
	struct uidset u;
	char set[64];
	int r;

	uidset_init(&u);
	r = imap_search(p->im, 1, p->last_uid, p->set->after != SETTINGS_AFTER_MOVE, &u, err,
			errlen);
	/* "1:N" also matches the highest UID when all are above N: keep <= N */
	while (r == 0 && u.n > 0 && u.v[u.n - 1] > p->last_uid)
		u.n--;
	if (r == 0 && u.n > 0) {
		uidset_format(u.v, u.n, set, sizeof(set));
		log_info("imap: marking %zu messages stored before (UID %s)", u.n, set);
		r = pull_mark(p, &u, err, errlen);
	}
	uidset_free(&u);
	return r;
}

static int pull_finish_recovery(struct pull *p)
{
	if (store_set_mailbox(p->st, p->set->mailbox, p->uidvalidity, p->recover_last) < 0)
		return -1;
	if (p->first_look)
		log_info("imap: %s: %ld messages stored, %ld were stored before; now at UID %u",
			 p->set->mailbox, p->recover_new, p->recover_known, p->recover_last);
	else
		log_warn("imap: %s re-read after the UIDVALIDITY change: %ld new messages "
			 "stored, %ld were stored before; now at UIDVALIDITY %u, UID %u",
			 p->set->mailbox, p->recover_new, p->recover_known, p->uidvalidity,
			 p->recover_last);
	p->recovering = 0;
	p->last_uid = p->recover_last;
	p->need_scan = 1;
	return 0;
}

/* 1 when the mailbox's UIDVALIDITY is still ours, 0 when it changed
 * (the connection is then dropped, to start afresh), -1 on error.  It
 * SELECTs again: a session whose mailbox was deleted and created anew
 * under it keeps the old view in dovecot (STATUS and NOOP too), while a
 * new SELECT opens what is there now. */
static int pull_same_mailbox(struct pull *p, char *err, size_t errlen)
{
	uint32_t v, next;

	if (imap_select(p->im, p->set->mailbox, &v, &next, err, errlen) < 0)
		return -1;
	if (v == p->uidvalidity)
		return 1;
	log_info("imap: %s now has UIDVALIDITY %u (was %u); starting over", p->set->mailbox, v,
		 p->uidvalidity);
	pull_drop(p, 1);
	return 0;
}

static int pull_scan(struct pull *p, char *err, size_t errlen)
{
	size_t keep = 0;
	int same;

	uidset_clear(&p->plan);
	p->plan_pos = 0;
	p->need_scan = 0;
	if (p->need_select) {
		same = pull_same_mailbox(p, err, errlen);
		if (same <= 0)
			return same;
		p->need_select = 0;
	}
	if (imap_search(p->im, p->last_uid + 1, 0, 0, &p->plan, err, errlen) < 0)
		return -1;
	/* "N:*" matches the highest UID even when it is below N */
	for (size_t i = 0; i < p->plan.n; i++)
		if (p->plan.v[i] > p->last_uid)
			p->plan.v[keep++] = p->plan.v[i];
	p->plan.n = keep;
	return 0;
}

static void pull_wait_begin(struct pull *p, struct ingest_wait *w)
{
	int64_t span = (int64_t)p->set->poll_s * 1000;
	char err[512];

	ingest_backoff_reset(&p->backoff);
	w->idle = 1;
	if (p->caps.idle) {
		if (span > PULL_REIDLE_MS)
			span = PULL_REIDLE_MS;
		if (imap_idle_start(p->im, err, sizeof(err)) < 0) {
			pull_imap_fail(p, w, err);
			return;
		}
		p->idling = 1;
		w->fd = imap_idle_fd(p->im);
	}
	p->waiting = 1;
	p->wake_ms = clock_mono_ms() + span;
	w->timeout_ms = span;
	if (p->idling && imap_idle_buffered(p->im))
		w->timeout_ms = 0;
}

/* 1 while still waiting (w filled), 0 when it is time to look again */
static int pull_waiting(struct pull *p, struct ingest_wait *w)
{
	int64_t left = p->wake_ms - clock_mono_ms();
	struct pollfd pfd;
	char err[512];

	if (!p->waiting)
		return 0;
	if (p->idling) {
		pfd.fd = imap_idle_fd(p->im);
		pfd.events = POLLIN;
		if (left > 0 && !imap_idle_buffered(p->im) && poll(&pfd, 1, 0) == 0) {
			w->fd = pfd.fd;
			w->timeout_ms = left;
			w->idle = 1;
			return 1;
		}
		p->idling = 0;
		if (imap_idle_done(p->im, err, sizeof(err)) < 0) {
			pull_imap_fail(p, w, err);
			return 1;
		}
	} else if (left > 0) {
		w->timeout_ms = left;
		w->idle = 1;
		return 1;
	}
	p->waiting = 0;
	p->need_scan = p->need_select = 1;
	return 0;
}

static void pull_work(struct pull *p, struct ingest_wait *w)
{
	char err[512];

	if (p->need_repair) {
		if (pull_repair(p, err, sizeof(err)) < 0) {
			pull_imap_fail(p, w, err);
			return;
		}
		p->need_repair = 0;
	}
	if (p->plan_pos < p->plan.n) {
		pull_batch(p, w);
		return;
	}
	if (p->recovering) {
		int more = pull_recovery_more(p, err, sizeof(err));

		if (more < 0)
			pull_imap_fail(p, w, err);
		else if (more == 0 && pull_finish_recovery(p) < 0)
			pull_retry(p, w);
		return;
	}
	if (p->need_scan) {
		if (pull_scan(p, err, sizeof(err)) < 0)
			pull_imap_fail(p, w, err);
		return;
	}
	pull_wait_begin(p, w);
}

void pull_step(struct pull *p, struct ingest_wait *w)
{
	if (p->im == NULL) {
		if (ingest_backoff_left(&p->backoff) > 0) {
			w->timeout_ms = ingest_backoff_left(&p->backoff);
			w->failed = 1;
			return;
		}
		pull_connect(p, w);
		return;
	}
	if (pull_waiting(p, w))
		return;
	pull_work(p, w);
}
