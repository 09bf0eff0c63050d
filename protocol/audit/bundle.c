/* The audit bundle container (see include/mlagw/bundle.h, SPEC section 15): writing records
 * and the strict, bounded parser. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "mlagw/bundle.h"
#include "mlagw/checkpoint.h"
#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"
#include "mlagw/directory.h"
#include "mlagw/limits.h"
#include "mlagw/revoc.h"

#define HEADER_LINE_MAX 128

static const char *const type_names[MLA_BUNDLE_TYPE_N] = {
	"manifest", "certificate", "entry", "checkpoint", "witnessed", "proof", "envelope",
	"receipt", "directory", "crl", "ocsp",
};

const char *mla_bundle_type_name(mla_bundle_type t)
{
	return (unsigned)t < MLA_BUNDLE_TYPE_N ? type_names[t] : NULL;
}

size_t mla_bundle_type_max(mla_bundle_type t)
{
	switch (t) {
	case MLA_BUNDLE_MANIFEST: return (size_t)1 << 20;
	case MLA_BUNDLE_CERTIFICATE: return (size_t)64 << 10;
	case MLA_BUNDLE_ENTRY: return MLA_AUDIT_ENTRY_MAX;
	case MLA_BUNDLE_CHECKPOINT:
	case MLA_BUNDLE_WITNESSED: return MLA_NOTE_MAX;
	case MLA_BUNDLE_PROOF: return 64 * 65; /* 64 hex lines of 32 bytes */
	case MLA_BUNDLE_ENVELOPE:
	case MLA_BUNDLE_RECEIPT: return MLA_DEFAULT_MAX_ENVELOPE_BYTES;
	case MLA_BUNDLE_DIRECTORY: return MLA_DIR_MAX_BYTES;
	case MLA_BUNDLE_CRL: return MLA_CRL_MAX_BYTES;
	case MLA_BUNDLE_OCSP: return MLA_OCSP_MAX_BYTES;
	default: return 0;
	}
}

static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > MLA_BUNDLE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

mla_err mla_bundle_begin(mla_buf *out)
{
	return mla_buf_append_str(out, MLA_BUNDLE_MAGIC);
}

mla_err mla_bundle_begin_format(mla_buf *out, unsigned format)
{
	if (format < 2 || format > 6)
		return MLA_ERR_ARG;
	return mla_buf_append_str(out, format == 6   ? MLA_BUNDLE_MAGIC6
				       : format == 5 ? MLA_BUNDLE_MAGIC5
				       : format == 4 ? MLA_BUNDLE_MAGIC4
				       : format == 3 ? MLA_BUNDLE_MAGIC3
						     : MLA_BUNDLE_MAGIC);
}

mla_err mla_bundle_header(mla_bundle_type t, const char *name, size_t len, char *out,
			  size_t cap, size_t *hlen, mla_diag *diag)
{
	if (mla_bundle_type_name(t) == NULL || name == NULL || !name_ok(name, strlen(name)))
		return mla_fail(diag, MLA_ERR_ARG, "bundle: bad record type or name '%s'",
				name != NULL ? name : "");
	if (len > mla_bundle_type_max(t))
		return mla_fail(diag, MLA_ERR_ARG, "bundle: %s %s: %zu bytes, over the limit of %zu",
				type_names[t], name, len, mla_bundle_type_max(t));
	if (mla_snprintf(out, cap, "%s %s %zu\n", type_names[t], name, len) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "bundle: no room for the header of %s %s",
				type_names[t], name);
	*hlen = strlen(out);
	return MLA_OK;
}

