/* libFuzzer harness: receipt verification must refuse any input cleanly. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "mlagw/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_env *e = fuzz_env_get();
	mla_receipt r;
	mla_diag d = {MLA_OK, ""};

	(void)mla_receipt_verify(data, size, e->trust, &e->limits, &r, &d);
	return 0;
}
