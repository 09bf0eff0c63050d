"""Fault-injection run of the evidence transfer (issue 15; SPEC 17.13 "Transfer between
gateways", 17.14): ES sends messages with attachments to CO (envelope version 3, segments of
64 KiB, the segments to CO capped at MLAGW_ATTACH_FAULT_BANDWIDTH, 4 MiB/s: [peer CO]
max_bandwidth, shared by all the messages' requests, so that transfers last and several go
on at once) while a seeded random schedule SIGKILLs and restarts CO, ES or both at random
moments, 0.5-3 s apart, mostly while messages are unfinished, half of ES's kills while the
API client below uploads or submits.

- Messages sealed into ES's outbox before the run (tests/tools/attach_seal): attachments of
  0, 1, a segment -1, exactly, +1, two, several segments and a few MiB;
- and, while the faults go on, a client of ES's local API as a real one: each file uploaded
  in chunks of 200 kB, resumed from what GET reports after a connection error, a 503 or a
  409 (every acknowledged chunk must still be held), then the message submitted with an
  Idempotency-Key, retried on a connection error or 503 until it is answered 202.

Then the faults stop, both run, and every acknowledged message must be delivered within a
generous deadline. Accounting, for every acknowledged submission: ES's outbox row delivered
on a receipt version 3 naming each attachment's index, ciphertext size and the Merkle root of
ES's file (computed here); one inbox row at CO with ES's digest; one `received` entry at CO
(and one `submitted` entry at ES for the API's) naming that same list; CO's files byte for
byte ES's, no part file left, no folder of another message at either; the API's files
downloaded at CO equal to the bytes uploaded; nothing stored at ES that no client was
answered for; `mlagw store check --deep` passes on both stores; after a last restart CO's log
has no `attachments-strays` (its `attachments-stray-removed` lines, reservations cut by a
kill, are counted). ES's folders of no message are removed at its starts (sealings cut short,
counted), but for one whose files were all sealed before the kill and whose row was not
stored: kept and reported, as SPEC 17.13 says, and counted.

The segments sent again: from ES's `segments-sent` lines (a round cut by ES's kill is not
logged), per round the segments sent beyond those CO gained until the next round (or the
end). CO's held count never goes back, and what was sent again is at most
max_segments_in_flight per kill of either gateway for each message unfinished at that kill
(its segments in flight then: lost by CO, or still written by CO for ES's dead connection).

env: MLAGW_ATTACH_FAULT_SECONDS (default 30) how long faults go on; MLAGW_ATTACH_FAULT_SEED to
replay a schedule and the sizes (printed; timing still varies); MLAGW_ATTACH_FAULT_BANDWIDTH.
scripts/fault-run-attach.sh runs it for long by hand."""
import base64
import http.client
import json
import os
import random
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from attachlib import *  # noqa: E402,F403

SECONDS = float(os.environ.get('MLAGW_ATTACH_FAULT_SECONDS') or 30)
SEED = int(os.environ.get('MLAGW_ATTACH_FAULT_SEED') or
           random.SystemRandom().randrange(1 << 32))
BANDWIDTH = os.environ.get('MLAGW_ATTACH_FAULT_BANDWIDTH') or '4 MiB'
MIB = 1 << 20
CHUNK = 200000
POOL = [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 3 * SEG + 7, 7 * SEG + 3, MIB + 3, 2 * MIB]
SEALED = [[0, 1, SEG - 1, SEG, SEG + 1], [3 * MIB + 5], [2 * SEG, 3 * SEG + 7]]
RETRYABLE = (OSError, http.client.HTTPException)


def say(msg):
    sys.stderr.write('[attach-fault-run %s] %s\n' % (time.strftime('%H:%M:%S'), msg))
    sys.stderr.flush()


