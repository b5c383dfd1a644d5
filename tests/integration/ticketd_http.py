"""ticketd_http: what test_ticketd_api.py and test_roles.py share.

A small HTTP client that keeps the session cookie and the CSRF token, an
event-stream reader on a thread of its own, and the fixture tickets the two
tests read (written straight into PostgreSQL as the schema owner, with fixed
times, so the API's answers can be compared whole).
"""
import http.client
import json
import os
import queue
import socket
import threading
import time

import mdg


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        try:
            return json.loads(self.body.decode('utf-8'))
        except ValueError:
            return None


class Client:
    """One user agent: the cookie it was given and the CSRF token."""

    def __init__(self, port):
        self.port = port
        self.token = None
        self.csrf = None

    def request(self, method, path, body=None, headers=None, json_body=None, csrf=True):
        h = {}
        if self.token:
            h['Cookie'] = 'mdg_session=' + self.token
        if json_body is not None:
            body = json.dumps(json_body).encode('utf-8')
            h['Content-Type'] = 'application/json'
        if csrf and self.csrf and method not in ('GET', 'HEAD'):
            h['X-CSRF-Token'] = self.csrf
        h.update(headers or {})
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        try:
            c.request(method, path, body, h)
            r = c.getresponse()
            return Resp(r.status, r.headers, r.read())
        finally:
            c.close()

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def login(self, login, password, headers=None):
        r = self.request('POST', '/api/login', json_body={'login': login, 'password': password},
                         headers=headers)
        if r.status == 200:
            cookie = r.header('Set-Cookie') or ''
            self.token = cookie.split(';', 1)[0].split('=', 1)[1]
            self.csrf = r.json()['csrf']
        return r


