#!/usr/bin/python3
"""The reply composer in a real browser (templates/web/js/composer.js).

Private PostgreSQL, ingest-mail (Maildir) and ticketd; headless Chromium.
The Japanese mail of tests/integration/test_reply.py (with a PDF) comes in;
an operator opens the ticket and, with the keyboard, opens the composer,
picks the template 受付確認, attaches the PDF.  送信 must stay disabled
until every recipient and the attachment are ticked and the draft is
previewed; the preview shows the exact subject and body the citizen will
receive.  Sent, the page shows the countdown and 送信を取り消す, the
outbound_mail row holds the expected bytes (body and PDF read back with
Python's email package), and the timeline shows 送信待ち.  axe-core checks
the open composer with its preview (WCAG 2.1 AA).  Cancelling marks the
row cancelled and the timeline 取り消し済み.  No script errors, no CSP
violations.  Screenshots: tests/artefacts/browser-reply-*.png.
"""
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402
import test_a11y  # noqa: E402
import test_reply as rp  # noqa: E402

LOGIN, PASSWORD, DISPLAY = 'op-reply', 'reply view password 1', '返信 担当'


def login(t, b, base):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(LOGIN)
    b.find('#login-password').send_keys(PASSWORD + Keys.ENTER)
    t.check('logged in', bool(b.wait(lambda: b.visible('#view-queue'), 10)))


def press(b, css, key=Keys.ENTER):
    """focus an element and press a key on it, as a keyboard user does"""
    b.js('arguments[0].focus()', b.find(css))
    b.driver.switch_to.active_element.send_keys(key)


def send_disabled(b):
    return b.js("return document.getElementById('composer-send').disabled")


def compose(t, b, env, tid, expected):
    press(b, '#composer-open')
    t.check('composer opens, focus on the template picker', bool(b.wait(
        lambda: b.js("return document.activeElement && document.activeElement.id") == 'composer-template'
        and len(b.finds('#composer-template option')) == 6, 10)))
    t.equal('proposed To and subject',
            (b.find('#composer-to').get_attribute('value'), b.find('#composer-subject').get_attribute('value')),
            (f'{rp.CITIZEN[0]} <{rp.CITIZEN[1]}>', f'Re: [受付番号:{tid}] {rp.SUBJECT}'))
    Select(b.find('#composer-template')).select_by_value('001_受付確認')
    press(b, '#composer-template-apply')
    t.check('template inserted', bool(b.wait(
        lambda: b.find('#composer-body').get_attribute('value') == expected, 10)),
        b.find('#composer-body').get_attribute('value')[:200])
    t.check('send disabled before ticks and preview', send_disabled(b) is True)
    press(b, '#composer-att-0', Keys.SPACE)
    boxes = b.wait(lambda: len(b.finds('#composer-confirm input[type=checkbox]')) == 2 and
                   b.finds('#composer-confirm input[type=checkbox]'), 5)
    labels = [b.js('return document.querySelector(`label[for="${arguments[0]}"]`).textContent',
                   x.get_attribute('id')) for x in (boxes or [])]
    t.equal('one tick box per recipient and attachment, each labelled', labels,
            [f'宛先 (To): {rp.CITIZEN[0]} <{rp.CITIZEN[1]}> に送ることを確認しました',
             f'添付ファイル {rp.PDF_NAME}（{len(rp.PDF)} バイト）を送ることを確認しました'])
    press(b, '#composer-ok-r-0', Keys.SPACE)
    t.check('one tick missing: still disabled', send_disabled(b) is True)
    press(b, '#composer-ok-a-0', Keys.SPACE)
    t.check('ticked but not previewed: still disabled, and the hint says why',
            send_disabled(b) is True and 'プレビュー' in b.find('#composer-send-hint').text,
            b.find('#composer-send-hint').text)
    press(b, '#composer-preview')
    t.check('preview shown, focus on its heading', bool(b.wait(
        lambda: b.js("return document.activeElement.id") == 'composer-preview-title', 10)))
    pairs = dict(b.js("return Array.from(document.querySelectorAll('#composer-preview-pane dl.headers > div'))"
                      ".map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])"))
    t.equal('preview: subject, To, attachment as the citizen gets them',
            (pairs.get('件名'), pairs.get('宛先'), pairs.get('添付ファイル')),
            (f'Re: [受付番号:{tid}] {rp.SUBJECT}', f'{rp.CITIZEN[0]} <{rp.CITIZEN[1]}>',
             f'{rp.PDF_NAME} ({len(rp.PDF)} バイト)'))
    t.equal('preview: the body exactly', b.find('#composer-preview-body').get_attribute('textContent'),
            expected)
    t.check('send enabled now', bool(b.wait(lambda: send_disabled(b) is False, 5)))


