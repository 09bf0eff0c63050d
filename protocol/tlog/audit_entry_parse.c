/* The strict parser of the audit log entry (protocol/SPEC.md section 14, "Entry
 * serialization"): it accepts only the bytes the writer (audit_entry_write.c) would produce
 * for the entry it reads. */
#include <string.h>

#include "audit_entry_internal.h"
#include "mlagw/codec.h"

struct cursor {
	const char *p, *end;
	unsigned line;
	mla_diag *diag;
};

/* The next line, which must be "key SP value LF" with a non-empty value of at most max
 * bytes and no NUL; *v and *n receive the value. */
static mla_err take(struct cursor *c, const char *key, size_t max, const char **v, size_t *n)
{
	size_t klen = strlen(key);
	const char *lf;

	c->line++;
	if ((size_t)(c->end - c->p) <= klen || memcmp(c->p, key, klen) != 0 || c->p[klen] != ' ')
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry line %u: expected field %s",
				c->line, key);
	c->p += klen + 1;
	if ((lf = memchr(c->p, '\n', (size_t)(c->end - c->p))) == NULL)
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: %s does not end with a newline", c->line,
				key);
	*v = c->p;
	*n = (size_t)(lf - c->p);
	c->p = lf + 1;
	if (*n == 0 || *n > max || memchr(*v, '\0', *n) != NULL)
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: %s value is empty, too long or holds NUL",
				c->line, key);
	return MLA_OK;
}

/* A string field: "-" is absent. Its rules are checked afterwards by audit_entry_check. */
static mla_err take_str(struct cursor *c, const char *key, char *dst, size_t size)
{
	const char *v = NULL; /* set by take; initialised for -O3's maybe-uninitialized */
	size_t n = 0;
	mla_err r;

	if ((r = take(c, key, size - 1, &v, &n)) != MLA_OK)
		return r;
	if (n == 1 && v[0] == '-')
		n = 0;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return MLA_OK;
}

static mla_err take_digest(struct cursor *c, const char *key, int *has, uint8_t d[32])
{
	const char *v;
	size_t n;
	mla_err r;

	if ((r = take(c, key, 64, &v, &n)) != MLA_OK)
		return r;
	if (n == 1 && v[0] == '-')
		return MLA_OK;
	if (mla_hex_decode(v, n, d, 32, NULL) != MLA_OK)
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: %s is not 64 lower-case hex digits", c->line,
				key);
	*has = 1;
	return MLA_OK;
}

/* A decimal field from min to max without leading zeros; what names the rule in the error. */
static mla_err take_decimal(struct cursor *c, const char *key, size_t width, uint64_t min,
			    uint64_t max, const char *what, uint64_t *out)
{
	const char *v;
	size_t n;
	mla_err r;

	if ((r = take(c, key, width, &v, &n)) != MLA_OK)
		return r;
	if (mla_parse_u64n(v, n, min, max, out) != MLA_OK)
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry line %u: %s is not %s",
				c->line, key, what);
	return MLA_OK;
}

static mla_err take_seq(struct cursor *c, uint64_t *seq)
{
	return take_decimal(c, "seq", 20, 0, UINT64_MAX,
			    "a decimal uint64 without leading zeros", seq);
}

/* Version 2's last line: 2 to 2^32 - 1 events, decimal without leading zeros (a count of 1
 * is written as version 1, so that each entry keeps one byte string). */
static mla_err take_count(struct cursor *c, uint32_t *count)
{
	uint64_t x = 0;
	mla_err r = take_decimal(c, "count", 10, 2, UINT32_MAX,
				 "a decimal from 2 to 4294967295 without leading zeros", &x);

	if (r == MLA_OK)
		*count = (uint32_t)x;
	return r;
}

/* base64 of exactly n bytes (canonical: decode and encode give the same text). */
static mla_err take_b64(struct cursor *c, const char *key, uint8_t *out, size_t n)
{
	char again[MLA_B64_LEN(MLA_AUDIT_LINK_SIG_LEN) + 1];
	const char *v;
	size_t len, got = 0;
	mla_err r;

	if ((r = take(c, key, MLA_B64_LEN(n), &v, &len)) != MLA_OK)
		return r;
	if (len != MLA_B64_LEN(n) || mla_b64_decode(v, len, out, n, &got) != MLA_OK || got != n ||
	    mla_b64_encode(out, n, again, sizeof(again)) != MLA_OK || memcmp(again, v, len) != 0)
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: %s is not the base64 of %zu bytes", c->line,
				key, n);
	return MLA_OK;
}

