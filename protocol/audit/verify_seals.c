/* Audit bundle verification of messages sealed again (SPEC 13 Time, Re-sealing; SPEC 15 step
 * 11): each `resealed` entry's replaced seal is in the bundle as envelope <id>.<n> with the
 * refusal that replaced it as receipt <id>.<n>, both verify, the refusal is the receiver's
 * negative receipt over exactly that seal, the seal is the same message (Header equal but for
 * Created, the same signed Payload digest), and the message's entries follow one chain of
 * digests: submitted names the first seal, each sent the seal current at that point, each
 * resealed the seal it replaces, delivered and the bundle's envelope the last. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "mlagw/codec.h"
#include "verify_internal.h"

int audit_seal_name(const char *name)
{
	return strlen(name) == MLA_UUID_LEN + 2 && name[MLA_UUID_LEN] == '.' &&
	       name[MLA_UUID_LEN + 1] >= '1' && name[MLA_UUID_LEN + 1] <= '9';
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

int audit_resealed(const struct vctx *v, const char *id)
{
	return v->nresealed > 0 &&
	       bsearch(id, v->resealed, v->nresealed, sizeof(*v->resealed), cmp_id) != NULL;
}

static int cmp_env_key(const void *key, const void *rec)
{
	return strcmp(key, ((const struct venv *)rec)->rec->name);
}

static int cmp_rec_key(const void *key, const void *rec)
{
	return strcmp(key, ((const struct vrec *)rec)->rec->name);
}

/* One message's walk along its entries (seq order). */
struct walk {
	const char *id;
	int selected;
	const uint8_t *cur;   /* the seal current at this point; NULL before submitted */
	unsigned seals;	      /* resealed entries so far */
	int have_final;	      /* the bundle's envelope <id> verified: final below */
	mla_verified final;
};

#define SFAIL(v, f, t, name, ...) vfail(v, f, MLA_AUDIT_R_SEAL, t, name, __VA_ARGS__)

/* The seal envelope <id>.<n>: verifies, is the message, the digest the entry replaces, and
 * the same Header (but Created) and Payload as the bundle's envelope of the message. */
static void check_seal_envelope(struct vctx *v, struct walk *w, const struct ventry *e,
				const char *name)
{
	struct venv *x = v->nseal_envs ? bsearch(name, v->seal_envs, v->nseal_envs,
						 sizeof(*v->seal_envs), cmp_env_key)
				       : NULL;
	mla_limits at = audit_limits_at(v, w->id, 0);
	mla_diag d = {MLA_OK, ""};
	mla_verified out;
	mla_header h;
	mla_buf data;

	if (x == NULL) {
		if (w->selected)
			vfail(v, F_ENVELOPES, MLA_AUDIT_R_MISSING, MLA_BUNDLE_ENVELOPE, name,
			      "envelope %s: not in the bundle, though entry %llu (resealed) "
			      "replaced it", name, (unsigned long long)e->seq);
		return;
	}
	x->refs++;
	audit_record_buf(&data);
	if (audit_record_data(v, x->rec, F_ENVELOPES, &data) != 0) {
		mla_buf_free(&data);
		return;
	}
	SHA256(data.data, data.len, x->sha);
	if (memcmp(x->sha, audit_entry_extra(v, e)->sha, 32) != 0)
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_DIGEST, MLA_BUNDLE_ENVELOPE, name,
		      "envelope %s: its SHA-256 is not the prev-envelope-sha256 of entry %llu",
		      name, (unsigned long long)e->seq);
	else if (mla_envelope_verify(data.data, data.len, v->trust->trust, &at, &out, &d) != MLA_OK)
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_ENVELOPE_INVALID, MLA_BUNDLE_ENVELOPE, name,
		      "envelope %s: does not verify: %s", name, mla_diag_message(&d));
	else if (strcmp(out.header.message_id, w->id) != 0)
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_MESSAGE_ID, MLA_BUNDLE_ENVELOPE, name,
		      "envelope %s: holds message %s", name, out.header.message_id);
	else if (w->have_final &&
		 ((h = out.header, h.created = w->final.header.created,
		   memcmp(&h, &w->final.header, sizeof(h)) != 0) ||
		  memcmp(out.payload_digest, w->final.payload_digest, 32) != 0))
		SFAIL(v, F_ENVELOPES, MLA_BUNDLE_ENVELOPE, name,
		      "envelope %s: not a seal of the message's envelope (its Header differs "
		      "in more than Created, or its Payload)", name);
	else
		x->verified = 1;
	mla_buf_free(&data);
}

