/* libFuzzer harness: audit entry parsing must refuse any input cleanly, and every input it
 * accepts must serialize back to exactly the same bytes (the format is canonical). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/audit_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mla_audit_entry e;
	mla_buf b;
	mla_diag d = {MLA_OK, ""};

	if (mla_audit_entry_parse(data, size, &e, &d) != MLA_OK)
		return 0;
	mla_buf_init(&b, MLA_AUDIT_ENTRY_MAX);
	if (mla_audit_entry_serialize(&e, &b, &d) != MLA_OK || b.len != size ||
	    memcmp(b.data, data, size) != 0)
		abort();
	mla_buf_free(&b);
	return 0;
}
