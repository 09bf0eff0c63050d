"""Re-sealing (issue 11, finding 7; SPEC 13 Time): an envelope refused for its time is sealed
again with a new Created, under the same message id, and delivered without a new submission.

1. replay: ES's clock was 120 s behind when it sealed (CO's replay window is 1 minute); once
   ES's clock is put right, CO refuses the old seal as `replay` (422, final before this
   change), ES seals it again and CO accepts the new seal.
2. clock-skew, sender ahead: ES's clock was 600 s ahead when it sealed; CO refuses it as
   `clock-skew` and ES keeps sending the same bytes while its clock stays ahead (the receiver
   could be the one that is wrong); once ES's clock is put right it is behind the seal's
   Created, so ES seals again and CO accepts.

Each time: delivered once, CO holds the new seal, ES's log has `resealed` (version 4) naming
both digests and CO's refusal, ES's exported bundle is format 3 with the old seal and its
refusal and verifies, CO's (no seals) stays format 2 and verifies, and the two reconcile."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from fakeclock import FakeClock  # noqa: E402


def resealed_entries(gw, mid):
    return [e for e in gw.audit() if e['event'] == 'resealed' and e['message'] == mid]


def check_resealed(es, co, mid, error):
    """The delivered message's chain: submitted names the first seal, resealed replaces it,
    delivered and CO's inbox name the new one."""
    entries = [e for e in es.audit() if e['message'] == mid]
    submitted = [e for e in entries if e['event'] == 'submitted']
    resealed = [e for e in entries if e['event'] == 'resealed']
    delivered = [e for e in entries if e['event'] == 'delivered']
    check(len(submitted) == 1 and len(resealed) == 1 and len(delivered) == 1,
          'ES entries of %s: %r' % (mid, [e['event'] for e in entries]))
    r = resealed[0]
    check(r['prev-envelope-sha256'] == submitted[0]['envelope-sha256'],
          'resealed does not replace the submitted seal')
    check(r['envelope-sha256'] == delivered[0]['envelope-sha256'] != submitted[0]['envelope-sha256'],
          'delivered does not name the new seal')
    check(r['error'] == error and r['actor'] == 'gateway' and r['to'] == 'CO',
          'resealed entry %r' % r)
    env = es.outbox_envelope(mid)
    check(sha256(env).hex() == r['envelope-sha256'], 'ES stores another envelope than the new seal')
    check(co.inbox()[mid]['digest'] == sha256(env), 'CO holds other bytes than the new seal')
    check(co.inbox_counts().get(mid) == 1, 'CO inbox holds %s %r times' %
          (mid, co.inbox_counts().get(mid)))
    refused = [e for e in co.audit() if e['message'] == mid and e['event'] == 'rejected']
    check(refused and refused[0]['error'] == error and
          refused[0]['envelope-sha256'] == r['prev-envelope-sha256'],
          'CO did not record refusing the old seal for %s: %r' % (error, refused))
    issued = [e['receipt-sha256'] for e in co.audit() if e['message'] == mid and
              e['event'] == 'receipt-issued' and
              e['envelope-sha256'] == r['prev-envelope-sha256']]
    check(issued == [r['receipt-sha256']], 'ES names another refusal (%s) than CO issued %r'
          % (r['receipt-sha256'], issued))
    check(any(a['message_id'] == mid for a in es.alerts('resealed')), 'no resealed alert on ES')


def bundle_format(path):
    with open(path, 'rb') as f:
        return f.readline().decode().strip()


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='1s')
    es, co = net['ES'], net['CO']
    es.overrides['limits'] = {'clock_skew': '2s'}
    co.overrides['limits'] = {'replay_window': '1m'}
    clock = FakeClock(net.dir, 'ES')
    for g in net.gws.values():
        g.write_config()
    es.start(env=clock.env())

    # 1. replay: sealed by a clock 120 s behind, sent once the clock is right
    clock.set(-120)
    m1 = es.submit('CO')['message_id']  # CO is down: it waits in the queue
    clock.set(0)
    co.start()
    wait_until(lambda: es.all_in_state({m1}, DELIVERED), 30, 0.2,
               'the message refused for replay delivered after a new seal')
    check_resealed(es, co, m1, 'replay')

    # 2. clock-skew: sealed by a clock 600 s ahead; the same bytes while it stays ahead
    clock.set(600)
    m2 = es.submit('CO')['message_id']
    wait_until(lambda: sum(1 for e in co.audit() if e['message'] == m2 and
                           e['event'] == 'rejected' and e['error'] == 'clock-skew') >= 1,
               20, msg='CO refusing the envelope dated in its future')
    wait_until(lambda: es.outbox([m2], blobs=False)[m2]['attempts'] >= 2, 20,
               msg='ES sending the same bytes again while its clock is ahead')
    check(not resealed_entries(es, m2), 'ES sealed again while its own clock was still ahead')
    check(es.outbox([m2], blobs=False)[m2]['state'] in (QUEUED, SENDING, AWAITING),
          'the message is no longer queued while the clocks disagree')
    clock.set(0)
    wait_until(lambda: es.all_in_state({m2}, DELIVERED), 30, 0.2,
               'the message delivered once ES\'s clock was put right')
    check_resealed(es, co, m2, 'clock-skew')

    net.stop_all()
    verify_exported(net, 'ES')
    verify_exported(net, 'CO')
    es_b = os.path.join(net.dir, 'ES-exported.mab')
    co_b = os.path.join(net.dir, 'CO-exported.mab')
    check(bundle_format(es_b) == 'mlagw-audit-bundle/3', 'ES bundle is %s' % bundle_format(es_b))
    check(bundle_format(co_b) == 'mlagw-audit-bundle/2', 'CO bundle is %s' % bundle_format(co_b))
    # a bundle filtered on m1's case holds m1 with all its seals, and verifies
    case = [e['case'] for e in es.audit() if e['message'] == m1 and e['event'] == 'submitted'][0]
    es_f = os.path.join(net.dir, 'ES-case.mab')
    net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'), '--out', es_f,
            '--case', case)
    p = net.cli('audit', 'verify', es_f, '--trust', os.path.join(net.dir, 'trust-ES'),
                check_rc=False)
    check(p.returncode == 0 and bundle_format(es_f) == 'mlagw-audit-bundle/3',
          'ES bundle filtered on %s: exit %d %s' % (case, p.returncode, p.stdout.decode()[-800:]))
    p = net.cli('audit', 'reconcile', es_b, co_b, '--trust', os.path.join(net.dir, 'trust-ES'),
                check_rc=False)
    sys.stderr.write(p.stdout.decode() + p.stderr.decode())
    check(p.returncode == 0, 'ES and CO bundles do not reconcile: exit %d' % p.returncode)


run(main)
