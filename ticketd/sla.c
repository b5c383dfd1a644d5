/* sla: due times, warnings and the SLA board (sla.h, sql/020). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "bizcal.h"
#include "bizcal_db.h"
#include "buf.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "mailout.h"
#include "pool.h"
#include "reply_draft.h"
#include "reply_int.h"
#include "sla.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define SLA_MAX_POLS 64
#define SLA_MAX_CALS 32
#define SLA_MAX_CRISIS 64
#define SLA_MAX_PAUSES 96
#define SLA_HISTORY_DAYS 400 /* calendars and pauses kept in memory reach this far back */
#define SLA_RELOAD_S 300
#define SLA_WARN_BATCH "100"
/* on the centre's clock: no reply yet, not escalated, not finished */
#define SLA_ON_CLOCK                                                                 \
	"t.responded_at IS NULL AND t.status IN ('new', 'open', 'waiting_citizen')" \
	" AND NOT EXISTS (SELECT 1 FROM escalation x WHERE x.ticket_id = t.id)"

const struct config_key sla_config_keys[] = {
	{ "sla.alert_addr", CFG_STR, "", 0, 0,
	  "the supervisors' address: a notice mail when a ticket passes its SLA warning time;"
	  " empty: the warning shows on the SLA board only" },
	{ "sla.batch", CFG_INT, "200", 1, 100000,
	  "tickets whose due time is recomputed per turn of the loop (intake goes first)" },
	{ NULL, CFG_STR, NULL, 0, 0, NULL },
};

