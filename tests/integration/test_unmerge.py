#!/usr/bin/python3
"""Undoing a merge and a split (issue 5, ticketd/merge.h, sql/015_merge_undo.sql)
against a real ticketd, PostgreSQL and ingest-mail on the Maildir: the exact
placement of every row (message ids, notes, outgoing mail, search rows, inbound
items, contact link with its audit rows, case record) per ticket before a merge,
after it and after its undo, with a mail and a note that reached the target after
the merge staying there; the source reopened with its status and holder; both
timelines and the merge_log row; a chain (B into A, A into C) refused while the
target is merged on, then undone from the end; a split undone (the message, its
search row and item back, the split ticket closed as merged back), refused when
the split ticket got a mail and a reply since (naming them); every 409; roles.

Run: /usr/bin/python3 tests/integration/test_unmerge.py
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
import json  # noqa: E402
from ticketd_http import Client, EventStream, start  # noqa: E402

t = mdg.Checks('unmerge')
ICHIRO = '区民 一郎 <ichiro@example.jp>'
PDF = b'%PDF-1.4\nunmerge test\n%%EOF\n'


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


def ids(env, q):
    return [int(x[0]) for x in env.sql(q)]


def last_event(env):
    return int(env.sql('SELECT coalesce(max(id), 0) FROM ticket_event')[0][0])


def evs(env, tid, since):
    return rows(env, "SELECT actor, kind, coalesce(detail, '-') FROM ticket_event"
                f" WHERE ticket_id = {tid} AND id > {since} ORDER BY id")


def post(c, tid, what, body=None, **kw):
    return c.request('POST', f'/api/tickets/{tid}/{what}', json_body=body, **kw)


def ops_seen(es, op, want, timeout=10.0):
    """the ticket ids of the stream's events with op, until want are seen"""
    got = set()
    end = time.monotonic() + timeout
    while not want <= got and time.monotonic() < end:
        _, ev = es.next(timeout=max(0.1, end - time.monotonic()))
        if ev is None:
            break
        data = [line[6:] for line in ev.split('\n') if line.startswith('data: ')]
        if ev.startswith('event: ticket') and data:
            d = json.loads(data[0])
            if d.get('op') == op:
                got.add(d['id'])
    return got


def placement(env, tid):
    """every row of a ticket that a merge moves, by kind"""
    return {
        'messages': ids(env, f'SELECT id FROM message WHERE ticket_id = {tid} ORDER BY id'),
        'notes': ids(env, f'SELECT id FROM ticket_note WHERE ticket_id = {tid} ORDER BY id'),
        'outbound': ids(env, f'SELECT message_id FROM outbound_mail WHERE ticket_id = {tid} ORDER BY id'),
        'search': sorted(f'{k}{s}' for k, s in rows(
            env, f'SELECT kind, source_id FROM search_doc WHERE ticket_id = {tid}')),
        'items': ids(env, f'SELECT m.id FROM inbound_item i JOIN message m ON m.inbound_item_id = i.id'
                          f' WHERE i.ticket_id = {tid} ORDER BY m.id'),
        'contacts': ids(env, f'SELECT contact_id FROM ticket_contact WHERE ticket_id = {tid}'),
        'case': rows(env, f'SELECT category FROM case_record WHERE ticket_id = {tid}'),
    }


def searched(env, q, want):
    return mdg.wait_for(lambda: int(env.sql(q)[0][0]) == want, 20)


