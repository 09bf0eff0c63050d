/* Directory verification (SPEC 18, Verification): the document before any cryptography, the
 * publisher's signature over the Body, every entry's signature by its own State under the
 * root configured locally for that State, then the serial against the one held and the
 * expiry with its grace period. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certcheck.h"
#include "dir_internal.h"
#include "keys_internal.h"
#include "mlagw/codec.h"

static int same_der(X509 *a, X509 *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_X509(a, &da), lb = i2d_X509(b, &db);
	int same = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;

	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

/* The entry's root must be, byte for byte, a root configured locally for its State: a
 * publisher can neither introduce a State nor replace its root (SPEC 18). */
static mla_err check_root(const mla_trust *trust, const mla_dir_entry *e, mla_diag *diag)
{
	X509_STORE *store = trust_store_for(trust, e->state);
	STACK_OF(X509_OBJECT) *objs;

	if (store == NULL)
		return mla_fail(diag, MLA_ERR_UNKNOWN_STATE, "directory lists %s, but no root of %s "
				"is configured locally", e->state, e->state);
	objs = X509_STORE_get0_objects(store);
	for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
		if (x != NULL && same_der(x, e->root))
			return MLA_OK;
	}
	return mla_fail(diag, MLA_ERR_CERT_UNTRUSTED, "entry of %s carries a root certificate "
			"other than the one configured locally for %s", e->state, e->state);
}

/* x chains to the State's configured root through the entry's intermediates alone. Its dates
 * are not judged here: a next certificate is not valid yet, and expiry is warned about, not
 * refused, by the gateway (issue 16 part 3). */
static int chains_to_root(X509_STORE *store, const mla_dir_entry *e, X509 *x)
{
	STACK_OF(X509) *inter = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = inter != NULL && ctx != NULL;

	for (size_t i = 0; ok && i < e->n_inter; i++)
		ok = sk_X509_push(inter, e->inter[i]) > 0;
	if (ok && X509_STORE_CTX_init(ctx, store, x, inter) == 1) {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT | X509_V_FLAG_NO_CHECK_TIME);
		ok = X509_verify_cert(ctx) == 1;
	} else {
		ok = 0;
	}
	X509_STORE_CTX_free(ctx);
	sk_X509_free(inter); /* the certificates stay the entry's */
	return ok;
}

/* Every listed certificate, current and next, is issued under the State's root and allows
 * its use, so what a gateway later takes from the entry is what the State's PKI issued. */
static mla_err check_listed(const mla_trust *trust, const mla_dir_entry *e, mla_diag *diag)
{
	static const uint32_t usage[MLA_DIR_USES] = {KU_DIGITAL_SIGNATURE, KU_DIGITAL_SIGNATURE,
						     KU_KEY_ENCIPHERMENT, KU_DIGITAL_SIGNATURE};
	static const char *const usage_name[MLA_DIR_USES] = {
		"digitalSignature", "digitalSignature", "keyEncipherment", "digitalSignature"};
	X509_STORE *store = trust_store_for(trust, e->state);

	for (int u = 0; u < MLA_DIR_USES; u++) {
		X509 *pair[2] = {e->certs[u].current, e->certs[u].next};
		for (int k = 0; k < 2 && pair[k] != NULL; k++) {
			const char *use = mla_dir_use_name((mla_dir_use)u), *next = k ? "next " : "";
			if (!chains_to_root(store, e, pair[k]))
				return mla_fail(diag, MLA_ERR_CERT_UNTRUSTED, "entry of %s: its %s%s "
						"certificate does not chain to the root of %s",
						e->state, next, use, e->state);
			if ((X509_get_key_usage(pair[k]) & usage[u]) == 0)
				return mla_fail(diag, MLA_ERR_CERT_USAGE, "entry of %s: its %s%s "
						"certificate does not allow %s", e->state, next,
						use, usage_name[u]);
		}
	}
	return MLA_OK;
}

