/* The message filter of an audit bundle (SPEC section 15, Export): a case and a time range
 * selecting the messages whose envelopes and receipts a bundle holds. `mlagw audit export`
 * applies it; `mlagw audit verify` recomputes it from the entries and the manifest, so that a
 * filtered bundle holds exactly what its filter selects. */
#ifndef MLAGW_CLI_AUDIT_FILTER_H
#define MLAGW_CLI_AUDIT_FILTER_H

#include <stdint.h>

#include "mlagw/audit_entry.h"

struct audit_filter {
	const char *case_id; /* NULL: any case */
	int64_t from_ms, to_ms; /* inclusive; 0 and MLA_AUDIT_TIME_MAX_MS when not given */
};

/* YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC) to ms; end_of_day for a date given as --to (its
 * last millisecond). 0 when s is not such a time (a date that does not exist included). */
int audit_filter_time(const char *s, int end_of_day, int64_t *ms);
/* Fills f from the three strings (each may be NULL); 0 when from or to is not a time. */
int audit_filter_init(struct audit_filter *f, const char *case_id, const char *from,
		      const char *to);
/* Whether entry e selects its message: it names one, of the case, within the range. */
int audit_filter_selects(const struct audit_filter *f, const mla_audit_entry *e);

#endif
