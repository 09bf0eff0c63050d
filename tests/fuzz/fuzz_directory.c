/* libFuzzer harness: directory and lone entry verification (SPEC 18) must refuse any input
 * cleanly, within the directory's bounds; a directory that verifies is looked up and shown.
 * The same bytes as a peer's Mlagw-Directory header value (SPEC 18.6): what parses formats
 * back to the same bytes (one spelling). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	char pub[3], again[MLA_DIR_ADVERT_MAX + 1];
	uint64_t serial = 0;
	unsigned port = 0;

	if (mla_dir_advert_parse((const char *)data, size, pub, &serial, &port) &&
	    (mla_dir_advert_format(pub, serial, port, again, sizeof(again)) != MLA_OK ||
	     strlen(again) != size || memcmp(again, data, size) != 0))
		abort();

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
