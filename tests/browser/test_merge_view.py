#!/usr/bin/python3
"""統合 and 分割 in the browser (js/merge.js): three mails through the Maildir
(A, a reply in A's thread, B); on A's page the first mail has no 分割 button
and the reply has one, labelled; the 統合 control is labelled and says in
Japanese why merging into itself is refused; on B's page the operator types
A's number, confirms the browser's dialog, and B then says it was merged into
A with a link; A's page shows B's mail and the 統合 event; the reply's 分割
button, confirmed, opens the new ticket with that mail and its 分割 event;
no WCAG 2.1 AA violation (axe-core) on the ticket page with the controls.
Undo: the new ticket's 分割を取り消す, confirmed, goes back to A with the mail
and the event; B's 統合を取り消す is refused in Japanese while someone else
holds A, then, confirmed, gives B back its mail and the 統合 control, and A
no longer shows B's mail; axe on B's page with the undo button.

Run: /usr/bin/python3 tests/browser/test_merge_view.py
"""
import os
import sys
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser  # noqa: E402
from test_a11y import AXE, axe, login  # noqa: E402


def the_mail(subj, n, reply_to=None):
    m = EmailMessage()
    m['Subject'] = subj
    m['From'] = '区民 一郎 <ichiro@example.jp>'
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Date'] = 'Fri, 20 Nov 2026 10:00:00 +0900'
    m['Message-ID'] = f'<merge-view-{n}@example.jp>'
    if reply_to:
        m['In-Reply-To'] = f'<merge-view-{reply_to}@example.jp>'
    m.set_content(f'本文 {n}\n')
    return bytes(m)


def ticket_of(env, n):
    r = mdg.wait_for(lambda: env.sql(
        "SELECT ticket_id FROM message WHERE message_id_hdr LIKE "
        f"'%merge-view-{n}@example.jp%'"), 20)
    return int(r[0][0]) if r else None


def open_ticket(b, base, tid, subject):
    b.get(f'{base}/#/tickets/{tid}')
    return b.wait(lambda: b.visible('#ticket-title') and b.find('#ticket-title').text == subject, 10)


def accept_confirm(b):
    b.wait(lambda: b.alert_text() is not None, 5)
    text = b.alert_text()
    b.driver.switch_to.alert.accept()
    return text


def undo_split(t, b, env, a, ids):
    n = int(env.sql(f'SELECT ticket_id FROM message WHERE id = {ids[2]}')[0][0])
    t.check('the split ticket offers 分割を取り消す', bool(b.wait(
        lambda: b.visible('#split-undo') and b.find('#split-undo').text == '分割を取り消す', 10)))
    b.find('#split-undo').click()
    t.equal('the unsplit confirmation names both tickets', accept_confirm(b),
            f'受付 {n} の分割を取り消し、メールを受付 {a} に戻します。よろしいですか。')
    t.check('back on A with the mail', bool(b.wait(
        lambda: b.find('#ticket-title').text == '粗大ごみ' and b.visible(f'#msg-{ids[2]}-title'), 10)))
    t.check('A shows the undo of the split', bool(b.wait(lambda: any(
        x.text.endswith(f'分割の取り消し（統合 太郎）: {n} -> {a}') for x in b.finds('.event-unsplit')), 10)))
    t.equal('the split ticket is closed, merged back into A',
            env.sql(f'SELECT status, merged_into FROM ticket WHERE id = {n}'), [['closed', str(a)]])


def undo_merge(t, b, env, base, a, b_id, ids, axe_src):
    open_ticket(b, base, b_id, '住民票')
    t.check('the merged ticket offers 統合を取り消す', bool(b.wait(
        lambda: b.visible('#merge-undo') and b.find('#merge-undo').text == '統合を取り消す', 10)))
    t.equal('merged ticket with the undo button: no WCAG 2.1 AA violation', axe(b, axe_src), [])
    env.pg.psql(f"UPDATE ticket SET assignee = (SELECT id FROM app_user WHERE login = 'op-other'),"
                f" assigned_at = now() WHERE id = {a}", user='madoguchi_owner')
    b.find('#merge-undo').click()
    t.equal('the undo confirmation names both tickets', accept_confirm(b),
            f'受付 {b_id} の受付 {a} への統合を取り消し、移したメール・内部メモ・返信・連絡先を受付 {b_id} に戻します。よろしいですか。')
    t.check('refused while someone else holds A: said in Japanese', bool(b.wait(
        lambda: b.find('#merge-message').text == f'受付 {a} は 別 次郎 さんが対応中のため、この操作はできません。', 10)))
    env.pg.psql(f'UPDATE ticket SET assignee = NULL, assigned_at = NULL WHERE id = {a}', user='madoguchi_owner')
    b.find('#merge-undo').click()
    accept_confirm(b)
    t.check('B has its mail and the 統合 control back', bool(b.wait(
        lambda: b.visible(f'#msg-{ids[3]}-title') and b.visible('#merge-into') and not b.visible('#merge-merged'), 10)))
    t.check('B shows the undo of the merge', any(
        x.text.endswith(f'統合の取り消し（統合 太郎）: {b_id} -> {a}') for x in b.finds('.event-unmerged')))
    open_ticket(b, base, a, '粗大ごみ')
    t.check("A no longer shows B's mail", bool(b.wait(
        lambda: b.visible(f'#msg-{ids[1]}-title') and not b.visible(f'#msg-{ids[3]}-title'), 10)))


