#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "log.h"
#include "room.h"
#include "settings.h"
#include "store.h"

struct room {
	const struct settings *set;
	struct store *st;
};

/* whether intake is paused belongs to the process, not to one
 * configuration: a reload during a pause must still log the resume */
static int room_paused;

struct room *room_new(const struct settings *set, struct store *st)
{
	struct room *r = calloc(1, sizeof(*r));

	if (r == NULL)
		log_fatal("out of memory");
	r->set = set;
	r->st = st;
	return r;
}

void room_free(struct room *r)
{
	free(r);
}

/* "" when there is room, else why not */
static void room_why(struct room *r, char *why, size_t len)
{
	const struct settings *s = r->set;
	struct statvfs sv;
	int64_t mb;

	why[0] = '\0';
	if (s->min_free_mb > 0) {
		if (statvfs(s->min_free_path, &sv) < 0) {
			snprintf(why, len, "cannot check free space of \"%s\": %s",
				 s->min_free_path, strerror(errno));
			return;
		}
		mb = (int64_t)((uint64_t)sv.f_bavail * sv.f_frsize / (1024 * 1024));
		if (mb < s->min_free_mb) {
			snprintf(why, len, "only %lld MiB free under \"%s\" (ingest_mail.min_free_mb = %lld)",
				 (long long)mb, s->min_free_path, (long long)s->min_free_mb);
			return;
		}
	}
	/* a failed query was logged by db; then we go on and let the insert
	 * itself show whether the database has a problem */
	if (s->db_max_mb > 0 && store_db_mb(r->st, &mb) == 0 && mb > s->db_max_mb)
		snprintf(why, len, "the database holds %lld MiB (ingest_mail.db_max_mb = %lld)",
			 (long long)mb, (long long)s->db_max_mb);
}

int room_check(struct room *r)
{
	char why[512];

	room_why(r, why, sizeof(why));
	if (why[0] != '\0') {
		if (!room_paused)
			log_warn("intake paused: %s; nothing is taken from the source until there "
				 "is room (checking every %d s)", why, ROOM_RETRY_MS / 1000);
		room_paused = 1;
		return 0;
	}
	if (room_paused)
		log_info("intake resumed: there is room again");
	room_paused = 0;
	return 1;
}
