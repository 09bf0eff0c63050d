"""Review 15 reproduction (not registered in meson: it fails on main by design).

A hostile receiving State (a fake CO, TLS-authenticated) answers every envelope version 3
with 202 and a status listing segment 0 as missing, and every segment PUT with 204. SPEC
17.13 says the sender then sends the envelope again *at once*; nothing bounds how often, so
ES loops without backoff until the message's deadline: an envelope POST, a full
mla_envelope_verify_attached on ES's event loop, a pread and a PUT each round.
Run: python3 tests/review15/repro_204_loop.py build/cli/mlagw build/gateway/mlagwd"""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration', 'gateway'))
from gwnet import *  # noqa: E402,F403

# the fake peer and helpers of test_attach_attack.py, without running that test's main
_src = open(os.path.join(HERE, '..', 'integration', 'gateway', 'test_attach_attack.py')).read()
ta = type(sys)('ta')
ta.__file__ = os.path.join(HERE, '..', 'integration', 'gateway', 'test_attach_attack.py')
exec(compile(_src[:_src.index('def main(')], 'test_attach_attack.py', 'exec'), ta.__dict__)


class LyingCO(ta.FakeCO):
    def __init__(self, net, state, port):
        super().__init__(net, state, port)
        handler = self.srv.RequestHandlerClass
        fake = self

        def do_POST(h):
            h.rfile.read(int(h.headers.get('Content-Length', '0')))
            fake.posts += 1
            mid = h.headers.get('X-MLA-Message-Id', '')
            st = {'message_id': mid, 'state': 'transferring', 'attachments': [
                {'index': 1, 'segments': 1, 'held': 0, 'missing': [[0, 0]],
                 'more_missing': False}]}
            h.answer(202, json.dumps(st).encode(), 'application/json')
        handler.do_POST = do_POST


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3'}
    net.start_all()
    co.stop()
    es.stop()
    mid = ta.attach_seal(net, 'ES', 'CO', [100])
    fake = LyingCO(net, 'CO', co.port)
    try:
        es.start()
        wait_until(lambda: fake.posts >= 1, 30, msg='the envelope at the fake CO')
        time.sleep(6)
        posts, puts = fake.posts, fake.puts
    finally:
        fake.close()
    es.stop()
    print('in 6 s: %d envelope POSTs, %d segment PUTs' % (posts, puts))
    check(posts <= 12, 'a receiver answering 204 without progress got the envelope %d times '
          'in 6 s (no backoff)' % posts)
    print('ok')


run(main)
