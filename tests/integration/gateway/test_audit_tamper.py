"""Tampering with audit bundles (SPEC §15), automated over many random positions: two real
bundles (ES and CO after an exchange and a clean stop), then hundreds of altered copies, each
verified with `mlagw audit verify --json` in parallel. Every one must exit exactly 1 (never a
signal, never a sanitizer report), say `verified: false`, and name what was altered in a
failure message: byte flips in every record type (entry, envelope, receipt, checkpoint text
and signature lines, manifest, certificate, and any type a later format adds), header lines;
every entry deleted, duplicated and moved (with names and manifest made consistent, as a
forger would); truncation at random offsets and at every record boundary; each receipt
replaced with another message's; each checkpoint re-signed with another key; each manifest
field altered or missing; missing records. The seed is printed (MLAGW_TAMPER_SEED=N to
replay it); MLAGW_TAMPER_SCALE=K multiplies the random samples."""
import concurrent.futures
import json
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gwnet import *  # noqa: E402,F403
from bundlelib import (MAGIC, SANITIZER_MARKERS, Auditor, export, flip_at,  # noqa: E402
                       parse_bundle, record_offsets, sign_note_text, trust_dir, write_bundle)

SCALE = max(1, int(os.environ.get('MLAGW_TAMPER_SCALE', '1')))
FLIPS = 40 * SCALE    # per kind of record part, over both bundles
CUTS = 60 * SCALE     # random truncation offsets per bundle


class Case:
    """One altered bundle: what must be named (a predicate over the failure messages), whether
    the alteration may be semantically neutral (accepted), whether it must be 'malformed'."""

    def __init__(self, label, data, named, what, neutral=False, malformed=False):
        self.label, self.data, self.named, self.what = label, data, named, what
        self.neutral, self.malformed = neutral, malformed


def names(*subs):
    """A predicate: some failure message contains one of subs."""
    return lambda msgs: any(s in m for m in msgs for s in subs)


def names_entry(seq, also=None):
    """'entry SEQ' (or 'entry ALSO'), or a checkpoint whose recomputed root over entries
    0..K (K >= SEQ) fails, or one covering more entries than the bundle holds."""
    pat = re.compile(r'\bentry (%d|%s)\b' % (seq, also if also is not None else seq))

    def pred(msgs):
        for m in msgs:
            if pat.search(m) or 'covers more entries' in m:
                return True
            k = re.search(r'root of entries 0\.\.(\d+)', m)
            if k and int(k.group(1)) >= seq:
                return True
        return False
    return pred


def manifest_value(body):
    """The manifest's JSON value (None when not JSON or with a duplicated key)."""
    def pairs(kv):
        keys = [k for k, _ in kv]
        if len(set(keys)) != len(keys):
            raise ValueError('duplicate key')
        return dict(kv)
    try:
        return json.loads(body.decode('utf-8'), object_pairs_hook=pairs)
    except (ValueError, UnicodeDecodeError):
        return None


def cert_der(pem):
    """The DER certificate OpenSSL reads from pem bytes, or None."""
    p = subprocess.run(['openssl', 'x509', '-outform', 'DER'], input=pem, capture_output=True)
    return p.stdout if p.returncode == 0 else None


def renumber(recs):
    """Entry names dense again and the manifest's counts, last_seq and checkpoint sizes made to
    agree with the records: what a forger would do so that only the signatures can tell."""
    out, n = [], 0
    for t, name, body in recs:
        if t == 'entry':
            name, n = str(n), n + 1
        out.append([t, name, body])
    m = json.loads(out[0][2])
    counts = {}
    for t, _, _ in out[2:]:
        counts[t] = counts.get(t, 0) + 1
    for key in m.get('counts', {}):  # the counts named by a record type (plural or not)
        for t in {r[0] for r in recs}:
            if key in (t, t + 's', t[:-1] + 'ies'):
                m['counts'][key] = counts.get(t, 0)
    m['last_seq'] = n - 1
    m['checkpoint_sizes'] = [int(nm) for t, nm, _ in out if t == 'checkpoint']
    out[0][2] = json.dumps(m, indent=2).encode()
    return out


