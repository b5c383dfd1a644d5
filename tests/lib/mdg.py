"""mdg: the integration tests' harness.

Every test gets a private world under a temporary folder: a PostgreSQL
cluster (initdb as the postgres user, unix socket only, migrations applied
with madoguchi-admin), a config file written for it, and on demand a private
dovecot over IMAP/IMAPS with a self-signed certificate, postfix's smtp-sink,
and our daemons, each logging to var/log/<name>.log.  Nothing here is a fake:
these are the real servers.

Run with Debian's /usr/bin/python3.  The daemons come from MDG_BUILD
(default: <repo>/build/dev).
"""
import hashlib
import imaplib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BUILD = os.environ.get('MDG_BUILD', os.path.join(REPO, 'build', 'dev'))
PGBIN = '/usr/lib/postgresql/15/bin'
SHARED = os.path.abspath(os.path.join(REPO, '..', 'shared'))
ARTEFACTS = os.path.join(REPO, 'tests', 'artefacts')

PROGRAMS = {
    'ingest-mail': 'ingest/mail/ingest-mail',
    'ingest-fax': 'ingest/fax/ingest-fax',
    'faxpeer': 'tests/tools/faxpeer',
    'faxpage2pbm': 'tests/tools/faxpage2pbm',
    'ticketd': 'ticketd/ticketd',
    'madoguchi-admin': 'admin/madoguchi-admin',
    'escalationd': 'escalation/escalationd',
    'ingest-ocr': 'ingest/ocr/ingest-ocr',
    'madoguchi-ocr-page': 'ingest/ocr/madoguchi-ocr-page',
}


def program(name):
    return os.path.join(BUILD, PROGRAMS[name])


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10.0, interval=0.02):
    """Poll pred() until it returns something true; return it, or None on timeout."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            return None
        time.sleep(interval)


class Checks:
    """One line per check, and the closing 'N passed, N failed'.  Safe to call
    from several threads (scenarios run side by side)."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()

    def ok(self, what):
        with self.lock:
            self.passed += 1
            print(f'ok {what}', flush=True)

    def fail(self, what, why=''):
        with self.lock:
            self.failed += 1
            print(f'FAIL {what}: {why}', flush=True)

    def check(self, what, cond, why=''):
        if cond:
            self.ok(what)
        else:
            self.fail(what, why)
        return cond

    def equal(self, what, got, expected):
        return self.check(what, got == expected, f'got {got!r}, expected {expected!r}')

    def done(self):
        print(f'{self.passed} passed, {self.failed} failed', flush=True)
        sys.exit(1 if self.failed else 0)


class Postgres:
    """A private cluster: data in <dir>/pg, socket in <dir>/run, no TCP."""

    def __init__(self, root, port=5432, fsync=True):
        self.root = root
        self.data = os.path.join(root, 'pg')
        self.sockdir = os.path.join(root, 'run')
        self.log = os.path.join(root, 'log', 'postgresql.log')
        self.port = port
        self.fsync = fsync

    def _as_postgres(self, args, **kw):
        return subprocess.run(['runuser', '-u', 'postgres', '--'] + args, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)

    def init(self):
        for d in (self.data, self.sockdir, os.path.dirname(self.log)):
            os.makedirs(d, exist_ok=True)
            shutil.chown(d, 'postgres', 'postgres')
        os.chmod(self.data, 0o700)
        self._as_postgres([f'{PGBIN}/initdb', '-D', self.data, '-U', 'postgres', '--auth=trust',
                           '--locale=C.UTF-8', '-E', 'UTF8'])
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as f:
            f.write(f"listen_addresses = ''\nunix_socket_directories = '{self.sockdir}'\n"
                    f"port = {self.port}\nmax_connections = 100\nshared_buffers = 128MB\n"
                    f"fsync = {'on' if self.fsync else 'off'}\n"
                    "log_min_messages = warning\nlog_line_prefix = '%m [%p] %u '\n")

    def start(self):
        self._as_postgres([f'{PGBIN}/pg_ctl', '-D', self.data, '-l', self.log, '-w', 'start'])

    def stop(self, mode='fast'):
        self._as_postgres([f'{PGBIN}/pg_ctl', '-D', self.data, '-m', mode, '-w', 'stop'])

    def restart(self):
        self.stop()
        self.start()

    def psql(self, sql, db='madoguchi', user='postgres'):
        """Run SQL as the superuser; rows as lists of strings (tab-separated output)."""
        r = subprocess.run(['psql', '-X', '-q', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1',
                            '-h', self.sockdir, '-p', str(self.port), '-U', user, '-d', db,
                            '-c', sql], check=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        return [line.split('\t') for line in r.stdout.splitlines()]

    def bootstrap(self):
        """Roles and the database; the schema comes from madoguchi-admin migrate."""
        subprocess.run(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', self.sockdir,
                        '-p', str(self.port), '-U', 'postgres', '-d', 'postgres',
                        '-f', os.path.join(REPO, 'sql', 'roles.sql')], check=True,
                       stdout=subprocess.DEVNULL)
        self.psql('CREATE DATABASE madoguchi OWNER madoguchi_owner', db='postgres')