mla_err mla_bundle_add(mla_buf *out, mla_bundle_type t, const char *name, const void *data,
		       size_t len, mla_diag *diag)
{
	char head[HEADER_LINE_MAX + 1];
	size_t before = out->len, hlen = 0;
	mla_err r;

	if ((r = mla_bundle_header(t, name, len, head, sizeof(head), &hlen, diag)) != MLA_OK)
		return r;
	if ((r = mla_buf_append(out, head, hlen)) != MLA_OK ||
	    (len > 0 && (r = mla_buf_append(out, data, len)) != MLA_OK) ||
	    (r = mla_buf_append(out, "\n", 1)) != MLA_OK) {
		out->len = before;
		return mla_fail(diag, r, "bundle: %s %s: the bundle cannot grow", type_names[t],
				name);
	}
	return MLA_OK;
}

/* A canonical decimal (no sign, no leading zero) up to max. */
static int parse_len(const char *s, size_t n, size_t max, size_t *out)
{
	uint64_t v;

	if (mla_parse_u64n(s, n, 0, max, &v) != MLA_OK)
		return 0;
	*out = (size_t)v;
	return 1;
}

/* Parses the header line at p (n bytes available) into rec; *hlen = its length with LF. */
static mla_err parse_header(const uint8_t *p, size_t n, size_t idx, mla_bundle_record *rec,
			    size_t *hlen, mla_diag *diag)
{
	const char *s = (const char *)p, *sp1, *sp2, *nl;
	size_t lim = n < HEADER_LINE_MAX ? n : HEADER_LINE_MAX;
	int t;

	nl = memchr(s, '\n', lim);
	if (nl == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %zu at offset %zu: %s", idx,
				rec->offset, n < HEADER_LINE_MAX ? "truncated header line"
								 : "header line too long");
	sp1 = memchr(s, ' ', (size_t)(nl - s));
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(nl - sp1 - 1)) : NULL;
	if (sp1 == NULL || sp2 == NULL || memchr(sp2 + 1, ' ', (size_t)(nl - sp2 - 1)) != NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %zu at offset %zu: header line is not "
				"'<type> <name> <length>'", idx, rec->offset);
	for (t = 0; t < MLA_BUNDLE_TYPE_N; t++)
		if (strlen(type_names[t]) == (size_t)(sp1 - s) &&
		    memcmp(type_names[t], s, (size_t)(sp1 - s)) == 0)
			break;
	if (t == MLA_BUNDLE_TYPE_N)
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %zu at offset %zu: unknown record "
				"type", idx, rec->offset);
	rec->type = (mla_bundle_type)t;
	if (!name_ok(sp1 + 1, (size_t)(sp2 - sp1 - 1)))
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %zu (%s) at offset %zu: bad name", idx,
				type_names[t], rec->offset);
	memcpy(rec->name, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	rec->name[sp2 - sp1 - 1] = '\0';
	if (!parse_len(sp2 + 1, (size_t)(nl - sp2 - 1), mla_bundle_type_max(rec->type), &rec->len))
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %zu (%s %s) at offset %zu: length not "
				"a canonical decimal within the limit of %zu", idx, type_names[t],
				rec->name, rec->offset, mla_bundle_type_max(rec->type));
	*hlen = (size_t)(nl - s) + 1;
	return MLA_OK;
}

/* What the order of records depends on: the format, how many came before and the last. */
struct order {
	unsigned format;
	uint64_t n;
	mla_bundle_type prev_type;
	char prev_name[MLA_BUNDLE_NAME_MAX + 1];
};

/* Format 3: the certificate of the n-th audit key of a log whose key changed, "audit.<n>" with
 * n = 2, 3, ... in order, right after "audit" and before any peer's. */
static mla_err later_audit_cert(const struct order *o, const mla_bundle_record *rec,
				mla_diag *diag)
{
	char want[32];

	/* record i is the i-th key's; a count past what fits names no record */
	(void)mla_snprintf_cut(want, sizeof(want), "audit.%llu", (unsigned long long)o->n);
	if (o->format < 3 || strcmp(rec->name, want) != 0 || strncmp(o->prev_name, "audit", 5) != 0)
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %llu (certificate %s): %s",
				(unsigned long long)o->n, rec->name,
				o->format < 3 ? "audit certificates after the first are format 3"
					      : "not the next audit certificate (audit.2, audit.3, "
						"... right after audit)");
	return MLA_OK;
}

