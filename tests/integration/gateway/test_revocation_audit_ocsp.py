"""OCSP answers in audit bundles (protocol/SPEC.md 15 format 6, 18.7): a gateway keeps the
OCSP answers it relied on (STORE.revocation/ocsp-answer-SHA256, from a real `openssl ocsp`
responder), and only one per certificate while the status does not change (several
exchanges, one file each); `mlagw audit export` puts them in the bundle as `ocsp` records
with counts.ocsp_answers and `mlagw audit verify` checks them against the roots (good
answers are evidence); an answer saying CO's receipt signer was revoked an hour before the
exchange makes the receipt it signed fail verify, naming the serial and the receipt."""
import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from bundlelib import trust_dir, export  # noqa: E402
from test_directory_audit import records  # noqa: E402
from test_revocation import pki_with_responders, cleanup_and_run, serial, revoke  # noqa: E402
from test_revocation_audit import verify  # noqa: E402


def answers(cache):
    return sorted(f for f in os.listdir(cache) if f.startswith('ocsp-answer-')) \
        if os.path.isdir(cache) else []


def fetch_answer(net, port, state, name, out):
    """The responder's DER answer about STATE's certificate name, into out."""
    subprocess.run(['openssl', 'ocsp', '-issuer', net.pki(state, 'root.crt'), '-cert',
                    net.pki(state, name), '-url', 'http://127.0.0.1:%d/' % port, '-respout',
                    out, '-noverify'], capture_output=True, check=True, timeout=20)
    with open(out, 'rb') as f:
        return f.read()


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    ports, resp = pki_with_responders(net)
    es, co = net['ES'], net['CO']
    for g in (es, co):
        g.overrides.update({'revocation': {'refresh': '2s', 'timeout': '2s'},
                            'audit': {'peer_head_wait': '0s'}})
        g.write_config()
    co.start()
    es.start()
    mids = []
    for _ in range(2):
        mids.append(es.submit('CO')['message_id'])
        wait_until(lambda: es.status(mids[-1])['state'] == 'delivered', 30, msg='delivered')
    time.sleep(3)  # a refresh or more (2 s): same status, no new file
    es.stop()
    co.stop()
    cache = es.store + '.revocation'
    kept = answers(cache)
    check(len(kept) >= 1, 'no OCSP answer kept: %r' % os.listdir(cache))
    for f in kept:
        with open(os.path.join(cache, f), 'rb') as fh:
            check(f == 'ocsp-answer-' + hashlib.sha256(fh.read()).hexdigest(),
                  '%s is not named by its SHA-256' % f)
    # one per certificate asked about while its status stays good (CO's TLS and receipt
    # signer, and ES's own TLS leaf it staples): refreshes add none
    check(len(kept) <= 3, 'more answers than certificates: %r' % kept)
    trust = trust_dir(net, ['ES', 'CO'])
    path = os.path.join(net.dir, 'with-ocsp.mab')
    data = export(net, es, 'with-ocsp.mab')
    magic, recs = records(data)
    ocsp = [r for r in recs if r[0] == 'ocsp']
    counts = json.loads(recs[0][2])['counts']
    check(magic == b'mlagw-audit-bundle/6\n' and len(ocsp) == len(kept) and
          counts['ocsp_answers'] == len(kept) and counts['crls'] == 0,
          'format %r, %d ocsp records, counts %r' % (magic, len(ocsp), counts))
    rc, rep = verify(net, path, trust)
    check(rc == 0 and rep['checks']['revocation'] == {'ok': len(kept), 'failed': 0} and
          rep['revocation_evidence'] == len(kept), 'verify: exit %d %r' % (rc, rep))
    print('ok - %d OCSP answers relied on are kept once each, exported (format 6) and '
          'verify offline' % len(kept))

    # CO's receipt signer revoked an hour before the exchanges: the responder's answer
    # saying so, as a gateway would keep it, makes the receipts it signed fail verify
    revoke(net, resp, 'CO', 'sign.crt', int(time.time()) - 3600)
    tmp = os.path.join(net.dir, 'revoked.der')
    der = fetch_answer(net, ports['CO'], 'CO', 'sign.crt', tmp)
    with open(os.path.join(cache, 'ocsp-answer-' + hashlib.sha256(der).hexdigest()), 'wb') as f:
        f.write(der)
    path = os.path.join(net.dir, 'revoked.mab')
    export(net, es, 'revoked.mab')
    rc, rep = verify(net, path, trust)
    msgs = [f['message'] for f in rep.get('failures', []) if f['check'] == 'revocation']
    sn = serial(net, 'CO', 'sign.crt')
    check(rc == 1 and len(msgs) == 2 and all(sn in m and 'revoked at ' in m for m in msgs) and
          all(any(('receipt %s' % mid) in m for m in msgs) for mid in mids),
          'revoked receipt signer: exit %d %r' % (rc, rep.get('failures')))
    check(rep['checks']['revocation'] == {'ok': len(kept) + 1, 'failed': 2},
          'counts %r' % rep['checks'])
    print('ok - receipts signed after their signer\'s revocation (an OCSP answer) fail verify')
    net.stop_all()


if __name__ == '__main__':
    run(lambda m1, m2: cleanup_and_run(m1, m2, main))
