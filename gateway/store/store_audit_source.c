/* The store as an audit source (store_reader.h, include/mlagw/audit.h): mla_audit_export reads
 * a gateway's audit log through these callbacks over the read-only reader, so that the
 * protocol library never sees SQL or the store's row types. */
#include <string.h>

#include "store_check.h"
#include "store_reader.h"

/* The caller's row callback and its argument, for the adapters below. */
struct fwd_entry {
	mla_audit_entry_fn fn;
	void *arg;
};
struct fwd_note {
	mla_audit_note_fn fn;
	void *arg;
};
struct fwd_cert {
	mla_audit_cert_fn fn;
	void *arg;
};

static mla_err src_meta(void *ctx, mla_audit_source_meta *m, mla_diag *diag)
{
	store_reader *r = ctx;
	struct store_counts c;
	mla_err e;

	memset(m, 0, sizeof(*m));
	if ((e = store_reader_counts(r, &c, diag)) != MLA_OK)
		return e;
	m->entries = c.audit;
	m->checkpoints = c.checkpoints;
	m->witnessed = c.witnessed;
	m->peer_certs = c.peer_certs;
	e = store_reader_origin(r, m->origin, sizeof(m->origin), diag);
	if (e == MLA_ERR_NOT_FOUND) { /* no checkpoint yet: no origin */
		m->origin[0] = '\0';
		return MLA_OK;
	}
	/* "mlagw.es/audit": the State in upper case */
	if (e == MLA_OK && strncmp(m->origin, "mlagw.", 6) == 0 && m->origin[6] >= 'a' &&
	    m->origin[6] <= 'z' && m->origin[7] >= 'a' && m->origin[7] <= 'z') {
		m->state[0] = (char)(m->origin[6] - 32);
		m->state[1] = (char)(m->origin[7] - 32);
	}
	return e;
}

static mla_err entry_fwd(const struct store_audit_row *row, void *arg)
{
	const struct fwd_entry *f = arg;
	mla_audit_source_entry e = {row->seq, row->entry, row->len, row->leaf};

	return f->fn(&e, f->arg);
}

static mla_err src_entries(void *ctx, uint64_t from, uint64_t to, mla_audit_entry_fn fn,
			   void *arg, mla_diag *diag)
{
	struct fwd_entry f = {fn, arg};

	return store_reader_audit(ctx, from, to, entry_fwd, &f, diag);
}

static mla_err checkpoint_fwd(const struct store_checkpoint_row *row, void *arg)
{
	const struct fwd_note *f = arg;
	mla_audit_source_note n = {NULL, row->size, row->note, row->len};

	return f->fn(&n, f->arg);
}

static mla_err src_checkpoints(void *ctx, mla_audit_note_fn fn, void *arg, mla_diag *diag)
{
	struct fwd_note f = {fn, arg};

	return store_reader_checkpoints(ctx, checkpoint_fwd, &f, diag);
}

static mla_err witnessed_fwd(const struct store_witnessed_row *row, void *arg)
{
	const struct fwd_note *f = arg;
	mla_audit_source_note n = {row->origin, row->size, row->note, row->len};

	return f->fn(&n, f->arg);
}

static mla_err src_witnessed(void *ctx, mla_audit_note_fn fn, void *arg, mla_diag *diag)
{
	struct fwd_note f = {fn, arg};

	return store_reader_witnessed(ctx, witnessed_fwd, &f, diag);
}

static mla_err cert_fwd(const struct store_peer_cert_row *row, void *arg)
{
	const struct fwd_cert *f = arg;
	mla_audit_source_cert c = {row->state, row->fingerprint, row->der, row->len};

	return f->fn(&c, f->arg);
}

static mla_err src_peer_certs(void *ctx, mla_audit_cert_fn fn, void *arg, mla_diag *diag)
{
	struct fwd_cert f = {fn, arg};

	return store_reader_peer_certs(ctx, cert_fwd, &f, diag);
}

/* mla_audit_bytes_fn and store_bytes_fn have one signature: handed on as they are. */
static mla_err src_envelope(void *ctx, const char *message_id, mla_audit_bytes_fn fn,
			    void *arg, mla_diag *diag)
{
	return store_reader_envelope(ctx, message_id, fn, arg, diag);
}

static mla_err src_receipt(void *ctx, const char *message_id, mla_audit_bytes_fn fn, void *arg,
			   mla_diag *diag)
{
	return store_reader_receipt(ctx, message_id, fn, arg, diag);
}

struct fwd_seal {
	mla_audit_seal_fn fn;
	void *arg;
};

static mla_err seal_fwd(const struct store_seal_row *row, void *arg)
{
	const struct fwd_seal *f = arg;
	mla_audit_source_seal s = {row->seal, row->envelope, row->envelope_len, row->receipt,
				   row->receipt_len};

	return f->fn(&s, f->arg);
}

static mla_err src_seals(void *ctx, const char *message_id, mla_audit_seal_fn fn, void *arg,
			 mla_diag *diag)
{
	struct fwd_seal f = {fn, arg};

	return store_reader_seals(ctx, message_id, seal_fwd, &f, diag);
}

static mla_err src_audit_certs(void *ctx, mla_audit_bytes_fn fn, void *arg, mla_diag *diag)
{
	return store_reader_audit_certs(ctx, fn, arg, diag);
}

static mla_err src_node(void *ctx, unsigned level, uint64_t idx, uint8_t out[32],
			mla_diag *diag)
{
	return store_reader_tree_node(ctx, level, idx, out, diag);
}

static mla_err src_directory(void *ctx, const uint8_t digest[32], mla_audit_bytes_fn fn,
			     void *arg, mla_diag *diag)
{
	return store_reader_directory_doc(ctx, digest, fn, arg, diag);
}

mla_audit_source store_reader_audit_source(store_reader *r)
{
	mla_audit_source s = {r,	     src_meta,	     src_entries,  src_checkpoints,
			      src_witnessed, src_peer_certs, src_envelope, src_receipt,
			      src_seals,     src_audit_certs, NULL, NULL, NULL, NULL, NULL};

	/* a store from before schema 7 keeps no tree: export keeps the leaves instead */
	if (store_reader_has_tree(r))
		s.node = src_node;
	s.directory = src_directory;
	return s;
}
