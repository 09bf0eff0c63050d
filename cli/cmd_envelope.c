/* mlagw envelope seal|verify|open: the envelope library on the command line, for States'
 * administrators, auditors (verify needs no private key) and interoperability tests. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"
#include "cli_util.h"
#include "commands.h"
#include "mlagw/envelope.h"
#include "mlagw/pem.h"

#define MAX_TRUST 16

struct env_args {
	const char *in, *out, *sign_cert, *sign_key, *recipient_cert, *key, *cert, *state;
	const char *trust[MAX_TRUST];
	int ntrust, json;
	mla_header h;
};

enum {
	O_FROM = 256, O_TO, O_KIND, O_ACTION, O_PRIORITY, O_CASE, O_REPLY, O_FROM_AUTH, O_TO_AUTH,
	O_HANDLING, O_MESSAGE_ID, O_CREATED, O_SIGN_CERT, O_SIGN_KEY, O_RCPT, O_TRUST, O_KEY, O_CERT, O_STATE, O_JSON,
	O_VERSION
};

static const struct option env_options[] = {
	{"in", required_argument, NULL, 'i'},
	{"out", required_argument, NULL, 'o'},
	{"from", required_argument, NULL, O_FROM},
	{"to", required_argument, NULL, O_TO},
	{"kind", required_argument, NULL, O_KIND},
	{"action", required_argument, NULL, O_ACTION},
	{"priority", required_argument, NULL, O_PRIORITY},
	{"case-id", required_argument, NULL, O_CASE},
	{"in-reply-to", required_argument, NULL, O_REPLY},
	{"from-authority", required_argument, NULL, O_FROM_AUTH},
	{"to-authority", required_argument, NULL, O_TO_AUTH},
	{"handling", required_argument, NULL, O_HANDLING},
	{"message-id", required_argument, NULL, O_MESSAGE_ID},
	{"created", required_argument, NULL, O_CREATED},
	{"envelope-version", required_argument, NULL, O_VERSION},
	{"sign-cert", required_argument, NULL, O_SIGN_CERT},
	{"sign-key", required_argument, NULL, O_SIGN_KEY},
	{"recipient-cert", required_argument, NULL, O_RCPT},
	{"trust", required_argument, NULL, O_TRUST},
	{"key", required_argument, NULL, O_KEY},
	{"cert", required_argument, NULL, O_CERT},
	{"state", required_argument, NULL, O_STATE},
	{"json", no_argument, NULL, O_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const char envelope_usage[] =
	"usage: mlagw envelope seal --from CC --to CC --kind KIND --in DOC --sign-cert CRT\n"
	"                           --sign-key KEY --recipient-cert CRT --out ENV [options]\n"
	"       mlagw envelope verify --in ENV --trust ROOT.crt [--trust ROOT.crt ...] [--json]\n"
	"       mlagw envelope open --in ENV --key KEY --cert CRT --trust ROOT.crt [--trust ...]\n"
	"                           --out DOC [--state CC] [--json]\n"
	"\n"
	"seal options:\n"
	"  --action A          request (default), received, accepted, refused, executed, ...\n"
	"  --priority P        normal (default), urgent, crisis\n"
	"  --case-id ID        case or conversation id (default: a new UUID)\n"
	"  --in-reply-to UUID  message this one answers\n"
	"  --from-authority T, --to-authority T   competent authorities (text)\n"
	"  --handling H        public, restricted, confidential (default), secret\n"
	"  --message-id UUID   re-seal under an existing id (default: a new UUID)\n"
	"  --created TIME      creation time YYYY-MM-DDThh:mm:ssZ (default: now)\n"
	"  --envelope-version N  1 (default) or 2 (SPEC 16.7: the Kinds and Actions below\n"
	"                      marked v2 need it)\n"
	"kinds: extradition provisional-arrest mla evidence search-seizure bank-records\n"
	"       asset-tracing asset-freezing confiscation crisis information-exchange\n"
	"       victim-protection; v2: spontaneous-information production-order\n"
	"       preservation-order\n"
	"actions v2: postponed forwarded in-execution closed deadline-extended retrieved\n"
	"            not-retrieved other-channel\n"
	"            person-arrested surrender-consented\n"
	"verify checks origin and integrity with the States' root certificates only; open also\n"
	"checks the envelope is addressed to this State (--state, default the C= of --cert),\n"
	"decrypts and decompresses. '-' means standard input or output.\n"
	"exit: 0 ok, 1 envelope refused, 2 usage, 3 file/key/certificate error, 4 internal\n";

static int set_text(char *dst, size_t n, const char *v, const char *opt)
{
	if (mla_strcpy(dst, n, v) != MLA_OK)
		return cli_usage_error("envelope", "%s is longer than %zu bytes", opt, n - 1);
	return CLI_OK;
}

static int apply_header_option(int c, const char *v, mla_header *h)
{
	switch (c) {
	case O_FROM: return set_text(h->from_state, sizeof(h->from_state), v, "--from");
	case O_TO: return set_text(h->to_state, sizeof(h->to_state), v, "--to");
	case O_KIND: return set_text(h->kind, sizeof(h->kind), v, "--kind");
	case O_ACTION: return set_text(h->action, sizeof(h->action), v, "--action");
	case O_CASE: return set_text(h->case_id, sizeof(h->case_id), v, "--case-id");
	case O_REPLY: return set_text(h->in_reply_to, sizeof(h->in_reply_to), v, "--in-reply-to");
	case O_HANDLING: return set_text(h->handling, sizeof(h->handling), v, "--handling");
	case O_MESSAGE_ID:
		return set_text(h->message_id, sizeof(h->message_id), v, "--message-id");
	case O_CREATED:
		if ((h->created = mla_time_parse(v)) <= 0)
			return cli_usage_error("envelope", "--created must be YYYY-MM-DDThh:mm:ssZ");
		return CLI_OK;
	case O_FROM_AUTH:
		return set_text(h->from_authority, sizeof(h->from_authority), v, "--from-authority");
	case O_TO_AUTH:
		return set_text(h->to_authority, sizeof(h->to_authority), v, "--to-authority");
	case O_PRIORITY:
		if (mla_priority_parse(v, &h->priority) != MLA_OK)
			return cli_usage_error("envelope", "--priority must be normal, urgent or crisis");
		return CLI_OK;
	case O_VERSION:
		if (strcmp(v, "1") != 0 && strcmp(v, "2") != 0)
			return cli_usage_error("envelope", "--envelope-version must be 1 or 2");
		h->version = v[0] - '0';
		return CLI_OK;
	default:
		return -1;
	}
}

static int apply_option(int c, const char *v, void *args)
{
	struct env_args *a = args;
	int r = apply_header_option(c, v, &a->h);

	if (r != -1)
		return r;
	switch (c) {
	case 'i': a->in = v; break;
	case 'o': a->out = v; break;
	case O_SIGN_CERT: a->sign_cert = v; break;
	case O_SIGN_KEY: a->sign_key = v; break;
	case O_RCPT: a->recipient_cert = v; break;
	case O_KEY: a->key = v; break;
	case O_CERT: a->cert = v; break;
	case O_STATE: a->state = v; break;
	case O_JSON: a->json = 1; break;
	case O_TRUST:
		if (a->ntrust >= MAX_TRUST)
			return cli_usage_error("envelope", "at most %d --trust roots", MAX_TRUST);
		a->trust[a->ntrust++] = v;
		break;
	default:
		return cli_usage_error("envelope", "unknown option");
	}
	return CLI_OK;
}

static const struct cli_optspec envelope_spec = {
	"envelope", envelope_usage, "i:o:h", env_options, apply_option,
};

static int require(const char *v, const char *opt)
{
	return v != NULL ? CLI_OK : cli_usage_error("envelope", "%s is required", opt);
}

static mla_err print_verified(const struct env_args *a, const mla_verified *v, const char *verb,
			      mla_diag *d)
{
	char digest[65];

	if (mla_hex_encode(v->digest, 32, digest, sizeof(digest)) != MLA_OK)
		digest[0] = '\0'; /* cannot happen: digest is sized for 32 bytes */
	if (!a->json) {
		printf("%s: message %s case %s, %s from %s to %s (%s, %s), signed by %s\n"
		       "envelope sha256:%s (version %d)\n",
		       verb, v->header.message_id, v->header.case_id, v->header.kind,
		       v->header.from_state, v->header.to_state, v->header.action,
		       mla_priority_name(v->header.priority), v->signer_subject, digest,
		       mla_header_version(&v->header));
		return MLA_OK;
	}
	return cli_json_print(
		json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "result", verb,
			  "message_id", v->header.message_id, "case_id", v->header.case_id, "from",
			  v->header.from_state, "to", v->header.to_state, "kind", v->header.kind,
			  "action", v->header.action, "priority",
			  mla_priority_name(v->header.priority), "envelope_sha256", digest,
			  "signer_sha256", v->signer_fingerprint, "signer", v->signer_subject,
			  "envelope_version", mla_header_version(&v->header)),
		d);
}

