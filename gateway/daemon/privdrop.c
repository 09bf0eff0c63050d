/* Giving up root (see privdrop.h). The groups come from initgroups, as systemd's User= and
 * login set them, so a daemon started as root and one started by systemd as the user have
 * the same rights. */
#define _GNU_SOURCE /* setresuid, setresgid */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "mlagw/codec.h"
#include "privdrop.h"

static const struct privdrop_user *assumed; /* set by privdrop_assume; bind borrows root */

static mla_err lookup(const char *name, struct privdrop_user *u, mla_diag *diag)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int e = getpwnam_r(name, &pw, buf, sizeof(buf), &found);

	if (found == NULL)
		return mla_fail(diag, MLA_ERR_CONFIG, "[daemon] user %s: %s", name,
				e != 0 ? strerror(e) : "no such user");
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	return mla_strcpy(u->name, sizeof(u->name), name);
}

mla_err privdrop_plan(const struct gw_config *c, struct privdrop_user *daemon,
		      struct privdrop_user *keyholder, int *active, mla_diag *diag)
{
	const char *kh = c->keyholder_user[0] != '\0' ? c->keyholder_user : c->daemon_user;
	mla_err r;

	*active = 0;
	if (geteuid() != 0) {
		if (c->daemon_user[0] != '\0' && (lookup(c->daemon_user, daemon, NULL) != MLA_OK ||
						  daemon->uid != geteuid()))
			gw_log(GW_LOG_WARN, "not-root", NULL, "uid=%ld reason=\"started unprivileged: "
			       "[daemon] user is not applied\"", (long)geteuid());
		return MLA_OK;
	}
	if (c->daemon_user[0] == '\0')
		return c->root_allowed ? MLA_OK : mla_fail(diag, MLA_ERR_CONFIG, "refusing to run as "
			"root: set [daemon] user (or [daemon] allow_root = true)");
	if ((r = lookup(c->daemon_user, daemon, diag)) != MLA_OK ||
	    (r = lookup(kh, keyholder, diag)) != MLA_OK)
		return r;
	if ((daemon->uid == 0 || keyholder->uid == 0) && !c->root_allowed)
		return mla_fail(diag, MLA_ERR_CONFIG, "refusing to run as root: [daemon] user or "
				"keyholder_user is root (or set [daemon] allow_root = true)");
	*active = daemon->uid != 0;
	return MLA_OK;
}

static mla_err fail_errno(mla_diag *diag, const char *what, const struct privdrop_user *u)
{
	return mla_fail(diag, MLA_ERR_INTERNAL, "cannot become user %s: %s: %s", u->name, what,
			strerror(errno));
}

mla_err privdrop_assume(const struct privdrop_user *u, mla_diag *diag)
{
	if (initgroups(u->name, u->gid) != 0)
		return fail_errno(diag, "initgroups", u);
	if (setresgid((gid_t)-1, u->gid, 0) != 0)
		return fail_errno(diag, "setresgid", u);
	if (setresuid((uid_t)-1, u->uid, 0) != 0)
		return fail_errno(diag, "setresuid", u);
	assumed = u;
	return MLA_OK;
}

mla_err privdrop_bind_begin(mla_diag *diag)
{
	if (assumed != NULL && seteuid(0) != 0)
		return fail_errno(diag, "seteuid(0) to bind", assumed);
	return MLA_OK;
}

mla_err privdrop_bind_end(mla_diag *diag)
{
	if (assumed != NULL && seteuid(assumed->uid) != 0)
		return fail_errno(diag, "seteuid after binding", assumed);
	return MLA_OK;
}

mla_err privdrop_become(const struct privdrop_user *u, mla_diag *diag)
{
	if (geteuid() != 0 && getuid() == 0 && seteuid(0) != 0) /* assumed: root back to give it up */
		return fail_errno(diag, "seteuid(0)", u);
	if (initgroups(u->name, u->gid) != 0)
		return fail_errno(diag, "initgroups", u);
	if (setresgid(u->gid, u->gid, u->gid) != 0)
		return fail_errno(diag, "setresgid", u);
	if (setresuid(u->uid, u->uid, u->uid) != 0)
		return fail_errno(diag, "setresuid", u);
	/* no way back: a process that could regain root has given nothing up */
	if (u->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0 || (u->gid != 0 && setgid(0) == 0) ||
			    getuid() != u->uid || geteuid() != u->uid || getgid() != u->gid))
		return mla_fail(diag, MLA_ERR_INTERNAL, "user %s: root could be regained", u->name);
	assumed = NULL;
	return MLA_OK;
}
