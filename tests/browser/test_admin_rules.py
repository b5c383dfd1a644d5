#!/usr/bin/python3
"""The routing rules page in a real browser.

Private PostgreSQL and ticketd; headless Chromium.  An operator sees no
link to the rules and is refused on the page.  An admin follows the header
link, adds a rule with the mouse (a bad regular expression first: the
error names the field, in Japanese, and focus lands on it), adds a second
from the keyboard alone, and both show in the list in order, as the API
stores them.  Move up, the enable switch, edit and delete each change what
the API returns.  The ticket page shows 振り分けルール, queue, category and
tags.  No CSP violation or script error in the console.  Screenshots go to
tests/artefacts/browser-rules-*.png.
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
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from test_queue import a11y_basics, focus_ring  # noqa: E402
from ticketd_http import Client, _listening  # noqa: E402

ADMIN = ('rules-admin', 'admin 管理 pass', '管理者 一郎')
OPERATOR = ('rules-op', 'operator 受付 pass', '受付 花子')

t = mdg.Checks('browser-rules')


def login(b, base, who):
    b.get(base + '/#/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').clear()   # the form keeps the last log-in name
    b.find('#login-id').send_keys(who[0])
    b.find('#login-password').send_keys(who[1] + Keys.ENTER)
    return b.wait(lambda: b.visible('#view-queue'), 10)


def logout(b):
    b.find('#logout').click()
    b.wait(lambda: b.visible('#login-id'), 5)


def active_id(b):
    return b.js('return document.activeElement ? document.activeElement.id : null')


def rows(b):
    """The list as shown: [(position, name, condition, settings, enabled)]."""
    return b.js("""
