/* The witness side of add-checkpoint (C2SP tlog-witness): a peer gateway sends its signed
 * checkpoint and a consistency proof from the size we last cosigned for it; we check its
 * audit certificate, the signature and the proof, record the new size durably, then answer
 * with our cosignature. Everything runs on the loop thread outside any group commit, so the
 * check and the update of the latest size are one atomic step, durable before the answer. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "core/log.h"
#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"
#include "mlagw/witness.h"
#include "tlog_internal.h"
#include "witness.h"

static void reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
		  const char *body, const struct gw *g)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (b != NULL)
		evbuffer_add(b, body, strlen(body));
	evhttp_add_header(h, "Content-Type", ctype);
	if (code == 200)
		evhttp_add_header(h, WITNESS_CERT_HEADER, witness_own_cert(g));
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void refuse(struct evhttp_request *req, int code, const char *reason, const char *state,
		   const char *why)
{
	char body[MLA_DIAG_MAX + 8];

	gw_log(code >= 500 ? GW_LOG_ERROR : GW_LOG_WARN, "witness-refused", NULL,
	       "peer=%s status=%d reason=\"%s\"", state, code, why);
	(void)mla_snprintf_cut(body, sizeof(body), "%s\n", why);
	reply(req, code, reason, "text/plain", body, NULL);
}


/* What the request says, once its certificate and signature are checked. */
struct add_req {
	mla_witness_request w;
	mla_checkpoint cp;
	size_t text_len;
	X509 *cert;
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
};

/* The note's first line into a->origin when it names state's log in some epoch. */
static int peer_origin(struct add_req *a, const char *state)
{
	const char *nl = memchr(a->w.note, '\n', a->w.note_len);
	size_t n = nl != NULL ? (size_t)(nl - a->w.note) : 0;
	char st[3];
	uint32_t epoch;

	if (n == 0 || n > MLA_AUDIT_ORIGIN_MAX)
		return 0;
	memcpy(a->origin, a->w.note, n);
	a->origin[n] = '\0';
	return mla_audit_origin_parse(a->origin, st, &epoch) == MLA_OK && strcmp(st, state) == 0;
}

/* The checkpoint must be signed by the peer's audit key and be the peer's own log. Returns
 * the HTTP status to refuse with, or 0. */
static int open_checkpoint(struct add_req *a, const char *state, char *why,
			   size_t whylen)
{
	mla_note_verifier v;
	mla_diag d = {MLA_OK, ""};
	uint64_t signers = 0;
	mla_err r;

	/* an unknown log is 404 before its signature is looked at (C2SP tlog-witness): the
	 * peer's own, in any epoch (SPEC 14, "Log epochs"; witness_epoch.c judges which) */
	if (!peer_origin(a, state)) {
		witness_log_name(state, a->origin);
		(void)mla_snprintf_cut(why, whylen, "not the log of %s (%.64s[/<epoch>]): unknown "
				       "here", state, a->origin);
		return 404;
	}
	if (mla_note_verifier_from_key(a->origin, X509_get0_pubkey(a->cert), &v, &d) != MLA_OK) {
		(void)mla_snprintf_cut(why, whylen, "audit certificate: %s", mla_diag_message(&d));
		return 403;
	}
	r = mla_checkpoint_open(a->w.note, a->w.note_len, &v, 1, &a->cp, &signers, &d);
	(void)mla_snprintf_cut(why, whylen, "checkpoint: %s", mla_diag_message(&d));
	if (r == MLA_ERR_SIG_INVALID || r == MLA_ERR_CERT_UNTRUSTED)
		return 403;
	if (r != MLA_OK)
		return 400;
	if (strcmp(a->cp.origin, a->origin) != 0) {
		(void)mla_snprintf_cut(why, whylen, "checkpoint of log '%.64s': %s may only submit %.64s",
				       a->cp.origin, state, a->origin);
		return 404;
	}
	for (size_t i = a->w.note_len - 1; i > 0; i--)
		if (a->w.note[i] == '\n' && a->w.note[i - 1] == '\n') {
			a->text_len = i; /* opened above: the text ends at the last blank line */
			break;
		}
	return 0;
}

