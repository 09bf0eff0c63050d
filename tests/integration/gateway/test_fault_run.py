"""Fault-injection run (issue 11, Tests): three States (ES, CO, MX) submit to each other in all
six directions while a seeded random schedule SIGKILLs and restarts gateways, steps their wall
clocks back and forward (1-5 s, libfaketime) and pauses them (SIGSTOP/SIGCONT), for a bounded
time. Every submission carries an Idempotency-Key and a client retries it with the same key on
a connection error or 503 until it is accepted, as a real client does.

Then the faults stop and everything drains; then the end of the run loses a write-ahead log:
one gateway is SIGKILLed under load, its -wal and -shm deleted, and started: it must refuse
(an unclean stop without its log), and once the loss is accepted refuse again, naming the
peer that cosigned beyond its log (recovery into a new log epoch plugs in at
recover_after_wal_loss).

Accounting, for every acknowledged submission (202 with a message id): delivered exactly once
(one inbox row, the digest the sender stored, the receiver's receipt naming it); or, only where
the WAL victim is involved, missing from the victim's store but held by the peer with a receipt
naming it, queued for the refused victim, or lost: acknowledged by the victim after the last
durable point and delivered nowhere, which must be from its last moments. Nothing silently
gone, and one key -> one message id -> at most one inbox row. Then every gateway's audit
bundle is exported and verified together; the victim's store as left after the refused start
too, and what verify says of it is reported.

env: MLAGW_FAULT_SECONDS (default 60) how long faults go on; MLAGW_FAULT_SEED to replay a
schedule (the seed is printed); MLAGW_FAULT_RATE submissions per second per direction (10).
scripts/fault-run.sh runs it for long by hand."""
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from fakeclock import FakeClock  # noqa: E402
from bundlelib import trust_dir  # noqa: E402

STATES = ['ES', 'CO', 'MX']
SECONDS = float(os.environ.get('MLAGW_FAULT_SECONDS') or 60)
RATE = float(os.environ.get('MLAGW_FAULT_RATE') or 10)
SEED = int(os.environ.get('MLAGW_FAULT_SEED') or random.SystemRandom().randrange(1 << 32))


def say(msg):
    sys.stderr.write('[fault-run %s] %s\n' % (time.strftime('%H:%M:%S'), msg))
    sys.stderr.flush()


class Sub:
    """One client submission: its key and document, when it was first sent and acknowledged."""
    __slots__ = ('key', 'frm', 'to', 'doc', 'sent', 'acked', 'mid', 'attempts', 'phase',
                 'replayed')

    def __init__(self, key, frm, to, phase):
        self.key, self.frm, self.to, self.phase = key, frm, to, phase
        self.doc = ('<Request>fault run %s</Request>' % key).encode()
        self.sent = self.acked = self.mid = None
        self.attempts = 0
        self.replayed = False


class Client:
    """Submits frm -> to at RATE per second; each submission retried under its key until
    accepted (connection errors and 503) or until give_up is set while it is not."""

    def __init__(self, net, frm, to, phase, stop, give_up, subs, lock):
        self.net, self.frm, self.to, self.phase = net, frm, to, phase
        self.stop, self.give_up, self.subs, self.lock = stop, give_up, subs, lock
        self.error = None
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                s = Sub('%s-%s-%s-%06d' % (self.phase, self.frm, self.to, n), self.frm, self.to,
                        self.phase)
                with self.lock:
                    self.subs.append(s)
                self.until_accepted(s)
                time.sleep(1.0 / RATE)
        except BaseException as e:  # reported by the main thread
            self.error = e

    def until_accepted(self, s):
        gw = self.net[self.frm]
        h = {'X-MLA-To': self.to, 'X-MLA-Kind': 'mla', 'Content-Type': 'application/xml',
             'Idempotency-Key': s.key}
        s.sent = time.monotonic()
        while True:
            s.attempts += 1
            try:
                code, body = gw.http('POST', '/local/v1/submit', s.doc, h, timeout=30)
            except (OSError, http.client.HTTPException):
                code, body = None, b''
            if code == 202:
                j = json.loads(body)
                check(s.mid is None or s.mid == j['message_id'],
                      'key %s answered %s after %s' % (s.key, j['message_id'], s.mid))
                s.mid, s.acked = j['message_id'], time.monotonic()
                s.replayed = bool(j.get('replayed'))  # stored before, its 202 lost
                return
            check(code in (None, 503), 'submission %s: HTTP %s %r' % (s.key, code, body[:300]))
            if self.give_up.is_set():
                return
            time.sleep(0.1)