/* Formats 5 and 6: a directory (format 5), crl or ocsp (format 6) record is named by the 64
 * lower-case hex digits of a SHA-256, in ascending order (so no document twice). */
static mla_err digest_named_record(const struct order *o, const mla_bundle_record *rec,
				   mla_diag *diag)
{
	const char *type = type_names[rec->type];
	unsigned since = rec->type == MLA_BUNDLE_DIRECTORY ? 5 : 6;
	size_t n = strlen(rec->name);
	int hex = n == 64;

	for (size_t i = 0; hex && i < n; i++)
		hex = (rec->name[i] >= '0' && rec->name[i] <= '9') ||
		      (rec->name[i] >= 'a' && rec->name[i] <= 'f');
	if (o->format < since)
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %llu (%s %s): %s records are format "
				"%u", (unsigned long long)o->n, type, rec->name, type, since);
	if (!hex || (o->prev_type == rec->type && strcmp(o->prev_name, rec->name) >= 0))
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %llu (%s %s): %s",
				(unsigned long long)o->n, type, rec->name,
				!hex ? "not named by a SHA-256 (64 lower-case hex digits)"
				     : "not after the previous record of its type in ascending order");
	return MLA_OK;
}

/* Order: types never go back; one manifest, first; the audit certificate, second; in format 3
 * the later audit certificates (audit.2, ...); then only peers' certificates ("peer.*"). */
static mla_err check_order(const struct order *o, const mla_bundle_record *rec, mla_diag *diag)
{
	uint64_t i = o->n;
	mla_bundle_type want_first = i == 0 ? MLA_BUNDLE_MANIFEST : MLA_BUNDLE_CERTIFICATE;

	if (i < 2 && rec->type != want_first)
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %llu (%s %s): missing %s: it must be "
				"record %llu", (unsigned long long)i, type_names[rec->type],
				rec->name, type_names[want_first], (unsigned long long)i);
	if (i >= 2 && rec->type == MLA_BUNDLE_CERTIFICATE && strncmp(rec->name, "audit.", 6) == 0)
		return later_audit_cert(o, rec, diag);
	if (i >= 2 && (rec->type == MLA_BUNDLE_MANIFEST ||
			(rec->type == MLA_BUNDLE_CERTIFICATE && strncmp(rec->name, "peer.", 5) != 0)))
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %llu (%s %s): a second %s",
				(unsigned long long)i, type_names[rec->type], rec->name,
				type_names[rec->type]);
	if (i > 0 && rec->type < o->prev_type)
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %llu (%s %s): out of order: after "
				"%s records", (unsigned long long)i, type_names[rec->type],
				rec->name, type_names[o->prev_type]);
	if (rec->type == MLA_BUNDLE_DIRECTORY || rec->type == MLA_BUNDLE_CRL ||
	    rec->type == MLA_BUNDLE_OCSP)
		return digest_named_record(o, rec, diag);
	return MLA_OK;
}

/* Records rec as the last one seen; MLA_ERR_TOO_LARGE past the format's record limit. */
static mla_err order_next(struct order *o, const mla_bundle_record *rec, mla_diag *diag)
{
	uint64_t max = o->format >= 4 ? MLA_BUNDLE4_RECORDS_MAX : MLA_BUNDLE_RECORDS_MAX;

	if (o->n >= max)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "bundle: more than %llu records (the "
				"limit of format %u)", (unsigned long long)max, o->format);
	o->n++;
	o->prev_type = rec->type;
	memcpy(o->prev_name, rec->name, sizeof(o->prev_name));
	return MLA_OK;
}

