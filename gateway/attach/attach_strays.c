/* The folders a gateway killed mid-reservation or mid-sealing leaves (attach_strays.h). */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "attach_strays.h"
#include "attach_files.h"
#include "mlagw/codec.h"

/* Whether the folder is one no acknowledgement covers, its files counted in out: nothing but
 * part files or nothing (a receiver's reservation), or a sender's sealing cut short: trees,
 * complete files and at least one part file (a sender's row is stored only once every file
 * of it is complete, so no message was ever queued with it). Regular files only. */
static int removable(const char *dir, struct attach_stray *out)
{
	char path[ATTACH_PATH_MAX];
	unsigned seen[ATTACH_TREE + 1] = {0};
	struct dirent *de;
	struct stat st;
	DIR *dp = opendir(dir);
	int ok = dp != NULL;

	while (ok && (de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int k = attach_file_kind(de->d_name);
		ok = k >= 0 &&
		     mla_snprintf(path, sizeof path, "%s/%s", dir, de->d_name) == MLA_OK &&
		     lstat(path, &st) == 0 && S_ISREG(st.st_mode);
		if (ok) {
			seen[k]++;
			out->files++;
			out->bytes += (uint64_t)st.st_size;
		}
	}
	if (dp != NULL)
		(void)closedir(dp);
	out->sealing = seen[ATTACH_TREE] > 0;
	if (!ok)
		return 0;
	return out->sealing ? seen[ATTACH_CT_PART] > 0 : seen[ATTACH_CT] == 0;
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
		    !removable(dir, &s))
			continue;
		memcpy(s.message_id, de->d_name, sizeof s.message_id - 1);
		s.err = attach_dir_remove(store_db, de->d_name, &s.diag);
		fn(&s, arg);
	}
	(void)closedir(dp);
	return e;
}
