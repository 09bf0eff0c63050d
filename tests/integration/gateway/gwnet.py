"""Test harness for mlagwd integration tests: real daemons on loopback, Python stdlib only.

usage in a test:   net = Net(mlagw, mlagwd, ['ES', 'CO']); net.start_all(); ...
Run a test body with run(main) so that on any failure the gateways' logs are printed and
every daemon started here is killed.
"""
import base64
import fcntl
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
import xml.etree.ElementTree as ET

RNS = '{urn:mlagw:receipt:1}'
STATE_NAMES = {0: 'queued', 1: 'sending', 2: 'awaiting-receipt', 3: 'delivered', 4: 'rejected',
               5: 'failed'}
QUEUED, SENDING, AWAITING, DELIVERED, REJECTED, FAILED = range(6)

_NETS = []


class TestFailure(AssertionError):
    pass


class StoreReadError(OSError):
    """`mlagw store show` could not read a store (e.g. a daemon is restarting): transient."""


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def wait_until(pred, timeout, interval=0.1, msg='condition'):
    """Polls pred() until it returns a true value (returned) or raises after timeout s."""
    end = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = pred()
        except OSError as e:  # store busy (StoreReadError), daemon restarting
            last = None
            err = e
        if last:
            return last
        if time.monotonic() >= end:
            raise TestFailure('timed out after %.1fs waiting for %s' % (timeout, msg))
        time.sleep(interval)


_PORT_LOCKS = []  # lock files held for this process's life: the ports it reserved


def _ephemeral_range():
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def _port_range():
    """Ports outside the kernel's ephemeral range: a port taken from that range and
    closed again may become the source port of any outgoing connection (a daemon's
    relay to its peer) before our daemon binds it. CI once failed so."""
    lo, hi = _ephemeral_range()
    if lo - 10000 >= 4096:
        return 10000, lo - 1
    if 65535 - hi >= 4096:
        return hi + 1, 65535
    return None


