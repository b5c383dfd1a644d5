#!/usr/bin/python3
"""Approval before sending in two real browsers (templates/web/js/approvals.js
and the composer's held state).

Private PostgreSQL, ingest-mail (Maildir) and ticketd; two headless
Chromiums.  The ticket's queue requires approval (set by an admin over the
API).  Operator A writes a reply in the composer: the preview says
承認が必要です, and once sent the page says the reply waits for approval
(no countdown) and the timeline shows 承認待ち.  A's header offers
承認待ち but the list there stays empty: their own reply is not theirs to
approve.  Supervisor B, in another browser, opens 承認待ち from the header:
the reply is there with its preview (subject, To, body exactly as stored);
axe-core finds no WCAG 2.1 AA violation on the view.  差し戻し without a
comment is refused on the page with the focus on the comment; then B
approves with the keyboard: the row is queued, approved by B, and A's
ticket page shows 承認: B.  Then the mail is made dead by hand: B's 送信失敗
view lists it (axe again) and 再送 puts it back in the queue.  A second reply,
returned by B, is shown to A with B's comment and opens again in A's composer
with its text and recipient.  No script errors, no CSP violations.
Screenshots: tests/artefacts/browser-approval-*.png.
"""
import os
import shutil
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
import test_a11y  # noqa: E402
import test_reply as rp  # noqa: E402
from ticketd_http import Client  # noqa: E402

OP = ('op-a', 'approval view operator 1', '承認 依頼者')
SV = ('sv-b', 'approval view supervisor 1', '承認 責任者')
AD = ('ad-c', 'approval view admin 1', '設定 管理者')
QUEUE = '福祉'
BODY = '福祉サービスについてご回答します。\n窓口でお手続きください。\n'


def login(t, b, base, who):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(who[0])
    b.find('#login-password').send_keys(who[1] + Keys.ENTER)
    t.check(f'{who[0]} logged in', bool(b.wait(lambda: b.visible('#view-queue'), 10)))


def press(b, css, key=Keys.ENTER):
    b.js('arguments[0].focus()', b.find(css))
    b.driver.switch_to.active_element.send_keys(key)


def type_into(b, css, text):
    b.js('arguments[0].value = ""; arguments[0].focus()', b.find(css))
    b.driver.switch_to.active_element.send_keys(text)


def operator_sends(t, b, env, tid):
    press(b, '#composer-open')
    t.check('composer open', bool(b.wait(lambda: b.visible('#composer-body') and
                                         b.find('#composer-to').get_attribute('value'), 10)))
    type_into(b, '#composer-body', BODY)
    boxes = b.wait(lambda: b.finds('#composer-confirm input[type=checkbox]'), 5) or []
    for x in boxes:
        press(b, f'#{x.get_attribute("id")}', Keys.SPACE)
    press(b, '#composer-preview')
    notice = b.wait(lambda: b.visible('#composer-approval-notice'), 10)
    t.check('preview: 承認が必要です before sending', bool(notice) and '承認が必要です' in notice.text,
            notice.text if notice else None)
    t.check('the send hint says it will wait for approval',
            '承認待ち' in b.find('#composer-send-hint').text, b.find('#composer-send-hint').text)
    b.screenshot('1-composer-approval')
    b.wait(lambda: not b.js("return document.getElementById('composer-send').disabled"), 5)
    press(b, '#composer-send')
    status = b.wait(lambda: b.visible('#composer-sent-status'), 10)
    t.check('sent: the page says it waits for approval, focus on 取り下げ, no countdown',
            bool(status) and '承認待ち' in status.text and not b.finds('#composer-countdown') and
            b.wait(lambda: b.js("return document.activeElement.id") == 'composer-cancel', 5),
            status.text if status else None)
    t.check('timeline: 承認待ち', bool(b.wait(
        lambda: '承認待ち' in b.find('article.message-out p.delivery').text, 10)))
    rows = env.sql(f"SELECT id, state, created_by FROM outbound_mail WHERE ticket_id = {tid}")
    t.equal('one row, held, by the operator', [r[1:] for r in rows], [['awaiting_approval', OP[0]]])
    b.get(b.driver.current_url.split('#')[0] + '#/approvals')
    shown = b.wait(lambda: b.visible('#approvals-status') and '承認待ち 0件' in b.find('#approvals-status').text, 10)
    t.check('the author\'s 承認待ち list is empty', bool(shown))
    return int(rows[0][0]) if rows else None


