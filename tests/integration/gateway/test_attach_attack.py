"""Attacks on the transfer of attachments (SPEC 17.13) by a peer that is not the sender.

- A message ES sent CO with attachments, complete at CO: another State (MX) PUTting a segment
  of it gets 404 like an unknown message, never ES's receipt (SPEC 17.13: "a message id not
  being received from the TLS client's State (another State's message gets the same answer,
  telling nothing)"). ES itself still gets the receipt again (exactly once).
- A peer (a fake CO) that answers the envelope with a status listing no missing segment, over
  and over: ES does not ask again at once in a loop (an envelope POST, a verification and two
  log lines each time, without end) but retries with its backoff.
- A peer whose status lists a segment missing and that answers its PUT 204, never a receipt:
  ES retries with its backoff too, not at once round after round.
- CO sends ES an envelope version 3 whose message id is that of a message ES sent CO with
  attachments: the ids of received and sent messages share the attachments folder, so ES
  refuses it as a duplicate id (409) and its own sealed files stay as they were (not
  overwritten by CO's segments, not removed when CO's transfer is given up)."""
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

SEG = 65536


def attach_seal(net, frm, to, sizes, deadline_s=600, message_id=None):
    """A message with attachments of these sizes into frm's outbox (frm stopped)."""
    env = dict(os.environ, MLAGW_ATTACH_SEAL_ID=message_id) if message_id else None
    tool = os.environ.get('MLAGW_ATTACH_SEAL') or os.path.join(
        os.path.dirname(net.store_fault), 'attach_seal')
    p = subprocess.run([tool, net[frm].store, frm, to, net.pki(frm, 'sign.crt'),
                        net.pki(frm, 'sign.key'), net.pki(to, 'encrypt.crt'), str(SEG),
                        str(deadline_s)] + [str(s) for s in sizes], capture_output=True,
                       timeout=120, env=env)
    check(p.returncode == 0, 'attach_seal: %s' % p.stderr.decode(errors='replace'))
    return p.stdout.decode().strip()


def att_dir(gw, mid):
    return os.path.join(os.path.dirname(gw.store), 'attachments', mid)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def delivered(gw, mid, timeout=60):
    wait_until(lambda: gw.outbox([mid], blobs=False).get(mid, {}).get('state') == DELIVERED,
               timeout, msg='%s delivered' % mid)


def put(net, frm, to, mid, idx, k, body):
    """One segment PUT over mutual TLS (no proof: a one-segment attachment): (status, body)."""
    c = http.client.HTTPSConnection('127.0.0.1', net[to].port, timeout=20,
                                    context=net.client_ctx(frm, to))
    try:
        c.request('PUT', '/mla/v1/envelopes/%s/attachments/%d/segments/%d' % (mid, idx, k),
                  body=body, headers={'Content-Type': 'application/octet-stream'})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def check_other_state_after_completion(net, es, co):
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [100])
    es.start()
    delivered(es, mid)
    rec = es.outbox([mid])[mid]['receipt']
    a1 = read(os.path.join(att_dir(es, mid), '1.ct'))
    s, b = put(net, 'MX', 'CO', mid, 1, 0, a1)
    check(s == 404 and mid.encode() not in b and b'receipt' not in b,
          "another State's PUT after completion: %d %r" % (s, b[:200]))
    s, b = put(net, 'ES', 'CO', mid, 1, 0, a1)
    check(s == 200 and b == rec, 'the sender again: %d' % s)


