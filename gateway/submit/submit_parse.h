/* The submission socket's request parser (submit_parse.c): the X-MLA-* headers of
 * POST /local/v1/submit into a checked header. Pure (no gateway, no I/O), used by
 * submit_handle and by tests/fuzz/fuzz_submit_request.c and tests/unit/test_api_parse.c. */
#ifndef MLAGW_GATEWAY_SUBMIT_PARSE_H
#define MLAGW_GATEWAY_SUBMIT_PARSE_H

#include <event2/keyvalq_struct.h>

#include "mlagw/envelope.h"

/* Fills h (initialised here: new message id, created now) from the headers, from_state the
 * sending State, then mla_header_check. On error *field names the header at fault (NULL
 * when the check of the whole header failed; the message in diag names the field). */
mla_err submit_parse_request(const struct evkeyvalq *headers, const char from_state[3],
			     mla_header *h, const char **field, mla_diag *diag);

#endif
