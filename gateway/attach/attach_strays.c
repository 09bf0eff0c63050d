/* The folders a receiver killed mid-reservation leaves (attach_strays.h). */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "attach_strays.h"
#include "attach_files.h"
#include "mlagw/codec.h"

/* "<n>.ct.part", n from 1 to 64 without a leading zero. */
static int part_name(const char *s)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < 2 && s[i] >= '0' && s[i] <= '9'; i++)
		n = n * 10 + (unsigned)(s[i] - '0');
	return s[0] != '0' && n >= 1 && n <= 64 && strcmp(s + i, ".ct.part") == 0;
}

/* Whether the folder holds nothing but part files (or nothing); their count and bytes. */
static int parts_only(const char *dir, struct attach_stray *out)
{
	char path[ATTACH_PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *dp = opendir(dir);
	int only = dp != NULL;

	while (only && (de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		only = part_name(de->d_name) &&
		       mla_snprintf(path, sizeof path, "%s/%s", dir, de->d_name) == MLA_OK &&
		       lstat(path, &st) == 0 && S_ISREG(st.st_mode);
		if (only) {
			out->files++;
			out->bytes += (uint64_t)st.st_size;
		}
	}
	if (dp != NULL)
		(void)closedir(dp);
	return only;
}

mla_err attach_strays_remove(const char *store_db, store_reader *r, attach_stray_fn fn,
			     void *arg, mla_diag *diag)
{
	char root[ATTACH_PATH_MAX], dir[ATTACH_PATH_MAX];
	struct attach_stray s;
	struct dirent *de;
	DIR *dp;
	mla_err e = MLA_OK;
	int known;

	if ((e = attach_root_path(store_db, root, sizeof root, diag)) != MLA_OK)
		return e;
	if ((dp = opendir(root)) == NULL)
		return MLA_OK; /* no attachments yet */
	while (e == MLA_OK && (de = readdir(dp)) != NULL) {
		if (!attach_is_message_id(de->d_name))
			continue; /* ".", "..", and names outside the layout: the check reports them */
		if ((e = store_reader_attach_known(r, de->d_name, &known, diag)) != MLA_OK)
			break;
		memset(&s, 0, sizeof s);
		if (known || mla_snprintf(dir, sizeof dir, "%s/%s", root, de->d_name) != MLA_OK ||
		    !parts_only(dir, &s))
			continue;
		memcpy(s.message_id, de->d_name, sizeof s.message_id - 1);
		s.err = attach_dir_remove(store_db, de->d_name, &s.diag);
		fn(&s, arg);
	}
	(void)closedir(dp);
	return e;
}
