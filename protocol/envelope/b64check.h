/* Checks that every base64-valued element of an envelope holds valid base64, so garbled
 * data is refused with its own error naming the element. */
#ifndef MLAGW_B64CHECK_H
#define MLAGW_B64CHECK_H

#include <libxml/tree.h>

#include "mlagw/error.h"

#include "mlagw/buf.h"

mla_err b64check_tree(xmlNodePtr root, mla_diag *diag);
/* Decodes the base64 text of el into out (appended). */
mla_err b64_decode_element(xmlNodePtr el, mla_buf *out);

#endif