static void alert(struct gw *g, const char *kind, const char *state, const char *detail)
{
	mla_diag d = {MLA_OK, ""};

	if (!witness_alert_due(g, state))
		return; /* stored (and logged) a minute ago: the refusal itself still goes out */
	gw_log(GW_LOG_ERROR, kind, NULL, "peer=%s %s", state, detail);
	if (store_alert(g->store, kind, NULL, detail, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "alert", NULL,
			       "op=alert reason=\"%s\"", d.msg);
}

/* Old size and proof against what we cosigned last. Returns the status to refuse with (409
 * with the size in body, 422), or 0. */
static int check_history(struct gw *g, const struct add_req *a, const char *state,
			 uint64_t *latest, char *why, size_t whylen)
{
	uint8_t root[MLA_MERKLE_HASH_LEN];
	mla_merkle_proof proof;
	mla_diag d = {MLA_OK, ""};
	mla_err r = store_witness_latest(g->store, a->origin, latest, root, &d);

	if (r == MLA_ERR_NOT_FOUND) {
		*latest = 0;
		(void)mla_merkle_empty_root(root);
	} else if (r != MLA_OK) {
		(void)mla_snprintf_cut(why, whylen, "store: %s", mla_diag_message(&d));
		return 503;
	}
	if (a->w.old_size != *latest) {
		(void)mla_snprintf_cut(why, whylen, "old size %" PRIu64 ", last cosigned %" PRIu64,
				       a->w.old_size, *latest);
		return 409;
	}
	if (a->cp.size == *latest) {
		if (a->w.nproof != 0) {
			(void)mla_snprintf_cut(why, whylen, "a proof between equal sizes must be empty");
			return 400;
		}
		if (memcmp(root, a->cp.root, sizeof(root)) == 0)
			return 0;
		(void)mla_snprintf_cut(why, whylen, "size=%" PRIu64 " detail=\"two roots for one size\"",
				       a->cp.size);
		alert(g, "witness-conflict", state, why);
		return 409;
	}
	proof.len = a->w.nproof;
	memcpy(proof.hash, a->w.proof, a->w.nproof * MLA_MERKLE_HASH_LEN);
	if (mla_merkle_consistency_verify(*latest, a->cp.size, root, a->cp.root, &proof) !=
	    MLA_OK) {
		(void)mla_snprintf_cut(why, whylen,
				       "old=%" PRIu64 " size=%" PRIu64 " detail=\"not consistent with the "
				       "checkpoint cosigned before\"", *latest, a->cp.size);
		alert(g, "witness-inconsistent", state, why);
		return 422;
	}
	return 0;
}

/* What we keep of a peer's checkpoint: its text, the log's own signature line (the one that
 * verifies with its key) and our cosignature. Other witnesses' lines are dropped: an auditor
 * of our bundle could not check them without their certificates. NULL when out of memory. */
static char *kept_note(const struct add_req *a, const char *line, size_t *lenp)
{
	const char *sigs = a->w.note + a->text_len + 1, *end = a->w.note + a->w.note_len, *nl;
	size_t head = a->text_len + 1, ll = strlen(line);
	char *out = malloc(a->w.note_len + ll);
	mla_note_verifier v;

	if (out == NULL || mla_note_verifier_from_key(a->origin, X509_get0_pubkey(a->cert), &v,
						      NULL) != MLA_OK) {
		free(out);
		return NULL;
	}
	memcpy(out, a->w.note, head);
	for (const char *p = sigs; p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL;
	     p = nl + 1) {
		size_t n = (size_t)(nl - p) + 1, tl;
		memcpy(out + head, p, n);
		if (mla_note_open(out, head + n, &v, 1, &tl, NULL, NULL) == MLA_OK) {
			memcpy(out + head + n, line, ll);
			*lenp = head + n + ll;
			return out;
		}
	}
	free(out);
	return NULL;
}

/* Cosigns, records the checkpoint (see kept_note) and the peer's certificate. */
static int cosign_and_store(struct gw *g, const struct add_req *a, const char *state,
			    uint64_t latest, char line[MLA_COSIG_LINE_MAX], char *why,
			    size_t whylen)
{
	char name[MLA_CHECKPOINT_ORIGIN_MAX + 1], *note = NULL;
	unsigned char *der = NULL;
	mla_diag d = {MLA_OK, ""};
	size_t note_len = 0;
	int der_len, status = 0;
	mla_err r;

	witness_cosigner_name(g->snap->cfg.state, name);
	if (mla_cosignature_sign(a->w.note, a->text_len, name, g->tlog->audit_key,
				 (uint64_t)(gw_now_ms() / 1000), line, MLA_COSIG_LINE_MAX, &d) !=
	    MLA_OK) {
		(void)mla_snprintf_cut(why, whylen, "cosigning: %s", mla_diag_message(&d));
		return 500;
	}
	if (a->cp.size == latest)
		return 0; /* the same checkpoint again: the first cosigned note stays */
	if ((der_len = i2d_X509(a->cert, &der)) <= 0 ||
	    (note = kept_note(a, line, &note_len)) == NULL) {
		OPENSSL_free(der);
		(void)mla_snprintf_cut(why, whylen, "out of memory");
		return 503;
	}
	if ((r = store_peer_cert_put(g->store, state, der, (size_t)der_len, &d)) != MLA_OK ||
	    (r = store_witness_put(g->store, a->origin, a->cp.size, a->cp.root, note, note_len,
				   gw_now_ms(), &d)) != MLA_OK) {
		(void)mla_snprintf_cut(why, whylen, "%s", mla_diag_message(&d));
		status = r == MLA_ERR_TOO_LARGE ? 403 : 503;
	}
	free(note);
	OPENSSL_free(der);
	return status;
}

static const char *reason_of(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 500: return "Internal Server Error";
	default: return "Service Unavailable";
	}
}

