/* The writer of the audit log entry (protocol/SPEC.md section 14, "Entry serialization"): the
 * version an entry is written in, its lines in that version's canonical form, its leaf hash,
 * and the grounds field built code by code. */
#include <inttypes.h>
#include <string.h>

#include "audit_entry_internal.h"
#include "mlagw/codec.h"

/* ---- time: milliseconds since the epoch <-> YYYY-MM-DDThh:mm:ss.mmmZ (mlagw/codec.h) ---- */

static mla_err time_format(int64_t ms, mla_buf *out)
{
	char t[MLA_TIME_MS_LEN];

	mla_time_ms_format(ms, t); /* audit_entry_check keeps ms within 1970 .. 9999 */
	return mla_buf_printf(out, "time %s\n", t);
}

/* ---- serialize ---- */

static mla_err put_str(mla_buf *out, const char *key, const char *v)
{
	return mla_buf_printf(out, "%s %s\n", key, v[0] != '\0' ? v : AUDIT_ENTRY_ABSENT);
}

static mla_err put_digest(mla_buf *out, const char *key, int has, const uint8_t d[32])
{
	char hex[65];

	if (!has)
		return put_str(out, key, "");
	if (mla_hex_encode(d, 32, hex, sizeof(hex)) != MLA_OK)
		return MLA_ERR_INTERNAL; /* hex is sized for 32 bytes */
	return mla_buf_printf(out, "%s %s\n", key, hex);
}

/* Version 3's lines after count: the previous epoch's head and its log's signature. */
static mla_err link_write(const mla_audit_entry *e, mla_buf *out)
{
	char root[MLA_B64_LEN(32) + 1], sig[MLA_B64_LEN(MLA_AUDIT_LINK_SIG_LEN) + 1];

	if (mla_b64_encode(e->prev_root, 32, root, sizeof(root)) != MLA_OK ||
	    mla_b64_encode(e->prev_sig, sizeof(e->prev_sig), sig, sizeof(sig)) != MLA_OK)
		return MLA_ERR_INTERNAL; /* sized for these lengths */
	return mla_buf_printf(out, "prev-origin %s\nprev-size %" PRIu64 "\nprev-root %s\n"
			      "prev-signature %s\n", e->prev_origin, e->prev_size, root, sig);
}

/* The last two lines of versions 4 and 5: the digest of the seal a resealed entry replaces and
 * of the certificate an audit-key-changed names. */
static mla_err put_seal_digests(const mla_audit_entry *e, mla_buf *out)
{
	mla_err r = put_digest(out, "prev-envelope-sha256", e->has_prev_envelope_sha256,
			       e->prev_envelope_sha256);

	return r != MLA_OK ? r : put_digest(out, "audit-cert-sha256", e->has_audit_cert_sha256,
					    e->audit_cert_sha256);
}

/* Version 4's lines after reason: count 1, version 3's link lines absent, then the digest
 * of the seal a resealed entry replaces and of the certificate an audit-key-changed names. */
static mla_err v4_write(const mla_audit_entry *e, mla_buf *out)
{
	mla_err r = mla_buf_printf(out, "count 1\nprev-origin -\nprev-size -\nprev-root -\n"
				   "prev-signature -\n");

	return r != MLA_OK ? r : put_seal_digests(e, out);
}

/* Version 5's lines after reason: version 4's, each holding what the entry's event puts
 * there in the version it would otherwise have: its count, the link of an epoch-opened (else
 * absent), the digests of the version 4 events (else absent). */
static mla_err v5_write(const mla_audit_entry *e, mla_buf *out)
{
	mla_err r = mla_buf_printf(out, "count %" PRIu32 "\n", e->count);

	if (r != MLA_OK)
		return r;
	if (e->event == MLA_AUDIT_EPOCH_OPENED)
		r = link_write(e, out);
	else
		r = mla_buf_printf(out, "prev-origin -\nprev-size -\nprev-root -\n"
				   "prev-signature -\n");
	return r != MLA_OK ? r : put_seal_digests(e, out);
}

/* The version an entry would have without its Kind and Action: the one its event alone has
 * (3, 4), else 2 for an aggregate and 1 for one event. */
static int event_version(const mla_audit_entry *e)
{
	int only = audit_event_only_version(e->event);

	return only != 0 ? only : e->count > 1 ? 2 : 1;
}

/* Non-zero when the entry names a Kind or Action of envelope version 2 only (SPEC 16.7). */
static int names_envelope_v2(const mla_audit_entry *e)
{
	return (e->kind[0] != '\0' && mla_kind_version(e->kind) > 1) ||
	       (e->action[0] != '\0' && mla_action_version(e->action) > 1);
}

/* The version an entry is written in (SPEC 11 rule 12: the lowest that holds it): 6 for one
 * with a priority, 5 for one naming an envelope version 2 value, the only versions that can,
 * else event_version. */
int audit_entry_version(const mla_audit_entry *e)
{
	if (e->event == MLA_AUDIT_DIRECTORY_ADOPTED)
		return 8;
	if (e->event == MLA_AUDIT_DIRECTORY_REFUSED)
		return 9;
	if (e->attachments[0] != '\0' || e->attachment != 0)
		return 7;
	if (e->priority[0] != '\0')
		return 6;
	return names_envelope_v2(e) ? 5 : event_version(e);
}

