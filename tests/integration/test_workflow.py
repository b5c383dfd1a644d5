#!/usr/bin/python3
"""Operators work the queue (issue 5) against a real ticketd, PostgreSQL and
intake: the queue views with their counts, filters, sort and pages (tickets
written by SQL with known channels, queues, categories, tags, days and due
times, so every answer is an exact list of ids); then claim, take-over,
release, assign, status with resolution and internal notes on tickets made
from mails dropped into the Maildir, with the exact ticket and ticket_event
rows after each action, 409 with the holder, two claims at the same moment,
the NOTIFY of every change and the typing presence on the event stream,
viewers and admins refused on every state change, CSRF.

Run: /usr/bin/python3 tests/integration/test_workflow.py
"""
import json
import os
import sys
import threading
import time
from email.message import EmailMessage
from email.utils import formatdate

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client, EventStream, start  # noqa: E402

t = mdg.Checks('workflow')

# id, channel, status, holder, queue, category, tags, created (JST), due (JST), resolution
VIEW_TICKETS = [
    (201, 'mail', 'new', None, 'general', 'ごみ', '{選挙}', '2026-05-01 10:00', None, None),
    (202, 'fax', 'new', None, 'gomi', None, '{}', '2026-05-02 09:00', '2026-05-03 12:00', None),
    (203, 'call', 'open', None, 'general', None, '{}', '2026-05-01 08:00', None, None),
    (204, 'form', 'open', 'op1', 'general', None, '{}', '2026-05-01 12:00', None, None),
    (205, 'mail', 'waiting_citizen', 'op1', 'general', None, '{}', '2026-05-02 23:59', None, None),
    (206, 'mail', 'escalated', 'sv1', 'general', None, '{}', '2026-05-03 00:00', None, None),
    (207, 'mail', 'resolved', 'op1', 'general', None, '{}', '2026-05-01 13:00', None, 'answered'),
    (208, 'fax', 'closed', None, 'general', None, '{}', '2026-04-30 12:00', None, 'info_only'),
    (209, 'mail', 'new', 'sv1', 'general', None, '{}', '2026-05-04 09:00', None, None),
    (210, 'mail', 'new', None, 'general', None, '{}', '2026-05-05 09:00', '2026-05-02 10:00', None),
]


def sql_view_tickets(env):
    rows = []
    for tid, ch, st, holder, q, cat, tags, created, due, res in VIEW_TICKETS:
        who = f"(SELECT id FROM app_user WHERE login = '{holder}')" if holder else 'NULL'
        rows.append(f"({tid}, '{ch}', '{st}', '{q}', 'view {tid}', {repr(cat) if cat else 'NULL'},"
                    f" '{tags}', '{created}+09', '{created}+09', {who},"
                    f" {'now()' if holder else 'NULL'}, {repr(due + '+09') if due else 'NULL'},"
                    f" {repr(res) if res else 'NULL'}, {'now()' if res else 'NULL'}, false)")
    env.pg.psql('INSERT INTO ticket (id, channel, status, queue, subject, category, tags, created_at,'
                ' updated_at, assignee, assigned_at, due_at, resolution, resolved_at, sla_dirty) VALUES '
                + ', '.join(rows) + "; SELECT setval('ticket_id_seq', 1000);"
                " NOTIFY ticket_change, '{\"op\":\"bulk\"}'",
                user='madoguchi_owner')


def ids(c, query):
    r = c.get('/api/tickets?' + query)
    if r.status != 200:
        return r.status
    return [x['id'] for x in r.json()['tickets']]


