#!/usr/bin/python3
"""Calls through the CTI webhooks (issue 9; ticketd/cti*.c, sql/027).

A real ticketd and PostgreSQL.  PBX 'pbx1' posts Zammad's generic CTI
events exactly as Zammad's documentation gives them (form fields, token in
the URL) and our JSON events; after each, the call, call_event, ticket,
contact store and ACW rows are compared with what they must be.  Covered:
duplicates ignored, answer before newCall, a hangup for an unknown call
kept, abandoned calls without a ticket, bad and missing secrets (403/401),
unknown events (400 and the log line), a restart of ticketd in the middle
of a call, after-call work until the case record is saved, the operator
picking the caller's earlier ticket, callbacks, the supervisors' figures.

Run: MDG_BUILD=build /usr/bin/python3 tests/integration/test_cti_webhook.py
"""
import http.client
import json
import os
import socket
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
sys.path.insert(0, os.path.dirname(__file__))
import mdg  # noqa: E402
from ticketd_http import USERS, Client, EventStream  # noqa: E402

t = mdg.Checks('cti_webhook')
SECRET = 'zammad-secret-0123456789'
NUMBER = '493055571600'
DAY = '2026-04-01'  # the JSON calls' day (JST)


def listening(port):
    try:
        socket.create_connection(('127.0.0.1', port), 0.2).close()
        return True
    except OSError:
        return False


def post(port, path, body, ctype='application/x-www-form-urlencoded', headers=None):
    h = {'Content-Type': ctype}
    h.update(headers or {})
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    try:
        c.request('POST', path, body.encode() if isinstance(body, str) else body, h)
        r = c.getresponse()
        data = r.read()
        try:
            return r.status, json.loads(data.decode())
        except ValueError:
            return r.status, data
    finally:
        c.close()


def zammad(port, fields, token=SECRET, pbx='pbx1'):
    body = urllib.parse.urlencode(fields, doseq=True)
    return post(port, f'/cti/zammad/{pbx}/{token}', body)


def event(port, doc, secret=SECRET, pbx='pbx1'):
    return post(port, f'/cti/events/{pbx}', json.dumps(doc), 'application/json',
                {'X-CTI-Secret': secret})


def row(env, q):
    r = env.sql(q)
    return r[0] if r else None


def setup(env):
    env.start_db()
    port = mdg.free_port()
    env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
    for login, role, pw, disp in USERS:
        env.add_user(login, role, pw, disp)
    env.sql(f"""
INSERT INTO call_pbx (name, secret) VALUES ('pbx1', '{SECRET}'), ('pbx2', 'other-secret-0123456789');
INSERT INTO call_extension (pbx, extension, user_id, interface, updated_by, updated_at)
  SELECT 'pbx1', '101', id, 'PJSIP/101', 'test', now() FROM app_user WHERE login = 'op1';
INSERT INTO call_ivr (pbx, choice, label, queue, category)
  VALUES ('pbx1', '2', '税金', 'general', '税務課');
""")
    return port


def start_ticketd(env, port):
    d = env.start('ticketd')
    if not mdg.wait_for(lambda: listening(port), 10):
        raise RuntimeError('ticketd did not start:\n' + d.log_text()[-3000:])
    return d


