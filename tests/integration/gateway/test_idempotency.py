"""Issue 11 finding 8: a submission had no idempotency key. A client whose 202 was lost (the
gateway died right after the commit) and that retried created a second request under a new
message id.

Now a client may send `Idempotency-Key` (socket and local API). A retry with the same key and
the same request is answered with the original message id (202, "replayed": true, header
Idempotent-Replayed), even after a SIGKILL right after the 202 (the key is stored in the
submission's own transaction); the same key with another request is 409; keys are per
principal (the socket, each API token); a key is kept for [limits] idempotency_keep, then it
is a new submission; a malformed key is 400 naming the header. One message per key reaches
the peer."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_api  # noqa: E402

DOC = b'<Request>idempotent</Request>'


def sock_submit(gw, key, doc=DOC, case_id=None):
    h = {'X-MLA-To': 'CO', 'X-MLA-Kind': 'mla', 'Content-Type': 'application/xml'}
    if key is not None:
        h['Idempotency-Key'] = key
    if case_id:
        h['X-MLA-Case-Id'] = case_id
    c = UnixHTTPConnection(gw.sock, 30)
    try:
        c.request('POST', '/local/v1/submit', body=doc, headers=h)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), json.loads(r.read() or b'{}')
    finally:
        c.close()


def api_submit(api, role, key, doc=DOC):
    body = test_api.submit_body(doc=doc)
    code, h, out = api.call('POST', '/api/v1/messages', body, role=role,
                            headers={'Idempotency-Key': key})
    return code, h, json.loads(out or b'{}')


def accepted(code, h, j, replay, what):
    check(code == 202 and len(j.get('message_id', '')) == 36,
          '%s: HTTP %d %r, wanted 202' % (what, code, j))
    check(bool(j.get('replayed')) == replay and
          (h.get('Idempotent-Replayed') == 'true') == replay,
          '%s: replay marker %r / %r, wanted %s' % (what, j.get('replayed'),
                                                    h.get('Idempotent-Replayed'), replay))
    return j['message_id']


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    apis = test_api.setup(net)
    es, api = net['ES'], apis['ES']
    ids = set()

    # 1. the socket: a retry with the same key is the same message
    code, h, j = sock_submit(es, 'order-0001')
    m1 = accepted(code, h, j, False, 'first submission')
    case1 = j['case_id']
    code, h, j = sock_submit(es, 'order-0001')
    check(accepted(code, h, j, True, 'retry') == m1 and j['case_id'] == case1 and
          j['to'] == 'CO' and j['state'] == 'queued', 'retry answered %r, wanted %s' % (j, m1))
    ids.add(m1)

    # 2. the 202 lost: SIGKILL right after it, restart, retry -> the same message id
    code, h, j = sock_submit(es, 'order-0002')
    m2 = accepted(code, h, j, False, 'before the kill')
    es.kill()
    es.start()
    code, h, j = sock_submit(es, 'order-0002')
    check(accepted(code, h, j, True, 'retry after SIGKILL') == m2,
          'retry after SIGKILL answered %r, wanted %s' % (j, m2))
    ids.add(m2)

    # 3. the same key with another request: 409, nothing stored
    before = len(es.outbox(blobs=False))
    code, h, j = sock_submit(es, 'order-0002', doc=b'<Request>another</Request>')
    check(code == 409 and j.get('code') == 'exists' and 'Idempotency-Key' in j.get('message', ''),
          'same key, other document: HTTP %d %r, wanted 409' % (code, j))
    code, h, j = sock_submit(es, 'order-0002', case_id='OTHER-CASE')
    check(code == 409, 'same key, other header: HTTP %d %r, wanted 409' % (code, j))
    check(len(es.outbox(blobs=False)) == before, 'a refused retry stored something')

    # 4. per principal: the same key from two API tokens and the socket are three requests
    code, h, j = api_submit(api, 'authority', 'order-0001')
    a1 = accepted(code, h, j, False, 'API authority')
    code, h, j = api_submit(api, 'authority2', 'order-0001')
    a2 = accepted(code, h, j, False, 'API authority2')
    check(len({m1, a1, a2}) == 3, 'one key, three principals: %s %s %s' % (m1, a1, a2))
    code, h, j = api_submit(api, 'authority', 'order-0001')
    check(accepted(code, h, j, True, 'API retry') == a1, 'API retry %r, wanted %s' % (j, a1))
    code, h, j = api_submit(api, 'authority', 'order-0001', doc=b'<Request>x</Request>')
    check(code == 409 and j.get('code') == 'exists', 'API same key other body: %d %r' % (code, j))
    ids |= {a1, a2}

    # 5. malformed keys: 400 naming the header
    for bad in ('', 'x' * 65, 'has space', 'caf\u00e9'):
        code, _, j = sock_submit(es, bad.encode('utf-8').decode('latin-1'))
        check(code == 400 and j.get('field') == 'Idempotency-Key',
              'key %r: HTTP %d %r, wanted 400' % (bad, code, j))
    code, _, out = api.call('POST', '/api/v1/messages', test_api.submit_body(), role='authority',
                            headers={'Idempotency-Key': 'x' * 65})
    check(code == 400 and json.loads(out).get('field') == 'Idempotency-Key',
          'API long key: HTTP %d %r' % (code, out))

    # 6. one message per key reaches CO
    check_exactly_once(net, 'ES', 'CO', ids)
    check(len(es.outbox(blobs=False)) == len(ids), 'ES outbox has %d messages, wanted %d' % (
        len(es.outbox(blobs=False)), len(ids)))

    # 7. a key is kept for [limits] idempotency_keep, then the same key is a new submission
    es.stop()
    es.overrides.setdefault('limits', {})['idempotency_keep'] = '1s'
    es.write_config()
    es.start()
    time.sleep(1.2)
    code, h, j = sock_submit(es, 'order-0001')
    m3 = accepted(code, h, j, False, 'after idempotency_keep')
    check(m3 != m1, 'an expired key still answered with %s' % m1)
    log = es.log_text()
    check('submit-replayed' in log, 'no submit-replayed log line')


run(main)
