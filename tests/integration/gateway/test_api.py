"""The local API (docs/api): two gateways with [api] tokens and a client certificate. Every
operation of openapi.yaml: allowed roles succeed, other roles get 403 and an access-denied
audit entry, no credentials 401; body errors (400/415/413, JSON naming the field); the flow
submit -> delivered -> inbox on the peer -> document fetched (audited with the reason) ->
answer -> delivered back; and the consistency check: every operation is implemented (no
501) or listed as not yet implemented in docs/api/README.md."""
import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..', '..'))
ROLES = ['authority', 'agency', 'auditor', 'admin']


def openapi_ops():
    """(method, path, operationId, roles) of docs/api/openapi.yaml, read line by line."""
    ops, path, method = [], None, None
    with open(os.path.join(ROOT, 'docs', 'api', 'openapi.yaml')) as f:
        for line in f:
            if line.startswith('components:'):
                break
            m = re.match(r'^  (/\S*):\s*$', line)
            if m:
                path = m.group(1)
                continue
            m = re.match(r'^    (get|post|put|patch|delete):\s*$', line)
            if m:
                method = m.group(1).upper()
                continue
            m = re.match(r'^      operationId:\s*(\S+)', line)
            if m:
                ops.append([method, path, m.group(1), None])
                continue
            m = re.match(r'^      x-mlagw-roles:\s*\[(.*)\]', line)
            if m:
                ops[-1][3] = [r.strip() for r in m.group(1).split(',')]
    return ops


def make_client_cert(net, state, cn):
    """A client certificate for cn issued by the State's own root (openssl CLI)."""
    d = os.path.join(net.dir, 'client-' + state.lower())
    os.makedirs(d, exist_ok=True)
    key, csr, crt, ext = [os.path.join(d, n) for n in ('c.key', 'c.csr', 'c.crt', 'ext')]
    with open(ext, 'w') as f:
        f.write('basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n'
                'extendedKeyUsage=clientAuth\n')
    subprocess.run(['openssl', 'req', '-new', '-newkey', 'ec', '-pkeyopt',
                    'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj',
                    '/C=%s/CN=%s' % (state, cn), '-out', csr], check=True, capture_output=True)
    subprocess.run(['openssl', 'x509', '-req', '-in', csr, '-CA', net.pki(state, 'root.crt'),
                    '-CAkey', net.pki(state, 'root.key'), '-CAcreateserial', '-days', '30',
                    '-extfile', ext, '-out', crt], check=True, capture_output=True)
    return crt, key


class Api:
    def __init__(self, gw, port, tokens, cert=None):
        self.gw, self.port, self.tokens, self.cert = gw, port, tokens, cert

    def call(self, method, path, body=None, role=None, token=None, ctype='application/json',
             cert=False, raw=None, headers=None):
        ctx = ssl.create_default_context(cafile=self.gw.pki('root.crt'))
        ctx.check_hostname = False
        if cert:
            ctx.load_cert_chain(*self.cert)
        c = http.client.HTTPSConnection('127.0.0.1', self.port, context=ctx, timeout=30)
        h = dict(headers or {})
        tok = token or (self.tokens[role][1] if role else None)
        if tok:
            h['Authorization'] = 'Bearer ' + tok
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            h['Content-Type'] = ctype
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            out = r.read()
            return r.status, dict(r.getheaders()), out
        finally:
            c.close()

    def json(self, method, path, role, body=None, expect=200):
        code, _, out = self.call(method, path, body, role=role)
        check(code == expect, '%s %s as %s: HTTP %d %r, wanted %d' % (method, path, role, code,
                                                                      out[:300], expect))
        return json.loads(out) if out.strip() and out.strip()[:1] in b'{[' else out


def setup(net):
    apis = {}
    for s in ('ES', 'CO'):
        g = net[s]
        port = free_port()
        tokens = {}
        lines = []
        for role in ROLES + ['authority2']:
            name = '%s-%s' % (s.lower(), role)
            tok = secrets.token_urlsafe(32)
            tokens[role] = (name, tok)
            r = 'authority' if role == 'authority2' else role
            lines.append('%s %s sha256:%s' % (r, name, hashlib.sha256(tok.encode()).hexdigest()))
        cert = make_client_cert(net, s, '%s agency system' % s)
        g.overrides['api'] = {'listen': '127.0.0.1:%d' % port, 'token': lines,
                              'client_ca': net.pki(s, 'root.crt'),
                              'client': 'agency %s agency system' % s,
                              'max_body_bytes': '64 KiB'}
        apis[s] = Api(g, port, tokens, cert)
    net.start_all()
    return apis


