#!/usr/bin/python3
"""ingest-fax, the fax line, against a real PostgreSQL, with real spandsp on both ends
and real SIP over loopback (issue 7).

faxpeer (tests/tools/faxpeer: ingest-fax's own SIP UA and call engine, sending) dials
ingest-fax and sends the ITU charts of ../shared/corpus/fax/spandsp-itu/ (fine and
standard; T.4 1D, T.4 2D, T.6) over G.711 and over T.38 (re-INVITE and initial offer),
with and without ECM.  Every fax_page row is decoded (tests/tools/faxpage2pbm) and
compared pixel for pixel with its PBM oracle (standard pages: rows 0, 2, 4, ... of it);
the fax_call, inbound_item and fax_item rows are checked field by field.  A call cut
after page 2 keeps 2 pages (incomplete); 20 calls at once all complete; 20 calls over
a noisy line (AWGN -55 dBm0 after a mu-law round trip, 60 ms delay) with ECM: at least
19 complete.  The DID comes from the Request-URI, else To, else Diversion.  baresip
(Debian's, a SIP client no one here wrote) calls with plain speech-band audio: answered,
ended with a logged reason, result no_fax, no inbound item.  fax.t38 = offer makes
ingest-fax re-INVITE to T.38 itself; = off keeps a call on G.711.  Registration with digest
authentication to Debian's kamailio as the trunk's registrar, which then routes a call
to the line (a wrong password is refused and logged).  A sidecar left in the spool (a
crash between call end and commit) is committed on start, once.

Skipped, each saying so, when the corpus, baresip or kamailio is absent.
Run with Debian's /usr/bin/python3.
"""
import concurrent.futures
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'lib'))
import mdg  # noqa: E402

t = mdg.Checks('fax-line')
CORPUS = os.path.join(mdg.SHARED, 'corpus', 'fax', 'spandsp-itu')
TIFF = os.path.join(CORPUS, 'tiff')
PBM = os.path.join(CORPUS, 'pbm')
LINE = 'ward-fax'


def chart(name):
    return os.path.join(TIFF, name + '.tif')


