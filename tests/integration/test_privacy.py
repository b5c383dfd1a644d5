#!/usr/bin/python3
"""Personal data apart from the case history (issue 5; sql/006,
ticketd/casebook.c, ticketd/contacts.c), against a real PostgreSQL, ticketd
and ingest-mail.

A citizen with distinctive details writes in through the Maildir; the
operator records the case (応対履歴), saves her contact, writes a note;
supervisors, viewers (with and without a grant) and the admin read what
they may.  Checked:
- a case record saved and read back exactly; each shape of contact detail
  in a summary refused with 422 and the exact findings, nothing stored;
- viewers read the case history (GET case, GET /api/cases) but get 403 on
  contacts unless granted, and never write; the CSRF token is required;
- every read, search and write of a contact leaves exactly one
  contact_access row naming the user, the contact and the reason;
- the issue's test: a sweep of every column of every table other than the
  contact store and the raw correspondence finds none of her details, in
  any form (as typed, NFKC, digits only).
"""
import os
import sys
import time
import unicodedata
from urllib.parse import quote
from email.message import EmailMessage
from email.utils import formatdate

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import USERS, Client  # noqa: E402

t = mdg.Checks('privacy')
ROLES = ['operator', 'supervisor', 'viewer', 'admin']
GRANTED = ('vw2', 'viewer', 'viewer-pass-2', '区 調査員')

# the citizen: every detail is distinctive, so a sweep cannot meet it by chance
NAME = '桐谷 澪'
KANA = 'キリタニ ミオ'
PHONE = '03-5555-0142'
FAX = '03-5555-0143'
MAIL = 'mio.kiritani@example.net'
POSTAL = '105-0011'
ADDRESS = '東京都港区芝公園9-8-7 白樺ハイツ305'
SUBJECT = '粗大ごみの収集日について'
BODY = (f'粗大ごみの収集日を教えてください。\n連絡先は {PHONE}、住所は〒{POSTAL} {ADDRESS} です。\n'
        f'{NAME}\n')
NOTE = f'折り返し希望 {PHONE}（{NAME}様）'


def citizen_mail():
    m = EmailMessage()
    m['From'] = f'{NAME} <{MAIL}>'
    m['To'] = 'soudan@city.example.lg.jp'
    m['Subject'] = SUBJECT
    m['Date'] = formatdate(time.time(), localtime=True)
    m['Message-ID'] = f'<{time.time_ns()}.privacy@example.net>'
    m.set_content(BODY)
    return bytes(m).replace(b'\n', b'\r\n')


def u16(s):
    return len(s.encode('utf-16-le')) // 2


def finding(field, kind, text, where):
    """The expected finding for `text` inside the field's value `where`."""
    start = u16(where[:where.index(text)])
    return {'field': field, 'kind': kind, 'start': start, 'end': start + u16(text), 'text': text}


CLEAN = {'inquiry_summary': '粗大ごみの収集日と申込方法について。',
         'answer_summary': '収集日は毎月第2水曜日、2026-11-22 10:30 受付分から。手数料1,000円、受付番号 12345。1番窓口を案内。',
         'category': '環境/清掃事務所/粗大ごみ係', 'resolution': 'answered', 'escalated_to': None}

