/* The case lifecycle both States share (protocol/SPEC.md 16.8): the states of a case, the steps
 * (header Actions) that move it, which side may take each step from which state, and the
 * crossing rule (each step names the step it follows). Pure: no store, no clock, no I/O. */
#ifndef MLAGW_LIFECYCLE_H
#define MLAGW_LIFECYCLE_H

#include <stddef.h>

#include "mlagw/error.h"

#define MLA_LIFE_ID_LEN 36 /* a MessageId (MLA_UUID_LEN) */

typedef enum mla_life_state {
	MLA_LIFE_NONE = 0,     /* no case yet (before its request) */
	MLA_LIFE_TRANSMITTED,  /* request sealed, its receipt awaited (requesting side only) */
	MLA_LIFE_RECEIVED,     /* the request's positive receipt: the requested State has it */
	MLA_LIFE_ACKNOWLEDGED,
	MLA_LIFE_FORWARDED,    /* to the executing authority */
	MLA_LIFE_INFO_REQUESTED,
	MLA_LIFE_INFO_PROVIDED,
	MLA_LIFE_ACCEPTED,
	MLA_LIFE_POSTPONED,
	MLA_LIFE_IN_EXECUTION,
	MLA_LIFE_EXECUTED,
	MLA_LIFE_PARTIALLY_EXECUTED,
	MLA_LIFE_REFUSED,
	MLA_LIFE_WITHDRAWN,
	MLA_LIFE_CLOSED,
	MLA_LIFE_N
} mla_life_state;

/* The steps, one per header Action (SPEC 16.7, 16.8). */
typedef enum mla_life_step {
	MLA_STEP_REQUEST = 0,     /* request */
	MLA_STEP_ACKNOWLEDGE,     /* received (the Acknowledgement document) */
	MLA_STEP_FORWARD,         /* forwarded */
	MLA_STEP_INFO_REQUEST,    /* additional-information-requested */
	MLA_STEP_INFO_PROVIDE,    /* additional-information-provided */
	MLA_STEP_ACCEPT,          /* accepted */
	MLA_STEP_POSTPONE,        /* postponed */
	MLA_STEP_EXECUTE_START,   /* in-execution */
	MLA_STEP_EXECUTED,        /* executed */
	MLA_STEP_PARTIALLY,       /* partially-executed */
	MLA_STEP_REFUSE,          /* refused */
	MLA_STEP_WITHDRAW,        /* withdrawn */
	MLA_STEP_CLOSE,           /* closed */
	MLA_STEP_EXTEND,          /* deadline-extended: the state stays (SPEC 16.8, 16.9) */
	MLA_STEP_ARREST,          /* person-arrested (EAW): the state stays */
	MLA_STEP_CONSENT,         /* surrender-consented (EAW): the state stays */
	MLA_STEP_N
} mla_life_step;

typedef enum mla_life_side {
	MLA_SIDE_REQUESTING = 0,  /* the State that sent the request */
	MLA_SIDE_REQUESTED = 1
} mla_life_side;

/* One side's view of a case, as a gateway holds it: its state, the message id of the last
 * step applied ("" before the request is applied) and this gateway's own step awaiting its
 * receipt ("" when none) with that step. */
typedef struct mla_life_track {
	mla_life_state state;
	char last[MLA_LIFE_ID_LEN + 1];
	char pending[MLA_LIFE_ID_LEN + 1];
	mla_life_step pending_step;
} mla_life_track;

/* Stable names ("in-execution", "withdrawn", ...; the step's is its header Action); never
 * NULL ("unknown" out of range). */
const char *mla_life_state_name(mla_life_state s);
const char *mla_life_step_name(mla_life_step t);
const char *mla_life_side_name(mla_life_side s);
/* MLA_OK and *out, or MLA_ERR_ARG naming the unknown value. */
mla_err mla_life_state_parse(const char *name, mla_life_state *out, mla_diag *diag);
mla_err mla_life_step_parse(const char *action, mla_life_step *out, mla_diag *diag);

/* 1 when the case is open: every state but executed, partially-executed, refused, withdrawn,
 * closed and none (a withdrawal may come from any open state). */
int mla_life_state_open(mla_life_state s);

/* The state the step leads to when side may take it from s; MLA_LIFE_NONE when it may not. */
mla_life_state mla_life_next(mla_life_state s, mla_life_side side, mla_life_step t);
/* The steps side may take from s, in table order, at most cap; returns how many there are. */
size_t mla_life_allowed(mla_life_state s, mla_life_side side, mla_life_step *out, size_t cap);
/* The same as one line, "accepted, refused, withdrawn" ("none"), cut to n if need be. */
void mla_life_allowed_text(mla_life_state s, mla_life_side side, char *out, size_t n);

/* The transition alone: *to, or MLA_ERR_CASE_STEP naming the step, the side, the state and
 * the steps allowed. */
mla_err mla_life_apply(mla_life_state s, mla_life_side side, mla_life_step t,
		       mla_life_state *to, mla_diag *diag);

/* Before sealing a step of this gateway (its side is side) that follows `follows`: refused
 * with MLA_ERR_CASE_CONFLICT while the case has a step of this gateway awaiting its receipt
 * or when follows is not the case's last step, with MLA_ERR_CASE_STEP when illegal. *to: the
 * state the step leads to once its receipt is positive. */
mla_err mla_life_check_send(const mla_life_track *t, mla_life_side side, mla_life_step step,
			    const char *follows, mla_life_state *to, mla_diag *diag);

/* A peer's step received (the peer's side is the other of local): MLA_ERR_CASE_STEP when
 * illegal from the receiver's state; MLA_ERR_CASE_CONFLICT when follows is not the case's
 * last step, or when it crosses a step of this gateway awaiting its receipt and the local
 * side wins the crossing (the requested State: SPEC 16.8, "Crossing steps"). A step that
 * follows this gateway's pending step (which the peer can only follow once it applied it)
 * is checked from the state that step leads to, and *pending_first is set: the pending step
 * is to be applied before it. pending_first may be NULL (then such a step is a conflict). */
mla_err mla_life_check_receive(const mla_life_track *t, mla_life_side local, mla_life_step step,
			       const char *follows, mla_life_state *to, int *pending_first,
			       mla_diag *diag);

#endif
