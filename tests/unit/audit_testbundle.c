/* Test audit bundles built in memory (see audit_testbundle.h): what a gateway's export writes,
 * made here from keys of a throwaway PKI so that each test can alter one thing. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "audit_testbundle.h"
#include "mlagw/checkpoint.h"
#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "mlagw/pem.h"
#include "mlagw/pki.h"

int tb_state_make(const char *state, const char *trust_dir, struct tb_state *s)
{
	time_t now = time(NULL);
	char path[512];

	memset(s, 0, sizeof(*s));
	if (mla_strcpy(s->state, sizeof(s->state), state) != MLA_OK ||
	    mla_snprintf(path, sizeof(path), "%s/%s.crt", trust_dir, state) != MLA_OK ||
	    mla_pki_keygen(MLA_KEY_EC_P256, 0, &s->root_key, NULL) != MLA_OK ||
	    mla_pki_issue(MLA_ROLE_ROOT, state, "test root", s->root_key, NULL, NULL, now - 86400,
			  now + 86400 * 365, NULL, &s->root, NULL) != MLA_OK ||
	    mla_pki_keygen(MLA_KEY_ED25519, 0, &s->audit_key, NULL) != MLA_OK ||
	    mla_pki_issue(MLA_ROLE_AUDIT, state, "test audit", s->audit_key, s->root, s->root_key,
			  now - 86400, now + 86400 * 30, NULL, &s->audit_cert, NULL) != MLA_OK ||
	    mla_privkey_from_evp(s->audit_key, &s->audit_priv, NULL) != MLA_OK ||
	    mla_pem_write_cert(path, s->root, 1, NULL) != MLA_OK)
		return -1;
	return 0;
}

int tb_state_load(const char *state, const char *pki_dir, struct tb_state *s)
{
	char a[512], b[512], c[512];

	memset(s, 0, sizeof(*s));
	return mla_strcpy(s->state, sizeof(s->state), state) == MLA_OK &&
		       mla_snprintf(a, sizeof(a), "%s/%s/root.crt", pki_dir, state) == MLA_OK &&
		       mla_snprintf(b, sizeof(b), "%s/%s/audit.crt", pki_dir, state) == MLA_OK &&
		       mla_snprintf(c, sizeof(c), "%s/%s/audit.key", pki_dir, state) == MLA_OK &&
		       mla_pem_load_cert(a, &s->root, NULL) == MLA_OK &&
		       mla_pem_load_cert(b, &s->audit_cert, NULL) == MLA_OK &&
		       mla_privkey_load(c, &s->audit_priv, NULL) == MLA_OK
		       ? 0
		       : -1;
}

void tb_state_free(struct tb_state *s)
{
	EVP_PKEY_free(s->root_key);
	EVP_PKEY_free(s->audit_key);
	mla_privkey_free(s->audit_priv);
	X509_free(s->root);
	X509_free(s->audit_cert);
	memset(s, 0, sizeof(*s));
}

void tb_entry(mla_audit_entry *e, uint64_t seq, int64_t time_ms, mla_audit_event ev,
	      const char *msg, const char *from, const char *to, const uint8_t *env_sha,
	      const uint8_t *rcpt_sha)
{
	mla_audit_entry_init(e);
	e->seq = seq;
	e->time_ms = time_ms;
	e->event = ev;
	/* a test's own values: one that does not fit is a broken test, so abort */
	mla_require(mla_strcpy(e->actor, sizeof(e->actor), "gateway") == MLA_OK);
	if (msg != NULL) {
		mla_require(mla_strcpy(e->message_id, sizeof(e->message_id), msg) == MLA_OK);
		mla_require(mla_snprintf(e->case_id, sizeof(e->case_id), "ES-T/2026.%04llu",
					 (unsigned long long)(seq % 3)) == MLA_OK);
		mla_require(mla_strcpy(e->kind, sizeof(e->kind), "mla") == MLA_OK);
		mla_require(mla_strcpy(e->action, sizeof(e->action), "request") == MLA_OK);
		mla_require(mla_strcpy(e->from, sizeof(e->from), from) == MLA_OK);
		mla_require(mla_strcpy(e->to, sizeof(e->to), to) == MLA_OK);
	}
	if ((e->has_envelope_sha256 = env_sha != NULL))
		memcpy(e->envelope_sha256, env_sha, 32);
	if ((e->has_receipt_sha256 = rcpt_sha != NULL))
		memcpy(e->receipt_sha256, rcpt_sha, 32);
}

