"""Start-up without --foreground: the parent exits only once the daemon is ready (0, its
listener accepting) or with the start error the foreground would print (exit 1, message on
stderr, no process left): a port in use, a store that is not a database, and a daemon killed
before it reported (held there by a pid file that is a FIFO nobody reads)."""
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

_PIDS = []  # detached daemons to kill if the test fails


def detached(gw):
    """Runs mlagwd without --foreground; returns (exit code, stderr text)."""
    p = subprocess.run([gw.net.mlagwd, '-c', gw.conf], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60)
    if os.path.exists(gw.pid_file):
        with open(gw.pid_file) as f:
            _PIDS.append(int(f.read()))
    return p.returncode, p.stderr.decode(errors='replace')


def daemons_of(gw, keyholders=False):
    """Pids of processes whose command line names gw's configuration file: the daemons, or,
    with keyholders, their keyholder and hook runner processes (forked from them, so named
    alike)."""
    found = []
    for d in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                named = gw.conf.encode() in f.read().split(b'\0')
            with open('/proc/%s/comm' % d) as f:
                holder = f.read().strip() in ('mlagw-keyholder', 'mlagw-hooks')
            if named and holder == keyholders:
                found.append(int(d))
        except (OSError, ValueError):
            pass
    return found


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def port_in_use(gw):
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(('127.0.0.1', gw.port))
    busy.listen(1)
    try:
        rc, err = detached(gw)
    finally:
        busy.close()
    check(rc == 1, 'port in use: exit %d, want 1 (stderr %r)' % (rc, err))
    check('cannot start' in err and ('127.0.0.1:%d' % gw.port) in err,
          'port in use: stderr does not name the listener: %r' % err)
    check(daemons_of(gw) == [] and daemons_of(gw, keyholders=True) == [],
          'port in use: processes left: %r' % (daemons_of(gw) + daemons_of(gw, True)))
    check(not os.path.exists(gw.pid_file), 'port in use: pid file written')


def missing_or_empty_store(gw):
    """A gateway never creates its store: a missing or emptied one is refused, named, and
    left as it was (issue 11: a lost store must not silently become an empty log)."""
    rc, err = detached(gw)
    check(rc == 1 and 'does not exist' in err and 'mlagw store init' in err,
          'missing store: exit %d, stderr %r' % (rc, err))
    check(not os.path.exists(gw.store), 'missing store: a file was created')
    p = gw.init_store()
    check(p.returncode == 0 and os.path.getsize(gw.store) > 0, 'mlagwd --init: %r' % (p,))
    p = gw.init_store()
    check(p.returncode == 1 and b'already exists' in p.stderr, 'second --init: %r' % (p,))
    os.truncate(gw.store, 0)
    rc, err = detached(gw)
    check(rc == 1 and 'is empty' in err, 'empty store: exit %d, stderr %r' % (rc, err))
    check(os.path.getsize(gw.store) == 0, 'empty store: written to')
    check(daemons_of(gw) == [] and daemons_of(gw, keyholders=True) == [],
          'empty store: processes left: %r' % (daemons_of(gw) + daemons_of(gw, True)))
    os.remove(gw.store)
    p = subprocess.run([gw.net.mlagw, 'store', 'init', '--store', gw.store], capture_output=True)
    check(p.returncode == 0 and os.path.getsize(gw.store) > 0, 'mlagw store init: %r' % (p,))


def bad_store(gw):
    with open(gw.store, 'wb') as f:
        f.write(b'this is not an SQLite database\n' * 256)
    rc, err = detached(gw)
    check(rc == 1, 'bad store: exit %d, want 1 (stderr %r)' % (rc, err))
    check('cannot start' in err and 'store' in err, 'bad store: stderr %r' % err)
    check(daemons_of(gw) == [] and daemons_of(gw, keyholders=True) == [],
          'bad store: processes left: %r' % (daemons_of(gw) + daemons_of(gw, True)))
    os.unlink(gw.store)


def killed_before_ready(gw):
    fifo = gw.pid_file + '.fifo'
    os.mkfifo(fifo)  # opening it to write blocks: the child waits there, after start-up
    p = subprocess.Popen([gw.net.mlagwd, '-c', gw.conf, '--pid-file', fifo],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child = wait_until(lambda: [d for d in daemons_of(gw, False) if d != p.pid], 20,
                       msg='the detached child')[0]
    _PIDS.append(child)
    os.kill(child, signal.SIGKILL)
    out, err = p.communicate(timeout=30)
    err = err.decode(errors='replace')
    check(p.returncode == 1, 'killed child: exit %d, want 1 (stderr %r)' % (p.returncode, err))
    check('ended before it was ready (signal 9)' in err, 'killed child: stderr %r' % err)
    wait_until(lambda: daemons_of(gw) == [] and daemons_of(gw, True) == [], 5,
               msg='no process left')
    os.unlink(fifo)


def good_start(gw):
    rc, err = detached(gw)
    # connect at once: exit 0 must mean the listener is already accepting
    with socket.create_connection(('127.0.0.1', gw.port), timeout=5):
        pass
    check(rc == 0, 'good start: exit %d, want 0 (stderr %r)' % (rc, err))
    # start-up's log lines reach the terminal as in the foreground, then nothing more
    check(' started ' in err and 'cannot' not in err, 'good start: stderr %r' % err)
    with open(gw.pid_file) as f:
        pid = int(f.read())
    check(alive(pid) and daemons_of(gw) == [pid] and len(daemons_of(gw, True)) == 2,
          'good start: pid file %d, daemons %r, keyholders %r' % (pid, daemons_of(gw),
                                                                  daemons_of(gw, True)))
    check(os.getsid(pid) == pid, 'good start: the daemon did not start its own session')
    code, _ = gw.http('GET', '/local/v1/health', timeout=5)
    check(code == 200, 'good start: health %d' % code)
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not alive(pid), 30, msg='the daemon to stop on SIGTERM')
    wait_until(lambda: daemons_of(gw, True) == [], 5, msg='its keyholder to end with it')
    check(not os.path.exists(gw.pid_file), 'good start: pid file left after SIGTERM')


def relative_pid_file(gw):
    """--pid-file named relative to the working folder: written there, though the detached
    daemon works from / and its Landlock rules name absolute folders only."""
    rel = 'relative.pid'
    where = os.path.join(gw.dir, rel)
    p = subprocess.run([gw.net.mlagwd, '-c', gw.conf, '--pid-file', rel], cwd=gw.dir,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    check(p.returncode == 0, 'relative --pid-file: exit %d %r' % (p.returncode, p.stderr))
    wait_until(lambda: os.path.exists(where), 10, msg='the pid file in the working folder')
    with open(where) as f:
        pid = int(f.read())
    _PIDS.append(pid)
    check(daemons_of(gw) == [pid], 'relative --pid-file: pid %d, daemons %r' %
          (pid, daemons_of(gw)))
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not alive(pid), 30, msg='the daemon to stop on SIGTERM')
    check(not os.path.exists(where), 'relative --pid-file: left after SIGTERM')
    print('ok - --pid-file %s, relative: written in the working folder and removed at the '
          'stop' % rel)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES'])
    es = net['ES']
    es.write_config()
    try:
        missing_or_empty_store(es)
        port_in_use(es)
        bad_store(es)  # leaves no store behind
        es.init_store()
        killed_before_ready(es)
        good_start(es)
        relative_pid_file(es)
    finally:
        for pid in _PIDS:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


run(main)
