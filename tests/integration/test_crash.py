#!/usr/bin/python3
"""Nothing lost, nothing doubled, whatever crashes.

Phase 1: 2 000 Japanese mails are appended to a private dovecot over IMAPS
while ingest-mail (pinned certificate) and ticketd run; both are killed with
SIGKILL at random moments, at least five times each while work remains, and
restarted.  Afterwards: exactly 2 000 inbound items and 2 000 tickets, one per
mail, each with its exact subject.

Phase 2: 500 more mails while PostgreSQL is restarted under the daemons: they
stay up, reconnect, and all 2 500 are tickets.
"""
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mailgen  # noqa: E402
import mdg  # noqa: E402

N1, N2 = 2000, 500
t = mdg.Checks('crash')
rng = random.Random(int(os.environ.get('MDG_SEED', time.time())))


def count(env, sql):
    return int(env.sql(sql)[0][0])


def appender(dv, start, n, done):
    c = dv.client()
    for i in range(start, start + n):
        dv.append(mailgen.mail(i)[0], client=c)
    c.logout()
    done.set()


def wait_tickets(env, n, timeout):
    return mdg.wait_for(lambda: count(env, 'SELECT count(*) FROM ticket') >= n, timeout, 0.2)


def check_exact(env, n, label):
    items = count(env, 'SELECT count(*) FROM inbound_item')
    tickets = count(env, 'SELECT count(*) FROM ticket')
    t.equal(f'{label}: inbound items', items, n)
    t.equal(f'{label}: tickets', tickets, n)
    t.equal(f'{label}: distinct raw mails', count(env, 'SELECT count(DISTINCT raw_sha256) FROM inbound_item'), n)
    t.equal(f'{label}: items not done', count(env, "SELECT count(*) FROM inbound_item WHERE state <> 'done'"), 0)
    t.equal(f'{label}: tickets per item', count(env, 'SELECT count(*) FROM (SELECT ticket_id FROM inbound_item'
                                                  ' GROUP BY ticket_id HAVING count(*) > 1) d'), 0)
    got = sorted(r[0] for r in env.sql('SELECT subject FROM ticket'))
    want = sorted(mailgen.subject_of(i) for i in range(n))
    missing = sorted(set(want) - set(got))[:3]
    t.check(f'{label}: every subject exactly once', got == want,
            f'{len(got)} subjects; missing e.g. {missing}')


def main():
    with mdg.Env('crash') as env:
        env.start_db()
        dv = mdg.Dovecot(env).start()
        port = mdg.free_port()
        env.write_config(**dv.ingest_settings(), **{'ticketd.listen': f'127.0.0.1:{port}'})
        ingest = env.start('ingest-mail')
        tick = env.start('ticketd')
        done = threading.Event()
        threading.Thread(target=appender, args=(dv, 0, N1, done), daemon=True).start()

        kills = {'ingest-mail': 0, 'ticketd': 0}
        busy = {'ingest-mail': 0, 'ticketd': 0}
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.05, 0.4))
            items = count(env, 'SELECT count(*) FROM inbound_item')
            tickets = count(env, 'SELECT count(*) FROM ticket')
            name = 'ingest-mail' if kills['ingest-mail'] <= kills['ticketd'] else 'ticketd'
            d = ingest if name == 'ingest-mail' else tick
            d.kill9()
            kills[name] += 1
            if (name == 'ingest-mail' and items < N1) or (name == 'ticketd' and tickets < N1):
                busy[name] += 1
            print(f'# SIGKILL {name} at items={items} tickets={tickets}', flush=True)
            if name == 'ingest-mail':
                ingest = env.start('ingest-mail')
            else:
                tick = env.start('ticketd')
            if min(busy.values()) >= 5 and done.is_set():
                break
            if tickets >= N1:
                break
        print(f'# kills {kills}, while work remained {busy}', flush=True)
        t.check('ingest-mail killed at least 5 times mid-ingest', busy['ingest-mail'] >= 5, str(busy))
        t.check('ticketd killed at least 5 times mid-ingest', busy['ticketd'] >= 5, str(busy))
        done.wait(120)
        wait_tickets(env, N1, 120)
        time.sleep(1.0)  # anything doubled would show up now
        check_exact(env, N1, 'after kills')

        # Phase 2: PostgreSQL restarted in the middle of an ingest
        done2 = threading.Event()
        threading.Thread(target=appender, args=(dv, N1, N2, done2), daemon=True).start()
        mdg.wait_for(lambda: count(env, 'SELECT count(*) FROM inbound_item') > N1 + 50, 60, 0.05)
        env.pg.stop('fast')
        time.sleep(1.5)
        env.pg.start()
        done2.wait(120)
        wait_tickets(env, N1 + N2, 120)
        time.sleep(1.0)
        t.check('ingest-mail survived the PostgreSQL restart', ingest.alive())
        t.check('ticketd survived the PostgreSQL restart', tick.alive())
        check_exact(env, N1 + N2, 'after PostgreSQL restart')
        t.check('ticketd logged the lost connection', 'connection' in tick.log_text())
    t.done()


if __name__ == '__main__':
    main()
