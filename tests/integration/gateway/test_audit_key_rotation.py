"""Audit key rotation mid-log under load, across three gateways (issue 12; SPEC 14 "Audit key
changes"): while ES sends to CO and MX, its audit key is replaced by a reload; the log records
audit-key-changed naming the new certificate, the checkpoint covering it is signed by the old
key and the later ones by the new; CO and MX keep cosigning ES's checkpoints across the change;
then a second change at a restart, with [keys] previous_audit_* naming the key replaced. ES's
exported bundle (format 3, one certificate per key) verifies offline with the roots alone, as
do CO's and MX's, and all three together (split view across the rotation)."""
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def cosigned_by(gw, peer_state):
    """Sizes of gw's checkpoints that carry a cosignature line of peer_state."""
    tag = ('mlagw.%s/witness' % peer_state.lower()).encode()
    return [c['size'] for c in gw.checkpoints() if tag in c['note']]


def key_changes(gw):
    return [e for e in gw.audit() if e['event'] == 'audit-key-changed']


def load(es, stop, acked, count):
    """Submissions to CO and MX until stop; count[0] follows the acknowledgements, acked gets
    the ids when each thread ends."""
    lock = threading.Lock()

    def seen(_n):
        with lock:
            count[0] += 1

    def one(to):
        acked.extend(submit_burst(es, to, 100000, threads=1, on_ack=seen, stop=stop))
    ts = [threading.Thread(target=one, args=(to,)) for to in ('CO', 'MX')]
    for t in ts:
        t.start()
    return ts


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'MX'], checkpoint_interval='200ms')
    net.start_all()
    es = net['ES']
    stop, acked, count = threading.Event(), [], [0]
    ts = load(es, stop, acked, count)
    wait_until(lambda: count[0] >= 100, 60, msg='load before the rotation')

    # 1. by reload, under load
    issue_audit_key(net, 'ES', 'r1', es.pki('audit.key'), es.pki('audit.crt'))
    es.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: 'audit-key-changed' in es.log_text(), 20,
               msg='the new audit key taking over')
    n0 = count[0]
    wait_until(lambda: count[0] >= n0 + 100, 60, msg='load after the rotation')
    changes = key_changes(es)
    check(len(changes) == 1, 'audit-key-changed entries after the reload: %r' % changes)
    seq = int(changes[0]['seq'])
    # the peers cosign checkpoints beyond the change
    wait_until(lambda: any(s > seq + 1 for s in cosigned_by(es, 'CO')) and
               any(s > seq + 1 for s in cosigned_by(es, 'MX')), 30,
               msg='CO and MX cosigning ES\'s checkpoints signed by the new key')
    stop.set()
    for t in ts:
        t.join()
    wait_until(lambda: es.all_in_state(acked, DELIVERED), 90, msg='every message delivered')

    # 2. at a restart, with the previous key configured
    es.stop()
    prev = {n: os.path.join(net.dir, 'previous-' + n) for n in ('audit.key', 'audit.crt')}
    for n, p in prev.items():
        with open(es.pki(n), 'rb') as f, open(p, 'wb') as t:
            t.write(f.read())
        os.chmod(p, 0o600)
    issue_audit_key(net, 'ES', 'r2', es.pki('audit.key'), es.pki('audit.crt'))
    es.overrides['keys'] = {'previous_audit_cert': prev['audit.crt'],
                            'previous_audit_key': prev['audit.key']}
    es.write_config()
    es.start()
    more = [es.submit(to)['message_id'] for to in ('CO', 'MX') for _ in range(5)]
    wait_until(lambda: es.all_in_state(more, DELIVERED), 60, msg='messages after the restart')
    wait_until(lambda: len(key_changes(es)) == 2, 10, msg='the second audit-key-changed')
    seq2 = int(key_changes(es)[1]['seq'])
    more2 = [es.submit('CO')['message_id'] for _ in range(3)]
    wait_until(lambda: es.all_in_state(more2, DELIVERED), 60, msg='messages after the change')
    wait_until(lambda: any(s > seq2 + 1 for s in cosigned_by(es, 'CO')), 30,
               msg='CO cosigning after the second change')

    net.stop_all()
    for s in ('ES', 'CO', 'MX'):
        verify_exported(net, s)
    es_b = os.path.join(net.dir, 'ES-exported.mab')
    with open(es_b, 'rb') as f:
        head = f.read(4096)
    check(head.startswith(b'mlagw-audit-bundle/3\n') and b'certificate audit.2 ' in head and
          b'certificate audit.3 ' in head, 'ES bundle does not carry its three audit keys')
    p = net.cli('audit', 'verify', es_b, os.path.join(net.dir, 'CO-exported.mab'),
                os.path.join(net.dir, 'MX-exported.mab'), '--trust',
                os.path.join(net.dir, 'trust-ES'), check_rc=False)
    sys.stderr.write(p.stdout.decode()[-3000:] + p.stderr.decode())
    check(p.returncode == 0, 'the three bundles together: exit %d' % p.returncode)


run(main)
