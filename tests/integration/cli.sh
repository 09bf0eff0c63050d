#!/usr/bin/env bash
# The mlagw CLI as a user meets it: documented exit codes, error messages on stderr that name
# what was wrong, --json output a script can parse, and nothing written on failure.
# usage: cli.sh PATH/TO/mlagw
set -euo pipefail
MLAGW=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect CODE PATTERN CMD...: runs CMD, checks its exit code and that stderr matches PATTERN
expect() {
  local code=$1 pattern=$2 rc=0; shift 2
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" = "$code" ] || { cat "$T/err"; fail "exit $rc, wanted $code: $*"; }
  grep -qE -- "$pattern" "$T/err" || { cat "$T/err"; fail "stderr lacks '$pattern': $*"; }
}

P=$T/pki
"$MLAGW" pki init --state ES --out "$P" --rsa-bits 2048 >/dev/null
"$MLAGW" pki init --state CO --out "$P" --rsa-bits 2048 --json > "$T/pki.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["state"]=="CO" and len(d["files"])==10' "$T/pki.json" \
  || fail "pki --json"
[ "$(stat -c %a "$P/CO/sign.key")" = 600 ] || fail "key mode"
echo '<Request>trace and freeze</Request>' > "$T/doc.xml"
SEAL=(envelope seal --from ES --to CO --kind asset-freezing --in "$T/doc.xml"
      --sign-cert "$P/ES/sign.crt" --sign-key "$P/ES/sign.key" --recipient-cert "$P/CO/encrypt.crt")

"$MLAGW" "${SEAL[@]}" --priority urgent --case-id ES-2026-7 --json --out "$T/env.xml" > "$T/seal.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["case_id"]=="ES-2026-7" and d["bytes"]>0' "$T/seal.json" \
  || fail "seal --json"
"$MLAGW" envelope verify --in "$T/env.xml" --trust "$P/ES/root.crt" --json > "$T/verify.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["result"]=="verified" and d["priority"]=="urgent" and d["from"]=="ES"' "$T/verify.json" \
  || fail "verify --json"
"$MLAGW" envelope open --in "$T/env.xml" --key "$P/CO/encrypt.key" --cert "$P/CO/encrypt.crt" \
  --trust "$P/ES/root.crt" --out "$T/doc.out" >/dev/null
cmp -s "$T/doc.xml" "$T/doc.out" || fail "open did not give the document back"
[ "$(stat -c %a "$T/doc.out")" = 600 ] || fail "opened document must be mode 0600"
echo "ok - seal, verify and open with --json"

expect 2 "is required" "$MLAGW" envelope verify --in "$T/env.xml"
expect 2 "unknown subcommand" "$MLAGW" envelope frobnicate
expect 2 "unknown command" "$MLAGW" frobnicate
expect 2 "priority must be" "$MLAGW" "${SEAL[@]}" --priority high --out "$T/x.xml"
expect 3 "cannot open .*missing.xml" "$MLAGW" envelope verify --in "$T/missing.xml" --trust "$P/ES/root.crt"
chmod 644 "$P/ES/sign.key"
expect 3 "mode 0644" "$MLAGW" "${SEAL[@]}" --out "$T/x.xml"
chmod 600 "$P/ES/sign.key"
[ ! -e "$T/x.xml" ] || fail "a failed seal left an output file"
expect 1 "does not chain to the root of ES|chains to the root of CO|no trusted root for State ES" \
  "$MLAGW" envelope verify --in "$T/env.xml" --trust "$P/CO/root.crt"
expect 1 "addressed to CO, this gateway is ES" "$MLAGW" envelope open --in "$T/env.xml" \
  --key "$P/ES/encrypt.key" --cert "$P/ES/encrypt.crt" --trust "$P/ES/root.crt" --out "$T/y.xml"
