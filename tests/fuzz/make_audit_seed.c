/* Writes the audit verification harness's seeds: a small valid bundle of ES's log (entries,
 * two checkpoints cosigned by CO, a consistency proof) signed with the audit keys of the
 * `mlagw pki init` PKI in PKI_DIR, the one fuzz_audit_verify then trusts; with OUT3, also a
 * format 3 bundle of the same log announcing an audit key change (certificate audit.2), so
 * the fuzzer starts inside the key schedule's checks. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>
#include <openssl/x509.h>

#include "audit_testbundle.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"

/* The same log with entry 3 an audit-key-changed naming ES's certificate, which the bundle
 * also holds as audit.2 (format 3). */
static int write_format3(const struct tb_state *es, const struct tb_state *co,
			 mla_audit_entry *e, const char *path)
{
	uint64_t cps[] = {2, 4};
	unsigned char *der = NULL;
	struct tb_bundle b;
	mla_buf out;
	FILE *f;
	int n = i2d_X509(es->audit_cert, &der), rc = 1;

	if (n <= 0)
		return 1;
	e[3].event = MLA_AUDIT_AUDIT_KEY_CHANGED;
	e[3].has_audit_cert_sha256 = 1;
	SHA256(der, (size_t)n, e[3].audit_cert_sha256);
	OPENSSL_free(der);
	mla_buf_init(&out, 0);
	memset(&b, 0, sizeof(b));
	if (tb_build(&b, es, e, 4, cps, 2, co) == 0 && (b.format = 3) == 3 &&
	    tb_add_cert(&b, "audit.2", es->audit_cert) == 0 && tb_manifest(&b, "ES", NULL) == 0 &&
	    tb_write(&b, &out) == 0 && (f = fopen(path, "wb")) != NULL) {
		rc = fwrite(out.data, 1, out.len, f) == out.len ? 0 : 1;
		rc |= fclose(f) != 0;
	}
	mla_buf_free(&out);
	tb_free(&b);
	return rc;
}

int main(int argc, char **argv)
{
	struct tb_state es, co;
	struct tb_bundle b;
	mla_audit_entry e[4];
	uint64_t cps[] = {2, 4};
	int64_t t = (int64_t)time(NULL) * 1000;
	uint8_t sha[32] = {1};
	mla_buf out;
	FILE *f;
	int rc = 1;

	if ((argc != 3 && argc != 4) || mla_crypto_init(NULL) != MLA_OK ||
	    tb_state_load("ES", argv[1], &es) != 0 || tb_state_load("CO", argv[1], &co) != 0) {
		fprintf(stderr, "usage: make_audit_seed PKI_DIR OUT [OUT3] (PKI_DIR/ES and /CO)\n");
		return 2;
	}
	mla_buf_init(&out, 0);
	memset(&b, 0, sizeof(b));
	tb_entry(&e[0], 0, t, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	tb_entry(&e[1], 1, t + 1, MLA_AUDIT_SENT, "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f", "ES",
		 "CO", sha, NULL);
	tb_entry(&e[2], 2, t + 2, MLA_AUDIT_DOCUMENT_FETCHED,
		 "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f", "ES", "CO", NULL, NULL);
	mla_require(mla_strcpy(e[2].reason, sizeof(e[2].reason), "seed") == MLA_OK);
	tb_entry(&e[3], 3, t + 3, MLA_AUDIT_KEY_CHANGED, NULL, NULL, NULL, NULL, NULL);
	if (tb_build(&b, &es, e, 4, cps, 2, &co) == 0 && tb_write(&b, &out) == 0 &&
	    (f = fopen(argv[2], "wb")) != NULL) {
		rc = fwrite(out.data, 1, out.len, f) == out.len ? 0 : 1;
		rc |= fclose(f) != 0;
	}
	if (rc == 0 && argc == 4)
		rc = write_format3(&es, &co, e, argv[3]);
	mla_buf_free(&out);
	tb_free(&b);
	tb_state_free(&es);
	tb_state_free(&co);
	return rc;
}
