"""An envelope the receiver does not read gets a negative receipt unsupported-version, final
(SPEC 11 rules 2, 7, 8; 12 Match; 13 422). CO reads envelopes from version 2 on ([gateway]
envelope_min_version = 2) while ES still writes version 1 to it:

- below the minimum, through ES's relay: CO verifies the envelope and refuses it naming the
  version found and the versions read, with the MessageId; ES marks the message rejected,
  records alert version-refused (peer CO, version 1) and does not send it again;
- an unknown version (a sealed envelope whose root namespace is rewritten to
  urn:mlagw:envelope:4: the root is checked before the signature) posted to CO's endpoint:
  422, a signed receipt unsupported-version naming no MessageId, over the digest of the bytes;
- the same unknown version through ES's relay (ES's queued envelope replaced by such bytes:
  no release writes version 4): ES accepts the receipt without MessageId on CO's State and the
  digest of what it sent, marks the message rejected with alert version-refused (version 4),
  no resend;
- a case document of a namespace CO does not read (urn:mlagw:case:request:2) in a version 2
  envelope: unsupported-version with the document's problem listed (SPEC 16.1); ES marks it
  rejected and shows the problem, without alert version-refused (not the envelope's version);
- version 2 envelopes still go through. CO's audit bundle verifies."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                        'protocol', 'case', 'examples')
READS = 'this gateway reads versions 2 to 3 ([gateway] envelope_min_version)'


def rejected_once(es, co, mid, version):
    wait_until(lambda: es.all_in_state({mid}, REJECTED), 30, msg='%s rejected' % mid)
    m = es.outbox(ids={mid})[mid]
    rc = parse_receipt(m['receipt'])
    check(rc['outcome'] == 'rejected' and rc['error'] == 'unsupported-version' and
          rc['receiver'] == 'CO' and rc['digest'] == m['digest'],
          '%s: receipt %r' % (mid, rc))
    check(m['last_error'].startswith('unsupported-version: envelope version %d;' % version) and
          READS in m['last_error'], '%s: last_error %r' % (mid, m['last_error']))
    al = [a for a in es.alerts('version-refused') if a['message_id'] == mid]
    check(len(al) == 1 and al[0]['detail'] == 'peer=CO version=%d' % version,
          '%s: alerts %r' % (mid, es.alerts('version-refused')))
    before = es.history(mid)
    time.sleep(3)  # a retry would be due within the first second of backoff
    m2 = es.outbox(ids={mid}, blobs=False)[mid]
    h = es.history(mid)
    check(m2['state'] == REJECTED and m2['attempts'] == m['attempts'] and h == before and
          h[-1] == 'rejected' and h.count('awaiting-receipt') == 1,
          '%s: sent again: %r %r' % (mid, m2, h))
    return rc


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    co.overrides = {'gateway': {'envelope_min_version': '2'},
                    'peer ES': {'envelope_versions': '2'}}
    net.start_all()

    # below CO's minimum, through the relay: the receipt names the message
    mid = es.submit('CO')['message_id']
    rc = rejected_once(es, co, mid, 1)
    check(rc['message_id'] == mid, 'below the minimum: receipt %r' % rc)

    # an unknown version at CO's endpoint: refused at its root, no MessageId
    env3 = net.seal('ES', 'CO', version=2).replace(b'"urn:mlagw:envelope:2"',
                                                  b'"urn:mlagw:envelope:4"')
    s, r = net.post('ES', 'CO', env3)
    rc = parse_receipt(r)
    check(s == 422 and rc['outcome'] == 'rejected' and rc['error'] == 'unsupported-version' and
          rc['message_id'] is None and rc['digest'] == sha256(env3) and
          rc['error_text'] == 'envelope version 4; ' + READS,
          'version 4 at the endpoint: HTTP %d %r' % (s, rc))
    path = os.path.join(net.dir, 'receipt-v3.xml')
    with open(path, 'wb') as f:
        f.write(r)
    out = net.cli('receipt', 'verify', '--in', path, '--trust',
                  net.pki('CO', 'root.crt')).stdout.decode()
    check('rejected signed by CO' in out, 'mlagw receipt verify:\n%s' % out)

    # the unknown version through ES's relay: matched on State and digest, rejected, no resend
    co.stop()
    mid3 = es.submit('CO')['message_id']
    es.stop()
    env = es.outbox_envelope(mid3).replace(b'"urn:mlagw:envelope:1"', b'"urn:mlagw:envelope:4"')
    check(b'urn:mlagw:envelope:4' in env, 'no namespace to rewrite')
    path = os.path.join(net.dir, 'envelope-v3.xml')
    with open(path, 'wb') as f:
        f.write(env)
    es.fault('set-envelope', mid3, path)
    co.start()
    es.start()
    rc = rejected_once(es, co, mid3, 4)
    check(rc['message_id'] is None, 'version 4 through the relay: receipt %r' % rc)
    check(not es.alerts('receipt-invalid'), 'receipt-invalid: %r' % es.alerts('receipt-invalid'))

    # a case document of a version CO does not read, in a version 2 envelope (ES's queued
    # envelope replaced by a hand-sealed one under its id): unsupported-version with the
    # document's problem listed (SPEC 16.1); a refusal of the document, not of the envelope's
    # version: rejected, no version-refused alert
    with open(os.path.join(EXAMPLES, 'request-mla.xml'), 'rb') as f:
        doc2 = f.read().replace(b'urn:mlagw:case:request:1', b'urn:mlagw:case:request:2')
    co.stop()
    mid4 = es.submit('CO')['message_id']
    es.stop()
    path = os.path.join(net.dir, 'case-v2.xml')
    with open(path, 'wb') as f:
        f.write(net.seal('ES', 'CO', doc2, kind='mla', message_id=mid4, version=2))
    es.fault('set-envelope', mid4, path)
    co.start()
    es.start()
    wait_until(lambda: es.all_in_state({mid4}, REJECTED), 30, msg='case document rejected')
    rc = parse_receipt(es.outbox(ids={mid4})[mid4]['receipt'])
    check(rc['error'] == 'unsupported-version' and rc['message_id'] == mid4 and
          rc['version'] == '2' and [(p['path'], p['code']) for p in rc['problems']] ==
          [('/Request', 'unsupported')], 'case document v2: receipt %r' % rc)
    check(not [a for a in es.alerts('version-refused') if a['message_id'] == mid4],
          'version-refused for a case document: %r' % es.alerts('version-refused'))
    st = es.status(mid4)
    check([p.get('path') for p in st.get('problems', [])] == ['/Request'],
          'ES status problems %r' % st.get('problems'))

    # version 2 still goes through once ES writes it
    env2 = net.seal('ES', 'CO', version=2)
    s, r = net.post('ES', 'CO', env2)
    check(s == 200 and parse_receipt(r)['outcome'] == 'accepted', 'version 2: HTTP %d' % s)
    net.stop_all()
    # CO's refusals, with and without MessageId, in its audit bundle (ES's holds the envelope
    # the test put in its outbox under the sealed one's entries: it cannot verify)
    verify_exported(net, 'CO')


run(main)