static const struct db_stmt sla_stmts[] = {
	/* waiting-for-citizen intervals come from the status events */
	{ "sla_dirty",
	  "SELECT t.id, t.queue, t.channel, extract(epoch FROM t.received_at)::bigint, t.sla_gen,"
	  " t.status, (SELECT string_agg(extract(epoch FROM e.at)::bigint || ' ' || e.detail, E'\\n'"
	  "  ORDER BY e.id) FROM ticket_event e WHERE e.ticket_id = t.id AND e.kind = 'status'"
	  "  AND e.detail LIKE '%waiting_citizen%')"
	  " FROM ticket t WHERE t.sla_dirty ORDER BY t.id LIMIT $1::int" },
	{ "sla_store",
	  "UPDATE ticket t SET due_at = to_timestamp(u.due), warn_at = to_timestamp(u.warn),"
	  " sla_policy_id = u.pol, sla_dirty = false, sla_warned_at = CASE WHEN"
	  " to_timestamp(u.warn) > $6::timestamptz THEN NULL ELSE t.sla_warned_at END,"
	  " processing_due_at = to_timestamp(u.pdue)"
	  " FROM unnest($1::bigint[], $2::float8[], $3::float8[], $4::int[], $5::int[],"
	  "  $7::float8[]) AS u(id, due, warn, pol, gen, pdue)"
	  " WHERE t.id = u.id AND t.sla_gen = u.gen" },
	/* the department clock of escalations (sql/025) */
	{ "sla_esc_dirty",
	  "SELECT e.id, t.queue, t.channel, extract(epoch FROM e.created_at)::bigint, e.sla_gen,"
	  " coalesce(d.calendar_id, 0) FROM escalation e JOIN ticket t ON t.id = e.ticket_id"
	  " JOIN department d ON d.id = e.department_id WHERE e.sla_dirty ORDER BY e.id"
	  " LIMIT $1::int" },
	{ "sla_esc_store",
	  "UPDATE escalation e SET due_at = to_timestamp(u.due), warn_at = to_timestamp(u.warn),"
	  " sla_dirty = false FROM unnest($1::bigint[], $2::float8[], $3::float8[], $4::int[])"
	  " AS u(id, due, warn, gen) WHERE e.id = u.id AND e.sla_gen = u.gen" },
	{ "sla_warn_due",
	  "SELECT t.id, t.queue, t.channel, to_char(t.received_at AT TIME ZONE 'Asia/Tokyo',"
	  " 'YYYY-MM-DD HH24:MI'), to_char(t.due_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI'),"
	  " coalesce(nullif(u.display_name, ''), u.login, '') FROM ticket t"
	  " LEFT JOIN app_user u ON u.id = t.assignee"
	  " WHERE t.responded_at IS NULL AND t.sla_warned_at IS NULL"
	  " AND t.status IN ('new', 'open', 'waiting_citizen') AND t.warn_at <= $1::timestamptz"
	  " AND NOT t.sla_dirty AND NOT EXISTS (SELECT 1 FROM escalation x WHERE x.ticket_id = t.id)"
	  " ORDER BY t.warn_at, t.id LIMIT " SLA_WARN_BATCH " FOR UPDATE OF t SKIP LOCKED" },
	{ "sla_warned",
	  "WITH u AS (UPDATE ticket SET sla_warned_at = $2 WHERE id = $1),"
	  " e AS (INSERT INTO ticket_event (ticket_id, at, kind, detail) VALUES ($1, $2,"
	  "  'sla_warning', $3))"
	  " SELECT pg_notify('ticket_change', json_build_object('id', $1::bigint, 'op',"
	  "  'sla_warning')::text)" },
	{ "sla_notice_msg",
	  "INSERT INTO message (ticket_id, direction, subject, from_name, from_addr, to_list,"
	  " date_header, message_id_hdr, body_text, parse_state, created_at, delivery_state)"
	  " VALUES ($1, 'out', $2, $3, $4, $5, $6, $7, $8, 'ok', $9, 'queued') RETURNING id" },
	{ "sla_notice_out",
	  "WITH o AS (INSERT INTO outbound_mail (message_id, ticket_id, kind, env_from, rcpt, raw,"
	  " not_before, created_by, created_at) VALUES ($1, $2, 'notice', $3, ARRAY[$4], $5, $6,"
	  " 'system', $6) RETURNING id) SELECT pg_notify('outbound', (SELECT id FROM o)::text)" },
	/* ---- the API ---- */
	{ "sla_list",
	  "SELECT t.id, t.queue, t.channel, t.status, u.login, coalesce(nullif(u.display_name, ''),"
	  " u.login), " US("t.received_at") ", " US("t.due_at") ", " US("t.warn_at") ","
	  " extract(epoch FROM $1::timestamptz - t.due_at)::bigint FROM ticket t"
	  " LEFT JOIN app_user u ON u.id = t.assignee WHERE " SLA_ON_CLOCK
	  " AND t.warn_at <= $1::timestamptz AND (t.due_at < $1::timestamptz) = $2::boolean"
	  " ORDER BY t.due_at, t.id LIMIT 200" },
	{ "sla_escalations",
	  "SELECT e.id, e.token, e.ticket_id, d.name, d.section, " US("e.created_at") ", e.reminders,"
	  " " US("e.last_reminder_at") ", " US("e.next_reminder_at") ","
	  " extract(epoch FROM $1::timestamptz - e.created_at)::bigint, " US("e.due_at") ","
	  " " US("e.warn_at") ", extract(epoch FROM $1::timestamptz - e.due_at)::bigint,"
	  " e.created_by, u.login, coalesce(nullif(u.display_name, ''), u.login)"
	  " FROM escalation e JOIN department d ON d.id = e.department_id"
	  " JOIN ticket t ON t.id = e.ticket_id LEFT JOIN app_user u ON u.id = t.assignee"
	  " WHERE e.state = 'open' ORDER BY e.due_at NULLS LAST, e.created_at, e.id LIMIT 200" },
	/* open escalations per department: waiting, at risk, overdue */
	{ "sla_esc_departments",
	  "SELECT d.id, d.name, d.section, count(*), count(*) FILTER (WHERE e.warn_at <= $1::timestamptz"
	  "  AND e.due_at >= $1::timestamptz), count(*) FILTER (WHERE e.due_at < $1::timestamptz),"
	  " " US("min(e.due_at)") " FROM escalation e JOIN department d ON d.id = e.department_id"
	  " WHERE e.state = 'open' GROUP BY d.id, d.name, d.section"
	  " ORDER BY count(*) FILTER (WHERE e.due_at < $1::timestamptz) DESC, min(e.due_at), d.id" },
	/* escalations sent in [$1, $2] (Tokyo days), per department and in all
	 * (the department is NULL on the total row) */
	{ "sla_esc_stats",
	  "SELECT d.name, d.section, count(*), count(*) FILTER (WHERE e.state IN ('answered',"
	  "  'department_contacts')), count(*) FILTER (WHERE e.state IN ('answered',"
	  "  'department_contacts') AND e.due_at IS NOT NULL AND e.closed_at <= e.due_at),"
	  " count(*) FILTER (WHERE e.state = 'open' AND e.due_at < $3::timestamptz),"
	  " round(avg(extract(epoch FROM e.closed_at - e.created_at)) FILTER (WHERE e.state IN"
	  "  ('answered', 'department_contacts')))::bigint, coalesce(sum(e.reminders), 0),"
	  " grouping(d.id) FROM escalation e JOIN department d ON d.id = e.department_id"
	  " WHERE e.created_at >= ($1::date::timestamp AT TIME ZONE 'Asia/Tokyo')"
	  " AND e.created_at < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')"
	  " GROUP BY GROUPING SETS ((d.id, d.name, d.section), ())"
	  " ORDER BY grouping(d.id), count(*) DESC, d.id" },
	/* tickets received in [$1, $2) (Tokyo days); an escalated ticket leaves
	 * the centre's count unless it was answered before it was escalated */
	{ "sla_stats",
	  "WITH x AS (SELECT t.status, t.sla_policy_id, t.received_at, t.responded_at, t.due_at, e.esc,"
	  "  t.resolved_at, t.processing_due_at"
	  "  FROM ticket t LEFT JOIN (SELECT ticket_id, min(created_at) AS esc FROM escalation"
	  "  GROUP BY ticket_id) e ON e.ticket_id = t.id"
	  "  WHERE t.received_at >= ($1::date::timestamp AT TIME ZONE 'Asia/Tokyo')"
	  "  AND t.received_at < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Tokyo')"
	  "  AND t.merged_into IS NULL),"
	  " c AS (SELECT *, sla_policy_id IS NOT NULL AND (esc IS NULL OR"
	  "  coalesce(responded_at <= esc, false)) AS centre FROM x)"
	  " SELECT count(*), count(*) FILTER (WHERE centre),"
	  " count(*) FILTER (WHERE centre AND responded_at IS NOT NULL),"
	  " count(*) FILTER (WHERE centre AND responded_at IS NOT NULL AND due_at IS NOT NULL"
	  "  AND responded_at <= due_at),"
	  " count(*) FILTER (WHERE centre AND responded_at IS NULL"
	  "  AND status IN ('new', 'open', 'waiting_citizen') AND due_at < $3::timestamptz),"
	  " count(*) FILTER (WHERE centre AND responded_at IS NULL"
	  "  AND status IN ('new', 'open', 'waiting_citizen')"
	  "  AND (due_at IS NULL OR due_at >= $3::timestamptz)),"
	  " count(*) FILTER (WHERE esc IS NOT NULL AND NOT centre),"
	  /* 平均処理時間: receipt to the first reply, the tenders' "6 h" note */
	  " round(avg(extract(epoch FROM responded_at - received_at))"
	  "  FILTER (WHERE centre AND responded_at IS NOT NULL))::bigint,"
	  /* the processing clock: receipt to resolution */
	  " count(*) FILTER (WHERE centre AND resolved_at IS NOT NULL),"
	  " count(*) FILTER (WHERE centre AND resolved_at IS NOT NULL"
	  "  AND processing_due_at IS NOT NULL AND resolved_at <= processing_due_at),"
	  " round(avg(extract(epoch FROM resolved_at - received_at))"
	  "  FILTER (WHERE centre AND resolved_at IS NOT NULL))::bigint FROM c" },
	{ "sla_crisis_now",
	  "SELECT id, " US("started_at") ", reason, started_by FROM crisis_pause"
	  " WHERE ended_at IS NULL" },
	{ "sla_crisis_on",
	  "INSERT INTO crisis_pause (started_at, reason, started_by) SELECT $1, $2, $3"
	  " WHERE NOT EXISTS (SELECT 1 FROM crisis_pause WHERE ended_at IS NULL) RETURNING id" },
	{ "sla_crisis_off",
	  "UPDATE crisis_pause SET ended_at = $1, ended_by = $2 WHERE ended_at IS NULL RETURNING id" },
	{ NULL, NULL },
};

