#!/usr/bin/python3
"""Operators answer a ticket by mail (ticketd/reply.c), against real
PostgreSQL, ingest-mail on the Maildir and ticketd.

A Japanese ISO-2022-JP mail with a PDF comes in; the operator lists the
templates, renders 受付確認 for the ticket (exact body), previews and sends
a reply with the PDF.  The stored rows are compared exactly, and the raw
bytes are read back with Python's email package: decoded tagged subject,
From, To, no Bcc header, In-Reply-To, References, Date, Message-ID, body
and attachment byte for byte.  Then the mis-send rules: 422 for what is
not ticked, 409 for a second answer to the same mail (and force), the
cancel window (200 inside, 409 after), several citizens moved to Bcc,
ISO-2022-JP for a docomo.ne.jp phone, an attachment of another ticket,
viewer 403, CSRF 403, unknown template variables (422 on render, 400 on an
admin's PUT), the admin's atomic template write, the ticket page's
delivery state and the live event.
"""
import email
import email.policy
import email.utils
import json
import os
import shutil
import sys
import time
import urllib.parse
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client, EventStream  # noqa: E402

t = mdg.Checks('reply')

FROM_ADDR = 'kucho-soudan@city.example.lg.jp'
FROM_NAME = '中野区 区民相談窓口'
MSGID_DOMAIN = 'city.example.lg.jp'
CITIZEN = ('桑田 花子', 'hanako.kuwata@example.jp')
SUBJECT = '粗大ごみの収集日について'
BODY_IN = '粗大ごみの収集日を教えてください。\n地図を添付します。\n'
PDF = b'%PDF-1.4\n' + bytes(range(256)) + b'\r\n%%EOF\n'
PDF_NAME = '地図.pdf'
USERS = [('op1', 'operator', 'operator-pass-1', 'オペレーター 一号'),
         ('sv1', 'supervisor', 'supervisor-pass-1', '管理 責任者'),
         ('vw1', 'viewer', 'viewer-pass-1', '区 職員'),
         ('ad1', 'admin', 'admin-pass-1', 'システム 管理者')]
SIGNATURE = '――――――――――――――――\n区民相談窓口\n電話 03-0000-0000（平日 8時30分から17時15分）'
TAG = '[受付番号:{}]'


def crlf(raw):
    return raw.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')


def citizen_mail(msgid, subject=SUBJECT, body=BODY_IN, sender=CITIZEN, pdf=True, refs=None, reply_to=None):
    text = MIMEText(body, 'plain', 'iso-2022-jp')
    if pdf:
        m = MIMEMultipart('mixed')
        m.attach(text)
        a = MIMEApplication(PDF, 'pdf')
        a.add_header('Content-Disposition', 'attachment', filename=('utf-8', '', PDF_NAME))
        m.attach(a)
    else:
        m = text
    m['Subject'] = Header(subject, 'iso-2022-jp')
    m['From'] = formataddr(sender, 'iso-2022-jp')
    m['To'] = FROM_ADDR
    m['Date'] = 'Mon, 16 Nov 2026 10:00:00 +0900'
    m['Message-ID'] = f'<{msgid}>'
    if reply_to:
        m['Reply-To'] = formataddr(reply_to, 'iso-2022-jp')
    if refs:
        m['References'] = refs
        m['In-Reply-To'] = refs.split()[-1]
    return crlf(m.as_bytes())


def q(env, sql):
    return env.sql(sql)


def wait_ticket(env, msgid):
    r = mdg.wait_for(lambda: env.sql(
        f"SELECT m.ticket_id, m.id FROM message m WHERE m.message_id_hdr = '{msgid}'"), 15)
    return (int(r[0][0]), int(r[0][1])) if r else (None, None)


def jst(epoch):
    tm = time.gmtime(int(epoch) + 9 * 3600)
    return f'{tm.tm_year}年{tm.tm_mon}月{tm.tm_mday}日 {tm.tm_hour:02d}:{tm.tm_min:02d}'


