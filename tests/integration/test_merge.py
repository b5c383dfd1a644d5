#!/usr/bin/python3
"""Merging two tickets and splitting an item off into its own ticket (issue 5,
ticketd/merge.h) against a real ticketd, PostgreSQL and ingest-mail on the
Maildir: tickets made from dropped mails, the exact rows after a merge (messages,
attachments, notes, outgoing mail, search rows, inbound items, contact link with
its audit row, case record, the source closed and merged, both timelines, the
target's times), GET /api/tickets/ID showing it, a later reply carrying the old
subject tag and one answering the old Message-ID both landing on the target; a
split with its attachment and search row, the new ticket's fields and both
timelines; every refusal (itself, merged, held, two case records, bad bodies,
first/outgoing/foreign messages), viewers and admins 403, CSRF 403.

Run: /usr/bin/python3 tests/integration/test_merge.py
"""
import os
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client, start  # noqa: E402

t = mdg.Checks('merge')
ICHIRO = '区民 一郎 <ichiro@example.jp>'
PDF = b'%PDF-1.4\nmerge test\n%%EOF\n'


def mail(sender, subject, marker, reply_to=None, attach=False):
    m = EmailMessage()
    m['From'] = sender
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Subject'] = subject
    m['Date'] = formatdate(1795000000)
    mid = f'<{time.time_ns()}.{marker}@example.jp>'
    m['Message-ID'] = mid
    if reply_to:
        m['In-Reply-To'] = reply_to
        m['References'] = reply_to
    m.set_content(f'本文 {marker} 住民票\n')
    if attach:
        m.add_attachment(PDF, maintype='application', subtype='pdf', filename='申請書.pdf')
    return bytes(m), mid


def drop(env, *args, **kw):
    raw, mid = mail(*args, **kw)
    env.maildir_drop(raw)
    return mid


def item_of(env, marker):
    """(ticket id, message id) of the mail with marker, once taken in"""
    hexm = marker.encode().hex()
    r = mdg.wait_for(lambda: env.sql(
        "SELECT i.ticket_id, m.id FROM inbound_item i JOIN message m ON m.inbound_item_id = i.id"
        f" WHERE i.state = 'done' AND position(decode('{hexm}', 'hex') in i.raw) > 0"), 15)
    return (int(r[0][0]), int(r[0][1])) if r else (None, None)


def rows(env, q):
    return [tuple(x) for x in env.sql(q)]


def evs(env, tid, since):
    return rows(env, "SELECT actor, kind, coalesce(detail, '-') FROM ticket_event"
                f" WHERE ticket_id = {tid} AND id > {since} ORDER BY id")


def last_event(env):
    return int(env.sql('SELECT coalesce(max(id), 0) FROM ticket_event')[0][0])


def searched(env, mids):
    want = len(mids)
    ids = ','.join(str(m) for m in mids)
    return mdg.wait_for(lambda: int(env.sql(
        f"SELECT count(*) FROM search_doc WHERE kind = 'message' AND source_id IN ({ids})")[0][0])
        == want, 20)


