/* Value checkers and parsers behind gw_config_load (config_values.c), shared with its tests.
 * Each returns MLA_OK, or MLA_ERR_CONFIG with *why pointing at a static explanation that the
 * caller prefixes with "FILE:LINE: [section] key: ". None of them prints or keeps the value. */
#ifndef MLAGW_GATEWAY_CONFIG_INTERNAL_H
#define MLAGW_GATEWAY_CONFIG_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"

#define CFG_LINE_MAX 4096 /* bytes per line, without the line end */

#define CFG_KIB ((uint64_t)1024)
#define CFG_MIB (CFG_KIB * 1024)
#define CFG_GIB (CFG_MIB * 1024)

#define CFG_SEC ((uint64_t)1000)
#define CFG_MIN (CFG_SEC * 60)
#define CFG_HOUR (CFG_MIN * 60)
#define CFG_DAY (CFG_HOUR * 24)

/* Decimal digits only (no sign, space or suffix), at most UINT64_MAX. */
mla_err cfg_parse_uint(const char *s, uint64_t *v, const char **why);
/* Digits with an optional unit B, KiB, MiB or GiB (space between allowed); bytes without. */
mla_err cfg_parse_size(const char *s, uint64_t *bytes, const char **why);
/* Digits with a required unit ms, s, m, h or d (space between allowed); milliseconds. */
mla_err cfg_parse_duration(const char *s, uint64_t *ms, const char **why);

/* "64 MiB", "7d", "1500ms": the largest unit that divides v exactly. Never truncates silently:
 * returns MLA_ERR_INTERNAL when out is too small. */
mla_err cfg_format_size(uint64_t bytes, char *out, size_t len);
mla_err cfg_format_duration(uint64_t ms, char *out, size_t len);

/* Two upper-case ASCII letters (ISO 3166-1 alpha-2 shape), as protocol/header.c checks. */
int cfg_is_state(const char *s);
/* Valid UTF-8 with no control character (C0, DEL, C1). */
mla_err cfg_check_text(const char *s, const char **why);
/* host:port with host an IPv4 address, a [bracketed] IPv6 address or a DNS name. */
mla_err cfg_check_listen(const char *s, const char **why);
/* https://host[:port][/path], no spaces. */
mla_err cfg_check_url(const char *s, const char **why);
/* A list of versions from 1 to max (at most 31), separated by commas and/or spaces, each
 * once: "1", "1, 2", "1 2". *mask gets bit v for each version v. */
mla_err cfg_parse_versions(const char *s, unsigned max, unsigned *mask, const char **why);
/* "sha256//" followed by the 44-character base64 of 32 bytes. */
mla_err cfg_check_pin(const char *s, const char **why);
/* value as is when absolute, else base_dir/value with leading "./" and "../" folded into
 * base_dir (which must be absolute and free of symbolic links, as realpath() gives it). */
mla_err cfg_resolve_path(const char *base_dir, const char *value, char out[PATH_MAX],
			 const char **why);
/* A private key's value: an RFC 7512 "pkcs11:" URI (a key in a token) kept as written, else a
 * path resolved as cfg_resolve_path does. */
mla_err cfg_resolve_key(const char *base_dir, const char *value, char out[PATH_MAX],
			const char **why);

/* MLA_ERR_CONFIG with "FILE:LINE: [SECTION] message" (line 0: "FILE: [SECTION] message"), the
 * message cut visibly to fit: how every section reader words its errors. */
mla_err cfg_section_fail(mla_diag *diag, const char *file, unsigned line, const char *section,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A duration (cfg_parse_duration) within lo..hi milliseconds into *ms; else MLA_ERR_CONFIG and
 * why: the parser's reason or "5m is out of range (1s..10m)". */
mla_err cfg_duration_in(const char *value, uint64_t lo, uint64_t hi, uint64_t *ms, char *why,
			size_t n);

#endif
