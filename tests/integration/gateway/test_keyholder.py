"""The keyholder (issue 17 §1, docs/internals/keys.md): after a burst of exchanges both ways
(envelopes signed, opened, receipts signed, checkpoints and cosignatures signed, TLS both
ways), the memory of each network-facing mlagwd process holds none of its four private keys'
secret values, while its keyholder process holds each (the control that the search works).
Then ES's keyholder is killed with SIGKILL under load: ES stops with exit status 1 naming
why, every submission it acknowledged is in its store, and after a restart every one is
delivered exactly once."""
import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

KEYS = ('tls', 'sign', 'encrypt', 'audit')
REGION_MAX = 1 << 30  # sanitizers' shadow regions are mapped but never key memory


def secrets_of(path):
    """Byte strings that only a copy of the key's private value would contain: the private
    scalar, seed or RSA primes, big- and little-endian (OpenSSL's BIGNUM words), 16 bytes of
    each."""
    text = subprocess.run(['openssl', 'pkey', '-in', path, '-text', '-noout'], check=True,
                          capture_output=True, text=True).stdout
    out = []
    for label in ('priv', 'prime1', 'prime2', 'privateExponent'):
        m = re.search(r'^%s:\s*\n((?:\s+[0-9a-f:]+\n)+)' % label, text, re.M)
        if not m:
            continue
        raw = bytes.fromhex(re.sub(r'[\s:]', '', m.group(1))).lstrip(b'\0')
        for b in (raw, raw[::-1]):
            out.append(b[4:20])
    check(out, 'no private value found in %s' % path)
    return out


def memory_has(pid, needles):
    """Which of needles occur in the readable memory of pid."""
    found = set()
    with open('/proc/%d/maps' % pid) as maps, open('/proc/%d/mem' % pid, 'rb', 0) as mem:
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split('-'))
            if 'r' not in f[1] or hi - lo > REGION_MAX or (len(f) > 5 and f[5] == '[vvar]'):
                continue
            try:
                mem.seek(lo)
                chunk = mem.read(hi - lo)
            except OSError:
                continue
            for i, n in enumerate(needles):
                if n in chunk:
                    found.add(i)
    return found


def keyholder_of(pid):
    return child_of(pid, 'mlagw-keyholder')


def child_of(pid, name):
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % p) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index('(') + 1:st.rindex(')')]
        ppid = int(st[st.rindex(')') + 2:].split()[1])
        if ppid == pid and comm == name:
            return int(p)
    raise TestFailure('no %s process under %d' % (name, pid))


def exchange_both_ways(net, n):
    ids = {'ES': [net['ES'].submit('CO')['message_id'] for _ in range(n)],
           'CO': [net['CO'].submit('ES')['message_id'] for _ in range(n)]}
    for s in ('ES', 'CO'):
        wait_until(lambda: net[s].all_in_state(ids[s], DELIVERED), 60,
                   msg='%s messages delivered' % s)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='200ms')
    net.start_all()
    exchange_both_ways(net, 20)
    time.sleep(1)  # checkpoints and cosignatures signed meanwhile
    for s in ('ES', 'CO'):
        g = net[s]
        needles, owner = [], []
        for k in KEYS:
            for n in secrets_of(g.pki(k + '.key')):
                needles.append(n)
                owner.append(k)
        daemon, holder = g.proc.pid, keyholder_of(g.proc.pid)
        in_daemon = memory_has(daemon, needles)
        in_holder = memory_has(holder, needles)
        check(not in_daemon, '%s: private values of %s in the network-facing process' %
              (s, sorted({owner[i] for i in in_daemon})))
        check({owner[i] for i in in_holder} == set(KEYS), '%s: the control failed: the '
              'keyholder holds %s' % (s, sorted({owner[i] for i in in_holder})))
        for pid, what in ((daemon, 'mlagwd'), (holder, 'keyholder')):
            with open('/proc/%d/status' % pid) as f:
                status = f.read()
            with open('/proc/%d/limits' % pid) as f:
                core = [line.split()[4:6] for line in f if line.startswith('Max core file')]
            check('NoNewPrivs:\t1' in status and core == [['0', '0']],
                  '%s %s: no_new_privs or core limit not set' % (s, what))
        with open('/proc/%d/status' % holder) as f:
            check('Seccomp:\t2' in f.read(), '%s: the keyholder has no seccomp filter' % s)
        with open('/proc/%d/status' % child_of(daemon, 'mlagw-hooks')) as f:
            check('Seccomp:\t2' in f.read(), '%s: the hook runner has no seccomp filter' % s)
    print('ok - after exchanges both ways no private key is in either mlagwd; each is in its '
          'keyholder, under seccomp; no_new_privs and no core dumps for both; the hook runner '
          'under seccomp too')

    # SIGKILL of ES's keyholder under load
    es = net['ES']
    stop, acked = threading.Event(), []
    t = threading.Thread(target=lambda: acked.extend(
        submit_burst(es, 'CO', 100000, threads=2, stop=stop)))
    t.start()
    wait_until(lambda: len(es.outbox(blobs=False)) >= 60, 60, msg='load before the kill')
    os.kill(keyholder_of(es.proc.pid), signal.SIGKILL)
    rc = es.proc.wait(60)
    stop.set()
    t.join()
    check(rc == 1, 'ES exited %r after its keyholder died, wanted 1' % rc)
    check('keyholder-failed' in es.log_text(), 'no keyholder-failed line')
    rows = es.outbox(blobs=False)
    check(all(m in rows for m in acked), 'an acknowledged submission is not in the store')
    es.start()
    wait_until(lambda: es.all_in_state(acked, DELIVERED), 120, msg='every acknowledged '
               'message delivered after the restart')
    counts = net['CO'].inbox_counts()
    check(all(counts.get(m) == 1 for m in acked), 'not every message received exactly once')
    print('ok - keyholder killed under load: ES stopped (exit 1), %d acknowledged messages '
          'kept and delivered once after the restart' % len(acked))
    check_landlock(net)
    net.cleanup()


def landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return max(libc.syscall(444, None, 0, 1), 0)  # landlock_create_ruleset(VERSION)


def copy_to(src, folder):
    """src copied into folder (made fresh), the copy's path."""
    os.makedirs(folder)
    dst = os.path.join(folder, os.path.basename(src))
    with open(src, 'rb') as f, open(dst, 'wb') as t:
        t.write(f.read())
    os.chmod(dst, 0o600)
    return dst


def reload_outcome(gw, section, key, value):
    """Sets [section] key = value, sends SIGHUP and waits for the reload's outcome: the log
    text it added."""
    before = len(gw.log_text())
    gw.overrides.setdefault(section, {})[key] = value
    gw.write_config()
    gw.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: 'reload-refused' in gw.log_text()[before:] or
               'reloaded' in gw.log_text()[before:], 30, msg='%s reloaded or refused' % gw.state)
    return gw.log_text()[before:]


def check_landlock(net):
    """Each process reads only the folders it was started with ([daemon] landlock): a reload
    naming the same signing key copied to another folder is refused, the keyholder unable to
    read it; one naming the same signing certificate copied to a fresh folder is refused, the
    network-facing daemon unable to read it, the running configuration kept; with landlock =
    off both start, and the daemon reloads a certificate from a folder it did not start
    with."""
    if landlock_abi() < 1:
        print('ok - SKIPPED the Landlock check: this kernel has no Landlock')
        return
    co = net['CO']
    for process in ('keyholder', 'daemon'):
        check('landlock msg=- process=%s abi=%d' % (process, landlock_abi()) in co.log_text(),
              'the daemon does not say its %s is under Landlock' % process)
    own_key, own_cert = co.pki('sign.key'), co.pki('sign.crt')
    # the test PKI keeps each key beside its certificate: the daemon may read that folder,
    # and says so at start for each key
    check('keys-reachable msg=- file=%s folder=%s' % (own_key, os.path.dirname(own_cert))
          in co.log_text(), 'no keys-reachable line for a key beside its certificate')
    # and the test keeps the configuration beside the store, in a folder the daemon writes
    check('landlock-wide-write msg=- folder=%s ' % co.dir in co.log_text(),
          'no landlock-wide-write line for a configuration beside the store')
    key = copy_to(own_key, os.path.join(net.dir, 'elsewhere'))
    log = reload_outcome(co, 'keys', 'sign_key', key)
    check('reload-refused' in log and 'Permission denied' in log and co.running(),
          'a key outside the folders the keyholder was given was read: %s' % log[-1500:])
    co.overrides['keys']['sign_key'] = own_key
    cert = copy_to(own_cert, os.path.join(net.dir, 'fresh-certs'))
    log = reload_outcome(co, 'keys', 'sign_cert', cert)
    check('reload-refused' in log and 'Permission denied' in log and cert in log and
          co.running(), 'a certificate outside the folders the daemon was given was read: %s'
          % log[-1500:])
    exchange_both_ways(net, 2)  # on the configuration it kept
    co.stop()
    co.overrides['keys']['sign_key'] = key
    co.overrides.setdefault('daemon', {})['landlock'] = 'off'
    co.write_config()
    co.start()
    check('landlock msg=- process=' not in co.log_text().rsplit('--- start ---', 1)[-1],
          'landlock = off, yet a process says it is under Landlock')
    later = copy_to(own_cert, os.path.join(net.dir, 'later-certs'))
    log = reload_outcome(co, 'keys', 'sign_cert', later)
    check('reloaded' in log and 'reload-refused' not in log, 'landlock = off: the reload of a '
          'certificate in a new folder failed: %s' % log[-1500:])
    exchange_both_ways(net, 2)
    print('ok - Landlock (ABI %d): the keyholder cannot read a key outside the folders it '
          'started with, the daemon a certificate (both reloads refused, Permission denied, '
          'the configuration kept and exchanges going on); landlock = off reads both, the '
          'daemon reloading a certificate from a folder made after its start'
          % landlock_abi())


if __name__ == '__main__':
    run(main)
