/* The log side of witnessing: after each checkpoint, every peer is asked to cosign it with a
 * consistency proof from the size it last cosigned (unknown at start: its 409 answer tells),
 * and the cosignature it returns is verified and added to our stored checkpoint. A peer that
 * cannot be reached is asked again at a later tick; nothing here blocks message traffic. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "checkpoint.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/witness.h"
#include "net/peer_client.h"
#include "tlog.h"
#include "tlog_internal.h"
#include "witness.h"

#define RETRY_MS 5000	  /* after a failed exchange (a success asks again at once) */
#define REFUSED_MS 60000 /* after the peer refused our history: it raised an alert already */
#define ALERT_MS 60000	 /* a peer's refused requests: one stored alert a minute at most */
#define RESPONSE_MAX 4096 /* a few cosignature lines */

/* One add-checkpoint exchange with a peer, through the peer client. */
struct witness_xfer {
	struct peer_call c; /* first: the client hands its post back to witness_done */
	struct gw *g;
	char to_state[3];
	uint64_t cp_size; /* the size of the checkpoint sent */
};

struct witness_peer {
	char state[3];
	uint64_t cosigned;    /* the size it last cosigned, as far as we know */
	int64_t next_try_ms;  /* monotonic: not before then (0: now) */
	int resent;           /* the last request was an immediate re-send after a 409 */
	int refused;          /* it refused our history: only retried on its own schedule */
	int64_t alert_ms;     /* witness side: when its last alert was stored (monotonic) */
	struct witness_xfer *t; /* the exchange in flight, if any */
};

struct gw_witness {
	char *own_cert; /* our audit certificate, base64 DER, for the header */
	char cert_header[64 + 4096];
	struct witness_peer peers[GW_MAX_PEERS];
	size_t n;
};

static void name_of(const char *state, const char *what, char out[MLA_CHECKPOINT_ORIGIN_MAX + 1])
{
	/* two letters and a short constant always fit; were it not so, the empty name would be
	 * refused by every note function rather than a cut one used */
	if (mla_snprintf(out, MLA_CHECKPOINT_ORIGIN_MAX + 1, "mlagw.%c%c/%s",
			 tolower((unsigned char)state[0]), tolower((unsigned char)state[1]),
			 what) != MLA_OK)
		out[0] = '\0';
}

void witness_log_name(const char *state, char out[MLA_CHECKPOINT_ORIGIN_MAX + 1])
{
	name_of(state, "audit", out);
}

void witness_cosigner_name(const char *state, char out[MLA_CHECKPOINT_ORIGIN_MAX + 1])
{
	name_of(state, "witness", out);
}

const char *witness_own_cert(const struct gw *g)
{
	const struct gw_witness *w = g->tlog->witness;

	return w != NULL && w->own_cert != NULL ? w->own_cert : "";
}

mla_err witness_cert_from_header(const struct gw *g, const char *b64, const char *state,
				 X509 **certp, mla_diag *diag)
{
	size_t n = strlen(b64), len = 0;
	unsigned char *der = n > 0 && n <= 8192 ? malloc(n) : NULL;
	const unsigned char *p = der;
	int whole;
	mla_err r;

	*certp = NULL;
	if (der == NULL || mla_b64_decode(b64, n, der, n, &len) != MLA_OK || len == 0) {
		free(der);
		return mla_fail(diag, MLA_ERR_SCHEMA, WITNESS_CERT_HEADER " is not base64");
	}
	*certp = d2i_X509(NULL, &p, (long)len);
	whole = (size_t)(p - der) == len; /* every byte used: exactly one certificate */
	free(der);
	if (*certp == NULL || !whole)
		r = mla_fail(diag, MLA_ERR_SCHEMA, WITNESS_CERT_HEADER " is not one certificate");
	else
		r = mla_trust_check_audit_cert(g->crypto->trust, state, *certp, 0, diag);
	if (r != MLA_OK) {
		X509_free(*certp);
		*certp = NULL;
	}
	return r;
}

/* Our audit certificate as the header value; read at start and after each reload that
 * changed the audit key (the header must name the key that signs). */