def template_text(name, values):
    with open(os.path.join(mdg.REPO, 'templates', 'reply', name + '.txt'), encoding='utf-8') as f:
        head, body = f.read().split('\n\n', 1)
    for k, v in values.items():
        body = body.replace('{{' + k + '}}', v)
    return body


def tpl_path(name):
    return '/api/templates/' + urllib.parse.quote(name)


def login(port, who):
    c = Client(port)
    for u in USERS:
        if u[0] == who:
            r = c.login(u[0], u[2])
            if r.status != 200:
                raise RuntimeError(f'log-in {who}: {r.status}')
    return c


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def raw_of(env, outbound_id):
    return bytes.fromhex(q(env, f"SELECT encode(raw, 'hex') FROM outbound_mail WHERE id = {outbound_id}")[0][0])


def same_but_fresh(raw):
    """what a second build of the same draft keeps: every header but Date, Message-ID and
    the multipart boundary, and every part's headers and decoded bytes"""
    m = parse(raw)
    heads = [(k, str(v)) for k, v in m.items() if k not in ('Date', 'Message-ID', 'Content-Type')]
    parts = [(sorted((k, str(v)) for k, v in x.items()), x.get_payload(decode=True))
             for x in m.walk() if not x.is_multipart()]
    return heads, m.get_content_type(), parts


def draft(msg_in, to, subject, body, att=None, confirm=True, **more):
    d = {'to': to, 'subject': subject, 'body': body, 'replying_to': msg_in,
         'attachments': att or []}
    if confirm:
        d['confirmed_recipients'] = [a.split('<')[-1].rstrip('>') for a in to + more.get('cc', []) +
                                     more.get('bcc', [])]
        d['confirmed_attachments'] = att or []
    d.update(more)
    return d


