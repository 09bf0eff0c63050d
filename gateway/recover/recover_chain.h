/* The order of the case steps a recovery replays (recover_chain.c; SPEC 14 Recovery): each
 * step waits for the step it follows (its InReplyTo), indexed by that step's message id, so
 * that applying a step tries only the steps that follow it. Each step is tried at most twice
 * (once when it comes, once when the step it follows is applied), whatever the order and
 * the pages a peer gives them back in. Pure: the caller's function applies a step. */
#ifndef MLAGW_GATEWAY_RECOVER_CHAIN_H
#define MLAGW_GATEWAY_RECOVER_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/envelope.h"
#include "mlagw/error.h"

/* Steps held waiting (or left) at most: bounds the memory a peer giving back steps that
 * follow nothing it gives can make this gateway hold. A step that must wait beyond it is let
 * go (the caller's over function says so); one whose turn it is is applied whatever. */
#define RECOVER_CHAIN_MAX 16384
/* Steps added between two runs at most (a page holds at most 64 items). */
#define RECOVER_CHAIN_FRESH_MAX 256

/* What the chain knows of a step: its message id, the message id of the step it follows
 * ("" for a request, which follows none), and its place in time (the ReceivedAt of its
 * receipt, then the order it came in). */
struct recover_link {
	char id[MLA_UUID_LEN + 1];
	char follows[MLA_UUID_LEN + 1];
	int64_t at_ms;
	uint64_t order;
};

/* What trying a step did: applied (its followers are tried next), not its turn (it waits for
 * the step it follows), or done with for good (refused: its slot is freed). */
enum recover_try { RECOVER_TRY_APPLIED, RECOVER_TRY_WAIT, RECOVER_TRY_DONE };
typedef enum recover_try (*recover_try_fn)(void *arg, void *item);
/* A step that must wait while the chain's max steps wait already: it is not held. */
typedef void (*recover_over_fn)(void *arg, void *item);

struct recover_chain_slot;
struct recover_chain_ref;

struct recover_chain {
	size_t item_size, max;
	unsigned char *items;             /* cap slots of item_size bytes, the caller's */
	struct recover_chain_slot *slots; /* cap */
	size_t cap, held;                 /* slots in use */
	size_t kept;                      /* of them waiting or left (at most max) */
	size_t free_head;                 /* a list through the free slots */
	void *index;                      /* tsearch tree (red-black in glibc): follows -> the
					   * slots waiting for it; O(log n) whatever the ids */
	struct recover_chain_ref *fresh;  /* added since the last run (cap) */
	size_t n_fresh;
	struct recover_chain_ref *wake;   /* the waiters of one step, sorted (cap) */
	size_t *stack;                    /* the run's work (cap) */
	uint64_t tries;                   /* calls of the try function, over the chain's life */
};

/* A chain of items of item_size bytes, at most max waiting or left (max <=
 * RECOVER_CHAIN_MAX). */
void recover_chain_init(struct recover_chain *c, size_t item_size, size_t max);
/* A new step l: *item, item_size zeroed bytes for the caller to fill, valid until the next
 * add. MLA_ERR_TOO_LARGE when RECOVER_CHAIN_FRESH_MAX steps were added since the last run
 * (the step is not held: the caller says so), MLA_ERR_NOMEM. */
mla_err recover_chain_add(struct recover_chain *c, const struct recover_link *l, void **item);
/* Tries the steps added since the last run, oldest first (at_ms, then order). A step applied
 * wakes the steps waiting for it, which are tried at once, oldest first. A step not applied
 * waits for the step it follows (over(arg, item) and let go instead when max steps wait or
 * are left already); one that still is not applied once that step was (another took its
 * place, or the case's state refuses it), or a request not applied, is left: it never will
 * be. */
void recover_chain_run(struct recover_chain *c, recover_try_fn fn, recover_over_fn over,
		       void *arg);
/* fn(arg, item, waiting) for every step held after a run: waiting (the step it follows
 * never came) or left; in no particular order. */
void recover_chain_each(const struct recover_chain *c,
			void (*fn)(void *arg, const void *item, int waiting), void *arg);
void recover_chain_free(struct recover_chain *c);

#endif
