"""Attacks on the transfer of attachments (SPEC 17.13) by a peer that is not the sender.

- A message ES sent CO with attachments, complete at CO: another State (MX) PUTting a segment
  of it gets 404 like an unknown message, never ES's receipt (SPEC 17.13: "a message id not
  being received from the TLS client's State (another State's message gets the same answer,
  telling nothing)"). ES itself still gets the receipt again (exactly once)."""
import http.client
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

SEG = 65536


def attach_seal(net, frm, to, sizes, deadline_s=600):
    """A message with attachments of these sizes into frm's outbox (frm stopped)."""
    tool = os.environ.get('MLAGW_ATTACH_SEAL') or os.path.join(
        os.path.dirname(net.store_fault), 'attach_seal')
    p = subprocess.run([tool, net[frm].store, frm, to, net.pki(frm, 'sign.crt'),
                        net.pki(frm, 'sign.key'), net.pki(to, 'encrypt.crt'), str(SEG),
                        str(deadline_s)] + [str(s) for s in sizes], capture_output=True,
                       timeout=120)
    check(p.returncode == 0, 'attach_seal: %s' % p.stderr.decode(errors='replace'))
    return p.stdout.decode().strip()


def att_dir(gw, mid):
    return os.path.join(os.path.dirname(gw.store), 'attachments', mid)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def delivered(gw, mid, timeout=60):
    wait_until(lambda: gw.outbox([mid], blobs=False).get(mid, {}).get('state') == DELIVERED,
               timeout, msg='%s delivered' % mid)


def put(net, frm, to, mid, idx, k, body):
    """One segment PUT over mutual TLS (no proof: a one-segment attachment): (status, body)."""
    c = http.client.HTTPSConnection('127.0.0.1', net[to].port, timeout=20,
                                    context=net.client_ctx(frm, to))
    try:
        c.request('PUT', '/mla/v1/envelopes/%s/attachments/%d/segments/%d' % (mid, idx, k),
                  body=body, headers={'Content-Type': 'application/octet-stream'})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def check_other_state_after_completion(net, es, co):
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [100])
    es.start()
    delivered(es, mid)
    rec = es.outbox([mid])[mid]['receipt']
    a1 = read(os.path.join(att_dir(es, mid), '1.ct'))
    s, b = put(net, 'MX', 'CO', mid, 1, 0, a1)
    check(s == 404 and mid.encode() not in b and b'receipt' not in b,
          "another State's PUT after completion: %d %r" % (s, b[:200]))
    s, b = put(net, 'ES', 'CO', mid, 1, 0, a1)
    check(s == 200 and b == rec, 'the sender again: %d' % s)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'MX'])
    es, co = net['ES'], net['CO']
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3'}
    net.start_all()
    check_other_state_after_completion(net, es, co)
    net.stop_all()
    print('ok')


run(main)
