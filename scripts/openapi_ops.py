#!/usr/bin/env python3
"""Reads docs/api/openapi.yaml (a strict YAML subset, below) and writes the C table of the
local API's operations (gateway/api_auth.h: struct api_op): method, path, operationId, roles,
own-only roles, audit flag. Python 3 standard library only; used by the build and the tests.

    openapi_ops.py OPENAPI_YAML OUT_C

The YAML subset: block mappings and block sequences (2-space steps are usual, any deeper
indent works), plain, 'single' or "double" quoted scalars, flow sequences of plain scalars
([a, b], []), the empty flow mapping {}, literal and folded block scalars (| |- > >-),
and # comments. Anchors, aliases, tags, multi-line flow collections, tabs in indentation,
duplicate keys and anything else are refused with LINE: problem."""
import re
import sys

ROLES = ("authority", "agency", "auditor", "admin")  # order = bit order in api_auth.h
METHODS = ("get", "post", "put", "patch", "delete")


class YamlError(Exception):
    pass


def _strip_comment(text):
    """text without a trailing ' #' comment, quotes respected."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and (i == 0 or text[i - 1] in " [,:"):
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.rstrip()


def _scalar(text, ln):
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'") or "'" in text[1:-1].replace("''", ""):
            raise YamlError("%d: malformed single-quoted scalar" % ln)
        return text[1:-1].replace("''", "'")
    if text.startswith('"'):
        body = text[1:-1]
        if len(text) < 2 or not text.endswith('"') or re.search(r'(?<!\\)"', body) or \
                re.search(r'\\[^"\\n]', body):
            raise YamlError("%d: malformed double-quoted scalar (escapes: \\\" \\\\ \\n)" % ln)
        return body.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
    if text == "{}":
        return {}
    if text.startswith("["):
        if not text.endswith("]"):
            raise YamlError("%d: flow sequence must end on its line" % ln)
        inner = text[1:-1].strip()
        items = [] if inner == "" else [i.strip() for i in inner.split(",")]
        for i in items:
            if i == "" or not re.fullmatch(r"[A-Za-z0-9_./+-][A-Za-z0-9_./+ -]*", i):
                raise YamlError("%d: flow sequence items must be plain words" % ln)
        return [_plain(i) for i in items]
    if text[0] in "{&*!%@`|>" or ": " in text or text.endswith(":"):
        raise YamlError("%d: unsupported or ambiguous scalar %r" % (ln, text[:20]))
    return _plain(text)


def _plain(text):
    if text in ("true", "false"):
        return text == "true"
    if text in ("null", "~"):
        return None
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return text


def _lines(src):
    out = []
    for ln, raw in enumerate(src.split("\n"), 1):
        raw = raw.rstrip("\r")
        body = raw.lstrip(" ")
        if body.startswith("\t"):
            raise YamlError("%d: tab in indentation" % ln)
        out.append((ln, len(raw) - len(body), raw))
    return out


class _Reader:
    def __init__(self, src):
        self.lines = _lines(src)
        self.i = 0

    def _skip(self):
        while self.i < len(self.lines):
            _, _, raw = self.lines[self.i]
            s = raw.strip()
            if s and not s.startswith("#"):
                return True
            self.i += 1
        return False

    def peek_indent(self):
        return self.lines[self.i][1] if self._skip() else -1

    def block(self, indent):
        """The node whose lines start at exactly indent."""
        ln, ind, raw = self.lines[self.i]
        if ind != indent:
            raise YamlError("%d: bad indentation" % ln)
        if raw.strip().startswith("- ") or raw.strip() == "-":
            return self.sequence(indent)
        return self.mapping(indent)

    def _value(self, rest, indent, ln):
        """The value after 'key:' or '- ' (rest stripped of comments)."""
        if rest in ("|", "|-", ">", ">-"):
            return self.block_scalar(indent, rest, ln)
        if rest != "":
            return _scalar(rest, ln)
        child = self.peek_indent()
        if child <= indent:
            raise YamlError("%d: empty value (use '' or [] or {})" % ln)
        return self.block(child)

    def block_scalar(self, indent, style, ln):
        body, first = [], None
        while self.i < len(self.lines):
            _, ind, raw = self.lines[self.i]
            if raw.strip() and ind <= indent:
                break
            if raw.strip() and first is None:
                first = ind
            body.append(raw[first:] if raw.strip() else "")
            self.i += 1
        while body and body[-1] == "":
            body.pop()
        if not body:
            raise YamlError("%d: empty block scalar" % ln)
        text = "\n".join(body) if style[0] == "|" else " ".join(body)
        return text if style.endswith("-") else text + "\n"

    def mapping(self, indent, first=None):
        out = {}
        while self._skip():
            ln, ind, raw = self.lines[self.i]
            ind = indent if first is not None else ind  # "- key: value": the item's first key
            if ind < indent:
                break
            if ind > indent:
                raise YamlError("%d: bad indentation" % ln)
            text = first if first is not None else _strip_comment(raw.strip())
            first = None
            if text.startswith("- "):
                break
            m = re.fullmatch(r"('(?:[^']|'')*'|[^'\"\s#][^:#]*?|/[^ :]*):(?: +(.*))?", text)
            if not m:
                raise YamlError("%d: expected 'key: value'" % ln)
            key = _scalar(m.group(1), ln) if m.group(1)[0] == "'" else m.group(1)
            if key in out:
                raise YamlError("%d: duplicate key %r" % (ln, key))
            rest = (m.group(2) or "").strip()
            self.i += 1
            out[key] = self._value(rest, indent, ln)
        return out

    def sequence(self, indent):
        out = []
        while self._skip():
            ln, ind, raw = self.lines[self.i]
            text = _strip_comment(raw.strip())
            if ind < indent or (ind == indent and not text.startswith("- ")):
                break
            if ind > indent:
                raise YamlError("%d: bad indentation" % ln)
            item = text[2:].strip()
            if re.match(r"('[^']*'|[^'\"\[{][^:]*):( |$)", item):
                out.append(self.mapping(indent + 2, first=item))  # "- key: value" starts a map
            else:
                self.i += 1
                out.append(self._value(item, indent, ln))
        return out


def load(src):
    r = _Reader(src)
    if r.peek_indent() != 0:
        raise YamlError("1: the document must start with a mapping at column 0")
    doc = r.mapping(0)
    if r._skip():
        raise YamlError("%d: unexpected content" % r.lines[r.i][0])
    return doc


def operations(doc):
    """[(operationId, METHOD, path, roles, own, audit)] in document order; checked."""
    ops, seen = [], set()
    for path, item in doc.get("paths", {}).items():
        if not re.fullmatch(r"/[A-Za-z0-9_./{}-]*", path) or not isinstance(item, dict):
            raise YamlError("path %r: malformed" % path)
        for method, op in item.items():
            if method not in METHODS:
                raise YamlError("%s: unknown method %r" % (path, method))
            oid = op.get("operationId")
            where = "%s %s" % (method.upper(), path)
            if not isinstance(oid, str) or not re.fullmatch(r"[a-z][A-Za-z0-9]{0,47}", oid):
                raise YamlError("%s: operationId missing or not camelCase" % where)
            if oid in seen:
                raise YamlError("%s: operationId %s repeated" % (where, oid))
            seen.add(oid)
            roles, own = op.get("x-mlagw-roles"), op.get("x-mlagw-own", [])
            audit = op.get("x-mlagw-audit", False)
            if not isinstance(roles, list) or not roles or \
                    any(r not in ROLES for r in roles) or len(set(roles)) != len(roles):
                raise YamlError("%s: x-mlagw-roles must list roles among %s" % (where, ROLES))
            if not isinstance(own, list) or any(r not in roles for r in own):
                raise YamlError("%s: x-mlagw-own must be a subset of x-mlagw-roles" % where)
            if not isinstance(audit, bool):
                raise YamlError("%s: x-mlagw-audit must be true or false" % where)
            ops.append((oid, method.upper(), path, roles, own, audit))
    return ops


def _mask(roles):
    return " | ".join("API_ROLE_BIT(API_ROLE_%s)" % r.upper() for r in roles) or "0"


def c_table(ops):
    out = ["/* Generated by scripts/openapi_ops.py from docs/api/openapi.yaml: do not edit. */",
           '#include "api_auth.h"', "", "const struct api_op api_ops[] = {"]
    for oid, method, path, roles, own, audit in ops:
        out.append('\t{"%s", API_%s, "%s",\n\t (unsigned)(%s),\n\t (unsigned)(%s), %d},'
                   % (oid, method, path, _mask(roles), _mask(own), int(audit)))
    out += ["};", "", "const size_t api_ops_n = sizeof(api_ops) / sizeof(api_ops[0]);", ""]
    return "\n".join(out)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: openapi_ops.py OPENAPI_YAML OUT_C\n")
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            ops = operations(load(f.read()))
    except (OSError, YamlError) as e:
        sys.stderr.write("%s: %s\n" % (argv[1], e))
        return 1
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(c_table(ops))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
