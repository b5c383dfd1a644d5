#!/usr/bin/python3
"""所管課へのエスカレーション and 所管課の管理 in the browser (js/escalation.js,
js/admin_departments.js; ticketd/escalate.h, department.h).

Private PostgreSQL, ingest-mail (Maildir), ticketd, escalationd and postfix's
smtp-sink; headless Chromium.

- the admin opens 所管課の管理 from the admin menu, chooses a CSV with a bad line in
  the file input (the line number is said, nothing stored), then a good one
  (追加 2 件), sees both departments listed, edits one's phone (stored); no
  WCAG 2.1 AA violation (axe-core) on the page;
- a citizen's mail with a PDF dropped into the Maildir becomes a ticket; the
  operator picks 区民課 > 住民記録係: To shows both liaison addresses, the
  無害化 notice is there, the PDF's box is unticked; a phone number typed into
  the body is refused (the finding listed, "この箇所を選択" selects exactly it,
  "連絡先を含めて送る" offered only then; no axe violation); deleted with
  Backspace and sent by keyboard: the token and 所管課対応中 are shown, the list
  says 依頼中;
- at the sink: the exact subject "[#token#] <proposed subject>", plain text,
  no attachment;
- the department's answer from its domain with the token (into the Maildir)
  turns the row to 回答済み live and the timeline shows 所管課からの回答
  without a reload; no axe violation on the section;
- a second escalation to the same department while one is open is refused
  (409) in words naming the open one; closing it by hand as 取消し;
- in English the section and its states are in English (no axe violation);
- a viewer gets no section.

Run: /usr/bin/python3 tests/browser/test_escalation_view.py
"""
import email
import email.policy
import os
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402
from test_a11y import AXE, axe  # noqa: E402
from ticketd_http import Client, _listening  # noqa: E402

LIAISON = 'renraku@city.example.lg.jp'
JUMIN = ['jumin@ward.example.lg.jp', 'jumin-2@ward.example.lg.jp']
KANKYO = 'kankyo@kankyo.example.lg.jp'
CSV = ('課,係,メール,課長メール,電話\r\n'
       f'区民課,住民記録係,"{JUMIN[0]}; {JUMIN[1]}",kacho@ward.example.lg.jp,03-0000-0001\r\n'
       f'環境課,,{KANKYO},,\r\n')
BAD_CSV = CSV + '土木課,,not-an-address,,\r\n'
YEAR = time.strftime('%Y', time.gmtime(time.time() + 9 * 3600))
PHONE = '03-1234-5678'


def mail(sender, subject, body, attach=None):
    m = EmailMessage()
    m['From'] = sender
    m['To'] = 'madoguchi@city.example.lg.jp'
    m['Subject'] = subject
    m['Date'] = formatdate(time.time(), localtime=True)
    m['Message-ID'] = f'<{time.time_ns()}.escweb@example.jp>'
    m.set_content(body)
    if attach:
        m.add_attachment(attach, maintype='application', subtype='pdf', filename='転出届.pdf')
    return bytes(m).replace(b'\n', b'\r\n')


def ticket_of(env, marker, timeout=20):
    hexm = marker.encode().hex()
    r = mdg.wait_for(lambda: env.sql(
        "SELECT coalesce(ticket_id::text, '') FROM inbound_item"
        f" WHERE state = 'done' AND position(decode('{hexm}', 'hex') in raw) > 0"), timeout)
    return int(r[0][0]) if r and r[0][0] else None


def login(t, b, base, who, pw, ready='#view-queue'):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(who)
    b.find('#login-password').send_keys(pw + Keys.ENTER)
    t.check(f'{who} logged in', bool(b.wait(lambda: b.visible(ready), 10)))


def text_of(b, css):
    els = b.finds(css)
    return els[0].text if els else None


def rows(b, css):
    return b.js(f"return [...document.querySelectorAll('{css} tbody tr')].map("
                "r => [...r.children].map(c => c.textContent.trim()))")


