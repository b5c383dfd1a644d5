#!/usr/bin/python3
"""The queue's category filter in the browser (js/queue.js, GET /api/categories):
a select labelled 分類 holding すべて first, then the seeded tree in order with
each 係 indented under its 課 and a disabled category marked （無効）; choosing
区民課 shows exactly the tickets filed under 区民課 or a section below it (not
区民課外, not other departments, not unfiled), says so in the filter line; the
choice stays after opening a ticket and coming back; すべて shows every ticket
again; no WCAG 2.1 AA violation (axe-core) on the queue with the select.

Run: /usr/bin/python3 tests/browser/test_queue_category.py
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
from ticketd_http import start  # noqa: E402

IND = '\u3000'
# tickets 20.. with their category (the fixture has 1 '証明書', 2 and 3 none)
FILED = {20: '区民課 > 住民記録係', 21: '区民課', 22: '保険年金課 > 国保係', 23: '区民課 > 戸籍係',
         24: '区民課外', 25: None}


def options(b):
    return b.js("return [...document.querySelectorAll('#f-category option')]"
                ".map(o => [o.value, o.textContent])")


def shown_ids(b):
    return b.js("return [...document.querySelectorAll('#queue-body tr[data-id]')].map(r => Number(r.dataset.id))")


def main():
    t = mdg.Checks('browser-queue-category')
    with open(AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-queue-category') as env:
        d, port = start(env, 'browser-queue-category')
        rows = ', '.join(
            f"({tid}, 'mail', 'new', 'general', 'cat {tid}', {('$$' + cat + '$$') if cat else 'NULL'},"
            f" '2026-05-01 09:{tid}:00+00', '2026-05-01 09:{tid}:00+00')" for tid, cat in FILED.items())
        env.pg.psql(f"""
INSERT INTO ticket (id, channel, status, queue, subject, category, created_at, updated_at) VALUES {rows};
UPDATE category SET enabled = false WHERE name = '清掃係';""", user='madoguchi_owner')
        base = f'http://127.0.0.1:{port}'
        with Browser(mdg.ARTEFACTS, 'browser-queue-category') as b:
            login(t, b, base, 'op1', 'operator-pass-1')
            b.get(f'{base}/#/all')
            t.check('the category select filled from the tree',
                    bool(b.wait(lambda: len(options(b)) == 9, 10)), options(b))
            t.equal('すべて first, then the tree indented, the disabled one marked', options(b), [
                ['', 'すべて'], ['区民課', '区民課'], ['区民課 > 住民記録係', IND + '住民記録係'],
                ['区民課 > 戸籍係', IND + '戸籍係'], ['保険年金課', '保険年金課'],
                ['保険年金課 > 国保係', IND + '国保係'], ['保険年金課 > 年金係', IND + '年金係'],
                ['環境課', '環境課'], ['環境課 > 清掃係', IND + '清掃係（無効）']])
            t.equal('the select has its label', b.js(
                "return document.getElementById('f-category').labels[0].textContent"), '分類')
            every = sorted(list(FILED) + [1, 2, 3])
            t.check('every ticket listed first', bool(b.wait(lambda: sorted(shown_ids(b)) == every, 10)),
                    shown_ids(b))
            t.equal('queue with the category select: no WCAG 2.1 AA violation', axe(b, axe_src), [])
            Select(b.find('#f-category')).select_by_value('区民課')
            b.find('#queue-filters button[type="submit"]').click()
            want = [23, 21, 20]  # newest first in すべて
            t.check('区民課: exactly its tickets and those of its sections',
                    bool(b.wait(lambda: shown_ids(b) == want, 10)), shown_ids(b))
            t.equal('the filter line says so', b.find('#filter-state').text, '絞り込み中: 分類: 区民課')
            b.find('#queue-body tr[data-id="20"] a').click()
            b.wait(lambda: b.visible('#ticket-title') and b.find('#ticket-title').text == 'cat 20', 10)
            b.find('#ticket-back').click()
            t.check('back on the queue: 区民課 still chosen and applied', bool(b.wait(
                lambda: b.visible('#f-category') and b.js("return document.getElementById('f-category').value")
                == '区民課' and shown_ids(b) == want, 10)), shown_ids(b))
            Select(b.find('#f-category')).select_by_value('')
            b.find('#queue-filters button[type="submit"]').click()
            t.check('すべて: every ticket again', bool(b.wait(lambda: sorted(shown_ids(b)) == every, 10)),
                    shown_ids(b))
            errors = [m for m in b.read_console() + b.console if 'Uncaught' in m]
            t.equal('no script errors', sorted(set(errors)), [])
        t.equal('SIGTERM: clean exit', d.stop(), 0)
    t.done()


if __name__ == '__main__':
    main()
