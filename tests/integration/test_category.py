#!/usr/bin/python3
"""Categories as a tree down to 係 and free tags (issue 5, ticketd/category.h)
against a real ticketd and PostgreSQL: the seeded tree in order, an admin
adding a 係 and disabling a 課 (its 係 no longer usable), an operator
classifying a ticket (the exact row, tags trimmed and deduplicated, the
"classified" event with its actor, the answer), clearing it; refusals
(unknown or disabled path 422, bad tags 400, viewer 403, no CSRF token 403)
leaving the row as it was; the queue filter by an ancestor path giving the
child's tickets exactly, with LIKE's own characters taken literally.

Run: /usr/bin/python3 tests/integration/test_category.py
"""
import os
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client, start  # noqa: E402

t = mdg.Checks('category')
SEEDED = ['区民課', '区民課 > 住民記録係', '区民課 > 戸籍係', '保険年金課', '保険年金課 > 国保係',
          '保険年金課 > 年金係', '環境課', '環境課 > 清掃係']
JUMIN = '区民課 > 住民記録係'


def login(port, user, pw):
    c = Client(port)
    r = c.login(user, pw)
    if r.status != 200:
        raise RuntimeError(f'log-in {user}: {r.status}')
    return c


def row(env, tid):
    return env.pg.psql(f"SELECT coalesce(category, '-'), tags FROM ticket WHERE id = {tid}",
                       user='madoguchi_owner')


def events(env, tid):
    return env.pg.psql(f"SELECT actor, kind, detail FROM ticket_event WHERE ticket_id = {tid}"
                       " AND kind = 'classified' ORDER BY id", user='madoguchi_owner')


def listed(c, category):
    r = c.get('/api/tickets?status=all&category=' + urllib.parse.quote(category))
    return r.status, sorted(x['id'] for x in r.json().get('tickets', []))


def tree(env, c, ad):
    r = c.get('/api/categories')
    t.equal('GET /api/categories: 200', r.status, 200)
    cats = r.json()['categories']
    t.equal('the seeded tree, in order', [x['path'] for x in cats], SEEDED)
    ids = {x['path']: x['id'] for x in cats}
    t.equal('a 係 names its 課', cats[1]['parent_id'], ids['区民課'])
    r = ad.request('POST', '/api/admin/categories', json_body={'name': '市民相談係',
                                                              'parent_id': ids['区民課'],
                                                              'position': 3})
    t.equal('admin adds 区民課 > 市民相談係: 201', r.status, 201)
    r = ad.request('POST', '/api/admin/categories', json_body={'name': '市民相談係',
                                                              'parent_id': ids['区民課']})
    t.equal('the same name twice under one 課: 409', r.status, 409)
    r = ad.request('POST', '/api/admin/categories', json_body={'name': '区民課'})
    t.equal('the same 課 twice at the top: 409', r.status, 409)
    r = ad.request('POST', '/api/admin/categories', json_body={'name': 'a > b'})
    t.equal('a name holding " > ": 400', r.status, 400)
    r = ad.request('PUT', f"/api/admin/categories/{ids['環境課']}", json_body={'enabled': False})
    t.equal('admin disables 環境課: 200', r.status, 200)
    r = ad.request('PUT', '/api/admin/categories/999', json_body={'enabled': False})
    t.equal('PUT an unknown category: 404', r.status, 404)
    cats = c.get('/api/categories').json()['categories']
    t.equal('usable after the changes',
            [(x['path'], x['usable']) for x in cats],
            [('区民課', True), (JUMIN, True), ('区民課 > 戸籍係', True),
             ('区民課 > 市民相談係', True), ('保険年金課', True), ('保険年金課 > 国保係', True),
             ('保険年金課 > 年金係', True), ('環境課', False), ('環境課 > 清掃係', False)])