static mla_err load_own_cert(struct gw *g, mla_diag *diag)
{
	struct gw_witness *w = g->tlog->witness;
	X509 *cert = NULL;
	unsigned char *der = NULL;
	char *b64;
	int len;
	mla_err r;

	if ((r = mla_pem_load_cert(g->snap->cfg.audit.cert, &cert, diag)) != MLA_OK)
		return r;
	len = i2d_X509(cert, &der);
	X509_free(cert);
	if (len <= 0 || (b64 = malloc(MLA_B64_LEN((size_t)len) + 1)) == NULL) {
		OPENSSL_free(der);
		return MLA_ERR_NOMEM;
	}
	r = mla_b64_encode(der, (size_t)len, b64, MLA_B64_LEN((size_t)len) + 1);
	OPENSSL_free(der);
	if (r != MLA_OK || mla_snprintf(w->cert_header, sizeof(w->cert_header), "%s: %s",
					WITNESS_CERT_HEADER, b64) != MLA_OK) {
		free(b64);
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "[keys] audit_cert: larger than %zu bytes "
				"in base64", sizeof(w->cert_header) - sizeof(WITNESS_CERT_HEADER) - 2);
	}
	free(w->own_cert);
	w->own_cert = b64;
	return MLA_OK;
}

void witness_reload(struct gw *g)
{
	mla_diag d = {MLA_OK, ""};

	if (g->tlog->witness != NULL && load_own_cert(g, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "witness-error", NULL, "reason=\"%s\"", mla_diag_message(&d));
}

mla_err witness_start(struct gw *g, mla_diag *diag)
{
	if ((g->tlog->witness = calloc(1, sizeof(*g->tlog->witness))) == NULL)
		return MLA_ERR_NOMEM;
	return load_own_cert(g, diag);
}

static struct witness_peer *peer_slot(struct gw_witness *w, const char *state)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->peers[i].state, state) == 0)
			return &w->peers[i];
	if (w->n == GW_MAX_PEERS)
		return NULL;
	memcpy(w->peers[w->n].state, state, 3);
	return &w->peers[w->n++];
}

int witness_url(const char *url, const char *path, char *out, size_t outlen)
{
	const char *auth = url + strlen("https://"), *slash = strchr(auth, '/');
	int n = (int)(slash != NULL ? slash - url : (long)strlen(url));

	return snprintf(out, outlen, "%.*s%s", n, url, path) < (int)outlen;
}

/* The request body: old size, proof from it to the latest checkpoint, the checkpoint. */
static mla_err build_body(struct gw *g, uint64_t old, struct witness_xfer *t, mla_diag *diag)
{
	mla_merkle_proof proof = {0};
	mla_buf note;
	mla_err r;

	if ((r = store_checkpoint_latest(g->store, &t->cp_size, &note, NULL, diag)) != MLA_OK)
		return r;
	if (old > 0 && old < t->cp_size &&
	    (r = gw_tree_consistency_proof(g, old, t->cp_size, &proof)) !=
		    MLA_OK)
		r = mla_fail(diag, r, "no consistency proof from %" PRIu64, old);
	else
		r = mla_witness_request_format(old, (const uint8_t(*)[32])proof.hash, proof.len,
					       (const char *)note.data, note.len, &t->c.body,
					       diag);
	mla_buf_free(&note);
	return r;
}

static void xfer_free(struct witness_xfer *t)
{
	if (t == NULL)
		return;
	peer_call_clear(&t->c);
	free(t);
}

static void witness_done(struct peer_post *p, CURLcode res);

