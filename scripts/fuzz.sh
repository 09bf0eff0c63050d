#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each for SECONDS (default
# 60) on a seed corpus made here: envelopes sealed with a fresh test PKI (which the envelope
# harness then uses, so seeds reach decryption), receipts' shape, the example configs, the
# local API's and the submission socket's requests as the integration tests send them, and an
# audit bundle signed with that PKI's audit keys (so the verification harness's seed reaches
# the signature, tree and proof checks), and the case document examples.
# Any crash, leak or timeout fails the run and leaves the reproducer in build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
scripts/setup.sh   # includes clang and libclang-rt-14-dev (libFuzzer)
B=build-fuzz
if [ ! -f $B/build.ninja ]; then
  CC=clang meson setup $B -Dfuzz=true -Dtests=false -Dbuildtype=debug \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" >/dev/null
fi
meson compile -C $B > $B/compile.log 2>&1 || { cat $B/compile.log; exit 1; }

# the normal build makes the seeds (it has the mlagw command)
if [ ! -x build/cli/mlagw ]; then meson setup build >/dev/null 2>&1 || true; meson compile -C build >/dev/null; fi
S=$B/seeds
rm -rf "$S" $B/corpus
mkdir -p "$S/pki" "$S/envelope" "$S/receipt" "$S/config" "$S/checkpoint" "$S/bundle" "$S/audit_entry" "$S/witness" \
  "$S/codec" "$S/api_json" "$S/submit_request" "$S/audit_verify" "$S/recover_answer" "$S/case_validate" "$S/notice" "$S/case_protected" "$S/attach" "$S/directory" "$S/attach_status" $B/corpus $B/crashes
for st in ES CO; do build/cli/mlagw pki init --state $st --out "$S/pki" --rsa-bits 2048 >/dev/null; done
for n in 0 300 5000; do
  head -c $n /dev/urandom | base64 > "$S/doc"
  build/cli/mlagw envelope seal --from ES --to CO --kind evidence --in "$S/doc" \
    --sign-cert "$S/pki/ES/sign.crt" --sign-key "$S/pki/ES/sign.key" \
    --recipient-cert "$S/pki/CO/encrypt.crt" --out "$S/envelope/seed-$n.xml" >/dev/null
done
# envelope version 2 (SPEC 16.7): its namespace, a Kind and an Action only it names
build/cli/mlagw envelope seal --from ES --to CO --kind production-order --action postponed \
  --envelope-version 2 --in "$S/doc" --sign-cert "$S/pki/ES/sign.crt" \
  --sign-key "$S/pki/ES/sign.key" --recipient-cert "$S/pki/CO/encrypt.crt" \
  --out "$S/envelope/seed-v2.xml" >/dev/null
# many attributes on one element and in all: the count before libxml2 (xml_prescan.c)
{ printf '<mla:Envelope xmlns:mla="urn:mlagw:envelope:1"><x'; for i in $(seq 40); do printf ' a%d="=>"' $i; done
  printf "/><!-- b=1 --><?p c='2'?></mla:Envelope>"; } > "$S/envelope/seed-attrs.xml"
