/* libFuzzer harness: the gateway configuration reader must refuse any file cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mlagw/codec.h"
#include "conf/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	static struct gw_config cfg;
	mla_diag d = {MLA_OK, ""};
	FILE *f;
	int fd;

	if (path[0] == '\0') {
		if (mla_snprintf(path, sizeof(path), "/tmp/mlagw-fuzz-conf-XXXXXX") != MLA_OK)
			abort();
		if ((fd = mkstemp(path)) < 0)
			abort();
		close(fd);
	}
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	(void)gw_config_load(path, &cfg, &d);
	return 0;
}
