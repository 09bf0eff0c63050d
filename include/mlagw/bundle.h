/* Audit bundle format v1 (protocol/SPEC.md section 15): a single-file, line-oriented,
 * length-prefixed container of audit entries, checkpoints, envelopes, receipts and the audit
 * certificate, that an auditor verifies offline. Only the container is here: writing records
 * and parsing them strictly; what the records mean is checked by mlagw audit verify. */
#ifndef MLAGW_BUNDLE_H
#define MLAGW_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mlagw/buf.h"
#include "mlagw/error.h"

#define MLA_BUNDLE_MAGIC "mlagw-audit-bundle/2\n"
/* Format 3: format 2 with earlier seals of a message sealed again (records <id>.<n>). Export
 * writes it only for a bundle holding such records, format 2 otherwise (SPEC 15). */
#define MLA_BUNDLE_MAGIC3 "mlagw-audit-bundle/3\n"
/* Format 4: format 3 with raised limits, for logs of tens of millions of entries. Export
 * writes it only for a bundle beyond format 2 and 3's limits (SPEC 15). */
#define MLA_BUNDLE_MAGIC4 "mlagw-audit-bundle/4\n"
/* Format 5: format 4 with the directory documents the log's directory-adopted entries name
 * (records `directory <hex SHA-256>`, last). Export writes it only for a bundle holding such
 * records (SPEC 15). */
#define MLA_BUNDLE_MAGIC5 "mlagw-audit-bundle/5\n"
/* Format 6: format 5 with the CRLs and OCSP answers the gateway relied on (records
 * `crl <hex SHA-256>` then `ocsp <hex SHA-256>`, DER, last), the revocation evidence of the
 * signatures in the trail. Export writes it only for a bundle holding such records (SPEC 15). */
#define MLA_BUNDLE_MAGIC6 "mlagw-audit-bundle/6\n"
#define MLA_BUNDLE_NAME_MAX 64		    /* bytes of a record name */
#define MLA_BUNDLE_RECORDS_MAX 4000000	    /* records in one bundle (formats 2 and 3) */
#define MLA_BUNDLE_MAX ((size_t)4 << 30)    /* bytes of a whole bundle (formats 2 and 3) */
#define MLA_BUNDLE4_RECORDS_MAX UINT64_C(10000000000) /* format 4 */
#define MLA_BUNDLE4_MAX (UINT64_C(16) << 40)	      /* format 4: 16 TiB */

/* Record types, in the order they must appear in a bundle. */
typedef enum mla_bundle_type {
	MLA_BUNDLE_MANIFEST = 0,
	MLA_BUNDLE_CERTIFICATE = 1,
	MLA_BUNDLE_ENTRY = 2,
	MLA_BUNDLE_CHECKPOINT = 3,
	MLA_BUNDLE_WITNESSED = 4, /* a peer's checkpoint this gateway cosigned */
	MLA_BUNDLE_PROOF = 5,	  /* an RFC 6962 consistency or inclusion proof */
	MLA_BUNDLE_ENVELOPE = 6,
	MLA_BUNDLE_RECEIPT = 7,
	MLA_BUNDLE_DIRECTORY = 8, /* format 5: a signed directory document (SPEC 18) */
	MLA_BUNDLE_CRL = 9,	  /* format 6: a CRL (DER) of a State's root (SPEC 15, 18.7) */
	MLA_BUNDLE_OCSP = 10,	  /* format 6: an OCSP answer (DER OCSPResponse) (SPEC 15, 18.7) */
	MLA_BUNDLE_TYPE_N = 11
} mla_bundle_type;

/* One record; data points into the parsed buffer (not NUL-terminated). */
typedef struct mla_bundle_record {
	mla_bundle_type type;
	char name[MLA_BUNDLE_NAME_MAX + 1];
	const uint8_t *data;
	size_t len;
	size_t offset; /* of the record's header line in the bundle */
} mla_bundle_record;

typedef struct mla_bundle {
	mla_bundle_record *rec;
	size_t n;
	unsigned format; /* 2, 3 or 4, from the first line */
	/* every record of each type, entries included (an index holds no entry in rec) */
	uint64_t count[MLA_BUNDLE_TYPE_N];
	/* an index (mla_bundle_index): the entries lie in [entries_at, entries_end) of the
	 * file; rec[] owns its data (NULL for envelopes and receipts: mla_bundle_load) */
	uint64_t entries_at, entries_end;
	/* an index: the records of each streamed type (MLA_BUNDLE_STREAMED) lie in [at[t],
	 * end[t]) of the file and have no slot in rec[] (a cursor reads them) */
	uint64_t at[MLA_BUNDLE_TYPE_N], end[MLA_BUNDLE_TYPE_N];
	int index;
} mla_bundle;

/* The types an index holds no slot for: entries, checkpoints, witnessed heads and proofs,
 * which a log has about as many of as entries (one each per entry when it is quiet). */
