#!/usr/bin/python3
"""Retention: madoguchi-admin purge deletes correspondence, keeps the case history.

Private PostgreSQL, ingest-mail on the Maildir, ticketd.  Three citizen mails
become tickets A, B, C; A and B carry the same attachment bytes (one blob).
Through the API: a contact on A, the same contact linked to C, another
contact on B, an internal note and a case record on A; A and B resolved.
A is backdated 400 days, B 10 days.  Then:

- `purge` with retention.correspondence_days = 0 and no --days refuses;
- `purge --dry-run --days 365` counts A only and changes nothing;
- `purge --days 365`: A's subject, message texts, raw item, note, search rows,
  attachment rows and contact link are gone; the shared blob stays (B has
  it), the contact stays (C links it); A's row, events and case record are as
  before plus one 'purged' event; B and C are untouched row for row; the run
  and the deletion report hold the exact counts; the contact_access log keeps
  its rows; GET /api/tickets/A says purged_at with empty texts;
- B backdated too and a second run: the blob and B's own contact go now;
- `purge-report` lists both runs and prints run 1's CSV exactly.

Run: /usr/bin/python3 tests/integration/test_purge.py
"""
import os
import sys
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import Client, _listening  # noqa: E402

t = mdg.Checks('purge')
PDF = b'%PDF-1.4\n% madoguchi purge test\n' + bytes(range(256)) * 8
OWNER = 'madoguchi_owner'


def mail(n, subject, attach):
    m = EmailMessage()
    m['From'] = f'市民 {n} <citizen{n}@example.jp>'
    m['To'] = 'madoguchi@city.example.lg.jp'
    m['Subject'] = subject
    m['Date'] = formatdate(localtime=False)
    m['Message-ID'] = f'<purge-{n}@example.jp>'
    m.set_content(f'粗大ごみの申込について（{n}）。電話は03-1234-567{n}です。\n')
    if attach:
        m.add_attachment(PDF, maintype='application', subtype='pdf', filename='申込書.pdf')
    return m.as_bytes()


def q1(env, sql):
    return env.pg.psql(sql, user=OWNER)


def snapshot(env, tid):
    """every correspondence and history row of one ticket, as text"""
    return {
        'ticket': q1(env, f'SELECT t::text FROM ticket t WHERE id = {tid}'),
        'messages': q1(env, f'SELECT m::text FROM message m WHERE ticket_id = {tid} ORDER BY id'),
        'attachments': q1(env, 'SELECT a::text FROM attachment a JOIN message m ON m.id = a.message_id'
                               f' WHERE m.ticket_id = {tid} ORDER BY a.message_id, a.idx'),
        'raw': q1(env, 'SELECT length(i.raw), i.flags::text FROM inbound_item i JOIN message m'
                       f' ON m.inbound_item_id = i.id WHERE m.ticket_id = {tid}'),
        'notes': q1(env, f'SELECT n::text FROM ticket_note n WHERE ticket_id = {tid} ORDER BY id'),
        'search': q1(env, f'SELECT kind, source_id FROM search_doc WHERE ticket_id = {tid} ORDER BY 1, 2'),
        'links': q1(env, f'SELECT contact_id, role FROM ticket_contact WHERE ticket_id = {tid}'),
        'events': q1(env, f'SELECT e::text FROM ticket_event e WHERE ticket_id = {tid} ORDER BY id'),
        'case': q1(env, f'SELECT c::text FROM case_record c WHERE ticket_id = {tid}'),
    }


def admin(env, *args):
    r = env.admin(*args)
    return r.returncode, r.stdout, r.stderr


def setup(env, op):
    env.maildir_drop(mail(1, '粗大ごみ A', True))
    env.maildir_drop(mail(2, '粗大ごみ B', True))
    env.maildir_drop(mail(3, '粗大ごみ C', False))
    ids = {}
    for k in 'ABC':
        got = mdg.wait_for(lambda: env.sql(f"SELECT id FROM ticket WHERE subject = '粗大ごみ {k}'"), 20)
        ids[k] = int(got[0][0]) if got else None
    if None in ids.values():
        raise RuntimeError(f'the mails did not become tickets: {ids}')
    a, b, c = ids['A'], ids['B'], ids['C']
    mdg.wait_for(lambda: int(env.sql(f'SELECT count(*) FROM search_doc WHERE ticket_id IN ({a},{b},{c})')[0][0]) == 3,
                 20)
    contact = {'name': '山田 太郎', 'phone': '03-1234-5671', 'email': 'citizen1@example.jp'}
    r = op.request('PUT', f'/api/tickets/{a}/contact', json_body=contact)
    cid = int(r.json()['contact']['id'])
    t.equal('contact linked to C as well', op.request('PUT', f'/api/tickets/{c}/contact',
                                                      json_body=dict(contact, contact_id=cid)).status, 200)
    r = op.request('PUT', f'/api/tickets/{b}/contact', json_body={'name': '佐藤 花子', 'phone': '03-1234-5672'})
    cid_b = int(r.json()['contact']['id'])
    t.equal('a note on A', op.request('POST', f'/api/tickets/{a}/notes', json_body={'text': '申込済み'}).status, 201)
    t.equal('a case record on A', op.request('PUT', f'/api/tickets/{a}/case', json_body={
        'inquiry_summary': '粗大ごみの申込方法', 'answer_summary': '受付センターを案内',
        'resolution': 'answered'}).status, 200)
    mdg.wait_for(lambda: int(env.sql(f"SELECT count(*) FROM search_doc WHERE ticket_id = {a}")[0][0]) == 2, 20)
    for x in (a, b):
        t.equal(f'ticket {x} resolved', op.request('POST', f'/api/tickets/{x}/status', json_body={
            'status': 'resolved', 'resolution': 'answered'}).status, 200)
    q1(env, f"UPDATE ticket SET resolved_at = now() - interval '400 days' WHERE id = {a}")
    q1(env, f"UPDATE ticket SET resolved_at = now() - interval '10 days' WHERE id = {b}")
    # ticketd recomputes due times after a status change (sql/020): let it, so that the
    # rows compared below change only by the purge
    mdg.wait_for(lambda: q1(env, 'SELECT count(*) FROM ticket WHERE sla_dirty') == [['0']], 20)
    return a, b, c, cid, cid_b


