#!/usr/bin/python3
"""The 応対履歴 panel, the contact panel and the viewers' case list in a real
browser.

Private PostgreSQL, ingest-mail (Maildir) and ticketd; headless Chromium.
A citizen's mail becomes a ticket.  The operator opens it and types a phone
number into the inquiry summary: saving is refused, the finding is listed as
text (field, kind, the number itself), the field is marked invalid, and
"この箇所を選択" selects exactly the number in the field.  The operator
rewrites it and saves.  The contact panel shows nothing until a reason is
chosen, then offers the mail's sender, which is copied into the form and
saved (one read and one create in the access log).  A ward viewer logs in,
lands on the case list, reads the record there, sees no subject and no
sender, and gets no contact panel.  axe-core finds no WCAG 2.1 AA violation
on the refused form, the open contact panel and the case list.  Screenshots:
tests/artefacts/browser-case-*.png.
"""
import os
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
from test_a11y import AXE, axe  # noqa: E402  (the vendored axe-core, WCAG 2.1 AA)

OP, OP_PW = 'op-case', 'case view password 1'
VW, VW_PW = 'vw-case', 'case view password 2'
NAME, MAIL = '桐谷 澪', 'mio.kiritani@example.net'
SUBJECT = '粗大ごみの収集日について（桐谷）'
PHONE = '03-5555-0142'
BAD = f'電話 {PHONE} に折り返し希望'
GOOD = '粗大ごみの収集日について。折り返し希望。'
ANSWER = '収集日と申込方法を案内。'
with open(AXE, encoding='utf-8') as f:
    AXE_SRC = f.read()


def citizen_mail():
    m = EmailMessage()
    m['From'] = f'{NAME} <{MAIL}>'
    m['To'] = 'soudan@city.example.lg.jp'
    m['Subject'] = SUBJECT
    m['Date'] = formatdate(time.time(), localtime=True)
    m['Message-ID'] = f'<{time.time_ns()}.case-view@example.net>'
    m.set_content(f'粗大ごみの収集日を教えてください。\n{PHONE}\n')
    return bytes(m).replace(b'\n', b'\r\n')


def login(t, b, base, user, pw, view):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(user)
    b.find('#login-password').send_keys(pw + Keys.ENTER)
    t.check(f'{user} logged in, {view} shown', bool(b.wait(lambda: b.visible(view), 10)))


def operator_case(t, b, env, tid):
    t.check('case form shown', bool(b.wait(lambda: b.visible('#case-form #case-inquiry'), 10)))
    b.find('#case-category').send_keys('環境/粗大ごみ係')
    b.find('#case-inquiry').send_keys(BAD)
    b.find('#case-answer').send_keys(ANSWER)
    b.find('#case-form button[type="submit"]').click()
    t.check('refused: the findings box shown', bool(b.wait(lambda: b.visible('#case-findings'), 5)))
    items = [li.text for li in b.finds('#case-findings li')]
    t.check('one finding, named as text: field, kind and the number',
            len(items) == 1 and '問い合わせ内容（要約）' in items[0] and '電話番号' in items[0] and PHONE in items[0],
            str(items))
    t.equal('the inquiry field is marked invalid (aria-invalid and a text marker class)',
            (b.find('#case-inquiry').get_attribute('aria-invalid'),
             'field-invalid' in b.find('[data-field="inquiry_summary"]').get_attribute('class')), ('true', True))
    t.equal('the answer field is not', b.find('#case-answer').get_attribute('aria-invalid'), None)
    t.equal('focus moved to the findings', b.js('return document.activeElement.id'), 'case-findings')
    b.screenshot('1-refused')
    t.equal('axe: no WCAG 2.1 AA violation on the refused form', axe(b, AXE_SRC), [])
    b.find('#case-findings li button').click()
    sel = b.js("const e = document.activeElement; return [e.id, e.selectionStart, e.selectionEnd,"
               " e.value.slice(e.selectionStart, e.selectionEnd)]")
    t.equal('"この箇所を選択" selects exactly the number in the field', sel,
            ['case-inquiry', 3, 3 + len(PHONE), PHONE])
    t.equal('nothing stored', env.sql(f'SELECT count(*) FROM case_record WHERE ticket_id = {tid}'), [['0']])
    inq = b.find('#case-inquiry')
    inq.clear()
    inq.send_keys(GOOD)
    b.find('#case-form button[type="submit"]').click()
    t.check('saved: status says so', bool(b.wait(
        lambda: b.find('#case-status').text == '応対履歴を保存しました。', 5)))
    t.equal('the record as typed', env.sql('SELECT category, inquiry_summary, answer_summary, recorded_by'
                                           f' FROM case_record WHERE ticket_id = {tid}'),
            [['環境/粗大ごみ係', GOOD, ANSWER, OP]])
    t.equal('the findings are gone', b.finds('#case-findings li'), [])


