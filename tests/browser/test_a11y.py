#!/usr/bin/python3
"""WCAG 2.1 AA on the operators' pages, checked by axe-core in Chromium.

A private world (PostgreSQL, ingest-mail on the Maildir, ticketd) with a
Japanese mail that has an attachment, so the ticket page shows everything
it can.  axe-core (vendored under tests/browser/vendor/, for the tests
only) runs on each page with the rule sets wcag2a, wcag2aa, wcag21a and
wcag21aa; any violation fails, printed with its rule id, impact and the
elements it names.  Pages: the log-in form, the queue, the whole list, a
ticket, and (as admin) the routing rules; then every page again in English.
The composer and the other panels are checked once their tests exist.

Run: /usr/bin/python3 tests/browser/test_a11y.py
"""
import json
import os
import sys
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.header import Header
from email.utils import formataddr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402

AXE = os.path.join(HERE, 'vendor', 'axe-core', 'axe.min.js')
TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']
USERS = [('op-a11y', 'operator', 'accessible-pass-1', '鈴木 一郎'),
         ('ad-a11y', 'admin', 'accessible-pass-2', '管理 花子')]
SUBJ = '【窓口】点字ブロックの破損について'


def the_mail():
    m = MIMEMultipart('mixed')
    m.attach(MIMEText('駅前の歩道の点字ブロックが割れています。\n写真を添付します。\n', 'plain', 'utf-8'))
    a = MIMEApplication(b'%PDF-1.4\n%%EOF\n', 'pdf')
    a.add_header('Content-Disposition', 'attachment', filename=('utf-8', '', '現場写真.pdf'))
    m.attach(a)
    m['Subject'] = Header(SUBJ, 'utf-8')
    m['From'] = formataddr(('区民 太郎', 'taro@example.jp'), 'utf-8')
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Date'] = 'Fri, 20 Nov 2026 10:00:00 +0900'
    m['Message-ID'] = '<a11y-1@example.jp>'
    return m.as_bytes().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')


def axe(b, axe_src):
    """Run axe on the page as it is; the violations as (id, impact, [targets])."""
    if not b.js('return typeof window.axe === "object"'):
        b.js(axe_src)
    res = b.js_async("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
           .then(r => done(JSON.stringify(r.violations.map(v =>
               [v.id, v.impact, v.nodes.map(n => n.target.join(' ')).slice(0, 5)]))))
           .catch(e => done(JSON.stringify([['axe-error', String(e), []]])));""", TAGS)
    return [tuple(v[:2]) + (v[2],) for v in json.loads(res)]


def check_page(t, b, axe_src, name, ready_css):
    shown = b.wait(lambda: b.visible(ready_css), 10)
    t.check(f'{name}: page shown', bool(shown))
    if not shown:
        return
    b.screenshot(name)
    v = axe(b, axe_src)
    t.equal(f'{name}: no WCAG 2.1 AA violation (axe {len(v)} found)', v, [])


def login(t, b, base, login, pw):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(login)
    b.find('#login-password').send_keys(pw + Keys.ENTER)
    t.check(f'{login} logged in', bool(b.wait(lambda: b.visible('#view-queue'), 10)))


def pages(t, b, axe_src, base, tid, lang):
    b.get(base + '/#/')
    check_page(t, b, axe_src, f'queue ({lang})', '#view-queue tbody tr')
    b.get(base + '/#/all')
    check_page(t, b, axe_src, f'all tickets ({lang})', '#view-queue tbody tr')
    b.get(f'{base}/#/tickets/{tid}')
    check_page(t, b, axe_src, f'ticket ({lang})', '#ticket-title')


def main():
    t = mdg.Checks('browser-a11y')
    with open(AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-a11y') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        for login_, role, pw, disp in USERS:
            env.add_user(login_, role, pw, disp)
        env.start('ingest-mail')
        tick = env.start('ticketd')
        env.maildir_drop(the_mail())
        r = mdg.wait_for(lambda: env.sql(f"SELECT id FROM ticket WHERE subject = '{SUBJ}'"), 20)
        t.check('mail became a ticket', bool(r))
        base = f'http://127.0.0.1:{port}'
        try:
            with Browser(mdg.ARTEFACTS, 'browser-a11y') as b:
                b.driver.set_script_timeout(30)
                b.get(base + '/')
                check_page(t, b, axe_src, 'log-in form', '#login-id')
                # the engine itself must see a violation planted in the page
                b.js("const i = document.createElement('img'); i.id = 'planted'; i.src = 'data:,';"
                     " document.body.appendChild(i)")
                t.check('axe reports a planted image without alt text',
                        any(v[0] == 'image-alt' and '#planted' in v[2] for v in axe(b, axe_src)))
                b.js("document.getElementById('planted').remove()")
                login(t, b, base, *USERS[0][:1], USERS[0][2])
                if r:
                    tid = int(r[0][0])
                    pages(t, b, axe_src, base, tid, 'ja')
                    b.js("localStorage.setItem('madoguchi.lang', 'en')")
                    b.driver.refresh()
                    pages(t, b, axe_src, base, tid, 'en')
                    b.js("localStorage.removeItem('madoguchi.lang')")
                b.find('#logout').click()
                login(t, b, base, *USERS[1][:1], USERS[1][2])
                b.get(base + '/#/admin/rules')
                check_page(t, b, axe_src, 'routing rules', '#rules-title')
                errors = [m for m in b.read_console() + b.console if 'Uncaught' in m]
                t.equal('no script errors in the pages', sorted(set(errors)), [])
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