def classify(env, op, vw):
    path = '/api/tickets/3/classify'
    r = op.request('POST', path, json_body={'category': JUMIN,
                                            'tags': [' 選挙 ', '大量通知送付', '\u3000選挙']})
    t.equal('classify: 200', r.status, 200)
    t.equal('classify: the answer', r.json(), {'id': 3, 'category': JUMIN,
                                               'tags': ['選挙', '大量通知送付']})
    t.equal('classify: the row', row(env, 3), [[JUMIN, '{選挙,大量通知送付}']])
    t.equal('classify: one event with its actor', events(env, 3),
            [['op1', 'classified', f'{JUMIN} ["選挙","大量通知送付"]']])
    r = op.request('POST', path, json_body={'category': JUMIN, 'tags': ['選挙', '大量通知送付']})
    t.equal('classify again the same: 200, no new event', (r.status, len(events(env, 3))),
            (200, 1))
    refusals = [
        ('unknown path', {'category': '区民課 > 存在しない係', 'tags': []}, 422),
        ('a prefix of a name', {'category': '区民', 'tags': []}, 422),
        ('a disabled 課 above', {'category': '環境課 > 清掃係', 'tags': []}, 422),
        ('11 tags', {'category': JUMIN, 'tags': [f't{i}' for i in range(11)]}, 400),
        ('a tag of 31 characters', {'category': JUMIN, 'tags': ['あ' * 31]}, 400),
        ('a tag with a comma', {'category': JUMIN, 'tags': ['選挙,開票']}, 400),
        ('a blank tag', {'category': JUMIN, 'tags': ['  ']}, 400),
        ('a tag not a string', {'category': JUMIN, 'tags': [5]}, 400),
        ('tags not an array', {'category': JUMIN, 'tags': '選挙'}, 400),
        ('category not a string', {'category': 5, 'tags': []}, 400),
    ]
    for what, body, want in refusals:
        t.equal(f'refused, {what}: {want}', op.request('POST', path, json_body=body).status, want)
    t.equal('refused: viewer 403', vw.request('POST', path, json_body={'category': ''}).status, 403)
    t.equal('refused: no CSRF token 403',
            op.request('POST', path, csrf=False, json_body={'category': ''}).status, 403)
    t.equal('refused: unknown ticket 404',
            op.request('POST', '/api/tickets/99/classify', json_body={'category': ''}).status, 404)
    t.equal('after the refusals the row is as it was', row(env, 3), [[JUMIN, '{選挙,大量通知送付}']])
    t.equal('after the refusals still one event', len(events(env, 3)), 1)
    r = op.request('POST', '/api/tickets/2/classify', json_body={'category': '区民課', 'tags': ['a_b']})
    t.equal('classify ticket 2 as the 課 itself: 200', r.status, 200)


def filters(env, op):
    # a lookalike that is no child, and a category holding LIKE's own characters
    env.pg.psql("UPDATE ticket SET category = '区民課課 > 住民記録係' WHERE id = 1;"
                "INSERT INTO ticket (id, channel, status, queue, subject, category, created_at,"
                " updated_at) VALUES (4, 'call', 'open', 'general', 'like', '区_課 > %係',"
                " '2026-04-03 00:00:00+00', '2026-04-03 00:00:00+00')", user='madoguchi_owner')
    t.equal('filter by the 課: the 課 and its 係 exactly', listed(op, '区民課'), (200, [2, 3]))
    t.equal('filter by the 係: its tickets exactly', listed(op, JUMIN), (200, [3]))
    t.equal('filter by a prefix of a name: none', listed(op, '区民'), (200, []))
    t.equal('filter with "_": taken literally', listed(op, '区_課'), (200, [4]))
    t.equal('filter with "%": taken literally', listed(op, '区_課 > %係'), (200, [4]))
    t.equal('filter "%": nothing', listed(op, '%'), (200, []))


def clear(env, op):
    r = op.request('POST', '/api/tickets/3/classify', json_body={'category': '', 'tags': []})
    t.equal('clearing: 200 and the answer', (r.status, r.json()),
            (200, {'id': 3, 'category': None, 'tags': []}))
    t.equal('clearing: the row', row(env, 3), [['-', '{}']])
    t.equal('clearing: a second event', events(env, 3)[1:], [['op1', 'classified', '- []']])


def main():
    with mdg.Env('category') as env:
        d, port = start(env, 'category')
        op = login(port, 'op1', 'operator-pass-1')
        vw = login(port, 'vw1', 'viewer-pass-1')
        ad = login(port, 'ad1', 'admin-pass-1')
        tree(env, vw, ad)
        classify(env, op, vw)
        filters(env, op)
        clear(env, op)
        t.check('ticketd still running', d.alive())
        t.equal('SIGTERM: clean exit', d.stop(), 0)
    t.done()


if __name__ == '__main__':
    main()
