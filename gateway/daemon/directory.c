/* The signed directory in the gateway (SPEC 18.6; see directory.h): verified at start and at
 * every reload against [trust], the serial held in the store, and the clock; the peers taken
 * from it, [peer CC] keys overriding theirs; judged every second for its expiry. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/x509.h>

#include "mlagw/codec.h"
#include "core/log.h"
#include "directory.h"

#define PEER_PATH "/mla/v1/envelopes" /* appended to the directory's gateway URL */

/* The file's bytes, at most max (a bigger one is refused unread); what names the key. */
static mla_err read_bounded(const char *what, const char *path, size_t max, mla_buf *out,
			    mla_diag *d)
{
	uint8_t chunk[8192];
	struct stat st;
	size_t n;
	mla_err r = MLA_OK;
	FILE *f = fopen(path, "rbe");

	mla_buf_init(out, max);
	if (f == NULL)
		return mla_fail(d, MLA_ERR_IO, "[directory] %s %s: cannot open: %s", what, path,
				strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
		r = mla_fail(d, MLA_ERR_IO, "[directory] %s %s: not a regular file", what, path);
	else if ((size_t)st.st_size > max)
		r = mla_fail(d, MLA_ERR_TOO_LARGE, "[directory] %s %s: larger than %zu bytes", what,
			     path, max);
	while (r == MLA_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (mla_buf_append(out, chunk, n) != MLA_OK)
			r = mla_fail(d, MLA_ERR_TOO_LARGE, "[directory] %s %s: larger than %zu "
				     "bytes", what, path, max);
	if (r == MLA_OK && ferror(f))
		r = mla_fail(d, MLA_ERR_IO, "[directory] %s %s: read error", what, path);
	fclose(f);
	return r;
}

static struct gw_peer *find_or_add_peer(struct gw_config *c, const char *state, mla_diag *d)
{
	struct gw_peer *p;

	for (size_t i = 0; i < c->n_peers; i++)
		if (strcmp(c->peers[i].state, state) == 0)
			return &c->peers[i];
	if (c->n_peers == GW_MAX_PEERS) {
		(void)mla_fail(d, MLA_ERR_CONFIG, "the directory lists more than %d peers",
			       GW_MAX_PEERS);
		return NULL;
	}
	p = &c->peers[c->n_peers++];
	gw_peer_defaults(p, state);
	return p;
}

/* The peer's URL: the directory's first gateway URL, then the envelopes path. */
static mla_err peer_url(const mla_dir_entry *e, struct gw_peer *p, mla_diag *d)
{
	size_t n = strlen(e->urls[0]);

	while (n > 0 && e->urls[0][n - 1] == '/')
		n--;
	if (mla_snprintf(p->url, sizeof(p->url), "%.*s%s", (int)n, e->urls[0], PEER_PATH) !=
	    MLA_OK)
		return mla_fail(d, MLA_ERR_CONFIG, "gateway URL of %s in the directory is too long",
				e->state);
	return MLA_OK;
}

static mla_err peer_cert(const mla_directory *dir, struct gw_peer *p, mla_diag *d)
{
	X509 *x = NULL;
	unsigned char *out = p->encrypt_der;
	int len;
	mla_err r;

	/* the certificate in use now; at a rotation's takeover the daemon loads the directory
	 * again (daemon.c take_over_certificates, SPEC 18.6) */
	if ((r = mla_directory_cert(dir, p->state, MLA_DIR_ENCRYPTION, time(NULL), &x, d)) !=
	    MLA_OK)
		return r;
	if ((len = i2d_X509(x, NULL)) <= 0 || (size_t)len > sizeof(p->encrypt_der))
		return mla_fail(d, MLA_ERR_CONFIG, "encryption certificate of %s in the directory "
				"is larger than %d bytes", p->state, GW_DER_MAX);
	if (i2d_X509(x, &out) != len)
		return mla_fail(d, MLA_ERR_INTERNAL, "cannot encode a certificate");
	p->encrypt_der_len = (size_t)len;
	return MLA_OK;
}

/* One State of the directory as a peer; keys set in its [peer CC] override, logged. */
static mla_err merge_entry(struct gw_config *c, const mla_directory *dir,
			   const mla_dir_entry *e, mla_diag *d)
{
	struct gw_peer *p = find_or_add_peer(c, e->state, d);
	mla_err r = MLA_OK;

	if (p == NULL)
		return MLA_ERR_CONFIG;
	p->from_directory = 1;
	if (p->url[0] != '\0')
		gw_log(GW_LOG_INFO, "directory-override", NULL, "reason=\"peer %s: url from "
		       "configuration overrides the directory\"", e->state);
	else if ((r = peer_url(e, p, d)) != MLA_OK)
		return r;
	if (p->encrypt_cert[0] != '\0')
		gw_log(GW_LOG_INFO, "directory-override", NULL, "reason=\"peer %s: encrypt_cert "
		       "from configuration overrides the directory\"", e->state);
	else
		r = peer_cert(dir, p, d);
	return r;
}

static mla_err merge_peers(struct gw_config *c, const mla_directory *dir, mla_diag *d)
{
	mla_err r;

	for (size_t i = 0; i < dir->n; i++)
		if (strcmp(dir->entries[i].state, c->state) != 0 &&
		    (r = merge_entry(c, dir, &dir->entries[i], d)) != MLA_OK)
			return r;
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct gw_peer *p = &c->peers[i];
		if (p->from_directory)
			continue;
		if (p->url[0] == '\0' || p->encrypt_cert[0] == '\0')
			return mla_fail(d, MLA_ERR_CONFIG, "[peer %s]: %s is not in directory serial "
					"%llu, so its url and encrypt_cert must be configured",
					p->state, p->state, (unsigned long long)dir->serial);
		gw_log(GW_LOG_WARN, "directory-override", NULL, "reason=\"peer %s: not in the "
		       "directory, configured only\"", p->state);
	}
	return MLA_OK;
}

static mla_err held_policy(gw_store *store, mla_dir_policy *pol, mla_diag *d)
{
	mla_err r = store_directory_held_get(store, &pol->held_serial, pol->held_digest, d);

	if (r == MLA_ERR_NOT_FOUND) {
		d->code = MLA_OK;
		d->msg[0] = '\0';
		return MLA_OK;
	}
	pol->have_held = r == MLA_OK;
	return r;
}

/* [directory] entry: this State's own signed entry, verified as a lone entry (SPEC 18.3). */
static mla_err load_entry(const struct gw_config *c, const mla_trust *trust, mla_buf *out,
			  mla_diag *d)
{
	mla_dir_entry e;
	mla_err r;

	memset(&e, 0, sizeof(e));
	if ((r = read_bounded("entry", c->dir_entry, MLA_DIR_MAX_ENTRY_BYTES, out, d)) == MLA_OK &&
	    (r = mla_dir_entry_verify(out->data, out->len, trust, 0, &e, d)) == MLA_OK &&
	    strcmp(e.state, c->state) != 0)
		r = mla_fail(d, MLA_ERR_CONFIG, "[directory] entry %s is the entry of %s, not of "
			     "this gateway's State %s", c->dir_entry, e.state, c->state);
	mla_dir_entry_clear(&e);
	return r;
}

mla_err gw_directory_load(gw_store *store, struct gw_config *c, mla_directory **out,
			  mla_buf *doc_out, mla_buf *entry_out, mla_diag *d)
{
	mla_dir_policy pol;
	mla_dir_status st;
	mla_trust *trust = NULL;
	mla_buf doc, entry;
	mla_err r;

	*out = NULL;
	mla_buf_init(&entry, MLA_DIR_MAX_ENTRY_BYTES);
	if (c->dir_file[0] == '\0')
		return MLA_OK;
	memset(&pol, 0, sizeof(pol));
	memset(&st, 0, sizeof(st));
	pol.publisher = c->dir_publisher;
	pol.grace = (time_t)(c->dir_grace_ms / 1000);
	if ((r = read_bounded("file", c->dir_file, MLA_DIR_MAX_BYTES, &doc, d)) == MLA_OK &&
	    (r = gw_trust_load(c, &trust, d)) == MLA_OK && (r = held_policy(store, &pol, d)) == MLA_OK) {
		pol.trust = trust;
		r = mla_directory_verify(doc.data, doc.len, &pol, out, &st, d);
	}
	if (r == MLA_OK && c->dir_entry[0] != '\0')
		r = load_entry(c, trust, &entry, d);
	if (r == MLA_OK && doc_out != NULL) { /* handed over: the buffers' memory moves */
		mla_buf_free(doc_out);
		*doc_out = doc;
		mla_buf_init(&doc, MLA_DIR_MAX_BYTES);
	}
	if (r == MLA_OK && entry_out != NULL) {
		mla_buf_free(entry_out);
		*entry_out = entry;
		mla_buf_init(&entry, MLA_DIR_MAX_ENTRY_BYTES);
	}
	mla_buf_free(&doc);
	mla_buf_free(&entry);
	mla_trust_free(trust);
	if (r == MLA_OK && (r = merge_peers(c, *out, d)) != MLA_OK) {
		mla_directory_free(*out);
		*out = NULL;
	}
	if (r != MLA_OK)
		return r;
	if (st.in_grace)
		gw_log(GW_LOG_WARN, "directory-expired", NULL, "reason=\"%s\"", st.warning);
	return MLA_OK;
}

mla_err gw_directory_adopted(gw_store *store, const mla_directory *dir,
			     const mla_directory *prev, mla_diag *d)
{
	char exp[MLA_TIME_LEN];
	mla_err r;

	if (dir == NULL || (prev != NULL && prev->serial == dir->serial))
		return MLA_OK; /* the same serial verified is the same document (SPEC 18.3 step 8) */
	if ((r = store_directory_held_put(store, dir->serial, dir->digest, d)) != MLA_OK)
		return r;
	mla_time_format(dir->expires, exp);
	gw_log(GW_LOG_INFO, "directory-adopted", NULL, "serial=%llu publisher=%s states=%zu "
	       "expires=%s", (unsigned long long)dir->serial, dir->publisher, dir->n, exp);
	return MLA_OK;
}

/* The earliest end of validity: the directory's expiry or an entry's. */
static time_t first_end(const mla_directory *dir, const char **what)
{
	time_t end = dir->expires;

	*what = NULL;
	for (size_t i = 0; i < dir->n; i++)
		if (dir->entries[i].valid_until < end) {
			end = dir->entries[i].valid_until;
			*what = dir->entries[i].state;
		}
	return end;
}

time_t gw_directory_next_takeover(const mla_directory *dir, time_t after)
{
	time_t first = 0;

	for (size_t i = 0; dir != NULL && i < dir->n; i++) {
		const mla_dir_cert *c = &dir->entries[i].certs[MLA_DIR_ENCRYPTION];

		if (c->next != NULL && c->next_from > after && (first == 0 || c->next_from < first))
			first = c->next_from;
	}
	return first;
}

void gw_directory_judge(const mla_directory *dir, uint64_t grace_ms, time_t now,
			struct gw_dir_judgement *j)
{
	char t1[MLA_TIME_LEN], t2[MLA_TIME_LEN], what[48];
	const char *state;
	time_t end, grace = (time_t)(grace_ms / 1000);

	memset(j, 0, sizeof(*j));
	if (dir == NULL)
		return;
	end = first_end(dir, &state);
	j->seconds_left = (int64_t)end - (int64_t)now;
	if (now <= end)
		return;
	mla_time_format(end, t1);
	mla_time_format(end + grace, t2);
	if (state != NULL)
		(void)mla_snprintf_cut(what, sizeof(what), "entry of %s in directory serial %llu",
				       state, (unsigned long long)dir->serial); /* a label */
	else
		(void)mla_snprintf_cut(what, sizeof(what), "directory serial %llu",
				       (unsigned long long)dir->serial); /* a label */
	if (now - end > grace)
		(void)mla_snprintf_cut(j->refusal, sizeof(j->refusal), "%s expired at %s, grace "
				       "ended at %s", what, t1, t2); /* shortened if need be */
	else
		(void)mla_snprintf_cut(j->warning, sizeof(j->warning), "%s expired at %s, grace "
				       "ends at %s", what, t1, t2);
}

/* The file's identity for the periodic re-read: size and modification time. */
int gw_directory_file_stamp(const char *path, struct gw_dir_stamp *s)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0;
	s->size = (int64_t)st.st_size;
	s->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return 1;
}

void gw_dir_loaded_init(struct gw_dir_loaded *l)
{
	l->dir = NULL;
	mla_buf_init(&l->doc, MLA_DIR_MAX_BYTES);
	mla_buf_init(&l->entry, MLA_DIR_MAX_ENTRY_BYTES);
}

void gw_dir_loaded_move(struct gw_dir_loaded *l, struct gw_snapshot *s)
{
	mla_directory_free(s->dir);
	mla_buf_free(&s->dir_doc);
	mla_buf_free(&s->dir_entry);
	s->dir = l->dir;
	s->dir_doc = l->doc;
	s->dir_entry = l->entry;
	gw_dir_loaded_init(l);
}

void gw_dir_loaded_free(struct gw_dir_loaded *l)
{
	mla_directory_free(l->dir);
	mla_buf_free(&l->doc);
	mla_buf_free(&l->entry);
	gw_dir_loaded_init(l);
}
