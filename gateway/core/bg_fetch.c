/* The scheduled fetchers' shared parts (see bg_fetch.h). */
#include <pthread.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "bg_fetch.h"
#include "mlagw/codec.h"

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	/* past the bound the append fails and curl ends the transfer */
	return mla_buf_append(arg, p, size * n) == MLA_OK ? size * n : 0;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return *(volatile int *)arg ? 1 : 0;
}

static void set_body(CURL *c, const struct bg_http *q, struct curl_slist **hdr)
{
	if (q->post_type == NULL)
		return;
	*hdr = curl_slist_append(NULL, q->post_type);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)q->post);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)q->post_len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdr);
}

int bg_http_fetch(const struct bg_http *q, mla_buf *body, char *err, size_t err_len)
{
	struct curl_blob ca = {q->ca != NULL ? q->ca->data : NULL, q->ca != NULL ? q->ca->len : 0,
			       CURL_BLOB_NOCOPY};
	struct curl_slist *hdr = NULL;
	CURL *c = curl_easy_init();
	long code = 0;
	CURLcode rc;

	mla_buf_reset(body);
	if (c == NULL) {
		(void)mla_snprintf_cut(err, err_len, "cannot initialise libcurl");
		return 0;
	}
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, q->protocols);
	if (q->ca != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L); /* the chain to a State root is what
							  * counts: loopback names in tests */
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)q->connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)q->total_ms);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)q->max);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)q->abort);
	set_body(c, q, &hdr);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK)
		(void)mla_snprintf_cut(err, err_len, "%s: %s", q->url, curl_easy_strerror(rc));
	else if (code != 200)
		(void)mla_snprintf_cut(err, err_len, "%s: HTTP %ld", q->url, code);
	return rc == CURLE_OK && code == 200;
}

struct bg_job {
	int (*prepare)(void *);
	void (*run)(void *);
	void (*done)(void *);
	void *arg;
	struct event *timer, *finished;
	pthread_t thread;
	int running;
};

static void *job_thread(void *p)
{
	struct bg_job *j = p;

	j->run(j->arg);
	event_active(j->finished, EV_READ, 0); /* thread-safe: evthread_use_pthreads */
	return NULL;
}

static void on_timer(evutil_socket_t fd, short what, void *p)
{
	struct bg_job *j = p;

	(void)fd;
	(void)what;
	if (j->running || !j->prepare(j->arg))
		return;
	if (pthread_create(&j->thread, NULL, job_thread, j) == 0)
		j->running = 1;
	else
		j->done(j->arg); /* as a run that fetched nothing: it arms the next */
}

static void on_finished(evutil_socket_t fd, short what, void *p)
{
	struct bg_job *j = p;

	(void)fd;
	(void)what;
	pthread_join(j->thread, NULL);
	j->running = 0;
	j->done(j->arg);
}

mla_err bg_job_new(struct event_base *base, int (*prepare)(void *), void (*run)(void *),
		   void (*done)(void *), void *arg, struct bg_job **out)
{
	struct bg_job *j = calloc(1, sizeof(*j));

	*out = NULL;
	if (j == NULL)
		return MLA_ERR_NOMEM;
	j->prepare = prepare;
	j->run = run;
	j->done = done;
	j->arg = arg;
	if ((j->timer = evtimer_new(base, on_timer, j)) == NULL ||
	    (j->finished = event_new(base, -1, 0, on_finished, j)) == NULL) {
		bg_job_free(j);
		return MLA_ERR_INTERNAL;
	}
	*out = j;
	return MLA_OK;
}

void bg_job_arm(struct bg_job *j, uint64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	(void)evtimer_add(j->timer, &tv);
}

void bg_job_free(struct bg_job *j)
{
	if (j == NULL)
		return;
	if (j->running)
		pthread_join(j->thread, NULL);
	if (j->timer != NULL)
		event_free(j->timer);
	if (j->finished != NULL)
		event_free(j->finished);
	free(j);
}
