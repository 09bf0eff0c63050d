"""Mutual TLS on the peer listener: unknown CA, a trusted State that is not a peer, and no
client certificate are refused in the handshake; an authenticated peer cannot send in another
State's name; CO keeps serving throughout."""
import http.client
import os
import ssl
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

REFUSED = (ssl.SSLError, ConnectionResetError, BrokenPipeError, ConnectionAbortedError,
           http.client.RemoteDisconnected, http.client.BadStatusLine)


def expect_refused(net, client, label, cert=True):
    env = b'<x/>'
    try:
        s, body = net.post(client, 'CO', env, cert=cert, timeout=10)
    except REFUSED as e:
        sys.stderr.write('%s: refused (%s: %s)\n' % (label, type(e).__name__, e))
        return
    raise TestFailure('%s: request got through with HTTP %d %r' % (label, s, body[:200]))


def expect_served(net, n):
    m = str(uuid.uuid4())
    env = net.seal('ES', 'CO', b'<Request>ok %d</Request>' % n, message_id=m)
    s, r = net.post('ES', 'CO', env)
    check(s == 200 and parse_receipt(r)['outcome'] == 'accepted', 'ES refused: %d' % s)
    return m


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'MX'], extra_pki=['ZZ', 'FR'])
    co = net['CO']
    co.trust = ['ES', 'CO', 'MX', 'FR']  # FR's root is trusted, FR is no peer
    co.write_config()
    co.start()
    good = [expect_served(net, 0)]
    expect_refused(net, 'ZZ', 'unknown CA')
    good.append(expect_served(net, 1))
    expect_refused(net, 'FR', 'trusted State, not a peer')
    good.append(expect_served(net, 2))
    expect_refused(net, 'ES', 'no client certificate', cert=False)
    good.append(expect_served(net, 3))
    log = co.log_text()
    check('not a configured peer' in log and log.count('tls-refused') >= 2,
          'tls-refused log lines missing')
    # MX is a configured peer, authenticated, but sends an envelope From ES
    m = str(uuid.uuid4())
    env = net.seal('ES', 'CO', b'<Request>spoof</Request>', message_id=m)
    s, r = net.post('MX', 'CO', env)
    check(s == 422, 'MX posting From=ES: HTTP %d, want 422' % s)
    rc = parse_receipt(r)
    check(rc['outcome'] == 'rejected' and rc['error'] == 'peer-mismatch' and rc['sender'] == 'MX'
          and rc['message_id'] == m, 'receipt %r' % rc)
    # the same bytes from ES are then accepted: the refusal did not burn the id
    s, r = net.post('ES', 'CO', env)
    check(s == 200, 'the real sender after the spoof: %d' % s)
    good.append(m)
    counts = co.inbox_counts()
    check(set(counts) == set(good) and all(n == 1 for n in counts.values()),
          'CO inbox %r, want %r' % (counts, good))
    co.stop()


run(main)
