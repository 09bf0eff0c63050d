"""The latest checkpoint must verify under an audit key this gateway has held (issue 11 finding
3). A damaged latest checkpoint (its note altered after a clean stop) used to be taken for a key
rotation ("signed by another audit key; only its size is checked") and signed over: now the
start is refused naming its size, and `mlagw store check` reports it. A real rotation still
starts: a new audit key and certificate (issued by the State's root) taken by a reload, then
another by a restart; the store records every key it signed with (meta audit_key.*), and the
checkpoint signed by the previous key still has its root compared with the entries."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def new_audit_key(net, n):
    """A new audit key and certificate for ES written over the configured audit.key and
    audit.crt (the files the configuration names)."""
    issue_audit_key(net, 'ES', str(n), net.pki('ES', 'audit.key'), net.pki('ES', 'audit.crt'))


def all_signed(gw):
    c = gw.counts()
    return c['checkpoint_latest'] == c['audit_next']


def held_keys(gw):
    return sorted(k for k in gw.show('--meta')['meta'] if k.startswith('audit_key.'))


def traffic(gw, n, tag):
    ids = [gw.submit('CO', doc=b'<Request>%s %d</Request>' % (tag, i))['message_id']
           for i in range(n)]
    wait_until(lambda: gw.all_in_state(ids, DELIVERED), 60, msg='%s delivered' % tag)
    wait_until(lambda: all_signed(gw), 30, msg='%s signed' % tag)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='200ms')
    net.start_all()
    es = net['ES']
    traffic(es, 10, b'first')
    es.stop()
    check(len(held_keys(es)) == 1, 'the first key is not recorded: %r' % held_keys(es))

    # the latest checkpoint's note altered: one character of its root line
    cp = es.checkpoints()[-1]
    size, note = cp['size'], cp['note']
    lines = note.split(b'\n')
    lines[2] = lines[2][:5] + (b'A' if lines[2][5:6] != b'A' else b'B') + lines[2][6:]
    altered = os.path.join(net.dir, 'altered-note')
    with open(altered, 'wb') as f:
        f.write(b'\n'.join(lines))
    es.fault('set-checkpoint', size, altered)
    es.start(wait=False)
    wait_until(lambda: es.proc.poll() is not None or 'checkpoint-unverified' in es.log_text(),
               60, msg='the start to end or go ahead')
    tail = es.log_text().split('--- start ---')[-1]
    es.kill()
    check(es.proc.returncode == 1, 'an altered checkpoint was signed over (exit %r):\n%s' %
          (es.proc.returncode, tail[-2000:]))
    check(('checkpoint of %d entries does not verify' % size) in tail,
          'the refusal does not name checkpoint %d:\n%s' % (size, tail[-2000:]))
    p = net.cli('store', 'check', '--store', es.store, check_rc=False)
    out = p.stdout.decode() + p.stderr.decode()
    check(p.returncode == 1 and ('checkpoint of %d entries' % size) in out,
          'store check on the altered checkpoint: exit %d\n%s' % (p.returncode, out))
    original = os.path.join(net.dir, 'original-note')
    with open(original, 'wb') as f:
        f.write(note)
    es.fault('set-checkpoint', size, original)

    # rotation by reload: the new key signs the next checkpoints, and is recorded
    es.start()
    new_audit_key(net, 2)
    es.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: es.log_text().split('--- start ---')[-1].count(' reloaded ') >= 1, 10,
               msg='reloaded')
    traffic(es, 5, b'second')
    es.stop()
    check(len(held_keys(es)) == 2, 'the reloaded key is not recorded: %r' % held_keys(es))
    es.start()  # the latest checkpoint is the new key's
    traffic(es, 2, b'third')
    es.stop()

    # rotation by restart: refused until the key being replaced is configured, which then
    # signs the change (SPEC 14 "Audit key changes")
    prev = {}
    for name in ('audit.key', 'audit.crt'):
        prev[name] = os.path.join(net.dir, 'previous-' + name)
        with open(es.pki(name), 'rb') as s, open(prev[name], 'wb') as t:
            t.write(s.read())
        os.chmod(prev[name], 0o600)
    new_audit_key(net, 3)
    es.start(wait=False)
    wait_until(lambda: es.proc.poll() is not None, 30, msg='the start without the previous key')
    tail = es.log_text().split('--- start ---')[-1]
    check(es.proc.returncode == 1 and 'previous_audit_key' in tail,
          'a restart with an unannounced audit key was not refused (exit %r):\n%s' %
          (es.proc.returncode, tail[-2000:]))
    es.overrides['keys'] = {'previous_audit_cert': prev['audit.crt'],
                            'previous_audit_key': prev['audit.key']}
    es.write_config()
    es.start()
    tail = es.log_text().split('--- start ---')[-1]
    check('checkpoint-verified' in tail and 'current=0' in tail,
          'the previous key\'s checkpoint is not reported verified:\n%s' % tail[-2000:])
    traffic(es, 3, b'fourth')  # covers the announcement: signed by the previous key
    traffic(es, 2, b'fifth')   # signed by the new key, which the store then records
    es.stop()
    check(len(held_keys(es)) == 3, 'the third key is not recorded: %r' % held_keys(es))
    changes = [e for e in es.audit() if e['event'] == 'audit-key-changed']
    check(len(changes) == 2, 'audit-key-changed entries: %r' % changes)
    p = net.cli('store', 'check', '--store', es.store, check_rc=False)
    check(p.returncode == 0, 'store check after the rotations: exit %d\n%s' %
          (p.returncode, p.stdout.decode() + p.stderr.decode()))
    for l in es.log_text().splitlines():
        if 'cannot start' in l or 'checkpoint-verified' in l or 'audit_key' in l:
            sys.stderr.write(l + '\n')
    net.stop_all()


run(main)
