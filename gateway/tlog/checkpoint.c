/* The audit tree and its signed checkpoints (see checkpoint.h). Everything here runs on the
 * event loop thread, like the appends it follows. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <openssl/x509.h>

#include "audit_key.h"
#include "checkpoint.h"
#include "core/log.h"
#include "store/store_check.h"
#include "tlog_internal.h"
#include "witness.h"
#include "mlagw/audit_entry.h"
#include "mlagw/checkpoint.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"

mla_err gw_audit_keypair_load(const char *cert_path, const char *key_path, const char *label,
			      mla_privkey **keyp, mla_diag *diag)
{
	mla_privkey *key = NULL;
	X509 *cert = NULL;
	mla_err r;

	*keyp = NULL;
	if ((r = mla_privkey_load(key_path, &key, diag)) != MLA_OK ||
	    (r = mla_pem_load_cert(cert_path, &cert, diag)) != MLA_OK)
		goto out;
	if (EVP_PKEY_get_id(mla_privkey_public(key)) != EVP_PKEY_ED25519) {
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "%s: not an Ed25519 key", label);
		goto out;
	}
	if (EVP_PKEY_eq(mla_privkey_public(key), X509_get0_pubkey(cert)) != 1) {
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "%s: not the key of its certificate", label);
		goto out;
	}
	*keyp = key;
	key = NULL;
out:
	mla_privkey_free(key);
	X509_free(cert);
	return r;
}

mla_err gw_checkpoint_key_load(const struct gw_config *c, mla_privkey **keyp, mla_diag *diag)
{
	return gw_audit_keypair_load(c->audit.cert, c->audit.key, "[keys] audit_key", keyp, diag);
}

void gw_log_origin(const struct gw *g, char out[MLA_CHECKPOINT_ORIGIN_MAX + 1])
{
	uint32_t epoch = g->tlog != NULL && g->tlog->epoch > 0 ? g->tlog->epoch : 1;

	mla_require(mla_audit_origin_format(g->snap->cfg.state, epoch, out) == MLA_OK);
}

/* The log's origin, which is also the key name (SPEC 14). */
static mla_err origin(const struct gw *g, char out[MLA_CHECKPOINT_ORIGIN_MAX + 1])
{
	gw_log_origin(g, out);
	return MLA_OK;
}

static mla_err current_verifier(struct gw *g, mla_note_verifier *v, char *vkey, size_t cap);

