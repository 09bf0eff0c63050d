/* The bound of the evidence benchmark (issue 15, 6): what one core does of AES-256-GCM and of
 * SHA-256 over 1 MiB segments, through the same calls the attachments use. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attach_internal.h"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double mbps(uint64_t bytes, double secs)
{
	return secs > 0 ? (double)bytes / secs / 1e6 : 0;
}

mla_err mla_attach_measure_speed(uint64_t bytes, mla_attach_speed *out)
{
	static const char id[] = "00000000-0000-4000-8000-000000000000";
	const size_t seg = MLA_ATTACH_SEGMENT_DEFAULT;
	uint64_t rounds = bytes / seg > 0 ? bytes / seg : 1;
	uint8_t secret[MLA_ATTACH_SECRET_LEN] = {0}, leaf[MLA_MERKLE_HASH_LEN];
	uint8_t *pt = calloc(1, seg), *ct = malloc(seg + MLA_ATTACH_TAG_LEN);
	struct attach_keys k;
	mla_err r = MLA_ERR_NOMEM;
	double t;

	memset(out, 0, sizeof(*out));
	if (pt == NULL || ct == NULL || (r = attach_keys_init(&k, secret, id, 1)) != MLA_OK)
		goto out;
	t = now_s();
	for (uint64_t i = 0; i < rounds && r == MLA_OK; i++)
		r = attach_seal_segment(&k, i, 0, pt, seg, ct);
	out->aes_gcm_mbps = mbps(rounds * seg, now_s() - t);
	t = now_s();
	for (uint64_t i = 0; i < rounds && r == MLA_OK; i++)
		r = mla_attach_leaf(ct, seg + MLA_ATTACH_TAG_LEN, leaf);
	out->sha256_mbps = mbps(rounds * (seg + MLA_ATTACH_TAG_LEN), now_s() - t);
	attach_keys_wipe(&k);
out:
	free(pt);
	free(ct);
	return r;
}
