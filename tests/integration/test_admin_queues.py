#!/usr/bin/python3
"""GET /api/admin/queues (ticketd/admin_queues.h) against a real ticketd and
PostgreSQL: the queue names of tickets, routing rules and queue settings,
each once, by name, with the approval setting and where the name is used;
a switch made through PUT /api/admin/queues/NAME/settings shows in the list
with who made it; a queue known only from its setting stays listed.

Run: /usr/bin/python3 tests/integration/test_admin_queues.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client, start  # noqa: E402

t = mdg.Checks('admin-queues')


def listed(ad):
    r = ad.get('/api/admin/queues')
    return r.status, [(q['queue'], q['approval_required'], q['updated_by'], q['in_tickets'], q['in_rules'])
                      for q in r.json().get('queues', [])]


def main():
    with mdg.Env('admin-queues') as env:
        d, port = start(env, 'admin-queues')
        ad = Client(port)
        ad.login('ad1', 'admin-pass-1')
        # the fixture's tickets are in general and gomi; add a rule's queue and more tickets
        env.pg.psql("INSERT INTO ticket (id, channel, status, queue, subject, created_at, updated_at)"
                    " SELECT 100 + g, 'mail', 'open', CASE WHEN g % 2 = 0 THEN 'kucho' ELSE 'general' END,"
                    " 's', now(), now() FROM generate_series(1, 40) g;"
                    "INSERT INTO route_rule (position, name, match_subject, set_queue, updated_at)"
                    " VALUES (1, 'r1', 'x', 'gomi', now()), (2, 'r2', 'y', 'soudan', now()),"
                    " (3, 'r3', 'z', NULL, now()), (4, 'r4', 'w', '', now())",
                    user='madoguchi_owner')
        t.equal('the queues of tickets and rules, each once, by name', listed(ad),
                (200, [('general', False, None, True, False), ('gomi', False, None, True, True),
                       ('kucho', False, None, True, False), ('soudan', False, None, False, True)]))
        r = ad.request('PUT', '/api/admin/queues/soudan/settings', json_body={'approval_required': True})
        t.equal('switch soudan on: 200', r.status, 200)
        r = ad.request('PUT', '/api/admin/queues/only-setting/settings', json_body={'approval_required': False})
        t.equal('a setting for a queue nobody uses yet: 200', r.status, 200)
        t.equal('the list shows the settings and who made them', listed(ad),
                (200, [('general', False, None, True, False), ('gomi', False, None, True, True),
                       ('kucho', False, None, True, False), ('only-setting', False, 'ad1', False, False),
                       ('soudan', True, 'ad1', False, True)]))
        r = ad.get('/api/admin/queues').json()
        t.equal('the answer says its limit and times are ISO', (r['limit'], r['queues'][4]['updated_at'][-1]),
                (500, 'Z'))
        t.equal('a queue without a setting has no time', r['queues'][0]['updated_at'], None)
        t.check('ticketd still running', d.alive())
        t.equal('SIGTERM: clean exit', d.stop(), 0)
    t.done()


if __name__ == '__main__':
    main()
