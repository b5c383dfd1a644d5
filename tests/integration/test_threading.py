#!/usr/bin/python3
"""Threading, automatic mail, delivery reports and loops, through the real
intake (ingest-mail on the Maildir, ticketd, PostgreSQL).

An outgoing reply is put in the database as the reply composer will (a
message row with direction 'out' and its Message-ID); the citizen's answers
then find their ticket by In-Reply-To, by References, or by the subject tag.
"""
import os
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mailgen  # noqa: E402
import mdg  # noqa: E402

t = mdg.Checks('threading')
CITIZEN = 'hanako.kuwata@example.jp'
OUT_ID = 'reply-1.7f3a@madoguchi.city.example.lg.jp'


def mail(subject, body, sender=CITIZEN, headers=None):
    m = EmailMessage()
    m['From'] = f'桑田 花子 <{sender}>'
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Subject'] = subject
    m['Date'] = formatdate(1795000000)
    m['Message-ID'] = f'<{time.time_ns()}@example.jp>'
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    return bytes(m)


def q(env, sql):
    return env.sql(sql)


def wait_item_done(env, marker):
    """wait until the item whose raw contains marker is done; return (ticket_id or '', last_error)"""
    hexm = marker.encode().hex()
    r = mdg.wait_for(lambda: env.sql(
        "SELECT coalesce(ticket_id::text, ''), coalesce(last_error, '') FROM inbound_item"
        f" WHERE state = 'done' AND position(decode('{hexm}', 'hex') in raw) > 0"), 10)
    return tuple(r[0]) if r else (None, None)


