/* libFuzzer harness: the audit bundle container parsers (in memory, and the one-pass index
 * over a file with its entry cursor and record loads) must refuse any input cleanly, and
 * agree on what they accept. Formats 2, 3 and 4. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mla_bundle b, idx;
	mla_diag d = {MLA_OK, ""};
	FILE *f = size > 0 ? fmemopen((void *)data, size, "rb") : NULL;
	int parsed = mla_bundle_parse(data, size, &b, &d) == MLA_OK;

	memset(&idx, 0, sizeof(idx));
	if (f != NULL) {
		int indexed = mla_bundle_index(f, &idx, &d) == MLA_OK;
		mla_bundle_cursor c;
		mla_bundle_record r;
		mla_buf buf;

		if (parsed != indexed)
			abort(); /* one container, one answer */
		for (size_t i = 0; indexed && i < idx.n; i++) {
			mla_buf_init(&buf, idx.rec[i].len + 1);
			if (mla_bundle_load(f, &idx.rec[i], &buf, &d) != MLA_OK)
				abort();
			mla_buf_free(&buf);
		}
		mla_bundle_cursor_init(&c, f, &idx);
		for (uint64_t k = 0; indexed && k < idx.count[MLA_BUNDLE_ENTRY]; k++)
			if (mla_bundle_cursor_next(&c, &r, &d) != MLA_OK)
				abort();
		if (indexed && mla_bundle_cursor_next(&c, &r, &d) != MLA_ERR_NOT_FOUND)
			abort();
		mla_bundle_free(&idx);
		fclose(f);
	}
	if (parsed)
		mla_bundle_free(&b);
	return 0;
}