def setup(env, op1):
    """A: a first mail and a reply with a PDF; B: a mail, a sent reply, a note,
    a contact, a case record, claimed by op1; C: another citizen's mail."""
    env.pg.psql("SELECT setval('ticket_id_seq', 1000), setval('message_id_seq', 1000),"
                " setval('inbound_item_id_seq', 1000)", user='madoguchi_owner')
    env.start('ingest-mail')
    a_mid = drop(env, ICHIRO, '粗大ごみの申込み', 'um-A1')
    drop(env, '区民 花子 <hanako@example.jp>', '国民健康保険の手続き', 'um-C1')
    a, a1 = item_of(env, 'um-A1')
    drop(env, ICHIRO, 'Re: 粗大ごみの申込み', 'um-A2', reply_to=a_mid, attach=True)
    drop(env, ICHIRO, '住民票の写し', 'um-B1')
    (c, c1), (a_, a2), (b, b1) = item_of(env, 'um-C1'), item_of(env, 'um-A2'), item_of(env, 'um-B1')
    t.check('mails became tickets A, B, C', None not in (a, b, c) and a_ == a and len({a, b, c}) == 3,
            f'{a} {a_} {b} {c}')
    env.pg.psql(f"UPDATE ticket SET has_new_reply = true, last_inbound_at = '2030-01-01 00:00:00+00'"
                f" WHERE id = {b}", user='madoguchi_owner')
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
    r1 = post(op1, b, 'notes', {'text': '統合前のメモ'})
    r2 = op1.request('PUT', f'/api/tickets/{b}/contact',
                     json_body={'name': '区民 一郎', 'email': 'ichiro@example.jp'})
    r3 = op1.request('PUT', f'/api/tickets/{b}/case', json_body={'category': '証明書'})
    r4 = post(op1, b, 'claim')
    t.equal('B: note, contact, case record, claimed by op1', (r1.status, r2.status, r3.status, r4.status),
            (201, 200, 200, 200))
    t.check('search rows of the messages and the note written',
            searched(env, f'SELECT count(*) FROM search_doc WHERE ticket_id IN ({a}, {b}, {c})', 6))
    return a, a1, a2, a_mid, b, b1, c, out


