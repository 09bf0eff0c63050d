"""Retrieval notices (SPEC 16.10) across gateways under one fake wall clock. ES and CO read
envelope version 2; MX is left at version 1. CO's agency opening ES's request sends ES one
signed `retrieved` notice naming the request and the time of the first reading (a second
reading sends nothing); a request nobody opens within [cases] not_retrieved_after (1h here)
gets one `not-retrieved` notice, and a late first reading still sends `retrieved`. Both sides
show it (socket message status, the local API's message and inbox views), neither case
changes state, both audit logs hold it and their exported bundles verify. A request from MX
(envelope v1) gets no notice, and its reader no error. Nobody but the gateway may submit a
notice."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from fakeclock import FakeClock  # noqa: E402
import test_api  # noqa: E402

READ, LATE, V1 = 'ES-RET-READ', 'ES-RET-LATE', 'MX-RET-V1'


def request(g, to, case_id):
    code, j = case_step(g, to, 'request', case_id, doc=b'<Request>retrieval</Request>')
    check(code == 202, 'request %s: %d %r' % (case_id, code, j))
    return j['message_id']


def delivered(g, mid):
    wait_until(lambda: g.outbox(blobs=False)[mid]['state'] == DELIVERED, 30,
               msg='%s delivered' % mid)


def read(api, mid):
    d = api.json('GET', '/api/v1/inbox/%s/document?reason=examining+the+request' % mid,
                 'agency')
    check(d['message_id'] == mid, 'document %r' % d)


def notices(api, request_id, action=None):
    """The notices api's gateway sent for request_id (the local API's sent messages)."""
    items = api.json('GET', '/api/v1/messages?limit=100', 'auditor')['items']
    return [m for m in items if m.get('in_reply_to') == request_id and
            m['action'] in ([action] if action else ['retrieved', 'not-retrieved'])]


def retrieval(g, mid):
    return g.status(mid).get('retrieval', {})


def got(g, mid, what):
    """Waits until g's view of mid shows the notice `what` received or sent; its view."""
    wait_until(lambda: retrieval(g, mid).get(what + '_notice'), 30,
               msg='%s: %s of %s' % (g.state, what, mid))
    return retrieval(g, mid)


