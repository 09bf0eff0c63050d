/* The audit bundle container (see include/mlagw/bundle.h, SPEC section 15): writing records
 * and the strict, bounded parser. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "mlagw/bundle.h"
#include "mlagw/checkpoint.h"
#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"
#include "mlagw/limits.h"

#define HEADER_LINE_MAX 128

static const char *const type_names[MLA_BUNDLE_TYPE_N] = {
	"manifest", "certificate", "entry", "checkpoint", "witnessed", "proof", "envelope",
	"receipt",
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
	if (format != 2 && format != 3)
		return MLA_ERR_ARG;
	return mla_buf_append_str(out, format == 3 ? MLA_BUNDLE_MAGIC3 : MLA_BUNDLE_MAGIC);
}

mla_err mla_bundle_add(mla_buf *out, mla_bundle_type t, const char *name, const void *data,
		       size_t len, mla_diag *diag)
{
	size_t before = out->len;
	mla_err r;

	if (mla_bundle_type_name(t) == NULL || name == NULL || !name_ok(name, strlen(name)))
		return mla_fail(diag, MLA_ERR_ARG, "bundle: bad record type or name '%s'",
				name != NULL ? name : "");
	if (len > mla_bundle_type_max(t))
		return mla_fail(diag, MLA_ERR_ARG, "bundle: %s %s: %zu bytes, over the limit of %zu",
				type_names[t], name, len, mla_bundle_type_max(t));
	if ((r = mla_buf_printf(out, "%s %s %zu\n", type_names[t], name, len)) != MLA_OK ||
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

/* Format 3: the certificate of the n-th audit key of a log whose key changed, "audit.<n>" with
 * n = 2, 3, ... in order, right after "audit" and before any peer's. */
static mla_err later_audit_cert(const mla_bundle *b, const mla_bundle_record *rec,
				mla_diag *diag)
{
	size_t i = b->n;
	char want[32];

	/* record i is the i-th key's; a count past what fits names no record */
	(void)mla_snprintf_cut(want, sizeof(want), "audit.%zu", i);
	if (b->format < 3 || strcmp(rec->name, want) != 0 ||
	    strncmp(b->rec[i - 1].name, "audit", 5) != 0)
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %zu (certificate %s): %s", i, rec->name,
				b->format < 3 ? "audit certificates after the first are format 3"
					      : "not the next audit certificate (audit.2, audit.3, "
						"... right after audit)");
	return MLA_OK;
}

/* Order: types never go back; one manifest, first; the audit certificate, second; in format 3
 * the later audit certificates (audit.2, ...); then only peers' certificates ("peer.*"). */
static mla_err check_order(const mla_bundle *b, const mla_bundle_record *rec, mla_diag *diag)
{
	size_t i = b->n;
	mla_bundle_type want_first = i == 0 ? MLA_BUNDLE_MANIFEST : MLA_BUNDLE_CERTIFICATE;

	if (i < 2 && rec->type != want_first)
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %zu (%s %s): missing %s: it must be "
				"record %zu", i, type_names[rec->type], rec->name,
				type_names[want_first], i);
	if (i >= 2 && rec->type == MLA_BUNDLE_CERTIFICATE && strncmp(rec->name, "audit.", 6) == 0)
		return later_audit_cert(b, rec, diag);
	if (i >= 2 && (rec->type == MLA_BUNDLE_MANIFEST ||
			(rec->type == MLA_BUNDLE_CERTIFICATE && strncmp(rec->name, "peer.", 5) != 0)))
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %zu (%s %s): a second %s", i,
				type_names[rec->type], rec->name, type_names[rec->type]);
	if (i > 0 && rec->type < b->rec[i - 1].type)
		return mla_fail(diag, MLA_ERR_SCHEMA, "record %zu (%s %s): out of order: after "
				"%s records", i, type_names[rec->type], rec->name,
				type_names[b->rec[i - 1].type]);
	return MLA_OK;
}

static mla_err push(mla_bundle *b, size_t *cap, const mla_bundle_record *rec, mla_diag *diag)
{
	if (b->n == *cap) {
		size_t nc = *cap == 0 ? 64 : *cap * 2;
		mla_bundle_record *p;

		if (b->n >= MLA_BUNDLE_RECORDS_MAX)
			return mla_fail(diag, MLA_ERR_TOO_LARGE, "bundle: more than %d records",
					MLA_BUNDLE_RECORDS_MAX);
		if ((p = realloc(b->rec, nc * sizeof(*p))) == NULL)
			return mla_fail(diag, MLA_ERR_NOMEM, "bundle: out of memory");
		b->rec = p;
		*cap = nc;
	}
	b->rec[b->n++] = *rec;
	return MLA_OK;
}

mla_err mla_bundle_parse(const uint8_t *data, size_t len, mla_bundle *b, mla_diag *diag)
{
	const size_t ml = sizeof(MLA_BUNDLE_MAGIC) - 1;
	size_t pos = ml, cap = 0, hlen = 0;
	mla_bundle_record rec;
	mla_err r = MLA_OK;

	_Static_assert(sizeof(MLA_BUNDLE_MAGIC) == sizeof(MLA_BUNDLE_MAGIC3), "one length");
	b->rec = NULL;
	b->n = 0;
	b->format = 0;
	if (len > MLA_BUNDLE_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "bundle: over %zu bytes", MLA_BUNDLE_MAX);
	if (len >= ml && memcmp(data, MLA_BUNDLE_MAGIC, ml) == 0)
		b->format = 2;
	else if (len >= ml && memcmp(data, MLA_BUNDLE_MAGIC3, ml) == 0)
		b->format = 3;
	else
		return mla_fail(diag, MLA_ERR_SCHEMA, "not an audit bundle: the first line must be "
				"mlagw-audit-bundle/2 or /3");
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
		if ((r = check_order(b, &rec, diag)) != MLA_OK || (r = push(b, &cap, &rec, diag)))
			goto out;
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

void mla_bundle_free(mla_bundle *b)
{
	free(b->rec);
	b->rec = NULL;
	b->n = 0;
}
