"""The transfer of attachments between gateways (SPEC 17.13). ES writes envelope version 3 to
CO ([peer CO] envelope_versions = 1, 2, 3); messages with attachments are put in ES's outbox
by tests/tools/attach_seal (the local submission of attachments is another part), with
segments of 64 KiB:

- through both local APIs: files uploaded at ES, submitted, transferred, downloaded at CO
  byte for byte;
- sizes 0, 1, one segment exactly, a boundary minus and plus one byte and many segments go
  through: delivered on receipt version 3 naming each attachment's size and root, the files
  at CO byte for byte ES's, the message in CO's inbox only once complete;
- segments PUT by hand: a wrong length (400), altered bytes, a proof of another position, a
  segment of another attachment (422), an unknown message or index (404) are refused and
  nothing is written (the status still misses them); the right ones complete the message
  (200 and the receipt); the envelope again and a segment again get the same receipt; another
  State (MX) putting a segment of ES's message gets 404, like an unknown message;
- a status of more than 256 ranges: the first 256 named, more_missing true; the sender
  sends exactly the missing segments, asking again past them;
- CO killed (SIGKILL) mid-transfer, then ES killed mid-transfer: each resumes from what CO
  holds, the segments sent again at most those in flight;
- one peer's share at CO ([limits] transfer_peer_max, transfer_peer_bytes): a transfer
  beyond it waits (503, retried) until an earlier one completes; one larger than the share
  fails at its deadline;
- the receiver's timeout: a transfer ES left unfinished is given up at CO when another
  begins (files, rows, a line and an alert), and ES, back, starts it again from zero;
- a reservation CO cannot make ([limits] transfer_reserve_margin beyond the free space):
  503 insufficient storage, retried until the message's deadline, then failed."""
import base64
import hashlib
import http.client
import json
import random
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from attachlib import *  # noqa: E402,F403
from fakeclock import FakeClock  # noqa: E402


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
    # CO's received entry (audit entry version 7) lists what the receipt names
    rec = [e for e in co.audit() if e['event'] == 'received' and e.get('message') == mid]
    check(len(rec) == 1 and rec[0].get('attachments', '').split(',') ==
          ['%d:%d:%s' % (i, s, r.decode()) for i, s, r in atts],
          'received entry %r, receipt %r' % (rec, atts))
    same_files(es, co, mid, sizes)
    check('transferring' in es.history(mid), 'history %r' % es.history(mid))
    check(not es.alerts() and not co.alerts(), 'alerts %r %r' % (es.alerts(), co.alerts()))
    return mid


def put(net, frm, to, mid, idx, k, body, proof=b'', content_type='application/octet-stream'):
    """One segment PUT over mutual TLS: (status, body)."""
    import http.client
    c = http.client.HTTPSConnection('127.0.0.1', net[to].port, timeout=20,
                                    context=net.client_ctx(frm, to))
    try:
        h = {'Content-Type': content_type}
        if proof:
            h['X-MLA-Proof'] = base64.b64encode(proof).decode()
        c.request('PUT', '/mla/v1/envelopes/%s/attachments/%d/segments/%d' % (mid, idx, k),
                  body=body, headers=h)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def status_of(net, env):
    s, body = net.post('ES', 'CO', env)
    check(s == 202, 'envelope again: HTTP %d %r' % (s, body[:200]))
    return json.loads(body)


