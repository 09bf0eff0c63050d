"""Recovery after a store loss (issue 11; SPEC 13 /mla/v1/recover, 14 "Log epochs", Recovery):
ES is backed up, then exchanges messages both ways with CO and MX, stops and loses its store.
The operator restores the backup and opens a new log epoch; ES starts while MX is down:

- what CO holds comes back: ES's outbox gets the messages it had sent to CO since the backup,
  delivered with CO's receipts (the bytes CO's inbox holds), its inbox the messages CO had sent
  it with the receipts ES had signed (the bytes beside CO's outbox rows); one `recovered` audit
  entry per message names its digests and CO as the actor;
- MX did not answer: alert `recovery-incomplete` names it and the recovery mark stays;
- the next start, MX up, gets MX's messages and nothing of CO's twice; the mark is cleared;
- a start without the mark asks nothing; `mlagw store accept-loss` sets it again and a start
  then finds everything held already (no new entries);
- both epochs' bundles verify (`mlagw audit verify`), the recovered entries with them."""
import hashlib
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def trust_dir(net):
    d = os.path.join(net.dir, 'trust')
    os.makedirs(d, exist_ok=True)
    for s in net.gws:
        shutil.copy(net.pki(s, 'root.crt'), os.path.join(d, s + '.crt'))
    return d


def cosigned_by(es, state):
    mark = ('\u2014 mlagw.%s/witness ' % state.lower()).encode()
    return max([c['size'] for c in es.checkpoints() if mark in c['note']], default=0)


def exchange(sender, to, n):
    ids = [sender.submit(to)['message_id'] for _ in range(n)]
    wait_until(lambda: sender.all_in_state(ids, DELIVERED), 60,
               msg='%s -> %s delivered' % (sender.state, to))
    return ids


def recovered(es):
    return {e['message']: e for e in es.audit() if e['event'] == 'recovered'}


def last_start(g):
    return g.log_text().split('--- start ---')[-1]


def check_sent(es, peer, ids):
    """ES's outbox holds ids as delivered, with peer's receipts as peer's inbox holds them."""
    ob, inbox = es.outbox(ids), peer.inbox()
    for m in ids:
        check(m in ob and ob[m]['state'] == DELIVERED, '%s: not recovered as delivered: %r' %
              (m, ob.get(m)))
        check(ob[m]['receipt'] == inbox[m]['receipt'] and ob[m]['digest'] == inbox[m]['digest'],
              '%s: not the receipt and envelope %s holds' % (m, peer.state))
        check(es.outbox_envelope(m) == inbox[m]['envelope'], '%s: envelope bytes' % m)


def check_received(es, peer, ids):
    """ES's inbox holds ids with the receipts ES had signed, as beside peer's outbox rows."""
    inbox, ob = es.inbox(), peer.outbox(ids)
    for m in ids:
        check(m in inbox and inbox[m]['accepted'], '%s: not recovered into the inbox' % m)
        check(inbox[m]['receipt'] == ob[m]['receipt'] and inbox[m]['digest'] == ob[m]['digest'],
              '%s: not the receipt %s holds' % (m, peer.state))
        check(hashlib.sha256(inbox[m]['envelope']).digest() == inbox[m]['digest'],
              '%s: envelope bytes' % m)