# (field, value, [(kind, text)]) : each refused with exactly these findings
PII_CASES = [
    ('inquiry_summary', f'電話 {PHONE} に折り返し', [('phone', PHONE)]),
    ('inquiry_summary', '０３ー５５５５ー０１４２へ連絡', [('phone', '０３ー５５５５ー０１４２')]),
    ('inquiry_summary', '携帯090-1234-5678', [('phone', '090-1234-5678')]),
    ('inquiry_summary', '0355550142', [('phone', '0355550142')]),
    ('inquiry_summary', '(03)5555-0142 代表', [('phone', '(03)5555-0142')]),
    ('answer_summary', '+81 3-5555-0142 へ', [('phone', '+81 3-5555-0142')]),
    ('answer_summary', f'{MAIL} から', [('email', MAIL)]),
    ('answer_summary', 'ｍｉｏ＠ｅｘａｍｐｌｅ．ｎｅｔ', [('email', 'ｍｉｏ＠ｅｘａｍｐｌｅ．ｎｅｔ')]),
    ('inquiry_summary', f'〒{POSTAL}', [('postal_code', f'〒{POSTAL}')]),
    ('inquiry_summary', f'送付先 {POSTAL}', [('postal_code', POSTAL)]),
    ('inquiry_summary', '東京都港区芝公園9-8-7に住む', [('address', '東京都港区芝公園9-8-7')]),
    ('answer_summary', '芝公園四丁目2番8号', [('address', '芝公園四丁目2番8号')]),
    ('answer_summary', '大字下山123番地の4', [('address', '大字下山123番地の4')]),
    ('category', PHONE, [('phone', PHONE)]),
    ('escalated_to', 'kucho@example.jp', [('email', 'kucho@example.jp')]),
    ('inquiry_summary', f'TEL {PHONE} / mio@example.net / 〒{POSTAL} 東京都港区芝公園9-8-7',
     [('phone', PHONE), ('email', 'mio@example.net'), ('postal_code', f'〒{POSTAL}'),
      ('address', '東京都港区芝公園9-8-7')]),
]

# correspondence: where her details are supposed to be, and why.  A table
# name alone excludes the table; (table, column) one column.
EXCLUDED = {
    'inbound_item': 'the raw mail as received (correspondence, kept byte for byte)',
    'message': 'the decoded mail: sender, recipients, subject, body (correspondence)',
    'attachment': 'attachment names of the mail (correspondence)',
    'reply_upload': 'files uploaded for replies (correspondence)',
    'blob': 'attachment bytes (correspondence)',
    'outbound_mail': 'replies as sent, addressed to the citizen (correspondence)',
    'search_doc': 'the search index of the messages, derived from correspondence',
    'ticket_note': 'internal notes: free text typed by operators, kept with the correspondence (sql/004)',
    'contact': 'the contact store itself',
    'ticket_contact': 'the contact store: which contact a ticket is about (ids only)',
    ('ticket', 'subject'): 'the subject the citizen wrote (correspondence)',
    ('ticket', 'correspondent'): "the citizen's mail address, for threading replies (correspondence)",
}


def forms(detail):
    """A detail as typed, NFKC, lowercased, and digits only (when it has 7+ digits)."""
    out = {detail, unicodedata.normalize('NFKC', detail), detail.lower(), detail.replace(' ', '')}
    digits = ''.join(ch for ch in unicodedata.normalize('NFKC', detail) if ch.isdigit())
    return sorted(out), digits if len(digits) >= 7 else None


DETAILS = [NAME, KANA, PHONE, FAX, MAIL, POSTAL, ADDRESS, '白樺ハイツ', 'mio.kiritani']


def sql_lit(s):
    return "'" + s.replace("'", "''") + "'"


def detail_conds(text, is_bytea, d):
    variants, digits = forms(d)
    if is_bytea:
        return [f"position(convert_to({sql_lit(v)}, 'UTF8') in {text}) > 0" for v in variants]
    conds = [f"lower(normalize({text}, NFKC)) LIKE {sql_lit('%' + v.lower() + '%')}" for v in variants]
    conds += [f"strpos({text}, {sql_lit(v)}) > 0" for v in variants]
    if digits:
        conds.append(f"regexp_replace(normalize({text}, NFKC), '[^0-9]', '', 'g')"
                     f" LIKE {sql_lit('%' + digits + '%')}")
    return conds