def test_merge_and_undo(env, op1, a, a1, a2, a_mid, b, b1, out):
    nb = ids(env, f'SELECT id FROM ticket_note WHERE ticket_id = {b}')
    contact = ids(env, f'SELECT contact_id FROM ticket_contact WHERE ticket_id = {b}')
    pa, pb = placement(env, a), placement(env, b)
    t.equal('before the merge: A', pa, {
        'messages': [a1, a2], 'notes': [], 'outbound': [], 'search': sorted([f'message{a1}', f'message{a2}']),
        'items': [a1, a2], 'contacts': [], 'case': []})
    t.equal('before the merge: B', pb, {
        'messages': [b1, out], 'notes': nb, 'outbound': [out],
        'search': sorted([f'message{b1}', f'message{out}', f'note{nb[0]}']),
        'items': [b1], 'contacts': contact, 'case': [('証明書',)]})
    before_b = rows(env, f'SELECT status, assignee, assigned_at, resolved_at, has_new_reply FROM ticket WHERE id = {b}')
    r = post(op1, b, 'merge', {'into': a})
    t.equal('merge B into A: 200', r.status, 200)
    t.equal('after the merge: A holds everything', placement(env, a), {
        'messages': [a1, a2, b1, out], 'notes': nb, 'outbound': [out],
        'search': sorted(pa['search'] + pb['search']), 'items': [a1, a2, b1], 'contacts': contact,
        'case': [('証明書',)]})
    t.equal('the merge wrote one contact audit row', env.sql(
        f"SELECT count(*) FROM contact_access WHERE reason = 'merge {b} into {a}'"), [['1']])
    t.equal('after the merge: B holds nothing', placement(env, b), {
        'messages': [], 'notes': [], 'outbound': [], 'search': [], 'items': [], 'contacts': [], 'case': []})
    t.equal('merge_log: what moved, B as it was', rows(env, f"""
        SELECT kind, source_id, target_id, message_ids::text, note_ids::text, outbound_ids::text,
               item_ids::text, contact_roles::text, contact_ids::text, case_record, prev_status,
               prev_assignee = (SELECT id FROM app_user WHERE login = 'op1'), done_by, undone_by IS NULL
          FROM merge_log WHERE source_id = {b}"""),
        [('merge', str(b), str(a), f'{{{b1},{out}}}', f'{{{nb[0]}}}',
          '{' + env.sql(f'SELECT id FROM outbound_mail WHERE message_id = {out}')[0][0] + '}', f'{{{b1}}}',
          '{citizen}', f'{{{contact[0]}}}', 't', 'open', 't', 'op1', 't')])
    # after the merge: a mail in A's thread and a note on A stay on A
    drop(env, ICHIRO, 'Re: 粗大ごみの申込み', 'um-A3', reply_to=a_mid)
    a3 = item_of(env, 'um-A3')[1]
    r = post(op1, a, 'notes', {'text': '統合後のメモ'})
    na = ids(env, f"SELECT id FROM ticket_note WHERE ticket_id = {a} AND body = '統合後のメモ'")
    t.check('a mail and a note on A after the merge', r.status == 201 and a3 is not None and len(na) == 1)
    searched(env, f"SELECT count(*) FROM search_doc WHERE (kind, source_id) IN (('message', {a3}), ('note', {na[0]}))", 2)
    since = last_event(env)
    accesses = int(env.sql('SELECT count(*) FROM contact_access')[0][0])
    es = EventStream(op1.port, op1.token)
    r = post(op1, b, 'unmerge')
    t.equal('unmerge B: 200 with what went back', (r.status, r.json()), (200, {
        'id': b, 'unmerged_from': a, 'status': 'open',
        'moved': {'messages': 2, 'notes': 1, 'outbound': 1, 'search_docs': 3, 'contacts': 1,
                  'case_record': True}}))
    t.equal('the event stream: op unmerged for both tickets', ops_seen(es, 'unmerged', {a, b}), {a, b})
    es.close()
    t.equal('after the undo: A as before plus what came after the merge', placement(env, a), {
        'messages': [a1, a2, a3], 'notes': na, 'outbound': [],
        'search': sorted(pa['search'] + [f'message{a3}', f'note{na[0]}']), 'items': [a1, a2, a3],
        'contacts': [], 'case': []})
    t.equal('after the undo: B exactly as before', placement(env, b), pb)
    t.equal('B reopened as it was: status, holder, times, new reply; not merged', rows(
        env, f'SELECT status, assignee, assigned_at, resolved_at, has_new_reply, merged_into FROM ticket'
             f' WHERE id = {b}'), [before_b[0] + ('',)])
    t.equal("A: last_inbound_at of its own mail again (not B's 2030)", rows(env, f"""
        SELECT last_inbound_at = (SELECT max(i.arrived_at) FROM message m JOIN inbound_item i
                                   ON i.id = m.inbound_item_id WHERE m.ticket_id = {a}),
               merged_into IS NULL FROM ticket WHERE id = {a}"""), [('t', 't')])
    t.equal('the contact link back on B, one audit row', rows(env, f"""
        SELECT login, action, contact_id, ticket_id, reason FROM contact_access WHERE id > 0
         ORDER BY id DESC LIMIT 1"""), [('op1', 'update', str(contact[0]), str(b), f'unmerge {b} from {a}')])
    t.equal('one contact_access row written', int(env.sql('SELECT count(*) FROM contact_access')[0][0]),
            accesses + 1)
    t.equal('both timelines: unmerged by op1', (evs(env, b, since), evs(env, a, since)),
            ([('op1', 'unmerged', f'{b} -> {a}')], [('op1', 'unmerged', f'{b} -> {a}')]))
    t.equal('merge_log: undone by op1', rows(env, f'SELECT undone_by, undone_at IS NOT NULL FROM merge_log'
                                                  f' WHERE source_id = {b}'), [('op1', 't')])
    doc = op1.get(f'/api/tickets/{b}').json()
    t.equal('GET B: not merged, its messages', (doc['merged_into'], [m['id'] for m in doc['messages']]),
            (None, [b1, out]))
    return a3