def flip_cases(bundles, rng):
    """Byte flips at random positions of every record type (and of its parts)."""
    cases = []
    known = ('entry', 'envelope', 'receipt', 'checkpoint', 'manifest', 'certificate')
    parts = [(p, p.split('-')[0]) for p in ('entry', 'envelope', 'receipt', 'checkpoint-text',
                                             'checkpoint-sig', 'manifest', 'certificate')]
    parts += [('header', None)] + [(t, t) for t in sorted(
        {r[0] for recs in bundles.values() for r in recs} - set(known))]
    for part, ptype in parts:
        for k in range(FLIPS):
            state = rng.choice(sorted(s for s in bundles if ptype is None or any(
                r[0] == ptype for r in bundles[s])))
            recs = bundles[state]
            t = ptype or rng.choice(sorted({r[0] for r in recs}))
            i = rng.choice([i for i, r in enumerate(recs) if r[0] == t])
            _, name, body = recs[i]
            rs = [list(r) for r in recs]
            mask = rng.randrange(1, 256)
            if part == 'header':
                data = write_bundle(rs)
                off = record_offsets(data)[i]
                pos = rng.randrange(off[2], off[3])
                cases.append(Case('%s: header of %s %s, byte %d ^ 0x%02x' % (
                    state, t, name, pos - off[2], mask), flip_at(data, pos, mask),
                    lambda msgs: True, 'anything'))
                continue
            lo, hi = 0, len(body)
            if part == 'checkpoint-text':
                hi = body.index(b'\n\n') + 1
            elif part == 'checkpoint-sig':
                lo = body.index(b'\n\n') + 1
            pos = rng.randrange(lo, hi)
            rs[i][2] = flip_at(body, pos, mask)
            label = '%s: %s %s, byte %d of %d ^ 0x%02x' % (state, t, name, pos, len(body),
                                                          mask)
            if part == 'checkpoint-sig':  # which signature line (the log's, a cosignature)
                line = body[body.rindex(b'\n', 0, pos) + 1:].split(b'\n')[0]
                label += ' (in signature line %r)' % line.split(b' ')[1].decode(
                    'utf-8', 'replace') if b' ' in line else ''
            neutral = False
            if t == 'entry':
                named = names_entry(int(name))
            elif t == 'manifest':
                named = names('manifest')
                neutral = manifest_value(rs[i][2]) == manifest_value(body)
            elif t == 'certificate':
                named = names('certificate') if name == 'audit' else names(name)
                # a flip OpenSSL reads the same (a line feed made a carriage return) is
                # neutral; compared with this record's own certificate (a peer's too)
                neutral = cert_der(rs[i][2]) == cert_der(body)
            else:
                named = names('%s %s' % (t, name))
            cases.append(Case(label, write_bundle(rs), named, '%s %s' % (t, name), neutral))
    return cases


def entry_cases(bundles, rng):
    """Every entry position deleted, duplicated and moved, names and manifest made consistent
    (plus a sample left inconsistent, as a careless forger would)."""
    cases = []
    for state, recs in sorted(bundles.items()):
        ents = [i for i, r in enumerate(recs) if r[0] == 'entry']
        for k, i in enumerate(ents):
            rs = [list(r) for r in recs]
            variants = [('deleted', rs[:i] + rs[i + 1:]),
                        ('duplicated', rs[:i + 1] + [list(rs[i])] + rs[i + 1:])]
            j = rng.choice([e for e in ents if e != i])
            moved = [list(r) for r in recs]
            moved.insert(j, moved.pop(i))
            variants.append(('moved to position %d' % (j - ents[0]), moved))
            for what, vrs in variants:  # a duplicate of the last entry is the one beyond
                cases.append(Case('%s: entry %d %s' % (state, k, what),
                                  write_bundle(renumber(vrs)), names_entry(k, k + 1),
                                  'entry %d' % k))
                if rng.random() < 0.2:
                    cases.append(Case('%s: entry %d %s (names and manifest kept)' % (
                        state, k, what), write_bundle(vrs), names('entr'), 'an entry'))
    return cases


