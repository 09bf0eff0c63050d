"""SIGKILL of the receiving gateway in the middle of a burst of 500: after its restart every
acknowledged message is delivered exactly once (a receipt lost with the crash is answered
again from the inbox, never stored twice)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net.start_all()
    # kill CO once ES has delivered some and is still sending
    acked_box = []
    t = threading.Thread(target=lambda: acked_box.extend(submit_burst(net['ES'], 'CO', 500, 4)))
    t.start()
    wait_until(lambda: len(net['CO'].inbox_counts()) >= 150 or not t.is_alive(), 60, 0.02,
               'CO received 150')
    check(t.is_alive(), 'burst finished before the kill')
    net['CO'].kill()
    in_at_kill = len(net['CO'].inbox_counts())
    time.sleep(1)
    net['CO'].start()
    t.join(120)
    check(not t.is_alive(), 'burst hangs')
    check(len(acked_box) == 500, 'ES acknowledged %d of 500' % len(acked_box))
    sys.stderr.write('CO had %d in its inbox at the kill\n' % in_at_kill)
    check_exactly_once(net, 'ES', 'CO', acked_box)
    check_audit_after_kill(net, 'ES', 'CO', acked_box, killed='CO')


run(main)