def check_entries(es, peer, sent, received):
    rec, ob, inbox = recovered(es), es.outbox(sent), es.inbox()
    for m in sent + received:
        e = rec.get(m)
        check(e is not None, '%s: no recovered entry' % m)
        row = ob[m] if m in sent else inbox[m]
        check(e['actor'] == peer.state and e['envelope-sha256'] == row['digest'].hex() and
              e['receipt-sha256'] == hashlib.sha256(row['receipt']).hexdigest(),
              '%s: entry %r' % (m, e))
        frm, to = ('ES', peer.state) if m in sent else (peer.state, 'ES')
        check(e['from'] == frm and e['to'] == to, '%s: parties %r' % (m, e))


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'MX'], checkpoint_interval='200ms')
    for g in net.gws.values():
        g.overrides.setdefault('audit', {})['peer_head_wait'] = '2s'
    net.start_all()
    es, co, mx = net['ES'], net['CO'], net['MX']
    trust = trust_dir(net)
    before = exchange(es, 'CO', 2) + exchange(co, 'ES', 1)

    backup = os.path.join(net.dir, 'es-backup.db')
    p = net.cli('store', 'backup', '--store', es.store, '--out', backup, '--json')
    entries = json.loads(p.stdout)['audit_entries']
    sent_co, recv_co = exchange(es, 'CO', 3), exchange(co, 'ES', 2)
    sent_mx, recv_mx = exchange(es, 'MX', 1), exchange(mx, 'ES', 1)
    wait_until(lambda: cosigned_by(es, 'CO') > entries, 30, msg='CO cosigned beyond the backup')
    es.stop()

    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(es.store + suffix):
            os.remove(es.store + suffix)
    net.cli('store', 'restore', '--from', backup, '--store', es.store)
    check(es.show('--meta')['meta'].get('recovery_pending') == 'restore', 'restore: no mark')
    es.start(wait=False)
    es.proc.wait(timeout=30)
    check(es.proc.returncode == 1, 'the restored store started')
    es.proc = None
    archive = os.path.join(net.dir, 'es-epoch1.mab')
    net.cli('audit', 'new-epoch', '--store', es.store, '--cert', es.pki('audit.crt'),
            '--archive', archive, '--trust', trust, '--key', es.pki('audit.key'))
    check(es.show('--meta')['meta'].get('recovery_pending') == 'new-epoch', 'new-epoch: no mark')

    # MX is down: CO's part comes back, MX is named, the mark stays
    mx.stop()
    es.start()
    check_sent(es, co, sent_co)
    check_received(es, co, recv_co)
    check_entries(es, co, sent_co, recv_co)
    check(len(recovered(es)) == 5, 'recovered %d entries, wanted 5' % len(recovered(es)))
    check(not set(before) & set(recovered(es)), 'a message of the backup was recovered')
    inc = es.alerts('recovery-incomplete')
    check(len(inc) == 1 and 'MX' in inc[0]['detail'] and 'CO' not in inc[0]['detail'],
          'recovery-incomplete: %r' % inc)
    es.stop()
    check(es.show('--meta')['meta'].get('recovery_pending') == 'new-epoch', 'mark cleared early')

    # MX is back: its part comes, CO's is held already; the mark goes
    mx.start()
    es.start()
    check_sent(es, mx, sent_mx)
    check_received(es, mx, recv_mx)
    check_entries(es, mx, sent_mx, recv_mx)
    check(len(recovered(es)) == 7, 'recovered %d entries, wanted 7' % len(recovered(es)))
    check('recovery-done' in last_start(es), 'no recovery-done')
    es.stop()
    check('recovery_pending' not in es.show('--meta')['meta'], 'the mark stayed')

    # without the mark nothing is asked; with it again (accept-loss) everything is held
    es.start()
    check('recovery-start' not in last_start(es), 'asked without the mark')
    es.stop()
    net.cli('store', 'accept-loss', '--store', es.store)
    n_entries = len(es.audit())
    es.start()
    check('recovery-done' in last_start(es) and len(recovered(es)) == 7,
          'a second recovery fetched again: %d' % len(recovered(es)))
    check(not es.alerts('recovery-conflict') and not es.alerts('recovery-refused'),
          'alerts: %r' % (es.alerts('recovery-conflict') + es.alerts('recovery-refused')))
    net.stop_all()
    check(len(es.audit()) >= n_entries, 'entries went')

    cur = os.path.join(net.dir, 'es-epoch2.mab')
    net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'), '--out', cur)
    p = net.cli('audit', 'verify', cur, archive, '--trust', trust, '--json', check_rc=False)
    rep = json.loads(p.stdout.decode() or '{}')
    check(p.returncode == 0 and rep.get('verified'), 'bundles: %r' % rep.get('failures'))


run(main)
