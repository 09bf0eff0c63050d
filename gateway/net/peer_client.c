/* The outgoing HTTPS client to peer gateways (see peer_client.h): libcurl's multi interface
 * on the libevent loop (curl says which sockets and timeouts to watch, libevent says when
 * they fire), and the TLS material every exchange holds: our client identity and one set of
 * roots per peer State, read once per (re)load rather than at every new connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "core/log.h"
#include "mlagw/pem.h"
#include "mlagw/codec.h"
#include "peer_client.h"
#include "peer_identity_internal.h"

/* Bytes curl reads without copying (CURL_BLOB_NOCOPY): a peer State's roots. Counted
 * references: each exchange holds the ones it was set up with, so a reload (SIGHUP) that
 * reads new files never frees what a handshake in progress still reads. Our key never
 * reaches curl as bytes: the identity is set on each connection's SSL_CTX. */
struct peer_blob {
	unsigned refs;
	mla_buf buf;
	struct curl_blob blob;
};

struct peer_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer; /* curl's timeout */
	struct {
		char state[3];
		struct peer_blob *ca; /* PEM of this State's roots only */
	} cas[GW_MAX_PEERS];
	size_t n_cas;
	struct peer_identity *identity; /* our client identity, read once per (re)load */
	peer_directory_fn on_directory;	/* a peer's Mlagw-Directory header, if any */
	void *directory_arg;
};

void peer_client_on_directory(struct peer_client *pc, peer_directory_fn fn, void *arg)
{
	pc->on_directory = fn;
	pc->directory_arg = arg;
}

/* The directory the peer advertised on its answer, to whoever judges it (libcurl parses the
 * header; nothing is trusted of it here). */
static void directory_seen(struct peer_client *pc, const struct peer_post *p)
{
	struct curl_header *h = NULL;
	char *url = NULL;

	if (pc->on_directory == NULL ||
	    curl_easy_header(p->easy, "Mlagw-Directory", 0, CURLH_HEADER, -1, &h) != CURLHE_OK ||
	    curl_easy_getinfo(p->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || url == NULL)
		return;
	pc->on_directory(pc->directory_arg, p->state, h->value, url);
}

static struct peer_blob *blob_new(void)
{
	struct peer_blob *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->refs = 1;
	mla_buf_init(&b->buf, 1 << 20);
	return b;
}

/* After the bytes are in: what curl is given. */
static void blob_seal(struct peer_blob *b)
{
	b->blob = (struct curl_blob){b->buf.data, b->buf.len, CURL_BLOB_NOCOPY};
}

static struct peer_blob *blob_ref(struct peer_blob *b)
{
	b->refs++;
	return b;
}

static void blob_unref(struct peer_blob *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	mla_buf_free(&b->buf);
	free(b);
}

/* Replaces *slot by b (owned), dropping the old reference. */
static void blob_swap(struct peer_blob **slot, struct peer_blob *b)
{
	blob_unref(*slot);
	*slot = b;
}

struct sock_watch {
	struct event *ev;
};

static void check_finished(struct peer_client *pc)
{
	struct peer_post *p = NULL;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(pc->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
		curl_multi_remove_handle(pc->multi, msg->easy_handle);
		if (msg->data.result == CURLE_OK)
			directory_seen(pc, p);
		p->done(p, msg->data.result);
	}
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct peer_client *pc = arg;
	int running = 0, flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(pc->multi, fd, flags, &running);
	check_finished(pc);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct peer_client *pc = arg;
	int running = 0;

	(void)fd;
	(void)what;
	curl_multi_socket_action(pc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_finished(pc);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct peer_client *pc = userp;
	struct sock_watch *w = socketp;
	short kind = (short)(EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
			     ((what & CURL_POLL_OUT) ? EV_WRITE : 0));

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (w != NULL) {
			event_free(w->ev);
			free(w);
		}
		curl_multi_assign(pc->multi, s, NULL);
		return 0;
	}
	if (w == NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			return -1;
		curl_multi_assign(pc->multi, s, w);
	} else {
		event_free(w->ev);
	}
	w->ev = event_new(pc->base, s, kind, on_socket_event, pc);
	return w->ev != NULL && event_add(w->ev, NULL) == 0 ? 0 : -1;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct peer_client *pc = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0)
		return event_del(pc->timer);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return event_add(pc->timer, &tv);
}

