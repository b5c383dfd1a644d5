#!/usr/bin/python3
"""営業日カレンダー and SLAポリシー in a real browser (templates/web/js/
admin_calendar.js, admin_sla.js; ticketd/admin_calendar.h).

Private PostgreSQL and ticketd, headless Chromium.  A policy for queue
'biz' mail counts 8 business hours on the centre's calendar (Mon-Sat
08:30-17:15, 年末年始 closed).  The admin opens 営業日カレンダー from the
管理メニュー and previews a mail received Fri 2026-12-25 17:20: due Sat
16:30.  A Monday typed as "8:30-12:00" and then overlapping intervals are
refused beside the field (aria-invalid, focus kept there, nothing stored);
Saturday's hours cut to 08:30-12:00 from the keyboard (Enter) are stored
and the preview moves by itself to Mon 12-28 13:00; a one-off closure of
Mon 12-28 moves it past 年末年始 to 2027-01-04 13:00, and the closure is
listed.  A closure on 2026-02-30 is refused beside the date.  A
department's calendar is added, given a Saturday morning and the
department.  A bad Cabinet Office CSV is refused with its lines; a good one
(CP932) is loaded and its counts shown.  On
SLAポリシー a warning as long as the target is refused beside the field;
the target cut to 4 hours is stored.  A supervisor sees the same pages read
only (no save button, read-only fields) and can use the preview.  axe-core
finds no WCAG 2.1 AA violation on either page; no CSP violation or script
error.  Screenshots go to tests/artefacts/browser-calendar-*.png.

Run: /usr/bin/python3 tests/browser/test_admin_calendar_view.py
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
from test_a11y import axe  # noqa: E402
from ticketd_http import _listening  # noqa: E402

ADMIN = ('adm-cal', 'admin カレンダー pass', '管理者 一郎')
SUPER = ('sv-cal', 'supervisor 監督 pass', '監督 次郎')
AXE = os.path.join(HERE, 'vendor', 'axe-core', 'axe.min.js')
OWNER = 'madoguchi_owner'

t = mdg.Checks('browser-calendar')


def sql(env, q):
    return env.pg.psql(q, user=OWNER)


def login(b, base, who):
    b.get(base + '/#/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').clear()
    b.find('#login-id').send_keys(who[0])
    b.find('#login-password').send_keys(who[1] + Keys.ENTER)
    return b.wait(lambda: b.visible('#view-queue'), 10)


def logout(b):
    b.find('#logout').click()
    b.wait(lambda: b.visible('#login-id'), 5)


def open_from_menu(b, link_id, heading):
    b.find('#admin-menu-button').click()
    link = b.wait(lambda: b.visible(f'#{link_id}'), 5)
    if link is None:
        return None
    link.click()
    return b.wait(lambda: b.visible('#admin-title') and b.find('#admin-title').text == heading, 10)


def active_id(b):
    return b.js('return document.activeElement ? document.activeElement.id : null')


def retype(b, css, text, enter=True):
    e = b.find(css)
    e.clear()
    e.send_keys(text + (Keys.ENTER if enter else ''))


def result(b, prefix, want):
    """the preview's text once it is want (or what it is after 10 s)"""
    css = f'#{prefix}-pv-result'
    got = b.wait(lambda: b.find(css).text == want, 10)
    return want if got else b.find(css).text


def field_error(b, input_id):
    e = b.wait(lambda: b.visible(f'#{input_id}-error'), 5)
    return (e.text if e else None, b.find(f'#{input_id}').get_attribute('aria-invalid'), active_id(b))


def no_axe_violation(b, axe_src, name):
    b.screenshot(name)
    v = axe(b, axe_src)
    t.equal(f'{name}: no WCAG 2.1 AA violation (axe found {len(v)})', v, [])


def hours_of(env, weekday):
    return sql(env, "SELECT to_char(opens, 'HH24:MI') || '-' || to_char(closes, 'HH24:MI') FROM calendar_hours"
                    f" WHERE calendar_id = 1 AND weekday = {weekday} ORDER BY opens")


