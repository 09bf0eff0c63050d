/* Legal deadlines of cases (protocol/SPEC.md 16.9): the rules of the instruments, the due
 * times a case's clock gives at a moment, the escalation thresholds to fire, and the order of
 * cases in lists and queues. Pure functions of their inputs (no clock, no store), so both
 * States and an auditor compute the same answer from the same signed receipt time. */
#ifndef MLAGW_DEADLINE_H
#define MLAGW_DEADLINE_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/case.h"
#include "mlagw/error.h"
#include "mlagw/limits.h"

/* The rules, one per deadline an instrument sets; the configuration key is the name
 * (mla_deadline_rule_name), the defaults and their sources are in conf/README.md. */
typedef enum mla_deadline_rule_id {
	MLA_DEADLINE_PRODUCTION = 0,       /* e-evidence production order: 10 days */
	MLA_DEADLINE_PRODUCTION_EMERGENCY, /* the same in an emergency: 8 hours */
	MLA_DEADLINE_PRODUCTION_OBJECTION, /* the enforcing authority's objection: 96 hours */
	MLA_DEADLINE_PRESERVATION,         /* preservation order: 60 days, extendable by 30 */
	MLA_DEADLINE_EIO_RECOGNITION,      /* EIO recognition decision: 30 days, +30 */
	MLA_DEADLINE_EIO_EXECUTION,        /* EIO execution after the decision: 90 days */
	MLA_DEADLINE_EAW,                  /* European arrest warrant decision: 60 days, +30 */
	MLA_DEADLINE_EAW_CONSENT,          /* the same after consent: 10 days, +30 */
	MLA_DEADLINE_OTHER,                /* any other request: none unless configured */
	MLA_DEADLINE_RULE_N
} mla_deadline_rule_id;

typedef enum mla_deadline_unit {
	MLA_DEADLINE_OFF = 0, /* no legal deadline */
	MLA_DEADLINE_DAYS,    /* calendar days in UTC, the day of the start not counted */
	MLA_DEADLINE_HOURS    /* whole hours, the hour of the start not counted */
} mla_deadline_unit;

#define MLA_DEADLINE_COUNT_MAX 3660 /* days or hours in one rule or extension */

typedef struct mla_deadline_rule {
	mla_deadline_unit unit;
	uint32_t count;     /* 1..MLA_DEADLINE_COUNT_MAX, in unit */
	uint32_t extension; /* in unit; 0: the deadline cannot be extended */
	int pauses;         /* the clock stops while additional information is awaited */
} mla_deadline_rule;

typedef struct mla_deadline_rules {
	mla_deadline_rule rule[MLA_DEADLINE_RULE_N];
} mla_deadline_rules;

/* The instruments' defaults (conf/README.md, [deadlines]). */
void mla_deadline_rules_default(mla_deadline_rules *r);
/* "production", "production_emergency", ...; "unknown" out of range. */
const char *mla_deadline_rule_name(mla_deadline_rule_id id);
/* The rule named s (a configuration key), or MLA_DEADLINE_RULE_N. */
mla_deadline_rule_id mla_deadline_rule_by_name(const char *s);
/* A rule's text: "none", or "N(d|h)" followed by "extend M(d|h)" (same unit) and/or "pause",
 * blank-separated, in that order. MLA_ERR_CONFIG with *why a static sentence otherwise. */
mla_err mla_deadline_rule_parse(const char *s, mla_deadline_rule *out, const char **why);
/* The text mla_deadline_rule_parse reads back ("60d extend 30d pause", "none"). */
mla_err mla_deadline_rule_format(const mla_deadline_rule *r, char *out, size_t n);

/* What selects a case's rules (SPEC 16.9 "Which rules apply"). */
typedef struct mla_deadline_case {
	mla_case_doctype type; /* the request's kind part */
	int eio;               /* its legal basis names eio-directive */
	int eaw;               /* a surrender under Framework Decision 2002/584 */
	int emergency;         /* Common/Urgency/Urgent is true */
	int consent;           /* EAW: the person consented to surrender */
	int decided;           /* the request Accepted: EIO recognition decided, EAW finally
				* decided (no EAW rule runs after it) */
} mla_deadline_case;

/* What a request itself says for its deadlines: c->type, c->emergency (Common/Urgency/Urgent
 * true), c->eio (a Common/LegalBasis/Basis/Instrument is eio-directive), c->eaw (an
 * Extradition or ProvisionalArrest whose Instrument is eaw-framework-decision); c->consent
 * and c->decided are 0 (the lifecycle knows them). *wished_ms is the end of
 * Common/Urgency/DateWished (a date before 1970: 0, long past), else MLA_DEADLINE_NO_TIME.
 * The document is validated first (mla_case_init before): MLA_ERR_SCHEMA when it is not a
 * valid request (opaque, an answer, or invalid), with nothing of its text in diag. */
mla_err mla_deadline_request_facts(const uint8_t *doc, size_t len, const mla_limits *limits,
				   mla_deadline_case *c, int64_t *wished_ms, mla_diag *diag);

/* What an answer's document says for the deadlines (SPEC 16.9): type, its root; rule, the
 * Rule a DeadlineExtended names (MLA_DEADLINE_RULE_N: none named, or another answer);
 * recorded_ms, the time a PersonArrested (ArrestedAt) or SurrenderConsented (ConsentedAt)
 * records (MLA_DEADLINE_NO_TIME for other answers). Validated first: MLA_ERR_SCHEMA when the
 * document is not a valid answer (opaque, a request, or invalid), nothing of its text in
 * diag. */