class Daemon:
    def __init__(self, env, name, args, extra_env=None):
        self.name = name
        self.log = os.path.join(env.root, 'var', 'log', f'{name}.log')
        e = dict(os.environ)
        e.update(extra_env or {})
        self.logf = open(self.log, 'ab')
        self.proc = subprocess.Popen([program(name)] + args, stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=e, cwd=env.root)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.logf.close()

    def stop(self, timeout=10):
        if self.logf.closed:
            return self.proc.returncode
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode

    def vmhwm_kib(self):
        """Peak resident memory so far."""
        with open(f'/proc/{self.pid}/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
        return 0

    def log_text(self):
        with open(self.log, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait_log(self, needle, timeout=10):
        return wait_for(lambda: needle in self.log_text(), timeout)


class Env:
    """A private madoguchi world: <root>/etc/madoguchi.conf and <root>/var/."""

    def __init__(self, name, fsync=True, keep=False):
        self.root = tempfile.mkdtemp(prefix=f'mdg-{name}-')
        os.chmod(self.root, 0o755)
        self.keep = keep or bool(os.environ.get('MDG_KEEP'))
        for d in ('etc', 'var/log', 'var/run', 'var/mail/inbox/new', 'var/mail/inbox/cur',
                  'var/mail/inbox/tmp'):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        self.pg = Postgres(os.path.join(self.root, 'var'), fsync=fsync)
        self.daemons = []
        self.others = []
        self.settings = {}

    # -- set up ----------------------------------------------------------
    def start_db(self):
        self.pg.init()
        self.pg.start()
        self.pg.bootstrap()
        self.write_config()
        r = self.admin('migrate')
        if r.returncode != 0:
            raise RuntimeError('migrate failed: ' + r.stderr)
        return self

    def write_config(self, **settings):
        """settings: {'ticketd.listen': '127.0.0.1:8081', ...}; merged with earlier ones."""
        self.settings.update(settings)
        s = {'db.socket_dir': 'var/run', 'db.port': str(self.pg.port),
             'admin.sql_dir': os.path.join(REPO, 'sql'),
             'ticketd.web_root': os.path.join(REPO, 'templates', 'web'),
             'ticketd.reply_templates': os.path.join(REPO, 'templates', 'reply'),
             'ticketd.escalation_templates': os.path.join(REPO, 'templates', 'escalation'),
             'escalation.reminder_template': os.path.join(REPO, 'templates', 'reminder', 'reminder.txt'),
             'ticketd.fax_letterhead': os.path.join(REPO, 'templates', 'fax', 'letterhead.txt'),
             'ingest_mail.maildir': 'var/mail/inbox'}
        s.update(self.settings)
        self.conf = os.path.join(self.root, 'etc', 'madoguchi.conf')
        with open(self.conf, 'w') as f:
            f.write('# written by tests/lib/mdg.py\n')
            for k, v in sorted(s.items()):
                f.write(f'{k} = {v}\n')
        return self.conf

    def admin(self, *args, input=None):
        return subprocess.run([program('madoguchi-admin'), '-c', self.conf] + list(args),
                              input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=self.root)

    def add_user(self, login, role, password, name=None):
        r = self.admin('user-add', login, role, *([name] if name else []), input=password + '\n')
        if r.returncode != 0:
            raise RuntimeError(f'user-add {login}: {r.stderr}')

    def sql(self, q):
        return self.pg.psql(q)

    def start(self, name, *args, extra_env=None):
        d = Daemon(self, name, ['-c', self.conf] + list(args), extra_env)
        self.daemons.append(d)
        return d

    def maildir_drop(self, raw, name=None):
        """Deliver raw bytes into the embedded Maildir the way an MTA does (tmp/ then new/)."""
        name = name or f'{time.time():.6f}.{os.getpid()}_{hashlib.sha1(raw).hexdigest()[:12]}.mdg'
        box = os.path.join(self.root, 'var', 'mail', 'inbox')
        tmp = os.path.join(box, 'tmp', name)
        with open(tmp, 'wb') as f:
            f.write(raw)
        os.rename(tmp, os.path.join(box, 'new', name))
        return name

    def cleanup(self):
        for d in reversed(self.daemons):
            d.stop()
        for o in reversed(self.others):
            try:
                o.stop()
            except Exception:
                pass
        try:
            self.pg.stop('immediate')
        except Exception:
            pass
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


def self_signed_cert(dirpath, cn='localhost'):
    """Write cert.pem and key.pem; return the SHA-256 of the DER certificate (hex)."""
    cert = os.path.join(dirpath, 'cert.pem')
    key = os.path.join(dirpath, 'key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30',
                    '-subj', f'/CN={cn}', '-addext', f'subjectAltName=DNS:{cn},IP:127.0.0.1',
                    '-keyout', key, '-out', cert], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    der = subprocess.run(['openssl', 'x509', '-in', cert, '-outform', 'DER'], check=True,
                         stdout=subprocess.PIPE).stdout
    return hashlib.sha256(der).hexdigest()


class Dovecot:
    """A private dovecot: IMAP (STARTTLS) and IMAPS on loopback, one user, Maildir as nobody."""

    USER = 'citizen-desk'
    PASSWORD = 'imap-test-password'

    def __init__(self, env):
        self.dir = os.path.join(env.root, 'dovecot')
        os.makedirs(os.path.join(self.dir, 'run'), exist_ok=True)
        self.home = os.path.join(self.dir, 'home')
        os.makedirs(self.home, exist_ok=True)
        shutil.chown(self.home, 'nobody', 'nogroup')
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.cert_sha256 = self_signed_cert(self.dir)
        self.conf = os.path.join(self.dir, 'dovecot.conf')
        with open(os.path.join(self.dir, 'users'), 'w') as f:
            f.write(f'{self.USER}:{{PLAIN}}{self.PASSWORD}\n')
        with open(self.conf, 'w') as f:
            f.write(self._config())
        env.others.append(self)

    def _config(self):
        d = self.dir
        return f"""# private test dovecot, written by tests/lib/mdg.py
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 65534
last_valid_uid = 65534
first_valid_gid = 65534
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={self.home}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
    ssl = yes
  }}
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
"""

    def start(self):
        os.makedirs(os.path.join(self.dir, 'state'), exist_ok=True)
        subprocess.run(['dovecot', '-c', self.conf], check=True)
        if not wait_for(lambda: self._listening(), 10):
            raise RuntimeError('dovecot did not start; see ' + self.dir + '/dovecot.log')
        return self

    def _listening(self):
        try:
            socket.create_connection(('127.0.0.1', self.imaps_port), 0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        subprocess.run(['doveadm', '-c', self.conf, 'stop'], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def client(self):
        """A logged-in imaplib client over IMAPS (certificate not checked: it is ours)."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = imaplib.IMAP4_SSL('127.0.0.1', self.imaps_port, ssl_context=ctx)
        c.login(self.USER, self.PASSWORD)
        return c

    def append(self, raw, mailbox='INBOX', client=None):
        c = client or self.client()
        typ, data = c.append(mailbox, None, None, raw)
        if typ != 'OK':
            raise RuntimeError(f'APPEND failed: {data}')
        if client is None:
            c.logout()

    def ingest_settings(self, tls='imaps', pin=True, **more):
        """Config keys that point ingest-mail at this server."""
        pw = os.path.join(self.dir, 'password')
        with open(pw, 'w') as f:
            f.write(self.PASSWORD + '\n')
        s = {'ingest_mail.source': tls, 'ingest_mail.imap_host': '127.0.0.1',
             'ingest_mail.imap_port': str(self.imaps_port if tls == 'imaps' else self.imap_port),
             'ingest_mail.imap_user': self.USER, 'ingest_mail.imap_password_file': pw}
        if pin:
            s['ingest_mail.imap_pin_sha256'] = self.cert_sha256
        s.update(more)
        return s


class SmtpSink:
    """postfix's smtp-sink on loopback, saving each mail as a file in <dir>."""

    def __init__(self, env, options=(), name='smtp-sink'):
        """options: more smtp-sink flags, e.g. ('-f', 'RCPT') to refuse every recipient"""
        self.dir = os.path.join(env.root, name)
        os.makedirs(self.dir, exist_ok=True)
        shutil.chown(self.dir, 'nobody', 'nogroup')
        self.port = free_port()
        self.options = list(options)
        self.proc = None
        env.others.append(self)

    def start(self):
        self.proc = subprocess.Popen(['/usr/sbin/smtp-sink', '-u', 'nobody'] + self.options +
                                     ['-d', os.path.join(self.dir, '%Y%m%d%H/%M.'),
                                      f'127.0.0.1:{self.port}', '50'],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._listening, 5)
        return self

    def _listening(self):
        try:
            socket.create_connection(('127.0.0.1', self.port), 0.2).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()

    SETTLE = 0.5  # seconds a dump file must be left alone before it is read

    def messages(self):
        """Every mail the sink holds, oldest file first.  smtp-sink writes a dump
        while the DATA comes in, so a file touched in the last SETTLE seconds
        may be half written: wait until it is older (a test that read one early
        compared a cut-off body)."""
        paths = []
        for root, _, files in os.walk(self.dir):
            paths += [os.path.join(root, n) for n in sorted(files)]
        end = time.monotonic() + 10
        while paths and time.monotonic() < end:
            age = min(time.time() - os.path.getmtime(p) for p in paths)  # of the newest file
            if age >= self.SETTLE:
                break
            time.sleep(self.SETTLE - age + 0.01)
        out = []
        for p in paths:
            with open(p, 'rb') as f:
                out.append(f.read())
        return out
