"""Expiry warnings (protocol/SPEC.md 18.8) under a fake clock: 45 days before the leaf
certificates expire, every own and directory-listed certificate is warned of at the 60-day
threshold and the directory (10 days from its expiry) and the CRL (20 days from its
nextUpdate) at 30, each once, through the log,
/healthz, /metrics and the [expiry] command; 25 days later the certificates reach 30 and the
directory is past its expiry; further checks and a reload warn of nothing again. The command
runs under the hook runner's seccomp filter: a program it starts may not set a personality."""
import collections
import datetime
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from fakeclock import FakeClock  # noqa: E402
from test_directory import DAY, Directory, admin_api, directory_config, healthz, reload  # noqa

USES = ('tls', 'signing', 'encryption', 'audit')


def not_after(path):
    out = subprocess.run(['openssl', 'x509', '-noout', '-enddate', '-in', path], check=True,
                         capture_output=True, text=True).stdout.strip()
    t = datetime.datetime.strptime(out.split('=', 1)[1], '%b %d %H:%M:%S %Y %Z')
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp())


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ')


def calls(path):
    """The hook's calls: (what, name, threshold, not_after, days_left) per line."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [tuple(line.split()) for line in f if line.strip()]


def by_name(cs):
    out = collections.defaultdict(list)
    for c in cs:
        out[c[1]].append(c[2])
    return out


def warned(api):
    code, h = healthz(api)
    check(code in (200, 503), 'healthz %d' % code)
    return h, {w['name']: w for w in h['expiry']['warnings']} if h['expiry']['checked'] else {}


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es = net['ES']
    api = admin_api(es)
    leaf_end = not_after(es.pki('tls.crt'))
    # the fake "now": 45 days before the leaf certificates end
    start = leaf_end - 45 * DAY
    d = Directory(net, ['ES', 'CO'])
    dfile = os.path.join(net.dir, 'es-directory.xml')
    os.replace(d.publish(1, expires=iso(start + 10 * DAY)), dfile)
    hook = os.path.join(net.dir, 'expiry-hook.sh')
    log = os.path.join(net.dir, 'expiry-calls.txt')
    # each call also asks for what the hook runner's filter refuses (setting a personality:
    # allowed to any user without it), as any program the runner starts inherits the filter
    probes = os.path.join(net.dir, 'expiry-probes.txt')
    probe = ('%s -c "import ctypes, sys; sys.exit(ctypes.CDLL(None).personality(0) == -1)"' %
             sys.executable)
    with open(hook, 'w') as f:
        f.write('#!/bin/sh\necho "$@" >> %s\n'
                '%s && echo allowed >> %s || echo refused >> %s\n' % (log, probe, probes, probes))
    os.chmod(hook, 0o755)
    # ES's CRL (SPEC 18.7) from the fake "now", to be replaced 20 days later
    crl = os.path.join(net.dir, 'es-crl.pem')
    net.cli('pki', 'crl', '--state', 'ES', '--out', net.pki_dir, '--file', crl, '--from',
            str(start), '--valid', str(20 * DAY))
    clock = FakeClock(net.dir, 'ES')
    clock.set(start - int(time.time()))
    directory_config(es, dfile, extra={'expiry': {'command': hook, 'check_interval': '1s'},
                                       'revocation': {'crl': crl, 'fail': 'open'}})
    es.start(env=clock.env())

    names = ['own/' + u for u in USES] + ['dir/%s/%s' % (s, u) for s in ('ES', 'CO')
                                           for u in USES]
    _, w = wait_until(lambda: (lambda h, w: (h, w) if all(n in w for n in names) and
                               'directory' in w and 'crl/1' in w else None)(*warned(api)), 30,
                      msg='the 60-day warnings in /healthz')
    h, w = warned(api)
    for n in names:
        check(w[n]['threshold'] == 60 and 43 <= w[n]['days_left'] <= 45 and
              w[n]['what'] == 'certificate' and w[n]['subject'], 'warning %r' % w[n])
    check(w['directory']['threshold'] == 30 and w['directory']['what'] == 'directory',
          'directory warning %r' % w['directory'])
    check(w['crl/1']['threshold'] == 30 and w['crl/1']['what'] == 'crl' and
          'ES' in w['crl/1']['subject'], 'CRL warning %r' % w['crl/1'])
    check(not any(n.startswith('root/') or n.endswith('/root') for n in w),
          'a root ten years from its end was warned of: %r' % sorted(w))
    check(h['status'] == 'degraded', 'status %r with warnings' % h['status'])
    wait_until(lambda: all(n in by_name(calls(log)) for n in names + ['directory', 'crl/1']),
               30, msg='the hook called for every warning')
    cs = by_name(calls(log))
    for n in names:
        check(cs[n] == ['60'], '%s: hook calls %r, wanted one at 60' % (n, cs[n]))
    check(cs['directory'] == ['30'] and cs['crl/1'] == ['30'], 'directory and CRL: hook '
          'calls %r %r' % (cs['directory'], cs['crl/1']))
    text = es.log_text()
    check('event=expiry-warning' in text or 'expiry-warning' in text, 'no expiry-warning line')
    print('ok - 45 days before: every certificate warned at 60 days, the directory and the CRL '
          'at 30, once')
    with open(probes) as f:
        seen = f.read().split()
    check(seen and set(seen) == {'refused'}, 'the hook set a personality under the hook '
          "runner's filter: %r" % seen)
    print("ok - the hook's own child was refused a personality (the hook runner's filter)")

    code, _, m = api.call('GET', '/metrics', role='admin')
    m = m.decode()
    check(code == 200 and 'mlagw_expiry_seconds{what="certificate",name="own/tls"}' in m and
          'mlagw_expiry_seconds{what="directory",name="directory"}' in m,
          'metrics lack the expiry gauges')
    nwarn = [int(line.split()[1]) for line in m.splitlines()
             if line.startswith('mlagw_expiry_warnings ')]
    check(nwarn and nwarn[0] == len(w), 'mlagw_expiry_warnings %r, healthz %d' % (nwarn, len(w)))
    print('ok - /metrics: seconds to each expiry and the count of warnings')

    # 25 days on: the certificates reach 30 days, the directory is past its expiry
    clock.set(start + 25 * DAY - int(time.time()))
    wait_until(lambda: all(by_name(calls(log))[n] == ['60', '30'] for n in names) and
               by_name(calls(log))['directory'] == ['30', '0'] and
               by_name(calls(log))['crl/1'] == ['30', '0'], 30,
               msg='the 30-day warnings and the expired directory')
    check('expired' in es.log_text(), 'no "expired" log line')
    print('ok - 25 days later: each certificate warned again at 30, the directory and the CRL '
          'as expired')

    # more checks and a reload: nothing is warned of twice
    before = calls(log)
    reload(es)
    time.sleep(3.5)
    after = calls(log)
    check(after == before, 'warned again without a new threshold: %r' % after[len(before):])
    print('ok - later checks and a reload warn of nothing twice')
    net.cleanup()


if __name__ == '__main__':
    run(main)