def check_templates(t, env, op, ad, tid, msg_in):
    r = op.get('/api/templates')
    names = [x['name'] for x in (r.json() or {}).get('templates', [])]
    t.equal('GET /api/templates lists the five in order', (r.status, names),
            (200, ['001_受付確認', '002_回答', '003_所管課へ確認中', '004_追加情報のお願い',
                   '005_窓口のご案内']))
    r = op.get(tpl_path('001_受付確認'))
    d = r.json() or {}
    t.equal('GET one template: title, no unknown variables',
            (r.status, d.get('title'), d.get('subject'), d.get('unknown_variables')),
            (200, '受付確認（お問い合わせを受け付けました）', '', []))
    t.equal('GET an unknown template: 404', op.get(tpl_path('999_なし')).status, 404)
    t.equal('GET a path outside the folder: 404', op.get('/api/templates/..%2Fetc%2Fpasswd').status, 404)

    arrived = q(env, f"SELECT floor(extract(epoch FROM i.arrived_at))::bigint FROM message m"
                     f" JOIN inbound_item i ON i.id = m.inbound_item_id WHERE m.id = {msg_in}")[0][0]
    r = op.request('POST', f'/api/tickets/{tid}/reply/render', json_body={'template': '001_受付確認'})
    d = r.json() or {}
    expected = template_text('001_受付確認', {
        'citizen.name': CITIZEN[0], 'centre.name': '区民相談窓口', 'ticket.id': str(tid),
        'ticket.subject': SUBJECT, 'ticket.received': jst(arrived), 'operator.name': 'オペレーター 一号',
        'centre.signature': SIGNATURE})
    t.equal('render: status, To, tagged "Re:" subject, replying_to',
            (r.status, d.get('to'), d.get('cc'), d.get('subject'), d.get('replying_to'), d.get('in_reply_to')),
            (200, [f'{CITIZEN[0]} <{CITIZEN[1]}>'], [], f'Re: {TAG.format(tid)} {SUBJECT}', msg_in,
             f'in-{tid}@example.jp'))
    t.equal('render: the body filled exactly', d.get('body'), expected)
    t.equal('render: the ticket\'s attachment offered',
            [(a['message_id'], a['idx'], a['filename'], a['size']) for a in d.get('attachments', [])],
            [(msg_in, 0, PDF_NAME, len(PDF))])

    # a template with a typo in a variable: an error for the operator, never an empty string
    folder = os.path.join(env.root, 'templates', 'reply')
    with open(os.path.join(folder, '900_誤り.txt'), 'w', encoding='utf-8') as f:
        f.write('Title: 誤り\nSubject: {{ticket.id}}\n\n{{citizen.nmae}} 様\n{{ centre.name }}\n')
    r = op.request('POST', f'/api/tickets/{tid}/reply/render', json_body={'template': '900_誤り'})
    t.equal('render with an unknown variable: 422 naming it',
            (r.status, (r.json() or {}).get('unknown_variables'), (r.json() or {}).get('template')),
            (422, ['citizen.nmae'], '900_誤り'))
    t.equal('GET shows the unknown variable too',
            (op.get(tpl_path('900_誤り')).json() or {}).get('unknown_variables'), ['citizen.nmae'])
    os.unlink(os.path.join(folder, '900_誤り.txt'))

    # the admin writes a template; others may not; unknown variables refused
    body = {'title': 'テスト', 'subject': '', 'body': '{{citizen.name}} 様\n\n本文です。\n{{centre.signature}}\n'}
    r = op.request('PUT', '/api/admin/templates/' + urllib.parse.quote('006_テスト'), json_body=body)
    t.equal('PUT template as operator: 403', r.status, 403)
    r = ad.request('PUT', '/api/admin/templates/' + urllib.parse.quote('006_テスト'),
                   json_body=dict(body, body='{{operater.name}}\n'))
    t.equal('PUT with an unknown variable: 400 naming it',
            (r.status, (r.json() or {}).get('unknown_variables')), (400, ['operater.name']))
    r = ad.request('PUT', '/api/admin/templates/' + urllib.parse.quote('006_テスト'), json_body=body)
    path = os.path.join(folder, '006_テスト.txt')
    with open(path, encoding='utf-8') as f:
        written = f.read()
    t.equal('PUT as admin: 200 and the file written exactly',
            (r.status, written), (200, 'Title: テスト\nSubject: \n\n' + body['body']))
    t.equal('no temporary file left in the folder',
            sorted(n for n in os.listdir(folder) if n.startswith('.')), [])
    t.equal('the new template is listed', '006_テスト' in
            [x['name'] for x in op.get('/api/templates').json()['templates']], True)
    r = ad.request('PUT', '/api/admin/templates/.hidden', json_body=body)
    t.equal('PUT a bad name: 400', r.status, 400)
    return expected


