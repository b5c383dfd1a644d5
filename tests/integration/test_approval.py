#!/usr/bin/python3
"""Approval before sending (承認・ダブルチェック) and the supervisors'
dead-letter list (ticketd/approval.c, sql/009_approval.sql), against real
PostgreSQL, ingest-mail on the Maildir, ticketd, escalationd and postfix's
smtp-sink.

An admin switches approval on for the queue 子育て.  An operator's reply to a
ticket of that queue is held (exact rows, timeline, the draft kept) and
nothing reaches the sink even well after the send delay; the author's own
approval is 403, a viewer's and an admin's too; a second operator approves
and the sink gets it once, byte for byte as stored.  A template with
"Approval: required" holds a reply in a queue without the setting; a
supervisor edits and approves it (422 without ticks) and the sink gets the
edited body, the timeline only the lengths.  Another reply is returned
(comment required; a phone number in it is refused, 422), stays unsent, and
its author opens it again and sends a new one (a new row; the returned one
stays).  Then the relay refuses with 550: the reply is dead, listed exactly
for supervisors and admins, requeued by a supervisor (403 for an operator)
and delivered once.  CSRF 403 on every new POST/PUT.  Last,
madoguchi-admin contact-grant / contact-revoke open and close a ward
viewer's access to contact details (403 → 200 → 403).
"""
import json
import os
import shutil
import signal
import socket
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
import test_reply as rp  # noqa: E402
import test_sender as ts  # noqa: E402
from ticketd_http import Client  # noqa: E402

t = mdg.Checks('approval')
USERS = [('op1', 'operator', 'operator-pass-1', '一号 オペ'),
         ('op2', 'operator', 'operator-pass-2', '二号 オペ'),
         ('sv1', 'supervisor', 'supervisor-pass-1', '管理 責任者'),
         ('vw1', 'viewer', 'viewer-pass-1', '区 職員'),
         ('ad1', 'admin', 'admin-pass-1', 'システム 管理者')]
QUEUE = '子育て'
HELD_TPL = '900_承認必須'
HELD_TPL_TEXT = 'Title: 承認が必要な回答\nSubject: \nApproval: required\n\n{{citizen.name}} 様\n\n承認の要る回答です。\n'
DELAY = 1


def ts_listening(port):
    try:
        socket.create_connection(('127.0.0.1', port), 0.2).close()
        return True
    except OSError:
        return False


def login(port, who):
    c = Client(port)
    for u in USERS:
        if u[0] == who and c.login(u[0], u[2]).status != 200:
            raise RuntimeError(f'log-in {who} failed')
    return c


def q(env, sql):
    return env.sql(sql)


def new_ticket(env, tag, queue=None):
    env.maildir_drop(rp.citizen_mail(f'{tag}@example.jp', subject=f'件名 {tag}', body=f'{tag} の本文です。\n',
                                     pdf=False))
    tid, msg = rp.wait_ticket(env, f'{tag}@example.jp')
    if queue:
        q(env, f"UPDATE ticket SET queue = '{queue}' WHERE id = {tid}")
    return tid, msg


def out_row(env, oid):
    cols = ('state', 'attempts', 'approval', 'template', 'review', 'reviewed_by', 'comment', 'created_by')
    r = q(env, "SELECT state, attempts, coalesce(approval, '-'), coalesce(template, '-'), coalesce(review, '-'),"
               " coalesce(reviewed_by, '-'), coalesce(review_comment, '-'), created_by"
               f" FROM outbound_mail WHERE id = {oid}")
    return dict(zip(cols, r[0])) if r else {}


def delivery(env, mid):
    return q(env, f"SELECT delivery_state, coalesce(delivery_note, '-') FROM message WHERE id = {mid}")[0]


def last_events(env, tid, n):
    rows = q(env, f"SELECT kind, actor, coalesce(detail, '-') FROM ticket_event WHERE ticket_id = {tid}"
                  f" ORDER BY id DESC LIMIT {n}")
    return [tuple(r) for r in reversed(rows)]


def sent_to_sink(sink, marker):
    """the mails at the sink whose body holds marker (bytes of the stored raw)"""
    return [m for m in ts.sink_mails(sink) if marker in m[2]]


def wait_state(env, oid, state, timeout=15):
    return mdg.wait_for(lambda: out_row(env, oid).get('state') == state, timeout, 0.1)