def message_cases(bundles, rng):
    """Each receipt replaced with another message's; each envelope and receipt removed,
    duplicated; two envelopes' bodies swapped."""
    cases = []
    for state, recs in sorted(bundles.items()):
        for t in ('envelope', 'receipt'):
            idx = [i for i, r in enumerate(recs) if r[0] == t]
            for i in idx:
                name = recs[i][1]
                j = rng.choice([x for x in idx if x != i])
                if t == 'receipt':
                    rs = [list(r) for r in recs]
                    rs[i][2] = recs[j][2]
                    cases.append(Case('%s: receipt %s replaced with that of %s' % (
                        state, name, recs[j][1]), write_bundle(rs), names('receipt ' + name),
                        'receipt ' + name))
                rs = [list(r) for r in recs]
                rs[i][2], rs[j][2] = recs[j][2], recs[i][2]
                cases.append(Case('%s: %ss %s and %s swapped' % (state, t, name, recs[j][1]),
                                  write_bundle(rs), names('%s %s' % (t, name)),
                                  '%s %s' % (t, name)))
                cases.append(Case('%s: %s %s removed' % (state, t, name),
                                  write_bundle(renumber(recs[:i] + recs[i + 1:])), names(name),
                                  'message ' + name))
                cases.append(Case('%s: %s %s duplicated' % (state, t, name),
                                  write_bundle(renumber(recs[:i + 1] + [recs[i]] +
                                                        recs[i + 1:])),
                                  names('%s %s' % (t, name)), '%s %s' % (t, name)))
    return cases


def checkpoint_cases(bundles, net, rng):
    """Each checkpoint signed by another key under the log's name: the other State's audit key
    and a fresh key, over the same text and over a text with another root."""
    fresh = os.path.join(net.dir, 'fresh.key')
    subprocess.run(['openssl', 'genpkey', '-algorithm', 'ed25519', '-out', fresh], check=True,
                   capture_output=True)
    cases = []
    for state, recs in sorted(bundles.items()):
        other = [s for s in sorted(bundles) if s != state][0]
        origin = 'mlagw.%s/audit' % state.lower()
        cps = [i for i, r in enumerate(recs) if r[0] == 'checkpoint']
        for i in cps:
            name, note = recs[i][1], recs[i][2]
            text = note[:note.index(b'\n\n') + 1]
            lines = text.split(b'\n')
            alt = recs[rng.choice([c for c in cps if c != i] or [i])][2].split(b'\n')[2]
            moved = b'\n'.join(lines[:2] + [alt if alt != lines[2] else lines[2][::-1]] +
                               lines[3:])
            for label, body in (
                    ('%s audit key' % other, sign_note_text(
                        text, net.pki(other, 'audit.key'), net.pki(other, 'audit.crt'),
                        origin, net.dir)),
                    ('a fresh key', sign_note_text(text, fresh, None, origin, net.dir)),
                    ('a fresh key, another root', sign_note_text(moved, fresh, None, origin,
                                                                 net.dir))):
                rs = [list(r) for r in recs]
                rs[i][2] = body
                cases.append(Case('%s: checkpoint %s signed by %s' % (state, name, label),
                                  write_bundle(rs), names('checkpoint ' + name),
                                  'checkpoint ' + name))
    return cases


def proof_cases(bundles, filtered):
    """Each consistency proof (and, in the filtered bundle, each inclusion proof) removed, and
    given another proof's hashes: refused, naming the checkpoints, the entry or the proof."""
    cases = []
    for state, recs in sorted(list(bundles.items()) + [('ES/CASE-1', filtered)]):
        idx = [i for i, r in enumerate(recs) if r[0] == 'proof']
        for i in idx:
            name = recs[i][1]
            kind, a, b = name.split('.')
            gone = ('checkpoints %s and %s: no consistency proof' % (a, b) if kind == 'c' else
                    'entry %s (message' % a)
            cases.append(Case('%s: proof %s removed' % (state, name),
                              write_bundle(renumber(recs[:i] + recs[i + 1:])), names(gone),
                              gone))
            others = [j for j in idx if recs[j][2] != recs[i][2]]
            if others:
                rs = [list(r) for r in recs]
                rs[i][2] = recs[others[0]][2]
                cases.append(Case('%s: proof %s given other hashes' % (state, name),
                                  write_bundle(rs), names('proof ' + name), 'proof ' + name))
    return cases


