/* Minimal JSON output helpers shared by the CLI and the daemon (no JSON parsing here). */
#ifndef MLAGW_JSON_H
#define MLAGW_JSON_H

#include "mlagw/buf.h"

/* Appends s as a JSON string literal, escaping quotes, backslashes and control bytes. */
MLA_MUST_CHECK mla_err mla_json_string(mla_buf *out, const char *s);

#endif
