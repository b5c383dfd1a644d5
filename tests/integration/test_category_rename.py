#!/usr/bin/python3
"""Renaming a category (PUT /api/admin/categories/ID {"name"}, ticketd/category.h,
sql/013) against a real ticketd and PostgreSQL.

Tickets, case records and routing rules filed under 区民課, under its 係 and
under lookalikes (区民課課, 区民課x) are set up; renaming 区民課 to 区民生活課
rewrites exactly the rows at the old path or below it (compared row by row,
updated_at untouched), writes one category_rename row naming the admin,
tells the event streams (category_renamed) and shows in GET /api/categories.
A 係 renamed alone moves only its own rows.  A name taken under the same
parent is 409 and changes nothing; the same name under another parent is
fine; the same name again changes nothing and leaves no audit row; a bad
name 400, an unknown id 404, operators 403, no CSRF token 403.

Run: /usr/bin/python3 tests/integration/test_category_rename.py
"""
import os
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client, EventStream, start  # noqa: E402

t = mdg.Checks('category-rename')

# id -> category before the renames
TICKETS = {
    10: '区民課',
    11: '区民課 > 住民記録係',
    12: '区民課 > 戸籍係',
    13: '区民課課 > 住民記録係',
    14: '区民課x',
    15: '保険年金課 > 国保係',
    16: None,
}
CASES = {10: '区民課', 11: '区民課 > 住民記録係', 13: '区民課課 > 住民記録係', 15: '保険年金課'}
RULES = [('戸籍', '区民課 > 戸籍係'), ('似た名前', '区民課課'), ('分類なし', None)]


def fixture(env):
    q = []
    for tid, cat in TICKETS.items():
        c = 'NULL' if cat is None else f"'{cat}'"
        q.append("INSERT INTO ticket (id, channel, status, queue, subject, category, created_at,"
                 f" updated_at) VALUES ({tid}, 'mail', 'open', 'general', 's{tid}', {c},"
                 " '2026-04-01 00:00:00+00', '2026-04-02 00:00:00+00');")
    for tid, cat in CASES.items():
        q.append("INSERT INTO case_record (ticket_id, channel, received_at, category, recorded_by,"
                 f" recorded_at, updated_by, updated_at) VALUES ({tid}, 'mail',"
                 f" '2026-04-01 00:00:00+00', '{cat}', 'op1', '2026-04-03 00:00:00+00', 'op1',"
                 " '2026-04-03 00:00:00+00');")
    for i, (name, cat) in enumerate(RULES):
        c = 'NULL' if cat is None else f"'{cat}'"
        q.append("INSERT INTO route_rule (position, name, match_subject, set_category, updated_at,"
                 f" updated_by) VALUES ({i + 1}, '{name}', 'x', {c}, '2026-04-01 00:00:00+00',"
                 " 'setup');")
    env.pg.psql('\n'.join(q), user='madoguchi_owner')


def tickets(env):
    return env.pg.psql("SELECT id, coalesce(category, '-'), updated_at FROM ticket WHERE id >= 10"
                       " ORDER BY id", user='madoguchi_owner')


def cases(env):
    return env.pg.psql("SELECT ticket_id, category, updated_by FROM case_record ORDER BY ticket_id",
                       user='madoguchi_owner')


def rules(env):
    return env.pg.psql("SELECT name, coalesce(set_category, '-'), updated_by FROM route_rule"
                       " ORDER BY position", user='madoguchi_owner')


def audit(env):
    return env.pg.psql("SELECT category_id, old_path, new_path, renamed_by,"
                       " renamed_at > now() - interval '5 minutes' FROM category_rename"
                       " ORDER BY id", user='madoguchi_owner')


def ids(c):
    return {x['path']: x['id'] for x in c.get('/api/categories').json()['categories']}


def put(c, cid, body, **kw):
    return c.request('PUT', f'/api/admin/categories/{cid}', json_body=body, **kw)


