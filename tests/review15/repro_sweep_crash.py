"""Review 15 reproduction (not registered in meson).

transfer_sweep (gateway/peer/receive_transfer.c) drops a transfer's rows with
store_transfer_in_drop, which only joins the open group commit, and removes its files with
attach_dir_remove at once, before that commit is durable. A SIGKILL / power cut (or a commit
that fails, e.g. a full disk) in between leaves a transfer_in row whose "<n>.ct.part" files
are gone. This script makes that state exactly (CO killed with -9 mid-transfer, the folder
removed as the sweep removes it, the row left as the lost commit leaves it) and shows what
the receiver does with it at its next start: it refuses every submission and reception
(attachments-damaged). It makes the state by hand, so it fails with or without the fix
(b32a6fe removes the files only after the drop is committed, so the state no longer arises);
it is kept to show the impact, not registered in meson.
Run: python3 tests/review15/repro_sweep_crash.py build/cli/mlagw build/gateway/mlagwd"""
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration', 'gateway'))
from gwnet import *  # noqa: E402,F403
from attachlib import *  # noqa: E402,F403


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'MX'])
    es, co, mx = net['ES'], net['CO'], net['MX']
    es.overrides['peer CO'] = {'envelope_versions': '1, 2, 3', 'max_bandwidth': '1 MiB'}
    net.start_all()
    es.stop()
    mid = attach_seal(net, 'ES', 'CO', [160 * SEG])
    es.start()
    wait_until(lambda: os.path.exists(os.path.join(att_dir(co, mid), '1.ct.part')), 20,
               msg='transferring')
    time.sleep(1.5)
    es.kill()
    co.kill()
    shutil.rmtree(att_dir(co, mid))  # what the sweep did before its commit was lost
    co.start(wait=False)
    time.sleep(3)
    print('CO running:', co.running())
    try:
        print('CO health:', co.http('GET', '/local/v1/health', timeout=5))
    except OSError as e:
        print('CO health: no answer (%s)' % e)
    plain = mx.submit('CO')['message_id']
    time.sleep(5)
    st = mx.status(plain)
    print('a plain MX->CO message after 5 s: state=%s last_error=%r' % (
        st['state'], st.get('last_error')))
    print('\n'.join(l for l in co.log_text().splitlines()[-400:]
                    if 'attach' in l or 'damaged' in l or 'refus' in l)[-3000:])
    check(st['state'] == 'delivered', 'CO refuses every reception after the lost sweep commit')
    print('ok')


run(main)
