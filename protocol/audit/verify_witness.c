/* Audit bundle verification, witnessing (SPEC §15, step "witness"): the peers' audit certificates
 * chain to their States' roots; every signature line on our checkpoints is ours or a peer's
 * valid cosignature; every peer checkpoint we cosigned carries the peer's signature and ours.
 * Across several bundles (audit_cross_check), two roots for one log and size, or a cosigned
 * root that is not the root of that log's exported entries, is a split view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "verify_internal.h"

/* Signature lines after the note's text (each ends in a newline). */
static size_t sig_lines(const mla_bundle_record *r)
{
	size_t n = 0, text = 0;

	if (r->len == 0)
		return 0;
	for (size_t i = r->len - 1; i > 0; i--)
		if (r->data[i] == '\n' && r->data[i - 1] == '\n') {
			text = i;
			break;
		}
	for (size_t i = text + 1; i < r->len; i++)
		n += r->data[i] == '\n';
	return n;
}

static size_t popcount(uint64_t x)
{
	size_t n = 0;

	for (; x != 0; x &= x - 1)
		n++;
	return n;
}

int audit_put_head(struct vctx *v, const mla_audit_head *h)
{
	mla_err r;
	void *p;

	v->heads_seen++;
	if (v->on_head != NULL && (r = v->on_head(v->head_arg, v->bundle, h)) != MLA_OK) {
		v->head_err = r;
		return -1;
	}
	if (!v->pool_heads)
		return 0;
	if ((p = mla_grow(v->heads, &v->caphead, v->nheads, sizeof(*v->heads))) == NULL)
		return -1;
	v->heads = p;
	v->heads[v->nheads++] = *h;
	return 0;
}

/* A head of checkpoint cp (size and root) of log origin, described by what. */
static void make_head(mla_audit_head *h, const char *origin, uint64_t size,
		      const uint8_t root[32], const char *what)
{
	memset(h, 0, sizeof(*h));
	/* a head's origin is its log's (verify_checkpoints, open_witnessed checked it), at most
	 * MLA_AUDIT_ORIGIN_MAX */
	mla_require(mla_strcpy(h->origin, sizeof(h->origin), origin) == MLA_OK);
	h->size = size;
	memcpy(h->root, root, sizeof(h->root));
	mla_require(mla_strcpy(h->what, sizeof(h->what), what) == MLA_OK); /* ours, fixed text */
}

/* Whether name ends in the first 8 bytes of the SHA-256 of cert's DER, in lower-case hex. */
static int name_has_fingerprint(const char *name, X509 *cert)
{
	unsigned char *der = NULL;
	uint8_t md[32];
	char hex[17];
	int len = i2d_X509(cert, &der), ok;

	ok = len > 0 && EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL) == 1;
	OPENSSL_free(der);
	if (ok)
		mla_require(mla_hex_encode(md, 8, hex, sizeof(hex)) == MLA_OK);
	return ok && strlen(name) == 8 + 16 && strcmp(name + 8, hex) == 0;
}

/* Why cert cannot be the peer audit certificate of record r, or NULL; st gets its State. */
static const char *peer_cert_problem(struct vctx *v, const mla_bundle_record *r, X509 *cert,
				     char st[3], char *why, size_t whylen)
{
	const char *bad;

	if (strncmp(r->name, "peer.", 5) != 0 || strlen(r->name) < 8 || r->name[7] != '.')
		return "not named peer.<State>.<fingerprint>";
	if (cert == NULL)
		return "not one PEM certificate";
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_countryName, st, 3) != 2 ||
	    memcmp(st, r->name + 5, 2) != 0)
		return "its subject State is not the one of its name";
	if (!name_has_fingerprint(r->name, cert))
		return "the name does not end in the first 8 bytes of the certificate's SHA-256";
	if ((bad = audit_cert_key_problem(cert)) != NULL)
		return bad;
	if (!audit_chain_to_root(v, cert, st, 0, why, whylen))
		return why;
	return NULL;
}

/* A peer's audit certificate, "peer.<State>.<fingerprint>": both its verifiers. A renewed
 * certificate of the same key gives the same verifiers: kept once, so that one signature line
 * never matches two of them. */