def step_calendar(b, env, axe_src):
    b.find('#admin-menu-button').send_keys(Keys.ENTER)
    b.wait(lambda: b.visible('#nav-calendars'), 5)
    b.js("document.getElementById('nav-calendars').focus()")
    b.find('#nav-calendars').send_keys(Keys.ENTER)
    ok = b.wait(lambda: b.visible('#admin-title') and b.find('#admin-title').text == '営業日カレンダー'
                and b.visible('#cal-h-1'), 10)
    t.equal('admin: 営業日カレンダー from the menu by the keyboard, the heading focused',
            (bool(ok), active_id(b)), (True, 'admin-title'))
    t.equal('the centre\'s Monday and Sunday as stored', (b.find('#cal-h-1').get_attribute('value'),
                                                          b.find('#cal-h-0').get_attribute('value')), ('08:30-17:15', ''))
    b.js("const s = document.getElementById('cal-pv-policy'); s.value = '6';")
    retype(b, '#cal-pv-received', '2026-12-25 17:20')
    t.equal('preview: Fri 17:20, 8 business hours', result(b, 'cal', '期限 2026-12-26 16:30、警告 2026-12-26 14:30'),
            '期限 2026-12-26 16:30、警告 2026-12-26 14:30')
    retype(b, '#cal-h-1', '8:30-12:00')
    t.equal('Monday "8:30-12:00": refused beside the field, focus there',
            field_error(b, 'cal-h-1'), ('「8:30-12:00」は時間帯の形（例 08:30-12:00）ではありません。', 'true', 'cal-h-1'))
    retype(b, '#cal-h-1', '08:30-12:00, 11:00-13:00')
    t.equal('Monday overlapping: refused beside the field',
            field_error(b, 'cal-h-1'), ('時間帯が重なっています（08:30-12:00 と 11:00-13:00）。', 'true', 'cal-h-1'))
    t.equal('nothing stored after the refusals', hours_of(env, 1), [['08:30-17:15']])
    retype(b, '#cal-h-1', '08:30-17:15', enter=False)
    retype(b, '#cal-h-6', '08:30-12:00')
    t.equal('Saturday 08:30-12:00: the preview moves to Monday 13:00',
            result(b, 'cal', '期限 2026-12-28 13:00、警告 2026-12-28 11:00'), '期限 2026-12-28 13:00、警告 2026-12-28 11:00')
    t.equal('Saturday stored, Monday unchanged', (hours_of(env, 6), hours_of(env, 1)),
            ([['08:30-12:00']], [['08:30-17:15']]))
    t.check('saved: announced', bool(b.wait(lambda: 'センター の受付時間を保存しました。'
                                            in b.find('#announcer').get_attribute('textContent'), 5)))
    retype(b, '#cal-cl-from', '2026-02-30')
    t.equal('closure on 2026-02-30: refused beside the date',
            field_error(b, 'cal-cl-from'), ('日付は 2026-12-28 の形で、実在する日を入力してください。', 'true', 'cal-cl-from'))
    retype(b, '#cal-cl-from', '2026-12-28', enter=False)
    retype(b, '#cal-cl-reason', 'システム更新')
    t.equal('closure Mon 12-28: the preview moves past 年末年始',
            result(b, 'cal', '期限 2027-01-04 13:00、警告 2027-01-04 11:00'), '期限 2027-01-04 13:00、警告 2027-01-04 11:00')
    t.equal('the closure stored', sql(env, "SELECT calendar_id, starts_at = '2026-12-28 00:00+09',"
                                           " ends_at = '2026-12-29 00:00+09', reason FROM calendar_closure"),
            [['1', 't', 't', 'システム更新']])
    rows = b.wait(lambda: b.js("return Array.from(document.querySelectorAll('#cal-cl-table tbody tr'))"
                               ".map(r => Array.from(r.cells).slice(0, 3).map(c => c.textContent))") or None, 5)
    t.equal('the closure listed', rows, [['2026-12-28', 'このカレンダー', 'システム更新']])
    t.equal('the audit rows of the two changes', sql(env, 'SELECT entity, action, actor FROM calendar_audit ORDER BY id'),
            [['hours', 'replace', ADMIN[0]], ['closure', 'create', ADMIN[0]]])
    no_axe_violation(b, axe_src, 'calendar-page')


