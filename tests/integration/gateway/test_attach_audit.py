"""Attachment files beside an audit bundle (protocol/SPEC.md 15 "Attachment files", 17.15):
the sender's store holds the sealed `.ct` files of a message submitted with attachments;
`mlagw audit export --with-attachments` copies them into FILE.attachments/<id>/<n>.ct and
`mlagw audit verify` checks each against the signed list with no key. Then: a flipped byte
fails naming the message, the attachment and the segment (located with the sender's tree
file copied beside; without it, the segments the root covers); a truncated file fails naming
the segment it cuts; an unknown file is reported; a missing file is counted as not checked
(a failure with --all-attachments); without the folder the report is as before."""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from test_attach_api import SEG, api_setup, submit_body, upload  # noqa: E402


def verify(net, bundle, trust, *extra):
    p = net.cli('audit', 'verify', bundle, '--trust', trust, '--json', *extra, check_rc=False)
    return p.returncode, json.loads(p.stdout.decode() or '{}')


def messages(rep):
    return [f['message'] for f in rep.get('failures', []) if f['check'] == 'attachments']


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    api = api_setup(net['ES'])
    net['ES'].overrides['peer CO'] = {'envelope_versions': '1, 2, 3'}
    net['ES'].write_config()
    net['CO'].write_config()
    net['ES'].start()  # CO stays down: the message waits in ES's outbox, files complete
    files = [b'hello', os.urandom(3 * SEG + 123), os.urandom(SEG)]
    atts = [{'upload': upload(api, d), 'name': 'f%d.bin' % i, 'type': 'application/octet-stream'}
            for i, d in enumerate(files)]
    mid = api.json('POST', '/api/v1/messages', body=submit_body(atts), expect=202)['message_id']
    net['ES'].stop()  # a clean stop signs the final checkpoint
    es = net['ES']
    trust = os.path.join(net.dir, 'trust')
    os.makedirs(trust, exist_ok=True)
    for s in net.gws:
        shutil.copy(net.pki(s, 'root.crt'), os.path.join(trust, s + '.crt'))

    # without the flag nothing is written beside the bundle, and the report is as before
    plain = os.path.join(net.dir, 'plain.mab')
    net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'), '--out', plain)
    check(not os.path.exists(plain + '.attachments'), 'no folder without the flag')
    rc, rep = verify(net, plain, trust)
    check(rc == 0 and 'attachments' not in rep['checks'], 'plain bundle %d %r' % (rc, rep))

    bundle = os.path.join(net.dir, 'es.mab')
    p = net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'), '--out',
                bundle, '--with-attachments')
    check(b'3 attachments of 1 envelopes' in p.stderr and b'3 tree files' in p.stderr,
          'export says what it copied %r' % p.stderr)
    folder = os.path.join(bundle + '.attachments', mid)
    store_folder = os.path.join(os.path.dirname(es.store), 'attachments', mid)
    for n in range(1, 4):
        with open(os.path.join(folder, '%d.ct' % n), 'rb') as a, \
                open(os.path.join(store_folder, '%d.ct' % n), 'rb') as b:
            check(a.read() == b.read(), 'attachment %d copied byte for byte' % n)
    check(sorted(os.listdir(folder)) == ['1.ct', '1.tree', '2.ct', '2.tree', '3.ct', '3.tree'],
          'the complete files and the sender\'s trees: %r' % os.listdir(folder))
    with open(bundle, 'rb') as a, open(plain, 'rb') as b:
        check(a.read() == b.read(), 'the bundle itself is unchanged by the flag')
    rc, rep = verify(net, bundle, trust)
    check(rc == 0 and rep['verified'] and rep['checks']['attachments'] == {'ok': 3, 'failed': 0}
          and rep['attachments_not_checked'] == 0, 'verified with attachments %d %r' % (rc, rep))
    t = net.cli('audit', 'verify', bundle, '--trust', trust).stdout.decode()
    check('attachments' in t and '3 ok, 0 failed' in t and '\nverified' in t, 'text %r' % t)

    # one byte flipped in segment 2 of attachment 2: fails, naming it, no content
    two = os.path.join(folder, '2.ct')
    with open(two, 'rb') as f:
        orig = f.read()
    pos = 2 * (SEG + 16) + 7
    with open(two, 'r+b') as f:
        f.seek(pos)
        f.write(bytes([orig[pos] ^ 1]))
    rc, rep = verify(net, bundle, trust)
    m = messages(rep)
    check(rc == 1 and not rep['verified'] and rep['checks']['attachments'] == {'ok': 2, 'failed': 1}
          and len(m) == 1 and mid in m[0] and 'attachment 2: segment 2 is not the one signed (1 of'
          ' its 4 segments differ' in m[0], 'a flipped byte %d %r' % (rc, rep))
    # without the tree (a receiver's export) the root says only that one differs
    os.rename(os.path.join(folder, '2.tree'), os.path.join(net.dir, '2.tree'))
    rc, rep = verify(net, bundle, trust)
    m = messages(rep)
    check(rc == 1 and len(m) == 1 and 'attachment 2: segments 0 to 3 do not have the signed '
          'Merkle root' in m[0], 'a flipped byte, no tree %d %r' % (rc, m))
    os.rename(os.path.join(net.dir, '2.tree'), os.path.join(folder, '2.tree'))
    t = net.cli('audit', 'verify', bundle, '--trust', trust, check_rc=False)
    check(t.returncode == 1 and b'FAILED attachments: message ' + mid.encode() in t.stdout,
          'text failure %r' % t.stdout)

    # truncated inside segment 1: fails naming the segment it cuts
    with open(two, 'wb') as f:
        f.write(orig[:SEG + 16 + 100])
    rc, rep = verify(net, bundle, trust)
    m = messages(rep)
    check(rc == 1 and len(m) == 1 and 'attachment 2' in m[0] and 'truncated in segment 1 of 4'
          in m[0], 'truncated %d %r' % (rc, m))
    with open(two, 'wb') as f:
        f.write(orig)

    # a file no envelope lists, and a folder of no message of the bundle: reported
    with open(os.path.join(folder, '9.ct'), 'wb') as f:
        f.write(b'x')
    os.makedirs(os.path.join(bundle + '.attachments', 'stray'))
    rc, rep = verify(net, bundle, trust)
    m = messages(rep)
    check(rc == 1 and rep['checks']['attachments'] == {'ok': 3, 'failed': 2} and
          any('9.ct' in x and 'no verified envelope' in x for x in m) and
          any('stray' in x for x in m), 'unlisted files %d %r' % (rc, m))
    os.remove(os.path.join(folder, '9.ct'))
    os.rmdir(os.path.join(bundle + '.attachments', 'stray'))

    # a listed file absent: counted as not checked, a failure only with --all-attachments
    os.rename(os.path.join(folder, '3.ct'), os.path.join(net.dir, '3.ct'))
    rc, rep = verify(net, bundle, trust)
    check(rc == 0 and rep['checks']['attachments'] == {'ok': 2, 'failed': 0} and
          rep['attachments_not_checked'] == 1, 'absent, not checked %d %r' % (rc, rep))
    rc, rep = verify(net, bundle, trust, '--all-attachments')
    m = messages(rep)
    check(rc == 1 and len(m) == 1 and 'attachment 3' in m[0] and 'not in the folder' in m[0],
          'absent with --all-attachments %d %r' % (rc, m))

    # --attachments names the folder elsewhere
    moved = os.path.join(net.dir, 'elsewhere')
    os.rename(bundle + '.attachments', moved)
    os.rename(os.path.join(net.dir, '3.ct'), os.path.join(moved, mid, '3.ct'))
    rc, rep = verify(net, bundle, trust, '--attachments', moved)
    check(rc == 0 and rep['checks']['attachments'] == {'ok': 3, 'failed': 0},
          '--attachments %d %r' % (rc, rep))
    rc, rep = verify(net, bundle, trust)
    check(rc == 0 and 'attachments' not in rep['checks'], 'no folder beside: unchecked')
    p = net.cli('audit', 'verify', bundle, '--trust', trust, '--attachments',
                os.path.join(net.dir, 'none'), check_rc=False)
    check(p.returncode == 3, '--attachments of no folder: %d' % p.returncode)

    # export: a file the store does not hold is reported and counted, not fatal
    os.rename(os.path.join(store_folder, '2.ct'), os.path.join(net.dir, 'held.ct'))
    again = os.path.join(net.dir, 'again.mab')
    p = net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'), '--out',
                again, '--with-attachments')
    check(b'attachment 2: not in the store' in p.stderr and b'1 not in the store' in p.stderr,
          'export of a missing file %r' % p.stderr)
    check(sorted(os.listdir(os.path.join(again + '.attachments', mid))) ==
          ['1.ct', '1.tree', '3.ct', '3.tree'], 'the others exported')
    rc, rep = verify(net, again, trust)
    check(rc == 0 and rep['attachments_not_checked'] == 1, 'missing at export %d %r' % (rc, rep))
    os.rename(os.path.join(net.dir, 'held.ct'), os.path.join(store_folder, '2.ct'))
    p = net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'), '--out',
                again, '--with-attachments', check_rc=False)
    check(p.returncode == 3 and b'again.mab.attachments' in p.stderr,
          'an existing folder is not overwritten %d %r' % (p.returncode, p.stderr))


if __name__ == '__main__':
    run(main)
