#!/usr/bin/python3
"""Fax items end to end (issue 7), with real PostgreSQL, ingest-mail and ticketd.

Fax-to-mail: mails from the configured fax senders dropped into the Maildir
become fax tickets -- a 3-page PDF (made here with cairo by tests/tools/faxgen)
and a 3-page TIFF (libtiff, standard resolution) give 3 pages each, the DID
from the X-Fax-DID header or the subject pattern, routed by match_did rules to
the expected queue.  A corrupt PDF keeps the mail (as a mail item) and logs it
with the item id; a good PDF with a corrupt TIFF is a fax item flagged
incomplete.  Ordinary mail stays mail.

Line faxes: the rows ingest-fax commits (fax_call, inbound_item, fax_item,
fax_page) written here in SQL become a ticket whose subject and timeline name
only the DID; the caller goes to the contact store (audited).  The viewer API
lists the pages, decodes them to PNG of the right size (standard pages doubled),
serves the original TIFF, shows the caller only with a reason (and logs the
read).  The retention purge deletes the pages and clears the caller.
"""
import hashlib
import os
import struct
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import formatdate

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client, _listening  # noqa: E402

t = mdg.Checks('fax_mail')
ADMIN = ('fx-admin', 'admin-pass-fax', '管理者')
OPERATOR = ('fx-op', 'operator-pass-fax', '受付 花子')
VIEWER = ('fx-view', 'viewer-pass-fax', '区 職員')
FAXGEN = os.path.join(mdg.BUILD, 'tests', 'tools', 'faxgen')
RULES = [('区民課FAX', {'match_did': '03-1234-5678', 'set_queue': 'kumin'}),
         ('福祉課FAX', {'match_did': '0355550000', 'set_queue': 'fukushi'}),
         ('SUB 77', {'match_did': '77', 'set_queue': 'sub77'})]
_seq = [0]


def faxgen(kind, n, res='fine'):
    path = os.path.join(WORK, f'{kind}-{n}-{res}-{time.time_ns()}.{kind}')
    subprocess.run([FAXGEN, kind, path, str(n), res], check=True)
    with open(path, 'rb') as f:
        return f.read()


def fax_mail(sender, subject, attachments, headers=None):
    _seq[0] += 1
    m = EmailMessage()
    m['From'] = sender
    m['To'] = 'madoguchi@city.example.lg.jp'
    m['Subject'] = subject
    m['Date'] = formatdate(1795000000 + _seq[0])
    m['Message-ID'] = f'<fax-{_seq[0]}-{time.time_ns()}@fax.example.net>'
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content('FAXを受信しました。\n')
    for name, ctype, data in attachments:
        main, sub = ctype.split('/')
        m.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return bytes(m)


def q1(env, sql):
    r = env.sql(sql)
    return r[0] if r else None


def ticket_of(env, subject_like, timeout=20):
    sql = ("SELECT t.id, t.channel, t.subject, t.queue, array_to_string(t.flags, ','),"
           " m.id, m.inbound_item_id FROM ticket t JOIN message m ON m.ticket_id = t.id"
           " WHERE t.subject LIKE '%s' ORDER BY t.id DESC LIMIT 1" % subject_like)
    r = mdg.wait_for(lambda: env.sql(sql), timeout)
    return r[0] if r else None


def pages_of(env, item):
    return env.sql('SELECT page_no, width_px, height_px, x_dpi, y_dpi, compression, source_name'
                   f' FROM fax_page WHERE inbound_item_id = {item} ORDER BY page_no')


def png_size(data):
    if data[:8] != b'\x89PNG\r\n\x1a\n' or data[12:16] != b'IHDR':
        return None
    return struct.unpack('>II', data[16:24])


def c_raw(mid):
    op = Client(PORT)
    op.login(OPERATOR[0], OPERATOR[1])
    return op.get(f'/api/messages/{mid}/raw').header('Content-Type')


