"""Issue 10 finding 6: about 3,000 connections that never start TLS pinned the daemon at the
descriptor limit; it then spun a core and wrote ~50 MB/s of libevent's "Too many open files".
Now each listener caps connections per source address ([limits] max_connections_per_source:
the sweep closes the newest beyond it) and in total ([limits] max_connections, kept below the
descriptor limit: accepting pauses at it, so a flood waits in the kernel's backlog), backs off
when accept() runs out of descriptors, and logs refusals once per interval with counts. A
valid peer keeps delivering through both floods."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def flood(port, source, n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(5)
        try:
            s.connect(('127.0.0.1', port))
        except OSError:
            s.close()
            continue
        socks.append(s)
    return socks


def still_open(socks):
    n = 0
    for s in socks:
        try:
            s.setblocking(False)
            if s.recv(1) != b'':
                n += 1
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    co.overrides = {'limits': {'max_connections_per_source': '20', 'max_connections': '60',
                               'header_timeout': '30s'}}
    net.start_all()
    # one source opening 100 connections that never speak TLS: the newest beyond 20 closed
    socks = flood(co.port, '127.0.0.2', 100)
    wait_until(lambda: still_open(socks) <= 20, 10, msg='per-source cap applied')
    mid = es.submit('CO', doc=b'<Request>through a flood</Request>')['message_id']
    wait_until(lambda: es.all_in_state([mid], DELIVERED), 30, msg='delivered beside one flood')
    open_one = still_open(socks)
    check(open_one == 20, 'one source keeps %d connections, want 20 (the oldest)' % open_one)
    # four sources within their cap: at the total of 60 accepting pauses (no descriptor used)
    more = []
    for src in ('127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'):
        more += flood(co.port, src, 20)
    time.sleep(2)
    for s in socks + more:
        s.close()  # the flood ends: accepting resumes and the valid peer goes on
    mid2 = es.submit('CO', doc=b'<Request>after the flood</Request>')['message_id']
    wait_until(lambda: es.all_in_state([mid2], DELIVERED), 30, msg='delivered after the flood')
    time.sleep(1.5)
    log = co.log_text()
    refused = [l for l in log.splitlines() if 'connections-refused' in l]
    check(refused and len(refused) <= 3, 'refusal log lines: %d (want 1-3, counted)' %
          len(refused))
    check('over_source_cap=' in refused[0], 'refusal line %r' % refused[0])
    check('Too many open files' not in log, 'accept errors flooded the log')
    net.stop_all()


run(main)
