"""Signed checkpoints of the audit log (SPEC §14): after traffic the latest checkpoint is a
C2SP signed note by the audit key (verified here with openssl, from the audit certificate),
its root is the RFC 6962 root of the audit table's leaves (recomputed here), sizes only grow,
a clean stop signs the last entries, and a SIGKILL and restart keep it all verifying."""
import base64
import hashlib
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def mth(leaves):
    """RFC 6962 Merkle tree hash of a list of leaf hashes."""
    if not leaves:
        return hashlib.sha256(b'').digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b'\x01' + mth(leaves[:k]) + mth(leaves[k:])).digest()


class AuditKey:
    def __init__(self, gw):
        self.dir = tempfile.mkdtemp(prefix='audit-key-', dir=gw.dir)
        self.pem = os.path.join(self.dir, 'pub.pem')
        p = subprocess.run(['openssl', 'x509', '-in', gw.pki('audit.crt'), '-pubkey', '-noout',
                            '-out', self.pem], capture_output=True)
        check(p.returncode == 0, 'openssl x509 -pubkey: %r' % p.stderr)
        der = subprocess.run(['openssl', 'pkey', '-pubin', '-in', self.pem, '-outform', 'DER'],
                             capture_output=True, check=True).stdout
        check(len(der) == 44, 'audit key is not Ed25519 (%d DER bytes)' % len(der))
        self.raw = der[-32:]
        self.state = gw.state
        self.name = 'mlagw.%s/audit' % gw.state.lower()
        self.key_id = hashlib.sha256(self.name.encode() + b'\n\x01' + self.raw).digest()[:4]

    def ed25519_ok(self, msg, sig):
        tf, sf = os.path.join(self.dir, 'text'), os.path.join(self.dir, 'sig')
        with open(tf, 'wb') as f:
            f.write(msg)
        with open(sf, 'wb') as f:
            f.write(sig)
        p = subprocess.run(['openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', self.pem,
                            '-rawin', '-in', tf, '-sigfile', sf], capture_output=True)
        return p.returncode == 0

    def check_cosignature(self, text, b64):
        """A C2SP cosignature/v1 by this gateway's audit key as witness, checked here from the
        spec: key ID over name || LF || 0x04 || key, signature over the header, time, text."""
        name = 'mlagw.%s/witness' % self.state.lower()
        blob = base64.b64decode(b64, validate=True)
        kid = hashlib.sha256(name.encode() + b'\n\x04' + self.raw).digest()[:4]
        check(len(blob) == 76 and blob[:4] == kid, 'cosignature key id of %s' % name)
        t = int.from_bytes(blob[4:12], 'big')
        check(abs(t - time.time()) < 600, 'cosignature time %d' % t)
        msg = b'cosignature/v1\ntime %d\n' % t + text
        check(self.ed25519_ok(msg, blob[12:]), 'cosignature by %s does not verify' % name)

    def verify(self, note, witnesses=()):
        """Checks the note's signature by this key and every further line as a cosignature
        by one of witnesses (AuditKeys); returns (origin, size, root, cosigner names)."""
        check(note.endswith(b'\n'), 'note does not end in a newline')
        cut = note.rindex(b'\n\n')
        text, sigs = note[:cut + 1], note[cut + 2:].decode('utf-8').split('\n')[:-1]
        dash, name, b64 = sigs[0].split(' ')
        check(dash == '\u2014' and name == self.name, 'signature line %r' % sigs[0])
        blob = base64.b64decode(b64, validate=True)
        check(len(blob) == 68 and blob[:4] == self.key_id, 'key id of %r' % sigs[0])
        check(self.ed25519_ok(text, blob[4:]), 'checkpoint signature does not verify')
        cosigners = []
        for line in sigs[1:]:
            dash, name, b64 = line.split(' ')
            w = [k for k in witnesses if 'mlagw.%s/witness' % k.state.lower() == name]
            check(dash == '\u2014' and len(w) == 1, 'unexpected signature line %r' % line)
            w[0].check_cosignature(text, b64)
            cosigners.append(name)
        check(len(set(cosigners)) == len(cosigners), 'a witness cosigned twice: %r' % sigs)
        lines = text.decode('utf-8').split('\n')
        check(len(lines) == 4 and lines[3] == '', 'checkpoint text %r' % text)
        check(lines[0] == self.name, 'origin %r' % lines[0])
        root = base64.b64decode(lines[2], validate=True)
        check(len(root) == 32 and lines[1] == str(int(lines[1])), 'checkpoint text %r' % text)
        return lines[0], int(lines[1]), root, cosigners


def checkpoints(gw):
    return sorted(gw.checkpoints(), key=lambda c: (c['at_ms'], c['size']))


