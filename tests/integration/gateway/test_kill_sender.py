"""SIGKILL of the sending gateway in the middle of a burst of 500 submissions: after a restart
every acknowledged message is delivered, exactly once."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net.start_all()
    acked, _ = burst_with_kill(net, 'ES', 'CO', 'ES')
    check(len(acked) >= 150, 'only %d acknowledged before the kill' % len(acked))
    check(len(set(acked)) == len(acked), 'an id acknowledged twice')
    sys.stderr.write('%d acknowledged\n' % len(acked))
    net['ES'].start()
    stored = check_exactly_once(net, 'ES', 'CO', acked)
    sys.stderr.write('%d stored by ES, all delivered once\n' % len(stored))
    check_audit_after_kill(net, 'ES', 'CO', acked, killed='ES')


run(main)
