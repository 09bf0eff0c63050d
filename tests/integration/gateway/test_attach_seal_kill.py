"""A sender killed while it seals a submission with attachments (SPEC 17.13 "Durability of the
files", 17.14 Submission; found by the fault run, test_attach_fault_run.py): the worker writes
"<n>.ct.part" and "<n>.tree" before the outbox row exists, so a SIGKILL then leaves a folder
of no message. No 202 was given and the uploads stay, so the client's retry (same
Idempotency-Key) seals the message again under a new id: the folder holds nothing anyone was
told is kept, and it used to stay for good (24 MiB here), reported as a stray at every start.

- ES killed once "1.ct.part" of a 24 MiB attachment appears: at its next start, before it
  serves, the folder is removed (`attachments-stray-removed`), as is a planted one of the
  shape a kill while sealing a second attachment leaves (1.ct, 1.tree, 2.ct.part, 2.tree);
- a folder of complete files and trees only (a sender's message whose row a restore lost, or
  a kill between the last file and the row) is kept and reported, as a receiver's stray with
  a complete file;
- the client's retry under its key is a new message, sealed whole, its upload consumed."""
import base64
import json
import os
import shutil
import sys
import threading
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from attachlib import *  # noqa: E402,F403

BIG = 24 << 20


def plant(es, names):
    mid = str(uuid.uuid4())
    os.makedirs(att_dir(es, mid))
    for name in names:
        with open(os.path.join(att_dir(es, mid), name), 'wb') as f:
            f.write(b'\x5a' * 100)
    return mid


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3'}
    es.overrides['audit'] = {'peer_head_wait': '1s'}
    api = Api(es)
    net.start_all()
    co.stop()  # nothing is sent: the sender's folders alone
    uid = api.upload(os.urandom(BIG))
    body = {'to': 'CO', 'kind': 'mla', 'new_case': True, 'content_type': 'application/xml',
            'document_b64': base64.b64encode(b'<Request>evidence</Request>').decode(),
            'attachments': [{'upload': uid, 'name': 'big.bin',
                             'type': 'application/octet-stream'}]}
    key = {'Idempotency-Key': 'seal-kill-1'}
    answer = []

    def submit():
        try:
            answer.append(api.call('POST', '/api/v1/messages', body=body, headers=key))
        except OSError as e:  # the connection of the gateway killed on purpose
            answer.append((None, repr(e)))
    t = threading.Thread(target=submit, daemon=True)
    t.start()
    root = os.path.dirname(att_dir(es, 'x'))

    def sealing():
        for d in (os.listdir(root) if os.path.isdir(root) else []):
            if os.path.exists(os.path.join(root, d, '1.ct.part')):
                return d
    cut = wait_until(sealing, 30, 0.002, msg='the sealing under way')
    es.kill()
    t.join(30)
    check(answer and answer[0][0] is None, 'answered before the kill: %r' % answer[:1])
    left = sorted(os.listdir(att_dir(es, cut)))
    check(left == ['1.ct.part', '1.tree'], 'the kill left %r' % left)
    second = plant(es, ['1.ct', '1.tree', '2.ct.part', '2.tree'])
    complete = plant(es, ['1.ct', '1.tree'])
    received = plant(es, ['1.ct'])
    es.start()
    log = lambda: es.log_text().split('--- start ---')[-1]  # noqa: E731
    wait_until(lambda: 'attachments-checked' in log(), 30, msg='the start check')
    for mid in (cut, second):
        check(not os.path.exists(att_dir(es, mid)), 'the sealing cut short left %s' % mid)
        check('attachments-stray-removed msg=%s' % mid in log() and
              'sealing cut short' in log(), 'no line for %s: %s' % (mid, log()[-3000:]))
    for mid in (complete, received):
        check(os.path.exists(att_dir(es, mid)), 'a folder of complete files removed')
    check('attachments-strays msg=- count=2 ' in log(), 'the complete ones reported: %s' %
          [l for l in log().splitlines() if 'stray' in l])
    # the client's retry: a new message, sealed whole, the upload consumed
    code, out = api.call('POST', '/api/v1/messages', body=body, headers=key)
    check(code == 202, 'retry: %d %r' % (code, out[:300]))
    mid = json.loads(out)['message_id']
    check(mid != cut and not json.loads(out).get('replayed'), 'retry answered %r' % out)
    check(sorted(os.listdir(att_dir(es, mid))) == ['1.ct', '1.tree'] and
          os.path.getsize(os.path.join(att_dir(es, mid), '1.ct')) == ct_size(BIG),
          'the retry sealed %r' % os.listdir(att_dir(es, mid)))
    check(api.call('GET', '/api/v1/uploads/' + uid)[0] == 404, 'the upload not consumed')
    for stray in (complete, received):
        shutil.rmtree(att_dir(es, stray))
    es.stop()
    es.start()
    wait_until(lambda: 'attachments-checked' in log(), 30, msg='the start check')
    check('attachments-strays' not in log() and 'attachments-stray-removed' not in log(),
          'after the retry: %s' % [l for l in log().splitlines() if 'stray' in l])
    net.stop_all()
    print('ok')


if __name__ == '__main__':
    run(main)
