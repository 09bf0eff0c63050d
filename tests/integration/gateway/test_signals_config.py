"""Signals and configuration: SIGHUP applies an edited configuration (a new peer, another
max_in_flight) without dropping a keep-alive connection; a broken one is refused and the old
one kept; a bad configuration at start is exit 1 naming file:line; SIGHUP repeated while
exchanges are in flight (their handshakes read the TLS material a reload replaces) loses
nothing; SIGTERM is exit 0."""
import http.client
import os
import signal
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def log_count(gw, word):
    return sum(1 for l in gw.log_text().splitlines() if (' %s ' % word) in l)


def keepalive_post(net, conn, n):
    m = str(uuid.uuid4())
    env = net.seal('ES', 'CO', b'<Request>ka %d</Request>' % n, message_id=m)
    sock_before = conn.sock
    conn.request('POST', '/mla/v1/envelopes', body=env,
                 headers={'Content-Type': 'application/xml'})
    r = conn.getresponse()
    body = r.read()
    check(r.status == 200 and parse_receipt(body)['outcome'] == 'accepted',
          'keep-alive request %d: %d' % (n, r.status))
    check(sock_before is None or conn.sock is sock_before,
          'keep-alive connection was dropped and reopened (request %d)' % n)
    check(r.getheader('Connection', '').lower() != 'close', 'server closes the connection')
    return m


def mx_allowed(net):
    try:
        s, _ = net.post('MX', 'CO', b'<x/>', timeout=5)
        return s
    except (OSError, http.client.HTTPException):
        return None


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], extra_pki=['MX'])
    es, co = net['ES'], net['CO']
    co.trust = ['ES', 'CO', 'MX']
    net.start_all()
    with open(co.pid_file) as f:
        check(int(f.read()) == co.proc.pid, 'pid file content')
    got = []
    conn = http.client.HTTPSConnection('127.0.0.1', co.port, timeout=10,
                                       context=net.client_ctx('ES', 'CO'))
    got.append(keepalive_post(net, conn, 0))
    check(mx_allowed(net) is None, 'MX admitted before it is a peer')
    co.submit('MX', expect=422)

    # edited configuration: MX becomes a peer, ES's max_in_flight changes
    net.url_override['MX'] = 'https://127.0.0.1:%d/mla/v1/envelopes' % free_port()
    co.overrides = {'peer ES': {'max_in_flight': '2'},
                    'peer MX': {'url': net.peer_url('MX'), 'encrypt_cert': net.pki('MX', 'encrypt.crt'),
                                'max_in_flight': '1'}}
    co.write_config()
    co.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: log_count(co, 'reloaded') == 1, 10, msg="'reloaded' log line")
    check(' peers=2' in [l for l in co.log_text().splitlines() if ' reloaded ' in l][0],
          'reload line does not show 2 peers')
    got.append(keepalive_post(net, conn, 1))
    s = mx_allowed(net)
    check(s == 422, 'MX after the reload: %r, want 422 (admitted, envelope refused)' % s)
    mx_msg = co.submit('MX')['message_id']
    # still serving the relay: CO -> ES and ES -> CO
    a = co.submit('ES')['message_id']
    b = es.submit('CO')['message_id']
    got.append(b)
    wait_until(lambda: co.all_in_state([a], DELIVERED) and es.all_in_state([b], DELIVERED), 20,
               msg='delivery after the reload')

    # broken configuration: refused, the running one kept
    good_text = open(co.conf).read()
    co.write_config(text=good_text.replace('[limits]', '[limits]\nmax_bodyy_bytes = 1 MiB'))
    co.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: log_count(co, 'reload-refused') == 1, 10, msg="'reload-refused' log line")
    check(log_count(co, 'reloaded') == 1, 'a broken config was applied')
    check(co.running(), 'CO died on a broken reload')
    got.append(keepalive_post(net, conn, 2))
    check(mx_allowed(net) == 422, 'MX no longer admitted after a refused reload')
    c = es.submit('CO')['message_id']
    got.append(c)
    wait_until(lambda: es.all_in_state([c], DELIVERED), 20, msg='delivery after refused reload')
    conn.close()
    counts = co.inbox_counts()
    check(set(counts) == set(got) and all(n == 1 for n in counts.values()),
          'CO inbox %r, want %r' % (counts, got))
    check(co.outbox([mx_msg])[mx_msg]['state'] in (QUEUED, SENDING), 'message to MX')

    # a bad configuration at start: exit 1, stderr names file:line
    bad = os.path.join(co.dir, 'bad.conf')
    lines = good_text.splitlines()
    at = lines.index('[gateway]') + 2
    lines.insert(at - 1, 'stor = x.db')
    with open(bad, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    p = subprocess.run([net.mlagwd, '-c', bad, '--foreground'], capture_output=True, timeout=20)
    err = p.stderr.decode()
    check(p.returncode == 1, 'bad config: exit %d, want 1' % p.returncode)
    check(('bad.conf:%d:' % at) in err and 'stor' in err, 'stderr %r does not name bad.conf:%d'
          % (err, at))

    # reloads during a burst: every message delivered once, no sanitizer report (run() checks)
    ids = []
    for i in range(60):
        ids.append(es.submit('CO', doc=b'<Request>hup %d</Request>' % i)['message_id'])
        if i % 6 == 0:
            es.proc.send_signal(signal.SIGHUP)
            co.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: es.all_in_state(ids, DELIVERED), 60, msg='delivered across reloads')
    counts = co.inbox_counts()
    check(all(counts.get(m) == 1 for m in ids), 'a message received twice or not at all')

    es.stop()
    co.stop(signal.SIGTERM)  # asserts exit 0 and the pid file removed
    check(' stopped ' in co.log_text(), 'no stopped log line')


run(main)