mla_err gw_checkpoint_now(struct gw *g, mla_diag *diag)
{
	char vkey[MLA_NOTE_VKEY_MAX];
	mla_note_verifier v;
	mla_checkpoint cp = {0};
	char name[MLA_CHECKPOINT_ORIGIN_MAX + 1], *note = NULL;
	size_t len = 0;
	mla_err r;

	/* never over a log refused at start (a failed start still frees through here), nor
	 * before the peers' heads are known, nor over a history they did not see */
	if (g->tlog == NULL || !g->tlog->cp_ready ||
	    !g->tlog->heads_done || g->tlog->forked ||
	    g->tlog->audit_key == NULL || gw_batch_is_open(g))
		return MLA_OK; /* an open group is not durable yet: the next tick */
	/* (reloads the edge after a failed read left it unloaded: never silently stuck) */
	if ((r = gw_tree_sync(g)) != MLA_OK)
		return mla_fail(diag, r, "audit tree: cannot follow the audit table");
	cp.size = gw_tree_size(g);
	if (cp.size <= g->tlog->cp_size)
		return MLA_OK;
	if ((r = origin(g, name)) != MLA_OK ||
	    (r = mla_strcpy(cp.origin, sizeof(cp.origin), name)) != MLA_OK ||
	    (r = gw_tree_root(g, cp.size, cp.root)) != MLA_OK ||
	    (r = mla_checkpoint_sign(&cp, name, g->tlog->audit_key, &note, &len, diag)) != MLA_OK ||
	    (!g->tlog->key_held &&
	     (r = current_verifier(g, &v, vkey, sizeof(vkey))) != MLA_OK) ||
	    (r = store_checkpoint_put_key(g->store, cp.size, note, len, gw_now_ms(),
					  g->tlog->key_held ? NULL : vkey, diag)) != MLA_OK)
		goto out;
	g->tlog->cp_size = cp.size;
	g->tlog->key_held = 1; /* the key is recorded with its first checkpoint */
	gw_audit_key_after_checkpoint(g, cp.size);
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
	gw_audit_clock_flush(g, 0); /* steps the cap held back, on an idle gateway too */
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

/* The verifier of the current audit key under the log's origin, and its vkey string. */
static mla_err current_verifier(struct gw *g, mla_note_verifier *v, char *vkey, size_t cap)
{
	char name[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	mla_err r;

	if ((r = origin(g, name)) != MLA_OK ||
	    (r = mla_note_verifier_from_key(name, mla_privkey_public(g->tlog->audit_key), v,
					    NULL)) != MLA_OK)
		return r;
	return vkey != NULL ? mla_note_vkey_format(v, vkey, cap) : MLA_OK;
}

size_t gw_checkpoint_verifiers(const struct gw *g, const char *origin, mla_note_verifier *out,
			       size_t max)
{
	struct store_keyring k = {0};
	size_t n = 0;

	(void)origin; /* the keyring's verifiers carry the log's own name */
	if (max > 0 && g->tlog->audit_key != NULL &&
	    current_verifier((struct gw *)g, &out[0], NULL, 0) == MLA_OK)
		n = 1;
	if (store_keyring_load(g->store, &k, NULL) == MLA_OK)
		for (size_t i = 0; i < k.n && n < max; i++)
			if (n == 0 || memcmp(k.v[i].key, out[0].key, sizeof(out[0].key)) != 0)
				out[n++] = k.v[i];
	store_keyring_free(&k);
	return n;
}

/* A store from before the key list holds checkpoints but no key: the current key is taken as
 * held when the latest checkpoint verifies under it (recorded now); otherwise the operator
 * decides (docs/internals/store-integrity.md, "Migration"). */
static mla_err adopt_current(struct gw *g, const mla_note_verifier *cur, const mla_buf *note,
			     mla_checkpoint *cp, mla_diag *diag)
{
	char vkey[MLA_NOTE_VKEY_MAX];
	mla_err r;

	if (mla_checkpoint_open((const char *)note->data, note->len, cur, 1, cp, NULL, NULL) !=
	    MLA_OK)
		return mla_fail(diag, MLA_ERR_STORE,
				"audit checkpoint of %llu entries does not verify under the current "
				"audit key, and this store records no earlier key (it predates the "
				"key list): if the audit key was rotated, start once with the previous "
				"[keys] audit_key and audit_cert (recorded then), then rotate again; "
				"otherwise the checkpoint is damaged: restore the store from a backup",
				(unsigned long long)g->tlog->cp_size);
	if ((r = mla_note_vkey_format(cur, vkey, sizeof(vkey))) != MLA_OK ||
	    (r = store_audit_key_add(g->store, vkey, g->tlog->cp_size, diag)) != MLA_OK)
		return r;
	gw_log(GW_LOG_WARN, "audit-keys-adopted", NULL,
	       "size=%llu key=%s reason=\"no audit key recorded; the current one verifies the latest "
	       "checkpoint\"", (unsigned long long)g->tlog->cp_size, vkey);
	g->tlog->key_held = 1;
	return MLA_OK;
}

/* The latest checkpoint must verify under an audit key this gateway has held (the store's
 * list, and the current key), and its root be the root at its size recomputed from the
 * persisted tree hashes (themselves checked against the leaves): a damaged checkpoint or a
 * changed entry, leaf or hash in the store is refused at start. */
static mla_err open_latest(struct gw *g, const mla_buf *note, mla_checkpoint *cp,
			   mla_diag *diag)
{
	struct store_keyring k = {0};
	mla_note_verifier cur;
	size_t which = 0;
	mla_err r;

	if ((r = current_verifier(g, &cur, NULL, 0)) != MLA_OK ||
	    (r = store_keyring_load(g->store, &k, diag)) != MLA_OK)
		goto out;
	for (size_t i = 0; i < k.n; i++)
		g->tlog->key_held |= memcmp(k.v[i].key, cur.key, sizeof(cur.key)) == 0 &&
				     strcmp(k.v[i].name, cur.name) == 0; /* one epoch's origin */
	if (k.n == 0) {
		r = adopt_current(g, &cur, note, cp, diag);
		goto out;
	}
	if (!g->tlog->key_held && (r = gw_audit_key_start(g, note, diag)) != MLA_OK)
		goto out;
	if ((r = store_keyring_add(&k, &cur, UINT64_MAX)) != MLA_OK)
		goto out;
	if (store_keyring_open(&k, (const char *)note->data, note->len, cp, &which, NULL) !=
	    MLA_OK) {
		r = mla_fail(diag, MLA_ERR_STORE,
			     "audit checkpoint of %llu entries does not verify under any audit key "
			     "this gateway has held (%zu): it is damaged or altered: refusing to "
			     "start; restore the store from a backup or inspect it (mlagw store "
			     "check)", (unsigned long long)g->tlog->cp_size, k.n);
		goto out;
	}
	gw_log(GW_LOG_INFO, "checkpoint-verified", NULL, "size=%llu current=%d held_since=%llu",
	       (unsigned long long)g->tlog->cp_size,
	       memcmp(k.v[which].key, cur.key, sizeof(cur.key)) == 0,
	       (unsigned long long)(k.first[which] == UINT64_MAX ? 0 : k.first[which]));
out:
	store_keyring_free(&k);
	return r;
}

static mla_err check_latest_root(struct gw *g, mla_diag *diag)
{
	uint8_t root[MLA_MERKLE_HASH_LEN];
	mla_checkpoint cp;
	mla_buf note;
	mla_err r;

	if (g->tlog->cp_size == 0)
		return MLA_OK;
	if ((r = store_checkpoint_latest(g->store, &g->tlog->cp_size, &note, NULL, diag)) != MLA_OK)
		return r;
	if ((r = open_latest(g, &note, &cp, diag)) == MLA_OK &&
	    (cp.size != g->tlog->cp_size ||
	     gw_tree_root(g, cp.size, root) != MLA_OK ||
	     memcmp(root, cp.root, sizeof(root)) != 0))
		r = mla_fail(diag, MLA_ERR_STORE,
			     "audit log does not match its checkpoint of %llu entries "
			     "(entries altered)", (unsigned long long)g->tlog->cp_size);
	mla_buf_free(&note);
	return r;
}

/* One entry read back; *bad (arg) gets its seq when it is not what its leaf names: its leaf
 * hash and canonical at its index. */
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
			"altered): refusing to start; inspect the store (mlagw store check) or "
			"restore it from a backup", (unsigned long long)seq);
}

