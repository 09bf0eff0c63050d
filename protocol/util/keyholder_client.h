/* The asking side of the keyholder (include/mlagw/keyholder.h), for privkey.c and its proxy
 * keys (privkey_proxy.c): one exchange on a free channel. */
#ifndef MLAGW_KEYHOLDER_CLIENT_H
#define MLAGW_KEYHOLDER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/buf.h"
#include "mlagw/error.h"

/* Nonzero once mla_keyholder_attach succeeded in this process. */
int kh_client_attached(void);

/* Sends request op for key id with the bytes pre (at most 8) then b, and gives the answer's
 * result in out (appended). A refusal comes back as its error with the keyholder's message; a
 * broken channel marks the keyholder failed (mla_keyholder_failed) and gives MLA_ERR_INTERNAL. */
mla_err kh_call(uint8_t op, uint32_t id, const uint8_t *pre, size_t npre, const uint8_t *b,
		size_t nb, mla_buf *out, mla_diag *diag);

#endif
