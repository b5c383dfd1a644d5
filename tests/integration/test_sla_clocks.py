#!/usr/bin/python3
"""The processing clock and the department clock (issue 6; sql/025, ticketd/sla.c).

Private PostgreSQL, ticketd with the clock pinned at Mon 2026-12-28 17:00 JST.
Seeded policies: processing within 6 wall-clock hours for mail and fax; a
department answers within two of its business days (17.5 business hours),
warned with one day (8.75 h) left, on the department's calendar or, when it
has none, the ward's (Mon-Fri 08:30-17:15, 12/29-1/3 closed).

  E1 環境課 (no calendar: the ward's)   sent Fri 12-25 16:00  due Mon 01-04 16:00, warns Mon 12-28 16:00
  E2 福祉課 (the centre's, Mon-Sat)      sent Fri 12-25 16:00  due Mon 12-28 16:00, warns Sat 12-26 16:00
  E3 環境課                              sent Mon 12-28 09:00  answered 11:00; due Tue 01-05 09:00, warns 01-04 09:00

  P1 mail received 12-28 08:00, resolved 13:00: processing due 14:00, in time
  P2 fax  received 12-28 09:00, resolved 16:00: processing due 15:00, late
  P3 call received 12-28 10:00: no processing policy

At 17:00 the board lists E2 overdue by one hour and E1 at risk, per
department; the stats count escalations, answers, time to answer and
reminders per department, and the processing clock (2 processed, 1 in time,
6 h on average).  Giving 環境課 the centre's calendar (Saturdays open) moves E1
to Mon 12-28 16:00.

Run: /usr/bin/python3 tests/integration/test_sla_clocks.py
"""
import calendar
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
sys.path.insert(0, os.path.dirname(__file__))
import mdg  # noqa: E402
import ticketd_http  # noqa: E402

t = mdg.Checks('sla-clocks')
OWNER = 'madoguchi_owner'


def jst(s):
    return calendar.timegm(time.strptime(s, '%Y-%m-%d %H:%M')) - 9 * 3600


def iso(s):
    return time.strftime('%Y-%m-%dT%H:%M:%S.000000Z', time.gmtime(jst(s)))


def setup(env):
    env.pg.psql(
        "INSERT INTO ticket (id, channel, queue, subject, status, created_at, updated_at, received_at,"
        " resolved_at) VALUES"
        " (1, 'mail', 'general', 'a', 'escalated', '2026-12-25 15:00+09', now(), '2026-12-25 15:00+09', NULL),"
        " (2, 'mail', 'general', 'b', 'escalated', '2026-12-25 15:00+09', now(), '2026-12-25 15:00+09', NULL),"
        " (3, 'mail', 'general', 'c', 'open', '2026-12-28 08:30+09', now(), '2026-12-28 08:30+09', NULL),"
        " (11, 'mail', 'general', 'p1', 'resolved', '2026-12-28 08:00+09', now(), '2026-12-28 08:00+09',"
        "  '2026-12-28 13:00+09'),"
        " (12, 'fax', 'general', 'p2', 'resolved', '2026-12-28 09:00+09', now(), '2026-12-28 09:00+09',"
        "  '2026-12-28 16:00+09'),"
        " (13, 'call', 'general', 'p3', 'resolved', '2026-12-28 10:00+09', now(), '2026-12-28 10:00+09',"
        "  '2026-12-28 10:30+09');"
        " SELECT setval('ticket_id_seq', 100);"
        " INSERT INTO department (id, name, mail, updated_by, updated_at, calendar_id) VALUES"
        "  (1, '環境課', '{k@w.example.lg.jp}', 't', now(), NULL),"
        "  (2, '福祉課', '{f@w.example.lg.jp}', 't', now(), (SELECT id FROM calendar WHERE kind = 'centre'));"
        " INSERT INTO message (id, ticket_id, direction, subject, parse_state, created_at) VALUES"
        "  (61, 1, 'out', 'x', 'ok', now()), (62, 2, 'out', 'x', 'ok', now()), (63, 3, 'out', 'x', 'ok', now());"
        " INSERT INTO escalation (id, token, ticket_id, department_id, message_id, created_by, created_at,"
        "  state, closed_at, closed_by, reminders) VALUES"
        "  (1, 'E-2026-00001', 1, 1, 61, 'op1', '2026-12-25 16:00+09', 'open', NULL, NULL, 1),"
        "  (2, 'E-2026-00002', 2, 2, 62, 'op1', '2026-12-25 16:00+09', 'open', NULL, NULL, 2),"
        "  (3, 'E-2026-00003', 3, 1, 63, 'op1', '2026-12-28 09:00+09', 'answered', '2026-12-28 11:00+09',"
        "   'department', 0);",
        user=OWNER)


def esc_dues(env):
    return {int(r[0]): (r[1], r[2]) for r in env.sql(
        "SELECT id, coalesce(to_char(due_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI'), '-'),"
        " coalesce(to_char(warn_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI'), '-')"
        " FROM escalation WHERE NOT sla_dirty ORDER BY id")}


