"""Issue 10 finding 4: an agency's fetch reason holding U+202E passed the API's check, was
refused by the audit entry's, and the failure rolled back the whole group commit: 8-18 of 60
concurrent valid envelopes got 503. Every field is now checked where it enters with the audit
entry's own rules (400 naming the field), and an entry that its own fields make invalid fails
only its request, never the batch it shares with others."""
import os
import sys
import threading
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_api  # noqa: E402

BAD_REASONS = ['legal review \u202e', '\u200blegal review', 'legal\u2028review',
               'legal review\ufeff', '-']


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    apis = test_api.setup(net)
    es, co = net['ES'], net['CO']
    mid = es.submit('CO', doc=b'<Request>to be read</Request>')['message_id']
    wait_until(lambda: es.all_in_state([mid], DELIVERED), 30, msg='delivered')
    envs = [net.seal('ES', 'CO', b'<Request>batch %d</Request>' % i,
                     message_id=str(uuid.uuid4())) for i in range(60)]
    posted, fetched = {}, []

    def post(i):
        posted[i] = net.post('ES', 'CO', envs[i])[0]

    def fetch(reason):
        q = urllib.parse.quote(reason)
        code, _, out = apis['CO'].call('GET', '/api/v1/inbox/%s/document?reason=%s' % (mid, q),
                                       role='agency')
        fetched.append((reason, code, out))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(60)]
    threads += [threading.Thread(target=fetch, args=(r,)) for r in BAD_REASONS * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    check(sorted(posted) == list(range(60)) and set(posted.values()) == {200},
          'valid envelopes beside bad fetch reasons: %r' %
          {c: list(posted.values()).count(c) for c in set(posted.values())})
    for reason, code, out in fetched:
        j = json.loads(out)
        check(code == 400 and j.get('field') == 'reason', 'reason %r: HTTP %d %r' %
              (reason, code, j))
    check(not [e for e in co.audit() if e['event'] == 'document-fetched'],
          'a refused fetch left a document-fetched entry')
    code, _, _ = apis['CO'].call('GET', '/api/v1/inbox/%s/document?reason=legal+review' % mid,
                                 role='agency')
    check(code == 200, 'a valid reason afterwards: HTTP %d' % code)
    check(len(co.inbox()) == 61, 'CO inbox: %d messages, want 61' % len(co.inbox()))
    net.stop_all()


run(main)
