#!/usr/bin/python3
"""The admin API of business calendars and SLA policies (issue 6;
ticketd/admin_calendar.h, sql/024).

Private PostgreSQL, ticketd with a pinned clock (Sat 2026-12-26 12:00 JST).
One ticket: mail, queue 'biz', received Fri 2026-12-25 17:20 JST.  Each
edit through the API is checked by the rows it leaves and its audit row,
and by the ticket's due time that ticketd recomputes (sql/020's triggers):

  seeded: 24 wall-clock hours                       due Sat 12-26 17:20
  + policy biz/mail: 8 business hours, centre        due Sat 12-26 16:30 (warn 14:30)
  hours: weekdays 08:30-12:00 and 13:00-17:15, Sat 08:30-12:00
                                                     due Mon 12-28 14:00
  + one-off closure Mon 12-28 (whole day)            due Mon 2027-01-04 14:00
  年末年始 changed to 12/30-1/3                        due Tue 12-29 14:00
  + extra opening Sun 12-27 09:00-12:00              due Tue 12-29 10:00
  + local holiday Tue 12-29                          due Mon 2027-01-04 10:00
  - that holiday                                     due Tue 12-29 10:00
  policy target 4 business hours                     due Sun 12-27 09:30
  - the policy                                       due Sat 12-26 17:20 again

Validation refusals (400 with the message naming the field, nothing
written), roles (operator and viewer 403 everywhere, supervisor reads and
previews only), the preview against the same instants, the holiday list
upload (UTF-8 and CP932, a bad list refused whole with its lines), and a
department's calendar added, given hours and a department, renamed and
removed (refused while a policy counts on it).

Run: /usr/bin/python3 tests/integration/test_admin_calendar.py
"""
import calendar
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
sys.path.insert(0, os.path.dirname(__file__))
import mdg  # noqa: E402
import ticketd_http  # noqa: E402
from ticketd_http import USERS, Client  # noqa: E402

t = mdg.Checks('admin_calendar')
OWNER = 'madoguchi_owner'
NOW = '2026-12-26 12:00'
HEADER = '国民の祝日・休日月日,国民の祝日・休日名称'
ROWS_2028 = ['2028/1/1,元日', '2028/1/10,成人の日', '2028/2/11,建国記念の日', '2028/2/23,天皇誕生日',
             '2028/3/21,春分の日', '2028/4/29,昭和の日', '2028/5/3,憲法記念日', '2028/5/4,みどりの日',
             '2028/5/5,こどもの日', '2028/7/17,海の日', '2028/8/11,山の日', '2028/9/18,敬老の日',
             '2028/9/22,秋分の日', '2028/10/9,スポーツの日', '2028/11/3,文化の日',
             '2028/11/23,勤労感謝の日']


def jst(s):
    return calendar.timegm(time.strptime(s, '%Y-%m-%d %H:%M')) - 9 * 3600


def iso(s):
    return time.strftime('%Y-%m-%dT%H:%M:%S.000000Z', time.gmtime(jst(s)))


def sql(env, q):
    return env.pg.psql(q, user=OWNER)


def due(env):
    r = sql(env, "SELECT sla_dirty, to_char(due_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI'),"
                 " to_char(warn_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI') FROM ticket WHERE id = 1")
    return None if r[0][0] == 't' else (r[0][1], r[0][2])


def check_due(env, what, want_due, want_warn):
    got = mdg.wait_for(lambda: due(env) if due(env) == (want_due, want_warn) else None, 20)
    t.equal(f'{what}: the ticket is due {want_due} (warns {want_warn})', got or due(env),
            (want_due, want_warn))


def audit_count(env):
    return int(sql(env, 'SELECT count(*) FROM calendar_audit')[0][0])


def hours_rows(env):
    return sql(env, "SELECT calendar_id, weekday, to_char(opens, 'HH24:MI'), to_char(closes, 'HH24:MI')"
                    " FROM calendar_hours ORDER BY 1, 2, 3")