def test_views(env, op1, sv1):
    sql_view_tickets(env)
    # fixture: 1 new mail (general, 証明書, tags 郵送), 2 resolved fax, 3 open mail (gomi)
    views = {
        'todo': [210, 202, 1, 3, 203, 201],
        'mine': [204, 205],
        'waiting_citizen': [205],
        'escalated': [206],
        'resolved': [208, 207, 2],
        'all': [210, 209, 208, 207, 206, 205, 204, 203, 202, 201, 3, 2, 1],
        'open': [210, 209, 206, 205, 204, 203, 202, 201, 3, 1],
    }
    for view, want in views.items():
        t.equal(f'view {view}: exact ids in order', ids(op1, f'view={view}'), want)
    t.equal('view mine is per user (supervisor)', ids(sv1, 'view=mine'), [206, 209])
    t.equal('no view parameter: the open view, as before', ids(op1, ''), views['open'])
    t.equal('status=all still works', ids(op1, 'status=all'), views['all'])
    r = op1.get('/api/tickets?view=todo')
    t.equal('counts of every view (operator)', r.json()['counts'],
            {'todo': 6, 'mine': 2, 'waiting_citizen': 1, 'escalated': 1, 'resolved': 3, 'all': 13,
             'new': 5, 'open': 10})
    t.equal('view and next in the document', (r.json()['view'], r.json()['next']), ('todo', None))
    t.equal('counts: mine for the supervisor', sv1.get('/api/tickets').json()['counts']['mine'], 2)
    uid = env.sql("SELECT id FROM app_user WHERE login = 'op1'")[0][0]
    row = [x for x in op1.get('/api/tickets?view=mine').json()['tickets'] if x['id'] == 204][0]
    t.equal('row: holder, due time, resolution',
            (row['assignee'], row['due_at'], row['resolution'], row['created_at']),
            ({'id': int(uid), 'login': 'op1', 'display_name': 'オペレーター 一号'}, None, None,
             '2026-05-01T03:00:00.000000Z'))
    row = [x for x in op1.get('/api/tickets?view=todo').json()['tickets'] if x['id'] == 210][0]
    t.equal('row: due time', row['due_at'], '2026-05-02T01:00:00.000000Z')
    row = [x for x in op1.get('/api/tickets?view=resolved').json()['tickets'] if x['id'] == 207][0]
    t.equal('row: resolution', row['resolution'], 'answered')
    test_filters(op1)
    test_pages(op1)


def test_filters(op1):
    cases = [
        ('view=all&channel=fax', [208, 202, 2]),
        ('view=all&queue=gomi', [202, 3]),
        ('view=all&category=%E3%81%94%E3%81%BF', [201]),                   # ごみ
        ('view=all&tag=%E9%81%B8%E6%8C%99', [201]),                        # 選挙
        ('view=all&tag=%E9%83%B5%E9%80%81', [1]),                          # 郵送
        ('view=all&from=2026-05-02&to=2026-05-02', [205, 202]),            # a JST day, both ends
        ('view=all&from=2026-05-03', [210, 209, 206]),
        ('view=all&to=2026-04-30', [208, 3, 2, 1]),
        ('view=todo&channel=mail', [210, 1, 3, 201]),
        ('view=todo&channel=mail&queue=general&from=2026-04-02', [210, 201]),
        ('view=all&channel=mail&queue=', [210, 209, 207, 206, 205, 201, 3, 1]),  # empty = no filter
    ]
    for q, want in cases:
        t.equal(f'filter {q}: exact ids', ids(op1, q), want)
    bad = ['view=bogus', 'channel=sms', 'from=2026-02-30', 'from=2026-5-1', 'to=2026-05-01x',
           'tag=a%01b', 'queue=' + 'x' * 201, 'limit=0', 'limit=501', 'view=todo&after=1.2',
           'view=todo&after=x.1.2', 'view=all&after=-1', 'status=closed', 'from=2025-02-29']
    got = {q: op1.get('/api/tickets?' + q).status for q in bad}
    t.equal('bad parameters: 400 each', got, {q: 400 for q in bad})
    r = op1.get('/api/tickets?channel=sms')
    t.equal('400 names the parameter', r.json(), {'error': 'channel: must be mail, fax, call or form'})
    t.equal('a leap day is a day', ids(op1, 'view=all&from=2024-02-29&to=2024-02-29'), [])


def test_pages(op1):
    pages, after = [], None
    for _ in range(5):
        q = 'view=todo&limit=2' + (f'&after={after}' if after else '')
        doc = op1.get('/api/tickets?' + q).json()
        pages.append([x['id'] for x in doc['tickets']])
        after = doc['next']
        if after is None:
            break
    t.equal('todo in pages of 2 (due first, then oldest)', pages, [[210, 202], [1, 3], [203, 201], []])
    doc = op1.get('/api/tickets?view=todo&limit=2').json()
    t.equal('the next of a due-sorted page: due.created.id of its last row (202)',
            doc['next'], '1777777200000000.1777680000000000.202')
    doc = op1.get('/api/tickets?view=todo&limit=3').json()
    t.equal('a row without due time: "-" for it (ticket 1)', doc['next'], '-.1775034002000000.1')
    first = op1.get('/api/tickets?view=todo&limit=1').json()['next']
    t.equal('the next of the first todo row (due 2026-05-02 10:00 JST, created 05-05 09:00)',
            first, '1777683600000000.1777939200000000.210')
    pages, after = [], None
    while True:
        doc = op1.get('/api/tickets?view=all&limit=5' + (f'&after={after}' if after else '')).json()
        pages.append([x['id'] for x in doc['tickets']])
        after = doc['next']
        if after is None:
            break
    t.equal('all in pages of 5 (newest first)', pages,
            [[210, 209, 208, 207, 206], [205, 204, 203, 202, 201], [3, 2, 1]])
    t.equal('before_id still pages the newest-first views', ids(op1, 'view=all&limit=2&before_id=3'), [2, 1])


