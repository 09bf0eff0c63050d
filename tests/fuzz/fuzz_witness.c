/* libFuzzer harness: a tlog-witness add-checkpoint body from a peer (gateway/witness_server.c)
 * must be refused cleanly or parsed; a parsed one's checkpoint then goes through note opening
 * with a log key and a cosigner key (type 0x04), so cosignature lines are parsed too. The keys
 * come from fixed seeds, so runs are reproducible. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "mlagw/checkpoint.h"
#include "mlagw/witness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int make_keys(mla_note_verifier keys[2])
{
	uint8_t seed[32];
	EVP_PKEY *k;
	int ok;

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i * 7 + 1);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	ok = k != NULL &&
	     mla_note_verifier_from_key("mlagw.co/audit", k, &keys[0], NULL) == MLA_OK &&
	     mla_cosig_verifier_from_key("mlagw.es/witness", k, &keys[1], NULL) == MLA_OK;
	EVP_PKEY_free(k);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mla_note_verifier keys[2];
	static int ready;
	mla_witness_request w;
	mla_checkpoint cp;
	uint64_t signers = 0, got = 0;
	mla_diag d = {MLA_OK, ""};

	if (!ready) {
		if (!make_keys(keys))
			abort();
		ready = 1;
	}
	(void)mla_witness_size_parse((const char *)data, size, &got, &d);
	if (mla_witness_request_parse((const char *)data, size, &w, &d) != MLA_OK)
		return 0;
	if (w.nproof > MLA_WITNESS_PROOF_MAX || w.note + w.note_len != (const char *)data + size)
		abort(); /* the parser's own promises */
	(void)mla_checkpoint_open(w.note, w.note_len, keys, 2, &cp, &signers, &d);
	return 0;
}
