#!/usr/bin/python3
"""Department escalation through real servers (issue 6).

Private PostgreSQL, dovecot (IMAPS) with ingest-mail, ticketd, escalationd and
postfix's smtp-sink.  An admin loads the department directory from CSV (a bad
line refused with its number and nothing stored; a second load updates).  A
citizen's mail with an attachment arrives in dovecot; the operator records the
inquiry summary and escalates to 区民課 > 住民記録係:

- the proposed mail names the department and carries the summary, not the
  citizen's name or address; a phone number typed in is refused (422 with the
  finding); an attachment not ticked is refused; the escalation is 201 with
  token E-<year>-00001, the ticket escalated; a second one to the same
  department while it is open: 409 with the token;
- the mail at the sink: subject "[#E-...#] ...", From the liaison address, To
  both liaison addresses, plain text, no attachment, no citizen detail;
- the department answers from its own domain with the token in the subject
  and no In-Reply-To (as 無害化 leaves it): the answer is on the ticket as a
  department answer, the escalation closed 'answered' by 'department', the
  ticket back to open;
- to 環境課: a mail with its token from another domain is not its answer (a new
  ticket; the escalation stays open); the department's reply to the
  escalation mail with 【直接連絡】 and no token closes it as
  department_contacts;
- a third escalation closed by the operator as cancelled: the ticket open
  again; closing it twice: 409.

Run: /usr/bin/python3 tests/integration/test_escalation.py
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

t = mdg.Checks('escalation')
CITIZEN = 'jiro.kitamura@example.jp'
CITIZEN_NAME = '北村 次郎'
LIAISON = 'renraku@city.example.lg.jp'
JUMIN = ['jumin@ward.example.lg.jp', 'jumin-2@ward.example.lg.jp']
KANKYO = 'kankyo@kankyo.example.lg.jp'
SUMMARY = '転出届の郵送手続きに必要な書類と返送先を知りたい。'
CSV = ('課,係,メール,課長メール,電話\r\n'
       f'区民課,住民記録係,"{JUMIN[0]}; {JUMIN[1]}",kacho@ward.example.lg.jp,03-0000-0001\r\n'
       f'環境課,,{KANKYO},,\r\n')
YEAR = time.strftime('%Y', time.gmtime(time.time() + 9 * 3600))


def mail(sender, subject, body, headers=None, attach=None):
    m = EmailMessage()
    m['From'] = sender
    m['To'] = 'madoguchi@city.example.lg.jp'
    m['Subject'] = subject
    m['Date'] = formatdate(time.time(), localtime=True)
    m['Message-ID'] = f'<{time.time_ns()}.esc@example.jp>'
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    if attach:
        m.add_attachment(attach, maintype='application', subtype='pdf', filename='転出届.pdf')
    return bytes(m).replace(b'\n', b'\r\n')


def ticket_of(env, marker, timeout=20):
    hexm = marker.encode().hex()
    r = mdg.wait_for(lambda: env.sql(
        "SELECT coalesce(ticket_id::text, '') FROM inbound_item"
        f" WHERE state = 'done' AND position(decode('{hexm}', 'hex') in raw) > 0"), timeout)
    return int(r[0][0]) if r and r[0][0] else None


def sink_mail(env, sink, out_id, token):
    """the mail of escalation token at the sink, once escalationd has recorded out_id sent
    (the sink's files are in no particular order)"""
    mdg.wait_for(lambda: env.sql(f"SELECT 1 FROM outbound_mail WHERE id = {out_id} AND state = 'sent'"), 30)

    def find():
        for raw in sink.messages():
            m = email.message_from_bytes(raw, policy=email.policy.default)
            if f'[#{token}#]' in str(m['Subject']):
                return m, raw
        return None
    return mdg.wait_for(find, 30) or (None, b'')


def directory(env, ad):
    r = ad.request('POST', '/api/admin/departments/import', body=(CSV + '土木課,,not-an-address,,\r\n').encode(),
                   headers={'Content-Type': 'text/csv; charset=utf-8'})
    t.equal('CSV with a bad line: 400 with its line, nothing stored',
            (r.status, r.json(), env.sql('SELECT count(*) FROM department')),
            (400, {'error': 'mail: "not-an-address" is not a plain address', 'line': 4}, [['0']]))
    r = ad.request('POST', '/api/admin/departments/import', body=('\ufeff' + CSV).encode(),
                   headers={'Content-Type': 'text/csv'})
    t.equal('CSV import (with a BOM): two added', (r.status, r.json()), (200, {'added': 2, 'updated': 0}))
    r = ad.request('POST', '/api/admin/departments/import', body=CSV.encode(), headers={'Content-Type': 'text/csv'})
    t.equal('the same CSV again: two updated', (r.status, r.json()), (200, {'added': 0, 'updated': 2}))
    deps = ad.get('/api/departments').json()['departments']
    t.equal('the directory', [(d['path'], d['mail'], d['head_mail'], d['phone'], d['enabled']) for d in deps],
            [('区民課 > 住民記録係', JUMIN, 'kacho@ward.example.lg.jp', '03-0000-0001', True),
             ('環境課', [KANKYO], None, '', True)])
    r = ad.request('POST', '/api/admin/departments', json_body={'name': '環境課', 'mail': [KANKYO]})
    t.equal('the same name and section again: 409', r.status, 409)
    r = ad.request('PUT', f'/api/admin/departments/{deps[1]["id"]}', json_body={'phone': '03-0000-0002'})
    t.equal('PUT changes the field given', (r.status, r.json()['phone'], r.json()['mail']),
            (200, '03-0000-0002', [KANKYO]))
    return deps[0]['id'], deps[1]['id']


def escalate_first(env, op, sink, tid, jumin):
    r = op.request('POST', f'/api/tickets/{tid}/escalate/render', json_body={'department_id': jumin})
    d = r.json() or {}
    t.equal('render: to the liaison addresses, from the centre', (r.status, d.get('to'), d.get('from')),
            (200, JUMIN, LIAISON))
    t.check('render: the department and the summary in the text, no citizen detail',
            '住民記録係' in d.get('body', '') and SUMMARY in d.get('body', '') and CITIZEN not in d.get('body', '')
            and CITIZEN_NAME not in d.get('body', '') and f'受付番号 {tid}' in d.get('subject', ''), d)
    att = d.get('attachments') or []
    t.equal('render lists the ticket\'s attachment to choose', [a['filename'] for a in att], ['転出届.pdf'])
    base = {'department_id': jumin, 'subject': d.get('subject'), 'body': d.get('body')}
    r = op.request('POST', f'/api/tickets/{tid}/escalate',
                   json_body=dict(base, body=d.get('body', '') + '\n折り返し先 03-1234-5678\n'))
    f = (r.json() or {}).get('findings') or []
    t.equal('a phone number typed in: 422 with the finding', (r.status, [(x['field'], x['kind'], x['text']) for x in f]),
            (422, [('body', 'phone', '03-1234-5678')]))
    one = {'message_id': att[0]['message_id'], 'idx': att[0]['idx']} if att else {}
    r = op.request('POST', f'/api/tickets/{tid}/escalate', json_body=dict(base, attachments=[one]))
    t.equal('an attachment not ticked: 422', r.status, 422)
    r = op.request('POST', f'/api/tickets/{tid}/escalate', json_body=base)
    e = r.json() or {}
    token = f'E-{YEAR}-00001'
    t.equal('escalated: 201, the token, the ticket escalated',
            (r.status, e.get('token'), e.get('ticket_status'), e.get('to')), (201, token, 'escalated', JUMIN))
    r = op.request('POST', f'/api/tickets/{tid}/escalate', json_body=base)
    t.equal('again while open: 409 with the open one', (r.status, (r.json() or {}).get('escalation', {}).get('token')),
            (409, token))
    m, raw = sink_mail(env, sink, e.get('outbound_id'), token)
    if m is None:
        t.fail('the escalation reached the relay', env.daemons[-1].log_text()[-2000:])
        return e
    t.equal('at the sink: subject with the token', m['Subject'], f'[#{token}#] ' + d.get('subject', ''))
    t.equal('From the liaison address, To both liaison addresses',
            ([a for _, a in getaddresses([str(m['From'])])], [a for _, a in getaddresses([str(m['To'])])]),
            ([LIAISON], JUMIN))
    t.equal('plain text, no attachment', (m.get_content_type(), len(list(m.iter_attachments()))), ('text/plain', 0))
    t.equal('the body as sent', m.get_content().replace('\r\n', '\n'), d.get('body', '').rstrip('\n') + '\n')
    t.check('no citizen detail anywhere in the mail', CITIZEN.encode() not in raw and
            CITIZEN_NAME not in m.get_content(), raw[:400])
    return e


def department_answers(env, dove, op, tid, e, jumin):
    token = e.get('token')
    dove.append(mail(f'住民記録係 <{JUMIN[1]}>', f'RE: [#{token}#] 確認依頼', '郵送の場合は転出届と本人確認書類の写しが必要です。\nmarker-dept-1\n'))
    got = ticket_of(env, 'marker-dept-1')
    t.equal('the department\'s answer lands on the ticket', got, tid)
    row = env.sql(f"SELECT state, closed_by, answer_message_id = (SELECT max(id) FROM message WHERE ticket_id = {tid}),"
                  f" next_reminder_at IS NULL FROM escalation WHERE token = '{token}'")
    t.equal('the escalation is closed as answered by the department', row, [['answered', 'department', 't', 't']])
    t.equal('the message is marked as the department\'s answer',
            env.sql(f"SELECT count(*) FROM message m JOIN escalation e ON e.id = m.escalation_id WHERE e.token = '{token}'"),
            [['1']])
    t.equal('the ticket is back with the centre', env.sql(f'SELECT status FROM ticket WHERE id = {tid}'), [['open']])
    t.equal('the timeline says so', env.sql(f"SELECT kind, detail FROM ticket_event WHERE ticket_id = {tid}"
                                            " ORDER BY id DESC LIMIT 1"), [['department_in', f'{token} answered']])
    lst = op.get(f'/api/tickets/{tid}/escalations').json()['escalations']
    msgs = op.get(f'/api/tickets/{tid}').json()['messages']
    t.equal('GET ticket: escalation_id on the answer alone (null on the others)',
            [(m['direction'], m['escalation_id']) for m in msgs],
            [('in', None), ('out', None), ('in', lst[0]['id'] if lst else -1)])
    t.equal('GET escalations', [(x['token'], x['department']['path'], x['state'], x['closed_by']) for x in lst],
            [(token, '区民課 > 住民記録係', 'answered', 'department')])


def second_department(env, dove, op, sink, tid, kankyo):
    r = op.request('POST', f'/api/tickets/{tid}/escalate', json_body={
        'department_id': kankyo, 'subject': '確認のお願い', 'body': '分別区分の確認をお願いします。\n'})
    e = r.json() or {}
    token = f'E-{YEAR}-00002'
    t.equal('to 環境課: 201, the next token', (r.status, e.get('token')), (201, token))
    m, raw = sink_mail(env, sink, e.get('outbound_id'), token)
    msgid = str(m['Message-ID']) if m else ''
    dove.append(mail(f'他人 <someone@example.jp>', f'Re: [#{token}#] 確認のお願い', 'なりすまし\nmarker-spoof\n'))
    other = ticket_of(env, 'marker-spoof')
    t.check('the token from another domain is not the answer: a new ticket', other and other != tid, other)
    t.equal('and the escalation stays open', env.sql(f"SELECT state FROM escalation WHERE token = '{token}'"), [['open']])
    dove.append(mail(f'環境課 <{KANKYO}>', '【直接連絡】Re: 確認のお願い', '区民の方へ直接ご連絡します。\nmarker-dept-2\n',
                     headers={'In-Reply-To': msgid, 'References': msgid}))
    t.equal('a reply to the escalation mail lands on the ticket', ticket_of(env, 'marker-dept-2'), tid)
    t.equal('【直接連絡】 closes it as department_contacts',
            env.sql(f"SELECT state, closed_by FROM escalation WHERE token = '{token}'"),
            [['department_contacts', 'department']])


def operator_closes(env, op, tid, jumin):
    r = op.request('POST', f'/api/tickets/{tid}/escalate', json_body={
        'department_id': jumin, 'subject': '再確認', 'body': '再度ご確認ください。\n'})
    e = r.json() or {}
    t.equal('a third escalation: 201, escalated', (r.status, e.get('ticket_status')), (201, 'escalated'))
    r = op.request('POST', f'/api/escalations/{e.get("escalation_id")}/close', json_body={'outcome': 'maybe'})
    t.equal('close with an unknown outcome: 400', r.status, 400)
    r = op.request('POST', f'/api/escalations/{e.get("escalation_id")}/close', json_body={'outcome': 'cancelled'})
    t.equal('closed as cancelled by the operator', (r.status, (r.json() or {}).get('state'), (r.json() or {}).get('closed_by')),
            (200, 'cancelled', 'op1'))
    t.equal('the ticket is open again', env.sql(f'SELECT status FROM ticket WHERE id = {tid}'), [['open']])
    r = op.request('POST', f'/api/escalations/{e.get("escalation_id")}/close', json_body={'outcome': 'answered'})
    t.equal('closing twice: 409', r.status, 409)
    st = op.get(f'/api/escalations/stats?from={YEAR}-01-01&to={YEAR}-12-31').json()
    t.equal('the report per department: sent, outcomes, open, reminders',
            [(d['department'], d['sent'], d['answered'], d['department_contacts'], d['cancelled'], d['open'],
              d['reminders'], d['avg_answer_seconds'] is not None) for d in st['departments']],
            [('区民課 > 住民記録係', 2, 1, 0, 1, 0, 0, True), ('環境課', 1, 0, 1, 0, 0, 0, True)])
    t.equal('the report: bad dates 400', op.get('/api/escalations/stats?from=x&to=y').status, 400)
    t.equal('unknown escalation: 404',
            op.request('POST', '/api/escalations/99999/close', json_body={'outcome': 'answered'}).status, 404)


def main():
    with mdg.Env('escalation') as env:
        env.start_db()
        dove = mdg.Dovecot(env).start()
        sink = mdg.SmtpSink(env).start()
        port = mdg.free_port()
        s = {'ticketd.listen': f'127.0.0.1:{port}', 'mail.from_addr': 'madoguchi@city.example.lg.jp',
             'mail.liaison_addr': LIAISON, 'mail.message_id_domain': 'city.example.lg.jp',
             'escalation.smtp_host': '127.0.0.1', 'escalation.smtp_port': str(sink.port),
             'escalation.smtp_retry_min_seconds': '1'}
        s.update(dove.ingest_settings())
        env.write_config(**s)
        env.add_user('op1', 'operator', 'operator-pass-1', 'オペレーター 一号')
        env.add_user('ad1', 'admin', 'admin-pass-1', '管理者')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        env.start('escalationd')
        try:
            if not mdg.wait_for(lambda: ticketd_http._listening(port), 10):
                raise RuntimeError('ticketd did not start')
            op, ad = ticketd_http.Client(port), ticketd_http.Client(port)
            op.login('op1', 'operator-pass-1')
            ad.login('ad1', 'admin-pass-1')
            jumin, kankyo = directory(env, ad)
            dove.append(mail(f'{CITIZEN_NAME} <{CITIZEN}>', '転出の手続き', '郵送で転出届を出したいです。\nmarker-citizen\n',
                             attach=b'%PDF-1.4\n% tenshutsu\n'))
            tid = ticket_of(env, 'marker-citizen')
            t.check('the citizen mail is a ticket', tid)
            r = op.request('PUT', f'/api/tickets/{tid}/case', json_body={'inquiry_summary': SUMMARY})
            t.equal('the inquiry summary recorded', r.status, 200)
            e = escalate_first(env, op, sink, tid, jumin)
            department_answers(env, dove, op, tid, e, jumin)
            second_department(env, dove, op, sink, tid, kankyo)
            operator_closes(env, op, tid, jumin)
            t.check('ticketd still running', tick.alive())
        except Exception as ex:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(ex).__name__}: {ex}')
            print('# --- ticketd log tail ---\n' + tick.log_text()[-2500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