class Load:
    def __init__(self, net, phase, subs, lock, pairs):
        self.stop, self.give_up = threading.Event(), threading.Event()
        self.clients = [Client(net, a, b, phase, self.stop, self.give_up, subs, lock)
                        for a, b in pairs]

    def finish(self, give_up=False, timeout=120):
        self.stop.set()
        if give_up:
            self.give_up.set()
        for c in self.clients:
            c.thread.join(timeout)
            check(not c.thread.is_alive(), 'client %s -> %s hangs' % (c.frm, c.to))
            if c.error:
                raise c.error


class Faults:
    """The seeded schedule: one fault at a time, 0.5-3 s apart."""

    def __init__(self, net, clocks, rng, counts):
        self.net, self.clocks, self.rng, self.counts = net, clocks, rng, counts

    def count(self, kind):
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def one(self):
        r, st = self.rng, self.rng.choice(STATES)
        g, kind = self.net[st], r.choices(['kill', 'clock', 'pause'], [4, 3, 3])[0]
        if kind == 'kill':
            g.proc.send_signal(signal.SIGKILL)
            g.proc.wait()
            time.sleep(r.uniform(0, 1))
            say('SIGKILL %s, restarting' % st)
            g.start(env=self.clocks[st].env())
        elif kind == 'clock':
            c = self.clocks[st]
            step = r.choice([-1, 1]) * r.randint(1, 5)
            if abs(c.offset + step) > 5:  # keep within 5 s of real time
                step = -step
            c.set(c.offset + step)
            kind = 'clock-back' if step < 0 else 'clock-forward'
            say('%s clock %+d s (offset %+d)' % (st, step, c.offset))
        else:
            d = r.uniform(0.3, 3)
            g.proc.send_signal(signal.SIGSTOP)
            time.sleep(d)
            g.proc.send_signal(signal.SIGCONT)
            say('paused %s %.1f s' % (st, d))
        self.count(kind)

    def run(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(self.rng.uniform(0.5, 3))
            self.one()


def recover_after_wal_loss(net, victim, clocks):
    """Where recovery (a new log epoch, SPEC §14) will go: today the victim stays down after
    its refused start and nothing is recovered. Returns whether it serves again."""
    return False


def cosigned_by_peers(net, victim):
    """{peer: largest size of victim's log that peer cosigned} from the peers' stores."""
    origin = 'mlagw.%s/' % victim.lower()
    out = {}
    for st in STATES:
        if st != victim:
            out[st] = max([w['size'] for w in net[st].witnessed()
                           if w['origin'].startswith(origin)], default=0)
    return out


def healthy(g):
    """g answers its health check: up (a refused start never gets there)."""
    try:
        return g.http('GET', '/local/v1/health', timeout=2)[0] == 200
    except OSError:
        return False


def file_only_size(g):
    """Entries of g's log in its database file alone, as a WAL loss would leave it: a copy
    of the file read without its write-ahead log."""
    copy = os.path.join(g.dir, 'file-only.db')
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(copy + suffix):
            os.remove(copy + suffix)
    shutil.copyfile(g.store, copy)
    p = subprocess.run([g.net.mlagw, 'store', 'show', '--store', copy, '--meta', '--json'],
                       capture_output=True, timeout=60)
    return json.loads(p.stdout)['counts']['audit'] if p.returncode == 0 else None


def wait_cosigned_beyond_file(net, victim, timeout=15):
    """Waits (a while at most) until a peer cosigned more of victim's log than its database
    file holds without the write-ahead log: then losing the log is a fork a peer can name.
    SQLite moves the file forward at its automatic checkpoints, so this may not hold at the
    kill after all; lose_wal accounts for both."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        size = file_only_size(net[victim])
        if size is not None and max(cosigned_by_peers(net, victim).values()) > size:
            return True
        time.sleep(0.3)
    return False


def lose_wal(net, clocks, rng, subs, lock, counts):
    """Kills a gateway under load while one of its peers is paused, deletes its write-ahead
    log and starts it: refused."""
    victim = rng.choice(STATES)
    pairs = [(a, b) for a in STATES for b in STATES if a != b]
    load = Load(net, 'w', subs, lock, pairs)
    g = net[victim]
    time.sleep(3)  # traffic in every direction, witnessing going on
    # one peer paused: what the victim acknowledges for it meanwhile is not delivered
    # when the victim dies (the other peer goes on cosigning)
    held = net[rng.choice([st for st in STATES if st != victim])]
    held.proc.send_signal(signal.SIGSTOP)
    time.sleep(1)
    wait_cosigned_beyond_file(net, victim)
    g.proc.send_signal(signal.SIGKILL)
    g.proc.wait()
    held.proc.send_signal(signal.SIGCONT)
    killed_at = time.monotonic()
    wal = g.store + '-wal'
    wal_bytes = os.path.getsize(wal) if os.path.exists(wal) else 0
    for suffix in ('-wal', '-shm'):
        if os.path.exists(g.store + suffix):
            os.remove(g.store + suffix)
    counts['wal-loss'] = 1
    survived = len(g.audit_rows())
    cosigned = cosigned_by_peers(net, victim)
    say('WAL loss: killed %s (%s paused meanwhile), deleted %d bytes of write-ahead log; '
        'its log now has %d entries, peers cosigned %r' % (victim, held.state, wal_bytes,
                                                           survived, cosigned))
    ahead = [p for p, n in cosigned.items() if n > survived]
    # noticed locally first: an unclean stop without its write-ahead log; the operator
    # accepts the loss, and then the peers' heads decide
    g.start(wait=False, env=clocks[victim].env())
    g.proc.wait(timeout=60)
    log = g.log_text().split('--- start ---')[-1]
    check(g.proc.returncode == 1 and 'without its write-ahead log' in log,
          '%s: the lost write-ahead log was not noticed locally: %s' % (victim, log[-800:]))
    net.cli('store', 'accept-loss', '--store', g.store)
    say('%s refused locally (its write-ahead log is gone); the loss accepted' % victim)
    g.start(wait=False, env=clocks[victim].env())
    wait_until(lambda: not g.running() or healthy(g), 60, 0.1, '%s refused or up' % victim)
    log = g.log_text().split('--- start ---')[-1]
    refused = not g.running()
    if ahead:
        check(refused and g.proc.returncode == 1,
              '%s started on a store older than %s cosigned' % (victim, ahead))
        check(any(('peer %s cosigned' % p) in log for p in ahead) and 'refusing to sign' in log,
              'the refusal does not name the peer: %s' % log[-1500:])
        say('%s refused to start: %s' % (victim, [l for l in log.splitlines()
                                                  if 'refusing to sign' in l][0][:300]))
    else:  # the lost frames held nothing a peer cosigned: the heads cannot tell
        say('NOTE: %s lost %d bytes of write-ahead log beyond anything its peers cosigned '
            'and its start %s (SPEC 14 Heads at start, what heads cannot see; '
            'gw-wal-loss-unseen); what it lost is accounted below' % (
                victim, wal_bytes, 'was refused' if refused else 'went ahead'))
    serves = recover_after_wal_loss(net, victim, clocks) if refused else g.running()
    time.sleep(1)  # clients of the victim see it down for a while
    load.finish(give_up=not serves)
    return {'victim': victim, 'killed_at': killed_at, 'refused': refused, 'serves': serves,
            'ahead': ahead, 'wal_bytes': wal_bytes}


def drain(net, subs):
    """Waits until every acknowledged submission is final at its sender."""
    by = {}
    for s in subs:
        if s.mid:
            by.setdefault(s.frm, set()).add(s.mid)
    for st, ids in by.items():
        wait_until(lambda: net[st].all_in_state(ids, DELIVERED), 180, 0.5,
                   '%d acknowledged submissions of %s delivered' % (len(ids), st))


CLASSES = ('delivered', 'victim-lost-peer-holds', 'victim-behind-peer-holds',
           'victim-lost-inbound', 'queued-for-victim', 'queued-at-victim', 'lost')


def receipt_names(receipt, s, what):
    rc = parse_receipt(receipt)
    check(rc['message_id'] == s.mid and rc['outcome'] == 'accepted' and
          rc['receiver'] == s.to, '%s: %s %r' % (s.key, what, rc))


def classify(s, row, peer, victim):
    """The class of one acknowledged submission s: row is its sender's outbox row (None when
    the sender no longer has it), peer the recipient's inbox row (None: not received)."""
    if row is None:  # only a store that lost its write-ahead log forgets
        check(s.frm == victim, '%s: acknowledged by %s, not in its store' % (s.key, s.frm))
        if peer is None:
            return 'lost'
        receipt_names(peer['receipt'], s, "the recipient's receipt")
        return 'victim-lost-peer-holds'
    if row['state'] != DELIVERED:
        check(row['state'] in (QUEUED, SENDING, AWAITING),
              '%s: %s state %s' % (s.key, s.mid, STATE_NAMES[row['state']]))
        check(victim in (s.frm, s.to), '%s: not delivered (%s), no WAL victim involved' % (
            s.key, STATE_NAMES[row['state']]))
        if s.to == victim:  # the victim may hold it, its receipt lost with the kill
            return 'queued-for-victim'
        # the victim's store went back to before the receipt, or it never sent it
        return 'victim-behind-peer-holds' if peer is not None else 'queued-at-victim'
    receipt_names(row['receipt'], s, "the sender's receipt")
    if peer is None:
        check(s.to == victim, '%s: delivered per %s, not in %s inbox' % (s.key, s.frm, s.to))
        return 'victim-lost-inbound'
    check(peer['digest'] == row['digest'], '%s: digest differs at %s' % (s.key, s.to))
    return 'delivered'