def check_by_hand(net, es, co):
    """Segments PUT by hand: refusals write nothing; the right ones complete the message."""
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [100, SEG + 10])
    other = attach_seal(net, 'ES', 'CO', [100])
    env = es.outbox_envelope(mid)
    d = att_dir(es, mid)
    a1, a2 = read(os.path.join(d, '1.ct')), read(os.path.join(d, '2.ct'))
    leaves = read(os.path.join(d, '2.tree'))[:64]  # level 0: the two leaf hashes
    s0, s1 = a2[:SEG + 16], a2[SEG + 16:]
    st = status_of(net, env)
    check(st['state'] == 'transferring' and st['message_id'] == mid and
          [a['missing'] for a in st['attachments']] == [[[0, 0]], [[0, 1]]],
          'first status %r' % st)
    # refused, each for its reason, nothing written
    s, b = put(net, 'ES', 'CO', mid, 1, 0, a1[:-1])
    check(s == 400 and b'is 115 bytes' in b, 'wrong length: %d %r' % (s, b))
    s, b = put(net, 'ES', 'CO', mid, 1, 0, bytes([a1[0] ^ 1]) + a1[1:])
    check(s == 422 and b'attachment 1: segment 0 is not in the signed Merkle root' in b,
          'altered: %d %r' % (s, b))
    s, b = put(net, 'ES', 'CO', mid, 2, 0, s0, proof=leaves[:32])
    check(s == 422 and b'segment 0 is not in the signed Merkle root' in b,
          'proof of another position: %d %r' % (s, b))
    s, b = put(net, 'ES', 'CO', mid, 2, 1, a1[:26])
    check(s == 422 and b'attachment 2: segment 1' in b, 'another attachment: %d %r' % (s, b))
    other_ct = read(os.path.join(att_dir(es, other), '1.ct'))
    s, b = put(net, 'ES', 'CO', mid, 1, 0, other_ct)
    check(s == 422, 'a segment of another message: %d %r' % (s, b))
    s, b = put(net, 'ES', 'CO', mid, 3, 0, a1)
    check(s == 404, 'attachment 3: %d %r' % (s, b))
    s, b = put(net, 'ES', 'CO', mid, 2, 2, s1, proof=leaves[:32])
    check(s == 404, 'segment 2 of 2: %d %r' % (s, b))
    s, b = put(net, 'ES', 'CO', other, 1, 0, other_ct)
    check(s == 404, 'a message not sent: %d %r' % (s, b))
    s, b = put(net, 'MX', 'CO', mid, 1, 0, a1)
    check(s == 404 and mid.encode() not in b, "another State's PUT: %d %r" % (s, b))
    s, b = put(net, 'ES', 'CO', mid, 1, 0, a1, content_type='application/xml')
    check(s == 415, 'content type: %d' % s)
    st = status_of(net, env)
    check([a['held'] for a in st['attachments']] == [0, 0], 'written after refusals: %r' % st)
    # the right ones: 204, 204 again (held), then 200 with the receipt
    check(put(net, 'ES', 'CO', mid, 1, 0, a1)[0] == 204, 'segment 1/0')
    check(put(net, 'ES', 'CO', mid, 1, 0, a1)[0] == 204, 'segment 1/0 again')
    check(put(net, 'ES', 'CO', mid, 2, 1, s1, proof=leaves[:32])[0] == 204, 'segment 2/1')
    st = status_of(net, env)
    check([a['missing'] for a in st['attachments']] == [[], [[0, 0]]], 'status %r' % st)
    check(mid not in co.inbox(), 'in the inbox before it is complete')
    s, rec = put(net, 'ES', 'CO', mid, 2, 0, s0, proof=leaves[32:64])
    check(s == 200 and b'urn:mlagw:receipt:3' in rec, 'completing segment: %d %r' % (s, rec))
    r = parse_receipt(rec)
    check(r['outcome'] == 'accepted' and r['digest'] == sha256(env), 'receipt %r' % r)
    # exactly once: the envelope again and a segment again answer the same receipt
    s, again = net.post('ES', 'CO', env)
    check(s == 200 and again == rec, 'envelope after completion: %d' % s)
    s, again = put(net, 'ES', 'CO', mid, 1, 0, a1)
    check(s == 200 and again == rec, 'segment after completion: %d' % s)
    check(co.inbox_counts().get(mid) == 1, 'inbox %r' % co.inbox_counts().get(mid))
    # ES sends it too: the same receipt, delivered
    es.start()
    delivered(es, mid)
    check(es.outbox([mid])[mid]['receipt'] == rec, 'ES stored another receipt')
    delivered(es, other)
    same_files(es, co, mid, [100, SEG + 10])


def leaf_hash(seg):
    return hashlib.sha256(b'\x00' + seg).digest()


