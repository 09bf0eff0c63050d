/* The one codec layer (protocol/util/codec.c): text forms of times, numbers and binary data
 * shared by every format and every front end, each strict and canonical in both directions. */
#ifndef MLAGW_CODEC_H
#define MLAGW_CODEC_H

#include <time.h>

#define MLA_TIME_LEN 21 /* "2026-11-27T20:00:00Z" and its NUL */

/* Formats t as xs:dateTime in UTC with seconds precision ("2026-11-27T20:00:00Z"); an empty
 * string when t cannot be represented. */
void mla_time_format(time_t t, char out[MLA_TIME_LEN]);
/* Parses exactly that form and nothing else: -1 on any other text, including impossible
 * dates such as 2026-02-31 or 2026-13-45 (the parse must round-trip). */
time_t mla_time_parse(const char *s);

#endif