/* Version 3: count 1, then the previous epoch's head (SPEC 14, "Log epochs"). */
static mla_err take_link(struct cursor *c, mla_audit_entry *e)
{
	uint64_t count = 0;
	mla_err r;

	if ((r = take_decimal(c, "count", 1, 1, 1, "1 (version 3 holds one event)", &count)) !=
		    MLA_OK ||
	    (r = take_str(c, "prev-origin", e->prev_origin, sizeof(e->prev_origin))) != MLA_OK ||
	    (r = take_decimal(c, "prev-size", 20, 1, UINT64_MAX,
			      "a decimal from 1 without leading zeros", &e->prev_size)) != MLA_OK ||
	    (r = take_b64(c, "prev-root", e->prev_root, 32)) != MLA_OK)
		return r;
	return take_b64(c, "prev-signature", e->prev_sig, sizeof(e->prev_sig));
}

/* A line whose value must be the absent value "-" (version 4's and 5's copy of version 3's
 * link). */
static mla_err take_absent(struct cursor *c, const char *key, const char *why)
{
	const char *v;
	size_t n;
	mla_err r;

	if ((r = take(c, key, 1, &v, &n)) != MLA_OK)
		return r;
	if (v[0] != '-')
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: %s must be - %s", c->line, key, why);
	return MLA_OK;
}

/* The last two lines of versions 4 and 5 (put_seal_digests in audit_entry_write.c). */
static mla_err take_seal_digests(struct cursor *c, mla_audit_entry *e)
{
	mla_err r = take_digest(c, "prev-envelope-sha256", &e->has_prev_envelope_sha256,
				e->prev_envelope_sha256);

	return r != MLA_OK ? r : take_digest(c, "audit-cert-sha256", &e->has_audit_cert_sha256,
					     e->audit_cert_sha256);
}

/* Version 4: count 1, version 3's link lines absent, then prev-envelope-sha256 and
 * audit-cert-sha256. */
static mla_err take_v4(struct cursor *c, mla_audit_entry *e)
{
	uint64_t count = 0;
	mla_err r;

	if ((r = take_decimal(c, "count", 1, 1, 1, "1 (version 4 holds one event)", &count)) !=
		    MLA_OK ||
	    (r = take_absent(c, "prev-origin", "in version 4")) != MLA_OK ||
	    (r = take_absent(c, "prev-size", "in version 4")) != MLA_OK ||
	    (r = take_absent(c, "prev-root", "in version 4")) != MLA_OK ||
	    (r = take_absent(c, "prev-signature", "in version 4")) != MLA_OK)
		return r;
	return take_seal_digests(c, e);
}

/* Version 5: version 4's lines, each as the entry's event has it in the version it would
 * otherwise have (v5_write in audit_entry_write.c): a count from 1 (audit_entry_check allows
 * more than 1 only to the counted events), the link lines all absent or, for epoch-opened,
 * all present, and the two digests (audit_entry_check: only for resealed and
 * audit-key-changed). */
static mla_err take_v5(struct cursor *c, mla_audit_entry *e)
{
	uint64_t count = 0;
	mla_err r;

	if ((r = take_decimal(c, "count", 10, 1, UINT32_MAX,
			      "a decimal from 1 to 4294967295 without leading zeros", &count)) !=
		    MLA_OK ||
	    (r = take_str(c, "prev-origin", e->prev_origin, sizeof(e->prev_origin))) != MLA_OK)
		return r;
	e->count = (uint32_t)count;
	if (e->prev_origin[0] == '\0') {
		if ((r = take_absent(c, "prev-size", "when prev-origin is -")) != MLA_OK ||
		    (r = take_absent(c, "prev-root", "when prev-origin is -")) != MLA_OK ||
		    (r = take_absent(c, "prev-signature", "when prev-origin is -")) != MLA_OK)
			return r;
	} else if ((r = take_decimal(c, "prev-size", 20, 1, UINT64_MAX,
				     "a decimal from 1 without leading zeros", &e->prev_size)) !=
			   MLA_OK ||
		   (r = take_b64(c, "prev-root", e->prev_root, 32)) != MLA_OK ||
		   (r = take_b64(c, "prev-signature", e->prev_sig, sizeof(e->prev_sig))) != MLA_OK) {
		return r;
	}
	return take_seal_digests(c, e);
}

/* Version 7's last lines: attachments (a string checked by audit_entry_check) and attachment, an
 * index from 1 to 64 or absent. */
static mla_err take_v7(struct cursor *c, mla_audit_entry *e)
{
	const char *v = NULL;
	uint64_t x = 0;
	size_t n = 0;
	mla_err r;

	if ((r = take_str(c, "attachments", e->attachments, sizeof(e->attachments))) != MLA_OK ||
	    (r = take(c, "attachment", 2, &v, &n)) != MLA_OK)
		return r;
	if (n == 1 && v[0] == '-')
		return MLA_OK;
	if (mla_parse_u64n(v, n, 1, MLA_ATTACH_MAX, &x) != MLA_OK)
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry line %u: attachment is not "
				"an index from 1 to 64 or -", c->line);
	e->attachment = (uint32_t)x;
	return MLA_OK;
}