static void take_peer_cert(struct vctx *v, const mla_bundle_record *r)
{
	X509 *cert = audit_one_pem_cert(r);
	struct vpeer p;
	char why[300] = "", st[3] = "", log[40], cos[40];
	const char *bad = peer_cert_problem(v, r, cert, st, why, sizeof(why));

	if (v->npeers == v->cappeers) { /* counted in verify_witness: never reached */
		X509_free(cert);
		return;
	}
	memset(&p, 0, sizeof(p));
	if (bad == NULL && X509_get0_pubkey(cert) == NULL) {
		bad = "not an Ed25519 audit key"; /* one OpenSSL cannot decode */
	} else if (bad == NULL) {
		mla_require(mla_snprintf(log, sizeof(log), "mlagw.%c%c/audit", st[0] + 32,
					 st[1] + 32) == MLA_OK);
		mla_require(mla_snprintf(cos, sizeof(cos), "mlagw.%c%c/witness", st[0] + 32,
					 st[1] + 32) == MLA_OK);
		if (mla_note_verifier_from_key(log, X509_get0_pubkey(cert), &p.log, NULL) !=
			    MLA_OK ||
		    mla_cosig_verifier_from_key(cos, X509_get0_pubkey(cert), &p.cosigner, NULL) !=
			    MLA_OK)
			bad = "not an Ed25519 audit key";
	}
	X509_free(cert);
	if (bad != NULL) {
		vfail(v, F_WITNESS, MLA_AUDIT_R_PEER_CERT, MLA_BUNDLE_CERTIFICATE, r->name,
		      "certificate %s: %s", r->name, bad);
		return;
	}
	v->fam[F_WITNESS].ok++;
	for (size_t i = 0; i < v->npeers; i++)
		if (v->peers[i].log.id == p.log.id &&
		    strcmp(v->peers[i].log.name, p.log.name) == 0 &&
		    memcmp(v->peers[i].log.key, p.log.key, sizeof(p.log.key)) == 0)
			return; /* a renewal of the same key */
	memcpy(p.state, st, 3);
	v->peers[v->npeers++] = p;
}

/* The name and key ID of each signature line of note record r (at most MLA_NOTE_SIGS_MAX;
 * a malformed line is left to mla_note_open to refuse). */
struct line_id {
	char name[MLA_NOTE_NAME_MAX + 1];
	uint32_t id;
};

