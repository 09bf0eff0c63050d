/* Case statistics from audit entries (protocol/SPEC.md section 16.13): one engine, pure (no
 * I/O, no clock), fed the entries of one or more logs in log order, for `mlagw stats` (a
 * gateway's own log) and `mlagw audit stats` (verified bundles) alike, so that both give the
 * same figures from the same entries by construction. Metadata only: kinds, States, actions,
 * times; never a name, a document or an entry's free text. */
#ifndef MLAGW_STATS_H
#define MLAGW_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/audit.h"
#include "mlagw/audit_entry.h"
#include "mlagw/buf.h"
#include "mlagw/error.h"

/* The most entries one computation keeps (those of case steps; the others are skipped):
 * beyond it mla_stats_add refuses with MLA_ERR_TOO_LARGE rather than grow without end. */
#define MLA_STATS_FACTS_MAX (16u * 1024 * 1024)

typedef struct mla_stats mla_stats;

/* A new, empty computation; NULL when out of memory. */
mla_stats *mla_stats_new(void);
void mla_stats_free(mla_stats *s);

/* Feeds one entry of the log of State `state` (two upper-case letters: the log's own, its
 * checkpoint origin's), entries of one log in seq order; the logs of several States may be
 * interleaved, and a State's log epochs follow each other in order. Entries that are no case
 * step are skipped. MLA_ERR_ARG for a bad State, MLA_ERR_TOO_LARGE past MLA_STATS_FACTS_MAX,
 * MLA_ERR_NOMEM. */
mla_err mla_stats_add(mla_stats *s, const char *state, const mla_audit_entry *e,
		      mla_diag *diag);

/* Verifies the bundle in with trust (required) as mla_audit_verify does and, only when it
 * verifies, feeds its entries in seq order as the log of its manifest's State, read again in
 * bounded memory (a file in passes: in->path with in->data NULL). *verified gets the
 * verification (free it with mla_stats_bundle_result_free; NULL when it did not run).
 * MLA_OK when fed; MLA_ERR_SIG_INVALID when it does not verify (nothing fed); MLA_ERR_SCHEMA
 * a container that does not parse or a file that changed while read (then s may hold part of
 * it: drop s); MLA_ERR_HEADER no State; MLA_ERR_IO, MLA_ERR_ARG without trust; the errors
 * of mla_stats_add. */
mla_err mla_stats_add_bundle(mla_stats *s, const mla_audit_input *in,
			     const mla_audit_trust *trust, mla_audit_bundle_result **verified,
			     mla_diag *diag);
void mla_stats_bundle_result_free(mla_audit_bundle_result *r);

/* The figures (SPEC 16.13) appended to out: JSON (format "mlagw-stats/1") or CSV (the header
 * line "state,month,dimension,value,count,mean_ms,median_ms,p90_ms", then one row per
 * figure). Both are functions of the entries fed: the same entries, the same bytes. */
mla_err mla_stats_json(mla_stats *s, mla_buf *out, mla_diag *diag);
mla_err mla_stats_csv(mla_stats *s, mla_buf *out, mla_diag *diag);

#endif
