/* mla_audit_export (include/mlagw/audit.h, SPEC section 15): a log's audit bundle read from a
 * source of rows: every entry up to the latest checkpoint, every checkpoint, the audit
 * certificate, the peers' certificates and cosigned heads, the proofs (export_proofs.c) and
 * the envelopes and receipts of the messages the entries name (all, or those a filter
 * selects). The records are gathered in memory in the order SPEC section 15 fixes, then
 * written. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "export_internal.h"
#include "mlagw/codec.h"
#include "verify_internal.h"

mla_err export_fail(struct export_ctx *x, mla_audit_export_fault f, mla_err err,
		    const char *fmt, ...)
{
	char msg[MLA_DIAG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)mla_vsnprintf_cut(msg, sizeof(msg), fmt, ap); /* a message: a cut is marked */
	va_end(ap);
	mla_fail(x->diag, err, "%s", msg);
	x->res->fault = f;
	x->err = err;
	return err;
}

mla_err export_add(struct export_ctx *x, mla_buf *b, mla_bundle_type t, const char *name,
		   const void *p, size_t n)
{
	mla_diag d = {MLA_OK, ""};
	mla_err r = mla_bundle_add(b, t, name, p, n, &d);

	return r == MLA_OK ? MLA_OK : export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, r, "%s", d.msg);
}

mla_err export_put(struct export_ctx *x, mla_bundle_type t, const char *name, const void *p,
		   size_t n)
{
	char head[160];
	size_t hlen = 0;
	mla_diag d = {MLA_OK, ""};
	mla_err r = mla_bundle_header(t, name, n, head, sizeof(head), &hlen, &d);

	if (r != MLA_OK)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, r, "%s", d.msg);
	if (fwrite(head, 1, hlen, x->body) != hlen || (n > 0 && fwrite(p, 1, n, x->body) != n) ||
	    putc('\n', x->body) == EOF)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_IO,
				   "cannot write the bundle's temporary file: %s", strerror(errno));
	x->body_bytes += hlen + n + 1;
	x->body_records++;
	return MLA_OK;
}

mla_err export_source_done(struct export_ctx *x, mla_err e, const mla_diag *d)
{
	if (e == MLA_OK)
		return MLA_OK;
	if (x->err != MLA_OK)
		return x->err;
	return export_fail(x, MLA_AUDIT_EXPORT_SOURCE, e, "%s",
			   d->msg[0] != '\0' ? d->msg : mla_strerror(e));
}

/* The text checkpoint_sizes may take in the manifest of formats 2 and 3 (1 MiB in all, with
 * room for the other members); a log with more checkpoints is format 4, whose manifest has no
 * list (SPEC 15). A size takes its digits and at most 12 bytes of indent, comma and LF. */
#define SIZES_TEXT_MAX ((size_t)1 << 20) - ((size_t)64 << 10)

static size_t digits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* The first read of the checkpoints: how many, the last size (the entries' extent), the
 * first note (its key names the audit certificate) and, while they fit a manifest, the
 * sizes. Their notes are written after the entries (checkpoint_note_row). */
static mla_err checkpoint_row(const mla_audit_source_note *row, void *arg)
{
	struct export_ctx *x = arg;
	mla_err r = MLA_OK;

	if (x->res->checkpoints == 0 &&
	    mla_buf_append(&x->first_note, row->note, row->len) != MLA_OK)
		r = export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM, "out of memory");
	x->last_size = row->size;
	x->res->checkpoints++;
	x->res->covered = row->size;
	x->sizes_chars += digits(row->size) + 12;
	if (x->sizes != NULL && x->sizes_chars > SIZES_TEXT_MAX) {
		json_decref(x->sizes); /* format 4: no list, and no memory per checkpoint */
		x->sizes = NULL;
	}
	if (r == MLA_OK && x->sizes != NULL &&
	    json_array_append_new(x->sizes, json_integer((json_int_t)row->size)))
		r = export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM, "out of memory");
	return r;
}

/* The second read: each checkpoint's note into the body, after the entries. The source is
 * one snapshot; a row the first read did not see is refused, not written. */
