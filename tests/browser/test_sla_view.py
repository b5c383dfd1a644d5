#!/usr/bin/python3
"""SLA状況 (#/sla) and the queue's 回答期限 cell in Chromium (issue 6; js/sla.js).

The world of tests/integration/test_sla.py: private PostgreSQL, ticketd with
its clock pinned at Sat 2026-12-26 12:00 JST, the same policies and six
tickets by SQL (T4 overdue since Mon 12-21 10:00, T1 at risk, due 17:20, T6
escalated to 環境課 at 09:00).  A supervisor opens SLA状況 from the header:
期限超過 lists exactly T4 ("▲ 期限超過", "5日2時間超過"), まもなく期限 exactly
T1 ("● 期限間近", "残り5時間20分"), the open escalation with its age, today's
and the month's figures, the period 2026-12-20..26 exactly as test_sla
counts it; axe finds no WCAG 2.1 AA violation.  The queue shows "▲ 超過"
on T4's row, "● まもなく" on T1's, "—" on T5's.  The crisis switch: refused
without a reason (in words), on with one (the crisis_pause row, the page
says so, the overdue count change announced), off after the confirmation.
The page in English.  An operator sees the board without the switch; a ward
viewer has no link and is told the page is not theirs.

Run: /usr/bin/python3 tests/browser/test_sla_view.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
from test_a11y import AXE, axe  # noqa: E402
import ticketd_http  # noqa: E402
from test_sla import setup, settled, start_ticketd  # noqa: E402  (the world of test_sla)

REASON = '大雨特別警報のため受付業務を一時停止'
USERS = [('sv1', 'supervisor', 'supervisor-pass-1', '責任者 一郎'),
         ('op1', 'operator', 'operator-pass-1', 'オペレーター 花子'),
         ('vw1', 'viewer', 'viewer-pass-1', '区 職員')]


def login(b, base, who):
    login_, _, pw, _ = next(u for u in USERS if u[0] == who)
    b.get(base + '/#/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').clear()
    b.find('#login-id').send_keys(login_)
    b.find('#login-password').send_keys(pw + Keys.ENTER)
    return b.wait(lambda: b.visible('#view-queue') or b.visible('#view-cases'), 10)


def logout(b):
    b.find('#logout').click()
    b.wait(lambda: b.visible('#login-id'), 10)


def texts(b, css):
    return [e.get_attribute('textContent') for e in b.finds(css)]


def table_rows(b, table):
    """[(data-id, [cell texts])] of a table's body"""
    return b.js("""return [...document.querySelectorAll(arguments[0] + ' tbody tr')].map(r =>
        [Number(r.dataset.id), [...r.cells].map(c => c.textContent)]);""", table)


def row_cells(b, css):
    return b.js("const r = document.querySelector(arguments[0]);"
                " return r ? [...r.cells].map(c => c.textContent) : null;", css)


def check_board(t, b):
    t.equal('期限超過: exactly T4, by shape and words, late 5 days 2 hours', table_rows(b, '#sla-overdue-table'),
            [[4, ['受付 4', 'general', 'FAX', '対応中', '（未担当）', '2026-12-20 10:00', '2026-12-21 10:00',
                  '▲ 期限超過5日2時間超過']]])
    t.equal('まもなく期限: exactly T1, 5 hours 20 minutes left', table_rows(b, '#sla-atrisk-table'),
            [[1, ['受付 1', 'general', 'メール', '新規', '（未担当）', '2026-12-25 17:20', '2026-12-26 17:20',
                  '● 期限間近残り5時間20分']]])
    t.equal('the state is said in words, the shapes hidden from screen readers',
            b.js("return [...document.querySelectorAll('#sla-content .sla-shape')]"
                 ".map(s => s.getAttribute('aria-hidden'))"), ['true', 'true'])
    t.equal('所管課の回答待ち: the escalation, its age and reminders', table_rows(b, '#sla-esc-table'),
            [[6, ['E-2026-00001', '受付 6', '環境課', '（未担当）', '2026-12-26 09:00', '3時間',
                  '2027-01-04 17:15', '残り9日5時間', '0回']]])
    t.equal('per department: waiting, at risk, overdue, next due',
            texts(b, '#sla-dept-table tbody tr > *'), ['環境課', '1', '0', '0', '2027-01-04 17:15'])
    t.equal('this month\'s escalations per department and in all',
            [texts(b, f'#sla-esc-month-table tbody tr:nth-child({i}) > *') for i in (1, 2)],
            [['環境課', '1', '0', '0', '0', '—', '0'], ['合計', '1', '0', '0', '0', '—', '0']])
    t.check('the ticket numbers link to the tickets',
            [a.get_attribute('href').rsplit('#', 1)[1] for a in b.finds('#sla-overdue-table a')] == ['/tickets/4'])
    t.equal('as of the server\'s now', b.find('#sla-asof').text, '2026-12-26 12:00 現在')
    t.equal('today (12-26: T5 without policy, T6 escalated)', row_cells(b, '#sla-today'),
            ['本日', '2', '0', '0', '0', '—（回答なし）', '0', '0', '1', '—', '0', '0', '—'])
    t.equal('this month (T1, T2, T4 on the clock; T4 unanswered past due)', row_cells(b, '#sla-month'),
            ['今月', '5', '3', '0', '0', '—（回答なし）', '1', '2', '1', '—', '0', '0', '—'])
    t.check('納期率 explained', '回答件数のうち期限内' in b.find('#sla-rate-hint').text, b.find('#sla-rate-hint').text)


