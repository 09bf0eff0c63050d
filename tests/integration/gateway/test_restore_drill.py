"""The restore drill (issue 11, Backups; docs/operations.md): ES is backed up under load
(`mlagw store backup`), keeps going, is killed (SIGKILL) and loses its store. The operator
restores the backup (`mlagw store restore`), the start is refused (CO cosigned beyond the
backup), a new log epoch is opened (`mlagw audit new-epoch`) and ES starts. Every
acknowledged submission is then accounted for:

- in ES's restored store, delivered (it was in the backup: delivered before it, or still queued
  and delivered after the restore, CO answering the resend with its original receipt);
- or given back by CO at the start (SPEC 14 "Log epochs", Recovery): acknowledged after the
  backup and delivered before the crash, now in ES's outbox as delivered with the receipt CO
  issued, and a `recovered` audit entry each;
- or lost: acknowledged after the backup and not delivered before the crash. Counted apart.

The counts are printed; the test asserts that nothing else happens (no acknowledged message of
the backup lost, none delivered twice, none in neither place unless acknowledged after the
backup and not delivered before the crash), and that both epochs' bundles verify and report
the link."""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


class Load:
    """Submissions from three threads until stopped; acked grows as 202s come back."""

    def __init__(self, gw):
        self.gw, self.acked, self.lock = gw, [], threading.Lock()
        self.stop = threading.Event()
        self.ts = [threading.Thread(target=self.worker) for _ in range(3)]
        for t in self.ts:
            t.start()

    def worker(self):
        while not self.stop.is_set():
            try:
                code, body = self.gw.http('POST', '/local/v1/submit', b'<Request>drill</Request>',
                                          {'X-MLA-To': 'CO', 'X-MLA-Kind': 'mla'}, timeout=30)
            except (OSError, http.client.HTTPException):
                return  # the gateway died
            if code != 202:
                return
            with self.lock:
                self.acked.append(json.loads(body)['message_id'])

    def count(self):
        with self.lock:
            return len(self.acked)

    def end(self):
        self.stop.set()
        for t in self.ts:
            t.join(60)
        return list(self.acked)


def trust_dir(net):
    d = os.path.join(net.dir, 'trust')
    os.makedirs(d, exist_ok=True)
    for s in net.gws:
        shutil.copy(net.pki(s, 'root.crt'), os.path.join(d, s + '.crt'))
    return d


def outbox_ids(net, store):
    p = subprocess.run([net.mlagw, 'store', 'show', '--store', store, '--outbox', '--json'],
                       capture_output=True, check=True)
    return {r['message_id'] for r in json.loads(p.stdout)}


