#!/usr/bin/env bash
# The main job: three States' gateways (CO, ES, MX) on this machine. Each State's people use
# their own gateway's local API with their role's token (central authority, executing agency,
# auditor, administrator): Colombia's first draft of an extradition request is refused for the
# elements it lacks, the complete request to Spain then runs through its whole lifecycle (each
# step checked on both sides, SPEC 16.8), Spain asks Mexico urgently to trace and freeze ransom
# proceeds and Colombia, in an emergency, for a phone's subscriber data (its legal deadlines
# shown by both gateways, and overdue against the date Spain wished, SPEC 16.9); every message is a case document validated on both sides and gets a signed
# receipt; each State's auditor then checks its trail offline with the three root
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
K=$D/keys # the private keys, apart: the gateways' Landlock rules never give them this folder
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
rm -rf "$D"
mkdir -p "$D/conf" "$D/co" "$D/es" "$D/mx" "$D/docs" "$D/published"
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
  # ES and MX read envelope version 2 from each other: MX's retrieval notice (SPEC 16.10)
  case $st in
    ES) sed -i '/^\[peer MX\]/a envelope_versions = 1, 2' "$D/conf/$cc.conf" ;;
    MX) sed -i '/^\[peer ES\]/a envelope_versions = 1, 2' "$D/conf/$cc.conf" ;;
  esac
  printf '\n[cases]\nlifecycle = enforce\nprotected_roles = agency:%s-agency\n' "$cc" \
    >> "$D/conf/$cc.conf"
  printf '\n[api]\nlisten = 127.0.0.1:%s\n' "${API_PORT[$st]}" >> "$D/conf/$cc.conf"
  # police: a second agency, not named by protected_roles (SPEC 16.12)
  for role in authority agency auditor admin police; do
    head -c 32 /dev/urandom | base64 | tr -d '=+/\n' > "$D/$cc/tokens/$role"
    chmod 600 "$D/$cc/tokens/$role"
    printf 'token = %s %s-%s sha256:%s\n' "${role/police/agency}" "$cc" "$role" \
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
# answer EXAMPLE STATE CASE [EXTENT]: a case answer document (protocol/case/examples/answer-
# EXAMPLE.xml) from STATE's authority for CASE; its path
answer_doc() {
  local out="$D/docs/$1-$(lc "$2").xml"
  sed -e "s#<State>CO</State>#<State>$2</State>#g" \
      -e "s#<RequestCaseId>[^<]*</RequestCaseId>#<RequestCaseId>$3</RequestCaseId>#" \
      -e "s#<Extent>[a-z]*</Extent>#<Extent>${4:-full}</Extent>#" \
      "protocol/case/examples/answer-$1.xml" > "$out"
  echo "$out"
}

say "Each State makes its PKI: root CA + TLS, signing, encryption (RSA-3072) and audit certificates"
for s in CO ES MX; do
  "$M" pki init --state "$s" --out "$P" --keys-out "$K" >/dev/null; echo "  $s: $P/$s (keys: $K/$s)"
done

say "Each State signs its directory entry (gateway, certificates, competent authorities, languages); Spain publishes the signed directory"
mkdir -p "$D/directory"
for s in CO ES MX; do
  cp "demo/directory/$s.json" "$D/directory/$s.json"  # its certificate paths: ../pki/CC/
  "$M" directory build --from "$D/directory/$s.json" -o "$D/directory/$s.entry.xml"
  "$M" directory sign --cert "$P/$s/sign.crt" --key "$K/$s/sign.key" \
    -o "$D/directory/$s.signed.xml" "$D/directory/$s.entry.xml"
done
"$M" directory build --serial 1 --expires "$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)" \
  --publisher ES -o "$D/directory/unsigned.xml" "$D/directory/"{CO,ES,MX}.signed.xml
"$M" directory sign --cert "$P/ES/sign.crt" --key "$K/ES/sign.key" -o "$D/published/directory.xml" \
  "$D/directory/unsigned.xml"
"$M" directory verify --trust "$P/CO/root.crt" --trust "$P/ES/root.crt" --trust "$P/MX/root.crt" \
  --publisher ES "$D/published/directory.xml" | sed 's/^/  /'

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

say "Colombia's first draft of an extradition request lacks three elements: refused before sealing, each named"
SUBMIT=(--to ES --kind extradition --priority urgent --case-id CO-2026-EXT-0042
        --from-authority "Fiscalia General de la Nacion" --to-authority "Ministerio de Justicia")
if api CO authority submit "${SUBMIT[@]}" --in demo/extradition-request-draft.xml \
     > "$D/why.txt" 2>&1; then
  echo "  UNEXPECTED: an incomplete extradition request was sealed"; exit 1; fi
grep -q "PersonSought/Whereabouts" "$D/why.txt" && grep -q "Extradition/Decision" "$D/why.txt" &&
  grep -q "Extradition/Penalty" "$D/why.txt" || { cat "$D/why.txt"; exit 1; }
