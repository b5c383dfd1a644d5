#!/usr/bin/python3
"""Eight tabs of the app in one Chromium, all live.

A browser opens at most six HTTP/1.1 connections to one host; when every
tab held its own event stream the seventh tab hung.  The tabs now share one
stream (templates/web/js/live.js: a Web Lock elects the tab that holds the
EventSource, a BroadcastChannel carries its events to the others).  Checked
here: eight tabs of one operator load the queue; the browser's lock table
shows exactly one holder of 'mdg-events' and seven waiting; a mail dropped
into the Maildir shows up in the queue of all eight without a reload; the
leading tab is closed, another takes the lock, and the next mail reaches the
seven left; typing presence from the API reaches a follower tab's listeners.

Run: /usr/bin/python3 tests/browser/test_tabs.py
"""
import os
import sys
from email.message import EmailMessage
from email.utils import formatdate

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser  # noqa: E402
from test_a11y import login  # noqa: E402
from ticketd_http import Client, _listening  # noqa: E402

TABS = 8
LOGIN, PASSWORD = 'op-tabs', 'tabs-pass-1'


def the_mail(subject, n):
    m = EmailMessage()
    m['From'] = f'citizen{n}@example.jp'
    m['To'] = 'madoguchi@city.example.lg.jp'
    m['Subject'] = subject
    m['Date'] = formatdate(localtime=False)
    m['Message-ID'] = f'<tabs-{n}@example.jp>'
    m.set_content(f'タブの確認 {n}\n')
    return m.as_bytes()


def subjects(b):
    return [a.text for a in b.finds('#queue-body a.row-link')]


def locks(b):
    """the browser's view of the lock: (holders, waiting) of 'mdg-events'"""
    q = b.js_async("""const done = arguments[arguments.length - 1];
        navigator.locks.query().then(s => done([
            s.held.filter(l => l.name === 'mdg-events').length,
            s.pending.filter(l => l.name === 'mdg-events').length]));""")
    return tuple(q)


def all_show(b, handles, subject, timeout=10):
    """the handles of the tabs whose queue lists subject within timeout"""
    seen = set()
    for h in handles:
        b.driver.switch_to.window(h)
        if b.wait(lambda: subject in subjects(b), timeout):
            seen.add(h)
    return seen


def main():
    t = mdg.Checks('browser-tabs')
    with mdg.Env('browser-tabs') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user(LOGIN, 'operator', PASSWORD, '多窓 太郎')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        mdg.wait_for(lambda: _listening(port), 10)
        base = f'http://127.0.0.1:{port}'
        try:
            with Browser(mdg.ARTEFACTS, 'browser-tabs') as b:
                b.driver.set_script_timeout(30)
                login(t, b, base, LOGIN, PASSWORD)
                handles = [b.driver.current_window_handle]
                for _ in range(TABS - 1):
                    b.driver.switch_to.new_window('tab')
                    b.get(base + '/#/')
                    handles.append(b.driver.current_window_handle)
                loaded = 0
                for h in handles:
                    b.driver.switch_to.window(h)
                    if b.wait(lambda: b.visible('#view-queue') and b.find('#queue-title').text != '', 15):
                        loaded += 1
                t.equal(f'all {TABS} tabs load the queue', loaded, TABS)
                t.equal('one tab holds the event stream, the others wait for it', locks(b), (1, TABS - 1))

                env.maildir_drop(the_mail('タブ確認その一', 1))
                t.equal(f'a new mail shows up live in all {TABS} tabs',
                        len(all_show(b, handles, 'タブ確認その一')), TABS)

                b.driver.switch_to.window(handles[0])
                b.driver.close()  # the first tab took the lock first
                handles = handles[1:]
                b.driver.switch_to.window(handles[-1])
                t.check('another tab takes the stream over',
                        bool(b.wait(lambda: locks(b) == (1, TABS - 2), 10)), locks(b))
                env.maildir_drop(the_mail('タブ確認その二', 2))
                t.equal(f'the next mail reaches the {TABS - 1} tabs left',
                        len(all_show(b, handles, 'タブ確認その二')), TABS - 1)

                tid = int(env.sql("SELECT id FROM ticket WHERE subject = 'タブ確認その二'")[0][0])
                b.js("window.__presence = []; window.addEventListener('mdg:presence',"
                     " e => window.__presence.push(e.detail));")
                api = Client(port)
                api.login(LOGIN, PASSWORD)
                r = api.request('POST', f'/api/tickets/{tid}/presence', json_body={'typing': True})
                t.equal('presence: 204', r.status, 204)
                got = b.wait(lambda: b.js('return window.__presence'), 5)
                t.equal('presence reaches a tab through the shared stream',
                        [(p['id'], p['login'], p['typing']) for p in (got or [])], [(tid, LOGIN, True)])
                errors = [m for m in b.read_console() + b.console if 'Uncaught' in m]
                t.equal('no script errors', sorted(set(errors)), [])
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