def setup():
    env = mdg.Env('admcal')
    env.start_db()
    port = mdg.free_port()
    env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
    for login, role, pw, disp in USERS:
        env.add_user(login, role, pw, disp)
    sql(env, "INSERT INTO ticket (id, channel, queue, subject, status, created_at, updated_at, received_at)"
             " VALUES (1, 'mail', 'biz', '山田様の件', 'new', '2026-12-25 17:20+09', '2026-12-25 17:20+09',"
             " '2026-12-25 17:20+09');"
             " INSERT INTO department (name, mail, updated_by, updated_at) VALUES ('環境課', '{k@w.example.lg.jp}', 't', now())")
    d = env.start('ticketd', extra_env={'MADOGUCHI_PINNED_NOW': str(jst(NOW))})
    if not mdg.wait_for(lambda: ticketd_http._listening(port), 10):
        raise RuntimeError('ticketd did not start:\n' + d.log_text()[-2000:])
    users = {}
    for login, role, pw, _ in USERS:
        c = Client(port)
        if c.login(login, pw).status != 200:
            raise RuntimeError(f'log-in {login}')
        users[role] = c
    return env, d, users


SEEDED_HOURS = [{'weekday': w, 'opens': '08:30', 'closes': '17:15'} for w in range(1, 7)]
NEW_HOURS = ([{'weekday': w, 'opens': o, 'closes': c} for w in range(1, 6)
              for o, c in (('08:30', '12:00'), ('13:00', '17:15'))]
             + [{'weekday': 6, 'opens': '08:30', 'closes': '12:00'}])


def check_list(env, users):
    ad = users['admin']
    r = ad.get('/api/admin/calendars')
    t.equal('GET calendars: 200', r.status, 200)
    t.equal('GET calendars: the seeds exactly', r.json(), {
        'calendars': [
            {'id': 1, 'name': 'センター', 'kind': 'centre', 'hours': SEEDED_HOURS, 'openings': [], 'departments': []},
            {'id': 2, 'name': '区役所 開庁日', 'kind': 'ward', 'hours': SEEDED_HOURS[:5], 'openings': [],
             'departments': []}],
        'annual_closures': [{'id': 1, 'calendar_id': None, 'from': '12-29', 'to': '01-03', 'reason': '年末年始'}],
        'closures': []})
    t.equal('GET sla-policies: the seeds', ad.get('/api/admin/sla-policies').json(), {'policies': [
        {'id': i, 'queue': None, 'channel': ch, 'clock': 'response', 'mode': 'wall_clock_hours',
         'target_seconds': 86400, 'warning_seconds': 21600, 'pause_when_waiting_citizen': True,
         'calendar_id': 1} for i, ch in ((1, 'mail'), (2, 'fax'))] + [
        {'id': i, 'queue': None, 'channel': ch, 'clock': 'processing', 'mode': 'wall_clock_hours',
         'target_seconds': 21600, 'warning_seconds': 0, 'pause_when_waiting_citizen': True,
         'calendar_id': 1} for i, ch in ((3, 'mail'), (4, 'fax'))] + [
        {'id': 5, 'queue': None, 'channel': None, 'clock': 'department', 'mode': 'business_hours',
         'target_seconds': 63000, 'warning_seconds': 31500, 'pause_when_waiting_citizen': False,
         'calendar_id': 2}]})
    r = ad.get('/api/admin/holidays?year=2027').json()
    t.equal('GET holidays 2027: 17 rows, the first and last',
            (len(r['holidays']), r['holidays'][0], r['holidays'][-1]),
            (17, {'day': '2027-01-01', 'name': '元日', 'source': 'cabinet-office'},
             {'day': '2027-11-23', 'name': '勤労感謝の日', 'source': 'cabinet-office'}))
    t.equal('GET holidays without a year: the pinned clock\'s (2026)',
            ad.get('/api/admin/holidays').json()['holidays'][0]['day'], '2026-01-01')
    t.equal('GET holidays?year=1900: 400', ad.get('/api/admin/holidays?year=1900').status, 400)