def step_department(b, env):
    retype(b, '#cal-new-name', '環境課 土曜窓口')
    t.check('a department\'s calendar added and chosen', bool(b.wait(
        lambda: b.find('#cal-select').get_attribute('value') == '3' and b.visible('#cal-dep-1'), 5)))
    retype(b, '#cal-h-6', '09:00-12:00')
    got = mdg.wait_for(lambda: sql(env, "SELECT weekday, to_char(opens, 'HH24:MI') FROM calendar_hours"
                                        " WHERE calendar_id = 3") == [['6', '09:00']], 5)
    t.check('its Saturday opening stored', bool(got), sql(env, 'SELECT * FROM calendar_hours WHERE calendar_id = 3'))
    b.find('#cal-dep-1').click()
    b.find('#cal-dep-save').click()
    t.check('the department on it', bool(mdg.wait_for(
        lambda: sql(env, 'SELECT calendar_id FROM department') == [['3']], 5)))
    b.js("const s = document.getElementById('cal-select'); s.value = '1';"
         " s.dispatchEvent(new Event('change', {bubbles: true}));")
    t.equal('back on the centre\'s calendar', b.wait(lambda: b.find('#cal-h-6').get_attribute('value'), 5),
            '08:30-12:00')


def step_upload(b, env):
    rows = ['2028/1/1,元日', '2028/1/10,成人の日', '2028/2/11,建国記念の日', '2028/2/23,天皇誕生日',
            '2028/3/21,春分の日', '2028/4/29,昭和の日', '2028/5/3,憲法記念日', '2028/5/4,みどりの日',
            '2028/5/5,こどもの日', '2028/7/17,海の日', '2028/8/11,山の日', '2028/9/18,敬老の日',
            '2028/9/22,秋分の日', '2028/10/9,スポーツの日', '2028/11/3,文化の日', '2028/11/23,勤労感謝の日']
    header = '国民の祝日・休日月日,国民の祝日・休日名称'
    bad = os.path.join(env.root, 'bad.csv')
    with open(bad, 'wb') as f:
        f.write('\r\n'.join([header, '2028/2/30,架空の日', 'abc,名前']).encode('cp932'))
    b.find('#cal-hol-file').send_keys(bad)
    b.find('#cal-hol-import').click()
    got = b.wait(lambda: b.visible('#cal-hol-result li') and b.find('#cal-hol-result').text, 10)
    t.equal('a bad list: refused with its lines, the focus on the result',
            (got, active_id(b)), ('読み込めませんでした: 2 errors in the list; nothing was loaded\n'
                                  '2 行目: no such date (or before 1948, when the Holidays Act began)\n'
                                  '3 行目: the date is not YYYY/M/D', 'cal-hol-result'))
    good = os.path.join(env.root, 'syukujitsu.csv')
    with open(good, 'wb') as f:
        f.write(('\r\n'.join([header] + rows) + '\r\n').encode('cp932'))
    b.find('#cal-hol-file').send_keys(good)
    b.find('#cal-hol-import').click()
    want = '読み込みました: 16 件（2028-01-01〜2028-11-23）、追加 1 件、変更 15 件、変更なし 0 件、削除 1 件。'
    got = b.wait(lambda: b.find('#cal-hol-result').text == want, 10)
    t.equal('the Cabinet Office list (CP932) loaded', b.find('#cal-hol-result').text if not got else want, want)
    t.equal('2028 official in the table', sql(env, "SELECT count(*), min(source) FROM holiday"
                                                   " WHERE day BETWEEN '2028-01-01' AND '2028-12-31'"),
            [['16', 'cabinet-office']])


