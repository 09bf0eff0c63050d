"""Gateways run from the signed directory (protocol/SPEC.md 18.6): the peers' URLs and
encryption certificates come from it, a [peer CC] key overrides (logged); a tampered
directory stops the start naming why; a reload adopts a newer serial and refuses an older
one, also after a restart (the serial is held in the store); past the expiry the gateway
warns within the grace period and refuses traffic past it, naming the reason."""
import datetime
import hashlib
import json
import secrets
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from fakeclock import FakeClock  # noqa: E402
import test_api  # noqa: E402

DAY = 86400


def at(offset_s):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')


class Directory:
    """Each State describes and signs its entry; ES publishes."""

    def __init__(self, net, states):
        self.net = net
        self.dir = os.path.join(net.dir, 'directory')
        os.makedirs(self.dir, exist_ok=True)
        self.signed = {}
        self.signers = {}  # State -> (cert, key) signing its entry; default its sign.*
        for s in states:
            self.entry(s)

    def entry(self, s, kinds=('mla', 'evidence'), languages=('es', 'en'), certs=None):
        """certs: {use: {'current': path[, 'next': path, 'next_from': time]}} instead of
        the State's pki files (a key rollover announced, SPEC 18.9)."""
        n = self.net
        desc = {
            'state': s, 'valid_from': '2020-01-01T00:00:00Z',
            'valid_until': '2099-01-01T00:00:00Z',
            'gateways': ['https://127.0.0.1:%d' % n[s].port],
            'root': n.pki(s, 'root.crt'),
            'certificates': certs or {u: {'current': n.pki(s, f)} for u, f in [
                ('tls', 'tls.crt'), ('signing', 'sign.crt'), ('encryption', 'encrypt.crt'),
                ('audit', 'audit.crt')]},
            'authorities': [
                {'name': 'Central authority of ' + s, 'central': True,
                 'kinds': list(kinds), 'languages': list(languages)},
                {'name': 'Extradition office of ' + s, 'kinds': ['extradition'],
                 'languages': ['es']}],
            'urgent_contact': {'name': '24/7 desk', 'phone': '+1 555 0100'},
        }
        j = os.path.join(self.dir, s + '.json')
        with open(j, 'w') as f:
            json.dump(desc, f)
        unsigned = os.path.join(self.dir, s + '.entry.xml')
        self.signed[s] = os.path.join(self.dir, s + '.signed.xml')
        n.cli('directory', 'build', '--from', j, '-o', unsigned)
        signer = self.signers.get(s, (n.pki(s, 'sign.crt'), n.pki(s, 'sign.key')))
        n.cli('directory', 'sign', '--cert', signer[0], '--key', signer[1],
              '-o', self.signed[s], unsigned)

    def publish(self, serial, expires='2099-01-01T00:00:00Z', states=None):
        n = self.net
        unsigned = os.path.join(self.dir, 'unsigned-%d.xml' % serial)
        out = os.path.join(self.dir, 'dir-%d.xml' % serial)
        if os.path.exists(out):
            os.unlink(out)
        n.cli('directory', 'build', '--serial', str(serial), '--expires', expires,
              '--publisher', 'ES', '-o', unsigned,
              *[self.signed[s] for s in (states or sorted(self.signed))])
        n.cli('directory', 'sign', '--cert', n.pki('ES', 'sign.crt'), '--key',
              n.pki('ES', 'sign.key'), '-o', out, unsigned)
        return out


def install(src, dst):
    tmp = dst + '.tmp'
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def directory_config(gw, path, grace='1d', extra=None):
    ov = {'directory': {'file': path, 'publisher': 'ES', 'grace': grace}}
    ov.update(extra or {})
    gw.write_config(overrides=ov, peers=[])


def admin_api(gw):
    """The local API with an admin token, for /healthz and /metrics."""
    port, tok = free_port(), secrets.token_urlsafe(32)
    gw.overrides['api'] = {'listen': '127.0.0.1:%d' % port, 'token': 'admin %s-admin sha256:%s'
                           % (gw.state.lower(), hashlib.sha256(tok.encode()).hexdigest())}
    return test_api.Api(gw, port, {'admin': ('%s-admin' % gw.state.lower(), tok)}, None)