def sweep(env, excluded=None):
    """Every text, json, array and bytea column of every table not excluded,
    searched for every form of every detail (one query per table); the
    (table, column, detail, rows) hits and the tables swept."""
    cols = env.sql("SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
                   " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
                   "  AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'"
                   " WHERE c.table_schema = 'public' AND c.data_type IN ('text', 'character varying',"
                   " 'character', 'json', 'jsonb', 'ARRAY', 'bytea', 'USER-DEFINED', 'tsvector')"
                   " ORDER BY 1, 2")
    excluded = EXCLUDED if excluded is None else excluded
    per_table = {}
    for table, column, dtype in cols:
        if table in excluded or (table, column) in excluded:
            continue
        per_table.setdefault(table, []).append((column, dtype))
    hits = []
    for table, columns in sorted(per_table.items()):
        cells = []
        for column, dtype in columns:
            text = f'"{column}"' if dtype == 'bytea' else f'"{column}"::text'
            for d in DETAILS:
                cond = ' OR '.join(detail_conds(text, dtype == 'bytea', d))
                cells.append(((column, d), f'count(*) FILTER (WHERE {cond})'))
        counts = env.sql(f'SELECT {", ".join(c for _, c in cells)} FROM "{table}"')[0]
        hits += [(table, col, d, int(n)) for ((col, d), _), n in zip(cells, counts) if n != '0']
    return hits, set(per_table)


def audit_rows(env):
    return env.sql("SELECT id, login, role, action, coalesce(contact_id::text, ''),"
                   " coalesce(ticket_id::text, ''), array_to_string(contact_ids, ','), reason,"
                   " remote_addr FROM contact_access ORDER BY id")


class World:
    def __init__(self, env, port):
        self.env = env
        self.port = port
        self.c = {}
        for login, role, pw, _ in USERS + [GRANTED]:
            cl = Client(port)
            r = cl.login(login, pw)
            if r.status != 200:
                raise RuntimeError(f'log-in {login}: {r.status}')
            self.c[login] = cl
        self.by_role = {role: self.c[login] for login, role, _, _ in USERS}


def setup(env):
    env.start_db()
    port = mdg.free_port()
    env.write_config(**{'ticketd.listen': f'127.0.0.1:{port}'})
    for login, role, pw, disp in USERS + [GRANTED]:
        env.add_user(login, role, pw, disp)
    env.pg.psql("INSERT INTO contact_grant (user_id, granted_by, granted_at, reason)"
                " SELECT id, 'ad1', now(), '区民課の調査のため' FROM app_user WHERE login = 'vw2'",
                user='madoguchi_owner')
    env.start('ingest-mail')
    d = env.start('ticketd')
    env.maildir_drop(citizen_mail())
    got = mdg.wait_for(lambda: env.sql("SELECT id FROM ticket WHERE subject = " + sql_lit(SUBJECT)), 20)
    if not got:
        raise RuntimeError('the citizen mail did not become a ticket:\n' + d.log_text()[-2000:])
    return d, port, int(got[0][0])


