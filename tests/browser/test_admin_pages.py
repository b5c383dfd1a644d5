#!/usr/bin/python3
"""The admin pages (管理メニュー) in a real browser: 定型文, 承認設定（キュー別）,
分類の管理, 連絡先閲覧記録 (templates/web/js/admin_*.js).

Private PostgreSQL and ticketd (its template folder a copy of
templates/reply); headless Chromium.  An admin opens the menu from the
keyboard (Enter opens it on its first entry, Escape closes it back onto the
button) and, on the templates page, opens 002_回答, types an unknown
variable (flagged at once in the list of variables used; the server's
refusal shown beside the body, focus there), fixes it, switches approval on
and saves: the file on disk is compared byte for byte.  The preview for a
ticket number shows the filled subject and body exactly; a new template
with a bad name is refused beside the name, then saved and compared on
disk.  On the approval page the queues of tickets and rules are listed and
one switch flips the queue_setting row.  On the categories page a rename
of a 課 rewrites the ticket rows (compared exactly, and the case record
row) and reaches the page back over the event stream
(mdg:categories-changed), a sibling's name is 409 beside the field, a 係
is added, switched off and moved.  The access log shows, newest first, the exact rows of a
contact save and read done in the test by a supervisor, filters by
ticket and contact, pages back with before=.  axe-core finds no WCAG 2.1
AA violation on any of the four pages (the templates page in English too).
A supervisor's menu holds the access log and the calendar and SLA pages; an operator gets no menu,
a refusal on the pages, and 403 from the API.  No CSP violation or script
error.  Screenshots go to tests/artefacts/browser-admin-*.png.

Run: /usr/bin/python3 tests/browser/test_admin_pages.py
"""
import os
import shutil
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from test_a11y import axe  # noqa: E402
from test_queue import a11y_basics  # noqa: E402
from ticketd_http import Client, _listening  # noqa: E402

ADMIN = ('adm-pages', 'admin 管理 pass', '管理者 一郎')
SUPER = ('sv-pages', 'supervisor 監督 pass', '監督 次郎')
OPER = ('op-pages', 'operator 受付 pass', '受付 花子')
AXE = os.path.join(HERE, 'vendor', 'axe-core', 'axe.min.js')
REASON = '折り返し電話のため'

t = mdg.Checks('browser-admin')


def fixture(env):
    env.pg.psql("""
INSERT INTO ticket (id, channel, status, queue, subject, category, created_at, updated_at) VALUES
 (51, 'mail', 'open', 'kucho', '転入届について', '区民課 > 住民記録係', '2026-11-20 01:00:00+00', '2026-11-20 01:00:00+00'),
 (52, 'mail', 'open', 'general', '証明書', '区民課', '2026-11-20 02:00:00+00', '2026-11-20 02:00:00+00'),
 (53, 'fax', 'open', 'general', 'ごみ', '環境課', '2026-11-20 03:00:00+00', '2026-11-20 03:00:00+00'),
 (54, 'mail', 'open', 'general', '似た名前', '区民課課', '2026-11-20 04:00:00+00', '2026-11-20 04:00:00+00');
INSERT INTO message (id, ticket_id, direction, subject, from_name, from_addr, to_list, cc_list,
                     body_text, parse_state, created_at)
VALUES (501, 51, 'in', '転入届について', '区民 花子', 'hanako@example.jp', 'madoguchi@city.example.jp',
        '', '転入届の書き方を教えてください。', 'ok', '2026-11-20 01:00:00+00');
INSERT INTO case_record (ticket_id, channel, received_at, category, recorded_by, recorded_at,
                         updated_by, updated_at)
VALUES (52, 'mail', '2026-11-20 02:00:00+00', '区民課', 'x', '2026-11-20 02:00:00+00', 'x',
        '2026-11-20 02:00:00+00');
INSERT INTO route_rule (position, name, match_subject, set_queue, updated_at)
VALUES (1, 'ごみ', 'ごみ', 'gomi-rule', now());
""", user='madoguchi_owner')


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