def check_period(t, b):
    b.js("document.getElementById('sla-from').value = '2026-12-21';"
         " document.getElementById('sla-to').value = '2026-12-20';")
    b.find('#sla-period-form button[type="submit"]').click()
    t.equal('a period backwards is refused in words', b.wait(lambda: b.find('#sla-period-status').text, 5),
            '期間の日付を正しく入力してください（開始日は終了日以前）。')
    b.js("document.getElementById('sla-from').value = '2026-12-20';")
    b.js("document.getElementById('sla-to').value = '2026-12-26';")
    b.find('#sla-period-form button[type="submit"]').click()
    got = b.wait(lambda: row_cells(b, '#sla-period-row'), 10)
    t.equal('period 2026-12-20..26 exactly as test_sla counts it', got,
            ['2026-12-20〜2026-12-26', '5', '3', '0', '0', '—（回答なし）', '1', '2', '1', '—', '0', '0', '—'])
    t.equal('period: column heads', texts(b, '#sla-period-table thead th'),
            ['受付', 'SLA対象', '回答済み', '期限内回答', '納期率', '未処理（期限超過・未回答）', '対応中（期限内）',
             'エスカレーション', '平均回答時間', '処理完了', '処理目標内', '平均処理時間'])
    t.equal('period done, said', b.find('#sla-period-status').text, '2026-12-20〜2026-12-26 を集計しました。')


def check_queue(t, b, base):
    b.get(base + '/#/')
    ok = b.wait(lambda: len(b.finds('#queue-body tr[data-id="4"] td.c-due')) == 1
                and '超過' in b.find('#queue-body tr[data-id="4"] td.c-due').text, 10)
    t.check('queue rows shown', bool(ok))
    due = dict(b.js("return [...document.querySelectorAll('#queue-body tr')].map(r =>"
                    " [r.dataset.id, r.querySelector('td.c-due').textContent])"))
    t.equal('回答期限: T4 ▲ 超過, T1 ● まもなく, T2 and T3 the time, T5 none',
            (due.get('4'), due.get('1'), due.get('2'), due.get('3'), due.get('5')),
            ('▲ 超過 2026-12-21 10:00', '● まもなく 2026-12-26 17:20', '2026-12-26 16:30', '2027-01-04 17:15', '—'))
    t.equal('the column is headed 回答期限', b.find('#queue-table th.c-due').text, '回答期限')
    b.screenshot('queue')


def check_live(t, b, op):
    """T4 answered and reopened by an operator: the board follows the events, the count change is announced"""
    r = op.request('POST', '/api/tickets/4/status', json_body={'status': 'resolved', 'resolution': 'answered'})
    t.equal('an operator resolves T4', r.status, 200)
    t.check('期限超過 empties live', bool(b.wait(lambda: b.finds('#sla-overdue-empty'), 10)))
    t.check('the change of the overdue count announced politely', bool(b.wait(
        lambda: '期限超過が0件になりました。' in texts(b, '#announcer p'), 5)), texts(b, '#announcer p'))
    r = op.request('POST', '/api/tickets/4/status', json_body={'status': 'open'})
    t.equal('and reopens it', r.status, 200)
    t.check('T4 overdue again, announced', bool(b.wait(
        lambda: [x[0] for x in table_rows(b, '#sla-overdue-table')] == [4]
        and '期限超過が1件になりました。' in texts(b, '#announcer p'), 10)), texts(b, '#announcer p'))


