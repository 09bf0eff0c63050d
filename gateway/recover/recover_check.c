/* The check of an item given back by a peer (see recover_check.h): what a restored gateway
 * keeps must be exactly what was exchanged, signed by whom it says, and acknowledged by the
 * recipient's positive receipt; a peer cannot invent, alter or misdirect a message. */
#include <string.h>

#include <openssl/sha.h>

#include "recover_check.h"

/* The envelope's parties against the direction: sent-by-you went from own to peer. */
static mla_err check_parties(const struct recover_item *it, const mla_header *h,
			     const char *own, const char *peer, mla_diag *diag)
{
	const char *from = it->dir == RECOVER_SENT_BY_YOU ? own : peer;
	const char *to = it->dir == RECOVER_SENT_BY_YOU ? peer : own;

	if (strcmp(h->message_id, it->message_id) != 0)
		return mla_fail(diag, MLA_ERR_ARG, "the envelope is of another message id");
	if (strcmp(h->from_state, from) != 0 || strcmp(h->to_state, to) != 0)
		return mla_fail(diag, MLA_ERR_ARG, "the envelope goes from %s to %s, not %s to %s",
				h->from_state, h->to_state, from, to);
	return MLA_OK;
}

static mla_err check_receipt(const struct recover_item *it, const mla_trust *trust,
			     const mla_limits *limits, struct recover_checked *out,
			     mla_diag *diag)
{
	const mla_header *h = &out->v.header;
	mla_err r;

	if ((r = mla_receipt_verify(it->receipt.data, it->receipt.len, trust, limits,
				    &out->receipt, diag)) != MLA_OK)
		return r;
	if (out->receipt.outcome != MLA_OUTCOME_ACCEPTED)
		return mla_fail(diag, MLA_ERR_ARG, "the receipt is negative");
	/* receiver = the envelope's recipient, same message id, over these very bytes */
	if ((r = mla_receipt_match(&out->receipt, h->to_state, h->message_id, out->v.digest,
				   diag)) != MLA_OK)
		return r;
	if (strcmp(out->receipt.sender_state, h->from_state) != 0)
		return mla_fail(diag, MLA_ERR_ARG, "the receipt names sender %s, the envelope %s",
				out->receipt.sender_state, h->from_state);
	SHA256(it->receipt.data, it->receipt.len, out->receipt_sha256);
	return MLA_OK;
}

mla_err recover_check_item(const struct recover_item *it, const char *own, const char *peer,
			   const mla_trust *trust, const mla_limits *limits,
			   struct recover_checked *out, mla_diag *diag)
{
	mla_err r;

	memset(out, 0, sizeof(*out));
	if ((r = mla_envelope_verify(it->envelope.data, it->envelope.len, trust, limits, &out->v,
				     diag)) != MLA_OK)
		return r;
	if (!out->v.authenticated)
		return mla_fail(diag, MLA_ERR_SIG_INVALID, "the envelope's signature did not verify");
	if ((r = check_parties(it, &out->v.header, own, peer, diag)) != MLA_OK)
		return r;
	return check_receipt(it, trust, limits, out, diag);
}