static int run_seal(struct env_args *a, const mla_limits *lim, mla_diag *d)
{
	mla_signer *signer = NULL;
	mla_recipient *rcpt = NULL;
	mla_buf doc, env;
	mla_err r;

	mla_buf_init(&doc, 0);
	mla_buf_init(&env, 0);
	if ((r = mla_signer_load(a->sign_cert, a->sign_key, &signer, d)) != MLA_OK ||
	    (r = mla_recipient_load(a->recipient_cert, &rcpt, d)) != MLA_OK ||
	    (r = cli_read_file(a->in, lim->max_document_bytes, &doc, d)) != MLA_OK ||
	    (r = mla_envelope_seal(&a->h, doc.data, doc.len, signer, rcpt, lim, &env, d)) != MLA_OK ||
	    (r = cli_write_file(a->out, env.data, env.len, 0644, d)) != MLA_OK)
		goto out;
	if (a->json)
		r = cli_json_print(json_pack("{s:s, s:s, s:I}", "message_id", a->h.message_id,
					     "case_id", a->h.case_id, "bytes", (json_int_t)env.len),
				   d);
	else if (strcmp(a->out, "-") != 0)
		printf("sealed message %s case %s (%zu bytes) -> %s\n", a->h.message_id,
		       a->h.case_id, env.len, a->out);
out:
	mla_buf_free(&doc);
	mla_buf_free(&env);
	mla_signer_free(signer);
	mla_recipient_free(rcpt);
	return r == MLA_OK ? CLI_OK : cli_fail("envelope seal", r, d);
}

