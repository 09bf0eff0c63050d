/* libFuzzer harness: receipt verification, either version, must refuse any input cleanly;
 * a version 2 receipt's problem list is read too (scripts/fuzz.sh seeds both versions). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "mlagw/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mla_receipt_problems problems; /* large: not on the stack */
	const struct fuzz_env *e = fuzz_env_get();
	mla_receipt r;
	mla_diag d = {MLA_OK, ""};

	(void)mla_receipt_verify_problems(data, size, e->trust, &e->limits, &r, &problems, &d);
	return 0;
}
