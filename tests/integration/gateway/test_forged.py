"""Forged and tampered envelopes are refused with a signed negative receipt and never stored."""
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net.start_all()
    ids = []
    # signed with CO's key but From=ES, sent by ES
    m = str(uuid.uuid4())
    ids.append(m)
    env = net.seal('ES', 'CO', b'<Request>forged</Request>', signer='CO', message_id=m)
    s, r = net.post('ES', 'CO', env)
    check(s == 422, 'forged signer: HTTP %d, want 422' % s)
    rc = parse_receipt(r)
    check(rc['outcome'] == 'rejected' and rc['error'] == 'cert-wrong-state' and
          rc['digest'] == sha256(env), 'forged: receipt %r' % rc)
    # tampered after sealing: the signed header's Action changed from request to refused
    m = str(uuid.uuid4())
    ids.append(m)
    env = net.seal('ES', 'CO', b'<Request>tamper</Request>', message_id=m)
    tampered = env.replace(b'<mla:Action>request</mla:Action>',
                           b'<mla:Action>refused</mla:Action>', 1)
    check(tampered != env, 'tampering changed nothing')
    s, r = net.post('ES', 'CO', tampered)
    check(s == 422, 'tampered: HTTP %d, want 422' % s)
    rc = parse_receipt(r)
    check(rc['outcome'] == 'rejected' and rc['error'] == 'sig-invalid' and
          rc['digest'] == sha256(tampered), 'tampered: receipt %r' % rc)
    # the intact original is still accepted afterwards (tampering did not burn the id)
    s, r = net.post('ES', 'CO', env)
    check(s == 200 and parse_receipt(r)['outcome'] == 'accepted', 'original after tamper: %d' % s)
    inbox = net['CO'].inbox()
    check(set(inbox) == {m}, 'CO inbox %r: refused envelopes stored' % set(inbox))
    check(len(net['CO'].alerts('rejected')) == 2, 'alerts %r' % net['CO'].alerts())
    net.stop_all()


run(main)