return Array.from(document.querySelectorAll('#rules-body tr')).map(tr => {
  const c = tr.children;
  return [c[0].textContent, c[1].firstChild.textContent, c[2].textContent, c[3].textContent,
          c[4].querySelector('input').checked];
});""")


def api_rules(admin):
    return [(r['name'], r['position'], r['enabled'], r['set_queue'], r['match_subject'],
             r['subject_regex']) for r in admin.get('/api/admin/rules').json()['rules']]


def console_problems(b):
    bad = []
    for line in b.read_console():
        if 'Content Security Policy' in line or 'Uncaught' in line or 'SyntaxError' in line:
            bad.append(line)
    return bad


def step_operator(b, base):
    login(b, base, OPERATOR)
    t.check('operator: no link to the rules', b.visible('#nav-rules') is None)
    b.get(base + '/#/admin/rules')
    msg = b.wait(lambda: b.visible('#rules-content .form-error'), 10)
    t.equal('operator: the page refuses', msg.text if msg else None, 'この操作の権限がありません。')
    logout(b)


def fill(b, values):
    for key, value in values.items():
        el = b.find(f'#rule-f-{key}')
        if el.get_attribute('type') == 'checkbox':
            if el.is_selected() != value:
                el.click()
        else:
            el.clear()
            el.send_keys(value)


def step_add_with_mouse(b, admin):
    link = b.wait(lambda: b.visible('#nav-rules'), 5)
    t.check('admin: link to the rules in the header', link is not None and link.text == '振り分けルール')
    if link is None:
        return
    link.click()
    ok = b.wait(lambda: b.visible('#rules-title'), 10)
    t.equal('rules page heading', ok.text if ok else None, '振り分けルール')
    t.equal('empty list says so', b.find('#rules-content .empty').text, 'ルールはまだありません。')
    t.equal('page title', b.js('return document.title'), '振り分けルール – 窓口')
    b.find('#rule-add').click()
    t.equal('the form opens with focus on the name', active_id(b), 'rule-f-name')
    labels = b.js("return Array.from(document.querySelectorAll('#rule-form input'))"
                  ".every(i => i.labels.length === 1 && i.labels[0].textContent.length > 0)")
    t.check('every form input has its label', labels)
    a11y_basics(t, b, 'rule form')
    fill(b, {'name': '区長宛ての至急', 'match_recipient': 'kucho@city.example.lg.jp',
             'match_subject': '(至急', 'subject_regex': True, 'set_queue': 'kucho-urgent',
             'set_category': '区長への手紙', 'set_priority': '5', 'set_tags': '区長、至急'})
    b.find('#rule-save').click()
    err = b.wait(lambda: b.visible('#rule-form-error'), 5)
    t.equal('a bad pattern: the error names the field in Japanese', err.text if err else None,
            '件名: 正規表現として正しくありません（U_REGEX_MISMATCHED_PAREN at offset 3）。')
    t.equal('focus on the field at fault', active_id(b), 'rule-f-match_subject')
    t.equal('the field is marked invalid',
            b.find('#rule-f-match_subject').get_attribute('aria-invalid'), 'true')
    t.equal('the message again under the field, and the field described by it',
            [b.find('#rule-f-match_subject-error').text,
             b.find('#rule-f-match_subject').get_attribute('aria-describedby')],
            ['件名: 正規表現として正しくありません（U_REGEX_MISMATCHED_PAREN at offset 3）。',
             'rule-f-match_subject-help rule-f-match_subject-error'])
    t.equal('what was typed is kept', b.js("return document.getElementById('rule-f-set_queue').value"),
            'kucho-urgent')
    b.find('#lang-toggle').click()
    t.equal('a language switch keeps what was typed (and the English labels show)',
            [b.js("return document.getElementById('rule-f-set_queue').value"),
             b.find('label[for="rule-f-set_queue"]').text], ['kucho-urgent', 'Queue'])
    b.find('#lang-toggle').click()
    b.find('#rule-f-match_subject').click()
    b.screenshot('1-bad-regex')
    fill(b, {'match_subject': r'^\[至急\]'})
    b.find('#rule-save').click()
    ok = b.wait(lambda: len(rows(b)) == 1 and not b.finds('#rule-form'), 5)
    t.check('the rule shows in the list after saving', bool(ok))
    t.equal('the row: order, name, condition, settings, switch', rows(b), [[
        '1', '区長宛ての至急',
        '宛先に「kucho@city.example.lg.jp」を含む かつ 件名が正規表現「^\\[至急\\]」に一致',
        'キュー: kucho-urgent / 分類: 区長への手紙 / 優先度: 5 / タグ: 区長, 至急', True]])
    t.check('saving announced', 'ルール「区長宛ての至急」を保存しました。' in
            b.find('#announcer').get_attribute('textContent'))
    t.check('focus on the new row\'s edit button',
            b.js("return document.activeElement.classList.contains('rule-edit')"))
    t.equal('stored as shown', api_rules(admin),
            [('区長宛ての至急', 1, True, 'kucho-urgent', '^\\[至急\\]', True)])
    b.screenshot('2-one-rule')


def step_add_with_keyboard(b, admin):
    b.js("document.getElementById('rules-title').focus()")
    for _ in range(10):
        ActionChains(b.driver).send_keys(Keys.TAB).perform()
        if active_id(b) == 'rule-add':
            break
    t.equal('Tab reaches "ルールを追加"', active_id(b), 'rule-add')
    style, width = focus_ring(b)
    t.check('keyboard focus is visible', style != 'none' and width >= 2, f'{style} {width}px')
    ActionChains(b.driver).send_keys(Keys.ENTER).perform()
    t.equal('Enter opens the form on the name', active_id(b), 'rule-f-name')
    ActionChains(b.driver).send_keys('ごみ係').send_keys(Keys.TAB).send_keys('gomi@').perform()
    for _ in range(20):   # on to the queue field
        if active_id(b) == 'rule-f-set_queue':
            break
        ActionChains(b.driver).send_keys(Keys.TAB).perform()
    ActionChains(b.driver).send_keys('gomi').send_keys(Keys.ENTER).perform()
    ok = b.wait(lambda: len(rows(b)) == 2, 5)
    t.check('a rule added from the keyboard shows in the list', bool(ok))
    t.equal('names in order', [r[1] for r in rows(b)], ['区長宛ての至急', 'ごみ係'])
    t.equal('stored in that order', [(r[0], r[1]) for r in api_rules(admin)],
            [('区長宛ての至急', 1), ('ごみ係', 2)])


def step_row_actions(b, admin):
    up = b.find('#rules-body tr:nth-child(2) .rule-up')
    t.equal('move button named for its rule', up.get_attribute('aria-label'), '「ごみ係」を上へ移動')
    up.click()
    b.wait(lambda: rows(b)[0][1] == 'ごみ係', 5)
    t.equal('moved up: the list', [r[1] for r in rows(b)], ['ごみ係', '区長宛ての至急'])
    t.equal('moved up: stored', [(r[0], r[1]) for r in api_rules(admin)],
            [('ごみ係', 1), ('区長宛ての至急', 2)])
    t.check('focus stays with the moved rule',
            b.js("const tr = document.activeElement.closest('tr');"
                 "return tr && tr.children[1].firstChild.textContent === 'ごみ係'"))
    b.find('#rules-body tr:nth-child(2) .rule-enabled').click()
    # the box unticks at the click; the row is greyed only once the list is refetched
    b.wait(lambda: len(b.finds('#rules-body tr.rule-off')) == 1, 5)
    t.equal('switched off: shown', [r[4] for r in rows(b)], [True, False])
    t.equal('switched off: stored', [r[2] for r in api_rules(admin)], [True, False])
    b.find('#rules-body tr:nth-child(1) .rule-edit').click()
    t.equal('edit opens the form on the name', active_id(b), 'rule-f-name')
    t.equal('the form holds the rule', b.find('#rule-f-match_recipient').get_attribute('value'), 'gomi@')
    fill(b, {'set_queue': 'gomi-2'})
    b.find('#rule-save').click()
    b.wait(lambda: not b.finds('#rule-form'), 5)
    t.equal('edited: stored', api_rules(admin)[0][3], 'gomi-2')
    t.equal('edited: shown', rows(b)[0][3], 'キュー: gomi-2')
    b.screenshot('3-two-rules')
    b.find('#rules-body tr:nth-child(1) .rule-delete').click()
    text = b.alert_text()
    t.equal('delete asks first', text, 'ルール「ごみ係」を削除しますか。')
    if text is not None:
        b.driver.switch_to.alert.accept()
    b.wait(lambda: len(rows(b)) == 1, 5)
    t.equal('deleted: list and store', ([r[1] for r in rows(b)], [r[0] for r in api_rules(admin)]),
            (['区長宛ての至急'], ['区長宛ての至急']))


def step_language(b):
    b.find('#lang-toggle').click()
    t.equal('English: heading and condition',
            [b.find('#rules-title').text, rows(b)[0][2]],
            ['Routing rules',
             'recipient contains "kucho@city.example.lg.jp" and subject matches /^\\[至急\\]/'])
    b.find('#lang-toggle').click()
    t.equal('back to Japanese', b.find('#rules-title').text, '振り分けルール')


def step_ticket(b, base, env):
    env.pg.psql("INSERT INTO ticket (id, channel, subject, queue, category, priority, tags,"
                " routed_rule_id, routed_rule_name, created_at, updated_at) VALUES (41, 'mail',"
                " '［至急］区長への手紙', 'kucho-urgent', '区長への手紙', 5, '{区長,至急}', 1,"
                " '区長宛ての至急', now(), now())", user='madoguchi_owner')
    b.get(base + '/#/tickets/41')
    ok = b.wait(lambda: b.visible('#ticket-title'), 10)
    t.check('ticket page shown', bool(ok))
    meta = b.js("""const out = {};