static mla_err checkpoint_note_row(const mla_audit_source_note *row, void *arg)
{
	struct export_ctx *x = arg;
	char name[24];

	if (++x->notes_written > x->res->checkpoints || row->size > x->last_size)
		return export_fail(x, MLA_AUDIT_EXPORT_CONTENT, MLA_ERR_ARG,
				   "checkpoint %llu was not there at the first read of the log",
				   (unsigned long long)row->size);
	mla_require(mla_snprintf(name, sizeof(name), "%llu", (unsigned long long)row->size) ==
		    MLA_OK);
	return export_put(x, MLA_BUNDLE_CHECKPOINT, name, row->note, row->len);
}

/* Every checkpoint (ascending size); the last gives the entries' extent. */
static mla_err export_checkpoints(struct export_ctx *x)
{
	mla_diag d = {MLA_OK, ""};
	mla_audit_source_meta m;
	mla_err r;

	memset(&m, 0, sizeof(m));
	if ((r = export_source_done(x, x->src->meta(x->src->ctx, &m, &d), &d)) != MLA_OK)
		return r;
	/* the log's epoch names it (SPEC 14, "Log epochs"): the latest checkpoint's origin */
	memcpy(x->origin, m.origin, sizeof(x->origin));
	if (m.checkpoints > 0 &&
	    (r = export_source_done(x, x->src->checkpoints(x->src->ctx, checkpoint_row, x, &d),
				    &d)) != MLA_OK)
		return r;
	if (x->res->checkpoints == 0)
		return export_fail(x, MLA_AUDIT_EXPORT_NO_CHECKPOINT, MLA_ERR_NOT_FOUND,
				   "the log has no checkpoint yet");
	return MLA_OK;
}

/* One peer audit certificate as PEM, "peer.<State>.<16 hex of the SHA-256 of the DER>". */
static mla_err peer_cert_row(const mla_audit_source_cert *row, void *arg)
{
	struct export_ctx *x = arg;
	const unsigned char *der = row->der;
	X509 *cert = d2i_X509(NULL, &der, (long)row->len);
	BIO *bio = BIO_new(BIO_s_mem());
	char name[MLA_BUNDLE_NAME_MAX + 1], hex[17], *pem;
	mla_err r;
	long n;

	if (cert == NULL || bio == NULL || PEM_write_bio_X509(bio, cert) != 1 ||
	    (n = BIO_get_mem_data(bio, &pem)) <= 0) {
		r = export_fail(x, MLA_AUDIT_EXPORT_CONTENT, MLA_ERR_CERT_FILE,
				"a peer audit certificate is unreadable");
	} else {
		mla_require(mla_hex_encode(row->fingerprint, 8, hex, sizeof(hex)) == MLA_OK);
		mla_require(mla_snprintf(name, sizeof(name), "peer.%.2s.%s", row->state, hex) ==
			    MLA_OK);
		r = export_add(x, &x->peer_certs, MLA_BUNDLE_CERTIFICATE, name, pem, (size_t)n);
		x->res->peer_certs++;
	}
	X509_free(cert);
	BIO_free(bio);
	return r;
}

/* A peer's checkpoint this gateway cosigned, "<State>.<size>". */
static mla_err witnessed_row(const mla_audit_source_note *row, void *arg)
{
	struct export_ctx *x = arg;
	const char *origin = row->origin;
	char name[MLA_BUNDLE_NAME_MAX + 1];
	mla_err r;

	char st[3];
	uint32_t epoch;

	if (origin == NULL || mla_audit_origin_parse(origin, st, &epoch) != MLA_OK)
		return export_fail(x, MLA_AUDIT_EXPORT_CONTENT, MLA_ERR_SCHEMA,
				   "a witnessed origin is unreadable");
	if (epoch == 1)
		mla_require(mla_snprintf(name, sizeof(name), "%s.%llu", st,
					 (unsigned long long)row->size) == MLA_OK);
	else /* a later epoch of that peer's log (SPEC 14, "Log epochs") */
		mla_require(mla_snprintf(name, sizeof(name), "%s.%lu.%llu", st,
					 (unsigned long)epoch, (unsigned long long)row->size) ==
			    MLA_OK);
	r = export_put(x, MLA_BUNDLE_WITNESSED, name, row->note, row->len);
	x->res->witnessed++;
	return r;
}

/* One entry, exported as kept; an unparsable one too (the verifier reports it). One that
 * names a message goes to the sort on disk (export_sort.c): what the bundle holds of the
 * message is known once its rows are together. */
