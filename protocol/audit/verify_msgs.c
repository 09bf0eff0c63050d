/* Audit bundle verification, the messages' checks: each envelope and receipt verifies with the
 * States' roots and is the one its entries name (SHA-256), receipts match their envelopes, and
 * every delivered entry has the recipient State's positive receipt over the same digest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "verify_internal.h"

static int cmp_name(const void *key, const void *rec)
{
	return strcmp(key, ((const struct venv *)rec)->rec->name);
}

static int cmp_rname(const void *key, const void *rec)
{
	return strcmp(key, ((const struct vrec *)rec)->rec->name);
}

static struct venv *env_of(const struct vctx *v, const char *id)
{
	return v->nenvs ? bsearch(id, v->envs, v->nenvs, sizeof(*v->envs), cmp_name) : NULL;
}

static struct vrec *rec_of(const struct vctx *v, const char *id)
{
	return v->nrecs ? bsearch(id, v->recs, v->nrecs, sizeof(*v->recs), cmp_rname) : NULL;
}

/* The events whose envelope-sha256 is the stored envelope's, and whose envelope and receipt
 * the bundle must hold (a rejected duplicate may name other bytes under the same id, and a
 * refused envelope is not stored). An answer is sent like a submission: answered, not
 * submitted, is its first entry. */
static int names_stored_envelope(mla_audit_event ev)
{
	return ev == MLA_AUDIT_SUBMITTED || ev == MLA_AUDIT_ANSWERED || ev == MLA_AUDIT_SENT ||
	       ev == MLA_AUDIT_DELIVERED || ev == MLA_AUDIT_RECEIVED || ev == MLA_AUDIT_RECOVERED;
}

/* The events that may name an earlier seal of a message sealed again (verify_seals.c). */
static int may_name_earlier_seal(mla_audit_event ev)
{
	return ev == MLA_AUDIT_SUBMITTED || ev == MLA_AUDIT_ANSWERED || ev == MLA_AUDIT_SENT;
}

/* Whether an entry obliges the bundle to hold a record: built only then, so that a log-only
 * bundle of config entries need not sort its entries' message ids. */
static int owes_records(const struct vctx *v)
{
	for (size_t i = 0; i < v->nkept; i++)
		if (v->entries[i].message_id[0] != '\0' && names_stored_envelope(v->entries[i].event))
			return 1;
	return 0;
}

/* bsearch's key is a message id string, not a struct vtime. */
static int cmp_time_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct vtime *)elem)->id);
}

/* Kept entries by message id (pointers: 8 bytes an entry, not a vtime's 64). */
static int cmp_entry_id(const void *a, const void *b)
{
	return strcmp((*(const struct ventry *const *)a)->message_id,
		      (*(const struct ventry *const *)b)->message_id);
}

/* The kept entries that name a message, sorted by its id, into *out: their count, or -1. */
static long entries_by_id(const struct vctx *v, const struct ventry ***out)
{
	const struct ventry **p = calloc(v->nkept ? v->nkept : 1, sizeof(*p));
	size_t n = 0;

	if ((*out = p) == NULL)
		return -1;
	for (size_t i = 0; i < v->nkept; i++)
		if (v->entries[i].message_id[0] != '\0')
			p[n++] = &v->entries[i];
	qsort(p, n, sizeof(*p), cmp_entry_id);
	return (long)n;
}

/* One vtime per message id of the entries: the earliest and latest entry times. */
static int build_times(struct vctx *v)
{
	const struct ventry **by_id;
	long n = entries_by_id(v, &by_id);
	size_t ids = 0;

	for (long i = 0; i < n; i++)
		ids += i == 0 || strcmp(by_id[i - 1]->message_id, by_id[i]->message_id) != 0;
	if (n < 0 || (v->times = calloc(ids ? ids : 1, sizeof(*v->times))) == NULL) {
		free(by_id);
		return -1;
	}
	v->ntimes = 0;
	for (long i = 0; i < n; i++) {
		const struct ventry *e = by_id[i];
		struct vtime *t = v->ntimes ? &v->times[v->ntimes - 1] : NULL;

		if (t != NULL && strcmp(t->id, e->message_id) == 0) {
			if (e->time_ms < t->first_ms)
				t->first_ms = e->time_ms;
			if (e->time_ms > t->last_ms)
				t->last_ms = e->time_ms;
			continue;
		}
		t = &v->times[v->ntimes++];
		memcpy(t->id, e->message_id, sizeof(t->id));
		t->first_ms = t->last_ms = e->time_ms;
	}
	free(by_id);
	return 0;
}

