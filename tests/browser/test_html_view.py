#!/usr/bin/python3
"""The HTML view of a mail in a real browser.

Private PostgreSQL, ingest-mail (Maildir) and ticketd; headless Chromium.
A multipart/related mail carries a hostile HTML part (script, onerror,
javascript: links), an inline cid: logo (a red PNG) and a remote image (a
blue PNG on a small HTTP server of this test, which records every request).
The operator opens the ticket: the text part is the body; "HTMLを表示" shows
the sanitised HTML in an empty-sandbox frame where no script runs, the cid
logo is drawn (red pixels in the frame's screenshot, and naturalWidth 60
when the HTML URL is opened in a tab) and the remote image is a placeholder
that was never fetched; "外部画像を表示" reloads the frame with ?remote=1,
the warning beside it, and the blue image is fetched (without a Referer or
a cookie) and drawn.  Screenshots: tests/artefacts/browser-html-*.png.
"""
import http.server
import os
import struct
import sys
import threading
import time
import zlib
from email.header import Header
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402

LOGIN, PASSWORD = 'op-html', 'html view password 1'
RED, BLUE = (220, 0, 0), (0, 60, 220)
SUBJ = '【窓口】HTMLメールの表示確認'
TEXT = 'テキスト版の本文です。\n'
CID = 'logo.7f3a@city.example.lg.jp'


def png(w, h, rgb):
    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    rows = b''.join(b'\x00' + bytes(rgb) * w for _ in range(h))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


