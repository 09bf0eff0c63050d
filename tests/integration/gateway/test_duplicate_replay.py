"""Exactly-once on the receiving side and the time checks: the same envelope twice gets the
same receipt and one inbox row; the same id with other content is a 409 duplicate-id alert;
an envelope older than the replay window or dated in the future is refused."""
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def stamp(t):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t))


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net.start_all()
    mid = str(uuid.uuid4())
    env = net.seal('ES', 'CO', b'<Request>original</Request>', message_id=mid)
    s1, r1 = net.post('ES', 'CO', env)
    s2, r2 = net.post('ES', 'CO', env)
    check(s1 == 200 and s2 == 200, 'statuses %d %d' % (s1, s2))
    check(r1 == r2, 'the replayed envelope got another receipt')
    rc = parse_receipt(r1)
    check(rc['outcome'] == 'accepted' and rc['message_id'] == mid and
          rc['digest'] == sha256(env), 'receipt %r' % rc)
    check(net['CO'].inbox_counts() == {mid: 1}, 'CO inbox %r' % net['CO'].inbox_counts())
    check(net['CO'].inbox()[mid]['receipt'] == r1, 'stored receipt differs from the answer')

    other = net.seal('ES', 'CO', b'<Request>other content</Request>', message_id=mid)
    check(other != env, 're-seal gave the same bytes')
    s, r = net.post('ES', 'CO', other)
    check(s == 409, 'same id, other content: HTTP %d, want 409' % s)
    rc = parse_receipt(r)
    check(rc['outcome'] == 'rejected' and rc['error'] == 'duplicate-id' and
          rc['message_id'] == mid and rc['digest'] == sha256(other), 'receipt %r' % rc)
    al = net['CO'].alerts('duplicate-id')
    check(len(al) == 1 and al[0]['message_id'] == mid, 'alerts %r' % al)
    inbox = net['CO'].inbox()
    check(len(inbox) == 1 and inbox[mid]['digest'] == sha256(env), 'original row changed')
    # and the original still gets its receipt, not the refusal
    s, r = net.post('ES', 'CO', env)
    check(s == 200 and r == r1, 'original after the conflict: %d' % s)

    now = time.time()
    refused = []
    # replay is final (422); clock skew is a condition of the link (503, retried: SPEC 13)
    for label, created, want, status in [('old', now - 8 * 86400, 'replay', 422),
                                         ('future', now + 3600, 'clock-skew', 503)]:
        m = str(uuid.uuid4())
        e = net.seal('ES', 'CO', b'<Request>%s</Request>' % label.encode(), message_id=m,
                     created=stamp(created))
        s, r = net.post('ES', 'CO', e)
        check(s == status, '%s envelope: HTTP %d, want %d' % (label, s, status))
        rc = parse_receipt(r)
        check(rc['outcome'] == 'rejected' and rc['error'] == want and rc['message_id'] == m
              and rc['digest'] == sha256(e), '%s: receipt %r' % (label, rc))
        refused.append(m)
    inbox = net['CO'].inbox()
    check(set(inbox) == {mid}, 'CO inbox %r' % set(inbox))
    rej = net['CO'].alerts('rejected')
    check(sorted(a['message_id'] for a in rej) == sorted(refused) and
          sorted(a['detail'] for a in rej) == ['clock-skew', 'replay'], 'rejected alerts %r' % rej)
    net.stop_all()


run(main)
