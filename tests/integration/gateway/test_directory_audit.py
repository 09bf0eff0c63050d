"""The directory's history in the audit log (protocol/SPEC.md 14, 15, 18.6): each serial a
gateway adopts is one directory-adopted entry (version 8) naming the publisher, the serial,
the validity and the SHA-256 of the signed document, written once per serial (a reload or
restart on the same serial adds none); the documents go into the audit bundle (format 5),
which verifies offline; a bundle with a document removed or altered fails verify naming
it; the directory in force at a time is read from a bundle."""
import hashlib
import json
import os
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
    es.stop()
    net.stop_all()


if __name__ == '__main__':
    run(main)
