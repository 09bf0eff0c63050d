/* mlagw audit verify, witnessing (SPEC §15, step "witness"): the peers' audit certificates
 * chain to their States' roots; every signature line on our checkpoints is ours or a peer's
 * valid cosignature; every peer checkpoint we cosigned carries the peer's signature and ours.
 * Across several bundles (audit_cross_check), two roots for one log and size, or a cosigned
 * root that is not the root of that log's exported entries, is a split view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "audit_verify.h"
#include "mlagw/merkle.h"

/* Signature lines after the note's text (each ends in a newline). */
static size_t sig_lines(const mla_bundle_record *r)
{
	size_t n = 0, text = 0;

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

static struct vhead *add_head(struct vctx *v, const mla_checkpoint *cp, const char *what)
{
	struct vhead *h;

	if (v->nheads == v->caphead) {
		size_t nc = v->caphead == 0 ? 16 : 2 * v->caphead;
		void *p = realloc(v->heads, nc * sizeof(*v->heads));
		if (p == NULL)
			return NULL;
		v->heads = p;
		v->caphead = nc;
	}
	h = &v->heads[v->nheads++];
	memset(h, 0, sizeof(*h));
	memcpy(h->origin, cp->origin, sizeof(h->origin));
	h->size = cp->size;
	memcpy(h->root, cp->root, sizeof(h->root));
	(void)snprintf(h->what, sizeof(h->what), "%s", what);
	return h;
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
	for (int i = 0; ok && i < 8; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return ok && strlen(name) == 8 + 16 && strcmp(name + 8, hex) == 0;
}

/* A peer's audit certificate, "peer.<State>.<fingerprint>": both its verifiers. */
static void take_peer_cert(struct vctx *v, const mla_bundle_record *r)
{
	BIO *bio = BIO_new_mem_buf(r->data, (int)r->len);
	X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	struct vpeer *p = &v->peers[v->npeers];
	char why[300] = "", st[3] = "", log[40], cos[40];

	if (strlen(r->name) < 8 || r->name[7] != '.')
		vfail(v, F_WITNESS, "certificate %s: not named peer.<State>.<fingerprint>", r->name);
	else if (cert == NULL)
		vfail(v, F_WITNESS, "certificate %s: not a PEM certificate", r->name);
	else if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_countryName, st, 3) !=
			 2 || memcmp(st, r->name + 5, 2) != 0)
		vfail(v, F_WITNESS, "certificate %s: subject State '%s' is not the one of its name",
		      r->name, st);
	else if (!name_has_fingerprint(r->name, cert))
		vfail(v, F_WITNESS, "certificate %s: the name does not end in the first 8 bytes of "
		      "the certificate's SHA-256", r->name);
	else if (v->npeers == MLA_NOTE_VERIFIERS_MAX - 1)
		vfail(v, F_WITNESS, "certificate %s: more than %d peer certificates", r->name,
		      MLA_NOTE_VERIFIERS_MAX - 2);
	else if (!audit_chain_to_root(v, cert, st, why, sizeof(why)))
		vfail(v, F_WITNESS, "certificate %s: %s", r->name, why);
	else {
		(void)snprintf(log, sizeof(log), "mlagw.%c%c/audit", st[0] + 32, st[1] + 32);
		(void)snprintf(cos, sizeof(cos), "mlagw.%c%c/witness", st[0] + 32, st[1] + 32);
		if (mla_note_verifier_from_key(log, X509_get0_pubkey(cert), &p->log, NULL) !=
			    MLA_OK ||
		    mla_cosig_verifier_from_key(cos, X509_get0_pubkey(cert), &p->cosigner, NULL) !=
			    MLA_OK) {
			vfail(v, F_WITNESS, "certificate %s: not an Ed25519 audit key", r->name);
		} else {
			memcpy(p->state, st, 3);
			v->npeers++;
			v->fam[F_WITNESS].ok++;
		}
	}
	X509_free(cert);
	BIO_free(bio);
}

/* Our own checkpoints: every line after ours must be a peer's valid cosignature. */
static int check_cosignatures(struct vctx *v)
{
	mla_note_verifier keys[MLA_NOTE_VERIFIERS_MAX];
	size_t nk = 1, k = 0;

	keys[0] = v->key;
	for (size_t i = 0; i < v->npeers; i++)
		keys[nk++] = v->peers[i].cosigner;
	for (size_t i = 0; i < v->b->n; i++) {
		const mla_bundle_record *r = &v->b->rec[i];
		mla_diag d = {MLA_OK, ""};
		uint64_t signers = 0;
		mla_checkpoint cp;
		struct vhead *h;

		if (r->type != MLA_BUNDLE_CHECKPOINT || v->cps[k++].size == 0)
			continue; /* refused by verify_checkpoints already */
		if (mla_checkpoint_open((const char *)r->data, r->len, keys, nk, &cp, &signers, &d) !=
		    MLA_OK)
			vfail(v, F_WITNESS, "checkpoint %s: %s", r->name, mla_diag_message(&d));
		else if (popcount(signers) != sig_lines(r))
			vfail(v, F_WITNESS, "checkpoint %s: %zu signature lines by keys the bundle "
			      "does not certify", r->name, sig_lines(r) - popcount(signers));
		else if ((h = add_head(v, &cp, "checkpoint")) == NULL)
			return -1;
		else {
			v->cosignatures += popcount(signers) - 1;
			for (size_t p = 0; p < v->npeers; p++)
				if (signers & (UINT64_C(2) << p))
					memcpy(h->cosigners + strlen(h->cosigners), v->peers[p].state,
					       3);
		}
	}
	return 0;
}

