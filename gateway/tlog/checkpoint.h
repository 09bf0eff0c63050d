/* The daemon's view of the audit log as an RFC 6962 tree, and its signed checkpoints (SPEC
 * §14): the tree is rebuilt from the store at start and follows every appended entry (and
 * every rolled-back group); a timer signs a C2SP checkpoint with the audit key whenever the
 * tree grew, at most every [audit] checkpoint_interval, and one more at a clean stop. */
#ifndef MLAGW_GATEWAY_CHECKPOINT_H
#define MLAGW_GATEWAY_CHECKPOINT_H

#include "core/gw.h"
#include "mlagw/checkpoint.h"
#include "mlagw/privkey.h"

/* The origin of our log in its current epoch (SPEC 14, "Log epochs"): "mlagw.<cc>/audit" in
 * epoch 1, "mlagw.<cc>/audit/<n>" from epoch 2. Also the name of our audit key's notes. */
void gw_log_origin(const struct gw *g, char out[MLA_CHECKPOINT_ORIGIN_MAX + 1]);
/* Loads the audit key of c and checks that it is Ed25519 and the key of the audit
 * certificate (MLA_ERR_KEY_FILE otherwise). The caller owns *keyp. */
mla_err gw_checkpoint_key_load(const struct gw_config *c, mla_privkey **keyp, mla_diag *diag);
/* At start (tlog_start), after the store is open and the next sequence number read: the
 * audit key, the tree from the audit table, the latest checkpoint's size, and the timer. */
mla_err gw_checkpoint_start(struct gw *g, mla_diag *diag);
/* After a reload that applied: signs what the old key still covers, then takes key (owned
 * from now on) and the new interval. */
void gw_checkpoint_reload(struct gw *g, mla_privkey *key);
/* Brings the tree to as many leaves as the next sequence number: truncates after a rollback,
 * reads missing leaves from the store otherwise. */
mla_err gw_tree_sync(struct gw *g);
/* Appends the leaf of the entry just stored (audit.c). */
void gw_tree_append(struct gw *g, const uint8_t leaf[32]);
/* Signs and stores a checkpoint now if the tree grew since the last one. */
mla_err gw_checkpoint_now(struct gw *g, mla_diag *diag);
/* Verifiers of our own checkpoints of origin, under each audit key this gateway holds (up to
 * max); returns how many were written. */
size_t gw_checkpoint_verifiers(const struct gw *g, const char *origin, mla_note_verifier *out,
			       size_t max);
void gw_checkpoint_free(struct gw *g);

#endif