def denied_entries(gw, actor, op):
    return [e for e in gw.audit() if e.get('event') == 'access-denied' and
            e.get('actor') == actor and e.get('reason') == op]


def submit_body(to='CO', doc=b'<Request>api</Request>', **kw):
    b = {'to': to, 'kind': 'mla', 'new_case': True, 'content_type': 'application/xml',
         'document_b64': base64.b64encode(doc).decode()}
    b.update(kw)
    return b


def test_auth_basics(api):
    code, h, out = api.call('GET', '/api/v1/me')
    check(code == 401 and 'Bearer' in h.get('WWW-Authenticate', ''), 'no credentials: %d' % code)
    check(json.loads(out)['code'] == 'unauthenticated', 'error shape %r' % out)
    code, _, _ = api.call('GET', '/api/v1/me', token='x' * 40)
    check(code == 401, 'unknown token: %d' % code)
    me = api.json('GET', '/api/v1/me', 'auditor')
    check(me == {'name': api.tokens['auditor'][0], 'role': 'auditor', 'via': 'token'}, 'me %r' % me)
    code, _, out = api.call('GET', '/api/v1/me', cert=True)
    me = json.loads(out)
    check(code == 200 and me['via'] == 'certificate' and me['role'] == 'agency',
          'certificate whoami %d %r' % (code, me))
    code, _, out = api.call('GET', '/api/v1/nothing', role='admin')
    check(code == 404 and json.loads(out)['code'] == 'not-found', '404 %d' % code)
    code, _, out = api.call('DELETE', '/api/v1/me', role='admin')
    check(code == 405 and json.loads(out)['code'] == 'method-not-allowed', '405 %d' % code)


def test_body_errors(api):
    def err(code, body, want, field, ctype='application/json'):
        c, _, out = api.call('POST', '/api/v1/messages', role='authority', raw=body, ctype=ctype)
        j = json.loads(out)
        check(c == want and set(j) <= {'code', 'message', 'field'} and j.get('field') == field,
              'body error: HTTP %d %r, wanted %d field %r' % (c, j, want, field))
        return j
    check(err(400, b'{"to": ', 400, None)['code'] == 'bad-json', 'bad-json code')
    err(400, json.dumps(submit_body(colour='red')).encode(), 400, 'colour')
    err(400, json.dumps(submit_body(priority='soon')).encode(), 400, 'priority')
    b = submit_body()
    del b['kind']
    err(400, json.dumps(b).encode(), 400, 'kind')
    err(400, json.dumps(submit_body(case_id='X-1')).encode(), 400, 'case_id')
    err(415, json.dumps(submit_body()).encode(), 415, 'Content-Type', ctype='text/plain')
    big = json.dumps(submit_body(doc=b'x' * 70000)).encode()
    err(413, big, 413, 'Content-Length')
    err(422, json.dumps(submit_body(to='FR')).encode(), 422, 'to')
    # canonical base64 only: non-zero pad bits and whitespace are refused
    err(400, json.dumps(submit_body(document_b64='Zm9vYh==')).encode(), 400, 'document_b64')
    err(400, json.dumps(submit_body(document_b64='Zm9v YmFy')).encode(), 400, 'document_b64')


def test_list_filter_errors(api):
    # impossible dates are refused, not carried into the next month; the message names them
    for q, field in (('since=2026-02-31T00:00:00Z', 'since'), ('since=2026-13-45T00:00:00Z', 'since'),
                     ('until=2025-02-29T00:00:00Z', 'until'), ('until=2026-01-01T24:00:00Z', 'until'),
                     ('limit=007', 'limit'), ('cursor=-1', 'cursor')):
        c, _, out = api.call('GET', '/api/v1/messages?' + q, role='authority')
        j = json.loads(out)
        check(c == 400 and j.get('code') == 'bad-field' and j.get('field') == field and
              field in j.get('message', ''), 'list %s: HTTP %d %r' % (q, c, j))
    c, _, _ = api.call('GET', '/api/v1/messages?since=2024-02-29T00:00:00Z', role='authority')
    check(c == 200, 'list since a leap day: HTTP %d' % c)


