/* The tlog-witness add-checkpoint bodies (see mlagw/witness.h). Only framing lives here: the
 * checkpoint's signature and the proof are checked by the witness with checkpoint.c and
 * merkle.c. */
#include <inttypes.h>
#include <string.h>


#include "mlagw/witness.h"
#include "mlagw/codec.h"

mla_err mla_witness_request_format(uint64_t old_size,
				   const uint8_t (*proof)[MLA_MERKLE_HASH_LEN], size_t nproof,
				   const char *note, size_t note_len, mla_buf *out,
				   mla_diag *diag)
{
	char b64[45];
	mla_err r;

	mla_buf_reset(out);
	if (nproof > MLA_WITNESS_PROOF_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "witness request: proof of %zu hashes", nproof);
	if ((r = mla_buf_printf(out, "old %" PRIu64 "\n", old_size)) != MLA_OK)
		return r;
	for (size_t i = 0; i < nproof; i++) {
		if ((r = mla_b64_encode(proof[i], MLA_MERKLE_HASH_LEN, b64, sizeof(b64))) != MLA_OK ||
		    (r = mla_buf_printf(out, "%s\n", b64)) != MLA_OK)
			return r;
	}
	if ((r = mla_buf_append(out, "\n", 1)) != MLA_OK ||
	    (r = mla_buf_append(out, note, note_len)) != MLA_OK)
		return mla_fail(diag, r, "witness request too large");
	return MLA_OK;
}

/* The line at *pos, without its newline, in line and n; 0 at the end or without a newline. */
static int next_line(const char *body, size_t len, size_t *pos, const char **line, size_t *n)
{
	const char *nl;

	if (*pos >= len || (nl = memchr(body + *pos, '\n', len - *pos)) == NULL)
		return 0;
	*line = body + *pos;
	*n = (size_t)(nl - *line);
	*pos += *n + 1;
	return 1;
}

mla_err mla_witness_request_parse(const char *body, size_t len, mla_witness_request *w,
				  mla_diag *diag)
{
	uint8_t hash[MLA_MERKLE_HASH_LEN];
	const char *line;
	size_t pos = 0, n;

	memset(w, 0, sizeof(*w));
	if (len > MLA_WITNESS_BODY_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "witness request larger than %d bytes",
				MLA_WITNESS_BODY_MAX);
	if (!next_line(body, len, &pos, &line, &n) || n < 5 || memcmp(line, "old ", 4) != 0 ||
	    mla_parse_u64n(line + 4, n - 4, 0, UINT64_MAX, &w->old_size) != MLA_OK)
		return mla_fail(diag, MLA_ERR_SCHEMA,
				"witness request: first line is not \"old <size>\"");
	for (;;) {
		if (!next_line(body, len, &pos, &line, &n))
			return mla_fail(diag, MLA_ERR_SCHEMA,
					"witness request: no empty line before the checkpoint");
		if (n == 0)
			break;
		if (w->nproof == MLA_WITNESS_PROOF_MAX)
			return mla_fail(diag, MLA_ERR_SCHEMA,
					"witness request: more than %d proof lines",
					MLA_WITNESS_PROOF_MAX);
		if (mla_b64_decode(line, n, hash, MLA_MERKLE_HASH_LEN, NULL) != MLA_OK)
			return mla_fail(diag, MLA_ERR_SCHEMA,
					"witness request: proof line %zu is not the base64 of 32 "
					"bytes", w->nproof + 1);
		memcpy(w->proof[w->nproof++], hash, MLA_MERKLE_HASH_LEN);
	}
	if (pos >= len)
		return mla_fail(diag, MLA_ERR_SCHEMA, "witness request: no checkpoint");
	w->note = body + pos;
	w->note_len = len - pos;
	return MLA_OK;
}

mla_err mla_witness_size_parse(const char *body, size_t len, uint64_t *size, mla_diag *diag)
{
	if (len < 2 || body[len - 1] != '\n' || mla_parse_u64n(body, len - 1, 0, UINT64_MAX, size) != MLA_OK)
		return mla_fail(diag, MLA_ERR_SCHEMA, "witness answer: not a tree size line");
	return MLA_OK;
}
