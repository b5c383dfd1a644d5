#!/usr/bin/python3
"""The whole mail round trip through real servers: a citizen's mail arrives
in dovecot, ingest-mail (IMAPS, pinned) brings it in, the operator answers it
from the ticket with a template over ticketd's API, escalationd hands the
reply to postfix's smtp-sink, and the citizen's answer to that reply, sent
back into dovecot, lands on the same ticket.

The reply is read back out of the sink with Python's email package (a
second parser): decoded subject with the ticket tag, From/To, no Bcc,
In-Reply-To and References pointing at the citizen's mail, the body byte
for byte as the operator sent it.  Then three answers come back:
- with In-Reply-To set to the reply's Message-ID: joins the ticket, reopens it;
- with only the subject tag, from the same address: joins it too;
- with the subject tag from another address: a new ticket (a tag alone is
  never enough: anyone can type one).
"""
import email
import email.policy
import os
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate, getaddresses

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
sys.path.insert(0, os.path.dirname(__file__))
import mdg  # noqa: E402
import ticketd_http  # noqa: E402

t = mdg.Checks('e2e_thread')
CITIZEN = 'hanako.kuwata@example.jp'
DESK = 'kucho-soudan@city.example.lg.jp'
FROM_ADDR = 'madoguchi@city.example.lg.jp'
TAG = '[受付番号:%d]'


def citizen_mail(subject, body, sender=CITIZEN, headers=None):
    m = EmailMessage()
    m['From'] = f'桑田 花子 <{sender}>'
    m['To'] = DESK
    m['Subject'] = subject
    m['Date'] = formatdate(time.time(), localtime=True)
    m['Message-ID'] = f'<{time.time_ns()}.citizen@example.jp>'
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    return m['Message-ID'].strip('<>'), bytes(m).replace(b'\n', b'\r\n')


def ticket_of(env, marker, timeout=20):
    hexm = marker.encode().hex()
    r = mdg.wait_for(lambda: env.sql(
        "SELECT coalesce(ticket_id::text, '') FROM inbound_item"
        f" WHERE state = 'done' AND position(decode('{hexm}', 'hex') in raw) > 0"), timeout)
    return r[0][0] if r else None


def sink_parsed(sink, n, timeout=30):
    got = mdg.wait_for(lambda: sink.messages() if len(sink.messages()) >= n else None, timeout)
    if not got:
        return []
    out = []
    for raw in got:
        # smtp-sink -d writes the mail as it came, after its own trace lines
        out.append(email.message_from_bytes(raw, policy=email.policy.default))
    return out