def accessible(t, b, axe_src):
    b.driver.set_script_timeout(30)
    b.screenshot('1-composer')
    t.equal('composer with preview: no WCAG 2.1 AA violation', test_a11y.axe(b, axe_src), [])


def send(t, b, env, tid, expected):
    press(b, '#composer-send')
    t.check('countdown shown with a focused cancel button', bool(b.wait(
        lambda: b.visible('#composer-countdown') and
        b.js("return document.activeElement.id") == 'composer-cancel', 10)))
    text = b.find('#composer-countdown').text
    n = int(''.join(ch for ch in text if ch.isdigit()) or -1)
    t.check('countdown counts from the send delay', 20 <= n <= 30, text)
    time.sleep(1.3)
    n2 = int(''.join(ch for ch in b.find('#composer-countdown').text if ch.isdigit()) or -1)
    t.check('countdown runs', n2 < n, (n, n2))
    b.screenshot('2-countdown')
    rows = env.sql(f"SELECT id, encode(raw, 'hex'), state, created_by FROM outbound_mail WHERE ticket_id = {tid}")
    t.equal('one outbound_mail row, queued by the operator', [(r[2], r[3]) for r in rows], [('queued', LOGIN)])
    if rows:
        m = rp.parse(bytes.fromhex(rows[0][1]))
        t.equal('the row: subject and body as previewed',
                (str(m['Subject']), m.get_body(('plain',)).get_content()),
                (f'Re: [受付番号:{tid}] {rp.SUBJECT}', expected.replace('\n', '\r\n')))
        t.equal('the row: the PDF', [a.get_payload(decode=True) for a in m.iter_attachments()], [rp.PDF])
    t.check('timeline: the reply is 送信待ち', bool(b.wait(
        lambda: '送信待ち' in (b.visible('article.message-out p.delivery') or b.find('body')).text, 10)))
    return int(rows[0][0]) if rows else None


def cancel(t, b, env, out_id):
    press(b, '#composer-cancel')
    t.check('cancelled: said on the page', bool(b.wait(
        lambda: '取り消しました' in b.find('#composer-sent-status').text, 10)))
    t.equal('the row is cancelled', env.sql(f'SELECT state FROM outbound_mail WHERE id = {out_id}'),
            [['cancelled']])
    t.check('timeline: 取り消し済み', bool(b.wait(
        lambda: '取り消し済み' in b.find('article.message-out p.delivery').text, 10)))
    b.screenshot('3-cancelled')


def main():
    t = mdg.Checks('browser-reply')
    with open(test_a11y.AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-reply') as env:
        env.start_db()
        folder = os.path.join(env.root, 'templates', 'reply')
        shutil.copytree(os.path.join(mdg.REPO, 'templates', 'reply'), folder)
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'mail.from_addr': rp.FROM_ADDR,
                            'mail.from_name': rp.FROM_NAME, 'ticketd.reply_templates': folder})
        env.add_user(LOGIN, 'operator', PASSWORD, DISPLAY)
        env.start('ingest-mail')
        tick = env.start('ticketd')
        env.maildir_drop(rp.citizen_mail('browser-reply-1@example.jp'))
        tid, msg_in = rp.wait_ticket(env, 'browser-reply-1@example.jp')
        t.check('mail became a ticket', tid is not None)
        if tid is not None:
            arrived = env.sql(f"SELECT floor(extract(epoch FROM i.arrived_at))::bigint FROM message m"
                              f" JOIN inbound_item i ON i.id = m.inbound_item_id WHERE m.id = {msg_in}")[0][0]
            expected = rp.template_text('001_受付確認', {
                'citizen.name': rp.CITIZEN[0], 'centre.name': '区民相談窓口', 'ticket.id': str(tid),
                'ticket.subject': rp.SUBJECT, 'ticket.received': rp.jst(arrived),
                'operator.name': DISPLAY, 'centre.signature': rp.SIGNATURE})
            base = f'http://127.0.0.1:{port}'
            try:
                with Browser(mdg.ARTEFACTS, 'browser-reply') as b:
                    login(t, b, base)
                    b.get(f'{base}/#/tickets/{tid}')
                    t.check('ticket shown', bool(b.wait(lambda: b.visible('#composer-open'), 10)))
                    compose(t, b, env, tid, expected)
                    accessible(t, b, axe_src)
                    out_id = send(t, b, env, tid, expected)
                    if out_id:
                        cancel(t, b, env, out_id)
                    errors = [m for m in b.read_console() + b.console
                              if 'Uncaught' in m or 'Content Security Policy' in m]
                    t.equal('no script errors or CSP violations', sorted(set(errors)), [])
            except Exception as e:  # a crash is a failure with its reason, then the summary
                t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
                print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
