/* The transfer status a receiving gateway answers for an envelope version 3 whose attachments
 * it is receiving (SPEC 17.13): per attachment its index, segment count, segments held and
 * the missing segments as ranges (at most ATTACH_STATUS_RANGES_MAX, with a flag when more
 * are missing). The receiver writes it; the sender reads it, checked against the list it
 * sealed, to send only what is missing. */
#ifndef GW_ATTACH_STATUS_H
#define GW_ATTACH_STATUS_H
#include <stddef.h>
#include <stdint.h>

#include "mlagw/attach.h"
#include "mlagw/envelope.h"
#include "mlagw/error.h"

#define ATTACH_STATUS_RANGES_MAX 256
#define ATTACH_STATUS_JSON_MAX ((size_t)1 << 20) /* far above 64 x 256 ranges */

struct attach_status_item {
	uint32_t index;
	uint64_t segments; /* N of the signed list */
	uint64_t held;     /* segments the receiver holds */
	size_t n_missing;
	int more;          /* further missing segments beyond the ranges listed */
	uint64_t missing[ATTACH_STATUS_RANGES_MAX][2]; /* [first, last], ascending, disjoint */
};

struct attach_status {
	char message_id[MLA_UUID_LEN + 1];
	size_t n;
	struct attach_status_item item[MLA_ATTACH_MAX];
};

/* The JSON text of s (malloc'd, NUL-terminated, into *out; the caller frees it). */
mla_err attach_status_json(const struct attach_status *s, char **out, mla_diag *diag);
/* Reads a status answered for message_id whose signed list is att[0..n): exactly the members
 * written, one item per attachment in order with its index and segment count, held at most
 * the count, ranges within 0..N-1 ascending and disjoint. Anything else is MLA_ERR_HEADER
 * naming what was wrong. */
mla_err attach_status_parse(const uint8_t *json, size_t len, const char *message_id,
			    const mla_attach_entry *att, size_t n, struct attach_status *out,
			    mla_diag *diag);

#endif