def admin_page(t, b, base, env, axe_src):
    b.find('#admin-menu-button').send_keys(Keys.ENTER)  # by keyboard throughout
    link = b.wait(lambda: b.visible('#nav-departments'), 10)
    t.check('admin: 所管課の管理 in the admin menu', bool(link))
    if not link:
        return
    link.send_keys(Keys.ENTER)
    t.check('the page heading has the focus', bool(b.wait(
        lambda: b.js('return document.activeElement.id') == 'admin-title'
        and b.find('#admin-title').text == '所管課の管理', 10)))
    t.check('the page shows, empty', bool(b.wait(lambda: b.visible('#dep-empty'), 10)), text_of(b, '#main'))
    path = os.path.join(env.root, 'bad.csv')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(BAD_CSV)
    b.find('#dep-csv').send_keys(path)
    b.find('#dep-import').send_keys(Keys.ENTER)
    said = b.wait(lambda: text_of(b, '#dep-import-result'), 10)
    t.equal('a CSV with a bad line: its line said, nothing stored',
            (said, env.sql('SELECT count(*) FROM department')),
            ('読み込めませんでした（4 行目: mail: "not-an-address" is not a plain address）。何も保存していません。', [['0']]))
    path = os.path.join(env.root, 'good.csv')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\ufeff' + CSV)
    b.find('#dep-csv').send_keys(path)
    b.find('#dep-import').send_keys(Keys.ENTER)
    t.check('the good CSV: 追加 2 件', bool(b.wait(
        lambda: text_of(b, '#dep-import-result') == '読み込みました: 追加 2 件、更新 0 件。', 10)), text_of(b, '#dep-import-result'))
    t.check('the list shows both', bool(b.wait(lambda: len(b.finds('#dep-table tbody tr')) == 2, 10)))
    t.equal('the rows', rows(b, '#dep-table'), [
        ['区民課', '住民記録係', ''.join(JUMIN), 'kacho@ward.example.lg.jp', '03-0000-0001', '有効', '1', '編集 区民課 > 住民記録係'],
        ['環境課', '—', KANKYO, '—', '—', '有効', '2', '編集 環境課']])
    t.equal('所管課の管理: no WCAG 2.1 AA violation', axe(b, axe_src), [])
    kid = env.sql("SELECT id FROM department WHERE name = '環境課'")[0][0]
    b.find(f'#dep-edit-{kid}').send_keys(Keys.ENTER)
    phone = b.wait(lambda: b.visible('#dep-f-phone'), 5)
    t.check('edit: the form opens with the focus in it',
            bool(phone) and b.js('return document.activeElement.id') == 'dep-f-name')
    t.equal('the edit form: no WCAG 2.1 AA violation', axe(b, axe_src), [])
    phone.send_keys('03-0000-0002' + Keys.ENTER)
    t.check('saved: the phone stored', bool(mdg.wait_for(
        lambda: env.sql(f'SELECT phone FROM department WHERE id = {kid}') == [['03-0000-0002']], 10)))
    t.check('the list shows it', bool(b.wait(lambda: '03-0000-0002' in (text_of(b, '#dep-table') or ''), 10)))
    add_one(t, b, env)


def add_one(t, b, env):
    """a third department, switched off: a bad address refused beside its field first"""
    b.find('#dep-add').send_keys(Keys.ENTER)
    name = b.wait(lambda: b.visible('#dep-f-name'), 5)
    t.check('追加: the form opens on 課', bool(name) and b.js('return document.activeElement.id') == 'dep-f-name')
    name.send_keys('土木課')
    b.find('#dep-f-mail').send_keys('doboku')
    b.find('#dep-f-enabled').send_keys(Keys.SPACE)
    b.find('#dep-save').send_keys(Keys.ENTER)
    t.check('a bad address: the reason beside the field, the focus on it', bool(b.wait(
        lambda: text_of(b, '#dep-f-mail-error') == '"doboku" is not a plain address'
        and b.js('return document.activeElement.id') == 'dep-f-mail'
        and b.find('#dep-f-mail').get_attribute('aria-invalid') == 'true', 10)), text_of(b, '#dep-f-mail-error'))
    b.find('#dep-f-mail').send_keys(Keys.CONTROL + Keys.END)
    b.find('#dep-f-mail').send_keys('@doboku.example.lg.jp')
    b.find('#dep-save').send_keys(Keys.ENTER)
    t.check('added, switched off', bool(mdg.wait_for(lambda: env.sql(
        "SELECT mail, enabled FROM department WHERE name = '土木課'") == [['{doboku@doboku.example.lg.jp}', 'f']], 10)),
        text_of(b, '#dep-form'))
    t.check('listed first (order 0) as 無効', bool(b.wait(lambda: len(b.finds('#dep-table tbody tr')) == 3
            and rows(b, '#dep-table')[0] == ['土木課', '—', 'doboku@doboku.example.lg.jp', '—', '—', '無効', '0', '編集 土木課'],
            10)), rows(b, '#dep-table'))


