"""A lost or rolled-back store never signs a fork (issue 11, finding 4). Before it signs anything
after a start, a gateway learns from each peer the latest head of its log that peer cosigned,
and refuses to start, naming the peer and the sizes, when a peer holds a head beyond its log or
another root at a size it has: after its store went back to an older copy, after it was deleted
and created again, and after its write-ahead log was lost in a crash (that one is refused
locally first: an unclean stop without its log; `mlagw store accept-loss` is the operator's
way on, and then the peer's head decides). A peer that does not
answer holds the start back for [audit] peer_head_wait at most, then an alert says so."""
import json
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def cosigned_by_co(es):
    """Largest size of ES's log that CO cosigned, from ES's own checkpoints."""
    return max([c['size'] for c in es.checkpoints()
                if b'\xe2\x80\x94 mlagw.co/witness ' in c['note']], default=0)


def traffic(es, n, tag):
    ids = [es.submit('CO', doc=b'<Request>%s %d</Request>' % (tag.encode(), i))['message_id']
           for i in range(n)]
    return ids


def wait_cosigned(es, size):
    wait_until(lambda: cosigned_by_co(es) >= size, 20, msg='CO cosigned ES up to %d' % size)


def refused(es, what, want=('peer CO cosigned', 'refusing to sign')):
    """ES must refuse to start and say why (by default: naming CO and the sizes); nothing new
    is signed."""
    before = [c['size'] for c in es.checkpoints()]
    es.start(wait=False)
    try:
        es.proc.wait(timeout=30)
    except Exception:
        es.kill()
        raise TestFailure('%s: ES kept running' % what)
    log = es.log_text().split('--- start ---')[-1]
    check(es.proc.returncode == 1, '%s: ES started (exit %r)' % (what, es.proc.returncode))
    check(all(w in log for w in want),
          '%s: the refusal does not say %r: %s' % (what, want, log[-1500:]))
    check([c['size'] for c in es.checkpoints()] == before, '%s: ES signed after all' % what)


def put_back(es, good):
    for suffix in ('-wal', '-shm'):
        if os.path.exists(es.store + suffix):
            os.remove(es.store + suffix)
    shutil.copyfile(good, es.store)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='200ms')
    for g in net.gws.values():
        g.overrides.setdefault('audit', {})['peer_head_wait'] = '2s'
    net.start_all()
    es, co = net['ES'], net['CO']
    ids = traffic(es, 20, 'first')
    wait_until(lambda: es.all_in_state(ids, DELIVERED), 30, msg='first delivered')
    es.stop()
    old = os.path.join(es.dir, 'old-copy.db')
    shutil.copyfile(es.store, old)  # a clean stop leaves no write-ahead log

    es.start()
    ids = traffic(es, 20, 'second')
    wait_until(lambda: es.all_in_state(ids, DELIVERED), 30, msg='second delivered')
    size = es.checkpoints()[-1]['size']
    wait_cosigned(es, size)
    es.stop()
    good = os.path.join(es.dir, 'good-copy.db')
    shutil.copyfile(es.store, good)

    # 0. an online backup of the idle gateway, put back: a complete copy, started as it is
    # (the reviewer's finding: a backup used to be refused as a store without its log)
    es.start()
    wait_cosigned(es, es.checkpoints()[-1]['size'])
    backup = os.path.join(es.dir, 'online.db')
    net.cli('store', 'backup', '--store', es.store, '--out', backup)
    es.stop()
    put_back(es, backup)
    es.start()
    check('without its write-ahead log' not in es.log_text(), 'the backup taken for a lost log')
    es.stop()
    put_back(es, good)

    # 1. the store went back to an older copy: CO cosigned beyond it
    put_back(es, old)
    refused(es, 'older copy')
    put_back(es, good)
    es.start()  # the right store starts again

    # 2. the store was deleted and created anew: an empty log, CO holds a head of the old one
    es.stop()
    os.remove(es.store)
    p = es.init_store()
    check(p.returncode == 0, 'init: %r' % (p,))
    refused(es, 'store created again')
    put_back(es, good)
    es.start()

    # 3. a peer that does not answer: the start waits peer_head_wait, then goes on with an alert
    es.stop()
    co.stop()
    t0 = time.monotonic()
    es.start()
    took = time.monotonic() - t0
    check(took >= 1.5, 'ES did not wait for CO (%.1f s)' % took)
    check(any('CO' in a['detail'] for a in es.alerts('witness-unconfirmed')),
          'no witness-unconfirmed alert: %r' % es.alerts())
    co.start()
    ids = traffic(es, 5, 'after')
    wait_until(lambda: es.all_in_state(ids, DELIVERED), 30, msg='delivered after CO is back')
    wait_until(lambda: 'peer=CO cosigned=' in es.log_text().split('--- start ---')[-1] and
               'result=consistent' in es.log_text().split('--- start ---')[-1], 15,
               msg="CO's head checked once it answered")

    # 4. the write-ahead log is lost after a crash: a clean restart leaves the whole store in
    # the database file; what follows (a few pages, far below SQLite's 1000-page automatic
    # checkpoint) lives only in the write-ahead log until ES is killed and the log deleted
    es.restart()
    ids = traffic(es, 20, 'wal')
    wait_until(lambda: es.all_in_state(ids, DELIVERED), 30, msg='wal delivered')
    wait_cosigned(es, es.checkpoints()[-1]['size'])
    es.proc.send_signal(signal.SIGKILL)
    es.proc.wait()
    wal = es.store + '-wal'
    check(os.path.exists(wal) and os.path.getsize(wal) > 0, 'no write-ahead log to lose')
    os.remove(wal)
    if os.path.exists(es.store + '-shm'):
        os.remove(es.store + '-shm')
    # noticed locally first: an unclean stop always leaves its log behind
    refused(es, 'write-ahead log lost', ('without its write-ahead log', 'accept-loss'))
    refused(es, 'write-ahead log lost, again', ('without its write-ahead log',))
    p = net.cli('store', 'accept-loss', '--store', es.store)
    check(b'accepted' in p.stdout, 'accept-loss: %r' % p.stdout)
    # then the peer's head: CO cosigned more than the file holds
    refused(es, 'write-ahead log lost, loss accepted')

    # 5. the same store while CO is down: ES starts after the wait, and stops signing and
    # accepting as soon as CO answers with a head beyond its log
    co.stop()
    es.start()  # signs meanwhile: the price of starting unconfirmed (SPEC §14)
    co.start()

    def held():
        code, body = es.http('POST', '/local/v1/submit', b'<Request>late</Request>',
                             {'X-MLA-To': 'CO', 'X-MLA-Kind': 'mla',
                              'Content-Type': 'application/xml'})
        return code == 503 and b'refusing to sign' in body
    wait_until(held, 20, msg='ES holds new work once CO shows the fork')
    code, body = es.http('GET', '/local/v1/health')
    check(code == 503 and json.loads(body)['status'] == 'held', 'health %d %r' % (code, body))
    check(es.alerts('audit-fork'), 'no audit-fork alert')
    before = [c['size'] for c in es.checkpoints()]
    time.sleep(1)
    check([c['size'] for c in es.checkpoints()] == before, 'ES signed over the fork')
    es.kill()
    net.stop_all()


run(main)
