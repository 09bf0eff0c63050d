"""Issue 10 finding 7: the duplicate-id check ran before the signature result, so junk with a
broken signature reusing a real message id got 409 duplicate-id (an oracle for which ids
exist), raised an alert on the genuine message and left an audit entry with the junk's
unverified case id. Now, for the same id with another digest, the signature decides first:
junk is refused for what is wrong with it; a validly signed envelope reusing the id is the
duplicate; identical bytes still get their original receipt (SPEC 13)."""
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net.start_all()
    m = str(uuid.uuid4())
    env = net.seal('ES', 'CO', b'<Request>genuine</Request>', message_id=m)
    s, r = net.post('ES', 'CO', env)
    check(s == 200 and parse_receipt(r)['outcome'] == 'accepted', 'genuine: HTTP %d' % s)
    original = r
    # junk reusing the id: the header's case id altered after signing
    junk = env.replace(b'<mla:CaseId>', b'<mla:CaseId>JUNK-', 1)
    check(junk != env, 'junk differs')
    s, r = net.post('ES', 'CO', junk)
    rc = parse_receipt(r)
    check(s == 422 and rc['outcome'] == 'rejected' and rc['error'] == 'sig-invalid' and
          rc['digest'] == sha256(junk), 'junk with a known id: HTTP %d, receipt %r (want 422 '
          'sig-invalid, not a duplicate-id oracle)' % (s, rc))
    check(net['CO'].alerts('duplicate-id') == [], 'alerts %r' % net['CO'].alerts())
    junk_entries = [e for e in net['CO'].audit() if e.get('envelope-sha256') == sha256(junk).hex()]
    check(junk_entries and all('JUNK' not in e.get('case', '') for e in junk_entries),
          'audit entries of the junk carry its unverified case id: %r' % junk_entries)
    # identical bytes: the original receipt again
    s, r = net.post('ES', 'CO', env)
    check(s == 200 and r == original, 'identical resend: HTTP %d, same receipt %s' %
          (s, r == original))
    # a validly signed envelope reusing the id is the duplicate, with its alert
    other = net.seal('ES', 'CO', b'<Request>other bytes</Request>', message_id=m)
    s, r = net.post('ES', 'CO', other)
    rc = parse_receipt(r)
    check(s == 409 and rc['error'] == 'duplicate-id', 'signed reuse: HTTP %d %r' % (s, rc))
    check(len(net['CO'].alerts('duplicate-id')) == 1, 'alerts %r' % net['CO'].alerts())
    check(set(net['CO'].inbox()) == {m}, 'inbox %r' % set(net['CO'].inbox()))
    net.stop_all()


run(main)
