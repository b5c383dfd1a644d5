#!/usr/bin/python3
"""Issue 5 end to end in headless Chromium, against the real servers.

Private PostgreSQL, dovecot over IMAPS with ingest-mail pulling from it,
ticketd, escalationd and postfix's smtp-sink as the relay.  Nothing is
called over the API that an operator would do in the page:

1. An operator logs in; a citizen's mail appended to dovecot shows in
   要対応 without a reload; she opens it and claims it (担当する).
2. The relay goes away (the sink is stopped).  She answers with the
   template 回答, typing the answer over its placeholder, ticks the
   recipient, previews (exact subject, To, body) and sends; the countdown
   runs out.  The reply waits: outbound_mail queued with the relay's error
   and attempts counting up, message.delivery_state queued with that note,
   and the ticket page says 送信待ち with the same error.
3. The relay comes back: exactly one copy reaches it (and stays one), read
   back with Python's email package: decoded subject, From, To, no Bcc,
   In-Reply-To the citizen's mail, the body exactly as typed.  The page
   says 送信済み.
4. The citizen's answer (In-Reply-To the reply's Message-ID) is appended to
   dovecot: it joins the same ticket, the open page announces it live and
   shows it on the timeline when asked (no page load).
5. She resolves the ticket (センター内回答) and records the case
   (応対履歴) with summaries free of personal data; the ticket and
   case_record rows are compared exactly.
6. A ward viewer, in a second browser, lands on the case list and reads
   the case; the contact details of the ticket answer 403 to the viewer's
   own session (fetch from the page), no contact panel is offered, and the
   access log stays empty.

axe-core checks the ticket page with the waiting reply and the viewer's
case list.  Screenshots: tests/artefacts/browser-e2e-*.png.

Run: MDG_BUILD=build/dev /usr/bin/python3 tests/browser/test_e2e_operator.py
"""
import email
import email.policy
import os
import socket
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate, getaddresses

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402
from test_a11y import AXE, axe  # noqa: E402
import test_reply as rp  # noqa: E402  (template_text, jst, SIGNATURE)

OP = ('op-e2e', 'operator', 'e2e operator password 1', '窓口 一郎')
VW = ('vw-e2e', 'viewer', 'e2e viewer password 2', '区 職員')
CITIZEN = ('桑田 花子', 'hanako.kuwata@example.jp')
DESK = 'kucho-soudan@city.example.lg.jp'
FROM_ADDR = 'madoguchi@city.example.lg.jp'
FROM_NAME = '区役所 区民相談窓口'
SUBJECT = '冷蔵庫の処分について'
BODY_IN = '冷蔵庫を捨てたいのですが、粗大ごみに出せますか。\n'
PLACEHOLDER = '（ここに回答を記入してください）'
ANSWER = ['冷蔵庫は家電リサイクル法の対象のため、粗大ごみには出せません。',
          '購入した販売店か、区の家電リサイクル受付窓口にご相談ください。']
ANSWER_BACK = 'ご回答ありがとうございました。販売店に相談します。\n'
CASE = ('環境/清掃事務所', '冷蔵庫の処分方法の問い合わせ。',
        '家電リサイクル法の対象で粗大ごみ不可と案内。販売店への相談を勧めた。')
with open(AXE, encoding='utf-8') as f:
    AXE_SRC = f.read()


def citizen_mail(subject, body, headers=None):
    m = EmailMessage()
    m['From'] = f'{CITIZEN[0]} <{CITIZEN[1]}>'
    m['To'] = DESK
    m['Subject'] = subject
    m['Date'] = formatdate(time.time(), localtime=True)
    m['Message-ID'] = f'<{time.time_ns()}.e2e-operator@example.jp>'
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    return m['Message-ID'].strip('<>'), bytes(m).replace(b'\n', b'\r\n')


def login(t, b, base, who, view):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(who[0])
    b.find('#login-password').send_keys(who[2] + Keys.ENTER)
    t.check(f'{who[0]} logged in, {view} shown, live updates on', bool(b.wait(
        lambda: b.visible(view) and b.js(
            "return document.getElementById('live-state').dataset.state === 'on'"), 15)))


