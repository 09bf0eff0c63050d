"""Case documents checked on receipt (issue 13 section 1; protocol/SPEC.md 16.6, On receipt):
a receiver validates a document the sender did not. Envelopes sealed by hand (the CLI checks
no case schema) reach CO over ES's mutual TLS: one missing several mandatory elements, one
whose header Kind does not fit its document, and, with CO's [cases] opaque = refuse, an opaque
one. Each gets a signed negative receipt (422, `schema` or `header`), nothing is stored as
received, and the refusal leaves its audit entries and log line; the receipt names no text of
the document. A valid request sealed the same way is accepted.

Receipt version 2 (SPEC 12): to a peer configured as reading it ([peer ES] receipt_version =
2), the negative receipt lists every problem by path; to one that does not, it stays version 1.
Then a sender gateway that did not validate (ES's queued envelope replaced, with the test tool
store_fault, by a hand-sealed invalid one under the same message id): ES verifies CO's version
2 receipt, records the message rejected, and shows the problems to the submitting authority
(socket status, the local API, `mlagw status`)."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_api  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                        'protocol', 'case', 'examples')
MARKER = b'Example Prosecution Office'


def example(name):
    with open(os.path.join(EXAMPLES, name), 'rb') as f:
        return f.read()


def without(doc, *elements):
    """doc with the first occurrence of each element named (and its content) removed."""
    for el in elements:
        doc, n = re.subn(rb'<%s>.*?</%s>' % (el.encode(), el.encode()), b'', doc, count=1,
                         flags=re.S)
        check(n == 1, 'no <%s> in the example' % el)
    return doc


def refused(net, env, want, what):
    """Posts env from ES to CO: a signed negative receipt with error want, audited, not
    stored. Returns the receipt bytes."""
    before = net['CO'].inbox_counts()
    s, r = net.post('ES', 'CO', env)
    check(s == 422, '%s: HTTP %d, want 422 with a negative receipt' % (what, s))
    rc = parse_receipt(r)
    check(rc['outcome'] == 'rejected' and rc['error'] == want and rc['digest'] == sha256(env)
          and rc['message_id'] is not None, '%s: receipt %r' % (what, rc))
    check(MARKER not in r, '%s: the receipt quotes the document' % what)
    events = {e['event'] for e in net['CO'].audit()
              if e.get('envelope-sha256') == sha256(env).hex()}
    check(events >= {'rejected', 'receipt-issued'} and 'received' not in events,
          '%s: audit events %r' % (what, events))
    check(net['CO'].inbox_counts() == before, '%s: stored as received' % what)
    return r


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    apis = test_api.setup(net)  # starts both, each with its local API
    good = example('request-extradition.xml')
    check(MARKER in good, 'the example changed: no marker')

    bad = without(good, 'SubjectMatter', 'Nature', 'FactsSummary')
    r = refused(net, net.seal('ES', 'CO', bad, kind='extradition'), 'schema', 'three missing')
    text = parse_receipt(r)['error_text']
    check('3 problem' in text, 'the receipt text does not count 3 problems: %r' % text)
    refused(net, net.seal('ES', 'CO', good, kind='mla'), 'header', 'kind mla')
    env = net.seal('ES', 'CO', good, kind='extradition')
    s, r = net.post('ES', 'CO', env)
    check(s == 200 and parse_receipt(r)['outcome'] == 'accepted',
          'a valid request sealed by hand: HTTP %d %r' % (s, r[:200]))
    opaque = net.seal('ES', 'CO', b'<Note>opaque business document</Note>')
    s, r = net.post('ES', 'CO', opaque)
    check(s == 200, 'an opaque document, allowed by default: HTTP %d' % s)
    log = net['CO'].log_text()
    check(log.count(' rejected ') >= 2, 'CO log: %d rejected lines' % log.count(' rejected '))

    net['CO'].stop()
    net['CO'].overrides['cases'] = {'opaque': 'refuse'}
    net['CO'].write_config()
    net['CO'].start()
    r = refused(net, net.seal('ES', 'CO', b'<Note>opaque business document</Note>'), 'schema',
                'opaque refused')
    check('opaque' in parse_receipt(r)['error_text'], 'opaque refusal text %r' % r)
    check(parse_receipt(r)['version'] == '1', 'an opaque refusal has no list: version 1')
    receipt_v2(net, apis, good, bad)
    net.stop_all()
    # CO's auditor: its bundle (the refusals' entries, receipts of both versions) verifies
    verify_exported(net, 'CO')


MISSING = ['/Request/Common/Proceedings/SubjectMatter', '/Request/Common/Proceedings/Nature',
           '/Request/Common/FactsSummary']


def receipt_v2(net, apis, good, bad):
    co, es = net['CO'], net['ES']
    co.stop()
    co.overrides['peer ES'] = {'receipt_version': '2'}
    co.write_config()
    co.start()
    r = refused(net, net.seal('ES', 'CO', bad, kind='extradition'), 'schema', 'list to ES')
    rc = parse_receipt(r)
    got = [(p['path'], p['code']) for p in rc['problems']]
    check(rc['version'] == '2' and rc['problem_count'] == 3 and
          sorted(got) == sorted((m, 'missing') for m in MISSING),
          'version 2 receipt: version %s, count %d, problems %r' % (
              rc['version'], rc['problem_count'], got))
    # an auditor's offline check of the version 2 receipt, with CO's root only
    path = os.path.join(co.dir, 'receipt-v2.xml')
    with open(path, 'wb') as f:
        f.write(r)
    out = net.cli('receipt', 'verify', '--in', path, '--trust',
                  net.pki('CO', 'root.crt')).stdout.decode()
    check('rejected signed by CO' in out and '3 problem(s)' in out and
          all(m + ': missing' in out for m in MISSING), 'mlagw receipt verify:\n%s' % out)

    # a sender that did not validate: ES queues a valid request while CO is down, then its
    # queued envelope is replaced by a hand-sealed invalid one under the same message id
    co.stop()
    mid = es.submit('CO', kind='extradition', doc=good)['message_id']
    es.stop()
    env = net.seal('ES', 'CO', bad, kind='extradition', message_id=mid)
    path = os.path.join(es.dir, 'invalid-envelope.xml')
    with open(path, 'wb') as f:
        f.write(env)
    es.fault('set-envelope', mid, path)
    co.start()
    es.start()
    wait_until(lambda: es.all_in_state({mid}, REJECTED), 30, msg='ES: the message rejected')
    st = es.status(mid)
    paths = {p.get('path') for p in st.get('problems', [])}
    check(paths == set(MISSING), 'ES status problems %r, want %r' % (st.get('problems'), MISSING))
    check('3 problem' in st.get('last_error', ''), 'ES last_error %r' % st.get('last_error'))
    code, _, body = apis['ES'].call('GET', '/api/v1/messages/' + mid, role='auditor')
    api_paths = {p.get('path') for p in json.loads(body).get('problems', [])}
    check(code == 200 and api_paths == set(MISSING), 'API message: HTTP %d %r' % (code, body))
    out = net.cli('status', '--socket', es.sock, mid).stdout.decode()
    check('problems:' in out and all(m + ': missing' in out for m in MISSING),
          'mlagw status does not show the problems:\n%s' % out)
    check(MARKER.decode() not in out, 'mlagw status quotes the document')


run(main)
