#!/usr/bin/env bash
# The main job: three States' gateways (CO, ES, MX) on this machine, exchanging the requests
# of two cases through their whole lifecycle, with signed receipts, then an auditor's offline
# check of every envelope and receipt with only the three root certificates.
# Prints each step and a summary; stops everything it started; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
meson compile -C build > /dev/null || { meson compile -C build; exit 1; }
M=$PWD/build/cli/mlagw
D=$PWD/out/demo
P=$D/pki
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
rm -rf "$D"
mkdir -p "$D/co" "$D/es" "$D/mx"
step=0
say() { step=$((step + 1)); printf '\n[%d] %s\n' "$step" "$*"; }
sock() { echo "$D/$(echo "$1" | tr 'A-Z' 'a-z')/submit.sock"; }
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
CASES=$D/cases.txt   # "message_id from to kind action case" per line (submit runs in $(...))

submit() { # FROM TO KIND ACTION CASE PRIORITY REPLY_TO DOC_TEXT
  local from=$1 to=$2 kind=$3 action=$4 case=$5 prio=$6 reply=$7 text=$8 id
  printf '<Document kind="%s" action="%s">%s</Document>\n' "$kind" "$action" "$text" > "$D/doc.xml"
  local extra=()
  [ -n "$reply" ] && extra=(--in-reply-to "$reply")
  id=$("$M" submit --socket "$(sock "$from")" --to "$to" --kind "$kind" --action "$action" \
        --case-id "$case" --priority "$prio" "${extra[@]}" --in "$D/doc.xml" --json | json message_id)
  wait_delivered "$from" "$id"
  echo "$id $from $to $kind $action $case" >> "$CASES"
  printf '  %s -> %s  %-34s %s  delivered, receipt verified\n' "$from" "$to" "$kind/$action" "$id" >&2
  echo "$id"
}

wait_delivered() { # STATE ID
  local state
  for _ in $(seq 1 200); do
    state=$("$M" status --socket "$(sock "$1")" "$2" --json | json state)
    case $state in
      delivered) return 0 ;;
      rejected|failed) echo "  message $2 ended $state" >&2; "$M" status --socket "$(sock "$1")" "$2" >&2; exit 1 ;;
    esac
    sleep 0.05
  done
  echo "  message $2 not delivered in time" >&2; exit 1
}

say "Each State makes its PKI: root CA + TLS, signing, encryption (RSA-3072) and audit certificates"
for s in CO ES MX; do "$M" pki init --state "$s" --out "$P" >/dev/null; echo "  $s: $P/$s"; done

say "Three gateways start on loopback (conf/co.conf, conf/es.conf, conf/mx.conf), mutual TLS between them"
for s in co es mx; do
  build/gateway/mlagwd -c "conf/$s.conf" --foreground 2> "$D/$s/mlagwd.log" &
  PIDS+=($!)
done
for s in CO ES MX; do
  for _ in $(seq 1 100); do "$M" health --socket "$(sock $s)" >/dev/null 2>&1 && break; sleep 0.05; done
  "$M" health --socket "$(sock $s)" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("  %s gateway: %s" % (d["state"], d["status"]))'
done

say "Case CO-2026-EXT-0042: Colombia asks Spain to extradite a kidnapping suspect"
REQ=$(submit CO ES extradition request CO-2026-EXT-0042 urgent "" "Request for extradition (fictional case)")
ACK=$(submit ES CO extradition received CO-2026-EXT-0042 normal "$REQ" "Registered by the Spanish central authority")
AIR=$(submit ES CO extradition additional-information-requested CO-2026-EXT-0042 normal "$REQ" "Please send the certified arrest warrant")
AIP=$(submit CO ES extradition additional-information-provided CO-2026-EXT-0042 urgent "$AIR" "Certified arrest warrant attached")
ACC=$(submit ES CO extradition accepted CO-2026-EXT-0042 normal "$REQ" "Request accepted by the competent court")
EXE=$(submit ES CO extradition executed CO-2026-EXT-0042 normal "$REQ" "Surrender carried out")

say "Case ES-2026-AT-0007: Spain asks Mexico, urgently, to trace and freeze ransom proceeds"
TRC=$(submit ES MX asset-freezing request ES-2026-AT-0007 crisis "" "Trace and freeze accounts receiving the ransom")
PEX=$(submit MX ES asset-freezing partially-executed ES-2026-AT-0007 urgent "$TRC" "Two of three accounts frozen")

say "The receiving side: every message is in the recipient gateway's inbox, once"
"$M" status --socket "$(sock ES)" "$REQ" | sed 's/^/  ES: /'
"$M" status --socket "$(sock CO)" "$REQ" | sed 's/^/  CO: /'

say "An auditor with only the three root certificates checks every envelope and receipt offline"
ROOTS=(--trust "$P/CO/root.crt" --trust "$P/ES/root.crt" --trust "$P/MX/root.crt")
mkdir -p "$D/audit"
checked=0
while read -r id from _ _ _ _; do
  db="$D/$(echo "$from" | tr 'A-Z' 'a-z')/store.db"
  sqlite3 "$db" "SELECT writefile('$D/audit/$id.env.xml', e.envelope), writefile('$D/audit/$id.receipt.xml', o.receipt) FROM outbox o JOIN outbox_envelope e USING (message_id) WHERE message_id = '$id'" >/dev/null
  "$M" envelope verify --in "$D/audit/$id.env.xml" "${ROOTS[@]}" >/dev/null
  "$M" receipt verify --in "$D/audit/$id.receipt.xml" --envelope "$D/audit/$id.env.xml" "${ROOTS[@]}" | head -1 | sed 's/^/  /'
  checked=$((checked + 1))
done < "$CASES"
echo "  $checked envelopes and $checked receipts verified, without any private key"

say "What the gateways refuse"
sed 's/<mla:Priority>urgent</<mla:Priority>normal</' "$D/audit/$REQ.env.xml" > "$D/tampered.xml"
if "$M" envelope verify --in "$D/tampered.xml" "${ROOTS[@]}" 2> "$D/why.txt"; then echo "  UNEXPECTED: tampering accepted"; exit 1; fi
echo "  tampered header: $(cat "$D/why.txt")"
if "$M" submit --socket "$(sock CO)" --to FR --kind mla --in "$D/doc.xml" 2> "$D/why.txt"; then echo "  UNEXPECTED: unknown peer accepted"; exit 1; fi
echo "  unknown recipient State: $(cat "$D/why.txt")"

printf '\nSummary\n  %-38s %-4s %-4s %-14s %-34s %s\n' message from to kind action case
while read -r id from to kind action case; do
  printf '  %-38s %-4s %-4s %-14s %-34s %s\n' "$id" "$from" "$to" "$kind" "$action" "$case"
done < "$CASES"
echo "All $(wc -l < "$CASES") messages delivered with verified receipts. Logs and stores in out/demo/."