def test_refusals(env, op1, op2, a, b, c):
    since = last_event(env)
    r = post(op1, b, 'unmerge')
    t.equal('unmerge again: 409 undone already', (r.status, r.json()),
            (409, {'error': 'the merge was undone already', 'ticket': b, 'undone_by': 'op1'}))
    r = post(op1, c, 'unmerge', {})
    t.equal('unmerge a ticket never merged: 409', (r.status, r.json()),
            (409, {'error': 'the ticket is not merged', 'ticket': c}))
    env.pg.psql('UPDATE ticket SET merged_into = 1 WHERE id = 2', user='madoguchi_owner')
    r = post(op1, 2, 'unmerge')
    t.equal('unmerge a merge nobody recorded: 409', (r.status, r.json()),
            (409, {'error': 'no merge of this ticket is recorded: it cannot be undone', 'ticket': 2}))
    t.equal('unmerge no such ticket: 404', post(op1, 99999, 'unmerge').status, 404)
    t.equal('unmerge with take_over not a boolean: 400', (post(op1, b, 'unmerge', {'take_over': 1}).status), 400)
    # B into A, then A into C: B's undo waits for A's
    t.equal('op1 releases B', post(op1, b, 'release').status, 200)
    b_status = env.sql(f'SELECT status FROM ticket WHERE id = {b}')[0][0]
    t.equal('op1 merges B into A, then A into C',
            [post(op1, b, 'merge', {'into': a}).status,
             post(op1, a, 'merge', {'into': c}).status], [200, 200])
    t.equal('B and A both name C now', rows(env, f'SELECT id, merged_into FROM ticket WHERE id IN ({a}, {b}) ORDER BY id'),
            sorted([(str(a), str(c)), (str(b), str(c))]))
    since = last_event(env)
    r = post(op1, b, 'unmerge')
    t.equal('unmerge B while A is merged into C: 409 saying so', (r.status, r.json()), (409, {
        'error': f'the target ticket {a} has since been merged into {c}: undo that merge first',
        'ticket': a, 'merged_into': c}))
    t.equal('unmerge A from C: 200', (post(op1, a, 'unmerge').status), 200)
    t.equal('B names A again', rows(env, f'SELECT merged_into FROM ticket WHERE id = {b}'), [(str(a),)])
    t.equal('op2 claims A', post(op2, a, 'claim').status, 200)
    r = post(op1, b, 'unmerge')
    t.equal('unmerge B while op2 holds A: 409 with the holder', (r.status, (r.json() or {}).get('holder', {}).get('login')),
            (409, 'op2'))
    t.equal('op2 releases A', post(op2, a, 'release').status, 200)
    r = post(op1, b, 'unmerge')
    t.equal('then unmerge B: 200, its status back', (r.status, (r.json() or {}).get('status')), (200, b_status))
    t.equal('C holds its own mail only again', placement(env, c)['messages'],
            ids(env, f'SELECT m.id FROM message m JOIN inbound_item i ON i.id = m.inbound_item_id'
                     f' WHERE i.ticket_id = {c}'))
    t.equal('events of the chain on C', [e[1] for e in evs(env, c, since)], ['unmerged'])