def check_roles(users):
    reads = ['/api/admin/calendars', '/api/admin/sla-policies', '/api/admin/holidays?year=2027',
             '/api/admin/calendar-audit']
    writes = [('PUT', '/api/admin/calendars/1/hours', {'hours': SEEDED_HOURS}),
              ('PUT', '/api/admin/calendars/1/openings', {'openings': []}),
              ('POST', '/api/admin/annual-closures', {'from': '05-01', 'to': '05-01', 'reason': 'x'}),
              ('PUT', '/api/admin/annual-closures/1', {'from': '12-29', 'to': '01-03', 'reason': '年末年始'}),
              ('DELETE', '/api/admin/annual-closures/1', None),
              ('POST', '/api/admin/closures', {'from': '2027-02-01', 'to': '2027-02-01', 'reason': 'x'}),
              ('POST', '/api/admin/holidays', {'day': '2027-06-23', 'name': 'x'}),
              ('DELETE', '/api/admin/holidays/2027-01-01', None),
              ('POST', '/api/admin/sla-policies', {'mode': 'wall_clock_hours', 'target_seconds': 60}),
              ('PUT', '/api/admin/sla-policies/1', {'mode': 'wall_clock_hours', 'target_seconds': 60}),
              ('DELETE', '/api/admin/sla-policies/1', None)]
    preview = {'id': 1, 'received': '2026-12-25 17:20'}
    for role in ('operator', 'viewer'):
        c = users[role]
        t.equal(f'{role}: every read 403', [c.get(p).status for p in reads], [403] * len(reads))
        t.equal(f'{role}: every change 403', [c.request(m, p, json_body=b).status for m, p, b in writes],
                [403] * len(writes))
        t.equal(f'{role}: preview 403', c.request('POST', '/api/admin/sla-policies/preview',
                                                   json_body=preview).status, 403)
    sv = users['supervisor']
    t.equal('supervisor: every read 200', [sv.get(p).status for p in reads], [200] * len(reads))
    t.equal('supervisor: every change 403', [sv.request(m, p, json_body=b).status for m, p, b in writes],
            [403] * len(writes))
    t.equal('supervisor: the preview 200', sv.request('POST', '/api/admin/sla-policies/preview',
                                                       json_body=preview).status, 200)
    t.equal('admin without the CSRF token: 403', users['admin'].request(
        'PUT', '/api/admin/calendars/1/hours', json_body={'hours': SEEDED_HOURS}, csrf=False).status, 403)


REFUSED = [  # method, path, body, the message
    ('PUT', '/api/admin/calendars/1/hours', {'hours': [{'weekday': 1, 'opens': '8:30', 'closes': '17:15'}]},
     'hours[0].opens: not a time HH:MM (00:00-23:59)'),
    ('PUT', '/api/admin/calendars/1/hours', {'hours': [{'weekday': 1, 'opens': '08:30', 'closes': '24:30'}]},
     'hours[0].closes: not a time HH:MM (00:00-24:00)'),
    ('PUT', '/api/admin/calendars/1/hours', {'hours': [{'weekday': 1, 'opens': '12:00', 'closes': '08:30'}]},
     'hours[0].closes: must be later than opens'),
    ('PUT', '/api/admin/calendars/1/hours', {'hours': [{'weekday': 7, 'opens': '08:30', 'closes': '12:00'}]},
     'hours[0].weekday: 0 (Sunday) to 6 (Saturday)'),
    ('PUT', '/api/admin/calendars/1/hours', {'hours': [
        {'weekday': 2, 'opens': '13:00', 'closes': '17:00'}, {'weekday': 1, 'opens': '08:30', 'closes': '12:00'},
        {'weekday': 1, 'opens': '11:00', 'closes': '13:00'}]},
     'hours[2]: overlaps hours[1] on the same day'),
    ('PUT', '/api/admin/calendars/1/hours', {'hours': [], 'x': 1},
     'hours: the list is required, and nothing else'),
    ('PUT', '/api/admin/calendars/1/openings', {'openings': [{'day': '2026-02-30', 'opens': '09:00',
                                                              'closes': '12:00'}]},
     'openings[0].day: not a real date YYYY-MM-DD'),
    ('POST', '/api/admin/annual-closures', {'from': '04-31', 'to': '05-01', 'reason': 'x'},
     'from: not a real month and day MM-DD'),
    ('POST', '/api/admin/annual-closures', {'from': '05-01', 'to': '05-01', 'reason': ''},
     'reason: must not be empty'),
    ('POST', '/api/admin/annual-closures', {'calendar_id': 9, 'from': '05-01', 'to': '05-01', 'reason': 'x'},
     'calendar_id: no such calendar'),
    ('POST', '/api/admin/closures', {'from': '2027-02-02', 'to': '2027-02-01', 'reason': 'x'},
     'to: must be later than from'),
    ('POST', '/api/admin/closures', {'from': '2027-02-01 13:00', 'to': '2027-02-01 13:00', 'reason': 'x'},
     'to: must be later than from'),
    ('POST', '/api/admin/closures', {'from': '2027-13-01', 'to': '2027-02-01', 'reason': 'x'},
     'from: not a real date YYYY-MM-DD (or YYYY-MM-DD HH:MM)'),
    ('POST', '/api/admin/holidays', {'day': '2027-02-29', 'name': 'x'}, 'day: not a real date YYYY-MM-DD'),
    ('DELETE', '/api/admin/holidays/2027-1-1', None, 'day: not a real date YYYY-MM-DD'),
    ('POST', '/api/admin/sla-policies', {'queue': 'q', 'mode': 'business_hours', 'target_seconds': 3600},
     'calendar_id: this mode counts on a calendar; choose one'),
    ('POST', '/api/admin/sla-policies', {'queue': 'q', 'mode': 'wall_clock_hours', 'target_seconds': 3600,
                                         'warning_seconds': 3600}, 'warning_seconds: must be less than the target'),
    ('POST', '/api/admin/sla-policies', {'queue': 'q', 'mode': 'wall_clock_hours', 'target_seconds': 0},
     'target_seconds: must be more than 0 for this mode'),
    ('POST', '/api/admin/sla-policies', {'queue': 'q', 'mode': 'hours', 'target_seconds': 60},
     'mode: wall_clock_hours, business_hours or next_business_day_end'),
    ('POST', '/api/admin/sla-policies', {'queue': 'q', 'channel': 'sms', 'mode': 'wall_clock_hours',
                                         'target_seconds': 60}, 'channel: null (any) or one of mail, fax, call, form'),
    ('POST', '/api/admin/sla-policies/preview', {'id': 1, 'received': '2026-12-25'},
     'received: not a real date and time YYYY-MM-DD HH:MM'),
]