def inclusion_proof(leaves, k):
    """RFC 6962 PATH(k, D[0:n]) over leaf hashes, bottom up (SPEC 17.7), concatenated."""
    memo = {}

    def mth(a, b):
        if (a, b) not in memo:
            if b - a == 1:
                memo[(a, b)] = leaves[a]
            else:
                m = 1 << ((b - a - 1).bit_length() - 1)
                memo[(a, b)] = hashlib.sha256(b'\x01' + mth(a, a + m) + mth(a + m, b)).digest()
        return memo[(a, b)]

    def path(k, a, b):
        if b - a == 1:
            return b''
        m = 1 << ((b - a - 1).bit_length() - 1)
        if k < a + m:
            return path(k, a, a + m) + mth(a + m, b)
        return path(k, a + m, b) + mth(a, a + m)

    return path(k, 0, len(leaves))


def check_status_truncated(net, es, co, total=513):
    """CO holds every other segment (PUT by hand): 257 gaps, of which the status names the
    first 256 (more_missing true, SPEC 17.13); ES, started, sends exactly the segments
    missing, asking again once past the first 256 ranges, and the message is delivered."""
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [total * SEG])
    env = es.outbox_envelope(mid)
    ct = read(os.path.join(att_dir(es, mid), '1.ct'))
    segs = [ct[k * (SEG + 16):(k + 1) * (SEG + 16)] for k in range(total)]
    leaves = [leaf_hash(x) for x in segs]
    status_of(net, env)  # accepted for transfer: every segment missing
    c = http.client.HTTPSConnection('127.0.0.1', co.port, timeout=20,
                                    context=net.client_ctx('ES', 'CO'))
    try:  # one connection for them all (kept alive), as a sender's
        for k in range(1, total, 2):
            c.request('PUT', '/mla/v1/envelopes/%s/attachments/1/segments/%d' % (mid, k),
                      body=segs[k], headers={
                          'Content-Type': 'application/octet-stream',
                          'X-MLA-Proof': base64.b64encode(inclusion_proof(leaves, k)).decode()})
            r = c.getresponse()
            body = r.read()
            check(r.status == 204, 'segment %d by hand: %d %r' % (k, r.status, body[:200]))
    finally:
        c.close()
    a = status_of(net, env)['attachments'][0]
    check(a['held'] == total // 2 and len(a['missing']) == 256 and a['more_missing'] is True and
          a['missing'][0] == [0, 0] and a['missing'][255] == [510, 510],
          'status of 257 gaps: held %r, %d ranges, more %r' % (a['held'], len(a['missing']),
                                                              a['more_missing']))
    es.start()
    delivered(es, mid, 90)
    rounds = sent_counts(es, mid)
    check(sum(n for n, _ in rounds) == total - total // 2 and rounds[0][1] == total // 2,
          'segments sent %r, want the %d missing' % (rounds, total - total // 2))
    same_files(es, co, mid, [total * SEG])


def resent(gw, mid, total):
    rounds = sent_counts(gw, mid)
    return sum(a for a, _ in rounds) - total, rounds


def check_kill(net, es, co, victim, total=160):
    """victim killed while ES sends a message of total segments (capped at 2 MiB/s): after
    its restart the transfer resumes from what CO holds, the segments sent again at most
    those in flight at the kill."""
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [total * SEG])
    es.start()
    wait_until(lambda: 'transferring msg=%s' % mid in es.log_text(), 20, msg='transferring')
    time.sleep(1.5)
    if victim is co:
        # the message's status shows the progress while its segments go out
        st = es.status(mid)
        p = st.get('progress')
        check(st['state'] == 'sending' and p is not None and
              p['segments_total'] == total and p['bytes_total'] == total * (SEG + 16) and
              0 < p['segments_done'] < total and 0 < p['bytes_done'] < p['bytes_total'],
              'status while transferring %r' % st)
        check('transferring' in [h['state'] for h in st['history']], 'history %r' % st)
    victim.kill()
    time.sleep(0.5)
    victim.start()
    delivered(es, mid, 90)
    extra, rounds = resent(es, mid, total)
    check(rounds and rounds[-1][1] > 0, 'resumed from zero: rounds %r' % (rounds,))
    if victim is co:
        # every round of ES is logged: the segments sent again are those in flight at the kill
        check(len(rounds) >= 2 and 0 <= extra <= IN_FLIGHT,
              'segments sent again: %d (rounds %r)' % (extra, rounds))
    else:
        # ES's round before its kill is not logged: after it, exactly what CO missed
        check(rounds[-1][0] == total - rounds[-1][1], 'after the restart: rounds %r' % (rounds,))
    same_files(es, co, mid, [total * SEG])
    check(co.inbox_counts().get(mid) == 1, 'inbox %r' % co.inbox_counts().get(mid))


def check_peer_share(net, es, co):
    """What one peer may hold reserved at CO ([limits] transfer_peer_max 1, transfer_peer_bytes
    2 MiB): a second message waits (503, retried) until the first is complete, then goes
    through; one larger than the peer's share is refused until its deadline."""
    co.stop()
    co.overrides.setdefault('limits', {}).update({'transfer_peer_max': '1',
                                                  'transfer_peer_bytes': '2 MiB'})
    co.write_config()
    co.start()
    es.stop()
    first = attach_seal(net, 'ES', 'CO', [20 * SEG])
    second = attach_seal(net, 'ES', 'CO', [20 * SEG])
    es.start()
    delivered(es, first, 60)
    delivered(es, second, 60)
    same_files(es, co, second, [20 * SEG])
    log = co.log_text()
    waited = [m for m in (first, second) if 'transfer-refused msg=%s' % m in log]
    check(len(waited) == 1, 'one of the two waits for the other: %r' % waited)
    other = first if waited[0] == second else second
    refusal = log.index('transfer-refused msg=%s' % waited[0])
    check('transfer_peer_max' in log[refusal:refusal + 400], 'refusal %r' % log[refusal:][:400])
    check(log.index('received msg=%s' % other) < log.rindex('transferring msg=%s' % waited[0]),
          'the second transfer began before the first was complete')
    es.stop()
    big = attach_seal(net, 'ES', 'CO', [40 * SEG], deadline_s=4)
    es.start()
    wait_until(lambda: es.outbox([big], blobs=False).get(big, {}).get('state') == FAILED, 30,
               msg='beyond the share: failed at its deadline')
    log = co.log_text()
    refusal = log.index('transfer-refused msg=%s' % big)
    check('transfer_peer_bytes' in log[refusal:refusal + 400], 'refusal %r' % log[refusal:][:400])
    check(not os.path.exists(att_dir(co, big)) and big not in co.inbox(), 'kept at CO')
    del co.overrides['limits']['transfer_peer_max'], co.overrides['limits']['transfer_peer_bytes']


def check_peer_bandwidth(net, es, co):
    """[peer CO] max_bandwidth (2 MiB/s here) caps the peer, not each message: three
    messages sent at once take at least their bytes at that rate (with 0.75 of slack for the
    first requests' rates; a cap per message, as before, took a third of it)."""
    es.stop()
    sizes = [64 * SEG]
    mids = [attach_seal(net, 'ES', 'CO', sizes) for _ in range(3)]
    t0 = time.monotonic()
    es.start()
    for mid in mids:
        delivered(es, mid, timeout=120)
    took = time.monotonic() - t0
    floor = 3 * ct_size(sizes[0]) / (2 << 20)
    print('three messages of %d bytes at 2 MiB/s for the peer: %.1f s (at least %.1f)' % (
        ct_size(sizes[0]), took, floor))
    check(took >= 0.75 * floor, 'the peer cap let %.1f s through for %.1f s of bytes' % (
        took, floor))
    for mid in mids:
        same_files(es, co, mid, sizes)


def check_no_room(net, es, co):
    """CO cannot reserve the space: 503 insufficient storage, retried until the deadline,
    then failed; nothing left at CO."""
    co.stop()
    co.overrides.setdefault('limits', {})['transfer_reserve_margin'] = '1024 GiB'
    co.write_config()
    co.start()
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [3 * SEG], deadline_s=4)
    es.start()
    wait_until(lambda: es.outbox([mid], blobs=False).get(mid, {}).get('state') == FAILED, 30,
               msg='failed at its deadline')
    row = es.outbox([mid], blobs=False)[mid]
    check('insufficient storage' in row['last_error'] and 'deadline' in row['last_error'] or
          'insufficient storage' in es.log_text(), 'last error %r' % row['last_error'])
    check('transfer-refused msg=%s' % mid in co.log_text(), 'no refusal logged at CO')
    check(not os.path.exists(att_dir(co, mid)), 'files left at CO')
    check(mid not in co.inbox(), 'in the inbox')