def proc_dues(env):
    return {int(r[0]): r[1] for r in env.sql(
        "SELECT id, coalesce(to_char(processing_due_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI'), '-')"
        " FROM ticket WHERE NOT sla_dirty AND id > 10 ORDER BY id")}


def main():
    with mdg.Env('sla-clocks') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user('sv1', 'supervisor', 'supervisor-pass-1', '責任者')
        env.add_user('vw1', 'viewer', 'viewer-pass-1', '区職員')
        setup(env)
        d = env.start('ticketd', extra_env={'MADOGUCHI_PINNED_NOW': str(jst('2026-12-28 17:00'))})
        try:
            if not mdg.wait_for(lambda: ticketd_http._listening(port), 10):
                raise RuntimeError('ticketd did not start')
            t.check('every clock computed', mdg.wait_for(
                lambda: len(esc_dues(env)) == 3 and len(proc_dues(env)) == 3, 20))
            t.equal('department due and warning times (Tokyo)', esc_dues(env), {
                1: ('2027-01-04 16:00', '2026-12-28 16:00'),
                2: ('2026-12-28 16:00', '2026-12-26 16:00'),
                3: ('2027-01-05 09:00', '2027-01-04 09:00')})
            t.equal('processing due times (Tokyo)', proc_dues(env),
                    {11: '2026-12-28 14:00', 12: '2026-12-28 15:00', 13: '-'})
            sv = ticketd_http.Client(port)
            sv.login('sv1', 'supervisor-pass-1')
            b = sv.get('/api/sla').json()
            t.equal('board: open escalations by due time, late seconds, who escalated',
                    [(e['token'], e['department'], e['due_at'], e['late_seconds'], e['escalated_by'])
                     for e in b['escalations']],
                    [('E-2026-00002', '福祉課', iso('2026-12-28 16:00'), 3600, 'op1'),
                     ('E-2026-00001', '環境課', iso('2027-01-04 16:00'), -(7 * 86400 - 3600), 'op1')])
            t.equal('board: per department, the overdue first',
                    [(x['name'], x['open'], x['at_risk'], x['overdue'], x['next_due_at'])
                     for x in b['departments']],
                    [('福祉課', 1, 0, 1, iso('2026-12-28 16:00')),
                     ('環境課', 1, 1, 0, iso('2027-01-04 16:00'))])
            st = sv.get('/api/sla/stats?from=2026-12-25&to=2026-12-28').json()
            t.equal('stats: the processing clock (2 processed, 1 in time, 6 h on average)',
                    (st['processed'], st['processed_within'], st['avg_processing_seconds']), (2, 1, 21600))
            t.equal('stats: escalations in all', {k: v for k, v in st['escalation'].items() if k != 'departments'},
                    {'sent': 3, 'answered': 1, 'within': 1, 'open_overdue': 1, 'avg_answer_seconds': 7200,
                     'reminders': 3})
            t.equal('stats: escalations per department',
                    [(x['name'], x['sent'], x['answered'], x['within'], x['open_overdue'], x['avg_answer_seconds'],
                      x['reminders']) for x in st['escalation']['departments']],
                    [('環境課', 2, 1, 1, 0, 7200, 1), ('福祉課', 1, 0, 0, 1, None, 2)])
            st = sv.get('/api/sla/stats?from=2026-12-28&to=2026-12-28').json()
            t.equal('stats of 12-28 only: one escalation sent, answered', (st['escalation']['sent'],
                    st['escalation']['answered'], [x['name'] for x in st['escalation']['departments']]),
                    (1, 1, ['環境課']))
            env.pg.psql("UPDATE department SET calendar_id = (SELECT id FROM calendar WHERE kind = 'centre')"
                        " WHERE id = 1", user=OWNER)
            t.check('環境課 on the centre\'s calendar (Saturdays open): E1 due Mon 12-28 16:00', mdg.wait_for(
                lambda: esc_dues(env).get(1) == ('2026-12-28 16:00', '2026-12-26 16:00'), 20), esc_dues(env))
            t.equal('the answered escalation is not recomputed', esc_dues(env).get(3),
                    ('2027-01-05 09:00', '2027-01-04 09:00'))
            env.pg.psql("UPDATE sla_policy SET target_seconds = 31500, warning_seconds = 0"
                        " WHERE clock = 'department'", user=OWNER)
            t.check('a policy change recomputes open escalations: E2 due Sat 12-26 16:00', mdg.wait_for(
                lambda: esc_dues(env).get(2, ('',))[0] == '2026-12-26 16:00', 20), esc_dues(env))
            vw = ticketd_http.Client(port)
            vw.login('vw1', 'viewer-pass-1')
            t.equal('ward staff (viewer) do not read the board: it names tickets', vw.get('/api/sla').status, 403)
            t.check('ticketd still running', d.alive())
        except Exception as ex:
            t.fail('scenario ran to the end', f'{type(ex).__name__}: {ex}')
            print('# --- ticketd log tail ---\n' + d.log_text()[-2500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
