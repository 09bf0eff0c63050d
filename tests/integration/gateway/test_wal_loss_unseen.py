"""A write-ahead log lost beyond anything the peers cosigned (found by gw-fault-run, seed 7: CO
started after losing 5 acknowledged, delivered submissions and 4 messages it had receipted).
Heads at start (SPEC §14) compare the store with the heads the peers cosigned; entries signed
since the last cosigned head (a checkpoint interval plus the witnessing round trip, here made
long on purpose) can go with the write-ahead log and leave a store that is a consistent, older
prefix of the log, which the heads cannot tell from a good one.

The store itself tells: an unclean stop always leaves its write-ahead log, so the start is
refused locally (SPEC §14 Durability) until the operator accepts the loss (`mlagw store
accept-loss`); then it goes ahead and gets the lost messages back from CO, which holds them
with its receipts (SPEC §14 "Log epochs", Recovery). What this test also holds to: the peer keeps the receipts
naming every lost message, `mlagw audit reconcile` of the two bundles names each one, and an
export of the victim still verifies alone."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from bundlelib import export_paths, trust_dir  # noqa: E402

N = 10


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    for g in net.gws.values():
        g.overrides['audit'] = {'peer_head_wait': '2s'}
    # ES signs no checkpoint for an hour after its first: CO cannot cosign what follows
    net['ES'].overrides['audit']['checkpoint_interval'] = '1h'
    net.start_all()
    es, co = net['ES'], net['CO']
    first = [es.submit('CO', doc=b'<Request>kept %d</Request>' % i)['message_id']
             for i in range(3)]
    wait_until(lambda: es.all_in_state(first, DELIVERED), 30, msg='first delivered')
    es.stop()  # a clean stop: the whole store in its file, the last checkpoint signed
    es.start()
    kept = len(es.audit_rows())
    lost = [es.submit('CO', doc=b'<Request>lost %d</Request>' % i)['message_id']
            for i in range(N)]
    wait_until(lambda: es.all_in_state(lost, DELIVERED), 30, msg='second delivered')
    es.proc.send_signal(signal.SIGKILL)
    es.proc.wait()
    wal = es.store + '-wal'
    check(os.path.exists(wal) and os.path.getsize(wal) > 0, 'no write-ahead log to lose')
    for suffix in ('-wal', '-shm'):
        os.remove(es.store + suffix) if os.path.exists(es.store + suffix) else None
    check(len(es.audit_rows()) == kept, 'the file alone holds %d entries, wanted %d' % (
        len(es.audit_rows()), kept))
    cosigned = max([w['size'] for w in co.witnessed() if w['origin'].startswith('mlagw.es/')],
                   default=0)
    check(cosigned <= kept, 'CO cosigned %d of %d entries left: the heads would see it' % (
        cosigned, kept))

    # refused locally: an unclean stop without its write-ahead log
    es.start(wait=False)
    es.proc.wait(timeout=30)
    log = es.log_text().split('--- start ---')[-1]
    check(es.proc.returncode == 1 and 'without its write-ahead log' in log,
          'ES started on a store that lost its log (exit %r): %s' % (es.proc.returncode,
                                                                    log[-800:]))
    # the operator accepts the loss; the heads cannot see it, so ES starts
    p = net.cli('store', 'accept-loss', '--store', es.store)
    check(b'accepted' in p.stdout, 'accept-loss: %r' % p.stdout)
    es.start()
    out = es.outbox(blobs=False)
    # what the log lost, CO gave back at the start (SPEC 14 "Log epochs", Recovery)
    check(all(m in out and out[m]['state'] == DELIVERED for m in lost),
          'ES did not get back every lost message: %r' % (set(lost) - set(out)))
    rec = [e for e in es.audit() if e['event'] == 'recovered']
    check(sorted(e['message'] for e in rec) == sorted(lost) and
          all(e['actor'] == 'CO' for e in rec), 'recovered entries: %r' % rec)
    check(set(first) <= set(out), 'ES lost what its file held')

    # the peer holds every lost message with its own receipt naming it
    inbox = co.inbox()
    for m in lost:
        check(m in inbox, '%s not in CO inbox' % m)
        rc = parse_receipt(inbox[m]['receipt'])
        check(rc['message_id'] == m and rc['outcome'] == 'accepted' and rc['sender'] == 'ES',
              '%s receipt %r' % (m, rc))

    # an auditor sees it: ES's bundle verifies alone, reconcile names every lost message
    net.stop_all()
    trust = trust_dir(net, ('ES', 'CO'))
    paths = export_paths(net, (es, co))
    p = net.cli('audit', 'verify', paths['ES'], '--trust', trust, check_rc=False)
    check(p.returncode == 0, 'ES bundle: exit %d %s' % (p.returncode, p.stdout.decode()))
    p = net.cli('audit', 'reconcile', paths['ES'], paths['CO'], '--trust', trust,
                check_rc=False)
    text = p.stdout.decode()
    check(p.returncode == 1 and all(m in text for m in lost),
          'reconcile does not name every lost message: exit %d\n%s' % (p.returncode, text))
    check(not any(m in text for m in first), 'reconcile names a kept message:\n' + text)
    sys.stderr.write('ES kept %d entries (CO cosigned %d), lost %d delivered messages; '
                     'reconcile:\n%s\n' % (kept, cosigned, N, text))


run(main)