def check_first_reply(t, env, op, tid, msg_in, body, events):
    att = [{'message_id': msg_in, 'idx': 0}]
    to = [f'{CITIZEN[0]} <{CITIZEN[1]}>']
    subject = f'Re: {TAG.format(tid)} {SUBJECT}'
    d = draft(msg_in, to, subject, body, att, confirm=False)
    r = op.request('POST', f'/api/tickets/{tid}/reply/preview', json_body=d)
    p = r.json() or {}
    t.equal('preview: 200, unconfirmed recipient and attachment listed, no conflict',
            (r.status, p.get('unconfirmed_recipients'), p.get('unconfirmed_attachments'), p.get('conflict')),
            (200, [CITIZEN[1]], att, None))
    pm = parse(p.get('raw', '').encode('ascii'))
    dec = p.get('decoded') or {}
    t.equal('preview: the raw bytes read back (subject, To, body)',
            (str(pm['Subject']), pm['To'].addresses[0].addr_spec, pm.get_body(('plain',)).get_content()),
            (subject, CITIZEN[1], body.replace('\n', '\r\n')))
    t.equal('preview: the decoded summary', (dec.get('subject'), dec.get('from_addr'), dec.get('to'),
                                             [a['filename'] for a in dec.get('attachments', [])]),
            (subject, FROM_ADDR, f'{CITIZEN[0]} <{CITIZEN[1]}>', [PDF_NAME]))
    t.equal('preview: UTF-8 for an ordinary address', (p.get('iso2022jp'), p.get('charset')), (False, 'UTF-8'))

    r = op.request('POST', f'/api/tickets/{tid}/reply', json_body=d)
    j = r.json() or {}
    t.equal('send without ticks: 422 naming both',
            (r.status, j.get('unconfirmed_recipients'), j.get('unconfirmed_attachments')),
            (422, [CITIZEN[1]], att))
    d2 = dict(d, confirmed_recipients=[CITIZEN[1].upper()], confirmed_attachments=[])
    r = op.request('POST', f'/api/tickets/{tid}/reply', json_body=d2)
    t.equal('send with the attachment unticked: 422 naming it',
            (r.status, (r.json() or {}).get('unconfirmed_recipients'), (r.json() or {}).get('unconfirmed_attachments')),
            (422, [], att))
    t.equal('nothing queued by refused sends', q(env, 'SELECT count(*) FROM outbound_mail'), [['0']])

    d = draft(msg_in, to, subject, body, att)
    t0 = time.time()
    r = op.request('POST', f'/api/tickets/{tid}/reply', json_body=d)
    s = r.json() or {}
    t.equal('send: 201, queued, waiting for the citizen',
            (r.status, s.get('ticket_status'), s.get('rcpt'), s.get('delay_seconds')),
            (201, 'waiting_citizen', [CITIZEN[1]], 30))
    out_id, mid = s.get('outbound_id'), s.get('message_id')
    hdr = s.get('message_id_hdr', '')
    t.check('Message-ID is ours', hdr.endswith('@' + MSGID_DOMAIN) and len(hdr) > 20, hdr)

    row = q(env, f"SELECT ticket_id, direction, subject, from_name, from_addr, to_list, cc_list,"
                 f" message_id_hdr, in_reply_to, references_hdr, body_text = $b${body}$b$, parse_state,"
                 f" delivery_state, inbound_item_id IS NULL, extract(epoch FROM date_header)::bigint"
                 f" FROM message WHERE id = {mid}")
    date_epoch = int(row[0][14]) if row else 0
    t.equal('message row', row[0][:14] if row else None,
            [str(tid), 'out', subject, FROM_NAME, FROM_ADDR, f'{CITIZEN[0]} <{CITIZEN[1]}>', '', hdr,
             f'in-{tid}@example.jp', f'in-{tid}@example.jp', 't', 'ok', 'queued', 't'])
    t.check('date_header is now', abs(date_epoch - t0) < 5, date_epoch)
    t.equal('attachment row: the same blob',
            q(env, f"SELECT a.idx, a.filename, a.size, a.sha256 = b.sha256 FROM attachment a, attachment b"
                   f" WHERE a.message_id = {mid} AND b.message_id = {msg_in} AND b.idx = 0"),
            [['0', PDF_NAME, str(len(PDF)), 't']])
    ob = q(env, f"SELECT message_id, ticket_id, kind, env_from, array_to_json(rcpt), state, attempts,"
                f" extract(epoch FROM not_before - created_at)::int, created_by, sent_at IS NULL"
                f" FROM outbound_mail WHERE id = {out_id}")
    t.equal('outbound_mail row', ob, [[str(mid), str(tid), 'reply', FROM_ADDR, json.dumps([CITIZEN[1]]),
                                       'queued', '0', '30', 'op1', 't']])
    ev = q(env, f"SELECT kind, actor, detail FROM ticket_event WHERE ticket_id = {tid} ORDER BY id DESC LIMIT 1")
    t.equal('timeline event', ev, [['reply_queued', 'op1', f'message {mid}, outbound {out_id}']])
    t.equal('ticket: waiting for the citizen, no new reply',
            q(env, f'SELECT status, has_new_reply FROM ticket WHERE id = {tid}'), [['waiting_citizen', 'f']])

    raw = raw_of(env, out_id)
    m = parse(raw)
    t.equal('the sent mail is the previewed one but for Date, Message-ID and the boundary',
            same_but_fresh(p.get('raw', '').encode('ascii')), same_but_fresh(raw))
    t.equal('raw: subject decoded and tagged', str(m['Subject']), subject)
    t.equal('raw: From', (m['From'].addresses[0].display_name, m['From'].addresses[0].addr_spec),
            (FROM_NAME, FROM_ADDR))
    t.equal('raw: To', [(a.display_name, a.addr_spec) for a in m['To'].addresses], [CITIZEN])
    t.equal('raw: no Bcc, no Cc header', (m['Bcc'], m['Cc']), (None, None))
    t.equal('raw: In-Reply-To and References', (m['In-Reply-To'], m['References']),
            (f'<in-{tid}@example.jp>', f'<in-{tid}@example.jp>'))
    t.equal('raw: Message-ID', m['Message-ID'], f'<{hdr}>')
    t.equal('raw: Date is the stored date_header',
            int(email.utils.parsedate_to_datetime(m['Date']).timestamp()), date_epoch)
    t.check('raw: Date in +0900', m['Date'].endswith('+0900'), m['Date'])
    part = m.get_body(('plain',))
    t.equal('raw: body byte for byte (UTF-8, CRLF)',
            (part.get_content_charset(), part.get_payload(decode=True)),
            ('utf-8', body.replace('\n', '\r\n').encode('utf-8')))
    atts = [(a.get_filename(), a.get_content_type(), a.get_payload(decode=True)) for a in m.iter_attachments()]
    t.equal('raw: the attachment byte for byte', atts, [(PDF_NAME, 'application/pdf', PDF)])
    t.check('raw: 7-bit, CRLF only', max(raw) < 128 and b'\n' not in raw.replace(b'\r\n', b''), '')

    at, ev = events.next(5)
    seen = []
    while ev is not None:
        seen.append(ev)
        if 'reply_queued' in ev:
            break
        at, ev = events.next(5)
    t.check('live event ticket_change op reply_queued', any(f'"id" : {tid}' in e and 'reply_queued' in e for e in seen), seen)

    tk = op.get(f'/api/tickets/{tid}').json() or {}
    outs = [x for x in tk.get('messages', []) if x['direction'] == 'out']
    dv = outs[0].get('delivery') if outs else {}
    t.equal('ticket page: delivery of the reply',
            (dv.get('state'), dv.get('outbound_id'), dv.get('outbound_state'), dv.get('can_cancel'),
             dv.get('created_by'), dv.get('rcpt')),
            ('queued', out_id, 'queued', True, 'op1', [CITIZEN[1]]))
    t.check('ticket page: send_at 30 s after now', dv.get('send_at', '').endswith('Z'), dv)
    t.equal('incoming message has no delivery field', 'delivery' in tk['messages'][0], False)
    return out_id, mid, subject


