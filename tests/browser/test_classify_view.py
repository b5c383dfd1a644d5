#!/usr/bin/python3
"""分類 on the ticket page in the browser (js/classify.js, ticketd/category.h):
an operator sees the block with a label on each control, the select holding
(未分類) and every seeded category path in tree order; choosing
区民課 > 住民記録係 and typing tags split on 、 and , saves the exact row, is
announced, and the page shows the saved values; a supervisor's change by
the API shows live in the summary with no "ticket changed" notice, and the
untouched form is redrawn with it; after the operator edits the tags, a second
change by the supervisor leaves the edits in place and a notice says who changed
it to what (no axe violation with it); tags of 31 characters are
refused in words and leave the row as it was; no WCAG 2.1 AA violation
(axe-core); an admin sees no 分類 block.

Run: /usr/bin/python3 tests/browser/test_classify_view.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402
from test_a11y import AXE, axe, login  # noqa: E402
from ticketd_http import Client, start  # noqa: E402

PATHS = ['', '区民課', '区民課 > 住民記録係', '区民課 > 戸籍係', '保険年金課', '保険年金課 > 国保係',
         '保険年金課 > 年金係', '環境課', '環境課 > 清掃係']


def row(env):
    return env.sql("SELECT coalesce(category, '-'), tags FROM ticket WHERE id = 3")


def options(b):
    return b.js("return [...document.querySelectorAll('#classify-category option')].map(o => o.value)")


def labels(b):
    return b.js("""return ['classify-category', 'classify-tags'].map(id => {
        const c = document.getElementById(id);
        return c && c.labels.length ? c.labels[0].textContent : null; })""")


def message(b):
    return b.js("const p = document.getElementById('classify-message'); return p ? p.textContent : null")


def form(b):
    """the select's value, the tags field and the "changed by" notice (None: none)"""
    return b.js("""const s = document.getElementById('classify-category'),
        g = document.getElementById('classify-tags'), n = document.getElementById('classify-changed');
        return [s && s.value, g && g.value, n ? n.textContent : null]""")


def main():
    t = mdg.Checks('browser-classify')
    with open(AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-classify') as env:
        d, port = start(env, 'browser-classify')
        base = f'http://127.0.0.1:{port}'
        with Browser(mdg.ARTEFACTS, 'browser-classify') as b:
            b.driver.set_script_timeout(30)
            login(t, b, base, 'op1', 'operator-pass-1')
            b.get(f'{base}/#/tickets/3')
            t.check('the 分類 block with its paths',
                    bool(b.wait(lambda: len(options(b)) == len(PATHS), 10)), options(b))
            t.equal('the select: (未分類) and the tree in order', options(b), PATHS)
            t.equal('each control has its label', labels(b), ['分類（課・係）', 'タグ'])
            t.equal('ticket page with 分類: no WCAG 2.1 AA violation', axe(b, axe_src), [])
            Select(b.find('#classify-category')).select_by_value('区民課 > 住民記録係')
            b.find('#classify-tags').send_keys('選挙、 大量通知送付 ,選挙')
            b.find('#classify-save').click()
            t.check('saving writes the row',
                    bool(b.wait(lambda: row(env) == [['区民課 > 住民記録係', '{選挙,大量通知送付}']], 10)),
                    row(env))
            said = b.wait(lambda: '分類を保存しました。' in b.js(
                'return [...document.querySelectorAll("#announcer p")].map(p => p.textContent)'), 10)
            t.check('saving is announced', bool(said))
            shown = b.wait(lambda: b.js(
                "const s = document.getElementById('classify-category'),"
                " g = document.getElementById('classify-tags');"
                " return s && g && s.value === '区民課 > 住民記録係' && g.value === '選挙, 大量通知送付'"), 10)
            t.check('the page shows the saved values', bool(shown))
            # another operator's classification comes live and is redrawn in place
            sv = Client(port)
            sv.login('sv1', 'supervisor-pass-1')
            r = sv.request('POST', '/api/tickets/3/classify',
                           json_body={'category': '区民課 > 戸籍係', 'tags': ['選挙', '大量通知送付']})
            t.equal('a supervisor classifies it by the API: 200', r.status, 200)
            t.check('the summary shows it live, without a reload',
                    bool(b.wait(lambda: '区民課 > 戸籍係' in b.find('#ticket-meta').text, 10)),
                    b.find('#ticket-meta').text)
            t.equal('no "ticket changed" notice for it', len(b.finds('#ticket-changed')), 0)
            t.check('the untouched form is redrawn with the new values, no notice', bool(b.wait(
                lambda: form(b) == ['区民課 > 戸籍係', '選挙, 大量通知送付', None], 10)), form(b))
            b.find('#classify-tags').send_keys(', 窓口')
            r = sv.request('POST', '/api/tickets/3/classify',
                           json_body={'category': '保険年金課 > 国保係', 'tags': ['選挙']})
            t.equal('the supervisor classifies it again while op1 edits: 200', r.status, 200)
            t.check('the edited form keeps the edits and says who changed it to what', bool(b.wait(
                lambda: form(b) == ['区民課 > 戸籍係', '選挙, 大量通知送付, 窓口',
                                    '管理 責任者 さんがこの受付の分類を変更しました（分類: 保険年金課 > 国保係、'
                                    'タグ: 選挙）。入力中の内容はそのままです。保存すると上書きします。'], 10)), form(b))
            t.check('the summary shows the second change too',
                    bool(b.wait(lambda: '保険年金課 > 国保係' in b.find('#ticket-meta').text, 10)))
            t.equal('the "changed by" notice: no WCAG 2.1 AA violation', axe(b, axe_src), [])
            b.find('#classify-tags').send_keys(', ' + 'あ' * 31)
            b.find('#classify-save').click()
            t.check('tags of 31 characters: refused in words',
                    bool(b.wait(lambda: message(b) == 'タグが正しくありません（10個まで、各1〜30文字）。', 10)),
                    message(b))
            t.equal('the refused save left the row', row(env), [['保険年金課 > 国保係', '{選挙}']])
            t.equal('refused message: no WCAG 2.1 AA violation', axe(b, axe_src), [])
        with Browser(mdg.ARTEFACTS, 'browser-classify-admin') as b:
            login(t, b, base, 'ad1', 'admin-pass-1')
            b.get(f'{base}/#/tickets/3')
            t.check('admin: the ticket shows', bool(b.wait(lambda: b.visible('#ticket-meta'), 10)))
            t.equal('admin: no 分類 block', len(b.finds('#classify-panel')), 0)
        t.equal('SIGTERM: clean exit', d.stop(), 0)
    t.done()


if __name__ == '__main__':
    main()
