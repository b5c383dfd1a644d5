#!/usr/bin/python3
"""The fax viewer on a fax ticket (issue 7).

Private PostgreSQL, ingest-mail (Maildir, fax-to-mail on) and ticketd;
headless Chromium.  A fax service's mail with a 3-page standard-resolution
TIFF (tests/tools/faxgen) goes through the real path and becomes a fax
ticket; the page shows "FAX（3枚）" with its facts (pages, resolution, DID,
result), page 1 fitted to the screen, and the PNG the browser decoded is
1728x2200 (98 dpi rows doubled).  Next/previous by button and by arrow keys
on the page area, rotate (button and R, which must not open the reply
composer), zoom in and back to fit, the original's download link, no script
errors or CSP violations.  Screenshots: tests/artefacts/browser-fax-*.png.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
import test_fax_mail as fm  # noqa: E402

LOGIN, PASSWORD = 'op-fax', 'fax view password 1'
AXE = os.path.join(HERE, 'vendor', 'axe-core', 'axe.min.js')
SUBJECT = 'FAX 03-1234-5678 (3枚)'


def login(t, b, base):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(LOGIN)
    b.find('#login-password').send_keys(PASSWORD + Keys.ENTER)
    t.check('logged in', bool(b.wait(lambda: b.visible('#view-queue'), 10)))


def state(b, mid):
    return b.js("const s = document.getElementById(arguments[0] + '-stage');"
                "const i = document.getElementById(arguments[0] + '-img');"
                "return [s.dataset.page, s.dataset.rotate, s.dataset.zoom, i.style.transform,"
                " i.complete && i.naturalWidth, i.naturalHeight,"
                " document.getElementById(arguments[0] + '-status').textContent]", f'fax-{mid}')


def loaded(b, mid, page):
    return b.wait(lambda: (lambda s: s[0] == str(page) and s[4] == 1728 and s[5] == 2200)(state(b, mid)), 10)


def check_viewer(t, b, mid):
    pid = f'fax-{mid}'
    t.check('fax block shown', bool(b.wait(lambda: b.visible(f'#{pid}-stage'), 10)))
    t.equal('heading', b.find(f'#{pid} h4').text, 'FAX（3枚）')
    pairs = b.js("return Array.from(document.querySelectorAll(arguments[0] + ' > div'))"
                 ".map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])",
                 f'#{pid}-facts')
    got = dict(pairs)
    t.equal('facts: pages, resolution, DID, route, result',
            [got.get('枚数'), got.get('解像度'), got.get('着信番号'), got.get('受信経路'), got.get('通信結果')],
            ['3枚', '204×98 dpi（標準）', '0312345678', 'メール（FAX転送）', '正常終了'])
    t.check('page 1 drawn from a 1728x2200 PNG (standard rows doubled)', bool(loaded(b, mid, 1)), str(state(b, mid)))
    t.equal('status, fitted', state(b, mid)[6], '1 / 3ページ（画面に合わせる）')
    box = b.js("const r = document.getElementById(arguments[0]).getBoundingClientRect();"
               "const s = document.getElementById(arguments[1]).getBoundingClientRect();"
               "return [r.width <= s.width + 1, r.height <= window.innerHeight]", f'{pid}-img', f'{pid}-stage')
    t.equal('fitted: the page fits the stage width and the window height', box, [True, True])
    size = b.js_async("const done = arguments[arguments.length - 1];"
                      "fetch(arguments[0]).then(r => r.blob()).then(createImageBitmap)"
                      ".then(i => done([i.width, i.height])).catch(e => done(String(e)))",
                      f'/api/messages/{mid}/fax/3.png')
    t.equal('PNG bytes of page 3 decode to 1728x2200', size, [1728, 2200])
    b.js("document.getElementById(arguments[0]).scrollIntoView()", f'{pid}-facts')
    b.screenshot('1-page1')
    b.find(f'#{pid}-next').click()
    t.check('next: page 2', bool(loaded(b, mid, 2)), str(state(b, mid)))
    b.js("arguments[0].focus()", b.find(f'#{pid}-stage'))
    b.driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    t.check('→ on the page: page 3', bool(loaded(b, mid, 3)), str(state(b, mid)))
    t.equal('next disabled on the last page', b.find(f'#{pid}-next').get_attribute('disabled'), 'true')
    b.driver.switch_to.active_element.send_keys(Keys.ARROW_LEFT)
    t.check('← on the page: page 2', bool(loaded(b, mid, 2)), str(state(b, mid)))
    b.find(f'#{pid}-prev').click()
    t.check('previous: page 1', bool(loaded(b, mid, 1)))
    b.find(f'#{pid}-rotate').click()
    t.equal('rotate button: 90°', state(b, mid)[1:4:2], ['90', 'rotate(90deg)'])
    b.js("arguments[0].focus()", b.find(f'#{pid}-stage'))
    b.driver.switch_to.active_element.send_keys('r')
    t.equal('R on the page: 180°', state(b, mid)[1:4:2], ['180', 'rotate(180deg)'])
    t.check('R on the page did not open the reply composer',
            not b.js("return !!document.activeElement && /composer/.test(document.activeElement.id || '')"))
    b.find(f'#{pid}-zoom-in').click()
    z = state(b, mid)[2]
    width = b.js("return document.getElementById(arguments[0]).style.width", f'{pid}-img')
    t.check('zoom in: a zoom step, the page that many pixels wide',
            z not in ('fit', None) and width == f'{round(1728 * float(z))}px', f'{z} {width}')
    b.screenshot('2-zoomed')
    b.js("arguments[0].focus()", b.find(f'#{pid}-stage'))
    b.driver.switch_to.active_element.send_keys('0')
    t.equal('0 on the page: fitted again', state(b, mid)[2], 'fit')
    href = b.find(f'#{pid}-download').get_attribute('href')
    t.check('download link: the original TIFF', href.endswith(f'/api/messages/{mid}/fax/1.tif'), href)


def check_a11y(t, b, mid):
    """axe-core (WCAG 2.1 AA) on the fax block, with the reason form open."""
    b.find(f'#fax-{mid}-contact-open').click()
    t.check('sender: a reason field takes the focus',
            bool(b.wait(lambda: b.js("return document.activeElement.id") == f'fax-{mid}-reason', 5)))
    b.driver.switch_to.active_element.send_keys('折り返し確認' + Keys.ENTER)
    t.check('sender shown after a reason (none for fax-to-mail)', bool(b.wait(
        lambda: b.find(f'#fax-{mid}-contact').text == '発信番号: — / TSI: —', 5)),
        b.find(f'#fax-{mid}-contact').text)
    with open(AXE, encoding='utf-8') as f:
        b.js(f.read())
    res = b.js_async("""
        const done = arguments[arguments.length - 1];
        axe.run(document.getElementById(arguments[0]), {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
          .then(r => done(JSON.stringify(r.violations.map(v => [v.id, v.nodes.length]))))
          .catch(e => done(JSON.stringify([['axe-error', String(e)]])));""", f'fax-{mid}')
    t.equal('fax block: no WCAG 2.1 AA violation (axe)', json.loads(res), [])


def main():
    t = mdg.Checks('browser-fax')
    with mdg.Env('browser-fax') as env:
        fm.WORK = env.root
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}',
                            'ingest_mail.fax_senders': 'fax.example.net',
                            'ingest_mail.fax_did_header': 'X-Fax-DID'})
        env.add_user(LOGIN, 'operator', PASSWORD, 'FAX 確認')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        if not os.path.exists(fm.FAXGEN):
            import subprocess
            subprocess.run(['make', '-C', mdg.BUILD, 'tests/tools/faxgen'], check=True,
                           stdout=subprocess.DEVNULL)
        env.maildir_drop(fm.fax_mail('FAX <fax@fax.example.net>', 'FAX受信', [
            ('fax.tif', 'image/tiff', fm.faxgen('tiff', 3, 'standard'))], {'X-Fax-DID': '03-1234-5678'}))
        tk = fm.ticket_of(env, SUBJECT, 20)
        t.check('the fax mail became a fax ticket', tk is not None and tk[1] == 'fax')
        if tk is not None:
            base = f'http://127.0.0.1:{port}'
            try:
                with Browser(mdg.ARTEFACTS, 'browser-fax') as b:
                    login(t, b, base)
                    b.get(f'{base}/#/tickets/{tk[0]}')
                    t.check('ticket shown', bool(b.wait(
                        lambda: b.visible('#ticket-title') and b.find('#ticket-title').text == SUBJECT, 10)))
                    check_viewer(t, b, tk[5])
                    check_a11y(t, b, tk[5])
                    errors = [m for m in b.read_console() + b.console
                              if 'Uncaught' in m or 'Content Security Policy' in m]
                    t.equal('no script errors or CSP violations', sorted(set(errors)), [])
            except Exception as e:  # a crash is a failure with its reason, then the summary
                t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
                print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
