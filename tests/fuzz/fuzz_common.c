/* The fuzz harnesses' shared environment (see fuzz_common.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "mlagw/codec.h"
#include "mlagw/pki.h"

static struct fuzz_env env;

static void must(mla_err r, const char *what, const mla_diag *d)
{
	if (r != MLA_OK) {
		fprintf(stderr, "fuzz set-up: %s: %s\n", what, mla_diag_message(d));
		abort();
	}
}

static void make_state(const char *state)
{
	mla_pki_opts o;
	mla_diag d = {MLA_OK, ""};

	memset(&o, 0, sizeof(o));
	o.state = state;
	o.out_dir = env.dir;
	o.rsa_bits = 2048;
	must(mla_pki_init(&o, &d), "pki init", &d);
}

const struct fuzz_env *fuzz_env_get(void)
{
	char a[512], b[512];
	mla_diag d = {MLA_OK, ""};

	if (env.trust != NULL)
		return &env;
	must(mla_crypto_init(&d), "crypto init", &d);
	if (getenv("MLAGW_FUZZ_PKI") != NULL) {
		/* the PKI the seed corpus was sealed with, so seeds reach decryption */
		must(mla_snprintf(env.dir, sizeof(env.dir), "%s", getenv("MLAGW_FUZZ_PKI")),
		     "MLAGW_FUZZ_PKI too long", &d);
	} else {
		must(mla_snprintf(env.dir, sizeof(env.dir), "/tmp/mlagw-fuzz-XXXXXX"), "path", &d);
		if (mkdtemp(env.dir) == NULL)
			abort();
		make_state("ES");
		make_state("CO");
	}
	must(mla_trust_new(&env.trust), "trust", &d);
	must(mla_snprintf(a, sizeof(a), "%s/ES/root.crt", env.dir), "path", &d);
	must(mla_trust_add_file(env.trust, a, &d), "trust ES", &d);
	must(mla_snprintf(a, sizeof(a), "%s/CO/root.crt", env.dir), "path", &d);
	must(mla_trust_add_file(env.trust, a, &d), "trust CO", &d);
	must(mla_keyring_new(&env.keys), "keyring", &d);
	must(mla_snprintf(a, sizeof(a), "%s/CO/encrypt.crt", env.dir), "path", &d);
	must(mla_snprintf(b, sizeof(b), "%s/CO/encrypt.key", env.dir), "path", &d);
	must(mla_keyring_add_file(env.keys, a, b, &d), "keyring CO", &d);
	mla_limits_default(&env.limits);
	return &env;
}
