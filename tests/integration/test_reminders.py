#!/usr/bin/python3
"""Reminders (催促) to a department that does not answer an escalation (issue 6),
through real servers: private PostgreSQL, dovecot (IMAPS) with ingest-mail, ticketd,
escalationd and postfix's smtp-sink; every daemon on a pinned clock.

- Friday 2026-11-20 15:00 JST a citizen's mail is escalated to 区民課 > 住民記録係 (the
  ward's calendar: Mon-Fri 8:30-17:15, 11/23 勤労感謝の日): the mail at the sink carries
  no contact detail; escalationd plans the first reminder for Tuesday 11/24 10:00 (not
  Monday, a holiday).
- A reminder made due on the holiday (11/23 09:00, escalationd at 12:00) is not sent:
  it waits for Tuesday 10:00; one due Tuesday 08:00, found at 08:10 before the opening,
  likewise; escalationd at 09:59:59 sends nothing.
- Tuesday 10:00: one reminder at the sink, subject "[#E-2026-00001#] 【催促】" and the
  original subject, From the liaison address, To the liaison addresses, no Cc,
  In-Reply-To and References the escalation mail's Message-ID, plain text, no
  attachment, no contact detail; the escalation counts 1, next Wednesday 10:00; the
  timeline has reminder_queued.  A restart the same day sends nothing more.
- Wednesday 10:00: the second, with the head of section in Cc (reminder_head_after = 2).
- The department answers into dovecot; the escalation is answered, next_reminder_at
  NULL, and Thursday 10:00 sends nothing.
- 環境課 has its own calendar (Mon-Fri 10:30-16:00), escalated Friday too: first reminder
  planned Tuesday 10:30; found due at 16:00 (closed) it waits for Wednesday 10:30; at
  Thursday 10:00 (before its opening) it waits for 10:30, and goes then.

Run: /usr/bin/python3 tests/integration/test_reminders.py
"""
import calendar
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

t = mdg.Checks('reminders')
CITIZEN = 'hanako.minami@example.jp'
CITIZEN_NAME = '南 花子'
CITIZEN_PHONE = '090-1111-2222'
LIAISON = 'renraku@city.example.lg.jp'
JUMIN = ['jumin@ward.example.lg.jp', 'jumin-2@ward.example.lg.jp']
HEAD = 'kacho@ward.example.lg.jp'
TOKEN = 'E-2026-00001'
KANKYO = 'kankyo@kankyo.example.lg.jp'
TOKEN2 = 'E-2026-00002'


def jst(y, mo, d, h, mi, s=0):
    """seconds since the epoch of a Tokyo wall time"""
    return calendar.timegm((y, mo, d, h, mi, s)) - 9 * 3600


def iso_utc(secs):
    return time.strftime('%Y-%m-%d %H:%M:%S+00', time.gmtime(secs))


def mail(sender, subject, body, headers=None):
    m = EmailMessage()
    m['From'] = sender
    m['To'] = 'madoguchi@city.example.lg.jp'
    m['Subject'] = subject
    m['Date'] = formatdate(time.time(), localtime=True)
    m['Message-ID'] = f'<{time.time_ns()}.rem@example.jp>'
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    return bytes(m).replace(b'\n', b'\r\n')


def ticket_of(env, marker, timeout=20):
    hexm = marker.encode().hex()
    r = mdg.wait_for(lambda: env.sql(
        "SELECT coalesce(ticket_id::text, '') FROM inbound_item"
        f" WHERE state = 'done' AND position(decode('{hexm}', 'hex') in raw) > 0"), timeout)
    return int(r[0][0]) if r and r[0][0] else None


