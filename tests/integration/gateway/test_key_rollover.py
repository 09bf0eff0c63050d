"""A key rollover of every key under load (protocol/SPEC.md 18.9, issue 16 §3): while ES and
CO exchange a burst both ways, CO prepares new TLS, signing, encryption and audit keys with
`mlagw pki renew`, announces them in its directory entry (next, next_from a few seconds on),
the publisher signs the new serial, both gateways load it, CO switches to the new keys by a
reload keeping its old encryption key (old_encrypt), and at next_from ES seals for CO's new
encryption certificate without a reload of its own. Every message is delivered exactly once;
envelopes sealed for the old and for the new encryption certificate both open at CO; CO's
envelopes and receipts signed with the old and the new key verify at ES; both exported audit
bundles verify offline with the roots alone across the rollover."""
import base64
import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from test_directory import Directory, install, log_has  # noqa: E402
import test_api  # noqa: E402

USES = [('tls', 'tls'), ('signing', 'sign'), ('encryption', 'encrypt'), ('audit', 'audit')]


def der_name(crt):
    der = subprocess.run(['openssl', 'x509', '-in', crt, '-outform', 'der'], check=True,
                         capture_output=True).stdout
    return 'sha256:' + hashlib.sha256(der).hexdigest()


def key_name(envelope):
    m = re.search(rb'<(?:\w+:)?KeyName>([^<]+)</', envelope)
    check(m is not None, 'no KeyName in an envelope')
    return m.group(1).decode()


def agency_api(gw):
    port, tok = free_port(), secrets.token_urlsafe(32)
    gw.overrides['api'] = {'listen': '127.0.0.1:%d' % port, 'token': 'agency %s-agency sha256:%s'
                           % (gw.state.lower(), hashlib.sha256(tok.encode()).hexdigest())}
    return test_api.Api(gw, port, {'agency': ('%s-agency' % gw.state.lower(), tok)}, None)