def healthz(api):
    code, _, out = api.call('GET', '/healthz', role='admin')
    return code, json.loads(out)


def health_dir(api):
    code, h = healthz(api)
    check(code == 200, 'healthz %d %r' % (code, h))
    return h['directory']


def log_has(gw, text):
    return text in gw.log_text()


def reload(gw):
    gw.proc.send_signal(signal.SIGHUP)


def start_fails(gw, env=None, want=''):
    gw.start(wait=False, env=env)
    rc = gw.proc.wait(60)
    check(rc != 0, '%s started with a bad directory' % gw.state)
    check(want in gw.log_text(), '%s log lacks %r' % (gw.state, want))


def exchange(net, frm, to, tag):
    mid = net[frm].submit(to, doc=('<Request>%s</Request>' % tag).encode())['message_id']
    wait_until(lambda: net[frm].outbox([mid]).get(mid, {}).get('state') == DELIVERED, 30,
               msg='%s delivered' % tag)
    return mid


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def refusals_before_sealing(net):
    """SPEC 18.6: no competent authority for the kind, a language the authority refuses."""
    es = net['ES']
    with open(os.path.join(REPO, 'demo', 'extradition-request.xml'), 'rb') as f:
        doc = f.read()
    check(b'<Language>es</Language>' in doc, 'the demo request states its language')
    before = len(es.outbox(blobs=False))
    j = es.submit('CO', kind='confiscation', doc=b'<Request>opaque</Request>', expect=400)
    check(j.get('code') == 'no-authority' and 'CO has no competent authority for '
          'confiscation in directory serial' in json.dumps(j), 'no-authority answer %r' % j)
    french = doc.replace(b'<Language>es</Language>', b'<Language>fr</Language>')
    j = es.submit('CO', kind='extradition', doc=french, expect=400)
    check(j.get('code') == 'language-refused' and "Extradition office of CO does not accept "
          "language 'fr' (accepts es)" in json.dumps(j), 'language-refused answer %r' % j)
    check(len(es.outbox(blobs=False)) == before, 'a refused submission was queued')
    check(log_has(es, 'error=no-authority') and log_has(es, 'error=language-refused'),
          'refusals not logged')
    # the same request with a Spanish translation attached goes; Spanish itself goes
    translated = french.replace(b'<Language>fr</Language>', b'<Language>fr</Language>'
                                b'<Translations><Language>es</Language></Translations>')
    exchange_doc(net, 'ES', 'CO', translated, 'extradition')
    exchange_doc(net, 'ES', 'CO', doc, 'extradition')
    # a kind the central authority lists, in a language it accepts (opaque: no language)
    exchange_doc(net, 'ES', 'CO', b'<Request>evidence</Request>', 'evidence')
    print('ok - no competent authority and a refused language are refused before sealing')


