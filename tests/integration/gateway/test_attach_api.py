"""Attachments through the local API (protocol/SPEC.md 17.14, docs/api/README.md Attachments):
uploads in bounded ranged chunks (a wrong offset 409 with what is held, a lost answer and a
crash resumed from what GET reports, over the size cap 413, over the free-disk reserve 507 with
nothing kept); submissions with attachments of 0, 1, a segment exactly, a boundary -1 and +1,
several segments, and compressed, sealed into envelope version 3 with each file and tree
beside the store and the submitted entry (audit version 7) naming every size and root; a peer
that does not read envelope version 3 refused before sealing; then, on the receiving gateway
(its inbox row put there by a test tool until gateways transfer attachments), the document
listing the attachments, each download audited before its first byte and equal to the file,
a Range resume, and a tampered segment cutting the stream without its last chunk."""
import base64
import hashlib
import http.client
import json
import os
import random
import secrets
import shutil
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

SEG = 65536


class Api:
    def __init__(self, gw, port, tokens):
        self.gw, self.port, self.tokens = gw, port, tokens

    def conn(self):
        ctx = ssl.create_default_context(cafile=self.gw.pki('root.crt'))
        ctx.check_hostname = False
        return http.client.HTTPSConnection('127.0.0.1', self.port, context=ctx, timeout=60)

    def call(self, method, path, role='authority', body=None, headers=None, raw=None):
        c = self.conn()
        h = dict(headers or {})
        h['Authorization'] = 'Bearer ' + self.tokens[role][1]
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h['Content-Type'] = 'application/json'
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def json(self, method, path, role='authority', body=None, expect=200, **kw):
        code, _, out = self.call(method, path, role, body, **kw)
        check(code == expect, '%s %s: HTTP %d %r, wanted %d' % (method, path, code, out[:300],
                                                                 expect))
        return json.loads(out) if out.strip() else None


def api_setup(g):
    port, tokens, lines = free_port(), {}, []
    for role in ('authority', 'agency', 'auditor'):
        name = '%s-%s' % (g.state.lower(), role)
        tok = secrets.token_urlsafe(32)
        tokens[role] = (name, tok)
        lines.append('%s %s sha256:%s' % (role, name, hashlib.sha256(tok.encode()).hexdigest()))
    g.overrides['api'] = {'listen': '127.0.0.1:%d' % port, 'token': lines,
                          'max_body_bytes': '256 KiB'}  # chunk_max 256 KiB
    g.overrides['limits'] = {'attachment_segment_bytes': '64 KiB',
                             'max_attachment_bytes': '1 MiB' if g.state == 'ES' else '64 MiB',
                             'upload_min_free_bytes': '0'}
    return Api(g, port, tokens)


def put(api, uid, first, data, total=None, role='authority'):
    last = first + len(data) - 1
    rng = 'bytes %d-%d/%s' % (first, last, '*' if total is None else total)
    if not data:
        rng = 'bytes */%d' % total
    return api.call('PUT', '/api/v1/uploads/' + uid, role, raw=data,
                    headers={'Content-Range': rng, 'Content-Type': 'application/octet-stream'})


def upload(api, data, chunk=200000, role='authority'):
    uid = api.json('POST', '/api/v1/uploads', role, expect=201)['upload_id']
    off = 0
    while True:
        piece = data[off:off + chunk]
        last = off + len(piece) >= len(data)
        code, _, out = put(api, uid, off, piece, len(data) if last else None, role)
        check(code == 200, 'chunk at %d: HTTP %d %r' % (off, code, out[:200]))
        off += len(piece)
        if last:
            return uid


