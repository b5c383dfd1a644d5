#!/usr/bin/python3
"""Search in the browser: two mails through the Maildir, an operator types
a two-character word in the header's search box and presses Enter; the
results list exactly the ticket that holds it (subject, number, the words
around the match), in Japanese, with no WCAG 2.1 AA violation (axe-core);
a half-width query finds the full-width text; the result opens its
ticket; Back returns to the results; a word found nowhere says so; a ward
viewer has no search box.

Run: /usr/bin/python3 tests/browser/test_search_view.py
"""
import os
import sys
from email.header import Header
from email.mime.text import MIMEText

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from chromium import Browser, Keys  # noqa: E402
from test_a11y import AXE, axe, login  # noqa: E402

SUBJ_A = '国民健康保険証の再発行'
SUBJ_B = 'ｶﾀｶﾅの公園について'


def the_mail(subj, body, n):
    m = MIMEText(body, 'plain', 'utf-8')
    m['Subject'] = Header(subj, 'utf-8')
    m['From'] = f'citizen{n}@example.jp'
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Date'] = 'Fri, 20 Nov 2026 10:00:00 +0900'
    m['Message-ID'] = f'<search-view-{n}@example.jp>'
    return m.as_bytes().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')


def results(b):
    return [(a.text, a.get_attribute('href').rsplit('#', 1)[1]) for a in b.finds('#search-results a')]


def do_search(b, q):
    box = b.find('#search-q')
    box.clear()
    box.send_keys(q + Keys.ENTER)
    b.wait(lambda: b.find('#search-status').text not in ('', '読み込み中…'), 10)


def main():
    t = mdg.Checks('browser-search')
    with open(AXE, encoding='utf-8') as f:
        axe_src = f.read()
    with mdg.Env('browser-search') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user('op-search', 'operator', 'search-pass-1', '検索 太郎')
        env.add_user('vw-search', 'viewer', 'search-pass-2', '区 職員')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        env.maildir_drop(the_mail(SUBJ_A, '保険証をなくしました。住民票の住所に送ってください。\n', 1))
        env.maildir_drop(the_mail(SUBJ_B, 'ＡＢＣ公園の遊具が壊れています。\n', 2))
        ids = {}
        for s in (SUBJ_A, SUBJ_B):
            r = mdg.wait_for(lambda: env.sql(
                f"SELECT t.id FROM ticket t JOIN search_doc d ON d.ticket_id = t.id WHERE t.subject = '{s}'"), 20)
            ids[s] = r[0][0] if r else None
        t.check('both mails are tickets and indexed', all(ids.values()), ids)
        base = f'http://127.0.0.1:{port}'
        try:
            with Browser(mdg.ARTEFACTS, 'browser-search') as b:
                b.driver.set_script_timeout(30)
                login(t, b, base, 'op-search', 'search-pass-1')
                t.check('the search box is in the header', bool(b.visible('#search-q')))
                do_search(b, '保険')
                t.equal('保険: exactly the one ticket, by subject and link', results(b),
                        [(SUBJ_A, f'/tickets/{ids[SUBJ_A]}')])
                t.equal('the heading says what was searched', b.find('#search-title').text, '「保険」の検索結果')
                t.equal('the status counts it', b.find('#search-status').text, '1 件見つかりました。')
                snip = b.finds('#search-results .search-snippet')
                t.check('the words around the match are shown', snip and '保険証をなくしました' in snip[0].text,
                        snip[0].text if snip else None)
                t.check('the URL keeps the query', '#/search?q=' in b.driver.current_url, b.driver.current_url)
                b.screenshot('results')
                t.equal('results page: no WCAG 2.1 AA violation', axe(b, axe_src), [])
                do_search(b, 'ｺｳｴﾝ')
                t.equal('half-width ｺｳｴﾝ finds nothing written 公園 (no reading match), says so',
                        (results(b), b.find('#search-status').text), ([], '見つかりませんでした。'))
                do_search(b, 'abc')
                t.equal('abc finds ＡＢＣ', results(b), [(SUBJ_B, f'/tickets/{ids[SUBJ_B]}')])
                do_search(b, 'カタカナ')
                t.equal('カタカナ finds the half-width subject', results(b), [(SUBJ_B, f'/tickets/{ids[SUBJ_B]}')])
                b.find('#search-results a').click()
                t.check('the result opens its ticket', bool(b.wait(
                    lambda: b.visible('#ticket-title') and b.find('#ticket-title').text == SUBJ_B, 10)))
                b.driver.back()
                t.check('Back returns to the results', bool(b.wait(
                    lambda: b.visible('#search-results a') and results(b) == [(SUBJ_B, f'/tickets/{ids[SUBJ_B]}')],
                    10)))
                errors = [m for m in b.read_console() + b.console if 'Uncaught' in m]
                t.equal('no script errors', sorted(set(errors)), [])
                b.find('#logout').click()
                b.wait(lambda: b.visible('#login-id'), 10)
                b.find('#login-id').send_keys('vw-search')
                b.find('#login-password').send_keys('search-pass-2' + Keys.ENTER)
                b.wait(lambda: b.visible('#view-cases'), 10)
                t.check('a ward viewer has no search box', not b.visible('#search-q'))
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print('# --- ticketd log tail ---\n' + tick.log_text()[-1500:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