def zammad_flow(env, port, op):
    """The documented newCall / answer / hangup, a duplicate, ACW until the case is saved."""
    new = {'event': 'newCall', 'from': NUMBER, 'to': '491711234567890', 'direction': 'in',
           'callId': '123456', 'user[]': ['Alice', 'Bob'], 'queue': 'helpdesk'}
    st, doc = zammad(port, new)
    t.check('zammad newCall: 200 {}', (st, doc) == (200, {}), f'{st} {doc}')
    t.equal('newCall: the call row', row(env, "SELECT direction, from_number, to_number, dnis, queue,"
            " state, offered_at IS NOT NULL, ticket_id IS NULL FROM call WHERE call_id = '123456'"),
            ['in', NUMBER, '491711234567890', '491711234567890', 'helpdesk', 'ringing', 't', 't'])
    t.equal('newCall: the raw event kept with user[] as an array',
            row(env, "SELECT source, kind, idem_key, raw->'user[]'::text FROM call_event"
                " WHERE call_id = '123456'"), ['zammad', 'newCall', 'newCall', '["Alice", "Bob"]'])
    st, doc = zammad(port, new)
    t.check('the same newCall again: 200', st == 200, f'{st} {doc}')
    t.equal('  ...stored once', row(env, "SELECT count(*) FROM call_event WHERE call_id = '123456'"),
            ['1'])
    ans = {'event': 'answer', 'from': NUMBER, 'to': '491711234567890', 'direction': 'in',
           'callId': '123456', 'answeringNumber': '101', 'user': 'Alice'}
    st, doc = zammad(port, ans)
    t.check('zammad answer: 200', st == 200, f'{st} {doc}')
    r = row(env, "SELECT c.state, u.login, c.extension, t.channel, t.status, t.subject, t.assignee = u.id,"
            " c.ticket_id FROM call c JOIN app_user u ON u.id = c.user_id JOIN ticket t ON t.id = c.ticket_id"
            " WHERE c.call_id = '123456'")
    t.equal('answer: talking, op1 by extension 101, a call ticket without the number',
            r and r[:7], ['talking', 'op1', '101', 'call', 'open', '電話: 着信', 't'])
    tid = r[7] if r else '0'
    t.equal('answer: the number in the contact store, linked and audited',
            row(env, f"SELECT c.phone, a.login, a.action, a.reason FROM ticket_contact tc"
                f" JOIN contact c ON c.id = tc.contact_id JOIN contact_access a ON a.contact_id = c.id"
                f" AND a.ticket_id = tc.ticket_id WHERE tc.ticket_id = {tid}"),
            [NUMBER, 'cti:pbx1', 'create', 'call'])
    t.equal('the number is nowhere in the case history or the timeline',
            row(env, f"SELECT (SELECT count(*) FROM ticket WHERE subject LIKE '%3055571600%'),"
                f" (SELECT count(*) FROM ticket_event WHERE detail LIKE '%3055571600%'),"
                f" (SELECT string_agg(kind, ',' ORDER BY id) FROM ticket_event WHERE ticket_id = {tid})"),
            ['0', '0', 'created,call_answered'])
    st, doc = zammad(port, {'event': 'hangup', 'from': NUMBER, 'to': '491711234567890',
                            'direction': 'in', 'callId': '123456', 'cause': 'normalClearing',
                            'answeringNumber': '101'})
    t.check('zammad hangup: 200', st == 200, f'{st} {doc}')
    t.equal('hangup: after-call work', row(env, "SELECT state, cause, ended_at IS NOT NULL,"
            " acw_end_at IS NULL FROM call WHERE call_id = '123456'"), ['acw', 'normalClearing', 't', 't'])
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    c.request('GET', '/cti/agents/pbx1', headers={'X-CTI-Secret': SECRET})
    r = c.getresponse()
    agents = json.loads(r.read())
    c.close()
    t.equal('GET /cti/agents/pbx1: extension 101 in ACW, not available',
            (r.status, agents), (200, {'agents': [{'extension': '101', 'state': 'acw', 'available': False}]}))
    me = op.get('/api/cti/me').json()
    t.equal('GET /api/cti/me: in ACW on extension 101',
            me and (me['state'], me['extensions'], me['call']['ticket_id']),
            ('acw', [{'pbx': 'pbx1', 'extension': '101'}], int(tid)))
    r = op.request('PUT', f'/api/tickets/{tid}/case', json_body={'inquiry_summary': '住民票の請求方法',
                                                                  'answer_summary': '窓口を案内'})
    t.check('the case record saved', r.status == 200, f'{r.status} {r.body[:200]}')
    t.equal('saving the case ends the ACW', row(env, "SELECT state, acw_end_at >= ended_at FROM call"
                                                  " WHERE call_id = '123456'"), ['done', 't'])
    t.equal('GET /api/cti/me: idle again', op.get('/api/cti/me').json()['state'], 'idle')
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    c.request('GET', '/cti/agents/pbx1', headers={'X-CTI-Secret': 'wrong-secret-0123456789'})
    t.equal('GET /cti/agents with a wrong secret: 403', c.getresponse().status, 403)
    c.close()
    return int(tid)


