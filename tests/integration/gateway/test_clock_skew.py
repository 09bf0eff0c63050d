"""A receiver whose clock is behind by more than its clock-skew tolerance (issue 11, finding
7): the sender's envelope is refused with `clock-skew`, which is a condition of the link, not
of the message (SPEC 13): the receiver answers 503 with its signed negative receipt, the
sender keeps the message queued, raises a `clock-skew` alert naming the peer and the offset,
and retries with its backoff. Once the receiver's clock is put right the message is delivered,
exactly once, without a new submission, and both audit bundles verify and reconcile."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from fakeclock import FakeClock  # noqa: E402


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='1s')
    es, co = net['ES'], net['CO']
    co.overrides['limits'] = {'clock_skew': '2s'}
    clock = FakeClock(net.dir, 'CO')
    clock.set(-30)  # CO is 30 s behind: ES's envelopes are dated 30 s in its future
    for g in net.gws.values():
        g.write_config()
    co.start(env=clock.env())
    es.start()

    mid = es.submit('CO')['message_id']
    wait_until(lambda: any(e['event'] == 'rejected' and e['message'] == mid and
                           e['error'] == 'clock-skew' for e in co.audit()),
               20, msg='CO refusing the envelope for clock skew')
    # refused more than once: retried, not given up
    wait_until(lambda: es.outbox([mid], blobs=False)[mid]['attempts'] >= 2 or
               es.outbox([mid], blobs=False)[mid]['state'] >= DELIVERED, 20,
               msg='ES retrying the refused message')
    row = es.outbox([mid], blobs=False)[mid]
    check(row['state'] in (QUEUED, SENDING, AWAITING),
          'after a clock-skew refusal ES holds the message %s (%s), want it queued for a retry'
          % (STATE_NAMES[row['state']], row['last_error']))
    alerts = wait_until(lambda: es.alerts('clock-skew'), 10, msg='a clock-skew alert on ES')
    sys.stderr.write('ES clock-skew alerts: %r\n' % alerts)
    check(all('CO' in a['detail'] for a in alerts), 'alert does not name CO: %r' % alerts)
    offs = [int(m) for a in alerts for m in re.findall(r'peer_offset_s=([-+]?\d+)', a['detail'])]
    check(any(-33 <= o <= -27 for o in offs), 'alert does not say CO is ~30 s behind: %r'
          % alerts)
    check(not co.inbox_counts(), 'CO stored a refused envelope')

    clock.set(0)  # the clock put right: no new submission
    wait_until(lambda: es.all_in_state({mid}, DELIVERED), 30, 0.2,
               'the refused message delivered once CO\'s clock is right')
    check(co.inbox_counts() == {mid: 1}, 'CO inbox %r, want the message once' %
          co.inbox_counts())
    check(len(es.outbox()) == 1, 'ES outbox holds %d messages' % len(es.outbox()))
    env = es.outbox_envelope(mid)
    check(co.inbox()[mid]['digest'] == sha256(env), 'CO holds other bytes than ES sent')
    rc = parse_receipt(es.outbox()[mid]['receipt'])
    check(rc['outcome'] == 'accepted', 'ES keeps receipt %r' % rc)
    check(not co.alerts('duplicate-id'), 'duplicate-id alerts on CO')

    net.stop_all()
    verify_exported(net, 'ES')
    verify_exported(net, 'CO')
    # CO's log holds the refusal and then the reception, ES's the sends and the delivery
    p = net.cli('audit', 'reconcile', os.path.join(net.dir, 'ES-exported.mab'),
                os.path.join(net.dir, 'CO-exported.mab'), '--trust',
                os.path.join(net.dir, 'trust-ES'), check_rc=False)
    sys.stderr.write(p.stdout.decode() + p.stderr.decode())
    check(p.returncode == 0, 'ES and CO bundles do not reconcile: exit %d' % p.returncode)


run(main)
