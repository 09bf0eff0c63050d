/* libFuzzer harness: the whole audit bundle verification (mla_audit_verify: container,
 * manifest, certificates, checkpoints, entries, tree, witness, proofs, envelopes, receipts)
 * and reconciliation's reading of a bundle must judge any input cleanly: no crash, leak or
 * hang. The trust set is ES's and CO's roots, of MLAGW_FUZZ_PKI (the PKI the seed bundle was
 * signed with, so seeds reach the signature checks) or else made here once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_testbundle.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mla_audit_trust *trust;
static mla_audit_side *co_side; /* a fixed side to reconcile the input's with */

static void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz set-up: %s\n", what);
		abort();
	}
}

/* dir/STATE.crt for each State: links to the PKI's roots, or fresh roots made there. */
static void make_trust(char *dir, struct tb_state *co)
{
	const char *pki = getenv("MLAGW_FUZZ_PKI");
	struct tb_state es;

	must(mkdtemp(dir) != NULL, "temporary directory");
	if (pki != NULL) {
		char from[512], to[512];
		for (int i = 0; i < 2; i++) {
			const char *st = i ? "CO" : "ES";
			must(mla_snprintf(from, sizeof(from), "%s/%s/root.crt", pki, st) == MLA_OK,
			     "MLAGW_FUZZ_PKI: path too long");
			must(mla_snprintf(to, sizeof(to), "%s/%s.crt", dir, st) == MLA_OK,
			     "temporary directory: path too long");
			must(symlink(from, to) == 0, "link to a root");
		}
		must(tb_state_load("CO", pki, co) == 0, "CO of MLAGW_FUZZ_PKI");
		return;
	}
	must(tb_state_make("ES", dir, &es) == 0 && tb_state_make("CO", dir, co) == 0,
	     "test PKI");
	tb_state_free(&es);
}

/* CO's log: one message received from ES. */
static void make_co_side(const struct tb_state *co)
{
	mla_audit_entry e;
	struct tb_bundle b;
	uint64_t one = 1;
	uint8_t sha[32] = {1};
	mla_buf d;
	mla_audit_input in;

	tb_entry(&e, 0, 1767225600000, MLA_AUDIT_RECEIVED, "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f",
		 "ES", "CO", sha, NULL);
	must(tb_build(&b, co, &e, 1, &one, 1, NULL) == 0 && tb_write(&b, &d) == 0, "CO bundle");
	in = (mla_audit_input){"co", d.data, d.len, NULL};
	must(mla_audit_side_load(&in, NULL, &co_side, NULL) == MLA_OK, "CO side");
	mla_buf_free(&d);
	tb_free(&b);
}

static void init(void)
{
	char dir[] = "/tmp/mlagw-fuzz-audit-XXXXXX";
	struct tb_state co;

	must(mla_crypto_init(NULL) == MLA_OK, "crypto init");
	make_trust(dir, &co);
	must(mla_audit_trust_load(dir, &trust, NULL) == MLA_OK, "trust set");
	make_co_side(&co);
	tb_state_free(&co);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mla_audit_input in = {"fuzz", data, size, NULL};
	mla_audit_result *r = NULL;
	mla_audit_side *s = NULL;
	mla_audit_reconciliation *rc = NULL;

	if (trust == NULL)
		init();
	if (mla_audit_verify(&in, 1, trust, &r, NULL) == MLA_OK &&
	    (r->failures == 0) != (r->bundles[0].nfailures == 0))
		abort(); /* one bundle: its failures are all there are */
	mla_audit_result_free(r);
	(void)mla_audit_side_load(&in, NULL, &s, NULL);
	if (s != NULL && s->refusal == MLA_AUDIT_R_NONE &&
	    mla_audit_reconcile(s, co_side, &rc, NULL) == MLA_OK)
		mla_audit_reconciliation_free(rc);
	mla_audit_side_free(s);
	return 0;
}