static size_t line_ids(const mla_bundle_record *r, struct line_id *out)
{
	const char *p = (const char *)r->data, *end = p + r->len, *text = NULL, *nl;
	size_t n = 0;

	if (r->len < 2)
		return 0;
	for (const char *q = end - 1; q > p; q--)
		if (q[0] == '\n' && q[-1] == '\n') {
			text = q + 1;
			break;
		}
	for (p = text; p != NULL && p < end && n < MLA_NOTE_SIGS_MAX &&
		       (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1) {
		const char *name = p + 4, *sp = memchr(name, ' ', (size_t)(nl - name));
		uint8_t raw[6];
		if ((size_t)(nl - p) < 4 + 2 + 8 || sp == NULL || nl - sp < 9 ||
		    (size_t)(sp - name) > MLA_NOTE_NAME_MAX ||
		    mla_b64_decode(sp + 1, 8, raw, sizeof(raw), NULL) != MLA_OK) /* exactly 6 */
			continue;
		memcpy(out[n].name, name, (size_t)(sp - name));
		out[n].name[sp - name] = '\0';
		out[n].id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 |
			    raw[3];
		n++;
	}
	return n;
}

/* keys[0] = first, then each candidate whose name and key ID one of r's lines has: at most one
 * per line, so never more than a note can carry. Returns the number of keys. */
static size_t select_keys(const mla_bundle_record *r, const mla_note_verifier *first,
			  const mla_note_verifier *const *cand, size_t ncand,
			  mla_note_verifier *keys)
{
	struct line_id ids[MLA_NOTE_SIGS_MAX];
	size_t nids = line_ids(r, ids), nk = 1;

	keys[0] = *first;
	for (size_t c = 0; c < ncand && nk < MLA_NOTE_VERIFIERS_MAX; c++)
		for (size_t l = 0; l < nids; l++)
			if (cand[c]->id == ids[l].id && strcmp(cand[c]->name, ids[l].name) == 0) {
				keys[nk++] = *cand[c];
				break;
			}
	return nk;
}

/* Checkpoint record r (row cp): every line after ours must be a peer's valid cosignature;
 * the head out when they are. -1: no memory, or the heads' receiver stopped. */
static int check_one_cosigned(struct vctx *v, const mla_bundle_record *r, const struct vcp *row,
			      const mla_note_verifier **cand)
{
	mla_note_verifier keys[MLA_NOTE_VERIFIERS_MAX];
	mla_diag d = {MLA_OK, ""};
	uint64_t signers = 0;
	mla_checkpoint cp;
	mla_audit_head h;
	size_t nk;

	if (sig_lines(r) == 1) { /* ours alone, verified by verify_checkpoints: not twice */
		make_head(&h, v->origin, row->size, row->root, "checkpoint");
		return audit_put_head(v, &h);
	}
	/* our line is the key that signed it (SPEC 14 "Audit key changes") */
	nk = select_keys(r, &v->keys[row->key].v, cand, v->npeers, keys);
	if (mla_checkpoint_open((const char *)r->data, r->len, keys, nk, &cp, &signers, &d) !=
	    MLA_OK) {
		vfail(v, F_WITNESS, MLA_AUDIT_R_COSIGNATURE, MLA_BUNDLE_CHECKPOINT, r->name,
		      "checkpoint %s: %s", r->name, mla_diag_message(&d));
		return 0;
	}
	if (popcount(signers) != sig_lines(r)) {
		vfail(v, F_WITNESS, MLA_AUDIT_R_UNCERTIFIED, MLA_BUNDLE_CHECKPOINT, r->name,
		      "checkpoint %s: %zu signature line(s) by keys the bundle "
		      "does not certify", r->name, sig_lines(r) - popcount(signers));
		return 0;
	}
	make_head(&h, cp.origin, cp.size, cp.root, "checkpoint");
	v->cosignatures += popcount(signers) - 1;
	for (size_t j = 1; j < nk; j++)
		if (signers & (UINT64_C(1) << j) && strlen(h.cosigners) + 2 < sizeof(h.cosigners)) {
			size_t at = strlen(h.cosigners);
			/* the State of "mlagw.es/witness", upper case */
			h.cosigners[at] = (char)(keys[j].name[6] - 32);
			h.cosigners[at + 1] = (char)(keys[j].name[7] - 32);
			h.cosigners[at + 2] = '\0';
		}
	return audit_put_head(v, &h);
}

/* Our own checkpoints, read once more beside their rows (verify_checkpoints). */
static int check_cosignatures(struct vctx *v)
{
	const mla_note_verifier **cand = calloc(v->npeers + 1, sizeof(*cand));
	struct vregion g;
	mla_bundle_record r;
	struct vcp row;
	size_t k = 0;
	int rc = 0;

	if (cand == NULL || vregion_open(v, &g, MLA_BUNDLE_CHECKPOINT) != 0) {
		free(cand);
		return -1;
	}
	for (size_t i = 0; i < v->npeers; i++)
		cand[i] = &v->peers[i].cosigner;
	while (rc == 0 && k < v->ncps && vregion_next(&g, &r) == 1) {
		if (cptab_get(&v->cpt, k++, &row) != 0) {
			v->tmp_failed = 1;
			rc = -1;
		} else if (row.size != 0) { /* else refused by verify_checkpoints already */
			rc = check_one_cosigned(v, &r, &row, cand);
		}
	}
	if (vregion_close(&g) != 0)
		rc = -1;
	free(cand);
	return rc;
}

/* The epoch a witnessed record's name gives: "<CC>.<size>" is epoch 1, "<CC>.<epoch>.<size>"
 * a later one (SPEC 15); 1 for anything else (witnessed_problem then refuses the name). */
static uint32_t witnessed_epoch(const char *name)
{
	const char *dot = strlen(name) < 4 ? NULL : strchr(name + 3, '.');
	uint64_t e = 1;

	if (dot == NULL ||
	    mla_parse_u64n(name + 3, (size_t)(dot - name - 3), 2, MLA_AUDIT_EPOCH_MAX, &e) !=
		    MLA_OK)
		return 1;
	return (uint32_t)e;
}

/* in under the name of the log's origin in another epoch (the same key). */
static int renamed(const mla_note_verifier *in, const char *name, mla_note_verifier *out)
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, in->key,
						   MLA_ED25519_KEY_LEN);
	int ok = pk != NULL && mla_note_verifier_from_key(name, pk, out, NULL) == MLA_OK;

	EVP_PKEY_free(pk);
	return ok;
}