/* The refusal receipt <id>.<n>: the one the entry names, a verified negative receipt of the
 * entry's recipient for this message over the replaced seal, with the entry's error. */
static void check_seal_receipt(struct vctx *v, struct walk *w, const struct ventry *e,
			       const char *name)
{
	struct vrec *x = v->nseal_recs ? bsearch(name, v->seal_recs, v->nseal_recs,
						 sizeof(*v->seal_recs), cmp_rec_key)
				       : NULL;
	mla_limits at = audit_limits_at(v, w->id, 0);
	mla_diag d = {MLA_OK, ""};
	mla_buf data;
	mla_receipt r;
	const struct vextra *xe = audit_entry_extra(v, e);

	if (x == NULL) {
		if (w->selected)
			vfail(v, F_RECEIPTS, MLA_AUDIT_R_MISSING, MLA_BUNDLE_RECEIPT, name,
			      "receipt %s: not in the bundle, though entry %llu (resealed) "
			      "names it", name, (unsigned long long)e->seq);
		return;
	}
	x->refs++;
	audit_record_buf(&data);
	if (audit_record_data(v, x->rec, F_RECEIPTS, &data) != 0) {
		mla_buf_free(&data);
		return;
	}
	SHA256(data.data, data.len, x->sha);
	memset(&r, 0, sizeof(r));
	if (memcmp(x->sha, e->receipt_sha256, 32) != 0)
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_DIGEST, MLA_BUNDLE_RECEIPT, name,
		      "receipt %s: its SHA-256 is not the receipt-sha256 of entry %llu", name,
		      (unsigned long long)e->seq);
	else if (mla_receipt_verify(data.data, data.len, v->trust->trust, &at, &r, &d) != MLA_OK)
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_RECEIPT_INVALID, MLA_BUNDLE_RECEIPT, name,
		      "receipt %s: does not verify: %s", name, mla_diag_message(&d));
	else if (mla_receipt_match(&r, e->to, w->id, xe->sha, &d) != MLA_OK)
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_RECEIPT_MATCH, MLA_BUNDLE_RECEIPT, name,
		      "receipt %s: not %s's receipt over the replaced seal: %s", name, e->to,
		      mla_diag_message(&d));
	else if (r.outcome != MLA_OUTCOME_REJECTED || strcmp(mla_errname(r.error), xe->error) != 0)
		SFAIL(v, F_RECEIPTS, MLA_BUNDLE_RECEIPT, name,
		      "receipt %s: not a refusal for %s, the error entry %llu names", name,
		      xe->error, (unsigned long long)e->seq);
	else
		x->verified = 1;
	mla_buf_free(&data);
}

/* One entry of a message sealed again, along the chain. */
static void walk_entry(struct vctx *v, struct walk *w, const struct ventry *e)
{
	char name[MLA_UUID_LEN + 8];
	const char *ev = mla_audit_event_name(e->event);

	/* an answer is submitted as answered: either entry names the first seal */
	if ((e->event == MLA_AUDIT_SUBMITTED || e->event == MLA_AUDIT_ANSWERED) &&
	    e->has_envelope_sha256 && w->cur == NULL) {
		w->cur = e->envelope_sha256;
	} else if (e->event == MLA_AUDIT_RESEALED) {
		w->seals++;
		/* looked up only for seals 1 to 9, which fit; a count past them may be cut */
		(void)mla_snprintf_cut(name, sizeof(name), "%s.%u", w->id, w->seals);
		if (w->cur != NULL && memcmp(w->cur, audit_entry_extra(v, e)->sha, 32) != 0)
			vfailn(v, F_ENVELOPES, MLA_AUDIT_R_SEAL, MLA_BUNDLE_ENTRY, e->seq,
			       "entry %llu (resealed, message %s): replaces a seal that was not "
			       "the current one", (unsigned long long)e->seq, w->id);
		if (w->seals > 9)
			vfailn(v, F_ENVELOPES, MLA_AUDIT_R_SEAL, MLA_BUNDLE_ENTRY, e->seq,
			       "entry %llu (resealed, message %s): more than 9 seals",
			       (unsigned long long)e->seq, w->id);
		else {
			check_seal_envelope(v, w, e, name);
			check_seal_receipt(v, w, e, name);
		}
		w->cur = e->envelope_sha256;
	} else if ((e->event == MLA_AUDIT_SENT || e->event == MLA_AUDIT_DELIVERED) &&
		   e->has_envelope_sha256 && w->cur != NULL &&
		   memcmp(w->cur, e->envelope_sha256, 32) != 0) {
		vfailn(v, F_ENVELOPES, MLA_AUDIT_R_SEAL, MLA_BUNDLE_ENTRY, e->seq,
		       "entry %llu (%s, message %s): names a seal other than the current one",
		       (unsigned long long)e->seq, ev, w->id);
	}
}

