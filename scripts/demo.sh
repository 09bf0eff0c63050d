#!/usr/bin/env bash
# The main job: three States' gateways (CO, ES, MX) on this machine. Each State's people use
# their own gateway's local API with their role's token (central authority, executing agency,
# auditor, administrator): an extradition case from Colombia to Spain runs through its whole
# lifecycle, Spain asks Mexico urgently to trace and freeze ransom proceeds; every message gets
# a signed receipt; each State's auditor then checks its trail offline with the three root
# certificates only. Prints each step and a summary; stops everything it started; exits
# non-zero if any step fails.
# MLAGW_BIN (a build directory) and MLAGW_DEMO_OUT let the test suite run this same story
# on the binaries it is testing, skipping set-up and build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${MLAGW_BIN:-}" ]; then
  scripts/setup.sh
  if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
  meson compile -C build > /dev/null || { meson compile -C build; exit 1; }
fi
B=$(cd "${MLAGW_BIN:-build}" && pwd)
M=$B/cli/mlagw
D=$(mkdir -p "${MLAGW_DEMO_OUT:-out/demo}" && cd "${MLAGW_DEMO_OUT:-out/demo}" && pwd)
P=$D/pki
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
rm -rf "$D"
mkdir -p "$D/conf" "$D/co" "$D/es" "$D/mx" "$D/docs"
step=0
say() { step=$((step + 1)); printf '\n[%d] %s\n' "$step" "$*"; }
lc() { echo "$1" | tr 'A-Z' 'a-z'; }
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
declare -A API_PORT=([CO]=9442 [ES]=9441 [MX]=9443)

# api STATE ROLE COMMAND ARGS...: one mlagw call to STATE's local API as ROLE
api() {
  local st=$1 role=$2; shift 2
  "$M" "$1" --gateway "https://127.0.0.1:${API_PORT[$st]}" --ca "$P/$st/root.crt" \
    --token-file "$D/$(lc "$st")/tokens/$role" "${@:2}"
}

# Each State's configuration: conf/<cc>.conf plus an [api] section with fresh tokens, whose
# SHA-256 alone goes into the file.
make_config() {
  local st=$1 cc; cc=$(lc "$1")
  mkdir -p "$D/$cc/tokens"
  sed "s#\.\./out/demo/#$D/#" "conf/$cc.conf" > "$D/conf/$cc.conf"
  printf '\n[api]\nlisten = 127.0.0.1:%s\n' "${API_PORT[$st]}" >> "$D/conf/$cc.conf"
  for role in authority agency auditor admin; do
    head -c 32 /dev/urandom | base64 | tr -d '=+/\n' > "$D/$cc/tokens/$role"
    chmod 600 "$D/$cc/tokens/$role"
    printf 'token = %s %s-%s sha256:%s\n' "$role" "$cc" "$role" \
      "$(tr -d '\n' < "$D/$cc/tokens/$role" | sha256sum | cut -d' ' -f1)" >> "$D/conf/$cc.conf"
  done
}

wait_delivered() { # STATE ID: as that State's auditor
  local state
  for _ in $(seq 1 200); do
    state=$(api "$1" auditor status "$2" --json | json state)
    case $state in
      delivered) return 0 ;;
      rejected|failed) api "$1" auditor status "$2" >&2; exit 1 ;;
    esac
    sleep 0.05
  done
  echo "  message $2 not delivered in time" >&2; exit 1
}

note() { printf '  %-3s %-9s %s\n' "$1" "$2" "$3"; }
doc() { printf '<Document>%s</Document>\n' "$2" > "$D/docs/$1.xml"; echo "$D/docs/$1.xml"; }

say "Each State makes its PKI: root CA + TLS, signing, encryption (RSA-3072) and audit certificates"
for s in CO ES MX; do "$M" pki init --state "$s" --out "$P" >/dev/null; echo "  $s: $P/$s"; done

say "Three gateways start on loopback: mutual TLS between them, a local API for each State's people"
for s in CO ES MX; do
  make_config "$s"
  "$B/gateway/mlagwd" -c "$D/conf/$(lc $s).conf" --init >/dev/null  # a store is made only on purpose
  "$B/gateway/mlagwd" -c "$D/conf/$(lc $s).conf" --foreground 2> "$D/$(lc $s)/mlagwd.log" &
  PIDS+=($!)
done
for s in CO ES MX; do
  for _ in $(seq 1 100); do api "$s" admin health --json >/dev/null 2>&1 && break; sleep 0.05; done
  note "$s" admin "$(api "$s" admin whoami --json | json name): gateway $(api "$s" admin health --json | json status)"
done

say "Case CO-2026-EXT-0042: Colombia's central authority asks Spain to extradite a kidnapping suspect"
REQ=$(api CO authority submit --to ES --kind extradition --priority urgent \
      --case-id CO-2026-EXT-0042 --from-authority "Fiscalia General de la Nacion" \
      --to-authority "Ministerio de Justicia" --in demo/extradition-request.xml --json | json message_id)
wait_delivered CO "$REQ"
note CO authority "submitted request $REQ: sealed, relayed, receipt signed by ES verified"

say "Spain: the executing agency finds it in its inbox, reads it (audited, with the reason), answers"
api ES agency inbox --case-id CO-2026-EXT-0042 | sed 's/^/      /'
api ES agency fetch "$REQ" --reason "registration of incoming extradition request" \
  --out "$D/es/request.xml" >/dev/null
cmp -s demo/extradition-request.xml "$D/es/request.xml"
note ES agency "read the request (an audit entry records who, when and why)"
ACK=$(api ES agency answer "$REQ" --action received --json | json message_id)
wait_delivered ES "$ACK"; note ES agency "received -> CO ($ACK)"
AIR=$(api ES agency answer "$REQ" --action additional-information-requested \
      --in "$(doc air 'Please send the certified arrest warrant')" --json | json message_id)