static mla_err entry_row(const mla_audit_source_entry *row, void *arg)
{
	struct export_ctx *x = arg;
	mla_diag d = {MLA_OK, ""};
	mla_audit_entry e;
	char name[24];
	mla_err r;

	mla_require(mla_snprintf(name, sizeof(name), "%llu", (unsigned long long)row->seq) ==
		    MLA_OK);
	if ((r = export_put(x, MLA_BUNDLE_ENTRY, name, row->entry, row->len)) != MLA_OK)
		return r;
	if (x->res->entries >= x->last_size) /* a source that gives more than asked */
		return export_fail(x, MLA_AUDIT_EXPORT_CONTENT, MLA_ERR_ARG,
				   "entry %s is beyond the latest checkpoint", name);
	if (row->leaf == NULL) /* no proof verifies: reported there */
		x->leaf_missing = 1;
	else if (x->leaves != NULL)
		memcpy(x->leaves[x->res->entries], row->leaf, MLA_MERKLE_HASH_LEN);
	x->res->entries++;
	if (mla_audit_entry_parse(row->entry, row->len, &e, &d) != MLA_OK)
		return MLA_OK;
	if (e.message_id[0] != '\0' && (r = export_sort_entry(x, &e, row->seq, 1)) != MLA_OK)
		return r;
	if (e.event == MLA_AUDIT_AUDIT_KEY_CHANGED)
		return export_remember_key_change(x, &e);
	if (e.event == MLA_AUDIT_DIRECTORY_ADOPTED)
		return export_remember_directory(x, &e);
	if (e.message_id[0] == '\0')
		return MLA_OK;
	/* every reseal of a message counts, whichever entry the filter matched: the bundle holds
	 * whole messages, so a selected message carries all its seals */
	if (r == MLA_OK && e.event == MLA_AUDIT_RESEALED)
		r = export_remember_seal(x, e.message_id);
	return r;
}

/* Entries, peers' certificates, checkpoints (after the entries), witnessed heads. */
static mla_err export_log(struct export_ctx *x)
{
	const mla_audit_source *s = x->src;
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	if (s->node == NULL && /* else the proofs come from the source's tree */
	    (x->leaves = calloc(x->last_size + 1, sizeof(*x->leaves))) == NULL)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM, "out of memory");
	if ((r = export_sort_open(x)) != MLA_OK)
		return r;
	if ((r = export_source_done(x, s->entries(s->ctx, 0, x->last_size, entry_row, x, &d),
				    &d)) != MLA_OK ||
	    (r = export_source_done(x, s->peer_certs(s->ctx, peer_cert_row, x, &d), &d)) !=
		    MLA_OK)
		return r;
	if ((r = export_source_done(x, s->checkpoints(s->ctx, checkpoint_note_row, x, &d), &d)) !=
	    MLA_OK)
		return r;
	if (x->notes_written != x->res->checkpoints)
		return export_fail(x, MLA_AUDIT_EXPORT_CONTENT, MLA_ERR_ARG, "the log's checkpoints "
				   "changed between two reads of one snapshot");
	return export_source_done(x, s->witnessed(s->ctx, witnessed_row, x, &d), &d);
}

/* The audit certificate (the file's first) as the bundle holds it, one PEM block and its
 * final newline whatever else the file holds (the verifier reads it strictly, SPEC 15 step 2),
 * into out; and its State, the subject's C=. */
static mla_err cert_state(struct export_ctx *x, const uint8_t *pem, size_t len, mla_buf *out)
{
	BIO *bio = len <= INT32_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
	X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO *w = BIO_new(BIO_s_mem());
	char *st = x->res->state, *canon;
	long clen = 0;
	int n = -1;

	if (cert != NULL)
		n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_countryName, st,
					      3);
	if (cert != NULL && (w == NULL || PEM_write_bio_X509(w, cert) != 1 ||
			     (clen = BIO_get_mem_data(w, &canon)) <= 0 ||
			     mla_buf_append(out, canon, (size_t)clen) != MLA_OK))
		n = -2;
	X509_free(cert);
	BIO_free(bio);
	BIO_free(w);
	if (n == -2)
		return export_fail(x, MLA_AUDIT_EXPORT_CERTIFICATE, MLA_ERR_CERT_FILE,
				   "the audit certificate does not fit a certificate record");
	if (n != 2 || st[0] < 'A' || st[0] > 'Z' || st[1] < 'A' || st[1] > 'Z') {
		st[0] = '\0';
		return export_fail(x, MLA_AUDIT_EXPORT_CERTIFICATE, MLA_ERR_CERT_FILE,
				   cert == NULL ? "the audit certificate is not PEM"
						: "the subject has no State (C=)");
	}
	return MLA_OK;
}

