/* Audit bundle verification, the messages' checks (SPEC 15 steps 8 to 11): each envelope and
 * receipt verifies with the States' roots and is the one its entries name (SHA-256), receipts
 * match their envelopes, every delivered entry has the recipient State's positive receipt over
 * the same digest, and the earlier seals of messages sealed again (verify_seals.c). Entries,
 * envelopes and receipts are joined by message in a sort on disk (verify_xsort.c), so memory
 * does not grow with the messages; the failures, found message by message, are deferred with
 * the place the steps find them at and listed in that order (vdefer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "mlagw/codec.h"
#include "verify_internal.h"

#define MSORT_MEM ((size_t)16 << 20) /* rows of one sorted run in memory */

/* The memory of the sort's runs: MSORT_MEM, or MLAGW_VERIFY_SORT_MEM bytes (from 4 KiB to
 * 1 GiB; the tests make runs small to see that nothing else grows with the messages, and
 * to make a small bundle spill to disk). */
size_t audit_sort_mem(void)
{
	const char *s = getenv("MLAGW_VERIFY_SORT_MEM");
	uint64_t n;

	if (s == NULL || mla_parse_u64(s, (uint64_t)4 << 10, (uint64_t)1 << 30, &n) != MLA_OK)
		return MSORT_MEM;
	return (size_t)n;
}

int audit_msort_open(struct vctx *v)
{
	if (xsort_init(&v->msort, sizeof(struct mrow), MROW_KEY, audit_sort_mem()) != 0)
		return -1;
	v->have_msort = 1;
	return 0;
}

