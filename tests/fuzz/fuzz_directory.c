/* libFuzzer harness: directory and lone entry verification (SPEC 18) must refuse any input
 * cleanly, within the directory's bounds; a directory that verifies is looked up and shown. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "mlagw/directory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_env *e = fuzz_env_get();
	const mla_dir_authority *a;
	mla_dir_policy p = {0};
	mla_directory *dir = NULL;
	mla_dir_status st;
	mla_diag d = {MLA_OK, ""};
	mla_dir_entry entry;
	mla_buf out;

	p.trust = e->trust;
	p.publisher = "ES";
	p.grace = 86400;
	if (mla_directory_verify(data, size, &p, &dir, &st, &d) == MLA_OK) {
		mla_buf_init(&out, MLA_DIR_MAX_BYTES);
		(void)mla_directory_json(dir, &out);
		(void)mla_directory_authority(dir, "CO", "mla", &a, &d);
		mla_buf_free(&out);
		mla_directory_free(dir);
	}
	(void)mla_dir_entry_verify(data, size, e->trust, 0, &entry, &d);
	mla_dir_entry_clear(&entry);
	return 0;
}