/* The lowest format that holds the bundle (SPEC 11 rule 14, SPEC 15): 4 beyond the limits
 * of 2 and 3, 3 for earlier seals or later audit certificates, 2 otherwise. The head (format
 * line, manifest, audit certificates) and the peers' certificates are counted generously. */
static unsigned bundle_format(const struct export_ctx *x)
{
	uint64_t records = x->body_records + x->res->peer_certs + x->nkey_changes + 2;
	uint64_t bytes = x->body_bytes + x->peer_certs.len + ((uint64_t)4 << 20);

	if (x->res->crls > 0 || x->res->ocsps > 0)
		return 6; /* format 5 with the CRLs and OCSP answers relied on */
	if (x->res->directories > 0)
		return 5; /* format 4 with the directory documents */
	if (records > MLA_BUNDLE_RECORDS_MAX || bytes > MLA_BUNDLE_MAX || x->sizes == NULL)
		return 4; /* x->sizes NULL: more checkpoints than a format 3 manifest lists */
	return x->seal_records > 0 || x->nkey_changes > 0 ? 3 : 2;
}

static json_t *manifest(const struct export_ctx *x)
{
	const struct mla_audit_filter *f = x->filter;
	const mla_audit_export_result *res = x->res;
	const char *st = res->state, *origin = x->origin;
	char fallback[MLA_AUDIT_ORIGIN_MAX + 1], ost[3];
	uint32_t epoch;

	/* a checkpoint of another State's log: named as this State's, the verifier refuses */
	if (mla_audit_origin_parse(origin, ost, &epoch) != MLA_OK || strcmp(ost, st) != 0) {
		mla_require(mla_audit_origin_format(st, 1, fallback) == MLA_OK);
		origin = fallback;
	}
	char format[32];
	unsigned f4 = bundle_format(x) >= 4;
	json_t *m, *sizes = f4 ? json_array() : json_incref(x->sizes); /* "o" takes it */

	mla_require(mla_snprintf(format, sizeof(format), "mlagw-audit-bundle/%u",
				 bundle_format(x)) == MLA_OK);
	m = json_pack("{sssssssIsIsos{sIsIsIsIsIsIsI}s{ss?ss?ss?}}", "format", format,
			 "state", st, "origin", origin, "first_seq",
			 (json_int_t)0, "last_seq", (json_int_t)x->last_size - 1,
			 "checkpoint_sizes", sizes, "counts", "entries",
			 (json_int_t)res->entries, "checkpoints", (json_int_t)res->checkpoints,
			 "witnessed", (json_int_t)res->witnessed, "peer_certificates",
			 (json_int_t)res->peer_certs, "proofs", (json_int_t)res->proofs,
			 "envelopes", (json_int_t)res->envelopes, "receipts",
			 (json_int_t)res->receipts, "filter", "case",
			 f != NULL ? f->case_id : NULL, "from", f != NULL ? f->from : NULL, "to",
			 f != NULL ? f->to : NULL);
	/* format 4's manifest lists no sizes: the checkpoint records' names are they (SPEC 15) */
	if (m != NULL && f4 && json_object_del(m, "checkpoint_sizes") != 0) {
		json_decref(m);
		m = NULL;
	}
	if (m != NULL && bundle_format(x) >= 5 && /* format 5 counts its directory documents */
	    json_object_set_new(json_object_get(m, "counts"), "directories",
				json_integer((json_int_t)res->directories)) != 0) {
		json_decref(m);
		m = NULL;
	}
	if (m != NULL && bundle_format(x) >= 6 && /* format 6 its CRLs and OCSP answers */
	    (json_object_set_new(json_object_get(m, "counts"), "crls",
				 json_integer((json_int_t)res->crls)) != 0 ||
	     json_object_set_new(json_object_get(m, "counts"), "ocsp_answers",
				 json_integer((json_int_t)res->ocsps)) != 0)) {
		json_decref(m);
		m = NULL;
	}
	return m;
}