static void send_to(struct gw *g, struct witness_peer *wp)
{
	const struct gw_peer *cp = gw_config_peer(&g->snap->cfg, wp->state);
	struct witness_xfer *t = calloc(1, sizeof(*t));
	mla_diag d = {MLA_OK, ""};
	char url[GW_URL_MAX + 64];
	mla_buf link, proof;

	mla_buf_init(&link, 2048);
	mla_buf_init(&proof, 4096);
	wp->next_try_ms = gw_mono_ms() + RETRY_MS;
	if (t == NULL || cp == NULL || !witness_url(cp->url, WITNESS_PATH, url, sizeof(url)))
		goto fail;
	t->g = g;
	t->c.post.done = witness_done;
	memcpy(t->to_state, wp->state, 3);
	mla_buf_init(&t->c.body, MLA_WITNESS_BODY_MAX);
	mla_buf_init(&t->c.response, RESPONSE_MAX);
	const char *headers[] = {g->tlog->witness->cert_header, NULL, NULL, NULL};

	if (build_body(g, wp->cosigned, t, &d) != MLA_OK)
		goto fail;
	/* a new epoch's first checkpoint to this peer carries its link (witness_epoch.c) */
	if (g->tlog->epoch >= 2 && wp->cosigned == 0) {
		if (witness_epoch_headers(g, t->cp_size, &link, &proof, &d) != MLA_OK)
			goto fail;
		headers[1] = (const char *)link.data;
		headers[2] = (const char *)proof.data;
	}
	if (
	    peer_client_post(g->client, &g->snap->cfg, &t->c.post, t->to_state, url, "text/plain",
			     headers, &t->c.body, &t->c.response) != MLA_OK ||
	    peer_client_start(g->client, &t->c.post) != MLA_OK)
		goto fail;
	wp->t = t;
	mla_buf_free(&link);
	mla_buf_free(&proof);
	return;
fail:
	gw_log(GW_LOG_WARN, "witness-error", NULL, "peer=%s reason=\"%s\"", wp->state,
	       d.msg[0] ? d.msg : "cannot start the exchange");
	mla_buf_free(&link);
	mla_buf_free(&proof);
	xfer_free(t);
}

/* Asks each peer that has not cosigned the latest checkpoint and is not being asked; final:
 * at a clean stop, without waiting for retry times (except after a refusal). */
static void kick(struct gw *g, int final)
{
	const struct gw_config *c = &g->snap->cfg;
	int64_t now = gw_mono_ms();

	if (g->tlog->witness == NULL || g->client == NULL || g->tlog->cp_size == 0 ||
	    (g->stopping && !final))
		return;
	for (size_t i = 0; i < c->n_peers; i++) {
		struct witness_peer *wp = peer_slot(g->tlog->witness, c->peers[i].state);
		if (wp != NULL && wp->t == NULL && wp->cosigned < g->tlog->cp_size &&
		    (now >= wp->next_try_ms || (final && !wp->refused)))
			send_to(g, wp);
	}
}

void witness_kick(struct gw *g)
{
	kick(g, 0);
}

void witness_final(struct gw *g)
{
	kick(g, 1);
}

void witness_set_cosigned(struct gw *g, const char *state, uint64_t size)
{
	struct witness_peer *wp = g->tlog->witness != NULL ? peer_slot(g->tlog->witness, state)
							    : NULL;

	if (wp != NULL && wp->t == NULL && size > wp->cosigned)
		wp->cosigned = size;
}

unsigned witness_in_flight(const struct gw *g)
{
	unsigned n = 0;

	for (size_t i = 0; g->tlog->witness != NULL && i < g->tlog->witness->n; i++)
		n += g->tlog->witness->peers[i].t != NULL;
	return n;
}

/* The peer's cosignature line in the response, copied into line. */
static int find_line(const struct witness_xfer *t, const char *name, char line[MLA_COSIG_LINE_MAX])
{
	char head[MLA_CHECKPOINT_ORIGIN_MAX + 8];
	const char *p = (const char *)t->c.response.data, *end = p + t->c.response.len, *nl;
	int hn = snprintf(head, sizeof(head), "\xe2\x80\x94 %s ", name);

	for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1)
		if ((size_t)(nl - p) > (size_t)hn && memcmp(p, head, (size_t)hn) == 0 &&
		    (size_t)(nl - p) + 2 <= MLA_COSIG_LINE_MAX) {
			memcpy(line, p, (size_t)(nl - p) + 1);
			line[nl - p + 1] = '\0';
			return 1;
		}
	return 0;
}