cp conf/*.conf "$S/config/"
printf 'If you think cryptography is the answer to your problem,\nthen you don'"'"'t know what your problem is.\n\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n' > "$S/checkpoint/go-note.txt"
printf 'mlagw.es/audit\n42\nn4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=\n\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n' > "$S/checkpoint/shape.txt"
# the golden entry of SPEC section 14 and a minimal one
printf 'mlagw-audit-entry/1\nseq 42\ntime 2026-11-27T20:47:47.123Z\nevent document-fetched\nmessage 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\ncase CO-FGN/2026.0042\nkind mla\naction request\nfrom CO\nto ES\nactor agency:policia-judicial\nenvelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nreceipt-sha256 -\nerror -\nreason Ejecuci\xc3\xb3n de la solicitud\n' > "$S/audit_entry/golden.txt"
printf 'mlagw-audit-entry/1\nseq 0\ntime 1970-01-01T00:00:00.000Z\nevent config-reloaded\nmessage -\ncase -\nkind -\naction -\nfrom -\nto -\nactor gateway\nenvelope-sha256 -\nreceipt-sha256 -\nerror -\nreason -\n' > "$S/audit_entry/minimal.txt"
printf 'mlagw-audit-entry/2\nseq 43\ntime 2026-11-27T20:48:47.123Z\nevent rejected\nmessage 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\ncase CO-FGN/2026.0042\nkind mla\naction request\nfrom CO\nto ES\nactor CO\nenvelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nreceipt-sha256 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\nerror replay\nreason -\ncount 499\n' > "$S/audit_entry/aggregate-v2.txt"
printf 'mlagw-audit-entry/3\nseq 0\ntime 2026-11-27T20:49:47.123Z\nevent epoch-opened\nmessage -\ncase -\nkind -\naction -\nfrom -\nto -\nactor gateway\nenvelope-sha256 -\nreceipt-sha256 -\nerror -\nreason -\ncount 1\nprev-origin mlagw.es/audit\nprev-size 1161\nprev-root AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nprev-signature ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmM=\n' > "$S/audit_entry/epoch-link-v3.txt"
printf 'mlagw-audit-entry/4\nseq 43\ntime 2026-11-27T20:50:47.123Z\nevent resealed\nmessage 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\ncase CO-FGN/2026.0042\nkind mla\naction request\nfrom CO\nto ES\nactor gateway\nenvelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nreceipt-sha256 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\nerror replay\nreason -\ncount 1\nprev-origin -\nprev-size -\nprev-root -\nprev-signature -\nprev-envelope-sha256 404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\naudit-cert-sha256 -\n' > "$S/audit_entry/resealed-v4.txt"
printf 'mlagw-audit-entry/5\nseq 44\ntime 2026-11-27T20:51:47.123Z\nevent received\nmessage 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\ncase CO-FGN/2026.0042\nkind production-order\naction postponed\nfrom ES\nto CO\nactor ES\nenvelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nreceipt-sha256 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\nerror -\nreason -\ncount 1\nprev-origin -\nprev-size -\nprev-root -\nprev-signature -\nprev-envelope-sha256 -\naudit-cert-sha256 -\n' > "$S/audit_entry/envelope2-v5.txt"
printf 'mlagw-audit-entry/6\nseq 46\ntime 2026-11-27T20:53:47.123Z\nevent received\nmessage 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\ncase CO-FGN/2026.0042\nkind mla\naction refused\nfrom ES\nto CO\nactor ES\nenvelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nreceipt-sha256 -\nerror -\nreason -\ncount 1\nprev-origin -\nprev-size -\nprev-root -\nprev-signature -\nprev-envelope-sha256 -\naudit-cert-sha256 -\npriority urgent\ngrounds untoc-18-21-a,untoc-18-21-d\n' > "$S/audit_entry/refused-v6.txt"
printf 'mlagw-audit-entry/8\nseq 9\ntime 2026-12-04T10:05:00.250Z\nevent directory-adopted\nmessage -\ncase -\nkind -\naction -\nfrom -\nto -\nactor gateway\nenvelope-sha256 -\nreceipt-sha256 -\nerror -\nreason fetched\ncount 1\nprev-origin -\nprev-size -\nprev-root -\nprev-signature -\nprev-envelope-sha256 -\naudit-cert-sha256 -\npriority -\ngrounds -\nattachments -\nattachment -\ndirectory-publisher ES\ndirectory-serial 42\ndirectory-issued 2026-12-04T10:00:00Z\ndirectory-expires 2026-12-11T10:00:00Z\ndirectory-sha256 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n' > "$S/audit_entry/directory-v8.txt"
cat > "$S/receipt/seed.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<mlr:Receipt xmlns:mlr="urn:mlagw:receipt:1" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" version="1"><mlr:Body Id="R-0b0e4f5e-3d5c-4c2a-9a7e-1f2d3c4b5a69"><mlr:ReceiptId>0b0e4f5e-3d5c-4c2a-9a7e-1f2d3c4b5a69</mlr:ReceiptId><mlr:MessageId>6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b</mlr:MessageId><mlr:EnvelopeDigest Algorithm="http://www.w3.org/2001/04/xmlenc#sha256">n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=</mlr:EnvelopeDigest><mlr:Receiver state="CO"/><mlr:Sender state="ES"/><mlr:ReceivedAt>2026-11-27T20:47:47Z</mlr:ReceivedAt><mlr:Outcome>accepted</mlr:Outcome></mlr:Body><ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/><ds:Reference URI="#R-0b0e4f5e-3d5c-4c2a-9a7e-1f2d3c4b5a69"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature></mlr:Receipt>
XML
# receipt version 2: a refusal with its problem list (SPEC 12)
cat > "$S/receipt/seed-v2.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<mlr:Receipt xmlns:mlr="urn:mlagw:receipt:2" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" version="2"><mlr:Body Id="R-0b0e4f5e-3d5c-4c2a-9a7e-1f2d3c4b5a69"><mlr:ReceiptId>0b0e4f5e-3d5c-4c2a-9a7e-1f2d3c4b5a69</mlr:ReceiptId><mlr:MessageId>6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b</mlr:MessageId><mlr:EnvelopeDigest Algorithm="http://www.w3.org/2001/04/xmlenc#sha256">n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=</mlr:EnvelopeDigest><mlr:Receiver state="CO"/><mlr:Sender state="ES"/><mlr:ReceivedAt>2026-11-27T20:47:47Z</mlr:ReceivedAt><mlr:Outcome>rejected</mlr:Outcome><mlr:Error code="-27" name="schema">the document does not follow its case schema: 3 problem(s)</mlr:Error><mlr:Problems count="3"><mlr:Problem path="/Request/Common/Proceedings/SubjectMatter" code="missing"/><mlr:Problem path="/Request/Common/Persons/Person[2]/Role" code="unknown-value" detail="PersonRole"/></mlr:Problems></mlr:Body><ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/><ds:Reference URI="#R-0b0e4f5e-3d5c-4c2a-9a7e-1f2d3c4b5a69"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature></mlr:Receipt>
XML

# add-checkpoint bodies: no proof, and two proof lines, before a checkpoint with a cosignature
printf 'old 0\n\n' > "$S/witness/empty.txt"; cat "$S/checkpoint/shape.txt" >> "$S/witness/empty.txt"
{ printf 'old 7\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\nn4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=\n\n'
  cat "$S/checkpoint/shape.txt"
  printf '\xe2\x80\x94 mlagw.es/witness jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n'
} > "$S/witness/proof.txt"
printf '1234\n' > "$S/witness/size.txt"
# codec: base64, hex, decimal and both time forms, canonical and not
printf 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=' > "$S/codec/b64.txt"
printf 'Zm9vYh==' > "$S/codec/b64-pad-bits.txt"
printf '000102030405060708090a0b0c0d0e0f' > "$S/codec/hex.txt"
printf '18446744073709551615' > "$S/codec/u64.txt"
printf '2026-11-27T20:47:47.123Z' > "$S/codec/time-ms.txt"
printf '2024-02-29T23:59:59Z' > "$S/codec/time.txt"

# local API requests: the first byte picks submit body (0), answer body (1), list query (2),
# inbox query (3); the bodies are test_api.py's
doc=$(printf '<Request>api</Request>' | base64)
printf '\0{"to":"CO","kind":"mla","new_case":true,"content_type":"application/xml","document_b64":"%s"}' "$doc" > "$S/api_json/submit.bin"
printf '\0{"to":"CO","kind":"extradition","priority":"urgent","case_id":"ES/2026/0042","handling":"secret","from_authority":"Fiscal\\u00eda","content_type":"application/pdf","document_b64":""}' > "$S/api_json/submit-case.bin"
printf '\1{"action":"accepted","content_type":"application/xml","document_b64":"%s"}' "$doc" > "$S/api_json/answer.bin"
printf '\2kind=mla&action=request&priority=urgent&state=delivered&since=2026-01-01T00:00:00Z&limit=5&cursor=10&seq=3&reason=legal+review' > "$S/api_json/list.bin"
printf '\3unanswered=true&peer=ES&until=2026-12-31T23:59:59Z' > "$S/api_json/inbox.bin"
# submission socket requests: the X-MLA-* headers gwnet.py sends
printf 'X-MLA-To: CO\nX-MLA-Kind: mla\nContent-Type: application/xml\nX-MLA-Priority: urgent\nX-MLA-Case-Id: ES/2026/1\n' > "$S/submit_request/submit.txt"
printf 'X-MLA-To: CO\nX-MLA-Kind: mla\nX-MLA-Action: accepted\nX-MLA-In-Reply-To: 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\nX-MLA-Handling: secret\nX-MLA-From-Authority: Fiscal\xc3\xada\nX-MLA-To-Authority: Fiscal\xc3\xada General\n' > "$S/submit_request/answer.txt"

# POST /mla/v1/recover: a page answer (first byte even) and a request (odd)
rid=0b6f1c52-4d1e-4a8e-9a53-2f6c1a7e9d10
printf '\0{"items":[{"direction":"sent-by-you","message_id":"%s","envelope":"PGE+","receipt":"PGI+"},{"direction":"sent-to-you","message_id":"%s","envelope":"YWJj","receipt":"eA=="}],"next":"1700000000123.1.%s"}' $rid $rid $rid > "$S/recover_answer/page.bin"
printf '\0{"items":[],"next":null}' > "$S/recover_answer/last.bin"
printf '\1{"since_ms":1700000000000,"after":"1700000000123.0.%s","limit":64}' $rid > "$S/recover_answer/request.bin"

# case documents: every example of protocol/case/examples/ (a request of each kind, each answer)
cp protocol/case/examples/*.xml "$S/case_validate/"
# retrieval notices and records of other channels (SPEC 16.10, 16.11)
printf '<Retrieval xmlns="urn:mlagw:notice:1" version="1"><Status>retrieved</Status><MessageId>3f1c2a9e-8b7d-4c6e-9a1b-2c3d4e5f6a7b</MessageId><At>2026-01-01T00:00:00.000Z</At></Retrieval>' > "$S/notice/retrieved.xml"
printf '<OtherChannel xmlns="urn:mlagw:other-channel:1" version="1"><Means>fax</Means><SentAt>2026-01-01T00:00:00.000Z</SentAt><DocumentSha256>%064d</DocumentSha256></OtherChannel>' 0 > "$S/notice/other.xml"
# protected persons: the same, the demo's request with a protected witness among them
cp protocol/case/examples/*.xml demo/extradition-request.xml "$S/case_protected/"
# the signed directory (SPEC 18): ES's and CO's entries, alone and assembled, published by ES
for st in ES CO; do
  printf '{"state":"%s","valid_from":"2020-01-01T00:00:00Z","valid_until":"2099-01-01T00:00:00Z","gateways":["https://gw.example:8443"],"root":"%s/root.crt","certificates":{"tls":{"current":"%s/tls.crt"},"signing":{"current":"%s/sign.crt"},"encryption":{"current":"%s/encrypt.crt"},"audit":{"current":"%s/audit.crt"}},"authorities":[{"name":"Central authority","central":true,"kinds":["mla"],"languages":["es"]}],"urgent_contact":{"name":"desk","phone":"+1 555 0100"}}' \
    $st $st $st $st $st $st > "$S/pki/$st.json"
  build/cli/mlagw directory build --from "$S/pki/$st.json" -o "$S/pki/$st.entry.xml"
  build/cli/mlagw directory sign --cert "$S/pki/$st/sign.crt" --key "$S/pki/$st/sign.key" \
    -o "$S/directory/entry-$st.xml" "$S/pki/$st.entry.xml"
done
build/cli/mlagw directory build --serial 1 --expires 2099-01-01T00:00:00Z --publisher ES \
  -o "$S/pki/dir.xml" "$S/directory/entry-ES.xml" "$S/directory/entry-CO.xml"
build/cli/mlagw directory sign --cert "$S/pki/ES/sign.crt" --key "$S/pki/ES/sign.key" \
  -o "$S/directory/directory.xml" "$S/pki/dir.xml"
printf 'ES 42 9443' > "$S/directory/advert.txt" # a peer's Mlagw-Directory value

status=0
printf 'mlagw-audit-bundle/2\nmanifest manifest 2\n{}\nentry 0 3\nabc\n' > "$S/bundle/shape.txt"
cp "$S/bundle/shape.txt" "$S/audit_verify/"
printf 'mlagw-audit-bundle/3\nmanifest manifest 2\n{}\ncertificate audit 3\nabc\ncertificate audit.2 3\nabc\n' > "$S/bundle/format3.txt"
# format 4 (raised limits) with every kind of record the one-pass index keeps or skips
printf 'mlagw-audit-bundle/4\nmanifest manifest 2\n{}\ncertificate audit 3\nabc\nentry 0 3\nabc\nentry 1 0\n\ncheckpoint 2 2\ncp\nproof i.0.2 0\n\nenvelope m 2\n<E\nreceipt m 1\nr\n' > "$S/bundle/format4.txt"
printf 'mlagw-audit-bundle/5\nmanifest manifest 2\n{}\ncertificate audit 3\nabc\nentry 0 3\nabc\nreceipt m 1\nr\ndirectory 1111111111111111111111111111111111111111111111111111111111111111 2\nD1\ndirectory 2222222222222222222222222222222222222222222222222222222222222222 2\nD2\n' > "$S/bundle/format5.txt"
$B/tests/fuzz/make_audit_seed "$S/pki" "$S/audit_verify/es.mab" "$S/audit_verify/es-format3.mab"
# envelope version 3's attachment list and descriptor (SPEC 17)
R=0000000000000000000000000000000000000000000000000000000000000000
printf '<mla:Attachments xmlns:mla="urn:mlagw:envelope:3"><mla:Attachment index="1" size="21" segmentSize="65536" segments="1" root="%s"/><mla:Attachment index="2" size="16" segmentSize="65536" segments="1" root="%s"/></mla:Attachments>' $R $R > "$S/attach/list.xml"
printf '<att:Descriptor xmlns:att="urn:mlagw:attachments:1" version="1"><att:Attachment index="1" name="a.pdf" type="application/pdf" size="5" sha256="%s" compression="none" secret="%s"/><att:Attachment index="2" name="b" type="text/plain" size="0" sha256="%s" compression="gzip" secret="%s"/></att:Descriptor>' $R $R $R $R > "$S/attach/descriptor.xml"
# a peer's transfer status (SPEC 17.13) for the harness's list of 1, 10 and 1000 segments
printf '{"message_id":"6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f","state":"transferring","attachments":[{"index":1,"segments":1,"held":1,"missing":[],"more_missing":false},{"index":2,"segments":10,"held":6,"missing":[[1,2],[7,8]],"more_missing":false},{"index":3,"segments":1000,"held":0,"missing":[[0,999]],"more_missing":true}]}' > "$S/attach_status/status.json"
# a hook request (core/hook_remote.c): 1 s, /bin/true x, A=1
mkdir -p "$S/hook_request"
printf '\000\000\000\000\000\000\003\350\000\000\000\002\000\000\000\001/bin/true\000x\000A=1\000' > "$S/hook_request/seed"
for h in envelope receipt config checkpoint bundle audit_entry witness codec api_json submit_request audit_verify recover_answer case_validate notice case_protected attach directory attach_status hook_request; do
  mkdir -p $B/corpus/$h
  echo "== fuzz_$h for ${secs}s"
  if ! MLAGW_FUZZ_PKI=$PWD/$S/pki ASAN_OPTIONS=detect_leaks=1 \
      $B/tests/fuzz/fuzz_$h -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix=$B/crashes/$h- \
      $B/corpus/$h "$S/$h" > $B/fuzz_$h.log 2>&1; then
    tail -40 $B/fuzz_$h.log
    status=1
  fi
  grep -E "stat::number_of_executed_units|Done [0-9]+ runs" $B/fuzz_$h.log | tail -1 | sed "s/^/  fuzz_$h: /"
done
exit $status
