"""Witnessing catches a split view (SPEC §14-15): three gateways cosign each other's
checkpoints; then CO's log forks (its store copied, each copy run against a different peer
with the other peer down), so ES cosigns one history of CO and FR another. Each bundle alone
still verifies, and so do CO's and ES's together; with FR's bundle added, `mlagw audit verify`
reports the conflicting cosigned checkpoint. Live, the fork is refused too: a CO that has
lost the history ES cosigned gets a 409 with a size beyond its own log and raises an alert."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from bundlelib import (Auditor, export_paths, flip_at, parse_bundle, trust_dir,  # noqa: E402
                       write_bundle)

CO_LOG = 'mlagw.co/audit'


def latest_cp(gw):
    return gw.counts()['checkpoint_latest']


def witnessed(gw, origin=CO_LOG):
    return max([w['size'] for w in gw.witnessed() if w['origin'] == origin], default=0)


def exchange(net, frm, to, n):
    ids = [net[frm].submit(to, doc=b'<Request>split %d</Request>' % i)['message_id']
           for i in range(n)]
    wait_until(lambda: net[frm].all_in_state(ids, DELIVERED), 30, msg='delivered to ' + to)


def cosigned_by(net, witness, beyond=0):
    """Waits until CO has a checkpoint beyond size `beyond` and witness has cosigned CO's
    latest checkpoint; returns its size."""
    co = net['CO']
    wait_until(lambda: latest_cp(co) > beyond and witnessed(net[witness]) == latest_cp(co), 20,
               msg='%s cosigning CO beyond %d' % (witness, beyond))
    return latest_cp(co)


def copy_store(src_dir, dst_dir):
    os.makedirs(dst_dir, exist_ok=True)
    for f in os.listdir(src_dir):
        if f.startswith('store.db'):
            shutil.copy(os.path.join(src_dir, f), os.path.join(dst_dir, f))


def restore_store(src_dir, gw):
    for f in os.listdir(gw.dir):
        if f.startswith('store.db'):
            os.remove(os.path.join(gw.dir, f))
    copy_store(src_dir, gw.dir)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['CO', 'ES', 'FR'], checkpoint_interval='200ms')
    net.start_all()
    co, es, fr = net['CO'], net['ES'], net['FR']
    exchange(net, 'CO', 'ES', 2)
    exchange(net, 'CO', 'FR', 2)
    co.stop()  # a clean stop signs a last checkpoint and has both peers cosign it
    base = latest_cp(co)
    check(witnessed(es) == base and witnessed(fr) == base,
          'the fork point %d is not cosigned by both: ES %d, FR %d' % (base, witnessed(es),
                                                                     witnessed(fr)))
    fork = os.path.join(net.dir, 'co-fork')
    copy_store(co.dir, fork)

    # branch 1: CO and ES, FR down
    fr.stop()
    co.start()
    exchange(net, 'CO', 'ES', 4)
    cosigned_by(net, 'ES', base)
    co.stop()
    size1 = latest_cp(co)
    check(witnessed(es) == size1, 'ES did not cosign branch 1 at its end (%d)' % size1)
    branch1 = os.path.join(net.dir, 'co-branch1')
    copy_store(co.dir, branch1)

    # branch 2, from the copy: CO and FR, ES down
    es.stop()
    restore_store(fork, co)
    fr.start()
    co.start()
    exchange(net, 'CO', 'FR', 2)
    cosigned_by(net, 'FR', base)
    # live: ES has cosigned branch 1 beyond this CO's log; CO is told and raises an alert
    es.start()
    wait_until(lambda: co.alerts('witness-ahead'), 20, msg='witness-ahead alert at CO')
    co.stop()
    size2 = latest_cp(co)
    check(base < size2 < size1, 'sizes: base %d, branch 2 %d, branch 1 %d' % (base, size2,
                                                                             size1))
    check(witnessed(fr) == size2, 'FR did not cosign branch 2 at its end (%d)' % size2)
    check(witnessed(es) == size1, 'ES cosigned a checkpoint of branch 2')
    net.stop_all()

    restore_store(branch1, co)
    trust = trust_dir(net, ('CO', 'ES', 'FR'))
    bundles = export_paths(net, (co, es, fr))

    def verify(*states):
        p = net.cli('audit', 'verify', *[bundles[s] for s in states], '--trust', trust,
                    '--json', check_rc=False)
        return p.returncode, json.loads(p.stdout.decode())

    for s in ('CO', 'ES', 'FR'):
        rc, rep = verify(s)
        check(rc == 0 and rep['verified'], '%s alone: %d %r' % (s, rc, rep['failures']))
        check(rep['checks']['witness']['failed'] == 0, '%s witness checks' % s)
    rc, rep = verify('CO')
    check(rep['cosignatures'] > 0, 'CO checkpoints carry no cosignature: %r' % rep)
    rc, rep = verify('ES')
    check(rep['checks']['witness']['ok'] >= 3, 'ES: CO and FR certificates and witnessed '
          'checkpoints: %r' % rep['checks']['witness'])

    rc, rep = verify('CO', 'ES')
    check(rc == 0 and rep['verified'] and rep['split_view']['failures'] == [] and
          rep['split_view']['compared'] > 0, 'CO + ES (one history): %d %r' % (rc, rep))
    rc, rep = verify('CO', 'ES', 'FR')
    sv = rep['split_view']['failures']
    check(rc == 1 and not rep['verified'] and sv, 'split view not reported: %d %r' % (rc, rep))
    check(all(CO_LOG in f['message'] and f['check'] == 'split-view' for f in sv) and
          any('FR.mab' in f['message'] for f in sv), 'split view messages: %r' % sv)
    check(all(b['verified'] for b in rep['bundles']), 'each bundle still verifies alone')
    p = net.cli('audit', 'verify', bundles['CO'], bundles['ES'], bundles['FR'], '--trust',
                trust, check_rc=False)
    out = p.stdout.decode()
    check(p.returncode == 1 and 'FAILED split-view: split view: ' + CO_LOG in out,
          'text report: %s' % out)

    # the witness records themselves are checked: a peer certificate under another
    # fingerprint, a changed byte of a cosigned head, a cosigned head left out
    auditor = Auditor(net, trust)
    with open(bundles['ES'], 'rb') as f:
        recs = parse_bundle(f.read())
    ci = [i for i, r in enumerate(recs) if r[0] == 'certificate' and r[1].startswith('peer.')]
    wi = [i for i, r in enumerate(recs) if r[0] == 'witnessed' and r[1].startswith('CO.')]
    check(ci and len(wi) >= 2, 'ES bundle: peer certificates %r, witnessed %r' % (ci, wi))
    rs = [list(r) for r in recs]
    rs[ci[0]][1] = rs[ci[0]][1][:-1] + ('1' if rs[ci[0]][1][-1] == '0' else '0')
    auditor.refused(write_bundle(rs), 'certificate ' + rs[ci[0]][1], 'renamed peer certificate')
    rs = [list(r) for r in recs]
    body = rs[wi[0]][2]
    rs[wi[0]][2] = flip_at(body, body.index(b'\n') + 1, 0x01)  # the size line
    auditor.refused(write_bundle(rs), 'witnessed ' + rs[wi[0]][1], 'altered witnessed head')
    rs = [list(r) for i, r in enumerate(recs) if i != wi[0]]
    man = json.loads(rs[0][2])
    man['counts']['witnessed'] -= 1
    rs[0][2] = json.dumps(man).encode()
    cut = os.path.join(net.dir, 'ES-cut.mab')
    with open(cut, 'wb') as f:
        f.write(write_bundle(rs))
    check(auditor.verify(write_bundle(rs))[0] == 0, 'a bundle with fewer heads is still whole')
    p = net.cli('audit', 'verify', bundles['CO'], cut, '--trust', trust, '--json',
                check_rc=False)
    rep = json.loads(p.stdout.decode())
    check(p.returncode == 1 and any('witnessed head missing: ES cosigned ' + CO_LOG in
                                    f['message'] for f in rep['split_view']['failures']),
          'a cosigned head left out of ES bundle: %d %r' % (p.returncode, rep['split_view']))


run(main)
