"""Started as root, mlagwd gives root up (docs/keys.md "Least privilege"): ES runs with
[daemon] user and keyholder_user, two system users this test creates when absent. Its store
is made by `mlagwd --init` as the daemon's user; its peer listener is on a port below 1024
(bound with root borrowed back); its key files belong to the keyholder's user, mode 0400.
Checked: the real, effective, saved and filesystem ids of the daemon, its hook runner and its
keyholder, their groups and capabilities (none), the three processes' filters, an exchange both ways and a reload, the store's owner,
and that root without a user is refused. Needs root: skipped (77) otherwise."""
import os
import pwd
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from test_keyholder import keyholder_of, exchange_both_ways  # noqa: E402

DAEMON_USER, KEYS_USER = 'mlagw-it', 'mlagw-it-keys'
KEYS = ('tls', 'sign', 'encrypt', 'audit')


def ensure_user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(['useradd', '--system', '--no-create-home', '--user-group',
                        '--shell', '/usr/sbin/nologin', name], check=True, capture_output=True)
        return pwd.getpwnam(name)


def low_port():
    for port in range(900, 1000):
        s = socket.socket()
        try:
            s.bind(('127.0.0.1', port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise TestFailure('no free port below 1000')


def ids(pid):
    """{'Uid': [real, effective, saved, fs], 'Gid': [...], 'Groups': [...], 'CapPrm': ...}"""
    out = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            if k in ('Uid', 'Gid', 'Groups'):
                out[k] = [int(x) for x in v.split()]
            elif k in ('CapPrm', 'CapEff'):
                out[k] = int(v, 16)
    return out


def check_ids(what, pid, user):
    got = ids(pid)
    check(got['Uid'] == [user.pw_uid] * 4 and got['Gid'] == [user.pw_gid] * 4,
          '%s: Uid %r Gid %r, wanted %d and %d everywhere' % (what, got['Uid'], got['Gid'],
                                                              user.pw_uid, user.pw_gid))
    check(0 not in got['Groups'], '%s: still in group 0: %r' % (what, got['Groups']))
    check(got['CapPrm'] == 0 and got['CapEff'] == 0, '%s: capabilities left %x %x' %
          (what, got['CapPrm'], got['CapEff']))


def child_named(pid, comm):
    for p in os.listdir('/proc'):
        try:
            with open('/proc/%s/stat' % p) as f:
                st = f.read()
        except OSError:
            continue
        if (st[st.index('(') + 1:st.rindex(')')] == comm and
                int(st[st.rindex(')') + 2:].split()[1]) == pid):
            return int(p)
    raise TestFailure('no %s process under %d' % (comm, pid))


def seccomp_mode(pid):
    with open('/proc/%d/status' % pid) as f:
        return [line.split()[1] for line in f if line.startswith('Seccomp:')][0]


# /bin/sh, not this interpreter: it may live where the user cannot read (under /root)
PROBE = '( exec 3</proc/"$1"/mem ) 2>/dev/null && echo open || echo denied'


def mem_open_as(user, pid):
    """What a process of user (a hook command runs as the daemon's user) gets opening
    /proc/PID/mem: "open" or "denied"."""
    def become():
        os.setgroups([])
        os.setresgid(user.pw_gid, user.pw_gid, user.pw_gid)
        os.setresuid(user.pw_uid, user.pw_uid, user.pw_uid)
    p = subprocess.run(['/bin/sh', '-c', PROBE, 'probe', str(pid)], capture_output=True,
                       text=True, preexec_fn=become, timeout=30)
    return p.stdout.strip() or p.stderr.strip()


def memory_closed_to_its_user(pid, user):
    """The daemon is not dumpable: another process of its user cannot read or rewrite its
    memory, which a hook command could otherwise do without any call the runner's filter
    denies. The control: the same probe opens a dumpable process of that user."""
    other = subprocess.Popen(['sleep', '60'], preexec_fn=lambda: (
        os.setgroups([]), os.setresgid(user.pw_gid, user.pw_gid, user.pw_gid),
        os.setresuid(user.pw_uid, user.pw_uid, user.pw_uid)))
    try:
        control = mem_open_as(user, other.pid)
    finally:
        other.kill()
        other.wait()
    check(control == 'open', 'the probe cannot open a dumpable process of %s: %r' %
          (user.pw_name, control))
    got = mem_open_as(user, pid)
    check(got == 'denied', 'a process of %s opened the daemon\'s memory: %r' %
          (user.pw_name, got))
    print('ok - a process of %s cannot open /proc/%d/mem of the daemon (it opens a dumpable '
          'process of that user)' % (user.pw_name, pid))


def refuses_root_without_user(net):
    co = net['CO']
    bad = os.path.join(net.dir, 'root.conf')
    with open(bad, 'w') as f:
        f.write(co.config_text({'daemon': None}))
    p = subprocess.run([net.mlagwd, '-c', bad, '--foreground'], capture_output=True,
                       timeout=30)
    check(p.returncode == 1 and b'refusing to run as root' in p.stderr and
          b'[daemon] user' in p.stderr, 'root without a user: exit %d %r' %
          (p.returncode, p.stderr))
    print('ok - root without [daemon] user or allow_root is refused: %s' %
          p.stderr.decode().strip())


def hand_over(net, es, daemon, keys):
    """What each of ES's users needs: the daemon its directory, certificates and roots; the
    keyholder its key files (0400) and the configuration."""
    os.chmod(net.dir, 0o755)
    os.chown(es.dir, daemon.pw_uid, daemon.pw_gid)
    for k in KEYS:
        path = es.pki(k + '.key')
        os.chown(path, keys.pw_uid, keys.pw_gid)
        os.chmod(path, 0o400)


def main(mlagw, mlagwd):
    daemon, keys = ensure_user(DAEMON_USER), ensure_user(KEYS_USER)
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es = net['ES']
    es.port = low_port()
    es.overrides = {'daemon': {'allow_root': None, 'user': DAEMON_USER,
                               'keyholder_user': KEYS_USER}}
    hand_over(net, es, daemon, keys)
    refuses_root_without_user(net)
    net.start_all()
    st = os.stat(es.store)
    check(st.st_uid == daemon.pw_uid, 'the store belongs to uid %d, wanted %d' %
          (st.st_uid, daemon.pw_uid))
    holder = keyholder_of(es.proc.pid)
    check_ids('mlagwd', es.proc.pid, daemon)
    check_ids('keyholder', holder, keys)
    check_ids('hook runner', child_named(es.proc.pid, 'mlagw-hooks'), daemon)
    check(seccomp_mode(es.proc.pid) == '2' and seccomp_mode(holder) == '2' and
          seccomp_mode(child_named(es.proc.pid, 'mlagw-hooks')) == '2',
          'the daemon, the keyholder or the hook runner has no seccomp filter')
    check('privileges-dropped' in es.log_text(), 'no privileges-dropped line')
    memory_closed_to_its_user(es.proc.pid, daemon)
    print('ok - mlagwd and its hook runner run as %s (%d:%d), its keyholder as %s (%d:%d): '
          'real, effective, saved and fs ids, no group 0, no capabilities; all three filtered; the '
          'store belongs to %s; peer listener on port %d' % (DAEMON_USER, daemon.pw_uid, daemon.pw_gid, KEYS_USER,
                                   keys.pw_uid, keys.pw_gid, DAEMON_USER, es.port))
    exchange_both_ways(net, 5)
    es.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: 'reloaded' in es.log_text(), 20, msg='ES reloaded')
    check('reload-refused' not in es.log_text(), 'ES refused its reload')
    exchange_both_ways(net, 3)
    check(es.running() and keyholder_of(es.proc.pid) == holder, 'ES or its keyholder changed')
    print('ok - exchanges both ways before and after a reload, as the unprivileged users')
    es.stop()
    net.stop_all()


if __name__ == '__main__':
    if os.geteuid() != 0:
        print('SKIP: dropping privileges needs root (tests run as root in CI)')
        sys.exit(77)
    run(main)
