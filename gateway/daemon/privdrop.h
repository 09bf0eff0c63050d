/* Started as root, mlagwd's processes become the unprivileged users [daemon] names (issue 17
 * §3, docs/keys.md "Least privilege"): the network daemon works as its user from before its
 * store is opened (only binding its listeners borrows root back), then gives root up for good
 * once it has started; the keyholder gives it up as soon as it is forked. */
#ifndef MLAGW_GATEWAY_PRIVDROP_H
#define MLAGW_GATEWAY_PRIVDROP_H

#include <sys/types.h>

#include "conf/config.h"
#include "mlagw/error.h"

struct privdrop_user {
	char name[GW_NAME_MAX];
	uid_t uid;
	gid_t gid; /* the passwd entry's group; supplementary groups from the group database */
};

/* Who the daemon and the keyholder are to become, from c and the user running this: *active
 * is 0 when nothing is to change (not root, or root allowed without a user). Root without
 * [daemon] user, or a user that is root, is refused unless allow_root = true; a user with no
 * passwd entry is refused. Not root, a configured user other than the running one is only
 * warned about (systemd's User= already chose). */
mla_err privdrop_plan(const struct gw_config *c, struct privdrop_user *daemon,
		      struct privdrop_user *keyholder, int *active, mla_diag *diag);

/* The effective ids become u's (groups first, then the gid, then the uid); the real and saved
 * ids stay root, so privdrop_bind_begin can borrow root back to bind a low port. */
mla_err privdrop_assume(const struct privdrop_user *u, mla_diag *diag);

/* Root back for binding listeners, and u's ids again after; no-ops unless assumed. */
mla_err privdrop_bind_begin(mla_diag *diag);
mla_err privdrop_bind_end(mla_diag *diag);

/* For good: setgroups, setgid, setuid (real, effective and saved), then checks that root
 * cannot be regained (setuid(0) and setgid(0) must fail). Every thread follows (glibc). */
mla_err privdrop_become(const struct privdrop_user *u, mla_diag *diag);

#endif
