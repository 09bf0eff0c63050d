/* Internals of the audit log entry (protocol/SPEC.md section 14, "Entry serialization")
 * shared by its rules (audit_entry.c), its writer (audit_entry_write.c) and its strict parser
 * (audit_entry_parse.c). */
#ifndef MLAGW_AUDIT_ENTRY_INTERNAL_H
#define MLAGW_AUDIT_ENTRY_INTERNAL_H

#include "mlagw/audit_entry.h"

#define AUDIT_ENTRY_MAGIC1 "mlagw-audit-entry/1"
#define AUDIT_ENTRY_MAGIC2 "mlagw-audit-entry/2" /* version 1's lines, then count */
#define AUDIT_ENTRY_MAGIC3 "mlagw-audit-entry/3" /* version 2's lines, then the prev-* lines */
#define AUDIT_ENTRY_MAGIC4 "mlagw-audit-entry/4" /* version 3's lines, then two digests */
/* version 4's lines, for the entries naming a Kind or Action of envelope version 2 only */
#define AUDIT_ENTRY_MAGIC5 "mlagw-audit-entry/5"
/* version 5's lines, then priority and grounds: the entries of case steps with a priority */
#define AUDIT_ENTRY_MAGIC6 "mlagw-audit-entry/6"
/* version 6's lines, then attachments and attachment: the entries naming attachments */
#define AUDIT_ENTRY_MAGIC7 "mlagw-audit-entry/7"
/* version 7's lines, then the directory adopted: the entries directory-adopted */
#define AUDIT_ENTRY_MAGIC8 "mlagw-audit-entry/8"
/* version 7's lines: the entries directory-refused */
#define AUDIT_ENTRY_MAGIC9 "mlagw-audit-entry/9"
#define AUDIT_ENTRY_VERSION_MAX 9
/* the value of an absent field */
#define AUDIT_ENTRY_ABSENT "-"

/* audit_entry_magic[v]: version v's first line without its newline (index 0 unused). */
extern const char *const audit_entry_magic[AUDIT_ENTRY_VERSION_MAX + 1];

/* The fields, then the event's rules; code is the error to report (MLA_ERR_ARG when writing,
 * MLA_ERR_HEADER when parsing). */
mla_err audit_entry_check(const mla_audit_entry *e, mla_err code, mla_diag *diag);

/* The version that alone holds event ev (3, 4, 5, 8, 9), or 0 (version 1, or 2 when
 * counted). ev is a known event. */
int audit_event_only_version(mla_audit_event ev);

/* The version an entry is written in (SPEC 11 rule 12: the lowest that holds it); the parser
 * accepts an entry only in this version. */
int audit_entry_version(const mla_audit_entry *e);

#endif