struct tb_rec *tb_find(struct tb_bundle *b, mla_bundle_type t, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->rec[i].type == t && strcmp(b->rec[i].name, name) == 0)
			return &b->rec[i];
	return NULL;
}

int tb_set(struct tb_bundle *b, mla_bundle_type t, const char *name, const void *data,
	   size_t len)
{
	struct tb_rec *r = tb_find(b, t, name);
	char copy[sizeof(r->name)];
	size_t at = 0;

	if (r == NULL) {
		if (b->n == TB_RECS || mla_strcpy(copy, sizeof(copy), name) != MLA_OK)
			return -1;
		while (at < b->n && b->rec[at].type <= t)
			at++;
		memmove(&b->rec[at + 1], &b->rec[at], (b->n - at) * sizeof(b->rec[0]));
		b->n++;
		r = &b->rec[at];
		memset(r, 0, sizeof(*r));
		r->type = t;
		memcpy(r->name, copy, sizeof(r->name));
		mla_buf_init(&r->data, MLA_BUNDLE_MAX);
	}
	r->data.len = 0;
	return len == 0 || mla_buf_append(&r->data, data, len) == MLA_OK ? 0 : -1;
}

void tb_remove(struct tb_bundle *b, mla_bundle_type t, const char *name)
{
	struct tb_rec *r = tb_find(b, t, name);

	if (r == NULL)
		return;
	mla_buf_free(&r->data);
	memmove(r, r + 1, (size_t)(&b->rec[b->n] - (r + 1)) * sizeof(*r));
	b->n--;
}

static size_t count(const struct tb_bundle *b, mla_bundle_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++)
		n += b->rec[i].type == t;
	return n;
}

/* The certificates of later audit keys (audit.2, ...: format 3), not peers'. */
static size_t later_audit_certs(const struct tb_bundle *b)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++)
		n += b->rec[i].type == MLA_BUNDLE_CERTIFICATE &&
		     strncmp(b->rec[i].name, "audit.", 6) == 0;
	return n;
}

int tb_manifest(struct tb_bundle *b, const char *state, const char *filter_case)
{
	mla_buf m;
	char fc[80] = "null", origin[MLA_AUDIT_ORIGIN_MAX + 1], dirs[96] = "";
	int rc;

	if (filter_case != NULL && mla_snprintf(fc, sizeof(fc), "\"%s\"", filter_case) != MLA_OK)
		return -1;
	/* format 5 counts its directory documents */
	if (b->format == 5 && mla_snprintf(dirs, sizeof(dirs), ", \"directories\": %zu",
					   count(b, MLA_BUNDLE_DIRECTORY)) != MLA_OK)
		return -1;
	/* format 6 its CRLs and OCSP answers too */
	if (b->format >= 6 && mla_snprintf(dirs, sizeof(dirs), ", \"directories\": %zu, "
					   "\"crls\": %zu, \"ocsp_answers\": %zu",
					   count(b, MLA_BUNDLE_DIRECTORY), count(b, MLA_BUNDLE_CRL),
					   count(b, MLA_BUNDLE_OCSP)) != MLA_OK)
		return -1;
	if (mla_audit_origin_format(state, b->epoch > 0 ? b->epoch : 1, origin) != MLA_OK)
		mla_require(mla_snprintf(origin, sizeof(origin), "mlagw.%c%c/audit", state[0] + 32,
					 state[1] + 32) == MLA_OK); /* a State on purpose wrong */
	mla_buf_init(&m, 1 << 20);
	rc = mla_buf_printf(&m, "{\"format\": \"mlagw-audit-bundle/%u\", \"state\": "
			    "\"%s\", \"origin\": \"%s\", \"filter\": {\"case\": "
			    "%s, \"from\": null, \"to\": null}, \"counts\": {\"entries\": %zu, "
			    "\"checkpoints\": %zu, \"envelopes\": %zu, \"receipts\": %zu, "
			    "\"witnessed\": %zu, \"proofs\": %zu, \"peer_certificates\": %zu%s}, "
			    "\"first_seq\": 0, \"last_seq\": %zu%s",
			    b->format > 0 ? b->format : 2u, state, origin, fc,
			    count(b, MLA_BUNDLE_ENTRY), count(b, MLA_BUNDLE_CHECKPOINT),
			    count(b, MLA_BUNDLE_ENVELOPE), count(b, MLA_BUNDLE_RECEIPT),
			    count(b, MLA_BUNDLE_WITNESSED), count(b, MLA_BUNDLE_PROOF),
			    count(b, MLA_BUNDLE_CERTIFICATE) - 1 - later_audit_certs(b), dirs,
			    count(b, MLA_BUNDLE_ENTRY) - 1,
			    b->format >= 4 ? "" : ", \"checkpoint_sizes\": [") != MLA_OK;
	/* format 4 lists no sizes (SPEC 15) */
	for (size_t i = 0, k = 0; rc == 0 && b->format < 4 && i < b->n; i++)
		if (b->rec[i].type == MLA_BUNDLE_CHECKPOINT)
			rc = mla_buf_printf(&m, "%s%s", k++ ? ", " : "", b->rec[i].name) != MLA_OK;
	if (rc == 0 && mla_buf_append_str(&m, b->format >= 4 ? "}" : "]}") == MLA_OK)
		rc = tb_set(b, MLA_BUNDLE_MANIFEST, "manifest", m.data, m.len);
	else
		rc = -1;
	mla_buf_free(&m);
	return rc;
}

