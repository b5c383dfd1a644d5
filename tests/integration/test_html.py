#!/usr/bin/python3
"""HTML mail, end to end: mails dropped into the Maildir go through
ingest-mail and ticketd's intake; GET /api/messages/ID/html must then serve
exactly the sanitised page (no script, no handlers, no javascript: links,
the remote image a placeholder, the cid: image inlined), ?remote=1 keeps the
remote image and widens the CSP's img-src, /cid/ serves the inline image's
exact bytes and type, the text alternative stays the body an operator reads,
and a hostile mail with 5 000 links costs under 2 s of CPU from the Maildir
to the sanitised view (ticketd and ingest-mail, read from /proc).

Run: /usr/bin/python3 tests/integration/test_html.py (MDG_BUILD, MDG_KEEP as usual)
"""
import base64
import os
import struct
import sys
import time
import zlib
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client  # noqa: E402

t = mdg.Checks('html')

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"
CSP_REMOTE = "default-src 'none'; img-src data: https: http:; style-src 'unsafe-inline'; sandbox"
LINK = ' rel="noopener noreferrer" target="_blank"'
PLACEHOLDER = '<span style="border: 1px dashed #888; color: #555; padding: 0 2px" title="'
CID = 'logo123@city.example.lg.jp'
TRACKER = 'https://tracker.example.com/open.gif?u=42&amp;m=7'


def png(w, h, rgb):
    """A solid w x h PNG, written here (the standard library has no image module)."""
    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    rows = b''.join(b'\x00' + bytes(rgb) * w for _ in range(h))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


LOGO = png(60, 30, (220, 0, 0))

SUBJ1 = '【窓口】HTMLメール（画像つき）のお知らせ'
TEXT1 = 'テキスト版の本文です。\n区のページ: https://www.city.example.lg.jp/kurashi/\n'
HTML1 = ('<html><head><meta charset="utf-8"><title>お知らせ</title><style>p{color:red}</style>'
         "<script>alert('xss');document.title='pwned'</script></head>"
         '<body onload="alert(1)">'
         '<p id="greeting" style="color: #333; position: fixed">区民の皆様へ &amp; お知らせ</p>'
         "<img src=\"x\" onerror=\"alert('onerror')\">"
         "<a href=\"javascript:alert('link')\">危ないリンク</a>"
         '<a href="java&#x09;script:alert(2)" onclick="alert(3)">隠したリンク</a>'
         '<a href="https://www.city.example.lg.jp/kurashi/">区のページ</a>'
         f'<img src="{TRACKER}" alt="" width="1" height="1">'
         f'<img src="cid:{CID}" alt="区章" width="60" height="30">'
         '<!--[if mso]><b>mso</b><![endif]--><svg><script>alert(4)</script></svg>'
         '</body></html>')
B64 = base64.b64encode(LOGO).decode()
COMMON = ('<!DOCTYPE html>\n'
          '<p style="color: #333">区民の皆様へ &amp; お知らせ</p>'
          '<a>危ないリンク</a><a>隠したリンク</a>'
          f'<a href="https://www.city.example.lg.jp/kurashi/"{LINK}>区のページ</a>')
# (the part ends in a line break, which stays text)
EXPECTED = (COMMON + f'{PLACEHOLDER}{TRACKER}">[外部画像]</span>'
            f'<img src="data:image/png;base64,{B64}" alt="区章" width="60" height="30">\n')
EXPECTED_REMOTE = (COMMON + f'<img src="{TRACKER}" alt="" width="1" height="1">'
                   f'<img src="data:image/png;base64,{B64}" alt="区章" width="60" height="30">\n')


def crlf(b):
    return b.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')


def mail1():
    """multipart/related: (text + HTML alternative), the logo by Content-ID, and a
    non-image part that also carries a Content-ID."""
    rel = MIMEMultipart('related')
    alt = MIMEMultipart('alternative')
    alt.attach(MIMEText(TEXT1, 'plain', 'utf-8'))
    alt.attach(MIMEText(HTML1, 'html', 'utf-8'))
    rel.attach(alt)
    img = MIMEImage(LOGO, 'png')
    img['Content-ID'] = f'<{CID}>'
    img['Content-Disposition'] = 'inline; filename="logo.png"'
    rel.attach(img)
    evil = MIMEBase('text', 'html')
    evil.set_payload('<script>alert(5)</script>')
    evil['Content-ID'] = '<notimage@city.example.lg.jp>'
    rel.attach(evil)
    rel['Subject'] = Header(SUBJ1, 'utf-8')
    rel['From'] = 'taro@example.jp'
    rel['To'] = 'madoguchi@city.example.lg.jp'
    rel['Message-ID'] = '<html-1@example.jp>'
    return crlf(rel.as_bytes())


