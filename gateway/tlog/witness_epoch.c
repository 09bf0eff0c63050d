/* Witnessing across log epochs (SPEC 14, "Log epochs"): a gateway whose store was lost opens
 * a new epoch of its log (origin mlagw.<cc>/audit/<n>), whose entry 0 links it to the last
 * head of the previous epoch. Its first checkpoint goes to each witness with that entry and
 * its inclusion proof (headers below); a witness accepts the new epoch only with a link that
 * continues what it cosigned of the previous one, and from then on refuses the older epochs
 * (the forked old log cannot go on). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/keyvalq_struct.h>

#include "core/log.h"
#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"
#include "checkpoint.h"
#include "tlog_internal.h"
#include "witness.h"

#define LINK_B64_MAX MLA_B64_LEN(MLA_AUDIT_ENTRY_MAX)
#define PROOF_B64_MAX MLA_B64_LEN(MLA_MERKLE_PROOF_MAX * MLA_MERKLE_HASH_LEN)

/* "Name: base64(p[0..n))" into out; "Name;" for nothing (libcurl drops "Name: " without a
 * value, and sends "Name;" as the header with an empty value: the proof of a tree of 1). */
static mla_err header_line(mla_buf *out, const char *name, const uint8_t *p, size_t n)
{
	mla_err r;

	if (n == 0)
		return (r = mla_buf_printf(out, "%s;", name)) != MLA_OK ? r : mla_buf_terminate(out);
	if ((r = mla_buf_printf(out, "%s: ", name)) != MLA_OK ||
	    (r = mla_b64_encode_buf(p, n, out)) != MLA_OK)
		return r;
	return mla_buf_terminate(out);
}

mla_err witness_epoch_headers(struct gw *g, uint64_t cp_size, mla_buf *link, mla_buf *proof,
			      mla_diag *diag)
{
	mla_merkle_proof p = {0};
	mla_buf entry;
	mla_err r;

	mla_buf_init(&entry, MLA_AUDIT_ENTRY_MAX);
	if ((r = store_audit_get(g->store, 0, &entry, NULL, diag)) != MLA_OK ||
	    (r = gw_tree_inclusion_proof(g, 0, cp_size, &p)) != MLA_OK ||
	    (r = header_line(link, WITNESS_LINK_HEADER, entry.data, entry.len)) != MLA_OK ||
	    (r = header_line(proof, WITNESS_PROOF_HEADER, p.hash[0], p.len * MLA_MERKLE_HASH_LEN)) !=
		    MLA_OK)
		r = mla_fail(diag, r, "epoch link: entry 0 or its proof unavailable");
	mla_buf_free(&entry);
	return r;
}

static void alert(struct gw *g, const char *state, const char *why)
{
	mla_diag d = {MLA_OK, ""};

	if (!witness_alert_due(g, state))
		return;
	gw_log(GW_LOG_ERROR, "witness-epoch", NULL, "peer=%s reason=\"%s\"", state, why);
	if (store_alert(g->store, "witness-epoch", NULL, why, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=alert reason=\"%s\"", d.msg);
}

/* The link entry and proof from the request's headers; 0, or -1 with why set. */
static int read_link(struct evhttp_request *req, mla_audit_entry *e, uint8_t leaf[32],
		     mla_merkle_proof *p, char *why, size_t whylen)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *lh = evhttp_find_header(h, WITNESS_LINK_HEADER);
	const char *ph = evhttp_find_header(h, WITNESS_PROOF_HEADER);
	uint8_t entry[MLA_AUDIT_ENTRY_MAX], hashes[MLA_MERKLE_PROOF_MAX * MLA_MERKLE_HASH_LEN];
	size_t elen = 0, plen = 0;
	mla_diag d = {MLA_OK, ""};

	if (lh == NULL || ph == NULL || strlen(lh) > LINK_B64_MAX || strlen(ph) > PROOF_B64_MAX ||
	    mla_b64_decode(lh, strlen(lh), entry, sizeof(entry), &elen) != MLA_OK ||
	    mla_b64_decode(ph, strlen(ph), hashes, sizeof(hashes), &plen) != MLA_OK ||
	    plen % MLA_MERKLE_HASH_LEN != 0) {
		(void)mla_snprintf_cut(why, whylen, "the first checkpoint of a new epoch needs "
				       WITNESS_LINK_HEADER " and " WITNESS_PROOF_HEADER
				       " (base64)");
		return -1;
	}
	if (mla_audit_entry_parse(entry, elen, e, &d) != MLA_OK ||
	    e->event != MLA_AUDIT_EPOCH_OPENED || e->seq != 0) {
		(void)mla_snprintf_cut(why, whylen, "epoch link: not an epoch-opened entry 0 (%s)",
				       d.msg[0] ? d.msg : "another event");
		return -1;
	}
	p->len = plen / MLA_MERKLE_HASH_LEN;
	memcpy(p->hash, hashes, plen);
	return mla_merkle_leaf_hash(entry, elen, leaf) == MLA_OK ? 0 : -1;
}