int audit_msort_entry(struct vctx *v, const mla_audit_entry *e)
{
	struct mrow r;

	_Static_assert(sizeof(r.name) >= sizeof(e->message_id) && sizeof(r.to) == sizeof(e->to),
		       "a row holds an entry's id and recipient");
	memset(&r, 0, sizeof(r));
	memcpy(r.name, e->message_id, sizeof(e->message_id));
	r.kind = MR_ENTRY;
	xsort_put_be64(r.pos, e->seq);
	r.event = (uint8_t)e->event;
	r.flags = (uint8_t)((e->has_envelope_sha256 ? MRF_ENV : 0) |
			    (e->has_receipt_sha256 ? MRF_REC : 0) |
			    (e->attachments[0] != '\0' ? MRF_ATT : 0));
	if (e->attachments[0] != '\0')
		SHA256((const uint8_t *)e->attachments, strlen(e->attachments), r.u.e.att);
	memcpy(r.to, e->to, sizeof(r.to));
	r.time_ms = e->time_ms;
	memcpy(r.u.e.env, e->envelope_sha256, 32);
	memcpy(r.u.e.rec, e->receipt_sha256, 32);
	if (xsort_put(&v->msort, &r) != 0) {
		v->tmp_failed = 1;
		return -1;
	}
	return 0;
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

/* Limits whose verification time is when the group's message was first (last = 0) or last
 * recorded: certificates are judged as at those times (an audit years later must not fail
 * because a certificate has since expired). */
mla_limits audit_limits_at(const struct vctx *v, const struct vgroup *g, int last)
{
	mla_limits l = v->limits;

	if (g->have_time)
		l.verify_time = (time_t)((last ? g->last_ms : g->first_ms) / 1000);
	return l;
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

/* ---- the rows of the envelope and receipt records, in record order ---- */

/* One record of type t, number ord, after prev (its name; "" for the first): the failures of
 * its order and of an earlier seal's record in format 2, and its row. */
static int record_row(struct vctx *v, const mla_bundle_record *rec, uint64_t ord,
		      const char *prev)
{
	int env = rec->type == MLA_BUNDLE_ENVELOPE;
	const char *what = env ? "envelope" : "receipt";
	int in_order = prev[0] == '\0' || strcmp(prev, rec->name) < 0;
	struct mrow r;

	vdefer_at(v, env ? P_ENV_REC : P_REC_REC, ord, 0, 0);
	if (!in_order)
		vfail(v, env ? F_ENVELOPES : F_RECEIPTS, MLA_AUDIT_R_ORDER, rec->type, rec->name,
		      "%s %s: duplicated or out of order", what, rec->name);
	memset(&r, 0, sizeof(r));
	xsort_put_be64(r.pos, ord);
	r.u.r.offset = rec->offset;
	r.u.r.len = rec->len;
	r.flags = in_order ? MRF_IN_ORDER : 0;
	if (audit_seal_name(rec->name)) { /* set apart for verify_seals.c */
		if (v->b->format < 3)
			vfail(v, env ? F_ENVELOPES : F_RECEIPTS, MLA_AUDIT_R_SEAL, rec->type,
			      rec->name, "%s %s: an earlier seal's record in a format %u bundle "
			      "(format 3 has them)", what, rec->name, v->b->format);
		memcpy(r.name, rec->name, MLA_UUID_LEN);
		r.seal = (uint8_t)(rec->name[MLA_UUID_LEN + 1] - '0');
		r.kind = env ? MR_SENV : MR_SREC;
	} else {
		memcpy(r.name, rec->name, strlen(rec->name));
		r.kind = env ? MR_ENV : MR_REC;
	}
	if (xsort_put(&v->msort, &r) != 0) {
		v->tmp_failed = 1;
		return -1;
	}
	return 0;
}

static int record_rows(struct vctx *v, mla_bundle_type t)
{
	char prev[MLA_BUNDLE_NAME_MAX + 1] = "";
	struct vregion g;
	mla_bundle_record rec;
	uint64_t ord = 0;
	int got, rc = 0;

	if (vregion_open(v, &g, t) != 0)
		return -1;
	while (rc == 0 && (got = vregion_next(&g, &rec)) == 1) {
		rc = record_row(v, &rec, ord++, prev);
		memcpy(prev, rec.name, sizeof(prev));
	}
	if (vregion_close(&g) != 0)
		return -1;
	return rc;
}

/* ---- one message: its rows ---- */

/* Row i of the sorted rows into *out; -1 when the temporary file failed. */
static int row_at(struct vctx *v, uint64_t i, struct mrow *out)
{
	const struct mrow *r = xsort_row(&v->msort, i);

	if (r == NULL) {
		v->tmp_failed = 1;
		return -1;
	}
	*out = *r;
	return 0;
}

void audit_row_entry(const struct mrow *r, struct ventry *e)
{
	memset(e, 0, sizeof(*e));
	e->seq = xsort_get_be64(r->pos);
	e->time_ms = r->time_ms;
	e->event = (mla_audit_event)r->event;
	e->has_envelope_sha256 = (r->flags & MRF_ENV) != 0;
	e->has_receipt_sha256 = (r->flags & MRF_REC) != 0;
	memcpy(e->to, r->to, sizeof(e->to));
	memcpy(e->message_id, r->name, sizeof(e->message_id) - 1);
	memcpy(e->envelope_sha256, r->u.e.env, 32);
	memcpy(e->receipt_sha256, r->u.e.rec, 32);
}

/* The record of a row: its type, name, place in the bundle (data read when checked). */
static void row_record(const struct vgroup *g, const struct gslot *s, mla_bundle_type t,
		       mla_bundle_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->type = t;
	rec->offset = (size_t)s->offset;
	rec->len = (size_t)s->len;
	if (s->seal == 0)
		memcpy(rec->name, g->id, sizeof(rec->name));
	else /* <id>.<n> */
		(void)mla_snprintf_cut(rec->name, sizeof(rec->name), "%.36s.%u", g->id, s->seal);
}

mla_err audit_envelope_verify_list(const mla_buf *data, const mla_trust *trust,
				   const mla_limits *at, mla_verified *out, uint8_t att[32],
				   int *has_att, mla_diag *d)
{
	return audit_envelope_verify_keep(data, trust, at, out, att, has_att, NULL, d);
}

mla_err audit_envelope_verify_keep(const mla_buf *data, const mla_trust *trust,
				   const mla_limits *at, mla_verified *out, uint8_t att[32],
				   int *has_att, mla_attach_list **keep, mla_diag *d)
{
	char text[MLA_AUDIT_ATTACHMENTS_MAX + 1];
	mla_attach_list *l = NULL;
	mla_err r = mla_envelope_verify_attached(data->data, data->len, trust, at, out, &l, d);

	*has_att = 0;
	if (r == MLA_OK && l != NULL) {
		if (mla_audit_attachments_format(l, text, sizeof text) != MLA_OK)
			r = mla_fail(d, MLA_ERR_INTERNAL, "attachment list too long");
		else {
			SHA256((const uint8_t *)text, strlen(text), att);
			*has_att = 1;
		}
	}
	if (r == MLA_OK && keep != NULL) {
		*keep = l; /* moved */
		l = NULL;
	}
	mla_attach_list_free(l);
	return r;
}

mla_err audit_envelope_verify(const mla_buf *data, const mla_trust *trust,
			      const mla_limits *at, mla_verified *out, mla_diag *d)
{
	uint8_t att[32];
	int has_att;

	return audit_envelope_verify_list(data, trust, at, out, att, &has_att, d);
}

/* "<type> <id>" and, when the message has an entry, "(message first recorded at entry S)":
 * what a revocation failure names (SPEC 15 "Revocation"). */
static void record_what(struct vctx *v, const struct vgroup *g, const char *type, char *out,
			size_t cap)
{
	struct mrow r;

	if (g->first < g->entries_end && row_at(v, g->first, &r) == 0)
		(void)mla_snprintf_cut(out, cap, "%s %s (message first recorded at entry %llu)",
				       type, g->id, (unsigned long long)xsort_get_be64(r.pos));
	else
		(void)mla_snprintf_cut(out, cap, "%s %s", type, g->id);
}

static void check_one_envelope(struct vctx *v, struct vgroup *g, struct gslot *x, int in_order,
			       mla_buf *data)
{
	char what[160];
	mla_diag d = {MLA_OK, ""};
	mla_verified out;
	mla_limits at = audit_limits_at(v, g, 0);
	mla_attach_list *list = NULL;
	mla_bundle_record rec;

	row_record(g, x, MLA_BUNDLE_ENVELOPE, &rec);
	check_selected(v, "envelope", rec.name);
	if (audit_record_data(v, &rec, F_ENVELOPES, data) != 0)
		return;
	SHA256(data->data, data->len, x->sha);
	if (!in_order)
		return; /* refused for that alone */
	audit_revoc_reset(v);
	if (audit_envelope_verify_keep(data, v->trust->trust, &at, &out, x->att_sha, &x->has_att,
				       v->att_dir != NULL && x->seal == 0 ? &list : NULL,
				       &d) != MLA_OK)
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_ENVELOPE_INVALID, MLA_BUNDLE_ENVELOPE, rec.name,
		      "envelope %s: does not verify: %s", rec.name, mla_diag_message(&d));
	else if (strcmp(out.header.message_id, rec.name) != 0)
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_MESSAGE_ID, MLA_BUNDLE_ENVELOPE, rec.name,
		      "envelope %s: holds message %s", rec.name, out.header.message_id);
	else {
		x->verified = 1;
		memcpy(x->to_state, out.header.to_state, 3);
		if (v->hit.have) { /* its signer was revoked: before its Created? */
			record_what(v, g, "envelope", what, sizeof(what));
			audit_revoc_judge(v, MLA_BUNDLE_ENVELOPE, rec.name,
					  (int64_t)out.header.created, what);
		}
		/* the files beside the bundle, against the list this signature vouches for */
		if (list != NULL && audit_attach_check(v, rec.name, list) != 0)
			v->nomem = 1;
	}
	mla_attach_list_free(list);
}