/* Limits whose verification time is when the message was (first or last) recorded. */
mla_limits audit_limits_at(const struct vctx *v, const char *id, int last)
{
	mla_limits l = v->limits;
	const struct vtime *t = v->ntimes ? bsearch(id, v->times, v->ntimes, sizeof(*v->times),
						    cmp_time_key)
					  : NULL;

	if (t != NULL)
		l.verify_time = (time_t)((last ? t->last_ms : t->first_ms) / 1000);
	return l;
}

static void check_one_envelope(struct vctx *v, struct venv *x, int in_order, mla_buf *data)
{
	mla_diag d = {MLA_OK, ""};
	mla_verified out;
	mla_limits at = audit_limits_at(v, x->rec->name, 0);

	if (audit_record_data(v, x->rec, F_ENVELOPES, data) != 0)
		return;
	SHA256(data->data, data->len, x->sha);
	if (!in_order)
		return; /* refused for that alone */
	if (mla_envelope_verify(data->data, data->len, v->trust->trust, &at, &out, &d) != MLA_OK)
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_ENVELOPE_INVALID, MLA_BUNDLE_ENVELOPE,
		      x->rec->name, "envelope %s: does not verify: %s", x->rec->name,
		      mla_diag_message(&d));
	else if (strcmp(out.header.message_id, x->rec->name) != 0)
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_MESSAGE_ID, MLA_BUNDLE_ENVELOPE, x->rec->name,
		      "envelope %s: holds message %s", x->rec->name,
		      out.header.message_id);
	else {
		x->verified = 1;
		memcpy(x->to_state, out.header.to_state, 3);
	}
}

