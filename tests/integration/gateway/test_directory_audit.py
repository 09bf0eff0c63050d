"""The directory's history in the audit log (protocol/SPEC.md 14, 15, 18.6): each serial a
gateway adopts is one directory-adopted entry (version 8) naming the publisher, the serial,
the validity and the SHA-256 of the signed document, written once per serial (a reload or
restart on the same serial adds none); the documents go into the audit bundle (format 5),
which verifies offline; a bundle with a document removed or altered fails verify naming
it; the directory in force at a time is read from a bundle."""
import hashlib
import json
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from test_directory import Directory, install, directory_config, log_has  # noqa: E402


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def adopted(gw):
    return [e for e in gw.audit() if e['event'] == 'directory-adopted']


def records(data):
    """The bundle's first line and its records as [type, name, bytes]."""
    nl = data.index(b'\n')
    magic, pos, recs = data[:nl + 1], nl + 1, []
    while pos < len(data):
        nl = data.index(b'\n', pos)
        t, name, n = data[pos:nl].decode().split(' ')
        recs.append([t, name, data[nl + 1:nl + 1 + int(n)]])
        pos = nl + 2 + int(n)
    return magic, recs


def rebuild(magic, recs):
    out = bytearray(magic)
    for t, name, body in recs:
        out += b'%s %s %d\n' % (t.encode(), name.encode(), len(body)) + body + b'\n'
    return bytes(out)


def set_directories(recs, n):
    m = json.loads(recs[0][2])
    m['counts']['directories'] = n
    recs[0][2] = json.dumps(m).encode()


def verify(net, path, trust):
    p = net.cli('audit', 'verify', path, '--trust', trust, '--json', check_rc=False)
    return p.returncode, json.loads(p.stdout.decode() or '{}')


def refused(net, trust, data, family, what, label):
    path = os.path.join(net.dir, 'tampered.mab')
    with open(path, 'wb') as f:
        f.write(data)
    rc, rep = verify(net, path, trust)
    msgs = [x['message'] for x in rep.get('failures', []) if x['check'] == family]
    check(rc == 1 and any(what in m for m in msgs), '%s: exit %d %r' % (label, rc,
                                                                       rep.get('failures')))