def check_conflict_and_cancel(t, env, op, sv, tid, msg_in, subject, first_out):
    to = [CITIZEN[1]]
    d = draft(msg_in, to, subject, '二通目の回答です。\n')
    r = sv.request('POST', f'/api/tickets/{tid}/reply', json_body=d)
    c = (r.json() or {}).get('conflict') or {}
    t.equal('a second answer to the same mail: 409 saying who',
            (r.status, c.get('kind'), c.get('by')), (409, 'reply', 'op1'))
    t.check('409 says when', str(c.get('at', '')).endswith('Z'), c)
    p = sv.request('POST', f'/api/tickets/{tid}/reply/preview', json_body=d).json() or {}
    t.equal('preview warns of the conflict too', (p.get('conflict') or {}).get('by'), 'op1')
    r = sv.request('POST', f'/api/tickets/{tid}/reply', json_body=dict(d, force=True))
    s = r.json() or {}
    t.equal('with force: 201', r.status, 201)
    second = s.get('outbound_id')

    r = sv.request('POST', f'/api/outbound/{second}/cancel')
    t.equal('cancel inside the window: 200', (r.status, (r.json() or {}).get('state')), (200, 'cancelled'))
    t.equal('cancelled rows',
            q(env, f"SELECT o.state, m.delivery_state, m.delivery_note FROM outbound_mail o"
                   f" JOIN message m ON m.id = o.message_id WHERE o.id = {second}"),
            [['cancelled', 'cancelled', 'cancelled by sv1']])
    t.equal('cancel event', q(env, f"SELECT kind, actor FROM ticket_event WHERE ticket_id = {tid}"
                                   f" ORDER BY id DESC LIMIT 1"), [['reply_cancelled', 'sv1']])
    r = sv.request('POST', f'/api/outbound/{second}/cancel')
    t.equal('cancel again: 409', r.status, 409)
    # claimed by escalationd: an attempt counted and not_before moved to the end of the lease
    d3 = sv.request('POST', f'/api/tickets/{tid}/reply', json_body=dict(d, force=True)).json() or {}
    third = d3.get('outbound_id')
    q(env, f"UPDATE outbound_mail SET attempts = 1, not_before = now() + interval '10 minutes' WHERE id = {third}")
    r = sv.request('POST', f'/api/outbound/{third}/cancel')
    t.equal('cancel while escalationd holds it (lease ahead, 1 attempt): 409',
            (r.status, q(env, f'SELECT state FROM outbound_mail WHERE id = {third}')), (409, [['queued']]))
    tk = op.get(f'/api/tickets/{tid}').json() or {}
    t.equal('ticket page: no cancel for a claimed mail',
            [x['delivery']['can_cancel'] for x in tk.get('messages', [])
             if (x.get('delivery') or {}).get('outbound_id') == third], [False])
    q(env, f"UPDATE outbound_mail SET state = 'sent', sent_at = now() WHERE id = {third}")
    t.equal('cancel an unknown one: 404', sv.request('POST', '/api/outbound/99999/cancel').status, 404)
    # the window passes for the first reply: escalationd may be sending it
    q(env, f"UPDATE outbound_mail SET not_before = now() - interval '1 second' WHERE id = {first_out}")
    r = op.request('POST', f'/api/outbound/{first_out}/cancel')
    t.equal('cancel after the window: 409, nothing changed',
            (r.status, q(env, f'SELECT state FROM outbound_mail WHERE id = {first_out}')),
            (409, [['queued']]))
    tk = op.get(f'/api/tickets/{tid}').json() or {}
    dv = [x.get('delivery') for x in tk.get('messages', []) if x['direction'] == 'out']
    t.equal('ticket page: cancel possible no more; the cancelled one says so',
            [(x['state'], x['outbound_state'], x['can_cancel'], x['note']) for x in dv],
            [('queued', 'queued', False, None), ('cancelled', 'cancelled', False, 'cancelled by sv1'),
             ('queued', 'sent', False, None)])


