#!/usr/bin/python3
"""Who may do what: every API endpoint × every role (operator, supervisor,
viewer, admin, and no session at all), each cell run against a real ticketd
and PostgreSQL and compared with the table below.  Viewers (ward staff) read
no correspondence; without a session everything but the log-in and the
static pages is 401; a state-changing request without the CSRF token is 403.

Run: /usr/bin/python3 tests/integration/test_roles.py
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
import mdg  # noqa: E402
from ticketd_http import USERS, Client, EventStream, start  # noqa: E402

ROLES = ['operator', 'supervisor', 'viewer', 'admin', 'anonymous']

RULE = {'name': '権限テスト', 'match_subject': 'roles'}

# (method, path, csrf header sent, expected status per role in ROLES order[, JSON body])
TABLE = [
    ('GET', '/', True, [200, 200, 200, 200, 200]),
    ('GET', '/api/me', True, [200, 200, 200, 200, 401]),
    ('GET', '/api/search?q=%E4%BD%8F%E6%B0%91', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/tickets', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/tickets?status=all', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/tickets/1', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/tickets/99', True, [404, 404, 403, 404, 401]),
    ('GET', '/api/messages/11/raw', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/messages/11/html', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/messages/11/attachments/0', True, [200, 200, 403, 200, 401]),
    ('HEAD', '/api/messages/11/attachments/0', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/messages/11/cid/x', True, [404, 404, 403, 404, 401]),
    ('GET', '/api/events', True, [200, 200, 200, 200, 401]),
    ('POST', '/api/logout', False, [403, 403, 403, 403, 401]),
    ('POST', '/api/tickets', True, [405, 405, 405, 405, 405]),
    ('GET', '/api/nothing', True, [404, 404, 404, 404, 404]),
    # routing rules: admins only (the rule the admin creates is id 1)
    ('GET', '/api/admin/rules', True, [403, 403, 403, 200, 401]),
    ('POST', '/api/admin/rules', False, [403, 403, 403, 403, 401], RULE),
    ('POST', '/api/admin/rules', True, [403, 403, 403, 201, 401], RULE),
    ('PUT', '/api/admin/rules/1', False, [403, 403, 403, 403, 401], {'enabled': False}),
    ('PUT', '/api/admin/rules/1', True, [403, 403, 403, 200, 401], {'enabled': False}),
    ('PUT', '/api/admin/rules/99', True, [403, 403, 403, 404, 401], {'enabled': False}),
    ('POST', '/api/admin/rules/order', True, [403, 403, 403, 200, 401], {'ids': [1]}),
    ('GET', '/api/admin/rules/order', True, [405, 405, 405, 405, 405]),
    ('DELETE', '/api/admin/rules/1', False, [403, 403, 403, 403, 401]),
    ('DELETE', '/api/admin/rules/1', True, [403, 403, 403, 204, 401]),
    ('DELETE', '/api/admin/rules/1', True, [403, 403, 403, 404, 401]),
    # replies and their templates (ticketd/reply*.c): correspondence roles; bodies that stop at
    # validation, so no mail is queued by this table (test_reply.py sends them)
    ('GET', '/api/templates', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/templates/no-such-template', True, [404, 404, 403, 404, 401]),
    ('PUT', '/api/admin/templates/x', True, [403, 403, 403, 400, 401], {}),
    ('PUT', '/api/admin/templates/x', False, [403, 403, 403, 403, 401], {}),
    ('POST', '/api/tickets/1/reply/render', True, [404, 404, 403, 404, 401], {'template': 'no-such-template'}),
    ('POST', '/api/tickets/1/reply/preview', True, [400, 400, 403, 400, 401], {}),
    ('POST', '/api/tickets/1/reply', True, [400, 400, 403, 400, 401], {}),
    ('POST', '/api/tickets/1/reply', False, [403, 403, 403, 403, 401], {}),
    ('POST', '/api/outbound/99/cancel', True, [404, 404, 403, 404, 401]),
    # approval and dead mail (ticketd/approval.h): deciding is for operators and supervisors,
    # the dead list for supervisors and admins, requeue for supervisors, queue settings for admins
    ('GET', '/api/approvals', True, [200, 200, 403, 403, 401]),
    ('GET', '/api/outbound?state=dead', True, [403, 200, 403, 200, 401]),
    ('GET', '/api/outbound/99', True, [404, 404, 403, 404, 401]),
    ('POST', '/api/outbound/99/approve', True, [404, 404, 403, 403, 401], {}),
    ('POST', '/api/outbound/99/approve', False, [403, 403, 403, 403, 401], {}),
    ('POST', '/api/outbound/99/edit-approve', True, [404, 404, 403, 403, 401], {}),
    ('POST', '/api/outbound/99/return', True, [404, 404, 403, 403, 401], {'comment': '要修正'}),
    ('POST', '/api/outbound/99/requeue', True, [403, 404, 403, 403, 401]),
    ('POST', '/api/outbound/99/requeue', False, [403, 403, 403, 403, 401]),
    ('GET', '/api/admin/queues/general/settings', True, [403, 403, 403, 200, 401]),
    ('PUT', '/api/admin/queues/general/settings', True, [403, 403, 403, 200, 401], {'approval_required': False}),
    ('PUT', '/api/admin/queues/general/settings', False, [403, 403, 403, 403, 401], {'approval_required': False}),
    # end approval
    # case history and contact store (casebook.c, contacts.c; test_privacy.py tests them in depth):
    # ward viewers read the case history, never contact details without a grant
    ('GET', '/api/tickets/1/case', True, [200, 200, 200, 200, 401]),
    ('PUT', '/api/tickets/1/case', True, [200, 200, 403, 403, 401], {'category': '環境'}),
    ('PUT', '/api/tickets/1/case', False, [403, 403, 403, 403, 401], {'category': '環境'}),
    ('GET', '/api/cases', True, [200, 200, 200, 200, 401]),
    ('GET', '/api/tickets/1/contact?reason=roles', True, [200, 200, 403, 200, 401]),
    ('PUT', '/api/tickets/1/contact', True, [400, 400, 403, 403, 401], {}),
    ('GET', '/api/contacts/search?q=roles&reason=roles', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/admin/contact-access', True, [403, 200, 403, 200, 401]),
    # own password: every role; a body without "new" is refused before any check
    ('POST', '/api/me/password', False, [403, 403, 403, 403, 401], {'current': 'x'}),
    ('POST', '/api/me/password', True, [400, 400, 400, 400, 401], {'current': 'x'}),
    # working the queue (ticketd/workflow.h); ticket 3 is open and unheld, op1 is user 1
    ('GET', '/api/tickets?view=todo', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/tickets/3/workflow', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/users', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/resolutions', True, [200, 200, 200, 200, 401]),
    ('POST', '/api/tickets/3/claim', False, [403, 403, 403, 403, 401]),
    ('POST', '/api/tickets/3/claim', True, [200, 409, 403, 403, 401]),
    ('POST', '/api/tickets/3/assign', True, [200, 200, 403, 403, 401], {'user_id': 1}),
    ('POST', '/api/tickets/3/status', True, [200, 200, 403, 403, 401], {'status': 'waiting_citizen'}),
    ('POST', '/api/tickets/3/notes', True, [201, 201, 403, 403, 401], {'text': '内部メモ'}),
    ('POST', '/api/tickets/3/presence', True, [204, 204, 403, 403, 401], {'typing': False}),
    ('POST', '/api/tickets/3/release', True, [200, 200, 403, 403, 401]),
    ('POST', '/api/tickets/99/claim', True, [404, 404, 403, 403, 401]),
    ('GET', '/api/tickets/3/claim', True, [405, 405, 405, 405, 405]),
    # merge and split (ticketd/merge.h): bodies refused before any row is read
    ('POST', '/api/tickets/3/merge', True, [400, 400, 403, 403, 401], {'into': 3}),
    ('POST', '/api/tickets/3/merge', False, [403, 403, 403, 403, 401], {'into': 3}),
    ('POST', '/api/tickets/3/split', True, [400, 400, 403, 403, 401], {'message_id': 'x'}),
    ('POST', '/api/tickets/3/split', False, [403, 403, 403, 403, 401], {'message_id': 'x'}),
    # undo of merge and split (merge.h): ticket 3 was never merged nor split off
    ('POST', '/api/tickets/3/unmerge', True, [409, 409, 403, 403, 401]),
    ('POST', '/api/tickets/3/unmerge', False, [403, 403, 403, 403, 401]),
    ('POST', '/api/tickets/3/unsplit', True, [409, 409, 403, 403, 401]),
    ('POST', '/api/tickets/3/unsplit', False, [403, 403, 403, 403, 401]),
    # categories and tags (ticketd/category.h): bodies refused at validation
    ('GET', '/api/categories', True, [200, 200, 200, 200, 401]),
    ('POST', '/api/admin/categories', True, [403, 403, 403, 400, 401], {}),
    ('POST', '/api/admin/categories', False, [403, 403, 403, 403, 401], {}),
    ('PUT', '/api/admin/categories/1', True, [403, 403, 403, 400, 401], {}),
    ('PUT', '/api/admin/categories/1', False, [403, 403, 403, 403, 401], {'name': '改名'}),
    ('GET', '/api/admin/queues', True, [403, 403, 403, 200, 401]),
    ('POST', '/api/tickets/3/classify', True, [400, 400, 403, 403, 401], {'tags': 'x'}),
    ('POST', '/api/tickets/3/classify', False, [403, 403, 403, 403, 401], {'tags': 'x'}),
    # end categories
    # department escalation (ticketd/department.h, escalate.h): bodies refused at validation
    ('GET', '/api/departments', True, [200, 200, 200, 200, 401]),
    ('POST', '/api/admin/departments', True, [403, 403, 403, 400, 401], {}),
    ('POST', '/api/admin/departments', False, [403, 403, 403, 403, 401], {}),
    ('POST', '/api/admin/departments/import', True, [403, 403, 403, 415, 401], {}),
    ('PUT', '/api/admin/departments/1', True, [403, 403, 403, 400, 401], {'bogus': 1}),
    ('POST', '/api/tickets/3/escalate/render', True, [400, 400, 403, 403, 401], {}),
    ('POST', '/api/tickets/3/escalate', True, [400, 400, 403, 403, 401], {}),
    ('POST', '/api/tickets/3/escalate', False, [403, 403, 403, 403, 401], {}),
    ('GET', '/api/tickets/3/escalations', True, [200, 200, 403, 200, 401]),
    ('POST', '/api/escalations/1/close', True, [400, 400, 403, 403, 401], {}),
    ('GET', '/api/escalations/stats?from=2026-01-01&to=2026-12-31', True, [200, 200, 200, 200, 401]),
    # end escalation
    # the SLA (ticketd/sla.h)
    ('GET', '/api/sla', True, [200, 200, 403, 200, 401]),
    ('GET', '/api/sla/stats', True, [200, 200, 200, 200, 401]),
    ('POST', '/api/sla/crisis', True, [403, 400, 403, 403, 401], {}),
    ('POST', '/api/sla/crisis/end', True, [403, 409, 403, 403, 401]),
    # end SLA
    # files uploaded in the reply composer (ticketd/upload.h): the JSON body is a file without a name (400)
    ('POST', '/api/tickets/1/uploads', True, [400, 400, 403, 403, 401], {}),
    ('POST', '/api/tickets/1/uploads', False, [403, 403, 403, 403, 401], {}),
    ('DELETE', '/api/tickets/1/uploads/99', True, [404, 404, 403, 403, 401]),
    ('DELETE', '/api/tickets/1/uploads/99', False, [403, 403, 403, 403, 401]),
    # end uploads
    # business calendars and SLA policies (ticketd/admin_calendar.h): admins edit, supervisors read and
    # preview; bodies refused at validation, deletes of ids that do not exist
    ('GET', '/api/admin/calendars', True, [403, 200, 403, 200, 401]),
    ('POST', '/api/admin/calendars', True, [403, 403, 403, 400, 401], {}),
    ('PUT', '/api/admin/calendars/1', True, [403, 403, 403, 400, 401], {}),
    ('DELETE', '/api/admin/calendars/1', True, [403, 403, 403, 409, 401]),
    ('PUT', '/api/admin/calendars/1/departments', True, [403, 403, 403, 400, 401], {}),
    ('PUT', '/api/admin/calendars/1/hours', True, [403, 403, 403, 400, 401], {}),
    ('PUT', '/api/admin/calendars/1/hours', False, [403, 403, 403, 403, 401], {}),
    ('PUT', '/api/admin/calendars/1/openings', True, [403, 403, 403, 400, 401], {}),
    ('POST', '/api/admin/annual-closures', True, [403, 403, 403, 400, 401], {}),
    ('PUT', '/api/admin/annual-closures/1', True, [403, 403, 403, 400, 401], {}),
    ('DELETE', '/api/admin/annual-closures/99', True, [403, 403, 403, 404, 401]),
    ('POST', '/api/admin/closures', True, [403, 403, 403, 400, 401], {}),
    ('PUT', '/api/admin/closures/1', True, [403, 403, 403, 400, 401], {}),
    ('DELETE', '/api/admin/closures/99', True, [403, 403, 403, 404, 401]),
    ('GET', '/api/admin/holidays?year=2027', True, [403, 200, 403, 200, 401]),
    ('POST', '/api/admin/holidays', True, [403, 403, 403, 400, 401], {}),
    ('POST', '/api/admin/holidays/import', True, [403, 403, 403, 415, 401], {}),
    ('DELETE', '/api/admin/holidays/2027-06-01', True, [403, 403, 403, 404, 401]),
    ('GET', '/api/admin/sla-policies', True, [403, 200, 403, 200, 401]),
    ('POST', '/api/admin/sla-policies', True, [403, 403, 403, 400, 401], {}),
    ('POST', '/api/admin/sla-policies/preview', True, [403, 200, 403, 200, 401],
     {'id': 1, 'received': '2026-12-25 17:20'}),
    ('POST', '/api/admin/sla-policies/preview', False, [403, 403, 403, 403, 401],
     {'id': 1, 'received': '2026-12-25 17:20'}),
    ('PUT', '/api/admin/sla-policies/1', True, [403, 403, 403, 400, 401], {}),
    ('DELETE', '/api/admin/sla-policies/99', True, [403, 403, 403, 404, 401]),
    ('GET', '/api/admin/calendar-audit', True, [403, 200, 403, 200, 401]),
    # end calendars
    # fax pages (ticketd/faxview.h): message 11 is a mail, so 404 past the role gate
    ('GET', '/api/messages/11/fax', True, [404, 404, 403, 404, 401]),
    ('GET', '/api/messages/11/fax/1.png', True, [404, 404, 403, 404, 401]),
    ('GET', '/api/messages/11/fax/1.tif', True, [404, 404, 403, 404, 401]),
    # end fax
    # replies by fax (ticketd/faxreply.h): an empty body is 400
    ('POST', '/api/tickets/1/fax-reply/preview', True, [400, 400, 403, 400, 401], {}),
    ('POST', '/api/tickets/1/fax-reply', True, [400, 400, 403, 403, 401], {}),
    ('POST', '/api/tickets/1/fax-reply', False, [403, 403, 403, 403, 401], {}),
    ('GET', '/api/tickets/1/faxes', True, [200, 200, 403, 200, 401]),
    ('POST', '/api/tickets/1/faxes/99/cancel', True, [409, 409, 403, 403, 401]),
    ('GET', '/api/faxes/99/1.png', True, [404, 404, 403, 404, 401]),
    ('POST', '/api/tickets/1/faxes/99/approve', True, [409, 409, 403, 403, 401]),
    # end faxes
    # the OCR of a fax (ticketd/faxocr.h): message 11 is a mail, candidate 99 does not exist
    ('GET', '/api/messages/11/ocr', True, [404, 404, 403, 404, 401]),
    ('POST', '/api/messages/11/ocr/1/reread', True, [409, 409, 403, 409, 401]),
    ('POST', '/api/messages/11/ocr/1/reread', False, [403, 403, 403, 403, 401]),
    ('POST', '/api/fax-candidates/99/accept', True, [404, 404, 403, 403, 401]),
    # end ocr
    # calls (ticketd/cti_api.c, issue 9); the PBX webhooks under /cti/ are test_cti_webhook's
    ('GET', '/api/cti/me', True, [200, 200, 200, 200, 401]),
    ('GET', '/api/cti/calls/1', True, [404, 404, 403, 404, 401]),
    ('POST', '/api/cti/calls/1/ticket', True, [404, 404, 403, 403, 401], {'ticket_id': 1}),
    ('POST', '/api/cti/calls/1/ticket', False, [403, 403, 403, 403, 401], {'ticket_id': 1}),
    ('GET', '/api/cti/stats', True, [200, 200, 200, 200, 401]),
    ('GET', '/api/admin/cti/extensions', True, [403, 403, 403, 200, 401]),
    ('PUT', '/api/admin/cti/extensions', True, [403, 403, 403, 400, 401], {}),
    ('DELETE', '/api/admin/cti/extensions/99', True, [403, 403, 403, 404, 401]),
    ('GET', '/api/tickets/1/callbacks', True, [200, 200, 403, 200, 401]),
    ('POST', '/api/tickets/1/callbacks', True, [400, 400, 403, 403, 401], {}),
    ('POST', '/api/callbacks/99', True, [400, 400, 403, 403, 401], {}),
    ('POST', '/api/callbacks/99', False, [403, 403, 403, 403, 401], {}),
    # end calls
    ('POST', '/api/logout', True, [204, 204, 204, 204, 401]),
]

CREDENTIALS = {role: (login, pw) for login, role, pw, _ in USERS}


def routes():
    """(method, pattern) of every route in ticketd/api.c's table"""
    with open(os.path.join(HERE, '..', '..', 'ticketd', 'api.c'), encoding='utf-8') as f:
        return re.findall(r'\{ "(GET|POST|PUT|DELETE)", "(/api/[^"]*)"', f.read())