def first_run(env, op, a, b, c, cid):
    before = {x: snapshot(env, x) for x in (a, b, c)}
    rc, out, err = admin(env, 'purge')
    t.equal('purge with retention 0 and no --days: refused, exit 1', (rc, 'nothing is purged' in err), (1, True))
    rc, out, err = admin(env, 'purge', '--dry-run', '--days', '365')
    t.check('dry run: counts one ticket', rc == 0 and out.startswith('1 ticket(s) finished more than 365 days'),
            out + err)
    t.equal('dry run changed nothing', {x: snapshot(env, x) for x in (a, b, c)}, before)
    t.equal('dry run opened no run', q1(env, 'SELECT count(*) FROM purge_run'), [['0']])
    access_before = q1(env, 'SELECT count(*) FROM contact_access')
    # two calls that made no ticket (an abandoned call two years ago, one last week): numbers are
    # contact details, purged by age with the same cutoff (sql/027 call_purge_unticketed)
    env.pg.psql("INSERT INTO call_pbx (name, secret) VALUES ('pbx1', 'a-secret-of-twenty-chars');"
                " INSERT INTO call (pbx, call_id, from_number, state, offered_at, ended_at, created_at, updated_at)"
                " VALUES ('pbx1', 'old-1', '0312345678', 'abandoned', now() - interval '2 years',"
                "  now() - interval '2 years', now() - interval '2 years', now() - interval '2 years'),"
                " ('pbx1', 'new-1', '0398765432', 'abandoned', now() - interval '7 days',"
                "  now() - interval '7 days', now() - interval '7 days', now() - interval '7 days')",
                user='madoguchi_owner')
    rc, out, err = admin(env, 'purge', '--days', '365', '--reason', '保存期間経過（1年）')
    t.equal('calls without a ticket: the old one loses its number, the recent one keeps it',
            q1(env, "SELECT call_id, from_number FROM call ORDER BY call_id"),
            [['new-1', '0398765432'], ['old-1', '']])
    t.equal('purge --days 365: the summary', (rc, out.strip()),
            (0, 'purge run 1: 1 tickets, 1 messages, 1 attachments (0 bodies, 0 bytes freed),'
                ' 1 raw items, 0 outgoing mails, 1 notes, 0 contacts, 0 uploads'))
    after = snapshot(env, a)
    t.equal('A: subject emptied, purged_at and run set',
            q1(env, f'SELECT subject, correspondent IS NULL, purged_at IS NOT NULL, purge_run_id FROM ticket'
                    f' WHERE id = {a}'), [['', 't', 't', '1']])
    t.equal('A: the message row kept, every text emptied',
            q1(env, 'SELECT direction, subject, from_name, from_addr, to_list, body_text, body_html IS NULL,'
                    f' message_id_hdr IS NULL, parse_state FROM message WHERE ticket_id = {a}'),
            [['in', '', '', '', '', '', 't', 't', 'ok']])
    t.equal('A: no attachment rows, raw bytes gone and flagged, no note, no search rows, no contact link',
            (after['attachments'], after['raw'], after['notes'], after['search'], after['links']),
            ([], [['0', '{purged}']], [], [], []))
    t.equal('the shared attachment body stays (B has it)',
            q1(env, f"SELECT count(*) FROM blob WHERE sha256 = sha256(decode('{PDF.hex()}', 'hex'))"), [['1']])
    t.equal('the contact stays (C links it)', q1(env, f'SELECT name FROM contact WHERE id = {cid}'), [['山田 太郎']])
    t.equal('A: the case record unchanged', after['case'], before[a]['case'])
    t.equal('A: the events as before plus one purged event',
            (after['events'][:-1], q1(env, f'SELECT actor LIKE \'madoguchi-admin (%\', kind, detail FROM ticket_event'
                                           f' WHERE ticket_id = {a} ORDER BY id DESC LIMIT 1')),
            (before[a]['events'], [['t', 'purged', 'run 1']]))
    t.equal('B and C untouched row for row', {x: snapshot(env, x) for x in (b, c)}, {x: before[x] for x in (b, c)})
    t.equal('the contact_access log keeps every row', q1(env, 'SELECT count(*) FROM contact_access'), access_before)
    t.equal('the run row',
            q1(env, 'SELECT reason, tickets, messages, attachments, blobs, blob_bytes, raw_items, outbound,'
                    ' notes, contacts, finished_at IS NOT NULL FROM purge_run'),
            [['保存期間経過（1年）', '1', '1', '1', '0', '0', '1', '0', '1', '0', 't']])
    t.equal('the deletion report row',
            q1(env, 'SELECT run_id, ticket_id, channel, messages, attachments, notes, contact_ids FROM purge_ticket'),
            [['1', str(a), 'mail', '1', '1', '1', '{' + str(cid) + '}']])
    r = op.get(f'/api/tickets/{a}')
    doc = r.json()
    t.equal('GET the purged ticket: 200, purged_at, empty texts, no attachments',
            (r.status, bool(doc.get('purged_at')), doc['subject'],
             [(m['subject'], m['body_text'], m['from_addr'], m.get('attachments')) for m in doc['messages']]),
            (200, True, '', [('', '', '', [])]))
    t.equal('search for 粗大 finds A no more, B and C still', sorted(x['ticket_id'] for x in op.get(
        '/api/search?q=' + quote('粗大')).json()['tickets']), sorted([b, c]))
    rc, out, err = admin(env, 'purge', '--days', '365')
    t.equal('a second run at once purges nothing', (rc, out.strip()),
            (0, 'purge run 2: 0 tickets, 0 messages, 0 attachments (0 bodies, 0 bytes freed),'
                ' 0 raw items, 0 outgoing mails, 0 notes, 0 contacts, 0 uploads'))


