/* Audit key changes (protocol/SPEC.md section 14, "Audit key changes"): a new audit key is
 * announced in the log by an entry audit-key-changed naming its certificate, the checkpoint
 * that first covers that entry is signed by the key being replaced, and every later one by
 * the new key. So an auditor holding only the State's root follows the log across the change:
 * the new certificate is named under the old key's signature and chains to the same root. */
#include <string.h>

#include <openssl/sha.h>

#include "audit.h"
#include "audit_key.h"
#include "checkpoint.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "store/store_check.h"
#include "tlog_internal.h"
#include "witness.h"

/* The DER of the certificate at path and its SHA-256 (out initialised here). */
static mla_err cert_der(const char *path, mla_buf *out, uint8_t sha[32], mla_diag *diag)
{
	unsigned char *der = NULL;
	X509 *cert = NULL;
	int len;
	mla_err r;

	mla_buf_init(out, 64 << 10);
	if ((r = mla_pem_load_cert(path, &cert, diag)) != MLA_OK)
		return r;
	if ((len = i2d_X509(cert, &der)) <= 0 || mla_buf_append(out, der, (size_t)len) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_CERT_FILE, "audit certificate %s: cannot encode it", path);
	else
		(void)SHA256(der, (size_t)len, sha);
	OPENSSL_free(der);
	X509_free(cert);
	return r;
}

mla_err gw_audit_cert_keep(struct gw *g, const char *path, uint8_t sha[32], mla_diag *diag)
{
	uint8_t own[32];
	mla_buf der;
	mla_err r;

	if ((r = cert_der(path, &der, sha != NULL ? sha : own, diag)) == MLA_OK)
		r = store_audit_cert_put(g->store, der.data, der.len, diag);
	mla_buf_free(&der);
	return r;
}

/* The entry naming the next certificate (actor gateway). */
static mla_err announce(struct gw *g, const uint8_t sha[32])
{
	mla_audit_entry e;
	mla_err r;

	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_AUDIT_KEY_CHANGED;
	e.has_audit_cert_sha256 = 1;
	memcpy(e.audit_cert_sha256, sha, 32);
	if ((r = mla_strcpy(e.actor, sizeof(e.actor), "gateway")) != MLA_OK)
		return r;
	return gw_audit(g, &e);
}

mla_err gw_audit_key_announce(struct gw *g, mla_privkey *key, const char *cert_path,
			      mla_diag *diag)
{
	struct gw_tlog *t = g->tlog;
	uint8_t sha[32];
	char hex[17];
	mla_err r;

	if ((r = gw_audit_cert_keep(g, cert_path, sha, diag)) != MLA_OK ||
	    (r = announce(g, sha)) != MLA_OK) {
		char why[MLA_DIAG_MAX];

		(void)mla_snprintf_cut(why, sizeof(why), "%s", mla_diag_message(diag));
		mla_privkey_free(key);
		return mla_fail(diag, r, "audit key change: the announcement is not in the log: "
				"the current key stays (%s)", why);
	}
	mla_privkey_free(t->pending_key);
	t->pending_key = key;
	t->pending_seq = t->audit_next - 1;
	mla_require(mla_hex_encode(sha, 8, hex, sizeof(hex)) == MLA_OK);
	gw_log(GW_LOG_WARN, "audit-key-announced", NULL, "seq=%llu cert=%s reason=\"the next "
	       "checkpoint is signed by the current key, the later ones by the new\"",
	       (unsigned long long)t->pending_seq, hex);
	return MLA_OK;
}

void gw_audit_key_after_checkpoint(struct gw *g, uint64_t size)
{
	struct gw_tlog *t = g->tlog;

	if (t->pending_key == NULL || size <= t->pending_seq)
		return;
	mla_privkey_free(t->audit_key);
	t->audit_key = t->pending_key;
	t->pending_key = NULL;
	t->key_held = 0; /* recorded with the first checkpoint it signs */
	gw_log(GW_LOG_WARN, "audit-key-changed", NULL, "size=%llu reason=\"checkpoints from "
	       "now on are signed by the new audit key\"", (unsigned long long)size);
	witness_reload(g); /* the certificate peers check our signatures with */
}

/* The latest audit-key-changed entry of the log: its seq and the certificate it names. */
struct last_change {
	int found;
	uint64_t seq;
	uint8_t sha[32];
};

