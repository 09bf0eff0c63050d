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