struct checked_scan {
	uint64_t bad;
};

static mla_err scan_entry(uint64_t seq, const uint8_t leaf[32], const void *entry, size_t len,
			  void *arg)
{
	return check_entry(seq, leaf, entry, len, &((struct checked_scan *)arg)->bad);
}

/* Every entry re-hashed against its stored leaf, and every persisted tree hash recomputed
 * from the leaves and compared, in one scan at every start whatever the last stop was: the
 * clean-stop mark says nothing about damage at rest, and neither the leaves nor the hashes
 * above them vouch for the bytes beside them (docs/internals/audit-tree.md gives the cost).
 * Then the right edge is loaded from the persisted hashes (O(log n) reads) and must give the
 * root the scan gave. */
static mla_err verify_log(struct gw *g, mla_diag *diag)
{
	struct checked_scan b = {UINT64_MAX};
	uint8_t want[MLA_MERKLE_HASH_LEN], got[MLA_MERKLE_HASH_LEN];
	mla_merkle_compact scanned;
	mla_diag d = {MLA_OK, ""};
	mla_err r = store_tree_check(g->store, scan_entry, &b, &scanned, &d);

	if (b.bad != UINT64_MAX)
		return entry_refused(b.bad, diag);
	if (r != MLA_OK)
		return mla_fail(diag, r, "audit log unreadable or damaged after entry %llu (%s): "
				"refusing to start; inspect the store (mlagw store check) or restore "
				"it from a backup", (unsigned long long)scanned.size,
				d.msg[0] ? d.msg : mla_strerror(r));
	if (scanned.size != g->tlog->audit_next)
		return mla_fail(diag, MLA_ERR_STORE, "audit log: %llu entries read, the table's "
				"last is %llu (entries missing): refusing to start; inspect the "
				"store (mlagw store check)", (unsigned long long)scanned.size,
				(unsigned long long)g->tlog->audit_next);
	if ((r = gw_tree_load(g, g->tlog->audit_next)) != MLA_OK ||
	    (r = mla_merkle_compact_root(&scanned, want)) != MLA_OK ||
	    (r = gw_tree_root(g, g->tlog->audit_next, got)) != MLA_OK ||
	    memcmp(want, got, sizeof(want)) != 0)
		return mla_fail(diag, MLA_ERR_STORE, "audit tree: the right edge read from the "
				"store does not give the root of its %llu entries: refusing to start; "
				"inspect the store (mlagw store check)",
				(unsigned long long)g->tlog->audit_next);
	return MLA_OK;
}