def check_refusals(env, ad):
    before = (hours_rows(env), audit_count(env), sql(env, 'SELECT count(*) FROM sla_policy'))
    for method, path, body, msg in REFUSED:
        r = ad.request(method, path, json_body=body)
        t.equal(f'{method} {path} {body}: 400 "{msg}"', (r.status, r.json()), (400, {'error': msg}))
    t.equal('refusals: nothing written, no audit row',
            (hours_rows(env), audit_count(env), sql(env, 'SELECT count(*) FROM sla_policy')), before)
    r = ad.request('POST', '/api/admin/sla-policies', json_body={
        'channel': 'mail', 'mode': 'wall_clock_hours', 'target_seconds': 60})
    t.equal('a second policy for any queue, mail, response: 409', r.status, 409)
    t.equal('PUT hours of calendar 9: 404', ad.request('PUT', '/api/admin/calendars/9/hours',
                                                       json_body={'hours': []}).status, 404)
    t.equal('DELETE closure 99: 404', ad.request('DELETE', '/api/admin/closures/99').status, 404)
    nine = [{'weekday': 3, 'opens': f'{h:02d}:00', 'closes': f'{h:02d}:30'} for h in range(8, 17)]
    r = ad.request('PUT', '/api/admin/calendars/1/hours', json_body={'hours': nine})
    t.equal('nine intervals on a Wednesday: 400', (r.status, r.json()),
            (400, {'error': 'hours[8]: more than 8 intervals on one day'}))


def check_policy(env, ad):
    r = ad.request('POST', '/api/admin/sla-policies', json_body={
        'queue': 'biz', 'channel': 'mail', 'mode': 'business_hours', 'target_seconds': 28800,
        'warning_seconds': 7200, 'calendar_id': 1})
    want = {'id': 6, 'queue': 'biz', 'channel': 'mail', 'clock': 'response', 'mode': 'business_hours',
            'target_seconds': 28800, 'warning_seconds': 7200, 'pause_when_waiting_citizen': True,
            'calendar_id': 1}
    t.equal('POST policy biz/mail: 201 with the row', (r.status, r.json()), (201, want))
    t.equal('policy row in the table', sql(env, "SELECT queue, channel, clock, mode, target_seconds,"
                                                " warning_seconds, pause_when_waiting_citizen, calendar_id"
                                                " FROM sla_policy WHERE id = 6"),
            [['biz', 'mail', 'response', 'business_hours', '28800', '7200', 't', '1']])
    check_due(env, 'policy biz/mail 8 business hours', '2026-12-26 16:30', '2026-12-26 14:30')


