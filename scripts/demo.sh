#!/usr/bin/env bash
# The main job, offline for now: a test PKI for three States (CO, ES, MX); Colombia's central
# authority seals an extradition request for Spain; an auditor with only the root certificates
# verifies it; Spain opens it and answers "received"; Colombia opens the answer. Tampering and
# misdelivery are shown to be refused. Exits non-zero if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
meson compile -C build >/dev/null
M=$PWD/build/cli/mlagw
D=$PWD/out/demo
rm -rf "$D"
mkdir -p "$D"
P=$D/pki
step=0
say() { step=$((step + 1)); printf '\n[%d] %s\n' "$step" "$*"; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
refused() { # NAME CMD...: the command must fail; prints the reason it gave
  local name=$1; shift
  if "$@" >/dev/null 2>"$D/refusal.txt"; then echo "  UNEXPECTED: $name was accepted"; exit 1; fi
  printf '  refused as expected (%s): %s\n' "$name" "$(head -1 "$D/refusal.txt")"
}

say "Each State makes its PKI: root CA + TLS, signing, encryption (RSA-3072) and audit certificates"
for s in CO ES MX; do
  "$M" pki init --state "$s" --out "$P" >/dev/null
  echo "  $s: $(ls "$P/$s" | tr '\n' ' ')"
done
ROOTS=(--trust "$P/CO/root.crt" --trust "$P/ES/root.crt" --trust "$P/MX/root.crt")

say "CO's central authority seals an urgent extradition request for ES"
"$M" envelope seal --from CO --to ES --kind extradition --priority urgent \
  --from-authority "Fiscalia General de la Nacion" --to-authority "Ministerio de Justicia" \
  --case-id CO-2026-EXT-0042 --in demo/extradition-request.xml \
  --sign-cert "$P/CO/sign.crt" --sign-key "$P/CO/sign.key" \
  --recipient-cert "$P/ES/encrypt.crt" --out "$D/request.xml" --json > "$D/seal.json"
REQ=$(field "$D/seal.json" message_id)
echo "  message $REQ, case CO-2026-EXT-0042, $(field "$D/seal.json" bytes) bytes"
if grep -q "Fictional Person" "$D/request.xml"; then echo "  UNEXPECTED: content in clear"; exit 1; fi
echo "  the request text does not appear in the envelope (encrypted for ES only)"

say "An auditor holding only the three root certificates verifies origin and integrity"
"$M" envelope verify --in "$D/request.xml" "${ROOTS[@]}" | sed 's/^/  /'

say "ES's gateway opens the request: signature, chain to CO's root, addressee, decryption"
"$M" envelope open --in "$D/request.xml" --key "$P/ES/encrypt.key" --cert "$P/ES/encrypt.crt" \
  "${ROOTS[@]}" --out "$D/request-opened.xml" | sed 's/^/  /'
cmp -s demo/extradition-request.xml "$D/request-opened.xml"
echo "  the opened document is byte-identical to what CO sealed ($(wc -c < "$D/request-opened.xml") bytes)"

say "ES's central authority answers 'received' on the same case"
echo '<Acknowledgement>Request registered by the Spanish central authority.</Acknowledgement>' > "$D/ack.xml"
"$M" envelope seal --from ES --to CO --kind extradition --action received \
  --case-id CO-2026-EXT-0042 --in-reply-to "$REQ" --in "$D/ack.xml" \
  --sign-cert "$P/ES/sign.crt" --sign-key "$P/ES/sign.key" \
  --recipient-cert "$P/CO/encrypt.crt" --out "$D/ack-envelope.xml" --json > "$D/ack.json"
ACK=$(field "$D/ack.json" message_id)
"$M" envelope open --in "$D/ack-envelope.xml" --key "$P/CO/encrypt.key" \
  --cert "$P/CO/encrypt.crt" "${ROOTS[@]}" --out "$D/ack-opened.xml" | sed 's/^/  /'

say "What the gateways refuse"
sed 's/<mla:Priority>urgent</<mla:Priority>normal</' "$D/request.xml" > "$D/tampered.xml"
refused "altered header" "$M" envelope verify --in "$D/tampered.xml" "${ROOTS[@]}"
refused "wrong recipient" "$M" envelope open --in "$D/request.xml" --key "$P/MX/encrypt.key" \
  --cert "$P/MX/encrypt.crt" "${ROOTS[@]}" --out "$D/never.xml"
refused "untrusted sender" "$M" envelope verify --in "$D/request.xml" --trust "$P/ES/root.crt"

printf '\nSummary\n'
printf '  %-38s %-5s %-5s %-11s %-9s %s\n' message from to kind action result
printf '  %-38s %-5s %-5s %-11s %-9s %s\n' "$REQ" CO ES extradition request "verified, opened by ES"
printf '  %-38s %-5s %-5s %-11s %-9s %s\n' "$ACK" ES CO extradition received "verified, opened by CO"
echo "Demo complete: files in out/demo/."