def reload_to(gw, serial):
    gw.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: log_has(gw, 'directory-adopted msg=- serial=%d' % serial), 20,
               msg='serial %d adopted' % serial)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es = net['ES']
    d = Directory(net, ['ES', 'CO'])
    d1, d2 = d.publish(1), d.publish(2)
    es_file = os.path.join(net.dir, 'es-directory.xml')
    install(d1, es_file)
    directory_config(es, es_file)
    es.start()
    es.stop()
    es.start()
    a = adopted(es)
    check(len(a) == 1, 'after a restart on serial 1: %d entries' % len(a))
    e = a[0]
    check(e['directory-serial'] == '1' and e['directory-publisher'] == 'ES' and
          e['directory-sha256'] == hashlib.sha256(read(d1)).hexdigest() and
          e['directory-expires'] == '2099-01-01T00:00:00Z' and e['reason'] == 'start',
          'entry %r' % e)
    install(d2, es_file)
    reload_to(es, 2)
    n = es.log_text().count(' reloaded msg=')
    es.proc.send_signal(signal.SIGHUP)  # the same serial again: nothing new
    wait_until(lambda: es.log_text().count(' reloaded msg=') > n, 20, msg='second reload')
    es.stop()
    es.start()
    a = adopted(es)
    check([x['directory-serial'] for x in a] == ['1', '2'], 'serials %r' % a)
    check(a[1]['reason'] == 'reload', 'entry %r' % a[1])
    print('ok - one directory-adopted entry per serial, across reloads and restarts')

    # killed around a reload to serial 3: whether or not the reload's transaction committed,
    # the next start leaves exactly one entry for serial 3
    d3 = d.publish(3)
    install(d3, es_file)
    es.proc.send_signal(signal.SIGHUP)
    es.kill()
    es.start()
    a = adopted(es)
    check([x['directory-serial'] for x in a] == ['1', '2', '3'], 'after a kill %r' % a)
    es.stop()
    es.start()
    check(len(adopted(es)) == 3, 'a restart added an entry')
    print('ok - a kill around an adoption leaves exactly one entry for the serial')
    es.stop()

    trust = os.path.join(net.dir, 'trust')
    os.makedirs(trust)
    for st in ('ES', 'CO'):
        shutil.copy(net.pki(st, 'root.crt'), os.path.join(trust, st + '.crt'))
    out = os.path.join(net.dir, 'ES.mab')
    net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'), '--out', out)
    data = read(out)
    magic, recs = records(data)
    check(magic == b'mlagw-audit-bundle/5\n', 'format %r' % magic)
    docs = {name: body for t, name, body in recs if t == 'directory'}
    check(set(docs) == {hashlib.sha256(read(x)).hexdigest() for x in (d1, d2, d3)} and
          all(hashlib.sha256(b).hexdigest() == n for n, b in docs.items()),
          'directory records %r' % sorted(docs))
    check(json.loads(recs[0][2])['counts']['directories'] == 3, 'manifest counts')
    rc, rep = verify(net, out, trust)
    check(rc == 0 and rep['verified'] and rep['checks']['directories'] == {'ok': 3, 'failed': 0},
          'verify: exit %d %r' % (rc, rep))
    print('ok - the bundle (format 5) carries the three directory documents and verifies '
          'offline')

    def at(t):
        p = net.cli('audit', 'verify', out, '--trust', trust, '--json', '--directory-at', t)
        return json.loads(p.stdout.decode())['directory_at']
    a = adopted(es)
    t1, t2, t3 = (x['time'][:19] + 'Z' for x in a)
    check(at('2020-01-01')['serial'] is None, 'in force before any: %r' % at('2020-01-01'))
    got = at(t2)
    if t2 != t3:
        check(got['serial'] == '2' and got['document'] == 'verified' and
              got['sha256'] == hashlib.sha256(read(d2)).hexdigest(), 'at %s: %r' % (t2, got))
    if t1 != t2:
        check(at(t1)['serial'] == '1', 'at %s: %r' % (t1, at(t1)))
    check(at(t3)['serial'] == '3', 'at %s: %r' % (t3, at(t3)))
    text = net.cli('audit', 'verify', out, '--trust', trust, '--directory-at', t3).stdout
    check(b'directory at %s: serial 3 of ES' % t3.encode() in text, 'text %r' % text)
    print('ok - the directory in force at a time is read from the verified bundle')

    h1 = hashlib.sha256(read(d1)).hexdigest()
    # removed: the entry of serial 1 names a document the bundle lacks
    cut = [r for r in recs if not (r[0] == 'directory' and r[1] == h1)]
    set_directories(cut, 2)
    refused(net, trust, rebuild(magic, cut), 'directories', 'which the bundle does not hold',
            'document removed')
    # altered in place: its digest is no longer its name
    alt = [list(r) for r in recs]
    for r in alt:
        if r[0] == 'directory' and r[1] == h1:
            r[2] = r[2].replace(b'Central authority of CO', b'Central authority of XX')
    refused(net, trust, rebuild(magic, alt), 'directories', 'not its name (altered)',
            'document altered')
    # altered and renamed to its new digest: named by no entry, and serial 1's is missing
    for r in alt:
        if r[0] == 'directory' and r[1] == h1:
            r[1] = hashlib.sha256(r[2]).hexdigest()
    alt = [r for r in alt if r[0] != 'directory'] + sorted(
        (r for r in alt if r[0] == 'directory'), key=lambda r: r[1])
    refused(net, trust, rebuild(magic, alt), 'directories', 'no directory-adopted entry names',
            'document renamed')
    print('ok - a directory document removed or altered fails verify, naming it')

    # the store check covers the adopted directories: hashes, and signatures with the roots
    def store_check(*extra):
        p = net.cli('store', 'check', '--store', es.store, '--json', *extra, check_rc=False)
        return p.returncode, json.loads(p.stdout.decode())
    rc, rep = store_check('--trust', trust, '--publisher', 'ES')
    check(rc == 0 and rep['directories'] == {'checked': 3, 'bad': 0, 'signatures': True,
                                             'error': None}, 'store check %d %r' % (rc, rep))
    rc, rep = store_check('--trust', trust, '--publisher', 'CO')  # another publisher: refused
    check(rc == 1 and rep['directories']['bad'] == 3, 'wrong publisher %d %r' % (rc, rep))
    es.fault('dir-doc-alter')
    rc, rep = store_check()
    check(rc == 1 and rep['directories']['bad'] == 1 and not rep['directories']['signatures']
          and 'directory serial 1: its SHA-256 is not its key' in rep['directories']['error'],
          'altered row: %d %r' % (rc, rep))
    print('ok - mlagw store check re-hashes every adopted directory and, given the roots, '
          're-verifies its signatures')
    net.stop_all()


if __name__ == '__main__':
    run(main)
