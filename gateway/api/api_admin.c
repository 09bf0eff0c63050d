/* Local API operations for administrators and every caller: whoami, health (peers, queues,
 * certificate expiry), Prometheus metrics, the running configuration without secrets, and
 * reload. */
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "mlagw/codec.h"
#include "api_server.h"
#include "cases/cases.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/revoc.h"
#include "mlagw/json.h"
#include "mlagw/pem.h"
#include "relay/relay.h"
#include "tlog/tlog.h"

#define CERT_WARN_DAYS 30

void api_whoami(struct api_req *r)
{
	const char *via = r->who.via == API_VIA_TOKEN ? "token" : "certificate";
	mla_buf b;
	mla_err e;

	mla_buf_init(&b, 1024);
	e = mla_json_dump(json_pack("{s:s, s:s, s:s}", "name", r->who.name, "role",
				    api_role_name(r->who.role), "via", via),
			  &b);
	api_reply_built(r, 200, e, &b, NULL);
	mla_buf_free(&b);
}

/* {"use","subject","not_after","days_left"} of a certificate file; *days the days left. */
static mla_err cert_json(json_t *list, const char *use, const char *path, int *days)
{
	STACK_OF(X509) *certs = NULL;
	X509 *x;
	struct tm tm;
	char subject[256] = "", at[21];
	int pday = 0, psec = 0;
	mla_err r;

	if ((r = mla_pem_load_certs(path, &certs, NULL)) != MLA_OK)
		return r;
	x = sk_X509_value(certs, 0);
	if (x == NULL || ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1 ||
	    ASN1_TIME_diff(&pday, &psec, NULL, X509_get0_notAfter(x)) != 1) {
		sk_X509_pop_free(certs, X509_free);
		return MLA_ERR_CERT_FILE;
	}
	X509_NAME_oneline(X509_get_subject_name(x), subject, (int)sizeof(subject));
	sk_X509_pop_free(certs, X509_free);
	mla_time_format(timegm(&tm), at);
	*days = pday;
	return json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:i}", "use", use, "subject",
						     subject, "not_after", at, "days_left",
						     pday)) == 0 ? MLA_OK : MLA_ERR_ARG;
}

static mla_err certs_json(struct gw *g, json_t *list, int *worst)
{
	const struct gw_config *c = &g->snap->cfg;
	const char *uses[] = {"tls", "sign", "encrypt", "audit", "api-tls"};
	const char *paths[] = {c->tls.cert, c->sign.cert, c->encrypt.cert, c->audit.cert,
			       c->api.tls_cert};
	int days;
	mla_err r;

	*worst = 1 << 30;
	for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		if (paths[i][0] == '\0')
			continue;
		if ((r = cert_json(list, uses[i], paths[i], &days)) != MLA_OK)
			return r;
		if (days < *worst)
			*worst = days;
	}
	return MLA_OK;
}

static mla_err count_row(const struct store_api_row *row, void *arg)
{
	(void)row;
	(void)arg;
	return MLA_OK;
}

static mla_err peers_json(struct gw *g, json_t *list, int *down, mla_diag *d)
{
	struct relay_peer_status peers[GW_MAX_PEERS];
	size_t n, n_peers = relay_peers_status(g, peers, GW_MAX_PEERS);
	struct store_api_filter f;
	mla_err r;

	*down = 0;
	for (size_t i = 0; i < n_peers; i++) {
		const struct relay_peer_status *p = &peers[i];
		memset(&f, 0, sizeof(f));
		f.priority = -1;
		f.state = MSG_QUEUED;
		f.direction = "out";
		f.peer = p->state;
		if ((r = store_api_select(g->store, &f, count_row, NULL, &n, d)) != MLA_OK)
			return r;
		if (json_array_append_new(list, json_pack("{s:s, s:b, s:I}", "state", p->state,
							  "reachable", p->reachable,
							  "queued", (json_int_t)n)) != 0)
			return MLA_ERR_ARG;
		*down += !p->reachable;
	}
	return MLA_OK;
}

