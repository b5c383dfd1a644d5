/* outfax: the claim / retry / state machine against real PostgreSQL.
 *
 * Needs a migrated database: MDG_TEST_PG_FAX is the conninfo of the
 * madoguchi_fax role (so the grants are tested too), MDG_TEST_PG_ADMIN a
 * superuser's for fixtures and inspection.  tests/integration/test_outfax.py
 * makes a private cluster and runs this; without the variables it is
 * skipped (exit 77).  Results are passed in as the dialler would report
 * them: this tests the module's own logic, no peer is imitated.  Times
 * are given explicitly (T0 + seconds). */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "outfax.h"
#include "db.h"
#include "log.h"
#include "buf.h"
#include "clock.h"
#include "faxrender.h"
#include "faxtiff.h"
#include "testlib.h"

#define T0 1795514400000000LL   /* 2026-11-24T10:00:00Z */
#define SEC 1000000LL

static struct db *adm, *fx;
static struct outfax *of;

static const struct db_stmt test_stmts[] = {
	{ "t_fixture",
	  "WITH t AS (INSERT INTO ticket (channel, created_at, updated_at, received_at)"
	  "  VALUES ('fax', $1::timestamptz, $1::timestamptz, $1::timestamptz) RETURNING id),"
	  " m AS (INSERT INTO message (ticket_id, direction, parse_state, created_at, delivery_state)"
	  "  SELECT id, 'out', 'ok', $1::timestamptz, 'queued' FROM t RETURNING id, ticket_id)"
	  " INSERT INTO outbound_fax (ticket_id, message_id, number, confirmed_by, pages, not_before,"
	  "  created_by, created_at)"
	  " SELECT ticket_id, id, $2, 'typed_twice', $3::int, $4::timestamptz, 'op1', $1::timestamptz"
	  " FROM m RETURNING id" },
	{ "t_page", "INSERT INTO outbound_fax_page (fax_id, page_no, tiff) VALUES ($1::bigint, $2::int, $3)" },
	{ "t_state",
	  "SELECT state || ' ' || attempts || ' ' || coalesce(last_result, '-') || ' '"
	  " || coalesce(last_sip_status::text, '-') || ' ' || coalesce(last_t30_code::text, '-') || ' '"
	  " || pages_sent || ' ' || to_char(not_before AT TIME ZONE 'UTC', 'HH24:MI:SS') || ' '"
	  " || coalesce(to_char(lease_until AT TIME ZONE 'UTC', 'HH24:MI:SS'), '-')"
	  " FROM outbound_fax WHERE id = $1::bigint" },
	{ "t_msg",
	  "SELECT m.delivery_state || '|' || coalesce(m.delivery_note, '') FROM message m"
	  " JOIN outbound_fax o ON o.message_id = m.id WHERE o.id = $1::bigint" },
	{ "t_events",
	  "SELECT string_agg(kind, ',' ORDER BY e.id) FROM ticket_event e"
	  " JOIN outbound_fax o ON o.ticket_id = e.ticket_id WHERE o.id = $1::bigint" },
	{ "t_lost",
	  "UPDATE outbound_fax SET state = 'dialling', attempts = $2::int, lease_until = $3::timestamptz"
	  " WHERE id = $1::bigint" },
	{ NULL, NULL },
};

static char *iso(int64_t us, char *b, size_t n)
{
	return clock_format_iso(us, b, n);
}

/* the first value of a statement with one bigint parameter, as text */
static const char *one(const char *stmt, int64_t id)
{
	static char out[512];
	char a[24];
	const char *v[1] = { a };
	struct db_res *r;

	snprintf(a, sizeof a, "%lld", (long long)id);
	r = db_query(adm, stmt, 1, v, NULL, NULL, 0);
	snprintf(out, sizeof out, "%s", r != NULL && db_res_rows(r) == 1 ? db_res_val(r, 0, 0) : "(none)");
	db_res_free(r);
	return out;
}

