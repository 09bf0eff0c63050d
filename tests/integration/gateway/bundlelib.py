"""Audit bundle helpers shared by the bundle tests (SPEC §15): the container's records as
[type, name, bytes] lists and back, byte flips, signed-note forgery with another key, exports
and an Auditor that runs `mlagw audit verify` (thread-safe, so many can run in parallel)."""
import base64
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import threading

from gwnet import check

MAGIC = b'mlagw-audit-bundle/2\n'
# what a sanitizer prints when it finds something (UBSan may exit 1 like a refusal)
SANITIZER_MARKERS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:',
                     'ThreadSanitizer')


def parse_bundle(data):
    check(data.startswith(MAGIC), 'bundle format line')
    pos, recs = len(MAGIC), []
    while pos < len(data):
        nl = data.index(b'\n', pos)
        t, name, n = data[pos:nl].decode().split(' ')
        n = int(n)
        body = data[nl + 1:nl + 1 + n]
        check(data[nl + 1 + n:nl + 2 + n] == b'\n', 'record %s %s end' % (t, name))
        recs.append([t, name, body])
        pos = nl + 2 + n
    return recs


def write_bundle(recs, magic=MAGIC):
    out = bytearray(magic)
    for t, name, body in recs:
        out += b'%s %s %d\n' % (t.encode(), name.encode(), len(body)) + body + b'\n'
    return bytes(out)


def record_offsets(data):
    """[(type, name, header offset, body offset, body length)] of a well-formed bundle."""
    pos, out = len(MAGIC), []
    while pos < len(data):
        nl = data.index(b'\n', pos)
        t, name, n = data[pos:nl].decode().split(' ')
        out.append((t, name, pos, nl + 1, int(n)))
        pos = nl + 2 + int(n)
    return out


def flip(body, lo, hi, rng):
    pos = rng.randrange(lo, hi)
    b = bytearray(body)
    b[pos] ^= rng.randrange(1, 256)
    return bytes(b)


def flip_at(body, pos, mask):
    b = bytearray(body)
    b[pos] ^= mask
    return bytes(b)


def sign_note_text(text, key_path, pub_crt, name, tmp):
    """A signed-note signature line by another Ed25519 key (openssl pkeyutl -rawin); pub_crt
    is the certificate of key_path (for the key id)."""
    base = os.path.join(tmp, 'forge-%d-%d' % (os.getpid(), threading.get_ident()))
    tf, sf = base + '.txt', base + '.sig'
    with open(tf, 'wb') as f:
        f.write(text)
    subprocess.run(['openssl', 'pkeyutl', '-sign', '-rawin', '-inkey', key_path, '-in', tf,
                    '-out', sf], check=True, capture_output=True)
    if pub_crt is not None:
        pem = subprocess.run(['openssl', 'x509', '-in', pub_crt, '-pubkey', '-noout'],
                             check=True, capture_output=True).stdout
    else:
        pem = subprocess.run(['openssl', 'pkey', '-in', key_path, '-pubout'],
                             check=True, capture_output=True).stdout
    der = subprocess.run(['openssl', 'pkey', '-pubin', '-outform', 'DER'], input=pem,
                         check=True, capture_output=True).stdout
    kid = hashlib.sha256(name.encode() + b'\n\x01' + der[-32:]).digest()[:4]
    with open(sf, 'rb') as f:
        sig = f.read()
    return text + b'\n' + ('\u2014 %s ' % name).encode() + base64.b64encode(kid + sig) + b'\n'


def trust_dir(net, states, name='trust'):
    """A directory holding the roots of states (STATE.crt), as an auditor has them."""
    d = os.path.join(net.dir, name)
    os.makedirs(d)
    for s in states:
        shutil.copy(net.pki(s, 'root.crt'), os.path.join(d, s + '.crt'))
    return d


def export_paths(net, gws):
    """`mlagw audit export` of each gateway's store to NET/STATE.mab; {state: path}."""
    paths = {}
    for g in gws:
        paths[g.state] = os.path.join(net.dir, g.state + '.mab')
        net.cli('audit', 'export', '--store', g.store, '--cert', g.pki('audit.crt'),
                '--out', paths[g.state])
    return paths


def export(net, g, out_name=None, *extra):
    """`mlagw audit export` of gateway g's store; the bundle's bytes."""
    out = os.path.join(net.dir, out_name or g.state + '.mab')
    net.cli('audit', 'export', '--store', g.store, '--cert', g.pki('audit.crt'), '--out', out,
            *extra)
    with open(out, 'rb') as f:
        return f.read()


class Auditor:
    """Runs `mlagw audit verify FILE --trust DIR`; verify() may be called from many threads."""

    def __init__(self, net, trust):
        self.net, self.trust = net, trust
        self._n = itertools.count(1)

    def run(self, data, json_out=False):
        """(exit status, stdout, stderr) of verifying data; the file is removed after."""
        path = os.path.join(self.net.dir, 'bundle-%d.mab' % next(self._n))
        with open(path, 'wb') as f:
            f.write(data)
        args = [self.net.mlagw, 'audit', 'verify', path, '--trust', self.trust]
        try:
            p = subprocess.run(args + (['--json'] if json_out else []), capture_output=True,
                               timeout=120)
        finally:
            os.unlink(path)
        return p.returncode, p.stdout.decode(errors='replace'), p.stderr.decode(
            errors='replace')

    def verify(self, data, json_out=False):
        rc, out, err = self.run(data, json_out)
        return rc, out + err

    def refused(self, data, what, label):
        rc, out = self.verify(data)
        check(rc == 1, '%s: exit %d, wanted 1:\n%s' % (label, rc, out))
        check(what in out, '%s: the report does not name %r:\n%s' % (label, what, out))

    def report(self, data):
        """(exit status, the --json report or None when stdout is not JSON, stderr)."""
        rc, out, err = self.run(data, json_out=True)
        try:
            rep = json.loads(out)
        except ValueError:
            rep = None
        return rc, rep, err
