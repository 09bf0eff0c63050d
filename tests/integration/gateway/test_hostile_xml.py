"""Issue 10 finding 2: a peer's body with tens of thousands of attributes on one element used
to hold a crypto worker for 20-50 s each (libxml2's quadratic duplicate-attribute check), so two
of them delayed every valid envelope. Now each is refused by the count before parsing, with a
signed negative receipt naming xml-attributes, and the valid envelope sent beside them is
received at once."""
import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def attrs_body(n):
    attrs = ''.join(' a%d="x"' % i for i in range(n))
    return ('<?xml version="1.0" encoding="UTF-8"?><mla:Envelope xmlns:mla="urn:mlagw:envelope:1">'
            '<x%s/></mla:Envelope>' % attrs).encode()


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net.start_all()
    hostile = [attrs_body(50000), attrs_body(70000)]
    results = {}

    def post_hostile(i):
        results[i] = net.post('ES', 'CO', hostile[i])

    threads = [threading.Thread(target=post_hostile, args=(i,)) for i in range(len(hostile))]
    for t in threads:
        t.start()
    # a valid envelope beside them: it must not wait behind the hostile bodies
    m = str(uuid.uuid4())
    env = net.seal('ES', 'CO', b'<Request>valid</Request>', message_id=m)
    t0 = time.monotonic()
    s, r = net.post('ES', 'CO', env)
    valid_secs = time.monotonic() - t0
    for t in threads:
        t.join(60)
    check(s == 200 and parse_receipt(r)['outcome'] == 'accepted',
          'valid envelope beside hostile bodies: HTTP %d' % s)
    check(len(results) == 2, 'hostile posts answered: %d of 2' % len(results))
    for i, body in enumerate(hostile):
        hs, hr = results[i]
        check(hs == 422, 'hostile body: HTTP %d, want 422' % hs)
        rc = parse_receipt(hr)
        check(rc['outcome'] == 'rejected' and rc['error'] == 'xml-attributes' and
              rc['digest'] == sha256(body), 'hostile body: receipt %r' % rc)
    check(set(net['CO'].inbox()) == {m}, 'CO inbox %r' % set(net['CO'].inbox()))
    print('valid envelope received in %.2f s beside two hostile bodies' % valid_secs)
    net.stop_all()


run(main)