for (const d of document.querySelectorAll('dl.meta > div'))
  out[d.querySelector('dt').textContent] = d.querySelector('dd').textContent;
return out;""")
    t.equal('ticket page: routing', {k: meta.get(k) for k in ('振り分けルール', 'キュー', '分類', '優先度', 'タグ')},
            {'振り分けルール': '区長宛ての至急', 'キュー': 'kucho-urgent', '分類': '区長への手紙',
             '優先度': '5', 'タグ': '区長至急'})
    b.screenshot('4-ticket')


def main():
    with mdg.Env('browser-rules') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user(ADMIN[0], 'admin', ADMIN[1], ADMIN[2])
        env.add_user(OPERATOR[0], 'operator', OPERATOR[1], OPERATOR[2])
        d = env.start('ticketd')
        if not mdg.wait_for(lambda: _listening(port), 10):
            t.fail('ticketd listening', d.log_text()[-2000:])
            t.done()
        base = f'http://127.0.0.1:{port}'
        admin = Client(port)
        admin.login(ADMIN[0], ADMIN[1])
        with Browser(mdg.ARTEFACTS, 'browser-rules') as b:
            step_operator(b, base)
            if not t.check('admin logs in', bool(login(b, base, ADMIN))):
                t.done()
            step_add_with_mouse(b, admin)
            step_add_with_keyboard(b, admin)
            step_row_actions(b, admin)
            step_language(b)
            a11y_basics(t, b, 'rules page')
            step_ticket(b, base, env)
            time.sleep(0.2)
            t.equal('no CSP violation or script error in the console', console_problems(b), [])
    t.done()


if __name__ == '__main__':
    main()