struct wit_order {
	char state[3];
	uint32_t epoch;
	uint64_t size;
};

/* Why the opened witnessed record r is not the checkpoint it should be, or NULL. */
static const char *witnessed_problem(const mla_bundle_record *r, const mla_checkpoint *cp,
				     uint64_t signers, size_t nk, uint32_t epoch,
				     const struct wit_order *prev)
{
	char want[MLA_AUDIT_ORIGIN_MAX + 1], name[MLA_BUNDLE_NAME_MAX + 1], st[3] = {0};
	int c;

	if (!(signers & 1) || (signers & ~UINT64_C(1)) == 0 || nk < 2)
		return "not signed by that peer's audit key and cosigned by this gateway";
	if (popcount(signers) != sig_lines(r))
		return "signature lines by keys the bundle does not certify";
	memcpy(st, r->name, 2);
	if (mla_audit_origin_format(st, epoch, want) != MLA_OK)
		return "the checkpoint is not the one its name says (log and size)";
	if (epoch == 1)
		mla_require(mla_snprintf(name, sizeof(name), "%.2s.%llu", r->name,
					 (unsigned long long)cp->size) == MLA_OK);
	else
		mla_require(mla_snprintf(name, sizeof(name), "%.2s.%lu.%llu", r->name,
					 (unsigned long)epoch, (unsigned long long)cp->size) ==
			    MLA_OK);
	if (strcmp(cp->origin, want) != 0 || strcmp(name, r->name) != 0)
		return "the checkpoint is not the one its name says (log and size)";
	c = prev->state[0] == '\0' ? 1 : memcmp(r->name, prev->state, 2);
	if (c < 0 || (c == 0 && (epoch < prev->epoch ||
				 (epoch == prev->epoch && cp->size <= prev->size))))
		return "out of order (by State, then epoch, then ascending size)";
	return NULL;
}

/* The peer checkpoints we cosigned: the peer's signature and ours, by State then size. */
/* Opens witnessed record r with each of our cosigner keys in turn (our audit key may have
 * changed, SPEC 14): the first under which it is cosigned by us and signed by its peer. */
static const char *open_witnessed(const mla_bundle_record *r, const mla_note_verifier *own,
				  size_t nown, const mla_note_verifier *const *cand, size_t nc,
				  uint32_t epoch, struct wit_order *prev, mla_checkpoint *cp,
				  char *why, size_t whylen)
{
	mla_note_verifier keys[MLA_NOTE_VERIFIERS_MAX];
	const char *bad = "no key of this gateway cosigned it";

	for (size_t o = 0; o < nown; o++) {
		mla_diag d = {MLA_OK, ""};
		uint64_t signers = 0;
		size_t nk = select_keys(r, &own[o], cand, nc, keys);

		if (mla_checkpoint_open((const char *)r->data, r->len, keys, nk, cp, &signers,
					&d) != MLA_OK) {
			(void)mla_snprintf_cut(why, whylen, "%s", mla_diag_message(&d));
			bad = why;
			continue;
		}
		if ((bad = witnessed_problem(r, cp, signers, nk, epoch, prev)) == NULL)
			return NULL;
	}
	return bad;
}