def shot(b, name, css):
    """a screenshot with the element that matters in view"""
    els = b.finds(css)
    if els:
        b.js("arguments[0].scrollIntoView({block: 'center'})", els[0])
    b.screenshot(name)


def refresh_if_told(b):
    """the ticket page offers a change (a delivery, a new mail) with a button: take it"""
    btn = b.finds('#ticket-changed button')
    if btn:
        btn[0].click()


def delivery_text(b):
    refresh_if_told(b)
    p = b.finds('article.message-out p.delivery')
    return p[0].text if p else ''


def step_claim(t, b, env, dove, base):
    """the mail arrives while the queue is open; the operator opens and claims it"""
    cid, raw = citizen_mail(SUBJECT, BODY_IN)
    b.js("window.__mark = 'same-page'")
    dove.append(raw)
    row = b.wait(lambda: [a for a in b.finds('#queue-body a.row-link') if a.text == SUBJECT], 30)
    t.check('the citizen mail shows in 要対応 without a reload', bool(row) and
            b.js('return window.__mark') == 'same-page')
    got = mdg.wait_for(lambda: env.sql(f"SELECT ticket_id, id FROM message WHERE message_id_hdr = '{cid}'"), 10)
    if not row or not got:
        return None, None, None
    tid, msg_in = int(got[0][0]), int(got[0][1])
    b.screenshot('1-queue')
    row[0].click()
    t.check('the ticket opens with its claim button', bool(b.wait(lambda: b.visible('#wf-claim'), 10)))
    b.find('#wf-claim').click()
    # (#wf-message is not read: the live redraw of the panel may clear it)
    t.check('claimed: the page names her as holder and offers 担当を外す', bool(b.wait(
        lambda: b.find('#wf-holder').text == '担当: 窓口 一郎（自分）' and b.visible('#wf-release'), 10)),
        b.find('#wf-holder').text)
    t.equal('the ticket is hers in the database',
            env.sql(f'SELECT t.status, u.login FROM ticket t JOIN app_user u ON u.id = t.assignee WHERE t.id = {tid}'),
            [['open', OP[0]]])
    return cid, tid, msg_in


def expected_template(env, tid, msg_in):
    arrived = env.sql(f"SELECT floor(extract(epoch FROM i.arrived_at))::bigint FROM message m"
                      f" JOIN inbound_item i ON i.id = m.inbound_item_id WHERE m.id = {msg_in}")[0][0]
    return rp.template_text('002_回答', {
        'citizen.name': CITIZEN[0], 'centre.name': '区民相談窓口', 'ticket.id': str(tid),
        'ticket.subject': SUBJECT, 'ticket.received': rp.jst(arrived), 'operator.name': OP[3],
        'centre.signature': rp.SIGNATURE})