def main():
    with mdg.Env('threading') as env:
        env.start_db()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{mdg.free_port()}',
                            'ticketd.sender_limit_per_hour': '5'})
        env.start('ingest-mail')
        env.start('ticketd')

        env.maildir_drop(mail('粗大ごみの申込み', 'first mail marker-A'))
        t1, _ = wait_item_done(env, 'marker-A')
        t.check('first mail opens a ticket', t1, t1)
        env.sql(f"INSERT INTO message (ticket_id, direction, subject, from_addr, to_list, message_id_hdr,"
                f" body_text, parse_state, created_at, delivery_state) VALUES ({t1}, 'out',"
                f" 'Re: [受付番号:{t1}] 粗大ごみの申込み', 'kucho-soudan@city.example.lg.jp', '{CITIZEN}',"
                f" '{OUT_ID}', 'ご連絡ありがとうございます。', 'ok', now(), 'sent');"
                f" UPDATE ticket SET status = 'resolved' WHERE id = {t1}")

        # In-Reply-To
        env.maildir_drop(mail(f'Re: [受付番号:{t1}] 粗大ごみの申込み', 'reply marker-B',
                              headers={'In-Reply-To': f'<{OUT_ID}>'}))
        tb, _ = wait_item_done(env, 'marker-B')
        t.equal('reply by In-Reply-To joins the ticket', tb, t1)
        st = q(env, f'SELECT status, has_new_reply FROM ticket WHERE id = {t1}')
        t.equal('a citizen reply reopens a resolved ticket and is marked new', st, [['open', 't']])
        ev = q(env, f"SELECT kind FROM ticket_event WHERE ticket_id = {t1} ORDER BY id")
        t.equal('timeline: created, reply_in', [e[0] for e in ev], ['created', 'reply_in'])

        # References only (some clients drop In-Reply-To)
        env.maildir_drop(mail('Re: 粗大ごみ', 'reply marker-C',
                              headers={'References': f'<old@example.jp> <{OUT_ID}>'}))
        tc, _ = wait_item_done(env, 'marker-C')
        t.equal('reply by References joins the ticket', tc, t1)

        # subject tag, from the correspondent; the same tag from a stranger opens a new ticket
        env.maildir_drop(mail(f'Re: [受付番号:{t1}] 追加の質問', 'tag marker-D'))
        td, _ = wait_item_done(env, 'marker-D')
        t.equal('reply by subject tag from the correspondent joins', td, t1)
        env.maildir_drop(mail(f'Re: [受付番号:{t1}] 追加の質問', 'stranger marker-E',
                              sender='someone.else@example.com'))
        te, _ = wait_item_done(env, 'marker-E')
        t.check('the same tag from another sender opens a new ticket', te and te != t1, te)

        # an auto-reply to our mail attaches without reopening
        env.sql(f"UPDATE ticket SET status = 'resolved', has_new_reply = false WHERE id = {t1}")
        env.maildir_drop(mail('自動応答: 不在のお知らせ', 'vacation marker-F',
                              headers={'In-Reply-To': f'<{OUT_ID}>', 'Auto-Submitted': 'auto-replied'}))
        tf, _ = wait_item_done(env, 'marker-F')
        t.equal('an auto-reply attaches to its ticket', tf, t1)
        t.equal('an auto-reply reopens nothing', q(env, f'SELECT status, has_new_reply FROM ticket WHERE id = {t1}'),
                [['resolved', 'f']])
        t.equal('the auto-reply is marked automatic',
                q(env, "SELECT auto_kind FROM message WHERE position('marker-F' in body_text) > 0"),
                [['auto_reply']])

        # automatic mail with nothing to join: kept, no ticket
        n0 = int(q(env, 'SELECT count(*) FROM ticket')[0][0])
        env.maildir_drop(mail('メールマガジン 11月号', 'bulk marker-G', sender='news@example.org',
                              headers={'Precedence': 'bulk', 'List-Id': '<news.example.org>'}))
        tg, err = wait_item_done(env, 'marker-G')
        t.equal('bulk mail without a thread makes no ticket', tg, '')
        t.check('its item is kept with the reason', 'no ticket' in (err or ''), err)
        t.equal('ticket count unchanged', int(q(env, 'SELECT count(*) FROM ticket')[0][0]), n0)

        # a delivery report marks our outgoing mail failed and lands on its ticket
        dsn = (b'From: MAILER-DAEMON@mx.example.jp\r\nTo: kucho-soudan@city.example.lg.jp\r\n'
               b'Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n'
               b'Message-ID: <dsn-1@mx.example.jp>\r\nMIME-Version: 1.0\r\n'
               b'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
               b'--b1\r\nContent-Type: text/plain\r\n\r\ndsn marker-H: could not deliver\r\n'
               b'--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.jp\r\n\r\n'
               b'Final-Recipient: rfc822; ' + CITIZEN.encode() + b'\r\nAction: failed\r\nStatus: 5.1.1\r\n'
               b'Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n'
               b'--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <' + OUT_ID.encode() +
               b'>\r\nSubject: Re: reply\r\n\r\n--b1--\r\n')
        env.maildir_drop(dsn)
        th, _ = wait_item_done(env, 'marker-H')
        t.equal('a delivery report lands on the ticket of the mail it reports on', th, t1)
        t.equal('the outgoing mail is marked failed',
                q(env, f"SELECT delivery_state, delivery_note LIKE '%5.1.1%' FROM message WHERE message_id_hdr = '{OUT_ID}'"),
                [['failed', 't']])
        t.check('the timeline says so', ['delivery_report'] in q(
            env, f"SELECT kind FROM ticket_event WHERE ticket_id = {t1}"))

        # a loop: past 5 mails an hour from one sender, mails join the latest ticket
        for i in range(8):
            env.maildir_drop(mail(f'ループ {i}', f'loop marker-L{i}', sender='loop@example.net'))
        done = [wait_item_done(env, f'marker-L{i}')[0] for i in range(8)]
        t.equal('five loop mails open tickets', len(set(done[:5])), 5)
        t.equal('the rest join the latest', set(done[5:]), {done[4]})
        t.equal('and are marked loop', q(env, "SELECT count(*) FROM message WHERE auto_kind = 'loop'"), [['3']])
    t.done()


if __name__ == '__main__':
    main()