static mla_err check_id(xmlNodePtr state, const char *code, mla_diag *diag)
{
	xmlChar *id = xmlGetProp(state, BAD_CAST "Id");
	int ok = id != NULL && id[0] == 'S' && id[1] == '-' && xmlStrEqual(id + 2, BAD_CAST code);

	xmlFree(id);
	return ok ? MLA_OK
		  : mla_fail(diag, MLA_ERR_SCHEMA, "entry of %s: the State's Id is not S-%s",
			     code, code);
}

/* One signed entry: its fields, its root, its signer, its signature. */
static mla_err verify_entry(xmlNodePtr entry, const mla_trust *trust, time_t now,
			    mla_dir_entry *e, mla_diag *diag)
{
	xmlNodePtr state = dir_child(entry, "State");
	xmlNodePtr sig = dir_ds_child(entry, "Signature");
	const mla_dir_cert *sc;
	char what[24];
	X509 *leaf = NULL;
	mla_err r;

	if ((r = dir_read_state(state, e, diag)) != MLA_OK ||
	    (r = check_id(state, e->state, diag)) != MLA_OK)
		return r;
	if (sig == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "entry of %s is not signed", e->state);
	if ((r = check_root(trust, e, diag)) != MLA_OK ||
	    (r = check_listed(trust, e, diag)) != MLA_OK ||
	    (r = certcheck_signature_signer(trust, e->state, sig, now, "entry signer",
					    "directory entry", &leaf, diag)) != MLA_OK)
		return r;
	sc = &e->certs[MLA_DIR_SIGNING];
	if (!same_der(leaf, sc->current) && (sc->next == NULL || !same_der(leaf, sc->next)))
		r = mla_fail(diag, MLA_ERR_CERT_UNTRUSTED, "entry of %s is signed by a certificate "
			     "it does not list as its signing certificate", e->state);
	else if (mla_snprintf(what, sizeof(what), "entry of %s", e->state) == MLA_OK)
		r = dir_dsig_verify(sig, state, leaf, what, diag);
	X509_free(leaf);
	return r;
}

/* Serial, times and publisher of the Body; its Id must be D- and the serial. */
static mla_err read_head(xmlNodePtr body, mla_directory *d, mla_diag *diag)
{
	char serial[24], t1[MLA_TIME_LEN], t2[MLA_TIME_LEN], id[28];
	xmlChar *pub = xmlGetProp(dir_child(body, "Publisher"), BAD_CAST "state");
	xmlChar *bid = xmlGetProp(body, BAD_CAST "Id");
	mla_err r = MLA_OK;

	if (dir_text(dir_child(body, "Serial"), serial, sizeof(serial), "Serial", diag) != MLA_OK ||
	    mla_parse_u64(serial, 1, UINT64_MAX, &d->serial) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_SCHEMA, "directory Serial is not a number from 1 to "
			     "2^64-1");
	else if (mla_snprintf(id, sizeof(id), "D-%s", serial) != MLA_OK || bid == NULL ||
		 !xmlStrEqual(bid, BAD_CAST id))
		r = mla_fail(diag, MLA_ERR_SCHEMA, "directory Body's Id is not D- and its Serial");
	else if (dir_text(dir_child(body, "IssuedAt"), t1, sizeof(t1), "IssuedAt", diag) !=
			 MLA_OK ||
		 dir_text(dir_child(body, "Expires"), t2, sizeof(t2), "Expires", diag) != MLA_OK ||
		 (d->issued_at = mla_time_parse(t1)) < 0 || (d->expires = mla_time_parse(t2)) < 0 ||
		 d->issued_at >= d->expires)
		r = mla_fail(diag, MLA_ERR_SCHEMA, "directory IssuedAt and Expires are not times "
			     "in that order");
	else if (pub == NULL || mla_strcpy(d->publisher, sizeof(d->publisher),
					   (const char *)pub) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_SCHEMA, "directory Publisher has no State");
	xmlFree(pub);
	xmlFree(bid);
	return r;
}

/* Registers the Body's and every State's Id before any signature is checked, so that no
 * reference resolves to anything else and a State listed twice is refused. */
