"""Out of descriptors (issue 10 finding 6, and a review finding on its fix): when accept()
fails with EMFILE the listener backs off instead of spinning, counts the errors in one log
line, and resumes; the daemon survives and a valid peer delivers once the flood ends. The
descriptor limit is lowered on the running CO (after its listener computed its caps), so
accept() itself runs out rather than the caps stopping the flood first."""
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    co.overrides = {'limits': {'header_timeout': '30s', 'max_connections_per_source': '1000'}}
    net.start_all()
    fds = len(os.listdir('/proc/%d/fd' % co.proc.pid))
    soft, hard = resource.prlimit(co.proc.pid, resource.RLIMIT_NOFILE)
    limit = fds + 24  # the soft limit only: raising it back needs no privilege
    resource.prlimit(co.proc.pid, resource.RLIMIT_NOFILE, (limit, hard))
    socks = []
    for _ in range(80):  # more than the descriptors left: accept() fails with EMFILE
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(('127.0.0.1', co.port))
            socks.append(s)
        except OSError:
            s.close()
    time.sleep(2)
    check(co.proc.poll() is None, 'CO died when it ran out of descriptors (exit %r)' %
          co.proc.poll())
    for s in socks:
        s.close()
    resource.prlimit(co.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
    mid = es.submit('CO', doc=b'<Request>after EMFILE</Request>')['message_id']
    wait_until(lambda: es.all_in_state([mid], DELIVERED), 30, msg='delivered after EMFILE')
    time.sleep(11)  # the counted line is written at most once per 10 s
    mid2 = es.submit('CO', doc=b'<Request>and again</Request>')['message_id']
    wait_until(lambda: es.all_in_state([mid2], DELIVERED), 30, msg='second delivery')
    log = co.log_text()
    lines = [l for l in log.splitlines() if 'connections-refused' in l]
    check(any('accept_errors=' in l and 'accept_errors=0' not in l for l in lines),
          'no counted accept errors in the log: %r' % lines)
    check(len(lines) <= 3, 'accept errors logged %d times (want one line per interval)' %
          len(lines))
    # libevent's own line ("[warn] Error from accept() call: ...") has none of the gateway's
    # fields; the gateway's lines (e.g. expiry-check failing to open a file then) may name
    # the error
    raw = [l for l in log.splitlines() if 'Too many open files' in l and ' msg=' not in l]
    check(not raw, "libevent's own accept error reached the log: %r" % raw[:3])
    net.stop_all()


run(main)