def outbound(env, port):
    """an operator's outgoing call: no ticket, so no after-call work to wait for"""
    zammad(port, {'event': 'newCall', 'from': '0355550000', 'to': '0312345678', 'direction': 'out',
                  'callId': 'out-1', 'user[]': 'オペレーター 一号'})
    zammad(port, {'event': 'answer', 'from': '0355550000', 'to': '0312345678', 'direction': 'out',
                  'callId': 'out-1', 'answeringNumber': '101'})
    zammad(port, {'event': 'hangup', 'callId': 'out-1', 'cause': 'normalClearing', 'direction': 'out'})
    t.equal('an outbound call: no ticket, done at the hang-up (no ACW without a case to save)',
            row(env, "SELECT direction, state, ticket_id IS NULL, acw_end_at = ended_at, dnis FROM call"
                " WHERE call_id = 'out-1'"), ['out', 'done', 't', 't', ''])


def pop_target(env, port, clients):
    """the call event goes to the answering operator's streams only, and names no number"""
    op_es = EventStream(port, clients['operator'].token)
    sv_es = EventStream(port, clients['supervisor'].token)
    op_es.next(2)
    sv_es.next(2)
    zammad(port, {'event': 'newCall', 'from': '0312340077', 'to': '0355550000', 'direction': 'in',
                  'callId': 'tg-1'})
    zammad(port, {'event': 'answer', 'callId': 'tg-1', 'answeringNumber': '101', 'direction': 'in'})
    cid, tid = row(env, "SELECT id, ticket_id FROM call WHERE call_id = 'tg-1'")

    def call_event(es):
        while True:
            _, ev = es.next(3)
            if ev is None or ev.startswith('event: call'):
                return ev
    ev = call_event(op_es)
    doc = json.loads(ev.split('data: ', 1)[1]) if ev else {}
    t.equal("op1's stream: the call event with the call and its ticket",
            (doc.get('op'), doc.get('call'), doc.get('ticket'), doc.get('extension')),
            ('answer', int(cid), int(tid), '101'))
    t.check('  ...and no caller number in it', ev and '0312340077' not in ev, ev)
    t.equal("sv1's stream: no call event", call_event(sv_es), None)
    op_es.close()
    sv_es.close()
    zammad(port, {'event': 'hangup', 'callId': 'tg-1', 'direction': 'in'})
    env.sql(f"UPDATE call SET state = 'done' WHERE call_id = 'tg-1'")


def refusals(env, d, port):
    st, _ = zammad(port, {'event': 'newCall', 'callId': 'x1', 'from': '1', 'to': '2',
                          'direction': 'in'}, token='wrong-secret-0123456789')
    t.equal('a wrong token in the URL: 403', st, 403)
    st, _ = post(port, '/cti/zammad/pbx1', 'event=newCall&callId=x1&direction=in')
    t.equal('no secret at all: 401', st, 401)
    st, _ = zammad(port, {'event': 'newCall', 'callId': 'x1', 'direction': 'in'}, pbx='nosuch')
    t.equal('an unknown PBX: 403', st, 403)
    st, _ = zammad(port, {'event': 'newCall', 'callId': 'x1', 'direction': 'in'},
                   token='other-secret-0123456789')
    t.equal("another PBX's secret: 403", st, 403)
    st, doc = zammad(port, {'event': 'ringing', 'callId': '777', 'direction': 'in'})
    t.check('an unknown event: 400 with its reason', st == 400 and 'unknown event' in doc.get('error', ''),
            f'{st} {doc}')
    t.check('  ...and the log line cti=pbx1/777', d.wait_log('cti=pbx1/777: 400 unknown event', 5),
            d.log_text()[-500:])
    st, _ = zammad(port, {'event': 'newCall', 'direction': 'in'})
    t.equal('no callId: 400', st, 400)
    st, _ = zammad(port, {'event': 'newCall', 'callId': 'x2', 'direction': 'sideways'})
    t.equal('a bad direction: 400', st, 400)
    st, _ = post(port, '/cti/zammad/pbx1/' + SECRET, 'event=newCall&callId=%zz')
    t.equal('a broken form escape: 400', st, 400)
    st, _ = event(port, {'event': 'hold', 'call_id': 'x3', 'at': 'yesterday-ish'})
    t.equal('a malformed time in our JSON: 400', st, 400)
    st, _ = event(port, {'event': 'newCall', 'call_id': 'x4'}, secret='nope')
    t.equal('our JSON with a wrong secret: 403', st, 403)
    t.check("the PBX's secret is in no log line", SECRET not in d.log_text(), 'the log names it')
    t.equal('nothing stored for the refused events',
            row(env, "SELECT count(*) FROM call WHERE call_id IN ('x1', 'x2', 'x3', 'x4', '777')"), ['0'])