def step_compose(t, b, env, tid, msg_in):
    """template 回答, the answer typed over its placeholder, tick, preview"""
    b.find('#composer-open').click()
    t.check('composer opens with the templates', bool(b.wait(
        lambda: len(b.finds('#composer-template option')) == 6, 10)))
    Select(b.find('#composer-template')).select_by_value('002_回答')
    b.find('#composer-template-apply').click()
    tpl = expected_template(env, tid, msg_in)
    t.check('template 回答 filled in for this ticket', bool(b.wait(
        lambda: b.find('#composer-body').get_attribute('value') == tpl, 10)),
        b.find('#composer-body').get_attribute('value')[:300])
    start = tpl.index(PLACEHOLDER)
    b.js("const f = document.getElementById('composer-body'); f.focus();"
         " f.setSelectionRange(arguments[0], arguments[1]);", start, start + len(PLACEHOLDER))
    ActionChains(b.driver).send_keys(ANSWER[0], Keys.ENTER, ANSWER[1]).perform()
    body = tpl.replace(PLACEHOLDER, '\n'.join(ANSWER))
    t.check('the answer typed over the placeholder', bool(b.wait(
        lambda: b.find('#composer-body').get_attribute('value') == body, 5)),
        b.find('#composer-body').get_attribute('value')[:400])
    subject = b.find('#composer-subject').get_attribute('value')
    t.equal('the proposed subject and To', (subject, b.find('#composer-to').get_attribute('value')),
            (f'Re: [受付番号:{tid}] {SUBJECT}', f'{CITIZEN[0]} <{CITIZEN[1]}>'))
    b.find('#composer-ok-r-0').click()
    b.find('#composer-preview').click()
    t.check('preview shown', bool(b.wait(
        lambda: b.js("return document.activeElement.id") == 'composer-preview-title', 10)))
    pairs = dict(b.js("return Array.from(document.querySelectorAll('#composer-preview-pane dl.headers > div'))"
                      ".map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent])"))
    t.equal('preview: From, To, Bcc, subject as the citizen gets them',
            (pairs.get('差出人'), pairs.get('宛先'), pairs.get('BCC'), pairs.get('件名')),
            (f'{FROM_NAME} <{FROM_ADDR}>', f'{CITIZEN[0]} <{CITIZEN[1]}>', '—', subject))
    t.equal('preview: the body exactly', b.find('#composer-preview-body').get_attribute('textContent'), body)
    t.check('send enabled', bool(b.wait(lambda: b.js("return document.getElementById('composer-send').disabled")
                                        is False, 5)))
    shot(b, '2-preview', '#composer-preview-pane')
    return subject, body


def out_row(env, tid):
    r = env.sql("SELECT o.id, o.state, o.attempts, coalesce(o.last_error, ''), m.delivery_state,"
                f" coalesce(m.delivery_note, ''), m.id FROM outbound_mail o JOIN message m ON m.id = o.message_id"
                f" WHERE o.ticket_id = {tid}")
    return r[0] if r else None


def step_send_refused(t, b, env, tid, sink):
    """sent while the relay is down: the reply waits and is retried"""
    b.find('#composer-send').click()
    t.check('countdown with 送信を取り消す', bool(b.wait(
        lambda: b.visible('#composer-countdown') and b.visible('#composer-cancel'), 10)))
    t.check('the countdown runs out: 送信処理に入りました', bool(b.wait(
        lambda: '送信処理に入りました' in b.find('#composer-sent-status').text, 15)))
    first = mdg.wait_for(lambda: (lambda r: r if r and int(r[2]) >= 1 and r[3] else None)(out_row(env, tid)), 30)
    t.check('the first attempt failed and was recorded', bool(first), out_row(env, tid))
    later = mdg.wait_for(lambda: (lambda r: r if r and int(r[2]) >= int(first[2]) + 2 else None)(out_row(env, tid)),
                         40) if first else None
    t.check(f'attempts count up while the relay refuses ({first and first[2]} -> {later and later[2]})', bool(later),
            f'{first and first[2]} -> {out_row(env, tid)}')
    r = out_row(env, tid)
    t.equal('outbound_mail queued, message queued, the note is the last error',
            (r[1], r[4], r[5] == r[3]), ('queued', 'queued', True))
    t.check('the error names the refused connection', 'refused' in r[3].lower() or str(sink.port) in r[3], r[3])
    t.equal('nothing at the relay', len(sink.messages()), 0)
    t.equal('the ticket waits for the citizen', env.sql(f'SELECT status FROM ticket WHERE id = {tid}'),
            [['waiting_citizen']])
    seen = b.wait(lambda: (lambda s: s if '送信待ち' in s and r[3] in s else None)(delivery_text(b)), 15)
    t.check('the ticket page: 送信待ち with the relay\'s error', bool(seen), delivery_text(b))
    t.check('the timeline: one retry event', bool(b.wait(
        lambda: len(b.finds('#timeline p.event-mail_retry')) == 1, 5)),
        [e.text for e in b.finds('#timeline p.event')])
    shot(b, '3-waiting', 'article.message-out p.delivery')
    t.equal('axe: no WCAG 2.1 AA violation on the ticket with the waiting reply', axe(b, AXE_SRC), [])
    return int(r[0]), int(r[2])