def simple(subject, ctype, body, mid):
    m = MIMEText(body, ctype, 'utf-8')
    m['Subject'] = Header(subject, 'utf-8')
    m['From'] = 'hanako@example.jp'
    m['To'] = 'madoguchi@city.example.lg.jp'
    m['Message-ID'] = f'<{mid}@example.jp>'
    return crlf(m.as_bytes())


def links_mail(n):
    rows = ''.join(f'<tr><td><a href="https://spam{i}.example.com/?id={i}&amp;x=1" '
                   f'onclick="alert({i})" onmouseover="x()">リンク{i}</a>'
                   f'<img src="https://spam{i}.example.com/p.gif"></td></tr>' for i in range(n))
    return simple('【窓口】リンクだらけのメール', 'html',
                  f'<html><body><table>{rows}</table></body></html>', 'links-5000')


def ticket_message(env, subject, timeout=20):
    q = ("SELECT t.id, m.id FROM ticket t JOIN message m ON m.ticket_id = t.id "
         f"WHERE t.subject = '{subject}' ORDER BY m.id")
    r = mdg.wait_for(lambda: env.sql(q), timeout)
    return (int(r[0][0]), int(r[0][1])) if r else (None, None)


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def check_html(c, mid):
    r = c.get(f'/api/messages/{mid}/html')
    body = r.body.decode('utf-8', 'replace')
    t.equal('html: status and type', (r.status, r.header('Content-Type')),
            (200, 'text/html; charset=utf-8'))
    t.equal('html: CSP exact (no script source, img-src data: only)',
            r.header('Content-Security-Policy'), CSP)
    t.equal('html: nosniff, no-store', (r.header('X-Content-Type-Options'), r.header('Cache-Control')),
            ('nosniff', 'no-store'))
    t.equal('html: the sanitised page exactly', body, EXPECTED)
    for bad in ('<script', 'alert(', 'onerror', 'onload', 'onclick', 'javascript:', 'java\tscript',
                '<style', '<svg', 'mso', 'id="greeting"', 'position', f'src="{TRACKER}"', 'cid:'):
        t.check(f'html: no {bad!r}', bad not in body)
    t.check('html: the remote image is a placeholder',
            f'{PLACEHOLDER}{TRACKER}">[外部画像]</span>' in body)
    t.check('html: the cid image inlined with its exact bytes',
            f'<img src="data:image/png;base64,{B64}"' in body)

    r = c.get(f'/api/messages/{mid}/html?remote=1')
    t.equal('html?remote=1: the remote image kept, the rest the same',
            r.body.decode('utf-8', 'replace'), EXPECTED_REMOTE)
    t.equal('html?remote=1: CSP img-src widened to https: http:',
            r.header('Content-Security-Policy'), CSP_REMOTE)
    for q in ('remote=0', 'remote=yes', 'remote=', 'remote=1x'):
        r = c.get(f'/api/messages/{mid}/html?{q}')
        t.equal(f'html?{q}: as without it', (r.header('Content-Security-Policy'),
                                             r.body.decode('utf-8', 'replace')), (CSP, EXPECTED))


def check_cid(c, viewer, mid, port):
    r = c.get(f'/api/messages/{mid}/cid/{CID}')
    t.equal('cid: status and type', (r.status, r.header('Content-Type')), (200, 'image/png'))
    t.check('cid: the exact image bytes', r.body == LOGO, f'{len(r.body)} bytes')
    t.equal('cid: nosniff', r.header('X-Content-Type-Options'), 'nosniff')
    r = c.get(f'/api/messages/{mid}/cid/logo123%40city.example.lg.jp')
    t.check('cid: %-encoded Content-ID found too', r.status == 200 and r.body == LOGO, str(r.status))
    t.equal('cid: a non-image part with a Content-ID is 404',
            c.get(f'/api/messages/{mid}/cid/notimage@city.example.lg.jp').status, 404)
    t.equal('cid: unknown Content-ID 404', c.get(f'/api/messages/{mid}/cid/nothing@x').status, 404)
    t.equal('cid: another message 404', c.get(f'/api/messages/{mid + 1000}/cid/{CID}').status, 404)
    t.equal('cid: empty Content-ID 404', c.get(f'/api/messages/{mid}/cid/').status, 404)
    t.equal('cid: viewer 403 (correspondence)', viewer.get(f'/api/messages/{mid}/cid/{CID}').status,
            403)
    t.equal('html: viewer 403', viewer.get(f'/api/messages/{mid}/html').status, 403)
    t.equal('cid: no session 401', Client(port).get(f'/api/messages/{mid}/cid/{CID}').status, 401)
    t.equal('cid: POST 405', c.request('POST', f'/api/messages/{mid}/cid/{CID}').status, 405)