/* What later checks use of a parsed receipt (struct vreceipt). */
void audit_receipt_keep(struct vreceipt *out, const mla_receipt *r)
{
	memcpy(out->envelope_digest, r->envelope_digest, 32);
	memcpy(out->receiver_state, r->receiver_state, sizeof(out->receiver_state));
	out->outcome = r->outcome;
	out->error = r->error;
}

static void check_one_receipt(struct vctx *v, struct vgroup *g, struct gslot *x, int in_order,
			      mla_buf *data)
{
	char what[160];
	mla_diag d = {MLA_OK, ""};
	mla_limits at = audit_limits_at(v, g, 1);
	const struct gslot *env = g->env.have ? &g->env : NULL;
	mla_bundle_record rec;
	mla_receipt r;

	row_record(g, x, MLA_BUNDLE_RECEIPT, &rec);
	check_selected(v, "receipt", rec.name);
	if (audit_record_data(v, &rec, F_RECEIPTS, data) != 0)
		return;
	SHA256(data->data, data->len, x->sha);
	if (!in_order)
		return; /* refused for that alone */
	memset(&r, 0, sizeof(r));
	audit_revoc_reset(v);
	if (mla_receipt_verify(data->data, data->len, v->trust->trust, &at, &r, &d) != MLA_OK)
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_RECEIPT_INVALID, MLA_BUNDLE_RECEIPT, rec.name,
		      "receipt %s: does not verify: %s", rec.name, mla_diag_message(&d));
	else if (strcmp(r.message_id, rec.name) != 0)
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_MESSAGE_ID, MLA_BUNDLE_RECEIPT, rec.name,
		      "receipt %s: is the receipt of message %s", rec.name,
		      r.message_id[0] ? r.message_id : "(none)");
	else if (env != NULL && env->verified &&
		 mla_receipt_match(&r, env->to_state, rec.name, env->sha, &d) != MLA_OK)
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_RECEIPT_MATCH, MLA_BUNDLE_RECEIPT, rec.name,
		      "receipt %s: does not match its envelope: %s", rec.name,
		      mla_diag_message(&d));
	else
		x->verified = 1;
	if (x->verified && v->hit.have) { /* its signer was revoked: before its ReceivedAt? */
		record_what(v, g, "receipt", what, sizeof(what));
		audit_revoc_judge(v, MLA_BUNDLE_RECEIPT, rec.name, (int64_t)r.received_at, what);
	}
	audit_receipt_keep(&x->r, &r);
}

