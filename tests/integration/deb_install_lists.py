#!/usr/bin/env python3
"""The Debian package's file lists against what `meson install` installs (issue 18), without a
build: meson configured as debhelper does (prefix /usr, /etc, /var; no tests; man pages on),
then `meson introspect --installed`. Every installed file must be claimed by a
debian/*.install or debian/not-installed (dh_missing would fail the package build), and every
.install line must match an installed file (dh_install would). A few seconds; the package
build itself is scripts/deb-check.sh, by hand.
  deb_install_lists.py SOURCE_ROOT
"""
import fnmatch
import json
import os
import subprocess
import sys
import tempfile


def entries(path, multiarch):
    """The lines of a debhelper list, ${DEB_HOST_MULTIARCH} substituted, without '/' ends."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            out.append(line.replace("${DEB_HOST_MULTIARCH}", multiarch).strip("/"))
    return out


def claims(entry, path):
    return path == entry or path.startswith(entry + "/") or fnmatch.fnmatchcase(path, entry)


def main():
    src = sys.argv[1]
    deb = os.path.join(src, "debian")
    with tempfile.TemporaryDirectory(prefix="mlagw-deb-lists-") as tmp:
        build = os.path.join(tmp, "b")
        setup = subprocess.run(
            ["meson", "setup", build, "--prefix=/usr", "--sysconfdir=/etc",
             "--localstatedir=/var", "-Dtests=false", "-Dman=enabled"],
            cwd=src, capture_output=True, text=True, timeout=120)
        if setup.returncode != 0:
            print(setup.stdout[-2000:], setup.stderr[-2000:])
            sys.exit("meson setup as debhelper runs it failed")
        installed = json.loads(subprocess.run(
            ["meson", "introspect", build, "--installed"], check=True, capture_output=True,
            text=True).stdout)
        options = json.loads(subprocess.run(
            ["meson", "introspect", build, "--buildoptions"], check=True, capture_output=True,
            text=True).stdout)
    libdir = next(o["value"] for o in options if o["name"] == "libdir")
    # Debian's meson libdir is lib/<multiarch>: the value of ${DEB_HOST_MULTIARCH}
    multiarch = libdir.split("/", 1)[1] if libdir.startswith("lib/") else ""
    files = sorted(p.lstrip("/") for p in installed.values())
    lists = {name: entries(os.path.join(deb, name), multiarch)
             for name in sorted(os.listdir(deb))
             if name.endswith(".install") or name == "not-installed"}
    problems = []
    for path in files:
        owners = [n for n, es in lists.items() if any(claims(e, path) for e in es)]
        if not owners:
            problems.append(f"/{path} is installed by meson but in no debian/*.install "
                            "or debian/not-installed")
        elif len(owners) > 1:
            problems.append(f"/{path} is claimed by {' and '.join(owners)}")
    for name, es in lists.items():
        if name == "not-installed":  # may name what introspection omits (empty directories)
            continue
        for e in es:
            if not any(claims(e, p) for p in files):
                problems.append(f"debian/{name}: {e} matches nothing meson installs")
    print(f"{len(files)} installed files, lists {', '.join(lists)} (multiarch {multiarch})")
    for p in problems:
        print("FAIL:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
