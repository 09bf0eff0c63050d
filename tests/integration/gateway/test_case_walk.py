"""The random walk of the case lifecycle (issue 13 section 2, SPEC 16.8): two gateways that both
enforce the lifecycle take random legal and illegal steps in many cases at once, each State
requesting in half of them, so that steps cross (a walk whose steps happened never to cross
makes up to ten crossings on purpose at its end); each gateway is SIGKILLed once in the
middle and started again. At the end both hold the same state, last step and history of every case;
every history is a legal path of SPEC 16.8's table (with deadline-extended, which leaves the
state as it is, once per case, and person-arrested then surrender-consented, once each:
envelope version 2 is configured between the two); every step refused before sealing
(case-step) was illegal in the state the refusal names (or out of the order the history sets);
every step sealed was either applied
on both sides (delivered) or on neither (refused on receipt with case-step or case-conflict).

MLAGW_WALK_STEPS sets the number of steps (default 1000, what CI runs: a few seconds);
MLAGW_WALK_SEED the random seed (printed, to replay a failure)."""
import http.client
import os
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

ENFORCE = {'cases': {'lifecycle': 'enforce'}}
V1_ACTIONS = ['request', 'received', 'accepted', 'additional-information-requested',
              'additional-information-provided', 'refused', 'executed', 'partially-executed',
              'withdrawn']
# envelope version 2 between the two: the step that leaves the state as it is walks too
WALK_ACTIONS = V1_ACTIONS + ['deadline-extended', 'person-arrested', 'surrender-consented']
# refusals of steps the table allows, for the order the history sets (SPEC 16.8)
ORDER_REFUSALS = ('already taken', 'already recorded', 'person-arrested comes first')


class Walker:
    """One State's side of the walk: random steps through its submission socket."""

    def __init__(self, net, state, peer, rng, log, n_cases):
        self.net, self.state, self.peer, self.rng, self.log = net, state, peer, rng, log
        self.view = {}  # case id -> state, as last listed
        self.own = ['%s-WALK-%03d' % (state, i) for i in range(n_cases)]
        self.theirs = ['%s-WALK-%03d' % (peer, i) for i in range(n_cases)]

    def side(self, case_id):
        return 'requesting' if case_id in self.own else 'requested'

    def refresh(self):
        try:
            self.view = {c['case_id']: c['state'] for c in cases(self.net[self.state])}
        except (OSError, http.client.HTTPException, ValueError, TestFailure):
            pass  # killed or restarting (an answer cut short): keep the old view

    def pick(self):
        case_id = self.rng.choice(self.own + self.theirs)
        side, st = self.side(case_id), self.view.get(case_id, 'none')
        legal = [a for a in WALK_ACTIONS if life_next(st, side, a)]
        if len(legal) > 1 and self.rng.random() < 0.8:  # withdrawal, legal almost always,
            legal = [a for a in legal if a != 'withdrawn']  # would end the walk early
        if legal and self.rng.random() < 0.6:
            return case_id, self.rng.choice(legal)
        return case_id, self.rng.choice(WALK_ACTIONS)

    def one(self, n):
        if n % 10 == 0 or not self.view:
            self.refresh()
        case_id, action = self.pick()
        if action == 'request' and case_id not in self.own:
            action = 'received'  # a request is only ever made in one's own cases
        try:
            code, j = case_step(self.net[self.state], self.peer, action, case_id)
        except (OSError, http.client.HTTPException, ValueError):
            code, j = 'down', None  # killed meanwhile: its fate is read from the stores
        self.log.append((self.state, case_id, action, code, j))
        if code in ('down', 503):  # killed or starting: not a step, tried again
            time.sleep(0.05)
            return False
        return True


