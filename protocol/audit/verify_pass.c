/* Audit bundle verification, the entries read from the bundle in bounded memory (SPEC 15
 * "Verification"): a first read finds which messages the bundle must hold (the filter's
 * selection, the messages sealed again) and the last entry's time; the second checks every
 * entry (canonical, dense, in time order), hashes it into a compact range that gives each
 * checkpoint's root, and hands the entries the message checks need to their sort on disk
 * (verify_msgs.c). A bundle of ten million entries is verified in a few tens of MiB. */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "verify_internal.h"

/* Every read of the entries hashes what it read (names and bytes, SHA-256): the checks of
 * one read are about the bytes another read saw only if the two digests agree. A file that
 * changes between reads (a file system its author controls, a file rewritten meanwhile)
 * would otherwise let the selection of messages be made on entries that are never
 * verified. */
struct region_hash {
	EVP_MD_CTX *ctx;
	int ok;
};

static int region_begin(struct region_hash *h)
{
	h->ctx = EVP_MD_CTX_new();
	h->ok = h->ctx != NULL && EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) == 1;
	return h->ok ? 0 : -1;
}

static void region_add(struct region_hash *h, const mla_bundle_record *r)
{
	uint8_t len[8];

	for (int i = 0; i < 8; i++) /* the length first: no two records hash alike */
		len[i] = (uint8_t)((uint64_t)r->len >> (8 * i));
	h->ok = h->ok && EVP_DigestUpdate(h->ctx, r->name, strlen(r->name) + 1) == 1 &&
		EVP_DigestUpdate(h->ctx, len, sizeof(len)) == 1;
	if (r->data == NULL) { /* an envelope or a receipt: where it lies (its bytes: loaded) */
		for (int i = 0; i < 8; i++)
			len[i] = (uint8_t)((uint64_t)r->offset >> (8 * i));
		h->ok = h->ok && EVP_DigestUpdate(h->ctx, len, sizeof(len)) == 1;
	} else
		h->ok = h->ok && EVP_DigestUpdate(h->ctx, r->data, r->len) == 1;
}

/* The digest into out (NULL: dropped); -1 when hashing failed. */
static int region_end(struct region_hash *h, uint8_t out[32])
{
	unsigned n = 0;
	uint8_t md[EVP_MAX_MD_SIZE];

	h->ok = h->ok && EVP_DigestFinal_ex(h->ctx, md, &n) == 1 && n == 32;
	if (h->ok && out != NULL)
		memcpy(out, md, 32);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	return h->ok ? 0 : -1;
}

/* A later read against the first one's digest: a failure (the container's) when they
 * differ. */
static void region_check(struct vctx *v, struct region_hash *h, const char *which)
{
	uint8_t got[32];

	if (region_end(h, got) != 0 || !v->have_entries_digest)
		return;
	if (memcmp(got, v->entries_digest, 32) != 0 && !v->broken) {
		vfail(v, F_BUNDLE, MLA_AUDIT_R_CONTAINER, MLA_BUNDLE_TYPE_N, "",
		      "malformed bundle: its entries changed between two reads of the file (%s)",
		      which);
		v->broken = 1;
	}
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Sorts the n ids of *ids and removes duplicates; the count left. */
static size_t sort_unique(char (*ids)[MLA_UUID_LEN + 1], size_t n)
{
	size_t k = 0;

	if (n == 0)
		return 0;
	qsort(ids, n, sizeof(*ids), cmp_id);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || strcmp(ids[k - 1], ids[i]) != 0)
			memmove(ids[k++], ids[i], MLA_UUID_LEN + 1);
	return k;
}

static int in_ids(char (*ids)[MLA_UUID_LEN + 1], size_t n, const char *id)
{
	return n > 0 && bsearch(id, ids, n, sizeof(*ids), cmp_id) != NULL;
}

static int add_id(char (**ids)[MLA_UUID_LEN + 1], size_t *n, size_t *cap, const char *id)
{
	void *p = mla_grow(*ids, cap, *n, sizeof(**ids));

	if (p == NULL)
		return -1;
	*ids = p;
	memcpy((*ids)[(*n)++], id, MLA_UUID_LEN + 1);
	return 0;
}

