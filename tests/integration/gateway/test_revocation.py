"""Revocation (protocol/SPEC.md 18.7) against a real `openssl ocsp` responder per State on
loopback, answering from the index that `mlagw pki revoke` keeps, and a CRL made by `mlagw
pki crl`: a good exchange; OCSP stapling on the peer listener, used by the relay; an unreachable responder refused (fail closed, 503, alerting)
then let through (fail open, alerting in /healthz and /metrics); a revoked signing
certificate refused with a negative receipt naming it and its revocation time; a revoked
TLS certificate refused at admission (403) and on the relay's handshake; a revoked
directory signer (from the CRL) stopping the start."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_directory as td  # noqa: E402

RESPONDERS = []


class Responder:
    """`openssl ocsp` for one State: its index, signed by its root, answers valid 1 min."""

    def __init__(self, net, state, port):
        self.net, self.state, self.port, self.proc = net, state, port, None
        self.starts = 0

    def start(self):
        p = self.net.pki
        path = os.path.join(self.net.dir, 'ocsp-%s.log' % self.state)
        if os.path.exists(path):
            with open(path, 'rb') as f:
                self.starts = f.read().count(b'waiting for OCSP client connections')
        self.log = open(os.path.join(self.net.dir, 'ocsp-%s.log' % self.state), 'ab')
        self.proc = subprocess.Popen(
            ['openssl', 'ocsp', '-index', p(self.state, 'index.txt'), '-port', str(self.port),
             '-rsigner', p(self.state, 'root.crt'), '-rkey', p(self.state, 'root.key'),
             '-CA', p(self.state, 'root.crt'), '-nmin', '1', '-ignore_err'],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        wait_until(self.listening, 10, msg='OCSP responder %s' % self.state)
        RESPONDERS.append(self)

    def listening(self):
        # not a probe connection: the responder serves one connection at a time and would
        # wait on a silent one
        with open(os.path.join(self.net.dir, 'ocsp-%s.log' % self.state), 'rb') as f:
            return f.read().count(b'waiting for OCSP client connections') > self.starts

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.log.closed:
            self.log.close()


def serial(net, state, name):
    out = subprocess.run(['openssl', 'x509', '-noout', '-serial', '-in', net.pki(state, name)],
                         capture_output=True, check=True).stdout.decode()
    return out.strip().split('=', 1)[1]


def restart_fresh(gw, overrides=None):
    """A restart that forgets every answer (memory and the disk cache)."""
    if gw.running():
        gw.stop()
    shutil.rmtree(gw.store + '.revocation', ignore_errors=True)
    if overrides is not None:
        gw.write_config(overrides=overrides)
    gw.start()


def post_until(net, frm, to, env, want, timeout=15):
    """Posts env until the answer is not a 503 (revocation status being fetched)."""
    got = []

    def answered():
        s, body = net.post(frm, to, env)
        got[:] = [s, body]
        return s != 503
    wait_until(answered, timeout, 0.3, msg='an answer other than 503')
    check(got[0] == want, 'HTTP %d %r, want %d' % (got[0], got[1][:300], want))
    return got[1]


def revoke(net, resp, state, name, at=None):
    """`mlagw pki revoke`, then the State's responder restarted: `openssl ocsp` looks for a
    changed index before it waits for a connection, so the next answer could be stale."""
    args = ['pki', 'revoke', '--state', state, '--out', net.pki_dir, '--cert',
            net.pki(state, name)]
    net.cli(*(args + (['--at', str(at)] if at else [])))
    resp[state].stop()
    resp[state] = Responder(net, state, resp[state].port)
    resp[state].start()


def rev_config(fail='closed', extra=None):
    ov = {'revocation': {'fail': fail, 'refresh': '2s', 'timeout': '1s'},
          'audit': {'peer_head_wait': '0s'}}
    ov.update(extra or {})
    return ov


def pki_with_responders(net):
    """ES's and CO's PKI again, the leaves naming their State's responder, and the
    responders started: ({state: port}, {state: Responder})."""
    ports = {s: free_port() for s in ('ES', 'CO')}
    for s in ('ES', 'CO'):
        net.cli('pki', 'init', '--state', s, '--out', net.pki_dir, '--rsa-bits', '2048',
                '--force', '--ocsp-url', 'http://127.0.0.1:%d/' % ports[s])
    resp = {s: Responder(net, s, ports[s]) for s in ports}
    for r in resp.values():
        r.start()
    return ports, resp


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    ports, resp = pki_with_responders(net)
    d = td.Directory(net, ['ES', 'CO'])  # signed now, used at the end
    dir_file = os.path.join(net.dir, 'directory.xml')
    td.install(d.publish(1), dir_file)
    co = net['CO']
    api = td.admin_api(co)
    co.overrides.update(rev_config())
    co.write_config()
    co.start()

    # good: every certificate's status fetched from the responders
    body = post_until(net, 'ES', 'CO', net.seal('ES', 'CO'), 200)
    check(parse_receipt(body)['outcome'] == 'accepted', 'good: %r' % body[:300])
    code, h = td.healthz(api)
    check(h['revocation']['revoked'] == 0 and h['revocation']['fail'] == 'closed' and
          'problem' not in h['revocation'], 'good: health %r' % h['revocation'])
    print('ok - good certificates pass with answers from openssl ocsp')

    # stapling: ES's listener staples its own answer; with ES's responder gone, CO's relay
    # still gets through the handshake on the staple (then ES's receipt signer is unknown)
    es = net['ES']
    es.overrides.update(rev_config())
    es.write_config()
    es.start()

    def stapled():
        p = subprocess.run(['openssl', 's_client', '-connect', '127.0.0.1:%d' % es.port,
                            '-status', '-cert', net.pki('CO', 'tls.crt'), '-key',
                            net.pki('CO', 'tls.key'), '-CAfile', net.pki('ES', 'root.crt')],
                           input=b'', capture_output=True, timeout=10)
        return b'OCSP Response Status: successful' in p.stdout
    wait_until(stapled, 10, 0.3, msg='ES staples its OCSP answer')
    resp['ES'].stop()
    restart_fresh(co)
    co.submit('ES')
    wait_until(lambda: 'receipt-invalid' in co.log_text(), 15, msg='CO past the handshake')
    check(not re.search(r'peer-tls-refused .*side=client', co.log_text()),
          'stapling: CO refused ES\'s TLS certificate')
    es.stop()
    print('ok - the listener staples its OCSP answer; the relay uses a peer\'s staple')

    # the responder unreachable, fail closed: 503 while unknown, alerting
    restart_fresh(co)
    env = net.seal('ES', 'CO')
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3:
        s, _ = net.post('ES', 'CO', env)
        check(s == 503, 'fail closed: HTTP %d, want 503' % s)
        time.sleep(0.3)
    code, h = td.healthz(api)
    check(h['revocation']['unknown_refused'] > 0 and 'problem' in h['revocation'] and
          h['status'] != 'ok', 'fail closed: health %r' % h)
    check('revocation-unknown' in co.log_text() and 'revocation-fetch-failed' in
          co.log_text(), 'fail closed: not logged')
    print('ok - unreachable responder: refused (fail closed), alerting')

    # fail open (a reload): let through, still alerting
    co.write_config(overrides=rev_config('open'))
    co.proc.send_signal(signal.SIGHUP)
    body = post_until(net, 'ES', 'CO', env, 200)
    check(parse_receipt(body)['outcome'] == 'accepted', 'fail open: %r' % body[:300])
    code, h = td.healthz(api)
    check(h['revocation']['unknown_passed'] > 0 and h['revocation']['fail'] == 'open' and
          h['status'] != 'ok', 'fail open: health %r' % h)
    code, _, metrics = api.call('GET', '/metrics', role='admin')
    m = re.search(rb'mlagw_revocation_unknown_passed_total (\d+)', metrics)
    check(code == 200 and m and int(m.group(1)) > 0, 'fail open: metrics')
    print('ok - unreachable responder: let through (fail open), alerting')

    # a revoked signing certificate: a negative receipt naming it and when
    revoke(net, resp, 'ES', 'sign.crt', at=1764806400)
    restart_fresh(co, rev_config())
    body = post_until(net, 'ES', 'CO', net.seal('ES', 'CO'), 422)
    rc = parse_receipt(body)
    check(rc['outcome'] == 'rejected' and rc['error'] == 'revoked', 'signer: %r' % rc)
    check('revoked at 2025-12-04T00:00:00Z' in co.log_text() and
          serial(net, 'ES', 'sign.crt') in co.log_text(), 'signer: not named in the log')
    print('ok - revoked signing certificate refused, named with its revocation time')

    # revoked TLS certificates: at admission (403) and on the relay's handshake
    revoke(net, resp, 'ES', 'tls.crt')
    revoke(net, resp, 'CO', 'tls.crt')
    restart_fresh(co, rev_config())
    post_until(net, 'ES', 'CO', net.seal('ES', 'CO'), 403)
    check(re.search(r'peer-tls-refused .*error=revoked', co.log_text()), 'TLS: CO log')
    alerts = co.alerts('revoked')
    check(len(alerts) == 1 and serial(net, 'ES', 'tls.crt') in alerts[0]['detail'],
          'TLS: alerts %r' % alerts)
    es.start()
    es.submit('CO')
    wait_until(lambda: re.search(r'peer-tls-refused .*side=client error=revoked',
                                 es.log_text()), 15, msg='ES refuses CO\'s revoked TLS')
    print('ok - revoked TLS certificates refused by the listener and the relay')
    es.stop()

    # a revoked directory signer, from the State's CRL: the start stops naming it
    crl = net.cli('pki', 'crl', '--state', 'ES', '--out', net.pki_dir).stdout.decode().strip()
    co.stop()
    shutil.rmtree(co.store + '.revocation', ignore_errors=True)
    ov = rev_config(extra={'directory': {'file': dir_file, 'publisher': 'ES'}})
    ov['revocation'].update({'ocsp': 'off', 'crl': crl})
    co.write_config(overrides=ov, peers=[])
    td.start_fails(co, want='revoked at 2025-12-04T00:00:00Z')
    check('signer certificate C=ES' in co.log_text(), 'directory: signer not named')
    print('ok - revoked directory signer (CRL) stops the start')


def cleanup_and_run(m1, m2, body=None):
    """body (main) run, then every responder stopped."""
    try:
        (body or main)(m1, m2)
    finally:
        for r in RESPONDERS:
            r.stop()


if __name__ == '__main__':
    run(cleanup_and_run)
