/* The audit log's handle: its start and stop around the checkpoints and witnessing, and the
 * queries of the local API (see tlog.h). */
#include <stdlib.h>
#include <string.h>

#include "mlagw/audit_entry.h"

#include "audit.h"
#include "audit_key.h"
#include "checkpoint.h"
#include "core/log.h"
#include "heads.h"
#include "tlog.h"
#include "tlog_internal.h"
#include "witness.h"

#define STOP_WITNESS_MS 2000 /* how long a clean stop waits for the last cosignatures */

/* A log of an epoch from 2 opens with its link (SPEC 14, "Log epochs"). */
static mla_err epoch_check(struct gw *g, const char *origin, mla_diag *diag)
{
	mla_audit_entry e;
	mla_buf b;
	mla_err r;

	mla_buf_init(&b, MLA_AUDIT_ENTRY_MAX);
	if ((r = store_audit_get(g->store, 0, &b, NULL, diag)) == MLA_OK &&
	    (mla_audit_entry_parse(b.data, b.len, &e, NULL) != MLA_OK ||
	     e.event != MLA_AUDIT_EPOCH_OPENED))
		r = mla_fail(diag, MLA_ERR_STORE, "audit log %s: entry 0 is not its link to the "
			     "previous epoch (epoch-opened): refusing to start; inspect the store "
			     "(mlagw store check)", origin);
	mla_buf_free(&b);
	return r;
}

/* A new epoch's log starts with the link `mlagw audit new-epoch` left (meta epoch_link): entry
 * 0, epoch-opened, naming the previous epoch's head (SPEC 14, "Log epochs"). */
static mla_err epoch_open(struct gw *g, mla_diag *diag)
{
	char link[STORE_META_MAX], origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	mla_audit_entry e;
	mla_err r;

	if (g->tlog->epoch < 2)
		return MLA_OK;
	gw_log_origin(g, origin);
	if (g->tlog->audit_next > 0)
		return epoch_check(g, origin, diag);
	if ((r = store_meta_get(g->store, "epoch_link", link, sizeof(link), diag)) != MLA_OK ||
	    (r = mla_audit_entry_parse((const uint8_t *)link, strlen(link), &e, diag)) != MLA_OK ||
	    e.event != MLA_AUDIT_EPOCH_OPENED)
		return mla_fail(diag, MLA_ERR_STORE, "audit log %s is empty and has no valid link "
				"to its previous epoch (meta epoch_link): open the epoch again with "
				"mlagw audit new-epoch (docs/operations.md)", origin);
	if ((r = gw_audit(g, &e)) != MLA_OK)
		return mla_fail(diag, r, "audit log %s: cannot write its first entry", origin);
	gw_log(GW_LOG_WARN, "epoch-opened", NULL, "origin=%s prev=%s prev_size=%llu",
	       origin, e.prev_origin, (unsigned long long)e.prev_size);
	return MLA_OK;
}

mla_err tlog_start(struct gw *g, mla_diag *diag)
{
	mla_err r;

	if ((g->tlog = calloc(1, sizeof(*g->tlog))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = store_audit_epoch(g->store, &g->tlog->epoch, diag)) != MLA_OK ||
	    (r = store_audit_next(g->store, &g->tlog->audit_next, diag)) != MLA_OK ||
	    (r = gw_checkpoint_start(g, diag)) != MLA_OK ||
	    (r = gw_audit_clock_start(g, diag)) != MLA_OK ||
	    (r = epoch_open(g, diag)) != MLA_OK ||
	    (r = gw_audit_key_start_announce(g, diag)) != MLA_OK)
		return r;
	gw_batch_on_rollback(g->batch, gw_audit_sync);
	return MLA_OK;
}

mla_err tlog_heads_start(struct gw *g, mla_diag *diag)
{
	return heads_start(g, diag);
}

int tlog_heads_waiting(const struct gw *g)
{
	return heads_waiting(g);
}

int tlog_heads_forked(const struct gw *g)
{
	return heads_forked(g);
}

int tlog_ready(const struct gw *g)
{
	return g->tlog != NULL && g->tlog->cp_ready;
}

int tlog_stop_witnessing(struct gw *g)
{
	struct gw_tlog *t = g->tlog;
	mla_diag d = {MLA_OK, ""};

	if (t->stop_witness_ms == 0) {
		gw_audit_clock_flush(g, 1); /* no step left out of the last checkpoint */
		if (gw_checkpoint_now(g, &d) != MLA_OK)
			gw_log(GW_LOG_ERROR, "checkpoint-error", NULL, "reason=\"%s\"", d.msg);
		witness_final(g);
		t->stop_witness_ms = gw_mono_ms() + STOP_WITNESS_MS;
	}
	return witness_in_flight(g) > 0 && gw_mono_ms() < t->stop_witness_ms;
}

void tlog_free(struct gw *g)
{
	if (g->tlog == NULL)
		return;
	heads_free(g);
	witness_free(g);
	gw_checkpoint_free(g); /* a last checkpoint if the log grew (never over a fork) */
	free(g->tlog);
	g->tlog = NULL;
}

uint64_t tlog_signed_size(const struct gw *g)
{
	return g->tlog != NULL ? g->tlog->cp_size : 0;
}

uint64_t tlog_tree_size(const struct gw *g)
{
	return g->tlog != NULL ? gw_tree_size(g) : 0;
}

mla_err tlog_leaf(const struct gw *g, uint64_t seq, uint8_t leaf[MLA_MERKLE_HASH_LEN])
{
	return gw_tree_leaf(g, seq, leaf);
}

mla_err tlog_inclusion_proof(const struct gw *g, uint64_t seq, uint64_t size,
			     mla_merkle_proof *proof)
{
	return gw_tree_inclusion_proof(g, seq, size, proof);
}

mla_err tlog_consistency_proof(const struct gw *g, uint64_t from, uint64_t to,
			       mla_merkle_proof *proof)
{
	return gw_tree_consistency_proof(g, from, to, proof);
}