static int check_witnessed(struct vctx *v, const mla_note_verifier *own_cosigner, size_t nown)
{
	const mla_note_verifier **cand = calloc(v->npeers + 1, sizeof(*cand));
	mla_note_verifier *ren = calloc(v->npeers + 1, sizeof(*ren));
	struct wit_order prev;
	struct vregion g;
	mla_bundle_record rec;
	int rc = 0;

	memset(&prev, 0, sizeof(prev));
	if (cand == NULL || ren == NULL || vregion_open(v, &g, MLA_BUNDLE_WITNESSED) != 0) {
		free(cand);
		free(ren);
		return -1;
	}
	while (vregion_next(&g, &rec) == 1) {
		const mla_bundle_record *r = &rec;
		mla_checkpoint cp;
		const char *bad;
		char what[64], why[MLA_DIAG_MAX];
		size_t nc = 0;
		mla_audit_head h;

		uint32_t epoch;
		char origin[MLA_AUDIT_ORIGIN_MAX + 1], st[3] = {0};

		epoch = witnessed_epoch(r->name);
		memcpy(st, r->name, 2);
		for (size_t p = 0; p < v->npeers; p++) {
			if (memcmp(v->peers[p].state, r->name, 2) != 0)
				continue;
			if (epoch == 1)
				cand[nc++] = &v->peers[p].log;
			else if (mla_audit_origin_format(st, epoch, origin) == MLA_OK &&
				 renamed(&v->peers[p].log, origin, &ren[nc]))
				cand[nc] = &ren[nc], nc++;
		}
		if ((bad = open_witnessed(r, own_cosigner, nown, cand, nc, epoch, &prev, &cp, why,
					  sizeof(why))) != NULL) {
			vfail(v, F_WITNESS, MLA_AUDIT_R_WITNESSED, MLA_BUNDLE_WITNESSED, r->name,
			      "witnessed %s: %s", r->name, bad);
			continue;
		}
		mla_require(mla_snprintf(what, sizeof(what), "cosigned by %s", v->state) == MLA_OK);
		make_head(&h, cp.origin, cp.size, cp.root, what);
		memcpy(h.witness, v->state, 3);
		memcpy(prev.state, r->name, 2);
		prev.epoch = epoch;
		prev.size = cp.size;
		v->fam[F_WITNESS].ok++; /* before the head goes out, as when heads were kept */
		if (audit_put_head(v, &h) != 0) {
			rc = -1;
			break;
		}
	}
	if (vregion_close(&g) != 0)
		rc = -1;
	free(cand);
	free(ren);
	return rc;
}

int verify_witness(struct vctx *v)
{
	mla_note_verifier *own;
	EVP_PKEY *pk = NULL;
	char name[40];
	int rc;

	mla_bundle_record loaded;
	mla_buf buf;

	v->cappeers = (size_t)v->b->count[MLA_BUNDLE_CERTIFICATE] + 1;
	v->peers = calloc(v->cappeers, sizeof(*v->peers));
	if (v->peers == NULL)
		return -1;
	mla_buf_init(&buf, mla_bundle_type_max(MLA_BUNDLE_CERTIFICATE) + 1);
	for (size_t first = 2 + audit_later_keys(v), i = first;
	     i < v->b->n && v->b->rec[i].type == MLA_BUNDLE_CERTIFICATE; i++) {
		/* export's order (the store's: State, then fingerprint): names ascend bytewise */
		if (i > first && strcmp(v->b->rec[i - 1].name, v->b->rec[i].name) >= 0)
			vfail(v, F_WITNESS, MLA_AUDIT_R_ORDER, MLA_BUNDLE_CERTIFICATE,
			      v->b->rec[i].name, "certificate %s: duplicated or out of order",
			      v->b->rec[i].name);
		else if (audit_record_loaded(v, &v->b->rec[i], F_WITNESS, &buf, &loaded) == 0)
			take_peer_cert(v, &loaded); /* read one at a time, not kept by the index */
	}
	mla_buf_free(&buf);
	if (!v->have_key)
		return 0; /* reported by verify_certificate */
	mla_require(mla_snprintf(name, sizeof(name), "mlagw.%c%c/witness", v->state[0] + 32,
				 v->state[1] + 32) == MLA_OK);
	if ((own = calloc(v->nkeys, sizeof(*own))) == NULL)
		return -1;
	for (size_t k = 0; k < v->nkeys; k++) { /* each audit key of ours cosigns as we */
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, v->keys[k].v.key,
						 MLA_ED25519_KEY_LEN);
		rc = pk == NULL || mla_cosig_verifier_from_key(name, pk, &own[k], NULL) != MLA_OK;
		EVP_PKEY_free(pk);
		if (rc) {
			free(own);
			return -1;
		}
	}
	if ((rc = check_cosignatures(v)) == 0)
		rc = check_witnessed(v, own, v->nkeys);
	free(own);
	return rc;
}
