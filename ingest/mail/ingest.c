/* ingest: the settings, store, room and source of one configuration.
 * A reload builds a new one and drops the old (main.c). */
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "config.h"
#include "ingest.h"
#include "log.h"
#include "mdir.h"
#include "pull.h"
#include "room.h"
#include "settings.h"
#include "store.h"

struct ingest {
	struct settings set;
	struct store *st;
	struct room *room;
	struct mdir *mdir; /* one of these two */
	struct pull *pull;
};

struct ingest *ingest_open(const struct config *cfg, char *err, size_t errlen)
{
	struct ingest *in = calloc(1, sizeof(*in));

	if (in == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (settings_from_config(&in->set, cfg, err, errlen) < 0) {
		free(in);
		return NULL;
	}
	in->st = store_new(cfg, &in->set);
	in->room = room_new(&in->set, in->st);
	if (in->set.source == SETTINGS_MAILDIR)
		in->mdir = mdir_open(&in->set, in->st, in->room);
	else
		in->pull = pull_open(&in->set, in->st, in->room);
	return in;
}

void ingest_step(struct ingest *in, struct ingest_wait *w)
{
	w->fd = -1;
	w->timeout_ms = 0;
	w->idle = 0;
	w->failed = 0;
	if (in->mdir != NULL)
		mdir_step(in->mdir, w);
	else
		pull_step(in->pull, w);
}

void ingest_close(struct ingest *in)
{
	if (in == NULL)
		return;
	mdir_close(in->mdir);
	pull_close(in->pull);
	room_free(in->room);
	store_free(in->st);
	settings_free(&in->set);
	free(in);
}

void ingest_backoff_fail(struct ingest_backoff *b, int64_t min_ms, int64_t max_ms)
{
	b->delay_ms = b->delay_ms < min_ms ? min_ms : b->delay_ms * 2;
	if (b->delay_ms > max_ms)
		b->delay_ms = max_ms;
	b->next_ms = clock_mono_ms() + b->delay_ms;
}

void ingest_backoff_reset(struct ingest_backoff *b)
{
	b->delay_ms = 0;
	b->next_ms = 0;
}

int64_t ingest_backoff_left(const struct ingest_backoff *b)
{
	int64_t left = b->next_ms - clock_mono_ms();

	return left > 0 ? left : 0;
}