/* The audit log's signed size and each peer's witnessing of it; *refused counts the peers
 * that refused our history. */
static json_t *audit_json(struct gw *g, int *refused)
{
	struct tlog_witness_status w[GW_MAX_PEERS];
	size_t n = tlog_witness_status(g, w, GW_MAX_PEERS);
	uint64_t signed_size = tlog_signed_size(g);
	json_t *list = json_array();

	*refused = 0;
	for (size_t i = 0; list != NULL && i < n; i++) {
		uint64_t lag = signed_size > w[i].cosigned ? signed_size - w[i].cosigned : 0;
		*refused += w[i].refused;
		if (json_array_append_new(list, json_pack("{s:s, s:I, s:I, s:b}", "state",
							  w[i].state, "cosigned",
							  (json_int_t)w[i].cosigned, "lag",
							  (json_int_t)lag, "refused",
							  w[i].refused)) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return json_pack("{s:I, s:I, s:o*}", "size", (json_int_t)tlog_tree_size(g), "signed",
			 (json_int_t)signed_size, "witnesses", list);
}

static json_t *queues_json(const uint64_t c[6], uint64_t received)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "queued", (json_int_t)c[0],
			 "sending", (json_int_t)c[1], "awaiting-receipt", (json_int_t)c[2],
			 "delivered", (json_int_t)c[3], "rejected", (json_int_t)c[4], "failed",
			 (json_int_t)c[5], "received", (json_int_t)received);
}

/* {"status": "ok"|"failing"[, "reason", "since", "errors"]} of the store (gw_store_watch). */
static json_t *store_json(const struct store_health *h)
{
	char since[MLA_TIME_MS_LEN];

	if (!h->failing)
		return json_pack("{s:s, s:I}", "status", "ok", "errors", (json_int_t)h->errors);
	mla_time_ms_format(h->since_ms, since);
	return json_pack("{s:s, s:s, s:s, s:I}", "status", "failing", "reason", h->reason, "since",
			 since, "errors", (json_int_t)h->errors);
}

/* The signed directory in force (SPEC 18.6), or NULL without [directory]. */
static json_t *directory_json(const struct gw *g)
{
	const mla_directory *dir = g->snap->dir;
	char serial[24], exp[MLA_TIME_LEN];
	json_t *o;

	if (dir == NULL)
		return NULL;
	mla_time_format(dir->expires, exp);
	(void)mla_snprintf_cut(serial, sizeof(serial), "%llu", (unsigned long long)dir->serial);
	o = json_pack("{s:s, s:s, s:s, s:I}", "serial", serial, "publisher", dir->publisher,
		      "expires", exp, "seconds_left", (json_int_t)g->dir_seconds_left);
	if (o != NULL && g->dir_warning[0] != '\0')
		(void)json_object_set_new(o, "warning", json_string(g->dir_warning));
	if (o != NULL && g->dir_refusal[0] != '\0')
		(void)json_object_set_new(o, "refusal", json_string(g->dir_refusal));
	return o;
}

/* Revocation checking (SPEC 18.7): its mode, refusals, passes while failing open, and the
 * current fetch problem; *alert when anything there needs an operator. */
static json_t *revocation_json(int *alert)
{
	struct gw_revoc_health h;
	json_t *o;

	gw_revoc_health(&h);
	*alert = h.problem[0] != '\0' || h.unknown_recently;
	o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "fail", h.fail_open ? "open" : "closed",
		      "revoked", (json_int_t)h.revoked, "unknown_refused",
		      (json_int_t)h.unknown_refused, "unknown_passed", (json_int_t)h.unknown_passed,
		      "fetch_failed", (json_int_t)h.fetch_failed);
	if (o != NULL && h.problem[0] != '\0')
		(void)json_object_set_new(o, "problem", json_string(h.problem));
	return o;
}

