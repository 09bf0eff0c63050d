"""The disk reserved for a transfer (SPEC 17.13, Disk) is allocated off the event loop. CO runs
with tests/tools/fallocate_gate preloaded, which holds posix_fallocate while a gate file
exists, so the test holds a reservation under way:

- meanwhile CO answers its local API (health) and another peer request at once: before the
  allocation moved to a worker, the loop itself waited in posix_fallocate and nothing was
  answered until the gate opened;
- the same envelope sent again while its reservation is under way is refused with 503
  (the sender retries), and no second reservation shares its folder;
- once the gate opens, the first request gets 202 with every segment missing, and ES
  (started afterwards) delivers the message: CO's files are ES's byte for byte;
- a reservation whose allocation fails (the preloaded posix_fallocate answers ENOSPC while
  PATH.enospc exists; the free-space check before it is test_attach_transfer's) is 503
  "insufficient storage" naming the attachment, and leaves no folder behind; ES's retry
  later succeeds;
- CO killed (SIGKILL) while a reservation waits leaves the message's folder, holding only
  its part file: CO removes it at its next start (a line each), while a stray holding a
  complete file is only reported; and a leftover part file found by the next envelope of
  that id (planted, longer than its list) is emptied before it is allocated, so the
  attachment completes at the signed size."""
import json
import os
import re
import shutil
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from attachlib import *  # noqa: E402,F403

SIZES = [3 * SEG + 7, SEG]


def gate_lib(net):
    tools = os.path.dirname(os.environ.get('MLAGW_STORE_FAULT') or net.store_fault)
    lib = os.path.join(tools, 'libfallocate_gate.so')
    check(os.path.exists(lib), 'no %s' % lib)
    return lib


def gated_env(net, gate):
    asan = os.environ.get('ASAN_OPTIONS', '')
    return {'LD_PRELOAD': gate_lib(net), 'MLAGW_TEST_FALLOCATE_GATE': gate,
            # the sanitizer's runtime wants to be first; the gate wraps one libc call only
            'ASAN_OPTIONS': (asan + ':' if asan else '') + 'verify_asan_link_order=0'}


def post_in_thread(net, env, out):
    def run():
        try:
            out.append(net.post('ES', 'CO', env, timeout=90))
        except OSError as e:  # the connection of a receiver killed on purpose
            out.append((None, repr(e).encode()))
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'MX'])
    es, co = net['ES'], net['CO']
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3'}
    es.overrides['retry'] = {'initial': '100ms', 'max': '1s'}
    # a peer's lane holds all workers but one: with 2, ES's second envelope would wait behind
    # its own reservation instead of reaching the check this test is about
    co.overrides['gateway'] = {'workers': '4'}
    net.start_all()
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', SIZES)
    envelope = es.outbox_envelope(mid)

    gate = os.path.join(os.path.dirname(co.store), 'fallocate.gate')
    with open(gate, 'w') as f:
        f.write('held\n')
    co.stop()
    co.start(env=gated_env(net, gate))

    first = []
    t = post_in_thread(net, envelope, first)
    wait_until(lambda: os.path.exists(gate + '.entered'), 30,
               msg='the reservation reached posix_fallocate')

    # the loop answers while the allocation waits
    t0 = time.monotonic()
    co.health()
    code, body = net.post('MX', 'CO', b'<not-an-envelope/>', timeout=20)
    took = time.monotonic() - t0
    check(code in (400, 403, 422) or 400 <= code < 500, 'MX answered %d %r' % (code, body[:200]))
    check(first == [] and t.is_alive(), 'the gate still holds the first request')
    print('answered in %.2f s while a reservation waited' % took)

    # the same envelope again: refused while its reservation is under way
    code, body = net.post('ES', 'CO', envelope, timeout=20)
    check(code == 503 and b'being reserved' in body, 'second copy: %d %r' % (code, body[:300]))
    check('transfer-refused msg=%s' % mid in co.log_text(), 'log line of the refusal')

    os.unlink(gate)
    t.join(60)
    check(first and first[0][0] == 202, 'first request: %r' % (first[:1],))
    status = json.loads(first[0][1])
    check(status['state'] == 'transferring' and
          [a['held'] for a in status['attachments']] == [0, 0], 'status %r' % status)

    # a second message whose allocation fails: refused, nothing left, then delivered
    with open(gate + '.enospc', 'w') as f:
        f.write('full\n')
    mid2 = attach_seal(net, 'ES', 'CO', [SEG])
    code, body = net.post('ES', 'CO', es.outbox_envelope(mid2), timeout=30)
    check(code == 503 and b'insufficient storage: cannot reserve' in body and
          b'attachment 1' in body, 'ENOSPC: %d %r' % (code, body[:300]))
    check(not os.path.exists(att_dir(co, mid2)), 'a failed reservation left its folder')
    os.unlink(gate + '.enospc')

    es.start()
    delivered(es, mid)
    delivered(es, mid2)
    same_files(es, co, mid, SIZES)
    same_files(es, co, mid2, [SEG])

    # CO killed while a reservation waits: its folder stays, its part file (made larger here,
    # as another envelope of the same id could have listed more) is emptied by the next one
    es.stop()
    mid3 = attach_seal(net, 'ES', 'CO', [2 * SEG])
    os.unlink(gate + '.entered')
    with open(gate, 'w') as f:
        f.write('held\n')
    third = []
    t = post_in_thread(net, es.outbox_envelope(mid3), third)
    wait_until(lambda: os.path.exists(gate + '.entered'), 30, msg='the third reservation')
    co.kill()
    t.join(30)
    part = os.path.join(att_dir(co, mid3), '1.ct.part')
    check(os.path.exists(part), 'the killed reservation left %s' % part)
    # a stray that is not a reservation's (a complete file): reported, never removed
    other = str(uuid.uuid4())
    os.makedirs(att_dir(co, other))
    with open(os.path.join(att_dir(co, other), '1.ct'), 'wb') as f:
        f.write(b'\x00' * 32)
    os.unlink(gate)
    co.start()
    check(not os.path.exists(att_dir(co, mid3)), 'the reservation left by the kill removed')
    check(re.search(r'attachments-stray-removed msg=%s files=1 bytes=0 ' % mid3,
                    co.log_text()), 'its log line')
    check(os.path.exists(os.path.join(att_dir(co, other), '1.ct')), 'another stray kept')
    wait_until(lambda: 'attachments-strays msg=- count=1 ' in co.log_text(), 30,
               msg='the other stray reported')
    shutil.rmtree(att_dir(co, other))
    # a leftover the start did not remove (planted while CO runs): the retry empties it
    os.makedirs(att_dir(co, mid3))
    with open(part, 'wb') as f:
        f.write(b'\x5a' * (7 * SEG))
    es.start()
    delivered(es, mid3)
    same_files(es, co, mid3, [2 * SEG])
    net.stop_all()
    print('ok')


run(main)