static int cert_pem(X509 *c, mla_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int rc = -1;

	mla_buf_init(out, 1 << 16);
	if (bio != NULL && PEM_write_bio_X509(bio, c) == 1 && (n = BIO_get_mem_data(bio, &p)) > 0)
		rc = mla_buf_append(out, p, (size_t)n) == MLA_OK ? 0 : -1;
	BIO_free(bio);
	return rc;
}

int tb_add_cert(struct tb_bundle *b, const char *name, X509 *c)
{
	mla_buf pem;
	int rc = cert_pem(c, &pem);

	if (rc == 0)
		rc = tb_set(b, MLA_BUNDLE_CERTIFICATE, name, pem.data, pem.len);
	mla_buf_free(&pem);
	return rc;
}

/* Checkpoint of size n over leaves, signed by s and cosigned by peer (when given). */
static int add_checkpoint(struct tb_bundle *b, const struct tb_state *s,
			  const uint8_t (*leaves)[32], uint64_t n, const struct tb_state *peer)
{
	mla_checkpoint cp;
	char *note = NULL, name[40], line[MLA_COSIG_LINE_MAX];
	size_t len = 0;
	mla_buf all;
	int rc = -1;

	memset(&cp, 0, sizeof(cp));
	/* both fit by construction: a two-letter State, at most 20 digits */
	mla_require(mla_audit_origin_format(s->state, b->epoch > 0 ? b->epoch : 1, cp.origin) ==
		    MLA_OK);
	cp.size = n;
	mla_require(mla_snprintf(name, sizeof(name), "%llu", (unsigned long long)n) == MLA_OK);
	mla_buf_init(&all, MLA_NOTE_MAX);
	if (mla_merkle_root(leaves, (size_t)n, cp.root) != MLA_OK ||
	    mla_checkpoint_sign(&cp, cp.origin, s->audit_priv, &note, &len, NULL) != MLA_OK ||
	    mla_buf_append(&all, note, len) != MLA_OK)
		goto out;
	if (peer != NULL) {
		char wname[40];
		const char *blank = strstr(note, "\n\n");
		mla_require(mla_snprintf(wname, sizeof(wname), "mlagw.%c%c/witness",
					 peer->state[0] + 32, peer->state[1] + 32) == MLA_OK);
		if (blank == NULL ||
		    mla_cosignature_sign(note, (size_t)(blank - note) + 1, wname, peer->audit_priv,
					 (uint64_t)time(NULL), line, sizeof(line), NULL) != MLA_OK ||
		    mla_buf_append_str(&all, line) != MLA_OK)
			goto out;
	}
	rc = tb_set(b, MLA_BUNDLE_CHECKPOINT, name, all.data, all.len);
out:
	free(note);
	mla_buf_free(&all);
	return rc;
}

/* The consistency proof between sizes m and n, "c.<m>.<n>", one hex hash per line. */
static int add_proof(struct tb_bundle *b, const uint8_t (*leaves)[32], uint64_t m, uint64_t n)
{
	mla_merkle_proof p;
	char name[64], hex[66];

	if (mla_merkle_consistency_proof(leaves, (size_t)n, (size_t)m, &p) != MLA_OK)
		return -1;
	mla_require(mla_snprintf(name, sizeof(name), "c.%llu.%llu", (unsigned long long)m,
				 (unsigned long long)n) == MLA_OK);
	if (tb_set(b, MLA_BUNDLE_PROOF, name, NULL, 0) != 0)
		return -1;
	for (size_t l = 0; l < p.len; l++) {
		mla_require(mla_hex_encode(p.hash[l], 32, hex, sizeof(hex)) == MLA_OK);
		hex[64] = '\n';
		if (mla_buf_append(&tb_find(b, MLA_BUNDLE_PROOF, name)->data, hex, 65) != MLA_OK)
			return -1;
	}
	return 0;
}