def pick_department(t, b):
    sel = b.wait(lambda: b.visible('#esc-department'), 10)
    t.check('operator: the section with the departments', bool(sel) and bool(b.wait(
        lambda: len(b.finds('#esc-department option')) == 3, 10)))
    t.equal('the enabled departments by path (土木課 is off)', b.js(
        "return [...document.querySelectorAll('#esc-department option')].map(o => o.textContent)"),
        ['（所管課を選んでください）', '区民課 > 住民記録係', '環境課'])
    # by keyboard: focus the select and move down to the first department
    b.find('#esc-department').send_keys(Keys.DOWN)
    return bool(b.wait(lambda: b.visible('#esc-body'), 10))


def findings(t, b, axe_src):
    body = b.find('#esc-body')
    body.send_keys(Keys.CONTROL + Keys.END)
    body.send_keys(Keys.ENTER + PHONE)
    b.find('#esc-send').send_keys(Keys.ENTER)
    box = b.wait(lambda: b.visible('#esc-findings'), 10)
    t.check('a phone number: the finding listed', bool(box) and PHONE in box.text and '電話番号' in box.text,
            box.text if box else None)
    t.equal('the findings box has the focus', b.js('return document.activeElement.id'), 'esc-findings')
    t.check('連絡先を含めて送る offered now', bool(b.visible('#esc-allow')) and not b.find('#esc-allow').is_selected())
    b.find('#esc-findings button').send_keys(Keys.ENTER)
    sel = b.js("const c = document.getElementById('esc-body');"
               " return [document.activeElement.id, c.value.slice(c.selectionStart, c.selectionEnd)]")
    t.equal('この箇所を選択 selects the number in the body', sel, ['esc-body', PHONE])
    t.equal('the findings: no WCAG 2.1 AA violation', axe(b, axe_src), [])
    b.find('#esc-body').send_keys(Keys.BACKSPACE)


def escalate(t, b, env, tid, axe_src):
    t.check('the section is there before any escalation', bool(b.wait(lambda: b.visible('#esc-list-empty'), 10)))
    t.equal('no allow box before a finding', len(b.finds('#esc-allow')), 0)
    if not pick_department(t, b):
        t.fail('the proposed mail loads')
        return None
    t.equal('To: both liaison addresses', text_of(b, '#esc-to'), ', '.join(JUMIN))
    t.check('the 無害化 notice', '添付ファイルがなくても意味が通じる本文' in (text_of(b, '#esc-notice') or ''))
    t.equal('the PDF offered, unticked', (text_of(b, 'label[for="esc-att-0"]'), b.find('#esc-att-0').is_selected()),
            ('転出届.pdf（21 バイト）を添付する', False))
    subject = b.find('#esc-subject').get_attribute('value')
    t.equal('the proposed subject', subject, f'【確認依頼】区民からのお問い合わせ（受付番号 {tid}）')
    t.equal('the section: no WCAG 2.1 AA violation', axe(b, axe_src), [])
    findings(t, b, axe_src)
    jumin = b.js("return document.getElementById('esc-department').value")
    typed = b.js("return document.getElementById('esc-body').value")
    b.find('#esc-department').send_keys(Keys.DOWN)
    t.equal('another department over an edited mail: asked first',
            b.wait(lambda: b.alert_text(), 5), '編集中の件名と本文を新しい案で置き換えます。よろしいですか。')
    b.dismiss_alerts()
    t.equal('declined: the department and the edits stay', b.js(
        "return [document.getElementById('esc-department').value, document.getElementById('esc-body').value]"),
        [jumin, typed])
    b.find('#esc-send').send_keys(Keys.ENTER)
    token = f'E-{YEAR}-00001'
    sent = b.wait(lambda: text_of(b, '#esc-sent'), 10)
    t.equal('sent: the token and the ticket status', sent,
            f'送信しました。整理番号 {token}（区民課 > 住民記録係）。受付の状態: 所管課対応中')
    t.check('the list: 依頼中', bool(b.wait(lambda: (rows(b, '#esc-list') or [[]])[0][:3] == [token, '区民課 > 住民記録係', '依頼中'], 10)),
            rows(b, '#esc-list'))
    t.check('the summary says 所管課対応中 live', bool(b.wait(lambda: '所管課対応中' in text_of(b, '#ticket-meta'), 10)))
    heads = lambda: b.js("return [...document.querySelectorAll('#timeline article.message h3')].map(h => h.textContent)")
    t.check('the timeline marks the mail sent as the request, not a reply',
            bool(b.wait(lambda: heads() == ['受信 1', f'所管課への依頼 {token}（送信 1）'], 10)), heads())
    t.equal('stored without contact details allowed', env.sql(
        f"SELECT e.token, position('{PHONE}' in m.body_text) FROM escalation e JOIN message m ON m.id = e.message_id"),
        [[token, '0']])
    return token, subject


