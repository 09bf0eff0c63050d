"""A torn tail after a crash (issue: "detected and repaired or refused explicitly, never
silently accepted"). ES is killed with SIGKILL during traffic and half a transaction's worth of
garbage is appended to its write-ahead log: ES starts again (SQLite drops the torn frames, the
store passes quick_check, every audit entry is re-read against its leaf hash, a log line says
so), loses no acknowledged message, and its exported bundle verifies. Then, after another kill,
an entry no checkpoint covers yet is altered in place (bytes and leaf no longer agree): ES
refuses to start, naming the entry, again at the next start, and signs nothing. Last, a store
whose pages are damaged fails quick_check and is refused, naming the file, as often as it is
started."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def checkpoints(gw):
    """The checkpoints (size, note), or the error reading them (a damaged store)."""
    try:
        return [(c['size'], c['note']) for c in gw.checkpoints()]
    except StoreReadError as e:
        return str(e)


def store_digest(gw):
    with open(gw.store, 'rb') as f:
        return sha256(f.read())


def start_fails(gw, what, damaged=False):
    """Two starts in a row are refused, and neither signs anything: a refused log is never
    covered by a checkpoint that would let the next start through. Where the store's pages
    are damaged its rows cannot be read reliably (one read may fail, the next return garbage),
    so there the store file itself must be left as found, byte for byte."""
    before, digest = checkpoints(gw), store_digest(gw)
    for attempt in (1, 2):
        gw.start(wait=False)
        gw.proc.wait(timeout=30)
        check(gw.proc.returncode == 1, '%s: start %d went ahead (exit %r)' %
              (what, attempt, gw.proc.returncode))
        tail = gw.log_text().split('--- start ---')[-1]
        if damaged:
            check(store_digest(gw) == digest, '%s: a refused start changed the damaged store'
                  % what)
            continue
        after = checkpoints(gw)
        check(after == before, '%s: a refused start signed a checkpoint (%.300r, then %.300r)'
              % (what, before, after))
    return tail


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net['ES'].overrides = {'audit': {'checkpoint_interval': '1h'}}  # an unsigned tail
    net.start_all()
    es = net['ES']
    acked = [es.submit('CO', doc=b'<Request>torn %d</Request>' % i)['message_id']
             for i in range(20)]
    es.kill()
    wal = es.store + '-wal'
    check(os.path.getsize(wal) > 0, 'no write-ahead log after SIGKILL')
    with open(wal, 'ab') as f:  # a frame header and half a page: what a crash mid-write leaves
        f.write(os.urandom(24 + 2048))
    es.start()
    check('store-recovered' in es.log_text(), 'the recovery is not logged')
    wait_until(lambda: es.all_in_state(acked, DELIVERED), 60, msg='acknowledged delivered')
    counts = net['CO'].inbox_counts()
    check(all(counts.get(m) == 1 for m in acked), 'a message lost or received twice')
    es.stop()  # clean: signs the tail
    verify_exported(net, 'ES')

    # an unsigned entry altered in place after a crash: refused, naming it
    es.start()
    es.submit('CO', doc=b'<Request>after</Request>')
    es.kill()
    counts = es.counts()
    last, cp = counts['audit_next'] - 1, counts['checkpoint_latest']
    check(last >= cp, 'the tail is covered by a checkpoint: %d, %d' % (last, cp))
    entry = es.audit_rows(last, last)[0]['entry']
    es.set_audit_entry(last, entry.replace(b'\nevent ', b'\nevent  ', 1))  # the leaf kept
    tail = start_fails(es, 'altered unsigned entry')
    check(('audit entry %d is not the canonical entry' % last) in tail,
          'the refusal does not name entry %d:\n%s' % (last, tail))

    # damaged pages: quick_check fails, the store is refused by name
    pages, size = map(int, es.fault('wal-truncate').split())
    with open(es.store, 'r+b') as f:
        for p in range(2, pages, 2):  # every other page from the third on: b-tree pages
            f.seek(p * size + 8)
            f.write(b'\xff' * 64)
    tail = start_fails(es, 'damaged store', damaged=True)  # the clean mark is unset: a crash
    check(('store: %s fails its integrity check' % es.store) in tail,
          'the refusal does not name the damaged store:\n%s' % tail)
    net.stop_all()


run(main)