def walk(net, steps, rng):
    log = []
    n_cases = max(40, steps // 25)  # enough open cases that the walk never runs dry
    es = Walker(net, 'ES', 'CO', random.Random(rng.random()), log, n_cases)
    co = Walker(net, 'CO', 'ES', random.Random(rng.random()), log, n_cases)
    count = {'n': 0}
    lock = threading.Lock()
    errors = []

    def run_walker(w):
        try:
            while True:
                with lock:
                    if count['n'] >= steps:
                        return
                    n = count['n']
                if w.one(n):
                    with lock:
                        count['n'] += 1
        except Exception as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=run_walker, args=(w,)) for w in (es, co)]
    for t in threads:
        t.start()
    mid_step = 0
    for victim, at in (('ES', steps // 3), ('CO', 2 * steps // 3)):
        wait_until(lambda: count['n'] >= at or errors, 600, msg='step %d' % at)
        # killed while one of its steps awaits its receipt, if one comes within 5 s
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                if any(c['pending'] for c in cases(net[victim])):
                    mid_step += 1
                    break
            except (OSError, http.client.HTTPException, ValueError, TestFailure):
                pass
        net[victim].kill()
        net[victim].start()
    for t in threads:
        t.join()
    check(not errors, 'walker failed: %r' % errors)
    check(mid_step > 0, 'no gateway was killed with a step in flight')
    return log


def settled(net):
    def done():
        for g in net.gws.values():
            if any(m['state'] not in (DELIVERED, REJECTED, FAILED)
                   for m in g.outbox(blobs=False).values()):
                return False
        return True
    wait_until(done, 120, interval=0.5, msg='every step settled')


def legal_path(steps):
    """The state a history leads to, each step checked against the table; the requesting
    side's request starts from transmitted (its own seal), the requested side's from none."""
    st = 'transmitted' if steps and steps[0]['from'] == 'transmitted' else 'none'
    for s in steps:
        nxt = life_next(st, s['by'], s['action'])
        check(nxt == s['to'] and s['from'] == st,
              'illegal step in a history: %r after %s' % (s, st))
        st = nxt
    return st


def compare(net):
    views = {g: {c['case_id']: c for c in cases(net[g])} for g in ('ES', 'CO')}
    check(set(views['ES']) == set(views['CO']),
          'cases differ: %r' % (set(views['ES']) ^ set(views['CO'])))
    applied = set()
    stays = arrests = 0
    for case_id in views['ES']:
        a, b = cases(net['ES'], case_id)[0], cases(net['CO'], case_id)[0]
        for k in ('state', 'last_step', 'requesting'):
            check(a[k] == b[k], '%s: %s differs: %r / %r' % (case_id, k, a[k], b[k]))
        check(a['pending'] == '' and b['pending'] == '', '%s: still pending' % case_id)
        ids = [s['message_id'] for s in a['steps']]
        check(ids == [s['message_id'] for s in b['steps']], '%s: histories differ' % case_id)
        check(legal_path(a['steps']) == a['state'] and legal_path(b['steps']) == b['state'],
              '%s: state' % case_id)
        check(a['side'] != b['side'], '%s: both on one side' % case_id)
        applied.update(ids)
        ext = sum(1 for s in a['steps'] if s['action'] == 'deadline-extended')
        check(ext <= 1, '%s: %d extensions taken' % (case_id, ext))
        order = [s['action'] for s in a['steps']
                 if s['action'] in ('person-arrested', 'surrender-consented')]
        check(order in ([], ['person-arrested'], ['person-arrested', 'surrender-consented']),
              '%s: arrest and consent out of order: %r' % (case_id, order))
        stays += ext + len(order)
        arrests += order.count('person-arrested')
    check(stays > 0, 'no deadline-extended step (one that stays in its state) was applied')
    check(arrests > 0, 'no person-arrested step was applied')
    return views, applied


def check_log(net, log, applied):
    refused_before = refused_after = sealed = 0
    outs = {g: net[g].outbox() for g in ('ES', 'CO')}
    for state, case_id, action, code, j in log:
        if code == 409 and j.get('code') == 'case-step':
            m = re.search(r'not allowed in case state (\S+);', j['message'])
            check(m is not None, 'case-step without the state: %r' % j)
            side = 'requesting' if case_id.startswith(state) else 'requested'
            once = any(r in j['message'] for r in ORDER_REFUSALS)
            check(once or life_next(m.group(1), side, action) is None,
                  'refused a legal step: %s %s in %s' % (action, side, m.group(1)))
            refused_before += 1
        elif code == 202:
            sealed += 1
            row = outs[state][j['message_id']]
            if row['state'] == DELIVERED:
                check(j['message_id'] in applied, 'delivered step %s not in the histories' %
                      j['message_id'])
            else:
                rc = parse_receipt(row['receipt']) if row['receipt'] else {}
                check(row['state'] == REJECTED and rc.get('error') in (
                    'case-step', 'case-conflict'), 'step %s: %r %r' % (j['message_id'],
                                                                     row, rc))
                check(j['message_id'] not in applied, 'a refused step was applied')
                refused_after += 1
        elif code not in ('down', 409, 503):
            raise TestFailure('unexpected answer %r %r' % (code, j))
    return refused_before, refused_after, sealed


def cross(net, log, i):
    """One crossing made on purpose, for a walk whose steps happened never to cross: ES
    requests case ES-CROSS-i; once CO has it, ES withdraws and CO accepts at the same moment,
    each on the state `received`, so one of the two is refused on receipt (SPEC 16.8)."""
    case_id = 'ES-CROSS-%02d' % i
    print('case walk: no steps crossed yet; crossing two in %s' % case_id)
    code, j = case_step(net['ES'], 'CO', 'request', case_id)
    log.append(('ES', case_id, 'request', code, j))
    check(code == 202, 'crossing request: %r %r' % (code, j))
    wait_until(lambda: net['ES'].outbox(ids={j['message_id']}, blobs=False)[
        j['message_id']]['state'] == DELIVERED, 30, msg='%s delivered' % case_id)
    wait_until(lambda: any(c['case_id'] == case_id and c['state'] == 'received'
                           for c in cases(net['ES']) + cases(net['CO'])), 30,
               msg='%s received' % case_id)
    start, lock = threading.Barrier(2), threading.Lock()

    def step(state, peer, action):
        start.wait()
        code, j = case_step(net[state], peer, action, case_id)
        with lock:
            log.append((state, case_id, action, code, j))

    ts = [threading.Thread(target=step, args=a) for a in (('ES', 'CO', 'withdrawn'),
                                                          ('CO', 'ES', 'accepted'))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def main(mlagw, mlagwd):
    steps = int(os.environ.get('MLAGW_WALK_STEPS', '1000'))
    seed = int(os.environ.get('MLAGW_WALK_SEED', str(int(time.time()))))
    print('case walk: %d steps, seed %d' % (steps, seed))
    rng = random.Random(seed)
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    for g in net.gws.values():
        g.overrides = dict(ENFORCE)
    net['ES'].overrides['peer CO'] = {'envelope_versions': '1 2'}
    net['CO'].overrides['peer ES'] = {'envelope_versions': '1 2'}
    net.start_all()
    t0 = time.monotonic()
    log = walk(net, steps, rng)
    settled(net)
    views, applied = compare(net)
    before, after, sealed = check_log(net, log, applied)
    for i in range(10):  # the walk's own steps crossed by chance: make one cross if none did
        if after > 0:
            break
        cross(net, log, i)
        settled(net)
        views, applied = compare(net)
        before, after, sealed = check_log(net, log, applied)
    down = sum(1 for e in log if e[3] in ('down', 503))
    states = {}
    for c in views['ES'].values():
        states[c['state']] = states.get(c['state'], 0) + 1
    print('case walk: %d cases %r; %d steps applied, %d sealed, %d refused before sealing, '
          '%d refused on receipt, %d while a gateway was down, %.1f s' % (
              len(views['ES']), states, len(applied), sealed, before, after, down,
              time.monotonic() - t0))
    check(len(applied) > steps // 10 and after > 0 and before > 0 and down > 0,
          'the walk did too little to prove anything')
    net.stop_all()
    for g in net.gws.values():  # the store's own check agrees: every case follows its steps
        out = net.cli('store', 'check', '--store', g.store).stdout.decode()
        check('cases: %d checked against their steps: ok' % len(views['ES']) in out,
              '%s store check: %s' % (g.state, out))


if __name__ == '__main__':
    run(main)