def verify_all(gw, key, witnesses=()):
    """Every stored checkpoint verifies (and its cosignatures by witnesses), sizes grow with
    time, roots match the table; returns (latest size, entries, cosigned checkpoints)."""
    gw.audit()  # dense, leaves are the hashes of their entries
    leaves = [r['leaf'] for r in gw.audit_rows()]
    cps = checkpoints(gw)
    check(cps, '%s: no checkpoint' % gw.state)
    last, cosigned = 0, 0
    for cp in cps:
        _, size, root, cosigners = key.verify(bytes(cp['note']), witnesses)
        cosigned += len(cosigners) > 0
        check(size == cp['size'], 'stored size %d, signed %d' % (cp['size'], size))
        check(size > last, 'sizes do not grow: %d after %d' % (size, last))
        check(size <= len(leaves), 'checkpoint %d beyond the log of %d' % (size, len(leaves)))
        check(root == mth(leaves[:size]), 'root of checkpoint %d differs from the table' % size)
        last = size
    return last, len(leaves), cosigned


def traffic(net, n):
    ids = [net['ES'].submit('CO', doc=b'<Request>cp %d</Request>' % i)['message_id']
           for i in range(n)]
    wait_until(lambda: net['ES'].all_in_state(ids, DELIVERED), 30, msg='delivered')
    return ids


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='200ms')
    net.start_all()
    es = net['ES']
    key, co_key = AuditKey(es), AuditKey(net['CO'])
    traffic(net, 5)

    def caught_up():
        cps = checkpoints(es)
        return cps and cps[-1]['size'] == es.counts()['audit']
    wait_until(caught_up, 10, msg='checkpoint of the whole log')
    size1, n, _ = verify_all(es, key, [co_key])
    check(size1 == n and n >= 10, 'checkpoint %d of %d entries' % (size1, n))
    verify_all(net['CO'], co_key, [key])

    # witnessing (SPEC §14): each peer cosigns the other's checkpoints (C2SP tlog-witness),
    # keeps what it cosigned, and the cosignature lands in the log's own checkpoint
    def cosigned_both():
        return (verify_all(es, key, [co_key])[2] > 0 and
                verify_all(net['CO'], co_key, [key])[2] > 0)
    wait_until(cosigned_both, 15, msg='checkpoints cosigned by the peer')
    wit = sorted(net['CO'].witnessed(), key=lambda w: w['size'])
    check(wit and all(w['origin'] == 'mlagw.es/audit' for w in wit), 'CO witnessed %r' % wit)
    for w in wit:
        _, size, root, cosigners = key.verify(bytes(w['note']), [co_key])
        check(size == w['size'] and cosigners == ['mlagw.co/witness'], 'witnessed %d' % size)
        check(root == mth([r['leaf'] for r in es.audit_rows()]
                          [:size]), 'CO cosigned a root ES never had at %d' % size)
    certs = net['CO'].peer_certs()
    check([c['state'] for c in certs] == ['ES'], 'CO kept the certificates %r' % certs)

    # SIGKILL in the middle of traffic, restart: the tree is rebuilt, checkpoints continue
    traffic(net, 3)
    es.kill()
    es.start()
    traffic(net, 3)
    wait_until(caught_up, 10, msg='checkpoint after the restart')
    size2, n, _ = verify_all(es, key, [co_key])
    check(size2 > size1 and size2 == n, 'after restart: %d of %d (was %d)' % (size2, n, size1))

    # a clean stop signs what the (now hour-long) timer has not
    es.write_config({'audit': {'checkpoint_interval': '1h'}})
    es.restart()
    traffic(net, 2)
    check(checkpoints(es)[-1]['size'] == size2, 'no tick within the hour')
    es.stop()
    size3, n, _ = verify_all(es, key, [co_key])
    check(size3 == n and size3 > size2, 'at stop: %d of %d' % (size3, n))
    # the stop's checkpoint was sent to CO before the exit: the log ends witnessed
    _, _, _, last_cosigners = key.verify(bytes(checkpoints(es)[-1]['note']), [co_key])
    check(last_cosigners == ['mlagw.co/witness'], 'the last checkpoint at stop is not cosigned')
    es.start()
    check('checkpoint-error' not in es.log_text(), 'checkpoint errors logged')
    es.stop()

    # an entry altered in the table, still canonical (bytes and leaf consistent with each
    # other), no longer matches the signed checkpoint: the gateway refuses to start
    entry = es.audit_rows(1, 1)[0]['entry']
    at = entry.index(b'\ncase ') + 6  # one character of the case id changed
    forged = entry[:at] + (b'0' if entry[at:at + 1] != b'0' else b'1') + entry[at + 1:]
    es.set_audit_entry(1, forged, rehash=True)  # the leaf recomputed: SHA-256(0x00 || forged)
    es.start(wait=False)
    es.proc.wait(timeout=20)
    check(es.proc.returncode == 1, 'a tampered log started: exit %r' % es.proc.returncode)
    # (since store schema 7 the persisted tree hashes above the leaf are checked against the
    # leaves first: they no longer match, and would have to be forged too to reach the
    # checkpoint's root, which then refuses it)
    check('does not match its checkpoint' in es.log_text() or
          'audit tree hash at level 1 index 0 (entries 0..1)' in es.log_text(),
          'no tamper message in the log')
    net.stop_all()


run(main)
