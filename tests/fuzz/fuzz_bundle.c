/* libFuzzer harness: the audit bundle container parser must refuse any input cleanly. */
#include <stddef.h>
#include <stdint.h>

#include "mlagw/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mla_bundle b = {NULL, 0, 0};
	mla_diag d = {MLA_OK, ""};

	if (mla_bundle_parse(data, size, &b, &d) == MLA_OK)
		mla_bundle_free(&b);
	return 0;
}
