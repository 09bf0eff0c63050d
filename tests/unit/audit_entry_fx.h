/* Shared by the audit entry version tests (test_audit_entry_v4.c to test_audit_entry_v9.c and
 * test_audit_entry_protected.c): setting a field, serializing, parsing a text as it stands or
 * with one edit, a round trip, and the check of a golden vector. Each asserts with cmocka. */
#ifndef MLAGW_TEST_AUDIT_ENTRY_FX_H
#define MLAGW_TEST_AUDIT_ENTRY_FX_H

#include <stddef.h>

#include "mlagw/audit_entry.h"
#include "mlagw/buf.h"

/* The size bytes of dst zeroed, then v copied in (asserted to fit). */
void put(char *dst, size_t size, const char *v);
/* serialize's result for e into b, a fresh buffer of MLA_AUDIT_ENTRY_MAX (the caller frees
 * it). */
mla_err ser(const mla_audit_entry *e, mla_buf *b);
/* serialize's result for e, the bytes dropped. */
mla_err ser_only(const mla_audit_entry *e);
/* parse's result for the text t. */
mla_err parse_text(const char *t);
/* parse's result for text with the first occurrence of from (asserted present) replaced by
 * to. */
mla_err parse_edited(const char *text, const char *from, const char *to);
/* e serializes as version, within MLA_AUDIT_ENTRY_MAX, and parses back to itself. */
void roundtrip(const mla_audit_entry *e, int version);
/* A golden vector: e serializes to exactly text, len bytes, which parses back to e; its leaf
 * hash is leaf_hex when that is not NULL. */
void check_vector(const mla_audit_entry *e, const char *text, size_t len, const char *leaf_hex);

#endif
