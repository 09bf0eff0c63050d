/* Expiry warnings (protocol/SPEC.md 18.8, conf/README.md [expiry]): what expires (this
 * gateway's certificates, the peers' and the roots', the signed directory), how close each
 * is to a warning threshold (60, 30 and 7 days by default), and the warning given once per
 * item and threshold: a log line and the [expiry] command. A leaf: no struct gw, no store;
 * gateway/daemon/expiry_watch.c gathers the items and runs it. */
#ifndef MLAGW_GATEWAY_EXPIRY_H
#define MLAGW_GATEWAY_EXPIRY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf/expiry_config.h"
#include "hook.h"

#define GW_EXPIRY_NAME_MAX 40  /* "peer/CO/encrypt-next", with its NUL */
#define GW_EXPIRY_SUBJECT_MAX 256
/* own 5, then per peer State up to 5 uses, their next ones, a root and its intermediates,
 * and the directory */
#define GW_EXPIRY_MAX_ITEMS 1024

enum gw_expiry_what { GW_EXPIRY_CERTIFICATE, GW_EXPIRY_DIRECTORY, GW_EXPIRY_CRL };

/* Below every threshold: nothing to say. */
#define GW_EXPIRY_NONE (-1)
/* Past it. */
#define GW_EXPIRY_EXPIRED 0

struct gw_expiry_item {
	enum gw_expiry_what what;
	/* [a-z0-9/-] with State codes in capitals: "own/tls", "peer/CO/sign", "root/CO",
	 * "crl/N", "directory" — only such fixed shapes reach the log and the command */
	char name[GW_EXPIRY_NAME_MAX];
	char subject[GW_EXPIRY_SUBJECT_MAX]; /* the certificate's subject; "" for the directory */
	time_t not_after;
	int days_left;  /* whole days left, negative past it */
	int threshold;  /* the smallest threshold reached (days), GW_EXPIRY_EXPIRED, or
			 * GW_EXPIRY_NONE */
};

struct gw_expiry_list {
	size_t n;
	struct gw_expiry_item items[GW_EXPIRY_MAX_ITEMS];
	size_t dropped; /* items past GW_EXPIRY_MAX_ITEMS, counted, never silently */
};

/* Adds an item, its days left and threshold judged at now. Names of the wrong shape are
 * refused (MLA_ERR_ARG); a full list counts the item in dropped (MLA_ERR_TOO_LARGE). */
mla_err gw_expiry_add(struct gw_expiry_list *l, const struct expiry_config *cfg,
		      enum gw_expiry_what what, const char *name, const char *subject,
		      time_t not_after, time_t now);

/* The smallest of cfg's thresholds that days_left has reached, GW_EXPIRY_EXPIRED when
 * not_after is past (<= now), GW_EXPIRY_NONE otherwise. */
int gw_expiry_threshold(const struct expiry_config *cfg, time_t not_after, time_t now,
			int *days_left);

/* What has been warned of: per item (name and not_after, so a renewed certificate starts
 * afresh) the threshold last warned. Owned by the daemon's loop thread. */
struct gw_expiry_fired {
	size_t n;
	struct {
		char name[GW_EXPIRY_NAME_MAX];
		time_t not_after;
		int threshold;
	} f[GW_EXPIRY_MAX_ITEMS];
};

/* Marks in due[] (l->n flags) the items of l that reached a threshold not yet warned of,
 * records them as warned in fired, and forgets items no longer listed. Returns how many are
 * due. */
size_t gw_expiry_due(const struct gw_expiry_list *l, struct gw_expiry_fired *fired,
		     unsigned char *due);

/* The warning of one item: a log line (event "expiry-warning", or "expired"), then the
 * [expiry] command, if configured, with the arguments what, name, threshold in days ("0"
 * past it), not_after and days left. Blocks up to the command's timeout: call it from a
 * worker thread. MLA_OK when the command ran (res says how it ended) or none is configured
 * (res->outcome GW_HOOK_NOT_RUN, status 0). */
mla_err gw_expiry_warn(const struct expiry_config *cfg, const struct gw_expiry_item *it,
		       struct gw_hook_result *res, mla_diag *diag);

const char *gw_expiry_what_name(enum gw_expiry_what w);

#endif