static int64_t fixture(int pages, int64_t not_before)
{
	char now[40], nb[40], np[12];
	const char *v[4] = { now, "0312345678", np, nb };
	struct db_res *r;
	int64_t id;

	iso(T0 - 600 * SEC, now, sizeof now);
	iso(not_before, nb, sizeof nb);
	snprintf(np, sizeof np, "%d", pages);
	r = db_query(adm, "t_fixture", 4, v, NULL, NULL, 0);
	id = r != NULL && db_res_rows(r) == 1 ? db_res_ll(r, 0, 0) : -1;
	db_res_free(r);
	return id;
}

static struct outfax_result result(enum outfax_outcome oc, int sip, int t30, const char *why, int pages)
{
	struct outfax_result r;

	memset(&r, 0, sizeof r);
	r.outcome = oc;
	r.sip_status = sip;
	r.t30_code = t30;
	r.pages_sent = pages;
	snprintf(r.error, sizeof r.error, "%s", why);
	return r;
}

static int claim(int64_t at, struct outfax_job *jobs)
{
	return outfax_claim(of, at, jobs, 8);
}

static int64_t f1, f2;
static struct outfax_job job1, job2;

/* Busy, then no answer, each retried after the configured delay. */
static void test_retry_backoff(void)
{
	struct outfax_job jobs[8];
	struct outfax_result r;

	f1 = fixture(2, T0 + 60 * SEC);
	f2 = fixture(1, T0);
	CHECK(f1 > 0 && f2 > 0);
	CHECK_INT(claim(T0, jobs), 1);
	CHECK_INT(jobs[0].id, f2);
	CHECK_INT(jobs[0].attempt, 1);
	CHECK_STR(jobs[0].number, "0312345678");
	CHECK_STR(one("t_state", f2), "dialling 1 - - - 0 10:00:00 10:10:00");
	CHECK_INT(claim(T0, jobs), 0);              /* leased; f1 not due */
	r = result(OUTFAX_BUSY, 486, -1, "話し中", 0);
	CHECK_INT(outfax_record(of, &jobs[0], &r, T0 + 10 * SEC), 1);
	CHECK_STR(one("t_state", f2), "queued 1 busy 486 - 0 10:01:10 -");
	CHECK_STR(one("t_msg", f2), "queued|");
	CHECK_STR(one("t_events", f2), "fax_dialling,fax_retry");
	CHECK_INT(claim(T0 + 69 * SEC, jobs), 1);   /* f1 is due, f2 not yet */
	CHECK_INT(jobs[0].id, f1);
	job1 = jobs[0];
	CHECK_INT(claim(T0 + 70 * SEC, jobs), 1);
	CHECK_INT(jobs[0].id, f2);
	CHECK_INT(jobs[0].attempt, 2);
	job2 = jobs[0];
	r = result(OUTFAX_NO_ANSWER, 480, -1, "応答なし", 0);
	CHECK_INT(outfax_record(of, &job2, &r, T0 + 100 * SEC), 1);
	CHECK_STR(one("t_state", f2), "queued 2 no_answer 480 - 0 10:06:40 -");
	/* a late result of attempt 1 is not counted */
	CHECK_INT(outfax_record(of, &job2, &r, T0 + 101 * SEC), 0);
	job2.attempt = 1;
	CHECK_INT(outfax_record(of, &job2, &r, T0 + 101 * SEC), 0);
	CHECK_STR(one("t_state", f2), "queued 2 no_answer 480 - 0 10:06:40 -");
}

/* A daemon that dies while dialling: after the lease the attempt is
 * counted as lost and dialled again; the last attempt's failure is final. */
