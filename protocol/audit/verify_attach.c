/* Audit bundle verification, the attachment files beside a bundle (SPEC 15 "Attachment
 * files", 17.15): each <message id>/<n>.ct of the folder checked with no key against the
 * signed list of the message's verified envelope (mla_attach_checker, one segment in memory
 * at a time), and every file of the folder that no verified list names reported. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "verify_internal.h"

#define ATT_PATH_MAX 4096

/* Reads exactly len bytes at the file's position; 0, or -1 (errno, or 0 at its end). */
static int read_full(int fd, uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t k = read(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = 0;
			return -1;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* Where the segments of fd differ from the signed ones, after the root failed: with the
 * sender's tree file beside (tree_path, "<n>.tree", whose first 32·N bytes are the N leaf
 * hashes, SPEC 17.13), read beside the segments; its leaves are trusted only when they give
 * the signed root. The first segment whose leaf differs into *first and their number into
 * *count; 0, or -1 when there is no such tree (or it is not the signed one). */
static int locate(const char *tree_path, int fd, const mla_attach_entry *e, uint8_t *buf,
		  uint64_t *first, uint64_t *count)
{
	uint8_t leaf[MLA_MERKLE_HASH_LEN], mine[MLA_MERKLE_HASH_LEN], root[MLA_MERKLE_HASH_LEN];
	mla_merkle_compact range;
	FILE *t = fopen(tree_path, "rb");
	int ok = t != NULL && lseek(fd, 0, SEEK_SET) == 0;

	mla_merkle_compact_init(&range);
	*count = 0;
	for (uint64_t k = 0; ok && k < e->segments; k++) {
		size_t len = (size_t)mla_attach_segment_ct_len(e, k);
		ok = fread(leaf, 1, sizeof leaf, t) == sizeof leaf &&
		     mla_merkle_compact_append(&range, leaf) == MLA_OK &&
		     read_full(fd, buf, len) == 0 && mla_merkle_leaf_hash(buf, len, mine) == MLA_OK;
		if (ok && memcmp(leaf, mine, sizeof leaf) != 0 && (*count)++ == 0)
			*first = k;
	}
	ok = ok && mla_merkle_compact_root(&range, root) == MLA_OK &&
	     memcmp(root, e->root, sizeof root) == 0 && *count > 0;
	if (t != NULL)
		fclose(t);
	return ok ? 0 : -1;
}

/* The root failed: the message, naming the segments when the tree file locates them. */
static mla_err root_failed(const char *path, int fd, const mla_attach_entry *e, uint8_t *buf,
			   const char *id, mla_diag *diag)
{
	char tree[ATT_PATH_MAX];
	size_t len = strlen(path);
	uint64_t first = 0, count = 0;

	if (len > 3 && len - 3 + sizeof(".tree") <= sizeof tree) {
		memcpy(tree, path, len - 3);
		memcpy(tree + len - 3, ".tree", sizeof(".tree"));
		if (locate(tree, fd, e, buf, &first, &count) == 0)
			return mla_fail(diag, MLA_ERR_SIG_INVALID, "message %s attachment %u: "
					"segment %llu is not the one signed (%llu of its %llu "
					"segments differ; located with its tree file)", id, e->index,
					(unsigned long long)first, (unsigned long long)count,
					(unsigned long long)e->segments);
	}
	/* the root covers every segment: which one was altered, it cannot say */
	return mla_fail(diag, MLA_ERR_SIG_INVALID, "message %s attachment %u: segments 0 to %llu "
			"do not have the signed Merkle root (one or more altered)", id, e->index,
			(unsigned long long)(e->segments - 1));
}

/* Every segment of the open file fd, in order, through the checker c and buffer buf. */
static mla_err check_segments(const char *path, int fd, const mla_attach_entry *e,
			      mla_attach_checker *c, uint8_t *buf, const char *id, mla_diag *diag)
{
	mla_err r;

	for (uint64_t k = 0; k < e->segments; k++) {
		size_t len = (size_t)mla_attach_segment_ct_len(e, k);
		if (read_full(fd, buf, len) != 0)
			return mla_fail(diag, errno ? MLA_ERR_IO : MLA_ERR_SIG_INVALID,
					"message %s attachment %u: segment %llu cannot be read%s%s",
					id, e->index, (unsigned long long)k, errno ? ": " : "",
					errno ? strerror(errno) : " (the file is short)");
		if ((r = mla_attach_checker_next(c, buf, len, diag)) != MLA_OK)
			return r;
	}
	if (mla_attach_checker_finish(c, diag) != MLA_OK)
		return root_failed(path, fd, e, buf, id, diag);
	return MLA_OK;
}

/* The file's size must be the list's: a short file names the first segment it cuts. */
static mla_err check_size(int fd, const mla_attach_entry *e, const char *id, mla_diag *diag)
{
	struct stat st;
	uint64_t seg = (uint64_t)e->segment_size + 16;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return mla_fail(diag, MLA_ERR_IO, "message %s attachment %u: not a regular file", id,
				e->index);
	if ((uint64_t)st.st_size > e->size)
		return mla_fail(diag, MLA_ERR_SIG_INVALID, "message %s attachment %u: %llu bytes, "
				"the signed list says %llu (bytes after its last segment)", id,
				e->index, (unsigned long long)st.st_size,
				(unsigned long long)e->size);
	if ((uint64_t)st.st_size < e->size)
		return mla_fail(diag, MLA_ERR_SIG_INVALID, "message %s attachment %u: %llu bytes, "
				"the signed list says %llu (truncated in segment %llu of %llu)", id,
				e->index, (unsigned long long)st.st_size,
				(unsigned long long)e->size,
				(unsigned long long)((uint64_t)st.st_size / seg),
				(unsigned long long)e->segments);
	return MLA_OK;
}

mla_err mla_audit_attach_check_file(const char *path, const mla_attach_entry *e,
				    const char *message_id, mla_diag *diag)
{
	mla_attach_checker *c = NULL;
	uint8_t *buf = NULL;
	mla_err r;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return mla_fail(diag, errno == ENOENT ? MLA_ERR_NOT_FOUND : MLA_ERR_IO,
				"message %s attachment %u: cannot open its file: %s", message_id,
				e->index, strerror(errno));
	if ((r = check_size(fd, e, message_id, diag)) != MLA_OK ||
	    (r = mla_attach_checker_new(e, &c, diag)) != MLA_OK)
		goto out;
	/* one segment: at most 2^24 + 16 bytes by the list's rules, whatever the file's size */
	if ((buf = malloc((size_t)e->segment_size + 16)) == NULL) {
		r = mla_fail(diag, MLA_ERR_NOMEM, "out of memory checking an attachment");
		goto out;
	}
	r = check_segments(path, fd, e, c, buf, message_id, diag);
out:
	free(buf);
	mla_attach_checker_free(c);
	close(fd);
	return r;
}

/* Remembers that id's verified list names n attachments (for the scan). */
static int remember(struct vctx *v, const char *id, size_t n)
{
	struct vattmsg *p = mla_grow(v->att_msgs, &v->capatt_msgs, v->natt_msgs, sizeof(*p));

	if (p == NULL)
		return -1;
	v->att_msgs = p;
	p = &v->att_msgs[v->natt_msgs++];
	memset(p, 0, sizeof(*p));
	(void)mla_snprintf_cut(p->id, sizeof(p->id), "%s", id); /* an envelope's verified id */
	p->n = (uint8_t)n;
	return 0;
}

int audit_attach_check(struct vctx *v, const char *id, const mla_attach_list *list)
{
	char path[ATT_PATH_MAX];

	if (remember(v, id, list->n) != 0)
		return -1;
	for (size_t i = 0; i < list->n; i++) {
		const mla_attach_entry *e = &list->item[i].pub;
		mla_diag d = {MLA_OK, ""};
		mla_err r;

		if (mla_snprintf(path, sizeof path, "%s/%s/%u.ct", v->att_dir, id, e->index) !=
		    MLA_OK)
			r = mla_fail(&d, MLA_ERR_IO, "message %s attachment %u: path too long", id,
				     e->index);
		else
			r = mla_audit_attach_check_file(path, e, id, &d);
		if (r == MLA_OK)
			v->fam[F_ATTACH].ok++;
		else if (r == MLA_ERR_NOT_FOUND && !v->att_required)
			v->att_absent++;
		else if (r == MLA_ERR_NOT_FOUND)
			vfail(v, F_ATTACH, MLA_AUDIT_R_MISSING, MLA_BUNDLE_ENVELOPE, id,
			      "message %s attachment %u: listed, but not in the folder", id,
			      e->index);
		else
			vfail(v, F_ATTACH, MLA_AUDIT_R_ATTACHMENT, MLA_BUNDLE_ENVELOPE, id, "%s",
			      mla_diag_message(&d));
	}
	return v->nomem ? -1 : 0;
}

static int cmp_msg(const void *a, const void *b)
{
	return strcmp(((const struct vattmsg *)a)->id, ((const struct vattmsg *)b)->id);
}

/* How many attachments the verified list of message `name` has; 0 for none. */
static unsigned listed(const struct vctx *v, const char *name)
{
	struct vattmsg key;
	const struct vattmsg *m;

	if (strlen(name) != MLA_UUID_LEN)
		return 0;
	memset(&key, 0, sizeof(key));
	memcpy(key.id, name, MLA_UUID_LEN);
	m = bsearch(&key, v->att_msgs, v->natt_msgs, sizeof(key), cmp_msg);
	return m != NULL ? m->n : 0;
}

/* Whether file is "<n>.ct" (or the sender's "<n>.tree") with n from 1 to count, written as
 * the list writes indices. */
static int names_listed(const char *file, unsigned count)
{
	uint64_t n;
	char num[8];
	size_t len = strlen(file), ext;

	if (len > 3 && strcmp(file + len - 3, ".ct") == 0)
		ext = 3;
	else if (len > 5 && strcmp(file + len - 5, ".tree") == 0)
		ext = 5;
	else
		return 0;
	if (len - ext >= sizeof num)
		return 0;
	memcpy(num, file, len - ext);
	num[len - ext] = '\0';
	return num[0] != '0' && mla_parse_u64(num, 1, count, &n) == MLA_OK;
}

static void unlisted(struct vctx *v, const char *what, const char *msg, const char *file)
{
	vfail(v, F_ATTACH, MLA_AUDIT_R_ATTACHMENT_UNLISTED, MLA_BUNDLE_TYPE_N, "",
	      "%s %s%s%s: in the attachments folder, but no verified envelope of the bundle "
	      "lists it", what, msg, file != NULL ? "/" : "", file != NULL ? file : "");
}

/* The files of the message folder msg (named by a listed message's id). */
static int scan_message(struct vctx *v, const char *msg, unsigned count)
{
	char path[ATT_PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (mla_snprintf(path, sizeof path, "%s/%s", v->att_dir, msg) != MLA_OK ||
	    (d = opendir(path)) == NULL) {
		unlisted(v, "entry", msg, NULL); /* not a folder: nothing can list it */
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!names_listed(de->d_name, count))
			unlisted(v, "file", msg, de->d_name);
	}
	closedir(d);
	return 0;
}

int audit_attach_scan(struct vctx *v)
{
	struct dirent *de;
	DIR *d = opendir(v->att_dir);

	if (d == NULL) {
		vfail(v, F_ATTACH, MLA_AUDIT_R_ATTACHMENT, MLA_BUNDLE_TYPE_N, "",
		      "the attachments folder cannot be read: %s", strerror(errno));
		return v->nomem ? -1 : 0;
	}
	qsort(v->att_msgs, v->natt_msgs, sizeof(*v->att_msgs), cmp_msg);
	while ((de = readdir(d)) != NULL) {
		unsigned count;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((count = listed(v, de->d_name)) == 0)
			unlisted(v, "entry", de->d_name, NULL);
		else
			(void)scan_message(v, de->d_name, count);
	}
	closedir(d);
	return v->nomem ? -1 : 0;
}