def exchange_doc(net, frm, to, doc, kind):
    mid = net[frm].submit(to, kind=kind, doc=doc)['message_id']
    wait_until(lambda: net[frm].outbox([mid]).get(mid, {}).get('state') == DELIVERED, 30,
               msg='%s delivered' % kind)


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    api = admin_api(net['ES'])
    d = Directory(net, ['ES', 'CO'])
    d1 = d.publish(1, expires=at(DAY))
    es_file = os.path.join(net.dir, 'es-directory.xml')
    co_file = os.path.join(net.dir, 'co-directory.xml')
    install(d1, es_file)
    install(d1, co_file)
    # ES overrides CO's url with the same address (logged); max_in_flight stays configuration
    directory_config(net['ES'], es_file, extra={'peer CO': {'url': net.peer_url('CO'),
                                                            'max_in_flight': '4'}})
    directory_config(net['CO'], co_file)
    for g in (net['ES'], net['CO']):
        g.start(wait=False)
    for g in (net['ES'], net['CO']):
        g.wait_ready()
    exchange(net, 'ES', 'CO', 'from the directory')
    exchange(net, 'CO', 'ES', 'and back')
    check(log_has(net['ES'], 'peer CO: url from configuration overrides the directory'),
          'override not logged')
    check(not log_has(net['CO'], 'overrides the directory'), 'CO logged an override')
    h = health_dir(api)
    check(h['serial'] == '1' and h['publisher'] == 'ES' and h['seconds_left'] > 0 and
          'warning' not in h, 'health directory %r' % h)
    print('ok - gateways started from a signed directory exchange messages; override logged')

    refusals_before_sealing(net)

    # a tampered directory: CO refuses to start, naming why
    net['CO'].stop()
    with open(d1, 'rb') as f:
        bad = f.read().replace(b'Central authority of CO', b'Central authority of XX')
    with open(co_file, 'wb') as f:
        f.write(bad)
    start_fails(net['CO'], want='does not verify')
    install(d1, co_file)
    net['CO'].start()
    print('ok - a tampered directory is refused at start')

    # reload: a newer serial adopted, an older one refused and the newer kept
    d2 = d.publish(2, expires=at(DAY))
    install(d2, es_file)
    reload(net['ES'])
    wait_until(lambda: health_dir(api)['serial'] == '2', 20,
               msg='serial 2 adopted')
    install(d1, es_file)
    reload(net['ES'])
    wait_until(lambda: log_has(net['ES'], 'serial went back: 1 is below the held 2'), 20,
               msg='older serial refused')
    check(health_dir(api)['serial'] == '2', 'the held directory changed')
    exchange(net, 'ES', 'CO', 'after a refused reload')
    # a replaced file is picked up without a signal within a minute: not waited for here
    net['ES'].stop()
    start_fails(net['ES'], want='serial went back: 1 is below the held 2')
    install(d2, es_file)
    net['ES'].start()
    print('ok - a newer serial is adopted on reload; an older one refused, also after a restart')

    # expiry: serial 3 expires in a day, grace one day; ES's clock moves on
    d3 = d.publish(3, expires=at(DAY))
    install(d3, es_file)
    net['ES'].stop()
    clock = FakeClock(net.dir, 'ES')
    net['ES'].start(env=clock.env())
    check(health_dir(api)['serial'] == '3', 'serial 3 at start')
    clock.set(DAY + DAY // 2)

    def warned():
        code, h = healthz(api)
        return 'warning' in h.get('directory', {}) and h['status'] != 'ok'
    wait_until(warned, 20, msg='warning in /healthz within grace')
    _, h = healthz(api)
    check('directory serial 3 expired at' in h['directory']['warning'], 'warning %r' % h)
    check(h['directory']['seconds_left'] < 0, 'seconds_left %r' % h['directory'])
    code, _, body = api.call('GET', '/metrics', role='admin')
    check(code == 200 and b'mlagw_directory_expiry_seconds -' in body, 'metrics gauge')
    net['ES'].submit('CO', doc=b'<Request>within grace</Request>')
    print('ok - within the grace period: warning in /healthz and /metrics, traffic goes on')

    clock.set(3 * DAY)

    def refused():
        code, h = healthz(api)
        return code == 503 and 'refusal' in h.get('directory', {})
    wait_until(refused, 20, msg='refusal past grace')
    j = net['ES'].submit('CO', doc=b'<Request>past grace</Request>', expect=503)
    msg = json.dumps(j)
    check('directory serial 3 expired at' in msg and 'grace ended at' in msg,
          'refusal names the reason: %r' % j)
    check(log_has(net['ES'], 'grace ended at'), 'refusal not logged')
    # a start past the grace period is refused too
    net['ES'].stop()
    start_fails(net['ES'], env=clock.env(), want='past the grace period')
    print('ok - past the grace period: traffic refused naming the reason; no start')
    net.stop_all()


if __name__ == '__main__':
    run(main)