/* A directory time, YYYY-MM-DDThh:mm:ssZ, written back exactly as read. */
static mla_err take_dir_time(struct cursor *c, const char *key, int64_t *out)
{
	char t[MLA_TIME_LEN];
	const char *v;
	size_t n;
	time_t x;
	mla_err r;

	if ((r = take(c, key, MLA_TIME_LEN - 1, &v, &n)) != MLA_OK)
		return r;
	memcpy(t, v, n);
	t[n] = '\0';
	if ((x = mla_time_parse(t)) == (time_t)-1) /* exactly that form: it round-trips */
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry line %u: %s is not "
				"YYYY-MM-DDThh:mm:ssZ (UTC)", c->line, key);
	*out = (int64_t)x;
	return MLA_OK;
}

/* Version 8's last lines: the directory adopted (SPEC 14). */
static mla_err take_v8(struct cursor *c, mla_audit_entry *e)
{
	mla_err r;

	if ((r = take_str(c, "directory-publisher", e->dir_publisher,
			  sizeof(e->dir_publisher))) != MLA_OK ||
	    (r = take_decimal(c, "directory-serial", 20, 1, UINT64_MAX,
			      "a decimal from 1 without leading zeros", &e->dir_serial)) != MLA_OK ||
	    (r = take_dir_time(c, "directory-issued", &e->dir_issued)) != MLA_OK ||
	    (r = take_dir_time(c, "directory-expires", &e->dir_expires)) != MLA_OK)
		return r;
	return take_digest(c, "directory-sha256", &e->has_dir_sha256, e->dir_sha256);
}

/* The first line names the version (SPEC 11 rule 12): 1 to AUDIT_ENTRY_VERSION_MAX into
 * *version. */
static mla_err take_magic(struct cursor *c, int *version)
{
	const size_t magic_len = sizeof(AUDIT_ENTRY_MAGIC1) - 1; /* each version's: audit_entry.c */
	size_t left = (size_t)(c->end - c->p);

	c->line = 1;
	*version = 0;
	for (int v = 1; v <= AUDIT_ENTRY_VERSION_MAX; v++)
		if (left > magic_len && memcmp(c->p, audit_entry_magic[v], magic_len) == 0 &&
		    c->p[magic_len] == '\n')
			*version = v;
	if (*version == 0)
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line 1: not " AUDIT_ENTRY_MAGIC1 ", "
				AUDIT_ENTRY_MAGIC2 ", " AUDIT_ENTRY_MAGIC3 ", " AUDIT_ENTRY_MAGIC4
				", " AUDIT_ENTRY_MAGIC5 ", " AUDIT_ENTRY_MAGIC6 ", "
				AUDIT_ENTRY_MAGIC7 ", " AUDIT_ENTRY_MAGIC8
				" or " AUDIT_ENTRY_MAGIC9);
	c->p += magic_len + 1;
	return MLA_OK;
}

/* Each version holds exactly what it alone can, so that every entry has one byte string (a
 * version 2 entry has a count from 2, checked by take_count): version 5 exactly the entries
 * naming an envelope version 2 Kind or Action, the others the events they alone hold. */
static mla_err version_check(const mla_audit_entry *e, int version, mla_diag *diag)
{
	int want = audit_entry_version(e);

	if (version == want)
		return MLA_OK;
	if (version == 9 || want == 9)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry: version 9 holds exactly the "
				"event directory-refused; this entry is version %d, not %d", want,
				version);
	if (version == 8 || want == 8)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry: version 8 holds exactly the "
				"event directory-adopted; this entry is version %d, not %d", want,
				version);
	if (version == 7 || want == 7)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry: version 7 holds exactly the "
				"entries naming attachments; this entry is version %d, not %d", want,
				version);
	if (version == 6)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry: version 6 holds only entries "
				"with a priority; this entry is version %d", want);
	if (want == 5 && audit_event_only_version(e->event) == 5)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry: event %s is written as "
				"version 5 only, not %d", mla_audit_event_name(e->event), version);
	if (want == 5)
		return mla_fail(diag, MLA_ERR_HEADER,
				"audit entry: kind %s, action %s of envelope version 2 are written "
				"as version 5 only, not %d",
				e->kind[0] ? e->kind : AUDIT_ENTRY_ABSENT,
				e->action[0] ? e->action : AUDIT_ENTRY_ABSENT, version);
	if (version == 5)
		return mla_fail(diag, MLA_ERR_HEADER,
				"audit entry: version 5 holds only a kind or action of envelope "
				"version 2; this entry is version %d", want);
	return mla_fail(diag, MLA_ERR_HEADER, "audit entry: event %s is not written as version %d",
			mla_audit_event_name(e->event), version);
}

