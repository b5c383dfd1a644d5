#!/usr/bin/python3
"""The SLA clock on real tickets (issue 6; ticketd/sla.h, sql/020).

Private PostgreSQL, ticketd with a pinned clock (MADOGUCHI_PINNED_NOW),
escalationd and smtp-sink for the supervisors' notice mail.  Policies: the
seeded 24 wall-clock hours for mail and fax (warning with 6 h left); queue
'biz' mail 8 business hours on the centre's calendar (Mon-Sat 08:30-17:15,
年末年始 closed; warning with 2 h left); queue 'nextday' mail the end of the
next business day on the ward's calendar (Mon-Fri).  Tickets, received (JST):

  T1 mail general  Fri 2026-12-25 17:20  due Sat 12-26 17:20, warns 11:20
  T2 mail biz      Fri 2026-12-25 17:20  due Sat 12-26 16:30, warns 14:30
  T3 mail nextday  Mon 2026-12-28 16:00  due Mon 2027-01-04 17:15 (12/29-1/3 closed)
  T4 fax  general  Sun 2026-12-20 10:00  due Mon 12-21 10:00
  T5 call general  Sat 2026-12-26 09:00  no policy: no due time
  T6 mail general  Sat 2026-12-26 08:00  escalated: off the centre's clock

At Sat 2026-12-26 12:00 JST: the board lists T4 overdue (late 5 d 2 h) and T1 at
risk; T1 and T4 are warned once each (event, notice mail at the sink with
numbers only); a reply queued for T1 stops its clock (responded_at = its
time) and taken back restarts it; waiting for the citizen stops T2's clock
(no due time) and its end brings it back; the crisis switch on at 12:00 and
off at 13:00 (ticketd restarted at 13:00) moves T1 to 18:20 and T2 across the
Sunday to Mon 12-28 08:45; the stats count 納期率 and 未処理 exactly.

Run: /usr/bin/python3 tests/integration/test_sla.py
"""
import calendar
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
sys.path.insert(0, os.path.dirname(__file__))
import mdg  # noqa: E402
import ticketd_http  # noqa: E402

t = mdg.Checks('sla')
OWNER = 'madoguchi_owner'
SUPERVISOR_ADDR = 'sv-desk@city.example.lg.jp'


def jst(s):
    """'2026-12-26 12:00' (Tokyo) -> seconds since the epoch"""
    return calendar.timegm(time.strptime(s, '%Y-%m-%d %H:%M')) - 9 * 3600


def iso(s):
    """'2026-12-26 12:00' (Tokyo) -> the API's UTC form"""
    return time.strftime('%Y-%m-%dT%H:%M:%S.000000Z', time.gmtime(jst(s)))


TICKETS = [  # id, channel, queue, received (JST), status
    (1, 'mail', 'general', '2026-12-25 17:20', 'new'),
    (2, 'mail', 'biz', '2026-12-25 17:20', 'new'),
    (3, 'mail', 'nextday', '2026-12-28 16:00', 'new'),
    (4, 'fax', 'general', '2026-12-20 10:00', 'open'),
    (5, 'call', 'general', '2026-12-26 09:00', 'new'),
    (6, 'mail', 'general', '2026-12-26 08:00', 'open'),
]


def setup(env):
    env.pg.psql(
        "INSERT INTO sla_policy (queue, channel, mode, target_seconds, warning_seconds, calendar_id)"
        " SELECT 'biz', 'mail', 'business_hours', 28800, 7200, id FROM calendar WHERE kind = 'centre';"
        " INSERT INTO sla_policy (queue, channel, mode, target_seconds, warning_seconds, calendar_id)"
        " SELECT 'nextday', 'mail', 'next_business_day_end', 0, 0, id FROM calendar WHERE kind = 'ward';"
        " INSERT INTO ticket (id, channel, queue, subject, status, created_at, updated_at, received_at) VALUES "
        + ', '.join(f"({i}, '{ch}', '{q}', '山田様の件 {i}', '{st}', '{r}+09', '{r}+09', '{r}+09')"
                    for i, ch, q, r, st in TICKETS)
        + "; SELECT setval('ticket_id_seq', 100);"
        " INSERT INTO department (name, mail, updated_by, updated_at) VALUES ('環境課', '{k@w.example.lg.jp}', 't', now());"
        " INSERT INTO message (id, ticket_id, direction, subject, parse_state, created_at)"
        "  VALUES (60, 6, 'out', 'x', 'ok', now());"
        " INSERT INTO escalation (token, ticket_id, department_id, message_id, created_by, created_at)"
        "  SELECT 'E-2026-00001', 6, id, 60, 't', '2026-12-26 09:00+09' FROM department;",
        user=OWNER)


def dues(env):
    return {int(r[0]): (r[1], r[2]) for r in env.sql(
        "SELECT id, coalesce(to_char(due_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI'), '-'),"
        " coalesce(to_char(warn_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI'), '-')"
        " FROM ticket WHERE NOT sla_dirty ORDER BY id")}