static mla_err register_ids(xmlNodePtr body, size_t *n, mla_diag *diag)
{
	mla_err r;

	*n = 0;
	if ((r = dir_register_id(body, diag)) != MLA_OK)
		return r;
	for (xmlNodePtr c = body->children; c != NULL; c = c->next)
		if (dir_is(c, "Entry")) {
			if ((r = dir_register_id(dir_child(c, "State"), diag)) != MLA_OK)
				return r;
			(*n)++;
		}
	return MLA_OK;
}

static mla_err verify_publisher(xmlNodePtr root, xmlNodePtr body, const mla_directory *d,
				const mla_dir_policy *p, mla_diag *diag)
{
	const mla_trust *pt = p->publisher_trust != NULL ? p->publisher_trust : p->trust;
	X509 *leaf = NULL;
	mla_err r;

	if (p->publisher == NULL || strcmp(p->publisher, d->publisher) != 0)
		return mla_fail(diag, MLA_ERR_CERT_UNTRUSTED, "directory is published by %s, the "
				"configured publisher is %s", d->publisher,
				p->publisher != NULL ? p->publisher : "none");
	if ((r = certcheck_signature_signer(pt, p->publisher, dir_ds_child(root, "Signature"),
					    p->now, "directory publisher", "directory", &leaf,
					    diag)) == MLA_OK)
		r = dir_dsig_verify(dir_ds_child(root, "Signature"), body, leaf, "directory", diag);
	X509_free(leaf);
	return r;
}

static mla_err verify_entries(xmlNodePtr body, const mla_dir_policy *p, mla_directory *d,
			      mla_diag *diag)
{
	mla_err r;

	for (xmlNodePtr c = body->children; c != NULL; c = c->next) {
		if (!dir_is(c, "Entry"))
			continue;
		if ((r = verify_entry(c, p->trust, p->now, &d->entries[d->n], diag)) != MLA_OK) {
			mla_dir_entry_clear(&d->entries[d->n]);
			return r;
		}
		d->n++;
	}
	return MLA_OK;
}

/* SPEC 18: never go back; the same serial is a no-op only with the same bytes. */
static mla_err check_serial(const mla_directory *d, const mla_dir_policy *p,
			    mla_dir_status *st, mla_diag *diag)
{
	if (!p->have_held || d->serial > p->held_serial)
		return MLA_OK;
	if (d->serial < p->held_serial)
		return mla_fail(diag, MLA_ERR_DIR_SERIAL, "directory serial went back: %llu is "
				"below the held %llu", (unsigned long long)d->serial,
				(unsigned long long)p->held_serial);
	if (memcmp(d->digest, p->held_digest, sizeof(d->digest)) != 0)
		return mla_fail(diag, MLA_ERR_DIR_SERIAL, "directory serial %llu is the one held, "
				"but the document differs", (unsigned long long)d->serial);
	st->unchanged = 1;
	return MLA_OK;
}

/* An end of validity passed: refused past the grace period, else a warning. */
static mla_err check_end(time_t end, const char *what, const mla_dir_policy *p,
			 mla_dir_status *st, mla_diag *diag)
{
	char t[MLA_TIME_LEN];

	if (p->now <= end)
		return MLA_OK;
	mla_time_format(end, t);
	if (p->now - end > p->grace)
		return mla_fail(diag, MLA_ERR_DIR_EXPIRED, "%s expired at %s, past the grace period "
				"of %lld s", what, t, (long long)p->grace);
	if (!st->in_grace)
		(void)mla_snprintf_cut(st->warning, sizeof(st->warning), "%s expired at %s; "
				       "accepted within the grace period of %lld s", what, t,
				       (long long)p->grace); /* a warning, shortened if need be */
	st->in_grace = 1;
	return MLA_OK;
}