def check_queue_settings(t, env, ad, op, vw):
    r = ad.get('/api/admin/queues/general/settings')
    t.equal('GET settings of a queue never set: the defaults', (r.status, r.json()),
            (200, {'queue': 'general', 'approval_required': False, 'updated_by': None,
                   'updated_at': None}))
    path = '/api/admin/queues/' + urllib.parse.quote(QUEUE) + '/settings'
    t.equal('PUT settings as operator, viewer: 403',
            [op.request('PUT', path, json_body={'approval_required': True}).status,
             vw.request('PUT', path, json_body={'approval_required': True}).status], [403, 403])
    t.equal('GET settings as operator: 403', op.get(path).status, 403)
    t.equal('PUT settings without CSRF: 403',
            ad.request('PUT', path, json_body={'approval_required': True}, csrf=False).status, 403)
    t.equal('PUT settings with a bad body: 400',
            [ad.request('PUT', path, json_body={'approval_required': 'yes'}).status,
             ad.request('PUT', path, json_body={'approval_required': True, 'x': 1}).status], [400, 400])
    r = ad.request('PUT', path, json_body={'approval_required': True})
    d = r.json() or {}
    t.equal('PUT settings as admin: 200', (r.status, d.get('queue'), d.get('approval_required'), d.get('updated_by')),
            (200, QUEUE, True, 'ad1'))
    t.equal('the row', q(env, 'SELECT queue, approval_required, updated_by FROM queue_setting'),
            [[QUEUE, 't', 'ad1']])
    t.equal('GET settings back', (ad.get(path).json() or {}).get('approval_required'), True)


def check_held(t, env, op1, tid, msg_in, sink):
    to = [f'{rp.CITIZEN[0]} <{rp.CITIZEN[1]}>']
    body = '子育て支援についてご回答します。\n保育園の申込みは区役所で受け付けています。\n'
    d = rp.draft(msg_in, to, '', body)
    p = op1.request('POST', f'/api/tickets/{tid}/reply/preview', json_body=d).json() or {}
    t.equal('preview says the reply will wait for approval (queue)', p.get('approval'), 'queue')
    r = op1.request('POST', f'/api/tickets/{tid}/reply', json_body=d)
    s = r.json() or {}
    t.equal('send in a queue with approval: 201 awaiting_approval, no send time, status unchanged',
            (r.status, s.get('state'), s.get('approval'), s.get('send_at'), s.get('ticket_status')),
            (201, 'awaiting_approval', 'queue', None, 'new'))
    oid, mid = s.get('outbound_id'), s.get('message_id')
    t.equal('outbound_mail row: held, never attempted',
            out_row(env, oid), {'state': 'awaiting_approval', 'attempts': '0', 'approval': 'queue',
                                'template': '-', 'review': '-', 'reviewed_by': '-', 'comment': '-',
                                'created_by': 'op1'})
    t.equal('message: awaiting_approval', delivery(env, mid), ['awaiting_approval', '-'])
    t.equal('timeline: reply_awaiting_approval naming the reason', last_events(env, tid, 1),
            [('reply_awaiting_approval', 'op1', f'message {mid}, outbound {oid}, approval: queue')])
    dr = json.loads(q(env, f'SELECT draft::text FROM outbound_mail WHERE id = {oid}')[0][0])
    t.equal('the draft kept (names quoted as in a header)', dr,
            {'to': [f'"{rp.CITIZEN[0]}" <{rp.CITIZEN[1]}>'], 'cc': [], 'bcc': [], 'subject': '',
             'body': body, 'attachments': [], 'replying_to': msg_in, 'keep_visible': True,
             'template': None})
    time.sleep(DELAY + 2.5)
    t.equal('well after the send delay: nothing at the relay, still held, no attempt',
            (len(sink.messages()), out_row(env, oid)['state'], out_row(env, oid)['attempts']),
            (0, 'awaiting_approval', '0'))
    tk = op1.get(f'/api/tickets/{tid}').json() or {}
    dv = [m['delivery'] for m in tk.get('messages', []) if m.get('delivery')]
    t.equal('ticket page: the held reply, cancellable, with its approval',
            [(x['state'], x['outbound_state'], x['can_cancel'], x['approval']) for x in dv],
            [('awaiting_approval', 'awaiting_approval', True,
              {'reason': 'queue', 'template': None, 'review': None, 'reviewed_by': None,
               'reviewed_at': None, 'comment': None})])
    return oid, mid, body


