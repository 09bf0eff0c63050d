"""Protected persons across two gateways (issue 14 section 2; protocol/SPEC.md 16.12): ES sends
CO a request naming a protected witness. At CO ([cases] protected_roles = agency:co-agency) the
agency principal by client certificate gets the document with every identifying field of the
witness redacted (the suspect untouched); the allowed agency token reads it whole, only with a
reason, and each such view is a protected-viewed audit entry naming the actor and the reason,
never the person. A document naming a protected person that cannot be parsed is refused to
the principal not named (403, access-denied) and read whole by the named one. The witness's fields appear in no log, /metrics, error body or audit bundle
of either gateway, and both bundles verify."""
import base64
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_api  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                        'protocol', 'case', 'examples')
WITNESS = ('<Person>\n        <Role>witness</Role>\n        <Identity><FamilyName>Example'
           '</FamilyName><GivenNames>Witness</GivenNames></Identity>\n      </Person>')
# every identifying field of the protected witness, each a value found nowhere else
SECRETS = ['Zorrillaqx', 'Quintanillaqx', '1977-03-14', 'Villaverdeqx', 'P7781234QX',
           'Calle Oculta 9qx', 'scar on left handqx']
PROTECTED = ('<Person protected="true">\n        <Role>witness</Role>\n        <Identity>'
             '<FamilyName>Zorrillaqx</FamilyName><GivenNames>Quintanillaqx</GivenNames>'
             '<DateOfBirth>1977-03-14</DateOfBirth><PlaceOfBirth>Villaverdeqx</PlaceOfBirth>'
             '<IdentityDocument><Type>passport</Type><Number>P7781234QX</Number>'
             '<IssuingState>QZ</IssuingState></IdentityDocument>'
             '<Description>scar on left handqx</Description></Identity>\n'
             '        <Nationality>QZ</Nationality>\n'
             '        <Whereabouts>Calle Oculta 9qx</Whereabouts>\n      </Person>')
MARKER = '[protected]'


def request_doc():
    with open(os.path.join(EXAMPLES, 'request-mla.xml')) as f:
        doc = f.read()
    check(WITNESS in doc, 'the example changed: no witness to protect')
    return doc.replace(WITNESS, PROTECTED).encode()


def no_secret(what, data):
    if isinstance(data, str):
        data = data.encode()
    for s in SECRETS:
        check(s.encode() not in data, '%s holds the protected value %r' % (what, s))


def fetch(api, mid, reason, role=None, cert=False):
    q = '' if reason is None else '?reason=' + urllib.parse.quote(reason)
    code, _, out = api.call('GET', '/api/v1/inbox/%s/document%s' % (mid, q), role=role,
                            cert=cert)
    return code, json.loads(out)