def rename_ka(env, ad, op, port):
    cid = ids(ad)['区民課']
    es = EventStream(port, op.token)
    r = put(ad, cid, {'name': '区民生活課'})
    t.equal('rename 区民課: 200', r.status, 200)
    t.equal('rename 区民課: the answer', r.json(),
            {'id': cid, 'old_path': '区民課', 'path': '区民生活課', 'tickets': 3, 'cases': 2,
             'rules': 1})
    upd = '2026-04-02 00:00:00+00'
    t.equal('tickets: the old path and below rewritten, lookalikes kept, updated_at untouched',
            tickets(env),
            [['10', '区民生活課', upd], ['11', '区民生活課 > 住民記録係', upd],
             ['12', '区民生活課 > 戸籍係', upd], ['13', '区民課課 > 住民記録係', upd],
             ['14', '区民課x', upd], ['15', '保険年金課 > 国保係', upd], ['16', '-', upd]])
    t.equal('case records: rewritten the same way, nobody named as their editor', cases(env),
            [['10', '区民生活課', 'op1'], ['11', '区民生活課 > 住民記録係', 'op1'],
             ['13', '区民課課 > 住民記録係', 'op1'], ['15', '保険年金課', 'op1']])
    t.equal('routing rules: the one below rewritten (by the admin), the lookalike kept',
            rules(env), [['戸籍', '区民生活課 > 戸籍係', 'ad1'], ['似た名前', '区民課課', 'setup'],
                         ['分類なし', '-', 'setup']])
    t.equal('one audit row', audit(env), [[str(cid), '区民課', '区民生活課', 'ad1', 't']])
    t.equal('no ticket_event written', env.pg.psql(
        "SELECT count(*) FROM ticket_event WHERE ticket_id >= 10", user='madoguchi_owner'), [['0']])
    want = f'{{"id" : 0, "op" : "category_renamed", "category_id" : {cid}}}'
    got = None
    for _ in range(10):
        _, ev = es.next(5)
        if ev is None or 'category_renamed' in ev:
            got = ev
            break
    es.close()
    t.equal('the event streams are told', got, f'event: ticket\ndata: {want}')
    paths = [p for p in ids(ad)]
    t.equal('GET /api/categories: the new paths', paths[:4],
            ['区民生活課', '区民生活課 > 住民記録係', '区民生活課 > 戸籍係', '保険年金課'])
    r = op.get('/api/tickets?view=all&category=' + urllib.parse.quote('区民生活課'))
    t.equal('the queue filter finds them under the new name',
            sorted(x['id'] for x in r.json()['tickets']), [10, 11, 12])
    return cid


def rename_kakari(env, ad):
    cid = ids(ad)['区民生活課 > 住民記録係']
    r = put(ad, cid, {'name': '住民票係', 'position': 7})
    t.equal('rename a 係 with a position: 200 and the counts',
            (r.status, r.json()), (200, {'id': cid, 'old_path': '区民生活課 > 住民記録係',
                                        'path': '区民生活課 > 住民票係', 'tickets': 1, 'cases': 1,
                                        'rules': 0}))
    t.equal('only its own rows move',
            [x[:2] for x in tickets(env)][:4],
            [['10', '区民生活課'], ['11', '区民生活課 > 住民票係'], ['12', '区民生活課 > 戸籍係'],
             ['13', '区民課課 > 住民記録係']])
    t.equal('the position is set in the same request', env.pg.psql(
        f'SELECT name, position FROM category WHERE id = {cid}', user='madoguchi_owner'),
        [['住民票係', '7']])
    return cid


def refusals(env, ad, op):
    cats = ids(ad)
    before = (tickets(env), cases(env), rules(env), audit(env))
    koseki = cats['区民生活課 > 戸籍係']
    r = put(ad, koseki, {'name': '住民票係'})
    t.equal('a name taken under the same 課: 409', (r.status, r.json()),
            (409, {'error': 'a category of that name is there already'}))
    r = put(ad, cats['環境課'], {'name': '保険年金課'})
    t.equal('a 課 name taken at the top: 409', r.status, 409)
    for what, body in [('empty', {'name': ''}), ('holding " > "', {'name': 'a > b'}),
                       ('61 characters', {'name': 'あ' * 61}), ('not a string', {'name': 5}),
                       ('a space at the end', {'name': '戸籍 '})]:
        t.equal(f'a bad name ({what}): 400', put(ad, koseki, body).status, 400)
    t.equal('an unknown category: 404', put(ad, 9999, {'name': '新'}).status, 404)
    t.equal('an operator: 403', put(op, koseki, {'name': '新'}).status, 403)
    t.equal('no CSRF token: 403', put(ad, koseki, {'name': '新'}, csrf=False).status, 403)
    r = put(ad, koseki, {'name': '戸籍係'})
    t.equal('the same name again: 200, nothing to rewrite', (r.status, r.json()),
            (200, {'id': koseki, 'old_path': '区民生活課 > 戸籍係', 'path': '区民生活課 > 戸籍係',
                   'tickets': 0, 'cases': 0, 'rules': 0}))
    t.equal('after the refusals and the no-op every row is as it was',
            (tickets(env), cases(env), rules(env), audit(env)), before)
    r = put(ad, cats['保険年金課 > 国保係'], {'name': '戸籍係'})
    t.equal('a name used under another 課: 200, its ticket follows', (r.status, r.json()['tickets'],
                                                                     tickets(env)[5][1]),
            (200, 1, '保険年金課 > 戸籍係'))


def main():
    with mdg.Env('category-rename') as env:
        d, port = start(env, 'category-rename')
        fixture(env)
        ad, op = Client(port), Client(port)
        ad.login('ad1', 'admin-pass-1')
        op.login('op1', 'operator-pass-1')
        ka = rename_ka(env, ad, op, port)
        kakari = rename_kakari(env, ad)
        refusals(env, ad, op)
        t.equal('the audit trail, in order', [x[:3] for x in audit(env)],
                [[str(ka), '区民課', '区民生活課'],
                 [str(kakari), '区民生活課 > 住民記録係', '区民生活課 > 住民票係'],
                 [str(ids(ad)['保険年金課 > 戸籍係']), '保険年金課 > 国保係', '保険年金課 > 戸籍係']])
        t.check('ticketd still running', d.alive())
        t.equal('SIGTERM: clean exit', d.stop(), 0)
    t.done()


if __name__ == '__main__':
    main()
