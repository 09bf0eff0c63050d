/* A request refused before sealing when the signed directory (SPEC 18.6) names no competent
 * authority for it at its destination, or that authority accepts neither its language nor
 * that of a translation attached. */
#ifndef MLAGW_GATEWAY_DIRECTORY_CHECK_H
#define MLAGW_GATEWAY_DIRECTORY_CHECK_H

#include "mlagw/directory.h"
#include "mlagw/envelope.h"
#include "mlagw/limits.h"

/* MLA_OK without a directory, for anything but a request (Action request), and for a State
 * the directory does not list (configured only); else MLA_ERR_NO_AUTHORITY naming the State,
 * the kind and the directory's serial, or MLA_ERR_LANGUAGE naming the authority and the
 * languages it accepts. doc must have passed mla_case_check (an opaque one has no language
 * and is checked for its authority only). Thread-safe: dir is only read. */
mla_err gw_directory_admits(const mla_directory *dir, const mla_header *h, const uint8_t *doc,
			    size_t len, const mla_limits *limits, mla_diag *diag);

#endif
