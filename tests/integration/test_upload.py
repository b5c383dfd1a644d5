#!/usr/bin/python3
"""Files uploaded in the reply composer (ticketd/upload.c, sql/014_upload.sql),
against real PostgreSQL, ingest-mail on the Maildir, ticketd, escalationd and
postfix's smtp-sink.

An operator uploads a PDF with a Japanese name (201, the exact document and
row, its SHA-256); a Windows path is cut to its base name and the type
lowered; refused: an empty file (400), no name or a control character in it
(400), a file over ticketd.upload_max_bytes (413), a password zip (422, PPAP;
a plain zip passes), more unsent uploads than a reply may carry (413), an
unknown ticket (404), viewers and admins (403), no CSRF token (403).  The
upload goes in a preview (listed, unticked until confirmed) and a reply (422
unticked; 400 from another ticket's reply); sent, it becomes attachment 0 of
the outgoing message (rows compared, the upload marked used and its bytes
moved to blob), escalationd delivers it and the mail at the sink carries the
exact bytes under the exact name, written as RFC 2231 filename*=.  A used
upload cannot be sent again (400) or deleted (409); an unused one is deleted
(204, then 404).  A reply held for approval keeps its upload through an
edit-approve and reaches the sink with it.  Unused uploads past
ticketd.upload_keep_seconds are swept; used and fresh ones stay.
"""
import hashlib
import io
import os
import shutil
import signal
import struct
import sys
import urllib.parse
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
import test_reply as rp  # noqa: E402
import test_sender as ts  # noqa: E402
from ticketd_http import Client  # noqa: E402

t = mdg.Checks('upload')
USERS = [('op1', 'operator', 'operator-pass-1', '一号 オペ'),
         ('sv1', 'supervisor', 'supervisor-pass-1', '管理 責任者'),
         ('vw1', 'viewer', 'viewer-pass-1', '区 職員'),
         ('ad1', 'admin', 'admin-pass-1', 'システム 管理者')]
MAX_FILE = 200000       # ticketd.upload_max_bytes
MAX_TOTAL = 500000      # ticketd.reply_max_attachment_bytes
NAME = '令和8年度 粗大ごみ収集日程のご案内（中野区・第2版）.pdf'  # long: RFC 2231 continuations
PDF = b'%PDF-1.4\n' + bytes((i * 7 + 3) % 256 for i in range(150000)) + b'\n%%EOF\n'
QUEUE = '承認キュー'
ENC_ERROR = ('a password-protected (encrypted) zip cannot be sent: attach the files themselves'
             ' (no PPAP)')


def login(port, who):
    c = Client(port)
    for u in USERS:
        if u[0] == who and c.login(u[0], u[2]).status != 200:
            raise RuntimeError(f'log-in {who} failed')
    return c


def upload(c, tid, data, name, ctype='application/pdf', csrf=True, headers=None):
    h = {'Content-Type': ctype}
    if name is not None:
        h['X-Filename'] = urllib.parse.quote(name, safe='')
    h.update(headers or {})
    return c.request('POST', f'/api/tickets/{tid}/uploads', body=data, headers=h, csrf=csrf)


def zip_bytes(encrypted):
    """a zip of one file; encrypted: the encryption bit set in its local and
    central headers (what zip -P writes; Python's zipfile cannot encrypt)"""
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w', zipfile.ZIP_STORED) as z:
        z.writestr('申請書.txt', '申請書の本文\n'.encode('utf-8'))
    data = bytearray(b.getvalue())
    if encrypted:
        for sig, off in ((b'PK\x03\x04', 6), (b'PK\x01\x02', 8)):
            at = data.index(sig)
            flags = struct.unpack_from('<H', data, at + off)[0]
            struct.pack_into('<H', data, at + off, flags | 1)
    return bytes(data)


def row(env, uid):
    r = env.sql("SELECT ticket_id, filename, content_type, size, encode(sha256, 'hex'), uploaded_by,"
                " coalesce(used_by_message_id::text, '-'), coalesce(encode(sha256(data), 'hex'), '-')"
                f" FROM reply_upload WHERE id = {uid}")
    return r[0] if r else None