def check_pdf(t, env):
    pdf = faxgen('pdf', 3)
    env.maildir_drop(fax_mail('FAX受信 <fax@fax.example.net>', 'FAX受信のお知らせ',
                              [('scan.pdf', 'application/pdf', pdf)],
                              {'X-Fax-DID': '03-1234-5678'}))
    tk = ticket_of(env, 'FAX 03-1234-5678 (3枚)')
    if not t.check('PDF mail: a fax ticket', tk is not None):
        return None
    t.equal('PDF mail: channel, subject, queue by match_did, no flag', tk[1:5],
            ['fax', 'FAX 03-1234-5678 (3枚)', 'kumin', ''])
    item = tk[6]
    t.equal('PDF mail: fax_item (origin mail, DID from the header, 3 pages, complete)',
            q1(env, 'SELECT origin, did, pages, complete, result_text, fax_call_id IS NULL'
               f' FROM fax_item WHERE inbound_item_id = {item}'),
            ['mail', '0312345678', '3', 't', 'scan.pdf: 3 pages', 't'])
    # A4 (595.28 x 841.89 pt) fitted to 1728 px at 204 dpi, 196 dpi down
    h = str(int(-(-841.89 * 1728 / 595.28 * 196 // 204)))
    t.equal('PDF mail: 3 pages rendered at 204x196 dpi, 1728 wide, G4',
            pages_of(env, item), [[str(n), '1728', h, '204', '196', 't6', 'scan.pdf']
                                  for n in (1, 2, 3)])
    t.equal('PDF mail: the raw download is the mail', c_raw(tk[5]), 'message/rfc822')
    t.equal('PDF mail: the item keeps the mail as raw bytes',
            q1(env, f"SELECT channel, position('scan.pdf' in convert_from(raw, 'UTF8')) > 0"
               f" FROM inbound_item WHERE id = {item}"), ['fax', 't'])
    return tk


def check_tiff(t, env):
    tif = faxgen('tiff', 3, 'standard')
    env.maildir_drop(fax_mail('scanner@city.example.lg.jp', 'FAX to 03-5555-0000 受信',
                              [('fax0001.tif', 'image/tiff', tif)]))
    tk = ticket_of(env, 'FAX 03-5555-0000 (3枚)')
    if not t.check('TIFF mail: a fax ticket', tk is not None):
        return None
    t.equal('TIFF mail: DID from the subject pattern, routed', tk[1:5],
            ['fax', 'FAX 03-5555-0000 (3枚)', 'fukushi', ''])
    t.equal('TIFF mail: pages split as received (standard resolution, G4)',
            pages_of(env, tk[6]), [[str(n), '1728', '1100', '204', '98', 't6', 'fax0001.tif']
                                   for n in (1, 2, 3)])
    return tk


def check_broken(t, env, ingest):
    env.maildir_drop(fax_mail('fax@fax.example.net', 'FAX 壊れたPDF',
                              [('broken.pdf', 'application/pdf', b'%PDF-1.4\n1 0 obj garbage')],
                              {'X-Fax-DID': '0312345678'}))
    tk = ticket_of(env, 'FAX 壊れたPDF')
    if t.check('corrupt PDF: the mail is kept and becomes a ticket', tk is not None):
        t.equal('corrupt PDF: stored as a mail item, no fax rows', [tk[1], q1(
            env, f'SELECT count(*) FROM fax_item WHERE inbound_item_id = {tk[6]}')[0]],
            ['mail', '0'])
        needle = f'item={tk[6]}: fax-to-mail'
        t.check('corrupt PDF: logged with the item id', mdg.wait_for(
            lambda: needle in ingest.log_text() and 'broken.pdf: not a readable PDF'
            in ingest.log_text(), 5), ingest.log_text()[-1500:])
    pdf = faxgen('pdf', 3)
    env.maildir_drop(fax_mail('fax@fax.example.net', 'FAX half', [
        ('ok.pdf', 'application/pdf', pdf), ('bad.tif', 'image/tiff', b'II*\x00garbage')],
        {'X-Fax-DID': '0355550000'}))
    tk = mdg.wait_for(lambda: (lambda r: r if r and r[0] != TIFF_TICKET else None)(
        ticket_of(env, 'FAX 03-5555-0000 (3枚)', 0.1)), 20)
    if t.check('PDF + corrupt TIFF: a fax ticket', tk is not None):
        t.equal('PDF + corrupt TIFF: flagged fax_incomplete', tk[4], 'fax_incomplete')
        r = q1(env, f'SELECT pages, complete, result_text FROM fax_item'
               f' WHERE inbound_item_id = {tk[6]}')
        t.check('PDF + corrupt TIFF: 3 pages, incomplete, the failure named',
                r[:2] == ['3', 'f'] and r[2].startswith('ok.pdf: 3 pages; bad.tif: ')
                and r[2].endswith('(0 pages kept)'), repr(r))


def check_ordinary(t, env):
    m = EmailMessage()
    m['From'] = '区民 <citizen@example.jp>'
    m['To'] = 'madoguchi@city.example.lg.jp'
    m['Subject'] = '普通のメール'
    m['Message-ID'] = f'<plain-{time.time_ns()}@example.jp>'
    m.set_content('こんにちは\n')
    m.add_attachment(faxgen('pdf', 1), maintype='application', subtype='pdf', filename='a.pdf')
    env.maildir_drop(bytes(m))
    tk = ticket_of(env, '普通のメール')
    t.check('ordinary mail with a PDF from a citizen stays mail',
            tk is not None and tk[1] == 'mail' and q1(
                env, f'SELECT count(*) FROM fax_item WHERE inbound_item_id = {tk[6]}')[0] == '0')


def page_file(res):
    return faxgen('tiff', 1, res)


def insert_line_fax(env, did, sub, caller, tsi, pages, complete):
    """What ingest-fax commits at the end of a call (sql/021), as the owner."""
    _seq[0] += 1
    vals = ','.join(
        f"((SELECT id FROM i), {n + 1}, decode('{p.hex()}', 'hex'), 1728, {h}, 204, {y}, 't6', '')"
        for n, (p, h, y) in enumerate(pages))
    env.sql(f"""
      WITH c AS (INSERT INTO fax_call (direction, line, sip_call_id, did, caller, remote_ident,
                   subaddress, transport, ecm, started_at, answered_at, ended_at, pages, t30_code,
                   t30_text, result, end_reason)
                 VALUES ('in', 'main', 'call-{_seq[0]}', '{did}', '{caller}', '{tsi}', '{sub}',
                   't38', true, now(), now(), now(), {len(pages)}, {0 if complete else 48},
                   '{'OK' if complete else 'Disconnected after page'}',
                   '{'ok' if complete else 'incomplete'}', 'BYE') RETURNING id),
           i AS (INSERT INTO inbound_item (channel, source, source_key, raw, raw_size, raw_sha256,
                   arrived_at, stored_at)
                 SELECT 'fax', 'fax:main', 'call-{_seq[0]}', '\\x7b7d', 2, sha256('\\x7b7d'),
                   now(), now() FROM c RETURNING id),
           u AS (UPDATE fax_call SET inbound_item_id = (SELECT id FROM i)
                 WHERE id = (SELECT id FROM c)),
           f AS (INSERT INTO fax_item (inbound_item_id, origin, fax_call_id, did, caller,
                   remote_ident, subaddress, pages, complete, result_text)
                 SELECT i.id, 'line', c.id, '{did}', '{caller}', '{tsi}', '{sub}', {len(pages)},
                   {str(complete).lower()}, 'T.30: {'OK' if complete else 'Disconnected'}'
                 FROM i, c),
           p AS (INSERT INTO fax_page (inbound_item_id, page_no, tiff, width_px, height_px,
                   x_dpi, y_dpi, compression, source_name) VALUES {vals})
      SELECT pg_notify('inbound', (SELECT id FROM i)::text)""")


def check_line(t, env, port):
    fine, std = page_file('fine'), page_file('standard')
    insert_line_fax(env, '0312345678', '', '0312223333', 'ACME FAX', [(fine, 2200, 196),
                                                                      (std, 1100, 98)], False)
    tk = ticket_of(env, 'FAX 03-1234-5678 (2枚)')
    if not t.check('line fax: a ticket', tk is not None):
        return
    t.equal('line fax: subject names the DID only, routed, flagged incomplete', tk[1:5],
            ['fax', 'FAX 03-1234-5678 (2枚)', 'kumin', 'fax_incomplete'])
    tid, mid = tk[0], tk[5]
    hist = env.sql(f"SELECT coalesce(detail, '') FROM ticket_event WHERE ticket_id = {tid}")
    t.check('line fax: no caller or TSI in the subject or timeline',
            all('0312223333' not in r[0] and 'ACME' not in r[0] for r in hist)
            and '0312223333' not in tk[2], repr(hist))
    t.equal('line fax: the caller is the ticket\'s contact (fax number, TSI), audited',
            q1(env, 'SELECT c.fax, c.note, a.login, a.action FROM ticket_contact tc'
               ' JOIN contact c ON c.id = tc.contact_id JOIN contact_access a'
               f' ON a.contact_id = c.id WHERE tc.ticket_id = {tid}'),
            ['0312223333', 'TSI: ACME FAX', 'intake', 'create'])
    insert_line_fax(env, '0399999999', '77', '', '', [(std, 1100, 98)], True)
    tk2 = ticket_of(env, 'FAX 03-9999-9999 (1枚)')
    t.check('line fax: the subaddress routes like a DID, no contact when no caller',
            tk2 is not None and tk2[3] == 'sub77' and tk2[4] == '' and q1(
                env, f'SELECT count(*) FROM ticket_contact WHERE ticket_id = {tk2[0]}')[0] == '0',
            repr(tk2))
    check_viewer(t, env, port, tid, mid)
    check_purge(t, env, tid, tk[6])


def check_viewer(t, env, port, tid, mid):
    op = Client(port)
    op.login(OPERATOR[0], OPERATOR[1])
    r = op.get(f'/api/messages/{mid}/fax')
    d = r.json() or {}
    t.equal('API: fax facts (no contact without a reason)',
            (r.status, d.get('did'), d.get('origin'), d.get('pages'), d.get('complete'),
             d.get('contact'), (d.get('call') or {}).get('transport'),
             (d.get('call') or {}).get('result')),
            (200, '0312345678', 'line', 2, False, None, 't38', 'incomplete'))
    t.equal('API: page list', [(p['n'], p['width'], p['height'], p['x_dpi'], p['y_dpi'],
                                p['compression']) for p in d.get('page_list', [])],
            [(1, 1728, 2200, 204, 196, 't6'), (2, 1728, 1100, 204, 98, 't6')])
    before = int(q1(env, "SELECT count(*) FROM contact_access WHERE action = 'read'")[0])
    r = op.get(f'/api/messages/{mid}/fax?reason=%E6%8A%98%E3%82%8A%E8%BF%94%E3%81%97')
    t.equal('API: caller and TSI with a reason', (r.status, (r.json() or {}).get('contact')),
            (200, {'caller': '0312223333', 'tsi': 'ACME FAX'}))
    t.equal('API: that read is in the contact log',
            q1(env, "SELECT count(*), max(login), max(reason) FROM contact_access"
               " WHERE action = 'read'"), [str(before + 1), OPERATOR[0], '折り返し'])
    r = op.get(f'/api/messages/{mid}/fax/1.png')
    t.equal('PNG: fine page 1728x2200, private cache',
            (r.status, r.header('Content-Type'), png_size(r.body),
             (r.header('Cache-Control') or '').startswith('private')),
            (200, 'image/png', (1728, 2200), True))
    r = op.get(f'/api/messages/{mid}/fax/2.png')
    t.equal('PNG: standard page doubled vertically to 1728x2200', (r.status, png_size(r.body)),
            (200, (1728, 2200)))
    r = op.get(f'/api/messages/{mid}/fax/2.tif')
    want = q1(env, "SELECT encode(sha256(p.tiff), 'hex') FROM fax_page p JOIN message m"
              f" ON m.inbound_item_id = p.inbound_item_id WHERE m.id = {mid} AND p.page_no = 2")[0]
    t.equal('TIF: the page as stored', (r.status, r.header('Content-Type'),
                                        hashlib.sha256(r.body).hexdigest()),
            (200, 'image/tiff', want))
    r = op.get(f'/api/messages/{mid}/raw')
    t.equal('raw of a line fax: its call record as JSON',
            (r.status, r.header('Content-Type'), r.header('Content-Disposition'), r.body),
            (200, 'application/json', f'attachment; filename="fax-call-{mid}.json"', b'{}'))
    t.equal('404 for a page that is not there', op.get(f'/api/messages/{mid}/fax/3.png').status,
            404)
    vw = Client(port)
    vw.login(VIEWER[0], VIEWER[1])
    t.equal('viewer: 403 on fax pages (correspondence)',
            (vw.get(f'/api/messages/{mid}/fax').status,
             vw.get(f'/api/messages/{mid}/fax/1.png').status), (403, 403))


def check_purge(t, env, tid, item):
    env.sql(f"UPDATE ticket SET purged_at = now() WHERE id = {tid}")
    t.equal('purge: pages deleted, caller and TSI cleared on fax_item and fax_call',
            q1(env, f'SELECT (SELECT count(*) FROM fax_page WHERE inbound_item_id = {item}),'
               f' f.caller, f.remote_ident, c.caller, c.remote_ident FROM fax_item f'
               f' JOIN fax_call c ON c.id = f.fax_call_id WHERE f.inbound_item_id = {item}'),
            ['0', '', '', '', ''])


def check_grants(t, env):
    r = subprocess.run(['psql', '-X', '-q', '-At', '-h', env.pg.sockdir, '-p', str(env.pg.port),
                        '-U', 'madoguchi_ticketd', '-d', 'madoguchi', '-c',
                        'SELECT caller FROM fax_item LIMIT 1'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t.check('ticketd\'s role cannot read fax_item.caller directly',
            r.returncode != 0 and 'permission denied' in r.stderr, r.stderr)


PORT = None
TIFF_TICKET = None  # the id of the TIFF mail's ticket (same subject as the half one)


def main():
    global WORK, PORT
    if not os.path.exists(FAXGEN):
        subprocess.run(['make', '-C', mdg.BUILD, 'tests/tools/faxgen'], check=True,
                       stdout=subprocess.DEVNULL)
    with mdg.Env('fax_mail') as env:
        WORK = env.root
        env.start_db()
        port = PORT = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}',
                            'ingest_mail.fax_senders': 'fax.example.net, scanner@city.example.lg.jp',
                            'ingest_mail.fax_did_header': 'X-Fax-DID',
                            'ingest_mail.fax_did_subject': 'FAX to ([0-9-]+)'})
        env.add_user(ADMIN[0], 'admin', ADMIN[1], ADMIN[2])
        env.add_user(OPERATOR[0], 'operator', OPERATOR[1], OPERATOR[2])
        env.add_user(VIEWER[0], 'viewer', VIEWER[1], VIEWER[2])
        ingest = env.start('ingest-mail')
        tick = env.start('ticketd')
        if not mdg.wait_for(lambda: _listening(port), 10):
            t.fail('ticketd starts', tick.log_text()[-2000:])
            t.done()
        adm = Client(port)
        adm.login(ADMIN[0], ADMIN[1])
        for name, fields in RULES:
            r = adm.request('POST', '/api/admin/rules', json_body=dict(fields, name=name))
            t.equal(f'rule {name} created', r.status, 201)
        check_pdf(t, env)
        global TIFF_TICKET
        tk = check_tiff(t, env)
        TIFF_TICKET = tk[0] if tk else None
        check_broken(t, env, ingest)
        check_ordinary(t, env)
        check_line(t, env, port)
        check_grants(t, env)
        if t.failed:
            print(ingest.log_text()[-3000:])
            print(tick.log_text()[-3000:])
    t.done()


if __name__ == '__main__':
    main()