def check_case(w, tid):
    op, vw, ad = w.by_role['operator'], w.by_role['viewer'], w.by_role['admin']
    path = f'/api/tickets/{tid}/case'
    arrived = w.env.sql("SELECT to_char(i.arrived_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
                        f" FROM inbound_item i WHERE i.ticket_id = {tid}")[0][0]
    r = op.get(path)
    draft = {'ticket_id': tid, 'recorded': False, 'channel': 'mail', 'received_at': arrived,
             'first_response_at': None, 'resolved_at': None, 'category': None,
             'inquiry_summary': '', 'answer_summary': '', 'resolution': None, 'escalated_to': None,
             'recorded_by': None, 'recorded_at': None, 'updated_by': None, 'updated_at': None}
    t.equal('GET case before any save: the draft from the ticket', (r.status, r.json()), (200, draft))

    r = op.request('PUT', path, json_body=CLEAN)
    doc = r.json() or {}
    want = dict(draft, recorded=True, recorded_by='op1', updated_by='op1', **CLEAN)
    got = {k: v for k, v in doc.items() if k not in ('recorded_at', 'updated_at')}
    del want['recorded_at'], want['updated_at']
    t.equal('PUT case: 200 and the document as stored', (r.status, got), (200, want))
    t.check('recorded_at and updated_at set', doc.get('recorded_at') and doc.get('recorded_at') == doc.get('updated_at'),
            str(doc))
    t.equal('GET case as viewer: exactly what was saved', (vw.get(path).status, vw.get(path).json()), (200, doc))
    row = w.env.sql("SELECT channel, inquiry_summary, answer_summary, category, resolution,"
                    f" coalesce(escalated_to, '-'), recorded_by FROM case_record WHERE ticket_id = {tid}")
    t.equal('case_record row', row, [['mail', CLEAN['inquiry_summary'], CLEAN['answer_summary'],
                                      CLEAN['category'], 'answered', '-', 'op1']])
    events = w.env.sql(f"SELECT kind, actor, coalesce(detail, '') FROM ticket_event WHERE ticket_id = {tid}"
                       " AND kind LIKE 'case_%' ORDER BY id")
    t.equal('timeline: case_recorded without detail', events, [['case_recorded', 'op1', '']])

    before = w.env.sql(f"SELECT updated_at, inquiry_summary, answer_summary FROM case_record WHERE ticket_id = {tid}")
    for field, value, kinds in PII_CASES:
        r = op.request('PUT', path, json_body={field: value})
        want = {'error': 'personal data in the case record',
                'findings': [finding(field, k, x, value) for k, x in kinds]}
        t.equal(f'422 and exact findings for {field}={value!r}', (r.status, r.json()), (422, want))
    both = op.request('PUT', path, json_body={'inquiry_summary': f'電話 {PHONE}',
                                               'answer_summary': f'{MAIL} へ回答'})
    t.equal('findings of two fields in field order',
            [(f['field'], f['kind']) for f in (both.json() or {}).get('findings', [])],
            [('inquiry_summary', 'phone'), ('answer_summary', 'email')])
    t.equal('nothing stored by a refused save',
            w.env.sql(f"SELECT updated_at, inquiry_summary, answer_summary FROM case_record WHERE ticket_id = {tid}"),
            before)

    r = op.request('PUT', path, json_body={'citizen_name': NAME})
    t.equal('unknown field: 400 naming it', (r.status, r.json()), (400, {'error': 'citizen_name: unknown field'}))
    r = op.request('PUT', path, json_body={'resolution': 'no_such_code'})
    t.equal('unknown resolution code: 400', (r.status, r.json()),
            (400, {'error': 'resolution: is not a known resolution code'}))
    r = op.request('PUT', path, json_body={'inquiry_summary': 'x' * 8001})
    t.equal('summary past 8000 bytes: 400', r.status, 400)
    r = op.request('PUT', path, json_body={'answer_summary': '回答済み。\n二行目', 'escalated_to': '環境局清掃課'})
    t.equal('a second save: 200, the fields given changed, the rest kept',
            (r.status, (r.json() or {}).get('answer_summary'), (r.json() or {}).get('escalated_to'),
             (r.json() or {}).get('inquiry_summary')),
            (200, '回答済み。\n二行目', '環境局清掃課', CLEAN['inquiry_summary']))
    t.equal('timeline: then case_updated',
            [e[0] for e in w.env.sql(f"SELECT kind FROM ticket_event WHERE ticket_id = {tid} AND kind LIKE 'case_%' ORDER BY id")],
            ['case_recorded', 'case_updated'])

    t.equal('PUT case as viewer: 403', vw.request('PUT', path, json_body=CLEAN).status, 403)
    t.equal('PUT case as admin: 403', ad.request('PUT', path, json_body=CLEAN).status, 403)
    t.equal('PUT case without the CSRF token: 403', op.request('PUT', path, json_body=CLEAN, csrf=False).status, 403)
    t.equal('GET case of a ticket that is not there: 404', op.get('/api/tickets/999999/case').status, 404)

    r = vw.get('/api/cases')
    cases = (r.json() or {}).get('cases', [])
    t.equal('GET /api/cases as viewer: 200, one case', (r.status, [c['ticket_id'] for c in cases]), (200, [tid]))
    t.equal('the case list carries no subject and nothing of the mail',
            sorted(cases[0].keys()) if cases else None, sorted(draft.keys()))
    t.equal('filter by dates and category',
            len(vw.get(f'/api/cases?from=2000-01-01&to=2100-12-31&category={quote(CLEAN["category"])}')
                .json()['cases']), 1)
    t.equal('filter: a category with no case', vw.get('/api/cases?category=none').json(), {'cases': []})
    t.equal('filter: a day after', vw.get('/api/cases?from=2100-01-01').json(), {'cases': []})
    t.equal('bad dates: 400', [vw.get(f'/api/cases?from={d}').status for d in ('2026-13-45', 'today', '2026-02-30',
                                                                               '2025-02-29')],
            [400, 400, 400, 400])
    t.equal('a leap day is a date', vw.get('/api/cases?from=2028-02-29').status, 200)

    # a case recorded before the ticket is resolved follows the ticket's resolution time
    times = ("SELECT t.resolved_at IS NOT NULL, c.resolved_at IS NOT DISTINCT FROM t.resolved_at"
             f" FROM ticket t JOIN case_record c ON c.ticket_id = t.id WHERE t.id = {tid}")
    r = op.request('POST', f'/api/tickets/{tid}/status', json_body={'status': 'resolved', 'resolution': 'answered'})
    t.equal('resolved after the case was saved: the case takes the resolution time', (r.status, w.env.sql(times)),
            (200, [['t', 't']]))
    r = op.request('POST', f'/api/tickets/{tid}/status', json_body={'status': 'open'})
    t.equal('reopened: both times empty again', (r.status, w.env.sql(times)), (200, [['f', 't']]))


