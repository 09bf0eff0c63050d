"""HTTP edge cases on the peer listener: 413, 404, 405, 415, garbage, and a slow client that is
cut off after header_timeout while others are served promptly."""
import os
import socket
import ssl
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def raw_exchange(net, data, timeout=10):
    """Sends data over mutual TLS as ES (errors while sending ignored); returns what the
    server answered before closing (bytes, maybe empty)."""
    s = net.tls_connect('ES', 'CO', timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (OSError, ssl.SSLError):
            pass
        out = b''
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, ssl.SSLError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
            if b'\r\n\r\n' in out and b'Connection: close' not in out and len(out) > 12:
                # keep-alive answer complete enough: status line and headers
                head, _, body = out.partition(b'\r\n\r\n')
                cl = [int(l.split(b':')[1]) for l in head.split(b'\r\n')
                      if l.lower().startswith(b'content-length:')]
                if cl and len(body) >= cl[0]:
                    break
        return out
    finally:
        s.close()


def status_of(resp):
    return int(resp.split(b' ')[1]) if resp.startswith(b'HTTP/1.') else None


def good_request(net, n):
    m = str(uuid.uuid4())
    env = net.seal('ES', 'CO', b'<Request>%d</Request>' % n, message_id=m)
    t0 = time.monotonic()
    s, r = net.post('ES', 'CO', env)
    dt = time.monotonic() - t0
    check(s == 200 and parse_receipt(r)['outcome'] == 'accepted', 'good request: %d' % s)
    return m, dt


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    co = net['CO']
    co.overrides = {'limits': {'max_body_bytes': '64 KiB', 'header_timeout': '2s'}}
    co.write_config()
    co.start()
    accepted = []
    big = b'<x>' + b'a' * (100 * 1024) + b'</x>'
    resp = raw_exchange(net, b'POST /mla/v1/envelopes HTTP/1.1\r\nHost: co\r\n'
                        b'Content-Type: application/xml\r\nContent-Length: %d\r\n\r\n' % len(big)
                        + big)
    check(status_of(resp) == 413, 'oversized body: %r' % resp[:100])
    s, _ = net.post('ES', 'CO', b'<x/>', path='/mla/v1/other')
    check(s == 404, 'wrong path: %d' % s)
    s, _ = net.post('ES', 'CO', None, method='GET', content_type=None)
    check(s == 405, 'GET: %d' % s)
    env = net.seal('ES', 'CO', b'<Request>ct</Request>')
    s, _ = net.post('ES', 'CO', env, content_type='text/plain')
    check(s == 415, 'wrong content type: %d' % s)
    resp = raw_exchange(net, b'\x00\x01GARBAGE \xff\xfe not http at all\r\n\r\n')
    check(resp == b'' or status_of(resp) == 400, 'garbage: %r' % resp[:100])
    accepted.append(good_request(net, 0)[0])

    # slow client: half the headers, one byte every 0.5 s
    slow = net.tls_connect('ES', 'CO', timeout=15)
    t_open = time.monotonic()
    closed_after = []

    def dribble():
        hdr = b'POST /mla/v1/envelopes HTTP/1.1\r\nHost: co\r\nContent-Type: application/xml\r\n'
        try:
            for b in hdr[:len(hdr) // 2 + 10]:
                slow.sendall(bytes([b]))
                time.sleep(0.5)
                # a closed connection shows as EOF/reset on a non-blocking peek
            closed_after.append(('never', time.monotonic() - t_open))
        except (OSError, ssl.SSLError) as e:
            closed_after.append((type(e).__name__, time.monotonic() - t_open))

    def reader():
        try:
            d = slow.recv(1024)
            closed_after.append(('eof' if not d else 'data', time.monotonic() - t_open))
        except (OSError, ssl.SSLError) as e:
            closed_after.append((type(e).__name__, time.monotonic() - t_open))
    tw = threading.Thread(target=dribble, daemon=True)
    tr = threading.Thread(target=reader, daemon=True)
    tw.start()
    tr.start()
    time.sleep(0.7)
    m, dt = good_request(net, 1)
    accepted.append(m)
    check(dt < 1.0, 'a normal request took %.2fs while a slow client dribbles' % dt)
    tr.join(10)
    check(closed_after, 'the slow client was never closed')
    how, when = closed_after[0]
    sys.stderr.write('slow client closed (%s) after %.2fs; normal request took %.2fs\n' %
                     (how, when, dt))
    check(how != 'data' and when <= 3.5, 'slow client: %s after %.2fs, want closed by ~3s' %
          (how, when))
    slow.close()
    # the line is written just after the socket is shut down: allow for the race
    wait_until(lambda: 'slow-client-closed' in co.log_text(), 3,
               msg='slow-client-closed log line')
    accepted.append(good_request(net, 2)[0])
    counts = co.inbox_counts()
    check(set(counts) == set(accepted) and all(n == 1 for n in counts.values()),
          'CO inbox %r' % counts)
    co.stop()


run(main)
