#!/usr/bin/env bash
# mlagw directory as three States and a publisher use it (protocol/SPEC.md section 18): each
# State describes and signs its entry, the publisher assembles and signs the directory, and
# anyone with the States' roots verifies, shows and compares directories; a tampered entry,
# a root nobody configured, a serial that goes back and an expired directory are refused.
# usage: directory_cli.sh PATH/TO/mlagw
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
for s in ES CO MX; do "$MLAGW" pki init --state $s --out "$P" --rsa-bits 2048 >/dev/null; done
"$MLAGW" pki init --state CO --out "$T/rogue" --rsa-bits 2048 >/dev/null

# describe CC lower [authority languages] > file: an entry description beside the PKI
describe() {
  cat <<JSON
{"state": "$1", "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2099-01-01T00:00:00Z",
 "gateways": ["https://gw.$2.example:8443"], "root": "$1/root.crt",
 "certificates": {"tls": {"current": "$1/tls.crt"}, "signing": {"current": "$1/sign.crt"},
                  "encryption": {"current": "$1/encrypt.crt"}, "audit": {"current": "$1/audit.crt"}},
 "authorities": [{"name": "Central authority of $1", "central": true, "kinds": ["mla", "evidence"],
                  "languages": [${3:-\"es\", \"en\"}]},
                 {"name": "Extradition office of $1", "kinds": ["extradition"], "languages": ["es"]}],
 "channels": [{"type": "email", "value": "mla@$2.example"}],
 "urgent_contact": {"name": "24/7 desk", "phone": "+1 555 0100", "email": "desk@$2.example"}}
JSON
}
for s in ES CO MX; do
  l=$(echo $s | tr A-Z a-z)
  describe $s $l > "$P/$s.json"
  "$MLAGW" directory build --from "$P/$s.json" -o "$T/$s.entry.xml"
  "$MLAGW" directory sign --cert "$P/$s/sign.crt" --key "$P/$s/sign.key" -o "$T/$s.signed.xml" "$T/$s.entry.xml"
done
TRUST=(--trust "$P/ES/root.crt" --trust "$P/CO/root.crt" --trust "$P/MX/root.crt")
"$MLAGW" directory verify --entry "${TRUST[@]}" "$T/CO.signed.xml" > "$T/out"
grep -q "entry of CO: verified" "$T/out" || fail "lone entry"
echo "ok - three States describe and sign their entries"

# publisher ES assembles and signs serial 1 and 2
assemble() { # serial expires out entries...
  local serial=$1 expires=$2 out=$3; shift 3
  "$MLAGW" directory build --serial "$serial" --expires "$expires" --publisher ES -o "$T/unsigned.xml" "$@"
  "$MLAGW" directory sign --cert "$P/ES/sign.crt" --key "$P/ES/sign.key" -o "$out" "$T/unsigned.xml"
  rm -f "$T/unsigned.xml"
}
assemble 1 2099-01-01T00:00:00Z "$T/dir1.xml" "$T/ES.signed.xml" "$T/CO.signed.xml"
assemble 2 2099-01-01T00:00:00Z "$T/dir2.xml" "$T/ES.signed.xml" "$T/CO.signed.xml" "$T/MX.signed.xml"
"$MLAGW" directory verify "${TRUST[@]}" --publisher ES "$T/dir2.xml" > "$T/out"
grep -q "directory serial 2 published by ES, 3 entries (ES CO MX)" "$T/out" || { cat "$T/out"; fail "verify"; }
"$MLAGW" directory verify "${TRUST[@]}" --publisher ES --held "$T/dir1.xml" "$T/dir2.xml" > "$T/out"
grep -q ": verified" "$T/out" || fail "verify above held"
"$MLAGW" directory verify "${TRUST[@]}" --publisher ES --held "$T/dir2.xml" "$T/dir2.xml" > "$T/out"
grep -q "unchanged" "$T/out" || fail "same directory again"
"$MLAGW" directory show "${TRUST[@]}" --publisher ES "$T/dir2.xml" > "$T/show.json"
python3 - "$T/show.json" <<'PY' || fail "show"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["serial"] == "2" and d["publisher"] == "ES"
co = [e for e in d["entries"] if e["state"] == "CO"][0]
assert co["gateways"] == ["https://gw.co.example:8443"]
assert len(co["certificates"]["signing"]["current"]["sha256"]) == 64
assert co["authorities"][1]["kinds"] == ["extradition"]
PY
echo "ok - the publisher assembles and signs; verify, held serial, show"

# both signature levels with the stock xmlsec1 tool (SPEC 18.3), given the signers' certificates
xmlsec1 --verify --id-attr:Id urn:mlagw:directory:1:State --pubkey-cert-pem "$P/CO/sign.crt" \
  "$T/CO.signed.xml" > "$T/out" 2>&1 || { cat "$T/out"; fail "xmlsec1: entry"; }
xmlsec1 --verify --id-attr:Id urn:mlagw:directory:1:Body --node-xpath "/*/*[local-name()='Signature']" \
  --pubkey-cert-pem "$P/ES/sign.crt" "$T/dir2.xml" > "$T/out" 2>&1 || { cat "$T/out"; fail "xmlsec1: directory"; }
xmlsec1 --verify --id-attr:Id urn:mlagw:directory:1:State \
  --node-xpath "//*[@code='MX']/../*[local-name()='Signature']" \
  --pubkey-cert-pem "$P/MX/sign.crt" "$T/dir2.xml" > "$T/out" 2>&1 || { cat "$T/out"; fail "xmlsec1: entry in directory"; }
echo "ok - xmlsec1 verifies the entry, the directory and an entry inside it"

rc=0; "$MLAGW" directory diff "${TRUST[@]}" --publisher ES "$T/dir1.xml" "$T/dir2.xml" > "$T/out" || rc=$?
[ $rc = 1 ] && grep -q "^+ MX added" "$T/out" || { cat "$T/out"; fail "diff"; }
"$MLAGW" directory diff "${TRUST[@]}" --publisher ES "$T/dir2.xml" "$T/dir2.xml" > "$T/out" \
  || fail "diff of a directory with itself"
# CO changes its languages: a new entry, a new serial
describe CO co '"es"' > "$P/CO.json"
"$MLAGW" directory build --from "$P/CO.json" -o "$T/CO2.entry.xml"
"$MLAGW" directory sign --cert "$P/CO/sign.crt" --key "$P/CO/sign.key" -o "$T/CO2.signed.xml" "$T/CO2.entry.xml"
assemble 3 2099-01-01T00:00:00Z "$T/dir3.xml" "$T/ES.signed.xml" "$T/CO2.signed.xml" "$T/MX.signed.xml"
rc=0; "$MLAGW" directory diff "${TRUST[@]}" --publisher ES "$T/dir2.xml" "$T/dir3.xml" > "$T/out" || rc=$?
[ $rc = 1 ] && grep -q "^~ CO authorities, kinds or languages changed" "$T/out" || { cat "$T/out"; fail "diff languages"; }
echo "ok - diff names what changed"

expect 1 "serial went back: 1 is below the held 2" \
  "$MLAGW" directory verify "${TRUST[@]}" --publisher ES --held "$T/dir2.xml" "$T/dir1.xml"
expect 1 "configured publisher is CO" \
  "$MLAGW" directory verify "${TRUST[@]}" --publisher CO "$T/dir2.xml"
expect 1 "no root of MX is configured locally" \
  "$MLAGW" directory verify --trust "$P/ES/root.crt" --trust "$P/CO/root.crt" --publisher ES "$T/dir2.xml"
# expiry: within and past the grace period
# (within the certificates' validity, which is also checked at --at)
at() { date -u -d "@$(( $(date -u +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
EXP=$(at 86400)
assemble 4 "$EXP" "$T/dir4.xml" "$T/ES.signed.xml"
"$MLAGW" directory verify "${TRUST[@]}" --publisher ES --at "$(at $((86400 + 43200)))" --grace 86400 "$T/dir4.xml" \
  > "$T/out" 2> "$T/err" || { cat "$T/err"; fail "within grace"; }
grep -q "warning: directory serial 4 expired at $EXP" "$T/err" || fail "grace warning"
expect 1 "past the grace period of 86400 s" \
  "$MLAGW" directory verify "${TRUST[@]}" --publisher ES --at "$(at $((3 * 86400)))" --grace 86400 "$T/dir4.xml"
# a publisher alters CO's signed entry
sed 's#https://gw.co.example#https://gw.evil.example#' "$T/CO.signed.xml" > "$T/CO.bad.xml"
assemble 5 2099-01-01T00:00:00Z "$T/dir5.xml" "$T/ES.signed.xml" "$T/CO.bad.xml"
expect 1 "signature of the entry of CO does not verify" \
  "$MLAGW" directory verify "${TRUST[@]}" --publisher ES "$T/dir5.xml"
# altered after the publisher signed
sed 's#https://gw.mx.example#https://gw.evil.example#' "$T/dir2.xml" > "$T/dir2.bad.xml"
expect 1 "signature of the directory does not verify" \
  "$MLAGW" directory verify "${TRUST[@]}" --publisher ES "$T/dir2.bad.xml"
# a CO entry under a root nobody configured here, signed with that PKI's key
describe CO co > "$T/rogue/CO.json"
"$MLAGW" directory build --from "$T/rogue/CO.json" -o "$T/rogue.entry.xml"
"$MLAGW" directory sign --cert "$T/rogue/CO/sign.crt" --key "$T/rogue/CO/sign.key" -o "$T/rogue.signed.xml" "$T/rogue.entry.xml"
assemble 6 2099-01-01T00:00:00Z "$T/dir6.xml" "$T/ES.signed.xml" "$T/rogue.signed.xml"
expect 1 "root certificate other than the one configured locally for CO" \
  "$MLAGW" directory verify "${TRUST[@]}" --publisher ES "$T/dir6.xml"
# another State's key cannot sign CO's entry
expect 1 "not the signing certificate the entry of CO lists" \
  "$MLAGW" directory sign --cert "$P/MX/sign.crt" --key "$P/MX/sign.key" -o "$T/CO.by-mx.xml" "$T/CO.entry.xml"
[ ! -e "$T/CO.by-mx.xml" ] || fail "nothing is written on failure"
expect 3 "signed already" \
  "$MLAGW" directory sign --cert "$P/CO/sign.crt" --key "$P/CO/sign.key" -o "$T/x.xml" "$T/CO.signed.xml"
[ ! -e "$T/x.xml" ] || fail "nothing is written on failure"
expect 2 "needs --cert" "$MLAGW" directory sign "$T/CO.entry.xml"
echo "ok - serial back, wrong publisher, unknown State, grace, tampering, foreign root and signer refused"