def check_contacts(w, tid):
    env = w.env
    op, sv, vw, ad = (w.by_role[r] for r in ROLES[:1] + ROLES[1:2] + ROLES[2:3] + ROLES[3:4])
    vw2 = w.c['vw2']
    path = f'/api/tickets/{tid}/contact'

    t.equal('GET contact without a reason: 400, no audit row',
            (op.get(path).status, len(audit_rows(env))), (400, 0))
    r = op.get(path + '?reason=reply')
    t.equal('GET contact before any is saved: none, the mail sender suggested',
            (r.status, r.json()), (200, {'ticket_id': tid, 'contact': None,
                                         'suggestion': {'name': NAME, 'email': MAIL}}))
    t.equal('that read left one row (no contact yet)', [a[1:] for a in audit_rows(env)],
            [['op1', 'operator', 'read', '', str(tid), '', 'reply', '127.0.0.1']])

    body = {'name': NAME, 'name_kana': KANA, 'postal_code': POSTAL, 'address': ADDRESS,
            'phone': PHONE, 'fax': FAX, 'email': MAIL, 'note': '平日午後は在宅'}
    t.equal('PUT contact without the CSRF token: 403', op.request('PUT', path, json_body=body, csrf=False).status, 403)
    t.equal('PUT contact as viewer (even granted): 403',
            (vw.request('PUT', path, json_body=body).status, vw2.request('PUT', path, json_body=body).status),
            (403, 403))
    t.equal('PUT contact as admin: 403', ad.request('PUT', path, json_body=body).status, 403)
    t.equal('PUT an empty contact: 400', op.request('PUT', path, json_body={}).status, 400)
    r = op.request('PUT', path, json_body=body)
    cid = ((r.json() or {}).get('contact') or {}).get('id')
    t.equal('PUT contact: 200, created', (r.status, (r.json() or {}).get('action'),
                                          {k: v for k, v in ((r.json() or {}).get('contact') or {}).items() if k != 'id'}),
            (200, 'create', body))
    t.equal('the write left one create row', [a[1:] for a in audit_rows(env)[1:]],
            [['op1', 'operator', 'create', str(cid), str(tid), '', 'record', '127.0.0.1']])

    n0 = len(audit_rows(env))
    r = sv.get(path + '?reason=' + quote('折り返し連絡'))
    c = (r.json() or {}).get('contact') or {}
    t.equal('GET contact as supervisor: the details exactly',
            (r.status, {k: c.get(k) for k in body}, c.get('created_by'), (r.json() or {}).get('suggestion')),
            (200, body, 'op1', None))
    t.equal('exactly one read row: supervisor, contact, reason', [a[1:] for a in audit_rows(env)[n0:]],
            [['sv1', 'supervisor', 'read', str(cid), str(tid), '', '折り返し連絡', '127.0.0.1']])
    n0 = len(audit_rows(env))
    t.equal('GET contact as an ungranted viewer: 403, no row', (vw.get(path + '?reason=x').status,
                                                                len(audit_rows(env)) - n0), (403, 0))
    r = vw2.get(path + '?reason=' + quote('調査'))
    t.equal('GET contact as a granted viewer: 200 without a suggestion',
            (r.status, ((r.json() or {}).get('contact') or {}).get('phone'), (r.json() or {}).get('suggestion')),
            (200, PHONE, None))
    t.equal('... and one row naming the viewer', [a[1:] for a in audit_rows(env)[n0:]],
            [['vw2', 'viewer', 'read', str(cid), str(tid), '', '調査', '127.0.0.1']])
    n0 = len(audit_rows(env))
    r = ad.get(path + '?reason=audit')
    t.equal('GET contact as admin: 200, one row', (r.status, [a[1:4] for a in audit_rows(env)[n0:]]),
            (200, [['ad1', 'admin', 'read']]))

    for q in ('キリタニ', 'ｷﾘﾀﾆ', '桐谷澪', '0142', '０３５５５５', 'MIO.KIRITANI'):
        n0 = len(audit_rows(env))
        r = op.get('/api/contacts/search?reason=lookup&q=' + quote(q))
        ids = [x['id'] for x in (r.json() or {}).get('contacts', [])]
        t.equal(f'search {q!r}: her contact, one search row with its id',
                (r.status, ids, [a[3:7] for a in audit_rows(env)[n0:]]),
                (200, [cid], [['search', '', '', str(cid)]]))
    n0 = len(audit_rows(env))
    r = op.get('/api/contacts/search?reason=lookup&q=' + quote('存在しない人'))
    t.equal('search with no hit: empty, still one row', (r.status, r.json(), [a[3:7] for a in audit_rows(env)[n0:]]),
            (200, {'contacts': []}, [['search', '', '', '']]))
    t.equal('search without a reason or with a 1-character query: 400',
            (op.get('/api/contacts/search?q=' + quote('桐谷')).status, op.get('/api/contacts/search?q=a&reason=x').status), (400, 400))
    t.equal('search as an ungranted viewer: 403', vw.get('/api/contacts/search?reason=x&q=' + quote('桐谷')).status, 403)

    log = '/api/admin/contact-access'
    t.equal('the access log: supervisor and admin 200, operator and viewer 403',
            [w.by_role[r].get(log).status for r in ROLES], [403, 200, 403, 200])
    entries = sv.get(f'{log}?contact={cid}').json()['entries']
    t.equal('the log of her contact: every access, newest first, ids only',
            [(e['login'], e['action']) for e in entries],
            [('op1', 'search')] * 6 + [('ad1', 'read'), ('vw2', 'read'), ('sv1', 'read'), ('op1', 'create')])
    t.check('log entries carry no contact details',
            all(set(e) == {'id', 'at', 'user_id', 'login', 'role', 'action', 'contact_id', 'ticket_id',
                           'contact_ids', 'reason', 'remote_addr'} for e in entries), str(entries[:1]))
    return cid


