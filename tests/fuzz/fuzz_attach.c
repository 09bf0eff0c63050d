/* libFuzzer harness: the parsers of envelope version 3's attachments (SPEC 17) -- the signed
 * list as the Header holds it, the decrypted descriptor matched against a list, and a
 * segment's inclusion proof -- parse or refuse any input cleanly and within their bounds;
 * what parses obeys the list's invariants. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/attach.h"
#include "mlagw/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A list parsed is consistent: 1 to 64 entries, indices in order, geometry that holds. */
static void check_list(const mla_attach_list *l, const mla_limits *lim)
{
	mla_diag d = {MLA_OK, ""};

	if (l->n < 1 || l->n > MLA_ATTACH_MAX ||
	    mla_attach_list_check(l, lim->max_attachment_bytes, &d) != MLA_OK)
		abort();
	for (size_t i = 0; i < l->n; i++)
		if (l->item[i].pub.index != i + 1 ||
		    mla_attach_plain_size(&l->item[i].pub) > lim->max_attachment_bytes)
			abort();
}

/* The descriptor against a fixed list of two attachments (5 bytes, and empty). */
static void fuzz_descriptor(const uint8_t *data, size_t size, const mla_limits *lim)
{
	mla_attach_list *l = NULL;
	mla_diag d = {MLA_OK, ""};

	if (mla_attach_list_new(&l) != MLA_OK)
		abort();
	l->n = 2;
	for (uint32_t i = 0; i < 2; i++) {
		l->item[i].pub.index = i + 1;
		l->item[i].pub.segment_size = MLA_ATTACH_SEGMENT_MIN;
		if (mla_attach_geometry(i == 0 ? 5 : 0, MLA_ATTACH_SEGMENT_MIN,
					&l->item[i].pub.segments, &l->item[i].pub.size) != MLA_OK)
			abort();
	}
	if (mla_envelope_attach_descriptor_parse(data, size, lim, l, &d) == MLA_OK) {
		if (!l->has_private || !mla_attach_name_ok(l->item[0].priv.name))
			abort();
		check_list(l, lim);
	} else if (l->has_private) {
		abort();
	}
	mla_attach_list_free(l);
}

/* The first 16 bytes choose the segment and the tree size, the rest is the proof. */
static void fuzz_proof(const uint8_t *data, size_t size)
{
	mla_merkle_proof p;
	mla_diag d = {MLA_OK, ""};
	uint64_t k = 0, n = 0;

	if (size < 16)
		return;
	for (int i = 0; i < 8; i++) {
		k = k << 8 | data[i];
		n = n << 8 | data[8 + i];
	}
	n = n % ((uint64_t)1 << 24) + 1;
	k %= n;
	if (mla_attach_proof_decode(data + 16, size - 16, k, n, &p, &d) == MLA_OK &&
	    (p.len != mla_attach_proof_len(k, n) || p.len > MLA_MERKLE_PROOF_MAX))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	mla_attach_list *l = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_limits lim;

	if (!ready) {
		if (mla_crypto_init(&d) != MLA_OK)
			abort();
		ready = 1;
	}
	mla_limits_default(&lim);
	if (mla_envelope_attach_list_parse(data, size, &lim, &l, &d) == MLA_OK) {
		check_list(l, &lim);
		mla_attach_list_free(l);
	} else if (l != NULL) {
		abort();
	}
	fuzz_descriptor(data, size, &lim);
	fuzz_proof(data, size);
	return 0;
}
