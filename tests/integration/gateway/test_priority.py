"""Crisis and urgent messages go first: with one exchange in flight to CO, messages queued
while CO was down reach it crisis first, then urgent, then normal (oldest first within a
priority)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

ORDER = {'crisis': 0, 'urgent': 1, 'normal': 2}


def queue_while_down(es, co):
    """CO down; ES queues 10 normal, then 2 crisis and 2 urgent; returns id -> priority."""
    prio = {}
    for i in range(10):
        prio[es.submit('CO', doc=b'<Request>n%d</Request>' % i)['message_id']] = 'normal'
    for p in ('crisis', 'crisis', 'urgent', 'urgent'):
        prio[es.submit('CO', priority=p)['message_id']] = p
    # backoff is per peer: while CO is down only one probe at a time is tried, so wait
    # until at least one has failed (ES knows CO is down) and then a little past it
    wait_until(lambda: any(r['attempts'] >= 1 for r in es.outbox(prio).values()), 20,
               msg='a probe tried while CO is down')
    time.sleep(1.0)
    check(not any(r['state'] == DELIVERED for r in es.outbox(prio).values()),
          'nothing can be delivered while CO is down')
    return prio


def check_order(label, es, co, prio):
    wait_until(lambda: es.all_in_state(prio, DELIVERED), 40, msg='14 delivered')
    inbox = {m: r for m, r in co.inbox().items() if m in prio}
    check(set(inbox) == set(prio), 'CO inbox ids differ')
    check(all(n == 1 for n in co.inbox_counts().values()), 'duplicates')
    order = sorted(inbox, key=lambda m: inbox[m]['received_ms'])
    got = [prio[m] for m in order]
    sys.stderr.write('%s: arrival order: %s\n' % (label, ' '.join(got)))
    for m in order:
        check(inbox[m]['priority'] == 2 - ORDER[prio[m]], 'inbox priority of %s' % m)
    check(got == sorted(got, key=ORDER.get),
          '%s: arrival order %s: crisis, then urgent, then normal expected' % (label, got))


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    es.overrides = {'peer CO': {'max_in_flight': '1'}}
    net.start_all()
    # A: every message due when ES (re)starts with CO up: strict priority order
    co.stop()
    prio = queue_while_down(es, co)
    es.stop()
    time.sleep(2)  # past every backoff (max 1s, jitter up to 150%)
    co.start()
    es.start()
    check_order('sender restarted', es, co, prio)
    # B: ES keeps running and retrying while CO is down, then CO comes back
    co.stop()
    prio = queue_while_down(es, co)
    co.start()
    check_order('peer back while the sender retries', es, co, prio)
    net.stop_all()


run(main)