static mla_err revocation_metrics(mla_buf *b)
{
	struct gw_revoc_health h;

	gw_revoc_health(&h);
	return mla_buf_printf(b, "# HELP mlagw_revocation_refusals_total Certificates refused "
			      "for revocation (SPEC 18.7).\n# TYPE mlagw_revocation_refusals_total "
			      "counter\nmlagw_revocation_refusals_total{reason=\"revoked\"} %llu\n"
			      "mlagw_revocation_refusals_total{reason=\"unknown\"} %llu\n"
			      "# HELP mlagw_revocation_unknown_passed_total Certificates of unknown "
			      "status let through ([revocation] fail = open).\n# TYPE "
			      "mlagw_revocation_unknown_passed_total counter\n"
			      "mlagw_revocation_unknown_passed_total %llu\n"
			      "# HELP mlagw_revocation_fetch_failures_total CRL and OCSP fetches that "
			      "failed.\n# TYPE mlagw_revocation_fetch_failures_total counter\n"
			      "mlagw_revocation_fetch_failures_total %llu\n"
			      "# HELP mlagw_revocation_problem 1 while a CRL or OCSP answer cannot be "
			      "had.\n# TYPE mlagw_revocation_problem gauge\nmlagw_revocation_problem "
			      "%d\n",
			      (unsigned long long)h.revoked, (unsigned long long)h.unknown_refused,
			      (unsigned long long)h.unknown_passed, (unsigned long long)h.fetch_failed,
			      h.problem[0] != '\0');
}

void api_get_health(struct api_req *r)
{
	struct gw *g = r->g;
	uint64_t c[6] = {0}, acc = 0, rej = 0;
	mla_diag d = {MLA_OK, ""};
	int down = 0, worst = 0, refused = 0, warnings = 0, code = 200, rev_alert = 0;
	json_t *peers = json_array(), *certs = json_array(), *rev = revocation_json(&rev_alert);
	struct store_health sh;
	const char *status;
	mla_buf b;
	mla_err e;

	mla_buf_init(&b, 1 << 20);
	gw_store_watch(g, &sh);
	if ((e = certs_json(g, certs, &worst)) == MLA_OK &&
	    (e = store_outbox_counts(g->store, c, &d)) == MLA_OK &&
	    (e = store_inbox_count(g->store, &acc, &rej, &d)) == MLA_OK &&
	    (e = peers_json(g, peers, &down, &d)) == MLA_OK) {
		json_t *audit = audit_json(g, &refused), *expiry = api_expiry_json(g, &warnings);
		int failing = worst < 0 || sh.failing || g->hold != NULL || gw_store_damage(g) != NULL ||
			      g->dir_refusal[0] != '\0';
		status = failing ? "failing" :
			 down > 0 || refused > 0 || worst < CERT_WARN_DAYS || warnings > 0 ||
			 g->dir_warning[0] != '\0' || rev_alert ? "degraded" : "ok";
		code = failing ? 503 : 200;
		if (g->hold != NULL)
			(void)json_object_set_new(audit, "hold", json_string(g->hold));
		if (gw_store_damage(g) != NULL)
			(void)json_object_set_new(audit, "damage", json_string(gw_store_damage(g)));
		e = mla_json_dump(json_pack("{s:O, s:s, s:s, s:o, s:O, s:o, s:o, s:o*, s:o*, s:O*}",
					    "peers", peers, "status", status, "state",
					    g->snap->cfg.state, "queues", queues_json(c, acc),
					    "certificates", certs, "store", store_json(&sh), "audit",
					    audit, "directory", directory_json(g), "expiry", expiry,
					    "revocation", rev),
				  &b);
	}
	api_reply_built(r, code, e, &b, &d);
	json_decref(peers);
	json_decref(certs);
	json_decref(rev);
	mla_buf_free(&b);
}

struct metrics_ctx {
	mla_buf *b;
	mla_err r;
};

static void add_reject(const char *label, uint64_t n, void *arg)
{
	struct metrics_ctx *m = arg;

	if (m->r == MLA_OK && strspn(label, "abcdefghijklmnopqrstuvwxyz-") == strlen(label))
		m->r = mla_buf_printf(m->b, "mlagw_rejects_total{error=\"%s\"} %llu\n", label,
				      (unsigned long long)n);
}

