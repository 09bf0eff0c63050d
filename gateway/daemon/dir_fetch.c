/* Fetching the directory on a schedule (see dir_fetch.h). The thread only moves bytes; all
 * judgement (verification, the serial, adoption) happens on the loop thread. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/sha.h>

#include "core/log.h"
#include "dir_fetch.h"
#include "directory.h"
#include "mlagw/codec.h"

#define FETCH_CONNECT_S 10L
#define FETCH_TOTAL_S 60L
#define ROOT_PEM_MAX ((size_t)64 << 10)

struct gw_dir_fetch {
	struct gw *g;
	mla_err (*reload)(struct gw *, mla_diag *);
	struct event *timer, *done;
	pthread_t thread;
	int running;
	volatile int abort; /* set by dir_fetch_free: the transfer stops at its next progress */
	/* the thread's inputs, set before it starts */
	char urls[GW_DIR_URLS][GW_URL_MAX];
	size_t n_urls;
	mla_buf ca; /* the [trust] roots, PEM */
	/* its outputs, read after it ended */
	mla_buf body;
	char url[GW_URL_MAX];
	char err[MLA_DIAG_MAX];
	int ok;
	/* the last document refused: fetched again, it is not judged (nor logged) again */
	uint8_t refused[SHA256_DIGEST_LENGTH];
	int have_refused;
	int one_off; /* the fetch under way is dir_fetch_now's: the schedule stays as it is */
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	mla_buf *b = arg;

	/* past MLA_DIR_MAX_BYTES the append fails and curl ends the transfer */
	return mla_buf_append(b, p, size * n) == MLA_OK ? size * n : 0;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return ((struct gw_dir_fetch *)arg)->abort ? 1 : 0;
}

/* One URL: MLA_OK with the body on 200. */
static int fetch_one(struct gw_dir_fetch *f, const char *url)
{
	struct curl_blob ca = {f->ca.data, f->ca.len, CURL_BLOB_NOCOPY};
	CURL *c = curl_easy_init();
	long code = 0;
	CURLcode rc;

	mla_buf_reset(&f->body);
	if (c == NULL) {
		(void)mla_snprintf_cut(f->err, sizeof(f->err), "cannot initialise libcurl");
		return 0;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L); /* the chain to a State root is what
							  * counts: loopback names in tests */
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, FETCH_CONNECT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, FETCH_TOTAL_S);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MLA_DIR_MAX_BYTES);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &f->body);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, f);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		(void)mla_snprintf_cut(f->err, sizeof(f->err), "%s: %s", url,
				       curl_easy_strerror(rc));
	else if (code != 200)
		(void)mla_snprintf_cut(f->err, sizeof(f->err), "%s: HTTP %ld", url, code);
	return rc == CURLE_OK && code == 200;
}

static void *fetch_thread(void *arg)
{
	struct gw_dir_fetch *f = arg;

	f->ok = 0;
	for (size_t i = 0; i < f->n_urls && !f->ok && !f->abort; i++)
		if ((f->ok = fetch_one(f, f->urls[i])) != 0)
			memcpy(f->url, f->urls[i], sizeof(f->url));
	event_active(f->done, EV_READ, 0); /* thread-safe: evthread_use_pthreads */
	return NULL;
}

static void arm(struct gw_dir_fetch *f)
{
	uint64_t ms = f->g->snap->cfg.dir_fetch_interval_ms;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	(void)evtimer_add(f->timer, &tv);
}

