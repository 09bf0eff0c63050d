/* Refusals counted instead of stored one by one (see refusals.h): the table of the keys held
 * (refusals_table.c) on the daemon's monotonic clock and configured window, a timer that
 * lets go of the keys whose window has closed, and the aggregate entries themselves. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "mlagw/codec.h"
#include "mlagw/error.h"
#include "refusals.h"
#include "refusals_table.h"
#include "tlog/audit.h"

#define TICK_MIN_MS 50
#define TICK_MAX_MS 1000

struct refusals {
	struct gw *g;
	struct event *tick;
	struct refusals_table t;
};

/* ---- aggregates ---- */

/* The aggregate entries of x's repeats: "rejected" with the count (an exact key names its
 * bytes and the one receipt that answered them; a key without a digest is followed by
 * "receipt-issued" with the same count, each of those refusals having had its own receipt),
 * and one log line. Nothing without repeats: the first refusal has its own entries. */
static void write_aggregate(void *arg, const struct refusal_node *x)
{
	struct refusals *rf = arg;
	struct gw *g = rf->g;
	const char *error = mla_errname(x->k.err);
	struct gw_audit_msg a = {
		.message_id = x->message_id, .case_id = x->case_id, .kind = x->kind,
		.action = x->action, .from = x->k.peer, .to = g->snap->cfg.state,
		.actor = x->k.peer, .error = error, .count = x->repeats,
		.envelope_sha256 = x->k.has_digest ? x->k.digest : NULL,
		.receipt_sha256 = x->k.has_digest ? x->receipt_sha256 : NULL,
	};
	char hex[65] = "-";
	mla_err r;

	if (x->repeats == 0)
		return;
	if (x->k.has_digest && mla_hex_encode(x->k.digest, 32, hex, sizeof(hex)) != MLA_OK)
		hex[0] = '\0'; /* sized for 32 bytes: cannot happen */
	r = gw_audit_message(g, MLA_AUDIT_REJECTED, &a);
	if (r == MLA_OK && !x->k.has_digest) {
		struct gw_audit_msg issued = {.from = x->k.peer, .to = g->snap->cfg.state,
					      .actor = "gateway", .count = x->repeats};
		r = gw_audit_message(g, MLA_AUDIT_RECEIPT_ISSUED, &issued);
	}
	gw_log(r == MLA_OK ? GW_LOG_WARN : GW_LOG_ERROR, "rejected-repeats", x->message_id,
	       "peer=%s error=%s count=%lu envelope_sha256=%s audited=%s", x->k.peer, error,
	       (unsigned long)x->repeats, hex, r == MLA_OK ? "yes" : "no");
}

static uint64_t window_ms(const struct refusals *rf)
{
	return rf->g->snap->cfg.refusal_window_ms;
}

/* Lets go of every key whose window has closed, oldest first. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct refusals *rf = arg;
	uint64_t t = window_ms(rf) / 4;
	struct timeval tv;

	(void)fd;
	(void)what;
	refusals_table_expire(&rf->t, gw_mono_ms(), window_ms(rf));
	t = t < TICK_MIN_MS ? TICK_MIN_MS : t > TICK_MAX_MS ? TICK_MAX_MS : t;
	tv.tv_sec = (time_t)(t / 1000);
	tv.tv_usec = (suseconds_t)(t % 1000) * 1000;
	if (event_add(rf->tick, &tv) != 0)
		gw_log(GW_LOG_ERROR, "refusals-timer", NULL, "reason=\"cannot re-arm\"");
}

/* ---- interface ---- */

mla_err refusals_new(struct gw *g, struct refusals **out)
{
	struct refusals *rf = calloc(1, sizeof(*rf));

	if (rf == NULL)
		return MLA_ERR_NOMEM;
	rf->g = g;
	if (refusals_table_init(&rf->t, write_aggregate, rf) != MLA_OK) {
		free(rf);
		return MLA_ERR_INTERNAL;
	}
	if ((rf->tick = evtimer_new(g->base, on_tick, rf)) == NULL) {
		refusals_table_free(&rf->t);
		free(rf);
		return MLA_ERR_INTERNAL;
	}
	on_tick(-1, 0, rf); /* arms the timer */
	*out = rf;
	return MLA_OK;
}

int refusals_repeat(struct refusals *rf, const struct refusal_key *k, const mla_buf **receipt)
{
	return rf != NULL &&
	       refusals_table_repeat(&rf->t, k, gw_mono_ms(), window_ms(rf), receipt);
}

int refusals_held(struct refusals *rf, const struct refusal_key *k, uint64_t window_ms)
{
	return rf != NULL && refusals_table_held(&rf->t, k, gw_mono_ms(), window_ms);
}

void refusals_first(struct refusals *rf, const struct refusal_key *k,
		    const struct refusal_first *f)
{
	if (rf != NULL)
		refusals_table_first(&rf->t, k, f, gw_mono_ms());
}

void refusals_flush(struct refusals *rf)
{
	if (rf != NULL)
		refusals_table_flush(&rf->t);
}

void refusals_free(struct refusals *rf)
{
	if (rf == NULL)
		return;
	event_free(rf->tick);
	refusals_table_free(&rf->t); /* flushes first */
	free(rf);
}
