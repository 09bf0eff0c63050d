/* The attachment folders and files of SPEC 17.13 and their durable creation, completion
 * and removal. Paths are built only from the store's own path, a checked UUID and a number. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/attach_files.h"
#include "mlagw/attach.h"
#include "mlagw/codec.h"

static const char *const suffix[] = {
	[ATTACH_CT] = "ct",
	[ATTACH_CT_PART] = "ct.part",
	[ATTACH_TREE] = "tree",
};

/* A MessageId as every envelope carries it: 8-4-4-4-12 lower-case hex digits. */
static int is_message_id(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return i == 36 && s[i] == '\0';
}

/* The store's folder: store_db up to its last '/', or "." */
static mla_err store_folder(const char *store_db, char *out, size_t cap, mla_diag *diag)
{
	const char *slash = strrchr(store_db, '/');
	size_t len = slash == NULL ? 1 : (slash == store_db ? 1 : (size_t)(slash - store_db));

	if (len >= cap)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments: store path too long");
	memcpy(out, slash == NULL ? "." : store_db, len);
	out[len] = '\0';
	return MLA_OK;
}

mla_err attach_dir_path(const char *store_db, const char *message_id, char *out, size_t cap,
			mla_diag *diag)
{
	char base[ATTACH_PATH_MAX];
	mla_err r;

	if (!is_message_id(message_id))
		return mla_fail(diag, MLA_ERR_ARG, "attachments: message id is not a lower-case UUID");
	if ((r = store_folder(store_db, base, sizeof base, diag)) != MLA_OK)
		return r;
	if (mla_snprintf(out, cap, "%s/attachments/%s", base, message_id) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments: store path too long");
	return MLA_OK;
}

mla_err attach_file_path(const char *store_db, const char *message_id, unsigned index,
			 enum attach_file kind, char *out, size_t cap, mla_diag *diag)
{
	char dir[ATTACH_PATH_MAX];
	mla_err r;

	if (index < 1 || index > 64 || (unsigned)kind > ATTACH_TREE)
		return mla_fail(diag, MLA_ERR_ARG, "attachments: no attachment %u", index);
	if ((r = attach_dir_path(store_db, message_id, dir, sizeof dir, diag)) != MLA_OK)
		return r;
	if (mla_snprintf(out, cap, "%s/%u.%s", dir, index, suffix[kind]) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments: store path too long");
	return MLA_OK;
}

static mla_err sync_folder(const char *path, mla_diag *diag)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ok = fd >= 0 && fsync(fd) == 0;
	int e = errno;

	if (fd >= 0)
		close(fd);
	if (!ok)
		return mla_fail(diag, MLA_ERR_IO, "attachments: cannot sync folder %s: %s", path,
				strerror(e));
	return MLA_OK;
}

/* mkdir 0700 unless it exists as a folder; a new one is made durable in its parent. */
static mla_err make_folder(const char *path, const char *parent, mla_diag *diag)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return sync_folder(parent, diag);
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return MLA_OK;
	return mla_fail(diag, MLA_ERR_IO, "attachments: cannot make folder %s: %s", path,
			strerror(errno));
}

mla_err attach_dir_make(const char *store_db, const char *message_id, mla_diag *diag)
{
	char base[ATTACH_PATH_MAX], top[ATTACH_PATH_MAX], dir[ATTACH_PATH_MAX];
	mla_err r;

	if ((r = attach_dir_path(store_db, message_id, dir, sizeof dir, diag)) != MLA_OK ||
	    (r = store_folder(store_db, base, sizeof base, diag)) != MLA_OK)
		return r;
	if (mla_snprintf(top, sizeof top, "%s/attachments", base) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments: store path too long");
	if ((r = make_folder(top, base, diag)) != MLA_OK)
		return r;
	return make_folder(dir, top, diag);
}

mla_err attach_file_complete(const char *store_db, const char *message_id, unsigned index,
			     mla_diag *diag)
{
	char part[ATTACH_PATH_MAX], done[ATTACH_PATH_MAX], dir[ATTACH_PATH_MAX];
	mla_err r;
	int fd, ok;

	if ((r = attach_file_path(store_db, message_id, index, ATTACH_CT_PART, part, sizeof part,
				  diag)) != MLA_OK ||
	    (r = attach_file_path(store_db, message_id, index, ATTACH_CT, done, sizeof done,
				  diag)) != MLA_OK ||
	    (r = attach_dir_path(store_db, message_id, dir, sizeof dir, diag)) != MLA_OK)
		return r;
	fd = open(part, O_RDONLY | O_CLOEXEC);
	ok = fd >= 0 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok || rename(part, done) != 0)
		return mla_fail(diag, MLA_ERR_IO, "attachments: cannot complete attachment %u of %s: %s",
				index, message_id, strerror(errno));
	return sync_folder(dir, diag);
}

mla_err attach_dir_remove(const char *store_db, const char *message_id, mla_diag *diag)
{
	char dir[ATTACH_PATH_MAX], path[ATTACH_PATH_MAX];
	struct dirent *de;
	DIR *d;
	mla_err r;

	if ((r = attach_dir_path(store_db, message_id, dir, sizeof dir, diag)) != MLA_OK)
		return r;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? MLA_OK
				       : mla_fail(diag, MLA_ERR_IO, "attachments: cannot read %s: %s",
						  dir, strerror(errno));
	/* the folder is the gateway's own: every file in it belongs to this message */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (mla_snprintf(path, sizeof path, "%s/%s", dir, de->d_name) != MLA_OK ||
		    unlink(path) != 0) {
			closedir(d);
			return mla_fail(diag, MLA_ERR_IO, "attachments: cannot remove a file of %s",
					dir);
		}
	}
	closedir(d);
	if (rmdir(dir) != 0)
		return mla_fail(diag, MLA_ERR_IO, "attachments: cannot remove %s: %s", dir,
				strerror(errno));
	return MLA_OK;
}

int attach_is_message_id(const char *s)
{
	return is_message_id(s);
}

int attach_file_kind(const char *name)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < 2 && name[i] >= '0' && name[i] <= '9'; i++)
		n = n * 10 + (unsigned)(name[i] - '0');
	if (name[0] == '0' || n < 1 || n > MLA_ATTACH_MAX || name[i] != '.')
		return -1;
	for (int k = ATTACH_CT; k <= ATTACH_TREE; k++)
		if (strcmp(name + i + 1, suffix[k]) == 0)
			return k;
	return -1;
}

mla_err attach_root_path(const char *store_db, char *out, size_t cap, mla_diag *diag)
{
	char base[ATTACH_PATH_MAX];
	mla_err r;

	if ((r = store_folder(store_db, base, sizeof base, diag)) != MLA_OK)
		return r;
	if (mla_snprintf(out, cap, "%s/attachments", base) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments: store path too long");
	return MLA_OK;
}

mla_err attach_root_file(const char *root, const char *message_id, unsigned index,
			 enum attach_file kind, char *out, size_t cap, mla_diag *diag)
{
	if (!is_message_id(message_id) || index < 1 || index > 64 || (unsigned)kind > ATTACH_TREE)
		return mla_fail(diag, MLA_ERR_ARG, "attachments: no attachment %u", index);
	if (mla_snprintf(out, cap, "%s/%s/%u.%s", root, message_id, index, suffix[kind]) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachments: path too long");
	return MLA_OK;
}