class EventStream:
    """GET /api/events on a raw socket; a thread decodes the chunked body
    and queues (monotonic time, event text) per complete event."""

    def __init__(self, port, token, rcvbuf=None, read=True):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(('127.0.0.1', port))
        self.sock.sendall(f'GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n'
                          f'Cookie: mdg_session={token}\r\nAccept: text/event-stream\r\n\r\n'
                          .encode())
        self.events = queue.Queue()
        self.closed = threading.Event()
        self.buf = b''
        self.status, self.headers = self._head()
        if read:
            threading.Thread(target=self._run, daemon=True).start()

    def _recv(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def _head(self):
        while b'\r\n\r\n' not in self.buf:
            self._recv()
        head, self.buf = self.buf.split(b'\r\n\r\n', 1)
        lines = head.decode('latin-1').split('\r\n')
        hdrs = {}
        for line in lines[1:]:
            k, v = line.split(':', 1)
            hdrs[k.strip().lower()] = v.strip()
        return int(lines[0].split()[1]), hdrs

    def _chunks(self):
        while True:
            while b'\r\n' not in self.buf:
                self._recv()
            size_line, self.buf = self.buf.split(b'\r\n', 1)
            n = int(size_line.split(b';')[0], 16)
            while len(self.buf) < n + 2:
                self._recv()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            if n == 0:
                return
            yield data

    def _run(self):
        text = b''
        try:
            for data in self._chunks():
                text += data
                while b'\n\n' in text:
                    ev, text = text.split(b'\n\n', 1)
                    self.events.put((time.monotonic(), ev.decode('utf-8')))
        except (EOFError, OSError, ValueError):
            pass
        self.closed.set()

    def next(self, timeout=5.0, skip_pings=True):
        end = time.monotonic() + timeout
        while True:
            try:
                at, ev = self.events.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                return None, None
            if skip_pings and ev.startswith(':'):
                continue
            return at, ev

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def hexb(b):
    return b.hex()


# -- the fixture -------------------------------------------------------------
RAW1 = ('From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro@example.jp>\r\n'
        'To: madoguchi@city.example.jp\r\nSubject: =?UTF-8?B?5L2P5rCR56Wo44Gu5YaZ44GX?=\r\n'
        'Date: Wed, 01 Apr 2026 17:59:30 +0900\r\nMessage-ID: <a1@example.jp>\r\n'
        'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n'
        '住民票の写しを郵送で請求したいです。\r\n').encode('utf-8') + b'\x00\xff binary tail\r\n'
RAW3 = b'From: hanako@example.jp\r\nSubject: gomi\r\n\r\nsodai gomi\r\n'
HTML1 = ('<p id="v">HTML版の本文です</p>'
         '<script>alert("xss"); document.title = "RAN"; window.pwned = 1;</script>'
         '<img src="x" onerror="alert(2)"><style>p{color:#333}</style>')
ATT_PDF_NAME = '申請書 (2).pdf'
ATT_PDF = b'%PDF-1.4\n' + bytes(range(256)) + b'\n%%EOF\n'
ATT_HTML = b'<script>alert(1)</script>'
T0 = '2026-04-01 09:00:00+00'


def load_fixture(env):
    """Three tickets: 1 new (mail in with 2 attachments and HTML, reply out),
    2 resolved fax without messages, 3 open mail.  Ids are fixed."""
    q = f"""
INSERT INTO inbound_item (id, channel, source, source_key, raw, raw_size, raw_sha256, arrived_at,
                          stored_at, state, ticket_id, done_at)
VALUES (101, 'mail', 'test', 'k1', decode('{hexb(RAW1)}', 'hex'), {len(RAW1)},
        sha256(decode('{hexb(RAW1)}', 'hex')), '2026-04-01 09:00:00+00', '2026-04-01 09:00:01+00',
        'done', 1, '2026-04-01 09:00:02+00'),
       (103, 'mail', 'test', 'k3', decode('{hexb(RAW3)}', 'hex'), {len(RAW3)},
        sha256(decode('{hexb(RAW3)}', 'hex')), '2026-04-02 10:00:00+00', '2026-04-02 10:00:01+00',
        'done', 3, '2026-04-02 10:00:02+00');
INSERT INTO ticket (id, channel, status, queue, subject, flags, created_at, updated_at, last_inbound_at)
VALUES (1, 'mail', 'new', 'general', '住民票の写し', '{{undecodable}}', '2026-04-01 09:00:02+00',
        '2026-04-01 11:30:00.25+00', '2026-04-01 09:00:00+00'),
       (2, 'fax', 'resolved', 'general', 'FAX 問い合わせ', '{{}}', '2026-04-01 12:00:00+00',
        '2026-04-01 13:00:00+00', NULL),
       (3, 'mail', 'open', 'gomi', 'gomi', '{{}}', '2026-04-02 10:00:02+00',
        '2026-04-02 10:00:02+00', '2026-04-02 10:00:00+00');
UPDATE ticket SET sla_dirty = false; -- the fixture's due times (none) stay: SLA is test_sla's
UPDATE ticket SET category = '証明書', priority = 2, tags = '{{郵送,"a \\"b\\""}}', routed_rule_id = 7,
       routed_rule_name = '住民票係' WHERE id = 1;
INSERT INTO message (id, ticket_id, inbound_item_id, direction, subject, from_name, from_addr,
                     to_list, cc_list, date_header, body_text, body_html, parse_state, parse_notes,
                     created_at)
VALUES (11, 1, 101, 'in', '住民票の写し', '山田 太郎', 'taro@example.jp',
        'madoguchi@city.example.jp', 'kakari@city.example.jp', '2026-04-01 08:59:30+00',
        E'住民票の写しを郵送で請求したいです。\\n', $h${HTML1}$h$, 'partial',
        'undecodable bytes in part 2', '2026-04-01 09:00:02+00'),
       (12, 1, NULL, 'out', 'Re: 住民票の写し', '窓口', 'madoguchi@city.example.jp',
        'taro@example.jp', '', NULL, 'ご連絡ありがとうございます。', NULL, 'ok', NULL,
        '2026-04-01 11:30:00.25+00'),
       (13, 3, 103, 'in', 'gomi', '', 'hanako@example.jp', '', '', NULL, E'sodai gomi\\n', NULL,
        'ok', NULL, '2026-04-02 10:00:02+00');
INSERT INTO blob (sha256, size, data)
VALUES (sha256(decode('{hexb(ATT_PDF)}', 'hex')), {len(ATT_PDF)}, decode('{hexb(ATT_PDF)}', 'hex')),
       (sha256(decode('{hexb(ATT_HTML)}', 'hex')), {len(ATT_HTML)}, decode('{hexb(ATT_HTML)}', 'hex'));
INSERT INTO attachment (message_id, idx, filename, content_type, size, sha256)
VALUES (11, 0, '{ATT_PDF_NAME}', 'application/pdf; name="x.pdf"', {len(ATT_PDF)},
        sha256(decode('{hexb(ATT_PDF)}', 'hex'))),
       (11, 1, 'page.html', 'text/html; charset=utf-8', {len(ATT_HTML)},
        sha256(decode('{hexb(ATT_HTML)}', 'hex')));
INSERT INTO ticket_event (ticket_id, at, actor, kind, detail)
VALUES (1, '2026-04-01 09:00:02+00', 'system', 'created', NULL),
       (1, '2026-04-01 11:30:00.25+00', 'op1', 'reply', 'message 12'),
       (3, '2026-04-02 10:00:02+00', 'system', 'created', NULL);
"""
    env.pg.psql(q, user='madoguchi_owner')


def list_row(tid):
    """The expected /api/tickets row of a fixture ticket."""
    rows = {
        1: {'id': 1, 'subject': '住民票の写し', 'status': 'new', 'channel': 'mail',
            'queue': 'general', 'from_name': '山田 太郎', 'from_addr': 'taro@example.jp',
            'arrived_at': '2026-04-01T09:00:00.000000Z', 'created_at': '2026-04-01T09:00:02.000000Z',
            'updated_at': '2026-04-01T11:30:00.250000Z', 'flags': ['undecodable'], 'attachments': 2,
            'category': '証明書', 'tags': ['郵送', 'a "b"']},
        2: {'id': 2, 'subject': 'FAX 問い合わせ', 'status': 'resolved', 'channel': 'fax',
            'queue': 'general', 'from_name': None, 'from_addr': None, 'arrived_at': None,
            'created_at': '2026-04-01T12:00:00.000000Z', 'updated_at': '2026-04-01T13:00:00.000000Z',
            'flags': [], 'attachments': 0, 'category': None, 'tags': []},
        3: {'id': 3, 'subject': 'gomi', 'status': 'open', 'channel': 'mail', 'queue': 'gomi',
            'from_name': '', 'from_addr': 'hanako@example.jp',
            'arrived_at': '2026-04-02T10:00:00.000000Z', 'created_at': '2026-04-02T10:00:02.000000Z',
            'updated_at': '2026-04-02T10:00:02.000000Z', 'flags': [], 'attachments': 0,
            'category': None, 'tags': []},
    }
    row = rows[tid]
    # issue 5: the holder, the due time and the resolution (none in the fixture)
    row.update({'assignee': None, 'due_at': None, 'resolution': None})
    # issue 6: the warning time and the first reply (none in the fixture)
    row.update({'warn_at': None, 'responded_at': None})
    return row


TICKET1 = {
    'id': 1, 'subject': '住民票の写し', 'status': 'new', 'channel': 'mail', 'queue': 'general',
    'flags': ['undecodable'], 'created_at': '2026-04-01T09:00:02.000000Z',
    'updated_at': '2026-04-01T11:30:00.250000Z', 'category': '証明書', 'priority': 2,
    'tags': ['郵送', 'a "b"'], 'routed_rule': {'id': 7, 'name': '住民票係'},
    'merged_into': None,  # merge.h
    'purged_at': None,  # sql/017: its correspondence purged
    'messages': [
        {'id': 11, 'direction': 'in', 'subject': '住民票の写し', 'from_name': '山田 太郎',
         'from_addr': 'taro@example.jp', 'to': 'madoguchi@city.example.jp',
         'cc': 'kakari@city.example.jp', 'date': '2026-04-01T08:59:30.000000Z',
         'arrived_at': '2026-04-01T09:00:00.000000Z',
         'body_text': '住民票の写しを郵送で請求したいです。\n', 'has_html': True,
         'parse_state': 'partial', 'parse_notes': 'undecodable bytes in part 2',
         'attachments': [
             {'idx': 0, 'filename': ATT_PDF_NAME, 'content_type': 'application/pdf; name="x.pdf"',
              'size': len(ATT_PDF), 'url': '/api/messages/11/attachments/0'},
             {'idx': 1, 'filename': 'page.html', 'content_type': 'text/html; charset=utf-8',
              'size': len(ATT_HTML), 'url': '/api/messages/11/attachments/1'}],
         'raw_url': '/api/messages/11/raw', 'html_url': '/api/messages/11/html',
         'escalation_id': None},  # sql/018: a department's answer names its escalation
        {'id': 12, 'direction': 'out', 'subject': 'Re: 住民票の写し', 'from_name': '窓口',
         'from_addr': 'madoguchi@city.example.jp', 'to': 'taro@example.jp', 'cc': '',
         'date': None, 'arrived_at': None, 'body_text': 'ご連絡ありがとうございます。',
         'has_html': False, 'parse_state': 'ok', 'parse_notes': None, 'attachments': [],
         'raw_url': None, 'html_url': None, 'escalation_id': None}],
    'events': [
        {'at': '2026-04-01T09:00:02.000000Z', 'actor': 'system', 'kind': 'created', 'detail': None},
        {'at': '2026-04-01T11:30:00.250000Z', 'actor': 'op1', 'kind': 'reply',
         'detail': 'message 12'}],
}

USERS = [('op1', 'operator', 'operator-pass-1', 'オペレーター 一号'),
         ('sv1', 'supervisor', 'supervisor-pass-1', '管理 責任者'),
         ('vw1', 'viewer', 'viewer-pass-1', '区 職員'),
         ('ad1', 'admin', 'admin-pass-1', 'システム 管理者')]


def start(env, name, **settings):
    """A world with the fixture, the four users and a running ticketd."""
    env.start_db()
    port = mdg.free_port()
    s = {'ticketd.listen': f'127.0.0.1:{port}'}
    s.update(settings)
    env.write_config(**s)
    for login, role, pw, disp in USERS:
        env.add_user(login, role, pw, disp)
    load_fixture(env)
    d = env.start('ticketd')
    if not mdg.wait_for(lambda: _listening(port), 10):
        raise RuntimeError('ticketd did not start:\n' + d.log_text()[-3000:])
    return d, port


def _listening(port):
    try:
        socket.create_connection(('127.0.0.1', port), 0.2).close()
        return True
    except OSError:
        return False
