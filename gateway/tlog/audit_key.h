/* Audit key changes (protocol/SPEC.md section 14, "Audit key changes"), inside gateway/tlog:
 * the announcement entry, the switch after the checkpoint that covers it, and the start of a
 * gateway whose configured audit key the store does not record yet. */
#ifndef MLAGW_GATEWAY_AUDIT_KEY_H
#define MLAGW_GATEWAY_AUDIT_KEY_H

#include "core/gw.h"
#include "mlagw/privkey.h"

/* Loads an audit key pair: Ed25519, and the key of the certificate (label names the setting
 * in messages). The caller owns *keyp. */
mla_err gw_audit_keypair_load(const char *cert_path, const char *key_path, const char *label,
			      mla_privkey **keyp, mla_diag *diag);
/* Keeps the certificate at path in the store (for export); its SHA-256 into sha unless NULL. */
mla_err gw_audit_cert_keep(struct gw *g, const char *path, uint8_t sha[32], mla_diag *diag);
/* Announces key (owned from now on) with its certificate at cert_path: the entry
 * audit-key-changed; the current key signs the checkpoint that covers it, then key takes
 * over. On failure key is freed and the current key stays. */
mla_err gw_audit_key_announce(struct gw *g, mla_privkey *key, const char *cert_path,
			      mla_diag *diag);
/* After a checkpoint of size was stored: the pending key takes over once it covers its
 * announcement. */
void gw_audit_key_after_checkpoint(struct gw *g, uint64_t size);
/* At start, when the store records checkpoints but not the configured audit key: accepted
 * when the log announced it and a checkpoint covers that; else [keys] previous_audit_* must
 * name the key that signed the latest checkpoint, which then signs the announcement's
 * covering checkpoint (latest: that checkpoint's note). */
mla_err gw_audit_key_start(struct gw *g, const mla_buf *latest, mla_diag *diag);
/* Writes the announcement gw_audit_key_start left for after the log is open. */
mla_err gw_audit_key_start_announce(struct gw *g, mla_diag *diag);

#endif
