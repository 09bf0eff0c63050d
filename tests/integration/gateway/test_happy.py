"""Three gateways exchange messages in every direction: each is delivered exactly once, the
receipt matches the envelope sent, history and the CLI's status agree."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO', 'MX'])
    net.start_all()
    prios = ['normal', 'urgent', 'crisis']
    sent = {}  # id -> (from, to)
    for frm, to in [('ES', 'CO'), ('CO', 'ES'), ('ES', 'MX'), ('MX', 'CO')]:
        for i in range(4):
            j = net[frm].submit(to, doc=('<Request>%s to %s #%d</Request>' % (frm, to, i)).encode(),
                                priority=prios[i % 3], case_id='%s-%s-%d' % (frm, to, i))
            sent[j['message_id']] = (frm, to)
    check(len(sent) == 16, 'ids are unique')

    def all_delivered():
        return all(net[f].outbox([m]).get(m, {}).get('state') == DELIVERED
                   for m, (f, t) in sent.items())
    wait_until(all_delivered, 30, msg='all 16 delivered')

    for mid, (frm, to) in sent.items():
        row = net[frm].outbox([mid])[mid]
        check(row['to_state'] == to, '%s: to %s' % (mid, row['to_state']))
        check(row['receipt'], '%s: delivered without a stored receipt' % mid)
        r = parse_receipt(row['receipt'])
        check(r['outcome'] == 'accepted' and r['message_id'] == mid and r['receiver'] == to
              and r['sender'] == frm, '%s: receipt %r' % (mid, r))
        env = net[frm].outbox_envelope(mid)
        check(sha256(env) == row['digest'], '%s: outbox digest is not sha256(envelope)' % mid)
        check(r['digest'] == row['digest'], '%s: receipt digest differs' % mid)
        inbox = net[to].inbox()
        check(mid in inbox, '%s missing from %s inbox' % (mid, to))
        check(inbox[mid]['digest'] == row['digest'] and inbox[mid]['accepted'] == 1
              and inbox[mid]['from_state'] == frm, '%s: inbox row differs' % mid)
        check(inbox[mid]['envelope'] == env, '%s: received bytes differ from sent' % mid)
        check(inbox[mid]['receipt'] == row['receipt'], '%s: receipt stored differs' % mid)
    # exactly once, and nothing unexpected anywhere
    for s in ('ES', 'CO', 'MX'):
        counts = net[s].inbox_counts()
        want = {m for m, (f, t) in sent.items() if t == s}
        check(set(counts) == want, '%s inbox ids %r, want %r' % (s, set(counts), want))
        check(all(n == 1 for n in counts.values()), '%s inbox duplicates' % s)
        check(not net[s].alerts(), '%s alerts %r' % (s, net[s].alerts()))
    mid = next(iter(sent))
    frm = sent[mid][0]
    h = net[frm].history(mid)
    check(h == ['queued', 'sending', 'awaiting-receipt', 'delivered'], 'history %r' % h)
    st = net[frm].status(mid)
    check(st['state'] == 'delivered' and st['direction'] == 'out' and st['attempts'] == 0,
          'status %r' % st)
    check([e['state'] for e in st['history']] == h, 'status history %r' % st['history'])
    p = net.cli('status', '--socket', net[frm].sock, mid, '--json')
    j = json.loads(p.stdout)
    check(j['state'] == 'delivered' and j['message_id'] == mid and
          [e['state'] for e in j['history']] == h, 'mlagw status --json %r' % j)
    # the receiver's view of the same message
    to = sent[mid][1]
    st = net[to].status(mid)
    check(st['direction'] == 'in' and st['state'] == 'received', 'receiver status %r' % st)
    # the audit trail: every exchange on both sides, in the entries' canonical form
    for s in ('ES', 'CO', 'MX'):
        ev = {}
        for e in net[s].audit():
            ev.setdefault(e['message'], []).append(e['event'])
        for m, (f, t) in sent.items():
            if f == s:
                check(ev.get(m) == ['submitted', 'sent', 'delivered'],
                      '%s audit of sent %s: %r' % (s, m, ev.get(m)))
            if t == s:
                check(ev.get(m) == ['received', 'receipt-issued'],
                      '%s audit of received %s: %r' % (s, m, ev.get(m)))
    hl = net['ES'].health()
    check(hl['outbox']['delivered'] == sum(1 for f, t in sent.values() if f == 'ES'), 'health %r' % hl)
    net.stop_all()


run(main)
