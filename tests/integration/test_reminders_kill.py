#!/usr/bin/python3
"""Reminders exactly once under kill -9 (issue 6, "Exactly once").

500 open escalations to one department, made in SQL: 250 planned with a reminder due
Tuesday 2026-11-24 10:00 JST, 250 not yet planned (their first reminder is Tuesday too).
escalationd comes back on Thursday 11/26 10:00 (pinned clock): every escalation is
due, once, not once per missed day.  It is killed with SIGKILL at random moments
while it plans, stores and sends, and restarted each time with the clock 11 s later
(past the 10 s send lease, so mail claimed by a killed instance is claimed again).

The first escalation's own mail is dead: it gets no reminder (a warning, and it waits for
the next reminder time).  Asserted at the end: every other escalation has exactly one reminder row (outbound_mail kind
'reminder', one ticket_event, reminders = 1, the next on Friday 10:00), all sent, and
every token reached smtp-sink.  SMTP is at least once: a kill between the relay's reply
to the final dot and the commit of 'sent' sends that mail again; the duplicates at the
sink are counted and printed (they can be at most one per kill).

Run: /usr/bin/python3 tests/integration/test_reminders_kill.py [escalations] [seed]
"""
import calendar
import email
import email.policy
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mdg  # noqa: E402

t = mdg.Checks('reminders-kill')
LIAISON = 'renraku@city.example.lg.jp'
DEPT = ['jumin@ward.example.lg.jp']


def jst(y, mo, d, h, mi, s=0):
    return calendar.timegm((y, mo, d, h, mi, s)) - 9 * 3600


def iso_utc(secs):
    return time.strftime('%Y-%m-%d %H:%M:%S+00', time.gmtime(secs))


def fill(env, n):
    """n escalations of n tickets, the escalation mail of each already sent"""
    sent = iso_utc(jst(2026, 11, 20, 15, 0))
    env.sql(f"""
INSERT INTO department (name, mail, updated_by, updated_at)
  VALUES ('区民課', ARRAY['{DEPT[0]}'], 'test', '{sent}');
INSERT INTO ticket (channel, status, subject, created_at, updated_at)
  SELECT 'mail', 'escalated', '住民票の郵送請求', '{sent}', '{sent}' FROM generate_series(1, {n});
INSERT INTO message (ticket_id, direction, subject, from_name, from_addr, to_list, message_id_hdr,
                     body_text, parse_state, created_at, delivery_state)
  SELECT id, 'out', '[#E-2026-' || lpad(id::text, 5, '0') || '#] 【確認依頼】住民票の郵送請求',
         '区民相談窓口', '{LIAISON}', '{DEPT[0]}', 'esc-' || id || '@city.example.lg.jp', '確認依頼',
         'ok', '{sent}', 'sent' FROM ticket;
INSERT INTO escalation (token, ticket_id, department_id, message_id, created_by, created_at,
                        reminder_planned, next_reminder_at)
  SELECT 'E-2026-' || lpad(m.ticket_id::text, 5, '0'), m.ticket_id, d.id, m.id, 'op1', '{sent}',
         m.ticket_id % 2 = 0, CASE WHEN m.ticket_id % 2 = 0 THEN timestamptz '{iso_utc(jst(2026, 11, 24, 10, 0))}' END
    FROM message m, department d;
-- the first escalation's mail could not be delivered: it gets no reminder
INSERT INTO outbound_mail (message_id, ticket_id, kind, env_from, rcpt, raw, state, not_before, created_at)
  SELECT id, ticket_id, 'escalation', '{LIAISON}', ARRAY['{DEPT[0]}'], 'x', 'dead', '{sent}', '{sent}'
    FROM message WHERE ticket_id = 1;
""")


def sink_tokens(sink):
    counts = {}
    for raw in sink.messages():
        m = email.message_from_bytes(raw, policy=email.policy.default)
        s = str(m['Subject'])
        if '【催促】' in s and s.startswith('[#E-'):
            tok = s[2:s.index('#]')]
            counts[tok] = counts.get(tok, 0) + 1
    return counts


def run(env, n, rnd):
    now = jst(2026, 11, 26, 10, 0)
    kills = 0
    start = time.monotonic()
    done = lambda: env.sql("SELECT count(*) FROM outbound_mail WHERE kind = 'reminder' AND state = 'sent'")[0][0] == str(n - 1)
    while time.monotonic() - start < 100:
        d = env.start('escalationd', extra_env={'MADOGUCHI_PINNED_NOW': str(now)})
        if kills >= 150 or done():
            break
        time.sleep(rnd.uniform(0.01, 0.08))
        if not d.alive():
            break
        d.kill9()
        kills += 1
        now += 11
    ok = mdg.wait_for(done, 60, 0.2)
    secs = time.monotonic() - start
    d.stop()
    return ok, kills, secs


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else int(time.time())
    rnd = random.Random(seed)
    print(f'# {n} escalations, seed {seed}')
    with mdg.Env('reminders-kill', fsync=False) as env:
        env.start_db()
        sink = mdg.SmtpSink(env).start()
        env.write_config(**{'escalation.smtp_host': '127.0.0.1', 'escalation.smtp_port': str(sink.port),
                            'escalation.smtp_timeout_seconds': '2', 'escalation.smtp_lease_seconds': '10',
                            'escalation.smtp_retry_min_seconds': '1', 'escalation.reminder_batch': '5',
                            'escalation.smtp_batch': '5', 'log.level': 'warning'})
        fill(env, n)
        ok, kills, secs = run(env, n, rnd)
        t.check(f'all {n - 1} reminders sent after {kills} kills ({secs:.1f} s)', ok,
                env.sql("SELECT state, count(*) FROM outbound_mail GROUP BY 1"))
        t.equal('exactly one reminder row per escalation',
                env.sql("SELECT count(*), count(DISTINCT ticket_id) FROM outbound_mail WHERE kind = 'reminder'"),
                [[str(n - 1), str(n - 1)]])
        t.equal('one reminder each, the next on Friday 10:00 (not one per missed day); none for the dead mail\'s',
                env.sql(f"SELECT reminders, next_reminder_at = '{iso_utc(jst(2026, 11, 27, 10, 0))}', count(*)"
                        " FROM escalation GROUP BY 1, 2 ORDER BY 1"), [['0', 't', '1'], ['1', 't', str(n - 1)]])
        t.equal('one reminder_queued event each',
                env.sql("SELECT count(*), count(DISTINCT ticket_id) FROM ticket_event WHERE kind = 'reminder_queued'"),
                [[str(n - 1), str(n - 1)]])
        counts = sink_tokens(sink)
        missing = n - 1 - len(counts)
        dups = sum(c - 1 for c in counts.values())
        print(f'# sink: {sum(counts.values())} reminder mails for {len(counts)} tokens; '
              f'{dups} duplicates after {kills} kills (SMTP is at least once)')
        t.equal('every token reached the sink, not the dead mail\'s', (missing, 'E-2026-00001' in counts), (0, False))
        t.check('duplicates at the sink at most one per kill', dups <= kills, (dups, kills))
    t.done()


if __name__ == '__main__':
    main()