def at_sink(t, env, sink, token, subject):
    mdg.wait_for(lambda: env.sql(f"SELECT 1 FROM outbound_mail WHERE kind = 'escalation' AND state = 'sent'"), 30)

    def find():
        for raw in sink.messages():
            m = email.message_from_bytes(raw, policy=email.policy.default)
            if f'[#{token}#]' in str(m['Subject']):
                return m
        return None
    m = mdg.wait_for(find, 30)
    t.check('the mail reached the sink', m is not None)
    if m is None:
        return
    t.equal('at the sink: the exact subject', str(m['Subject']), f'[#{token}#] {subject}')
    t.equal('plain text, no attachment', (m.get_content_type(), len(list(m.iter_attachments()))), ('text/plain', 0))
    t.check('no phone number in it', PHONE not in m.get_content())


def answer(t, b, env, tid, token, axe_src):
    env.maildir_drop(mail(f'住民記録係 <{JUMIN[1]}>', f'RE: [#{token}#] 確認依頼', '郵送の場合は本人確認書類の写しが必要です。\nmarker-dept\n'))
    t.equal('the answer lands on the ticket', ticket_of(env, 'marker-dept'), tid)
    t.check('回答済み live, closed by the department', bool(b.wait(
        lambda: (rows(b, '#esc-list') or [[]])[0][2:3] == ['回答済み'] and '所管課' in rows(b, '#esc-list')[0][5], 15)),
        rows(b, '#esc-list'))
    heads = lambda: b.js("return [...document.querySelectorAll('#timeline article.message h3')].map(h => h.textContent)")
    t.check('the timeline shows 所管課からの回答 without a reload',
            bool(b.wait(lambda: heads() == ['受信 1', f'所管課への依頼 {token}（送信 1）', '所管課からの回答（受信 2）'], 10)),
            heads())
    said = b.js('return [...document.querySelectorAll("#announcer p")].map(p => p.textContent)')
    t.check('the answer is announced', f'所管課から回答がありました: {token}（回答済み）' in said, said)
    b.find('#esc-list button').send_keys(Keys.ENTER)
    t.check('回答を表示 goes to the answer', bool(b.wait(lambda: b.js(
        'return document.activeElement.textContent') == '所管課からの回答（受信 2）', 5)))
    t.equal('the section after the answer: no WCAG 2.1 AA violation', axe(b, axe_src), [])


def open_again(t, b, env):
    """a second request to 区民課 while the first is open is 409; closing it by hand"""
    b.find('#esc-department').send_keys(Keys.DOWN)
    b.wait(lambda: b.visible('#esc-body'), 10)
    b.find('#esc-send').send_keys(Keys.ENTER)
    token = f'E-{YEAR}-00002'
    t.check('another request: sent', bool(b.wait(lambda: token in (text_of(b, '#esc-sent') or ''), 10)))
    b.wait(lambda: len(b.finds('#esc-list tbody tr')) == 2, 10)
    b.find('#esc-department').send_keys(Keys.DOWN)
    b.wait(lambda: b.visible('#esc-body'), 10)
    b.find('#esc-send').send_keys(Keys.ENTER)
    t.check('again while open: 409 naming the open one', bool(b.wait(lambda: text_of(b, '#esc-message') ==
            f'この所管課への依頼 {token} がまだ終わっていません。下の一覧で終了してから送ってください。', 10)),
            text_of(b, '#esc-message'))
    eid = env.sql(f"SELECT id FROM escalation WHERE token = '{token}'")[0][0]
    Select(b.find(f'#esc-outcome-{eid}')).select_by_value('cancelled')
    b.find(f'#esc-close-{eid}').send_keys(Keys.ENTER)
    t.check('closed by hand: 取消し in the list', bool(b.wait(
        lambda: [r[2] for r in rows(b, '#esc-list')] == ['回答済み', '取消し'], 10)), rows(b, '#esc-list'))
    t.equal('stored as cancelled by op1', env.sql(f"SELECT state, closed_by FROM escalation WHERE id = {eid}"),
            [['cancelled', 'op1']])


