#!/usr/bin/python3
"""escalationd delivers outbound_mail rows through real SMTP servers.

PostgreSQL is a private cluster (mdg.Env); the relays are postfix's
smtp-sink (plain SMTP; it can refuse commands and stall) and, for STARTTLS
with certificate checks and AUTH, Debian's aiosmtpd with a self-signed
certificate.  Rows are inserted the way ticketd queues a reply: a ticket, a
message (direction 'out', delivery_state 'queued') and an outbound_mail row
with the exact bytes, then NOTIFY outbound.

Checked with exact values: the bytes the relay received, the envelope, the
row (state, attempts, sent_at, smtp_reply, last_error), the message's
delivery state and note, and the ticket's timeline; the cancel window; a
relay that is down and comes back (delivered once); a 5xx refusal (dead);
requeue with madoguchi-admin; kill -9 in the middle of a send; the
certificate decision before AUTH (wrong pin, untrusted, pinned, CA file)."""
import base64
import email.message
import email.policy
import os
import re
import signal
import ssl
import sys
import threading
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mdg  # noqa: E402

t = mdg.Checks('sender')
warnings.filterwarnings('ignore', message='Session.login_data')
FROM = 'noreply@city.example.jp'
BODY_JA = '住民票の写しについてお問い合わせいただきありがとうございます。\n' \
          '窓口は平日8時30分から17時15分まで開いております。\n'


def build_raw(subject, to, tag):
    """A reply as lib/mailout would build it: CRLF, a Japanese base64 body,
    and a part whose lines start with dots (dot-stuffing must be undone
    exactly by the relay)."""
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m['From'] = f'区役所 窓口 <{FROM}>'
    m['To'] = ', '.join(to)
    m['Subject'] = subject
    m['Message-ID'] = f'<{tag}@city.example.jp>'
    m['Date'] = 'Sun, 22 Nov 2026 10:00:00 +0900'
    m.set_content(BODY_JA, charset='utf-8', cte='base64')
    m.add_attachment('.a line that starts with a dot\n..two dots\n.\nend\n', subtype='plain',
                     cte='7bit', filename='dots.txt')
    raw = m.as_bytes()
    assert b'\r\n.a line' in raw and b'\r\n.\r\n' in raw and raw.endswith(b'\r\n')
    return raw


def sql_text(s):
    return "'" + s.replace("'", "''") + "'"


def queue(env, raw, rcpt, delay_s=0.0, env_from=FROM):
    """ticket + message + outbound_mail, as ticketd writes them; returns (ticket, message, out)"""
    tid = env.sql("INSERT INTO ticket (channel, subject, created_at, updated_at) VALUES "
                  "('mail', 'test', now() - interval '1 hour', now() - interval '1 hour') "
                  "RETURNING id")[0][0]
    mid = env.sql(f"INSERT INTO message (ticket_id, direction, subject, parse_state, created_at,"
                  f" delivery_state) VALUES ({tid}, 'out', 'test', 'ok', now(), 'queued') "
                  f"RETURNING id")[0][0]
    arr = 'ARRAY[' + ','.join(sql_text(r) for r in rcpt) + ']::text[]'
    oid = env.sql(f"INSERT INTO outbound_mail (message_id, ticket_id, env_from, rcpt, raw,"
                  f" not_before, created_at) VALUES ({mid}, {tid}, {sql_text(env_from)}, {arr},"
                  f" decode('{raw.hex()}', 'hex'), now() + interval '{delay_s} seconds', now())"
                  f" RETURNING id")[0][0]
    env.sql("SELECT pg_notify('outbound', '')")
    return tid, mid, oid


def out_row(env, oid):
    cols = ('state', 'attempts', 'sent', 'smtp_reply', 'last_error', 'requeued_by')
    r = env.sql("SELECT state, attempts, sent_at IS NOT NULL, coalesce(smtp_reply, '<null>'),"
                f" coalesce(last_error, '<null>'), coalesce(requeued_by, '<null>')"
                f" FROM outbound_mail WHERE id = {oid}")[0]
    return dict(zip(cols, r))


def msg_state(env, mid):
    return tuple(env.sql("SELECT coalesce(delivery_state, '<null>'),"
                         f" coalesce(delivery_note, '<null>') FROM message WHERE id = {mid}")[0])