def burst(gw, to, stop, acked, docs):
    """Submissions from gw to `to` until stop, each with its own document."""
    i = 0
    while not stop.is_set():
        doc = ('<Request>%s to %s #%d</Request>' % (gw.state, to, i)).encode()
        code, body = gw.http('POST', '/local/v1/submit', doc,
                             {'X-MLA-To': to, 'X-MLA-Kind': 'mla'}, timeout=30)
        check(code == 202, '%s submit: %d %r' % (gw.state, code, body[:200]))
        mid = json.loads(body)['message_id']
        acked.append(mid)
        docs[mid] = doc
        i += 1
        time.sleep(0.02)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='300ms')
    es, co = net['ES'], net['CO']
    api = agency_api(co)
    d = Directory(net, ['ES', 'CO'])
    files = {s: os.path.join(net.dir, s.lower() + '-directory.xml') for s in ('ES', 'CO')}
    d1 = d.publish(1)
    for s in ('ES', 'CO'):
        install(d1, files[s])
        net[s].overrides['directory'] = {'file': files[s], 'publisher': 'ES'}
        net[s].write_config(peers=[])
    for g in (es, co):
        g.start(wait=False)
    for g in (es, co):
        g.wait_ready()

    stop, acked, docs = threading.Event(), {'ES': [], 'CO': []}, {}
    threads = [threading.Thread(target=burst, args=(es, 'CO', stop, acked['ES'], docs)),
               threading.Thread(target=burst, args=(co, 'ES', stop, acked['CO'], docs))]
    for t in threads:
        t.start()
    wait_until(lambda: len(acked['ES']) >= 30 and len(acked['CO']) >= 30, 60,
               msg='the burst under way')

    # 1. CO prepares its new keys (the test CA issues their certificates)
    net.cli('pki', 'renew', '--state', 'CO', '--dir', net.pki_dir, '--rsa-bits', '2048')
    new = os.path.join(net.pki_dir, 'CO', 'next')
    for _, f in USES:
        check(os.path.exists(os.path.join(new, f + '.csr')) and
              os.stat(os.path.join(new, f + '.key')).st_mode & 0o077 == 0,
              'pki renew did not write %s.csr and a private %s.key' % (f, f))

    # 2. CO announces them, taking over 8 s from now; the publisher signs serial 2
    takeover = time.time() + 8
    at = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(takeover))
    d.entry('CO', certs={u: {'current': co.pki(f + '.crt'), 'next': os.path.join(new, f + '.crt'),
                             'next_from': at} for u, f in USES})
    d2 = d.publish(2)
    for s in ('ES', 'CO'):
        install(d2, files[s])
        net[s].proc.send_signal(signal.SIGHUP)
    wait_until(lambda: all(log_has(g, 'serial=2') for g in (es, co)), 20,
               msg='serial 2 adopted by both gateways')

    # 3. CO switches to its new keys before the takeover, keeping its old encryption key
    co.overrides['keys'] = {k + '_cert' if k != 'encrypt' else 'encrypt_cert':
                            os.path.join(new, f + '.crt') for k, f in
                            [('tls', 'tls'), ('sign', 'sign'), ('encrypt', 'encrypt'),
                             ('audit', 'audit')]}
    co.overrides['keys'].update({k + '_key': os.path.join(new, k + '.key')
                                 for k in ('tls', 'sign', 'encrypt', 'audit')})
    co.overrides['keys']['old_encrypt'] = '%s, %s' % (co.pki('encrypt.crt'),
                                                      co.pki('encrypt.key'))
    co.write_config(peers=[])
    co.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: 'audit-key-changed' in co.log_text(), 20, msg='CO on its new keys')
    check(time.time() < takeover, 'CO switched after the takeover: test too slow')

    # 4. ES takes CO's new encryption certificate over at next_from, by itself
    wait_until(lambda: log_has(es, 'directory-takeover'), 30, msg='ES taking the new '
               'encryption certificate over')
    n0 = len(acked['ES'])
    wait_until(lambda: len(acked['ES']) >= n0 + 30, 60, msg='the burst after the takeover')
    stop.set()
    for t in threads:
        t.join()
    print('ok - CO rolled all four keys over under a burst both ways')

    for s in ('ES', 'CO'):
        wait_until(lambda: net[s].all_in_state(acked[s], DELIVERED), 120,
                   msg='every message of %s delivered' % s)
        other = net['CO' if s == 'ES' else 'ES']
        counts = other.inbox_counts()
        check(all(counts.get(m) == 1 for m in acked[s]),
              '%s: not every message received exactly once' % s)
    old_name, new_name = der_name(co.pki('encrypt.crt')), der_name(os.path.join(new,
                                                                                'encrypt.crt'))
    names = [key_name(es.outbox_envelope(m)) for m in acked['ES']]
    check(set(names) == {old_name, new_name}, 'key names %r' % set(names))
    first_new = names.index(new_name)
    check(all(n == new_name for n in names[first_new:]), 'the old certificate used after '
          'the takeover')
    print('ok - %d + %d messages delivered exactly once; %d sealed for the old encryption '
          'certificate, %d for the new' % (len(acked['ES']), len(acked['CO']), first_new,
                                           len(names) - first_new))

    # opened at CO: one sealed for each certificate
    for mid in (acked['ES'][0], acked['ES'][-1]):
        code, _, out = api.call('GET', '/api/v1/inbox/%s/document?reason=rollover+check' % mid,
                                role='agency')
        check(code == 200 and base64.b64decode(json.loads(out)['document_b64']) == docs[mid],
              'CO cannot open %s: %d %r' % (mid, code, out[:200]))
    print('ok - CO opens envelopes sealed for its old and its new encryption certificate')

    net.stop_all()
    trust = os.path.join(net.dir, 'trust')
    os.makedirs(trust, exist_ok=True)
    for s in ('ES', 'CO'):
        subprocess.run(['cp', net.pki(s, 'root.crt'), os.path.join(trust, s + '.crt')],
                       check=True)
    for s, cert in (('ES', es.pki('audit.crt')), ('CO', os.path.join(new, 'audit.crt'))):
        out = os.path.join(net.dir, s + '.mab')
        net.cli('audit', 'export', '--store', net[s].store, '--cert', cert, '--out', out)
        p = net.cli('audit', 'verify', out, '--trust', trust, '--json', check_rc=False)
        rep = json.loads(p.stdout.decode() or '{}')
        check(p.returncode == 0 and rep.get('verified'), '%s bundle: exit %d %r' %
              (s, p.returncode, rep.get('failures')))
    p = net.cli('audit', 'verify', os.path.join(net.dir, 'ES.mab'),
                os.path.join(net.dir, 'CO.mab'), '--trust', trust, check_rc=False)
    check(p.returncode == 0, 'the two bundles together: exit %d %s' %
          (p.returncode, p.stdout.decode()[-2000:]))
    print('ok - both audit bundles verify offline across the rollover, alone and together')
    net.cleanup()


if __name__ == '__main__':
    run(main)