def check_alert(t, b, env):
    """T7 arrives past its warning time: the supervisor gets SLA警告 on whatever page, until dismissed"""
    b.get(b.driver.current_url.split('#')[0] + '#/')
    b.wait(lambda: b.visible('#view-queue'), 10)
    env.pg.psql("INSERT INTO ticket (id, channel, queue, subject, status, created_at, updated_at, received_at)"
                " VALUES (7, 'mail', 'general', '件 7', 'new', '2026-12-25 13:00+09', now(), '2026-12-25 13:00+09')",
                user='madoguchi_owner')
    note = b.wait(lambda: b.visible('#sla-alerts .sla-alert[data-id="7"]'), 15)
    t.equal('SLA警告 on the queue page, with a link to T7', (note.text if note else None,
            b.find('#sla-alerts .sla-alert a').get_attribute('href').rsplit('#', 1)[1] if note else None),
            ('● SLA警告 受付 7 の回答期限が近づいています 閉じる', '/tickets/7'))
    t.check('announced politely', '受付 7 の回答期限が近づいています' in ' '.join(texts(b, '#announcer p')))
    b.get(b.driver.current_url.split('#')[0] + '#/sla')
    b.wait(lambda: b.visible('#sla-overdue-table'), 10)
    t.equal('it stays when the page changes', len(b.finds('#sla-alerts .sla-alert')), 1)
    b.find('#sla-alerts .sla-alert button').click()
    t.equal('dismissed: gone, focus back on the page', (len(b.finds('#sla-alerts .sla-alert')),
            b.js("return document.activeElement.id")), (0, 'main'))
    env.pg.psql("UPDATE ticket SET status = 'resolved' WHERE id = 7", user='madoguchi_owner')


def check_crisis_on(t, b, env, axe_src):
    b.find('#sla-crisis-start').click()
    t.equal('no reason: refused in words, the field marked and focused',
            (b.wait(lambda: b.find('#sla-crisis-note').text, 5),
             b.find('#sla-crisis-reason').get_attribute('aria-invalid'),
             b.js("return document.activeElement.id")),
            ('停止の理由を入力してください。', 'true', 'sla-crisis-reason'))
    t.equal('and nothing switched', env.sql('SELECT count(*) FROM crisis_pause'), [['0']])
    b.find('#sla-crisis-reason').send_keys(REASON)
    b.find('#sla-crisis-start').click()
    on = b.wait(lambda: '危機管理モード中' in b.find('#sla-crisis-text').text, 10)
    t.check('the page says the switch is on', bool(on), b.find('#sla-crisis-text').text)
    t.equal('who, since, why', b.find('#sla-crisis-text').text,
            f'■ 危機管理モード中：すべての回答期限が止まっています。 開始 2026-12-26 12:00（sv1）理由：{REASON}')
    t.equal('the crisis_pause row', env.sql('SELECT reason, started_by, ended_at IS NULL FROM crisis_pause'),
            [[REASON, 'sv1', 't']])
    t.equal('the switch-on form gives way to the switch-off button, focused',
            (b.find('#sla-crisis-on').is_displayed(), b.find('#sla-crisis-end').is_displayed(),
             b.js("return document.activeElement.id")), (False, True, 'sla-crisis-end'))
    b.js("document.getElementById('sla-crisis').scrollIntoView()")
    b.screenshot('crisis-on')
    t.equal('crisis on: no WCAG 2.1 AA violation', axe(b, axe_src), [])


def check_crisis_off(t, b, env):
    t.check('an hour later (ticketd restarted at 13:00) the page follows by itself',
            bool(b.wait(lambda: b.find('#sla-asof').text == '2026-12-26 13:00 現在', 60)), b.find('#sla-asof').text)
    b.find('#sla-crisis-end').click()
    t.equal('switching off asks first (focus on the answer)',
            (b.find('#sla-crisis-confirm').is_displayed(), b.js("return document.activeElement.id")),
            (True, 'sla-crisis-end-yes'))
    b.find('#sla-crisis-end-no').click()
    t.equal('やめる: still on, focus back', (b.js("return document.activeElement.id"),
                                            env.sql('SELECT count(*) FROM crisis_pause WHERE ended_at IS NULL')),
            ('sla-crisis-end', [['1']]))
    b.find('#sla-crisis-end').click()
    b.find('#sla-crisis-end-yes').click()
    off = b.wait(lambda: '解除されています' in b.find('#sla-crisis-text').text, 10)
    t.check('the page says it is off', bool(off), b.find('#sla-crisis-text').text)
    t.equal('said in words', b.find('#sla-crisis-note').text, '危機管理モードを解除しました。')
    t.equal('the row ended by sv1', env.sql('SELECT ended_at IS NOT NULL, ended_by FROM crisis_pause'),
            [['t', 'sv1']])
    t.check('the clocks run again: T1 one hour later, 5 h 20 min left at 13:00 (reloaded by itself)', bool(b.wait(
        lambda: [(x[0], x[1][6], x[1][7]) for x in table_rows(b, '#sla-atrisk-table')]
        == [(1, '2026-12-26 18:20', '● 期限間近残り5時間20分')], 45)), str(table_rows(b, '#sla-atrisk-table')))