def no_duplicates(net, subs, out, inb, victim):
    """One inbox row per message id; one message id per key; no stored message no client
    was answered for, but at the victim (clients gave up on it); every inbox row known to
    its sender, but the victim's. Returns (gave up, of which stored)."""
    for st in STATES:
        dup = {m: n for m, n in net[st].inbox_counts().items() if n != 1}
        check(not dup, '%s inbox rows more than once: %r' % (st, dup))
        check(not net[st].alerts('duplicate-id'), '%s has duplicate-id alerts' % st)
    mids = [s.mid for s in subs if s.mid]
    check(len(set(mids)) == len(mids), 'two keys answered with one message id')
    extra = {st: set(out[st]) - set(mids) for st in STATES}
    for st in STATES:
        check(not extra[st] or st == victim, '%s stored %d messages no client was answered '
              'for (a retry became a second message?): %r' % (st, len(extra[st]),
                                                              sorted(extra[st])[:3]))
        for m, r in inb[st].items():
            check(m in out[r['from_state']] or r['from_state'] == victim,
                  '%s inbox: %s from %s, unknown to its sender' % (st, m, r['from_state']))
    gave_up = [s for s in subs if not s.mid]
    check(all(s.frm == victim for s in gave_up), 'clients gave up on a live gateway: %r' %
          [s.key for s in gave_up if s.frm != victim][:3])
    return len(gave_up), len(extra[victim])


