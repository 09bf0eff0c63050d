/* The audit bundle's message filter (include/mlagw/audit.h): which messages a filtered
 * bundle holds, as export chose them and verification recomputes them. */
#include <string.h>
#include <time.h>

#include "mlagw/audit.h"
#include "mlagw/codec.h"

int mla_audit_filter_time(const char *s, int end_of_day, int64_t *ms)
{
	char full[32];
	size_t len = strlen(s);
	int is_date = len == 10;
	time_t t;

	if (len > 20) /* longer than any date or time: refused before it is copied */
		return 0;
	/* the envelope header's parser does the work, so "2026-02-31" is refused here as there;
	 * both copies fit by the length checks above (20 characters and the NUL) */
	if (is_date)
		mla_require(mla_snprintf(full, sizeof(full), "%sT00:00:00Z", s) == MLA_OK);
	else
		mla_require(mla_strcpy(full, sizeof(full), s) == MLA_OK);
	if ((t = mla_time_parse(full)) < 0)
		return 0;
	/* an end (--to) is inclusive to its last millisecond: of the day for a date, of the
	 * second for a time (entry times have milliseconds, filter times do not) */
	*ms = (int64_t)t * 1000 + (end_of_day ? (is_date ? 86400000 - 1 : 999) : 0);
	return 1;
}

int mla_audit_filter_init(struct mla_audit_filter *f, const char *case_id, const char *from,
		      const char *to)
{
	f->case_id = case_id;
	f->from = from;
	f->to = to;
	f->from_ms = 0;
	f->to_ms = MLA_AUDIT_TIME_MAX_MS;
	return (from == NULL || mla_audit_filter_time(from, 0, &f->from_ms)) &&
	       (to == NULL || mla_audit_filter_time(to, 1, &f->to_ms));
}

int mla_audit_filter_selects(const struct mla_audit_filter *f, const mla_audit_entry *e)
{
	return e->message_id[0] != '\0' &&
	       (f->case_id == NULL || strcmp(f->case_id, e->case_id) == 0) &&
	       e->time_ms >= f->from_ms && e->time_ms <= f->to_ms;
}