/* The bytes "\n<key> <value>\n" occur in the entry: a cheap test that every entry whose
 * parsed field is value passes (SPEC 14: one `key value` line per field). */
static int has_line(const mla_bundle_record *r, const char *key, const char *value)
{
	char line[MLA_CASE_ID_MAX + 32];

	if (mla_snprintf(line, sizeof(line), "\n%s %s\n", key, value) != MLA_OK)
		return 1; /* cannot rule it out: parse it */
	return memmem(r->data, r->len, line, strlen(line)) != NULL;
}

/* Parses r when it is canonical and at position seq into e. */
static int parse_at(const mla_bundle_record *r, uint64_t seq, mla_audit_entry *e)
{
	char want[24];

	mla_require(mla_snprintf(want, sizeof(want), "%llu", (unsigned long long)seq) == MLA_OK);
	return mla_audit_entry_parse(r->data, r->len, e, NULL) == MLA_OK &&
	       strcmp(r->name, want) == 0 && e->seq == seq;
}

/* The ids the envelope and receipt records are named by (an earlier seal's, <id>.<n>, by
 * its message's): which entries a filtered bundle keeps (audit_keep_entry). An unfiltered
 * one keeps every message's: no table, 37 bytes or more a record less (SPEC 15 "Verifier
 * memory"). */
static int held_of(struct vctx *v, mla_bundle_type t, size_t *cap)
{
	struct vregion g;
	mla_bundle_record r;
	int got;

	if (vregion_open(v, &g, t) != 0)
		return -1;
	while ((got = vregion_next(&g, &r)) == 1) {
		char id[MLA_UUID_LEN + 1];

		if (strlen(r.name) < MLA_UUID_LEN)
			continue;
		memcpy(id, r.name, MLA_UUID_LEN);
		id[MLA_UUID_LEN] = '\0';
		if (add_id(&v->held, &v->nheld, cap, id) != 0) {
			got = -1;
			break;
		}
	}
	if (vregion_close(&g) != 0 || got < 0)
		return -1;
	return 0;
}

static int build_held(struct vctx *v)
{
	size_t cap = 0;
	void *p;

	if (!v->filtered)
		return 0;
	if (held_of(v, MLA_BUNDLE_ENVELOPE, &cap) != 0 || held_of(v, MLA_BUNDLE_RECEIPT, &cap) != 0)
		return -1;
	v->nheld = sort_unique(v->held, v->nheld);
	/* the doubling's spare slots and the duplicates go: the table lives through the checks */
	if (v->nheld > 0 && (p = realloc(v->held, v->nheld * sizeof(*v->held))) != NULL)
		v->held = p;
	return 0;
}

struct prepass {
	size_t capsel, capres;
	int need_parse_all; /* a time filter: any entry may select */
};

/* One entry of the first read: whether it selects its message or seals one again. */
static int prepass_one(struct vctx *v, struct prepass *p, const mla_bundle_record *r,
		       uint64_t seq)
{
	mla_audit_entry e;
	int sel = v->filtered && (p->need_parse_all || has_line(r, "case", v->filter_case));
	int res = has_line(r, "event", mla_audit_event_name(MLA_AUDIT_RESEALED));

	if (seq + 1 == v->nentries && mla_audit_entry_parse(r->data, r->len, &e, NULL) == MLA_OK)
		v->last_ms = e.time_ms;
	if ((!sel && !res) || !parse_at(r, seq, &e) || e.message_id[0] == '\0')
		return 0;
	if (sel && mla_audit_filter_selects(&v->filter, &e) &&
	    add_id(&v->selected, &v->nselected, &p->capsel, e.message_id) != 0)
		return -1;
	if (e.event == MLA_AUDIT_RESEALED &&
	    add_id(&v->resealed, &v->nresealed, &p->capres, e.message_id) != 0)
		return -1;
	return 0;
}

/* The file no longer reads as indexed: the entries' checks stop there. */
static void file_changed(struct vctx *v, const mla_diag *d)
{
	if (!v->broken)
		vfail(v, F_BUNDLE, MLA_AUDIT_R_CONTAINER, MLA_BUNDLE_TYPE_N, "",
		      "malformed bundle: %s", mla_diag_message(d));
	v->broken = 1;
}

