#!/usr/bin/python3
"""Intake's leases (sql/008_intake_perf.sql) count the tries of a ticketd
that died mid-batch, and only those.

A lease whose advisory lock a live session holds is left alone; once that
session is gone, the next claim counts one attempt for each of its items
still waiting and deletes it; an item past ticketd.intake_max_attempts that
way is taken unparsed.  Items done normally have attempts = 1 and no lease
is left behind.  Runs ingest-mail (Maildir) and ticketd for real; the dead
ticketd is played by a psql session holding the lock.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mailgen  # noqa: E402
import mdg  # noqa: E402

t = mdg.Checks('intake_lease')
KEY = 4710  # the lock class of intake leases (ticketd/intake.c)


def count(env, q):
    return int(env.sql(q)[0][0])


def add_item(env, key, i, attempts, not_before, lease=False):
    """An item, and with lease a lease nobody holds over it, in one transaction
    (so ticketd cannot take a due item before its lease is there)."""
    raw = mailgen.mail(i)[0]
    return int(env.sql(
        "WITH i AS (INSERT INTO inbound_item (channel, source, source_key, raw, raw_size, raw_sha256,"
        f" arrived_at, stored_at, attempts, not_before) VALUES ('mail', 'test', '{key}',"
        f" decode('{raw.hex()}', 'hex'), {len(raw)}, sha256(decode('{raw.hex()}', 'hex')),"
        f" now(), now(), {attempts}, {not_before}) RETURNING id),"
        " l AS (INSERT INTO intake_lease (items, taken_at) SELECT ARRAY[id], now() FROM i"
        f" WHERE {'true' if lease else 'false'}) SELECT id FROM i")[0][0])


def claim_once(env, i):
    """One ordinary mail through the Maildir: ticketd claims at least once."""
    env.maildir_drop(mailgen.mail(i)[0])
    subject = mailgen.subject_of(i)
    return bool(mdg.wait_for(lambda: env.sql(f"SELECT 1 FROM ticket WHERE subject = '{subject}'"), 15))


def holder(env, item):
    """A session with a lease over item whose lock it holds, as a live
    ticketd would: the lock is taken before the lease is committed."""
    p = subprocess.Popen(['psql', '-X', '-q', '-At', '-h', env.pg.sockdir, '-p', str(env.pg.port),
                          '-U', 'postgres', '-d', 'madoguchi'], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    p.stdin.write("BEGIN;\n"
                  f"INSERT INTO intake_lease (items, taken_at) VALUES ('{{{item}}}', now()) RETURNING id \\gset\n"
                  f"SELECT pg_advisory_lock({KEY}, :id);\nCOMMIT;\nSELECT 'locked', :id;\n")
    p.stdin.flush()
    while True:
        line = p.stdout.readline().strip()
        if line.startswith('locked|'):
            return p, int(line.split('|')[1])


def main():
    with mdg.Env('intake-lease') as env:
        env.start_db()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{mdg.free_port()}'})
        env.start('ingest-mail')
        env.start('ticketd')

        # an item that waits (not_before in an hour) in a lease held by a live session
        waiting = add_item(env, 'waiting-1', 500, 2, "now() + interval '1 hour'")
        h, live = holder(env, waiting)
        t.check('a mail while the lease is held became a ticket', claim_once(env, 0))
        t.equal('held lease: attempts untouched', count(env, f'SELECT attempts FROM inbound_item WHERE id = {waiting}'), 2)
        t.equal('held lease: kept', count(env, f'SELECT count(*) FROM intake_lease WHERE id = {live}'), 1)

        # its holder dies: the next claim counts the try once and drops the lease
        h.stdin.close()
        h.wait()
        t.check('the dead holder\'s lock is gone', mdg.wait_for(lambda: count(
            env, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            f" AND classid = {KEY} AND objid = {live} AND objsubid = 2") == 0, 10))
        t.check('a mail after the holder died became a ticket', claim_once(env, 1))
        t.equal('stale lease: one attempt counted', count(env, f'SELECT attempts FROM inbound_item WHERE id = {waiting}'), 3)
        t.equal('stale lease: deleted', count(env, 'SELECT count(*) FROM intake_lease'), 0)
        t.check('a third mail became a ticket', claim_once(env, 2))
        t.equal('counted once only', count(env, f'SELECT attempts FROM inbound_item WHERE id = {waiting}'), 3)

        # a due item at 4 attempts in a stale lease: 5 counted, and this try (6) is past the limit
        poison = add_item(env, 'poison-2', 501, 4, "'-infinity'", lease=True)
        env.sql('NOTIFY inbound')
        r = mdg.wait_for(lambda: env.sql(
            "SELECT m.parse_state, m.parse_notes, i.attempts, i.state FROM inbound_item i JOIN message m"
            f" ON m.inbound_item_id = i.id WHERE i.id = {poison}"), 15)
        t.equal('item whose tries ran out in a dead ticketd taken unparsed', r and r[0],
                ['unparsed', 'not parsed: 6 attempts failed', '6', 'done'])

        t.equal('items done normally: attempts = 1', env.sql(
            "SELECT min(attempts), max(attempts), count(*) FROM inbound_item WHERE source <> 'test'")[0],
            ['1', '1', '3'])
        t.equal('no lease left', count(env, 'SELECT count(*) FROM intake_lease'), 0)
    t.done()


if __name__ == '__main__':
    main()
