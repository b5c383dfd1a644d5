#!/usr/bin/python3
"""Japanese search over the correspondence (GET /api/search), through the
real intake: mails in the Maildir, ingest-mail, ticketd, PostgreSQL.

Two-character words (住民, 保険) find exactly the tickets that hold them;
full-width and half-width forms find each other (ＡＢＣ/abc, ｶﾀｶﾅ/カタカナ,
１２３/123); a longer word is found only where it is whole (住民票 is not
in a text that has 住民 and 民票 apart); several words must all be in one
text; a one-character word works; an ISO-2022-JP mail and a CP932 one are
found by what they say, not by their bytes.  A viewer gets 403, no session
401; an empty query 400.  A mail is searchable within a few seconds of
arriving, and indexing never holds intake up.  An operator's internal note
is found too.

Run: /usr/bin/python3 tests/integration/test_search.py
"""
import os
import sys
import time
from email.header import Header
from email.mime.text import MIMEText

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client, _listening  # noqa: E402

t = mdg.Checks('search')

# name: (subject, body, charset)
MAILS = {
    'jumin': ('住民票の写しについて', '住民票の写しを郵送で請求したいです。', 'iso-2022-jp'),
    'hoken': ('国民健康保険の手続き', '保険証を紛失しました。再発行の方法を教えてください。', 'utf-8'),
    'apart': ('区民からの意見', '住民の皆様へ。民票という言葉はありません。', 'utf-8'),
    'kana': ('ｶﾀｶﾅの件名', 'ＡＢＣ公園の遊具が壊れています。番号は１２３です。', 'shift_jis'),
    'latin': ('Question about the garbage calendar', 'When is abc collected? Call 0312345678.', 'utf-8'),
    'dog': ('犬の登録', '飼い犬の登録をしたい。', 'utf-8'),
}


def mail(name):
    subj, body, cs = MAILS[name]
    m = MIMEText(body + '\n', 'plain', 'cp932' if cs == 'shift_jis' else cs)
    if cs == 'shift_jis':
        m.set_param('charset', 'Shift_JIS')
    m['Subject'] = Header(subj, 'utf-8')
    m['From'] = f'{name}@example.jp'
    m['To'] = 'kucho-soudan@city.example.lg.jp'
    m['Date'] = 'Fri, 20 Nov 2026 10:00:00 +0900'
    m['Message-ID'] = f'<search-{name}-{time.time_ns()}@example.jp>'
    return m.as_bytes().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')


def search(c, q, **kw):
    from urllib.parse import urlencode
    r = c.get('/api/search?' + urlencode(dict(q=q, **kw)))
    return r.status, r.json()