/* Everything up to the cosignature; the status to refuse with, or 0 with line set. */
static int add_checkpoint(struct gw *g, struct evhttp_request *req, const char *state,
			  struct add_req *a, uint64_t *latest, char line[MLA_COSIG_LINE_MAX],
			  char *why, size_t whylen)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *hdr = evhttp_find_header(evhttp_request_get_input_headers(req),
					     WITNESS_CERT_HEADER);
	mla_diag d = {MLA_OK, ""};
	int status;

	(void)mla_snprintf_cut(why, whylen, "%s", "refused");
	if (g->tlog->audit_key == NULL || g->stopping) {
		(void)mla_snprintf_cut(why, whylen, "not witnessing now");
		return 503;
	}
	if (len == 0 || len > MLA_WITNESS_BODY_MAX) {
		(void)mla_snprintf_cut(why, whylen, "body empty or larger than %d bytes",
				       MLA_WITNESS_BODY_MAX);
		return len == 0 ? 400 : 413;
	}
	if (mla_witness_request_parse((const char *)evbuffer_pullup(in, -1), len, &a->w, &d) !=
	    MLA_OK) {
		(void)mla_snprintf_cut(why, whylen, "%s", mla_diag_message(&d));
		return 400;
	}
	if (hdr == NULL || witness_cert_from_header(g, hdr, state, &a->cert, &d) != MLA_OK) {
		(void)mla_snprintf_cut(why, whylen, "%s",
				       hdr == NULL ? "no " WITNESS_CERT_HEADER : mla_diag_message(&d));
		return 403;
	}
	if ((status = open_checkpoint(a, state, why, whylen)) != 0)
		return status;
	if (a->w.old_size > a->cp.size) {
		(void)mla_snprintf_cut(why, whylen, "old size beyond the checkpoint");
		return 400;
	}
	if ((status = witness_epoch_check(g, req, state, &a->cp, a->w.old_size, why, whylen)) !=
		    0 ||
	    (status = check_history(g, a, state, latest, why, whylen)) != 0)
		return status;
	return cosign_and_store(g, a, state, *latest, line, why, whylen);
}

void witness_serve(struct gw *g, struct evhttp_request *req, const char *state)
{
	char why[MLA_DIAG_MAX], line[MLA_COSIG_LINE_MAX], size_body[32];
	struct add_req a;
	uint64_t latest = 0;
	int status;

	memset(&a, 0, sizeof(a));
	status = add_checkpoint(g, req, state, &a, &latest, line, why, sizeof(why));
	X509_free(a.cert);
	if (status == 409 && a.w.old_size != latest) {
		/* 20 digits and a newline always fit in size_body */
		if (mla_snprintf(size_body, sizeof(size_body), "%" PRIu64 "\n", latest) != MLA_OK)
			size_body[0] = '\0';
		gw_log(GW_LOG_INFO, "witness-size", NULL, "peer=%s old=%" PRIu64 " latest=%" PRIu64,
		       state, a.w.old_size, latest);
		reply(req, 409, "Conflict", "text/x.tlog.size", size_body, NULL);
	} else if (status != 0) {
		refuse(req, status, reason_of(status), state, why);
	} else {
		gw_log(GW_LOG_INFO, "witness-cosigned", NULL, "peer=%s size=%" PRIu64, state,
		       a.cp.size);
		reply(req, 200, "OK", "text/plain", line, g);
	}
}