int audit_prepass(struct vctx *v)
{
	struct prepass p = {0, 0, v->filter.case_id == NULL};
	struct region_hash h = {NULL, 0}; /* region_end is safe on it before region_begin */
	mla_bundle_cursor *c = malloc(sizeof(*c)); /* 16 KiB */
	mla_bundle_record r;
	mla_diag d = {MLA_OK, ""};
	mla_err e;

	v->nentries = (size_t)v->b->count[MLA_BUNDLE_ENTRY];
	if (c == NULL || build_held(v) != 0 || region_begin(&h) != 0) {
		(void)region_end(&h, NULL);
		free(c);
		return -1;
	}
	mla_bundle_cursor_init(c, v->f, v->b);
	for (uint64_t seq = 0; (e = mla_bundle_cursor_next(c, &r, &d)) == MLA_OK; seq++) {
		region_add(&h, &r);
		if (prepass_one(v, &p, &r, seq) != 0) {
			(void)region_end(&h, NULL);
			free(c);
			return -1;
		}
	}
	free(c);
	if (e != MLA_ERR_NOT_FOUND)
		file_changed(v, &d);
	if (region_end(&h, v->entries_digest) != 0)
		return -1;
	v->have_entries_digest = e == MLA_ERR_NOT_FOUND;
	v->nselected = sort_unique(v->selected, v->nselected);
	v->nresealed = sort_unique(v->resealed, v->nresealed);
	return 0;
}

int audit_keep_entry(const struct vctx *v, const mla_audit_entry *e)
{
	if (e->event == MLA_AUDIT_AUDIT_KEY_CHANGED)
		return 1; /* the key schedule (verify_keys.c) */
	if (e->message_id[0] == '\0')
		return 0;
	return !v->filtered || in_ids(v->held, v->nheld, e->message_id) ||
	       audit_selected(v, e->message_id) || audit_resealed(v, e->message_id);
}

/* A log of epoch N >= 2 opens with the link to epoch N-1 (entry 0, epoch-opened), and no
 * other entry is one (SPEC 14, "Log epochs"; the link itself: verify_epoch.c). */
static void epoch_rule(struct vctx *v, const mla_audit_entry *e, const char *name)
{
	char prev[MLA_AUDIT_ORIGIN_MAX + 1];

	if (e->seq != 0 || v->epoch < 2) {
		if (e->event == MLA_AUDIT_EPOCH_OPENED)
			vfail(v, F_ENTRIES, MLA_AUDIT_R_EPOCH_LINK, MLA_BUNDLE_ENTRY, name,
			      "entry %s: epoch-opened is only entry 0 of a log epoch from 2", name);
		return;
	}
	mla_require(mla_audit_origin_format(v->state, v->epoch - 1, prev) == MLA_OK);
	if (e->event != MLA_AUDIT_EPOCH_OPENED || strcmp(e->prev_origin, prev) != 0)
		vfail(v, F_ENTRIES, MLA_AUDIT_R_EPOCH_LINK, MLA_BUNDLE_ENTRY, name,
		      "entry 0: log %s must open with epoch-opened naming %s", v->origin, prev);
}

/* A resealed or audit-key-changed entry's other fields, in seq order (keep() is called in
 * seq order). */
static int keep_extra(struct vctx *v, const mla_audit_entry *e)
{
	struct vextra *x = mla_grow(v->extras, &v->capextras, v->nextras, sizeof(*x));

	if (x == NULL)
		return -1;
	v->extras = x;
	x = &v->extras[v->nextras++];
	_Static_assert(sizeof(x->error) == sizeof(e->error), "the kept field is the parsed one");
	x->seq = e->seq;
	memcpy(x->error, e->error, sizeof(x->error));
	memcpy(x->sha, e->event == MLA_AUDIT_AUDIT_KEY_CHANGED ? e->audit_cert_sha256
							       : e->prev_envelope_sha256, 32);
	return 0;
}

static int cmp_extra_seq(const void *key, const void *elem)
{
	uint64_t k = *(const uint64_t *)key, s = ((const struct vextra *)elem)->seq;

	return (k > s) - (k < s);
}

