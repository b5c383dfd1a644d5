#!/usr/bin/python3
"""Routing rules, end to end: an admin writes rules through the API, mails
dropped into the Maildir (ingest-mail + ticketd, real PostgreSQL) become
tickets with exactly the queue, category, priority, tags and rule the rules
say.  By To, Cc, Delivered-To, sender, subject substring (full-width rule,
half-width mail), regular expression, forwarded origin; first match wins,
continue_matching adds; a reorder, an edit and a disable apply to the next
mail without a restart; bad input is a 400 naming the field; only admins
get in.

The forwarded-origin case needs intake to hand mime's forward parsing to
route_match (route_input.origin); until then it fails.
"""
import os
import sys
import time
from email.message import EmailMessage
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client, _listening  # noqa: E402

t = mdg.Checks('routing')
CITY = 'city.example.lg.jp'
ADMIN = ('rt-admin', 'admin-pass-routing', '管理者 一郎')
OPERATOR = ('rt-op', 'operator-pass-routing', '受付 花子')

# name, fields; created in this order (positions 1..)
RULES = [
    ('区長宛て', {'match_recipient': f'kucho@{CITY}', 'set_queue': 'kucho',
                 'set_category': '区長への手紙', 'set_priority': 3, 'set_tags': ['区長']}),
    ('ごみ係CC', {'match_recipient': f'gomi-kakari@{CITY}', 'set_queue': 'gomi',
                'set_tags': ['ごみ']}),
    ('福祉窓口', {'match_recipient': f'fukushi-desk@{CITY}', 'set_queue': 'fukushi',
              'set_category': '福祉'}),
    ('委託業者', {'match_sender': '@partner.example.org', 'set_queue': 'partner',
              'set_category': '業者'}),
    ('相談窓口', {'match_recipient': f'soudan@{CITY}', 'set_category': '相談',
              'set_tags': ['相談', '要確認'], 'continue_matching': True}),
    ('緊急', {'match_subject': '緊急', 'set_queue': 'soudan-kinkyu', 'set_category': '上書きされない',
            'set_priority': 4, 'set_tags': ['緊急', '相談']}),
    ('届かない', {'match_subject': '緊急', 'set_queue': 'never', 'set_tags': ['never']}),
    ('ABC申請', {'match_subject': 'ＡＢＣ申請', 'set_queue': 'abc', 'set_tags': ['abc']}),
    ('至急', {'match_subject': r'^\[至急\]', 'subject_regex': True, 'set_queue': 'urgent',
            'set_priority': 5}),
    ('町会からの転送', {'match_origin': '@kumiai.example.or.jp', 'set_queue': 'chonaikai',
                  'set_category': '転送'}),
]

_seq = [0]


def mail(subject, to=f'madoguchi@{CITY}', sender=None, cc=None, headers=None):
    _seq[0] += 1
    m = EmailMessage()
    m['From'] = f'区民 {_seq[0]} <{sender or f"citizen{_seq[0]}@example.jp"}>'
    m['To'] = to
    if cc:
        m['Cc'] = cc
    m['Subject'] = subject
    m['Date'] = formatdate(1795000000 + _seq[0])
    m['Message-ID'] = f'<routing-{_seq[0]}-{time.time_ns()}@example.jp>'
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(f'本文 {_seq[0]}\n')
    return bytes(m)


def forwarded(subject, inner_from, inner_subject):
    """A staff member forwards a citizen's mail as an attachment (message/rfc822)."""
    inner = MIMEText('町会の掲示板が壊れています。\n', 'plain', 'utf-8')
    inner['From'] = formataddr(parseaddr(inner_from), 'utf-8')
    inner['To'] = 'kaicho@kumiai.example.or.jp'
    inner['Subject'] = Header(inner_subject, 'utf-8')
    inner['Date'] = formatdate(1794990000)
    inner['Message-ID'] = f'<inner-{time.time_ns()}@kumiai.example.or.jp>'
    m = MIMEMultipart('mixed')
    m.attach(MIMEText('転送します。\n', 'plain', 'utf-8'))
    m.attach(MIMEMessage(inner))
    m['From'] = formataddr(('区職員', f'staff@{CITY}'), 'utf-8')
    m['To'] = f'madoguchi@{CITY}'
    m['Subject'] = Header(subject, 'utf-8')
    m['Date'] = formatdate(1795000500)
    m['Message-ID'] = f'<fwd-{time.time_ns()}@{CITY}>'
    return m.as_bytes()


