"""A European arrest warrant and per-rule extensions across two gateways (SPEC 16.8, 16.9),
enforcing the lifecycle, envelope version 2 between them, one fake wall clock for both.

ES sends an extradition request whose legal basis is the Framework Decision
(eaw-framework-decision): rule eaw is selected but does not run until the arrest is recorded.
CO, the executing State, may not record the consent first (case-step); it records the arrest
(PersonArrested, a day before the request's receipt): both sides show eaw due 60 days after
the arrest's day; a second arrest is refused; it records the consent: both sides show
eaw_consent due 10 days after the consent's day, and overdue on both once the clock passes it.

An EIO request (eio_execution configured with an extension): CO extends eio_recognition
(DeadlineExtended naming it), a second extension of it is refused (once per rule), CO
accepts, then extends eio_execution: both sides show each rule extended by 30 days.

Finally CO without the lifecycle sends what CO with it would refuse (a second consent, a
second extension of eio_execution): ES refuses both on receipt (signed negative receipt,
case-step) and its cases do not move."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from fakeclock import FakeClock  # noqa: E402
from test_case_deadlines import example, one, legal, delivered  # noqa: E402

EAW, EIO = 'ES-EAW-1', 'ES-EIO-1'
DAY_MS = 86400000
V2 = '1 2'


def iso(ms):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(ms // 1000))


def answer(name, case_id, subs=()):
    doc = example(name)
    doc = re.sub(rb'<RequestCaseId>[^<]*</RequestCaseId>',
                 b'<RequestCaseId>' + case_id.encode() + b'</RequestCaseId>', doc)
    for a, b in subs:
        doc, n = re.subn(a, b, doc)
        check(n == 1, '%s: %r not found' % (name, a))
    return doc


def with_instrument(name, instrument):
    doc = example(name)
    doc, n = re.subn(rb'<Instrument>untoc</Instrument>',
                     b'<Instrument>' + instrument + b'</Instrument>', doc)
    check(n == 1, '%s has no untoc Instrument' % name)
    return doc


def both(net, case_id):
    return one(net['ES'], case_id), one(net['CO'], case_id)


def legal_rules(v):
    return [d['rule'] for d in v.get('deadlines', []) if d['deadline'] == 'legal']


def day_end(ms, days):
    """days counted from the day after the one ms falls in, to 00:00Z after the last."""
    return (ms // DAY_MS + days + 1) * DAY_MS


def step(net, frm, action, case_id, doc, kind, want=202):
    to = 'ES' if frm == 'CO' else 'CO'
    code, j = case_step(net[frm], to, action, case_id, doc=doc, kind=kind)
    check(code == want, '%s %s: %d %r' % (frm, action, code, j))
    if code == 202:
        delivered(net, frm, j['message_id'])
    return j


def arrest_warrant(net):
    step(net, 'ES', 'request', EAW,
             with_instrument('request-extradition.xml', b'eaw-framework-decision'), 'extradition')
    for v in both(net, EAW):
        check(v['state'] == 'received' and legal_rules(v) == [] and v['kind'] == 'extradition',
              '%s before the arrest: %r' % (v['side'], v))
    received = one(net['ES'], EAW)['received_ms']
    arrested, consented = received - DAY_MS, received + 3600000

    # the consent cannot come first (before sealing)
    # dated the day of the recorded time: a time after the day following the document's own
    # Date is refused (date-order)
    con = answer('answer-surrender-consented.xml', EAW,
                 [(rb'<ConsentedAt>[^<]*</ConsentedAt>',
                   b'<ConsentedAt>' + iso(consented).encode() + b'</ConsentedAt>'),
                  (rb'<Date>[^<]*</Date>', b'<Date>' + iso(consented)[:10].encode() + b'</Date>')])
    j = step(net, 'CO', 'surrender-consented', EAW, con, 'extradition', want=409)
    check(j.get('code') == 'case-step' and 'person-arrested comes first' in j['message'],
          'consent first: %r' % j)
    arr = answer('answer-person-arrested.xml', EAW,
                 [(rb'<ArrestedAt>[^<]*</ArrestedAt>',
                   b'<ArrestedAt>' + iso(arrested).encode() + b'</ArrestedAt>'),
                  (rb'<Date>[^<]*</Date>', b'<Date>' + iso(received)[:10].encode() + b'</Date>')])
    # the requesting side may not record it
    j = step(net, 'ES', 'person-arrested', EAW, arr, 'extradition', want=409)
    check(j.get('code') == 'case-step', 'arrest by ES: %r' % j)
    first = step(net, 'CO', 'person-arrested', EAW, arr, 'extradition')['message_id']
    views = both(net, EAW)
    for v in views:
        d = legal(v, 'eaw')
        check(v['state'] == 'received' and v['last_step'] == first and
              d['due_ms'] == day_end(arrested // 1000 * 1000, 60) and not d['extended'] and
              v['steps'][-1]['action'] == 'person-arrested' and
              v['steps'][-1]['by'] == 'requested' and
              v['steps'][-1]['recorded_ms'] == arrested // 1000 * 1000 and
              v['steps'][-1]['recorded'] == iso(arrested)[:-1] + '.000Z',
              '%s after the arrest: %r' % (v['side'], v))
    check(views[0]['deadlines'] == views[1]['deadlines'], 'sides differ: %r' % (views,))
    for g in (net['ES'], net['CO']):  # mlagw cases ID shows the recorded time
        out = net.cli('cases', '--socket', g.sock, EAW).stdout.decode()
        check('person-arrested' in out and
              'recorded ' + iso(arrested)[:-1] + '.000Z' in out, '%s cases: %s' % (g.state, out))
    j = step(net, 'CO', 'person-arrested', EAW, arr, 'extradition', want=409)
    check(j.get('code') == 'case-step' and 'already recorded' in j['message'] and
          first in j['message'], 'second arrest: %r' % j)

    step(net, 'CO', 'surrender-consented', EAW, con, 'extradition')
    views = both(net, EAW)
    # the clock starts at the consent recorded, or at the step's own time when the recorded
    # one is later (SPEC 16.9): an hour ahead crosses into the next day after 23:00 UTC
    start = min(consented // 1000 * 1000, views[0]['steps'][-1]['at_ms'])
    due = day_end(start, 10)
    for v in views:
        check(legal_rules(v) == ['eaw_consent'] and legal(v, 'eaw_consent')['due_ms'] == due and
              v['deadline_state'] == 'not-due', '%s after the consent: %r' % (v['side'], v))
    check(views[0]['deadlines'] == views[1]['deadlines'], 'sides differ: %r' % (views,))
    return due


def overdue(net, clock, due):
    """Past the consent's 10 days: overdue on both sides."""
    clock.set(int((due - time.time() * 1000) / 1000) + 3600)
    for v in both(net, EAW):
        check(v['deadline_state'] == 'overdue' and
              legal(v, 'eaw_consent')['state'] == 'overdue', '%s overdue: %r' % (v['side'], v))


