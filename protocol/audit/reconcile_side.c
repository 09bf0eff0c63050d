/* Reconciliation, one side (include/mlagw/audit.h): the bundle is checked (verified first with
 * a trust set, else its manifest alone), then its entries are read once more and those
 * reconciliation compares become fixed-size rows (reconcile_internal.h) sorted in bounded
 * memory, spilled to a temporary file when they do not fit one run of the verifier's size
 * (MLAGW_VERIFY_SORT_MEM): nothing kept grows with the entries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlagw/codec.h"
#include "reconcile_internal.h"
#include "verify_internal.h"

void mla_audit_side_free(mla_audit_side *s)
{
	if (s == NULL)
		return;
	free(s->name);
	if (s->rows != NULL)
		xsort_free(&s->rows->sort);
	free(s->rows);
	for (size_t i = 0; i < s->nskipped; i++)
		free(s->skipped[i].message);
	free(s->skipped);
	audit_bundle_result_free(s->verified);
	free(s->verified);
	free(s);
}

static int sender_event(mla_audit_event ev)
{
	return ev == MLA_AUDIT_SENT || ev == MLA_AUDIT_DELIVERED || ev == MLA_AUDIT_RESEALED;
}

/* Whether reconciliation compares entry e: the sender's or the receiver's entry of a message. */
static int compared(const mla_audit_entry *e)
{
	return e->message_id[0] != '\0' &&
	       (sender_event(e->event) || e->event == MLA_AUDIT_RECEIVED ||
		e->event == MLA_AUDIT_RECEIPT_ISSUED);
}

struct side_read {
	mla_audit_side *s;
	size_t caps;
	uint64_t ord; /* entry records read */
	int tmp_failed;
	mla_audit_entry e;
};

/* An entry record that does not parse, listed (the first MLA_AUDIT_FAILURES_LISTED). */
static int skip(struct side_read *sr, const mla_bundle_record *r, const mla_diag *d)
{
	mla_audit_side *s = sr->s;
	mla_audit_failure *f;

	if (s->nskipped >= MLA_AUDIT_FAILURES_LISTED) {
		s->skipped_unlisted++;
		return 0;
	}
	if ((f = mla_grow(s->skipped, &sr->caps, s->nskipped, sizeof(*f))) == NULL)
		return -1;
	s->skipped = f;
	f = &s->skipped[s->nskipped];
	memset(f, 0, sizeof(*f));
	if ((f->message = strdup(mla_diag_message(d))) == NULL)
		return -1;
	f->check = MLA_AUDIT_CHECK_ENTRIES;
	f->refusal = MLA_AUDIT_R_ENTRY_FORM;
	f->record_type = MLA_BUNDLE_ENTRY;
	memcpy(f->record, r->name, sizeof(f->record));
	s->nskipped++;
	return 0;
}

/* A State code as rows hold it (at most two letters, NUL padded). */
static void state_code(char out[3], const char *code)
{
	memset(out, 0, 3);
	memcpy(out, code, strnlen(code, 2));
}

/* The row of compared entry e, the ord-th entry record. */
static void entry_row(const mla_audit_entry *e, uint64_t ord, struct rrow *r)
{
	int sender = sender_event(e->event);

	_Static_assert(sizeof(r->id) == sizeof(e->message_id), "a row holds an entry's id");
	memset(r, 0, sizeof(*r));
	r->role = sender ? RR_SENDER : RR_RECEIVER;
	state_code(r->peer, sender ? e->to : e->from);
	memcpy(r->id, e->message_id, strnlen(e->message_id, MLA_UUID_LEN));
	xsort_put_be64(r->seq, e->seq);
	xsort_put_be64(r->ord, ord);
	r->event = (uint8_t)e->event;
	r->flags = (uint8_t)((e->has_envelope_sha256 ? RRF_ENV : 0) |
			     (e->has_receipt_sha256 ? RRF_REC : 0));
	memcpy(r->env, e->envelope_sha256, 32);
	/* a resealed entry's receipt is not compared, the seal it replaced is */
	memcpy(r->dig, e->event == MLA_AUDIT_RESEALED ? e->prev_envelope_sha256 : e->receipt_sha256,
	       32);
}

/* One entry record: counted when it parses, a row when reconciliation compares it. */
static int read_entry(void *arg, const mla_bundle_record *r)
{
	struct side_read *sr = arg;
	mla_audit_side *s = sr->s;
	mla_diag d = {MLA_OK, ""};
	uint64_t ord = sr->ord++;
	struct rrow row;

	if (mla_audit_entry_parse(r->data, r->len, &sr->e, &d) != MLA_OK)
		return skip(sr, r, &d);
	s->nentries++;
	if (!compared(&sr->e))
		return 0;
	entry_row(&sr->e, ord, &row);
	if (xsort_put(&s->rows->sort, &row) != 0) {
		sr->tmp_failed = 1;
		return -1;
	}
	s->nkept++;
	return 0;
}

/* The compared entries of v's bundle as s's sorted rows: 0, 1 when the file changed since the
 * checks read it, -1 out of memory, -2 the temporary file failed. */