static int cmd_seal(struct env_args *a, const mla_limits *lim, mla_diag *d)
{
	int r;

	if ((r = require(a->in, "--in")) != CLI_OK || (r = require(a->out, "--out")) != CLI_OK ||
	    (r = require(a->sign_cert, "--sign-cert")) != CLI_OK ||
	    (r = require(a->sign_key, "--sign-key")) != CLI_OK ||
	    (r = require(a->recipient_cert, "--recipient-cert")) != CLI_OK ||
	    (r = require(a->h.from_state[0] ? "" : NULL, "--from")) != CLI_OK ||
	    (r = require(a->h.to_state[0] ? "" : NULL, "--to")) != CLI_OK ||
	    (r = require(a->h.kind[0] ? "" : NULL, "--kind")) != CLI_OK)
		return r;
	return run_seal(a, lim, d);
}

static int cmd_verify(struct env_args *a, const mla_limits *lim, mla_diag *d)
{
	mla_trust *trust = NULL;
	mla_verified v;
	mla_buf env;
	mla_err r;
	int rc;

	if ((rc = require(a->in, "--in")) != CLI_OK)
		return rc;
	if (a->ntrust == 0)
		return cli_usage_error("envelope", "at least one --trust ROOT.crt is required");
	mla_buf_init(&env, 0);
	if ((r = mla_trust_load_files(a->trust, (size_t)a->ntrust, &trust, d)) == MLA_OK &&
	    (r = cli_read_file(a->in, lim->max_envelope_bytes, &env, d)) == MLA_OK &&
	    (r = mla_envelope_verify(env.data, env.len, trust, lim, &v, d)) == MLA_OK)
		r = print_verified(a, &v, "verified", d);
	mla_buf_free(&env);
	mla_trust_free(trust);
	return r == MLA_OK ? CLI_OK : cli_fail("envelope verify", r, d);
}