def manifest_cases(bundles):
    """Each manifest field altered, of the wrong type or missing; the manifest not JSON."""
    cases = []
    for state, recs in sorted(bundles.items()):
        m0 = json.loads(recs[0][2])
        edits = []
        for key in m0:
            edits.append(('%s missing' % key, lambda m, key=key: m.pop(key)))
            edits.append(('%s an object' % key, lambda m, key=key: m.__setitem__(key, {})))
        for key, vals in (('format', ['mlagw-audit-bundle/1', '', 1]),
                          ('state', ['CO' if state == 'ES' else 'ES', state.lower(), 'E', 7]),
                          ('origin', ['mlagw.xx/audit', 'mlagw.%s/audit' % state, None]),
                          ('first_seq', [1, -1, '0', None]),
                          ('last_seq', [m0['last_seq'] + 1, m0['last_seq'] - 1, 0,
                                        str(m0['last_seq']), None]),
                          ('checkpoint_sizes', [m0['checkpoint_sizes'][:-1],
                                                m0['checkpoint_sizes'] + [10 ** 6],
                                                m0['checkpoint_sizes'][::-1],
                                                [str(s) for s in m0['checkpoint_sizes']],
                                                [s + 1 for s in m0['checkpoint_sizes']],
                                                'all', None])):
            for v in vals:
                edits.append(('%s = %r' % (key, v), lambda m, key=key, v=v:
                              m.__setitem__(key, v)))
        for key in m0['counts']:
            for v in (m0['counts'][key] + 1, m0['counts'][key] - 1, None,
                      str(m0['counts'][key])):
                edits.append(('counts.%s = %r' % (key, v), lambda m, key=key, v=v:
                              m['counts'].__setitem__(key, v)))
            edits.append(('counts.%s missing' % key, lambda m, key=key: m['counts'].pop(key)))
        for key in m0.get('filter') or {}:
            edits.append(('filter.%s missing' % key, lambda m, key=key: m['filter'].pop(key)))
            edits.append(('filter.%s = 7' % key, lambda m, key=key:
                          m['filter'].__setitem__(key, 7)))
        for label, edit in edits:
            m = json.loads(recs[0][2])
            edit(m)
            rs = [list(r) for r in recs]
            rs[0][2] = json.dumps(m, indent=2).encode()
            cases.append(Case('%s: manifest %s' % (state, label), write_bundle(rs),
                              names('manifest'), 'manifest'))
        for label, body in (('empty', b''), ('an array', b'[]'), ('not JSON', b'{"format":'),
                            ('a duplicated key', recs[0][2][:-1] + b', "state": "%s"}' %
                             state.encode()), ('NUL', b'\0')):
            rs = [list(r) for r in recs]
            rs[0][2] = body
            cases.append(Case('%s: manifest %s' % (state, label), write_bundle(rs),
                              names('manifest'), 'manifest'))
    return cases


