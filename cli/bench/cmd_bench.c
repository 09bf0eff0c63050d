/* mlagw bench envelope: seal and open rates on one core for a few document sizes, printed
 * beside the rate the bare OpenSSL primitives allow (bench_bound.c), measured in the same run;
 * and the dispatch to `mlagw bench gateway` (bench_gateway.c) and `mlagw bench audit`
 * (bench_audit.c).
 * It prints figures only; it never passes or fails on speed. */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlversion.h>
#include <openssl/crypto.h>
#include <xmlsec/version.h>

#include "bench_bound.h"
#include "bench_gateway.h"
#include "../cli_util.h"
#include "../commands.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"
#include "mlagw/pem.h"
#include "mlagw/pki.h"

#define MAX_SIZES 8
#define OWN_STATE "CO"

struct bench_args {
	double seconds;
	long rsa_bits;
	size_t sizes[MAX_SIZES];
	size_t nsizes;
	int json;
};

/* The throwaway PKI and the key holders loaded from it. */
struct bench_env {
	char dir[PATH_MAX];
	int have_dir;
	mla_signer *signer;
	mla_recipient *rcpt;
	mla_trust *trust;
	mla_keyring *keys;
	EVP_PKEY *ec, *rsa; /* the same keys, for the bare-OpenSSL bound */
	mla_limits lim;
	mla_header h;
};

/* Figures for one document size; times are seconds per operation. */
struct bench_row {
	size_t size, env_len;
	double seal, open;
	struct bench_bulk bulk;
	struct bench_bounds bound;
};

struct bench_result {
	struct bench_fixed fixed;
	struct bench_row rows[MAX_SIZES];
	size_t nrows;
};

enum { O_SECONDS = 256, O_RSA_BITS, O_SIZES, O_JSON };

static const struct option bench_options[] = {
	{"seconds", required_argument, NULL, O_SECONDS},
	{"rsa-bits", required_argument, NULL, O_RSA_BITS},
	{"sizes", required_argument, NULL, O_SIZES},
	{"json", no_argument, NULL, O_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const char bench_usage[] =
	"usage: mlagw bench envelope [--seconds S] [--rsa-bits N] [--sizes B,B,...] [--json]\n"
	"       mlagw bench gateway [options]   (two local gateways; see mlagw bench gateway --help)\n"
	"       mlagw bench audit [--entries N] [--seconds S] [--json]   (the audit log)\n"
	"       mlagw bench evidence --size BYTES [--download]   (an attachment, two local gateways;\n"
	"                                        see mlagw bench evidence --help)\n"
	"\n"
	"Seals and opens envelopes in a loop on one thread, with a throwaway test PKI (ES signs\n"
	"with ECDSA P-256, CO receives with RSA-OAEP), and prints seals/s, opens/s and cycles/s\n"
	"beside the bound the bare OpenSSL operations allow on the same keys, measured in the\n"
	"same run: seal = ECDSA sign + RSA-OAEP encrypt + AES-256-GCM(doc) + SHA-256(doc),\n"
	"open = ECDSA verify + RSA-OAEP decrypt + AES-256-GCM(doc) + SHA-256(doc).\n"
	"  --seconds S   minimum wall time of each measurement (default 0.3)\n"
	"  --rsa-bits N  recipient RSA key size (default 3072)\n"
	"  --sizes LIST  document sizes in bytes (default 2048,1048576)\n"
	"  --json        print the figures as JSON\n"
	"It prints figures only and exits 0; it does not judge them.\n";

static int parse_seconds(const char *s, double *out)
{
	char *end = NULL;
	double v;

	if (s == NULL || *s == '\0')
		return -1;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v) || v < 0.01 || v > 3600.0)
		return -1;
	*out = v;
	return 0;
}