wait_delivered ES "$AIR"; note ES agency "additional-information-requested -> CO ($AIR)"

say "Colombia provides the additional information; Spain accepts and reports execution"
AIP=$(api CO authority answer "$AIR" --action additional-information-provided \
      --in "$(doc aip 'Certified arrest warrant attached')" --json | json message_id)
wait_delivered CO "$AIP"; note CO authority "additional-information-provided -> ES ($AIP)"
ACC=$(api ES agency answer "$REQ" --action accepted --json | json message_id)
wait_delivered ES "$ACC"; note ES agency "accepted -> CO ($ACC)"
EXE=$(api ES agency answer "$REQ" --action executed --in "$(doc exe 'Surrender carried out')" --json | json message_id)
wait_delivered ES "$EXE"; note ES agency "executed -> CO ($EXE)"

say "Case ES-2026-AT-0007: Spain asks Mexico, as a crisis, to trace and freeze ransom proceeds"
TRC=$(api ES authority submit --to MX --kind asset-freezing --priority crisis \
      --case-id ES-2026-AT-0007 --in "$(doc trc 'Trace and freeze accounts receiving the ransom')" \
      --json | json message_id)
wait_delivered ES "$TRC"; note ES authority "asset-freezing request -> MX ($TRC)"
api MX agency fetch "$TRC" --reason "urgent freezing order" --out "$D/mx/request.xml" >/dev/null
PEX=$(api MX agency answer "$TRC" --action partially-executed \
      --in "$(doc pex 'Two of three accounts frozen')" --json | json message_id)
wait_delivered MX "$PEX"; note MX agency "partially-executed -> ES ($PEX)"

say "Refusals: wrong role, unknown State"
if api ES auditor fetch "$REQ" --reason "curiosity" --out "$D/never.xml" 2> "$D/why.txt"; then
  echo "  UNEXPECTED: an auditor read a document"; exit 1; fi
note ES auditor "$(head -1 "$D/why.txt" | sed 's/^mlagw fetch: //')"
if api CO authority submit --to FR --kind mla --new-case --in "$D/docs/air.xml" 2> "$D/why.txt"; then
  echo "  UNEXPECTED: unknown peer accepted"; exit 1; fi
note CO authority "$(head -1 "$D/why.txt" | sed 's/^mlagw submit: //')"

say "Each State's auditor checks its trail offline with the three root certificates only"
ROOTS=(--trust "$P/CO/root.crt" --trust "$P/ES/root.crt" --trust "$P/MX/root.crt")
mkdir -p "$D/audit"
for s in CO ES MX; do
  db="$D/$(lc $s)/store.db" n=0
  entries=$("$M" store show --store "$db" --meta | awk '$1 == "audit" { print $2 }')
  for id in $("$M" store show --store "$db" --outbox | awk -F'\t' '$3 == "delivered" { print $1 }'); do
    "$M" store show --store "$db" --envelope "$id" > "$D/audit/$id.env.xml"
    "$M" store show --store "$db" --receipt "$id" > "$D/audit/$id.receipt.xml"
    "$M" receipt verify --in "$D/audit/$id.receipt.xml" --envelope "$D/audit/$id.env.xml" "${ROOTS[@]}" >/dev/null
    n=$((n + 1))
  done
  note "$s" auditor "$n sent envelope(s) and receipt(s) verified offline; $entries audit entries"
done

printf '\nSummary (as seen by each case'"'"'s requesting State'"'"'s auditor)\n'
printf '  %-38s %-4s %-4s %-15s %-34s %s\n' message from to kind action state
for c in "CO CO-2026-EXT-0042" "ES ES-2026-AT-0007"; do
  read -r st case <<< "$c"
  api "$st" auditor status --case-id "$case" --json | python3 -c '
import json, sys
own = sys.argv[1]
for m in sorted(json.load(sys.stdin)["messages"], key=lambda m: (m["created"], m["in_reply_to"] if "in_reply_to" in m else "")):
    frm, to = (own, m["peer"]) if m["direction"] == "out" else (m["peer"], own)
    print("  %-38s %-4s %-4s %-15s %-34s %s" % (m["message_id"], frm, to, m["kind"], m["action"], m["state"]))
' "$st"
done
# an orderly stop: every gateway must drain and exit 0
status=0
for pid in "${PIDS[@]}"; do kill -TERM "$pid"; done
for pid in "${PIDS[@]}"; do wait "$pid" || status=1; done
PIDS=()
[ "$status" = 0 ] || { echo "a gateway did not stop cleanly (see its mlagwd.log)"; exit 1; }

say "An auditor verifies the three States' audit bundles together, offline: signatures, Merkle trees, the peers' cosignatures, and that no gateway showed two histories"
mkdir -p "$D/roots"
for s in CO ES MX; do
  cp "$P/$s/root.crt" "$D/roots/$s.crt"
  "$M" audit export --store "$D/$(lc $s)/store.db" --cert "$P/$s/audit.crt" \
       --out "$D/audit/$s.mab" 2>/dev/null
done
if ! "$M" audit verify "$D/audit/CO.mab" "$D/audit/ES.mab" "$D/audit/MX.mab" \
     --trust "$D/roots" > "$D/audit/verify.txt"; then
  cat "$D/audit/verify.txt"; echo "  UNEXPECTED: the audit bundles do not verify"; exit 1; fi
grep -E '^audit bundle|^split view' "$D/audit/verify.txt" | sed -e "s|$D/audit/||" -e 's/^/  /'
echo "All steps succeeded; the gateways stopped cleanly. Logs, stores and documents in $D."