def check_sweep(net, es, co, mx):
    """The receiver's timeout ([limits] transfer_timeout 1 min, CO's clock then 2 min ahead):
    ES killed mid-transfer, its transfer is given up when MX's begins (files gone, rows
    dropped, a transfer-abandoned line and alert); ES, back, starts again from zero and the
    message is delivered whole."""
    clock = FakeClock(net.dir, 'CO-sweep')
    co.stop()
    co.overrides.setdefault('limits', {})['transfer_timeout'] = '1m'
    co.write_config()
    co.start(env=clock.env())
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [160 * SEG])
    es.start()
    wait_until(lambda: 'segments-sent msg=%s' % mid in es.log_text() or
               os.path.exists(att_dir(co, mid)), 20, msg='transferring')
    time.sleep(1)
    es.kill()
    check(os.path.exists(os.path.join(att_dir(co, mid), '1.ct.part')), 'no part file at CO')
    clock.set(120)
    mx.stop()
    other = attach_seal(net, 'MX', 'CO', [SEG])
    mx.start()
    delivered(mx, other, 60)
    log = co.log_text()
    check('transfer-abandoned msg=%s' % mid in log, 'no transfer-abandoned line at CO')
    check([a for a in co.alerts('transfer-abandoned') if a['message_id'] == mid],
          'no transfer-abandoned alert at CO: %r' % co.alerts())
    check(not os.path.exists(att_dir(co, mid)), 'files of the abandoned transfer left at CO')
    es.start()
    delivered(es, mid, 90)
    rounds = sent_counts(es, mid)
    check(rounds and rounds[-1][1] == 0, 'the new transfer did not start from zero: %r' %
          (rounds,))
    same_files(es, co, mid, [160 * SEG])
    check(co.inbox_counts().get(mid) == 1, 'inbox %r' % co.inbox_counts().get(mid))
    co.stop()
    clock.set(0)
    del co.overrides['limits']['transfer_timeout']
    co.start()