def main():
    t = mdg.Checks('browser-merge')
    with open(AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-merge') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user('op-merge', 'operator', 'merge-pass-1', '統合 太郎')
        env.add_user('op-other', 'operator', 'other-pass-1', '別 次郎')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        env.maildir_drop(the_mail('粗大ごみ', 1))
        a = ticket_of(env, 1)
        env.maildir_drop(the_mail('Re: 粗大ごみ', 2, reply_to=1))
        env.maildir_drop(the_mail('住民票', 3))
        b_id = ticket_of(env, 3)
        t.check('A and B are tickets, the reply joined A', a and b_id and ticket_of(env, 2) == a)
        ids = {int(r[0]): int(r[1]) for r in env.sql(
            "SELECT substring(message_id_hdr from 'merge-view-(\\d)'), id FROM message")}
        base = f'http://127.0.0.1:{port}'
        try:
            with Browser(mdg.ARTEFACTS, 'browser-merge') as b:
                login(t, b, base, 'op-merge', 'merge-pass-1')
                open_ticket(b, base, a, '粗大ごみ')
                b.wait(lambda: b.visible(f'#split-{ids[2]}'), 10)
                t.equal('分割 only on the later incoming mail',
                        [x.get_attribute('id') for x in b.finds('.split-btn')], [f'split-{ids[2]}'])
                t.equal('the 分割 button is labelled with its mail',
                        b.find(f'#split-{ids[2]}').get_attribute('aria-label'), '分割: 受信 2を新しい受付にする')
                t.equal('the number field has its label',
                        b.find('label[for="merge-into"]').text, '統合先の受付番号')
                t.equal('ticket page with 統合 and 分割: no WCAG 2.1 AA violation', axe(b, axe_src), [])
                b.find('#merge-into').send_keys(str(a))
                b.find('#merge-submit').click()
                accept_confirm(b)
                t.check('merging into itself: said in Japanese', bool(b.wait(
                    lambda: b.find('#merge-message').text == '同じ受付には統合できません。', 10)))
                open_ticket(b, base, b_id, '住民票')
                b.wait(lambda: b.visible('#merge-into'), 10)
                b.find('#merge-into').send_keys(str(a))
                b.find('#merge-submit').click()
                t.equal('the confirmation names both tickets', accept_confirm(b),
                        f'受付 {b_id} を受付 {a} に統合します。よろしいですか。')
                t.check('B says it was merged into A, with a link', bool(b.wait(
                    lambda: b.visible('#merge-merged') and
                    b.find('#merge-merged').text == f'この受付は受付 {a} に統合されました。 受付 {a} を開く', 10)))
                t.check('B offers no 統合 any more', not b.visible('#merge-into'))
                b.find('#merge-target-link').click()
                t.check("A shows B's mail", bool(b.wait(
                    lambda: b.find('#ticket-title').text == '粗大ごみ' and b.visible(f'#msg-{ids[3]}-title'), 10)))
                t.check('A shows the 統合 event', any(
                    x.text.endswith(f'統合（統合 太郎）: {b_id} -> {a}') for x in b.finds('.event-merged_into')))
                b.find(f'#split-{ids[2]}').click()
                accept_confirm(b)
                t.check('分割 opens the new ticket with the mail', bool(b.wait(
                    lambda: b.find('#ticket-title').text == 'Re: 粗大ごみ' and b.visible(f'#msg-{ids[2]}-title'), 10)))
                t.check('the new ticket shows where it came from', any(
                    x.text.endswith(f'分割（元の受付から）（統合 太郎）: {a}') for x in b.finds('.event-split_from')))
                b.screenshot('split')
                undo_split(t, b, env, a, ids)
                undo_merge(t, b, env, base, a, b_id, ids, axe_src)
                errors = [m for m in b.read_console() + b.console if 'Uncaught' in m]
                t.equal('no script errors', sorted(set(errors)), [])
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