def check_bcc_and_jis(t, env, op, tid, msg_in, subject):
    to = ['a.citizen@example.jp', '二人目 <b.citizen@example.com>', 'kakari@city.example.lg.jp']
    d = draft(msg_in, to, subject, '皆様へのご連絡です。\n', force=True)
    r = op.request('POST', f'/api/tickets/{tid}/reply', json_body=d)
    s = r.json() or {}
    t.equal('two citizens in To: moved to Bcc, the internal address stays',
            (r.status, s.get('moved_to_bcc'), s.get('rcpt')),
            (201, ['a.citizen@example.jp', '二人目 <b.citizen@example.com>'],
             ['kakari@city.example.lg.jp', 'a.citizen@example.jp', 'b.citizen@example.com']))
    m = parse(raw_of(env, s.get('outbound_id')))
    t.equal('raw: To has only the internal address, no Bcc header',
            ([a.addr_spec for a in m['To'].addresses], m['Bcc']), (['kakari@city.example.lg.jp'], None))
    t.check('raw: no citizen address anywhere in the header',
            b'citizen' not in raw_of(env, s.get('outbound_id')).split(b'\r\n\r\n')[0], '')
    d = draft(msg_in, to[:2], subject, '見える宛先で送ります。\n', force=True, keep_visible=True)
    s = op.request('POST', f'/api/tickets/{tid}/reply', json_body=d).json() or {}
    m = parse(raw_of(env, s.get('outbound_id')))
    t.equal('keep_visible: both stay in To', [a.addr_spec for a in m['To'].addresses],
            ['a.citizen@example.jp', 'b.citizen@example.com'])

    body = '携帯電話あてのご連絡です。\n受付番号をお控えください。\n'
    d = draft(msg_in, ['桑田 花子 <hanako-k@docomo.ne.jp>'], subject, body, force=True)
    r = op.request('POST', f'/api/tickets/{tid}/reply/preview', json_body=d)
    t.equal('preview for docomo.ne.jp: ISO-2022-JP', ((r.json() or {}).get('iso2022jp'), (r.json() or {}).get('charset')),
            (True, 'ISO-2022-JP'))
    s = op.request('POST', f'/api/tickets/{tid}/reply', json_body=d).json() or {}
    raw = raw_of(env, s.get('outbound_id'))
    m = parse(raw)
    part = m.get_body(('plain',))
    t.equal('docomo.ne.jp: charset and decoded body',
            (part.get_content_charset(), part.get_payload(decode=True).decode('iso-2022-jp')),
            ('iso-2022-jp', body.replace('\n', '\r\n')))
    t.check('docomo.ne.jp: subject as ISO-2022-JP words', b'=?ISO-2022-JP?B?' in raw.split(b'\r\n\r\n')[0],
            raw[:400])
    t.equal('docomo.ne.jp: subject decoded', str(m['Subject']), subject)
    t.equal('docomo.ne.jp: the stored body is the UTF-8 text',
            q(env, f"SELECT body_text = $b${body}$b$ FROM message WHERE id = {s.get('message_id')}"), [['t']])