def png_pixels(data):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB/RGBA PNG (Chromium's screenshots)."""
    pos, idat, w = 8, b'', 0
    while pos < len(data):
        n, = struct.unpack('>I', data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and ctype in (2, 6) and body[12] == 0, 'unsupported PNG'
            bpp = 4 if ctype == 6 else 3
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw, stride, prev, rows, k = zlib.decompress(idat), w * bpp, bytearray(w * bpp), [], 0
    for _ in range(h):
        f, line = raw[k], bytearray(raw[k + 1:k + 1 + stride])
        k += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def count_colour(shot, rgb, tol=24):
    _, _, rows = png_pixels(shot)
    return sum(1 for row in rows for p in row if all(abs(p[i] - rgb[i]) <= tol for i in range(3)))


class ImageServer:
    """The sender's tracker: serves a blue PNG and records each request."""

    def __init__(self):
        self.hits = []
        image, hits = png(40, 20, BLUE), self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                hits.append((self.path, self.headers.get('Referer'), self.headers.get('Cookie')))
                self.send_response(200)
                self.send_header('Content-Type', 'image/png')
                self.send_header('Content-Length', str(len(image)))
                self.end_headers()
                self.wfile.write(image)

        self.srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.port = self.srv.server_port
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()


def the_mail(remote_url):
    html = ('<html><head><title>mail-html</title><script>parent.pwned=1;alert("head")</script></head>'
            '<body onload="parent.pwned=2;alert(\'onload\')">'
            '<p style="font-size: 18px; color: #222">区民の皆様へ：HTML版の本文です</p>'
            '<img src="x-missing.png" onerror="parent.pwned=3;alert(\'onerror\')">'
            '<p><a href="javascript:parent.pwned=4">危ないリンク</a> '
            '<a href="https://www.city.example.lg.jp/">区のページ</a></p>'
            f'<p><img src="cid:{CID}" alt="区章" width="60" height="30"></p>'
            f'<p><img src="{remote_url}" alt="バナー" width="40" height="20"></p>'
            '<svg><script>alert("svg")</script></svg></body></html>')
    rel = MIMEMultipart('related')
    alt = MIMEMultipart('alternative')
    alt.attach(MIMEText(TEXT, 'plain', 'utf-8'))
    alt.attach(MIMEText(html, 'html', 'utf-8'))
    rel.attach(alt)
    img = MIMEImage(png(60, 30, RED), 'png')
    img['Content-ID'] = f'<{CID}>'
    rel.attach(img)
    rel['Subject'] = Header(SUBJ, 'utf-8')
    rel['From'] = 'hanako@example.jp'
    rel['To'] = 'kucho-soudan@city.example.lg.jp'
    rel['Message-ID'] = '<browser-html-1@example.jp>'
    return rel.as_bytes().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')


def login(t, b, base):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(LOGIN)
    b.find('#login-password').send_keys(PASSWORD + Keys.ENTER)
    t.check('logged in', bool(b.wait(lambda: b.visible('#view-queue'), 10)))


def frame_shot(b, frame, name):
    b.js("arguments[0].scrollIntoView({block: 'center'})", frame)
    time.sleep(0.3)
    b.screenshot(name)
    return frame.screenshot_as_png


def show_html(t, b, server):
    title = b.js('return document.title')
    art = b.find('article.message')
    t.equal('the text part is the body', art.find_element('css selector', 'pre.body')
            .get_attribute('textContent'), TEXT)
    btn = art.find_element('css selector', '.html-part > button')
    t.equal('HTML button label', btn.text, 'HTMLを表示')
    btn.click()
    frame = b.wait(lambda: b.find('iframe.html-frame'), 5)
    t.check('frame shown', frame is not None)
    if frame is None:
        return None
    time.sleep(1.0)   # time for the frame to load and for anything to (not) run
    t.equal('frame sandbox present and empty',
            b.js("const f = arguments[0]; return [f.getAttribute('sandbox'), f.sandbox.length,"
                 " f.getAttribute('referrerpolicy')]", frame), ['', 0, 'no-referrer'])
    t.equal('no alert opened', b.dismiss_alerts(), [])
    t.equal('no script ran (nothing set on the parent)', b.js('return typeof window.pwned'), 'undefined')
    t.equal('page title unchanged', b.js('return document.title'), title)
    t.equal('remote image not fetched before it is asked for', server.hits, [])
    b.driver.switch_to.frame(frame)
    try:
        t.equal('frame: sanitised text shown',
                b.wait(lambda: b.find('p').text, 3), '区民の皆様へ：HTML版の本文です')
        t.equal('frame: remote image is the placeholder', b.find('span[title]').text, '[外部画像] バナー')
        t.equal('frame: links inert (no javascript:, the web link opens nothing here)',
                [(a.text, a.get_attribute('href')) for a in b.finds('a')],
                [('危ないリンク', None), ('区のページ', 'https://www.city.example.lg.jp/')])
    finally:
        b.driver.switch_to.default_content()
    shot = frame_shot(b, frame, '1-html-frame')
    red = count_colour(shot, RED)
    t.check(f'cid logo drawn in the frame ({red} red pixels of 1800)', 1500 <= red <= 2100, str(red))
    t.equal('no blue pixels before remote images are shown', count_colour(shot, BLUE), 0)
    return frame


def show_remote(t, b, server, frame, url):
    box = b.find('.html-remote')
    btn = box.find_element('css selector', 'button')
    warn = box.find_element('css selector', '.html-remote-warn')
    t.equal('remote button label, not pressed', (btn.text, btn.get_attribute('aria-pressed')),
            ('外部画像を表示', 'false'))
    t.equal('the warning is beside it and describes it',
            (warn.text, btn.get_attribute('aria-describedby') == warn.get_attribute('id')),
            ('外部画像を表示すると画像のあるサーバーに接続するため、このメールを開いたことが送信者に'
             '伝わる場合があります。', True))
    btn.click()
    ok = b.wait(lambda: server.hits, 5)
    t.check('remote image fetched after the click', bool(ok))
    time.sleep(0.8)
    t.equal('frame reloaded with ?remote=1', frame.get_dom_attribute('src'), url + '?remote=1')
    t.equal('button pressed, status announced',
            (btn.text, btn.get_attribute('aria-pressed'), box.find_element('css selector', '[role=status]').text),
            ('外部画像を隠す', 'true', '外部画像を表示しています。'))
    t.equal('remote request: no Referer, no cookie', [(h[1], h[2]) for h in server.hits], [(None, None)])
    t.equal('no alert after the reload', b.dismiss_alerts(), [])
    shot = frame_shot(b, frame, '2-html-remote')
    blue = count_colour(shot, BLUE)
    t.check(f'remote image drawn ({blue} blue pixels of 800)', 650 <= blue <= 950, str(blue))
    t.check('cid logo still drawn', count_colour(shot, RED) >= 1500)
    btn.click()
    time.sleep(0.5)
    t.equal('second click: back to no remote images', (frame.get_dom_attribute('src'), btn.text),
            (url, '外部画像を表示'))


def direct_tab(t, b, base, url):
    """The HTML URL opened as a page of its own: still sandboxed by its CSP."""
    b.get(base + url)
    time.sleep(0.5)
    t.equal('direct: no alert', b.dismiss_alerts(), [])
    t.equal('direct: the cid image decoded (naturalWidth x naturalHeight)',
            b.js('return Array.from(document.images).map(i => [i.naturalWidth, i.naturalHeight])'),
            [[60, 30]])
    t.equal('direct: document in an opaque origin (CSP sandbox)', b.js('return self.origin'), 'null')


def main():
    t = mdg.Checks('browser-html')
    server = ImageServer()
    remote_url = f'http://127.0.0.1:{server.port}/banner.png?u=42'
    with mdg.Env('browser-html') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user(LOGIN, 'operator', PASSWORD, '表示 確認')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        env.maildir_drop(the_mail(remote_url))
        q = f"SELECT t.id, m.id FROM ticket t JOIN message m ON m.ticket_id = t.id WHERE t.subject = '{SUBJ}'"
        r = mdg.wait_for(lambda: env.sql(q), 20)
        t.check('mail became a ticket', bool(r))
        if r:
            tid, mid = int(r[0][0]), int(r[0][1])
            url = f'/api/messages/{mid}/html'
            base = f'http://127.0.0.1:{port}'
            try:
                with Browser(mdg.ARTEFACTS, 'browser-html') as b:
                    b.driver.set_script_timeout(10)
                    login(t, b, base)
                    b.get(f'{base}/#/tickets/{tid}')
                    t.check('ticket shown', bool(b.wait(
                        lambda: b.visible('#ticket-title') and b.find('#ticket-title').text == SUBJ, 10)))
                    frame = show_html(t, b, server)
                    if frame is not None:
                        show_remote(t, b, server, frame, url)
                    errors = [m for m in b.read_console() + b.console if 'Uncaught' in m]
                    t.equal('no script errors in the page', sorted(set(errors)), [])
                    direct_tab(t, b, base, url)
            except Exception as e:  # a crash is a failure with its reason, then the summary
                t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
                print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
    server.stop()
    t.done()


if __name__ == '__main__':
    main()