def preview(ad, body):
    r = ad.request('POST', '/api/admin/sla-policies/preview', json_body=body)
    j = r.json() or {}
    return r.status, j.get('received'), j.get('due'), j.get('warning'), j.get('due_at')


def check_hours(env, ad):
    r = ad.request('PUT', '/api/admin/calendars/1/hours', json_body={'hours': NEW_HOURS})
    t.equal('PUT hours: 200 with the calendar', (r.status, r.json()),
            (200, {'id': 1, 'name': 'センター', 'kind': 'centre', 'hours': NEW_HOURS, 'openings': [],
                   'departments': []}))
    t.equal('PUT hours: the rows', hours_rows(env),
            [['1', str(h['weekday']), h['opens'], h['closes']] for h in NEW_HOURS]
            + [['2', str(w), '08:30', '17:15'] for w in range(1, 6)])
    a = sql(env, "SELECT actor, entity, entity_id, action, jsonb_array_length(before),"
                 " jsonb_array_length(after), after->0 = '{\"weekday\": 1, \"opens\": \"08:30\","
                 " \"closes\": \"12:00\"}'::jsonb, at = '2026-12-26 12:00+09'"
                 " FROM calendar_audit ORDER BY id DESC LIMIT 1")
    t.equal('PUT hours: the audit row (who, when, before 6, after 11)', a,
            [['ad1', 'hours', '1', 'replace', '6', '11', 't', 't']])
    check_due(env, 'lunch breaks, Saturday mornings', '2026-12-28 14:00', '2026-12-28 11:00')
    t.equal('preview of policy 6 agrees', preview(ad, {'id': 6, 'received': '2026-12-25 17:20'}),
            (200, '2026-12-25 17:20:00', '2026-12-28 14:00:00', '2026-12-28 11:00:00', iso('2026-12-28 14:00')))


def check_closures(env, ad):
    r = ad.request('POST', '/api/admin/closures', json_body={
        'calendar_id': 1, 'from': '2026-12-28', 'to': '2026-12-28', 'reason': 'システム更新'})
    t.equal('POST closure: 201 with the row', (r.status, r.json()), (201, {
        'id': 1, 'calendar_id': 1, 'starts_at': '2026-12-28 00:00', 'ends_at': '2026-12-29 00:00',
        'from_day': '2026-12-28', 'to_day': '2026-12-28', 'whole_days': True, 'reason': 'システム更新'}))
    t.equal('POST closure: the row', sql(env, "SELECT calendar_id, starts_at = '2026-12-28 00:00+09',"
                                              " ends_at = '2026-12-29 00:00+09', reason FROM calendar_closure"),
            [['1', 't', 't', 'システム更新']])
    check_due(env, 'closed Mon 12-28 (and 年末年始)', '2027-01-04 14:00', '2027-01-04 11:00')
    r = ad.request('PUT', '/api/admin/annual-closures/1', json_body={
        'calendar_id': None, 'from': '12-30', 'to': '01-03', 'reason': '年末年始'})
    t.equal('PUT annual closure: 200 with the row', (r.status, r.json()), (200, {
        'id': 1, 'calendar_id': None, 'from': '12-30', 'to': '01-03', 'reason': '年末年始'}))
    t.equal('PUT annual closure: audit before and after', sql(
        env, "SELECT action, before->>'from_day', after->>'from_day', after->>'to_month' FROM calendar_audit"
             " WHERE entity = 'annual_closure'"), [['update', '29', '30', '1']])
    check_due(env, '年末年始 from 12/30', '2026-12-29 14:00', '2026-12-29 11:00')
    r = ad.request('PUT', '/api/admin/calendars/1/openings', json_body={'openings': [
        {'day': '2026-12-27', 'opens': '09:00', 'closes': '12:00', 'reason': '臨時開庁'}]})
    t.equal('PUT openings: 200 with them', (r.status, r.json()['openings']), (200, [
        {'day': '2026-12-27', 'opens': '09:00', 'closes': '12:00', 'reason': '臨時開庁'}]))
    check_due(env, 'open Sun 12-27 09:00-12:00', '2026-12-29 10:00', '2026-12-27 11:30')
    r = ad.request('POST', '/api/admin/closures', json_body={
        'from': '2027-02-01 13:00', 'to': '2027-02-01 17:15', 'reason': '停電'})
    t.equal('POST an afternoon closure for every calendar', (r.status, r.json()), (201, {
        'id': 2, 'calendar_id': None, 'starts_at': '2027-02-01 13:00', 'ends_at': '2027-02-01 17:15',
        'from_day': '2027-02-01', 'to_day': '2027-02-01', 'whole_days': False, 'reason': '停電'}))
    t.equal('DELETE it: 204, gone', (ad.request('DELETE', '/api/admin/closures/2').status,
                                      sql(env, 'SELECT count(*) FROM calendar_closure')), (204, [['1']]))