def main():
    with mdg.Env('e2e_thread') as env:
        env.start_db()
        dove = mdg.Dovecot(env).start()
        sink = mdg.SmtpSink(env).start()
        port = mdg.free_port()
        s = {'ticketd.listen': f'127.0.0.1:{port}', 'ticketd.send_delay_seconds': '1',
             'ticketd.subject_tag': TAG, 'mail.from_addr': FROM_ADDR,
             'mail.from_name': '区役所 区民相談窓口', 'mail.message_id_domain': 'city.example.lg.jp',
             'escalation.smtp_host': '127.0.0.1', 'escalation.smtp_port': str(sink.port),
             'escalation.smtp_retry_min_seconds': '1'}
        s.update(dove.ingest_settings())
        env.write_config(**s)
        env.add_user('op1', 'operator', 'operator-pass-1', 'オペレーター 一号')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        env.start('escalationd')
        if not mdg.wait_for(lambda: ticketd_http._listening(port), 10):
            raise RuntimeError('ticketd did not start:\n' + tick.log_text()[-3000:])

        # 1. the citizen writes
        cid, raw = citizen_mail('粗大ごみの出し方について', '冷蔵庫を捨てたいのですが、どうすればよいですか。\nmarker-first\n')
        dove.append(raw)
        tid = ticket_of(env, 'marker-first')
        t.check('the citizen mail became a ticket', tid, tid)
        if not tid:
            return

        # 2. the operator answers with a template
        op = ticketd_http.Client(port)
        t.equal('operator logs in', op.login('op1', 'operator-pass-1').status, 200)
        tk = op.get(f'/api/tickets/{tid}').json()
        last_in = max(m['id'] for m in tk['messages'] if m['direction'] == 'in')
        tpl = op.get('/api/templates').json()
        names = [x['name'] for x in tpl['templates']]
        t.check('templates are offered', len(names) >= 1, names)
        r = op.request('POST', f'/api/tickets/{tid}/reply/render', json_body={'template': names[0]})
        t.check('render answers 200', r.status == 200, f'{r.status} {r.body[:300]!r}')
        draft = r.json() or {}
        t.equal('the draft is addressed to the citizen, with the name she gave', draft.get('to'),
                [f'桑田 花子 <{CITIZEN}>'])
        body = draft.get('body', '') + '\n\n冷蔵庫は家電リサイクル法の対象です。販売店にご相談ください。\nmarker-reply\n'
        req = {'to': draft.get('to'), 'cc': [], 'bcc': [], 'subject': draft.get('subject'), 'body': body,
               'attachments': [], 'confirmed_recipients': draft.get('to'), 'confirmed_attachments': [],
               'replying_to': last_in}
        r = op.request('POST', f'/api/tickets/{tid}/reply', json_body=req)
        t.check('reply queued (201) for the citizen alone', r.status == 201 and (r.json() or {}).get('rcpt') == [CITIZEN],
                f'{r.status} {r.body[:300]!r}')

        # 3. escalationd delivers it to the relay after the cancel window
        # the relay has the whole mail once escalationd recorded its 250 (smtp-sink
        # writes the file while the DATA comes in: read earlier, it can be cut short)
        sent = mdg.wait_for(lambda: env.sql(f"SELECT 1 FROM outbound_mail WHERE ticket_id = {tid}"
                                            " AND state = 'sent'"), 30)
        t.check('escalationd recorded the relay accepting the reply', sent)
        msgs = sink_parsed(sink, 1)
        t.equal('exactly one mail reached the relay', len(msgs), 1)
        if not msgs:
            print(env.daemons[-1].log_text()[-2000:])
            return
        m = msgs[0]
        t.equal('subject: decoded, tagged once', m['Subject'], f'Re: {TAG % int(tid)} 粗大ごみの出し方について')
        t.equal('From', [a for a in getaddresses([str(m['From'])])], [('区役所 区民相談窓口', FROM_ADDR)])
        t.equal('To', [a for _, a in getaddresses([str(m['To'])])], [CITIZEN])
        t.check('no Bcc header', m['Bcc'] is None)
        t.equal('In-Reply-To is the citizen mail', str(m['In-Reply-To']).strip(), f'<{cid}>')
        t.check('References end with the citizen mail', str(m['References']).split()[-1] == f'<{cid}>',
                str(m['References']))
        t.check('Date header present', m['Date'] is not None)
        got_body = m.get_body(('plain',)).get_content()
        t.equal('body byte for byte (CRLF to LF)', got_body.replace('\r\n', '\n'),
                body if body.endswith('\n') else body + '\n')
        out_id = str(m['Message-ID']).strip().strip('<>')
        row = env.sql(f"SELECT m.message_id_hdr, m.delivery_state, o.state, o.attempts FROM message m"
                      f" JOIN outbound_mail o ON o.message_id = m.id WHERE m.ticket_id = {tid}")
        t.equal('the stored reply is the sent one, marked sent', row, [[out_id, 'sent', 'sent', '1']])

        # 4. the citizen answers the reply: In-Reply-To
        _, raw = citizen_mail('Re: ' + str(m['Subject']),
                              'ありがとうございました。販売店に聞いてみます。\nmarker-answer1\n',
                              headers={'In-Reply-To': f'<{out_id}>', 'References': f'<{cid}> <{out_id}>'})
        dove.append(raw)
        t.equal('the answer by In-Reply-To lands on the same ticket', ticket_of(env, 'marker-answer1'), tid)
        st = env.sql(f'SELECT status, has_new_reply FROM ticket WHERE id = {tid}')
        t.equal('the ticket shows a new reply and is open again', st, [['open', 't']])

        # 5. only the subject tag, same sender (a client that drops the headers)
        _, raw = citizen_mail(f'{TAG % int(tid)} 追加の質問', '洗濯機も同じですか。\nmarker-answer2\n')
        dove.append(raw)
        t.equal('the answer by subject tag from the same address joins the ticket',
                ticket_of(env, 'marker-answer2'), tid)

        # 6. the tag from someone else opens a new ticket
        _, raw = citizen_mail(f'{TAG % int(tid)} 便乗', '別人です。\nmarker-other\n', sender='someone@example.net')
        dove.append(raw)
        other = ticket_of(env, 'marker-other')
        t.check('a tag from another address opens its own ticket', other and other != tid, other)

        n = env.sql(f"SELECT direction, count(*) FROM message WHERE ticket_id = {tid} GROUP BY 1 ORDER BY 1")
        t.equal('the ticket holds the three citizen mails and the one reply', n, [['in', '3'], ['out', '1']])
        t.equal('still exactly one mail at the relay', len(sink.messages()), 1)


if __name__ == '__main__':
    try:
        main()
    except Exception as e:  # a crash is a failure, with its reason
        t.check('test ran to the end', False, repr(e))
    t.done()