static mla_err read_roots(const struct gw_config *c, mla_buf *out, mla_diag *d)
{
	uint8_t chunk[4096];
	size_t n;
	mla_err r = MLA_OK;

	mla_buf_reset(out);
	for (size_t i = 0; i < c->n_roots && r == MLA_OK; i++) {
		FILE *fp = fopen(c->roots[i], "rbe");
		if (fp == NULL)
			return mla_fail(d, MLA_ERR_IO, "[trust] root %s: cannot open", c->roots[i]);
		while (r == MLA_OK && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
			r = mla_buf_append(out, chunk, n);
		if (r == MLA_OK)
			r = mla_buf_append(out, "\n", 1);
		fclose(fp);
	}
	return r;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gw_dir_fetch *f = arg;
	const struct gw_config *c = &f->g->snap->cfg;
	mla_diag d = {MLA_OK, ""};

	(void)fd;
	(void)what;
	if (f->running || c->n_dir_urls == 0 || c->dir_file[0] == '\0' || f->g->stopping) {
		if (!f->running)
			arm(f);
		return;
	}
	memcpy(f->urls, c->dir_urls, sizeof(f->urls));
	f->n_urls = c->n_dir_urls;
	if (read_roots(c, &f->ca, &d) != MLA_OK) {
		gw_log_limited(GW_LOG_WARN, "directory-fetch-failed", "roots", NULL,
			       "reason=\"%s\"", d.msg[0] ? d.msg : "cannot read the roots");
		arm(f);
		return;
	}
	f->err[0] = '\0';
	if (pthread_create(&f->thread, NULL, fetch_thread, f) != 0) {
		arm(f);
		return;
	}
	f->running = 1;
}

/* Writes the fetched bytes beside the [directory] file; "" on failure. */
static int write_tmp(const struct gw_dir_fetch *f, const char *file, char tmp[PATH_MAX])
{
	int fd, ok;

	if (mla_snprintf(tmp, PATH_MAX, "%s.fetched", file) != MLA_OK ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return 0;
	ok = write(fd, f->body.data, f->body.len) == (ssize_t)f->body.len && fsync(fd) == 0;
	close(fd);
	if (!ok)
		unlink(tmp);
	return ok;
}

/* Verifies the fetched document as a load of the configuration file would (its keys as
 * written, the serial held); *newer when its serial is above the one in force. */
static mla_err trial(struct gw_dir_fetch *f, const char *tmp, int *newer, mla_diag *d)
{
	struct gw_config *c = malloc(sizeof(*c));
	struct gw_dir_loaded ld;
	mla_err r;

	*newer = 0;
	if (c == NULL)
		return mla_fail(d, MLA_ERR_NOMEM, "out of memory");
	gw_dir_loaded_init(&ld);
	if ((r = gw_config_load(f->g->config_path, c, d)) == MLA_OK &&
	    (r = mla_strcpy(c->dir_file, sizeof(c->dir_file), tmp)) == MLA_OK &&
	    (r = gw_directory_load(f->g->store, c, &ld.dir, NULL, NULL, d)) == MLA_OK)
		*newer = f->g->snap->dir == NULL || ld.dir->serial > f->g->snap->dir->serial;
	gw_dir_loaded_free(&ld);
	free(c);
	return r;
}

static void adopt(struct gw_dir_fetch *f)
{
	const struct gw_snapshot *s = f->g->snap;
	char tmp[PATH_MAX];
	uint8_t digest[SHA256_DIGEST_LENGTH];
	mla_diag d = {MLA_OK, ""};
	int newer = 0;

	if (s->dir_doc.len == f->body.len && memcmp(s->dir_doc.data, f->body.data,
						    f->body.len) == 0)
		return; /* the one in force */
	SHA256(f->body.data, f->body.len, digest);
	if (f->have_refused && memcmp(digest, f->refused, sizeof(digest)) == 0)
		return;
	if (!write_tmp(f, s->cfg.dir_file, tmp)) {
		gw_log_limited(GW_LOG_ERROR, "directory-fetch-failed", "write", NULL,
			       "reason=\"cannot write beside %s: %s\"", s->cfg.dir_file,
			       strerror(errno));
		return;
	}
	if (trial(f, tmp, &newer, &d) != MLA_OK || !newer) {
		gw_log(GW_LOG_WARN, "directory-fetch-refused", NULL,
		       "url=%s reason=\"%s\"", f->url, d.msg[0] ? d.msg : "not newer than the one "
		       "in force");
		unlink(tmp);
		memcpy(f->refused, digest, sizeof(digest));
		f->have_refused = 1;
		return;
	}
	if (rename(tmp, s->cfg.dir_file) != 0) {
		gw_log(GW_LOG_ERROR, "directory-fetch-failed", NULL, "reason=\"cannot replace %s: "
		       "%s\"", s->cfg.dir_file, strerror(errno));
		unlink(tmp);
		return;
	}
	gw_log(GW_LOG_INFO, "directory-fetched", NULL, "url=%s bytes=%zu", f->url, f->body.len);
	(void)f->reload(f->g, &d); /* logs its own outcome */
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct gw_dir_fetch *f = arg;
	int one_off = f->one_off;

	(void)fd;
	(void)what;
	pthread_join(f->thread, NULL);
	f->running = 0;
	f->one_off = 0;
	if (!f->ok)
		gw_log_limited(GW_LOG_WARN, "directory-fetch-failed", "fetch", NULL,
			       "reason=\"%s\"", f->err[0] ? f->err : "no URL answered");
	else if (!f->g->stopping)
		adopt(f);
	mla_buf_reset(&f->body);
	if (!one_off)
		arm(f);
}

int dir_fetch_now(struct gw_dir_fetch *f, const char *url)
{
	const struct gw_config *c = &f->g->snap->cfg;
	mla_diag d = {MLA_OK, ""};

	if (f->running || c->dir_file[0] == '\0' || f->g->stopping ||
	    mla_strcpy(f->urls[0], sizeof(f->urls[0]), url) != MLA_OK)
		return 0;
	if (read_roots(c, &f->ca, &d) != MLA_OK)
		return 0;
	f->n_urls = 1;
	f->err[0] = '\0';
	if (pthread_create(&f->thread, NULL, fetch_thread, f) != 0)
		return 0;
	f->running = 1;
	f->one_off = 1;
	return 1;
}

mla_err dir_fetch_start(struct gw *g, mla_err (*reload)(struct gw *, mla_diag *),
			struct gw_dir_fetch **out)
{
	struct gw_dir_fetch *f = calloc(1, sizeof(*f));

	*out = NULL;
	if (f == NULL)
		return MLA_ERR_NOMEM;
	f->g = g;
	f->reload = reload;
	mla_buf_init(&f->ca, GW_MAX_ROOTS * ROOT_PEM_MAX);
	mla_buf_init(&f->body, MLA_DIR_MAX_BYTES);
	if ((f->timer = evtimer_new(g->base, on_timer, f)) == NULL ||
	    (f->done = event_new(g->base, -1, 0, on_done, f)) == NULL) {
		dir_fetch_free(f);
		return MLA_ERR_INTERNAL;
	}
	arm(f);
	*out = f;
	return MLA_OK;
}

void dir_fetch_free(struct gw_dir_fetch *f)
{
	if (f == NULL)
		return;
	f->abort = 1;
	if (f->running)
		pthread_join(f->thread, NULL);
	if (f->timer != NULL)
		event_free(f->timer);
	if (f->done != NULL)
		event_free(f->done);
	mla_buf_free(&f->ca);
	mla_buf_free(&f->body);
	free(f);
}
