/* mlagw audit export: writes the audit bundle (SPEC section 15) of a gateway from its store,
 * read through the store's read-only reader (gateway/store/store_reader.h): every entry up to
 * the latest checkpoint, every checkpoint, the audit certificate, and the envelopes and
 * receipts of the messages the entries name (optionally only those of a case or a time
 * range). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit_bundle.h"
#include "audit_export_proofs.h"
#include "mlagw/audit.h"
#include "cli_util.h"
#include "mlagw/audit_entry.h"
#include "mlagw/bundle.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "store/store_reader.h"

#define CMD "audit export"

static const char export_usage[] =
	"usage: mlagw audit export --store STORE.db --cert AUDIT.crt --out FILE\n"
	"                          [--case ID] [--from TIME] [--to TIME]\n"
	"Writes the audit bundle of a gateway (read-only on its store): every entry up to the\n"
	"latest checkpoint (always complete, so that roots can be recomputed), every checkpoint,\n"
	"the audit certificate, and the envelopes and receipts of the messages whose entries match\n"
	"the filters (all when none). TIME: YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC); --to is\n"
	"inclusive. exit: 0 written, 2 usage, 3 cannot read the store or certificate or write FILE\n";

struct export_args {
	const char *store, *cert, *out, *case_id, *from, *to;
	struct mla_audit_filter filter;
};

struct export_ctx {
	store_reader *rd;
	int rc;       /* the CLI status a callback stopped with */
	const struct export_args *a;
	mla_buf body; /* entries, checkpoints, envelopes, receipts */
	mla_buf *cps, *peer_certs;
	json_t *sizes;
	char (*ids)[MLA_UUID_LEN + 1];
	size_t nids, capids;
	size_t n_entries, n_cps, n_env, n_rec, n_wit, n_peer_certs, n_proofs;
	uint8_t (*leaves)[32]; /* of the entries exported, for the proofs */
	struct seq_id { uint64_t seq; char id[MLA_UUID_LEN + 1]; } *named; /* filtered: */
	size_t nnamed, capnamed; /* the entries that name a message */
	uint64_t last_size;
	char state[3];
};

