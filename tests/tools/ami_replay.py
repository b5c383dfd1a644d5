#!/usr/bin/python3
"""ami_replay: a server that speaks the Asterisk Manager Interface as the
Asterisk documentation gives it, replaying recorded conversations to the
AMI client of ticketd (Debian 12 has no Asterisk).

On the wire, as Asterisk does: the banner "Asterisk Call Manager/6.0.0\\r\\n"
on connect; every message "Key: Value\\r\\n" lines ended by "\\r\\n"; an action's
Response repeats its ActionID.  Login with the right Username and Secret is
answered "Response: Success / Message: Authentication accepted" and then the
FullyBooted event; a wrong one "Response: Error / Message: Authentication
failed" and the connection closes.  QueuePause is answered Success (the
member "paused" or "unpaused"); any other action Error.  Every action
received is recorded (as a dict, and its raw bytes) for the test to assert.

A script (tests/tools/ami/*.ami) is AMI messages separated by blank lines,
written with LF (sent with CRLF), plus directives on lines of their own:

  # comment
  @wait NAME      stop until the test calls release(NAME)
  @disconnect     close the connection; the script goes on after the
                  client's next log-in
  @sleep SECONDS  pause

The script starts after the first successful log-in and keeps its place
across reconnections, as a PBX's event stream goes on while a client is
away (those events are lost to the client: a test puts @wait where ticketd
is down).

As a module: AmiReplay(script_path, user, secret).start() -> port;
.release(name); .actions (list of dicts); .wait_action(pred, timeout);
.logins; .stop().  As a program: ami_replay.py SCRIPT [PORT] prints the
actions it receives.
"""
import os
import socket
import sys
import threading
import time

BANNER = b'Asterisk Call Manager/6.0.0\r\n'


def parse_script(text):
    """[('msg', bytes) | ('wait', name) | ('disconnect', None) | ('sleep', secs)]"""
    steps, block = [], []

    def flush():
        if block:
            steps.append(('msg', ('\r\n'.join(block) + '\r\n\r\n').encode('utf-8')))
            block.clear()
    for line in text.split('\n'):
        line = line.rstrip('\r')
        if line.startswith('#'):
            continue
        if line.startswith('@'):
            flush()
            word, _, arg = line[1:].partition(' ')
            steps.append((word, float(arg) if word == 'sleep' else (arg.strip() or None)))
        elif line == '':
            flush()
        else:
            block.append(line)
    flush()
    return steps


def parse_message(raw):
    d = {}
    for line in raw.decode('utf-8', 'replace').split('\r\n'):
        if ':' in line:
            k, _, v = line.partition(':')
            d[k] = v[1:] if v.startswith(' ') else v
    return d


class AmiReplay:
    def __init__(self, script, user='madoguchi', secret='ami-secret-1', port=0):
        self.steps = []
        for path in [script] if isinstance(script, str) else script:  # several: one after the other
            with open(path, encoding='utf-8') as f:
                self.steps += parse_script(f.read())
        self.user, self.secret = user, secret
        self.pos = 0
        self.actions = []          # dicts, in order
        self.raw_actions = []      # bytes as received
        self.logins = 0
        self.released = set()
        self.cond = threading.Condition()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', port))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.conn = None

    # -- the test's side --------------------------------------------------
    def start(self):
        threading.Thread(target=self._serve, daemon=True).start()
        return self.port

    def release(self, name):
        with self.cond:
            self.released.add(name)
            self.cond.notify_all()

    def done(self):
        with self.cond:
            return self.pos >= len(self.steps)

    def wait_action(self, pred, timeout=10.0):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for a in self.actions:
                    if pred(a):
                        return a
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def wait_done(self, timeout=10.0):
        end = time.monotonic() + timeout
        with self.cond:
            while self.pos < len(self.steps):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def drop(self):
        """close the client's connection now (the PBX restarting)"""
        c = self.conn
        if c:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.stopping = True
        self.release(None)
        self.drop()
        try:
            self.sock.close()
        except OSError:
            pass

    # -- the PBX's side ---------------------------------------------------
    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conn = conn
            try:
                self._session(conn)
            except OSError:
                pass
            finally:
                self.conn = None
                conn.close()

    def _session(self, conn):
        conn.sendall(BANNER)
        buf = b''
        player = None
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while b'\r\n\r\n' in buf:
                raw, buf = buf.split(b'\r\n\r\n', 1)
                msg = parse_message(raw)
                with self.cond:
                    self.actions.append(msg)
                    self.raw_actions.append(raw + b'\r\n\r\n')
                    self.cond.notify_all()
                if self._answer(conn, msg) and player is None:
                    player = threading.Thread(target=self._play, args=(conn,), daemon=True)
                    player.start()

    def _answer(self, conn, msg):
        """reply to one action; True after a successful log-in"""
        action = msg.get('Action', '').lower()
        aid = msg.get('ActionID', '')
        if action == 'login':
            if msg.get('Username') == self.user and msg.get('Secret') == self.secret:
                with self.cond:
                    self.logins += 1
                conn.sendall(f'Response: Success\r\nActionID: {aid}\r\n'
                             'Message: Authentication accepted\r\n\r\n'.encode())
                conn.sendall(b'Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 1234\r\n'
                             b'LastReload: 1234\r\nStatus: Fully Booted\r\n\r\n')
                return True
            conn.sendall(f'Response: Error\r\nActionID: {aid}\r\n'
                         'Message: Authentication failed\r\n\r\n'.encode())
            conn.shutdown(socket.SHUT_RDWR)
            return False
        if action == 'queuepause':
            word = 'paused' if msg.get('Paused', '').lower() == 'true' else 'unpaused'
            conn.sendall(f'Response: Success\r\nActionID: {aid}\r\n'
                         f'Message: Interface {word} successfully\r\n\r\n'.encode())
            return False
        conn.sendall(f'Response: Error\r\nActionID: {aid}\r\n'
                     'Message: Invalid/unknown command\r\n\r\n'.encode())
        return False

    def _play(self, conn):
        while not self.stopping:
            with self.cond:
                if self.pos >= len(self.steps):
                    self.cond.notify_all()
                    return
                kind, arg = self.steps[self.pos]
                if kind == 'wait':
                    while arg not in self.released and not self.stopping:
                        self.cond.wait(0.5)
            if self.stopping or self.conn is not conn:
                return  # a later session's player goes on from here
            if kind == 'msg':
                try:
                    conn.sendall(arg)
                except OSError:
                    return  # the client went away: this step again after its next log-in
            elif kind == 'sleep':
                time.sleep(arg)
            with self.cond:
                self.pos += 1
                self.cond.notify_all()
            if kind == 'disconnect':
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return


def main():
    if len(sys.argv) < 2:
        print('usage: ami_replay.py SCRIPT [PORT]', file=sys.stderr)
        return 2
    r = AmiReplay(sys.argv[1], port=int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    print(f'listening on 127.0.0.1:{r.start()}', flush=True)
    seen = 0
    try:
        while True:
            time.sleep(0.2)
            for a in r.actions[seen:]:
                print(a, flush=True)
            seen = len(r.actions)
            for name in list(os.environ.get('AMI_RELEASE', '').split()):
                r.release(name)
    except KeyboardInterrupt:
        r.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
