"""Issue 10 finding 3: some refused envelopes left no trace (HTTP 500: no receipt, no audit
entry, no log line) because their error text could not go into a negative receipt: a single
0xFF byte, an Algorithm holding a newline (&#10;), an error text whose UTF-8 character was cut
by a bounded format. Every refusal of an authenticated peer must get a signed negative receipt,
an audit entry and a log line, its diagnostic made safe text."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403

SIG_ALG = b'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256'


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'])
    net.start_all()
    env = net.seal('ES', 'CO', b'<Request>trace</Request>')
    check(env.count(SIG_ALG) == 1, 'sealed envelope has one %r' % SIG_ALG)
    cases = [
        ('one 0xFF byte', b'\xff', 'xml-malformed'),
        ('Algorithm holding &#10;', env.replace(SIG_ALG, b'http://example.org/x&#10;y'),
         'alg-unknown'),
        # 119 ASCII bytes then a two-byte character: a 120-byte cut splits it
        ('UTF-8 cut by truncation', env.replace(SIG_ALG, b'h' * 119 + 'é'.encode() * 4),
         'alg-unknown'),
        ('C1 control in Algorithm', env.replace(SIG_ALG, 'http://x\u0085y'.encode()),
         'alg-unknown'),
    ]
    for name, body, want in cases:
        s, r = net.post('ES', 'CO', body)
        check(s == 422, '%s: HTTP %d, want 422 with a signed negative receipt' % (name, s))
        rc = parse_receipt(r)
        check(rc['outcome'] == 'rejected' and rc['error'] == want and
              rc['digest'] == sha256(body), '%s: receipt %r' % (name, rc))
        text = rc['error_text']
        check(all(ord(ch) >= 0x20 and not 0x7f <= ord(ch) <= 0x9f for ch in text),
              '%s: receipt text %r holds control characters' % (name, text))
        entries = [e for e in net['CO'].audit()
                   if e.get('envelope-sha256') == sha256(body).hex()]
        check({e['event'] for e in entries} >= {'rejected', 'receipt-issued'},
              '%s: audit entries %r' % (name, entries))
    log = net['CO'].log_text()
    check(log.count(' rejected ') >= len(cases), 'CO log: %d rejected lines, want %d' %
          (log.count(' rejected '), len(cases)))
    net.stop_all()


run(main)
