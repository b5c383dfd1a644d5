#!/usr/bin/python3
"""A fax's OCR on the ticket page (issue 8; js/faxocr.js, ticketd/faxocr.h).

Private PostgreSQL, ingest-mail (Maildir, fax-to-mail on), ingest-ocr and
ticketd; headless Chromium.  A fax service's mail carries a page of a
citizen's letter set here (tests/tools/faxpage --sample: phone, fax and
mobile numbers, a postal code, a mail address) and goes the real way: a fax
ticket, read by ingest-ocr.  The queue says OCR済; the ticket page shows the
text beside the page (縦書き or not, confidence), the five numbers and
addresses found, each with its region cut out of the page image; 電話番号を
連絡先に入れる puts 03-5321-1111 into the ticket's contact through the audited
functions (a read and a create row in contact_access) and says so; 読み直し
sends the page back and it is read again.  No script errors or CSP
violations; axe-core finds no WCAG 2.1 AA violation in the OCR panel.

Run: /usr/bin/python3 tests/browser/test_fax_ocr_view.py
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
import test_fax_mail as fm  # noqa: E402

LOGIN, PASSWORD = 'op-ocr', 'ocr view password 1'
AXE = os.path.join(HERE, 'vendor', 'axe-core', 'axe.min.js')
FAXPAGE = os.path.join(mdg.BUILD, 'tests', 'tools', 'faxpage')
WANT = [['postal', '〒160-0023'], ['phone', '03-5321-1111'], ['fax', '03-5388-1234'],
        ['phone', '090-2468-1357'], ['mail', 'taro.yamada@example.jp']]


def sample_page(tmp):
    if not os.path.exists(FAXPAGE):
        subprocess.run(['make', '-s', '-C', mdg.BUILD, 'tests/tools/faxpage'], check=True)
    out = os.path.join(tmp, 'letter.tif')
    subprocess.run([FAXPAGE, '--sample', '--res', 'fine', '--out', out], check=True)
    with open(out, 'rb') as f:
        return f.read()


def login(t, b, base):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(LOGIN)
    b.find('#login-password').send_keys(PASSWORD + Keys.ENTER)
    t.check('logged in', bool(b.wait(lambda: b.visible('#view-queue'), 10)))


def check_queue(t, b, tid):
    cell = f'#queue-body tr[data-id="{tid}"] .ocr-progress'
    t.check('the queue says OCR済 once the page is read', bool(b.wait(
        lambda: b.finds(cell) and b.find(cell).text == 'OCR済', 60)), b.finds(cell) and b.find(cell).text)


def check_panel(t, b, mid):
    pid = f'fax-{mid}-ocr'
    t.check('the OCR panel beside the page', bool(b.wait(lambda: b.visible(f'#{pid}-text'), 20)))
    t.check('its state: read horizontally, with a confidence', b.find(f'#{pid}-state').text.startswith(
        '読み取り済み（横書き、確からしさ'), b.find(f'#{pid}-state').text)
    text = b.find(f'#{pid}-text').text
    t.check('the letter\'s text read', all(w in text for w in ('粗大ごみの収集', '03-5321-1111', '〒160-0023')), text)
    got = b.js("return Array.from(document.querySelectorAll(arguments[0] + ' li')).map(li =>"
               " [li.querySelector('.fax-ocr-value').textContent,"
               "  !!li.querySelector('.fax-ocr-crop') && getComputedStyle(li.querySelector('.fax-ocr-crop'))"
               "   .backgroundImage.includes('/fax/1.png')])", f'#{pid}-cands')
    t.equal('five candidates, each with its region of the page', got,
            [[v, True] for _, v in WANT])


def check_accept(t, b, env, mid):
    pid = f'fax-{mid}-ocr'
    cid = env.sql("SELECT id FROM fax_candidate WHERE value = '03-5321-1111'")[0][0]
    btn = b.find(f'#{pid}-accept-{cid}')
    t.equal('the button says what it does', btn.text, '電話番号を連絡先に入れる')
    btn.click()
    t.check('the candidate marked on the page', bool(b.wait(lambda: b.finds(f'#{pid} .fax-ocr-accepted'), 10)))
    t.check('and said', '電話番号 03-5321-1111 を連絡先に入れました。' in b.js(
        "return document.getElementById('announcer').textContent"), b.js(
        "return document.getElementById('announcer').textContent"))
    t.equal('the contact holds the number (and nothing else yet)', env.sql(
        "SELECT c.phone, c.fax, c.email, c.postal_code FROM contact c JOIN ticket_contact tc"
        " ON tc.contact_id = c.id JOIN message m ON m.ticket_id = tc.ticket_id WHERE m.id = " + str(mid)),
        [['03-5321-1111', '', '', '']])
    t.equal('audited: read and create by the operator', env.sql(
        "SELECT action, login, reason FROM contact_access WHERE login = 'op-ocr' ORDER BY id"),
        [['read', 'op-ocr', 'FAXのOCR候補を連絡先に採用'], ['create', 'op-ocr', 'FAXのOCR候補を連絡先に採用']])
    t.equal('the candidate row', env.sql(f"SELECT accepted_by FROM fax_candidate WHERE id = {cid}"),
            [['op-ocr']])


def check_a11y(t, b, mid):
    with open(AXE, encoding='utf-8') as f:
        b.js(f.read())
    res = b.js_async("""
        const done = arguments[arguments.length - 1];
        axe.run(document.getElementById(arguments[0]), {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
          .then(r => done(JSON.stringify(r.violations.map(v => [v.id, v.nodes.length]))))
          .catch(e => done(JSON.stringify([['axe-error', String(e)]])));""", f'fax-{mid}-ocr')
    t.equal('OCR panel: no WCAG 2.1 AA violation (axe)', json.loads(res), [])


def check_reread(t, b, env, mid):
    pid = f'fax-{mid}-ocr'
    b.find(f'#{pid}-reread').click()
    t.check('読み直し: said', bool(b.wait(lambda: '1ページ目を読み直します。' in b.js(
        "return document.getElementById('announcer').textContent"), 10)))
    t.check('read again by ingest-ocr (a second reading, attempts from 0)', bool(mdg.wait_for(
        lambda: env.sql("SELECT ocr_state, ocr_attempts FROM fax_page p JOIN message m"
                        f" ON m.inbound_item_id = p.inbound_item_id WHERE m.id = {mid}") == [['done', '1']]
        and env.sql(f"SELECT count(*) FROM ticket_event e JOIN message m ON m.ticket_id = e.ticket_id"
                    f" WHERE m.id = {mid} AND e.kind = 'ocr_reread'") == [['1']], 60)))


def main():
    t = mdg.Checks('browser-fax-ocr')
    with mdg.Env('browser-fax-ocr') as env, tempfile.TemporaryDirectory() as tmp:
        fm.WORK = env.root
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'ocr.workers': '1',
                            'ingest_mail.fax_senders': 'fax.example.net',
                            'ingest_mail.fax_did_header': 'X-Fax-DID'})
        env.add_user(LOGIN, 'operator', PASSWORD, 'OCR 確認')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        ocr = env.start('ingest-ocr')
        env.maildir_drop(fm.fax_mail('FAX <fax@fax.example.net>', 'FAX受信', [
            ('letter.tif', 'image/tiff', sample_page(tmp))], {'X-Fax-DID': '03-1234-5678'}))
        tk = fm.ticket_of(env, 'FAX%', 20)
        t.check('the fax mail became a fax ticket', tk is not None and tk[1] == 'fax')
        if tk is not None:
            base = f'http://127.0.0.1:{port}'
            try:
                with Browser(mdg.ARTEFACTS, 'browser-fax-ocr') as b:
                    login(t, b, base)
                    check_queue(t, b, tk[0])
                    b.get(f'{base}/#/tickets/{tk[0]}')
                    check_panel(t, b, tk[5])
                    b.js("document.getElementById(arguments[0]).scrollIntoView()", f'fax-{tk[5]}-ocr')
                    b.screenshot('ocr-panel')
                    check_a11y(t, b, tk[5])
                    check_accept(t, b, env, tk[5])
                    check_reread(t, b, env, tk[5])
                    errors = [m for m in b.read_console() + b.console
                              if 'Uncaught' in m or 'Content Security Policy' in m]
                    t.equal('no script errors or CSP violations', sorted(set(errors)), [])
            except Exception as e:  # a crash is a failure with its reason, then the summary
                t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
                print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
                print('# --- ingest-ocr log tail ---\n' + ocr.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
