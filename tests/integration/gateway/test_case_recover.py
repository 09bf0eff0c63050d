"""Recovery rebuilds the case records a lost store held (issue 13; SPEC 14 "Log epochs",
Recovery; 16.8; 16.9). ES and CO, both enforcing the lifecycle under one fake wall clock, run
three cases through several steps: an urgent production order and a preservation order ES
requests (CO asks for more information in both, ES provides it in one, CO accepts it) and a
request CO makes to ES. CO's escalation hook fires 50% of the production order's 8 hours. CO's
store is then lost (put back to a copy from before any case), its log opened anew, and CO
recovers from ES: afterwards both sides show the same state, last step, history (ids,
actions, states, times) and receipt time of every case, and, for the cases CO was requested
in, the same deadlines (rules, due times, pauses) with CO's 50% mark kept: the hook does not
run again for a threshold passed before the loss. Compared on the submission socket's case
view, the local API's lifecycle member and `mlagw cases --due`; both sides then go on from
the rebuilt state. A case CO requested has its lifecycle back
but no deadline facts (its request is encrypted for ES only: SPEC 14, Recovery)."""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from fakeclock import FakeClock  # noqa: E402
from test_case_deadlines import (example, hook_lines, legal, offset_at, production_doc,  # noqa: E402
                                 wait_hooks, write_hook)
import test_api  # noqa: E402

PROD, PRES, THEIRS = 'ES-RC-PROD', 'ES-RC-PRES', 'CO-RC-MLA'


def trust_dir(net):
    d = os.path.join(net.dir, 'trust')
    os.makedirs(d, exist_ok=True)
    for s in net.gws:
        shutil.copy(net.pki(s, 'root.crt'), os.path.join(d, s + '.crt'))
    return d


def cosigned_by(g, state):
    mark = ('\u2014 mlagw.%s/witness ' % state.lower()).encode()
    return max([c['size'] for c in g.checkpoints() if mark in c['note']], default=0)


def last_start(g):
    return g.log_text().split('--- start ---')[-1]


def start(g, clock):
    g.write_config()
    g.start(env=clock.env())


def step(net, frm, to, action, case_id, doc=b'<Doc>step</Doc>', kind='evidence'):
    code, j = case_step(net[frm], to, action, case_id, doc=doc, kind=kind)
    check(code == 202, '%s %s %s: %d %r' % (frm, action, case_id, code, j))
    mid = j['message_id']
    wait_until(lambda: net[frm].outbox(blobs=False)[mid]['state'] == DELIVERED, 30,
               msg='%s %s delivered' % (action, case_id))
    return mid


def run_cases(net):
    step(net, 'ES', 'CO', 'request', PROD, doc=production_doc())
    step(net, 'ES', 'CO', 'request', PRES, doc=example('request-preservation-order.xml'))
    step(net, 'CO', 'ES', 'request', THEIRS, kind='mla')
    step(net, 'CO', 'ES', 'received', PROD)
    step(net, 'CO', 'ES', 'additional-information-requested', PROD)
    step(net, 'ES', 'CO', 'received', THEIRS, kind='mla')
    step(net, 'CO', 'ES', 'additional-information-requested', PRES)
    step(net, 'ES', 'CO', 'additional-information-provided', PROD)
    step(net, 'ES', 'CO', 'accepted', THEIRS, kind='mla')
    step(net, 'CO', 'ES', 'accepted', PROD)


def views(g):
    return {c['case_id']: cases(g, c['case_id'])[0] for c in cases(g)}


LIFE = ('requesting', 'state', 'last_step', 'pending', 'received_ms')
# the request's row starts from none on the requested side, transmitted on the other
STEP = ('message_id', 'action', 'by', 'to', 'at_ms')
DEADLINE = ('deadline', 'rule', 'due_ms', 'paused', 'extended')


def compare(es, co, fired_co):
    a, b = views(es), views(co)
    check(set(a) == {PROD, PRES, THEIRS} and set(b) == set(a),
          'cases: ES %r, CO %r' % (sorted(a), sorted(b)))
    for cid in sorted(a):
        x, y = a[cid], b[cid]
        for k in LIFE:
            check(x[k] == y[k], '%s: %s differs: ES %r / CO %r' % (cid, k, x[k], y[k]))
        check(x['side'] != y['side'] and x['peer'] == 'CO' and y['peer'] == 'ES',
              '%s: sides %r / %r' % (cid, x, y))
        sx = [tuple(s[k] for k in STEP) + (s['from'] if s['seq'] > 1 else '',)
              for s in x['steps']]
        sy = [tuple(s[k] for k in STEP) + (s['from'] if s['seq'] > 1 else '',)
              for s in y['steps']]
        check(sx == sy and len(sx) >= 2, '%s: histories differ:\nES %r\nCO %r' % (cid, sx, sy))
        if cid == THEIRS:  # CO's own request: its document is ES's to read, no facts back
            check('deadlines' not in y and 'deadlines' not in x, '%s: %r / %r' % (cid, x, y))
            continue
        for k in ('kind', 'priority', 'paused'):
            check(x[k] == y[k], '%s: %s differs: ES %r / CO %r' % (cid, k, x[k], y[k]))
        # a paused deadline moves with now: the two reads differ by the time between them
        slack = 5000 if x['paused'] else 0
        check(abs(x.get('due_ms', 0) - y.get('due_ms', 0)) <= slack and
              ('due_ms' in x) == ('due_ms' in y), '%s: due %r / %r' % (
                  cid, x.get('due_ms'), y.get('due_ms')))
        dx = [tuple(d[k] for k in DEADLINE if k != 'due_ms') for d in x['deadlines']]
        dy = [tuple(d[k] for k in DEADLINE if k != 'due_ms') for d in y['deadlines']]
        check(all(abs(p['due_ms'] - q['due_ms']) <= (slack if p['paused'] else 0)
                  for p, q in zip(x['deadlines'], y['deadlines'])),
              '%s: due times differ: %r / %r' % (cid, x['deadlines'], y['deadlines']))
        check(dx == dy and (dx or x['state'] == 'executed'), '%s: deadlines differ:\nES %r\nCO %r' % (cid, dx, dy))
        for d in y['deadlines']:
            want = fired_co.get((cid, d['rule']), 0)
            check(d['fired'] == want, '%s %s: CO fired %r, want %r' % (cid, d['rule'],
                                                                     d['fired'], want))
    return b