/* A record no lookup reaches (another of the same name came first): no entry names it. */
static void unreferenced(struct vctx *v, const struct vgroup *g, const struct gslot *x,
			 mla_bundle_type t)
{
	mla_bundle_record rec;

	row_record(g, x, t, &rec);
	if (t == MLA_BUNDLE_ENVELOPE && x->seal == 0) {
		vdefer_at(v, P_ENV_UNREF, x->ord, 0, 0);
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_UNREFERENCED, t, rec.name,
		      "envelope %s: no entry names its SHA-256", rec.name);
	} else if (t == MLA_BUNDLE_RECEIPT && x->seal == 0) {
		vdefer_at(v, P_REC_UNREF, x->ord, 0, 0);
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_UNREFERENCED, t, rec.name,
		      "receipt %s: its SHA-256 is not the receipt-sha256 of any entry of that "
		      "message", rec.name);
	} else if (t == MLA_BUNDLE_ENVELOPE) {
		vdefer_at(v, P_SENV_UNREF, x->ord, 0, 0);
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_UNREFERENCED, t, rec.name,
		      "envelope %s: no resealed entry replaced it", rec.name);
	} else {
		vdefer_at(v, P_SREC_UNREF, x->ord, 0, 0);
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_UNREFERENCED, t, rec.name,
		      "receipt %s: no resealed entry names it", rec.name);
	}
}

/* One record row of the group: checked, and kept when it is the first of its name (the one
 * lookups by name find). */
