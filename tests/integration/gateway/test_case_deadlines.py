"""Legal deadlines across two gateways (SPEC 16.9), both under one fake wall clock: an urgent
production order (8 h and 96 h, and a wished date) shows the same deadlines on both sides
(socket, mlagw cases --due, the local API's case view and listCases); stepping the clock past 50%, 90% and
100% runs each side's escalation hook exactly once per threshold, in order, one side being
down through 90% and 100% and firing both when back; --overdue and /metrics then list the
case. A preservation order under a rule that pauses stands still while additional
information is awaited: its due time moves with the clock and no threshold fires."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from fakeclock import FakeClock  # noqa: E402
import test_api  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                        'protocol', 'case', 'examples')
PROD, PRES = 'ES-DL-PROD', 'ES-DL-PRES'


def example(name):
    with open(os.path.join(EXAMPLES, name), 'rb') as f:
        return f.read()


def production_doc():
    doc = example('request-production-order.xml')
    urgent = (b'<Urgency><Urgent>true</Urgent><Reason>a kidnapping in progress</Reason>'
              b'<DateWished>2099-01-01</DateWished></Urgency>')
    doc, n = re.subn(rb'<Urgency>.*?</Urgency>', urgent, doc, count=1, flags=re.S)
    check(n == 1, 'the production order example has no Urgency')
    return doc


def write_hook(net):
    hook = os.path.join(net.dir, 'hook.sh')
    with open(hook, 'w') as f:
        f.write('#!/bin/sh\nout="$1"; shift\necho "$*" >> "$out"\n')
    os.chmod(hook, 0o755)
    return hook


def hook_lines(net, state):
    try:
        with open(os.path.join(net.dir, state + '.hook')) as f:
            return [l.split() for l in f.read().splitlines()]
    except FileNotFoundError:
        return []


def one(gw, case_id):
    items = cases(gw, case_id)
    check(len(items) == 1, '%s: cases %s: %r' % (gw.state, case_id, items))
    return items[0]


def request(net, case_id, doc):
    code, j = case_step(net['ES'], 'CO', 'request', case_id, doc=doc, kind='evidence')
    check(code == 202, 'request %s: %d %r' % (case_id, code, j))
    return j['message_id']


def delivered(net, frm, mid):
    wait_until(lambda: net[frm].outbox(blobs=False)[mid]['state'] == DELIVERED, 30,
               msg='%s delivered' % mid)


def legal(view, rule):
    d = [x for x in view.get('deadlines', []) if x['rule'] == rule]
    check(len(d) == 1, '%s: deadline %s in %r' % (view['case_id'], rule, view))
    return d[0]


def same_deadlines(net, case_id):
    """The case's deadlines on both sides: equal (a paused one moves with now, so the two
    reads may differ by the time between them)."""
    a, b = one(net['ES'], case_id), one(net['CO'], case_id)
    strip = lambda v: [(d['rule'], d['state'], d['paused']) for d in v['deadlines']]
    slack = 5000 if a['paused'] else 0
    dues = zip([d['due_ms'] for d in a['deadlines']], [d['due_ms'] for d in b['deadlines']])
    check(a['received_ms'] == b['received_ms'] and strip(a) == strip(b) and
          all(abs(x - y) <= slack for x, y in dues) and
          abs(a['due_ms'] - b['due_ms']) <= slack and a['priority'] == b['priority'],
          '%s differs: ES %r / CO %r' % (case_id, a, b))
    return a


def offset_at(view, rule, permille, margin_s=60):
    """The fake clock's offset (s) that puts the deadline at permille of its length."""
    d = legal(view, rule)
    length = d['due_ms'] - view['received_ms']
    target = view['received_ms'] + length * permille // 1000
    return int((target / 1000.0) - time.time()) + margin_s


def wait_hooks(net, state, want, timeout=30):
    wait_until(lambda: len(hook_lines(net, state)) >= len(want), timeout,
               msg='%s: %d hook runs' % (state, len(want)))
    time.sleep(6)  # one more look of the daemon: nothing runs twice
    got = hook_lines(net, state)
    check([(l[0], l[1], l[4], l[5]) for l in got] == want,
          '%s hook runs %r, want %r' % (state, got, want))
    return got


def start(g, clock):
    g.write_config()
    g.start(env=clock.env())


