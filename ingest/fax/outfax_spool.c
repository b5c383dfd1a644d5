/* outfax_spool: a claimed fax's pages, from outbound_fax_page, into the
 * multi-page TIFF the fax engine sends from (lib/faxtiff joins them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfax.h"
#include "db.h"
#include "faxtiff.h"

#define ST_PAGES "outfax_pages"

const struct db_stmt outfax_spool_stmts[] = {
	{ ST_PAGES, "SELECT page_no, tiff FROM outbound_fax_page WHERE fax_id = $1::bigint"
		    " ORDER BY page_no" },
	{ NULL, NULL },
};

static int spool_dir_ready(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "spool folder %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int outfax_spool(struct db *db, struct outfax_job *job, const char *spool_dir, char *err,
		 size_t errlen)
{
	char id[24];
	const char *v[1] = { id };
	struct faxtiff_page *pages = NULL;
	struct db_res *res;
	int i, n, rc = -1;

	snprintf(id, sizeof id, "%lld", (long long)job->id);
	if (spool_dir_ready(spool_dir, err, errlen) < 0)
		return -1;
	res = db_query(db, ST_PAGES, 1, v, NULL, NULL, 1);
	if (res == NULL) {
		snprintf(err, errlen, "the pages could not be read from the database");
		return -1;
	}
	n = db_res_rows(res);
	if (n != job->pages || n < 1) {
		snprintf(err, errlen, "%d pages stored, %d expected", n, job->pages);
		goto out;
	}
	pages = calloc((size_t)n, sizeof *pages);
	if (pages == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		pages[i].tiff = (uint8_t *)db_res_val(res, i, 1);   /* borrowed, not freed */
		pages[i].len = (size_t)db_res_len(res, i, 1);
	}
	if (snprintf(job->tiff_path, sizeof job->tiff_path, "%s/outfax-%lld-%d.tif", spool_dir,
		     (long long)job->id, job->attempt) >= (int)sizeof job->tiff_path) {
		snprintf(err, errlen, "spool path too long");
		job->tiff_path[0] = '\0';
		goto out;
	}
	rc = faxtiff_join_file(pages, n, job->tiff_path, err, errlen);
	if (rc < 0) {
		unlink(job->tiff_path);   /* a half-written file is never sent */
		job->tiff_path[0] = '\0';
	}
out:
	free(pages);
	db_res_free(res);
	return rc;
}
