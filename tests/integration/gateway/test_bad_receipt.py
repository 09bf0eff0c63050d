"""A receipt whose signed body was altered never counts: a fake CO answering with a doctored
receipt leaves the message undelivered, raises a receipt-invalid alert and is retried; the
real CO on the same port then gets it delivered, once."""
import base64
import hashlib
import os
import re
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


class FakeCO:
    def __init__(self, net, real_receipt):
        self.posts = []
        self.conns = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                fake.conns.append(self.connection)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', '0')))
                if self.path.startswith('/mla/v1/witness/'):  # not a witness: only envelopes
                    self.send_response(404)
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                    return
                mid = self.headers.get('X-MLA-Message-Id', '')
                fake.posts.append(mid)
                # the real receipt, re-aimed at this message: signature no longer covers it
                r = re.sub(rb'<(\w+:)?MessageId>[^<]*<', lambda m: b'<' + (m.group(1) or b'') +
                           b'MessageId>' + mid.encode() + b'<', real_receipt,
                           count=1)
                r = re.sub(rb'(EnvelopeDigest[^>]*>)[^<]*<', lambda m: m.group(1) +
                           base64.b64encode(hashlib.sha256(body).digest()) + b'<', r, count=1)
                self.send_response(200)
                self.send_header('Content-Type', 'application/xml')
                self.send_header('Content-Length', str(len(r)))
                self.end_headers()
                self.wfile.write(r)

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(net.pki('CO', 'tls.crt'), net.pki('CO', 'tls.key'))
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(net.pki('ES', 'root.crt'))
        ThreadingHTTPServer.allow_reuse_address = True
        self.srv = ThreadingHTTPServer(('127.0.0.1', net['CO'].port), Handler)
        self.srv.daemon_threads = True
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.t = threading.Thread(target=self.srv.serve_forever, kwargs={'poll_interval': 0.05},
                                  daemon=True)
        self.t.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
        for c in self.conns:  # keep-alive connections the relay may reuse
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net.start_all()
    es, co = net['ES'], net['CO']
    m0 = es.submit('CO')['message_id']
    wait_until(lambda: es.all_in_state([m0], DELIVERED), 20, msg='first message delivered')
    real = es.outbox([m0])[m0]['receipt']
    check(b'accepted' in real, 'first receipt')
    co.stop()
    fake = FakeCO(net, real)
    m1 = es.submit('CO', doc=b'<Request>second</Request>')['message_id']
    wait_until(lambda: len(fake.posts) >= 3 and es.outbox([m1])[m1]['attempts'] >= 2, 20,
               msg='ES retried against the fake CO')
    row = es.outbox([m1])[m1]
    check(row['state'] != DELIVERED and row['receipt'] is None,
          'delivered on a doctored receipt: %r' % row['state'])
    check('receipt invalid' in (row['last_error'] or ''), 'last_error %r' % row['last_error'])
    al = es.alerts('receipt-invalid')
    check(al and all(a['message_id'] == m1 for a in al), 'alerts %r' % al)
    check(al[0]['detail'] == 'sig-invalid', 'alert detail %r, want sig-invalid' % al[0]['detail'])
    check(set(fake.posts) == {m1}, 'fake CO got %r' % set(fake.posts))
    check('delivered' not in es.history(m1), 'history %r' % es.history(m1))
    fake.close()
    co.start()
    wait_until(lambda: es.all_in_state([m1], DELIVERED), 20, msg='delivered by the real CO')
    row = es.outbox([m1])[m1]
    rc = parse_receipt(row['receipt'])
    check(rc['outcome'] == 'accepted' and rc['message_id'] == m1 and rc['digest'] == row['digest'],
          'receipt %r' % rc)
    counts = co.inbox_counts()
    check(counts == {m0: 1, m1: 1}, 'CO inbox %r' % counts)
    net.stop_all()


run(main)
