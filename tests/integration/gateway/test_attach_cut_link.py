"""Attachments over a link that keeps breaking (issue 15, Tests: "a cut link through a proxy
that drops connections"): ES sends CO a message of 40 segments of 64 KiB through a TCP proxy
that cuts each of its first CUTS connections after a random number of bytes from ES (50 to
300 KiB: in the middle of a segment's body, of its headers or of the envelope). The message
is delivered on its receipt version 3, CO's file is byte for byte ES's, it is in CO's inbox
once, and the segments ES sent again are at most those in flight at each cut: the transfer
resumes from what CO holds, never from zero (each round of segments starts from at least
what the previous one started from)."""
import os
import random
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from attachlib import *  # noqa: E402,F403

CUTS = 6
TOTAL = 40  # segments
SEED = int(os.environ.get('MLAGW_CUT_SEED') or random.SystemRandom().randrange(1 << 32))


class Cutter:
    """A TCP proxy on loopback; connection i < CUTS is cut (both sides closed at once) after
    budget[i] bytes from the client, the later ones are forwarded untouched."""

    def __init__(self, target_port, rnd):
        self.target = ('127.0.0.1', target_port)
        self.budget = [rnd.randrange(50 << 10, 300 << 10) for _ in range(CUTS)]
        self.conns = 0
        self.cut = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.target)
            except OSError:
                c.close()
                continue
            with self.lock:
                i = self.conns
                self.conns += 1
            left = [self.budget[i] if i < len(self.budget) else None]
            threading.Thread(target=self.pump, args=(c, u, left, True), daemon=True).start()
            threading.Thread(target=self.pump, args=(u, c, left, False), daemon=True).start()

    def pump(self, a, b, left, upstream):
        try:
            while True:
                d = a.recv(16384)
                if not d:
                    break
                if upstream and left[0] is not None:
                    if len(d) >= left[0]:
                        b.sendall(d[:left[0]])
                        with self.lock:
                            self.cut += 1
                        # RST both ways: the sender sees a broken request, not an answer
                        for s in (a, b):
                            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                         b'\x01\x00\x00\x00\x00\x00\x00\x00')
                            s.close()
                        return
                    left[0] -= len(d)
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.sock.close()


def main(mlagw, mlagwd):
    print('seed %d (MLAGW_CUT_SEED replays it)' % SEED)
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    proxy = Cutter(co.port, random.Random(SEED))
    net.url_override['CO'] = 'https://127.0.0.1:%d/mla/v1/envelopes' % proxy.port
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3',
                               'max_segments_in_flight': str(IN_FLIGHT)}
    es.overrides['retry'] = {'initial': '100ms', 'max': '1s'}
    net.start_all()
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [TOTAL * SEG])
    es.start()
    delivered(es, mid, 120)
    row = es.outbox([mid])[mid]
    check(b'urn:mlagw:receipt:3' in row['receipt'], 'receipt version 3')
    same_files(es, co, mid, [TOTAL * SEG])
    check(co.inbox_counts().get(mid) == 1, 'inbox %r' % co.inbox_counts().get(mid))
    rounds = sent_counts(es, mid)
    sent = sum(a for a, _ in rounds)
    check(proxy.cut >= 3, 'only %d connections were cut (budgets %r): the test proves little'
          % (proxy.cut, proxy.budget))
    check(TOTAL <= sent <= TOTAL + proxy.cut * IN_FLIGHT,
          '%d segments sent for %d, %d cuts of at most %d in flight (rounds %r)' % (
              sent, TOTAL, proxy.cut, IN_FLIGHT, rounds))
    # each round starts from what CO holds: never less than an earlier round started from
    # (a round whose every request was cut may hold nothing new, so 0 can repeat at first;
    # libcurl itself re-sends a request once when a reused connection dies before it is
    # answered, so a cut need not end a round)
    held = [b for _, b in rounds]
    check(rounds and held == sorted(held) and (len(rounds) == 1 or held[-1] > 0),
          'a round after a cut started from less than CO held: %r' % (rounds,))
    print('delivered through %d cut connections: %d segments sent for %d (rounds %r)' % (
        proxy.cut, sent, TOTAL, rounds))
    proxy.close()
    net.stop_all()


run(main)
