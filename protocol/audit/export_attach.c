/* Audit export, the attachment files beside a bundle (SPEC 15 "Attachment files"): for each
 * version 3 envelope record of a written bundle, the encrypted files its list names, copied
 * from the store in pieces into FOLDER/<message id>/<n>.ct, each fsynced before it is
 * renamed complete. The bundle itself is not changed: its format and limits stay. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlagw/audit.h"
#include "mlagw/buf.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"
#include "mlagw/limits.h"

#define COPY_PIECE ((size_t)1 << 20)
#define XPATH_MAX 4096

static mla_err sync_dir(const char *path, mla_diag *diag)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ok = fd >= 0 && fsync(fd) == 0;

	if (fd >= 0)
		close(fd);
	return ok ? MLA_OK : mla_fail(diag, MLA_ERR_IO, "cannot sync %s: %s", path,
				      strerror(errno));
}

/* from (open) into the new file to, every byte, then fsync. */
static mla_err copy_fd(int from, const char *to, uint8_t *buf, uint64_t *bytes, mla_diag *diag)
{
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	mla_err r = MLA_OK;
	ssize_t k;

	if (out < 0)
		return mla_fail(diag, MLA_ERR_IO, "cannot create %s: %s", to, strerror(errno));
	while (r == MLA_OK && (k = read(from, buf, COPY_PIECE)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = mla_fail(diag, MLA_ERR_IO, "cannot read an attachment: %s",
				     strerror(errno));
			break;
		}
		for (ssize_t done = 0; r == MLA_OK && done < k;) {
			ssize_t w = write(out, buf + done, (size_t)(k - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				r = mla_fail(diag, MLA_ERR_IO, "cannot write %s: %s", to,
					     strerror(errno));
			else
				done += w;
		}
		*bytes += (uint64_t)k;
	}
	if (r == MLA_OK && fsync(out) != 0)
		r = mla_fail(diag, MLA_ERR_IO, "cannot sync %s: %s", to, strerror(errno));
	if (close(out) != 0 && r == MLA_OK)
		r = mla_fail(diag, MLA_ERR_IO, "cannot write %s: %s", to, strerror(errno));
	return r;
}

struct xctx {
	const char *out_dir;
	mla_audit_attach_src_fn src, tree;
	mla_audit_attach_missing_fn on_missing;
	void *arg;
	mla_audit_attach_export *res;
	uint8_t *buf;
};

/* The sender's tree file of the attachment, when the store holds one: copied as <n>.tree
 * (the verifier uses its leaves only to say which segment differs from the signed ones). */
static mla_err copy_tree(struct xctx *x, const char *id, const char *dir, unsigned index,
			 mla_diag *diag)
{
	char src[XPATH_MAX], part[XPATH_MAX], dst[XPATH_MAX];
	uint64_t bytes = 0;
	mla_err r;
	int fd;

	if ((r = x->tree(x->arg, id, index, src, sizeof src, diag)) != MLA_OK)
		return r;
	if ((fd = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? MLA_OK : mla_fail(diag, MLA_ERR_IO, "cannot read %s: %s",
							   src, strerror(errno));
	if (mla_snprintf(part, sizeof part, "%s/%u.tree.part", dir, index) != MLA_OK ||
	    mla_snprintf(dst, sizeof dst, "%s/%u.tree", dir, index) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments folder path too long");
	else if ((r = copy_fd(fd, part, x->buf, &bytes, diag)) == MLA_OK && rename(part, dst) != 0)
		r = mla_fail(diag, MLA_ERR_IO, "cannot rename %s: %s", part, strerror(errno));
	close(fd);
	if (r == MLA_OK)
		x->res->trees++;
	return r;
}

/* Attachment e of message id: copied as <n>.ct.part, renamed <n>.ct; absent: counted. */
static mla_err copy_one(struct xctx *x, const char *id, const char *dir,
			const mla_attach_entry *e, mla_diag *diag)
{
	char src[XPATH_MAX], part[XPATH_MAX], dst[XPATH_MAX];
	mla_err r;
	int fd;

	if ((r = x->src(x->arg, id, e->index, src, sizeof src, diag)) != MLA_OK)
		return r;
	if ((fd = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			return mla_fail(diag, MLA_ERR_IO, "cannot read %s: %s", src,
					strerror(errno));
		x->res->missing++;
		if (x->on_missing != NULL)
			x->on_missing(x->arg, id, e->index);
		return MLA_OK;
	}
	if (mla_snprintf(part, sizeof part, "%s/%u.ct.part", dir, e->index) != MLA_OK ||
	    mla_snprintf(dst, sizeof dst, "%s/%u.ct", dir, e->index) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments folder path too long");
	else if ((r = copy_fd(fd, part, x->buf, &x->res->bytes, diag)) == MLA_OK &&
		 rename(part, dst) != 0)
		r = mla_fail(diag, MLA_ERR_IO, "cannot rename %s: %s", part, strerror(errno));
	close(fd);
	if (r == MLA_OK)
		x->res->copied++;
	if (r == MLA_OK && x->tree != NULL)
		r = copy_tree(x, id, dir, e->index, diag);
	return r;
}

/* The files of one envelope record's list (none for versions 1 and 2). */
static mla_err export_envelope(struct xctx *x, const mla_bundle_record *rec, const mla_buf *data,
			       mla_diag *diag)
{
	char dir[XPATH_MAX];
	mla_attach_list *l = NULL;
	mla_header h;
	mla_limits lim;
	mla_err r;

	mla_limits_default(&lim);
	lim.max_envelope_bytes = mla_bundle_type_max(MLA_BUNDLE_ENVELOPE);
	lim.max_attachment_bytes = MLA_ATTACH_CEILING;
	if ((r = mla_envelope_attach_list_unsigned(data->data, data->len, &lim, &h, &l, diag)) !=
	    MLA_OK) {
		char why[sizeof(diag->msg)];
		(void)mla_snprintf_cut(why, sizeof why, "%s", mla_diag_message(diag));
		return mla_fail(diag, r, "envelope %s: %s", rec->name, why);
	}
	if (l == NULL)
		return MLA_OK;
	x->res->envelopes++;
	if (strcmp(h.message_id, rec->name) != 0)
		r = mla_fail(diag, MLA_ERR_HEADER, "envelope %s holds message %s", rec->name,
			     h.message_id);
	else if (mla_snprintf(dir, sizeof dir, "%s/%s", x->out_dir, rec->name) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments folder path too long");
	else if (mkdir(dir, 0700) != 0)
		r = mla_fail(diag, MLA_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
	for (size_t i = 0; r == MLA_OK && i < l->n; i++)
		r = copy_one(x, rec->name, dir, &l->item[i].pub, diag);
	if (r == MLA_OK)
		r = sync_dir(dir, diag);
	mla_attach_list_free(l);
	return r;
}

/* Each envelope record of the bundle f (indexed in b) in turn: its bytes read when it is a
 * message's own (named by its id; an earlier seal's name has a dot). */
static mla_err export_all(struct xctx *x, FILE *f, const mla_bundle *b, mla_diag *diag)
{
	mla_bundle_cursor *c = malloc(sizeof(*c));
	mla_bundle_record rec;
	mla_buf data;
	mla_err r = MLA_OK, e;

	if (c == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	mla_buf_init(&data, mla_bundle_type_max(MLA_BUNDLE_ENVELOPE));
	mla_bundle_cursor_init_type(c, f, b, MLA_BUNDLE_ENVELOPE);
	while (r == MLA_OK && (e = mla_bundle_cursor_next(c, &rec, diag)) == MLA_OK) {
		if (strchr(rec.name, '.') != NULL)
			continue;
		if ((r = mla_bundle_load(f, &rec, &data, diag)) == MLA_OK)
			r = export_envelope(x, &rec, &data, diag);
	}
	if (r == MLA_OK && e != MLA_ERR_NOT_FOUND)
		r = e;
	mla_buf_free(&data);
	free(c);
	return r;
}

mla_err mla_audit_export_attachments(const char *bundle_path, const char *out_dir,
				     mla_audit_attach_src_fn src, mla_audit_attach_src_fn tree,
				     mla_audit_attach_missing_fn on_missing, void *arg,
				     mla_audit_attach_export *res, mla_diag *diag)
{
	struct xctx x = {out_dir, src, tree, on_missing, arg, res, NULL};
	mla_bundle b;
	mla_err r;
	FILE *f = NULL;

	memset(res, 0, sizeof(*res));
	memset(&b, 0, sizeof(b));
	if (mkdir(out_dir, 0700) != 0)
		return mla_fail(diag, MLA_ERR_IO, "cannot create %s: %s", out_dir, strerror(errno));
	if ((x.buf = malloc(COPY_PIECE)) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	if ((f = fopen(bundle_path, "rb")) == NULL)
		r = mla_fail(diag, MLA_ERR_IO, "cannot read %s: %s", bundle_path, strerror(errno));
	else if ((r = mla_bundle_index(f, &b, diag)) == MLA_OK &&
		 (r = export_all(&x, f, &b, diag)) == MLA_OK)
		r = sync_dir(out_dir, diag);
	if (f != NULL)
		fclose(f);
	mla_bundle_free(&b);
	free(x.buf);
	return r;
}