def per_rule(net):
    step(net, 'ES', 'request', EIO, with_instrument('request-mla.xml', b'eio-directive'), 'mla')
    v0 = one(net['ES'], EIO)
    rec0 = legal(v0, 'eio_recognition')['due_ms']
    ext = answer('answer-deadline-extended.xml', EIO,
                 [(rb'<Rule>preservation</Rule>', b'<Rule>eio_recognition</Rule>')])
    first = step(net, 'CO', 'deadline-extended', EIO, ext, 'mla')['message_id']
    for v in both(net, EIO):
        d = legal(v, 'eio_recognition')
        check(d['extended'] and d['due_ms'] == rec0 + 30 * DAY_MS and
              v['steps'][-1]['rule'] == 'eio_recognition',
              '%s recognition extended: %r' % (v['side'], v))
    j = step(net, 'CO', 'deadline-extended', EIO, ext, 'mla', want=409)
    check(j.get('code') == 'case-step' and 'once per rule' in j['message'] and
          first in j['message'], 'second recognition extension: %r' % j)
    acc = answer('answer-accepted.xml', EIO)
    step(net, 'CO', 'accepted', EIO, acc, 'mla')
    views = both(net, EIO)
    exe0 = legal(views[0], 'eio_execution')['due_ms']
    for v in views:
        check(legal_rules(v) == ['eio_execution'] and
              not legal(v, 'eio_execution')['extended'], '%s accepted: %r' % (v['side'], v))
    ext2 = answer('answer-deadline-extended.xml', EIO,
                  [(rb'<Rule>preservation</Rule>', b'<Rule>eio_execution</Rule>')])
    step(net, 'CO', 'deadline-extended', EIO, ext2, 'mla')
    views = both(net, EIO)
    for v in views:
        d = legal(v, 'eio_execution')
        check(d['extended'] and d['due_ms'] == exe0 + 30 * DAY_MS,
              '%s execution extended: %r' % (v['side'], v))
    check(views[0]['deadlines'] == views[1]['deadlines'], 'sides differ: %r' % (views,))
    return ext2


def refused_on_receipt(net, clock, ext2):
    """CO without the lifecycle: ES refuses on receipt what CO with it would have refused."""
    co, es = net['CO'], net['ES']
    before = {c: one(es, c) for c in (EAW, EIO)}
    co.stop()
    co.write_config(overrides={'cases': {'lifecycle': 'off'}})
    co.start(env=clock.env())
    con = answer('answer-surrender-consented.xml', EAW)
    sent = []
    for case_id, action, doc, kind in ((EAW, 'surrender-consented', con, 'extradition'),
                                       (EIO, 'deadline-extended', ext2, 'mla')):
        code, j = case_step(co, 'ES', action, case_id, in_reply_to=before[case_id]['last_step'],
                            doc=doc, kind=kind)
        check(code == 202, 'CO off, %s: %d %r' % (action, code, j))
        sent.append(j['message_id'])
    wait_until(lambda: all(co.outbox(blobs=False)[m]['state'] == REJECTED for m in sent), 30,
               msg='refusals on receipt')
    out = co.outbox()
    for m in sent:
        rc = parse_receipt(out[m]['receipt'])
        check(rc['outcome'] == 'rejected' and rc['error'] == 'case-step', 'receipt %r' % rc)
    for c in (EAW, EIO):
        after = one(es, c)
        check(after['last_step'] == before[c]['last_step'] and
              after['deadlines'] == before[c]['deadlines'], 'ES moved: %r' % after)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    for s, peer in (('ES', 'CO'), ('CO', 'ES')):
        net[s].overrides = {'cases': {'lifecycle': 'enforce'},
                            'peer ' + peer: {'envelope_versions': V2},
                            'deadlines': {'eio_execution': '90d extend 30d'}}
    clock = FakeClock(net.dir, 'both')
    for g in net.gws.values():
        g.write_config()
        g.start(env=clock.env())
    due = arrest_warrant(net)
    ext2 = per_rule(net)
    refused_on_receipt(net, clock, ext2)
    overdue(net, clock, due)
    net.stop_all()
    for g in (net['ES'], net['CO']):  # the store's own check: every history a legal path
        out = net.cli('store', 'check', '--store', g.store).stdout.decode()
        check('cases: 2 checked against their steps: ok' in out,
              '%s store check: %s' % (g.state, out))


if __name__ == '__main__':
    run(main)