def check_refusals(t, env, op, vw, tid, msg_in, other_msg, subject):
    d = draft(msg_in, [CITIZEN[1]], subject, 'x\n', force=True)
    t.equal('viewer: 403 on reply, preview, render, templates, cancel',
            [vw.request('POST', f'/api/tickets/{tid}/reply', json_body=d).status,
             vw.request('POST', f'/api/tickets/{tid}/reply/preview', json_body=d).status,
             vw.request('POST', f'/api/tickets/{tid}/reply/render', json_body={}).status,
             vw.get('/api/templates').status, vw.request('POST', '/api/outbound/1/cancel').status],
            [403, 403, 403, 403, 403])
    r = op.request('POST', f'/api/tickets/{tid}/reply', json_body=d, csrf=False)
    t.equal('no CSRF token: 403', r.status, 403)
    r = op.request('POST', f'/api/outbound/1/cancel', csrf=False)
    t.equal('cancel without CSRF token: 403', r.status, 403)
    bad = dict(d, attachments=[{'message_id': other_msg, 'idx': 0}],
               confirmed_attachments=[{'message_id': other_msg, 'idx': 0}])
    r = op.request('POST', f'/api/tickets/{tid}/reply', json_body=bad)
    t.equal('an attachment of another ticket: 400', (r.status, (r.json() or {}).get('error')),
            (400, f'attachments: message {other_msg} attachment 0 is not one of this ticket\'s'))
    r = op.request('POST', f'/api/tickets/{tid}/reply', json_body=dict(d, replying_to=other_msg))
    t.equal('replying_to a message of another ticket: 400', r.status, 400)
    r = op.request('POST', f'/api/tickets/{tid}/reply', json_body=dict(d, to=['not an address']))
    t.equal('a bad address: 400', r.status, 400)
    r = op.request('POST', f'/api/tickets/{tid}/reply', json_body={k: v for k, v in d.items() if k != 'replying_to'})
    t.equal('send without replying_to: 400', r.status, 400)
    t.equal('unknown ticket: 404', op.request('POST', '/api/tickets/99999/reply', json_body=d).status, 404)


