/* mlagw bench gateway, the load: C concurrent submissions over A's unix socket (libcurl multi,
 * connections reused), optionally paced to a rate; then A's health is polled until every
 * message has an outcome, and the delivery times are read from A's store (its read-only
 * reader): history row 'delivered' (written when the receipt was verified) against the
 * submission time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "mlagw/codec.h"
#include "bench_bound.h"
#include "bench_gateway.h"
#include "store/store_reader.h"

#define MAX_REPLY 65536
#define POLL_MS 50
#define STALL_MS 60000 /* no new outcome for this long: give up */

static int64_t now_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct reply {
	char *data;
	size_t len;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;

	if (r->len + len >= MAX_REPLY)
		return 0;
	memcpy(r->data + r->len, data, len);
	r->len += len;
	r->data[r->len] = '\0';
	return len;
}

int bgw_http_get(const char *sock, const char *path, long *code, char *body, size_t max)
{
	CURL *c = curl_easy_init();
	char url[256], buf[MAX_REPLY + 1];
	struct reply rep = {buf, 0};
	CURLcode res;

	if (c == NULL)
		return -1;
	buf[0] = '\0';
	if (mla_snprintf(url, sizeof(url), "http://localhost%s", path) != MLA_OK) {
		curl_easy_cleanup(c);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &rep);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	res = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
	curl_easy_cleanup(c);
	if (res != CURLE_OK || mla_strcpy(body, max, buf) != MLA_OK)
		return -1;
	return 0;
}

/* delivered + rejected + failed in A's outbox, from its health answer. */
static int outcomes(const struct bgw_gateway *a, long long *n)
{
	char body[4096];
	long code = 0;
	json_t *j, *ob;
	int rc = -1;

	if (bgw_http_get(a->sock, "/local/v1/health", &code, body, sizeof(body)) != 0 ||
	    code != 200 || (j = json_loads(body, 0, NULL)) == NULL)
		return -1;
	if ((ob = json_object_get(j, "outbox")) != NULL) {
		*n = json_integer_value(json_object_get(ob, "delivered")) +
		     json_integer_value(json_object_get(ob, "rejected")) +
		     json_integer_value(json_object_get(ob, "failed"));
		rc = 0;
	}
	json_decref(j);
	return rc;
}

/* One request slot of the load generator. */
struct slot {
	CURL *easy;
	size_t idx; /* the submission it carries */
	int busy;
	char buf[MAX_REPLY + 1];
	struct reply rep;
};

struct load {
	struct bgw_env *e;
	struct bgw_run *r;
	CURLM *multi;
	struct curl_slist *headers;
	uint8_t *doc;
	struct slot *slots;
	size_t started, finished;
	int64_t t0_us;
	int reported; /* the first refusal is printed, the others counted */
};

static mla_err load_init(struct load *L, mla_diag *d)
{
	const struct bgw_run *r = L->r;
	static const char *const hdrs[] = {"Content-Type: application/xml", "Expect:",
					   "X-MLA-To: CO", "X-MLA-Kind: mla",
					   "X-MLA-Case-Id: BENCH-GATEWAY"};

	if ((L->multi = curl_multi_init()) == NULL ||
	    (L->slots = calloc((size_t)r->concurrency, sizeof(*L->slots))) == NULL ||
	    (L->doc = bench_document(BGW_DOC_BYTES)) == NULL)
		return mla_fail(d, MLA_ERR_NOMEM, "bench: cannot set up the load generator");
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		struct curl_slist *h = curl_slist_append(L->headers, hdrs[i]);
		if (h == NULL)
			return mla_fail(d, MLA_ERR_NOMEM, "bench: out of memory");
		L->headers = h;
	}
	curl_multi_setopt(L->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, r->concurrency);
	for (long i = 0; i < r->concurrency; i++) {
		struct slot *s = &L->slots[i];
		if ((s->easy = curl_easy_init()) == NULL)
			return mla_fail(d, MLA_ERR_NOMEM, "bench: cannot create a curl handle");
		s->rep.data = s->buf;
		curl_easy_setopt(s->easy, CURLOPT_UNIX_SOCKET_PATH, L->e->gw[0].sock);
		curl_easy_setopt(s->easy, CURLOPT_URL, "http://localhost/local/v1/submit");
		curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, L->headers);
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, (const char *)L->doc);
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)BGW_DOC_BYTES);
		curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &s->rep);
		curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 120000L);
		curl_easy_setopt(s->easy, CURLOPT_PRIVATE, (char *)s);
	}
	return MLA_OK;
}