/* The link of epoch ep of state's log against the checkpoint cp and what this witness
 * cosigned of epoch ep - 1; 0, or -1 with why set. */
static int check_link(struct gw *g, struct evhttp_request *req, const char *state,
		      uint32_t ep, const mla_checkpoint *cp, char *why, size_t whylen)
{
	char prev[MLA_AUDIT_ORIGIN_MAX + 1];
	uint8_t leaf[32], root[32];
	mla_merkle_proof p;
	mla_audit_entry e;
	uint64_t latest = 0;
	mla_err r;

	if (read_link(req, &e, leaf, &p, why, whylen) != 0)
		return -1;
	mla_require(mla_audit_origin_format(state, ep - 1, prev) == MLA_OK);
	if (strcmp(e.prev_origin, prev) != 0) {
		(void)mla_snprintf_cut(why, whylen, "epoch link names %s, not %s", e.prev_origin,
				       prev);
		return -1;
	}
	if (mla_merkle_inclusion_verify(0, cp->size, leaf, &p, cp->root) != MLA_OK) {
		(void)mla_snprintf_cut(why, whylen, "epoch link: not entry 0 of the checkpoint of "
				       "%" PRIu64 " entries (inclusion proof)", cp->size);
		return -1;
	}
	r = store_witness_latest(g->store, prev, &latest, root, NULL);
	if (r != MLA_OK && r != MLA_ERR_NOT_FOUND) {
		(void)mla_snprintf_cut(why, whylen, "store: cannot read what was cosigned of %s",
				       prev);
		return -1;
	}
	if (r == MLA_OK && (e.prev_size < latest ||
			    (e.prev_size == latest && memcmp(root, e.prev_root, 32) != 0))) {
		(void)mla_snprintf_cut(why, whylen, "epoch link: %s at %" PRIu64 " entries, but "
				       "this witness cosigned %" PRIu64 " of it%s", prev,
				       e.prev_size, latest, e.prev_size == latest
				       ? " with another root" : "");
		return -1;
	}
	gw_log(GW_LOG_INFO, "witness-epoch-link", NULL, "peer=%s origin=%s prev_size=%" PRIu64
	       " cosigned_before=%" PRIu64, state, cp->origin, e.prev_size, latest);
	return 0;
}

int witness_epoch_check(struct gw *g, struct evhttp_request *req, const char *state,
			const mla_checkpoint *cp, uint64_t old, char *why, size_t whylen)
{
	char st[3];
	uint32_t ep = 1, known = 0;

	if (mla_audit_origin_parse(cp->origin, st, &ep) != MLA_OK ||
	    store_witness_epoch(g->store, state, &known, NULL) != MLA_OK) {
		(void)mla_snprintf_cut(why, whylen, "store: cannot read the epochs cosigned");
		return 503;
	}
	if (ep < known) {
		(void)mla_snprintf_cut(why, whylen, "log %s ended: this witness cosigned epoch %"
				       PRIu32 " of %s's log", cp->origin, known, state);
		alert(g, state, why);
		return 422;
	}
	if (ep == known || ep == 1 || old != 0)
		return 0; /* the same epoch; or a first checkpoint the 409 sends back to 0 */
	if (known != 0 && ep != known + 1) {
		(void)mla_snprintf_cut(why, whylen, "log %s skips epochs: this witness cosigned "
				       "epoch %" PRIu32 " last", cp->origin, known);
		alert(g, state, why);
		return 422;
	}
	if (check_link(g, req, state, ep, cp, why, whylen) != 0) {
		alert(g, state, why);
		return 422;
	}
	return 0;
}