/* The receipt latency histogram, in Prometheus' cumulative form (seconds). */
static mla_err latency_metrics(struct gw *g, mla_buf *b, mla_diag *d)
{
	static const int64_t bounds[] = {10, 25, 50, 100, 250, 500, 1000, 5000, 30000, 300000};
	uint64_t counts[sizeof(bounds) / sizeof(bounds[0])], total = 0;
	int64_t sum = 0;
	mla_err e;

	if ((e = store_api_latency(g->store, bounds, sizeof(bounds) / sizeof(bounds[0]), counts,
				   &total, &sum, d)) != MLA_OK ||
	    (e = mla_buf_append_str(b, "# HELP mlagw_receipt_latency_seconds Submission to "
				       "verified receipt, delivered messages.\n"
				       "# TYPE mlagw_receipt_latency_seconds histogram\n")) != MLA_OK)
		return e;
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]) && e == MLA_OK; i++)
		e = mla_buf_printf(b, "mlagw_receipt_latency_seconds_bucket{le=\"%g\"} %llu\n",
				   (double)bounds[i] / 1000.0, (unsigned long long)counts[i]);
	if (e == MLA_OK)
		e = mla_buf_printf(b, "mlagw_receipt_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
				      "mlagw_receipt_latency_seconds_sum %.3f\n"
				      "mlagw_receipt_latency_seconds_count %llu\n",
				   (unsigned long long)total, (double)sum / 1000.0,
				   (unsigned long long)total);
	return e;
}

/* Attachments being sent (SPEC 17.13): messages, their bytes and those acknowledged. */
static mla_err transfer_metrics(struct gw *g, mla_buf *b)
{
	uint64_t n = 0, total = 0, done = 0;

	relay_transfer_totals(g, &n, &total, &done);
	return mla_buf_printf(b, "# HELP mlagw_transfer_messages Messages whose attachments are "
			      "being sent.\n# TYPE mlagw_transfer_messages gauge\n"
			      "mlagw_transfer_messages %llu\n"
			      "# HELP mlagw_transfer_bytes Attachment bytes of those messages.\n"
			      "# TYPE mlagw_transfer_bytes gauge\nmlagw_transfer_bytes %llu\n"
			      "# HELP mlagw_transfer_bytes_done Attachment bytes the receivers "
			      "acknowledged.\n# TYPE mlagw_transfer_bytes_done gauge\n"
			      "mlagw_transfer_bytes_done %llu\n", (unsigned long long)n,
			      (unsigned long long)total, (unsigned long long)done);
}

/* The signed size and each peer's cosigned size and lag, in entries. */
static mla_err witness_metrics(struct gw *g, mla_buf *b)
{
	struct tlog_witness_status w[GW_MAX_PEERS];
	size_t n = tlog_witness_status(g, w, GW_MAX_PEERS);
	uint64_t s = tlog_signed_size(g);
	mla_err e = mla_buf_printf(b, "# HELP mlagw_audit_signed_size Entries covered by the "
				      "latest signed checkpoint.\n"
				      "# TYPE mlagw_audit_signed_size gauge\n"
				      "mlagw_audit_signed_size %llu\n"
				      "# HELP mlagw_witness_cosigned_size Latest size of our log "
				      "each peer cosigned.\n"
				      "# TYPE mlagw_witness_cosigned_size gauge\n",
				   (unsigned long long)s);

	for (size_t i = 0; i < n && e == MLA_OK; i++)
		e = mla_buf_printf(b, "mlagw_witness_cosigned_size{peer=\"%s\"} %llu\n", w[i].state,
				   (unsigned long long)w[i].cosigned);
	if (e == MLA_OK)
		e = mla_buf_append_str(b, "# HELP mlagw_witness_lag_entries Signed entries a peer "
					  "has not cosigned yet.\n"
					  "# TYPE mlagw_witness_lag_entries gauge\n");
	for (size_t i = 0; i < n && e == MLA_OK; i++)
		e = mla_buf_printf(b, "mlagw_witness_lag_entries{peer=\"%s\"} %llu\n", w[i].state,
				   (unsigned long long)(s > w[i].cosigned ? s - w[i].cosigned : 0));
	return e;
}