/* Finds the stored certificate of the asker whose key verifies the head (so that the asker can
 * check a head signed by a key its own store no longer lists, against its State's root). */
struct head_cert {
	const mla_buf *note;
	const char *origin;
	char *b64; /* malloc'd: the certificate found, base64 */
};

static int cert_signs(const uint8_t *der, size_t len, void *arg)
{
	struct head_cert *hc = arg;
	const unsigned char *p = der;
	X509 *x = len > 0 && len <= 65536 ? d2i_X509(NULL, &p, (long)len) : NULL;
	mla_note_verifier v;
	mla_checkpoint cp;
	int ok = x != NULL &&
		 mla_note_verifier_from_key(hc->origin, X509_get0_pubkey(x), &v, NULL) == MLA_OK &&
		 mla_checkpoint_open((const char *)hc->note->data, hc->note->len, &v, 1, &cp, NULL,
				     NULL) == MLA_OK &&
		 (hc->b64 = malloc(MLA_B64_LEN(len) + 1)) != NULL &&
		 mla_b64_encode(der, len, hc->b64, MLA_B64_LEN(len) + 1) == MLA_OK;

	X509_free(x);
	if (!ok) {
		free(hc->b64);
		hc->b64 = NULL;
	}
	return ok;
}

/* The origin the asker names (the body, "<origin>\n": its log in its current epoch), when it
 * is the asker's own log, epoch 1's otherwise (an asker from before epochs); the latest epoch
 * of its log cosigned here when that is later. */
static void asked_origin(struct gw *g, struct evhttp_request *req, const char *state,
			 char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1])
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body = len > 0 && len <= MLA_AUDIT_ORIGIN_MAX + 1
				   ? (const char *)evbuffer_pullup(in, -1) : NULL;
	char st[3];
	uint32_t epoch;

	uint32_t known = 0;

	witness_log_name(state, origin);
	if (body != NULL && body[len - 1] == '\n') {
		memcpy(origin, body, len - 1);
		origin[len - 1] = '\0';
	}
	if (mla_audit_origin_parse(origin, st, &epoch) != MLA_OK || strcmp(st, state) != 0) {
		witness_log_name(state, origin);
		epoch = 1;
	}
	/* a later epoch of the asker's log than it names: its store went back beyond an
	 * epoch's opening (restored from an older backup), and must learn so */
	if (store_witness_epoch(g->store, state, &known, NULL) == MLA_OK && known > epoch)
		mla_require(mla_audit_origin_format(state, known, origin) == MLA_OK);
}

/* The latest head of the requesting peer's own log that we cosigned, as it sent it to us (its
 * signature and ours): 200 with the note, 204 when we never cosigned its log. A peer learns
 * this before it signs anything after a start (witness.h, heads.c). Read-only: served also
 * while this gateway is itself starting. */
void witness_serve_head(struct gw *g, struct evhttp_request *req, const char *state)
{
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	mla_diag d = {MLA_OK, ""};
	struct evbuffer *b;
	mla_buf note;
	mla_err r;

	asked_origin(g, req, state, origin);
	mla_buf_init(&note, MLA_NOTE_MAX + MLA_COSIG_LINE_MAX * 16);
	r = store_witness_latest_note(g->store, origin, &note, &d);
	if (r == MLA_ERR_NOT_FOUND) {
		evhttp_send_reply(req, 204, "No Content", NULL);
	} else if (r != MLA_OK || (b = evbuffer_new()) == NULL) {
		refuse(req, 503, "Service Unavailable", state, "cannot read the cosigned head");
	} else {
		struct head_cert hc = {&note, origin, NULL};
		(void)store_peer_certs_each(g->store, state, cert_signs, &hc, NULL);
		evbuffer_add(b, note.data, note.len);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  "text/plain");
		if (hc.b64 != NULL)
			evhttp_add_header(evhttp_request_get_output_headers(req),
					  WITNESS_CERT_HEADER, hc.b64);
		free(hc.b64);
		evhttp_send_reply(req, 200, "OK", b);
		evbuffer_free(b);
		gw_log(GW_LOG_INFO, "witness-head-served", NULL, "peer=%s", state);
	}
	mla_buf_free(&note);
}
