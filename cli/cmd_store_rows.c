/* mlagw store show, the row listings: each part of the store as tab-separated text lines or
 * as a JSON array written one row at a time (memory does not grow with the store). Bytes are
 * base64 in JSON, digests lower-case hex. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "mlagw/codec.h"
#include "cli_util.h"
#include "cmd_store.h"

#define CMD "store show"

int show_done(const struct show_out *o, mla_err e, const mla_diag *d)
{
	if (e == MLA_OK)
		return CLI_OK;
	if (o->rc != CLI_OK)
		return o->rc;
	fprintf(stderr, "mlagw " CMD ": %s\n", d->msg[0] != '\0' ? d->msg : mla_strerror(e));
	return e == MLA_ERR_NOMEM ? CLI_INTERNAL : CLI_IO;
}

static void hex32(const uint8_t *p, char out[65])
{
	mla_require(mla_hex_encode(p, 32, out, 65) == MLA_OK); /* 32 bytes: 64 digits */
}

/* A JSON string of base64(p, n); NULL when p is NULL or memory is short. */
static json_t *b64(const void *p, size_t n)
{
	char *s;
	json_t *j;

	if (p == NULL || n > (size_t)1 << 30 || (s = malloc(MLA_B64_LEN(n) + 1)) == NULL)
		return NULL;
	j = mla_b64_encode(p, n, s, MLA_B64_LEN(n) + 1) == MLA_OK ? json_string(s) : NULL;
	free(s);
	return j;
}

/* Prints one JSON row (taking j) after a separator; stops the listing when j is NULL (a
 * row that is not valid text, or no memory). */
static mla_err emit(struct show_out *o, json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(j);
	if (s == NULL) {
		fprintf(stderr, "mlagw " CMD ": row %zu cannot be written as JSON (text that is not "
				"UTF-8, or no memory)\n", o->n);
		o->rc = CLI_IO;
		return MLA_ERR_INTERNAL;
	}
	fputs(o->n == 0 ? "[\n" : ",\n", stdout);
	fputs(s, stdout);
	free(s);
	o->n++;
	return MLA_OK;
}

/* Ends a listing: the JSON array's closing bracket (an empty array if no row). */
static int finish(struct show_out *o, mla_err e, const mla_diag *d)
{
	int rc = show_done(o, e, d);

	if (rc == CLI_OK && o->json)
		fputs(o->n == 0 ? "[]\n" : "\n]\n", stdout);
	return rc;
}

static const char *dash(const char *s)
{
	return s != NULL && *s != '\0' ? s : "-";
}

/* Sets key to v (taken) in j; 0 when v is NULL or the set fails. */
static int jset(json_t *j, const char *key, json_t *v)
{
	if (v == NULL)
		return 0;
	return json_object_set_new(j, key, v) == 0;
}

static json_t *jint(int64_t v)
{
	return json_integer((json_int_t)v);
}