def events(env, tid):
    return [tuple(r) for r in env.sql("SELECT kind, coalesce(detail, '<null>') FROM ticket_event"
                                      f" WHERE ticket_id = {tid} ORDER BY id")]


def wait_state(env, oid, state, timeout=15):
    return mdg.wait_for(lambda: out_row(env, oid)['state'] == state, timeout, 0.1)


def parse_dump(data):
    """smtp-sink -d: its own header lines, the three-line Received header,
    then the mail with LF line ends, then one empty line"""
    head, rest = {}, data
    lines = data.split(b'\n')
    i = 0
    while not lines[i].startswith(b'Received: '):
        k, _, v = lines[i].partition(b': ')
        head.setdefault(k.decode(), []).append(v.decode())
        i += 1
    i += 3  # Received: ... / \tby ... id X; / \tdate
    recv_id = re.search(rb'id ([0-9a-f]+);', lines[i - 2]).group(1).decode()
    rest = b'\n'.join(lines[i:])
    return head, recv_id, rest


def sink_mails(sink):
    return [parse_dump(d) for d in sink.messages()]


def lf(raw):
    return raw.replace(b'\r\n', b'\n') + b'\n'  # smtp-sink adds an empty line


def sender_config(env, port, **more):
    s = {'escalation.smtp_host': '127.0.0.1', 'escalation.smtp_port': str(port),
         'escalation.smtp_security': 'none', 'escalation.smtp_user': '',
         'escalation.smtp_password_file': '', 'escalation.smtp_pin_sha256': '',
         'escalation.smtp_ca_file': '',
         'escalation.smtp_timeout_seconds': '5', 'escalation.smtp_retry_min_seconds': '1',
         'escalation.smtp_retry_max_seconds': '2', 'escalation.smtp_lease_seconds': '30',
         'escalation.rescan_seconds': '30', 'escalation.smtp_helo_name': 'madoguchi.test'}
    s.update(more)
    env.write_config(**s)


def reload(env, esc, port, **more):
    sender_config(env, port, **more)
    mark = esc.log_text().count('configuration reloaded')
    esc.signal(signal.SIGHUP)
    return mdg.wait_for(lambda: esc.log_text().count('configuration reloaded') > mark, 5)


def part_delivery(env, esc, sink):
    to = ['taro.yamada@example.jp', 'hanako@example.ne.jp']
    raw = build_raw('Re: 住民票の写しについて [#1]', to, 'd1')
    tid, mid, oid = queue(env, raw, to)
    t.check('delivered', wait_state(env, oid, 'sent'), str(out_row(env, oid)))
    time.sleep(0.3)
    mails = sink_mails(sink)
    t.equal('the relay got exactly one mail', len(mails), 1)
    if not mails:
        return
    head, recv_id, body = mails[0]
    t.equal('envelope sender', head.get('X-Mail-Args'), [f'<{FROM}>'])
    t.equal('envelope recipients, in order', head.get('X-Rcpt-Args'), [f'<{r}>' for r in to])
    t.equal('EHLO says escalation.smtp_helo_name', head.get('X-Helo-Args'), ['madoguchi.test'])
    t.check('the stored bytes are what was queued (dot lines unstuffed, nothing added)',
            body == lf(raw), f'{body[-120:]!r} vs {lf(raw)[-120:]!r}')
    r = out_row(env, oid)
    t.equal('row: sent after one attempt, no error',
            (r['state'], r['attempts'], r['sent'], r['last_error']), ('sent', '1', 't', '<null>'))
    t.equal('smtp_reply is the relay\'s answer to the final dot', r['smtp_reply'], '250 2.0.0 Ok')
    t.equal('message: sent, no note', msg_state(env, mid), ('sent', '<null>'))
    t.equal('timeline: mail_sent with the reply', events(env, tid),
            [('mail_sent', r['smtp_reply'])])
    same = env.sql("SELECT t.updated_at = o.sent_at, e.at = o.sent_at FROM ticket t, outbound_mail o,"
                   f" ticket_event e WHERE t.id = {tid} AND o.id = {oid} AND e.ticket_id = {tid}")
    t.equal('ticket.updated_at and the event are the sending instant', same, [['t', 't']])