def ticket_id(env, subject, timeout=15):
    sql = "SELECT id FROM ticket WHERE subject = convert_from(decode('%s', 'hex'), 'UTF8')" \
        % subject.encode().hex()
    r = mdg.wait_for(lambda: env.sql(sql), timeout)
    return int(r[0][0]) if r else None


def routed(env, c, raw, subject):
    """Drop raw, wait for its ticket: (queue, category, priority, tags, routed_rule)."""
    env.maildir_drop(raw)
    tid = ticket_id(env, subject)
    if tid is None:
        return ('no ticket',)
    d = c.get(f'/api/tickets/{tid}').json() or {}
    return (d.get('queue'), d.get('category'), d.get('priority'), d.get('tags'),
            d.get('routed_rule'))


def create_rules(t, c, ids):
    for name, fields in RULES:
        r = c.request('POST', '/api/admin/rules', json_body=dict(fields, name=name))
        doc = r.json() or {}
        ids[name] = doc.get('id')
        t.check(f'create rule {name}: 201', r.status == 201, f'{r.status} {r.body[:200]!r}')
    r = c.get('/api/admin/rules')
    rules = (r.json() or {}).get('rules', [])
    t.equal('list: names in order, positions 1..10',
            [(x['name'], x['position']) for x in rules],
            [(n, i + 1) for i, (n, _) in enumerate(RULES)])
    first = rules[0] if rules else {}
    t.equal('list: a rule as stored', {k: v for k, v in first.items() if k != 'updated_at'}, {
        'id': ids['区長宛て'], 'position': 1, 'name': '区長宛て', 'enabled': True,
        'match_recipient': f'kucho@{CITY}', 'match_sender': None, 'match_subject': None,
        'subject_regex': False, 'match_did': None, 'match_origin': None, 'set_queue': 'kucho',
        'set_category': '区長への手紙', 'set_priority': 3, 'set_tags': ['区長'],
        'continue_matching': False, 'updated_by': ADMIN[0]})
    t.check('list: updated_at is an ISO time', str(first.get('updated_at', '')).endswith('Z'))


def check_bad_input(t, c, ids):
    cases = [
        ('bad regex', {'name': 'x', 'match_subject': '(至急', 'subject_regex': True},
         'match_subject: not a valid regular expression (U_REGEX_MISMATCHED_PAREN at offset 3)'),
        ('empty queue', {'name': 'x', 'set_queue': ''}, 'set_queue: must not be empty'),
        ('priority out of range', {'name': 'x', 'set_priority': 10},
         'set_priority: must be an integer from -9 to 9, or null'),
        ('no name', {'match_subject': 'x'}, 'name: must not be empty'),
        ('unknown field', {'name': 'x', 'colour': 'red'}, 'colour: unknown field'),
        ('DID with letters', {'name': 'x', 'match_did': '03-ABCD'},
         'match_did: must be a telephone number (digits, + - ( ) and spaces)'),
        ('tags not a list', {'name': 'x', 'set_tags': 'a,b'},
         'set_tags: must be a list of at most 20 tags'),
    ]
    for what, body, error in cases:
        r = c.request('POST', '/api/admin/rules', json_body=body)
        t.equal(f'400 for {what}', (r.status, r.json()), (400, {'error': error}))
    r = c.request('PUT', f'/api/admin/rules/{ids["至急"]}', json_body={'match_subject': '[至急'})
    t.equal('400 for a bad regex on update',
            (r.status, r.json()),
            (400, {'error': 'match_subject: not a valid regular expression'
                   ' (U_REGEX_MISSING_CLOSE_BRACKET at offset 3)'}))
    r = c.request('POST', '/api/admin/rules/order', json_body={'ids': [ids['至急']]})
    t.equal('409 for a reorder that leaves rules out', r.status, 409)
    n = len(c.get('/api/admin/rules').json()['rules'])
    t.equal('refused requests stored nothing', n, len(RULES))


