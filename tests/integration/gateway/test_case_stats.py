"""Statistics an auditor can check (issue 14 section 3, SPEC 16.13): two gateways that enforce
the lifecycle run many generated cases (each State requesting half of them, of four kinds and
three priorities, to ten different ends; refusals with the coded grounds of a Refused answer
or with an opaque document), step by step through their submission sockets. Then, per State:
`mlagw stats` over its store equals the counts this test computes from what it sent (cases by
kind, partner, direction, outcome, priority and refusal ground; art. 28 figures; how many
cases have a time to receipt, decision and execution); `mlagw audit stats` over its exported
bundle prints the same bytes, in JSON and CSV; over both bundles at once, both States'
figures; and a bundle that does not verify with the trust given is refused (exit 1), no
figures printed. The local API's getStats (auditor, admin) gives the bytes `mlagw stats`
prints over the same store (JSON and CSV), and refuses an agency (403) and an unknown format
(400).

MLAGW_STATS_CASES sets the number of cases (default 1000, what CI runs)."""
import hashlib
import http.client
import json
import os
import secrets
import shutil
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

KINDS = ['mla', 'extradition', 'production-order', 'preservation-order']
# (the steps in order, each with the side that takes it), and the outcome SPEC 16.13 names
SCRIPTS = [
    ([], 'received'),
    ([('received', 'requested')], 'acknowledged'),
    ([('accepted', 'requested')], 'accepted'),
    ([('accepted', 'requested'), ('executed', 'requested')], 'executed'),
    ([('accepted', 'requested'), ('partially-executed', 'requested')], 'partially-executed'),
    ([('refused', 'requested')], 'refused'),
    ([('withdrawn', 'requesting')], 'withdrawn'),
    ([('refused', 'requested'), ('closed', 'requesting')], 'refused'),
    ([('withdrawn', 'requesting'), ('closed', 'requested')], 'withdrawn'),
    ([('accepted', 'requested'), ('executed', 'requested'), ('closed', 'requesting')],
     'executed'),
]
STATES = ('ES', 'CO')


PRIORITIES = ['normal', 'urgent', 'crisis']
REFUSED_DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                           'protocol', 'case', 'examples', 'answer-refused.xml')
REFUSED_GROUNDS = ['untoc-18-21-b', 'bank-secrecy']  # the example's, in the list's order