const struct vextra *audit_entry_extra(const struct vctx *v, const struct ventry *e)
{
	static const struct vextra none;
	const struct vextra *x = v->nextras ? bsearch(&e->seq, v->extras, v->nextras,
						      sizeof(*v->extras), cmp_extra_seq)
					    : NULL;

	return x != NULL ? x : &none;
}

/* Filtered: an entry of a selected message, whose inclusion proof step 7 requires, as a row
 * in seq order (verify_proofs reads them back). */
int audit_psort_row(struct vctx *v, const mla_audit_entry *e)
{
	struct prow r;

	memset(&r, 0, sizeof(r));
	for (int i = 7, k = 0; i >= 0; i--, k++)
		r.seq[k] = (uint8_t)(e->seq >> (8 * i));
	memcpy(r.id, e->message_id, sizeof(r.id));
	if (xsort_put(&v->psort, &r) != 0) {
		v->tmp_failed = 1;
		return -1;
	}
	return 0;
}

/* A kept entry: a row of the message checks when it names a message, in memory when it
 * changes the audit key (few: verify_keys.c reads them), its other fields apart when it is
 * resealed or audit-key-changed. */
static int keep(struct vctx *v, const mla_audit_entry *e)
{
	struct ventry *p;

	if ((e->event == MLA_AUDIT_RESEALED || e->event == MLA_AUDIT_AUDIT_KEY_CHANGED) &&
	    keep_extra(v, e) != 0)
		return -1;
	if (e->message_id[0] != '\0' &&
	    (audit_msort_entry(v, e) != 0 ||
	     (v->have_psort && audit_selected(v, e->message_id) && audit_psort_row(v, e) != 0)))
		return -1;
	if (e->event != MLA_AUDIT_AUDIT_KEY_CHANGED)
		return 0;
	if ((p = mla_grow(v->entries, &v->capkept, v->nkept, sizeof(*p))) == NULL)
		return -1;
	v->entries = p;
	p = &v->entries[v->nkept++];
	memset(p, 0, sizeof(*p));
	p->seq = e->seq;
	p->time_ms = e->time_ms;
	p->event = e->event;
	p->has_envelope_sha256 = e->has_envelope_sha256 != 0;
	p->has_receipt_sha256 = e->has_receipt_sha256 != 0;
	_Static_assert(sizeof(p->message_id) == sizeof(e->message_id) &&
			       sizeof(p->to) == sizeof(e->to),
		       "the kept fields are the parsed ones");
	memcpy(p->message_id, e->message_id, sizeof(p->message_id));
	memcpy(p->to, e->to, sizeof(p->to));
	memcpy(p->envelope_sha256, e->envelope_sha256, 32);
	memcpy(p->receipt_sha256, e->receipt_sha256, 32);
	return 0;
}

/* The second read's state: the compact range, the next checkpoint and proof leaf to fill. */
struct pass {
	mla_merkle_hasher *h;
	mla_merkle_compact c;
	size_t next_cp, next_leaf;
	int64_t last_time;
	mla_audit_entry e;
};

/* Leaf seq (of an entry of time ms, 0 when it does not parse at its seq) into the compact
 * range; whether its root is the signed one and the last time, into the row of each opened
 * checkpoint it completes; the leaf of a proof's entry. */
static int add_leaf(struct vctx *v, struct pass *s, uint64_t seq, const uint8_t leaf[32],
		    int64_t ms)
{
	struct vcp cp;
	uint8_t root[32];

	if (mla_merkle_hasher_compact_append(s->h, &s->c, leaf) != MLA_OK)
		return -1;
	while (s->next_leaf < v->npleaves && v->pleaves[s->next_leaf].seq < seq)
		s->next_leaf++;
	for (; s->next_leaf < v->npleaves && v->pleaves[s->next_leaf].seq == seq; s->next_leaf++) {
		memcpy(v->pleaves[s->next_leaf].leaf, leaf, 32);
		v->pleaves[s->next_leaf].have = 1;
	}
	for (; s->next_cp < v->ncps; s->next_cp++) {
		if (cptab_get(&v->cpt, s->next_cp, &cp) != 0) {
			v->tmp_failed = 1;
			return -1;
		}
		if (cp.size != 0 && cp.size > seq + 1)
			break; /* not reached yet */
		if (cp.size != seq + 1)
			continue; /* refused, or not reached (its size is below this one) */
		if (mla_merkle_compact_root(&s->c, root) != MLA_OK)
			return -1;
		cp.tree = memcmp(root, cp.root, 32) == 0;
		cp.last_ms = ms;
		if (cptab_put(&v->cpt, s->next_cp, &cp) != 0) {
			v->tmp_failed = 1;
			return -1;
		}
	}
	return 0;
}