/* The format the first line names (2 to 5), or 0. */
static unsigned magic_format(const uint8_t *p, size_t n)
{
	static const char *const magics[5] = {MLA_BUNDLE_MAGIC, MLA_BUNDLE_MAGIC3,
					      MLA_BUNDLE_MAGIC4, MLA_BUNDLE_MAGIC5,
					      MLA_BUNDLE_MAGIC6};
	const size_t ml = sizeof(MLA_BUNDLE_MAGIC) - 1;

	_Static_assert(sizeof(MLA_BUNDLE_MAGIC) == sizeof(MLA_BUNDLE_MAGIC3) &&
			       sizeof(MLA_BUNDLE_MAGIC) == sizeof(MLA_BUNDLE_MAGIC4) &&
			       sizeof(MLA_BUNDLE_MAGIC) == sizeof(MLA_BUNDLE_MAGIC5) &&
			       sizeof(MLA_BUNDLE_MAGIC) == sizeof(MLA_BUNDLE_MAGIC6), "one length");
	for (unsigned i = 0; n >= ml && i < 5; i++)
		if (memcmp(p, magics[i], ml) == 0)
			return i + 2;
	return 0;
}

static uint64_t bundle_max(unsigned format)
{
	return format >= 4 ? MLA_BUNDLE4_MAX : (uint64_t)MLA_BUNDLE_MAX;
}

static mla_err not_a_bundle(mla_diag *diag)
{
	return mla_fail(diag, MLA_ERR_SCHEMA, "not an audit bundle: the first line must be "
			"mlagw-audit-bundle/2, /3, /4, /5 or /6");
}

static mla_err push(mla_bundle *b, size_t *cap, const mla_bundle_record *rec, mla_diag *diag)
{
	if (b->n == *cap) {
		size_t nc = *cap == 0 ? 64 : *cap * 2;
		mla_bundle_record *p;

		if ((p = realloc(b->rec, nc * sizeof(*p))) == NULL)
			return mla_fail(diag, MLA_ERR_NOMEM, "bundle: out of memory");
		b->rec = p;
		*cap = nc;
	}
	b->rec[b->n++] = *rec;
	return MLA_OK;
}

static void bundle_reset(mla_bundle *b)
{
	memset(b, 0, sizeof(*b));
}

mla_err mla_bundle_parse(const uint8_t *data, size_t len, mla_bundle *b, mla_diag *diag)
{
	const size_t ml = sizeof(MLA_BUNDLE_MAGIC) - 1;
	size_t pos = ml, cap = 0, hlen = 0;
	struct order o;
	mla_bundle_record rec;
	mla_err r = MLA_OK;

	bundle_reset(b);
	memset(&o, 0, sizeof(o));
	if ((b->format = o.format = magic_format(data, len)) == 0)
		return not_a_bundle(diag);
	if (len > bundle_max(b->format))
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "bundle: over %llu bytes",
				(unsigned long long)bundle_max(b->format));
	while (pos < len) {
		memset(&rec, 0, sizeof(rec));
		rec.offset = pos;
		if ((r = parse_header(data + pos, len - pos, b->n, &rec, &hlen, diag)) != MLA_OK)
			goto out;
		if (len - pos - hlen < rec.len + 1) {
			r = mla_fail(diag, MLA_ERR_SCHEMA, "record %zu (%s %s) at offset %zu: "
				     "truncated: %zu bytes declared, %zu present", b->n,
				     type_names[rec.type], rec.name, pos, rec.len,
				     len - pos - hlen > 0 ? len - pos - hlen - 1 : 0);
			goto out;
		}
		rec.data = data + pos + hlen;
		if (rec.data[rec.len] != '\n') {
			r = mla_fail(diag, MLA_ERR_SCHEMA, "record %zu (%s %s) at offset %zu: not "
				     "followed by a newline (wrong length?)", b->n,
				     type_names[rec.type], rec.name, pos);
			goto out;
		}
		if ((r = check_order(&o, &rec, diag)) != MLA_OK ||
		    (r = order_next(&o, &rec, diag)) != MLA_OK || (r = push(b, &cap, &rec, diag)))
			goto out;
		b->count[rec.type]++;
		pos += hlen + rec.len + 1;
	}
	if (b->n < 2)
		r = mla_fail(diag, MLA_ERR_SCHEMA, "bundle: no %s record",
			     b->n == 0 ? "manifest" : "certificate");
