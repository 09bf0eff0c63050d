"""Issue 10 finding 5: header_timeout also cut request bodies (the slow-client sweep measured
from the connection's start), and the relay capped every exchange with a total timeout, so no
link slower than a few MB/s could deliver a large envelope. Now the receiver bounds progress,
not total time: a connection receiving a request must move at least [limits] min_receive_rate
per window of header_timeout; the sender abandons an exchange only when it moves less than
[retry] min_send_rate for request_timeout. A 1 MiB document over a link throttled to about
150 KiB/s (several times header_timeout and request_timeout) is delivered at the first
attempt, while a client trickling its headers is still cut."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

RATE = 150 * 1024  # bytes per second, each direction


class Throttle:
    """A TCP proxy on loopback that forwards at most RATE bytes/s each way."""

    def __init__(self, target_port):
        self.target = ('127.0.0.1', target_port)
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.target)
            except OSError:  # CO not listening yet (ES asks for its head at start)
                c.close()
                continue
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    def pump(self, a, b):
        chunk = RATE // 20
        try:
            while True:
                d = a.recv(chunk)
                if not d:
                    break
                b.sendall(d)
                time.sleep(len(d) / RATE)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.sock.close()


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    proxy = Throttle(co.port)
    net.url_override['CO'] = 'https://127.0.0.1:%d/mla/v1/envelopes' % proxy.port
    co.overrides = {'limits': {'header_timeout': '1s', 'max_body_bytes': '4 MiB'}}
    es.overrides = {'retry': {'request_timeout': '2s', 'initial': '1s'}}
    net.start_all()
    doc = b'<Request>' + os.urandom(1 << 20).hex().encode()[:1 << 20] + b'</Request>'
    t0 = time.monotonic()
    mid = es.submit('CO', doc=doc)['message_id']
    wait_until(lambda: es.all_in_state([mid], DELIVERED), 90, msg='delivered over a slow link')
    secs = time.monotonic() - t0
    retries = es.log_text().count('retry msg=%s' % mid)
    check(retries == 0, 'delivered after %d retries, want none (an exchange was cut)' % retries)
    check(secs > 2, 'the link was not slow (%.1f s): the test proves nothing' % secs)
    print('1 MiB document delivered over a ~150 KiB/s link in %.1f s, at the first attempt' %
          secs)
    # a client trickling its headers (a few bytes a second) is still cut
    s = net.tls_connect('ES', 'CO')
    start = time.monotonic()
    closed = False
    try:
        for ch in b'POST /mla/v1/envelopes HTTP/1.1\r\nHost: x\r\nX-Slow: ' + b'a' * 200:
            s.sendall(bytes([ch]))
            time.sleep(0.2)
            if time.monotonic() - start > 15:
                break
    except OSError:
        closed = True
    if not closed:
        try:
            s.settimeout(5)
            closed = s.recv(1) == b''
        except OSError:
            closed = True
    check(closed, 'a client trickling its headers was not cut')
    check(time.monotonic() - start < 10, 'the trickling client was cut only after %.1f s' %
          (time.monotonic() - start))
    proxy.close()
    net.stop_all()


run(main)