/* The peer checkpoints we cosigned: the peer's signature and ours, ascending per log. */
static int check_witnessed(struct vctx *v, const mla_note_verifier *own_cosigner)
{
	mla_checkpoint prev = {{0}, 0, {0}, 0};

	for (size_t i = 0; i < v->b->n; i++) {
		const mla_bundle_record *r = &v->b->rec[i];
		mla_note_verifier keys[MLA_NOTE_VERIFIERS_MAX];
		mla_diag d = {MLA_OK, ""};
		uint64_t signers = 0, peer_bits;
		mla_checkpoint cp;
		char name[MLA_BUNDLE_NAME_MAX + 1], what[64];
		size_t nk = 1;

		if (r->type != MLA_BUNDLE_WITNESSED)
			continue;
		keys[0] = *own_cosigner;
		for (size_t p = 0; p < v->npeers; p++)
			if (memcmp(v->peers[p].state, r->name, 2) == 0)
				keys[nk++] = v->peers[p].log;
		peer_bits = ((UINT64_C(1) << nk) - 1) & ~UINT64_C(1);
		if (mla_checkpoint_open((const char *)r->data, r->len, keys, nk, &cp, &signers, &d) !=
		    MLA_OK) {
			vfail(v, F_WITNESS, "witnessed %s: %s", r->name, mla_diag_message(&d));
			continue;
		}
		(void)snprintf(name, sizeof(name), "%c%c.%llu", cp.origin[6] - 32,
			       cp.origin[7] - 32, (unsigned long long)cp.size);
		if (!(signers & 1) || !(signers & peer_bits))
			vfail(v, F_WITNESS, "witnessed %s: not signed by %s and cosigned by this "
			      "gateway", r->name, nk > 1 ? keys[1].name : "a certified peer");
		else if (popcount(signers) != sig_lines(r))
			vfail(v, F_WITNESS, "witnessed %s: signature lines by keys the bundle does not "
			      "certify", r->name);
		else if (strncmp(cp.origin, "mlagw.", 6) != 0 || strcmp(name, r->name) != 0)
			vfail(v, F_WITNESS, "witnessed %s: the checkpoint is %s at size %llu",
			      r->name, cp.origin, (unsigned long long)cp.size);
		else if (strcmp(cp.origin, prev.origin) == 0 && cp.size <= prev.size)
			vfail(v, F_WITNESS, "witnessed %s: sizes of %s do not ascend", r->name,
			      cp.origin);
		else {
			struct vhead *h;
			(void)snprintf(what, sizeof(what), "cosigned by %s", v->state);
			if ((h = add_head(v, &cp, what)) == NULL)
				return -1;
			memcpy(h->witness, v->state, 3);
			prev = cp;
			v->fam[F_WITNESS].ok++;
		}
	}
	return 0;
}

int verify_witness(struct vctx *v)
{
	mla_note_verifier own_cosigner;
	EVP_PKEY *pk = NULL;
	char name[40];
	int rc;

	v->peers = calloc(MLA_NOTE_VERIFIERS_MAX, sizeof(*v->peers));
	if (v->peers == NULL)
		return -1;
	for (size_t i = 2; i < v->b->n && v->b->rec[i].type == MLA_BUNDLE_CERTIFICATE; i++)
		take_peer_cert(v, &v->b->rec[i]);
	if (!v->have_key)
		return 0; /* reported by verify_certificate */
	(void)snprintf(name, sizeof(name), "mlagw.%c%c/witness", v->state[0] + 32,
		       v->state[1] + 32);
	if ((pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, v->key.key,
					      MLA_ED25519_KEY_LEN)) == NULL ||
	    mla_cosig_verifier_from_key(name, pk, &own_cosigner, NULL) != MLA_OK) {
		EVP_PKEY_free(pk);
		return -1;
	}
	EVP_PKEY_free(pk);
	if ((rc = check_cosignatures(v)) != 0)
		return rc;
	return check_witnessed(v, &own_cosigner);
}