def plan(n):
    """n cases: (case id, requesting State, kind, script index, priority), deterministic."""
    out = []
    for i in range(n):
        req = STATES[i % 2]
        out.append(('%s-STAT-%04d' % (req, i), req, KINDS[(i // 2) % len(KINDS)],
                    (i // 8) % len(SCRIPTS), PRIORITIES[(i // 3) % 3]))
    return out


def refused_doc(state, case_id):
    """The example Refused answer (coded grounds) from state's authority for case_id."""
    with open(REFUSED_DOC, 'rb') as f:
        doc = f.read()
    return doc.replace(b'<State>CO</State>', b'<State>%s</State>' % state.encode()).replace(
        b'<RequestCaseId>ES/2026/0042</RequestCaseId>',
        b'<RequestCaseId>%s</RequestCaseId>' % case_id.encode())


def step(gw, to, action, case_id, kind, priority, doc):
    h = {'X-MLA-To': to, 'X-MLA-Kind': kind, 'X-MLA-Action': action,
         'X-MLA-Case-Id': case_id, 'X-MLA-Priority': priority,
         'Content-Type': 'application/xml'}
    code, body = gw.http('POST', '/local/v1/submit', doc, h)
    return code, json.loads(body or b'{}')


def other(s):
    return 'CO' if s == 'ES' else 'ES'


def run_round(net, steps):
    """Submits each (gateway, peer, action, case, kind) from 4 threads; every one 202."""
    lock, errors, todo = threading.Lock(), [], list(steps)

    def worker():
        while True:
            with lock:
                if not todo or errors:
                    return
                gw, peer, action, case_id, kind, priority, doc = todo.pop()
            code, j = step(net[gw], peer, action, case_id, kind, priority, doc)
            if code != 202:
                with lock:
                    errors.append((gw, action, case_id, code, j))

    ts = [threading.Thread(target=worker) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(not errors, 'steps refused: %r' % errors[:3])
    wait_until(lambda: all(all(r['state'] in (DELIVERED, REJECTED, FAILED)
                               for r in net[s].outbox(blobs=False).values())
                           for s in STATES), 300, interval=0.5, msg='every step settled')
    for s in STATES:
        bad = [m for m, r in net[s].outbox(blobs=False).items() if r['state'] != DELIVERED]
        check(not bad, '%s: %d steps not delivered' % (s, len(bad)))


def walk(net, cases):
    rounds = [[] for _ in range(4)]
    opaque = b'<Doc>step</Doc>'
    for case_id, req, kind, script, priority in cases:
        rounds[0].append((req, other(req), 'request', case_id, kind, priority, opaque))
        for r, (action, side) in enumerate(SCRIPTS[script][0], start=1):
            gw = req if side == 'requesting' else other(req)
            # script 5 refuses with coded grounds, script 7 with an opaque document (none)
            doc = refused_doc(gw, case_id) if action == 'refused' and script == 5 else opaque
            rounds[r].append((gw, other(gw), action, case_id, kind, 'normal', doc))
    for r, steps in enumerate(rounds):
        t0 = time.monotonic()
        run_round(net, steps)
        print('round %d: %d steps in %.1f s' % (r, len(steps), time.monotonic() - t0))


def expected(state, cases):
    """The 'all' group of state's figures as this test counts them from its plan."""
    g = {'cases': 0, 'kind': {}, 'partner': {}, 'direction': {'outgoing': 0, 'incoming': 0},
         'outcome': {}, 'art28': {}, 'n': {'to-receipt': 0, 'to-decision': 0,
                                          'to-execution': 0}, 'priority': {}, 'ground': {}}
    for k in ('production-order', 'preservation-order'):
        for f in ('issued', 'issued-emergency', 'fulfilled', 'not-fulfilled', 'refused',
                  'received', 'received-fulfilled', 'fulfilled-emergency',
                  'not-fulfilled-emergency', 'refused-emergency'):
            g['art28']['%s:%s' % (k, f)] = 0
    for case_id, req, kind, script, priority in cases:
        steps, outcome = SCRIPTS[script]
        actions = [a for a, _ in steps]
        out = req == state
        g['cases'] += 1
        g['kind'][kind] = g['kind'].get(kind, 0) + 1
        p = other(state)
        g['partner'][p] = g['partner'].get(p, 0) + 1
        g['direction']['outgoing' if out else 'incoming'] += 1
        g['outcome'][outcome] = g['outcome'].get(outcome, 0) + 1
        g['priority'][priority] = g['priority'].get(priority, 0) + 1
        if outcome == 'refused':
            for code in (REFUSED_GROUNDS if script == 5 else ['none']):
                g['ground'][code] = g['ground'].get(code, 0) + 1
        g['n']['to-receipt'] += 1
        g['n']['to-decision'] += any(a in ('accepted', 'refused') for a in actions)
        g['n']['to-execution'] += any(a in ('executed', 'partially-executed') for a in actions)
        if kind in ('production-order', 'preservation-order'):
            done = outcome in ('executed', 'partially-executed')
            if out:
                urgent = priority != 'normal'
                failed = outcome in ('refused', 'withdrawn')
                g['art28'][kind + ':issued'] += 1
                g['art28'][kind + ':issued-emergency'] += urgent
                g['art28'][kind + ':fulfilled'] += done
                g['art28'][kind + ':fulfilled-emergency'] += done and urgent
                g['art28'][kind + ':not-fulfilled'] += failed
                g['art28'][kind + ':not-fulfilled-emergency'] += failed and urgent
                g['art28'][kind + ':refused'] += outcome == 'refused'
                g['art28'][kind + ':refused-emergency'] += outcome == 'refused' and urgent
                if outcome == 'refused':
                    for code in (REFUSED_GROUNDS if script == 5 else ['none']):
                        key = '%s:ground:%s' % (kind, code)
                        g['art28'][key] = g['art28'].get(key, 0) + 1
            else:
                g['art28'][kind + ':received'] += 1
                g['art28'][kind + ':received-fulfilled'] += done
    return g


def check_group(state, got, want):
    for k in ('cases', 'kind', 'partner', 'direction', 'outcome', 'priority', 'ground'):
        check(got[k] == want[k], '%s %s: stats %r, sent %r' % (state, k, got[k], want[k]))
    for k, v in want['art28'].items():
        check(got['art28'][k] == v, '%s art28 %s: %r, sent %r' % (state, k, got['art28'][k], v))
    counts = {k for k, v in got['art28'].items() if isinstance(v, int)}
    check(counts == set(want['art28']), '%s art28 figures %r, expected %r' % (
        state, sorted(counts ^ set(want['art28'])), sorted(want['art28'])))
    for m, n in want['n'].items():
        t = got['time'][m]
        check(t['n'] == n, '%s %s: n %r, sent %r' % (state, m, t['n'], n))
        if n:
            check(0 <= t['median_ms'] <= t['p90_ms'] and t['mean_ms'] >= 0,
                  '%s %s: %r' % (state, m, t))


def check_stats(net, cases, months):
    out = {}
    for s in STATES:
        p = net.cli('stats', '--store', net[s].store)
        j = json.loads(p.stdout)
        check(j['format'] == 'mlagw-stats/1' and len(j['states']) == 1 and
              j['states'][0]['state'] == s, '%s stats: %r' % (s, j.get('states')))
        groups = j['states'][0]['months']
        check(groups[-1]['month'] == 'all', 'no all group')
        check({g['month'] for g in groups[:-1]} <= months, '%s months %r' % (s, groups))
        check(sum(g['cases'] for g in groups[:-1]) == groups[-1]['cases'], 'months do not add')
        check_group(s, groups[-1], expected(s, cases))
        out[s] = (p.stdout, net.cli('stats', '--store', net[s].store, '--csv').stdout)
    return out


def check_audit_stats(net, mine):
    trust = os.path.join(net.dir, 'trust')
    os.makedirs(trust, exist_ok=True)
    for s in STATES:
        shutil.copy(net.pki(s, 'root.crt'), os.path.join(trust, s + '.crt'))
    bundles = {}
    for s in STATES:
        bundles[s] = os.path.join(net.dir, s + '.mab')
        net.cli('audit', 'export', '--store', net[s].store, '--cert', net[s].pki('audit.crt'),
                '--out', bundles[s])
        got = net.cli('audit', 'stats', bundles[s], '--trust', trust).stdout
        check(got == mine[s][0], '%s: audit stats differs from stats' % s)
        got = net.cli('audit', 'stats', '--csv', bundles[s], '--trust', trust).stdout
        check(got == mine[s][1], '%s: audit stats --csv differs from stats --csv' % s)
    both = json.loads(net.cli('audit', 'stats', bundles['ES'], bundles['CO'], '--trust',
                              trust).stdout)
    check(both['states'] == [json.loads(mine['CO'][0])['states'][0],
                             json.loads(mine['ES'][0])['states'][0]],
          'two bundles: not both States\' own figures')
    # CO's bundle against ES's root only: it does not verify, nothing is counted
    only_es = os.path.join(net.dir, 'trust-es')
    os.makedirs(only_es, exist_ok=True)
    shutil.copy(net.pki('ES', 'root.crt'), os.path.join(only_es, 'ES.crt'))
    p = net.cli('audit', 'stats', bundles['ES'], bundles['CO'], '--trust', only_es,
                check_rc=False)
    check(p.returncode == 1 and p.stdout == b'' and b'does not verify' in p.stderr,
          'unverified bundle: exit %d %r %r' % (p.returncode, p.stdout[:80], p.stderr))


def api_setup(g):
    """[api] on g with a token per role; returns (port, {role: token})."""
    port, toks, lines = free_port(), {}, []
    for role in ('auditor', 'admin', 'agency'):
        toks[role] = secrets.token_urlsafe(32)
        lines.append('%s %s-stats sha256:%s' % (role, role,
                                                hashlib.sha256(toks[role].encode()).hexdigest()))
    g.overrides['api'] = {'listen': '127.0.0.1:%d' % port, 'token': lines}
    return port, toks


def api_get(g, port, token, path):
    ctx = ssl.create_default_context(cafile=g.pki('root.crt'))
    ctx.check_hostname = False
    c = http.client.HTTPSConnection('127.0.0.1', port, context=ctx, timeout=60)
    try:
        c.request('GET', path, headers={'Authorization': 'Bearer ' + token})
        r = c.getresponse()
        return r.status, r.getheader('Content-Type'), r.read()
    finally:
        c.close()


def check_api(net, port, toks):
    """getStats equals mlagw stats over the live store (once both read the same checkpoint:
    the API counts the entries its latest checkpoint covers, as the command does)."""
    g = net['ES']
    same = {}

    def agree():
        # a checkpoint may be signed between two reads: all of them again until they agree
        for role, fmt, extra in (('auditor', 'json', []), ('admin', 'json', []),
                                 ('auditor', 'csv', ['--csv'])):
            code, ctype, body = api_get(g, port, toks[role], '/api/v1/stats?format=' + fmt)
            check(code == 200, 'getStats %s as %s: HTTP %d %r' % (fmt, role, code, body[:200]))
            mine = net.cli('stats', '--store', g.store, *extra).stdout
            if body != mine:
                return False
            same[fmt] = (ctype, body)
        return True
    wait_until(agree, 60, interval=1, msg='getStats equals mlagw stats')
    check(same['json'][0].startswith('application/json') and
          same['csv'][0].startswith('text/csv'), 'content types %r' % same)
    code, _, _ = api_get(g, port, toks['agency'], '/api/v1/stats')
    check(code == 403, 'agency getStats: HTTP %d, wanted 403' % code)
    code, _, _ = api_get(g, port, toks['auditor'], '/api/v1/stats?format=xml')
    check(code == 400, 'getStats format=xml: HTTP %d, wanted 400' % code)


def month_now():
    return time.strftime('%Y-%m', time.gmtime())


def main(mlagw, mlagwd):
    n = int(os.environ.get('MLAGW_STATS_CASES', '1000'))
    cases = plan(n)
    net = Net(mlagw, mlagwd, list(STATES))
    for g in net.gws.values():
        g.overrides = {'cases': {'lifecycle': 'enforce'}}
    net['ES'].overrides['peer CO'] = {'envelope_versions': '1 2'}
    net['CO'].overrides['peer ES'] = {'envelope_versions': '1 2'}
    port, toks = api_setup(net['ES'])
    months = {month_now()}
    net.start_all()
    t0 = time.monotonic()
    walk(net, cases)
    check_api(net, port, toks)
    net.stop_all()  # a clean stop signs the last checkpoint: every entry is covered
    months.add(month_now())
    mine = check_stats(net, cases, months)
    check_audit_stats(net, mine)
    print('case stats: %d cases, stats and audit stats agree, %.1f s' %
          (n, time.monotonic() - t0))


if __name__ == '__main__':
    run(main)