def setup(env, op1):
    """A: first mail + a reply in its thread with a PDF; B: a mail + a note, a sent
    reply (outgoing row), a contact and a case record; C: another citizen's mail."""
    # the fixture's tickets, messages and items have fixed ids below 1000
    env.pg.psql("SELECT setval('ticket_id_seq', 1000), setval('message_id_seq', 1000),"
                " setval('inbound_item_id_seq', 1000)", user='madoguchi_owner')
    env.start('ingest-mail')
    a_mid = drop(env, ICHIRO, '粗大ごみの申込み', 'mg-A1')
    drop(env, '区民 花子 <hanako@example.jp>', '国民健康保険の手続き', 'mg-C1')
    a, a1 = item_of(env, 'mg-A1')
    drop(env, ICHIRO, 'Re: 粗大ごみの申込み', 'mg-A2', reply_to=a_mid, attach=True)
    b_mid = drop(env, ICHIRO, '住民票の写し', 'mg-B1')
    (c, c1), (a_, a2), (b, b1) = item_of(env, 'mg-C1'), item_of(env, 'mg-A2'), item_of(env, 'mg-B1')
    t.check('mails became tickets A, B, C (the reply joined A)',
            None not in (a, b, c) and a_ == a and len({a, b, c}) == 3, f'{a} {a_} {b} {c}')
    env.pg.psql(f"""
UPDATE ticket SET category = 'ごみ', queue = 'gomi' WHERE id = {a};
UPDATE ticket SET has_new_reply = true, last_inbound_at = '2030-01-01 00:00:00+00' WHERE id = {b};
""", user='madoguchi_owner')
    # a sent reply on B (ids from the sequences: the search indexer walks message ids upwards)
    out = int(env.sql(f"""
WITH m AS (INSERT INTO message (ticket_id, direction, subject, from_addr, to_list, body_text,
                                parse_state, created_at, delivery_state)
           VALUES ({b}, 'out', 'Re: 住民票の写し [受付番号:{b}]', 'madoguchi@city.example.jp',
                   'ichiro@example.jp', '回答です', 'ok', now(), 'sent') RETURNING id),
     o AS (INSERT INTO outbound_mail (message_id, ticket_id, env_from, rcpt, raw, state, not_before,
                                      created_at, sent_at)
           SELECT id, {b}, 'madoguchi@city.example.jp', '{{ichiro@example.jp}}', '\\x00', 'sent',
                  now(), now(), now() FROM m)
SELECT id FROM m""")[0][0])
    r1 = op1.request('POST', f'/api/tickets/{b}/notes', json_body={'text': '統合前のメモ'})
    r2 = op1.request('PUT', f'/api/tickets/{b}/contact',
                     json_body={'name': '区民 一郎', 'email': 'ichiro@example.jp'})
    r3 = op1.request('PUT', f'/api/tickets/{b}/case', json_body={'category': '証明書'})
    t.equal('B: note, contact and case record written', (r1.status, r2.status, r3.status),
            (201, 200, 200))
    t.check('search rows of every message and the note written', searched(env, [a1, a2, b1, c1, out])
            and mdg.wait_for(lambda: env.sql(f"SELECT count(*) FROM search_doc WHERE ticket_id = {b}")
                             == [['3']], 20))
    return a, a1, a2, a_mid, b, b1, b_mid, c, out


def post(c, tid, what, body, **kw):
    return c.request('POST', f'/api/tickets/{tid}/{what}', json_body=body, **kw)


def test_refusals(env, op1, op2, sv1, a, b, c):
    since = last_event(env)
    cases = [
        ('into itself', post(op1, a, 'merge', {'into': a}),
         (400, {'error': 'into: a ticket cannot be merged into itself'})),
        ('into missing', post(op1, a, 'merge', {}),
         (400, {'error': 'into: must be the number of a ticket or message'})),
        ('into a string', post(op1, a, 'merge', {'into': str(b)}),
         (400, {'error': 'into: must be the number of a ticket or message'})),
        ('take_over not a boolean', post(op1, a, 'merge', {'into': b, 'take_over': 1}),
         (400, {'error': 'take_over: must be true or false'})),
        ('into no ticket', post(op1, a, 'merge', {'into': 99999}), (404, {'error': 'into: no such ticket'})),
        ('no such source', post(op1, 99999, 'merge', {'into': a}), (404, {'error': 'no such ticket'})),
    ]
    for what, r, want in cases:
        t.equal(f'merge refused: {what}', (r.status, r.json()), want)
    t.equal('op2 claims C', post(op2, c, 'claim', None).status, 200)
    uid = int(env.sql("SELECT id FROM app_user WHERE login = 'op2'")[0][0])
    held = {'error': 'the ticket is held by someone else', 'ticket': c,
            'holder': {'id': uid, 'login': 'op2', 'display_name': 'オペレーター 二号'}}
    r = post(op1, c, 'merge', {'into': a})
    t.equal('merge of a ticket someone else holds: 409 with the holder', (r.status, r.json()), (409, held))
    r = post(op1, a, 'merge', {'into': c})
    t.equal('merge into a ticket someone else holds: 409 with the holder', (r.status, r.json()), (409, held))
    r = post(op1, c, 'split', {'message_id': 1})
    t.equal('split of a ticket someone else holds: 409 with the holder', (r.status, r.json()), (409, held))
    r = post(sv1, a, 'merge', {'into': c, 'take_over': False})
    t.equal('a supervisor too without take_over', r.status, 409)
    t.equal('op2 releases C', post(op2, c, 'release', None).status, 200)
    # fixture tickets 1 and 3: a case record on both
    for tid in (1, 3):
        op1.request('PUT', f'/api/tickets/{tid}/case', json_body={'category': '環境'})
    r = post(op1, 3, 'merge', {'into': 1})
    t.equal('a case record on both: 409',
            (r.status, r.json()),
            (409, {'error': 'both tickets have a case record: keep one (clear the other) first',
                   'ticket': 1}))
    t.equal('refusals wrote no event (C: the claim and release only)',
            ([e[1] for e in evs(env, c, since)], evs(env, a, since)), (['claimed', 'status', 'released'], []))