#define MLA_BUNDLE_STREAMED(t)                                                        \
	((t) == MLA_BUNDLE_ENTRY || (t) == MLA_BUNDLE_CHECKPOINT || (t) == MLA_BUNDLE_WITNESSED || \
	 (t) == MLA_BUNDLE_PROOF)

/* The types an index holds no slot for either, but whose records are too large to stream
 * whole: envelopes and receipts (a log holds one or more a message). A cursor over them
 * gives each record's name, length and offset with data NULL; mla_bundle_load reads it. */
#define MLA_BUNDLE_BLOB(t) ((t) == MLA_BUNDLE_ENVELOPE || (t) == MLA_BUNDLE_RECEIPT)

/* The largest record of a streamed type: a signed note (checkpoint, witnessed head). */
#define MLA_BUNDLE_CURSOR_MAX 16384

/* A bundle's records of one streamed type read one by one from the file an index was made
 * of (about 16 KiB: not for a small stack). */
typedef struct mla_bundle_cursor {
	FILE *f;
	uint64_t pos, end, seq;
	mla_bundle_type type;
	uint8_t data[MLA_BUNDLE_CURSOR_MAX + 1];
} mla_bundle_cursor;

/* "manifest", "entry", ... ; NULL out of range. */
const char *mla_bundle_type_name(mla_bundle_type t);
/* The most bytes a record of type t may hold. */
size_t mla_bundle_type_max(mla_bundle_type t);

/* Appends the format line (call once, first) to out: format 2, or format (2 or 3). */
MLA_MUST_CHECK mla_err mla_bundle_begin(mla_buf *out);
MLA_MUST_CHECK mla_err mla_bundle_begin_format(mla_buf *out, unsigned format);
/* The header line "<type> <name> <length>\n" of a record into out (cap bytes, 129 hold any),
 * its length into *hlen: MLA_ERR_ARG for a bad name or an oversized record. For a writer that
 * streams the record's bytes itself. */
MLA_MUST_CHECK mla_err mla_bundle_header(mla_bundle_type t, const char *name, size_t len,
					 char *out, size_t cap, size_t *hlen, mla_diag *diag);
/* Appends one record "<type> <name> <length>\n<bytes>\n"; MLA_ERR_ARG for a bad name or an
 * oversized record (the message names it), MLA_ERR_TOO_LARGE when out cannot grow. */
MLA_MUST_CHECK mla_err mla_bundle_add(mla_buf *out, mla_bundle_type t, const char *name,
				      const void *data, size_t len, mla_diag *diag);

/* Parses data strictly: the format line (2 or 3, into b->format), then records with canonical lengths within the
 * type's limit, names of 1-64 bytes of [A-Za-z0-9._-], types in the order of the enum, exactly
 * one manifest (first) and the audit certificate (second; further certificates are peers'
 * and named "peer.*"), nothing after the last record.
 * MLA_ERR_SCHEMA naming the record (index, type, name, offset) otherwise, MLA_ERR_TOO_LARGE
 * beyond the limits. Records point into data, which must outlive b. */
mla_err mla_bundle_parse(const uint8_t *data, size_t len, mla_bundle *b, mla_diag *diag);
void mla_bundle_free(mla_bundle *b);

/* The same checks over the file f read from its start, in one pass and bounded memory: b
 * becomes an index of every record but the streamed types' and the blobs' (MLA_BUNDLE_STREAMED,
 * MLA_BUNDLE_BLOB: counted, their extent kept), with the data of the manifest and the audit
 * certificates (`audit`, `audit.<n>`) only (the peers' certificates' data NULL, len and
 * offset set: mla_bundle_load reads them). MLA_ERR_IO when
 * f cannot be read. */
mla_err mla_bundle_index(FILE *f, mla_bundle *b, mla_diag *diag);
/* The data of record rec of the index of f into out (replacing what it held). MLA_ERR_IO, or
 * MLA_ERR_SCHEMA when the file no longer holds that record there. */
mla_err mla_bundle_load(FILE *f, const mla_bundle_record *rec, mla_buf *out, mla_diag *diag);
/* The entries of the index b of f, from the first; next fills rec (its data in c, valid
 * until the next call) and returns MLA_ERR_NOT_FOUND after the last; MLA_ERR_SCHEMA when the
 * file changed since the index was made. */
void mla_bundle_cursor_init(mla_bundle_cursor *c, FILE *f, const mla_bundle *b);
/* The same over the records of streamed type t (MLA_BUNDLE_STREAMED) of the index b; or of
 * blob type t (MLA_BUNDLE_BLOB), whose records come without their data (NULL: the cursor
 * reads the header and skips the bytes; mla_bundle_load reads them, and the cursor goes on
 * from where it was). */
void mla_bundle_cursor_init_type(mla_bundle_cursor *c, FILE *f, const mla_bundle *b,
				 mla_bundle_type t);
mla_err mla_bundle_cursor_next(mla_bundle_cursor *c, mla_bundle_record *rec, mla_diag *diag);

#endif
