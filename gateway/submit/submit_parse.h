/* The submission socket's request parser (submit_parse.c): the X-MLA-* headers of
 * POST /local/v1/submit into a checked header. Pure (no gateway, no I/O), used by
 * submit_handle and by tests/fuzz/fuzz_submit_request.c and tests/unit/test_api_parse.c. */
#ifndef MLAGW_GATEWAY_SUBMIT_PARSE_H
#define MLAGW_GATEWAY_SUBMIT_PARSE_H

#include <event2/keyvalq_struct.h>

#include "mlagw/envelope.h"
#include "store/store.h"

/* A submission's idempotency key (docs/api/README.md, "Idempotency") and the SHA-256 of the
 * request it came with; key "" for none. */
struct submit_idem {
	char key[STORE_IDEM_KEY_MAX + 1];
	uint8_t digest[32];
};
#define SUBMIT_IDEM_HEADER "Idempotency-Key"

/* The Idempotency-Key header of headers into out->key ("" when absent): 1 to
 * STORE_IDEM_KEY_MAX characters of A-Z a-z 0-9 . _ : - (MLA_ERR_HEADER otherwise). The digest
 * is left to the caller, who knows what the request is. */
mla_err submit_parse_idem_key(const struct evkeyvalq *headers, struct submit_idem *out,
			      mla_diag *diag);
/* The digest of a socket submission: its X-MLA-* fields as sent (absent ones too) and the
 * document, so that a retry is recognised whatever header order or defaults. */
mla_err submit_parse_digest(const struct evkeyvalq *headers, const uint8_t *doc, size_t len,
			    uint8_t digest[32]);

/* Fills h (initialised here: new message id, created now) from the headers, from_state the
 * sending State, then mla_header_check. On error *field names the header at fault (NULL
 * when the check of the whole header failed; the message in diag names the field). */
mla_err submit_parse_request(const struct evkeyvalq *headers, const char from_state[3],
			     mla_header *h, const char **field, mla_diag *diag);

#endif