def check_roles(t, port, ids):
    op = Client(port)
    op.login(OPERATOR[0], OPERATOR[1])
    t.equal('operator: GET rules 403', op.get('/api/admin/rules').status, 403)
    r = op.request('POST', '/api/admin/rules', json_body={'name': 'op rule'})
    t.equal('operator: POST rule 403', r.status, 403)
    r = op.request('PUT', f'/api/admin/rules/{ids["区長宛て"]}', json_body={'enabled': False})
    t.equal('operator: PUT rule 403', r.status, 403)
    t.equal('operator: DELETE rule 403',
            op.request('DELETE', f'/api/admin/rules/{ids["区長宛て"]}').status, 403)


def rule(ids, name):
    return {'id': ids[name], 'name': name}


def check_mail(t, env, c, ids):
    got = routed(env, c, mail('区長へのお手紙', to=f'区長 <KUCHO@{CITY.upper()}>'), '区長へのお手紙')
    t.equal('by To (any case)', got, ('kucho', '区長への手紙', 3, ['区長'], rule(ids, '区長宛て')))
    got = routed(env, c, mail('粗大ごみの出し方', cc=f'gomi-kakari@{CITY}'), '粗大ごみの出し方')
    t.equal('by Cc', got, ('gomi', None, 0, ['ごみ'], rule(ids, 'ごみ係CC')))
    got = routed(env, c, mail('介護保険の手続き', headers={'Delivered-To': f'fukushi-desk@{CITY}'}),
                 '介護保険の手続き')
    t.equal('by Delivered-To', got, ('fukushi', '福祉', 0, [], rule(ids, '福祉窓口')))
    got = routed(env, c, mail('作業報告 4月', sender='tanaka@partner.example.org'), '作業報告 4月')
    t.equal('by sender', got, ('partner', '業者', 0, [], rule(ids, '委託業者')))
    got = routed(env, c, mail('abc申請について'), 'abc申請について')
    t.equal('by subject: half-width mail, full-width rule', got,
            ('abc', None, 0, ['abc'], rule(ids, 'ABC申請')))
    got = routed(env, c, mail('［至急］道路の陥没'), '［至急］道路の陥没')
    t.equal('by regex (full-width brackets in the mail)', got,
            ('urgent', None, 5, [], rule(ids, '至急')))
    got = routed(env, c, mail('緊急: 水道が止まった', to=f'soudan@{CITY}'), '緊急: 水道が止まった')
    t.equal('continue_matching: first names it, the next fills and adds, the third is not reached',
            got, ('soudan-kinkyu', '相談', 4, ['相談', '要確認', '緊急'], rule(ids, '相談窓口')))
    got = routed(env, c, mail('［至急］abc申請の件'), '［至急］abc申請の件')
    t.equal('first match in position order', got, ('abc', None, 0, ['abc'], rule(ids, 'ABC申請')))
    got = routed(env, c, mail('住民票の写し'), '住民票の写し')
    t.equal('no rule: defaults', got, ('general', None, 0, [], None))


def check_queue_list(t, c):
    rows = (c.get('/api/tickets?status=all').json() or {}).get('tickets', [])
    row = next((x for x in rows if x['subject'] == '区長へのお手紙'), {})
    t.equal('queue list row: queue, category, tags',
            (row.get('queue'), row.get('category'), row.get('tags')),
            ('kucho', '区長への手紙', ['区長']))