/* The checks of one entry record at position seq; whether it parsed at its seq. */
static int entry_valid(struct vctx *v, struct pass *s, const mla_bundle_record *r, uint64_t seq)
{
	mla_audit_entry *e = &s->e;
	mla_diag d = {MLA_OK, ""};
	char want[24];

	mla_require(mla_snprintf(want, sizeof(want), "%llu", (unsigned long long)seq) == MLA_OK);
	if (mla_audit_entry_parse(r->data, r->len, e, &d) != MLA_OK) {
		vfail(v, F_ENTRIES, MLA_AUDIT_R_ENTRY_FORM, MLA_BUNDLE_ENTRY, r->name,
		      "entry %s: not a canonical entry: %s", r->name, mla_diag_message(&d));
		return 0;
	}
	if (strcmp(r->name, want) != 0 || e->seq != seq) {
		vfail(v, F_ENTRIES, MLA_AUDIT_R_ENTRY_SEQ, MLA_BUNDLE_ENTRY, r->name,
		      "entry %s: holds seq %llu at position %s (entry missing, duplicated or "
		      "reordered)", r->name, (unsigned long long)e->seq, want);
		return 0;
	}
	epoch_rule(v, e, r->name);
	if (e->time_ms < s->last_time)
		vfail(v, F_ENTRIES, MLA_AUDIT_R_ENTRY_TIME, MLA_BUNDLE_ENTRY, r->name,
		      "entry %s: time goes back from the previous entry", r->name);
	else
		v->fam[F_ENTRIES].ok++;
	s->last_time = e->time_ms;
	return 1;
}

/* One entry record: its checks, its leaf, and whether it is kept. */
static int check_entry(struct vctx *v, struct pass *s, const mla_bundle_record *r, uint64_t seq)
{
	uint8_t leaf[32];
	int valid;

	if (mla_merkle_hasher_leaf(s->h, r->data, r->len, leaf) != MLA_OK)
		return -1;
	valid = entry_valid(v, s, r, seq);
	if (add_leaf(v, s, seq, leaf, valid ? s->e.time_ms : 0) != 0)
		return -1;
	if (!valid)
		return 0;
	if (s->e.event == MLA_AUDIT_DIRECTORY_ADOPTED && audit_dir_entry(v, &s->e) != 0)
		return -1;
	if (seq == 0) {
		v->first = s->e;
		v->have_first = 1;
	}
	return audit_keep_entry(v, &s->e) ? keep(v, &s->e) : 0;
}

static int cmp_leaf(const void *a, const void *b)
{
	uint64_t x = ((const struct vleaf *)a)->seq, y = ((const struct vleaf *)b)->seq;

	return x < y ? -1 : x > y;
}

/* The entries `i.<seq>.<n>` proofs name, whose leaves the second read keeps (the proofs'
 * first read). */
static int proof_leaves(struct vctx *v)
{
	struct vregion g;
	mla_bundle_record r;
	size_t cap = 0, k = 0;
	int got;

	if (vregion_open(v, &g, MLA_BUNDLE_PROOF) != 0)
		return -1;
	while ((got = vregion_next(&g, &r)) == 1) {
		const char *dot;
		uint64_t seq;
		struct vleaf *p;

		if (strncmp(r.name, "i.", 2) != 0 || (dot = strchr(r.name + 2, '.')) == NULL ||
		    mla_parse_u64n(r.name + 2, (size_t)(dot - r.name - 2), 0, UINT64_MAX, &seq) !=
			    MLA_OK)
			continue; /* not an inclusion proof's name: verify_proofs says so */
		if ((p = mla_grow(v->pleaves, &cap, v->npleaves, sizeof(*p))) == NULL) {
			got = -1;
			break;
		}
		v->pleaves = p;
		memset(&v->pleaves[v->npleaves], 0, sizeof(*p));
		v->pleaves[v->npleaves++].seq = seq;
	}
	if (vregion_close(&g) != 0 || got < 0)
		return -1;
	if (v->npleaves > 0)
		qsort(v->pleaves, v->npleaves, sizeof(*v->pleaves), cmp_leaf);
	for (size_t i = 0; i < v->npleaves; i++) /* one per entry */
		if (k == 0 || v->pleaves[k - 1].seq != v->pleaves[i].seq)
			v->pleaves[k++] = v->pleaves[i];
	v->npleaves = k;
	return 0;
}

