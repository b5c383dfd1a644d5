#!/usr/bin/python3
"""ingest-mail with the Maildir source, against a real PostgreSQL.

Files dropped into new/ become inbound_item rows with their exact bytes,
key and mtime, and move to cur/ only after the commit; NOTIFY inbound
carries the new largest id; a restart (also after kill -9, and with a file
"un-renamed" as if the crash came between commit and rename) doubles
nothing; SIGHUP applies a new max_message_bytes (oversize mail is stored
whole and flagged), keeps the old config when the new one is broken; a
full disk pauses intake and resumes it; --once stores what is there and
exits; SIGTERM stops cleanly.
"""
import hashlib
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mdg  # noqa: E402

t = mdg.Checks('ingest-maildir')


def mail(i, size=600):
    head = (f'From: citizen{i}@example.jp\r\nTo: desk@city.example.jp\r\n'
            f'Subject: maildir test {i}\r\nMessage-ID: <m{i}@example.jp>\r\n\r\n').encode()
    body = (f'body of mail {i} ' * (size // 16 + 1)).encode()[:max(0, size - len(head))]
    return head + body


def count(env, where='true'):
    return int(env.sql(f'SELECT count(*) FROM inbound_item WHERE {where}')[0][0])


def rows(env):
    """source_key -> (sha256 of raw as stored, raw_sha256 column, raw_size, flags, arrived epoch)"""
    out = {}
    for key, sha, col, size, flags, arrived in env.sql(
            "SELECT source_key, encode(sha256(raw), 'hex'), encode(raw_sha256, 'hex'), raw_size, "
            "flags::text, extract(epoch FROM arrived_at) FROM inbound_item"):
        out[key] = (sha, col, int(size), flags, float(arrived))
    return out


def box(env, sub):
    return os.path.join(env.root, 'var', 'mail', 'inbox', sub)


def listen(env, seconds):
    """psql listening on 'inbound' for a while; returns the Popen (stdout has the notifications,
    which psql prints after the command during which they came)."""
    pg = env.pg
    p = subprocess.Popen(['psql', '-X', '-q', '-h', pg.sockdir, '-p', str(pg.port), '-U', 'postgres',
                          '-d', 'madoguchi'], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    p.stdin.write(f'LISTEN inbound;\nSELECT pg_sleep({seconds});\nSELECT 1;\n')
    p.stdin.close()
    return p


def reload(d):
    """SIGHUP and wait for this reload's outcome line; True when it loaded."""
    text = d.log_text()
    n_ok, n_bad = text.count('configuration reloaded'), text.count('reload failed')
    d.signal(signal.SIGHUP)
    mdg.wait_for(lambda: d.log_text().count('configuration reloaded') > n_ok
                 or d.log_text().count('reload failed') > n_bad, 10)
    return d.log_text().count('configuration reloaded') > n_ok


def drop_many(env, first, n, mtime=None):
    names = {}
    for i in range(first, first + n):
        raw = mail(i, 300 + 37 * (i % 100))
        name = env.maildir_drop(raw, name=f'{1732250000 + i}.M{i}P42.test')
        if mtime is not None:
            os.utime(os.path.join(box(env, 'new'), name), (mtime, mtime))
        names[name] = raw
    return names


def check_batch(env, names, label):
    got = rows(env)
    bad = [n for n, raw in names.items()
           if n not in got or got[n][0] != hashlib.sha256(raw).hexdigest()
           or got[n][1] != got[n][0] or got[n][2] != len(raw)]
    t.check(f'{label}: every file is a row with its exact bytes, hash and size', not bad,
            f'{len(bad)} wrong, e.g. {bad[:2]}')
    cur = set(os.listdir(box(env, 'cur')))
    t.check(f'{label}: every file moved to cur/ with :2,S',
            all(n + ':2,S' in cur for n in names), f'cur/ has {len(cur)} files')


def test_basic(env):
    lis = listen(env, 4)
    time.sleep(0.5)
    d = env.start('ingest-mail')
    t.check('started', d.wait_log('maildir: taking mail from', 10) is not None, d.log_text()[-500:])
    names = drop_many(env, 0, 20)
    mdg.wait_for(lambda: count(env) == 20 and not os.listdir(box(env, 'new')), 10)
    t.equal('20 files -> 20 rows', count(env), 20)
    t.equal('new/ is empty', os.listdir(box(env, 'new')), [])
    check_batch(env, names, 'first 20')
    got = rows(env)
    t.equal('flags empty for normal mail', sorted({v[3] for v in got.values()}), ['{}'])
    out = lis.stdout.read()
    lis.wait(20)
    maxid = env.sql('SELECT max(id) FROM inbound_item')[0][0]
    t.check('NOTIFY inbound carries the new largest id', f'payload "{maxid}"' in out, out[-300:])
    t.equal('source is the account name', env.sql('SELECT DISTINCT source, channel FROM inbound_item'),
            [['mail', 'mail']])
    return d


def test_mtime_exact(env):
    stamp = 1650000000.123456
    raw = mail(500)
    name = '1650000000.M500P42.test'
    tmp = os.path.join(box(env, 'tmp'), name)
    with open(tmp, 'wb') as f:
        f.write(raw)
    os.utime(tmp, (stamp, stamp))
    os.rename(tmp, os.path.join(box(env, 'new'), name))
    mdg.wait_for(lambda: count(env, f"source_key = '{name}'") == 1, 10)
    r = env.sql(f"SELECT extract(epoch FROM arrived_at) FROM inbound_item WHERE source_key = '{name}'")
    t.check('arrived_at equals the mtime to the microsecond', r and abs(float(r[0][0]) - stamp) < 2e-6,
            str(r))


def test_odd_name(env):
    """A file name that is not printable ASCII still makes a text key (%XX), and moves."""
    raw = mail(600)
    name = '1650000001.M600P42.窓口 test'
    env.maildir_drop(raw, name=name)
    key = '1650000001.M600P42.%E7%AA%93%E5%8F%A3%20test'
    mdg.wait_for(lambda: count(env, f"source_key = '{key}'") == 1, 10)
    t.equal('odd file name: key with %XX', count(env, f"source_key = '{key}'"), 1)
    t.check('odd file name: moved to cur/', name + ':2,S' in os.listdir(box(env, 'cur')),
            str(os.listdir(box(env, 'new'))))


def test_restart(env, d):
    before = count(env)
    d.stop()
    # as if we crashed after the commit and before the rename: back into new/
    victim = sorted(os.listdir(box(env, 'cur')))[0]
    os.rename(os.path.join(box(env, 'cur'), victim), os.path.join(box(env, 'new'), victim[:-4]))
    names = drop_many(env, 100, 5)
    d = env.start('ingest-mail')
    mdg.wait_for(lambda: not os.listdir(box(env, 'new')), 10)
    t.equal('restart: committed file found again, not doubled', count(env), before + 5)
    t.check('restart: it went to cur/ again', victim in os.listdir(box(env, 'cur')), victim)
    check_batch(env, names, 'after restart')
    # kill -9 in the middle of a stream of files
    names = drop_many(env, 200, 300)
    time.sleep(0.05)
    d.kill9()
    d = env.start('ingest-mail')
    mdg.wait_for(lambda: not os.listdir(box(env, 'new')), 20)
    t.equal('kill -9: nothing lost, nothing doubled', count(env), before + 5 + 300)
    t.equal('kill -9: keys unique', int(env.sql('SELECT count(DISTINCT source_key) FROM inbound_item')[0][0]),
            before + 305)
    check_batch(env, names, 'after kill -9')
    return d


def test_reload(env, d):
    env.write_config(**{'ingest_mail.max_message_bytes': '2048'})
    t.check('SIGHUP: reloaded', reload(d), d.log_text()[-300:])
    big = mail(900, 5000)
    name = env.maildir_drop(big, name='1732259999.M900P42.big')
    mdg.wait_for(lambda: count(env, f"source_key = '{name}'") == 1, 10)
    r = env.sql(f"SELECT flags::text, raw_size, encode(sha256(raw), 'hex') FROM inbound_item "
                f"WHERE source_key = '{name}'")
    t.equal('oversize: stored whole and flagged', r, [['{oversize}', str(len(big)), hashlib.sha256(big).hexdigest()]])
    # a broken file: logged, the old settings stay
    with open(env.conf, 'a') as f:
        f.write('ingest_mail.fetch_batch = lots\n')
    t.check('SIGHUP with a broken file: kept the old config',
            not reload(d) and 'reload failed; going on with the configuration loaded before' in d.log_text(),
            d.log_text()[-300:])
    names = drop_many(env, 1000, 3)
    mdg.wait_for(lambda: not os.listdir(box(env, 'new')), 10)
    check_batch(env, names, 'after a failed reload')
    t.check('still alive after a failed reload', d.alive())


def test_pause(env, d):
    env.write_config(**{'ingest_mail.max_message_bytes': '26214400', 'ingest_mail.min_free_mb': '1048576'})
    reload(d)
    before = count(env)
    names = drop_many(env, 2000, 2)
    t.check('full disk: pause is logged', d.wait_log('intake paused: only', 10) is not None,
            d.log_text()[-300:])
    time.sleep(1)
    t.equal('full disk: nothing stored', count(env), before)
    t.equal('full disk: files stay in new/', sorted(os.listdir(box(env, 'new'))), sorted(names))
    t.equal('full disk: paused is logged once', d.log_text().count('intake paused'), 1)
    env.write_config(**{'ingest_mail.min_free_mb': '1'})
    reload(d)
    mdg.wait_for(lambda: not os.listdir(box(env, 'new')), 20)
    t.equal('room again: stored', count(env), before + 2)
    t.check('room again: resume is logged (across the reload)',
            d.wait_log('intake resumed', 5) is not None, d.log_text()[-300:])
    env.write_config(**{'ingest_mail.db_max_mb': '1'})
    reload(d)
    names = drop_many(env, 3000, 1)
    t.check('database too big: pause is logged',
            d.wait_log('intake paused: the database holds', 10) is not None, d.log_text()[-300:])
    t.equal('database too big: nothing stored', count(env), before + 2)
    env.write_config(**{'ingest_mail.db_max_mb': '0'})
    reload(d)
    mdg.wait_for(lambda: not os.listdir(box(env, 'new')), 20)
    t.equal('database limit lifted: stored', count(env), before + 3)


def test_once_and_term(env, d):
    d.signal(signal.SIGTERM)
    try:
        d.proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    t.equal('SIGTERM: exit status 0', d.proc.returncode, 0)
    t.check('SIGTERM: logged the stop', 'stopped' in d.log_text())
    before = count(env)
    names = drop_many(env, 4000, 450)  # more than two batches
    r = subprocess.run([mdg.program('ingest-mail'), '-c', env.conf, '--once'], cwd=env.root,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    t.equal('--once: exit status 0', r.returncode, 0)
    t.equal('--once: all stored', count(env), before + 450)
    t.equal('--once: new/ empty', os.listdir(box(env, 'new')), [])
    check_batch(env, names, '--once')


def main():
    with mdg.Env('ingest-maildir') as env:
        env.start_db()
        env.write_config(**{'ingest_mail.min_free_mb': '1'})
        d = test_basic(env)
        test_mtime_exact(env)
        test_odd_name(env)
        d = test_restart(env, d)
        test_reload(env, d)
        test_pause(env, d)
        test_once_and_term(env, d)
        t.equal('no error lines in the log but the broken reload',
            [line for line in open(d.log, errors='replace')
             if ' error: ' in line and 'could not load configuration' not in line], [])
    t.done()


if __name__ == '__main__':
    main()