mla_err gw_checkpoint_start(struct gw *g, mla_diag *diag)
{
	int unclean = store_unclean(g->store);
	mla_err r;

	if ((r = gw_checkpoint_key_load(&g->snap->cfg, &g->tlog->audit_key, diag)) != MLA_OK ||
	    (r = gw_audit_cert_keep(g, g->snap->cfg.audit.cert, NULL, diag)) != MLA_OK)
		return r; /* the certificate is kept for export, should the key change later */
	if ((r = verify_log(g, diag)) != MLA_OK)
		return r;
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
	if ((r = check_latest_root(g, diag)) != MLA_OK)
		return r;
	gw_log(unclean ? GW_LOG_WARN : GW_LOG_INFO, unclean ? "store-recovered" : "audit-verified",
	       NULL, "reason=\"%s\" entries=%llu verified=all checkpoint=%llu",
	       unclean ? "unclean stop (the clean-stop mark was not set); quick_check ok"
		       : "every start: entries re-hashed against their leaves, tree hashes "
			 "against the leaves",
	       (unsigned long long)g->tlog->audit_next, (unsigned long long)g->tlog->cp_size);
	if ((r = arm(g)) != MLA_OK)
		return mla_fail(diag, r, "cannot start the checkpoint timer");
	g->tlog->cp_ready = 1;
	return MLA_OK;
}

void gw_checkpoint_reload(struct gw *g, mla_privkey *key)
{
	mla_diag d = {MLA_OK, ""};

	if (g->tlog->audit_key != NULL &&
	    EVP_PKEY_eq(mla_privkey_public(key), mla_privkey_public(g->tlog->audit_key)) == 1) {
		mla_privkey_free(key); /* the same key: nothing to announce */
	} else if (gw_audit_key_announce(g, key, g->snap->cfg.audit.cert, &d) != MLA_OK) {
		gw_log(GW_LOG_ERROR, "audit-key-error", NULL, "reason=\"%s\"", d.msg);
		d = (mla_diag){MLA_OK, ""};
	}
	/* signs with the current key what it covers, the announcement included; the new key
	 * takes over after it (gw_audit_key_after_checkpoint) */
	if (gw_checkpoint_now(g, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "checkpoint-error", NULL, "reason=\"%s\"", d.msg);
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
	g->tlog->tree_ready = 0;
	mla_privkey_free(g->tlog->audit_key);
	g->tlog->audit_key = NULL;
	mla_privkey_free(g->tlog->pending_key);
	g->tlog->pending_key = NULL;
}
