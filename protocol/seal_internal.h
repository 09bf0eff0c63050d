/* Internal step of sealing, shared with the tests that build hostile envelopes signed by a
 * legitimate key (the signer is the attacker there). */
#ifndef MLAGW_SEAL_INTERNAL_H
#define MLAGW_SEAL_INTERNAL_H

#include <libxml/tree.h>

#include "mlagw/envelope.h"

/* Appends a ds:Signature to root covering the elements whose registered IDs are header_id
 * and payload_id (both must already be registered with xmlAddID). */
mla_err seal_sign_doc(xmlNodePtr root, const char *header_id, const char *payload_id,
		      const mla_signer *signer, mla_diag *diag);

#endif