def supervisor_approves(t, b, env, base, tid, oid, axe_src):
    t.check('the header offers 承認待ち', bool(b.wait(lambda: b.visible('#nav-approvals'), 5)))
    press(b, '#nav-approvals')
    item = b.wait(lambda: b.visible(f'#approval-{oid}'), 10)
    t.check('the held reply is listed', bool(item))
    if not item:
        return
    t.check('focus on the heading after the route change',
            bool(b.wait(lambda: b.js("return document.activeElement.id") == 'approvals-title', 5)))
    pairs = dict(b.js("return Array.from(document.querySelectorAll(arguments[0] + ' dl.headers > div'))"
                      ".map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])",
                      f'#approval-{oid}'))
    t.equal('preview: author, reason, To, subject',
            (pairs.get('作成者'), pairs.get('承認が必要な理由'), pairs.get('宛先'), pairs.get('件名')),
            (OP[0], f'キュー「{QUEUE}」の設定', f'{rp.CITIZEN[0]} <{rp.CITIZEN[1]}>',
             f'Re: [受付番号:{tid}] {rp.SUBJECT}'))
    t.equal('preview: the body exactly', b.find(f'#approval-{oid}-body').get_attribute('textContent'), BODY)
    b.driver.set_script_timeout(30)
    b.screenshot('2-approvals')
    t.equal('承認待ち view: no WCAG 2.1 AA violation', test_a11y.axe(b, axe_src), [])
    press(b, f'#approval-{oid}-return')
    t.check('差し戻し without a comment: refused here, focus on the comment', bool(b.wait(
        lambda: b.js("return document.activeElement.id") == f'approval-{oid}-comment' and
        'コメント' in b.find(f'#approval-{oid}-note').text, 5)))
    t.equal('... and nothing changed', env.sql(f'SELECT state FROM outbound_mail WHERE id = {oid}'),
            [['awaiting_approval']])
    t.equal('the refused comment field is marked, with an error message: no violation',
            test_a11y.axe(b, axe_src), [])
    press(b, f'#approval-{oid}-approve')
    t.check('approved: the list is empty', bool(b.wait(
        lambda: '承認待ち 0件' in b.find('#approvals-status').text and not b.finds(f'#approval-{oid}'), 10)))
    t.equal('the row: queued, approved by the supervisor',
            env.sql(f'SELECT state, review, reviewed_by FROM outbound_mail WHERE id = {oid}'),
            [['queued', 'approved', SV[0]]])
    b.screenshot('3-approved')


def supervisor_requeues(t, b, env, tid, oid, axe_src):
    """the same mail made dead by hand (no relay runs here): 送信失敗 lists it, 再送 requeues it"""
    env.sql(f"UPDATE outbound_mail SET state = 'dead', attempts = 3, last_error = '550 5.1.1 rejected: test'"
            f" WHERE id = {oid}")
    press(b, '#nav-dead')
    row = b.wait(lambda: b.visible(f'#dead-{oid}'), 10)
    t.check('送信失敗 lists the dead mail', bool(row))
    if not row:
        return
    cells = b.js("return Array.from(arguments[0].querySelectorAll('td')).map(c => c.textContent)", row)
    t.equal('its row: number, ticket, recipient, reason, attempts, author, 再送',
            [cells[0], cells[1], cells[3], cells[4], cells[5], cells[7], cells[8]],
            [str(oid), str(tid), rp.CITIZEN[1], '送信失敗 550 5.1.1 rejected: test', '3', OP[0], '再送'])
    t.equal('送信失敗 view: no WCAG 2.1 AA violation', test_a11y.axe(b, axe_src), [])
    press(b, f'#dead-{oid}-requeue')
    t.check('再送: the list is empty', bool(b.wait(lambda: b.visible('#dead-status') and
                                                  b.find('#dead-status').text == '0件', 10)))
    t.equal('the row: queued again by the supervisor, attempts 0',
            env.sql(f'SELECT state, attempts, requeued_by FROM outbound_mail WHERE id = {oid}'),
            [['queued', '0', SV[0]]])
    b.screenshot('5-dead-requeued')