static mla_err check_times(const mla_directory *d, const mla_dir_policy *p,
			   mla_dir_status *st, mla_diag *diag)
{
	char what[48], t[MLA_TIME_LEN];
	mla_err r;

	(void)mla_snprintf_cut(what, sizeof(what), "directory serial %llu",
			       (unsigned long long)d->serial); /* a label */
	if ((r = check_end(d->expires, what, p, st, diag)) != MLA_OK)
		return r;
	for (size_t i = 0; i < d->n; i++) {
		const mla_dir_entry *e = &d->entries[i];
		(void)mla_snprintf_cut(what, sizeof(what), "entry of %s", e->state); /* a label */
		if ((r = check_end(e->valid_until, what, p, st, diag)) != MLA_OK)
			return r;
		if (e->valid_from > p->now) {
			mla_time_format(e->valid_from, t);
			return mla_fail(diag, MLA_ERR_DIR_EXPIRED, "entry of %s is not valid before "
					"%s", e->state, t);
		}
	}
	return MLA_OK;
}

static mla_err verify_doc(xmlDocPtr doc, const mla_dir_policy *p, mla_directory *d,
			  mla_dir_status *st, mla_diag *diag)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), body = dir_child(root, "Body");
	size_t n;
	mla_err r;

	if (!dir_is(root, "Directory") || body == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "document is a directory entry, not a "
				"directory");
	if ((r = read_head(body, d, diag)) != MLA_OK || (r = register_ids(body, &n, diag)) != MLA_OK)
		return r;
	if ((d->entries = calloc(n, sizeof(*d->entries))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = verify_publisher(root, body, d, p, diag)) != MLA_OK ||
	    (r = verify_entries(body, p, d, diag)) != MLA_OK ||
	    (r = check_serial(d, p, st, diag)) != MLA_OK)
		return r;
	return check_times(d, p, st, diag);
}

mla_err mla_directory_verify(const uint8_t *xml, size_t len, const mla_dir_policy *policy,
			     mla_directory **out, mla_dir_status *status, mla_diag *diag)
{
	mla_dir_status scratch;
	mla_dir_policy p;
	mla_directory *d = NULL;
	xmlDocPtr doc = NULL;
	mla_err r;

	*out = NULL;
	if (status == NULL)
		status = &scratch;
	memset(status, 0, sizeof(*status));
	if (policy == NULL || policy->trust == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "directory verification needs the local roots");
	p = *policy;
	if (p.now == 0)
		p.now = time(NULL);
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return MLA_ERR_NOMEM;
	if (EVP_Digest(xml, len, d->digest, NULL, EVP_sha256(), NULL) != 1) {
		r = MLA_ERR_INTERNAL;
		goto out;
	}
	if ((r = dir_parse(xml, len, MLA_DIR_MAX_BYTES, &doc, diag)) != MLA_OK ||
	    (r = verify_doc(doc, &p, d, status, diag)) != MLA_OK)
		goto out;
	*out = d; /* ownership moves to the caller */
	d = NULL;
out:
	if (r != MLA_OK)
		memset(status, 0, sizeof(*status));
	mla_directory_free(d);
	xmlFreeDoc(doc);
	return r;
}

mla_err mla_dir_entry_verify(const uint8_t *xml, size_t len, const mla_trust *trust,
			     time_t now, mla_dir_entry *out, mla_diag *diag)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	char t[MLA_TIME_LEN];
	mla_err r;

	memset(out, 0, sizeof(*out));
	if (now == 0)
		now = time(NULL);
	if ((r = dir_parse(xml, len, MLA_DIR_MAX_ENTRY_BYTES, &doc, diag)) != MLA_OK)
		return r;
	root = xmlDocGetRootElement(doc);
	if (!dir_is(root, "Entry"))
		r = mla_fail(diag, MLA_ERR_SCHEMA, "document is a directory, not an entry");
	else if ((r = dir_register_id(dir_child(root, "State"), diag)) == MLA_OK &&
		 (r = verify_entry(root, trust, now, out, diag)) == MLA_OK &&
		 now > out->valid_until) {
		mla_time_format(out->valid_until, t);
		r = mla_fail(diag, MLA_ERR_DIR_EXPIRED, "entry of %s expired at %s", out->state, t);
	}
	xmlFreeDoc(doc);
	return r;
}