class World:
    def __init__(self, env, sink):
        self.env, self.sink = env, sink
        self.esc = None

    def escalationd(self, at):
        """(re)start escalationd pinned at the instant at; wait for its first sweep"""
        if self.esc is not None:
            self.esc.stop()
        before = self.esc.log_text().count('started (pid') if self.esc else 0
        self.esc = self.env.start('escalationd', extra_env={'MADOGUCHI_PINNED_NOW': str(at)})
        # one log file for every start: wait for this one's line
        if not mdg.wait_for(lambda: self.esc.log_text().count('started (pid') > before, 10):
            raise RuntimeError('escalationd did not start: ' + self.esc.log_text()[-800:])
        time.sleep(1.5)  # its first turn: plan, remind, send (a few milliseconds here)
        return self.esc

    def sql(self, q):
        return self.env.sql(q)

    def reminders(self):
        return self.sql("SELECT count(*) FROM outbound_mail WHERE kind = 'reminder'")[0][0]

    def sink_mails(self, needle):
        out = []
        for raw in self.sink.messages():
            m = email.message_from_bytes(raw, policy=email.policy.default)
            if needle in str(m['Subject']):
                out.append((m, raw))
        return out

    def wait_sent(self, n):
        return mdg.wait_for(lambda: self.sql(
            "SELECT count(*) FROM outbound_mail WHERE kind = 'reminder' AND state = 'sent'")[0][0] == str(n), 20)


def setup_directory(w, ad):
    r = ad.request('POST', '/api/admin/departments', json_body={
        'name': '区民課', 'section': '住民記録係', 'mail': JUMIN, 'head_mail': HEAD, 'phone': '03-0000-0001'})
    t.equal('the department added', r.status, 201)
    r2 = ad.request('POST', '/api/admin/departments', json_body={'name': '環境課', 'mail': [KANKYO]})
    # 環境課 keeps its own hours: Mon-Fri 10:30-16:00
    w.sql("INSERT INTO calendar (name, kind) VALUES ('環境課', 'department');"
          "INSERT INTO calendar_hours (calendar_id, weekday, opens, closes) SELECT c.id, d, '10:30', '16:00'"
          " FROM calendar c, generate_series(1, 5) d WHERE c.name = '環境課';"
          f"UPDATE department SET calendar_id = (SELECT id FROM calendar WHERE name = '環境課')"
          f" WHERE id = {(r2.json() or {}).get('id', 0)}")
    return (r.json() or {}).get('id'), (r2.json() or {}).get('id')


def next_of(w, token, at):
    return w.sql(f"SELECT next_reminder_at = '{iso_utc(at)}' FROM escalation WHERE token = '{token}'")


def escalate_kankyo(w, op, tid, dept):
    r = op.request('POST', f'/api/tickets/{tid}/escalate', json_body={
        'department_id': dept, 'subject': '分別区分の確認', 'body': '分別区分の確認をお願いします。\n'})
    t.equal('escalated to 環境課 (its own calendar) too', (r.status, (r.json() or {}).get('token')), (201, TOKEN2))
    t.check('its first reminder: Tuesday at its opening, 10:30',
            mdg.wait_for(lambda: next_of(w, TOKEN2, jst(2026, 11, 24, 10, 30)) == [['t']], 10))


def escalate(w, op, tid, dept):
    r = op.request('POST', f'/api/tickets/{tid}/escalate/render', json_body={'department_id': dept})
    d = r.json() or {}
    r = op.request('POST', f'/api/tickets/{tid}/escalate', json_body={
        'department_id': dept, 'subject': d.get('subject'), 'body': d.get('body')})
    e = r.json() or {}
    t.equal('escalated Friday 15:00: 201 with the token', (r.status, e.get('token')), (201, TOKEN))
    mdg.wait_for(lambda: w.sql(f"SELECT 1 FROM outbound_mail WHERE id = {e.get('outbound_id')} AND state = 'sent'"), 20)
    got = mdg.wait_for(lambda: w.sink_mails(f'[#{TOKEN}#]'), 20) or []
    m, raw = got[0] if got else (None, b'')
    t.check('the escalation mail at the sink, without contact details',
            m is not None and CITIZEN.encode() not in raw and CITIZEN_NAME not in m.get_content()
            and CITIZEN_PHONE not in m.get_content(), raw[:300])
    planned = mdg.wait_for(lambda: w.sql(
        f"SELECT reminder_planned, next_reminder_at = '{iso_utc(jst(2026, 11, 24, 10, 0))}', reminders"
        f" FROM escalation WHERE token = '{TOKEN}' AND reminder_planned"), 10)
    t.equal('planned: the first reminder Tuesday 11/24 10:00 (Monday is a holiday)', planned, [['t', 't', '0']])
    return (m, d.get('subject', ''))


