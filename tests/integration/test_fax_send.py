#!/usr/bin/python3
"""A reply by fax goes out on the line (issue 7, "Sending"; ingest/fax/line.c + outfax.c).

Private PostgreSQL, ticketd and ingest-fax with fax.out_uri pointing at
tests/tools/faxpeer in answer mode: a fax machine written here with the same
SIP stack and spandsp.  An operator sends a reply by fax through the API (the
number typed twice); ingest-fax claims the outbound_fax row, dials, and sends
the pages ticketd set on A4.  Asserted: the answerer received exactly the
pages stored in outbound_fax_page, pixel for pixel (both decoded by
lib/faxtiff through tests/tools/faxpage2pbm); outbound_fax is 'sent' with
every page and the T.30 result; a fax_call row of direction 'out' names the
number; the ticket's timeline says so.  Then a number nobody answers: the
attempt fails with the SIP reason and the row waits for its retry.

Run: /usr/bin/python3 tests/integration/test_fax_send.py
"""
import glob
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
sys.path.insert(0, os.path.dirname(__file__))
import mdg  # noqa: E402
import ticketd_http as th  # noqa: E402
from ticketd_http import Client  # noqa: E402

t = mdg.Checks('fax-send')
TOOLS = os.path.join(mdg.BUILD, 'tests', 'tools')
BODY = '山田 太郎 様\n\nお問い合わせの粗大ごみの収集日は、十二月三日（木）です。\n当日の朝八時までにお出しください。\n'


def tools():
    for name in ('faxpeer', 'faxpage2pbm'):
        if not os.path.exists(os.path.join(TOOLS, name)):
            subprocess.run(['make', '-s', '-C', mdg.BUILD, f'tests/tools/{name}'], check=True)


def pbm(path):
    r = subprocess.run([os.path.join(TOOLS, 'faxpage2pbm'), path], stdout=subprocess.PIPE, check=True)
    return r.stdout.split(b'\n', 2)[2] if r.stdout.startswith(b'P4\n#') else r.stdout


def received_pages(tmp, tif):
    subprocess.run(['tiffsplit', tif, os.path.join(tmp, 'rx-')], check=True)
    return [pbm(p) for p in sorted(glob.glob(os.path.join(tmp, 'rx-*.tif')))]


def stored_pages(env, tmp, fax_id):
    rows = env.sql(f"SELECT page_no, encode(tiff, 'hex') FROM outbound_fax_page WHERE fax_id = {fax_id}"
                   " ORDER BY page_no")
    out = []
    for n, hx in rows:
        p = os.path.join(tmp, f'stored-{n}.tif')
        with open(p, 'wb') as f:
            f.write(bytes.fromhex(hx))
        out.append(pbm(p))
    return out


def main():
    tools()
    line_port, peer_port = mdg.free_port(), mdg.free_port()
    with mdg.Env('fax-send') as env, tempfile.TemporaryDirectory() as tmp:
        d, port = th.start(env, 'fax-send', **{
            'ticketd.send_delay_seconds': '0', 'fax.listen': f'127.0.0.1:{line_port}',
            'fax.out_uri': f'sip:%s@127.0.0.1:{peer_port}', 'fax.ident': '03 5388 1234',
            'fax.rtp_port_min': '31000', 'fax.rtp_port_max': '31999'})
        rx = os.path.join(tmp, 'received.tif')
        peer = subprocess.Popen([os.path.join(TOOLS, 'faxpeer'), 'answer', '--listen', f'127.0.0.1:{peer_port}',
                                 '--expect-pages', '1', '--out', rx, '--timeout', '240'],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        fax = env.start('ingest-fax')
        try:
            op = Client(port)
            op.login('op1', next(u[2] for u in th.USERS if u[0] == 'op1'))
            r = op.request('POST', '/api/tickets/1/fax-reply', json_body={
                'body': BODY, 'recipient': '山田 太郎', 'number': '03-1234-5678', 'number_confirm': '0312345678'})
            t.equal('the reply by fax is queued', r.status, 201)
            fid = (r.json() or {}).get('fax', {}).get('id') or (r.json() or {}).get('id')
            fid = fid or int(env.sql('SELECT max(id) FROM outbound_fax')[0][0])
            out, _ = peer.communicate(timeout=300)
            t.check('the answerer took the call and got its page', peer.returncode == 0 and 'result=ok' in out,
                    out.strip()[-400:])
            ok = mdg.wait_for(lambda: env.sql(f"SELECT state FROM outbound_fax WHERE id = {fid}") == [['sent']], 60)
            t.check('outbound_fax sent', bool(ok), env.sql(f"SELECT state, last_error FROM outbound_fax WHERE id = {fid}"))
            stored = stored_pages(env, tmp, fid)
            got = received_pages(tmp, rx) if os.path.exists(rx) else []
            t.equal('pages received = pages stored', len(got), len(stored))
            t.check('every page identical, pixel for pixel', got == stored and len(got) > 0)
            t.equal('its pages sent and the attempt', env.sql(
                f"SELECT pages_sent, attempts FROM outbound_fax WHERE id = {fid}"), [[str(len(stored)), '1']])
            t.check('a fax_call row of direction out: the number, ok', bool(mdg.wait_for(lambda: env.sql(
                "SELECT direction, did, result, pages FROM fax_call WHERE direction = 'out'")
                == [['out', '0312345678', 'ok', str(len(stored))]], 30)),
                env.sql("SELECT direction, did, result, pages, end_reason FROM fax_call"))
            t.check('logged with the fax id', f'fax={fid}: dialling sip:0312345678@127.0.0.1:{peer_port}'
                    in fax.log_text(), fax.log_text()[-600:])
            # a number nobody answers: the peer is gone, the dial fails, a retry is planned
            r = op.request('POST', '/api/tickets/1/fax-reply', json_body={
                'body': BODY, 'recipient': '山田 太郎', 'number': '03-1111-2222', 'number_confirm': '0311112222'})
            fid2 = int(env.sql('SELECT max(id) FROM outbound_fax')[0][0])
            again = mdg.wait_for(lambda: env.sql(
                f"SELECT state, attempts, not_before > now() FROM outbound_fax WHERE id = {fid2}")
                == [['queued', '1', 't']], 90)
            t.check('no answer: the attempt counted, queued again for later', bool(again),
                    env.sql(f"SELECT state, attempts, last_error FROM outbound_fax WHERE id = {fid2}"))
            t.check('ingest-fax still running', fax.alive())
        except Exception as ex:
            t.fail('scenario ran to the end', f'{type(ex).__name__}: {ex}')
            print('# --- ingest-fax log tail ---\n' + fax.log_text()[-3000:], flush=True)
        finally:
            if peer.poll() is None:
                peer.kill()
    t.done()


if __name__ == '__main__':
    main()
