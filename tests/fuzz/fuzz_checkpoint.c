/* libFuzzer harness: signed-note and checkpoint parsing must refuse any input cleanly. The
 * verifier is the public example key of the Go sumdb note package, so the seed note (its
 * published example) verifies and mutations reach the checkpoint parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mlagw/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mla_note_verifier v;
	static int ready;
	mla_checkpoint cp;
	uint64_t signers = 0;
	size_t text_len = 0;
	mla_diag d = {MLA_OK, ""};

	if (!ready) {
		if (mla_note_vkey_parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
					&v, &d) != MLA_OK)
			abort();
		ready = 1;
	}
	(void)mla_note_open((const char *)data, size, &v, 1, &text_len, &signers, &d);
	(void)mla_checkpoint_open((const char *)data, size, &v, 1, &cp, &signers, &d);
	return 0;
}
