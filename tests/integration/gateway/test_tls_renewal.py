"""TLS identity renewal on the sending side: ES replaces its TLS certificate and key and
reloads; no exchange then travels over a connection opened under the old key (the relay gives
curl its identity through the SSL_CTX, so curl cannot match connections on it). CO pins ES's
old key, so only such a reused connection could deliver; once CO pins the new key, the
message is delivered over a new connection with the new key."""
import base64
import hashlib
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def sh(*args, data=None):
    return subprocess.run(args, input=data, check=True, capture_output=True).stdout


def pin(crt):
    pub = sh('openssl', 'x509', '-in', crt, '-pubkey', '-noout')
    der = sh('openssl', 'pkey', '-pubin', '-outform', 'der', data=pub)
    return 'sha256//' + base64.b64encode(hashlib.sha256(der).digest()).decode()


def new_tls(net, d):
    """A second TLS certificate and key for ES, issued by ES's root like the first."""
    key, csr, crt, ext = [os.path.join(d, n) for n in ('tls2.key', 'tls2.csr', 'tls2.crt', 'ext')]
    with open(ext, 'w') as f:
        f.write('basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n'
                'extendedKeyUsage=serverAuth,clientAuth\n'
                'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
    sh('openssl', 'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
       '-nodes', '-keyout', key, '-subj', '/C=ES/O=ES (test PKI)/CN=ES gateway TLS 2',
       '-out', csr)
    sh('openssl', 'x509', '-req', '-in', csr, '-CA', net.pki('ES', 'root.crt'), '-CAkey',
       net.pki('ES', 'root.key'), '-CAcreateserial', '-days', '30', '-extfile', ext,
       '-out', crt)
    return crt, key


def replace(src, dst, mode):
    with open(src, 'rb') as s, open(dst, 'wb') as d:
        d.write(s.read())
    os.chmod(dst, mode)


def reload(g, n):
    g.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: g.log_text().count(' reloaded ') >= n, 10, msg='%s reloaded' % g.state)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    es, co = net['ES'], net['CO']
    co.overrides = {'peer ES': {'tls_pin': pin(es.pki('tls.crt'))}}
    net.start_all()
    a = es.submit('CO')['message_id']
    wait_until(lambda: es.all_in_state([a], DELIVERED), 20, msg='delivery before the renewal')
    crt, key = new_tls(net, es.dir)
    replace(crt, es.pki('tls.crt'), 0o644)
    replace(key, es.pki('tls.key'), 0o600)
    reload(es, 1)
    # right after the reload (fresh connections), and seconds later (older ones too old)
    waiting = []
    for pause in (0.1, 3.5):
        time.sleep(pause)
        before = co.log_text().count('pin mismatch')
        waiting.append(es.submit('CO')['message_id'])
        wait_until(lambda: co.log_text().count('pin mismatch') > before, 10,
                   msg='a new connection with the new key')
        time.sleep(1.0)
        check(not es.all_in_state(waiting[-1:], DELIVERED),
              'delivered after %.1f s over a connection opened with the old key' % pause)
    co.write_config(overrides={'peer ES': {'tls_pin': pin(es.pki('tls.crt'))}})
    reload(co, 1)
    wait_until(lambda: es.all_in_state(waiting, DELIVERED), 30, msg='delivery with the new key')
    check(co.inbox_counts() == {m: 1 for m in [a] + waiting}, 'CO inbox %r' % co.inbox_counts())
    net.stop_all()


run(main)
