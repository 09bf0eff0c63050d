/* Fetching the directory on a schedule (see dir_fetch.h). The thread only moves bytes; all
 * judgement (verification, the serial, adoption) happens on the loop thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "core/bg_fetch.h"
#include "core/clock.h"
#include "core/log.h"
#include "dir_fetch.h"
#include "directory.h"
#include "mlagw/codec.h"
#include "tlog/audit.h"

#define FETCH_CONNECT_S 10L
#define FETCH_TOTAL_S 60L
#define ROOT_PEM_MAX ((size_t)64 << 10)

struct gw_dir_fetch {
	struct gw *g;
	mla_err (*reload)(struct gw *, mla_diag *);
	struct bg_job *job;
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
	int busy;    /* a run is under way (prepared, not yet done) */
	char pending[GW_URL_MAX]; /* dir_fetch_now's URL, taken by the next prepare */
	char pending_peer[3];	  /* the peer whose advertisement asked for it */
	char peer[3];		  /* the fetch under way's ("" for the schedule's) */
	int64_t due_ms; /* monotonic time the scheduled fetch is due */
};

/* One URL: 1 with the body on 200. */
static int fetch_one(struct gw_dir_fetch *f, const char *url)
{
	struct bg_http q = {url, "https", &f->ca, NULL, NULL, 0, FETCH_CONNECT_S * 1000,
			    FETCH_TOTAL_S * 1000, MLA_DIR_MAX_BYTES, &f->abort};

	return bg_http_fetch(&q, &f->body, f->err, sizeof(f->err));
}

static void fetch_run(void *arg)
{
	struct gw_dir_fetch *f = arg;

	f->ok = 0;
	for (size_t i = 0; i < f->n_urls && !f->ok && !f->abort; i++)
		if ((f->ok = fetch_one(f, f->urls[i])) != 0)
			memcpy(f->url, f->urls[i], sizeof(f->url));
}

static void arm(struct gw_dir_fetch *f)
{
	f->due_ms = gw_mono_ms() + (int64_t)f->g->snap->cfg.dir_fetch_interval_ms;
	bg_job_arm(f->job, f->g->snap->cfg.dir_fetch_interval_ms);
}

/* The schedule at the time it was due (a one-off fetch moved the job's timer): now when it
 * is past, else arm() when none was set yet. */
static void arm_due(struct gw_dir_fetch *f)
{
	int64_t now = gw_mono_ms();

	if (f->due_ms == 0)
		arm(f);
	else
		bg_job_arm(f->job, (uint64_t)(f->due_ms > now ? f->due_ms - now : 0));
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

/* Loop thread: the URLs and roots of the configuration in force, or no run this time. */
static int fetch_prepare(void *arg)
{
	struct gw_dir_fetch *f = arg;
	const struct gw_config *c = &f->g->snap->cfg;
	mla_diag d = {MLA_OK, ""};
	int one_off = f->pending[0] != '\0'; /* a peer's newer directory (dir_peer.c) */

	if (c->dir_file[0] == '\0' || f->g->stopping || (!one_off && c->n_dir_urls == 0)) {
		f->pending[0] = '\0';
		arm_due(f);
		return 0;
	}
	f->peer[0] = '\0';
	if (one_off) {
		memcpy(f->urls[0], f->pending, sizeof(f->urls[0]));
		memcpy(f->peer, f->pending_peer, sizeof(f->peer));
		f->n_urls = 1;
		f->pending[0] = '\0';
	} else {
		memcpy(f->urls, c->dir_urls, sizeof(f->urls));
		f->n_urls = c->n_dir_urls;
	}
	if (read_roots(c, &f->ca, &d) != MLA_OK) {
		gw_log_limited(GW_LOG_WARN, "directory-fetch-failed", "roots", NULL,
			       "reason=\"%s\"", d.msg[0] ? d.msg : "cannot read the roots");
		arm_due(f);
		return 0;
	}
	f->err[0] = '\0';
	f->one_off = one_off;
	f->busy = 1;
	return 1;
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

/* The refusal in the audit log (SPEC 18.6): a directory-refused entry (version 9) naming
 * why (the error's name; directory-serial for one not newer than the one in force) and the
 * peer whose advertisement prompted the fetch; nothing of the document. */
static void audit_refusal(struct gw_dir_fetch *f, mla_err why)
{
	mla_audit_entry e;
	mla_err r;

	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_DIRECTORY_REFUSED;
	if ((r = mla_strcpy(e.actor, sizeof(e.actor), "gateway")) == MLA_OK &&
	    (r = mla_strcpy(e.error, sizeof(e.error),
			    mla_errname(why != MLA_OK ? why : MLA_ERR_DIR_SERIAL))) == MLA_OK &&
	    (r = mla_strcpy(e.from, sizeof(e.from), f->peer)) == MLA_OK &&
	    (r = mla_snprintf(e.reason, sizeof(e.reason), f->peer[0] ? "peer %s" : "fetched",
			      f->peer)) == MLA_OK)
		r = gw_audit(f->g, &e);
	if (r != MLA_OK)
		gw_log(GW_LOG_ERROR, "audit-failed", NULL, "event=directory-refused error=%s",
		       mla_errname(r));
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
		audit_refusal(f, d.code);
		/* a signer whose revocation status is still being fetched (on this, the loop
		 * thread, only cached answers count) is judged again at the next round */
		memcpy(f->refused, digest, sizeof(digest));
		f->have_refused = d.code != MLA_ERR_REVOCATION_UNKNOWN;
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

static void fetch_done(void *arg)
{
	struct gw_dir_fetch *f = arg;
	int one_off = f->one_off;

	f->busy = 0;
	f->one_off = 0;
	if (!f->ok)
		gw_log_limited(GW_LOG_WARN, "directory-fetch-failed", "fetch", NULL,
			       "reason=\"%s\"", f->err[0] ? f->err : "no URL answered");
	else if (!f->g->stopping)
		adopt(f);
	mla_buf_reset(&f->body);
	if (one_off) /* the schedule goes on at the time it was due */
		arm_due(f);
	else
		arm(f);
}

int dir_fetch_now(struct gw_dir_fetch *f, const char *url, const char *peer)
{
	const struct gw_config *c = &f->g->snap->cfg;

	if (f->busy || c->dir_file[0] == '\0' || f->g->stopping ||
	    mla_strcpy(f->pending, sizeof(f->pending), url) != MLA_OK ||
	    mla_strcpy(f->pending_peer, sizeof(f->pending_peer), peer) != MLA_OK) {
		f->pending[0] = '\0';
		return 0;
	}
	bg_job_arm(f->job, 0); /* fetch_prepare takes the pending URL first */
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
	if (bg_job_new(g->base, fetch_prepare, fetch_run, fetch_done, f, &f->job) != MLA_OK) {
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
	bg_job_free(f->job);
	mla_buf_free(&f->ca);
	mla_buf_free(&f->body);
	free(f);
}
