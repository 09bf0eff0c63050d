"""The case lifecycle across two gateways (SPEC 16.8): a case from request to execution with
repeated requests for information, the same state and last step on both sides after every
step; an illegal step refused before sealing naming the state and the allowed steps; a step
on a stale state refused; a step a peer sends anyway refused on receipt with a signed negative
receipt; two crossing steps, the requested State's winning on both sides."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_api  # noqa: E402

ENFORCE = {'cases': {'lifecycle': 'enforce'}}


def one(gw, case_id):
    items = cases(gw, case_id)
    check(len(items) == 1, '%s: cases %s: %r' % (gw.state, case_id, items))
    return items[0]


def settled(net, ids):
    """Every id in a final state (delivered or rejected) at its sender."""
    def done():
        for g in net.gws.values():
            out = g.outbox(blobs=False)
            if any(m in out and out[m]['state'] not in (DELIVERED, REJECTED) for m in ids):
                return False
        return True
    wait_until(done, 30, msg='steps settled')


def same_view(net, case_id, state, last):
    a, b = one(net['ES'], case_id), one(net['CO'], case_id)
    for v in (a, b):
        check(v['state'] == state and v['last_step'] == last and v['pending'] == '',
              '%s: %r, want %s after %s' % (case_id, v, state, last))
    check([s['message_id'] for s in a['steps']] == [s['message_id'] for s in b['steps']],
          'the two histories differ: %r / %r' % (a['steps'], b['steps']))


def step_ok(net, frm, to, action, case_id, want_state, in_reply_to=None):
    code, j = case_step(net[frm], to, action, case_id, in_reply_to)
    check(code == 202, '%s %s: HTTP %d %r' % (frm, action, code, j))
    settled(net, [j['message_id']])
    check(net[frm].outbox(blobs=False)[j['message_id']]['state'] == DELIVERED,
          '%s %s not delivered' % (frm, action))
    same_view(net, case_id, want_state, j['message_id'])
    return j['message_id']


def full_case(net):
    c = 'ES-LIFE-1'
    req = step_ok(net, 'ES', 'CO', 'request', c, 'received')
    es = one(net['ES'], c)
    check(es['side'] == 'requesting' and es['received_ms'] > 0, 'ES view %r' % es)
    check(one(net['CO'], c)['side'] == 'requested', 'CO side')
    # illegal for the requesting side: refused before sealing, naming state and allowed steps
    code, j = case_step(net['ES'], 'CO', 'accepted', c)
    check(code == 409 and j['code'] == 'case-step' and 'received' in j['message'] and
          'allowed: withdrawn' in j['message'], 'ES accepted: %d %r' % (code, j))
    # a stale InReplyTo: refused before sealing
    step_ok(net, 'CO', 'ES', 'received', c, 'acknowledged')
    code, j = case_step(net['CO'], 'ES', 'accepted', c, in_reply_to=req)
    check(code == 409 and j['code'] == 'case-conflict', 'stale step: %d %r' % (code, j))
    for _ in range(2):  # repeatable
        step_ok(net, 'CO', 'ES', 'additional-information-requested', c,
                'additional-information-requested')
        step_ok(net, 'ES', 'CO', 'additional-information-provided', c,
                'additional-information-provided')
    step_ok(net, 'CO', 'ES', 'accepted', c, 'accepted')
    last = step_ok(net, 'CO', 'ES', 'executed', c, 'executed')
    code, j = case_step(net['ES'], 'CO', 'withdrawn', c)
    check(code == 409 and j['code'] == 'case-step', 'withdrawal after execution: %r' % j)
    steps = one(net['CO'], c)['steps']
    check([s['action'] for s in steps] == [
        'request', 'received', 'additional-information-requested',
        'additional-information-provided', 'additional-information-requested',
        'additional-information-provided', 'accepted', 'executed'] and
        steps[-1]['message_id'] == last, 'history %r' % steps)
    # the intervals awaiting information are readable from the history (deadlines)
    waits = [s for s in steps if s['to'] == 'additional-information-requested']
    check(len(waits) == 2 and all(s['at_ms'] > 0 for s in steps), 'waits %r' % waits)
    # the CLI: the list, one case with its steps, JSON
    out = net.cli('cases', '--socket', net['ES'].sock).stdout.decode()
    check('case %s (ES, requesting with CO): executed' % c in out, 'mlagw cases: %s' % out)
    out = net.cli('cases', '--socket', net['CO'].sock, c).stdout.decode()
    check(out.count('additional-information-provided') >= 2 and last in out and
          'allowed now: none' in out, 'mlagw cases ID: %s' % out)
    j = json.loads(net.cli('cases', '--socket', net['CO'].sock, c, '--json').stdout)
    check(j['items'][0]['steps'][-1]['message_id'] == last, 'mlagw cases --json %r' % j)
    p = net.cli('cases', '--socket', net['CO'].sock, 'NO-SUCH-CASE', check_rc=False)
    check(p.returncode == 1 and b'no case' in p.stderr, 'unknown case: %r' % (p.stderr,))


def refused_on_receipt(net):
    """CO without the lifecycle sends steps that CO-with-lifecycle would not: ES refuses them
    with a signed negative receipt and its case does not move."""
    c = 'ES-LIFE-2'
    req = step_ok(net, 'ES', 'CO', 'request', c, 'received')
    net['CO'].write_config(overrides={'cases': {'lifecycle': 'off'}})
    net['CO'].stop()
    net['CO'].start()
    code, j = case_step(net['CO'], 'ES', 'received', c, in_reply_to=req)
    ack = j['message_id']
    settled(net, [ack])
    check(net['CO'].outbox(blobs=False)[ack]['state'] == DELIVERED, 'legal step refused')
    code, j = case_step(net['CO'], 'ES', 'additional-information-provided', c, in_reply_to=ack)
    check(code == 202, 'CO off: %d %r' % (code, j))
    bad = j['message_id']
    code, j = case_step(net['CO'], 'ES', 'accepted', c, in_reply_to=req)  # legal, but stale
    stale = j['message_id']
    settled(net, [bad, stale])
    out = net['CO'].outbox()
    for mid, code in ((bad, 'case-step'), (stale, 'case-conflict')):
        rc = parse_receipt(out[mid]['receipt'])
        check(out[mid]['state'] == REJECTED and rc['outcome'] == 'rejected' and
              rc['error'] == code, '%s: %r' % (code, rc))
    es = one(net['ES'], c)
    check(es['state'] == 'acknowledged' and es['last_step'] == ack, 'ES moved: %r' % es)
    co = one(net['CO'], c)  # off: its steps are recorded nowhere
    check(co['state'] == 'received' and co['last_step'] == req, 'CO moved while off: %r' % co)
    net['CO'].write_config(overrides=ENFORCE)
    net['CO'].stop()
    net['CO'].start()


def crossing(net):
    """A withdrawal from ES and an execution report from CO both made on 'accepted': CO's
    link to ES is cut so its report waits; ES's withdrawal reaches CO first and is refused
    (case-conflict: CO's step is pending and wins); once the link is back the report is
    applied on both sides."""
    c = 'ES-LIFE-3'
    step_ok(net, 'ES', 'CO', 'request', c, 'received')
    acc = step_ok(net, 'CO', 'ES', 'accepted', c, 'accepted')
    net.url_override['ES'] = 'https://127.0.0.1:%d/mla/v1/envelopes' % free_port()
    net['CO'].write_config(overrides=ENFORCE)
    net['CO'].stop()
    net['CO'].start()
    code, j = case_step(net['CO'], 'ES', 'executed', c)
    check(code == 202, 'CO executed: %d %r' % (code, j))
    ex = j['message_id']
    check(one(net['CO'], c)['pending'] == ex, 'CO pending')
    code, j = case_step(net['ES'], 'CO', 'withdrawn', c)
    check(code == 202, 'ES withdrawn: %d %r' % (code, j))
    wd = j['message_id']
    settled(net, [wd])
    rc = parse_receipt(net['ES'].outbox()[wd]['receipt'])
    check(rc['error'] == 'case-conflict', 'withdrawal receipt %r' % rc)
    check(one(net['ES'], c)['state'] == 'accepted', 'ES applied its refused withdrawal')
    del net.url_override['ES']
    net['CO'].write_config(overrides=ENFORCE)
    net['CO'].stop()
    net['CO'].start()
    settled(net, [ex])
    same_view(net, c, 'executed', ex)
    check(one(net['ES'], c)['steps'][-2]['message_id'] == acc, 'ES history')


def through_api(net, api):
    """The local API refuses an illegal step the same way (409 and the code)."""
    code, _, out = api.call('POST', '/api/v1/messages', test_api.submit_body(), role='authority')
    check(code == 202, 'API request: %d %r' % (code, out))
    first = json.loads(out)
    wait_until(lambda: net['ES'].all_in_state({first['message_id']}, DELIVERED), 30,
               msg='the API request delivered')
    body = test_api.submit_body(case_id=first['case_id'])
    del body['new_case']
    code, _, out = api.call('POST', '/api/v1/messages', body, role='authority')
    j = json.loads(out)
    check(code == 409 and j['code'] == 'case-step' and 'state received' in j['message'],
          'a second request in the case through the API: %d %r' % (code, j))
    for role in ('authority', 'auditor'):  # the case with its lifecycle beside its messages
        case = api.json('GET', '/api/v1/cases/' + first['case_id'], role)
        life = case['lifecycle']
        check(len(life) == 1 and life[0]['state'] == 'received' and
              life[0]['side'] == 'requesting' and
              life[0]['steps'][0]['message_id'] == first['message_id'] and
              life[0]['allowed'] == 'withdrawn', '%s: case %r' % (role, case))


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    for g in net.gws.values():
        g.overrides = dict(ENFORCE)
    apis = test_api.setup(net)  # starts the gateways
    through_api(net, apis['ES'])
    full_case(net)
    refused_on_receipt(net)
    crossing(net)
    net.stop_all()


if __name__ == '__main__':
    run(main)