def malformed_cases(bundles, rng, net):
    """Truncation at random offsets and at every record boundary; records missing; another
    certificate."""
    cases = []
    for state, recs in sorted(bundles.items()):
        data = write_bundle(recs)
        offs = record_offsets(data)
        bounds = {o[2] for o in offs}
        ends = sorted({o[3] + o[4] for o in offs} | {o[3] + o[4] - 1 for o in offs} |
                      {b + 1 for b in bounds} | set(range(0, len(MAGIC) + 2)))
        cuts = set(rng.randrange(0, len(data)) for _ in range(CUTS)) | bounds | set(
            rng.sample(ends, min(len(ends), 20 * SCALE)))
        for cut in sorted(cuts):
            if cut in bounds:  # complete records: only the manifest (or order) tells
                cases.append(Case('%s: cut at record boundary %d' % (state, cut), data[:cut],
                                  names('manifest', 'malformed bundle', 'certificate'),
                                  'manifest'))
            else:
                cases.append(Case('%s: truncated to %d of %d bytes' % (state, cut, len(data)),
                                  data[:cut], names('malformed bundle'), 'malformed bundle',
                                  malformed=True))
        for t in sorted({r[0] for r in recs} & {'manifest', 'certificate', 'entry',
                                                 'checkpoint', 'envelope', 'receipt'}):
            rest = [r for r in recs if r[0] != t]
            if t not in ('manifest', 'certificate'):
                rest = renumber(rest)
            cases.append(Case('%s: every %s record removed' % (state, t), write_bundle(rest),
                              names('entr' if t == 'entry' else t), t))
        other = [s for s in sorted(bundles) if s != state][0]
        for label, pem in (('%s audit certificate' % other,
                            open(net.pki(other, 'audit.crt'), 'rb').read()),
                           ('%s signing certificate' % state,
                            open(net.pki(state, 'sign.crt'), 'rb').read()),
                           ('%s root' % state, open(net.pki(state, 'root.crt'), 'rb').read()),
                           ('empty', b''), ('garbage', b'-----BEGIN CERTIFICATE-----\nAA\n')):
            rs = [list(r) for r in recs]
            rs[1][2] = pem
            cases.append(Case('%s: certificate replaced with %s' % (state, label),
                              write_bundle(rs), names('certificate'), 'certificate'))
        cases.append(Case('%s: format line /2' % state, write_bundle(recs,
                                                                        b'mlagw-audit-bundle/1\n'),
                          names('not an audit bundle'), 'format line', malformed=True))
        cases.append(Case('%s: trailing byte' % state, data + b'\n', names('malformed bundle'),
                          'malformed bundle', malformed=True))
    return cases


def judge(case, rc, rep, text, err):
    """None when the case was refused as it must be, else what went wrong."""
    if rc < 0:
        return 'crashed: signal %d' % -rc
    for marker in SANITIZER_MARKERS:
        if marker in err:
            return 'sanitizer report:\n' + err[-3000:]
    if case.neutral and rc == 0:
        return None
    if rc != 1:
        return 'exit %d, wanted 1' % rc
    if rep is None:  # text mode: the report as printed
        if 'NOT verified' not in text:
            return 'no "NOT verified" line'
        msgs = [ln for ln in text.splitlines() if ln.startswith('FAILED ')]
    else:
        if rep.get('verified') is not False:
            return '"verified" is %r' % rep.get('verified')
        msgs = [f['check'] + ': ' + f['message'] for f in rep['failures']]
        failed = sum(c['failed'] for c in rep['checks'].values())
        if failed != len(msgs) or not msgs:
            return '%d failures counted, %d reported' % (failed, len(msgs))
    if case.malformed and not any('malformed bundle' in m or 'not an audit bundle' in m
                                  for m in msgs):
        return 'not reported as a malformed bundle'
    if not case.named(msgs):
        return 'no failure names %s' % case.what
    return None


def run_case(auditor, k, case):
    text_mode = k % 5 == 0  # a fifth through the text report
    rc, out, err = auditor.run(case.data, json_out=not text_mode)
    rep = None
    if not text_mode:
        try:
            rep = json.loads(out)
        except ValueError:
            if rc >= 0:
                return case, rc, 'stdout is not a JSON report: %r' % out[:500]
    problem = judge(case, rc, rep, out, err)
    if problem is not None:
        problem += '\n    ' + '\n    '.join((out + err).splitlines()[-12:])
    return case, rc, problem


