#!/usr/bin/python3
"""Two operators work one queue in two headless Chromium sessions (issue 5).

Private PostgreSQL, ingest-mail on the Maildir, ticketd.  Operator A walks
the queue with the keyboard (j/k, c claims the focused row, Enter opens it);
operator B opens the same ticket, sees A as its holder, and B's claim is
refused with the message.  A types a note: B sees "A is typing" and then
the note on the timeline without reloading.  A resolves with e and a
resolution; r hands over to the composer ('mdg:reply'); ? opens the list of
shortcuts; keys typed into a field stay in the field.  The counts on the
tabs follow a mail that arrives while B looks at the queue.  axe-core checks
the queue with its tabs and filters and the ticket page with its panel.
Screenshots go to tests/artefacts/browser-workflow-*.png.

Run: /usr/bin/python3 tests/browser/test_workflow_view.py
"""
import json
import os
import socket
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402

AXE = os.path.join(HERE, 'vendor', 'axe-core', 'axe.min.js')
TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']
A = ('op-aoki', 'operator', 'aoki-password-1', '青木 一郎')
B = ('op-baba', 'operator', 'baba-password-2', '馬場 花子')
SUBJECTS = ['【窓口】粗大ごみの申込み方法', '【窓口】児童手当の手続き', '【窓口】選挙の投票所について']


def mail(i):
    m = EmailMessage()
    m['From'] = f'区民 {i} <citizen{i}@example.jp>'
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Subject'] = SUBJECTS[i]
    m['Date'] = formatdate(1795000000 + i * 60)
    m['Message-ID'] = f'<wf-view-{i}-{time.time_ns()}@example.jp>'
    m.set_content(f'お問い合わせ {i} の本文です。\n')
    return bytes(m)


def ticket_of(env, subject):
    r = mdg.wait_for(lambda: env.sql(f"SELECT id FROM ticket WHERE subject = '{subject}'"), 20)
    return int(r[0][0]) if r else None