def sink_parsed(sink, n, timeout):
    got = mdg.wait_for(lambda: sink.messages() if len(sink.messages()) >= n else None, timeout)
    return [email.message_from_bytes(raw, policy=email.policy.default) for raw in (got or [])]


def step_delivered(t, b, env, tid, sink, cid, subject, body, attempts_before):
    """the relay is back: one copy, the right headers and body"""
    sink.start()
    t.check('the relay listens again', sink._listening())
    msgs = sink_parsed(sink, 1, 30)
    t.equal('the reply reached the relay', len(msgs), 1)
    time.sleep(5)   # two more retry periods: nothing may follow
    t.equal('exactly one copy at the relay', len(sink.messages()), 1)
    if not msgs:
        return None
    m = msgs[0]
    t.equal('Subject decoded, as in the composer', str(m['Subject']), subject)
    t.equal('From', getaddresses([str(m['From'])]), [(FROM_NAME, FROM_ADDR)])
    t.equal('To: the citizen alone', getaddresses([str(m['To'])]), [CITIZEN])
    t.check('no Bcc header', m['Bcc'] is None, str(m['Bcc']))
    t.equal('In-Reply-To: the citizen mail', str(m['In-Reply-To']).strip(), f'<{cid}>')
    t.equal('the body decoded, exactly as typed', m.get_body(('plain',)).get_content().replace('\r\n', '\n'),
            body if body.endswith('\n') else body + '\n')
    out_id = str(m['Message-ID']).strip().strip('<>')
    r = out_row(env, tid)
    t.check(f'outbound_mail sent at attempt {r[2]} (after {attempts_before} refused), message sent, no note',
            r[1] == 'sent' and int(r[2]) > attempts_before and r[4] == 'sent' and r[5] == '', r)
    t.equal('the stored reply is the one sent',
            env.sql(f'SELECT message_id_hdr FROM message WHERE id = {r[6]}'), [[out_id]])
    t.check('the ticket page: 送信済み', bool(b.wait(lambda: '送信済み' in delivery_text(b), 15)), delivery_text(b))
    t.check('the timeline: the send event', bool(b.wait(
        lambda: len(b.finds('#timeline p.event-mail_sent')) == 1, 5)))
    shot(b, '4-sent', 'article.message-out p.delivery')
    return out_id


def step_answer_back(t, b, env, dove, tid, cid, subject, out_id):
    """the citizen answers the reply; it lands on the same ticket, live"""
    # a notice still pending from the delivery would pass for the answer's
    time.sleep(1)
    refresh_if_told(b)
    t.check('no change pending on the page before the answer', bool(b.wait(
        lambda: not b.finds('#ticket-changed') and b.finds('#timeline'), 10)))
    b.js("window.__mark = 'same-page'")
    acid, raw = citizen_mail('Re: ' + subject, ANSWER_BACK,
                             {'In-Reply-To': f'<{out_id}>', 'References': f'<{cid}> <{out_id}>'})
    dove.append(raw)
    got = mdg.wait_for(lambda: env.sql(f"SELECT ticket_id FROM message WHERE message_id_hdr = '{acid}'"), 30)
    t.equal('the answer joined the same ticket', got, [[str(tid)]])
    t.check('the open page announces it live', bool(b.wait(lambda: b.visible('#ticket-changed'), 15)))
    shot(b, '5-announced', '#ticket-changed')
    refresh_if_told(b)
    bodies = b.wait(lambda: (lambda x: x if len(x) == 2 else None)(
        [p.get_attribute('textContent') for p in b.finds('#timeline article.message-in pre.body')]), 10)
    t.equal('the timeline now holds both citizen mails, the answer last', bodies, [BODY_IN, ANSWER_BACK])
    t.check('the timeline: 市民からの返信', bool(b.finds('#timeline p.event-reply_in')))
    t.equal('no page load happened', b.js('return window.__mark'), 'same-page')
    t.equal('messages on the ticket: two in, one out',
            env.sql(f'SELECT direction, count(*) FROM message WHERE ticket_id = {tid} GROUP BY 1 ORDER BY 1'),
            [['in', '2'], ['out', '1']])
    shot(b, '6-answer', '#timeline li:last-child')