static void test_lost_and_final(void)
{
	struct outfax_job jobs[8];
	struct outfax_result r;

	CHECK_INT(claim(T0 + 400 * SEC, jobs), 1);
	CHECK_INT(jobs[0].attempt, 3);
	CHECK_STR(one("t_state", f2), "dialling 3 no_answer 480 - 0 10:06:40 10:16:40");
	/* the daemon "dies": nothing is recorded.  Before the lease ends: */
	CHECK_INT(claim(T0 + 999 * SEC, jobs), 0);
	CHECK_INT(claim(T0 + 1000 * SEC, jobs), 1);
	CHECK_INT(jobs[0].id, f2);
	CHECK_INT(jobs[0].attempt, 4);
	CHECK_STR(one("t_state", f2), "dialling 4 lost 480 - 0 10:06:40 10:26:40");
	r = result(OUTFAX_TRAINING, 200, 11, "相手機と交信できませんでした", 0);
	snprintf(r.t30_text, sizeof r.t30_text, "DCS not acknowledged");
	CHECK_INT(outfax_record(of, &jobs[0], &r, T0 + 1030 * SEC), 1);
	CHECK_STR(one("t_state", f2), "failed 4 training 200 11 0 10:06:40 -");
	CHECK_STR(one("t_msg", f2), "failed|相手機と交信できませんでした");
	CHECK_STR(one("t_events", f2),
		  "fax_dialling,fax_retry,fax_dialling,fax_retry,fax_dialling,fax_dialling,fax_failed");
	/* failed is final: never claimed again */
	CHECK_INT(claim(T0 + 99999 * SEC, jobs), 0);
}

/* A lost last attempt fails without a new dial. */
static void test_lost_last_attempt(void)
{
	struct outfax_job jobs[8];
	char a[24], lease[40];
	const char *v[3] = { a, "4", lease };
	int64_t f3 = fixture(1, T0);

	snprintf(a, sizeof a, "%lld", (long long)f3);
	iso(T0 + 2000 * SEC, lease, sizeof lease);
	CHECK_INT(db_cmd(adm, "t_lost", 3, v, NULL, NULL), 1);
	CHECK_INT(claim(T0 + 1999 * SEC, jobs), 0);
	CHECK_INT(claim(T0 + 2000 * SEC, jobs), 0);
	CHECK_STR(one("t_state", f3), "failed 4 lost - - 0 10:00:00 -");
	CHECK_STR(one("t_msg", f3), "failed|the daemon stopped during attempt 4");
}

/* An unreachable number fails at once, whatever the attempts left. */
static void test_unreachable(void)
{
	struct outfax_job jobs[8];
	struct outfax_result r;
	int64_t f4 = fixture(1, T0 + 3000 * SEC);

	CHECK_INT(claim(T0 + 3000 * SEC, jobs), 1);
	CHECK_INT(jobs[0].id, f4);
	r = result(OUTFAX_UNREACHABLE, 404, -1, "この番号は使われていません", 0);
	CHECK_INT(outfax_record(of, &jobs[0], &r, T0 + 3005 * SEC), 1);
	CHECK_STR(one("t_state", f4), "failed 1 unreachable 404 - 0 10:50:00 -");
}

/* f1's pages go to the spool file as stored, and the call's success
 * closes it as sent. */
static void test_spool_and_sent(void)
{
	static const struct faxrender_opts o = { "IPAGothic", 12, 20, 5, 0, 0 };
	struct faxtiff_bitmap *bm;
	struct faxtiff_page *pg, *back;
	struct outfax_result r;
	char err[200], a[24], no[8], dir[] = "/tmp/test_outfax_XXXXXX";
	const char *v[3] = { a, no, NULL };
	int lens[3] = { 0, 0, 0 }, bin[3] = { 0, 0, 1 };
	int n, nback, i;

	CHECK(mkdtemp(dir) != NULL);
	CHECK_INT(faxrender_pages(&o, "", "一枚目", &bm, &n, err, sizeof err), 0);
	CHECK_INT(faxrender_tiff(bm, n, &pg, err, sizeof err), 0);
	snprintf(a, sizeof a, "%lld", (long long)f1);
	for (i = 1; i <= 2; i++) {
		snprintf(no, sizeof no, "%d", i);
		v[2] = (const char *)pg[0].tiff;
		lens[2] = (int)pg[0].len;
		CHECK_INT(db_cmd(adm, "t_page", 3, v, lens, bin), 1);
	}
	CHECK_INT(outfax_spool(fx, &job1, dir, err, sizeof err), 0);
	CHECK_INT(faxtiff_split_file(job1.tiff_path, &back, &nback, err, sizeof err), 0);
	CHECK_INT(nback, 2);
	for (i = 0; i < nback; i++) {
		struct faxtiff_bitmap d;

		CHECK_INT(faxtiff_decode(back[i].tiff, back[i].len, &d, err, sizeof err), 0);
		CHECK(memcmp(d.bits, bm[0].bits, (size_t)d.stride * (size_t)d.height) == 0);
		faxtiff_bitmap_free(&d);
	}
	faxtiff_pages_free(back, nback);
	r = result(OUTFAX_OK, 200, 0, "", 2);
	clock_pin(T0 + 200 * SEC);   /* outfax_done reads the clock */
	CHECK_INT(outfax_done(of, &job1, &r), 1);
	clock_unpin();
	CHECK_INT(access(job1.tiff_path, F_OK), -1);   /* the spool file is gone */
	CHECK_STR(one("t_state", f1), "sent 1 ok 200 0 2 10:01:00 -");
	CHECK_STR(one("t_msg", f1), "sent|");
	faxtiff_pages_free(pg, n);
	faxrender_free(bm, n);
	rmdir(dir);
}

