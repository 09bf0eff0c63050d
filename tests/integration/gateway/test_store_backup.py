"""Online backup (issue 11, Backups): `mlagw store backup --store STORE --out FILE` copies a
running gateway's store from a read-only connection while submissions flow, as one consistent
snapshot, through a temporary file that is synced and renamed; it refuses to overwrite FILE,
verifies the copy (quick_check, every audit entry against its leaf, the latest checkpoint
under a held key) and reports the audit size and checkpoint size it holds. The backup then
passes `mlagw store check`, and its audit log is a prefix of the live one, its checkpoints
those of the live log up to its size."""
import base64
import json
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='200ms')
    net.start_all()
    es = net['ES']
    first = [es.submit('CO')['message_id'] for _ in range(5)]
    wait_until(lambda: es.counts()['checkpoint_latest'] >= 15, 30, msg='a first checkpoint')
    stop = threading.Event()
    acked = []
    t = threading.Thread(target=lambda: acked.extend(
        submit_burst(es, 'CO', 100000, threads=3, stop=stop)))
    t.start()
    wait_until(lambda: es.counts()['outbox'] >= 50, 60, msg='submissions flowing')
    out = os.path.join(net.dir, 'backup.db')
    p = net.cli('store', 'backup', '--store', es.store, '--out', out, '--json', check_rc=False)
    during = es.counts()['outbox']
    text = p.stdout.decode() + p.stderr.decode()
    check(p.returncode == 0, 'backup under load: exit %d\n%s' % (p.returncode, text))
    rep = json.loads(p.stdout)
    wait_until(lambda: es.counts()['outbox'] >= during + 30, 60, msg='submissions after it')
    stop.set()
    t.join(60)
    check(rep['audit_entries'] > 0 and 0 < rep['checkpoint'] <= rep['audit_entries'],
          'backup report %r' % rep)
    check(os.stat(out).st_mode & 0o077 == 0, 'the backup is readable by others')
    check(not [f for f in os.listdir(net.dir) if f.startswith('backup.db.')],
          'temporary files left: %r' % os.listdir(net.dir))

    # never over an existing file
    before = open(out, 'rb').read()
    p = net.cli('store', 'backup', '--store', es.store, '--out', out, check_rc=False)
    check(p.returncode != 0 and b'exists' in p.stderr,
          'a second backup to the same file: exit %d %r' % (p.returncode, p.stderr))
    check(open(out, 'rb').read() == before, 'the existing backup was changed')

    p = net.cli('store', 'check', '--store', out, check_rc=False)
    check(p.returncode == 0, 'store check of the backup: exit %d\n%s' %
          (p.returncode, p.stdout.decode() + p.stderr.decode()))

    acked += first
    wait_until(lambda: es.all_in_state(acked, DELIVERED), 120, msg='every ack delivered')
    es.stop()
    live = es.audit_rows()
    args = [net.mlagw, 'store', 'show', '--store', out, '--audit', '--json']
    copy = json.loads(subprocess.run(args, capture_output=True, check=True).stdout)
    check(len(copy) == rep['audit_entries'] and len(copy) < len(live),
          'backup holds %d entries (report %d), live %d' %
          (len(copy), rep['audit_entries'], len(live)))
    for r in copy:
        l = live[r['seq']]
        check(base64.b64decode(r['entry']) == l['entry'] and bytes.fromhex(r['leaf']) == l['leaf'],
              'backup entry %d differs from the live one' % r['seq'])
    args = [net.mlagw, 'store', 'show', '--store', out, '--checkpoints', '--json']
    cps = json.loads(subprocess.run(args, capture_output=True, check=True).stdout)
    live_cps = {c['size']: c['note'] for c in es.checkpoints()}
    check(cps and cps[-1]['size'] == rep['checkpoint'], 'backup checkpoints %r' %
          [c['size'] for c in cps])
    for c in cps:  # the notes as signed (a cosignature may have been added since)
        check(live_cps.get(c['size'], b'').startswith(base64.b64decode(c['note']).split(b'\n\n')[0]),
              'backup checkpoint %d is not the live one' % c['size'])
    sys.stderr.write('backup: %d entries, checkpoint %d; live %d entries after %d acks\n' %
                     (len(copy), rep['checkpoint'], len(live), len(acked)))
    net.stop_all()


run(main)