def op_request(op, ids):
    method, path, opid, _ = op
    path = path.replace('{message_id}', ids['message']).replace(
        '{case_id}', urllib.parse.quote(ids['case'], safe=''))
    body = None
    if opid == 'submitMessage':
        body = submit_body()
    elif opid == 'answerMessage':
        body = {'action': 'received'}
    elif opid == 'recordOtherChannel':  # SPEC 16.11; CO reads envelope v1 here: refused
        body = {'to': 'CO', 'kind': 'mla', 'new_case': True, 'means': 'fax',
                'sent_at': '2026-01-01T00:00:00.000Z', 'document_sha256': '0' * 64}
    elif opid == 'fetchDocument':
        path = path.replace('/inbox/' + ids['message'], '/inbox/' + ids['received'])
        path += '?reason=legal+review'
    elif opid == 'getInboxItem':
        path = path.replace(ids['message'], ids['received'])
    elif opid == 'getAuditEntry':
        path = path.replace('{seq}', '0')
    elif opid == 'getInclusionProof':
        path += '?seq=0'
    elif opid == 'getConsistencyProof':
        path += '?from=1'
    elif opid == 'fetchAttachment':  # a version 1 message: it has none (404)
        path = path.replace('/inbox/' + ids['message'], '/inbox/' + ids['received'])
        path = path.replace('{index}', '1') + '?reason=legal+review'
    elif '{upload_id}' in path:  # nobody's upload (404): uploads are each caller's own
        path = path.replace('{upload_id}', '0' * 32)
    return method, path, body


# What an allowed role gets where the matrix cannot give it an object of its own.
MATRIX_CODES = {'createUpload': (201,), 'getUpload': (404,), 'putUploadChunk': (404,),
                'deleteUpload': (404,), 'fetchAttachment': (404,)}


def test_matrix(net, apis, ids):
    """Every operation as every role on ES; returns the operationIds that answered 501."""
    es = apis['ES']
    not_impl = []
    # the audit operations answer once a checkpoint is signed ([audit] checkpoint_interval)
    wait_until(lambda: net['ES'].checkpoints(), 10, msg='a checkpoint')
    for op in openapi_ops():
        method, path, body = op_request(op, ids)
        opid, roles = op[2], op[3]
        code, _, out = es.call(method, path, body, ctype='application/json')
        check(code == 401, '%s without credentials: %d' % (opid, code))
        for role in ROLES:
            code, _, out = es.call(method, path, body, role=role)
            if code == 501:
                check(json.loads(out)['message'] == 'not implemented yet', '501 body')
                not_impl.append(opid)
                break
            if role in roles and opid == 'recordOtherChannel':
                check(code == 400 and b"Action 'other-channel' needs envelope version 2" in out,
                      '%s to a v1 peer as %s: HTTP %d %r' % (opid, role, code, out[:300]))
            elif role in roles:
                check(code in MATRIX_CODES.get(opid, (200, 202)),
                      '%s as %s: HTTP %d %r' % (opid, role, code, out[:300]))
            else:
                check(code == 403 and json.loads(out)['code'] == 'forbidden',
                      '%s as %s: HTTP %d, wanted 403' % (opid, role, code))
                actor = '%s:%s' % (role, es.tokens[role][0])
                check(denied_entries(net['ES'], actor, opid),
                      '%s as %s: no access-denied audit entry' % (opid, role))
    return sorted(set(not_impl))


def wait_state(api, mid, state, role='auditor'):
    return wait_until(lambda: api.json('GET', '/api/v1/messages/' + mid, role)['state'] == state
                      and api.json('GET', '/api/v1/messages/' + mid, role), 30,
                      msg='%s %s' % (mid, state))


