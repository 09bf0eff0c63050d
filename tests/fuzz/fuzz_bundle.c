/* libFuzzer harness: the audit bundle container parsers (in memory, and the one-pass index
 * over a file with its cursors over the streamed types and record loads) must refuse any
 * input cleanly, and agree on what they accept: each streamed type's cursor gives the parsed
 * records of that type, in order, and each record the index holds a place for (certificates,
 * format 5's directory documents) loads as the parsed bytes. Formats 2 to 5. */
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
		static mla_bundle_cursor cur; /* 16 KiB */
		mla_bundle_cursor *c = &cur;
		mla_bundle_record r;
		mla_buf buf;

		if (parsed != indexed)
			abort(); /* one container, one answer */
		for (size_t i = 0; indexed && i < idx.n; i++) {
			const mla_bundle_record *p = NULL;

			mla_buf_init(&buf, idx.rec[i].len + 1);
			if (mla_bundle_load(f, &idx.rec[i], &buf, &d) != MLA_OK)
				abort();
			for (size_t k = 0; k < b.n && p == NULL; k++) /* the same record parsed */
				if (b.rec[k].offset == idx.rec[i].offset)
					p = &b.rec[k];
			if (p == NULL || p->type != idx.rec[i].type || p->len != buf.len ||
			    (buf.len > 0 && memcmp(p->data, buf.data, buf.len) != 0))
				abort();
			mla_buf_free(&buf);
		}
		for (int t = 0; indexed && t < MLA_BUNDLE_TYPE_N; t++) {
			size_t at = 0; /* the next parsed record of type t */

			if (!MLA_BUNDLE_STREAMED(t) && !MLA_BUNDLE_BLOB(t))
				continue;
			mla_bundle_cursor_init_type(c, f, &idx, (mla_bundle_type)t);
			for (uint64_t k = 0; k < idx.count[t]; k++, at++) {
				if (mla_bundle_cursor_next(c, &r, &d) != MLA_OK)
					abort();
				if (MLA_BUNDLE_BLOB(t)) { /* its bytes read apart, between two nexts */
					if (r.data != NULL)
						abort();
					mla_buf_init(&buf, r.len + 1);
					if (mla_bundle_load(f, &r, &buf, &d) != MLA_OK)
						abort();
					r.data = buf.data;
				}
				while (at < b.n && b.rec[at].type != (mla_bundle_type)t)
					at++;
				if (at == b.n || strcmp(b.rec[at].name, r.name) != 0 ||
				    b.rec[at].len != r.len ||
				    (r.len > 0 && memcmp(b.rec[at].data, r.data, r.len) != 0))
					abort();
				if (MLA_BUNDLE_BLOB(t))
					mla_buf_free(&buf);
			}
			if (mla_bundle_cursor_next(c, &r, &d) != MLA_ERR_NOT_FOUND)
				abort();
		}
		mla_bundle_free(&idx);
		fclose(f);
	}
	if (parsed)
		mla_bundle_free(&b);
	return 0;
}
