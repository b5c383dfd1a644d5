#!/usr/bin/python3
"""Least privilege in PostgreSQL: each daemon's role reaches its own tables
only (sql/001_core.sql), and migrations apply once."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mdg  # noqa: E402

t = mdg.Checks('db-roles')

# (role, statement, allowed)
CASES = [
    ('madoguchi_ingest', "SELECT id, source, source_key, raw_sha256 FROM inbound_item", True),
    ('madoguchi_ingest', "INSERT INTO inbound_item (channel, source, source_key, raw, raw_size, raw_sha256,"
                         " arrived_at, stored_at) VALUES ('mail', 'r', 'k1', 'x', 1, 'x', now(), now())", True),
    ('madoguchi_ingest', "SELECT raw FROM inbound_item", False),
    ('madoguchi_ingest', "UPDATE inbound_item SET state = 'done'", False),
    ('madoguchi_ingest', "SELECT * FROM ticket", False),
    ('madoguchi_ingest', "SELECT * FROM message", False),
    ('madoguchi_ingest', "SELECT * FROM app_user", False),
    ('madoguchi_ingest', "SELECT * FROM web_session", False),
    ('madoguchi_ingest', "INSERT INTO mailbox_state VALUES ('r', 'INBOX', 1, 0, now())", True),
    ('madoguchi_ticketd', "SELECT raw FROM inbound_item", True),
    ('madoguchi_ticketd', "UPDATE inbound_item SET state = 'done' WHERE false", True),
    ('madoguchi_ticketd', "INSERT INTO inbound_item (channel, source, source_key, raw, raw_size, raw_sha256,"
                          " arrived_at, stored_at) VALUES ('mail', 'r', 'k2', 'x', 1, 'x', now(), now())", False),
    ('madoguchi_ticketd', "DELETE FROM inbound_item", False),
    ('madoguchi_ticketd', "UPDATE mailbox_state SET last_uid = 0", False),
    ('madoguchi_ticketd', "SELECT login, role FROM app_user", True),
    ('madoguchi_ticketd', "INSERT INTO app_user (login, role, pw_hash, created_at) VALUES ('x', 'admin', 'x', now())", False),
    ('madoguchi_ticketd', "UPDATE app_user SET role = 'admin'", False),
    ('madoguchi_ticketd', "DELETE FROM ticket", False),
    ('madoguchi_ticketd', "DELETE FROM auth_event", False),
    ('madoguchi_ticketd', "CREATE TABLE evil (x int)", False),
]


def run_as(env, role, sql):
    return subprocess.run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', env.pg.sockdir,
                           '-p', str(env.pg.port), '-U', role, '-d', 'madoguchi', '-c', sql],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main():
    with mdg.Env('dbroles') as env:
        env.start_db()
        for role, sql, allowed in CASES:
            r = run_as(env, role, sql)
            ok = (r.returncode == 0) == allowed
            denied = 'permission denied' in r.stderr
            t.check(f'{role}: {"may" if allowed else "may not"}: {sql[:60]}',
                    ok and (allowed or denied), r.stderr.strip()[:200])
        r = env.admin('migrate')
        t.check('migrate twice applies nothing again', r.returncode == 0 and 'applied' not in r.stderr,
                r.stderr)
        t.equal('migrations recorded', env.sql('SELECT version FROM schema_migration ORDER BY 1'),
                [[f[:3]] for f in sorted(os.listdir(os.path.join(mdg.REPO, 'sql')))
                 if f[:3].isdigit() and f.endswith('.sql')])
    t.done()


if __name__ == '__main__':
    main()
