#!/usr/bin/python3
"""The operator's queue in a real browser, fed by real mail.

Private PostgreSQL, dovecot over IMAPS, ingest-mail and ticketd; headless
Chromium.  An operator logs in and watches the queue; a mail with an
ISO-2022-JP subject is appended to the IMAP inbox and must show up in the
queue, without a reload, within 2 s.  Opened, its body must be exactly what
was sent.  A second mail carries HTML with a <script> and an onerror
handler: shown on request, it must sit in an iframe with an empty sandbox
and run nothing.  Its attachment and the raw message are downloaded and
compared byte for byte.  ticketd is restarted under the open page: the
event stream reconnects and a mail that came in meanwhile appears.  Keyboard
use (Tab order, Enter opens, visible focus) and log-out are checked too.
Screenshots go to tests/artefacts/browser-queue-*.png.
"""
import datetime
import imaplib
import os
import secrets
import socket
import sys
import time
import urllib.request
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402

LOGIN, PASSWORD, DISPLAY = 'op-sato', 'correct horse 電池 staple', '佐藤 花子'
LATENCY_MS = 2000
JST = datetime.timezone(datetime.timedelta(hours=9))

# Mail 1: ISO-2022-JP throughout, like most Japanese mailers still send.
SUBJ1 = '【窓口】住民票の写しを郵送で請求したい（母の分）'
BODY1 = ('区役所 ご担当者様\n\n'
         '母の住民票の写しを郵送で請求したいのですが、\n'
         '委任状の書式と手数料（３００円）を教えてください。\n\n'
         '<b>タグではありません</b> & "記号" もそのまま表示されるはずです。\n\n'
         '中野 一郎\n')
FROM1 = ('中野 一郎', 'ichiro.nakano@example.jp')
INTERNAL1 = datetime.datetime(2026, 11, 20, 9, 5, 0, tzinfo=JST)      # shown "2026-11-20 09:05"
DATE1 = 'Fri, 20 Nov 2026 00:04:30 +0000'                               # shown "2026-11-20 09:04"

# Mail 2: HTML that tries to run script, and an attachment.
SUBJ2 = '【窓口】HTMLメールと添付ファイルの確認'
BODY2 = 'テキスト版の本文です。\n添付の申請書をご確認ください。\n'
HTML2 = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>mail-html</title></head><body>'
         '<p id="victim">HTML版の本文です</p>'
         "<script>document.title='pwned';window.parent.pwned=1;"
         "document.getElementById('victim').textContent='pwned';alert('pwned-script')</script>"
         '<img src="x-missing.png" alt="" onerror="window.parent.pwned=2;alert(\'pwned-onerror\')">'
         '</body></html>')
ATT2_NAME = '申請書（記入例）.pdf'
ATT2_DATA = b'%PDF-1.4\n' + bytes(range(256)) * 4 + b'\r\n\x00\x1b$B\x1b(B%%EOF\n'

SUBJ3 = '【窓口】再接続中に届いたメール'
BODY3 = 'ticketd の再起動中に届きました。\n'


def mail1():
    m = MIMEText(BODY1, 'plain', 'iso-2022-jp')
    m['Subject'] = Header(SUBJ1, 'iso-2022-jp')
    m['From'] = formataddr(FROM1, 'iso-2022-jp')
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Date'] = DATE1
    m['Message-ID'] = f'<browser-1-{secrets.token_hex(6)}@example.jp>'
    return crlf(m.as_bytes())


def mail2():
    alt = MIMEMultipart('alternative')
    alt.attach(MIMEText(BODY2, 'plain', 'utf-8'))
    alt.attach(MIMEText(HTML2, 'html', 'utf-8'))
    m = MIMEMultipart('mixed')
    m.attach(alt)
    a = MIMEApplication(ATT2_DATA, 'pdf')
    a.add_header('Content-Disposition', 'attachment', filename=('utf-8', '', ATT2_NAME))
    m.attach(a)
    m['Subject'] = Header(SUBJ2, 'utf-8')
    m['From'] = formataddr(('区民 花子', 'hanako@example.jp'), 'utf-8')
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Date'] = 'Fri, 20 Nov 2026 10:00:00 +0900'
    m['Message-ID'] = f'<browser-2-{secrets.token_hex(6)}@example.jp>'
    return crlf(m.as_bytes())


def mail3():
    m = MIMEText(BODY3, 'plain', 'iso-2022-jp')
    m['Subject'] = Header(SUBJ3, 'iso-2022-jp')
    m['From'] = 'reconnect@example.jp'
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Date'] = 'Fri, 20 Nov 2026 11:00:00 +0900'
    m['Message-ID'] = f'<browser-3-{secrets.token_hex(6)}@example.jp>'
    return crlf(m.as_bytes())