def check_lost(cls, subs, out, wal):
    """Lost ones are the victim's, acknowledged after its last durable point: after every
    submission that survived in its store was sent (a commit lost with the write-ahead log
    came after every commit kept). Kept means stored before the kill: a victim whose start
    went ahead stores new submissions (and retries of unanswered ones) after it, and those
    say nothing of what the lost log held."""
    victim = wal['victim']
    kept = [s.sent for s in subs if s.mid and s.frm == victim and s.mid in out[victim]
            and s.acked < wal['killed_at']]
    for s in cls['lost']:
        check(s.acked > max(kept, default=0), '%s lost although acknowledged before a '
              'submission that survived was even sent' % s.key)
    if cls['lost']:
        say('lost (acknowledged by %s, then its WAL was lost, delivered nowhere): %d, '
            'acknowledged this many seconds before the kill: %s' % (
                victim, len(cls['lost']), ' '.join(
                    '%.2f' % (wal['killed_at'] - s.acked) for s in cls['lost'][:40])))
    for s in cls['lost']:
        say('  lost %s %s -> %s key %s' % (s.mid, s.frm, s.to, s.key))
    for s in cls['victim-lost-peer-holds'][:20]:
        say('  %s lost %s (key %s); %s holds it with its receipt' % (victim, s.mid, s.key, s.to))
    for s in cls['victim-lost-inbound'][:20]:
        say('  %s lost received %s from %s; the sender holds %s\'s receipt' % (
            victim, s.mid, s.frm, victim))