def check_db_grants(env):
    """ticketd's role reaches the contact store only through the functions."""
    for stmt in ('SELECT * FROM contact', 'SELECT * FROM ticket_contact',
                 "INSERT INTO contact_access (at, login, role, action, reason) VALUES (now(), 'x', 'x', 'read', 'x')",
                 "UPDATE contact_access SET reason = 'x'", 'DELETE FROM contact_access',
                 "UPDATE contact_grant SET reason = 'x'"):
        try:
            env.pg.psql(stmt, user='madoguchi_ticketd')
            t.fail(f'madoguchi_ticketd may not: {stmt}', 'it was allowed')
        except Exception as e:  # noqa: BLE001 - psql's refusal
            t.check(f'madoguchi_ticketd may not: {stmt[:50]}', 'permission denied' in getattr(e, 'stderr', ''),
                    getattr(e, 'stderr', str(e)))


def check_roles(w, tid):
    """endpoint × role for the routes of casebook.c and contacts.c"""
    table = [
        ('GET', f'/api/tickets/{tid}/case', None, [200, 200, 200, 200, 401]),
        ('PUT', f'/api/tickets/{tid}/case', {'category': '環境'}, [200, 200, 403, 403, 401]),
        ('GET', '/api/cases', None, [200, 200, 200, 200, 401]),
        ('GET', f'/api/tickets/{tid}/contact?reason=r', None, [200, 200, 403, 200, 401]),
        ('PUT', f'/api/tickets/{tid}/contact', {'name': NAME, 'phone': PHONE, 'email': MAIL,
                                                 'name_kana': KANA, 'postal_code': POSTAL,
                                                 'address': ADDRESS, 'fax': FAX, 'note': '平日午後は在宅'},
         [200, 200, 403, 403, 401]),
        ('GET', '/api/contacts/search?q=%E6%A1%90%E8%B0%B7&reason=r', None, [200, 200, 403, 200, 401]),
        ('GET', '/api/admin/contact-access', None, [403, 200, 403, 200, 401]),
    ]
    clients = [w.by_role[r] for r in ROLES] + [Client(w.port)]
    for method, path, body, want in table:
        got = [cl.request(method, path, json_body=body).status for cl in clients]
        t.equal(f'{method} {path.split("?")[0]} for operator, supervisor, viewer, admin, nobody', got, want)


