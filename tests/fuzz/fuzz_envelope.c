/* libFuzzer harness: envelope opening (hardened parse, schema, allowlist, signature,
 * decryption, decompression) must refuse any input cleanly: no crash, leak or hang. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_env *e = fuzz_env_get();
	mla_verified v;
	mla_buf doc;
	mla_diag d = {MLA_OK, ""};

	if (mla_envelope_open(data, size, e->trust, e->keys, "CO", &e->limits, &v, &doc, &d) ==
	    MLA_OK)
		mla_buf_free(&doc);
	return 0;
}