def check_links(env, c, ticketd, ingest):
    raw = links_mail(5000)
    cpu0 = cpu_seconds(ticketd.pid) + cpu_seconds(ingest.pid)
    wall0 = time.monotonic()
    env.maildir_drop(raw)
    tid, mid = ticket_message(env, '【窓口】リンクだらけのメール', 30)
    t.check('5000 links: became a ticket', tid is not None)
    if tid is None:
        return
    r = c.get(f'/api/messages/{mid}/html')
    cpu = cpu_seconds(ticketd.pid) + cpu_seconds(ingest.pid) - cpu0
    wall = time.monotonic() - wall0
    body = r.body.decode('utf-8', 'replace')
    t.equal('5000 links: view served', r.status, 200)
    t.equal('5000 links: every link kept, inert', body.count(f'"{LINK}>リンク'), 5000)
    t.check('5000 links: no handler left', 'onclick' not in body and 'onmouseover' not in body)
    t.equal('5000 links: every tracker a placeholder', body.count(PLACEHOLDER), 5000)
    t.check('5000 links: last row exact',
            body.endswith(f'<tr><td><a href="https://spam4999.example.com/?id=4999&amp;x=1"{LINK}>'
                          f'リンク4999</a>{PLACEHOLDER}https://spam4999.example.com/p.gif">[外部画像]'
                          '</span></td></tr></table>'), body[-300:])
    print(f'  5000 links: {len(raw)} bytes of mail, {len(r.body)} bytes of view, '
          f'{cpu:.2f} s CPU (ticketd + ingest-mail), {wall:.2f} s wall', flush=True)
    t.check('5000 links: under 2 s CPU from Maildir to the view', cpu < 2.0, f'{cpu:.2f} s')


def main():
    with mdg.Env('html') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user('op1', 'operator', 'operator-pass-1')
        env.add_user('vw1', 'viewer', 'viewer-pass-1')
        ingest = env.start('ingest-mail')
        ticketd = env.start('ticketd')
        env.maildir_drop(mail1())
        env.maildir_drop(simple('【窓口】テキストだけ', 'plain', '本文だけです。\n', 'text-only'))
        env.maildir_drop(simple('【窓口】HTMLだけ', 'html',
                                '<p>HTMLだけの<b>本文</b>です。</p><script>alert(1)</script>',
                                'html-only'))
        tid, mid = ticket_message(env, SUBJ1)
        t.check('HTML mail became a ticket', tid is not None)
        c = Client(port)
        viewer = Client(port)
        t.equal('operator logs in', c.login('op1', 'operator-pass-1').status, 200)
        t.equal('viewer logs in', viewer.login('vw1', 'viewer-pass-1').status, 200)
        if tid is not None:
            m = c.get(f'/api/tickets/{tid}').json()['messages'][0]
            t.equal('ticket: the text alternative is the body, HTML offered',
                    (m['body_text'], m['has_html'], m['html_url']),
                    (TEXT1, True, f'/api/messages/{mid}/html'))
            check_html(c, mid)
            check_cid(c, viewer, mid, port)
        tid2, mid2 = ticket_message(env, '【窓口】テキストだけ')
        if tid2 is not None:
            t.equal('text-only mail: html 404', c.get(f'/api/messages/{mid2}/html').status, 404)
        tid3, mid3 = ticket_message(env, '【窓口】HTMLだけ')
        if tid3 is not None:
            m = c.get(f'/api/tickets/{tid3}').json()['messages'][0]
            t.equal('HTML-only mail: text derived for the body, HTML offered',
                    (m['body_text'].strip(), m['has_html']), ('HTMLだけの本文です。', True))
            t.equal('HTML-only mail: the view sanitised',
                    c.get(f'/api/messages/{mid3}/html').body.decode(),
                    '<!DOCTYPE html>\n<p>HTMLだけの<b>本文</b>です。</p>')
        check_links(env, c, ticketd, ingest)
        t.check('ticketd still running', ticketd.alive())
    t.done()


if __name__ == '__main__':
    main()