def covered(method, pattern):
    """a row of TABLE requests this route (# is a number, * the rest of the path)"""
    rx = '^' + re.escape(pattern).replace('\\#', r'\d+').replace('\\*', '.+') + '$'
    return any(row[0] == method and re.match(rx, row[1].split('?')[0]) for row in TABLE)


def client_for(port, role):
    c = Client(port)
    if role != 'anonymous':
        login, pw = CREDENTIALS[role]
        r = c.login(login, pw)
        if r.status != 200:
            raise RuntimeError(f'log-in as {role}: {r.status}')
    return c


def cell(c, port, method, path, csrf, body=None):
    if path == '/api/events':
        if c.token is None:
            return c.get(path).status
        es = EventStream(port, c.token, read=False)
        es.close()
        return es.status
    return c.request(method, path, csrf=csrf, json_body=body).status


def main():
    t = mdg.Checks('roles')
    with mdg.Env('roles') as env:
        d, port = start(env, 'roles')
        clients = {role: client_for(port, role) for role in ROLES}
        # every endpoint is in the table (the log-in is checked below, for every role)
        missing = [f'{m} {p}' for m, p in routes() if p != '/api/login' and not covered(m, p)]
        t.check(f'every route of ticketd/api.c ({len(routes())}) has its row here', routes() and not missing,
                ', '.join(missing))
        for method, path, csrf, expected, *body in TABLE:
            for role, want in zip(ROLES, expected):
                got = cell(clients[role], port, method, path, csrf, *body)
                what = f"{method} {path}{'' if csrf else ' (no CSRF token)'} as {role}"
                t.equal(f'{what}: {want}', got, want)
        for role in ROLES:
            r = Client(port)
            login, pw = CREDENTIALS.get(role, ('nobody', 'nothing'))
            want = 401 if role == 'anonymous' else 200
            t.equal(f'POST /api/login as {role}: {want}', r.login(login, pw).status, want)
        t.check('ticketd still running', d.alive())
        t.equal('SIGTERM: clean exit (and no leak report under ASan)', d.stop(), 0)
    t.done()


if __name__ == '__main__':
    main()