def operator_contact(t, b, env, tid):
    t.check('contact panel asks for a reason first, shows no details',
            bool(b.visible('#contact-reason')) and not b.finds('#contact-name'))
    b.find('#contact-reason-form button[type="submit"]').click()
    t.check('no reason: told so', bool(b.wait(lambda: b.visible('#contact-reason-error'), 3)))
    t.equal('no read was logged', env.sql('SELECT count(*) FROM contact_access'), [['0']])
    b.js("const s = document.getElementById('contact-reason'); s.value = 'reply';"
         " s.dispatchEvent(new Event('change'));")
    b.find('#contact-reason-form button[type="submit"]').click()
    t.check('the form and the sender suggestion shown', bool(b.wait(lambda: b.visible('#contact-name'), 5)))
    t.check('the suggestion names the mail sender', NAME in b.find('#contact-box .notice').text and
            MAIL in b.find('#contact-box .notice').text, b.find('#contact-box').text[:300])
    t.equal('nothing filled before the operator asks', b.find('#contact-name').get_attribute('value'), '')
    b.find('#contact-box .notice button').click()
    t.equal('the sender copied into the form',
            (b.find('#contact-name').get_attribute('value'), b.find('#contact-email').get_attribute('value')),
            (NAME, MAIL))
    t.equal('not stored yet', env.sql('SELECT count(*) FROM ticket_contact'), [['0']])
    b.find('#contact-phone').send_keys(PHONE)
    b.find('#contact-form button[type="submit"]').click()
    t.check('contact saved', bool(b.wait(lambda: b.find('#contact-status').text == '連絡先を保存しました。', 5)))
    t.equal('stored: name, mail, phone', env.sql('SELECT c.name, c.email, c.phone FROM contact c'
                                                 f' JOIN ticket_contact tc ON tc.contact_id = c.id WHERE tc.ticket_id = {tid}'),
            [[NAME, MAIL, PHONE]])
    t.equal('access log: one read with the reason, one create',
            env.sql('SELECT login, action, reason FROM contact_access ORDER BY id'),
            [[OP, 'read', 'reply'], [OP, 'create', 'reply']])
    b.screenshot('2-contact')
    t.equal('axe: no WCAG 2.1 AA violation with the contact panel open', axe(b, AXE_SRC), [])
    b.find('#contact-box .contact-actions button').click()
    t.check('closing hides the details again', bool(b.wait(lambda: not b.finds('#contact-name'), 3)))


def viewer(t, b, base, tid):
    b.find('#logout').click()
    b.wait(lambda: b.visible('#login-id'), 10)
    login(t, b, base, VW, VW_PW, '#view-cases')
    t.check('the case list shows the record', bool(b.wait(lambda: b.finds('#cases-list tbody tr'), 10)))
    cells = [td.text for td in b.finds('#cases-list tbody tr td')]
    t.equal('the row: ticket, channel, category, summaries, resolution, recorder',
            [cells[0], cells[1], cells[3], cells[4], cells[5], cells[7]] if len(cells) == 8 else cells,
            [str(tid), 'メール', '環境/粗大ごみ係', GOOD, ANSWER, OP])
    page = b.find('main').text
    t.check('no subject, sender or mail address on the viewer page',
            SUBJECT not in page and NAME not in page and MAIL not in page and '桐谷' not in page, page[:300])
    t.equal('no queue error banner for the viewer', b.find('#error').is_displayed(), False)
    b.screenshot('3-viewer-cases')
    t.equal('axe: no WCAG 2.1 AA violation on the case list', axe(b, AXE_SRC), [])
    b.get(f'{base}/#/tickets/{tid}')
    b.wait(lambda: b.visible('#ticket-content .form-error'), 10)
    t.check('the ticket page is refused to the viewer, no contact panel',
            bool(b.visible('#ticket-content .form-error')) and not b.finds('#contact-reason'))


def main():
    t = mdg.Checks('browser-case')
    with mdg.Env('browser-case') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user(OP, 'operator', OP_PW, '応対 確認')
        env.add_user(VW, 'viewer', VW_PW, '区 職員')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        env.maildir_drop(citizen_mail())
        got = mdg.wait_for(lambda: env.sql("SELECT id FROM ticket ORDER BY id"), 20)
        t.check('mail became a ticket', bool(got))
        if got:
            tid = int(got[0][0])
            base = f'http://127.0.0.1:{port}'
            try:
                with Browser(mdg.ARTEFACTS, 'browser-case') as b:
                    login(t, b, base, OP, OP_PW, '#view-queue')
                    b.get(f'{base}/#/tickets/{tid}')
                    operator_case(t, b, env, tid)
                    operator_contact(t, b, env, tid)
                    viewer(t, b, base, tid)
                    errors = [m for m in b.read_console() + b.console
                              if 'Uncaught' in m or 'Content Security Policy' in m]
                    t.equal('no script errors or CSP violations', sorted(set(errors)), [])
            except Exception as e:  # a crash is a failure with its reason, then the summary
                t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
                print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