def test_merge(env, op1, a, a1, a2, b, b1, c, out):
    since = last_event(env)
    before = rows(env, f"SELECT last_inbound_at FROM ticket WHERE id = {a}")
    r = post(op1, b, 'merge', {'into': a})
    t.equal('merge B into A: 200 with what moved', (r.status, r.json()),
            (200, {'id': b, 'merged_into': a,
                   'moved': {'messages': 2, 'notes': 1, 'outbound': 1, 'search_docs': 3,
                             'contacts': 1, 'case_record': True}}))
    t.equal('A holds all messages, in order', rows(env, f'SELECT id FROM message WHERE ticket_id = {a} ORDER BY id'),
            [(str(x),) for x in sorted([a1, a2, b1, out])])
    t.equal('B holds nothing any more', rows(env, f"""
        SELECT (SELECT count(*) FROM message WHERE ticket_id = {b}),
               (SELECT count(*) FROM ticket_note WHERE ticket_id = {b}),
               (SELECT count(*) FROM outbound_mail WHERE ticket_id = {b}),
               (SELECT count(*) FROM search_doc WHERE ticket_id = {b}),
               (SELECT count(*) FROM inbound_item WHERE ticket_id = {b}),
               (SELECT count(*) FROM case_record WHERE ticket_id = {b})"""),
            [('0', '0', '0', '0', '0', '0')])
    t.equal('the note, outgoing row, search rows, item, case record are on A', rows(env, f"""
        SELECT (SELECT string_agg(body, ',') FROM ticket_note WHERE ticket_id = {a}),
               (SELECT string_agg(id::text, ',') FROM outbound_mail WHERE ticket_id = {a}),
               (SELECT string_agg(kind || source_id, ',' ORDER BY kind, source_id) FROM search_doc
                 WHERE ticket_id = {a}),
               (SELECT count(*) FROM inbound_item WHERE ticket_id = {a}),
               (SELECT category FROM case_record WHERE ticket_id = {a})"""),
            [('統合前のメモ', rows(env, f'SELECT id FROM outbound_mail WHERE message_id = {out}')[0][0],
              ','.join(f'message{x}' for x in sorted((a1, a2, b1, out)))
              + ',' + rows(env, f"SELECT 'note' || id FROM ticket_note WHERE ticket_id = {a}")[0][0],
              '3', '証明書')])
    t.equal('the contact link is on A, its move in the contact audit log', rows(env, f"""
        SELECT (SELECT count(*) FROM ticket_contact WHERE ticket_id = {a}),
               (SELECT count(*) FROM ticket_contact WHERE ticket_id = {b}),
               (SELECT login || ' ' || action || ' ' || ticket_id || ' ' || reason FROM contact_access
                 ORDER BY id DESC LIMIT 1)"""),
            [('1', '0', f'op1 update {a} merge {b} into {a}')])
    t.equal('B: closed, merged into A, no new reply, resolved_at set', rows(env, f"""
        SELECT status, merged_into, has_new_reply, resolved_at IS NOT NULL FROM ticket WHERE id = {b}"""),
            [('closed', str(a), 'f', 't')])
    t.equal("A: B's later last_inbound_at, B's new reply, updated now", rows(env, f"""
        SELECT last_inbound_at = '2030-01-01 00:00:00+00', has_new_reply,
               updated_at = (SELECT max(at) FROM ticket_event WHERE ticket_id = {a}), status
          FROM ticket WHERE id = {a}"""), [('t', 't', 't', 'new')])
    t.check('A had an earlier last_inbound_at before', before and before[0][0] < '2030')
    t.equal('both timelines: merged_into by op1',
            (evs(env, b, since), evs(env, a, since)),
            ([('op1', 'merged_into', f'{b} -> {a}')], [('op1', 'merged_into', f'{b} -> {a}')]))
    doc = op1.get(f'/api/tickets/{b}').json()
    t.equal('GET B: merged_into, no messages, the event last',
            (doc['merged_into'], doc['messages'], doc['events'][-1]['kind'], doc['events'][-1]['actor']),
            (a, [], 'merged_into', 'op1'))
    doc = op1.get(f'/api/tickets/{a}').json()
    t.equal("GET A: not merged, B's messages with their attachments",
            (doc['merged_into'], [m['id'] for m in doc['messages']],
             [x['filename'] for m in doc['messages'] for x in m['attachments']]),
            (None, sorted([a1, a2, b1, out]), ['申請書.pdf']))
    since = last_event(env)
    for what, src, into, want in [('B again (merged already)', b, c, 'the ticket is merged already'),
                                  ('into B (merged)', c, b,
                                   'the target ticket is merged into another ticket')]:
        r = post(op1, src, 'merge', {'into': into})
        t.equal(f'merge refused: {what}: 409', (r.status, r.json()), (409, {'error': want, 'ticket': b}))
    r = post(op1, b, 'split', {'message_id': b1})
    t.equal('split refused on a merged ticket', (r.status, r.json()),
            (409, {'error': 'the ticket is merged into another ticket', 'ticket': b}))
    t.equal('the refusals wrote nothing', evs(env, b, since) + evs(env, c, since), [])


