/* Sealing a submission's attachments (submit_attach.h, SPEC 17.14): each upload read in
 * segment-size pieces (gzip-deflated on the way when asked), each segment sealed with
 * mla_attach_sealer into "<n>.ct.part" and its leaf hash into "<n>.tree", the tree built,
 * the ciphertext completed by rename. Memory: three segment buffers and zlib's state,
 * whatever the file's size. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "attach/attach_files.h"
#include "conf/config.h"
#include "mlagw/envelope.h"
#include "seal_hash.h"
#include "submit_attach.h"

int submit_peer_reads_attachments(const struct gw_peer *peer)
{
	return peer != NULL && (peer->envelope_versions & (1u << MLA_ENVELOPE_VERSION_ATTACH));
}

/* Ciphertext and tree bytes of a plaintext of p bytes in segments of s (an upper bound for
 * a compressed one: gzip adds at most a few bytes per 16 KiB block beyond the input). */
static uint64_t sealed_bytes(uint64_t p, uint32_t s)
{
	uint64_t bound = p + p / 1000 + 1024, n = bound / s + 1;

	return bound + 16 * n + attach_tree_bytes(n);
}

mla_err submit_attach_check(const struct gw_config *c, const char *owner,
			    struct submit_attach *a, int *no_space, mla_diag *diag)
{
	char path[UPLOAD_PATH_MAX];
	struct upload_state st;
	struct statvfs vfs;
	uint64_t total = 0, need = 0, avail;

	*no_space = 0;
	for (size_t i = 0; i < a->n; i++) {
		struct submit_attach_spec *s = &a->item[i];
		if (!upload_owned_by(s->upload, owner) ||
		    upload_stat(c->store, s->upload, &st, diag) != MLA_OK || !st.complete)
			return mla_fail(diag, MLA_ERR_NOT_FOUND, "attachment %zu: upload %s is not a "
					"complete upload of the caller", i + 1, s->upload);
		if (st.received > c->limits.max_attachment_bytes)
			return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachment %zu of %llu bytes "
					"exceeds [limits] max_attachment_bytes (%llu)", i + 1,
					(unsigned long long)st.received, c->limits.max_attachment_bytes);
		s->size = st.received;
		total += st.received;
		need += sealed_bytes(st.received, (uint32_t)c->attachment_segment_bytes);
	}
	if (total > c->max_message_attachment_bytes)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "the attachments hold %llu bytes; [limits] "
				"max_message_attachment_bytes is %zu", (unsigned long long)total,
				c->max_message_attachment_bytes);
	if ((upload_complete_path(c->store, a->item[0].upload, path, sizeof path, diag)) !=
		    MLA_OK ||
	    statvfs(path, &vfs) != 0)
		return mla_fail(diag, MLA_ERR_IO, "cannot read the free disk space");
	avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
	if (avail < c->upload_min_free_bytes || avail - c->upload_min_free_bytes < need) {
		*no_space = 1;
		return mla_fail(diag, MLA_ERR_IO, "not enough free disk space to seal the "
				"attachments (%llu bytes needed beside [limits] "
				"upload_min_free_bytes); retry later", (unsigned long long)need);
	}
	return MLA_OK;
}

/* ---- the plaintext of one attachment, a segment at a time ---- */

struct plain_src {
	int fd;
	int gzip;
	int eof;      /* the file is read to its end */
	int z_end;    /* deflate wrote its last byte */
	z_stream z;
	uint8_t in[64 << 10];
	EVP_MD_CTX *md; /* SHA-256 of the file's bytes when gzip (else the sealer's digest of
			 * the plaintext is the file's: one pass, not two) */
	uint64_t file_bytes;
};

static mla_err src_read(struct plain_src *s, uint8_t *buf, size_t cap, size_t *got,
			mla_diag *diag)
{
	ssize_t n;

	*got = 0;
	while (*got < cap && !s->eof) {
		n = read(s->fd, buf + *got, cap - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mla_fail(diag, MLA_ERR_IO, "cannot read an upload: %s",
					strerror(errno));
		if (n == 0)
			s->eof = 1;
		else if (s->gzip && EVP_DigestUpdate(s->md, buf + *got, (size_t)n) != 1)
			return mla_fail(diag, MLA_ERR_INTERNAL, "SHA-256 failed");
		*got += (size_t)n;
		s->file_bytes += (uint64_t)n;
	}
	return MLA_OK;
}

/* Fills buf with up to cap bytes of plaintext: exactly cap unless the end came. */
static mla_err src_fill(struct plain_src *s, uint8_t *buf, size_t cap, size_t *len,
			mla_diag *diag)
{
	size_t got;
	mla_err r;
	int zr;

	if (!s->gzip)
		return src_read(s, buf, cap, len, diag);
	s->z.next_out = buf;
	s->z.avail_out = (uInt)cap;
	while (s->z.avail_out > 0 && !s->z_end) {
		if (s->z.avail_in == 0 && !s->eof) {
			if ((r = src_read(s, s->in, sizeof s->in, &got, diag)) != MLA_OK)
				return r;
			s->z.next_in = s->in;
			s->z.avail_in = (uInt)got;
		}
		zr = deflate(&s->z, s->eof && s->z.avail_in == 0 ? Z_FINISH : Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			s->z_end = 1;
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return mla_fail(diag, MLA_ERR_INTERNAL, "gzip of an attachment failed");
	}
	*len = cap - s->z.avail_out;
	return MLA_OK;
}

/* ---- one attachment ---- */

struct seal_bufs {
	uint8_t *cur, *next, *ct;
	uint32_t seg;
};

static mla_err write_all(int fd, const uint8_t *p, size_t n, const char *what, mla_diag *diag)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return mla_fail(diag, MLA_ERR_IO, "cannot write %s: %s", what,
					w < 0 ? strerror(errno) : "disk full");
		p += w;
		n -= (size_t)w;
	}
	return MLA_OK;
}

