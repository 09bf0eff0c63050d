/* The audit tree and its signed checkpoints (see checkpoint.h). Everything here runs on the
 * event loop thread, like the appends it follows. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <openssl/x509.h>

#include "checkpoint.h"
#include "core/log.h"
#include "tlog_internal.h"
#include "witness.h"
#include "mlagw/audit_entry.h"
#include "mlagw/checkpoint.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"

#define TREE_MAX_LEAVES (UINT64_C(1) << 40)

mla_err gw_checkpoint_key_load(const struct gw_config *c, mla_privkey **keyp, mla_diag *diag)
{
	mla_privkey *key = NULL;
	X509 *cert = NULL;
	mla_err r;

	*keyp = NULL;
	if ((r = mla_privkey_load(c->audit.key, &key, diag)) != MLA_OK ||
	    (r = mla_pem_load_cert(c->audit.cert, &cert, diag)) != MLA_OK)
		goto out;
	if (EVP_PKEY_get_id(mla_privkey_public(key)) != EVP_PKEY_ED25519) {
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "[keys] audit_key: not an Ed25519 key");
		goto out;
	}
	if (EVP_PKEY_eq(mla_privkey_public(key), X509_get0_pubkey(cert)) != 1) {
		r = mla_fail(diag, MLA_ERR_KEY_FILE,
			     "[keys] audit_key: not the key of the audit certificate");
		goto out;
	}
	*keyp = key;
	key = NULL;
out:
	mla_privkey_free(key);
	X509_free(cert);
	return r;
}

/* "mlagw.<state in lower case>/audit": the log's origin and the key name. */
static mla_err origin(const struct gw *g, char out[MLA_CHECKPOINT_ORIGIN_MAX + 1])
{
	const char *s = g->snap->cfg.state;

	return mla_snprintf(out, MLA_CHECKPOINT_ORIGIN_MAX + 1, "mlagw.%c%c/audit",
			    tolower((unsigned char)s[0]), tolower((unsigned char)s[1]));
}

static mla_err append_leaf(uint64_t seq, const uint8_t leaf[32], void *arg)
{
	(void)seq;
	return mla_merkle_tree_append(arg, leaf);
}

mla_err gw_tree_sync(struct gw *g)
{
	uint64_t have = mla_merkle_tree_size(g->tlog->tree);

	if (have > g->tlog->audit_next)
		return mla_merkle_tree_truncate(g->tlog->tree, g->tlog->audit_next);
	if (have < g->tlog->audit_next)
		return store_audit_leaves(g->store, have, append_leaf, g->tlog->tree, NULL);
	return MLA_OK;
}

void gw_tree_append(struct gw *g, const uint8_t leaf[32])
{
	if (g->tlog->tree == NULL)
		return;
	/* the tree follows the store: on any doubt, read it back from there */
	if (mla_merkle_tree_size(g->tlog->tree) + 1 != g->tlog->audit_next ||
	    mla_merkle_tree_append(g->tlog->tree, leaf) != MLA_OK)
		(void)gw_tree_sync(g);
}

mla_err gw_checkpoint_now(struct gw *g, mla_diag *diag)
{
	mla_checkpoint cp = {0};
	char name[MLA_CHECKPOINT_ORIGIN_MAX + 1], *note = NULL;
	size_t len = 0;
	mla_err r;

	/* never over a log refused at start (a failed start still frees through here), nor
	 * before the peers' heads are known, nor over a history they did not see */
	if (g->tlog == NULL || !g->tlog->cp_ready || g->tlog->tree == NULL ||
	    !g->tlog->heads_done || g->tlog->forked ||
	    g->tlog->audit_key == NULL || gw_batch_is_open(g))
		return MLA_OK; /* an open group is not durable yet: the next tick */
	if ((r = gw_tree_sync(g)) != MLA_OK)
		return mla_fail(diag, r, "audit tree: cannot follow the audit table");
	cp.size = mla_merkle_tree_size(g->tlog->tree);
	if (cp.size <= g->tlog->cp_size)
		return MLA_OK;
	if ((r = origin(g, name)) != MLA_OK ||
	    (r = mla_strcpy(cp.origin, sizeof(cp.origin), name)) != MLA_OK ||
	    (r = mla_merkle_tree_root(g->tlog->tree, cp.size, cp.root)) != MLA_OK ||
	    (r = mla_checkpoint_sign(&cp, name, g->tlog->audit_key, &note, &len, diag)) != MLA_OK ||
	    (r = store_checkpoint_put(g->store, cp.size, note, len, gw_now_ms(), diag)) != MLA_OK)
		goto out;
	g->tlog->cp_size = cp.size;
out:
	free(note);
	return r;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	(void)fd;
	(void)what;
	if ((r = gw_checkpoint_now(g, &d)) != MLA_OK)
		gw_log(GW_LOG_ERROR, "checkpoint-error", NULL, "reason=\"%s\"",
		       d.msg[0] ? d.msg : mla_errname(r));
	witness_kick(g); /* peers that have not cosigned the latest checkpoint */
}

