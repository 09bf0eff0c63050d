#!/usr/bin/env python3
"""Fails when a function declared in a public header (include/mlagw/*.h) lacks the mla_
prefix (STYLE item 1: the public API is the library's namespace; internal symbols keep their
module prefixes). Reads declarations with a small C tokenizer: comments and strings dropped,
then every identifier directly followed by '(' at file scope that is not a macro, a type
or a function-pointer typedef."""
import re, sys, pathlib

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
bad = []
for h in sorted((root / "include" / "mlagw").glob("*.h")):
    text = h.read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    # drop preprocessor lines (with continuations)
    text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
    depth = 0
    stmt = []
    for tok in re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\S", text):
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        if depth == 0 and tok == ";":
            s = " ".join(stmt)
            stmt = []
            if s.startswith("typedef") or "(" not in s:
                continue
            m = re.match(r"(?:[A-Za-z_][A-Za-z0-9_]*\s*|\*\s*)*?([A-Za-z_][A-Za-z0-9_]*)\s*\(", s)
            if m and not m.group(1).startswith("mla_"):
                bad.append("%s: %s" % (h.relative_to(root), m.group(1)))
        elif depth == 0 and tok != "}":
            stmt.append(tok)
        elif tok == "}" and depth == 0:
            stmt = []
if bad:
    print("public functions without the mla_ prefix (include/mlagw/):", file=sys.stderr)
    for b in bad:
        print("  " + b, file=sys.stderr)
    sys.exit(1)
print("check-prefix: every function declared in include/mlagw/ starts with mla_")
