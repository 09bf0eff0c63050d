"""`meson install` into a temporary destination, then the demo's exchange from the installed
tree, as an operator would after a package install (issue 18):
 1. the layout: mlagwd in sbindir, mlagw in bindir, the example configuration, man pages,
    the systemd unit, sysusers.d and tmpfiles.d entries, the public headers, libmlagw.a and a
    valid mlagw.pc that a program compiles and links against;
 2. the installed binaries need nothing of the build directory (no RPATH/RUNPATH, ldd);
 3. the installed unit passes `systemd-analyze verify` (paths pointed into the destination)
    and `systemd-analyze security` scores it 2.0 or less, when systemd-analyze exists;
 4. the installed example configuration with a PKI made by the installed `mlagw pki init`
    passes `mlagwd --check`;
 5. two installed daemons (ES, CO; PKI by the installed CLI) exchange a message and its
    receipt: ES under a fake service manager ($NOTIFY_SOCKET: READY=1, RELOADING=1 and READY=1
    around SIGHUP, STOPPING=1), CO with its standard error as "the journal" ($JOURNAL_STREAM:
    lines with <N> priorities and no time stamp).
usage: install_tree.py BUILD_ROOT CC PREFIX BINDIR SBINDIR SYSCONFDIR MANDIR INCLUDEDIR LIBDIR
                       UNITDIR SYSUSERSDIR TMPFILESDIR MAN(true|false) SANITIZE(b_sanitize)"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'gateway'))
from gwnet import *  # noqa: E402,F403

ARGS = ('build', 'cc', 'prefix', 'bindir', 'sbindir', 'sysconfdir', 'mandir', 'includedir',
        'libdir', 'unitdir', 'sysusersdir', 'tmpfilesdir', 'man', 'sanitize')


def dest(d, path):
    return os.path.join(d, path.lstrip('/'))


def install(a, d):
    p = subprocess.run(['meson', 'install', '-C', a['build'], '--no-rebuild', '--quiet',
                        '--destdir', d], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, 'meson install: %s%s' % (p.stdout, p.stderr))


def check_layout(a, d):
    want = [(a['sbindir'], 'mlagwd'), (a['bindir'], 'mlagw'),
            (a['sysconfdir'], 'mlagw/mlagwd.conf.example'),
            (a['unitdir'], 'mlagwd.service'), (a['sysusersdir'], 'mlagw.conf'),
            (a['tmpfilesdir'], 'mlagw.conf'), (a['includedir'], 'mlagw/envelope.h'),
            (a['includedir'], 'mlagw/error.h'), (a['libdir'], 'libmlagw.a'),
            (a['libdir'], 'pkgconfig/mlagw.pc'), (a['prefix'], 'share/doc/mlagw/configuration.md')]
    if a['man'] == 'true':
        want += [(a['mandir'], 'man1/mlagw.1'), (a['mandir'], 'man5/mlagwd.conf.5'),
                 (a['mandir'], 'man8/mlagwd.8')]
    for base, name in want:
        path = dest(d, os.path.join(base, name))
        check(os.path.isfile(path) and os.path.getsize(path) > 0, 'not installed: %s' % path)
    for exe in ('sbindir/mlagwd', 'bindir/mlagw'):
        k, name = exe.split('/')
        path = dest(d, os.path.join(a[k], name))
        check(os.access(path, os.X_OK), '%s is not executable' % path)
        dyn = subprocess.run(['readelf', '-d', path], capture_output=True, text=True).stdout
        check('RPATH' not in dyn and 'RUNPATH' not in dyn, '%s keeps a run path:\n%s' % (path, dyn))
        ldd = subprocess.run(['ldd', path], capture_output=True, text=True).stdout
        check(a['build'] not in ldd and 'not found' not in ldd, '%s libraries:\n%s' % (path, ldd))
    with open(dest(d, os.path.join(a['unitdir'], 'mlagwd.service'))) as f:
        unit = f.read()
    check('ExecStart=%s/mlagwd -c %s/mlagw/mlagwd.conf --foreground' % (a['sbindir'], a['sysconfdir'])
          in unit and 'Type=notify' in unit and 'User=mlagw' in unit, 'unit:\n' + unit)
    if a['man'] == 'true':
        with open(dest(d, os.path.join(a['mandir'], 'man8/mlagwd.8'))) as f:
            check('.SH LOGGING' in f.read(), 'mlagwd.8 is not a built man page')


def check_library(a, d, tmp):
    """mlagw.pc validates, and a program includes <mlagw/...> and links libmlagw.a by it."""
    pcdir = dest(d, os.path.join(a['libdir'], 'pkgconfig'))
    env = dict(os.environ, PKG_CONFIG_PATH=pcdir)
    p = subprocess.run(['pkg-config', '--validate', os.path.join(pcdir, 'mlagw.pc')], env=env,
                       capture_output=True, text=True)
    check(p.returncode == 0, 'pkg-config --validate: %s' % p.stderr)
    flags = subprocess.run(['pkg-config', '--define-variable=prefix=' + dest(d, a['prefix']),
                            '--cflags', '--libs', 'mlagw'], env=env, capture_output=True,
                           text=True, check=True).stdout.split()
    src, exe = os.path.join(tmp, 'uses_mlagw.c'), os.path.join(tmp, 'uses_mlagw')
    with open(src, 'w') as f:
        f.write('#include <stdio.h>\n#include <mlagw/envelope.h>\n#include <mlagw/receipt.h>\n'
                'int main(void) { mla_diag d = {MLA_OK, ""};\n'
                '  if (mla_crypto_init(&d) != MLA_OK) return 1;\n'
                '  puts(mla_errname(MLA_ERR_CONFIG)); mla_crypto_shutdown(); return 0; }\n')
    # a sanitizer build's library needs the sanitizer's runtime
    san = ['-fsanitize=' + a['sanitize']] if a['sanitize'] not in ('', 'none') else []
    p = subprocess.run([a['cc'], '-std=c11', '-Werror', '-o', exe, src] + flags + san, capture_output=True,
                       text=True)
    check(p.returncode == 0, 'compiling against the installed library: %s' % p.stderr)
    p = subprocess.run([exe], capture_output=True, text=True,
                       env=dict(os.environ, ASAN_OPTIONS='detect_leaks=0'))
    check(p.returncode == 0 and p.stdout.strip(), 'program on libmlagw.a: %r' % (p,))


def check_unit(a, d, tmp):
    tool = shutil.which('systemd-analyze')
    if tool is None:
        print('systemd-analyze not found: unit not verified')
        return
    with open(dest(d, os.path.join(a['unitdir'], 'mlagwd.service'))) as f:
        unit = f.read().replace(a['sbindir'] + '/mlagwd', dest(d, a['sbindir']) + '/mlagwd')
    path = os.path.join(tmp, 'mlagwd.service')
    with open(path, 'w') as f:
        f.write(unit)
    p = subprocess.run([tool, 'verify', '--man=no', path], capture_output=True, text=True)
    check(p.returncode == 0 and not p.stderr.strip(), 'systemd-analyze verify: %s' % p.stderr)
    p = subprocess.run([tool, 'security', '--offline=true', '--threshold=20', path],
                       capture_output=True, text=True)
    score = re.search(r'Overall exposure level for mlagwd.service: ([0-9.]+)', p.stdout)
    check(p.returncode == 0 and score and float(score.group(1)) <= 2.0,
          'systemd-analyze security: %s' % (score.group(0) if score else p.stdout[-500:]))
    print('systemd-analyze security: %s' % score.group(0))


def check_example(a, d, mlagw, mlagwd, tmp):
    """The example configuration, copied with a PKI beside it, passes --check."""
    etc = os.path.join(tmp, 'etc-mlagw')
    os.makedirs(etc)
    shutil.copy(dest(d, os.path.join(a['sysconfdir'], 'mlagw/mlagwd.conf.example')),
                os.path.join(etc, 'mlagwd.conf'))
    for s in ('ES', 'CO'):
        subprocess.run([mlagw, 'pki', 'init', '--state', s, '--out', os.path.join(etc, 'pki'),
                        '--rsa-bits', '2048'], check=True, capture_output=True, timeout=60)
    p = subprocess.run([mlagwd, '-c', os.path.join(etc, 'mlagwd.conf'), '--check'],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and 'configuration and keys OK' in p.stdout,
          'mlagwd --check of the example: %s%s' % (p.stdout, p.stderr))


def notify_socket(tmp):
    path = os.path.join(tmp, 'notify.sock')
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(20)
    return s, path


def expect_notify(sock, want):
    got = sock.recv(4096).decode()
    check(got == want, 'NOTIFY_SOCKET: %r, wanted %r' % (got, want))


def exchange(mlagw, mlagwd, tmp):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    for g in (es, co):
        g.write_config()
    sock, path = notify_socket(tmp)
    open(co.log, 'ab').close()  # its stderr: the file "the journal" is, by device and inode
    st = os.stat(co.log)
    co.start(wait=False, env={'JOURNAL_STREAM': '%d:%d' % (st.st_dev, st.st_ino)})
    es.start(wait=False, env={'NOTIFY_SOCKET': path})
    expect_notify(sock, 'READY=1')
    es.wait_ready()
    co.wait_ready()
    mid = es.submit('CO', doc=b'<Request>from the installed tree</Request>')['message_id']
    wait_until(lambda: es.outbox([mid]).get(mid, {}).get('state') == DELIVERED, 30,
               msg='delivered')
    row = es.outbox([mid])[mid]
    r = parse_receipt(row['receipt'])
    check(r['outcome'] == 'accepted' and r['message_id'] == mid and r['receiver'] == 'CO'
          and r['digest'] == row['digest'], 'receipt %r' % r)
    check(co.inbox()[mid]['envelope'] == es.outbox_envelope(mid), 'received bytes differ')
    os.kill(es.proc.pid, signal.SIGHUP)
    expect_notify(sock, 'RELOADING=1')
    expect_notify(sock, 'READY=1')
    net.stop_all()
    expect_notify(sock, 'STOPPING=1')
    def daemon_lines(g):  # what the running daemon wrote (not --init's result line)
        return [l for l in g.log_text().split('--- start ---\n', 1)[1].splitlines() if l]
    lines = daemon_lines(co)
    check(lines and all(re.match(r'<[3467]>(debug|info|warn|error) CO ', l) for l in lines),
          'CO journal lines: %r' % lines[:5])
    check(any(l.startswith('<6>info CO started ') for l in lines), 'no started line: %r' % lines)
    check(all(re.match(r'\d{4}-\d\d-\d\dT[0-9:.]+Z (debug|info|warn|error) ES ', l)
              for l in daemon_lines(es)), 'ES (stderr) lines lack their time')
    check(any(' info ES reloaded msg=- generation=1 ' in l for l in daemon_lines(es)),
          'ES did not reload on SIGHUP')


def main():
    a = dict(zip(ARGS, sys.argv[1:]))
    check(len(a) == len(ARGS), __doc__)
    tmp = tempfile.mkdtemp(prefix='mlagw-install-')
    d = os.path.join(tmp, 'dest')
    ok = False
    try:
        install(a, d)
        check_layout(a, d)
        check_library(a, d, tmp)
        check_unit(a, d, tmp)
        mlagw, mlagwd = dest(d, a['bindir']) + '/mlagw', dest(d, a['sbindir']) + '/mlagwd'
        for exe, name in ((mlagw, 'mlagw'), (mlagwd, 'mlagwd')):
            p = subprocess.run([exe, '--version'], capture_output=True, text=True)
            check(p.returncode == 0 and re.fullmatch(name + r' \d+\.\d+\.\d+\n', p.stdout),
                  '%s --version: %r' % (name, p))
        check_example(a, d, mlagw, mlagwd, tmp)
        sys.argv[1:] = [mlagw, mlagwd]  # gwnet.run: logs on failure, daemons stopped
        ok = True
    finally:
        if not ok:
            print('(installed tree kept: %s)' % d)
    run(lambda m, md: exchange(m, md, tmp))


main()