/* The JSON object of an outgoing message (the receipt with --blobs); NULL on failure. */
static json_t *outbox_json(const struct store_outbox_row *row, int blobs)
{
	const struct out_msg *m = row->msg;
	json_t *j = json_object();
	char dg[65];

	hex32(m->digest, dg);
	if (j == NULL || !jset(j, "message_id", json_string(m->message_id)) ||
	    !jset(j, "case_id", json_string(m->case_id)) || !jset(j, "to", json_string(m->to_state)) ||
	    !jset(j, "kind", json_string(m->kind)) || !jset(j, "action", json_string(m->action)) ||
	    !jset(j, "priority", jint(m->priority)) || !jset(j, "state", jint(m->state)) ||
	    !jset(j, "state_name", json_string(msg_state_name(m->state))) ||
	    !jset(j, "attempts", jint(m->attempts)) || !jset(j, "created_ms", jint(m->created_ms)) ||
	    !jset(j, "next_attempt_ms", jint(m->next_attempt_ms)) ||
	    !jset(j, "deadline_ms", jint(m->deadline_ms)) ||
	    !jset(j, "updated_ms", jint(row->updated_ms)) || !jset(j, "digest", json_string(dg)) ||
	    !jset(j, "last_error", m->last_error[0] != '\0' ? json_string(m->last_error)
							     : json_null()) ||
	    !jset(j, "in_reply_to", json_string(m->in_reply_to)) ||
	    !jset(j, "submitted_by", json_string(m->submitted_by)) ||
	    !jset(j, "has_receipt", json_boolean(row->receipt != NULL)) ||
	    (blobs && row->receipt != NULL &&
	     !jset(j, "receipt", b64(row->receipt, row->receipt_len)))) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static mla_err outbox_row(const struct store_outbox_row *row, void *arg)
{
	struct show_out *o = arg;
	const struct out_msg *m = row->msg;

	if (!o->json) {
		printf("%s\t%s\t%s\t%u\t%d\t%s\t%s\t%s\t%lld\t%s\n", m->message_id, m->to_state,
		       msg_state_name(m->state), m->attempts, m->priority, m->kind, m->action,
		       dash(m->case_id), (long long)m->created_ms, dash(m->last_error));
		return MLA_OK;
	}
	return emit(o, outbox_json(row, o->blobs));
}

int show_outbox(store_reader *r, struct show_out *o)
{
	mla_diag d = {MLA_OK, ""};

	return finish(o, store_reader_outbox(r, outbox_row, o, &d), &d);
}

/* The JSON object of a received message (envelope and receipt with --blobs). */
static json_t *inbox_json(const struct store_inbox_row *row, int blobs)
{
	const struct in_msg *m = row->msg;
	json_t *j = json_object();
	char dg[65];

	hex32(m->digest, dg);
	if (j == NULL || !jset(j, "message_id", json_string(m->message_id)) ||
	    !jset(j, "case_id", json_string(m->case_id)) ||
	    !jset(j, "in_reply_to", json_string(m->in_reply_to)) ||
	    !jset(j, "from", json_string(m->from_state)) || !jset(j, "kind", json_string(m->kind)) ||
	    !jset(j, "action", json_string(m->action)) || !jset(j, "priority", jint(m->priority)) ||
	    !jset(j, "created_ms", jint(m->created_ms)) ||
	    !jset(j, "received_ms", jint(m->received_ms)) || !jset(j, "digest", json_string(dg)) ||
	    !jset(j, "accepted", jint(row->accepted)) ||
	    !jset(j, "has_envelope", json_boolean(row->envelope != NULL)) ||
	    (blobs && row->envelope != NULL &&
	     !jset(j, "envelope", b64(row->envelope, row->envelope_len))) ||
	    (blobs && !jset(j, "receipt", b64(row->receipt, row->receipt_len)))) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static mla_err inbox_row(const struct store_inbox_row *row, void *arg)
{
	struct show_out *o = arg;
	const struct in_msg *m = row->msg;

	if (!o->json) {
		printf("%s\t%s\t%s\t%d\t%s\t%s\t%s\t%lld\n", m->message_id, m->from_state,
		       row->accepted ? "accepted" : "refused", m->priority, m->kind, m->action,
		       dash(m->case_id), (long long)m->received_ms);
		return MLA_OK;
	}
	return emit(o, inbox_json(row, o->blobs));
}

int show_inbox(store_reader *r, struct show_out *o)
{
	mla_diag d = {MLA_OK, ""};

	return finish(o, store_reader_inbox(r, inbox_row, o, &d), &d);
}

static mla_err history_row(const struct store_history_row *row, void *arg)
{
	struct show_out *o = arg;

	if (!o->json) {
		printf("%s\t%s\t%s\t%lld\t%s\n", row->message_id, row->direction, row->state,
		       (long long)row->at_ms, dash(row->detail));
		return MLA_OK;
	}
	return emit(o, json_pack("{sssssssIss?}", "message_id", row->message_id, "direction",
				 row->direction, "state", row->state, "at_ms",
				 (json_int_t)row->at_ms, "detail", row->detail));
}

int show_history(store_reader *r, const char *message_id, struct show_out *o)
{
	mla_diag d = {MLA_OK, ""};

	return finish(o, store_reader_history(r, message_id, history_row, o, &d), &d);
}

static mla_err alert_row(const struct store_alert_row *row, void *arg)
{
	struct show_out *o = arg;

	if (!o->json) {
		printf("%s\t%s\t%lld\t%s\n", row->kind, dash(row->message_id),
		       (long long)row->at_ms, dash(row->detail));
		return MLA_OK;
	}
	return emit(o, json_pack("{ssss?sIss?}", "kind", row->kind, "message_id", row->message_id,
				 "at_ms", (json_int_t)row->at_ms, "detail", row->detail));
}

int show_alerts(store_reader *r, struct show_out *o)
{
	mla_diag d = {MLA_OK, ""};

	return finish(o, store_reader_alerts(r, alert_row, o, &d), &d);
}

static mla_err audit_row(const struct store_audit_row *row, void *arg)
{
	struct show_out *o = arg;
	char leaf[65] = "-";

	if (row->leaf != NULL)
		hex32(row->leaf, leaf);
	if (!o->json) { /* a header line, then the entry as stored (it ends in a newline) */
		printf("# seq %llu leaf %s\n", (unsigned long long)row->seq, leaf);
		if (row->len > 0 && fwrite(row->entry, 1, row->len, stdout) != row->len)
			return MLA_ERR_IO;
		return MLA_OK;
	}
	return emit(o, json_pack("{sIss?so}", "seq", (json_int_t)row->seq, "leaf",
				 row->leaf != NULL ? leaf : NULL, "entry",
				 row->entry != NULL ? b64(row->entry, row->len) : json_string("")));
}

int show_audit(store_reader *r, uint64_t from, uint64_t to, struct show_out *o)
{
	mla_diag d = {MLA_OK, ""};

	/* the reader's upper bound is exclusive; to = UINT64_MAX reads to the end */
	return finish(o, store_reader_audit(r, from, to == UINT64_MAX ? to : to + 1, audit_row, o,
					    &d), &d);
}

static mla_err checkpoint_row(const struct store_checkpoint_row *row, void *arg)
{
	struct show_out *o = arg;

	if (!o->json) {
		printf("# checkpoint %llu at %lld\n", (unsigned long long)row->size,
		       (long long)row->at_ms);
		if (row->len > 0 && fwrite(row->note, 1, row->len, stdout) != row->len)
			return MLA_ERR_IO;
		return MLA_OK;
	}
	return emit(o, json_pack("{sIsIso}", "size", (json_int_t)row->size, "at_ms",
				 (json_int_t)row->at_ms, "note",
				 row->note != NULL ? b64(row->note, row->len) : json_string("")));
}

int show_checkpoints(store_reader *r, struct show_out *o)
{
	mla_diag d = {MLA_OK, ""};

	return finish(o, store_reader_checkpoints(r, checkpoint_row, o, &d), &d);
}

static mla_err witnessed_row(const struct store_witnessed_row *row, void *arg)
{
	struct show_out *o = arg;
	char root[65];

	hex32(row->root, root);
	if (!o->json) {
		printf("# witnessed %s %llu root %s at %lld\n", row->origin,
		       (unsigned long long)row->size, root, (long long)row->at_ms);
		if (row->len > 0 && fwrite(row->note, 1, row->len, stdout) != row->len)
			return MLA_ERR_IO;
		return MLA_OK;
	}
	return emit(o, json_pack("{sssIsssIso}", "origin", row->origin, "size",
				 (json_int_t)row->size, "root", root, "at_ms",
				 (json_int_t)row->at_ms, "note",
				 row->note != NULL ? b64(row->note, row->len) : json_string("")));
}

int show_witnessed(store_reader *r, struct show_out *o)
{
	mla_diag d = {MLA_OK, ""};

	return finish(o, store_reader_witnessed(r, witnessed_row, o, &d), &d);
}

static mla_err peer_cert_row(const struct store_peer_cert_row *row, void *arg)
{
	struct show_out *o = arg;
	char fp[65];

	hex32(row->fingerprint, fp);
	if (!o->json) {
		printf("%s\t%s\t%lld\t%zu\n", row->state, fp, (long long)row->at_ms, row->len);
		return MLA_OK;
	}
	return emit(o, json_pack("{sssssIso}", "state", row->state, "fingerprint", fp, "at_ms",
				 (json_int_t)row->at_ms, "der", b64(row->der, row->len)));
}

int show_peer_certs(store_reader *r, struct show_out *o)
{
	mla_diag d = {MLA_OK, ""};

	return finish(o, store_reader_peer_certs(r, peer_cert_row, o, &d), &d);
}