def step_resolve_and_record(t, b, env, tid):
    """resolve with センター内回答, then the 応対履歴"""
    Select(b.find('#wf-status')).select_by_value('resolved')
    Select(b.find('#wf-resolution-select')).select_by_value('answered')
    b.find('#wf-status-save').click()
    t.check('resolved: the page shows 解決 and the resolution', bool(b.wait(
        lambda: b.find('#ticket-meta .status').get_attribute('textContent') == '解決' and
        b.find('#wf-resolution').text == '対応結果: センター内回答（一次回答）', 10)),
        (b.find('#ticket-meta').text, [p.text for p in b.finds('#wf-resolution')]))
    t.equal('the ticket row', env.sql(f"SELECT t.status, t.resolution, u.login, t.resolved_at IS NOT NULL"
                                      f" FROM ticket t JOIN app_user u ON u.id = t.assignee WHERE t.id = {tid}"),
            [['resolved', 'answered', OP[0], 't']])
    b.find('#case-category').send_keys(CASE[0])
    b.find('#case-inquiry').send_keys(CASE[1])
    b.find('#case-answer').send_keys(CASE[2])
    Select(b.find('#case-resolution')).select_by_value('answered')
    b.find('#case-form button[type="submit"]').click()
    t.check('応対履歴 saved', bool(b.wait(lambda: b.find('#case-status').text == '応対履歴を保存しました。', 10)),
            b.find('#case-status').text)
    row = env.sql(
        "SELECT c.channel, c.received_at = (SELECT min(i.arrived_at) FROM message m JOIN inbound_item i"
        "  ON i.id = m.inbound_item_id WHERE m.ticket_id = c.ticket_id),"
        " c.first_response_at = (SELECT created_at FROM message WHERE ticket_id = c.ticket_id AND direction = 'out'),"
        " c.resolved_at = t.resolved_at, c.category, c.inquiry_summary, c.answer_summary, c.resolution,"
        " coalesce(c.escalated_to, '-'), c.recorded_by, c.updated_by"
        f" FROM case_record c JOIN ticket t ON t.id = c.ticket_id WHERE c.ticket_id = {tid}")
    t.equal('the case_record row, times from the ticket', row,
            [['mail', 't', 't', 't', CASE[0], CASE[1], CASE[2], 'answered', '-', OP[0], OP[0]]])
    shot(b, '7-resolved', '#case-form')


def step_viewer(t, v, env, base, tid):
    """a ward viewer: the case list, and no contact details"""
    login(t, v, base, VW, '#view-cases')
    t.check('the case list shows the case', bool(v.wait(
        lambda: [r for r in v.finds('#cases-list tbody tr') if r.find_element('css selector', 'td').text == str(tid)],
        10)))
    cells = [td.text for td in v.finds('#cases-list tbody tr td')]
    t.equal('the row: ticket, channel, category, summaries, resolution, recorder',
            [cells[i] for i in (0, 1, 3, 4, 5, 6, 7)] if len(cells) == 8 else cells,
            [str(tid), 'メール', CASE[0], CASE[1], CASE[2], 'センター内回答（一次回答）', OP[0]])
    page = v.find('main').text
    t.check('no subject, name or mail address on the viewer page',
            SUBJECT not in page and CITIZEN[0] not in page and CITIZEN[1] not in page, page[:300])
    v.screenshot('8-viewer-cases')
    t.equal('axe: no WCAG 2.1 AA violation on the viewer\'s case list', axe(v, AXE_SRC), [])
    got = v.js_async("""const done = arguments[arguments.length - 1];
        fetch('/api/tickets/' + arguments[0] + '/contact?reason=x', {credentials: 'same-origin'})
          .then(r => done(r.status)).catch(e => done(String(e)));""", tid)
    t.equal('GET /api/tickets/N/contact from the viewer\'s session: 403', got, 403)
    case = v.js_async("""const done = arguments[arguments.length - 1];
        fetch('/api/tickets/' + arguments[0] + '/case', {credentials: 'same-origin'})
          .then(r => r.json().then(j => done([r.status, j.inquiry_summary, j.answer_summary])))
          .catch(e => done(String(e)));""", tid)
    t.equal('the case record from the same session: 200 with the summaries', case, [200, CASE[1], CASE[2]])
    v.get(f'{base}/#/tickets/{tid}')
    v.wait(lambda: v.visible('#ticket-content .form-error'), 10)
    t.check('the ticket page is refused to the viewer, no contact panel offered',
            bool(v.visible('#ticket-content .form-error')) and not v.finds('#contact-reason')
            and not v.finds('#contact-name'))
    t.equal('the contact access log is empty', env.sql('SELECT count(*) FROM contact_access'), [['0']])


