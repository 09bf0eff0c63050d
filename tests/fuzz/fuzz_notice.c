/* libFuzzer harness: the retrieval notice and the record of another channel (SPEC 16.10,
 * 16.11) parse or refuse any input cleanly; what parses builds again and parses back equal. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/envelope.h"
#include "mlagw/notice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	mla_diag d = {MLA_OK, ""};
	mla_limits lim;
	mla_notice n, n2;
	mla_other_channel o, o2;
	mla_buf b;

	if (!ready) {
		if (mla_crypto_init(&d) != MLA_OK)
			abort();
		ready = 1;
	}
	mla_limits_default(&lim);
	mla_buf_init(&b, MLA_NOTICE_MAX);
	if (mla_notice_parse(data, size, &lim, &n, &d) == MLA_OK &&
	    (mla_notice_build(&n, &b, &d) != MLA_OK ||
	     mla_notice_parse(b.data, b.len, &lim, &n2, &d) != MLA_OK ||
	     memcmp(&n, &n2, sizeof(n)) != 0))
		abort();
	if (mla_other_channel_parse(data, size, &lim, &o, &d) == MLA_OK &&
	    (mla_other_channel_build(&o, &b, &d) != MLA_OK ||
	     mla_other_channel_parse(b.data, b.len, &lim, &o2, &d) != MLA_OK ||
	     memcmp(&o, &o2, sizeof(o)) != 0))
		abort();
	mla_buf_free(&b);
	return 0;
}
