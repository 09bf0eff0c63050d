/* Local API operations for auditors over the tamper-evident audit log (protocol/SPEC.md,
 * section 14): the latest signed checkpoint, an entry's canonical bytes, and inclusion and
 * consistency proofs from the audit tree (tlog.h). Proofs are only given against signed
 * sizes (the latest checkpoint's or an earlier one), and entries only up to the latest
 * checkpoint. */
#include <stdlib.h>
#include <string.h>


#include "api_server.h"
#include "mlagw/checkpoint.h"
#include "mlagw/codec.h"
#include "mlagw/json.h"
#include "mlagw/merkle.h"
#include "tlog/tlog.h"

#define AUDIT_ENTRY_MAX 1024 /* SPEC §14: an entry has at most 1024 bytes */

static json_t *hex_json(const uint8_t h[MLA_MERKLE_HASH_LEN])
{
	char s[2 * MLA_MERKLE_HASH_LEN + 1];

	mla_require(mla_hex_encode(h, MLA_MERKLE_HASH_LEN, s, sizeof(s)) == MLA_OK);
	return json_string(s);
}

/* Adds "hashes", the proof's hashes in hex, to o and writes o into b (o is released). */
static mla_err proof_json(json_t *o, const mla_merkle_proof *p, mla_buf *b)
{
	json_t *hashes = json_array();

	for (size_t i = 0; i < p->len && hashes != NULL; i++)
		if (json_array_append_new(hashes, hex_json(p->hash[i])) != 0) {
			json_decref(hashes);
			hashes = NULL;
		}
	if (json_object_set_new(o, "hashes", hashes) != 0) {
		json_decref(o);
		return MLA_ERR_NOMEM;
	}
	return mla_json_dump(o, b);
}

/* The tree is there and holds the latest checkpoint; otherwise replied (404 or 503), 0. */
static int have_checkpoint(struct api_req *r)
{
	if (tlog_signed_size(r->g) == 0) {
		api_reply_error(r, 404, "not-found", "no checkpoint has been signed yet", NULL);
		return 0;
	}
	if (tlog_tree_size(r->g) < tlog_signed_size(r->g)) {
		api_reply_error(r, 503, "unavailable", "the audit tree is not available", NULL);
		return 0;
	}
	return 1;
}

/* The third line of the checkpoint's text: the base64 root (44 characters). */
static mla_err note_root(const mla_buf *note, char root[45])
{
	const char *p = (const char *)note->data, *end = p + note->len, *nl;

	for (int line = 0; line < 2; line++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return MLA_ERR_STORE;
		p = nl + 1;
	}
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL || nl - p != 44)
		return MLA_ERR_STORE;
	memcpy(root, p, 44);
	root[44] = '\0';
	return MLA_OK;
}

void api_get_audit_checkpoint(struct api_req *r)
{
	static const char *const only[] = {NULL};
	mla_diag d = {MLA_OK, ""};
	uint64_t size = 0;
	char root[45];
	mla_buf b, note;
	mla_err e;

	if (!api_query_only(r, only))
		return;
	if ((e = store_checkpoint_latest(r->g->store, &size, &note, NULL, &d)) == MLA_ERR_NOT_FOUND) {
		api_reply_error(r, 404, "not-found", "no checkpoint has been signed yet", NULL);
		return;
	}
	if (e != MLA_OK) {
		api_reply_error(r, 500, mla_errname(e), mla_diag_message(&d), NULL);
		return;
	}
	mla_buf_init(&b, 8 * MLA_NOTE_MAX);
	if ((e = note_root(&note, root)) == MLA_OK)
		e = mla_json_dump(json_pack("{s:I, s:s, s:s%}", "size", (json_int_t)size, "root_b64",
					    root, "note", (const char *)note.data, note.len),
				  &b);
	api_reply_built(r, 200, e, &b, &d);
	mla_buf_free(&b);
	mla_buf_free(&note);
}