/* The format line, the manifest and the audit certificate into head. */
static mla_err export_head(struct export_ctx *x, const uint8_t *pem, size_t len, mla_buf *head)
{
	mla_diag d = {MLA_OK, ""};
	json_t *m = manifest(x);
	char *ms = m != NULL ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	mla_err r = MLA_ERR_NOMEM;

	if (ms != NULL && (r = mla_bundle_begin_format(head, bundle_format(x))) == MLA_OK &&
	    (r = mla_bundle_add(head, MLA_BUNDLE_MANIFEST, "manifest", ms, strlen(ms), &d)) ==
		    MLA_OK)
		r = export_audit_certs(x, pem, len, head); /* a failure says why itself */
	else
		r = export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, r, "%s",
				d.msg[0] != '\0' ? d.msg : mla_strerror(r));
	free(ms);
	json_decref(m);
	return r;
}

/* Magic, manifest, certificate, the peers' certificates, then the body (copied from its
 * temporary file), to out (named name in a message). */
static mla_err write_bundle(struct export_ctx *x, const mla_buf *head, FILE *out,
			    const char *name)
{
	const mla_buf *part[2] = {head, &x->peer_certs};
	char chunk[1 << 16];
	size_t n = 0;
	int ok = fflush(x->body) == 0 && fseeko(x->body, 0, SEEK_SET) == 0;

	for (size_t i = 0; ok && i < 2; i++)
		ok = part[i]->len == 0 || fwrite(part[i]->data, 1, part[i]->len, out) == part[i]->len;
	while (ok && (n = fread(chunk, 1, sizeof(chunk), x->body)) > 0)
		ok = fwrite(chunk, 1, n, out) == n;
	if (!ok || ferror(x->body) || fflush(out) != 0 || ferror(out))
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_IO,
				   "cannot write %s: %s", name, strerror(errno));
	return MLA_OK;
}

/* The body's temporary file in dir (the bundle's, so that it needs no other file system),
 * removed from the directory at once: nothing is left behind, whatever happens. */
static mla_err open_body(struct export_ctx *x, const char *dir)
{
	char path[4096];
	int fd = -1;

	if (mla_snprintf(path, sizeof(path), "%s/.mlagw-export.XXXXXX", dir) != MLA_OK)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_IO,
				   "output path is too long");
	if ((fd = mkstemp(path)) < 0 || unlink(path) != 0 ||
	    (x->body = fdopen(fd, "w+b")) == NULL) {
		int err = errno;

		if (fd >= 0) {
			(void)unlink(path);
			close(fd);
		}
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_IO,
				   "cannot create a temporary file in %s: %s", dir, strerror(err));
	}
	(void)setvbuf(x->body, NULL, _IOFBF, (size_t)1 << 20); /* a hint: fewer writes */
	return MLA_OK;
}

static void ctx_init(struct export_ctx *x, const mla_audit_source *src,
		     const struct mla_audit_filter *filter, mla_audit_export_result *res,
		     mla_diag *diag)
{
	memset(x, 0, sizeof(*x));
	memset(res, 0, sizeof(*res));
	x->src = src;
	x->filter = filter;
	x->filtered = filter != NULL &&
		      (filter->case_id != NULL || filter->from != NULL || filter->to != NULL);
	x->res = res;
	x->diag = diag;
	mla_buf_init(&x->peer_certs, MLA_BUNDLE_MAX);
	mla_buf_init(&x->first_note, MLA_BUNDLE_MAX);
}

static void ctx_free(struct export_ctx *x)
{
	if (x->body != NULL)
		fclose(x->body);
	mla_buf_free(&x->peer_certs);
	json_decref(x->sizes);
	export_sort_free(x);
	free(x->leaves);
	free(x->sealed);
	free(x->key_changes);
	free(x->dirs);
	mla_buf_free(&x->first_note);
}

/* Where the bundle goes: out, or (out NULL) the FILE open_out opens once the bundle is
 * complete; name for messages. */
struct export_sink {
	FILE *out;
	mla_err (*open_out)(struct export_ctx *x, void *arg, FILE **fp);
	void *arg;
	const char *name;
	const char *tmp_dir; /* where the body's temporary file goes */
};