def settled(env, want_ids=6):
    return mdg.wait_for(lambda: int(env.sql('SELECT count(*) FROM ticket WHERE sla_dirty')[0][0]) == 0
                        and len(dues(env)) >= want_ids, 20)


def start_ticketd(env, now):
    d = env.start('ticketd', extra_env={'MADOGUCHI_PINNED_NOW': str(jst(now))})
    port = int(env.settings['ticketd.listen'].rsplit(':', 1)[1])
    if not mdg.wait_for(lambda: ticketd_http._listening(port), 10):
        raise RuntimeError('ticketd did not start:\n' + d.log_text()[-2000:])
    return d


def check_board(env, sv):
    b = sv.get('/api/sla').json()
    t.equal('board: now is the pinned instant', b['now'], iso('2026-12-26 12:00'))
    t.equal('board: T4 overdue, late 5 days 2 hours; T6 (escalated) and T5 (no policy) not listed',
            [(r['id'], r['late_seconds'], r['due_at']) for r in b['overdue']],
            [(4, 5 * 86400 + 2 * 3600, iso('2026-12-21 10:00'))])
    t.equal('board: T1 at risk (warns 11:20, due 17:20)',
            [(r['id'], r['warn_at'], r['due_at']) for r in b['at_risk']],
            [(1, iso('2026-12-26 11:20'), iso('2026-12-26 17:20'))])
    t.equal('board: the open escalation with its age',
            [(e['token'], e['ticket_id'], e['department'], e['age_seconds']) for e in b['escalations']],
            [('E-2026-00001', 6, '環境課', 3 * 3600)])
    t.equal('board: no crisis', b['crisis'], None)


def check_warnings(env, sink):
    got = mdg.wait_for(lambda: env.sql("SELECT ticket_id, detail FROM ticket_event WHERE kind = 'sla_warning'"
                                       " ORDER BY ticket_id") if len(env.sql(
                                           "SELECT 1 FROM ticket_event WHERE kind = 'sla_warning'")) >= 2 else None, 20)
    t.equal('warned once each: T1 and T4', got, [['1', 'due 2026-12-26 17:20 (Tokyo)'],
                                                 ['4', 'due 2026-12-21 10:00 (Tokyo)']])
    mdg.wait_for(lambda: len(env.sql("SELECT 1 FROM outbound_mail WHERE kind = 'notice' AND state = 'sent'")) == 2, 30)
    subjects = sorted(str(m['Subject']) for m in mdg_parse(sink.messages()))
    t.equal('the supervisors got two notices with numbers only',
            subjects, ['【SLA警告】受付番号 1 回答期限 2026-12-26 17:20',
                       '【SLA警告】受付番号 4 回答期限 2026-12-21 10:00'])
    t.check('no citizen words in them', all('山田' not in m.get_content() for m in mdg_parse(sink.messages())))
    time.sleep(2.5)
    t.equal('and not again', env.sql("SELECT count(*) FROM ticket_event WHERE kind = 'sla_warning'"), [['2']])


def mdg_parse(raws):
    import email
    import email.policy
    return [email.message_from_bytes(r, policy=email.policy.default) for r in raws]


def check_reply(env, sv):
    env.pg.psql("INSERT INTO message (id, ticket_id, direction, subject, parse_state, created_at)"
                " VALUES (70, 1, 'out', 'Re', 'ok', '2026-12-26 12:00+09');"
                " INSERT INTO outbound_mail (id, message_id, ticket_id, kind, env_from, rcpt, raw, not_before,"
                " created_by, created_at, state) VALUES (70, 70, 1, 'reply', 'a@b.jp', '{c@d.jp}', '',"
                " '2026-12-26 12:00:30+09', 'op1', '2026-12-26 12:00+09', 'queued')", user=OWNER)
    t.equal('a queued reply stops T1\'s clock', env.sql(
        "SELECT to_char(responded_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI') FROM ticket WHERE id = 1"),
        [['2026-12-26 12:00']])
    st = sv.get('/api/sla/stats?from=2026-12-25&to=2026-12-25').json()
    t.equal('stats of 12-25: T1 answered within its 24 h after 18 h 40 min, T2 still open on time',
            (st['received'], st['with_sla'], st['responded'], st['within'], st['rate'], st['avg_response_seconds'],
             st['open_on_time'], st['unanswered_overdue']), (2, 2, 1, 1, 100.0, 67200, 1, 0))
    env.pg.psql("UPDATE outbound_mail SET state = 'cancelled' WHERE id = 70", user=OWNER)
    t.equal('taken back, the clock runs again', env.sql('SELECT responded_at IS NULL FROM ticket WHERE id = 1'),
            [['t']])


