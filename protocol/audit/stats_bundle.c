/* The statistics of a verified audit bundle (SPEC 16.13, `mlagw audit stats`): the bundle is
 * verified as mlagw audit verify does, then, only when it verifies, its entries are read once
 * more, streamed in bounded memory (the verifier's read, audit_entries_each, which also holds
 * them to what the verification read), and fed to the engine as its State's log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/stats.h"
#include "verify_internal.h"

struct feed {
	mla_stats *s;
	const char *state;
	mla_audit_entry e;
	mla_diag *diag;
	mla_err err;
};

static int feed_entry(void *arg, const mla_bundle_record *r)
{
	struct feed *f = arg;

	/* the verification accepted every entry: one that does not parse now is a file that
	 * changed under the reader */
	if ((f->err = mla_audit_entry_parse(r->data, r->len, &f->e, f->diag)) != MLA_OK ||
	    (f->err = mla_stats_add(f->s, f->state, &f->e, f->diag)) != MLA_OK)
		return -1;
	return 0;
}

static FILE *open_input(const mla_audit_input *in, mla_diag *diag)
{
	FILE *f = in->data != NULL ? fmemopen((void *)in->data, in->len, "rb")
				   : fopen(in->path != NULL ? in->path : "", "rb");

	if (f == NULL)
		(void)mla_fail(diag, MLA_ERR_IO, "cannot read %s: %s", in->name, strerror(errno));
	return f;
}

/* Verified, then fed: see mla_stats_add_bundle. */
static mla_err verified_feed(mla_stats *s, const char *name, FILE *f, const mla_bundle *idx,
			     const mla_audit_trust *trust, mla_audit_bundle_result **verified,
			     mla_diag *diag)
{
	struct feed fd = {s, NULL, {0}, diag, MLA_OK};
	struct vctx v;
	mla_err r = MLA_ERR_NOMEM;
	int got;

	audit_vctx_init(&v, idx, f, trust);
	if (audit_run_checks(&v) != 0) {
		if (v.tmp_failed)
			r = mla_fail(diag, MLA_ERR_IO, "%s: the verifier's temporary file (TMPDIR, "
				     "else /tmp) cannot be written or read", name);
		goto out;
	}
	if ((*verified = audit_vctx_result(&v, name)) == NULL)
		goto out;
	if ((*verified)->nfailures > 0 || (*verified)->unlisted > 0) {
		r = mla_fail(diag, MLA_ERR_SIG_INVALID, "%s does not verify", name);
	} else if (v.state[0] == '\0') {
		r = mla_fail(diag, MLA_ERR_HEADER, "%s: the manifest names no State", name);
	} else {
		fd.state = v.state;
		got = audit_entries_each(&v, feed_entry, &fd);
		r = got == 0 ? MLA_OK
		    : got > 0 ? mla_fail(diag, MLA_ERR_SCHEMA, "%s: its entries changed while it "
					 "was read", name)
		    : fd.err != MLA_OK ? fd.err
				       : MLA_ERR_NOMEM;
	}
out:
	audit_vctx_free(&v);
	return r == MLA_ERR_NOMEM ? mla_fail(diag, r, "out of memory") : r;
}

mla_err mla_stats_add_bundle(mla_stats *s, const mla_audit_input *in,
			     const mla_audit_trust *trust, mla_audit_bundle_result **verified,
			     mla_diag *diag)
{
	mla_bundle idx;
	FILE *f;
	mla_err r;

	*verified = NULL;
	memset(&idx, 0, sizeof(idx));
	if (trust == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "statistics count only verified bundles: a "
				"trust set is required");
	if ((f = open_input(in, diag)) == NULL)
		return MLA_ERR_IO;
	if ((r = mla_bundle_index(f, &idx, diag)) != MLA_OK) {
		if (r != MLA_ERR_NOMEM && r != MLA_ERR_IO)
			r = MLA_ERR_SCHEMA; /* diag: the parser's message */
	} else {
		r = verified_feed(s, in->name, f, &idx, trust, verified, diag);
	}
	mla_bundle_free(&idx);
	fclose(f);
	return r;
}

void mla_stats_bundle_result_free(mla_audit_bundle_result *r)
{
	if (r == NULL)
		return;
	audit_bundle_result_free(r);
	free(r);
}
