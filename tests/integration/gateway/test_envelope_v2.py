"""Envelope version 2 between three gateways (issue 13 section 1; protocol/SPEC.md 16.7, 11
rules 6-8): ES reads and writes versions 1 and 2; CO is configured on both sides as reading
version 2 ([peer CC] envelope_versions = 1, 2); MX is left at the default, version 1.

- ES -> CO: a production order travels as Kind production-order in a version 2 envelope (its
  interim Kind evidence no longer fits and is refused before sealing), answered with a receipt
  of version 2; CO's Postponed answer (Action postponed) comes back the same way. With the
  case lifecycle enforced on both (SPEC 16.8), the case then runs through every step only
  version 2 names: forwarded, postponed, in-execution, executed, closed, the same on both
  sides.
- ES -> MX: the same order travels as evidence in a version 1 envelope with a receipt of
  version 1; Kind production-order to MX is refused before sealing naming MX's version. MX's
  own order to ES, and ES's Postponed answer to it is refused before sealing, nothing queued:
  "a postponed document needs envelope version 2; peer MX reads envelope version 1 ([peer MX]
  envelope_versions)" (with Action accepted; with Action postponed the header check names it).
- CO with [gateway] envelope_min_version = 2 refuses a version 1 envelope with a signed
  negative receipt (unsupported-version) and still accepts version 2.
- ES's and CO's audit bundles of the exchange (entries of version 5) verify."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                        'protocol', 'case', 'examples')
NS1, NS2 = b'"urn:mlagw:envelope:1"', b'"urn:mlagw:envelope:2"'


def example(name):
    with open(os.path.join(EXAMPLES, name), 'rb') as f:
        return f.read()


def submit(gw, to, doc, kind, action='request', reply=None, case_id=None):
    h = {'X-MLA-To': to, 'X-MLA-Kind': kind, 'X-MLA-Action': action,
         'Content-Type': 'application/xml'}
    if reply:
        h['X-MLA-In-Reply-To'] = reply
    if case_id:
        h['X-MLA-Case-Id'] = case_id
    code, body = gw.http('POST', '/local/v1/submit', doc, h)
    return code, json.loads(body or b'{}')


def accepted(gw, to, doc, kind, **kw):
    code, body = submit(gw, to, doc, kind, **kw)
    check(code == 202, '%s -> %s %s: HTTP %d %r' % (gw.state, to, kind, code, body))
    return body['message_id']


def refused(gw, to, doc, kind, want, **kw):
    before = len(gw.outbox(blobs=False))
    code, body = submit(gw, to, doc, kind, **kw)
    check(code == 400 and body.get('code') == 'header' and want in body.get('message', ''),
          '%s -> %s %s: HTTP %d %r, want 400 header with %r' % (gw.state, to, kind, code, body,
                                                                want))
    check(len(gw.outbox(blobs=False)) == before, '%s: a refused message was queued' % gw.state)
    return body['message']


def delivered(gw, mid, version):
    """mid delivered; its envelope and its receipt are both of version."""
    wait_until(lambda: gw.all_in_state({mid}, DELIVERED), 30, msg='%s delivered' % mid)
    env = gw.outbox_envelope(mid)
    check((NS2 if version == 2 else NS1) in env and
          (b'version="%d"' % version) in env[:200], '%s: envelope not version %d: %r' % (
              mid, version, env[:160]))
    rc = parse_receipt(gw.outbox({mid})[mid]['receipt'])
    check(rc['version'] == str(version) and rc['outcome'] == 'accepted',
          '%s: receipt %r, want version %d accepted' % (mid, rc, version))
    return env


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'MX'])
    es, co, mx = net['ES'], net['CO'], net['MX']
    es.overrides['peer CO'] = {'envelope_versions': '1, 2'}
    co.overrides['peer ES'] = {'envelope_versions': '1 2'}
    for g in (es, co):
        g.overrides['cases'] = {'lifecycle': 'enforce'}
    for g in (es, co, mx):
        g.write_config()
    net.start_all()
    order = example('request-production-order.xml')
    postponed = example('answer-postponed.xml')

    # ES -> CO, version 2: the order under its own Kind; the interim one no longer fits
    mid = accepted(es, 'CO', order, 'production-order', case_id='ES-PO-1')
    msg = refused(es, 'CO', order, 'evidence', 'production-order')
    check('do not fit' in msg, 'the interim Kind under version 2: %r' % msg)
    env = delivered(es, mid, 2)
    check(b'<mla:Kind>production-order</mla:Kind>' in env, 'Kind on the wire: %r' % env[:400])
    wait_until(lambda: mid in co.inbox_counts(), 20, msg='CO received the order')
    # CO forwards it, then answers Postponed, version 2 Actions, in version 2
    fwd = accepted(co, 'ES', b'<Note>forwarded to the executing authority</Note>',
                   'production-order', action='forwarded', reply=mid, case_id='ES-PO-1')
    delivered(co, fwd, 2)
    ans = accepted(co, 'ES', postponed, 'production-order', action='postponed',
                   case_id='ES-PO-1')
    env = delivered(co, ans, 2)
    check(b'<mla:Action>postponed</mla:Action>' in env, 'Action on the wire')
    wait_until(lambda: ans in es.inbox_counts(), 20, msg='ES received the Postponed answer')
    check(es.inbox()[ans]['envelope'] is None or NS2 in es.inbox()[ans]['envelope'],
          'ES inbox: not the version 2 envelope')
    # the rest of the lifecycle's version 2 steps, the same case on both sides
    for frm, to, action in (('CO', 'ES', 'in-execution'), ('CO', 'ES', 'executed'),
                            ('ES', 'CO', 'closed')):
        m = accepted(net[frm], to, b'<Note>step</Note>', 'production-order', action=action,
                     case_id='ES-PO-1')
        delivered(net[frm], m, 2)
    for g in (es, co):
        items = [c for c in cases(g, 'ES-PO-1') if c['peer'] in ('ES', 'CO')]
        check(len(items) == 1 and items[0]['state'] == 'closed' and
              [s['action'] for s in items[0]['steps']] ==
              ['request', 'forwarded', 'postponed', 'in-execution', 'executed', 'closed'],
              '%s: case ES-PO-1 %r' % (g.state, items))

    # ES -> MX, version 1: the interim Kind; production-order refused naming MX's version
    mid1 = accepted(es, 'MX', order, 'evidence', case_id='ES-PO-2')
    msg = refused(es, 'MX', order, 'production-order', 'peer MX reads envelope version 1')
    check("Kind 'production-order' needs envelope version 2" in msg and
          '[peer MX] envelope_versions' in msg, 'refusal to MX: %r' % msg)
    delivered(es, mid1, 1)
    # MX's own order to ES, in version 1; ES's Postponed answer to MX refused before sealing
    mxo = accepted(mx, 'ES', order, 'evidence', case_id='MX-PO-1')
    wait_until(lambda: mxo in es.inbox_counts(), 30, msg='ES received MX order')
    delivered(mx, mxo, 1)
    msg = refused(es, 'MX', postponed, 'evidence', 'peer MX', action='accepted', reply=mxo,
                  case_id='MX-PO-1')
    check(msg == 'a postponed document needs envelope version 2; peer MX reads envelope '
          'version 1 ([peer MX] envelope_versions)', 'Postponed to MX: %r' % msg)
    msg = refused(es, 'MX', postponed, 'evidence', 'peer MX', action='postponed', reply=mxo,
                  case_id='MX-PO-1')
    check("Action 'postponed' needs envelope version 2" in msg, 'postponed to MX: %r' % msg)
    # every other answer still goes to MX in version 1
    acc = accepted(es, 'MX', example('answer-accepted.xml'), 'evidence', action='accepted',
                   reply=mxo, case_id='MX-PO-1')
    delivered(es, acc, 1)

    # CO reading from version 2 only: a version 1 envelope gets its negative receipt
    co.stop()
    co.overrides['gateway'] = {'envelope_min_version': '2'}
    co.overrides['peer ES'] = {'envelope_versions': '2'}
    co.write_config()
    co.start()
    env1 = net.seal('ES', 'CO', order, kind='evidence')
    s, r = net.post('ES', 'CO', env1)
    rc = parse_receipt(r)
    check(s == 422 and rc['outcome'] == 'rejected' and rc['error'] == 'unsupported-version' and
          'reads versions 2 to 3' in rc['error_text'] and rc['digest'] == sha256(env1),
          'version 1 to a minimum of 2: HTTP %d %r' % (s, rc))
    env2 = net.seal('ES', 'CO', order, kind='production-order', version=2)
    s, r = net.post('ES', 'CO', env2)
    rc = parse_receipt(r)
    check(s == 200 and rc['outcome'] == 'accepted' and rc['version'] == '2',
          'version 2 to a minimum of 2: HTTP %d %r' % (s, rc))

    # the audit trail names the new Kind and Action in entries of version 5
    kinds = {(e.get('kind'), e.get('action')) for e in es.audit()}
    check(('production-order', 'request') in kinds and ('production-order', 'postponed') in kinds,
          'ES audit kinds %r' % kinds)
    net.stop_all()
    for s in ('ES', 'CO', 'MX'):
        rows = net[s].audit_rows()
        n5 = sum(1 for r in rows if r['entry'].startswith(b'mlagw-audit-entry/5\n'))
        check((n5 > 0) == (s != 'MX'), '%s: %d entries of version 5' % (s, n5))
        verify_exported(net, s)


run(main)
