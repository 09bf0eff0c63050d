"""Issue 10 finding 11: each refused envelope stored about 860 bytes durably (an alert row and
two audit entries), so a peer repeating one refused envelope 1,000 times a second grew the
store by about 70 GB a day. Now the first refusal of an envelope (peer, error, digest) keeps
its signed negative receipt, its entries, alert and log line; its repeats within
[limits] refusal_window are answered with the same receipt bytes and counted, and one
aggregate entry (audit entry version 2, count) is written when the window closes. Distinct
refusals still get their own entries; unauthenticated refusals of distinct bytes get theirs up
to a budget per window and are counted beyond it; the exported bundle verifies.

Before the fix (measured on 992653b with this test's posts): 500 identical refusals added
1000 audit entries (361,390 bytes of entries), 500 alerts and 500 different receipts, and the
stopped store grew by 454,656 bytes. After: 3 entries (1,117 bytes), 1 alert, 1 receipt."""
import http.client
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

REPEATS = 500
UNAUTH = 40          # distinct unauthenticated refusals: the budget (32) plus some
UNAUTH_FIRSTS = 32   # gateway/peer/refusals.h REFUSALS_UNAUTH_FIRSTS
STORE_BOUND = 64 * 1024  # bytes the stopped store may grow for the 500 (before: 454,656)


class Poster:
    """Many posts from ES to CO over one kept-alive mutual-TLS connection."""

    def __init__(self, net):
        self.net = net
        self.c = None

    def post(self, body):
        for attempt in range(2):
            if self.c is None:
                self.c = http.client.HTTPSConnection(
                    '127.0.0.1', self.net['CO'].port, timeout=20,
                    context=self.net.client_ctx('ES', 'CO'))
            try:
                self.c.request('POST', '/mla/v1/envelopes', body=body,
                               headers={'Content-Type': 'application/xml'})
                r = self.c.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = None
                if attempt == 1:
                    raise
        raise AssertionError('unreachable')

    def close(self):
        if self.c is not None:
            self.c.close()


def store_bytes(gw):
    return sum(os.path.getsize(gw.store + ext) for ext in ('', '-wal')
               if os.path.exists(gw.store + ext))


def entry_bytes(gw, first):
    return sum(len(r['entry']) for r in gw.audit_rows(first=first))


def new_entries(gw, n0):
    return gw.audit()[n0:]


def identical_repeats(net, poster, env):
    """500 posts of one refused (replayed, authenticated) envelope."""
    co = net['CO']
    n0, a0 = len(co.audit()), co.counts()['alerts']
    answers = set()
    for _ in range(REPEATS):
        s, body = poster.post(env)
        check(s == 422, 'repeat: HTTP %d, want 422' % s)
        answers.add(body)
    check(len(answers) == 1, 'repeats answered with %d different receipts, want 1' %
          len(answers))
    receipt = answers.pop()
    rc = parse_receipt(receipt)
    check(rc['outcome'] == 'rejected' and rc['error'] == 'replay' and
          rc['digest'] == sha256(env), 'receipt %r' % rc)
    wait_until(lambda: any(e.get('count') for e in new_entries(co, n0)), 40,
               msg='the aggregate entry after the refusal window')
    got = new_entries(co, n0)
    check([e['event'] for e in got] == ['rejected', 'receipt-issued', 'rejected'],
          'entries for %d identical refusals: %r' % (REPEATS, got))
    agg = got[2]
    check(agg['count'] == str(REPEATS - 1) and agg['error'] == 'replay' and
          agg['envelope-sha256'] == sha256(env).hex() and
          agg['receipt-sha256'] == sha256(receipt).hex() and
          agg['receipt-sha256'] == got[1]['receipt-sha256'] and agg['actor'] == 'ES',
          'aggregate %r' % agg)
    check('count' not in got[0] and 'count' not in got[1], 'first refusal is version 1')
    check(co.counts()['alerts'] == a0 + 1, 'alerts: %d, want %d' % (co.counts()['alerts'],
                                                                   a0 + 1))
    log = co.log_text()
    check('rejected-repeats' in log and 'count=%d' % (REPEATS - 1) in log,
          'CO log has no rejected-repeats line with the count')
    return n0