mla_err peer_client_new(struct event_base *base, struct peer_client **out, mla_diag *diag)
{
	struct peer_client *pc = calloc(1, sizeof(*pc));

	*out = pc;
	if (pc == NULL)
		return MLA_ERR_NOMEM;
	pc->base = base;
	if ((pc->multi = curl_multi_init()) == NULL ||
	    (pc->timer = evtimer_new(base, on_timeout, pc)) == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot initialise libcurl");
	curl_multi_setopt(pc->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(pc->multi, CURLMOPT_SOCKETDATA, pc);
	curl_multi_setopt(pc->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(pc->multi, CURLMOPT_TIMERDATA, pc);
	curl_multi_setopt(pc->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
	return MLA_OK;
}

/* This State's roots as one PEM blob, for curl's CA store of a peer. */
static mla_err state_roots_pem(const struct gw_config *c, const char *state, mla_buf *out,
			       mla_diag *diag)
{
	STACK_OF(X509) *certs = NULL;
	char cs[8];
	mla_err r = MLA_OK;

	mla_buf_init(out, 1 << 20);
	for (size_t i = 0; i < c->n_roots && r == MLA_OK; i++) {
		if ((r = mla_pem_load_certs(c->roots[i], &certs, diag)) != MLA_OK)
			break;
		for (int j = 0; j < sk_X509_num(certs) && r == MLA_OK; j++) {
			X509 *x = sk_X509_value(certs, j);
			BIO *bio;
			char *pem;
			long len;
			if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_countryName, cs,
						      (int)sizeof(cs)) != 2 || strcmp(cs, state) != 0)
				continue;
			if ((bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(bio, x) != 1)
				r = MLA_ERR_NOMEM;
			else if ((len = BIO_get_mem_data(bio, &pem)) > 0)
				r = mla_buf_append(out, pem, (size_t)len);
			BIO_free(bio);
		}
		sk_X509_pop_free(certs, X509_free);
		certs = NULL;
	}
	if (r == MLA_OK && out->len == 0)
		r = mla_fail(diag, MLA_ERR_CONFIG, "no trusted root for peer %s", state);
	return r;
}

/* Our TLS client identity, read once instead of at every new connection. */
static mla_err load_identity(struct peer_client *pc, const struct gw_config *c, mla_diag *diag)
{
	struct peer_identity *id = NULL;
	mla_err r;

	if ((r = peer_identity_load(c->tls.cert, c->tls.key, &id, diag)) != MLA_OK)
		return r;
	peer_identity_replaces(id, pc->identity);
	peer_identity_unref(pc->identity); /* exchanges in flight keep theirs */
	pc->identity = id;
	return MLA_OK;
}

/* The roots slot of state; peers removed by reloads keep theirs (a restart frees them). */
static struct peer_blob **ca_slot(struct peer_client *pc, const char *state, int add)
{
	for (size_t i = 0; i < pc->n_cas; i++)
		if (strcmp(pc->cas[i].state, state) == 0)
			return &pc->cas[i].ca;
	if (!add || pc->n_cas == GW_MAX_PEERS)
		return NULL;
	memcpy(pc->cas[pc->n_cas].state, state, 3);
	return &pc->cas[pc->n_cas++].ca;
}

mla_err peer_client_load(struct peer_client *pc, const struct gw_config *c, mla_diag *diag)
{
	unsigned slots = 0;
	mla_err r;

	for (size_t i = 0; i < c->n_peers; i++) {
		struct peer_blob **slot = ca_slot(pc, c->peers[i].state, 1);
		struct peer_blob *ca = blob_new();
		if (ca == NULL)
			return MLA_ERR_NOMEM;
		if (slot == NULL) {
			blob_unref(ca);
			return mla_fail(diag, MLA_ERR_CONFIG, "more than %d peer States since the "
					"start: restart to take peer %s", GW_MAX_PEERS,
					c->peers[i].state);
		}
		if ((r = state_roots_pem(c, c->peers[i].state, &ca->buf, diag)) != MLA_OK) {
			blob_unref(ca);
			return r;
		}
		blob_seal(ca);
		blob_swap(slot, ca);
		slots += c->peers[i].max_in_flight;
	}
	/* keep a connection per possible exchange: reuse instead of a handshake per message */
	curl_multi_setopt(pc->multi, CURLMOPT_MAXCONNECTS, (long)slots + 4);
	return load_identity(pc, c, diag);
}

/* Collects a response body (CURLOPT_WRITEFUNCTION): refusing more than the buffer's
 * maximum ends the exchange with an error. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	mla_buf *response = arg;

	return mla_buf_append(response, data, size * n) == MLA_OK ? size * n : 0;
}

/* The TLS and timeout options every exchange with peer to_state uses: our client
 * certificate and key (on each connection's SSL_CTX), that State's roots only, the optional
 * pin, TLS 1.2 minimum. p holds the identity and the blobs until it is cleared. */
static mla_err post_tls(struct peer_client *pc, const struct gw_config *c, struct peer_post *p,
			const char *to_state)
{
	const struct gw_peer *cp = gw_config_peer(c, to_state);
	struct peer_blob **ca = ca_slot(pc, to_state, 0);
	CURL *easy = p->easy;

	if (cp == NULL || ca == NULL || *ca == NULL || pc->identity == NULL)
		return MLA_ERR_INTERNAL;
	p->identity = peer_identity_ref(pc->identity);
	p->held[PEER_HELD_CA] = blob_ref(*ca);
	peer_identity_set(easy, p->identity);
	/* the peer must present a certificate of its own State's root, and no other */
	curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &p->held[PEER_HELD_CA]->blob);
	curl_easy_setopt(easy, CURLOPT_CAPATH, NULL);
	if (cp->tls_pin[0] != '\0')
		curl_easy_setopt(easy, CURLOPT_PINNEDPUBLICKEY, cp->tls_pin);
	curl_easy_setopt(easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* progress, not total time: a large envelope over a slow link may take as long as it
	 * keeps moving; an exchange slower than min_send_rate for request_timeout is cut */
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, (long)(c->retry.min_send_rate > 0 ?
							      c->retry.min_send_rate : 1));
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
			 (long)((c->retry.request_timeout_ms + 999) / 1000));
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)c->retry.connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	return MLA_OK;
}

