"""A per-peer request rate ([limits] peer_rate, peer_burst): CO accepts 5 requests/s from
each peer with a burst of 5. Raw requests beyond the burst get 429 with Retry-After, while
another peer keeps its own allowance; ES's 40 submissions are all delivered exactly once,
the relay backing off on each 429; CO logs the refusals, at most a line a second."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'FR'])
    net['CO'].overrides = {'limits': {'peer_rate': '5', 'peer_burst': '5'}}
    net.start_all()
    es, co = net['ES'], net['CO']

    # the bucket: 5 at once, then 429 with Retry-After (not an envelope either way: the limit
    # comes first); all on one connection, so that the bucket barely refills meanwhile
    c = http.client.HTTPSConnection('127.0.0.1', co.port, timeout=10,
                                    context=net.client_ctx('ES', 'CO'))
    answers = []
    for _ in range(12):
        c.request('POST', '/mla/v1/envelopes', body=b'<NotAnEnvelope/>',
                  headers={'Content-Type': 'application/xml'})
        r = c.getresponse()
        r.read()
        answers.append((r.status, r.getheader('Retry-After')))
    c.close()
    codes = [a[0] for a in answers]
    check(codes.count(429) >= 5 and codes[0] != 429, 'ES burst: %r' % codes)
    check(all(ra == '1' for st, ra in answers if st == 429), '429 without Retry-After: 1: %r'
          % answers)
    # FR has its own allowance
    check(net.post('FR', 'CO', b'<NotAnEnvelope/>')[0] != 429, 'FR limited by ES traffic')

    # real traffic above the rate: delayed, never lost nor duplicated
    time.sleep(1.2)
    t0 = time.monotonic()
    ids = [es.submit('CO', doc=b'<Request>rate %d</Request>' % i)['message_id']
           for i in range(40)]
    wait_until(lambda: es.all_in_state(ids, DELIVERED), 60, msg='40 delivered under the limit')
    took = time.monotonic() - t0
    counts = co.inbox_counts()
    check(all(counts.get(m) == 1 for m in ids), 'CO inbox does not hold each message once')
    # 40 requests at 5/s after a burst of 5 cannot take less than about 7 s
    check(took >= 6.0, 'the rate was not enforced: 40 delivered in %.1fs' % took)
    lines = [l for l in co.log_text().splitlines() if 'rate-limited' in l]
    check(lines and all('peer=ES' in l or 'peer=FR' in l for l in lines) and
          len(lines) <= took + 3, 'rate-limited log lines: %d in %.1fs' % (len(lines), took))
    net.stop_all()


run(main)