def check_holidays(env, ad):
    r = ad.request('POST', '/api/admin/holidays', json_body={'day': '2026-12-29', 'name': '区制記念日'})
    t.equal('POST local holiday: 201', (r.status, r.json()),
            (201, {'day': '2026-12-29', 'name': '区制記念日', 'source': 'local'}))
    check_due(env, 'local holiday Tue 12-29', '2027-01-04 10:00', '2026-12-27 11:30')
    t.equal('POST it again: 409', ad.request('POST', '/api/admin/holidays', json_body={
        'day': '2026-12-29', 'name': 'x'}).status, 409)
    t.equal('DELETE a national holiday: 409, kept', (ad.request('DELETE', '/api/admin/holidays/2027-01-01').status,
                                                      sql(env, "SELECT source FROM holiday WHERE day = '2027-01-01'")),
            (409, [['cabinet-office']]))
    t.equal('DELETE a day without holiday: 404', ad.request('DELETE', '/api/admin/holidays/2027-06-01').status, 404)
    t.equal('DELETE the local holiday: 204', ad.request('DELETE', '/api/admin/holidays/2026-12-29').status, 204)
    check_due(env, 'the local holiday removed', '2026-12-29 10:00', '2026-12-27 11:30')


def upload(ad, data):
    r = ad.request('POST', '/api/admin/holidays/import', body=data, headers={'Content-Type': 'text/csv'})
    return r.status, r.json()


def check_import(env, ad):
    utf8 = ('\r\n'.join([HEADER] + ROWS_2028) + '\r\n').encode('utf-8')
    t.equal('upload 2028 (UTF-8): 春分の日 moved a day', upload(ad, utf8), (200, {
        'rows': 16, 'first': '2028-01-01', 'last': '2028-11-23', 'added': 1, 'changed': 15, 'unchanged': 0,
        'removed': 1}))
    t.equal('2028 in the table', sql(env, "SELECT count(*), min(source), bool_or(day = '2028-03-21'),"
                                          " bool_or(day = '2028-03-20') FROM holiday WHERE day >= '2028-01-01'"
                                          " AND day < '2029-01-01'"), [['16', 'cabinet-office', 't', 'f']])
    cp932 = ('\r\n'.join([HEADER] + ROWS_2028) + '\r\n').encode('cp932')
    t.equal('the same list in CP932: nothing to change', upload(ad, cp932), (200, {
        'rows': 16, 'first': '2028-01-01', 'last': '2028-11-23', 'added': 0, 'changed': 0, 'unchanged': 16,
        'removed': 0}))
    t.equal('import audit rows', sql(env, "SELECT actor, entity_id, action, after->>'added', after->>'unchanged'"
                                          " FROM calendar_audit WHERE entity = 'holiday_import' ORDER BY id"),
            [['ad1', '2028-01-01..2028-11-23', 'import', '1', '0'],
             ['ad1', '2028-01-01..2028-11-23', 'import', '0', '16']])
    bad = '\r\n'.join([HEADER, '2040/2/30,架空の日', '2040/1/1,元日', 'abc,名前']).encode('cp932')
    before = sql(env, 'SELECT count(*) FROM holiday')
    t.equal('a bad list: 400 with its lines, nothing loaded', (upload(ad, bad), sql(env, 'SELECT count(*) FROM holiday')),
            ((400, {'error': '2 errors in the list; nothing was loaded', 'bad': [
                {'line': 2, 'why': 'no such date (or before 1948, when the Holidays Act began)'},
                {'line': 4, 'why': 'the date is not YYYY/M/D'}]}), before))
    part = '\r\n'.join([HEADER] + ROWS_2028[:3]).encode('utf-8')
    t.equal('a part of a year: 400', upload(ad, part), (400, {
        'error': '1 error in the list; nothing was loaded', 'bad': [
            {'line': 0, 'why': 'year 2028: 3 rows; a whole year has at least 9 (a part of a year would'
                               ' remove its other holidays)'}]}))
    r = ad.request('POST', '/api/admin/holidays/import', body=utf8, headers={'Content-Type': 'text/plain'})
    t.equal('not text/csv: 415', r.status, 415)


