"""What the attachment transfer tests share (SPEC 17.13): sealing a message with attachments
into a stopped gateway's outbox (tests/tools/attach_seal, segments of SEG bytes), the files'
paths and sizes, waiting for delivery, and the segments ES logged as sent."""
import hashlib
import os
import re
import subprocess

from gwnet import check, wait_until, DELIVERED

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
    """[(index, size, root hex bytes)] a receipt version 3 names."""
    return [(int(i), int(s), r) for i, s, r in re.findall(
        rb'<mlr:Attachment index="(\d+)" size="(\d+)" root="([0-9a-f]{64})"', xml)]


def merkle_root(ct):
    """The RFC 6962 root over a ciphertext's segments of SEG + 16 bytes (SPEC 17.7), in hex:
    pairing bottom up, an odd last node carried up as it is, gives the same tree."""
    step = SEG + 16
    level = [hashlib.sha256(b'\x00' + ct[k:k + step]).digest()
             for k in range(0, max(len(ct), 1), step)]
    while len(level) > 1:
        level = [hashlib.sha256(b'\x01' + level[i] + level[i + 1]).digest()
                 if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
    return level[0].hex()


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