int verify_entries(struct vctx *v)
{
	struct pass s;
	struct region_hash h = {NULL, 0};
	mla_bundle_cursor *c;
	mla_bundle_record r;
	mla_diag d = {MLA_OK, ""};
	mla_err e = MLA_ERR_NOT_FOUND;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	mla_merkle_compact_init(&s.c);
	if (audit_msort_open(v) != 0)
		return -1;
	if (v->filtered) {
		if (xsort_init(&v->psort, sizeof(struct prow), sizeof(((struct prow *)0)->seq),
			       (size_t)1 << 20) != 0)
			return -1;
		v->have_psort = 1;
	}
	if (proof_leaves(v) != 0 || mla_merkle_hasher_new(&s.h) != MLA_OK)
		return -1;
	if ((c = malloc(sizeof(*c))) == NULL || region_begin(&h) != 0) {
		(void)region_end(&h, NULL);
		mla_merkle_hasher_free(s.h);
		free(c);
		return -1;
	}
	mla_bundle_cursor_init(c, v->f, v->b);
	for (uint64_t seq = 0; !v->broken && rc == 0 &&
			       (e = mla_bundle_cursor_next(c, &r, &d)) == MLA_OK; seq++) {
		region_add(&h, &r);
		rc = check_entry(v, &s, &r, seq);
	}
	if (rc == 0 && !v->broken && e != MLA_ERR_NOT_FOUND)
		file_changed(v, &d);
	if (rc == 0 && !v->broken)
		region_check(v, &h, "the first and the second");
	else
		(void)region_end(&h, NULL);
	mla_merkle_hasher_free(s.h);
	free(c);
	if (rc == 0 && v->have_cpt && cptab_flush(&v->cpt) != 0)
		v->tmp_failed = 1;
	return rc;
}

int audit_roots_at(const struct vctx *v, const uint64_t *sizes, size_t n, uint8_t (*roots)[32])
{
	mla_merkle_hasher *h = NULL;
	struct region_hash rh = {NULL, 0};
	mla_merkle_compact cr;
	mla_bundle_cursor *c = malloc(sizeof(*c));
	mla_bundle_record r;
	uint8_t leaf[32], got[32];
	size_t k = 0;
	int ok;

	mla_merkle_compact_init(&cr);
	ok = c != NULL && mla_merkle_hasher_new(&h) == MLA_OK && region_begin(&rh) == 0;
	if (c != NULL)
		mla_bundle_cursor_init(c, v->f, v->b);
	for (; ok && k < n && sizes[k] == 0; k++)
		ok = mla_merkle_compact_root(&cr, roots[k]) == MLA_OK;
	/* to the end, not to the largest size: the digest of the whole must be the first read's,
	 * or the roots are of other entries than those verified (-1) */
	while (ok && mla_bundle_cursor_next(c, &r, NULL) == MLA_OK) {
		region_add(&rh, &r);
		if (k == n)
			continue;
		ok = mla_merkle_hasher_leaf(h, r.data, r.len, leaf) == MLA_OK &&
		     mla_merkle_hasher_compact_append(h, &cr, leaf) == MLA_OK;
		for (; ok && k < n && sizes[k] == cr.size; k++)
			ok = mla_merkle_compact_root(&cr, roots[k]) == MLA_OK;
	}
	ok = region_end(&rh, got) == 0 && ok && v->have_entries_digest &&
	     memcmp(got, v->entries_digest, 32) == 0;
	mla_merkle_hasher_free(h);
	free(c);
	return ok && k == n ? 0 : -1;
}

