/* libFuzzer harness: redaction of protected persons (SPEC 16.12) must finish on any input, and
 * be stable: the redacted document marks the same persons, and redacting it again changes
 * nothing (so nothing of a person survives that a second pass would still remove). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/case.h"
#include "mlagw/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	mla_diag d = {MLA_OK, ""};
	mla_limits lim;
	mla_buf once, twice;
	size_t n1 = 0, n2 = 0, n0 = 0;

	if (!ready) {
		if (mla_crypto_init(&d) != MLA_OK || mla_case_init(&d) != MLA_OK)
			abort();
		ready = 1;
	}
	mla_limits_default(&lim);
	mla_buf_init(&once, (size_t)8 << 20);
	mla_buf_init(&twice, (size_t)8 << 20);
	if (mla_case_protected(data, size, &lim, &once, &n1, &d) == MLA_OK) {
		if (mla_case_protected(data, size, &lim, NULL, &n0, &d) != MLA_OK || n0 != n1)
			abort(); /* counting alone agrees with redacting */
		if ((n1 == 0) != (once.len == 0))
			abort();
		if (n1 > 0 &&
		    (mla_case_protected(once.data, once.len, &lim, &twice, &n2, &d) != MLA_OK ||
		     n2 != n1 || twice.len != once.len ||
		     memcmp(twice.data, once.data, once.len) != 0))
			abort();
	}
	mla_buf_free(&once);
	mla_buf_free(&twice);
	return 0;
}
