#!/usr/bin/python3
"""etc/madoguchi.conf documents every key of every program with its default,
and a daemon given a broken file on SIGHUP keeps its old settings."""
import os
import re
import signal
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mdg  # noqa: E402

t = mdg.Checks('config')


def documented():
    """{key: default} from the commented-out entries of etc/madoguchi.conf"""
    out, section = {}, ''
    with open(os.path.join(mdg.REPO, 'etc', 'madoguchi.conf'), encoding='utf-8') as f:
        for line in f:
            m = re.match(r'^\[(\w+)\]', line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r'^#?(\w+) = (.*)$', line.rstrip('\n'))
            if m:
                out[f'{section}.{m.group(1)}'] = m.group(2)
    return out


def main():
    doc = documented()
    for prog in ('madoguchi-admin', 'ingest-mail', 'ingest-fax', 'ingest-ocr', 'ticketd', 'escalationd'):
        r = subprocess.run([mdg.program(prog), '--config-keys'], stdout=subprocess.PIPE, text=True)
        keys = [line.split('\t') for line in r.stdout.splitlines() if line]
        t.check(f'{prog} lists its keys', r.returncode == 0 and len(keys) > 3, r.stdout[:200])
        missing = [k[0] for k in keys if doc.get(k[0]) != k[2]]
        t.check(f'{prog}: every key documented with its default in etc/madoguchi.conf', not missing,
                f'missing or wrong default: {missing[:5]} (run tools/gen-config)')
        nohelp = [k[0] for k in keys if len(k) < 4 or len(k[3]) < 10]
        t.check(f'{prog}: every key has a help text', not nohelp, str(nohelp[:5]))

    with mdg.Env('config') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        tick = env.start('ticketd')
        ok = mdg.wait_for(lambda: _get(port) == 200, 10)
        t.check('ticketd serves', ok)
        with open(env.conf, 'a') as f:
            f.write('ticketd.intake_batch = lots\n')
        tick.signal(signal.SIGHUP)
        logged = tick.wait_log('ticketd.intake_batch', 5)
        t.check('broken config on SIGHUP is logged with the key', logged, tick.log_text()[-500:])
        t.check('ticketd still alive and serving after the broken reload', tick.alive() and _get(port) == 200)
    t.done()


def _get(port):
    try:
        return urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=2).status
    except Exception:
        return None


if __name__ == '__main__':
    main()