class Sub:
    """One message the client submits: its files, key and what became of it."""

    def __init__(self, key, files):
        self.key, self.files = key, files
        self.sizes = [len(f) for f in files]
        self.mid = None
        self.attempts = self.chunk_retries = self.orphans = 0
        self.replayed = False


class Client:
    """Uploads and submits messages to ES's API until stopped, each retried as a real client
    does until it is acknowledged; the one under way when stopped is finished."""

    def __init__(self, api, rng, stop):
        self.api, self.rng, self.stop = api, rng, stop
        self.subs, self.error = [], None
        self.phase = 'idle'  # what a kill of ES now cuts: 'upload', 'submit' or 'idle'
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                sizes = [self.rng.choice(POOL) for _ in range(self.rng.randint(1, 3))]
                s = Sub('attach-fault-%d-%04d' % (SEED, n),
                        [self.rng.randbytes(z) for z in sizes])
                self.subs.append(s)
                self.phase = 'upload'
                uploads = [self.upload(s, f) for f in s.files]
                self.phase = 'submit'
                self.submit(s, uploads)
                self.phase = 'idle'
                self.stop.wait(self.rng.uniform(0, 0.5))
        except BaseException as e:  # reported by the main thread
            self.error = e

    def retry(self, what, fn, deadline=180):
        """fn() until it answers (not a connection error, not 503)."""
        end = time.monotonic() + deadline
        while True:
            try:
                code, out = fn()
                if code != 503:
                    return code, out
            except RETRYABLE:
                pass
            check(time.monotonic() < end, '%s: no answer for %d s' % (what, deadline))
            time.sleep(0.1)

    def upload(self, s, data):
        """One file in chunks; after a failed chunk, resumed from what the gateway holds."""
        while True:
            try:
                code, out = self.api.call('POST', '/api/v1/uploads')
            except ConnectionRefusedError:  # ES down: nothing sent
                time.sleep(0.1)
                continue
            except RETRYABLE:  # perhaps created, its answer lost: left to expire
                s.orphans += 1
                time.sleep(0.1)
                continue
            if code != 503:
                break
            time.sleep(0.1)
        check(code == 201, 'upload: HTTP %d %r' % (code, out[:200]))
        uid, off, acked = json.loads(out)['upload_id'], 0, 0
        while True:
            piece = data[off:off + CHUNK]
            last = off + len(piece) >= len(data)
            rng = ('bytes %d-%d/%s' % (off, off + len(piece) - 1, len(data) if last else '*')
                   if piece else 'bytes */%d' % len(data))
            try:
                code, out = self.api.call('PUT', '/api/v1/uploads/' + uid, raw=piece,
                                          headers={'Content-Range': rng, 'Content-Type':
                                                   'application/octet-stream'})
            except RETRYABLE:
                code, out = None, b''
            if code == 200:
                st = json.loads(out)
            else:
                check(code in (None, 503, 409), 'chunk at %d of %s: HTTP %s %r' % (
                    off, uid, code, out[:200]))
                s.chunk_retries += 1
                time.sleep(0.1)
                code, out = self.retry('upload state', lambda: self.api.call(
                    'GET', '/api/v1/uploads/' + uid))
                check(code == 200, 'upload %s after a failed chunk: HTTP %d %r' % (
                    uid, code, out[:200]))
                st = json.loads(out)
            # every acknowledged chunk is held, whatever crashed (SPEC 17.14 Uploads)
            check(st['received'] >= acked and st['received'] <= len(data),
                  'upload %s holds %d bytes, %d acknowledged' % (uid, st['received'], acked))
            off = acked = st['received']
            if st['complete']:
                check(st['total'] == len(data), 'upload %s complete at %r' % (uid, st))
                return uid

    def submit(self, s, uploads):
        body = {'to': 'CO', 'kind': 'mla', 'new_case': True, 'content_type': 'application/xml',
                'document_b64': base64.b64encode(b'<Request>%s</Request>' %
                                                 s.key.encode()).decode(),
                'attachments': [{'upload': u, 'name': 'evidence-%d.bin' % i,
                                 'type': 'application/octet-stream'}
                                for i, u in enumerate(uploads, 1)]}

        def once():
            s.attempts += 1
            return self.api.call('POST', '/api/v1/messages', body=body,
                                 headers={'Idempotency-Key': s.key})
        code, out = self.retry('submission ' + s.key, once)
        check(code == 202, 'submission %s: HTTP %d %r' % (s.key, code, out[:300]))
        j = json.loads(out)
        s.mid, s.replayed = j['message_id'], bool(j.get('replayed'))


