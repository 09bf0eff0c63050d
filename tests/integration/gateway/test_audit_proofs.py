"""Audit proofs through the local API (SPEC §14, docs/api/README.md): the latest checkpoint
(signature checked with openssl from the audit certificate), entries, and inclusion and
consistency proofs verified here with the RFC 9162 algorithms against the signed roots; a
tampered proof fails; bounds are refused with 400 naming the parameter; and `mlagw audit
proof` verifies on the real gateway (exit 0) and refuses another State's audit certificate
or a wrong older root (exit 1)."""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from test_api import setup  # noqa: E402


def node(a, b):
    return hashlib.sha256(b'\x01' + a + b).digest()


def inclusion_ok(index, size, leaf, proof, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def consistency_ok(size1, size2, root1, root2, proof):
    """RFC 9162 2.1.4.2 (size1 >= 1)."""
    if size1 == size2:
        return not proof and root1 == root2
    if size1 > size2 or not proof:
        return False
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is the first node
        proof = [root1] + list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root1 and sr == root2


def verify_note(gw, note):
    """The checkpoint note's Ed25519 signature by gw's audit key (openssl), on the first
    signature line (peers' cosignatures may follow); (size, root)."""
    d = tempfile.mkdtemp(prefix='proof-', dir=gw.dir)
    pem, tf, sf = [os.path.join(d, n) for n in ('pub.pem', 'text', 'sig')]
    subprocess.run(['openssl', 'x509', '-in', gw.pki('audit.crt'), '-pubkey', '-noout',
                    '-out', pem], check=True, capture_output=True)
    note = note.encode()
    cut = note.rindex(b'\n\n')
    text, sig = note[:cut + 1], note[cut + 2:].decode().split('\n')[0].split(' ')
    check(sig[1] == 'mlagw.%s/audit' % gw.state.lower(), 'key name %r' % sig[1])
    with open(tf, 'wb') as f:
        f.write(text)
    with open(sf, 'wb') as f:
        f.write(base64.b64decode(sig[2])[4:])
    p = subprocess.run(['openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', pem, '-rawin',
                        '-in', tf, '-sigfile', sf], capture_output=True)
    check(p.returncode == 0, 'checkpoint signature: %r' % p.stdout)
    lines = text.decode().split('\n')
    return int(lines[1]), base64.b64decode(lines[2])


def hashes(j):
    return [bytes.fromhex(h) for h in j['hashes']]


def latest(net, api):
    es = net['ES']
    wait_until(lambda: (lambda c: c['checkpoint_latest'] == c['audit'])(es.counts()), 10,
               msg='checkpoint of the whole log')
    cp = api.json('GET', '/api/v1/audit/checkpoint', 'auditor')
    size, root = verify_note(es, cp['note'])
    check(size == cp['size'] and base64.b64decode(cp['root_b64']) == root, 'checkpoint %r' % cp)
    return size, root


def traffic(net, n, tag):
    ids = [net['ES'].submit('CO', doc=b'<Request>%s %d</Request>' % (tag, i))['message_id']
           for i in range(n)]
    wait_until(lambda: net['ES'].all_in_state(ids, DELIVERED), 30, msg='delivered')


def check_inclusion(net, api, size, root):
    rows = net['ES'].audit_rows()
    for seq in sorted({0, 1, size // 2, size - 1}):
        e = api.json('GET', '/api/v1/audit/entries/%d' % seq, 'auditor')
        entry = base64.b64decode(e['entry_b64'])
        leaf = hashlib.sha256(b'\x00' + entry).digest()
        check(entry == bytes(rows[seq]['entry']) and e['leaf_hex'] == leaf.hex(), 'entry %d' % seq)
        p = api.json('GET', '/api/v1/audit/proof/inclusion?seq=%d&size=%d' % (seq, size),
                     'auditor')
        check(p['seq'] == seq and p['size'] == size and p['leaf_hex'] == leaf.hex(), 'proof %r' % p)
        check(inclusion_ok(seq, size, leaf, hashes(p), root), 'inclusion of %d fails' % seq)
        h = hashes(p)
        if h:
            h[0] = bytes([h[0][0] ^ 1]) + h[0][1:]
            check(not inclusion_ok(seq, size, leaf, h, root), 'tampered proof verified')
        check(not inclusion_ok(seq, size, hashlib.sha256(b'\x00x').digest(), hashes(p), root),
              'a proof verified another leaf')


def check_errors(api, size):
    for path, field in (('proof/inclusion?seq=%d' % size, 'seq'),
                        ('proof/inclusion?seq=0&size=%d' % (size + 1), 'size'),
                        ('proof/inclusion', 'seq'), ('proof/inclusion?seq=01', 'seq'),
                        ('proof/consistency?from=0', 'from'),
                        ('proof/consistency?from=1&to=%d' % (size + 1), 'to'),
                        ('proof/consistency?from=3&to=2', 'from'),
                        ('proof/inclusion?seq=0&colour=red', 'colour')):
        code, _, out = api.call('GET', '/api/v1/audit/' + path, role='auditor')
        check(code == 400 and json.loads(out).get('field') == field,
              '%s: HTTP %d %r, wanted 400 %s' % (path, code, out, field))
    code, _, _ = api.call('GET', '/api/v1/audit/entries/%d' % size, role='auditor')
    check(code == 404, 'entry beyond the checkpoint: %d' % code)


def cli(net, api, *args):
    tok = os.path.join(net['ES'].dir, 'auditor.token')
    with open(tok, 'w') as f:
        f.write(api.tokens['auditor'][1])
    os.chmod(tok, 0o600)
    return subprocess.run([net.mlagw, 'audit', 'proof', '--gateway',
                           'https://127.0.0.1:%d' % api.port, '--ca', net['ES'].pki('root.crt'),
                           '--token-file', tok] + list(args), capture_output=True, timeout=60)


def check_cli(net, api, size1, root1, size2):
    es_cert, co_cert = net.pki('ES', 'audit.crt'), net.pki('CO', 'audit.crt')
    p = cli(net, api, '--audit-cert', es_cert, '--seq', '3')
    out = p.stdout.decode()
    check(p.returncode == 0 and out.startswith('inclusion of entry 3 in the log of size ') and
          ': verified against checkpoint ' in out and out.endswith(' signed by mlagw.es/audit\n'),
          'audit proof: exit %d %r %r' % (p.returncode, out, p.stderr))
    p = cli(net, api, '--audit-cert', co_cert, '--seq', '3')
    check(p.returncode == 1 and b'not signed' in p.stderr,
          'CO certificate for ES: exit %d %r' % (p.returncode, p.stderr))
    b64 = base64.b64encode(root1).decode()
    p = cli(net, api, '--audit-cert', es_cert, '--from', str(size1), '--old-root', b64)
    check(p.returncode == 0 and b'verified' in p.stdout, 'consistency: exit %d %r %r' %
          (p.returncode, p.stdout, p.stderr))
    p = cli(net, api, '--audit-cert', es_cert, '--from', str(size1 - 1), '--old-root', b64)
    check(p.returncode == 1 and b'NOT verified' in p.stderr, 'wrong old root: exit %d %r' %
          (p.returncode, p.stderr))
    p = cli(net, api, '--audit-cert', es_cert, '--seq', '2', '--size', str(size1),
            '--old-root', b64, '--json')
    check(p.returncode == 0 and json.loads(p.stdout)['proof']['size'] == size1,
          'inclusion at an older size: exit %d %r' % (p.returncode, p.stderr))
    p = cli(net, api, '--audit-cert', es_cert, '--seq', '1000000000')
    check(p.returncode == 1, 'seq beyond the log: exit %d' % p.returncode)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='200ms')
    api = setup(net)['ES']
    code, _, _ = api.call('GET', '/api/v1/audit/checkpoint', role='admin')
    check(code == 403, 'admin reads the checkpoint: %d' % code)
    traffic(net, 3, b'one')
    size1, root1 = latest(net, api)
    check_inclusion(net, api, size1, root1)
    check_errors(api, size1)
    traffic(net, 3, b'two')
    size2, root2 = latest(net, api)
    check(size2 > size1, 'the log did not grow: %d, %d' % (size1, size2))
    check_inclusion(net, api, size2, root2)
    for a in (1, 2, 3, size1):
        p = api.json('GET', '/api/v1/audit/proof/consistency?from=%d&to=%d' % (a, size2),
                     'auditor')
        check(p['from'] == a and p['to'] == size2, 'consistency %r' % p)
        old = net['ES'].audit_rows()[:a]
        root_a = mth([bytes(r['leaf']) for r in old])
        check(consistency_ok(a, size2, root_a, root2, hashes(p)), 'consistency %d..%d' % (a, size2))
        h = hashes(p)
        if h:
            h[-1] = bytes([h[-1][0] ^ 1]) + h[-1][1:]
            check(not consistency_ok(a, size2, root_a, root2, h), 'tampered consistency')
        check(not consistency_ok(a, size2, root2, root2, hashes(p)) or a == size2,
              'consistency with a wrong old root')
    p = api.json('GET', '/api/v1/audit/proof/consistency?from=%d&to=%d' % (size1, size1), 'auditor')
    check(p['hashes'] == [], 'equal sizes: %r' % p)
    p = api.json('GET', '/api/v1/audit/proof/consistency?from=%d&to=%d' % (size1, size2), 'auditor')
    check(consistency_ok(size1, size2, root1, root2, hashes(p)), 'between the two checkpoints')
    check_cli(net, api, size1, root1, size2)
    net.stop_all()


def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


if __name__ == '__main__':
    run(main)