def main():
    with mdg.Env('privacy') as env:
        d, port, tid = setup(env)
        w = World(env, port)
        check_case(w, tid)
        check_contacts(w, tid)
        check_roles(w, tid)
        check_db_grants(env)
        r = w.by_role['operator'].request('POST', f'/api/tickets/{tid}/notes', json_body={'text': NOTE})
        t.equal('a note with her phone and name: 201', r.status, 201)
        print('excluded from the sweep (correspondence and the contact store):')
        for k, why in EXCLUDED.items():
            print(f'  {k if isinstance(k, str) else ".".join(k)}: {why}')
        hits, checked = sweep(env)
        print('swept tables: ' + ', '.join(sorted(checked)))
        t.check('the sweep reached case_record, ticket_event, contact_access and ticket',
                {'case_record', 'ticket_event', 'contact_access', 'ticket'} <= checked, str(sorted(checked)))
        t.equal('no contact detail outside the contact store and the correspondence', hits, [])
        probe = {k: v for k, v in EXCLUDED.items() if k not in ('contact', 'message', 'ticket_note')}
        found = {(h[0], h[1]) for h in sweep(env, probe)[0]}
        t.check('the same sweep finds her details in contact, message and ticket_note when they are not excluded',
                {('contact', 'name'), ('contact', 'phone'), ('contact', 'email'), ('contact', 'address'),
                 ('message', 'body_text'), ('message', 'from_addr'), ('ticket_note', 'body')} <= found,
                str(sorted(found)))
        seeded = env.sql("SELECT (SELECT count(*) FROM contact WHERE phone = " + sql_lit(PHONE) + "),"
                         " (SELECT count(*) FROM message WHERE body_text LIKE " + sql_lit('%' + PHONE + '%') + "),"
                         " (SELECT count(*) FROM ticket_note WHERE body LIKE " + sql_lit('%' + PHONE + '%') + ")")
        t.equal('the details are where they belong (contact, message, note): the sweep could have found them',
                seeded, [['1', '1', '1']])
        t.check('ticketd still running', d.alive())
        t.equal('SIGTERM: clean exit', d.stop(), 0)
        log = d.log_text()
        t.equal("ticketd's log holds none of her details",
                [x for x in DETAILS + ['0355550142'] if x in log], [])
        t.equal("ticketd's log holds no database error (input is checked before it reaches SQL)",
                [line for line in log.splitlines() if ' error: ' in line], [])
    t.done()


if __name__ == '__main__':
    main()
