#!/usr/bin/python3
"""ticketd's AMI client against the AMI replay server (issue 9; ticketd/cti_ami.c).

Debian 12 has no Asterisk, so tests/tools/ami_replay.py speaks AMI as the
Asterisk documentation gives it and replays the conversations of
tests/tools/ami/: a full queue call (IVR choice by VarSet, queue, agent
101, hold, hang-up), an abandoned call, a blind transfer to a department
extension and an attended transfer to an outside number, and a call that
outlives both a dropped AMI connection and a restart of ticketd.  Checked:
the exact Login action, the call rows and their events after each part,
one answer stored although AgentConnect and BridgeEnter both say so, the
operator's own consult channel is no call, QueuePause Paused: true on the
answer and Paused: false only when the last of the operator's calls has its
case record saved, the pauses set again after every log-in, the figures.

Run: MDG_BUILD=build /usr/bin/python3 tests/integration/test_cti_ami.py
"""
import os
import re
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'tools'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ami_replay import AmiReplay  # noqa: E402
from ticketd_http import USERS, Client  # noqa: E402

t = mdg.Checks('cti_ami')
FIX = os.path.join(HERE, '..', 'tools', 'ami')
SCRIPTS = [os.path.join(FIX, n + '.ami') for n in ('queue_call', 'abandoned', 'transfer', 'restart')]
CALL1, ABANDON, BLIND, ATTENDED, RESTART = ('1775005200.1', '1775005500.11', '1775005800.21',
                                           '1775006100.31', '1775006400.41')


def listening(port):
    try:
        socket.create_connection(('127.0.0.1', port), 0.2).close()
        return True
    except OSError:
        return False


def start_ticketd(env, port):
    d = env.start('ticketd')
    if not mdg.wait_for(lambda: listening(port), 10):
        raise RuntimeError('ticketd did not start:\n' + d.log_text()[-3000:])
    return d


def row(env, q):
    r = env.sql(q)
    return r[0] if r else None


def state(env, cid):
    r = row(env, f"SELECT state FROM call WHERE pbx = 'ast1' AND call_id = '{cid}'")
    return r[0] if r else None


def pauses(ami):
    """(Interface, Paused) of every QueuePause received, in order"""
    return [(a.get('Interface'), a.get('Paused')) for a in list(ami.actions)
            if a.get('Action') == 'QueuePause']


def setup(env, ami_port):
    env.start_db()
    port = mdg.free_port()
    env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'ticketd.cti_ami_host': '127.0.0.1',
                        'ticketd.cti_ami_port': str(ami_port), 'ticketd.cti_ami_user': 'madoguchi',
                        'ticketd.cti_ami_secret': 'ami-secret-1', 'ticketd.cti_ami_pbx': 'ast1',
                        'ticketd.cti_ami_queue': 'madoguchi'})
    for login, role, pw, disp in USERS:
        env.add_user(login, role, pw, disp)
    env.sql("""
INSERT INTO call_pbx (name, secret) VALUES ('ast1', 'asterisk-secret-0123456789');
INSERT INTO call_extension (pbx, extension, user_id, interface, updated_by, updated_at)
  SELECT 'ast1', '101', id, 'PJSIP/101', 'test', now() FROM app_user WHERE login = 'op1';
INSERT INTO call_ivr (pbx, choice, label, queue, category)
  VALUES ('ast1', '2', '税金', 'general', '税務課'), ('ast1', '1', '住民票', 'general', '区民課');
""")
    return port


def queue_call(env, ami, op):
    t.check('ticketd logs in', mdg.wait_for(lambda: ami.logins >= 1, 10))
    login = next((r for r in ami.raw_actions if r.startswith(b'Action: Login')), b'')
    t.equal('the Login action byte for byte', login,
            b'Action: Login\r\nActionID: mdg-login\r\nUsername: madoguchi\r\nSecret: ami-secret-1\r\n'
            b'Events: on\r\n\r\n')
    t.check('after the log-in the member is set from PostgreSQL (idle: unpaused)',
            mdg.wait_for(lambda: pauses(ami)[:1] == [('PJSIP/101', 'false')], 5), pauses(ami))
    t.check('the queue call is answered and held', mdg.wait_for(
        lambda: row(env, f"SELECT hold_seconds FROM call WHERE call_id = '{CALL1}'") == ['30'], 10))
    t.equal('call 1: caller, DNIS, IVR 2, queue, agent 101 = op1, its ticket 税金/税務課, times (JST)',
            row(env, "SELECT c.state, c.from_number, c.dnis, c.ivr_choice, c.queue, c.extension, u.login,"
                " t.subject, t.category, to_char(c.offered_at AT TIME ZONE 'Asia/Tokyo', 'HH24:MI:SS'),"
                " to_char(c.answered_at AT TIME ZONE 'Asia/Tokyo', 'HH24:MI:SS') FROM call c"
                f" JOIN app_user u ON u.id = c.user_id JOIN ticket t ON t.id = c.ticket_id WHERE c.call_id = '{CALL1}'"),
            ['talking', '0312345678', '0311110000', '2', 'madoguchi', '101', 'op1', '電話: 税金', '税務課',
             '10:00:00', '10:00:12'])
    t.equal('QueuePause Paused: true on the answer, with the queue and the reason', pauses(ami)[1:2],
            [('PJSIP/101', 'true')])
    raw = [r for r in ami.raw_actions if r.startswith(b'Action: QueuePause')][1:2]
    t.check('  ...byte for byte', raw and re.fullmatch(
        rb'Action: QueuePause\r\nActionID: mdg-pause-\d+\r\nInterface: PJSIP/101\r\nPaused: true\r\n'
        rb'Queue: madoguchi\r\nReason: ACW\r\n\r\n', raw[0]), raw)
    ami.release('hangup-1')