int audit_entries_each(const struct vctx *v, int (*fn)(void *arg, const mla_bundle_record *r),
		       void *arg)
{
	struct region_hash h = {NULL, 0};
	mla_bundle_cursor *c = malloc(sizeof(*c));
	mla_bundle_record r;
	uint8_t got[32];
	mla_err e = MLA_ERR_NOT_FOUND;
	int rc = 0;

	if (c == NULL || region_begin(&h) != 0) {
		(void)region_end(&h, NULL);
		free(c);
		return -1;
	}
	mla_bundle_cursor_init(c, v->f, v->b);
	while (rc == 0 && (e = mla_bundle_cursor_next(c, &r, NULL)) == MLA_OK) {
		region_add(&h, &r);
		rc = fn(arg, &r) != 0 ? -1 : 0;
	}
	free(c);
	if (region_end(&h, got) != 0 || rc != 0)
		return -1;
	if (e != MLA_ERR_NOT_FOUND ||
	    (v->have_entries_digest && memcmp(got, v->entries_digest, 32) != 0))
		return 1;
	return 0;
}

int vregion_open(struct vctx *v, struct vregion *g, mla_bundle_type t)
{
	struct region_hash h = {NULL, 0};

	memset(g, 0, sizeof(*g));
	g->v = v;
	g->type = t;
	if ((g->c = malloc(sizeof(*g->c))) == NULL || region_begin(&h) != 0) {
		(void)region_end(&h, NULL);
		free(g->c);
		g->c = NULL;
		return -1;
	}
	g->hash = h.ctx;
	g->ok = 1;
	mla_bundle_cursor_init_type(g->c, v->f, v->b, t);
	return 0;
}

int vregion_next(struct vregion *g, mla_bundle_record *rec)
{
	struct region_hash h = {g->hash, g->ok};
	mla_diag d = {MLA_OK, ""};
	mla_err e;

	if (g->done)
		return 0;
	if ((e = mla_bundle_cursor_next(g->c, rec, &d)) != MLA_OK) {
		g->done = 1;
		if (e != MLA_ERR_NOT_FOUND) {
			file_changed(g->v, &d);
			g->short_read = 1; /* no digest to keep or compare */
		}
		return 0;
	}
	region_add(&h, rec);
	g->ok = h.ok;
	return 1;
}

int vregion_close(struct vregion *g)
{
	struct region_hash h = {g->hash, g->ok};
	struct vctx *v = g->v;
	uint8_t got[32];
	int hashed = region_end(&h, got) == 0;

	free(g->c);
	g->c = NULL;
	if (!g->done || g->short_read)
		return 0; /* stopped early, or the change is recorded already */
	if (!hashed)
		return -1;
	if (!v->have_region[g->type]) {
		memcpy(v->region_digest[g->type], got, 32);
		v->have_region[g->type] = 1;
	} else if (memcmp(got, v->region_digest[g->type], 32) != 0 && !v->broken) {
		vfail(v, F_BUNDLE, MLA_AUDIT_R_CONTAINER, MLA_BUNDLE_TYPE_N, "",
		      "malformed bundle: its %s records changed between two reads of the file",
		      mla_bundle_type_name(g->type));
		v->broken = 1;
	}
	return 0;
}

int audit_record_data(struct vctx *v, const mla_bundle_record *rec, enum vfam_id f,
		      mla_buf *out)
{
	mla_diag d = {MLA_OK, ""};

	if (mla_bundle_load(v->f, rec, out, &d) == MLA_OK)
		return 0;
	vfail(v, f, MLA_AUDIT_R_CONTAINER, rec->type, rec->name, "%s %s: %s",
	      mla_bundle_type_name(rec->type), rec->name, mla_diag_message(&d));
	return -1;
}

void audit_record_buf(mla_buf *b)
{
	mla_buf_init(b, mla_bundle_type_max(MLA_BUNDLE_ENVELOPE) + 1);
}

int audit_record_loaded(struct vctx *v, const mla_bundle_record *rec, enum vfam_id f,
			mla_buf *buf, mla_bundle_record *out)
{
	*out = *rec;
	if (rec->data != NULL)
		return 0; /* kept by the index */
	if (audit_record_data(v, rec, f, buf) != 0)
		return -1;
	out->data = buf->data;
	return 0;
}
