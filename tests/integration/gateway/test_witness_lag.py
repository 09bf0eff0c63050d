"""Witnessing keeps up with signing under load (issue 11, finding 5): with a checkpoint every
second and submissions flowing, the peer's latest cosigned checkpoint of our log is never far
behind the latest one we signed, and /healthz and /metrics show the lag per peer."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_api  # noqa: E402

LOAD_S = 9
SLACK_S = 3.0  # a cosignature may trail the signature by this much (three ticks)


def latest(es):
    """(latest signed size, latest size cosigned by CO) from the stored checkpoints."""
    cps = es.checkpoints()
    signed = cps[-1]['size'] if cps else 0
    cosigned = max([c['size'] for c in cps if b'\xe2\x80\x94 mlagw.co/witness ' in c['note']],
                   default=0)
    return signed, cosigned


def load(es, stop):
    i = 0
    while not stop.is_set():
        es.submit('CO', doc=b'<Request>lag %d</Request>' % i)
        i += 1


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='1s')
    apis = test_api.setup(net)  # starts the net with the local API on
    es = net['ES']
    stop = threading.Event()
    th = threading.Thread(target=load, args=(es, stop))
    th.start()
    samples = []  # (time, signed, cosigned)
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < LOAD_S:
            s, c = latest(es)
            samples.append((time.monotonic(), s, c))
            time.sleep(0.5)
    finally:
        stop.set()
        th.join()
    worst = 0
    for t, s, c in samples:
        # what was signed SLACK_S ago must be cosigned by now
        before = [s2 for t2, s2, _ in samples if t2 <= t - SLACK_S]
        if before:
            worst = max(worst, before[-1] - c)
            check(c >= before[-1], 'at %.1f s CO has cosigned up to %d, but %d was signed '
                  '%.0f s earlier (samples: %r)' % (t - t0, c, before[-1], SLACK_S,
                                                   [(round(a - t0, 1), b, d) for a, b, d in samples]))
    check(samples[-1][1] > 20, 'too little load to tell: %r' % samples[-1:])
    lag_now = max(s - c for _, s, c in samples)
    print('witness lag under load: %d entries signed in %.0f s; at worst CO trailed the latest '
          'signed checkpoint by %d entries, and a checkpoint signed %.0f s earlier by %d' %
          (samples[-1][1], LOAD_S, lag_now, SLACK_S, worst))

    # the lag, as an operator sees it
    def reported():
        h = apis['ES'].json('GET', '/healthz', 'admin')
        peers = {p['state']: p for p in h['audit']['witnesses']}
        return h['audit']['signed'] > 0 and peers['CO']['cosigned'] == h['audit']['signed'] \
            and peers['CO']['lag'] == 0
    wait_until(reported, 10, msg='health: CO cosigned the latest checkpoint, lag 0')
    code, _, body = apis['ES'].call('GET', '/metrics', role='admin')
    check(code == 200, 'metrics: HTTP %d' % code)
    text = body.decode()
    for name in ('mlagw_audit_signed_size ', 'mlagw_witness_cosigned_size{peer="CO"} ',
                 'mlagw_witness_lag_entries{peer="CO"} 0'):
        check(name in text, 'metrics lack %r' % name)
    net.stop_all()


run(main)