def check_lists(t, op1, op2, sv, vw, ad, tid, oid, body):
    t.equal('GET /api/approvals: the author does not see their own', op1.get('/api/approvals').json(),
            {'approvals': [], 'limit': 200})
    r = op2.get('/api/approvals')
    a = (r.json() or {}).get('approvals') or [{}]
    want = {'id': oid, 'ticket_id': tid, 'state': 'awaiting_approval', 'created_by': 'op1',
            'approval': 'queue', 'template': None, 'subject': f'Re: [受付番号:{tid}] 件名 held',
            'to': f'{rp.CITIZEN[0]} <{rp.CITIZEN[1]}>', 'cc': '', 'body': body,
            'rcpt': [rp.CITIZEN[1]], 'bcc': [], 'ticket_subject': '件名 held', 'queue': QUEUE,
            'attachments': [], 'can_decide': True, 'review': None, 'comment': None}
    t.equal('GET /api/approvals as another operator: the preview',
            (r.status, len((r.json() or {}).get('approvals', [])), {k: a[0].get(k) for k in want}),
            (200, 1, want))
    s = (sv.get('/api/approvals').json() or {}).get('approvals') or [{}]
    t.equal('a supervisor sees it too, may decide', [(x['id'], x['can_decide']) for x in s], [(oid, True)])
    t.equal('viewer and admin: 403 on the list', [vw.get('/api/approvals').status, ad.get('/api/approvals').status],
            [403, 403])
    g = op1.get(f'/api/outbound/{oid}').json() or {}
    t.equal('GET /api/outbound/ID for the author: the draft, may not decide',
            (g.get('state'), g.get('can_decide'), (g.get('draft') or {}).get('body')),
            ('awaiting_approval', False, body))
    t.equal('GET /api/outbound/ID: viewer 403, unknown 404',
            [vw.get(f'/api/outbound/{oid}').status, op1.get('/api/outbound/99999').status], [403, 404])


def check_approve(t, env, op1, op2, vw, ad, tid, oid, mid, sink):
    t.equal('the author approving their own: 403',
            (op1.request('POST', f'/api/outbound/{oid}/approve', json_body={}).status,
             out_row(env, oid)['state']), (403, 'awaiting_approval'))
    t.equal('viewer, admin approve: 403; no CSRF: 403',
            [vw.request('POST', f'/api/outbound/{oid}/approve', json_body={}).status,
             ad.request('POST', f'/api/outbound/{oid}/approve', json_body={}).status,
             op2.request('POST', f'/api/outbound/{oid}/approve', json_body={}, csrf=False).status],
            [403, 403, 403])
    t0 = time.time()
    r = op2.request('POST', f'/api/outbound/{oid}/approve', json_body={'comment': '内容を確認しました'})
    s = r.json() or {}
    t.equal('a second operator approves: 200 queued',
            (r.status, s.get('state'), s.get('review'), s.get('outbound_id')), (200, 'queued', 'approved', oid))
    row = out_row(env, oid)
    t.equal('row: approved by op2 with the comment',
            (row['review'], row['reviewed_by'], row['comment'], row['created_by']),
            ('approved', 'op2', '内容を確認しました', 'op1'))
    wait = q(env, f"SELECT extract(epoch FROM not_before - reviewed_at) FROM outbound_mail WHERE id = {oid}")
    t.equal('not_before is the send delay after the approval', float(wait[0][0]), float(DELAY))
    # (not simply the last event: under load escalationd may have sent it already)
    t.equal('timeline: reply_approved by op2', [e for e in last_events(env, tid, 2) if e[0] != 'mail_sent'][-1:],
            [('reply_approved', 'op2', f'outbound {oid}: 内容を確認しました')])
    t.equal('ticket: waiting for the citizen now', q(env, f'SELECT status FROM ticket WHERE id = {tid}'),
            [['waiting_citizen']])
    t.check('delivered after approval', wait_state(env, oid, 'sent', 15), str(out_row(env, oid)))
    t.check('not before the send delay', time.time() - t0 >= DELAY - 0.2, time.time() - t0)
    time.sleep(0.3)
    raw = rp.raw_of(env, oid)
    mine = sent_to_sink(sink, ts.lf(raw))
    t.equal('the relay got it once, exactly the stored bytes', (len(mine), len(sink.messages())), (1, 1))
    t.equal('approve again: 409', op2.request('POST', f'/api/outbound/{oid}/approve', json_body={}).status, 409)
    t.equal('message: sent', delivery(env, mid)[0], 'sent')