def check_newer_mail(t, env, op, tid, msg_in, subject, out_hdr, other_tid, other_msg):
    """the citizen writes again: an answer to the older mail is stale (409); the
    proposal follows the newer mail and its Reply-To"""
    env.maildir_drop(citizen_mail('x-again@example.jp', subject='Re: 別件', body='別件の追伸です。\n',
                                  pdf=False, refs='<in-x@example.jp>'))
    t3, newer_x = wait_ticket(env, 'x-again@example.jp')
    d = draft(other_msg, [CITIZEN[1]], '別件', '古いメールへの回答\n')
    r = op.request('POST', f'/api/tickets/{other_tid}/reply', json_body=d)
    c = (r.json() or {}).get('conflict') or {}
    t.equal('answering the older mail after a newer one came: 409 newer_mail',
            (t3, r.status, c.get('kind'), c.get('message_id')), (other_tid, 409, 'newer_mail', newer_x))
    env.maildir_drop(citizen_mail(f'again-{tid}@example.jp', subject=f'Re: {subject}', body='追伸です。\n',
                                  pdf=False, refs=f'<{out_hdr}>',
                                  reply_to=('桑田 花子（自宅）', 'hanako.home@example.jp')))
    t2, newer = wait_ticket(env, f'again-{tid}@example.jp')
    t.equal('the citizen\'s answer joins the ticket', t2, tid)
    r = op.request('POST', f'/api/tickets/{tid}/reply/render', json_body={})
    p = r.json() or {}
    t.equal('render proposes the newer mail\'s Reply-To and threads on it',
            (p.get('to'), p.get('replying_to'), p.get('in_reply_to'), p.get('references'), p.get('subject')),
            (['桑田 花子（自宅） <hanako.home@example.jp>'], newer, f'again-{tid}@example.jp', out_hdr,
             subject))


def main():
    with mdg.Env('reply') as env:
        env.start_db()
        shutil.copytree(os.path.join(mdg.REPO, 'templates', 'reply'),
                        os.path.join(env.root, 'templates', 'reply'))
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'mail.from_addr': FROM_ADDR,
                            'mail.from_name': FROM_NAME, 'mail.message_id_domain': MSGID_DOMAIN,
                            'ticketd.reply_templates': os.path.join(env.root, 'templates', 'reply')})
        for u in USERS:
            env.add_user(*u)
        env.start('ingest-mail')
        d = env.start('ticketd')
        env.maildir_drop(citizen_mail('in-x@example.jp', subject='別件', body='別の件です。\n'))
        other_tid, other_msg = wait_ticket(env, 'in-x@example.jp')
        # the ticket's mail: its Message-ID names the ticket that will get it (the next id)
        tid_next = other_tid + 1
        env.maildir_drop(citizen_mail(f'in-{tid_next}@example.jp'))
        tid, msg_in = wait_ticket(env, f'in-{tid_next}@example.jp')
        if tid != tid_next:
            t.fail('the mail opened the expected ticket', f'{tid} != {tid_next}')
            t.done()
        op, sv, vw, ad = (login(port, u[0]) for u in USERS)
        events = EventStream(port, op.token)
        body = check_templates(t, env, op, ad, tid, msg_in)
        first_out, first_msg, subject = check_first_reply(t, env, op, tid, msg_in, body, events)
        check_conflict_and_cancel(t, env, op, sv, tid, msg_in, subject, first_out)
        check_bcc_and_jis(t, env, op, tid, msg_in, subject)
        check_refusals(t, env, op, vw, tid, msg_in, other_msg, subject)
        out_hdr = q(env, f'SELECT message_id_hdr FROM message WHERE id = {first_msg}')[0][0]
        check_newer_mail(t, env, op, tid, msg_in, subject, out_hdr, other_tid, other_msg)
        events.close()
        t.check('ticketd alive, no errors logged', d.alive() and '] error:' not in d.log_text(),
                d.log_text()[-2000:])
    t.done()


if __name__ == '__main__':
    main()
