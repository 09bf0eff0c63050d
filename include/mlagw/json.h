/* Minimal JSON output helpers shared by the CLI and the daemon (no JSON parsing here). */
#ifndef MLAGW_JSON_H
#define MLAGW_JSON_H

#include "mlagw/buf.h"

/* Appends s as a JSON string literal, escaping quotes, backslashes and control bytes. */
MLA_MUST_CHECK mla_err mla_json_string(mla_buf *out, const char *s);
/* Appends the error object of the local HTTP interfaces, {"code","message"[,"field"]} and a
 * newline (field may be NULL). */
MLA_MUST_CHECK mla_err mla_json_error(mla_buf *out, const char *code, const char *message,
				      const char *field);

#endif