/* This gateway's State: --state, else the countryName of the encryption certificate. */
static mla_err own_state(const struct env_args *a, char out[3], mla_diag *d)
{
	X509 *cert = NULL;
	char c[8] = "";
	mla_err r;

	if (a->state != NULL) {
		if (strlen(a->state) != 2)
			return mla_fail(d, MLA_ERR_USAGE, "--state must be a two-letter State code");
		memcpy(out, a->state, 3);
		return MLA_OK;
	}
	if ((r = mla_pem_load_cert(a->cert, &cert, d)) != MLA_OK)
		return r;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_countryName, c,
				      (int)sizeof(c)) != 2)
		r = mla_fail(d, MLA_ERR_USAGE, "%s has no C= in its subject; give --state", a->cert);
	else
		memcpy(out, c, 3); /* exactly two letters and the NUL, checked above */
	X509_free(cert);
	return r;
}

static int run_open(struct env_args *a, const mla_limits *lim, mla_diag *d)
{
	mla_trust *trust = NULL;
	mla_keyring *keys = NULL;
	mla_verified v;
	mla_buf env, doc;
	char state[3] = "";
	mla_err r;

	mla_buf_init(&env, 0);
	mla_buf_init(&doc, 0);
	if ((r = own_state(a, state, d)) != MLA_OK ||
	    (r = mla_trust_load_files(a->trust, (size_t)a->ntrust, &trust, d)) != MLA_OK ||
	    (r = mla_keyring_new(&keys)) != MLA_OK ||
	    (r = mla_keyring_add_file(keys, a->cert, a->key, d)) != MLA_OK ||
	    (r = cli_read_file(a->in, lim->max_envelope_bytes, &env, d)) != MLA_OK ||
	    (r = mla_envelope_open(env.data, env.len, trust, keys, state, lim, &v, &doc, d)) !=
		    MLA_OK ||
	    (r = cli_write_file(a->out, doc.data, doc.len, 0600, d)) != MLA_OK)
		goto out;
	if (strcmp(a->out, "-") != 0 || a->json)
		r = print_verified(a, &v, "opened", d);
out:
	mla_buf_free(&env);
	mla_buf_free(&doc);
	mla_keyring_free(keys);
	mla_trust_free(trust);
	return r == MLA_OK ? CLI_OK : cli_fail("envelope open", r, d);
}

static int cmd_open(struct env_args *a, const mla_limits *lim, mla_diag *d)
{
	int r;

	if ((r = require(a->in, "--in")) != CLI_OK || (r = require(a->out, "--out")) != CLI_OK ||
	    (r = require(a->key, "--key")) != CLI_OK || (r = require(a->cert, "--cert")) != CLI_OK)
		return r;
	if (a->ntrust == 0)
		return cli_usage_error("envelope", "at least one --trust ROOT.crt is required");
	return run_open(a, lim, d);
}

int cmd_envelope(int argc, char **argv)
{
	struct env_args a;
	mla_limits lim;
	mla_diag d = {MLA_OK, ""};
	int r;

	memset(&a, 0, sizeof(a));
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(envelope_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (mla_header_init(&a.h) != MLA_OK || mla_crypto_init(&d) != MLA_OK)
		return cli_fail("envelope", MLA_ERR_INTERNAL, &d);
	if ((r = cli_parse_options(argc - 1, argv + 1, &envelope_spec, &a)) != CLI_OK)
		return r == -1 ? CLI_OK : r;
	mla_limits_default(&lim);
	if (strcmp(argv[1], "seal") == 0)
		return cmd_seal(&a, &lim, &d);
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(&a, &lim, &d);
	if (strcmp(argv[1], "open") == 0)
		return cmd_open(&a, &lim, &d);
	return cli_usage_error("envelope", "unknown subcommand '%s' (seal, verify, open)", argv[1]);
}