static void load_free(struct load *L)
{
	for (long i = 0; L->slots != NULL && i < L->r->concurrency; i++) {
		if (L->slots[i].busy)
			curl_multi_remove_handle(L->multi, L->slots[i].easy);
		curl_easy_cleanup(L->slots[i].easy);
	}
	free(L->slots);
	curl_multi_cleanup(L->multi);
	curl_slist_free_all(L->headers);
	free(L->doc);
}

/* Microseconds until the next paced submission is due (0: due now). */
static int64_t until_due(const struct load *L)
{
	int64_t due;

	if (L->r->rate <= 0.0)
		return 0;
	due = L->t0_us + (int64_t)((double)L->started * 1e6 / L->r->rate);
	return due > now_us() ? due - now_us() : 0;
}

static mla_err start_due(struct load *L, mla_diag *d)
{
	for (long i = 0; i < L->r->concurrency && L->started < (size_t)L->r->n; i++) {
		struct slot *s = &L->slots[i];
		if (s->busy)
			continue;
		if (until_due(L) > 0)
			break;
		s->idx = L->started++;
		s->rep.len = 0;
		s->buf[0] = '\0';
		L->r->subs[s->idx].submit_us = now_us();
		if (curl_multi_add_handle(L->multi, s->easy) != CURLM_OK)
			return mla_fail(d, MLA_ERR_INTERNAL, "bench: cannot start a request");
		s->busy = 1;
	}
	return MLA_OK;
}

static void record_reply(struct load *L, struct slot *s, CURLcode res)
{
	struct bgw_sub *sub = &L->r->subs[s->idx];
	long code = 0;
	const char *id;
	json_t *j = NULL;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_OK && code == 202 && (j = json_loads(s->buf, 0, NULL)) != NULL &&
	    (id = json_string_value(json_object_get(j, "message_id"))) != NULL &&
	    strlen(id) == MLA_UUID_LEN) {
		memcpy(sub->id, id, MLA_UUID_LEN + 1);
		L->r->ok++;
	} else {
		L->r->refused++;
		if (!L->reported++)
			fprintf(stderr, "mlagw bench: submission refused (%s, HTTP %ld): %.200s\n",
				curl_easy_strerror(res), code, s->buf);
	}
	json_decref(j);
}

static void collect_done(struct load *L)
{
	struct slot *s = NULL;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(L->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		curl_multi_remove_handle(L->multi, m->easy_handle);
		record_reply(L, s, m->data.result);
		s->busy = 0;
		L->finished++;
	}
}

static mla_err submit_all(struct load *L, mla_diag *d)
{
	int running = 0, timeout;
	int64_t wait;
	mla_err r;

	L->t0_us = now_us();
	while (L->finished < (size_t)L->r->n) {
		if ((r = start_due(L, d)) != MLA_OK)
			return r;
		if (curl_multi_perform(L->multi, &running) != CURLM_OK)
			return mla_fail(d, MLA_ERR_INTERNAL, "bench: curl_multi_perform failed");
		collect_done(L);
		wait = L->started < (size_t)L->r->n ? until_due(L) / 1000 : 100;
		timeout = (int)(wait > 100 ? 100 : wait);
		if (L->started < (size_t)L->r->n && L->r->rate > 0.0 && timeout == 0 &&
		    running >= L->r->concurrency)
			timeout = 1;
		if (running > 0 || timeout > 0)
			(void)curl_multi_poll(L->multi, NULL, 0, timeout, NULL);
	}
	return MLA_OK;
}

/* Polls A's health until `want` outcomes are recorded, or nothing moves for STALL_MS. */
static mla_err wait_outcomes(const struct bgw_gateway *a, long long want, mla_diag *d)
{
	long long n = -1, last = -1;
	int64_t last_change = now_us();
	struct timespec poll = {0, POLL_MS * 1000000L};

	for (;;) {
		if (outcomes(a, &n) != 0)
			return mla_fail(d, MLA_ERR_IO, "bench: gateway A does not answer its health "
					"check; see %s", a->log);
		if (n >= want)
			return MLA_OK;
		if (n != last) {
			last = n;
			last_change = now_us();
		} else if (now_us() - last_change > (int64_t)STALL_MS * 1000) {
			return mla_fail(d, MLA_ERR_IO, "bench: only %lld of %lld messages have an "
					"outcome after %d s without progress; see %s", n, want,
					STALL_MS / 1000, a->log);
		}
		(void)nanosleep(&poll, NULL);
	}
}

