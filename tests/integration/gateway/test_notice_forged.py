"""Retrieval notices a peer makes up (SPEC 16.10, On receipt): a notice is accepted only for a
request this gateway sent to that peer in that case and that the peer did not refuse. CO
refuses ES's request (version 1, below CO's envelope_min_version 2), then signs a
`retrieved` notice for it anyway and posts it to ES: ES refuses it with a negative receipt
(`schema`) and shows no notice on the request; so is a notice naming a request ES never
sent."""
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

CASE = 'ES-NF-1'


def notice_doc(request_id):
    return ('<Retrieval xmlns="urn:mlagw:notice:1" version="1"><Status>retrieved</Status>'
            '<MessageId>%s</MessageId><At>2026-01-01T00:00:00.000Z</At></Retrieval>'
            % request_id).encode()


def forged(net, request_id):
    """CO's signed notice for request_id, posted to ES: (HTTP status, parsed receipt)."""
    env = net.seal('CO', 'ES', notice_doc(request_id), kind='mla', action='retrieved',
                   version=2, case_id=CASE, in_reply_to=request_id)
    s, r = net.post('CO', 'ES', env)
    return s, parse_receipt(r)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    co.overrides = {'gateway': {'envelope_min_version': '2'}}
    net.start_all()

    code, j = case_step(es, 'CO', 'request', CASE, doc=b'<Request>x</Request>')
    check(code == 202, 'request: %d %r' % (code, j))
    mid = j['message_id']
    wait_until(lambda: es.outbox(ids={mid}, blobs=False)[mid]['state'] == REJECTED, 30,
               msg='the request refused by CO')

    s, rc = forged(net, mid)
    check(s == 422 and rc['outcome'] == 'rejected' and rc['error'] == 'schema' and
          'refused' in (rc['error_text'] or ''),
          'a notice for a refused request: HTTP %d %r' % (s, rc))
    check(not es.status(mid).get('retrieval', {}).get('retrieved_notice'),
          'the refused request shows a notice: %r' % es.status(mid))

    s, rc = forged(net, str(uuid.uuid4()))
    check(s == 422 and rc['outcome'] == 'rejected' and rc['error'] == 'schema' and
          'names no request' in (rc['error_text'] or ''),
          'a notice for no request: HTTP %d %r' % (s, rc))


run(main)
