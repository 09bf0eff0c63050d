/* Uploads of attachment files (upload.h, SPEC 17.14): paths from the store's own path and a
 * checked random id only; each chunk appended, fdatasynced, then acknowledged; a chunk that
 * cannot be written whole is cut back off so nothing half-accepted remains. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "mlagw/codec.h"
#include "upload.h"

/* "<store folder>/uploads" */
static mla_err upload_dir(const char *store_db, char *out, size_t cap, mla_diag *diag)
{
	const char *slash = strrchr(store_db, '/');
	int n = slash == NULL ? 1 : slash == store_db ? 1 : (int)(slash - store_db);

	if (mla_snprintf(out, cap, "%.*s/uploads", n, slash == NULL ? "." : store_db) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "uploads: store path too long");
	return MLA_OK;
}

static mla_err upload_path(const char *store_db, const char *id, int complete, char *out,
			   size_t cap, mla_diag *diag)
{
	char dir[UPLOAD_PATH_MAX];
	mla_err r;

	if (!upload_id_ok(id))
		return mla_fail(diag, MLA_ERR_ARG, "upload id is not 32 lower-case hex digits");
	if ((r = upload_dir(store_db, dir, sizeof dir, diag)) != MLA_OK)
		return r;
	if (mla_snprintf(out, cap, "%s/%s.%s", dir, id, complete ? "up" : "part") != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "uploads: store path too long");
	return MLA_OK;
}

static mla_err sync_dir(const char *dir, mla_diag *diag)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ok = fd >= 0 && fsync(fd) == 0;
	int e = errno;

	if (fd >= 0)
		close(fd);
	return ok ? MLA_OK
		  : mla_fail(diag, MLA_ERR_IO, "uploads: cannot sync %s: %s", dir, strerror(e));
}

/* The owner's half of an id: hex of the first 8 bytes of SHA-256(owner). */
static void owner_tag(const char *owner, char out[UPLOAD_ID_LEN / 2 + 1])
{
	uint8_t md[SHA256_DIGEST_LENGTH];

	SHA256((const uint8_t *)owner, strlen(owner), md);
	mla_require(mla_hex_encode(md, UPLOAD_ID_LEN / 4, out, UPLOAD_ID_LEN / 2 + 1) == MLA_OK);
}

int upload_owned_by(const char *id, const char *owner)
{
	char tag[UPLOAD_ID_LEN / 2 + 1];

	owner_tag(owner, tag);
	return upload_id_ok(id) && memcmp(id + UPLOAD_ID_LEN / 2, tag, UPLOAD_ID_LEN / 2) == 0;
}

