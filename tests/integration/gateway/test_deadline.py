"""A message that cannot be delivered before its deadline fails loudly: state failed with the
reason, a 'failed' log line, and it is never sent afterwards. Deadlines are per priority."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    es.overrides = {'retry': {'deadline_normal': '2s', 'deadline_urgent': '1h'}}
    co.write_config()
    es.write_config()
    es.start()  # CO never started: its port refuses connections
    t0 = time.monotonic()
    n = es.submit('CO')['message_id']
    u = es.submit('CO', priority='urgent')['message_id']
    wait_until(lambda: es.outbox([n])[n]['state'] == FAILED, 10, msg='normal message failed')
    took = time.monotonic() - t0
    row = es.outbox([n])[n]
    check(took >= 1.9, 'failed after %.1fs, before its 2s deadline' % took)
    check('deadline' in (row['last_error'] or ''), 'last_error %r' % row['last_error'])
    # backoff is per peer: the urgent message may have been the only probe, so the normal one
    # may never have been tried; it fails at its deadline all the same, naming the cause
    check(row['receipt'] is None, 'row %r' % row)
    check('transport' in row['last_error'], 'last_error names the peer failure: %r' % row)
    h = es.history(n)
    check(h[0] == 'queued' and h[-1] == 'failed' and h.count('failed') == 1, 'history %r' % h)
    st = es.status(n)
    check(st['state'] == 'failed' and 'deadline' in st['last_error'], 'status %r' % st)
    fl = [l for l in es.log_text().splitlines() if ' failed msg=%s ' % n in l]
    check(len(fl) == 1 and 'deadline' in fl[0], "log 'failed' lines %r" % fl)
    check(es.outbox([u])[u]['state'] in (QUEUED, SENDING), 'urgent (1h deadline) gave up')
    # once CO is up the urgent one is delivered; the failed one is never sent
    co.start()
    wait_until(lambda: es.all_in_state([u], DELIVERED), 20, msg='urgent delivered')
    time.sleep(1.5)
    check(es.outbox([n])[n]['state'] == FAILED, 'failed message changed state')
    check(co.inbox_counts() == {u: 1}, 'CO inbox %r' % co.inbox_counts())
    sys.stderr.write('failed after %.1fs with %r\n' % (took, row['last_error']))
    net.stop_all()


run(main)
