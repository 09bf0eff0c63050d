"""One daemon's wall clock under a test's control: libfaketime (Debian package faketime,
installed by scripts/setup.sh) preloaded into that mlagwd only, its offset read from a file
that the test rewrites while the daemon runs. The monotonic clock is left alone
(FAKETIME_DONT_FAKE_MONOTONIC): only the wall clock steps, as under a bad NTP server or an
operator's `date -s`.

usage:   clock = FakeClock(net.dir, 'ES'); net['ES'].start(env=clock.env()); clock.set(-2)
"""
import glob
import os

LIB_GLOBS = ['/usr/lib/*/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1',
             '/usr/lib64/faketime/libfaketime.so.1', '/usr/local/lib/faketime/libfaketime.so.1']


def faketime_lib():
    for pattern in LIB_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise AssertionError('libfaketime not found (Debian package faketime: scripts/setup.sh)')


class FakeClock:
    def __init__(self, directory, name):
        self.path = os.path.join(directory, name + '.faketime')
        self.offset = None
        self.set(0)

    def set(self, offset_s):
        """Steps the wall clock to real time + offset_s (whole seconds, either sign); the
        daemon sees it at its next reading of the clock (FAKETIME_NO_CACHE)."""
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%+d\n' % offset_s)
        os.replace(tmp, self.path)  # never a half-written file under the reader
        self.offset = offset_s

    def env(self):
        asan = os.environ.get('ASAN_OPTIONS', '')
        return {
            'LD_PRELOAD': faketime_lib(),
            'FAKETIME_TIMESTAMP_FILE': self.path,
            'FAKETIME_NO_CACHE': '1',
            'FAKETIME_DONT_FAKE_MONOTONIC': '1',
            # the sanitizer's runtime wants to be the first library; libfaketime only wraps
            # the clock calls, so that order does not matter here
            'ASAN_OPTIONS': (asan + ':' if asan else '') + 'verify_asan_link_order=0',
        }
