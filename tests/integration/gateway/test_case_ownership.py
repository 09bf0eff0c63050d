"""Issue 10 finding 1: one authority could take over another's case. "Own" meant "submitted
into it", and a case id is chosen freely: authority B, refused (403) on authority A's case,
submitted any document with A's case_id, got 202, and from then on read the whole case,
fetched the requested State's answer in plaintext and could withdraw A's request.

A case now belongs to the authority that opened it, keyed on (requesting State, case id):
nobody else submits into it, reads it or acts on it unless [api] grants it (supervisor,
delegate), and every refusal is audited. A peer's request with the same case id string is the
peer's case, never ours; the socket's cases are the socket principal's own."""
import base64
import hashlib
import json
import os
import secrets
import signal
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_api  # noqa: E402

# extra authority principals of each State: B, a supervisor and a delegate of A
EXTRA = ['authority2', 'supervisor', 'delegate']


def setup(net):
    apis = {}
    for s in ('ES', 'CO'):
        g = net[s]
        port = free_port()
        tokens, lines = {}, []
        for role in test_api.ROLES + EXTRA:
            name = '%s-%s' % (s.lower(), role)
            tok = secrets.token_urlsafe(32)
            tokens[role] = (name, tok)
            r = 'authority' if role in EXTRA else role
            lines.append('%s %s sha256:%s' % (r, name, hashlib.sha256(tok.encode()).hexdigest()))
        g.overrides['api'] = {'listen': '127.0.0.1:%d' % port, 'token': lines}
        apis[s] = test_api.Api(g, port, tokens)
    net.start_all()
    return apis


def actor(api, role):
    return 'authority:' + api.tokens[role][0]


def q(case):
    return urllib.parse.quote(case, safe='')


def into(case, to='CO'):
    """A submitMessage body naming an existing case id."""
    b = test_api.submit_body(to=to)
    del b['new_case']
    b['case_id'] = case
    return b


def answer_body(action='withdrawn'):
    return {'action': action, 'content_type': 'application/xml',
            'document_b64': base64.b64encode(b'<Answer>' + action.encode() + b'</Answer>').decode()}


def refused(api, gw, role, method, path, op, body=None):
    """403 forbidden, the owner never named, and an access-denied entry naming op."""
    before = len(test_api.denied_entries(gw, actor(api, role), op))
    code, _, out = api.call(method, path, body, role=role)
    check(code == 403, '%s %s as %s: HTTP %d %r, wanted 403' % (method, path, role, code,
                                                                 out[:300]))
    j = json.loads(out)
    check(j['code'] == 'forbidden' and api.tokens['authority'][0] not in j['message'],
          'refusal %r' % j)
    wait_until(lambda: len(test_api.denied_entries(gw, actor(api, role), op)) > before, 10,
               msg='access-denied entry for %s by %s' % (op, role))
    return j


def takeover(net, apis):
    """B submits into A's case: refused. (Before the fix: 202, then B read A's case.)"""
    es = apis['ES']
    a = es.json('POST', '/api/v1/messages', 'authority', test_api.submit_body(), expect=202)
    mid, case = a['message_id'], a['case_id']
    test_api.wait_state(es, mid, 'delivered')
    refused(es, net['ES'], 'authority2', 'GET', '/api/v1/cases/' + q(case), 'getCase')
    code, _, out = es.call('POST', '/api/v1/messages', into(case), role='authority2')
    if code == 202:
        c = es.call('GET', '/api/v1/cases/' + q(case), role='authority2')
        check(False, 'takeover: B submitted into A\'s case (202) and then read it (HTTP %d)'
              % c[0])
    check(code == 403 and json.loads(out)['message'].find('another authority') >= 0,
          'B into A\'s case: HTTP %d %r' % (code, out))
    check(test_api.denied_entries(net['ES'], actor(es, 'authority2'), 'submitMessage'),
          'no access-denied entry for the refused submission')
    check(not [e for e in net['ES'].audit() if e['event'] == 'submitted' and
               e.get('actor') == actor(es, 'authority2')], 'the refused submission was audited '
          'as submitted')
    return mid, case


def reads_and_acts(net, apis, mid, case):
    """B can do nothing in A's case; A can do everything."""
    es, co = apis['ES'], apis['CO']
    ans = co.json('POST', '/api/v1/messages/%s/answers' % mid, 'agency',
                  answer_body('accepted'), expect=202)
    aid = ans['message_id']
    test_api.wait_state(co, aid, 'delivered')
    g = net['ES']
    refused(es, g, 'authority2', 'GET', '/api/v1/cases/' + q(case), 'getCase')
    refused(es, g, 'authority2', 'GET', '/api/v1/messages/' + mid, 'getMessage')
    refused(es, g, 'authority2', 'GET', '/api/v1/messages/' + aid, 'getMessage')
    refused(es, g, 'authority2', 'POST', '/api/v1/messages/%s/answers' % mid, 'answerMessage',
            answer_body())
    refused(es, g, 'authority2', 'GET', '/api/v1/inbox/%s/document?reason=legal+review' % aid,
            'fetchDocument')
    for path in ('/api/v1/messages', '/api/v1/messages?case_id=' + q(case)):
        items = es.json('GET', path, 'authority2')['items']
        check(all(i['case_id'] != case for i in items), 'B lists A\'s case: %r' % items)
    c = es.json('GET', '/api/v1/cases/' + q(case), 'authority')
    check(sorted(m['message_id'] for m in c['messages']) == sorted([mid, aid]), 'A: %r' % c)
    d = es.json('GET', '/api/v1/inbox/%s/document?reason=legal+review' % aid, 'authority')
    check(base64.b64decode(d['document_b64']) == b'<Answer>accepted</Answer>', 'A reads')
    items = es.json('GET', '/api/v1/messages?case_id=' + q(case), 'authority')['items']
    check([i['message_id'] for i in items] == [mid], 'A lists (sent) %r' % items)
    return aid


