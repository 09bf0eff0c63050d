"""Keys in a PKCS#11 token (issue 17 §2, docs/internals/keys.md "Keys in a token"): ES's TLS,
signing and encryption keys are generated non-extractable in a SoftHSM2 token by
`mlagw pki init --pkcs11` (its certificates issued for CSRs signed in the token, the file
keys removed, the keys' URIs printed; a wrong PIN leaves no file, a taken label is refused
without --force), and ES, configured with the printed pkcs11: URIs, exchanges envelopes both
ways with CO: envelopes signed and receipts signed by the token, envelopes to ES opened by the
token, mutual TLS with the token's TLS key, through ES's sandboxed keyholder, also after a
reload. No key file exists for those keys. Then `mlagw envelope seal --sign-key pkcs11:...` signs with the token
outside the daemon, and a PIN written in a URI is refused."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

MODULE = '/usr/lib/softhsm/libsofthsm2.so'
TOKEN = 'mlagw-test'
PIN = '3141'
KEYS = ('tls', 'sign', 'encrypt')  # in the token; the audit key stays a file


def run_ok(args, env, what):
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, '%s: exit %d: %s%s' % (what, p.returncode, p.stdout, p.stderr))
    return p.stdout


def make_token(base):
    """A SoftHSM2 token in base; returns the environment that finds it and the PIN file."""
    os.makedirs(os.path.join(base, 'tokens'))
    conf = os.path.join(base, 'softhsm2.conf')
    with open(conf, 'w') as f:
        f.write('directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n'
                % os.path.join(base, 'tokens'))
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    pin_file = os.path.join(base, 'pin')
    with open(pin_file, 'w') as f:
        f.write(PIN)  # libp11 reads the whole file as the PIN: no newline
    os.chmod(pin_file, 0o600)
    run_ok(['softhsm2-util', '--init-token', '--free', '--label', TOKEN, '--pin', PIN,
            '--so-pin', '271828'], env, 'softhsm2-util --init-token')
    return env, pin_file


def uri(name, pin_file, module=True):
    """module-path (RFC 7512) is mlagw's; openssl's own use of libp11 takes the module from
    PKCS11_MODULE_PATH instead."""
    return ('pkcs11:token=%s;object=%s;type=private?%spin-source=file:%s'
            % (TOKEN, name, 'module-path=%s&' % MODULE if module else '', pin_file))


def main(mlagw, mlagwd):
    check(os.path.exists(MODULE), 'SoftHSM2 is not installed (scripts/setup.sh installs it)')
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    env, pin_file = make_token(os.path.join(net.dir, 'hsm'))
    tool = ['pkcs11-tool', '--module', MODULE, '--token-label', TOKEN, '--login', '--pin', PIN]
    es = net['ES']
    token = 'pkcs11:token=%s?module-path=%s' % (TOKEN, MODULE)
    init = [mlagw, 'pki', 'init', '--state', 'ES', '--out', net.pki_dir, '--rsa-bits', '2048',
            '--pkcs11', token]
    # a wrong PIN: refused before any file is written
    bad_pin, fresh = os.path.join(net.dir, 'bad-pin'), os.path.join(net.dir, 'fresh')
    with open(bad_pin, 'w') as f:
        f.write('0000')
    p = subprocess.run([mlagw, 'pki', 'init', '--state', 'ES', '--out', fresh, '--pkcs11',
                        token, '--pin-source', 'file:' + bad_pin], env=env, capture_output=True,
                       text=True, timeout=60)
    check(p.returncode != 0 and 'refused the PIN' in p.stderr and '0000' not in p.stderr and
          not os.path.exists(os.path.join(fresh, 'ES')), 'a wrong PIN: exit %d %r' %
          (p.returncode, p.stderr))
    # the State's PKI again (Net made it with file keys), the three keys in the token
    out = run_ok(init + ['--pin-source', 'file:' + pin_file, '--force'], env, 'pki init --pkcs11')
    printed = dict(line.split(' = ', 1) for line in out.splitlines() if ' = ' in line)
    check(set(printed) == {'tls_key', 'sign_key', 'encrypt_key'} and
          all(v == uri(k[:-4], pin_file) for k, v in printed.items()),
          'pki init --pkcs11 printed %r' % printed)
    for name in KEYS:
        check(not os.path.exists(es.pki(name + '.key')) and os.path.exists(es.pki(name + '.csr')),
              'pki init --pkcs11 left the file key of %s, or no request' % name)
    check(os.path.exists(es.pki('audit.key')), 'the audit key stays a file')
    listing = run_ok(tool + ['--list-objects', '--type', 'privkey'], env, 'list-objects')
    blocks = [b for b in listing.split('Private Key Object')[1:]]
    check(len(blocks) == 3 and all('never extractable' in b and 'sensitive' in b
                                   for b in blocks) and 'unwrap' not in listing,
          'token keys are not all sensitive and never extractable, or may unwrap:\n%s' % listing)
    p = subprocess.run(init + ['--pin-source', 'file:' + pin_file], env=env,
                       capture_output=True, text=True, timeout=60)
    check(p.returncode != 0 and 'already holds an object labelled tls' in p.stderr,
          'a second pki init --pkcs11 without --force: exit %d %r' % (p.returncode, p.stderr))
    print('ok - mlagw pki init --pkcs11: three keys generated in the token, sensitive and never '
          'extractable, certificates issued for requests signed there, file keys removed, '
          'URIs printed; a wrong PIN writes nothing; a taken label needs --force')
    # the keyholder (under Landlock) writes only beneath the token's folder: SoftHSM2 keeps
    # its login state there; the configuration and PIN file beside it are read
    es.overrides = {'keys': printed, 'daemon': {'keyholder_write': os.path.join(net.dir, 'hsm')}}
    es.write_config()
    net['CO'].write_config()
    net['CO'].start()
    es.start(env={'SOFTHSM2_CONF': env['SOFTHSM2_CONF']})
    ids = {'ES': [es.submit('CO')['message_id'] for _ in range(5)],
           'CO': [net['CO'].submit('ES')['message_id'] for _ in range(5)]}
    for s in ('ES', 'CO'):
        wait_until(lambda: net[s].all_in_state(ids[s], DELIVERED), 30,
                   msg='%s messages delivered' % s)
    for frm, to in (('ES', 'CO'), ('CO', 'ES')):
        inbox = net[to].inbox()
        for mid in ids[frm]:
            r = parse_receipt(net[frm].outbox([mid])[mid]['receipt'])
            check(r['outcome'] == 'accepted' and r['receiver'] == to, 'receipt %r' % r)
            check(inbox[mid]['accepted'] == 1, '%s: not accepted by %s' % (mid, to))
    # a reload loads the token keys again (the keyholder's engine is already started)
    es.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: ' reloaded ' in es.log_text(), 10, msg="ES 'reloaded' log line")
    more = [es.submit('CO')['message_id'], net['CO'].submit('ES')['message_id']]
    wait_until(lambda: es.all_in_state(more[:1], DELIVERED) and
               net['CO'].all_in_state(more[1:], DELIVERED), 30, msg='delivered after a reload')
    for name in KEYS:
        check(not os.path.exists(es.pki(name + '.key')), 'a key file for ' + name)
    with open('/proc/%d/task/%d/children' % (es.proc.pid, es.proc.pid)) as f:
        holder = int(f.read().split()[0])
    with open('/proc/%d/status' % holder) as f:
        check('Seccomp:\t2' in f.read(), 'ES keyholder runs without its seccomp filter')
    es.stop()  # an orderly stop with the engine and the token module loaded: exit 0
    check('keyholder-failed' not in es.log_text(), 'ES keyholder failed')
    print('ok - ES with its TLS, signing and encryption keys in a SoftHSM2 token (never '
          'extractable, no key files): 5 envelopes each way delivered and receipted, mutual '
          'TLS, one more each way after a reload')

    # the CLI uses the same loader: an envelope signed in the token verifies for CO
    doc, out = os.path.join(net.dir, 'doc'), os.path.join(net.dir, 'env.xml')
    with open(doc, 'wb') as f:
        f.write(b'<Request>token</Request>')
    run_ok([mlagw, 'envelope', 'seal', '--from', 'ES', '--to', 'CO', '--kind', 'mla',
            '--in', doc, '--out', out, '--sign-key', uri('sign', pin_file), '--sign-cert',
            es.pki('sign.crt'), '--recipient-cert', net.pki('CO', 'encrypt.crt')], env,
           'envelope seal with a token key')
    run_ok([mlagw, 'envelope', 'verify', '--in', out, '--trust', net.pki('ES', 'root.crt')],
           env, 'envelope verify')
    # and one sealed to ES opens with the token's encryption key
    run_ok([mlagw, 'envelope', 'seal', '--from', 'CO', '--to', 'ES', '--kind', 'mla',
            '--in', doc, '--out', out, '--sign-key', net.pki('CO', 'sign.key'), '--sign-cert',
            net.pki('CO', 'sign.crt'), '--recipient-cert', es.pki('encrypt.crt')], env,
           'envelope seal to ES')
    run_ok([mlagw, 'envelope', 'open', '--in', out, '--key', uri('encrypt', pin_file),
            '--cert', es.pki('encrypt.crt'), '--trust', net.pki('CO', 'root.crt'), '--out',
            doc + '.out', '--state', 'ES'], env, 'envelope open with a token key')
    with open(doc + '.out', 'rb') as f:
        check(f.read() == b'<Request>token</Request>', 'the opened document differs')
    p = subprocess.run([mlagw, 'envelope', 'seal', '--from', 'ES', '--to', 'CO', '--kind', 'mla',
                        '--in', doc, '--out', out + '2', '--sign-key',
                        'pkcs11:token=%s;object=sign?pin-value=%s' % (TOKEN, PIN),
                        '--sign-cert', es.pki('sign.crt'), '--recipient-cert',
                        net.pki('CO', 'encrypt.crt')], env=env, capture_output=True, text=True)
    check(p.returncode != 0 and 'pin-value' in p.stderr and PIN not in p.stderr,
          'a PIN in the URI: exit %d, %r' % (p.returncode, p.stderr))
    check(PIN not in es.log_text(), 'the PIN is in the log')
    print('ok - mlagw envelope seal signs and envelope open decrypts with token keys; a pin-value URI is refused '
          'without echoing the PIN')
    net.cleanup()


if __name__ == '__main__':
    run(main)