def make_doc(work, name, pages):
    """A multi-page TIFF of corpus charts (tiffcp keeps each page's coding)."""
    out = os.path.join(work, name + '.tif')
    subprocess.run(['tiffcp'] + [chart(p) for p in pages] + [out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def read_pbm(data):
    """(width, height, rows as bytes, comment lines) of a P4 file."""
    pos, fields, comments = 0, [], []
    while len(fields) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            end = data.index(b'\n', pos)
            comments.append(data[pos + 1:end].decode().strip())
            pos = end + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    w, h = int(fields[1]), int(fields[2])
    stride = (w + 7) // 8
    rows = [data[pos + i * stride:pos + (i + 1) * stride] for i in range(h)]
    return w, h, rows, comments


def oracle(chart_name, standard):
    with open(os.path.join(PBM, chart_name.split('_')[0] + '.pbm'), 'rb') as f:
        w, h, rows, _ = read_pbm(f.read())
    return w, rows[::2] if standard else rows


def same_pixels(w, a, b):
    """Rows equal on their w pixels (the padding bits of the last byte are free)."""
    if len(a) != len(b):
        return False
    full, rest = w // 8, w % 8
    mask = (0xff << (8 - rest)) & 0xff
    for x, y in zip(a, b):
        if x[:full] != y[:full]:
            return False
        if rest and (x[full] & mask) != (y[full] & mask):
            return False
    return True


def page_pbm(env, item, page_no):
    hexdata = env.sql(f'SELECT encode(tiff, \'hex\') FROM fax_page WHERE inbound_item_id = {item} '
                      f'AND page_no = {page_no}')[0][0]
    path = os.path.join(env.root, f'page-{item}-{page_no}.tif')
    with open(path, 'wb') as f:
        f.write(bytes.fromhex(hexdata))
    r = subprocess.run([mdg.program('faxpage2pbm'), path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        return None
    return read_pbm(r.stdout)


def peer_call(port, did, doc, *args, timeout=400):
    cmd = [mdg.program('faxpeer'), 'call', f'sip:{did}@127.0.0.1:{port}', doc,
           '--timeout', str(timeout)] + list(args)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout + 60)
    line = [ln for ln in r.stdout.splitlines() if ln.startswith('faxpeer:')]
    return r.returncode, line[0] if line else r.stdout + r.stderr


def fax_call(env, did):
    rows = env.sql('SELECT did, caller, remote_ident, transport, ecm, pages, result, t30_code, '
                   'coalesce(inbound_item_id, 0), end_reason, line, answered_at IS NOT NULL, '
                   'ended_at >= started_at '
                   f"FROM fax_call WHERE did = '{did}' ORDER BY id")
    return rows


def wait_calls(env, n, timeout):
    return mdg.wait_for(lambda: int(env.sql('SELECT count(*) FROM fax_call')[0][0]) >= n,
                        timeout, interval=0.5)


def check_item(env, what, item, did, caller, ident, pages, complete):
    got = env.sql('SELECT i.channel, i.source, i.raw_size = length(i.raw), '
                  'f.origin, f.did, f.caller, f.remote_ident, f.pages, f.complete, '
                  "(SELECT count(*) FROM fax_page p WHERE p.inbound_item_id = i.id), "
                  "convert_from(i.raw, 'UTF8')::jsonb->>'sip_call_id' = i.source_key "
                  f'FROM inbound_item i JOIN fax_item f ON f.inbound_item_id = i.id WHERE i.id = {item}')
    t.equal(f'{what}: inbound_item and fax_item', got,
            [['fax', LINE, 't', 'line', did, caller, ident, str(pages),
              't' if complete else 'f', str(pages), 't']])


def check_pages(env, what, item, charts):
    for no, name in enumerate(charts, 1):
        standard = '_standard_' in name
        got = page_pbm(env, item, no)
        if got is None:
            t.fail(f'{what}: page {no} ({name}) decodes')
            continue
        w, h, rows, comments = got
        ow, orows = oracle(name, standard)
        meta = env.sql('SELECT width_px, height_px, x_dpi, y_dpi FROM fax_page '
                       f'WHERE inbound_item_id = {item} AND page_no = {no}')[0]
        t.equal(f'{what}: page {no} size and resolution', meta,
                [str(ow), str(len(orows)), '204', '98' if standard else '196'])
        t.check(f'{what}: page {no} ({name}) pixel for pixel', w == ow and same_pixels(w, rows, orows),
                f'{w}x{h} against {ow}x{len(orows)}')


# -- the scenarios -------------------------------------------------------------

DOCS = {
    # did: (charts, faxpeer args, transport, ecm, ident)
    '0311110001': (['itu1_fine_g3-1d', 'itu2_fine_g3-2d', 'itu3_fine_g4', 'itu4_standard_g3-1d',
                    'itu7_fine_g4'], [], 'pcmu', True, 'G711 ECM'),
    '0311110002': (['itu2_standard_g3-1d', 'itu5_fine_g3-2d'], ['--no-ecm'], 'pcmu', False,
                   'G711 NOECM'),
    '0311110003': (['itu8_standard_g3-1d', 'itu6_fine_g4'], ['--t38', 'reinvite'], 't38', True,
                   'T38 REINVITE ECM'),
    '0311110004': (['itu1_standard_g3-1d', 'itu6_fine_g3-1d'], ['--t38', 'initial', '--no-ecm'],
                   't38', False, 'T38 INITIAL NOECM'),
}
CUT_DID = '0311110005'


def scenario_charts(env, port, work):
    """Four documents at once (G.711 and T.38, ECM on and off) and a call cut after page 2."""
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        for did, (charts, args, _tr, _ecm, ident) in DOCS.items():
            doc = make_doc(work, did, charts)
            jobs[did] = ex.submit(peer_call, port, did, doc, '--ident', ident, '--from', 'caller' + did[-1],
                                  *args)
        cut = make_doc(work, 'cut', ['itu1_standard_g3-1d', 'itu2_standard_g3-1d',
                                     'itu3_standard_g3-1d', 'itu4_standard_g3-1d'])
        jobs[CUT_DID] = ex.submit(peer_call, port, CUT_DID, cut, '--hangup-after-page', '2',
                                  '--ident', 'CUT', '--from', 'cutter')
        results = {did: f.result() for did, f in jobs.items()}
    for did, (charts, args, transport, ecm, ident) in DOCS.items():
        what = f'{transport} {"ECM" if ecm else "no ECM"} {" ".join(args)}'.strip()
        rc, line = results[did]
        t.check(f'{what}: faxpeer sent every page', rc == 0, line)
        rows = fax_call(env, did)
        item = rows[0][8] if rows else '0'
        t.equal(f'{what}: fax_call row', rows,
                [[did, 'caller' + did[-1], ident, transport, 't' if ecm else 'f', str(len(charts)), 'ok',
                  '0', item, 'fax done (T.30 phase E)', LINE, 't', 't']])
        if rows and item != '0':
            check_item(env, what, item, did, 'caller' + did[-1], ident, len(charts), True)
            check_pages(env, what, item, charts)
    rc, line = results[CUT_DID]
    t.check('cut after page 2: faxpeer hung up after page 2', rc == 0 and 'pages=2' in line, line)
    rows = fax_call(env, CUT_DID)
    t.check('cut after page 2: fax_call incomplete with 2 pages, ended by the BYE',
            len(rows) == 1 and rows[0][5] == '2' and rows[0][6] == 'incomplete'
            and rows[0][9] == 'remote hangup (BYE)', repr(rows))
    if rows and rows[0][8] != '0':
        check_item(env, 'cut after page 2', rows[0][8], CUT_DID, 'cutter', 'CUT', 2, False)
        check_pages(env, 'cut after page 2', rows[0][8], ['itu1_standard_g3-1d', 'itu2_standard_g3-1d'])


def scenario_many(env, port, work, n, base, args, need, what):
    doc = chart('itu2_standard_g3-1d')
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
        futs = [ex.submit(peer_call, port, f'{base}{i:02d}', doc, '--ident', f'MANY {i}', *args)
                for i in range(n)]
        res = [f.result() for f in futs]
    sent = sum(1 for rc, _ in res if rc == 0)
    dids = ','.join(f"'{base}{i:02d}'" for i in range(n))
    stored = int(env.sql(f"SELECT count(*) FROM fax_call c JOIN fax_item f ON f.fax_call_id = c.id "
                         f"WHERE c.did IN ({dids}) AND c.result = 'ok' AND f.pages = 1 AND f.complete")[0][0])
    t.check(f'{what}: at least {need} of {n} sent', sent >= need,
            f'{sent} sent; ' + '; '.join(line for rc, line in res if rc != 0)[:600])
    t.check(f'{what}: at least {need} of {n} stored complete', stored >= need and stored >= sent,
            f'{stored} stored, {sent} sent')
    return stored


def scenario_did(env, port, work):
    """No digits in the R-URI/To: the DID comes from Diversion.  The caller offers A-law
    first: the answer takes it (transport pcma)."""
    rc, line = peer_call(port, 'fax', chart('itu1_standard_g3-1d'), '--diversion', '0399998888',
                         '--from', '0612345678', '--ident', 'DIVERSION', '--pcma')
    t.check('DID from Diversion: sent', rc == 0, line)
    rows = env.sql("SELECT did, caller, transport FROM fax_call WHERE remote_ident = 'DIVERSION'")
    t.equal('DID from Diversion, A-law first offered: fax_call.did, caller and transport', rows,
            [['0399998888', '0612345678', 'pcma']])


def speech_wav(path, seconds=30):
    """8 kHz mono 16-bit: a few tones with pauses, like a voice saying hello (not a fax tone)."""
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        frames = bytearray()
        for i in range(seconds * 8000):
            s = i / 8000.0
            on = int(s * 3) % 3 != 2
            v = (0.3 * math.sin(2 * math.pi * 440 * s) + 0.2 * math.sin(2 * math.pi * 660 * s)) if on else 0
            frames += struct.pack('<h', int(v * 12000))
        w.writeframes(bytes(frames))


def scenario_baresip(env, port, work):
    if shutil.which('baresip') is None:
        print('skip baresip: /usr/bin/baresip absent (package baresip-core)', flush=True)
        return
    conf = os.path.join(work, 'baresip')
    os.makedirs(conf, exist_ok=True)
    wav = os.path.join(conf, 'speech.wav')
    speech_wav(wav)
    bport = mdg.free_port()
    with open(os.path.join(conf, 'config'), 'w') as f:
        f.write(f'module_path /usr/lib/baresip/modules\n'
                f'sip_listen 127.0.0.1:{bport}\nnet_interface 127.0.0.1\n'
                f'audio_source aufile,{wav}\n'
                'module g711.so\nmodule aufile.so\nmodule account.so\nmodule menu.so\n'
                'module stdio.so\n')
    with open(os.path.join(conf, 'accounts'), 'w') as f:
        f.write(f'<sip:0398765432@127.0.0.1:{bport}>;regint=0\n')
    b = subprocess.Popen(['baresip', '-f', conf, '-e', f'/dial sip:0311119999@127.0.0.1:{port}', '-t', '40'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    got = mdg.wait_for(lambda: env.sql("SELECT did, caller, result, pages, transport, end_reason, "
                                       "inbound_item_id IS NULL FROM fax_call WHERE did = '0311119999'"),
                       35, interval=0.5)
    b.terminate()
    b.wait(10)
    t.check('baresip with speech: answered and recorded as no_fax with no inbound item',
            got is not None and got[0][:5] == ['0311119999', '0398765432', 'no_fax', '0', 'pcmu']
            and got[0][6] == 't', repr(got))
    t.check('baresip with speech: ended by the no-training timeout',
            got is not None and got[0][5] == 'no fax training within 15 s', repr(got))
    # counted by the call's number: the charts run beside this scenario
    t.equal('baresip with speech: no inbound item',
            env.sql("SELECT count(*) FROM inbound_item i JOIN fax_item f ON f.inbound_item_id = i.id"
                    " WHERE f.did = '0311119999'"), [['0']])
    t.check('baresip with speech: the log gives the reason', 'ended: no fax training within 15 s; no_fax'
            in env.daemons[-1].log_text())


def scenario_recovery(env, port, work):
    """A sidecar left in the spool is committed on start; the same one again changes nothing."""
    d = env.daemons[-1]
    row = env.sql("SELECT convert_from(raw, 'UTF8'), id FROM inbound_item i JOIN fax_item f "
                  "ON f.inbound_item_id = i.id WHERE f.did = '0311110100'")
    if not row:
        t.fail('recovery: a stored call to copy')
        return
    rec = json.loads(row[0][0])
    rec['sip_call_id'] = 'crash-test-call@example.jp'
    rec['did'] = '0311117777'
    rec['id'] = 'feedfacefeedface'
    d.stop()
    spool = os.path.join(env.root, 'var', 'fax', 'spool')
    side = os.path.join(spool, 'feedfacefeedface.json')
    with open(side, 'w') as f:
        json.dump(rec, f)
    shutil.copy(chart('itu2_standard_g3-1d'), os.path.join(spool, 'feedfacefeedface.tif'))
    d2 = env.start('ingest-fax')
    ok = mdg.wait_for(lambda: env.sql("SELECT count(*) FROM fax_item WHERE did = '0311117777'")[0][0] == '1',
                      20, interval=0.3)
    t.check('recovery: the sidecar is committed on start', ok)
    t.check('recovery: the spool is emptied', mdg.wait_for(lambda: not os.listdir(spool), 10))
    d2.stop()
    with open(side, 'w') as f:
        json.dump(rec, f)
    env.start('ingest-fax')
    t.check('recovery: the same sidecar again is only removed',
            mdg.wait_for(lambda: not os.listdir(spool), 20, interval=0.3))
    t.equal('recovery: still one fax_call, one inbound item',
            env.sql("SELECT count(*), count(inbound_item_id) FROM fax_call WHERE did = '0311117777'"),
            [['1', '1']])


def scenario_offer(env, port, work):
    """fax.t38 = offer: ingest-fax itself re-INVITEs an audio call to T.38; = off: it refuses
    a caller's re-INVITE to T.38 and the fax goes through over G.711."""
    for mode, did, expect in (('offer', '0311116001', 't38'), ('off', '0311116002', 'pcmu')):
        env.daemons[-1].stop()
        env.write_config(**{'fax.t38': mode})
        d = env.start('ingest-fax')
        d.wait_log('listening for SIP', 10)
        rc, line = peer_call(port, did, chart('itu3_standard_g3-1d'), '--ident', f'MODE {mode}',
                             *(['--t38', 'reinvite'] if mode == 'off' else []))
        t.check(f'fax.t38 = {mode}: sent', rc == 0, line)
        t.equal(f'fax.t38 = {mode}: fax_call transport and result',
                env.sql(f"SELECT transport, result, pages FROM fax_call WHERE did = '{did}'"),
                [[expect, 'ok', '1']])
    env.daemons[-1].stop()
    env.write_config(**{'fax.t38': 'accept'})
    env.start('ingest-fax').wait_log('listening for SIP', 10)


KAMAILIO_CFG = """#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=1
disable_tcp=yes
listen=udp:127.0.0.1:{port}
alias=udp:127.0.0.1:{port}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "textops.so"
request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (is_method("REGISTER")) {{
        if (!pv_www_authenticate("$fd", "{password}", "0")) {{ www_challenge("$fd", "0"); exit; }}
        xlog("L_NOTICE", "registrar: REGISTER of $fU authenticated\\n");
        save("location");
        exit;
    }}
    if (is_method("INVITE") && $rU == "{did}") {{
        $rU = "{user}";
        if (!lookup("location")) {{ sl_send_reply("404", "Not Registered"); exit; }}
        xlog("L_NOTICE", "registrar: INVITE routed to $ru\\n");
    }}
    t_relay();
}}
"""


def scenario_register(env, port, work):
    """Registration with digest authentication to a trunk (Debian's kamailio as the
    registrar, checking the password), which then routes a call for the line's number
    to the registered contact: the DID comes from To (the R-URI is our contact)."""
    if shutil.which('kamailio') is None:
        print('skip registration: /usr/sbin/kamailio absent (package kamailio)', flush=True)
        return
    kport = mdg.free_port()
    cfg = os.path.join(work, 'kamailio.cfg')
    with open(cfg, 'w') as f:
        f.write(KAMAILIO_CFG.format(port=kport, password='s3cret', did='0355550000', user='faxline'))
    klog = open(os.path.join(env.root, 'var', 'log', 'kamailio.log'), 'wb')
    k = subprocess.Popen(['kamailio', '-f', cfg, '-DD', '-E', '-m', '32', '-M', '4'], stdout=klog,
                         stderr=subprocess.STDOUT)
    try:
        env.daemons[-1].stop()
        env.write_config(**{'fax.register_uri': f'sip:127.0.0.1:{kport}', 'fax.register_user': 'faxline',
                            'fax.register_password': 's3cret'})
        d = env.start('ingest-fax')
        t.check('registration: registered with digest authentication',
                d.wait_log(f'register sip:127.0.0.1:{kport}: registered as faxline', 15), d.log_text()[-600:])
        rc, line = peer_call(kport, '0355550000', chart('itu1_standard_g3-1d'), '--ident', 'VIA TRUNK')
        t.check('registration: a call through the registrar is answered and sent', rc == 0, line)
        t.equal('registration: fax_call of the call through the registrar',
                env.sql("SELECT did, result, pages FROM fax_call WHERE remote_ident = 'VIA TRUNK'"),
                [['0355550000', 'ok', '1']])
        d.stop()
        env.write_config(**{'fax.register_password': 'wrong'})
        d = env.start('ingest-fax')
        t.check('registration: a wrong password is refused and logged',
                d.wait_log(f'register sip:127.0.0.1:{kport}: refused', 15), d.log_text()[-600:])
    finally:
        k.terminate()
        k.wait(10)
        klog.close()
        env.write_config(**{'fax.register_uri': '', 'fax.register_user': '', 'fax.register_password': ''})


def in_thread(scenario, *args):
    """a scenario run beside others: an exception is a failure, not a lost thread"""
    try:
        scenario(*args)
    except Exception as e:  # noqa: BLE001 - reported as the scenario's failure
        t.fail(f'{scenario.__name__} ran to the end', f'{type(e).__name__}: {e}')


def main():
    if not os.path.isdir(TIFF) or not os.path.isdir(PBM):
        print(f'skip fax line: {CORPUS} absent', flush=True)
        t.done()
    r = subprocess.run(['make', '-s', '-C', mdg.BUILD, 'tests/tools/faxpeer', 'tests/tools/faxpage2pbm',
                        'ingest/fax/ingest-fax'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if not t.check('faxpeer, faxpage2pbm and ingest-fax build',
                   r.returncode == 0 and all(os.access(mdg.program(p), os.X_OK)
                                             for p in ('faxpeer', 'faxpage2pbm', 'ingest-fax')),
                   r.stdout.decode('utf-8', 'replace')[-500:]):
        t.done()
    only = os.environ.get('FAX_ONLY', '')
    with mdg.Env('fax-line') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'fax.listen': f'127.0.0.1:{port}', 'fax.line_name': LINE,
                            'fax.ident': '+81 3 5555 0000', 'fax.no_train_timeout': '15',
                            'fax.max_calls': '64'})
        d = env.start('ingest-fax')
        if not d.wait_log('listening for SIP', 10):
            t.fail('ingest-fax starts', d.log_text()[-2000:])
            t.done()
        work = tempfile.mkdtemp(prefix='fax-', dir=env.root)
        # the charts (the longest, about 3 minutes of line time) run beside the
        # scenarios that need the same ingest-fax as it is: their DIDs differ,
        # and the line carries them all at once (fax.max_calls 64); the CI
        # budget is 30 minutes
        charts = None
        if not only or 'charts' in only:
            charts = threading.Thread(target=in_thread, args=(scenario_charts, env, port, work))
            charts.start()
        if not only or 'did' in only:
            scenario_did(env, port, work)
        if not only or 'many' in only:
            scenario_many(env, port, work, 20, '03111101', [], 20, '20 calls at once')
        if not only or 'noise' in only:
            scenario_many(env, port, work, 20, '03111102', ['--awgn', '-55', '--delay-ms', '60'], 19,
                          'noise and 60 ms delay, ECM')
        if not only or 'baresip' in only:
            scenario_baresip(env, port, work)
        if charts is not None:
            charts.join()
        if not only or 'offer' in only:
            scenario_offer(env, port, work)
        if not only or 'register' in only:
            scenario_register(env, port, work)
        if not only or 'recovery' in only:
            scenario_recovery(env, port, work)
        t.check('ingest-fax logged no error', ' error: ' not in ''.join(x.log_text() for x in env.daemons),
                '\n'.join(ln for x in env.daemons for ln in x.log_text().splitlines() if ' error: ' in ln)[:800])
    t.done()


main()