def check_waiting(env, op):
    r = op.request('POST', '/api/tickets/2/status', json_body={'status': 'waiting_citizen'})
    t.equal('T2 waits for the citizen', r.status, 200)
    mdg.wait_for(lambda: dues(env).get(2, ('',))[0] == '-', 10)
    t.equal('while it waits its clock is stopped: no due time', dues(env).get(2), ('-', '-'))
    r = op.request('POST', '/api/tickets/2/status', json_body={'status': 'open'})
    mdg.wait_for(lambda: dues(env).get(2, ('',))[0] == '2026-12-26 16:30', 10)
    t.equal('the wait over (no time passed): due again 16:30', dues(env).get(2), ('2026-12-26 16:30', '2026-12-26 14:30'))


def main():
    with mdg.Env('sla') as env:
        env.start_db()
        sink = mdg.SmtpSink(env).start()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'sla.alert_addr': SUPERVISOR_ADDR,
                            'escalation.smtp_host': '127.0.0.1', 'escalation.smtp_port': str(sink.port),
                            'ticketd.send_delay_seconds': '0'})
        env.add_user('op1', 'operator', 'operator-pass-1', 'オペレーター')
        env.add_user('sv1', 'supervisor', 'supervisor-pass-1', '責任者')
        setup(env)
        d = start_ticketd(env, '2026-12-26 12:00')
        env.start('escalationd', extra_env={'MADOGUCHI_PINNED_NOW': str(jst('2026-12-26 12:00'))})
        try:
            t.check('every due time computed', settled(env))
            t.equal('the due and warning times (Tokyo)', dues(env), {
                1: ('2026-12-26 17:20', '2026-12-26 11:20'), 2: ('2026-12-26 16:30', '2026-12-26 14:30'),
                3: ('2027-01-04 17:15', '2027-01-04 17:15'), 4: ('2026-12-21 10:00', '2026-12-21 04:00'),
                5: ('-', '-'), 6: ('2026-12-27 08:00', '2026-12-27 02:00')})
            op, sv = ticketd_http.Client(port), ticketd_http.Client(port)
            op.login('op1', 'operator-pass-1')
            sv.login('sv1', 'supervisor-pass-1')
            check_board(env, sv)
            check_warnings(env, sink)
            check_reply(env, sv)
            check_waiting(env, op)
            r = sv.request('POST', '/api/sla/crisis', json_body={'reason': '大雨特別警報のため受付業務を一時停止'})
            t.equal('crisis switch on: 200, who and why', (r.status, (r.json()['crisis'] or {}).get('reason'),
                                                           (r.json()['crisis'] or {}).get('started_by')),
                    (200, '大雨特別警報のため受付業務を一時停止', 'sv1'))
            t.equal('on twice: 409', sv.request('POST', '/api/sla/crisis', json_body={'reason': 'x'}).status, 409)
            t.equal('operators cannot switch it', op.request('POST', '/api/sla/crisis/end').status, 403)
            mdg.wait_for(lambda: dues(env).get(1, ('',))[0] == '-', 10)
            t.equal('while it is on every clock stops', (dues(env).get(1), dues(env).get(2)), (('-', '-'), ('-', '-')))
            d.stop()
            d = start_ticketd(env, '2026-12-26 13:00')
            sv.login('sv1', 'supervisor-pass-1')
            r = sv.request('POST', '/api/sla/crisis/end')
            t.equal('crisis switch off an hour later: 200', (r.status, r.json()), (200, {'crisis': None}))
            mdg.wait_for(lambda: dues(env).get(1, ('',))[0] == '2026-12-26 18:20', 10)
            t.equal('T1 (wall clock) one hour later: 18:20 (its warning, before the pause, stays 11:20)',
                    dues(env).get(1), ('2026-12-26 18:20', '2026-12-26 11:20'))
            t.equal('T2 (business hours) past Saturday\'s close and the Sunday: Mon 08:45',
                    dues(env).get(2), ('2026-12-28 08:45', '2026-12-26 15:30'))
            st = sv.get('/api/sla/stats?from=2026-12-20&to=2026-12-26').json()
            t.equal('stats as of 13:00', st, {
                'from': '2026-12-20', 'to': '2026-12-26', 'received': 5, 'with_sla': 3, 'responded': 0,
                'within': 0, 'rate': None, 'unanswered_overdue': 1, 'open_on_time': 2, 'escalated': 1,
                'avg_response_seconds': None, 'processed': 0, 'processed_within': 0,
                'avg_processing_seconds': None, 'escalation': {
                    'sent': 1, 'answered': 0, 'within': 0, 'open_overdue': 0, 'avg_answer_seconds': None,
                    'reminders': 0, 'departments': [{'name': '環境課', 'section': '', 'sent': 1, 'answered': 0,
                                                     'within': 0, 'open_overdue': 0,
                                                     'avg_answer_seconds': None, 'reminders': 0}]}})
            t.equal('stats: bad dates 400', sv.get('/api/sla/stats?from=2026-02-30').status, 400)
            t.check('ticketd still running', d.alive())
        except Exception as ex:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(ex).__name__}: {ex}')
            print('# --- ticketd log tail ---\n' + d.log_text()[-2500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