def test_replies(env, a, b, b_mid):
    drop(env, ICHIRO, f'Re: 住民票の写し [受付番号:{b}]', 'mg-tag')
    drop(env, ICHIRO, 'Re: 住民票の写し', 'mg-thread', reply_to=b_mid)
    drop(env, '他人 <other@example.jp>', f'Re: [受付番号:{b}]', 'mg-stranger')
    t.equal("a reply with B's old subject tag lands on A", item_of(env, 'mg-tag')[0], a)
    t.equal("a reply to B's first Message-ID lands on A", item_of(env, 'mg-thread')[0], a)
    got = item_of(env, 'mg-stranger')[0]
    t.check('the tag from someone else still makes a new ticket', got not in (None, a, b), str(got))
    t.equal('B stays closed, A is reopened only as a new reply (status kept)',
            rows(env, f'SELECT id, status FROM ticket WHERE id IN ({a}, {b}) ORDER BY id'),
            sorted([(str(a), 'new'), (str(b), 'closed')]))


def test_split(env, op1, a, a1, a2, c, out):
    since = last_event(env)
    for what, body, want in [
            ('the first message', {'message_id': a1}, 'message_id: the first message stays with its ticket'),
            ('an outgoing message', {'message_id': out}, 'message_id: only an incoming message can be split off'),
            ("another ticket's message", {'message_id': int(env.sql(
                f'SELECT min(id) FROM message WHERE ticket_id = {c}')[0][0])},
             'message_id: is not a message of this ticket'),
            ('no such message', {'message_id': 99999}, 'message_id: is not a message of this ticket'),
            ('no message_id', {}, 'message_id: must be the number of a ticket or message')]:
        r = post(op1, a, 'split', body)
        t.equal(f'split refused: {what}: 400', (r.status, r.json()), (400, {'error': want}))
    t.equal('split refused: no such ticket: 404', post(op1, 99999, 'split', {'message_id': a2}).status, 404)
    r = post(op1, a, 'split', {'message_id': a2})
    n = (r.json() or {}).get('id')
    t.equal('split A2 off A: 201', (r.status, r.json()),
            (201, {'id': n, 'split_from': a, 'message_id': a2}))
    t.equal('the new ticket: channel, queue and category of A, subject of the mail, its sender, open',
            rows(env, f"""SELECT channel, status, queue, category, subject, correspondent,
                last_inbound_at = (SELECT i.arrived_at FROM inbound_item i JOIN message m
                                    ON m.inbound_item_id = i.id WHERE m.id = {a2}), merged_into IS NULL
                FROM ticket WHERE id = {n}"""),
            [('mail', 'open', 'gomi', 'ごみ', 'Re: 粗大ごみの申込み', 'ichiro@example.jp', 't', 't')])
    t.equal('the message, its attachment, search row and item moved', rows(env, f"""
        SELECT (SELECT string_agg(id::text, ',') FROM message WHERE ticket_id = {n}),
               (SELECT string_agg(a.filename, ',') FROM attachment a JOIN message m ON m.id = a.message_id
                 WHERE m.ticket_id = {n}),
               (SELECT string_agg(kind || source_id, ',') FROM search_doc WHERE ticket_id = {n}),
               (SELECT count(*) FROM inbound_item WHERE ticket_id = {n}),
               (SELECT count(*) FROM message WHERE ticket_id = {a} AND id = {a2})"""),
            [(str(a2), '申請書.pdf', f'message{a2}', '1', '0')])
    t.equal("A's last_inbound_at: its latest incoming message left", rows(env, f"""
        SELECT last_inbound_at = (SELECT max(i.arrived_at) FROM message m JOIN inbound_item i
                                   ON i.id = m.inbound_item_id WHERE m.ticket_id = {a})
          FROM ticket WHERE id = {a}"""), [('t',)])
    t.equal('timelines: split_to on A, split_from on the new ticket',
            (evs(env, a, since), evs(env, n, since)),
            ([('op1', 'split_to', str(n))], [('op1', 'split_from', str(a))]))
    doc = op1.get(f'/api/tickets/{n}').json()
    t.equal('GET the new ticket: the message and the event',
            ([m['id'] for m in doc['messages']], [e['kind'] for e in doc['events']], doc['merged_into']),
            ([a2], ['split_from'], None))


