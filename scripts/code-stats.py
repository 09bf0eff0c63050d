#!/usr/bin/env python3
"""Function-length distribution and the largest files of the C sources (STYLE item 10), for
closing notes and reviews: `python3 scripts/code-stats.py [REV]` reads the working tree, or
the tree of git revision REV. A function is a body opened by '{' and closed by '}' in column 0
(the project's style); its length counts the lines between them."""
import statistics, subprocess, sys

rev = sys.argv[1] if len(sys.argv) > 1 else None
ls = ["git", "ls-tree", "-r", "--name-only", rev] if rev else ["git", "ls-files"]
files = [f for f in subprocess.check_output(ls, text=True).split()
         if f.endswith((".c", ".h")) and not f.startswith("tests/")]
lengths, sizes = [], []
for f in files:
    text = subprocess.check_output(["git", "show", "%s:%s" % (rev, f)], text=True) if rev else open(f).read()
    lines = text.split("\n")
    sizes.append((len(lines) - (1 if text.endswith("\n") else 0), f))
    start = None
    for i, l in enumerate(lines):
        if l == "{":
            start = i
        elif l.startswith("}") and start is not None:
            lengths.append((i - start - 1, "%s:%d" % (f, start)))
            start = None
lengths.sort()
n = [x for x, _ in lengths]
q = statistics.quantiles(n, n=10)
print("%d C files outside tests/, %d functions" % (len(files), len(n)))
print("function length (lines): median %d, p90 %d, max %d (%s)" %
      (statistics.median(n), q[8], n[-1], lengths[-1][1]))
print("functions over 40 lines: %d; over 80: %d" % (sum(x > 40 for x in n), sum(x > 80 for x in n)))
print("largest files:")
for s, f in sorted(sizes, reverse=True)[:8]:
    print("  %5d  %s" % (s, f))
