"""An audit bundle exported from a running gateway, or from one killed, verifies (found by
gw-fault-run: the bundle of the gateway whose write-ahead log was lost did not). Export writes
the entries up to the latest checkpoint and the envelopes and receipts of the messages they
name; a message submitted before that checkpoint and delivered after it had its receipt
exported without the delivered entry naming it, and `mlagw audit verify` failed: "receipt
...: its SHA-256 is not the receipt-sha256 of any entry of that message". A clean stop signs
a last checkpoint over everything, which is why only live and crashed stores showed it.

Here ES submits while CO is down and stops cleanly (its last checkpoint covers the submitted
entry), starts again with an hour between checkpoints, and CO comes up: the delivered entry
and the stored receipt lie beyond ES's latest checkpoint. ES's bundle, exported while it runs
and again after a SIGKILL, must verify and leave that receipt out; after a clean stop the
receipt is in."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from bundlelib import Auditor, export, parse_bundle, trust_dir  # noqa: E402


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    for g in net.gws.values():
        g.overrides['audit'] = {'peer_head_wait': '1s', 'checkpoint_interval': '1h'}
    net.start_all()
    es, co = net['ES'], net['CO']
    co.stop()
    m = es.submit('CO')['message_id']
    es.stop()  # a clean stop: the last checkpoint covers the submitted entry
    es.start()
    co.start()
    wait_until(lambda: es.all_in_state({m}, DELIVERED), 30, msg='delivered')
    seq = {e['event']: int(e['seq']) for e in es.audit() if e.get('message') == m}
    latest = es.checkpoints()[-1]['size']
    check(seq['submitted'] < latest <= seq['delivered'],
          'want the submitted entry under the latest checkpoint (%d) and the delivered one '
          'beyond it: %r' % (latest, seq))

    auditor = Auditor(net, trust_dir(net, ('ES', 'CO')))

    def verifies(label, receipt_in):
        data = export(net, es, 'ES-%s.mab' % label)
        rc, out = auditor.verify(data)
        check(rc == 0, '%s: the bundle does not verify:\n%s' % (label, out))
        has = any(r[0] == 'receipt' and r[1] == m for r in parse_bundle(data))
        check(has == receipt_in, '%s: the receipt of %s %s the bundle' % (
            label, m, 'missing from' if receipt_in else 'in'))
    verifies('running', False)
    es.kill()
    verifies('killed', False)
    es.start()
    es.stop()
    verifies('stopped', True)


run(main)