def axe(b, src):
    if not b.js('return typeof window.axe === "object"'):
        b.js(src)
    res = b.js_async("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
           .then(r => done(JSON.stringify(r.violations.map(v =>
               [v.id, v.impact, v.nodes.map(n => n.target.join(' ')).slice(0, 5)]))))
           .catch(e => done(JSON.stringify([['axe-error', String(e), []]])));""", TAGS)
    return json.loads(res)


def login(t, b, base, who):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(who[0])
    b.find('#login-password').send_keys(who[2] + Keys.ENTER)
    ok = b.wait(lambda: b.visible('#view-queue') and b.js(
        "return document.getElementById('live-state').dataset.state === 'on'"), 10)
    t.check(f'{who[0]} logged in, live updates on', bool(ok))


def keys(b, *k):
    ActionChains(b.driver).send_keys(*k).perform()


def focused_row(b):
    return b.js("const r = document.activeElement && document.activeElement.closest('#queue-body tr');"
                " return r ? Number(r.dataset.id) : null")


def count(b, view):
    return b.js(f"return document.querySelector('[data-count=\"{view}\"]').textContent")


def holder_db(env, tid):
    return env.sql(f'SELECT coalesce(u.login, \'-\') FROM ticket t LEFT JOIN app_user u ON u.id = t.assignee'
                   f' WHERE t.id = {tid}')[0][0]


def step_queue_keys(t, env, a, tids):
    """A: j/k through the queue, c claims the focused row, Enter opens it."""
    t1, t2 = tids
    rows = a.wait(lambda: [int(r.get_attribute('data-id')) for r in a.finds('#queue-body tr')] == [t1, t2], 10)
    t.check('要対応: both tickets, oldest first', bool(rows),
            str([r.get_attribute('data-id') for r in a.finds('#queue-body tr')]))
    t.equal('tab counts: 要対応 2, 自分の担当 0', (count(a, 'todo'), count(a, 'mine')), ('2', '0'))
    t.equal('status shown by word, with a mark of its own',
            a.js("const s = document.querySelector('#queue-body .status');"
                 " return [s.textContent, getComputedStyle(s, '::before').content]"),
            ['新規', '"●" / ""'])
    a.js("document.getElementById('queue-title').focus()")
    keys(a, 'j')
    t.equal('j focuses the first row', focused_row(a), t1)
    keys(a, 'j')
    t.equal('j again: the second row', focused_row(a), t2)
    keys(a, 'j')
    t.equal('j on the last row stays there', focused_row(a), t2)
    keys(a, 'k')
    t.equal('k goes back up', focused_row(a), t1)
    keys(a, 'c')
    claimed = mdg.wait_for(lambda: holder_db(env, t1) == A[0], 5)
    t.check('c claims the focused row', bool(claimed), holder_db(env, t1))
    t.check('the claim is read out', bool(a.wait(lambda: f'受付 {t1}番を担当しました。' in
                                               a.find('#announcer').get_attribute('textContent'), 5)))
    t.check('the claimed ticket leaves 要対応; the focus moves on to the next one',
            bool(a.wait(lambda: [int(r.get_attribute('data-id')) for r in a.finds('#queue-body tr')] == [t2]
                        and focused_row(a) == t2, 5)), str(focused_row(a)))
    t.check('tab counts follow: 要対応 1, 自分の担当 1',
            bool(a.wait(lambda: (count(a, 'todo'), count(a, 'mine')) == ('1', '1'), 5)),
            str((count(a, 'todo'), count(a, 'mine'))))
    a.screenshot('1-queue-claimed')
    a.find('.view-btn[data-view="mine"]').click()
    t.check('自分の担当: the ticket, A (自分) as holder', bool(a.wait(lambda: [
        (int(r.get_attribute('data-id')), r.find_element('css selector', 'td.c-holder').text)
        for r in a.finds('#queue-body tr')] == [(t1, '青木 一郎（自分）')], 5)))
    a.js(f"document.querySelector('#queue-body tr[data-id=\"{t1}\"] a').focus()")
    keys(a, Keys.ENTER)
    ok = a.wait(lambda: a.visible('#wf-holder') and '青木 一郎（自分）' in a.find('#wf-holder').text, 10)
    t.check('Enter opens the ticket; holder: A (自分)', bool(ok))
    t.equal('no "held by someone else" notice for the holder', a.finds('#wf-held'), [])


def step_second_operator(t, env, b, base, t1):
    """B opens A's ticket: sees A as holder; B's claim is refused with the message."""
    b.get(f'{base}/#/tickets/{t1}')
    held = b.wait(lambda: b.visible('#wf-held'), 10)
    t.equal('B sees who holds the ticket', held.text if held else None, 'この受付は 青木 一郎 さんが対応中です。')
    t.equal('holder line for B', b.find('#wf-holder').text, '担当: 青木 一郎')
    b.find('#wf-claim').click()
    msg = b.wait(lambda: b.find('#wf-message').text, 5)
    t.equal('B\'s claim is refused with the message', msg, '青木 一郎 さんが対応中のため、担当できません。')
    t.equal('the refusal is an error line (not colour alone: the ⚠ mark)',
            b.js("const p = document.getElementById('wf-message');"
                 " return [p.classList.contains('form-error'), getComputedStyle(p, '::before').content]"),
            [True, '"⚠ "'])
    t.equal('still A\'s in the database', holder_db(env, t1), A[0])
    b.screenshot('2-ticket-held-by-a')


def step_presence_and_note(t, a, b, t1):
    """A types a note: B sees A typing, then the note on the timeline."""
    note = a.find('#wf-note')
    note.click()
    note.send_keys('折り返し電話済み。ce j k')   # shortcut letters typed into the field
    t.equal('keys typed into the note stay there', note.get_attribute('value'), '折り返し電話済み。ce j k')
    typing = b.wait(lambda: b.find('#wf-typing').text, 5)
    t.equal('B sees A typing', typing, '青木 一郎 さんが入力中…')
    t.equal('A does not see herself typing', a.find('#wf-typing').text, '')
    a.find('#wf-note-add').click()
    t.check('A: note added', bool(a.wait(lambda: a.find('#wf-message').text == 'メモを追加しました。', 5)))
    t.equal('A: the note box is empty again', a.find('#wf-note').get_attribute('value'), '')
    seen = b.wait(lambda: [n.text for n in b.finds('#timeline article.note p.note-body')], 5)
    t.equal('B: the note is on the timeline without a reload', seen, ['折り返し電話済み。ce j k'])
    t.equal('B: its heading names A', b.find('#timeline article.note h3').text.split(' ')[0] if seen else None,
            '内部メモ（青木')
    b.screenshot('3-ticket-note-and-typing')


def step_ticket_keys(t, env, a, t1):
    """r dispatches mdg:reply; e goes to the resolution; ? lists the keys."""
    a.js("window.__reply = null; document.addEventListener('mdg:reply', e => { window.__reply = e.detail.id; })")
    a.js("document.getElementById('ticket-title').focus()")
    keys(a, 'r')
    t.equal('r dispatches mdg:reply for the ticket', a.js('return window.__reply'), t1)
    t.check('r opens the composer with the focus on its template picker', bool(a.wait(
        lambda: a.js("return document.activeElement && document.activeElement.id") == 'composer-template', 5)))
    a.js("document.getElementById('ticket-title').focus()")
    keys(a, 'e')
    t.equal('e: status 解決 chosen, focus on the resolution',
            a.js("return [document.getElementById('wf-status').value, document.activeElement.id]"),
            ['resolved', 'wf-resolution-select'])
    before = a.find('#wf-message').text  # the note's confirmation may still stand there
    a.find('#wf-status-save').click()
    msg = a.wait(lambda: (lambda m: m if m and m != before else None)(a.find('#wf-message').text), 5)
    t.equal('resolving without a resolution is refused by the server, in words', msg,
            '受け付けられませんでした（resolution: is required to resolve a ticket）。')
    a.js("document.getElementById('wf-status').value = 'resolved';"
         " document.getElementById('wf-status').dispatchEvent(new Event('change'))")
    sel = a.find('#wf-resolution-select')
    sel.send_keys('センター内回答')
    a.find('#wf-status-save').click()
    done = mdg.wait_for(lambda: env.sql(f'SELECT status, resolution FROM ticket WHERE id = {t1}') ==
                        [['resolved', 'answered']], 5)
    t.check('resolved with センター内回答', bool(done))
    ev = a.wait(lambda: [e.text for e in a.finds('#timeline p.event-status')], 5)
    t.check('the timeline shows the change in words',
            bool(ev) and ev[-1].endswith('状態変更（青木 一郎）: 対応中 → 解決（センター内回答（一次回答））'), repr(ev))
    keys(a, '?')
    t.check('? opens the list of shortcuts', bool(a.wait(lambda: a.js(
        "const d = document.getElementById('keys-help'); return d && d.open"), 3)))
    t.equal('the list names every key', a.js(
        "return Array.from(document.querySelectorAll('#keys-help kbd')).map(k => k.textContent)"),
        ['j', 'k', 'Enter', 'c', 'r', 'e', '?'])
    a.screenshot('4-keys-help')
    keys(a, Keys.ESCAPE)
    t.check('Escape closes it', bool(a.wait(lambda: not a.js(
        "return document.getElementById('keys-help').open"), 3)))


def step_live_counts(t, env, b, base):
    """B watches the queue; a new mail moves the 要対応 count without a reload."""
    b.get(base + '/#/')
    b.wait(lambda: b.visible('#view-queue') and count(b, 'todo') == '1', 10)
    b.js("window.__mark = 'same-page'")
    before = count(b, 'todo')
    b.find('#f-tag').click()
    keys(b, 'j')
    t.equal('j typed into a filter field is text, not a move', (b.find('#f-tag').get_attribute('value'),
                                                                 focused_row(b)), ('j', None))
    b.find('#f-tag').clear()
    t0 = time.monotonic()
    env.maildir_drop(mail(2))
    moved = b.wait(lambda: count(b, 'todo') == str(int(before) + 1), 10)
    took = time.monotonic() - t0
    t.check(f'要対応 count goes {before} -> {int(before) + 1} live ({took:.1f} s)', bool(moved), count(b, 'todo'))
    t.check('and the new row is there', bool(b.wait(lambda: any(
        a.text == SUBJECTS[2] for a in b.finds('#queue-body a.row-link')), 5)))
    t.equal('no reload', b.js('return window.__mark'), 'same-page')
    b.find('.view-btn[data-view="resolved"]').click()
    t.check('解決済み tab: the resolved ticket', bool(b.wait(lambda: [r.text for r in b.finds(
        '#queue-body td.c-status')] == ['解決'], 5)),
        str([r.text for r in b.finds('#queue-body td.c-status')]))
    t.equal('tab state and URL', (b.js('return location.hash'), b.find('.view-btn[aria-pressed="true"]').get_attribute(
        'data-view'), b.find('#queue-title').text), ('#/view/resolved', 'resolved', '解決済み'))
    b.get(base + '/#/all')
    b.wait(lambda: len(b.finds('#queue-body tr')) == 3, 10)
    b.find('#f-channel').send_keys('FAX')
    b.find('#queue-filters button[type="submit"]').click()
    t.check('filter by channel FAX: no row, and the reason', bool(b.wait(
        lambda: not b.finds('#queue-body tr') and b.visible('#queue-empty') and
        b.find('#queue-empty').text == '条件に合う受付はありません。', 5)))
    t.equal('the filters in force are spelled out', b.find('#filter-state').text, '絞り込み中: 受付経路: FAX')
    b.find('#f-clear').click()
    t.check('clearing the filters brings the rows back', bool(b.wait(lambda: len(b.finds('#queue-body tr')) == 3, 5)))


def step_axe(t, b, src, base, tid):
    b.get(base + '/#/')
    b.wait(lambda: b.visible('#queue-body tr'), 10)
    t.equal('queue with tabs and filters: no WCAG 2.1 AA violation', axe(b, src), [])
    b.get(f'{base}/#/tickets/{tid}')
    b.wait(lambda: b.visible('#wf-panel'), 10)
    t.equal('ticket with its panel, notes and timeline: no WCAG 2.1 AA violation', axe(b, src), [])


def listening(port):
    try:
        socket.create_connection(('127.0.0.1', port), 0.2).close()
        return True
    except OSError:
        return False


def main():
    t = mdg.Checks('browser-workflow')
    with open(AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-workflow') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        for who in (A, B):
            env.add_user(who[0], who[1], who[2], who[3])
        env.start('ingest-mail')
        tick = env.start('ticketd')
        if not mdg.wait_for(lambda: listening(port), 10):
            t.fail('ticketd listening', tick.log_text()[-2000:])
            t.done()
        env.maildir_drop(mail(0))
        t1 = ticket_of(env, SUBJECTS[0])
        env.maildir_drop(mail(1))
        t2 = ticket_of(env, SUBJECTS[1])
        t.check('two mail tickets', bool(t1 and t2))
        base = f'http://127.0.0.1:{port}'
        try:
            with Browser(mdg.ARTEFACTS, 'browser-workflow-a') as a, \
                    Browser(mdg.ARTEFACTS, 'browser-workflow-b') as b:
                for x in (a, b):
                    x.driver.set_script_timeout(30)
                login(t, a, base, A)
                login(t, b, base, B)
                step_queue_keys(t, env, a, (t1, t2))
                step_second_operator(t, env, b, base, t1)
                step_presence_and_note(t, a, b, t1)
                step_ticket_keys(t, env, a, t1)
                step_live_counts(t, env, b, base)
                step_axe(t, a, axe_src, base, t1)
                step_axe(t, b, axe_src, base, t1)
                for name, x in (('A', a), ('B', b)):
                    errors = [m for m in x.read_console() + x.console
                              if 'Uncaught' in m or 'Content Security Policy' in m]
                    t.equal(f'{name}: no script errors or CSP violations', sorted(set(errors)), [])
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print('# --- ticketd log tail ---\n' + tick.log_text()[-2000:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