struct sla_pol {
	char *queue, *channel;
	const char *clock; /* "response", "processing", "department" (static) */
	int found;
	struct bizcal_db_policy p;
};

struct sla_cal {
	int id;
	struct bizcal *cal;
};

struct sla {
	struct db *db;
	long batch;
	char *alert_addr;
	int stale;
	int64_t loaded_at;
	struct sla_pol pols[SLA_MAX_POLS];
	int npols;
	struct sla_cal cals[SLA_MAX_CALS];
	int ncals;
	struct bizcal_range crisis[SLA_MAX_CRISIS];
	int ncrisis;
};

struct sla *sla_new(struct db *db, const struct config *cfg)
{
	struct sla *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->db = db;
	s->stale = 1;
	db_prepare_all(db, sla_stmts);
	db_prepare_all(db, bizcal_db_stmts);
	db_listen(db, "calendar_change");
	sla_configure(s, cfg);
	return s;
}

static void sla_drop_cache(struct sla *s)
{
	for (int i = 0; i < s->npols; i++) {
		free(s->pols[i].queue);
		free(s->pols[i].channel);
	}
	for (int i = 0; i < s->ncals; i++)
		bizcal_free(s->cals[i].cal);
	s->npols = s->ncals = s->ncrisis = 0;
}

void sla_free(struct sla *s)
{
	if (s == NULL)
		return;
	sla_drop_cache(s);
	free(s->alert_addr);
	free(s);
}

void sla_configure(struct sla *s, const struct config *cfg)
{
	const char *a = config_str(cfg, "sla.alert_addr");

	free(s->alert_addr);
	s->alert_addr = a[0] != '\0' ? strdup(a) : NULL;
	s->batch = config_int(cfg, "sla.batch");
	if (s->alert_addr != NULL && !reply_addr_ok(s->alert_addr))
		log_warn("sla.alert_addr \"%s\" is not a plain address: SLA alert mail will fail", a);
}

void sla_calendar_changed(struct sla *s)
{
	s->stale = 1;
}

/* ---- the cache ---- */

static int sla_reload(struct sla *s, int64_t now)
{
	sla_drop_cache(s);
	s->ncrisis = bizcal_db_crisis(s->db, now - SLA_HISTORY_DAYS * 86400, s->crisis,
				      SLA_MAX_CRISIS);
	if (s->ncrisis < 0) {
		s->ncrisis = 0;
		return -1;
	}
	s->stale = 0;
	s->loaded_at = now;
	return 0;
}

/* the policy of clock for queue and channel, or NULL (no such clock);
 * *err on a database error */
static const struct bizcal_db_policy *sla_policy(struct sla *s, const char *queue,
						  const char *channel, const char *clock, int *err)
{
	struct sla_pol *p;
	int r;

	for (int i = 0; i < s->npols; i++)
		if (strcmp(s->pols[i].queue, queue) == 0 && strcmp(s->pols[i].channel, channel) == 0 &&
		    strcmp(s->pols[i].clock, clock) == 0)
			return s->pols[i].found ? &s->pols[i].p : NULL;
	if (s->npols == SLA_MAX_POLS) { /* many queues: start over (the crisis list too) */
		sla_drop_cache(s);
		s->stale = 1;
	}
	if ((r = bizcal_db_policy(s->db, queue, channel, clock, &s->pols[s->npols].p)) < 0) {
		*err = 1;
		return NULL;
	}
	p = &s->pols[s->npols];
	p->queue = strdup(queue);
	p->channel = strdup(channel);
	p->clock = clock;
	p->found = r == 1;
	if (p->queue == NULL || p->channel == NULL) {
		free(p->queue);
		free(p->channel);
		*err = 1;
		return NULL;
	}
	s->npols++;
	return p->found ? &p->p : NULL;
}