/* The segments: each sealed once the next is read, so that the last is known as last. With
 * plain (an uncompressed file), each segment's plaintext is hashed on plain's thread while
 * this one reads the next, seals and writes it: the buffer it hashes is only read meanwhile,
 * and filled again only after that hash ended (seal_hash_add waits for it). */
static mla_err seal_segments(struct plain_src *src, mla_attach_sealer *sealer,
			     struct seal_bufs *b, int ct_fd, int tree_fd, struct seal_hash *plain,
			     uint64_t *n, mla_diag *diag)
{
	uint8_t leaf[MLA_MERKLE_HASH_LEN], *t;
	size_t cur_len, next_len, ct_len;
	mla_err r;

	*n = 0;
	if ((r = src_fill(src, b->cur, b->seg, &cur_len, diag)) != MLA_OK)
		return r;
	if (plain != NULL)
		seal_hash_add(plain, b->cur, cur_len);
	for (;;) {
		next_len = 0;
		if (cur_len == b->seg && (r = src_fill(src, b->next, b->seg, &next_len, diag)) !=
						 MLA_OK)
			return r;
		if ((r = mla_attach_sealer_segment(sealer, b->cur, cur_len, next_len == 0, b->ct,
						   &ct_len, diag)) != MLA_OK)
			return r;
		mla_attach_sealer_last_leaf(sealer, leaf);
		if ((r = write_all(ct_fd, b->ct, ct_len, "an attachment", diag)) != MLA_OK ||
		    (r = write_all(tree_fd, leaf, sizeof leaf, "an attachment tree", diag)) !=
			    MLA_OK)
			return r;
		if (plain != NULL)
			seal_hash_add(plain, b->next, next_len);
		(*n)++;
		if (next_len == 0)
			return MLA_OK;
		t = b->cur;
		b->cur = b->next;
		b->next = t;
		cur_len = next_len;
	}
}