sed 's/<mla:Kind>asset-freezing</<mla:Kind>extradition</' "$T/env.xml" > "$T/altered.xml"
expect 1 "header altered" "$MLAGW" envelope verify --in "$T/altered.xml" --trust "$P/ES/root.crt"
[ ! -e "$T/y.xml" ] || fail "a refused open left an output file"
echo "ok - exit codes and messages for usage, file and refusal errors"
"$MLAGW" envelope --help | grep -q "exit: 0 ok" || fail "envelope --help"
"$MLAGW" pki init --help | grep -q -- "--state" || fail "pki init --help"
# key rollover (SPEC 18.9): new keys and requests beside the keys in use, certificates from the
# test CA that chain to the State's root; never over an earlier renewal; a request of the wrong
# key type refused
"$MLAGW" pki renew --state ES --dir "$P" --rsa-bits 2048 >/dev/null || fail "pki renew"
for u in tls sign encrypt audit; do
  openssl verify -CAfile "$P/ES/root.crt" "$P/ES/next/$u.crt" >/dev/null || fail "renewed $u.crt"
  openssl req -in "$P/ES/next/$u.csr" -noout -verify 2>/dev/null || fail "renewed $u.csr"
  [ "$(stat -c %a "$P/ES/next/$u.key")" = 600 ] || fail "renewed $u.key mode"
  cmp -s "$P/ES/$u.crt" "$P/ES/next/$u.crt" && fail "renew touched $u.crt"
done
expect 3 "already exists" "$MLAGW" pki renew --state ES --dir "$P" --uses tls
"$MLAGW" pki renew --state ES --dir "$P" --out "$T/csr" --csr-only --uses encrypt,audit --rsa-bits 2048 >/dev/null
[ -f "$T/csr/encrypt.csr" ] && [ ! -e "$T/csr/encrypt.crt" ] && [ ! -e "$T/csr/tls.key" ] || fail "renew --csr-only --uses"
"$MLAGW" pki issue --state ES --dir "$P" --use encrypt --csr "$T/csr/encrypt.csr" --out "$T/csr/encrypt.crt" >/dev/null
openssl x509 -in "$T/csr/encrypt.crt" -noout -ext keyUsage | grep -q "Key Encipherment" || fail "issued encrypt.crt usage"
expect 2 "wrong type" "$MLAGW" pki issue --state ES --dir "$P" --use sign --csr "$T/csr/audit.csr" --out "$T/csr/x.crt"
expect 2 "is not tls, sign, encrypt or audit" "$MLAGW" pki renew --state ES --dir "$P" --uses tls,bogus
echo "ok - --help on each command"

# mlagw case validate: every example valid, every problem one a line, exit codes
EX=$(cd "$(dirname "$0")/../../protocol/case/examples" && pwd)
for f in "$EX"/*.xml; do
  "$MLAGW" case validate "$f" | grep -q "^valid: " || fail "case validate $f"
done
sed -e 's|<Date>2026-11-20</Date>||' -e 's|<Language>es</Language>||' \
  -e 's|<Nationality>XX</Nationality>|<Nationality>xx</Nationality>|' "$EX/request-mla.xml" > "$T/case.xml"
expect 1 "mutual-assistance: 3 problem" "$MLAGW" case validate "$T/case.xml"
grep -qx "/Request/Common/Date: missing: mandatory element missing" "$T/out" || fail "case: missing Date"
grep -q "^/Request/Common/Language: missing" "$T/out" || fail "case: missing Language"
grep -q "^/Request/Common/Persons/Person\[1\]/Nationality: bad-format" "$T/out" || fail "case: bad State code"
[ "$(wc -l < "$T/out")" = 3 ] || fail "case: one problem a line"
"$MLAGW" case validate "$T/case.xml" --json > "$T/case.json" && fail "case --json: exit 0 on an invalid document"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["class"]=="invalid" and len(d["problems"])==3 and d["problems"][0]["path"].startswith("/Request/")' "$T/case.json" \
  || fail "case --json"
"$MLAGW" case validate "$T/doc.xml" | grep -q "^opaque" || fail "case: a document without namespace is opaque"
expect 2 "subcommand is 'validate'" "$MLAGW" case frobnicate
expect 2 "FILE is required" "$MLAGW" case validate
expect 3 "cannot open .*missing.xml" "$MLAGW" case validate "$T/missing.xml"
echo "ok - case validate: examples, problems one a line, --json, exit codes"
