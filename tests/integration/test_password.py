#!/usr/bin/python3
"""Password change from the web (POST /api/me/password), against a real
ticketd and PostgreSQL: the current password is checked and a wrong one
counts toward the lock like a failed log-in; weak new passwords are refused
with the reason; on success the old password stops working, the new one
works, the user's other sessions end and the one that changed it goes on;
every step is in auth_event.

Run: /usr/bin/python3 tests/integration/test_password.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client, start  # noqa: E402

t = mdg.Checks('password')
OLD = 'operator-pass-1'
NEW = '窓口の新しい合言葉2026'


def change(c, cur, new, csrf=True):
    return c.request('POST', '/api/me/password', json_body={'current': cur, 'new': new}, csrf=csrf)


def main():
    with mdg.Env('password') as env:
        _, port = start(env, 'password', **{'ticketd.login_max_failures': '3'})
        a, b = Client(port), Client(port)
        t.equal('session A logs in', a.login('op1', OLD).status, 200)
        t.equal('session B logs in', b.login('op1', OLD).status, 200)

        t.equal('without the CSRF token: 403', change(a, OLD, NEW, csrf=False).status, 403)
        r = change(a, 'not-the-password', NEW)
        t.equal('wrong current password: 403 with the reason', (r.status, r.json()),
                (403, {'error': 'the current password is wrong'}))
        t.equal('it counts like a failed log-in',
                env.sql("SELECT failed_logins FROM app_user WHERE login = 'op1'"), [['1']])
        for new, why in [('short-1', 'the new password is too short'),
                         ('短い合言葉です', 'the new password is too short'),
                         (OLD, 'the new password is the same as the current one')]:
            r = change(a, OLD, new)
            t.equal(f'refused: {why} ({new})', (r.status, r.json()), (422, {'error': why}))
        r = a.request('POST', '/api/me/password', json_body={'current': OLD})
        t.equal('new missing: 400', r.status, 400)
        t.equal('nothing changed yet: the old password still logs in', Client(port).login('op1', OLD).status,
                200)

        c = Client(port)
        c.login('op1', OLD)  # a third session, also to be ended
        r = change(a, OLD, NEW)
        t.equal('the change: 204', r.status, 204)
        t.equal('session A goes on', a.get('/api/me').status, 200)
        t.equal('session B is ended', b.get('/api/me').status, 401)
        t.equal('session C is ended', c.get('/api/me').status, 401)
        t.equal('the old password no longer logs in', Client(port).login('op1', OLD).status, 401)
        t.equal('the new one does', Client(port).login('op1', NEW).status, 200)
        ev = env.sql("SELECT event, coalesce(detail, '') FROM auth_event WHERE login = 'op1'"
                     " AND event IN ('login_failed', 'password_changed') ORDER BY id")
        t.equal('auth_event: the wrong current password, the change with the sessions it ended, the old '
                'password refused', ev, [['login_failed', 'wrong password'],
                                         ['password_changed', '3 other sessions ended'],
                                         ['login_failed', 'wrong password']])
        t.equal('pw_changed_at is set', env.sql("SELECT pw_changed_at IS NOT NULL FROM app_user"
                                                " WHERE login = 'op1'"), [['t']])

        v = Client(port)
        v.login('vw1', 'viewer-pass-1')
        t.equal('a viewer changes their own password too', change(v, 'viewer-pass-1', 'ward-viewer-pass-2').status,
                204)
    t.done()


if __name__ == '__main__':
    main()
