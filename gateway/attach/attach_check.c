/* The attachment files checked against the store's listing (attach_check.h). The walk reads
 * each version 3 envelope's signed list (its namespace already filtered by the store, the
 * list read without the signature: the files are checked against what the store holds, the
 * signature was checked when the envelope was accepted); the check stats each file, and
 * with ATTACH_CHECK_DEEP streams each complete one through its Merkle root. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "attach/attach_check.h"
#include "attach/attach_files.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"
#include "mlagw/limits.h"

struct walk {
	const char *root;
	attach_file_fn fn;
	void *arg;
	mla_limits lim;
};

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The file of e found under root: "<n>.ct", or while in progress "<n>.ct.part" first. */
static mla_err find_file(const struct walk *w, const char *id, unsigned index,
			 int in_progress, char path[ATTACH_PATH_MAX], mla_diag *diag)
{
	mla_err r;

	if (in_progress) {
		if ((r = attach_root_file(w->root, id, index, ATTACH_CT_PART, path,
					  ATTACH_PATH_MAX, diag)) != MLA_OK || is_file(path))
			return r;
	}
	if ((r = attach_root_file(w->root, id, index, ATTACH_CT, path, ATTACH_PATH_MAX, diag)) !=
		    MLA_OK)
		return r;
	if (!is_file(path))
		path[0] = '\0';
	return MLA_OK;
}

static mla_err msg_row(const struct store_attach_msg_row *row, void *arg)
{
	struct walk *w = arg;
	char path[ATTACH_PATH_MAX];
	mla_attach_list *att = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_header h;
	mla_err r;

	if (row->envelope == NULL ||
	    mla_envelope_attach_list_unsigned(row->envelope, row->envelope_len, &w->lim, &h, &att,
					      &d) != MLA_OK || att == NULL) {
		/* a version 3 envelope whose list cannot be read: told as index 0 */
		mla_attach_list_free(att);
		return w->fn(row->message_id, NULL, row->in_progress, "", w->arg, &d);
	}
	r = MLA_OK;
	for (size_t i = 0; i < att->n && r == MLA_OK; i++) {
		const mla_attach_entry *e = &att->item[i].pub;
		if ((r = find_file(w, row->message_id, e->index, row->in_progress, path, &d)) ==
		    MLA_OK)
			r = w->fn(row->message_id, e, row->in_progress, path, w->arg, &d);
	}
	mla_attach_list_free(att);
	return r;
}

mla_err attach_walk(store_reader *r, const char *root, attach_file_fn fn, void *arg,
		    mla_diag *diag)
{
	struct walk w = {root, fn, arg, {0}};

	mla_limits_default(&w.lim);
	return store_reader_attach_msgs(r, msg_row, &w, diag);
}

/* ---- the check ---- */

struct check {
	struct attach_check_result *res;
	unsigned flags;
	const volatile int *stop;
	char last[64]; /* the message last counted */
};

static void fail(struct check *c, const char *id, unsigned index, const char *why)
{
	if (c->res->bad++ == 0)
		(void)mla_snprintf_cut(c->res->first_bad, sizeof(c->res->first_bad),
				       "message %s attachment %u: %s", id, index, why);
}

static mla_err check_file(const char *id, const mla_attach_entry *e, int in_progress,
			  const char *path, void *arg, mla_diag *diag)
{
	struct check *c = arg;
	char why[MLA_DIAG_MAX];
	mla_diag d = {MLA_OK, ""};
	struct stat st;
	size_t n = strlen(path);

	if (c->stop != NULL && *c->stop)
		return mla_fail(diag, MLA_ERR_INTERNAL, "attachments: check stopped");
	if (strcmp(c->last, id) != 0) {
		c->res->messages++;
		if (mla_strcpy(c->last, sizeof(c->last), id) != MLA_OK)
			c->last[0] = '\0';
	}
	if (e == NULL) {
		(void)mla_snprintf_cut(why, sizeof(why), "its envelope's list cannot be read (%s)",
				       mla_diag_message(diag));
		fail(c, id, 0, why);
		return MLA_OK;
	}
	if (path[0] == '\0' || stat(path, &st) != 0) {
		fail(c, id, e->index, in_progress ? "missing (neither the part file of the transfer "
			"in progress nor the complete file)" : "missing");
		return MLA_OK;
	}
	c->res->files++;
	c->res->bytes += (uint64_t)st.st_size;
	if (n > 5 && strcmp(path + n - 5, ".part") == 0)
		c->res->parts++;
	if ((uint64_t)st.st_size != e->size) {
		(void)mla_snprintf_cut(why, sizeof(why), "%llu bytes, the signed list gives %llu",
				       (unsigned long long)st.st_size, (unsigned long long)e->size);
		fail(c, id, e->index, why);
		return MLA_OK;
	}
	if ((c->flags & ATTACH_CHECK_DEEP) && !(n > 5 && strcmp(path + n - 5, ".part") == 0)) {
		c->res->deep++;
		if (mla_audit_attach_check_file(path, e, id, &d) != MLA_OK)
			fail(c, id, e->index, mla_diag_message(&d));
	}
	return MLA_OK;
}

static void stray(struct check *c, const char *what, const char *name)
{
	if (c->res->strays++ == 0)
		(void)mla_snprintf_cut(c->res->first_stray, sizeof(c->res->first_stray), "%s%s",
				       what, name);
}

static void scan_folder(struct check *c, const char *root, const char *id)
{
	char dir[ATTACH_PATH_MAX];
	struct dirent *de;
	DIR *dp;

	if (mla_snprintf(dir, sizeof(dir), "%s/%s", root, id) != MLA_OK ||
	    (dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    attach_file_kind(de->d_name) < 0)
			stray(c, "a file in the folder of message ", id);
	(void)closedir(dp);
}

/* Folders no message of the store lists, and files the layout does not name. */
static mla_err strays(struct check *c, store_reader *r, const char *root, mla_diag *diag)
{
	struct dirent *de;
	mla_err e = MLA_OK;
	DIR *dp = opendir(root);
	int known;

	if (dp == NULL)
		return MLA_OK; /* no attachments yet: any listed file was counted missing */
	while (e == MLA_OK && (de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (!attach_is_message_id(de->d_name)) {
			stray(c, "not a message folder: ", "(a name outside the layout)");
			continue;
		}
		if ((e = store_reader_attach_known(r, de->d_name, &known, diag)) != MLA_OK)
			break;
		if (!known)
			stray(c, "the folder of a message the store does not hold: ", de->d_name);
		else
			scan_folder(c, root, de->d_name);
	}
	(void)closedir(dp);
	return e;
}

mla_err attach_check_run(store_reader *r, const char *root, unsigned flags,
			 const volatile int *stop, struct attach_check_result *res,
			 mla_diag *diag)
{
	struct check c = {res, flags, stop, ""};
	mla_err e;

	memset(res, 0, sizeof(*res));
	if ((e = attach_walk(r, root, check_file, &c, diag)) != MLA_OK)
		return e;
	return strays(&c, r, root, diag);
}