static const struct bizcal *sla_calendar(struct sla *s, int id, int64_t now)
{
	struct bizcal *cal;

	for (int i = 0; i < s->ncals; i++)
		if (s->cals[i].id == id)
			return s->cals[i].cal;
	if (s->ncals == SLA_MAX_CALS ||
	    bizcal_db_load(s->db, id, now - SLA_HISTORY_DAYS * 86400, &cal) < 0)
		return NULL;
	s->cals[s->ncals].id = id;
	s->cals[s->ncals++].cal = cal;
	return cal;
}

/* ---- recomputation ---- */

/* the waiting-for-citizen intervals of "EPOCH a -> b (r)" lines, added to
 * pauses[*n]; a wait still going on runs to BIZCAL_NEVER */
static void sla_waits(const char *events, const char *status, struct bizcal_range *pauses,
		      size_t *n)
{
	int64_t start = -1;

	for (const char *p = events; p != NULL && *p != '\0';) {
		char *end;
		long long at = strtoll(p, &end, 10);
		const char *eol = strchr(end, '\n');
		size_t len = eol ? (size_t)(eol - end) : strlen(end);
		const char *arrow = memmem(end, len, " -> ", 4);

		if (arrow != NULL && memmem(arrow, len - (size_t)(arrow - end), "waiting_citizen", 15))
			start = start < 0 ? at : start; /* into waiting */
		else if (arrow != NULL && start >= 0 && *n < SLA_MAX_PAUSES) {
			pauses[(*n)++] = (struct bizcal_range){ start, at }; /* out of it */
			start = -1;
		}
		p = eol ? eol + 1 : NULL;
	}
	if (start >= 0 && strcmp(status, "waiting_citizen") == 0 && *n < SLA_MAX_PAUSES)
		pauses[(*n)++] = (struct bizcal_range){ start, BIZCAL_NEVER };
}

struct sla_out {
	struct buf ids, due, warn, pol, gen, pdue;
	int n;
};

static void sla_out_init(struct sla_out *o, size_t max)
{
	memset(o, 0, sizeof(*o));
	buf_init(&o->ids, max);
	buf_init(&o->due, max);
	buf_init(&o->warn, max);
	buf_init(&o->pol, max);
	buf_init(&o->gen, max);
	buf_init(&o->pdue, max);
}

static void sla_out_free(struct sla_out *o)
{
	buf_free(&o->ids);
	buf_free(&o->due);
	buf_free(&o->warn);
	buf_free(&o->pol);
	buf_free(&o->gen);
	buf_free(&o->pdue);
}

static void sla_out_add(struct sla_out *o, const char *id, const struct bizcal_due *d, int pol,
			const char *gen, const struct bizcal_due *pd)
{
	const char *sep = o->n++ ? "," : "{";

	buf_printf(&o->ids, "%s%s", sep, id);
	buf_printf(&o->gen, "%s%s", sep, gen);
	if (d == NULL || d->due == BIZCAL_NEVER) {
		buf_printf(&o->due, "%sNULL", sep);
		buf_printf(&o->warn, "%sNULL", sep);
	} else {
		buf_printf(&o->due, "%s%lld", sep, (long long)d->due);
		buf_printf(&o->warn, "%s%lld", sep, (long long)d->warning);
	}
	if (pd == NULL || pd->due == BIZCAL_NEVER)
		buf_printf(&o->pdue, "%sNULL", sep);
	else
		buf_printf(&o->pdue, "%s%lld", sep, (long long)pd->due);
	if (pol > 0)
		buf_printf(&o->pol, "%s%d", sep, pol);
	else
		buf_printf(&o->pol, "%sNULL", sep);
}

/* the due time of pol for something that started at start; calendar_id
 * overrides the policy's (a department's own hours).  1 computed, 0 none
 * (logged with what), -1 when the database failed */
static int sla_due(struct sla *s, const struct bizcal_db_policy *pol, int calendar_id,
		   int64_t start, const struct bizcal_range *pauses, size_t np, int64_t now,
		   const char *what, struct bizcal_due *d)
{
	const struct bizcal *cal = NULL;
	int cid = calendar_id > 0 ? calendar_id : pol->calendar_id;

	if (cid > 0 && (cal = sla_calendar(s, cid, now)) == NULL) {
		log_error("%s: calendar=%d cannot be loaded: no due time", what, cid);
		return 0;
	}
	if (bizcal_due(&pol->policy, cal, start, pauses, np, d) < 0) {
		log_error("%s: policy=%d is not usable: no due time", what, pol->id);
		return 0;
	}
	return 1;
}

/* the crisis pauses, and the waits for the citizen when pol says so */
static size_t sla_pauses(const struct sla *s, const struct bizcal_db_policy *pol,
			 const struct db_res *r, int i, struct bizcal_range *pauses)
{
	size_t np = (size_t)s->ncrisis;

	memcpy(pauses, s->crisis, np * sizeof(pauses[0]));
	if (pol->pause_when_waiting_citizen)
		sla_waits(db_res_val(r, i, 6), db_res_val(r, i, 5), pauses + np, &np);
	return np;
}

/* one ticket's due times (response and processing clocks); 0, or -1 when
 * the database failed */