def account(net, subs, wal):
    """Every acknowledged submission in exactly one class; a TestFailure for anything
    duplicated or silently gone. Returns ({class: [Sub]}, gave up, of which stored)."""
    victim = wal['victim']
    out = {st: net[st].outbox() for st in STATES}
    inb = {st: net[st].inbox() for st in STATES}
    cls = {k: [] for k in CLASSES}
    for s in subs:
        if s.mid:
            cls[classify(s, out[s.frm].get(s.mid), inb[s.to].get(s.mid), victim)].append(s)
    gave_up, stored = no_duplicates(net, subs, out, inb, victim)
    check_lost(cls, subs, out, wal)
    return cls, gave_up, stored


def audit_check(net, victim):
    """Exports every bundle; the survivors' verify together (and reconcile); reports what
    verify says with the victim's store as left after its refused start."""
    trust = trust_dir(net, STATES)
    paths = {}
    for st in STATES:
        g = net[st]
        paths[st] = os.path.join(net.dir, st + '.mab')
        net.cli('audit', 'export', '--store', g.store, '--cert', g.pki('audit.crt'),
                '--out', paths[st])

    def verify(files):
        p = net.cli('audit', 'verify', *files, '--trust', trust, '--json', check_rc=False)
        try:
            rep = json.loads(p.stdout.decode())
        except ValueError:
            rep = {}
        reps = rep.get('bundles', [rep])
        fails = [f['message'] for r in reps for f in r.get('failures', [])]
        sv = rep.get('split_view', {})
        fails += [f if isinstance(f, str) else f.get('message', str(f))
                  for f in sv.get('failures', [])]
        text = 'exit %d, %s entries%s%s' % (
            p.returncode, '+'.join(str(r.get('entries', '?')) for r in reps),
            ', split view: %s heads compared, %s beyond a bundle (unchecked)' % (
                sv.get('compared'), sv.get('unchecked')) if sv else '',
            ('; ' + ' | '.join(fails[:3])) if fails else '')
        return p.returncode, text

    live = [paths[st] for st in STATES if st != victim]
    rc, text = verify(live)
    check(rc == 0, 'the bundles of %s do not verify together: %s' % (
        [s for s in STATES if s != victim], text))
    a, b = [s for s in STATES if s != victim]
    p = net.cli('audit', 'reconcile', paths[a], paths[b], '--trust', trust, check_rc=False)
    check(p.returncode == 0, 'reconcile %s %s: exit %d %s' % (a, b, p.returncode,
                                                            p.stdout.decode()[-2000:]))
    res = {'survivors %s+%s' % (a, b): text + '; reconciled'}
    # the victim's store after the refused start is a prefix of its log: its own
    # checkpoints still verify; what the others cosigned beyond it is only counted (SPEC 15)
    rc, res['victim %s alone' % victim] = verify([paths[victim]])
    check(rc == 0, "the victim's bundle does not verify: " + res['victim %s alone' % victim])
    res['all three'] = verify(list(paths.values()))[1]
    for s in STATES:
        if s != victim:
            p = net.cli('audit', 'reconcile', paths[victim], paths[s], check_rc=False)
            text = p.stdout.decode().strip().splitlines()
            res['reconcile %s %s' % (victim, s)] = 'exit %d: %s' % (
                p.returncode, text[-1] if text else p.stderr.decode().strip()[:200])
    return res