def english(t, b, axe_src):
    b.find('#lang-toggle').click()
    t.check('English: the section and the states in words', bool(b.wait(
        lambda: text_of(b, '#esc-title') == 'Escalate to a department'
        and [r[2] for r in rows(b, '#esc-list')] == ['Answered', 'Cancelled'], 10)), rows(b, '#esc-list'))
    t.equal('English: no WCAG 2.1 AA violation', axe(b, axe_src), [])
    b.find('#lang-toggle').click()


def main():
    t = mdg.Checks('browser-escalation')
    with open(AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-escalation') as env:
        env.start_db()
        sink = mdg.SmtpSink(env).start()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'mail.from_addr': 'madoguchi@city.example.lg.jp',
                            'mail.liaison_addr': LIAISON, 'mail.message_id_domain': 'city.example.lg.jp',
                            'escalation.smtp_host': '127.0.0.1', 'escalation.smtp_port': str(sink.port),
                            'escalation.smtp_retry_min_seconds': '1'})
        env.add_user('op1', 'operator', 'operator-pass-1', 'オペレーター 一号')
        env.add_user('ad1', 'admin', 'admin-pass-1', '管理者')
        env.add_user('vw1', 'viewer', 'viewer-pass-1', '区職員')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        env.start('escalationd')
        base = f'http://127.0.0.1:{port}'
        try:
            if not mdg.wait_for(lambda: _listening(port), 10):
                raise RuntimeError('ticketd did not start')
            env.maildir_drop(mail('北村 次郎 <jiro.kitamura@example.jp>', '転出の手続き',
                                  '郵送で転出届を出したいです。\nmarker-citizen\n', attach=b'%PDF-1.4\n% tenshutsu\n'))
            tid = ticket_of(env, 'marker-citizen')
            t.check('the citizen mail is a ticket', tid)
            with Browser(mdg.ARTEFACTS, 'browser-escalation-admin') as b:
                b.driver.set_script_timeout(30)
                login(t, b, base, 'ad1', 'admin-pass-1')
                admin_page(t, b, base, env, axe_src)
                b.screenshot('admin')
            with Browser(mdg.ARTEFACTS, 'browser-escalation') as b:
                b.driver.set_script_timeout(30)
                login(t, b, base, 'op1', 'operator-pass-1')
                t.equal('operator: no admin menu', b.visible('#admin-menu'), None)
                b.get(f'{base}/#/admin/departments')
                t.check('operator at #/admin/departments: refused in words', bool(b.wait(
                    lambda: text_of(b, '#admin-content .form-error') == 'この操作の権限がありません。', 10)))
                b.get(f'{base}/#/tickets/{tid}')
                r = escalate(t, b, env, tid, axe_src)
                b.screenshot('sent')
                if r:
                    at_sink(t, env, sink, *r)
                    answer(t, b, env, tid, r[0], axe_src)
                    b.screenshot('answered')
                    open_again(t, b, env)
                    english(t, b, axe_src)
                errors = [m for m in b.read_console() + b.console if 'Uncaught' in m or 'Content Security Policy' in m]
                t.equal('no script errors or CSP violations', sorted(set(errors)), [])
            with Browser(mdg.ARTEFACTS, 'browser-escalation-viewer') as b:
                login(t, b, base, 'vw1', 'viewer-pass-1', ready='#view-cases')
                b.get(f'{base}/#/tickets/{tid}')
                b.wait(lambda: b.visible('#ticket-title'), 10)
                time.sleep(0.5)
                t.equal('a viewer: no escalation section', len(b.finds('#esc-panel')), 0)
            vw = Client(port)
            vw.login('vw1', 'viewer-pass-1')
            t.equal('a viewer: GET escalations 403', vw.get(f'/api/tickets/{tid}/escalations').status, 403)
            t.check('ticketd still running', tick.alive())
        except Exception as ex:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(ex).__name__}: {ex}')
            print('# --- ticketd log tail ---\n' + tick.log_text()[-2500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
