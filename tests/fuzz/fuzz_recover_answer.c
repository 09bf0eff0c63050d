/* libFuzzer harness: a page of POST /mla/v1/recover as a peer answers it (gateway/recover/
 * recover_wire.c) must be refused cleanly or parsed within its bounds: at most the page's
 * items, each envelope within the limit given, each receipt within RECOVER_RECEIPT_MAX, a
 * next cursor that parses again. The first byte picks the request parser instead (odd), the
 * body a peer sends to our endpoint; what it accepts is written and read back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recover/recover_wire.h"

#define ENVELOPE_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void answer(const uint8_t *data, size_t size)
{
	struct recover_page *p = malloc(sizeof(*p));
	struct recover_cursor c;

	if (p == NULL)
		return;
	if (recover_answer_parse(data, size, ENVELOPE_MAX, p, NULL) == MLA_OK) {
		if (p->n > RECOVER_PAGE_ITEMS ||
		    (p->has_next && recover_cursor_parse(p->next, strlen(p->next), &c, NULL) != MLA_OK))
			abort();
		for (size_t i = 0; i < p->n; i++)
			if (p->items[i].envelope.len == 0 || p->items[i].envelope.len > ENVELOPE_MAX ||
			    p->items[i].receipt.len == 0 ||
			    p->items[i].receipt.len > RECOVER_RECEIPT_MAX ||
			    strlen(p->items[i].message_id) > MLA_UUID_LEN)
				abort();
	}
	recover_page_free(p);
	free(p);
}

static void request(const uint8_t *data, size_t size)
{
	struct recover_req q, back;
	mla_buf b;

	if (recover_req_parse(data, size, &q, NULL) != MLA_OK)
		return;
	if (q.limit < 1 || q.limit > RECOVER_PAGE_ITEMS || q.since_ms < 0)
		abort();
	mla_buf_init(&b, RECOVER_REQUEST_MAX);
	if (recover_req_write(&q, &b) != MLA_OK ||
	    recover_req_parse(b.data, b.len, &back, NULL) != MLA_OK ||
	    back.since_ms != q.since_ms || back.limit != q.limit || back.has_after != q.has_after ||
	    (q.has_after && (back.after.time_ms != q.after.time_ms || back.after.dir != q.after.dir ||
			     strcmp(back.after.message_id, q.after.message_id) != 0)))
		abort();
	mla_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		request(data + 1, size - 1);
	else
		answer(data + 1, size - 1);
	return 0;
}