def part_cancel_window(env, esc, sink):
    to = ['window@example.jp']
    raw = build_raw('cancel window', to, 'w1')
    before = len(sink.messages())
    tid, mid, oid = queue(env, raw, to, delay_s=4)
    time.sleep(2)
    t.equal('inside the cancel window: not sent, not touched',
            (len(sink.messages()), out_row(env, oid)['state'], out_row(env, oid)['attempts']),
            (before, 'queued', '0'))
    t.check('sent once the window closed', wait_state(env, oid, 'sent', 8))
    late = env.sql("SELECT sent_at >= created_at + interval '4 seconds',"
                   " sent_at < created_at + interval '6 seconds'"
                   f" FROM outbound_mail WHERE id = {oid}")
    t.equal('sent when not_before passed (within 2 s, without a NOTIFY)', late, [['t', 't']])
    time.sleep(0.3)
    t.equal('one more mail at the relay', len(sink.messages()), before + 1)


def part_relay_down(env, esc, sink):
    sink.stop()
    to = ['down@example.jp']
    raw = build_raw('relay down', to, 'r1')
    before = len(sink.messages())
    tid, mid, oid = queue(env, raw, to)
    ok = mdg.wait_for(lambda: int(out_row(env, oid)['attempts']) >= 3, 15, 0.1)
    r = out_row(env, oid)
    t.check('relay down: attempts count up', ok, str(r))
    want = (f'connect: cannot connect to 127.0.0.1:{sink.port}: '
            'connection refused or timed out')
    t.equal('relay down: queued with the error', (r['state'], r['last_error']), ('queued', want))
    t.equal('relay down: the message shows queued with the error', msg_state(env, mid),
            ('queued', want))
    t.equal('relay down: one mail_retry on the timeline, not one per attempt', events(env, tid),
            [('mail_retry', want)])
    sink.start()
    t.check('relay back: delivered', wait_state(env, oid, 'sent', 10), str(out_row(env, oid)))
    time.sleep(0.3)
    mine = [m for m in sink_mails(sink) if m[2] == lf(raw)]
    t.equal('relay back: exactly one copy', (len(mine), len(sink.messages())), (1, before + 1))
    r = out_row(env, oid)
    t.equal('relay back: sent, the last error kept for the record', (r['state'], r['last_error']),
            ('sent', want))
    t.equal('relay back: message sent, note cleared', msg_state(env, mid), ('sent', '<null>'))
    t.equal('relay back: timeline', [e[0] for e in events(env, tid)], ['mail_retry', 'mail_sent'])


def part_refused_and_requeue(env, esc, sink):
    hard = mdg.SmtpSink(env, ('-f', 'RCPT', '-B', '550 5.1.1 Recipient address rejected: test'),
                        name='sink-refusing').start()
    t.check('SIGHUP: points at the refusing relay', reload(env, esc, hard.port))
    to = ['nobody-here@example.jp', 'nobody-either@example.jp']
    raw = build_raw('refused', to, 'x1')
    tid, mid, oid = queue(env, raw, to)
    t.check('5xx for every recipient: dead', wait_state(env, oid, 'dead', 10), str(out_row(env, oid)))
    want = ('every recipient was refused: '
            'nobody-here@example.jp (550 5.1.1 Recipient address rejected: test); '
            'nobody-either@example.jp (550 5.1.1 Recipient address rejected: test)')
    r = out_row(env, oid)
    t.equal('dead at the first attempt with the relay\'s text',
            (r['attempts'], r['sent'], r['last_error']), ('1', 'f', want))
    t.equal('message: failed with the reason', msg_state(env, mid), ('failed', want))
    t.equal('timeline: mail_dead with the reason', events(env, tid), [('mail_dead', want)])
    t.equal('nothing stored by the refusing relay', hard.messages(), [])

    listing = env.admin('outbound-dead')
    line = [ln for ln in listing.stdout.splitlines() if ln.split()[:1] == [oid]]
    t.check('madoguchi-admin outbound-dead lists it with recipients and error',
            listing.returncode == 0 and len(line) == 1 and line[0].endswith(
                'nobody-here@example.jp, nobody-either@example.jp: ' + want),
            listing.stdout + listing.stderr)
    t.check('SIGHUP: back to the good relay', reload(env, esc, sink.port))
    before = len(sink.messages())
    rq = env.admin('outbound-requeue', oid)
    t.equal('outbound-requeue says so', (rq.returncode, rq.stdout), (0, 'requeued 1 outgoing mail\n'))
    t.check('requeued: sent', wait_state(env, oid, 'sent', 10), str(out_row(env, oid)))
    r = out_row(env, oid)
    t.equal('requeued: attempts from 0, requeued_by the admin',
            (r['attempts'], r['requeued_by'].startswith('madoguchi-admin (')), ('1', True))
    t.equal('requeued: timeline', [e[0] for e in events(env, tid)],
            ['mail_dead', 'mail_requeued', 'mail_sent'])
    time.sleep(0.3)
    t.equal('requeued: one copy at the relay', len(sink.messages()), before + 1)
    again = env.admin('outbound-requeue', oid)
    t.equal('a mail that is not dead is left alone', (again.returncode, again.stdout),
            (0, 'requeued 0 outgoing mails\n'))
    hard.stop()


