"""The verifier's memory per message of a real bundle (issue 12): mlagw bench gateway sends N
envelopes from A (ES) to B (CO), each State's store is exported twice -- whole, and filtered to
a case that selects no message (the same entries and checkpoints, no envelope or receipt) --
and mlagw audit verify's peak RSS on the two bundles gives the bytes it keeps per message (an
index slot per envelope and receipt, the kept entries, the digests and times). SPEC 15
"Verifier memory" lists what grows; the bound catches a regression such as keeping every
parsed receipt again: at this size 1,385 bytes a message on the sender's bundle before, 450 to
660 now (the baseline's RSS varies by some 300 KiB; at 80,050 messages 1,682 before, 782 now).
Under a sanitizer the memory figures are the sanitizer's: the runs are checked, not the bound."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MESSAGES_N = 1000  # per run of bench gateway (it makes two runs and 50 warm-up messages)
BOUND_BYTES = 1200  # verifier peak RSS a message, above the same log without messages
# runs a command and prints the peak RSS of its process tree (KiB) last
MEASURE = ('import resource, subprocess, sys\n'
           'p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n'
           'sys.stdout.write(p.stdout)\nsys.stderr.write(p.stderr)\n'
           'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n'
           'sys.exit(p.returncode)\n')


def measured(args, env):
    """The command's exit status, stdout (without the figure), stderr and peak RSS in KiB."""
    p = subprocess.run([sys.executable, '-c', MEASURE] + args, capture_output=True, text=True,
                       timeout=900, env=env)
    out, _, rss = p.stdout.rstrip('\n').rpartition('\n')
    return p.returncode, out, p.stderr, int(rss)


def verify(mlagw, bundle, trust, env):
    """The verify report of bundle (which must verify) and the verifier's peak RSS in KiB."""
    rc, out, err, rss = measured([mlagw, 'audit', 'verify', bundle, '--trust', trust,
                                  '--json'], env)
    assert rc == 0, (rc, out[-2000:], err)
    return json.loads(out), rss


mlagw, mlagwd = sys.argv[1], sys.argv[2]
sanitized = os.environ.get('MLAGW_SANITIZE', 'none') not in ('', 'none')
n = 100 if sanitized else MESSAGES_N
tmp = tempfile.mkdtemp(prefix='mlagw-permsg-test.')
try:
    env = dict(os.environ, TMPDIR=tmp)
    p = subprocess.run([mlagw, 'bench', 'gateway', '--n', str(n), '--rsa-bits', '2048',
                        '--keep', '--mlagwd', mlagwd],
                       capture_output=True, text=True, timeout=900, env=env)
    assert p.returncode == 0, (p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    m = re.search(r'^kept: (\S+)', p.stdout, re.M)
    assert m, p.stdout[-3000:]
    d = m.group(1)
    trust = os.path.join(tmp, 'trust')
    os.mkdir(trust)
    for st in ('ES', 'CO'):
        shutil.copy(os.path.join(d, 'pki', st, 'root.crt'), os.path.join(trust, st + '.crt'))
    figures = []
    for side, st in (('A', 'ES'), ('B', 'CO')):
        store = os.path.join(d, side + '.db')
        cert = os.path.join(d, 'pki', st, 'audit.crt')
        whole, empty = os.path.join(tmp, side + '.bundle'), os.path.join(tmp, side + '0.bundle')
        for out, extra in ((whole, []), (empty, ['--case', 'NO-SUCH-CASE'])):
            e = subprocess.run([mlagw, 'audit', 'export', '--store', store, '--cert', cert,
                                '--out', out] + extra, capture_output=True, text=True,
                               timeout=900, env=env)
            assert e.returncode == 0, (e.returncode, e.stdout, e.stderr)
        rep, rss = verify(mlagw, whole, trust, env)
        rep0, rss0 = verify(mlagw, empty, trust, env)
        msgs = rep['checks']['receipts']['ok']
        # every message sent, warm-up included, was receipted: A holds its envelope and B's
        # receipt, B the envelope it received and the receipt it issued
        assert msgs == 2 * n + 50, rep['checks']
        assert rep['checks']['envelopes']['ok'] == msgs, rep['checks']
        assert rep0['checks']['envelopes']['ok'] == 0, rep0['checks']
        assert rep0['checks']['entries'] == rep['checks']['entries'], (rep0, rep)
        per_msg = (rss - rss0) * 1024 / msgs
        figures.append((side, msgs, rss, rss0, per_msg))
        print('%s (%s): %d messages, verify peak RSS %d KiB, %d KiB without the messages: '
              '%.0f bytes a message' % (side, st, msgs, rss, rss0, per_msg))
        if not sanitized:
            assert per_msg < BOUND_BYTES, (side, per_msg, 'bytes a message, bound',
                                           BOUND_BYTES)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
if sanitized:
    print('built with -Db_sanitize=%s: memory bound not checked in this build' %
          os.environ['MLAGW_SANITIZE'])