def check_english(t, b, axe_src):
    b.find('#lang-toggle').click()
    ok = b.wait(lambda: b.find('#sla-title').text == 'SLA status', 5)
    t.check('English: the title', bool(ok))
    t.equal('English: late and left in words',
            [r[1][7] for r in table_rows(b, '#sla-overdue-table') + table_rows(b, '#sla-atrisk-table')],
            ['▲ Overdue5 d 2 h late', '● Due soon5 h 20 min left'])
    t.equal('English: the period row and the rate hint', (row_cells(b, '#sla-period-row')[0],
            b.find('#sla-rate-hint').text.split(' = ')[0]), ('2026-12-20 to 2026-12-26', 'On-time rate'))
    t.equal('#/sla in English: no WCAG 2.1 AA violation', axe(b, axe_src), [])
    b.find('#lang-toggle').click()
    b.wait(lambda: b.find('#sla-title').text == 'SLA状況', 5)


def run(t, b, base, env, axe_src, restart):
    t.check('supervisor logged in', bool(login(b, base, 'sv1')))
    link = b.visible('#nav-sla')
    t.equal('the header links SLA状況', link.text if link else None, 'SLA状況')
    link.click()
    shown = b.wait(lambda: b.visible('#sla-overdue-table') and b.visible('#sla-esc-table'), 10)
    t.check('SLA状況 shown', bool(shown))
    t.equal('heading and title', (b.find('#sla-title').text, b.driver.title), ('SLA状況', 'SLA状況 – 窓口'))
    check_board(t, b)
    check_period(t, b)
    b.screenshot('board')
    t.equal('#/sla: no WCAG 2.1 AA violation', axe(b, axe_src), [])
    check_english(t, b, axe_src)
    b.find('#sla-overdue-table a').click()
    t.check('a ticket number opens the ticket', bool(b.wait(
        lambda: b.visible('#ticket-title') and b.driver.current_url.endswith('#/tickets/4'), 10)))
    b.driver.back()
    t.equal('back on the board: the period counted and its dates kept', b.wait(lambda: b.visible('#sla-period-row') and (
        b.find('#sla-from').get_attribute('value'), b.find('#sla-to').get_attribute('value')), 10),
        ('2026-12-20', '2026-12-26'))
    check_queue(t, b, base)
    b.get(base + '/#/sla')
    b.wait(lambda: b.visible('#sla-overdue-table'), 10)
    op = ticketd_http.Client(int(base.rsplit(':', 1)[1]))
    op.login('op1', 'operator-pass-1')
    check_live(t, b, op)
    check_alert(t, b, env)
    b.wait(lambda: b.visible('#sla-overdue-table') and not b.finds('#sla-atrisk-table tr[data-id="7"]'), 10)
    check_crisis_on(t, b, env, axe_src)
    restart('2026-12-26 13:00')
    check_crisis_off(t, b, env)
    errors = [m for m in b.read_console() + b.console if 'Uncaught' in m]
    t.equal('no script errors', sorted(set(errors)), [])
    logout(b)
    login(b, base, 'op1')
    t.check('an operator has the link', bool(b.visible('#nav-sla')))
    b.get(base + '/#/sla')
    t.check('an operator reads the board', bool(b.wait(lambda: b.visible('#sla-overdue-table'), 10)))
    t.equal('without the crisis switch', (len(b.finds('#sla-crisis-on')), len(b.finds('#sla-crisis-end')),
                                          b.find('#sla-crisis-readonly').text),
            (0, 0, '危機管理モードの切り替えは責任者が行います。'))
    logout(b)
    login(b, base, 'vw1')
    t.check('a ward viewer has no link', not b.visible('#nav-sla'))
    b.get(base + '/#/sla')
    refused = b.wait(lambda: b.visible('#sla-refused'), 10)
    t.equal('a ward viewer is told the page is not theirs', refused.text if refused else None,
            'このページを表示する権限がありません。')
    t.equal('and sees no board', b.finds('#sla-overdue-table'), [])


def main():
    t = mdg.Checks('browser-sla')
    with open(AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-sla') as env:
        env.start_db()
        port = mdg.free_port()
        # the sessions outlive the clock's jump to 13:00
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'ticketd.session_idle_minutes': '1440'})
        for u in USERS:
            env.add_user(*u)
        setup(env)
        d = start_ticketd(env, '2026-12-26 12:00')

        def restart(now):
            nonlocal d
            d.stop()
            d = start_ticketd(env, now)
        try:
            t.check('every due time computed', settled(env))
            with Browser(mdg.ARTEFACTS, 'browser-sla') as b:
                b.driver.set_script_timeout(30)
                run(t, b, f'http://127.0.0.1:{port}', env, axe_src, restart)
        except Exception as ex:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(ex).__name__}: {ex}')
            print('# --- ticketd log tail ---\n' + d.log_text()[-2500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
