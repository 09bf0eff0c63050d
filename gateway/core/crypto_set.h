/* The keys and certificates one thread uses: this gateway's signer and decryption keyring,
 * the trusted State roots, and each peer's encryption certificate. Every worker thread loads
 * its own set, so no xmlsec or OpenSSL object is ever shared between threads. */
#ifndef MLAGW_GATEWAY_CRYPTO_SET_H
#define MLAGW_GATEWAY_CRYPTO_SET_H

#include "conf/config.h"
#include "mlagw/directory.h"
#include "mlagw/envelope.h"

struct gw_crypto {
	mla_signer *signer;
	mla_keyring *keys;
	mla_trust *trust;
	struct {
		char state[3];
		mla_recipient *rcpt;
	} peers[GW_MAX_PEERS];
	size_t n_peers;
};

/* The [trust] roots as a trust set, with the revocation checker attached (core/revoc.h). */
mla_err gw_trust_load(const struct gw_config *c, mla_trust **out, mla_diag *diag);
mla_err gw_crypto_load(const struct gw_config *c, struct gw_crypto **out, mla_diag *diag);
void gw_crypto_free(struct gw_crypto *k);
/* The encryption certificate of a peer State, or NULL. */
const mla_recipient *gw_crypto_recipient(const struct gw_crypto *k, const char *state);

/* An immutable, reference-counted configuration: jobs carry the one they started with, so a
 * reload (SIGHUP) never changes what a running job sees. */
struct gw_snapshot {
	int refs; /* atomic */
	unsigned gen;
	struct gw_config cfg;
	/* the verified directory the peers came from (SPEC 18.6), owned; NULL without
	 * [directory]. Read-only once the snapshot is shared. */
	mla_directory *dir;
	/* the bytes served by [directory] listen: the directory as verified, and this State's
	 * own signed entry ([directory] entry, verified); empty when not configured */
	mla_buf dir_doc, dir_entry;
};

struct gw_snapshot *gw_snapshot_new(const struct gw_config *cfg, unsigned gen);
struct gw_snapshot *gw_snapshot_ref(struct gw_snapshot *s);
void gw_snapshot_unref(struct gw_snapshot *s);

#endif
