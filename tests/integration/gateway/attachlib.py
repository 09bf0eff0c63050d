"""What the attachment transfer tests share (SPEC 17.13): sealing a message with attachments
into a stopped gateway's outbox (tests/tools/attach_seal, segments of SEG bytes), the files'
paths and sizes, waiting for delivery, and the segments ES logged as sent."""
import hashlib
import http.client
import json
import os
import re
import secrets
import ssl
import subprocess

from gwnet import check, free_port, wait_until, DELIVERED

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


class Api:
    """The local API of a gateway with a token per role (as test_attach_api.py), its
    attachments in segments of SEG. call() raises on a connection error."""
    def __init__(self, gw):
        self.gw, self.port, self.tokens, lines = gw, free_port(), {}, []
        for role in ('authority', 'agency'):
            tok = secrets.token_urlsafe(32)
            self.tokens[role] = tok
            lines.append('%s %s-%s sha256:%s' % (role, gw.state.lower(), role,
                                                 hashlib.sha256(tok.encode()).hexdigest()))
        gw.overrides['api'] = {'listen': '127.0.0.1:%d' % self.port, 'token': lines,
                               'max_body_bytes': '256 KiB'}
        gw.overrides.setdefault('limits', {}).update(
            {'attachment_segment_bytes': '64 KiB', 'upload_min_free_bytes': '0'})

    def call(self, method, path, role='authority', raw=None, body=None, headers=None):
        ctx = ssl.create_default_context(cafile=self.gw.pki('root.crt'))
        ctx.check_hostname = False
        c = http.client.HTTPSConnection('127.0.0.1', self.port, context=ctx, timeout=60)
        h = dict(headers or {})
        h['Authorization'] = 'Bearer ' + self.tokens[role]
        if body is not None:
            raw = json.dumps(body).encode()
            h['Content-Type'] = 'application/json'
        try:
            c.request(method, path, body=raw, headers=h)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def upload(self, data, chunk=200000):
        code, out = self.call('POST', '/api/v1/uploads')
        check(code == 201, 'upload: %d %r' % (code, out))
        uid, off = json.loads(out)['upload_id'], 0
        while True:
            piece = data[off:off + chunk]
            last = off + len(piece) >= len(data)
            total = str(len(data)) if last else '*'
            rng = ('bytes %d-%d/%s' % (off, off + len(piece) - 1, total) if piece else
                   'bytes */%d' % len(data))
            code, out = self.call('PUT', '/api/v1/uploads/' + uid, raw=piece,
                                  headers={'Content-Range': rng,
                                           'Content-Type': 'application/octet-stream'})
            check(code == 200, 'chunk at %d: %d %r' % (off, code, out[:200]))
            off += len(piece)
            if last:
                return uid