def listening(port):
    try:
        socket.create_connection(('127.0.0.1', port), 0.2).close()
        return True
    except OSError:
        return False


def start_world(env):
    env.start_db()
    dove = mdg.Dovecot(env).start()
    sink = mdg.SmtpSink(env).start()
    port = mdg.free_port()
    s = {'ticketd.listen': f'127.0.0.1:{port}', 'ticketd.send_delay_seconds': '2',
         'mail.from_addr': FROM_ADDR, 'mail.from_name': FROM_NAME,
         'mail.message_id_domain': 'city.example.lg.jp',
         'escalation.smtp_host': '127.0.0.1', 'escalation.smtp_port': str(sink.port),
         'escalation.smtp_retry_min_seconds': '1', 'escalation.smtp_retry_max_seconds': '2'}
    s.update(dove.ingest_settings())
    env.write_config(**s)
    for who in (OP, VW):
        env.add_user(*who)
    env.start('ingest-mail')
    tick = env.start('ticketd')
    esc = env.start('escalationd')
    return dove, sink, port, tick, esc


def scenario(t, env, dove, sink, base):
    with Browser(mdg.ARTEFACTS, 'browser-e2e') as b, Browser(mdg.ARTEFACTS, 'browser-e2e-viewer') as v:
        for x in (b, v):
            x.driver.set_script_timeout(30)
        login(t, b, base, OP, '#view-queue')
        cid, tid, msg_in = step_claim(t, b, env, dove, base)
        if tid is None:
            return
        sink.stop()
        subject, body = step_compose(t, b, env, tid, msg_in)
        _, attempts = step_send_refused(t, b, env, tid, sink)
        out_id = step_delivered(t, b, env, tid, sink, cid, subject, body, attempts)
        if out_id is None:
            return
        step_answer_back(t, b, env, dove, tid, cid, subject, out_id)
        step_resolve_and_record(t, b, env, tid)
        step_viewer(t, v, env, base, tid)
        for name, x in (('operator', b), ('viewer', v)):
            errors = [m for m in x.read_console() + x.console if 'Uncaught' in m or 'Content Security Policy' in m]
            t.equal(f'{name}: no script errors or CSP violations', sorted(set(errors)), [])


def main():
    t = mdg.Checks('browser-e2e')
    with mdg.Env('browser-e2e') as env:
        try:
            dove, sink, port, tick, esc = start_world(env)
        except Exception as e:  # a daemon missing from the build, a server that did not start
            t.fail('the world started', f'{type(e).__name__}: {e}')
            t.done()
        if not mdg.wait_for(lambda: listening(port), 10):
            t.fail('ticketd listening', tick.log_text()[-2000:])
            t.done()
        try:
            scenario(t, env, dove, sink, f'http://127.0.0.1:{port}')
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
            print('# --- escalationd log tail ---\n' + esc.log_text()[-1500:], flush=True)
    t.done()

if __name__ == '__main__':
    main()