def crlf(raw):
    return raw.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')


# ---- page probes (small scripts run in the page) ----------------------------

WATCH = """
const subject = arguments[0];
window.__mdgSeen = window.__mdgSeen || {};
const look = () => {
  for (const a of document.querySelectorAll('#queue-body a')) {
    if (a.textContent === subject && !window.__mdgSeen[subject]) window.__mdgSeen[subject] = Date.now();
  }
};
new MutationObserver(look).observe(document.getElementById('queue-body'),
  {childList: true, subtree: true, characterData: true});
look();
"""


def row_for(b, subject):
    return b.js("""
const s = arguments[0];
for (const a of document.querySelectorAll('#queue-body tr a.row-link'))
  if (a.textContent === s) return a.closest('tr');
return null;""", subject)


def cells(row):
    return [td.get_attribute('textContent') for td in row.find_elements('css selector', 'td')]


def row_read(b, subject):
    """[ticket id, texts of the cells] of the row with that subject, read in one go in the page
    (the list is redrawn live: an element found a moment ago may be stale)"""
    return b.js("""
for (const a of document.querySelectorAll('#queue-body tr a.row-link'))
  if (a.textContent === arguments[0]) {
    const tr = a.closest('tr');
    return [Number(tr.dataset.id), Array.from(tr.querySelectorAll('td')).map(td => td.textContent)];
  }
return null;""", subject)


def headers_of(b, article):
    """The <dl class=headers> of a message article as {dt: dd}."""
    return b.js("""
const out = {};
for (const div of arguments[0].querySelectorAll('dl.headers > div'))
  out[div.querySelector('dt').textContent] = div.querySelector('dd').textContent;
return out;""", article)


def fetch_status(b, path):
    return b.js_async("""
const done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: 'same-origin'}).then(r => done(r.status), () => done(-1));""", path)


def focus_ring(b):
    """(outline-style, outline-width px) of the focused element."""
    return b.js("""
const s = getComputedStyle(document.activeElement);
return [s.outlineStyle, parseFloat(s.outlineWidth)];""")


A11Y = """
const out = [];
const shown = (e) => e.getClientRects().length > 0;
for (const i of document.querySelectorAll('img')) if (!i.hasAttribute('alt')) out.push('img without alt: ' + i.src);
for (const x of document.querySelectorAll('button, a[href]'))
  if (shown(x) && !(x.textContent.trim() || x.getAttribute('aria-label'))) out.push('unnamed ' + x.outerHTML.slice(0, 80));
for (const x of document.querySelectorAll('input, select, textarea'))
  if (!x.labels || !x.labels.length) out.push('unlabelled ' + x.outerHTML.slice(0, 80));
const ids = {};
for (const x of document.querySelectorAll('[id]')) { if (ids[x.id]) out.push('duplicate id ' + x.id); ids[x.id] = 1; }
for (const x of document.querySelectorAll('[style]')) out.push('style attribute ' + x.outerHTML.slice(0, 80));
const h1 = Array.from(document.querySelectorAll('h1')).filter(shown).length;
if (h1 !== 1) out.push('visible h1 count ' + h1);
return out;"""


def a11y_basics(t, b, where):
    """Names, labels, unique ids, one h1 (axe-core comes later)."""
    t.equal(f'accessibility basics: {where}', b.js(A11Y), [])


# ---- the steps -----------------------------------------------------------------

def step_login(t, b, base):
    b.get(base + '/')
    t.check('log-in form shown without a session', b.wait(lambda: b.visible('#login-id'), 10) is not None)
    t.equal('page language', b.js('return document.documentElement.lang'), 'ja')
    labels = b.js("return Array.from(document.querySelectorAll('#login-form input'))"
                  ".map(i => i.labels.length ? i.labels[0].textContent : '')")
    t.equal('log-in inputs are labelled', labels, ['ログインID', 'パスワード'])
    a11y_basics(t, b, 'log-in')
    b.screenshot('1-login')
    b.find('#login-id').send_keys(LOGIN)
    b.find('#login-password').send_keys('wrong password' + Keys.ENTER)
    err = b.wait(lambda: b.visible('#login-error'), 5)
    t.check('wrong password refused with a message',
            err is not None and err.text == 'ログインIDまたはパスワードが正しくありません。',
            err.text if err else 'no message')
    b.find('#login-id').clear()
    b.find('#login-id').send_keys(LOGIN)
    b.find('#login-password').send_keys(PASSWORD + Keys.ENTER)
    ok = b.wait(lambda: b.visible('#view-queue') and b.js(
        "return document.getElementById('live-state').dataset.state === 'on'"), 10)
    t.check('queue shown after log-in, live updates connected', bool(ok))
    t.equal('queue heading', b.find('#queue-title').text, '要対応リスト')
    t.equal('user shown', b.find('#user-name').text, DISPLAY)
    a11y_basics(t, b, 'queue')
    t.equal('live region is polite',
            b.js("const r = document.getElementById('announcer');"
                 "return [r.getAttribute('role'), r.getAttribute('aria-live')]"), ['status', 'polite'])