static mla_err arm(struct gw *g)
{
	uint64_t ms = g->snap->cfg.checkpoint_interval_ms;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	if (g->tlog->cp_timer == NULL &&
	    (g->tlog->cp_timer = event_new(g->base, -1, EV_PERSIST, on_tick, g)) == NULL)
		return MLA_ERR_NOMEM;
	if (event_add(g->tlog->cp_timer, &tv) != 0)
		return MLA_ERR_INTERNAL;
	g->tlog->cp_interval_ms = ms;
	return MLA_OK;
}

size_t gw_checkpoint_verifiers(const struct gw *g, const char *origin, mla_note_verifier *out,
			       size_t max)
{
	if (max == 0 || g->tlog->audit_key == NULL ||
	    mla_note_verifier_from_key(origin, mla_privkey_public(g->tlog->audit_key), &out[0],
				       NULL) != MLA_OK)
		return 0;
	return 1;
}

/* The latest checkpoint's root must be the root of the rebuilt tree at its size: a changed
 * entry or leaf in the table is refused at start. A checkpoint signed by an earlier audit
 * key (before a rotation) is not verifiable with the current one: then only sizes are
 * compared, and a log line says so. */
static mla_err check_latest_root(struct gw *g, mla_diag *diag)
{
	char name[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	uint8_t root[MLA_MERKLE_HASH_LEN];
	mla_note_verifier v;
	mla_checkpoint cp;
	mla_buf note;
	mla_err r;

	if (g->tlog->cp_size == 0)
		return MLA_OK;
	if ((r = origin(g, name)) != MLA_OK ||
	    (r = store_checkpoint_latest(g->store, &g->tlog->cp_size, &note, NULL, diag)) != MLA_OK)
		return r;
	if (mla_note_verifier_from_key(name, mla_privkey_public(g->tlog->audit_key), &v, NULL) != MLA_OK ||
	    mla_checkpoint_open((const char *)note.data, note.len, &v, 1, &cp, NULL, NULL) !=
		    MLA_OK) {
		gw_log(GW_LOG_WARN, "checkpoint-unverified", NULL,
		       "size=%llu reason=\"signed by another audit key; only its size is checked\"",
		       (unsigned long long)g->tlog->cp_size);
		r = MLA_OK;
	} else if (cp.size != g->tlog->cp_size ||
		   mla_merkle_tree_root(g->tlog->tree, cp.size, root) != MLA_OK ||
		   memcmp(root, cp.root, sizeof(root)) != 0) {
		r = mla_fail(diag, MLA_ERR_STORE,
			     "audit log does not match its checkpoint of %llu entries "
			     "(entries altered)", (unsigned long long)cp.size);
	}
	mla_buf_free(&note);
	return r;
}

/* The entries from seq from on, read back: each its leaf hash and canonical at its index. Run
 * on the tail no checkpoint covers yet at every start (the tree's root only vouches for the
 * stored leaf hashes, not for the bytes beside them), and on the whole log after an unclean
 * stop, so that a torn or altered entry is refused rather than signed into a checkpoint. */
/* One entry read back; *bad (arg) gets its seq when it is not what its leaf names. */
static mla_err check_entry(uint64_t seq, const uint8_t leaf[32], const void *entry,
			   size_t len, void *arg)
{
	mla_audit_entry e;
	uint8_t want[32];

	if (entry != NULL && mla_merkle_leaf_hash(entry, len, want) == MLA_OK &&
	    memcmp(want, leaf, sizeof(want)) == 0 &&
	    mla_audit_entry_parse(entry, len, &e, NULL) == MLA_OK && e.seq == seq)
		return MLA_OK;
	*(uint64_t *)arg = seq;
	return MLA_ERR_STORE;
}

static mla_err entry_refused(uint64_t seq, mla_diag *diag)
{
	return mla_fail(diag, MLA_ERR_STORE,
			"audit entry %llu is not the canonical entry its leaf hash names (torn or "
			"altered): refusing to start; inspect the store", (unsigned long long)seq);
}

static mla_err check_entries(struct gw *g, uint64_t from, mla_diag *diag)
{
	uint64_t bad = UINT64_MAX;
	mla_err r = store_audit_entries(g->store, from, check_entry, &bad, diag);

	return bad != UINT64_MAX ? entry_refused(bad, diag) : r;
}

struct checked_build {
	mla_merkle_tree *tree;
	uint64_t bad;
};

static mla_err append_checked(uint64_t seq, const uint8_t leaf[32], const void *entry,
			      size_t len, void *arg)
{
	struct checked_build *b = arg;
	mla_err r = check_entry(seq, leaf, entry, len, &b->bad);

	return r == MLA_OK ? mla_merkle_tree_append(b->tree, leaf) : r;
}

/* The tree from the stored leaves; after an unclean stop, from the entries themselves, each
 * checked against its leaf in the same scan. */
static mla_err build_tree(struct gw *g, int checked, mla_diag *diag)
{
	struct checked_build b = {g->tlog->tree, UINT64_MAX};
	mla_err r = checked ? store_audit_entries(g->store, 0, append_checked, &b, diag)
			    : store_audit_leaves(g->store, 0, append_leaf, g->tlog->tree, diag);

	return b.bad != UINT64_MAX ? entry_refused(b.bad, diag) : r;
}

mla_err gw_checkpoint_start(struct gw *g, mla_diag *diag)
{
	int unclean = store_unclean(g->store);
	mla_err r;

	if ((r = gw_checkpoint_key_load(&g->snap->cfg, &g->tlog->audit_key, diag)) != MLA_OK)
		return r;
	if ((r = mla_merkle_tree_new(TREE_MAX_LEAVES, &g->tlog->tree)) != MLA_OK)
		return mla_fail(diag, r, "audit tree: cannot create it");
	if ((r = build_tree(g, unclean, diag)) != MLA_OK)
		return r;
	if (mla_merkle_tree_size(g->tlog->tree) != g->tlog->audit_next)
		return mla_fail(diag, MLA_ERR_STORE, "audit tree: the audit table changed at start");
	r = store_checkpoint_latest(g->store, &g->tlog->cp_size, NULL, NULL, diag);
	if (r == MLA_ERR_NOT_FOUND)
		g->tlog->cp_size = 0;
	else if (r != MLA_OK)
		return r;
	if (g->tlog->cp_size > g->tlog->audit_next)
		return mla_fail(diag, MLA_ERR_STORE,
				"audit log has %llu entries, fewer than its checkpoint of %llu",
				(unsigned long long)g->tlog->audit_next,
				(unsigned long long)g->tlog->cp_size);
	/* the unsigned tail is re-read at every start (already done above when unclean) */
	if ((r = check_latest_root(g, diag)) != MLA_OK ||
	    (!unclean && (r = check_entries(g, g->tlog->cp_size, diag)) != MLA_OK))
		return r;
	if (unclean)
		gw_log(GW_LOG_WARN, "store-recovered", NULL,
		       "reason=\"unclean stop (the clean-stop mark was not set)\" quick_check=ok "
		       "entries=%llu verified=all",
		       (unsigned long long)g->tlog->audit_next);
	if ((r = arm(g)) != MLA_OK)
		return mla_fail(diag, r, "cannot start the checkpoint timer");
	g->tlog->cp_ready = 1;
	store_set_verified(g->store);
	return MLA_OK;
}

void gw_checkpoint_reload(struct gw *g, mla_privkey *key)
{
	mla_diag d = {MLA_OK, ""};

	if (gw_checkpoint_now(g, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "checkpoint-error", NULL, "reason=\"%s\"", d.msg);
	mla_privkey_free(g->tlog->audit_key);
	g->tlog->audit_key = key;
	witness_reload(g); /* the certificate peers check our signatures with */
	if (g->tlog->cp_interval_ms != g->snap->cfg.checkpoint_interval_ms && arm(g) != MLA_OK)
		gw_log(GW_LOG_ERROR, "checkpoint-error", NULL, "reason=\"timer not rearmed\"");
}

void gw_checkpoint_free(struct gw *g)
{
	mla_diag d = {MLA_OK, ""};

	if (g->store != NULL && gw_checkpoint_now(g, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "checkpoint-error", NULL, "reason=\"%s\"", d.msg);
	if (g->tlog->cp_timer != NULL)
		event_free(g->tlog->cp_timer);
	g->tlog->cp_timer = NULL;
	mla_merkle_tree_free(g->tlog->tree);
	g->tlog->tree = NULL;
	mla_privkey_free(g->tlog->audit_key);
	g->tlog->audit_key = NULL;
}