def operator_reopens(t, a, env, base, port, tid):
    """a reply returned by the supervisor (over the API) comes back into A's composer"""
    op, sv = Client(port), Client(port)
    op.login(OP[0], OP[1])
    sv.login(SV[0], SV[1])
    msg_in = int(env.sql(f"SELECT id FROM message WHERE ticket_id = {tid} AND direction = 'in'")[0][0])
    body = '差し戻される二通目の回答です。\n'
    s = op.request('POST', f'/api/tickets/{tid}/reply',
                   json_body=rp.draft(msg_in, [rp.CITIZEN[1]], '', body, force=True)).json() or {}
    r = sv.request('POST', f'/api/outbound/{s.get("outbound_id")}/return', json_body={'comment': '敬語を直してください'})
    t.equal('a second reply, returned over the API', r.status, 200)
    a.get(f'{base}/#/tickets/{tid}')
    a.driver.refresh()
    note = a.wait(lambda: a.visible('#composer-returned'), 10)
    t.check('the composer says it was returned, by whom, with the comment',
            bool(note) and SV[0] in note.text and '敬語を直してください' in note.text, note.text if note else None)
    press(a, '#composer-reopen')
    t.check('reopened: the returned text in the form, focus on the body', bool(a.wait(
        lambda: a.find('#composer-body').get_attribute('value') == body and
        a.js("return document.activeElement.id") == 'composer-body', 10)))
    t.equal('reopened: the same recipient', a.find('#composer-to').get_attribute('value'), rp.CITIZEN[1])
    a.screenshot('6-reopened')


def main():
    t = mdg.Checks('browser-approval')
    with open(test_a11y.AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-approval') as env:
        env.start_db()
        folder = os.path.join(env.root, 'templates', 'reply')
        shutil.copytree(os.path.join(mdg.REPO, 'templates', 'reply'), folder)
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'mail.from_addr': rp.FROM_ADDR,
                            'mail.from_name': rp.FROM_NAME, 'ticketd.reply_templates': folder})
        for u, role in ((OP, 'operator'), (SV, 'supervisor'), (AD, 'admin')):
            env.add_user(u[0], role, u[1], u[2])
        env.start('ingest-mail')
        tick = env.start('ticketd')
        env.maildir_drop(rp.citizen_mail('browser-approval-1@example.jp', pdf=False))
        tid, _ = rp.wait_ticket(env, 'browser-approval-1@example.jp')
        t.check('mail became a ticket', tid is not None)
        if tid is None:
            t.done()
        env.sql(f"UPDATE ticket SET queue = '{QUEUE}' WHERE id = {tid}")
        ad = Client(port)
        ad.login(AD[0], AD[1])
        r = ad.request('PUT', f'/api/admin/queues/{urllib.parse.quote(QUEUE)}/settings',
                       json_body={'approval_required': True})
        t.equal('the admin requires approval for the queue', r.status, 200)
        base = f'http://127.0.0.1:{port}'
        try:
            with Browser(mdg.ARTEFACTS, 'browser-approval') as a, \
                    Browser(mdg.ARTEFACTS, 'browser-approval-sv') as b:
                login(t, a, base, OP)
                a.get(f'{base}/#/tickets/{tid}')
                t.check('ticket shown', bool(a.wait(lambda: a.visible('#composer-open'), 10)))
                t.equal('an operator\'s header: 承認待ち, not 送信失敗',
                        (a.find('#nav-approvals').is_displayed(), a.find('#nav-dead').is_displayed()), (True, False))
                oid = operator_sends(t, a, env, tid)
                login(t, b, base, SV)
                if oid:
                    supervisor_approves(t, b, env, base, tid, oid, axe_src)
                a.get(f'{base}/#/tickets/{tid}')
                t.check('the operator\'s timeline: 承認: the supervisor', bool(a.wait(
                    lambda: f'承認: {SV[0]}' in a.find('article.message-out').text, 10)))
                a.screenshot('4-ticket-approved')
                if oid:
                    supervisor_requeues(t, b, env, tid, oid, axe_src)
                operator_reopens(t, a, env, base, port, tid)
                for br in (a, b):
                    errors = [m for m in br.read_console() + br.console
                              if 'Uncaught' in m or 'Content Security Policy' in m]
                    t.equal('no script errors or CSP violations', sorted(set(errors)), [])
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