def step_live_row(t, b, deliver):
    """Mail 1 arrives while the queue is open; returns its ticket row id."""
    b.js('window.__mdgMarker = arguments[0];', 'still-the-same-page')
    b.js(WATCH, SUBJ1)
    count_before = b.find('[data-count="todo"]').text
    t0 = time.time() * 1000
    deliver(mail1(), INTERNAL1)
    seen = b.wait(lambda: b.js('return window.__mdgSeen[arguments[0]]', SUBJ1), 10)
    if not seen:
        t.fail('mail 1 appears in the queue', 'not shown within 10 s')
        return None
    latency = seen - t0
    print(f'# queue latency: {latency:.0f} ms from IMAP APPEND to the row on screen', flush=True)
    t.check(f'mail 1 appears in the queue within {LATENCY_MS} ms ({latency:.0f} ms)',
            latency <= LATENCY_MS, f'{latency:.0f} ms')
    t.equal('no page reload', b.js('return window.__mdgMarker'), 'still-the-same-page')
    tid, c = b.wait(lambda: row_read(b, SUBJ1), 5)
    t.check('row marked new by text', c[1].startswith('新着'), repr(c[1]))
    t.equal('row: from', c[2], FROM1[0] + FROM1[1])
    t.equal('row: arrived in Asia/Tokyo', c[3], '2026-11-20 09:05')
    t.equal('row: status in Japanese', c[4], '新規')
    t.equal('row: channel', c[5], 'メール')
    t.equal('row: no flags', c[6], '')
    t.equal('row: no attachments', c[7], '')
    announced = b.find('#announcer').get_attribute('textContent')
    t.check('new row announced in the live region', SUBJ1 in announced, repr(announced))
    t.equal('to-do count went up by one', b.find('[data-count="todo"]').text,
            str(int(count_before) + 1) if count_before.isdigit() else f'{count_before}+1')
    b.screenshot('2-queue-new-row')
    step_language(t, b, tid)
    return tid


def step_language(t, b, tid):
    """English through the toggle, and back; the choice is kept in localStorage."""
    b.find('#lang-toggle').click()
    status = b.js("const r = document.querySelector(`#queue-body tr[data-id=\"${arguments[0]}\"]`);"
                  " return r ? r.querySelectorAll('td')[4].textContent : null", tid)
    t.equal('English: html lang, heading, status',
            [b.js('return document.documentElement.lang'), b.find('#queue-title').text, status],
            ['en', 'Work queue', 'New'])
    b.find('#lang-toggle').click()
    t.equal('back to Japanese', [b.js('return document.documentElement.lang'), b.find('#queue-title').text],
            ['ja', '要対応リスト'])
    t.equal('language kept in localStorage', b.js("return localStorage.getItem('madoguchi.lang')"), 'ja')


def step_open_mail1(t, b, tid):
    row = row_for(b, SUBJ1)
    row.find_elements('css selector', 'td')[3].click()   # the date cell: a click anywhere on the row
    ok = b.wait(lambda: b.visible('#ticket-title') and b.find('#ticket-title').text == SUBJ1, 5)
    t.check('a click on the row opens the ticket', bool(ok))
    t.equal('ticket URL', b.js('return location.hash'), f'#/tickets/{tid}')
    art = b.find('article.message')
    h = headers_of(b, art)
    t.equal('message: from', h.get('差出人'), f'{FROM1[0]} <{FROM1[1]}>')
    t.check('message: to', 'kucho-soudan@city.example.lg.jp' in h.get('宛先', ''), repr(h.get('宛先')))
    t.equal('message: date in Asia/Tokyo', h.get('日時'), '2026-11-20 09:04')
    body = art.find_element('css selector', 'pre.body').get_attribute('textContent')
    t.equal('message body exactly as sent', body, BODY1)
    t.equal('markup in the text body stays text',
            b.js("return arguments[0].querySelector('pre.body b')", art), None)
    t.equal('no HTML button on a text-only mail', len(art.find_elements('css selector', '.html-part button')), 0)
    b.screenshot('3-ticket-mail1')


