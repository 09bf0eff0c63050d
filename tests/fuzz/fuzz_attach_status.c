/* libFuzzer harness: a peer's transfer status (SPEC 17.13, gateway/attach/attach_status.c)
 * must be refused cleanly or read within its bounds: as many items as the sealed list, each
 * with at most ATTACH_STATUS_RANGES_MAX ascending ranges within its segments; what it reads is
 * written and read back the same. */
#include <stdlib.h>
#include <string.h>

#include "attach/attach_status.h"

#define ID "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct attach_status *s = malloc(sizeof(*s)), *back = malloc(sizeof(*back));
	mla_attach_entry e[3];
	char *json = NULL;

	if (s == NULL || back == NULL)
		goto out;
	memset(e, 0, sizeof(e));
	for (unsigned i = 0; i < 3; i++) {
		e[i].index = i + 1;
		e[i].segments = i == 0 ? 1 : i == 1 ? 10 : 1000;
	}
	if (attach_status_parse(data, size, ID, e, 3, s, NULL) != MLA_OK)
		goto out;
	for (size_t i = 0; i < s->n; i++) {
		if (s->item[i].n_missing > ATTACH_STATUS_RANGES_MAX || s->item[i].held > e[i].segments)
			abort();
		for (size_t r = 0; r < s->item[i].n_missing; r++)
			if (s->item[i].missing[r][1] >= e[i].segments ||
			    s->item[i].missing[r][0] > s->item[i].missing[r][1])
				abort();
	}
	if (attach_status_json(s, &json, NULL) != MLA_OK ||
	    attach_status_parse((const uint8_t *)json, strlen(json), ID, e, 3, back, NULL) !=
		    MLA_OK ||
	    back->item[2].n_missing != s->item[2].n_missing)
		abort();
out:
	free(json);
	free(back);
	free(s);
	return 0;
}
