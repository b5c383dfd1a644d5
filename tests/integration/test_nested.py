#!/usr/bin/python3
"""A mail forwarding a Japanese ISO-2022-JP mail as a message/rfc822
attachment: GET /api/tickets/ID shows the attached mail as "nested" with
its exact decoded subject, sender, recipients, date, body and attachments,
parsed by ticketd at request time.  Runs ingest-mail and ticketd for real."""
import base64
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
sys.path.insert(0, os.path.dirname(__file__))
import mdg  # noqa: E402
from ticketd_http import Client  # noqa: E402

t = mdg.Checks('nested')

OUTER_SUBJECT = '【転送】粗大ごみの件'
INNER_SUBJECT = '粗大ごみの収集について'
INNER_FROM_NAME = '山田 花子'
INNER_BODY = '粗大ごみの申し込み方法を教えてください。\n電話番号は03-1234-5678です。\n'
PDF = b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n'


def jis_word(s):
    return '=?ISO-2022-JP?B?' + base64.b64encode(s.encode('iso-2022-jp')).decode() + '?='


def inner_mail():
    """the forwarded mail: multipart, ISO-2022-JP text, one PDF"""
    body = INNER_BODY.replace('\n', '\r\n').encode('iso-2022-jp')
    return (b'From: ' + jis_word(INNER_FROM_NAME).encode() + b' <yamada@example.jp>\r\n'
            b'To: soudan@city.example.lg.jp\r\n'
            b'Cc: ' + jis_word('係長').encode() + b' <kakari@city.example.lg.jp>\r\n'
            b'Subject: ' + jis_word(INNER_SUBJECT).encode() + b'\r\n'
            b'Date: Tue, 15 Sep 2026 10:20:30 +0900\r\n'
            b'Message-ID: <inner-1@example.jp>\r\n'
            b'MIME-Version: 1.0\r\n'
            b'Content-Type: multipart/mixed; boundary="in-b"\r\n\r\n'
            b'--in-b\r\n'
            b'Content-Type: text/plain; charset=ISO-2022-JP\r\n'
            b'Content-Transfer-Encoding: 7bit\r\n\r\n' + body +
            b'--in-b\r\n'
            b'Content-Type: application/pdf\r\n'
            b'Content-Transfer-Encoding: base64\r\n'
            b"Content-Disposition: attachment; filename*=UTF-8''%E5%9C%B0%E5%9B%B3.pdf\r\n\r\n" +
            base64.b64encode(PDF) + b'\r\n'
            b'--in-b--\r\n')


def forward_mail(subject=OUTER_SUBJECT, inner=None):
    """the operator-visible mail: a UTF-8 note and the mail attached"""
    inner = inner if inner is not None else inner_mail()
    return (b'From: staff@city.example.lg.jp\r\n'
            b'To: kucho-soudan@city.example.lg.jp\r\n'
            b'Subject: =?UTF-8?B?' + base64.b64encode(subject.encode()) + b'?=\r\n'
            b'Date: Wed, 16 Sep 2026 09:00:00 +0900\r\n'
            b'Message-ID: <fwd-' + base64.b16encode(subject.encode()[:12]) + b'@city.example.lg.jp>\r\n'
            b'MIME-Version: 1.0\r\n'
            b'Content-Type: multipart/mixed; boundary="out-b"\r\n\r\n'
            b'--out-b\r\n'
            b'Content-Type: text/plain; charset=UTF-8\r\n\r\n' + '転送します。\r\n'.encode() +
            b'--out-b\r\n'
            b'Content-Type: message/rfc822\r\n'
            b'Content-Disposition: attachment; filename="forwarded.eml"\r\n\r\n' + inner +
            b'\r\n--out-b--\r\n')


EXPECTED = {
    'subject': INNER_SUBJECT,
    'from_name': INNER_FROM_NAME,
    'from_addr': 'yamada@example.jp',
    'to': 'soudan@city.example.lg.jp',
    'cc': '係長 <kakari@city.example.lg.jp>',
    'date': '2026-09-15T01:20:30.000000Z',
    'body_text': INNER_BODY.rstrip('\n'),  # the parser drops the final line break
    'has_html': False,
    'attachments': [{'filename': '地図.pdf', 'content_type': 'application/pdf', 'size': len(PDF)}],
}


def ticket_id(env, subject, timeout=15):
    q = "SELECT id FROM ticket WHERE subject = convert_from(decode('%s', 'hex'), 'UTF8')" % \
        subject.encode().hex()
    r = mdg.wait_for(lambda: env.sql(q), timeout)
    return int(r[0][0]) if r else None


def main():
    with mdg.Env('nested') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user('op1', 'operator', 'operator-pass-1')
        env.start('ingest-mail')
        env.start('ticketd')
        env.maildir_drop(forward_mail())
        # a forwarded blob past the 8 MiB cap: shown as an error, not parsed
        big = inner_mail().replace(b'--in-b--', b'--in-b\r\nContent-Type: text/plain\r\n\r\n' +
                                   (b'x' * 76 + b'\r\n') * 110000 + b'--in-b--')
        env.maildir_drop(forward_mail('【転送】大きいメール', big))
        tid = ticket_id(env, OUTER_SUBJECT)
        c = Client(port)  # after the first ticket: ticketd is listening by then
        t.equal('operator logs in', c.login('op1', 'operator-pass-1').status, 200)
        t.check('forwarding mail became a ticket', tid is not None)
        if tid is not None:
            doc = c.get(f'/api/tickets/{tid}').json()
            m = doc['messages'][0]
            atts = m['attachments']
            t.equal('one attachment, message/rfc822',
                    [(a['filename'], a['content_type']) for a in atts],
                    [('forwarded.eml', 'message/rfc822')])
            nested = atts[0].get('nested') if atts else None
            for k, v in EXPECTED.items():
                t.equal(f'nested {k} exact', (nested or {}).get(k), v)
            t.equal('nested has exactly the documented keys', sorted(nested or {}), sorted(EXPECTED))
            t.equal('outer body is the note', m['body_text'], '転送します。')
        tid2 = ticket_id(env, '【転送】大きいメール', 30)
        t.check('big forwarding mail became a ticket', tid2 is not None)
        if tid2 is not None:
            atts = c.get(f'/api/tickets/{tid2}').json()['messages'][0]['attachments']
            t.check('big attachment is past 8 MiB', atts and atts[0]['size'] > 8 << 20,
                    atts and atts[0]['size'])
            t.equal('over 8 MiB: nested says too large', atts and atts[0].get('nested'),
                    {'error': 'too large'})
    return t.done()


if __name__ == '__main__':
    sys.exit(main())