def main(mlagw, mlagwd):
    seed = int(os.environ.get('MLAGW_TAMPER_SEED') or random.SystemRandom().randrange(1 << 32))
    print('test_audit_tamper: seed %d (MLAGW_TAMPER_SEED=%d to replay)' % (seed, seed))
    rng = random.Random(seed)
    net = Net(mlagw, mlagwd, ['ES', 'CO'], checkpoint_interval='200ms')
    net.start_all()
    es, co = net['ES'], net['CO']
    ids = []
    for n in (2, 2):  # in two rounds, each ending with a checkpoint: the bundles hold several
        ids += [es.submit('CO', case_id='CASE-%d' % i)['message_id'] for i in range(n)]
        ids += [co.submit('ES', case_id='CASE-9')['message_id']]
        wait_until(lambda: es.all_in_state(ids[0::3] + ids[1::3], DELIVERED) and
                   co.all_in_state(ids[2::3], DELIVERED), 30, msg='delivered')
        size = len(es.audit()), len(co.audit())
        wait_until(lambda: es.counts()['checkpoint_latest'] == size[0] and
                   co.counts()['checkpoint_latest'] == size[1], 10,
                   msg='checkpoints of every entry')
    code, _ = net.post('ES', 'CO', b'<NotAnEnvelope/>')  # a rejected entry at CO
    check(code != 200, 'garbage accepted: %d' % code)
    net.stop_all()  # the stop signs a final checkpoint

    auditor = Auditor(net, trust_dir(net, ['ES', 'CO']))
    bundles = {}
    for g in (es, co):
        data = export(net, g)
        rc, out = auditor.verify(data)
        check(rc == 0 and 'verified' in out, '%s bundle: exit %d\n%s' % (g.state, rc, out))
        bundles[g.state] = parse_bundle(data)
        check(write_bundle(bundles[g.state]) == data, 'parse/write round trip')
        check(sum(r[0] == 'envelope' for r in bundles[g.state]) == 6 and
              sum(r[0] == 'checkpoint' for r in bundles[g.state]) >= 2,
              '%s bundle: %r' % (g.state, [r[:2] for r in bundles[g.state]]))

    # a filtered bundle: inclusion proofs of the selected messages' entries
    filtered = parse_bundle(export(net, es, 'ES-case.mab', '--case', 'CASE-1'))
    check(auditor.verify(write_bundle(filtered))[0] == 0, 'the filtered bundle does not verify')
    incl = [r for r in filtered if r[0] == 'proof' and r[1].startswith('i.')]
    cons = [r for r in bundles['ES'] if r[0] == 'proof' and r[1].startswith('c.')]
    ncp = sum(r[0] == 'checkpoint' for r in bundles['ES'])
    check(incl and len(cons) == ncp - 1, 'ES proofs: %d inclusion (filtered), %d consistency '
          'for %d checkpoints' % (len(incl), len(cons), ncp))

    t0 = time.monotonic()
    groups = [('flips', flip_cases(bundles, rng)), ('entries', entry_cases(bundles, rng)),
              ('proofs', proof_cases(bundles, filtered)),
              ('messages', message_cases(bundles, rng)),
              ('checkpoints', checkpoint_cases(bundles, net, rng)),
              ('manifest', manifest_cases(bundles)),
              ('malformed', malformed_cases(bundles, rng, net))]
    print('test_audit_tamper: %s' % ', '.join('%d %s' % (len(c), g) for g, c in groups))
    cases = [c for _, cs in groups for c in cs]
    workers = min(16, 2 * (os.cpu_count() or 2))
    bad, neutral = [], []
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for case, rc, problem in pool.map(lambda kc: run_case(auditor, *kc),
                                          enumerate(cases)):
            if problem is not None:
                bad.append('%s: %s' % (case.label, problem))
            elif case.neutral and rc == 0:
                neutral.append(case.label)
    print('test_audit_tamper: %d tampered bundles verified in %.1fs (%d workers), %d refused, '
          '%d neutral re-encodings accepted%s' % (
              len(cases), time.monotonic() - t0, workers, len(cases) - len(bad) - len(neutral),
              len(neutral), ''.join('\n  neutral: ' + n for n in neutral)))
    check(not bad, 'seed %d (MLAGW_TAMPER_SEED=%d to replay): %d of %d tampered bundles not '
          'refused as they must be:\n%s' % (seed, seed, len(bad), len(cases),
                                            '\n'.join(bad[:100])))


run(main)