def test_uploads(net, api):
    es = net['ES']
    data = os.urandom(200000)
    uid = api.json('POST', '/api/v1/uploads', expect=201)['upload_id']
    st = api.json('GET', '/api/v1/uploads/' + uid)
    check(st['received'] == 0 and not st['complete'] and st['total'] is None and
          st['chunk_max'] == 256 * 1024, 'new upload %r' % st)
    code, _, out = put(api, uid, 0, b'\0' * (256 * 1024 + 1))
    check(code == 413, 'a chunk above chunk_max: %d %r' % (code, out))
    # another caller does not see it
    code, _, _ = api.call('GET', '/api/v1/uploads/' + uid, role='agency')
    check(code == 404, 'another caller reads the upload: %d' % code)
    code, _, out = put(api, uid, 0, data[:70000])
    check(code == 200 and json.loads(out)['received'] == 70000, 'first chunk %d %r' % (code, out))
    # a chunk sent again (its answer lost) or ahead: 409 with what is held
    for first in (0, 80000):
        code, _, out = put(api, uid, first, data[first:first + 1000])
        j = json.loads(out)
        check(code == 409 and j['code'] == 'offset-mismatch' and j['received'] == 70000,
              'wrong offset %d: %d %r' % (first, code, j))
    # a malformed range names the header
    code, _, out = api.call('PUT', '/api/v1/uploads/' + uid, raw=b'abc',
                            headers={'Content-Range': 'bytes 70000-70009/*'})
    check(code == 400 and json.loads(out)['field'] == 'Content-Range', 'range %d' % code)
    # a crash: every acknowledged byte is held after the restart, the client goes on
    es.kill()
    es.start()
    st = api.json('GET', '/api/v1/uploads/' + uid)
    check(st['received'] == 70000 and not st['complete'], 'after a crash %r' % st)
    code, _, out = put(api, uid, 70000, data[70000:], len(data))
    st = json.loads(out)
    check(code == 200 and st['complete'] and st['total'] == len(data), 'last chunk %r' % st)
    code, _, out = put(api, uid, len(data), b'x', None)
    check(code == 409 and json.loads(out)['code'] == 'upload-complete', 'after complete %d' % code)
    held = os.path.join(os.path.dirname(es.store), 'uploads', uid + '.up')
    with open(held, 'rb') as f:
        check(f.read() == data, 'the upload file holds the bytes sent')
    # over max_attachment_bytes (1 MiB here): 413, nothing kept
    big = api.json('POST', '/api/v1/uploads', expect=201)['upload_id']
    for off in range(0, 1000000, 250000):
        code, _, _ = put(api, big, off, b'\0' * 250000)
        check(code == 200, 'chunk at %d: %d' % (off, code))
    code, _, out = put(api, big, 1000000, b'\0' * 50000)
    check(code == 413, 'over the cap: %d %r' % (code, out))
    check(api.json('GET', '/api/v1/uploads/' + big)['received'] == 1000000, 'nothing kept')
    # DELETE
    code, _, _ = api.call('DELETE', '/api/v1/uploads/' + big)
    check(code == 204, 'delete %d' % code)
    code, _, _ = api.call('GET', '/api/v1/uploads/' + big)
    check(code == 404, 'deleted upload: %d' % code)
    # the free-disk reserve: a chunk that would leave less is refused, nothing kept
    es.stop()
    es.write_config({'limits': {'upload_min_free_bytes': '60000 GiB'}})
    es.start()
    u2 = api.json('POST', '/api/v1/uploads', expect=201)['upload_id']
    code, _, out = put(api, u2, 0, b'abc', 3)
    check(code == 507 and json.loads(out)['code'] == 'insufficient-storage',
          'disk reserve: %d %r' % (code, out))
    check(api.json('GET', '/api/v1/uploads/' + u2)['received'] == 0, 'nothing of it kept')
    es.stop()
    es.write_config({'limits': {'max_attachment_bytes': '64 MiB'}})  # for the large file
    es.start()
    return uid, data