sed -e 's/^mlagw submit: //' "$D/why.txt" | fold -s -w 100 | sed 's/^/      /'

say "Case CO-2026-EXT-0042: the complete request to Spain to extradite a kidnapping suspect"
REQ=$(api CO authority submit "${SUBMIT[@]}" --in demo/extradition-request.xml --json | json message_id)
wait_delivered CO "$REQ"
note CO authority "submitted request $REQ: validated, sealed, relayed; ES validated it too and signed the receipt"

say "Spain: the executing agency finds it in its inbox, reads it (audited, with the reason), answers"
api ES agency inbox --case-id CO-2026-EXT-0042 | sed 's/^/      /'
api ES agency fetch "$REQ" --reason "registration of incoming extradition request" \
  --out "$D/es/request.xml" >/dev/null
cmp -s demo/extradition-request.xml "$D/es/request.xml"
note ES agency "read the request (an audit entry records who, when and why)"
api ES police fetch "$REQ" --reason "liaison check" --out "$D/es/request-police.xml" | tail -1 |
  sed 's/^/      /'
grep -q '<FamilyName>\[protected\]</FamilyName>' "$D/es/request-police.xml" ||
  { echo "  UNEXPECTED: the protected witness was not redacted"; exit 1; }
note ES police "sees the protected witness redacted; es-agency, named by protected_roles, read it whole (audited: protected-viewed)"
C=CO-2026-EXT-0042
ACK=$(api ES agency answer "$REQ" --action received --in "$(answer_doc acknowledgement ES $C)" \
      --json | json message_id)
wait_delivered ES "$ACK"; note ES agency "received -> CO ($ACK)"
AIR=$(api ES agency answer "$ACK" --action additional-information-requested \
      --in "$(answer_doc additional-information-requested ES $C)" --json | json message_id)
wait_delivered ES "$AIR"; note ES agency "additional-information-requested -> CO ($AIR)"
if api ES agency answer "$AIR" --action executed --in "$(answer_doc execution-report ES $C)" \
     > "$D/why.txt" 2>&1; then
  echo "  UNEXPECTED: an execution report sealed while information is awaited"; exit 1; fi
grep -q "case-step" "$D/why.txt" || { cat "$D/why.txt"; exit 1; }
note ES agency "an execution report now: refused before sealing, 409 case-step:"
sed -e 's/^mlagw answer: gateway answered 409: //' -e 's/ \[case-step.*//' "$D/why.txt" | fold -s -w 90 |
  sed 's/^/      /' 

say "Colombia provides the additional information; Spain accepts and reports execution"
AIP=$(api CO authority answer "$AIR" --action additional-information-provided \
      --in "$(answer_doc additional-information-provided CO $C)" --json | json message_id)
wait_delivered CO "$AIP"; note CO authority "additional-information-provided -> ES ($AIP)"
ACC=$(api ES agency answer "$AIP" --action accepted --in "$(answer_doc accepted ES $C)" \
      --json | json message_id)
wait_delivered ES "$ACC"; note ES agency "accepted -> CO ($ACC)"
EXE=$(api ES agency answer "$ACC" --action executed --in "$(answer_doc execution-report ES $C)" \
      --json | json message_id)
wait_delivered ES "$EXE"; note ES agency "executed -> CO ($EXE)"
life() { # STATE CASE: the case's lifecycle state as that State's gateway holds it
  api "$1" auditor status --case-id "$2" --json | python3 -c '
import json, sys; print(" ".join(c["state"] for c in json.load(sys.stdin).get("lifecycle", [])))'
}
note CO auditor "case $C, state on each side: CO $(life CO $C), ES $(life ES $C)"

say "Case ES-2026-AT-0007: Spain asks Mexico, as a crisis, to trace and freeze ransom proceeds"
sed -e 's#<Urgent>false</Urgent>#<Urgent>true</Urgent><Reason>Ransom payments are being moved now</Reason>#' \
    protocol/case/examples/request-asset-measures.xml > "$D/docs/trc.xml"
TRC=$(api ES authority submit --to MX --kind asset-freezing --priority crisis \
      --case-id ES-2026-AT-0007 --in "$D/docs/trc.xml" --json | json message_id)
wait_delivered ES "$TRC"; note ES authority "asset-freezing request -> MX ($TRC)"
api MX agency fetch "$TRC" --reason "urgent freezing order" --out "$D/mx/request.xml" >/dev/null
MACC=$(api MX agency answer "$TRC" --action accepted \
       --in "$(answer_doc accepted MX ES-2026-AT-0007)" --json | json message_id)