def part_db_down(env, esc, sink):
    """PostgreSQL stops while the relay takes the mail: the outcome waits in
    memory and is committed once the database is back; sent once"""
    slow = mdg.SmtpSink(env, ('-w', '3'), name='sink-slow-db').start()
    t.check('SIGHUP: points at a relay that pauses before DATA', reload(env, esc, slow.port))
    to = ['dbdown@example.jp']
    raw = build_raw('database down', to, 'b1')
    tid, mid, oid = queue(env, raw, to)
    claimed = mdg.wait_for(lambda: out_row(env, oid)['attempts'] == '1', 5, 0.05)
    time.sleep(0.5)  # the bytes are read; the relay holds DATA for 3 s
    env.pg.stop('fast')
    kept = esc.wait_log(f'out={oid}: the database is away; the outcome (sent) waits in memory', 10)
    t.check('database away after the send: the outcome waits in memory', claimed and kept,
            esc.log_text()[-500:])
    time.sleep(1)
    env.pg.start()
    ok = wait_state(env, oid, 'sent', 15)
    r = out_row(env, oid)
    t.check('database back: the kept outcome is recorded', ok and
            esc.wait_log('recorded 1 outcomes kept while the database was away', 5), str(r))
    t.equal('database back: one attempt, sent, the timeline has it',
            (r['attempts'], r['smtp_reply'], [e[0] for e in events(env, tid)]),
            ('1', '250 2.0.0 Ok', ['mail_sent']))
    time.sleep(1)
    t.equal('database back: exactly one copy at the relay',
            [m[2] == lf(raw) for m in sink_mails(slow)], [True])
    slow.stop()


def part_kill9(env, esc, sink):
    """kill -9 while the relay holds back its answer to DATA (smtp-sink -w):
    the relay stored nothing, and after the lease the next escalationd sends
    it exactly once.  (A kill after the final dot is the at-least-once
    window the README describes: the relay has the mail, the row does not
    know it.)"""
    slow = mdg.SmtpSink(env, ('-w', '3'), name='sink-slow').start()
    t.check('SIGHUP: points at the slow relay', reload(env, esc, slow.port,
            **{'escalation.smtp_lease_seconds': '25'}))
    to = ['killed@example.jp']
    raw = build_raw('kill -9', to, 'k1')
    tid, mid, oid = queue(env, raw, to)
    claimed = mdg.wait_for(lambda: out_row(env, oid)['attempts'] == '1', 5, 0.05)
    time.sleep(1.0)
    esc.kill9()
    r = out_row(env, oid)
    t.check('killed mid-send: the row is queued with its attempt counted',
            claimed and (r['state'], r['attempts']) == ('queued', '1'), str(r))
    time.sleep(3)
    t.equal('killed mid-send: the relay stored nothing', slow.messages(), [])
    esc2 = env.start('escalationd')
    ok = wait_state(env, oid, 'sent', 40)
    t.check('after the lease the restarted escalationd sends it', ok, str(out_row(env, oid)))
    time.sleep(0.5)
    mine = [m for m in sink_mails(slow) if m[2] == lf(raw)]
    t.equal('killed mid-send: exactly one copy in the end', (len(mine), len(slow.messages())), (1, 1))
    t.equal('killed mid-send: two attempts, no error', (out_row(env, oid)['attempts'],
            out_row(env, oid)['last_error']), ('2', '<null>'))
    slow.stop()
    return esc2


