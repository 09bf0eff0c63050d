/* Log epochs (protocol/SPEC.md section 14, "Log epochs"): the origin that names each epoch of
 * a gateway's audit log, and the previous epoch's head an epoch-opened entry links to, as the
 * checkpoint note the previous log signed. */
#include <inttypes.h>
#include <string.h>

#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"

#define PREFIX "mlagw."
#define SUFFIX "/audit"

mla_err mla_audit_origin_format(const char *state, uint32_t epoch,
				char out[MLA_AUDIT_ORIGIN_MAX + 1])
{
	if (state == NULL || state[0] < 'A' || state[0] > 'Z' || state[1] < 'A' ||
	    state[1] > 'Z' || state[2] != '\0' || epoch < 1 || epoch > MLA_AUDIT_EPOCH_MAX)
		return MLA_ERR_ARG;
	if (epoch == 1)
		return mla_snprintf(out, MLA_AUDIT_ORIGIN_MAX + 1, PREFIX "%c%c" SUFFIX,
				    state[0] + 32, state[1] + 32);
	return mla_snprintf(out, MLA_AUDIT_ORIGIN_MAX + 1, PREFIX "%c%c" SUFFIX "/%" PRIu32,
			    state[0] + 32, state[1] + 32, epoch);
}

mla_err mla_audit_origin_parse(const char *origin, char state[3], uint32_t *epoch)
{
	size_t n = origin != NULL ? strlen(origin) : 0, head = strlen(PREFIX "xx" SUFFIX);
	uint64_t e = 1;
	char again[MLA_AUDIT_ORIGIN_MAX + 1];

	if (n < head || n > MLA_AUDIT_ORIGIN_MAX || memcmp(origin, PREFIX, strlen(PREFIX)) != 0)
		return MLA_ERR_ARG;
	state[0] = (char)(origin[6] - 32);
	state[1] = (char)(origin[7] - 32);
	state[2] = '\0';
	if (n > head && (origin[head] != '/' ||
			 mla_parse_u64n(origin + head + 1, n - head - 1, 2, MLA_AUDIT_EPOCH_MAX,
					&e) != MLA_OK))
		return MLA_ERR_ARG;
	/* one spelling only: written back, it must be the same bytes */
	if (mla_audit_origin_format(state, (uint32_t)e, again) != MLA_OK ||
	    strcmp(again, origin) != 0)
		return MLA_ERR_ARG;
	*epoch = (uint32_t)e;
	return MLA_OK;
}

mla_err mla_audit_entry_link_note(const mla_audit_entry *e, mla_buf *out)
{
	char root[MLA_B64_LEN(32) + 1], sig[MLA_B64_LEN(MLA_AUDIT_LINK_SIG_LEN) + 1];
	mla_err r;

	mla_buf_reset(out);
	if (e->event != MLA_AUDIT_EPOCH_OPENED || e->prev_origin[0] == '\0')
		return MLA_ERR_ARG;
	if ((r = mla_b64_encode(e->prev_root, 32, root, sizeof(root))) != MLA_OK ||
	    (r = mla_b64_encode(e->prev_sig, sizeof(e->prev_sig), sig, sizeof(sig))) != MLA_OK)
		return r;
	return mla_buf_printf(out, "%s\n%" PRIu64 "\n%s\n\n\xe2\x80\x94 %s %s\n", e->prev_origin,
			      e->prev_size, root, e->prev_origin, sig);
}
