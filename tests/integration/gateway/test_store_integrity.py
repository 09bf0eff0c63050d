"""Damage at rest after a CLEAN stop (issue 11 finding 2): the clean-stop mark says nothing
about what happened to the file since (disks, backup tools, people). Each case damages a copy
of a cleanly stopped store and must refuse the start (exit 1, a line naming what failed), and
`mlagw store check` (read-only) must report it with a non-zero exit:
  (a) one bit flipped in the bytes of a signed audit entry, in the database file itself;
  (a2) a persisted audit tree hash (schema 7, audit_tree) changed: the start recomputes
      every one from the leaves;
  (b) random bytes written over an audit table page (found with the store_fault tool);
  (c) a page of another table damaged, so that only quick_check sees it: the start runs
      quick_check when the last one is older than [store] check_interval.
Last, (d) the scheduled check of a running gateway: a damaged page is found within the
interval, raised as an alert and a log line, and submissions are refused with a 503."""
import os
import random
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def store_check(net, path):
    p = net.cli('store', 'check', '--store', path, check_rc=False)
    return p.returncode, p.stdout.decode(errors='replace') + p.stderr.decode(errors='replace')


def exited_or_serving(gw):
    """Waits until the daemon has exited (None) or serves its API (its exit is then None too,
    and the test fails below on the exit status)."""
    def settled():
        if gw.proc.poll() is not None:
            return True
        try:
            return gw.http('GET', '/local/v1/health', timeout=2)[0] in (200, 503)
        except OSError:
            return False
    wait_until(settled, 60, 0.1, '%s to exit or serve' % gw.state)


def start_refused(gw, what):
    gw.start(wait=False)
    exited_or_serving(gw)
    if gw.proc.poll() is None:
        gw.kill()
        raise TestFailure('%s: the start went ahead (the gateway serves):\n%s' %
                          (what, gw.log_text().split('--- start ---')[-1][-2000:]))
    tail = gw.log_text().split('--- start ---')[-1]
    check(gw.proc.returncode == 1, '%s: the start went ahead (exit %r):\n%s' %
          (what, gw.proc.returncode, tail[-2000:]))
    lines = [l for l in tail.splitlines() if 'cannot start' in l]
    check(lines, '%s: no "cannot start" line:\n%s' % (what, tail[-2000:]))
    sys.stderr.write('%s: exit 1: %s\n' % (what, lines[-1]))
    return lines[-1]


def restore(gw, pristine):
    for suffix in ('-wal', '-shm'):
        if os.path.exists(gw.store + suffix):
            os.unlink(gw.store + suffix)
    shutil.copyfile(pristine, gw.store)


def flip_entry_bit(gw, seq):
    """Flips one bit in the middle of entry seq's bytes where the file holds them."""
    entry = gw.audit_rows(seq, seq)[0]['entry']
    with open(gw.store, 'rb') as f:
        data = f.read()
    check(data.count(entry) == 1, 'entry %d is not once in the file' % seq)
    pos = data.find(entry) + len(entry) // 2
    with open(gw.store, 'r+b') as f:
        f.seek(pos)
        f.write(bytes([data[pos] ^ 0x04]))


def pages_of(gw, name):
    out = gw.fault('pages', name).split('\n')
    return [int(p) for p in out[0].split()], int(out[1])