/* Version 8's last lines: the directory adopted (v8_check: all present). */
static mla_err v8_write(const mla_audit_entry *e, mla_buf *out)
{
	char issued[MLA_TIME_LEN], expires[MLA_TIME_LEN];
	mla_err r;

	mla_time_format((time_t)e->dir_issued, issued);
	mla_time_format((time_t)e->dir_expires, expires);
	if ((r = mla_buf_printf(out, "directory-publisher %s\ndirectory-serial %" PRIu64 "\n"
				"directory-issued %s\ndirectory-expires %s\n", e->dir_publisher,
				e->dir_serial, issued, expires)) != MLA_OK)
		return r;
	return put_digest(out, "directory-sha256", e->has_dir_sha256, e->dir_sha256);
}

static mla_err entry_write(const mla_audit_entry *e, mla_buf *out)
{
	int version = audit_entry_version(e);
	const char *magic = audit_entry_magic[version];
	mla_err r;

	if ((r = mla_buf_printf(out, "%s\nseq %" PRIu64 "\n", magic, e->seq)) != MLA_OK ||
	    (r = time_format(e->time_ms, out)) != MLA_OK ||
	    (r = put_str(out, "event", mla_audit_event_name(e->event))) != MLA_OK ||
	    (r = put_str(out, "message", e->message_id)) != MLA_OK ||
	    (r = put_str(out, "case", e->case_id)) != MLA_OK ||
	    (r = put_str(out, "kind", e->kind)) != MLA_OK ||
	    (r = put_str(out, "action", e->action)) != MLA_OK ||
	    (r = put_str(out, "from", e->from)) != MLA_OK ||
	    (r = put_str(out, "to", e->to)) != MLA_OK ||
	    (r = put_str(out, "actor", e->actor)) != MLA_OK ||
	    (r = put_digest(out, "envelope-sha256", e->has_envelope_sha256, e->envelope_sha256)) !=
		    MLA_OK ||
	    (r = put_digest(out, "receipt-sha256", e->has_receipt_sha256, e->receipt_sha256)) !=
		    MLA_OK ||
	    (r = put_str(out, "error", e->error)) != MLA_OK)
		return r;
	if ((r = put_str(out, "reason", e->reason)) != MLA_OK || version == 1)
		return r;
	if (version == 4)
		return v4_write(e, out);
	if (version == 5)
		return v5_write(e, out);
	if (version >= 6) {
		if ((r = v5_write(e, out)) != MLA_OK ||
		    (r = put_str(out, "priority", e->priority)) != MLA_OK ||
		    (r = put_str(out, "grounds", e->grounds)) != MLA_OK || version == 6)
			return r;
		if ((r = put_str(out, "attachments", e->attachments)) != MLA_OK ||
		    (r = e->attachment != 0 ? mla_buf_printf(out, "attachment %" PRIu32 "\n",
							     e->attachment)
					    : put_str(out, "attachment", "")) != MLA_OK ||
		    version == 7 || version == 9)
			return r; /* version 9: version 7's lines */
		return v8_write(e, out);
	}
	if ((r = mla_buf_printf(out, "count %" PRIu32 "\n", e->count)) != MLA_OK ||
	    version == 2)
		return r;
	return link_write(e, out);
}

mla_err mla_audit_entry_serialize(const mla_audit_entry *e, mla_buf *out, mla_diag *diag)
{
	size_t start = out->len;
	mla_err r;

	if ((r = audit_entry_check(e, MLA_ERR_ARG, diag)) != MLA_OK)
		return r;
	if ((r = entry_write(e, out)) != MLA_OK) {
		out->len = start;
		return mla_fail(diag, r, "audit entry: the output buffer cannot hold the entry");
	}
	return MLA_OK;
}

mla_err mla_audit_entry_leaf_hash(const mla_audit_entry *e, uint8_t out[MLA_MERKLE_HASH_LEN],
				  mla_diag *diag)
{
	mla_buf b;
	mla_err r;

	mla_buf_init(&b, MLA_AUDIT_ENTRY_MAX);
	if ((r = mla_audit_entry_serialize(e, &b, diag)) == MLA_OK &&
	    (r = mla_merkle_leaf_hash(b.data, b.len, out)) != MLA_OK)
		r = mla_fail(diag, r, "audit entry: leaf hash failed");
	mla_buf_free(&b);
	return r;
}

/* ---- the grounds field, built code by code ---- */

/* The index of code in mla_audit_grounds, or -1. */
static int ground_index(const char *code, size_t n)
{
	for (int k = 0; mla_audit_grounds[k] != NULL; k++)
		if (strlen(mla_audit_grounds[k]) == n && memcmp(mla_audit_grounds[k], code, n) == 0)
			return k;
	return -1;
}

mla_err mla_audit_grounds_add(char *grounds, size_t size, const char *code)
{
	char out[MLA_AUDIT_GROUNDS_MAX + 1];
	const char *p = grounds;
	int add = ground_index(code, strlen(code)), done = 0;
	size_t len = 0;

	if (add < 0)
		return MLA_ERR_ARG;
	out[0] = '\0';
	/* the codes already there (each known: this function put them) and the new one, in
	 * list order, each once */
	for (int k = 0; mla_audit_grounds[k] != NULL; k++) {
		const char *c = mla_audit_grounds[k];
		size_t n = strlen(c);
		int have = k == add;
		for (p = grounds; !have && *p != '\0';) {
			const char *comma = strchr(p, ',');
			size_t m = comma != NULL ? (size_t)(comma - p) : strlen(p);
			have = m == n && memcmp(p, c, n) == 0;
			p += m + (comma != NULL);
		}
		if (!have)
			continue;
		if (len + (done ? 1 : 0) + n + 1 > sizeof(out) || len + (done ? 1 : 0) + n + 1 > size)
			return MLA_ERR_TOO_LARGE;
		if (done)
			out[len++] = ',';
		memcpy(out + len, c, n + 1);
		len += n;
		done = 1;
	}
	memcpy(grounds, out, len + 1);
	return MLA_OK;
}