mla_err peer_client_post(struct peer_client *pc, const struct gw_config *c, struct peer_post *p,
			 const char *to_state, const char *url, const char *content_type,
			 const char *const *extra_headers, const mla_buf *body, mla_buf *response)
{
	char ct[64];

	if (mla_snprintf(ct, sizeof(ct), "Content-Type: %s", content_type) != MLA_OK ||
	    (p->easy = curl_easy_init()) == NULL)
		return MLA_ERR_INTERNAL;
	p->headers = curl_slist_append(NULL, ct);
	p->headers = curl_slist_append(p->headers, "Expect:"); /* no 100-continue round trip */
	for (size_t i = 0; extra_headers[i] != NULL; i++)
		p->headers = curl_slist_append(p->headers, extra_headers[i]);
	curl_easy_setopt(p->easy, CURLOPT_URL, url);
	curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDS, (const char *)body->data);
	curl_easy_setopt(p->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, response);
	curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, (char *)p);
	if (post_tls(pc, c, p, to_state) != MLA_OK ||
	    mla_strcpy(p->state, sizeof(p->state), to_state) != MLA_OK)
		return MLA_ERR_INTERNAL;
	return p->headers != NULL ? MLA_OK : MLA_ERR_NOMEM;
}

void peer_post_as_put(struct peer_post *p, size_t max_send_bytes_per_s)
{
	curl_easy_setopt(p->easy, CURLOPT_CUSTOMREQUEST, "PUT");
	if (max_send_bytes_per_s > 0)
		curl_easy_setopt(p->easy, CURLOPT_MAX_SEND_SPEED_LARGE,
				 (curl_off_t)max_send_bytes_per_s);
}

mla_err peer_client_start(struct peer_client *pc, struct peer_post *p)
{
	return curl_multi_add_handle(pc->multi, p->easy) == CURLM_OK ? MLA_OK : MLA_ERR_TRANSPORT;
}

void peer_client_cancel(struct peer_client *pc, struct peer_post *p)
{
	if (pc != NULL && p->easy != NULL)
		curl_multi_remove_handle(pc->multi, p->easy);
}

long peer_post_code(const struct peer_post *p)
{
	long code = 0;

	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
	return code;
}

int peer_post_xml(const struct peer_post *p)
{
	static const char want[] = "application/xml";
	char *type = NULL;

	if (curl_easy_getinfo(p->easy, CURLINFO_CONTENT_TYPE, &type) != CURLE_OK || type == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(want) - 1; i++)
		if (type[i] == '\0' || (type[i] | 0x20) != want[i])
			return 0;
	return type[sizeof(want) - 1] == '\0' || type[sizeof(want) - 1] == ';';
}

void peer_post_clear(struct peer_post *p)
{
	for (int i = 0; i < PEER_HELD_N; i++)
		blob_unref(p->held[i]);
	if (p->easy != NULL)
		curl_easy_cleanup(p->easy);
	peer_identity_unref(p->identity); /* after the handle that may still call back */
	curl_slist_free_all(p->headers);
	memset(p, 0, sizeof(*p));
}

void peer_call_clear(struct peer_call *c)
{
	peer_post_clear(&c->post);
	mla_buf_free(&c->body);
	mla_buf_free(&c->response);
}

void peer_client_free(struct peer_client *pc)
{
	if (pc == NULL)
		return;
	if (pc->multi != NULL)
		curl_multi_cleanup(pc->multi);
	if (pc->timer != NULL)
		event_free(pc->timer);
	for (size_t i = 0; i < pc->n_cas; i++)
		blob_unref(pc->cas[i].ca);
	peer_identity_unref(pc->identity);
	free(pc);
}