def after_rest(env, ami):
    t.check('the abandoned and transferred calls arrive', mdg.wait_for(
        lambda: state(env, ATTENDED) == 'acw' and state(env, BLIND) == 'acw', 10),
        [state(env, c) for c in (ABANDON, BLIND, ATTENDED)])
    t.equal('call 1 hung up: after-call work, ended 10:01:40',
            row(env, "SELECT state, cause, to_char(ended_at AT TIME ZONE 'Asia/Tokyo', 'HH24:MI:SS')"
                f" FROM call WHERE call_id = '{CALL1}'"), ['acw', 'Normal Clearing', '10:01:40'])
    t.equal('call 1: its events, the answer once (AgentConnect; BridgeEnter ignored)',
            row(env, f"SELECT string_agg(kind, ',' ORDER BY id) FROM call_event WHERE call_id = '{CALL1}'"),
            ['newCall,ivr,queue,answer,hold,unhold,hangup'])
    t.equal('the abandoned call: counted, IVR 1, no ticket',
            row(env, f"SELECT state, ivr_choice, ticket_id IS NULL FROM call WHERE call_id = '{ABANDON}'"),
            ['abandoned', '1', 't'])
    t.equal('the blind transfer: to department extension 2100',
            row(env, "SELECT c.transfers, c.transferred_to, e.detail FROM call c JOIN ticket_event e"
                f" ON e.ticket_id = c.ticket_id AND e.kind = 'call_transferred' WHERE c.call_id = '{BLIND}'"),
            ['1', '2100', 'department'])
    t.equal('the attended transfer: to the outside number',
            row(env, "SELECT c.transfers, c.transferred_to, e.detail FROM call c JOIN ticket_event e"
                f" ON e.ticket_id = c.ticket_id AND e.kind = 'call_transferred' WHERE c.call_id = '{ATTENDED}'"),
            ['1', '0312349999', 'external'])
    t.equal("the operator's consult channel is no call",
            row(env, "SELECT count(*) FROM call WHERE call_id = '1775006100.33'"), ['0'])


def unpause(env, ami, op):
    tickets = {c: row(env, f"SELECT ticket_id FROM call WHERE call_id = '{c}'")[0]
               for c in (CALL1, BLIND, ATTENDED)}
    n = len(pauses(ami))
    for c in (CALL1, BLIND):
        r = op.request('PUT', f'/api/tickets/{tickets[c]}/case', json_body={'inquiry_summary': '相談'})
        t.equal(f'the case record of {c} saved', r.status, 200)
    t.equal('  ...those calls done', [state(env, CALL1), state(env, BLIND)], ['done', 'done'])
    t.check('  ...still paused: the operator has another call in after-call work',
            not mdg.wait_for(lambda: len(pauses(ami)) > n, 1.5), pauses(ami)[n:])
    op.request('PUT', f'/api/tickets/{tickets[ATTENDED]}/case', json_body={'inquiry_summary': '相談'})
    t.check('the last case saved: QueuePause Paused: false',
            mdg.wait_for(lambda: pauses(ami)[n:] == [('PJSIP/101', 'false')], 5), pauses(ami)[n:])


def restart(env, ami, d, port):
    ami.release('restart-begin')
    t.check('the PBX drops the connection; ticketd logs in again', mdg.wait_for(lambda: ami.logins >= 2, 10))
    t.check('  ...and the call goes on: answered', mdg.wait_for(lambda: state(env, RESTART) == 'talking', 10))
    t.check('  ...paused for it', mdg.wait_for(lambda: pauses(ami)[-1:] == [('PJSIP/101', 'true')], 5))
    d.stop()
    n = len(pauses(ami))
    d = start_ticketd(env, port)
    t.check('ticketd restarted logs in once more', mdg.wait_for(lambda: ami.logins >= 3, 10))
    t.check('  ...and sets the pause again from the call in PostgreSQL',
            mdg.wait_for(lambda: pauses(ami)[n:] == [('PJSIP/101', 'true')], 5), pauses(ami)[n:])
    ami.release('restart')
    t.check('the hang-up after the restart', mdg.wait_for(lambda: state(env, RESTART) == 'acw', 10))
    t.equal('  ...one call row, one ticket, all its events',
            row(env, f"SELECT count(DISTINCT c.id), count(DISTINCT c.ticket_id), (SELECT string_agg(kind, ','"
                f" ORDER BY id) FROM call_event WHERE call_id = '{RESTART}') FROM call c WHERE c.call_id = '{RESTART}'"),
            ['1', '1', 'newCall,queue,answer,hangup'])
    t.check('the dropped connection was logged', d.wait_log('ami=ast1: connection to 127.0.0.1', 5))
    return d


def stats(sv):
    tot = (sv.get('/api/cti/stats?from=2026-04-01&to=2026-04-01').json() or {}).get('total', {})
    t.equal('the figures of the AMI calls: offered, answered, within 15 s, abandoned',
            [tot.get(k) for k in ('offered', 'answered', 'answered_15s', 'abandoned', 'transfers')],
            [5, 4, 4, 1, 2])


def main():
    ami = AmiReplay(SCRIPTS)
    ami_port = ami.start()
    with mdg.Env('cti-ami') as env:
        try:
            port = setup(env, ami_port)
            d = start_ticketd(env, port)
            op, sv = Client(port), Client(port)
            op.login('op1', 'operator-pass-1')
            sv.login('sv1', 'supervisor-pass-1')
            queue_call(env, ami, op)
            after_rest(env, ami)
            unpause(env, ami, op)
            d = restart(env, ami, d, port)
            stats(sv)
        finally:
            ami.stop()
    return t.done()


if __name__ == '__main__':
    sys.exit(main())