def second_run(env, a, b, c, cid, cid_b):
    q1(env, f"UPDATE ticket SET resolved_at = now() - interval '500 days' WHERE id = {b}")
    before_c = snapshot(env, c)
    rc, out, err = admin(env, 'purge', '--days', '365')
    t.equal('B purged now: its blob and its own contact go with it', (rc, out.strip()),
            (0, f'purge run 3: 1 tickets, 1 messages, 1 attachments (1 bodies, {len(PDF)} bytes freed),'
                ' 1 raw items, 0 outgoing mails, 0 notes, 1 contacts, 0 uploads'))
    t.equal('the blob is gone', q1(env, f"SELECT count(*) FROM blob WHERE sha256 = sha256(decode('{PDF.hex()}', 'hex'))"),
            [['0']])
    t.equal('B\'s contact is gone, A\'s (linked to C) stays',
            q1(env, f'SELECT id FROM contact WHERE id IN ({cid}, {cid_b}) ORDER BY id'), [[str(cid)]])
    t.equal('C still untouched', snapshot(env, c), before_c)
    rc, out, err = admin(env, 'purge-report')
    lines = out.splitlines()
    t.equal('purge-report: a header and three runs',
            (rc, lines[0], [ln.split(',')[0] + ',' + ln.split(',')[4] for ln in lines[1:]]),
            (0, 'run,started_jst,by,cutoff_jst,tickets,messages,attachments,contacts,state,reason',
             ['1,1', '2,0', '3,1']))
    rc, out, err = admin(env, 'purge-report', '1')
    fin = q1(env, f"SELECT to_char(resolved_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI') FROM ticket"
                  f" WHERE id = {a}")[0][0]
    t.equal('purge-report 1: the deletion report as CSV', (rc, out),
            (0, 'ticket,channel,finished_jst,messages,attachments,notes,contacts\n'
                f'{a},mail,{fin},1,1,1,1\n'))
    t.equal('purge-report with a bad run id: usage, exit 2', admin(env, 'purge-report', 'x')[0], 2)


def main():
    with mdg.Env('purge') as env:
        env.start_db()
        port = mdg.free_port()
        env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
        env.add_user('op1', 'operator', 'operator-pass-1', 'オペレーター')
        env.start('ingest-mail')
        d = env.start('ticketd')
        try:
            if not mdg.wait_for(lambda: _listening(port), 10):
                raise RuntimeError('ticketd did not start')
            op = Client(port)
            op.login('op1', 'operator-pass-1')
            a, b, c, cid, cid_b = setup(env, op)
            first_run(env, op, a, b, c, cid)
            second_run(env, a, b, c, cid, cid_b)
            t.check('ticketd still running', d.alive())
        except Exception as e:  # a crash is a failure with its reason, then the summary
            t.fail('scenario ran to the end', f'{type(e).__name__}: {e}')
            print('# --- ticketd log tail ---\n' + d.log_text()[-2000:], flush=True)
    t.done()


if __name__ == '__main__':
    main()