/* Whether the bundle holds an envelope or a receipt, the only records judged by time. */
static int holds_messages(const struct vctx *v)
{
	return v->b->count[MLA_BUNDLE_ENVELOPE] > 0 || v->b->count[MLA_BUNDLE_RECEIPT] > 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Whether the bundle must hold what id's entries record: always when unfiltered. */
int audit_selected(const struct vctx *v, const char *id)
{
	return !v->filtered ||
	       (v->nselected > 0 &&
		bsearch(id, v->selected, v->nselected, sizeof(*v->selected), cmp_id) != NULL);
}

/* In a filtered bundle, a message its filter does not select is not one export wrote. */
static void check_selected(struct vctx *v, const char *what, const char *id)
{
	if (!audit_selected(v, id))
		vfail(v, what[0] == 'e' ? F_ENVELOPES : F_RECEIPTS, MLA_AUDIT_R_NOT_SELECTED,
		      what[0] == 'e' ? MLA_BUNDLE_ENVELOPE : MLA_BUNDLE_RECEIPT, id,
		      "%s %s: not a message the bundle's filter selects", what, id);
}

/* A record of an earlier seal (<id>.<n>) is set apart for verify_seals; only format 3 has
 * them. Whether rec was one. */
static int set_seal_apart(struct vctx *v, const mla_bundle_record *rec, const char *what)
{
	int env = what[0] == 'e';

	if (!audit_seal_name(rec->name))
		return 0;
	if (v->b->format < 3)
		vfail(v, env ? F_ENVELOPES : F_RECEIPTS, MLA_AUDIT_R_SEAL, rec->type, rec->name,
		      "%s %s: an earlier seal's record in a format %u bundle (format 3 has them)",
		      what, rec->name, v->b->format);
	if (env)
		v->seal_envs[v->nseal_envs++].rec = rec;
	else
		v->seal_recs[v->nseal_recs++].rec = rec;
	return 1;
}

/* Records of type t in ascending names, the earlier seals' included: 0 when rec is not. */
static int check_order(struct vctx *v, const mla_bundle_record *prev,
		       const mla_bundle_record *rec, const char *what)
{
	if (prev == NULL || strcmp(prev->name, rec->name) < 0)
		return 1;
	vfail(v, what[0] == 'e' ? F_ENVELOPES : F_RECEIPTS, MLA_AUDIT_R_ORDER, rec->type,
	      rec->name, "%s %s: duplicated or out of order", what, rec->name);
	return 0;
}

/* Slots for the bundle's records of type t (at least one: calloc(0) may give NULL). */
static size_t records_of(const struct vctx *v, mla_bundle_type t)
{
	size_t n = v->b->count[t] < v->b->n ? (size_t)v->b->count[t] : v->b->n;

	return n > 0 ? n : 1;
}

int verify_envelopes(struct vctx *v)
{
	const mla_bundle_record *prev = NULL;
	mla_buf data;

	v->envs = calloc(records_of(v, MLA_BUNDLE_ENVELOPE), sizeof(*v->envs));
	v->seal_envs = calloc(records_of(v, MLA_BUNDLE_ENVELOPE), sizeof(*v->seal_envs));
	/* a log-only bundle needs no times: skip sorting message ids */
	if (v->envs == NULL || v->seal_envs == NULL ||
	    ((holds_messages(v) || owes_records(v)) && build_times(v) != 0))
		return -1;
	audit_record_buf(&data);
	for (size_t i = 0; i < v->b->n; i++) {
		const mla_bundle_record *rec = &v->b->rec[i];

		if (rec->type != MLA_BUNDLE_ENVELOPE)
			continue;
		int in_order = check_order(v, prev, rec, "envelope");

		prev = rec;
		if (set_seal_apart(v, rec, "envelope"))
			continue;
		v->envs[v->nenvs].rec = rec;
		check_selected(v, "envelope", rec->name);
		check_one_envelope(v, &v->envs[v->nenvs], in_order, &data);
		v->nenvs++;
	}
	mla_buf_free(&data);
	for (size_t i = 0; i < v->nkept; i++) {
		const struct ventry *e = &v->entries[i];
		struct venv *x;

		if (!e->has_envelope_sha256 || e->message_id[0] == '\0' ||
		    (x = env_of(v, e->message_id)) == NULL)
			continue;
		if (memcmp(x->sha, e->envelope_sha256, 32) == 0)
			x->refs++;
		else if (names_stored_envelope(e->event) &&
			 !(may_name_earlier_seal(e->event) &&
			   audit_resealed(v, e->message_id))) /* an earlier seal: verify_seals */
			vfail(v, F_ENVELOPES, MLA_AUDIT_R_DIGEST, MLA_BUNDLE_ENVELOPE, e->message_id,
			      "envelope %s: its SHA-256 differs from the "
			      "envelope-sha256 of entry %llu (%s)", e->message_id,
			      (unsigned long long)e->seq, mla_audit_event_name(e->event));
	}
	for (size_t i = 0; i < v->nenvs; i++) {
		if (v->envs[i].refs == 0)
			vfail(v, F_ENVELOPES, MLA_AUDIT_R_UNREFERENCED, MLA_BUNDLE_ENVELOPE,
			      v->envs[i].rec->name, "envelope %s: no entry names its SHA-256",
			      v->envs[i].rec->name);
		else if (v->envs[i].verified)
			v->fam[F_ENVELOPES].ok++;
	}
	return 0;
}

/* What later checks use of a parsed receipt (struct vreceipt). */
void audit_receipt_keep(struct vreceipt *out, const mla_receipt *r)
{
	memcpy(out->envelope_digest, r->envelope_digest, 32);
	memcpy(out->receiver_state, r->receiver_state, sizeof(out->receiver_state));
	out->outcome = r->outcome;
	out->error = r->error;
}

static void check_one_receipt(struct vctx *v, struct vrec *x, int in_order, mla_buf *data)
{
	mla_diag d = {MLA_OK, ""};
	mla_limits at = audit_limits_at(v, x->rec->name, 1);
	const struct venv *env;
	mla_receipt r;

	if (audit_record_data(v, x->rec, F_RECEIPTS, data) != 0)
		return;
	SHA256(data->data, data->len, x->sha);
	if (!in_order)
		return; /* refused for that alone */
	memset(&r, 0, sizeof(r));
	if (mla_receipt_verify(data->data, data->len, v->trust->trust, &at, &r, &d) != MLA_OK)
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_RECEIPT_INVALID, MLA_BUNDLE_RECEIPT, x->rec->name,
		      "receipt %s: does not verify: %s", x->rec->name,
		      mla_diag_message(&d));
	else if (strcmp(r.message_id, x->rec->name) != 0)
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_MESSAGE_ID, MLA_BUNDLE_RECEIPT, x->rec->name,
		      "receipt %s: is the receipt of message %s", x->rec->name,
		      r.message_id[0] ? r.message_id : "(none)");
	else if ((env = env_of(v, x->rec->name)) != NULL && env->verified &&
		 mla_receipt_match(&r, env->to_state, x->rec->name, env->sha, &d) != MLA_OK)
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_RECEIPT_MATCH, MLA_BUNDLE_RECEIPT, x->rec->name,
		      "receipt %s: does not match its envelope: %s", x->rec->name,
		      mla_diag_message(&d));
	else
		x->verified = 1;
	audit_receipt_keep(&x->r, &r);
}