typedef struct mla_deadline_step_facts {
	mla_case_doctype type;
	mla_deadline_rule_id rule;
	int64_t recorded_ms;
} mla_deadline_step_facts;
mla_err mla_deadline_answer_facts(const uint8_t *doc, size_t len, const mla_limits *limits,
				  mla_deadline_step_facts *f, mla_diag *diag);

#define MLA_DEADLINE_RULES_PER_CASE 2
/* The rules running for the case now, into out; returns how many (0: none). */
size_t mla_deadline_rules_for(const mla_deadline_case *c,
			      mla_deadline_rule_id out[MLA_DEADLINE_RULES_PER_CASE]);

#define MLA_DEADLINE_NO_TIME INT64_MIN /* no wished date, no due time */
#define MLA_DEADLINE_OPEN INT64_MAX    /* to_ms of a pause still running */
#define MLA_DEADLINE_PAUSES_MAX 64
#define MLA_DEADLINE_TIME_MAX INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */
#define MLA_DEADLINE_DUE_SOON_PERMILLE 900

/* Additional information awaited from from_ms (the request for it) to to_ms (its answer;
 * MLA_DEADLINE_OPEN while still awaited). */
typedef struct mla_deadline_pause {
	int64_t from_ms, to_ms;
} mla_deadline_pause;

typedef struct mla_deadline_input {
	const mla_deadline_rule *rule; /* NULL or OFF: only the wished date */
	int extended;                  /* the rule's extension was taken */
	int64_t start_ms;              /* the signed receipt's time, ms since the epoch, UTC */
	const mla_deadline_pause *pauses; /* in time order, not overlapping; ignored unless
					   * rule->pauses */
	size_t n_pauses;               /* at most MLA_DEADLINE_PAUSES_MAX */
	int64_t wished_ms;             /* end of the wished date, or MLA_DEADLINE_NO_TIME */
	int64_t now_ms;
} mla_deadline_input;

typedef enum mla_deadline_state {
	MLA_DEADLINE_NOT_DUE = 0,
	MLA_DEADLINE_DUE_SOON, /* at least MLA_DEADLINE_DUE_SOON_PERMILLE elapsed */
	MLA_DEADLINE_OVERDUE
} mla_deadline_state;

/* One deadline at now_ms. */
typedef struct mla_deadline_clock {
	int set;              /* this deadline exists */
	int64_t due_ms;       /* when it falls due, pauses until now included */
	int64_t length_ms;    /* its length without pauses */
	int64_t permille;     /* thousandths of the length elapsed (pauses excluded); >= 0,
			       * beyond 1000 once overdue */
	mla_deadline_state state;
} mla_deadline_clock;

typedef struct mla_deadline_result {
	mla_deadline_clock legal, wished;
	int paused;           /* additional information is awaited and the legal clock stopped */
	int64_t paused_ms;    /* time the legal clock stood still until now */
	int64_t due_ms;       /* the earlier due time of the two, or MLA_DEADLINE_NO_TIME */
	mla_deadline_state state; /* the worse of the two */
} mla_deadline_result;

/* The case's deadlines at in->now_ms. MLA_ERR_ARG naming the problem when a time is outside
 * 0..MLA_DEADLINE_TIME_MAX, a pause is out of order, overlaps, ends before it starts or is
 * open before its last, too many pauses, an extension the rule does not have, a rule out of
 * range. */
mla_err mla_deadline_compute(const mla_deadline_input *in, mla_deadline_result *out,
			     mla_diag *diag);

/* The end of a wished date "YYYY-MM-DD" (xs:date without time zone, read as UTC): the
 * start of the next day. MLA_ERR_ARG for anything but a real date of years 1970..9999. */
mla_err mla_deadline_wished_end(const char *date, int64_t *ms);

/* Escalation: the thresholds (percent of a deadline) at which the hook runs. */
#define MLA_DEADLINE_THRESHOLDS 3
extern const unsigned mla_deadline_threshold_pct[MLA_DEADLINE_THRESHOLDS]; /* 50, 90, 100 */
/* The thresholds reached at permille and above fired_pct (the highest already fired, 0 for
 * none), lowest first, into out_pct; returns how many. A gateway that was down through 50%
 * and 90% fires both, once each, in order. */
size_t mla_deadline_escalations(int64_t permille, unsigned fired_pct,
				unsigned out_pct[MLA_DEADLINE_THRESHOLDS]);

/* Lists and queues: crisis, then urgent, then normal; within each the earlier due time first,
 * cases without one last; then by case id (bytes). */
typedef enum mla_deadline_priority {
	MLA_DEADLINE_NORMAL = 0,
	MLA_DEADLINE_URGENT = 1,
	MLA_DEADLINE_CRISIS = 2
} mla_deadline_priority;

typedef struct mla_deadline_rank {
	mla_deadline_priority priority;
	int64_t due_ms;      /* MLA_DEADLINE_NO_TIME: none */
	const char *case_id; /* not NULL */
} mla_deadline_rank;

/* A qsort comparator over mla_deadline_rank. */
int mla_deadline_rank_cmp(const void *a, const void *b);

#endif