static int sla_one(struct sla *s, const struct db_res *r, int i, int64_t now, struct sla_out *o)
{
	struct bizcal_range pauses[SLA_MAX_CRISIS + SLA_MAX_PAUSES];
	const char *id = db_res_val(r, i, 0), *q = db_res_val(r, i, 1), *ch = db_res_val(r, i, 2);
	int err = 0, have = 0, phave = 0;
	const struct bizcal_db_policy *pol = sla_policy(s, q, ch, "response", &err);
	const struct bizcal_db_policy *ppol = sla_policy(s, q, ch, "processing", &err);
	char what[48];
	struct bizcal_due d, pd;

	if (err)
		return -1;
	snprintf(what, sizeof(what), "ticket=%s", id);
	if (pol != NULL)
		have = sla_due(s, pol, 0, db_res_ll(r, i, 3), pauses, sla_pauses(s, pol, r, i, pauses),
			       now, what, &d);
	if (ppol != NULL)
		phave = sla_due(s, ppol, 0, db_res_ll(r, i, 3), pauses,
				sla_pauses(s, ppol, r, i, pauses), now, what, &pd);
	sla_out_add(o, id, have ? &d : NULL, pol ? pol->id : 0, db_res_val(r, i, 4),
		    phave ? &pd : NULL);
	return 0;
}

static int sla_store(struct sla *s, struct sla_out *o, int64_t now)
{
	char nowiso[40];
	const char *v[7];
	struct buf *b[5] = { &o->ids, &o->due, &o->warn, &o->pol, &o->gen };

	for (int k = 0; k < 5; k++) {
		buf_append_str(b[k], "}");
		v[k] = b[k]->data;
	}
	clock_format_iso(now * 1000000, nowiso, sizeof(nowiso));
	v[5] = nowiso;
	buf_append_str(&o->pdue, "}");
	v[6] = o->pdue.data;
	return db_cmd(s->db, "sla_store", 7, v, NULL, NULL) < 0 ? -1 : 0;
}

static int sla_recompute(struct sla *s, int64_t now)
{
	char lim[24];
	const char *v[1] = { lim };
	struct db_res *r;
	struct sla_out o;
	int n, rc = 0;

	snprintf(lim, sizeof(lim), "%ld", s->batch);
	if ((r = db_query(s->db, "sla_dirty", 1, v, NULL, NULL, 0)) == NULL)
		return -1;
	n = db_res_rows(r);
	sla_out_init(&o, 1u << 24);
	for (int i = 0; i < n && rc == 0; i++)
		rc = sla_one(s, r, i, now, &o);
	db_res_free(r);
	if (rc == 0 && n > 0)
		rc = sla_store(s, &o, now);
	sla_out_free(&o);
	return rc < 0 ? -1 : n;
}

/* one escalation's department due time: the department's calendar, else
 * the policy's; crisis pauses only (the citizen is not who is waited for) */
static int sla_esc_one(struct sla *s, const struct db_res *r, int i, int64_t now,
		       struct sla_out *o)
{
	const char *id = db_res_val(r, i, 0);
	int err = 0, have = 0;
	const struct bizcal_db_policy *pol =
		sla_policy(s, db_res_val(r, i, 1), db_res_val(r, i, 2), "department", &err);
	char what[48];
	struct bizcal_due d;

	if (err)
		return -1;
	snprintf(what, sizeof(what), "escalation=%s", id);
	if (pol != NULL)
		have = sla_due(s, pol, (int)db_res_ll(r, i, 5), db_res_ll(r, i, 3), s->crisis,
			       (size_t)s->ncrisis, now, what, &d);
	sla_out_add(o, id, have ? &d : NULL, 0, db_res_val(r, i, 4), NULL);
	return 0;
}

static int sla_esc_recompute(struct sla *s, int64_t now)
{
	char lim[24];
	const char *v[4] = { lim };
	struct db_res *r;
	struct sla_out o;
	int n, rc = 0;

	snprintf(lim, sizeof(lim), "%ld", s->batch);
	if ((r = db_query(s->db, "sla_esc_dirty", 1, v, NULL, NULL, 0)) == NULL)
		return -1;
	n = db_res_rows(r);
	sla_out_init(&o, 1u << 22);
	for (int i = 0; i < n && rc == 0; i++)
		rc = sla_esc_one(s, r, i, now, &o);
	db_res_free(r);
	if (rc == 0 && n > 0) {
		struct buf *b[4] = { &o.ids, &o.due, &o.warn, &o.gen };

		for (int k = 0; k < 4; k++) {
			buf_append_str(b[k], "}");
			v[k] = b[k]->data;
		}
		rc = db_cmd(s->db, "sla_esc_store", 4, v, NULL, NULL) < 0 ? -1 : 0;
	}
	sla_out_free(&o);
	return rc < 0 ? -1 : n;
}

/* ---- warnings ---- */

/* the notice mail to sla.alert_addr about one ticket: no citizen's words
 * in it (the subject is the citizen's), only numbers and times */