/* The message's vtime (one per message id of the entries), or NULL. */
static struct vtime *time_of(const struct vctx *v, const char *id)
{
	return v->ntimes ? bsearch(id, v->times, v->ntimes, sizeof(*v->times), cmp_time_key)
			 : NULL;
}

/* What the gateway stored and export includes (SPEC section 15 Export) must be there: the
 * envelope every submitted, answered, sent, delivered or received entry names and the receipt
 * every such entry names, and the receipt a received entry records as issued; in every
 * unfiltered bundle, and in a filtered one for the messages its filter selects, recomputed
 * from the entries (a filter selects whole messages, so one cannot be left out by adding a
 * filter that still selects it). Reported once per message and record, at its first entry;
 * a delivered entry's receipt is step 10's (verify_delivered). Whether an earlier seal a
 * sent names is held is verify_seals's. */
static void check_held(struct vctx *v, const struct ventry *e)
{
	unsigned long long i = (unsigned long long)e->seq;
	int env = env_of(v, e->message_id) != NULL, rec = rec_of(v, e->message_id) != NULL;
	struct vtime *t = time_of(v, e->message_id);
	const char *ev = mla_audit_event_name(e->event);

	if (!names_stored_envelope(e->event) || !audit_selected(v, e->message_id) || t == NULL)
		return;
	if (!env && e->has_envelope_sha256 && !(t->reported & 1)) {
		t->reported |= 1;
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_MISSING, MLA_BUNDLE_ENVELOPE, e->message_id,
		      "envelope %s: not in the bundle, though entry %llu (%s) names it",
		      e->message_id, i, ev);
	}
	/* a delivered or recovered entry's receipt: step 10 (verify_delivered) */
	if (!rec && e->event != MLA_AUDIT_DELIVERED && e->event != MLA_AUDIT_RECOVERED &&
	    !(t->reported & 2) &&
	    (e->has_receipt_sha256 || e->event == MLA_AUDIT_RECEIVED)) {
		t->reported |= 2;
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_MISSING, MLA_BUNDLE_RECEIPT, e->message_id,
		      "receipt %s: not in the bundle, though entry %llu (%s) names it",
		      e->message_id, i, ev);
	}
}