static mla_err find_change(uint64_t seq, const uint8_t leaf[32], const void *entry, size_t len,
			   void *arg)
{
	struct last_change *c = arg;
	mla_audit_entry e;

	(void)leaf;
	if (mla_audit_entry_parse(entry, len, &e, NULL) == MLA_OK &&
	    e.event == MLA_AUDIT_AUDIT_KEY_CHANGED) {
		c->found = 1;
		c->seq = seq;
		memcpy(c->sha, e.audit_cert_sha256, 32);
	}
	return MLA_OK;
}

/* The key being replaced, from [keys] previous_audit_*: it must be one the store records and
 * the one that signed the latest checkpoint. */
static mla_err load_previous(struct gw *g, const mla_buf *latest, mla_privkey **out,
			     mla_diag *diag)
{
	const struct gw_config *c = &g->snap->cfg;
	char name[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	struct store_keyring one = {0};
	mla_note_verifier v;
	mla_checkpoint cp;
	size_t which;
	mla_err r;

	if ((r = gw_audit_keypair_load(c->prev_audit.cert, c->prev_audit.key,
				       "[keys] previous_audit_key", out, diag)) != MLA_OK)
		return r;
	gw_log_origin(g, name);
	if ((r = mla_note_verifier_from_key(name, mla_privkey_public(*out), &v, diag)) != MLA_OK ||
	    (r = store_keyring_add(&one, &v, 0)) != MLA_OK)
		goto out;
	if (store_keyring_open(&one, (const char *)latest->data, latest->len, &cp, &which,
			       NULL) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "[keys] previous_audit_key did not sign the "
			     "latest checkpoint (%llu entries): it is not the key being replaced",
			     (unsigned long long)g->tlog->cp_size);
out:
	store_keyring_free(&one);
	if (r != MLA_OK) {
		mla_privkey_free(*out);
		*out = NULL;
	}
	return r;
}

mla_err gw_audit_key_start(struct gw *g, const mla_buf *latest, mla_diag *diag)
{
	const struct gw_config *c = &g->snap->cfg;
	struct gw_tlog *t = g->tlog;
	struct last_change lc = {0, 0, {0}};
	uint8_t cur[32];
	mla_privkey *prev = NULL;
	mla_err r;

	/* one scan of the log, only at the start that finds the configured key not yet held */
	if ((r = gw_audit_cert_keep(g, c->audit.cert, cur, diag)) != MLA_OK ||
	    (r = store_audit_entries(g->store, 0, find_change, &lc, diag)) != MLA_OK)
		return r;
	if (lc.found && memcmp(lc.sha, cur, 32) == 0 && lc.seq < t->cp_size)
		return MLA_OK; /* announced and covered by the old key: the new one signs now */
	if (c->prev_audit.key[0] == '\0')
		return mla_fail(diag, MLA_ERR_KEY_FILE,
				"[keys] audit_key is not the key this log's checkpoints are signed "
				"with, and the change is not signed in the log: start once with "
				"[keys] previous_audit_cert and previous_audit_key set to the key being "
				"replaced (the change is then signed under it, SPEC 14 \"Audit key "
				"changes\"); if that key is lost, open a new log epoch "
				"(docs/operations.md)");
	if ((r = load_previous(g, latest, &prev, diag)) != MLA_OK ||
	    (r = gw_audit_cert_keep(g, c->prev_audit.cert, NULL, diag)) != MLA_OK) {
		mla_privkey_free(prev);
		return r;
	}
	t->pending_key = t->audit_key; /* the new key waits for the covering checkpoint */
	t->audit_key = prev;
	t->key_held = 1;
	if (lc.found && memcmp(lc.sha, cur, 32) == 0)
		t->pending_seq = lc.seq; /* announced before a stop, not covered yet */
	else
		t->announce_at_start = 1;
	return MLA_OK;
}

mla_err gw_audit_key_start_announce(struct gw *g, mla_diag *diag)
{
	struct gw_tlog *t = g->tlog;
	mla_privkey *key = t->pending_key;

	if (!t->announce_at_start)
		return MLA_OK;
	t->announce_at_start = 0;
	t->pending_key = NULL;
	return gw_audit_key_announce(g, key, g->snap->cfg.audit.cert, diag);
}
