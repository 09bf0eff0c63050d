#!/usr/bin/env python3
"""docs/api/openapi.yaml against the generated operation table and the protocol's vocabulary:
every operation has an operationId (unique), roles and the standard error responses; paths
are unique and no two templates can match the same request; every $ref resolves; the table
generated at build time (api_ops.c) has exactly the document's operations, roles and audit
flags; kinds, actions, priorities and handling codes are those of protocol/header.c, message
states those of gateway/store.c. Python 3 standard library only.

    test_openapi.py SOURCE_ROOT GENERATED_API_OPS_C"""
import os
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "."
sys.path.insert(0, os.path.join(SRC, "scripts"))
import openapi_ops  # noqa: E402  (the build's own reader: the test checks what the build uses)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def read(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return f.read()


def c_list(src, name):
    """The strings of `const char *const name[] = {...}` in a C source."""
    m = re.search(r"\b%s\[\]\s*=\s*\{(.*?)\};" % re.escape(name), src, re.S)
    return re.findall(r'"([^"]*)"', m.group(1)) if m else None


def resolve(doc, ref):
    node = doc
    for part in ref[2:].split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def walk(node, fn):
    fn(node)
    if isinstance(node, dict):
        for v in node.values():
            walk(v, fn)
    elif isinstance(node, list):
        for v in node:
            walk(v, fn)


def ambiguous(a, b):
    sa, sb = a.split("/"), b.split("/")
    return a != b and len(sa) == len(sb) and all(
        x == y or x.startswith("{") or y.startswith("{") for x, y in zip(sa, sb))


def check_document(doc, ops):
    check(doc.get("openapi") == "3.0.3", "openapi must be 3.0.3")
    check(doc.get("x-mlagw-audit-forbidden") is True, "x-mlagw-audit-forbidden must be true")
    check("bearerToken" in doc["components"]["securitySchemes"], "bearerToken scheme missing")
    check(doc.get("security") == [{"bearerToken": []}], "global security must be bearerToken")
    paths = list(doc["paths"])
    check(len(paths) == len(set(paths)), "repeated path")
    for a in paths:
        check(a == "/healthz" or a == "/metrics" or a.startswith("/api/v1/"),
              "%s: outside /api/v1" % a)
        for b in paths:
            check(not (a < b and ambiguous(a, b)), "paths %s and %s overlap" % (a, b))
        for t in re.findall(r"\{([^}]*)\}", a):
            params = [resolve(doc, p["$ref"]) if "$ref" in p else p
                      for m in doc["paths"][a].values() for p in m.get("parameters", [])]
            check(any(p and p.get("in") == "path" and p.get("name") == t for p in params),
                  "%s: path parameter {%s} not declared" % (a, t))
    for oid, method, path, roles, own, audit in ops:
        op = doc["paths"][path][method.lower()]
        where = "%s %s" % (method, path)
        resp = op.get("responses", {})
        check("401" in resp, "%s: no 401 response" % where)
        check("403" in resp or len(roles) == 4, "%s: no 403 response" % where)
        check(any(c.startswith("2") for c in resp), "%s: no success response" % where)
        if "requestBody" in op:
            check("413" in resp and "400" in resp, "%s: a body needs 400 and 413" % where)
        if any(p.get("in") == "path" or "$ref" in p for p in op.get("parameters", [])):
            check("400" in resp, "%s: parameters need a 400 response" % where)
    check(ops[[o[0] for o in ops].index("fetchDocument")][5], "fetchDocument must be audited")
    reason = [p for p in doc["paths"]["/api/v1/inbox/{message_id}/document"]["get"]["parameters"]
              if p.get("name") == "reason"]
    check(len(reason) == 1 and reason[0].get("required") is True, "fetchDocument needs reason")

    def ref_ok(node):
        if isinstance(node, dict) and "$ref" in node:
            check(node["$ref"].startswith("#/") and resolve(doc, node["$ref"]) is not None,
                  "unresolved $ref %s" % node["$ref"])
    walk(doc, ref_ok)
    err = doc["components"]["schemas"]["Error"]
    check(sorted(err["properties"]) == ["code", "field", "message", "problems"] and
          err["required"] == ["code", "message"],
          "Error must be {code, message, field, problems} (what mla_json_error and "
          "mla_json_error_problems write)")


def check_vocabulary(doc):
    s = doc["components"]["schemas"]
    header = read("protocol/envelope/header.c")
    for schema, name in (("Kind", "mla_kinds"), ("Action", "mla_actions"),
                         ("Handling", "mla_handling_codes"), ("Priority", "priority_names")):
        check(s.get(schema, {}).get("enum") == c_list(header, name),
              "%s enum differs from protocol/header.c %s" % (schema, name))
    check(s.get("AnswerAction", {}).get("enum") == [a for a in c_list(header, "mla_actions") if a != "request"],
          "AnswerAction must be every action but request")
    states = c_list(read("gateway/store/store.c"), "names")
    check(s.get("MessageState", {}).get("enum") == states + ["received"],
          "MessageState differs from gateway/store.c msg_state_name")


def check_table(ops, c_path):
    with open(c_path, encoding="utf-8") as f:
        gen = f.read()
    rows = re.findall(r'\{"(\w+)", API_(\w+), "([^"]+)",\s*\(unsigned\)\(([^)]*(?:\)[^)]*)*?)\),'
                      r'\s*\(unsigned\)\(([^)]*(?:\)[^)]*)*?)\), ([01])\}', gen)

    def roles(mask):
        return sorted(re.findall(r"API_ROLE_([A-Z]+)\)", mask))
    table = {r[0]: (r[1], r[2], roles(r[3]), roles(r[4]), r[5] == "1") for r in rows}
    check(len(rows) == len(table), "operationId repeated in %s" % c_path)
    doc = {o[0]: (o[1], o[2], sorted(r.upper() for r in o[3]),
                  sorted(r.upper() for r in o[4]), o[5]) for o in ops}
    for oid in sorted(set(doc) | set(table)):
        check(oid in table, "%s: documented but not in the generated table" % oid)
        check(oid in doc, "%s: in the generated table but not documented" % oid)
        check(oid not in doc or oid not in table or doc[oid] == table[oid],
              "%s: document %r, table %r" % (oid, doc.get(oid), table.get(oid)))


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        doc = openapi_ops.load(read("docs/api/openapi.yaml"))
        ops = openapi_ops.operations(doc)
    except openapi_ops.YamlError as e:
        print("docs/api/openapi.yaml: %s" % e)
        return 1
    check_document(doc, ops)
    check_vocabulary(doc)
    check_table(ops, sys.argv[2])
    for f in failures:
        print("FAIL: %s" % f)
    print("%d operations, %d problems" % (len(ops), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
