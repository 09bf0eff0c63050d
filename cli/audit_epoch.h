/* mlagw audit new-epoch (cmd_audit_epoch.c) and its optional last checkpoint of the old epoch
 * (cmd_audit_epoch_seal.c). */
#ifndef MLAGW_CLI_AUDIT_EPOCH_H
#define MLAGW_CLI_AUDIT_EPOCH_H

#include <stddef.h>
#include <stdint.h>

/* A signed head of the epoch that the store's entries must agree with. */
struct epoch_known {
	uint64_t size;
	uint8_t root[32];
};

/* With the audit key at key_path (its public key must be cert_key), signs and stores a last
 * checkpoint of origin over every entry the store holds, when they are more than its latest
 * checkpoint covers (covered) and agree with each known head of at most their number; *size is its size
 * and *notep the note (free() it), or 0 and NULL when there was nothing to sign. CLI status
 * (CLI_REJECTED when the entries disagree with a head or the key is another). */
int epoch_seal(const char *store, const char *key_path, const char *origin,
	       const uint8_t cert_key[32], uint64_t covered, const struct epoch_known *known,
	       size_t n, uint64_t *size, char **notep);

#endif