def test_flow(net, apis):
    es, co = apis['ES'], apis['CO']
    doc = b'<Request>extradition of a fugitive, annex 1</Request>'
    acc = es.json('POST', '/api/v1/messages', 'authority',
                  submit_body(doc=doc, kind='extradition', priority='urgent'), expect=202)
    mid, case = acc['message_id'], acc['case_id']
    check(acc['state'] == 'queued' and acc['to'] == 'CO', 'accepted %r' % acc)
    sub = [e for e in net['ES'].audit() if e['event'] == 'submitted' and e.get('message') == mid]
    check(sub and sub[0]['actor'] == 'authority:' + es.tokens['authority'][0],
          'submitted audit entry actor %r' % sub)
    m = wait_state(es, mid, 'delivered')
    check([h['state'] for h in m['history']][0] == 'queued', 'history %r' % m['history'])
    check(m['submitted_by'] == 'authority:' + es.tokens['authority'][0], 'submitted_by %r' % m)
    # the other authority of ES does not see it (own rule)
    code, _, _ = es.call('GET', '/api/v1/messages/' + mid, role='authority2')
    check(code == 403, 'authority2 reads another authority message: %d' % code)
    lst = es.json('GET', '/api/v1/messages', 'authority2')
    check(all(i['message_id'] != mid for i in lst['items']), 'own filter in list')
    # CO: inbox, item, document with reason (audited before disclosure)
    inbox = co.json('GET', '/api/v1/inbox?kind=extradition&priority=urgent', 'agency')
    check([i['message_id'] for i in inbox['items']] == [mid], 'CO inbox %r' % inbox)
    item = co.json('GET', '/api/v1/inbox/' + mid, 'auditor')
    check(item['answers'] == [] and item['state'] == 'received', 'inbox item %r' % item)
    code, _, _ = co.call('GET', '/api/v1/inbox/%s/document' % mid, role='agency')
    check(code == 400, 'document without reason: %d' % code)
    code, h, out = co.call('GET', '/api/v1/inbox/%s/document?reason=execution+of+the+request'
                           % mid, cert=True)
    check(code == 200 and h.get('Cache-Control') == 'no-store', 'document: %d %r' % (code, out))
    d = json.loads(out)
    check(base64.b64decode(d['document_b64']) == doc and
          d['sha256'] == hashlib.sha256(doc).hexdigest(), 'document content')
    fetched = [e for e in net['CO'].audit() if e['event'] == 'document-fetched']
    check(len(fetched) == 1 and fetched[0]['actor'] == 'agency:CO agency system' and
          fetched[0]['reason'] == 'execution of the request' and fetched[0]['message'] == mid,
          'document-fetched entry %r' % fetched)
    # CO answers; the answer travels back to ES in the same case
    ans_doc = b'<Answer>accepted</Answer>'
    ans = co.json('POST', '/api/v1/messages/%s/answers' % mid, 'agency',
                  {'action': 'accepted', 'content_type': 'application/xml',
                   'document_b64': base64.b64encode(ans_doc).decode()}, expect=202)
    check(ans['in_reply_to'] == mid and ans['case_id'] == case and ans['to'] == 'ES',
          'answer %r' % ans)
    check([e for e in net['CO'].audit() if e['event'] == 'answered' and
           e.get('message') == ans['message_id']], 'answered audit entry')
    wait_state(co, ans['message_id'], 'delivered')
    item = co.json('GET', '/api/v1/inbox/' + mid, 'agency')
    check([a['message_id'] for a in item['answers']] == [ans['message_id']], 'answers %r' % item)
    un = co.json('GET', '/api/v1/inbox?unanswered=true', 'agency')
    check(all(i['message_id'] != mid for i in un['items']), 'unanswered filter')
    # ES: the case holds both; the authority reads the answer's document (own case)
    c = es.json('GET', '/api/v1/cases/' + urllib.parse.quote(case, safe=''), 'authority')
    check(sorted(x['message_id'] for x in c['messages']) == sorted([mid, ans['message_id']]),
          'case %r' % c)
    d = es.json('GET', '/api/v1/inbox/%s/document?reason=legal+review' % ans['message_id'],
                'authority')
    check(base64.b64decode(d['document_b64']) == ans_doc, 'answer document')
    code, _, _ = es.call('GET', '/api/v1/inbox/%s/document?reason=legal+review'
                         % ans['message_id'], role='authority2')
    check(code == 403, 'authority2 reads a document of another authority case: %d' % code)
    return {'message': mid, 'case': case, 'received': ans['message_id']}