def metric(api, name, prio):
    code, _, out = api.call('GET', '/metrics', role='admin')
    check(code == 200, 'metrics: %d' % code)
    m = re.search(r'^%s\{priority="%s"\} (\d+)$' % (name, prio), out.decode(), re.M)
    check(m is not None, '%s{priority=%s} missing' % (name, prio))
    return int(m.group(1))


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    hook = write_hook(net)
    for s in ('ES', 'CO'):
        net[s].overrides = {'cases': {'lifecycle': 'enforce'},
                            'deadlines': {'escalate': '%s %s' % (
                                hook, os.path.join(net.dir, s + '.hook')),
                                'escalate_timeout': '5s', 'preservation': '12h pause'}}
    clock = FakeClock(net.dir, 'both')  # one wall clock for both gateways
    net.start_all = lambda: [start(g, clock) for g in net.gws.values()]
    apis = test_api.setup(net)
    es, co = net['ES'], net['CO']

    # two requests; CO asks for more information on the preservation order (paused)
    delivered(net, 'ES', request(net, PROD, production_doc()))
    delivered(net, 'ES', request(net, PRES, example('request-preservation-order.xml')))
    code, j = case_step(co, 'ES', 'additional-information-requested', PRES, kind='evidence')
    check(code == 202, 'information requested: %d %r' % (code, j))
    delivered(net, 'CO', j['message_id'])
    p = same_deadlines(net, PROD)
    check(p['priority'] == 'urgent' and p['kind'] == 'evidence' and
          p['deadline_state'] == 'not-due' and
          [d['rule'] for d in p['deadlines']] ==
          ['production_emergency', 'production_objection', 'wished'],
          'production order %r' % p)
    e, o = legal(p, 'production_emergency'), legal(p, 'production_objection')
    check(8 * 3600000 < e['due_ms'] - p['received_ms'] <= 9 * 3600000 and
          96 * 3600000 < o['due_ms'] - p['received_ms'] <= 97 * 3600000 and
          p['due_ms'] == e['due_ms'] and e['due'].endswith(':00:00.000Z'), 'due %r' % p)
    pres = same_deadlines(net, PRES)
    check(pres['paused'] and legal(pres, 'preservation')['paused'], 'not paused: %r' % pres)
    for g in (es, co):  # the CLI's table: the urgent case first, its first deadline
        out = net.cli('cases', '--socket', g.sock, '--due').stdout.decode()
        lines = out.splitlines()
        check(len(lines) == 3 and lines[0].startswith('PRIORITY') and
              lines[1].startswith('urgent') and PROD in lines[1] and
              'production_emergency' in lines[1] and PRES in lines[2] and
              'paused' in lines[2], '%s cases --due:\n%s' % (g.state, out))
        out = net.cli('cases', '--socket', g.sock, '--overdue').stdout.decode()
        check(out == 'no case overdue\n', '%s --overdue: %r' % (g.state, out))
    for s, api in apis.items():  # the local API's case view
        case = api.json('GET', '/api/v1/cases/' + PROD, 'auditor')
        life = case['lifecycle']
        check(len(life) == 1 and life[0]['due_ms'] == p['due_ms'] and
              legal(life[0], 'production_emergency')['due_ms'] == e['due_ms'],
              '%s API case %r' % (s, case))
    for s, api in apis.items():  # listCases: ranked; an authority sees only its own
        for role in ('auditor', 'agency'):
            got = api.json('GET', '/api/v1/cases', role)
            check([c['case_id'] for c in got['items']] == [PROD, PRES] and
                  got['items'][0]['due_ms'] == p['due_ms'] and got['now_ms'] > 0,
                  '%s listCases as %s: %r' % (s, role, got))
        check(api.json('GET', '/api/v1/cases?deadline=overdue', 'auditor')['items'] == [],
              '%s: overdue too early' % s)
        check(api.json('GET', '/api/v1/cases', 'authority')['items'] == [],
              '%s: an authority sees cases it does not own' % s)
        code, _, out = api.call('GET', '/api/v1/cases?deadline=late', role='auditor')
        check(code == 400 and b'deadline' in out, 'bad filter: %d %r' % (code, out))
    check(hook_lines(net, 'ES') == [] and hook_lines(net, 'CO') == [], 'a hook ran early')

    # past 50% of the 8 hours: one run on each side; the paused clock's due time moves
    due_before = legal(pres, 'preservation')['due_ms']
    off1 = offset_at(p, 'production_emergency', 550)
    clock.set(off1)
    want = [(PROD, '50', 'legal', 'production_emergency')]
    runs = {s: wait_hooks(net, s, want) for s in ('ES', 'CO')}
    check(runs['ES'] == runs['CO'] and runs['ES'][0][2] == e['due'] and
          runs['ES'][0][3] == 'evidence', 'hook arguments differ: %r' % runs)
    pres = same_deadlines(net, PRES)
    moved = legal(pres, 'preservation')['due_ms'] - due_before
    check(pres['paused'] and abs(moved - off1 * 1000) < 120000,
          'paused due time moved by %d ms for %d s' % (moved, off1))
    code, j = case_step(es, 'CO', 'additional-information-provided', PRES, kind='evidence')
    check(code == 202, 'information provided: %d %r' % (code, j))
    delivered(net, 'ES', j['message_id'])
    pres = same_deadlines(net, PRES)
    check(not pres['paused'], 'still paused: %r' % pres)

    # CO down through 90% and 100%: ES fires both in order; CO fires both once back
    co.stop()
    clock.set(offset_at(p, 'production_emergency', 1000, margin_s=120))
    want += [(PROD, '90', 'legal', 'production_emergency'),
             (PROD, '100', 'legal', 'production_emergency')]
    wait_hooks(net, 'ES', want)
    start(co, clock)
    wait_hooks(net, 'CO', want)
    p = same_deadlines(net, PROD)
    check(p['deadline_state'] == 'overdue' and
          legal(p, 'production_emergency')['fired'] == 100 and
          legal(p, 'production_objection')['fired'] == 0, 'overdue view %r' % p)
    for g in (es, co):
        out = net.cli('cases', '--socket', g.sock, '--overdue').stdout.decode()
        lines = out.splitlines()
        check(len(lines) == 2 and PROD in lines[1] and 'overdue' in lines[1] and
              PRES not in out, '%s --overdue:\n%s' % (g.state, out))
    for s, api in apis.items():
        got = api.json('GET', '/api/v1/cases?deadline=overdue', 'auditor')['items']
        check([c['case_id'] for c in got] == [PROD], '%s listCases overdue %r' % (s, got))
        check(metric(api, 'mlagw_cases_overdue', 'urgent') == 1 and
              metric(api, 'mlagw_cases_overdue', 'normal') == 0 and
              metric(api, 'mlagw_cases_due', 'urgent') == 0, '%s metrics' % s)
    net.stop_all()


if __name__ == '__main__':
    run(main)