/* Verifies the returned cosignature over our stored checkpoint and keeps it. */
static mla_err take_cosignature(struct gw *g, struct witness_peer *wp, struct witness_xfer *t,
				mla_diag *diag)
{
	char cosigner[MLA_CHECKPOINT_ORIGIN_MAX + 1], origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	char line[MLA_COSIG_LINE_MAX];
	struct curl_header *h = NULL;
	mla_note_verifier keys[2];
	mla_checkpoint cp;
	unsigned char *der = NULL;
	uint64_t signers = 0;
	X509 *cert = NULL;
	mla_buf note;
	int der_len;
	mla_err r;

	mla_buf_init(&note, 1);
	witness_cosigner_name(wp->state, cosigner);
	gw_log_origin(g, origin);
	if (curl_easy_header(t->c.post.easy, WITNESS_CERT_HEADER, 0, CURLH_HEADER, -1, &h) !=
	    CURLHE_OK) {
		r = mla_fail(diag, MLA_ERR_SCHEMA, "no " WITNESS_CERT_HEADER " in the answer");
		goto out;
	}
	if ((r = witness_cert_from_header(g, h->value, wp->state, &cert, diag)) != MLA_OK ||
	    (r = mla_note_verifier_from_key(origin, mla_privkey_public(g->tlog->audit_key),
					    &keys[0], diag)) !=
		    MLA_OK ||
	    (r = mla_cosig_verifier_from_key(cosigner, X509_get0_pubkey(cert), &keys[1], diag)) !=
		    MLA_OK ||
	    (r = store_checkpoint_get(g->store, t->cp_size, &note, NULL, diag)) != MLA_OK)
		goto out;
	if (!find_line(t, cosigner, line)) {
		r = mla_fail(diag, MLA_ERR_SCHEMA, "no cosignature by %s in the answer", cosigner);
		goto out;
	}
	if ((r = mla_buf_append_str(&note, line)) != MLA_OK ||
	    (r = mla_checkpoint_open((const char *)note.data, note.len, keys, 2, &cp, &signers,
				     diag)) != MLA_OK)
		goto out;
	if (signers != 3) {
		r = mla_fail(diag, MLA_ERR_SIG_INVALID, "the cosignature does not verify");
		goto out;
	}
	if ((der_len = i2d_X509(cert, &der)) <= 0) {
		r = MLA_ERR_NOMEM;
		goto out;
	}
	if ((r = store_peer_cert_put(g->store, wp->state, der, (size_t)der_len, diag)) == MLA_OK &&
	    (r = store_checkpoint_cosign(g->store, t->cp_size, cosigner, line, diag)) == MLA_OK)
		wp->cosigned = t->cp_size;
out:
	OPENSSL_free(der);
	X509_free(cert);
	mla_buf_free(&note);
	return r;
}

/* 409: the peer last cosigned another size. */
static void size_conflict(struct gw *g, struct witness_peer *wp, const struct witness_xfer *t)
{
	mla_diag d = {MLA_OK, ""};
	uint64_t size = 0;

	if (mla_witness_size_parse((const char *)t->c.response.data, t->c.response.len, &size, &d) !=
	    MLA_OK) {
		gw_log(GW_LOG_ERROR, "witness-conflict", NULL, "peer=%s reason=\"%s\"", wp->state,
		       "the peer holds another checkpoint of the same size");
		wp->next_try_ms = gw_mono_ms() + REFUSED_MS;
		wp->refused = 1;
		return;
	}
	if (size > g->tlog->cp_size) {
		char detail[128];
		(void)mla_snprintf_cut(detail, sizeof(detail),
				       "peer=%s cosigned=%" PRIu64 " ours=%" PRIu64, wp->state,
				       size, g->tlog->cp_size);
		gw_log(GW_LOG_ERROR, "witness-ahead", NULL, "%s", detail);
		if (store_alert(g->store, "witness-ahead", NULL, detail, &d) != MLA_OK)
			gw_log_limited(GW_LOG_ERROR, "store-error", "alert", NULL, "op=alert");
		wp->next_try_ms = gw_mono_ms() + REFUSED_MS;
		wp->refused = 1;
		return;
	}
	wp->cosigned = size;
	/* ask again now, from that size; a peer answering 409 to that too waits its turn */
	wp->next_try_ms = wp->resent ? gw_mono_ms() + RETRY_MS : 0;
	wp->resent = !wp->resent;
}

