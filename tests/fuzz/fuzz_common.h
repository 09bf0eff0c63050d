/* Shared set-up of the libFuzzer harnesses: a throwaway test PKI for ES and CO made once per
 * process, and the key holders the parsers under test need. */
#ifndef MLAGW_FUZZ_COMMON_H
#define MLAGW_FUZZ_COMMON_H

#include "mlagw/envelope.h"

struct fuzz_env {
	char dir[256];
	mla_trust *trust;   /* ES and CO roots */
	mla_keyring *keys;  /* CO's encryption key */
	mla_limits limits;
};

/* Builds the environment on first use; aborts if it cannot (a harness bug, not an input). */
const struct fuzz_env *fuzz_env_get(void);

#endif
