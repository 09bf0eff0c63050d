#!/usr/bin/env python3
"""Checks the layout rules of README.md "What is here" (STYLE item 1):
 1. no file includes another part's internal header: gateway/X/ includes another subsystem
    only as "Y/name.h" and never Y's *_internal.h; protocol parts include only their own
    headers, the public ones (mlagw/...) and the internal headers their meson.build declares
    (ALLOWED below); cli/ and the gateway include no protocol internal header at all;
 2. the gateway's subsystems, as included (gateway/X/ includes "Y/..."), form no cycle;
 3. with a build directory (--build DIR): the gateway's subsystems, as linked (who uses whose
    symbols, read with nm from the static libraries), form no cycle either.
Prints what it checked; exits 1 naming every violation. Tests are white-box and may include
the internal headers of what they test."""
import argparse, collections, pathlib, re, subprocess, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# protocol part -> parts whose internal headers it may include (declared in its meson.build)
ALLOWED = {"envelope": {"util"}, "receipt": {"envelope"}, "case": {"envelope"},
           "directory": {"envelope"}}


def headers_of(folder):
    return {p.name for p in folder.glob("*.h")}


def check_includes(bad):
    proto = {d.name: headers_of(d) for d in (ROOT / "protocol").iterdir() if d.is_dir()}
    proto_internal = set().union(*proto.values())
    gw = {d.name for d in (ROOT / "gateway").iterdir() if d.is_dir()}
    n = 0
    for part, hs in proto.items():
        for f in sorted((ROOT / "protocol" / part).glob("*.[ch]")):
            for inc in INC.findall(f.read_text()):
                n += 1
                if inc.startswith("mlagw/") or inc in hs:
                    continue
                owner = [p for p, h in proto.items() if inc in h]
                if not owner or not set(owner) & ALLOWED.get(part, set()):
                    bad.append("%s: includes %s (%s)" % (f.relative_to(ROOT), inc,
                               "internal to protocol/" + owner[0] if owner else "not found"))
    includes = collections.defaultdict(set)
    for sub in sorted(gw):
        folder = ROOT / "gateway" / sub
        for f in sorted(folder.glob("*.[ch]")):
            for inc in INC.findall(f.read_text()):
                n += 1
                if inc.startswith("mlagw/"):
                    continue
                if "/" in inc:
                    other, name = inc.split("/", 1)
                    if other not in gw or not (ROOT / "gateway" / inc).exists():
                        bad.append("%s: includes %s (no such subsystem header)" % (f.relative_to(ROOT), inc))
                    elif other != sub and name.endswith("_internal.h"):
                        bad.append("%s: includes %s, internal to gateway/%s" % (f.relative_to(ROOT), inc, other))
                    elif other != sub:
                        includes[sub].add(other)
                elif not (folder / inc).exists():
                    bad.append("%s: includes %s (%s)" % (f.relative_to(ROOT), inc,
                               "a protocol internal header" if inc in proto_internal else "not in gateway/%s" % sub))
    for f in sorted((ROOT / "cli").rglob("*.[ch]")):
        for inc in INC.findall(f.read_text()):
            n += 1
            if inc in proto_internal and not (f.parent / inc).exists():
                bad.append("%s: includes %s, a protocol internal header" % (f.relative_to(ROOT), inc))
            if "/" in inc and inc.split("/", 1)[1].endswith("_internal.h"):
                bad.append("%s: includes %s, an internal header" % (f.relative_to(ROOT), inc))
    return n, gw, includes


def check_include_graph(gw, includes, bad):
    print_graph("gateway subsystems, as included (X -> Y: X includes Y's headers):", gw, includes,
                "(no other subsystem)")
    for c in cycles(gw, includes):
        bad.append("include cycle between gateway subsystems: " + " <-> ".join(c))


def nm_symbols(lib):
    out = subprocess.run(["nm", "-g", "--defined-only", str(lib)], capture_output=True, text=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if len(l.split()) == 3}
    out = subprocess.run(["nm", "-g", "--undefined-only", str(lib)], capture_output=True, text=True).stdout
    undefined = {l.split()[-1] for l in out.splitlines() if l.strip()}
    return defined, undefined - defined


def check_link_graph(build, bad):
    libs = {}
    for lib in sorted((pathlib.Path(build) / "gateway").glob("*/libgw_*.a")):
        libs[lib.parent.name + ("" if lib.stem == "libgw_" + lib.parent.name else ":" + lib.stem[6:])] = nm_symbols(lib)
    if not libs:
        bad.append("no gateway libraries under %s/gateway (build first)" % build)
        return
    owner = {}
    for name, (d, _) in libs.items():
        for s in d:
            owner[s] = name.split(":")[0]
    edges = collections.defaultdict(set)
    for name, (_, u) in libs.items():
        for s in u:
            if s in owner and owner[s] != name.split(":")[0]:
                edges[name.split(":")[0]].add(owner[s])
    names = set(n.split(":")[0] for n in libs)
    print_graph("gateway subsystems, as linked (X -> Y: X uses Y's functions):", names, edges,
                "(protocol library only)")
    for c in cycles(names, edges):
        bad.append("cycle between gateway subsystems: " + " <-> ".join(c))


def print_graph(title, nodes, edges, none):
    print(title)
    for a in sorted(nodes):
        print("  %-7s -> %s" % (a, ", ".join(sorted(edges[a])) or none))


def cycles(nodes, edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: sccs.append(sorted(comp))
    for v in sorted(nodes):
        if v not in index: visit(v)
    return sccs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", help="build directory: also check the subsystems' link graph")
    a = ap.parse_args()
    bad = []
    n, gw, includes = check_includes(bad)
    print("check-layout: %d includes read in protocol/, gateway/, cli/" % n)
    check_include_graph(gw, includes, bad)
    if a.build:
        check_link_graph(a.build, bad)
    for b in bad:
        print("  " + b, file=sys.stderr)
    if bad:
        print("check-layout: %d violation(s)" % len(bad), file=sys.stderr)
        return 1
    print("check-layout: no include of another part's internal header, no include cycle%s" %
          (", no link cycle" if a.build else ""))
    return 0


sys.exit(main())
