/* Algorithm policy: every Algorithm attribute of an envelope is checked against an allowlist
 * for its place before any cryptography runs, so weak or unknown algorithms get a clear
 * refusal ("weak algorithm rsa-sha1 in SignatureMethod") rather than a generic failure. */
#ifndef MLAGW_ALGS_H
#define MLAGW_ALGS_H

#include <libxml/tree.h>
#include <xmlsec/xmldsig.h>

#include "mlagw/error.h"

/* Checks every element under root that carries an Algorithm attribute. */
mla_err algs_check_tree(xmlNodePtr root, mla_diag *diag);
/* Enables in ctx only the signature and reference transforms of the allowlist and only
 * same-document references: the one place the signature policy of envelopes, receipts and
 * the directory is set (SPEC 7). */
mla_err algs_restrict_dsig(xmlSecDSigCtxPtr ctx);

#endif
