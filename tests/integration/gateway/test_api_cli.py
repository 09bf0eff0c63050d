"""The mlagw commands against the local API (--gateway): an ES authority submits with
`mlagw submit`, follows it with `mlagw status`; a CO agency lists `mlagw inbox`, reads the
document with `mlagw fetch --reason` (byte-identical, mode 0600, audited) and answers with
`mlagw answer`; whoami and health; whoami by client certificate (a key file others can read
is refused); and the documented exit codes for a wrong token (1), a
missing gateway (2) and an unreachable one (3)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
import test_api  # noqa: E402


def cli(net, api, role, *args, expect=0):
    tok = os.path.join(net.dir, 'token-%s-%s' % (api.gw.state, role))
    with open(tok, 'w') as f:
        f.write(api.tokens[role][1] + '\n')
    os.chmod(tok, 0o600)
    cmd = [net.mlagw, args[0], '--gateway', 'https://127.0.0.1:%d' % api.port, '--ca',
           api.gw.pki('root.crt'), '--token-file', tok] + list(args[1:])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check(p.returncode == expect, '%s: exit %d, wanted %d: %s' % (' '.join(args), p.returncode,
                                                               expect, p.stderr))
    return p


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    apis = test_api.setup(net)
    es, co = apis['ES'], apis['CO']
    doc = os.path.join(net.dir, 'request.xml')
    with open(doc, 'wb') as f:
        f.write(b'<Request>trace the ransom accounts</Request>\n')
    out = json.loads(cli(net, es, 'authority', 'submit', '--to', 'CO', '--kind', 'asset-tracing',
                         '--priority', 'urgent', '--new-case', '--in', doc, '--json').stdout)
    mid, case = out['message_id'], out['case_id']
    check(out['state'] == 'queued', 'submit %r' % out)
    wait_until(lambda: json.loads(cli(net, es, 'authority', 'status', mid, '--json').stdout)
               ['state'] == 'delivered', 30, msg='delivered')
    human = cli(net, es, 'authority', 'status', mid).stdout
    check('delivered' in human and mid in human, 'status output %r' % human)
    inbox = json.loads(cli(net, co, 'agency', 'inbox', '--json').stdout)
    check(mid in [i['message_id'] for i in inbox['items']], 'CO inbox %r' % inbox)
    check(mid in cli(net, co, 'agency', 'inbox', '--kind', 'asset-tracing').stdout, 'inbox text')
    got = os.path.join(net.dir, 'fetched.xml')
    cli(net, co, 'agency', 'fetch', mid, '--reason', 'case CO-17 triage', '--out', got)
    with open(doc, 'rb') as a, open(got, 'rb') as b:
        check(a.read() == b.read(), 'fetched document differs')
    check(oct(os.stat(got).st_mode & 0o777) == '0o600', 'fetched file mode')
    fetched = [e for e in co.gw.audit() if e.get('event') == 'document-fetched']
    check(any(e.get('message') == mid and e.get('reason') == 'case CO-17 triage'
              for e in fetched), 'no document-fetched entry with the reason')
    ans = json.loads(cli(net, co, 'agency', 'answer', mid, '--action', 'received',
                         '--json').stdout)
    check(ans['case_id'] == case and ans['to'] == 'ES', 'answer %r' % ans)
    case_view = cli(net, es, 'authority', 'status', '--case-id', case, '--json').stdout
    check(mid in case_view, 'case view lacks the request')
    me = json.loads(cli(net, co, 'admin', 'whoami', '--json').stdout)
    check(me['role'] == 'admin', 'whoami %r' % me)
    health = json.loads(cli(net, co, 'admin', 'health', '--json').stdout)
    check(health.get('status') is not None, 'health %r' % health)
    # a client certificate instead of a token: curl gets the key from mla_privkey_load (on
    # its SSL_CTX), so a key file others can read is refused like the daemon's
    crt, key = co.cert
    by_cert = [net.mlagw, 'whoami', '--gateway', 'https://127.0.0.1:%d' % co.port, '--ca',
               co.gw.pki('root.crt'), '--cert', crt, '--key', key, '--json']
    p = subprocess.run(by_cert, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and json.loads(p.stdout).get('via') == 'certificate',
          'whoami by certificate: %r' % p.stderr)
    os.chmod(key, 0o644)
    p = subprocess.run(by_cert, capture_output=True, text=True, timeout=60)
    os.chmod(key, 0o600)
    check(p.returncode == 3 and 'mode 0644' in p.stderr, 'readable client key: %r' % p.stderr)
    # the same through a client configuration file, and a bad one named by file and line
    tok = os.path.join(net.dir, 'token-CO-agency')
    conf = os.path.join(net.dir, 'client.conf')
    with open(conf, 'w') as f:
        f.write('# CO agency\ngateway = https://127.0.0.1:%d\nca = %s\ntoken_file = %s\n'
                % (co.port, co.gw.pki('root.crt'), tok))
    p = subprocess.run([net.mlagw, 'inbox', '--config', conf, '--json'], capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0 and mid in p.stdout, 'inbox via --config: %r' % p.stderr)
    with open(conf, 'a') as f:
        f.write('colour = blue\n')
    p = subprocess.run([net.mlagw, 'inbox', '--config', conf], capture_output=True, text=True)
    check(p.returncode == 2 and '%s:5:' % conf in p.stderr, 'bad --config: %r' % p.stderr)
    # documented exit codes
    p = cli(net, co, 'auditor', 'fetch', mid, '--reason', 'curious', '--out', got + '2', expect=1)
    check('403' in p.stderr, 'forbidden fetch stderr %r' % p.stderr)
    check(not os.path.exists(got + '2'), 'a refused fetch wrote a file')
    p = subprocess.run([net.mlagw, 'inbox'], capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items() if not k.startswith('MLAGW_')})
    check(p.returncode == 2 and '--gateway' in p.stderr, 'no gateway: %r' % p.stderr)
    p = subprocess.run([net.mlagw, 'whoami', '--gateway', 'https://127.0.0.1:%d' % free_port(),
                        '--token', 'x' * 40], capture_output=True, text=True)
    check(p.returncode == 3, 'unreachable: exit %d' % p.returncode)
    net.stop_all()


if __name__ == '__main__':
    run(main)