static void group_record(struct vctx *v, struct vgroup *g, const struct mrow *r, mla_buf *data)
{
	int env = r->kind == MR_ENV || r->kind == MR_SENV;
	mla_bundle_type t = env ? MLA_BUNDLE_ENVELOPE : MLA_BUNDLE_RECEIPT;
	struct gslot *slot, x;

	memset(&x, 0, sizeof(x));
	x.have = 1;
	x.ord = xsort_get_be64(r->pos);
	x.offset = r->u.r.offset;
	x.len = r->u.r.len;
	x.seal = r->kind == MR_SENV || r->kind == MR_SREC ? r->seal : 0;
	if (x.seal != 0) /* checked when a resealed entry names it (verify_seals.c) */
		slot = env ? &g->senv[x.seal - 1] : &g->srec[x.seal - 1];
	else {
		slot = env ? &g->env : &g->rec;
		/* after the failures of its order (record_row) */
		vdefer_at(v, env ? P_ENV_REC : P_REC_REC, x.ord, 0, 100);
		if (env)
			check_one_envelope(v, g, &x, (r->flags & MRF_IN_ORDER) != 0, data);
		else
			check_one_receipt(v, g, &x, (r->flags & MRF_IN_ORDER) != 0, data);
	}
	if (slot->have)
		unreferenced(v, g, &x, t);
	else
		*slot = x;
}

/* What the gateway stored and export includes (SPEC 15 Export) must be there: the envelope
 * every submitted, answered, sent, delivered or received entry names and the receipt every
 * such entry names, and the receipt a received entry records as issued; in every unfiltered
 * bundle, and in a filtered one for the messages its filter selects, recomputed from the
 * entries (a filter selects whole messages, so one cannot be left out by adding a filter that
 * still selects it). Reported once per message and record, at its first entry; a delivered
 * entry's receipt is step 10's. Whether an earlier seal a sent names is held is
 * verify_seals's. */
static void check_held(struct vctx *v, struct vgroup *g, const struct ventry *e)
{
	unsigned long long i = (unsigned long long)e->seq;
	const char *ev = mla_audit_event_name(e->event);

	if (!names_stored_envelope(e->event) || !audit_selected(v, e->message_id))
		return;
	if (!g->env.have && e->has_envelope_sha256 && !(g->reported & 1)) {
		g->reported |= 1;
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_MISSING, MLA_BUNDLE_ENVELOPE, e->message_id,
		      "envelope %s: not in the bundle, though entry %llu (%s) names it",
		      e->message_id, i, ev);
	}
	/* a delivered or recovered entry's receipt: step 10 (delivered) */
	if (!g->rec.have && e->event != MLA_AUDIT_DELIVERED && e->event != MLA_AUDIT_RECOVERED &&
	    !(g->reported & 2) && (e->has_receipt_sha256 || e->event == MLA_AUDIT_RECEIVED)) {
		g->reported |= 2;
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_MISSING, MLA_BUNDLE_RECEIPT, e->message_id,
		      "receipt %s: not in the bundle, though entry %llu (%s) names it",
		      e->message_id, i, ev);
	}
}