def cosigned_by_co(es):
    return max([c['size'] for c in es.checkpoints()
                if b'\xe2\x80\x94 mlagw.co/witness ' in c['note']], default=0)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='200ms')
    for g in net.gws.values():
        g.overrides.setdefault('audit', {})['peer_head_wait'] = '2s'
    net.start_all()
    es, co = net['ES'], net['CO']
    trust = trust_dir(net)

    load = Load(es)
    wait_until(lambda: load.count() >= 60, 60, msg='submissions flowing')
    backup = os.path.join(net.dir, 'es-backup.db')
    at_backup = load.count()  # acknowledged before the backup began: all in it
    p = net.cli('store', 'backup', '--store', es.store, '--out', backup, '--json',
                check_rc=False)
    check(p.returncode == 0, 'backup under load: %s %s' % (p.stdout, p.stderr))
    rep = json.loads(p.stdout)
    # keep going: more acknowledged, and CO cosigns beyond the backup's log
    after = load.count()
    wait_until(lambda: load.count() >= after + 80, 60, msg='submissions after the backup')
    wait_until(lambda: cosigned_by_co(es) > rep['audit_entries'], 30,
               msg='CO cosigned beyond the backup')
    # CO goes down for a moment: what ES acknowledges now waits in its queue, then the crash
    co.stop()
    down = load.count()
    wait_until(lambda: load.count() >= down + 20, 60, msg='submissions while CO is down')
    es.proc.send_signal(signal.SIGKILL)
    es.proc.wait()
    acked = load.end()
    queued_at_crash = len(acked) - down
    es.proc = None
    co.start()

    # the store is lost: removed with its write-ahead log
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(es.store + suffix):
            os.remove(es.store + suffix)
    p = net.cli('store', 'restore', '--from', backup, '--store', es.store, check_rc=False)
    print(p.stdout.decode().strip())
    check(p.returncode == 0, 'restore: exit %d %s' % (p.returncode, p.stderr))
    p = net.cli('store', 'restore', '--from', backup, '--store', es.store, check_rc=False)
    check(p.returncode == 1 and b'exists' in p.stderr, 'restore over a store: %r' % (p,))

    # the restored store is refused: CO cosigned more of the log than the backup holds
    es.start(wait=False)
    es.proc.wait(timeout=30)
    check(es.proc.returncode == 1 and 'peer CO cosigned' in
          es.log_text().split('--- start ---')[-1], 'the restored store started')
    es.proc = None
    archive = os.path.join(net.dir, 'es-epoch1.mab')
    # with the audit key, the old epoch ends in a last checkpoint over all the backup's entries
    p = net.cli('audit', 'new-epoch', '--store', es.store, '--cert', es.pki('audit.crt'),
                '--archive', archive, '--trust', trust, '--key', es.pki('audit.key'),
                check_rc=False)
    out = p.stdout.decode()
    check(p.returncode == 0, 'new-epoch: %s %s' % (out, p.stderr))
    print([l for l in out.splitlines() if l.startswith(('epoch', 'lost', 'signed'))])
    sealed = 'signed a last checkpoint of mlagw.es/audit at %d entries' % rep['audit_entries']
    check((sealed in out) == (rep['audit_entries'] > rep['checkpoint']),
          'last checkpoint over the backup (%d entries, checkpoint %d): %s' %
          (rep['audit_entries'], rep['checkpoint'], out))
    es.start()

    in_backup = outbox_ids(net, backup)
    mine = [m for m in acked if m in in_backup]
    wait_until(lambda: es.all_in_state(mine, DELIVERED), 120,
               msg="the backup's acknowledged messages delivered")
    net.stop_all()

    ob = es.outbox()
    recovered = {e['message']: e for e in es.audit() if e['event'] == 'recovered'}
    inbox = co.inbox()
    counts = co.inbox_counts()
    check(all(n == 1 for n in counts.values()), 'a message is in CO inbox twice')
    classes = {'es_delivered_before_backup': 0, 'es_queued_then_delivered': 0,
               'recovered_from_co': 0, 'co_only_with_receipt': 0, 'lost_after_backup': 0}
    backup_states = {}
    p = subprocess.run([net.mlagw, 'store', 'show', '--store', backup, '--outbox', '--json'],
                       capture_output=True, check=True)
    for r in json.loads(p.stdout):
        backup_states[r['message_id']] = r['state']
    lost = []
    for m in acked:
        if m in ob and m not in in_backup:
            # given back by CO at the start (SPEC 14, Recovery): delivered, CO's receipt
            check(ob[m]['state'] == DELIVERED and m in inbox and inbox[m]['accepted'] and
                  ob[m]['receipt'] == inbox[m]['receipt'],
                  '%s: recovered, not as CO holds it (%s)' % (m, ob[m]['state']))
            classes['recovered_from_co'] += 1
        elif m in ob:
            check(ob[m]['state'] == DELIVERED and m in inbox and inbox[m]['accepted'],
                  '%s: restored, not delivered (%s)' % (m, ob[m]['state']))
            classes['es_delivered_before_backup' if backup_states[m] == DELIVERED
                    else 'es_queued_then_delivered'] += 1
        elif m in inbox:
            rc = parse_receipt(inbox[m]['receipt'])
            check(inbox[m]['accepted'] and rc['message_id'] == m and
                  rc['outcome'] == 'accepted', '%s: CO holds no receipt for it: %r' % (m, rc))
            classes['co_only_with_receipt'] += 1
        else:
            check(m not in in_backup, '%s: in the backup, yet lost' % m)
            lost.append(m)
            classes['lost_after_backup'] += 1
    print('drill: %d acknowledged (%d before the backup began, %d while CO was down before '
          'the crash), backup of %d entries: %s' % (len(acked), at_backup, queued_at_crash,
                                                   rep['audit_entries'], json.dumps(classes)))
    check(sum(classes.values()) == len(acked), 'classification incomplete')
    check(classes['es_delivered_before_backup'] + classes['es_queued_then_delivered'] >=
          at_backup, 'fewer restored than acknowledged before the backup')
    check(len(mine) >= at_backup, 'the backup lacks messages acknowledged before it')
    # acknowledged while CO was down, after the backup: not delivered before the crash
    check(classes['lost_after_backup'] >= queued_at_crash,
          'lost %d, but %d were acknowledged while CO was down' %
          (classes['lost_after_backup'], queued_at_crash))
    check(not (set(lost) & set(inbox)), 'a lost message is in CO inbox')
    # everything CO holds came back: none is left only in CO's inbox
    check(classes['co_only_with_receipt'] == 0, 'CO holds messages ES did not recover')
    check(len(recovered) == classes['recovered_from_co'] and
          all(e['actor'] == 'CO' for e in recovered.values()),
          'recovered entries: %d for %d messages' % (len(recovered), classes['recovered_from_co']))

    # both epochs' bundles verify; together they report the link and the loss
    cur = os.path.join(net.dir, 'es-epoch2.mab')
    net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'), '--out', cur)
    p = net.cli('audit', 'verify', cur, archive, '--trust', trust, '--json', check_rc=False)
    rep2 = json.loads(p.stdout.decode() or '{}')
    links = rep2.get('epoch_links', [])
    check(p.returncode == 0 and rep2.get('verified') and len(links) == 1 and
          links[0]['verified'] and links[0]['archived'] == rep['audit_entries'],
          'bundles: %r' % rep2)
    print('epoch link:', links[0]['message'])


run(main)