def check_end_to_end(net, es_api, co_api):
    """Through both local APIs: uploaded at ES, submitted, transferred, downloaded at CO
    byte for byte (the other parts of SPEC 17.13 and 17.14 together)."""
    es, co = net['ES'], net['CO']
    rnd = random.Random(1713)
    files = [b'', bytes(rnd.getrandbits(8) for _ in range(SEG + 1)),
             bytes(rnd.getrandbits(8) for _ in range(5 * SEG + 7))]
    atts = [{'upload': es_api.upload(f), 'name': 'evidence-%d.bin' % i,
             'type': 'application/octet-stream'} for i, f in enumerate(files, 1)]
    body = {'to': 'CO', 'kind': 'mla', 'new_case': True, 'content_type': 'application/xml',
            'document_b64': base64.b64encode(b'<Request>evidence</Request>').decode(),
            'attachments': atts}
    code, out = es_api.call('POST', '/api/v1/messages', body=body)
    check(code == 202, 'submit: %d %r' % (code, out))
    mid = json.loads(out)['message_id']
    delivered(es, mid)
    check(b'urn:mlagw:receipt:3' in es.outbox([mid])[mid]['receipt'], 'receipt version 3')
    for n, data in enumerate(files, 1):
        code, got = co_api.call('GET', '/api/v1/inbox/%s/attachments/%d?reason=review' % (mid, n),
                                'agency')
        check(code == 200 and got == data, 'attachment %d at CO: HTTP %d, %d of %d bytes' % (
            n, code, len(got), len(data)))


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'MX'])
    es, co = net['ES'], net['CO']
    net['MX'].overrides['peer CO'] = {'envelope_versions': '1, 2, 3'}
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3',
                               'max_segments_in_flight': str(IN_FLIGHT)}
    es_api, co_api = Api(es), Api(co)
    net.start_all()
    check_end_to_end(net, es_api, co_api)
    check_sizes(net, es, co)
    check_by_hand(net, es, co)
    check_status_truncated(net, es, co)
    es.stop()
    es.overrides['peer CO']['max_bandwidth'] = '2 MiB'
    es.write_config()
    es.start()
    check_kill(net, es, co, co)
    check_kill(net, es, co, es)
    check_peer_bandwidth(net, es, co)
    check_peer_share(net, es, co)
    check_sweep(net, es, co, net['MX'])
    check_no_room(net, es, co)
    net.stop_all()
    print('ok')


run(main)
