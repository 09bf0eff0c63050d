"""Records of other channels (SPEC 16.11), two gateways on envelope version 2 enforcing the
case lifecycle. With CO down, ES's authority records (mlagw other-channel, the local API) that
a request went by courier: only its SHA-256 leaves ES's machine. The record waits in the outbox
and reaches CO once it is back; it is the case's request on both sides, CO answers it in the
gateway (accepted, InReplyTo the record) and the case goes on. Both audit logs hold the means,
the time and the digest (never the document), and both exported bundles verify. Bad records
are refused with the field named; a plain submission of the Action is checked the same way."""
import hashlib
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_api  # noqa: E402

CASE = 'ES-OC-1'
DOC = b'<Request>a request for the bank records of ACME-UNIQUE-CONTENT</Request>'
SENT_AT = '2026-03-02T10:15:00.000Z'


def cli(net, api, role, *args, expect=0):
    tok = os.path.join(net.dir, 'token-%s-%s' % (api.gw.state, role))
    with open(tok, 'w') as f:
        f.write(api.tokens[role][1] + '\n')
    os.chmod(tok, 0o600)
    cmd = [net.mlagw, args[0], '--gateway', 'https://127.0.0.1:%d' % api.port, '--ca',
           api.gw.pki('root.crt'), '--token-file', tok] + list(args[1:])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(p.returncode == expect, '%s: exit %d, wanted %d: %s %s' % (
        ' '.join(args), p.returncode, expect, p.stdout, p.stderr))
    return p


def one_case(g):
    items = cases(g, CASE)
    check(len(items) == 1, '%s: cases %r' % (g.state, items))
    return items[0]


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    for g, peer in ((es, 'CO'), (co, 'ES')):
        g.overrides['cases'] = {'lifecycle': 'enforce'}
        g.overrides['peer ' + peer] = {'envelope_versions': '1, 2'}
    apis = test_api.setup(net)
    es_api = apis['ES']
    digest = hashlib.sha256(DOC).hexdigest()

    # refusals name the field
    for bad, field in (({'means': 'pigeon'}, 'means'), ({'sent_at': 'yesterday'}, 'sent_at'),
                       ({'document_sha256': digest.upper()}, 'document_sha256')):
        body = {'to': 'CO', 'kind': 'mla', 'case_id': 'ES-OC-BAD', 'means': 'fax',
                'sent_at': SENT_AT, 'document_sha256': digest}
        body.update(bad)
        code, _, out = es_api.call('POST', '/api/v1/other-channel', body, role='authority')
        check(code == 400 and json.loads(out).get('field') == field,
              'bad %s: %d %r' % (field, code, out))
    code, _, _ = es_api.call('POST', '/api/v1/other-channel', {}, role='agency')
    check(code == 403, 'an agency records: %d' % code)

    # the link is down: the authority records the courier; the record waits
    co.stop()
    doc = os.path.join(net.dir, 'sent-by-courier.xml')
    with open(doc, 'wb') as f:
        f.write(DOC)
    p = cli(net, es_api, 'authority', 'other-channel', '--to', 'CO', '--kind', 'mla',
            '--case-id', CASE, '--means', 'courier', '--sent-at', SENT_AT, '--in', doc,
            '--json')
    rec = json.loads(p.stdout)['message_id']
    check(one_case(es)['state'] == 'transmitted', 'ES before delivery %r' % one_case(es))

    # the link is back: the record is the case's request on both sides
    co.start()
    wait_until(lambda: es.outbox(blobs=False)[rec]['state'] == DELIVERED, 60,
               msg='record delivered')
    for g in (es, co):
        c = one_case(g)
        check(c['state'] == 'received' and c['last_step'] == rec and
              c['steps'][0]['action'] == 'other-channel', '%s case %r' % (g.state, c))

    # the case goes on in the gateway: CO accepts, InReplyTo the record
    code, j = case_step(co, 'ES', 'accepted', CASE)
    check(code == 202, 'accepted: %d %r' % (code, j))
    wait_until(lambda: co.outbox(blobs=False)[j['message_id']]['state'] == DELIVERED, 30,
               msg='answer delivered')
    for g in (es, co):
        c = one_case(g)
        check(c['state'] == 'accepted' and [s['action'] for s in c['steps']] ==
              ['other-channel', 'accepted'], '%s after the answer %r' % (g.state, c))
    view = es_api.json('GET', '/api/v1/cases/' + CASE, 'auditor')
    check(any(m['message_id'] == rec and m['action'] == 'other-channel'
              for m in view.get('messages', view.get('items', []))) or
          rec in json.dumps(view), 'API case view %r' % view)

    # both audit logs: means, time and digest, never the document
    want = 'other-channel means=courier sent-at=%s document-sha256=%s' % (SENT_AT, digest)
    for g, event in ((es, 'submitted'), (co, 'received')):
        log = g.audit()
        hit = [e for e in log if e.get('message') == rec and e['event'] == event]
        check(len(hit) == 1 and hit[0].get('reason') == want and
              hit[0].get('action') == 'other-channel',
              '%s %s entry %r' % (g.state, event, hit))
        check(all('ACME-UNIQUE-CONTENT' not in json.dumps(e) for e in log),
              '%s: document content in the audit log' % g.state)
    net.stop_all()
    for s in ('ES', 'CO'):
        verify_exported(net, s)
    print('ok: recorded while the link was down, delivered once it was back, answered in the '
          'gateway; means, time and digest in both audit bundles')


if __name__ == '__main__':
    run(main)