def check_preview_fields(ad):
    body = {'received': '2026-12-28 16:00', 'policy': {
        'mode': 'next_business_day_end', 'calendar_id': 2, 'target_seconds': 0, 'warning_seconds': 3600}}
    t.equal('preview of unsaved fields: next business day end on the ward calendar',
            preview(ad, body), (200, '2026-12-28 16:00:00', '2026-12-29 17:15:00', '2026-12-29 16:15:00',
                                iso('2026-12-29 17:15')))
    body['policy']['calendar_id'] = None
    r = ad.request('POST', '/api/admin/sla-policies/preview', json_body=body)
    t.equal('preview: a business mode without a calendar: 400', (r.status, r.json()),
            (400, {'error': 'policy.calendar_id: this mode counts on a calendar; choose one'}))


def check_policy_edits(env, ad):
    r = ad.request('PUT', '/api/admin/sla-policies/6', json_body={
        'id': 6, 'queue': 'biz', 'channel': 'mail', 'mode': 'business_hours', 'target_seconds': 14400,
        'warning_seconds': 3600, 'calendar_id': 1, 'pause_when_waiting_citizen': False})
    t.equal('PUT policy: 4 business hours', (r.status, r.json()['target_seconds'],
                                             r.json()['pause_when_waiting_citizen']), (200, 14400, False))
    check_due(env, 'policy 4 business hours', '2026-12-27 09:30', '2026-12-26 11:30')
    t.equal('DELETE policy: 204', ad.request('DELETE', '/api/admin/sla-policies/6').status, 204)
    check_due(env, 'policy removed: the seeded 24 hours', '2026-12-26 17:20', '2026-12-26 11:20')
    t.equal('the audit trail, in order', sql(env, "SELECT entity, entity_id, action, actor FROM calendar_audit"
                                                  " ORDER BY id"),
            [['sla_policy', '6', 'create', 'ad1'], ['hours', '1', 'replace', 'ad1'],
             ['closure', '1', 'create', 'ad1'], ['annual_closure', '1', 'update', 'ad1'],
             ['opening', '1', 'replace', 'ad1'], ['closure', '2', 'create', 'ad1'],
             ['closure', '2', 'delete', 'ad1'], ['holiday', '2026-12-29', 'create', 'ad1'],
             ['holiday', '2026-12-29', 'delete', 'ad1'],
             ['holiday_import', '2028-01-01..2028-11-23', 'import', 'ad1'],
             ['holiday_import', '2028-01-01..2028-11-23', 'import', 'ad1'],
             ['sla_policy', '6', 'update', 'ad1'], ['sla_policy', '6', 'delete', 'ad1']])
    a = ad.get('/api/admin/calendar-audit').json()['audit']
    t.equal('GET calendar-audit: newest first', (len(a), a[0]['entity'], a[0]['action'], a[0]['before']['mode'],
                                                 a[0]['after']), (13, 'sla_policy', 'delete', 'business_hours', None))


