/* libFuzzer harness: envelope opening (hardened parse, schema, allowlist, signature,
 * decryption, decompression) must refuse any input cleanly: no crash, leak or hang. What the
 * functions of versions 1 and 2 refuse as an unknown version goes through those of version 3
 * too (attachments, SPEC 17). */
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
	mla_attach_list *att = NULL;
	mla_err r;

	r = mla_envelope_open(data, size, e->trust, e->keys, "CO", &e->limits, &v, &doc, &d);
	if (r == MLA_OK)
		mla_buf_free(&doc);
	if (r == MLA_ERR_UNSUPPORTED_VERSION &&
	    mla_envelope_open_attached(data, size, e->trust, e->keys, "CO", &e->limits, &v, &doc,
				       &att, &d) == MLA_OK) {
		mla_buf_free(&doc);
		mla_attach_list_free(att);
	}
	return 0;
}