def check_changes(t, env, c, ids, tick):
    order = [ids[n] for n, _ in RULES]
    i, j = order.index(ids['ABC申請']), order.index(ids['至急'])
    order[i], order[j] = order[j], order[i]
    r = c.request('POST', '/api/admin/rules/order', json_body={'ids': order})
    t.equal('reorder: 200 and the new order',
            (r.status, [x['id'] for x in (r.json() or {}).get('rules', [])]), (200, order))
    got = routed(env, c, mail('［至急］abc申請の件 その2'), '［至急］abc申請の件 その2')
    t.equal('after reorder the next mail meets the new order (no restart)', got,
            ('urgent', None, 5, [], rule(ids, '至急')))
    r = c.request('PUT', f'/api/admin/rules/{ids["委託業者"]}',
                  json_body={'set_queue': 'partner-2', 'set_tags': ['委託']})
    t.equal('edit: 200, fields changed, others kept',
            (r.status, (r.json() or {}).get('set_queue'), (r.json() or {}).get('set_tags'),
             (r.json() or {}).get('set_category')), (200, 'partner-2', ['委託'], '業者'))
    got = routed(env, c, mail('作業報告 5月', sender='tanaka@partner.example.org'), '作業報告 5月')
    t.equal('edit applies to the next mail', got,
            ('partner-2', '業者', 0, ['委託'], rule(ids, '委託業者')))
    r = c.request('PUT', f'/api/admin/rules/{ids["委託業者"]}', json_body={'enabled': False})
    got = routed(env, c, mail('作業報告 6月', sender='tanaka@partner.example.org'), '作業報告 6月')
    t.equal('disabled rule routes nothing', got, ('general', None, 0, [], None))
    r = c.request('DELETE', f'/api/admin/rules/{ids["区長宛て"]}')
    t.equal('delete: 204', r.status, 204)
    got = routed(env, c, mail('区長へのお手紙 2', to=f'kucho@{CITY}'), '区長へのお手紙 2')
    t.equal('deleted rule routes nothing', got, ('general', None, 0, [], None))
    who = env.sql(f"SELECT updated_by FROM route_rule WHERE id = {ids['委託業者']}")
    t.equal('updated_by is the admin', who, [[ADMIN[0]]])
    t.check('the edit is in ticketd\'s log with who made it',
            f'rule={ids["委託業者"]}: update by {ADMIN[0]}' in tick.log_text())
    t.check('ticketd logged the reloads', tick.log_text().count('routing rules loaded:') >= 5,
            tick.log_text()[-2000:])


def check_bad_row(t, env, c, tick):
    """A pattern that does not compile, put in the table behind the API's back."""
    env.pg.psql("INSERT INTO route_rule (position, name, match_subject, subject_regex, set_queue,"
                " updated_at) VALUES (0, 'broken', '(壊れ', true, 'broken', now());"
                " NOTIFY route_change", user='madoguchi_owner')
    rid = env.sql("SELECT id FROM route_rule WHERE name = 'broken'")[0][0]
    needle = f'rule={rid}: skipped: its subject pattern does not compile'
    t.check('a bad pattern in the table is skipped with a log line', tick.wait_log(needle, 10),
            tick.log_text()[-1500:])
    got = routed(env, c, mail('(壊れ abc申請'), '(壊れ abc申請')
    t.equal('the other rules still route', got[0], 'abc')


def check_forward(t, env, c, ids):
    raw = forwarded('Fwd: 掲示板の件', '町会長 <kaicho@kumiai.example.or.jp>', '掲示板の件')
    got = routed(env, c, raw, 'Fwd: 掲示板の件')
    t.equal('by forwarded origin (needs intake to pass mime forward origin)', got,
            ('chonaikai', '転送', 0, [], rule(ids, '町会からの転送')))


def main():
    with mdg.Env('routing') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user(ADMIN[0], 'admin', ADMIN[1], ADMIN[2])
        env.add_user(OPERATOR[0], 'operator', OPERATOR[1], OPERATOR[2])
        env.start('ingest-mail')
        tick = env.start('ticketd')
        if not mdg.wait_for(lambda: _listening(port), 10):
            t.fail('ticketd listening', tick.log_text()[-2000:])
            t.done()
        c = Client(port)
        t.equal('admin logs in', c.login(ADMIN[0], ADMIN[1]).status, 200)
        ids = {}
        create_rules(t, c, ids)
        check_bad_input(t, c, ids)
        check_roles(t, port, ids)
        check_mail(t, env, c, ids)
        check_queue_list(t, c)
        check_forward(t, env, c, ids)
        check_changes(t, env, c, ids, tick)
        check_bad_row(t, env, c, tick)
        t.check('ticketd still running', tick.alive())
        t.equal('SIGTERM: clean exit (and no leak report under ASan)', tick.stop(), 0)
    t.done()


if __name__ == '__main__':
    main()
