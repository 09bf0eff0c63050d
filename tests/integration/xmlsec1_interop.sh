#!/usr/bin/env bash
# Interoperability: the stock xmlsec1 command-line tool (not our code) verifies the signature
# of an envelope sealed by mlagw against the sender's root, and decrypts its payload with the
# recipient's key; gzip then gives back the original document byte for byte.
# usage: xmlsec1_interop.sh PATH/TO/mlagw
set -euo pipefail
MLAGW=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$MLAGW" pki init --state ES --out "$T/pki" --rsa-bits 2048 >/dev/null
"$MLAGW" pki init --state CO --out "$T/pki" --rsa-bits 2048 >/dev/null
P=$T/pki
IDS=(--id-attr:Id urn:mlagw:envelope:1:Header --id-attr:Id urn:mlagw:envelope:1:Payload)

for size in 0 2048 1048576; do
  head -c "$size" /dev/urandom | base64 > "$T/doc.txt"
  "$MLAGW" envelope seal --from ES --to CO --kind evidence --in "$T/doc.txt" \
    --sign-cert "$P/ES/sign.crt" --sign-key "$P/ES/sign.key" \
    --recipient-cert "$P/CO/encrypt.crt" --out "$T/env.xml" >/dev/null

  # --enabled-key-data x509: only the certificate chain may supply the key (no KeyValue)
  xmlsec1 --verify --trusted-pem "$P/ES/root.crt" --enabled-key-data x509 "${IDS[@]}" \
    "$T/env.xml" >"$T/verify.log" 2>&1 || { cat "$T/verify.log"; fail "xmlsec1 --verify ($size)"; }
  grep -q "SignedInfo References (ok/all): 2/2" "$T/verify.log" || fail "not 2/2 references"

  xmlsec1 --decrypt --privkey-pem "$P/CO/encrypt.key,$P/CO/encrypt.crt" \
    --output "$T/payload.gz" "$T/env.xml" >"$T/decrypt.log" 2>&1 \
    || { cat "$T/decrypt.log"; fail "xmlsec1 --decrypt ($size)"; }
  gzip -dc < "$T/payload.gz" | cmp -s - "$T/doc.txt" || fail "decrypted payload differs ($size)"
  echo "ok - xmlsec1 verifies and decrypts a $size-byte document sealed by mlagw"
done

# Envelope version 2 (SPEC 16.7): the same checks under its namespace, with a Kind and an
# Action only version 2 names.
IDS2=(--id-attr:Id urn:mlagw:envelope:2:Header --id-attr:Id urn:mlagw:envelope:2:Payload)
head -c 2048 /dev/urandom | base64 > "$T/doc2.txt"
"$MLAGW" envelope seal --from ES --to CO --kind production-order --action postponed \
  --envelope-version 2 --in "$T/doc2.txt" \
  --sign-cert "$P/ES/sign.crt" --sign-key "$P/ES/sign.key" \
  --recipient-cert "$P/CO/encrypt.crt" --out "$T/env2.xml" >/dev/null
grep -q 'xmlns:mla="urn:mlagw:envelope:2" version="2"' "$T/env2.xml" || fail "not version 2"
xmlsec1 --verify --trusted-pem "$P/ES/root.crt" --enabled-key-data x509 "${IDS2[@]}" \
  "$T/env2.xml" >"$T/verify2.log" 2>&1 || { cat "$T/verify2.log"; fail "xmlsec1 --verify (v2)"; }
grep -q "SignedInfo References (ok/all): 2/2" "$T/verify2.log" || fail "v2: not 2/2 references"
xmlsec1 --decrypt --privkey-pem "$P/CO/encrypt.key,$P/CO/encrypt.crt" \
  --output "$T/payload2.gz" "$T/env2.xml" >"$T/decrypt2.log" 2>&1 \
  || { cat "$T/decrypt2.log"; fail "xmlsec1 --decrypt (v2)"; }
gzip -dc < "$T/payload2.gz" | cmp -s - "$T/doc2.txt" || fail "decrypted payload differs (v2)"
sed 's/<mla:Action>postponed</<mla:Action>accepted</' "$T/env2.xml" > "$T/altered2.xml"
if xmlsec1 --verify --trusted-pem "$P/ES/root.crt" --enabled-key-data x509 "${IDS2[@]}" \
    "$T/altered2.xml" >/dev/null 2>&1; then
  fail "xmlsec1 accepted an altered version 2 header"
fi
echo "ok - xmlsec1 verifies and decrypts an envelope of version 2 and refuses it altered"

# Negative controls, so the checks above could fail: another State's root, an altered header.
if xmlsec1 --verify --trusted-pem "$P/CO/root.crt" --enabled-key-data x509 "${IDS[@]}" \
    "$T/env.xml" >/dev/null 2>&1; then
  fail "xmlsec1 accepted the signature with the wrong root"
fi
sed 's/<mla:Kind>evidence</<mla:Kind>extradition</' "$T/env.xml" > "$T/altered.xml"
if xmlsec1 --verify --trusted-pem "$P/ES/root.crt" --enabled-key-data x509 "${IDS[@]}" \
    "$T/altered.xml" >/dev/null 2>&1; then
  fail "xmlsec1 accepted an altered header"
fi
echo "ok - xmlsec1 refuses the wrong root and an altered header"
