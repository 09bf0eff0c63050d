/* The audit log's handle: its start and stop around the checkpoints and witnessing, and the
 * queries of the local API (see tlog.h). */
#include <stdlib.h>

#include "audit.h"
#include "checkpoint.h"
#include "core/log.h"
#include "heads.h"
#include "tlog.h"
#include "tlog_internal.h"
#include "witness.h"

#define STOP_WITNESS_MS 2000 /* how long a clean stop waits for the last cosignatures */

mla_err tlog_start(struct gw *g, mla_diag *diag)
{
	mla_err r;

	if ((g->tlog = calloc(1, sizeof(*g->tlog))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = store_audit_next(g->store, &g->tlog->audit_next, diag)) != MLA_OK ||
	    (r = gw_checkpoint_start(g, diag)) != MLA_OK ||
	    (r = gw_audit_clock_start(g, diag)) != MLA_OK)
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
	return g->tlog != NULL && g->tlog->tree != NULL ? mla_merkle_tree_size(g->tlog->tree) : 0;
}

mla_err tlog_leaf(const struct gw *g, uint64_t seq, uint8_t leaf[MLA_MERKLE_HASH_LEN])
{
	return mla_merkle_tree_leaf(g->tlog->tree, seq, leaf);
}

mla_err tlog_inclusion_proof(const struct gw *g, uint64_t seq, uint64_t size,
			     mla_merkle_proof *proof)
{
	return mla_merkle_tree_inclusion_proof(g->tlog->tree, seq, size, proof);
}

mla_err tlog_consistency_proof(const struct gw *g, uint64_t from, uint64_t to,
			       mla_merkle_proof *proof)
{
	return mla_merkle_tree_consistency_proof(g->tlog->tree, from, to, proof);
}