/* The store's health as a gauge and its faults as a counter. */
static mla_err store_metrics(struct gw *g, mla_buf *b)
{
	struct store_health h;

	gw_store_watch(g, &h);
	return mla_buf_printf(b, "# HELP mlagw_store_failing 1 while the store fails to write "
				 "(disk full, I/O error), 0 once a write succeeds again.\n"
				 "# TYPE mlagw_store_failing gauge\n"
				 "mlagw_store_failing %d\n"
				 "# HELP mlagw_store_errors_total Store faults since the start.\n"
				 "# TYPE mlagw_store_errors_total counter\n"
				 "mlagw_store_errors_total %llu\n",
			      h.failing ? 1 : 0, (unsigned long long)h.errors);
}

/* Open cases due soon and overdue by priority (SPEC 16.9), at the daemon's wall clock; all
 * zero while the lifecycle is not enforced (no case has a clock then). */
static mla_err case_metrics(struct gw *g, mla_buf *b, mla_diag *d)
{
	static const char *const prio[3] = {"normal", "urgent", "crisis"};
	struct cases_due_counts n;
	struct cases_due_scan scan;
	mla_err e;

	/* from the cases' summaries: only the cases due are computed (SPEC 16.9 Cost) */
	e = cases_due_count(g->store, &g->snap->cfg.deadlines.rules, gw_now_ms(), &n, &scan, d);
	if (scan.put_failed)
		gw_log_limited(GW_LOG_ERROR, "store-error", "deadline-summary", NULL,
			       "op=deadline-summary reason=\"%s\"", scan.put_diag.msg);
	if (e != MLA_OK ||
	    (e = mla_buf_append_str(b, "# HELP mlagw_cases_due Open cases with a deadline at 90% "
				       "or more of its time, not yet past it.\n"
				       "# TYPE mlagw_cases_due gauge\n")) != MLA_OK)
		return e;
	for (int i = 0; i < 3 && e == MLA_OK; i++)
		e = mla_buf_printf(b, "mlagw_cases_due{priority=\"%s\"} %llu\n", prio[i],
				   (unsigned long long)n.due[i]);
	if (e == MLA_OK)
		e = mla_buf_append_str(b, "# HELP mlagw_cases_overdue Open cases past a deadline.\n"
					  "# TYPE mlagw_cases_overdue gauge\n");
	for (int i = 0; i < 3 && e == MLA_OK; i++)
		e = mla_buf_printf(b, "mlagw_cases_overdue{priority=\"%s\"} %llu\n", prio[i],
				   (unsigned long long)n.overdue[i]);
	return e;
}