def peer_same_id(net, apis, mid, case):
    """CO's request with ES's case id string is CO's case: not visible to A by ownership."""
    es, co = apis['ES'], apis['CO']
    p = co.json('POST', '/api/v1/messages', 'authority',
                into(case, to='ES'), expect=202)
    pid = p['message_id']
    test_api.wait_state(co, pid, 'delivered')
    c = es.json('GET', '/api/v1/cases/' + q(case), 'authority')
    check(pid not in [m['message_id'] for m in c['messages']], 'peer request in A\'s case')
    refused(es, net['ES'], 'authority', 'GET', '/api/v1/messages/' + pid, 'getMessage')
    refused(es, net['ES'], 'authority', 'GET', '/api/v1/inbox/%s/document?reason=legal+review'
            % pid, 'fetchDocument')
    items = es.json('GET', '/api/v1/messages', 'authority')['items']
    check(pid not in [i['message_id'] for i in items], 'peer request listed for A')
    inbox = es.json('GET', '/api/v1/inbox?case_id=' + q(case), 'agency')['items']
    check(pid in [i['message_id'] for i in inbox], 'the agency sees the peer request')
    # the agency answers CO's request; that answer is in CO's case, not A's
    ack = es.json('POST', '/api/v1/messages/%s/answers' % pid, 'agency', answer_body('received'),
                  expect=202)
    c = es.json('GET', '/api/v1/cases/' + q(case), 'authority')
    check(ack['message_id'] not in [m['message_id'] for m in c['messages']],
          'an answer in CO\'s case shown in A\'s')
    # A's own request is still A's alone on CO's side too: CO's authority opened CO's case
    code, _, _ = co.call('GET', '/api/v1/cases/' + q(case), role='authority2')
    check(code == 403, 'CO authority2 reads CO authority\'s case: %d' % code)
    return pid


def socket_cases(net, apis, case):
    """The socket principal owns what it opens; it cannot submit into A's case; A cannot
    submit into the socket's case."""
    es, g = apis['ES'], net['ES']
    sid = 'ES/2026/socket-%s' % secrets.token_hex(4)
    s = g.submit('CO', case_id=sid)
    r = g.submit('CO', case_id=sid)  # the socket again: its own case
    check(r['case_id'] == sid and s['case_id'] == sid, 'socket %r %r' % (s, r))
    j = g.submit('CO', case_id=case, expect=403)
    check(j.get('code') == 'forbidden' and 'another authority' in j.get('message', ''),
          'socket into A\'s case: %r' % j)
    check(test_api.denied_entries(g, 'authority:socket', 'submit'),
          'no access-denied entry for the socket')
    code, _, out = es.call('POST', '/api/v1/messages', into(sid), role='authority')
    check(code == 403, 'A into the socket\'s case: HTTP %d %r' % (code, out))
    refused(es, g, 'authority', 'GET', '/api/v1/cases/' + q(sid), 'getCase')
    return sid


def grants(net, apis, mid, aid, case, sid):
    """supervisor = every case; delegate = A's cases only. Granted by a reload."""
    es, g = apis['ES'], net['ES']
    api = dict(g.overrides['api'])
    api['supervisor'] = es.tokens['supervisor'][0]
    api['delegate'] = '%s %s' % (es.tokens['authority'][0], es.tokens['delegate'][0])
    g.write_config({'api': api})
    g.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: es.call('GET', '/api/v1/cases/' + q(case), role='supervisor')[0] == 200,
               10, msg='supervisor granted by the reload')
    for who in ('supervisor', 'delegate'):
        c = es.json('GET', '/api/v1/cases/' + q(case), who)
        check(sorted(m['message_id'] for m in c['messages']) == sorted([mid, aid]),
              '%s reads A\'s case: %r' % (who, c))
        es.json('GET', '/api/v1/messages/' + aid, who)
        es.json('GET', '/api/v1/inbox/%s/document?reason=supervision' % aid, who)
        items = es.json('GET', '/api/v1/messages?case_id=' + q(case), who)['items']
        check([i['message_id'] for i in items] == [mid], '%s lists A\'s case: %r' % (who, items))
    es.json('GET', '/api/v1/cases/' + q(sid), 'supervisor')
    refused(es, g, 'delegate', 'GET', '/api/v1/cases/' + q(sid), 'getCase')
    refused(es, g, 'authority2', 'GET', '/api/v1/cases/' + q(case), 'getCase')
    d = es.json('POST', '/api/v1/messages', 'delegate', into(case), expect=202)
    c = es.json('GET', '/api/v1/cases/' + q(case), 'authority')
    check(d['message_id'] in [m['message_id'] for m in c['messages']],
          'the delegate\'s request is in A\'s case, and A still owns it')
    es.json('POST', '/api/v1/messages/%s/answers' % mid, 'supervisor', answer_body(),
            expect=202)
    # an unknown name is refused at load: the reload keeps the running grants
    g.write_config({'api': dict(api, delegate='%s nobody' % es.tokens['authority'][0])})
    g.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: 'delegate: nobody is not an authority' in g.log_text(), 10,
               msg='unknown delegate refused')
    es.json('GET', '/api/v1/cases/' + q(case), 'delegate')
    g.write_config({'api': api})


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    apis = setup(net)
    mid, case = takeover(net, apis)
    aid = reads_and_acts(net, apis, mid, case)
    peer_same_id(net, apis, mid, case)
    sid = socket_cases(net, apis, case)
    grants(net, apis, mid, aid, case, sid)
    net.stop_all()


if __name__ == '__main__':
    run(main)