def damage_pages(gw, name, rnd, header):
    """Random bytes over every other leaf page of name: over the page's cell area, or over
    its header and cell pointers (header=True: what quick_check reads first)."""
    pages, size = pages_of(gw, name)
    check(pages, 'no leaf page of %s' % name)
    with open(gw.store, 'r+b') as f:
        for p in pages[::2]:
            off = (p - 1) * size
            if header:
                f.seek(off + 8)
                f.write(b'\xff' * 64)
            else:
                f.seek(off + size // 2)
                f.write(bytes(rnd.getrandbits(8) for _ in range(size // 4)))
    return pages[::2]


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='200ms')
    net.start_all()
    es = net['ES']
    acked = [es.submit('CO', doc=b'<Request>at rest %d</Request>' % i)['message_id']
             for i in range(30)]
    wait_until(lambda: es.all_in_state(acked, DELIVERED), 60, msg='delivered')
    es.stop()  # clean: the mark is set, a last checkpoint signed
    counts = es.counts()
    signed = counts['checkpoint_latest']
    check(signed == counts['audit_next'] and signed > 20, 'not all signed: %r' % counts)
    es.fault('wal-truncate')  # every page in the file itself
    pristine = os.path.join(net.dir, 'pristine.db')
    shutil.copyfile(es.store, pristine)
    rc, out = store_check(net, es.store)
    check(rc == 0 and 'store check: ok' in out, 'a sound store: exit %d\n%s' % (rc, out))

    # (a) a bit flipped in a signed entry
    seq = signed // 2
    flip_entry_bit(es, seq)
    line = start_refused(es, '(a) bit flip in entry %d' % seq)
    check(('audit entry %d is not the canonical entry' % seq) in line,
          '(a): the refusal does not name entry %d: %s' % (seq, line))
    rc, out = store_check(net, es.store)
    check(rc == 1 and ('entry %d does not match its leaf' % seq) in out,
          '(a) store check: exit %d\n%s' % (rc, out))
    restore(es, pristine)

    # (a2) a persisted tree hash changed: the 16 entries 0..15 (level 4)
    es.fault('set-tree-hash', '15', '4')
    line = start_refused(es, '(a2) tree hash of entries 0..15 changed')
    check('audit tree hash at level 4 index 0 (entries 0..15)' in line,
          '(a2): the refusal does not name the tree hash: %s' % line)
    rc, out = store_check(net, es.store)  # the offline check sees what the start sees
    check(rc == 1 and 'audit tree hash at level 4 index 0 (entries 0..15)' in out,
          '(a2) store check: exit %d\n%s' % (rc, out))
    restore(es, pristine)

    # (b) random bytes in audit table pages
    rnd = random.Random(11)
    damaged = damage_pages(es, 'audit', rnd, header=False)
    line = start_refused(es, '(b) random bytes in audit pages %r' % damaged)
    check('audit' in line, '(b): the refusal does not name the audit log: %s' % line)
    rc, out = store_check(net, es.store)
    check(rc == 1 and 'store check: FAILED' in out, '(b) store check: exit %d\n%s' % (rc, out))
    restore(es, pristine)

    # (c) another table's pages: only quick_check sees it, and it is due at this start
    es.write_config(overrides={'store': {'check_interval': '1s'}})
    damage_pages(es, 'history', rnd, header=True)
    time.sleep(1.5)
    line = start_refused(es, '(c) damaged history pages')
    check(('store: %s fails its integrity check' % es.store) in line,
          '(c): the refusal does not name the failed quick_check: %s' % line)
    rc, out = store_check(net, es.store)
    check(rc == 1 and 'quick_check: FAILED' in out, '(c) store check: exit %d\n%s' % (rc, out))
    restore(es, pristine)

    # the pristine copy starts (and checks itself at this start: its last check is old)
    es.start()
    check('store-checked' in es.log_text().split('--- start ---')[-1],
          'the start did not log its quick_check')

    # (d) the scheduled check of a running gateway: a page damaged under it
    es.submit('CO', doc=b'<Request>before</Request>')
    es.stop()
    es.write_config(overrides={'store': {'check_interval': '2s'}})
    es.start()
    es.fault('wal-truncate')
    damage_pages(es, 'history', rnd, header=True)
    wait_until(lambda: 'store-damaged' in es.log_text().split('--- start ---')[-1], 30,
               msg='the scheduled check to find the damage')
    code, body = es.http('POST', '/local/v1/submit', b'<Request>after</Request>',
                         {'X-MLA-To': 'CO', 'X-MLA-Kind': 'mla'})
    check(code == 503 and b'integrity' in body,
          '(d) a submission on a damaged store: HTTP %d %r' % (code, body))
    es.kill()
    net.stop_all()


run(main)