static void test_retry_rule(void)
{
	struct outfax_settings s;
	int64_t at = 0;

	memset(&s, 0, sizeof s);
	CHECK_INT(outfax_parse_retry("1, 5,15", &s), 0);
	CHECK_INT(s.nretry, 3);
	CHECK_INT(s.retry_s[2], 900);
	CHECK_INT(outfax_parse_retry("1,x", &s), -1);
	CHECK_INT(outfax_parse_retry("", &s), -1);
	CHECK_INT(outfax_parse_retry("1,5,15", &s), 0);
	s.max_attempts = 6;
	CHECK_INT(outfax_retry_at(&s, 1, OUTFAX_BUSY, 0, &at), 1);
	CHECK_INT(at, 60 * SEC);
	CHECK_INT(outfax_retry_at(&s, 3, OUTFAX_NO_FAX, 0, &at), 1);
	CHECK_INT(at, 900 * SEC);
	CHECK_INT(outfax_retry_at(&s, 5, OUTFAX_INCOMPLETE, 0, &at), 1);
	CHECK_INT(at, 900 * SEC);
	CHECK_INT(outfax_retry_at(&s, 6, OUTFAX_BUSY, 0, &at), 0);
	CHECK_INT(outfax_retry_at(&s, 1, OUTFAX_UNREACHABLE, 0, &at), 0);
	CHECK_INT(outfax_retry_at(&s, 1, OUTFAX_OK, 0, &at), 0);
}

static int setup(void)
{
	const char *ca = getenv("MDG_TEST_PG_ADMIN"), *cf = getenv("MDG_TEST_PG_FAX");
	struct outfax_settings s;

	if (ca == NULL || cf == NULL)
		return -1;
	adm = db_new(ca, "test_outfax");
	fx = db_new(cf, "test_outfax");
	db_prepare_all(adm, test_stmts);
	memset(&s, 0, sizeof s);
	outfax_parse_retry("1,5,15", &s);
	s.max_attempts = 4;
	s.lease_s = 600;
	s.max_calls = 2;
	snprintf(s.instance, sizeof s.instance, "test:1");
	of = outfax_new(fx, &s, NULL);
	return db_ensure(adm) == 0 && db_ensure(fx) == 0 ? 0 : 1;
}

int main(void)
{
	log_init("test_outfax");
	RUN(test_retry_rule);
	switch (setup()) {
	case -1:
		printf("skip: MDG_TEST_PG_ADMIN and MDG_TEST_PG_FAX not set "
		       "(tests/integration/test_outfax.py sets them)\n");
		return TEST_END() ? 1 : 77;
	case 1:
		printf("FAIL: cannot connect\n");
		return 1;
	}
	RUN(test_retry_backoff);
	RUN(test_spool_and_sent);   /* before f1's lease (claimed at T0 + 69 s) runs out */
	RUN(test_lost_and_final);
	RUN(test_lost_last_attempt);
	RUN(test_unreachable);
	outfax_free(of);
	db_free(fx);
	db_free(adm);
	return TEST_END();
}