/* Step 8's and 9's checks of one entry against the message's envelope and receipt. */
static void entry_digests(struct vctx *v, struct vgroup *g, const struct ventry *e)
{
	struct gslot *x = &g->env, *y = &g->rec;

	vdefer_at(v, P_ENV_ENTRY, e->seq, 0, 0);
	if (e->has_envelope_sha256 && x->have) {
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
	vdefer_at(v, P_REC_ENTRY, e->seq, 0, 0);
	check_held(v, g, e);
	if (!e->has_receipt_sha256 || !y->have || memcmp(y->sha, e->receipt_sha256, 32) != 0)
		return;
	y->refs++;
	if (y->verified && e->has_envelope_sha256 &&
	    memcmp(y->r.envelope_digest, e->envelope_sha256, 32) != 0) {
		vfail(v, F_RECEIPTS, MLA_AUDIT_R_DIGEST, MLA_BUNDLE_RECEIPT, e->message_id,
		      "receipt %s: its envelope digest is not the "
		      "envelope-sha256 of entry %llu", e->message_id, (unsigned long long)e->seq);
		y->verified = 0;
	}
}

/* Step 10 for one entry: a delivered or recovered one has the recipient's positive receipt. */
static void entry_delivered(struct vctx *v, const struct vgroup *g, const struct ventry *e)
{
	unsigned long long i = (unsigned long long)e->seq;
	const struct gslot *x = g->rec.have ? &g->rec : NULL;

	/* a recovered message was given back with the recipient's positive receipt (SPEC 14,
	 * Recovery): the same proof as a delivery, whichever way it went */
	if (e->event != MLA_AUDIT_DELIVERED && e->event != MLA_AUDIT_RECOVERED)
		return;
	if (x == NULL && !audit_selected(v, e->message_id))
		return; /* a message the filter left out */
	vdefer_at(v, P_DELIVERED, e->seq, 0, 0);
	if (x == NULL)
		vfailn(v, F_DELIVERED, MLA_AUDIT_R_MISSING, MLA_BUNDLE_ENTRY, i,
		       "entry %llu (%s, message %s): no receipt in the bundle", i,
		       mla_audit_event_name(e->event), e->message_id);
	else if (!e->has_receipt_sha256 || memcmp(x->sha, e->receipt_sha256, 32) != 0)
		vfailn(v, F_DELIVERED, MLA_AUDIT_R_DIGEST, MLA_BUNDLE_ENTRY, i,
		       "entry %llu (%s, message %s): the receipt in the bundle is not the one it "
		       "names", i, mla_audit_event_name(e->event), e->message_id);
	else if (!x->verified || x->r.outcome != MLA_OUTCOME_ACCEPTED ||
		 strcmp(x->r.receiver_state, e->to) != 0 || !e->has_envelope_sha256 ||
		 memcmp(x->r.envelope_digest, e->envelope_sha256, 32) != 0)
		vfailn(v, F_DELIVERED, MLA_AUDIT_R_DELIVERED, MLA_BUNDLE_ENTRY, i,
		       "entry %llu (%s, message %s): no verified positive receipt of %s over the "
		       "envelope's digest", i, mla_audit_event_name(e->event), e->message_id,
		       e->to);
	else
		v->fam[F_DELIVERED].ok++;
}

/* Entries of version 7 that name the message's envelope name its signed attachment list
 * (SPEC 14, 17.14): the list the verified envelope holds, none for versions 1 and 2. */
static int entry_lists(struct vctx *v, struct vgroup *g)
{
	const struct gslot *x = &g->env;
	struct mrow r;

	for (uint64_t i = g->first; x->have && x->verified && i < g->entries_end; i++) {
		if (row_at(v, i, &r) != 0)
			return -1;
		if (!(r.flags & MRF_ATT) || !(r.flags & MRF_ENV) ||
		    memcmp(r.u.e.env, x->sha, 32) != 0)
			continue;
		if (!x->has_att || memcmp(r.u.e.att, x->att_sha, 32) != 0)
			vfail(v, F_ENVELOPES, MLA_AUDIT_R_DIGEST, MLA_BUNDLE_ENVELOPE, g->id,
			      "envelope %s: its signed attachment list is not the attachments "
			      "of entry %llu", g->id, (unsigned long long)xsort_get_be64(r.pos));
	}
	return 0;
}

/* The group's entries again (rows [g->first, g->entries_end)), each to fn. */
static int each_entry(struct vctx *v, struct vgroup *g,
		      void (*fn)(struct vctx *, struct vgroup *, const struct ventry *))
{
	struct mrow r;
	struct ventry e;

	for (uint64_t i = g->first; i < g->entries_end; i++) {
		if (row_at(v, i, &r) != 0)
			return -1;
		audit_row_entry(&r, &e);
		fn(v, g, &e);
	}
	return 0;
}

static void delivered_fn(struct vctx *v, struct vgroup *g, const struct ventry *e)
{
	entry_delivered(v, g, e);
}

/* The records' last word: unreferenced, or verified. */
static void group_end(struct vctx *v, struct vgroup *g)
{
	struct gslot *all[2 + 2 * 9];
	size_t n = 0;

	all[n++] = &g->env;
	all[n++] = &g->rec;
	for (int k = 0; k < 9; k++) {
		all[n++] = &g->senv[k];
		all[n++] = &g->srec[k];
	}
	for (size_t i = 0; i < n; i++) {
		int env = i % 2 == 0; /* envelopes and receipts alternate */

		if (!all[i]->have)
			continue;
		if (all[i]->refs == 0)
			unreferenced(v, g, all[i], env ? MLA_BUNDLE_ENVELOPE : MLA_BUNDLE_RECEIPT);
		else if (all[i]->verified)
			v->fam[env ? F_ENVELOPES : F_RECEIPTS].ok++;
	}
}

/* One message: the rows [from, ...) of one name; *next the first row of the next one. */
static int check_group(struct vctx *v, struct vgroup *g, uint64_t from, mla_buf *data,
		       uint64_t *next)
{
	struct mrow r;
	uint64_t i = from;

	if (row_at(v, i, &r) != 0)
		return -1;
	memset(g->id, 0, sizeof(g->id));
	memcpy(g->id, r.name, sizeof(r.name));
	g->first = from;
	g->have_time = 0;
	g->reported = 0;
	memset(&g->env, 0, sizeof(g->env));
	memset(&g->rec, 0, sizeof(g->rec));
	memset(g->senv, 0, sizeof(g->senv));
	memset(g->srec, 0, sizeof(g->srec));
	/* the entries first: when the message was recorded */
	for (; i < v->msort.total; i++) {
		if (row_at(v, i, &r) != 0)
			return -1;
		if (r.kind != MR_ENTRY || memcmp(r.name, g->id, sizeof(r.name)) != 0)
			break;
		if (!g->have_time || r.time_ms < g->first_ms)
			g->first_ms = r.time_ms;
		if (!g->have_time || r.time_ms > g->last_ms)
			g->last_ms = r.time_ms;
		g->have_time = 1;
	}
	g->entries_end = i;
	for (; i < v->msort.total; i++) {
		if (row_at(v, i, &r) != 0)
			return -1;
		if (memcmp(r.name, g->id, sizeof(r.name)) != 0)
			break;
		group_record(v, g, &r, data);
	}
	*next = i;
	if (each_entry(v, g, entry_digests) != 0 || each_entry(v, g, delivered_fn) != 0 ||
	    entry_lists(v, g) != 0 ||
	    (g->entries_end > g->first && audit_resealed(v, g->id) &&
	     audit_seals_walk(v, g) != 0))
		return -1;
	group_end(v, g);
	g->index++;
	return v->tmp_failed ? -1 : 0;
}

int verify_messages(struct vctx *v)
{
	struct vgroup *g = calloc(1, sizeof(*g));
	mla_buf data;
	uint64_t next = 0;
	int rc = 0;

	if (g == NULL)
		return -1;
	vdefer_begin(v);
	audit_record_buf(&data);
	if (!v->have_msort || record_rows(v, MLA_BUNDLE_ENVELOPE) != 0 ||
	    record_rows(v, MLA_BUNDLE_RECEIPT) != 0 || xsort_finish(&v->msort) != 0) {
		v->tmp_failed |= v->have_msort && v->msort.failed;
		rc = -1;
	}
	for (uint64_t i = 0; rc == 0 && i < v->msort.total; i = next)
		rc = check_group(v, g, i, &data, &next);
	mla_buf_free(&data);
	free(g);
	if (v->have_msort)
		xsort_free(&v->msort);
	v->have_msort = 0;
	if (vdefer_end(v) != 0)
		return -1;
	return rc;
}