def closed_times(w):
    w.sql(f"UPDATE escalation SET next_reminder_at = '{iso_utc(jst(2026, 11, 23, 9, 0))}' WHERE token = '{TOKEN}'")
    moved = (f"SELECT 1 FROM escalation WHERE token = '{TOKEN}'"
             f" AND next_reminder_at = '{iso_utc(jst(2026, 11, 24, 10, 0))}'")
    w.escalationd(jst(2026, 11, 23, 12, 0))
    t.equal('due on the holiday: nothing sent, moved to Tuesday 10:00',
            (w.reminders(), mdg.wait_for(lambda: w.sql(moved), 15)), ('0', [['1']]))
    w.sql(f"UPDATE escalation SET next_reminder_at = '{iso_utc(jst(2026, 11, 24, 8, 0))}' WHERE token = '{TOKEN}'")
    w.escalationd(jst(2026, 11, 24, 8, 10))
    t.equal('due Tuesday 08:00, found at 08:10 before the opening: nothing, moved to 10:00',
            (w.reminders(), mdg.wait_for(lambda: w.sql(moved), 15)), ('0', [['1']]))
    w.escalationd(jst(2026, 11, 24, 9, 59, 59))
    t.equal('09:59:59: nothing yet', w.reminders(), '0')


def first_reminder(w, esc_mail, subject):
    w.escalationd(jst(2026, 11, 24, 10, 0))
    t.check('Tuesday 10:00: the reminder is sent', w.wait_sent(1), w.esc.log_text()[-1500:])
    got = w.sink_mails('【催促】')
    t.equal('one reminder at the sink', len(got), 1)
    if not got or esc_mail is None:
        return
    m, raw = got[0]
    t.equal('subject: token, 【催促】, the original subject', str(m['Subject']),
            f'[#{TOKEN}#] 【催促】' + subject)
    t.equal('From the liaison address, To the liaison addresses, no Cc',
            ([a for _, a in getaddresses([str(m['From'])])], [a for _, a in getaddresses([str(m['To'])])],
             m['Cc']), ([LIAISON], JUMIN, None))
    t.equal('In-Reply-To and References: the escalation mail',
            (str(m['In-Reply-To']), str(m['References'])), (str(esc_mail['Message-ID']),) * 2)
    t.equal('plain text, no attachment', (m.get_content_type(), len(list(m.iter_attachments()))), ('text/plain', 0))
    body = m.get_content()
    t.check('the body: token, ticket, how to answer; no contact detail',
            f'[#{TOKEN}#]' in body and '催促回数：1回目' in body and '返信してください' in body
            and '2026年11月20日 15:00' in body and '経過日数：4日（開庁日 1日）' in body
            and CITIZEN not in body and CITIZEN_NAME not in body and CITIZEN.encode() not in raw, body)
    t.equal('the escalation: 1 reminder, last now, next Wednesday 10:00, no head copy',
            w.sql(f"SELECT reminders, last_reminder_at = '{iso_utc(jst(2026, 11, 24, 10, 0))}',"
                  f" next_reminder_at = '{iso_utc(jst(2026, 11, 25, 10, 0))}', head_copied_at IS NULL"
                  f" FROM escalation WHERE token = '{TOKEN}'"), [['1', 't', 't', 't']])
    t.equal('the timeline: reminder_queued',
            w.sql("SELECT e.actor, e.detail FROM ticket_event e WHERE kind = 'reminder_queued'"),
            [['system', f'{TOKEN} 1回目']])
    t.equal('the message row: out, on the ticket, subject and In-Reply-To',
            w.sql("SELECT m.direction, m.subject, m.in_reply_to = x.message_id_hdr, m.delivery_state"
                  " FROM outbound_mail o JOIN message m ON m.id = o.message_id JOIN escalation e"
                  f" ON e.ticket_id = m.ticket_id AND e.token = '{TOKEN}' JOIN message x ON x.id = e.message_id WHERE o.kind = 'reminder'"),
            [['out', f'[#{TOKEN}#] 【催促】' + subject, 't', 'sent']])
    w.escalationd(jst(2026, 11, 24, 16, 0))
    t.check('16:00: 環境課 (due 10:30, closed from 16:00) waits for Wednesday 10:30',
            mdg.wait_for(lambda: next_of(w, TOKEN2, jst(2026, 11, 25, 10, 30)) == [['t']], 15))
    t.equal('a restart Tuesday 16:00: nothing more', w.reminders(), '1')