int verify_receipts(struct vctx *v)
{
	const mla_bundle_record *prev = NULL;
	mla_buf data;

	v->recs = calloc(records_of(v, MLA_BUNDLE_RECEIPT), sizeof(*v->recs));
	v->seal_recs = calloc(records_of(v, MLA_BUNDLE_RECEIPT), sizeof(*v->seal_recs));
	if (v->recs == NULL || v->seal_recs == NULL)
		return -1;
	audit_record_buf(&data);
	for (size_t i = 0; i < v->b->n; i++) {
		const mla_bundle_record *rec = &v->b->rec[i];

		if (rec->type != MLA_BUNDLE_RECEIPT)
			continue;
		int in_order = check_order(v, prev, rec, "receipt");

		prev = rec;
		if (set_seal_apart(v, rec, "receipt"))
			continue;
		v->recs[v->nrecs].rec = rec;
		check_selected(v, "receipt", rec->name);
		check_one_receipt(v, &v->recs[v->nrecs], in_order, &data);
		v->nrecs++;
	}
	mla_buf_free(&data);
	for (size_t i = 0; i < v->nkept; i++) {
		const struct ventry *e = &v->entries[i];
		struct vrec *x;

		if (e->message_id[0] != '\0')
			check_held(v, e);
		if (!e->has_receipt_sha256 || e->message_id[0] == '\0' ||
		    (x = rec_of(v, e->message_id)) == NULL || memcmp(x->sha, e->receipt_sha256, 32))
			continue;
		x->refs++;
		if (x->verified && e->has_envelope_sha256 &&
		    memcmp(x->r.envelope_digest, e->envelope_sha256, 32) != 0) {
			vfail(v, F_RECEIPTS, MLA_AUDIT_R_DIGEST, MLA_BUNDLE_RECEIPT, e->message_id,
			      "receipt %s: its envelope digest is not the "
			      "envelope-sha256 of entry %llu", e->message_id,
			      (unsigned long long)e->seq);
			x->verified = 0;
		}
	}
	for (size_t i = 0; i < v->nrecs; i++) {
		if (v->recs[i].refs == 0)
			vfail(v, F_RECEIPTS, MLA_AUDIT_R_UNREFERENCED, MLA_BUNDLE_RECEIPT,
			      v->recs[i].rec->name, "receipt %s: its SHA-256 is not the receipt-sha256 of "
			      "any entry of that message", v->recs[i].rec->name);
		else if (v->recs[i].verified)
			v->fam[F_RECEIPTS].ok++;
	}
	return 0;
}

int verify_delivered(struct vctx *v)
{
	for (size_t k = 0; k < v->nkept; k++) {
		const struct ventry *e = &v->entries[k];
		unsigned long long i = (unsigned long long)e->seq;
		const struct vrec *x;

		/* a recovered message was given back with the recipient's positive receipt
		 * (SPEC 14, Recovery): the same proof as a delivery, whichever way it went */
		if (e->event != MLA_AUDIT_DELIVERED && e->event != MLA_AUDIT_RECOVERED)
			continue;
		x = rec_of(v, e->message_id);
		if (x == NULL && !audit_selected(v, e->message_id))
			continue; /* a message the filter left out */
		if (x == NULL)
			vfailn(v, F_DELIVERED, MLA_AUDIT_R_MISSING, MLA_BUNDLE_ENTRY, i,
			       "entry %llu (%s, message %s): no receipt in the "
			      "bundle", i, mla_audit_event_name(e->event), e->message_id);
		else if (!e->has_receipt_sha256 || memcmp(x->sha, e->receipt_sha256, 32) != 0)
			vfailn(v, F_DELIVERED, MLA_AUDIT_R_DIGEST, MLA_BUNDLE_ENTRY, i,
			       "entry %llu (%s, message %s): the receipt in the "
			      "bundle is not the one it names", i, mla_audit_event_name(e->event),
			       e->message_id);
		else if (!x->verified || x->r.outcome != MLA_OUTCOME_ACCEPTED ||
			 strcmp(x->r.receiver_state, e->to) != 0 || !e->has_envelope_sha256 ||
			 memcmp(x->r.envelope_digest, e->envelope_sha256, 32) != 0)
			vfailn(v, F_DELIVERED, MLA_AUDIT_R_DELIVERED, MLA_BUNDLE_ENTRY, i,
			       "entry %llu (%s, message %s): no verified "
			      "positive receipt of %s over the envelope's digest", i,
			       mla_audit_event_name(e->event), e->message_id, e->to);
		else
			v->fam[F_DELIVERED].ok++;
	}
	return 0;
}