out:
	if (r != MLA_OK)
		mla_bundle_free(b);
	return r;
}

/* ---- the same over a file, in one pass (mla_bundle_index) ---- */

struct reader {
	FILE *f;
	uint64_t pos, max; /* bytes read; the format's limit */
};

static mla_err read_failed(struct reader *rd, mla_diag *diag)
{
	return ferror(rd->f) ? mla_fail(diag, MLA_ERR_IO, "bundle: read error at offset %llu",
					(unsigned long long)rd->pos)
			     : MLA_OK;
}

/* The header line at the reader's position into line (with its LF; *n its length, 0 at the
 * end of the file). */
static mla_err read_header_line(struct reader *rd, char *line, size_t *n, mla_diag *diag)
{
	int c = 0;

	*n = 0;
	while (*n < HEADER_LINE_MAX && (c = getc_unlocked(rd->f)) != EOF) { /* one thread per FILE */
		line[(*n)++] = (char)c;
		if (c == '\n')
			break;
	}
	rd->pos += *n;
	return c == EOF ? read_failed(rd, diag) : MLA_OK;
}

/* Reads len bytes of data into p (NULL: skipped), then the record's final LF. */
static mla_err read_data(struct reader *rd, const mla_bundle_record *rec, uint8_t *p,
			 uint64_t idx, mla_diag *diag)
{
	size_t got = 0;
	int nl = EOF;

	if (p != NULL)
		got = fread(p, 1, rec->len, rd->f);
	else if (rec->len > 0 && fseeko(rd->f, (off_t)rec->len, SEEK_CUR) == 0)
		got = rec->len;
	if (got == rec->len && (nl = getc(rd->f)) == '\n') {
		rd->pos += rec->len + 1;
		return MLA_OK;
	}
	if (ferror(rd->f))
		return read_failed(rd, diag);
	return mla_fail(diag, MLA_ERR_SCHEMA, "record %llu (%s %s) at offset %zu: %s",
			(unsigned long long)idx, type_names[rec->type], rec->name, rec->offset,
			got < rec->len || nl == EOF ? "truncated"
						   : "not followed by a newline (wrong length?)");
}

/* Whether the index keeps a record's data: the manifest's and the log's own audit
 * certificates' (`audit`, `audit.<n>`: one per audit key); the others are streamed
 * (MLA_BUNDLE_STREAMED) or loaded one at a time (mla_bundle_load), the peers' certificates
 * included (a bundle may name any number of them). */
static int kept_in_index(const mla_bundle_record *rec)
{
	return rec->type == MLA_BUNDLE_MANIFEST ||
	       (rec->type == MLA_BUNDLE_CERTIFICATE &&
		(strcmp(rec->name, "audit") == 0 || strncmp(rec->name, "audit.", 6) == 0));
}

/* One record at the reader's position into rec (its data read when the index keeps it);
 * *end at the end of the file. */
static mla_err index_one(struct reader *rd, uint64_t idx, mla_bundle_record *rec,
			 uint8_t *scratch, int *end, mla_diag *diag)
{
	char line[HEADER_LINE_MAX + 1];
	size_t n = 0, hlen = 0;
	uint8_t *p = NULL;
	mla_err r;

	memset(rec, 0, sizeof(*rec));
	rec->offset = rd->pos;
	if ((r = read_header_line(rd, line, &n, diag)) != MLA_OK)
		return r;
	if ((*end = n == 0) != 0)
		return MLA_OK;
	if ((r = parse_header((const uint8_t *)line, n, idx, rec, &hlen, diag)) != MLA_OK)
		return r;
	if (rd->pos + rec->len + 1 > rd->max)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "bundle: over %llu bytes",
				(unsigned long long)rd->max);
	if (kept_in_index(rec) && (p = malloc(rec->len + 1)) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "bundle: out of memory");
	if (rec->type == MLA_BUNDLE_ENTRY)
		p = scratch; /* read, not kept: skipping small records costs more */
	r = read_data(rd, rec, p, idx, diag);
	if (kept_in_index(rec)) {
		rec->data = p;
		if (r != MLA_OK)
			free(p);
	}
	return r;
}

