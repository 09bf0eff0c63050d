/* Internals of the statistics engine (stats.c reads entries into cases, stats_out.c sums
 * them per State and month and writes JSON or CSV; SPEC 16.13). */
#ifndef MLAGW_STATS_INTERNAL_H
#define MLAGW_STATS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/envelope.h"
#include "mlagw/stats.h"

/* Where a case ends up: the lifecycle state (SPEC 16.8) its last step led to, leaving out
 * closed (a closed case keeps the outcome it was closed with). */
enum stats_outcome {
	SO_RECEIVED, SO_ACKNOWLEDGED, SO_FORWARDED, SO_INFO_REQUESTED, SO_INFO_PROVIDED,
	SO_ACCEPTED, SO_POSTPONED, SO_IN_EXECUTION, SO_EXECUTED, SO_PARTIAL, SO_REFUSED,
	SO_WITHDRAWN, SO_N
};

enum stats_dir { SD_OUTGOING, SD_INCOMING, SD_N };
/* unknown: the request's entry is older than entry version 6 (no priority line) */
enum stats_priority { SP_NORMAL, SP_URGENT, SP_CRISIS, SP_UNKNOWN, SP_N };
/* the grounds of a refusal: coded (grounds), none coded (an opaque Refused document), or
 * unknown (its entry is older than version 6) */
enum stats_ground_state { SG_CODED, SG_NONE, SG_UNKNOWN };
enum stats_time { ST_RECEIPT, ST_DECISION, ST_EXECUTION, ST_N };

#define STATS_NO_TIME INT64_C(-1)

/* One case as its State's log shows it. */
struct stats_case {
	char state[3];	 /* the log's State */
	char partner[3]; /* the other State */
	int32_t month;	 /* of the request's issue: year * 12 + month - 1 (UTC) */
	uint8_t kind;	 /* index into mla_kinds */
	uint8_t dir;	 /* enum stats_dir */
	uint8_t outcome; /* enum stats_outcome */
	uint8_t priority; /* enum stats_priority: the request's */
	uint8_t ground_state; /* enum stats_ground_state: of a refused case */
	uint16_t grounds; /* of a refused case: bit k for mla_audit_grounds[k] */
	int64_t time[ST_N]; /* ms from issue, or STATS_NO_TIME */
};

const char *stats_outcome_name(unsigned o);
const char *stats_priority_name(unsigned p);

/* The cases of the entries fed so far (built on each call): *cases owned by the caller,
 * sorted by State, then month. */
mla_err stats_cases(mla_stats *s, struct stats_case **cases, size_t *n, mla_diag *diag);

#endif
