/* JSON output shared by the CLI and the daemon: documents are built with jansson (never by
 * hand) and written compact into a bounded mla_buf. No JSON parsing here. */
#ifndef MLAGW_JSON_H
#define MLAGW_JSON_H

#include <jansson.h>

#include "mlagw/buf.h"

/* Appends v, compact and followed by a newline, to out, and releases v (ownership moves
 * here, as with json_object_set_new, so a json_pack() can be passed directly). v NULL means
 * building it failed, a string not valid UTF-8 or no memory: MLA_ERR_ARG, out unchanged. On
 * any error out may hold a partial document; callers reply with an error instead. */
MLA_MUST_CHECK mla_err mla_json_dump(json_t *v, mla_buf *out);
/* Sets o[key] to the string v, or nothing when v is NULL or empty (optional fields). 0 or
 * -1 (v not valid UTF-8, no memory). */
MLA_MUST_CHECK int mla_json_set_opt(json_t *o, const char *key, const char *v);
/* Appends the error object of the local HTTP interfaces, {"code","message"[,"field"]} and a
 * newline (field may be NULL). A message or field that is not valid UTF-8 is replaced by a
 * fixed text rather than failing, so an error can always be answered. */
MLA_MUST_CHECK mla_err mla_json_error(mla_buf *out, const char *code, const char *message,
				      const char *field);
/* The same with a member "problems", the JSON array problems_json (a case document's
 * problems, protocol/SPEC.md section 16) when it is not NULL and parses as an array. */
MLA_MUST_CHECK mla_err mla_json_error_problems(mla_buf *out, const char *code,
					       const char *message, const char *problems_json);

#endif