def _reserve(port):
    """True when this process now holds port's lock file: parallel test processes
    (meson runs several at once) skip each other's ports."""
    d = os.path.join(tempfile.gettempdir(), 'mlagw-test-ports')
    os.makedirs(d, exist_ok=True)
    fd = os.open(os.path.join(d, str(port)), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _PORT_LOCKS.append(fd)
    return True


def _bindable(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port():
    """A port no other process listens on or connects from, reserved for this test
    process: outside the ephemeral range, locked against parallel tests, bindable now."""
    rng = _port_range()
    if rng is None:  # no room outside the ephemeral range: the kernel's choice
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
        s.close()
        return port
    lo, hi = rng
    for _ in range(2000):
        port = random.randint(lo, hi)
        if _reserve(port):
            if _bindable(port):
                return port
    raise TestFailure('no free port in %d-%d after 2000 tries' % (lo, hi))


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__('localhost', timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def parse_receipt(data):
    """A receipt's fields: message_id (or None), outcome, error (name or None), digest (bytes);
    of either version (version 2: problems, a list of {path, code[, detail]}, and count)."""
    root = ET.fromstring(data)
    RNS = root.tag[:root.tag.index('}') + 1]  # urn:mlagw:receipt:1 or :2
    body = root.find(RNS + 'Body')
    plist = body.find(RNS + 'Problems')
    mid = body.find(RNS + 'MessageId')
    err = body.find(RNS + 'Error')
    return {
        'receipt_id': body.findtext(RNS + 'ReceiptId'),
        'message_id': mid.text if mid is not None else None,
        'outcome': body.findtext(RNS + 'Outcome'),
        'error': err.get('name') if err is not None else None,
        'error_text': err.text if err is not None else None,
        'digest': base64.b64decode(body.findtext(RNS + 'EnvelopeDigest')),
        'receiver': body.find(RNS + 'Receiver').get('state'),
        'sender': body.find(RNS + 'Sender').get('state'),
        'version': root.get('version'),
        'problems': [dict(p.attrib) for p in plist] if plist is not None else [],
        'problem_count': int(plist.get('count')) if plist is not None else 0,
    }


def sha256(b):
    return hashlib.sha256(b).digest()


class Gateway:
    def __init__(self, net, state):
        self.net = net
        self.state = state
        self.dir = os.path.join(net.dir, state.lower())
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.conf = os.path.join(self.dir, 'gw.conf')
        self.sock = os.path.join(self.dir, 'submit.sock')
        self.store = os.path.join(self.dir, 'store.db')
        self.pid_file = os.path.join(self.dir, 'mlagwd.pid')
        self.log = os.path.join(self.dir, 'mlagwd.log')
        self.proc = None
        self.overrides = {}
        self.peers = None  # None: every other State of the net
        self.trust = None  # None: every State of the net
        self.initialized = False  # the first start creates the store (mlagwd --init)

    @property
    def url(self):
        return 'https://127.0.0.1:%d/mla/v1/envelopes' % self.port

    def pki(self, name):
        return self.net.pki(self.state, name)

    # --- configuration ---
    def config_text(self, overrides=None, peers=None):
        n = self.net
        peers = peers if peers is not None else (
            self.peers if self.peers is not None else [s for s in n.gws if s != self.state])
        trust = self.trust if self.trust is not None else list(n.gws)
        sec = {
            'gateway': {'state': self.state, 'listen': '127.0.0.1:%d' % self.port,
                        'submit_socket': self.sock, 'store': self.store,
                        'pid_file': self.pid_file, 'workers': '2'},
            'keys': {k: self.pki(f) for k, f in [
                ('tls_cert', 'tls.crt'), ('tls_key', 'tls.key'), ('sign_cert', 'sign.crt'),
                ('sign_key', 'sign.key'), ('encrypt_cert', 'encrypt.crt'),
                ('encrypt_key', 'encrypt.key'), ('audit_cert', 'audit.crt'),
                ('audit_key', 'audit.key')]},
            'trust': {'root': [n.pki(s, 'root.crt') for s in trust]},
        }
        for p in peers:
            sec['peer ' + p] = {'url': n.peer_url(p), 'encrypt_cert': n.pki(p, 'encrypt.crt'),
                                'max_in_flight': '8'}
        sec['limits'] = {'header_timeout': '2s', 'max_body_bytes': '1 MiB'}
        # a peer a test stopped on purpose holds a start back this long (default 10 s)
        sec['audit'] = {'peer_head_wait': '5s'}
        sec['retry'] = {'initial': '100ms', 'max': '1s', 'request_timeout': '10s',
                        'connect_timeout': '2s'}
        # tests run as whoever runs them, root in CI (test_privdrop.py drops to a user)
        sec['daemon'] = {'allow_root': 'true'}
        for ov in (self.overrides, overrides or {}):
            for s, kv in ov.items():
                if kv is None:
                    sec.pop(s, None)
                    continue
                d = sec.setdefault(s, {})
                for k, v in kv.items():
                    if v is None:
                        d.pop(k, None)
                    else:
                        d[k] = v
        out = []
        for s, kv in sec.items():
            out.append('[%s]' % s)
            for k, v in kv.items():
                for one in (v if isinstance(v, list) else [v]):
                    out.append('%s = %s' % (k, one))
            out.append('')
        return '\n'.join(out)

    def write_config(self, overrides=None, peers=None, text=None):
        with open(self.conf, 'w') as f:
            f.write(text if text is not None else self.config_text(overrides, peers))

    # --- process control ---
    def start(self, wait=True, env=None):
        """env: extra environment for mlagwd (e.g. libfaketime's), added to this process's."""
        check(self.proc is None or self.proc.poll() is not None, '%s already running' % self.state)
        if not os.path.exists(self.conf):
            self.write_config()
        if not self.initialized:
            self.init_store()
        logf = open(self.log, 'ab')
        logf.write(b'--- start ---\n')
        logf.flush()
        self.proc = subprocess.Popen([self.net.mlagwd, '-c', self.conf, '--foreground'],
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                     env=dict(os.environ, **env) if env else None)
        logf.close()
        if wait:
            self.wait_ready()
        return self

    def init_store(self):
        """`mlagwd --init`: a gateway never creates its store itself. A configuration the
        test made bad on purpose fails here too; the start then reports it."""
        self.initialized = True
        p = subprocess.run([self.net.mlagwd, '-c', self.conf, '--init'], capture_output=True,
                           timeout=60)
        with open(self.log, 'ab') as f:
            f.write(b'--- init: exit %d ---\n' % p.returncode + p.stdout + p.stderr)
        return p

    def wait_ready(self, timeout=20):
        def ready():
            if self.proc.poll() is not None:
                raise TestFailure('%s exited with %s during start-up' % (self.state,
                                                                          self.proc.returncode))
            try:
                code, _ = self.http('GET', '/local/v1/health', timeout=2)
            except OSError:
                return False
            return code == 200
        wait_until(ready, timeout, 0.05, '%s health' % self.state)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=30):
        check(self.running(), '%s not running' % self.state)
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure('%s did not stop within %ss on %s' % (self.state, timeout, sig))
        check(rc == 0, '%s exited %s on %s, wanted 0' % (self.state, rc, sig))
        check(not os.path.exists(self.pid_file), '%s left its pid file' % self.state)
        return rc

    def kill(self):
        if self.running():
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        if self.running():
            self.stop()
        return self.start()

    def log_text(self):
        try:
            with open(self.log, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    # --- local API ---
    def http(self, method, path, body=None, headers=None, timeout=30):
        c = UnixHTTPConnection(self.sock, timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def submit(self, to, kind='mla', doc=b'<Request>integration</Request>', priority=None,
               case_id=None, expect=202):
        h = {'X-MLA-To': to, 'X-MLA-Kind': kind, 'Content-Type': 'application/xml'}
        if priority:
            h['X-MLA-Priority'] = priority
        if case_id:
            h['X-MLA-Case-Id'] = case_id
        code, body = self.http('POST', '/local/v1/submit', doc, h)
        check(code == expect, 'submit to %s: HTTP %d %r, wanted %d' % (to, code, body, expect))
        j = json.loads(body)
        if expect == 202:
            check(j.get('state') == 'queued' and len(j.get('message_id', '')) == 36,
                  'submit answer %r' % j)
            if case_id:
                check(j['case_id'] == case_id, 'case id %r' % j)
        return j

    def status(self, mid):
        code, body = self.http('GET', '/local/v1/messages/' + mid)
        check(code == 200, 'status %s: HTTP %d %r' % (mid, code, body))
        return json.loads(body)

    def health(self):
        code, body = self.http('GET', '/local/v1/health')
        check(code == 200, 'health: HTTP %d' % code)
        return json.loads(body)

    # --- store: read through `mlagw store show` (the store's reader), never SQL ---
    def show(self, *what):
        """The JSON of `mlagw store show --store STORE WHAT... --json`."""
        args = [self.net.mlagw, 'store', 'show', '--store', self.store] + list(what) + ['--json']
        p = subprocess.run(args, capture_output=True, timeout=60)
        if p.returncode != 0:
            raise StoreReadError('mlagw store show %s: exit %d: %s' % (
                ' '.join(what), p.returncode, p.stderr.decode(errors='replace')))
        return json.loads(p.stdout)

    def counts(self):
        """Rows per part (outbox, inbox, history, alerts, audit, audit_next, checkpoints,
        checkpoint_latest, witnessed, peer_certs)."""
        return self.show('--meta')['counts']

    def audit_rows(self, first=None, last=None):
        """The audit table as stored: [{'seq', 'entry' (bytes), 'leaf' (bytes or None)}]."""
        rng = (['--from', str(first)] if first is not None else []) + \
              (['--to', str(last)] if last is not None else [])
        return [{'seq': r['seq'], 'entry': base64.b64decode(r['entry']),
                 'leaf': bytes.fromhex(r['leaf']) if r['leaf'] else None}
                for r in self.show('--audit', *rng)]

    def checkpoints(self):
        """[{'size', 'note' (bytes), 'at_ms'}] in ascending size."""
        return [dict(r, note=base64.b64decode(r['note'])) for r in self.show('--checkpoints')]

    def witnessed(self):
        """[{'origin', 'size', 'root' (bytes), 'note' (bytes), 'at_ms'}] by origin, size."""
        return [dict(r, note=base64.b64decode(r['note']), root=bytes.fromhex(r['root']))
                for r in self.show('--witnessed')]

    def peer_certs(self):
        return [dict(r, der=base64.b64decode(r['der'])) for r in self.show('--peer-certs')]

    def audit(self):
        """The audit log, checked on the way: seq dense from 0, each leaf the RFC 6962 leaf
        hash of its entry, each entry in the canonical form's first line (version 1, or
        version 2 ending in a count line: an aggregate; version 3 only as entry 0 of a log
        epoch from 2, the link to the previous epoch, SPEC 14). Returns a list of dicts
        (field -> value) in seq order; a version 1 entry has no 'count' key."""
        out = []
        for n, r in enumerate(self.audit_rows()):
            seq, entry, leaf = r['seq'], r['entry'], r['leaf']
            check(seq == n, '%s audit: seq %d at position %d (gap)' % (self.state, seq, n))
            check(hashlib.sha256(b'\x00' + entry).digest() == leaf,
                  '%s audit: leaf hash of entry %d' % (self.state, seq))
            lines = entry.decode('utf-8').split('\n')
            check((lines[0] == 'mlagw-audit-entry/1' or
                   (lines[0] == 'mlagw-audit-entry/2' and lines[-2].startswith('count ')) or
                   (lines[0] == 'mlagw-audit-entry/3' and seq == 0 and
                    lines[-2].startswith('prev-signature ')) or
                   (lines[0] in ('mlagw-audit-entry/4', 'mlagw-audit-entry/5') and
                    lines[-2].startswith('audit-cert-sha256 ')) or
                   (lines[0] == 'mlagw-audit-entry/6' and lines[-2].startswith('grounds ')) or
                   (lines[0] in ('mlagw-audit-entry/7', 'mlagw-audit-entry/9') and
                    lines[-2].startswith('attachment ')) or
                   (lines[0] == 'mlagw-audit-entry/8' and
                    lines[-2].startswith('directory-sha256 '))) and
                  lines[-1] == '', '%s audit: entry %d form' % (self.state, seq))
            fields = dict(l.split(' ', 1) for l in lines[1:-1])
            check(fields['seq'] == str(seq), '%s audit: entry %d seq field' % (self.state, seq))
            out.append(fields)
        return out

    def outbox(self, ids=None, blobs=True):
        """message id -> {message_id, to_state, priority, state, attempts, digest, receipt
        (bytes or None; None too without blobs), last_error, created_ms, deadline_ms}."""
        d = {}
        for r in self.show('--outbox', *(['--blobs'] if blobs else [])):
            if ids is not None and r['message_id'] not in ids:
                continue
            d[r['message_id']] = {
                'message_id': r['message_id'], 'to_state': r['to'], 'priority': r['priority'],
                'state': r['state'], 'attempts': r['attempts'],
                'digest': bytes.fromhex(r['digest']),
                'receipt': base64.b64decode(r['receipt']) if 'receipt' in r else None,
                'last_error': r['last_error'], 'created_ms': r['created_ms'],
                'deadline_ms': r['deadline_ms']}
        return d

    def outbox_envelope(self, mid):
        """The envelope bytes stored for an outgoing message."""
        p = subprocess.run([self.net.mlagw, 'store', 'show', '--store', self.store,
                            '--envelope', mid], capture_output=True, timeout=60)
        check(p.returncode == 0 and p.stdout, 'no stored envelope for %s' % mid)
        return p.stdout

    def inbox_counts(self):
        """message id -> number of inbox rows (must be 1 for exactly-once)."""
        counts = {}
        for r in self.show('--inbox'):
            counts[r['message_id']] = counts.get(r['message_id'], 0) + 1
        return counts

    def inbox(self):
        return {r['message_id']: {
            'message_id': r['message_id'], 'from_state': r['from'], 'priority': r['priority'],
            'digest': bytes.fromhex(r['digest']), 'accepted': r['accepted'],
            'receipt': base64.b64decode(r['receipt']),
            'envelope': base64.b64decode(r['envelope']) if 'envelope' in r else None,
            'received_ms': r['received_ms']} for r in self.show('--inbox', '--blobs')}

    def history(self, mid):
        return [r['state'] for r in self.show('--history', '--message', mid)]

    def alerts(self, kind=None):
        return [{'kind': r['kind'], 'message_id': r['message_id'], 'detail': r['detail']}
                for r in self.show('--alerts') if kind is None or r['kind'] == kind]

    # --- store damage, on purpose (tests/tools/store_fault; the gateway must be down) ---
    def fault(self, *args, store=None):
        p = subprocess.run([self.net.store_fault, args[0], store or self.store] +
                           [str(a) for a in args[1:]], capture_output=True, timeout=60)
        check(p.returncode == 0, 'store_fault %s: exit %d: %s' % (
            ' '.join(map(str, args)), p.returncode, p.stderr.decode(errors='replace')))
        return p.stdout.decode()

    def set_audit_entry(self, seq, entry, rehash=False, store=None):
        """Replaces entry seq's bytes (and its leaf hash with rehash)."""
        path = os.path.join(self.dir, 'fault-entry-%d' % seq)
        with open(path, 'wb') as f:
            f.write(entry)
        self.fault('set-entry', seq, path, *(['--rehash'] if rehash else []), store=store)

    def count_states(self, ids):
        ob = self.outbox(ids, blobs=False)
        counts = {}
        for r in ob.values():
            counts[r['state']] = counts.get(r['state'], 0) + 1
        return counts

    def all_in_state(self, ids, state):
        ob = self.outbox(ids, blobs=False)
        return len(ob) == len(ids) and all(r['state'] == state for r in ob.values())


class Net:
    def __init__(self, mlagw, mlagwd, states, extra_pki=(), checkpoint_interval=None):
        self.mlagw = os.path.abspath(mlagw)
        self.mlagwd = os.path.abspath(mlagwd)
        self.store_fault = os.environ.get('MLAGW_STORE_FAULT') or os.path.join(
            os.path.dirname(os.path.dirname(self.mlagw)), 'tests', 'tools', 'store_fault')
        self.dir = tempfile.mkdtemp(prefix='mlagw-it-')
        self.pki_dir = os.path.join(self.dir, 'pki')
        self.gws = {}
        self.url_override = {}
        for s in list(states) + list(extra_pki):
            self.cli('pki', 'init', '--state', s, '--out', self.pki_dir, '--rsa-bits', '2048')
        for s in states:
            self.gws[s] = Gateway(self, s)
            if checkpoint_interval is not None:  # audit tests: checkpoints every so often
                self.gws[s].overrides = {'audit': {'checkpoint_interval': checkpoint_interval}}
        _NETS.append(self)

    def __getitem__(self, s):
        return self.gws[s]

    def pki(self, state, name):
        return os.path.join(self.pki_dir, state, name)

    def peer_url(self, state):
        if state in self.url_override:
            return self.url_override[state]
        return self.gws[state].url

    def cli(self, *args, check_rc=True, input=None):
        p = subprocess.run([self.mlagw] + list(args), input=input, capture_output=True,
                           timeout=60)
        if check_rc and p.returncode != 0:
            raise TestFailure('mlagw %s: exit %d: %s' % (' '.join(args), p.returncode,
                                                          p.stderr.decode(errors='replace')))
        return p

    def start_all(self):
        for g in self.gws.values():
            g.write_config()
        for g in self.gws.values():
            g.start(wait=False)
        for g in self.gws.values():
            g.wait_ready()

    def stop_all(self):
        for g in self.gws.values():
            if g.running():
                g.stop()

    def kill_all(self):
        for g in self.gws.values():
            g.kill()

    def seal(self, frm, to, doc=b'<Request>raw</Request>', kind='mla', signer=None,
             message_id=None, created=None, priority=None, action=None, version=None,
             case_id=None, in_reply_to=None):
        """Seals doc with the CLI: signed with signer's (default frm's) signing key, encrypted
        to to's encryption certificate. Returns the envelope bytes."""
        signer = signer or frm
        d = tempfile.mkdtemp(dir=self.dir)
        inp, out = os.path.join(d, 'doc'), os.path.join(d, 'env.xml')
        with open(inp, 'wb') as f:
            f.write(doc)
        args = ['envelope', 'seal', '--from', frm, '--to', to, '--kind', kind, '--in', inp,
                '--sign-cert', self.pki(signer, 'sign.crt'), '--sign-key',
                self.pki(signer, 'sign.key'), '--recipient-cert', self.pki(to, 'encrypt.crt'),
                '--out', out]
        if message_id:
            args += ['--message-id', message_id]
        if created:
            args += ['--created', created]
        if priority:
            args += ['--priority', priority]
        if action:
            args += ['--action', action]
        if version:
            args += ['--envelope-version', str(version)]
        if case_id:
            args += ['--case-id', case_id]
        if in_reply_to:
            args += ['--in-reply-to', in_reply_to]
        self.cli(*args)
        with open(out, 'rb') as f:
            return f.read()

    def client_ctx(self, client_state, server_state, cert=True):
        """TLS client context: client_state's TLS identity (or none), server_state's root."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(self.pki(server_state, 'root.crt'))
        if cert:
            ctx.load_cert_chain(self.pki(client_state, 'tls.crt'),
                                self.pki(client_state, 'tls.key'))
        return ctx

    def tls_connect(self, client_state, server_state, cert=True, timeout=10):
        """A TLS socket to server_state's peer listener, handshake done."""
        raw = socket.create_connection(('127.0.0.1', self.gws[server_state].port), timeout)
        s = self.client_ctx(client_state, server_state, cert).wrap_socket(raw)
        return s

    def post(self, client_state, server_state, body, path='/mla/v1/envelopes', method='POST',
             content_type='application/xml', timeout=20, cert=True):
        """One request over mutual TLS; returns (status, body bytes)."""
        c = http.client.HTTPSConnection('127.0.0.1', self.gws[server_state].port,
                                        timeout=timeout,
                                        context=self.client_ctx(client_state, server_state,
                                                                cert))
        try:
            h = {'Content-Type': content_type} if content_type else {}
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def cleanup(self, keep=False):
        self.kill_all()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def dump_logs():
    for n in _NETS:
        for g in n.gws.values():
            sys.stderr.write('\n===== %s log (%s) =====\n' % (g.state, g.log))
            text = g.log_text()
            if len(text) > 60000:
                text = '[... %d bytes cut ...]\n' % (len(text) - 60000) + text[-60000:]
            sys.stderr.write(text)
        sys.stderr.write('\n(test directory kept: %s)\n' % n.dir)


def issue_audit_key(net, state, tag, key_out, crt_out):
    """A new Ed25519 audit key and certificate for state, issued by its root with openssl,
    written to key_out and crt_out (mode 0600): an audit key rotation (SPEC 14)."""
    d = os.path.join(net.dir, 'audit-%s-%s' % (state, tag))
    os.makedirs(d)
    key, csr, crt, ext = [os.path.join(d, x) for x in ('a.key', 'a.csr', 'a.crt', 'ext')]
    with open(ext, 'w') as f:
        f.write('basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n')
    for args in (['genpkey', '-algorithm', 'ed25519', '-out', key],
                 ['req', '-new', '-key', key, '-subj', '/C=%s/O=%s (test PKI)/CN=%s gateway '
                  'audit log %s' % (state, state, state, tag), '-out', csr],
                 ['x509', '-req', '-in', csr, '-CA', net.pki(state, 'root.crt'), '-CAkey',
                  net.pki(state, 'root.key'), '-CAcreateserial', '-days', '30', '-extfile',
                  ext, '-out', crt]):
        subprocess.run(['openssl'] + args, check=True, capture_output=True)
    for src, dst in ((key, key_out), (crt, crt_out)):
        with open(src, 'rb') as f, open(dst, 'wb') as t:
            t.write(f.read())
        os.chmod(dst, 0o600)


def run(main):
    """Runs main(mlagw, mlagwd) from argv; prints logs on failure; exit code 0/1."""
    if len(sys.argv) != 3:
        sys.stderr.write('usage: %s MLAGW MLAGWD\n' % sys.argv[0])
        sys.exit(2)
    t0 = time.monotonic()
    ok = False
    try:
        main(sys.argv[1], sys.argv[2])
        for n in _NETS:  # a sanitizer report in any daemon's log fails the test
            for g in n.gws.values():
                g.kill()
                text = g.log_text()
                for marker in ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer',
                               'runtime error:', 'ThreadSanitizer'):
                    check(marker not in text, '%s log has a sanitizer report' % g.state)
        ok = True
    except BaseException:
        traceback.print_exc()
        dump_logs()
        # again after the logs: CI shows only the end of a failed test's output
        sys.stderr.write('\n===== why it failed =====\n')
        traceback.print_exc()
    finally:
        for n in _NETS:
            n.cleanup(keep=not ok)
    print('%s: %s in %.1fs' % (os.path.basename(sys.argv[0]), 'ok' if ok else 'FAILED',
                               time.monotonic() - t0))
    sys.exit(0 if ok else 1)


def submit_burst(gw, to, total, threads=4, on_ack=None, stop=None):
    """Submits up to total messages from several threads; returns the list of acknowledged ids
    (202 + message id). Errors (connection refused when the daemon dies) end a thread."""
    acked, lock = [], threading.Lock()
    counter = [0]

    def worker():
        while True:
            with lock:
                if counter[0] >= total or (stop is not None and stop.is_set()):
                    return
                counter[0] += 1
            try:
                code, body = gw.http('POST', '/local/v1/submit',
                                     b'<Request>burst</Request>',
                                     {'X-MLA-To': to, 'X-MLA-Kind': 'mla'}, timeout=30)
            except (OSError, http.client.HTTPException):
                return
            if code == 202:
                mid = json.loads(body)['message_id']
                with lock:
                    acked.append(mid)
                    if on_ack:
                        on_ack(len(acked))
            else:
                return

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return acked


def burst_with_kill(net, sender, receiver, victim, total=500, kill_after=200, threads=4):
    """sender submits total messages to receiver from several threads; once kill_after are
    acknowledged victim is SIGKILLed (and restarted after the burst). Returns the acked ids."""
    killed = threading.Event()
    acked_box = []

    def burst():
        acked_box.extend(submit_burst(net[sender], receiver, total, threads))
    t = threading.Thread(target=burst)
    t0 = time.monotonic()
    t.start()
    counter = lambda: net[sender].counts()['outbox']  # noqa: E731
    # the acks are counted by the burst threads; poll the outbox as a proxy of progress
    wait_until(lambda: counter() >= kill_after or not t.is_alive(), 60, 0.02,
               '%d submissions stored' % kill_after)
    check(t.is_alive(), 'burst finished before the kill: make it bigger')
    net[victim].kill()
    killed.set()
    sys.stderr.write('killed %s after %.1fs\n' % (victim, time.monotonic() - t0))
    t.join(120)
    check(not t.is_alive(), 'burst threads hang')
    return acked_box, killed


def check_exactly_once(net, sender, receiver, acked, timeout=90):
    """Every acknowledged id ends delivered in sender's outbox, exactly once in receiver's
    inbox, nothing unknown in the inbox, and no outbox row left non-final."""
    acked = set(acked)
    wait_until(lambda: net[sender].all_in_state(acked, DELIVERED), timeout, 0.2,
               '%d acknowledged ids delivered' % len(acked))
    stored = net[sender].outbox()
    check(acked <= set(stored), 'acknowledged ids missing from %s outbox: %r' %
          (sender, sorted(acked - set(stored))[:5]))
    # ids stored but never acknowledged (in flight at the kill) must settle too
    wait_until(lambda: all(r['state'] >= DELIVERED for r in
                           net[sender].outbox(blobs=False).values()),
               timeout, 0.2, 'every outbox row final')
    stored = net[sender].outbox()
    bad = {m: r['state'] for m, r in stored.items() if r['state'] != DELIVERED}
    check(not bad, 'outbox rows not delivered: %r' % bad)
    counts = net[receiver].inbox_counts()
    check(acked <= set(counts), '%d acknowledged ids missing from %s inbox' %
          (len(acked - set(counts)), receiver))
    check(set(counts) <= set(stored), 'inbox ids %s never stored by %s' %
          (sorted(set(counts) - set(stored))[:5], sender))
    dup = {m: n for m, n in counts.items() if n != 1}
    check(not dup, 'delivered more than once: %r' % dup)
    inbox = net[receiver].inbox()
    for m, r in stored.items():
        check(inbox[m]['digest'] == r['digest'], '%s: digest differs' % m)
        rc = parse_receipt(r['receipt'])
        check(rc['outcome'] == 'accepted' and rc['message_id'] == m, '%s receipt %r' % (m, rc))
    check(not net[receiver].alerts('duplicate-id'), 'duplicate-id alerts')
    return stored


def verify_exported(net, state):
    """Exports state's stopped store and checks `mlagw audit verify` accepts it with the
    net's roots (exit 0), covering every entry of its audit table."""
    g = net[state]
    trust = os.path.join(net.dir, 'trust-' + state)
    os.makedirs(trust, exist_ok=True)
    for s in net.gws:
        shutil.copy(net.pki(s, 'root.crt'), os.path.join(trust, s + '.crt'))
    out = os.path.join(net.dir, state + '-exported.mab')
    net.cli('audit', 'export', '--store', g.store, '--cert', g.pki('audit.crt'), '--out', out)
    p = net.cli('audit', 'verify', out, '--trust', trust, '--json', check_rc=False)
    rep = json.loads(p.stdout.decode() or '{}')
    check(p.returncode == 0 and rep.get('verified'), '%s bundle after the kill: exit %d %r' %
          (state, p.returncode, rep.get('failures')))
    n = len(g.audit())
    check(rep['entries'] == n, '%s bundle holds %d of %d entries' % (state, rep['entries'], n))


def check_audit_after_kill(net, sender, receiver, acked, killed):
    """Every acknowledged submission left its audit entries whatever the kill interrupted
    (sender: submitted and delivered; receiver: received), both logs are dense and well
    formed (Gateway.audit() checks that); then, after a clean stop, the killed gateway's
    exported bundle verifies offline."""
    ev = {}
    for e in net[sender].audit():
        ev.setdefault(e['message'], set()).add(e['event'])
    missing = [m for m in acked if not {'submitted', 'delivered'} <= ev.get(m, set())]
    check(not missing, '%d acknowledged ids without submitted/delivered entries' % len(missing))
    recv = {e['message'] for e in net[receiver].audit() if e['event'] == 'received'}
    check(set(acked) <= recv, '%s audit lacks received entries' % receiver)
    net.stop_all()
    verify_exported(net, killed)


# --- the case lifecycle (SPEC 16.8) through the submission socket ---
def case_step(gw, to, action, case_id, in_reply_to=None, doc=b'<Doc>step</Doc>', kind='mla'):
    """Submits one step of a case: (HTTP status, JSON answer). Never raises on a refusal."""
    h = {'X-MLA-To': to, 'X-MLA-Kind': kind, 'X-MLA-Action': action,
         'X-MLA-Case-Id': case_id, 'Content-Type': 'application/xml'}
    if in_reply_to:
        h['X-MLA-In-Reply-To'] = in_reply_to
    code, body = gw.http('POST', '/local/v1/submit', doc, h)
    return code, json.loads(body or b'{}')


def cases(gw, case_id=None):
    """GET /local/v1/cases[/ID]: the list of cases (with their steps for one id); [] when
    there is no such case."""
    code, body = gw.http('GET', '/local/v1/cases' + ('/' + case_id if case_id else ''))
    if code == 404:
        return []
    check(code == 200, 'cases %s: HTTP %d %r' % (case_id, code, body))
    return json.loads(body)['items']


# SPEC 16.8's table: (action, side) -> (states it may be taken from, the state it leads to)
OPEN_STATES = ['transmitted', 'received', 'acknowledged', 'forwarded',
               'additional-information-requested', 'additional-information-provided',
               'accepted', 'postponed', 'in-execution']
LIFE_STAY = '(stays)'
LIFE_TABLE = {
    ('request', 'requesting'): (['none', 'transmitted'], 'received'),
    ('received', 'requested'): (['received'], 'acknowledged'),
    ('forwarded', 'requested'): (['received', 'acknowledged'], 'forwarded'),
    ('additional-information-requested', 'requested'): (
        ['received', 'acknowledged', 'forwarded', 'additional-information-provided', 'accepted',
         'postponed', 'in-execution'], 'additional-information-requested'),
    ('additional-information-provided', 'requesting'): (
        ['additional-information-requested'], 'additional-information-provided'),
    ('accepted', 'requested'): (['received', 'acknowledged', 'forwarded',
                                 'additional-information-provided', 'postponed'], 'accepted'),
    ('postponed', 'requested'): (['received', 'acknowledged', 'forwarded',
                                  'additional-information-provided', 'accepted'], 'postponed'),
    ('in-execution', 'requested'): (['accepted', 'postponed'], 'in-execution'),
    ('executed', 'requested'): (['accepted', 'in-execution'], 'executed'),
    ('partially-executed', 'requested'): (['accepted', 'in-execution'], 'partially-executed'),
    ('refused', 'requested'): (['received', 'acknowledged', 'forwarded',
                                'additional-information-requested',
                                'additional-information-provided', 'postponed'], 'refused'),
    ('withdrawn', 'requesting'): (OPEN_STATES, 'withdrawn'),
    ('closed', 'requesting'): (['executed', 'partially-executed', 'refused'], 'closed'),
    ('closed', 'requested'): (['withdrawn'], 'closed'),
    # a deadline's extension taken: the case stays in the state it is taken from
    ('deadline-extended', 'requested'): (['received', 'acknowledged', 'forwarded',
                                          'additional-information-provided', 'accepted',
                                          'postponed', 'in-execution'], LIFE_STAY),
    # an arrest warrant's arrest and consent recorded before the final decision: the same
    ('person-arrested', 'requested'): (['received', 'acknowledged', 'forwarded',
                                        'additional-information-provided', 'postponed'],
                                       LIFE_STAY),
    ('surrender-consented', 'requested'): (['received', 'acknowledged', 'forwarded',
                                            'additional-information-provided', 'postponed'],
                                           LIFE_STAY),
}


def life_next(state, side, action):
    """The state action by side leads to from state, or None when the table forbids it."""
    froms, to = LIFE_TABLE.get((action, side), ([], None))
    if state not in froms:
        return None
    return state if to == LIFE_STAY else to
