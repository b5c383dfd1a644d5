#!/usr/bin/python3
"""Mail dropped into the embedded Maildir becomes tickets with the exact
decoded subject, sender, body and attachments; bad input still becomes a
ticket and loses nothing.  Runs ingest-mail (Maildir) and ticketd for real."""
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mailgen  # noqa: E402
import mdg  # noqa: E402

t = mdg.Checks('intake')


def one(env, sql):
    rows = env.sql(sql)
    return rows[0] if rows else None


def ticket_for(env, subject_like, timeout=10):
    q = f"SELECT id FROM ticket WHERE subject LIKE '{subject_like}' ORDER BY id"
    r = mdg.wait_for(lambda: env.sql(q), timeout)
    return [int(x[0]) for x in r] if r else []


def main():
    with mdg.Env('intake') as env:
        env.start_db()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{mdg.free_port()}',
                            'ingest_mail.max_message_bytes': '200000'})
        env.start('ingest-mail')
        tick = env.start('ticketd')

        # 1. thirty mails in three charsets, a third with a TIFF
        n = 30
        for i in range(n):
            env.maildir_drop(mailgen.mail(i)[0])
        got = mdg.wait_for(lambda: int(env.sql('SELECT count(*) FROM ticket')[0][0]) >= n, 20)
        t.check('30 mails became tickets', got)
        rows = env.sql("SELECT t.subject, m.from_name, m.from_addr, length(m.body_text), t.status, t.channel"
                       " FROM ticket t JOIN message m ON m.ticket_id = t.id ORDER BY t.id")
        by_subject = {r[0]: r for r in rows}
        bad = []
        for i in range(n):
            raw, subject, body = mailgen.mail(i)
            r = by_subject.get(subject)
            if r is None or r[1] != '区民 太郎' or r[2] != f'citizen{i}@example.jp' \
                    or r[4] != 'new' or r[5] != 'mail':
                bad.append((i, r and r[:3]))
        t.check('each subject and sender decoded exactly (ISO-2022-JP, UTF-8, Shift_JIS)', not bad, str(bad[:3]))
        # psql's -A output keeps newlines inside fields; compare one body via a query instead
        body0 = mailgen.mail(4)[2]
        cnt = env.sql("SELECT count(*) FROM message WHERE body_text = "
                      "convert_from(decode('%s', 'hex'), 'UTF8')" % body0.encode().hex())
        t.equal('body text decoded exactly (Shift_JIS mail)', cnt[0][0], '1')
        att = env.sql("SELECT a.filename, a.content_type, a.size, encode(b.data, 'hex')"
                      " FROM attachment a JOIN blob b ON b.sha256 = a.sha256"
                      " JOIN message m ON m.id = a.message_id JOIN ticket t ON t.id = m.ticket_id"
                      f" WHERE t.subject = '{mailgen.subject_of(5)}'")
        tif = mailgen.tiff()
        t.equal('attachment name, type and size', [tuple(a[:3]) for a in att],
                [('申請書00005.tif', 'application/tiff', str(len(tif)))])
        t.check('attachment bytes exact', att and bytes.fromhex(att[0][3]) == tif)
        t.equal('identical attachments stored once', env.sql('SELECT count(*) FROM blob')[0][0], '1')
        t.equal('Maildir files moved to cur/ after commit',
                (len(os.listdir(os.path.join(env.root, 'var/mail/inbox/new'))),
                 len(os.listdir(os.path.join(env.root, 'var/mail/inbox/cur')))), (0, n))

        # 2. same Message-ID, different mails: two tickets
        a = mailgen.mail(100, message_id='<same@example.jp>')[0]
        b = mailgen.mail(101, message_id='<same@example.jp>')[0]
        env.maildir_drop(a)
        env.maildir_drop(b)
        ids = ticket_for(env, '【問合せ0010_】%')
        mdg.wait_for(lambda: len(ticket_for(env, '【問合せ0010_】%', 0)) == 2, 10)
        t.equal('two mails with one Message-ID are two tickets',
                len(ticket_for(env, '【問合せ0010_】%', 0)), 2)

        # 3. garbage: still a ticket, flagged, raw kept byte for byte
        junk = bytes(range(256)) * 4 + b'\x00\xff no header at all'
        env.maildir_drop(junk)
        r = mdg.wait_for(lambda: env.sql(
            "SELECT t.flags, m.parse_state, i.raw = decode('%s', 'hex'), i.id FROM inbound_item i"
            " JOIN ticket t ON t.id = i.ticket_id JOIN message m ON m.inbound_item_id = i.id"
            " WHERE i.raw_size = %d" % (junk.hex(), len(junk))), 10)
        t.check('unparsable mail became a ticket', bool(r))
        if r:
            flags, state, same, item = r[0]
            t.check('unparsable mail flagged', 'unparsed' in flags or state in ('unparsed', 'partial'),
                    f'flags={flags} state={state}')
            t.equal('unparsable mail raw kept byte for byte', same, 't')
            t.check('intake logged the item id', f'item={item}: ticket=' in tick.log_text())

        # 4. oversized: stored whole, flagged, subject still read
        big, subject, _ = mailgen.mail(200)
        big = big.replace(b'\r\n\r\n', b'\r\nX-Padding: ' + b'x' * 300000 + b'\r\n\r\n', 1)
        env.maildir_drop(big)
        r = mdg.wait_for(lambda: env.sql(
            "SELECT t.subject, t.flags, i.raw_size, i.flags, m.parse_state FROM inbound_item i"
            " JOIN ticket t ON t.id = i.ticket_id JOIN message m ON m.inbound_item_id = i.id"
            f" WHERE i.raw_size = {len(big)}"), 10)
        t.check('oversized mail became a ticket', bool(r))
        if r:
            t.equal('oversized mail: subject, flags, size, state', r[0],
                    [subject, '{oversize}', str(len(big)), '{oversize}', 'oversize'])

        # 5. a mail that failed too often is taken unparsed, never retried forever
        raw = mailgen.mail(300)[0]
        env.sql("INSERT INTO inbound_item (channel, source, source_key, raw, raw_size, raw_sha256,"
                " arrived_at, stored_at, attempts) VALUES ('mail', 'test', 'poison-1',"
                f" decode('{raw.hex()}', 'hex'), {len(raw)}, sha256(decode('{raw.hex()}', 'hex')),"
                " now(), now(), 5); NOTIFY inbound")
        r = mdg.wait_for(lambda: env.sql(
            "SELECT m.parse_state, m.parse_notes FROM inbound_item i JOIN message m"
            " ON m.inbound_item_id = i.id WHERE i.source_key = 'poison-1'"), 10)
        t.equal('item past the attempt limit taken unparsed', r and r[0],
                ['unparsed', 'not parsed: 6 attempts failed'])

        # 6. dead items can be requeued by an administrator
        raw = mailgen.mail(301)[0]
        env.sql("INSERT INTO inbound_item (channel, source, source_key, raw, raw_size, raw_sha256,"
                " arrived_at, stored_at, state, last_error) VALUES ('mail', 'test', 'dead-1',"
                f" decode('{raw.hex()}', 'hex'), {len(raw)}, sha256(decode('{raw.hex()}', 'hex')),"
                " now(), now(), 'dead', 'test')")
        out = env.admin('dead').stdout
        t.check('admin lists the dead item', 'dead-1' in out and '1 dead item' in out, out)
        r = env.admin('requeue', '--all')
        t.check('admin requeues it', r.returncode == 0 and 'requeued 1 item' in r.stdout, r.stdout + r.stderr)
        got = mdg.wait_for(lambda: env.sql(f"SELECT t.subject FROM ticket t WHERE t.subject = '{mailgen.subject_of(301)}'"), 10)
        t.check('requeued item became a ticket', bool(got))
    t.done()


if __name__ == '__main__':
    main()