def odd_orders(env, d, port):
    st, _ = zammad(port, {'event': 'answer', 'from': '0312340001', 'to': '0355550000',
                          'direction': 'in', 'callId': 'ooo-1', 'answeringNumber': '101'})
    t.equal('answer before its newCall: 200', st, 200)
    t.equal('  ...the call made by the answer, talking, with its ticket',
            row(env, "SELECT state, ticket_id IS NOT NULL, offered_at = answered_at FROM call"
                " WHERE call_id = 'ooo-1'"), ['talking', 't', 't'])
    st, _ = zammad(port, {'event': 'newCall', 'from': '0312340001', 'to': '0355550000',
                          'direction': 'in', 'callId': 'ooo-1', 'user[]': 'Alice'})
    t.equal('  ...the late newCall keeps it talking',
            row(env, "SELECT state, (SELECT count(*) FROM ticket WHERE channel = 'call'"
                " AND id = c.ticket_id), offered_at <= answered_at FROM call c WHERE call_id = 'ooo-1'"),
            ['talking', '1', 't'])
    for ev in ({'event': 'newCall', 'from': '0312340002', 'to': '0355550000', 'direction': 'in', 'callId': 'ooo-2'},
               {'event': 'hangup', 'callId': 'ooo-2', 'cause': 'normalClearing', 'direction': 'in'},
               {'event': 'answer', 'callId': 'ooo-2', 'answeringNumber': '101', 'direction': 'in'}):
        zammad(port, ev)
    t.equal('a hangup before its answer: answered after all, in ACW, with its ticket, not abandoned',
            row(env, "SELECT state, ticket_id IS NOT NULL, answered_at IS NOT NULL FROM call"
                " WHERE call_id = 'ooo-2'"), ['acw', 't', 't'])
    env.sql("UPDATE call SET state = 'done' WHERE call_id IN ('ooo-1', 'ooo-2')")  # out of the way
    st, _ = zammad(port, {'event': 'hangup', 'callId': 'ghost-1', 'cause': 'normalClearing',
                          'from': '0399990000', 'to': '0355550000', 'direction': 'in'})
    t.equal('a hangup for an unknown call: 200', st, 200)
    t.equal('  ...kept as an orphan with its raw event',
            row(env, "SELECT c.state, c.ticket_id IS NULL, e.kind FROM call c JOIN call_event e"
                " ON e.call_id = c.call_id WHERE c.call_id = 'ghost-1'"), ['orphan', 't', 'hangup'])
    t.check('  ...and logged', d.wait_log('cti=pbx1/ghost-1: hangup for a call never offered', 5))
    zammad(port, {'event': 'newCall', 'from': '0311112222', 'to': '0355550000', 'direction': 'in',
                  'callId': 'ab-1'})
    zammad(port, {'event': 'hangup', 'callId': 'ab-1', 'cause': 'cancel', 'direction': 'in'})
    t.equal('an abandoned call: counted, no ticket',
            row(env, "SELECT state, cause, ticket_id IS NULL FROM call WHERE call_id = 'ab-1'"),
            ['abandoned', 'cancel', 't'])