static void witness_done(struct peer_post *p, CURLcode res)
{
	struct witness_xfer *t = (struct witness_xfer *)p; /* its first member */
	struct gw *g = t->g;
	struct gw_witness *w = g->tlog->witness;
	struct witness_peer *wp = w != NULL ? peer_slot(w, t->to_state) : NULL;
	mla_diag d = {MLA_OK, ""};
	long code = peer_post_code(p);

	if (wp != NULL)
		wp->t = NULL;
	if (wp == NULL) {
		/* the peer left the configuration meanwhile */
	} else if (res != CURLE_OK) {
		gw_log(GW_LOG_WARN, "witness-error", NULL, "peer=%s reason=\"transport: %.200s\"",
		       wp->state, p->errbuf[0] ? p->errbuf : curl_easy_strerror(res));
	} else if (code == 200) {
		wp->resent = wp->refused = 0;
		if (take_cosignature(g, wp, t, &d) == MLA_OK)
			gw_log(GW_LOG_INFO, "witness-cosigned-by", NULL,
			       "peer=%s size=%" PRIu64, wp->state, t->cp_size);
		else
			gw_log(GW_LOG_ERROR, "witness-error", NULL, "peer=%s reason=\"%s\"",
			       wp->state, mla_diag_message(&d));
		/* it recorded this size either way (a cosignature we could not keep: a bad one,
		 * or a note already holding all the lines it may): asking again would loop */
		wp->cosigned = t->cp_size;
		/* the log kept growing meanwhile: the next checkpoint goes at once, so that under
		 * load the peer trails by one exchange, not by the retry time */
		wp->next_try_ms = 0;
	} else if (code == 409) {
		size_conflict(g, wp, t);
	} else if (code == 422) {
		gw_log(GW_LOG_ERROR, "witness-inconsistent", NULL,
		       "peer=%s size=%" PRIu64 " reason=\"the peer cosigned a history of this log "
		       "that this checkpoint does not extend\"", wp->state, t->cp_size);
		wp->next_try_ms = gw_mono_ms() + REFUSED_MS;
		wp->refused = 1;
	} else {
		gw_log(GW_LOG_WARN, "witness-error", NULL, "peer=%s reason=\"HTTP %ld\"", wp->state,
		       code);
	}
	xfer_free(t);
	if (wp != NULL && wp->next_try_ms == 0)
		kick(g, g->stopping); /* a stop's last request still gets its re-send */
}

size_t tlog_witness_status(const struct gw *g, struct tlog_witness_status *out, size_t max)
{
	const struct gw_config *c = &g->snap->cfg;
	const struct gw_witness *w = g->tlog != NULL ? g->tlog->witness : NULL;
	size_t n = 0;

	for (size_t i = 0; i < c->n_peers && n < max; i++, n++) {
		memcpy(out[n].state, c->peers[i].state, 3);
		out[n].cosigned = 0;
		out[n].refused = 0;
		for (size_t j = 0; w != NULL && j < w->n; j++)
			if (strcmp(w->peers[j].state, c->peers[i].state) == 0) {
				out[n].cosigned = w->peers[j].cosigned;
				out[n].refused = w->peers[j].refused;
			}
	}
	return n;
}

int witness_alert_due(struct gw *g, const char *state)
{
	struct gw_witness *w = g->tlog->witness;
	struct witness_peer *wp = w != NULL ? peer_slot(w, state) : NULL;
	int64_t now = gw_mono_ms();

	if (wp == NULL)
		return 1;
	if (wp->alert_ms != 0 && now - wp->alert_ms < ALERT_MS)
		return 0;
	wp->alert_ms = now;
	return 1;
}

void witness_free(struct gw *g)
{
	struct gw_witness *w = g->tlog->witness;

	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n; i++)
		if (w->peers[i].t != NULL) {
			peer_client_cancel(g->client, &w->peers[i].t->c.post);
			xfer_free(w->peers[i].t);
		}
	free(w->own_cert);
	free(w);
	g->tlog->witness = NULL;
}
