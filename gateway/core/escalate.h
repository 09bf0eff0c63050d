/* The escalation hook (protocol/SPEC.md 16.9, conf/README.md [deadlines] escalate): the
 * configured command run at 50%, 90% and 100% of each deadline of a case, with the case's
 * id, the threshold, the due time, the Kind, which deadline and its rule as arguments, never
 * any content; its outcome logged, never blocking beyond the configured timeout. The store
 * keeps, per case and deadline, the highest threshold fired (store_deadline_fired, written by
 * gateway/daemon/escalation.c once a run is over). */
#ifndef MLAGW_GATEWAY_ESCALATE_H
#define MLAGW_GATEWAY_ESCALATE_H

#include <stddef.h>
#include <stdint.h>

#include "conf/deadline_config.h"
#include "hook.h"
#include "mlagw/deadline.h"

/* One deadline of one case, as the hook is told of it. */
struct gw_escalation {
	const char *case_id;  /* [A-Za-z0-9._/-]{1,64} (SPEC 16.4 CaseId) */
	const char *kind;     /* the request's header Kind: [a-z0-9-]{1,32} */
	const char *deadline; /* "legal" or "wished" */
	const char *rule;     /* mla_deadline_rule_name, or "wished" */
	int64_t due_ms;       /* its due time */
};

/* The arguments after the configured ones, in this order: case id, threshold percent ("50",
 * "90", "100"), due time (2026-03-01T00:00:00.000Z), Kind, deadline, rule. */
#define GW_ESCALATE_ARGS 6

/* Runs the configured command once for threshold_pct of e and logs the outcome (event
 * "escalation": case, threshold, deadline, rule, result, time taken). MLA_OK when it ran,
 * whatever its exit (res says how it ended); MLA_ERR_NOT_FOUND when no command is configured;
 * MLA_ERR_ARG when a field has the wrong shape (nothing is run). Blocks up to the configured
 * timeout: call it from a worker thread. */
mla_err gw_escalate_run(const struct deadline_config *cfg, const struct gw_escalation *e,
			unsigned threshold_pct, struct gw_hook_result *res, mla_diag *diag);

/* The thresholds clock has reached beyond *fired_pct (mla_deadline_escalations), each run
 * once in order with gw_escalate_run; *fired_pct moves to each threshold once its run is
 * over, whatever the command's outcome (a failing hook is logged, not retried). Returns how
 * many ran. Nothing runs for a deadline not set or when no command is configured. */
size_t gw_escalate_due(const struct deadline_config *cfg, const struct gw_escalation *e,
		       const mla_deadline_clock *clock, unsigned *fired_pct);

#endif
