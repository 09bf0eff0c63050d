"""The attachment files under the durability checks (issue 15 part 4; SPEC 17.13
"Durability", docs/internals/store-integrity.md): ES holds a message with attachments in its
outbox (tests/tools/attach_seal), CO down.

- `mlagw store check` passes and counts the files; a truncated `.ct` and a deleted one fail
  it naming the message and the index; a folder no message lists is a stray (reported, not a
  failure); a flipped byte passes the size check and fails `--deep`, naming the segment;
- mlagwd started on a truncated file starts, raises the alert attachments-damaged naming the
  message and index, and refuses submissions (503) like a damaged store;
- `mlagw store backup` of the running ES copies the files (and the sender's trees) into
  FILE.attachments/ and reports them; `mlagw store restore` refuses a backup whose file was
  truncated, naming it, and otherwise puts the files back beside the restored store; the
  restored ES then delivers the message to CO byte for byte;
- CO killed mid-transfer: its check counts the part file, its backup copies it as it is, and
  CO restored from that backup resumes the transfer to completion."""
import json
import os
import shutil
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from attachlib import *  # noqa: E402,F403

SIZES = [5, 3 * SEG + 123, SEG]


def store_check(net, store, *extra):
    p = net.cli('store', 'check', '--store', store, '--json', *extra, check_rc=False)
    return p.returncode, json.loads(p.stdout.decode() or '{}')


def damaged(net, es, mid, path, content, want):
    with open(path, 'wb') as f:
        f.write(content)
    rc, rep = store_check(net, es.store)
    err = rep.get('attachments', {}).get('error') or ''
    check(rc == 1 and not rep['ok'] and ('message %s attachment %s' % (mid, want[0])) in err
          and want[1] in err, 'check of a damaged file: %d %r' % (rc, rep))