def test_per_caller_cap(net, api):
    """[limits] max_uploads_per_actor: a caller holding that many uploads gets 429
    too-many-uploads until it submits or deletes one; another caller has its own count."""
    es = net['ES']
    es.stop()
    es.write_config({'limits': {'max_uploads_per_actor': '3'}})
    es.start()
    made = []
    for _ in range(4):
        code, _, out = api.call('POST', '/api/v1/uploads')
        if code != 201:
            break
        made.append(json.loads(out)['upload_id'])
    check(code == 429 and json.loads(out)['code'] == 'too-many-uploads' and len(made) <= 3,
          'the fourth upload of one caller: %d %r (made %d)' % (code, out, len(made)))
    check('upload-refused' in es.log_text(), 'the refusal is not logged')
    api.json('POST', '/api/v1/uploads', 'agency', expect=201)
    if made:
        check(api.call('DELETE', '/api/v1/uploads/' + made[0])[0] == 204, 'delete')
        api.json('POST', '/api/v1/uploads', expect=201)
    es.stop()
    es.write_config()
    es.start()


def test_expiry(net, api):
    """Uploads unused for [limits] upload_keep are removed (on the tick, and when another
    upload is created)."""
    es = net['ES']
    u = upload(api, b'evidence')
    es.stop()
    es.write_config({'limits': {'upload_min_free_bytes': '60000 GiB'}})
    es.start()
    # the disk reserve at submission: refused before sealing, the upload kept
    code, _, out = api.call('POST', '/api/v1/messages', body=submit_body(
        [{'upload': u, 'name': 'e.txt', 'type': 'text/plain'}]))
    check(code == 507 and json.loads(out)['code'] == 'insufficient-storage',
          'submission over the disk reserve: %d %r' % (code, out))
    check(api.json('GET', '/api/v1/uploads/' + u)['complete'], 'the upload stays')
    es.stop()
    es.write_config({'limits': {'upload_keep': '1s'}})
    es.start()
    old = api.json('POST', '/api/v1/uploads', expect=201)['upload_id']
    time.sleep(2.2)
    api.json('POST', '/api/v1/uploads', expect=201)
    code, _, _ = api.call('GET', '/api/v1/uploads/' + old)
    check(code == 404, 'an upload past upload_keep: %d' % code)
    check('uploads-expired' in es.log_text(), 'the expiry logged')


def submit_body(atts, to='CO'):
    return {'to': to, 'kind': 'mla', 'new_case': True, 'content_type': 'application/xml',
            'document_b64': base64.b64encode(b'<Request>evidence</Request>').decode(),
            'attachments': atts}