/* The time of a message's first outgoing 'delivered' history row. */
static mla_err delivered_row(const struct store_history_row *row, void *arg)
{
	int64_t *done_ms = arg;

	if (*done_ms == 0 && strcmp(row->direction, "out") == 0 &&
	    strcmp(row->state, "delivered") == 0)
		*done_ms = row->at_ms;
	return MLA_OK;
}

/* done_ms of every accepted submission, from A's history ('delivered', outgoing). */
static mla_err read_delivered(const struct bgw_gateway *a, struct bgw_run *r, mla_diag *d)
{
	store_reader *rd = NULL;
	mla_diag od = {MLA_OK, ""};
	mla_err e = MLA_OK;

	if (store_reader_open(a->store, &rd, &od) != MLA_OK)
		return mla_fail(d, MLA_ERR_IO, "bench: cannot read %s: %s", a->store, od.msg);
	for (long i = 0; i < r->n && e == MLA_OK; i++) {
		struct bgw_sub *s = &r->subs[i];
		if (s->id[0] == '\0')
			continue;
		e = store_reader_history(rd, s->id, delivered_row, &s->done_ms, d);
		if (s->done_ms > 0)
			r->delivered++;
		else
			r->not_delivered++;
	}
	store_reader_close(rd);
	return e;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double rank(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p * (double)n);

	return v[k > 0 ? k - 1 : 0];
}

static mla_err figures(struct bgw_run *r, mla_diag *d)
{
	double *lat = calloc(r->delivered > 0 ? r->delivered : 1, sizeof(double));
	double first = 0.0, last = 0.0;
	size_t k = 0;

	if (lat == NULL)
		return mla_fail(d, MLA_ERR_NOMEM, "bench: out of memory");
	for (long i = 0; i < r->n; i++) {
		const struct bgw_sub *s = &r->subs[i];
		double sub_ms = (double)s->submit_us / 1000.0;
		if (i == 0 || sub_ms < first)
			first = sub_ms;
		if (s->done_ms <= 0)
			continue;
		lat[k++] = (double)s->done_ms - sub_ms;
		if ((double)s->done_ms > last)
			last = (double)s->done_ms;
	}
	qsort(lat, k, sizeof(double), cmp_double);
	if (k > 0) {
		r->seconds = (last - first) / 1000.0;
		r->throughput = r->seconds > 0.0 ? (double)k / r->seconds : 0.0;
		r->p50 = rank(lat, k, 0.50);
		r->p95 = rank(lat, k, 0.95);
		r->p99 = rank(lat, k, 0.99);
		r->max = lat[k - 1];
	}
	free(lat);
	return MLA_OK;
}

mla_err bgw_run_load(struct bgw_env *e, struct bgw_run *r, mla_diag *d)
{
	struct load L;
	long long base = 0;
	double cpu0[2];
	mla_err rc;

	memset(&L, 0, sizeof(L));
	L.e = e;
	L.r = r;
	if ((r->subs = calloc((size_t)r->n, sizeof(*r->subs))) == NULL)
		return mla_fail(d, MLA_ERR_NOMEM, "bench: out of memory");
	if (outcomes(&e->gw[0], &base) != 0)
		return mla_fail(d, MLA_ERR_IO, "bench: gateway A does not answer; see %s",
				e->gw[0].log);
	for (int i = 0; i < 2; i++)
		cpu0[i] = bgw_proc_cpu(e->gw[i].pid);
	if ((rc = load_init(&L, d)) == MLA_OK && (rc = submit_all(&L, d)) == MLA_OK &&
	    (rc = wait_outcomes(&e->gw[0], base + (long long)r->ok, d)) == MLA_OK) {
		for (int i = 0; i < 2; i++)
			r->cpu_s[i] = bgw_proc_cpu(e->gw[i].pid) - cpu0[i];
		if ((rc = read_delivered(&e->gw[0], r, d)) == MLA_OK)
			rc = figures(r, d);
	}
	load_free(&L);
	return rc;
}

void bgw_run_free(struct bgw_run *r)
{
	free(r->subs);
	r->subs = NULL;
}