def second_reminder(w):
    w.escalationd(jst(2026, 11, 25, 10, 0))
    t.check('Wednesday 10:00: the second reminder', w.wait_sent(2), w.esc.log_text()[-1500:])
    got = [m for m, _ in w.sink_mails('【催促】') if '催促回数：2回目' in m.get_content()]
    t.equal('with the head of section in Cc', [getaddresses([str(m['Cc'])])[0][1] for m in got if m['Cc']], [HEAD])
    t.equal('head_copied_at set, next Thursday 10:00',
            w.sql(f"SELECT reminders, head_copied_at = '{iso_utc(jst(2026, 11, 25, 10, 0))}',"
                  f" next_reminder_at = '{iso_utc(jst(2026, 11, 26, 10, 0))}' FROM escalation WHERE token = '{TOKEN}'"),
            [['2', 't', 't']])
    t.equal('the timeline says the head was copied',
            w.sql("SELECT detail FROM ticket_event WHERE kind = 'reminder_queued' ORDER BY id DESC LIMIT 1"),
            [[f'{TOKEN} 2回目（責任者にCc）']])
    t.equal('its envelope: the liaison addresses and the head',
            w.sql("SELECT rcpt FROM outbound_mail WHERE kind = 'reminder' ORDER BY id DESC LIMIT 1"),
            [['{' + ','.join(JUMIN + [HEAD]) + '}']])


def answer(w, dove, tid):
    # a reply to the last reminder whose subject lost the token: In-Reply-To alone finds the escalation
    mid = w.sql("SELECT m.message_id_hdr FROM message m JOIN outbound_mail o ON o.message_id = m.id"
                " WHERE o.kind = 'reminder' ORDER BY m.id DESC LIMIT 1")[0][0]
    dove.append(mail(f'住民記録係 <{JUMIN[0]}>', 'RE: 【催促】確認依頼', '回答します。\nmarker-answer\n',
                     headers={'In-Reply-To': f'<{mid}>', 'References': f'<{mid}>'}))
    t.equal('the answer (a reply to the reminder, token lost) lands on the ticket',
            ticket_of(w.env, 'marker-answer'), tid)
    t.equal('the escalation answered, no next reminder',
            w.sql(f"SELECT state, next_reminder_at IS NULL FROM escalation WHERE token = '{TOKEN}'"),
            [['answered', 't']])
    w.escalationd(jst(2026, 11, 26, 10, 0))
    t.check('Thursday 10:00: 環境課, due, is not open before 10:30: it waits',
            mdg.wait_for(lambda: next_of(w, TOKEN2, jst(2026, 11, 26, 10, 30)) == [['t']], 15))
    t.equal('Thursday 10:00: no reminder after the answer, none before the opening', w.reminders(), '2')
    time.sleep(1)
    t.equal('the sink holds two reminders', len(w.sink_mails('【催促】')), 2)
    w.escalationd(jst(2026, 11, 26, 10, 30))
    t.check('Thursday 10:30: 環境課\'s first reminder', w.wait_sent(3), w.esc.log_text()[-1500:])
    got = w.sink_mails(f'[#{TOKEN2}#] 【催促】')
    t.equal('to 環境課, subject with its token, no Cc',
            [([a for _, a in getaddresses([str(m['To'])])], str(m['Subject']), m['Cc']) for m, _ in got],
            [([KANKYO], f'[#{TOKEN2}#] 【催促】分別区分の確認', None)])
    t.equal('its next: Friday 10:30', next_of(w, TOKEN2, jst(2026, 11, 27, 10, 30)), [['t']])


