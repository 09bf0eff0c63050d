/* Appending audit entries from the event loop thread (see audit.h). */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "mlagw/codec.h"
#include "audit.h"
#include "checkpoint.h"
#include "core/clock_record.h"
#include "core/log.h"
#include "tlog_internal.h"

mla_err gw_audit_sync(struct gw *g, mla_diag *diag)
{
	mla_err r = store_audit_next(g->store, &g->tlog->audit_next, diag);

	/* the tree follows: a rolled-back group's leaves are forgotten */
	if (r == MLA_OK && g->tlog->tree_ready && (r = gw_tree_sync(g)) != MLA_OK)
		r = mla_fail(diag, r, "audit tree: cannot follow the audit table");
	return r;
}

/* A step of the wall clock: a log line and an alert with its size. A step back holds entry
 * times at the latest one until the clock passes it again; a step forward moves them on at
 * once, and its correction (a step back) then holds them for as long as the jump was. */
static void clock_stepped(struct gw *g, const char *what, int64_t ms)
{
	mla_diag d = {MLA_OK, ""};
	char held[MLA_TIME_MS_LEN], detail[160];

	mla_time_ms_format(g->tlog->last_time_ms, held);
	(void)mla_snprintf_cut(detail, sizeof(detail), "%s=%+lld latest_entry=%s", what,
			       (long long)ms, held);
	gw_log(GW_LOG_WARN, "clock-step", NULL, "%s reason=\"%s\"", detail,
	       ms < 0 ? "wall clock went back: entry times held until it passes the latest"
		      : "wall clock jumped forward");
	if (store_alert(g->store, "clock-step", NULL, detail, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=alert reason=\"%s\"", d.msg);
}

/* An entry's time: the wall clock, but never before the previous entry's (times never go
 * back along seq, SPEC 14 and 15 step 4, whatever the clock does). */
static int64_t entry_time(struct gw *g)
{
	struct gw_tlog *t = g->tlog;
	int64_t now = gw_now_ms();

	if (now > t->last_time_ms)
		t->last_time_ms = now;
	return t->last_time_ms;
}

/* Appends e at the next index with its time (seq and time are set here). */
static mla_err append(struct gw *g, mla_audit_entry *e)
{
	mla_diag d = {MLA_OK, ""};
	uint8_t leaf[32];
	mla_buf b;
	mla_err r;

	e->seq = g->tlog->audit_next;
	e->time_ms = entry_time(g);
	mla_buf_init(&b, MLA_AUDIT_ENTRY_MAX);
	if ((r = mla_audit_entry_serialize(e, &b, &d)) != MLA_OK) {
		/* refused by its own fields: nothing was written, so only its request fails,
		 * never the group commit it shares with others */
		gw_log_limited(GW_LOG_ERROR, "audit-error", mla_audit_event_name(e->event),
			       e->message_id, "event=%s reason=\"%s\"",
			       mla_audit_event_name(e->event), mla_diag_message(&d));
		mla_buf_free(&b);
		return r;
	}
	if ((r = mla_merkle_leaf_hash(b.data, b.len, leaf)) == MLA_OK &&
	    (r = store_audit_append(g->store, e->seq, b.data, b.len, leaf, &d)) == MLA_OK) {
		g->tlog->audit_next++;
		gw_tree_append(g, leaf);
	}
	mla_buf_free(&b);
	if (r != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "audit-error", mla_audit_event_name(e->event),
			       e->message_id, "event=%s reason=\"%s\"",
			       mla_audit_event_name(e->event), mla_diag_message(&d));
		if (gw_batch_is_open(g))
			gw_batch_fail(g);
		(void)gw_audit_sync(g, NULL); /* the store decides what the next index is */
	}
	return r;
}

/* A clock-stepped entry (SPEC 14): actor gateway, the step in its reason, nothing else. */
static mla_err clock_entry(struct gw *g, const char *reason)
{
	mla_audit_entry e;
	mla_err r;

	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_CLOCK_STEPPED;
	if ((r = mla_strcpy(e.actor, sizeof(e.actor), "gateway")) != MLA_OK ||
	    (r = mla_strcpy(e.reason, sizeof(e.reason), reason)) != MLA_OK)
		return r;
	return append(g, &e);
}

/* The clock-stepped entry's group is durable, or was rolled back (its steps owed again). */
static void clock_settled(struct gw *g, void *arg, int committed)
{
	(void)arg;
	if (g->tlog != NULL)
		gw_clock_record_settle(&g->tlog->clock_record, committed);
}

void gw_audit_clock_flush(struct gw *g, int force)
{
	struct gw_clock_record *c = &g->tlog->clock_record;
	char reason[MLA_AUDIT_REASON_MAX + 1];
	int64_t mono = gw_mono_ms();

	if (!gw_clock_record_due(c, mono, force))
		return;
	/* a signed number and a count always fit in a reason */
	mla_require(gw_clock_record_reason(c, reason, sizeof(reason)) == MLA_OK);
	gw_clock_record_take(c, mono);
	if (clock_entry(g, reason) != MLA_OK)
		gw_clock_record_settle(c, 0);
	else
		gw_after_commit(g, clock_settled, NULL);
}

