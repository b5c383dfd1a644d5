#!/usr/bin/python3
"""Replies by fax through ticketd (ticketd/faxreply.c, sql/023_fax_out.sql),
against real PostgreSQL and ticketd.

The number typed twice must agree (400 with the reason) and look Japanese
(400); viewers and admins may not send (403).  The preview renders every
page as a PNG.  A fax with the letterhead, the text and a TIFF attachment
(an ITU chart of the shared corpus) is stored whole before any dial: the
outbound_fax row, one TIFF per page in order, the message (direction out,
queued), the event, the ticket waiting for the citizen, the SLA response;
a stored page comes back as a PNG.  A broken PDF or an HTML attachment is
refused (422); a 2-page PDF adds 2 pages to the preview.  The fax is listed with its state and
cancelled while queued (then 409).  Picking the ticket's contact instead
takes its fax number, leaves an audited read, and refuses a contact of
another ticket.  A merge and its undo move the faxes with their messages.
In a queue that requires approval the fax is held (never
claimed), its author may not approve it (403), a supervisor does.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
import ticketd_http as th  # noqa: E402
from ticketd_http import Client  # noqa: E402

t = mdg.Checks('fax_reply')
CHART = os.path.join(mdg.SHARED, 'corpus', 'fax', 'spandsp-itu', 'tiff', 'itu1_fine_g4.tif')
BODY = ('山田 太郎 様\n\nお問い合わせいただいた住民票の写しの請求について回答します。\n'
        + '住民票の写しは、区役所の窓口のほか、郵送でも請求できます。' * 90)


def tiny_pdf(pages):
    """a PDF of A4 pages, each with a black box (written here: PDF is text)"""
    objs = ['<< /Type /Catalog /Pages 2 0 R >>',
            '<< /Type /Pages /Kids [%s] /Count %d >>' % (' '.join(f'{3 + 2 * i} 0 R' for i in range(pages)), pages)]
    for i in range(pages):
        objs.append(f'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R >>')
        stream = '0 g 100 600 200 100 re f'
        objs.append(f'<< /Length {len(stream)} >>\nstream\n{stream}\nendstream')
    out, offs = '%PDF-1.4\n', []
    for n, o in enumerate(objs, 1):
        offs.append(len(out))
        out += f'{n} 0 obj\n{o}\nendobj\n'
    xref = len(out)
    out += f'xref\n0 {len(objs) + 1}\n0000000000 65535 f \n' + ''.join(f'{o:010d} 00000 n \n' for o in offs)
    out += f'trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n'
    return out.encode('ascii')


def login(port, who):
    c = Client(port)
    for u in th.USERS:
        if u[0] == who and c.login(u[0], u[2]).status != 200:
            raise RuntimeError(f'log-in {who} failed')
    return c


def post(c, path, doc):
    r = c.request('POST', path, json_body=doc)
    return r.status, (r.json() or {})


with mdg.Env('fax_reply') as env:
    d, port = th.start(env, 'fax_reply', **{'ticketd.send_delay_seconds': '600'})
    op, vw, ad = login(port, 'op1'), login(port, 'vw1'), login(port, 'ad1')
    base = {'body': BODY, 'recipient': '山田 太郎'}

    st, doc = post(op, '/api/tickets/1/fax-reply', dict(base, number='03-1234-5678',
                                                        number_confirm='03-1234-5679'))
    t.equal('numbers differ: 400 with the reason', (st, doc.get('error')),
            (400, 'number: the two numbers typed differ'))
    st, doc = post(op, '/api/tickets/1/fax-reply', dict(base, number='1234', number_confirm='1234'))
    t.equal('not a Japanese number: 400', (st, doc.get('error')),
            (400, 'number: not a Japanese fax number (0 and 9 or 10 more digits)'))
    st, doc = post(op, '/api/tickets/1/fax-reply', dict(base, number='03-1234-5678'))
    t.equal('typed once: 400', st, 400)
    good = dict(base, number='03-1234-5678', number_confirm='０３１２３４５６７８')
    t.equal('viewer and admin may not send: 403',
            (post(vw, '/api/tickets/1/fax-reply', good)[0], post(ad, '/api/tickets/1/fax-reply', good)[0]),
            (403, 403))
    t.equal('nothing stored by the refusals', env.sql('SELECT count(*) FROM outbound_fax'), [['0']])

    st, doc = post(op, '/api/tickets/1/fax-reply/preview', base)
    imgs = doc.get('images') or []
    t.equal('preview: 200, 2 text pages, 2 PNGs',
            (st, doc.get('pages'), doc.get('text_pages'), len(imgs),
             all(i.startswith('data:image/png;base64,iVBORw0KGgo') for i in imgs)),
            (200, 2, 2, 2, True))

    atts = []
    if os.path.exists(CHART):
        data = open(CHART, 'rb').read()
        env.pg.psql(f"""INSERT INTO blob (sha256, size, data) VALUES
            (sha256(decode('{data.hex()}', 'hex')), {len(data)}, decode('{data.hex()}', 'hex'));
            INSERT INTO attachment (message_id, idx, filename, content_type, size, sha256) VALUES
            (11, 2, '地図.tif', 'image/tiff', {len(data)}, sha256(decode('{data.hex()}', 'hex')))""",
                    user='madoguchi_owner')
        atts = [{'message_id': 11, 'idx': 2}]
    else:
        t.ok('skip the TIFF attachment: no shared corpus')
    st, doc = post(op, '/api/tickets/1/fax-reply', dict(good, attachments=[{'message_id': 11, 'idx': 0}]))
    t.equal('a broken PDF attachment: 422 naming it', (st, (doc.get('error') or '').split(':')[0]),
            (422, '申請書 (2).pdf'))
    st, doc = post(op, '/api/tickets/1/fax-reply', dict(good, attachments=[{'message_id': 11, 'idx': 1}]))
    t.equal('an HTML attachment: 422', (st, doc.get('error')),
            (422, 'page.html: only TIFF and PDF files can be sent by fax'))
    pdf = tiny_pdf(2)
    env.pg.psql(f"""INSERT INTO blob (sha256, size, data) VALUES
        (sha256(decode('{pdf.hex()}', 'hex')), {len(pdf)}, decode('{pdf.hex()}', 'hex'));
        INSERT INTO attachment (message_id, idx, filename, content_type, size, sha256) VALUES
        (11, 3, '案内.pdf', 'application/pdf', {len(pdf)}, sha256(decode('{pdf.hex()}', 'hex')))""",
                user='madoguchi_owner')
    st, doc = post(op, '/api/tickets/1/fax-reply/preview', dict(base, attachments=[{'message_id': 11, 'idx': 3}]))
    t.equal('preview with a 2-page PDF: 4 pages, 2 of text', (st, doc.get('pages'), doc.get('text_pages'),
                                                             len(doc.get('images') or [])), (200, 4, 2, 4))

    st, doc = post(op, '/api/tickets/1/fax-reply', dict(good, attachments=atts))
    npages = 2 + len(atts)
    fid = doc.get('id')
    t.equal('sent: 201 with the pages', (st, doc.get('pages')), (201, npages))
    t.equal('the outbound_fax row',
            env.sql(f"SELECT ticket_id, number, confirmed_by, contact_id IS NULL, pages, state, attempts,"
                    f" created_by, not_before - created_at FROM outbound_fax WHERE id = {fid}"),
            [['1', '0312345678', 'typed_twice', 't', str(npages), 'queued', '0', 'op1', '00:10:00']])
    pages = env.sql(f"SELECT page_no, source, substring(tiff from 1 for 2) IN ('\\x4949', '\\x4d4d')"
                    f" FROM outbound_fax_page WHERE fax_id = {fid} ORDER BY page_no")
    t.equal('the pages: text first, then the attachment, all TIFF', pages,
            [['1', '', 't'], ['2', '', 't']] + ([['3', '地図.tif', 't']] if atts else []))
    t.equal('the message: out, queued, to the number; the ticket waits for the citizen',
            env.sql(f"SELECT m.direction, m.delivery_state, m.to_list, m.subject, t.status,"
                    f" (SELECT count(*) FROM attachment a WHERE a.message_id = m.id)"
                    f" FROM outbound_fax o JOIN message m ON m.id = o.message_id"
                    f" JOIN ticket t ON t.id = o.ticket_id WHERE o.id = {fid}"),
            [['out', 'queued', 'FAX 0312345678 山田 太郎', 'FAX送信', 'waiting_citizen', str(len(atts))]])
    t.equal('the event', env.sql("SELECT actor, detail FROM ticket_event WHERE kind = 'fax_queued'"),
            [['op1', f'outbound_fax {fid}, {npages} pages']])

    t.equal('the fax counts as the first response (SLA)',
            env.sql(f"SELECT t.responded_at = o.created_at FROM ticket t JOIN outbound_fax o"
                    f" ON o.ticket_id = t.id WHERE o.id = {fid}"), [['t']])
    r = op.get(f'/api/faxes/{fid}/1.png')
    t.equal('GET a stored page: a PNG 1728 wide', (r.status, r.header('Content-Type'), r.body[:8],
                                                   int.from_bytes(r.body[16:20], 'big')),
            (200, 'image/png', b'\x89PNG\r\n\x1a\n', 1728))
    t.equal('a page that is not there: 404', op.get(f'/api/faxes/{fid}/9.png').status, 404)
    r = op.get('/api/tickets/1/faxes')
    faxes = (r.json() or {}).get('faxes') or [{}]
    t.equal('GET faxes: the state', (r.status, len(faxes), faxes[0].get('state'), faxes[0].get('number'),
                                     faxes[0].get('pages'), faxes[0].get('can_cancel')),
            (200, 1, 'queued', '0312345678', npages, True))
    t.equal('a viewer may not list faxes: 403', vw.get('/api/tickets/1/faxes').status, 403)
    st, doc = post(op, f'/api/tickets/1/faxes/{fid}/cancel', {})
    t.equal('cancel while queued: 200', (st, doc.get('state')), (200, 'cancelled'))
    st, doc = post(op, f'/api/tickets/1/faxes/{fid}/cancel', {})
    t.equal('cancel again: 409', st, 409)
    t.equal('cancelled: fax and message',
            env.sql(f"SELECT o.state, o.cancelled_by, m.delivery_state FROM outbound_fax o"
                    f" JOIN message m ON m.id = o.message_id WHERE o.id = {fid}"),
            [['cancelled', 'op1', 'cancelled']])
    t.equal('cancelled: no longer the response',
            env.sql("SELECT responded_at IS NULL FROM ticket WHERE id = 1"), [['t']])

    if os.path.exists(CHART):
        # an upload of the composer as the attachment: its pages, then it is used
        data = open(CHART, 'rb').read()
        r = op.request('POST', '/api/tickets/1/uploads', body=data,
                       headers={'Content-Type': 'image/tiff', 'X-Filename': 'chart.tif'})
        uid = (r.json() or {}).get('upload_id')
        st, doc = post(op, '/api/tickets/1/fax-reply', dict(good, attachments=[{'upload_id': uid}]))
        t.equal('an uploaded TIFF: 201, 3 pages', (st, doc.get('pages')), (201, 3))
        t.equal('the upload is used by the fax message, its page the last',
                env.sql(f"SELECT u.used_by_message_id = o.message_id, p.source FROM reply_upload u,"
                        f" outbound_fax o JOIN outbound_fax_page p ON p.fax_id = o.id AND p.page_no = 3"
                        f" WHERE u.id = {uid} AND o.id = {doc.get('id')}"), [['t', 'chart.tif']])
        st, doc2 = post(op, '/api/tickets/1/fax-reply', dict(good, attachments=[{'upload_id': uid}]))
        t.equal('the same upload again: 400', st, 400)
        post(op, f"/api/tickets/1/faxes/{doc.get('id')}/cancel", {})

    env.pg.psql("""INSERT INTO contact (id, name, fax, created_at, created_by, updated_at, updated_by)
                   VALUES (500, '山田 太郎', '06-6123-4567', now(), 'op1', now(), 'op1'),
                          (501, '別人', '0311112222', now(), 'op1', now(), 'op1');
                   INSERT INTO ticket_contact (ticket_id, contact_id, role, linked_at)
                   VALUES (1, 500, 'citizen', now()), (3, 501, 'citizen', now())""",
                user='madoguchi_owner')
    st, doc = post(op, '/api/tickets/1/fax-reply', dict(base, contact_id=501))
    t.equal("another ticket's contact: 400", st, 400)
    st, doc = post(op, '/api/tickets/1/fax-reply', dict(base, contact_id=500, number='0311112222'))
    t.equal('contact and a typed number: 400', st, 400)
    st, doc = post(op, '/api/tickets/1/fax-reply', dict(base, contact_id=500))
    t.equal('from the contact: 201', st, 201)
    t.equal('the contact\'s number, confirmed by contact',
            env.sql(f"SELECT number, confirmed_by, contact_id FROM outbound_fax WHERE id = {doc.get('id')}"),
            [['0661234567', 'contact', '500']])
    t.equal('the contact reads were audited (the refused pick read it too)',
            env.sql("SELECT login, action, contact_id, ticket_id, reason FROM contact_access ORDER BY id"),
            [['op1', 'read', '500', '1', 'FAXで返信']] * 2)

    env.pg.psql("INSERT INTO queue_setting (queue, approval_required, updated_by, updated_at)"
                " VALUES ('gomi', true, 'ad1', now())", user='madoguchi_owner')
    st, doc = post(op, '/api/tickets/3/fax-reply', good)
    held = doc.get('id')
    t.equal('a queue that requires approval: held', (st, doc.get('state')), (201, 'awaiting_approval'))
    t.equal('held: the rows, the status unchanged, no response yet',
            env.sql(f"SELECT o.state, o.approval, m.delivery_state, t.status, t.responded_at IS NULL"
                    f" FROM outbound_fax o JOIN message m ON m.id = o.message_id"
                    f" JOIN ticket t ON t.id = o.ticket_id WHERE o.id = {held}"),
            [['awaiting_approval', 'queue', 'awaiting_approval', 'open', 't']])
    t.equal('held: never claimed',
            env.pg.psql("SELECT count(*) FROM outbound_fax_claim('t', now() + interval '1 day', 60, 4, 10)"
                        f" WHERE id = {held}", user='madoguchi_fax'), [['0']])
    faxes = (op.get('/api/tickets/3/faxes').json() or {}).get('faxes') or [{}]
    t.equal('the author may not approve (the list says so)', faxes[-1].get('can_approve'), False)
    t.equal('the author\'s approve: 403', post(op, f'/api/tickets/3/faxes/{held}/approve', {})[0], 403)
    sv = login(port, 'sv1')
    faxes = (sv.get('/api/tickets/3/faxes').json() or {}).get('faxes') or [{}]
    t.equal('another may (the list says so)', (faxes[-1].get('state'), faxes[-1].get('can_approve')),
            ('awaiting_approval', True))
    st, doc = post(sv, f'/api/tickets/3/faxes/{held}/approve', {})
    t.equal('approved by a supervisor: 200', (st, doc.get('state')), (200, 'queued'))
    t.equal('approved: queued after the send delay, the response from the approval',
            env.sql(f"SELECT o.state, o.reviewed_by, o.not_before - o.reviewed_at, m.delivery_state,"
                    f" t.responded_at = o.reviewed_at FROM outbound_fax o"
                    f" JOIN message m ON m.id = o.message_id JOIN ticket t ON t.id = o.ticket_id"
                    f" WHERE o.id = {held}"),
            [['queued', 'sv1', '00:10:00', 'queued', 't']])
    t.equal('the events', env.sql("SELECT actor, kind FROM ticket_event WHERE ticket_id = 3"
                                  " AND kind LIKE 'fax%' ORDER BY id"),
            [['op1', 'fax_queued'], ['sv1', 'fax_approved']])
    t.equal('approve again: 409', post(sv, f'/api/tickets/3/faxes/{held}/approve', {})[0], 409)
    # a merge moves the faxes with their messages
    n1 = int(env.sql("SELECT count(*) FROM outbound_fax WHERE ticket_id = 1")[0][0])
    st, doc = post(op, '/api/tickets/1/merge', {'into': 3})
    t.equal('merge ticket 1 into 3: 200', st, 200)
    t.equal('its faxes follow their messages',
            env.sql("SELECT count(*) FILTER (WHERE o.ticket_id = 3), count(*) FILTER (WHERE o.ticket_id = m.ticket_id)"
                    " FROM outbound_fax o JOIN message m ON m.id = o.message_id"), [[str(n1 + 1), str(n1 + 1)]])
    t.equal('and are listed there', len((op.get('/api/tickets/3/faxes').json() or {}).get('faxes') or []), n1 + 1)
    st, doc = post(op, '/api/tickets/1/unmerge', {})
    t.equal('unmerged: they go back', (st, env.sql("SELECT ticket_id, count(*) FROM outbound_fax"
                                                   " GROUP BY ticket_id ORDER BY ticket_id")),
            (200, [['1', str(n1)], ['3', '1']]))
    t.check('ticketd is alive', d.alive(), d.log_text()[-2000:])

sys.exit(t.done())
