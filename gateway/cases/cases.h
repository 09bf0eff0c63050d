/* The case lifecycle in the gateway (protocol/SPEC.md 16.8): which case a message is a step
 * of, and whether this gateway may seal it or must accept it, from the case's state in the
 * store. The store applies the step itself, in the write of the message that makes it. */
#ifndef MLAGW_GATEWAY_CASES_H
#define MLAGW_GATEWAY_CASES_H

#include <jansson.h>

#include "mlagw/buf.h"
#include "mlagw/deadline.h"
#include "mlagw/envelope.h"
#include "store/store.h"

/* Before sealing h, sent by State self: resolves its case, fills an empty h->in_reply_to with
 * the case's last step, checks the step (mla_life_check_send) and fills *out, the step to
 * hold pending with the outbox row. MLA_ERR_CASE_STEP / MLA_ERR_CASE_CONFLICT name the
 * case's state and the allowed steps; MLA_ERR_ARG when h names no step and two cases of its
 * id with that peer exist. */
mla_err cases_check_send(gw_store *st, const char *self, mla_header *h,
			 struct store_life_step *out, mla_diag *diag);

/* h received by State self from its sender (authenticated), at at_ms (the receipt's time):
 * resolves its case, checks the step (mla_life_check_receive) and fills *out, the step to
 * apply with the inbox row. Both checks refuse what the history rules out whatever the
 * step's document says (cases_check_order with known 0). */
mla_err cases_check_receive(gw_store *st, const char *self, const mla_header *h,
			    int64_t at_ms, struct store_life_step *out, mla_diag *diag);

/* The order of steps the state table cannot see (SPEC 16.8; cases_order.c), from the history
 * of case k (c its record): a second person-arrested, a second surrender-consented or one
 * before any person-arrested; a deadline-extended after one naming no rule, and (known 1,
 * f the step's facts or NULL for a document naming none) one naming no rule after any, one
 * naming a rule already extended. MLA_ERR_CASE_STEP naming the earlier step. */
mla_err cases_check_order(gw_store *st, const struct store_life_key *k,
			  const struct store_life_case *c, mla_life_step step,
			  const struct store_deadline_facts *f, int known, mla_diag *diag);
/* The same for step (filled by cases_check_send or cases_check_receive) once its document's
 * facts are read (f NULL: none, an opaque document): before the put of a sealed step and
 * before a received one is applied. */
mla_err cases_check_facts(gw_store *st, const struct store_life_step *step,
			  const struct store_deadline_facts *f, mla_diag *diag);

/* What a view of cases shows besides their lifecycle: their deadlines at now_ms under rules
 * (SPEC 16.9; rules NULL: none). */
struct cases_view {
	const mla_deadline_rules *rules;
	int64_t now_ms;
};

/* The cases as JSON {"items": [...], "now_ms": N}: every case, or (case_id set) the cases of
 * that id with their steps; MLA_ERR_NOT_FOUND when there is none. out initialised by the
 * caller; view may be NULL. */
mla_err cases_json(gw_store *st, const char *case_id, const struct cases_view *view,
		   mla_buf *out, mla_diag *diag);

/* The same items as a JSON array (*out, the caller's), only the cases of requesting State
 * only_state when it is set (a caller limited to its own cases sees no peer's case). */
mla_err cases_items(gw_store *st, const char *case_id, const char *only_state,
		    const struct cases_view *view, json_t **out, mla_diag *diag);

/* What the deadline clock of a case reads (SPEC 16.9) from its steps on this side: start_ms,
 * the request's receipt time (0 before it); accepted_ms, when the Accepted step took effect
 * (0: not accepted); the intervals additional information was awaited, in time order, from
 * the step to additional-information-requested to the next step (MLA_DEADLINE_OPEN while
 * it is the last); extended_ms, when the last deadline-extended step naming no rule took
 * effect (0: none); rule_extended_ms, per rule when the one naming it did (0: none);
 * arrest_ms and consent_ms, the times the person-arrested and surrender-consented steps
 * record (their own time when their document records none; MLA_DEADLINE_NO_TIME: none). */
struct cases_clock {
	int64_t start_ms;
	int64_t accepted_ms;
	int64_t extended_ms;
	int64_t rule_extended_ms[MLA_DEADLINE_RULE_N];
	int64_t arrest_ms;
	int64_t consent_ms;
	mla_deadline_pause pauses[MLA_DEADLINE_PAUSES_MAX];
	size_t n_pauses;
};
/* MLA_ERR_NOT_FOUND when the case has no lifecycle; MLA_ERR_TOO_LARGE beyond
 * MLA_DEADLINE_PAUSES_MAX pauses. */
mla_err cases_clock_get(gw_store *st, const struct store_life_key *key, struct cases_clock *out,
			mla_diag *diag);

/* --- deadlines (cases_deadline.c; SPEC 16.9) --- */

/* What a request's document (doc, plaintext; h its header) says for the case's deadlines,
 * into *out with *set 1; *set 0 for any other step and for a document that is no valid case
 * request (an opaque one has no legal deadline). Never keeps any text of the document. */
mla_err cases_facts_read(const uint8_t *doc, size_t len, const mla_limits *limits,
			 const mla_header *h, struct store_deadline_facts *out, int *set,
			 mla_diag *diag);

