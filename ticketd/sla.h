/* sla: the 24-hour response SLA of every ticket (issue 6, sql/020).
 *
 * The recomputation: on every turn of the loop while there is work,
 * tickets whose sla_dirty is set get due_at and warn_at from lib/bizcal:
 * the policy of their queue and channel (sql/016's sla_policy, the most
 * specific row; none: no SLA), its calendar, and the pauses - the crisis
 * switch, and waiting for the citizen when the policy says so (from the
 * ticket's status events).  A row changed meanwhile keeps its flag
 * (sla_gen) and is done again.  Calendars, policies and crisis pauses are
 * cached; NOTIFY calendar_change (sql/020's triggers) drops the cache.
 *
 * The warning: a ticket on the centre's clock (no reply; new, open or
 * waiting for the citizen) whose warn_at has passed gets sla_warned_at,
 * an event sla_warning, a NOTIFY (the supervisors' pages) and, when
 * sla.alert_addr is set, a notice mail to that address (outbound_mail kind
 * 'notice', sent by escalationd), all in one transaction, once.
 *
 *   GET  /api/sla               operator, supervisor, admin: the board, "as of now":
 *        {"now","crisis","overdue":[...],"at_risk":[...],"escalations":[...],
 *         "today":{...},"month":{...}}; rows {id, queue, channel, status,
 *         assignee, received_at, due_at, warn_at, late_seconds}, most late first
 *   GET  /api/sla/stats?from=YYYY-MM-DD&to=YYYY-MM-DD   any role: tickets received
 *        in those Tokyo days: {"from","to","received","with_sla","responded",
 *        "within","rate","unanswered_overdue","open_on_time","escalated"}
 *   POST /api/sla/crisis {"reason"}    supervisor: the clocks pause (409 if on)
 *   POST /api/sla/crisis/end           supervisor: they run again (409 if off) */
#ifndef MDG_SLA_H
#define MDG_SLA_H

struct api_call;
struct config;
struct db;
struct sla;

extern const struct config_key sla_config_keys[];

struct sla *sla_new(struct db *db, const struct config *cfg);
void sla_free(struct sla *s);
void sla_configure(struct sla *s, const struct config *cfg);
/* NOTIFY calendar_change: reread calendars, policies, crisis pauses */
void sla_calendar_changed(struct sla *s);
/* one batch of recomputation and warnings: how many tickets it did, or -1 */
int sla_run(struct sla *s);

void sla_board(struct api_call *c);
void sla_stats(struct api_call *c);
void sla_crisis_start(struct api_call *c);
void sla_crisis_end(struct api_call *c);

#endif
