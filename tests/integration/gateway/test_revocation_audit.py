"""Revocation evidence in audit bundles (protocol/SPEC.md 15 format 6, 18.7): a gateway keeps
the CRLs it relied on (a configured file too) in its revocation cache; `mlagw audit export`
puts them in the bundle as `crl` records (format 6) and `mlagw audit verify` checks them
against the roots; the receipt signed by a certificate revoked before the receipt's
ReceivedAt fails verify (family revocation, naming the serial, the revocation time and the
receipt's message and entry); a bundle without CRLs verifies and says it holds no evidence."""
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from bundlelib import trust_dir, export  # noqa: E402
from test_directory_audit import records  # noqa: E402
from test_revocation import serial  # noqa: E402


def verify(net, path, trust, as_json=True):
    p = net.cli('audit', 'verify', path, '--trust', trust, *(['--json'] if as_json else []),
                check_rc=False)
    out = p.stdout.decode()
    return p.returncode, (json.loads(out or '{}') if as_json else out)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    crl_file = os.path.join(net.dir, 'co.crl')
    net.cli('pki', 'crl', '--state', 'CO', '--out', net.pki_dir, '--file', crl_file)
    es.overrides.update({'revocation': {'ocsp': 'off', 'crl': crl_file, 'refresh': '2s'},
                         'audit': {'peer_head_wait': '0s'}})
    es.write_config()
    co.start()
    es.start()
    mid = es.submit('CO')['message_id']
    wait_until(lambda: es.status(mid)['state'] == 'delivered', 30, msg='delivered')
    es.stop()
    co.stop()
    cache = es.store + '.revocation'
    kept = [f for f in os.listdir(cache) if f.startswith('crl-')] if os.path.isdir(cache) else []
    check(len(kept) == 1, 'the configured CRL is not in the revocation cache: %r' % kept)
    trust = trust_dir(net, ['ES', 'CO'])
    data = export(net, es, 'with-crl.mab')
    magic, recs = records(data)
    crls = [r for r in recs if r[0] == 'crl']
    check(magic == b'mlagw-audit-bundle/6\n' and len(crls) == 1, 'format %r, %d crl records'
          % (magic, len(crls)))
    check(json.loads(recs[0][2])['counts']['crls'] == 1, 'manifest counts.crls')
    rc, rep = verify(net, os.path.join(net.dir, 'with-crl.mab'), trust)
    check(rc == 0 and rep['checks']['revocation'] == {'ok': 1, 'failed': 0} and
          rep['revocation_evidence'] == 1, 'verify: exit %d %r' % (rc, rep))
    print('ok - the CRL relied on is kept, exported (format 6) and verifies offline')

    # CO's receipt signer revoked an hour before the exchange: the CRL saying so is in the
    # cache (as a refresh would leave it), and the receipt it signed fails verify
    at = int(time.time()) - 3600
    net.cli('pki', 'revoke', '--state', 'CO', '--out', net.pki_dir, '--cert',
            net.pki('CO', 'sign.crt'), '--at', str(at))
    net.cli('pki', 'crl', '--state', 'CO', '--out', net.pki_dir, '--file',
            os.path.join(cache, 'crl-later'))
    path = os.path.join(net.dir, 'revoked.mab')
    export(net, es, 'revoked.mab')
    rc, rep = verify(net, path, trust)
    msgs = [f['message'] for f in rep.get('failures', []) if f['check'] == 'revocation']
    sn = serial(net, 'CO', 'sign.crt')
    check(rc == 1 and len(msgs) == 1 and ('receipt %s' % mid) in msgs[0] and sn in msgs[0]
          and 'revoked at ' in msgs[0] and 'entry ' in msgs[0],
          'revoked receipt signer: exit %d %r' % (rc, rep.get('failures')))
    check(rep['checks']['revocation'] == {'ok': 2, 'failed': 1}, 'counts %r' % rep['checks'])
    print('ok - a receipt signed after its signer\'s revocation fails verify, naming it')

    # no evidence: verified, and the report says signers were not checked
    shutil.rmtree(cache)
    path = os.path.join(net.dir, 'none.mab')
    data = export(net, es, 'none.mab')
    check(not data.startswith(b'mlagw-audit-bundle/6'), 'format 6 without CRLs')
    rc, text = verify(net, path, trust, as_json=False)
    check(rc == 0 and 'no verified CRL or OCSP answer in the bundle' in text, 'no evidence: %d %s' % (rc, text))
    print('ok - a bundle without CRLs verifies and reports no revocation evidence')
    net.stop_all()


if __name__ == '__main__':
    run(main)