def nonfinal(es):
    """ES's outbox ids not yet final (read from the store, also while ES is down)."""
    for _ in range(20):
        try:
            return {m for m, r in es.outbox(blobs=False).items() if r['state'] < DELIVERED}
        except StoreReadError:
            time.sleep(0.1)
    raise TestFailure('cannot read ES outbox')


class Faults:
    """The seeded schedule: CO, ES or both SIGKILLed, restarted after 0-1 s, 0.5-3 s apart
    (mostly while a message is unfinished: waiting up to 2 s for one; ES's kills half the time
    while the client uploads or submits, waiting up to 2 s). After each kill, the messages
    then unfinished (each may have segments in flight)."""

    def __init__(self, net, rng, client):
        self.net, self.rng, self.client = net, rng, client
        self.counts = {'CO': 0, 'ES': 0, 'both': 0}
        self.cut = {'upload': 0, 'submit': 0, 'idle': 0}  # what ES's kills cut at the client
        self.unfinished = []  # per process killed: the ids unfinished at its kill

    def one(self):
        kind = self.rng.choices(['CO', 'ES', 'both'], [4, 4, 2])[0]
        if self.rng.random() < 0.8:
            end = time.monotonic() + 2
            while not nonfinal(self.net['ES']) and time.monotonic() < end:
                time.sleep(0.05)
        if kind != 'CO' and self.rng.random() < 0.5:
            want, end = self.rng.choice(['upload', 'submit']), time.monotonic() + 2
            while self.client.phase != want and time.monotonic() < end:
                time.sleep(0.002)
        victims = [self.net[s] for s in (['CO', 'ES'] if kind == 'both' else [kind])]
        for g in victims:
            g.proc.send_signal(signal.SIGKILL)
        if kind != 'CO':
            self.cut[self.client.phase] += 1
        for g in victims:
            g.proc.wait()
        open_ids = nonfinal(self.net['ES'])
        self.unfinished += [open_ids] * len(victims)
        self.counts[kind] += 1
        time.sleep(self.rng.uniform(0, 1))
        say('SIGKILL %s (%d messages unfinished), restarting' % (kind, len(open_ids)))
        for g in victims:
            g.start(wait=False)
        for g in victims:
            g.wait_ready(60)

    def run(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(self.rng.uniform(0.5, 3))
            self.one()


def seal_before(net, rng):
    """Messages sealed into the stopped ES: SEALED, then two of random sizes."""
    es = net['ES']
    out = {}
    for sizes in SEALED + [[rng.choice(POOL) for _ in range(rng.randint(1, 4))]
                           for _ in range(2)]:
        out[attach_seal(net, 'ES', 'CO', sizes, deadline_s=3600)] = sizes
    say('sealed before: %d messages, sizes %r' % (len(out), list(out.values())))
    check(not es.running(), 'ES runs')
    return out


def listed(entries, event):
    """{message id: [its entries' attachment lists]} of one event in an audit log."""
    out = {}
    for e in entries:
        if e['event'] == event and e.get('message'):
            out.setdefault(e['message'], []).append(e.get('attachments'))
    return out


def receipt_checked(es, mid, sizes, row):
    """The receipt names each attachment's size and root (of ES's file); returns the list
    as the audit entries write it."""
    rc = parse_receipt(row['receipt'])
    check(rc['outcome'] == 'accepted' and rc['message_id'] == mid and rc['version'] == '3' and
          rc['receiver'] == 'CO', '%s: receipt %r' % (mid, rc))
    want = [(i, ct_size(z), merkle_root(read(os.path.join(att_dir(es, mid), '%d.ct' % i)))
             .encode()) for i, z in enumerate(sizes, 1)]
    check(receipt_attachments(row['receipt']) == want, '%s: receipt names %r, want %r' % (
        mid, receipt_attachments(row['receipt']), want))
    return ','.join('%d:%d:%s' % (i, z, r.decode()) for i, z, r in want)


def folders(gw):
    root = os.path.dirname(att_dir(gw, 'x'))
    return set(os.listdir(root)) if os.path.isdir(root) else set()


def parts_left(gw):
    root = os.path.dirname(att_dir(gw, 'x'))
    return [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith('.part')]


def sealed_whole(gw, mid):
    """Whether the folder holds n.ct and n.tree for n = 1..k and nothing else: a sealing ES
    finished but whose row it never stored (killed in between). SPEC 17.13 keeps and
    reports it (it looks like a message a restore lost); no 202 was given for it."""
    names = sorted(os.listdir(att_dir(gw, mid)))
    k = len(names) // 2
    return k > 0 and names == sorted('%d.%s' % (n, x) for n in range(1, k + 1)
                                     for x in ('ct', 'tree'))


def account(net, msgs, api_mids):
    """Exactly once, byte for byte, nothing else kept (both stopped). Returns ES's folders
    of a sealing finished but never stored."""
    es, co = net['ES'], net['CO']
    out, inbox, counts = es.outbox(), co.inbox(), co.inbox_counts()
    check(set(out) == set(msgs), 'ES stored %d messages no client was answered for %r, '
          'lost %r' % (len(set(out) - set(msgs)), sorted(set(out) - set(msgs))[:3],
                       sorted(set(msgs) - set(out))[:3]))
    dup = {m: n for m, n in counts.items() if n != 1}
    check(not dup, 'CO inbox rows more than once: %r' % dup)
    check(set(counts) == set(msgs), 'CO inbox: missing %r, unknown %r' % (
        sorted(set(msgs) - set(counts))[:3], sorted(set(counts) - set(msgs))[:3]))
    submitted, received = listed(es.audit(), 'submitted'), listed(co.audit(), 'received')
    for mid, sizes in msgs.items():
        row = out[mid]
        check(row['state'] == DELIVERED, '%s: %s' % (mid, STATE_NAMES[row['state']]))
        check(inbox[mid]['digest'] == row['digest'], '%s: digest differs at CO' % mid)
        names = receipt_checked(es, mid, sizes, row)
        # one entry each side naming what the receipt names (attach_seal writes none at ES)
        check(received.get(mid) == [names], '%s: CO received entries %r, want [%r]' % (
            mid, received.get(mid), names))
        check(submitted.get(mid) == ([names] if mid in api_mids else None),
              '%s: ES submitted entries %r, want [%r]' % (mid, submitted.get(mid), names))
        same_files(es, co, mid, sizes)
    kept = sorted(m for m in folders(es) - set(msgs) if sealed_whole(es, m))
    for g in (es, co):
        check(not parts_left(g), '%s: part files left %r' % (g.state, parts_left(g)[:3]))
        extra = folders(g) - set(msgs) - set(kept if g is es else [])
        check(not extra, '%s: folders of no message %r' % (g.state, sorted(extra)[:3]))
        rc, rep = store_check(net, g.store, '--deep')
        att = rep.get('attachments', {})
        check(rc == 0 and rep.get('ok') and att.get('bad') == 0 and
              att.get('strays') == (len(kept) if g is es else 0) and
              att.get('deep') == sum(len(z) for z in msgs.values()),
              '%s store check --deep: %d %r' % (g.state, rc, rep))
    return kept


def store_check(net, store, *extra):
    p = net.cli('store', 'check', '--store', store, '--json', *extra, check_rc=False)
    return p.returncode, json.loads(p.stdout.decode() or '{}')


def last_start(gw):
    return gw.log_text().split('--- start ---')[-1]


def after_restart(net, co_api, subs, kept):
    """Both started again: no stray reported (but ES's kept folders), no alert of a failure;
    the API's files read back at CO as uploaded. Returns the attachments-stray-removed lines
    of CO (reservations) and of ES (sealings cut short) over the run."""
    es, co = net['ES'], net['CO']
    for g in (es, co):
        g.start()
    for g in (es, co):
        wait_until(lambda: 'attachments-checked' in last_start(g), 60,
                   msg='%s attachments checked' % g.state)
        strays = [l for l in last_start(g).splitlines() if 'attachments-strays' in l]
        want = 1 if g is es and kept else 0
        check(len(strays) == want and (not want or ' count=%d ' % len(kept) in strays[0]),
              '%s reports strays: %s (%d kept)' % (g.state, strays, len(kept)))
        bad = [a for a in g.alerts() if a['kind'] in (
            'attachments-damaged', 'duplicate-id', 'receipt-invalid', 'transfer-abandoned',
            'store-damaged')]
        check(not bad, '%s alerts %r' % (g.state, bad))
    for s in subs:
        for n, data in enumerate(s.files, 1):
            code, got = co_api.call('GET', '/api/v1/inbox/%s/attachments/%d?reason=fault+run'
                                    % (s.mid, n), 'agency')
            check(code == 200 and got == data, '%s attachment %d at CO: HTTP %d, %d of %d '
                  'bytes%s' % (s.mid, n, code, len(got), len(data),
                               '' if code != 200 else ', differs'))
    return [len(re.findall(r'attachments-stray-removed', g.log_text())) for g in (co, es)]


ROUND = re.compile(r'segments-sent msg=(\S+) to=CO sent=(\d+) held_before=(\d+) '
                   r'segments=(\d+) outcome=(\S+)')


def resent(es, msgs, unfinished):
    """{mid: segments sent again} from ES's rounds, checked against CO's held count (never
    going back) and the bound; (sent again, logged sent - segments, bound, rounds)."""
    rounds = {}
    for life, text in enumerate(es.log_text().split('--- start ---')):
        for m in ROUND.finditer(text):
            rounds.setdefault(m.group(1), []).append([int(x) for x in m.groups()[1:4]])
    again, naive, bound, nrounds = 0, 0, 0, 0
    for mid, sizes in msgs.items():
        n = sum(segments(z) for z in sizes)
        rs = rounds.get(mid, [])
        nrounds += len(rs)
        check(all(total == n for _, _, total in rs), '%s: rounds %r of %d segments' % (
            mid, rs, n))
        held = [h for _, h, _ in rs] + [n]
        check(held == sorted(held), '%s: CO held fewer segments later: rounds %r' % (mid, rs))
        mine = sum(max(0, sent - (held[i + 1] - held[i])) for i, (sent, _, _) in enumerate(rs))
        allowed = IN_FLIGHT * sum(1 for ids in unfinished if mid in ids)
        check(mine <= allowed, '%s: %d segments sent again, at most %d in flight at its %d '
              'kills: rounds %r' % (mid, mine, allowed, allowed // IN_FLIGHT, rs))
        again += mine
        naive += sum(sent for sent, _, _ in rs) - n
        bound += allowed
    return again, naive, bound, nrounds


def summary(rows):
    w = max(len(k) for k, _ in rows)
    print('\n===== attachment fault run summary =====')
    for k, v in rows:
        print('%-*s  %s' % (w, k, v))
    sys.stdout.flush()


def main(mlagw, mlagwd):
    say('seed %d (MLAGW_ATTACH_FAULT_SEED=%d to replay), %.0f s of faults, ES -> CO capped '
        'at %s/s to the peer' % (SEED, SEED, SECONDS, BANDWIDTH))
    rng = random.Random(SEED)
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3',
                               'max_segments_in_flight': str(IN_FLIGHT),
                               'max_bandwidth': BANDWIDTH}
    es_api, co_api = Api(es), Api(co)
    for g in (es, co):
        g.overrides['audit'] = {'peer_head_wait': '1s'}
    net.start_all()
    es.stop()
    msgs = seal_before(net, rng)
    t0 = time.monotonic()
    es.start()
    stop = threading.Event()
    client = Client(es_api, random.Random(rng.randrange(1 << 32)), stop)
    faults = Faults(net, rng, client)
    faults.run(SECONDS)
    stop.set()
    client.thread.join(240)
    check(not client.thread.is_alive(), 'the API client hangs')
    if client.error:
        raise client.error
    fault_s = time.monotonic() - t0
    for s in client.subs:
        msgs[s.mid] = s.sizes
    say('faults stopped after %.0f s: %r; %d messages (%d through the API)' % (
        fault_s, faults.counts, len(msgs), len(client.subs)))
    drain_s = 120 + SECONDS / 2
    wait_until(lambda: es.all_in_state(set(msgs), DELIVERED), drain_s, 0.5,
               '%d acknowledged messages delivered' % len(msgs))
    drained = time.monotonic() - t0 - fault_s
    say('drained in %.0f s' % drained)
    es.stop()
    co.stop()
    kept = account(net, msgs, {s.mid for s in client.subs})
    up = os.path.join(os.path.dirname(es.store), 'uploads')
    uploads_left = len(os.listdir(up)) if os.path.isdir(up) else 0
    again, naive, bound, nrounds = resent(es, msgs, faults.unfinished)
    removed = after_restart(net, co_api, client.subs, kept)
    net.stop_all()
    kills = sum(faults.counts.values())
    nseg = sum(segments(z) for zs in msgs.values() for z in zs)
    summary([
        ('seed', SEED), ('fault seconds', '%.0f' % fault_s),
        ('kills', '%d (CO %d, ES %d, both %d)' % (kills, faults.counts['CO'],
                                                  faults.counts['ES'], faults.counts['both'])),
        ('messages', '%d (%d sealed before, %d through the API)' % (
            len(msgs), len(msgs) - len(client.subs), len(client.subs))),
        ('attachments', sum(len(z) for z in msgs.values())),
        ('segments', nseg),
        ('bytes (ciphertext)', sum(ct_size(z) for zs in msgs.values() for z in zs)),
        ('rounds logged by ES', nrounds),
        ('segments sent again', '%d (bound %d = %d in flight x messages unfinished at each '
         'of the kills; logged sent - segments %d)' % (again, bound, IN_FLIGHT, naive)),
        ('ES kills during an upload / a submission', '%d / %d' % (
            faults.cut['upload'], faults.cut['submit'])),
        ('API submissions retried / replayed', '%d / %d' % (
            sum(s.attempts - 1 for s in client.subs), sum(s.replayed for s in client.subs))),
        ('API chunks resumed / uploads orphaned', '%d / %d' % (
            sum(s.chunk_retries for s in client.subs), sum(s.orphans for s in client.subs))),
        ('uploads left at ES (expire after upload_keep)', uploads_left),
        ('stray folders removed at a start', 'CO %d (reservations), ES %d (sealings cut '
         'short)' % tuple(removed)),
        ('ES sealings finished, never stored', '%d (kept and reported, SPEC 17.13)' %
         len(kept)),
        ('drain seconds', '%.0f' % drained),
        ('total seconds', '%.0f' % (time.monotonic() - t0))])
    check(kills > 0 or SECONDS < 3, 'no fault injected')


if __name__ == '__main__':
    run(main)