def step_keyboard_open(t, b, tid1, deliver):
    """Back to the queue by keyboard; Tab to mail 2's row; Enter opens it."""
    b.js(WATCH, SUBJ2)
    deliver(mail2(), None)
    back = b.find('#ticket-back')
    back.send_keys(Keys.ENTER)
    ok = b.wait(lambda: b.visible('#view-queue'), 5)
    t.check('Enter on the back link returns to the queue', bool(ok))
    focused = b.js("const a = document.activeElement; const r = a && a.closest('tr');"
                   "return r ? Number(r.dataset.id) : null")
    t.equal('focus back on the row just left', focused, tid1)
    if not b.wait(lambda: b.js('return window.__mdgSeen[arguments[0]]', SUBJ2), 10):
        t.fail('mail 2 appears in the queue', 'not within 10 s')
        return None
    tid2 = b.wait(lambda: row_read(b, SUBJ2), 5)[0]
    b.js("document.getElementById('queue-title').focus()")
    actions = ActionChains(b.driver)
    presses = 0
    for presses in range(1, 40):
        actions.send_keys(Keys.TAB).perform()
        if b.js("const r = document.activeElement.closest('tr'); return r ? Number(r.dataset.id) : null") == tid2:
            break
    else:
        presses = None
    t.check('Tab reaches the new row', presses is not None, 'not within 40 presses')
    style, width = focus_ring(b)
    t.check('keyboard focus is visible', style != 'none' and width >= 2, f'{style} {width}px')
    b.screenshot('4-queue-keyboard-focus')
    ActionChains(b.driver).send_keys(Keys.ENTER).perform()
    ok = b.wait(lambda: b.visible('#ticket-title') and b.find('#ticket-title').text == SUBJ2, 5)
    t.check('Enter on the row opens the ticket', bool(ok))
    return tid2


def step_html(t, b):
    title = b.js('return document.title')
    art = b.find('article.message')
    body = art.find_element('css selector', 'pre.body').get_attribute('textContent')
    t.equal('mail 2 text body', body, BODY2)
    btn = b.wait(lambda: art.find_element('css selector', '.html-part button'), 2)
    if not btn:
        t.fail('HTML button shown', 'no .html-part button')
        return
    t.equal('HTML button label', btn.text, 'HTMLを表示')
    btn.click()
    time.sleep(1.0)   # time for the frame to load and for anything to (not) run
    t.equal('no alert opened', b.dismiss_alerts(), [])
    frame = b.wait(lambda: b.find('iframe.html-frame'), 5)
    t.check('HTML shown in an iframe', frame is not None)
    if frame is None:
        return
    t.equal('iframe sandbox attribute present and empty',
            b.js("const f = arguments[0]; return [f.hasAttribute('sandbox'), f.getAttribute('sandbox'),"
                 " f.sandbox.length]", frame), [True, '', 0])
    t.equal('page title unchanged', b.js('return document.title'), title)
    t.equal('no window variable set by the mail', b.js('return typeof window.pwned'), 'undefined')
    b.driver.switch_to.frame(frame)
    try:
        victim = b.wait(lambda: b.find('p').text, 3)
        t.equal('HTML rendered, its script did not run', victim, 'HTML版の本文です')
    finally:
        b.driver.switch_to.default_content()
    a11y_basics(t, b, 'ticket with HTML and attachment')
    b.js("arguments[0].scrollIntoView({block: 'end'})", frame)
    b.screenshot('5-ticket-html')


def step_downloads(t, b, raw2):
    art = b.find('article.message')
    links = art.find_elements('css selector', '.attachments a')
    t.equal('attachment link text is the real file name', [a.text for a in links], [ATT2_NAME])
    meta = art.find_element('css selector', '.att-meta').text if links else ''
    t.check('attachment size shown', '1.0 KB' in meta or f'{len(ATT2_DATA)} バイト' in meta, repr(meta))
    if links:
        links[0].click()
        got = b.download(ATT2_NAME)
        t.check('attachment downloaded under its real name', got is not None, str(b.downloaded_names()))
        t.check('attachment bytes identical', got == ATT2_DATA,
                f'{len(got) if got else 0} bytes vs {len(ATT2_DATA)}')
    raw = art.find_elements('css selector', 'p.raw a')
    t.equal('raw message link', [a.text for a in raw], ['原文 (.eml) をダウンロード'])
    if raw:
        before = set(b.downloaded_names())
        raw[0].click()
        name = b.wait(lambda: [n for n in set(b.downloaded_names()) - before if not n.endswith('.crdownload')], 10)
        got = b.download(name[0]) if name else None
        t.check('raw message downloaded as .eml', bool(name) and name[0].endswith('.eml'), str(name))
        t.check('raw message identical to what was appended', got == raw2,
                f'{len(got) if got else 0} bytes vs {len(raw2)}')