def main():
    with mdg.Env('search') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user('op1', 'operator', 'operator-pass-1')
        env.add_user('vw1', 'viewer', 'viewer-pass-1')
        env.start('ingest-mail')
        tick = env.start('ticketd')
        if not mdg.wait_for(lambda: _listening(port), 10):
            raise RuntimeError('ticketd did not start:\n' + tick.log_text()[-3000:])
        for name in MAILS:
            env.maildir_drop(mail(name))
        ids = {}
        for name, (subj, _, _) in MAILS.items():
            r = mdg.wait_for(lambda: env.sql(
                f"SELECT id FROM ticket WHERE subject = convert_from(decode('{subj.encode().hex()}', 'hex'),"
                " 'UTF8')"), 20)
            ids[name] = int(r[0][0]) if r else None
        t.check('every mail became a ticket', all(ids.values()), ids)
        docs = mdg.wait_for(lambda: env.sql('SELECT count(*) FROM search_doc')[0][0] == str(len(MAILS)), 10)
        t.check('every message indexed within 10 s', docs, env.sql('SELECT count(*) FROM search_doc'))

        op = Client(port)
        op.login('op1', 'operator-pass-1')

        def found(q):
            st, doc = search(op, q)
            if st != 200:
                return ('status', st, doc)
            return sorted(x['ticket_id'] for x in doc['tickets'])

        def want(*names):
            return sorted(ids[n] for n in names)

        cases = [
            ('住民', want('jumin', 'apart'), 'a two-character word'),
            ('保険', want('hoken'), 'a two-character word in subject and body'),
            ('住民票', want('jumin'), 'a longer word only where it is whole'),
            ('民票', want('jumin', 'apart'), 'its tail where it stands'),
            ('カタカナ', want('kana'), 'full-width kana finds half-width'),
            ('ｶﾀｶﾅ', want('kana'), 'half-width kana finds it too'),
            ('abc', want('kana', 'latin'), 'ASCII finds full-width ＡＢＣ and abc'),
            ('ABC', want('kana', 'latin'), 'case does not matter'),
            ('１２３', want('kana', 'latin'), 'full-width digits find 123 and 0312345678'),
            ('公園 遊具', want('kana'), 'two words, both in one text'),
            ('公園 保険', [], 'two words in two tickets: none'),
            ('犬', want('dog'), 'a one-character word'),
            ('郵送', want('jumin'), 'an ISO-2022-JP mail by what it says'),
            ('壊れて', want('kana'), 'a Shift_JIS mail by what it says'),
            ('存在しない言葉', [], 'nothing found'),
        ]
        for q, expected, why in cases:
            t.equal(f'search {q!r}: {why}', found(q), expected)

        st, doc = search(op, '保険証')
        hit = doc['tickets'][0] if st == 200 and doc['tickets'] else {}
        t.equal('a hit says the ticket, where and shows the words around it',
                (hit.get('ticket_id'), hit.get('subject'), hit.get('found_in'), '保険証を紛失' in hit.get('snippet', '')),
                (ids['hoken'], '国民健康保険の手続き', 'message', True))
        t.equal('no more beyond it', doc.get('more'), False)
        st, doc = search(op, '住民', limit='1')
        t.equal('limit 1: one ticket, the newest, and more', (st, [x['ticket_id'] for x in doc['tickets']], doc['more']),
                (200, [max(ids['jumin'], ids['apart'])], True))
        st, doc = search(op, '住民', limit='2')
        t.equal('limit 2: both, no more', (st, len(doc['tickets']), doc['more']), (200, 2, False))

        t.equal('empty query: 400', search(op, '   ')[0], 400)
        t.equal('limit 0: 400', search(op, '住民', limit='0')[0], 400)
        t.equal('nine words: 400', search(op, 'a b c d e f g h i')[0], 400)
        vw = Client(port)
        vw.login('vw1', 'viewer-pass-1')
        t.equal('viewer: 403 (search reads correspondence)', search(vw, '住民')[0], 403)
        t.equal('no session: 401', search(Client(port), '住民')[0], 401)

        # an internal note is searchable too, and says so
        r = op.request('POST', f"/api/tickets/{ids['dog']}/notes", json_body={'text': '狂犬病の予防注射も案内済み'})
        t.equal('a note is added', r.status in (200, 201), True)
        got = mdg.wait_for(lambda: (lambda d: d if d[0] == 200 and d[1]['tickets'] else None)(search(op, '予防注射')), 10)
        t.equal('a word of the note finds its ticket, found in the note',
                [(x['ticket_id'], x['found_in']) for x in got[1]['tickets']] if got else None,
                [(ids['dog'], 'note')])

        # a mail that arrives now is found within seconds
        t0 = time.monotonic()
        MAILS['late'] = ('粗大ごみの申込み', '冷蔵庫を出したいです。', 'utf-8')
        env.maildir_drop(mail('late'))
        got = mdg.wait_for(lambda: found('冷蔵庫') if found('冷蔵庫') else None, 10)
        t.check('a new mail is searchable within 10 s', got, got)
        print(f'  searchable {time.monotonic() - t0:.2f} s after the drop', flush=True)
    t.done()


if __name__ == '__main__':
    main()