def step_sla(b, env, axe_src):
    ok = open_from_menu(b, 'nav-sla-policies', 'SLAポリシー')
    t.check('admin: SLAポリシー from the menu', bool(ok))
    rows = b.js("return Array.from(document.querySelectorAll('#sla-body tr')).map(r => r.cells[0].textContent)")
    t.equal('the six policies listed (the seeds of sql/016 and sql/025, then biz)', rows, [
        'すべてのキュー / メール / 初回回答', 'すべてのキュー / FAX / 初回回答', 'すべてのキュー / メール / 処理完了',
        'すべてのキュー / FAX / 処理完了', 'すべてのキュー / すべての経路 / 所管課の回答', 'キュー「biz」 / メール / 初回回答'])
    b.find('#sla-edit-6').click()
    t.check('the form opens on the queue field', bool(b.wait(lambda: active_id(b) == 'sla-f-queue', 5)))
    retype(b, '#sla-f-warning', '8')
    t.equal('a warning as long as the target: refused beside it',
            field_error(b, 'sla-f-warning'), ('警告の残り時間は目標より短くしてください。', 'true', 'sla-f-warning'))
    retype(b, '#sla-f-warning', '1', enter=False)
    retype(b, '#sla-f-target', '4')
    got = mdg.wait_for(lambda: sql(env, 'SELECT target_seconds, warning_seconds FROM sla_policy WHERE id = 6')
                       == [['14400', '3600']], 10)
    t.check('target 4 h, warning 1 h stored', bool(got),
            sql(env, 'SELECT target_seconds, warning_seconds FROM sla_policy WHERE id = 6'))
    b.js("const s = document.getElementById('sla-pv-policy'); s.value = '6';")
    retype(b, '#sla-pv-received', '2026-12-25 17:20')
    t.equal('preview of the changed policy: 3.5 h on Saturday, the last half hour on 2027-01-04 (12-28 closed)',
            result(b, 'sla', '期限 2027-01-04 09:00、警告 2026-12-26 11:30'), '期限 2027-01-04 09:00、警告 2026-12-26 11:30')
    no_axe_violation(b, axe_src, 'sla-page')


def step_supervisor(b, base):
    login(b, base, SUPER)
    ok = open_from_menu(b, 'nav-calendars', '営業日カレンダー')
    t.check('supervisor: 営業日カレンダー opens', bool(ok))
    t.equal('supervisor: read only (no save button, read-only fields, no closure form)',
            (b.js("return !!document.getElementById('cal-hours-save')"),
             b.find('#cal-h-6').get_attribute('readonly') is not None, b.find('#cal-h-6').get_attribute('value'),
             b.js("return !!document.getElementById('cal-cl-form')")), (False, True, '08:30-12:00', False))
    b.js("const s = document.getElementById('cal-pv-policy'); s.value = '1';")
    retype(b, '#cal-pv-received', '2026-12-25 17:20')
    t.equal('supervisor: the preview of the 24-hour policy', result(b, 'cal', '期限 2026-12-26 17:20、警告 2026-12-26 11:20'),
            '期限 2026-12-26 17:20、警告 2026-12-26 11:20')
    ok = open_from_menu(b, 'nav-sla-policies', 'SLAポリシー')
    t.equal('supervisor: SLAポリシー without add or edit buttons',
            (bool(ok), b.js("return !!document.getElementById('sla-add') || !!document.getElementById('sla-edit-1')")),
            (True, False))


def console_problems(b):
    return [m for m in b.read_console() + b.console
            if 'Content Security Policy' in m or 'Uncaught' in m or 'SyntaxError' in m]


def main():
    with open(AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-calendar') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        for who, role in ((ADMIN, 'admin'), (SUPER, 'supervisor')):
            env.add_user(who[0], role, who[1], who[2])
        sql(env, "INSERT INTO sla_policy (queue, channel, mode, target_seconds, warning_seconds, calendar_id)"
                 " VALUES ('biz', 'mail', 'business_hours', 28800, 7200, 1);"
                 " INSERT INTO department (name, mail, updated_by, updated_at)"
                 " VALUES ('環境課', '{k@w.example.lg.jp}', 't', now())")
        d = env.start('ticketd')
        if not mdg.wait_for(lambda: _listening(port), 10):
            t.fail('ticketd listening', d.log_text()[-2000:])
            t.done()
        base = f'http://127.0.0.1:{port}'
        try:
            with Browser(mdg.ARTEFACTS, 'browser-calendar') as b:
                b.driver.set_script_timeout(30)
                if not t.check('admin logs in', bool(login(b, base, ADMIN))):
                    t.done()
                step_calendar(b, env, axe_src)
                step_department(b, env)
                step_upload(b, env)
                step_sla(b, env, axe_src)
                logout(b)
                step_supervisor(b, base)
                time.sleep(0.2)
                t.equal('no CSP violation or script error in the console', console_problems(b), [])
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print('# --- ticketd log tail ---\n' + d.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