def json_calls(env, port):
    """Three calls of DAY through our JSON events: A answered in 10 s, B in 20 s, C abandoned."""
    def at(s):
        return f'{DAY}T10:00:{s:02d}+09:00' if s < 60 else f'{DAY}T10:{s // 60:02d}:{s % 60:02d}+09:00'
    evs = [
        {'event': 'newCall', 'call_id': 'A', 'at': at(0), 'from': '0312345678', 'dnis': '0311110000',
         'direction': 'in'},
        {'event': 'ivr', 'call_id': 'A', 'at': at(3), 'ivr': '2'},
        {'event': 'answer', 'call_id': 'A', 'at': at(10), 'extension': '101'},
        {'event': 'hold', 'call_id': 'A', 'event_id': 'h1', 'at': at(20)},
        {'event': 'unhold', 'call_id': 'A', 'event_id': 'u1', 'at': at(50)},
        {'event': 'transfer', 'call_id': 'A', 'event_id': 't1', 'at': at(60), 'target': '2100',
         'target_kind': 'department'},
        {'event': 'transfer_back', 'call_id': 'A', 'event_id': 'b1', 'at': at(90)},
        {'event': 'recording', 'call_id': 'A', 'event_id': 'r1', 'at': at(100), 'recording': 'rec/A.wav'},
        {'event': 'hangup', 'call_id': 'A', 'at': at(130), 'cause': 'normalClearing'},
        {'event': 'acw_end', 'call_id': 'A', 'at': at(160)},
        {'event': 'newCall', 'call_id': 'B', 'at': at(200), 'from': '0312345678', 'direction': 'in'},
        {'event': 'answer', 'call_id': 'B', 'at': at(220), 'extension': '101'},
        {'event': 'hangup', 'call_id': 'B', 'at': at(280), 'cause': 'normalClearing'},
        {'event': 'acw_end', 'call_id': 'B', 'at': at(320)},
        {'event': 'newCall', 'call_id': 'C', 'at': at(400), 'from': '0399998888', 'direction': 'in'},
        {'event': 'hangup', 'call_id': 'C', 'at': at(430), 'cause': 'cancel'},
    ]
    ok = True
    for e in evs:
        st, doc = event(port, e)
        ok = ok and st == 200 and doc.get('duplicate') is False
    t.check('our JSON events: all 200, none taken for a duplicate', ok)
    st, doc = event(port, evs[3])
    t.check('a repeated hold (same event_id): 200, duplicate', st == 200 and doc['duplicate'] is True,
            f'{st} {doc}')
    t.equal('call A: IVR 2 to 税金/税務課, DNIS, hold 30 s, one transfer, recording, done',
            row(env, "SELECT c.ivr_choice, t.subject, t.category, c.dnis, c.hold_seconds, c.transfers,"
                " c.transferred_to, c.recording_ref, c.state, extract(epoch FROM c.acw_end_at - c.ended_at)::int"
                " FROM call c JOIN ticket t ON t.id = c.ticket_id WHERE c.call_id = 'A'"),
            ['2', '電話: 税金', '税務課', '0311110000', '30', '1', '2100', 'rec/A.wav', 'done', '30'])
    t.equal("call A's timeline: kinds, no number",
            row(env, "SELECT string_agg(kind || ':' || coalesce(detail, ''), ',' ORDER BY e.id)"
                " FROM ticket_event e JOIN call c ON c.ticket_id = e.ticket_id WHERE c.call_id = 'A'"),
            ['created:call,call_answered:101,call_hold:,call_unhold:,'
             'call_transferred:department,call_transfer_back:,call_ended:normalClearing'])


