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

/* One message's walk along its entries (seq order). */
struct walk {
	struct vgroup *g;
	const char *id;
	int selected;
	const uint8_t *cur;   /* the seal current at this point (cur_buf); NULL before submitted */
	uint8_t cur_buf[32];
	unsigned seals;	      /* resealed entries so far */
	int have_final;	      /* the bundle's envelope <id> verified: final below */
	mla_verified final;
};

#define SFAIL(v, f, t, name, ...) vfail(v, f, MLA_AUDIT_R_SEAL, t, name, __VA_ARGS__)

/* Record x of the message (named name) as a record to read. */
static void seal_record(const struct gslot *x, mla_bundle_type t, const char *name,
			mla_bundle_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->type = t;
	rec->offset = (size_t)x->offset;
	rec->len = (size_t)x->len;
	mla_require(mla_strcpy(rec->name, sizeof(rec->name), name) == MLA_OK);
}

/* The seal envelope <id>.<n>: verifies, is the message, the digest the entry replaces, and
 * the same Header (but Created) and Payload as the bundle's envelope of the message. */
static void check_seal_envelope(struct vctx *v, struct walk *w, const struct ventry *e,
				const char *name, unsigned n)
{
	struct gslot *x = w->g->senv[n - 1].have ? &w->g->senv[n - 1] : NULL;
	mla_limits at = audit_limits_at(v, w->g, 0);
	mla_diag d = {MLA_OK, ""};
	mla_bundle_record rec;
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
	seal_record(x, MLA_BUNDLE_ENVELOPE, name, &rec);
	audit_record_buf(&data);
	if (audit_record_data(v, &rec, F_ENVELOPES, &data) != 0) {
		mla_buf_free(&data);
		return;
	}
	SHA256(data.data, data.len, x->sha);
	if (memcmp(x->sha, audit_entry_extra(v, e)->sha, 32) != 0)
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_DIGEST, MLA_BUNDLE_ENVELOPE, name,
		      "envelope %s: its SHA-256 is not the prev-envelope-sha256 of entry %llu",
		      name, (unsigned long long)e->seq);
	else if (audit_envelope_verify(&data, v->trust->trust, &at, &out, &d) != MLA_OK)
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
			       const char *name, unsigned n)
{
	struct gslot *x = w->g->srec[n - 1].have ? &w->g->srec[n - 1] : NULL;
	mla_limits at = audit_limits_at(v, w->g, 0);
	mla_diag d = {MLA_OK, ""};
	mla_bundle_record rec;
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
	seal_record(x, MLA_BUNDLE_RECEIPT, name, &rec);
	audit_record_buf(&data);
	if (audit_record_data(v, &rec, F_RECEIPTS, &data) != 0) {
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
		w->cur = memcpy(w->cur_buf, e->envelope_sha256, 32);
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
			check_seal_envelope(v, w, e, name, w->seals);
			check_seal_receipt(v, w, e, name, w->seals);
		}
		w->cur = memcpy(w->cur_buf, e->envelope_sha256, 32);
	} else if ((e->event == MLA_AUDIT_SENT || e->event == MLA_AUDIT_DELIVERED) &&
		   e->has_envelope_sha256 && w->cur != NULL &&
		   memcmp(w->cur, e->envelope_sha256, 32) != 0) {
		vfailn(v, F_ENVELOPES, MLA_AUDIT_R_SEAL, MLA_BUNDLE_ENTRY, e->seq,
		       "entry %llu (%s, message %s): names a seal other than the current one",
		       (unsigned long long)e->seq, ev, w->id);
	}
}

/* The bundle's envelope <id> as verified, for comparing seals with it. */
static void load_final(struct vctx *v, struct walk *w)
{
	const struct gslot *x = w->g->env.have ? &w->g->env : NULL;
	mla_limits at = audit_limits_at(v, w->g, 0);
	mla_diag d = {MLA_OK, ""};
	mla_bundle_record rec;
	mla_buf data;

	if (x == NULL || !x->verified)
		return;
	seal_record(x, MLA_BUNDLE_ENVELOPE, w->id, &rec);
	audit_record_buf(&data);
	w->have_final = audit_record_data(v, &rec, F_ENVELOPES, &data) == 0 &&
			audit_envelope_verify(&data, v->trust->trust, &at, &w->final, &d) == MLA_OK;
	mla_buf_free(&data);
}

int audit_seals_walk(struct vctx *v, struct vgroup *g)
{
	struct walk w;
	struct mrow r;
	struct ventry e;

	memset(&w, 0, sizeof(w));
	w.g = g;
	w.id = g->id;
	w.selected = audit_selected(v, w.id);
	vdefer_at(v, P_SEALS, g->index, 0, 0);
	load_final(v, &w);
	for (uint64_t i = g->first; i < g->entries_end; i++) {
		const struct mrow *p = xsort_row(&v->msort, i);

		if (p == NULL) {
			v->tmp_failed = 1;
			return -1;
		}
		r = *p;
		audit_row_entry(&r, &e);
		vdefer_at(v, P_SEALS, g->index, e.seq + 1, 0);
		walk_entry(v, &w, &e);
	}
	vdefer_at(v, P_SEALS, g->index, UINT64_MAX, 0);
	if (w.have_final && w.cur != NULL && memcmp(w.cur, w.final.digest, 32) != 0)
		SFAIL(v, F_ENVELOPES, MLA_BUNDLE_ENVELOPE, w.id,
		      "envelope %s: not the last seal its entries name", w.id);
	return 0;
}