/* Reads the source, builds the bundle, writes it to the sink. */
static mla_err export_run(const mla_audit_source *src, const uint8_t *pem, size_t len,
			  const struct mla_audit_filter *filter, const struct export_sink *sink,
			  mla_audit_export_result *res, mla_diag *diag)
{
	struct export_ctx x;
	mla_buf head, cert;
	FILE *fp = sink->out;
	mla_err r;

	ctx_init(&x, src, filter, res, diag);
	mla_buf_init(&head, MLA_BUNDLE_MAX);
	mla_buf_init(&cert, mla_bundle_type_max(MLA_BUNDLE_CERTIFICATE));
	if ((x.sizes = json_array()) == NULL)
		r = export_fail(&x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM, "out of memory");
	else if ((r = cert_state(&x, pem, len, &cert)) == MLA_OK &&
		 (r = open_body(&x, sink->tmp_dir)) == MLA_OK &&
		 (r = export_checkpoints(&x)) == MLA_OK && (r = export_log(&x)) == MLA_OK &&
		 (r = export_second_read(&x)) == MLA_OK && (r = export_messages(&x)) == MLA_OK &&
		 (r = export_directories(&x)) == MLA_OK &&
		 (r = export_crls(&x)) == MLA_OK &&
		 (r = export_head(&x, cert.data, cert.len, &head)) == MLA_OK &&
		 (fp != NULL || (r = sink->open_out(&x, sink->arg, &fp)) == MLA_OK))
		r = write_bundle(&x, &head, fp, sink->name);
	mla_buf_free(&head);
	mla_buf_free(&cert);
	ctx_free(&x);
	return r;
}

mla_err mla_audit_export(const mla_audit_source *src, const uint8_t *cert_pem, size_t cert_len,
			 const struct mla_audit_filter *filter, FILE *out,
			 mla_audit_export_result *res, mla_diag *diag)
{
	const char *tmp = getenv("TMPDIR");
	struct export_sink sink = {out, NULL, NULL, "the bundle",
				   tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp"};

	mla_require(out != NULL);
	return export_run(src, cert_pem, cert_len, filter, &sink, res, diag);
}

struct export_file {
	const char *path;
	char tmp[4096];
	FILE *fp;
};

/* The temporary file beside path, opened once the bundle is complete. */
static mla_err open_tmp(struct export_ctx *x, void *arg, FILE **fp)
{
	struct export_file *f = arg;
	int fd;

	if (mla_snprintf(f->tmp, sizeof(f->tmp), "%s.tmp.%ld", f->path, (long)getpid()) != MLA_OK)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_IO,
				   "output path is too long");
	if ((fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    (f->fp = fdopen(fd, "wb")) == NULL) {
		int err = errno;

		if (fd >= 0) {
			close(fd);
			unlink(f->tmp);
		}
		export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_IO, "cannot create %s: %s", f->tmp,
			    strerror(err));
		f->fp = NULL;
		return MLA_ERR_IO;
	}
	*fp = f->fp;
	return MLA_OK;
}

/* fsync, close and rename the written file; on failure (or r not MLA_OK) remove it. */
static mla_err finish_tmp(struct export_file *f, mla_err r, mla_audit_export_result *res,
			  mla_diag *diag)
{
	if (f->fp == NULL)
		return r;
	if (r == MLA_OK && fsync(fileno(f->fp)) != 0)
		r = MLA_ERR_IO;
	if (fclose(f->fp) != 0 && r == MLA_OK)
		r = MLA_ERR_IO;
	if (r == MLA_OK && rename(f->tmp, f->path) != 0)
		r = MLA_ERR_IO;
	if (r != MLA_OK)
		unlink(f->tmp);
	if (r != MLA_OK && res->fault == MLA_AUDIT_EXPORT_OK) {
		res->fault = MLA_AUDIT_EXPORT_BUNDLE;
		r = mla_fail(diag, r, "cannot write %s: %s", f->path, strerror(errno));
	}
	return r;
}

mla_err mla_audit_export_file(const mla_audit_source *src, const uint8_t *cert_pem,
			      size_t cert_len, const struct mla_audit_filter *filter,
			      const char *path, mla_audit_export_result *res, mla_diag *diag)
{
	struct export_file f = {path, "", NULL};
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct export_sink sink = {NULL, open_tmp, &f, path, dir};
	mla_err r;

	if (slash == NULL)
		mla_require(mla_strcpy(dir, sizeof(dir), ".") == MLA_OK);
	else if (mla_snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) != MLA_OK ||
		 dir[0] == '\0')
		(void)mla_snprintf_cut(dir, sizeof(dir), "%s", slash == path ? "/" : ".");
	r = export_run(src, cert_pem, cert_len, filter, &sink, res, diag);

	return finish_tmp(&f, r, res, diag);
}