def check_template_edit(t, env, op1, sv, tid, msg_in, sink):
    to = [rp.CITIZEN[1]]
    d = rp.draft(msg_in, to, '', '承認の要る回答です。\n', template=HELD_TPL)
    p = op1.request('POST', f'/api/tickets/{tid}/reply/preview', json_body=d).json() or {}
    t.equal('preview: a template with Approval: required holds it', p.get('approval'), 'template')
    t.equal('a template that does not exist: 400',
            op1.request('POST', f'/api/tickets/{tid}/reply', json_body=dict(d, template='999_なし')).status, 400)
    s = op1.request('POST', f'/api/tickets/{tid}/reply', json_body=d).json() or {}
    oid, mid = s.get('outbound_id'), s.get('message_id')
    t.equal('held by the template in a queue without the setting',
            (s.get('state'), out_row(env, oid).get('approval'), out_row(env, oid).get('template')),
            ('awaiting_approval', 'template', HELD_TPL))
    old_subject = q(env, f'SELECT subject FROM message WHERE id = {mid}')[0][0]
    new_body = '修正後の本文です。\n担当課からの回答をお伝えします。\n電話での確認は不要です。\n'
    new_subject = f'ご回答 [受付番号:{tid}]'
    edit = {'subject': new_subject, 'body': new_body, 'comment': '文面を修正'}
    r = sv.request('POST', f'/api/outbound/{oid}/edit-approve', json_body=edit)
    t.equal('edit-approve without ticks: 422 naming the recipient',
            (r.status, (r.json() or {}).get('unconfirmed_recipients'), out_row(env, oid)['state']),
            (422, [rp.CITIZEN[1]], 'awaiting_approval'))
    t.equal('edit-approve by the author: 403',
            op1.request('POST', f'/api/outbound/{oid}/edit-approve',
                        json_body=dict(edit, confirmed_recipients=to)).status, 403)
    r = sv.request('POST', f'/api/outbound/{oid}/edit-approve',
                   json_body=dict(edit, confirmed_recipients=to, confirmed_attachments=[]))
    t.equal('edit-approve by a supervisor: 200', (r.status, (r.json() or {}).get('review')), (200, 'edited'))
    t.equal('message row: the edited subject and body',
            q(env, f"SELECT subject, body_text = $b${new_body}$b$ FROM message WHERE id = {mid}"),
            [[new_subject, 't']])
    old_len = len(d['body'])
    t.equal('timeline: lengths, not the text',
            last_events(env, tid, 1),
            [('reply_edited_approved', 'sv1', f'outbound {oid}: subject {len(old_subject)} → '
              f'{len(new_subject)} characters, body {old_len} → {len(new_body)}'
              ' characters; 文面を修正')])
    t.check('delivered', wait_state(env, oid, 'sent', 15), str(out_row(env, oid)))
    time.sleep(0.3)
    raw = rp.raw_of(env, oid)
    got = sent_to_sink(sink, ts.lf(raw))
    t.equal('the relay got the rebuilt bytes once', len(got), 1)
    m = rp.parse(raw)
    t.equal('the mail: edited subject and body, threaded on the citizen\'s mail',
            (str(m['Subject']), m.get_body(('plain',)).get_content(), m['In-Reply-To']),
            (new_subject, new_body.replace('\n', '\r\n'), f'<held-tpl@example.jp>'))