def stats(env, sv):
    r = sv.get(f'/api/cti/stats?from={DAY}&to={DAY}')
    doc = r.json() or {}
    tot = doc.get('total', {})
    t.equal('stats: offered, answered, within 15 s, abandoned, 放棄呼率',
            [tot.get(k) for k in ('offered', 'answered', 'answered_15s', 'abandoned', 'abandon_rate')],
            [3, 2, 1, 1, 0.3333])
    t.equal('stats: 平均通話時間 (120+60)/2, 平均処理時間 (150+100)/2, hold, transfers',
            [tot.get(k) for k in ('avg_talk_seconds', 'avg_handling_seconds', 'avg_hold_seconds',
                                  'transfers', 'avg_wait_seconds')],
            [90, 125, 15, 1, 15])
    t.equal('stats: by hour (10 JST) and weekday (Wednesday)',
            [(h['hour'], h['offered']) for h in doc.get('by_hour', [])] +
            [(w['isodow'], w['offered']) for w in doc.get('by_weekday', [])] +
            [(x['day'], x['answered']) for x in doc.get('by_day', [])],
            [(10, 3), (3, 3), (DAY, 2)])
    r = sv.get('/api/cti/stats?from=2026-4-1&to=x')
    t.equal('stats: a bad date is 400', r.status, 400)


def restart(env, d, port):
    zammad(port, {'event': 'newCall', 'from': '0366667777', 'to': '0355550000', 'direction': 'in',
                  'callId': 'rs-1'})
    zammad(port, {'event': 'answer', 'callId': 'rs-1', 'answeringNumber': '101', 'direction': 'in'})
    d.stop()
    d = start_ticketd(env, port)
    st, _ = zammad(port, {'event': 'answer', 'callId': 'rs-1', 'answeringNumber': '101',
                          'direction': 'in'})
    t.equal('after a restart: the answer again is a duplicate (200)', st, 200)
    zammad(port, {'event': 'hangup', 'callId': 'rs-1', 'cause': 'normalClearing', 'direction': 'in'})
    t.equal('the call outlives the restart: one row, one ticket, in ACW',
            row(env, "SELECT count(*), count(DISTINCT ticket_id), min(state) FROM call"
                " WHERE call_id = 'rs-1'"), ['1', '1', 'acw'])
    return d


def pick_and_callbacks(env, port, op, vw, earlier):
    zammad(port, {'event': 'newCall', 'from': NUMBER, 'to': '0355550000', 'direction': 'in',
                  'callId': 'pk-1'})
    zammad(port, {'event': 'answer', 'callId': 'pk-1', 'answeringNumber': '101', 'direction': 'in'})
    cid, made = row(env, "SELECT id, ticket_id FROM call WHERE call_id = 'pk-1'")
    r = op.get(f'/api/cti/calls/{cid}')
    doc = r.json() or {}
    t.check('GET /api/cti/calls/ID: no caller number anywhere', r.status == 200 and
            NUMBER not in r.body.decode(), r.body[:300])
    t.equal("  ...the caller's tickets (this one and the earlier one)",
            sorted(x['id'] for x in doc.get('caller_tickets') or []), sorted([int(made), earlier]))
    t.equal('  ...that read is in the contact access log',
            row(env, "SELECT login, action, reason FROM contact_access WHERE reason = 'screen pop'"
                " ORDER BY id DESC LIMIT 1"), ['op1', 'search', 'screen pop'])
    t.equal('viewers may not open a call', vw.get(f'/api/cti/calls/{cid}').status, 403)
    env.sql(f"UPDATE ticket SET status = 'open' WHERE id = {earlier}")
    r = op.request('POST', f'/api/cti/calls/{cid}/ticket', json_body={'ticket_id': earlier})
    t.equal('the operator picks the earlier ticket: 200', r.status, 200)
    t.equal("  ...the call joins it; the answer's ticket is closed into it",
            row(env, f"SELECT c.ticket_id, t.status, t.merged_into FROM call c, ticket t"
                f" WHERE c.call_id = 'pk-1' AND t.id = {made}"), [str(earlier), 'closed', str(earlier)])
    r = op.request('POST', f'/api/cti/calls/{cid}/ticket', json_body={'ticket_id': int(made)})
    t.equal('picking a closed ticket: 409', r.status, 409)
    r = op.request('POST', f'/api/tickets/{earlier}/callbacks',
                   json_body={'due_at': '2026-04-02T10:00:00+09:00', 'note': '書類到着後に連絡'})
    t.equal('a callback (折り返し) planned: 201', r.status, 201)
    cb = (r.json() or {}).get('id')
    r = op.request('POST', f'/api/callbacks/{cb}', json_body={'outcome': 'reached'})
    t.equal('  ...its outcome recorded: 200', r.status, 200)
    r = op.request('POST', f'/api/callbacks/{cb}', json_body={'outcome': 'reached'})
    t.equal('  ...only once: 404', r.status, 404)
    lst = op.get(f'/api/tickets/{earlier}/callbacks').json()['callbacks']
    t.equal('  ...listed with its due time and outcome',
            [(x['due_at'][:19], x['outcome'], x['done_by']) for x in lst],
            [('2026-04-02T01:00:00', 'reached', 'op1')])


