"""Reconciling two States' audit bundles (mlagw audit reconcile): ES and CO exchange messages
both ways and CO one with FR; after a clean stop, ES's and CO's bundles reconcile (verified
with --trust), every exchange counted per direction and CO<->FR ignored. Then B (CO's) is
tampered with, and reconciled without --trust (it no longer verifies): a dropped received
entry and a changed envelope-sha256 are named with the message id; a third State's bundle has
nothing to match; --trust refuses an unverified bundle."""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from bundlelib import export_paths, parse_bundle, trust_dir, write_bundle  # noqa: E402

def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'FR'], checkpoint_interval='200ms')
    net.start_all()
    es, co, fr = net['ES'], net['CO'], net['FR']
    es_co = [es.submit('CO', case_id='CASE-%d' % i)['message_id'] for i in range(3)]
    co_es = [co.submit('ES', case_id='CASE-9')['message_id'] for _ in range(2)]
    co_fr = [co.submit('FR', case_id='CASE-FR')['message_id']]
    wait_until(lambda: es.all_in_state(es_co, DELIVERED) and
               co.all_in_state(co_es + co_fr, DELIVERED), 30, msg='delivered')
    net.stop_all()  # final checkpoints

    trust = trust_dir(net, ('ES', 'CO', 'FR'))
    paths = export_paths(net, (es, co, fr))

    def reconcile(a, b, *extra):
        p = net.cli('audit', 'reconcile', a, b, *extra, check_rc=False)
        return p.returncode, p.stdout.decode() + p.stderr.decode()

    # clean: verified, every exchange matched per direction
    rc, out = reconcile(paths['ES'], paths['CO'], '--trust', trust)
    check(rc == 0 and 'reconciled: 5 exchanges match' in out, 'clean: exit %d\n%s' % (rc, out))
    check('ES -> CO: 3 matched' in out and 'CO -> ES: 2 matched' in out, 'counts:\n' + out)
    rc, out = reconcile(paths['CO'], paths['ES'], '--trust', trust, '--json')
    rep = json.loads(out)
    dirs = {(d['from'], d['to']): d for d in rep['directions']}
    check(rc == 0 and rep['reconciled'] and rep['verified'] and rep['exchanges'] == 5 and
          dirs[('ES', 'CO')]['matched'] == 3 and dirs[('CO', 'ES')]['matched'] == 2 and
          rep['problems'] == [] and rep['a']['state'] == 'CO', 'clean json: %r' % rep)
    check(co_fr[0] not in out, 'a message of another State is reported')

    recs = parse_bundle(open(paths['CO'], 'rb').read())

    def entry_of(event, mid):
        for i, r in enumerate(recs):
            if r[0] == 'entry' and ('event %s\n' % event).encode() in r[2] and \
                    ('message %s\n' % mid).encode() in r[2]:
                return i
        raise AssertionError('no %s entry for %s in CO' % (event, mid))

    def tampered(rs, name):
        path = os.path.join(net.dir, name)
        with open(path, 'wb') as f:
            f.write(write_bundle(rs))
        return path

    # B drops the received entry of an ES -> CO message
    victim = es_co[1]
    ri = entry_of('received', victim)
    dropped = tampered(recs[:ri] + recs[ri + 1:], 'dropped.mab')
    rc, out = reconcile(paths['ES'], dropped)
    check(rc == 1 and victim in out and 'CO has no received entry' in out and
          'ES -> CO: 2 matched' in out, 'dropped received: exit %d\n%s' % (rc, out))
    rc, out = reconcile(paths['ES'], dropped, '--json')
    rep = json.loads(out)
    check(rc == 1 and not rep['reconciled'] and len(rep['problems']) == 1 and
          rep['problems'][0]['message_id'] == victim and
          rep['problems'][0]['kind'] == 'one-sided' and rep['problems'][0]['seqs']['ES'],
          'dropped json: %r' % rep)
    # ... which --trust refuses to reconcile at all
    rc, out = reconcile(paths['ES'], dropped, '--trust', trust)
    check(rc == 1 and 'does not verify' in out and 'not reconciled' in out,
          'unverified bundle: exit %d\n%s' % (rc, out))

    # B's received entry of a CO <- ES message names other envelope bytes
    victim = es_co[2]
    rs = [list(r) for r in recs]
    ri = entry_of('received', victim)
    body = rs[ri][2].decode()
    digest = re.search(r'envelope-sha256 ([0-9a-f]{64})', body).group(1)
    other = ('0' if digest[0] != '0' else '1') + digest[1:]
    rs[ri][2] = body.replace(digest, other).encode()
    rc, out = reconcile(paths['ES'], tampered(rs, 'envelope.mab'))
    check(rc == 1 and 'envelope digest differs' in out and victim in out and
          ('seq %s' % rs[ri][1]) in out, 'envelope digest: exit %d\n%s' % (rc, out))

    # the receipt ES issued for a CO -> ES message is not the one CO holds
    victim = co_es[0]
    es_recs = parse_bundle(open(paths['ES'], 'rb').read())
    rs = [list(r) for r in es_recs]
    ii = [i for i, r in enumerate(rs) if r[0] == 'entry' and b'event receipt-issued\n' in r[2]
          and ('message %s\n' % victim).encode() in r[2]][0]
    body = rs[ii][2].decode()
    digest = re.search(r'receipt-sha256 ([0-9a-f]{64})', body).group(1)
    rs[ii][2] = body.replace(digest, ('0' if digest[0] != '0' else '1') + digest[1:]).encode()
    rc, out = reconcile(tampered(rs, 'receipt.mab'), paths['CO'])
    check(rc == 1 and 'receipt digest differs' in out and victim in out,
          'receipt digest: exit %d\n%s' % (rc, out))

    # a third State: nothing exchanged with ES
    rc, out = reconcile(paths['ES'], paths['FR'], '--trust', trust)
    check(rc == 0 and 'nothing to match' in out and 'reconciled: 0 exchanges' in out,
          'third State: exit %d\n%s' % (rc, out))
    # CO <-> FR: the one message matches
    rc, out = reconcile(paths['CO'], paths['FR'], '--trust', trust)
    check(rc == 0 and 'CO -> FR: 1 matched' in out, 'CO/FR: exit %d\n%s' % (rc, out))

    # usage and unreadable
    check(reconcile(paths['ES'], paths['ES'])[0] == 2, 'same State twice')
    check(net.cli('audit', 'reconcile', paths['ES'], check_rc=False).returncode == 2, 'usage')
    rc, _ = reconcile(paths['ES'], os.path.join(net.dir, 'none.mab'))
    check(rc == 3, 'unreadable: exit %d' % rc)

    # B from standard input (copied to a temporary file, read like a file): the same report,
    # and nothing left in TMPDIR
    spool = os.path.join(net.dir, 'spool')
    os.mkdir(spool)
    p = subprocess.run([net.mlagw, 'audit', 'reconcile', paths['ES'], '-', '--trust', trust],
                       input=open(paths['CO'], 'rb').read(), capture_output=True, timeout=60,
                       env=dict(os.environ, TMPDIR=spool))
    out = p.stdout.decode()
    check(p.returncode == 0 and 'reconciled: 5 exchanges match' in out and
          'with - (State CO' in out and os.listdir(spool) == [],
          'standard input: exit %d\n%s%s' % (p.returncode, out, p.stderr.decode()))


run(main)