/* Before each entry: a step of the wall clock since the previous one is logged and alerted
 * at once, and recorded by a clock-stepped entry before it (at most one a minute). */
static void clock_watch(struct gw *g)
{
	struct gw_tlog *t = g->tlog;
	int64_t step = gw_clock_step(&t->clock, gw_now_ms(), gw_mono_ms());

	if (step != 0) {
		clock_stepped(g, "step_ms", step);
		gw_clock_record_add(&t->clock_record, step);
	}
	gw_audit_clock_flush(g, 0);
}

/* Started behind the latest entry by behind_ms: the alert, the log line and the entry. */
static mla_err clock_behind(struct gw *g, int64_t behind_ms, mla_diag *diag)
{
	char reason[MLA_AUDIT_REASON_MAX + 1];
	mla_err r;

	clock_stepped(g, "behind_latest_entry_ms", -behind_ms);
	if ((r = gw_clock_record_behind_reason(behind_ms, reason, sizeof(reason))) != MLA_OK ||
	    (r = clock_entry(g, reason)) != MLA_OK)
		return mla_fail(diag, r, "audit log: cannot record that the wall clock is behind "
				"its latest entry");
	return MLA_OK;
}

mla_err gw_audit_clock_start(struct gw *g, mla_diag *diag)
{
	struct gw_tlog *t = g->tlog;
	mla_audit_entry e;
	mla_buf b;
	mla_err r = MLA_OK;
	int64_t now;

	(void)gw_clock_step(&t->clock, gw_now_ms(), gw_mono_ms());
	if (t->audit_next == 0)
		return MLA_OK;
	mla_buf_init(&b, MLA_AUDIT_ENTRY_MAX);
	if ((r = store_audit_get(g->store, t->audit_next - 1, &b, NULL, diag)) == MLA_OK &&
	    (r = mla_audit_entry_parse(b.data, b.len, &e, diag)) == MLA_OK)
		t->last_time_ms = e.time_ms;
	mla_buf_free(&b);
	/* stepped back while stopped (or the log was written under a clock ahead) */
	if (r == MLA_OK && (now = gw_now_ms()) < t->last_time_ms)
		r = clock_behind(g, t->last_time_ms - now, diag);
	return r;
}

mla_err gw_audit(struct gw *g, mla_audit_entry *e)
{
	clock_watch(g);
	return append(g, e);
}

/* A field that does not fit is an error: a cut value in the log would be a false record. */
static mla_err copy(char *dst, size_t n, const char *src)
{
	return src != NULL ? mla_strcpy(dst, n, src) : MLA_OK;
}

mla_err gw_audit_message(struct gw *g, mla_audit_event ev, const struct gw_audit_msg *m)
{
	mla_audit_entry e;
	mla_err r;

	mla_audit_entry_init(&e);
	e.event = ev;
	if (m->count > 1)
		e.count = m->count;
	if ((r = copy(e.message_id, sizeof(e.message_id), m->message_id)) != MLA_OK ||
	    (r = copy(e.case_id, sizeof(e.case_id), m->case_id)) != MLA_OK ||
	    (r = copy(e.kind, sizeof(e.kind), m->kind)) != MLA_OK ||
	    (r = copy(e.action, sizeof(e.action), m->action)) != MLA_OK ||
	    (r = copy(e.from, sizeof(e.from), m->from)) != MLA_OK ||
	    (r = copy(e.to, sizeof(e.to), m->to)) != MLA_OK ||
	    (r = copy(e.actor, sizeof(e.actor), m->actor != NULL ? m->actor : "gateway")) !=
		    MLA_OK ||
	    (r = copy(e.error, sizeof(e.error), m->error)) != MLA_OK ||
	    (r = copy(e.reason, sizeof(e.reason), m->reason)) != MLA_OK ||
	    (r = copy(e.priority, sizeof(e.priority), m->priority)) != MLA_OK ||
	    (r = copy(e.grounds, sizeof(e.grounds), m->grounds)) != MLA_OK ||
	    (r = copy(e.attachments, sizeof(e.attachments), m->attachments)) != MLA_OK)
		return r;
	e.attachment = m->attachment;
	if (m->envelope_sha256 != NULL) {
		e.has_envelope_sha256 = 1;
		memcpy(e.envelope_sha256, m->envelope_sha256, 32);
	}
	if (m->receipt_sha256 != NULL) {
		e.has_receipt_sha256 = 1;
		memcpy(e.receipt_sha256, m->receipt_sha256, 32);
	}
	if (m->prev_envelope_sha256 != NULL) {
		e.has_prev_envelope_sha256 = 1;
		memcpy(e.prev_envelope_sha256, m->prev_envelope_sha256, 32);
	}
	return gw_audit(g, &e);
}