def bad_template(w):
    """a reminder text with a variable escalationd does not know: it refuses to start"""
    path = os.path.join(w.env.root, 'etc', 'bad-reminder.txt')
    with open(path, 'w') as f:
        f.write('{{department}} ご担当者様\n連絡先 {{citizen.phone}}\n')
    w.esc.stop()
    w.env.write_config(**{'escalation.reminder_template': path})
    d = w.env.start('escalationd')
    rc = d.proc.wait(10)
    d.stop()
    t.check('a reminder text with an unknown variable: escalationd does not start, and says why',
            rc != 0 and f'escalation.reminder_template: {path}: unknown variable {{{{citizen.phone}}}}' in d.log_text(),
            (rc, d.log_text()[-300:]))


def main():
    friday = jst(2026, 11, 20, 15, 0)
    pin = {'MADOGUCHI_PINNED_NOW': str(friday)}
    with mdg.Env('reminders') as env:
        env.start_db()
        dove = mdg.Dovecot(env).start()
        sink = mdg.SmtpSink(env).start()
        port = mdg.free_port()
        s = {'ticketd.listen': f'127.0.0.1:{port}', 'mail.from_addr': 'madoguchi@city.example.lg.jp',
             'mail.liaison_addr': LIAISON, 'mail.message_id_domain': 'city.example.lg.jp',
             'escalation.smtp_host': '127.0.0.1', 'escalation.smtp_port': str(sink.port),
             'escalation.smtp_retry_min_seconds': '1', 'escalation.reminder_head_after': '2',
             'escalation.reminder_max': '3'}
        s.update(dove.ingest_settings())
        env.write_config(**s)
        env.add_user('op1', 'operator', 'operator-pass-1', 'オペレーター 一号')
        env.add_user('ad1', 'admin', 'admin-pass-1', '管理者')
        env.start('ingest-mail', extra_env=pin)
        tick = env.start('ticketd', extra_env=pin)
        w = World(env, sink)
        try:
            w.escalationd(friday)
            if not mdg.wait_for(lambda: ticketd_http._listening(port), 10):
                raise RuntimeError('ticketd did not start')
            op, ad = ticketd_http.Client(port), ticketd_http.Client(port)
            op.login('op1', 'operator-pass-1')
            ad.login('ad1', 'admin-pass-1')
            dept, kankyo = setup_directory(w, ad)
            dove.append(mail(f'{CITIZEN_NAME} <{CITIZEN}>', '住民票の郵送請求',
                             f'郵送で住民票を請求したいです。電話 {CITIZEN_PHONE}\nmarker-citizen\n'))
            tid = ticket_of(env, 'marker-citizen')
            t.check('the citizen mail is a ticket', tid)
            op.request('PUT', f'/api/tickets/{tid}/case', json_body={'inquiry_summary': '住民票の郵送請求の方法'})
            esc_mail, subject = escalate(w, op, tid, dept)
            escalate_kankyo(w, op, tid, kankyo)
            closed_times(w)
            first_reminder(w, esc_mail, subject)
            second_reminder(w)
            answer(w, dove, tid)
            bad_template(w)
            t.check('ticketd still running', tick.alive())
        except Exception as ex:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(ex).__name__}: {ex}')
            if w.esc is not None:
                print('# --- escalationd log tail ---\n' + w.esc.log_text()[-2500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