class FakeCO:
    """Answers every envelope with 202 and a status that lists the missing ranges given (none
    by default), and every segment with 204."""

    def __init__(self, net, state, port, missing=()):
        self.posts = 0
        self.post_ids = []
        self.puts = 0
        self.conns = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                fake.conns.append(self.connection)

            def answer(self, code, body=b'', ctype='text/plain'):
                self.send_response(code)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                self.rfile.read(int(self.headers.get('Content-Length', '0')))
                fake.puts += 1
                self.answer(204)

            def do_POST(self):
                self.rfile.read(int(self.headers.get('Content-Length', '0')))
                if self.path != '/mla/v1/envelopes':
                    self.answer(404)
                    return
                fake.posts += 1
                mid = self.headers.get('X-MLA-Message-Id', '')
                fake.post_ids.append(mid)
                st = {'message_id': mid, 'state': 'transferring', 'attachments': [
                    {'index': 1, 'segments': 1, 'held': 0, 'missing': list(missing),
                     'more_missing': False}]}
                self.answer(202, json.dumps(st).encode(), 'application/json')

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(net.pki(state, 'tls.crt'), net.pki(state, 'tls.key'))
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(net.pki('ES', 'root.crt'))
        ThreadingHTTPServer.allow_reuse_address = True
        self.srv = ThreadingHTTPServer(('127.0.0.1', port), Handler)
        self.srv.daemon_threads = True
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.t = threading.Thread(target=self.srv.serve_forever, kwargs={'poll_interval': 0.05},
                                  daemon=True)
        self.t.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def check_empty_status_loop(net, es, co):
    co.stop()
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [100])
    fake = FakeCO(net, 'CO', co.port)
    try:
        es.start()
        wait_until(lambda: fake.posts >= 1, 30, msg='the envelope at the fake CO')
        time.sleep(6)
        posts = fake.posts
    finally:
        fake.close()
    es.stop()
    check(fake.puts == 0, 'segments PUT: %d' % fake.puts)
    # the backoff doubles from about 100 ms: some ten; at once in a loop it was 100 and more
    check(posts <= 12, 'an empty status asked again %d times in 6 s (no backoff)' % posts)
    check(es.outbox([mid], blobs=False)[mid]['state'] != DELIVERED, 'delivered')


def check_204_loop(net, es, co):
    """A peer that lists segment 0 missing and answers its PUT 204, never a receipt: ES
    retries with its backoff, not the envelope again at once (138 times in 6 s before)."""
    for g in (co, es):
        if g.running():
            g.stop()
    mid = attach_seal(net, 'ES', 'CO', [100])
    fake = FakeCO(net, 'CO', co.port, missing=[[0, 0]])
    try:
        es.start()
        wait_until(lambda: mid in fake.post_ids, 30, msg='the envelope at the fake CO')
        time.sleep(6)
        posts = fake.post_ids.count(mid)  # not those of the last check's message
    finally:
        fake.close()
    es.stop()
    check(fake.puts >= 1, 'no segment PUT')
    check(posts <= 12, 'answered 204 without a receipt, the envelope came %d times in 6 s '
          '(no backoff)' % posts)
    check(es.outbox([mid], blobs=False)[mid]['state'] != DELIVERED, 'delivered')


def check_id_of_a_sent_message(net, es, co):
    es.start()
    co.start()
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [SEG + 100])
    es.start()
    delivered(es, mid)
    mine = att_dir(es, mid)
    before = {n: read(os.path.join(mine, n)) for n in sorted(os.listdir(mine))}
    co.stop()
    attach_seal(net, 'CO', 'ES', [3 * SEG], message_id=mid)
    co.overrides['peer ES'] = {'envelope_versions': '1, 2, 3'}
    co.write_config()
    co.start()
    wait_until(lambda: co.outbox([mid], blobs=False).get(mid, {}).get('state') in
               (DELIVERED, REJECTED, FAILED), 60, msg="CO's message answered")
    state = co.outbox([mid], blobs=False)[mid]['state']
    check(state == REJECTED, "CO's message with the id of ES's: state %d, not rejected" % state)
    after = {n: read(os.path.join(mine, n)) for n in sorted(os.listdir(mine))} \
        if os.path.isdir(mine) else {}
    check(after == before, "ES's sealed files of %s changed: %r -> %r" % (
        mid, sorted(before), sorted(after)))
    check('duplicate-id-alert' in es.log_text(), 'no duplicate-id alert at ES')


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'MX'])
    es, co = net['ES'], net['CO']
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3'}
    net.start_all()
    check_other_state_after_completion(net, es, co)
    check_empty_status_loop(net, es, co)
    check_204_loop(net, es, co)
    check_id_of_a_sent_message(net, es, co)
    net.stop_all()
    print('ok')


run(main)
