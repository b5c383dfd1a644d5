#!/usr/bin/python3
"""A forwarded mail (message/rfc822 attachment) on the ticket page.

Private PostgreSQL, ingest-mail (Maildir) and ticketd; headless Chromium.
The mail of tests/integration/test_nested.py (an ISO-2022-JP mail forwarded
as an attachment) goes through the Maildir; the ticket page shows a
"転送されたメッセージ" block under the message with the exact subject,
sender and body of the forwarded mail, as text; its body is reachable with
Tab.  Screenshot: tests/artefacts/browser-nested-1-ticket.png.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
import test_nested as nested  # noqa: E402

LOGIN, PASSWORD = 'op-nested', 'nested view password 1'


def login(t, b, base):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(LOGIN)
    b.find('#login-password').send_keys(PASSWORD + Keys.ENTER)
    t.check('logged in', bool(b.wait(lambda: b.visible('#view-queue'), 10)))


def check_block(t, b):
    t.check('nested block shown', bool(b.wait(lambda: b.visible('article.message section.nested'), 10)))
    sec = b.find('article.message section.nested')
    text = lambda css: sec.find_element('css selector', css).get_attribute('textContent')  # noqa: E731
    t.equal('nested heading', text('h4'), '転送されたメッセージ')
    pairs = b.js("return Array.from(arguments[0].querySelectorAll('dl.headers > div'))"
                 ".map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])", sec)
    got = {k: v for k, v in pairs}
    t.equal('nested subject exact', got.get('件名'), nested.INNER_SUBJECT)
    t.check('nested sender shows name and address',
            nested.INNER_FROM_NAME in (got.get('差出人') or '') and 'yamada@example.jp' in (got.get('差出人') or ''),
            str(pairs))
    t.equal('nested body exact (text)', text('pre.body'), nested.INNER_BODY.rstrip('\n'))
    t.equal('nested attachment listed', text('ul.nested-attachments li').split(' (')[0], '地図.pdf')
    t.equal('no element children injected into the body', b.js('return arguments[0].children.length',
                                                              sec.find_element('css selector', 'pre.body')), 0)
    # keyboard: Tab from the message body reaches the nested body
    b.js("arguments[0].focus()", b.find('article.message > pre.body'))
    reached = False
    for _ in range(12):
        b.driver.switch_to.active_element.send_keys(Keys.TAB)
        if b.js("return document.activeElement.classList.contains('nested-body')"):
            reached = True
            break
    t.check('nested body reachable with Tab', reached)
    b.screenshot('1-ticket')


def main():
    t = mdg.Checks('browser-nested')
    with mdg.Env('browser-nested') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user(LOGIN, 'operator', PASSWORD, '転送 確認')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        env.maildir_drop(nested.forward_mail())
        tid = nested.ticket_id(env, nested.OUTER_SUBJECT, 20)
        t.check('mail became a ticket', tid is not None)
        if tid is not None:
            base = f'http://127.0.0.1:{port}'
            try:
                with Browser(mdg.ARTEFACTS, 'browser-nested') as b:
                    login(t, b, base)
                    b.get(f'{base}/#/tickets/{tid}')
                    t.check('ticket shown', bool(b.wait(
                        lambda: b.visible('#ticket-title') and
                        b.find('#ticket-title').text == nested.OUTER_SUBJECT, 10)))
                    check_block(t, b)
                    errors = [m for m in b.read_console() + b.console
                              if 'Uncaught' in m or 'Content Security Policy' in m]
                    t.equal('no script errors or CSP violations', sorted(set(errors)), [])
            except Exception as e:  # a crash is a failure with its reason, then the summary
                t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
                print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
