/* Test audit bundles built in memory (SPEC section 15): a State's root and Ed25519 audit key,
 * entries, signed checkpoints (optionally cosigned by a peer), consistency proofs and the
 * manifest, as a list of records that tests alter before writing the container. Shared by
 * test_audit_verify.c and the fuzz harness's seed (tests/fuzz/make_audit_seed.c). */
#ifndef MLAGW_TESTS_AUDIT_TESTBUNDLE_H
#define MLAGW_TESTS_AUDIT_TESTBUNDLE_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mlagw/audit.h"
#include "mlagw/privkey.h"
#include "mlagw/audit_entry.h"
#include "mlagw/buf.h"
#include "mlagw/bundle.h"

#define TB_RECS 64

/* One State: its root (in the trust directory as STATE.crt) and its audit key. */
struct tb_state {
	char state[3];
	EVP_PKEY *root_key, *audit_key;
	mla_privkey *audit_priv; /* audit_key for signing (privkey.h) */
	X509 *root, *audit_cert;
};

struct tb_rec {
	mla_bundle_type type;
	char name[MLA_BUNDLE_NAME_MAX + 1];
	mla_buf data;
};

/* A bundle being built: records in container order. */
struct tb_bundle {
	struct tb_rec rec[TB_RECS];
	size_t n;
	uint32_t epoch; /* of the log (origin mlagw.cc/audit[/n]); 0 is 1 */
	unsigned format; /* of the container (first line and manifest); 0 is 2 */
};

/* A fresh State (EC P-256 root, Ed25519 audit certificate valid from a day ago for 30 days)
 * whose root is written to trust_dir/STATE.crt. 0 or -1. */
int tb_state_make(const char *state, const char *trust_dir, struct tb_state *s);
/* A State of `mlagw pki init` in pki_dir/STATE/ (root.crt, audit.crt, audit.key). */
int tb_state_load(const char *state, const char *pki_dir, struct tb_state *s);
void tb_state_free(struct tb_state *s);

/* An entry: seq, time, event and (NULL for none) the message id, envelope and receipt
 * digests; to/from, kind and actor filled as a gateway writes them. */
void tb_entry(mla_audit_entry *e, uint64_t seq, int64_t time_ms, mla_audit_event ev,
	      const char *msg, const char *from, const char *to, const uint8_t *env_sha,
	      const uint8_t *rcpt_sha);

/* The records of State s's bundle: manifest (no filter), audit certificate, the peer's audit
 * certificate when peer, entries e[0..n), checkpoints of the sizes cps[0..ncps) (signed by s,
 * cosigned by peer when given), consistency proofs between consecutive ones. 0 or -1. */
int tb_build(struct tb_bundle *b, const struct tb_state *s, const mla_audit_entry *e, size_t n,
	     const uint64_t *cps, size_t ncps, const struct tb_state *peer);
/* The same for the log's epoch (SPEC 14, "Log epochs"): origin mlagw.cc/audit/<epoch>. */
int tb_build_epoch(struct tb_bundle *b, const struct tb_state *s, uint32_t epoch,
		   const mla_audit_entry *e, size_t n, const uint64_t *cps, size_t ncps,
		   const struct tb_state *peer);
/* Record t/name, or NULL. */
struct tb_rec *tb_find(struct tb_bundle *b, mla_bundle_type t, const char *name);
/* Replaces record t/name's bytes, or adds it after the last record of its type or before. */
int tb_set(struct tb_bundle *b, mla_bundle_type t, const char *name, const void *data,
	   size_t len);
void tb_remove(struct tb_bundle *b, mla_bundle_type t, const char *name);
/* Adds certificate c as PEM record name (after the certificates already there). 0 or -1. */
int tb_add_cert(struct tb_bundle *b, const char *name, X509 *c);
/* Rewrites the manifest from the records (filter_case: a filter on that case, else none). */
int tb_manifest(struct tb_bundle *b, const char *state, const char *filter_case);
/* The container's bytes into out (initialised here). 0 or -1. */
int tb_write(const struct tb_bundle *b, mla_buf *out);
void tb_free(struct tb_bundle *b);

/* Callbacks of a test export source (mlagw/audit.h) that has no notes (witnessed heads) or no
 * peer certificates: MLA_OK, fn never called. */
mla_err tb_src_no_notes(void *ctx, mla_audit_note_fn fn, void *arg, mla_diag *diag);
mla_err tb_src_no_certs(void *ctx, mla_audit_cert_fn fn, void *arg, mla_diag *diag);

#endif