static int sla_notice(struct sla *s, struct pool *p, const struct db_res *r, int i,
		      const char *now)
{
	struct mailout m;
	struct buf raw;
	char msgid[256], date[40];
	const char *err = NULL, *subject, *body;
	int64_t t = clock_now_us();
	long long msg = -1;
	struct db_res *q;
	int rc = -1;

	subject = pool_printf(p, "【SLA警告】受付番号 %s 回答期限 %s", db_res_val(r, i, 0),
			      db_res_val(r, i, 4));
	body = pool_printf(p,
			   "回答期限が近づいている受付があります。\n\n"
			   "　受付番号：%s\n　キュー　：%s\n　受付方法：%s\n　受付日時：%s\n"
			   "　回答期限：%s\n　担当者　：%s\n\n"
			   "窓口の画面（SLA状況）で確認してください。\n",
			   db_res_val(r, i, 0), db_res_val(r, i, 1), db_res_val(r, i, 2),
			   db_res_val(r, i, 3), db_res_val(r, i, 4),
			   db_res_val(r, i, 5)[0] ? db_res_val(r, i, 5) : "（未割当て）");
	memset(&m, 0, sizeof(m));
	m.from_name = reply_conf.centre_name;
	m.from_addr = reply_conf.from_addr;
	m.to = s->alert_addr;
	m.subject = subject;
	m.body = body;
	m.message_id_domain = reply_conf.msgid_domain;
	m.date_us = t - t % 1000000;
	buf_init(&raw, 1u << 20);
	if (mailout_build(p, &m, &raw, msgid, sizeof(msgid), &err) < 0) {
		log_error("ticket=%s: the SLA notice cannot be built: %s", db_res_val(r, i, 0), err);
		buf_free(&raw);
		return 0; /* the warning stands without its mail */
	}
	{
		const char *v[9] = { db_res_val(r, i, 0), subject, reply_conf.centre_name,
				     reply_conf.from_addr, s->alert_addr,
				     clock_format_iso(m.date_us, date, sizeof(date)), msgid, body, now };

		if ((q = db_query(s->db, "sla_notice_msg", 9, v, NULL, NULL, 0)) != NULL &&
		    db_res_rows(q) == 1)
			msg = db_res_ll(q, 0, 0);
		db_res_free(q);
	}
	if (msg > 0) {
		const char *v[6] = { pool_printf(p, "%lld", msg), db_res_val(r, i, 0),
				     reply_conf.from_addr, s->alert_addr, raw.data, now };
		const int lens[6] = { 0, 0, 0, 0, (int)raw.len, 0 };
		const int bin[6] = { 0, 0, 0, 0, 1, 0 };

		q = db_query(s->db, "sla_notice_out", 6, v, lens, bin, 0);
		rc = q ? 0 : -1;
		db_res_free(q);
	}
	buf_free(&raw);
	return rc;
}

/* one ticket's warning: the row, its event and NOTIFY, the notice mail */
static int sla_warn_one(struct sla *s, const struct db_res *r, int i, const char *now)
{
	struct pool *p = pool_create(1u << 22);
	const char *w[3];
	struct db_res *q;
	int rc;

	if (p == NULL)
		return -1;
	w[0] = db_res_val(r, i, 0);
	w[1] = now;
	w[2] = pool_printf(p, "due %s (Tokyo)", db_res_val(r, i, 4));
	q = db_query(s->db, "sla_warned", 3, w, NULL, NULL, 0);
	rc = q ? 0 : -1;
	db_res_free(q);
	if (rc == 0 && s->alert_addr != NULL)
		rc = sla_notice(s, p, r, i, now);
	if (rc == 0)
		log_info("ticket=%s: SLA warning, due %s (Tokyo)%s", db_res_val(r, i, 0),
			 db_res_val(r, i, 4), s->alert_addr ? ", supervisors mailed" : "");
	pool_destroy(p);
	return rc;
}

/* tickets past their warning time, warned once each; how many, or -1 */
static int sla_warn(struct sla *s, int64_t now_s)
{
	char now[40];
	const char *v[1] = { now };
	struct db_res *r;
	int n, rc = 0;

	clock_format_iso(now_s * 1000000, now, sizeof(now));
	if (db_begin(s->db) < 0)
		return -1;
	if ((r = db_query(s->db, "sla_warn_due", 1, v, NULL, NULL, 0)) == NULL) {
		db_rollback(s->db);
		return -1;
	}
	n = db_res_rows(r);
	for (int i = 0; i < n && rc == 0; i++)
		rc = sla_warn_one(s, r, i, now);
	db_res_free(r);
	if (rc < 0 || db_commit(s->db) < 0) {
		db_rollback(s->db);
		return -1;
	}
	return n;
}

int sla_run(struct sla *s)
{
	int64_t now = clock_now_us() / 1000000;
	int a, b;

	if ((s->stale || now - s->loaded_at > SLA_RELOAD_S) && sla_reload(s, now) < 0)
		return -1;
	if ((a = sla_recompute(s, now)) < 0)
		return -1;
	if (a > 0)
		return a; /* warnings once the due times are in */
	if ((a = sla_esc_recompute(s, now)) != 0)
		return a;
	b = sla_warn(s, now);
	return b;
}

/* ---- GET /api/sla ---- */

static json_t *sla_rows(struct api_call *c, const char *now, int overdue)
{
	const char *v[2] = { now, overdue ? "true" : "false" };
	struct db_res *r = db_query(c->db, "sla_list", 2, v, NULL, NULL, 0);
	json_t *a;

	if (r == NULL)
		return NULL;
	a = json_array();
	for (int i = 0; i < db_res_rows(r); i++) {
		json_t *row = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
					api_col_int(r, i, 0), "queue", api_col_str(r, i, 1),
					"channel", api_col_str(r, i, 2), "status",
					api_col_str(r, i, 3), "received_at", api_col_time(r, i, 6),
					"due_at", api_col_time(r, i, 7), "warn_at",
					api_col_time(r, i, 8));

		json_object_set_new(row, "assignee",
				    db_res_null(r, i, 4) ? json_null()
							 : json_pack("{s:o, s:o}", "login",
								     api_col_str(r, i, 4),
								     "display_name",
								     api_col_str(r, i, 5)));
		json_object_set_new(row, "late_seconds", api_col_int(r, i, 9));
		json_array_append_new(a, row);
	}
	db_res_free(r);
	return a;
}