def extensions(env, ad, op):
    uid = row(env, "SELECT id FROM app_user WHERE login = 'sv1'")[0]
    r = ad.request('PUT', '/api/admin/cti/extensions',
                   json_body={'pbx': 'pbx1', 'extension': '102', 'user_id': int(uid),
                              'interface': 'PJSIP/102'})
    t.equal('an admin maps extension 102 to sv1: 200', r.status, 200)
    lst = ad.get('/api/admin/cti/extensions').json()['extensions']
    t.equal('  ...listed', [(x['extension'], x['login'], x['interface']) for x in lst],
            [('101', 'op1', 'PJSIP/101'), ('102', 'sv1', 'PJSIP/102')])
    r = ad.request('PUT', '/api/admin/cti/extensions',
                   json_body={'pbx': 'nosuch', 'extension': '103', 'user_id': int(uid)})
    t.equal('  ...an unknown PBX is 400', r.status, 400)
    t.equal('operators may not edit the mapping',
            op.request('PUT', '/api/admin/cti/extensions', json_body={}).status, 403)


def purge(env):
    tid = row(env, "SELECT ticket_id FROM call WHERE call_id = 'rs-1'")[0]
    env.sql(f"UPDATE ticket SET purged_at = now() WHERE id = {tid}")
    t.equal("a purged ticket's call loses its numbers and raw events, keeps its times",
            row(env, "SELECT c.from_number, c.to_number, c.answered_at IS NOT NULL, count(e.id),"
                " bool_and(e.raw = '{\"purged\": true}') FROM call c JOIN call_event e"
                " ON e.pbx = c.pbx AND e.call_id = c.call_id WHERE c.call_id = 'rs-1'"
                " GROUP BY c.from_number, c.to_number, c.answered_at"), ['', '', 't', '3', 't'])
    n = row(env, "SELECT call_purge_unticketed(now() + interval '1 s')")
    t.equal('calls without a ticket (ghost-1, ab-1, C, out-1) purged by age',
            (n, sorted(tuple(r) for r in env.sql("SELECT call_id, from_number FROM call WHERE ticket_id IS NULL"))),
            (['4'], [('C', ''), ('ab-1', ''), ('ghost-1', ''), ('out-1', '')]))


def main():
    with mdg.Env('cti-webhook') as env:
        port = setup(env)
        d = start_ticketd(env, port)
        clients = {}
        for login, role, pw, _ in USERS:
            c = Client(port)
            c.login(login, pw)
            clients[role] = c
        earlier = zammad_flow(env, port, clients['operator'])
        outbound(env, port)
        pop_target(env, port, clients)
        refusals(env, d, port)
        odd_orders(env, d, port)
        json_calls(env, port)
        stats(env, clients['supervisor'])
        d = restart(env, d, port)
        for login, role, pw, _ in USERS:
            clients[role].login(login, pw)
        pick_and_callbacks(env, port, clients['operator'], clients['viewer'], earlier)
        extensions(env, clients['admin'], clients['operator'])
        purge(env)
    return t.done()


if __name__ == '__main__':
    sys.exit(main())