# ---- actions ------------------------------------------------------------------

def mail(subject, marker):
    m = EmailMessage()
    m['From'] = '区民 一郎 <ichiro@example.jp>'
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Subject'] = subject
    m['Date'] = formatdate(1795000000)
    m['Message-ID'] = f'<{time.time_ns()}.{marker}@example.jp>'
    m.set_content(f'本文 {marker}\n')
    return bytes(m)


def mail_ticket(env, marker):
    hexm = marker.encode().hex()
    r = mdg.wait_for(lambda: env.sql(
        "SELECT ticket_id FROM inbound_item WHERE state = 'done' AND ticket_id IS NOT NULL"
        f" AND position(decode('{hexm}', 'hex') in raw) > 0"), 15)
    return int(r[0][0]) if r else None


def ticket_row(env, tid):
    """status, holder login, assigned_at set, resolution, resolved_at set, and whether
    updated_at is the time of the last event"""
    return env.sql(
        "SELECT t.status, coalesce(u.login, '-'), t.assigned_at IS NOT NULL, coalesce(t.resolution, '-'),"
        " t.resolved_at IS NOT NULL, t.updated_at = (SELECT max(at) FROM ticket_event e WHERE"
        f" e.ticket_id = t.id) FROM ticket t LEFT JOIN app_user u ON u.id = t.assignee WHERE t.id = {tid}")[0]


def last_event(env):
    return int(env.sql('SELECT coalesce(max(id), 0) FROM ticket_event')[0][0])


def events(env, tid, since):
    return [tuple(r) for r in env.sql(
        "SELECT actor, kind, coalesce(detail, '-') FROM ticket_event"
        f" WHERE ticket_id = {tid} AND id > {since} ORDER BY id")]


class Action:
    """One request and the rows it must leave: checks status, ticket row, events."""

    def __init__(self, env):
        self.env = env

    def __call__(self, what, client, tid, path, body, status, row, evs):
        mark = last_event(self.env)
        r = client.request('POST', f'/api/tickets/{tid}/{path}', json_body=body)
        t.equal(f'{what}: HTTP {status}', r.status, status)
        if row is not None:
            t.equal(f'{what}: ticket row', ticket_row(self.env, tid), row)
        if evs is not None:
            t.equal(f'{what}: events', events(self.env, tid, mark), evs)
        return r