def check_return(t, env, op1, op2, sv, tid, msg_in, sink):
    to = [rp.CITIZEN[1]]
    d = rp.draft(msg_in, to, '', '差し戻される回答です。\n')
    s = op1.request('POST', f'/api/tickets/{tid}/reply', json_body=d).json() or {}
    oid, mid = s.get('outbound_id'), s.get('message_id')
    t.equal('return without a comment: 400',
            op2.request('POST', f'/api/outbound/{oid}/return', json_body={'comment': '  '}).status, 400)
    r = op2.request('POST', f'/api/outbound/{oid}/return', json_body={'comment': '03-1234-5678 に確認して'})
    f = (r.json() or {}).get('findings') or [{}]
    t.equal('a phone number in the comment: 422, nothing stored',
            (r.status, f[0].get('kind'), f[0].get('text'), out_row(env, oid)['state']),
            (422, 'phone', '03-1234-5678', 'awaiting_approval'))
    t.equal('return by the author: 403; no CSRF: 403',
            [op1.request('POST', f'/api/outbound/{oid}/return', json_body={'comment': 'x'}).status,
             op2.request('POST', f'/api/outbound/{oid}/return', json_body={'comment': 'x'}, csrf=False).status],
            [403, 403])
    r = op2.request('POST', f'/api/outbound/{oid}/return', json_body={'comment': '宛名の敬称を確認してください'})
    t.equal('return: 200 returned', (r.status, (r.json() or {}).get('state')), (200, 'returned'))
    t.equal('rows: returned with the comment',
            (out_row(env, oid)['state'], out_row(env, oid)['review'], out_row(env, oid)['comment'],
             delivery(env, mid)), ('returned', 'returned', '宛名の敬称を確認してください', ['returned', '-']))
    t.equal('timeline: reply_returned with the comment', last_events(env, tid, 1),
            [('reply_returned', 'op2', f'outbound {oid}: 宛名の敬称を確認してください')])
    t.equal('approve a returned reply: 409',
            sv.request('POST', f'/api/outbound/{oid}/approve', json_body={}).status, 409)
    before = len(sink.messages())
    time.sleep(DELAY + 1.5)
    t.equal('nothing sent for it', len(sink.messages()), before)
    t.equal('still returned, never attempted', (out_row(env, oid)['state'], out_row(env, oid)['attempts']),
            ('returned', '0'))
    g = op1.get(f'/api/outbound/{oid}').json() or {}
    t.equal('the author reads it back to write again',
            (g.get('state'), g.get('comment'), g.get('reviewed_by'), (g.get('draft') or {}).get('body'),
             (g.get('draft') or {}).get('to')),
            ('returned', '宛名の敬称を確認してください', 'op2', '差し戻される回答です。\n', [rp.CITIZEN[1]]))
    tk = op1.get(f'/api/tickets/{tid}').json() or {}
    ap = [m['delivery']['approval'] for m in tk.get('messages', []) if m.get('delivery')]
    t.equal('ticket page: the return and its comment',
            [(a['review'], a['reviewed_by'], a['comment']) for a in ap],
            [('returned', 'op2', '宛名の敬称を確認してください')])
    r = op1.request('POST', f'/api/tickets/{tid}/reply', json_body=dict(d, body='書き直した回答です。\n'))
    s2 = r.json() or {}
    t.equal('sent again: a new row, held again; the returned one stays',
            (r.status, s2.get('state'), s2.get('outbound_id') != oid, out_row(env, oid)['state']),
            (201, 'awaiting_approval', True, 'returned'))
    r = op1.request('POST', f'/api/outbound/{s2.get("outbound_id")}/cancel')
    t.equal('the author withdraws the held one: cancelled',
            (r.status, out_row(env, s2.get('outbound_id'))['state'], delivery(env, s2.get('message_id'))),
            (200, 'cancelled', ['cancelled', 'cancelled by op1']))