static int read_rows(mla_audit_side *s, const struct vctx *v)
{
	struct side_read sr;
	int got;

	memset(&sr, 0, sizeof(sr));
	sr.s = s;
	if ((s->rows = calloc(1, sizeof(*s->rows))) == NULL ||
	    xsort_init(&s->rows->sort, sizeof(struct rrow), RROW_KEY, audit_sort_mem()) != 0)
		return -1;
	if ((got = audit_entries_each(v, read_entry, &sr)) != 0)
		return got > 0 ? 1 : sr.tmp_failed ? -2 : -1;
	return xsort_finish(&s->rows->sort) == 0 ? 0 : -2;
}

/* The checks of the bundle f (its index idx): all of them with a trust set, else the manifest
 * alone (for the State); then the entries, read once more (against the verification's read
 * of them, when there was one: a file that changed meanwhile is not reconciled). */
static mla_err load_checked(mla_audit_side *s, FILE *f, const mla_bundle *idx,
			    const mla_audit_trust *trust, mla_diag *diag)
{
	struct vctx v;
	mla_err r = MLA_ERR_NOMEM;
	int got;

	audit_vctx_init(&v, idx, f, trust);
	if ((trust != NULL ? audit_run_checks(&v) : verify_manifest(&v)) != 0) {
		if (v.tmp_failed) {
			s->refusal = MLA_AUDIT_R_CONTAINER;
			r = mla_fail(diag, MLA_ERR_IO, "%s: the verifier's temporary file (TMPDIR, "
				     "else /tmp) cannot be written or read", s->name);
		}
		goto out;
	}
	memcpy(s->state, v.state, sizeof(s->state));
	if (trust != NULL && (s->verified = audit_vctx_result(&v, s->name)) == NULL)
		goto out;
	if (trust != NULL && s->verified->nfailures > 0) {
		s->refusal = MLA_AUDIT_R_UNVERIFIED;
		r = mla_fail(diag, MLA_ERR_SIG_INVALID, "%s does not verify", s->name);
	} else if (s->state[0] == '\0') {
		s->refusal = MLA_AUDIT_R_NO_STATE;
		r = mla_fail(diag, MLA_ERR_HEADER, "%s: the manifest names no State", s->name);
	} else if ((got = read_rows(s, &v)) == 1) {
		s->refusal = MLA_AUDIT_R_CONTAINER;
		r = mla_fail(diag, MLA_ERR_SCHEMA, "%s: its entries changed while it was read",
			     s->name);
	} else if (got == -2) {
		s->refusal = MLA_AUDIT_R_CONTAINER;
		r = mla_fail(diag, MLA_ERR_IO, "%s: the temporary file of its sorted entries "
			     "(TMPDIR, else /tmp) cannot be written or read", s->name);
	} else {
		r = got == 0 ? MLA_OK : MLA_ERR_NOMEM;
	}
out:
	audit_vctx_free(&v);
	return r == MLA_ERR_NOMEM ? mla_fail(diag, r, "out of memory") : r;
}

/* A side read from the open stream f (not closed here). */
static mla_err side_from(const char *name, FILE *f, const mla_audit_trust *trust,
			 mla_audit_side **out, mla_diag *diag)
{
	mla_audit_side *s = calloc(1, sizeof(*s));
	mla_bundle idx;
	mla_err r = MLA_ERR_NOMEM;

	memset(&idx, 0, sizeof(idx));
	*out = NULL;
	if (s == NULL || (s->name = strdup(name)) == NULL) {
		r = mla_fail(diag, r, "out of memory");
		goto out;
	}
	if (f == NULL) {
		s->refusal = MLA_AUDIT_R_CONTAINER;
		r = MLA_ERR_IO; /* diag: why it does not open */
	} else if ((r = mla_bundle_index(f, &idx, diag)) != MLA_OK) {
		s->refusal = MLA_AUDIT_R_CONTAINER;
		if (r != MLA_ERR_NOMEM && r != MLA_ERR_IO)
			r = MLA_ERR_SCHEMA; /* diag: the parser's message */
	} else {
		r = load_checked(s, f, &idx, trust, diag);
	}
	if (r != MLA_ERR_NOMEM) {
		*out = s; /* ready, or saying why not */
		s = NULL;
	}
out:
	mla_bundle_free(&idx);
	mla_audit_side_free(s);
	return r;
}

mla_err mla_audit_side_load(const mla_audit_input *in, const mla_audit_trust *trust,
			    mla_audit_side **out, mla_diag *diag)
{
	FILE *f = audit_open_input(in, diag);
	mla_err r = side_from(in->name, f, trust, out, diag);

	if (f != NULL)
		fclose(f);
	return r;
}

mla_err mla_audit_side_load_file(const char *name, FILE *f, const mla_audit_trust *trust,
				 mla_audit_side **out, mla_diag *diag)
{
	/* a descriptor of its own, so that the caller's stream is left as it was */
	int fd = dup(fileno(f));
	FILE *g = fd >= 0 ? fdopen(fd, "rb") : NULL;
	mla_err r;

	if (g == NULL) {
		(void)mla_fail(diag, MLA_ERR_IO, "cannot read %s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		(void)setvbuf(g, NULL, _IOFBF, (size_t)1 << 20); /* fewer reads; a hint only */
	}
	r = side_from(name, g, trust, out, diag);
	if (g != NULL)
		fclose(g);
	return r;
}