def next_event(es, pred, timeout=3.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        _, ev = es.next(max(0.01, end - time.monotonic()))
        if ev is None:
            return None
        name, _, data = ev.partition('\n')
        try:
            d = json.loads(data[len('data: '):])
        except ValueError:
            continue
        if pred(name[len('event: '):], d):
            return name[len('event: '):], d
    return None


def test_actions(env, port, op1, op2, sv1, es):
    env.start('ingest-mail')
    env.maildir_drop(mail('粗大ごみの申込み', 'marker-A'))
    env.maildir_drop(mail('国民健康保険の手続き', 'marker-B'))
    a, b = mail_ticket(env, 'marker-A'), mail_ticket(env, 'marker-B')
    # their first due times in (ticketd/sla.c): later changes keep the same due time
    mdg.wait_for(lambda: env.sql(f'SELECT count(*) FROM ticket WHERE id IN ({a}, {b}) AND sla_dirty') == [['0']], 20)
    if not (a and b):
        t.fail('two mail tickets', f'{a} {b}')
        return None
    act = Action(env)
    uid = {r[0]: int(r[1]) for r in env.sql('SELECT login, id FROM app_user')}

    r = act('op1 claims A', op1, a, 'claim', None, 200, ['open', 'op1', 't', '-', 'f', 't'],
            [('op1', 'claimed', '-'), ('op1', 'status', 'new -> open')])
    doc = r.json()
    t.equal('claim answers the workflow document',
            (sorted(doc), doc['id'], doc['status'], doc['assignee'], doc['resolution'], doc['notes']),
            (['assigned_at', 'assignee', 'due_at', 'id', 'notes', 'resolution', 'resolved_at', 'status',
              'updated_at'], a, 'open', {'id': uid['op1'], 'login': 'op1', 'display_name': 'オペレーター 一号'},
             None, []))
    t.check('assigned_at is the time of the change', doc['assigned_at'] == doc['updated_at'], repr(doc))
    got = next_event(es, lambda n, d: n == 'ticket' and d.get('id') == a and d.get('op') != 'created')
    t.equal('the claim is a NOTIFY ticket_change on the event stream', got,
            ('ticket', {'id': a, 'op': 'claimed'}))
    t.equal('GET workflow gives the same document', op2.get(f'/api/tickets/{a}/workflow').json(), doc)

    r = act('op2 claims A: refused', op2, a, 'claim', None, 409, ['open', 'op1', 't', '-', 'f', 't'], [])
    t.equal('409 names the holder', r.json(),
            {'error': 'the ticket is held by someone else',
             'holder': {'id': uid['op1'], 'login': 'op1', 'display_name': 'オペレーター 一号'}})
    act('op2 claims A with take_over: refused (not a supervisor)', op2, a, 'claim', {'take_over': True},
        409, None, [])
    act('sv1 claims A without take_over: refused', sv1, a, 'claim', {}, 409, None, [])
    act('op1 claims A again: nothing changes', op1, a, 'claim', None, 200,
        ['open', 'op1', 't', '-', 'f', 't'], [])
    act('sv1 takes A over', sv1, a, 'claim', {'take_over': True}, 200,
        ['open', 'sv1', 't', '-', 'f', 't'], [('sv1', 'taken_over', 'op1')])
    act('op1 releases A: refused, sv1 holds it', op1, a, 'release', None, 409, None, [])
    act('sv1 releases A', sv1, a, 'release', None, 200, ['open', '-', 'f', '-', 'f', 't'],
        [('sv1', 'released', '-')])
    act('op1 releases A again: nothing to release', op1, a, 'release', None, 200, None, [])
    t.check('a released open ticket is back in 要対応', a in ids(op1, 'view=todo&limit=500'))

    # assign
    act('op1 assigns A to op2', op1, a, 'assign', {'user_id': uid['op2']}, 200,
        ['open', 'op2', 't', '-', 'f', 't'], [('op1', 'assigned', 'op2')])
    for what, who, body, want in (
            ('to a supervisor by an operator', op1, {'user_id': uid['sv1']},
             'user_id: operators assign tickets to operators only'),
            ('to a viewer by a supervisor', sv1, {'user_id': uid['vw1']},
             'user_id: tickets go to operators and supervisors only'),
            ('to a disabled operator', sv1, {'user_id': uid['op3']}, 'user_id: the user is disabled'),
            ('to nobody known', sv1, {'user_id': 9999}, 'user_id: no such user'),
            ('with a string id', sv1, {'user_id': '2'}, 'user_id: must be the id of a user'),
            ('with take_over not a boolean', sv1, {'user_id': uid['op1'], 'take_over': 1},
             'take_over: must be true or false')):
        r = act(f'assign {what}: 400', who, a, 'assign', body, 400, ['open', 'op2', 't', '-', 'f', 't'], [])
        t.equal(f'assign {what}: message', r.json(), {'error': want})
    act('op1 assigns A (held by op2) to himself: refused', op1, a, 'assign', {'user_id': uid['op1']}, 409,
        None, [])
    act('sv1 reassigns A from op2 to op1 with take_over', sv1, a, 'assign',
        {'user_id': uid['op1'], 'take_over': True}, 200, ['open', 'op1', 't', '-', 'f', 't'],
        [('sv1', 'assigned', 'op2 -> op1')])
    act('sv1 assigns new ticket B to sv1 (a supervisor may)', sv1, b, 'assign', {'user_id': uid['sv1']},
        200, ['open', 'sv1', 't', '-', 'f', 't'], [('sv1', 'assigned', 'sv1'), ('sv1', 'status', 'new -> open')])

    # status and resolution
    act('op2 changes the status of A (op1 holds it): refused', op2, a, 'status',
        {'status': 'waiting_citizen'}, 409, None, [])
    for what, body, want in (
            ('resolved without a resolution', {'status': 'resolved'},
             'resolution: is required to resolve a ticket'),
            ('resolved with an unknown resolution', {'status': 'resolved', 'resolution': 'bogus'},
             'resolution: is not a known resolution type'),
            ('waiting with a resolution', {'status': 'waiting_citizen', 'resolution': 'answered'},
             'resolution: goes only with resolved or closed'),
            ('back to new', {'status': 'new'},
             'status: must be open, waiting_citizen, escalated, resolved or closed'),
            ('no status', {}, 'status: must be open, waiting_citizen, escalated, resolved or closed'),
            ('a number as resolution', {'status': 'resolved', 'resolution': 3},
             'resolution: must be a resolution code')):
        r = act(f'status {what}: 400', op1, a, 'status', body, 400, ['open', 'op1', 't', '-', 'f', 't'], [])
        t.equal(f'status {what}: message', r.json(), {'error': want})
    act('op1: A waits for the citizen', op1, a, 'status', {'status': 'waiting_citizen'}, 200,
        ['waiting_citizen', 'op1', 't', '-', 'f', 't'], [('op1', 'status', 'open -> waiting_citizen')])
    act('op1: A escalated', op1, a, 'status', {'status': 'escalated'}, 200,
        ['escalated', 'op1', 't', '-', 'f', 't'], [('op1', 'status', 'waiting_citizen -> escalated')])
    r = act('op1 resolves A (センター内回答)', op1, a, 'status', {'status': 'resolved', 'resolution': 'answered'},
            200, ['resolved', 'op1', 't', 'answered', 't', 't'],
            [('op1', 'status', 'escalated -> resolved (answered)')])
    resolved_at = r.json()['resolved_at']
    t.check('resolved_at is the time of the change', resolved_at == r.json()['updated_at'], repr(r.json()))
    t.equal('the resolve is a NOTIFY ticket_change', next_event(es, lambda n, d: d.get('id') == a and
                                                                d.get('op') == 'status'),
            ('ticket', {'id': a, 'op': 'status'}))
    act('op1 resolves A again the same way: nothing changes', op1, a, 'status',
        {'status': 'resolved', 'resolution': 'answered'}, 200, None, [])
    r = act('op1 closes A keeping its resolution', op1, a, 'status', {'status': 'closed'}, 200,
            ['closed', 'op1', 't', 'answered', 't', 't'], [('op1', 'status', 'resolved -> closed (answered)')])
    t.equal('closing keeps resolved_at', r.json()['resolved_at'], resolved_at)
    act('op1 reopens A: resolution cleared', op1, a, 'status', {'status': 'open'}, 200,
        ['open', 'op1', 't', '-', 'f', 't'], [('op1', 'status', 'closed -> open')])
    act('sv1 changes the status of A (op1 holds it): a supervisor may', sv1, a, 'status',
        {'status': 'closed', 'resolution': 'out_of_scope'}, 200, ['closed', 'op1', 't', 'out_of_scope', 't', 't'],
        [('sv1', 'status', 'open -> closed (out_of_scope)')])
    t.equal('A is in the resolved view with its resolution',
            [(x['id'], x['resolution']) for x in op1.get('/api/tickets?view=resolved').json()['tickets']
             if x['id'] == a], [(a, 'out_of_scope')])
    test_notes(env, act, op1, op2, a)
    test_race(env, op1, op2, b, sv1)
    test_presence(env, op1, port, es, a)
    return a


def test_notes(env, act, op1, op2, a):
    text = '電話で再度確認済み。\n折り返し不要。\t（内部メモ）'
    r = act('op2 writes a note on A (held by op1: notes are open to all)', op2, a, 'notes', {'text': text},
            201, None, None)
    nid = env.sql(f'SELECT max(id) FROM ticket_note WHERE ticket_id = {a}')[0][0]
    t.equal('the note event carries the id, not the text', events(env, a, last_event(env) - 1),
            [('op2', 'note', nid)])
    t.equal('note row exact', env.sql(
        "SELECT n.ticket_id, u.login, n.author, encode(convert_to(n.body, 'UTF8'), 'hex'),"
        " n.at = t.updated_at FROM ticket_note n"
        f" JOIN app_user u ON u.id = n.author_id JOIN ticket t ON t.id = n.ticket_id WHERE n.id = {nid}"),
        [[str(a), 'op2', 'op2', text.encode().hex(), 't']])
    notes = r.json()['notes']
    t.equal('the answer lists the note', [(n['id'], n['author'], n['author_name'], n['text']) for n in notes],
            [(int(nid), 'op2', 'オペレーター 二号', text)])
    for what, body, want in (('empty', {'text': ''}, 'text: must not be empty'),
                             ('blank', {'text': ' \n\t'}, 'text: must not be empty'),
                             ('with a control character', {'text': 'a\x07b'},
                              'text: must not contain control characters'),
                             ('too long', {'text': 'あ' * 5334}, 'text: is too long'),
                             ('missing', {}, 'text: must be a string')):
        r = act(f'note {what}: 400', op1, a, 'notes', body, 400, None, [])
        t.equal(f'note {what}: message', r.json(), {'error': want})
    r = act('a note of 16 000 bytes is taken', op1, a, 'notes', {'text': 'あ' * 5333}, 201, None, None)
    t.equal('notes in order', [n['author'] for n in r.json()['notes']], ['op2', 'op1'])
    r = op1.request('POST', f'/api/tickets/{a}/notes', body=b'text=x',
                    headers={'Content-Type': 'application/x-www-form-urlencoded'})
    t.equal('a form post is refused (415)', r.status, 415)


def test_race(env, op1, op2, b, sv1):
    sv1.request('POST', f'/api/tickets/{b}/release', json_body={})
    mark = last_event(env)
    got = []
    barrier = threading.Barrier(2)

    def claim(c):
        barrier.wait()
        got.append(c.request('POST', f'/api/tickets/{b}/claim').status)
    th = [threading.Thread(target=claim, args=(c,)) for c in (op1, op2)]
    for x in th:
        x.start()
    for x in th:
        x.join()
    t.equal('two claims at the same moment: one 200, one 409', sorted(got), [200, 409])
    t.equal('and one claimed event', [e[1] for e in events(env, b, mark)], ['claimed'])


def second_ticketd(env):
    """Another ticketd on the same database (a second web node)."""
    port2 = mdg.free_port()
    conf2 = os.path.join(env.root, 'etc', 'second.conf')
    with open(env.conf) as f, open(conf2, 'w') as g:
        for line in f:
            g.write(f'ticketd.listen = 127.0.0.1:{port2}\n' if line.startswith('ticketd.listen') else line)
    d2 = mdg.Daemon(env, 'ticketd', ['-c', conf2])
    env.daemons.append(d2)
    if not mdg.wait_for(lambda: ticketd_ready(port2), 10):
        raise RuntimeError('second ticketd did not start:\n' + d2.log_text()[-3000:])
    return d2, port2


def ticketd_ready(port):
    try:
        return Client(port).get('/api/me').status == 401
    except OSError:
        return False


def test_presence(env, op1, port, es, a):
    d2, port2 = second_ticketd(env)
    es2 = EventStream(port2, op1.token)
    r = op1.request('POST', f'/api/tickets/{a}/presence', json_body={'typing': True})
    t.equal('presence: 204', r.status, 204)
    want = ('presence', {'id': a, 'login': 'op1', 'display_name': 'オペレーター 一号', 'typing': True})
    got = next_event(es, lambda n, d: n == 'presence')
    t.equal('presence goes out on the event stream', got, want)
    t.equal('and on the streams of another ticketd on the same database (NOTIFY presence)',
            next_event(es2, lambda n, d: n == 'presence'), want)
    c2 = Client(port2)
    c2.token, c2.csrf = op1.token, op1.csrf
    r = c2.request(
        'POST', f'/api/tickets/{a}/presence', json_body={'typing': False})
    t.equal('typing stopped, told on the second ticketd: 204', r.status, 204)
    t.equal('reaches the first ticketd\'s stream', next_event(es, lambda n, d: n == 'presence'),
            ('presence', {'id': a, 'login': 'op1', 'display_name': 'オペレーター 一号', 'typing': False}))
    es2.close()
    t.equal('second ticketd: clean exit', d2.stop(), 0)
    r = op1.request('POST', f'/api/tickets/{a}/presence', json_body={'typing': 'yes'})
    t.equal('presence: typing must be a boolean', (r.status, r.json()),
            (400, {'error': 'typing: must be true or false'}))


def test_refusals(env, port, clients, a):
    endpoints = [('claim', None), ('release', None), ('assign', {'user_id': 1}),
                 ('status', {'status': 'open'}), ('notes', {'text': 'x'}), ('presence', {'typing': True})]
    before = (env.sql(f'SELECT count(*) FROM ticket_event'), env.sql('SELECT count(*) FROM ticket_note'))
    for role in ('viewer', 'admin'):
        c = clients[role]
        got = {p: c.request('POST', f'/api/tickets/{a}/{p}', json_body=body).status for p, body in endpoints}
        t.equal(f'{role}: 403 on every state change', got, {p: 403 for p, _ in endpoints})
    c = clients['operator']
    got = {p: c.request('POST', f'/api/tickets/{a}/{p}', json_body=body, csrf=False).status
           for p, body in endpoints}
    t.equal('operator without X-CSRF-Token: 403 on every state change', got, {p: 403 for p, _ in endpoints})
    got = {p: Client(port).request('POST', f'/api/tickets/{a}/{p}', json_body=body).status
           for p, body in endpoints}
    t.equal('no session: 401 on every state change', got, {p: 401 for p, _ in endpoints})
    t.equal('refused requests wrote nothing',
            (env.sql('SELECT count(*) FROM ticket_event'), env.sql('SELECT count(*) FROM ticket_note')), before)
    t.equal('unknown ticket: 404', clients['operator'].request('POST', '/api/tickets/99999/claim').status, 404)
    t.equal('viewer reads no workflow (notes are correspondence)',
            clients['viewer'].get(f'/api/tickets/{a}/workflow').status, 403)
    t.equal('viewer reads the resolution types',
            clients['viewer'].get('/api/resolutions').json(),
            {'resolutions': [
                {'code': 'answered', 'label_ja': 'センター内回答（一次回答）',
                 'label_en': 'Answered by the centre (first contact)'},
                {'code': 'escalated', 'label_ja': 'エスカレーション', 'label_en': 'Escalated to a department'},
                {'code': 'referred', 'label_ja': '取次ぎ', 'label_en': 'Referred to another office'},
                {'code': 'info_only', 'label_ja': '情報提供のみ', 'label_en': 'Information only'},
                {'code': 'out_of_scope', 'label_ja': '対象外', 'label_en': 'Out of scope'}]})
    uid = {r[0]: int(r[1]) for r in env.sql('SELECT login, id FROM app_user')}
    t.equal('GET /api/users: enabled operators and supervisors, four fields',
            clients['operator'].get('/api/users').json(),
            {'users': [{'id': uid['op1'], 'login': 'op1', 'display_name': 'オペレーター 一号', 'role': 'operator'},
                       {'id': uid['op2'], 'login': 'op2', 'display_name': 'オペレーター 二号', 'role': 'operator'},
                       {'id': uid['sv1'], 'login': 'sv1', 'display_name': '管理 責任者', 'role': 'supervisor'}]})
    t.equal('viewer: no user list', clients['viewer'].get('/api/users').status, 403)


def login(port, user, pw):
    c = Client(port)
    r = c.login(user, pw)
    if r.status != 200:
        raise RuntimeError(f'log-in {user}: {r.status}')
    return c


def main():
    with mdg.Env('workflow') as env:
        d, port = start(env, 'workflow')
        try:
            env.add_user('op2', 'operator', 'operator-pass-2', 'オペレーター 二号')
            env.add_user('op3', 'operator', 'operator-pass-3', 'オペレーター 三号')
            env.pg.psql("UPDATE app_user SET disabled = true WHERE login = 'op3'", user='madoguchi_owner')
            op1 = login(port, 'op1', 'operator-pass-1')
            op2 = login(port, 'op2', 'operator-pass-2')
            sv1 = login(port, 'sv1', 'supervisor-pass-1')
            clients = {'operator': op1, 'viewer': login(port, 'vw1', 'viewer-pass-1'),
                       'admin': login(port, 'ad1', 'admin-pass-1')}
            test_views(env, op1, sv1)
            es = EventStream(port, op1.token)
            a = test_actions(env, port, op1, op2, sv1, es)
            if a:
                test_refusals(env, port, clients, a)
            es.close()
            t.check('ticketd still running', d.alive())
            t.equal('SIGTERM: clean exit', d.stop(), 0)
        except Exception as e:
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print(d.log_text()[-3000:])
            raise
    t.done()


if __name__ == '__main__':
    main()
