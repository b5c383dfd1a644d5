#!/usr/bin/python3
"""FAXで返信 in the browser (js/faxreply.js; ticketd/faxreply.h, sql/023).

Private PostgreSQL and ticketd with the fixture tickets; headless Chromium.

- the operator opens FAXで返信 on ticket 1, types two different numbers and a
  text: 送信 is refused in words (the numbers differ) and nothing is stored;
- プレビュー shows the pages as images (the letterhead and the text on A4);
- with the numbers typed alike (once in full-width digits) 送信 queues the fax:
  the list says 送信待ち and the row is stored, queued;
- ingest-fax's state changes (sql/023's claim and finish, called as the
  madoguchi_fax role) show live without a reload: 送信中, then 送信済み 2枚;
- a second fax fails for good (the number unreachable): 失敗 and the reason;
- in a queue that requires approval the fax shows 承認待ち, with no approve
  button for its author; a supervisor approves it: 送信待ち;
- a viewer gets no section.

Run: /usr/bin/python3 tests/browser/test_faxreply_view.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
import ticketd_http as th  # noqa: E402
from chromium import Browser, Keys  # noqa: E402

TEXT = '山田 太郎 様\n\nお問い合わせの件、次のとおり回答します。\n' + '住民票の写しは郵送でも請求できます。' * 150


def login(t, b, base, who, pw):
    b.get(base + '/')
    b.wait(lambda: b.visible('#login-id'), 10)
    b.find('#login-id').send_keys(who)
    b.find('#login-password').send_keys(pw + Keys.ENTER)
    t.check(f'{who} logged in', bool(b.wait(lambda: b.js('return document.body.dataset.role || ""'), 10)))


def text_of(b, css):
    # read in the page: the list is redrawn live, so an element found a
    # moment ago may be gone (StaleElementReference)
    return b.js("const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : null", css)


def fill(b, css, value):
    """set a field as typing would; retried, as a live update may redraw the section"""
    def once():
        e = b.find(css)
        b.js('arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event("input"));', e, value)
        return b.js('return document.querySelector(arguments[0]).value === arguments[1]', css, value)
    return b.wait(once, 10)


def click(b, css):
    """click once the element is there and takes the click (a redraw may replace it)"""
    def once():
        b.find(css).click()
        return True
    return b.wait(once, 10)


def fax_sql(env, q):
    return env.pg.psql(q, user='madoguchi_fax')


def main():
    t = mdg.Checks('browser-faxreply')
    with mdg.Env('browser-faxreply') as env:
        d, port = th.start(env, 'browser-faxreply', **{'ticketd.send_delay_seconds': '0'})
        base = f'http://127.0.0.1:{port}'
        with Browser(mdg.ARTEFACTS, 'browser-faxreply') as b:
            login(t, b, base, 'op1', 'operator-pass-1')
            b.get(f'{base}/#/tickets/1')
            t.check('the fax section', bool(b.wait(lambda: b.visible('#faxr-open'), 10)))
            click(b, '#faxr-open')
            b.wait(lambda: b.visible('#faxr-number'), 5)
            fill(b, '#faxr-recipient', '山田 太郎')
            fill(b, '#faxr-number', '03-1234-5678')
            fill(b, '#faxr-number-confirm', '03-1234-5670')
            fill(b, '#faxr-body', TEXT)
            click(b, '#faxr-send')
            t.check('different numbers: refused in words', bool(b.wait(
                lambda: text_of(b, '#faxr-error') == '2回入力したFAX番号が一致しません。番号を確かめてください。', 5)),
                repr(text_of(b, '#faxr-error')))
            t.equal('nothing stored', env.sql('SELECT count(*) FROM outbound_fax'), [['0']])

            click(b, '#faxr-preview')
            n = b.wait(lambda: len(b.finds('#faxr-previews img.faxr-page')), 20)
            t.equal('preview: two page images', n, 2)
            t.check('the images are drawn', bool(b.wait(lambda: b.js(
                "return [...document.querySelectorAll('#faxr-previews img')].every(i => i.naturalWidth === 1728)"), 10)))
            b.screenshot('preview')

            fill(b, '#faxr-number-confirm', '０３－１２３４－５６７８')
            click(b, '#faxr-send')
            row = b.wait(lambda: env.sql("SELECT id, state, number, pages FROM outbound_fax"), 10)
            t.equal('queued: the row', row and row[0][1:], ['queued', '0312345678', '2'])
            fid = row[0][0] if row else '0'
            t.check('the list says 送信待ち', bool(b.wait(
                lambda: text_of(b, f'#faxr-{fid}-state') == '送信待ち', 10)), repr(text_of(b, f'#faxr-{fid}-state')))
            t.check('and offers to cancel', bool(b.visible(f'#faxr-{fid}-cancel')))

            fax_sql(env, "SELECT * FROM outbound_fax_claim('test', now(), 600, 4, 10)")
            t.check('claimed: 送信中, live', bool(b.wait(
                lambda: text_of(b, f'#faxr-{fid}-state') == '送信中', 10)), repr(text_of(b, f'#faxr-{fid}-state')))
            fax_sql(env, f"SELECT outbound_fax_finish({fid}, 1, now(), 'ok', 0, 'OK', 200, '', 2, NULL, NULL)")
            t.check('finished: 送信済み 2枚, live', bool(b.wait(
                lambda: text_of(b, f'#faxr-{fid}-state') == '送信済み 2枚', 10)), repr(text_of(b, f'#faxr-{fid}-state')))
            b.screenshot('sent')
            t.check('the timeline says so', bool(b.wait(lambda: b.js(
                "return [...document.querySelectorAll('.event-fax_sent')].some("
                "e => e.textContent.includes('FAX送信完了'))"), 10)))

            click(b, '#faxr-open')
            b.wait(lambda: b.visible('#faxr-number'), 5)
            fill(b, '#faxr-number', '0312340000')
            fill(b, '#faxr-number-confirm', '0312340000')
            fill(b, '#faxr-body', '短い回答です。')
            click(b, '#faxr-send')
            row = b.wait(lambda: env.sql("SELECT id FROM outbound_fax WHERE number = '0312340000'"), 10)
            f2 = row[0][0] if row else '0'
            fax_sql(env, "SELECT * FROM outbound_fax_claim('test', now(), 600, 4, 10)")
            fax_sql(env, f"SELECT outbound_fax_finish({f2}, 1, now(), 'unreachable', NULL, '', 404,"
                         " 'この番号は使われていません', 0, NULL, NULL)")
            t.check('failed: the reason, live', bool(b.wait(
                lambda: text_of(b, f'#faxr-{f2}-state') == '失敗: この番号は使われていません', 10)),
                repr(text_of(b, f'#faxr-{f2}-state')))
            b.screenshot('failed')

            # a queue that requires approval holds the fax: 承認待ち, no approve button for its author
            env.pg.psql("INSERT INTO queue_setting (queue, approval_required, updated_by, updated_at)"
                        " VALUES ('gomi', true, 'ad1', now())", user='madoguchi_owner')
            b.get(f'{base}/#/tickets/3')
            click(b, '#faxr-open')
            fill(b, '#faxr-number', '0312349999')
            fill(b, '#faxr-number-confirm', '0312349999')
            fill(b, '#faxr-body', '承認が必要な窓口からの回答です。')
            click(b, '#faxr-send')
            row = b.wait(lambda: env.sql("SELECT id FROM outbound_fax WHERE number = '0312349999'"), 10)
            f3 = row[0][0] if row else '0'
            t.check('held: 承認待ち', bool(b.wait(lambda: text_of(b, f'#faxr-{f3}-state') == '承認待ち', 10)),
                    repr(text_of(b, f'#faxr-{f3}-state')))
            t.equal('its author gets no approve button', b.finds(f'#faxr-{f3}-approve'), [])
        with Browser(mdg.ARTEFACTS, 'browser-faxreply-sv') as b:
            login(t, b, base, 'sv1', 'supervisor-pass-1')
            b.get(f'{base}/#/tickets/3')
            t.check('a supervisor approves it', bool(click(b, f'#faxr-{f3}-approve')))
            t.check('then 送信待ち, live', bool(b.wait(lambda: text_of(b, f'#faxr-{f3}-state') == '送信待ち', 10)),
                    repr(text_of(b, f'#faxr-{f3}-state')))
            t.equal('stored: queued, approved by sv1',
                    env.sql(f"SELECT state, reviewed_by FROM outbound_fax WHERE id = {f3}"), [['queued', 'sv1']])
        with Browser(mdg.ARTEFACTS, 'browser-faxreply-viewer') as b:
            login(t, b, base, 'vw1', 'viewer-pass-1')
            b.get(f'{base}/#/tickets/1')
            b.wait(lambda: b.finds('#faxr-panel'), 3)
            t.equal('a viewer: no fax section', b.finds('#faxr-panel'), [])
        t.check('ticketd is alive', d.alive())
    return t.done()


if __name__ == '__main__':
    sys.exit(main())