def compare_api(apis):
    """The local API's case view (its lifecycle member) and the CLI's --due table: the same
    state, last step, receipt time and deadlines on both sides."""
    for cid in (PROD, PRES, THEIRS):
        a, b = [apis[s].json('GET', '/api/v1/cases/' + cid, 'auditor')['lifecycle']
                for s in ('ES', 'CO')]
        check(len(a) == 1 and len(b) == 1, '%s: API lifecycle %r / %r' % (cid, a, b))
        x, y = a[0], b[0]
        for k in ('state', 'last_step', 'received_ms'):
            check(x[k] == y[k], '%s: API %s %r / %r' % (cid, k, x[k], y[k]))
        if cid == PROD:
            # both fired 50% of production_emergency: ES live, CO before the loss
            check(x['due_ms'] == y['due_ms'] and
                  [(d['rule'], d['due_ms'], d['fired']) for d in x['deadlines']] ==
                  [(d['rule'], d['due_ms'], d['fired']) for d in y['deadlines']],
                  '%s: API deadlines %r / %r' % (cid, x, y))


def due_table(net, g):
    """mlagw cases --due: case -> (priority, kind, by, due, state); PEER and LEFT differ."""
    out = net.cli('cases', '--socket', g.sock, '--due').stdout.decode().splitlines()[1:]
    return {f[1]: (f[0], f[3], f[4], f[5] if 'paused' not in f[-1] else 'moves', f[-1])
            for f in (l.split() for l in out)}  # a paused due time moves with now


def lose_store(net, co, backup, trust):
    co.stop()
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(co.store + suffix):
            os.remove(co.store + suffix)
    net.cli('store', 'restore', '--from', backup, '--store', co.store)
    co.start(wait=False)  # refused: ES cosigned a longer log; its head is kept for new-epoch
    co.proc.wait(timeout=30)
    check(co.proc.returncode == 1, 'the restored store started')
    co.proc = None
    net.cli('audit', 'new-epoch', '--store', co.store, '--cert', co.pki('audit.crt'),
            '--archive', os.path.join(net.dir, 'co-epoch1.mab'), '--trust', trust,
            '--key', co.pki('audit.key'))


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='200ms')
    hook = write_hook(net)
    for s in ('ES', 'CO'):
        net[s].overrides = {'cases': {'lifecycle': 'enforce'},
                            'audit': {'peer_head_wait': '2s'},
                            'deadlines': {'escalate': '%s %s' % (
                                hook, os.path.join(net.dir, s + '.hook')),
                                'escalate_timeout': '5s', 'preservation': '12h pause'}}
    clock = FakeClock(net.dir, 'both')
    net.start_all = lambda: [start(g, clock) for g in net.gws.values()]
    apis = test_api.setup(net)  # starts both, with the local API
    es, co = net['ES'], net['CO']
    trust = trust_dir(net)
    backup = os.path.join(net.dir, 'co-backup.db')
    net.cli('store', 'backup', '--store', co.store, '--out', backup)

    run_cases(net)
    before = compare(es, co, {})
    # 60% of the production order's 8 hours: 50% fires on both sides, once
    clock.set(offset_at(before[PROD], 'production_emergency', 600))
    want = [(PROD, '50', 'legal', 'production_emergency')]
    wait_hooks(net, 'CO', want)
    wait_hooks(net, 'ES', want)
    wait_until(lambda: cosigned_by(co, 'ES') >= co.checkpoints()[-1]['size'], 30,
               msg='ES cosigned the latest of CO')

    lose_store(net, co, backup, trust)
    start(co, clock)
    wait_until(lambda: 'recovery-done' in last_start(co), 30, msg='recovery done')
    compare(es, co, {(PROD, 'production_emergency'): 50})
    compare_api(apis)
    due = due_table(net, es)
    check(due == due_table(net, co) and PROD in due and PRES in due,
          'mlagw cases --due: ES %r / CO %r' % (due, due_table(net, co)))
    check('case_steps=10 case_steps_left=0' in last_start(co),
          'not every step was replayed:\n%s' % last_start(co))
    time.sleep(6)  # the escalation looks every 5 s: nothing fires again on CO
    check(hook_lines(net, 'CO') == [[PROD, '50'] + hook_lines(net, 'CO')[0][2:]] and
          len(hook_lines(net, 'CO')) == 1, 'CO hook ran again: %r' % hook_lines(net, 'CO'))

    # the cases go on from the rebuilt state on both sides
    step(net, 'CO', 'ES', 'executed', PROD)
    step(net, 'ES', 'CO', 'additional-information-provided', PRES)
    after = compare(es, co, {(PROD, 'production_emergency'): 50})
    check(after[PROD]['state'] == 'executed' and
          after[PRES]['state'] == 'additional-information-provided', 'after: %r' % after)
    check(not co.alerts('recovery-refused') and not co.alerts('recovery-conflict'),
          'alerts: %r' % co.alerts())
    net.stop_all()


run(main)
