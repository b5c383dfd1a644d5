#!/usr/bin/python3
"""Replies by fax, the queue side (ingest/fax/outfax.c, sql/023_fax_out.sql),
against a private PostgreSQL: runs ingest/fax/test_outfax, whose cases
claim, record results (busy, no answer, a daemon that died mid-call, failed
training, unreachable, sent), spool the stored pages and check every row,
as the madoguchi_fax role.  Then the grants: ticketd may not claim, the fax
role may not cancel, and a purge empties the number and the pages.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
import mdg  # noqa: E402

t = mdg.Checks('outfax')


def conninfo(env, user):
    return f'host={env.pg.sockdir} port={env.pg.port} dbname=madoguchi user={user}'


def psql_fails(env, sql, user):
    try:
        env.pg.psql(sql, user=user)
        return False
    except subprocess.CalledProcessError as e:
        return 'permission denied' in e.stderr


with mdg.Env('outfax') as env:
    env.start_db()
    r = subprocess.run([os.path.join(mdg.BUILD, 'ingest', 'fax', 'test_outfax')],
                       env=dict(os.environ, MDG_TEST_PG_ADMIN=conninfo(env, 'postgres'),
                                MDG_TEST_PG_FAX=conninfo(env, 'madoguchi_fax')),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    for line in r.stdout.splitlines():
        if line.startswith('ok '):
            t.ok('test_outfax ' + line[3:].strip())
        elif line.startswith('FAIL '):
            t.fail('test_outfax ' + line[5:].strip(), r.stdout[-3000:])
    t.equal('test_outfax exit status', r.returncode, 0)

    t.check('ticketd may not claim',
            psql_fails(env, "SELECT * FROM outbound_fax_claim('x', now(), 60, 4, 10)",
                       'madoguchi_ticketd'))
    t.check('ingest-fax may not cancel',
            psql_fails(env, "SELECT outbound_fax_cancel(1, 1, 'x', now())", 'madoguchi_fax'))
    t.check('ingest-fax may not insert faxes',
            psql_fails(env, "INSERT INTO outbound_fax_page VALUES (1, 9, '')", 'madoguchi_fax'))

    # cancel: only while queued (the fixtures above left sent/failed rows)
    env.sql("""WITH t AS (INSERT INTO ticket (channel, created_at, updated_at, received_at)
                          VALUES ('fax', now(), now(), now()) RETURNING id),
                    m AS (INSERT INTO message (ticket_id, direction, parse_state, created_at,
                                               delivery_state)
                          SELECT id, 'out', 'ok', now(), 'queued' FROM t RETURNING id, ticket_id)
               INSERT INTO outbound_fax (ticket_id, message_id, number, confirmed_by, pages,
                                         not_before, created_by, created_at)
               SELECT ticket_id, id, '0612345678', 'typed_twice', 1, now() + interval '1 h',
                      'op1', now() FROM m""")
    fid, tid = env.sql("SELECT id, ticket_id FROM outbound_fax WHERE number = '0612345678'")[0]
    done = env.sql("SELECT id, ticket_id FROM outbound_fax WHERE state = 'sent'")[0]
    t.equal('cancel a sent fax: nothing',
            env.pg.psql(f"SELECT outbound_fax_cancel({done[0]}, {done[1]}, 'op1', now())",
                        user='madoguchi_ticketd'), [['0']])
    t.equal('cancel another ticket\'s fax: nothing',
            env.pg.psql(f"SELECT outbound_fax_cancel({fid}, {done[1]}, 'op1', now())",
                        user='madoguchi_ticketd'), [['0']])
    t.equal('cancel a queued fax',
            env.pg.psql(f"SELECT outbound_fax_cancel({fid}, {tid}, 'op1', now())",
                        user='madoguchi_ticketd'), [['1']])
    t.equal('cancelled: fax and message',
            env.sql(f"SELECT o.state, o.cancelled_by, m.delivery_state FROM outbound_fax o "
                    f"JOIN message m ON m.id = o.message_id WHERE o.id = {fid}"),
            [['cancelled', 'op1', 'cancelled']])

    # purge: the number and the pages go, the row stays
    env.sql(f"UPDATE ticket SET purged_at = now() WHERE id = {done[1]}")
    t.equal('purged: number and pages emptied',
            env.sql(f"SELECT o.number, o.state, (SELECT count(*) FROM outbound_fax_page p "
                    f"WHERE p.fax_id = o.id) FROM outbound_fax o WHERE o.id = {done[0]}"),
            [['', 'sent', '0']])

sys.exit(t.done())