/* Entries of the messages sealed again, grouped by message in seq order. */
static int cmp_entry_by_message(const void *a, const void *b)
{
	const struct ventry *x = *(const struct ventry *const *)a;
	const struct ventry *y = *(const struct ventry *const *)b;
	int c = strcmp(x->message_id, y->message_id);

	return c != 0 ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* The bundle's envelope <id> as verified, for comparing seals with it. */
static void load_final(struct vctx *v, struct walk *w)
{
	const struct venv *x = v->nenvs ? bsearch(w->id, v->envs, v->nenvs, sizeof(*v->envs),
						  cmp_env_key)
					: NULL;
	mla_limits at = audit_limits_at(v, w->id, 0);
	mla_diag d = {MLA_OK, ""};
	mla_buf data;

	audit_record_buf(&data);
	w->have_final = x != NULL && x->verified &&
			audit_record_data(v, x->rec, F_ENVELOPES, &data) == 0 &&
			mla_envelope_verify(data.data, data.len, v->trust->trust, &at, &w->final,
					    &d) == MLA_OK;
	mla_buf_free(&data);
}

static void walk_message(struct vctx *v, const struct ventry *const *es, size_t n)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	w.id = es[0]->message_id;
	w.selected = audit_selected(v, w.id);
	load_final(v, &w);
	for (size_t i = 0; i < n; i++)
		walk_entry(v, &w, es[i]);
	if (w.have_final && w.cur != NULL && memcmp(w.cur, w.final.digest, 32) != 0)
		SFAIL(v, F_ENVELOPES, MLA_BUNDLE_ENVELOPE, w.id,
		      "envelope %s: not the last seal its entries name", w.id);
}

/* Every seal record must be one a resealed entry replaced. */
static void count_seal_records(struct vctx *v)
{
	for (size_t i = 0; i < v->nseal_envs; i++)
		if (v->seal_envs[i].refs == 0)
			vfail(v, F_ENVELOPES, MLA_AUDIT_R_UNREFERENCED, MLA_BUNDLE_ENVELOPE,
			      v->seal_envs[i].rec->name, "envelope %s: no resealed entry replaced "
			      "it", v->seal_envs[i].rec->name);
		else if (v->seal_envs[i].verified)
			v->fam[F_ENVELOPES].ok++;
	for (size_t i = 0; i < v->nseal_recs; i++)
		if (v->seal_recs[i].refs == 0)
			vfail(v, F_RECEIPTS, MLA_AUDIT_R_UNREFERENCED, MLA_BUNDLE_RECEIPT,
			      v->seal_recs[i].rec->name, "receipt %s: no resealed entry names it",
			      v->seal_recs[i].rec->name);
		else if (v->seal_recs[i].verified)
			v->fam[F_RECEIPTS].ok++;
}

int verify_seals(struct vctx *v)
{
	const struct ventry **es;
	size_t n = 0;

	if (v->nresealed == 0) {
		count_seal_records(v);
		return 0;
	}
	if ((es = calloc(v->nkept + 1, sizeof(*es))) == NULL)
		return -1;
	for (size_t i = 0; i < v->nkept; i++)
		if (v->entries[i].message_id[0] != '\0' &&
		    audit_resealed(v, v->entries[i].message_id))
			es[n++] = &v->entries[i];
	qsort(es, n, sizeof(*es), cmp_entry_by_message);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(es[j]->message_id, es[i]->message_id) == 0; j++)
			;
		walk_message(v, es + i, j - i);
	}
	free(es);
	count_seal_records(v);
	return 0;
}
