#!/usr/bin/python3
"""Password change in the browser, by keyboard only: an operator Tabs to
パスワード変更 in the header and presses Enter; the dialog opens on the
current password with a label on every control and no WCAG 2.1 AA
violation (axe-core).  A wrong current password shows the server's refusal
(403) on that field, emptied and focused; a too short new one shows the
server's reason (422) on the new field; two new passwords that differ are
caught in the page (the stored hash is unchanged, nothing was sent); then
the change succeeds: the dialog closes, the announcer says so, the focus is
back on the button.  Escape closes the reopened dialog the same way.  The
user's other session has ended; the old password no longer logs in, the new
one does.

Run: /usr/bin/python3 tests/browser/test_password_view.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
from test_a11y import AXE, axe, login  # noqa: E402
from ticketd_http import Client, _listening  # noqa: E402

LOGIN = 'op-pw'
OLD = 'old-password-1'
NEW = '新しい合言葉-2026'


def press(b, *keys):
    for k in keys:
        b.driver.switch_to.active_element.send_keys(k)


def active_id(b):
    return b.js('return document.activeElement && document.activeElement.id')


def tab_to(b, target_id, limit=40):
    """Tab from the top of the page until target_id has the focus."""
    b.js('document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)')
    for _ in range(limit):
        press(b, Keys.TAB)
        if active_id(b) == target_id:
            return True
    return False


def dialog_state(b):
    """(open?, error text, id of the focused element, its aria-invalid)"""
    return b.js("""
        const d = document.getElementById('password-dialog');
        const e = document.getElementById('pw-error');
        const a = document.activeElement;
        return [!!(d && d.open), e && !e.hidden ? e.textContent : '', a ? a.id : '',
                a ? a.getAttribute('aria-invalid') : null];""")


def wait_error(b, text):
    return b.wait(lambda: dialog_state(b)[1] == text, 10) and dialog_state(b)


def labels(b):
    """each control of the dialog: (id or type, its label's text)"""
    return b.js("""
        return [...document.querySelectorAll('#password-dialog input, #password-dialog button')].map(c =>
            [c.id || c.type, c.labels && c.labels.length ? c.labels[0].textContent
                                                          : c.textContent.trim()]);""")


def pw_hash(env):
    return env.sql(f"SELECT pw_hash FROM app_user WHERE login = '{LOGIN}'")[0][0]


def main():
    t = mdg.Checks('browser-password')
    with open(AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-password') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user(LOGIN, 'operator', OLD, '変更 太郎')
        tick = env.start('ticketd')
        mdg.wait_for(lambda: _listening(port), 10)
        base = f'http://127.0.0.1:{port}'
        other = Client(port)
        t.equal('a second session of the same user', other.login(LOGIN, OLD).status, 200)
        try:
            with Browser(mdg.ARTEFACTS, 'browser-password') as b:
                b.driver.set_script_timeout(30)
                login(t, b, base, LOGIN, OLD)
                t.check('Tab reaches パスワード変更 in the header', tab_to(b, 'password-open'))
                t.equal('the button says パスワード変更', b.find('#password-open').text, 'パスワード変更')
                press(b, Keys.ENTER)
                t.check('Enter opens the dialog', bool(b.wait(lambda: dialog_state(b)[0], 5)))
                t.equal('the focus is on the current password', active_id(b), 'pw-current')
                t.equal('every control has its label', labels(b),
                        [['pw-current', '現在のパスワード'], ['pw-new', '新しいパスワード'],
                         ['pw-again', '新しいパスワード（確認）'], ['submit', '変更する'],
                         ['button', 'キャンセル']])
                b.screenshot('dialog')
                t.equal('open dialog: no WCAG 2.1 AA violation', axe(b, axe_src), [])
                before = pw_hash(env)

                # wrong current password: the server refuses (403)
                press(b, 'not-my-password', Keys.TAB, 'short1', Keys.TAB, 'short1', Keys.ENTER)
                t.equal('a wrong current password: refused in words, that field emptied and focused',
                        wait_error(b, '現在のパスワードが正しくありません。'),
                        [True, '現在のパスワードが正しくありません。', 'pw-current', 'true'])
                t.equal('the current field is empty', b.find('#pw-current').get_attribute('value'), '')
                b.screenshot('wrong-current')
                t.equal('refused dialog: no WCAG 2.1 AA violation', axe(b, axe_src), [])

                # the right one with a too short new password: the server's reason (422)
                press(b, OLD, Keys.ENTER)
                t.equal('a too short new password: the server\'s reason, the new field focused',
                        wait_error(b, '新しいパスワードが短すぎます。もっと長いパスワードにしてください。'),
                        [True, '新しいパスワードが短すぎます。もっと長いパスワードにしてください。', 'pw-new', 'true'])

                # two new passwords that differ: caught in the page
                press(b, NEW, Keys.TAB, NEW + 'x', Keys.ENTER)
                t.equal('the two new passwords differ: said, the second emptied and focused',
                        wait_error(b, '確認用のパスワードが新しいパスワードと一致しません。もう一度入力してください。'),
                        [True, '確認用のパスワードが新しいパスワードと一致しません。もう一度入力してください。',
                         'pw-again', 'true'])
                t.equal('nothing was changed so far', pw_hash(env), before)

                # the change
                press(b, NEW, Keys.ENTER)
                closed = b.wait(lambda: not dialog_state(b)[0], 10)
                t.check('success closes the dialog', bool(closed), dialog_state(b))
                t.equal('the focus is back on the button', active_id(b), 'password-open')
                said = b.js('return [...document.querySelectorAll("#announcer p")].map(p => p.textContent)')
                t.check('success is announced', 'パスワードを変更しました。' in said, said)
                t.check('the stored hash changed', pw_hash(env) != before)
                events = env.sql(f"SELECT event, detail FROM auth_event WHERE login = '{LOGIN}'"
                                 " AND event IN ('password_changed', 'login_failed') ORDER BY id")
                t.equal('the audit: one wrong current password, one change, the other session ended',
                        [tuple(r) for r in events],
                        [('login_failed', 'wrong password'), ('password_changed', '1 other session ended')])
                t.equal('the other session has ended', other.get('/api/me').status, 401)
                t.check('this page stays logged in', b.visible('#logout') and b.visible('#view-queue'))

                # Escape closes, the focus returns
                press(b, Keys.ENTER)
                t.check('Enter on the button opens it again', bool(b.wait(lambda: dialog_state(b)[0], 5)))
                press(b, Keys.ESCAPE)
                t.check('Escape closes the dialog', bool(b.wait(lambda: not dialog_state(b)[0], 5)))
                t.equal('the focus is back on the button after Escape', active_id(b), 'password-open')
                errors = [m for m in b.read_console() + b.console if 'Uncaught' in m]
                t.equal('no script errors', sorted(set(errors)), [])

            # the passwords now
            t.equal('the old password no longer logs in', Client(port).login(LOGIN, OLD).status, 401)
            t.equal('the new password logs in', Client(port).login(LOGIN, NEW).status, 200)
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