static int add_peer(struct tb_bundle *b, const struct tb_state *peer)
{
	char fp[65], name[40];

	if (mla_cert_fingerprint(peer->audit_cert, fp) != MLA_OK ||
	    mla_snprintf(name, sizeof(name), "peer.%s.%.16s", peer->state, fp) != MLA_OK)
		return -1;
	return tb_add_cert(b, name, peer->audit_cert);
}

/* Entries' records and leaves. */
static int add_entries(struct tb_bundle *b, const mla_audit_entry *e, size_t n,
		       uint8_t (*leaves)[32])
{
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		mla_buf ser;
		char name[24];
		mla_buf_init(&ser, MLA_AUDIT_ENTRY_MAX);
		mla_require(mla_snprintf(name, sizeof(name), "%zu", i) == MLA_OK);
		rc = mla_audit_entry_serialize(&e[i], &ser, NULL) == MLA_OK &&
				     mla_merkle_leaf_hash(ser.data, ser.len, leaves[i]) == MLA_OK &&
				     tb_set(b, MLA_BUNDLE_ENTRY, name, ser.data, ser.len) == 0
			     ? 0
			     : -1;
		mla_buf_free(&ser);
	}
	return rc;
}

int tb_build(struct tb_bundle *b, const struct tb_state *s, const mla_audit_entry *e, size_t n,
	     const uint64_t *cps, size_t ncps, const struct tb_state *peer)
{
	return tb_build_epoch(b, s, 1, e, n, cps, ncps, peer);
}

int tb_build_epoch(struct tb_bundle *b, const struct tb_state *s, uint32_t epoch,
		   const mla_audit_entry *e, size_t n, const uint64_t *cps, size_t ncps,
		   const struct tb_state *peer)
{
	uint8_t (*leaves)[32] = calloc(n + 1, 32);
	int rc = leaves == NULL ? -1 : 0;

	memset(b, 0, sizeof(*b));
	b->epoch = epoch;
	if (rc == 0)
		rc = tb_manifest(b, s->state, NULL); /* first: the records go after it */
	if (rc == 0)
		rc = tb_add_cert(b, "audit", s->audit_cert);
	if (rc == 0 && peer != NULL)
		rc = add_peer(b, peer);
	if (rc == 0)
		rc = add_entries(b, e, n, leaves);
	for (size_t i = 0; rc == 0 && i < ncps; i++)
		rc = add_checkpoint(b, s, (const uint8_t(*)[32])leaves, cps[i], peer);
	for (size_t i = 1; rc == 0 && i < ncps; i++)
		rc = add_proof(b, (const uint8_t(*)[32])leaves, cps[i - 1], cps[i]);
	if (rc == 0)
		rc = tb_manifest(b, s->state, NULL);
	free(leaves);
	return rc;
}

int tb_write(const struct tb_bundle *b, mla_buf *out)
{
	mla_buf_init(out, MLA_BUNDLE_MAX);
	if (mla_bundle_begin_format(out, b->format > 0 ? b->format : 2) != MLA_OK)
		return -1;
	for (size_t i = 0; i < b->n; i++)
		if (mla_bundle_add(out, b->rec[i].type, b->rec[i].name, b->rec[i].data.data,
				   b->rec[i].data.len, NULL) != MLA_OK)
			return -1;
	return 0;
}

void tb_free(struct tb_bundle *b)
{
	for (size_t i = 0; i < b->n; i++)
		mla_buf_free(&b->rec[i].data);
	b->n = 0;
}

mla_err tb_src_no_notes(void *ctx, mla_audit_note_fn fn, void *arg, mla_diag *diag)
{
	(void)ctx;
	(void)fn;
	(void)arg;
	(void)diag;
	return MLA_OK;
}

mla_err tb_src_no_certs(void *ctx, mla_audit_cert_fn fn, void *arg, mla_diag *diag)
{
	(void)ctx;
	(void)fn;
	(void)arg;
	(void)diag;
	return MLA_OK;
}