/* the department clock and who is behind an open escalation */
static void sla_esc_clock(json_t *row, const struct db_res *r, int i)
{
	json_object_set_new(row, "due_at", api_col_time(r, i, 10));
	json_object_set_new(row, "warn_at", api_col_time(r, i, 11));
	json_object_set_new(row, "late_seconds", api_col_int(r, i, 12));
	json_object_set_new(row, "escalated_by", api_col_str(r, i, 13));
	json_object_set_new(row, "assignee",
			    db_res_null(r, i, 14) ? json_null()
						  : json_pack("{s:o, s:o}", "login",
							      api_col_str(r, i, 14), "display_name",
							      api_col_str(r, i, 15)));
}

/* open escalations per department */
static json_t *sla_department_rows(struct api_call *c, const char *now)
{
	const char *v[1] = { now };
	struct db_res *r = db_query(c->db, "sla_esc_departments", 1, v, NULL, NULL, 0);
	json_t *a;

	if (r == NULL)
		return NULL;
	a = json_array();
	for (int i = 0; i < db_res_rows(r); i++)
		json_array_append_new(
			a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "department_id",
				     api_col_int(r, i, 0), "name", api_col_str(r, i, 1), "section",
				     api_col_str(r, i, 2), "open", api_col_int(r, i, 3), "at_risk",
				     api_col_int(r, i, 4), "overdue", api_col_int(r, i, 5),
				     "next_due_at", api_col_time(r, i, 6)));
	db_res_free(r);
	return a;
}

/* escalations sent from..to: per department, and the total */
static json_t *sla_esc_figures(struct api_call *c, const char *from, const char *to,
			       const char *now)
{
	const char *v[3] = { from, to, now };
	struct db_res *r = db_query(c->db, "sla_esc_stats", 3, v, NULL, NULL, 0);
	json_t *d, *per;

	if (r == NULL)
		return NULL;
	d = json_pack("{s:i, s:i, s:i, s:i, s:n, s:i, s:o}", "sent", 0, "answered", 0, "within", 0,
		      "open_overdue", 0, "avg_answer_seconds", "reminders", 0, "departments",
		      json_array());
	per = json_object_get(d, "departments");
	for (int i = 0; i < db_res_rows(r); i++) {
		json_t *row = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "sent",
					api_col_int(r, i, 2), "answered", api_col_int(r, i, 3),
					"within", api_col_int(r, i, 4), "open_overdue",
					api_col_int(r, i, 5), "avg_answer_seconds",
					api_col_int(r, i, 6), "reminders", api_col_int(r, i, 7));

		if (db_res_ll(r, i, 8) == 1) { /* the total */
			json_object_update(d, row);
			json_decref(row);
			continue;
		}
		json_object_set_new(row, "name", api_col_str(r, i, 0));
		json_object_set_new(row, "section", api_col_str(r, i, 1));
		json_array_append_new(per, row);
	}
	db_res_free(r);
	return d;
}

static json_t *sla_escalation_rows(struct api_call *c, const char *now)
{
	const char *v[1] = { now };
	struct db_res *r = db_query(c->db, "sla_escalations", 1, v, NULL, NULL, 0);
	json_t *a;

	if (r == NULL)
		return NULL;
	a = json_array();
	for (int i = 0; i < db_res_rows(r); i++) {
		const char *sec = db_res_val(r, i, 4);

		json_array_append_new(a, json_pack(
			"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", api_col_int(r, i, 0),
			"token", api_col_str(r, i, 1), "ticket_id", api_col_int(r, i, 2),
			"department", sec[0] ? json_sprintf("%s > %s", db_res_val(r, i, 3), sec)
					     : json_string(db_res_val(r, i, 3)),
			"created_at", api_col_time(r, i, 5), "reminders", api_col_int(r, i, 6),
			"last_reminder_at", api_col_time(r, i, 7), "next_reminder_at",
			api_col_time(r, i, 8), "age_seconds", api_col_int(r, i, 9)));
		sla_esc_clock(json_array_get(a, json_array_size(a) - 1), r, i);
	}
	db_res_free(r);
	return a;
}

/* the figures of tickets received from..to (Tokyo dates), as of now */
static json_t *sla_figures(struct api_call *c, const char *from, const char *to, const char *now)
{
	const char *v[3] = { from, to, now };
	struct db_res *r = db_query(c->db, "sla_stats", 3, v, NULL, NULL, 0);
	json_t *d;
	long long responded, within;

	if (r == NULL || db_res_rows(r) != 1) {
		db_res_free(r);
		return NULL;
	}
	responded = db_res_ll(r, 0, 2);
	within = db_res_ll(r, 0, 3);
	d = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "from", from, "to", to,
		      "received", api_col_int(r, 0, 0), "with_sla", api_col_int(r, 0, 1),
		      "responded", api_col_int(r, 0, 2), "within", api_col_int(r, 0, 3),
		      "unanswered_overdue", api_col_int(r, 0, 4), "open_on_time",
		      api_col_int(r, 0, 5), "escalated", api_col_int(r, 0, 6));
	/* 納期率 to a tenth of a percent; null with no reply yet */
	json_object_set_new(d, "avg_response_seconds", api_col_int(r, 0, 7));
	json_object_set_new(d, "processed", api_col_int(r, 0, 8));
	json_object_set_new(d, "processed_within", api_col_int(r, 0, 9));
	json_object_set_new(d, "avg_processing_seconds", api_col_int(r, 0, 10));
	json_object_set_new(d, "rate", responded > 0 ? json_real((double)(within * 1000 / responded) /
								   10.0)
						     : json_null());
	db_res_free(r);
	json_object_set_new(d, "escalation", sla_esc_figures(c, from, to, now));
	return d;
}