def test_admin(apis):
    es = apis['ES']
    h = es.json('GET', '/healthz', 'admin')
    check(h['state'] == 'ES' and [p['state'] for p in h['peers']] == ['CO'] and
          {c['use'] for c in h['certificates']} >= {'tls', 'sign', 'encrypt'} and
          all(c['days_left'] > 0 for c in h['certificates']) and 'delivered' in h['queues'],
          'health %r' % h)
    code, hd, out = es.call('GET', '/metrics', role='admin')
    text = out.decode()
    check(code == 200 and hd['Content-Type'].startswith('text/plain') and
          re.search(r'^mlagw_messages\{direction="out",state="delivered"\} [1-9]', text, re.M),
          'metrics %d %s' % (code, text[:400]))
    # the receipt latency histogram: cumulative buckets, +Inf equals the count of delivered
    inf = re.search(r'^mlagw_receipt_latency_seconds_bucket\{le="\+Inf"\} (\d+)$', text, re.M)
    cnt = re.search(r'^mlagw_receipt_latency_seconds_count (\d+)$', text, re.M)
    buckets = [int(v) for v in re.findall(r'^mlagw_receipt_latency_seconds_bucket\{le="[0-9.e+-]+"\} (\d+)$',
                                          text, re.M)]
    check(inf and cnt and int(inf.group(1)) == int(cnt.group(1)) >= 1 and
          buckets == sorted(buckets) and buckets[-1] <= int(inf.group(1)),
          'latency histogram %s' % text[-800:])
    cfg = es.json('GET', '/api/v1/admin/config', 'admin')
    check('sha256' not in json.dumps(cfg) and cfg['gateway']['state'] == 'ES', 'config %r' % cfg)
    r = es.json('POST', '/api/v1/admin/reload', 'admin')
    check(r['status'] == 'reloaded', 'reload %r' % r)
    check(es.json('GET', '/api/v1/me', 'admin')['role'] == 'admin', 'API after reload')


def test_reload(net, apis):
    """SIGHUP: removing a token revokes it; moving [api] listen is refused (needs a restart)."""
    es, g = apis['ES'], net['ES']
    api = dict(g.overrides['api'])
    api['token'] = [t for t in api['token'] if ' es-authority2 ' not in t]
    g.write_config({'api': api})
    g.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: es.call('GET', '/api/v1/me', role='authority2')[0] == 401, 10,
               msg='revoked token refused')
    check(es.json('GET', '/api/v1/me', 'authority')['role'] == 'authority', 'other tokens stay')
    moved = dict(api, listen='127.0.0.1:%d' % free_port())
    g.write_config({'api': moved})
    g.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: '[api] listen need a restart' in g.log_text(), 10, msg='reload refused')
    check(es.json('GET', '/api/v1/me', 'admin')['role'] == 'admin', 'API still on its port')
    g.write_config({'api': api})


def test_consistency(not_impl):
    with open(os.path.join(ROOT, 'docs', 'api', 'README.md')) as f:
        readme = f.read()
    m = re.search(r'## Not yet implemented\n(.*?)(\n## |\Z)', readme, re.S)
    listed = set(re.findall(r'`(\w+)`', m.group(1))) if m else set()
    for op in openapi_ops():
        state = 'not implemented (501)' if op[2] in not_impl else 'implemented'
        print('openapi %-6s %-40s %-14s %s' % (op[0], op[1], op[2], state))
        if op[2] in not_impl:
            check(op[2] in listed, '%s answers 501 but README does not list it' % op[2])
        else:
            check(op[2] not in listed, '%s is implemented but listed as not yet' % op[2])


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    apis = setup(net)
    test_auth_basics(apis['ES'])
    foreign = Api(net['ES'], apis['ES'].port, apis['ES'].tokens, apis['CO'].cert)
    try:
        code = foreign.call('GET', '/api/v1/me', role='admin', cert=True)[0]
    except OSError:  # ssl.SSLError, reset: the handshake refused the certificate
        code = None
    check(code is None, 'a client certificate of another root was accepted: %r' % code)
    test_body_errors(apis['ES'])
    test_list_filter_errors(apis['ES'])
    ids = test_flow(net, apis)
    test_admin(apis)
    not_impl = test_matrix(net, apis, ids)
    test_consistency(not_impl)
    test_reload(net, apis)
    net.stop_all()  # SIGTERM drains the API listener too


if __name__ == '__main__':
    run(main)