def test_submit(net, api, first):
    es = net['ES']
    # a peer that does not read envelope version 3: refused before anything is sealed
    u = upload(api, b'hello')
    code, _, out = api.call('POST', '/api/v1/messages',
                            body=submit_body([{'upload': u, 'name': 'a.txt',
                                               'type': 'text/plain'}], to='FR'))
    j = json.loads(out)
    check(code == 400 and 'FR' in j['message'] and 'envelope_versions' in j['message'],
          'peer without version 3: %d %r' % (code, j))
    check(api.json('GET', '/api/v1/uploads/' + u)['complete'], 'the upload stays')
    # bad entries name the field
    for bad in ([{'upload': u, 'name': '../x', 'type': 'text/plain'}],
                [{'upload': u, 'name': 'x', 'type': 'text'}],
                [{'upload': '0' * 32, 'name': 'x', 'type': 'text/plain'}], []):
        code, _, out = api.call('POST', '/api/v1/messages', body=submit_body(bad))
        check(code == 400 and json.loads(out)['field'] == 'attachments',
              'bad attachments %r: %d %r' % (bad, code, out))
    rnd = random.Random(15)
    sizes = [0, 1, SEG, SEG - 1, SEG + 1, 3 * SEG + 123]
    files = [bytes(rnd.getrandbits(8) for _ in range(n)) for n in sizes]
    files.append(b'compressible evidence line\n' * 20000)  # gzip, several segments
    atts = [{'upload': u, 'name': 'hello.txt', 'type': 'text/plain'}]
    files = [b'hello'] + files
    for i, data in enumerate(files[1:]):
        atts.append({'upload': upload(api, data), 'name': 'file %d.bin' % (i + 1),
                     'type': 'application/octet-stream'})
    atts[-1]['compress'] = True
    atts.append({'upload': first[0], 'name': 'first.bin', 'type': 'application/octet-stream'})
    files.append(first[1])
    idem = {'Idempotency-Key': 'evidence-1'}
    acc = api.json('POST', '/api/v1/messages', body=submit_body(atts), expect=202, headers=idem)
    mid = acc['message_id']
    # a retry after a lost answer: its uploads are consumed, the key answers it
    again = api.json('POST', '/api/v1/messages', body=submit_body(atts), expect=202,
                     headers=idem)
    check(again['message_id'] == mid and again.get('replayed'), 'retry %r' % again)
    folder = os.path.join(os.path.dirname(es.store), 'attachments', mid)
    for n in range(1, len(files) + 1):
        for suffix in ('ct', 'tree'):
            check(os.path.exists(os.path.join(folder, '%d.%s' % (n, suffix))),
                  'file %d.%s sealed' % (n, suffix))
        check(not os.path.exists(os.path.join(folder, '%d.ct.part' % n)), 'no part file')
    for a in atts:  # consumed once the outbox row is durable
        code, _, _ = api.call('GET', '/api/v1/uploads/' + a['upload'])
        check(code == 404, 'upload %s consumed: %d' % (a['upload'], code))
    sub = [e for e in es.audit() if e['event'] == 'submitted' and e.get('message') == mid]
    check(sub, 'submitted entry')
    listed = sub[0].get('attachments', '').split(',')
    check(len(listed) == len(files), 'entry lists every attachment: %r' % sub[0])
    for n, item in enumerate(listed, 1):
        idx, size, root = item.split(':')
        ct = os.path.getsize(os.path.join(folder, '%d.ct' % n))
        check(int(idx) == n and int(size) == ct and len(root) == 64,
              'entry item %d %r (file %d bytes)' % (n, item, ct))
    check(os.path.getsize(os.path.join(folder, '1.ct')) == 5 + 16, 'a 5-byte file in 1 segment')
    check(os.path.getsize(os.path.join(folder, '2.ct')) == 16, 'an empty file is one tag')
    check(os.path.getsize(os.path.join(folder, '4.ct')) == SEG + 16, 'one segment exactly')
    check(os.path.getsize(os.path.join(folder, '5.ct')) == SEG - 1 + 16, 'boundary - 1')
    check(os.path.getsize(os.path.join(folder, '6.ct')) == SEG + 1 + 32, 'boundary + 1')
    return mid, files, atts


def cli_args(net, api, g):
    tok = os.path.join(net.dir, 'token-%s' % g.state)
    with open(tok, 'w') as f:
        f.write(api.tokens['authority' if g.state == 'ES' else 'agency'][1])
    return ['--gateway', 'https://127.0.0.1:%d' % api.port, '--token-file', tok,
            '--ca', g.pki('root.crt')]


def hwm_kib(g):
    """The gateway's peak resident memory (VmHWM), and whether it runs under ASan (whose
    shadow memory and quarantine make the figure meaningless)."""
    pid = g.proc.pid
    with open('/proc/%d/status' % pid) as f:
        kib = int([l for l in f if l.startswith('VmHWM:')][0].split()[1])
    with open('/proc/%d/maps' % pid) as f:
        return kib, 'libasan' in f.read() or 'asan' in os.path.basename(g.net.mlagwd)


