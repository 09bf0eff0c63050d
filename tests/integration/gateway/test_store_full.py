"""Issue 11 finding 6: on a full disk the daemon stayed up and refused submissions with a clear
503 (good), but wrote about 3,000 store-error lines a second and /healthz kept saying "ok".

The store sits on a small tmpfs that a filler file then fills. While submissions keep coming
(503 each), repeated log lines are rate-limited (one line per event and cause per
[limits] log_repeat_interval, the next one carrying the count of the lines suppressed), /healthz
says the store is failing (503, with SQLite's reason), /metrics has mlagw_store_failing 1 and
counts the errors, and once space is free again health is ok and submissions are accepted.
Needs a tmpfs mount (root): skipped (77) otherwise."""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_api  # noqa: E402

INTERVAL_S = 1


def can_mount():
    d = tempfile.mkdtemp(prefix='mlagw-tmpfs-')
    try:
        ok = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', d],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(['umount', d], capture_output=True)
        return ok
    except OSError:
        return False
    finally:
        os.rmdir(d)


def fill(path):
    """Writes zeros to path until the file system is full (unbuffered: nothing left to flush)."""
    with open(path, 'wb', buffering=0) as f:
        for size in (65536, 512):
            try:
                while True:
                    f.write(b'\0' * size)
            except OSError:
                pass


def healthz(api):
    code, _, out = api.call('GET', '/healthz', role='admin')
    return code, json.loads(out)


def metric(api, name):
    code, _, out = api.call('GET', '/metrics', role='admin')
    check(code == 200, '/metrics: HTTP %d' % code)
    m = re.search(r'^%s (\d+)$' % re.escape(name), out.decode(), re.M)
    check(m is not None, '/metrics has no %s' % name)
    return int(m.group(1))


def drive(es, seconds):
    """Submits from three threads for seconds; returns the HTTP codes seen."""
    codes, lock, stop = {}, threading.Lock(), time.monotonic() + seconds

    def worker():
        while time.monotonic() < stop:
            try:
                code, _ = es.http('POST', '/local/v1/submit', b'<Request>full</Request>',
                                  {'X-MLA-To': 'CO', 'X-MLA-Kind': 'mla'}, timeout=30)
            except OSError:
                code = 0
            with lock:
                codes[code] = codes.get(code, 0) + 1
    ts = [threading.Thread(target=worker) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return codes


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es = net['ES']
    disk = os.path.join(net.dir, 'es-disk')
    os.makedirs(disk)
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', disk], check=True)
    try:
        run_full(net, es, disk)
    finally:
        net.kill_all()
        subprocess.run(['umount', '-l', disk], capture_output=True)


def run_full(net, es, disk):
    es.store = os.path.join(disk, 'store.db')
    es.overrides['limits'] = {'log_repeat_interval': '%ds' % INTERVAL_S}
    apis = test_api.setup(net)
    api = apis['ES']
    es.submit('CO')
    code, h = healthz(api)
    check(code == 200 and h['status'] == 'ok' and h['store']['status'] == 'ok',
          'healthz before: %d %r' % (code, h))
    check(metric(api, 'mlagw_store_failing') == 0, 'store failing before the fault')

    filler = os.path.join(disk, 'filler')
    fill(filler)
    log_before = len(es.log_text())
    t0 = time.monotonic()
    codes = drive(es, 4)
    elapsed = time.monotonic() - t0
    sys.stderr.write('full disk: %r in %.1fs\n' % (codes, elapsed))
    check(codes.get(503, 0) >= 20, 'the full disk was not hit: %r' % codes)
    check(set(codes) <= {202, 503}, 'unexpected answers %r' % codes)

    log = es.log_text()[log_before:]
    errs = [ln for ln in log.splitlines() if ' store-error ' in ln]
    causes = {re.search(r'(?:op|cause)=(\S+)', ln).group(1) for ln in errs}
    sys.stderr.write('%d store-error lines (%d causes), e.g.\n%s\n' % (
        len(errs), len(causes), '\n'.join(errs[:6])))
    # one line per cause per interval, the first at once: at most (seconds + 1) per cause
    check(len(errs) <= len(causes) * (int(elapsed / INTERVAL_S) + 2),
          '%d store-error lines in %.1fs for %d causes' % (len(errs), elapsed, len(causes)))
    sup = [int(m.group(1)) for m in (re.search(r'suppressed=(\d+)', ln) for ln in errs) if m]
    check(sup and max(sup) > 0, 'no suppressed count in the store-error lines')

    code, h = healthz(api)
    check(code == 503 and h['status'] == 'failing' and h['store']['status'] == 'failing' and
          'full' in h['store'].get('reason', ''), 'healthz on a full disk: %d %r' % (code, h))
    check(es.health()['store']['status'] == 'failing', 'socket health %r' % es.health())
    check(metric(api, 'mlagw_store_failing') == 1, 'mlagw_store_failing is not 1')
    errors = metric(api, 'mlagw_store_errors_total')
    logged = len(errs) + sum(sup)
    check(errors >= logged, 'mlagw_store_errors_total %d < %d store-error lines (written and '
          'suppressed)' % (errors, logged))
    check(len([ln for ln in log.splitlines() if ' store-failing ' in ln]) == 1,
          'not one store-failing line')

    os.unlink(filler)
    # health recovers by itself (it tries a write), then submissions are accepted again
    wait_until(lambda: healthz(api)[0] == 200, 10, 0.2, 'healthz ok after space was freed')
    code, h = healthz(api)
    check(h['status'] == 'ok' and h['store']['status'] == 'ok', 'healthz after %r' % h)
    check(metric(api, 'mlagw_store_failing') == 0, 'store still failing in /metrics')
    mid = es.submit('CO')['message_id']
    wait_until(lambda: es.status(mid)['state'] == 'delivered', 30, 0.2, 'delivered after')
    check('store-recovered' in es.log_text(), 'no store-recovered log line')


if os.geteuid() != 0 or not can_mount():
    print('test_store_full: needs a tmpfs mount (root); skipped')
    sys.exit(77)
run(main)