/* "2048,1048576": up to MAX_SIZES sizes of 1 byte to max bytes. */
static int parse_sizes(const char *s, size_t max, struct bench_args *a)
{
	char tok[24];
	const char *comma;
	long v;
	int n;

	a->nsizes = 0;
	for (;;) {
		comma = strchr(s, ',');
		n = snprintf(tok, sizeof(tok), "%.*s", comma != NULL ? (int)(comma - s) : 23, s);
		if (n < 0 || (size_t)n >= sizeof(tok) || a->nsizes >= MAX_SIZES ||
		    cli_parse_long(tok, 1, (long)max, &v) != 0)
			return -1;
		a->sizes[a->nsizes++] = (size_t)v;
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

static int apply_option(int c, const char *v, void *args)
{
	struct bench_args *a = args;

	switch (c) {
	case O_SECONDS:
		if (parse_seconds(v, &a->seconds) != 0)
			return cli_usage_error("bench", "--seconds must be a number from 0.01 to 3600");
		return CLI_OK;
	case O_RSA_BITS:
		if (cli_parse_long(v, 2048, 16384, &a->rsa_bits) != 0)
			return cli_usage_error("bench", "--rsa-bits must be from 2048 to 16384");
		return CLI_OK;
	case O_SIZES:
		if (parse_sizes(v, MLA_DEFAULT_MAX_DOCUMENT_BYTES, a) != 0)
			return cli_usage_error("bench",
					       "--sizes takes up to %d comma-separated sizes of 1 to "
					       "%zu bytes",
					       MAX_SIZES, MLA_DEFAULT_MAX_DOCUMENT_BYTES);
		return CLI_OK;
	case O_JSON:
		a->json = 1;
		return CLI_OK;
	default:
		return cli_usage_error("bench", "unknown option");
	}
}

static const struct cli_optspec bench_spec = {
	"bench", bench_usage, "h", bench_options, apply_option,
};

static mla_err make_state(struct bench_env *e, const char *state, int rsa_bits, mla_diag *d)
{
	mla_pki_opts o;

	memset(&o, 0, sizeof(o));
	o.state = state;
	o.out_dir = e->dir;
	o.rsa_bits = rsa_bits;
	return mla_pki_init(&o, d);
}

static const char *pki_path(const struct bench_env *e, const char *rel, char out[PATH_MAX])
{
	int n = snprintf(out, PATH_MAX, "%s/%s", e->dir, rel);

	return n > 0 && n < PATH_MAX ? out : "";
}

static mla_err load_keys(struct bench_env *e, mla_diag *d)
{
	char a[PATH_MAX], b[PATH_MAX];
	mla_err r;

	if ((r = mla_trust_new(&e->trust)) != MLA_OK ||
	    (r = mla_trust_add_file(e->trust, pki_path(e, "ES/root.crt", a), d)) != MLA_OK ||
	    (r = mla_signer_load(pki_path(e, "ES/sign.crt", a), pki_path(e, "ES/sign.key", b),
				 &e->signer, d)) != MLA_OK ||
	    (r = mla_recipient_load(pki_path(e, "CO/encrypt.crt", a), &e->rcpt, d)) != MLA_OK ||
	    (r = mla_keyring_new(&e->keys)) != MLA_OK ||
	    (r = mla_keyring_add_file(e->keys, pki_path(e, "CO/encrypt.crt", a),
				      pki_path(e, "CO/encrypt.key", b), d)) != MLA_OK ||
	    (r = bench_load_key(pki_path(e, "ES/sign.key", a), &e->ec, d)) != MLA_OK ||
	    (r = bench_load_key(pki_path(e, "CO/encrypt.key", a), &e->rsa, d)) != MLA_OK)
		return r;
	return MLA_OK;
}

static mla_err set_header(mla_header *h)
{
	mla_err r;

	if ((r = mla_header_init(h)) != MLA_OK)
		return r;
	memcpy(h->from_state, "ES", 3);
	memcpy(h->to_state, OWN_STATE, 3);
	if ((r = mla_strcpy(h->kind, sizeof(h->kind), "mla")) != MLA_OK ||
	    (r = mla_strcpy(h->from_authority, sizeof(h->from_authority),
			    "Ministerio de Justicia")) != MLA_OK)
		return r;
	return mla_strcpy(h->to_authority, sizeof(h->to_authority), "Fiscalia General de la Nacion");
}

static mla_err env_setup(struct bench_env *e, const struct bench_args *a, mla_diag *d)
{
	const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	int n = snprintf(e->dir, sizeof(e->dir), "%s/mlagw-bench-XXXXXX", tmp);
	mla_err r;

	if (n < 0 || (size_t)n >= sizeof(e->dir))
		return mla_fail(d, MLA_ERR_IO, "TMPDIR is too long");
	if (mkdtemp(e->dir) == NULL)
		return mla_fail(d, MLA_ERR_IO, "cannot create a directory in %s", tmp);
	e->have_dir = 1;
	mla_limits_default(&e->lim);
	if ((r = make_state(e, "ES", (int)a->rsa_bits, d)) != MLA_OK ||
	    (r = make_state(e, OWN_STATE, (int)a->rsa_bits, d)) != MLA_OK ||
	    (r = load_keys(e, d)) != MLA_OK)
		return r;
	if ((r = set_header(&e->h)) != MLA_OK)
		return mla_fail(d, r, "cannot make the envelope header");
	return MLA_OK;
}

static void env_free(struct bench_env *e)
{
	mla_signer_free(e->signer);
	mla_recipient_free(e->rcpt);
	mla_trust_free(e->trust);
	mla_keyring_free(e->keys);
	EVP_PKEY_free(e->ec);
	EVP_PKEY_free(e->rsa);
	if (e->have_dir && bench_remove_tree(e->dir) != 0)
		fprintf(stderr, "mlagw bench: warning: could not remove %s\n", e->dir);
}

/* What the seal and open loops work on. */
struct cycle_arg {
	struct bench_env *e;
	const uint8_t *doc;
	size_t len;
	mla_buf env; /* the envelope the open loop opens */
};

static mla_err op_seal(void *arg, mla_diag *d)
{
	struct cycle_arg *c = arg;
	mla_buf env;
	mla_err r;

	r = mla_envelope_seal(&c->e->h, c->doc, c->len, c->e->signer, c->e->rcpt, &c->e->lim,
			      &env, d);
	mla_buf_free(&env);
	return r;
}

static mla_err op_open(void *arg, mla_diag *d)
{
	struct cycle_arg *c = arg;
	mla_verified v;
	mla_buf doc;
	mla_err r;

	r = mla_envelope_open(c->env.data, c->env.len, c->e->trust, c->e->keys, OWN_STATE,
			      &c->e->lim, &v, &doc, d);
	if (r == MLA_OK && doc.len != c->len)
		r = mla_fail(d, MLA_ERR_INTERNAL, "opened document has %zu bytes, sealed %zu",
			     doc.len, c->len);
	mla_buf_free(&doc);
	return r;
}

/* One envelope for the open loop, and a check that it opens to the very document. */
static mla_err seal_reference(struct cycle_arg *c, mla_diag *d)
{
	mla_verified v;
	mla_buf doc;
	mla_err r;

	if ((r = mla_envelope_seal(&c->e->h, c->doc, c->len, c->e->signer, c->e->rcpt, &c->e->lim,
				   &c->env, d)) != MLA_OK)
		return r;
	r = mla_envelope_open(c->env.data, c->env.len, c->e->trust, c->e->keys, OWN_STATE,
			      &c->e->lim, &v, &doc, d);
	if (r == MLA_OK && (doc.len != c->len || memcmp(doc.data, c->doc, c->len) != 0))
		r = mla_fail(d, MLA_ERR_INTERNAL, "opened document differs from the sealed one");
	mla_buf_free(&doc);
	return r;
}

static mla_err measure_size(struct bench_env *e, const struct bench_args *a,
			    const struct bench_fixed *f, struct bench_row *row, mla_diag *d)
{
	struct cycle_arg c;
	uint8_t *doc = bench_document(row->size);
	mla_err r;

	memset(&c, 0, sizeof(c));
	mla_buf_init(&c.env, 0);
	c.e = e;
	c.doc = doc;
	c.len = row->size;
	if (doc == NULL) {
		r = mla_fail(d, MLA_ERR_NOMEM, "cannot allocate a %zu-byte document", row->size);
		goto out;
	}
	if ((r = seal_reference(&c, d)) != MLA_OK ||
	    (r = bench_run(op_seal, &c, a->seconds, &row->seal, d)) != MLA_OK ||
	    (r = bench_run(op_open, &c, a->seconds, &row->open, d)) != MLA_OK ||
	    (r = bench_bound_bulk(row->size, a->seconds, &row->bulk, d)) != MLA_OK)
		goto out;
	row->env_len = c.env.len;
	bench_bound_rates(f, &row->bulk, &row->bound);
	r = MLA_OK;
out:
	mla_buf_free(&c.env);
	free(doc);
	return r;
}

static mla_err run_all(struct bench_env *e, const struct bench_args *a, struct bench_result *res,
		       mla_diag *d)
{
	mla_err r;

	if ((r = bench_bound_fixed(e->ec, e->rsa, a->seconds, &res->fixed, d)) != MLA_OK)
		return r;
	for (size_t i = 0; i < a->nsizes; i++) {
		res->rows[i].size = a->sizes[i];
		if ((r = measure_size(e, a, &res->fixed, &res->rows[i], d)) != MLA_OK)
			return r;
		res->nrows = i + 1;
	}
	return MLA_OK;
}

static void size_name(size_t size, char *out, size_t n)
{
	if (size >= (1u << 20) && size % (1u << 20) == 0)
		(void)mla_snprintf_cut(out, n, "%zu MiB", size >> 20); /* for display */
	else if (size >= 1024 && size % 1024 == 0)
		(void)mla_snprintf_cut(out, n, "%zu KiB", size >> 10);
	else
		(void)mla_snprintf_cut(out, n, "%zu B", size);
}

static void print_cols(double rate, double bound)
{
	printf(" | %9.1f | %9.1f | %5.1f%%", rate, bound, 100.0 * rate / bound);
}

static void print_text(const struct bench_env *e, const struct bench_args *a,
		       const struct bench_result *res)
{
	char cpu[128], sign[48], rsa[48], size[24];
	const struct bench_fixed *f = &res->fixed;

	bench_cpu_model(cpu, sizeof(cpu));
	bench_key_names(e->ec, e->rsa, sign, sizeof(sign), rsa, sizeof(rsa));
	printf("mlagw bench envelope: single thread, %.2f s per measurement\n", a->seconds);
	printf("cpu:    %s\n", cpu);
	printf("crypto: %s; xmlsec %s; libxml2 %s\n", OpenSSL_version(OPENSSL_VERSION),
	       XMLSEC_VERSION, LIBXML_DOTTED_VERSION);
	printf("keys:   signature %s/SHA-256, key transport %s OAEP (SHA-1, MGF1-SHA1), "
	       "content AES-256-GCM\n", sign, rsa);
	printf("bare OpenSSL ops/s: %s sign %.0f, verify %.0f; %s OAEP encrypt %.0f, decrypt %.0f\n",
	       sign, 1.0 / f->sign, 1.0 / f->verify, rsa, 1.0 / f->rsa_enc, 1.0 / f->rsa_dec);
	printf("bound: seal = sign + RSA encrypt + AES-GCM(doc) + SHA-256(doc); open = verify + "
	       "RSA decrypt + AES-GCM(doc) + SHA-256(doc); cycle = seal + open\n\n");
	printf("%-8s | %9s | %9s | %6s | %9s | %9s | %6s | %9s | %9s | %6s\n", "size", "seals/s",
	       "bound", "ratio", "opens/s", "bound", "ratio", "cycles/s", "bound", "ratio");
	for (size_t i = 0; i < res->nrows; i++) {
		const struct bench_row *r = &res->rows[i];
		size_name(r->size, size, sizeof(size));
		printf("%-8s", size);
		print_cols(1.0 / r->seal, r->bound.seal);
		print_cols(1.0 / r->open, r->bound.open);
		print_cols(1.0 / (r->seal + r->open), r->bound.cycle);
		printf("\n");
	}
	printf("\nenvelope bytes:");
	for (size_t i = 0; i < res->nrows; i++)
		printf(" %zu -> %zu;", res->rows[i].size, res->rows[i].env_len);
	printf(" cycles/s = 1 / (seal time + open time) measured above\n");
}

static void json_rate(const char *name, double rate, double bound)
{
	printf("\"%s_per_s\":%.1f,\"%s_bound_per_s\":%.1f,\"%s_ratio\":%.4f", name, rate, name,
	       bound, name, rate / bound);
}

static void print_json_row(const struct bench_row *r)
{
	printf("{\"bytes\":%zu,\"envelope_bytes\":%zu,\"aes_256_gcm_per_s\":%.1f,"
	       "\"sha256_per_s\":%.1f,",
	       r->size, r->env_len, 1.0 / r->bulk.gcm, 1.0 / r->bulk.sha256);
	json_rate("seals", 1.0 / r->seal, r->bound.seal);
	printf(",");
	json_rate("opens", 1.0 / r->open, r->bound.open);
	printf(",");
	json_rate("cycles", 1.0 / (r->seal + r->open), r->bound.cycle);
	printf("}");
}

static void print_json(const struct bench_env *e, const struct bench_args *a,
		       const struct bench_result *res)
{
	char cpu[128], sign[48], rsa[48];
	const struct bench_fixed *f = &res->fixed;

	bench_cpu_model(cpu, sizeof(cpu));
	bench_key_names(e->ec, e->rsa, sign, sizeof(sign), rsa, sizeof(rsa));
	printf("{\"benchmark\":\"envelope\",\"threads\":1,\"seconds\":%.3f,\"cpu\":", a->seconds);
	cli_json_string(stdout, cpu);
	printf(",\"openssl\":");
	cli_json_string(stdout, OpenSSL_version(OPENSSL_VERSION));
	printf(",\"xmlsec\":\"%s\",\"libxml2\":\"%s\",\"keys\":{\"signature\":\"%s/SHA-256\","
	       "\"key_transport\":\"%s OAEP SHA-1/MGF1-SHA1\",\"content\":\"AES-256-GCM\"},",
	       XMLSEC_VERSION, LIBXML_DOTTED_VERSION, sign, rsa);
	printf("\"openssl_ops_per_s\":{\"ecdsa_sign\":%.1f,\"ecdsa_verify\":%.1f,"
	       "\"rsa_oaep_encrypt\":%.1f,\"rsa_oaep_decrypt\":%.1f},\"sizes\":[",
	       1.0 / f->sign, 1.0 / f->verify, 1.0 / f->rsa_enc, 1.0 / f->rsa_dec);
	for (size_t i = 0; i < res->nrows; i++) {
		if (i > 0)
			printf(",");
		print_json_row(&res->rows[i]);
	}
	printf("]}\n");
}

static int bench_envelope(int argc, char **argv)
{
	struct bench_args a = {0.3, 3072, {2048, 1048576}, 2, 0};
	struct bench_env e;
	struct bench_result res;
	mla_diag d = {MLA_OK, ""};
	mla_err r;
	int rc;

	if ((rc = cli_parse_options(argc, argv, &bench_spec, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if (mla_crypto_init(&d) != MLA_OK)
		return cli_fail("bench", MLA_ERR_INTERNAL, &d);
	memset(&e, 0, sizeof(e));
	memset(&res, 0, sizeof(res));
	if ((r = env_setup(&e, &a, &d)) == MLA_OK && (r = run_all(&e, &a, &res, &d)) == MLA_OK) {
		if (a.json)
			print_json(&e, &a, &res);
		else
			print_text(&e, &a, &res);
	}
	env_free(&e);
	return r == MLA_OK ? CLI_OK : cli_fail("bench envelope", r, &d);
}

int cmd_bench(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(bench_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[1], "gateway") == 0)
		return bench_gateway(argc - 1, argv + 1);
	if (strcmp(argv[1], "audit") == 0)
		return bench_audit(argc - 1, argv + 1);
	if (strcmp(argv[1], "evidence") == 0)
		return bench_evidence(argc - 1, argv + 1);
	if (strcmp(argv[1], "envelope") != 0)
		return cli_usage_error("bench", "unknown benchmark '%s' (envelope, gateway)",
				       argv[1]);
	return bench_envelope(argc - 1, argv + 1);
}