def step_reconnect(t, b, base, deliver, stop_ticketd, start_ticketd):
    b.find('#ticket-back').click()
    b.wait(lambda: b.visible('#view-queue'), 5)
    b.js('window.__mdgMarker = arguments[0];', 'before-restart')
    b.js(WATCH, SUBJ3)
    stop_ticketd()
    off = b.wait(lambda: b.find('#live-state').text == '再接続中…', 10)
    t.check('lost connection shown as text', bool(off), b.find('#live-state').text)
    deliver(mail3(), None)
    time.sleep(0.5)
    start_ticketd()
    seen = b.wait(lambda: b.js('return window.__mdgSeen[arguments[0]]', SUBJ3), 20)
    t.check('mail that came during the outage appears after the reconnect', bool(seen))
    t.equal('still no page reload', b.js('return window.__mdgMarker'), 'before-restart')
    t.check('live state back on', bool(b.wait(lambda: b.find('#live-state').text == 'リアルタイム更新中', 10)))


def step_logout(t, b):
    b.find('#logout').click()
    ok = b.wait(lambda: b.visible('#login-id'), 5)
    t.check('log-out shows the log-in form', bool(ok))
    t.equal('queue emptied on log-out', len(b.finds('#queue-body tr')), 0)
    t.equal('session gone on the server', fetch_status(b, '/api/me'), 401)
    b.screenshot('6-logged-out')


def run(t, base, deliver, stop_ticketd=None, start_ticketd=None):
    """The whole scenario against a running ticketd at base."""
    with Browser(mdg.ARTEFACTS, 'browser-queue') as b:
        b.driver.set_script_timeout(10)
        step_login(t, b, base)
        tid1 = step_live_row(t, b, deliver)
        if tid1 is None:
            return
        step_open_mail1(t, b, tid1)
        raw2_holder = []
        deliver_and_keep = lambda raw, when: (raw2_holder.append(raw), deliver(raw, when))  # noqa: E731
        tid2 = step_keyboard_open(t, b, tid1, deliver_and_keep)
        if tid2 is not None:
            step_html(t, b)
            step_downloads(t, b, raw2_holder[0])
        if stop_ticketd and start_ticketd:
            step_reconnect(t, b, base, deliver, stop_ticketd, start_ticketd)
        errors = [m for m in b.read_console() + b.console
                  if 'Uncaught' in m or 'Content Security Policy' in m or 'Content-Security-Policy' in m]
        t.equal('no script errors or CSP violations in the page', sorted(set(errors)), [])
        step_logout(t, b)


def listening(port):
    try:
        socket.create_connection(('127.0.0.1', port), 0.2).close()
        return True
    except OSError:
        return False


def main():
    t = mdg.Checks('browser-queue')
    with mdg.Env('browser') as env:
        env.start_db()
        dv = mdg.Dovecot(env).start()
        port = mdg.free_port()
        env.write_config(**dv.ingest_settings(), **{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user(LOGIN, 'operator', PASSWORD, DISPLAY)
        env.start('ingest-mail')
        daemons = {'ticketd': env.start('ticketd')}
        if not mdg.wait_for(lambda: listening(port), 10):
            t.fail('ticketd listening', daemons['ticketd'].log_text()[-2000:])
            t.done()
        base = f'http://127.0.0.1:{port}'
        with urllib.request.urlopen(base + '/') as r:
            csp = r.headers.get('Content-Security-Policy', '')
        t.check('pages served with the CSP', "default-src 'self'" in csp and "object-src 'none'" in csp, csp)

        imap = dv.client()

        def deliver(raw, internaldate):
            when = imaplib.Time2Internaldate(internaldate) if internaldate else None
            typ, data = imap.append('INBOX', None, when, raw)
            if typ != 'OK':
                raise RuntimeError(f'APPEND: {data}')

        def stop_ticketd():
            daemons['ticketd'].stop()

        def start_ticketd():
            daemons['ticketd'] = env.start('ticketd')

        try:
            run(t, base, deliver, stop_ticketd, start_ticketd)
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            for d in env.daemons:
                print(f'# --- {d.name} log tail ---\n' + d.log_text()[-1500:], flush=True)
        imap.logout()
    t.done()


if __name__ == '__main__':
    main()