/* The lines in order into e, each field's syntax but not yet the cross-field rules. */
static mla_err entry_read(struct cursor *c, mla_audit_entry *e)
{
	char word[32];
	const char *v;
	size_t n;
	int version;
	mla_err r;

	if ((r = take_magic(c, &version)) != MLA_OK)
		return r;
	if ((r = take_seq(c, &e->seq)) != MLA_OK || (r = take(c, "time", 24, &v, &n)) != MLA_OK)
		return r;
	if (mla_time_ms_parse(v, n, &e->time_ms) != MLA_OK)
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: time is not YYYY-MM-DDThh:mm:ss.mmmZ (UTC)",
				c->line);
	if ((r = take_str(c, "event", word, sizeof(word))) != MLA_OK)
		return r;
	if (mla_audit_event_parse(word, &e->event) != MLA_OK)
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry line %u: unknown event",
				c->line);
	if ((r = take_str(c, "message", e->message_id, sizeof(e->message_id))) != MLA_OK ||
	    (r = take_str(c, "case", e->case_id, sizeof(e->case_id))) != MLA_OK ||
	    (r = take_str(c, "kind", e->kind, sizeof(e->kind))) != MLA_OK ||
	    (r = take_str(c, "action", e->action, sizeof(e->action))) != MLA_OK ||
	    (r = take_str(c, "from", e->from, sizeof(e->from))) != MLA_OK ||
	    (r = take_str(c, "to", e->to, sizeof(e->to))) != MLA_OK ||
	    (r = take_str(c, "actor", e->actor, sizeof(e->actor))) != MLA_OK ||
	    (r = take_digest(c, "envelope-sha256", &e->has_envelope_sha256,
			     e->envelope_sha256)) != MLA_OK ||
	    (r = take_digest(c, "receipt-sha256", &e->has_receipt_sha256, e->receipt_sha256)) !=
		    MLA_OK ||
	    (r = take_str(c, "error", e->error, sizeof(e->error))) != MLA_OK ||
	    (r = take_str(c, "reason", e->reason, sizeof(e->reason))) != MLA_OK)
		return r;
	if (version == 2 && (r = take_count(c, &e->count)) != MLA_OK)
		return r;
	if (version == 3 && (r = take_link(c, e)) != MLA_OK)
		return r;
	if (version == 4 && (r = take_v4(c, e)) != MLA_OK)
		return r;
	if (version >= 5 && (r = take_v5(c, e)) != MLA_OK)
		return r;
	if (version >= 6 &&
	    ((r = take_str(c, "priority", e->priority, sizeof(e->priority))) != MLA_OK ||
	     (r = take_str(c, "grounds", e->grounds, sizeof(e->grounds))) != MLA_OK))
		return r;
	if (version >= 7 && (r = take_v7(c, e)) != MLA_OK)
		return r;
	if (version == 8 && (r = take_v8(c, e)) != MLA_OK)
		return r;
	if (c->p != c->end)
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry: data after the %s line",
				version == 8   ? "directory-sha256"
				: version >= 7 ? "attachment"
				: version == 6 ? "grounds"
				: version >= 4 ? "audit-cert-sha256"
				: version == 3 ? "prev-signature"
				: version == 2 ? "count"
					       : "reason");
	return version_check(e, version, c->diag);
}

/* One pass, no re-serialisation: every reader above accepts only the spelling serialize
 * writes for the value it reads (seq without leading zeros, the one 24-byte time of a real
 * date, "-" only for an absent field, lower-case hex), entry_read refuses anything around or
 * between the lines, and audit_entry_check then holds each value to the rules serialize
 * holds it to. So an accepted entry serializes back to exactly its bytes (checked by
 * tests/unit/test_audit_entry.c on mutated entries and by the fuzz harness). */
mla_err mla_audit_entry_parse(const uint8_t *data, size_t len, mla_audit_entry *e,
			      mla_diag *diag)
{
	struct cursor c = {(const char *)data, (const char *)data + len, 0, diag};
	mla_err r;

	mla_audit_entry_init(e);
	if (len > MLA_AUDIT_ENTRY_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "audit entry longer than %d bytes",
				MLA_AUDIT_ENTRY_MAX);
	if (data == NULL || len == 0)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry is empty");
	if ((r = entry_read(&c, e)) != MLA_OK)
		return r;
	return audit_entry_check(e, MLA_ERR_HEADER, diag);
}
