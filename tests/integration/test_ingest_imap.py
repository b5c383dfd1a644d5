#!/usr/bin/python3
"""ingest-mail with an IMAP source, against a real dovecot and PostgreSQL.

- certificates: an unpinned self-signed certificate (and a wrong pin) is
  refused with the clear log line, the password is never sent, no rows;
  the same certificate given as imap_ca_file is accepted (chain + IP
  address check); STARTTLS works; a certificate issued through an
  intermediate verifies against the root alone when the server sends the
  intermediate (libetpan hands over the whole chain), not otherwise;
- 100 messages appended while ingest-mail idles become exactly 100 rows
  with the exact bytes, INTERNALDATE as arrived_at, all marked
  $MadoguchiStored, mailbox_state at the last UID;
- two different mails with the same Message-ID are two rows;
- an oversized mail is stored whole and flagged;
- committed but unmarked mail is marked after a restart, not stored again;
- dovecot and PostgreSQL restarts under the daemon lose nothing;
- a changed UIDVALIDITY (mailbox deleted and recreated with the same mail
  plus 2 new) neither loses nor doubles, and is logged as a warning;
- move and seen modes.
"""
import hashlib
import imaplib
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mdg  # noqa: E402

t = mdg.Checks('ingest-imap')


def mail(i, size=1500, msgid=None, tag='imap'):
    """A CRLF mail (dovecot returns CRLF, so the bytes round-trip exactly) with 8-bit UTF-8."""
    head = (f'From: =?UTF-8?B?5biC5rCR?= <citizen{i}@example.jp>\r\nTo: desk@city.example.jp\r\n'
            f'Subject: {tag} {i}\r\nMessage-ID: <{msgid or f"{tag}{i}@example.jp"}>\r\n'
            f'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n'
            f'Content-Transfer-Encoding: 8bit\r\n\r\n').encode()
    line = f'住民票の写しについて {tag} {i}。\r\n'.encode()
    # whole lines: dovecot turns a trailing lone CR into CRLF
    return head + line * max(1, (size - len(head)) // len(line))


def count(env, where='true'):
    return int(env.sql(f'SELECT count(*) FROM inbound_item WHERE {where}')[0][0])


def hashes(env, where='true'):
    return sorted(r[0] for r in env.sql(
        f"SELECT encode(sha256(raw), 'hex') FROM inbound_item WHERE {where}"))


def sha(raw):
    return hashlib.sha256(raw).hexdigest()


def flags(dv, mailbox):
    """uid -> flags text, for every message in mailbox (on a fresh connection: a session
    that deleted and created the mailbox again may not see it)"""
    c = dv.client()
    typ, data = c.select(mailbox)
    if typ != 'OK':
        raise RuntimeError(f'SELECT {mailbox}: {data}')
    typ, data = c.uid('FETCH', '1:*', '(FLAGS)')
    c.logout()
    out = {}
    for item in data:
        if not item:
            continue
        m = re.search(rb'UID (\d+) FLAGS \(([^)]*)\)', item)
        if m:
            out[int(m.group(1))] = m.group(2).decode()
    return out


def run_once(env, conf, timeout=60):
    return subprocess.run([mdg.program('ingest-mail'), '-c', conf, '--once'], cwd=env.root,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)


def write_conf(env, name, settings):
    """An extra config file beside the main one (same relative paths)."""
    path = os.path.join(env.root, 'etc', name)
    base = {'db.socket_dir': 'var/run', 'db.port': str(env.pg.port), 'ingest_mail.min_free_mb': '1'}
    base.update(settings)
    with open(path, 'w') as f:
        for k, v in sorted(base.items()):
            f.write(f'{k} = {v}\n')
    return path


def reload(d):
    text = d.log_text()
    n = text.count('configuration reloaded')
    d.signal(signal.SIGHUP)
    return mdg.wait_for(lambda: d.log_text().count('configuration reloaded') > n, 10)


def test_certificates(env, dv):
    dlog = os.path.join(dv.dir, 'dovecot.log')
    unpinned = dv.ingest_settings(pin=False)
    r = run_once(env, write_conf(env, 'unpinned.conf', unpinned))
    line = ('imap: certificate for 127.0.0.1 is not trusted: self-signed certificate (at depth 0); '
            f'refusing to log in (pin with ingest_mail.imap_pin_sha256 = {dv.cert_sha256})')
    t.check('unpinned self-signed: the clear refusal line', line in r.stdout, r.stdout[-600:])
    t.equal('unpinned self-signed: --once exits 1', r.returncode, 1)
    t.equal('unpinned self-signed: no rows', count(env), 0)
    wrong = dict(unpinned, **{'ingest_mail.imap_pin_sha256': ':'.join(['ab'] * 32)})
    r = run_once(env, write_conf(env, 'wrongpin.conf', wrong))
    t.check('wrong pin: refused', 'does not match ingest_mail.imap_pin_sha256' in r.stdout, r.stdout[-400:])
    time.sleep(0.3)
    with open(dlog, errors='replace') as f:
        dl = f.read()
    t.check('refused: the password was never sent (dovecot saw no login attempt)',
            'Login: user=' not in dl and 'auth failed' not in dl and dl.count('(no auth attempts') == 2,
            dl[-600:])
    # the same certificate as our own CA: chain and IP address check pass
    ca = dict(unpinned, **{'ingest_mail.imap_ca_file': os.path.join(dv.dir, 'cert.pem')})
    r = run_once(env, write_conf(env, 'cafile.conf', ca))
    t.equal('imap_ca_file: trusted, --once exits 0', r.returncode, 0)
    st = dv.ingest_settings(tls='starttls')
    r = run_once(env, write_conf(env, 'starttls.conf', st))
    t.equal('STARTTLS with pin: --once exits 0', r.returncode, 0)
    t.check('STARTTLS: logged in', 'imap: logged in to 127.0.0.1' in r.stdout, r.stdout[-400:])
    t.equal('no rows from an empty mailbox', count(env), 0)


def test_hundred(env, dv, d, c):
    t.check('idling before the mail comes', d.wait_log('waiting with IDLE', 10) is not None, d.log_text()[-400:])
    sent = {}
    stamp = time.mktime((2024, 1, 2, 3, 4, 5, 0, 0, -1))  # local time; imaplib writes the zone
    for i in range(100):
        raw = mail(i, 800 + 97 * i)
        c.append('INBOX', None, stamp if i == 0 else None, raw)
        sent[sha(raw)] = raw
    mdg.wait_for(lambda: count(env) >= 100 and len([f for f in flags(dv, 'INBOX').values()
                                                    if '$MadoguchiStored' in f]) >= 100, 30, 0.2)
    time.sleep(1.5)  # a late double would show now
    t.equal('100 appended -> exactly 100 rows', count(env), 100)
    t.equal('exact bytes (sha256 of every stored raw)', hashes(env), sorted(sent))
    t.equal('raw_sha256 column matches the bytes',
            count(env, "raw_sha256 <> sha256(raw) OR raw_size <> length(raw)"), 0)
    fl = flags(dv, 'INBOX')
    t.equal('all 100 carry $MadoguchiStored', sorted(u for u, f in fl.items() if '$MadoguchiStored' in f),
            list(range(1, 101)))
    t.check('not marked \\Seen in flag mode', not any('\\Seen' in f for f in fl.values()), str(fl)[:200])
    vr = c.status('INBOX', '(UIDVALIDITY)')[1][0].decode()
    v = re.search(r'UIDVALIDITY (\d+)', vr).group(1)
    t.equal('mailbox_state at the last UID', env.sql('SELECT mailbox, uidvalidity, last_uid FROM mailbox_state'),
            [['INBOX', v, '100']])
    t.equal('source_key is mailbox/uidvalidity/uid',
            env.sql("SELECT source_key FROM inbound_item ORDER BY id LIMIT 1"), [[f'INBOX/{v}/1']])
    want = time.strftime('%Y-%m-%d %H:%M:%S+00', time.gmtime(stamp))
    t.equal('arrived_at is INTERNALDATE',
            env.sql(f"SELECT arrived_at FROM inbound_item WHERE source_key = 'INBOX/{v}/1'"), [[want]])


def test_same_message_id(env, c):
    before = count(env)
    a = mail(1000, 900, msgid='same@example.jp', tag='first')
    b = mail(1001, 950, msgid='same@example.jp', tag='second')
    c.append('INBOX', None, None, a)
    c.append('INBOX', None, None, b)
    mdg.wait_for(lambda: count(env) >= before + 2, 15, 0.1)
    time.sleep(1)
    t.equal('same Message-ID, different mail: two rows', count(env), before + 2)
    t.equal('both by their bytes', count(env, f"encode(raw_sha256, 'hex') IN ('{sha(a)}', '{sha(b)}')"), 2)


def test_oversize(env, dv, d, c):
    env.write_config(**{'ingest_mail.max_message_bytes': '100000'})
    t.check('SIGHUP applied', reload(d), d.log_text()[-300:])
    big = mail(2000, 300000, tag='big')
    small = mail(2001, 5000, tag='small')
    c.append('INBOX', None, None, big)
    c.append('INBOX', None, None, small)
    mdg.wait_for(lambda: count(env, f"encode(raw_sha256, 'hex') IN ('{sha(big)}', '{sha(small)}')") == 2, 20)
    r = env.sql(f"SELECT flags::text, raw_size FROM inbound_item WHERE encode(sha256(raw), 'hex') = '{sha(big)}'")
    t.equal('oversize: stored whole, flagged', r, [['{oversize}', str(len(big))]])
    r = env.sql(f"SELECT flags::text FROM inbound_item WHERE encode(sha256(raw), 'hex') = '{sha(small)}'")
    t.equal('below the limit: not flagged', r, [['{}']])


def test_repair(env, dv, d, c):
    """Committed but not marked (a crash between COMMIT and STORE): marked on restart, not stored again."""
    d.stop()
    before = count(env)
    c.select('INBOX')
    c.uid('STORE', '3,7', '-FLAGS', '($MadoguchiStored)')
    fl = flags(dv, 'INBOX')
    t.check('flags removed for the test', '$MadoguchiStored' not in fl[3], fl[3])
    d = env.start('ingest-mail')
    ok = mdg.wait_for(lambda: all('$MadoguchiStored' in f for f in flags(dv, 'INBOX').values()), 15, 0.2)
    t.check('repair: unmarked committed mail is marked again', ok, str(flags(dv, 'INBOX'))[:300])
    t.equal('repair: nothing stored twice', count(env), before)
    t.check('repair: logged', 'marking 2 messages stored before (UID 3,7)' in d.log_text(), d.log_text()[-400:])
    return d


def test_restarts(env, dv, d, c):
    before = count(env)
    c.logout()
    dv.stop()
    t.check('dovecot down: noticed', d.wait_log('connecting again in', 15) is not None, d.log_text()[-400:])
    dv.start()
    c = dv.client()
    raws = [mail(3000 + i, 1200, tag='after-dovecot') for i in range(5)]
    for raw in raws:
        c.append('INBOX', None, None, raw)
    mdg.wait_for(lambda: count(env) >= before + 5, 60, 0.2)
    t.equal('dovecot restart: later mail stored', count(env), before + 5)
    env.pg.restart()
    raws = [mail(3100 + i, 1200, tag='after-pg') for i in range(5)]
    for raw in raws:
        c.append('INBOX', None, None, raw)
    mdg.wait_for(lambda: count(env) >= before + 10, 60, 0.2)
    time.sleep(1)
    t.equal('PostgreSQL restart: later mail stored, once', count(env), before + 10)
    fl = flags(dv, 'INBOX')
    t.check('after both restarts: everything marked', all('$MadoguchiStored' in f for f in fl.values()),
            str([u for u, f in fl.items() if '$MadoguchiStored' not in f])[:200])
    return c


def test_uidvalidity(env, dv, d, c):
    c.create('Intake')
    first = [mail(5000 + i, 700 + 50 * i, tag='intake') for i in range(10)]
    for raw in first:
        c.append('Intake', None, None, raw)
    # poll_seconds: how soon the daemon looks again even when dovecot does not
    # tell the idling session that its mailbox was replaced
    env.write_config(**{'ingest_mail.imap_mailbox': 'Intake', 'ingest_mail.poll_seconds': '3'})
    reload(d)
    where = "source_key LIKE 'Intake/%'"
    mdg.wait_for(lambda: count(env, where) >= 10, 20, 0.2)
    t.equal('Intake: 10 rows', count(env, where), 10)
    v1 = env.sql("SELECT uidvalidity FROM mailbox_state WHERE mailbox = 'Intake'")
    # recreate the mailbox under the running daemon: same 10 mails and 2 new
    c.select('INBOX')
    c.delete('Intake')
    c.create('Intake')
    new = [mail(5100 + i, 1000, tag='intake-new') for i in range(2)]
    # the first new one twice: byte-identical copies count once, as in a
    # one-by-one check (the second finds the first)
    for raw in first + new + new[:1]:
        c.append('Intake', None, None, raw)
    v2 = re.search(r'UIDVALIDITY (\d+)', c.status('Intake', '(UIDVALIDITY)')[1][0].decode()).group(1)
    t.check('the recreated mailbox has another UIDVALIDITY', v1 and v1[0][0] != v2, f'{v1} {v2}')
    mdg.wait_for(lambda: env.sql("SELECT uidvalidity FROM mailbox_state WHERE mailbox = 'Intake'")
                 == [[v2]], 60, 0.2)
    time.sleep(1)
    t.equal('UIDVALIDITY change: exactly N+2 rows', count(env, where), 12)
    t.equal('UIDVALIDITY change: the 2 new ones by their bytes',
            count(env, "encode(raw_sha256, 'hex') IN ('%s')" % "','".join(sha(r) for r in new)), 2)
    t.equal('UIDVALIDITY change: no bytes twice',
            int(env.sql('SELECT count(*) - count(DISTINCT raw_sha256) FROM inbound_item')[0][0]), 0)
    t.equal('UIDVALIDITY change: mailbox_state moved on',
            env.sql("SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = 'Intake'"), [[v2, '13']])
    fl = flags(dv, 'Intake')
    t.equal('UIDVALIDITY change: all 13 marked', sorted(u for u, f in fl.items() if '$MadoguchiStored' in f),
            list(range(1, 14)))
    t.check('UIDVALIDITY change: logged as a warning',
            re.search(r'warning: imap: UIDVALIDITY of Intake changed from \d+ to ' + v2, d.log_text()) is not None
            and 'warning: imap: Intake re-read after the UIDVALIDITY change: 2 new messages stored, '
                '11 were stored before' in d.log_text(), d.log_text()[-800:])


def test_move_and_seen(env, dv, c):
    c.create('MoveBox')
    c.create('Stored')
    raws = [mail(7000 + i, 900, tag='move') for i in range(3)]
    for raw in raws:
        c.append('MoveBox', None, None, raw)
    conf = write_conf(env, 'move.conf', dv.ingest_settings(**{
        'ingest_mail.imap_mailbox': 'MoveBox', 'ingest_mail.imap_after': 'move',
        'ingest_mail.imap_move_to': 'Stored'}))
    r = run_once(env, conf)
    t.equal('move: --once exits 0', r.returncode, 0)
    t.equal('move: rows', count(env, "source_key LIKE 'MoveBox/%'"), 3)
    t.equal('move: the folder is empty', flags(dv, 'MoveBox'), {})
    fl = flags(dv, 'Stored')
    t.check('move: all in the target, marked', len(fl) == 3 and all('$MadoguchiStored' in f for f in fl.values()),
            str(fl))
    c.create('SeenBox')
    for raw in raws[:2]:
        c.append('SeenBox', None, None, raw + b'seen\r\n')
    conf = write_conf(env, 'seen.conf', dv.ingest_settings(**{
        'ingest_mail.imap_mailbox': 'SeenBox', 'ingest_mail.imap_after': 'seen'}))
    r = run_once(env, conf)
    fl = flags(dv, 'SeenBox')
    t.check('seen: marked stored and \\Seen', r.returncode == 0 and len(fl) == 2 and
            all('$MadoguchiStored' in f and '\\Seen' in f for f in fl.values()), str(fl) + r.stdout[-300:])


def make_chain(d):
    """root -> intermediate -> leaf (127.0.0.1, localhost), with the openssl command line"""
    def run(*args):
        subprocess.run(['openssl'] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, cwd=d)
    with open(os.path.join(d, 'ca.ext'), 'w') as f:
        f.write('basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n')
    with open(os.path.join(d, 'leaf.ext'), 'w') as f:
        f.write('basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n'
                'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n')
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem',
        '-days', '2', '-subj', '/CN=Test Root', '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
    for name, cn, issuer, ext in (('int', 'Test Intermediate', 'root', 'ca.ext'),
                                  ('leaf', 'localhost', 'int', 'leaf.ext')):
        run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f'{name}.key', '-out', f'{name}.csr',
            '-subj', f'/CN={cn}')
        run('x509', '-req', '-in', f'{name}.csr', '-CA', f'{issuer}.pem', '-CAkey', f'{issuer}.key',
            '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', f'{name}.pem')