def test_roles(env, port, clients, a, b):
    before = env.sql('SELECT count(*) FROM ticket_event')
    for what, body in (('merge', {'into': b}), ('split', {'message_id': 1})):
        got = {role: post(cl, a, what, body).status for role, cl in clients.items() if role != 'operator'}
        t.equal(f'{what}: viewer and admin 403', got, {'viewer': 403, 'admin': 403})
        t.equal(f'{what}: operator without the CSRF token 403',
                post(clients['operator'], a, what, body, csrf=False).status, 403)
        t.equal(f'{what}: no session 401', post(Client(port), a, what, body).status, 401)
        t.equal(f'{what}: GET is 405', clients['operator'].get(f'/api/tickets/{a}/{what}').status, 405)
    t.equal('refused requests wrote nothing', env.sql('SELECT count(*) FROM ticket_event'), before)


def login(port, user, pw):
    c = Client(port)
    if c.login(user, pw).status != 200:
        raise RuntimeError(f'log-in {user}')
    return c


def main():
    with mdg.Env('merge') as env:
        d, port = start(env, 'merge')
        try:
            env.add_user('op2', 'operator', 'operator-pass-2', 'オペレーター 二号')
            op1, op2 = login(port, 'op1', 'operator-pass-1'), login(port, 'op2', 'operator-pass-2')
            sv1 = login(port, 'sv1', 'supervisor-pass-1')
            a, a1, a2, a_mid, b, b1, b_mid, c, out = setup(env, op1)
            test_refusals(env, op1, op2, sv1, a, b, c)
            test_merge(env, op1, a, a1, a2, b, b1, c, out)
            test_replies(env, a, b, b_mid)
            test_split(env, op1, a, a1, a2, c, out)
            test_roles(env, port, {'operator': op1, 'viewer': login(port, 'vw1', 'viewer-pass-1'),
                                   'admin': login(port, 'ad1', 'admin-pass-1')}, a, b)
            t.check('ticketd still running', d.alive())
            t.equal('SIGTERM: clean exit', d.stop(), 0)
        except Exception as e:
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print(d.log_text()[-3000:])
            raise
    t.done()


if __name__ == '__main__':
    main()