def check_dead(t, env, esc, op1, sv, vw, ad, tid, msg_in, sink):
    hard = mdg.SmtpSink(env, ('-f', 'RCPT', '-B', '550 5.1.1 Recipient address rejected: test'),
                        name='sink-refusing').start()
    t.check('escalationd points at a refusing relay', ts.reload(env, esc, hard.port))
    d = rp.draft(msg_in, [rp.CITIZEN[1]], '', '届かない回答です。\n')
    s = op1.request('POST', f'/api/tickets/{tid}/reply', json_body=d).json() or {}
    oid, mid = s.get('outbound_id'), s.get('message_id')
    t.check('refused with 550: dead', wait_state(env, oid, 'dead', 15), str(out_row(env, oid)))
    err = f'every recipient was refused: {rp.CITIZEN[1]} (550 5.1.1 Recipient address rejected: test)'
    created = q(env, f"SELECT to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                     f" m.subject FROM outbound_mail o JOIN message m ON m.id = o.message_id WHERE o.id = {oid}")[0]
    want = {'outbound': [{'id': oid, 'ticket_id': tid, 'message_id': mid, 'rcpt': [rp.CITIZEN[1]],
                          'last_error': err, 'attempts': 1, 'created_at': created[0], 'created_by': 'op1',
                          'kind': 'reply', 'subject': created[1]}], 'limit': 500}
    r = sv.get('/api/outbound?state=dead')
    t.equal('GET /api/outbound?state=dead as supervisor: exactly the dead mail', (r.status, r.json()), (200, want))
    t.equal('... as admin: the same', ad.get('/api/outbound?state=dead').json(), want)
    t.equal('operator, viewer: 403; another state: 400',
            [op1.get('/api/outbound?state=dead').status, vw.get('/api/outbound?state=dead').status,
             sv.get('/api/outbound?state=queued').status], [403, 403, 400])
    t.equal('requeue by operator, admin, viewer: 403; no CSRF: 403',
            [op1.request('POST', f'/api/outbound/{oid}/requeue').status,
             ad.request('POST', f'/api/outbound/{oid}/requeue').status,
             vw.request('POST', f'/api/outbound/{oid}/requeue').status,
             sv.request('POST', f'/api/outbound/{oid}/requeue', csrf=False).status], [403, 403, 403, 403])
    t.equal('still dead', out_row(env, oid)['state'], 'dead')
    t.check('escalationd back on the good relay', ts.reload(env, esc, sink.port))
    before = len(sink.messages())
    r = sv.request('POST', f'/api/outbound/{oid}/requeue')
    t.equal('requeue by supervisor: 200', (r.status, r.json()),
            (200, {'outbound_id': oid, 'ticket_id': tid, 'state': 'queued'}))
    t.check('requeued: sent', wait_state(env, oid, 'sent', 15), str(out_row(env, oid)))
    t.equal('requeued_by sv1, attempts counted from 0',
            q(env, f'SELECT requeued_by, attempts FROM outbound_mail WHERE id = {oid}'), [['sv1', '1']])
    ev = [e for e in last_events(env, tid, 3) if e[0] in ('mail_dead', 'mail_requeued', 'mail_sent')]
    t.equal('timeline: dead, requeued by sv1, sent',
            [(e[0], e[1]) for e in ev], [('mail_dead', 'system'), ('mail_requeued', 'sv1'), ('mail_sent', 'system')])
    t.equal('the requeue event says which mail, as madoguchi-admin\'s does',
            [e[2] for e in ev if e[0] == 'mail_requeued'], [f'outbound_mail {oid}'])
    time.sleep(0.3)
    t.equal('one copy at the relay', (len(sink.messages()), len(sent_to_sink(sink, ts.lf(rp.raw_of(env, oid))))),
            (before + 1, 1))
    t.equal('requeue again: 409; unknown: 404',
            [sv.request('POST', f'/api/outbound/{oid}/requeue').status,
             sv.request('POST', '/api/outbound/99999/requeue').status], [409, 404])
    t.equal('nothing dead now', sv.get('/api/outbound?state=dead').json(), {'outbound': [], 'limit': 500})
    hard.stop()


def check_viewer_everywhere(t, vw, oid):
    paths = [('GET', '/api/approvals'), ('GET', f'/api/outbound/{oid}'), ('POST', f'/api/outbound/{oid}/approve'),
             ('POST', f'/api/outbound/{oid}/edit-approve'), ('POST', f'/api/outbound/{oid}/return'),
             ('GET', '/api/outbound?state=dead'), ('POST', f'/api/outbound/{oid}/requeue'),
             ('GET', '/api/admin/queues/general/settings'), ('PUT', '/api/admin/queues/general/settings')]
    t.equal('viewer: 403 on every approval and dead-mail endpoint',
            [vw.request(m, p, json_body={} if m != 'GET' else None).status for m, p in paths], [403] * len(paths))


def check_contact_grant(t, env, vw, tid):
    path = f'/api/tickets/{tid}/contact?reason=x'
    t.equal('viewer without a grant: 403 on contact details', vw.get(path).status, 403)
    bad = [env.admin('contact-grant', 'op1', '--until', '2099-12-31', '--reason', '調査').returncode,
           env.admin('contact-grant', 'vw1', '--until', '2099-02-30', '--reason', '調査').returncode,
           env.admin('contact-grant', 'vw1', '--until', '2000-01-01', '--reason', '調査').returncode,
           env.admin('contact-grant', 'nobody', '--until', '2099-12-31', '--reason', '調査').returncode,
           env.admin('contact-grant', 'vw1', '--until', '2099-12-31').returncode]
    t.equal('refused: an operator, 2/30, a past day, no such user; no reason is a usage error', bad, [1, 1, 1, 1, 2])
    r = env.admin('contact-grant', 'vw1', '--until', '2099-12-31', '--reason', '区の苦情調査のため')
    t.equal('contact-grant says so', (r.returncode, r.stdout),
            (0, 'vw1 may read contact details until the end of 2099-12-31 (Tokyo)\n'))
    row = q(env, "SELECT u.login, g.granted_by LIKE 'madoguchi-admin (%)', g.expires_at AT TIME ZONE 'UTC',"
                 " g.reason FROM contact_grant g JOIN app_user u ON u.id = g.user_id")
    t.equal('the grant row: until the end of the day in Tokyo', row,
            [['vw1', 't', '2099-12-31 15:00:00', '区の苦情調査のため']])
    r = vw.get(path)
    t.equal('viewer with the grant: 200', (r.status, (r.json() or {}).get('ticket_id')), (200, tid))
    r = env.admin('contact-revoke', 'vw1')
    t.equal('contact-revoke says so', (r.returncode, r.stdout), (0, 'vw1 may no longer read contact details\n'))
    t.equal('viewer after the revoke: 403', vw.get(path).status, 403)
    t.equal('revoke again: nothing to do', env.admin('contact-revoke', 'vw1').stdout, 'vw1 had no grant\n')


def main():
    with mdg.Env('approval') as env:
        env.start_db()
        folder = os.path.join(env.root, 'templates', 'reply')
        shutil.copytree(os.path.join(mdg.REPO, 'templates', 'reply'), folder)
        with open(os.path.join(folder, HELD_TPL + '.txt'), 'w', encoding='utf-8') as f:
            f.write(HELD_TPL_TEXT)
        sink = mdg.SmtpSink(env).start()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}', 'mail.from_addr': rp.FROM_ADDR,
                            'mail.from_name': rp.FROM_NAME, 'mail.message_id_domain': rp.MSGID_DOMAIN,
                            'ticketd.reply_templates': folder, 'ticketd.send_delay_seconds': str(DELAY)})
        ts.sender_config(env, sink.port)
        for u in USERS:
            env.add_user(*u)
        env.start('ingest-mail')
        tick = env.start('ticketd')
        esc = env.start('escalationd')
        t.check('escalationd started', esc.wait_log('started', 10), esc.log_text())
        if not mdg.wait_for(lambda: ts_listening(port), 10):
            t.fail('ticketd listens', tick.log_text()[-1500:])
            t.done()
        op1, op2, sv, vw, ad = (login(port, u[0]) for u in USERS)
        check_queue_settings(t, env, ad, op1, vw)
        tid, msg = new_ticket(env, 'held', QUEUE)
        oid, mid, body = check_held(t, env, op1, tid, msg, sink)
        check_lists(t, op1, op2, sv, vw, ad, tid, oid, body)
        check_viewer_everywhere(t, vw, oid)
        check_approve(t, env, op1, op2, vw, ad, tid, oid, mid, sink)
        tid2, msg2 = new_ticket(env, 'held-tpl')
        check_template_edit(t, env, op1, sv, tid2, msg2, sink)
        tid3, msg3 = new_ticket(env, 'held-return', QUEUE)
        check_return(t, env, op1, op2, sv, tid3, msg3, sink)
        tid4, msg4 = new_ticket(env, 'dead')
        check_dead(t, env, esc, op1, sv, vw, ad, tid4, msg4, sink)
        check_contact_grant(t, env, vw, tid4)
        t.check('ticketd alive, no errors logged', tick.alive() and '] error:' not in tick.log_text(),
                tick.log_text()[-2000:])
        t.check('escalationd alive', esc.alive())
        esc.signal(signal.SIGTERM)
    t.done()


if __name__ == '__main__':
    main()
