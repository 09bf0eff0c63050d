"""A deadline's extension taken (SPEC 16.8, 16.9): two gateways enforcing the lifecycle, with
envelope version 2 between them. ES sends a preservation order (60 days, extendable by 30 by
default); CO, the requested side, sends a DeadlineExtended answer with the Action
deadline-extended. On both sides the case stays in its state, the step is in its history,
and the preservation deadline is due 30 days later and says extended. The requesting side
may not take the step (case-step, 409), nor the requested side a second time for the same rule
(case-step, once per rule,
naming the first), and a DeadlineExtended document under another Action is refused (header,
400)."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from test_case_deadlines import example, one, legal, delivered  # noqa: E402

CASE = 'ES-DL-EXT'
DAY_MS = 86400000


def views(net):
    return one(net['ES'], CASE), one(net['CO'], CASE)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net['ES'].overrides = {'cases': {'lifecycle': 'enforce'},
                           'peer CO': {'envelope_versions': '1 2'}}
    net['CO'].overrides = {'cases': {'lifecycle': 'enforce'},
                           'peer ES': {'envelope_versions': '1 2'}}
    net.start_all()
    es, co = net['ES'], net['CO']

    code, j = case_step(es, 'CO', 'request', CASE, doc=example('request-preservation-order.xml'),
                        kind='preservation-order')
    check(code == 202, 'request: %d %r' % (code, j))
    delivered(net, 'ES', j['message_id'])
    before = views(net)
    for v in before:
        d = legal(v, 'preservation')
        check(v['state'] == 'received' and not d['extended'] and
              60 * DAY_MS < d['due_ms'] - v['received_ms'] <= 61 * DAY_MS,
              '%s before: %r' % (v['side'], v))
    check(legal(before[0], 'preservation')['due_ms'] == legal(before[1], 'preservation')['due_ms'],
          'due times differ: %r' % (before,))
    due0 = legal(before[0], 'preservation')['due_ms']

    doc = example('answer-deadline-extended.xml')
    doc = re.sub(rb'<RequestCaseId>[^<]*</RequestCaseId>',
                 b'<RequestCaseId>' + CASE.encode() + b'</RequestCaseId>', doc)
    # the document fits its own Action only
    code, j = case_step(co, 'ES', 'postponed', CASE, doc=doc, kind='preservation-order')
    check(code == 400 and j.get('code') == 'header', 'under postponed: %d %r' % (code, j))
    # the requesting side may not take the step
    code, j = case_step(es, 'CO', 'deadline-extended', CASE, doc=doc, kind='preservation-order')
    check(code == 409 and j.get('code') == 'case-step', 'by ES: %d %r' % (code, j))

    code, j = case_step(co, 'ES', 'deadline-extended', CASE, doc=doc, kind='preservation-order')
    check(code == 202, 'deadline-extended: %d %r' % (code, j))
    delivered(net, 'CO', j['message_id'])
    ext = j['message_id']
    for v in views(net):
        d = legal(v, 'preservation')
        check(v['state'] == 'received' and v['last_step'] == ext and d['extended'] and
              d['due_ms'] == due0 + 30 * DAY_MS and v['due_ms'] == d['due_ms'],
              '%s after: %r' % (v['side'], v))
        s = v['steps'][-1]
        check(s['action'] == 'deadline-extended' and s['from'] == s['to'] == 'received' and
              s['by'] == 'requested', '%s history: %r' % (v['side'], v['steps']))
        check('deadline-extended' in v['allowed'] if v['side'] == 'requested'
              else 'deadline-extended' not in v['allowed'], 'allowed: %r' % v)
    # once per case: a second one is refused before sealing, naming the first
    code, j = case_step(co, 'ES', 'deadline-extended', CASE, doc=doc, kind='preservation-order')
    check(code == 409 and j.get('code') == 'case-step' and 'already extended' in j['message'] and
          ext in j['message'], 'second extension: %d %r' % (code, j))
    net.stop_all()
    for g in (es, co):  # the store's own check: the history is a legal path
        out = net.cli('store', 'check', '--store', g.store).stdout.decode()
        check('cases: 1 checked against their steps: ok' in out,
              '%s store check: %s' % (g.state, out))


if __name__ == '__main__':
    run(main)