def check_memory(g, before, what):
    after, asan = hwm_kib(g)
    print('%s: %s peak RSS %d -> %d KiB%s' % (what, g.state, before, after,
                                               ' (ASan: not checked)' if asan else ''))
    check(asan or after - before < BIG // 1024 // 2,
          '%s: %s peak RSS grew by %d KiB for a %d KiB file' % (what, g.state, after - before,
                                                                BIG // 1024))


BIG = 40 << 20  # the large attachment: memory must not grow with it


def test_cli_submit(net, api):
    """mlagw submit --attach: chunks of chunk_max, then the submission naming them; the
    gateway's memory does not grow with a 40 MiB file."""
    files = []
    before, _ = hwm_kib(net['ES'])
    for n, size in ((1, 3 * SEG + 5), (2, 0), (3, 9 * 1024 * 1024 // 10), (4, BIG)):
        path = os.path.join(net.dir, 'evidence-%d.bin' % n)
        with open(path, 'wb') as f:
            f.write(os.urandom(size))
        files.append(path)
    doc = os.path.join(net.dir, 'request.xml')
    with open(doc, 'wb') as f:
        f.write(b'<Request>evidence by the CLI</Request>')
    args = ['submit'] + cli_args(net, api, net['ES']) + ['--to', 'CO', '--kind', 'mla', '--in',
                                                          doc, '--new-case', '--json']
    for p in files:
        args += ['--attach', p]
    out = json.loads(net.cli(*args).stdout)
    check(out['state'] == 'queued', 'CLI submit %r' % out)
    check_memory(net['ES'], before, 'upload and sealing')
    # the benchmark's skeleton against this gateway: it prints its figures beside the bound
    p = net.cli('bench', 'evidence', *cli_args(net, api, net['ES']), '--to', 'CO', '--size',
                str(3 << 20), '--dir', net.dir, '--json')
    fig = json.loads(p.stdout)
    check(fig['size'] == 3 << 20 and fig['seal_mbps'] > 0 and fig['bound_mbps'] > 0 and
          fig['ratio'] > 0, 'bench evidence %r' % fig)
    print('bench evidence: %r' % fig)
    p = net.cli('submit', *(args[1:] + ['--attach', os.path.join(net.dir, 'missing')]),
                check_rc=False)
    check(p.returncode != 0 and b'missing' in p.stderr, 'a missing file: %r' % p.stderr)
    return out['message_id'], files


def test_cli_fetch(net, api, mid, files):
    """mlagw fetch --attachment: the file, a partial output resumed, the digest checked."""
    base = cli_args(net, api, net['CO']) + [mid, '--reason', 'evidence review']
    before, _ = hwm_kib(net['CO'])
    for n, src in enumerate(files, 1):
        out = os.path.join(net.dir, 'fetched-%d' % n)
        net.cli('fetch', *base, '--attachment', str(n), '--out', out)
        with open(src, 'rb') as f, open(out, 'rb') as g:
            want = f.read()
            check(g.read() == want, 'CLI fetch of %d' % n)
        if want:  # fetched already: said so, the file left as it is
            p = net.cli('fetch', *base, '--attachment', str(n), '--out', out, check_rc=False)
            check(p.returncode == 1 and b'already holds' in p.stderr, 'again: %r' % p.stderr)
        if len(want) > SEG:  # cut the output mid-segment: the same command resumes
            with open(out, 'r+b') as g:
                g.truncate(SEG + 100)
            net.cli('fetch', *base, '--attachment', str(n), '--out', out)
            with open(out, 'rb') as g:
                check(g.read() == want, 'CLI resume of %d' % n)
            with open(out, 'r+b') as g:  # a wrong byte before the resume point: refused
                g.truncate(SEG + 100)
                g.seek(10)
                g.write(b'\xff' if want[10:11] != b'\xff' else b'\x00')
            p = net.cli('fetch', *base, '--attachment', str(n), '--out', out, check_rc=False)
            check(p.returncode == 1 and b'SHA-256' in p.stderr, 'a bad prefix: %r' % p.stderr)
    check_memory(net['CO'], before, 'downloads')


def test_audit_list(net, mid):
    """An entry whose attachments are not its envelope's signed list: audit verify says so
    (the entry is rewritten with its leaf, so the checkpoints fail too)."""
    es = net['ES']
    rows = [r for r in es.audit_rows() if b'\nevent submitted\nmessage %s\n' % mid.encode()
            in r['entry']]
    check(len(rows) == 1, 'the submitted entry of %s' % mid)
    entry = rows[0]['entry']
    at = entry.index(b'\nattachments 1:') + len(b'\nattachments 1:')
    at = entry.index(b':', at) + 1  # the first root's first digit
    bad = entry[:at] + (b'0' if entry[at:at + 1] != b'0' else b'1') + entry[at + 1:]
    es.set_audit_entry(rows[0]['seq'], bad, rehash=True)
    trust = os.path.join(net.dir, 'trust-ES')
    out = os.path.join(net.dir, 'ES-tampered.mab')
    net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'), '--out', out)
    p = net.cli('audit', 'verify', out, '--trust', trust, '--json', check_rc=False)
    rep = json.loads(p.stdout.decode() or '{}')
    msgs = [f.get('message', '') for f in rep.get('failures', [])]
    check(p.returncode != 0 and any('signed attachment list is not the attachments of entry %d'
                                    % rows[0]['seq'] in m for m in msgs),
          'a list that is not the envelope\'s: %r' % msgs)
    es.set_audit_entry(rows[0]['seq'], entry, rehash=True)


def inject(net, mid):
    """CO's inbox gets ES's queued message, and its attachment files (both stopped)."""
    tool = os.path.join(os.path.dirname(net.store_fault), 'attach_inject')
    p = subprocess.run([tool, net['ES'].store, net['CO'].store, mid, 'ES'],
                       capture_output=True, timeout=60)
    check(p.returncode == 0, 'attach_inject: %r' % p.stderr)
    src = os.path.join(os.path.dirname(net['ES'].store), 'attachments', mid)
    dst = os.path.join(os.path.dirname(net['CO'].store), 'attachments', mid)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copytree(src, dst)
    for name in os.listdir(dst):
        if name.endswith('.tree'):
            os.unlink(os.path.join(dst, name))


def download(co, mid, n, reason='evidence review', rng=None):
    """(status, headers, body, complete): complete is False when the stream was cut."""
    c = co.conn()
    h = {'Authorization': 'Bearer ' + co.tokens['agency'][1]}
    if rng is not None:
        h['Range'] = 'bytes=%d-' % rng
    path = '/api/v1/inbox/%s/attachments/%d?reason=%s' % (mid, n, reason.replace(' ', '+'))
    try:
        c.request('GET', path, headers=h)
        r = c.getresponse()
        try:
            return r.status, dict(r.getheaders()), r.read(), True
        except http.client.IncompleteRead as e:
            return r.status, dict(r.getheaders()), e.partial, False
    finally:
        c.close()


def test_download(net, co, mid, files, atts):
    cog = net['CO']
    d = co.json('GET', '/api/v1/inbox/%s/document?reason=listing' % mid, 'agency')
    listed = d.get('attachments', [])
    check([a['name'] for a in listed] == [a['name'] for a in atts] and
          all(a['size'] == len(f) and a['sha256'] == hashlib.sha256(f).hexdigest()
              for a, f in zip(listed, files)) and listed[-2]['compressed'],
          'the document lists the attachments %r' % listed)
    code, _, out = co.call('GET', '/api/v1/inbox/%s/attachments/1' % mid, 'agency')
    check(code == 400 and json.loads(out)['field'] == 'reason', 'no reason: %d' % code)
    for n, data in enumerate(files, 1):
        before = len(cog.audit())
        code, h, body, whole = download(co, mid, n, reason='review %d' % n)
        check(code == 200 and whole and body == data and
              h.get('X-Attachment-Sha256') == hashlib.sha256(data).hexdigest(),
              'attachment %d: HTTP %d, %d of %d bytes, whole %s' % (n, code, len(body),
                                                                  len(data), whole))
        got = [e for e in cog.audit()[before:] if e['event'] == 'document-fetched']
        check(got and got[0].get('attachment') == str(n) and
              got[0].get('reason') == 'review %d' % n and got[0].get('attachments'),
              'attachment %d read audited: %r' % (n, got))
    # Range: resume an uncompressed file mid-segment, and a compressed one
    for n, at in ((7, SEG + 77), (len(files) - 1, 5000)):
        code, h, body, whole = download(co, mid, n, rng=at)
        check(code == 206 and whole and body == files[n - 1][at:] and
              h.get('Content-Range', '').startswith('bytes %d-' % at),
              'range of %d from %d: HTTP %d %d bytes' % (n, at, code, len(body)))
    code, _, _, _ = download(co, mid, 1, rng=100)
    check(code == 416, 'range beyond the end: %d' % code)
    code, _, _, _ = download(co, mid, len(files) + 1)
    check(code == 404, 'no such attachment: %d' % code)
    # a tampered segment (the third of attachment 7): the stream is cut, never completed
    path = os.path.join(os.path.dirname(cog.store), 'attachments', mid, '7.ct')
    with open(path, 'r+b') as f:
        f.seek(2 * (SEG + 16) + 10)
        b = f.read(1)
        f.seek(2 * (SEG + 16) + 10)
        f.write(bytes([b[0] ^ 1]))
    code, _, body, whole = download(co, mid, 7)
    check(code == 200 and not whole and len(body) <= 2 * SEG,
          'tampered: HTTP %d whole %s %d bytes' % (code, whole, len(body)))
    wait_until(lambda: 'attachment-refused' in cog.log_text(), 10, msg='the refusal logged')
    # HTTP/1.0 has no chunked encoding: a cut would be the body's normal end (its close), so
    # the download is refused before anything is read or audited
    before = len(cog.audit())
    c = co.conn()
    c._http_vsn, c._http_vsn_str = 10, 'HTTP/1.0'
    try:
        c.request('GET', '/api/v1/inbox/%s/attachments/7?reason=review' % mid,
                  headers={'Authorization': 'Bearer ' + co.tokens['agency'][1]})
        r = c.getresponse()
        code, body = r.status, r.read()
    finally:
        c.close()
    check(code == 505 and len(body) < 1000 and len(cog.audit()) == before,
          'HTTP/1.0 download: HTTP %d, %d bytes' % (code, len(body)))


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'FR'])
    del net.gws['FR']  # a configured peer that never runs and reads envelope versions 1, 2
    net.url_override['FR'] = 'https://127.0.0.1:9/mla/v1/envelopes'
    es_api, co_api = api_setup(net['ES']), api_setup(net['CO'])
    net['ES'].peers = ['CO', 'FR']
    net['ES'].trust = ['ES', 'CO', 'FR']
    for g in (net['ES'], net['CO']):
        g.overrides['audit'] = {'peer_head_wait': '1s'}
    net['CO'].peers = ['ES']
    net['ES'].overrides['peer CO'] = {'envelope_versions': '1, 2, 3'}
    net['ES'].write_config()
    net['CO'].write_config()
    net['CO'].start()
    net['CO'].stop()  # its store exists; it is down while ES queues the message
    net['ES'].start()
    first = test_uploads(net, es_api)
    mid, files, atts = test_submit(net, es_api, first)
    cli_mid, cli_files = test_cli_submit(net, es_api)
    test_per_caller_cap(net, es_api)
    test_expiry(net, es_api)
    net['ES'].stop()
    # the sender's bundle: its version 3 envelopes verify, its version 7 entries are read
    verify_exported(net, 'ES')
    test_audit_list(net, mid)
    inject(net, mid)
    inject(net, cli_mid)
    net['CO'].start()
    test_cli_fetch(net, co_api, cli_mid, cli_files)
    test_download(net, co_api, mid, files, atts)


if __name__ == '__main__':
    run(main)