def distinct_refusals(net, poster):
    """Distinct authenticated refusals each keep their own entries."""
    co = net['CO']
    envs = [net.seal('ES', 'CO', b'<Request>%d</Request>' % i, created='2020-01-0%dT00:00:00Z'
                     % (i + 1)) for i in range(3)]
    n0 = len(co.audit())
    for env in envs:
        s, _ = poster.post(env)
        check(s == 422, 'distinct: HTTP %d' % s)
    got = new_entries(co, n0)
    for env in envs:
        mine = [e['event'] for e in got if e.get('envelope-sha256') == sha256(env).hex()]
        check(mine == ['rejected', 'receipt-issued'], 'distinct refusal entries %r' % mine)


def duplicate_ids(net, poster):
    """Other bytes under an accepted message id (409 duplicate-id), repeated: one alert, one
    receipt, and the repeats counted."""
    co = net['CO']
    mid = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d'
    s, _ = poster.post(net.seal('ES', 'CO', b'<Request>original</Request>', message_id=mid))
    check(s == 200, 'original: HTTP %d' % s)
    other = net.seal('ES', 'CO', b'<Request>other</Request>', message_id=mid)
    n0, a0 = len(co.audit()), len(co.alerts('duplicate-id'))
    answers = set()
    for _ in range(5):
        s, body = poster.post(other)
        check(s == 409, 'duplicate-id: HTTP %d' % s)
        answers.add(body)
    check(len(answers) == 1, 'duplicate-id repeats: %d receipts' % len(answers))
    check(len(co.alerts('duplicate-id')) == a0 + 1, 'duplicate-id alerts: %d' %
          (len(co.alerts('duplicate-id')) - a0))
    wait_until(lambda: any(e.get('count') for e in new_entries(co, n0)), 40,
               msg='the duplicate-id aggregate')
    got = new_entries(co, n0)
    check([(e['event'], e.get('count'), e['error']) for e in got] ==
          [('rejected', None, 'duplicate-id'), ('receipt-issued', None, '-'),
           ('rejected', '4', 'duplicate-id')] and got[2]['message'] == mid,
          'duplicate-id entries %r' % got)


def unauthenticated(net, poster):
    """Distinct unreadable bodies: their own entries up to the budget, then counted."""
    co = net['CO']
    n0 = len(co.audit())
    bodies = [b'\xff' + b'%d' % i for i in range(UNAUTH)]
    for b in bodies:
        s, r = poster.post(b)
        check(s == 422 and parse_receipt(r)['digest'] == sha256(b), 'unauthenticated: %d' % s)
    wait_until(lambda: any(e.get('count') for e in new_entries(co, n0)), 40,
               msg='the unauthenticated aggregate')
    got = new_entries(co, n0)
    own = [b for b in bodies if any(e.get('envelope-sha256') == sha256(b).hex() and
                                    e['event'] == 'rejected' for e in got)]
    check(own == bodies[:UNAUTH_FIRSTS], '%d unauthenticated refusals with their own entries,'
          ' want the first %d' % (len(own), UNAUTH_FIRSTS))
    agg = [e for e in got if e.get('count')]
    want = str(UNAUTH - UNAUTH_FIRSTS)
    check([(e['event'], e['count'], e['envelope-sha256'], e['error']) for e in agg] ==
          [('rejected', want, '-', 'xml-malformed'), ('receipt-issued', want, '-', '-')],
          'unauthenticated aggregates %r' % agg)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    # the window must outlast the 500 posts (about 2 s under AddressSanitizer): a window that
    # closes between them rightly starts a second first refusal with its own receipt
    net['CO'].overrides = {'limits': {'refusal_window': '10s'}}
    net.start_all()
    co = net['CO']
    env = net.seal('ES', 'CO', b'<Request>replayed</Request>', created='2020-01-01T00:00:00Z')
    co.stop()
    size0 = store_bytes(co)
    co.start()
    poster = Poster(net)
    n0 = identical_repeats(net, poster, env)
    added = entry_bytes(co, n0)
    poster.close()
    co.stop()
    grown = store_bytes(co) - size0
    print('%d identical refusals: %d audit entries, %d bytes of entries, store +%d bytes' %
          (REPEATS, len(co.audit()) - n0, added, grown))
    check(grown < STORE_BOUND, 'store grew by %d bytes for %d identical refusals, bound %d' %
          (grown, REPEATS, STORE_BOUND))
    co.start()
    poster = Poster(net)
    distinct_refusals(net, poster)
    duplicate_ids(net, poster)
    unauthenticated(net, poster)
    poster.close()
    net.stop_all()
    verify_exported(net, 'CO')


run(main)
