/* The attachment files of a backup (attach_check.h, attach_backup.h): each listed file copied
 * from one attachments root to another in pieces of 1 MiB (memory does not grow with the
 * file) into "<file>.part", fsynced, renamed, the folder fsynced; never over a file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/attach_backup.h"
#include "attach/attach_files.h"
#include "mlagw/codec.h"

#define PIECE ((size_t)1 << 20)

static mla_err sync_dir(const char *path, mla_diag *diag)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ok = fd >= 0 && fsync(fd) == 0;

	if (fd >= 0)
		(void)close(fd);
	return ok ? MLA_OK : mla_fail(diag, MLA_ERR_IO, "attachments: cannot sync a folder: %s",
				      strerror(errno));
}

/* mkdir 0700 (an existing folder is kept), its parent fsynced when it is new. */
static mla_err make_dir(const char *path, mla_diag *diag)
{
	char parent[ATTACH_PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t len = slash == NULL ? 0 : (slash == path ? 1 : (size_t)(slash - path));

	if (mkdir(path, 0700) != 0)
		return errno == EEXIST ? MLA_OK
				       : mla_fail(diag, MLA_ERR_IO, "cannot create %s: %s", path,
						  strerror(errno));
	if (len >= sizeof(parent))
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments: path too long");
	memcpy(parent, len == 0 ? "." : path, len == 0 ? 1 : len);
	parent[len == 0 ? 1 : len] = '\0';
	return sync_dir(parent, diag);
}

static mla_err pump(int in, int out, uint8_t *buf, uint64_t *bytes, mla_diag *diag)
{
	ssize_t n, w;

	while ((n = read(in, buf, PIECE)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mla_fail(diag, MLA_ERR_IO, "attachments: read: %s", strerror(errno));
		for (ssize_t off = 0; off < n; off += w)
			if ((w = write(out, buf + off, (size_t)(n - off))) < 0) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				return mla_fail(diag, MLA_ERR_IO, "attachments: write: %s",
						strerror(errno));
			}
		*bytes += (uint64_t)n;
	}
	return fsync(out) == 0 ? MLA_OK
			       : mla_fail(diag, MLA_ERR_IO, "attachments: sync: %s", strerror(errno));
}

mla_err attach_copy_file(const char *src, const char *dst, uint64_t *bytes, mla_diag *diag)
{
	char part[ATTACH_PATH_MAX + 8];
	uint8_t *buf = malloc(PIECE);
	int in = -1, out = -1;
	mla_err r;

	if (buf == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	if (mla_snprintf(part, sizeof(part), "%s.part", dst) != MLA_OK) {
		r = mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments: path too long");
	} else if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		r = mla_fail(diag, MLA_ERR_IO, "cannot read %s: %s", src, strerror(errno));
	} else if ((out = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		r = mla_fail(diag, errno == EEXIST ? MLA_ERR_EXISTS : MLA_ERR_IO,
			     "cannot create %s: %s", part, strerror(errno));
	} else {
		r = pump(in, out, buf, bytes, diag);
	}
	free(buf);
	if (in >= 0)
		(void)close(in);
	if (out >= 0 && close(out) != 0 && r == MLA_OK)
		r = mla_fail(diag, MLA_ERR_IO, "cannot close %s", part);
	/* link + unlink: never over a file someone else put there */
	if (r == MLA_OK && link(part, dst) != 0)
		r = mla_fail(diag, errno == EEXIST ? MLA_ERR_EXISTS : MLA_ERR_IO,
			     "cannot create %s: %s", dst, strerror(errno));
	if (out >= 0)
		(void)unlink(part);
	return r;
}

struct copy {
	const char *dst_root;
	struct attach_backup_result *res;
	char last[64];
};

static mla_err copy_one(const char *src, const char *dst, struct copy *c, mla_diag *diag)
{
	uint64_t bytes = 0;
	mla_err r = attach_copy_file(src, dst, &bytes, diag);

	if (r == MLA_OK)
		c->res->bytes += bytes;
	return r;
}

static mla_err copy_file(const char *id, const mla_attach_entry *e, int in_progress,
			 const char *path, void *arg, mla_diag *diag)
{
	struct copy *c = arg;
	char dir[ATTACH_PATH_MAX], dst[ATTACH_PATH_MAX], tree[ATTACH_PATH_MAX];
	size_t n = strlen(path);
	int part = n > 5 && strcmp(path + n - 5, ".part") == 0;
	mla_err r;

	if (e == NULL || path[0] == '\0') {
		c->res->missing++; /* the check of the copy names it */
		return MLA_OK;
	}
	if (strcmp(c->last, id) != 0) {
		if (mla_snprintf(dir, sizeof(dir), "%s/%s", c->dst_root, id) != MLA_OK)
			return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments: path too long");
		if ((r = make_dir(c->dst_root, diag)) != MLA_OK ||
		    (r = make_dir(dir, diag)) != MLA_OK)
			return r;
		c->res->messages++;
		if (mla_strcpy(c->last, sizeof(c->last), id) != MLA_OK)
			c->last[0] = '\0';
	}
	/* a transfer in progress stays one: its status (schema 13 rows) says what is held */
	if ((r = attach_root_file(c->dst_root, id, e->index, in_progress ? ATTACH_CT_PART : ATTACH_CT,
				  dst, sizeof(dst), diag)) != MLA_OK ||
	    (r = copy_one(path, dst, c, diag)) != MLA_OK)
		return r;
	c->res->files++;
	c->res->parts += in_progress != 0;
	/* the sender's tree file, from which it answers for proofs (absent on a receiver) */
	if (mla_snprintf(tree, sizeof(tree), "%.*s.tree", (int)(n - (part ? 8 : 3)), path) ==
		    MLA_OK && access(tree, F_OK) == 0) {
		if ((r = attach_root_file(c->dst_root, id, e->index, ATTACH_TREE, dst, sizeof(dst),
					  diag)) != MLA_OK || (r = copy_one(tree, dst, c, diag)) != MLA_OK)
			return r;
		c->res->trees++;
	}
	if (mla_snprintf(dir, sizeof(dir), "%s/%s", c->dst_root, id) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments: path too long");
	return sync_dir(dir, diag);
}

mla_err attach_backup_run(store_reader *r, const char *src_root, const char *dst_root,
			  struct attach_backup_result *res, mla_diag *diag)
{
	struct copy c = {dst_root, res, ""};

	memset(res, 0, sizeof(*res));
	return attach_walk(r, src_root, copy_file, &c, diag);
}

/* Removes what attach_backup_run wrote under dst_root (two levels, no more). */
void attach_backup_remove(const char *dst_root)
{
	char dir[ATTACH_PATH_MAX], file[ATTACH_PATH_MAX * 2];
	struct dirent *de, *fe;
	DIR *dp = opendir(dst_root), *fp;

	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (!attach_is_message_id(de->d_name) ||
		    mla_snprintf(dir, sizeof(dir), "%s/%s", dst_root, de->d_name) != MLA_OK ||
		    (fp = opendir(dir)) == NULL)
			continue;
		while ((fe = readdir(fp)) != NULL)
			if (fe->d_name[0] != '.' &&
			    mla_snprintf(file, sizeof(file), "%s/%s", dir, fe->d_name) == MLA_OK)
				(void)unlink(file);
		(void)closedir(fp);
		(void)rmdir(dir);
	}
	(void)closedir(dp);
	(void)rmdir(dst_root);
}