static int parse(int argc, char **argv, struct export_args *a)
{
	static const struct option opts[] = {
		{"store", 1, NULL, 's'}, {"cert", 1, NULL, 'c'}, {"out", 1, NULL, 'o'},
		{"case", 1, NULL, 'k'},	 {"from", 1, NULL, 'f'}, {"to", 1, NULL, 't'},
		{"help", 0, NULL, 'h'},	 {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->store = optarg; break;
		case 'c': a->cert = optarg; break;
		case 'o': a->out = optarg; break;
		case 'k': a->case_id = optarg; break;
		case 'f': a->from = optarg; break;
		case 't': a->to = optarg; break;
		case 'h': fputs(export_usage, stdout); return -1;
		default:
			return cli_usage_error(CMD, "unknown option or missing value: %s",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(CMD, "unexpected argument: %s", argv[optind]);
	if (a->store == NULL || a->cert == NULL || a->out == NULL)
		return cli_usage_error(CMD, "--store, --cert and --out are required");
	/* no entry has a longer case id; the verifier refuses a manifest that names one */
	if (a->case_id != NULL && strlen(a->case_id) > MLA_CASE_ID_MAX)
		return cli_usage_error(CMD, "--case takes at most %d bytes", MLA_CASE_ID_MAX);
	if (!mla_audit_filter_init(&a->filter, a->case_id, a->from, a->to))
		return cli_usage_error(CMD, "--from and --to take YYYY-MM-DD[Thh:mm:ssZ]");
	return CLI_OK;
}

/* The CLI status of a reader call: a callback's own status if one stopped it, else the
 * store's error (exit 3: the store cannot be read). */
static int read_done(const struct export_ctx *x, mla_err e, const mla_diag *d)
{
	if (e == MLA_OK)
		return CLI_OK;
	if (x->rc != CLI_OK)
		return x->rc;
	fprintf(stderr, "mlagw " CMD ": %s\n", d->msg[0] != '\0' ? d->msg : mla_strerror(e));
	return e == MLA_ERR_NOMEM ? CLI_INTERNAL : CLI_IO;
}

/* Keeps a callback's CLI status and stops the reader when it is not CLI_OK. */
static mla_err keep(struct export_ctx *x, int rc)
{
	x->rc = rc;
	return rc == CLI_OK ? MLA_OK : MLA_ERR_INTERNAL;
}

static int add_to(mla_buf *out, mla_bundle_type t, const char *name, const void *p, size_t n)
{
	mla_diag d = {MLA_OK, ""};
	mla_err r = mla_bundle_add(out, t, name, p, n, &d);

	return r == MLA_OK ? CLI_OK : cli_fail(CMD, r, &d);
}

/* Collects the id; duplicates are removed once, after sorting (export_messages): a search
 * per entry made a 1M-entry export quadratic. */
static int select_message(struct export_ctx *x, const mla_audit_entry *e)
{
	void *p = cli_grow(x->ids, &x->capids, x->nids, sizeof(*x->ids));

	if (p == NULL)
		return CLI_INTERNAL;
	x->ids = p;
	memcpy(x->ids[x->nids++], e->message_id, MLA_UUID_LEN + 1);
	return CLI_OK;
}

static mla_err checkpoint_row(const struct store_checkpoint_row *row, void *arg)
{
	struct export_ctx *x = arg;
	char name[24];
	int rc;

	mla_require(mla_snprintf(name, sizeof(name), "%llu", (unsigned long long)row->size) ==
		    MLA_OK);
	rc = add_to(x->cps, MLA_BUNDLE_CHECKPOINT, name, row->note, row->len);
	x->last_size = row->size;
	x->n_cps++;
	if (rc == CLI_OK && json_array_append_new(x->sizes, json_integer((json_int_t)row->size)))
		rc = CLI_INTERNAL;
	return keep(x, rc);
}

/* Every checkpoint (ascending size); the last gives the entries' extent. */
static int export_checkpoints(struct export_ctx *x)
{
	mla_diag d = {MLA_OK, ""};
	int rc = read_done(x, store_reader_checkpoints(x->rd, checkpoint_row, x, &d), &d);

	if (rc == CLI_OK && x->n_cps == 0) {
		fprintf(stderr, "mlagw " CMD ": the store has no checkpoint yet (stop the gateway "
				"cleanly, or wait for its checkpoint interval)\n");
		rc = CLI_IO;
	}
	return rc;
}

/* One peer audit certificate as PEM, "peer.<State>.<16 hex of the SHA-256 of the DER>". */
static mla_err peer_cert_row(const struct store_peer_cert_row *row, void *arg)
{
	struct export_ctx *x = arg;
	const unsigned char *der = row->der;
	X509 *cert = d2i_X509(NULL, &der, (long)row->len);
	BIO *bio = BIO_new(BIO_s_mem());
	const uint8_t *fp = row->fingerprint;
	char name[MLA_BUNDLE_NAME_MAX + 1], hex[17], *pem;
	int rc;
	long n;

	if (cert == NULL || bio == NULL || PEM_write_bio_X509(bio, cert) != 1 ||
	    (n = BIO_get_mem_data(bio, &pem)) <= 0) {
		fprintf(stderr, "mlagw " CMD ": store: a peer audit certificate is unreadable\n");
		rc = CLI_IO;
	} else {
		mla_require(mla_hex_encode(fp, 8, hex, sizeof(hex)) == MLA_OK);
		mla_require(mla_snprintf(name, sizeof(name), "peer.%.2s.%s", row->state, hex) ==
			    MLA_OK);
		rc = add_to(x->peer_certs, MLA_BUNDLE_CERTIFICATE, name, pem, (size_t)n);
		x->n_peer_certs++;
	}
	X509_free(cert);
	BIO_free(bio);
	return keep(x, rc);
}

static int export_peer_certs(struct export_ctx *x)
{
	mla_diag d = {MLA_OK, ""};

	return read_done(x, store_reader_peer_certs(x->rd, peer_cert_row, x, &d), &d);
}

/* A peer's checkpoint this gateway cosigned, "<State>.<size>" (the reader gives them by
 * origin, then size). */
static mla_err witnessed_row(const struct store_witnessed_row *row, void *arg)
{
	struct export_ctx *x = arg;
	const char *origin = row->origin;
	char name[MLA_BUNDLE_NAME_MAX + 1];
	int rc;

	if (strlen(origin) < 8 || strncmp(origin, "mlagw.", 6) != 0) {
		fprintf(stderr, "mlagw " CMD ": store: a witnessed origin is unreadable\n");
		return keep(x, CLI_IO);
	}
	mla_require(mla_snprintf(name, sizeof(name), "%c%c.%llu", origin[6] - 32, origin[7] - 32,
				 (unsigned long long)row->size) == MLA_OK);
	rc = add_to(&x->body, MLA_BUNDLE_WITNESSED, name, row->note, row->len);
	x->n_wit++;
	return keep(x, rc);
}

static int export_witnessed(struct export_ctx *x)
{
	mla_diag d = {MLA_OK, ""};

	return read_done(x, store_reader_witnessed(x->rd, witnessed_row, x, &d), &d);
}

static int is_filtered(const struct export_args *a)
{
	return a->case_id != NULL || a->from != NULL || a->to != NULL;
}

static int remember_named(struct export_ctx *x, uint64_t seq, const char *id)
{
	void *p = cli_grow(x->named, &x->capnamed, x->nnamed, sizeof(*x->named));

	if (p == NULL)
		return CLI_INTERNAL;
	x->named = p;
	x->named[x->nnamed].seq = seq;
	memcpy(x->named[x->nnamed++].id, id, MLA_UUID_LEN + 1);
	return CLI_OK;
}

static int cmp_id(const void *a, const void *b);

/* The proofs, after the witnessed heads: between consecutive checkpoints, and in a filtered
 * bundle of each entry of a selected message (x->ids sorted by export_messages). */
static int export_proofs(struct export_ctx *x)
{
	uint64_t *sizes = calloc(x->n_cps + 1, sizeof(*sizes)), *incl = NULL;
	size_t n = 0, i;
	json_t *v;
	int rc = CLI_OK;

	if (sizes == NULL || (incl = calloc(x->nnamed + 1, sizeof(*incl))) == NULL) {
		free(sizes);
		return CLI_INTERNAL;
	}
	json_array_foreach(x->sizes, i, v)
		sizes[i] = (uint64_t)json_integer_value(v);
	for (i = 0; i < x->nnamed; i++)
		if (x->nids > 0 && bsearch(x->named[i].id, x->ids, x->nids, sizeof(*x->ids),
					   cmp_id) != NULL)
			incl[n++] = x->named[i].seq;
	if (x->n_entries != x->last_size) /* a gap in the table: no tree to prove from */
		fprintf(stderr, "mlagw audit export: the audit table holds %zu of the %llu entries "
			"its latest checkpoint covers: no proofs written; the verifier names what "
			"is missing\n", x->n_entries, (unsigned long long)x->last_size);
	else
		rc = audit_export_proofs(&x->body, (const uint8_t(*)[32])x->leaves, x->n_entries,
					 sizes, json_array_size(x->sizes), incl, n, &x->n_proofs);
	free(sizes);
	free(incl);
	return rc;
}

/* One entry, exported as stored; an unparsable one too (the verifier reports it). */
static mla_err entry_row(const struct store_audit_row *row, void *arg)
{
	struct export_ctx *x = arg;
	mla_diag d = {MLA_OK, ""};
	mla_audit_entry e;
	char name[24];
	int rc;

	mla_require(mla_snprintf(name, sizeof(name), "%llu", (unsigned long long)row->seq) ==
		    MLA_OK);
	if ((rc = add_to(&x->body, MLA_BUNDLE_ENTRY, name, row->entry, row->len)) != CLI_OK)
		return keep(x, rc);
	if (row->leaf != NULL) /* else no proof verifies: reported there */
		memcpy(x->leaves[x->n_entries], row->leaf, 32);
	x->n_entries++;
	if (mla_audit_entry_parse(row->entry, row->len, &e, &d) != MLA_OK ||
	    e.message_id[0] == '\0')
		return MLA_OK;
	if (mla_audit_filter_selects(&x->a->filter, &e))
		rc = select_message(x, &e);
	if (rc == CLI_OK && is_filtered(x->a))
		rc = remember_named(x, x->n_entries - 1, e.message_id);
	return keep(x, rc);
}

static int export_entries(struct export_ctx *x)
{
	mla_diag d = {MLA_OK, ""};

	if ((x->leaves = calloc(x->last_size + 1, sizeof(*x->leaves))) == NULL)
		return CLI_INTERNAL;
	return read_done(x, store_reader_audit(x->rd, 0, x->last_size, entry_row, x, &d), &d);
}

struct blob_add {
	struct export_ctx *x;
	mla_bundle_type t;
	const char *id;
};

static mla_err blob_row(const uint8_t *p, size_t n, void *arg)
{
	const struct blob_add *b = arg;

	return keep(b->x, add_to(&b->x->body, b->t, b->id, p, n));
}

/* The envelope or receipt of id as a record of type t, when the store has one. */
static int export_blob(struct export_ctx *x, const char *id, mla_bundle_type t, size_t *count)
{
	struct blob_add b = {x, t, id};
	mla_diag d = {MLA_OK, ""};
	mla_err e = t == MLA_BUNDLE_ENVELOPE
			    ? store_reader_envelope(x->rd, id, blob_row, &b, &d)
			    : store_reader_receipt(x->rd, id, blob_row, &b, &d);

	if (e == MLA_ERR_NOT_FOUND)
		return CLI_OK;
	if (e == MLA_OK)
		(*count)++;
	return read_done(x, e, &d);
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int export_messages(struct export_ctx *x)
{
	int rc = CLI_OK;
	size_t n = 0;

	if (x->nids > 0)
		qsort(x->ids, x->nids, sizeof(*x->ids), cmp_id);
	for (size_t i = 0; i < x->nids; i++)
		if (n == 0 || strcmp(x->ids[n - 1], x->ids[i]) != 0)
			memmove(x->ids[n++], x->ids[i], MLA_UUID_LEN + 1);
	x->nids = n;
	if ((rc = export_proofs(x)) != CLI_OK)
		return rc;
	for (size_t i = 0; i < x->nids && rc == CLI_OK; i++)
		rc = export_blob(x, x->ids[i], MLA_BUNDLE_ENVELOPE, &x->n_env);
	for (size_t i = 0; i < x->nids && rc == CLI_OK; i++)
		rc = export_blob(x, x->ids[i], MLA_BUNDLE_RECEIPT, &x->n_rec);
	return rc;
}

static json_t *manifest(const struct export_ctx *x, const struct export_args *a)
{
	char origin[32];

	mla_require(mla_snprintf(origin, sizeof(origin), "mlagw.%c%c/audit", x->state[0] + 32,
				 x->state[1] + 32) == MLA_OK);
	return json_pack("{sssssssIsIsOs{sIsIsIsIsIsIsI}s{ss?ss?ss?}}", "format",
			 "mlagw-audit-bundle/2", "state", x->state, "origin", origin, "first_seq",
			 (json_int_t)0, "last_seq", (json_int_t)x->last_size - 1,
			 "checkpoint_sizes", x->sizes, "counts", "entries",
			 (json_int_t)x->n_entries, "checkpoints", (json_int_t)x->n_cps, "witnessed",
			 (json_int_t)x->n_wit, "peer_certificates", (json_int_t)x->n_peer_certs,
			 "proofs", (json_int_t)x->n_proofs,
			 "envelopes", (json_int_t)x->n_env, "receipts", (json_int_t)x->n_rec,
			 "filter", "case", a->case_id, "from", a->from, "to", a->to);
}

static int cert_state(const char *path, char state[3])
{
	mla_diag d = {MLA_OK, ""};
	X509 *cert = NULL;
	mla_err r = mla_pem_load_cert(path, &cert, &d);
	int n = -1;

	if (r != MLA_OK)
		return cli_fail(CMD, r, &d);
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_countryName, state, 3);
	X509_free(cert);
	if (n != 2 || state[0] < 'A' || state[0] > 'Z' || state[1] < 'A' || state[1] > 'Z') {
		fprintf(stderr, "mlagw " CMD ": %s: the subject has no State (C=)\n", path);
		return CLI_IO;
	}
	return CLI_OK;
}

/* Writes magic, manifest, certificate, then the body. */
static int assemble(struct export_ctx *x, const struct export_args *a, const mla_buf *pem,
		    const mla_buf *peer_certs)
{
	mla_diag d = {MLA_OK, ""};
	json_t *m = manifest(x, a);
	char *ms = m != NULL ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	mla_buf out;
	mla_err r = MLA_ERR_NOMEM;
	int rc;

	mla_buf_init(&out, MLA_BUNDLE_MAX);
	if (ms != NULL && (r = mla_bundle_begin(&out)) == MLA_OK &&
	    (r = mla_bundle_add(&out, MLA_BUNDLE_MANIFEST, "manifest", ms, strlen(ms), &d)) ==
		    MLA_OK &&
	    (r = mla_bundle_add(&out, MLA_BUNDLE_CERTIFICATE, "audit", pem->data, pem->len, &d)) ==
		    MLA_OK &&
	    (r = mla_buf_append(&out, peer_certs->data, peer_certs->len)) == MLA_OK &&
	    (r = mla_buf_append(&out, x->body.data, x->body.len)) == MLA_OK)
		r = cli_write_file(a->out, out.data, out.len, 0644, &d);
	rc = r == MLA_OK ? CLI_OK : cli_fail(CMD, r, &d);
	if (rc == CLI_OK)
		fprintf(stderr, "mlagw " CMD ": %s: %s, %zu entries, %zu checkpoints, %zu envelopes,"
			" %zu receipts\n", a->out, x->state, x->n_entries, x->n_cps, x->n_env,
			x->n_rec);
	mla_buf_free(&out);
	free(ms);
	json_decref(m);
	return rc;
}

static int open_store(struct export_ctx *x, const char *path)
{
	mla_diag d = {MLA_OK, ""};

	return read_done(x, store_reader_open(path, &x->rd, &d), &d);
}

/* Reads the store (one snapshot from the open on, even while the gateway writes to it) and
 * writes the bundle: the records in the order SPEC section 15 fixes. */
static int export_all(struct export_ctx *x, const mla_buf *pem)
{
	int rc;

	if ((rc = open_store(x, x->a->store)) != CLI_OK || (rc = export_checkpoints(x)) != CLI_OK ||
	    (rc = export_entries(x)) != CLI_OK || (rc = export_peer_certs(x)) != CLI_OK)
		return rc;
	if (mla_buf_append(&x->body, x->cps->data, x->cps->len) != MLA_OK)
		return cli_fail(CMD, MLA_ERR_TOO_LARGE, NULL);
	if ((rc = export_witnessed(x)) != CLI_OK || (rc = export_messages(x)) != CLI_OK)
		return rc;
	return assemble(x, x->a, pem, x->peer_certs);
}

int cmd_audit_export(int argc, char **argv)
{
	struct export_args a;
	struct export_ctx x;
	mla_diag d = {MLA_OK, ""};
	mla_buf pem, cps, peer_certs;
	mla_err r;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&x, 0, sizeof(x));
	if ((rc = parse(argc, argv, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	x.a = &a;
	x.cps = &cps;
	x.peer_certs = &peer_certs;
	mla_buf_init(&x.body, MLA_BUNDLE_MAX);
	mla_buf_init(&cps, MLA_BUNDLE_MAX);
	mla_buf_init(&pem, 0);
	mla_buf_init(&peer_certs, MLA_BUNDLE_MAX);
	x.sizes = json_array();
	if ((rc = cert_state(a.cert, x.state)) != CLI_OK)
		goto out;
	if ((r = cli_read_file(a.cert, mla_bundle_type_max(MLA_BUNDLE_CERTIFICATE), &pem, &d))) {
		rc = cli_fail(CMD, r, &d);
		goto out;
	}
	rc = export_all(&x, &pem);
out:
	store_reader_close(x.rd);
	mla_buf_free(&x.body);
	mla_buf_free(&cps);
	mla_buf_free(&pem);
	mla_buf_free(&peer_certs);
	json_decref(x.sizes);
	free(x.ids);
	free(x.leaves);
	free(x.named);
	return rc;
}
