#!/usr/bin/env python3
"""Differential check of two builds of mlagw audit verify on tampered bundles (SPEC 15
"Verifier memory": a verifier may implement the steps any way that gives the same failures in
the same order). Each seed applies one to six random changes to a real bundle (an envelope's or
receipt's byte flipped, a record deleted, two records' bytes swapped, a receipt replaced by
another's, an entry's digest changed), keeps its manifest's counts right, and compares the two
verifiers' --json reports and exit statuses byte for byte.

usage: audit-verify-differential.py OLD_MLAGW NEW_MLAGW BUNDLE TRUST_DIR FIRST_SEED COUNT
(bundle: e.g. mlagw bench gateway --keep, then mlagw audit export). Exit 1 on any difference."""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

OLD, NEW = sys.argv[1], sys.argv[2]
def parse(data):
    i=data.index(b'\n')+1; magic=data[:i]; recs=[]
    while i<len(data):
        j=data.index(b'\n',i); t,n,l=data[i:j].split(b' '); l=int(l)
        recs.append([t,n,data[j+1:j+1+l]]); i=j+1+l+1
    return magic,recs
def build(magic,recs):
    m=json.loads(recs[0][2])
    m['counts']['envelopes']=sum(1 for r in recs if r[0]==b'envelope')
    m['counts']['receipts']=sum(1 for r in recs if r[0]==b'receipt')
    recs[0][2]=json.dumps(m).encode()
    out=[magic]
    for t,n,b in recs: out.append(t+b' '+n+b' '+str(len(b)).encode()+b'\n'+b+b'\n')
    return b''.join(out)
def idx(recs,t): return [i for i,r in enumerate(recs) if r[0]==t]
def flip(b,rng):
    b=bytearray(b); k=rng.randrange(len(b)); b[k]^=0x01; return bytes(b)
def mut(recs,rng,kind):
    E=idx(recs,b'envelope'); R=idx(recs,b'receipt'); N=idx(recs,b'entry')
    if kind=='flip_env': i=rng.choice(E); recs[i][2]=flip(recs[i][2],rng)
    elif kind=='flip_rec': i=rng.choice(R); recs[i][2]=flip(recs[i][2],rng)
    elif kind=='del_env': del recs[rng.choice(E)]
    elif kind=='del_rec': del recs[rng.choice(R)]
    elif kind=='swap_env':
        a,b=rng.sample(E,2); recs[a][2],recs[b][2]=recs[b][2],recs[a][2]
    elif kind=='swap_rec':
        a,b=rng.sample(R,2); recs[a][2],recs[b][2]=recs[b][2],recs[a][2]
    elif kind=='entry_sha':
        i=rng.choice(N); s=recs[i][2]
        m=re.search(rb'\n(envelope|receipt)-sha256 ([0-9a-f]{64})',s)
        if m:
            h=bytearray(m.group(2)); h[5]=ord('0') if h[5]!=ord('0') else ord('1')
            recs[i][2]=s[:m.start(2)]+bytes(h)+s[m.end(2):]
    elif kind=='rec_env_swap':  # a receipt's bytes replaced by another message's receipt, envelope too
        a,b=rng.sample(R,2); recs[a][2]=recs[b][2]
def run(binary,path):
    p=subprocess.run([binary,'audit','verify',path,'--trust',sys.argv[4],'--json'],capture_output=True,text=True)
    return p.returncode,p.stdout
src=sys.argv[3]; seed0=int(sys.argv[5]); n=int(sys.argv[6])
work=tempfile.mkdtemp(prefix='mlagw-vdiff.')
magic,recs0=parse(open(src,'rb').read())
kinds=['flip_env','flip_rec','del_env','del_rec','swap_env','swap_rec','entry_sha','rec_env_swap']
diffs=0
for s in range(seed0,seed0+n):
    rng=random.Random(s); recs=[list(r) for r in recs0]
    ks=[rng.choice(kinds) for _ in range(rng.randint(1,6))]
    for k in ks: mut(recs,rng,k)
    path=os.path.join(work,'t.bundle'); open(path,'wb').write(build(magic,recs))
    a=run(OLD,path); b=run(NEW,path)
    if a!=b:
        diffs+=1; print('DIFF seed',s,ks,'reports in',work)
        open(os.path.join(work,'old_%d.json'%s),'w').write(a[1]); open(os.path.join(work,'new_%d.json'%s),'w').write(b[1])
    else:
        j=json.loads(a[1]); print('same seed',s,ks,'rc',a[0],'failures',len(j.get('failures',[])))
print('diffs',diffs)
if not diffs:
    shutil.rmtree(work, ignore_errors=True)
sys.exit(1 if diffs else 0)
