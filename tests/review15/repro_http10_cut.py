"""Review 15 reproduction (not registered in meson: it fails on main by design).

SPEC 17.14 step 6: a download whose segment does not authenticate "closes the connection
without the last chunk, so a client never takes a cut file for a whole one". That holds only
for chunked transfer encoding, which libevent uses for HTTP/1.1 requests only: to an HTTP/1.0
request (curl -0, or nginx's default proxy_http_version 1.0 in front of the API) the body is
delimited by the connection's close, so the cut is the normal end of the body.
Run: python3 tests/review15/repro_http10_cut.py build/cli/mlagw build/gateway/mlagwd"""
import http.client
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GW = os.path.join(HERE, '..', 'integration', 'gateway')
sys.path.insert(0, GW)
from gwnet import *  # noqa: E402,F403
from attachlib import attach_seal, att_dir, delivered, SEG  # noqa: E402

_src = open(os.path.join(GW, 'test_attach_api.py')).read()
ta = type(sys)('ta')
ta.__file__ = os.path.join(GW, 'test_attach_api.py')
exec(compile(_src[:_src.index('def main(')], 'test_attach_api.py', 'exec'), ta.__dict__)


def fetch(api, mid, version):
    c = api.conn()
    if version == 10:
        c._http_vsn, c._http_vsn_str = 10, 'HTTP/1.0'
    try:
        c.request('GET', '/api/v1/inbox/%s/attachments/1?reason=review' % mid,
                  headers={'Authorization': 'Bearer ' + api.tokens['agency'][1]})
        r = c.getresponse()
        h = dict(r.getheaders())
        try:
            return r.status, h, r.read(), True
        except http.client.IncompleteRead as e:
            return r.status, h, e.partial, False
    finally:
        c.close()


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3'}
    api = ta.api_setup(co)
    net.start_all()
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [4 * SEG])
    es.start()
    delivered(es, mid)
    code, h, body, whole = fetch(api, mid, 11)
    check(code == 200 and whole and len(body) == 4 * SEG, 'intact: %d %d' % (code, len(body)))
    path = os.path.join(att_dir(co, mid), '1.ct')
    with open(path, 'r+b') as f:  # segment 2 altered
        f.seek(2 * (SEG + 16) + 10)
        b = f.read(1)
        f.seek(2 * (SEG + 16) + 10)
        f.write(bytes([b[0] ^ 1]))
    code, h, body, whole = fetch(api, mid, 11)
    print('HTTP/1.1: status %d, %d of %d bytes, ended as whole: %s' % (
        code, len(body), 4 * SEG, whole))
    code, h, body, whole = fetch(api, mid, 10)
    print('HTTP/1.0: status %d, Transfer-Encoding %r, %d of %d bytes, ended as whole: %s' % (
        code, h.get('Transfer-Encoding'), len(body), 4 * SEG, whole))
    check(code != 200 or not whole, 'HTTP/1.0: a cut stream of %d of %d bytes ended like a '
          'whole file' % (len(body), 4 * SEG))
    print('ok')


run(main)