def views(gw, mid):
    return [e for e in gw.gw.audit() if e.get('event') == 'protected-viewed' and
            e.get('message') == mid]


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net['CO'].overrides['cases'] = {'protected_roles': 'agency:co-agency'}
    apis = test_api.setup(net)
    es, co = apis['ES'], apis['CO']
    doc = request_doc()
    errors = []

    # an invalid marking is refused by path, never quoting the document
    bad = doc.replace(b'protected="true"', b'protected="maybe"')
    code, _, out = es.call('POST', '/api/v1/messages', test_api.submit_body(doc=bad),
                           role='authority')
    check(code == 422 and b'/Request/Common/Persons/Person[2]' in out, 'bad marking: %d %r'
          % (code, out[:300]))
    errors.append(out)

    sent = es.json('POST', '/api/v1/messages', 'authority', test_api.submit_body(doc=doc),
                   expect=202)
    mid = sent['message_id']
    wait_until(lambda: es.json('GET', '/api/v1/messages/' + mid, 'authority')['state'] ==
               'delivered', 30, msg='the request delivered')

    # the agency by certificate is not allowed: redacted, the suspect untouched
    code, got = fetch(co, mid, 'triage of the request', cert=True)
    check(code == 200 and got['redacted'] is True and got['protected_persons'] == 1,
          'not allowed: %d %r' % (code, {k: got.get(k) for k in ('redacted', 'code')}))
    red = base64.b64decode(got['document_b64'])
    no_secret('the redacted document', red)
    for kept in (b'<Role>witness</Role>', b'<FamilyName>%s</FamilyName>' % MARKER.encode(),
                 b'<Whereabouts>%s</Whereabouts>' % MARKER.encode(),
                 b'<Number>%s</Number>' % MARKER.encode(), b'<Person protected="true">',
                 b'<GivenNames>Person</GivenNames>', b'<Nationality>XX</Nationality>'):
        check(kept in red, 'redacted document lacks %r' % kept)
    check(not views(co, mid), 'a redacted read was audited as a protected view')

    # the allowed token: a reason is required, then the document whole, each view audited
    code, body = fetch(co, mid, None, role='agency')
    check(code == 400 and body.get('field') == 'reason', 'no reason: %d %r' % (code, body))
    errors.append(json.dumps(body).encode())
    for n, reason in enumerate(['witness hearing', 'protection review'], 1):
        code, got = fetch(co, mid, reason, role='agency')
        check(code == 200 and got['redacted'] is False and got['protected_persons'] == 1,
              'allowed: %d' % code)
        check(base64.b64decode(got['document_b64']) == doc, 'allowed view differs')
        v = views(co, mid)
        check(len(v) == n and v[-1]['actor'] == 'agency:co-agency' and
              v[-1]['reason'] == reason and v[-1]['case'] == sent['case_id'],
              'protected-viewed entries %r' % v)
    # an opaque document naming a protected person that does not parse: refused to the
    # principal not named (403, access-denied), read whole by the named one as a protected view
    broken = b'<Note><Person protected="true"><FamilyName>Zorrillaqx</FamilyName></Note>'
    sent2 = es.json('POST', '/api/v1/messages', 'authority',
                    test_api.submit_body(doc=broken), expect=202)
    mid2 = sent2['message_id']
    wait_until(lambda: es.json('GET', '/api/v1/messages/' + mid2, 'authority')['state'] ==
               'delivered', 30, msg='the broken document delivered')
    code, body = fetch(co, mid2, 'triage', cert=True)
    check(code == 403 and body.get('code') == 'forbidden' and 'document_b64' not in body,
          'unredactable to a principal not named: %d %r' % (code, body))
    errors.append(json.dumps(body).encode())
    denied = [e for e in co.gw.audit() if e.get('event') == 'access-denied' and
              e.get('message') == mid2]
    check(len(denied) == 1 and denied[0]['actor'] == 'agency:CO agency system',
          'access-denied entry %r' % denied)
    code, got = fetch(co, mid2, 'witness hearing', role='agency')
    check(code == 200 and base64.b64decode(got['document_b64']) == broken and
          got['redacted'] is False and len(views(co, mid2)) == 1,
          'unredactable to the named principal: %d' % code)
    # an authority cannot read another State's case at all (ownership, unchanged)
    code, body = fetch(co, mid, 'curiosity', role='authority')
    check(code == 403, 'authority on a peer case: %d' % code)
    errors.append(json.dumps(body).encode())

    for api in (es, co):
        code, _, metrics = api.call('GET', '/metrics', role='admin')
        check(code == 200, 'metrics %d' % code)
        no_secret('%s /metrics' % api.gw.state, metrics)
    for i, e in enumerate(errors):
        no_secret('error body %d' % i, e)
    for gw in (net['ES'], net['CO']):
        no_secret('%s audit entries' % gw.state, json.dumps(gw.audit()))

    net.stop_all()
    for s in ('ES', 'CO'):
        no_secret('%s log' % s, net[s].log_text())
        verify_exported(net, s)
        with open(os.path.join(net.dir, s + '-exported.mab'), 'rb') as f:
            no_secret('%s audit bundle' % s, f.read())
    entries = [e for e in net['CO'].audit() if e.get('event') == 'protected-viewed']
    check(len(entries) == 3, 'protected-viewed entries after the stop: %r' % entries)


if __name__ == '__main__':
    run(main)