def check_upload(t, env, op, tid):
    r = upload(op, tid, PDF, NAME)
    doc = r.json() or {}
    uid = doc.get('upload_id')
    sha = hashlib.sha256(PDF).hexdigest()
    t.equal('POST uploads: 201 and the document', (r.status, doc),
            (201, {'upload_id': uid, 'filename': NAME, 'content_type': 'application/pdf',
                   'size': len(PDF), 'sha256': sha}))
    t.equal('the row: ticket, name, type, size, hash, uploader, unused, the bytes',
            row(env, uid), [str(tid), NAME, 'application/pdf', str(len(PDF)), sha, 'op1', '-', sha])
    r = upload(op, tid, b'\x89PNG\r\n\x1a\nxx', 'C:\\Users\\op1\\デスクトップ\\地図.png', ctype='Image/PNG; x=y')
    d2 = r.json() or {}
    t.equal('a Windows path: the base name; the type lowered, parameters dropped',
            (r.status, d2.get('filename'), d2.get('content_type'), d2.get('size')),
            (201, '地図.png', 'image/png', 10))
    r = upload(op, tid, b'text', '../../etc/passwd', ctype='')
    d3 = r.json() or {}
    t.equal('../../etc/passwd: passwd, octet-stream without a type',
            (r.status, d3.get('filename'), d3.get('content_type')), (201, 'passwd', 'application/octet-stream'))
    return uid, d2.get('upload_id'), d3.get('upload_id')