static json_t *sla_crisis_doc(struct api_call *c, int *err)
{
	struct db_res *r = db_query(c->db, "sla_crisis_now", 0, NULL, NULL, NULL, 0);
	json_t *d;

	if (r == NULL) {
		*err = 1;
		return NULL;
	}
	d = db_res_rows(r) == 0 ? json_null()
				: json_pack("{s:o, s:o, s:o, s:o}", "id", api_col_int(r, 0, 0),
					    "started_at", api_col_time(r, 0, 1), "reason",
					    api_col_str(r, 0, 2), "started_by",
					    api_col_str(r, 0, 3));
	db_res_free(r);
	return d;
}

/* today and the first of the month, Tokyo */
static void sla_days(char *today, char *month1)
{
	char iso[40];

	clock_format_iso(clock_now_us() + 9 * 3600 * INT64_C(1000000), iso, sizeof(iso));
	snprintf(today, 11, "%.10s", iso);
	snprintf(month1, 11, "%.8s01", iso);
}

void sla_board(struct api_call *c)
{
	const char *now = api_now_iso(c, 0);
	char today[11], month1[11];
	int err = 0;
	json_t *crisis = sla_crisis_doc(c, &err), *doc;

	sla_days(today, month1);
	doc = json_pack("{s:s, s:o, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*}", "now", now, "crisis",
			err ? json_null() : crisis, "overdue", sla_rows(c, now, 1), "at_risk",
			sla_rows(c, now, 0), "escalations", sla_escalation_rows(c, now),
			"departments", sla_department_rows(c, now), "today",
			sla_figures(c, today, today, now), "month",
			sla_figures(c, month1, today, now));
	if (err || doc == NULL || json_object_size(doc) != 8) {
		json_decref(doc);
		api_error(c, 503, "database unavailable");
		return;
	}
	api_json(c, 200, doc);
}

/* ---- GET /api/sla/stats ---- */

static int sla_date_ok(const char *s)
{
	int y, m, d;
	char tail;

	return s != NULL && strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 &&
	       s[4] == '-' && s[7] == '-' && bizcal_valid_date(y, m, d);
}

void sla_stats(struct api_call *c)
{
	const char *from = http_query(c->req, "from"), *to = http_query(c->req, "to");
	char today[11], month1[11];
	json_t *d;

	sla_days(today, month1);
	from = from ? from : month1;
	to = to ? to : today;
	if (!sla_date_ok(from) || !sla_date_ok(to) || strcmp(from, to) > 0) {
		api_error(c, 400, "from, to: dates YYYY-MM-DD (Tokyo), from not after to");
		return;
	}
	if ((d = sla_figures(c, from, to, api_now_iso(c, 0))) == NULL)
		api_error(c, 503, "database unavailable");
	else
		api_json(c, 200, d);
}

/* ---- POST /api/sla/crisis, /api/sla/crisis/end ---- */

static void sla_crisis_answer(struct api_call *c, struct db_res *r, const char *what)
{
	int err = 0;
	json_t *d;

	if (r == NULL) {
		api_error(c, 503, "database unavailable");
		return;
	}
	if (db_res_rows(r) == 0) {
		db_res_free(r);
		api_error(c, 409, strcmp(what, "on") == 0 ? "the crisis switch is on already"
							  : "the crisis switch is off");
		return;
	}
	db_res_free(r);
	log_info("SLA crisis switch %s by %s: every clock %s", what, c->session->login,
		 strcmp(what, "on") == 0 ? "paused" : "runs again");
	d = sla_crisis_doc(c, &err);
	if (err)
		api_error(c, 503, "database unavailable");
	else
		api_json(c, 200, json_pack("{s:o}", "crisis", d));
}

void sla_crisis_start(struct api_call *c)
{
	json_t *body = api_body_object(c);
	const char *reason, *v[3];

	if (body == NULL)
		return;
	reason = json_string_value(json_object_get(body, "reason"));
	if (reason == NULL || reason[0] == '\0' || strlen(reason) > 1000) {
		json_decref(body);
		api_error(c, 400, "reason: say why the clocks stop (1 to 1000 bytes)");
		return;
	}
	v[0] = api_now_iso(c, 0);
	v[1] = pool_strdup(c->req->pool, reason);
	v[2] = c->session->login;
	json_decref(body);
	sla_crisis_answer(c, db_query(c->db, "sla_crisis_on", 3, v, NULL, NULL, 0), "on");
}

void sla_crisis_end(struct api_call *c)
{
	const char *v[2] = { api_now_iso(c, 0), c->session->login };

	sla_crisis_answer(c, db_query(c->db, "sla_crisis_off", 2, v, NULL, NULL, 0), "off");
}
