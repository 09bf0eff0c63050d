"""CO is down while ES submits 20 messages: they stay queued while ES probes CO with one message
at a time (backoff is per peer: attempts grow, none delivered); once CO starts all 20 are
delivered exactly once."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net.start_all()
    net['CO'].stop()
    ids = [net['ES'].submit('CO', doc=b'<Request>%d</Request>' % i)['message_id']
           for i in range(20)]
    check(len(set(ids)) == 20, 'unique ids')
    wait_until(lambda: sum(r['attempts'] for r in net['ES'].outbox(ids).values()) >= 2, 20,
               msg='CO probed at least twice')
    ob = net['ES'].outbox(ids)
    check(len(ob) == 20, 'outbox rows %d' % len(ob))
    for mid, r in ob.items():
        check(r['state'] in (QUEUED, SENDING), '%s state %s while CO is down' % (mid, r['state']))
        check(r['receipt'] is None, '%s has a receipt while CO is down' % mid)
        check(r['attempts'] == 0 or 'transport' in (r['last_error'] or ''),
              '%s last_error %r' % (mid, r['last_error']))
    a1 = sum(r['attempts'] for r in ob.values())
    time.sleep(1.5)
    a2 = sum(r['attempts'] for r in net['ES'].outbox(ids).values())
    check(a2 > a1, 'probes do not continue: %d -> %d attempts' % (a1, a2))
    check('retry' in net['ES'].log_text(), 'no retry log line')
    net['CO'].start()
    wait_until(lambda: net['ES'].all_in_state(ids, DELIVERED), 30, msg='20 delivered')
    counts = net['CO'].inbox_counts()
    check(set(counts) == set(ids), 'CO inbox %d ids, want exactly the 20' % len(counts))
    check(all(n == 1 for n in counts.values()), 'CO inbox duplicates %r' % counts)
    inbox = net['CO'].inbox()
    for mid, r in net['ES'].outbox(ids).items():
        check(r['receipt'] and parse_receipt(r['receipt'])['outcome'] == 'accepted',
              '%s receipt' % mid)
        check(inbox[mid]['digest'] == r['digest'], '%s digest differs' % mid)
        h = net['ES'].history(mid)
        check(h[0] == 'queued' and h[-1] == 'delivered' and h.count('delivered') == 1,
              '%s history %r' % (mid, h))
    net.stop_all()


run(main)