void api_get_audit_entry(struct api_req *r)
{
	static const char *const only[] = {NULL};
	char b64[4 * ((AUDIT_ENTRY_MAX + 2) / 3) + 1];
	uint8_t leaf[MLA_MERKLE_HASH_LEN];
	mla_diag d = {MLA_OK, ""};
	uint64_t seq;
	mla_buf b, entry;
	mla_err e;

	if (!api_query_only(r, only) || !have_checkpoint(r))
		return;
	if (!api_parse_u64(r->param, UINT64_MAX, &seq)) {
		api_reply_error(r, 400, "bad-field", "seq must be a decimal entry number", "seq");
		return;
	}
	if (seq >= tlog_signed_size(r->g)) {
		api_reply_error(r, 404, "not-found", "no such entry in the latest checkpoint", "seq");
		return;
	}
	if ((e = store_audit_get(r->g->store, seq, &entry, leaf, &d)) != MLA_OK) {
		api_reply_error(r, 500, mla_errname(e), mla_diag_message(&d), NULL);
		return;
	}
	mla_buf_init(&b, 4096);
	if (entry.len > AUDIT_ENTRY_MAX) {
		e = mla_fail(&d, MLA_ERR_STORE, "audit entry %llu is too long",
			     (unsigned long long)seq);
	} else if ((e = mla_b64_encode(entry.data, entry.len, b64, sizeof(b64))) == MLA_OK) {
		e = mla_json_dump(json_pack("{s:I, s:s, s:o}", "seq", (json_int_t)seq, "entry_b64",
					    b64, "leaf_hex", hex_json(leaf)),
				  &b);
	}
	api_reply_built(r, 200, e, &b, &d);
	mla_buf_free(&b);
	mla_buf_free(&entry);
}

/* api_parse_query_u64, replied (400) and 0 when refused. */
static int query_u64(struct api_req *r, const char *name, uint64_t dflt, uint64_t lo,
		     uint64_t hi, const char *what, uint64_t *out)
{
	struct api_perr e;

	if (api_parse_query_u64(&r->query, name, dflt, lo, hi, what, out, &e) != MLA_OK) {
		api_reply_perr(r, &e);
		return 0;
	}
	return 1;
}

void api_get_inclusion_proof(struct api_req *r)
{
	static const char *const only[] = {"seq", "size", NULL};
	uint8_t leaf[MLA_MERKLE_HASH_LEN];
	mla_diag d = {MLA_OK, ""};
	mla_merkle_proof proof;
	uint64_t seq, size;
	mla_buf b;
	mla_err e;

	if (!api_query_only(r, only) || !have_checkpoint(r) ||
	    !query_u64(r, "size", tlog_signed_size(r->g), 1, tlog_signed_size(r->g),
		       "size must be 1 .. the latest checkpoint's size", &size) ||
	    !query_u64(r, "seq", UINT64_MAX, 0, size - 1, "seq must be below size", &seq))
		return;
	mla_buf_init(&b, 8192);
	if ((e = tlog_leaf(r->g, seq, leaf)) == MLA_OK &&
	    (e = tlog_inclusion_proof(r->g, seq, size, &proof)) == MLA_OK)
		e = proof_json(json_pack("{s:I, s:I, s:o}", "seq", (json_int_t)seq, "size",
					 (json_int_t)size, "leaf_hex", hex_json(leaf)),
			       &proof, &b);
	api_reply_built(r, 200, e, &b, &d);
	mla_buf_free(&b);
}

void api_get_consistency_proof(struct api_req *r)
{
	static const char *const only[] = {"from", "to", NULL};
	mla_diag d = {MLA_OK, ""};
	mla_merkle_proof proof;
	uint64_t from, to;
	mla_buf b;
	mla_err e;

	if (!api_query_only(r, only) || !have_checkpoint(r) ||
	    !query_u64(r, "to", tlog_signed_size(r->g), 1, tlog_signed_size(r->g),
		       "to must be 1 .. the latest checkpoint's size", &to) ||
	    !query_u64(r, "from", UINT64_MAX, 1, to, "from must be 1 .. to", &from))
		return;
	mla_buf_init(&b, 8192);
	if ((e = tlog_consistency_proof(r->g, from, to, &proof)) == MLA_OK)
		e = proof_json(json_pack("{s:I, s:I}", "from", (json_int_t)from, "to", (json_int_t)to),
			       &proof, &b);
	api_reply_built(r, 200, e, &b, &d);
	mla_buf_free(&b);
}
