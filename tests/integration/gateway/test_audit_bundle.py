"""Offline audit bundles (SPEC §15): two gateways exchange messages (with a refusal and a
replay), stop cleanly (the stop signs a final checkpoint), each store is exported with
`mlagw audit export` and verified with `mlagw audit verify` and the States' roots only; then
every kind of tampering (bytes of entries, envelopes, receipts and checkpoint signatures,
deleted, swapped and duplicated entries, truncation, a receipt of another message, a
checkpoint signed by another key, no manifest) must be refused with a message naming it."""
import json
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from bundlelib import Auditor, flip, parse_bundle, sign_note_text, write_bundle  # noqa: E402


def main(mlagw, mlagwd):
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='200ms')
    net.start_all()
    es, co = net['ES'], net['CO']
    ids = [es.submit('CO', case_id='CASE-%d' % (i % 2))['message_id'] for i in range(4)]
    ids += [co.submit('ES', case_id='CASE-9')['message_id'] for _ in range(2)]
    wait_until(lambda: es.all_in_state(ids[:4], DELIVERED) and
               co.all_in_state(ids[4:], DELIVERED), 30, msg='delivered')
    # a refusal (not an envelope) and a replay of delivered bytes (the original receipt)
    code, _ = net.post('ES', 'CO', b'<NotAnEnvelope/>')
    check(code != 200, 'garbage accepted: %d' % code)
    code, body = net.post('ES', 'CO', es.outbox_envelope(ids[0]))
    check(code == 200 and parse_receipt(body)['message_id'] == ids[0], 'replay: %d' % code)
    check(any(e['event'] == 'rejected' for e in co.audit()), 'no rejected entry at CO')
    net.stop_all()  # the stop signs a final checkpoint

    trust = os.path.join(net.dir, 'trust')
    os.makedirs(trust)
    for s in ('ES', 'CO'):
        shutil.copy(net.pki(s, 'root.crt'), os.path.join(trust, s + '.crt'))
    auditor = Auditor(net, trust)
    bundles = {}
    for g in (es, co):
        out = os.path.join(net.dir, g.state + '.mab')
        net.cli('audit', 'export', '--store', g.store, '--cert', g.pki('audit.crt'),
                '--out', out)
        with open(out, 'rb') as f:
            bundles[g.state] = f.read()
        rc, text = auditor.verify(bundles[g.state])
        check(rc == 0 and 'verified' in text, '%s bundle: exit %d\n%s' % (g.state, rc, text))
        rc, text = auditor.verify(bundles[g.state], json_out=True)
        rep = json.loads(text)
        check(rc == 0 and rep['verified'] and rep['state'] == g.state and
              rep['checks']['delivered']['ok'] >= 2, '%s json: %r' % (g.state, rep))
        n_entries = len(g.audit())
        check(rep['entries'] == n_entries, 'bundle holds %d of %d entries' %
              (rep['entries'], n_entries))
    recs = parse_bundle(bundles['ES'])
    kinds = {t: [r for r in recs if r[0] == t] for t in ('entry', 'checkpoint', 'envelope',
                                                         'receipt')}
    check(len(kinds['envelope']) == 6 and len(kinds['receipt']) == 6, 'ES bundle messages')

    # a filter selects messages; the entries stay complete
    out = os.path.join(net.dir, 'case.mab')
    net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'), '--out', out,
            '--case', 'CASE-1')
    with open(out, 'rb') as f:
        case = f.read()
    crecs = parse_bundle(case)
    check(sum(r[0] == 'envelope' for r in crecs) == 2 and
          sum(r[0] == 'entry' for r in crecs) == len(kinds['entry']), 'case filter')
    check(auditor.verify(case)[0] == 0, 'case bundle does not verify')

    # the filter is recomputed from the entries: a selected message left out, or one the
    # filter does not select held, is refused even with the manifest's counts adjusted
    def with_manifest(rs, **changes):
        man = json.loads(rs[0][2])
        for k, v in changes.items():
            man[k] = v
        for t, key in (('envelope', 'envelopes'), ('receipt', 'receipts')):
            man['counts'][key] = sum(r[0] == t for r in rs)
        rs[0][2] = json.dumps(man).encode()
        return write_bundle(rs)
    gone = [r for r in crecs if r[0] == 'envelope'][0][1]
    rs = [list(r) for r in crecs if r[1] != gone]
    auditor.refused(with_manifest(rs), 'envelope ' + gone, 'selected message left out')
    man = json.loads(crecs[0][2])
    rs = [list(r) for r in recs if r[0] not in ('envelope', 'receipt') or
          r[1] != gone]  # the full bundle minus one CASE-1 message, now "filtered" on CASE-0
    auditor.refused(with_manifest(rs, filter=dict(man['filter'], case='CASE-0')),
                    "not a message the bundle's filter selects", 'a filter added to hide one')
    # --from/--to: dates that do not exist are refused, not normalised into the next month
    for bad in ('2026-02-31', '2026-13-01', '2026-02-28T24:00:00Z', '1960-01-01', 'today'):
        p = net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'),
                    '--out', os.path.join(net.dir, 'bad.mab'), '--from', bad, check_rc=False)
        check(p.returncode == 2 and b'--from and --to take' in p.stderr,
              '--from %s: exit %d %r' % (bad, p.returncode, p.stderr))
    p = net.cli('audit', 'export', '--store', es.store, '--cert', es.pki('audit.crt'),
                '--out', os.path.join(net.dir, 'future.mab'), '--from', '2100-01-01')
    check(sum(r[0] == 'envelope' for r in parse_bundle(
        open(os.path.join(net.dir, 'future.mab'), 'rb').read())) == 0, 'future --from')
    p = net.cli('audit', 'verify', os.path.join(net.dir, 'none.mab'), '--trust', trust,
                check_rc=False)
    check(p.returncode == 3, 'unreadable file: exit %d' % p.returncode)
    check(net.cli('audit', 'verify', '--trust', trust, check_rc=False).returncode == 2, 'usage')
    # without the roots of ES, nothing of ES verifies
    only_co = os.path.join(net.dir, 'only-co')
    os.makedirs(only_co)
    shutil.copy(net.pki('CO', 'root.crt'), only_co)
    auditor_co = Auditor(net, only_co)
    auditor_co.refused(bundles['ES'], 'certificate', 'no ES root')

    rng = random.Random(6962)

    def tampered(kind, k, lo_fn=lambda b: 0):
        rs = [list(r) for r in recs]
        idx = [i for i, r in enumerate(rs) if r[0] == kind]
        i = rng.choice(idx)
        body = rs[i][2]
        rs[i][2] = flip(body, lo_fn(body), len(body), rng)
        return write_bundle(rs), rs[i][1]

    for k in range(5):
        data, name = tampered('entry', k)
        auditor.refused(data, 'entr', 'entry %s byte %d' % (name, k))
        data, name = tampered('envelope', k)
        auditor.refused(data, 'envelope ' + name, 'envelope %s byte %d' % (name, k))
        data, name = tampered('receipt', k)
        auditor.refused(data, 'receipt ' + name, 'receipt %s byte %d' % (name, k))
        data, name = tampered('checkpoint', k, lambda b: b.rindex(b'\n\n') + 2 + len(
            '\u2014 mlagw.es/audit '.encode()))
        auditor.refused(data, 'checkpoint ' + name, 'checkpoint %s byte %d' % (name, k))

    ents = [i for i, r in enumerate(recs) if r[0] == 'entry']
    rs = [r for i, r in enumerate(recs) if i != ents[3]]
    auditor.refused(write_bundle(rs), 'entry', 'deleted entry')
    rs = list(recs)
    rs[ents[2]], rs[ents[5]] = rs[ents[5]], rs[ents[2]]
    auditor.refused(write_bundle(rs), 'entry', 'swapped entries')
    rs = list(recs)
    rs.insert(ents[4], recs[ents[4]])
    auditor.refused(write_bundle(rs), 'entry', 'duplicated entry')
    whole = bundles['ES']
    cut = whole.index(kinds['envelope'][1][2]) + 100
    auditor.refused(whole[:cut], 'malformed bundle', 'truncated')
    rs = [list(r) for r in recs]
    ri = [i for i, r in enumerate(rs) if r[0] == 'receipt']
    rs[ri[0]][2] = rs[ri[1]][2]
    auditor.refused(write_bundle(rs), 'receipt ' + rs[ri[0]][1], 'receipt of another message')
    rs = [list(r) for r in recs]
    ci = [i for i, r in enumerate(rs) if r[0] == 'checkpoint'][-1]
    note = rs[ci][2]
    rs[ci][2] = sign_note_text(note[:note.rindex(b'\n\n') + 1], net.pki('CO', 'audit.key'),
                               net.pki('CO', 'audit.crt'), 'mlagw.es/audit', net.dir)
    auditor.refused(write_bundle(rs), 'checkpoint ' + rs[ci][1], 'forged checkpoint')
    auditor.refused(write_bundle(recs[1:]), 'manifest', 'no manifest')

    # left out, the manifest made to agree: a sent envelope, the receipt ES issued
    def without(t, mid):
        rs = [list(r) for r in recs if r[:2] != [t, mid]]
        m = json.loads(rs[0][2])
        m['counts'][t + 's'] -= 1
        rs[0][2] = json.dumps(m).encode()
        return write_bundle(rs)
    auditor.refused(without('envelope', ids[0]), 'envelope %s: not in the bundle' % ids[0],
                    'envelope left out')
    auditor.refused(without('receipt', ids[4]), 'receipt %s: not in the bundle' % ids[4],
                    'issued receipt left out')
    # a manifest key renamed is a key missing
    for key, new in ((b'"first_seq"', b'"first_sep"'), (b'"case"', b'"cbse"')):
        rs = [list(r) for r in recs]
        rs[0][2] = rs[0][2].replace(key, new)
        auditor.refused(write_bundle(rs), 'manifest', 'manifest %s renamed' % key)
    # a failure quoting tampered bytes that are not UTF-8 is still reported
    rs = [list(r) for r in recs]
    ei = [i for i, r in enumerate(rs) if r[0] == 'envelope'][0]
    rs[ei][2] = rs[ei][2].replace(b'w3.org/2000/09/xmldsig#', b'w3.or\x9a/2000/09/xmldsig#', 1)
    rc, rep, _ = auditor.report(write_bundle(rs))
    check(rc == 1 and len(rep['failures']) == sum(c['failed'] for c in rep['checks'].values())
          and any('does not verify' in f['message'] for f in rep['failures']),
          'a failure is missing from the report: %r' % rep)
    auditor.refused(write_bundle(recs, b'mlagw-audit-bundle/1\n'), 'not an audit bundle',
                    'wrong format line')

    # a store whose audit table lost a row: the export still writes what there is (no proofs,
    # said on stderr) and the verifier names the missing entry
    gap = os.path.join(net.dir, 'gap.db')
    shutil.copy(es.store, gap)
    es.fault('delete-entry', 3, store=gap)
    out = os.path.join(net.dir, 'gap.mab')
    p = net.cli('audit', 'export', '--store', gap, '--cert', es.pki('audit.crt'), '--out', out)
    check(b'no proofs written' in p.stderr, 'export of a gap: %r' % p.stderr)
    with open(out, 'rb') as f:
        auditor.refused(f.read(), 'at position 3 (entry missing', 'a gap in the audit table')


run(main)