def active_id(b):
    return b.js('return document.activeElement ? document.activeElement.id : null')


def keys(b, *k):
    ActionChains(b.driver).send_keys(*k).perform()


def announced(b, text):
    return b.wait(lambda: text in b.find('#announcer').get_attribute('textContent'), 5)


def no_axe_violation(b, axe_src, name):
    b.screenshot(name)
    v = axe(b, axe_src)
    t.equal(f'{name}: no WCAG 2.1 AA violation (axe found {len(v)})', v, [])


def open_from_menu(b, link_id, heading):
    b.find('#admin-menu-button').click()
    link = b.wait(lambda: b.visible(f'#{link_id}'), 5)
    if link is None:
        return None
    link.click()
    return b.wait(lambda: b.visible('#admin-title') and b.find('#admin-title').text == heading, 10)


def set_value(b, css, value):
    b.js("const e = document.querySelector(arguments[0]); e.value = arguments[1];"
         " e.dispatchEvent(new Event('input', {bubbles: true}));", css, value)


# ---- the menu, from the keyboard ----------------------------------------------

def step_menu(b):
    t.check('admin: the menu button shows', bool(b.visible('#admin-menu-button')))
    t.equal('menu entries for an admin',
            b.js("return Array.from(document.querySelectorAll('#admin-menu-list li'))"
                 ".filter(li => !li.hidden).map(li => li.textContent.trim())"),
            ['定型文', '承認設定（キュー別）', '分類の管理', '連絡先閲覧記録', '所管課の管理',  # admin_departments.js
             '営業日カレンダー', 'SLAポリシー',  # admin_calendar.js, admin_sla.js
             '内線の割り当て'])  # admin_extensions.js (CTI)
    b.js("document.getElementById('admin-menu-button').focus()")
    keys(b, Keys.ENTER)
    t.equal('Enter opens the menu on its first entry',
            (b.find('#admin-menu-button').get_attribute('aria-expanded'), active_id(b)),
            ('true', 'nav-templates'))
    keys(b, Keys.ESCAPE)
    t.equal('Escape closes it, focus back on the button',
            (b.find('#admin-menu-button').get_attribute('aria-expanded'), active_id(b),
             b.visible('#admin-menu-list') is None), ('false', 'admin-menu-button', True))
    keys(b, Keys.ENTER)
    keys(b, Keys.TAB)
    t.equal('Tab moves to the next entry', active_id(b), 'nav-queues')
    ActionChains(b.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    keys(b, Keys.ENTER)
    ok = b.wait(lambda: b.visible('#admin-title') and b.find('#admin-title').text == '定型文', 10)
    t.check('Enter on 定型文 opens the templates page', bool(ok))
    t.equal('the menu closes, the page heading has the focus, the entry is marked current',
            (b.visible('#admin-menu-list') is None, active_id(b),
             b.find('#nav-templates').get_attribute('aria-current')), (True, 'admin-title', 'page'))


# ---- 定型文 ---------------------------------------------------------------------

def used_vars(b):
    return b.js("return Array.from(document.querySelectorAll('#tpl-vars-used li'))"
                ".map(li => [li.dataset.var || null, li.className])")


def step_templates(b, folder, axe_src):
    names = b.js("return Array.from(document.querySelectorAll('.tpl-open')).map(x => x.dataset.name)")
    t.equal('the templates listed by name', names,
            ['001_受付確認', '002_回答', '003_所管課へ確認中', '004_追加情報のお願い', '005_窓口のご案内'])
    b.find('.tpl-open[data-name="002_回答"]').click()
    t.check('opening a template puts the focus on its title',
            bool(b.wait(lambda: active_id(b) == 'tpl-f-title', 5)))
    t.equal('the editor holds the file', b.js("return document.getElementById('tpl-f-title').value"), '回答')
    a11y_basics(t, b, 'template editor')
    body = '{{citizen.name}} 様\n\n受付番号 {{ticket.id}} のお問い合わせに回答します。\n\n担当：{{operator.name}}\n'
    set_value(b, '#tpl-f-body', body)
    b.find('#tpl-f-body').send_keys(Keys.CONTROL, Keys.END)
    b.find('#tpl-f-body').send_keys('{{citizen.nmae}}')
    t.equal('the variables used, the typo flagged while typing', used_vars(b),
            [['citizen.name', 'var-known'], ['ticket.id', 'var-known'], ['operator.name', 'var-known'],
             ['citizen.nmae', 'var-unknown']])
    set_value(b, '#tpl-f-subject', '{{ticket.id')
    syn = b.wait(lambda: b.visible('#tpl-syntax'), 3)
    t.equal('an unclosed "{{" said at once', syn.text if syn else None,
            '書式の誤り: 「{{」に対応する「}}」が同じ行にありません（{{ticket.id の付近）。')
    set_value(b, '#tpl-f-subject', '')
    t.check('and the message gone once fixed', b.visible('#tpl-syntax') is None)
    b.find('#tpl-f-title').clear()
    b.find('#tpl-f-title').send_keys('回答（一般）')
    b.find('#tpl-f-subject').send_keys('【{{ticket.id}}】ご回答')
    b.find('#tpl-save').click()
    err = b.wait(lambda: b.visible('#tpl-f-body-error'), 5)
    t.equal('the server refuses the unknown variable: beside the body', err.text if err else None,
            '本文: 不明な変数があります: citizen.nmae')
    t.equal('focus on the body, marked invalid', (active_id(b), b.find('#tpl-f-body').get_attribute('aria-invalid')),
            ('tpl-f-body', 'true'))
    with open(os.path.join(folder, '002_回答.txt'), 'rb') as f:
        t.check('the file is unchanged after the refusal', f.read().startswith('Title: 回答\n'.encode()))
    b.screenshot('1-template-refused')
    set_value(b, '#tpl-f-body', body)
    t.equal('fixed: no unknown variable left', [v[1] for v in used_vars(b)], ['var-known'] * 3)
    b.find('#tpl-f-approval').click()
    b.find('#tpl-save').click()
    t.check('saving announced', bool(announced(b, '定型文「002_回答」を保存しました。')))
    want = ('Title: 回答（一般）\nSubject: 【{{ticket.id}}】ご回答\nApproval: required\n\n' + body).encode()
    with open(os.path.join(folder, '002_回答.txt'), 'rb') as f:
        t.equal('the file on disk, byte for byte', f.read(), want)
    listed = b.wait(lambda: b.find('.tpl-open[data-name="002_回答"]').text.startswith('回答（一般）'), 5)
    t.equal('the list says it needs approval', bool(listed) and
            b.find('.tpl-open[data-name="002_回答"]').text.split('\n')[0], '回答（一般）（承認が必要）')
    # the preview for a ticket
    b.find('#tpl-p-ticket').send_keys('abc' + Keys.ENTER)
    e = b.wait(lambda: b.visible('#tpl-p-ticket-error'), 5)
    t.equal('preview: a number is asked for', e.text if e else None, '受付番号は数字で入力してください。')
    b.find('#tpl-p-ticket').clear()
    b.find('#tpl-p-ticket').send_keys('99' + Keys.ENTER)
    e = b.wait(lambda: b.visible('#tpl-preview-out .form-error'), 5)
    t.equal('preview: an unknown ticket said so', e.text if e else None, '受付 99 は見つかりません。')
    b.find('#tpl-p-ticket').clear()
    b.find('#tpl-p-ticket').send_keys('51' + Keys.ENTER)
    ok = b.wait(lambda: b.visible('#tpl-p-body'), 5)
    t.check('preview shown', bool(ok))
    if ok:
        t.equal('preview: To, subject and body filled from ticket 51 (admins may render)',
                [b.find('#tpl-p-to').text, b.find('#tpl-p-subject').text,
                 b.js("return document.getElementById('tpl-p-body').textContent")],
                ['区民 花子 <hanako@example.jp>', '[受付番号:51] 【51】ご回答',
                 '区民 花子 様\n\n受付番号 51 のお問い合わせに回答します。\n\n担当：管理者 一郎\n'])
    no_axe_violation(b, axe_src, 'templates (editor and preview)')
    # a new one
    b.find('#tpl-new').click()
    t.equal('新しい定型文: focus on the name', active_id(b), 'tpl-f-name')
    b.find('#tpl-f-name').send_keys('006/x')
    b.find('#tpl-save').click()
    e = b.wait(lambda: b.visible('#tpl-f-name-error'), 5)
    t.equal('a name with "/" refused beside it', e.text if e else None,
            '名前（ファイル名）: 名前に「/」「\\」や制御文字は使えません。')
    b.find('#tpl-f-name').clear()
    b.find('#tpl-f-name').send_keys('002_回答')
    b.find('#tpl-save').click()
    b.wait(lambda: '同じ名前' in b.find('#tpl-f-name-error').text, 5)
    t.equal('a name already listed refused', b.find('#tpl-f-name-error').text,
            '名前（ファイル名）: 同じ名前の定型文があります。')
    b.find('#tpl-f-name').clear()
    b.find('#tpl-f-name').send_keys('006_休日窓口')
    b.find('#tpl-f-title').send_keys('休日窓口のご案内')
    set_value(b, '#tpl-f-body', '{{citizen.name}} 様\n日曜窓口は第2・第4日曜日です。\n')
    b.find('#tpl-save').click()
    ok = b.wait(lambda: b.finds('.tpl-open[data-name="006_休日窓口"]'), 5)
    t.check('the new template is listed', bool(ok))
    path = os.path.join(folder, '006_休日窓口.txt')
    with open(path, 'rb') as f:
        t.equal('the new file on disk, byte for byte', f.read(),
                'Title: 休日窓口のご案内\nSubject: \n\n{{citizen.name}} 様\n日曜窓口は第2・第4日曜日です。\n'.encode())
    b.find('#lang-toggle').click()
    t.equal('English: heading and labels', [b.find('#admin-title').text, b.find('label[for="tpl-f-body"]').text],
            ['Reply templates', 'Body'])
    no_axe_violation(b, axe_src, 'templates (English)')
    b.find('#lang-toggle').click()


# ---- 承認設定 -------------------------------------------------------------------

def queue_rows(b):
    return b.js("return Array.from(document.querySelectorAll('#queues-body tr')).map(tr =>"
                " [tr.children[0].textContent, tr.querySelector('input').checked, tr.children[3].textContent])")


def step_queues(b, env, axe_src):
    ok = open_from_menu(b, 'nav-queues', '承認設定（キュー別）')
    t.check('the approval page from the menu', bool(ok))
    t.equal('the queues of tickets and rules, by name', queue_rows(b),
            [['general', False, '受付'], ['gomi-rule', False, '振り分けルール'], ['kucho', False, '受付']])
    b.find('#queues-body tr[data-queue="kucho"] .queue-approval').click()
    ok = b.wait(lambda: queue_rows(b)[2][1] and 'adm-pages' in b.find('#queues-body tr[data-queue="kucho"]').text, 5)
    t.check('switched on: shown with who changed it', bool(ok))
    t.equal('switched on: the queue_setting row',
            env.pg.psql("SELECT queue, approval_required, updated_by FROM queue_setting", user='madoguchi_owner'),
            [['kucho', 't', 'adm-pages']])
    t.check('announced', bool(announced(b, 'キュー「kucho」は送信前の承認が必要になりました。')))
    t.check('focus stays on the switch',
            b.js("return document.activeElement.classList.contains('queue-approval')"
                 " && document.activeElement.closest('tr').dataset.queue === 'kucho'"))
    no_axe_violation(b, axe_src, 'approval by queue')


# ---- 分類の管理 -----------------------------------------------------------------

def names(b):
    return b.js("return Array.from(document.querySelectorAll('#cat-tree .cat-name')).map(x => x.textContent)")


def li_of(b, name):
    return f'#cat-tree li[data-id="{b.js(CAT_ID, name)}"]'


CAT_ID = ("return Array.from(document.querySelectorAll('#cat-tree li'))"
          ".find(li => li.querySelector('.cat-name').textContent === arguments[0]).dataset.id")


def step_categories(b, env, axe_src):
    ok = open_from_menu(b, 'nav-categories', '分類の管理')
    t.check('the categories page from the menu', bool(ok))
    t.equal('the tree in order', names(b),
            ['区民課', '住民記録係', '戸籍係', '保険年金課', '国保係', '年金係', '環境課', '清掃係'])
    b.js("window.mdgCats = 0; window.addEventListener('mdg:categories-changed', () => { window.mdgCats += 1; })")
    b.find(li_of(b, '区民課') + ' > .cat-row .cat-rename').click()
    t.equal('rename: focus on the name, holding the old one',
            (active_id(b), b.js("return document.getElementById('cat-f-name').value")), ('cat-f-name', '区民課'))
    a11y_basics(t, b, 'rename form')
    b.find('#cat-f-name').clear()
    b.find('#cat-f-name').send_keys('区民生活課' + Keys.ENTER)
    t.check('the rename announced with its counts', bool(announced(
        b, '「区民課」を「区民生活課」に変更しました（受付 2件、応対履歴 1件、振り分けルール 0件の分類を書き換えました）。')))
    b.wait(lambda: names(b)[0] == '区民生活課', 5)
    t.check('the event stream tells the page (mdg:categories-changed, for the category caches)',
            bool(b.wait(lambda: b.js('return window.mdgCats') == 1, 5)))
    t.equal('the tree shows the new name', names(b)[:3], ['区民生活課', '住民記録係', '戸籍係'])
    t.equal('the ticket rows rewritten, the lookalike kept',
            env.pg.psql('SELECT id, category FROM ticket WHERE id BETWEEN 51 AND 54 ORDER BY id',
                        user='madoguchi_owner'),
            [['51', '区民生活課 > 住民記録係'], ['52', '区民生活課'], ['53', '環境課'], ['54', '区民課課']])
    t.equal('the case record row rewritten',
            env.pg.psql('SELECT ticket_id, category FROM case_record', user='madoguchi_owner'),
            [['52', '区民生活課']])
    t.equal('focus back on the rename button of that 課',
            b.js("return document.activeElement.classList.contains('cat-rename')"
                 " && document.activeElement.closest('li').querySelector('.cat-name').textContent"), '区民生活課')
    b.find(li_of(b, '戸籍係') + ' > .cat-row .cat-rename').click()
    b.find('#cat-f-name').clear()
    b.find('#cat-f-name').send_keys('住民記録係' + Keys.ENTER)
    e = b.wait(lambda: b.visible('#cat-f-name-error'), 5)
    t.equal('a sibling\'s name: 409 said beside the field', e.text if e else None,
            '名前: 同じ階層に同じ名前の分類があります。')
    t.equal('focus on the field, marked invalid',
            (active_id(b), b.find('#cat-f-name').get_attribute('aria-invalid')), ('cat-f-name', 'true'))
    keys(b, Keys.ESCAPE)
    t.check('Escape closes the form', bool(b.wait(lambda: not b.finds('#cat-form'), 3)))
    b.find(li_of(b, '環境課') + ' > .cat-row .cat-add-child').click()
    b.find('#cat-f-name').send_keys('資源循環係' + Keys.ENTER)
    b.wait(lambda: '資源循環係' in names(b), 5)
    t.equal('a 係 added last under 環境課', names(b)[-3:], ['環境課', '清掃係', '資源循環係'])
    b.find(li_of(b, '資源循環係') + ' .cat-enabled').click()
    b.wait(lambda: b.finds(li_of(b, '資源循環係') + ' > .cat-row.cat-off'), 5)
    t.equal('switched off: stored', env.pg.psql("SELECT enabled FROM category WHERE name = '資源循環係'",
                                                user='madoguchi_owner'), [['f']])
    b.find(li_of(b, '保険年金課') + ' > .cat-row .cat-up').click()
    b.wait(lambda: names(b)[0] == '保険年金課', 5)
    t.equal('moved up: the tree', names(b)[:4], ['保険年金課', '国保係', '年金係', '区民生活課'])
    t.equal('moved up: stored as positions', env.pg.psql(
        "SELECT name, position FROM category WHERE parent_id IS NULL ORDER BY position, id",
        user='madoguchi_owner'), [['保険年金課', '1'], ['区民生活課', '2'], ['環境課', '3']])
    no_axe_violation(b, axe_src, 'categories')


# ---- 連絡先閲覧記録 --------------------------------------------------------------

def access_rows(b):
    return b.js("return Array.from(document.querySelectorAll('#acc-body tr')).map(tr =>"
                " Array.from(tr.children).slice(1).map(c => c.textContent))")


def step_access(b, axe_src):
    ok = open_from_menu(b, 'nav-access', '連絡先閲覧記録')
    t.check('the access log from the menu', bool(ok))
    rows = access_rows(b)
    t.equal('newest first: the read, then the save, by the supervisor', rows[:3],
            [['sv-pages（スーパーバイザー）', '連絡先 1 / 受付 51', '閲覧', REASON],
             ['sv-pages（スーパーバイザー）', '連絡先 1 / 受付 51', '登録', REASON],
             ['old-op（オペレーター）', '（連絡先なし） / 受付 53', '閲覧', '過去の記録 55']])
    t.equal('one page of 50, and a button for older ones', (len(rows), bool(b.visible('#acc-more'))), (50, True))
    b.find('#acc-more').click()
    b.wait(lambda: len(access_rows(b)) == 57, 5)
    rows = access_rows(b)
    t.equal('the older page appended (before=), to the oldest', (len(rows), rows[-1][3]), (57, '過去の記録 1'))
    t.equal('no more button at the end; focus on the first row that came in',
            (b.visible('#acc-more') is None,
             b.js("return document.activeElement.closest('tr').rowIndex")), (True, 51))
    b.find('#acc-f-contact').send_keys('1' + Keys.ENTER)
    b.wait(lambda: len(access_rows(b)) == 2, 5)
    t.equal('filter by contact 1: the two rows of the supervisor', [r[1] for r in access_rows(b)],
            ['連絡先 1 / 受付 51'] * 2)
    b.find('#acc-f-contact').clear()
    b.find('#acc-f-ticket').send_keys('52' + Keys.ENTER)
    b.wait(lambda: b.visible('#acc-empty'), 5)
    t.equal('filter by ticket 52: none', b.find('#acc-empty').text, '記録はありません。')
    b.find('#acc-f-ticket').clear()
    b.find('#acc-f-ticket').send_keys('51' + Keys.ENTER)
    b.wait(lambda: len(access_rows(b)) == 2, 5)
    t.equal('filter by ticket 51: both', len(access_rows(b)), 2)
    no_axe_violation(b, axe_src, 'contact access log')


# ---- the other roles ------------------------------------------------------------

def step_supervisor(b, base):
    login(b, base, SUPER)
    t.equal('supervisor: the menu holds the access log and the calendar and SLA pages (read only)',
            b.js("return Array.from(document.querySelectorAll('#admin-menu-list li'))"
                 ".filter(li => !li.hidden).map(li => li.textContent.trim())"),
            ['連絡先閲覧記録', '営業日カレンダー', 'SLAポリシー'])
    ok = open_from_menu(b, 'nav-access', '連絡先閲覧記録')
    t.check('supervisor: the access log opens', bool(ok) and len(access_rows(b)) >= 2)
    b.get(base + '/#/admin/templates')
    e = b.wait(lambda: b.visible('#admin-content .form-error'), 5)
    t.equal('supervisor: the templates page refuses', e.text if e else None, 'この操作の権限がありません。')
    logout(b)


def step_operator(b, base, port):
    login(b, base, OPER)
    t.check('operator: no admin menu', b.visible('#admin-menu') is None)
    for page in ('templates', 'queues', 'categories', 'contact-access'):
        b.get(f'{base}/#/admin/{page}')
        e = b.wait(lambda: b.visible('#admin-content .form-error'), 5)
        t.equal(f'operator: #/admin/{page} refuses', e.text if e else None, 'この操作の権限がありません。')
    logout(b)
    op = Client(port)
    op.login(OPER[0], OPER[1])
    got = [op.get('/api/admin/queues').status,
           op.request('PUT', '/api/admin/queues/kucho/settings', json_body={'approval_required': False}).status,
           op.request('PUT', '/api/admin/templates/' + urllib.parse.quote('002_回答'),
                      json_body={'title': 'x', 'subject': '', 'body': ''}).status,
           op.request('PUT', '/api/admin/categories/1', json_body={'name': '乗っ取り'}).status,
           op.get('/api/admin/contact-access').status]
    t.equal('operator: the admin API answers 403', got, [403] * 5)


def console_problems(b):
    return [m for m in b.read_console() + b.console
            if 'Content Security Policy' in m or 'Uncaught' in m or 'SyntaxError' in m]


def main():
    with open(AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-admin') as env:
        env.start_db()
        port = mdg.free_port()
        folder = os.path.join(env.root, 'templates', 'reply')
        shutil.copytree(os.path.join(mdg.REPO, 'templates', 'reply'), folder)
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'ticketd.reply_templates': folder})
        for who, role in ((ADMIN, 'admin'), (SUPER, 'supervisor'), (OPER, 'operator')):
            env.add_user(who[0], role, who[1], who[2])
        fixture(env)
        d = env.start('ticketd')
        if not mdg.wait_for(lambda: _listening(port), 10):
            t.fail('ticketd listening', d.log_text()[-2000:])
            t.done()
        base = f'http://127.0.0.1:{port}'
        env.pg.psql("INSERT INTO contact_access (at, login, role, action, ticket_id, reason)"
                    " SELECT '2026-11-01 00:00:00+00'::timestamptz + g * interval '1 minute', 'old-op',"
                    " 'operator', 'read', 53, '過去の記録 ' || g FROM generate_series(1, 55) g",
                    user='madoguchi_owner')
        sv = Client(port)
        sv.login(SUPER[0], SUPER[1])
        r = sv.request('PUT', '/api/tickets/51/contact', json_body={'name': '区民 花子', 'phone': '03-1234-5678',
                                                                    'reason': REASON})
        t.equal('supervisor saves a contact', r.status, 200)
        r = sv.get('/api/tickets/51/contact?reason=' + urllib.parse.quote(REASON))
        t.equal('supervisor reads it', r.status, 200)
        try:
            with Browser(mdg.ARTEFACTS, 'browser-admin') as b:
                b.driver.set_script_timeout(30)
                if not t.check('admin logs in', bool(login(b, base, ADMIN))):
                    t.done()
                step_menu(b)
                step_templates(b, folder, axe_src)
                step_queues(b, env, axe_src)
                step_categories(b, env, axe_src)
                step_access(b, axe_src)
                logout(b)
                step_supervisor(b, base)
                step_operator(b, base, port)
                time.sleep(0.2)
                t.equal('no CSP violation or script error in the console', console_problems(b), [])
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print('# --- ticketd log tail ---\n' + d.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