mla_err upload_create(const char *store_db, const char *owner, char id[UPLOAD_ID_LEN + 1],
		      mla_diag *diag)
{
	char dir[UPLOAD_PATH_MAX], path[UPLOAD_PATH_MAX];
	uint8_t rnd[UPLOAD_ID_LEN / 4];
	struct stat st;
	mla_err r;
	int fd;

	if ((r = upload_dir(store_db, dir, sizeof dir, diag)) != MLA_OK)
		return r;
	if (mkdir(dir, 0700) != 0 && !(errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
		return mla_fail(diag, MLA_ERR_IO, "uploads: cannot make %s: %s", dir, strerror(errno));
	if (RAND_bytes(rnd, sizeof rnd) != 1 ||
	    mla_hex_encode(rnd, sizeof rnd, id, UPLOAD_ID_LEN / 2 + 1) != MLA_OK)
		return mla_fail(diag, MLA_ERR_INTERNAL, "uploads: no random id");
	owner_tag(owner, id + UPLOAD_ID_LEN / 2);
	if ((r = upload_path(store_db, id, 0, path, sizeof path, diag)) != MLA_OK)
		return r;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return mla_fail(diag, MLA_ERR_IO, "uploads: cannot create an upload: %s",
				strerror(errno));
	close(fd);
	return sync_dir(dir, diag);
}

static void state_of(const struct stat *st, int complete, struct upload_state *out)
{
	out->received = (uint64_t)st->st_size;
	out->complete = complete;
	out->mtime_ms = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

mla_err upload_stat(const char *store_db, const char *id, struct upload_state *out,
		    mla_diag *diag)
{
	char path[UPLOAD_PATH_MAX];
	struct stat st;
	mla_err r;

	memset(out, 0, sizeof(*out));
	for (int complete = 1; complete >= 0; complete--) {
		if ((r = upload_path(store_db, id, complete, path, sizeof path, diag)) != MLA_OK)
			return r;
		if (stat(path, &st) == 0) {
			state_of(&st, complete, out);
			return MLA_OK;
		}
		if (errno != ENOENT)
			return mla_fail(diag, MLA_ERR_IO, "uploads: cannot stat an upload: %s",
					strerror(errno));
	}
	return mla_fail(diag, MLA_ERR_NOT_FOUND, "no upload %s", id);
}

/* The caps, before any byte is written: offset, size, declared total, free space. */
static mla_err chunk_check(int fd, const struct upload_chunk *c, const struct upload_state *st,
			   enum upload_refusal *why, mla_diag *diag)
{
	struct statvfs vfs;
	uint64_t avail;

	if (c->offset != st->received) {
		*why = UPLOAD_OFFSET;
		return mla_fail(diag, MLA_ERR_ARG, "the chunk starts at byte %llu; the upload holds "
				"%llu bytes", (unsigned long long)c->offset,
				(unsigned long long)st->received);
	}
	if (c->len > UPLOAD_CHUNK_MAX || c->offset + c->len > c->max_bytes) {
		*why = UPLOAD_TOO_LARGE;
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "the upload would exceed %s (%llu bytes)",
				c->len > UPLOAD_CHUNK_MAX ? "the chunk limit" :
				"[limits] max_attachment_bytes",
				(unsigned long long)(c->len > UPLOAD_CHUNK_MAX ? UPLOAD_CHUNK_MAX :
						     c->max_bytes));
	}
	if (c->last && c->total != c->offset + c->len) {
		*why = UPLOAD_BAD_TOTAL;
		return mla_fail(diag, MLA_ERR_ARG, "the declared total %llu is not the end of the "
				"last chunk (%llu)", (unsigned long long)c->total,
				(unsigned long long)(c->offset + c->len));
	}
	if (fstatvfs(fd, &vfs) != 0)
		return mla_fail(diag, MLA_ERR_IO, "uploads: cannot read the free space: %s",
				strerror(errno));
	avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
	if (avail < c->min_free || avail - c->min_free < c->len) {
		*why = UPLOAD_NO_SPACE;
		return mla_fail(diag, MLA_ERR_IO, "not enough free disk space for the chunk (the "
				"gateway keeps [limits] upload_min_free_bytes free); retry later");
	}
	return MLA_OK;
}

/* Writes the whole chunk and makes it durable; on any failure cuts the file back to off. */
static mla_err chunk_write(int fd, const struct upload_chunk *c, enum upload_refusal *why,
			   mla_diag *diag)
{
	size_t done = 0;
	ssize_t n;
	int e = 0;

	while (done < c->len) {
		n = pwrite(fd, c->data + done, c->len - done, (off_t)(c->offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : ENOSPC;
			break;
		}
		done += (size_t)n;
	}
	if (e == 0 && fdatasync(fd) != 0)
		e = errno;
	if (e == 0)
		return MLA_OK;
	if (ftruncate(fd, (off_t)c->offset) != 0 || fdatasync(fd) != 0)
		e = errno; /* reported below; the next stat shows what is held */
	if (e == ENOSPC || e == EDQUOT)
		*why = UPLOAD_NO_SPACE;
	return mla_fail(diag, MLA_ERR_IO, "uploads: cannot write the chunk: %s", strerror(e));
}

/* The last chunk: "<id>.part" becomes "<id>.up", durable in the folder. */
static mla_err mark_complete(const char *store_db, const char *id, mla_diag *diag)
{
	char part[UPLOAD_PATH_MAX], up[UPLOAD_PATH_MAX], dir[UPLOAD_PATH_MAX];
	mla_err r;

	if ((r = upload_path(store_db, id, 0, part, sizeof part, diag)) != MLA_OK ||
	    (r = upload_path(store_db, id, 1, up, sizeof up, diag)) != MLA_OK ||
	    (r = upload_dir(store_db, dir, sizeof dir, diag)) != MLA_OK)
		return r;
	if (rename(part, up) != 0)
		return mla_fail(diag, MLA_ERR_IO, "uploads: cannot complete %s: %s", id,
				strerror(errno));
	return sync_dir(dir, diag);
}

mla_err upload_append(const char *store_db, const char *id, const struct upload_chunk *c,
		      struct upload_state *st, enum upload_refusal *why, mla_diag *diag)
{
	char path[UPLOAD_PATH_MAX];
	struct stat s;
	mla_err r;
	int fd = -1;

	*why = UPLOAD_OK;
	if ((r = upload_stat(store_db, id, st, diag)) != MLA_OK)
		return r;
	if (st->complete) {
		*why = UPLOAD_DONE;
		return mla_fail(diag, MLA_ERR_EXISTS, "the upload is complete (%llu bytes)",
				(unsigned long long)st->received);
	}
	if ((r = upload_path(store_db, id, 0, path, sizeof path, diag)) != MLA_OK)
		return r;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
		r = mla_fail(diag, errno == ENOENT ? MLA_ERR_NOT_FOUND : MLA_ERR_IO,
			     "uploads: cannot open %s: %s", id, strerror(errno));
		goto out;
	}
	/* one writer at a time: a second chunk sent meanwhile is refused, never interleaved */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		*why = UPLOAD_BUSY;
		r = mla_fail(diag, MLA_ERR_EXISTS, "another chunk of this upload is being written");
		goto out;
	}
	if (fstat(fd, &s) != 0) {
		r = mla_fail(diag, MLA_ERR_IO, "uploads: cannot stat %s: %s", id, strerror(errno));
		goto out;
	}
	if (s.st_nlink == 0) { /* removed (deleted, expired) between the open and the lock */
		r = mla_fail(diag, MLA_ERR_NOT_FOUND, "the upload was removed");
		goto out;
	}
	state_of(&s, 0, st);
	if ((r = chunk_check(fd, c, st, why, diag)) != MLA_OK ||
	    (r = chunk_write(fd, c, why, diag)) != MLA_OK)
		goto out;
	st->received = c->offset + c->len;
	if (c->last && (r = mark_complete(store_db, id, diag)) == MLA_OK)
		st->complete = 1;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

mla_err upload_complete_path(const char *store_db, const char *id, char *out, size_t cap,
			     mla_diag *diag)
{
	struct upload_state st;
	mla_err r;

	if ((r = upload_stat(store_db, id, &st, diag)) != MLA_OK)
		return r;
	if (!st.complete)
		return mla_fail(diag, MLA_ERR_NOT_FOUND, "upload %s is not complete (%llu bytes "
				"held; its last chunk declares the total)", id,
				(unsigned long long)st.received);
	return upload_path(store_db, id, 1, out, cap, diag);
}

mla_err upload_remove(const char *store_db, const char *id, mla_diag *diag)
{
	char path[UPLOAD_PATH_MAX];
	mla_err r;

	for (int complete = 0; complete <= 1; complete++) {
		if ((r = upload_path(store_db, id, complete, path, sizeof path, diag)) != MLA_OK)
			return r;
		if (unlink(path) != 0 && errno != ENOENT)
			return mla_fail(diag, MLA_ERR_IO, "uploads: cannot remove %s: %s", id,
					strerror(errno));
	}
	return MLA_OK;
}

/* Removes the upload's file if no chunk is being written to it (its lock free) and it has not
 * changed since before_ms: 1 removed, 0 kept, -1 failed. Under the lock, so a chunk never
 * writes (and is acknowledged) into a file removed under it: upload_append takes the lock
 * and then finds the file unlinked. */
static int expire_one(const char *store_db, const char *id, int64_t before_ms, mla_diag *diag)
{
	char path[UPLOAD_PATH_MAX];
	struct upload_state st;
	struct stat s;
	int fd, gone = 0;

	for (int complete = 0; complete <= 1; complete++) {
		if (upload_path(store_db, id, complete, path, sizeof path, diag) != MLA_OK)
			return -1;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &s) != 0) {
			close(fd); /* a chunk in progress: not idle */
			return 0;
		}
		state_of(&s, complete, &st);
		if (st.mtime_ms >= before_ms) {
			close(fd);
			return 0;
		}
		if (unlink(path) != 0 && errno != ENOENT) {
			(void)mla_fail(diag, MLA_ERR_IO, "uploads: cannot remove %s: %s", id,
				       strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
		gone = 1;
	}
	return gone;
}

/* The id of a file name "<id>.part" or "<id>.up" into id; 0 for any other name. */
static int name_id(const char *name, char id[UPLOAD_ID_LEN + 1])
{
	const char *dot = strchr(name, '.');

	if (dot == NULL || dot - name != UPLOAD_ID_LEN ||
	    (strcmp(dot, ".part") != 0 && strcmp(dot, ".up") != 0))
		return 0;
	memcpy(id, name, UPLOAD_ID_LEN);
	id[UPLOAD_ID_LEN] = '\0';
	return upload_id_ok(id);
}

mla_err upload_expire(const char *store_db, int64_t before_ms, size_t *n, mla_diag *diag)
{
	size_t owned = 0;

	return upload_expire_count(store_db, before_ms, NULL, n, &owned, diag);
}

mla_err upload_expire_count(const char *store_db, int64_t before_ms, const char *owner,
			    size_t *n, size_t *owned, mla_diag *diag)
{
	char dir[UPLOAD_PATH_MAX], id[UPLOAD_ID_LEN + 1];
	struct upload_state st;
	struct dirent *de;
	mla_err r = MLA_OK;
	DIR *d;

	*n = *owned = 0;
	if ((r = upload_dir(store_db, dir, sizeof dir, diag)) != MLA_OK)
		return r;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? MLA_OK
				       : mla_fail(diag, MLA_ERR_IO, "uploads: cannot read %s: %s",
						  dir, strerror(errno));
	while (r == MLA_OK && (de = readdir(d)) != NULL) {
		if (!name_id(de->d_name, id) || upload_stat(store_db, id, &st, diag) != MLA_OK)
			continue;
		if (st.mtime_ms >= before_ms) {
			if (owner != NULL && upload_owned_by(id, owner))
				(*owned)++;
			continue;
		}
		switch (expire_one(store_db, id, before_ms, diag)) {
		case 1: (*n)++; break;
		case 0: /* written to meanwhile: kept, and its owner's */
			if (owner != NULL && upload_owned_by(id, owner))
				(*owned)++;
			break;
		default: r = MLA_ERR_IO; /* diag says which */
		}
	}
	closedir(d);
	return r;
}