def check_refusals(t, env, op, sv, vw, ad, tid):
    cases = [
        ('an empty file: 400', upload(op, tid, b'', 'a.txt'), 400, 'the file is empty'),
        ('no X-Filename: 400', upload(op, tid, b'x', None), 400,
         'X-Filename: the file\'s name is required (percent-encoded UTF-8)'),
        ('a name with a line feed: 400', upload(op, tid, b'x', 'a\nb.txt'), 400,
         'X-Filename: the name is not UTF-8 or holds a control character'),
        ('a name with a right-to-left override: 400', upload(op, tid, b'x', 'invoice\u202efdp.exe'), 400,
         'X-Filename: the name is not UTF-8 or holds a control character'),
        ('a name that is only a folder: 400', upload(op, tid, b'x', 'folder/'), 400,
         'X-Filename: no file name left, or longer than 255 bytes'),
        ('over ticketd.upload_max_bytes: 413', upload(op, tid, b'x' * (MAX_FILE + 1), 'big.bin'), 413,
         'request body too large'),
        ('one and a half times the limit: read to its end, then 413 (no reset connection)',
         upload(op, tid, b'x' * (MAX_FILE * 3 // 2), 'big.bin'), 413, 'request body too large'),
        ('an encrypted zip (PPAP): 422', upload(op, tid, zip_bytes(True), '書類.zip', 'application/zip'), 422,
         ENC_ERROR),
        ('an unknown ticket: 404', upload(op, 99999, b'x', 'a.txt'), 404, 'no such ticket'),
        ('a viewer: 403', upload(vw, tid, b'x', 'a.txt'), 403, 'not allowed for this role'),
        ('an admin: 403', upload(ad, tid, b'x', 'a.txt'), 403, 'not allowed for this role'),
        ('no CSRF token: 403', upload(op, tid, b'x', 'a.txt', csrf=False), 403, 'missing or wrong CSRF token'),
    ]
    for what, r, status, err in cases:
        t.equal(what, (r.status, (r.json() or {}).get('error')), (status, err))
    r = upload(op, tid, b'x' * MAX_FILE, 'exactly.bin', 'application/octet-stream')
    t.equal('exactly ticketd.upload_max_bytes: 201', (r.status, (r.json() or {}).get('size')), (201, MAX_FILE))
    r2 = upload(sv, tid, zip_bytes(False), '書類.zip', 'application/zip')
    t.equal('a plain zip, by a supervisor: 201', r2.status, 201)
    # op1's unsent now: the PDF (150 016), 10 + 4 bytes and the 200 000 (the supervisor's zip is not
    # theirs): the next 200 000 passes 500 000
    r3 = upload(op, tid, b'y' * MAX_FILE, 'more.bin', 'application/octet-stream')
    t.equal('the operator\'s unsent uploads on the ticket past ticketd.reply_max_attachment_bytes: 413',
            (r3.status, (r3.json() or {}).get('error')),
            (413, f'your unsent uploads on this ticket would pass 20 files or {MAX_TOTAL} bytes: remove some first'))
    t.equal('nothing refused was stored', env.sql(
        "SELECT count(*) FROM reply_upload WHERE filename IN ('a.txt', 'big.bin', 'more.bin', 'fdp.exe')"
        f" OR (filename = '書類.zip' AND uploaded_by = 'op1')"), [['0']])
    for u in ((r.json() or {}).get('upload_id'), (r2.json() or {}).get('upload_id')):
        t.equal(f'DELETE the unused upload {u}: 204',
                op.request('DELETE', f'/api/tickets/{tid}/uploads/{u}').status, 204)


def check_render(t, op, sv, tid, uid, uid_png, uid_txt):
    r = op.request('POST', f'/api/tickets/{tid}/reply/render', json_body={})
    d = r.json() or {}
    t.equal('render tells the composer the limits', (r.status, d.get('limits')),
            (200, {'upload_max_bytes': MAX_FILE, 'attachments_max_bytes': MAX_TOTAL}))
    t.equal('render lists the operator\'s unsent uploads, oldest first',
            [(x.get('upload_id'), x.get('filename'), x.get('content_type'), x.get('size'), len(x.get('sha256', '')))
             for x in d.get('uploads', [])],
            [(uid, NAME, 'application/pdf', len(PDF), 64), (uid_png, '地図.png', 'image/png', 10, 64),
             (uid_txt, 'passwd', 'application/octet-stream', 4, 64)])
    t.equal('and not a colleague\'s',
            (sv.request('POST', f'/api/tickets/{tid}/reply/render', json_body={}).json() or {}).get('uploads'), [])


def check_preview_and_send(t, env, op, tid, msg_in, uid):
    to = [rp.CITIZEN[1]]
    att = [{'upload_id': uid}, {'message_id': msg_in, 'idx': 0}]
    d = rp.draft(msg_in, to, '', '収集日程の案内を添付します。\n', att=att)
    d['confirmed_attachments'] = [att[1]]
    r = op.request('POST', f'/api/tickets/{tid}/reply/preview', json_body=d)
    p = r.json() or {}
    t.equal('preview: the upload listed first, unticked',
            (r.status, p.get('attachments'), p.get('unconfirmed_attachments')),
            (200, [{'upload_id': uid, 'filename': NAME, 'content_type': 'application/pdf', 'size': len(PDF)},
                   {'message_id': msg_in, 'idx': 0, 'filename': rp.PDF_NAME, 'content_type': 'application/pdf',
                    'size': len(rp.PDF)}],
             [{'upload_id': uid}]))
    t.equal('preview: what the citizen\'s mailer reads',
            [(a['filename'], a['size']) for a in (p.get('decoded') or {}).get('attachments', [])],
            [(NAME, len(PDF)), (rp.PDF_NAME, len(rp.PDF))])
    r = op.request('POST', f'/api/tickets/{tid}/reply', json_body=d)
    t.equal('send with the upload unticked: 422 naming it',
            (r.status, (r.json() or {}).get('unconfirmed_attachments')), (422, [{'upload_id': uid}]))
    d['confirmed_attachments'] = att
    r = op.request('POST', f'/api/tickets/{tid}/reply', json_body=d)
    s = r.json() or {}
    oid, mid = s.get('outbound_id'), s.get('message_id')
    t.equal('send: 201 queued', (r.status, s.get('state')), (201, 'queued'))
    sha = hashlib.sha256(PDF).hexdigest()
    t.equal('the reply\'s attachment rows: the upload, then the citizen\'s map',
            env.sql("SELECT idx, filename, content_type, size, encode(sha256, 'hex') FROM attachment"
                    f" WHERE message_id = {mid} ORDER BY idx"),
            [['0', NAME, 'application/pdf', str(len(PDF)), sha],
             ['1', rp.PDF_NAME, 'application/pdf', str(len(rp.PDF)), hashlib.sha256(rp.PDF).hexdigest()]])
    t.equal('the upload: used by the message, its bytes moved to blob',
            (row(env, uid)[6:], env.sql(f"SELECT size, encode(sha256(data), 'hex') FROM blob"
                                        f" WHERE sha256 = decode('{sha}', 'hex')")),
            ([str(mid), '-'], [[str(len(PDF)), sha]]))
    x = op.get(f'/api/tickets/{tid}').json() or {}
    out = [m for m in x.get('messages', []) if m.get('id') == mid]
    t.equal('the ticket page: the reply carries the file',
            [(a.get('filename'), a.get('size')) for a in (out[0].get('attachments') if out else [])],
            [(NAME, len(PDF)), (rp.PDF_NAME, len(rp.PDF))])
    return oid, mid, d


def sink_mail(sink, env, oid):
    raw = rp.raw_of(env, oid)
    got = [m for m in ts.sink_mails(sink) if ts.lf(raw) in m[2]]
    return raw, got


def check_delivered(t, env, sink, oid):
    t.check('escalationd sent it', mdg.wait_for(lambda: env.sql(
        f'SELECT state FROM outbound_mail WHERE id = {oid}') == [['sent']], 20, 0.1),
        str(env.sql(f'SELECT state, last_error FROM outbound_mail WHERE id = {oid}')))
    mdg.wait_for(lambda: len(sink_mail(sink, env, oid)[1]) == 1, 10, 0.2)
    raw, got = sink_mail(sink, env, oid)
    t.equal('the relay got the stored bytes once', len(got), 1)
    m = rp.parse(got[0][2] if got else raw)
    parts = [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True))
             for p in m.walk() if p.get_content_disposition() == 'attachment']
    t.equal('at the sink: the upload\'s exact name, type and bytes, then the map',
            [(n, ct, hashlib.sha256(b).hexdigest(), len(b)) for n, ct, b in parts],
            [(NAME, 'application/pdf', hashlib.sha256(PDF).hexdigest(), len(PDF)),
             (rp.PDF_NAME, 'application/pdf', hashlib.sha256(rp.PDF).hexdigest(), len(rp.PDF))])
    t.check('the bytes themselves equal', parts and parts[0][2] == PDF)
    at = raw.find(b'Content-Disposition: attachment')
    t.check('the name as RFC 2231 (filename*0*=UTF-8\'\'%E4%BB%A4...)',
            b"filename*0*=UTF-8''%E4%BB%A4%E5%92%8C8" in raw, raw[at:at + 600])
    return m


def check_used(t, env, op, tid, msg_in, uid, uid_png, uid_txt, d):
    again = dict(d, force=True, attachments=[{'upload_id': uid}], confirmed_attachments=[{'upload_id': uid}])
    r = op.request('POST', f'/api/tickets/{tid}/reply/preview', json_body=again)
    t.equal('a used upload in a new reply: 400', (r.status, (r.json() or {}).get('error')),
            (400, f'attachments: upload {uid} was sent already: choose it among the ticket\'s attachments'))
    r = op.request('DELETE', f'/api/tickets/{tid}/uploads/{uid}')
    t.equal('DELETE a used upload: 409', (r.status, (r.json() or {}).get('error')),
            (409, 'the upload was sent with a reply: it stays with the message'))
    r = op.request('DELETE', f'/api/tickets/{tid + 1000}/uploads/{uid_png}')
    t.equal('DELETE under another ticket\'s path: 404', r.status, 404)
    r = op.request('DELETE', f'/api/tickets/{tid}/uploads/{uid_png}')
    t.equal('DELETE an unused upload: 204, the row gone', (r.status, r.body, row(env, uid_png)), (204, b'', None))
    r = op.request('DELETE', f'/api/tickets/{tid}/uploads/{uid_png}')
    t.equal('DELETE it again: 404', (r.status, (r.json() or {}).get('error')),
            (404, 'no such upload on this ticket'))
    return uid_txt


def check_other_ticket(t, env, op, tid, other_tid, msg_in):
    r = upload(op, other_tid, b'other ticket\n', 'other.txt', 'text/plain')
    u = (r.json() or {}).get('upload_id')
    d = rp.draft(msg_in, [rp.CITIZEN[1]], '', '本文\n', att=[{'upload_id': u}], force=True)
    for path in ('reply/preview', 'reply'):
        r = op.request('POST', f'/api/tickets/{tid}/{path}', json_body=d)
        t.equal(f'{path}: an upload of another ticket: 400', (r.status, (r.json() or {}).get('error')),
                (400, f'attachments: upload {u} is not one of this ticket\'s'))
    r = op.request('POST', f'/api/tickets/{tid}/reply/preview',
                   json_body=dict(d, attachments=[{'upload_id': 987654}]))
    t.equal('an upload that does not exist: 400', r.status, 400)
    t.equal('still unused', row(env, u)[6], '-')


def check_approval(t, env, op, sv, ad, sink):
    env.maildir_drop(rp.citizen_mail('held-up@example.jp', subject='承認の件', body='承認の件です。\n', pdf=False))
    tid, msg = rp.wait_ticket(env, 'held-up@example.jp')
    r = ad.request('PUT', f'/api/admin/queues/{urllib.parse.quote(QUEUE)}/settings',
                   json_body={'approval_required': True})
    t.equal('the queue needs approval', r.status, 200)
    env.sql(f"UPDATE ticket SET queue = '{QUEUE}' WHERE id = {tid}")
    data = '申請書の控え\n'.encode('utf-8') * 50
    u = (upload(op, tid, data, '申請書（控え）.txt', 'text/plain').json() or {}).get('upload_id')
    att = [{'upload_id': u}]
    s = op.request('POST', f'/api/tickets/{tid}/reply', json_body=rp.draft(msg, [rp.CITIZEN[1]], '', '控えです。\n',
                                                                           att=att)).json() or {}
    oid, mid = s.get('outbound_id'), s.get('message_id')
    t.equal('held for approval with the upload as attachment 0 of its message',
            (s.get('state'), env.sql(f'SELECT idx, filename, size FROM attachment WHERE message_id = {mid}'),
             row(env, u)[6]),
            ('awaiting_approval', [['0', '申請書（控え）.txt', str(len(data))]], str(mid)))
    a = sv.get(f'/api/outbound/{oid}').json() or {}
    t.equal('the stored draft names it as that attachment; the approver sees it',
            ((a.get('draft') or {}).get('attachments'), [(x.get('filename'), x.get('size')) for x in a.get('attachments', [])]),
            ([{'message_id': mid, 'idx': 0}], [('申請書（控え）.txt', len(data))]))
    edit = {'subject': f'控えの送付 [受付番号:{tid}]', 'body': '修正後: 控えを送ります。\n',
            'confirmed_recipients': [rp.CITIZEN[1]]}
    r = sv.request('POST', f'/api/outbound/{oid}/edit-approve', json_body=edit)
    t.equal('edit-approve without ticking the file: 422 naming it',
            (r.status, (r.json() or {}).get('unconfirmed_attachments')), (422, [{'message_id': mid, 'idx': 0}]))
    r = sv.request('POST', f'/api/outbound/{oid}/edit-approve',
                   json_body=dict(edit, confirmed_attachments=[{'message_id': mid, 'idx': 0}]))
    t.equal('edit-approve with it ticked: 200 edited', (r.status, (r.json() or {}).get('review')), (200, 'edited'))
    m = check_sent_file(t, env, sink, oid)
    parts = [(p.get_filename(), p.get_payload(decode=True)) for p in m.walk()
             if p.get_content_disposition() == 'attachment']
    t.equal('the edited mail at the sink keeps the file', parts, [('申請書（控え）.txt', data)])
    t.equal('and the edited body', m.get_body(('plain',)).get_content(), '修正後: 控えを送ります。\r\n')


def check_sent_file(t, env, sink, oid):
    t.check('the approved reply was sent', mdg.wait_for(lambda: env.sql(
        f'SELECT state FROM outbound_mail WHERE id = {oid}') == [['sent']], 20, 0.1))
    mdg.wait_for(lambda: len(sink_mail(sink, env, oid)[1]) == 1, 10, 0.2)
    raw, got = sink_mail(sink, env, oid)
    t.equal('the relay got it once', len(got), 1)
    return rp.parse(got[0][2] if got else raw)


def check_sweep(t, env, tick, op, tid, uid_used, uid_old):
    fresh = (upload(op, tid, b'fresh\n', 'fresh.txt', 'text/plain').json() or {}).get('upload_id')
    env.sql(f"UPDATE reply_upload SET uploaded_at = now() - interval '2 days' WHERE id IN ({uid_old}, {uid_used})")
    mark = tick.log_text().count('configuration reloaded')
    tick.signal(signal.SIGHUP)  # a reload sweeps at the next tick
    mdg.wait_for(lambda: tick.log_text().count('configuration reloaded') > mark, 5)
    gone = mdg.wait_for(lambda: row(env, uid_old) is None, 10, 0.1)
    t.check('the sweep deleted the old unused upload', gone)
    t.equal('it kept the used one and the fresh one',
            (row(env, uid_used)[6] != '-', row(env, fresh) is not None), (True, True))
    t.check('the sweep logged it', 'deleted 1 unsent upload older than 86400 seconds' in tick.log_text())


def main():
    with mdg.Env('upload') as env:
        env.start_db()
        sink = mdg.SmtpSink(env).start()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'mail.from_addr': rp.FROM_ADDR,
                            'mail.from_name': rp.FROM_NAME, 'mail.message_id_domain': rp.MSGID_DOMAIN,
                            'ticketd.send_delay_seconds': '1', 'ticketd.upload_max_bytes': str(MAX_FILE),
                            'ticketd.reply_max_attachment_bytes': str(MAX_TOTAL)})
        ts.sender_config(env, sink.port)
        for u in USERS:
            env.add_user(*u)
        env.start('ingest-mail')
        tick = env.start('ticketd')
        esc = env.start('escalationd')
        env.maildir_drop(rp.citizen_mail('up-other@example.jp', subject='別件', body='別件です。\n', pdf=False))
        other_tid, _ = rp.wait_ticket(env, 'up-other@example.jp')
        env.maildir_drop(rp.citizen_mail('up-main@example.jp'))
        tid, msg_in = rp.wait_ticket(env, 'up-main@example.jp')
        if tid is None or not mdg.wait_for(lambda: ts_up(port), 10):
            t.fail('ticketd and the tickets are up', tick.log_text()[-1500:])
            t.done()
        op, sv, vw, ad = (login(port, u[0]) for u in USERS)
        uid, uid_png, uid_txt = check_upload(t, env, op, tid)
        check_refusals(t, env, op, sv, vw, ad, tid)
        check_render(t, op, sv, tid, uid, uid_png, uid_txt)
        oid, mid, d = check_preview_and_send(t, env, op, tid, msg_in, uid)
        check_delivered(t, env, sink, oid)
        check_other_ticket(t, env, op, tid, other_tid, msg_in)
        old = check_used(t, env, op, tid, msg_in, uid, uid_png, uid_txt, d)
        check_approval(t, env, op, sv, ad, sink)
        check_sweep(t, env, tick, op, tid, uid, old)
        t.check('ticketd alive, no errors logged', tick.alive() and '] error:' not in tick.log_text(),
                tick.log_text()[-2000:])
        t.check('escalationd alive', esc.alive())
    t.done()


def ts_up(port):
    import socket
    try:
        socket.create_connection(('127.0.0.1', port), 0.2).close()
        return True
    except OSError:
        return False


if __name__ == '__main__':
    main()