/* The case's place in lists and queues: its header Priority, at least urgent when its
 * request is Urgent, crisis when its Kind is crisis. */
mla_deadline_priority cases_priority(const struct store_deadline_facts *f);
const char *cases_priority_name(mla_deadline_priority p); /* "normal", "urgent", "crisis" */
/* A deadline's name: the rule's (mla_deadline_rule_name), or "wished". */
const char *cases_deadline_name(int which);
/* "not-due", "due-soon", "overdue". */
const char *cases_deadline_state_name(mla_deadline_state s);

#define CASES_DEADLINES_MAX (MLA_DEADLINE_RULES_PER_CASE + 1)
/* One running deadline of a case. */
struct cases_deadline_one {
	int which;                /* an mla_deadline_rule_id, or STORE_DEADLINE_WISHED */
	mla_deadline_clock clock; /* at now */
	int paused;               /* a legal clock standing still (information awaited) */
	int extended;             /* the rule's extension is counted (SPEC 16.9) */
	unsigned fired_pct;       /* the highest escalation threshold fired */
};
/* A case's deadlines at now. */
struct cases_deadlines {
	int set;                  /* the case has deadline facts (a valid case request) */
	int open;                 /* its request was received and it is not over: clocks run */
	struct store_deadline rec;
	mla_deadline_priority priority;
	struct cases_deadline_one d[CASES_DEADLINES_MAX];
	size_t n;                 /* running deadlines in d: legal rules first, then wished */
	int paused;
	int64_t due_ms;           /* the earliest due time, or MLA_DEADLINE_NO_TIME */
	mla_deadline_state state; /* the worst state */
	/* the earliest time after now at which a deadline's state or the thresholds it reached
	 * can change without a write to the case (a threshold crossed, a time its steps name
	 * passing); STORE_DUE_NEVER when nothing can change until the case is written */
	int64_t next_ms;
	int fire;                 /* a threshold reached is above its fired mark */
};
/* The deadlines of case c at now_ms under rules (the [deadlines] configuration). A case
 * without facts has out->set 0; one not received yet or over (mla_life_state_open) has no
 * running deadline. Errors from the store, or MLA_ERR_ARG from a clock the store holds out
 * of order. */
mla_err cases_deadlines_at(gw_store *st, const mla_deadline_rules *rules,
			   const struct store_life_case *c, int64_t now_ms,
			   struct cases_deadlines *out, mla_diag *diag);

/* fn for every open case with deadline facts whose request was received, with its
 * deadlines at now_ms (lists, metrics, escalation); stops at fn's first error. */
typedef mla_err (*cases_deadlines_fn)(const struct store_life_case *c,
				      const struct cases_deadlines *dl, void *arg);
mla_err cases_deadlines_each(gw_store *st, const mla_deadline_rules *rules, int64_t now_ms,
			     cases_deadlines_fn fn, void *arg, mla_diag *diag);

/* The metrics of SPEC 16.9: open cases due soon and overdue, by mla_deadline_priority. */
struct cases_due_counts {
	uint64_t due[3], overdue[3];
};
/* Counts one case into out (a struct cases_due_counts), as a cases_deadlines_fn. */
mla_err cases_due_count_one(const struct store_life_case *c, const struct cases_deadlines *dl,
			    void *arg);
/* Every case, computed (cases_deadlines_each): the reference the summaries must equal. */
mla_err cases_due_count_all(gw_store *st, const mla_deadline_rules *rules, int64_t now_ms,
			    struct cases_due_counts *out, mla_diag *diag);

/* --- what changed since the last look (cases_due.c; store schema 12; SPEC 16.9 Cost) --- */
/* What a look at the cases read and wrote. */
struct cases_due_scan {
	size_t read;      /* cases whose deadlines were computed */
	size_t written;   /* summaries written back */
	int put_failed;   /* writing them back failed (put_diag): the results still hold */
	mla_diag put_diag;
};
/* fn, as cases_deadlines_each, but only for the cases whose summary (store_due) is to
 * compute at now_ms: every case whose deadlines' states or reached thresholds may have
 * changed since the last look, and every case with a threshold reached and not fired; the
 * summaries are written back (store_due_put). A case not visited holds no threshold to
 * fire and shows the state its summary says. scan may be NULL. */
mla_err cases_due_each(gw_store *st, const mla_deadline_rules *rules, int64_t now_ms,
		       cases_deadlines_fn fn, void *arg, struct cases_due_scan *scan,
		       mla_diag *diag);
/* The metrics from the summaries: the cases visited by cases_due_each, and the others as
 * their summaries say; equal to cases_due_count_all. */
mla_err cases_due_count(gw_store *st, const mla_deadline_rules *rules, int64_t now_ms,
			struct cases_due_counts *out, struct cases_due_scan *scan,
			mla_diag *diag);

/* --- retrieval notices (cases_retrieval.c; SPEC 16.10) --- */
/* Sets "retrieval" on o, a message's view, when message_id is a request this gateway watches
 * (received) or one its peer sent notices for: {"side", "retrieved", "retrieved_ms",
 * "retrieved_notice", "not_retrieved", "not_retrieved_ms", "not_retrieved_notice"[,
 * "notices"]}, each time only when known; nothing for any other message. */
mla_err cases_retrieval_json(gw_store *st, const char *message_id, json_t *o, mla_diag *diag);

#endif