def state_of(g, case_id):
    items = cases(g, case_id)
    check(len(items) == 1, '%s: cases %s %r' % (g.state, case_id, items))
    return items[0]['state']


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'MX'])
    clock = FakeClock(net.dir, 'all')  # one wall clock for every gateway
    es, co, mx = net['ES'], net['CO'], net['MX']
    for g in (es, co, mx):
        g.overrides['cases'] = {'lifecycle': 'enforce', 'not_retrieved_after': '1h'}
    es.overrides['peer CO'] = {'envelope_versions': '1, 2'}
    co.overrides['peer ES'] = {'envelope_versions': '1, 2'}

    def start_all():
        for g in net.gws.values():
            g.write_config()
            g.start(env=clock.env())
    net.start_all = start_all
    apis = test_api.setup(net)
    es_api, co_api = apis['ES'], apis['CO']

    # only the gateway sends notices
    code, j = case_step(es, 'CO', 'retrieved', READ)
    check(code == 400 and 'only the gateway' in j.get('message', ''), 'notice by hand: %d %r'
          % (code, j))

    r_read, r_late = request(es, 'CO', READ), request(es, 'CO', LATE)
    r_v1 = request(mx, 'CO', V1)
    for g, mid in ((es, r_read), (es, r_late), (mx, r_v1)):
        delivered(g, mid)
    time.sleep(2)
    check(notices(co_api, r_read) == [] and notices(co_api, r_late) == [],
          'a notice before reading')

    # the first reading: one retrieved notice, the time on both sides; the state stays
    t0 = int(time.time() * 1000)
    read(co_api, r_read)
    mine = got(co, r_read, 'retrieved')
    theirs = got(es, r_read, 'retrieved')
    check(mine['side'] == 'requested' and theirs['side'] == 'requesting' and
          mine['retrieved_ms'] == theirs['retrieved_ms'] and
          abs(mine['retrieved_ms'] - t0) < 10000 and
          mine['retrieved_notice'] == theirs['retrieved_notice'] and mine['notices'],
          'retrieved views CO %r / ES %r' % (mine, theirs))
    nid = mine['retrieved_notice']
    delivered(co, nid)
    for g in (es, co):
        check(state_of(g, READ) == 'received', '%s: the notice changed the case' % g.state)
    api_view = es_api.json('GET', '/api/v1/messages/' + r_read, 'auditor')
    check(api_view['retrieval']['retrieved_notice'] == nid, 'ES API %r' % api_view)
    for api in (es_api, co_api):  # the case view's request, on both sides
        msgs = api.json('GET', '/api/v1/cases/' + READ, 'auditor')['messages']
        req = [m for m in msgs if m['message_id'] == r_read]
        check(len(req) == 1 and req[0]['retrieval']['retrieved_notice'] == nid,
              'case view %r' % msgs)
    inbox_view = co_api.json('GET', '/api/v1/inbox/' + r_read, 'auditor')
    check(inbox_view['retrieval']['retrieved_ms'] == mine['retrieved_ms'], 'CO API %r'
          % inbox_view)
    read(co_api, r_read)  # a second reading sends nothing
    time.sleep(3)
    check(len(notices(co_api, r_read)) == 1 and retrieval(co, r_read) == mine,
          'second reading: %r' % notices(co_api, r_read))

    # an hour and more: not-retrieved for the unread request only
    clock.set(3700)
    late = got(es, r_late, 'not_retrieved')
    check(not late.get('retrieved_notice') and
          late['not_retrieved_ms'] == got(co, r_late, 'not_retrieved')['not_retrieved_ms'],
          'not-retrieved %r' % late)
    time.sleep(2)
    check('not_retrieved_ms' not in retrieval(es, r_read) and
          len(notices(co_api, r_late, 'not-retrieved')) == 1, 'not-retrieved twice or for a read '
          'request: %r' % notices(co_api, r_late))
    # a late first reading still sends retrieved
    read(co_api, r_late)
    both = got(es, r_late, 'retrieved')
    check(both['not_retrieved_notice'] != both['retrieved_notice'] and
          both['retrieved_ms'] > both['not_retrieved_ms'], 'late reading %r' % both)
    check(state_of(es, LATE) == 'received' and state_of(co, LATE) == 'received',
          'a notice changed the late case')

    # MX reads envelope version 1 only: no notice, no error for the reader
    read(co_api, r_v1)
    clock.set(2 * 3700)
    time.sleep(4)
    v1 = retrieval(co, r_v1)
    check(v1.get('retrieved_ms') and v1.get('retrieved_notice') is None and
          v1['notices'] is False and notices(co_api, r_v1) == [] and
          'notice-skipped' in co.log_text(), 'v1 peer: %r' % v1)
    check('retrieval' not in mx.status(r_v1), 'MX got a notice')

    # both audit logs hold the notices; the bundles verify
    ids = {m['message_id'] for r in (r_read, r_late) for m in notices(co_api, r)}
    check(len(ids) == 3, 'notices sent %r' % ids)
    co_log, es_log = co.audit(), es.audit()
    for mid in ids:
        ev_co = {(e['event'], e.get('actor')) for e in co_log if e.get('message') == mid}
        ev_es = {e['event'] for e in es_log if e.get('message') == mid}
        check(('answered', 'gateway') in ev_co and 'delivered' in {e for e, _ in ev_co} and
              'received' in ev_es, 'audit of notice %s: CO %r ES %r' % (mid, ev_co, ev_es))
    first = [e for e in co_log if e.get('message') == r_read and e['event'] ==
             'document-fetched']
    check(len(first) == 2, 'CO document-fetched entries %r' % first)
    net.stop_all()
    for s in ('ES', 'CO'):
        verify_exported(net, s)
    print('ok: retrieved once after the first reading, not-retrieved after 1h, then '
          'retrieved late; none to a v1 peer; both audit bundles verify')


if __name__ == '__main__':
    run(main)