static mla_err open_new(const char *store, const char *id, unsigned index, enum attach_file k,
			int *fd, mla_diag *diag)
{
	char path[ATTACH_PATH_MAX];
	mla_err r;

	if ((r = attach_file_path(store, id, index, k, path, sizeof path, diag)) != MLA_OK)
		return r;
	if ((*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return mla_fail(diag, MLA_ERR_IO, "attachment %u: cannot create its file: %s", index,
				strerror(errno));
	return MLA_OK;
}

struct seal_one {
	const struct gw_config *c;
	const char *message_id;
	unsigned index;
	const struct submit_attach_spec *spec;
	mla_attachment *out;
};

/* The files of the attachment, then its tree checked against the sealer's root. */
static mla_err seal_files(const struct seal_one *o, struct plain_src *src,
			  struct seal_bufs *b, mla_diag *diag)
{
	mla_attach_sealer *sealer = NULL;
	struct seal_hash *plain = NULL; /* the file's digest beside the sealing, uncompressed */
	char tree[ATTACH_PATH_MAX];
	uint8_t root[MLA_MERKLE_HASH_LEN], plain_md[32];
	int ct_fd = -1, tree_fd = -1;
	uint64_t n = 0;
	mla_err r;

	if ((r = mla_attach_secret_new(o->out->priv.secret)) != MLA_OK ||
	    (r = mla_attach_sealer_new(o->out->priv.secret, o->message_id, o->index, b->seg,
				       o->c->limits.max_attachment_bytes, &sealer, diag)) != MLA_OK ||
	    (!src->gzip && (r = seal_hash_start(&plain, diag)) != MLA_OK))
		goto out;
	if (plain != NULL)
		mla_attach_sealer_no_plain_digest(sealer);
	if ((r = open_new(o->c->store, o->message_id, o->index, ATTACH_CT_PART, &ct_fd, diag)) !=
		    MLA_OK ||
	    (r = open_new(o->c->store, o->message_id, o->index, ATTACH_TREE, &tree_fd, diag)) !=
		    MLA_OK ||
	    (r = seal_segments(src, sealer, b, ct_fd, tree_fd, plain, &n, diag)) != MLA_OK ||
	    (r = mla_attach_sealer_finish(sealer, &o->out->pub, plain != NULL ? NULL : plain_md,
					  diag)) != MLA_OK ||
	    (plain != NULL && (r = seal_hash_finish(plain, plain_md, diag)) != MLA_OK))
		goto out;
	if (close(tree_fd) != 0) {
		tree_fd = -1;
		r = mla_fail(diag, MLA_ERR_IO, "attachment %u: cannot write its tree", o->index);
		goto out;
	}
	tree_fd = -1;
	if ((r = attach_file_path(o->c->store, o->message_id, o->index, ATTACH_TREE, tree,
				  sizeof tree, diag)) != MLA_OK ||
	    (r = attach_tree_build(tree, n, root, diag)) != MLA_OK)
		goto out;
	if (memcmp(root, o->out->pub.root, sizeof root) != 0) {
		r = mla_fail(diag, MLA_ERR_INTERNAL, "attachment %u: tree file and sealer disagree",
			     o->index);
		goto out;
	}
	if (!src->gzip)
		memcpy(o->out->priv.plain_sha256, plain_md, 32);
out:
	if (ct_fd >= 0 && close(ct_fd) != 0 && r == MLA_OK)
		r = mla_fail(diag, MLA_ERR_IO, "attachment %u: cannot write it", o->index);
	if (tree_fd >= 0)
		close(tree_fd);
	seal_hash_free(plain); /* before the buffers it may read are reused or freed */
	mla_attach_sealer_free(sealer);
	return r;
}

static mla_err seal_one(const struct seal_one *o, struct seal_bufs *b, mla_diag *diag)
{
	struct plain_src *src = calloc(1, sizeof(*src));
	char path[UPLOAD_PATH_MAX];
	unsigned int mdlen = 0;
	mla_err r;

	if (src == NULL || (src->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex2(src->md, EVP_sha256(), NULL) != 1) {
		r = mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
		goto out;
	}
	src->fd = -1;
	src->gzip = o->spec->compress;
	if (src->gzip && deflateInit2(&src->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
				 Z_OK) {
		src->gzip = 0;
		r = mla_fail(diag, MLA_ERR_NOMEM, "gzip: out of memory");
		goto out;
	}
	if ((r = upload_complete_path(o->c->store, o->spec->upload, path, sizeof path, diag)) !=
		    MLA_OK)
		goto out;
	if ((src->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = mla_fail(diag, MLA_ERR_IO, "attachment %u: cannot open its upload: %s",
			     o->index, strerror(errno));
		goto out;
	}
	if ((r = seal_files(o, src, b, diag)) != MLA_OK ||
	    (r = attach_file_complete(o->c->store, o->message_id, o->index, diag)) != MLA_OK)
		goto out;
	o->out->priv.plain_size = src->file_bytes;
	o->out->priv.gzip = src->gzip;
	if (src->gzip && EVP_DigestFinal_ex(src->md, o->out->priv.plain_sha256, &mdlen) != 1)
		r = mla_fail(diag, MLA_ERR_INTERNAL, "SHA-256 failed");
	memcpy(o->out->priv.name, o->spec->name, sizeof(o->out->priv.name));
	memcpy(o->out->priv.type, o->spec->type, sizeof(o->out->priv.type));
out:
	if (src != NULL) {
		if (src->gzip)
			deflateEnd(&src->z);
		if (src->fd >= 0)
			close(src->fd);
		EVP_MD_CTX_free(src->md);
		OPENSSL_cleanse(src->in, sizeof src->in);
		free(src);
	}
	return r;
}

mla_err submit_attach_seal(const struct gw_config *c, const char *message_id,
			   const struct submit_attach *a, mla_attach_list *list, mla_diag *diag)
{
	struct seal_bufs b = {NULL, NULL, NULL, (uint32_t)c->attachment_segment_bytes};
	mla_diag ignore = {MLA_OK, ""};
	mla_err r;

	if ((b.cur = malloc(b.seg)) == NULL || (b.next = malloc(b.seg)) == NULL ||
	    (b.ct = malloc((size_t)b.seg + MLA_ATTACH_TAG_LEN)) == NULL) {
		r = mla_fail(diag, MLA_ERR_NOMEM, "out of memory for the attachment segments");
		goto out;
	}
	if ((r = attach_dir_make(c->store, message_id, diag)) != MLA_OK)
		goto out;
	list->n = a->n;
	list->has_private = 1;
	for (size_t i = 0; i < a->n && r == MLA_OK; i++) {
		const struct seal_one o = {c, message_id, (unsigned)(i + 1), &a->item[i],
					   &list->item[i]};
		r = seal_one(&o, &b, diag);
	}
out:
	if (r != MLA_OK)
		(void)attach_dir_remove(c->store, message_id, &ignore);
	if (b.cur != NULL)
		OPENSSL_cleanse(b.cur, b.seg);
	if (b.next != NULL)
		OPENSSL_cleanse(b.next, b.seg);
	free(b.cur);
	free(b.next);
	free(b.ct);
	return r;
}