void api_get_metrics(struct api_req *r)
{
	uint64_t c[6] = {0}, acc = 0, rej = 0, retries = 0;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;
	struct metrics_ctx m = {&b, MLA_OK};
	mla_err e;

	mla_buf_init(&b, 1 << 20);
	if ((e = store_metrics(r->g, &b)) == MLA_OK &&
	    (e = store_outbox_counts(r->g->store, c, &d)) == MLA_OK &&
	    (e = store_inbox_count(r->g->store, &acc, &rej, &d)) == MLA_OK &&
	    (e = store_api_retries(r->g->store, &retries, &d)) == MLA_OK &&
	    (e = mla_buf_append_str(&b, "# HELP mlagw_messages Messages by direction and state.\n"
				       "# TYPE mlagw_messages gauge\n")) == MLA_OK) {
		for (int i = 0; i < 6 && e == MLA_OK; i++)
			e = mla_buf_printf(&b, "mlagw_messages{direction=\"out\",state=\"%s\"} %llu\n",
					   msg_state_name((msg_state)i), (unsigned long long)c[i]);
		if (e == MLA_OK)
			e = mla_buf_printf(&b, "mlagw_messages{direction=\"in\",state=\"received\"} %llu\n"
					       "# HELP mlagw_send_attempts_total Sending attempts that were retried.\n"
					       "# TYPE mlagw_send_attempts_total counter\n"
					       "mlagw_send_attempts_total %llu\n"
					       "# HELP mlagw_rejects_total Envelopes refused, by error.\n"
					       "# TYPE mlagw_rejects_total counter\n",
					   (unsigned long long)acc, (unsigned long long)retries);
	}
	if (e == MLA_OK && (e = store_api_rejects(r->g->store, add_reject, &m, &d)) == MLA_OK)
		e = m.r;
	if (e == MLA_OK)
		e = latency_metrics(r->g, &b, &d);
	if (e == MLA_OK)
		e = witness_metrics(r->g, &b);
	if (e == MLA_OK)
		e = case_metrics(r->g, &b, &d);
	if (e == MLA_OK && r->g->snap->dir != NULL) /* SPEC 18.6 */
		e = mla_buf_printf(&b, "# HELP mlagw_directory_expiry_seconds Seconds until the "
				       "signed directory (or an entry of it) expires; negative past "
				       "it.\n# TYPE mlagw_directory_expiry_seconds gauge\n"
				       "mlagw_directory_expiry_seconds %lld\n",
				   (long long)r->g->dir_seconds_left);
	if (e == MLA_OK)
		e = transfer_metrics(r->g, &b);
	if (e == MLA_OK)
		e = api_expiry_metrics(r->g, &b);
	if (e == MLA_OK)
		e = revocation_metrics(&b);
	if (e == MLA_OK)
		api_reply_text(r, 200, "text/plain; version=0.0.4", &b);
	else
		api_reply_error(r, 500, mla_errname(e), mla_diag_message(&d), NULL);
	mla_buf_free(&b);
}

static json_t *config_peers(const struct gw_config *c)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < c->n_peers; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:s}", "state", c->peers[i].state,
						       "url", c->peers[i].url)) != 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

/* The tokens' and clients' names and roles: never a token hash. */
static json_t *config_principals(const struct api_config *c, int tokens)
{
	size_t n = tokens ? c->n_tokens : c->n_clients;
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(
			    a, tokens ? json_pack("{s:s, s:s}", "role",
						  api_role_name(c->tokens[i].role), "name",
						  c->tokens[i].name) :
					json_pack("{s:s, s:s}", "role",
						  api_role_name(c->clients[i].role), "cn",
						  c->clients[i].cn)) != 0) {
			json_decref(a);
			a = NULL;
		}
	return a;
}

static mla_err config_json(const struct gw_config *c, mla_buf *b)
{
	return mla_json_dump(json_pack("{s:{s:s, s:s, s:s}, s:o, s:{s:s, s:o, s:o}}", "gateway",
				       "state", c->state, "listen", c->listen, "store", c->store,
				       "peers", config_peers(c), "api", "listen", c->api.listen,
				       "tokens", config_principals(&c->api, 1), "clients",
				       config_principals(&c->api, 0)),
			     b);
}

void api_get_config(struct api_req *r)
{
	mla_buf b;

	mla_buf_init(&b, 1 << 20);
	api_reply_built(r, 200, config_json(&r->g->snap->cfg, &b), &b, NULL);
	mla_buf_free(&b);
}

void api_reload_config(struct api_req *r)
{
	mla_diag d = {MLA_OK, ""};
	char at[21];
	mla_buf b;

	if (r->g->reload(r->g, &d) != MLA_OK) {
		api_reply_error(r, 422, mla_errname(d.code != MLA_OK ? d.code : MLA_ERR_CONFIG),
				mla_diag_message(&d), NULL);
		return;
	}
	mla_time_format(time(NULL), at);
	mla_buf_init(&b, 256);
	api_reply_built(r, 200,
			mla_json_dump(json_pack("{s:s, s:s}", "status", "reloaded", "at", at), &b),
			&b, NULL);
	mla_buf_free(&b);
}