def test_chain(env, dv):
    """A certificate from a CA through an intermediate: verified with only the root as
    imap_ca_file when the server sends the intermediate, refused when it does not."""
    d = os.path.join(env.root, 'chain')
    os.makedirs(d)
    make_chain(d)
    dv.stop()
    time.sleep(0.5)
    with open(os.path.join(d, 'leaf.pem')) as f:
        leaf = f.read()
    with open(os.path.join(d, 'int.pem')) as f:
        inter = f.read()
    with open(os.path.join(d, 'leaf.key')) as f:
        key = f.read()
    with open(os.path.join(dv.dir, 'key.pem'), 'w') as f:
        f.write(key)
    settings = dv.ingest_settings(pin=False, **{'ingest_mail.imap_ca_file': os.path.join(d, 'root.pem'),
                                                'ingest_mail.imap_mailbox': 'SeenBox'})
    for label, pem, ok in (('leaf and intermediate sent', leaf + inter, True),
                           ('leaf alone sent', leaf, False)):
        with open(os.path.join(dv.dir, 'cert.pem'), 'w') as f:
            f.write(pem)
        dv.start()
        r = run_once(env, write_conf(env, 'chain.conf', settings))
        if ok:
            t.check(f'chain, {label}: trusted', r.returncode == 0 and 'logged in' in r.stdout, r.stdout[-400:])
        else:
            t.check(f'chain, {label}: refused',
                    'not trusted: unable to get local issuer certificate' in r.stdout, r.stdout[-400:])
        dv.stop()
        time.sleep(0.5)


def main():
    with mdg.Env('ingest-imap') as env:
        env.start_db()
        dv = mdg.Dovecot(env).start()
        test_certificates(env, dv)
        env.write_config(**dv.ingest_settings(), **{'ingest_mail.min_free_mb': '1'})
        d = env.start('ingest-mail')
        c = dv.client()
        test_hundred(env, dv, d, c)
        test_same_message_id(env, c)
        test_oversize(env, dv, d, c)
        d = test_repair(env, dv, d, c)
        c = test_restarts(env, dv, d, c)
        test_uidvalidity(env, dv, d, c)
        test_move_and_seen(env, dv, c)
        print(f'# ingest-mail peak RSS (VmHWM): {d.vmhwm_kib()} KiB', flush=True)
        c.logout()
        d.stop()
        errors = [line for line in d.log_text().splitlines() if ' error: ' in line]
        t.equal('no error lines in the daemon log', errors, [])
        test_chain(env, dv)
    t.done()


if __name__ == '__main__':
    main()
