"""Case documents checked before sealing (issue 13 section 1; protocol/SPEC.md section 16), on
the submission socket and the local API: a valid request is sealed and delivered; one missing
mandatory elements is refused with 422 listing every problem by path, without any of the
document's text, and nothing is queued; a document whose type the header does not name is
refused; an opaque document is accepted by default and refused with [cases] opaque = refuse."""
import base64
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_api  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                        'protocol', 'case', 'examples')


def example(name):
    with open(os.path.join(EXAMPLES, name), 'rb') as f:
        return f.read()


def without(doc, *elements):
    """doc with every element named (first occurrence, with its content) removed."""
    for el in elements:
        doc, n = re.subn(rb'<%s>.*?</%s>' % (el.encode(), el.encode()), b'', doc, count=1,
                         flags=re.S)
        check(n == 1, 'no <%s> in the example' % el)
    return doc


def socket_submit(gw, doc, kind, action='request'):
    h = {'X-MLA-To': 'CO', 'X-MLA-Kind': kind, 'X-MLA-Action': action,
         'Content-Type': 'application/xml'}
    code, body = gw.http('POST', '/local/v1/submit', doc, h)
    return code, json.loads(body or b'{}')


def check_problems(what, code, body, paths, marker=None):
    check(code == 422 and body.get('code') == 'schema',
          '%s: HTTP %d %r, wanted 422 schema' % (what, code, body))
    got = {p.get('path') for p in body.get('problems', [])}
    check(set(paths) <= got, '%s: problems %r lack %r' % (what, sorted(got), paths))
    if marker is not None:
        check(marker not in json.dumps(body), '%s: the answer quotes the document' % what)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    apis = test_api.setup(net)
    es = net['ES']
    good = example('request-extradition.xml')
    marker = 'Example Prosecution Office'
    check(marker.encode() in good, 'the example changed: no marker')

    # socket: valid, then two mandatory elements missing at once
    code, body = socket_submit(es, good, 'extradition')
    check(code == 202, 'a valid extradition request: HTTP %d %r' % (code, body))
    mid = body['message_id']
    bad = without(good, 'SubjectMatter', 'Nature')
    code, body = socket_submit(es, bad, 'extradition')
    check_problems('socket, two missing', code, body,
                   ['/Request/Common/Proceedings/SubjectMatter',
                    '/Request/Common/Proceedings/Nature'], marker)
    # the header must name the document's kind
    code, body = socket_submit(es, good, 'mla')
    check(code in (400, 422) and body.get('code') == 'header' and 'extradition' in
          body.get('message', ''), 'a kind the document is not: HTTP %d %r' % (code, body))
    # API: the same refusal, with problems
    api = apis['ES']
    code, _, out = api.call('POST', '/api/v1/messages', test_api.submit_body(
        doc=bad, kind='extradition'), role='authority')
    check_problems('api, two missing', code, json.loads(out),
                   ['/Request/Common/Proceedings/Nature'], marker)
    # opaque: accepted by default
    code, body = socket_submit(es, b'<Note>opaque business document</Note>', 'mla')
    check(code == 202, 'an opaque document: HTTP %d %r' % (code, body))
    wait_until(lambda: es.all_in_state({mid, body['message_id']}, DELIVERED), 30,
               msg='the valid and the opaque documents delivered')
    check(len(es.outbox()) == 2, 'ES queued %d messages, want 2' % len(es.outbox()))

    # [cases] opaque = refuse
    es.stop()
    es.overrides['cases'] = {'opaque': 'refuse'}
    es.write_config()
    es.start()
    code, body = socket_submit(es, b'<Note>opaque business document</Note>', 'mla')
    check(code == 422 and body.get('code') == 'schema' and 'opaque' in body.get('message', ''),
          'an opaque document with [cases] opaque = refuse: HTTP %d %r' % (code, body))
    code, body = socket_submit(es, good, 'extradition')
    check(code == 202, 'a valid request with opaque refused: HTTP %d %r' % (code, body))
    net.stop_all()


run(main)