/* Adds rec to the index (a streamed type's only counted, and where they lie: the types
 * come in order, so each one's records are contiguous); frees its data else. */
static mla_err index_add(mla_bundle *b, size_t *cap, mla_bundle_record *rec, uint64_t end,
			 mla_diag *diag)
{
	mla_err r;

	b->count[rec->type]++;
	if (MLA_BUNDLE_STREAMED(rec->type) || MLA_BUNDLE_BLOB(rec->type)) {
		if (b->count[rec->type] == 1)
			b->at[rec->type] = rec->offset;
		b->end[rec->type] = end;
		b->entries_at = b->at[MLA_BUNDLE_ENTRY];
		b->entries_end = b->end[MLA_BUNDLE_ENTRY];
		return MLA_OK;
	}
	if ((r = push(b, cap, rec, diag)) != MLA_OK)
		free((void *)rec->data);
	return r;
}

mla_err mla_bundle_index(FILE *f, mla_bundle *b, mla_diag *diag)
{
	const size_t ml = sizeof(MLA_BUNDLE_MAGIC) - 1;
	uint8_t magic[sizeof(MLA_BUNDLE_MAGIC)], *scratch = malloc(MLA_AUDIT_ENTRY_MAX + 1);
	struct reader rd = {f, 0, 0};
	size_t cap = 0;
	struct order o;
	mla_bundle_record rec;
	int end = 0;
	mla_err r = MLA_OK;

	bundle_reset(b);
	b->index = 1;
	memset(&o, 0, sizeof(o));
	_Static_assert(MLA_AUDIT_ENTRY_MAX < sizeof(((mla_bundle_cursor *)0)->data) &&
			       MLA_NOTE_MAX < sizeof(((mla_bundle_cursor *)0)->data) &&
			       64 * 65 < sizeof(((mla_bundle_cursor *)0)->data),
		       "a cursor holds the largest record of every streamed type");
	if (scratch == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "bundle: out of memory");
	if (fseeko(f, 0, SEEK_SET) != 0 || fread(magic, 1, ml, f) != ml ||
	    (b->format = o.format = magic_format(magic, ml)) == 0) {
		free(scratch);
		return ferror(f) ? mla_fail(diag, MLA_ERR_IO, "bundle: cannot read it")
				 : not_a_bundle(diag);
	}
	rd.pos = ml;
	rd.max = bundle_max(b->format);
	for (;;) {
		if ((r = index_one(&rd, o.n, &rec, scratch, &end, diag)) != MLA_OK || end)
			break;
		if ((r = check_order(&o, &rec, diag)) != MLA_OK ||
		    (r = order_next(&o, &rec, diag)) != MLA_OK) {
			if (kept_in_index(&rec))
				free((void *)rec.data);
			break;
		}
		if ((r = index_add(b, &cap, &rec, rd.pos, diag)) != MLA_OK)
			break;
	}
	free(scratch);
	if (r == MLA_OK && o.n < 2)
		r = mla_fail(diag, MLA_ERR_SCHEMA, "bundle: no %s record",
			     o.n == 0 ? "manifest" : "certificate");
	if (r != MLA_OK)
		mla_bundle_free(b);
	return r;
}