def summary(counts, wal, cls, subs, gave_up, unacked_stored, audit):
    """The table scripts/fault-run.sh prints (and the issue's closing note quotes)."""
    rows = [('seed', SEED), ('fault seconds', '%.0f' % SECONDS),
            ('faults', ', '.join('%s %d' % kv for kv in sorted(counts.items()))),
            ('WAL victim', '%s (%d bytes of WAL lost, start %s)' % (
                wal['victim'], wal['wal_bytes'], 'refused' if wal['refused'] else 'went ahead')),
            ('submissions acknowledged', sum(len(v) for v in cls.values()))]
    rows += [('  ' + k, len(v)) for k, v in cls.items()]
    rows += [('retries (attempts beyond the first)', sum(s.attempts - 1 for s in subs)),
             ('answered from the key (stored, 202 lost)', sum(1 for s in subs if s.replayed))]
    rows += [('unacknowledged, client gave up at the victim', gave_up),
             ('  of which stored by the victim anyway', unacked_stored)]
    rows += [('audit ' + k, v) for k, v in audit.items()]
    w = max(len(k) for k, _ in rows)
    print('\n===== fault run summary =====')
    for k, v in rows:
        print('%-*s  %s' % (w, k, v))
    sys.stdout.flush()


def main(mlagw, mlagwd):
    say('seed %d (MLAGW_FAULT_SEED=%d to replay), %.0f s of faults, %.0f/s per direction' % (
        SEED, SEED, SECONDS, RATE))
    rng = random.Random(SEED)
    net = Net(mlagw, mlagwd, STATES, checkpoint_interval='500ms')
    clocks = {st: FakeClock(net.dir, st) for st in STATES}
    for g in net.gws.values():
        g.overrides['audit']['peer_head_wait'] = '3s'
        g.write_config()
    for st in STATES:
        net[st].start(wait=False, env=clocks[st].env())
    for st in STATES:
        net[st].wait_ready()

    subs, lock, counts = [], threading.Lock(), {}
    t0 = time.monotonic()
    pairs = [(a, b) for a in STATES for b in STATES if a != b]
    load = Load(net, 'f', subs, lock, pairs)
    Faults(net, clocks, rng, counts).run(SECONDS)
    for st in STATES:  # faults over: real time, everyone up
        clocks[st].set(0)
        if not net[st].running():
            net[st].start(env=clocks[st].env())
    load.finish()
    n1 = sum(1 for s in subs if s.mid)
    say('faults stopped after %.0f s: %d submissions acknowledged, faults %r' % (
        time.monotonic() - t0, n1, counts))
    drain(net, subs)
    say('drained')

    wal = lose_wal(net, clocks, rng, subs, lock, counts)
    drain(net, [s for s in subs if s.frm != wal['victim'] and s.to != wal['victim']])
    time.sleep(2)  # what can still be delivered to and from the living is
    cls, gave_up, unacked_stored = account(net, subs, wal)
    for st in STATES:
        if net[st].running():
            net[st].stop()
    audit = audit_check(net, wal['victim'])

    summary(counts, wal, cls, subs, gave_up, unacked_stored, audit)
    check(counts.get('kill', 0) + counts.get('pause', 0) + counts.get('clock-back', 0) +
          counts.get('clock-forward', 0) > 0 or SECONDS < 3, 'no fault injected')


run(main)