def check_transfer_in_progress(net, es, co, total=160):
    """CO killed mid-transfer: its store check counts the part file, its backup copies it as
    it is, and CO restored from that backup resumes the transfer to completion."""
    es.stop()
    es.overrides['peer CO']['max_bandwidth'] = '2 MiB'
    es.write_config()
    mid = attach_seal(net, 'ES', 'CO', [total * SEG])
    es.start()
    wait_until(lambda: 'transferring msg=%s' % mid in es.log_text(), 20, msg='transferring')
    time.sleep(1.5)
    co.kill()
    part = os.path.join(att_dir(co, mid), '1.ct.part')
    check(os.path.exists(part), 'no part file at CO')
    rc, rep = store_check(net, co.store)
    att = rep['attachments']
    check(rc == 0 and att['parts'] == 1 and att['files'] == 4 and att['bad'] == 0,
          'check with a transfer in progress %d %r' % (rc, rep))
    out = os.path.join(net.dir, 'co-backup.db')
    rep = json.loads(net.cli('store', 'backup', '--store', co.store, '--out', out,
                             '--json').stdout)
    check(rep['attachments']['parts'] == 1 and rep['attachments']['files'] == 4,
          'CO backup %r' % rep)
    copied = os.path.join(out + '.attachments', mid, '1.ct.part')
    check(os.path.getsize(copied) == ct_size(total * SEG), 'part file copied as it is')
    os.unlink(co.store)
    for suffix in ('-wal', '-shm'):
        if os.path.exists(co.store + suffix):
            os.unlink(co.store + suffix)
    shutil.rmtree(os.path.dirname(att_dir(co, mid)))
    p = net.cli('store', 'restore', '--from', out, '--store', co.store, check_rc=False)
    check(p.returncode == 0 and b'(1 of transfers in progress)' in p.stdout,
          'CO restore %d %r %r' % (p.returncode, p.stdout, p.stderr))
    co.start()
    delivered(es, mid, 120)
    same_files(es, co, mid, [total * SEG])
    check('attachments-damaged' not in co.log_text().split('--- start ---')[-1], 'CO alert')


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3'}
    es.overrides['retry'] = {'initial': '100ms', 'max': '1s'}
    net.start_all()
    co.stop()
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', SIZES)
    folder = att_dir(es, mid)
    files = {n: read(os.path.join(folder, '%d.ct' % n)) for n in (1, 2, 3)}

    rc, rep = store_check(net, es.store)
    att = rep['attachments']
    check(rc == 0 and rep['ok'] and att['messages'] == 1 and att['files'] == 3 and
          att['bytes'] == sum(ct_size(s) for s in SIZES) and att['bad'] == 0 and
          att['strays'] == 0, 'check with attachments %d %r' % (rc, rep))
    text = net.cli('store', 'check', '--store', es.store).stdout.decode()
    check('attachments: 3 files of 1 messages' in text and 'store check: ok' in text, text)

    two = os.path.join(folder, '2.ct')
    damaged(net, es, mid, two, files[2][:-1], (2, 'bytes, the signed list gives'))
    # the daemon on it: starts, alerts naming message and index, refuses submissions
    es.start()
    wait_until(lambda: es.alerts('attachments-damaged'), 30, msg='alert attachments-damaged')
    detail = es.alerts('attachments-damaged')[0]['detail']
    check('message %s attachment 2' % mid in detail, 'alert %r' % detail)
    check('attachments-damaged' in es.log_text(), 'log line')
    es.submit('CO', expect=503)
    es.stop()
    with open(two, 'wb') as f:
        f.write(files[2])
    three = os.path.join(folder, '3.ct')
    os.unlink(three)
    rc, rep = store_check(net, es.store)
    check(rc == 1 and 'message %s attachment 3: missing' % mid in rep['attachments']['error'],
          'missing file %d %r' % (rc, rep))
    with open(three, 'wb') as f:
        f.write(files[3])

    # a stray folder: reported, not a failure
    stray = os.path.join(os.path.dirname(folder), str(uuid.uuid4()))
    os.makedirs(stray)
    rc, rep = store_check(net, es.store)
    check(rc == 0 and rep['attachments']['strays'] == 1, 'stray %d %r' % (rc, rep))
    shutil.rmtree(stray)

    # a flipped byte: same size, only --deep sees it, naming the segment
    flipped = bytearray(files[2])
    flipped[SEG + 16 + 9] ^= 0x01
    with open(two, 'wb') as f:
        f.write(bytes(flipped))
    rc, rep = store_check(net, es.store)
    check(rc == 0, 'sizes only: %d %r' % (rc, rep))
    rc, rep = store_check(net, es.store, '--deep')
    err = rep['attachments']['error'] or ''
    check(rc == 1 and 'message %s attachment 2' % mid in err and 'segment' in err,
          '--deep on a flipped byte %d %r' % (rc, rep))
    with open(two, 'wb') as f:
        f.write(files[2])
    rc, rep = store_check(net, es.store, '--deep')
    check(rc == 0 and rep['attachments']['deep'] == 3, '--deep clean %d %r' % (rc, rep))

    # backup of the running ES, then restore
    es.start()
    out = os.path.join(net.dir, 'backup.db')
    p = net.cli('store', 'backup', '--store', es.store, '--out', out, '--json')
    rep = json.loads(p.stdout)
    check(rep['attachments']['files'] == 3 and rep['attachments']['trees'] == 3,
          'backup report %r' % rep)
    es.stop()
    copied = os.path.join(out + '.attachments', mid)
    check(sorted(os.listdir(copied)) == ['1.ct', '1.tree', '2.ct', '2.tree', '3.ct', '3.tree'],
          'backup folder %r' % os.listdir(copied))
    for n in (1, 2, 3):
        check(read(os.path.join(copied, '%d.ct' % n)) == files[n], 'copied %d' % n)
    p = net.cli('store', 'backup', '--store', es.store, '--out', out, check_rc=False)
    check(p.returncode == 1 and b'exists' in p.stderr, 'backup over a backup %r' % p.stderr)

    # a backup whose file fails is refused, naming it; nothing changed
    bad = os.path.join(copied, '1.ct')
    with open(bad, 'wb') as f:
        f.write(files[1][:-2])
    p = net.cli('store', 'restore', '--from', out, '--store', es.store, '--replace',
                check_rc=False)
    check(p.returncode == 1 and ('message %s attachment 1' % mid).encode() in p.stdout,
          'restore of a bad backup: %d %r %r' % (p.returncode, p.stdout, p.stderr))
    check(os.path.exists(es.store) and read(os.path.join(folder, '1.ct')) == files[1],
          'the store was touched')
    with open(bad, 'wb') as f:
        f.write(files[1])

    # the store lost with its attachments: restored from the backup, then delivered
    os.unlink(es.store)
    shutil.rmtree(os.path.dirname(folder))
    p = net.cli('store', 'restore', '--from', out, '--store', es.store, check_rc=False)
    check(p.returncode == 0 and b'3 attachment files of 1 messages' in p.stdout,
          'restore %d %r %r' % (p.returncode, p.stdout, p.stderr))
    for n in (1, 2, 3):
        check(read(os.path.join(folder, '%d.ct' % n)) == files[n], 'restored %d' % n)
    rc, rep = store_check(net, es.store, '--deep')
    check(rc == 0, 'check of the restored store %d %r' % (rc, rep))
    co.start()
    es.start()
    delivered(es, mid, 90)
    same_files(es, co, mid, SIZES)
    # (the backup holds the alert of the earlier damage; no new one since the restore)
    for gw in (es, co):
        last = gw.log_text().split('--- start ---')[-1]
        check('attachments-damaged' not in last and 'attachments-checked' in last,
              '%s after the restore: %s' % (gw.name if hasattr(gw, 'name') else gw, last[-2000:]))
    check_transfer_in_progress(net, es, co)
    net.stop_all()
    print('ok')


run(main)