mla_err mla_bundle_load(FILE *f, const mla_bundle_record *rec, mla_buf *out, mla_diag *diag)
{
	char line[HEADER_LINE_MAX + 1];
	struct reader rd = {f, rec->offset, UINT64_MAX};
	mla_bundle_record again;
	size_t n = 0, hlen = 0;
	mla_err r;

	out->len = 0;
	if (fseeko(f, (off_t)rec->offset, SEEK_SET) != 0)
		return mla_fail(diag, MLA_ERR_IO, "bundle: cannot seek to %s %s", type_names[rec->type],
				rec->name);
	memset(&again, 0, sizeof(again));
	again.offset = rec->offset;
	if ((r = read_header_line(&rd, line, &n, diag)) != MLA_OK)
		return r;
	if (n == 0 || parse_header((const uint8_t *)line, n, 0, &again, &hlen, NULL) != MLA_OK ||
	    again.type != rec->type || again.len != rec->len || strcmp(again.name, rec->name) != 0)
		return mla_fail(diag, MLA_ERR_SCHEMA, "bundle: %s %s is no longer at offset %zu "
				"(the file changed while it was read)", type_names[rec->type],
				rec->name, rec->offset);
	if ((r = mla_buf_reserve(out, rec->len + 1)) != MLA_OK)
		return mla_fail(diag, r, "bundle: no room for %s %s", type_names[rec->type],
				rec->name);
	if ((r = read_data(&rd, rec, out->data, 0, diag)) != MLA_OK)
		return r;
	out->len = rec->len;
	return MLA_OK;
}

void mla_bundle_cursor_init_type(mla_bundle_cursor *c, FILE *f, const mla_bundle *b,
				 mla_bundle_type t)
{
	c->f = f;
	c->type = t;
	c->pos = c->end = 0;
	if ((MLA_BUNDLE_STREAMED(t) || MLA_BUNDLE_BLOB(t)) && b->count[t] > 0) {
		c->pos = b->at[t];
		c->end = b->end[t];
	}
	c->seq = 0;
}

void mla_bundle_cursor_init(mla_bundle_cursor *c, FILE *f, const mla_bundle *b)
{
	mla_bundle_cursor_init_type(c, f, b, MLA_BUNDLE_ENTRY);
}

mla_err mla_bundle_cursor_next(mla_bundle_cursor *c, mla_bundle_record *rec, mla_diag *diag)
{
	char line[HEADER_LINE_MAX + 1];
	struct reader rd = {c->f, c->pos, c->end};
	size_t n = 0, hlen = 0;
	mla_err r;

	if (c->pos >= c->end)
		return MLA_ERR_NOT_FOUND;
	/* a blob's reader may have loaded one meanwhile (mla_bundle_load moves the file) */
	if ((c->seq == 0 || MLA_BUNDLE_BLOB(c->type)) && fseeko(c->f, (off_t)c->pos, SEEK_SET) != 0)
		return mla_fail(diag, MLA_ERR_IO, "bundle: cannot seek to its %s records",
				type_names[c->type]);
	memset(rec, 0, sizeof(*rec));
	rec->offset = c->pos;
	if ((r = read_header_line(&rd, line, &n, diag)) != MLA_OK)
		return r;
	if (n == 0 || parse_header((const uint8_t *)line, n, c->seq, rec, &hlen, NULL) != MLA_OK ||
	    rec->type != c->type || rd.pos + rec->len + 1 > c->end)
		return mla_fail(diag, MLA_ERR_SCHEMA, "bundle: %s record %llu at offset %zu "
				"changed while it was read", type_names[c->type],
				(unsigned long long)c->seq, rec->offset);
	if ((r = read_data(&rd, rec, MLA_BUNDLE_BLOB(c->type) ? NULL : c->data, c->seq, diag)) !=
	    MLA_OK)
		return r;
	rec->data = MLA_BUNDLE_BLOB(c->type) ? NULL : c->data;
	c->pos = rd.pos;
	c->seq++;
	return MLA_OK;
}

void mla_bundle_free(mla_bundle *b)
{
	for (size_t i = 0; b->index && i < b->n; i++)
		free((void *)b->rec[i].data);
	free(b->rec);
	b->rec = NULL;
	b->n = 0;
}