def check_department_calendar(env, ad):
    n0 = audit_count(env)
    r = ad.request('POST', '/api/admin/calendars', json_body={'name': '環境課'})
    t.equal('POST a department\'s calendar: 201, empty', (r.status, r.json()), (201, {
        'id': 3, 'name': '環境課', 'kind': 'department', 'hours': [], 'openings': [], 'departments': []}))
    r = ad.request('POST', '/api/admin/calendars', json_body={'name': '環境課'})
    t.equal('the same name again: 409', (r.status, r.json()), (409, {'error': 'name: a calendar of that name exists'}))
    r = ad.request('POST', '/api/admin/calendars', json_body={'name': ''})
    t.equal('an empty name: 400', (r.status, r.json()), (400, {'error': 'name: must not be empty'}))
    sat = [{'weekday': w, 'opens': '08:30', 'closes': '17:15'} for w in range(1, 6)] + [
        {'weekday': 6, 'opens': '09:00', 'closes': '12:00'}, {'weekday': 6, 'opens': '20:00', 'closes': '24:00'}]
    t.equal('its hours with a Saturday morning and evening to midnight (24:00)', ad.request('PUT', '/api/admin/calendars/3/hours',
                                                            json_body={'hours': sat}).json()['hours'], sat)
    r = ad.request('PUT', '/api/admin/calendars/3/departments', json_body={'department_ids': [1]})
    t.equal('the department on it: 200', (r.status, r.json()['departments']),
            (200, [{'id': 1, 'name': '環境課', 'section': ''}]))
    t.equal('department.calendar_id', sql(env, 'SELECT calendar_id FROM department'), [['3']])
    t.equal('an unknown department: 404', ad.request('PUT', '/api/admin/calendars/3/departments',
                                                     json_body={'department_ids': [1, 99]}).status, 404)
    t.equal('department_ids not a list: 400', ad.request('PUT', '/api/admin/calendars/3/departments',
                                                         json_body={'department_ids': 1}).status, 400)
    r = ad.request('PUT', '/api/admin/calendars/3', json_body={'name': '環境課 窓口'})
    t.equal('renamed: 200', (r.status, r.json()['name']), (200, '環境課 窓口'))
    r = ad.request('DELETE', '/api/admin/calendars/1')
    t.equal('the centre\'s calendar cannot go: 409', (r.status, r.json()),
            (409, {'error': 'only a department\'s calendar can be removed'}))
    r = ad.request('POST', '/api/admin/sla-policies', json_body={
        'queue': 'kankyo', 'mode': 'business_hours', 'target_seconds': 3600, 'calendar_id': 3})
    t.equal('a policy on it', r.status, 201)
    r = ad.request('DELETE', '/api/admin/calendars/3')
    t.equal('a calendar a policy counts on: 409', (r.status, r.json()),
            (409, {'error': 'an SLA policy counts on this calendar'}))
    ad.request('DELETE', '/api/admin/sla-policies/7')
    t.equal('removed: 204; its hours gone, the department back on the ward\'s',
            (ad.request('DELETE', '/api/admin/calendars/3').status,
             sql(env, 'SELECT count(*) FROM calendar_hours WHERE calendar_id = 3'),
             sql(env, 'SELECT coalesce(calendar_id, 0) FROM department')), (204, [['0']], [['0']]))
    t.equal('its audit rows', sql(env, f"SELECT entity, entity_id, action FROM calendar_audit WHERE id > {n0}"
                                       " ORDER BY id"),
            [['calendar', '3', 'create'], ['hours', '3', 'replace'], ['calendar_departments', '3', 'replace'],
             ['calendar', '3', 'update'], ['sla_policy', '7', 'create'], ['sla_policy', '7', 'delete'],
             ['calendar', '3', 'delete']])
    t.equal('the removal\'s audit row keeps the name', sql(
        env, "SELECT before->>'name', after FROM calendar_audit WHERE entity = 'calendar' AND action = 'delete'"),
        [['環境課 窓口', '']])


def main():
    env, d, users = setup()
    with env:
        ad = users['admin']
        check_due(env, 'seeded', '2026-12-26 17:20', '2026-12-26 11:20')
        check_list(env, users)
        check_roles(users)
        check_refusals(env, ad)
        check_policy(env, ad)
        check_hours(env, ad)
        check_closures(env, ad)
        check_holidays(env, ad)
        check_import(env, ad)
        check_preview_fields(ad)
        check_policy_edits(env, ad)
        check_department_calendar(env, ad)
        t.check('ticketd still running', d.alive())
        t.equal('SIGTERM: clean exit', d.stop(), 0)
    t.done()


if __name__ == '__main__':
    main()