wait_delivered MX "$MACC"; note MX agency "accepted -> ES ($MACC)"
for _ in $(seq 1 100); do  # MX's signed retrieved notice: when ES's request was first read
  AT=$(api ES auditor status "$TRC" --json | python3 -c 'import json,sys
print(json.load(sys.stdin).get("retrieval", {}).get("retrieved", ""))'); [ -n "$AT" ] && break; sleep 0.1; done
[ -n "$AT" ] || { echo "  no retrieved notice from MX" >&2; exit 1; }
note ES authority "MX's signed retrieved notice: the request was first read at $AT"
PEX=$(api MX agency answer "$MACC" --action partially-executed \
      --in "$(answer_doc execution-report MX ES-2026-AT-0007 partial)" --json | json message_id)
wait_delivered MX "$PEX"; note MX agency "partially-executed -> ES ($PEX)"

say "Case ES-2026-EP-0011: Spain orders, in an emergency, the subscriber data of the phone used for the ransom calls"
yesterday=$(date -u -d yesterday +%Y-%m-%d)
sed -e "s#<Urgency><Urgent>false</Urgent></Urgency>#<Urgency><Urgent>true</Urgent><Reason>The kidnappers call from this number</Reason><DateWished>$yesterday</DateWished></Urgency>#" \
    protocol/case/examples/request-production-order.xml > "$D/docs/epo.xml"
EPO=$(api ES authority submit --to CO --kind evidence --priority urgent \
      --case-id ES-2026-EP-0011 --in "$D/docs/epo.xml" --json | json message_id)
wait_delivered ES "$EPO"
note ES authority "European Production Order, emergency -> CO ($EPO); wished for $yesterday"
for s in ES CO; do
  note "$s" gateway "the case's deadlines, counted from the signed receipt (SPEC 16.9):"
  "$M" cases --socket "$D/$(lc $s)/submit.sock" ES-2026-EP-0011 --json | python3 -c '
import json, sys
for c in json.load(sys.stdin)["items"]:
    for d in c["deadlines"]:
        print("      %-8s %-22s due %s  %s" % (d["deadline"], d["rule"], d["due"], d["state"]))'
done
note CO gateway "cases due, crisis and urgent first:"
"$M" cases --socket "$D/co/submit.sock" --due | sed 's/^/      /'
note CO gateway "overdue (the wished date passed before the order was even sent):"
"$M" cases --socket "$D/co/submit.sock" --overdue | sed 's/^/      /'
"$M" cases --socket "$D/es/submit.sock" --overdue --json | grep -q ES-2026-EP-0011 ||
  { echo "  UNEXPECTED: ES does not list its overdue case"; exit 1; }

say "Refusals: wrong role, unknown State, a language the competent authority does not accept (from the directory)"
if api ES auditor fetch "$REQ" --reason "curiosity" --out "$D/never.xml" 2> "$D/why.txt"; then
  echo "  UNEXPECTED: an auditor read a document"; exit 1; fi
note ES auditor "$(head -1 "$D/why.txt" | sed 's/^mlagw fetch: //')"
if api CO authority submit --to FR --kind mla --new-case --in demo/extradition-request.xml 2> "$D/why.txt"; then
  echo "  UNEXPECTED: unknown peer accepted"; exit 1; fi
note CO authority "$(head -1 "$D/why.txt" | sed 's/^mlagw submit: //')"
sed 's#<Language>es</Language>#<Language>fr</Language>#' demo/extradition-request.xml > "$D/docs/fr.xml"
if api CO authority submit --to ES --kind extradition --case-id CO-2026-EXT-0043 \
     --in "$D/docs/fr.xml" 2> "$D/why.txt"; then
  echo "  UNEXPECTED: a request in a language Spain's authority does not accept was sealed"; exit 1; fi
grep -q "language-refused" "$D/why.txt" || { cat "$D/why.txt"; exit 1; }
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
# the keys apart from the certificates: no gateway could read a private key file itself
if grep -l 'keys-reachable' "$D"/{co,es,mx}/mlagwd.log; then
  echo "  UNEXPECTED: a gateway's Landlock rules reach a private key (keys-reachable above)"; exit 1; fi

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
say "Statistics (SPEC 16.13): each State's figures from its own log, and an auditor's recomputation from the verified bundles agreeing"
for s in CO ES MX; do
  "$M" stats --store "$D/$(lc $s)/store.db" --csv > "$D/audit/$s-stats.csv"
  "$M" audit stats "$D/audit/$s.mab" --trust "$D/roots" --csv > "$D/audit/$s-stats-audit.csv"
  cmp -s "$D/audit/$s-stats.csv" "$D/audit/$s-stats-audit.csv" ||
    { echo "  UNEXPECTED: $s's statistics differ from the recomputation"; exit 1; }
done
awk -F, '$2 == "all" && $5 != "0" && $3 ~ /^(cases|kind|partner|direction|outcome|priority|ground|time)$/ {
  printf "  %s %-9s %-18s %s%s\n", $1, $3, $4, $5, ($6 == "" ? "" : "  mean " $6 " ms, median " $7 " ms, p90 " $8 " ms") }' \
  "$D/audit/CO-stats.csv" "$D/audit/ES-stats.csv" "$D/audit/MX-stats.csv"
note all auditor "mlagw audit stats over each bundle printed the same bytes as mlagw stats over its store"
echo "All steps succeeded; the gateways stopped cleanly. Logs, stores and documents in $D."