def test_unsplit(env, op1, a, a_mid, a3):
    since = last_event(env)
    r = post(op1, a, 'split', {'message_id': a3})
    n = (r.json() or {}).get('id')
    t.equal('split A3 off A: 201', r.status, 201)
    t.equal('after the split: N holds A3, its search row and item',
            (placement(env, n)['messages'], placement(env, n)['search'], placement(env, n)['items']),
            ([a3], [f'message{a3}'], [a3]))
    r = post(op1, a, 'unsplit')
    t.equal('unsplit A (not made by a split): 409', (r.status, r.json()),
            (409, {'error': 'the ticket was not made by a split', 'ticket': a}))
    r = post(op1, n, 'unsplit')
    t.equal('unsplit N: 200', (r.status, r.json()), (200, {'id': n, 'merged_into': a, 'message_id': a3}))
    pa = placement(env, a)
    t.equal('A3, its search row and item are back on A',
            (a3 in pa['messages'], f'message{a3}' in pa['search'], a3 in pa['items']), (True, True, True))
    t.equal('N: empty, closed, merged back into A', (placement(env, n)['messages'], placement(env, n)['search'],
            rows(env, f'SELECT status, merged_into FROM ticket WHERE id = {n}')), ([], [], [('closed', str(a))]))
    t.equal('timelines: split then unsplit', (evs(env, a, since), evs(env, n, since)), (
        [('op1', 'split_to', str(n)), ('op1', 'unsplit', f'{n} -> {a}')],
        [('op1', 'split_from', str(a)), ('op1', 'unsplit', f'{n} -> {a}')]))
    r = post(op1, n, 'unsplit')
    t.equal('unsplit again: 409 undone already', (r.status, r.json()),
            (409, {'error': 'the split was undone already', 'ticket': n, 'undone_by': 'op1'}))
    # split again; a mail and a reply reach the new ticket: the undo is refused
    r = post(op1, a, 'split', {'message_id': a3})
    n2 = (r.json() or {}).get('id')
    a3_mid = env.sql(f'SELECT message_id_hdr FROM message WHERE id = {a3}')[0][0]
    drop(env, ICHIRO, 'Re: 粗大ごみの申込み', 'um-N1', reply_to=a3_mid)
    got, nin = item_of(env, 'um-N1')
    out = int(env.sql(f"""INSERT INTO message (ticket_id, direction, subject, from_addr, to_list, body_text,
        parse_state, created_at, delivery_state) VALUES ({n2}, 'out', 'Re', 'madoguchi@city.example.jp',
        'ichiro@example.jp', '回答', 'ok', now(), 'sent') RETURNING id""")[0][0])
    t.equal('the second split ticket got a mail in its thread', got, n2)
    since = last_event(env)
    r = post(op1, n2, 'unsplit')
    t.equal('unsplit with a mail and a reply since: 409 naming them', (r.status, r.json()), (409, {
        'error': f'the split ticket has mail since the split: new messages {nin}; replies {out}',
        'ticket': n2, 'messages': [nin], 'replies': [out]}))
    t.equal('the refusals wrote nothing, moved nothing', (evs(env, n2, since), placement(env, n2)['messages']),
            ([], [a3, nin, out]))


def test_roles(env, port, clients, a, b):
    before = env.sql('SELECT count(*) FROM ticket_event')
    for what in ('unmerge', 'unsplit'):
        got = {role: post(cl, b, what).status for role, cl in clients.items() if role != 'operator'}
        t.equal(f'{what}: viewer and admin 403', got, {'viewer': 403, 'admin': 403})
        t.equal(f'{what}: operator without the CSRF token 403',
                post(clients['operator'], b, what, csrf=False).status, 403)
        t.equal(f'{what}: no session 401', post(Client(port), b, what).status, 401)
        t.equal(f'{what}: GET is 405', clients['operator'].get(f'/api/tickets/{b}/{what}').status, 405)
    t.equal('refused requests wrote nothing', env.sql('SELECT count(*) FROM ticket_event'), before)


def login(port, user, pw):
    c = Client(port)
    if c.login(user, pw).status != 200:
        raise RuntimeError(f'log-in {user}')
    return c


def main():
    with mdg.Env('unmerge') as env:
        d, port = start(env, 'unmerge')
        try:
            env.add_user('op2', 'operator', 'operator-pass-2', 'オペレーター 二号')
            op1, op2 = login(port, 'op1', 'operator-pass-1'), login(port, 'op2', 'operator-pass-2')
            a, a1, a2, a_mid, b, b1, c, out = setup(env, op1)
            a3 = test_merge_and_undo(env, op1, a, a1, a2, a_mid, b, b1, out)
            test_refusals(env, op1, op2, a, b, c)
            test_unsplit(env, op1, a, a_mid, a3)
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
