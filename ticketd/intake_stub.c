/* TEMPORARY stand-in for intake.c (the lead's), so that ticketd builds and
 * its HTTP side can be tested before intake lands.  Delete this file and
 * its line in local.mk when intake.c arrives.  It claims nothing. */
#include <stdlib.h>

#include "config.h"
#include "db.h"
#include "intake.h"

struct intake {
	int unused;
};

const struct config_key intake_config_keys[] = {
	{ "ticketd.intake_batch", CFG_INT, "100", 1, 1000, "(stub) items per intake batch" },
	{ "ticketd.intake_max_attempts", CFG_INT, "5", 1, 100, "(stub) attempts per item" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

struct intake *intake_new(struct db *db, const struct config *cfg)
{
	return calloc(1, sizeof(struct intake));
}

void intake_free(struct intake *in)
{
	free(in);
}

void intake_configure(struct intake *in, const struct config *cfg)
{
}

int intake_run(struct intake *in)
{
	return 0;
}