class TlsRelay:
    """aiosmtpd with a self-signed certificate, STARTTLS required, AUTH
    required (over TLS only); it refuses recipients named refused@..., and
    records every AUTH command, every login and every mail it takes."""

    PASSWORD = 'relay-password-8f3k'

    def __init__(self, env):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP, AuthResult

        self.dir = os.path.join(env.root, 'tls-relay')
        os.makedirs(self.dir, exist_ok=True)
        self.sha256 = mdg.self_signed_cert(self.dir)
        self.cert = os.path.join(self.dir, 'cert.pem')
        self.port = mdg.free_port()
        self.auth_commands, self.logins, self.mails = [], [], []
        relay = self

        class Recording(SMTP):
            async def smtp_AUTH(self, arg):
                relay.auth_commands.append((arg.split()[0] if arg else '', self._tls_protocol is not None))
                return await super().smtp_AUTH(arg)

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):
                if address.startswith('refused@'):
                    return f'550 5.1.1 <{address}>: no such user here'
                envelope.rcpt_tos.append(address)
                return '250 2.1.5 OK'

            async def handle_DATA(self, server, session, envelope):
                relay.mails.append((envelope.mail_from, list(envelope.rcpt_tos),
                                    envelope.original_content))
                return '250 2.0.0 accepted as tls-%d' % len(relay.mails)

        def authenticator(server, session, envelope, mechanism, data):
            relay.logins.append((mechanism, data.login.decode(), data.password.decode()))
            ok = data.login == b'desk' and data.password.decode() == relay.PASSWORD
            return AuthResult(success=ok)

        class Ctl(Controller):
            def factory(self):
                return Recording(self.handler, **self.SMTP_kwargs)

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, os.path.join(self.dir, 'key.pem'))
        self.ctl = Ctl(Handler(), hostname='127.0.0.1', port=self.port, tls_context=ctx,
                       require_starttls=True, auth_required=True, auth_require_tls=True,
                       authenticator=authenticator)
        env.others.append(self)

    def start(self):
        self.ctl.start()
        return self

    def stop(self):
        self.ctl.stop()

    def settings(self, **more):
        pw = os.path.join(self.dir, 'password')
        with open(pw, 'w') as f:
            f.write(self.PASSWORD + '\n')
        s = {'escalation.smtp_security': 'starttls', 'escalation.smtp_user': 'desk',
             'escalation.smtp_password_file': pw}
        s.update(more)
        return s


def part_tls(env, esc):
    relay = TlsRelay(env).start()
    bad_pin = ':'.join(['ab'] * 32)
    t.check('SIGHUP: STARTTLS relay with a wrong pin',
            reload(env, esc, relay.port, **relay.settings(**{'escalation.smtp_pin_sha256': bad_pin})))
    to = ['citizen@example.jp', 'refused@example.jp']
    raw = build_raw('Re: TLS', to, 't1')
    tid, mid, oid = queue(env, raw, to)
    want = ('TLS: the certificate of 127.0.0.1 is not trusted: its SHA-256 does not match '
            f'escalation.smtp_pin_sha256 (its SHA-256 is {relay.sha256})')
    ok = mdg.wait_for(lambda: out_row(env, oid)['last_error'] != '<null>', 10, 0.1)
    r = out_row(env, oid)
    t.equal('wrong pin: not sent, retried with the reason', (bool(ok), r['state'], r['last_error']),
            (True, 'queued', want))
    t.check('wrong pin: the log says the pin to set',
            f'set escalation.smtp_pin_sha256 = {relay.sha256}' in esc.log_text(), esc.log_text()[-600:])
    t.check('SIGHUP: no pin, the system store', reload(env, esc, relay.port, **relay.settings()))
    ok = mdg.wait_for(lambda: 'self-signed certificate' in out_row(env, oid)['last_error'], 10, 0.1)
    t.equal('untrusted: not sent, the reason', (bool(ok), out_row(env, oid)['state'],
            out_row(env, oid)['last_error']),
            (True, 'queued', 'TLS: the certificate of 127.0.0.1 is not trusted: self-signed '
             f'certificate (at depth 0) (its SHA-256 is {relay.sha256})'))
    t.equal('refused certificates: the relay saw no AUTH and no password, no mail',
            (relay.auth_commands, relay.logins, relay.mails), ([], [], []))

    t.check('SIGHUP: the right pin', reload(env, esc, relay.port, **relay.settings(
        **{'escalation.smtp_pin_sha256': relay.sha256.upper()})))
    t.check('pinned: sent', wait_state(env, oid, 'sent', 10), str(out_row(env, oid)))
    t.equal('pinned: AUTH PLAIN once, over TLS, with the password from the file',
            (relay.auth_commands, relay.logins), ([('PLAIN', True)], [('PLAIN', 'desk', relay.PASSWORD)]))
    t.equal('pinned: envelope (the refused recipient left out by the relay)',
            [(m[0], m[1]) for m in relay.mails], [(FROM, ['citizen@example.jp'])])
    t.check('pinned: the relay got the exact bytes, CRLF and all',
            len(relay.mails) == 1 and relay.mails[0][2] == raw,
            repr(relay.mails[0][2][-80:]) if relay.mails else 'no mail')
    note = ('not delivered to: refused@example.jp '
            '(550 5.1.1 <refused@example.jp>: no such user here)')
    r = out_row(env, oid)
    t.equal('one recipient refused: sent, the refusal in delivery_note',
            (r['state'], r['smtp_reply'], msg_state(env, mid)),
            ('sent', '250 2.0.0 accepted as tls-1', ('sent', note)))
    t.equal('timeline: the first failure and the sending', events(env, tid)[-1],
            ('mail_sent', '250 2.0.0 accepted as tls-1; ' + note))
    t.equal('timeline: kinds', [e[0] for e in events(env, tid)], ['mail_retry', 'mail_sent'])

    t.check('SIGHUP: trust by CA file (the certificate names 127.0.0.1)',
            reload(env, esc, relay.port, **relay.settings(**{'escalation.smtp_ca_file': relay.cert})))
    tid2, mid2, oid2 = queue(env, build_raw('CA', ['ca@example.jp'], 't2'), ['ca@example.jp'])
    t.check('CA file: sent at the first attempt', wait_state(env, oid2, 'sent', 10) and
            out_row(env, oid2)['attempts'] == '1', str(out_row(env, oid2)))

    mark = esc.log_text().count('reload failed')
    sender_config(env, relay.port, **relay.settings(**{'escalation.smtp_security': 'none'}))
    esc.signal(signal.SIGHUP)
    mdg.wait_for(lambda: esc.log_text().count('reload failed') > mark, 5)
    t.check('a password over plain text is refused on reload, the old settings kept',
            'escalation.smtp_user is set but smtp_security is none' in esc.log_text() and esc.alive(),
            esc.log_text()[-400:])
    tid3, mid3, oid3 = queue(env, build_raw('after', ['after@example.jp'], 't3'), ['after@example.jp'])
    t.check('... and mail still goes over TLS', wait_state(env, oid3, 'sent', 10)
            and relay.auth_commands[-1] == ('PLAIN', True), str(relay.auth_commands))
    relay.stop()


def main():
    with mdg.Env('sender') as env:
        env.start_db()
        sink = mdg.SmtpSink(env).start()
        sender_config(env, sink.port)
        esc = env.start('escalationd')
        t.check('escalationd started', esc.wait_log('started', 10), esc.log_text())
        part_delivery(env, esc, sink)
        part_cancel_window(env, esc, sink)
        part_relay_down(env, esc, sink)
        part_refused_and_requeue(env, esc, sink)
        part_db_down(env, esc, sink)
        esc = part_kill9(env, esc, sink)
        part_tls(env, esc)
        bad = [ln for ln in esc.log_text().splitlines() if 'FATAL' in ln or 'out of memory' in ln]
        t.equal('no fatal lines in the log', bad, [])
        t.check('escalationd still running', esc.alive())
    t.done()


if __name__ == '__main__':
    main()
